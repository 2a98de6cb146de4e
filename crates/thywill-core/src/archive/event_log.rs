//! `system/event_log/{type}_{YYYY}_{MM}.txt`: one line per event, aware-UTC
//! ISO timestamp, no header, written by `SystemArchiveService` even when text archives are
//! disabled. Only `session_events` is LIVE.
//!
//! A line whose body does not re-render to the same text (an unusual ID or event type) is
//! kept as [`SystemEvent::Other`], so no line is lost and every file re-renders identically.

use std::path::Path;

use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::fields::parse_iso;
use super::record::{Record, RecordReader};
use crate::pycompat::datetime::PyDateTime;

/// What an event-log line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SystemEvent {
    /// `Session {session_id} {event_type} for user {user_id}` (LIVE: `created` on login).
    Session {
        /// Session ID (no spaces).
        session_id: String,
        /// E.g. `created`.
        event_type: String,
        /// The user (a name; `unknown`/`None` as text when ThyWill had none).
        user_id: String,
    },
    /// `Admin role {event_type} for user {user_id} by {changed_by}`.
    Admin {
        /// E.g. `granted`.
        event_type: String,
        /// The user.
        user_id: String,
        /// Who changed it.
        changed_by: String,
    },
    /// `Invite token {token_id} {event_type}`.
    Token {
        /// Token ID (no spaces).
        token_id: String,
        /// E.g. `created`.
        event_type: String,
    },
    /// `Auth request {request_id} {event_type} for user {user_id}`.
    Auth {
        /// Request ID (no spaces).
        request_id: String,
        /// E.g. `approved`.
        event_type: String,
        /// The user.
        user_id: String,
    },
    /// Any other body, verbatim.
    Other {
        /// The text after `{ts} - `.
        text: String,
    },
}

impl SystemEvent {
    /// The body text after `{ts} - `.
    pub fn render(&self) -> String {
        match self {
            SystemEvent::Session {
                session_id,
                event_type,
                user_id,
            } => format!("Session {session_id} {event_type} for user {user_id}"),
            SystemEvent::Admin {
                event_type,
                user_id,
                changed_by,
            } => format!("Admin role {event_type} for user {user_id} by {changed_by}"),
            SystemEvent::Token {
                token_id,
                event_type,
            } => format!("Invite token {token_id} {event_type}"),
            SystemEvent::Auth {
                request_id,
                event_type,
                user_id,
            } => format!("Auth request {request_id} {event_type} for user {user_id}"),
            SystemEvent::Other { text } => text.clone(),
        }
    }

    /// Parses a body; never fails (unknown shapes become [`SystemEvent::Other`]).
    pub fn parse(body: &str) -> Self {
        let typed = Self::parse_typed(body);
        match typed {
            Some(ev) if ev.render() == body => ev,
            _ => SystemEvent::Other {
                text: body.to_string(),
            },
        }
    }

    fn parse_typed(body: &str) -> Option<Self> {
        if let Some(rest) = body.strip_prefix("Session ") {
            let (id, rest) = rest.split_once(' ')?;
            let (ev, user) = rest.split_once(" for user ")?;
            return Some(SystemEvent::Session {
                session_id: id.into(),
                event_type: ev.into(),
                user_id: user.into(),
            });
        }
        if let Some(rest) = body.strip_prefix("Admin role ") {
            let (ev, rest) = rest.split_once(" for user ")?;
            let (user, by) = rest.rsplit_once(" by ")?;
            return Some(SystemEvent::Admin {
                event_type: ev.into(),
                user_id: user.into(),
                changed_by: by.into(),
            });
        }
        if let Some(rest) = body.strip_prefix("Invite token ") {
            let (id, ev) = rest.split_once(' ')?;
            return Some(SystemEvent::Token {
                token_id: id.into(),
                event_type: ev.into(),
            });
        }
        if let Some(rest) = body.strip_prefix("Auth request ") {
            let (id, rest) = rest.split_once(' ')?;
            let (ev, user) = rest.split_once(" for user ")?;
            return Some(SystemEvent::Auth {
                request_id: id.into(),
                event_type: ev.into(),
                user_id: user.into(),
            });
        }
        None
    }
}

/// One event-log line.
///
/// Limits: IDs cannot contain spaces; an event type cannot contain ` for user `; an admin
/// `changed_by` cannot contain ` by `. Such lines still round-trip as [`SystemEvent::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventLogEntry {
    /// `datetime.now(timezone.utc).isoformat()`.
    pub timestamp: PyDateTime,
    /// The event.
    pub event: SystemEvent,
}

impl Record for EventLogEntry {
    fn render_line(&self) -> String {
        format!("{} - {}", self.timestamp.isoformat(), self.event.render())
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let (ts, body) = line
            .split_once(" - ")
            .ok_or_else(|| "not an event-log line (no ` - `)".to_string())?;
        Ok(EventLogEntry {
            timestamp: parse_iso(ts, "timestamp")?,
            event: SystemEvent::parse(body),
        })
    }
}

/// A whole event-log file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventLogFile {
    /// Entries in file order.
    pub entries: Vec<EventLogEntry>,
    /// Whether the file ends with LF (ThyWill's appends always do).
    pub final_newline: bool,
}

impl EventLogFile {
    /// The bytes.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&e.render_line());
            out.push('\n');
        }
        if !self.final_newline && !self.entries.is_empty() {
            out.pop();
        }
        out
    }

    /// Parses a whole file.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let read = EventLogReader::new(bytes, path).read_all();
        let file = EventLogFile {
            entries: read.records,
            final_newline: read.final_newline,
        };
        (file, read.diagnostics)
    }
}

/// Streams the entries of an event log (a file without a header).
pub type EventLogReader<B> = RecordReader<B, EventLogEntry, ()>;

/// Appends one entry to the event log at `path` (created if missing).
pub fn append(path: &Path, entry: &EventLogEntry) -> crate::Result<()> {
    super::fileops::locked_append(path, &entry.render_line())
}

/// The event-log file name for `log_type` (`session_events`, `admin_events`, `token_events`,
/// `auth_events`) and the UTC month of the event: `{log_type}_{YYYY}_{MM}.txt`.
pub fn file_name(log_type: &str, utc: &impl chrono::Datelike) -> String {
    format!("{log_type}_{:04}_{:02}.txt", utc.year(), utc.month())
}

/// Re-renderer of an event log.
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (f, d) = EventLogFile::parse(bytes, path);
    Ok((f.render().into_bytes(), d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_shape_round_trips() {
        for line in [
            "2026-11-26T13:26:06.416785+00:00 - Session abc created for user Mary Jo",
            "2026-11-26T13:26:06+00:00 - Admin role granted for user Stand by Me by None",
            "2026-11-26T13:26:06+00:00 - Invite token unknown created",
            "2026-11-26T13:26:06+00:00 - Auth request r1 approved for user unknown",
            "2026-11-26T13:26:06+00:00 - created: {\"x\": 1}",
        ] {
            let e = EventLogEntry::parse_line(line).unwrap();
            assert_eq!(e.render_line(), line);
        }
        let e = EventLogEntry::parse_line(
            "2026-11-26T13:26:06.416785+00:00 - Session abc created for user Mary Jo",
        )
        .unwrap();
        assert_eq!(
            e.event,
            SystemEvent::Session {
                session_id: "abc".into(),
                event_type: "created".into(),
                user_id: "Mary Jo".into()
            }
        );
    }
}
