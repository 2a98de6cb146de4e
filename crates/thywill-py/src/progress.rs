//! Running core calls from Python: the GIL is released for the call and a
//! Python progress callable is adapted to [`thywill_core::progress::Progress`].

use std::sync::Mutex;

use pyo3::prelude::*;
use thywill_core::progress::{NoProgress, Progress, ProgressEvent};

use crate::errors::to_py_err;

/// Calls `callback(phase, done, total)` with the GIL re-acquired. `None` or a
/// truthy result continues, `False` cancels; an exception cancels and is
/// re-raised in place of `CancelledError` once the core call returns.
struct PyProgress {
    callback: Py<PyAny>,
    raised: Mutex<Option<PyErr>>,
}

impl Progress for PyProgress {
    fn report(&self, event: &ProgressEvent<'_>) -> bool {
        Python::attach(|py| {
            let outcome = self
                .callback
                .call1(py, (event.phase, event.done, event.total))
                .and_then(|result| {
                    let result = result.bind(py);
                    if result.is_none() {
                        Ok(true)
                    } else {
                        result.is_truthy()
                    }
                });
            match outcome {
                Ok(go_on) => go_on,
                Err(err) => {
                    if let Ok(mut slot) = self.raised.lock() {
                        slot.get_or_insert(err);
                    }
                    false
                }
            }
        })
    }
}

/// Runs a core operation with the GIL released, reporting to `progress` (a
/// Python callable or `None`), and maps its error with the one mapping.
/// Every binding that calls the core goes through this.
pub fn run<T, F>(py: Python<'_>, progress: Option<Py<PyAny>>, operation: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce(&dyn Progress) -> thywill_core::Result<T> + Send,
{
    match progress {
        None => py.detach(|| operation(&NoProgress)).map_err(to_py_err),
        Some(callback) => {
            let sink = PyProgress {
                callback,
                raised: Mutex::new(None),
            };
            let result = py.detach(|| operation(&sink));
            let raised = sink.raised.lock().ok().and_then(|mut slot| slot.take());
            match (result, raised) {
                (Ok(value), _) => Ok(value),
                (Err(_), Some(callback_error)) => Err(callback_error),
                (Err(error), None) => Err(to_py_err(error)),
            }
        }
    }
}
