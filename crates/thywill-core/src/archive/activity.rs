//! Monthly activity log `activity/activity_{YM}.txt`. ThyWill never imports it;
//! it is parsed here for checks, statistics and recovery of who did what.
//!
//! ```text
//! Activity for July 2025
//!
//!
//! July 06 2025
//! 09:05 - Zed submitted prayer abc123 (proj)
//! 09:05 - Bob Smith prayed for prayer abc123
//! ```

use std::io::BufRead;
use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::lines::{rerender_lines, LineReader};
use super::timestamp::{ts_day, ts_hm, ts_my};
use crate::pycompat::datetime::MONTH_NAMES;
use crate::Result;

const TITLE: &str = "Activity for ";

/// One entry line: `{HH:MM} - {user} {action}[ ({tag})]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthlyActivity {
    /// The date of the day header above the line (`None` if no header precedes it).
    /// Note ThyWill's substring test can put a line under the previous day's header.
    pub date: Option<NaiveDate>,
    /// The minute.
    pub time: NaiveTime,
    /// The user's display name (may be empty).
    pub user: String,
    /// The action text, e.g. `prayed for prayer abc123`.
    pub action: String,
    /// The tag in parentheses at the end (only `submitted prayer` carries one in practice).
    pub tag: Option<String>,
    /// The 1-based line in the file (0 when not read from a file).
    #[serde(skip_serializing_if = "is_zero")]
    pub line: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a [`MonthlyActivity`] action says, for the actions ThyWill writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MonthlyAction {
    /// `submitted prayer {id}`
    SubmittedPrayer {
        /// The prayer.
        prayer_id: String,
    },
    /// `prayed for prayer {id}`
    PrayedFor {
        /// The prayer.
        prayer_id: String,
    },
    /// `marked prayer {id} as answered`
    MarkedAnswered {
        /// The prayer.
        prayer_id: String,
    },
    /// `archived prayer {id}`
    Archived {
        /// The prayer.
        prayer_id: String,
    },
    /// `restored prayer {id}`
    Restored {
        /// The prayer.
        prayer_id: String,
    },
    /// `flagged prayer {id}` (the archive-first flag action)
    Flagged {
        /// The prayer.
        prayer_id: String,
    },
    /// `added testimony for prayer {id}`
    AddedTestimony {
        /// The prayer.
        prayer_id: String,
    },
    /// `registered via invitation from {inviter}`
    RegisteredViaInvitation {
        /// The inviter's display name.
        inviter: String,
    },
    /// `registered directly`
    RegisteredDirectly,
    /// Anything else.
    Other,
}

/// (prefix, suffix) pairs of the prayer-ID actions: `{prefix}{id}{suffix}`.
const PRAYER_ACTIONS: [(&str, &str); 7] = [
    ("submitted prayer ", ""),
    ("prayed for prayer ", ""),
    ("marked prayer ", " as answered"),
    ("archived prayer ", ""),
    ("restored prayer ", ""),
    ("flagged prayer ", ""),
    ("added testimony for prayer ", ""),
];

fn prayer_action(prefix: &str, id: String) -> MonthlyAction {
    match prefix {
        "submitted prayer " => MonthlyAction::SubmittedPrayer { prayer_id: id },
        "prayed for prayer " => MonthlyAction::PrayedFor { prayer_id: id },
        "marked prayer " => MonthlyAction::MarkedAnswered { prayer_id: id },
        "archived prayer " => MonthlyAction::Archived { prayer_id: id },
        "restored prayer " => MonthlyAction::Restored { prayer_id: id },
        "flagged prayer " => MonthlyAction::Flagged { prayer_id: id },
        _ => MonthlyAction::AddedTestimony { prayer_id: id },
    }
}

