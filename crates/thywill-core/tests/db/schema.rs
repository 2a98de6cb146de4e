//! The database layer against real SQLite files and ThyWill's own fixture databases.

use crate::support::fixtures;

use rusqlite::Connection;
use thywill_core::db::{schema, Database, OpenOptions};
use thywill_core::ErrorKind;

fn master(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn created_schema_equals_the_fixture_databases_sqlite_master() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::create(dir.path().join("thywill.db")).unwrap();
    let ours = master(db.connection());
    for corpus in ["s1", "s1-live"] {
        let theirs = Connection::open_with_flags(
            fixtures().join(corpus).join("thywill.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        assert_eq!(ours, master(&theirs), "schema differs from {corpus}");
    }
    let roles: Vec<(String, String, String, i64, Option<String>)> = db
        .connection()
        .prepare("SELECT name, description, permissions, is_system_role, created_by FROM role ORDER BY rowid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(roles.len(), 3);
    for (row, expected) in roles.iter().zip(schema::DEFAULT_ROLES) {
        assert_eq!(row.0, expected.name);
        assert_eq!(row.1, expected.description);
        assert_eq!(row.2, expected.permissions);
        assert_eq!(row.3, 1);
        assert_eq!(row.4, None);
    }
    let mode: String = db
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let (id, created): (String, String) = db
        .connection()
        .query_row("SELECT id, created_at FROM role LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(created.len(), 26);
}

#[test]
fn fixture_permissions_match_the_default_roles_text() {
    let theirs = Connection::open_with_flags(
        fixtures().join("s1").join("thywill.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    for role in schema::DEFAULT_ROLES
        .iter()
        .chain([&schema::DEACTIVATED_ROLE])
    {
        let (desc, perms): (String, String) = theirs
            .query_row(
                "SELECT description, permissions FROM role WHERE name = ?1",
                [role.name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (desc.as_str(), perms.as_str()),
            (role.description, role.permissions)
        );
    }
}

#[test]
fn legacy_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("legacy.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE user (id VARCHAR PRIMARY KEY, display_name VARCHAR, religious_preference VARCHAR);
         CREATE TABLE prayermark (id VARCHAR PRIMARY KEY, user_id VARCHAR, prayer_id VARCHAR);",
    )
    .unwrap();
    drop(conn);
    let err = Database::open(&path, &OpenOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("legacy"), "{err}");
    assert!(err.to_string().contains("001"), "{err}");
}

#[test]
fn extra_columns_and_missing_optional_tables_are_tolerated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("thywill.db");
    std::fs::copy(fixtures().join("s1").join("thywill.db"), &path).unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "ALTER TABLE prayer ADD COLUMN suggested_archive_date DATETIME DEFAULT NULL;
         ALTER TABLE prayer ADD COLUMN is_featured BOOLEAN DEFAULT FALSE;
         DROP TABLE membership_application;",
    )
    .unwrap();
    drop(conn);
    let mut db = Database::open(&path, &OpenOptions::default()).unwrap();
    let info = db.check_schema().unwrap();
    assert_eq!(
        info.missing_tables,
        vec!["membership_application".to_string()]
    );
    assert!(!db.has_table("membership_application"));
    let n: i64 = db
        .connection()
        .query_row("SELECT count(*) FROM prayer", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1000);
}

#[test]
fn missing_database_is_not_found_unless_creation_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.db");
    let err = Database::open(&path, &OpenOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!path.exists());
}

#[test]
fn write_phase_rolls_back_on_error_and_commits_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::create(dir.path().join("thywill.db")).unwrap();
    let insert = |c: &Connection, name: &str| {
        c.execute(
            "INSERT INTO user (display_name, created_at, welcome_message_dismissed, is_supporter) VALUES (?1, '2024-01-01 00:00:00.000000', 0, 0)",
            [name],
        )
    };
    let failed: thywill_core::Result<()> = db.write_phase(|c| {
        insert(c, "Ann")?;
        Err(thywill_core::Error::Cancelled)
    });
    assert!(failed.is_err());
    db.write_phase(|c| {
        insert(c, "Bob")?;
        Ok(())
    })
    .unwrap();
    let names: Vec<String> = db
        .connection()
        .prepare("SELECT display_name FROM user")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names, vec!["Bob".to_string()]);
}

#[test]
fn an_import_waits_for_the_apps_write_lock_instead_of_failing() {
    use thywill_core::import::{JsonPrayersOptions, JsonPrayersPlan};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("thywill.db");
    drop(Database::create(&path).unwrap());
    // The "Python app": holds the write lock for a moment, as a request would.
    let app = Connection::open(&path).unwrap();
    app.execute_batch(
        "BEGIN IMMEDIATE; INSERT INTO user (display_name, created_at, welcome_message_dismissed, is_supporter) \
         VALUES ('App User', '2024-01-01 00:00:00.000000', 0, 0);",
    )
    .unwrap();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let releaser = std::thread::spawn(move || {
        locked_tx.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        app.execute_batch("COMMIT").unwrap();
    });
    locked_rx.recv().unwrap();
    let plan =
        JsonPrayersPlan::from_slice(br#"[{"text": "Peace", "author_name": "Ann"}]"#, "x.json")
            .unwrap();
    let report = plan
        .apply(
            &path,
            &JsonPrayersOptions::default(),
            &thywill_core::progress::NoProgress,
        )
        .unwrap();
    releaser.join().unwrap();
    assert_eq!(report.total_inserted(), 2);
    let conn = Connection::open(&path).unwrap();
    let users: i64 = conn
        .query_row("SELECT count(*) FROM user", [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 2);
}
