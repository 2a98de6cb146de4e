//! C exports of `thywill_core::backup`: create, verify, list, restore (and restore-safe),
//! cleanup and remote copies. Options beyond the essentials come as a JSON object (NULL for
//! the defaults); every report goes out as JSON.

use std::ffi::{c_char, c_void};
use std::path::{Path, PathBuf};

use chrono::Duration;
use serde::Deserialize;
use thywill_core::backup::remote::{self, RemoteSpec, RemoteTarget};
use thywill_core::backup::retention::RetentionPolicy;
use thywill_core::backup::{
    self, CleanupOptions, CreateOptions, ListOptions, LockPolicy, RestoreMode, RestoreOptions,
    Tier, VerifyOptions,
};
use thywill_core::Error;

use crate::guard::{ffi_guard, FfiError, FfiResult};
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{out_ptr, path_arg, str_arg, write_json};

fn env(key: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(key)
}

fn now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

/// Reads an optional JSON options object (NULL → defaults).
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string.
pub(crate) unsafe fn options_arg<T: for<'de> Deserialize<'de> + Default>(
    ptr: *const c_char,
    argument: &str,
) -> FfiResult<T> {
    if ptr.is_null() {
        return Ok(T::default());
    }
    // SAFETY: forwarded caller contract.
    let text = unsafe { str_arg(ptr, argument) }?;
    serde_json::from_str(text).map_err(|e| {
        FfiError::new(
            thywill_status::InvalidInput,
            format!("{argument}: not valid options: {e}"),
        )
    })
}

/// An optional path (NULL → None).
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string.
unsafe fn optional_path(ptr: *const c_char, argument: &str) -> FfiResult<Option<PathBuf>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded caller contract.
        unsafe { path_arg(ptr, argument) }.map(Some)
    }
}

fn open_remotes(specs: &[String]) -> FfiResult<Vec<Box<dyn RemoteTarget>>> {
    Ok(specs
        .iter()
        .map(|s| RemoteSpec::parse(s).and_then(|spec| spec.open(&env)))
        .collect::<Result<Vec<_>, Error>>()?)
}

fn root_for(database: &Path, backups: Option<PathBuf>) -> PathBuf {
    backup::backup_root(backups.as_deref(), &env, database)
}

/// Options of `thywill_backup_create`.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct CreateJson {
    text_archives: Option<PathBuf>,
    email_database: Option<PathBuf>,
    no_integrity_check: bool,
}

/// Backs up `database` into `backups/<tier>/` (`backups` NULL: `THYWILL_BACKUP_DIR`, else
/// `backups/` beside the database; `tier` NULL: `"daily"`). `options_json` (may be NULL):
/// `{"text_archives": DIR, "email_database": FILE, "no_integrity_check": bool}`. Writes the
/// report (`path`, `members`, `verification`, ...) to `*out_json`.
///
/// # Safety
/// String arguments are NULL (where allowed) or NUL-terminated; `out_json` is valid for
/// writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_backup_create(
    database: *const c_char,
    backups: *const c_char,
    tier: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let database = unsafe { path_arg(database, "database") }?;
        let backups = unsafe { optional_path(backups, "backups") }?;
        let tier: Tier = if tier.is_null() {
            Tier::Daily
        } else {
            unsafe { str_arg(tier, "tier") }?.parse()?
        };
        let extra: CreateJson = unsafe { options_arg(options_json, "options_json") }?;
        let mut options = CreateOptions::new(&database, root_for(&database, backups), tier);
        options.text_archives = extra.text_archives;
        options.email_database = extra.email_database;
        options.integrity_check = !extra.no_integrity_check;
        let report = backup::create(&options, &CProgress::new(progress, user_data))?;
        write_json(out, &report)
    })
}

/// Verifies the backup file `path` and writes the report to `*out_json` (ThyWill's keys
/// `file_exists`, `checksum_file_found`, `checksum_verified`, `database_integrity_ok`,
/// `errors`, plus `status`, `table_row_counts`, ...). The call succeeds whatever the verdict;
/// `*out_verdict` (may be NULL) receives `THYWILL_STATUS_OK`, `_NOT_FOUND`, `_CORRUPT` or
/// `_INVALID_INPUT` (no checksum, or not a ThyWill database). `require_checksum` false
/// accepts a file with neither sidecar nor manifest.
///
/// # Safety
/// `path` is NUL-terminated; `out_json` is valid for writes; `out_verdict` is NULL or valid
/// for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_backup_verify(
    path: *const c_char,
    require_checksum: bool,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_verdict: *mut thywill_status,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let path = unsafe { path_arg(path, "path") }?;
        let options = VerifyOptions {
            require_checksum,
            ..VerifyOptions::default()
        };
        let report = backup::verify(&path, &options, &CProgress::new(progress, user_data))?;
        // SAFETY: NULL or valid for writes per the contract.
        if let Some(verdict) = unsafe { out_verdict.as_mut() } {
            *verdict = report
                .to_error()
                .map_or(thywill_status::Ok, |e| e.kind().into());
        }
        write_json(out, &report)
    })
}

/// Options of `thywill_backup_list`.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ListJson {
    remotes: Vec<String>,
    deep: bool,
}

/// Lists the sets under `backups` and on remotes. `options_json` (may be NULL):
/// `{"remotes": ["folder:/mnt/usb", "s3://bucket/prefix?endpoint=..."], "deep": bool}`.
///
/// # Safety
/// `backups` is NUL-terminated; `options_json` is NULL or NUL-terminated; `out_json` is
/// valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_backup_list(
    backups: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let backups = unsafe { path_arg(backups, "backups") }?;
        let extra: ListJson = unsafe { options_arg(options_json, "options_json") }?;
        let targets = open_remotes(&extra.remotes)?;
        let refs: Vec<&dyn RemoteTarget> = targets.iter().map(|t| t.as_ref()).collect();
        let report = backup::list(
            &ListOptions {
                backup_root: backups,
                now: now(),
                deep: extra.deep,
            },
            &refs,
            &thywill_core::progress::NoProgress,
        )?;
        write_json(out, &report)
    })
}

