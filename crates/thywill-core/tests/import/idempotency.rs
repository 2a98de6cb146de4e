//! Idempotency with multiplicity, dry-run equality, and nothing created by dry runs.

use std::path::Path;

use crate::support::fixtures;
use crate::support::import::rows;
use rusqlite::Connection;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    import_text_archives, report::entity, ImportReport, TextArchiveOptions,
};
use thywill_core::progress::NoProgress;

fn options(dry_run: bool) -> TextArchiveOptions {
    TextArchiveOptions {
        dry_run,
        time_zone: ArchiveTimeZone::Utc,
        ..TextArchiveOptions::default()
    }
}

fn import(archives: &Path, db: &Path, dry_run: bool) -> ImportReport {
    import_text_archives(archives, db, &options(dry_run), &NoProgress).unwrap()
}

fn table_counts(db: &Path) -> Vec<(String, i64)> {
    let conn = Connection::open(db).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names
        .into_iter()
        .map(|n| {
            let c: i64 = conn
                .query_row(&format!("SELECT count(*) FROM \"{n}\""), [], |r| r.get(0))
                .unwrap();
            (n, c)
        })
        .collect()
}

#[test]
fn second_run_inserts_nothing_and_dry_run_numbers_equal_the_real_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    let archives = fixtures().join("s1").join("text_archives");
    let dry = import(&archives, &db, true);
    assert!(!db.exists(), "a dry run must not create the database file");
    // Nothing but the dry run's audit line (docs/audit.md).
    let created: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        created,
        [thywill_core::audit::AUDIT_FILE_NAME],
        "a dry run must create nothing"
    );
    let real = import(&archives, &db, false);
    assert_eq!(
        dry.entities, real.entities,
        "dry-run numbers differ from the real run"
    );
    assert!(real.total_inserted() > 20_000);
    let before = table_counts(&db);
    let dry_again = import(&archives, &db, true);
    let again = import(&archives, &db, false);
    assert_eq!(dry_again.entities, again.entities);
    assert_eq!(again.total_changes(), 0, "{}", again.to_json());
    assert_eq!(table_counts(&db), before);
    assert_eq!(again.counts(entity::PRAYERS).already_present, 1000);
}

#[test]
fn the_live_database_that_wrote_the_archives_gets_nothing_new() {
    for corpus in ["s1", "s1-live"] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("thywill.db");
        std::fs::copy(fixtures().join(corpus).join("thywill.db"), &db).unwrap();
        let before = table_counts(&db);
        let archives = fixtures().join(corpus).join("text_archives");
        let dry = import(&archives, &db, true);
        let report = import(&archives, &db, false);
        assert_eq!(dry.entities, report.entities);
        for (name, counts) in &report.entities {
            if counts.inserted + counts.updated + counts.deleted > 0 {
                println!("{corpus} {name}: {counts:?}");
            }
        }
        assert_eq!(report.total_changes(), 0, "{corpus}: {}", report.to_json());
        assert_eq!(table_counts(&db), before);
    }
}

#[test]
fn a_database_created_by_an_import_is_in_wal_mode_like_thywills() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    import(
        &fixtures()
            .join("s1-live")
            .join("text_archives")
            .join("users"),
        &db,
        false,
    );
    let conn = Connection::open(&db).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// A small archive with every log kind the later phases read: security events (with `=`
