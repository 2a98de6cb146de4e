//! A user's ZIP: their registration, their prayers, their prayer activity and, when asked,
//! the community's monthly logs, in ThyWill's `<name>_text_archive/` layout.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDateTime;
use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;

use super::community::{
    pending_path, prepare_community_file, CommunityFile, CommunityWalk, Prepared, Walked,
};
use super::privacy::Privacy;
use super::{
    default_path_prefix, name_part, open_database, resolve_stored_file, write_err,
    DownloadZipReport, EntryKind, Excluded, PendingZip, SkippedPath,
};
use crate::archive::users::UserRegistration;
use crate::db::encode::parse_datetime;
use crate::progress::{self, Progress};
use crate::pycompat::datetime::py_datetime_str;
use crate::{Error, Result};

/// Options of [`create_user_archive_zip`]. Deserializes from a JSON object of these fields,
/// each optional.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserZipOptions {
    /// Add the community's monthly activity logs and registration files under
    /// `community/` (ThyWill's default: true), under the community ZIP's privacy rules.
    pub include_community: bool,
    /// Where to write the ZIP (default: `<archive root>/downloads/<its name>`).
    pub out: Option<PathBuf>,
    /// The local time of the export: the name's date and every entry's timestamp
    /// (default: now).
    pub now: Option<NaiveDateTime>,
    /// Deflate level 0–9 (default: zlib's 6, as ThyWill's `zipfile`).
    pub compression_level: Option<i64>,
    /// What stored relative paths start with (default `text_archives`).
    pub path_prefix: String,
}

impl Default for UserZipOptions {
    fn default() -> Self {
        UserZipOptions {
            include_community: true,
            out: None,
            now: None,
            compression_level: None,
            path_prefix: default_path_prefix(),
        }
    }
}

/// The user row the downloads need.
pub(crate) struct UserRow {
    pub(crate) display_name: String,
    pub(crate) created_at: String,
    pub(crate) text_file_path: Option<String>,
}

