//! One prayer's archive file, for the prayer-file route.

use std::path::{Path, PathBuf};

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::privacy::Privacy;
use super::{default_path_prefix, name_part, open_database, resolve_stored_file, Excluded};
use crate::db::encode::parse_datetime;
use crate::{Error, Result};

/// Options of [`prayer_archive_file`]. Deserializes from a JSON object of these fields,
/// each optional.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrayerArchiveFileOptions {
    /// Serve a flagged prayer's file too (for its author or a moderator; the caller
    /// decides). Default false: a flagged prayer's file is refused.
    pub include_flagged: bool,
    /// Serve the file as it is, with who flagged, unflagged or skipped the prayer (for a
    /// moderator; the caller decides). Default false: those lines are left out, as in
    /// every ZIP (a prayer flagged and later unflagged is served to members).
    pub include_moderation: bool,
    /// What stored relative paths start with (default `text_archives`).
    pub path_prefix: String,
}

impl Default for PrayerArchiveFileOptions {
    fn default() -> Self {
        PrayerArchiveFileOptions {
            include_flagged: false,
            include_moderation: false,
            path_prefix: default_path_prefix(),
        }
    }
}

/// A prayer's archive file, ready to be served: `content` when the privacy rules left
/// lines out, else the file at `path` as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrayerArchiveFile {
    /// The prayer.
    pub prayer_id: String,
    /// The file, resolved (symbolic links followed) and inside the archive root.
    pub path: PathBuf,
    /// ThyWill's download name, `prayer_<id>_<YYYY_MM_DD>.txt`.
    pub file_name: String,
    /// The size in bytes of what is served (`content` when present, else the file).
    pub size: u64,
    /// What to serve instead of the file when lines were left out (who flagged, unflagged
    /// or skipped the prayer); `None` when the file is served as it is.
    pub content: Option<String>,
    /// Lines of the file left out of `content`.
    pub excluded_lines: u64,
}

/// The archive file of the prayer `prayer_id`. Not found: no such prayer, no stored path,
/// no file. Permission: the stored path leaves the archive root (absolute elsewhere, `..`,
/// a symbolic link out), or the prayer is flagged and `include_flagged` is off. Unless
/// `include_moderation` is on, the file's activity lines of flags, unflags and skips are
/// left out by the rule of a user's own prayer files in their ZIP (marks stay: the
/// community view shows them).
pub fn prayer_archive_file(
    database: &Path,
    archive_root: &Path,
    prayer_id: &str,
    options: &PrayerArchiveFileOptions,
) -> Result<PrayerArchiveFile> {
    crate::audit::recorded(
        database,
        "download.prayer_file",
        crate::audit::arguments([
            ("database", serde_json::json!(database)),
            ("archive_root", serde_json::json!(archive_root)),
            ("prayer_id", serde_json::json!(prayer_id)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &PrayerArchiveFile| serde_json::json!({"bytes": report.size, "excluded_lines": report.excluded_lines}),
        || prayer_archive_file_unrecorded(database, archive_root, prayer_id, options),
    )
}

fn prayer_archive_file_unrecorded(
    database: &Path,
    archive_root: &Path,
    prayer_id: &str,
    options: &PrayerArchiveFileOptions,
) -> Result<PrayerArchiveFile> {
    let conn = open_database(database)?;
    let row: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT created_at, text_file_path FROM prayer WHERE id = ?1",
            [prayer_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (created_at, stored) = row.ok_or_else(|| Error::NotFound {
        what: format!("prayer {prayer_id}"),
    })?;
    if !options.include_flagged && Privacy::load(&conn, false)?.is_flagged(prayer_id) {
        return Err(Error::io(
            PathBuf::from(format!("prayer {prayer_id}")),
            std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the prayer is flagged; its file is not served",
            ),
        ));
    }
    drop(conn);
    let stored = stored
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::NotFound {
            what: format!("archive file of prayer {prayer_id} (none is recorded)"),
        })?;
    let path = resolve_stored_file(archive_root, &stored, &options.path_prefix)?;
    let mut size = std::fs::metadata(&path)
        .map_err(|e| Error::io(&path, e))?
        .len();
    let mut content = None;
    let mut excluded = Excluded::default();
    if !options.include_moderation {
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut kept = Vec::with_capacity(bytes.len());
        Privacy::copy_own_prayer(&text, &mut kept, &mut excluded)
            .map_err(|e| Error::io(&path, e))?;
        if excluded.lines > 0 {
            let kept = String::from_utf8(kept)
                .map_err(|e| Error::Internal(format!("filtered prayer file: {e}")))?;
            size = kept.len() as u64;
            content = Some(kept);
        }
    }
    let date = parse_datetime(&created_at)?.format("%Y_%m_%d");
    Ok(PrayerArchiveFile {
        prayer_id: prayer_id.to_string(),
        path,
        file_name: format!("prayer_{}_{date}.txt", name_part(prayer_id)),
        size,
        content,
        excluded_lines: excluded.lines,
    })
}
