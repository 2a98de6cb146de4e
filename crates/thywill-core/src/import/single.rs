//! `thywill import prayer <file> [--dry-run] [--update-existing]`, with
//! ThyWill's defects fixed: prayers without a generated prayer are accepted,
//! `text_file_path` is stored in ThyWill's project-relative form rather than as typed,
//! and activities produce the same rows as the text-archive import (including
//! `answer_date` and `answer_testimony`), matched by minute with multiplicity.

use std::collections::HashSet;
use std::path::{Component, Path};

use chrono::NaiveDateTime;
use rusqlite::{params, Connection};

use super::activity::{ActivityImport, PrayerTarget};
use super::report::{issue, Entity, ImportReport};
use super::runner::{ensure_lookup_indexes, ensure_schema, PhaseRunner};
use super::store::{find_prayer, insert_prayer_doc, insert_user, user_exists, NewUser};
use super::text_archives::{salvage, salvageable, time_from_file_name, truncation_failure};
use crate::archive::fileops::read_regular_file;
use crate::archive::layout::pathlib_str;
use crate::archive::prayer;
use crate::db::{ArchiveTimeZone, Database, IdGenerator};
use crate::progress::{report as progress_report, Progress};
use crate::Result;

/// Options of a single prayer import. Deserializes from a JSON object of these fields, each
/// optional (the C API's options document).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrayerFileOptions {
    /// Do everything in a transaction that is rolled back.
    pub dry_run: bool,
    /// Overwrite the text, generated prayer and project tag of an existing prayer.
    pub update_existing: bool,
    /// The zone of the file's human timestamps (default: local).
    pub time_zone: ArchiveTimeZone,
    /// Prefix of stored `text_file_path` values (default `text_archives`).
    pub path_prefix: String,
}

impl Default for PrayerFileOptions {
    fn default() -> Self {
        PrayerFileOptions {
            dry_run: false,
            update_existing: false,
            time_zone: ArchiveTimeZone::Local,
            path_prefix: "text_archives".into(),
        }
    }
}

/// Imports one prayer file into the database at `db_path`. The file is read before the
/// database is opened: a missing or unreadable file creates no database.
pub fn import_prayer_file(
    file: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    options: &PrayerFileOptions,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let (file, db_path) = (file.as_ref(), db_path.as_ref());
    crate::audit::recorded(
        db_path,
        "import.prayer_file",
        crate::audit::arguments([
            ("file", serde_json::json!(file)),
            ("database", serde_json::json!(db_path)),
            ("options", serde_json::json!(options)),
        ]),
        crate::import::report::import_audit_counts,
        || import_prayer_file_unrecorded(file, db_path, options, progress),
    )
}

fn import_prayer_file_unrecorded(
    file: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    options: &PrayerFileOptions,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let file = file.as_ref();
    let bytes = read_regular_file(file)?;
    super::with_target(db_path.as_ref(), options.dry_run, |db| {
        import_prayer_bytes(file, &bytes, db, options, progress)
    })
}

