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

/// The per-record algorithm `import prayers` used before it was made linear, run with
/// plain SQL: the author resolved by `author_id` first, a missing author created, and the
/// n-th identical record (author, text, creation time when given) present when the
/// database holds at least n prayers matching it (`count(*)` per record). Records without
/// a creation time are stored at `now`.
fn reference_import(conn: &Connection, batch: &serde_json::Value, now: &str) -> (u64, u64) {
    use std::collections::HashMap;
    let (mut inserted, mut present) = (0, 0);
    let mut seen: HashMap<(String, String, Option<String>), u64> = HashMap::new();
    let user_exists = |name: &str| -> bool {
        conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM user WHERE display_name = ?1)",
            [name],
            |r| r.get(0),
        )
        .unwrap()
    };
    for (i, record) in batch.as_array().unwrap().iter().enumerate() {
        let Some(text) = record["text"].as_str() else {
            continue;
        };
        let author = match record["author_id"].as_str() {
            Some(id) if user_exists(id) => id.to_string(),
            _ => record["author_name"]
                .as_str()
                .unwrap_or("Imported User")
                .to_string(),
        };
        if !user_exists(&author) {
            conn.execute(
                "INSERT INTO user (display_name, created_at, welcome_message_dismissed, is_supporter) VALUES (?1, ?2, 0, 0)",
                rusqlite::params![author, now],
            )
            .unwrap();
        }
        let created = record["created_at"].as_str().map(|s| {
            thywill_core::db::encode::format_datetime(
                &thywill_core::db::encode::parse_datetime(s).unwrap(),
            )
        });
        let ordinal = seen
            .entry((author.clone(), text.to_string(), created.clone()))
            .or_insert(0);
        *ordinal += 1;
        let existing: i64 = match &created {
            Some(c) => conn.query_row(
                "SELECT count(*) FROM prayer WHERE author_username = ?1 AND text = ?2 AND created_at = ?3",
                rusqlite::params![author, text, c],
                |r| r.get(0),
            ),
            None => conn.query_row(
                "SELECT count(*) FROM prayer WHERE author_username = ?1 AND text = ?2",
                rusqlite::params![author, text],
                |r| r.get(0),
            ),
        }
        .unwrap();
        if existing as u64 >= *ordinal {
            present += 1;
            continue;
        }
        conn.execute(
            "INSERT INTO prayer (id, author_username, text, generated_prayer, project_tag, created_at, flagged, \
             safety_score, safety_flags, categorization_method, specificity_type, specificity_confidence, subject_category) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 1.0, '[]', 'default', 'unknown', 0.0, 'general')",
            rusqlite::params![
                format!("ref{i}-{inserted}"),
                author,
                text,
                record["generated_prayer"].as_str(),
                record["project_tag"].as_str(),
                created.as_deref().unwrap_or(now)
            ],
        )
        .unwrap();
        inserted += 1;
    }
    (inserted, present)
}

