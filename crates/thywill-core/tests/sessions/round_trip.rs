//! Export and restore of sessions on copies of the fixture databases, ThyWill's own file
//! shape, both session schemas, expired sessions and users that no longer exist.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use rusqlite::Connection;
use thywill_core::progress::NoProgress;
use thywill_core::sessions::{
    export_sessions, restore_sessions, ExportSessionsOptions, RestoreSessionsOptions, SessionSchema,
};
use thywill_core::ErrorKind;

use crate::support::fixtures;

fn at(text: &str) -> Option<NaiveDateTime> {
    Some(NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap())
}

fn copy_of(corpus: &str, dir: &Path) -> PathBuf {
    let db = dir.join("thywill.db");
    std::fs::copy(fixtures().join(corpus).join("thywill.db"), &db).unwrap();
    db
}

fn session_rows(db: &Path) -> Vec<Vec<String>> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT id, username, created_at, expires_at, auth_request_id, device_info, \
             ip_address, is_fully_authenticated FROM session ORDER BY id",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((0..8)
                .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect())
        })
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

fn restore(
    db: &Path,
    file: &Path,
    dry_run: bool,
    as_of: &str,
) -> thywill_core::sessions::SessionsRestoreReport {
    let options = RestoreSessionsOptions {
        dry_run,
        as_of: at(as_of),
    };
    restore_sessions(db, file, &options, &NoProgress).unwrap()
}

#[test]
fn s1_live_sessions_come_back_equal_after_the_table_is_emptied() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_of("s1-live", dir.path());
    let original = session_rows(&db);
    let file = dir.path().join("sessions_backup.json");
    let options = ExportSessionsOptions {
        include_expired: true,
        ..Default::default()
    };
    let export = export_sessions(&db, &file, &options, &NoProgress).unwrap();
    assert_eq!(export.total_sessions, 125);
    assert_eq!(export.schema, SessionSchema::UsernameBased);
    // Reports never hold a whole session id.
    let json = serde_json::to_string(&export).unwrap();
    for row in &original {
        let id = row[0].trim_start_matches("Text(\"").trim_end_matches("\")");
        assert!(!json.contains(id), "the report shows a whole session id");
    }
    Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM session", [])
        .unwrap();
    // Judged at the fixture's start, no session has expired.
    let dry = restore(&db, &file, true, "2023-10-01T00:00:00");
    assert!(session_rows(&db).is_empty(), "a dry run wrote");
    let real = restore(&db, &file, false, "2023-10-01T00:00:00");
    assert_eq!((dry.restored, real.restored), (125, 125));
    assert_eq!(dry.restored_usernames, real.restored_usernames);
    assert_eq!(session_rows(&db), original);
    let again = restore(&db, &file, false, "2023-10-01T00:00:00");
    assert_eq!((again.restored, again.already_present), (0, 125));
    assert_eq!(session_rows(&db), original);
}

#[test]
fn only_active_sessions_are_exported_and_expired_ones_are_not_restored() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_of("s1", dir.path());
    let active: i64 = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM session WHERE expires_at >= '2025-09-20 00:00:00'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(active > 0 && active < 125, "{active}");
    let file = dir.path().join("out.json");
    let options = ExportSessionsOptions {
        as_of: at("2025-09-20T00:00:00"),
        ..Default::default()
    };
    let export = export_sessions(&db, &file, &options, &NoProgress).unwrap();
    assert_eq!(export.total_sessions as i64, active);
    assert_eq!(export.expired_skipped as i64, 125 - active);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["total_sessions"], active);
    assert_eq!(doc["sessions"].as_array().unwrap().len() as i64, active);
    // Restored later, when all of them have expired: nothing comes back.
    Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM session", [])
        .unwrap();
    let late = restore(&db, &file, false, "2026-01-01T00:00:00");
    assert_eq!((late.restored, late.expired), (0, active as u64));
    assert!(session_rows(&db).is_empty());
}

