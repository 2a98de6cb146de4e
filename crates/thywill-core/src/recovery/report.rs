//! `recovery-report`: how ready the community is for a disaster, read-only. Per table, the
//! share of the database the text archives would bring back today (test-recovery's
//! comparison), what the text cannot carry, the newest verified backup, what the archive
//! holds (by its records, not by which folders exist), and one verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::compare::{self, NotCarried, TABLES};
use super::rebuild;
use super::test_recovery::{live_database_exists, test_recovery, TestRecoveryOptions};
use crate::backup::{self, ListOptions, Location};
use crate::db::ArchiveTimeZone;
use crate::progress::Progress;
use crate::{Error, Result};

/// A verified backup older than this many hours counts as no recent backup (a day's
/// backup, with a day's slack for a run that failed once).
pub const DEFAULT_MAX_BACKUP_AGE_HOURS: u64 = 48;

/// Options of [`recovery_report`]. Deserializes from a JSON object of the fields below the
/// backup root, each optional: `{"time_zone": "utc", "max_backup_age_hours": 24, "now":
/// "2025-01-01T02:00:00"}`; the caller gives the backup root.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default = "RecoveryReportOptions::unplaced", deny_unknown_fields)]
pub struct RecoveryReportOptions {
    /// The local backup root searched for verified backups.
    #[serde(skip)]
    pub backup_root: PathBuf,
    /// The zone the archive's human timestamps were written in (default: local).
    pub time_zone: ArchiveTimeZone,
    /// Prefix of the stored `text_file_path` values (default `text_archives`).
    pub path_prefix: String,
    /// Where the scratch folder of the rebuild goes (default: the system's temp folder).
    pub scratch_dir: Option<PathBuf>,
    /// The age beyond which the newest verified backup is not recent.
    pub max_backup_age_hours: u64,
    /// "Now" for backup ages (local time; injectable for tests).
    pub now: NaiveDateTime,
}

impl RecoveryReportOptions {
    /// Defaults, looking for backups in `backup_root`, as of now.
    pub fn new(backup_root: impl Into<PathBuf>) -> Self {
        RecoveryReportOptions {
            backup_root: backup_root.into(),
            time_zone: ArchiveTimeZone::default(),
            path_prefix: rebuild::default_path_prefix(),
            scratch_dir: None,
            max_backup_age_hours: DEFAULT_MAX_BACKUP_AGE_HOURS,
            now: chrono::Local::now().naive_local(),
        }
    }

    fn unplaced() -> Self {
        RecoveryReportOptions::new(PathBuf::new())
    }
}

/// One table: how much of it the archives would bring back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityRecovery {
    /// The table.
    pub entity: String,
    /// Rows in the database.
    pub live_rows: u64,
    /// Of those, rows a rebuild from the archives has (on the fields the text carries).
    pub recoverable_rows: u64,
    /// Rows that would be lost (not back with every carried field as it is).
    pub lost_rows: u64,
    /// Of those, rows with no counterpart in the rebuild at all: a row that comes back
    /// with other values counts as lost and as added, so this is lost less added.
    pub missing_rows: u64,
    /// `recoverable_rows / live_rows`, 0 to 1; `None` for an empty table.
    pub share: Option<f64>,
    /// The text holds no row of this table at all (its loss is by design, not a defect).
    pub never_carried: bool,
    /// What of this table the text cannot carry, and why.
    pub not_carried: Vec<NotCarried>,
}

/// The newest verified backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewestBackup {
    /// The set's name.
    pub name: String,
    /// Its database file.
    pub path: String,
    /// The time in its name.
    pub timestamp: NaiveDateTime,
    /// Its age in seconds.
    pub age_seconds: i64,
}

/// The backups found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupState {
    /// The backup root searched.
    pub backup_root: PathBuf,
    /// Sets found there.
    pub sets: u64,
    /// Of those, verified (checksummed, complete, integrity-checked).
    pub verified_sets: u64,
    /// The newest verified set, if any.
    pub newest_verified: Option<NewestBackup>,
    /// It is younger than the maximum age.
    pub recent: bool,
    /// Why the root could not be listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the archive can bring back, judged by its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveCapability {
    /// Every row of every table the text can carry comes back.
    Complete,
    /// Every user and prayer comes back (and there is at least one), some rows or values
    /// not.
    Core,
    /// Users or prayers would be lost, or the archive holds none.
    Limited,
}

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// Nothing the text can carry would be lost and a recent verified backup exists.
    Ready,
    /// Recoverable, with losses or without a recent verified backup (see the reasons).
    Partial,
    /// Users or prayers (or everything) would be lost and no recent verified backup holds
    /// them.
    NotReady,
}

/// Why the verdict is not `ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadinessReasonKind {
    /// The archive folder is missing, could not be rebuilt, or holds no user and no prayer
    /// of a database that has them.
    ArchivesMissing,
    /// Users or prayers would not come back from the archives at all.
    CoreRowsWouldBeLost,
    /// Rows the text can carry would not come back, or come back with other values.
    RowsWouldBeLost,
    /// No verified backup, or the newest is older than the maximum age.
    NoRecentVerifiedBackup,
}

