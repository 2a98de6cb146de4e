//! `thywill reconstruct-from-archives (--dry-run|--execute)`: repairs the relationships of
//! an existing database from the text archives, in one transaction.
//!
//! - Orphans: a prayer author, mark, skip, activity-log actor, attribute creator, role
//!   grant or session naming no `user.display_name`. The archive's name for the record
//!   (for a prayer, the author of its file; for the others, the archive name equal to the
//!   row's, else equal after normalising case and spaces) is resolved against the users:
//!   exactly, then normalised. A row is re-pointed at the user found; when no user fits and
//!   the name is a registration, a prayer author or an activity actor of the archives, the
//!   user is created (never from a log: security events, sessions, notifications); else
//!   the row is reported as unresolvable.
//! - The inviter tree (`user.invited_by_username`), roles and grants, invite tokens and
//!   their usage (`user.invite_token_used`) and sessions, through the importer's own
//!   phases, which add what is missing and never overwrite what is there.
//! - Sessions a later archived `session_deleted` security event ended, and those expired at
//!   the `as_of` time, are not brought back.
//!
//! ThyWill defects fixed (FIXABLE): its reconstruction addresses the legacy schema and
//! fails on every database with users; its registration reader finds no line; it
//! creates users from every name it meets and only logs orphaned marks.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::archive::auth::SecurityEventRecord;
use crate::archive::fileops::read_listed_file;
use crate::archive::kind::FileKind;
use crate::archive::pipe::PipeFile;
use crate::db::{ArchiveTimeZone, Database, IdGenerator, OpenOptions};
use crate::import::report::{EntityCounts, ImportReport, RecordIssue};
use crate::import::store::{insert_user, NewUser};
use crate::import::text_archives::{Phase, SessionFilter, TextArchiveOptions, TextArchivePlan};
use crate::progress::{report as progress_report, Progress};
use crate::{Error, Result};

/// The unresolvable records listed per relationship (the count is always complete).
const DEFAULT_MAX_LISTED: usize = 50;

/// Options of a reconstruction. Deserializes from a JSON object of these fields, each
/// optional (the C API's options document).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReconstructOptions {
    /// Do all the work in the transaction, then roll it back (same numbers as the real run).
    pub dry_run: bool,
    /// The zone the archive's human timestamps were written in (default: local).
    pub time_zone: ArchiveTimeZone,
    /// Prefix of the `text_file_path` values written for users created from a
    /// registration (default `text_archives`).
    pub path_prefix: String,
    /// Sessions expiring at or before this UTC time are not brought back
    /// (`2025-09-20T12:00:00`; default: now).
    pub as_of: Option<NaiveDateTime>,
    /// How many unresolvable records each relationship lists (default 50).
    pub max_listed: usize,
}

impl Default for ReconstructOptions {
    fn default() -> Self {
        ReconstructOptions {
            dry_run: false,
            time_zone: ArchiveTimeZone::Local,
            path_prefix: "text_archives".into(),
            as_of: None,
            max_listed: DEFAULT_MAX_LISTED,
        }
    }
}

/// A record (or a group of rows sharing one name) the archives could not repair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unresolved {
    /// The value found (the name a row holds, a prayer id, ...).
    pub value: String,
    /// The rows concerned.
    pub rows: u64,
    /// Why it stays as it is.
    pub reason: String,
}

/// What reconstruction found and did for one relationship.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RelationshipCounts {
    /// Records examined: for an orphan relationship the orphan rows, for the others the
    /// archive records that carry the relationship.
    pub found: u64,
    /// Rows re-pointed or updated to what the archives say.
    pub repointed: u64,
    /// Rows inserted (for an orphan relationship: rows made right by creating their user).
    pub inserted: u64,
    /// Records the database already had right.
    pub already_right: u64,
    /// Records left as they are (see `unresolved`).
    pub unresolvable: u64,
    /// The first unresolvable records, with the reason.
    pub unresolved: Vec<Unresolved>,
}

impl RelationshipCounts {
    /// Rows changed.
    pub fn fixed(&self) -> u64 {
        self.repointed + self.inserted
    }

    fn unresolved(&mut self, max: usize, value: &str, rows: u64, reason: String) {
        self.unresolvable += rows;
        if self.unresolved.len() < max {
            self.unresolved.push(Unresolved {
                value: value.to_string(),
                rows,
                reason,
            });
        }
    }

