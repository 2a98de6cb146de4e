//! `validate-consistency`: the text archives against the database, field by field, per
//! entity, with ThyWill's consistency statistics and score.
//!
//! The archives are rebuilt into a scratch database by the importer (the rebuild
//! test-recovery uses) and each table is compared with the live one on the fields the text
//! carries ([`super::compare::TABLES`]), pairing the rows of both sides by what identifies
//! a record (a prayer's id, a user's name, a mark's prayer, user and minute): a record is
//! equal, differs in some fields, or is on one side only. What the text cannot carry (a
//! table no archive holds, a table only an export file holds when there is none, the
//! security events and grants ThyWill never writes) is counted apart as not carried, with
//! the reason, never as a difference. The archive paths and the
//! archive files themselves are checked by [`super::validate::validate_archives`].
//!
//! With `fix`, `heal-archives` then writes what the archives lack (dry with `dry_run`) and
//! the consistency is measured again.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::compare::{self, TableSpec, TABLES};
use super::heal::{heal_archives, HealOptions, HealReport, LedgerPolicy};
use super::rebuild::{self, ArchiveReading};
use super::test_recovery::live_database_exists;
use super::validate::{validate_archives, ProblemKind, ValidateOptions, ValidateReport};
use crate::db::ArchiveTimeZone;
use crate::import::ZipLimits;
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// Differences listed per entity; beyond, only counted ([`EntityConsistency::differences_total`]).
pub const MAX_DIFFERENCES_PER_ENTITY: usize = 50;

/// Options of [`validate_consistency`]. Deserializes from a JSON object of these fields,
/// each optional: `{"time_zone": "utc", "fix": true, "dry_run": true}`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsistencyOptions {
    /// The zone the archive's human timestamps were written in (default: local).
    pub time_zone: ArchiveTimeZone,
    /// Prefix of the stored `text_file_path` values (default `text_archives`).
    pub path_prefix: String,
    /// Where the scratch folder of the rebuild goes (default: the system's temp folder).
    pub scratch_dir: Option<PathBuf>,
    /// Write what the archives lack (`heal-archives`), then measure again.
    pub fix: bool,
    /// With `fix`: plan the heal and report it, write nothing.
    pub dry_run: bool,
}

impl Default for ConsistencyOptions {
    fn default() -> Self {
        ConsistencyOptions {
            time_zone: ArchiveTimeZone::default(),
            path_prefix: rebuild::default_path_prefix(),
            scratch_dir: None,
            fix: false,
            dry_run: false,
        }
    }
}

/// ThyWill's `validate-consistency` statistics, under its names, with its defects fixed:
/// users are read from every registration line and prayer file (ThyWill saw only the first
/// name of each monthly file and no prayer author), and orphans are rows whose user does
/// not exist (ThyWill tested for an empty name).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConsistencyStats {
    /// Users in the database.
    pub total_users_in_db: u64,
    /// Distinct users the archives name: registrations and prayer authors.
    pub total_users_in_archives: u64,
    /// Database users the archives do not name.
    pub users_only_in_db: u64,
    /// Users the archives name that the database lacks.
    pub users_only_in_archives: u64,
    /// Prayers in the database.
    pub total_prayers_in_db: u64,
    /// Prayer files in the archives.
    pub total_prayers_in_archives: u64,
    /// Prayers whose author is not a user of the database.
    pub orphaned_prayers: u64,
    /// Marks in the database.
    pub total_prayer_marks_in_db: u64,
    /// Marks whose user is not a user of the database.
    pub orphaned_prayer_marks: u64,
    /// Prayers without a stored `text_file_path`.
    pub missing_archive_paths: u64,
    /// Stored archive paths that do not name the record's file (a missing file, another
    /// prayer's file, a path outside the archive, a user's wrong registration file).
    pub broken_archive_paths: u64,
    /// The score, 0 to 100 ([`ConsistencyReport::issues_scored`]).
    pub consistency_score: f64,
}

