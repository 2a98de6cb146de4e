//! C exports of `thywill_core::archive`: file kinds, parsing to JSON, re-rendering,
//! `check_tree` and the archive writer handle.

use std::ffi::{c_char, c_void};

use thywill_core::archive::parsed::{kind_name, kind_of_path, parse_file};
use thywill_core::archive::prayer::{self, ActivityAction};
use thywill_core::archive::writer::{ArchiveWriter, Clock};
use thywill_core::archive::{check, kind};
use thywill_core::Error;

use crate::guard::{ffi_guard, ffi_guard_void, json_report, json_report_and, FfiError, FfiResult};
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{
    opt_str_arg, out_ptr, owned_c_string, path_arg, str_arg, time_arg, write_path,
};

/// Writes the kind of the file at `path` (relative, absolute or under `text_archives/`)
/// to `*out_kind`, e.g. `"prayer"`, `"user_registrations"`, `"ledger"`, `"other"`.
/// Free it with `thywill_string_free`.
///
/// # Safety
/// `path` is a NUL-terminated string; `out_kind` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_file_kind(
    path: *const c_char,
    out_kind: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_kind, "out_kind") }?;
        let path = unsafe { path_arg(path, "path") }?;
        *out = owned_c_string(kind_name(kind_of_path(&path)))?;
        Ok(())
    })
}

/// Parses the archive file at `path` (kind from its path) and writes JSON to `*out_json`:
/// `{"path", "kind", "record_count", "content", "diagnostics": [{"path","line","reason"}]}`, where `content`
/// is the prayer record, `{"records": [...]}` for monthly users/activity/ledger files, or the
/// file's structure for the other kinds. Unreadable lines are diagnostics, not failures; a
/// missing file is `THYWILL_STATUS_NOT_FOUND`, an unknown kind `THYWILL_STATUS_INVALID_INPUT`.
/// Free the JSON with `thywill_string_free`.
///
/// # Safety
/// `path` is a NUL-terminated string; `out_json` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_parse_file(
    path: *const c_char,
    out_json: *mut *mut c_char,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report(out_json, || {
            let path = path_arg(path, "path")?;
            Ok(parse_file(&path)?)
        })
    }
}

/// Parses the archive file at `path` and renders it back as ThyWill writes it, into
/// `*out_text` (equal to the file's bytes when the file is canonical). Free it with
/// `thywill_string_free`.
///
/// # Safety
/// `path` is a NUL-terminated string; `out_text` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_rerender_file(
    path: *const c_char,
    out_text: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_text, "out_text") }?;
        let path = unsafe { path_arg(path, "path") }?;
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let (rendered, _diagnostics) = kind::rerender(kind_of_path(&path), &bytes, Some(&path))?;
        let text = String::from_utf8(rendered)
            .map_err(|e| FfiError::new(thywill_status::Internal, e.to_string()))?;
        *out = owned_c_string(text)?;
        Ok(())
    })
}

/// Re-renders every file under `root` and writes the report as JSON to `*out_json`:
/// `{"files_checked", "files_identical", "files_skipped", "problems": [{"path", "kind",
/// "first_differing_line", "diagnostics", "error"}]}`. `*out_clean` (may be NULL) is set
/// to whether no file differs. `progress` may be NULL. Free the JSON with
/// `thywill_string_free`.
///
/// # Safety
/// `root` is a NUL-terminated string; `out_json` is valid for writes; `out_clean` is NULL
/// or valid for writes; `progress` is NULL or callable with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_check_tree(
    root: *const c_char,
    progress: thywill_progress_fn,
    user_data: *mut c_void,
    out_json: *mut *mut c_char,
    out_clean: *mut bool,
) -> thywill_status {
    // SAFETY: forwarded caller contract.
    unsafe {
        json_report_and(out_json, out_clean, check::CheckReport::is_clean, || {
            let root = path_arg(root, "root")?;
            Ok(check::check_tree(
                &root,
                &CProgress::new(progress, user_data),
            )?)
        })
    }
}

/// An archive writer (ThyWill's archive-first write API) for one base folder.
/// Create with `thywill_archive_writer_new`, release with `thywill_archive_writer_free`.
pub struct thywill_archive_writer {
    inner: ArchiveWriter,
}