#[test]
fn the_file_is_private_and_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_of("s1-live", dir.path());
    let file = dir.path().join("sessions_backup.json");
    std::fs::write(&file, "old").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let options = ExportSessionsOptions {
        include_expired: true,
        ..Default::default()
    };
    export_sessions(&db, &file, &options, &NoProgress).unwrap();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("{\n  \"exported_at\": \""),
        "{}",
        &text[..40]
    );
    // Python's json.dump escapes every character beyond ASCII.
    assert!(text.is_ascii());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_session_of_a_user_who_no_longer_exists_is_reported_not_restored() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_of("s1-live", dir.path());
    let file = dir.path().join("s.json");
    let options = ExportSessionsOptions {
        include_expired: true,
        ..Default::default()
    };
    export_sessions(&db, &file, &options, &NoProgress).unwrap();
    let conn = Connection::open(&db).unwrap();
    let gone: String = conn
        .query_row(
            "SELECT username FROM session ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let theirs: i64 = conn
        .query_row(
            "SELECT count(*) FROM session WHERE username = ?1",
            [&gone],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    conn.execute("DELETE FROM session", []).unwrap();
    conn.execute("DELETE FROM user WHERE display_name = ?1", [&gone])
        .unwrap();
    drop(conn);
    let report = restore(&db, &file, false, "2023-10-01T00:00:00");
    assert_eq!(report.unknown_users.len() as i64, theirs);
    assert!(report
        .unknown_users
        .iter()
        .all(|s| s.username == gone && s.id_prefix.len() == 11));
    assert_eq!(report.restored as i64, 125 - theirs);
    assert!(!report.restored_usernames.contains(&gone));
}

#[test]
fn a_file_from_thywills_own_exporter_restores() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_of("s1-live", dir.path());
    // The shape of tools/export_active_sessions.py: local exported_at with microseconds, ISO
    // times without a zero fraction, nulls, a non-ASCII name escaped, a session from the
    // snapshot without its flag (true by default).
    let file = dir.path().join("sessions_backup.json");
    std::fs::write(
        &file,
        r#"{
  "exported_at": "2025-09-30T12:00:00.123456",
  "total_sessions": 3,
  "sessions": [
    {
      "session_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "username": "John B.",
      "created_at": "2025-09-20T08:15:00",
      "expires_at": "2025-10-04T08:15:00.250000",
      "ip_address": null,
      "device_info": "Mozilla/5.0 (X11)",
      "auth_request_id": null,
      "is_fully_authenticated": true
    },
    {
      "session_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
      "username": "\u041e\u043b\u0435\u043a\u0441\u0430\u043d\u0434\u0440 \u0428\u0435\u0432\u0447\u0435\u043d\u043a\u043e",
      "created_at": "2025-09-21T08:15:00",
      "expires_at": "2025-10-05T08:15:00",
      "ip_address": "203.0.113.7",
      "device_info": null,
      "auth_request_id": null
    },
    {
      "session_id": "cccccccccccccccccccccccccccccccc",
      "username": "Nobody Here",
      "created_at": "2025-09-21T08:15:00",
      "expires_at": "2025-10-05T08:15:00",
      "ip_address": null,
      "device_info": null,
      "auth_request_id": null,
      "is_fully_authenticated": false
    }
  ]
}"#,
    )
    .unwrap();
    let report = restore(&db, &file, false, "2025-09-30T00:00:00");
    assert_eq!(report.restored, 2, "{report:?}");
    assert_eq!(report.unknown_users.len(), 1);
    assert_eq!(report.unknown_users[0].id_prefix, "cccccccc...");
    let conn = Connection::open(&db).unwrap();
    let row: (String, String, Option<String>, bool) = conn
        .query_row(
            "SELECT username, expires_at, ip_address, is_fully_authenticated FROM session \
             WHERE id = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            "Олександр Шевченко".to_string(),
            "2025-10-05 08:15:00.000000".to_string(),
            Some("203.0.113.7".to_string()),
            true
        )
    );
    let expires: String = conn
        .query_row(
            "SELECT expires_at FROM session WHERE id = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(expires, "2025-10-04 08:15:00.250000");
}

#[test]
fn the_legacy_session_table_is_read_and_written_by_user_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("legacy.db");
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE user (id VARCHAR PRIMARY KEY, display_name VARCHAR NOT NULL);
         CREATE TABLE session (id VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL,
             created_at DATETIME NOT NULL, expires_at DATETIME NOT NULL, auth_request_id VARCHAR,
             device_info VARCHAR, ip_address VARCHAR, is_fully_authenticated BOOLEAN DEFAULT 1);
         INSERT INTO user VALUES ('u1', 'Ann Lee'), ('u2', 'Bob Roe');
         INSERT INTO session VALUES ('s1s1s1s1s1', 'u1', '2025-01-01 10:00:00.000000',
             '2025-01-15 10:00:00.000000', NULL, 'UA', '1.2.3.4', 1);",
    )
    .unwrap();
    drop(conn);
    let file = dir.path().join("s.json");
    let options = ExportSessionsOptions {
        as_of: at("2025-01-02T00:00:00"),
        ..Default::default()
    };
    let export = export_sessions(&db, &file, &options, &NoProgress).unwrap();
    assert_eq!(export.schema, SessionSchema::Legacy);
    assert_eq!(export.usernames, ["Ann Lee"]);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(doc["sessions"][0]["username"], "Ann Lee");
    assert_eq!(doc["sessions"][0]["created_at"], "2025-01-01T10:00:00");
    Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM session", [])
        .unwrap();
    let report = restore(&db, &file, false, "2025-01-02T00:00:00");
    assert_eq!((report.schema, report.restored), (SessionSchema::Legacy, 1));
    let user_id: String = Connection::open(&db)
        .unwrap()
        .query_row("SELECT user_id FROM session", [], |r| r.get(0))
        .unwrap();
    assert_eq!(user_id, "u1");
}

#[test]
fn bad_input_is_refused_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = copy_of("s1-live", dir.path());
    let missing = restore_sessions(
        &db,
        dir.path().join("none.json"),
        &Default::default(),
        &NoProgress,
    );
    assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "[1, 2").unwrap();
    let refused = restore_sessions(&db, &garbage, &Default::default(), &NoProgress);
    assert_eq!(refused.unwrap_err().kind(), ErrorKind::InvalidInput);
    let hostile = dir.path().join("hostile.json");
    std::fs::write(
        &hostile,
        r#"{"sessions": [
            {"session_id": "x\u0000y", "username": "John B.", "created_at": "2025-09-20T08:15:00", "expires_at": "2099-01-01T00:00:00"},
            {"session_id": "dddddddddd", "username": "John B.", "created_at": "yesterday", "expires_at": "2099-01-01T00:00:00"}
        ]}"#,
    )
    .unwrap();
    let report = restore_sessions(&db, &hostile, &Default::default(), &NoProgress).unwrap();
    assert_eq!(report.failures.len(), 2, "{report:?}");
    assert!(
        report.failures[0]
            .reason
            .contains("session_id has a control character"),
        "{report:?}"
    );
    assert!(
        report.failures[1].reason.contains("unreadable time"),
        "{report:?}"
    );
    assert_eq!(report.restored, 0);
    let no_db = export_sessions(
        dir.path().join("absent.db"),
        dir.path().join("x.json"),
        &Default::default(),
        &NoProgress,
    );
    assert_eq!(no_db.unwrap_err().kind(), ErrorKind::NotFound);
}