/// ThyWill's band of a consistency score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScoreBand {
    /// 95 or more.
    Excellent,
    /// 85 to 95.
    Good,
    /// 70 to 85.
    Fair,
    /// Below 70.
    Poor,
}

impl ScoreBand {
    /// The band of `score`.
    pub fn of(score: f64) -> ScoreBand {
        if score >= 95.0 {
            ScoreBand::Excellent
        } else if score >= 85.0 {
            ScoreBand::Good
        } else if score >= 70.0 {
            ScoreBand::Fair
        } else {
            ScoreBand::Poor
        }
    }

    /// ThyWill's exit code for a score: 0 from 95, 1 from 85, 2 below.
    pub fn exit_code(score: f64) -> u8 {
        if score >= 95.0 {
            0
        } else if score >= 85.0 {
            1
        } else {
            2
        }
    }
}

/// How a record differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// The record is on both sides with different values in some fields.
    Differs,
    /// Only the database holds the record: the archives lack it.
    OnlyInDb,
    /// Only the archives hold the record: the database lacks it.
    OnlyInArchives,
}

/// One record that is not the same on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordDifference {
    /// How it differs.
    pub kind: DifferenceKind,
    /// What identifies the record: its key fields as `name=value` (values as SQL literals).
    pub record: String,
    /// The fields whose values differ (for [`DifferenceKind::Differs`]).
    pub fields: Vec<String>,
    /// The database's values of the compared fields, when it holds the record.
    pub db: Option<Vec<String>>,
    /// The archives' values of the compared fields, when they hold the record.
    pub archives: Option<Vec<String>>,
}

/// Whether an entity is compared, and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityStatus {
    /// Compared and counted in the score; database rows of a kind the text cannot carry
    /// are counted apart ([`EntityConsistency::not_carried`]), not as differences.
    Scored,
    /// Not compared: this archive does not keep the records (see `reason`), though an
    /// archive of another shape does (a skips ledger, an export file).
    NotInThisArchive,
    /// Not compared: no archive carries any row of this table (see `reason`); its rows
    /// are counted in [`EntityConsistency::not_carried`].
    NotCarried,
}

/// One entity (table) compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityConsistency {
    /// The table.
    pub entity: String,
    /// Compared and scored, listed, or not kept by this archive.
    pub status: EntityStatus,
    /// Why the entity is not scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The fields compared.
    pub fields: Vec<&'static str>,
    /// The leading fields that identify a record.
    pub key_fields: Vec<&'static str>,
    /// Rows in the database.
    pub db_records: u64,
    /// Rows rebuilt from the archives.
    pub archive_records: u64,
    /// Records compared (pairs, plus records on one side only).
    pub compared: u64,
    /// Records equal on every compared field.
    pub equal: u64,
    /// Records on both sides with differing fields.
    pub differing: u64,
    /// Records only the database holds.
    pub only_in_db: u64,
    /// Records only the archives hold.
    pub only_in_archives: u64,
    /// Database records the text cannot carry (see `reason` and the table's
    /// `not_carried` in [`super::compare::TABLES`]): neither compared nor scored.
    pub not_carried: u64,
    /// The first differences (at most [`MAX_DIFFERENCES_PER_ENTITY`]).
    pub differences: Vec<RecordDifference>,
    /// All differences (`differing + only_in_db + only_in_archives`).
    pub differences_total: u64,
}

