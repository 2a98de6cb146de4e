//! Import semantics on a small hand-written archive: two-pass inviters, full actor
//! names, `restored` clears `archived`, `set`/`removed` lines, N identical lines mean N
//! rows, and ledgers only fill the shortfall.

use std::path::Path;

use rusqlite::Connection;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{import_text_archives, report::entity, TextArchiveOptions};
use thywill_core::progress::NoProgress;

const PRAYER_ID: &str = "abcdef0123456789abcdef0123456789";

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn build_archive(root: &Path) {
    write(
        root,
        "users/2024_01_users.txt",
        "User Registrations for January 2024\n\nJanuary 01 2024 at 10:00 - Ann Lee joined on invitation from Bob Stone\n",
    );
    write(
        root,
        "users/2024_02_users.txt",
        "User Registrations for February 2024\n\nFebruary 01 2024 at 09:00 - Bob Stone joined directly\n",
    );
    write(
        root,
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt",
        &format!(
            "Prayer {PRAYER_ID} by Ann Lee\nSubmitted January 05 2024 at 10:00\n\n\
             Please pray: my exam\nIt's tomorrow\n\nGenerated Prayer:\nLord, be with Ann.\n\n\
             Activity:\n\
             January 05 2024 at 11:00 - Bob Stone prayed this prayer\n\
             January 05 2024 at 11:00 - Bob Stone prayed this prayer\n\
             January 06 2024 at 09:00 - Ann Lee archived this prayer\n\
             January 07 2024 at 09:00 - Ann Lee restored this prayer\n\
             January 08 2024 at 09:00 - Ann Lee set daily_priority to '2024-01-08'\n\
             January 09 2024 at 09:00 - Ann Lee removed daily_priority (was '2024-01-08')\n\
             January 10 2024 at 09:00 - Carl Three Words prayed this prayer\n\
             January 11 2024 at 09:00 - Ann Lee marked this prayer as answered\n\
             January 11 2024 at 09:01 - Ann Lee added testimony: Passed!\n"
        ),
    );
    write(
        root,
        "prayers/marks/2024_01_marks.txt",
        &format!(
            "Prayer Marks for January 2024\nFormat: timestamp|prayer_id|user_id\n\n\
             January 05 2024 at 11:00|{PRAYER_ID}|Bob Stone\n\
             January 05 2024 at 11:00|{PRAYER_ID}|Bob Stone\n\
             January 05 2024 at 11:00|{PRAYER_ID}|Bob Stone\n"
        ),
    );
}

/// The hand-written archives' times are UTC.
fn utc_options() -> TextArchiveOptions {
    TextArchiveOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..TextArchiveOptions::default()
    }
}

