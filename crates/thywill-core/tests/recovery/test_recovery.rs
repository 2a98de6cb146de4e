//! test-recovery touches nothing, beside a running app too, and says per table what
//! would come back and what would be lost.

use super::support::{test_options, tree_state, Community};
use crate::support::backup::App;
use thywill_core::progress::NoProgress;
use thywill_core::recovery::test_recovery;

fn touches_nothing(corpus: &str) {
    let community = Community::copy(corpus);
    let before = tree_state(community.dir.path());
    let report = test_recovery(
        &community.archives(),
        &community.db(),
        &test_options(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        tree_state(community.dir.path()),
        before,
        "{corpus}: something changed"
    );
    for table in &report.comparison.tables {
        println!(
            "{corpus} {}: live {} rebuilt {} back {} lost {} added {}",
            table.table,
            table.live_rows,
            table.rebuilt_rows,
            table.come_back,
            table.lost,
            table.added
        );
        for d in &table.differences {
            println!("  {:?} {:?}", d.side, d.values);
        }
    }
    println!("{corpus}: {:?}", report.recovery_stats);
    assert!(report.database_exists);
    assert_eq!(report.import.counts("prayers").inserted, 1000);
    let prayers = report.comparison.table("prayer").unwrap();
    assert_eq!(
        (prayers.live_rows, prayers.come_back, prayers.lost),
        (1000, 1000, 0)
    );
    assert_eq!(report.recovery_stats["prayers_recovered"], 1000);
    assert_eq!(report.predicted_rows["prayer"], 1000);
}

#[test]
fn test_recovery_of_s1_touches_nothing() {
    touches_nothing("s1");
}

#[test]
fn test_recovery_of_s1_live_touches_nothing() {
    touches_nothing("s1-live");
}

/// Beside ThyWill's app holding the database open in WAL mode: the database and its WAL
/// keep their bytes, and what the WAL holds is read.
#[test]
fn test_recovery_beside_a_running_app_in_wal_mode() {
    let community = Community::copy("s1");
    let db = community.db();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    // A row only in the WAL: the comparison must see it as a row the archives lack.
    conn.execute(
        "INSERT INTO changelogentry VALUES ('abc', 'm', NULL, NULL, '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
        [],
    )
    .unwrap();
    let app = App::start(&db);
    let before = tree_state(community.dir.path());
    let report = test_recovery(&community.archives(), &db, &test_options(), &NoProgress).unwrap();
    let changelog = report.comparison.table("changelogentry").unwrap();
    assert_eq!((changelog.live_rows, changelog.lost), (1, 1));
    // The app's -shm is shared memory that every reader uses; the rest keeps its bytes.
    let mut after = tree_state(community.dir.path());
    let mut before = before;
    for state in [&mut before, &mut after] {
        state.remove(std::path::Path::new("thywill.db-shm"));
    }
    assert_eq!(after, before);
    drop(conn);
    app.stop();
}

/// Without a -wal (nobody has it open), a WAL-mode database is read without creating one.
#[test]
fn test_recovery_of_a_closed_wal_database_creates_no_side_files() {
    let community = Community::copy("s1-live");
    let db = community.db();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let _: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    assert!(!db.with_extension("db-wal").exists());
    let before = tree_state(community.dir.path());
    test_recovery(&community.archives(), &db, &test_options(), &NoProgress).unwrap();
    assert_eq!(tree_state(community.dir.path()), before);
}
