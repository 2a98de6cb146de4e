//! Leftovers of interrupted runs: temp copies (`.<name>.<purpose>-<pid>.tmp`, each as large as
//! the database; a full recovery's rebuild also with its SQLite side files) and remote staging
//! folders (`.remote-staging-<pid>`). A run that is killed cannot remove them itself; the next restore, backup or cleanup does, and reports them.
//!
//! A leftover is stale only when the process named in it is gone: callers also hold the
//! backup root's lock, so no other backup, restore or cleanup of that root is running.

use std::fs;
use std::path::{Path, PathBuf};

use super::files::{self, parent_dir};
use super::BackupKind;
use crate::{Error, Result};

/// The prefix of the folder a remote set is fetched into before it is restored.
const STAGING_PREFIX: &str = ".remote-staging-";

/// The folder under `root` that this process fetches a remote set into before restoring it.
pub fn staging_dir(root: &Path) -> PathBuf {
    root.join(format!("{STAGING_PREFIX}{}", std::process::id()))
}

/// Whether the process `pid` exists (this one counts as alive).
fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return true;
    }
    if pid == std::process::id() as i32 {
        return true;
    }
    // SAFETY: kill with signal 0 only checks whether the process exists.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    // EPERM: it exists but belongs to someone else.
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The pid in a temp file name made by `files::temp_path_for`: `.<name>.<purpose>-<pid>.tmp`.
fn temp_file_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    rest.rsplit_once('-')?.1.parse().ok()
}

/// Stale leftovers under `root` (its kind folders and its staging folders) and, when given,
/// beside the live `database`.
pub(crate) fn leftovers(root: &Path, database: Option<&Path>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    folders.extend(BackupKind::ALL.iter().map(|k| root.join(k.folder())));
    for folder in &folders {
        let Ok(entries) = fs::read_dir(folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let pid = if kind.is_file() {
                temp_file_pid(&name)
            } else if kind.is_dir() && folder == root {
                name.strip_prefix(STAGING_PREFIX)
                    .and_then(|p| p.parse().ok())
            } else {
                None
            };
            if pid.is_some_and(|pid| !alive(pid)) {
                found.push(entry.path());
            }
        }
    }
    if let Some(database) = database {
        if let Some(name) = database.file_name().and_then(|n| n.to_str()) {
            // Restores copy the backup to a temp file beside the live one; full recoveries
            // rebuild one there, with SQLite's side files while it is being written.
            let prefixes = [format!(".{name}.restore-"), format!(".{name}.recovery-")];
            if let Ok(entries) = fs::read_dir(parent_dir(database)) {
                for entry in entries.flatten() {
                    let file_name = entry.file_name().to_string_lossy().into_owned();
                    let temp_name = ["-journal", "-wal", "-shm"]
                        .iter()
                        .find_map(|side| file_name.strip_suffix(side))
                        .unwrap_or(&file_name);
                    if prefixes.iter().any(|p| file_name.starts_with(p.as_str()))
                        && entry.file_type().is_ok_and(|t| t.is_file())
                        && temp_file_pid(temp_name).is_some_and(|pid| !alive(pid))
                    {
                        found.push(entry.path());
                    }
                }
            }
        }
    }
    found.sort();
    found
}

/// Removes the leftovers found by [`leftovers`]; returns those removed.
pub(crate) fn remove(paths: Vec<PathBuf>) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::with_capacity(paths.len());
    for path in paths {
        let gone = if path.is_dir() {
            match fs::remove_dir_all(&path) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => return Err(Error::io(&path, e)),
            }
        } else {
            files::remove_if_exists(&path)?
        };
        if gone {
            removed.push(path);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_carry_their_pid() {
        assert_eq!(
            temp_file_pid(".pre_restore_20250101_000000.db.backup-4242.tmp"),
            Some(4242)
        );
        assert_eq!(temp_file_pid(".thywill.db.restore-7.tmp"), Some(7));
        assert_eq!(temp_file_pid("thywill.db.restore-7.tmp"), None);
        assert_eq!(temp_file_pid(".x.restore-abc.tmp"), None);
    }
}