/// in details, a `None` user, a session event and two identical lines), notifications
/// (created, then read), an exported audit log and two membership applications (one
/// rejected).
fn log_archive(root: &Path) {
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "users/2025_01_users.txt",
        "User Registrations for January 2025\n\nJanuary 02 2025 at 09:20 - Ann Lee joined directly\n",
    );
    write(
        "auth/2025_01_security_events.txt",
        "Security Events for January 2025\nFormat: timestamp|event_type|user_id|ip_address|user_agent|details\n\n\
         2025-01-05T10:00:01.5|ip_change|Ann Lee|1.2.3.4|UA 1|IP changed from 5.6.7.8 to 1.2.3.4\n\
         2025-01-05T10:00:30|logout|Ann Lee|1.2.3.4|UA 1|session_id=abc, reason=manual\n\
         2025-01-05T10:00:30|logout|Ann Lee|1.2.3.4|UA 1|session_id=abc, reason=manual\n\
         2025-01-06T11:00:00|ip_change|None|None|unknown|from=x\n\
         2025-01-06T11:00:00|login_failed|Mallory Intruder|9.9.9.9|curl|bad code\n\
         2025-01-07T12:00:00|session_created|Ann Lee|1.2.3.4|UA 1|session_id=s1, fully_authenticated=True\n",
    );
    write(
        "auth/notifications/2025_01_notifications.txt",
        "Notification Events for January 2025\nFormat: timestamp|user_id|auth_request_id|notification_type|action|details\n\n\
         2025-01-08T08:00:00|Ann Lee|req1|auth_request|created|\n\
         2025-01-08T08:00:00|Bob Roe|req1|auth_request|created|\n\
         2025-01-08T09:15:00|Ann Lee|req1|auth_request|read|read_at=now\n",
    );
    write(
        "authentication/auth_audit_logs.txt",
        "Authentication Audit Logs (exported January 31 2025 at 12:00)\n\
         Format: created_at|auth_request_id|action|actor_user_id|actor_type|details|ip_address|user_agent\n\n\n\
         January 08 2025 at 08:00|req1|approval_vote|Ann Lee|peer|Vote 1/2|unknown|unknown\n\
         January 08 2025 at 08:05|req1|approved|Bob Roe|admin|Approved a\\|b|1.2.3.4|UA",
    );
    write(
        "membership_applications/20250109_100000_app1.txt",
        "MEMBERSHIP APPLICATION\n=====================\n\nApplication ID: app1\nSubmitted: 2025-01-09T10:00:00\nIP Address: Unknown\n\n\
         USERNAME: Carol Poe\n\nESSAY/MOTIVATION:\nI pray.\nSTATUS: not a key\n\nCONTACT INFO: None provided\n\nSTATUS: pending\n\n\
         REJECTED by Ann Lee at 2025-01-10T10:00:00\nReason: no\n",
    );
    write(
        "membership_applications/20250109_110000_app2.txt",
        "MEMBERSHIP APPLICATION\n=====================\n\nApplication ID: app2\nSubmitted: 2025-01-09T11:00:00\nIP Address: 1.2.3.4\n\n\
         USERNAME: Dan Roe\n\nESSAY/MOTIVATION:\nHello\n\nCONTACT INFO: dan@example.org\n\nSTATUS: pending\n\n\
         APPROVED by Ann Lee at 2025-01-10T11:00:00\nInvite token: 0123456789abcdef\n",
    );
}

#[test]
fn security_events_notifications_audit_log_and_applications_come_back_once() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("text_archives");
    log_archive(&archives);
    let db = dir.path().join("thywill.db");
    let dry = import(&archives, &db, true);
    let real = import(&archives, &db, false);
    assert_eq!(dry.entities, real.entities, "dry-run numbers differ");
    assert!(!real.has_failures(), "{:?}", real.failures);
    let security = real.counts(entity::SECURITY_EVENTS);
    assert_eq!(
        (security.inserted, security.skipped),
        (5, 1),
        "{security:?}"
    );
    assert_eq!(
        rows(&db, "SELECT event_type, user_id, ip_address, user_agent, details, created_at FROM securitylog"),
        [
            "ip_change|Ann Lee|1.2.3.4|UA 1|IP changed from 5.6.7.8 to 1.2.3.4|2025-01-05 10:00:01.500000",
            "ip_change|NULL|NULL|unknown|from=x|2025-01-06 11:00:00.000000",
            "login_failed|Mallory Intruder|9.9.9.9|curl|bad code|2025-01-06 11:00:00.000000",
            "logout|Ann Lee|1.2.3.4|UA 1|session_id=abc, reason=manual|2025-01-05 10:00:30.000000",
            "logout|Ann Lee|1.2.3.4|UA 1|session_id=abc, reason=manual|2025-01-05 10:00:30.000000",
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT user_id, auth_request_id, is_read, created_at, read_at FROM notification_state"
        ),
        [
            "Ann Lee|req1|1|2025-01-08 08:00:00.000000|2025-01-08 09:15:00.000000",
            "Bob Roe|req1|0|2025-01-08 08:00:00.000000|NULL",
        ]
    );
    assert_eq!(
        rows(&db, "SELECT auth_request_id, action, actor_user_id, actor_type, details, ip_address, user_agent FROM authauditlog"),
        [
            "req1|approval_vote|Ann Lee|peer|Vote 1/2|NULL|NULL",
            "req1|approved|Bob Roe|admin|Approved a|b|1.2.3.4|UA",
        ]
    );
    assert_eq!(
        rows(&db, "SELECT id, username, essay, contact_info, ip_address, status, processed_by_user_id, processed_at, invite_token, text_file_path FROM membership_application"),
        [
            "app1|Carol Poe|I pray.\nSTATUS: not a key|NULL|NULL|rejected|Ann Lee|2025-01-10 10:00:00.000000|NULL|text_archives/membership_applications/20250109_100000_app1.txt",
            "app2|Dan Roe|Hello|dan@example.org|1.2.3.4|approved|Ann Lee|2025-01-10 11:00:00.000000|0123456789abcdef|text_archives/membership_applications/20250109_110000_app2.txt",
        ]
    );
    // Users come from registrations only, never from logged, notified or applying names.
    assert_eq!(rows(&db, "SELECT display_name FROM user"), ["Ann Lee"]);
    let before = table_counts(&db);
    let dry_again = import(&archives, &db, true);
    let again = import(&archives, &db, false);
    assert_eq!(dry_again.entities, again.entities);
    assert_eq!(again.total_changes(), 0, "{}", again.to_json());
    assert_eq!(table_counts(&db), before);
    // One more identical line is one more row.
    let events = archives.join("auth/2025_01_security_events.txt");
    let mut text = std::fs::read_to_string(&events).unwrap();
    text.push_str(
        "2025-01-05T10:00:59|logout|Ann Lee|1.2.3.4|UA 1|session_id=abc, reason=manual\n",
    );
    std::fs::write(&events, text).unwrap();
    let third = import(&archives, &db, false);
    assert_eq!(third.counts(entity::SECURITY_EVENTS).inserted, 1);
    assert_eq!(third.total_changes(), 1, "{}", third.to_json());
}

