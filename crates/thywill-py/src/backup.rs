//! Python bindings of `thywill_core::backup`: create, verify, list, restore (and restore-safe),
//! cleanup, and remote copies. Reports come back as dicts (typed in `_native.pyi` with the
//! `TypedDict`s of `thywill_core.backup_types`).

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDateTime};
use pyo3::prelude::*;
use thywill_core::backup::remote::{self, RemoteSpec, RemoteTarget};
use thywill_core::backup::retention::RetentionPolicy;
use thywill_core::backup::{
    self, CleanupOptions, CreateOptions, ListOptions, LockPolicy, RestoreMode, RestoreOptions,
    SetName, Tier, VerifyOptions,
};
use thywill_core::Error;

use crate::convert::to_py;
use crate::errors::to_py_err;
use crate::progress::run;

fn env(key: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(key)
}

fn root_for(database: &Path, backups: Option<PathBuf>) -> PathBuf {
    backup::backup_root(backups.as_deref(), &env, database)
}

fn local_now(now: Option<NaiveDateTime>) -> NaiveDateTime {
    now.unwrap_or_else(|| chrono::Local::now().naive_local())
}

fn open_remotes(specs: &[String]) -> PyResult<Vec<Box<dyn RemoteTarget>>> {
    specs
        .iter()
        .map(|s| {
            RemoteSpec::parse(s)
                .and_then(|spec| spec.open(&env))
                .map_err(to_py_err)
        })
        .collect()
}

/// Backs up `database` into `backups/<tier>/` (default: `THYWILL_BACKUP_DIR`, else `backups/`
/// beside the database) through SQLite's online backup API. Optionally adds the text archives
/// (a folder, zipped) and the email database. Returns the report (`path`, `members`, ...).
#[pyfunction]
#[pyo3(signature = (database, backups=None, tier="daily", *, text_archives=None, email_database=None, integrity_check=true, now=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn backup_create(
    py: Python<'_>,
    database: PathBuf,
    backups: Option<PathBuf>,
    tier: &str,
    text_archives: Option<PathBuf>,
    email_database: Option<PathBuf>,
    integrity_check: bool,
    now: Option<NaiveDateTime>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let tier: Tier = tier.parse().map_err(to_py_err)?;
    let mut options = CreateOptions::new(&database, root_for(&database, backups), tier);
    options.text_archives = text_archives;
    options.email_database = email_database;
    options.integrity_check = integrity_check;
    options.now = local_now(now);
    let report = run(py, progress, move |sink| backup::create(&options, sink))?;
    to_py(py, &report)
}

/// Verifies a backup file: SHA-256 against its sidecar and manifest, `integrity_check` equal to
/// exactly `ok`, ThyWill's tables present. Returns the report (keys `file_exists`,
/// `checksum_file_found`, `checksum_verified`, `database_integrity_ok`, `errors`, `status`,
/// `table_row_counts`, ...). With `check=True` a failing verdict raises instead
/// (`NotFoundError`, `CorruptError`, `InvalidInputError`).
#[pyfunction]
#[pyo3(signature = (path, *, quick=false, require_checksum=true, check=false, progress=None))]
fn backup_verify(
    py: Python<'_>,
    path: PathBuf,
    quick: bool,
    require_checksum: bool,
    check: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = VerifyOptions {
        require_checksum,
        full_integrity_check: !quick,
    };
    let report = run(py, progress, move |sink| {
        backup::verify(&path, &options, sink)
    })?;
    if check {
        if let Some(error) = report.to_error() {
            return Err(to_py_err(error));
        }
    }
    to_py(py, &report)
}

/// Lists every backup set in `backups` and on each remote (`folder:/path` or
/// `s3://bucket/prefix?endpoint=...`): name, kind, timestamp, age, size, verified.
#[pyfunction]
#[pyo3(signature = (backups, *, remotes=Vec::new(), deep=false, now=None, progress=None))]
fn backup_list(
    py: Python<'_>,
    backups: PathBuf,
    remotes: Vec<String>,
    deep: bool,
    now: Option<NaiveDateTime>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let targets = open_remotes(&remotes)?;
    let options = ListOptions {
        backup_root: backups,
        now: local_now(now),
        deep,
    };
    let report = run(py, progress, move |sink| {
        let refs: Vec<&dyn RemoteTarget> = targets.iter().map(|t| t.as_ref()).collect();
        backup::list(&options, &refs, sink)
    })?;
    to_py(py, &report)
}