/// The result of [`validate_consistency`].
#[derive(Debug, Clone, Serialize)]
pub struct ConsistencyReport {
    /// The database.
    pub database: PathBuf,
    /// The archive root.
    pub archive_dir: PathBuf,
    /// ThyWill's statistics, with the score.
    pub stats: ConsistencyStats,
    /// ThyWill's band of the score.
    pub band: ScoreBand,
    /// ThyWill's exit code of the score (0, 1 or 2).
    pub exit_code: u8,
    /// The issues counted against the score: ThyWill's (orphaned prayers and marks, users
    /// only in the archives, missing and broken paths), users only in the database, and
    /// every record difference of the scored entities.
    pub issues_scored: u64,
    /// Per entity, field by field.
    pub entities: Vec<EntityConsistency>,
    /// The archives checked file by file and against the database.
    pub validation: ValidateReport,
    /// With `fix`: what heal wrote (or, dry, would write).
    pub fix: Option<HealReport>,
    /// With `fix` (not dry) when heal wrote something: the score measured again.
    pub score_after_fix: Option<f64>,
    /// The band of [`ConsistencyReport::score_after_fix`].
    pub band_after_fix: Option<ScoreBand>,
    /// Numbered issues, as sentences (ThyWill's list).
    pub issues: Vec<String>,
    /// Wall-clock duration.
    pub duration_ms: u64,
}

/// The roles whose grants ThyWill archives: a deactivation, a reactivation (the `user` role
/// granted back) and a system-token claim (`admin`). Grants of other roles are made in the
/// admin UI or by the role command, which write no archive line.
const ARCHIVED_GRANT_ROLES: &[&str] = &["'deactivated'", "'user'", "'admin'"];

/// Whether a record only the database holds is of a kind the text cannot carry (then it
/// is counted in [`EntityConsistency::not_carried`], not as a difference). `values` are
/// the table's compared fields as SQL literals, in [`TABLES`] order.
fn cannot_be_carried(table: &str, values: &[String]) -> bool {
    match table {
        // event_type, user_id, ip_address, user_agent, details, created_at: ThyWill's
        // writer fails on a None agent or details after writing the header.
        "securitylog" => {
            values.get(3).is_some_and(|v| v == "NULL") || values.get(4).is_some_and(|v| v == "NULL")
        }
        // user_id, role, ...
        "user_roles" => values
            .get(1)
            .is_some_and(|role| !ARCHIVED_GRANT_ROLES.contains(&role.as_str())),
        _ => false,
    }
}

/// How many leading fields of a table identify a record; the others are its values. A
/// table not named is keyed by all its fields (a record is equal or on one side only).
fn key_width(table: &str, width: usize) -> usize {
    let n = match table {
        "user"
        | "prayer"
        | "session"
        | "invitetoken"
        | "membership_application"
        | "role"
        | "changelogentry"
        | "schema_migrations" => 1,
        // A grant by its user and role; an event by its kind and user, an audit entry by
        // its request and action, a notification by its user, request and type: within
        // such a group, rows left unmatched pair up as records whose fields differ.
        "user_roles" | "securitylog" | "authauditlog" => 2,
        "prayermark" | "prayer_attributes" | "notification_state" => 3,
        _ => width,
    };
    n.min(width)
}

/// What the archive keeps beyond the prayer files and registrations.
struct ArchiveKeeps {
    skips_ledger: bool,
    user_attributes: bool,
    /// The export's `authentication/auth_audit_logs.txt`.
    auth_audit_log: bool,
    /// The export's `users/notification_states.txt`, or a notification file of
    /// `auth/notifications/`.
    notifications: bool,
}

impl ArchiveKeeps {
    fn of(root: &Path) -> ArchiveKeeps {
        let notification_files = std::fs::read_dir(root.join("auth").join("notifications"))
            .map(|entries| entries.filter_map(|e| e.ok()).any(|e| e.path().is_file()))
            .unwrap_or(false);
        ArchiveKeeps {
            skips_ledger: root.join("prayers").join("skips").is_dir(),
            user_attributes: root.join("users").join("user_attributes.txt").is_file(),
            auth_audit_log: root
                .join("authentication")
                .join("auth_audit_logs.txt")
                .is_file(),
            notifications: notification_files
                || root.join("users").join("notification_states.txt").is_file(),
        }
    }

