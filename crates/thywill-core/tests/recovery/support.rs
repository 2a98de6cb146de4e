//! Helpers of the recovery tests: a fixture community copied into a temp folder, options
//! for the fixtures (written on a UTC host), the state of a folder tree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thywill_core::db::ArchiveTimeZone;
use thywill_core::recovery::{FullRecoveryOptions, TestRecoveryOptions};

use crate::support::fixtures;

/// A copy of a fixture community: `thywill.db` and `text_archives/` under `dir`, writable.
pub struct Community {
    pub dir: tempfile::TempDir,
}

impl Community {
    pub fn copy(corpus: &str) -> Community {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(
            &fixtures().join(corpus).join("text_archives"),
            &dir.path().join("text_archives"),
        );
        let db = dir.path().join("thywill.db");
        std::fs::copy(fixtures().join(corpus).join("thywill.db"), &db).unwrap();
        make_writable(&db);
        Community { dir }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("thywill.db")
    }

    pub fn archives(&self) -> PathBuf {
        self.dir.path().join("text_archives")
    }

    pub fn backups(&self) -> PathBuf {
        self.dir.path().join("backups")
    }
}

fn make_writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = if path.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    make_writable(to);
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            make_writable(&target);
        }
    }
}

pub fn test_options() -> TestRecoveryOptions {
    TestRecoveryOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..TestRecoveryOptions::default()
    }
}

pub fn full_options(backups: &Path) -> FullRecoveryOptions {
    let mut o = FullRecoveryOptions::new(backups);
    o.time_zone = ArchiveTimeZone::Utc;
    o.now = chrono::NaiveDate::from_ymd_opt(2025, 11, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    o
}

/// Every entry under `root` (files, folders, links) with its size, mtime and, for files,
/// SHA-256: what "touches nothing" is checked against.
pub fn tree_state(root: &Path) -> BTreeMap<PathBuf, String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            // Every operation adds its audit line there (tested in `audit::`).
            if entry.file_name() == thywill_core::audit::AUDIT_FILE_NAME {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mut state = format!(
                "{} {} {}.{}",
                meta.mode(),
                meta.len(),
                meta.mtime(),
                meta.mtime_nsec()
            );
            if meta.is_dir() {
                stack.push(path.clone());
            } else if meta.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                state.push_str(&format!(" {:x}", Sha256::digest(&bytes)));
            }
            out.insert(path.strip_prefix(root).unwrap().to_path_buf(), state);
        }
    }
    out
}

/// Row counts per table of a database.
pub fn row_counts(db: &Path) -> BTreeMap<String, u64> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    thywill_core::db::table_row_counts(&conn).unwrap()
}

pub fn quick_check(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA quick_check", [], |r| r.get(0))
        .unwrap()
}
