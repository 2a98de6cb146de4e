//! `parse(render(record)) == record` for every extra record type, with arbitrary strings
//! (unicode, `|`, ` - `, quotes, backslashes) inside what each format can represent.
//! The limits are the ones documented on each type: no line breaks (except the membership
//! essay and rejection reason), `|` only in the absorbing field or where `_`-replaced
//! before rendering, no trailing `\` in `\|`-escaped files, sentinels map to `None`,
//! stripped values in `user_attributes.txt`.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use proptest::prelude::*;

use thywill_core::archive::auth::*;
use thywill_core::archive::current_state::{ActiveSession, CurrentStateFile};
use thywill_core::archive::event_log::{EventLogEntry, SystemEvent};
use thywill_core::archive::export::*;
use thywill_core::archive::membership::{MembershipApplication, MembershipDecision};
use thywill_core::archive::pipe::{PipeFile, PipeRecord};
use thywill_core::archive::record::Record;
use thywill_core::archive::roles::*;
use thywill_core::archive::sessions::{SessionOrigin, SessionRecord, SessionsFile, SessionsHeader};
use thywill_core::archive::system::*;
use thywill_core::archive::timestamp::HumanTime;
use thywill_core::archive::user_attributes::{UserAttributes, UserAttributesFile};
use thywill_core::pycompat::datetime::PyDateTime;
use thywill_core::pycompat::strings::py_strip;

/// Any single-line text: no control characters (so no CR/LF), everything else allowed.
fn any_text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}
/// Single-line text without `|`.
fn no_pipe() -> impl Strategy<Value = String> {
    "[^|\\p{C}]{0,24}"
}
fn no_pipe_nonempty() -> impl Strategy<Value = String> {
    "[^|\\p{C}]{1,24}"
}
/// A token without spaces or pipes (IDs).
fn word() -> impl Strategy<Value = String> {
    "[^|\\s\\p{C}]{1,16}"
}

fn naive() -> impl Strategy<Value = NaiveDateTime> {
    (
        1i32..=9999,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        prop_oneof![Just(0u32), 0u32..1_000_000],
    )
        .prop_map(|(y, mo, d, h, mi, s, us)| {
            NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_micro_opt(h, mi, s, us)
                .unwrap()
        })
}

fn py_dt() -> impl Strategy<Value = PyDateTime> {
    prop_oneof![
        naive().prop_map(PyDateTime::Naive),
        (naive(), -1439i32..=1439).prop_map(|(n, m)| {
            let off = FixedOffset::east_opt(m * 60).unwrap();
            PyDateTime::Aware(off.from_local_datetime(&n).single().unwrap())
        }),
    ]
}

fn human() -> impl Strategy<Value = HumanTime> {
    naive().prop_map(HumanTime::from_time)
}

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    proptest::option::of(s)
}

/// Non-empty, without `|`, not equal to `sentinel`.
fn not_sentinel(sentinel: &'static str) -> impl Strategy<Value = String> {
    no_pipe_nonempty().prop_filter("sentinel", move |s| s != sentinel)
}

/// Text for `\|`-escaped files: may contain `|` but must not end with `\`.
fn escaped_text() -> impl Strategy<Value = String> {
    any_text().prop_filter("trailing backslash", |s| !s.ends_with('\\'))
}
/// Raw fields of `\|`-escaped files: no `|`, no trailing `\`.
fn escaped_raw() -> impl Strategy<Value = String> {
    no_pipe().prop_filter("trailing backslash", |s| !s.ends_with('\\'))
}

fn round_trip<R: PipeRecord + PartialEq + std::fmt::Debug>(r: &R) -> Result<(), TestCaseError> {
    let line = r.render_line();
    let back = R::parse_line(&line).map_err(|e| TestCaseError::fail(format!("{e}: {line}")))?;
    prop_assert_eq!(&back, r);
    Ok(())
}

