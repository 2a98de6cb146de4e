//! C exports of `thywill_core::backup`: create (and copy to remotes), verify, list, restore
//! (and restore-safe, and from a remote), cleanup and remote copies. Required inputs are
//! arguments; every setting comes in one JSON options document (NULL for the defaults)
//! that serde reads into the core's option type, so its keys, defaults and checks are the
//! core's. Every report goes out as JSON.

use std::ffi::{c_char, c_void};
use std::path::{Path, PathBuf};

use thywill_core::backup::remote::{self, RemoteSpec, RemoteTarget};
use thywill_core::backup::{
    self, BackupKind, CleanupOptions, CreateOptions, ListOptions, RestoreOptions, SetName, Tier,
    VerifyOptions,
};
use thywill_core::Error;

use crate::guard::{json_report, json_report_and, FfiResult};
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{opt_str_arg, options_arg, options_with_remotes, path_arg, str_arg};

fn env(key: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(key)
}

/// An optional path (NULL → None).
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string.
pub(crate) unsafe fn optional_path(
    ptr: *const c_char,
    argument: &str,
) -> FfiResult<Option<PathBuf>> {
    // SAFETY: forwarded caller contract.
    Ok(unsafe { opt_str_arg(ptr, argument) }?.map(PathBuf::from))
}

fn open_remotes(specs: &[String]) -> FfiResult<Vec<Box<dyn RemoteTarget>>> {
    Ok(specs
        .iter()
        .map(|s| RemoteSpec::parse(s).and_then(|spec| spec.open(&env)))
        .collect::<Result<Vec<_>, Error>>()?)
}

fn refs(targets: &[Box<dyn RemoteTarget>]) -> Vec<&dyn RemoteTarget> {
    targets.iter().map(|t| t.as_ref()).collect()
}

/// The backup root of a `backups` argument (NULL: the environment's or the default beside
/// the database).
pub(crate) fn root_for(database: &Path, backups: Option<PathBuf>) -> PathBuf {
    backup::backup_root(backups.as_deref(), &env, database)
}

/// The tier argument: NULL is `daily`.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string.
unsafe fn tier_arg(ptr: *const c_char) -> FfiResult<Tier> {
    // SAFETY: forwarded caller contract.
    match unsafe { opt_str_arg(ptr, "tier") }? {
        None => Ok(Tier::Daily),
        Some(text) => Ok(text.parse()?),
    }
}

/// Places a create options document: the database, the backup root and the tier are the
/// arguments'.
fn place_create(
    mut options: CreateOptions,
    database: PathBuf,
    backups: Option<PathBuf>,
    tier: Tier,
) -> CreateOptions {
    options.backup_root = root_for(&database, backups);
    options.database = database;
    options.kind = BackupKind::Tier(tier);
    options
}

/// Places a restore options document: the database and the backup root are the arguments'.
fn place_restore(
    mut options: RestoreOptions,
    database: PathBuf,
    backups: Option<PathBuf>,
) -> RestoreOptions {
    options.backup_root = root_for(&database, backups);
    options.database = database;
    options
}

/// Backs up `database` into `backups/<tier>/` (`backups` NULL: `THYWILL_BACKUP_DIR`, else
/// `backups/` beside the database; `tier` NULL: `"daily"`). `options_json` (may be NULL):
/// `{"text_archives": DIR, "email_database": FILE, "integrity_check": bool (true),
/// "reserve_bytes": N, "now": "2025-01-01T02:00:00"}`. Writes the report (`path`,
/// `members`, `verification`, ...) to `*out_json`.
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
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let database = path_arg(database, "database")?;
            let backups = optional_path(backups, "backups")?;
            let tier = tier_arg(tier)?;
            let options = options_arg(options_json, "options_json")?;
            let options = place_create(options, database, backups, tier);
            Ok(backup::create(
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// Backs up `database` as [`thywill_backup_create`] does, then copies the set to every remote
/// of `options_json`'s `"remotes"` (`["folder:/mnt/usb", "s3://bucket/prefix?endpoint=..."]`;
/// S3 credentials from the environment), checking each upload. `options_json` (may be NULL)
/// takes [`thywill_backup_create`]'s keys and `"remotes"`. A remote that fails does not stop
/// the others and is not an error: the report (`{"backup", "remotes", "remote_failures"}`)
/// lists it, and `*out_failed` (may be NULL) is set to whether any remote failed. A failed
/// backup is the call's status, and nothing is copied.
///
/// # Safety
/// String arguments are NULL (where allowed) or NUL-terminated; `out_json` is valid for
/// writes; `out_failed` is NULL or valid for writes; `progress` is NULL or callable with
/// `user_data`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn thywill_backup_create_and_copy(
    database: *const c_char,
    backups: *const c_char,
    tier: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_failed: *mut bool,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report_and(
            out_json,
            out_failed,
            backup::CreateAndCopyReport::has_failures,
            || {
                let database = path_arg(database, "database")?;
                let backups = optional_path(backups, "backups")?;
                let tier = tier_arg(tier)?;
                let (options, remotes) = options_with_remotes(options_json, "options_json")?;
                let options = place_create(options, database, backups, tier);
                let targets = open_remotes(&remotes)?;
                Ok(backup::create_and_copy(
                    &options,
                    &refs(&targets),
                    &CProgress::new(progress, user_data),
                )?)
            },
        )
    }
}

