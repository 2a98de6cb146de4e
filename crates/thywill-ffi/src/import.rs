//! C bindings of `thywill_core::import`. Each import writes its report as JSON to
//! `*out_json` (free with `thywill_string_free`): `{"operation", "source", "database",
//! "dry_run", "entities": {name: {"inserted", "already_present", "updated", "deleted",
//! "skipped", "failed"}}, "failures": [{"entity", "file", "line"?, "record"?, "field"?,
//! "reason"}], "notes": [...]}`. `*out_failed` (may be NULL) is set to whether any record
//! failed. Errors that stop the whole import are statuses, as everywhere. Settings come in
//! one JSON options document (NULL for the defaults) read by serde into the core's option
//! type, as for every export that takes options.

use std::ffi::{c_char, c_void};

use serde::Serialize;

use thywill_core::import::{
    import_prayer_file, import_text_archive_phases, import_text_archives, ImportReport,
    JsonPrayersOptions, JsonPrayersPlan, Phase, PhaseImportReport, PrayerFileOptions,
    TextArchiveOptions,
};

use crate::guard::json_report_and;
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{options_arg, options_with_key, path_arg};

/// The report of `thywill_import_text_archives`: the whole import's, or with `"phases"`
/// the chosen phases' (with ThyWill's `recovery_stats`).
#[derive(Serialize)]
#[serde(untagged)]
enum TextArchivesReport {
    All(ImportReport),
    Phases(PhaseImportReport),
}

impl TextArchivesReport {
    fn has_failures(&self) -> bool {
        match self {
            TextArchivesReport::All(report) => report.has_failures(),
            TextArchivesReport::Phases(report) => report.import.has_failures(),
        }
    }
}

/// Imports text archives from a folder or a ZIP file (`source`) into the database `db`
/// (created with ThyWill's schema when missing). `options_json` (may be NULL): `{"dry_run":
/// bool, "time_zone": "local" | "utc" | "±HH:MM", "path_prefix": "text_archives",
/// "update_existing": bool (overwrite the text, generated prayer and project tag of existing
/// prayers from intact files), "zip_limits": {"max_bytes": N (default 4 GiB), "max_ratio": N
/// (default 100)}, "phases": ["users", "prayers", ...]}`; absent keys take their defaults,
/// unknown keys are `INVALID_INPUT`. With `phases` only those phases run (in import order;
/// `[]` runs them all; a phase whose prerequisites are neither listed nor in the database is
/// `INVALID_INPUT` and nothing is written) and the report is `{"phases", "import" (the import
/// report), "recovery_stats" (ThyWill's counters)}`. `progress` may be NULL.
///
/// # Safety
/// `source` and `db` are NUL-terminated strings, `options_json` is NULL or one; `out_json`
/// is valid for writes; `out_failed` is NULL or valid for writes; `progress` is NULL or
/// callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_import_text_archives(
    source: *const c_char,
    db: *const c_char,
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
            TextArchivesReport::has_failures,
            || {
                let source = path_arg(source, "source")?;
                let db = path_arg(db, "db")?;
                let (options, phases): (TextArchiveOptions, Option<Vec<Phase>>) = options_with_key(
                    options_json,
                    "options_json",
                    "phases",
                    "a list of phase names",
                )?;
                let progress = CProgress::new(progress, user_data);
                Ok(match phases {
                    None => TextArchivesReport::All(import_text_archives(
                        &source, &db, &options, &progress,
                    )?),
                    Some(phases) => TextArchivesReport::Phases(import_text_archive_phases(
                        &source, &db, &phases, &options, &progress,
                    )?),
                })
            },
        )
    }
}

/// Imports a JSON array of prayers (`file`) into `db`; one transaction, nothing
/// imported when a record is malformed (each bad record is in `failures`).
/// `options_json` (may be NULL): `{"dry_run": bool}`.
///
/// # Safety
/// As [`thywill_import_text_archives`].
#[no_mangle]
pub unsafe extern "C" fn thywill_import_prayers_json(
    file: *const c_char,
    db: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_failed: *mut bool,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report_and(out_json, out_failed, ImportReport::has_failures, || {
            let file = path_arg(file, "file")?;
            let db = path_arg(db, "db")?;
            let options: JsonPrayersOptions = options_arg(options_json, "options_json")?;
            Ok(JsonPrayersPlan::from_file(&file)?.apply(
                &db,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// Imports one prayer file into `db`. `options_json` (may be NULL): `{"dry_run": bool,
/// "update_existing": bool (overwrite an existing prayer's text, generated prayer and
/// project tag), "time_zone": "local" | "utc" | "±HH:MM", "path_prefix": "text_archives"}`.
///
/// # Safety
/// As [`thywill_import_text_archives`].
#[no_mangle]
pub unsafe extern "C" fn thywill_import_prayer_file(
    file: *const c_char,
    db: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_failed: *mut bool,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report_and(out_json, out_failed, ImportReport::has_failures, || {
            let file = path_arg(file, "file")?;
            let db = path_arg(db, "db")?;
            let options: PrayerFileOptions = options_arg(options_json, "options_json")?;
            Ok(import_prayer_file(
                &file,
                &db,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}
