//! Random, truncated and mutated bytes fed to every extra parser: no panic, and every
//! diagnostic names the file and a line that exists (0 = whole file).

use crate::support::fixtures;
use std::path::Path;

use proptest::prelude::*;
use thywill_core::archive::kind::{rerender, FileKind};

/// (kind, relative path used for dispatch, sample bytes).
fn samples() -> Vec<(FileKind, &'static str, Vec<u8>)> {
    let fx = |p: &str| std::fs::read(fixtures().join("s1/text_archives").join(p)).unwrap();
    vec![
        (FileKind::UserAttributes, "users/user_attributes.txt", fx("users/user_attributes.txt")),
        (FileKind::Sessions, "sessions/2024_05_sessions.txt", fx("sessions/2024_05_sessions.txt")),
        (FileKind::Sessions, "sessions/2025_07_sessions.txt",
         b"Sessions for July 2025 (exported July 16 2025 at 17:59)\nFormat: created_at|session_id|username|expires_at|device_info|ip_address|is_fully_authenticated\n\n\nJuly 01 2025 at 09:05|s1|Ann|July 15 2025 at 09:05|unknown|127.0.0.1|yesJuly 16 2025 at 18:00|s2|Bob|July 30 2025 at 18:00|UA_x||no\n".to_vec()),
        (FileKind::AuthRequests, "auth/2025_01_auth_requests.txt", fx("auth/2025_01_auth_requests.txt")),
        (FileKind::AuthApprovals, "auth/2025_01_auth_approvals.txt", fx("auth/2025_01_auth_approvals.txt")),
        (FileKind::SecurityEvents, "auth/2024_05_security_events.txt", fx("auth/2024_05_security_events.txt")),
        (FileKind::SessionsSnapshot, "auth/2025_07_07_sessions_snapshot.txt",
         b"Session Snapshot for July 07, 2025 at 00:01\nFormat: session_id|user_id|created_at|expires_at|device_info|ip_address|is_fully_authenticated\n\ns1|Mary Jo|2025-07-07T00:01:00||A_B||True\n\nTotal active sessions: 1".to_vec()),
        (FileKind::Notifications, "auth/notifications/2025_07_notifications.txt",
         b"Notification Events for July 2025\nFormat: timestamp|user_id|auth_request_id|notification_type|action|details\n\n2025-07-06T09:05:07|Ann|r1|auth_request|created|x\n".to_vec()),
        (FileKind::RoleAssignments, "roles/2024_07_role_assignments.txt", fx("roles/2024_07_role_assignments.txt")),
        (FileKind::RoleDefinitions, "roles/role_definitions.txt", fx("roles/role_definitions.txt")),
        (FileKind::RoleHistory, "roles/role_history.txt",
         b"Role System History\nFormat: timestamp|change_type|role_name|changed_by|old_value|new_value|details\n\n2025-07-06T09:05:07|created|admin|system|||x\n".to_vec()),
        (FileKind::InviteUsage, "system/2024_05_invite_usage.txt", fx("system/2024_05_invite_usage.txt")),
        (FileKind::InviteTokens, "system/invite_tokens.txt", fx("system/invite_tokens.txt")),
        (FileKind::SystemConfig, "system/system_config.txt",
         b"System Configuration - Snapshot July 07, 2025 at 00:01\nFormat: key=value\n\nA=1\nKEY=[REDACTED]\n\nConfiguration items: 2".to_vec()),
        (FileKind::FeatureFlags, "system/2025_07_feature_flags.txt",
         b"Feature Flag Changes for July 2025\nFormat: timestamp|flag_name|new_value|changed_by|details\n\n2025-07-06T09:05:07|f|True|system|flag_changed\n".to_vec()),
        (FileKind::EventLog, "system/event_log/session_events_2024_05.txt", fx("system/event_log/session_events_2024_05.txt")),
        (FileKind::CurrentState, "system/current_state/active_sessions.txt", fx("system/current_state/active_sessions.txt")),
        (FileKind::ExportData, "prayers/prayer_attributes.txt",
         b"Prayer Attributes (exported November 26 2026 at 13:24)\nFormat: id|created_at|prayer_id|attribute_name|attribute_value|created_by\n\n\na1|July 01 2025 at 09:01|p1|answer_testimony|x\\|y|Mary Jo\na2|July 01 2025 at 09:01|p1|answered|true|None".to_vec()),
        (FileKind::ExportData, "authentication/auth_audit_logs.txt",
         b"Authentication Audit Logs (exported November 26 2026 at 13:24)\nFormat: created_at|auth_request_id|action|actor_user_id|actor_type|details|ip_address|user_agent\n\n\nJuly 01 2025 at 09:01|r|approved|Ann|user|a\\|b|unknown|UA".to_vec()),
        (FileKind::ExportSummary, "export_summary.txt",
         "Complete Database Export Summary\nExported: November 26 2026 at 13:24\n\nThis export includes all database data organized by category:\n\u{2022} sessions: 3 records".as_bytes().to_vec()),
        (FileKind::MembershipApplication, "membership_applications/20250615_120000_abc.txt",
         b"MEMBERSHIP APPLICATION\n=====================\n\nApplication ID: abc\nSubmitted: 2025-06-15T12:00:00\nIP Address: Unknown\n\nUSERNAME: Ann\n\nESSAY/MOTIVATION:\nhi\n\nCONTACT INFO: None provided\n\nSTATUS: pending\n\nREJECTED by Nat at 2025-06-15T12:30:00\nReason: no\n".to_vec()),
    ]
}

