//! A progress bar on stderr, drawn only when stderr is a terminal.

use std::sync::Mutex;

use thywill_core::progress::{Progress, ProgressEvent};

use crate::output;

/// Renders core progress events as a one-line bar on stderr.
pub struct TerminalProgress {
    enabled: bool,
    last_drawn: Mutex<Option<(String, u64)>>,
}

const WIDTH: u64 = 30;

impl TerminalProgress {
    /// A bar that draws only when `enabled`.
    pub fn new(enabled: bool) -> Self {
        TerminalProgress {
            enabled,
            last_drawn: Mutex::new(None),
        }
    }

    /// Erases the bar (call when the operation ends).
    pub fn finish(&self) {
        let drawn = self.last_drawn.lock().map(|mut d| d.take()).ok().flatten();
        if self.enabled && drawn.is_some() {
            output::stderr_text("\r\x1b[2K");
        }
    }
}

impl Progress for TerminalProgress {
    fn report(&self, event: &ProgressEvent<'_>) -> bool {
        if !self.enabled {
            return true;
        }
        // Redraw only when the visible state changes, so tight loops stay cheap.
        let step = match event.total {
            Some(total) if total > 0 => event.done.min(total) * WIDTH / total,
            _ => event.done,
        };
        let Ok(mut last) = self.last_drawn.lock() else {
            return true;
        };
        if last
            .as_ref()
            .is_some_and(|(p, s)| p == event.phase && *s == step)
        {
            return true;
        }
        *last = Some((event.phase.to_owned(), step));
        let line = match event.total {
            Some(total) => {
                let filled = usize::try_from(step).unwrap_or(0);
                let empty = usize::try_from(WIDTH.saturating_sub(step)).unwrap_or(0);
                format!(
                    "{} [{}{}] {}/{}",
                    event.phase,
                    "#".repeat(filled),
                    " ".repeat(empty),
                    event.done,
                    total
                )
            }
            None => format!("{} {}", event.phase, event.done),
        };
        output::stderr_text(&format!("\r\x1b[2K{line}"));
        true
    }
}