/// What two imports must agree on: every prayer's author, text, generated prayer, project
/// tag and creation time (a time that is none of `given`, the import's own `now`, written
/// as `NOW`), with multiplicity, and the users.
fn prayer_rows(conn: &Connection, given: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut stmt = conn
        .prepare(
            "SELECT author_username, text, generated_prayer, project_tag, quote(created_at) FROM prayer \
             ORDER BY 1, 2, 3, 4, 5",
        )
        .unwrap();
    let mut rows: Vec<String> = stmt
        .query_map([], |r| {
            let created: String = r.get(4)?;
            let created = if given.iter().any(|g| created == format!("'{g}'"))
                || !created.starts_with('\'')
            {
                created
            } else {
                "NOW".to_string()
            };
            Ok(format!(
                "{:?} {:?} {:?} {:?} {created}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    let mut users: Vec<String> = conn
        .prepare("SELECT display_name FROM user ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    users.sort();
    (rows, users)
}

#[test]
fn linear_lookup_imports_the_same_rows_as_the_per_record_queries() {
    // One author × many records with repeated texts, times given or not (a record without
    // a time matches prayers of any time, including ones this batch inserted), other
    // authors, `author_id` resolution, and prayers already in the database whose times
    // match, differ, or are stored in forms that never equal the 26-character one.
    let mut records = Vec::new();
    let times = [
        None,
        Some("2023-12-01T10:00:00Z"),
        Some("2023-12-01 10:00:00.000000"),
        Some("2024-02-29T23:59:59.5"),
    ];
    for i in 0..600u64 {
        let mut r = serde_json::json!({
            "text": format!("request {}", (i * 7) % 41),
            "author_name": "Ann Lee",
        });
        if let Some(t) = times[(i % 4) as usize] {
            r["created_at"] = t.into();
        }
        if i % 5 == 0 {
            r["generated_prayer"] = format!("prayer {i}").into();
        }
        if i % 11 == 0 {
            r["author_name"] = "Bob".into();
        }
        if i % 13 == 0 {
            r["author_id"] = "Legacy".into();
        }
        if i % 17 == 0 {
            r["author_id"] = "Nobody".into();
        }
        if i % 19 == 0 {
            r.as_object_mut().unwrap().remove("author_name");
        }
        records.push(r);
    }
    let batch = serde_json::Value::Array(records);

    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.db");
    let reference = dir.path().join("reference.db");
    thywill_core::db::Database::create(&ours)
        .unwrap()
        .close()
        .unwrap();
    {
        let conn = Connection::open(&ours).unwrap();
        conn.execute_batch(
            "INSERT INTO user (display_name, created_at, welcome_message_dismissed, is_supporter) VALUES
               ('Legacy', '2020-01-01 00:00:00.000000', 0, 0), ('Ann Lee', '2020-01-01 00:00:00.000000', 0, 0);",
        )
        .unwrap();
        let mut insert = conn
            .prepare(
                "INSERT INTO prayer (id, author_username, text, generated_prayer, project_tag, created_at, flagged, \
                 safety_score, safety_flags, categorization_method, specificity_type, specificity_confidence, subject_category) \
                 VALUES (?1, ?2, ?3, NULL, NULL, ?4, 0, 1.0, '[]', 'default', 'unknown', 0.0, 'general')",
            )
            .unwrap();
        let existing: [(&str, &str, rusqlite::types::Value); 7] = [
            (
                "Ann Lee",
                "request 0",
                "2023-12-01 10:00:00.000000".to_string().into(),
            ),
            (
                "Ann Lee",
                "request 0",
                "2023-12-01 10:00:00.000000".to_string().into(),
            ),
            (
                "Ann Lee",
                "request 7",
                "2019-05-05 05:05:05.000000".to_string().into(),
            ),
            (
                "Ann Lee",
                "request 14",
                "2023-12-01T10:00:00".to_string().into(),
            ),
            (
                "Ann Lee",
                "request 21",
                rusqlite::types::Value::Integer(20231201),
            ),
            (
                "Legacy",
                "request 1",
                "2024-02-29 23:59:59.500000".to_string().into(),
            ),
            (
                "Bob",
                "request 2",
                "2023-12-01 10:00:00.000000".to_string().into(),
            ),
        ];
        for (i, (author, text, created)) in existing.iter().enumerate() {
            insert
                .execute(rusqlite::params![format!("old{i}"), author, text, created])
                .unwrap();
        }
    }
    std::fs::copy(&ours, &reference).unwrap();
    let json = dir.path().join("batch.json");
    std::fs::write(&json, batch.to_string()).unwrap();

    // Times given by the batch or the database; any other is the import's `now`.
    let given = [
        "2023-12-01 10:00:00.000000",
        "2024-02-29 23:59:59.500000",
        "2019-05-05 05:05:05.000000",
        "2023-12-01T10:00:00",
    ];
    let now = "2000-01-01 00:00:00.000000";
    for round in 0..2 {
        let report =
            import_prayers_json(&json, &ours, &JsonPrayersOptions::default(), &NoProgress).unwrap();
        let conn = Connection::open(&reference).unwrap();
        let (inserted, present) = reference_import(&conn, &batch, now);
        assert_eq!(
            (
                report.counts(entity::PRAYERS).inserted,
                report.counts(entity::PRAYERS).already_present
            ),
            (inserted, present),
            "round {round}"
        );
        let ours_conn = Connection::open(&ours).unwrap();
        assert_eq!(
            prayer_rows(&ours_conn, &given),
            prayer_rows(&conn, &given),
            "round {round}"
        );
        if round == 0 {
            assert!(inserted > 300 && present > 0, "{inserted} {present}");
        } else {
            assert_eq!(inserted, 0);
        }
    }
}