fn check(kind: FileKind, rel: &str, bytes: &[u8]) {
    let path = Path::new(rel);
    let lines = 1 + bytes
        .iter()
        .filter(|b| **b == b'\n' || **b == b'\r')
        .count();
    let (_, diags) = rerender(kind, bytes, Some(path)).unwrap();
    for d in diags {
        assert_eq!(d.path.as_deref(), Some(path), "{d}");
        assert!(d.line <= lines, "{d} (file has {lines} lines)");
        assert!(!d.reason.is_empty());
    }
}

#[test]
fn samples_are_clean_and_every_truncation_is_safe() {
    for (kind, rel, bytes) in samples() {
        let (out, diags) = rerender(kind, &bytes, Some(Path::new(rel))).unwrap();
        assert!(diags.is_empty(), "{rel}: {diags:?}");
        assert_eq!(out, bytes, "{rel}");
        for cut in 0..bytes.len() {
            check(kind, rel, bytes.get(..cut).unwrap());
        }
    }
}

#[test]
fn damaged_lines_are_reported_not_dropped() {
    // A record line with a bad timestamp, one with too few fields, invalid UTF-8.
    let bytes = b"Invite Token Usage for July 2025\nFormat: timestamp|token|used_by_user|created_by_user|action\n\nnot a time|t|u|c|token_used\nshort|line\n2025-07-07T00:01:00|t|\xff|c|token_used\n2025-07-07T00:01:00|t|u|c|token_used\n";
    let (out, diags) = rerender(FileKind::InviteUsage, bytes, Some(Path::new("x"))).unwrap();
    let lines: Vec<usize> = diags.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![4, 5, 6]);
    assert!(String::from_utf8(out)
        .unwrap()
        .ends_with("2025-07-07T00:01:00|t|u|c|token_used\n"));
}

proptest! {
    #![proptest_config(crate::support::properties::config(64))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        for (kind, rel, _) in samples() {
            check(kind, rel, &bytes);
        }
    }

    #[test]
    fn mutated_samples_never_panic(which in 0usize..21, edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let all = samples();
        let (kind, rel, mut bytes) = all[which % all.len()].clone();
        for (i, b) in edits {
            if !bytes.is_empty() {
                let at = i.index(bytes.len());
                bytes[at] = b;
            }
        }
        check(kind, rel, &bytes);
    }
}

proptest! {
    #![proptest_config(crate::support::properties::config(64))]

    /// Every non-blank line after a header is accounted for: one record or one diagnostic.
    #[test]
    fn no_line_is_dropped_silently(lines in proptest::collection::vec("\\PC{0,40}|2025-07-07T00:01:00\\|\\PC{0,30}", 0..12)) {
        use thywill_core::archive::auth::SecurityEventRecord;
        use thywill_core::archive::event_log::EventLogFile;
        use thywill_core::archive::pipe::PipeFile;
        use thywill_core::archive::sessions::SessionsFile;
        use thywill_core::archive::export::{ExportFile, ExportPrayerMark};
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let nonblank = lines.iter().filter(|l| !l.is_empty()).count();
        let sec = format!("Security Events for July 2025\nFormat: timestamp|event_type|user_id|ip_address|user_agent|details\n\n{body}");
        let (f, d) = PipeFile::<SecurityEventRecord>::parse(sec.as_bytes(), None);
        prop_assert_eq!(f.records.len() + d.len(), nonblank);
        let (f, d) = EventLogFile::parse(body.as_bytes(), None);
        prop_assert_eq!(f.entries.len() + d.len(), nonblank);
        let exp = format!("Prayer Marks (exported July 01 2025 at 09:05)\nFormat: id|created_at|prayer_id|username\n\n\n{body}");
        let (f, d) = ExportFile::<ExportPrayerMark>::parse(exp.as_bytes(), None);
        prop_assert_eq!(f.rows.len() + d.len(), nonblank);
        let ses = format!("Sessions for July 2025 (exported July 07 2025 at 00:01)\nFormat: created_at|session_id|username|expires_at|device_info|ip_address|is_fully_authenticated\n\n{body}");
        let (f, d) = SessionsFile::parse(ses.as_bytes(), None);
        prop_assert!(f.records.len() + d.len() >= nonblank);
    }
}
