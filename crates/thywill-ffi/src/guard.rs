//! The one boundary every export body goes through: it catches panics, maps
//! errors to a [`thywill_status`] and keeps the last error message per thread.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::Serialize;

use crate::status::thywill_status;
use crate::strings::{out_ptr, write_json};

/// A failure at the C boundary: a status plus the message for
/// `thywill_last_error_message()`.
#[derive(Debug)]
pub struct FfiError {
    /// The status returned to C.
    pub status: thywill_status,
    /// A human-readable explanation.
    pub message: String,
}

impl FfiError {
    /// A failure with an explicit status.
    pub fn new(status: thywill_status, message: impl Into<String>) -> Self {
        FfiError {
            status,
            message: message.into(),
        }
    }

    /// A NULL pointer where `argument` was required.
    pub fn null(argument: &str) -> Self {
        FfiError::new(
            thywill_status::NullArgument,
            format!("{argument} must not be NULL"),
        )
    }
}

impl From<thywill_core::Error> for FfiError {
    fn from(error: thywill_core::Error) -> Self {
        FfiError::new(error.kind().into(), error.to_string())
    }
}

/// Result type of export bodies.
pub type FfiResult<T = ()> = Result<T, FfiError>;

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: &str) {
    // Interior NULs cannot cross into C; cut the message there rather than lose it.
    let cut = message.split('\0').next().unwrap_or_default();
    let c = CString::new(cut).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(c));
}

fn clear_last_error() {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = None);
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panic: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic".to_owned()
    }
}

/// Runs an export body: clears the thread's last error, catches panics and
/// turns the outcome into a status. Every status-returning export calls this
/// exactly once around its whole body.
pub fn ffi_guard<F>(body: F) -> thywill_status
where
    F: FnOnce() -> FfiResult,
{
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => thywill_status::Ok,
        Ok(Err(error)) => {
            set_last_error(&error.message);
            error.status
        }
        Err(payload) => {
            set_last_error(&panic_message(payload.as_ref()));
            thywill_status::Panic
        }
    }
}

/// The body of every export that answers with a report, inside [`ffi_guard`]: `*out_json`
/// is checked and set to NULL first (a failed call leaves it NULL), then `body` converts the
/// arguments and calls the core, and its report goes to `*out_json` as an owned JSON string.
///
/// A function rather than a macro: the signature of each export must stay written out for
/// cbindgen, so only the body's shape is shared, and a generic function shares it with type
/// checking and without a second syntax to learn.
///
/// # Safety
/// `out_json` is NULL or valid for writes.
pub unsafe fn json_report<R: Serialize>(
    out_json: *mut *mut c_char,
    body: impl FnOnce() -> FfiResult<R>,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: per the contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        write_json(out, &body()?)
    })
}

/// [`json_report`] for exports that also answer one value of the report through an optional
/// out-pointer (`*out_changed`, `*out_failed`, a verdict): when the call succeeds and
/// `out_value` is not NULL, it gets `value(&report)`.
///
/// # Safety
/// `out_json` is NULL or valid for writes; `out_value` is NULL or valid for writes.
pub unsafe fn json_report_and<R: Serialize, T>(
    out_json: *mut *mut c_char,
    out_value: *mut T,
    value: impl FnOnce(&R) -> T,
    body: impl FnOnce() -> FfiResult<R>,
) -> thywill_status {
    ffi_guard(|| {
        // SAFETY: per the contract.
        let out = unsafe { out_ptr(out_json, "out_json") }?;
        let report = body()?;
        // SAFETY: NULL or valid for writes per the contract.
        if let Some(slot) = unsafe { out_value.as_mut() } {
            *slot = value(&report);
        }
        write_json(out, &report)
    })
}

/// For exports that cannot report a status (`_free` functions): runs `body`
/// and swallows a panic, since unwinding into C would abort the process.
pub fn ffi_guard_void<F>(body: F)
where
    F: FnOnce(),
{
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        set_last_error(&panic_message(payload.as_ref()));
    }
}

/// Returns the message of the last failed call on this thread, or an empty
/// string when the last call succeeded.
///
/// The string is owned by the library: do not free it. It stays valid until the
/// next status-returning `thywill_*` call on the same thread.
#[no_mangle]
pub extern "C" fn thywill_last_error_message() -> *const c_char {
    LAST_ERROR.with(|slot| match slot.borrow().as_ref() {
        Some(message) => message.as_ptr(),
        None => c"".as_ptr(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last() -> String {
        // SAFETY: the pointer is valid until the next guarded call on this thread.
        unsafe { CStr::from_ptr(thywill_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn panic_becomes_status_with_message() {
        let status = ffi_guard(|| panic!("boom {}", 42));
        assert_eq!(status, thywill_status::Panic);
        assert_eq!(last(), "panic: boom 42");
    }

    #[test]
    fn core_error_maps_to_kind_and_success_clears_message() {
        let status = ffi_guard(|| {
            Err(thywill_core::Error::NotFound {
                what: "x.txt".into(),
            }
            .into())
        });
        assert_eq!(status, thywill_status::NotFound);
        assert_eq!(last(), "not found: x.txt");
        assert_eq!(ffi_guard(|| Ok(())), thywill_status::Ok);
        assert_eq!(last(), "");
    }

    #[test]
    fn interior_nul_is_cut() {
        ffi_guard(|| Err(FfiError::new(thywill_status::Io, "before\0after")));
        assert_eq!(last(), "before");
    }
}
