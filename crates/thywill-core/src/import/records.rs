//! Adapters from the archive parsers (`crate::archive`) to the few fields the import
//! needs. No format knowledge lives here: every line is read by the archive module.

use std::path::Path;

use chrono::NaiveDateTime;

use crate::archive::layout::LedgerKind;
use crate::archive::text::Diagnostic;
use crate::archive::{ledger, users};

/// Records of one file and the lines that could not be read.
pub(crate) struct Parsed<T> {
    pub records: Vec<T>,
    pub diagnostics: Vec<Diagnostic>,
}

fn collect<T, U>(
    items: impl Iterator<Item = std::result::Result<T, Diagnostic>>,
    map: impl Fn(T) -> U,
) -> Parsed<U> {
    let mut parsed = Parsed {
        records: Vec::new(),
        diagnostics: Vec::new(),
    };
    for item in items {
        match item {
            Ok(record) => parsed.records.push(map(record)),
            Err(d) => parsed.diagnostics.push(d),
        }
    }
    parsed
}

/// A registration line.
pub(crate) struct Registration {
    pub line: u64,
    pub time: Option<NaiveDateTime>,
    pub name: String,
    pub inviter: Option<String>,
}

pub(crate) fn registrations(bytes: &[u8], relative: &str) -> Parsed<Registration> {
    collect(
        users::parse_monthly(bytes, Some(Path::new(relative))),
        |r| Registration {
            line: r.line as u64,
            time: r.timestamp.time,
            name: r.name,
            inviter: r.invited_by.filter(|i| !i.is_empty()),
        },
    )
}

/// A ledger line (marks, skips or attributes).
pub(crate) struct LedgerEntry {
    pub line: u64,
    pub time: Option<NaiveDateTime>,
    pub prayer_id: String,
    pub user: String,
    pub name: Option<String>,
    pub value: Option<String>,
}

pub(crate) fn ledger(kind: LedgerKind, bytes: &[u8], relative: &str) -> Parsed<LedgerEntry> {
    collect(
        ledger::parse_monthly(kind, bytes, Some(Path::new(relative))),
        |r| LedgerEntry {
            line: r.line as u64,
            time: r.timestamp.time,
            prayer_id: r.prayer_id,
            user: r.user,
            name: r.attribute_name,
            value: r.attribute_value,
        },
    )
}

/// A block of `users/user_attributes.txt`.
pub(crate) struct UserFlags {
    pub line: u64,
    pub username: String,
    pub is_supporter: Option<bool>,
    /// `YYYY-MM-DD`.
    pub supporter_since: Option<String>,
    pub supporter_type: Option<String>,
    pub welcome_message_dismissed: Option<bool>,
}

pub(crate) fn user_attributes(_bytes: &[u8], relative: &str) -> Parsed<UserFlags> {
    // The parser of this file belongs to the archive-extra work; until it is merged the
    // file is reported rather than read with a second parser.
    Parsed {
        records: Vec::new(),
        diagnostics: vec![Diagnostic::new(
            Some(Path::new(relative)),
            0,
            "user_attributes.txt is not imported by this build (parser not available)",
        )],
    }
}