#[test]
fn control_characters_in_the_log_files_refuse_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("text_archives");
    log_archive(&archives);
    std::fs::write(
        archives.join("auth/2025_02_security_events.txt"),
        "Security Events for February 2025\nFormat: timestamp|event_type|user_id|ip_address|user_agent|details\n\n\
         2025-02-05T10:00:00|ip_change|Ann\u{1b}Lee|1.2.3.4|UA|x\n\
         2025-02-05T10:00:00|ip_change|Ann Lee|1.2.3.4|UA\u{0}|x\n",
    )
    .unwrap();
    std::fs::write(
        archives.join("auth/notifications/2025_02_notifications.txt"),
        "Notification Events for February 2025\nFormat: timestamp|user_id|auth_request_id|notification_type|action|details\n\n\
         2025-02-08T08:00:00|Ann\u{7}Lee|req1|auth_request|created|\n",
    )
    .unwrap();
    std::fs::write(
        archives.join("membership_applications/20250201_100000_app3.txt"),
        "MEMBERSHIP APPLICATION\n=====================\n\nApplication ID: app3\nSubmitted: 2025-02-01T10:00:00\nIP Address: Unknown\n\n\
         USERNAME: Eve\u{1b}[31m\n\nESSAY/MOTIVATION:\nHi\n\nCONTACT INFO: None provided\n\nSTATUS: pending\n",
    )
    .unwrap();
    std::fs::write(
        archives.join("membership_applications/20250201_110000_app4.txt"),
        "MEMBERSHIP APPLICATION\n=====================\n\nApplication ID: app4\n",
    )
    .unwrap();
    let db = dir.path().join("thywill.db");
    let report = import(&archives, &db, false);
    let failures: Vec<String> = report.failures.iter().map(|f| f.to_string()).collect();
    assert_eq!(failures.len(), 5, "{failures:#?}");
    assert!(
        failures[0].contains("auth/2025_02_security_events.txt:4 field user_id"),
        "{failures:#?}"
    );
    assert!(failures[1].contains(":5 field user_agent"), "{failures:#?}");
    assert!(
        failures[2].contains("2025_02_notifications.txt:4 field user_id"),
        "{failures:#?}"
    );
    assert!(
        failures[3].contains("20250201_100000_app3.txt:8 field username"),
        "{failures:#?}"
    );
    assert!(
        failures[4].contains("20250201_110000_app4.txt:"),
        "{failures:#?}"
    );
    assert_eq!(report.counts(entity::MEMBERSHIP_APPLICATIONS).failed, 2);
    assert_eq!(report.counts(entity::MEMBERSHIP_APPLICATIONS).inserted, 2);
    assert_eq!(report.counts(entity::SECURITY_EVENTS).failed, 2);
    assert_eq!(report.counts(entity::SECURITY_EVENTS).inserted, 5);
}
