//! The privacy rules of the downloads (docs/downloads.md), in one place:
//!
//! - Flagged prayers are never in the community ZIP (nor in a user's copy of the community
//!   logs): their files are left out, and so is every activity-log or ledger line about them.
//! - Who prayed for or skipped a prayer is left out of community copies unless asked for
//!   (`include_prayer_activity`): the "prayed this prayer" lines of prayer files, the
//!   "prayed for prayer" lines of activity logs, the marks and skips ledgers.
//! - Who flagged or unflagged a prayer, and who skipped one, is moderation and private
//!   data: those lines are never copied, not even into the author's own prayer files.
//! - Of `users/`, only the monthly registration files are community data; attribute and
//!   notification files and export-all dumps are not copied.

use std::collections::HashSet;
use std::io::Write;

use rusqlite::Connection;

use super::Excluded;
use crate::Result;

/// What a prayer file's activity line records, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineKind {
    /// Someone prayed for the prayer (a mark).
    Prayed,
    /// Someone skipped it.
    Skipped,
    /// Someone flagged or unflagged it.
    Flagged,
    /// Anything else (answered, archived, restored, text).
    Other,
}

/// The rules applied to one download.
pub(crate) struct Privacy {
    flagged: HashSet<String>,
    include_prayer_activity: bool,
}

impl Privacy {
    /// The flagged prayers of the database (the `flagged` column or a `flagged` attribute,
    /// whichever says so: ThyWill writes either, depending on the route).
    pub(crate) fn load(conn: &Connection, include_prayer_activity: bool) -> Result<Privacy> {
        let mut flagged = HashSet::new();
        let mut stmt = conn.prepare("SELECT id FROM prayer WHERE flagged")?;
        for id in stmt.query_map([], |r| r.get::<_, String>(0))? {
            flagged.insert(id?);
        }
        let has_attributes = crate::db::table_columns(conn, "prayer_attributes")?
            .iter()
            .any(|c| c == "attribute_name");
        if has_attributes {
            let mut stmt = conn.prepare(
                "SELECT prayer_id FROM prayer_attributes WHERE attribute_name = 'flagged' \
                 AND coalesce(attribute_value, 'true') NOT IN ('false', '0', '')",
            )?;
            for id in stmt.query_map([], |r| r.get::<_, String>(0))? {
                flagged.insert(id?);
            }
        }
        Ok(Privacy {
            flagged,
            include_prayer_activity,
        })
    }

    /// True when `id` is a flagged prayer.
    pub(crate) fn is_flagged(&self, id: &str) -> bool {
        self.flagged.contains(id)
    }

    /// True when a prayer file whose text starts with `text` (its first line is enough)
    /// may be in a community copy: it is not a flagged prayer's. The community ZIP and the
    /// listing both decide by this.
    pub(crate) fn admits_prayer_file(&self, text: &str) -> bool {
        !Self::prayer_id_of(text).is_some_and(|id| self.is_flagged(id))
    }

    /// The prayer id of a prayer file's first line (`Prayer <id> by <name>`).
    pub(crate) fn prayer_id_of(text: &str) -> Option<&str> {
        let first = text.lines().next()?;
        let rest = first.strip_prefix("Prayer ")?;
        rest.split(' ').next().filter(|id| !id.is_empty())
    }

    /// Copies a prayer file for a community copy: its activity lines of marks only when
    /// asked for, never skips or flags.
    pub(crate) fn copy_community_prayer(
        &self,
        text: &str,
        out: &mut impl Write,
        excluded: &mut Excluded,
    ) -> std::io::Result<()> {
        copy_prayer(text, out, excluded, |kind| match kind {
            LineKind::Prayed => self.include_prayer_activity,
            LineKind::Skipped | LineKind::Flagged => false,
            LineKind::Other => true,
        })
    }

    /// Copies one of a user's own prayer files: who prayed for it is shown to everyone
    /// in the community view and stays; skips and flags go.
    pub(crate) fn copy_own_prayer(
        text: &str,
        out: &mut impl Write,
        excluded: &mut Excluded,
    ) -> std::io::Result<()> {
        copy_prayer(text, out, excluded, |kind| {
            !matches!(kind, LineKind::Skipped | LineKind::Flagged)
        })
    }

