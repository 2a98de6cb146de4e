//! Strings across the boundary: UTF-8 arguments in, owned JSON strings out.

use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;

use chrono::NaiveDateTime;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::guard::{ffi_guard_void, FfiError, FfiResult};
use crate::status::thywill_status;
use thywill_core::Error;

/// Reads a required NUL-terminated UTF-8 argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for the call.
pub unsafe fn str_arg<'a>(ptr: *const c_char, argument: &str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(FfiError::null(argument));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str().map_err(|e| {
        FfiError::new(
            thywill_status::InvalidUtf8,
            format!(
                "{argument} is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        )
    })
}

/// Reads a required path argument (UTF-8, like every string of this API).
///
/// # Safety
/// As [`str_arg`].
pub unsafe fn path_arg(ptr: *const c_char, argument: &str) -> FfiResult<PathBuf> {
    // SAFETY: forwarded contract.
    unsafe { str_arg(ptr, argument) }.map(PathBuf::from)
}

/// Checks an output pointer and sets `*out` to NULL so the caller never sees
/// garbage after a failure.
///
/// # Safety
/// `out` is NULL or valid for writes.
pub unsafe fn out_ptr<'a, T>(out: *mut *mut T, argument: &str) -> FfiResult<&'a mut *mut T> {
    // SAFETY: valid for writes per the caller's contract when non-NULL.
    let out = unsafe { out.as_mut() }.ok_or_else(|| FfiError::null(argument))?;
    *out = std::ptr::null_mut();
    Ok(out)
}

/// Reads an optional timestamp argument: NULL means "now" on the writer's clock, else
/// ISO 8601 without zone (`2025-07-06T09:05`, seconds optional, `T` or space).
///
/// # Safety
/// As [`str_arg`].
pub unsafe fn time_arg(ptr: *const c_char, argument: &str) -> FfiResult<Option<NaiveDateTime>> {
    // SAFETY: forwarded caller contract.
    let Some(text) = (unsafe { opt_str_arg(ptr, argument) })? else {
        return Ok(None);
    };
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .map(Some)
    .ok_or_else(|| {
        Error::InvalidInput(format!(
            "{argument}: {text:?} is not an ISO 8601 date and time (e.g. 2025-07-06T09:05)"
        ))
        .into()
    })
}

/// Reads an options document: a JSON object deserialized by serde into the core's option
/// type `T` (its fields, each optional; unknown keys refused), NULL meaning every default.
/// Invalid JSON, an unknown key or a value the core refuses is `INVALID_INPUT`.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string.
pub unsafe fn options_arg<T: DeserializeOwned>(ptr: *const c_char, argument: &str) -> FfiResult<T> {
    // SAFETY: forwarded caller contract.
    let text = unsafe { opt_str_arg(ptr, argument) }?.unwrap_or("{}");
    serde_json::from_str(text).map_err(|e| invalid_options(argument, &e))
}

/// Reads an options document whose `"remotes"` key (a list of remote specs, as the CLI's
/// `--remote` takes them) is for the front end and every other key for the core's option
/// type `T`, as [`options_arg`] reads them.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string.
pub unsafe fn options_with_remotes<T: DeserializeOwned>(
    ptr: *const c_char,
    argument: &str,
) -> FfiResult<(T, Vec<String>)> {
    // SAFETY: forwarded caller contract.
    let (options, remotes) =
        unsafe { options_with_key(ptr, argument, "remotes", "a list of remote strings") }?;
    Ok((options, remotes.unwrap_or_default()))
}

/// Reads an options document whose `key` is for the front end (read as `K`, described as
/// `what` in the error) and every other key for the core's option type `T`, as
/// [`options_arg`] reads them. `None` when the document has no `key`.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string.
pub unsafe fn options_with_key<T: DeserializeOwned, K: DeserializeOwned>(
    ptr: *const c_char,
    argument: &str,
    key: &str,
    what: &str,
) -> FfiResult<(T, Option<K>)> {
    // SAFETY: forwarded caller contract.
    let text = unsafe { opt_str_arg(ptr, argument) }?.unwrap_or("{}");
    let mut document: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| invalid_options(argument, &e))?;
    let extra = match document.remove(key) {
        None => None,
        Some(value) => Some(serde_json::from_value(value).map_err(|e| {
            FfiError::new(
                thywill_status::InvalidInput,
                format!("{argument}: \"{key}\" must be {what}: {e}"),
            )
        })?),
    };
    let options = serde_json::from_value(serde_json::Value::Object(document))
        .map_err(|e| invalid_options(argument, &e))?;
    Ok((options, extra))
}

fn invalid_options(argument: &str, error: &serde_json::Error) -> FfiError {
    FfiError::new(
        thywill_status::InvalidInput,
        format!("{argument}: not valid options: {error}"),
    )
}

/// Reads an optional string argument (NULL gives `None`).
///
/// # Safety
/// As [`str_arg`].
pub unsafe fn opt_str_arg<'a>(ptr: *const c_char, argument: &str) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded caller contract.
        unsafe { str_arg(ptr, argument) }.map(Some)
    }
}

/// Writes a written file's path to an optional `char **out_path` (NULL when nothing was written).
///
/// # Safety
/// `out_path` is NULL or valid for writes.
pub unsafe fn write_path(out_path: *mut *mut c_char, path: Option<PathBuf>) -> FfiResult {
    // SAFETY: per the contract.
    if let Some(out) = unsafe { out_path.as_mut() } {
        *out = match path {
            Some(p) => owned_c_string(p.to_string_lossy().into_owned())?,
            None => std::ptr::null_mut(),
        };
    }
    Ok(())
}

/// Turns a Rust string into an owned C string for `thywill_string_free`.
pub fn owned_c_string(text: String) -> FfiResult<*mut c_char> {
    CString::new(text)
        .map(CString::into_raw)
        .map_err(|_| FfiError::new(thywill_status::Internal, "result contains a NUL byte"))
}

/// Serialises `value` as JSON into `*out_json` (an owned string).
pub fn write_json<T: Serialize + ?Sized>(out_json: &mut *mut c_char, value: &T) -> FfiResult {
    let text = serde_json::to_string(value)
        .map_err(|e| FfiError::new(thywill_status::Internal, format!("JSON encoding: {e}")))?;
    *out_json = owned_c_string(text)?;
    Ok(())
}

/// Frees a string returned by this library (`char *` out-parameters). NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string this library returned that was not freed yet.
#[no_mangle]
pub unsafe extern "C" fn thywill_string_free(s: *mut c_char) {
    ffi_guard_void(|| {
        if !s.is_null() {
            // SAFETY: `s` came from `CString::into_raw` in this library.
            drop(unsafe { CString::from_raw(s) });
        }
    });
}