/// Replaces `database` with the verified backup `source`, crash-safely, after a safety
/// backup of the current database into `backups/pre_restore/`. `safe=True` also brings the
/// restored database up to the current ThyWill schema. Another process that has the database
/// open (the app, even idle) or an active writer raises `ConflictError` naming it, unless
/// `wait` (seconds to wait for it to go away) or `force` (its later writes are lost). Works
/// when `database` is missing.
#[pyfunction]
#[pyo3(signature = (source, database, backups=None, *, safe=false, wait=None, force=false, dry_run=false, require_checksum=true, now=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn backup_restore(
    py: Python<'_>,
    source: PathBuf,
    database: PathBuf,
    backups: Option<PathBuf>,
    safe: bool,
    wait: Option<u64>,
    force: bool,
    dry_run: bool,
    require_checksum: bool,
    now: Option<NaiveDateTime>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let root = root_for(&database, backups);
    let mut options = RestoreOptions::new(source, database, root);
    options.mode = if safe {
        RestoreMode::Safe
    } else {
        RestoreMode::Plain
    };
    options.lock = match (force, wait) {
        (true, _) => LockPolicy::Force,
        (false, Some(seconds)) => LockPolicy::Wait(seconds),
        (false, None) => LockPolicy::Fail,
    };
    options.dry_run = dry_run;
    options.verify.require_checksum = require_checksum;
    options.now = local_now(now);
    let report = run(py, progress, move |sink| backup::restore(&options, sink))?;
    to_py(py, &report)
}

/// Applies retention (48 h hourly, 30 d daily, 12 w weekly by default; the newest verified
/// set of each kind and source database is always kept) to `backups` and each remote.
/// `database` is the database whose sets carry no recorded source (older sets).
/// `dry_run=True` only reports.
#[pyfunction]
#[pyo3(signature = (backups, *, dry_run=false, hourly_hours=48, daily_days=30, weekly_weeks=12, pre_restore_days=30, pre_restore_keep=3, remotes=Vec::new(), database=None, now=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn backup_cleanup(
    py: Python<'_>,
    backups: PathBuf,
    dry_run: bool,
    hourly_hours: i64,
    daily_days: i64,
    weekly_weeks: i64,
    pre_restore_days: i64,
    pre_restore_keep: usize,
    remotes: Vec<String>,
    database: Option<PathBuf>,
    now: Option<NaiveDateTime>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    if [hourly_hours, daily_days, weekly_weeks, pre_restore_days]
        .iter()
        .any(|v| *v <= 0)
    {
        return Err(to_py_err(Error::InvalidInput(
            "retention windows must be positive".into(),
        )));
    }
    let targets = open_remotes(&remotes)?;
    let options = CleanupOptions {
        backup_root: backups,
        policy: RetentionPolicy {
            hourly: Duration::hours(hourly_hours),
            daily: Duration::days(daily_days),
            weekly: Duration::weeks(weekly_weeks),
            pre_restore: Duration::days(pre_restore_days),
            pre_restore_keep_last: pre_restore_keep,
        },
        now: local_now(now),
        dry_run,
        database,
    };
    let report = run(py, progress, move |sink| {
        let refs: Vec<&dyn RemoteTarget> = targets.iter().map(|t| t.as_ref()).collect();
        backup::cleanup(&options, &refs, sink)
    })?;
    to_py(py, &report)
}

/// Copies the set of the backup database file `path` to `remote`, checking every uploaded
/// object's SHA-256 against the manifest. S3 credentials come from the environment or a
/// credentials file, never from arguments.
#[pyfunction]
#[pyo3(signature = (path, remote, *, progress=None))]
fn backup_push(
    py: Python<'_>,
    path: PathBuf,
    remote: String,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let target = RemoteSpec::parse(&remote)
        .and_then(|spec| spec.open(&env))
        .map_err(to_py_err)?;
    let report = run(py, progress, move |sink| {
        remote::push_set(target.as_ref(), &path, sink)
    })?;
    to_py(py, &report)
}

/// Downloads the set `name` (e.g. `thywill_daily_20250101_020000`) from `remote` into
/// `dest/<tier>/` and returns the local database path, ready for `backup_verify` and
/// `backup_restore`.
#[pyfunction]
#[pyo3(signature = (remote, name, dest, *, progress=None))]
fn backup_fetch(
    py: Python<'_>,
    remote: String,
    name: String,
    dest: PathBuf,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let set = SetName::parse_stem(name.trim_end_matches(".db")).ok_or_else(|| {
        to_py_err(Error::InvalidInput(format!(
            "{name}: not a backup set name (thywill_<tier>_<YYYYMMDD_HHMMSS>)"
        )))
    })?;
    let target = RemoteSpec::parse(&remote)
        .and_then(|spec| spec.open(&env))
        .map_err(to_py_err)?;
    let path = run(py, progress, move |sink| {
        remote::fetch_set(target.as_ref(), &set, &dest, sink)
    })?;
    Ok(path.to_string_lossy().into_owned())
}

/// Adds the backup functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(backup_create, m)?)?;
    m.add_function(wrap_pyfunction!(backup_verify, m)?)?;
    m.add_function(wrap_pyfunction!(backup_list, m)?)?;
    m.add_function(wrap_pyfunction!(backup_restore, m)?)?;
    m.add_function(wrap_pyfunction!(backup_cleanup, m)?)?;
    m.add_function(wrap_pyfunction!(backup_push, m)?)?;
    m.add_function(wrap_pyfunction!(backup_fetch, m)?)?;
    Ok(())
}