/// Borrows the writer behind a handle.
///
/// # Safety
/// `writer` is NULL or a live handle from `thywill_archive_writer_new`.
unsafe fn writer_ref<'a>(writer: *const thywill_archive_writer) -> FfiResult<&'a ArchiveWriter> {
    // SAFETY: per the contract.
    unsafe { writer.as_ref() }
        .map(|w| &w.inner)
        .ok_or_else(|| FfiError::null("writer"))
}

/// Creates a writer for `base_dir` (enabled, local-time clock). When `now` is not NULL it
/// fixes the clock to that ISO 8601 time (deterministic output). Free it with
/// `thywill_archive_writer_free`.
///
/// # Safety
/// `base_dir` is a NUL-terminated string; `now` is NULL or one; `out_writer` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_writer_new(
    base_dir: *const c_char,
    now: *const c_char,
    out_writer: *mut *mut thywill_archive_writer,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_writer, "out_writer") }?;
        let base_dir = unsafe { path_arg(base_dir, "base_dir") }?;
        let now = unsafe { time_arg(now, "now") }?;
        let mut inner = ArchiveWriter::new(base_dir);
        if let Some(now) = now {
            inner = inner.with_clock(Clock::Fixed(now));
        }
        *out = Box::into_raw(Box::new(thywill_archive_writer { inner }));
        Ok(())
    })
}

/// Releases a writer. NULL is ignored.
///
/// # Safety
/// `writer` is NULL or a handle from `thywill_archive_writer_new` not freed yet.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_writer_free(writer: *mut thywill_archive_writer) {
    ffi_guard_void(|| {
        if !writer.is_null() {
            // SAFETY: the handle came from Box::into_raw in thywill_archive_writer_new.
            drop(unsafe { Box::from_raw(writer) });
        }
    });
}

/// Creates the base folder and `prayers/`, `users/`, `activity/`.
///
/// # Safety
/// `writer` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_writer_ensure_dirs(
    writer: *const thywill_archive_writer,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        Ok(unsafe { writer_ref(writer) }?.ensure_dirs()?)
    })
}

/// Writes a new prayer file as ThyWill's archive-first submission does (same-minute
/// collision suffixes `_2`, `_3`, ...). `created_at` is ISO 8601 (NULL = now);
/// `project_tag` may be NULL. `*out_path` (if `out_path` is not NULL) gets the file's path.
///
/// # Safety
/// `writer` is a live handle; strings are NUL-terminated (or NULL where allowed);
/// `out_path` is NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_writer_create_prayer(
    writer: *const thywill_archive_writer,
    id: *const c_char,
    author: *const c_char,
    created_at: *const c_char,
    text: *const c_char,
    project_tag: *const c_char,
    out_path: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let writer = unsafe { writer_ref(writer) }?;
        let id = unsafe { str_arg(id, "id") }?;
        let author = unsafe { str_arg(author, "author") }?;
        let created_at = unsafe { time_arg(created_at, "created_at") }?;
        let text = unsafe { str_arg(text, "text") }?;
        let project_tag = unsafe { opt_str_arg(project_tag, "project_tag") }?;
        let t = created_at.unwrap_or_else(|| writer.clock.now());
        let mut record = prayer::PrayerArchive::new(id, author, t, text);
        record.project_tag = project_tag.map(str::to_owned);
        let path = writer.create_prayer_archive_first(&record)?;
        // SAFETY: forwarded caller contract.
        unsafe { write_path(out_path, path) }
    })
}

/// Appends an activity line to the prayer file `file`, chosen as ThyWill's
/// `append_prayer_activity(action, actor, extra)` does (`"prayed"`, `"answered"`,
/// `"testimony"` with `extra`, `"archived"`, ...). `extra` and `at` (ISO 8601) may be NULL.
///
/// # Safety
/// `writer` is a live handle; strings are NUL-terminated (or NULL where allowed).
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_writer_append_prayer_activity(
    writer: *const thywill_archive_writer,
    file: *const c_char,
    actor: *const c_char,
    action: *const c_char,
    extra: *const c_char,
    at: *const c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let writer = unsafe { writer_ref(writer) }?;
        let file = unsafe { path_arg(file, "file") }?;
        let actor = unsafe { str_arg(actor, "actor") }?;
        let action = unsafe { str_arg(action, "action") }?;
        let extra = unsafe { opt_str_arg(extra, "extra") }?;
        let at = unsafe { time_arg(at, "at") }?;
        let action = ActivityAction::from_thywill(action, extra, None, None);
        let t = at.unwrap_or_else(|| writer.clock.now());
        Ok(writer.append_prayer_activity_at(&file, actor, &action, t)?)
    })
}

