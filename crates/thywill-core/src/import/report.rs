//! Import reports: per-entity counts and located failures, serialisable for every front end.
//!
//! Reports stay short whatever the input: a reason quoting a line is cut
//! ([`crate::archive::diagnostics::bounded_reason`]), and each file lists at most
//! [`MAX_ISSUES_PER_FILE`] notes and as many failures, then one line saying how many more
//! there were. The counts per entity stay exact.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// Names of the entities an import counts, as used in [`ImportReport::entities`].
pub mod entity {
    /// `user` rows.
    pub const USERS: &str = "users";
    /// Supporter/welcome flags of `users/user_attributes.txt`.
    pub const USER_ATTRIBUTES: &str = "user_attributes";
    /// `prayer` rows.
    pub const PRAYERS: &str = "prayers";
    /// `prayermark` rows.
    pub const PRAYER_MARKS: &str = "prayer_marks";
    /// `prayerskip` rows.
    pub const PRAYER_SKIPS: &str = "prayer_skips";
    /// `prayer_attributes` rows.
    pub const PRAYER_ATTRIBUTES: &str = "prayer_attributes";
    /// `prayer_activity_log` rows.
    pub const ACTIVITY_LOGS: &str = "activity_logs";
    /// `role` rows.
    pub const ROLES: &str = "roles";
    /// `user_roles` rows.
    pub const USER_ROLES: &str = "user_roles";
    /// `invitetoken` rows.
    pub const INVITE_TOKENS: &str = "invite_tokens";
    /// `invite_token_usage` rows.
    pub const INVITE_TOKEN_USAGE: &str = "invite_token_usage";
    /// `session` rows.
    pub const SESSIONS: &str = "sessions";
    /// `authenticationrequest` rows.
    pub const AUTH_REQUESTS: &str = "auth_requests";
    /// `authapproval` rows.
    pub const AUTH_APPROVALS: &str = "auth_approvals";
    /// Archive files, counted, not rows: `skipped` are the files no phase imports and the
    /// entries that are not regular files; `failed` are truncated prayer files whose intact
    /// part was imported.
    pub const FILES: &str = "files";
}

/// What happened to the records of one entity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EntityCounts {
    /// New rows written.
    pub inserted: u64,
    /// Records whose row already existed unchanged.
    pub already_present: u64,
    /// Existing rows changed (e.g. a missing archive path filled in, an attribute value set).
    pub updated: u64,
    /// Rows removed because the archive says so (a `restored` prayer loses `archived`).
    pub deleted: u64,
    /// Records deliberately not imported (see [`ImportReport::notes`]).
    pub skipped: u64,
    /// Records that could not be imported (see [`ImportReport::failures`]).
    pub failed: u64,
}

/// Where a record came from and why it failed or was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordIssue {
    /// The entity concerned.
    pub entity: String,
    /// The file, relative to the archive root (or the input file).
    pub file: String,
    /// 1-based line number, when the record is a line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 0-based index of the record in a JSON batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    /// The field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for RecordIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(record) = self.record {
            write!(f, " record {record}")?;
        }
        if let Some(field) = &self.field {
            write!(f, " field {field}")?;
        }
        write!(f, ": {} ({})", self.reason, self.entity)
    }
}

/// Notes, and failures, listed per file; beyond, one summary line per file and list.
pub const MAX_ISSUES_PER_FILE: usize = 50;

/// The outcome of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// `text_archives`, `prayers_json` or `prayer_file`.
    pub operation: String,
    /// The input (folder, ZIP or file) as given.
    pub source: String,
    /// The database path, or `:memory:` for a dry run without a database file.
    pub database: String,
    /// True when every change was rolled back.
    pub dry_run: bool,
    /// Counts per entity (see [`entity`]).
    pub entities: BTreeMap<String, EntityCounts>,
    /// Records that failed, located.
    pub failures: Vec<RecordIssue>,
    /// Records skipped on purpose, located, and other remarks worth a look.
    pub notes: Vec<RecordIssue>,
    /// How many notes and failures each file has had, for the per-file bound.
    #[serde(skip)]
    listed: HashMap<String, Listed>,
}

/// Issues of one file, for [`MAX_ISSUES_PER_FILE`]: how many there were, and where the
/// summary line of each list is once the bound is passed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Listed {
    notes: usize,
    failures: usize,
    notes_summary: Option<usize>,
    failures_summary: Option<usize>,
}

