//! Cleanup of old download ZIPs.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::community::COMMUNITY_FOLDER;
use super::DOWNLOADS_FOLDER;
use crate::{Error, Result};

/// Options of [`cleanup_old_downloads`]. Deserializes from a JSON object of these fields,
/// each optional.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CleanupDownloadsOptions {
    /// ZIPs last modified longer ago than this many seconds are removed (default 86400,
    /// ThyWill's 24 hours).
    pub max_age_seconds: u64,
    /// List what would be removed, remove nothing.
    pub dry_run: bool,
    /// Every regular `*.zip` file of the folder counts as a download, whatever its name, as
    /// ThyWill's cleanup has it (for its drop-in `thywill_core.compat`). Default false: only
    /// the names downloads give. Symbolic links are left alone either way.
    pub every_zip: bool,
}

impl Default for CleanupDownloadsOptions {
    fn default() -> Self {
        CleanupDownloadsOptions {
            max_age_seconds: 24 * 3600,
            dry_run: false,
            every_zip: false,
        }
    }
}

/// What [`cleanup_old_downloads`] removed (or, in a dry run, would remove).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CleanupDownloadsReport {
    /// The downloads folder.
    pub downloads_dir: PathBuf,
    /// True when nothing was removed because it was a dry run.
    pub dry_run: bool,
    /// The age limit, in seconds.
    pub max_age_seconds: u64,
    /// The old ZIPs, sorted by name.
    pub removed: Vec<OldDownload>,
    /// Bytes they held.
    pub removed_bytes: u64,
    /// Download ZIPs kept because they are younger.
    pub kept: u64,
    /// Files of the folder that are not download ZIPs of ours, left alone.
    pub ignored: u64,
}

/// One old download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OldDownload {
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its age in seconds.
    pub age_seconds: u64,
}

/// Removes the download ZIPs in `<archive root>/downloads/` older than the limit: only
/// regular files named as downloads name them (`<name>_archive_YYYY_MM_DD.zip`,
/// `complete_site_archive_YYYY_MM_DD_HHMM.zip`) or left by an interrupted download
/// (`.<name>.zip.download-<sequence>-<pid>.tmp`); symbolic links and anything else are left alone. A dry run
/// reports the same list and removes nothing; a second run finds nothing left.
pub fn cleanup_old_downloads(
    archive_root: &Path,
    options: &CleanupDownloadsOptions,
) -> Result<CleanupDownloadsReport> {
    crate::audit::recorded(
        archive_root,
        "download.cleanup",
        crate::audit::arguments([
            ("archive_root", serde_json::json!(archive_root)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &CleanupDownloadsReport| {
            serde_json::json!({
                "dry_run": report.dry_run,
                "removed": report.removed.len(),
                "removed_bytes": report.removed_bytes,
            })
        },
        || cleanup_old_downloads_unrecorded(archive_root, options),
    )
}

fn cleanup_old_downloads_unrecorded(
    archive_root: &Path,
    options: &CleanupDownloadsOptions,
) -> Result<CleanupDownloadsReport> {
    let dir = archive_root.join(DOWNLOADS_FOLDER);
    let mut report = CleanupDownloadsReport {
        downloads_dir: dir.clone(),
        dry_run: options.dry_run,
        max_age_seconds: options.max_age_seconds,
        removed: Vec::new(),
        removed_bytes: 0,
        kept: 0,
        ignored: 0,
    };
    let read = match fs::read_dir(&dir) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    let now = SystemTime::now();
    let limit = Duration::from_secs(options.max_age_seconds);
    let mut old = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| Error::io(&dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = fs::symlink_metadata(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        let ours = is_download_name(&name) || (options.every_zip && name.ends_with(".zip"));
        if !meta.is_file() || !ours {
            report.ignored += 1;
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if age > limit {
            old.push(OldDownload {
                path: entry.path(),
                bytes: meta.len(),
                age_seconds: age.as_secs(),
            });
        } else {
            report.kept += 1;
        }
    }
    old.sort_by(|a, b| a.path.cmp(&b.path));
    for download in old {
        if !options.dry_run {
            match fs::remove_file(&download.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&download.path, e)),
            }
        }
        report.removed_bytes += download.bytes;
        report.removed.push(download);
    }
    Ok(report)
}

/// The names downloads give their ZIPs and temporary files.
fn is_download_name(name: &str) -> bool {
    if let Some(rest) = name.strip_prefix('.') {
        return rest
            .rsplit_once(".zip.download-")
            .is_some_and(|(zip, tail)| {
                is_download_name(&format!("{zip}.zip"))
                    && tail.strip_suffix(".tmp").is_some_and(|numbers| {
                        // `<sequence>-<pid>`
                        numbers.split('-').count() == 2
                            && numbers
                                .split('-')
                                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                    })
            });
    }
    let Some(stem) = name.strip_suffix(".zip") else {
        return false;
    };
    let digits = |s: &str, pattern: &str| {
        s.len() == pattern.len()
            && s.bytes().zip(pattern.bytes()).all(|(c, p)| {
                if p == b'9' {
                    c.is_ascii_digit()
                } else {
                    c == p
                }
            })
    };
    if let Some(stamp) = stem.strip_prefix(&format!("{COMMUNITY_FOLDER}_")) {
        if digits(stamp, "9999_99_99_9999") {
            return true;
        }
    }
    stem.len() > "_archive_9999_99_99".len()
        && stem
            .get(stem.len() - "_archive_9999_99_99".len()..)
            .is_some_and(|tail| digits(tail, "_archive_9999_99_99"))
}

#[cfg(test)]
mod tests {
    use super::is_download_name;

    #[test]
    fn only_our_names() {
        assert!(is_download_name("Alice_archive_2025_06_15.zip"));
        assert!(is_download_name(
            "complete_site_archive_2025_06_15_1030.zip"
        ));
        assert!(is_download_name(
            ".Alice_archive_2025_06_15.zip.download-0-42.tmp"
        ));
        assert!(!is_download_name(
            ".Alice_archive_2025_06_15.zip.download-42.tmp"
        ));
        assert!(!is_download_name("_archive_2025_06_15.zip"));
        assert!(!is_download_name("notes.zip"));
        assert!(!is_download_name("backup.db"));
        assert!(!is_download_name(".x.zip.download-.tmp"));
    }
}
