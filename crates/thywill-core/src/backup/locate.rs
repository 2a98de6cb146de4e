//! Where the database, the backups and their companions live, resolved the way ThyWill does.
//!
//! Each function takes the environment as a lookup closure so that callers (and tests) decide
//! whether the process environment is consulted; front ends pass `|k| std::env::var_os(k)`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The database file name ThyWill uses when `DATABASE_PATH` is unset.
pub const DEFAULT_DATABASE_NAME: &str = "thywill.db";

fn non_blank(value: Option<OsString>) -> Option<PathBuf> {
    value
        .filter(|v| !v.to_string_lossy().trim().is_empty())
        .map(PathBuf::from)
}

/// The main database: `explicit` (`--db`), else `DATABASE_PATH` when non-blank, else
/// `thywill.db` relative to the working directory, as ThyWill's `models.py` does.
pub fn database_path(explicit: Option<&Path>, env: &dyn Fn(&str) -> Option<OsString>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| non_blank(env("DATABASE_PATH")))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATABASE_NAME))
}

/// The backup root: `explicit` (`--backups`), else `THYWILL_BACKUP_DIR`, else `backups/` in
/// the folder holding the database.
pub fn backup_root(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<OsString>,
    database: &Path,
) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| non_blank(env("THYWILL_BACKUP_DIR")))
        .unwrap_or_else(|| beside(database, "backups"))
}

/// The email database: `EMAIL_DATABASE_PATH`, else `email.db` beside the main database.
pub fn email_database_path(env: &dyn Fn(&str) -> Option<OsString>, database: &Path) -> PathBuf {
    non_blank(env("EMAIL_DATABASE_PATH")).unwrap_or_else(|| beside(database, "email.db"))
}

/// The text archive root: `TEXT_ARCHIVE_BASE_DIR`, else `text_archives/` beside the database.
pub fn text_archive_dir(env: &dyn Fn(&str) -> Option<OsString>, database: &Path) -> PathBuf {
    non_blank(env("TEXT_ARCHIVE_BASE_DIR")).unwrap_or_else(|| beside(database, "text_archives"))
}

fn beside(database: &Path, name: &str) -> PathBuf {
    match database.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join(name),
        _ => PathBuf::from(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_flag_then_environment_then_default() {
        let none = |_: &str| None;
        let env = |k: &str| match k {
            "DATABASE_PATH" => Some(OsString::from("/srv/tw/live.db")),
            "THYWILL_BACKUP_DIR" => Some(OsString::from("/mnt/b")),
            _ => None,
        };
        let blank = |_: &str| Some(OsString::from("  "));
        assert_eq!(database_path(None, &none), PathBuf::from("thywill.db"));
        assert_eq!(database_path(None, &blank), PathBuf::from("thywill.db"));
        assert_eq!(database_path(None, &env), PathBuf::from("/srv/tw/live.db"));
        assert_eq!(
            database_path(Some(Path::new("x.db")), &env),
            PathBuf::from("x.db")
        );
        let db = database_path(None, &env);
        assert_eq!(backup_root(None, &env, &db), PathBuf::from("/mnt/b"));
        assert_eq!(
            backup_root(None, &none, &db),
            PathBuf::from("/srv/tw/backups")
        );
        assert_eq!(
            backup_root(None, &none, Path::new("thywill.db")),
            PathBuf::from("backups")
        );
        assert_eq!(
            email_database_path(&none, &db),
            PathBuf::from("/srv/tw/email.db")
        );
    }
}
