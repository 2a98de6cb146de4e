//! C exports of `thywill_core::recovery`'s coverage checks: validate-consistency and
//! recovery-report. Required inputs are arguments; every setting comes in one JSON options
//! document (NULL for the defaults; unknown keys are `INVALID_INPUT`) that serde reads into
//! the core's option type. Every report goes out as JSON (free with `thywill_string_free`).

use std::ffi::{c_char, c_void};

use thywill_core::recovery::{self, ConsistencyOptions, RecoveryReportOptions};

use crate::backup::{optional_path, root_for};
use crate::guard::json_report;
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{options_arg, path_arg};

/// Compares the text archive folder `archive_dir` with `database` field by field per
/// entity and scores it with ThyWill's statistics. Reads only, unless `"fix": true` (then
/// heal-archives writes what the archives lack; nothing with `"dry_run": true`) and the
/// score is measured again. `options_json` (may be NULL): `{"fix": bool, "dry_run": bool,
/// "time_zone": "local" | "utc" | "±HH:MM", "path_prefix": "text_archives", "scratch_dir":
/// "/var/tmp"}`. Writes `{"stats": {"consistency_score", ...}, "band", "exit_code",
/// "entities", "validation", "fix", "score_after_fix", "issues", ...}` to `*out_json`.
///
/// # Safety
/// String arguments are NULL (where allowed) or NUL-terminated; `out_json` is valid for
/// writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_validate_consistency(
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
            let options: ConsistencyOptions = options_arg(options_json, "options_json")?;
            Ok(recovery::validate_consistency(
                &database,
                &archive_dir,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// How ready `database` is for a disaster: per table the share the text archives
/// `archive_dir` would bring back, the newest verified backup in `backups` (may be NULL:
/// `THYWILL_BACKUP_DIR`, else `backups/` beside the database), the archive's capability and
/// one verdict. Reads only. `options_json` (may be NULL): `{"max_backup_age_hours": 48,
/// "now": "2025-01-01T02:00:00", "time_zone": "utc", "path_prefix": "...", "scratch_dir":
/// "..."}`. Writes `{"entities", "capability", "backups", "readiness": "ready" | "partial" |
/// "not_ready", "reasons", ...}` to `*out_json`.
///
/// # Safety
/// String arguments are NULL (where allowed) or NUL-terminated; `out_json` is valid for
/// writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_recovery_report(
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
            let mut options: RecoveryReportOptions = options_arg(options_json, "options_json")?;
            options.backup_root = root_for(&database, backups);
            Ok(recovery::recovery_report(
                &archive_dir,
                &database,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}