    /// Copies a monthly activity log: lines about flagged prayers, flags and skips go, marks
    /// unless asked for; a day left without lines loses its heading.
    pub(crate) fn copy_activity_log(
        &self,
        text: &str,
        out: &mut impl Write,
        excluded: &mut Excluded,
    ) -> std::io::Result<()> {
        let mut heading: Option<&str> = None;
        for line in text.split_inclusive('\n') {
            let bare = line.trim_end_matches(['\n', '\r']);
            if is_log_entry(bare) {
                if self.keep_log_entry(bare) {
                    if let Some(h) = heading.take() {
                        out.write_all(h.as_bytes())?;
                    }
                    out.write_all(line.as_bytes())?;
                } else {
                    excluded.lines += 1;
                }
            } else if bare.is_empty() {
                // The blank line that closes a day whose lines all went goes with its heading.
                if heading.take().is_none() {
                    out.write_all(line.as_bytes())?;
                }
            } else {
                if let Some(h) = heading.take() {
                    out.write_all(h.as_bytes())?;
                }
                if is_human_day(bare) {
                    heading = Some(line);
                } else {
                    out.write_all(line.as_bytes())?;
                }
            }
        }
        if let Some(h) = heading {
            out.write_all(h.as_bytes())?;
        }
        Ok(())
    }

    fn keep_log_entry(&self, line: &str) -> bool {
        let about_flagged = line.split(" prayer ").skip(1).any(|rest| {
            rest.split(' ')
                .next()
                .is_some_and(|id| self.flagged.contains(id))
        });
        if about_flagged {
            return false;
        }
        if line.contains(" flagged prayer ")
            || line.contains(" unflagged prayer ")
            || line.contains(" skipped prayer ")
        {
            return false;
        }
        self.include_prayer_activity || !line.contains(" prayed for prayer ")
    }

    /// Copies a marks or skips ledger (`timestamp|prayer_id|user`): only when asked for,
    /// and never the lines of flagged prayers. Returns false when the file is left out.
    pub(crate) fn copy_ledger(
        &self,
        text: &str,
        out: &mut impl Write,
        excluded: &mut Excluded,
    ) -> std::io::Result<()> {
        for line in text.split_inclusive('\n') {
            let mut fields = line.split('|');
            let id = fields.nth(1);
            if id.is_some_and(|id| self.flagged.contains(id.trim())) {
                excluded.lines += 1;
            } else {
                out.write_all(line.as_bytes())?;
            }
        }
        Ok(())
    }

    /// Whether marks and skips ledgers go into community copies.
    pub(crate) fn includes_prayer_activity(&self) -> bool {
        self.include_prayer_activity
    }
}

/// Copies a prayer file, keeping the activity lines (after the last `Activity:` line)
/// whose kind `keep` accepts.
fn copy_prayer(
    text: &str,
    out: &mut impl Write,
    excluded: &mut Excluded,
    keep: impl Fn(LineKind) -> bool,
) -> std::io::Result<()> {
    let activity_at = text
        .rmatch_indices("Activity:\n")
        .filter(|(i, _)| *i == 0 || text.as_bytes().get(i - 1) == Some(&b'\n'))
        .map(|(i, m)| i + m.len())
        .next();
    let Some(start) = activity_at else {
        return out.write_all(text.as_bytes());
    };
    let (head, activity) = text.split_at(start);
    out.write_all(head.as_bytes())?;
    for line in activity.split_inclusive('\n') {
        let kind = activity_kind(line.trim_end_matches(['\n', '\r']));
        if keep(kind) {
            out.write_all(line.as_bytes())?;
        } else {
            excluded.lines += 1;
        }
    }
    Ok(())
}

