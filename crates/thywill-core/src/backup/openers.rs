//! Which other processes have a database open: the app that a restore must not pull the file
//! out from under.
//!
//! A restore renames a new file over the live path. A process that keeps a connection open
//! (ThyWill's app, idle between requests) keeps the old inode and its `-wal`/`-shm`, and every
//! commit it makes afterwards goes to a file nobody will ever open again. SQLite's own locks
//! cannot tell: an idle connection holds no lock in rollback-journal mode, and in WAL mode only
//! a shared lock on the `-shm` file's "dead-man switch" byte. Two sources are used:
//!
//! - on Linux, every process's `/proc/<pid>/fd` entries compared by device and inode with the
//!   database, `-wal`, `-shm` and `-journal` (processes whose table this user may not read,
//!   other users' when not root, are skipped);
//! - everywhere, `F_GETLK` on the `-shm` dead-man-switch byte, which names one holder of a
//!   WAL connection, including processes `/proc` did not show.
//!
//! This process is never reported: its own connections are the caller's business.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::create::{shm_path, wal_path};

/// The offset of the byte of the `-shm` file that every WAL connection holds a shared lock on
/// for as long as it is open (SQLite's unix VFS: `UNIX_SHM_DMS` = (22 + 8) * 4 + 8).
const SHM_DEAD_MAN_SWITCH: libc::off_t = 128;

/// Longest command line shown (an inline `python3 -c` script can be long).
const COMMAND_LINE_LIMIT: usize = 200;

/// Another process that has the database (or one of its side files) open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenProcess {
    /// Its process id; 0 when the lock's owner lives in a pid namespace this one cannot see.
    pub pid: u32,
    /// Its command line, when the operating system tells (Linux: `/proc/<pid>/cmdline`).
    pub command_line: Option<String>,
    /// Which of the database, `-wal`, `-shm`, `-journal` it has open (empty when it is known
    /// only from its lock on the `-shm` file).
    pub files: Vec<PathBuf>,
}

impl std::fmt::Display for OpenProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.pid == 0 {
            f.write_str("a process in another pid namespace")?;
        } else {
            write!(f, "pid {}", self.pid)?;
        }
        if let Some(command_line) = &self.command_line {
            write!(f, " ({command_line})")?;
        }
        Ok(())
    }
}

/// The paths a connection to `database` may hold open.
pub(crate) fn database_files(database: &Path) -> [PathBuf; 4] {
    [
        database.to_path_buf(),
        wal_path(database),
        shm_path(database),
        journal_path(database),
    ]
}

/// The rollback journal beside `database`.
pub(crate) fn journal_path(database: &Path) -> PathBuf {
    let mut s = database.as_os_str().to_owned();
    s.push("-journal");
    PathBuf::from(s)
}

/// Every other process that has `database`, its `-wal`, `-shm` or `-journal` open, by pid.
pub(crate) fn other_processes(database: &Path) -> Vec<OpenProcess> {
    use std::os::unix::fs::MetadataExt;
    let targets: Vec<((u64, u64), PathBuf)> = database_files(database)
        .into_iter()
        .filter_map(|p| fs::metadata(&p).ok().map(|m| ((m.dev(), m.ino()), p)))
        .collect();
    if targets.is_empty() {
        return Vec::new();
    }
    let mut found: BTreeMap<u32, OpenProcess> = BTreeMap::new();
    #[cfg(target_os = "linux")]
    scan_proc(&targets, &mut found);
    let shm = shm_path(database);
    if may_probe_locks(&shm) {
        if let Some(pid) = shm_lock_holder(&shm) {
            found.entry(pid).or_insert_with(|| OpenProcess {
                pid,
                command_line: command_line(pid),
                files: Vec::new(),
            });
        }
    }
    found.into_values().collect()
}

/// Walks `/proc/<pid>/fd` of every process but this one.
#[cfg(target_os = "linux")]
fn scan_proc(targets: &[((u64, u64), PathBuf)], found: &mut BTreeMap<u32, OpenProcess>) {
    use std::os::unix::fs::MetadataExt;
    let own = std::process::id();
    let Ok(processes) = fs::read_dir("/proc") else {
        return;
    };
    for process in processes.flatten() {
        let Some(pid) = process
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own {
            continue;
        }
        // Unreadable (another user's process, or it just exited): the lock probe may still
        // see it.
        let Ok(fds) = fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        let mut files: Vec<PathBuf> = Vec::new();
        for fd in fds.flatten() {
            // stat follows the descriptor's link to the open file itself, even when renamed
            // or unlinked since.
            let Ok(meta) = fs::metadata(fd.path()) else {
                continue;
            };
            if let Some((_, path)) = targets
                .iter()
                .find(|(id, _)| *id == (meta.dev(), meta.ino()))
            {
                if !files.contains(path) {
                    files.push(path.clone());
                }
            }
        }
        if !files.is_empty() {
            files.sort();
            found.insert(
                pid,
                OpenProcess {
                    pid,
                    command_line: command_line(pid),
                    files,
                },
            );
        }
    }
}

/// Whether opening (and so closing) `shm` here is harmless. Closing any descriptor of a file
/// drops every POSIX lock this process holds on it, so if a SQLite connection in this process
/// has the `-shm` open, probing it would silently release that connection's locks. On Linux
/// `/proc/self/fd` tells; elsewhere the probe is made (restores are run from a separate
/// process there, see docs/backup.md).
fn may_probe_locks(shm: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(target) = fs::metadata(shm) else {
            return false;
        };
        let Ok(fds) = fs::read_dir("/proc/self/fd") else {
            return false;
        };
        !fds.flatten().any(|fd| {
            fs::metadata(fd.path())
                .is_ok_and(|m| m.dev() == target.dev() && m.ino() == target.ino())
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        shm.is_file()
    }
}

/// The pid of a process holding a lock on the `-shm` dead-man-switch byte (every open WAL
/// connection does), if any. Locks of this process never conflict with its own probe, so it
/// is never named.
fn shm_lock_holder(shm: &Path) -> Option<u32> {
    use std::os::unix::io::AsRawFd;
    let file = fs::File::open(shm).ok()?;
    // SAFETY: a zeroed flock is a valid value; fcntl(F_GETLK) reads and writes only it.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    lock.l_start = SHM_DEAD_MAN_SWITCH;
    lock.l_len = 1;
    // SAFETY: a valid descriptor we own and a pointer to the flock above.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) };
    drop(file);
    (rc == 0 && lock.l_type != libc::F_UNLCK as libc::c_short).then(|| lock.l_pid.max(0) as u32)
}

/// A process's command line, arguments joined by spaces, cut at [`COMMAND_LINE_LIMIT`].
fn command_line(pid: u32) -> Option<String> {
    if pid == 0 {
        return None;
    }
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let joined = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(" ");
    let line: String = joined
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.is_empty() {
        return None;
    }
    if line.chars().count() > COMMAND_LINE_LIMIT {
        let cut: String = line.chars().take(COMMAND_LINE_LIMIT).collect();
        return Some(format!("{cut}…"));
    }
    Some(line)
}

/// "pid 12 (python3 app.py), pid 40 (...)".
pub(crate) fn describe(processes: &[OpenProcess]) -> String {
    processes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
