//! C binding of `thywill_core::recovery::reconstruct_from_archives`: the relationships of a
//! database repaired from the text archives, in one transaction. Writes its report as JSON
//! to `*out_json` (free with `thywill_string_free`). Settings come in one JSON options
//! document (NULL for the defaults).

use std::ffi::{c_char, c_void};

use thywill_core::recovery::{reconstruct_from_archives, ReconstructOptions};

use crate::guard::json_report;
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{options_arg, path_arg};

/// Repairs the relationships of the database `db` from the archive folder `archive_dir`:
/// orphaned names re-pointed (or their user created from a registration, prayer author or
/// activity actor), the inviter tree, roles and grants, invite tokens and their usage, and
/// the sessions no later `session_deleted` event ended and not expired at `as_of`.
/// `options_json` (may be NULL): `{"dry_run": bool, "time_zone": "local"|"utc"|"±HH:MM",
/// "path_prefix": "text_archives", "as_of": "2025-09-20T12:00:00" (UTC; default now),
/// "max_listed": 50}`. Report: `{"archive_dir", "database", "dry_run", "as_of",
/// "tables_created",
/// "relationships": {name: {"found", "repointed", "inserted", "already_right",
/// "unresolvable", "unresolved": [{"value", "rows", "reason"}]}}, "users_created",
/// "sessions_dropped": {"ended_by_event", "expired"}, "thywill_stats", "failures",
/// "notes"}`. ThyWill's legacy schema gives `THYWILL_STATUS_INVALID_INPUT`. `progress` may
/// be NULL.
///
/// # Safety
/// `archive_dir` and `db` are NUL-terminated strings, `options_json` is NULL or one;
/// `out_json` is valid for writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_reconstruct_from_archives(
    archive_dir: *const c_char,
    db: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let archive_dir = path_arg(archive_dir, "archive_dir")?;
            let db = path_arg(db, "db")?;
            let options: ReconstructOptions = options_arg(options_json, "options_json")?;
            Ok(reconstruct_from_archives(
                &archive_dir,
                &db,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}
