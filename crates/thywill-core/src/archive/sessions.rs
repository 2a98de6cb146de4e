//! Sessions monthly files `sessions/{YM}_sessions.txt`. Two writers share the
//! path:
//!
//! * LIVE (`AuthArchiveWriter.log_session_creation`): one blank line after the header,
//!   records end with LF, `device`/`ip` None → `''`, device `|` → `_`.
//! * EXPORT (`thywill export-all`): two blank lines after the header, no final LF,
//!   `device`/`ip` None → `unknown`, device written raw.
//!
//! After an export the next live append is glued to the last exported row
//! (`…|yesJuly 16 2025 at 18:00|s2|…`, KEEP). The reader un-glues it at any
//! `|yes`/`|no` directly followed by a `TS_H` timestamp and a `|` (ThyWill's regex needs a
//! capitalised month and a 2-digit day; this one accepts what `strptime` accepts), and marks
//! each record with the writer that produced it so rendering reproduces the glue.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::fields::{parse_human, parse_yes_no, split_absorbing, underscore_pipe, yes_no};
use super::lines::Lines;
use super::record::collect_records;
use super::timestamp::{self, HumanTime};
use crate::pycompat::datetime;

/// Which writer produced a record (it decides how None values and line ends are written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionOrigin {
    /// The live writer.
    Live,
    /// `thywill export-all`.
    Export,
}

/// One session record.
///
/// Limits: live records cannot hold `|` in `device_info` (written `_`); a `|` in
/// `username` (live) or `device_info` (export) is kept (absorbing field); a `|` in
/// `session_id` or `ip_address`, or in the export's username, misplaces fields. `Some("")`
/// and, in exports, `Some("unknown")` read back as `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRecord {
    /// `created_at` (naive UTC), `TS_H`.
    pub created_at: HumanTime,
    /// Session ID.
    pub session_id: String,
    /// Display name.
    pub username: String,
    /// `expires_at`, `TS_H`; `None` only in live files (written empty).
    pub expires_at: Option<HumanTime>,
    /// Device / user agent.
    pub device_info: Option<String>,
    /// Client IP.
    pub ip_address: Option<String>,
    /// `yes`/`no`.
    pub is_fully_authenticated: bool,
    /// The writer of this record.
    pub origin: SessionOrigin,
}

impl SessionRecord {
    /// The record's line (no terminator) as its writer renders it.
    pub fn render_line(&self) -> String {
        let (device, ip) = match self.origin {
            SessionOrigin::Live => (
                self.device_info
                    .as_deref()
                    .map(underscore_pipe)
                    .unwrap_or_default(),
                self.ip_address.clone().unwrap_or_default(),
            ),
            SessionOrigin::Export => (
                non_empty_or(self.device_info.as_deref(), "unknown"),
                non_empty_or(self.ip_address.as_deref(), "unknown"),
            ),
        };
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.created_at,
            self.session_id,
            self.username,
            self.expires_at
                .as_ref()
                .map(|e| e.text.as_str())
                .unwrap_or_default(),
            device,
            ip,
            yes_no(self.is_fully_authenticated)
        )
    }

    /// Parses one (un-glued) record line written by `origin`.
    pub fn parse_line(line: &str, origin: SessionOrigin) -> Result<Self, String> {
        let absorb = match origin {
            SessionOrigin::Live => 2,
            SessionOrigin::Export => 4,
        };
        let f = split_absorbing(line, 7, absorb)?;
        let [created, id, user, expires, device, ip, auth] = f.as_slice() else {
            return Err("bad field count".into());
        };
        let none_if = |v: &str| -> Option<String> {
            let empty = v.is_empty()
                || (origin == SessionOrigin::Export && v.eq_ignore_ascii_case("unknown"));
            (!empty).then(|| v.to_string())
        };
        Ok(SessionRecord {
            created_at: parse_human(created, "created_at")?,
            session_id: id.to_string(),
            username: user.to_string(),
            expires_at: if expires.is_empty() {
                None
            } else {
                Some(parse_human(expires, "expires_at")?)
            },
            device_info: none_if(device),
            ip_address: none_if(ip),
            is_fully_authenticated: parse_yes_no(auth, "is_fully_authenticated")?,
            origin,
        })
    }
}

