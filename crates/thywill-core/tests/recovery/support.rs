//! Helpers of the recovery tests: a fixture community copied into a temp folder, options
//! for the fixtures (written on a UTC host), the state of a folder tree; for the
//! archive-care tests (heal, validate, repair) a copy to damage, the damage they do, and
//! heal's dry run checked against its real run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thywill_core::db::ArchiveTimeZone;
use thywill_core::progress::NoProgress;
use thywill_core::recovery::heal::{heal_archives_at, HealOptions, HealReport};
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

// ---------------------------------------------------------------------------------------
// Archive care: heal, validate, repair.

/// A writable copy of a fixture community for the archive-care tests: its database and its
/// archive root, and the corpus it was copied from (to compare with the original).
pub(crate) struct CareCommunity {
    _copy: Community,
    pub(crate) db: PathBuf,
    pub(crate) archives: PathBuf,
    pub(crate) corpus: &'static str,
}

/// [`CareCommunity`] of the fixture `corpus` (`s1`, `s1-live`).
pub(crate) fn community(corpus: &'static str) -> CareCommunity {
    let copy = Community::copy(corpus);
    CareCommunity {
        db: copy.db(),
        archives: copy.archives(),
        _copy: copy,
        corpus,
    }
}

impl CareCommunity {
    /// Removes archive files, each relative to the archive root.
    pub(crate) fn remove_files(&self, files: &[&str]) {
        for file in files {
            std::fs::remove_file(self.archives.join(file)).unwrap();
        }
    }

    /// [`drop_lines`] on an archive file relative to the archive root.
    pub(crate) fn drop_lines(&self, file: &str, drop: impl Fn(usize, &str) -> bool) -> usize {
        drop_lines(&self.archives.join(file), drop)
    }

    /// Runs statements on the database (foreign keys off, as ThyWill runs it).
    pub(crate) fn execute(&self, sql: &str) {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        conn.execute_batch(sql).unwrap();
    }
}

/// Heal's options for the fixtures (written on a UTC host).
pub(crate) fn options(dry_run: bool) -> HealOptions {
    HealOptions {
        dry_run,
        time_zone: ArchiveTimeZone::Utc,
        ..HealOptions::default()
    }
}

/// The time the fixtures were written (their snapshot files' stamp): heal runs as of
/// then, so that their live sessions are live and a snapshot it creates has their stamp.
pub(crate) fn as_of() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2025, 10, 1)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap()
}

pub(crate) fn heal(c: &CareCommunity, dry_run: bool) -> HealReport {
    heal_archives_at(&c.db, &c.archives, &options(dry_run), as_of(), &NoProgress).unwrap()
}

/// Heal's dry run, then its real run: the dry run writes nothing (not even the archive
/// root when it is missing) and reports exactly what the real run does. The real run's
/// report.
pub(crate) fn heal_dry_then_real(c: &CareCommunity) -> HealReport {
    let root_existed = c.archives.exists();
    let damaged = tree(&c.archives);
    let dry = heal(c, true);
    assert_eq!(
        c.archives.exists(),
        root_existed,
        "a dry run creates nothing"
    );
    assert_eq!(tree(&c.archives), damaged, "a dry run writes nothing");
    let report = heal(c, false);
    assert_eq!(
        HealReport {
            dry_run: true,
            ..report.clone()
        },
        dry,
        "the dry run reports what the run does"
    );
    report
}

/// Every file under `root` with its bytes, by relative path.
pub(crate) fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &entry.path(), out);
            } else {
                let rel = entry
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Removes the lines of `file` for which `drop(line number, line)` holds; how many.
pub(crate) fn drop_lines(file: &Path, drop: impl Fn(usize, &str) -> bool) -> usize {
    let text = std::fs::read_to_string(file).unwrap();
    let mut kept = String::new();
    let mut dropped = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if drop(i + 1, line) {
            dropped += 1;
        } else {
            kept.push_str(line);
        }
    }
    std::fs::write(file, kept).unwrap();
    dropped
}
