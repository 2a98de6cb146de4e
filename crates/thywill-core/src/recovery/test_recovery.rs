//! `test-recovery`: rebuild the database from the text archives into a scratch database
//! and compare it with the live one, table by table: what would come back, what would be
//! lost. Nothing is written outside the scratch folder, and the live database is read
//! without changing it (also while ThyWill has it open).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::compare::{self, Comparison};
use super::rebuild::{self, ArchiveReading};
use crate::db::ArchiveTimeZone;
use crate::import::{ImportReport, ZipLimits};
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// Options of [`test_recovery`]. Deserializes from a JSON object of these fields, each
/// optional: `{"time_zone": "utc", "scratch_dir": "/var/tmp"}`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestRecoveryOptions {
    /// The zone the archive's human timestamps were written in (default: local).
    pub time_zone: ArchiveTimeZone,
    /// Prefix of the `text_file_path` values written (default `text_archives`).
    pub path_prefix: String,
    /// Bounds on what a ZIP of the archives may expand to.
    pub zip_limits: ZipLimits,
    /// Where the scratch folder of the rebuild goes (default: the system's temp folder).
    /// The rebuild is about as large as the database.
    pub scratch_dir: Option<PathBuf>,
}

impl Default for TestRecoveryOptions {
    fn default() -> Self {
        TestRecoveryOptions {
            time_zone: ArchiveTimeZone::default(),
            path_prefix: rebuild::default_path_prefix(),
            zip_limits: ZipLimits::default(),
            scratch_dir: None,
        }
    }
}

impl TestRecoveryOptions {
    fn reading(&self) -> ArchiveReading {
        ArchiveReading {
            time_zone: self.time_zone,
            path_prefix: self.path_prefix.clone(),
            zip_limits: self.zip_limits,
        }
    }
}

/// The result of [`test_recovery`].
#[derive(Debug, Clone, Serialize)]
pub struct TestRecoveryReport {
    /// The archives (folder or ZIP) as given.
    pub archive_dir: PathBuf,
    /// The live database.
    pub database: PathBuf,
    /// Whether the live database exists (when not, everything rebuilt would come back).
    pub database_exists: bool,
    /// The import into the scratch database.
    pub import: ImportReport,
    /// ThyWill's `recovery_stats` counters, from the import ([`rebuild::recovery_stats`]).
    pub recovery_stats: BTreeMap<String, u64>,
    /// The live database against the rebuild, per table.
    pub comparison: Comparison,
    /// Rows per table a full recovery would leave in the database (the rebuild's).
    pub predicted_rows: BTreeMap<String, u64>,
    /// Things worth knowing.
    pub warnings: Vec<String>,
    /// Wall-clock duration.
    pub duration_ms: u64,
}

/// Rebuilds the database from `archive_dir` (a folder or a ZIP of ThyWill's text archives)
/// into a scratch database and compares it with `live_db`. Touches nothing else; the
/// scratch folder is removed. Progress: the import's phases, then `compare`.
pub fn test_recovery(
    archive_dir: &Path,
    live_db: &Path,
    options: &TestRecoveryOptions,
    progress: &dyn Progress,
) -> Result<TestRecoveryReport> {
    crate::audit::recorded(
        live_db,
        "recovery.test_recovery",
        crate::audit::arguments([
            ("archive_dir", serde_json::json!(archive_dir)),
            ("database", serde_json::json!(live_db)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &TestRecoveryReport| serde_json::json!({"come_back": report.comparison.come_back, "lost": report.comparison.lost, "added": report.comparison.added}),
        || test_recovery_unrecorded(archive_dir, live_db, options, progress),
    )
}

fn test_recovery_unrecorded(
    archive_dir: &Path,
    live_db: &Path,
    options: &TestRecoveryOptions,
    progress: &dyn Progress,
) -> Result<TestRecoveryReport> {
    let started = Instant::now();
    let database_exists = live_database_exists(live_db)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix("thywill-test-recovery-");
    let scratch = match &options.scratch_dir {
        Some(dir) => builder.tempdir_in(dir).map_err(|e| Error::io(dir, e))?,
        None => builder
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?,
    };
    let rebuilt = scratch.path().join("rebuilt.db");
    let import =
        rebuild::import_archives_into_scratch(archive_dir, &rebuilt, &options.reading(), progress)?;
    rebuild::check_rebuilt(&rebuilt)?;
    progress::report(progress, "compare", 0, Some(1))?;
    let comparison = compare_with_live(live_db, database_exists, &rebuilt)?;
    progress::report(progress, "compare", 1, Some(1))?;
    let mut warnings = Vec::new();
    describe_losses(&comparison, &mut warnings);
    warnings.extend(rebuild::failures_warning(&import));
    Ok(TestRecoveryReport {
        archive_dir: archive_dir.to_path_buf(),
        database: live_db.to_path_buf(),
        database_exists,
        recovery_stats: rebuild::recovery_stats(&import),
        predicted_rows: comparison
            .tables
            .iter()
            .map(|t| (t.table.clone(), t.rebuilt_rows))
            .collect(),
        import,
        comparison,
        warnings,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// Whether the live database exists, refusing a path that is not a regular file.
pub(crate) fn live_database_exists(live_db: &Path) -> Result<bool> {
    match std::fs::metadata(live_db) {
        Ok(m) if m.is_file() => Ok(true),
        Ok(_) => Err(Error::InvalidInput(format!(
            "{} is not a database file",
            live_db.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(live_db, e)),
    }
}

/// Compares the live database (an empty one when it does not exist) with a rebuild.
pub(crate) fn compare_with_live(
    live_db: &Path,
    exists: bool,
    rebuilt: &Path,
) -> Result<Comparison> {
    let rebuilt_conn = compare::open_read_only(rebuilt)?;
    let live_conn = if exists {
        compare::open_live_read_only(live_db)?
    } else {
        rusqlite::Connection::open_in_memory()?
    };
    compare::compare_connections(live_conn, live_db, rebuilt_conn, rebuilt)
}

/// A warning per table that would lose rows, naming what the text cannot carry.
pub(crate) fn describe_losses(comparison: &Comparison, warnings: &mut Vec<String>) {
    for table in &comparison.tables {
        if let Some(error) = &table.error {
            warnings.push(format!("{}: not compared: {error}", table.table));
        } else if table.lost > 0 {
            warnings.push(format!(
                "{}: {} of {} rows would not come back from the archives",
                table.table, table.lost, table.live_rows
            ));
        }
    }
}
