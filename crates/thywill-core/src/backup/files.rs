//! File plumbing shared by the backup operations: durable writes, hashing, sidecars, manifests.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::progress::{self, Progress};
use crate::{Error, Result};

/// The `format` value of every manifest this library writes.
pub const MANIFEST_FORMAT: &str = "thywill-backup-set";

/// Read buffer for hashing and copying: large enough that syscalls do not dominate.
pub(crate) const IO_CHUNK: usize = 4 << 20;

/// Mode of every backup file: they hold session ids and must not be world-readable.
pub(crate) const FILE_MODE: u32 = 0o600;
pub(crate) const DIR_MODE: u32 = 0o700;

/// Creates `dir` and its parents, giving new folders mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| Error::io(dir, e))
}

/// Refuses a backup root that exists but is not a folder (or sits below a file), with a
/// message that says so rather than the bare "File exists" of `mkdir`.
pub(crate) fn check_backup_root(root: &Path) -> Result<()> {
    match fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::InvalidInput(format!(
            "the backup folder {} is a file, not a folder (choose another backup folder)",
            root.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Err(Error::InvalidInput(format!(
            "the backup folder {} lies below a file, not a folder (choose another backup folder)",
            root.display()
        ))),
        Err(_) => Ok(()),
    }
}

/// Refuses a folder this process cannot create files in, naming it as `what`: SQLite and the
/// atomic writes both need to create files there, and fail later with less clear messages.
pub(crate) fn require_writable_dir(dir: &Path, what: &str) -> Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c_path = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| Error::InvalidInput(format!("{}: path contains NUL", dir.display())))?;
    // SAFETY: access only reads the NUL-terminated path.
    if unsafe { libc::access(c_path.as_ptr(), libc::W_OK | libc::X_OK) } == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    Err(Error::io(
        dir,
        io::Error::new(e.kind(), format!("{what} is not writable ({e})")),
    ))
}

/// Creates a new empty file with mode 0600, failing if it exists.
pub(crate) fn create_private_file(path: &Path) -> Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| Error::io(path, e))
}

/// Forces mode 0600 on a file some other code (SQLite) created.
pub(crate) fn make_private(path: &Path) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(FILE_MODE)).map_err(|e| Error::io(path, e))
}

/// fsyncs a file's data and metadata.
pub(crate) fn fsync_file(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// fsyncs a folder so that renames and unlinks inside it are durable.
pub(crate) fn fsync_dir(dir: &Path) -> Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// The folder holding `path` (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A hidden temporary name beside `final_path`, unique to this process.
pub(crate) fn temp_path_for(final_path: &Path, purpose: &str) -> PathBuf {
    let name = final_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent_dir(final_path).join(format!(".{name}.{purpose}-{}.tmp", std::process::id()))
}

/// Renames `from` over `to` and fsyncs the folder.
pub(crate) fn rename_durably(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|e| Error::io(to, e))?;
    fsync_dir(&parent_dir(to))
}

/// Writes `bytes` to `path` atomically: temp file (0600), fsync, rename, folder fsync.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path_for(path, "write");
    let result = (|| {
        let mut f = create_private_file(&tmp)?;
        f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        rename_durably(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes a file if it exists; reports whether it did.
pub(crate) fn remove_if_exists(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Hashes `reader` with SHA-256, reporting `phase` progress against `total` bytes.
pub(crate) fn sha256_reader(
    mut reader: impl Read,
    path_for_errors: &Path,
    total: Option<u64>,
    phase: &str,
    progress: &dyn Progress,
) -> Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; IO_CHUNK];
    let mut done = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path_for_errors, e)),
        };
        hasher.update(&buf[..n]);
        done += n as u64;
        progress::report(progress, phase, done, total)?;
    }
    Ok((hex::encode(hasher.finalize()), done))
}

/// SHA-256 of a file as lowercase hex, with its size. Reports progress as phase `"hash"`.
///
/// Read through SQLite's file layer: the file may be a live database this process also has
/// open through SQLite (the app's, when the core runs inside the app), and closing a plain
/// descriptor of it would drop that connection's locks (`db::vfs_read`).
pub fn sha256_file(path: &Path, progress: &dyn Progress) -> Result<(String, u64)> {
    let file = crate::db::vfs_read::VfsReader::open(path).map_err(|e| Error::io(path, e))?;
    let total = Some(file.len());
    sha256_reader(file, path, total, "hash", progress)
}

/// Copies `from` to a new 0600 file `to`, hashing on the way, and fsyncs it.
pub(crate) fn copy_hashing(
    from: &Path,
    to: &Path,
    phase: &str,
    progress: &dyn Progress,
) -> Result<(String, u64)> {
    let mut src = File::open(from).map_err(|e| Error::io(from, e))?;
    let total = src.metadata().map(|m| m.len()).ok();
    let mut dst = create_private_file(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; IO_CHUNK];
    let mut done = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(from, e)),
        };
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n]).map_err(|e| Error::io(to, e))?;
        done += n as u64;
        progress::report(progress, phase, done, total)?;
    }
    dst.sync_all().map_err(|e| Error::io(to, e))?;
    Ok((hex::encode(hasher.finalize()), done))
}

/// The sidecar path of a member: `<file>.sha256`.
pub(crate) fn sidecar_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

