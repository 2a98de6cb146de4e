//! Monthly user registrations `users/{YM}_users.txt`.
//!
//! ```text
//! User Registrations for July 2025
//!
//! July 06 2025 at 09:05 - Mary Jo joined on invitation from Admin
//! July 06 2025 at 09:05 - Bob Smith joined directly
//! ```

use std::io::BufRead;
use std::path::Path;

use chrono::{Datelike, NaiveDateTime};
use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::lines::{rerender_lines, LineReader};
use super::timestamp::{ts_my, HumanTime};
use crate::pycompat::strings::py_strip;
use crate::Result;

const INVITED: &str = " joined on invitation from ";
const DIRECT: &str = " joined directly";
const TITLE: &str = "User Registrations";

/// One registration line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRegistration {
    /// When the user registered (or the DB `created_at` for heal-written lines).
    pub timestamp: HumanTime,
    /// The display name, verbatim.
    pub name: String,
    /// The inviter's display name; `None` (or empty) renders `joined directly`.
    pub invited_by: Option<String>,
    /// The 1-based line in the file (0 when not read from a file).
    #[serde(skip_serializing_if = "is_zero")]
    pub line: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl UserRegistration {
    /// A registration at `t`.
    pub fn new(t: NaiveDateTime, name: impl Into<String>, invited_by: Option<String>) -> Self {
        UserRegistration {
            timestamp: HumanTime::from_time(t),
            name: name.into(),
            invited_by,
            line: 0,
        }
    }

    /// The line ThyWill appends (without LF).
    pub fn render(&self) -> String {
        match self.invited_by.as_deref().filter(|s| !s.is_empty()) {
            Some(inv) => format!("{} - {}{INVITED}{inv}", self.timestamp.text, self.name),
            None => format!("{} - {}{DIRECT}", self.timestamp.text, self.name),
        }
    }

    /// Parses one line. Fixes over ThyWill's reader: the name and inviter are kept
    /// verbatim and whole (everything after the first ` joined on invitation from ` is the
    /// inviter; only the final ` joined directly` is removed). A line with surrounding
    /// whitespace is read after stripping it, as ThyWill does.
    pub fn parse_line(line: &str) -> std::result::Result<Self, String> {
        match Self::parse_exact(line) {
            Ok(r) => Ok(r),
            Err(e) => {
                let stripped = py_strip(line);
                if stripped.len() != line.len() {
                    Self::parse_exact(stripped)
                } else {
                    Err(e)
                }
            }
        }
    }

    fn parse_exact(line: &str) -> std::result::Result<Self, String> {
        let (ts, rest) = line
            .split_once(" - ")
            .ok_or_else(|| format!("not a registration line: {line:?}"))?;
        let timestamp = HumanTime::parse(ts);
        if timestamp.time.is_none() {
            return Err(format!("unreadable timestamp {ts:?}"));
        }
        let (name, invited_by) = if let Some((name, inv)) = rest.split_once(INVITED) {
            (name, Some(inv.to_string()))
        } else if let Some(name) = rest.strip_suffix(DIRECT) {
            (name, None)
        } else {
            return Err(format!("no ` joined ` phrase in {line:?}"));
        };
        Ok(UserRegistration {
            timestamp,
            name: name.to_string(),
            invited_by,
            line: 0,
        })
    }
}

/// A registration as ThyWill's importer reads it (`_import_user_registration_file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThyWillRegistration {
    /// The parsed timestamp.
    pub timestamp: NaiveDateTime,
    /// `parts[0].strip()` (or the rest with every ` joined directly` removed, stripped).
    pub name: String,
    /// `parts[1].strip()`: the text between the first and second invitation marker.
    pub inviter: Option<String>,
}

