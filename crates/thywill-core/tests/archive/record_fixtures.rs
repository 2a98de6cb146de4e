//! Fixture tests for the record file kinds (user attributes through membership): every such file of the ThyWill-written corpora
//! re-renders byte-identically with no diagnostics, and the parsed records agree with the
//! corpus database.

use crate::support::fixtures;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use thywill_core::archive::kind::{detect_kind, rerender, FileKind};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    walk(root, &mut v);
    v.sort();
    v
}

const MY_KINDS: &[FileKind] = &[
    FileKind::UserAttributes,
    FileKind::Sessions,
    FileKind::AuthRequests,
    FileKind::AuthApprovals,
    FileKind::SecurityEvents,
    FileKind::SessionsSnapshot,
    FileKind::Notifications,
    FileKind::RoleAssignments,
    FileKind::RoleDefinitions,
    FileKind::RoleHistory,
    FileKind::InviteUsage,
    FileKind::InviteTokens,
    FileKind::SystemConfig,
    FileKind::FeatureFlags,
    FileKind::EventLog,
    FileKind::CurrentState,
    FileKind::ExportData,
    FileKind::ExportSummary,
    FileKind::MembershipApplication,
];

#[test]
fn every_extra_kind_file_rerenders_byte_identical() {
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for corpus in ["s1", "s1-live"] {
        let root = fixtures().join(corpus).join("text_archives");
        assert!(root.is_dir(), "missing fixture tree {}", root.display());
        for file in files(&root) {
            let rel = file.strip_prefix(&root).unwrap().to_path_buf();
            let kind = detect_kind(&rel);
            if !MY_KINDS.contains(&kind) {
                continue;
            }
            *counts
                .entry((corpus.to_string(), format!("{kind:?}")))
                .or_default() += 1;
            let bytes = std::fs::read(&file).unwrap();
            let (out, diags) = rerender(kind, &bytes, Some(&rel)).unwrap();
            if out != bytes || !diags.is_empty() {
                let line = thywill_core::archive::check::first_differing_line(&bytes, &out);
                failures.push(format!(
                    "{corpus}/{}: first differing line {line:?}; diagnostics {diags:?}",
                    rel.display()
                ));
            }
        }
    }
    for f in &failures {
        eprintln!("DIFFERS: {f}");
    }
    assert!(failures.is_empty(), "{} files differ", failures.len());
    let c = |corpus: &str, kind: FileKind| {
        counts
            .get(&(corpus.to_string(), format!("{kind:?}")))
            .copied()
            .unwrap_or(0)
    };
    for corpus in ["s1", "s1-live"] {
        assert_eq!(c(corpus, FileKind::Sessions), 24);
        assert_eq!(c(corpus, FileKind::SecurityEvents), 24);
        assert_eq!(c(corpus, FileKind::AuthRequests), 8);
        assert_eq!(c(corpus, FileKind::AuthApprovals), 7);
        assert_eq!(c(corpus, FileKind::InviteUsage), 24);
        assert_eq!(c(corpus, FileKind::EventLog), 24);
        assert_eq!(c(corpus, FileKind::CurrentState), 1);
    }
    assert_eq!(c("s1", FileKind::RoleAssignments), 2);
    assert_eq!(c("s1-live", FileKind::RoleAssignments), 1);
    assert_eq!(c("s1", FileKind::RoleDefinitions), 1);
    assert_eq!(c("s1", FileKind::InviteTokens), 1);
    assert_eq!(c("s1", FileKind::UserAttributes), 1);
}

fn db(corpus: &str) -> rusqlite::Connection {
    let path = fixtures().join(corpus).join("thywill.db");
    rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap()
}

/// Every session row appears once in the monthly sessions files, in the security events and
/// in the session event log, with the same user, device, IP and authentication flag.
#[test]
fn sessions_match_the_database() {
    use thywill_core::archive::auth::SecurityEventRecord;
    use thywill_core::archive::event_log::{EventLogReader, SystemEvent};
    use thywill_core::archive::pipe::PipeReader;
    use thywill_core::archive::sessions::SessionsReader;
    for corpus in ["s1", "s1-live"] {
        let conn = db(corpus);
        let mut stmt = conn
            .prepare(
                "SELECT id, username, device_info, ip_address, is_fully_authenticated FROM session",
            )
            .unwrap();
        let rows: HashMap<String, (String, Option<String>, Option<String>, bool)> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 125);
        let root = fixtures().join(corpus).join("text_archives");
        let (mut sessions, mut security, mut events) = (0, 0, 0);
        for file in files(&root) {
            let rel = file.strip_prefix(&root).unwrap();
            let bytes = std::fs::read(&file).unwrap();
            match detect_kind(rel) {
                FileKind::Sessions => {
                    for r in SessionsReader::new(bytes.as_slice(), Some(rel)) {
                        let r = r.unwrap();
                        let (user, device, ip, auth) = &rows[&r.session_id];
                        assert_eq!(&r.username, user);
                        assert_eq!(r.device_info, device.as_ref().map(|d| d.replace('|', "_")));
                        assert_eq!(&r.ip_address, ip);
                        assert_eq!(r.is_fully_authenticated, *auth);
                        sessions += 1;
                    }
                }
                FileKind::SecurityEvents => {
                    for r in PipeReader::<_, SecurityEventRecord>::new(bytes.as_slice(), Some(rel))
                    {
                        let r = r.unwrap();
                        // ThyWill's recovery drops all of these (the `=` filter).
                        let sid = r
                            .details
                            .strip_prefix("session_id=")
                            .and_then(|d| d.split_once(','))
                            .unwrap()
                            .0;
                        assert_eq!(rows[sid].0, r.user_id);
                        security += 1;
                    }
                }
                FileKind::EventLog => {
                    for e in EventLogReader::new(bytes.as_slice(), Some(rel)) {
                        let SystemEvent::Session {
                            session_id,
                            event_type,
                            user_id,
                        } = e.unwrap().event
                        else {
                            panic!("unexpected event in {}", rel.display());
                        };
                        assert_eq!(event_type, "created");
                        assert_eq!(rows[&session_id].0, user_id);
                        events += 1;
                    }
                }
                _ => {}
            }
        }
        assert_eq!((sessions, security, events), (125, 125, 125), "{corpus}");
    }
}