/// The kind of a prayer file's activity line (`<Month DD YYYY at HH:MM> - <name> <verb>`).
fn activity_kind(line: &str) -> LineKind {
    let Some((stamp, rest)) = line.split_once(" - ") else {
        return LineKind::Other;
    };
    if !is_human_stamp(stamp) {
        return LineKind::Other;
    }
    if rest.ends_with(" prayed this prayer") {
        LineKind::Prayed
    } else if rest.ends_with(" skipped this prayer") {
        LineKind::Skipped
    } else if rest.ends_with(" flagged this prayer") || rest.ends_with(" unflagged this prayer") {
        LineKind::Flagged
    } else {
        LineKind::Other
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `Month DD YYYY` (an activity log's day heading), checked by hand: this runs for every
/// line of every file, where a general date parser costs more than the rest of the copy.
fn is_human_day(s: &str) -> bool {
    let Some((month, rest)) = s.split_once(' ') else {
        return false;
    };
    let b = rest.as_bytes();
    MONTHS.contains(&month)
        && b.len() == 7
        && b.get(..2).is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && b.get(2) == Some(&b' ')
        && b.get(3..).is_some_and(|d| d.iter().all(u8::is_ascii_digit))
}

/// `Month DD YYYY at HH:MM` (a prayer file's activity stamp).
fn is_human_stamp(s: &str) -> bool {
    let Some((day, time)) = s.split_once(" at ") else {
        return false;
    };
    let t = time.as_bytes();
    is_human_day(day)
        && t.len() == 5
        && t.get(2) == Some(&b':')
        && [0, 1, 3, 4]
            .iter()
            .all(|&i| t.get(i).is_some_and(u8::is_ascii_digit))
}

/// An activity log's entry line: `HH:MM - ...`.
fn is_log_entry(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 8
        && b.get(..2).is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && b.get(2) == Some(&b':')
        && b.get(3..5)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && line.get(5..8) == Some(" - ")
}

/// True for the monthly registration files of `users/` (`YYYY_MM_users.txt`).
pub(crate) fn is_monthly_users_file(name: &str) -> bool {
    name.strip_suffix("_users.txt").is_some_and(is_year_month)
}

/// True for the monthly activity logs (`activity_YYYY_MM.txt`).
pub(crate) fn is_activity_log(name: &str) -> bool {
    name.strip_prefix("activity_")
        .and_then(|n| n.strip_suffix(".txt"))
        .is_some_and(is_year_month)
}

/// `YYYY_MM`.
fn is_year_month(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7
        && b.get(..4).is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && b.get(4) == Some(&b'_')
        && b.get(5..).is_some_and(|d| d.iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn privacy(flagged: &[&str], include: bool) -> Privacy {
        Privacy {
            flagged: flagged.iter().map(|s| s.to_string()).collect(),
            include_prayer_activity: include,
        }
    }

    #[test]
    fn activity_logs_lose_marks_flags_and_flagged_prayers() {
        let log = "Activity for March 2024\n\n\nMarch 01 2024\n17:26 - Carmen prayed for prayer aa\n\nMarch 02 2024\n03:29 - John submitted prayer bb\n06:16 - Ann prayed for prayer bb\n07:00 - Ann submitted prayer ff\n\n";
        let mut out = Vec::new();
        let mut ex = Excluded::default();
        privacy(&["ff"], false)
            .copy_activity_log(log, &mut out, &mut ex)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Activity for March 2024\n\n\nMarch 02 2024\n03:29 - John submitted prayer bb\n\n"
        );
        assert_eq!(ex.lines, 3);
    }

    #[test]
    fn prayer_files_lose_marks_only_after_the_activity_heading() {
        let file = "Prayer aa by John\nSubmitted March 02 2024 at 03:29\n\nMarch 02 2024 at 06:42 - Ruth prayed this prayer\n\nActivity:\nMarch 02 2024 at 06:42 - Ruth prayed this prayer\nMarch 03 2024 at 06:42 - Ruth flagged this prayer\nMarch 04 2024 at 06:42 - John archived this prayer\n";
        let mut out = Vec::new();
        let mut ex = Excluded::default();
        privacy(&[], false)
            .copy_community_prayer(file, &mut out, &mut ex)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("\n\nMarch 02 2024 at 06:42 - Ruth prayed this prayer\n\nActivity:\n")
        );
        assert!(text.ends_with("Activity:\nMarch 04 2024 at 06:42 - John archived this prayer\n"));
        assert_eq!(ex.lines, 2);
        assert_eq!(Privacy::prayer_id_of(file), Some("aa"));
    }

    #[test]
    fn stamps() {
        assert!(is_human_stamp("March 02 2024 at 06:42"));
        assert!(!is_human_stamp("Marc 02 2024 at 06:42"));
        assert!(!is_human_stamp("March 02 2024 at 6:42"));
        assert!(is_human_day("December 13 2023"));
        assert!(!is_human_day("Activity for March 2024"));
    }

    #[test]
    fn monthly_names() {
        assert!(is_monthly_users_file("2024_03_users.txt"));
        assert!(!is_monthly_users_file("user_attributes.txt"));
        assert!(is_activity_log("activity_2024_03.txt"));
        assert!(!is_activity_log("activity_log.txt"));
    }
}
