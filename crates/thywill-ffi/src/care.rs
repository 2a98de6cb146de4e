//! C bindings of archive care (`thywill_core::recovery`): heal, sync-archives, sync-users,
//! validate, the repair of missing archive references and the relationship integrity counts.
//! Each writes its report as JSON to `*out_json` (free with `thywill_string_free`); the
//! settings come in one JSON options document (NULL for the defaults; unknown keys are
//! `INVALID_INPUT`), read by serde into the core's option type.

use std::ffi::{c_char, c_void};

use thywill_core::recovery::heal::{heal_archives, HealOptions, HealReport};
use thywill_core::recovery::sync::{sync_archives, SyncOptions, SyncReport};
use thywill_core::recovery::sync_users::sync_users;
use thywill_core::recovery::validate::{validate_archives, ValidateOptions, ValidateReport};
use thywill_core::recovery::{
    relationship_integrity, repair_archive_references, RepairReferencesOptions,
    RepairReferencesReport,
};

use crate::guard::{json_report, json_report_and};
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{options_arg, path_arg};

/// Writes the archive files and lines missing for the records of the database `db` into
/// the archive at `archives`: prayer files with their activity (a stale file rewritten in
/// place), registrations, marks/skips/attributes ledgers, invite usage. `options_json`
/// (may be NULL): `{"dry_run": bool, "time_zone": "local" | "utc" | "±HH:MM",
/// "path_prefix": "text_archives", "ledgers": "auto" | "always" | "never"}`. The report:
/// `{"dry_run", "database", "archive_root", "prayers": {"total", "healed", "healthy",
/// "files_created", "files_rewritten", "paths_updated", "activity_lines_written"}, "users":
/// {...}, "ledgers": [...], "invite_usage": {...}, "changes": [{"kind", "record", "path",
/// "detail"}], "notes": [...]}`. `*out_changed` (may be NULL): whether anything was (or,
/// dry, would be) written.
///
/// # Safety
/// `db` and `archives` are NUL-terminated strings, `options_json` is NULL or one;
/// `out_json` is valid for writes; `out_changed` is NULL or valid for writes; `progress` is
/// NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_heal_archives(
    db: *const c_char,
    archives: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_changed: *mut bool,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report_and(out_json, out_changed, HealReport::changed_anything, || {
            let db = path_arg(db, "db")?;
            let archives = path_arg(archives, "archives")?;
            let options: HealOptions = options_arg(options_json, "options_json")?;
            Ok(heal_archives(
                &db,
                &archives,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// Brings the database `db` and the archive folder `archives` level in both directions:
/// imports what only the archives hold, heals what only the database holds, then validates
/// (a real run only). A record both hold with different content changes on neither side.
/// `options_json` (may be NULL): `{"dry_run": bool, "time_zone": ..., "path_prefix": ...,
/// "ledgers": ..., "scratch_dir": "/path"}` (a dry run works on a scratch copy of the
/// database). The report: `{"dry_run", "database", "archive_root", "database_created",
/// "import": {...}, "heal": {...}, "validation": {...} | null, "duration_ms"}`.
/// `*out_changed` (may be NULL): whether anything was (or, dry, would be) changed.
///
/// # Safety
/// As [`thywill_heal_archives`].
#[no_mangle]
pub unsafe extern "C" fn thywill_sync_archives(
    db: *const c_char,
    archives: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_changed: *mut bool,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report_and(out_json, out_changed, SyncReport::changed_anything, || {
            let db = path_arg(db, "db")?;
            let archives = path_arg(archives, "archives")?;
            let options: SyncOptions = options_arg(options_json, "options_json")?;
            Ok(sync_archives(
                &archives,
                &db,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// The registration lines alone (`sync-users`): the options and report of
/// [`thywill_heal_archives`] (only the user counts are filled; `ledgers` is not used).
///
/// # Safety
/// As [`thywill_heal_archives`].
#[no_mangle]
pub unsafe extern "C" fn thywill_sync_users(
    db: *const c_char,
    archives: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_changed: *mut bool,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report_and(out_json, out_changed, HealReport::changed_anything, || {
            let db = path_arg(db, "db")?;
            let archives = path_arg(archives, "archives")?;
            let options: HealOptions = options_arg(options_json, "options_json")?;
            Ok(sync_users(
                &db,
                &archives,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// Checks the archive at `archives` and the database `db` against each other, read-only.
/// `options_json` (may be NULL): `{"time_zone": ..., "path_prefix": ..., "ledgers": ...}` as
/// for [`thywill_heal_archives`]. The report: `{"database", "archive_root", "counts",
/// "check", "problems_by_kind": {kind: n}, "problems": [{"kind", "file", "line", "record",
/// "detail", "healable"}], "notes"}`. `*out_problems` (may be NULL): whether any problem was
/// found.
///
/// # Safety
/// As [`thywill_heal_archives`], with `out_problems` for `out_changed`.
#[no_mangle]
pub unsafe extern "C" fn thywill_validate_archives(
    db: *const c_char,
    archives: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_problems: *mut bool,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report_and(
            out_json,
            out_problems,
            |r: &ValidateReport| !r.is_clean(),
            || {
                let db = path_arg(db, "db")?;
                let archives = path_arg(archives, "archives")?;
                let options: ValidateOptions = options_arg(options_json, "options_json")?;
                Ok(validate_archives(
                    &db,
                    &archives,
                    &options,
                    &CProgress::new(progress, user_data),
                )?)
            },
        )
    }
}

/// Sets `text_file_path` of each prayer of the database `db` that has none (NULL or empty)
/// to the file of the archive at `archives` whose title names the prayer; writes no file.
/// `options_json` (may be NULL): `{"dry_run": bool, "path_prefix": "text_archives"}`. The
/// report: `{"dry_run", "database", "archive_root", "prayers_without_path", "repaired":
/// [{"prayer_id", "file", "stored"}], "without_file": [id], "notes"}`. `*out_changed` (may
/// be NULL): whether any path was (or, dry, would be) set.
///
/// # Safety
/// As [`thywill_heal_archives`].
#[no_mangle]
pub unsafe extern "C" fn thywill_repair_archive_references(
    db: *const c_char,
    archives: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_changed: *mut bool,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report_and(
            out_json,
            out_changed,
            RepairReferencesReport::changed_anything,
            || {
                let db = path_arg(db, "db")?;
                let archives = path_arg(archives, "archives")?;
                let options: RepairReferencesOptions = options_arg(options_json, "options_json")?;
                Ok(repair_archive_references(
                    &db,
                    &archives,
                    &options,
                    &CProgress::new(progress, user_data),
                )?)
            },
        )
    }
}

/// Counts the rows of the database `db` that name a user it lacks, read-only. The report:
/// `{"database", "prayers_without_author", "users_with_missing_inviter",
/// "role_grants_without_user"}` (a table the database lacks counts 0).
///
/// # Safety
/// `db` is a NUL-terminated string; `out_json` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_relationship_integrity(
    db: *const c_char,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            Ok(relationship_integrity(path_arg(db, "db")?)?)
        })
    }
}
