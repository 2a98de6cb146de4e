//! Progress reporting for long work. The core never prints; it calls a
//! [`Progress`] sink that each front end renders (a bar, a Python callable, a C function pointer).

use serde::Serialize;

/// One progress event: `done` of `total` units of `phase`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgressEvent<'a> {
    /// A short machine-readable phase name, e.g. `"users"`, `"prayers"`, `"backup"`.
    pub phase: &'a str,
    /// Units finished so far in this phase.
    pub done: u64,
    /// Units in this phase, when known.
    pub total: Option<u64>,
}

/// Receives progress events. Return `false` to ask the operation to stop; it
/// then ends with [`crate::Error::Cancelled`] at the next safe point.
pub trait Progress: Sync {
    /// Called with each event.
    fn report(&self, event: &ProgressEvent<'_>) -> bool;
}

/// A sink that ignores every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn report(&self, _event: &ProgressEvent<'_>) -> bool {
        true
    }
}

impl<F> Progress for F
where
    F: Fn(&ProgressEvent<'_>) -> bool + Sync,
{
    fn report(&self, event: &ProgressEvent<'_>) -> bool {
        self(event)
    }
}

/// Reports an event and turns a stop request into [`crate::Error::Cancelled`].
pub fn report(
    sink: &dyn Progress,
    phase: &str,
    done: u64,
    total: Option<u64>,
) -> crate::Result<()> {
    if sink.report(&ProgressEvent { phase, done, total }) {
        Ok(())
    } else {
        Err(crate::Error::Cancelled)
    }
}

/// Reports an event where the operation can no longer stop: past its point of no return
/// (the new database is in place: it has happened, and must not report `Cancelled` for work
/// that stands), or in a stretch that must run to its end (files written whose stored paths
/// are not committed yet). A stop request is ignored; the next ordinary report, if any,
/// honours it.
pub(crate) fn report_without_stopping(
    sink: &dyn Progress,
    phase: &str,
    done: u64,
    total: Option<u64>,
) {
    let _ = sink.report(&ProgressEvent { phase, done, total });
}
