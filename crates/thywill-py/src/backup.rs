//! Python bindings of `thywill_core::backup`: create (and copy to remotes), verify, list,
//! restore (and restore-safe, and from a remote), cleanup, and remote copies. Reports come
//! back as dicts (typed in `_native.pyi` with the `TypedDict`s of
//! `thywill_core.backup_types`). Settings go through the core's constructors
//! (`RetentionPolicy::new`, `LockPolicy::from_flags`, `SetName`'s parser), so their
//! defaults and checks are the core's.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use pyo3::prelude::*;
use thywill_core::backup::remote::{self, RemoteSpec, RemoteTarget};
use thywill_core::backup::retention::RetentionPolicy;
use thywill_core::backup::{
    self, CleanupOptions, CreateOptions, ListOptions, LockPolicy, RestoreMode, RestoreOptions,
    SetName, Tier, VerifyOptions,
};

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

fn open_remote(spec: &str) -> PyResult<Box<dyn RemoteTarget>> {
    RemoteSpec::parse(spec)
        .and_then(|spec| spec.open(&env))
        .map_err(to_py_err)
}

fn open_remotes(specs: &[String]) -> PyResult<Vec<Box<dyn RemoteTarget>>> {
    specs.iter().map(|s| open_remote(s)).collect()
}

fn refs(targets: &[Box<dyn RemoteTarget>]) -> Vec<&dyn RemoteTarget> {
    targets.iter().map(|t| t.as_ref()).collect()
}

/// The create options shared by `backup_create` and `backup_create_and_copy`.
fn create_options(
    database: &Path,
    backups: Option<PathBuf>,
    tier: &str,
    text_archives: Option<PathBuf>,
    email_database: Option<PathBuf>,
    integrity_check: bool,
    now: Option<NaiveDateTime>,
) -> PyResult<CreateOptions> {
    let tier: Tier = tier.parse().map_err(to_py_err)?;
    let mut options = CreateOptions::new(database, root_for(database, backups), tier);
    options.text_archives = text_archives;
    options.email_database = email_database;
    options.integrity_check = integrity_check;
    options.now = local_now(now);
    Ok(options)
}

/// The restore options shared by `backup_restore` and `backup_restore_from_remote`.
#[allow(clippy::too_many_arguments)]
fn restore_options(
    database: PathBuf,
    backups: Option<PathBuf>,
    safe: bool,
    wait: Option<u64>,
    force: bool,
    dry_run: bool,
    require_checksum: bool,
    now: Option<NaiveDateTime>,
) -> PyResult<RestoreOptions> {
    let root = root_for(&database, backups);
    let mut options = RestoreOptions::new(database, root);
    options.mode = if safe {
        RestoreMode::Safe
    } else {
        RestoreMode::Plain
    };
    options.lock = LockPolicy::from_flags(force, wait).map_err(to_py_err)?;
    options.dry_run = dry_run;
    options.verify.require_checksum = require_checksum;
    options.now = local_now(now);
    Ok(options)
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
    let options = create_options(
        &database,
        backups,
        tier,
        text_archives,
        email_database,
        integrity_check,
        now,
    )?;
    let report = run(py, progress, move |sink| backup::create(&options, sink))?;
    to_py(py, &report)
}

