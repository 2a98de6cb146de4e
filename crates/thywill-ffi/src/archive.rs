//! C exports of `thywill_core::archive`: file kinds, parsing to JSON, re-rendering and
//! `check_tree`.

use std::ffi::{c_char, c_void};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thywill_core::archive::kind::{self, FileKind};
use thywill_core::archive::{activity, ledger, prayer, users, Diagnostic};
use thywill_core::Error;

use crate::guard::{ffi_guard, FfiError, FfiResult};
use crate::progress::{thywill_progress_fn, CProgress};
use crate::status::thywill_status;
use crate::strings::{out_ptr, owned_c_string, path_arg, write_json};

/// The kind of a file given by any path: the longest trailing part of the path that
/// names a known kind wins (so absolute and `text_archives/...` paths work).
fn kind_of_path(path: &Path) -> FileKind {
    let parts: Vec<_> = path.components().collect();
    (1..=parts.len().min(5))
        .rev()
        .filter_map(|n| parts.get(parts.len() - n..))
        .map(|tail| kind::detect_kind(&tail.iter().collect::<PathBuf>()))
        .find(|k| *k != FileKind::Other)
        .unwrap_or(FileKind::Other)
}

/// `"prayer"`, `"user_registrations"`, `"ledger"`, ... (the serde name without data).
fn kind_name(kind: FileKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// What `thywill_archive_parse_file` returns.
#[derive(Serialize)]
struct ParsedFile {
    path: PathBuf,
    kind: String,
    records: Vec<serde_json::Value>,
    diagnostics: Vec<Diagnostic>,
}

fn collect<T: Serialize>(
    items: impl Iterator<Item = Result<T, Diagnostic>>,
    parsed: &mut ParsedFile,
) -> FfiResult {
    for item in items {
        match item {
            Ok(record) => parsed.records.push(
                serde_json::to_value(record)
                    .map_err(|e| FfiError::new(thywill_status::Internal, e.to_string()))?,
            ),
            Err(diagnostic) => parsed.diagnostics.push(diagnostic),
        }
    }
    Ok(())
}

fn parse_file(path: PathBuf) -> FfiResult<ParsedFile> {
    // A missing file is "not found" whatever its name says.
    std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
    let kind = kind_of_path(&path);
    let mut parsed = ParsedFile {
        kind: kind_name(kind),
        path,
        records: Vec::new(),
        diagnostics: Vec::new(),
    };
    let path = parsed.path.clone();
    let open = || {
        File::open(&path)
            .map(BufReader::new)
            .map_err(|e| Error::io(&path, e))
    };
    match kind {
        FileKind::Prayer => {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let (record, diagnostics) = prayer::parse_bytes(&bytes, Some(&path));
            collect(std::iter::once(Ok::<_, Diagnostic>(record)), &mut parsed)?;
            parsed.diagnostics = diagnostics;
        }
        FileKind::UserRegistrations => {
            collect(users::parse_monthly(open()?, Some(&path)), &mut parsed)?;
        }
        FileKind::ActivityLog => {
            collect(activity::parse_monthly(open()?, Some(&path)), &mut parsed)?;
        }
        FileKind::Ledger(ledger_kind) => collect(
            ledger::parse_monthly(ledger_kind, open()?, Some(&path)),
            &mut parsed,
        )?,
        other => {
            return Err(Error::InvalidInput(format!(
                "{}: no parser for {} files",
                path.display(),
                kind_name(other)
            ))
            .into())
        }
    }
    Ok(parsed)
}

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
/// `{"path", "kind", "records": [...], "diagnostics": [{"path","line","reason"}]}`. A prayer
/// file gives one record. Unreadable lines are diagnostics, not failures; a missing file is
/// `THYWILL_STATUS_NOT_FOUND`, a kind without a parser `THYWILL_STATUS_INVALID_INPUT`.
/// Free the JSON with `thywill_string_free`.
///
/// # Safety
/// `path` is a NUL-terminated string; `out_json` is valid for writes.
#[no_mangle]
pub unsafe extern "C" fn thywill_archive_parse_file(
    path: *const c_char,
    out_json: *mut *mut c_char,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let path = unsafe { path_arg(path, "path") }?;
        write_json(out, &parse_file(path)?)
    })
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
    ffi_guard(|| {
        // SAFETY: forwarded caller contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let root = unsafe { path_arg(root, "root") }?;
        let report = kind::check_tree(&root, &CProgress::new(progress, user_data))?;
        // SAFETY: NULL or valid for writes per the contract.
        if let Some(clean) = unsafe { out_clean.as_mut() } {
            *clean = report.is_clean();
        }
        write_json(out, &report)
    })
}