    fn from_import(counts: &EntityCounts) -> Self {
        RelationshipCounts {
            found: counts.inserted
                + counts.already_present
                + counts.updated
                + counts.skipped
                + counts.failed,
            repointed: counts.updated,
            inserted: counts.inserted,
            already_right: counts.already_present,
            unresolvable: counts.skipped + counts.failed,
            unresolved: Vec::new(),
        }
    }
}

/// Archived sessions deliberately not brought back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SessionsDropped {
    /// Ended by a later archived `session_deleted` security event.
    pub ended_by_event: u64,
    /// Expired at `as_of`.
    pub expired: u64,
}

/// What [`reconstruct_from_archives`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconstructReport {
    /// The archive folder read.
    pub archive_dir: String,
    /// The database repaired.
    pub database: String,
    /// True when every change was rolled back.
    pub dry_run: bool,
    /// The time sessions were judged expired at (UTC, ISO 8601).
    pub as_of: String,
    /// Per relationship, in a fixed order of names: `prayer_author`, `prayer_mark_user`,
    /// `prayer_skip_user`, `activity_log_user`, `attribute_creator`, `user_role_user`,
    /// `session_user` (orphans), `inviter`, `invite_token_used`, `roles`, `user_roles`,
    /// `invite_tokens`, `invite_token_usage`, `sessions`.
    pub relationships: BTreeMap<String, RelationshipCounts>,
    /// Tables of ThyWill's schema the database lacked, created (with the default roles
    /// when `role` was among them).
    pub tables_created: Vec<String>,
    /// Users created (registrations, prayer authors or activity actors of the archives).
    pub users_created: Vec<String>,
    /// Archived sessions not brought back, and why.
    pub sessions_dropped: SessionsDropped,
    /// ThyWill's own counter names (`archives_scanned`, `users_found_in_archives`,
    /// `missing_users_created`, `orphaned_prayers_fixed`, `orphaned_prayer_marks_fixed`,
    /// `prayer_attributes_fixed`, `validation_errors`).
    pub thywill_stats: BTreeMap<String, u64>,
    /// Records of the archives the importer's phases could not use.
    pub failures: Vec<RecordIssue>,
    /// What the importer's phases noted (bounded as an import report is).
    pub notes: Vec<RecordIssue>,
}

impl ReconstructReport {
    /// Rows changed over all relationships (0 on a second run).
    pub fn total_fixed(&self) -> u64 {
        self.relationships
            .values()
            .map(RelationshipCounts::fixed)
            .sum::<u64>()
    }

    /// Records left unresolved over all relationships.
    pub fn total_unresolvable(&self) -> u64 {
        self.relationships.values().map(|c| c.unresolvable).sum()
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }
}

/// Repairs the relationships of the database at `db_path` from the archive folder
/// `archive_dir` (see the module documentation). Refuses ThyWill's legacy schema.
pub fn reconstruct_from_archives(
    archive_dir: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    options: &ReconstructOptions,
    progress: &dyn Progress,
) -> Result<ReconstructReport> {
    crate::audit::recorded(
        db_path.as_ref(),
        "recovery.reconstruct_from_archives",
        crate::audit::arguments([
            ("archive_dir", serde_json::json!(archive_dir.as_ref())),
            ("database", serde_json::json!(db_path.as_ref())),
            ("options", serde_json::json!(options)),
        ]),
        |report: &ReconstructReport| serde_json::json!({"dry_run": report.dry_run, "users_created": report.users_created.len(), "failures": report.failures.len()}),
        || {
            reconstruct_from_archives_unrecorded(
                archive_dir.as_ref(),
                db_path.as_ref(),
                options,
                progress,
            )
        },
    )
}

fn reconstruct_from_archives_unrecorded(
    archive_dir: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    options: &ReconstructOptions,
    progress: &dyn Progress,
) -> Result<ReconstructReport> {
    let open = OpenOptions {
        // The journal mode is ThyWill's to choose; a refused or dry run leaves the file
        // exactly as it was.
        switch_to_wal: false,
        ..OpenOptions::default()
    };
    let mut db = Database::open(db_path.as_ref(), &open)?;
    let report = reconstruct_in(archive_dir, &mut db, options, progress)?;
    db.close()?;
    Ok(report)
}