/// Backs up `database` as `backup_create` does, then copies the set to every remote in
/// `remotes` (`folder:/path` or `s3://bucket/prefix?endpoint=...`), checking each upload.
/// A remote that fails does not stop the others and raises nothing: it is listed in the
/// report's `remote_failures` (the report's `remotes` lists the copies made). Raises when
/// the backup itself fails.
#[pyfunction]
#[pyo3(signature = (database, backups=None, tier="daily", *, remotes, text_archives=None, email_database=None, integrity_check=true, now=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn backup_create_and_copy(
    py: Python<'_>,
    database: PathBuf,
    backups: Option<PathBuf>,
    tier: &str,
    remotes: Vec<String>,
    text_archives: Option<PathBuf>,
    email_database: Option<PathBuf>,
    integrity_check: bool,
    now: Option<NaiveDateTime>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = create_options(
        &database,
        backups,
        tier,
        text_archives,
        email_database,
        integrity_check,
        now,
    )?;
    let targets = open_remotes(&remotes)?;
    let report = run(py, progress, move |sink| {
        backup::create_and_copy(&options, &refs(&targets), sink)
    })?;
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
        now: local_now(now),
        deep,
        ..ListOptions::new(backups)
    };
    let report = run(py, progress, move |sink| {
        backup::list(&options, &refs(&targets), sink)
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
    let options = restore_options(
        database,
        backups,
        safe,
        wait,
        force,
        dry_run,
        require_checksum,
        now,
    )?;
    let report = run(py, progress, move |sink| {
        backup::restore(&source, &options, sink)
    })?;
    to_py(py, &report)
}

/// Restores the set `name` (e.g. `thywill_daily_20250101_020000`) from `remote`: fetches it
/// into `backups/.remote-staging-<pid>`, verifies and restores it as `backup_restore` does
/// (same `safe`, `wait`, `force`, `dry_run`, `require_checksum`), and removes the staging
/// folder on every path, errors and cancellation included. Beside another process that has
/// the database open it raises `ConflictError` before downloading anything (unless `wait`
/// or `force`). Returns `{"target", "name", "fetch", "restore", "warnings"}`.
#[pyfunction]
#[pyo3(signature = (remote, name, database, backups=None, *, safe=false, wait=None, force=false, dry_run=false, require_checksum=true, now=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn backup_restore_from_remote(
    py: Python<'_>,
    remote: String,
    name: String,
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
    let set: SetName = name.parse().map_err(to_py_err)?;
    let options = restore_options(
        database,
        backups,
        safe,
        wait,
        force,
        dry_run,
        require_checksum,
        now,
    )?;
    let target = open_remote(&remote)?;
    let report = run(py, progress, move |sink| {
        backup::restore_from_remote(target.as_ref(), &set, &options, sink)
    })?;
    to_py(py, &report)
}

/// Applies retention to `backups` and each remote: hourly sets are kept `hourly_hours`,
/// daily `daily_days`, weekly `weekly_weeks`, pre-restore safety sets `pre_restore_days`
/// with the newest `pre_restore_keep` always kept (None: the core's defaults, 48 h, 30 d,
/// 12 w, 30 d, 3); the newest verified set of each kind and source database is always kept.
/// A window that is not positive raises `InvalidInputError`. `database` is the database
/// whose sets carry no recorded source (older sets). `dry_run=True` only reports.
#[pyfunction]
#[pyo3(signature = (backups, *, dry_run=false, hourly_hours=None, daily_days=None, weekly_weeks=None, pre_restore_days=None, pre_restore_keep=None, remotes=Vec::new(), database=None, now=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn backup_cleanup(
    py: Python<'_>,
    backups: PathBuf,
    dry_run: bool,
    hourly_hours: Option<i64>,
    daily_days: Option<i64>,
    weekly_weeks: Option<i64>,
    pre_restore_days: Option<i64>,
    pre_restore_keep: Option<i64>,
    remotes: Vec<String>,
    database: Option<PathBuf>,
    now: Option<NaiveDateTime>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let d = RetentionPolicy::default();
    let policy = RetentionPolicy::new(
        hourly_hours.unwrap_or(d.hourly_hours()),
        daily_days.unwrap_or(d.daily_days()),
        weekly_weeks.unwrap_or(d.weekly_weeks()),
    )
    .and_then(|p| {
        p.with_pre_restore(
            pre_restore_days.unwrap_or(d.pre_restore_days()),
            pre_restore_keep.unwrap_or(d.pre_restore_keep_last() as i64),
        )
    })
    .map_err(to_py_err)?;
    let targets = open_remotes(&remotes)?;
    let options = CleanupOptions {
        policy,
        now: local_now(now),
        dry_run,
        database,
        ..CleanupOptions::new(backups)
    };
    let report = run(py, progress, move |sink| {
        backup::cleanup(&options, &refs(&targets), sink)
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
    let target = open_remote(&remote)?;
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
    let set: SetName = name.parse().map_err(to_py_err)?;
    let target = open_remote(&remote)?;
    let fetched = run(py, progress, move |sink| {
        remote::fetch_set(target.as_ref(), &set, &dest, sink)
    })?;
    Ok(fetched.database.to_string_lossy().into_owned())
}

/// Adds the backup functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(backup_create, m)?)?;
    m.add_function(wrap_pyfunction!(backup_create_and_copy, m)?)?;
    m.add_function(wrap_pyfunction!(backup_verify, m)?)?;
    m.add_function(wrap_pyfunction!(backup_list, m)?)?;
    m.add_function(wrap_pyfunction!(backup_restore, m)?)?;
    m.add_function(wrap_pyfunction!(backup_restore_from_remote, m)?)?;
    m.add_function(wrap_pyfunction!(backup_cleanup, m)?)?;
    m.add_function(wrap_pyfunction!(backup_push, m)?)?;
    m.add_function(wrap_pyfunction!(backup_fetch, m)?)?;
    Ok(())
}
