//! `users/user_attributes.txt`: `User Attributes`, a blank line, then one
//! `key: value` block per user, each followed by a blank line.
//!
//! Limits: `username` and `supporter_type` are stripped on reading (Python `strip()`), so
//! leading/trailing whitespace does not survive; no value may contain a line break.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::lines::Lines;
use super::record::collect_records;
use super::timestamp;
use crate::pycompat::strings;

/// One user's block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserAttributes {
    /// Display name.
    pub username: String,
    /// `true`/`false`.
    pub is_supporter: bool,
    /// Date only (`YYYY-MM-DD`); the time of day is lost.
    pub supporter_since: Option<NaiveDate>,
    /// Comma-separated supporter types; written only when non-empty.
    pub supporter_type: Option<String>,
    /// `true`/`false`.
    pub welcome_message_dismissed: bool,
    /// Other `key: value` lines (ThyWill writes none), written before
    /// `welcome_message_dismissed`.
    pub other: Vec<(String, String)>,
}

impl UserAttributes {
    /// The block's bytes, including the blank line after it.
    pub fn render(&self) -> String {
        let mut out = format!(
            "username: {}\nis_supporter: {}\n",
            self.username,
            bool_lc(self.is_supporter)
        );
        if let Some(d) = &self.supporter_since {
            out.push_str(&format!("supporter_since: {}\n", timestamp::date_only(d)));
        }
        if let Some(t) = self.supporter_type.as_deref().filter(|t| !t.is_empty()) {
            out.push_str(&format!("supporter_type: {t}\n"));
        }
        for (k, v) in &self.other {
            out.push_str(&format!("{k}: {v}\n"));
        }
        out.push_str(&format!(
            "welcome_message_dismissed: {}\n\n",
            bool_lc(self.welcome_message_dismissed)
        ));
        out
    }
}

fn bool_lc(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserAttributesFile {
    /// Blocks in file order.
    pub users: Vec<UserAttributes>,
}

impl UserAttributesFile {
    /// The export's file for these users: de-duplicated by display name (first kept) and
    /// sorted by code point, as `ExportService` does.
    pub fn export(users: &[UserAttributes]) -> Self {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<UserAttributes> = users
            .iter()
            .filter(|u| seen.insert(u.username.clone()))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.username.cmp(&b.username));
        UserAttributesFile { users: out }
    }

    /// Writes the file (ThyWill overwrites in place; this writes atomically, which readers
    /// cannot tell apart except that they never see a half-written file). The folder must
    /// exist.
    pub fn write(&self, path: &Path) -> crate::Result<()> {
        super::fileops::atomic_write(path, self.render().as_bytes())
    }

    /// The bytes.
    pub fn render(&self) -> String {
        let mut out = String::from("User Attributes\n\n");
        for u in &self.users {
            out.push_str(&u.render());
        }
        out
    }

    /// Parses a whole file.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let (users, diags) = collect_records(UserAttributesReader::new(bytes, path));
        (UserAttributesFile { users }, diags)
    }
}

/// Re-renderer of `users/user_attributes.txt`.
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (f, d) = UserAttributesFile::parse(bytes, path);
    Ok((f.render().into_bytes(), d))
}

/// Streams the blocks of `user_attributes.txt`. Like ThyWill's readers each line is
/// stripped, split on the first `:`, and `username` starts a block; booleans are true iff
/// the value lowercased is `true`. Unlike them, a bad `supporter_since`, a key before any
/// `username` or a line without `:` is reported.
pub struct UserAttributesReader<B> {
    lines: Lines<B>,
    current: Option<UserAttributes>,
    out: VecDeque<Result<UserAttributes, Diagnostic>>,
    done: bool,
}

impl<B: BufRead> UserAttributesReader<B> {
    /// A reader over `reader`; `path` labels diagnostics.
    pub fn new(reader: B, path: Option<&Path>) -> Self {
        UserAttributesReader {
            lines: Lines::new(reader, path),
            current: None,
            out: VecDeque::new(),
            done: false,
        }
    }

    fn feed(&mut self, number: usize, raw: &str) {
        let line = strings::py_strip(raw);
        if line.is_empty() || line == "User Attributes" {
            return;
        }
        let Some((k, v)) = line.split_once(':') else {
            self.out
                .push_back(Err(self.lines.diag(number, "expected `key: value`")));
            return;
        };
        let (k, v) = (strings::py_strip(k), strings::py_strip(v));
        if k == "username" {
            if let Some(u) = self.current.take() {
                self.out.push_back(Ok(u));
            }
            self.current = Some(UserAttributes {
                username: v.to_string(),
                is_supporter: false,
                supporter_since: None,
                supporter_type: None,
                welcome_message_dismissed: false,
                other: Vec::new(),
            });
            return;
        }
        let Some(cur) = self.current.as_mut() else {
            self.out.push_back(Err(self
                .lines
                .diag(number, format!("`{k}` before any username"))));
            return;
        };
        match k {
            "is_supporter" => cur.is_supporter = v.to_lowercase() == "true",
            "welcome_message_dismissed" => {
                cur.welcome_message_dismissed = v.to_lowercase() == "true"
            }
            "supporter_since" => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                Ok(d) => cur.supporter_since = Some(d),
                Err(_) => {
                    let d = self
                        .lines
                        .diag(number, format!("supporter_since `{v}` is not YYYY-MM-DD"));
                    self.out.push_back(Err(d));
                }
            },
            "supporter_type" => cur.supporter_type = (!v.is_empty()).then(|| v.to_string()),
            _ => cur.other.push((k.to_string(), v.to_string())),
        }
    }
}

impl<B: BufRead> Iterator for UserAttributesReader<B> {
    type Item = Result<UserAttributes, Diagnostic>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(x) = self.out.pop_front() {
                return Some(x);
            }
            if self.done {
                return None;
            }
            match self.lines.next() {
                Some(Ok(l)) => self.feed(l.number, &l.text),
                Some(Err(d)) => return Some(Err(d)),
                None => {
                    self.done = true;
                    if let Some(u) = self.current.take() {
                        return Some(Ok(u));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBSERVED: &str = "User Attributes\n\nusername: Mary Jo\nis_supporter: true\nsupporter_since: 2025-07-02\nsupporter_type: financial\nwelcome_message_dismissed: true\n\nusername: Zoë\nis_supporter: false\nwelcome_message_dismissed: false\n\n";

    #[test]
    fn observed_file_round_trips_and_export_order() {
        // Test vector 33.
        let (f, d) = UserAttributesFile::parse(OBSERVED.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.users.len(), 2);
        assert_eq!(
            f.users[0].supporter_since,
            NaiveDate::from_ymd_opt(2025, 7, 2)
        );
        assert_eq!(f.users[0].supporter_type.as_deref(), Some("financial"));
        assert_eq!(f.render(), OBSERVED);
        let mut rev = f.users.clone();
        rev.reverse();
        assert_eq!(UserAttributesFile::export(&rev).render(), OBSERVED);
    }

    #[test]
    fn bad_lines_are_located() {
        let bad = "User Attributes\n\nis_supporter: true\nusername: A\nsupporter_since: 2025-13-40\nnonsense\n";
        let (f, d) = UserAttributesFile::parse(bad.as_bytes(), None);
        assert_eq!(f.users.len(), 1);
        let lines: Vec<usize> = d.iter().map(|d| d.line).collect();
        assert_eq!(lines, vec![3, 5, 6]);
    }
}
