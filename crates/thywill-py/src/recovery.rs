//! Python bindings of `thywill_core::recovery`: test-recovery and full-recovery. Reports
//! come back as dicts (typed `dict[str, Any]` in `_native.pyi`). Settings go through the
//! core's constructors (`FullRecoveryOptions::new`, `LockPolicy::from_flags`), so their
//! defaults and checks are the core's.

use std::path::PathBuf;

use chrono::NaiveDateTime;
use pyo3::prelude::*;
use thywill_core::backup::{self, LockPolicy};
use thywill_core::recovery::{self, FullRecoveryOptions, RecoveryMode, TestRecoveryOptions};

use crate::convert::to_py;
use crate::errors::to_py_err;
use crate::import::zone;
use crate::progress::run;

/// Rebuilds the database from the text archives `archive_dir` (a folder or a ZIP) in a
/// scratch folder (under `scratch_dir`, default the system's temp folder) and compares it
/// with `database`, table by table. Changes nothing; `database` may be open in ThyWill (WAL)
/// and may be missing. Returns `{"import", "recovery_stats", "comparison",
/// "predicted_rows", "warnings", ...}`.
#[pyfunction]
#[pyo3(signature = (archive_dir, database, *, time_zone="local", scratch_dir=None, progress=None))]
fn recovery_test(
    py: Python<'_>,
    archive_dir: PathBuf,
    database: PathBuf,
    time_zone: &str,
    scratch_dir: Option<PathBuf>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = TestRecoveryOptions {
        time_zone: zone(time_zone)?,
        scratch_dir,
        ..TestRecoveryOptions::default()
    };
    let report = run(py, progress, move |sink| {
        recovery::test_recovery(&archive_dir, &database, &options, sink)
    })?;
    to_py(py, &report)
}

/// Rebuilds `database` from the text archives `archive_dir` and swaps the rebuild in after a
/// safety backup into `backups/pre_restore/` (default root: `THYWILL_BACKUP_DIR`, else
/// `backups/` beside the database); with `merge`, imports into the existing database
/// instead. Another process that has the database open raises `ConflictError` unless `wait`
/// (seconds) or `force`. `dry_run` does the rebuild and comparison and changes nothing.
/// Returns `{"import", "recovery_stats", "comparison", "installed", "safety_backup",
/// "table_rows", "warnings", ...}`.
#[pyfunction]
#[pyo3(signature = (archive_dir, database, backups=None, *, merge=false, dry_run=false, wait=None, force=false, safety_backup=true, time_zone="local", now=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn recovery_full(
    py: Python<'_>,
    archive_dir: PathBuf,
    database: PathBuf,
    backups: Option<PathBuf>,
    merge: bool,
    dry_run: bool,
    wait: Option<u64>,
    force: bool,
    safety_backup: bool,
    time_zone: &str,
    now: Option<NaiveDateTime>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let root = backup::backup_root(backups.as_deref(), &|k| std::env::var_os(k), &database);
    let mut options = FullRecoveryOptions::new(root);
    options.mode = if merge {
        RecoveryMode::Merge
    } else {
        RecoveryMode::Replace
    };
    options.dry_run = dry_run;
    options.lock = LockPolicy::from_flags(force, wait).map_err(to_py_err)?;
    options.safety_backup = safety_backup;
    options.time_zone = zone(time_zone)?;
    if let Some(now) = now {
        options.now = now;
    }
    let report = run(py, progress, move |sink| {
        recovery::full_recovery(&archive_dir, &database, &options, sink)
    })?;
    to_py(py, &report)
}

/// Adds the recovery functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(recovery_test, m)?)?;
    m.add_function(wrap_pyfunction!(recovery_full, m)?)?;
    Ok(())
}
