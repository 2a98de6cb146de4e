//! C bindings of `thywill_core::import`. Each import writes its report as JSON to
//! `*out_json` (free with `thywill_string_free`): `{"operation", "source", "database",
//! "dry_run", "entities": {name: {"inserted", "already_present", "updated", "deleted",
//! "skipped", "failed"}}, "failures": [{"entity", "file", "line"?, "record"?, "field"?,
//! "reason"}], "notes": [...]}`. `*out_failed` (may be NULL) is set to whether any record
//! failed. Errors that stop the whole import are statuses, as everywhere.

use std::ffi::{c_char, c_void};

use serde::Deserialize;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    import_prayer_file, import_text_archives, ImportReport, JsonPrayersOptions, JsonPrayersPlan,
    PrayerFileOptions, TextArchiveOptions, ZipLimits,
};
use thywill_core::Error;

use crate::backup::options_arg;
use crate::guard::{ffi_guard, FfiResult};
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{out_ptr, path_arg, str_arg, write_json};

/// Reads the optional time-zone argument: NULL means local time.
///
/// # Safety
/// As [`str_arg`].
unsafe fn zone_arg(ptr: *const c_char) -> FfiResult<ArchiveTimeZone> {
    if ptr.is_null() {
        return Ok(ArchiveTimeZone::Local);
    }
    // SAFETY: forwarded caller contract.
    let text = unsafe { str_arg(ptr, "time_zone") }?;
    Ok(ArchiveTimeZone::parse(text).ok_or_else(|| {
        Error::InvalidInput(format!("time_zone {text:?}: expected local, utc or ±HH:MM"))
    })?)
}

/// Writes the report and the failed flag.
///
/// # Safety
/// `out_failed` is NULL or valid for writes.
unsafe fn finish(out: &mut *mut c_char, out_failed: *mut bool, report: &ImportReport) -> FfiResult {
    // SAFETY: NULL or valid for writes per the contract.
    if let Some(failed) = unsafe { out_failed.as_mut() } {
        *failed = report.has_failures();
    }
    write_json(out, report)
}

/// Imports text archives from a folder or a ZIP file (`source`) into the database `db`
/// (created with ThyWill's schema when missing). `time_zone` is NULL (local), `"utc"` or
/// `"±HH:MM"`. `progress` may be NULL.
///
/// # Safety
/// `source` and `db` are NUL-terminated strings, `time_zone` is NULL or one; `out_json` is
/// valid for writes; `out_failed` is NULL or valid for writes; `progress` is NULL or
/// callable with `user_data`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn thywill_import_text_archives(
    source: *const c_char,
    db: *const c_char,
    dry_run: bool,
    time_zone: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_failed: *mut bool,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let source = unsafe { path_arg(source, "source") }?;
        let db = unsafe { path_arg(db, "db") }?;
        let options = TextArchiveOptions {
            dry_run,
            time_zone: unsafe { zone_arg(time_zone) }?,
            ..TextArchiveOptions::default()
        };
        let report =
            import_text_archives(&source, &db, &options, &CProgress::new(progress, user_data))?;
        unsafe { finish(out, out_failed, &report) }
    })
}

/// Options of `thywill_import_text_archives_with_options`.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct TextArchivesJson {
    dry_run: bool,
    time_zone: Option<String>,
    path_prefix: Option<String>,
    update_existing: bool,
    max_zip_bytes: Option<u64>,
    max_zip_ratio: Option<u64>,
}

/// [`thywill_import_text_archives`] with every option: `options_json` (may be NULL) is
/// `{"dry_run": bool, "time_zone": "local"|"utc"|"±HH:MM", "path_prefix": "text_archives",
/// "update_existing": bool (overwrite the text, generated prayer and project tag of existing
/// prayers from intact files), "max_zip_bytes": N (default 4 GiB), "max_zip_ratio": N
/// (default 100)}`; absent keys take their defaults, unknown keys are `INVALID_INPUT`.
///
/// # Safety
/// `source` and `db` are NUL-terminated strings, `options_json` is NULL or one; `out_json`
/// is valid for writes; `out_failed` is NULL or valid for writes; `progress` is NULL or
/// callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_import_text_archives_with_options(
    source: *const c_char,
    db: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_failed: *mut bool,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let source = unsafe { path_arg(source, "source") }?;
        let db = unsafe { path_arg(db, "db") }?;
        let extra: TextArchivesJson = unsafe { options_arg(options_json, "options_json") }?;
        let time_zone = match extra.time_zone.as_deref() {
            None => ArchiveTimeZone::Local,
            Some(text) => ArchiveTimeZone::parse(text).ok_or_else(|| {
                Error::InvalidInput(format!("time_zone {text:?}: expected local, utc or ±HH:MM"))
            })?,
        };
        let defaults = TextArchiveOptions::default();
        let options = TextArchiveOptions {
            dry_run: extra.dry_run,
            time_zone,
            path_prefix: extra.path_prefix.unwrap_or(defaults.path_prefix),
            update_existing: extra.update_existing,
            zip_limits: ZipLimits {
                max_bytes: extra.max_zip_bytes.unwrap_or(defaults.zip_limits.max_bytes),
                max_ratio: extra.max_zip_ratio.unwrap_or(defaults.zip_limits.max_ratio),
            },
        };
        let report =
            import_text_archives(&source, &db, &options, &CProgress::new(progress, user_data))?;
        unsafe { finish(out, out_failed, &report) }
    })
}

/// Imports a JSON array of prayers (`file`) into `db`; one transaction, nothing
/// imported when a record is malformed (each bad record is in `failures`).
///
/// # Safety
/// As [`thywill_import_text_archives`].
#[no_mangle]
pub unsafe extern "C" fn thywill_import_prayers_json(
    file: *const c_char,
    db: *const c_char,
    dry_run: bool,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_failed: *mut bool,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let file = unsafe { path_arg(file, "file") }?;
        let db = unsafe { path_arg(db, "db") }?;
        let report = JsonPrayersPlan::from_file(&file)?.apply(
            &db,
            &JsonPrayersOptions { dry_run },
            &CProgress::new(progress, user_data),
        )?;
        unsafe { finish(out, out_failed, &report) }
    })
}

/// Imports one prayer file into `db`; `update_existing` overwrites an existing prayer's
/// text, generated prayer and project tag.
///
/// # Safety
/// As [`thywill_import_text_archives`].
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn thywill_import_prayer_file(
    file: *const c_char,
    db: *const c_char,
    dry_run: bool,
    update_existing: bool,
    time_zone: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_failed: *mut bool,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let file = unsafe { path_arg(file, "file") }?;
        let db = unsafe { path_arg(db, "db") }?;
        let options = PrayerFileOptions {
            dry_run,
            update_existing,
            time_zone: unsafe { zone_arg(time_zone) }?,
            ..PrayerFileOptions::default()
        };
        let report =
            import_prayer_file(&file, &db, &options, &CProgress::new(progress, user_data))?;
        unsafe { finish(out, out_failed, &report) }
    })
}
