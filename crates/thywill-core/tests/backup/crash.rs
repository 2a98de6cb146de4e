//! Restore is crash-safe: a restoring process is killed with SIGKILL at every point it reports
//! (and at random moments), and after each kill the live path must hold either the old
//! database (with everything its WAL held) or the new one, intact.
//!
//! The restoring process is this test binary re-executed on `child_restore_entry` with
//! `THYWILL_CRASH_CHILD` set (`support::child`); it prints each progress event and, at the
//! chosen one, stops and waits to be killed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::backup::{live_db, ts};
use crate::support::child::{self, Announcing};
use rusqlite::Connection;
use thywill_core::backup::{create, restore, CreateOptions, RestoreOptions, Tier};
use thywill_core::progress::NoProgress;

/// Rows that exist only in the old database's WAL when the restore starts.
const WAL_ROWS: i64 = 100;

/// Builds `dir/thywill.db` (the "old" database, with un-checkpointed WAL frames and no
/// connection open) and a verified backup of a different "new" state. Returns the backup.
fn scenario(dir: &Path) -> PathBuf {
    let db = live_db(dir);
    let c = Connection::open(&db).unwrap();
    c.execute_batch("CREATE TABLE marker (v TEXT); INSERT INTO marker VALUES ('new');")
        .unwrap();
    drop(c);
    let mut o = CreateOptions::new(&db, dir.join("backups"), Tier::Daily);
    o.now = ts("20250101_020000");
    let backup = create(&o, &NoProgress).unwrap().path;

    let wal = dir.join("thywill.db-wal");
    let c = Connection::open(&db).unwrap();
    c.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    c.execute_batch("UPDATE marker SET v = 'old'; CREATE TABLE wal_rows (n INTEGER);")
        .unwrap();
    for n in 0..WAL_ROWS {
        c.execute("INSERT INTO wal_rows VALUES (?1)", [n]).unwrap();
    }
    // Keep the WAL as it is now: closing the connection would checkpoint and delete it.
    let saved = dir.join("saved-wal");
    std::fs::copy(&wal, &saved).unwrap();
    drop(c);
    std::fs::copy(&saved, &wal).unwrap();
    std::fs::remove_file(&saved).unwrap();
    backup
}

/// Opens the live database as the app would and says which state it holds. Panics if it is
/// neither, or damaged.
fn live_state(db: &Path) -> &'static str {
    let c = Connection::open(db).unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let marker: String = c
        .query_row("SELECT v FROM marker", [], |r| r.get(0))
        .unwrap();
    let wal_rows: Option<i64> = c
        .query_row("SELECT count(*) FROM wal_rows", [], |r| r.get(0))
        .ok();
    match (marker.as_str(), wal_rows) {
        ("old", Some(WAL_ROWS)) => "old",
        ("new", None) => "new",
        other => panic!("the live database is neither old nor new: {other:?}"),
    }
}

fn restore_options(dir: &Path) -> RestoreOptions {
    let mut o = RestoreOptions::new(dir.join("thywill.db"), dir.join("backups"));
    o.now = ts("20250102_000000");
    o
}

/// In a child process: restore, announcing each event; stop at event number `pause_at`.
/// In the test run itself: one uninterrupted restore, which must install the new state.
#[test]
fn child_restore_entry() {
    let Some(dir) = std::env::var_os("THYWILL_CRASH_CHILD") else {
        let dir = tempfile::tempdir().unwrap();
        let backup = scenario(dir.path());
        assert_eq!(live_state(&dir.path().join("thywill.db")), "old");
        restore(&backup, &restore_options(dir.path()), &NoProgress).unwrap();
        assert_eq!(live_state(&dir.path().join("thywill.db")), "new");
        return;
    };
    let dir = PathBuf::from(dir);
    let backup = PathBuf::from(std::env::var_os("THYWILL_CRASH_BACKUP").unwrap());
    restore(&backup, &restore_options(&dir), &Announcing::from_env()).unwrap();
    println!("DONE");
}

/// Runs the child restoring `backup` into `dir` (see [`crate::support::child::run_child`]).
fn run_child(
    dir: &Path,
    backup: &Path,
    pause_at: Option<usize>,
    kill_after: Option<Duration>,
) -> Vec<String> {
    child::run_child(
        &crate::support::test_name(module_path!(), "child_restore_entry"),
        &[
            ("THYWILL_CRASH_CHILD", dir.as_os_str()),
            ("THYWILL_CRASH_BACKUP", backup.as_os_str()),
        ],
        pause_at,
        kill_after,
    )
}

#[test]
fn restore_survives_sigkill_at_every_point() {
    // First an uninterrupted child run, to learn the points it reports.
    let dir = tempfile::tempdir().unwrap();
    let backup = scenario(dir.path());
    let events = run_child(dir.path(), &backup, None, None);
    assert!(events.iter().any(|e| e == "DONE"), "{events:?}");
    assert_eq!(live_state(&dir.path().join("thywill.db")), "new");
    let points = child::events(&events);
    assert!(points.len() >= 12, "too few kill points: {points:?}");

    let mut outcomes = std::collections::BTreeMap::new();
    for (i, point) in points.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let backup = scenario(dir.path());
        let seen = run_child(dir.path(), &backup, Some(i), None);
        assert_eq!(
            seen.last().map(String::as_str),
            Some("PAUSED"),
            "{point}: {seen:?}"
        );
        let state = live_state(&dir.path().join("thywill.db"));
        *outcomes.entry(state).or_insert(0) += 1;
        // Whatever the crash left behind, the next restore succeeds and cleans up.
        restore(&backup, &restore_options(dir.path()), &NoProgress)
            .unwrap_or_else(|e| panic!("restore after a kill at {point} failed: {e}"));
        assert_eq!(live_state(&dir.path().join("thywill.db")), "new");
        let temps: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(temps.is_empty(), "after {point}: {temps:?}");
    }
    // Both outcomes occur: kills before the rename keep the old database, after it the new.
    assert!(
        outcomes.get("old").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );
    assert!(
        outcomes.get("new").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );

    // And at arbitrary moments, not only at reported points.
    for ms in [5u64, 20, 40, 60, 80, 100, 130, 160, 200, 260] {
        let dir = tempfile::tempdir().unwrap();
        let backup = scenario(dir.path());
        run_child(dir.path(), &backup, None, Some(Duration::from_millis(ms)));
        live_state(&dir.path().join("thywill.db"));
    }
}
