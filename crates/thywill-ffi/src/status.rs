//! Status codes returned by every fallible export, one per
//! [`thywill_core::ErrorKind`] plus the failures only the C boundary has.

use std::ffi::c_char;

use thywill_core::ErrorKind;

/// The result of a call. `THYWILL_STATUS_OK` is 0; any other value is a
/// failure whose message `thywill_last_error_message()` returns.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum thywill_status {
    /// Success.
    Ok = 0,
    /// A file, database, backup or record that was asked for does not exist.
    NotFound = 1,
    /// Data exists but is damaged.
    Corrupt = 2,
    /// The operation conflicts with the current state (a lock held, a record that differs).
    Conflict = 3,
    /// The operating system refused access.
    Permission = 4,
    /// An unusable argument or malformed input file (including archive format errors).
    InvalidInput = 5,
    /// Input/output failed for another reason.
    Io = 6,
    /// SQLite reported an error.
    Database = 7,
    /// A remote backup target failed.
    Remote = 8,
    /// The progress callback asked to stop.
    Cancelled = 9,
    /// A bug: an invariant of the library did not hold.
    Internal = 10,
    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 101,
    /// The library panicked; the call had no effect that can be relied on.
    Panic = 102,
}

impl From<ErrorKind> for thywill_status {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::NotFound => thywill_status::NotFound,
            ErrorKind::Corrupt => thywill_status::Corrupt,
            ErrorKind::Conflict => thywill_status::Conflict,
            ErrorKind::Permission => thywill_status::Permission,
            ErrorKind::InvalidInput => thywill_status::InvalidInput,
            ErrorKind::Io => thywill_status::Io,
            ErrorKind::Database => thywill_status::Database,
            ErrorKind::Remote => thywill_status::Remote,
            ErrorKind::Cancelled => thywill_status::Cancelled,
            ErrorKind::Internal => thywill_status::Internal,
        }
    }
}

impl thywill_status {
    /// The variant's C name without the `THYWILL_STATUS_` prefix, NUL-terminated.
    fn name(self) -> &'static str {
        match self {
            thywill_status::Ok => "OK\0",
            thywill_status::NotFound => "NOT_FOUND\0",
            thywill_status::Corrupt => "CORRUPT\0",
            thywill_status::Conflict => "CONFLICT\0",
            thywill_status::Permission => "PERMISSION\0",
            thywill_status::InvalidInput => "INVALID_INPUT\0",
            thywill_status::Io => "IO\0",
            thywill_status::Database => "DATABASE\0",
            thywill_status::Remote => "REMOTE\0",
            thywill_status::Cancelled => "CANCELLED\0",
            thywill_status::Internal => "INTERNAL\0",
            thywill_status::NullArgument => "NULL_ARGUMENT\0",
            thywill_status::InvalidUtf8 => "INVALID_UTF8\0",
            thywill_status::Panic => "PANIC\0",
        }
    }
}

/// Returns a static name for `status`, e.g. `"NOT_FOUND"` (never free it).
/// Values outside the enum give `"UNKNOWN"`.
#[no_mangle]
pub extern "C" fn thywill_status_name(status: u32) -> *const c_char {
    const ALL: [thywill_status; 14] = [
        thywill_status::Ok,
        thywill_status::NotFound,
        thywill_status::Corrupt,
        thywill_status::Conflict,
        thywill_status::Permission,
        thywill_status::InvalidInput,
        thywill_status::Io,
        thywill_status::Database,
        thywill_status::Remote,
        thywill_status::Cancelled,
        thywill_status::Internal,
        thywill_status::NullArgument,
        thywill_status::InvalidUtf8,
        thywill_status::Panic,
    ];
    let name = ALL
        .iter()
        .find(|s| **s as u32 == status)
        .map_or("UNKNOWN\0", |s| s.name());
    name.as_ptr().cast()
}