fn export_round_trip<R: ExportRecord + PartialEq + std::fmt::Debug + Clone>(
    rows: Vec<R>,
) -> Result<(), TestCaseError> {
    let file = ExportFile {
        header: Some(ExportHeader {
            title: "T".into(),
            exported_at: HumanTime::parse("July 01 2025 at 09:05"),
        }),
        rows,
    };
    let text = file.render();
    let (back, d) = ExportFile::<R>::parse(text.as_bytes(), None);
    prop_assert!(d.is_empty(), "{:?}\n{}", d, text);
    prop_assert_eq!(back, file);
    Ok(())
}

proptest! {
    #![proptest_config(crate::support::properties::config(128))]

    #[test]
    fn auth_request(ts in py_dt(), user in any_text(), device in no_pipe(), ip in no_pipe(),
                    status in no_pipe(), exp in opt(py_dt()), ver in any::<bool>()) {
        round_trip(&AuthRequestRecord { timestamp: ts, user_id: user, device_info: device, ip_address: ip,
            status, expires_at: exp, verification_required: ver, other_details: vec![] })?;
    }

    #[test]
    fn auth_approval(ts in py_dt(), req in no_pipe(), approver in any_text(), action in no_pipe(), details in no_pipe()) {
        round_trip(&AuthApprovalRecord { timestamp: ts, auth_request_id: req, approver_user_id: approver, action, details })?;
    }

    #[test]
    fn security_event(ts in py_dt(), ev in no_pipe(), user in any_text(), ip in no_pipe(), ua in no_pipe(), details in no_pipe()) {
        round_trip(&SecurityEventRecord { timestamp: ts, event_type: ev, user_id: user, ip_address: ip, user_agent: ua, details })?;
    }

    #[test]
    fn notification(ts in py_dt(), user in no_pipe(), req in no_pipe(), ty in no_pipe(), action in no_pipe(), details in any_text()) {
        round_trip(&NotificationRecord { timestamp: ts, user_id: user, auth_request_id: req, notification_type: ty, action, details })?;
    }

    #[test]
    fn role_assignment(ts in py_dt(), user in no_pipe(), role in no_pipe(), action in no_pipe(), by in no_pipe(),
                       exp in opt(py_dt()), details in any_text()) {
        round_trip(&RoleAssignmentRecord { timestamp: ts, user_id: user, role_name: role, action, granted_by: by, expires_at: exp, details })?;
    }

    #[test]
    fn role_history(ts in py_dt(), ty in no_pipe(), role in no_pipe(), by in any_text(), old in no_pipe(), new in no_pipe(), details in no_pipe()) {
        round_trip(&RoleHistoryRecord { timestamp: ts, change_type: ty, role_name: role, changed_by: by, old_value: old, new_value: new, details })?;
    }

    #[test]
    fn invite_usage(ts in py_dt(), token in no_pipe(), used_by in any_text(), by in no_pipe(), action in no_pipe()) {
        round_trip(&InviteUsageRecord { timestamp: ts, token, used_by, created_by: by, action })?;
    }

    #[test]
    fn feature_flag(ts in py_dt(), flag in no_pipe(), value in any_text(), by in no_pipe(), details in no_pipe()) {
        round_trip(&FeatureFlagRecord { timestamp: ts, flag_name: flag, new_value: value, changed_by: by, details })?;
    }

    #[test]
    fn monthly_files(records in proptest::collection::vec((py_dt(), any_text()), 0..5)) {
        let recs: Vec<InviteUsageRecord> = records.into_iter().map(|(ts, u)| InviteUsageRecord {
            timestamp: ts, token: "t".into(), used_by: u, created_by: "A".into(), action: "token_used".into() }).collect();
        let file = PipeFile::new(&NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(), recs);
        let text = file.render();
        let (back, d) = PipeFile::<InviteUsageRecord>::parse(text.as_bytes(), None);
        prop_assert!(d.is_empty());
        prop_assert_eq!(back, file);
    }

    #[test]
    fn sessions(rows in proptest::collection::vec((human(), word(), any_text(), opt(human()), opt(no_pipe_nonempty()),
                                                   opt(no_pipe_nonempty()), any::<bool>()), 1..5),
                export_rows in 0usize..5) {
        let n_export = export_rows.min(rows.len());
        let records: Vec<SessionRecord> = rows.into_iter().enumerate().map(|(i, (c, id, user, exp, dev, ip, auth))| {
            let origin = if i < n_export { SessionOrigin::Export } else { SessionOrigin::Live };
            // Export: the device absorbs pipes and the username may not hold one; live: the reverse.
            let (user, dev) = match origin {
                SessionOrigin::Export => (user.replace('|', "/"), dev.filter(|d| d != "unknown")),
                SessionOrigin::Live => (user, dev),
            };
            let ip = ip.filter(|x| origin == SessionOrigin::Live || x != "unknown");
            SessionRecord { created_at: c, session_id: id, username: user,
                expires_at: if origin == SessionOrigin::Export { Some(exp.unwrap_or_else(|| HumanTime::parse("July 01 2025 at 09:05"))) } else { exp },
                device_info: dev, ip_address: ip, is_fully_authenticated: auth, origin }
        }).collect();
        let layout = if n_export > 0 { SessionOrigin::Export } else { SessionOrigin::Live };
        let now = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap().and_hms_opt(9, 5, 0).unwrap();
        let file = SessionsFile { header: Some(SessionsHeader::new(&now, &now, layout)), records };
        let text = file.render();
        let (back, d) = SessionsFile::parse(text.as_bytes(), None);
        prop_assert!(d.is_empty(), "{:?}", d);
        prop_assert_eq!(back, file);
    }

    #[test]
    fn event_log(ts in py_dt(), a in word(), b in no_pipe(), c in any_text(), kind in 0u8..5) {
        let event = match kind {
            0 => SystemEvent::Session { session_id: a, event_type: b, user_id: c },
            1 => SystemEvent::Admin { event_type: b, user_id: c, changed_by: a },
            2 => SystemEvent::Token { token_id: a, event_type: b },
            3 => SystemEvent::Auth { request_id: a, event_type: b, user_id: c },
            _ => SystemEvent::Other { text: c },
        };
        let e = EventLogEntry { timestamp: ts, event };
        let line = e.render_line();
        let back = EventLogEntry::parse_line(&line).unwrap();
        // The typed reading may differ only when the text is ambiguous; the line never does.
        prop_assert_eq!(back.render_line(), line);
        prop_assert_eq!(back.timestamp, e.timestamp);
    }

    #[test]
    fn active_sessions(gen in py_dt(), rows in proptest::collection::vec((word(), any_text(), any_text(), py_dt(), py_dt(),
                       opt(any_text()), opt(any_text()), any::<bool>()), 0..4)) {
        let sessions: Vec<ActiveSession> = rows.into_iter().map(|(id, disp, user, c, e, ip, dev, auth)| ActiveSession {
            session_id: id, display_name: disp, username: user.replace(" (ID: ", " (id: "),
            created_at: c, expires_at: Some(e), other: vec![],
            ip_address: ip.filter(|x| x != "None"),
            device_info: dev.filter(|x| !x.is_empty() && x != "Unknown"),
            is_fully_authenticated: auth }).collect();
        let f = CurrentStateFile::active_sessions(gen, sessions);
        let text = f.render();
        let (back, d) = CurrentStateFile::parse(text.as_bytes(), None).unwrap();
        prop_assert!(d.is_empty(), "{:?}", d);
        prop_assert_eq!(back, f);
    }

    #[test]
    fn user_attributes(rows in proptest::collection::vec((any_text(), any::<bool>(), opt(0i64..3_000_000),
                       opt(any_text()), any::<bool>()), 0..4)) {
        let users: Vec<UserAttributes> = rows.into_iter().map(|(name, sup, since, ty, dis)| UserAttributes {
            username: py_strip(&name).to_string(), is_supporter: sup,
            supporter_since: since.map(|d| NaiveDate::from_num_days_from_ce_opt(d as i32 + 1).unwrap()),
            supporter_type: ty.map(|t| py_strip(&t).to_string()).filter(|t| !t.is_empty()),
            welcome_message_dismissed: dis, other: vec![] }).collect();
        let f = UserAttributesFile { users };
        let text = f.render();
        let (back, d) = UserAttributesFile::parse(text.as_bytes(), None);
        prop_assert!(d.is_empty(), "{:?}", d);
        prop_assert_eq!(back, f);
    }

    #[test]
    fn role_definitions(rows in proptest::collection::vec((no_pipe(), no_pipe(), proptest::collection::vec(any_text(), 0..3),
                        any::<bool>(), no_pipe()), 0..4), now in naive()) {
        let roles = rows.into_iter().map(|(name, desc, permissions, sys, by)| RoleDefinition {
            name, description: desc, permissions, is_system_role: sys, created_by: by }).collect();
        let f = RoleDefinitionsFile::new(&now, roles);
        let text = f.render();
        let (back, d) = RoleDefinitionsFile::parse(text.as_bytes(), None);
        prop_assert!(d.is_empty(), "{:?}", d);
        prop_assert_eq!(back, f);
    }

    #[test]
    fn invite_tokens(rows in proptest::collection::vec((no_pipe(), no_pipe(), opt(py_dt()), any::<bool>(),
                     opt(any_text()), opt(py_dt())), 0..6), now in naive()) {
        let tokens: Vec<InviteTokenLine> = rows.into_iter().map(|(t, by, exp, used, ub, c)| InviteTokenLine {
            token: t, created_by_user: by, expires_at: exp, used, used_by_user_id: ub.filter(|u| u != "None"), created_at: c }).collect();
        let f = InviteTokensFile::from_tokens(&now, &tokens);
        let text = f.render();
        let (back, d) = InviteTokensFile::parse(text.as_bytes(), None);
        prop_assert!(d.is_empty(), "{:?}", d);
        prop_assert_eq!(back, f);
    }

    #[test]
    fn sessions_snapshot(rows in proptest::collection::vec((no_pipe(), any_text(), opt(py_dt()), opt(py_dt()), no_pipe(),
                         no_pipe(), any::<bool>()), 0..4), now in naive()) {
        let sessions = rows.into_iter().map(|(id, u, c, e, dev, ip, a)| SnapshotSession {
            session_id: id, user_id: u, created_at: c, expires_at: e, device_info: dev, ip_address: ip, is_fully_authenticated: a }).collect();
        let f = SessionsSnapshotFile::new(&now, sessions);
        let text = f.render();
        let (back, d) = SessionsSnapshotFile::parse(text.as_bytes(), None);
        prop_assert!(d.is_empty(), "{:?}", d);
        prop_assert_eq!(back, f);
    }

    #[test]
    fn system_config(items in proptest::collection::vec(("[^=\\p{C}]{1,12}", any_text()), 0..5), now in naive()) {
        let f = SystemConfigFile::from_config(&now, &items);
        let text = f.render();
        let (back, d) = SystemConfigFile::parse(text.as_bytes(), None);
        prop_assert!(d.is_empty(), "{:?}", d);
        prop_assert_eq!(back, f);
    }

    #[test]
    fn export_rows_a(id in escaped_raw(), ts in human(), p in escaped_raw(), name in escaped_raw(), value in escaped_text(),
                     by in escaped_raw(), user in any_text(), old in escaped_text(), new in escaped_text()) {
        export_round_trip(vec![ExportPrayerAttribute { id: id.clone(), created_at: ts.clone(), prayer_id: p.clone(),
            attribute_name: name.clone(), attribute_value: value, created_by: by.clone() }])?;
        export_round_trip(vec![ExportPrayerMark { id: id.clone(), created_at: ts.clone(), prayer_id: p.clone(), username: user.clone() }])?;
        export_round_trip(vec![ExportPrayerSkip { id: id.clone(), created_at: ts.clone(), prayer_id: p.clone(), user_id: user }])?;
        export_round_trip(vec![ExportPrayerActivityLog { id, created_at: ts, prayer_id: p, user_id: by,
            action: name, old_value: old, new_value: new }])?;
    }

    #[test]
    fn export_rows_b(ts in human(), ts2 in opt(human()), a in no_pipe(), b in no_pipe(), user in any_text(),
                     dev in opt(not_sentinel("unknown")), ip in opt(not_sentinel("unknown")), read in any::<bool>()) {
        export_round_trip(vec![ExportNotificationState { id: a.clone(), created_at: ts.clone(), user_id: user.clone(),
            auth_request_id: b.clone(), notification_type: a.clone(), is_read: read, read_at: ts2.clone() }])?;
        export_round_trip(vec![ExportAuthRequest { id: a.clone(), created_at: ts.clone(), user_id: b.clone(),
            device_info: dev.map(|d| format!("{d}|x")), ip_address: ip.clone(), status: a.clone(), expires_at: ts.clone() }])?;
        export_round_trip(vec![ExportAuthApproval { created_at: ts.clone(), auth_request_id: a.clone(), approver_user_id: user.clone() }])?;
        export_round_trip(vec![ExportInviteUsage { claimed_at: ts.clone(), invite_token_id: a.clone(), user_id: user, ip_address: ip }])?;
        export_round_trip(vec![ExportUserRole { id: a.clone(), granted_at: ts, user_id: b, role_id: a,
            granted_by: None, expires_at: ts2 }])?;
    }

    #[test]
    fn export_rows_c(ts in human(), a in escaped_raw(), actor in opt(not_sentinel("unknown")), details in escaped_text(),
                     ua in opt(escaped_text().prop_filter("sentinel", |s| !s.is_empty() && s != "unknown")),
                     count in any::<i64>(), max in opt(any::<i64>().prop_filter("0", |m| *m != 0)),
                     used_by in opt(not_sentinel("none")), perms in any_text(), sys in any::<bool>(),
                     user in opt(not_sentinel("anonymous")), desc in escaped_text()) {
        let actor = actor.filter(|s| !s.ends_with('\\'));
        export_round_trip(vec![ExportAuthAuditLog { created_at: ts.clone(), auth_request_id: a.clone(), action: a.clone(),
            actor_user_id: actor, actor_type: None, details, ip_address: None, user_agent: ua }])?;
        export_round_trip(vec![ExportInviteToken { token: a.clone(), created_by_user: perms.clone(), usage_count: count,
            max_uses: max, expires_at: ts.clone(), used_by_user_id: used_by }])?;
        export_round_trip(vec![ExportRole { id: a.clone(), role_name: a.replace('\\', ""), description: a.clone(), permissions: perms.clone(),
            created_by: Some("x".into()), is_system_role: sys }])?;
        export_round_trip(vec![ExportSecurityEvent { timestamp: ts.clone(), event_type: a.clone(), user_id: user,
            ip_address: None, details: perms }])?;
        let desc = desc.replace('\\', "/");
        export_round_trip(vec![ExportChangelogEntry { created_at: ts.clone(), commit_id: a.clone(),
            original_message: desc.clone(), friendly_description: format!("{desc}\n{desc}"), change_type: a, commit_date: ts }])?;
    }

    #[test]
    fn export_summary(cats in proptest::collection::vec(("[a-z_]{1,12}", any::<u64>()), 0..9), ts in human()) {
        let s = ExportSummary { exported_at: ts, categories: cats };
        let text = s.render();
        let (back, d) = ExportSummary::parse(text.as_bytes(), None);
        prop_assert!(d.is_empty());
        prop_assert_eq!(back, s);
    }

    #[test]
    fn membership(id in word(), sub in py_dt(), ip in opt(not_sentinel("Unknown")), user in any_text(),
                  essay in "(\\PC|\r\n|\n){0,40}", contact in opt(not_sentinel("None provided")),
                  decisions in proptest::collection::vec((any::<bool>(), any_text(), py_dt(), word(), opt("[a-z \n]{0,20}")), 0..3)) {
        let decisions = decisions.into_iter().map(|(ok, admin, at, tok, reason)| if ok {
            MembershipDecision::Approved { admin, at, invite_token: tok }
        } else {
            MembershipDecision::Rejected { admin, at, reason }
        }).collect();
        let essay = essay.replace("\n\nCONTACT INFO: ", "\n\nCONTACT: ");
        let a = MembershipApplication { app_id: id, submitted: sub, ip_address: ip, username: user, essay,
            contact_info: contact, status_line: "pending".into(), decisions };
        let text = a.render();
        let back = MembershipApplication::parse(text.as_bytes(), None).map_err(|d| TestCaseError::fail(format!("{d}\n{text:?}")))?;
        prop_assert_eq!(back, a);
    }
}