fn non_empty_or(v: Option<&str>, default: &str) -> String {
    match v {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => default.to_string(),
    }
}

/// The header: `Sessions for {Month YYYY} (exported {TS_H})` plus the writer's layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionsHeader {
    /// `July 2025`, verbatim.
    pub month: String,
    /// The `(exported …)` time (local now for live, UTC now for export).
    pub exported_at: HumanTime,
    /// Live: one blank line after `Format:`; Export: two.
    pub layout: SessionOrigin,
}

const SESSIONS_FORMAT: &str = "Format: created_at|session_id|username|expires_at|device_info|ip_address|is_fully_authenticated";

impl SessionsHeader {
    /// The header ThyWill writes for the month of `month`, exported at `exported_at`.
    pub fn new(
        month: &impl chrono::Datelike,
        exported_at: &chrono::NaiveDateTime,
        layout: SessionOrigin,
    ) -> Self {
        SessionsHeader {
            month: timestamp::ts_my(month),
            exported_at: HumanTime::from_time(*exported_at),
            layout,
        }
    }

    /// The header bytes.
    pub fn render(&self) -> String {
        let blank = match self.layout {
            SessionOrigin::Live => "\n",
            SessionOrigin::Export => "\n\n",
        };
        format!(
            "Sessions for {} (exported {})\n{SESSIONS_FORMAT}\n{blank}",
            self.month, self.exported_at
        )
    }

    fn parse(title: &str) -> Option<(String, HumanTime)> {
        let rest = title.strip_prefix("Sessions for ")?;
        let (month, exp) = rest.split_once(" (exported ")?;
        let exp = exp.strip_suffix(')')?;
        Some((month.to_string(), parse_human(exp, "exported").ok()?))
    }
}

/// A whole sessions file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionsFile {
    /// The header, if present.
    pub header: Option<SessionsHeader>,
    /// Records in file order; export rows first, then live appends.
    pub records: Vec<SessionRecord>,
}

impl SessionsFile {
    /// The bytes: an export row is followed by LF only when another export row follows
    /// (so the next live append glues to it); a live record always ends with LF.
    pub fn render(&self) -> String {
        let mut out = self
            .header
            .as_ref()
            .map(SessionsHeader::render)
            .unwrap_or_default();
        let mut iter = self.records.iter().peekable();
        while let Some(r) = iter.next() {
            out.push_str(&r.render_line());
            let lf = match r.origin {
                SessionOrigin::Live => true,
                SessionOrigin::Export => {
                    matches!(iter.peek(), Some(n) if n.origin == SessionOrigin::Export)
                }
            };
            if lf {
                out.push('\n');
            }
        }
        out
    }

    /// Parses a whole file.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let mut reader = SessionsReader::new(bytes, path);
        let (records, diags) = collect_records(reader.by_ref());
        let file = SessionsFile {
            header: reader.header,
            records,
        };
        (file, diags)
    }
}

/// Appends a live record to `path` as `AuthArchiveWriter.log_session_creation` does: the
/// live header for local `now` is created first if the file is missing, then the record and
/// LF are appended. Appending after an export glues, exactly like ThyWill (KEEP).
pub fn append_live(
    path: &Path,
    now: &chrono::NaiveDateTime,
    record: &SessionRecord,
) -> crate::Result<()> {
    let live = SessionRecord {
        origin: SessionOrigin::Live,
        ..record.clone()
    };
    let header = SessionsHeader::new(now, now, SessionOrigin::Live).render();
    super::fileops::append_monthly(path, &header, &live.render_line(), false)
}

/// Re-renderer of a sessions file.
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (f, d) = SessionsFile::parse(bytes, path);
    Ok((f.render().into_bytes(), d))
}

