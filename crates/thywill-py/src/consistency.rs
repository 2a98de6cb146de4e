//! Python bindings of `thywill_core::recovery`'s coverage checks: validate-consistency and
//! recovery-report. Reports come back as dicts (typed `dict[str, Any]` in `_native.pyi`);
//! settings go through the core's option types, so their defaults are the core's.

use std::path::PathBuf;

use chrono::NaiveDateTime;
use pyo3::prelude::*;
use thywill_core::backup;
use thywill_core::recovery::{self, ConsistencyOptions, RecoveryReportOptions};

use crate::convert::to_py;
use crate::import::zone;
use crate::progress::run;

/// Compares the text archive folder `archive_dir` with `database` field by field per
/// entity (the archives rebuilt into a scratch database) and scores it with ThyWill's
/// statistics. Reads only, unless `fix`: then heal-archives writes what the archives lack
/// (nothing with `dry_run`) and the score is measured again. Returns `{"stats", "band",
/// "exit_code", "entities", "validation", "fix", "score_after_fix", "issues", ...}`.
#[pyfunction]
#[pyo3(signature = (archive_dir, database, *, fix=false, dry_run=false, time_zone="local", scratch_dir=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn validate_consistency(
    py: Python<'_>,
    archive_dir: PathBuf,
    database: PathBuf,
    fix: bool,
    dry_run: bool,
    time_zone: &str,
    scratch_dir: Option<PathBuf>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = ConsistencyOptions {
        time_zone: zone(time_zone)?,
        scratch_dir,
        fix,
        dry_run,
        ..ConsistencyOptions::default()
    };
    let report = run(py, progress, move |sink| {
        recovery::validate_consistency(&database, &archive_dir, &options, sink)
    })?;
    to_py(py, &report)
}

/// How ready `database` is for a disaster: per table the share the text archives
/// `archive_dir` would bring back, what the text cannot carry, the newest verified backup
/// in `backups` (default: `THYWILL_BACKUP_DIR`, else `backups/` beside the database), the
/// archive's capability and one verdict (`ready`, `partial`, `not_ready`) with its reasons.
/// A verified backup older than `max_backup_age_hours` (default 48) is not recent.
/// Reads only. Returns `{"entities", "capability", "backups", "readiness", "reasons", ...}`.
#[pyfunction]
#[pyo3(signature = (archive_dir, database, backups=None, *, max_backup_age_hours=None, time_zone="local", now=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn recovery_report(
    py: Python<'_>,
    archive_dir: PathBuf,
    database: PathBuf,
    backups: Option<PathBuf>,
    max_backup_age_hours: Option<u64>,
    time_zone: &str,
    now: Option<NaiveDateTime>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let root = backup::backup_root(backups.as_deref(), &|k| std::env::var_os(k), &database);
    let mut options = RecoveryReportOptions::new(root);
    options.time_zone = zone(time_zone)?;
    if let Some(hours) = max_backup_age_hours {
        options.max_backup_age_hours = hours;
    }
    if let Some(now) = now {
        options.now = now;
    }
    let report = run(py, progress, move |sink| {
        recovery::recovery_report(&archive_dir, &database, &options, sink)
    })?;
    to_py(py, &report)
}

/// Adds the functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(validate_consistency, m)?)?;
    m.add_function(wrap_pyfunction!(recovery_report, m)?)?;
    Ok(())
}
