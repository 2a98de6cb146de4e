//! C bindings of `thywill_core::sessions`: export the active sessions to ThyWill's
//! `sessions_backup.json` shape (mode 0600) and restore them. Each writes its report as JSON
//! to `*out_json` (free with `thywill_string_free`); reports show session ids shortened to 8
//! characters. Settings come in one JSON options document (NULL for the defaults).

use std::ffi::{c_char, c_void};

use thywill_core::sessions::{
    export_sessions, restore_sessions, ExportSessionsOptions, RestoreSessionsOptions,
};

use crate::guard::json_report;
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{options_arg, path_arg};

/// Writes the active sessions of `db` to the file `out` (replaced atomically, mode 0600).
/// `options_json` (may be NULL): `{"include_expired": bool, "as_of": "2025-09-20T12:00:00"
/// (UTC; default now)}`. Report: `{"file", "schema", "total_sessions", "expired_skipped",
/// "usernames", "sessions": [{"id_prefix", "username", "expires_at"}]}`. `progress` may be
/// NULL.
///
/// # Safety
/// `db` and `out` are NUL-terminated strings, `options_json` is NULL or one; `out_json` is
/// valid for writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_sessions_export(
    db: *const c_char,
    out: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let db = path_arg(db, "db")?;
            let out = path_arg(out, "out")?;
            let options: ExportSessionsOptions = options_arg(options_json, "options_json")?;
            let report =
                export_sessions(&db, &out, &options, &CProgress::new(progress, user_data))?;
            Ok(report)
        })
    }
}

/// Restores the sessions of the export file `file` into `db`, in one transaction: existing
/// ids are kept, expired sessions skipped, sessions of users who no longer exist reported in
/// `unknown_users`. `options_json` (may be NULL): `{"dry_run": bool, "as_of": "…"}`.
/// Report: `{"file", "database", "schema", "dry_run", "total", "restored",
/// "already_present", "expired", "unknown_users": [{"index", "id_prefix", "username",
/// "reason"}], "failures": [...], "restored_usernames"}`.
///
/// # Safety
/// As [`thywill_sessions_export`], with `file` in place of `out`.
#[no_mangle]
pub unsafe extern "C" fn thywill_sessions_restore(
    db: *const c_char,
    file: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let db = path_arg(db, "db")?;
            let file = path_arg(file, "file")?;
            let options: RestoreSessionsOptions = options_arg(options_json, "options_json")?;
            let report =
                restore_sessions(&db, &file, &options, &CProgress::new(progress, user_data))?;
            Ok(report)
        })
    }
}