/// Splits a line at every glue point: `|yes`/`|no` immediately followed by a `TS_H` prefix
/// and a `|`. Returns the pieces (one when nothing is glued).
pub(crate) fn unglue(line: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut search = 0;
    while let Some(rel) = line.get(search..).and_then(|s| s.find('|')) {
        let p = search + rel;
        search = p + 1;
        let after = line.get(p + 1..).unwrap_or_default();
        let flag_len = if after.starts_with("yes") {
            3
        } else if after.starts_with("no") {
            2
        } else {
            continue;
        };
        let cut = p + 1 + flag_len;
        let next = line.get(cut..).unwrap_or_default();
        if starts_with_human_ts(next) {
            pieces.push(line.get(start..cut).unwrap_or_default());
            start = cut;
            search = cut;
        }
    }
    pieces.push(line.get(start..).unwrap_or_default());
    pieces
}

/// Whether `s` starts with a `TS_H` timestamp followed by `|`.
fn starts_with_human_ts(s: &str) -> bool {
    let Some(bar) = s.find('|') else {
        return false;
    };
    let head = s.get(..bar).unwrap_or_default();
    head.contains(" at ") && datetime::strptime_ts_h(head).is_some()
}

/// Streams the records of a sessions file, un-gluing and tagging each with its writer.
pub struct SessionsReader<B> {
    lines: Lines<B>,
    header: Option<SessionsHeader>,
    pending: VecDeque<Result<SessionRecord, Diagnostic>>,
    origin: SessionOrigin,
}

impl<B: BufRead> SessionsReader<B> {
    /// Reads the header and prepares to stream; `path` labels diagnostics.
    pub fn new(reader: B, path: Option<&Path>) -> Self {
        let mut lines = Lines::new(reader, path);
        let mut pending = VecDeque::new();
        let mut header = None;
        let mut origin = SessionOrigin::Live;
        'head: {
            let first = loop {
                match lines.next() {
                    Some(Ok(l)) => break l,
                    Some(Err(d)) => pending.push_back(Err(d)),
                    None => break 'head,
                }
            };
            let Some((month, exported_at)) = SessionsHeader::parse(&first.text) else {
                if first.text.starts_with("Sessions for ") {
                    pending.push_back(Err(lines.diag(first.number, "unreadable sessions title")));
                } else {
                    lines.push_back(first);
                }
                break 'head;
            };
            match lines.next() {
                Some(Ok(l)) if l.text == SESSIONS_FORMAT => {}
                Some(Ok(l)) => {
                    pending.push_back(Err(
                        lines.diag(l.number, "missing or unexpected Format line")
                    ));
                    if !l.text.starts_with("Format:") {
                        lines.push_back(l);
                    }
                }
                Some(Err(d)) => pending.push_back(Err(d)),
                None => {}
            }
            let mut blanks = 0;
            loop {
                match lines.next() {
                    Some(Ok(l)) if l.text.is_empty() && blanks < 2 => blanks += 1,
                    Some(Ok(l)) => {
                        lines.push_back(l);
                        break;
                    }
                    Some(Err(d)) => {
                        pending.push_back(Err(d));
                        break;
                    }
                    None => break,
                }
            }
            origin = if blanks >= 2 {
                SessionOrigin::Export
            } else {
                SessionOrigin::Live
            };
            header = Some(SessionsHeader {
                month,
                exported_at,
                layout: origin,
            });
        }
        SessionsReader {
            lines,
            header,
            pending,
            origin,
        }
    }

    /// The header, if the file has one.
    pub fn header(&self) -> Option<&SessionsHeader> {
        self.header.as_ref()
    }
}

