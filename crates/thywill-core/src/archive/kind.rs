//! File kinds of the archive tree, detected from a path relative to the archive root, and
//! the re-renderer of each kind: the file parsed into typed records and rendered back, as
//! [`super::check`] compares it with the file.

use std::path::Path;

use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::layout::LedgerKind;
use crate::{Error, Result};

/// Every kind of file that can appear under the archive base directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// `prayers/YYYY/MM/YYYY_MM_DD_prayer_at_HHMM[_N].txt`.
    Prayer,
    /// `users/YYYY_MM_users.txt`.
    UserRegistrations,
    /// `activity/activity_YYYY_MM.txt`.
    ActivityLog,
    /// `prayers/{attributes,marks,skips}/YYYY_MM_{kind}.txt`.
    Ledger(LedgerKind),
    /// `users/user_attributes.txt`.
    UserAttributes,
    /// `sessions/YYYY_MM_sessions.txt` (live and export share it).
    Sessions,
    /// `auth/YYYY_MM_auth_requests.txt`.
    AuthRequests,
    /// `auth/YYYY_MM_auth_approvals.txt`.
    AuthApprovals,
    /// `auth/YYYY_MM_security_events.txt`.
    SecurityEvents,
    /// `auth/YYYY_MM_DD_sessions_snapshot.txt`.
    SessionsSnapshot,
    /// `auth/notifications/YYYY_MM_notifications.txt`.
    Notifications,
    /// `roles/YYYY_MM_role_assignments.txt`.
    RoleAssignments,
    /// `roles/role_definitions.txt`.
    RoleDefinitions,
    /// `roles/role_history.txt`.
    RoleHistory,
    /// `system/YYYY_MM_invite_usage.txt`.
    InviteUsage,
    /// `system/invite_tokens.txt`.
    InviteTokens,
    /// `system/system_config.txt`.
    SystemConfig,
    /// `system/YYYY_MM_feature_flags.txt`.
    FeatureFlags,
    /// `system/event_log/{type}_YYYY_MM.txt`.
    EventLog,
    /// `system/current_state/*.txt`.
    CurrentState,
    /// An export-all data file, e.g. `prayers/prayer_marks.txt`.
    ExportData,
    /// `export_summary.txt`.
    ExportSummary,
    /// `membership_applications/*.txt`.
    MembershipApplication,
    /// A file of the legacy `database_exports/` layout, read only.
    LegacyExport(super::export::legacy::LegacyKind),
    /// Anything else (temp files, downloads, README, legacy layouts).
    Other,
}