/// Looks a user up by display name; unknown names are not-found.
pub(crate) fn find_user(conn: &Connection, name: &str) -> Result<UserRow> {
    conn.query_row(
        "SELECT display_name, created_at, text_file_path FROM user WHERE display_name = ?1",
        [name],
        |r| {
            Ok(UserRow {
                display_name: r.get(0)?,
                created_at: r.get(1)?,
                text_file_path: r.get(2)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::NotFound {
        what: format!("user {name:?}"),
    })
}

/// One of the user's prayers.
pub(crate) struct PrayerRow {
    pub(crate) id: String,
    pub(crate) created_at: String,
    pub(crate) project_tag: Option<String>,
    pub(crate) text_file_path: Option<String>,
}

/// The prayers `name` wrote, in the order ThyWill's query returns them (table order).
pub(crate) fn user_prayers(conn: &Connection, name: &str) -> Result<Vec<PrayerRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, created_at, project_tag, text_file_path FROM prayer \
         WHERE author_username = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map([name], |r| {
        Ok(PrayerRow {
            id: r.get(0)?,
            created_at: r.get(1)?,
            project_tag: r.get(2)?,
            text_file_path: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// One of the user's marks.
pub(crate) struct MarkRow {
    pub(crate) prayer_id: String,
    pub(crate) created_at: String,
    pub(crate) text_file_path: Option<String>,
}

/// The marks `name` made, in table order.
pub(crate) fn user_marks(conn: &Connection, name: &str) -> Result<Vec<MarkRow>> {
    let has_path = crate::db::table_columns(conn, "prayermark")?
        .iter()
        .any(|c| c == "text_file_path");
    let sql = if has_path {
        "SELECT prayer_id, created_at, text_file_path FROM prayermark WHERE username = ?1 ORDER BY rowid"
    } else {
        "SELECT prayer_id, created_at, NULL FROM prayermark WHERE username = ?1 ORDER BY rowid"
    };
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([name], |r| {
        Ok(MarkRow {
            prayer_id: r.get(0)?,
            created_at: r.get(1)?,
            text_file_path: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Writes the archive of the user `name` as ThyWill's `<name>_archive_<YYYY_MM_DD>.zip`,
/// entries under `<name>_text_archive/`: `personal/registration.txt` (the user's own
/// registration line), `prayers/prayer_<id>_<YYYY_MM_DD>.txt` (each of their prayers with
/// its activity), `activities/my_prayer_activities.txt` and, with `include_community`,
/// `community/activity/` and `community/users/`. The name is made safe (no separators, no
/// `..`, no control characters) in both places. Every stored path is confined to the
/// archive root; refused or missing ones are reported, not copied.
///
/// Progress phase `files` (entries written).
pub fn create_user_archive_zip(
    database: &Path,
    archive_root: &Path,
    name: &str,
    options: &UserZipOptions,
    progress: &dyn Progress,
) -> Result<DownloadZipReport> {
    crate::audit::recorded(
        database,
        "download.user_zip",
        crate::audit::arguments([
            ("database", serde_json::json!(database)),
            ("archive_root", serde_json::json!(archive_root)),
            ("user", serde_json::json!(name)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &DownloadZipReport| serde_json::json!({"entries": report.entry_count, "bytes": report.bytes}),
        || create_user_archive_zip_unrecorded(database, archive_root, name, options, progress),
    )
}

fn create_user_archive_zip_unrecorded(
    database: &Path,
    archive_root: &Path,
    name: &str,
    options: &UserZipOptions,
    progress: &dyn Progress,
) -> Result<DownloadZipReport> {
    let started = Instant::now();
    if !archive_root.is_dir() {
        return Err(Error::NotFound {
            what: format!("archive folder {}", archive_root.display()),
        });
    }
    let conn = open_database(database)?;
    let user = find_user(&conn, name)?;
    let prayers = user_prayers(&conn, name)?;
    let marks = user_marks(&conn, name)?;
    let privacy = Privacy::load(&conn, false)?;
    drop(conn);
    let now = options
        .now
        .unwrap_or_else(|| chrono::Local::now().naive_local());
    let safe = name_part(&user.display_name);
    let file_name = format!("{safe}_archive_{}.zip", now.format("%Y_%m_%d"));
    let folder = format!("{safe}_text_archive");
    let mut skipped = Vec::new();
    let mut excluded = Excluded::default();

    // Every entry as (name, what to write), sorted by name before writing.
    enum Source {
        Bytes(Vec<u8>),
        OwnPrayer(PathBuf),
        Community(PathBuf, CommunityFile),
    }
    let mut planned: BTreeMap<String, Source> = BTreeMap::new();
    if let Some(stored) = user.text_file_path.as_deref().filter(|s| !s.is_empty()) {
        match resolve_stored_file(archive_root, stored, &options.path_prefix) {
            Ok(path) => {
                planned.insert(
                    format!("{folder}/personal/registration.txt"),
                    Source::Bytes(registration_text(&user, &path).into_bytes()),
                );
            }
            Err(e) => skipped.push(SkippedPath {
                owner: format!("registration of {}", user.display_name),
                stored: stored.to_string(),
                reason: e.to_string(),
            }),
        }
    }
    for prayer in &prayers {
        let Some(stored) = prayer.text_file_path.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        match resolve_stored_file(archive_root, stored, &options.path_prefix) {
            Ok(path) => {
                let date = parse_datetime(&prayer.created_at)?.format("%Y_%m_%d");
                planned.insert(
                    format!(
                        "{folder}/prayers/prayer_{}_{date}.txt",
                        name_part(&prayer.id)
                    ),
                    Source::OwnPrayer(path),
                );
            }
            Err(e) => skipped.push(SkippedPath {
                owner: format!("prayer {}", prayer.id),
                stored: stored.to_string(),
                reason: e.to_string(),
            }),
        }
    }
    planned.insert(
        format!("{folder}/activities/my_prayer_activities.txt"),
        Source::Bytes(activity_summary(&user.display_name, &marks)?.into_bytes()),
    );
    if options.include_community {
        // Only the top-level files of activity/ and users/ are copied here, so only those
        // folders are walked.
        for walked in CommunityWalk::new(archive_root, &["activity", "users"], &[], &privacy) {
            let (rel, Walked::File(path, kind)) = walked? else {
                continue;
            };
            let flat = match kind {
                CommunityFile::ActivityLog => {
                    rel.strip_prefix("activity/").map(|n| ("activity", n))
                }
                CommunityFile::Registrations => rel.strip_prefix("users/").map(|n| ("users", n)),
                _ => None,
            };
            if let Some((dir, file)) = flat {
                planned.insert(
                    format!("{folder}/community/{dir}/{file}"),
                    Source::Community(path, kind),
                );
            }
        }
        // What the rules left out of those folders' top level counts.
        for dir in ["activity", "users"] {
            let Ok(read) = fs::read_dir(archive_root.join(dir)) else {
                continue;
            };
            excluded.files += read
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.ends_with(".txt")
                        && !planned.contains_key(&format!("{folder}/community/{dir}/{n}"))
                })
                .count() as u64;
        }
    }

    let mut pending = PendingZip::start(
        archive_root,
        &file_name,
        options.out.as_deref(),
        &now,
        options.compression_level,
    )?;
    let zip_path = pending_path(&options.out, archive_root, &file_name);
    let total = planned.len() as u64;
    let mut buffer = Vec::new();
    for (i, (entry, source)) in planned.into_iter().enumerate() {
        match source {
            Source::Bytes(bytes) => pending
                .entry(&entry, EntryKind::Generated)?
                .write_all(&bytes)
                .map_err(write_err(&zip_path))?,
            Source::OwnPrayer(path) => {
                let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
                let text = String::from_utf8_lossy(&bytes);
                let out = pending.entry(&entry, EntryKind::PrayerFile)?;
                Privacy::copy_own_prayer(&text, out, &mut excluded)
                    .map_err(write_err(&zip_path))?;
            }
            Source::Community(path, kind) => {
                match prepare_community_file(&path, kind, &privacy, &mut buffer, &mut excluded)? {
                    Prepared::Skipped => {}
                    Prepared::Filtered => pending
                        .entry(&entry, kind.entry_kind())?
                        .write_all(&buffer)
                        .map_err(write_err(&zip_path))?,
                    Prepared::Verbatim(mut f) => {
                        let out = pending.entry(&entry, kind.entry_kind())?;
                        std::io::copy(&mut f, out).map_err(write_err(&zip_path))?;
                    }
                }
            }
        }
        progress::report(progress, "files", i as u64 + 1, Some(total))?;
    }
    let (path, bytes, entries) = pending.commit()?;
    Ok(DownloadZipReport {
        path,
        file_name,
        entry_count: entries.count,
        entry_kinds: entries.kinds,
        first_entries: entries.first,
        bytes,
        excluded,
        skipped_paths: skipped,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// `personal/registration.txt`: the user's own registration lines of the monthly file
/// (ThyWill took every line containing the name anywhere, other users' included).
fn registration_text(user: &UserRow, path: &Path) -> String {
    let registered = parse_datetime(&user.created_at)
        .map(|t| py_datetime_str(&t))
        .unwrap_or_else(|_| user.created_at.clone());
    let Ok(bytes) = fs::read(path) else {
        return format!(
            "User: {}\nRegistered: {registered}\nArchive file could not be read",
            user.display_name
        );
    };
    let Ok(content) = String::from_utf8(bytes) else {
        return format!(
            "User: {}\nRegistered: {registered}\nArchive file could not be read",
            user.display_name
        );
    };
    let lines: Vec<&str> = content
        .split('\n')
        .filter(|line| {
            UserRegistration::parse_line(line).is_ok_and(|r| r.name == user.display_name)
        })
        .collect();
    if lines.is_empty() {
        format!(
            "User: {}\nRegistered: {registered}\nDetails not found in archive",
            user.display_name
        )
    } else {
        format!("User Registration Information:\n\n{}", lines.join("\n"))
    }
}

/// `activities/my_prayer_activities.txt`, as ThyWill writes it: marks grouped by day, the
/// days in the order of their text (`%B %d %Y` sorted as strings, a kept quirk), the
/// marks of a day in table order.
fn activity_summary(name: &str, marks: &[MarkRow]) -> Result<String> {
    let mut content = format!("Prayer Activities for {name}\n{}\n\n", "=".repeat(50));
    if marks.is_empty() {
        content.push_str("No prayer activities found.\n");
        return Ok(content);
    }
    let mut by_day: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for mark in marks {
        let t = parse_datetime(&mark.created_at)?;
        by_day
            .entry(t.format("%B %d %Y").to_string())
            .or_default()
            .push(format!(
                "{} - Prayed for prayer {}",
                t.format("%H:%M"),
                mark.prayer_id
            ));
    }
    for (day, lines) in by_day {
        content.push_str(&day);
        content.push('\n');
        for line in lines {
            content.push_str(&line);
            content.push('\n');
        }
        content.push('\n');
    }
    Ok(content)
}
