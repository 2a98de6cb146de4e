//! Imports into a ThyWill database: text archives (folder or ZIP), JSON prayers and a
//! single prayer file.
//!
//! Every import is *plan → apply*: a plan names what will be read (inspectable, cheap),
//! and applying it runs each phase in one transaction. A dry run applies the same plan
//! with the same code inside one transaction that is rolled back, so its numbers are
//! the real run's, and it creates nothing on disk (against a database file that does
//! not exist it works on an in-memory database).

mod activity;
mod json_prayers;
pub mod report;
pub(crate) mod runner;
mod single;
mod source;
pub(crate) mod store;
pub(crate) mod text_archives;
pub mod validate;

pub use json_prayers::{
    import_prayers_json, JsonPrayer, JsonPrayersOptions, JsonPrayersPlan, DEFAULT_AUTHOR,
};
pub use report::{EntityCounts, ImportReport, RecordIssue, MAX_ISSUES_PER_FILE};
pub use single::{import_prayer_file, PrayerFileOptions};
pub use source::{ArchiveSource, ZipLimits};
pub use text_archives::{
    import_text_archive_phases, import_text_archives, phase_names, phases_named, Phase,
    PhaseImportReport, PlannedFile, TextArchiveOptions, TextArchivePlan,
};

use std::path::Path;

use crate::db::{Database, OpenOptions};
use crate::Result;

/// Opens the database an import writes to. A missing file is created with ThyWill's
/// schema, except in a dry run, which gets an in-memory database instead.
/// Returns the database and how to name it in reports.
fn open_target(path: &Path, dry_run: bool) -> Result<(Database, String)> {
    if !path.exists() && dry_run {
        let db = Database::in_memory()?;
        let label = database_label(&db);
        return Ok((db, label));
    }
    let db = Database::open(
        path,
        &OpenOptions {
            create_if_missing: true,
            switch_to_wal: !dry_run,
            sync_new_file_on_close: true,
            ..OpenOptions::default()
        },
    )?;
    Ok((db, path.display().to_string()))
}

/// Runs `import` on the database at `path`, opened as [`open_target`] does, and closes it
/// afterwards (which syncs a new file), with the report naming the database as given.
///
/// A database file this call created is removed again when the import fails: when it
/// ends in an error, or when records failed and nothing was written. A failed import
/// leaves no empty database behind to be mistaken for a restored one; an existing
/// database is never removed.
pub(crate) fn with_target(
    path: &Path,
    dry_run: bool,
    import: impl FnOnce(&Database) -> Result<ImportReport>,
) -> Result<ImportReport> {
    let created = !dry_run && !path.exists();
    let (db, name) = open_target(path, dry_run)?;
    let imported = import(&db);
    let closed = db.close();
    let outcome = imported.and_then(|mut report| {
        closed?;
        report.database = name;
        report.seal();
        Ok(report)
    });
    let failed = match &outcome {
        Err(_) => true,
        Ok(report) => report.has_failures() && report.total_changes() == 0,
    };
    if created && failed {
        remove_database_files(path);
    }
    outcome
}

/// Removes a database file and the journal files SQLite keeps beside it (best effort: the
/// import's own outcome is what the caller reports).
fn remove_database_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(&name);
    }
}

/// How reports name an open database: its path, or `:memory:` for an in-memory one.
pub(crate) fn database_label(db: &Database) -> String {
    db.path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| ":memory:".into())
}