fn is_ym(s: &str) -> bool {
    // `{year}_{MM}`: year unpadded digits, two-digit month.
    match s.rsplit_once('_') {
        Some((y, m)) => {
            !y.is_empty()
                && y.bytes().all(|b| b.is_ascii_digit())
                && m.len() == 2
                && m.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn ym_prefixed(name: &str, suffix: &str) -> bool {
    name.strip_suffix(suffix).is_some_and(is_ym)
}

/// `{type}_{YYYY}_{MM}.txt`.
fn is_event_log_name(f: &str) -> bool {
    let Some(stem) = f.strip_suffix(".txt") else {
        return false;
    };
    let mut it = stem.rsplitn(3, '_');
    let (Some(m), Some(y), Some(t)) = (it.next(), it.next(), it.next()) else {
        return false;
    };
    !t.is_empty() && y.len() == 4 && all_digits(y) && m.len() == 2 && all_digits(m)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Detects the kind of the file at `rel`, a path relative to the archive root. A DB-stored
/// path such as `text_archives/prayers/2025/07/….txt` also works: when the path is not a
/// known kind and starts with a `text_archives` folder, that folder is skipped.
pub fn detect_kind(rel: &Path) -> FileKind {
    match detect_kind_exact(rel) {
        FileKind::Other => match rel.strip_prefix("text_archives") {
            Ok(inner) => detect_kind_exact(inner),
            Err(_) => FileKind::Other,
        },
        kind => kind,
    }
}

fn detect_kind_exact(rel: &Path) -> FileKind {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    match parts.as_slice() {
        ["prayers", "attributes", f] if ym_prefixed(f, "_attributes.txt") => {
            FileKind::Ledger(LedgerKind::Attributes)
        }
        ["prayers", "marks", f] if ym_prefixed(f, "_marks.txt") => {
            FileKind::Ledger(LedgerKind::Marks)
        }
        ["prayers", "skips", f] if ym_prefixed(f, "_skips.txt") => {
            FileKind::Ledger(LedgerKind::Skips)
        }
        ["prayers", y, m, f] if all_digits(y) && all_digits(m) && f.ends_with(".txt") => {
            FileKind::Prayer
        }
        ["prayers", "prayer_attributes.txt"
        | "prayer_marks.txt"
        | "prayer_skips.txt"
        | "prayer_activity_logs.txt"] => FileKind::ExportData,
        ["users", "user_attributes.txt"] => FileKind::UserAttributes,
        ["users", "notification_states.txt"] => FileKind::ExportData,
        ["users", f] if ym_prefixed(f, "_users.txt") => FileKind::UserRegistrations,
        ["activity", f]
            if f.strip_prefix("activity_")
                .and_then(|r| r.strip_suffix(".txt"))
                .is_some_and(is_ym) =>
        {
            FileKind::ActivityLog
        }
        ["sessions", f] if ym_prefixed(f, "_sessions.txt") => FileKind::Sessions,
        ["auth", "notifications", f] if ym_prefixed(f, "_notifications.txt") => {
            FileKind::Notifications
        }
        ["auth", f] if ym_prefixed(f, "_auth_requests.txt") => FileKind::AuthRequests,
        ["auth", f] if ym_prefixed(f, "_auth_approvals.txt") => FileKind::AuthApprovals,
        ["auth", f] if ym_prefixed(f, "_security_events.txt") => FileKind::SecurityEvents,
        ["auth", f] if f.ends_with("_sessions_snapshot.txt") => FileKind::SessionsSnapshot,
        ["roles", "role_definitions.txt"] => FileKind::RoleDefinitions,
        ["roles", "role_history.txt"] => FileKind::RoleHistory,
        ["roles", "roles.txt" | "user_roles.txt"] => FileKind::ExportData,
        ["roles", f] if ym_prefixed(f, "_role_assignments.txt") => FileKind::RoleAssignments,
        ["system", "invite_tokens.txt"] => FileKind::InviteTokens,
        ["system", "system_config.txt"] => FileKind::SystemConfig,
        ["system", "changelog_entries.txt"] => FileKind::ExportData,
        ["system", f] if ym_prefixed(f, "_invite_usage.txt") => FileKind::InviteUsage,
        ["system", f] if ym_prefixed(f, "_feature_flags.txt") => FileKind::FeatureFlags,
        ["system", "event_log", f] if is_event_log_name(f) => FileKind::EventLog,
        ["system", "current_state", f] if f.ends_with(".txt") => FileKind::CurrentState,
        ["authentication" | "invites", f] if f.ends_with(".txt") => FileKind::ExportData,
        ["security", f] if ym_prefixed(f, "_security_events.txt") => FileKind::ExportData,
        ["export_summary.txt"] => FileKind::ExportSummary,
        ["membership_applications", f] if f.ends_with(".txt") => FileKind::MembershipApplication,
        ["database_exports", ..] => super::export::legacy::LegacyKind::detect(rel)
            .map_or(FileKind::Other, FileKind::LegacyExport),
        _ => FileKind::Other,
    }
}

/// A re-render function: file bytes (and a path for diagnostics) to canonical bytes plus the
/// diagnostics of every line that could not be read.
pub type Renderer = fn(&[u8], Option<&Path>) -> Result<(Vec<u8>, Vec<Diagnostic>)>;

/// The re-renderer of `kind`, if this crate has one.
pub fn renderer(kind: FileKind) -> Option<Renderer> {
    match kind {
        FileKind::Prayer => Some(super::prayer::rerender),
        FileKind::UserRegistrations => Some(super::users::rerender),
        FileKind::ActivityLog => Some(super::activity::rerender),
        FileKind::Ledger(_) => Some(super::ledger::rerender),
        FileKind::UserAttributes => Some(super::user_attributes::rerender),
        FileKind::Sessions => Some(super::sessions::rerender),
        FileKind::AuthRequests => Some(super::pipe::rerender::<super::auth::AuthRequestRecord>),
        FileKind::AuthApprovals => Some(super::pipe::rerender::<super::auth::AuthApprovalRecord>),
        FileKind::SecurityEvents => Some(super::pipe::rerender::<super::auth::SecurityEventRecord>),
        FileKind::SessionsSnapshot => Some(super::auth::rerender_sessions_snapshot),
        FileKind::Notifications => Some(super::pipe::rerender::<super::auth::NotificationRecord>),
        FileKind::RoleAssignments => {
            Some(super::pipe::rerender::<super::roles::RoleAssignmentRecord>)
        }
        FileKind::RoleDefinitions => Some(super::roles::rerender_role_definitions),
        FileKind::RoleHistory => Some(super::pipe::rerender::<super::roles::RoleHistoryRecord>),
        FileKind::InviteUsage => Some(super::pipe::rerender::<super::system::InviteUsageRecord>),
        FileKind::InviteTokens => Some(super::system::rerender_invite_tokens),
        FileKind::SystemConfig => Some(super::system::rerender_system_config),
        FileKind::FeatureFlags => Some(super::pipe::rerender::<super::system::FeatureFlagRecord>),
        FileKind::EventLog => Some(super::event_log::rerender),
        FileKind::CurrentState => Some(super::current_state::rerender),
        FileKind::ExportData => Some(super::export::rerender),
        FileKind::ExportSummary => Some(super::export::rerender_summary),
        FileKind::MembershipApplication => Some(super::membership::rerender),
        FileKind::LegacyExport(_) => Some(super::export::legacy::rerender),
        _ => None,
    }
}

/// Parses `bytes` as `kind` and renders the records back. `Err` if `kind` has no renderer
/// or the bytes are not UTF-8 at all; unreadable lines are diagnostics, not errors.
pub fn rerender(
    kind: FileKind,
    bytes: &[u8],
    path: Option<&Path>,
) -> Result<(Vec<u8>, Vec<Diagnostic>)> {
    match renderer(kind) {
        Some(f) => f(bytes, path),
        None => Err(Error::InvalidInput(format!(
            "no re-renderer for file kind {kind:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::export::legacy::LegacyKind;

    #[test]
    fn detects_kinds_from_relative_paths() {
        let k = |p: &str| detect_kind(Path::new(p));
        assert_eq!(
            k("prayers/2025/07/2025_07_06_prayer_at_0905_2.txt"),
            FileKind::Prayer
        );
        assert_eq!(k("prayers/2025/07/x.txt.tmp"), FileKind::Other);
        assert_eq!(
            k("prayers/marks/2025_07_marks.txt"),
            FileKind::Ledger(LedgerKind::Marks)
        );
        assert_eq!(k("prayers/prayer_marks.txt"), FileKind::ExportData);
        assert_eq!(k("users/2025_07_users.txt"), FileKind::UserRegistrations);
        assert_eq!(k("users/user_attributes.txt"), FileKind::UserAttributes);
        assert_eq!(k("activity/activity_2025_07.txt"), FileKind::ActivityLog);
        assert_eq!(k("auth/2025_07_auth_requests.txt"), FileKind::AuthRequests);
        assert_eq!(
            k("auth/2025_07_06_sessions_snapshot.txt"),
            FileKind::SessionsSnapshot
        );
        assert_eq!(
            k("system/event_log/session_events_2025_07.txt"),
            FileKind::EventLog
        );
        assert_eq!(
            k("system/current_state/active_sessions.txt"),
            FileKind::CurrentState
        );
        assert_eq!(
            k("roles/2025_07_role_assignments.txt"),
            FileKind::RoleAssignments
        );
        assert_eq!(k("export_summary.txt"), FileKind::ExportSummary);
        assert_eq!(k("README.txt"), FileKind::Other);
        assert_eq!(
            k("text_archives/prayers/2025/07/2025_07_06_prayer_at_0905.txt"),
            FileKind::Prayer
        );
        assert_eq!(
            k("database_exports/roles/user_roles.txt"),
            FileKind::LegacyExport(LegacyKind::UserRoles)
        );
        assert_eq!(
            k("database_exports/sessions/2025_07_sessions.txt"),
            FileKind::LegacyExport(LegacyKind::Sessions)
        );
        assert_eq!(k("database_exports/notes.txt"), FileKind::Other);
    }
}
