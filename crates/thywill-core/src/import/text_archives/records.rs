//! Adapters from the archive parsers (`crate::archive`) to the few fields the import
//! needs. No format knowledge lives here: every line is read by the archive module.

use std::path::Path;

use chrono::NaiveDateTime;

use crate::archive::diagnostics::Diagnostic;
use crate::archive::layout::LedgerKind;
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
    /// Why the line is refused (a control character), checked where it is read.
    pub refused: Option<Box<crate::import::validate::FieldRefusal>>,
}

pub(crate) fn ledger(kind: LedgerKind, bytes: &[u8], relative: &str) -> Parsed<LedgerEntry> {
    collect(
        ledger::parse_monthly(kind, bytes, Some(Path::new(relative))),
        |r| LedgerEntry {
            line: r.line as u64,
            time: r.timestamp.time,
            refused: crate::import::validate::ledger_fields(
                &r.prayer_id,
                &r.user,
                r.attribute_name.as_deref(),
                r.attribute_value.as_deref(),
            ),
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

pub(crate) fn user_attributes(bytes: &[u8], relative: &str) -> Parsed<UserFlags> {
    let (file, diagnostics) = crate::archive::user_attributes::UserAttributesFile::parse(
        bytes,
        Some(Path::new(relative)),
    );
    Parsed {
        records: file
            .users
            .into_iter()
            .map(|u| UserFlags {
                line: 0,
                username: u.username,
                is_supporter: Some(u.is_supporter),
                supporter_since: u.supporter_since.map(|d| d.format("%Y-%m-%d").to_string()),
                supporter_type: u.supporter_type,
                welcome_message_dismissed: Some(u.welcome_message_dismissed),
            })
            .collect(),
        diagnostics,
    }
}