/// [`reconstruct_from_archives`] on an open database.
pub fn reconstruct_in(
    archive_dir: impl AsRef<Path>,
    db: &mut Database,
    options: &ReconstructOptions,
    progress: &dyn Progress,
) -> Result<ReconstructReport> {
    let archive_dir = archive_dir.as_ref();
    db.check_schema()?;
    for table in ["user", "prayer"] {
        if !db.has_table(table) {
            return Err(Error::InvalidInput(format!(
                "the database has no {table} table: nothing to reconstruct (import the archives instead)"
            )));
        }
    }
    let plan = TextArchivePlan::scan(archive_dir, &archive_dir.display().to_string())?;
    let as_of = options
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().naive_utc());
    let database = db
        .path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| ":memory:".into());
    let mut report = ReconstructReport {
        archive_dir: archive_dir.display().to_string(),
        database,
        dry_run: options.dry_run,
        as_of: as_of.format("%Y-%m-%dT%H:%M:%S").to_string(),
        relationships: BTreeMap::new(),
        tables_created: Vec::new(),
        users_created: Vec::new(),
        sessions_dropped: SessionsDropped::default(),
        thywill_stats: BTreeMap::new(),
        failures: Vec::new(),
        notes: Vec::new(),
    };
    let conn = db.connection();
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let worked = reconstruct_tx(conn, &plan, options, as_of, &mut report, progress);
    let end = if worked.is_ok() && !options.dry_run {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    if let Err(e) = conn.execute_batch(end) {
        let _ = conn.execute_batch("ROLLBACK");
        worked?;
        return Err(e.into());
    }
    worked?;
    Ok(report)
}

/// The names the archives carry: who may be created, and each prayer's author.
#[derive(Default)]
struct ArchiveNames {
    /// Registrations, prayer authors and activity actors, with the earliest time seen and,
    /// for a registration, its file.
    creatable: HashMap<String, (Option<NaiveDateTime>, Option<String>)>,
    /// Normalised name to the creatable names that normalise to it.
    by_normal: HashMap<String, Vec<String>>,
    /// Prayer id to the author its file names.
    prayer_authors: HashMap<String, String>,
    /// Registration lines that name an inviter: (user, inviter).
    invitations: Vec<(String, String)>,
    /// Files read.
    files_read: u64,
}

impl ArchiveNames {
    fn add(&mut self, name: &str, at: Option<NaiveDateTime>, file: Option<String>) {
        if name.trim().is_empty() {
            return;
        }
        let entry = self.creatable.entry(name.to_string()).or_insert_with(|| {
            self.by_normal
                .entry(normalise(name))
                .or_default()
                .push(name.to_string());
            (None, None)
        });
        if let Some(at) = at {
            if entry.0.is_none_or(|seen| at < seen) {
                entry.0 = Some(at);
            }
        }
        if file.is_some() && entry.1.is_none() {
            entry.1 = file;
        }
    }
}

