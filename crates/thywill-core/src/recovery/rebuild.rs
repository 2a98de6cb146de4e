//! What test-recovery and full-recovery share: a database rebuilt from the text archives by
//! the importer, its check, and ThyWill's own names for what came back.

use std::collections::BTreeMap;
use std::path::Path;

use crate::db::{ArchiveTimeZone, Database, OpenOptions};
use crate::import::{ArchiveSource, ImportReport, TextArchiveOptions, TextArchivePlan, ZipLimits};
use crate::progress::Progress;
use crate::{Error, Result};

/// How the archives are read: the settings of the text-archive import a recovery passes on.
#[derive(Debug, Clone)]
pub(crate) struct ArchiveReading {
    pub(crate) time_zone: ArchiveTimeZone,
    pub(crate) path_prefix: String,
    pub(crate) zip_limits: ZipLimits,
}

impl ArchiveReading {
    /// The import options of a recovery's import.
    pub(crate) fn import_options(&self, dry_run: bool) -> TextArchiveOptions {
        TextArchiveOptions {
            dry_run,
            time_zone: self.time_zone,
            path_prefix: self.path_prefix.clone(),
            update_existing: false,
            zip_limits: self.zip_limits,
        }
    }
}

/// The default `path_prefix` of the recovery options (the import's).
pub(crate) fn default_path_prefix() -> String {
    TextArchiveOptions::default().path_prefix
}

/// ThyWill's `recovery_stats` keys, each with the import entity whose records it counts.
pub const RECOVERY_STATS: &[(&str, &str)] = &[
    ("users_recovered", "users"),
    ("prayers_recovered", "prayers"),
    ("prayer_marks_recovered", "prayer_marks"),
    ("prayer_attributes_recovered", "prayer_attributes"),
    ("prayer_skips_recovered", "prayer_skips"),
    ("roles_recovered", "roles"),
    ("role_assignments_recovered", "user_roles"),
    ("auth_requests_recovered", "auth_requests"),
    ("auth_approvals_recovered", "auth_approvals"),
    ("auth_audit_logs_recovered", "auth_audit_logs"),
    ("security_events_recovered", "security_events"),
    ("invite_tokens_recovered", "invite_tokens"),
    ("invite_token_usage_recovered", "invite_token_usage"),
    ("sessions_recovered", "sessions"),
    (
        "membership_applications_recovered",
        "membership_applications",
    ),
    ("notifications_recovered", "notifications"),
];

/// ThyWill's `recovery_stats` of an import: for each key, the rows of its entity the import
/// inserted (for roles, also those the database already had by name). Into a new database
/// (test-recovery, full recovery) that is every record the archives bring back; in a merge,
/// the records the database lacked. ThyWill's counters count accepted lines instead, so
/// they repeat on a second run and count a mark twice when both its prayer file and the
/// marks ledger hold it.
pub fn recovery_stats(import: &ImportReport) -> BTreeMap<String, u64> {
    RECOVERY_STATS
        .iter()
        .map(|(key, entity)| {
            let c = import.counts(*entity);
            // A new database starts with ThyWill's default roles, which the archived role
            // definitions name again: those count as recovered too.
            let recovered = if *entity == "roles" {
                c.inserted + c.already_present
            } else {
                c.inserted
            };
            ((*key).to_string(), recovered)
        })
        .collect()
}

/// Imports the archives at `archive_dir` (a folder or a ZIP) into the database at
/// `target`, which is created when missing.
pub(crate) fn import_archives(
    archive_dir: &Path,
    target: &Path,
    reading: &ArchiveReading,
    dry_run: bool,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let source = ArchiveSource::open_with_limits(archive_dir, &reading.zip_limits)?;
    let plan = TextArchivePlan::scan(source.root(), source.given())?;
    let report = plan.apply(target, &reading.import_options(dry_run), progress)?;
    // An import that wrote nothing and failed removes the file it created.
    if !dry_run && !target.is_file() {
        return Err(Error::InvalidInput(format!(
            "nothing could be rebuilt from {}: {} records failed",
            archive_dir.display(),
            report.entities.values().map(|c| c.failed).sum::<u64>()
        )));
    }
    Ok(report)
}

/// Imports the archives into a new scratch database at `target` that nobody else will open
/// and that is thrown away: it is filled without syncs and never made durable (no WAL
/// switch, no fsync at the end), which a rebuild that is installed needs and this one
/// does not.
pub(crate) fn import_archives_into_scratch(
    archive_dir: &Path,
    target: &Path,
    reading: &ArchiveReading,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let source = ArchiveSource::open_with_limits(archive_dir, &reading.zip_limits)?;
    let plan = TextArchivePlan::scan(source.root(), source.given())?;
    let db = Database::open(
        target,
        &OpenOptions {
            create_if_missing: true,
            sync_new_file_on_close: true,
            ..OpenOptions::default()
        },
    )?;
    let mut report = plan.apply_to(&db, &reading.import_options(false), progress)?;
    report.database = target.display().to_string();
    // Dropped, not closed: `close` would switch the file to WAL and sync it.
    drop(db);
    Ok(report)
}

/// A warning when archive records could not be imported.
pub(crate) fn failures_warning(import: &ImportReport) -> Option<String> {
    import.has_failures().then(|| {
        format!(
            "{} archive records could not be imported (see import.failures)",
            import.entities.values().map(|c| c.failed).sum::<u64>()
        )
    })
}

/// `PRAGMA quick_check` of a rebuilt database, refused unless it is exactly `ok` and
/// ThyWill's core tables are there.
pub(crate) fn check_rebuilt(path: &Path) -> Result<Vec<String>> {
    let conn = super::compare::open_read_only(path)?;
    let mut stmt = conn.prepare("PRAGMA quick_check")?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if lines != ["ok"] {
        return Err(Error::Corrupt(format!(
            "the rebuilt database {} failed quick_check: {}",
            path.display(),
            lines.join("; ")
        )));
    }
    for table in crate::backup::required_tables() {
        let exists: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [table],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(Error::Corrupt(format!(
                "the rebuilt database {} lacks ThyWill's table {table}",
                path.display()
            )));
        }
    }
    Ok(lines)
}

/// Removes a database file and SQLite's side files beside it (best effort).
pub(crate) fn remove_database_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(&name);
    }
}
