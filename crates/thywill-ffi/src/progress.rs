//! Progress callbacks from C: a function pointer plus `user_data`.

use std::ffi::{c_char, c_void, CString};

use thywill_core::progress::{Progress, ProgressEvent};

/// Called with each progress event: `phase` (borrowed, valid only during the
/// call), `done` units so far and `total_or_max`, the total or `UINT64_MAX` when
/// unknown. Return `false` to cancel the operation (it then fails with
/// `THYWILL_STATUS_CANCELLED`). It is called on the thread that made the call.
pub type thywill_progress_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        phase: *const c_char,
        done: u64,
        total_or_max: u64,
    ) -> bool,
>;

/// Adapts a C callback to the core's [`Progress`] sink; a NULL callback ignores events.
pub struct CProgress {
    callback: thywill_progress_fn,
    user_data: *mut c_void,
}

// SAFETY: the core reports progress from the calling thread only; the C caller
// owns `user_data` for the duration of the call.
unsafe impl Sync for CProgress {}

impl CProgress {
    /// Wraps a callback and its `user_data`.
    pub fn new(callback: thywill_progress_fn, user_data: *mut c_void) -> Self {
        CProgress {
            callback,
            user_data,
        }
    }
}

impl Progress for CProgress {
    fn report(&self, event: &ProgressEvent<'_>) -> bool {
        let Some(callback) = self.callback else {
            return true;
        };
        let phase = CString::new(event.phase).unwrap_or_default();
        // SAFETY: the caller promised a valid function and user_data for this call.
        unsafe {
            callback(
                self.user_data,
                phase.as_ptr(),
                event.done,
                event.total.unwrap_or(u64::MAX),
            )
        }
    }
}
