//! C bindings of `thywill_core::download` (docs/downloads.md): a user's ZIP, the community
//! ZIP, a user's metadata, the community listing, one prayer's archive file and the cleanup
//! of old downloads. Each writes its report as JSON to `*out_json` (free with
//! `thywill_string_free`). Settings come in one JSON options document (NULL for the
//! defaults).

use std::ffi::{c_char, c_void};

use thywill_core::download::{
    cleanup_old_downloads, create_full_community_zip, create_user_archive_zip,
    get_user_archive_metadata, list_community_archives, prayer_archive_file,
    CleanupDownloadsOptions, CommunityZipOptions, MetadataOptions, PrayerArchiveFileOptions,
    UserZipOptions,
};

use crate::guard::json_report;
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{options_arg, path_arg, str_arg};

/// Writes the archive ZIP of the user `name` (display name) from `db` and the archive
/// folder `archives`. `options_json` (may be NULL): `{"include_community": bool (default
/// true), "out": path (default <archives>/downloads/<name>_archive_<date>.zip), "now":
/// "2025-06-15T10:30:00" (local; name, entry times), "compression_level": 0-9,
/// "path_prefix": "text_archives"}`. Report: `{"path", "file_name", "entry_count",
/// "entry_kinds": {"prayer_files", "activity_logs", "registration_files", "ledgers",
/// "foundational_prayers", "generated"}, "first_entries" (the first 16 names; the ZIP's
/// central directory has them all), "bytes", "excluded": {"flagged_prayer_files", "lines", "files"}, "skipped_paths": [{"owner",
/// "stored", "reason"}], "duration_ms"}`. `progress` may be NULL.
///
/// # Safety
/// `db`, `archives` and `name` are NUL-terminated strings, `options_json` is NULL or one;
/// `out_json` is valid for writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_download_user(
    db: *const c_char,
    archives: *const c_char,
    name: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let db = path_arg(db, "db")?;
            let archives = path_arg(archives, "archives")?;
            let name = str_arg(name, "name")?;
            let options: UserZipOptions = options_arg(options_json, "options_json")?;
            Ok(create_user_archive_zip(
                &db,
                &archives,
                name,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// Writes the community ZIP: no flagged prayers and, unless asked, nobody's marks or
/// skips. `options_json` (may be NULL): `{"include_prayer_activity": bool, "out": path,
/// "now": "…", "compression_level": 0-9}`. Report as [`thywill_download_user`]'s.
///
/// # Safety
/// As [`thywill_download_user`], without `name`.
#[no_mangle]
pub unsafe extern "C" fn thywill_download_community(
    db: *const c_char,
    archives: *const c_char,
    options_json: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let db = path_arg(db, "db")?;
            let archives = path_arg(archives, "archives")?;
            let options: CommunityZipOptions = options_arg(options_json, "options_json")?;
            Ok(create_full_community_zip(
                &db,
                &archives,
                &options,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// The archive metadata of the user `name`, in ThyWill's shape: `{"user", "prayers",
/// "activities", "archive_statistics"}`, paths relative to `archives`. `options_json` (may
/// be NULL): `{"path_prefix": "text_archives"}`.
///
/// # Safety
/// `db`, `archives` and `name` are NUL-terminated strings, `options_json` is NULL or one;
/// `out_json` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_download_user_metadata(
    db: *const c_char,
    archives: *const c_char,
    name: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let db = path_arg(db, "db")?;
            let archives = path_arg(archives, "archives")?;
            let name = str_arg(name, "name")?;
            let options: MetadataOptions = options_arg(options_json, "options_json")?;
            Ok(get_user_archive_metadata(&db, &archives, name, &options)?)
        })
    }
}

/// The community archives of `archives`: `{"archives": [{"type", "period", "path",
/// "file_count", "compressed"}]}`, newest first, paths relative to `archives`. A prayer
/// month's "file_count" leaves out the prayers `db` marks flagged, as the community ZIP does.
///
/// # Safety
/// `db` and `archives` are NUL-terminated strings; `out_json` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_download_list_community(
    db: *const c_char,
    archives: *const c_char,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let db = path_arg(db, "db")?;
            let archives = path_arg(archives, "archives")?;
            Ok(list_community_archives(&db, &archives)?)
        })
    }
}

/// The archive file of the prayer `prayer_id`: `{"prayer_id", "path" (resolved, inside
/// `archives`), "file_name", "size", "content", "excluded_lines"}`; serve "content" when it
/// is not null (the file without who flagged, unflagged or skipped the prayer), else the
/// file at "path". `THYWILL_STATUS_PERMISSION` when the stored path leaves the archive
/// folder or the prayer is flagged; `options_json` (may be NULL): `{"include_flagged":
/// bool, "include_moderation": bool (the file as it is, for a moderator), "path_prefix":
/// "text_archives"}`.
///
/// # Safety
/// `db`, `archives` and `prayer_id` are NUL-terminated strings, `options_json` is NULL or
/// one; `out_json` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_download_prayer_file(
    db: *const c_char,
    archives: *const c_char,
    prayer_id: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let db = path_arg(db, "db")?;
            let archives = path_arg(archives, "archives")?;
            let prayer_id = str_arg(prayer_id, "prayer_id")?;
            let options: PrayerArchiveFileOptions = options_arg(options_json, "options_json")?;
            Ok(prayer_archive_file(&db, &archives, prayer_id, &options)?)
        })
    }
}

/// Removes download ZIPs of ours older than the limit from `<archives>/downloads/`.
/// `options_json` (may be NULL): `{"max_age_seconds": N (default 86400), "dry_run": bool,
/// "every_zip": bool (every regular *.zip file, as ThyWill's cleanup)}`.
/// Report: `{"downloads_dir", "dry_run", "max_age_seconds", "removed": [{"path", "bytes",
/// "age_seconds"}], "removed_bytes", "kept", "ignored"}`.
///
/// # Safety
/// `archives` is a NUL-terminated string, `options_json` is NULL or one; `out_json` is
/// valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_download_cleanup(
    archives: *const c_char,
    options_json: *const c_char,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let archives = path_arg(archives, "archives")?;
            let options: CleanupDownloadsOptions = options_arg(options_json, "options_json")?;
            Ok(cleanup_old_downloads(&archives, &options)?)
        })
    }
}