    /// Why this archive keeps none of `table`'s records, when it keeps none.
    fn lacks(&self, spec: &TableSpec) -> Option<String> {
        let kept = match spec.table {
            "prayerskip" => self.skips_ledger,
            "authauditlog" => self.auth_audit_log,
            "notification_state" => self.notifications,
            _ => return None,
        };
        if kept {
            return None;
        }
        Some(match spec.table {
            "prayerskip" => "this archive keeps no skips ledger (prayers/skips/)".to_string(),
            _ => format!(
                "not in this archive: {}",
                reason_of(spec, compare::ROWS_WITHOUT_EXPORT)
            ),
        })
    }
}

/// The documented reason the text cannot carry `what` of a table.
fn reason_of(spec: &TableSpec, what: &str) -> &'static str {
    spec.not_carried
        .iter()
        .find(|n| n.what == what)
        .map(|n| n.reason)
        .unwrap_or("")
}

/// The user fields `users/user_attributes.txt` alone carries: the first four are the
/// registration's.
const USER_REGISTRATION_FIELDS: usize = 4;

/// Compares the text archives at `archive_dir` (a folder) with the database at `db_path`,
/// field by field per entity, and scores the result. Reads only, unless `options.fix`
/// (then heal writes what the archives lack; nothing with `dry_run`). Progress: the
/// rebuild's phases, `compare`, `validate`, then heal's.
pub fn validate_consistency(
    db_path: &Path,
    archive_dir: &Path,
    options: &ConsistencyOptions,
    progress: &dyn Progress,
) -> Result<ConsistencyReport> {
    crate::audit::recorded(
        db_path,
        "recovery.validate_consistency",
        crate::audit::arguments([
            ("database", serde_json::json!(db_path)),
            ("archive_dir", serde_json::json!(archive_dir)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &ConsistencyReport| serde_json::json!({"band": report.band, "issues_scored": report.issues_scored, "fixed": report.fix.as_ref().map(|f| f.changes.len())}),
        || validate_consistency_unrecorded(db_path, archive_dir, options, progress),
    )
}

fn validate_consistency_unrecorded(
    db_path: &Path,
    archive_dir: &Path,
    options: &ConsistencyOptions,
    progress: &dyn Progress,
) -> Result<ConsistencyReport> {
    let started = Instant::now();
    if !live_database_exists(db_path)? {
        return Err(Error::NotFound {
            what: format!("database {}", db_path.display()),
        });
    }
    if !archive_dir.is_dir() {
        return Err(Error::NotFound {
            what: format!("archive folder {}", archive_dir.display()),
        });
    }
    let mut measured = measure(db_path, archive_dir, options, progress)?;
    if options.fix {
        let heal = heal_archives(
            db_path,
            archive_dir,
            &HealOptions {
                dry_run: options.dry_run,
                time_zone: options.time_zone,
                path_prefix: options.path_prefix.clone(),
                ledgers: LedgerPolicy::Auto,
            },
            progress,
        )?;
        if !options.dry_run && heal.changed_anything() {
            let again = measure(db_path, archive_dir, options, progress)?;
            measured.score_after_fix = Some(again.stats.consistency_score);
            measured.band_after_fix = Some(again.band);
        }
        measured.fix = Some(heal);
    }
    measured.duration_ms = started.elapsed().as_millis() as u64;
    Ok(measured)
}

fn measure(
    db_path: &Path,
    archive_dir: &Path,
    options: &ConsistencyOptions,
    progress: &dyn Progress,
) -> Result<ConsistencyReport> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("thywill-consistency-");
    let scratch = match &options.scratch_dir {
        Some(dir) => builder.tempdir_in(dir).map_err(|e| Error::io(dir, e))?,
        None => builder
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?,
    };
    let rebuilt = scratch.path().join("rebuilt.db");
    let reading = ArchiveReading {
        time_zone: options.time_zone,
        path_prefix: options.path_prefix.clone(),
        zip_limits: ZipLimits::default(),
    };
    let keeps = ArchiveKeeps::of(archive_dir);
    // An archive with nothing in it rebuilds nothing: every record is then only in the
    // database, which the comparison with an empty rebuild says.
    let rebuilt_conn =
        match rebuild::import_archives(archive_dir, &rebuilt, &reading, false, progress) {
            Ok(_) => {
                rebuild::check_rebuilt(&rebuilt)?;
                compare::open_read_only(&rebuilt)?
            }
            Err(Error::InvalidInput(_)) => Connection::open_in_memory()?,
            Err(e) => return Err(e),
        };
    let live_conn = compare::open_live_read_only(db_path)?;
    progress::report(progress, "compare", 0, Some(TABLES.len() as u64))?;
    live_conn.execute_batch("BEGIN")?;
    let entities: Result<Vec<EntityConsistency>> = TABLES
        .iter()
        .map(|spec| compare_entity(spec, &keeps, &live_conn, &rebuilt_conn))
        .collect();
    let stats = live_stats(&live_conn, &rebuilt_conn);
    let _ = live_conn.execute_batch("COMMIT");
    let (entities, mut stats) = (entities?, stats?);
    progress::report(
        progress,
        "compare",
        TABLES.len() as u64,
        Some(TABLES.len() as u64),
    )?;
    drop(rebuilt_conn);
    drop(scratch);
    let validation = validate_archives(
        db_path,
        archive_dir,
        &ValidateOptions {
            time_zone: options.time_zone,
            path_prefix: options.path_prefix.clone(),
            ledgers: LedgerPolicy::Auto,
        },
        progress,
    )?;
    stats.total_prayers_in_archives = validation.counts.prayer_files;
    let kind = |k: ProblemKind| validation.problems_by_kind.get(&k).copied().unwrap_or(0);
    // A prayer without a stored path shows as one of the two prayer kinds: the rest of
    // them are paths that name the wrong thing.
    stats.broken_archive_paths = (kind(ProblemKind::PrayerPathWrong)
        + kind(ProblemKind::PrayerFileMissing))
    .saturating_sub(stats.missing_archive_paths)
        + kind(ProblemKind::UserPathWrong);
    let record_issues: u64 = entities
        .iter()
        .filter(|e| e.status == EntityStatus::Scored)
        .map(|e| e.differences_total)
        .sum();
    let issues_scored = stats.orphaned_prayers
        + stats.orphaned_prayer_marks
        + stats.users_only_in_archives
        + stats.users_only_in_db
        + stats.missing_archive_paths
        + stats.broken_archive_paths
        + record_issues;
    let records =
        stats.total_users_in_db + stats.total_prayers_in_db + stats.total_prayer_marks_in_db;
    stats.consistency_score = score(issues_scored, records);
    let issues = issue_sentences(&stats, &entities, &validation);
    Ok(ConsistencyReport {
        database: db_path.to_path_buf(),
        archive_dir: archive_dir.to_path_buf(),
        band: ScoreBand::of(stats.consistency_score),
        exit_code: ScoreBand::exit_code(stats.consistency_score),
        stats,
        issues_scored,
        entities,
        validation,
        fix: None,
        score_after_fix: None,
        band_after_fix: None,
        issues,
        duration_ms: 0,
    })
}

/// ThyWill's formula: 100 less the issues as a percentage of the database's users,
/// prayers and marks, at least 0, to 2 decimals; 100 for an empty database with no issue.
pub(crate) fn score(issues: u64, records: u64) -> f64 {
    if records == 0 {
        return if issues == 0 { 100.0 } else { 0.0 };
    }
    let raw = 100.0 - 100.0 * issues as f64 / records as f64;
    (raw.max(0.0) * 100.0).round() / 100.0
}

fn has_table(conn: &Connection, table: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [table],
        |r| r.get(0),
    )?)
}

