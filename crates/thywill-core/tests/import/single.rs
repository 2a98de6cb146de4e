//! `import prayer <file> [--dry-run] [--update-existing]`.

use crate::support::fixtures;
use rusqlite::Connection;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{import_prayer_file, report::entity, PrayerFileOptions};
use thywill_core::progress::NoProgress;

const FILE: &str = "text_archives/prayers/2024/06/2024_06_12_prayer_at_1033.txt";
const ID: &str = "28511ce766d8469eab2f9135ec7959ca";

fn options(dry_run: bool, update_existing: bool) -> PrayerFileOptions {
    PrayerFileOptions {
        dry_run,
        update_existing,
        time_zone: ArchiveTimeZone::Utc,
        ..PrayerFileOptions::default()
    }
}

#[test]
fn a_single_file_imports_idempotently_and_restored_stays_restored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    let file = fixtures().join("s1").join(FILE);
    let dry = import_prayer_file(&file, &db, &options(true, false), &NoProgress).unwrap();
    assert!(!db.exists());
    let real = import_prayer_file(&file, &db, &options(false, false), &NoProgress).unwrap();
    assert_eq!(dry.entities, real.entities);
    assert_eq!(real.counts(entity::PRAYERS).inserted, 1);
    let conn = Connection::open(&db).unwrap();
    let path: String = conn
        .query_row(
            "SELECT text_file_path FROM prayer WHERE id = ?1",
            [ID],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(path, FILE);
    let names: Vec<String> = conn
        .prepare("SELECT attribute_name FROM prayer_attributes WHERE prayer_id = ?1 ORDER BY attribute_name")
        .unwrap()
        .query_map([ID], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        names,
        vec!["answer_date", "answered"],
        "archived was restored"
    );
    drop(conn);
    let again = import_prayer_file(&file, &db, &options(false, false), &NoProgress).unwrap();
    assert_eq!(again.total_changes(), 0);
    assert_eq!(again.counts(entity::PRAYERS).already_present, 1);
}

#[test]
fn against_the_live_database_nothing_changes_and_update_existing_overwrites_text() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    std::fs::copy(fixtures().join("s1").join("thywill.db"), &db).unwrap();
    let file = fixtures().join("s1").join(FILE);
    let report = import_prayer_file(&file, &db, &options(false, true), &NoProgress).unwrap();
    assert_eq!(report.total_changes(), 0, "{}", report.to_json());

    let edited = dir
        .path()
        .join("prayers/2024/06/2024_06_12_prayer_at_1033.txt");
    std::fs::create_dir_all(edited.parent().unwrap()).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&edited, text.replace("my grandfather", "my grandmother")).unwrap();
    let kept = import_prayer_file(&edited, &db, &options(false, false), &NoProgress).unwrap();
    assert_eq!(kept.counts(entity::PRAYERS).updated, 0);
    assert!(kept
        .notes
        .iter()
        .any(|n| n.reason.contains("--update-existing")));
    let updated = import_prayer_file(&edited, &db, &options(false, true), &NoProgress).unwrap();
    assert_eq!(updated.counts(entity::PRAYERS).updated, 1);
    let conn = Connection::open(&db).unwrap();
    let text: String = conn
        .query_row("SELECT text FROM prayer WHERE id = ?1", [ID], |r| r.get(0))
        .unwrap();
    assert!(text.contains("grandmother"));
}

#[test]
fn a_file_that_is_not_a_prayer_fails_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("note.txt");
    std::fs::write(&file, "hello\n").unwrap();
    let report = import_prayer_file(
        &file,
        dir.path().join("thywill.db"),
        &options(false, false),
        &NoProgress,
    )
    .unwrap();
    assert!(report.has_failures());
    assert_eq!(report.failures[0].line, Some(1));
}
