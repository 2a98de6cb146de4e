//! Backup and verify speed against `sqlite3 .backup` and `cp`, measured in the same run.
//!
//! `cargo bench -p thywill-core --bench backup` builds a WAL database of `BENCH_DB_MB` MB
//! (default 1024) once in a temp dir, then times, `BENCH_RUNS` times each (default 3, median
//! reported), with a warm page cache for all:
//! - `thywill backup` (online backup API + fsync + SHA-256 + sidecar + manifest), without and
//!   with the integrity check;
//! - `sqlite3 DB ".backup OUT"` (the CLI ThyWill's script uses);
//! - `cp DB OUT` (not consistent under writes; shown as the floor);
//! - SHA-256 throughput of verify's hashing, and a whole `verify`.
//!
//! Prints ratios `speed(ours) / speed(sqlite3 .backup)` (≥ 0.9 required) and hashing GB/s.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use thywill_core::backup::{create, sha256_file, verify, CreateOptions, Tier, VerifyOptions};
use thywill_core::progress::NoProgress;

/// A named operation to time.
type Operation<'a> = (&'a str, Box<dyn Fn() + 'a>);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn build(db: &Path, megabytes: u64) {
    let c = Connection::open(db).unwrap();
    c.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE prayer (id TEXT PRIMARY KEY, author_username TEXT, text TEXT, created_at TEXT);
         CREATE TABLE user (display_name TEXT PRIMARY KEY, created_at TEXT);
         CREATE TABLE session (id TEXT PRIMARY KEY, username TEXT);
         CREATE TABLE invitetoken (token TEXT PRIMARY KEY);
         CREATE TABLE role (id TEXT PRIMARY KEY, name TEXT);
         CREATE INDEX prayer_author ON prayer (author_username);",
    )
    .unwrap();
    // ~1 KB rows with an index: the shape (if not the size) of ThyWill's prayer table.
    let rows = megabytes * 1024 * 1024 / 1300;
    c.execute_batch("BEGIN").unwrap();
    {
        let mut stmt = c
            .prepare("INSERT INTO prayer VALUES (lower(hex(randomblob(16))), 'user' || (?1 % 500), hex(randomblob(500)), '2025-01-01 00:00:00.000000')")
            .unwrap();
        for i in 0..rows {
            stmt.execute([i as i64]).unwrap();
        }
    }
    c.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
}

fn time(runs: usize, mut f: impl FnMut(usize)) -> Duration {
    median(
        (0..runs)
            .map(|i| {
                let t = Instant::now();
                f(i);
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let megabytes: u64 = std::env::var("BENCH_DB_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    let t = Instant::now();
    build(&db, megabytes);
    let size = std::fs::metadata(&db).unwrap().len();
    let gb = size as f64 / 1e9;
    println!(
        "database: {:.2} GB ({} MB requested), built in {:.1} s; median of {runs} runs each",
        gb,
        megabytes,
        t.elapsed().as_secs_f64()
    );
    // Warm the page cache for everyone alike.
    sha256_file(&db, &NoProgress).unwrap();

    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let clear = || {
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir(&out).unwrap();
    };

    // Interleaved rounds, each operation starting from a clean writeback state (`sync` first,
    // untimed), so that no operation pays for another's dirty pages.
    let sync = || {
        // SAFETY: sync(2) has no arguments and cannot fail.
        unsafe { libc::sync() };
    };
    let ours = |check: bool| {
        let mut o = CreateOptions::new(&db, &out, Tier::Daily);
        o.integrity_check = check;
        create(&o, &NoProgress).unwrap();
    };
    let ops: Vec<Operation<'_>> = vec![
        (
            "sqlite3 .backup",
            Box::new(|| {
                let st = Command::new("sqlite3")
                    .arg(&db)
                    .arg(format!(".backup '{}'", out.join("s.db").display()))
                    .status()
                    .expect("sqlite3 CLI needed");
                assert!(st.success());
            }),
        ),
        (
            "cp",
            Box::new(|| {
                assert!(Command::new("cp")
                    .arg(&db)
                    .arg(out.join("c.db"))
                    .status()
                    .unwrap()
                    .success());
            }),
        ),
        (
            "thywill backup (copy+fsync+sha256+manifest)",
            Box::new(|| ours(false)),
        ),
        ("thywill backup + integrity_check", Box::new(|| ours(true))),
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); ops.len()];
    for _ in 0..runs {
        for (i, (_, op)) in ops.iter().enumerate() {
            clear();
            sync();
            let t = Instant::now();
            op();
            samples[i].push(t.elapsed());
        }
    }
    let medians: Vec<Duration> = samples.into_iter().map(median).collect();
    let sqlite3 = medians[0];
    let ours_plain = medians[2];

    // Where the time of one backup goes: the first and last event of each phase.
    clear();
    let mut o = CreateOptions::new(&db, &out, Tier::Daily);
    o.integrity_check = false;
    let started = Instant::now();
    let marks = std::sync::Mutex::new(Vec::<(String, f64)>::new());
    let recorder = |e: &thywill_core::progress::ProgressEvent<'_>| {
        let mut m = marks.lock().unwrap();
        let t = started.elapsed().as_secs_f64();
        match m.last_mut() {
            Some((phase, end)) if phase == e.phase => *end = t,
            _ => m.push((e.phase.to_string(), t)),
        }
        true
    };
    sync();
    let made = create(&o, &recorder).unwrap();
    let total = started.elapsed().as_secs_f64();
    let phases: Vec<String> = marks
        .into_inner()
        .unwrap()
        .iter()
        .map(|(p, end)| format!("{p} until {end:.3}s"))
        .collect();
    println!("one backup, {total:.3} s: {}", phases.join(", "));
    let hash = time(runs, |_| {
        sha256_file(&made.path, &NoProgress).unwrap();
    });
    let whole_verify = time(1, |_| {
        assert!(verify(&made.path, &VerifyOptions::default(), &NoProgress)
            .unwrap()
            .is_ok());
    });

    let secs = |d: Duration| d.as_secs_f64();
    println!(
        "{:<44} {:>8}  {:>9}  {:>22}",
        "operation", "seconds", "GB/s", "speed vs sqlite3 .backup"
    );
    for ((name, _), d) in ops.iter().zip(&medians) {
        println!(
            "{:<44} {:>8.3}  {:>9.2}  {:>21.2}x",
            name,
            secs(*d),
            gb / secs(*d),
            secs(sqlite3) / secs(*d)
        );
    }
    println!(
        "verify hashing (sha256): {:.3} s = {:.2} GB/s; whole verify (hash || integrity_check): {:.3} s",
        secs(hash),
        gb / secs(hash),
        secs(whole_verify)
    );
    println!(
        "RATIO backup_vs_sqlite3={:.2} (required >= 0.90)  hash_GBps={:.2} (required >= 1.00)",
        secs(sqlite3) / secs(ours_plain),
        gb / secs(hash)
    );
}