fn count(conn: &Connection, sql: &str, tables: &[&str]) -> Result<u64> {
    for t in tables {
        if !has_table(conn, t)? {
            return Ok(0);
        }
    }
    let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

fn names(conn: &Connection, sql: &str, tables: &[&str]) -> Result<HashSet<String>> {
    for t in tables {
        if !has_table(conn, t)? {
            return Ok(HashSet::new());
        }
    }
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| r.get::<_, Option<String>>(0))?;
    let mut out = HashSet::new();
    for name in rows {
        if let Some(name) = name? {
            out.insert(name);
        }
    }
    Ok(out)
}

/// ThyWill's statistics read from the live database and the rebuild (the archive's
/// prayer files and paths come from validation).
fn live_stats(live: &Connection, rebuilt: &Connection) -> Result<ConsistencyStats> {
    let db_users = names(live, "SELECT display_name FROM user", &["user"])?;
    let mut archive_users = names(rebuilt, "SELECT display_name FROM user", &["user"])?;
    archive_users.extend(names(
        rebuilt,
        "SELECT author_username FROM prayer",
        &["prayer"],
    )?);
    Ok(ConsistencyStats {
        total_users_in_db: count(live, "SELECT count(*) FROM user", &["user"])?,
        total_users_in_archives: archive_users.len() as u64,
        users_only_in_db: db_users.difference(&archive_users).count() as u64,
        users_only_in_archives: archive_users.difference(&db_users).count() as u64,
        total_prayers_in_db: count(live, "SELECT count(*) FROM prayer", &["prayer"])?,
        total_prayers_in_archives: 0,
        orphaned_prayers: count(
            live,
            "SELECT count(*) FROM prayer p WHERE NOT EXISTS (SELECT 1 FROM user u WHERE u.display_name = p.author_username)",
            &["prayer", "user"],
        )?,
        total_prayer_marks_in_db: count(live, "SELECT count(*) FROM prayermark", &["prayermark"])?,
        orphaned_prayer_marks: count(
            live,
            "SELECT count(*) FROM prayermark m WHERE NOT EXISTS (SELECT 1 FROM user u WHERE u.display_name = m.username)",
            &["prayermark", "user"],
        )?,
        missing_archive_paths: count(
            live,
            "SELECT count(*) FROM prayer WHERE text_file_path IS NULL OR text_file_path = ''",
            &["prayer"],
        )?,
        broken_archive_paths: 0,
        consistency_score: 0.0,
    })
}

