//! One prayer's archive file, for the prayer-file route.

use std::path::{Path, PathBuf};

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::privacy::Privacy;
use super::{default_path_prefix, name_part, open_database, resolve_stored_file};
use crate::db::encode::parse_datetime;
use crate::{Error, Result};

/// Options of [`prayer_archive_file`]. Deserializes from a JSON object of these fields,
/// each optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrayerArchiveFileOptions {
    /// Serve a flagged prayer's file too (for its author or a moderator; the caller
    /// decides). Default false: a flagged prayer's file is refused.
    pub include_flagged: bool,
    /// What stored relative paths start with (default `text_archives`).
    pub path_prefix: String,
}

impl Default for PrayerArchiveFileOptions {
    fn default() -> Self {
        PrayerArchiveFileOptions {
            include_flagged: false,
            path_prefix: default_path_prefix(),
        }
    }
}

/// Where a prayer's archive file is, ready to be streamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrayerArchiveFile {
    /// The prayer.
    pub prayer_id: String,
    /// The file, resolved (symbolic links followed) and inside the archive root.
    pub path: PathBuf,
    /// ThyWill's download name, `prayer_<id>_<YYYY_MM_DD>.txt`.
    pub file_name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The archive file of the prayer `prayer_id`. Not found: no such prayer, no stored path,
/// no file. Permission: the stored path leaves the archive root (absolute elsewhere, `..`,
/// a symbolic link out), or the prayer is flagged and `include_flagged` is off.
pub fn prayer_archive_file(
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
    let size = std::fs::metadata(&path)
        .map_err(|e| Error::io(&path, e))?
        .len();
    let date = parse_datetime(&created_at)?.format("%Y_%m_%d");
    Ok(PrayerArchiveFile {
        prayer_id: prayer_id.to_string(),
        path,
        file_name: format!("prayer_{}_{date}.txt", name_part(prayer_id)),
        size,
    })
}