/// Splits `{action}[ ({tag})]` for a known action text at the start of `s`; returns the
/// action text, tag and meaning, or `None` if `s` is not a known action.
fn match_action(s: &str) -> Option<(String, Option<String>, MonthlyAction)> {
    let split_tag = |tail: &str| -> Option<Option<String>> {
        if tail.is_empty() {
            Some(None)
        } else {
            tail.strip_prefix(" (")
                .and_then(|t| t.strip_suffix(')'))
                .map(|t| Some(t.to_string()))
        }
    };
    for (prefix, suffix) in PRAYER_ACTIONS {
        let Some(after) = s.strip_prefix(prefix) else {
            continue;
        };
        let id_len = after.find(' ').unwrap_or(after.len());
        let (id, tail) = after.split_at(id_len);
        if id.is_empty() {
            continue;
        }
        let Some(tail) = tail.strip_prefix(suffix) else {
            continue;
        };
        if let Some(tag) = split_tag(tail) {
            let action = format!("{prefix}{id}{suffix}");
            return Some((action, tag, prayer_action(prefix, id.to_string())));
        }
    }
    if let Some(tail) = s.strip_prefix("registered directly") {
        if let Some(tag) = split_tag(tail) {
            return Some((
                "registered directly".into(),
                tag,
                MonthlyAction::RegisteredDirectly,
            ));
        }
    }
    if let Some(inviter) = s.strip_prefix("registered via invitation from ") {
        return Some((
            s.to_string(),
            None,
            MonthlyAction::RegisteredViaInvitation {
                inviter: inviter.to_string(),
            },
        ));
    }
    None
}

impl MonthlyActivity {
    /// The line ThyWill appends (without LF and without any day header).
    pub fn render(&self) -> String {
        let mut parts = vec![
            ts_hm(&self.time),
            "-".into(),
            self.user.clone(),
            self.action.clone(),
        ];
        if let Some(t) = self.tag.as_deref().filter(|t| !t.is_empty()) {
            parts.push(format!("({t})"));
        }
        parts.join(" ")
    }

    /// What the action means.
    pub fn meaning(&self) -> MonthlyAction {
        match_action(&self.action)
            .map(|(_, _, m)| m)
            .unwrap_or(MonthlyAction::Other)
    }

    /// Parses an entry line. The user is the text before the earliest known action
    /// (multi-word names work); for unknown actions the user is the first word.
    pub fn parse_line(line: &str, date: Option<NaiveDate>) -> std::result::Result<Self, String> {
        let (hm, rest) = line
            .split_once(" - ")
            .ok_or_else(|| format!("not an activity line: {line:?}"))?;
        let time = parse_hm(hm).ok_or_else(|| format!("unreadable time {hm:?}"))?;
        let mut found = None;
        for (i, _) in rest.match_indices(' ') {
            if let Some(m) = match_action(rest.get(i + 1..).unwrap_or_default()) {
                found = Some((i, m));
                break;
            }
        }
        let (user, action, tag) = match found {
            Some((i, (action, tag, _))) => (rest.get(..i).unwrap_or_default(), action, tag),
            None => match rest.split_once(' ') {
                Some((u, a)) => (u, a.to_string(), None),
                None => return Err(format!("no action in {line:?}")),
            },
        };
        Ok(MonthlyActivity {
            date,
            time,
            user: user.to_string(),
            action,
            tag,
            line: 0,
        })
    }
}

/// `HH:MM`, two digits each, as `TS_HM` writes it.
fn parse_hm(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    if b.len() != 5 || b.get(2) != Some(&b':') {
        return None;
    }
    let h: u32 = s.get(..2)?.parse().ok()?;
    let m: u32 = s.get(3..)?.parse().ok()?;
    if !s.get(..2)?.bytes().all(|c| c.is_ascii_digit())
        || !s.get(3..)?.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    NaiveTime::from_hms_opt(h, m, 0)
}

/// A day header `TS_DAY` (`July 06 2025`), exactly as ThyWill writes it.
pub(crate) fn parse_day_header(s: &str) -> Option<NaiveDate> {
    let mut it = s.split(' ');
    let (month, day, year) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let m = MONTH_NAMES.iter().position(|n| *n == month)? as u32 + 1;
    if !day.bytes().chain(year.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, m, day.parse().ok()?)
}

/// The header ThyWill writes when it creates the month file: `Activity for {TS_MY}\n\n`.
pub fn monthly_header(t: &impl Datelike) -> String {
    format!("{TITLE}{}\n\n", ts_my(t))
}

/// What one line of an activity file is.
enum LineKind {
    Blank,
    Title,
    Day(NaiveDate),
    Entry,
}

fn line_kind(line: &str) -> LineKind {
    if line.is_empty() {
        LineKind::Blank
    } else if line.starts_with(TITLE) {
        LineKind::Title
    } else if let Some(d) = parse_day_header(line) {
        LineKind::Day(d)
    } else {
        LineKind::Entry
    }
}

