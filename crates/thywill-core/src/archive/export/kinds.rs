//! Which export data file a path is ([`ExportDataKind`]), the one table from each kind to
//! its row type ([`ExportDataKind::visit`]), and the re-renderers of the export files.

use std::path::Path;

use serde::Serialize;

use super::file::{ExportFile, ExportRecord};
use super::rows::*;
use super::summary::ExportSummary;
use crate::archive::diagnostics::Diagnostic;

/// Which export data file a path (relative to the archive root) is, by its last two
/// components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportDataKind {
    /// `prayers/prayer_attributes.txt`
    PrayerAttributes,
    /// `prayers/prayer_marks.txt`
    PrayerMarks,
    /// `prayers/prayer_skips.txt`
    PrayerSkips,
    /// `prayers/prayer_activity_logs.txt`
    PrayerActivityLogs,
    /// `users/notification_states.txt`
    NotificationStates,
    /// `authentication/auth_requests.txt`
    AuthRequests,
    /// `authentication/auth_approvals.txt`
    AuthApprovals,
    /// `authentication/auth_audit_logs.txt`
    AuthAuditLogs,
    /// `invites/invite_tokens.txt`
    InviteTokens,
    /// `invites/invite_token_usage.txt`
    InviteTokenUsage,
    /// `roles/roles.txt`
    Roles,
    /// `roles/user_roles.txt`
    UserRoles,
    /// `security/{YM}_security_events.txt`
    SecurityEvents,
    /// `system/changelog_entries.txt`
    ChangelogEntries,
}

impl ExportDataKind {
    /// Detects the kind from a path ending in `<dir>/<file>`.
    pub fn detect(path: &Path) -> Option<Self> {
        let file = path.file_name()?.to_str()?;
        let dir = path.parent()?.file_name()?.to_str()?;
        Some(match (dir, file) {
            ("prayers", "prayer_attributes.txt") => Self::PrayerAttributes,
            ("prayers", "prayer_marks.txt") => Self::PrayerMarks,
            ("prayers", "prayer_skips.txt") => Self::PrayerSkips,
            ("prayers", "prayer_activity_logs.txt") => Self::PrayerActivityLogs,
            ("users", "notification_states.txt") => Self::NotificationStates,
            ("authentication", "auth_requests.txt") => Self::AuthRequests,
            ("authentication", "auth_approvals.txt") => Self::AuthApprovals,
            ("authentication", "auth_audit_logs.txt") => Self::AuthAuditLogs,
            ("invites", "invite_tokens.txt") => Self::InviteTokens,
            ("invites", "invite_token_usage.txt") => Self::InviteTokenUsage,
            ("roles", "roles.txt") => Self::Roles,
            ("roles", "user_roles.txt") => Self::UserRoles,
            ("security", f) if f.ends_with("_security_events.txt") => Self::SecurityEvents,
            ("system", "changelog_entries.txt") => Self::ChangelogEntries,
            _ => return None,
        })
    }

    /// Runs `visitor` with this kind's row type.
    pub fn visit<V: ExportRowsVisitor>(self, visitor: V) -> V::Output {
        use ExportDataKind as K;
        match self {
            K::PrayerAttributes => visitor.visit::<ExportPrayerAttribute>(),
            K::PrayerMarks => visitor.visit::<ExportPrayerMark>(),
            K::PrayerSkips => visitor.visit::<ExportPrayerSkip>(),
            K::PrayerActivityLogs => visitor.visit::<ExportPrayerActivityLog>(),
            K::NotificationStates => visitor.visit::<ExportNotificationState>(),
            K::AuthRequests => visitor.visit::<ExportAuthRequest>(),
            K::AuthApprovals => visitor.visit::<ExportAuthApproval>(),
            K::AuthAuditLogs => visitor.visit::<ExportAuthAuditLog>(),
            K::InviteTokens => visitor.visit::<ExportInviteToken>(),
            K::InviteTokenUsage => visitor.visit::<ExportInviteUsage>(),
            K::Roles => visitor.visit::<ExportRole>(),
            K::UserRoles => visitor.visit::<ExportUserRole>(),
            K::SecurityEvents => visitor.visit::<ExportSecurityEvent>(),
            K::ChangelogEntries => visitor.visit::<ExportChangelogEntry>(),
        }
    }
}

/// An operation on an export data file that depends on its row type:
/// [`ExportDataKind::visit`] runs it with the row type of a kind, so that the table of kinds
/// and row types is written once.
pub trait ExportRowsVisitor {
    /// What the operation returns.
    type Output;
    /// Runs the operation for rows of type `R`.
    fn visit<R: ExportRecord + Serialize>(self) -> Self::Output;
}

/// Parses a file and renders it back (for `thywill archive check`).
pub(super) struct Rerender<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) path: Option<&'a Path>,
}

impl ExportRowsVisitor for Rerender<'_> {
    type Output = (Vec<u8>, Vec<Diagnostic>);

    fn visit<R: ExportRecord + Serialize>(self) -> Self::Output {
        let (f, d) = ExportFile::<R>::parse(self.bytes, self.path);
        (f.render().into_bytes(), d)
    }
}

/// Re-renders an export data file of `kind`.
pub(crate) fn rerender_kind(
    kind: ExportDataKind,
    bytes: &[u8],
    path: Option<&Path>,
) -> (Vec<u8>, Vec<Diagnostic>) {
    kind.visit(Rerender { bytes, path })
}

/// Re-renderer of an export data file; the kind comes from `path`.
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    match path.and_then(ExportDataKind::detect) {
        Some(k) => Ok(rerender_kind(k, bytes, path)),
        None => Err(crate::Error::InvalidInput(format!(
            "not an export data file: {}",
            path.map(|p| p.display().to_string()).unwrap_or_default()
        ))),
    }
}

/// Re-renderer of `export_summary.txt`.
pub(crate) fn rerender_summary(
    bytes: &[u8],
    path: Option<&Path>,
) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (s, d) = ExportSummary::parse(bytes, path);
    Ok((s.render().into_bytes(), d))
}
