//! C exports of `thywill_core::recovery`: test-recovery and full-recovery. Required inputs
//! are arguments; every setting comes in one JSON options document (NULL for the defaults)
//! that serde reads into the core's option type, so its keys, defaults and checks are the
//! core's. Every report goes out as JSON.

use std::ffi::{c_char, c_void};

use thywill_core::recovery::{self, FullRecoveryOptions, TestRecoveryOptions};

use crate::backup::{optional_path, root_for};
use crate::guard::json_report;
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{options_arg, path_arg};

/// Rebuilds the database from the text archives `archive_dir` (a folder or a ZIP) into a
/// scratch database and compares it with `database` (which may be missing, or open in
/// ThyWill), table by table; changes nothing. `options_json` (may be NULL): `{"time_zone":
/// "local" | "utc" | "±HH:MM", "path_prefix": "text_archives", "zip_limits": {...},
/// "scratch_dir": "/var/tmp"}`. Writes `{"import", "recovery_stats", "comparison",
/// "predicted_rows", "warnings", ...}` to `*out_json`.
///
/// # Safety
/// String arguments are NULL (where allowed) or NUL-terminated; `out_json` is valid for
/// writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_recovery_test(
    archive_dir: *const c_char,
    database: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let archive_dir = path_arg(archive_dir, "archive_dir")?;
            let database = path_arg(database, "database")?;
            let options: TestRecoveryOptions = options_arg(options_json, "options_json")?;
            Ok(recovery::test_recovery(
                &archive_dir,
                &database,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// Rebuilds `database` from the text archives `archive_dir` and swaps the rebuild in (a
/// safety backup of the current database goes to `backups/pre_restore/`; `backups` may be
/// NULL: `THYWILL_BACKUP_DIR`, else `backups/` beside the database), or imports into the
/// existing database (`"mode": "merge"`). `options_json` (may be NULL): `{"mode": "replace" |
/// "merge", "dry_run": bool, "lock": "fail" | "force" | {"wait": SECONDS}, "safety_backup":
/// bool, "now": "...", "time_zone": "utc", "path_prefix": "...", "zip_limits": {...}}`.
/// Another process that has the database open gives `THYWILL_STATUS_CONFLICT` naming it,
/// unless waited out or forced. Writes `{"import", "recovery_stats", "comparison",
/// "installed", "safety_backup", "table_rows", "warnings", ...}` to `*out_json`.
///
/// # Safety
/// String arguments are NULL (where allowed) or NUL-terminated; `out_json` is valid for
/// writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_recovery_full(
    archive_dir: *const c_char,
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
            let archive_dir = path_arg(archive_dir, "archive_dir")?;
            let database = path_arg(database, "database")?;
            let backups = optional_path(backups, "backups")?;
            let mut options: FullRecoveryOptions = options_arg(options_json, "options_json")?;
            options.backup_root = root_for(&database, backups);
            Ok(recovery::full_recovery(
                &archive_dir,
                &database,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}