/// Which list of a report an issue goes to.
#[derive(Clone, Copy)]
enum List {
    Notes,
    Failures,
}

impl ImportReport {
    /// An empty report.
    pub fn new(operation: &str, source: &str, database: &str, dry_run: bool) -> Self {
        ImportReport {
            operation: operation.into(),
            source: source.into(),
            database: database.into(),
            dry_run,
            ..ImportReport::default()
        }
    }

    /// The counts of one entity (zero when absent).
    pub fn counts(&self, entity: &str) -> EntityCounts {
        self.entities.get(entity).copied().unwrap_or_default()
    }

    pub(crate) fn counts_mut(&mut self, entity: &str) -> &mut EntityCounts {
        // Called once per record: avoid allocating the key when it exists.
        if !self.entities.contains_key(entity) {
            self.entities
                .insert(entity.to_string(), EntityCounts::default());
        }
        self.entities
            .get_mut(entity)
            .expect("entity counts inserted above")
    }

    /// True when any record failed (front ends exit non-zero then).
    pub fn has_failures(&self) -> bool {
        !self.failures.is_empty() || self.entities.values().any(|c| c.failed > 0)
    }

    /// Rows inserted over all entities.
    pub fn total_inserted(&self) -> u64 {
        self.entities.values().map(|c| c.inserted).sum()
    }

    /// Rows inserted, updated or deleted over all entities.
    pub fn total_changes(&self) -> u64 {
        self.entities
            .values()
            .map(|c| c.inserted + c.updated + c.deleted)
            .sum()
    }

    /// Records a failed record (counted, and listed within the per-file bound).
    pub(crate) fn fail(&mut self, issue: RecordIssue) {
        self.counts_mut(&issue.entity).failed += 1;
        self.list(List::Failures, issue);
    }

    /// Records a record skipped on purpose (counted, and listed within the per-file bound).
    pub(crate) fn skip(&mut self, issue: RecordIssue) {
        self.counts_mut(&issue.entity).skipped += 1;
        self.list(List::Notes, issue);
    }

    /// Adds a remark (listed within the per-file bound).
    pub(crate) fn note(&mut self, issue: RecordIssue) {
        self.list(List::Notes, issue);
    }

    fn list(&mut self, list: List, issue: RecordIssue) {
        // The file name is copied only for a file's first issue.
        if !self.listed.contains_key(&issue.file) {
            self.listed.insert(issue.file.clone(), Listed::default());
        }
        let Some(listed) = self.listed.get_mut(&issue.file) else {
            return;
        };
        let (count, summary, issues) = match list {
            List::Notes => (
                &mut listed.notes,
                &mut listed.notes_summary,
                &mut self.notes,
            ),
            List::Failures => (
                &mut listed.failures,
                &mut listed.failures_summary,
                &mut self.failures,
            ),
        };
        *count += 1;
        if *count <= MAX_ISSUES_PER_FILE {
            issues.push(issue);
        } else if summary.is_none() {
            // Its reason is written by `seal`, when the number is known.
            *summary = Some(issues.len());
            issues.push(RecordIssue {
                line: None,
                record: None,
                field: None,
                reason: String::new(),
                ..issue
            });
        }
    }

    /// Writes the summary line of every file that passed the per-file bound. Every import
    /// calls it before returning its report; calling it again is harmless.
    pub(crate) fn seal(&mut self) {
        for listed in self.listed.values() {
            for (count, summary, issues, what) in [
                (listed.notes, listed.notes_summary, &mut self.notes, "notes"),
                (
                    listed.failures,
                    listed.failures_summary,
                    &mut self.failures,
                    "failures",
                ),
            ] {
                if let Some(issue) = summary.and_then(|index| issues.get_mut(index)) {
                    issue.reason = format!(
                        "{} more {what} in this file, not listed ({count} in all)",
                        count - MAX_ISSUES_PER_FILE
                    );
                }
            }
        }
    }

    /// The report as JSON (what the C API and `--json` return).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// Builds a located issue.
pub(crate) fn issue(
    entity: &str,
    file: &str,
    line: Option<u64>,
    reason: impl Into<String>,
) -> RecordIssue {
    RecordIssue {
        entity: entity.into(),
        file: file.into(),
        line,
        record: None,
        field: None,
        reason: crate::archive::diagnostics::bounded_reason(reason.into()),
    }
}