fn rows(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        Ok((0..n)
            .map(|i| {
                r.get::<_, Option<String>>(i)
                    .unwrap()
                    .unwrap_or_else(|| "NULL".into())
            })
            .collect::<Vec<_>>()
            .join("|"))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn hand_written_archive_imports_exactly_and_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    build_archive(&root);
    let db = dir.path().join("thywill.db");
    let options = utc_options();
    let report = import_text_archives(&root, &db, &options, &NoProgress).unwrap();
    assert!(!report.has_failures(), "{:?}", report.failures);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        rows(&conn, "SELECT display_name, invited_by_username, created_at, text_file_path FROM user ORDER BY display_name"),
        vec![
            "Ann Lee|Bob Stone|2024-01-01 10:00:00.000000|text_archives/users/2024_01_users.txt",
            "Bob Stone|NULL|2024-02-01 09:00:00.000000|text_archives/users/2024_02_users.txt",
            "Carl Three Words|NULL|2024-01-10 09:00:00.000000|NULL",
        ]
    );
    assert_eq!(
        rows(&conn, "SELECT id, author_username, text, generated_prayer, created_at, text_file_path FROM prayer"),
        vec![format!(
            "{PRAYER_ID}|Ann Lee|Please pray: my exam\nIt's tomorrow|Lord, be with Ann.|2024-01-05 10:00:00.000000|text_archives/prayers/2024/01/2024_01_05_prayer_at_1000.txt"
        )]
    );
    // Two identical lines give two marks; the ledger's three lines give one more.
    assert_eq!(
        rows(
            &conn,
            "SELECT username, created_at FROM prayermark ORDER BY username, rowid"
        ),
        vec![
            "Bob Stone|2024-01-05 11:00:00.000000",
            "Bob Stone|2024-01-05 11:00:00.000000",
            "Bob Stone|2024-01-05 11:00:00.000000",
            "Carl Three Words|2024-01-10 09:00:00.000000",
        ]
    );
    // Restored clears archived; removed clears daily_priority.
    assert_eq!(
        rows(&conn, "SELECT attribute_name, attribute_value, created_by FROM prayer_attributes ORDER BY attribute_name"),
        vec!["answer_date|2024-01-11T09:00:00|Ann Lee", "answer_testimony|Passed!|Ann Lee", "answered|true|Ann Lee"]
    );
    assert_eq!(
        rows(&conn, "SELECT user_id, action, old_value, new_value FROM prayer_activity_log ORDER BY created_at, rowid"),
        vec![
            "Bob Stone|prayed|NULL|true",
            "Bob Stone|prayed|NULL|true",
            "Ann Lee|set_archived|NULL|true",
            "Ann Lee|remove_archived|true|NULL",
            "Ann Lee|set_daily_priority|NULL|2024-01-08",
            "Ann Lee|remove_daily_priority|2024-01-08|NULL",
            "Carl Three Words|prayed|NULL|true",
            "Ann Lee|set_answered|NULL|true",
            "Ann Lee|set_answer_date|NULL|2024-01-11T09:00:00",
            "Ann Lee|set_answer_testimony|NULL|Passed!",
            "Ann Lee|testimony|NULL|Passed!",
        ]
    );
    assert_eq!(report.counts(entity::PRAYER_MARKS).inserted, 4);
    assert_eq!(report.counts(entity::PRAYER_MARKS).already_present, 2);
    drop(conn);

    let again = import_text_archives(&root, &db, &options, &NoProgress).unwrap();
    assert_eq!(again.total_changes(), 0, "{}", again.to_json());

    // One more identical line in the archive means exactly one more row.
    let file = root.join("prayers/2024/01/2024_01_05_prayer_at_1000.txt");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("January 05 2024 at 11:00 - Bob Stone prayed this prayer\n");
    std::fs::write(&file, text).unwrap();
    let third = import_text_archives(&root, &db, &options, &NoProgress).unwrap();
    assert_eq!(
        third.counts(entity::PRAYER_MARKS).inserted,
        0,
        "the ledger already had three"
    );
    assert_eq!(third.counts(entity::ACTIVITY_LOGS).inserted, 1);
}

#[test]
fn a_prayer_file_without_title_is_a_located_failure() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    write(
        &root,
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt",
        "garbage\n",
    );
    let db = dir.path().join("thywill.db");
    let report =
        import_text_archives(&root, &db, &TextArchiveOptions::default(), &NoProgress).unwrap();
    assert!(report.has_failures());
    assert_eq!(
        report.failures[0].file,
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt"
    );
    assert_eq!(report.failures[0].line, Some(1));
}

/// The same ledger line in two files is two lines: two rows, not one matched twice.
#[test]
fn identical_ledger_lines_in_two_files_are_two_rows() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    build_archive(&root);
    // A skip line and a mark line the prayer file does not carry, each in two files.
    for month in ["2024_01", "2024_02"] {
        write(
            &root,
            &format!("prayers/skips/{month}_skips.txt"),
            &format!(
                "Prayer Skips for January 2024\nFormat: timestamp|prayer_id|user_id\n\n\
                 January 20 2024 at 08:00|{PRAYER_ID}|Ann Lee\n"
            ),
        );
    }
    write(
        &root,
        "prayers/marks/2024_02_marks.txt",
        &format!(
            "Prayer Marks for February 2024\nFormat: timestamp|prayer_id|user_id\n\n\
             January 21 2024 at 08:00|{PRAYER_ID}|Ann Lee\n"
        ),
    );
    write(
        &root,
        "prayers/marks/2024_03_marks.txt",
        &format!(
            "Prayer Marks for March 2024\nFormat: timestamp|prayer_id|user_id\n\n\
             January 21 2024 at 08:00|{PRAYER_ID}|Ann Lee\n"
        ),
    );
    let db = dir.path().join("thywill.db");
    let options = utc_options();
    let report = import_text_archives(&root, &db, &options, &NoProgress).unwrap();
    assert!(!report.has_failures(), "{:?}", report.failures);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        rows(&conn, "SELECT user_id, created_at FROM prayerskip"),
        vec![
            "Ann Lee|2024-01-20 08:00:00.000000",
            "Ann Lee|2024-01-20 08:00:00.000000"
        ]
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT username, created_at FROM prayermark WHERE username = 'Ann Lee'"
        ),
        vec![
            "Ann Lee|2024-01-21 08:00:00.000000",
            "Ann Lee|2024-01-21 08:00:00.000000"
        ]
    );
    drop(conn);
    let again = import_text_archives(&root, &db, &options, &NoProgress).unwrap();
    assert_eq!(again.total_changes(), 0, "{}", again.to_json());
}

