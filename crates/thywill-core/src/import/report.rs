//! Import reports: per-entity counts and located failures, serialisable for every front end.
//!
//! Reports stay short whatever the input: a reason quoting a line is cut
//! ([`crate::archive::diagnostics::bounded_reason`]), and each file lists at most
//! [`MAX_ISSUES_PER_FILE`] notes and as many failures, then one line saying how many more
//! there were. The counts per entity stay exact.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// What an import counts: a table's rows, or (for [`Entity::Files`]) archive files. Reports
/// key their counts and locate their issues by [`Entity::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    /// `user` rows.
    Users,
    /// Supporter/welcome flags of `users/user_attributes.txt`.
    UserAttributes,
    /// `prayer` rows.
    Prayers,
    /// `prayermark` rows.
    PrayerMarks,
    /// `prayerskip` rows.
    PrayerSkips,
    /// `prayer_attributes` rows.
    PrayerAttributes,
    /// `prayer_activity_log` rows.
    ActivityLogs,
    /// `role` rows.
    Roles,
    /// `user_roles` rows.
    UserRoles,
    /// `invitetoken` rows.
    InviteTokens,
    /// `invite_token_usage` rows.
    InviteTokenUsage,
    /// `session` rows.
    Sessions,
    /// `authenticationrequest` rows.
    AuthRequests,
    /// `authapproval` rows.
    AuthApprovals,
    /// `securitylog` rows.
    SecurityEvents,
    /// `notification_state` rows.
    Notifications,
    /// `authauditlog` rows.
    AuthAuditLogs,
    /// `membership_application` rows.
    MembershipApplications,
    /// Archive files, counted, not rows: `skipped` are the files no phase imports and the
    /// entries that are not regular files; `failed` are truncated prayer files whose intact
    /// part was imported.
    Files,
}

impl Entity {
    /// The entity's name in reports ([`ImportReport::entities`], [`RecordIssue::entity`]).
    pub const fn as_str(self) -> &'static str {
        match self {
            Entity::Users => "users",
            Entity::UserAttributes => "user_attributes",
            Entity::Prayers => "prayers",
            Entity::PrayerMarks => "prayer_marks",
            Entity::PrayerSkips => "prayer_skips",
            Entity::PrayerAttributes => "prayer_attributes",
            Entity::ActivityLogs => "activity_logs",
            Entity::Roles => "roles",
            Entity::UserRoles => "user_roles",
            Entity::InviteTokens => "invite_tokens",
            Entity::InviteTokenUsage => "invite_token_usage",
            Entity::Sessions => "sessions",
            Entity::AuthRequests => "auth_requests",
            Entity::AuthApprovals => "auth_approvals",
            Entity::SecurityEvents => "security_events",
            Entity::Notifications => "notifications",
            Entity::AuthAuditLogs => "auth_audit_logs",
            Entity::MembershipApplications => "membership_applications",
            Entity::Files => "files",
        }
    }
}

impl AsRef<str> for Entity {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The names of the [`Entity`] values, for callers that look counts up by name (front ends
/// pass the names their users give).
pub mod entity {
    use super::Entity;

    /// [`Entity::Users`].
    pub const USERS: &str = Entity::Users.as_str();
    /// [`Entity::UserAttributes`].
    pub const USER_ATTRIBUTES: &str = Entity::UserAttributes.as_str();
    /// [`Entity::Prayers`].
    pub const PRAYERS: &str = Entity::Prayers.as_str();
    /// [`Entity::PrayerMarks`].
    pub const PRAYER_MARKS: &str = Entity::PrayerMarks.as_str();
    /// [`Entity::PrayerSkips`].
    pub const PRAYER_SKIPS: &str = Entity::PrayerSkips.as_str();
    /// [`Entity::PrayerAttributes`].
    pub const PRAYER_ATTRIBUTES: &str = Entity::PrayerAttributes.as_str();
    /// [`Entity::ActivityLogs`].
    pub const ACTIVITY_LOGS: &str = Entity::ActivityLogs.as_str();
    /// [`Entity::Roles`].
    pub const ROLES: &str = Entity::Roles.as_str();
    /// [`Entity::UserRoles`].
    pub const USER_ROLES: &str = Entity::UserRoles.as_str();
    /// [`Entity::InviteTokens`].
    pub const INVITE_TOKENS: &str = Entity::InviteTokens.as_str();
    /// [`Entity::InviteTokenUsage`].
    pub const INVITE_TOKEN_USAGE: &str = Entity::InviteTokenUsage.as_str();
    /// [`Entity::Sessions`].
    pub const SESSIONS: &str = Entity::Sessions.as_str();
    /// [`Entity::AuthRequests`].
    pub const AUTH_REQUESTS: &str = Entity::AuthRequests.as_str();
    /// [`Entity::AuthApprovals`].
    pub const AUTH_APPROVALS: &str = Entity::AuthApprovals.as_str();
    /// [`Entity::SecurityEvents`].
    pub const SECURITY_EVENTS: &str = Entity::SecurityEvents.as_str();
    /// [`Entity::Notifications`].
    pub const NOTIFICATIONS: &str = Entity::Notifications.as_str();
    /// [`Entity::AuthAuditLogs`].
    pub const AUTH_AUDIT_LOGS: &str = Entity::AuthAuditLogs.as_str();
    /// [`Entity::MembershipApplications`].
    pub const MEMBERSHIP_APPLICATIONS: &str = Entity::MembershipApplications.as_str();
    /// [`Entity::Files`].
    pub const FILES: &str = Entity::Files.as_str();
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
    /// The entity concerned ([`Entity::as_str`]).
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
    /// Counts per entity, by [`Entity::as_str`].
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

    /// The counts of one entity, given as an [`Entity`] or by its name (zero when absent).
    pub fn counts(&self, entity: impl AsRef<str>) -> EntityCounts {
        self.entities
            .get(entity.as_ref())
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn counts_mut(&mut self, entity: Entity) -> &mut EntityCounts {
        self.counts_of_name_mut(entity.as_str())
    }

    /// The counts of an entity by its name (how a [`RecordIssue`] names it).
    fn counts_of_name_mut(&mut self, entity: &str) -> &mut EntityCounts {
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
        self.counts_of_name_mut(&issue.entity).failed += 1;
        self.list(List::Failures, issue);
    }

    /// Records a record skipped on purpose (counted, and listed within the per-file bound).
    pub(crate) fn skip(&mut self, issue: RecordIssue) {
        self.counts_of_name_mut(&issue.entity).skipped += 1;
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
    entity: Entity,
    file: &str,
    line: Option<u64>,
    reason: impl Into<String>,
) -> RecordIssue {
    RecordIssue {
        entity: entity.as_str().into(),
        file: file.into(),
        line,
        record: None,
        field: None,
        reason: crate::archive::diagnostics::bounded_reason(reason.into()),
    }
}

/// The figures of an import for its audit line.
pub(crate) fn import_audit_counts(report: &ImportReport) -> serde_json::Value {
    serde_json::json!({
        "dry_run": report.dry_run,
        "inserted": report.total_inserted(),
        "changes": report.total_changes(),
        "failures": report.failures.len(),
    })
}
