//! A backup of a 200 MB WAL database while another process keeps committing: the copy must
//! pass `integrity_check` and hold a state the writer actually committed.
//!
//! The writer is a separate Python process using the standard `sqlite3` module, as ThyWill's
//! app does. Each of its transactions appends ledger row n, sets `counter` to n, and rewrites a
//! 64 KiB ballast row chosen by n, so pages all over the file change while the copy runs; it
//! prints n after each commit.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use thywill_core::backup::{create, CreateOptions, Tier};
use thywill_core::progress::NoProgress;

const WRITER: &str = r#"
import sqlite3, sys, os
db, stop = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db, isolation_level=None, timeout=30)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA synchronous=NORMAL")
n = c.execute("SELECT n FROM counter").fetchone()[0]
while not os.path.exists(stop):
    n += 1
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO ledger (n, payload) VALUES (?, randomblob(2048))", (n,))
    c.execute("UPDATE counter SET n = ?", (n,))
    c.execute("UPDATE ballast SET b = randomblob(65536) WHERE id = ?", (n * 7919 % 3200 + 1,))
    c.execute("COMMIT")
    print(n, flush=True)
"#;

fn build_database(db: &Path) {
    let c = Connection::open(db).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE counter (n INTEGER NOT NULL);
         INSERT INTO counter VALUES (0);
         CREATE TABLE ledger (n INTEGER PRIMARY KEY, payload BLOB);
         CREATE TABLE ballast (id INTEGER PRIMARY KEY, b BLOB);
         -- ThyWill's core tables, empty: backups are only taken of ThyWill databases.
         CREATE TABLE user (id TEXT PRIMARY KEY);
         CREATE TABLE prayer (id TEXT PRIMARY KEY);
         CREATE TABLE session (id TEXT PRIMARY KEY);
         CREATE TABLE invitetoken (token TEXT PRIMARY KEY);
         CREATE TABLE role (id TEXT PRIMARY KEY);",
    )
    .unwrap();
    c.execute_batch("BEGIN").unwrap();
    for id in 1..=3200 {
        c.execute(
            "INSERT INTO ballast (id, b) VALUES (?1, randomblob(65536))",
            [id],
        )
        .unwrap();
    }
    c.execute_batch("COMMIT").unwrap();
}

#[test]
fn backup_of_a_200mb_database_under_a_continuous_writer_is_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    build_database(&db);
    let size = std::fs::metadata(&db).unwrap().len()
        + std::fs::metadata(dir.path().join("thywill.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    assert!(size >= 200 << 20, "database is only {size} bytes");

    let script = dir.path().join("writer.py");
    std::fs::write(&script, WRITER).unwrap();
    let stop = dir.path().join("stop");
    let mut writer = Command::new("python3")
        .arg(&script)
        .arg(&db)
        .arg(&stop)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the writer process");
    let committed = Arc::new(Mutex::new(Vec::<i64>::new()));
    let reader = {
        let committed = Arc::clone(&committed);
        let stdout = writer.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let n: i64 = line.unwrap().trim().parse().unwrap();
                committed.lock().unwrap().push(n);
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while committed.lock().unwrap().len() < 20 {
        assert!(
            Instant::now() < deadline,
            "the writer did not start committing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Small steps (many commits land between them) and the default large ones.
    let mut results = Vec::new();
    for (n, pages_per_step) in [2048, 16_384].into_iter().enumerate() {
        let before = *committed.lock().unwrap().last().unwrap();
        let mut options = CreateOptions::new(&db, dir.path().join("backups"), Tier::Hourly);
        options.now = chrono::NaiveDate::from_ymd_opt(2025, 1, 1)
            .unwrap()
            .and_hms_opt(n as u32, 0, 0)
            .unwrap();
        options.pages_per_step = pages_per_step;
        let report = create(&options, &NoProgress).unwrap();
        let after = *committed.lock().unwrap().last().unwrap();
        results.push((before, after, report));
    }

    std::fs::write(&stop, b"").unwrap();
    writer.wait().unwrap();
    reader.join().unwrap();
    let all = committed.lock().unwrap().clone();

    for (before, after, report) in results {
        check_backup(&report, before, after, &all, size);
    }
}

fn check_backup(
    report: &thywill_core::backup::CreateReport,
    before: i64,
    after: i64,
    all: &[i64],
    size: u64,
) {
    assert!(
        after > before,
        "the writer must have committed during the backup ({before} .. {after})"
    );
    let verification = report.verification.clone().unwrap();
    assert_eq!(verification.integrity_check, ["ok"]);

    let copy = Connection::open(&report.path).unwrap();
    let counter: i64 = copy
        .query_row("SELECT n FROM counter", [], |r| r.get(0))
        .unwrap();
    let (rows, max): (i64, i64) = copy
        .query_row(
            "SELECT count(*), coalesce(max(n), 0) FROM ledger",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // One transaction's worth of state, all of it: a torn copy would disagree with itself.
    assert_eq!(counter, max);
    assert_eq!(rows, max);
    assert!(
        all.contains(&counter),
        "the copy holds n = {counter}, which the writer never committed"
    );
    assert!(
        counter >= before,
        "the copy predates the backup ({counter} < {before})"
    );
    eprintln!(
        "backup of {} MB took {} ms while the writer committed {} transactions",
        size >> 20,
        report.duration_ms,
        after - before
    );
}
