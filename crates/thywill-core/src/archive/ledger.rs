//! Monthly prayer ledgers `prayers/{attributes,marks,skips}/{YM}_{kind}.txt`.
//!
//! ```text
//! Prayer Marks for July 2025
//! Format: timestamp|prayer_id|user_id
//!
//! July 01 2025 at 01:28|0bbf76249bd74e86a351bee4afcee70b|Wei T.
//! ```
//!
//! No field is escaped by the writer. The parsers fix ThyWill's reader: a `|` in
//! the last field (user) or in an attribute value stays in that field, the ID-first layout
//! is chosen only when field 0 is not a timestamp and field 1 is, and lines containing `=`
//! are not dropped.

use std::io::BufRead;
use std::path::Path;

use chrono::{Datelike, NaiveDateTime};
use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::layout::LedgerKind;
use super::lines::{rerender_lines, LineReader};
use super::timestamp::{ts_my, HumanTime};
use crate::pycompat::strings::py_strip;
use crate::Result;

/// One ledger line of any of the three kinds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerRecord {
    /// Which ledger.
    pub kind: LedgerKind,
    /// A leading record ID (the ID-first layout that ThyWill's recovery also reads).
    pub id: Option<String>,
    /// When.
    pub timestamp: HumanTime,
    /// The prayer.
    pub prayer_id: String,
    /// Attribute name (attributes only).
    pub attribute_name: Option<String>,
    /// Attribute value (attributes only; may contain `|`).
    pub attribute_value: Option<String>,
    /// The user (display name; `system` for attributes without a user).
    pub user: String,
    /// The 1-based line in the file (0 when not read from a file).
    #[serde(skip_serializing_if = "is_zero")]
    pub line: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl LedgerRecord {
    /// A mark or skip at `t`.
    pub fn mark(kind: LedgerKind, t: NaiveDateTime, prayer_id: &str, user: &str) -> Self {
        LedgerRecord {
            kind,
            id: None,
            timestamp: HumanTime::from_time(t),
            prayer_id: prayer_id.into(),
            attribute_name: None,
            attribute_value: None,
            user: user.into(),
            line: 0,
        }
    }

    /// An attribute record at `t`; `user` `None` becomes `system`, as ThyWill writes it.
    pub fn attribute(
        t: NaiveDateTime,
        prayer_id: &str,
        name: &str,
        value: &str,
        user: Option<&str>,
    ) -> Self {
        LedgerRecord {
            kind: LedgerKind::Attributes,
            id: None,
            timestamp: HumanTime::from_time(t),
            prayer_id: prayer_id.into(),
            attribute_name: Some(name.into()),
            attribute_value: Some(value.into()),
            user: user.filter(|u| !u.is_empty()).unwrap_or("system").into(),
            line: 0,
        }
    }

    /// The line ThyWill appends (without LF).
    pub fn render(&self) -> String {
        let mut fields: Vec<&str> = Vec::with_capacity(6);
        if let Some(id) = &self.id {
            fields.push(id);
        }
        fields.push(&self.timestamp.text);
        fields.push(&self.prayer_id);
        if self.kind == LedgerKind::Attributes {
            fields.push(self.attribute_name.as_deref().unwrap_or_default());
            fields.push(self.attribute_value.as_deref().unwrap_or_default());
        }
        fields.push(&self.user);
        fields.join("|")
    }

    /// Parses one data line of a `kind` ledger.
    pub fn parse_line(kind: LedgerKind, line: &str) -> std::result::Result<Self, String> {
        let fields: Vec<&str> = line.split('|').collect();
        let is_ts = |i: usize| {
            fields
                .get(i)
                .is_some_and(|f| HumanTime::parse(f).time.is_some())
        };
        let id_first = kind != LedgerKind::Skips && !is_ts(0) && is_ts(1);
        let start = usize::from(id_first);
        if !is_ts(start) {
            return Err(format!("no readable timestamp in {line:?}"));
        }
        let field = |i: usize| fields.get(start + i).copied();
        let rest_from = |i: usize| fields.get(start + i..).map(|f| f.join("|"));
        let mut rec = LedgerRecord {
            kind,
            id: id_first.then(|| fields.first().copied().unwrap_or_default().to_string()),
            timestamp: HumanTime::parse(field(0).unwrap_or_default()),
            prayer_id: field(1).ok_or("missing prayer_id")?.to_string(),
            attribute_name: None,
            attribute_value: None,
            user: String::new(),
            line: 0,
        };
        if kind == LedgerKind::Attributes {
            let n = fields.len();
            if n < start + 5 {
                return Err(format!("attribute line needs 5 fields: {line:?}"));
            }
            rec.attribute_name = field(2).map(str::to_string);
            rec.attribute_value = fields.get(start + 3..n - 1).map(|f| f.join("|"));
            rec.user = fields.get(n - 1).copied().unwrap_or_default().to_string();
        } else {
            rec.user = rest_from(2).ok_or("missing user")?;
            if fields.len() < start + 3 {
                return Err(format!("line needs 3 fields: {line:?}"));
            }
        }
        Ok(rec)
    }
}

