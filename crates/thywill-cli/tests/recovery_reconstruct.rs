//! `thywill reconstruct-from-archives` on a copy of a fixture whose relationships were
//! damaged.

use crate::support::{fixtures, json_of, thywill_in};

fn sql(db: &std::path::Path, statement: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    conn.execute_batch(statement).unwrap();
}

fn count(db: &std::path::Path, query: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(query, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn reconstruct_dry_run_then_execute_then_nothing_left() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    std::fs::copy(fixtures().join("s1-live").join("thywill.db"), &db).unwrap();
    let archives = fixtures().join("s1-live").join("text_archives");
    let archives = archives.to_str().unwrap();
    sql(
        &db,
        "UPDATE user SET invited_by_username = NULL; DELETE FROM invitetoken; DELETE FROM session;",
    );
    let base = [
        "reconstruct-from-archives",
        "--archive-dir",
        archives,
        "--time-zone",
        "utc",
        "--as-of",
        "2023-01-01T00:00:00",
    ];

    // One of --dry-run and --execute is required.
    let out = thywill_in(dir.path(), &base, &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dry = thywill_in(
        dir.path(),
        &[&base[..], &["--dry-run", "--json"]].concat(),
        &[],
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let dry = json_of(&dry);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(count(&db, "SELECT count(*) FROM invitetoken"), 0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM user WHERE invited_by_username IS NOT NULL"
        ),
        0
    );

    // Both given: the dry run wins, as in ThyWill.
    let both = thywill_in(
        dir.path(),
        &[&base[..], &["--dry-run", "--execute", "--json"]].concat(),
        &[],
    );
    assert!(both.status.success());
    assert_eq!(json_of(&both)["dry_run"], true);
    assert_eq!(count(&db, "SELECT count(*) FROM invitetoken"), 0);

    let real = thywill_in(
        dir.path(),
        &[&base[..], &["--execute", "--json"]].concat(),
        &[],
    );
    assert!(
        real.status.success(),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    let real = json_of(&real);
    assert_eq!(real["dry_run"], false);
    assert_eq!(real["relationships"], dry["relationships"]);
    assert_eq!(real["relationships"]["inviter"]["repointed"], 99);
    assert_eq!(count(&db, "SELECT count(*) FROM invitetoken"), 119);
    assert_eq!(count(&db, "SELECT count(*) FROM session"), 125);

    let text = thywill_in(dir.path(), &[&base[..], &["--execute"]].concat(), &[]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("COMPLETED"), "{text}");
    assert!(text.contains("orphaned_prayers_fixed: 0"), "{text}");
}

#[test]
fn reconstruct_refuses_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let archives = fixtures().join("s1").join("text_archives");
    let out = thywill_in(
        dir.path(),
        &[
            "reconstruct-from-archives",
            "--execute",
            "--archive-dir",
            archives.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(!dir.path().join("thywill.db").exists());
}

#[test]
fn reconstruct_refuses_the_legacy_schema_with_exit_7() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    sql(
        &db,
        "CREATE TABLE user (id TEXT PRIMARY KEY, display_name TEXT); \
         CREATE TABLE prayer (id TEXT PRIMARY KEY, author_id TEXT);",
    );
    let archives = fixtures().join("s1").join("text_archives");
    let out = thywill_in(
        dir.path(),
        &[
            "reconstruct-from-archives",
            "--execute",
            "--archive-dir",
            archives.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&out.stderr).contains("legacy"));
}
