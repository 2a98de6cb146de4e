//! Ctrl-C, SIGTERM and SIGHUP during an operation: the operation stops at its next safe point,
//! leaves the database as it was and its audit line says `cancelled` (exit 11); a second
//! signal ends the process at once (exit 128 + the signal, 130 for Ctrl-C).
//!
//! Deterministic without sleeps as synchronisation: the test holds `BEGIN EXCLUSIVE` on the
//! community's database (in rollback-journal mode that blocks readers too), starts the real
//! `thywill`, waits until `/proc` shows the child has the database file open (its handlers are
//! installed by then and it is waiting in SQLite's busy handler), signals it, and only then
//! lets go of the lock.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::Value;

use crate::support::without_settings;

/// Starts `thywill` in `dir` with the settings variables removed, stdout and stderr captured.
fn spawn(dir: &Path, args: &[&str]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_thywill"));
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    without_settings(&mut command).spawn().unwrap()
}

/// Takes the exclusive lock on `db` and keeps it until the connection is rolled back.
fn hold_exclusive(db: &Path) -> Connection {
    let conn = Connection::open(db).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "the lock trick needs rollback-journal mode");
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    conn
}

/// Polls `/proc/<pid>/fd` until the child has `file` open (60 s at most).
fn wait_until_open(child: &mut Child, file: &Path) {
    let file = file.canonicalize().unwrap();
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("thywill ended before opening {}: {status}", file.display());
        }
        let open = std::fs::read_dir(&fds)
            .map(|entries| {
                entries
                    .flatten()
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == file))
            })
            .unwrap_or(false);
        if open {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "thywill did not open {} within 60 s",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends `signal` (`INT`, `TERM`, `HUP`) with kill(1).
fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args(["-s", signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits until no signal is pending for the child any more: the one sent has been delivered
/// (a second signal sent while the first is still pending would merge with it).
fn wait_until_delivered(child: &Child) {
    let status = PathBuf::from(format!("/proc/{}/status", child.id()));
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(&status).unwrap();
        let pending = text
            .lines()
            .filter(|line| line.starts_with("SigPnd:") || line.starts_with("ShdPnd:"))
            .any(|line| {
                line.split_whitespace()
                    .nth(1)
                    .is_some_and(|mask| u64::from_str_radix(mask, 16) != Ok(0))
            });
        if !pending {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "signal still pending"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What a cancelled operation must not change: the integrity check and every table's rows.
/// (The journal mode may change: opening the database to write switches it to WAL, as the
/// app runs it, before any work starts.)
fn state(db: &Path) -> (String, Vec<(String, i64)>) {
    let conn = Connection::open(db).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let counts = tables
        .into_iter()
        .map(|table| {
            let n = conn
                .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |row| {
                    row.get(0)
                })
                .unwrap();
            (table, n)
        })
        .collect();
    (integrity, counts)
}

/// The files under `dir` outside `text_archives/`, relative to it (a folder made for a safety
/// backup may stay, empty).
fn names(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if relative == "text_archives" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(relative);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// The audit log's lines beside the database.
fn audit_lines(dir: &Path) -> Vec<Value> {
    match std::fs::read_to_string(dir.join("thywill-audit.jsonl")) {
        Ok(text) => text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{e}"),
    }
}

/// Runs `args` in `dir` (a copy of s1) with the database locked, sends `signal_name` once the
/// child waits on the lock, releases it, and checks the cancelled outcome: exit 11, the JSON
/// error document, one `cancelled` audit line for `operation`, the database and the folder
/// as they were.
fn cancelled_while_waiting(
    dir: &tempfile::TempDir,
    args: &[&str],
    signal_name: &str,
    operation: &str,
    new_files: &[&str],
) {
    let db = dir.path().join("thywill.db");
    let before = state(&db);
    let names_before = names(dir.path());

    let lock = hold_exclusive(&db);
    let mut child = spawn(dir.path(), args);
    wait_until_open(&mut child, &db);
    signal(&child, signal_name);
    wait_until_delivered(&child);
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);
    let out = child.wait_with_output().unwrap();

    assert_eq!(out.status.code(), Some(11), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("thywill: error:"), "{stderr}");
    let report = crate::support::json_of(&out);
    assert_eq!(report["error"]["kind"], "cancelled", "{report}");
    assert_eq!(report["error"]["exit_code"], 11, "{report}");

    let lines = audit_lines(dir.path());
    let mine: Vec<&Value> = lines
        .iter()
        .filter(|line| line["operation"] == operation)
        .collect();
    assert_eq!(mine.len(), 1, "{lines:?}");
    assert_eq!(mine[0]["result"], "cancelled", "{lines:?}");
    assert_eq!(
        lines.len(),
        1,
        "an inner operation left a line of its own: {lines:?}"
    );

    let after = state(&db);
    assert_eq!(after.0, "ok");
    assert_eq!(
        after, before,
        "the cancelled operation changed the database"
    );
    let mut expected = names_before;
    expected.insert("thywill-audit.jsonl".to_owned());
    expected.extend(new_files.iter().map(|name| (*name).to_owned()));
    assert_eq!(
        names(dir.path()),
        expected,
        "the cancelled operation left files beside the database"
    );
}

#[test]
fn ctrl_c_during_an_import_cancels_it_with_its_audit_line_and_the_database_unchanged() {
    cancelled_while_waiting(
        &crate::support::community_copy("s1"),
        &["--json", "import", "text-archives", "text_archives"],
        "INT",
        "import.text_archives",
        &[],
    );
}

#[test]
fn sigterm_during_a_full_recovery_cancels_it_and_removes_its_rebuild() {
    // `--force`: the test's own connection is "another process with the database open".
    cancelled_while_waiting(
        &crate::support::community_copy("s1"),
        &["--json", "--yes", "full-recovery", "--force"],
        "TERM",
        "recovery.full_recovery",
        &[],
    );
}

#[test]
fn sighup_during_a_restore_cancels_it_and_keeps_the_database() {
    let dir = crate::support::community_copy("s1");
    let out =
        crate::support::thywill_in(dir.path(), &["--json", "--audit-log", "off", "daily"], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let set = crate::support::json_of(&out)["backup"]["backup"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    cancelled_while_waiting(
        &dir,
        &["--json", "--yes", "restore", &set, "--force"],
        "HUP",
        "backup.restore",
        &[],
    );
}

#[test]
fn ctrl_c_during_a_backup_cancels_it_and_leaves_no_set_or_temp_copy() {
    cancelled_while_waiting(
        &crate::support::community_copy("s1"),
        &["--json", "daily"],
        "INT",
        "backup.create",
        // The backup root's lock file, kept between runs by design.
        &["backups/.thywill-backup.lock"],
    );
}

#[test]
fn a_second_ctrl_c_ends_a_command_stuck_on_a_lock_at_once_with_exit_130() {
    let dir = crate::support::community_copy("s1");
    let db = dir.path().join("thywill.db");
    let before = state(&db);

    let lock = hold_exclusive(&db);
    let mut child = spawn(dir.path(), &["import", "text-archives", "text_archives"]);
    wait_until_open(&mut child, &db);
    signal(&child, "INT");
    wait_until_delivered(&child);
    signal(&child, "INT");
    // SQLite would wait 30 s for the lock; the process must end well before, lock still held.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "a second Ctrl-C did not end the process"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(status.code(), Some(130), "{status}");
    lock.execute_batch("ROLLBACK").unwrap();
    drop(lock);

    assert_eq!(state(&db), before);
    assert!(
        audit_lines(dir.path()).is_empty(),
        "a process ended at once writes no line"
    );
}