/// A database that has the prayer but none of its activity (as a JSON import leaves it):
/// the prayer's rows are looked up, and come out as from an empty database.
#[test]
fn a_known_prayer_on_empty_activity_tables_gets_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let options = utc_options();
    let direct_root = dir.path().join("direct");
    build_archive(&direct_root);
    let direct_db = dir.path().join("direct.db");
    import_text_archives(&direct_root, &direct_db, &options, &NoProgress).unwrap();

    // The same prayer without its activity lines, then the whole archive.
    let bare_root = dir.path().join("bare");
    build_archive(&bare_root);
    let file = bare_root.join("prayers/2024/01/2024_01_05_prayer_at_1000.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    let bare = text.split("\nActivity:\n").next().unwrap().to_string() + "\n";
    std::fs::write(&file, bare).unwrap();
    std::fs::remove_dir_all(bare_root.join("prayers/marks")).unwrap();
    let db = dir.path().join("thywill.db");
    import_text_archives(&bare_root, &db, &options, &NoProgress).unwrap();
    let before = Connection::open(&db).unwrap();
    assert_eq!(
        rows(&before, "SELECT CAST(count(*) AS TEXT) FROM prayermark"),
        vec!["0"]
    );
    assert_eq!(
        rows(&before, "SELECT CAST(count(*) AS TEXT) FROM prayer"),
        vec!["1"]
    );
    drop(before);
    let report = import_text_archives(&direct_root, &db, &options, &NoProgress).unwrap();
    assert!(!report.has_failures(), "{:?}", report.failures);

    let (a, b) = (
        Connection::open(&direct_db).unwrap(),
        Connection::open(&db).unwrap(),
    );
    for sql in [
        "SELECT username, created_at FROM prayermark ORDER BY 1, 2",
        "SELECT user_id, action, old_value, new_value, created_at FROM prayer_activity_log ORDER BY 5, 2",
        "SELECT attribute_name, attribute_value, created_by FROM prayer_attributes ORDER BY 1",
    ] {
        assert_eq!(rows(&a, sql), rows(&b, sql), "{sql}");
    }
}

/// A prayer id in two files: the second file's marks are rows too, so the ledger lines
/// for them add nothing (what the first file wrote is not all the prayer's rows).
#[test]
fn a_prayer_in_two_files_gets_no_duplicate_marks_from_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    build_archive(&root);
    write(
        &root,
        "prayers/2024/02/2024_02_01_prayer_at_0900.txt",
        &format!(
            "Prayer {PRAYER_ID} by Ann Lee\nSubmitted January 05 2024 at 10:00\n\n\
             Please pray: my exam\nIt's tomorrow\n\nGenerated Prayer:\nLord, be with Ann.\n\n\
             Activity:\n\
             February 01 2024 at 12:00 - Bob Stone prayed this prayer\n"
        ),
    );
    write(
        &root,
        "prayers/marks/2024_02_marks.txt",
        &format!(
            "Prayer Marks for February 2024\nFormat: timestamp|prayer_id|user_id\n\n\
             February 01 2024 at 12:00|{PRAYER_ID}|Bob Stone\n"
        ),
    );
    let db = dir.path().join("thywill.db");
    let options = utc_options();
    let report = import_text_archives(&root, &db, &options, &NoProgress).unwrap();
    assert!(!report.has_failures(), "{:?}", report.failures);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        rows(
            &conn,
            "SELECT created_at FROM prayermark WHERE created_at LIKE '2024-02%'"
        ),
        vec!["2024-02-01 12:00:00.000000"]
    );
}
