//! Running core calls from Python: the GIL is released for the call and a
//! Python progress callable is adapted to [`thywill_core::progress::Progress`].
//!
//! Ctrl-C reaches a long call through the same sink: Python's own SIGINT handler only
//! notes the signal while the GIL is released, so each progress event (at most every
//! [`SIGNAL_CHECK_INTERVAL`] when there is no callable) takes the GIL and runs the
//! pending handlers (`PyErr_CheckSignals`). When one raises (`KeyboardInterrupt`), the
//! operation is cancelled at that safe point (its audit line says `cancelled`) and the
//! exception is raised once the core call has returned.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use thywill_core::progress::{Progress, ProgressEvent};

use crate::errors::to_py_err;

/// How often a call without a progress callable looks for pending signals: often enough
/// for Ctrl-C to feel immediate, rarely enough that taking the GIL costs nothing.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Runs the pending signal handlers and, when given, calls `callback(phase, done, total)`,
/// with the GIL re-acquired. `None` or a truthy result continues, `False` cancels; an
/// exception (from a signal handler or the callable) cancels and is re-raised in place of
/// `CancelledError` once the core call returns.
struct PyProgress {
    callback: Option<Py<PyAny>>,
    /// What the callable raised.
    raised: Mutex<Option<PyErr>>,
    /// What a signal handler raised: raised after the call whatever its outcome, as
    /// Python raises it after any other call (a Ctrl-C is never swallowed).
    signalled: Mutex<Option<PyErr>>,
    /// When signals were last looked for (`None`: not yet, so the first event looks).
    last_signal_check: Mutex<Option<Instant>>,
}

impl PyProgress {
    /// Whether this event should take the GIL to look for signals: always with a
    /// callable (the GIL is taken anyway), else at most every [`SIGNAL_CHECK_INTERVAL`].
    fn due(&self) -> bool {
        if self.callback.is_some() {
            return true;
        }
        let Ok(mut last) = self.last_signal_check.lock() else {
            return true;
        };
        let now = Instant::now();
        match *last {
            Some(at) if now.duration_since(at) < SIGNAL_CHECK_INTERVAL => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }

    fn call(&self, py: Python<'_>, event: &ProgressEvent<'_>) -> PyResult<bool> {
        let Some(callback) = &self.callback else {
            return Ok(true);
        };
        let result = callback.call1(py, (event.phase, event.done, event.total))?;
        let result = result.bind(py);
        if result.is_none() {
            Ok(true)
        } else {
            result.is_truthy()
        }
    }
}

impl Progress for PyProgress {
    fn report(&self, event: &ProgressEvent<'_>) -> bool {
        if !self.due() {
            return true;
        }
        Python::attach(|py| {
            let outcome = py.check_signals().map_err(|e| (&self.signalled, e));
            match outcome.and_then(|()| self.call(py, event).map_err(|e| (&self.raised, e))) {
                Ok(go_on) => go_on,
                Err((slot, err)) => {
                    if let Ok(mut slot) = slot.lock() {
                        slot.get_or_insert(err);
                    }
                    false
                }
            }
        })
    }
}

/// Runs a core operation with the GIL released, reporting to `progress` (a
/// Python callable or `None`) and stopping it on Ctrl-C, and maps its error with the one
/// mapping. Every binding that calls the core goes through this.
pub fn run<T, F>(py: Python<'_>, progress: Option<Py<PyAny>>, operation: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&dyn Progress) -> thywill_core::Result<T> + Send,
{
    let sink = PyProgress {
        callback: progress,
        raised: Mutex::new(None),
        signalled: Mutex::new(None),
        last_signal_check: Mutex::new(None),
    };
    let result = py.detach(|| operation(&sink));
    let take = |slot: &Mutex<Option<PyErr>>| slot.lock().ok().and_then(|mut slot| slot.take());
    if let Some(signalled) = take(&sink.signalled) {
        return Err(signalled);
    }
    let raised = take(&sink.raised);
    match (result, raised) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some(raised)) => Err(raised),
        (Err(error), None) => Err(to_py_err(error)),
    }
}
