//! The format's test vectors and worked examples for the record files (user attributes,
//! sessions, auth, roles, system, exports, membership), each checked against
//! the exact bytes ThyWill writes and against what the fixed readers return.

use thywill_core::archive::auth::{
    AuthApprovalRecord, AuthRequestRecord, SecurityEventRecord, SessionsSnapshotFile,
};
use thywill_core::archive::current_state::CurrentStateFile;
use thywill_core::archive::event_log::{EventLogFile, SystemEvent};
use thywill_core::archive::export::{
    ExportChangelogEntry, ExportFile, ExportPrayerAttribute, ExportSummary,
};
use thywill_core::archive::membership::{MembershipApplication, MembershipDecision};
use thywill_core::archive::pipe::PipeFile;
use thywill_core::archive::record::Record;
use thywill_core::archive::roles::{RoleAssignmentRecord, RoleDefinitionsFile};
use thywill_core::archive::sessions::{SessionOrigin, SessionRecord, SessionsFile};
use thywill_core::archive::system::{InviteTokensFile, InviteUsageRecord};
use thywill_core::archive::user_attributes::UserAttributesFile;

const SESSIONS_FORMAT: &str = "Format: created_at|session_id|username|expires_at|device_info|ip_address|is_fully_authenticated";

/// Code-point order, date-only `supporter_since`, `supporter_type`.
#[test]
fn user_attributes() {
    let bytes = "User Attributes\n\nusername: Mary Jo\nis_supporter: true\nsupporter_since: 2025-07-02\nsupporter_type: financial\nwelcome_message_dismissed: true\n\nusername: Zoë\nis_supporter: false\nwelcome_message_dismissed: false\n\n";
    let (f, d) = UserAttributesFile::parse(bytes.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(
        f.users[0].supporter_since.unwrap().to_string(),
        "2025-07-02"
    );
    assert_eq!(f.users[0].supporter_type.as_deref(), Some("financial"));
    assert_eq!(
        UserAttributesFile::export(&[f.users[1].clone(), f.users[0].clone()]).render(),
        bytes
    );
}

/// A `|` in a session username is kept instead of shifting every field.
#[test]
fn session_username_with_pipe() {
    let line = "July 06 2025 at 09:05|sid|a|b|July 20 2025 at 09:05|UA||yes";
    let r = SessionRecord::parse_line(line, SessionOrigin::Live).unwrap();
    assert_eq!(r.username, "a|b");
    assert_eq!(r.expires_at.as_ref().unwrap().text, "July 20 2025 at 09:05");
    assert_eq!(r.render_line(), line);
}

/// Export file + glued live append.
#[test]
fn glued_sessions() {
    let text = format!(
        "Sessions for July 2025 (exported July 16 2025 at 17:59)\n{SESSIONS_FORMAT}\n\n\nJuly 01 2025 at 09:05|s1|Ann|July 15 2025 at 09:05|unknown|127.0.0.1|yesJuly 16 2025 at 18:00|s2|Bob|July 30 2025 at 18:00|UA_x||no\n"
    );
    let (f, d) = SessionsFile::parse(text.as_bytes(), None);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(f.records.len(), 2);
    assert!(f.records[0].is_fully_authenticated);
    assert_eq!(f.records[0].device_info, None);
    assert_eq!(f.records[1].session_id, "s2");
    assert_eq!(f.records[1].origin, SessionOrigin::Live);
    assert_eq!(f.render(), text);
}

/// A user agent containing `=` is kept (ThyWill's recovery drops the record).
#[test]
fn user_agent_with_equals() {
    let text = format!(
        "Sessions for July 2025 (exported July 07 2025 at 00:01)\n{SESSIONS_FORMAT}\n\nJuly 06 2025 at 09:05|sid1|Mary Jo|July 20 2025 at 09:05|UA k=v||yes\n"
    );
    let (f, d) = SessionsFile::parse(text.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(f.records[0].device_info.as_deref(), Some("UA k=v"));
    assert_eq!(f.render(), text);
}

/// `session_created` events are read (ThyWill recovers 0 of them).
#[test]
fn security_events() {
    let line = "2025-07-06T09:06:01.000005|session_created|Mary Jo|1.2.3.4|UA_x|session_id=abc, fully_authenticated=True";
    let r = SecurityEventRecord::parse_line(line).unwrap();
    assert_eq!(r.event_type, "session_created");
    assert_eq!(r.render_line(), line);
}

/// The live auth request carries no ID; approvals carry the request ID.
#[test]
fn auth_request_without_id() {
    let line = "2025-07-06T09:05:07.123456|Mary Jo|Mozilla_5.0|1.2.3.4|pending|expires_2025-07-13T09:05:07,verification_required";
    let r = AuthRequestRecord::parse_line(line).unwrap();
    assert_eq!(r.user_id, "Mary Jo");
    assert_eq!(r.status, "pending");
    assert_eq!(r.render_line(), line);
    let a = AuthApprovalRecord::parse_line(
        "2025-07-06T09:06:00|req1|Admin|approved|Request approved via web interface",
    )
    .unwrap();
    assert_eq!(a.auth_request_id, "req1");
}

/// Rejections stay rejections.
#[test]
fn rejection() {
    let a = AuthApprovalRecord::parse_line(
        "2025-07-06T09:06:00|req1|Admin|rejected|Request rejected by admin via web interface",
    )
    .unwrap();
    assert_eq!(a.action, "rejected");
}

/// A user ending in "at" is an ordinary assignment.
#[test]
fn role_assignment_pat() {
    let text = "Role Assignments for July 2025\nFormat: timestamp|user_id|role_name|action|granted_by|expires_at|details\n\n2025-07-06T09:05:07|Pat|deactivated|assigned|Admin||User deactivated by admin\n2025-07-06T09:05:07|Bob|deactivated|assigned|Admin||User deactivated by admin\n";
    let (f, d) = PipeFile::<RoleAssignmentRecord>::parse(text.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(f.records[0].user_id, "Pat");
    assert_eq!(f.records[0].role_name, "deactivated");
    assert_eq!(f.records[0].action, "assigned");
    assert_eq!(f.render(), text);
}

/// The Format line of role_definitions is not a role.
#[test]
fn role_definitions() {
    let text = "Role Definitions - Updated July 07, 2025 at 00:01\nFormat: role_name|description|permissions_json|is_system_role|created_by\n\nadmin|Sys_admin|[\"*\"]|True|system\n\nTotal roles: 1";
    let (f, d) = RoleDefinitionsFile::parse(text.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(f.roles.len(), 1);
    assert_eq!(f.roles[0].name, "admin");
    assert_eq!(f.render(), text);
}

/// Both tokens are read, `None` used_by is `None`.
#[test]
fn invite_tokens() {
    let text = "Active Invite Tokens - Updated July 07, 2025 at 00:01\nFormat: token|created_by_user|expires_at|used|used_by_user_id|created_at\n\nACTIVE TOKENS:\ntok1|Admin|2025-08-01T00:00:00|False|None|2025-07-01T00:00:00\n\nRECENTLY EXPIRED TOKENS:\ntok0|Admin|2025-07-01T00:00:00|True|Bob|2025-06-01T00:00:00\n\nActive tokens: 1\nTotal tokens: 2";
    let (f, d) = InviteTokensFile::parse(text.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(f.active[0].token, "tok1");
    assert_eq!(f.active[0].used_by_user_id, None);
    assert_eq!(
        f.recently_expired[0].used_by_user_id.as_deref(),
        Some("Bob")
    );
    assert!(f.active[0].created_at.is_some());
    assert_eq!((f.active_count, f.total_count), (1, 2));
    assert_eq!(f.render(), text);
}

/// No bogus session from the header; `IP: None` is None.
#[test]
fn active_sessions() {
    let text = "# Active Sessions Snapshot\n# Generated: 2026-11-26T13:26:06.416785+00:00\n# Total active sessions: 1\n\nSession s1:\n  User: Mary Jo (ID: Mary Jo)\n  Created: 2025-07-01 09:05:00\n  Expires: 2099-07-15 09:05:07.000005\n  IP: None\n  Device: Unknown\n  Fully authenticated: True\n";
    let (f, d) = CurrentStateFile::parse(text.as_bytes(), None).unwrap();
    assert!(d.is_empty());
    let CurrentStateFile::ActiveSessions { sessions, header } = &f else {
        panic!("untyped")
    };
    assert_eq!(header.total, 1);
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].username, "Mary Jo");
    assert_eq!(sessions[0].ip_address, None);
    assert_eq!(f.render(), text);
}

/// Invite usage lines, including the link-creation line with empty used_by.
#[test]
fn invite_usage() {
    let text = "Invite Token Usage for July 2025\nFormat: timestamp|token|used_by_user|created_by_user|action\n\n2025-07-07T00:01:00|tok1|Mary Jo|Admin|token_used\n2025-07-07T00:01:00|tok2||Admin|token_used\n";
    let (f, d) = PipeFile::<InviteUsageRecord>::parse(text.as_bytes(), None);
    assert!(d.is_empty());
    assert!(!f.records[0].is_link_creation());
    assert!(f.records[1].is_link_creation());
    assert_eq!(f.records[1].created_by, "Admin");
    assert_eq!(f.render(), text);
}

/// `APPROVED by Nathan at …` is an approval; `REJECTED` is read.
#[test]
fn membership() {
    let text = "MEMBERSHIP APPLICATION\n=====================\n\nApplication ID: 0f0e\nSubmitted: 2025-06-15T12:00:00\nIP Address: 1.2.3.4\n\nUSERNAME: Ann\n\nESSAY/MOTIVATION:\nline one\nline two\n\nCONTACT INFO: ann@example.org\n\nSTATUS: pending\n\nAPPROVED by Nathan at 2025-06-15T12:30:00\nInvite token: 0123456789abcdef\n";
    let a = MembershipApplication::parse(text.as_bytes(), None).unwrap();
    assert_eq!(a.status(), "approved");
    assert!(
        matches!(&a.decisions[0], MembershipDecision::Approved { admin, invite_token, .. } if admin == "Nathan" && invite_token == "0123456789abcdef")
    );
    assert_eq!(a.essay, "line one\nline two");
    assert_eq!(a.render(), text);
    let rejected = text.replace(
        "\nAPPROVED by Nathan at 2025-06-15T12:30:00\nInvite token: 0123456789abcdef\n",
        "\nREJECTED by Nathan at 2025-06-15T12:30:00\nReason: no\n",
    );
    let r = MembershipApplication::parse(rejected.as_bytes(), None).unwrap();
    assert_eq!(r.status(), "rejected");
    assert_eq!(r.render(), rejected);
}

/// `\|` is honoured.
#[test]
fn export_escaping() {
    let attrs = "Prayer Attributes (exported November 26 2026 at 13:24)\nFormat: id|created_at|prayer_id|attribute_name|attribute_value|created_by\n\n\na1|July 01 2025 at 09:01|p1|answer_testimony|x\\|y|Mary Jo";
    let (f, d) = ExportFile::<ExportPrayerAttribute>::parse(attrs.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(f.rows[0].attribute_value, "x|y");
    assert_eq!(f.rows[0].created_by, "Mary Jo");
    assert_eq!(f.render(), attrs);
    let sess = format!("Sessions for July 2025 (exported November 26 2026 at 13:24)\n{SESSIONS_FORMAT}\n\n\nJuly 01 2025 at 09:05|sid9|Zoë|July 15 2025 at 09:05|unknown|1.1.1.1|yes");
    let (s, d) = SessionsFile::parse(sess.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(s.records[0].username, "Zoë");
    assert_eq!(s.render(), sess);
    let log = "System Changelog Entries (exported November 26 2026 at 13:24)\nFormat: created_at|commit_id|original_message|friendly_description|change_type|commit_date\n\n\nJuly 01 2025 at 09:14|c1|fix\\|x|line1\\\\nline2|fixed|July 01 2025 at 00:00";
    let (c, d) = ExportFile::<ExportChangelogEntry>::parse(log.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(c.rows[0].friendly_description, "line1\nline2");
    assert_eq!(c.render(), log);
}

/// A system snapshot with zero sessions, event-log lines and the export summary.
#[test]
fn snapshot_event_log_and_summary_examples() {
    let snap = "Session Snapshot for July 07, 2025 at 00:01\nFormat: session_id|user_id|created_at|expires_at|device_info|ip_address|is_fully_authenticated\n\n\nTotal active sessions: 0";
    let (f, d) = SessionsSnapshotFile::parse(snap.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(f.render(), snap);
    let log = "2026-11-26T13:26:06.416785+00:00 - Session abc created for user Mary Jo\n2026-11-26T13:26:07+00:00 - Admin role granted for user Bob by None\n";
    let (e, d) = EventLogFile::parse(log.as_bytes(), None);
    assert!(d.is_empty());
    assert!(
        matches!(&e.entries[1].event, SystemEvent::Admin { changed_by, .. } if changed_by == "None")
    );
    assert_eq!(e.render(), log);
    let sum = "Complete Database Export Summary\nExported: November 26 2026 at 13:24\n\nThis export includes all database data organized by category:\n\u{2022} prayer_data: 5 records\n\u{2022} system: 1 records";
    let (s, d) = ExportSummary::parse(sum.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(s.render(), sum);
}