/// Imports the bytes of the prayer file `file`.
fn import_prayer_bytes(
    file: &Path,
    bytes: &[u8],
    db: &Database,
    options: &PrayerFileOptions,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let given = file.display().to_string();
    let database = super::database_label(db);
    let mut report = ImportReport::new("prayer_file", &given, &database, options.dry_run);
    for e in [
        Entity::Prayers,
        Entity::PrayerMarks,
        Entity::PrayerAttributes,
        Entity::ActivityLogs,
    ] {
        report.counts_mut(e);
    }
    let (mut doc, diagnostics, cut) = prayer::parse_bytes_judged(bytes, Some(file));
    for d in &diagnostics {
        report.note(issue(
            Entity::Prayers,
            &given,
            (d.line > 0).then_some(d.line as u64),
            d.reason.clone(),
        ));
    }
    if doc.fragment || doc.id.is_empty() || doc.author.is_empty() {
        report.fail(issue(
            Entity::Prayers,
            &given,
            Some(1),
            "not a prayer file: the first line must be `Prayer <id> by <author>`",
        ));
        return Ok(report);
    }
    if let Some(cut) = cut {
        let (entity, reason) = truncation_failure(cut, &doc.id);
        report.fail(issue(entity, &given, Some(cut.line as u64), reason));
        if !salvageable(cut) {
            return Ok(report);
        }
        salvage(&mut doc, Some(cut));
    }
    if super::validate::refuse_prayer(&doc, Path::new(""), &given, &mut report) {
        return Ok(report);
    }
    // A path that is not UTF-8 cannot be stored as one ThyWill could open.
    let stored = file
        .to_str()
        .map(|_| stored_prayer_path(file, &options.path_prefix));
    if stored.is_none() {
        report.note(issue(
            Entity::Prayers,
            &given,
            None,
            "file name is not valid UTF-8: prayer imported without a text_file_path",
        ));
    }
    let Some(created) = doc
        .created_at()
        .or_else(|| time_from_file_name(&file.to_string_lossy()))
    else {
        report.fail(issue(
            Entity::Prayers,
            &given,
            Some(2),
            format!("unreadable `Submitted` time {:?}", doc.submitted.text),
        ));
        return Ok(report);
    };
    progress_report(progress, "prayer", 0, Some(1))?;
    let ids = IdGenerator::new();
    let runner = PhaseRunner::begin(db.connection(), options.dry_run)?;
    runner.phase(|conn| {
        ensure_schema(conn, &ids)?;
        ensure_lookup_indexes(conn)?;
        let path = match find_prayer(conn, &doc.id)? {
            None => {
                ensure_user(conn, &doc.author, &created, &mut report)?;
                insert_prayer_doc(conn, &doc, created, stored.as_deref())?;
                report.counts_mut(Entity::Prayers).inserted += 1;
                stored.clone()
            }
            Some(existing) => {
                let differs = existing.text != doc.text
                    || existing.generated_prayer != doc.generated_prayer
                    || existing.project_tag != doc.project_tag
                    || (existing.text_file_path.is_none() && stored.is_some());
                // Never from a truncated file: what it holds is not the whole prayer.
                if options.update_existing && differs && cut.is_none() {
                    conn.execute(
                        "UPDATE prayer SET text = ?1, generated_prayer = ?2, project_tag = ?3, \
                         text_file_path = coalesce(?4, text_file_path) WHERE id = ?5",
                        params![
                            doc.text,
                            doc.generated_prayer,
                            doc.project_tag,
                            stored,
                            doc.id
                        ],
                    )?;
                    report.counts_mut(Entity::Prayers).updated += 1;
                    stored.clone().or(existing.text_file_path)
                } else {
                    if differs && cut.is_none() {
                        report.note(issue(
                            Entity::Prayers,
                            &given,
                            Some(1),
                            format!(
                                "prayer {} differs from the database; kept (use --update-existing to overwrite)",
                                doc.id
                            ),
                        ));
                    }
                    report.counts_mut(Entity::Prayers).already_present += 1;
                    existing.text_file_path.or_else(|| stored.clone())
                }
            }
        };
        let mut activity = ActivityImport::new(conn, &ids, options.time_zone)?;
        let mut known: HashSet<String> = HashSet::new();
        let mut ensure = |name: &str, at: &NaiveDateTime, report: &mut ImportReport| {
            if known.contains(name) {
                return Ok(());
            }
            ensure_user(conn, name, at, report)?;
            known.insert(name.to_string());
            Ok(())
        };
        let target = PrayerTarget {
            prayer_id: &doc.id,
            prayer_path: path.as_deref(),
            file: &given,
            known_empty: false,
        };
        activity.apply(&target, &doc.activities, None, &mut report, &mut ensure)
    })?;
    runner.finish()?;
    // Committed: a stop request now would report `Cancelled` for a prayer that is in.
    crate::progress::report_without_stopping(progress, "prayer", 1, Some(1));
    Ok(report)
}

fn ensure_user(
    conn: &Connection,
    name: &str,
    at: &NaiveDateTime,
    report: &mut ImportReport,
) -> Result<()> {
    if !user_exists(conn, name)? {
        insert_user(
            conn,
            &NewUser {
                display_name: name,
                created_at: *at,
                invited_by_username: None,
                text_file_path: None,
            },
        )?;
        report.counts_mut(Entity::Users).inserted += 1;
    }
    Ok(())
}

/// The `text_file_path` ThyWill would store for this file: `<prefix>/prayers/Y/M/<name>`
/// when the path ends that way (wherever the archive folder is), else the path as given
/// in pathlib form.
pub(crate) fn stored_prayer_path(file: &Path, prefix: &str) -> String {
    let parts: Vec<String> = file
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if parts.len() >= 4 {
        let tail = &parts[parts.len() - 4..];
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if tail[0] == "prayers" && digits(&tail[1]) && digits(&tail[2]) {
            return pathlib_str(&format!("{prefix}/{}", tail.join("/")));
        }
    }
    pathlib_str(&file.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_paths_are_project_relative() {
        let p = Path::new("/srv/x/text_archives/prayers/2024/01/2024_01_01_prayer_at_0719.txt");
        assert_eq!(
            stored_prayer_path(p, "text_archives"),
            "text_archives/prayers/2024/01/2024_01_01_prayer_at_0719.txt"
        );
        assert_eq!(
            stored_prayer_path(Path::new("./loose.txt"), "text_archives"),
            "loose.txt"
        );
    }
}