/// One reason, with its detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadinessReason {
    /// What.
    pub kind: ReadinessReasonKind,
    /// Which tables, how many rows, which backup.
    pub detail: String,
}

/// The result of [`recovery_report`].
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryReport {
    /// The database.
    pub database: PathBuf,
    /// The archives.
    pub archive_dir: PathBuf,
    /// Per table of ThyWill's schema, in its order.
    pub entities: Vec<EntityRecovery>,
    /// Rows of the database (all tables).
    pub live_rows: u64,
    /// Of those, rows the archives would bring back.
    pub recoverable_rows: u64,
    /// Records the archive holds, per import entity (rows a rebuild made of them).
    pub archive_records: BTreeMap<String, u64>,
    /// What the archive can bring back.
    pub capability: ArchiveCapability,
    /// The backups.
    pub backups: BackupState,
    /// The verdict.
    pub readiness: Readiness,
    /// Why it is not `ready`.
    pub reasons: Vec<ReadinessReason>,
    /// Why the archives could not be rebuilt, when they could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuild_error: Option<String>,
    /// Things worth knowing (test-recovery's warnings).
    pub warnings: Vec<String>,
    /// Wall-clock duration.
    pub duration_ms: u64,
}

/// Reports how ready the database at `db_path` is for a disaster: what the archives at
/// `archive_dir` would bring back, and the newest verified backup in
/// `options.backup_root`. Reads only; the scratch rebuild is removed. Progress: the
/// import's phases, then `compare` and `list`.
pub fn recovery_report(
    archive_dir: &Path,
    db_path: &Path,
    options: &RecoveryReportOptions,
    progress: &dyn Progress,
) -> Result<RecoveryReport> {
    crate::audit::recorded(
        db_path,
        "recovery.recovery_report",
        crate::audit::arguments([
            ("archive_dir", serde_json::json!(archive_dir)),
            ("database", serde_json::json!(db_path)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &RecoveryReport| serde_json::json!({"readiness": report.readiness, "live_rows": report.live_rows, "recoverable_rows": report.recoverable_rows}),
        || recovery_report_unrecorded(archive_dir, db_path, options, progress),
    )
}

fn recovery_report_unrecorded(
    archive_dir: &Path,
    db_path: &Path,
    options: &RecoveryReportOptions,
    progress: &dyn Progress,
) -> Result<RecoveryReport> {
    let started = Instant::now();
    let exists = live_database_exists(db_path)?;
    let test_options = TestRecoveryOptions {
        time_zone: options.time_zone,
        path_prefix: options.path_prefix.clone(),
        scratch_dir: options.scratch_dir.clone(),
        ..TestRecoveryOptions::default()
    };
    let mut warnings = Vec::new();
    let mut archive_records = BTreeMap::new();
    let mut rebuild_error = None;
    let entities: Vec<EntityRecovery> = match archive_dir
        .exists()
        .then(|| test_recovery(archive_dir, db_path, &test_options, progress))
    {
        Some(Ok(tested)) => {
            warnings = tested.warnings;
            archive_records = tested
                .import
                .entities
                .iter()
                .map(|(k, c)| (k.clone(), c.inserted + c.already_present))
                .collect();
            tested
                .comparison
                .tables
                .iter()
                .map(|t| entity(&t.table, t.live_rows, t.come_back, t.added))
                .collect()
        }
        failed => {
            // Nothing comes back: every live row is lost.
            match failed {
                Some(Err(Error::Cancelled)) => return Err(Error::Cancelled),
                Some(Err(e)) => rebuild_error = Some(e.to_string()),
                _ => {
                    rebuild_error = Some(format!(
                        "the archive folder {} does not exist",
                        archive_dir.display()
                    ))
                }
            }
            let counts = if exists {
                let conn = compare::open_live_read_only(db_path)?;
                crate::db::table_row_counts(&conn)?
            } else {
                BTreeMap::new()
            };
            TABLES
                .iter()
                .map(|s| entity(s.table, counts.get(s.table).copied().unwrap_or(0), 0, 0))
                .collect()
        }
    };
    let backups = backup_state(options, progress)?;
    let core_lost: Vec<&EntityRecovery> = entities
        .iter()
        .filter(|e| (e.entity == "user" || e.entity == "prayer") && e.missing_rows > 0)
        .collect();
    // Users and prayers that come back with some other values (flags the archive does not
    // keep) are losses of the second kind.
    let others_lost: Vec<&EntityRecovery> = entities
        .iter()
        .filter(|e| !e.never_carried && e.lost_rows > 0 && !core_lost.contains(e))
        .collect();
    let rebuilt_core = archive_records.get("users").copied().unwrap_or(0)
        + archive_records.get("prayers").copied().unwrap_or(0);
    let live_core: u64 = entities
        .iter()
        .filter(|e| e.entity == "user" || e.entity == "prayer")
        .map(|e| e.live_rows)
        .sum();
    let capability = if rebuild_error.is_some() || rebuilt_core == 0 || !core_lost.is_empty() {
        ArchiveCapability::Limited
    } else if others_lost.is_empty() {
        ArchiveCapability::Complete
    } else {
        ArchiveCapability::Core
    };
    let mut reasons = Vec::new();
    if rebuild_error.is_some() || (rebuilt_core == 0 && live_core > 0) {
        reasons.push(ReadinessReason {
            kind: ReadinessReasonKind::ArchivesMissing,
            detail: rebuild_error.clone().unwrap_or_else(|| {
                format!(
                    "{} holds no user and no prayer; the database has {live_core}",
                    archive_dir.display()
                )
            }),
        });
    }
    let losses = |list: &[&EntityRecovery]| {
        list.iter()
            .map(|e| format!("{}: {} of {}", e.entity, e.lost_rows, e.live_rows))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !core_lost.is_empty() {
        reasons.push(ReadinessReason {
            kind: ReadinessReasonKind::CoreRowsWouldBeLost,
            detail: losses(&core_lost),
        });
    }
    if !others_lost.is_empty() {
        reasons.push(ReadinessReason {
            kind: ReadinessReasonKind::RowsWouldBeLost,
            detail: losses(&others_lost),
        });
    }
    if !backups.recent {
        reasons.push(ReadinessReason {
            kind: ReadinessReasonKind::NoRecentVerifiedBackup,
            detail: match &backups.newest_verified {
                Some(b) => format!(
                    "the newest verified backup, {}, is {} hours old (more than {})",
                    b.name,
                    b.age_seconds / 3600,
                    options.max_backup_age_hours
                ),
                None => format!("no verified backup in {}", backups.backup_root.display()),
            },
        });
    }
    let has = |k: ReadinessReasonKind| reasons.iter().any(|r| r.kind == k);
    let readiness = if reasons.is_empty() {
        Readiness::Ready
    } else if has(ReadinessReasonKind::NoRecentVerifiedBackup)
        && (has(ReadinessReasonKind::ArchivesMissing)
            || has(ReadinessReasonKind::CoreRowsWouldBeLost))
    {
        Readiness::NotReady
    } else {
        Readiness::Partial
    };
    Ok(RecoveryReport {
        database: db_path.to_path_buf(),
        archive_dir: archive_dir.to_path_buf(),
        live_rows: entities.iter().map(|e| e.live_rows).sum(),
        recoverable_rows: entities.iter().map(|e| e.recoverable_rows).sum(),
        entities,
        archive_records,
        capability,
        backups,
        readiness,
        reasons,
        rebuild_error,
        warnings,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

fn entity(table: &str, live_rows: u64, come_back: u64, added: u64) -> EntityRecovery {
    let spec = compare::table_spec(table);
    let lost_rows = live_rows.saturating_sub(come_back);
    EntityRecovery {
        entity: table.to_string(),
        live_rows,
        recoverable_rows: come_back,
        lost_rows,
        missing_rows: lost_rows.saturating_sub(added),
        share: (live_rows > 0).then(|| come_back as f64 / live_rows as f64),
        never_carried: spec.is_some_and(|s| s.whole_table_not_carried()),
        not_carried: spec.map(|s| s.not_carried.to_vec()).unwrap_or_default(),
    }
}

/// The local sets of the backup root and the newest verified one. A root that cannot be
/// listed is reported (as no backup), not an error: the report is about readiness.
fn backup_state(options: &RecoveryReportOptions, progress: &dyn Progress) -> Result<BackupState> {
    let mut list_options = ListOptions::new(&options.backup_root);
    list_options.now = options.now;
    let mut state = BackupState {
        backup_root: options.backup_root.clone(),
        sets: 0,
        verified_sets: 0,
        newest_verified: None,
        recent: false,
        error: None,
    };
    let listed = match backup::list(&list_options, &[], progress) {
        Ok(l) => l,
        Err(Error::Cancelled) => return Err(Error::Cancelled),
        Err(e) => {
            state.error = Some(e.to_string());
            return Ok(state);
        }
    };
    let local: Vec<_> = listed
        .entries
        .into_iter()
        .filter(|e| e.location == Location::Local)
        .collect();
    state.sets = local.len() as u64;
    state.verified_sets = local.iter().filter(|e| e.verified).count() as u64;
    state.newest_verified = local
        .iter()
        .filter(|e| e.verified)
        .max_by_key(|e| e.timestamp)
        .map(|e| NewestBackup {
            name: e.name.clone(),
            path: e.path.clone(),
            timestamp: e.timestamp,
            age_seconds: e.age_seconds,
        });
    let max = i64::try_from(options.max_backup_age_hours.saturating_mul(3600)).unwrap_or(i64::MAX);
    state.recent = state
        .newest_verified
        .as_ref()
        .is_some_and(|b| b.age_seconds <= max);
    Ok(state)
}