/// A `sha256sum -c` line naming the bare file, so the pair stays valid wherever it is moved.
pub(crate) fn sidecar_line(sha256: &str, file_name: &str) -> String {
    format!("{sha256}  {file_name}\n")
}

/// The digest in a sidecar: the first token, if it is 64 hex digits. ThyWill's own sidecars
/// name an absolute path after it; the name is deliberately ignored.
pub(crate) fn parse_sidecar(text: &str) -> Option<String> {
    let token = text.split_whitespace().next()?;
    let token = token.strip_prefix('\\').unwrap_or(token);
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| token.to_ascii_lowercase())
}

/// What a member of a backup set holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// The main ThyWill database.
    Database,
    /// The text archives, as one ZIP.
    TextArchives,
    /// The email database.
    EmailDatabase,
}

/// One file of a backup set, as listed in its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestMember {
    /// What the file holds.
    pub role: MemberRole,
    /// The bare file name (relative to the manifest's folder).
    pub file: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// The checks run on the database when the set was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The `PRAGMA integrity_check` result, one string per line (`["ok"]` when sound).
    pub integrity_check: Vec<String>,
    /// When the check ran (local time).
    pub checked_at: chrono::NaiveDateTime,
    /// Rows per table at backup time.
    pub table_row_counts: BTreeMap<String, u64>,
}

impl Verification {
    /// True when the integrity check said exactly `ok`.
    pub fn integrity_ok(&self) -> bool {
        self.integrity_check.len() == 1 && self.integrity_check[0] == "ok"
    }

    /// True when these checks make the set verified: the integrity check said exactly `ok` and
    /// ThyWill's tables were there (see [`super::is_verified`], which also needs the checksums
    /// to match).
    pub fn passed(&self) -> bool {
        super::verify::is_verified(&self.integrity_check, &self.table_row_counts, true)
    }
}

/// What kind of database a set was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// ThyWill's main database (its core tables are present).
    Thywill,
    /// ThyWill's email database (`user_email`).
    Email,
    /// Any other SQLite database.
    Other,
}

impl SourceKind {
    /// The lowercase name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Thywill => "thywill",
            SourceKind::Email => "email",
            SourceKind::Other => "other",
        }
    }
}

/// Which database a set was taken from. Retention judges the sets of each source apart, so
/// backups of two databases sharing one backup root never displace each other.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceIdentity {
    /// The source database's canonical absolute path at backup time.
    pub path: String,
    /// What it holds.
    pub kind: SourceKind,
}

impl SourceIdentity {
    /// The identity of the database at `database` holding `kind`, with its path made canonical
    /// (symlinks and `..` resolved; for a missing file, its folder's canonical path).
    pub fn new(database: &Path, kind: SourceKind) -> SourceIdentity {
        let canonical = fs::canonicalize(database)
            .or_else(|_| {
                let name = database
                    .file_name()
                    .ok_or_else(|| io::Error::other("no file name"))?;
                fs::canonicalize(parent_dir(database)).map(|dir| dir.join(name))
            })
            .or_else(|_| std::path::absolute(database))
            .unwrap_or_else(|_| database.to_path_buf());
        SourceIdentity {
            path: canonical.display().to_string(),
            kind,
        }
    }

    /// A stable text form, `<kind>:<path>`, used to group sets.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.path)
    }
}

/// The JSON manifest written beside a backup set's database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// Manifest layout version.
    pub version: u32,
    /// The set's stem, e.g. `thywill_daily_20250101_020000`.
    pub name: String,
    /// Tier or pre-restore.
    pub kind: super::BackupKind,
    /// The local time in the name.
    pub created_at: chrono::NaiveDateTime,
    /// The database the set was taken from, as it was named (informational).
    pub source_database: String,
    /// The source's identity (absent in sets written before it was recorded; retention then
    /// counts them as sets of the database being cleaned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceIdentity>,
    /// The library that wrote the set.
    pub tool: String,
    /// Every member with size and checksum.
    pub members: Vec<ManifestMember>,
    /// The checks run on the database at backup time, when they ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

impl Manifest {
    /// The member with the given role.
    pub fn member(&self, role: MemberRole) -> Option<&ManifestMember> {
        self.members.iter().find(|m| m.role == role)
    }
}

/// Reads and parses a manifest file.
pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Corrupt(format!("{}: unreadable manifest: {e}", path.display())))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(Error::Corrupt(format!(
            "{}: not a backup manifest (format {:?})",
            path.display(),
            manifest.format
        )));
    }
    Ok(manifest)
}

/// Free bytes available to this user on the filesystem holding `dir`.
pub(crate) fn available_space(dir: &Path) -> Result<u64> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c_path = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| Error::InvalidInput(format!("{}: path contains NUL", dir.display())))?;
    // SAFETY: statvfs writes into the zeroed struct we own and reads the NUL-terminated path.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    if rc != 0 {
        return Err(Error::io(dir, io::Error::last_os_error()));
    }
    Ok((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_parsing_accepts_thywill_and_ours() {
        let h = "a".repeat(64);
        assert_eq!(parse_sidecar(&sidecar_line(&h, "x.db")), Some(h.clone()));
        assert_eq!(
            parse_sidecar(&format!(
                "{}  /home/thywill/backups/daily/x.db\n",
                h.to_uppercase()
            )),
            Some(h.clone())
        );
        assert_eq!(parse_sidecar("deadbeef  x.db"), None);
        assert_eq!(parse_sidecar(""), None);
    }
}
