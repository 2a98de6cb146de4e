//! Downloads on copies of the s1 fixture: layout, determinism, the privacy rules,
//! confinement of stored paths and names, cleanup.

mod cleanup;
mod community;
mod confinement;
mod prayer_file;
mod thywill;
mod user;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use rusqlite::Connection;

use crate::support;

/// A writable copy of s1: `thywill.db` and `text_archives/`.
pub struct Community {
    pub dir: tempfile::TempDir,
}

impl Community {
    pub fn s1() -> Community {
        let dir = tempfile::tempdir().unwrap();
        let from = support::fixtures().join("s1");
        std::fs::copy(from.join("thywill.db"), dir.path().join("thywill.db")).unwrap();
        support::backup::copy_tree(
            &from.join("text_archives"),
            &dir.path().join("text_archives"),
        );
        Community { dir }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("thywill.db")
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("text_archives")
    }

    pub fn conn(&self) -> Connection {
        Connection::open(self.db()).unwrap()
    }

    pub fn strings(&self, sql: &str) -> Vec<String> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }
}

pub fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// Every entry of a ZIP with its text, in the ZIP's order.
pub fn entries(zip: &Path) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            (entry.name().unwrap().to_string(), text)
        })
        .collect()
}

/// The entry names of a ZIP, in its order (its central directory).
pub fn names_in(zip: &Path) -> Vec<String> {
    entries(zip).into_iter().map(|(name, _)| name).collect()
}

pub fn entry_map(zip: &Path) -> BTreeMap<String, String> {
    entries(zip).into_iter().collect()
}

/// Every file under `dir`, relative, `/`-separated.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(
                    e.path()
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}
