//! Shared helpers for the backup tests.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::NaiveDateTime;
use rusqlite::Connection;

use super::fixtures;

/// A writable copy of the s1 fixture database, switched to WAL like a live ThyWill database.
pub fn live_db(dir: &Path) -> PathBuf {
    let db = dir.join("thywill.db");
    std::fs::copy(fixtures().join("s1/thywill.db"), &db).unwrap();
    let mut perms = std::fs::metadata(&db).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&db, perms).unwrap();
    let conn = Connection::open(&db).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    db
}

pub fn ts(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y%m%d_%H%M%S").unwrap()
}

pub fn count(db: &Path, table: &str) -> i64 {
    let conn = Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// Copies the fixture's text archive tree (read-only files) into `dir/text_archives`.
pub fn copy_tree(from: &Path, to: &Path) -> usize {
    let mut n = 0;
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            n += copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            n += 1;
        }
    }
    n
}

/// Flips one byte of a file at `offset`.
pub fn flip_byte(path: &Path, offset: u64) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    let mut b = [0u8; 1];
    f.read_exact(&mut b).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(&[b[0] ^ 0xff]).unwrap();
}

/// The app, idle: opens the database with Python's sqlite3, reads once, says "ready" and keeps
/// the connection open until a line arrives on stdin.
const IDLE_APP: &str = r#"
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("SELECT count(*) FROM prayer").fetchone()
print("ready", flush=True)
sys.stdin.readline()
conn.close()
"#;

pub struct App {
    child: Child,
}

impl App {
    pub fn start(db: &Path) -> App {
        let mut child = Command::new("python3")
            .args(["-c", IDLE_APP])
            .arg(db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        App { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        assert!(self.child.wait().unwrap().success());
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A pid that no process has (one that just exited).
pub fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}
