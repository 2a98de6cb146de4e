//! `sync-archives`: the database and the text archives brought level, in both directions.
//!
//! 1. Archives → database: the text-archive import (`import::import_text_archives`) adds
//!    every archived record the database lacks. It is idempotent, so records both sides
//!    hold are left alone. A missing database is created with ThyWill's schema.
//! 2. Database → archives: [`crate::recovery::heal::heal_archives`] writes the files and
//!    lines missing for the database's records.
//! 3. A real run then validates the two against each other (read-only) and reports what
//!    is still uneven; that never fails the run.
//!
//! Conflict rules, for a record both sides hold with different content (a prayer's text,
//! generated prayer or project tag): neither side is changed. The import keeps the database's
//! values and notes the difference ("prayer … differs from the database; the database is
//! kept"); heal rewrites a prayer file only to add activity it lacks. Letting the archive win
//! is a separate, explicit step: `import text-archives --update-existing`.
//!
//! A dry run does the same work on a scratch copy of the database (taken with SQLite's online
//! backup API, so the app may keep writing): the import runs for real on the copy and heal
//! plans against it, so the numbers are those of a real run; the database and the archives
//! are not touched, and the copy is removed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::heal::{heal_archives, HealOptions, HealReport, LedgerPolicy};
use super::validate::{validate_archives, ValidateOptions, ValidateReport};
use crate::db::ArchiveTimeZone;
use crate::import::{import_text_archives, ImportReport, TextArchiveOptions};
use crate::progress::Progress;
use crate::{Error, Result};

/// Options of [`sync_archives`]. Deserializes from a JSON object of these fields, each
/// optional (the C options document).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncOptions {
    /// Do all the work on a scratch copy of the database; write nothing.
    pub dry_run: bool,
    /// The zone the archive's human timestamps were written in (default: local).
    pub time_zone: ArchiveTimeZone,
    /// Prefix of the stored `text_file_path` values (default `text_archives`).
    pub path_prefix: String,
    /// Which monthly ledgers heal writes.
    pub ledgers: LedgerPolicy,
    /// Where a dry run's scratch copy goes (default: the system's temp folder).
    pub scratch_dir: Option<PathBuf>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            dry_run: false,
            time_zone: ArchiveTimeZone::Local,
            path_prefix: "text_archives".into(),
            ledgers: LedgerPolicy::Auto,
            scratch_dir: None,
        }
    }
}

/// The result of [`sync_archives`].
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// Nothing was changed.
    pub dry_run: bool,
    /// The database.
    pub database: PathBuf,
    /// The archive root.
    pub archive_root: PathBuf,
    /// There was no database: the run created it (or, dry, would).
    pub database_created: bool,
    /// Archives → database.
    pub import: ImportReport,
    /// Database → archives.
    pub heal: HealReport,
    /// The check after a real run (none in a dry run, whose archives stay as they were).
    pub validation: Option<ValidateReport>,
    /// Wall-clock duration.
    pub duration_ms: u64,
}

impl SyncReport {
    /// Whether the run changed (or, dry, would change) anything on either side.
    pub fn changed_anything(&self) -> bool {
        self.import.total_changes() > 0 || self.heal.changed_anything()
    }
}

/// Brings the database at `db_path` and the archive folder `archive_root` level (see the
/// module documentation). Progress: the import's phases, then heal's, then validate's.
pub fn sync_archives(
    archive_root: &Path,
    db_path: &Path,
    options: &SyncOptions,
    progress: &dyn Progress,
) -> Result<SyncReport> {
    crate::audit::recorded(
        db_path,
        "recovery.sync_archives",
        crate::audit::arguments([
            ("archive_root", serde_json::json!(archive_root)),
            ("database", serde_json::json!(db_path)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &SyncReport| serde_json::json!({"dry_run": report.dry_run, "imported": report.import.total_inserted(), "healed": report.heal.changes.len(), "problems": report.validation.as_ref().map(|v| v.problems.len())}),
        || sync_archives_unrecorded(archive_root, db_path, options, progress),
    )
}

fn sync_archives_unrecorded(
    archive_root: &Path,
    db_path: &Path,
    options: &SyncOptions,
    progress: &dyn Progress,
) -> Result<SyncReport> {
    let started = Instant::now();
    if !archive_root.is_dir() {
        return Err(Error::NotFound {
            what: format!("archive folder {}", archive_root.display()),
        });
    }
    let database_created = !db_path.exists();
    let import_options = TextArchiveOptions {
        dry_run: false,
        time_zone: options.time_zone,
        path_prefix: options.path_prefix.clone(),
        update_existing: false,
        ..TextArchiveOptions::default()
    };
    let heal_options = HealOptions {
        dry_run: options.dry_run,
        time_zone: options.time_zone,
        path_prefix: options.path_prefix.clone(),
        ledgers: options.ledgers,
    };

    let (mut import, mut heal, validation) = if options.dry_run {
        let scratch = match &options.scratch_dir {
            Some(dir) => tempfile::Builder::new()
                .prefix("thywill-sync-")
                .tempdir_in(dir),
            None => tempfile::Builder::new().prefix("thywill-sync-").tempdir(),
        }
        .map_err(|e| Error::io("the scratch folder", e))?;
        let copy = scratch.path().join("thywill.db");
        if !database_created {
            crate::backup::online_backup(db_path, &copy, 1024, "copy", progress)?;
        }
        let import = import_text_archives(archive_root, &copy, &import_options, progress)?;
        let heal = heal_archives(&copy, archive_root, &heal_options, progress)?;
        (import, heal, None)
    } else {
        let import = import_text_archives(archive_root, db_path, &import_options, progress)?;
        let heal = heal_archives(db_path, archive_root, &heal_options, progress)?;
        let validate_options = ValidateOptions {
            time_zone: options.time_zone,
            path_prefix: options.path_prefix.clone(),
            ledgers: options.ledgers,
        };
        let validation = validate_archives(db_path, archive_root, &validate_options, progress)?;
        (import, heal, Some(validation))
    };
    // The scratch copy is an implementation detail: the reports name the real database.
    import.database = db_path.display().to_string();
    import.dry_run = options.dry_run;
    heal.database = db_path.to_path_buf();
    Ok(SyncReport {
        dry_run: options.dry_run,
        database: db_path.to_path_buf(),
        archive_root: archive_root.to_path_buf(),
        database_created,
        import,
        heal,
        validation,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}