/// The rows of one side sorted by the compared fields, read a key group at a time.
struct Groups<'c> {
    rows: Option<rusqlite::Rows<'c>>,
    width: usize,
    key: usize,
    pending: Option<Vec<String>>,
}

impl Groups<'_> {
    fn row(&mut self) -> Result<Option<Vec<String>>> {
        let Some(rows) = self.rows.as_mut() else {
            return Ok(None);
        };
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        let mut values = Vec::with_capacity(self.width);
        for i in 0..self.width {
            values.push(row.get::<_, String>(i)?);
        }
        Ok(Some(values))
    }

    /// The next group of rows sharing their key fields.
    fn next(&mut self) -> Result<Option<Vec<Vec<String>>>> {
        let first = match self.pending.take() {
            Some(r) => r,
            None => match self.row()? {
                Some(r) => r,
                None => return Ok(None),
            },
        };
        let mut group = vec![first];
        while let Some(r) = self.row()? {
            if r[..self.key] == group[0][..self.key] {
                group.push(r);
            } else {
                self.pending = Some(r);
                break;
            }
        }
        Ok(Some(group))
    }
}

struct Tally<'a> {
    entity: &'a mut EntityConsistency,
    names: &'a [&'static str],
    key: usize,
}

impl Tally<'_> {
    fn record(&self, values: &[String]) -> String {
        self.names[..self.key]
            .iter()
            .zip(values)
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn push(
        &mut self,
        kind: DifferenceKind,
        db: Option<Vec<String>>,
        archives: Option<Vec<String>>,
    ) {
        if kind == DifferenceKind::OnlyInDb
            && db
                .as_deref()
                .is_some_and(|values| cannot_be_carried(&self.entity.entity, values))
        {
            self.entity.not_carried += 1;
            return;
        }
        match kind {
            DifferenceKind::Differs => self.entity.differing += 1,
            DifferenceKind::OnlyInDb => self.entity.only_in_db += 1,
            DifferenceKind::OnlyInArchives => self.entity.only_in_archives += 1,
        }
        self.entity.differences_total += 1;
        if self.entity.differences.len() >= MAX_DIFFERENCES_PER_ENTITY {
            return;
        }
        let any = db
            .as_ref()
            .or(archives.as_ref())
            .cloned()
            .unwrap_or_default();
        let fields = match (&db, &archives) {
            (Some(a), Some(b)) => self
                .names
                .iter()
                .zip(a.iter().zip(b))
                .filter(|(_, (x, y))| x != y)
                .map(|(n, _)| (*n).to_string())
                .collect(),
            _ => Vec::new(),
        };
        let record = self.record(&any);
        self.entity.differences.push(RecordDifference {
            kind,
            record,
            fields,
            db,
            archives,
        });
    }

    /// Two groups of one key: equal rows matched, the rest paired as differing, the
    /// remainder on one side.
    fn groups(&mut self, db: Vec<Vec<String>>, archives: Vec<Vec<String>>) {
        let (mut i, mut j) = (0, 0);
        let (mut db_left, mut ar_left) = (Vec::new(), Vec::new());
        while i < db.len() || j < archives.len() {
            let order = match (db.get(i), archives.get(j)) {
                (Some(a), Some(b)) => a.cmp(b),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match order {
                Ordering::Equal => {
                    self.entity.equal += 1;
                    i += 1;
                    j += 1;
                }
                Ordering::Less => {
                    db_left.push(db[i].clone());
                    i += 1;
                }
                Ordering::Greater => {
                    ar_left.push(archives[j].clone());
                    j += 1;
                }
            }
        }
        let paired = db_left.len().min(ar_left.len());
        let mut ar_rest = ar_left.into_iter();
        for (n, row) in db_left.into_iter().enumerate() {
            if n < paired {
                let other = ar_rest.next();
                self.push(DifferenceKind::Differs, Some(row), other);
            } else {
                self.push(DifferenceKind::OnlyInDb, Some(row), None);
            }
        }
        for row in ar_rest {
            self.push(DifferenceKind::OnlyInArchives, None, Some(row));
        }
    }
}

fn compare_entity(
    spec: &TableSpec,
    keeps: &ArchiveKeeps,
    live: &Connection,
    rebuilt: &Connection,
) -> Result<EntityConsistency> {
    let mut width = spec.fields.len();
    let mut status = EntityStatus::Scored;
    let mut reason = None;
    if spec.whole_table_not_carried() {
        status = EntityStatus::NotCarried;
        reason = Some(format!(
            "not carried by any archive: {}",
            reason_of(spec, compare::ROWS)
        ));
    } else if let Some(lacks) = keeps.lacks(spec) {
        status = EntityStatus::NotInThisArchive;
        reason = Some(lacks);
    } else if matches!(spec.table, "securitylog" | "user_roles") {
        // The table's first documented gap is the kind of row counted apart
        // ([`cannot_be_carried`]).
        if let Some(n) = spec.not_carried.first() {
            reason = Some(format!("not carried: {}: {}", n.what, n.reason));
        }
    }
    if spec.table == "user" && !keeps.user_attributes {
        width = width.min(USER_REGISTRATION_FIELDS);
        reason = Some(
            "this archive has no users/user_attributes.txt: the supporter and welcome flags are not compared"
                .to_string(),
        );
    }
    let fields = &spec.fields[..width];
    let names: Vec<&'static str> = fields.iter().map(|(n, _)| *n).collect();
    let key = key_width(spec.table, width);
    let mut entity = EntityConsistency {
        entity: spec.table.to_string(),
        status,
        reason,
        fields: names.clone(),
        key_fields: names[..key].to_vec(),
        db_records: 0,
        archive_records: 0,
        compared: 0,
        equal: 0,
        differing: 0,
        only_in_db: 0,
        only_in_archives: 0,
        not_carried: 0,
        differences: Vec::new(),
        differences_total: 0,
    };
    let table_count = |conn: &Connection| -> Result<u64> {
        count(
            conn,
            &format!("SELECT count(*) FROM \"{}\"", spec.table),
            &[spec.table],
        )
    };
    entity.db_records = table_count(live)?;
    entity.archive_records = table_count(rebuilt)?;
    match status {
        EntityStatus::Scored => {}
        EntityStatus::NotCarried => {
            entity.not_carried = entity.db_records;
            return Ok(entity);
        }
        EntityStatus::NotInThisArchive => {
            // The export files are the only carriers of these tables: without them, no
            // row is carried. A missing skips ledger is a choice of the archive's writer.
            if spec.table != "prayerskip" {
                entity.not_carried = entity.db_records;
            }
            return Ok(entity);
        }
    }
    let columns: Vec<String> = fields.iter().map(|(_, e)| format!("quote({e})")).collect();
    let order: Vec<String> = (1..=width).map(|i| i.to_string()).collect();
    // quote() makes every value text: SQLite's BINARY order is then the byte order the
    // walk below compares in.
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        spec.from,
        order.join(", ")
    );
    let mut live_stmt = if has_table(live, spec.table)? {
        Some(live.prepare(&sql)?)
    } else {
        None
    };
    let mut rebuilt_stmt = if has_table(rebuilt, spec.table)? {
        Some(rebuilt.prepare(&sql)?)
    } else {
        None
    };
    let mut a = Groups {
        rows: match live_stmt.as_mut() {
            Some(s) => Some(s.query([])?),
            None => None,
        },
        width,
        key,
        pending: None,
    };
    let mut b = Groups {
        rows: match rebuilt_stmt.as_mut() {
            Some(s) => Some(s.query([])?),
            None => None,
        },
        width,
        key,
        pending: None,
    };
    let mut tally = Tally {
        entity: &mut entity,
        names: &names,
        key,
    };
    let mut left = a.next()?;
    let mut right = b.next()?;
    loop {
        let order = match (&left, &right) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(l), Some(r)) => l[0][..key].cmp(&r[0][..key]),
        };
        match order {
            Ordering::Equal => {
                if let (Some(l), Some(r)) = (left.take(), right.take()) {
                    tally.groups(l, r);
                }
                left = a.next()?;
                right = b.next()?;
            }
            Ordering::Less => {
                if let Some(l) = left.take() {
                    tally.groups(l, Vec::new());
                }
                left = a.next()?;
            }
            Ordering::Greater => {
                if let Some(r) = right.take() {
                    tally.groups(Vec::new(), r);
                }
                right = b.next()?;
            }
        }
    }
    entity.compared = entity.equal + entity.differences_total;
    Ok(entity)
}

