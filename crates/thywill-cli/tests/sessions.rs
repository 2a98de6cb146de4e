//! `thywill export-sessions` and `thywill restore-sessions` on a copy of a fixture database.

use std::os::unix::fs::PermissionsExt;

use crate::support::{fixtures, json_of, thywill_in};

fn sql(db: &std::path::Path, statement: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    conn.execute_batch(statement).unwrap();
}

#[test]
fn sessions_go_out_and_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    std::fs::copy(fixtures().join("s1-live").join("thywill.db"), &db).unwrap();
    // Three sessions still valid; the fixture's others expired long ago.
    sql(
        &db,
        "UPDATE session SET expires_at = '2099-01-01 00:00:00.000000' \
         WHERE id IN (SELECT id FROM session ORDER BY id LIMIT 3)",
    );
    let out = thywill_in(dir.path(), &["export-sessions", "--json"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    assert_eq!(report["total_sessions"], 3);
    assert_eq!(report["expired_skipped"], 122);
    let file = dir.path().join("sessions_backup.json");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    sql(&db, "DELETE FROM session");
    let dry = thywill_in(
        dir.path(),
        &[
            "restore-sessions",
            "sessions_backup.json",
            "--dry-run",
            "--json",
        ],
        &[],
    );
    assert!(dry.status.success());
    assert_eq!(json_of(&dry)["restored"], 3);
    let real = thywill_in(
        dir.path(),
        &["restore-sessions", "sessions_backup.json", "--json"],
        &[],
    );
    assert_eq!(json_of(&real)["restored"], 3);
    let again = thywill_in(
        dir.path(),
        &["restore-sessions", "sessions_backup.json"],
        &[],
    );
    assert!(again.status.success());
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("Restored 0 of 3 session(s)"), "{text}");
    assert!(text.contains("3 already present"), "{text}");
    // Expired sessions go out only when asked, and do not come back.
    let all = thywill_in(
        dir.path(),
        &[
            "export-sessions",
            "--include-expired",
            "--out",
            "all.json",
            "--json",
        ],
        &[],
    );
    assert_eq!(json_of(&all)["total_sessions"], 3);
}

#[test]
fn a_missing_file_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    std::fs::copy(fixtures().join("s1-live").join("thywill.db"), &db).unwrap();
    let out = thywill_in(dir.path(), &["restore-sessions", "nothing.json"], &[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