/// The title word of each ledger.
fn title(kind: LedgerKind) -> &'static str {
    match kind {
        LedgerKind::Attributes => "Prayer Attributes for ",
        LedgerKind::Marks => "Prayer Marks for ",
        LedgerKind::Skips => "Prayer Skips for ",
    }
}

/// The `Format:` line of each ledger.
fn format_line(kind: LedgerKind) -> &'static str {
    match kind {
        LedgerKind::Attributes => {
            "Format: timestamp|prayer_id|attribute_name|attribute_value|user_id"
        }
        LedgerKind::Marks | LedgerKind::Skips => "Format: timestamp|prayer_id|user_id",
    }
}

/// The header ThyWill writes when it creates a month file (ends with `\n\n`).
pub fn monthly_header(kind: LedgerKind, t: &impl Datelike) -> String {
    format!("{}{}\n{}\n\n", title(kind), ts_my(t), format_line(kind))
}

fn is_non_data(line: &str) -> bool {
    let s = py_strip(line);
    let title_line = s.starts_with("Prayer ")
        && [" Attributes for ", " Marks for ", " Skips for "]
            .iter()
            .any(|w| s.contains(w))
        && HumanTime::parse(s.split('|').next().unwrap_or_default())
            .time
            .is_none();
    s.is_empty() || s.starts_with('#') || s.to_lowercase().starts_with("format") || title_line
}

/// Detects the ledger kind from a file name such as `2025_07_marks.txt`.
pub fn kind_from_file_name(name: &str) -> Option<LedgerKind> {
    if name.ends_with("_attributes.txt") {
        Some(LedgerKind::Attributes)
    } else if name.ends_with("_marks.txt") {
        Some(LedgerKind::Marks)
    } else if name.ends_with("_skips.txt") {
        Some(LedgerKind::Skips)
    } else {
        None
    }
}

/// Streams the records of a ledger file. Blank, title, `Format:` and `#` lines yield nothing.
pub fn parse_monthly<R: BufRead>(
    kind: LedgerKind,
    reader: R,
    path: Option<&Path>,
) -> impl Iterator<Item = std::result::Result<LedgerRecord, Diagnostic>> {
    let path_buf = path.map(Path::to_path_buf);
    LineReader::new(reader, path).filter_map(move |item| match item {
        Err(d) => Some(Err(d)),
        Ok(l) if is_non_data(&l.text) => None,
        Ok(l) => Some(
            LedgerRecord::parse_line(kind, &l.text)
                .map(|mut r| {
                    r.line = l.number;
                    r
                })
                .map_err(|reason| Diagnostic::new(path_buf.as_deref(), l.number, reason)),
        ),
    })
}

/// Re-renders a ledger file line by line; the kind comes from the file name in `path`
/// (marks when unknown).
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> Result<(Vec<u8>, Vec<Diagnostic>)> {
    let kind = path
        .and_then(|p| p.file_name())
        .and_then(|n| kind_from_file_name(&n.to_string_lossy()))
        .unwrap_or(LedgerKind::Marks);
    Ok(rerender_lines(bytes, path, |n, line| {
        if is_non_data(line) {
            return Ok(line.to_string());
        }
        LedgerRecord::parse_line(kind, line)
            .map(|r| r.render())
            .map_err(|reason| Diagnostic::new(path, n, reason))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_in_value_and_id_first_layout() {
        // The writer's raw pipe stays in the value.
        let r = LedgerRecord::parse_line(
            LedgerKind::Attributes,
            "July 06 2025 at 10:00|abc123|answer_testimony|a|b|system",
        )
        .unwrap();
        assert_eq!(r.attribute_value.as_deref(), Some("a|b"));
        assert_eq!(r.user, "system");
        assert_eq!(
            r.render(),
            "July 06 2025 at 10:00|abc123|answer_testimony|a|b|system"
        );
        let m =
            LedgerRecord::parse_line(LedgerKind::Marks, "m1|July 06 2025 at 10:00|p|Ann").unwrap();
        assert_eq!(m.id.as_deref(), Some("m1"));
        let u = LedgerRecord::parse_line(LedgerKind::Marks, "July 06 2025 at 10:00|p|a|b").unwrap();
        assert_eq!(u.user, "a|b");
        assert!(LedgerRecord::parse_line(LedgerKind::Skips, "garbage").is_err());
    }
}