/// Verifies the backup file `path` and writes the report to `*out_json` (ThyWill's keys
/// `file_exists`, `checksum_file_found`, `checksum_verified`, `database_integrity_ok`,
/// `errors`, plus `status`, `table_row_counts`, ...). The call succeeds whatever the verdict;
/// `*out_verdict` (may be NULL) receives `THYWILL_STATUS_OK`, `_NOT_FOUND`, `_CORRUPT` or
/// `_INVALID_INPUT` (no checksum, or not a ThyWill database). `options_json` (may be NULL):
/// `{"require_checksum": bool (true: a file with neither sidecar nor manifest fails),
/// "full_integrity_check": bool (true; false runs the faster quick_check)}`.
///
/// # Safety
/// `path` is NUL-terminated; `options_json` is NULL or NUL-terminated; `out_json` is valid
/// for writes; `out_verdict` is NULL or valid for writes; `progress` is NULL or callable
/// with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_backup_verify(
    path: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_verdict: *mut thywill_status,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report_and(
            out_json,
            out_verdict,
            |report: &backup::VerifyReport| {
                report
                    .to_error()
                    .map_or(thywill_status::Ok, |e| e.kind().into())
            },
            || {
                let path = path_arg(path, "path")?;
                let options: VerifyOptions = options_arg(options_json, "options_json")?;
                Ok(backup::verify(
                    &path,
                    &options,
                    &CProgress::new(progress, user_data),
                )?)
            },
        )
    }
}

/// Lists the sets under `backups` and on remotes. `options_json` (may be NULL):
/// `{"remotes": ["folder:/mnt/usb", "s3://bucket/prefix?endpoint=..."], "deep": bool,
/// "now": "2025-01-01T02:00:00"}`.
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
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let backups = path_arg(backups, "backups")?;
            let (options, remotes): (ListOptions, _) =
                options_with_remotes(options_json, "options_json")?;
            let options = ListOptions {
                backup_root: backups,
                ..options
            };
            let targets = open_remotes(&remotes)?;
            Ok(backup::list(
                &options,
                &refs(&targets),
                &thywill_core::progress::NoProgress,
            )?)
        })
    }
}

/// Replaces `database` with the verified backup `source` (crash-safe; a safety backup of the
/// current database goes to `backups/pre_restore/`; `backups` may be NULL). `options_json`
/// (may be NULL): `{"mode": "plain" | "safe" (restore-safe: upgrade the schema), "lock":
/// "fail" | "force" | {"wait": SECONDS}, "dry_run": bool, "verify": {"require_checksum":
/// bool, "full_integrity_check": bool}, "safety_backup": bool, "now": "..."}`. Another
/// process that has the database open (the app, even idle) or an active writer gives
/// `THYWILL_STATUS_CONFLICT` naming it, unless waited out (`{"wait": N}`) or forced (its
/// later writes are lost).
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
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let source = path_arg(source, "source")?;
            let database = path_arg(database, "database")?;
            let backups = optional_path(backups, "backups")?;
            let options = options_arg(options_json, "options_json")?;
            let options = place_restore(options, database, backups);
            Ok(backup::restore(
                &source,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// Restores the set `name` (`thywill_daily_20250101_020000`, `.db` allowed) from `remote`
/// (`folder:/path` or `s3://...`): fetches it into `backups/.remote-staging-<pid>`, verifies
/// and restores it as [`thywill_backup_restore`] does (same `options_json`), and removes the
/// staging folder on every path, failures and cancellation included. With the default lock
/// policy a database in use gives `THYWILL_STATUS_CONFLICT` before anything is downloaded.
/// Writes `{"target", "name", "fetch", "restore", "warnings"}` to `*out_json`.
///
/// # Safety
/// String arguments are NULL (where allowed) or NUL-terminated; `out_json` is valid for
/// writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn thywill_backup_restore_from_remote(
    remote: *const c_char,
    name: *const c_char,
    database: *const c_char,
    backups: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let remote = str_arg(remote, "remote")?;
            let name: SetName = str_arg(name, "name")?.parse()?;
            let database = path_arg(database, "database")?;
            let backups = optional_path(backups, "backups")?;
            let options = options_arg(options_json, "options_json")?;
            let options = place_restore(options, database, backups);
            let target = RemoteSpec::parse(remote)?.open(&env)?;
            Ok(backup::restore_from_remote(
                target.as_ref(),
                &name,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// Applies retention to `backups` (and remotes). `options_json` (may be NULL):
/// `{"dry_run": bool, "policy": {"hourly_hours": 48, "daily_days": 30, "weekly_weeks": 12,
/// "pre_restore_days": 30, "pre_restore_keep": 3}, "remotes": [...], "database": "path",
/// "now": "..."}` (a window that is not positive is `THYWILL_STATUS_INVALID_INPUT`). Sets are
/// judged per kind and source database; `database` names the database whose sets have no
/// recorded source (written by older versions). The report lists every set with its
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
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let backups = path_arg(backups, "backups")?;
            let (options, remotes): (CleanupOptions, _) =
                options_with_remotes(options_json, "options_json")?;
            let options = CleanupOptions {
                backup_root: backups,
                ..options
            };
            let targets = open_remotes(&remotes)?;
            Ok(backup::cleanup(
                &options,
                &refs(&targets),
                &CProgress::new(progress, user_data),
            )?)
        })
    }
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
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let path = path_arg(path, "path")?;
            let remote = str_arg(remote, "remote")?;
            let target = RemoteSpec::parse(remote)?.open(&env)?;
            let report =
                remote::push_set(target.as_ref(), &path, &CProgress::new(progress, user_data))?;
            Ok(report)
        })
    }
}