/// `user_attributes.txt` lists every user, in code-point order, with the DB's flags.
#[test]
fn user_attributes_match_the_database() {
    use thywill_core::archive::user_attributes::UserAttributesFile;
    let conn = db("s1");
    let mut stmt = conn
        .prepare("SELECT display_name, is_supporter, welcome_message_dismissed, supporter_type FROM user")
        .unwrap();
    let users: HashMap<String, (bool, bool, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let bytes =
        std::fs::read(fixtures().join("s1/text_archives/users/user_attributes.txt")).unwrap();
    let (file, diags) = UserAttributesFile::parse(&bytes, None);
    assert!(diags.is_empty());
    assert_eq!(file.users.len(), users.len());
    let names: Vec<&str> = file.users.iter().map(|u| u.username.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let mut supporters = 0;
    for u in &file.users {
        let (sup, dismissed, ty) = &users[&u.username];
        assert_eq!(u.is_supporter, *sup, "{}", u.username);
        assert_eq!(u.welcome_message_dismissed, *dismissed);
        assert_eq!(
            u.supporter_type.as_deref(),
            ty.as_deref().filter(|t| !t.is_empty())
        );
        supporters += usize::from(u.is_supporter);
    }
    assert_eq!(supporters, 3);
}

/// Writing through the append helpers onto a copy of a fixture month reproduces ThyWill's
/// bytes, and a live append after an export glues exactly as ThyWill does.
#[test]
fn append_helpers_reproduce_thywill_files() {
    use thywill_core::archive::pipe::{self, PipeFile};
    use thywill_core::archive::sessions::{self, SessionOrigin, SessionsFile, SessionsHeader};
    use thywill_core::archive::system::InviteUsageRecord;
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("s1/text_archives/system/2024_05_invite_usage.txt");
    let original = std::fs::read(&src).unwrap();
    let (file, _) = PipeFile::<InviteUsageRecord>::parse(&original, None);
    let month = file.header.as_ref().unwrap().month().unwrap();
    let out = dir
        .path()
        .join(pipe::monthly_file_name(&month, "invite_usage"));
    assert_eq!(out.file_name().unwrap(), "2024_05_invite_usage.txt");
    for r in &file.records {
        pipe::append(&out, &month, r).unwrap();
    }
    assert_eq!(std::fs::read(&out).unwrap(), original);

    // Export then live append: the glue ThyWill writes when a live append follows an export.
    let src = fixtures().join("s1/text_archives/sessions/2024_05_sessions.txt");
    let (live, _) = SessionsFile::parse(&std::fs::read(src).unwrap(), None);
    let now = live.records[0].created_at.time.unwrap();
    let mut export = SessionsFile {
        header: Some(SessionsHeader::new(&now, &now, SessionOrigin::Export)),
        records: live.records.clone(),
    };
    for r in &mut export.records {
        r.origin = SessionOrigin::Export;
    }
    let path = dir.path().join("2024_05_sessions.txt");
    std::fs::write(&path, export.render()).unwrap();
    sessions::append_live(&path, &now, &live.records[0]).unwrap();
    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    assert!(text.contains("|yesMay 05 2024 at 04:52|"), "{text}");
    let (back, d) = SessionsFile::parse(text.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(back.records.len(), live.records.len() + 1);
    assert_eq!(back.render(), text);
}

/// The whole-file writers write exactly `render()`; membership create + appended decisions
/// give the same bytes as rendering the decided application.
#[test]
fn whole_file_writers_and_membership_decisions() {
    use thywill_core::archive::membership::{MembershipApplication, MembershipDecision};
    use thywill_core::archive::roles::RoleDefinitionsFile;
    use thywill_core::pycompat::datetime::PyDateTime;
    let dir = tempfile::tempdir().unwrap();
    let src =
        std::fs::read(fixtures().join("s1/text_archives/roles/role_definitions.txt")).unwrap();
    let (defs, _) = RoleDefinitionsFile::parse(&src, None);
    let out = dir.path().join("role_definitions.txt");
    defs.write(&out).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), src);

    let at = PyDateTime::Naive(
        chrono::NaiveDate::from_ymd_opt(2025, 6, 15)
            .unwrap()
            .and_hms_opt(12, 30, 0)
            .unwrap(),
    );
    let app = MembershipApplication {
        app_id: "0f0e".into(),
        submitted: at,
        ip_address: None,
        username: "Ann".into(),
        essay: "line one\r\nline two".into(),
        contact_info: None,
        status_line: "pending".into(),
        decisions: vec![
            MembershipDecision::Rejected {
                admin: "Nathan".into(),
                at,
                reason: Some("no".into()),
            },
            MembershipDecision::Approved {
                admin: "Nat".into(),
                at,
                invite_token: "0123456789abcdef".into(),
            },
        ],
    };
    let path = dir.path().join("20250615_120000_0f0e.txt");
    app.create(&path).unwrap();
    assert!(app.create(&path).is_err());
    for d in &app.decisions {
        MembershipApplication::append_decision(&path, d).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes, app.render().as_bytes());
    assert_eq!(MembershipApplication::parse(&bytes, None).unwrap(), app);
}

/// Auth requests, approvals, invite usage, role definitions and the invite-token snapshot
/// agree with the corpus database.
#[test]
fn auth_roles_and_invites_match_the_database() {
    use std::collections::HashSet;
    use thywill_core::archive::auth::{AuthApprovalRecord, AuthRequestRecord};
    use thywill_core::archive::pipe::PipeReader;
    use thywill_core::archive::roles::RoleDefinitionsFile;
    use thywill_core::archive::system::{InviteTokensFile, InviteUsageRecord};
    for corpus in ["s1", "s1-live"] {
        let conn = db(corpus);
        let ids = |sql: &str| -> HashSet<String> {
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let request_users = ids("SELECT user_id FROM authenticationrequest");
        let request_ids = ids("SELECT id FROM authenticationrequest");
        let approvals = ids("SELECT auth_request_id || '/' || approver_user_id FROM authapproval");
        let claims = ids("SELECT invite_token_id || '/' || user_id FROM invite_token_usage");
        let tokens = ids("SELECT token FROM invitetoken");
        let root = fixtures().join(corpus).join("text_archives");
        let (mut n_req, mut n_appr, mut n_claims) = (0, 0, 0);
        for file in files(&root) {
            let rel = file.strip_prefix(&root).unwrap();
            let bytes = std::fs::read(&file).unwrap();
            match detect_kind(rel) {
                FileKind::AuthRequests => {
                    for r in PipeReader::<_, AuthRequestRecord>::new(bytes.as_slice(), Some(rel)) {
                        let r = r.unwrap();
                        assert!(request_users.contains(&r.user_id));
                        assert!(r.expires_at.is_some() && r.verification_required);
                        n_req += 1;
                    }
                }
                FileKind::AuthApprovals => {
                    for r in PipeReader::<_, AuthApprovalRecord>::new(bytes.as_slice(), Some(rel)) {
                        let r = r.unwrap();
                        assert!(request_ids.contains(&r.auth_request_id));
                        assert!(approvals
                            .contains(&format!("{}/{}", r.auth_request_id, r.approver_user_id)));
                        assert_eq!(r.action, "approved");
                        n_appr += 1;
                    }
                }
                FileKind::InviteUsage => {
                    for r in PipeReader::<_, InviteUsageRecord>::new(bytes.as_slice(), Some(rel)) {
                        let r = r.unwrap();
                        assert!(tokens.contains(&r.token), "{}", r.token);
                        if !r.is_link_creation() {
                            assert!(claims.contains(&format!("{}/{}", r.token, r.used_by)));
                            n_claims += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        assert_eq!((n_req, n_appr), (11, 14), "{corpus}");
        assert!(
            n_claims > 0 && n_claims <= claims.len(),
            "{corpus}: {n_claims}"
        );
        if corpus == "s1" {
            let defs = std::fs::read(root.join("roles/role_definitions.txt")).unwrap();
            let (defs, d) = RoleDefinitionsFile::parse(&defs, None);
            assert!(d.is_empty());
            let names: HashSet<String> = defs.roles.iter().map(|r| r.name.clone()).collect();
            assert_eq!(names, ids("SELECT name FROM role"));
            let snap = std::fs::read(root.join("system/invite_tokens.txt")).unwrap();
            let (snap, d) = InviteTokensFile::parse(&snap, None);
            assert!(d.is_empty());
            assert_eq!(snap.total_count as usize, tokens.len());
            for t in snap.active.iter().chain(&snap.recently_expired) {
                assert!(tokens.contains(&t.token));
            }
        }
    }
}
