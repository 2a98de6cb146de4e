//! Archive downloads (docs/downloads.md): a user's ZIP and the community ZIP in the layout
//! ThyWill's `ArchiveDownloadService` gives users, a user's archive metadata, the listing
//! of community archives, one prayer's archive file, and the cleanup of old downloads.
//!
//! What differs from ThyWill is what leaked: every stored path is confined to the archive
//! root, names built from display names stay inside the downloads folder, and the privacy
//! rules of `privacy` decide what of other users a ZIP may hold.

mod cleanup;
mod community;
mod metadata;
mod prayer_file;
mod privacy;
mod user;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::NaiveDateTime;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::backup::files::{create_private_dir, rename_durably, temp_path_for};
use crate::fsutil::confine::{child_of, confined_relative, resolve_within, safe_file_name};
use crate::fsutil::zip::{zip_time, StitchedZip, ZipOut};
use crate::{Error, Result};

pub use cleanup::{
    cleanup_old_downloads, CleanupDownloadsOptions, CleanupDownloadsReport, OldDownload,
};
pub use community::{
    create_full_community_zip, list_community_archives, CommunityArchive, CommunityArchiveList,
    CommunityZipOptions,
};
pub use metadata::{
    get_user_archive_metadata, ActivityInfo, ArchiveStatistics, DateRange, MetadataOptions,
    PrayerInfo, UserArchiveMetadata, UserInfo,
};
pub use prayer_file::{prayer_archive_file, PrayerArchiveFile, PrayerArchiveFileOptions};
pub use user::{create_user_archive_zip, UserZipOptions};

/// The folder under the archive root that ZIPs are written to, as in ThyWill.
pub const DOWNLOADS_FOLDER: &str = "downloads";

/// The prefix ThyWill's stored `text_file_path` values start with (the archive root as
/// the app's working folder names it).
pub(crate) const DEFAULT_PATH_PREFIX: &str = "text_archives";

fn default_path_prefix() -> String {
    DEFAULT_PATH_PREFIX.to_string()
}

/// What a ZIP download wrote.
#[derive(Debug, Clone, Serialize)]
pub struct DownloadZipReport {
    /// The ZIP written (in the downloads folder unless `out` was given).
    pub path: PathBuf,
    /// Its file name (the `Content-Disposition` name).
    pub file_name: String,
    /// How many entries the ZIP holds.
    pub entry_count: u64,
    /// How many of each kind.
    pub entry_kinds: EntryKinds,
    /// The first [`FIRST_ENTRIES`] entry names, in their order. The report never lists
    /// every entry (that would grow with the archive); the ZIP's central directory does.
    pub first_entries: Vec<String>,
    /// The ZIP's size in bytes.
    pub bytes: u64,
    /// What the privacy rules left out.
    pub excluded: Excluded,
    /// Stored paths that were refused (outside the archive root, `..`, a symbolic link out)
    /// or missing; their files are not in the ZIP.
    pub skipped_paths: Vec<SkippedPath>,
    /// Wall-clock duration.
    pub duration_ms: u64,
}

/// How many entry names a report shows (see [`DownloadZipReport::first_entries`]).
pub const FIRST_ENTRIES: usize = 16;

/// What a ZIP entry is, for the report's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A prayer's file.
    PrayerFile,
    /// A monthly activity log.
    ActivityLog,
    /// A monthly registration file (`users/YYYY_MM_users.txt`).
    RegistrationFile,
    /// A marks or skips ledger.
    Ledger,
    /// A file of `foundational_prayers/`.
    FoundationalPrayer,
    /// Written by the download itself (`README.txt`, `archive_metadata.json`,
    /// `registration.txt`, `my_prayer_activities.txt`).
    Generated,
}

/// How many entries of each kind a ZIP holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EntryKinds {
    /// Prayers' files.
    pub prayer_files: u64,
    /// Monthly activity logs.
    pub activity_logs: u64,
    /// Monthly registration files.
    pub registration_files: u64,
    /// Marks and skips ledgers (only with `include_prayer_activity`).
    pub ledgers: u64,
    /// Files of `foundational_prayers/`.
    pub foundational_prayers: u64,
    /// Files the download writes itself (README, metadata, a user's registration and
    /// activity summary).
    pub generated: u64,
}

