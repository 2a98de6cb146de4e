//! A user's archive metadata, in the shape of ThyWill's `get_user_archive_metadata`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::user::{find_user, user_marks, user_prayers};
use super::{default_path_prefix, open_database, resolve_stored_file};
use crate::db::encode::parse_datetime;
use crate::pycompat::datetime::py_isoformat;
use crate::Result;

/// Options of [`get_user_archive_metadata`]. Deserializes from a JSON object of these
/// fields, each optional.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetadataOptions {
    /// What stored relative paths start with (default `text_archives`).
    pub path_prefix: String,
}

impl Default for MetadataOptions {
    fn default() -> Self {
        MetadataOptions {
            path_prefix: default_path_prefix(),
        }
    }
}

/// ThyWill's metadata document of one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserArchiveMetadata {
    /// The user.
    pub user: UserInfo,
    /// Their prayers.
    pub prayers: Vec<PrayerInfo>,
    /// Their marks.
    pub activities: Vec<ActivityInfo>,
    /// Counts and dates.
    pub archive_statistics: ArchiveStatistics,
}

/// The user part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// The display name (ThyWill's `id`).
    pub id: String,
    /// The display name.
    pub display_name: String,
    /// `created_at`, ISO 8601.
    pub registration_date: Option<String>,
    /// The registration file relative to the archive root, when it is inside it (ThyWill
    /// showed the raw stored value, a server path).
    pub text_file_path: Option<String>,
}

/// One prayer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrayerInfo {
    /// The prayer id.
    pub id: String,
    /// `created_at`, ISO 8601.
    pub created_at: Option<String>,
    /// The project tag.
    pub project_tag: Option<String>,
    /// The archive file relative to the archive root, when it is inside it.
    pub text_file_path: Option<String>,
    /// Whether the archive file exists inside the root; `null` when there is no path.
    pub archive_exists: Option<bool>,
}

/// One mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityInfo {
    /// The prayer marked.
    pub prayer_id: String,
    /// When, ISO 8601.
    pub created_at: Option<String>,
    /// The archive file relative to the archive root, when it is inside it.
    pub text_file_path: Option<String>,
    /// Whether it exists inside the root; `null` when there is no path.
    pub archive_exists: Option<bool>,
}

/// Counts and the date range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveStatistics {
    /// Prayers written.
    pub total_prayers: u64,
    /// Marks made.
    pub total_activities: u64,
    /// Earliest and latest prayer or mark.
    pub date_range: DateRange,
    /// Archive files of the user's own that exist (prayers and registration; ThyWill
    /// always said 0).
    pub total_archive_files: u64,
}

/// Earliest and latest, ISO 8601.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DateRange {
    /// The earliest.
    pub earliest: Option<String>,
    /// The latest.
    pub latest: Option<String>,
}

/// The metadata of the user `name`: their prayers and marks with their archive files
/// (confined to the archive root and shown relative to it), counts and dates.
pub fn get_user_archive_metadata(
    database: &Path,
    archive_root: &Path,
    name: &str,
    options: &MetadataOptions,
) -> Result<UserArchiveMetadata> {
    crate::audit::recorded(
        database,
        "download.user_metadata",
        crate::audit::arguments([
            ("database", serde_json::json!(database)),
            ("archive_root", serde_json::json!(archive_root)),
            ("user", serde_json::json!(name)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &UserArchiveMetadata| serde_json::json!({"prayers": report.prayers.len(), "activities": report.activities.len()}),
        || get_user_archive_metadata_unrecorded(database, archive_root, name, options),
    )
}

fn get_user_archive_metadata_unrecorded(
    database: &Path,
    archive_root: &Path,
    name: &str,
    options: &MetadataOptions,
) -> Result<UserArchiveMetadata> {
    let conn = open_database(database)?;
    let user = find_user(&conn, name)?;
    let prayers = user_prayers(&conn, name)?;
    let marks = user_marks(&conn, name)?;
    drop(conn);
    let locate = |stored: &Option<String>| -> (Option<String>, Option<bool>) {
        let Some(stored) = stored.as_deref().filter(|s| !s.is_empty()) else {
            return (None, None);
        };
        match resolve_stored_file(archive_root, stored, &options.path_prefix) {
            Ok(path) => {
                let shown = archive_root.canonicalize().ok().and_then(|root| {
                    path.strip_prefix(root)
                        .ok()
                        .map(|p| p.to_string_lossy().into_owned())
                });
                (shown, Some(true))
            }
            Err(_) => (None, Some(false)),
        }
    };
    let iso = |text: &str| parse_datetime(text).ok().map(|t| py_isoformat(&t));
    let mut dates = Vec::new();
    let mut files = 0u64;
    let (user_path, user_exists) = locate(&user.text_file_path);
    if user_exists == Some(true) {
        files += 1;
    }
    let prayers: Vec<PrayerInfo> = prayers
        .iter()
        .map(|p| {
            let (text_file_path, archive_exists) = locate(&p.text_file_path);
            if archive_exists == Some(true) {
                files += 1;
            }
            dates.extend(parse_datetime(&p.created_at).ok());
            PrayerInfo {
                id: p.id.clone(),
                created_at: iso(&p.created_at),
                project_tag: p.project_tag.clone(),
                text_file_path,
                archive_exists,
            }
        })
        .collect();
    let activities: Vec<ActivityInfo> = marks
        .iter()
        .map(|m| {
            let (text_file_path, archive_exists) = locate(&m.text_file_path);
            dates.extend(parse_datetime(&m.created_at).ok());
            ActivityInfo {
                prayer_id: m.prayer_id.clone(),
                created_at: iso(&m.created_at),
                text_file_path,
                archive_exists,
            }
        })
        .collect();
    Ok(UserArchiveMetadata {
        user: UserInfo {
            id: user.display_name.clone(),
            display_name: user.display_name.clone(),
            registration_date: iso(&user.created_at),
            text_file_path: user_path,
        },
        archive_statistics: ArchiveStatistics {
            total_prayers: prayers.len() as u64,
            total_activities: activities.len() as u64,
            date_range: DateRange {
                earliest: dates.iter().min().map(py_isoformat),
                latest: dates.iter().max().map(py_isoformat),
            },
            total_archive_files: files,
        },
        prayers,
        activities,
    })
}
