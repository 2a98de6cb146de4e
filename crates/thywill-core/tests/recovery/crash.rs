//! Full recovery is crash-safe: a recovering process is killed with SIGKILL at reported
//! points of every phase (the import, the comparison, each restore step) and at random
//! moments, and after each kill the live path must hold the old database (with what its WAL
//! held) or the new one, intact. The next run removes what the killed one left.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::support::{full_options, row_counts, test_options, Community};
use crate::support::child::{self, Announcing};
use rusqlite::Connection;
use thywill_core::progress::NoProgress;
use thywill_core::recovery::{full_recovery, test_recovery};

const CHILD_VAR: &str = "THYWILL_RECOVERY_CHILD";

/// Sets up `dir` as a community whose database lost its 2024 marks, the loss only in the
/// WAL (no connection open): the "old" database.
fn scenario(dir: &Path) {
    let community = Community::copy("s1");
    super::support::copy_tree(community.dir.path(), dir);
    let db = dir.join("thywill.db");
    let conn = Connection::open(&db).unwrap();
    let _: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    conn.execute("DELETE FROM prayermark WHERE created_at LIKE '2024%'", [])
        .unwrap();
    // Keep the WAL as it is now: closing the connection would checkpoint and delete it.
    let wal = dir.join("thywill.db-wal");
    let saved = dir.join("saved-wal");
    std::fs::copy(&wal, &saved).unwrap();
    drop(conn);
    std::fs::copy(&saved, &wal).unwrap();
    std::fs::remove_file(&saved).unwrap();
}

/// Row counts of the old and the new database of [`scenario`].
fn states() -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let dir = tempfile::tempdir().unwrap();
    scenario(dir.path());
    let db = dir.path().join("thywill.db");
    let new = test_recovery(
        &dir.path().join("text_archives"),
        &db,
        &test_options(),
        &NoProgress,
    )
    .unwrap()
    .predicted_rows;
    let old = row_counts(&db);
    assert_ne!(old["prayermark"], new["prayermark"]);
    (old, new)
}

/// Which of the two the live database is; panics if it is neither, or damaged.
fn live_state(db: &Path, old: &BTreeMap<String, u64>, new: &BTreeMap<String, u64>) -> &'static str {
    assert_eq!(super::support::quick_check(db), "ok");
    let counts = row_counts(db);
    if &counts == old {
        "old"
    } else if &counts == new {
        "new"
    } else {
        panic!("the live database is neither old nor new: {counts:?}")
    }
}

/// In a child process: a full recovery of the community in `$THYWILL_RECOVERY_CHILD`,
/// announcing each event. In the test run itself: one uninterrupted recovery.
#[test]
fn child_recovery_entry() {
    let Some(dir) = std::env::var_os(CHILD_VAR) else {
        let dir = tempfile::tempdir().unwrap();
        scenario(dir.path());
        let db = dir.path().join("thywill.db");
        let (old, new) = states();
        assert_eq!(live_state(&db, &old, &new), "old");
        full_recovery(
            &dir.path().join("text_archives"),
            &db,
            &full_options(&dir.path().join("backups")),
            &NoProgress,
        )
        .unwrap();
        assert_eq!(live_state(&db, &old, &new), "new");
        return;
    };
    let dir = PathBuf::from(dir);
    full_recovery(
        &dir.join("text_archives"),
        &dir.join("thywill.db"),
        &full_options(&dir.join("backups")),
        &Announcing::from_env(),
    )
    .unwrap();
    println!("DONE");
}

fn run_child(dir: &Path, pause_at: Option<usize>, kill_after: Option<Duration>) -> Vec<String> {
    child::run_child(
        &crate::support::test_name(module_path!(), "child_recovery_entry"),
        &[(CHILD_VAR, dir.as_os_str())],
        pause_at,
        kill_after,
    )
}

/// Whatever a kill left, the next recovery succeeds, installs the new database and leaves
/// no rebuild or temp file behind.
fn recover_again(
    dir: &Path,
    old: &BTreeMap<String, u64>,
    new: &BTreeMap<String, u64>,
    after: &str,
) {
    let db = dir.join("thywill.db");
    let mut options = full_options(&dir.join("backups"));
    options.now += chrono::Duration::seconds(1);
    full_recovery(&dir.join("text_archives"), &db, &options, &NoProgress)
        .unwrap_or_else(|e| panic!("a recovery after a kill at {after} failed: {e}"));
    assert_eq!(live_state(&db, old, new), "new");
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".recovery-") || n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "after {after}: {left:?}");
}

#[test]
fn full_recovery_survives_sigkill_at_every_step() {
    let (old, new) = states();
    // An uninterrupted child run, to learn the points it reports.
    let dir = tempfile::tempdir().unwrap();
    scenario(dir.path());
    let lines = run_child(dir.path(), None, None);
    assert!(lines.iter().any(|l| l == "DONE"), "{lines:?}");
    assert_eq!(
        live_state(&dir.path().join("thywill.db"), &old, &new),
        "new"
    );
    let points = child::events(&lines);
    let restore_steps = points.iter().filter(|p| p.contains(" restore ")).count();
    assert!(restore_steps >= 9, "{points:?}");

    // The first and last event of each import phase, every event after the import (the
    // comparison, the safety backup, each restore step), and a sample of the rest.
    let phase = |i: usize| points[i].split(' ').nth(2).unwrap_or("").to_string();
    let import_phases = [
        "users",
        "user_attributes",
        "prayers",
        "ledgers",
        "roles",
        "invites",
        "sessions",
        "auth",
    ];
    let chosen: Vec<usize> = (0..points.len())
        .filter(|&i| {
            let p = phase(i);
            let boundary =
                i == 0 || i + 1 == points.len() || phase(i - 1) != p || phase(i + 1) != p;
            boundary || !import_phases.contains(&p.as_str()) || i % 100 == 0
        })
        .collect();
    let mut outcomes = BTreeMap::new();
    for &i in &chosen {
        let point = &points[i];
        let dir = tempfile::tempdir().unwrap();
        scenario(dir.path());
        let seen = run_child(dir.path(), Some(i), None);
        assert_eq!(
            seen.last().map(String::as_str),
            Some("PAUSED"),
            "{point}: {seen:?}"
        );
        let state = live_state(&dir.path().join("thywill.db"), &old, &new);
        *outcomes.entry(state).or_insert(0) += 1;
        // During the import only the rebuild exists; the cleanup is proved after it.
        if !import_phases.contains(&phase(i).as_str()) || i % 200 == 0 {
            recover_again(dir.path(), &old, &new, point);
        }
    }
    assert!(
        outcomes.get("old").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );
    assert!(
        outcomes.get("new").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );

    // And at arbitrary moments, not only at reported points.
    for ms in [20u64, 150, 300, 500, 800] {
        let dir = tempfile::tempdir().unwrap();
        scenario(dir.path());
        run_child(dir.path(), None, Some(Duration::from_millis(ms)));
        live_state(&dir.path().join("thywill.db"), &old, &new);
        recover_again(dir.path(), &old, &new, &format!("{ms} ms"));
    }
}