/// Options of `thywill_backup_restore`.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RestoreJson {
    safe: bool,
    wait_seconds: Option<u64>,
    force: bool,
    dry_run: bool,
    require_checksum: bool,
}

impl Default for RestoreJson {
    fn default() -> Self {
        RestoreJson {
            safe: false,
            wait_seconds: None,
            force: false,
            dry_run: false,
            require_checksum: true,
        }
    }
}

/// Replaces `database` with the verified backup `source` (crash-safe; a safety backup of the
/// current database goes to `backups/pre_restore/`; `backups` may be NULL). `options_json`
/// (may be NULL): `{"safe": bool (restore-safe: upgrade the schema), "wait_seconds": N,
/// "force": bool, "dry_run": bool, "require_checksum": bool}`. Another process that has the
/// database open (the app, even idle) or an active writer gives `THYWILL_STATUS_CONFLICT`
/// naming it, unless waited out (`wait_seconds`) or forced (its later writes are lost).
///
/// # Safety
/// String arguments are NULL (where allowed) or NUL-terminated; `out_json` is valid for
/// writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_backup_restore(
    source: *const c_char,
    database: *const c_char,
    backups: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let source = unsafe { path_arg(source, "source") }?;
        let database = unsafe { path_arg(database, "database") }?;
        let backups = unsafe { optional_path(backups, "backups") }?;
        let extra: RestoreJson = unsafe { options_arg(options_json, "options_json") }?;
        let root = root_for(&database, backups);
        let mut options = RestoreOptions::new(source, database, root);
        options.mode = if extra.safe {
            RestoreMode::Safe
        } else {
            RestoreMode::Plain
        };
        options.lock = match (extra.force, extra.wait_seconds) {
            (true, _) => LockPolicy::Force,
            (false, Some(s)) => LockPolicy::Wait(s),
            (false, None) => LockPolicy::Fail,
        };
        options.dry_run = extra.dry_run;
        options.verify.require_checksum = extra.require_checksum;
        let report = backup::restore(&options, &CProgress::new(progress, user_data))?;
        write_json(out, &report)
    })
}

/// Options of `thywill_backup_cleanup`.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CleanupJson {
    dry_run: bool,
    hourly_hours: i64,
    daily_days: i64,
    weekly_weeks: i64,
    pre_restore_days: i64,
    pre_restore_keep: usize,
    remotes: Vec<String>,
    database: Option<PathBuf>,
}

impl Default for CleanupJson {
    fn default() -> Self {
        CleanupJson {
            dry_run: false,
            hourly_hours: 48,
            daily_days: 30,
            weekly_weeks: 12,
            pre_restore_days: 30,
            pre_restore_keep: 3,
            remotes: Vec::new(),
            database: None,
        }
    }
}

/// Applies retention to `backups` (and remotes). `options_json` (may be NULL):
/// `{"dry_run": bool, "hourly_hours": 48, "daily_days": 30, "weekly_weeks": 12,
/// "pre_restore_days": 30, "pre_restore_keep": 3, "remotes": [...], "database": "path"}`.
/// Sets are judged per kind and source database; `database` names the database whose sets
/// have no recorded source (written by older versions). The report lists every set with its
/// decision and reason.
///
/// # Safety
/// `backups` is NUL-terminated; `options_json` is NULL or NUL-terminated; `out_json` is
/// valid for writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_backup_cleanup(
    backups: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let backups = unsafe { path_arg(backups, "backups") }?;
        let extra: CleanupJson = unsafe { options_arg(options_json, "options_json") }?;
        if [
            extra.hourly_hours,
            extra.daily_days,
            extra.weekly_weeks,
            extra.pre_restore_days,
        ]
        .iter()
        .any(|v| *v <= 0)
        {
            return Err(Error::InvalidInput("retention windows must be positive".into()).into());
        }
        let targets = open_remotes(&extra.remotes)?;
        let refs: Vec<&dyn RemoteTarget> = targets.iter().map(|t| t.as_ref()).collect();
        let options = CleanupOptions {
            backup_root: backups,
            policy: RetentionPolicy {
                hourly: Duration::hours(extra.hourly_hours),
                daily: Duration::days(extra.daily_days),
                weekly: Duration::weeks(extra.weekly_weeks),
                pre_restore: Duration::days(extra.pre_restore_days),
                pre_restore_keep_last: extra.pre_restore_keep,
            },
            now: now(),
            dry_run: extra.dry_run,
            database: extra.database,
        };
        let report = backup::cleanup(&options, &refs, &CProgress::new(progress, user_data))?;
        write_json(out, &report)
    })
}

/// Copies the set of the backup database file `path` to `remote` (`folder:/path` or
/// `s3://bucket/prefix?endpoint=...`; S3 credentials from the environment), verifying each
/// upload's checksum.
///
/// # Safety
/// `path` and `remote` are NUL-terminated; `out_json` is valid for writes; `progress` is
/// NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_backup_push(
    path: *const c_char,
    remote: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let path = unsafe { path_arg(path, "path") }?;
        let remote = unsafe { str_arg(remote, "remote") }?;
        let target = RemoteSpec::parse(remote)?.open(&env)?;
        let report =
            remote::push_set(target.as_ref(), &path, &CProgress::new(progress, user_data))?;
        write_json(out, &report)
    })
}
