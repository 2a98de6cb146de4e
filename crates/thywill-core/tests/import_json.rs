//! `import prayers <file.json>` against real SQLite files.

use rusqlite::Connection;
use thywill_core::import::{
    import_prayers_json, report::entity, JsonPrayersOptions, JsonPrayersPlan,
};
use thywill_core::progress::NoProgress;
use thywill_core::ErrorKind;

const BATCH: &str = r#"[
  {"text": "Please pray for my exam tomorrow", "generated_prayer": "Lord, grant Sam peace...",
   "author_name": "Sam", "project_tag": "school", "target_audience": "all", "created_at": "2023-12-01T10:00:00Z"},
  {"text": "Healing for my aunt", "author_name": "Ann Lee"},
  {"generated_prayer": "no text here"},
  {"text": "Healing for my aunt", "author_name": "Ann Lee"}
]"#;

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn imports_a_batch_creates_authors_and_is_idempotent_with_multiplicity() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("prayers.json");
    std::fs::write(&json, BATCH).unwrap();
    let db = dir.path().join("thywill.db");

    let dry = import_prayers_json(
        &json,
        &db,
        &JsonPrayersOptions { dry_run: true },
        &NoProgress,
    )
    .unwrap();
    assert!(!db.exists(), "a dry run must not create the database file");
    let real =
        import_prayers_json(&json, &db, &JsonPrayersOptions::default(), &NoProgress).unwrap();
    assert_eq!(dry.entities, real.entities);
    assert_eq!(real.counts(entity::PRAYERS).inserted, 3);
    assert_eq!(real.counts(entity::PRAYERS).skipped, 1);
    assert_eq!(real.counts(entity::USERS).inserted, 2);
    assert!(!real.has_failures());
    assert_eq!(real.notes[0].record, Some(2));
    assert_eq!(real.notes[0].field.as_deref(), Some("text"));

    let conn = Connection::open(&db).unwrap();
    let (author, created, tag, method, flags): (String, String, String, String, String) = conn
        .query_row(
            "SELECT author_username, created_at, project_tag, categorization_method, safety_flags FROM prayer WHERE text = 'Please pray for my exam tomorrow'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        (author.as_str(), created.as_str(), tag.as_str()),
        ("Sam", "2023-12-01 10:00:00.000000", "school")
    );
    assert_eq!((method.as_str(), flags.as_str()), ("default", "[]"));
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM prayer WHERE author_username = 'Ann Lee'"
        ),
        2
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM user WHERE display_name IN ('Sam', 'Ann Lee')"
        ),
        2
    );
    drop(conn);

    let again =
        import_prayers_json(&json, &db, &JsonPrayersOptions::default(), &NoProgress).unwrap();
    assert_eq!(again.total_inserted(), 0);
    assert_eq!(again.counts(entity::PRAYERS).already_present, 3);
}

#[test]
fn malformed_records_reject_the_whole_batch_and_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    let plan = JsonPrayersPlan::from_slice(
        br#"[{"text": "ok", "author_name": "Ann"}, {"text": 5}, {"text": "x", "created_at": "yesterday"}, 7]"#,
        "batch.json",
    )
    .unwrap();
    assert_eq!(plan.failures.len(), 3);
    assert_eq!(
        (plan.failures[0].record, plan.failures[0].field.as_deref()),
        (Some(1), Some("text"))
    );
    assert_eq!(
        (plan.failures[1].record, plan.failures[1].field.as_deref()),
        (Some(2), Some("created_at"))
    );
    assert_eq!(plan.failures[2].record, Some(3));
    let report = plan
        .apply(&db, &JsonPrayersOptions::default(), &NoProgress)
        .unwrap();
    assert!(report.has_failures());
    assert_eq!(report.total_inserted(), 0);
    // Nothing was written, so the database file the import created is gone again.
    assert!(!db.exists());
}

#[test]
fn invalid_json_and_non_arrays_are_clear_errors() {
    let err = JsonPrayersPlan::from_slice(b"[{\"text\": \"a\",}", "bad.json").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().starts_with("bad.json:1:"), "{err}");
    let err = JsonPrayersPlan::from_slice(br#"{"text": "a"}"#, "obj.json").unwrap_err();
    assert!(err.to_string().contains("expected a JSON array"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let err = JsonPrayersPlan::from_file(dir.path().join("missing.json")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
