//! Python bindings of archive care (`thywill_core::recovery`): `heal_archives`,
//! `sync_archives`, `sync_users`, `validate_archives`, `repair_archive_references` and
//! `relationship_integrity`, each returning its report as plain dicts.

use std::path::PathBuf;

use pyo3::prelude::*;
use thywill_core::recovery::heal::{self, HealOptions, LedgerPolicy};
use thywill_core::recovery::sync::{self as sync_core, SyncOptions};
use thywill_core::recovery::sync_users::sync_users as sync_users_core;
use thywill_core::recovery::validate::{self, ValidateOptions};
use thywill_core::recovery::{self as recovery, RepairReferencesOptions};
use thywill_core::Error;

use crate::convert::to_py;
use crate::errors::to_py_err;
use crate::import::zone;
use crate::progress::run;

fn ledgers(text: &str) -> PyResult<LedgerPolicy> {
    match text {
        "auto" => Ok(LedgerPolicy::Auto),
        "always" => Ok(LedgerPolicy::Always),
        "never" => Ok(LedgerPolicy::Never),
        other => Err(to_py_err(Error::InvalidInput(format!(
            "ledgers {other:?}: expected 'auto', 'always' or 'never'"
        )))),
    }
}

/// Writes the archive files and lines missing for the records of the database `db` into
/// the archive at `archives` (prayer files with their activity, rewritten in place when
/// stale; registrations; ledgers; invite usage). Returns the report as a dict; `dry_run`
/// plans and reports without writing. Idempotent.
#[pyfunction]
#[pyo3(signature = (db, archives, *, dry_run=false, time_zone="local", path_prefix="text_archives", ledgers="auto", progress=None))]
#[allow(clippy::too_many_arguments)]
fn heal_archives(
    py: Python<'_>,
    db: PathBuf,
    archives: PathBuf,
    dry_run: bool,
    time_zone: &str,
    path_prefix: &str,
    ledgers: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = HealOptions {
        dry_run,
        time_zone: zone(time_zone)?,
        path_prefix: path_prefix.to_string(),
        ledgers: self::ledgers(ledgers)?,
    };
    let report = run(py, progress, |sink| {
        heal::heal_archives(&db, &archives, &options, sink)
    })?;
    to_py(py, &report)
}

/// Appends the registration lines missing from the monthly users files of `archives`
/// for the users of the database `db`. Returns the report as a dict (the heal report with
/// only its user counts filled).
#[pyfunction]
#[pyo3(signature = (db, archives, *, dry_run=false, path_prefix="text_archives", progress=None))]
fn sync_users(
    py: Python<'_>,
    db: PathBuf,
    archives: PathBuf,
    dry_run: bool,
    path_prefix: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = HealOptions {
        dry_run,
        path_prefix: path_prefix.to_string(),
        ..HealOptions::default()
    };
    let report = run(py, progress, |sink| {
        sync_users_core(&db, &archives, &options, sink)
    })?;
    to_py(py, &report)
}

/// Checks the archive at `archives` and the database `db` against each other, read-only.
/// Returns the report as a dict: `problems_by_kind`, located `problems`, `counts`, and the
/// file `check`.
#[pyfunction]
#[pyo3(signature = (db, archives, *, time_zone="local", path_prefix="text_archives", ledgers="auto", progress=None))]
fn validate_archives(
    py: Python<'_>,
    db: PathBuf,
    archives: PathBuf,
    time_zone: &str,
    path_prefix: &str,
    ledgers: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = ValidateOptions {
        time_zone: zone(time_zone)?,
        path_prefix: path_prefix.to_string(),
        ledgers: self::ledgers(ledgers)?,
    };
    let report = run(py, progress, |sink| {
        validate::validate_archives(&db, &archives, &options, sink)
    })?;
    to_py(py, &report)
}

/// Sets `text_file_path` of each prayer of the database `db` that has none (NULL or empty)
/// to the file of the archive at `archives` whose title names the prayer. Returns the report
/// as a dict: `prayers_without_path`, `repaired` (`prayer_id`, `file`, `stored`),
/// `without_file` (ids left as they are), `notes`; `dry_run` plans and reports without
/// writing. Idempotent.
#[pyfunction]
#[pyo3(signature = (db, archives, *, dry_run=false, path_prefix="text_archives", progress=None))]
fn repair_archive_references(
    py: Python<'_>,
    db: PathBuf,
    archives: PathBuf,
    dry_run: bool,
    path_prefix: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = RepairReferencesOptions {
        dry_run,
        path_prefix: path_prefix.to_string(),
    };
    let report = run(py, progress, |sink| {
        recovery::repair_archive_references(&db, &archives, &options, sink)
    })?;
    to_py(py, &report)
}

/// Counts the rows of the database `db` that name a user it lacks, read-only. Returns the
/// report as a dict: `prayers_without_author`, `users_with_missing_inviter`,
/// `role_grants_without_user` (a table the database lacks counts 0).
#[pyfunction]
#[pyo3(signature = (db))]
fn relationship_integrity(py: Python<'_>, db: PathBuf) -> PyResult<Py<PyAny>> {
    let report = run(py, None, |_| recovery::relationship_integrity(&db))?;
    to_py(py, &report)
}

/// Brings the database `db` and the archive folder `archives` level in both directions:
/// imports what only the archives hold, then heals what only the database holds, then
/// validates. A record both hold with different content changes on neither side. Returns the
/// report as a dict (`import`, `heal`, `validation`); `dry_run` works on a scratch copy of the
/// database and writes nothing. Idempotent.
#[pyfunction]
#[pyo3(signature = (db, archives, *, dry_run=false, time_zone="local", path_prefix="text_archives", ledgers="auto", progress=None))]
#[allow(clippy::too_many_arguments)]
fn sync_archives(
    py: Python<'_>,
    db: PathBuf,
    archives: PathBuf,
    dry_run: bool,
    time_zone: &str,
    path_prefix: &str,
    ledgers: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = SyncOptions {
        dry_run,
        time_zone: zone(time_zone)?,
        path_prefix: path_prefix.to_string(),
        ledgers: self::ledgers(ledgers)?,
        scratch_dir: None,
    };
    let report = run(py, progress, |sink| {
        sync_core::sync_archives(&archives, &db, &options, sink)
    })?;
    to_py(py, &report)
}

/// Registers the archive-care functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(heal_archives, m)?)?;
    m.add_function(wrap_pyfunction!(relationship_integrity, m)?)?;
    m.add_function(wrap_pyfunction!(repair_archive_references, m)?)?;
    m.add_function(wrap_pyfunction!(sync_archives, m)?)?;
    m.add_function(wrap_pyfunction!(sync_users, m)?)?;
    m.add_function(wrap_pyfunction!(validate_archives, m)?)?;
    Ok(())
}