/// Appends a registration to `users/YYYY_MM_users.txt`. `invite_source` NULL or empty
/// writes "joined directly"; `at` (ISO 8601) may be NULL.
///
/// # Safety
/// `writer` is a live handle; strings are NUL-terminated (or NULL where allowed);
/// `out_path` is NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_writer_append_user_registration(
    writer: *const thywill_archive_writer,
    name: *const c_char,
    invite_source: *const c_char,
    at: *const c_char,
    out_path: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let writer = unsafe { writer_ref(writer) }?;
        let name = unsafe { str_arg(name, "name") }?;
        let invite_source = unsafe { opt_str_arg(invite_source, "invite_source") }?;
        let at = unsafe { time_arg(at, "at") }?;
        let t = at.unwrap_or_else(|| writer.clock.now());
        let path = writer.append_user_registration_with_timestamp(name, invite_source, t)?;
        // SAFETY: forwarded caller contract.
        unsafe { write_path(out_path, path) }
    })
}

/// Appends to `activity/activity_YYYY_MM.txt`: `action` is ThyWill's text (e.g.
/// `"submitted prayer abc"`); `prayer_id`, `tag` and `at` may be NULL.
///
/// # Safety
/// `writer` is a live handle; strings are NUL-terminated (or NULL where allowed);
/// `out_path` is NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_writer_append_monthly_activity(
    writer: *const thywill_archive_writer,
    action: *const c_char,
    user: *const c_char,
    prayer_id: *const c_char,
    tag: *const c_char,
    at: *const c_char,
    out_path: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let writer = unsafe { writer_ref(writer) }?;
        let action = unsafe { str_arg(action, "action") }?;
        let user = unsafe { str_arg(user, "user") }?;
        let prayer_id = unsafe { opt_str_arg(prayer_id, "prayer_id") }?;
        let tag = unsafe { opt_str_arg(tag, "tag") }?;
        let at = unsafe { time_arg(at, "at") }?;
        let t = at.unwrap_or_else(|| writer.clock.now());
        let path = writer.append_monthly_activity_at(action, user, prayer_id, tag, t)?;
        // SAFETY: forwarded caller contract.
        unsafe { write_path(out_path, path) }
    })
}

/// Which monthly prayer ledger `thywill_archive_writer_append_ledger` writes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum thywill_ledger {
    /// `prayers/marks/YYYY_MM_marks.txt` (`name`, `value` ignored).
    Marks = 0,
    /// `prayers/skips/YYYY_MM_skips.txt` (`name`, `value` ignored).
    Skips = 1,
    /// `prayers/attributes/YYYY_MM_attributes.txt` (`name`, `value` required; NULL `user`
    /// writes `system`).
    Attributes = 2,
}

/// Appends a record to a monthly prayer ledger. `at` (ISO 8601) may be NULL (now).
///
/// # Safety
/// `writer` is a live handle; `ledger` is a `thywill_ledger` value; strings are
/// NUL-terminated (or NULL where allowed); `out_path` is NULL or valid for writes.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // one entry point for the three ledgers
pub unsafe extern "C" fn thywill_archive_writer_append_ledger(
    writer: *const thywill_archive_writer,
    ledger: u32,
    prayer_id: *const c_char,
    user: *const c_char,
    name: *const c_char,
    value: *const c_char,
    at: *const c_char,
    out_path: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let writer = unsafe { writer_ref(writer) }?;
        let prayer_id = unsafe { str_arg(prayer_id, "prayer_id") }?;
        let user = unsafe { opt_str_arg(user, "user") }?;
        let at = unsafe { time_arg(at, "at") }?;
        let path = if ledger == thywill_ledger::Attributes as u32 {
            let name = unsafe { str_arg(name, "name") }?;
            let value = unsafe { str_arg(value, "value") }?;
            writer.append_prayer_attribute(prayer_id, name, value, user, at)?
        } else {
            let user = user.ok_or_else(|| FfiError::null("user"))?;
            if ledger == thywill_ledger::Marks as u32 {
                writer.append_prayer_mark(prayer_id, user, at)?
            } else if ledger == thywill_ledger::Skips as u32 {
                writer.append_prayer_skip(prayer_id, user, at)?
            } else {
                return Err(Error::InvalidInput(format!("unknown ledger {ledger}")).into());
            }
        };
        // SAFETY: forwarded caller contract.
        unsafe { write_path(out_path, path) }
    })
}
