//! Idempotency with multiplicity, dry-run equality, and nothing created by dry runs.

use std::path::Path;

use crate::support::fixtures;
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
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
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