/// Case-insensitive, with runs of white space made one space and the ends trimmed.
fn normalise(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn reconstruct_tx(
    conn: &Connection,
    plan: &TextArchivePlan,
    options: &ReconstructOptions,
    as_of: NaiveDateTime,
    report: &mut ReconstructReport,
    progress: &dyn Progress,
) -> Result<()> {
    let max = options.max_listed;
    // The tables the phases write may be missing from an old database: created as
    // ThyWill's create_all would (inside the transaction, so a dry run leaves none).
    report.tables_created = crate::import::runner::ensure_schema(conn, &IdGenerator::new())?;
    progress_report(progress, "reconstruct_scan", 0, None)?;
    let names = read_archive_names(plan, options)?;
    let before = user_links(conn)?;

    // The importer's phases: registered users and the inviter tree first; then the
    // orphans of the activity tables, so that a user they bring back is there when the
    // invites phase links claimers; then roles and grants, tokens and their usage, the
    // sessions the filter admits; last the orphans of the tables those phases write.
    progress_report(progress, "reconstruct_relationships", 0, None)?;
    let filter = SessionFilter {
        ended: ended_sessions(plan)?,
        as_of,
        turned_away_ended: Default::default(),
        turned_away_expired: Default::default(),
    };
    let import_options = TextArchiveOptions {
        dry_run: options.dry_run,
        time_zone: options.time_zone,
        path_prefix: options.path_prefix.clone(),
        ..TextArchiveOptions::default()
    };
    let users_before: HashSet<String> = before.keys().cloned().collect();
    let registered =
        plan.apply_phases_in(conn, &[Phase::Users], &import_options, None, progress)?;
    progress_report(progress, "reconstruct_orphans", 0, None)?;
    let mut created = Vec::new();
    let mut orphan_counts = repair_orphans(conn, &names, max, &mut created, OrphanPass::Activity)?;
    let later = plan.apply_phases_in(
        conn,
        &[Phase::Roles, Phase::Invites, Phase::Sessions],
        &import_options,
        Some(&filter),
        progress,
    )?;
    orphan_counts.extend(repair_orphans(
        conn,
        &names,
        max,
        &mut created,
        OrphanPass::Grants,
    )?);
    report.sessions_dropped = SessionsDropped {
        ended_by_event: filter.turned_away_ended.get(),
        expired: filter.turned_away_expired.get(),
    };

    let after = user_links(conn)?;
    for name in after.keys() {
        if !users_before.contains(name) && !created.contains(name) {
            created.push(name.clone());
        }
    }
    created.sort();
    report.relationships.extend(orphan_counts);
    report.relationships.insert(
        "inviter".into(),
        inviter_counts(&names, &before, &after, max),
    );
    report.relationships.insert(
        "invite_token_used".into(),
        token_used_counts(&before, &after),
    );
    fill_from_import(report, &later);
    if let Some(sessions) = report.relationships.get_mut("sessions") {
        let dropped = report.sessions_dropped.ended_by_event + report.sessions_dropped.expired;
        // Dropped sessions were seen but are not unresolvable: they are meant to stay away.
        sessions.unresolvable = sessions.unresolvable.saturating_sub(dropped);
    }
    report.users_created = created;

    let stat = |r: &ReconstructReport, key: &str| r.relationships.get(key).map_or(0, |c| c.fixed());
    let stats = [
        ("archives_scanned", names.files_read),
        ("users_found_in_archives", names.creatable.len() as u64),
        ("missing_users_created", report.users_created.len() as u64),
        ("orphaned_prayers_fixed", stat(report, "prayer_author")),
        (
            "orphaned_prayer_marks_fixed",
            stat(report, "prayer_mark_user"),
        ),
        ("prayer_attributes_fixed", stat(report, "attribute_creator")),
        ("validation_errors", report.total_unresolvable()),
    ];
    report.thywill_stats = stats.iter().map(|(k, v)| ((*k).to_string(), *v)).collect();
    report.failures = registered.failures;
    report.failures.extend(later.failures);
    report.notes = registered.notes;
    report.notes.extend(later.notes);
    progress_report(progress, "reconstruct_orphans", 1, Some(1))?;
    Ok(())
}

/// Reads the registrations and the prayer files for the names they carry.
fn read_archive_names(
    plan: &TextArchivePlan,
    options: &ReconstructOptions,
) -> Result<ArchiveNames> {
    let mut names = ArchiveNames::default();
    for file in plan.files_of(Phase::Users) {
        let bytes = read_listed_file(&plan.root.join(&file.path), file.via_link)?;
        names.files_read += 1;
        let stored = crate::archive::layout::pathlib_str(&format!(
            "{}/{}",
            options.path_prefix, file.relative
        ));
        for reg in crate::import::text_archives::registrations(&bytes, &file.relative).records {
            names.add(&reg.name, reg.time, Some(stored.clone()));
            if let Some(inviter) = reg.inviter {
                names.invitations.push((reg.name, inviter));
            }
        }
    }
    for (month, _) in &plan.prayer_months {
        let dir = plan.root.join(month);
        let mut files: Vec<PathBuf> = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let regular = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
            if regular && path.extension().is_some_and(|e| e == "txt") {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            let bytes = read_listed_file(&path, false)?;
            names.files_read += 1;
            let (prayer, _) = crate::archive::prayer::parse_bytes(&bytes, Some(&path));
            if prayer.id.is_empty() {
                continue;
            }
            names.add(&prayer.author, prayer.submitted.time, None);
            for activity in &prayer.activities {
                names.add(&activity.actor, activity.timestamp.time, None);
            }
            names
                .prayer_authors
                .entry(prayer.id.clone())
                .or_insert(prayer.author);
        }
    }
    Ok(names)
}

/// Session ids with the time of the latest archived `session_deleted` event naming them.
fn ended_sessions(plan: &TextArchivePlan) -> Result<HashMap<String, NaiveDateTime>> {
    let mut ended: HashMap<String, NaiveDateTime> = HashMap::new();
    for file in plan
        .files_of(Phase::SecurityEvents)
        .iter()
        .filter(|f| f.kind == FileKind::SecurityEvents)
    {
        let bytes = read_listed_file(&plan.root.join(&file.path), file.via_link)?;
        let (parsed, _) =
            PipeFile::<SecurityEventRecord>::parse(&bytes, Some(Path::new(&file.relative)));
        for event in parsed.records {
            if event.event_type != "session_deleted" {
                continue;
            }
            let Some(id) = event
                .details
                .split(',')
                .filter_map(|part| part.trim().strip_prefix("session_id="))
                .next()
            else {
                continue;
            };
            let at = event.timestamp.naive();
            let latest = ended.entry(id.trim().to_string()).or_insert(at);
            if at > *latest {
                *latest = at;
            }
        }
    }
    Ok(ended)
}

/// Each user's (inviter, invite token used).
type UserLinks = HashMap<String, (Option<String>, Option<String>)>;

fn user_links(conn: &Connection) -> Result<UserLinks> {
    let mut stmt =
        conn.prepare("SELECT display_name, invited_by_username, invite_token_used FROM user")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The inviter tree: every user with an inviter after the run (set now or already right;
/// registration lines set most, invite claims the rest), and the registration lines whose
/// inviter could not be set.
fn inviter_counts(
    names: &ArchiveNames,
    before: &UserLinks,
    after: &UserLinks,
    max: usize,
) -> RelationshipCounts {
    let mut counts = RelationshipCounts::default();
    for (user, (inviter, _)) in after {
        if inviter.is_none() {
            continue;
        }
        if before.get(user).and_then(|l| l.0.as_ref()) == inviter.as_ref() {
            counts.already_right += 1;
        } else {
            counts.repointed += 1;
        }
    }
    for (user, inviter) in &names.invitations {
        let now = after.get(user).and_then(|l| l.0.as_deref());
        if now == Some(inviter.as_str()) {
            continue;
        }
        let reason = if !after.contains_key(user) {
            format!("{user:?} is not a user")
        } else if !after.contains_key(inviter) {
            format!("inviter {inviter:?} of {user:?} is not a user")
        } else {
            format!(
                "the database names {:?} as {user:?}'s inviter, the archives {inviter:?}; kept",
                now.unwrap_or_default()
            )
        };
        counts.unresolved(max, user, 1, reason);
    }
    counts.found = counts.repointed + counts.already_right + counts.unresolvable;
    counts
}

fn token_used_counts(before: &UserLinks, after: &UserLinks) -> RelationshipCounts {
    let mut counts = RelationshipCounts::default();
    for (user, (_, token)) in after {
        if token.is_none() {
            continue;
        }
        counts.found += 1;
        if before.get(user).and_then(|l| l.1.as_ref()) == token.as_ref() {
            counts.already_right += 1;
        } else {
            counts.repointed += 1;
        }
    }
    counts
}

fn fill_from_import(report: &mut ReconstructReport, imported: &ImportReport) {
    for (key, entity) in [
        ("roles", "roles"),
        ("user_roles", "user_roles"),
        ("invite_tokens", "invite_tokens"),
        ("invite_token_usage", "invite_token_usage"),
        ("sessions", "sessions"),
    ] {
        report.relationships.insert(
            key.to_string(),
            RelationshipCounts::from_import(&imported.counts(entity)),
        );
    }
}

/// A column that names a user.
struct UserColumn {
    relationship: &'static str,
    table: &'static str,
    column: &'static str,
    /// Written by the roles or sessions phase: repaired after it.
    late: bool,
}

const USER_COLUMNS: [UserColumn; 6] = [
    UserColumn {
        relationship: "prayer_mark_user",
        table: "prayermark",
        late: false,
        column: "username",
    },
    UserColumn {
        relationship: "prayer_skip_user",
        table: "prayerskip",
        late: false,
        column: "user_id",
    },
    UserColumn {
        relationship: "activity_log_user",
        table: "prayer_activity_log",
        late: false,
        column: "user_id",
    },
    UserColumn {
        relationship: "attribute_creator",
        table: "prayer_attributes",
        late: false,
        column: "created_by",
    },
    UserColumn {
        relationship: "user_role_user",
        table: "user_roles",
        late: true,
        column: "user_id",
    },
    UserColumn {
        relationship: "session_user",
        table: "session",
        late: true,
        column: "username",
    },
];

/// How an orphan's archive name resolves.
enum Resolution {
    /// An existing user.
    User(String),
    /// A name of the archives that may be created.
    Create(String),
    /// Nothing fits.
    None(String),
}

/// The users, exactly and normalised.
struct Users {
    exact: HashSet<String>,
    by_normal: HashMap<String, Vec<String>>,
}

impl Users {
    fn load(conn: &Connection) -> Result<Users> {
        let mut stmt = conn.prepare("SELECT display_name FROM user")?;
        let exact: HashSet<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<std::result::Result<_, _>>()?;
        let mut by_normal: HashMap<String, Vec<String>> = HashMap::new();
        for name in &exact {
            by_normal
                .entry(normalise(name))
                .or_default()
                .push(name.clone());
        }
        Ok(Users { exact, by_normal })
    }

    fn add(&mut self, name: &str) {
        self.exact.insert(name.to_string());
        self.by_normal
            .entry(normalise(name))
            .or_default()
            .push(name.to_string());
    }

    /// Resolves an archive name: an existing user (exactly, then normalised), else a name
    /// the archives allow creating.
    fn resolve(&self, archive_name: &str, names: &ArchiveNames) -> Resolution {
        if self.exact.contains(archive_name) {
            return Resolution::User(archive_name.to_string());
        }
        match self
            .by_normal
            .get(&normalise(archive_name))
            .map(Vec::as_slice)
        {
            Some([one]) => return Resolution::User(one.clone()),
            Some(many) if many.len() > 1 => {
                return Resolution::None(format!(
                    "{archive_name:?} matches {} users when case and spaces are ignored",
                    many.len()
                ))
            }
            _ => {}
        }
        if names.creatable.contains_key(archive_name) {
            return Resolution::Create(archive_name.to_string());
        }
        Resolution::None(format!(
            "{archive_name:?} is no user, and no registration, prayer author or activity actor of the archives"
        ))
    }
}

/// The archive's name for a row that names `held`: the same name when the archives carry
/// it, else the one archive name equal to it after normalising.
fn archive_name_for<'n>(
    held: &'n str,
    names: &'n ArchiveNames,
) -> std::result::Result<&'n str, String> {
    if names.creatable.contains_key(held) {
        return Ok(held);
    }
    match names.by_normal.get(&normalise(held)).map(Vec::as_slice) {
        Some([one]) => Ok(one.as_str()),
        Some(many) if many.len() > 1 => Err(format!(
            "{held:?} matches {} archive names when case and spaces are ignored",
            many.len()
        )),
        _ => Err(format!("the archives name no one like {held:?}")),
    }
}

fn create_user(
    conn: &Connection,
    name: &str,
    names: &ArchiveNames,
    users: &mut Users,
    created: &mut Vec<String>,
) -> Result<()> {
    let (at, path) = names.creatable.get(name).cloned().unwrap_or((None, None));
    insert_user(
        conn,
        &NewUser {
            display_name: name,
            created_at: at.unwrap_or_else(|| chrono::Utc::now().naive_utc()),
            invited_by_username: None,
            text_file_path: path.as_deref(),
        },
    )?;
    users.add(name);
    created.push(name.to_string());
    Ok(())
}

fn repair_orphans(
    conn: &Connection,
    names: &ArchiveNames,
    max: usize,
    created: &mut Vec<String>,
    pass: OrphanPass,
) -> Result<Vec<(String, RelationshipCounts)>> {
    let mut users = Users::load(conn)?;
    let mut out = Vec::new();
    if pass == OrphanPass::Grants {
        for column in USER_COLUMNS.iter().filter(|c| c.late) {
            out.push(repair_column(
                conn, column, names, &mut users, max, created,
            )?);
        }
        return Ok(out);
    }

    // Prayer authors, record by record from each prayer's own file.
    let mut counts = RelationshipCounts::default();
    let orphans: Vec<(String, Option<String>)> = {
        let mut stmt = conn.prepare(
            "SELECT id, author_username FROM prayer WHERE author_username IS NULL \
             OR NOT EXISTS (SELECT 1 FROM user WHERE display_name = prayer.author_username) \
             ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    let total = count(conn, "SELECT COUNT(*) FROM prayer")?;
    counts.found = orphans.len() as u64;
    counts.already_right = total - counts.found;
    for (id, held) in orphans {
        let Some(archive_name) = names.prayer_authors.get(&id) else {
            counts.unresolved(
                max,
                &id,
                1,
                "no prayer file of the archives has this id".into(),
            );
            continue;
        };
        let target = match users.resolve(archive_name, names) {
            Resolution::User(user) => user,
            Resolution::Create(name) => {
                create_user(conn, &name, names, &mut users, created)?;
                name
            }
            Resolution::None(reason) => {
                counts.unresolved(max, &id, 1, reason);
                continue;
            }
        };
        if held.as_deref() == Some(target.as_str()) {
            counts.inserted += 1;
        } else {
            conn.execute(
                "UPDATE prayer SET author_username = ?1 WHERE id = ?2",
                params![target, id],
            )?;
            counts.repointed += 1;
        }
    }
    out.push(("prayer_author".to_string(), counts));

    // The other columns, name by name.
    for column in USER_COLUMNS.iter().filter(|c| !c.late) {
        out.push(repair_column(
            conn, column, names, &mut users, max, created,
        )?);
    }
    Ok(out)
}

/// Which orphans a pass repairs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OrphanPass {
    /// Prayer authors and the activity tables, before the later phases.
    Activity,
    /// Grants and sessions, after the phases that write them.
    Grants,
}

/// The orphans of one column, name by name.
fn repair_column(
    conn: &Connection,
    column: &UserColumn,
    names: &ArchiveNames,
    users: &mut Users,
    max: usize,
    created: &mut Vec<String>,
) -> Result<(String, RelationshipCounts)> {
    let UserColumn {
        relationship,
        table,
        column,
        ..
    } = column;
    let mut counts = RelationshipCounts::default();
    if !table_exists(conn, table)? {
        return Ok((relationship.to_string(), counts));
    }
    let orphans: Vec<(String, u64)> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT {column}, COUNT(*) FROM {table} WHERE {column} IS NOT NULL AND {column} != '' \
             AND NOT EXISTS (SELECT 1 FROM user WHERE display_name = {table}.{column}) \
             GROUP BY {column} ORDER BY {column}"
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    let total = count(
        conn,
        &format!("SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL AND {column} != ''"),
    )?;
    counts.found = orphans.iter().map(|(_, n)| n).sum();
    counts.already_right = total - counts.found;
    for (held, rows) in orphans {
        let archive_name = match archive_name_for(&held, names) {
            Ok(name) => name,
            Err(reason) => {
                counts.unresolved(max, &held, rows, reason);
                continue;
            }
        };
        let target = match users.resolve(archive_name, names) {
            Resolution::User(user) => user,
            Resolution::Create(name) => {
                create_user(conn, &name, names, users, created)?;
                name
            }
            Resolution::None(reason) => {
                counts.unresolved(max, &held, rows, reason);
                continue;
            }
        };
        if target == held {
            counts.inserted += rows;
        } else {
            let changed = conn.execute(
                &format!("UPDATE {table} SET {column} = ?1 WHERE {column} = ?2"),
                params![target, held],
            )?;
            counts.repointed += changed as u64;
        }
    }
    Ok((relationship.to_string(), counts))
}

fn count(conn: &Connection, sql: &str) -> Result<u64> {
    let n: i64 = conn.query_row(sql, [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

fn table_exists(conn: &Connection, table: &str) -> Result<bool> {
    Ok(conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?
        .exists([table])?)
}
