//! Export-all files: the data files of `thywill export-all`, each a title, a `Format:` line
//! and one typed row per line ([`ExportFile`] of an [`ExportRecord`]), and
//! `export_summary.txt` ([`ExportSummary`]). The sessions export shares its path with the
//! live file and lives in [`super::sessions`]; the older `database_exports/` layout is in
//! [`legacy`].
//!
//! - `file.rs`: the data-file layout (title, `Format:`, rows joined by LF, no final LF).
//! - `rows.rs`: the row types, one per data file, e.g. [`ExportPrayerMark`].
//! - `kinds.rs`: which data file a path is ([`ExportDataKind`]), the one table from kind
//!   to row type ([`ExportDataKind::visit`]), and the re-renderers.
//! - `summary.rs`: `export_summary.txt`; `legacy.rs`: the `database_exports/` layout.
//!
//! Limits (documented per row type): escaped columns must not end with `\`; a raw `|`
//! is only recoverable in the row's absorbing field; a value equal to its column's sentinel
//! reads back as `None`; the changelog description cannot contain the 3 characters `\\n`.

mod file;
mod kinds;
pub mod legacy;
mod rows;
mod summary;

pub use file::{ExportFile, ExportHeader, ExportReader, ExportRecord};
pub(crate) use kinds::rerender_summary;
pub use kinds::{rerender, ExportDataKind, ExportRowsVisitor};
pub use rows::{
    ExportAuthApproval, ExportAuthAuditLog, ExportAuthRequest, ExportChangelogEntry,
    ExportInviteToken, ExportInviteUsage, ExportNotificationState, ExportPrayerActivityLog,
    ExportPrayerAttribute, ExportPrayerMark, ExportPrayerSkip, ExportRole, ExportSecurityEvent,
    ExportUserRole,
};
pub use summary::ExportSummary;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn observed_attribute_export_with_escaped_pipe() {
        // Test vector 46: ThyWill's import-all reads `x\` and created_by `y`; we read `x|y`.
        let bytes = "Prayer Attributes (exported November 26 2026 at 13:24)\nFormat: id|created_at|prayer_id|attribute_name|attribute_value|created_by\n\n\na1|July 01 2025 at 09:01|p1|answer_testimony|x\\|y|Mary Jo";
        let (f, d) = ExportFile::<ExportPrayerAttribute>::parse(bytes.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.rows[0].attribute_value, "x|y");
        assert_eq!(f.rows[0].created_by, "Mary Jo");
        assert_eq!(f.render(), bytes);
    }

    #[test]
    fn observed_changelog_export() {
        let bytes = "System Changelog Entries (exported November 26 2026 at 13:24)\nFormat: created_at|commit_id|original_message|friendly_description|change_type|commit_date\n\n\nJuly 01 2025 at 09:14|c1|fix\\|x|line1\\\\nline2|fixed|July 01 2025 at 00:00";
        let (f, d) = ExportFile::<ExportChangelogEntry>::parse(bytes.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.rows[0].original_message, "fix|x");
        assert_eq!(f.rows[0].friendly_description, "line1\nline2");
        assert_eq!(f.render(), bytes);
    }

    #[test]
    fn rows_of_another_layout_are_reported_not_misread() {
        // The 5-field approvals some ThyWill versions export.
        let bytes = "Authentication Approvals (exported November 26 2026 at 13:24)\nFormat: approved_at|request_id|approver_user_id|approval_status|notes\n\n\nJuly 01 2025 at 09:01|r1|Admin|approved|ok";
        let (f, d) = ExportFile::<ExportAuthApproval>::parse(bytes.as_bytes(), None);
        assert!(f.rows.is_empty());
        let lines: Vec<usize> = d.iter().map(|d| d.line).collect();
        assert_eq!(lines, vec![2, 5]);
    }

    #[test]
    fn summary_round_trip() {
        let text = "Complete Database Export Summary\nExported: November 26 2026 at 13:24\n\nThis export includes all database data organized by category:\n\u{2022} prayer_data: 12 records\n\u{2022} sessions: 3 records";
        let (s, d) = ExportSummary::parse(text.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(s.categories.len(), 2);
        assert_eq!(s.render(), text);
    }

    #[test]
    fn kinds_detected_from_paths() {
        assert_eq!(
            ExportDataKind::detect(Path::new("security/2025_07_security_events.txt")),
            Some(ExportDataKind::SecurityEvents)
        );
        assert_eq!(
            ExportDataKind::detect(Path::new("text_archives/invites/invite_tokens.txt")),
            Some(ExportDataKind::InviteTokens)
        );
        assert_eq!(ExportDataKind::detect(Path::new("x.txt")), None);
    }
}
