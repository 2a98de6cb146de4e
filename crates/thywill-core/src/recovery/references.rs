//! Archive references repaired: each prayer without a stored `text_file_path` is pointed
//! at its prayer file when the archive has one (ThyWill's
//! `TextImporterService.repair_missing_archive_references`).
//!
//! A prayer's file is the one whose title line names the prayer, found by parsing the
//! archive as heal and validate find it (any month folder, the first by path when several
//! name it), not only in the month folder of `created_at` as ThyWill looked. Only the
//! stored path is written; a prayer without a file is left as it is and reported (heal
//! writes its file). Planned in one read, then applied in one write transaction whose
//! updates only touch rows still without a path; a dry run reports the plan.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::heal::{open_database, stored_of, table_exists, ArchiveScan};
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// Options of [`repair_archive_references`]. Deserializes from a JSON object of these
/// fields, each optional (the C options document).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepairReferencesOptions {
    /// Plan and report, write nothing.
    pub dry_run: bool,
    /// Prefix of the stored `text_file_path` values, relative to ThyWill's project folder
    /// (default `text_archives`): a file `prayers/…` is stored as `text_archives/prayers/…`.
    pub path_prefix: String,
}

impl Default for RepairReferencesOptions {
    fn default() -> Self {
        RepairReferencesOptions {
            dry_run: false,
            path_prefix: "text_archives".into(),
        }
    }
}

/// One prayer pointed at its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceRepair {
    /// The prayer's id.
    pub prayer_id: String,
    /// The file, relative to the archive root.
    pub file: String,
    /// The `text_file_path` stored (the prefix joined with `file`).
    pub stored: String,
}

/// The result of [`repair_archive_references`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairReferencesReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// The database.
    pub database: PathBuf,
    /// The archive root.
    pub archive_root: PathBuf,
    /// Prayers without a stored `text_file_path` (NULL or empty).
    pub prayers_without_path: u64,
    /// The prayers whose path was (or, dry, would be) set, in the database's order.
    pub repaired: Vec<ReferenceRepair>,
    /// Prayers without a path that no file of the archive names: left as they are.
    pub without_file: Vec<String>,
    /// Remarks: names that are not UTF-8, a path another writer set during the run.
    pub notes: Vec<String>,
}

impl RepairReferencesReport {
    /// Whether the run wrote (or, dry, would write) anything.
    pub fn changed_anything(&self) -> bool {
        !self.repaired.is_empty()
    }
}

/// Sets `text_file_path` of each prayer of the database at `db_path` that has none to the
/// file of the archive at `archive_root` whose title names the prayer (see the module
/// documentation). Idempotent: a second run repairs nothing.
pub fn repair_archive_references(
    db_path: impl AsRef<Path>,
    archive_root: impl AsRef<Path>,
    options: &RepairReferencesOptions,
    progress: &dyn Progress,
) -> Result<RepairReferencesReport> {
    crate::audit::recorded(
        db_path.as_ref(),
        "recovery.repair_archive_references",
        crate::audit::arguments([
            ("database", serde_json::json!(db_path.as_ref())),
            ("archive_root", serde_json::json!(archive_root.as_ref())),
            ("options", serde_json::json!(options)),
        ]),
        |report: &RepairReferencesReport| {
            serde_json::json!({
                "dry_run": report.dry_run,
                "repaired": report.repaired.len(),
                "without_file": report.without_file.len(),
            })
        },
        || repair_unrecorded(db_path.as_ref(), archive_root.as_ref(), options, progress),
    )
}

/// The condition of a prayer "without a path", in the plan's read and the apply's update.
const WITHOUT_PATH: &str = "(text_file_path IS NULL OR text_file_path = '')";

fn repair_unrecorded(
    db_path: &Path,
    root: &Path,
    options: &RepairReferencesOptions,
    progress: &dyn Progress,
) -> Result<RepairReferencesReport> {
    if !root.is_dir() {
        return Err(Error::NotFound {
            what: format!("archive folder {}", root.display()),
        });
    }
    let db = open_database(db_path, options.dry_run)?;
    let unlinked: Vec<String> = if table_exists(db.connection(), "prayer")? {
        let mut stmt = db.connection().prepare(&format!(
            "SELECT id FROM prayer WHERE {WITHOUT_PATH} ORDER BY created_at, rowid"
        ))?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        ids.collect::<std::result::Result<_, _>>()?
    } else {
        Vec::new()
    };
    let mut scan = ArchiveScan::default();
    if !unlinked.is_empty() {
        scan.read_prayer_files(root, progress)?;
    }
    let mut report = RepairReferencesReport {
        dry_run: options.dry_run,
        database: db_path.to_path_buf(),
        archive_root: root.to_path_buf(),
        prayers_without_path: unlinked.len() as u64,
        repaired: Vec::new(),
        without_file: Vec::new(),
        notes: std::mem::take(&mut scan.notes),
    };
    for id in unlinked {
        match scan.files_by_id.get(&id).and_then(|files| files.first()) {
            Some(file) => report.repaired.push(ReferenceRepair {
                stored: stored_of(file, &options.path_prefix),
                file: file.clone(),
                prayer_id: id,
            }),
            None => report.without_file.push(id),
        }
    }
    if options.dry_run || report.repaired.is_empty() {
        return Ok(report);
    }
    let total = report.repaired.len() as u64;
    let untouched = db.write_phase(|conn| {
        let mut update = conn.prepare(&format!(
            "UPDATE prayer SET text_file_path = ?1 WHERE id = ?2 AND {WITHOUT_PATH}"
        ))?;
        let mut untouched = Vec::new();
        for (n, repair) in report.repaired.iter().enumerate() {
            if n.is_multiple_of(256) {
                progress::report(progress, "repair references", n as u64, Some(total))?;
            }
            if update.execute([&repair.stored, &repair.prayer_id])? == 0 {
                untouched.push(repair.prayer_id.clone());
            }
        }
        Ok(untouched)
    })?;
    // Another writer (the app) set these paths between the plan and the update: its value
    // is kept, and the report says so rather than counting them as repaired.
    for id in untouched {
        report.notes.push(format!(
            "prayer {id}: its text_file_path was set meanwhile; kept"
        ));
        report.repaired.retain(|r| r.prayer_id != id);
    }
    progress::report(progress, "repair references", total, Some(total))?;
    Ok(report)
}