/// ThyWill's numbered issue list, as sentences.
fn issue_sentences(
    stats: &ConsistencyStats,
    entities: &[EntityConsistency],
    validation: &ValidateReport,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut say = |n: u64, what: &str| {
        if n > 0 {
            out.push(format!("{n} {what}"));
        }
    };
    say(stats.orphaned_prayers, "prayers whose author is not a user");
    say(
        stats.orphaned_prayer_marks,
        "marks whose user is not a user",
    );
    say(stats.users_only_in_db, "users the archives do not name");
    say(
        stats.users_only_in_archives,
        "users named in the archives but not in the database",
    );
    say(
        stats.missing_archive_paths,
        "prayers without an archive path",
    );
    say(
        stats.broken_archive_paths,
        "archive paths that name no file or the wrong one",
    );
    for e in entities.iter().filter(|e| e.status == EntityStatus::Scored) {
        say(
            e.differing,
            &format!("{} records differ between database and archives", e.entity),
        );
        say(
            e.only_in_db,
            &format!("{} records only in the database", e.entity),
        );
        say(
            e.only_in_archives,
            &format!("{} records only in the archives", e.entity),
        );
    }
    for (kind, n) in &validation.problems_by_kind {
        let name = serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        say(*n, &format!("archive problems: {name}"));
    }
    out
}