/// Streams the entries of a monthly activity file, each with the date of the day header
/// above it. Title, blank and day-header lines yield nothing; other unreadable lines yield
/// located diagnostics.
pub fn parse_monthly<R: BufRead>(
    reader: R,
    path: Option<&Path>,
) -> impl Iterator<Item = std::result::Result<MonthlyActivity, Diagnostic>> {
    let path_buf = path.map(Path::to_path_buf);
    let mut date = None;
    LineReader::new(reader, path).filter_map(move |item| match item {
        Err(d) => Some(Err(d)),
        Ok(l) => match line_kind(&l.text) {
            LineKind::Blank | LineKind::Title => None,
            LineKind::Day(d) => {
                date = Some(d);
                None
            }
            LineKind::Entry => Some(
                MonthlyActivity::parse_line(&l.text, date)
                    .map(|mut a| {
                        a.line = l.number;
                        a
                    })
                    .map_err(|reason| Diagnostic::new(path_buf.as_deref(), l.number, reason)),
            ),
        },
    })
}

/// Re-renders a monthly activity file line by line (for `thywill archive check`).
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> Result<(Vec<u8>, Vec<Diagnostic>)> {
    Ok(rerender_lines(bytes, path, |n, line| {
        match line_kind(line) {
            LineKind::Blank | LineKind::Title => Ok(line.to_string()),
            LineKind::Day(d) => Ok(ts_day(&d)),
            LineKind::Entry => MonthlyActivity::parse_line(line, None)
                .map(|a| a.render())
                .map_err(|reason| Diagnostic::new(path, n, reason)),
        }
    }))
}

/// Whether ThyWill's writer thinks today's day header is already present:
/// `"\n" + day + "\n"` occurs in the content, or the content ends with `day + "\n"`.
pub(crate) fn day_header_present(content: &str, day: &impl Datelike) -> bool {
    let d = ts_day(day);
    content.contains(&format!("\n{d}\n")) || content.ends_with(&format!("{d}\n"))
}

/// ThyWill's action rewrite: unchanged if it contains `prayer` or there is no
/// prayer ID; otherwise every ` {id}` becomes ` prayer {id}`.
pub(crate) fn thywill_action_text(action: &str, prayer_id: Option<&str>) -> String {
    match prayer_id.filter(|p| !p.is_empty()) {
        Some(id) if !action.contains("prayer") => {
            action.replace(&format!(" {id}"), &format!(" prayer {id}"))
        }
        _ => action.to_string(),
    }
}

/// Builds the record appended for an entry at `t`: the line, preceded by
/// `"\n" + TS_DAY + "\n"` when the day header is missing from `content`.
pub(crate) fn append_record(content: &str, entry: &MonthlyActivity, day: &impl Datelike) -> String {
    let line = entry.render();
    if day_header_present(content, day) {
        line
    } else {
        format!("\n{}\n{line}", ts_day(day))
    }
}

/// The minute of `t` (seconds and below dropped), as an entry's `time`.
pub(crate) fn minute_of(t: &impl Timelike) -> NaiveTime {
    NaiveTime::from_hms_opt(t.hour(), t.minute(), 0).unwrap_or(NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiword_users_tags_and_meaning() {
        let a = MonthlyActivity::parse_line("09:05 - Zed submitted prayer abc123 (proj)", None)
            .unwrap();
        assert_eq!(a.user, "Zed");
        assert_eq!(a.tag.as_deref(), Some("proj"));
        assert_eq!(a.render(), "09:05 - Zed submitted prayer abc123 (proj)");
        let b = MonthlyActivity::parse_line(
            "00:01 - Mary Jo registered via invitation from Admin (x)",
            None,
        )
        .unwrap();
        assert_eq!(b.user, "Mary Jo");
        assert_eq!(
            b.meaning(),
            MonthlyAction::RegisteredViaInvitation {
                inviter: "Admin (x)".into()
            }
        );
        let c = MonthlyActivity::parse_line("09:05 -  registered directly", None).unwrap();
        assert_eq!(c.user, "");
        assert_eq!(c.render(), "09:05 -  registered directly");
        assert_eq!(
            thywill_action_text("answered 456", Some("456")),
            "answered prayer 456"
        );
    }
}
