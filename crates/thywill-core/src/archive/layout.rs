//! Where files live under the archive base directory, and the path
//! strings ThyWill stores in its database (Python `pathlib` normalisation).

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDateTime};

use super::fileops;
use super::timestamp::{prayer_base, ym};
use crate::Result;

/// The folder of a prayer created at `t`: `<base>/prayers/{year}/{MM}`.
pub fn prayer_dir(base: &Path, t: &NaiveDateTime) -> PathBuf {
    base.join("prayers")
        .join(t.year().to_string())
        .join(format!("{:02}", t.month()))
}

/// The candidate file name number `n` (1 = no suffix, 2 = `_2`, …) for a prayer created at `t`.
pub fn prayer_file_name(t: &NaiveDateTime, n: u32) -> String {
    if n <= 1 {
        format!("{}.txt", prayer_base(t))
    } else {
        format!("{}_{n}.txt", prayer_base(t))
    }
}

/// The first name of the collision rule not yet taken for a prayer created at `t`, creating
/// its folder (ThyWill's `generate_prayer_filename`). Only a hint: another writer may take
/// the name before it is used; `create_prayer_file` reserves names atomically.
pub fn first_free_prayer_file(base: &Path, t: &NaiveDateTime) -> Result<PathBuf> {
    let dir = prayer_dir(base, t);
    std::fs::create_dir_all(&dir).map_err(|e| crate::Error::io(&dir, e))?;
    let mut n = 1;
    loop {
        let p = dir.join(prayer_file_name(t, n));
        if !p.exists() {
            return Ok(p);
        }
        n += 1;
    }
}

/// Creates the prayer file for `t` with `content` under the first free name of the
/// collision rule, reserving the name atomically (two concurrent creators get different
/// names), creating the folders. Returns the path.
pub(crate) fn create_prayer_file(
    base: &Path,
    t: &NaiveDateTime,
    content: &[u8],
) -> Result<PathBuf> {
    let dir = prayer_dir(base, t);
    std::fs::create_dir_all(&dir).map_err(|e| crate::Error::io(&dir, e))?;
    let mut n = 1;
    loop {
        let p = dir.join(prayer_file_name(t, n));
        if !p.exists() && fileops::create_new_atomic(&p, content)? {
            return Ok(p);
        }
        n += 1;
    }
}

/// `users/{YM}_users.txt`.
pub(crate) fn users_file(base: &Path, t: &impl Datelike) -> PathBuf {
    base.join("users").join(format!("{}_users.txt", ym(t)))
}

/// `activity/activity_{YM}.txt`.
pub(crate) fn activity_file(base: &Path, t: &impl Datelike) -> PathBuf {
    base.join("activity")
        .join(format!("activity_{}.txt", ym(t)))
}

/// The three monthly prayer ledgers (attributes, marks, skips).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// `prayers/attributes/{YM}_attributes.txt`
    Attributes,
    /// `prayers/marks/{YM}_marks.txt`
    Marks,
    /// `prayers/skips/{YM}_skips.txt`
    Skips,
}

impl LedgerKind {
    /// The folder and file-name word: `attributes`, `marks`, `skips`.
    pub fn word(self) -> &'static str {
        match self {
            LedgerKind::Attributes => "attributes",
            LedgerKind::Marks => "marks",
            LedgerKind::Skips => "skips",
        }
    }
}

/// `prayers/{kind}/{YM}_{kind}.txt`.
pub(crate) fn ledger_file(base: &Path, kind: LedgerKind, t: &impl Datelike) -> PathBuf {
    base.join("prayers")
        .join(kind.word())
        .join(format!("{}_{}.txt", ym(t), kind.word()))
}

/// `str(PurePosixPath(p))`: what ThyWill stores as a `text_file_path`. `.` components and
/// duplicate or trailing `/` disappear, `..` stays, a leading `//` (exactly two) is kept as
/// POSIX allows, and an empty path becomes `.`.
pub fn pathlib_str(p: &str) -> String {
    let (root, rest) = if p.starts_with("//") && !p.starts_with("///") {
        ("//", &p[2..])
    } else if p.starts_with('/') {
        ("/", p.trim_start_matches('/'))
    } else {
        ("", p)
    };
    let parts: Vec<&str> = rest
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let joined = parts.join("/");
    if root.is_empty() && joined.is_empty() {
        ".".to_string()
    } else {
        format!("{root}{joined}")
    }
}

/// The DB-stored form of `path` (see [`pathlib_str`]); non-UTF-8 bytes are replaced.
pub fn stored_path(path: &Path) -> String {
    pathlib_str(&path.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn pathlib_normalisation() {
        assert_eq!(
            pathlib_str("./text_archives//prayers/2025/07/x.txt"),
            "text_archives/prayers/2025/07/x.txt"
        );
        assert_eq!(pathlib_str("a/./b/../c/"), "a/b/../c");
        assert_eq!(pathlib_str("//srv/a"), "//srv/a");
        assert_eq!(pathlib_str("///srv/a"), "/srv/a");
        assert_eq!(pathlib_str(""), ".");
        assert_eq!(pathlib_str("./"), ".");
    }

    #[test]
    fn collision_suffixes_and_gap_reuse() {
        // Three same-minute prayers get _2 and _3; deleting the first frees its name.
        let dir = tempfile::tempdir().unwrap();
        let t = NaiveDate::from_ymd_opt(2025, 7, 6)
            .unwrap()
            .and_hms_opt(9, 5, 7)
            .unwrap();
        let a = create_prayer_file(dir.path(), &t, b"a").unwrap();
        let b = create_prayer_file(dir.path(), &t, b"b").unwrap();
        let c = create_prayer_file(dir.path(), &t, b"c").unwrap();
        let rel = |p: &Path| {
            p.strip_prefix(dir.path())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        assert_eq!(rel(&a), "prayers/2025/07/2025_07_06_prayer_at_0905.txt");
        assert_eq!(rel(&b), "prayers/2025/07/2025_07_06_prayer_at_0905_2.txt");
        assert_eq!(rel(&c), "prayers/2025/07/2025_07_06_prayer_at_0905_3.txt");
        std::fs::remove_file(&a).unwrap();
        assert_eq!(create_prayer_file(dir.path(), &t, b"d").unwrap(), a);
        assert_eq!(
            users_file(Path::new("b"), &t),
            PathBuf::from("b/users/2025_07_users.txt")
        );
        assert_eq!(
            activity_file(Path::new("b"), &t),
            PathBuf::from("b/activity/activity_2025_07.txt")
        );
        assert_eq!(
            ledger_file(Path::new("b"), LedgerKind::Marks, &t),
            PathBuf::from("b/prayers/marks/2025_07_marks.txt")
        );
    }
}