/// ThyWill's own reading of one registration line, defects included: `None` where
/// ThyWill skips the line. For imports that must match ThyWill exactly.
pub fn parse_line_thywill(line: &str) -> Option<ThyWillRegistration> {
    let line = py_strip(line);
    if line.is_empty()
        || line.starts_with(TITLE)
        || !line.contains(" - ")
        || !line.contains(" joined ")
    {
        return None;
    }
    let (ts, rest) = line.split_once(" - ")?;
    let timestamp = crate::pycompat::datetime::strptime_ts_h(ts)?;
    let (name, inviter) = if rest.contains(INVITED) {
        let mut parts = rest.split(INVITED);
        let name = py_strip(parts.next().unwrap_or_default()).to_string();
        (
            name,
            Some(py_strip(parts.next().unwrap_or_default()).to_string()),
        )
    } else if rest.contains(DIRECT) {
        (py_strip(&rest.replace(DIRECT, "")).to_string(), None)
    } else {
        return None;
    };
    Some(ThyWillRegistration {
        timestamp,
        name,
        inviter,
    })
}

/// The header ThyWill writes when it creates the month file: `User Registrations for {TS_MY}\n\n`.
pub fn monthly_header(t: &impl Datelike) -> String {
    format!("{TITLE} for {}\n\n", ts_my(t))
}

fn is_skipped(line: &str) -> bool {
    let s = py_strip(line);
    s.is_empty() || s.starts_with(TITLE)
}

/// Streams the registrations of a monthly file. Empty lines and the title are skipped;
/// every other line yields a record or a located diagnostic. Memory stays flat.
pub fn parse_monthly<R: BufRead>(
    reader: R,
    path: Option<&Path>,
) -> impl Iterator<Item = std::result::Result<UserRegistration, Diagnostic>> {
    let path_buf = path.map(Path::to_path_buf);
    LineReader::new(reader, path).filter_map(move |item| match item {
        Err(d) => Some(Err(d)),
        Ok(l) if is_skipped(&l.text) => None,
        Ok(l) => Some(
            UserRegistration::parse_line(&l.text)
                .map(|mut r| {
                    r.line = l.number;
                    r
                })
                .map_err(|reason| Diagnostic::new(path_buf.as_deref(), l.number, reason)),
        ),
    })
}

/// Re-renders a monthly registrations file line by line (for `thywill archive check`).
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> Result<(Vec<u8>, Vec<Diagnostic>)> {
    Ok(rerender_lines(bytes, path, |n, line| {
        if is_skipped(line) {
            return Ok(line.to_string());
        }
        UserRegistration::parse_line(line)
            .map(|r| r.render())
            .map_err(|reason| Diagnostic::new(path, n, reason))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vectors_25_and_26() {
        let p = |s: &str| UserRegistration::parse_line(s);
        let a = p("July 6 2025 at 9:05 - A joined on invitation from Mary - Jo").unwrap();
        assert_eq!(
            (a.name.as_str(), a.invited_by.as_deref()),
            ("A", Some("Mary - Jo"))
        );
        assert!(p("july 06 2025  at 09:05 - B joined directly").is_ok());
        assert!(p("July 06 2025 at 09:05:33 - C joined directly").is_err());
        assert!(p("Jul 06 2025 at 09:05 - D joined directly").is_err());
        let al = p(
            "July 06 2025 at 09:05 - Al joined on invitation from Bo joined on invitation from Cy",
        )
        .unwrap();
        assert_eq!(al.name, "Al");
        assert_eq!(
            al.invited_by.as_deref(),
            Some("Bo joined on invitation from Cy")
        );
        let t = |s: &str| parse_line_thywill(s).map(|r| (r.name, r.inviter));
        assert_eq!(
            t("July 06 2025 at 09:05 - Al joined on invitation from Bo joined on invitation from Cy"),
            Some(("Al".into(), Some("Bo".into())))
        );
        assert_eq!(
            t("July 06 2025 at 09:05 - Bob joined directly joined directly"),
            Some(("Bob".into(), None))
        );
        assert_eq!(t("July 06 2025 at 09:05:33 - C joined directly"), None);
        let bob = p("July 06 2025 at 09:05 - Bob joined directly joined directly").unwrap();
        assert_eq!(bob.name, "Bob joined directly");
        assert_eq!(
            bob.render(),
            "July 06 2025 at 09:05 - Bob joined directly joined directly"
        );
    }
}