/// The entries written so far: a count, counts per kind and the first few names, so that
/// the memory a download holds does not grow with the number of entries.
#[derive(Debug, Default)]
pub(crate) struct EntryTally {
    pub(crate) count: u64,
    pub(crate) kinds: EntryKinds,
    pub(crate) first: Vec<String>,
}

impl EntryTally {
    /// Counts one entry written, in order.
    pub(crate) fn add(&mut self, name: &str, kind: EntryKind) {
        self.count += 1;
        let k = &mut self.kinds;
        *match kind {
            EntryKind::PrayerFile => &mut k.prayer_files,
            EntryKind::ActivityLog => &mut k.activity_logs,
            EntryKind::RegistrationFile => &mut k.registration_files,
            EntryKind::Ledger => &mut k.ledgers,
            EntryKind::FoundationalPrayer => &mut k.foundational_prayers,
            EntryKind::Generated => &mut k.generated,
        } += 1;
        if self.first.len() < FIRST_ENTRIES {
            self.first.push(name.to_string());
        }
    }
}

/// Counts of what the privacy rules left out of a ZIP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Excluded {
    /// Flagged prayers' files.
    pub flagged_prayer_files: u64,
    /// Lines left out of copied files: who prayed for or skipped a prayer (unless asked
    /// for), who flagged one, and activity-log lines about flagged prayers.
    pub lines: u64,
    /// Whole files left out: the marks, skips and attributes ledgers, export-all dumps,
    /// users' attribute and notification files.
    pub files: u64,
}

/// A stored path whose file is not in a ZIP, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedPath {
    /// What the path belongs to (`prayer <id>`, `registration of <name>`).
    pub owner: String,
    /// The stored value.
    pub stored: String,
    /// Why it was skipped.
    pub reason: String,
}

/// Opens ThyWill's database read-only, waiting for the app's writes like every other
/// operation.
pub(crate) fn open_database(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(Error::NotFound {
            what: format!("database {}", path.display()),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(30))?;
    Ok(conn)
}

/// A stored `text_file_path` resolved to a regular file inside `root`: an absolute value
/// must name a place under the root, a relative one is read relative to the root after
/// `prefix/` is removed; `..`, NUL and any symbolic link leading out are refused.
pub(crate) fn resolve_stored_file(root: &Path, stored: &str, prefix: &str) -> Result<PathBuf> {
    let refuse = |why: &str| {
        Error::io(
            PathBuf::from(stored),
            io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{why}; only files inside the archive root are served"),
            ),
        )
    };
    let relative = if Path::new(stored).is_absolute() {
        let real_root = root.canonicalize().map_err(|e| Error::io(root, e))?;
        let abs_root = std::path::absolute(root).map_err(|e| Error::io(root, e))?;
        let path = Path::new(stored);
        let rest = path
            .strip_prefix(&abs_root)
            .or_else(|_| path.strip_prefix(&real_root))
            .map_err(|_| refuse("an absolute path outside the archive root"))?;
        rest.to_string_lossy().into_owned()
    } else {
        let trimmed = stored.trim_start_matches("./");
        match trimmed.strip_prefix(prefix) {
            Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/').to_string(),
            _ => trimmed.to_string(),
        }
    };
    let relative = confined_relative(&relative)
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or_else(|| refuse("a path that leaves the archive root"))?;
    let real = resolve_within(root, &relative).map_err(|e| match e {
        Error::InvalidInput(_) => refuse("a symbolic link that leads out of the archive root"),
        other => other,
    })?;
    let meta = std::fs::metadata(&real).map_err(|e| Error::io(&real, e))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file"));
    }
    Ok(real)
}

/// A ZIP being written under a temporary name next to its final place; [`Self::commit`]
/// renames it into place, dropping it uncommitted removes it.
pub(crate) struct PendingZip {
    pub(crate) zip: Option<ZipOut>,
    /// Instead of `zip`, for a ZIP assembled from parts ([`Self::start_stitched`]).
    stitched: Option<StitchedZip>,
    temp: PathBuf,
    dest: PathBuf,
    pub(crate) entries: EntryTally,
    pub(crate) time: Option<zip::DateTime>,
}

