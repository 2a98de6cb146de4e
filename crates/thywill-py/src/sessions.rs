//! Python bindings of `thywill_core::sessions`: `export_sessions` and `restore_sessions`,
//! each returning its report as a dict.

use std::path::PathBuf;

use chrono::NaiveDateTime;
use pyo3::prelude::*;
use thywill_core::sessions::{self, ExportSessionsOptions, RestoreSessionsOptions};
use thywill_core::Error;

use crate::convert::to_py;
use crate::errors::to_py_err;
use crate::progress::run;

/// `as_of` as the core reads it (`2025-09-20T12:00:00`, UTC).
pub(crate) fn as_of_arg(as_of: Option<String>) -> PyResult<Option<NaiveDateTime>> {
    as_of
        .map(|text| {
            text.parse::<NaiveDateTime>().map_err(|e| {
                to_py_err(Error::InvalidInput(format!(
                    "as_of {text:?}: expected an ISO 8601 time such as 2025-09-20T12:00:00 ({e})"
                )))
            })
        })
        .transpose()
}

/// Writes the active sessions of `db` to `out` (default `sessions_backup.json` in the current
/// folder; ThyWill's shape, replaced atomically, mode 0600). Returns the report (keys `file`, `schema`,
/// `total_sessions`, `expired_skipped`, `usernames`, `sessions`; ids shortened).
#[pyfunction]
#[pyo3(signature = (db, out=None, *, include_expired=false, as_of=None, progress=None))]
fn export_sessions(
    py: Python<'_>,
    db: PathBuf,
    out: Option<PathBuf>,
    include_expired: bool,
    as_of: Option<String>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = ExportSessionsOptions {
        include_expired,
        as_of: as_of_arg(as_of)?,
    };
    let out = out.unwrap_or_else(|| PathBuf::from(sessions::DEFAULT_FILE_NAME));
    let report = run(py, progress, move |sink| {
        sessions::export_sessions(&db, &out, &options, sink)
    })?;
    to_py(py, &report)
}

/// Restores the sessions of an export file into `db` in one transaction (existing ids kept,
/// expired sessions and those of users who no longer exist skipped). Returns the report
/// (keys `restored`, `already_present`, `expired`, `unknown_users`, `failures`, ...).
#[pyfunction]
#[pyo3(signature = (db, file, *, dry_run=false, as_of=None, progress=None))]
fn restore_sessions(
    py: Python<'_>,
    db: PathBuf,
    file: PathBuf,
    dry_run: bool,
    as_of: Option<String>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = RestoreSessionsOptions {
        dry_run,
        as_of: as_of_arg(as_of)?,
    };
    let report = run(py, progress, move |sink| {
        sessions::restore_sessions(&db, &file, &options, sink)
    })?;
    to_py(py, &report)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(export_sessions, m)?)?;
    m.add_function(wrap_pyfunction!(restore_sessions, m)?)?;
    Ok(())
}
