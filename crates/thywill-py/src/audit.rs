//! Python bindings of `thywill_core::audit`: where this process's audit lines go, reading a
//! log, the acting user of the calling thread, and the append failures to show.

use std::path::PathBuf;

use pyo3::prelude::*;
use thywill_core::audit::{self, AuditQuery, AuditSetting};
use thywill_core::Error;

use crate::convert::to_py;
use crate::errors::to_py_err;

/// Sets where this process's audit lines go: `mode` `"beside_database"` (the default:
/// `thywill-audit.jsonl` beside each operation's database), `"file"` (every line to `path`)
/// or `"off"`.
#[pyfunction]
#[pyo3(signature = (mode="beside_database", path=None))]
fn configure_audit(mode: &str, path: Option<PathBuf>) -> PyResult<()> {
    let setting = match (mode, path) {
        ("beside_database", None) => AuditSetting::BesideDatabase,
        ("off", None) => AuditSetting::Off,
        ("file", Some(path)) if !path.as_os_str().is_empty() => AuditSetting::At(path),
        ("file", _) => {
            return Err(to_py_err(Error::InvalidInput(
                "configure_audit(\"file\", path): a path is required".into(),
            )))
        }
        (other, _) => {
            return Err(to_py_err(Error::InvalidInput(format!(
                "configure_audit mode {other:?}: expected \"beside_database\", \"file\" or \"off\" (path only with \"file\")"
            ))))
        }
    };
    audit::configure(setting);
    Ok(())
}

/// The audit setting in effect: `{"mode": ..., "path": str | None}`.
#[pyfunction]
fn audit_setting(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let value = match audit::current_setting() {
        AuditSetting::BesideDatabase => {
            serde_json::json!({"mode": "beside_database", "path": null})
        }
        AuditSetting::At(path) => serde_json::json!({"mode": "file", "path": path}),
        AuditSetting::Off => serde_json::json!({"mode": "off", "path": null}),
    };
    to_py(py, &value)
}

/// The audit log of an operation on `database` under the current setting, or `None` when
/// auditing is off.
#[pyfunction]
fn audit_log_path(database: PathBuf) -> Option<String> {
    audit::log_path_for(&database).map(|path| path.to_string_lossy().into_owned())
}

/// Reads an audit log: `{"path", "exists", "entries", "lines", "unreadable",
/// "unreadable_count"}`; `since` is an RFC 3339 time, `operation` an operation
/// (`backup.restore`) or a domain (`backup`). Damaged lines are listed, never raised.
#[pyfunction]
#[pyo3(signature = (path, *, since=None, operation=None))]
fn read_audit(
    py: Python<'_>,
    path: PathBuf,
    since: Option<String>,
    operation: Option<String>,
) -> PyResult<Py<PyAny>> {
    let since = since
        .map(|text| {
            chrono::DateTime::parse_from_rfc3339(&text)
                .map(|time| time.with_timezone(&chrono::Utc))
                .map_err(|e| {
                    to_py_err(Error::InvalidInput(format!(
                        "since {text:?}: expected an RFC 3339 time ({e})"
                    )))
                })
        })
        .transpose()?;
    let query = AuditQuery { since, operation };
    let report = py
        .detach(|| audit::read(&path, &query))
        .map_err(to_py_err)?;
    to_py(py, &report)
}

/// Names the app user on whose behalf this thread's following operations run (`None`
/// clears it); `thywill_core.acting_user(name)` is the context manager over it.
#[pyfunction]
#[pyo3(signature = (user))]
fn _set_acting_user(user: Option<String>) {
    audit::set_acting_user(user);
}

/// The audit lines that could not be written since the last call (a full disk, no
/// permission): the operations themselves went on.
#[pyfunction]
fn take_audit_failures() -> Vec<String> {
    audit::take_append_failures()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(configure_audit, m)?)?;
    m.add_function(wrap_pyfunction!(audit_setting, m)?)?;
    m.add_function(wrap_pyfunction!(audit_log_path, m)?)?;
    m.add_function(wrap_pyfunction!(read_audit, m)?)?;
    m.add_function(wrap_pyfunction!(_set_acting_user, m)?)?;
    m.add_function(wrap_pyfunction!(take_audit_failures, m)?)?;
    Ok(())
}