impl<B: BufRead> Iterator for SessionsReader<B> {
    type Item = Result<SessionRecord, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(p) = self.pending.pop_front() {
                return Some(p);
            }
            let line = match self.lines.next()? {
                Ok(l) => l,
                Err(d) => return Some(Err(d)),
            };
            if line.text.is_empty() {
                continue;
            }
            let pieces = unglue(&line.text);
            for (i, piece) in pieces.iter().enumerate() {
                if i > 0 {
                    // Everything after a glue point was appended by the live writer.
                    self.origin = SessionOrigin::Live;
                }
                let item = SessionRecord::parse_line(piece, self.origin)
                    .map_err(|e| self.lines.diag(line.number, e));
                self.pending.push_back(item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: &str = "Sessions for July 2025 (exported July 07 2025 at 00:01)\nFormat: created_at|session_id|username|expires_at|device_info|ip_address|is_fully_authenticated\n\nJuly 06 2025 at 09:05|sid1|Mary Jo|July 20 2025 at 09:05|A_B||no\n";

    #[test]
    fn live_observed_file() {
        let (f, d) = SessionsFile::parse(LIVE.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.records.len(), 1);
        let r = &f.records[0];
        assert_eq!(r.ip_address, None);
        assert_eq!(r.device_info.as_deref(), Some("A_B"));
        assert!(!r.is_fully_authenticated);
        assert_eq!(f.render(), LIVE);
    }

    #[test]
    fn export_observed_file_has_no_final_newline() {
        let exp = "Sessions for July 2025 (exported November 26 2026 at 13:24)\nFormat: created_at|session_id|username|expires_at|device_info|ip_address|is_fully_authenticated\n\n\nJuly 01 2025 at 09:05|sid9|Zoë|July 15 2025 at 09:05|unknown|1.1.1.1|yes";
        let (f, d) = SessionsFile::parse(exp.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.records[0].origin, SessionOrigin::Export);
        assert_eq!(f.records[0].device_info, None);
        assert_eq!(f.render(), exp);
    }

    #[test]
    fn glued_records_are_separated() {
        // Test vector 35.
        let glued = "Sessions for July 2025 (exported July 16 2025 at 17:00)\nFormat: created_at|session_id|username|expires_at|device_info|ip_address|is_fully_authenticated\n\n\nJuly 01 2025 at 09:05|s1|Ann|July 15 2025 at 09:05|unknown|127.0.0.1|yesJuly 16 2025 at 18:00|s2|Bob|July 30 2025 at 18:00|UA||no\nJuly 17 2025 at 18:00|s3|Cy|July 31 2025 at 18:00|UA|1.2.3.4|yes\n";
        let (f, d) = SessionsFile::parse(glued.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        let ids: Vec<&str> = f.records.iter().map(|r| r.session_id.as_str()).collect();
        assert_eq!(ids, ["s1", "s2", "s3"]);
        assert!(f.records[0].is_fully_authenticated);
        assert_eq!(f.records[1].origin, SessionOrigin::Live);
        assert_eq!(f.render(), glued);
    }

    #[test]
    fn username_with_pipe_is_kept() {
        // ThyWill shifts the fields and drops the record.
        let r = SessionRecord {
            created_at: HumanTime::parse("July 06 2025 at 09:05"),
            session_id: "s".into(),
            username: "a|b".into(),
            expires_at: Some(HumanTime::parse("July 20 2025 at 09:05")),
            device_info: Some("x".into()),
            ip_address: Some("1.2.3.4".into()),
            is_fully_authenticated: true,
            origin: SessionOrigin::Live,
        };
        let line = r.render_line();
        assert_eq!(line.split('|').count(), 8);
        assert_eq!(
            SessionRecord::parse_line(&line, SessionOrigin::Live).unwrap(),
            r
        );
    }

    #[test]
    fn device_with_equals_sign_is_kept() {
        // Test vector 36.
        let line = "July 06 2025 at 09:05|s|Ann|July 20 2025 at 09:05|UA a=b|1.2.3.4|yes";
        let r = SessionRecord::parse_line(line, SessionOrigin::Live).unwrap();
        assert_eq!(r.device_info.as_deref(), Some("UA a=b"));
    }
}
