//! Where the database, the backups and their companions live, resolved the way ThyWill does.
//!
//! Each function takes the environment as a lookup closure so that callers (and tests) decide
//! whether the process environment is consulted; front ends pass `|k| std::env::var_os(k)`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

fn non_blank(value: Option<OsString>) -> Option<PathBuf> {
    value
        .filter(|v| !v.to_string_lossy().trim().is_empty())
        .map(PathBuf::from)
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
    fn precedence_is_flag_then_environment_then_beside_the_database() {
        let none = |_: &str| None;
        let env = |k: &str| match k {
            "DATABASE_PATH" => Some(OsString::from("/srv/tw/live.db")),
            "THYWILL_BACKUP_DIR" => Some(OsString::from("/mnt/b")),
            _ => None,
        };
        let blank = |_: &str| Some(OsString::from("  "));
        let db = PathBuf::from("/srv/tw/live.db");
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
            backup_root(None, &blank, &db),
            PathBuf::from("/srv/tw/backups")
        );
        assert_eq!(
            backup_root(Some(Path::new("b")), &env, &db),
            PathBuf::from("b")
        );
        assert_eq!(
            email_database_path(&none, &db),
            PathBuf::from("/srv/tw/email.db")
        );
    }
}
