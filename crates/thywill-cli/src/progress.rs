//! The progress bar on stderr (`indicatif`): phase, bar, count, rate and ETA, redrawn at
//! most 20 times a second, and drawn only when stderr is a terminal. Drawn or not, the
//! sink is where a stop signal reaches the operation ([`crate::interrupt`]).

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use thywill_core::progress::{Progress, ProgressEvent};

/// Renders core progress events as a one-line bar on stderr, and asks the operation to
/// stop once a stop signal has arrived.
pub struct TerminalProgress {
    /// `None` when drawing is off, so events cost nothing.
    bar: Option<ProgressBar>,
    /// The phase on screen; a new phase restarts the bar (its rate and ETA are per phase).
    phase: Mutex<String>,
}

const COUNTED: &str = "{prefix} [{bar:30}] {human_pos}/{human_len} {per_sec:0} ETA {eta}";
const UNCOUNTED: &str = "{prefix} {spinner} {human_pos} {per_sec:0}";

impl TerminalProgress {
    /// A bar that draws only when `enabled`.
    pub fn new(enabled: bool) -> Self {
        let bar = enabled.then(|| {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                .with_style(style(UNCOUNTED))
        });
        TerminalProgress {
            bar,
            phase: Mutex::new(String::new()),
        }
    }

    /// Erases the bar (call when the operation ends).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    // The templates are constants; a bad one would show as the default style, not fail.
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#>-")
}

impl Progress for TerminalProgress {
    fn report(&self, event: &ProgressEvent<'_>) -> bool {
        if crate::interrupt::requested() {
            return false;
        }
        let Some(bar) = &self.bar else {
            return true;
        };
        if let Ok(mut phase) = self.phase.lock() {
            if *phase != event.phase {
                event.phase.clone_into(&mut phase);
                bar.set_style(style(if event.total.is_some() {
                    COUNTED
                } else {
                    UNCOUNTED
                }));
                bar.set_prefix(event.phase.to_owned());
                bar.reset();
            }
        }
        match event.total {
            Some(total) => bar.set_length(total),
            None => bar.unset_length(),
        }
        bar.set_position(event.done);
        true
    }
}

/// A sink that draws nothing and only asks the operation to stop once a stop signal has
/// arrived: for a step whose progress is not worth a bar (a plan before a confirmation,
/// the demo's steps) but which must still stop on Ctrl-C.
pub struct StopOnSignal;

impl Progress for StopOnSignal {
    fn report(&self, _event: &ProgressEvent<'_>) -> bool {
        !crate::interrupt::requested()
    }
}