impl PendingZip {
    /// Starts the ZIP `file_name` in `<root>/downloads/` (created private when missing),
    /// or at `out` when given.
    pub(crate) fn start(
        root: &Path,
        file_name: &str,
        out: Option<&Path>,
        now: &NaiveDateTime,
        level: Option<i64>,
    ) -> Result<PendingZip> {
        let (temp, dest) = Self::place(root, file_name, out)?;
        let zip = ZipOut::create(&temp, level)?;
        Ok(PendingZip {
            zip: Some(zip),
            stitched: None,
            temp,
            dest,
            entries: EntryTally::default(),
            time: zip_time(now),
        })
    }

    /// Like [`Self::start`], for a ZIP assembled from parts: [`Self::stitched_mut`].
    pub(crate) fn start_stitched(
        root: &Path,
        file_name: &str,
        out: Option<&Path>,
        now: &NaiveDateTime,
        level: Option<i64>,
    ) -> Result<PendingZip> {
        let (temp, dest) = Self::place(root, file_name, out)?;
        let stitched = StitchedZip::create(&temp, level)?;
        Ok(PendingZip {
            zip: None,
            stitched: Some(stitched),
            temp,
            dest,
            entries: EntryTally::default(),
            time: zip_time(now),
        })
    }

    /// The temporary and the final path of the ZIP `file_name`.
    fn place(root: &Path, file_name: &str, out: Option<&Path>) -> Result<(PathBuf, PathBuf)> {
        let dest = match out {
            Some(out) => out.to_path_buf(),
            None => {
                let dir = root.join(DOWNLOADS_FOLDER);
                create_private_dir(&dir)?;
                child_of(&dir, file_name)?
            }
        };
        // Unique per call: two downloads of one name in one process (a threaded web server)
        // must not share a temporary file.
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let temp = temp_path_for(
            &dest,
            &format!("download-{}", SEQUENCE.fetch_add(1, Ordering::Relaxed)),
        );
        Ok((temp, dest))
    }

    /// Starts an entry of `kind`; its bytes go to the returned writer.
    pub(crate) fn entry(&mut self, name: &str, kind: EntryKind) -> Result<&mut impl io::Write> {
        let zip = self
            .zip
            .as_mut()
            .ok_or_else(|| Error::Internal("ZIP already finished".into()))?;
        let out = zip.start(name, self.time)?;
        self.entries.add(name, kind);
        Ok(out)
    }

    /// The ZIP assembled from parts (see [`Self::start_stitched`]).
    pub(crate) fn stitched_mut(&mut self) -> Result<&mut StitchedZip> {
        self.stitched
            .as_mut()
            .ok_or_else(|| Error::Internal("ZIP already finished".into()))
    }

    /// Records an entry written through [`Self::stitched_mut`].
    pub(crate) fn record(&mut self, name: &str, kind: EntryKind) {
        self.entries.add(name, kind);
    }

    /// Finishes the ZIP and renames it into place; returns its path and size.
    pub(crate) fn commit(mut self) -> Result<(PathBuf, u64, EntryTally)> {
        match (self.zip.take(), self.stitched.take()) {
            (Some(zip), _) => zip.finish()?,
            (None, Some(stitched)) => stitched.finish()?,
            (None, None) => return Err(Error::Internal("ZIP already finished".into())),
        }
        rename_durably(&self.temp, &self.dest)?;
        let bytes = std::fs::metadata(&self.dest)
            .map_err(|e| Error::io(&self.dest, e))?
            .len();
        Ok((self.dest.clone(), bytes, std::mem::take(&mut self.entries)))
    }
}

impl Drop for PendingZip {
    fn drop(&mut self) {
        if self.zip.is_some() || self.stitched.is_some() {
            self.zip = None;
            self.stitched = None;
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// The file-name part built from a display name or id (see `fsutil::confine`).
pub(crate) fn name_part(name: &str) -> String {
    safe_file_name(name)
}

/// Writes `bytes` as the write error of `path`.
pub(crate) fn write_err(path: &Path) -> impl Fn(io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}
