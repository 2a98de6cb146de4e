//! `heal-archives`: the database written back into the text archives.
//!
//! Every prayer, registration and ledger row of the database is looked for in the archive
//! by parsing the files (never by file times or by the stored paths alone), and what is
//! missing is written with the archive's own byte-identical renderers, through its atomic
//! creates and `flock`-ed appends:
//!
//! - a prayer without a file gets one, at its stored `text_file_path` when that name is
//!   free, else under the format's collision rule, with names reserved within the run;
//! - a prayer file that lacks some of the prayer's activity (its activity log, its marks,
//!   its attributes) is rewritten in place, atomically, with the missing lines added in
//!   time order (never a sibling file);
//! - a prayer is never pointed at a file whose title names another prayer;
//! - a user whose registration line no monthly file holds gets the line appended;
//! - marks, skips and attributes missing from the monthly ledgers get their lines.
//!
//! The work is planned first, then applied; a dry run reports the plan. The
//! database is only read, in one short read transaction, except for the stored paths
//! that change, written at the end in one short write transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDateTime;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::heal_activity::{self, ActivityEvent};
use super::heal_records;
use crate::archive::categorization::Categorization;
use crate::archive::fileops::{self, entry_type, EntryType};
use crate::archive::layout::{self, pathlib_str, LedgerKind};
use crate::archive::ledger::{self, LedgerRecord};
use crate::archive::pipe::{self, PipeFile, PipeHeader};
use crate::archive::prayer::{self, ActivityAction, PrayerActivity, PrayerArchive};
use crate::archive::record::Record;
use crate::archive::system::InviteUsageRecord;
use crate::archive::user_attributes::{UserAttributes, UserAttributesFile};
use crate::archive::users::{self, UserRegistration};
use crate::archive::writer::DISABLED_PLACEHOLDER_PREFIX;
use crate::db::encode::{minute_number, parse_datetime};
use crate::db::{ArchiveTimeZone, Database, OpenOptions};
use crate::progress::{self, Progress};
use crate::pycompat::datetime::PyDateTime;
use crate::pycompat::number::PyNumber;
use crate::{Error, Result};

/// Which monthly ledgers (`prayers/marks`, `prayers/skips`, `prayers/attributes`) heal
/// writes. Some ThyWill versions keep no ledgers; writing them into such an archive would
/// add files its app never writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerPolicy {
    /// A ledger whose folder exists is healed; when the archive has no `prayers/` folder
    /// at all (it is being rebuilt), every ledger is written. The default.
    #[default]
    Auto,
    /// Every ledger is healed, its folder created if needed.
    Always,
    /// No ledger is touched.
    Never,
}

/// Options of [`heal_archives`] and [`crate::recovery::sync_users::sync_users`].
/// Deserializes from a JSON object of these fields, each optional (the C options document).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealOptions {
    /// Plan and report everything, write nothing (files or database).
    pub dry_run: bool,
    /// The zone the archive's human timestamps were written in: a line matches a row of
    /// its minute, or of its minute shifted to UTC (rows ThyWill wrote with `utcnow()`).
    /// New lines carry the database's own times, as ThyWill's heal writes them.
    pub time_zone: ArchiveTimeZone,
    /// Prefix of the stored `text_file_path` values, relative to ThyWill's project folder
    /// (default `text_archives`): `text_archives/prayers/…` names `<archive root>/prayers/…`.
    pub path_prefix: String,
    /// Which ledgers are healed.
    pub ledgers: LedgerPolicy,
}

impl Default for HealOptions {
    fn default() -> Self {
        HealOptions {
            dry_run: false,
            time_zone: ArchiveTimeZone::Local,
            path_prefix: "text_archives".into(),
            ledgers: LedgerPolicy::Auto,
        }
    }
}

/// Prayer counts of a [`HealReport`] (ThyWill's `Total prayers`, `Prayers healed`,
/// `Prayers already healthy` are `total`, `healed`, `healthy`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PrayerHealCounts {
    /// Prayers in the database.
    pub total: u64,
    /// Prayers whose file was written or rewritten, or whose stored path changed.
    pub healed: u64,
    /// Prayers whose file holds everything and whose stored path names it.
    pub healthy: u64,
    /// New prayer files.
    pub files_created: u64,
    /// Existing prayer files rewritten in place with their missing activity lines.
    pub files_rewritten: u64,
    /// `prayer.text_file_path` values changed.
    pub paths_updated: u64,
    /// Activity lines written (in new and in rewritten files).
    pub activity_lines_written: u64,
    /// Categorization blocks written (in new and in rewritten files). Only in an archive
    /// that has such blocks already: ThyWill writes them only with
    /// `CATEGORIZATION_METADATA_EXPORT` on (off by default).
    pub categorization_blocks_written: u64,
}

/// User counts of a [`HealReport`] (ThyWill's `Total users`, `Users healed`, `Users
/// already healthy`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserHealCounts {
    /// Users in the database.
    pub total: u64,
    /// Users whose registration line was appended or whose stored path changed.
    pub healed: u64,
    /// Users whose registration line a monthly file holds and whose stored path names it.
    pub healthy: u64,
    /// Registration lines appended.
    pub registrations_written: u64,
    /// `user.text_file_path` values changed.
    pub paths_updated: u64,
    /// Users whose block of `users/user_attributes.txt` was missing or differed (the
    /// snapshot is then rewritten whole, atomically, as ThyWill's export writes it).
    pub attribute_blocks_written: u64,
}

/// One ledger's counts in a [`HealReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerHealCounts {
    /// Which ledger.
    pub kind: LedgerKind,
    /// Whether it was looked at (see [`LedgerPolicy`]).
    pub healed: bool,
    /// Rows in the database.
    pub rows: u64,
    /// Rows whose line a ledger file holds.
    pub present: u64,
    /// Lines appended.
    pub lines_written: u64,
}

/// Invite-usage counts of a [`HealReport`]: the `token_used` lines of
/// `system/YYYY_MM_invite_usage.txt`, one per `invite_token_usage` row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InviteUsageHealCounts {
    /// Rows in the database.
    pub rows: u64,
    /// Rows whose line a usage file holds.
    pub present: u64,
    /// Lines appended.
    pub lines_written: u64,
}

/// One kind of record's counts in [`ArchivedRecordsHealCounts`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordHealCounts {
    /// Whether missing rows are written: always for the monthly files; for the snapshot
    /// files where the archive keeps them (see [`LedgerPolicy`]).
    pub healed: bool,
    /// Rows in the database (for sessions: the live ones, not expired).
    pub rows: u64,
    /// Rows the archive holds.
    pub present: u64,
    /// Rows written (lines appended, or entries added to a snapshot file).
    pub written: u64,
}

/// Counts of the records kept outside the prayer, user and ledger files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ArchivedRecordsHealCounts {
    /// Roles in `roles/role_definitions.txt` (a snapshot file: healed where the archive
    /// keeps it, see [`LedgerPolicy`]).
    pub roles: RecordHealCounts,
    /// Invite tokens: in `system/invite_tokens.txt` or named by an invite-usage line
    /// (the snapshot is healed where the archive keeps it, see [`LedgerPolicy`]).
    pub invite_tokens: RecordHealCounts,
    /// Live sessions (not expired) in `sessions/YYYY_MM_sessions.txt`.
    pub sessions: RecordHealCounts,
    /// `authenticationrequest` rows in `auth/YYYY_MM_auth_requests.txt`.
    pub auth_requests: RecordHealCounts,
    /// `authapproval` rows in `auth/YYYY_MM_auth_approvals.txt`.
    pub auth_approvals: RecordHealCounts,
    /// `securitylog` rows in `auth/YYYY_MM_security_events.txt`.
    pub security_events: RecordHealCounts,
    /// Rows of export-all's `authentication/auth_audit_logs.txt` (written only into a file
    /// the archive has: ThyWill has no live writer for the audit log).
    pub auth_audit_log: RecordHealCounts,
    /// Rows of export-all's `users/notification_states.txt` (written only into a file the
    /// archive has).
    pub notification_states: RecordHealCounts,
    /// Lines of `activity/activity_YYYY_MM.txt`: one per prayer submitted, mark,
    /// answered/archived/restored/flagged log row and registration.
    pub activity_log: RecordHealCounts,
}

/// What a [`HealChange`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealChangeKind {
    /// A new prayer file.
    PrayerFileCreated,
    /// A prayer file rewritten in place with its missing activity lines.
    PrayerFileRewritten,
    /// `prayer.text_file_path` set to the prayer's file.
    PrayerPathUpdated,
    /// A registration line appended to a monthly users file.
    RegistrationAppended,
    /// `user.text_file_path` set to the monthly file holding the registration.
    UserPathUpdated,
    /// Ledger lines appended to one monthly ledger file.
    LedgerLinesAppended,
    /// Invite-usage lines appended to one monthly usage file.
    InviteUsageAppended,
    /// `users/user_attributes.txt` rewritten from the database.
    UserAttributesRewritten,
    /// `roles/role_definitions.txt` written with the roles it lacked.
    RoleDefinitionsWritten,
    /// `system/invite_tokens.txt` written with the tokens the archive lacked.
    InviteTokensWritten,
    /// Session lines appended to one monthly sessions file.
    SessionsAppended,
    /// Lines appended to one monthly `auth/` file (requests, approvals or security
    /// events; the record names which).
    AuthLinesAppended,
    /// A monthly activity log written whole with the lines it lacked.
    ActivityLogWritten,
    /// An export-all data file (audit log, notification states) written whole with the rows
    /// it lacked.
    ExportFileWritten,
}

/// One change heal made (or, in a dry run, would make).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealChange {
    /// What was done.
    pub kind: HealChangeKind,
    /// The record: a prayer id, a display name, or the ledger kind.
    pub record: String,
    /// The file, relative to the archive root.
    pub path: String,
    /// Why, or how much.
    pub detail: String,
}

/// The result of [`heal_archives`] (and of `sync_users`, whose prayer and ledger counts
/// stay zero).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// The database.
    pub database: PathBuf,
    /// The archive root.
    pub archive_root: PathBuf,
    /// Prayers.
    pub prayers: PrayerHealCounts,
    /// Users (registrations).
    pub users: UserHealCounts,
    /// Marks, skips and attributes ledgers.
    pub ledgers: Vec<LedgerHealCounts>,
    /// Invite usage.
    pub invite_usage: InviteUsageHealCounts,
    /// Roles, invite tokens, sessions and the `auth/` files.
    pub records: ArchivedRecordsHealCounts,
    /// Every change, in the order made.
    pub changes: Vec<HealChange>,
    /// Rows that could not be archived (an unreadable time, a name the format cannot
    /// hold) and other remarks; none of them stops the run.
    pub notes: Vec<String>,
}

impl HealReport {
    /// Whether the run wrote (or, dry, would write) anything.
    pub fn changed_anything(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// Writes the missing archive files and lines for the records of the database at
/// `db_path` into the archive rooted at `archive_root` (see the module documentation).
pub fn heal_archives(
    db_path: impl AsRef<Path>,
    archive_root: impl AsRef<Path>,
    options: &HealOptions,
    progress: &dyn Progress,
) -> Result<HealReport> {
    run(
        db_path.as_ref(),
        archive_root.as_ref(),
        options,
        Scope::All,
        None,
        progress,
    )
}

/// [`heal_archives`] as if the time were `now_utc` (naive UTC): it decides which sessions
/// are live and which invite tokens have expired, and stamps a snapshot file heal creates
/// (in [`HealOptions::time_zone`]). For reproducible runs and tests.
pub fn heal_archives_at(
    db_path: impl AsRef<Path>,
    archive_root: impl AsRef<Path>,
    options: &HealOptions,
    now_utc: NaiveDateTime,
    progress: &dyn Progress,
) -> Result<HealReport> {
    crate::audit::recorded(
        db_path.as_ref(),
        "recovery.heal_archives",
        crate::audit::arguments([
            ("database", serde_json::json!(db_path.as_ref())),
            ("archive_root", serde_json::json!(archive_root.as_ref())),
            ("options", serde_json::json!(options)),
        ]),
        |report: &HealReport| serde_json::json!({"dry_run": report.dry_run, "changes": report.changes.len()}),
        || {
            heal_archives_at_unrecorded(
                db_path.as_ref(),
                archive_root.as_ref(),
                options,
                now_utc,
                progress,
            )
        },
    )
}

fn heal_archives_at_unrecorded(
    db_path: impl AsRef<Path>,
    archive_root: impl AsRef<Path>,
    options: &HealOptions,
    now_utc: NaiveDateTime,
    progress: &dyn Progress,
) -> Result<HealReport> {
    run(
        db_path.as_ref(),
        archive_root.as_ref(),
        options,
        Scope::All,
        Some(now_utc),
        progress,
    )
}

/// What a run heals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    All,
    Registrations,
}

pub(crate) fn run(
    db_path: &Path,
    archive_root: &Path,
    options: &HealOptions,
    scope: Scope,
    now_utc: Option<NaiveDateTime>,
    progress: &dyn Progress,
) -> Result<HealReport> {
    // A dry run creates nothing: a missing root is planned as an empty archive.
    if !archive_root.is_dir() && !options.dry_run {
        std::fs::create_dir_all(archive_root).map_err(|e| Error::io(archive_root, e))?;
    }
    let db = open_database(db_path, options.dry_run)?;
    let snapshot = Snapshot::read(db.connection(), scope)?;
    let scan = ArchiveScan::read(archive_root, scope, progress)?;
    let mut plan = plan(&snapshot, &scan, archive_root, options, scope, progress)?;
    if scope == Scope::All {
        let clock = clock(now_utc, &options.time_zone);
        let claimed: HashSet<String> = snapshot
            .invite_usage
            .iter()
            .map(|u| u.token.clone())
            .collect();
        let records = heal_records::plan_records(
            db.connection(),
            archive_root,
            options,
            scan.has_prayers_dir,
            &claimed,
            clock,
        )?;
        plan.add_records(records);
        let activity = heal_activity::plan_activity(
            &snapshot.activity_events(),
            archive_root,
            options,
            scan.has_prayers_dir,
        )?;
        plan.add_activity(activity);
    }
    let mut report = plan.report(db_path, archive_root, options.dry_run);
    report.notes.extend(snapshot.notes.iter().cloned());
    report.notes.extend(scan.notes.iter().cloned());
    if !options.dry_run {
        plan.apply(&db, archive_root, progress)?;
    }
    Ok(report)
}

/// The run's clock: `now_utc`, or the system clock; local time in the archive's zone.
fn clock(now_utc: Option<NaiveDateTime>, zone: &ArchiveTimeZone) -> heal_records::Clock {
    let utc = now_utc.unwrap_or_else(|| chrono::Utc::now().naive_utc());
    let offset = match zone {
        ArchiveTimeZone::Utc => 0,
        ArchiveTimeZone::FixedOffsetSeconds(s) => *s,
        ArchiveTimeZone::Local => {
            use chrono::{Offset, TimeZone};
            chrono::Local
                .offset_from_utc_datetime(&utc)
                .fix()
                .local_minus_utc()
        }
    };
    heal_records::Clock {
        utc,
        local: utc + chrono::Duration::seconds(i64::from(offset)),
    }
}

pub(crate) fn open_database(db_path: &Path, read_only: bool) -> Result<Database> {
    if !db_path.is_file() {
        return Err(Error::NotFound {
            what: format!("database {}", db_path.display()),
        });
    }
    Database::open(
        db_path,
        &OpenOptions {
            read_only,
            switch_to_wal: !read_only,
            ..OpenOptions::default()
        },
    )
}

// ---------------------------------------------------------------------------------------
// The database side.

#[derive(Debug, Clone)]
pub(crate) struct DbPrayer {
    pub(crate) id: String,
    pub(crate) author: String,
    pub(crate) text: String,
    pub(crate) generated_prayer: Option<String>,
    pub(crate) project_tag: Option<String>,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) text_file_path: Option<String>,
    /// The six categorization values, when the table has their columns.
    pub(crate) categorization: Option<Categorization>,
}

#[derive(Debug, Clone)]
struct DbLog {
    user: String,
    action: String,
    old: Option<String>,
    new: Option<String>,
    at: NaiveDateTime,
}

#[derive(Debug, Clone)]
struct DbMark {
    user: String,
    at: NaiveDateTime,
}

#[derive(Debug, Clone)]
struct DbAttribute {
    name: String,
    value: Option<String>,
    user: Option<String>,
    at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub(crate) struct DbUser {
    pub(crate) name: String,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) invited_by: Option<String>,
    pub(crate) text_file_path: Option<String>,
    /// The user's flags as `users/user_attributes.txt` carries them (`None` when the
    /// table lacks the columns).
    pub(crate) attributes: Option<UserAttributes>,
}

/// One row a ledger line stands for.
#[derive(Debug, Clone)]
pub(crate) struct LedgerRow {
    pub(crate) prayer_id: String,
    pub(crate) user: String,
    pub(crate) at: NaiveDateTime,
    pub(crate) name: Option<String>,
    pub(crate) value: Option<String>,
}

/// One `invite_token_usage` row.
#[derive(Debug, Clone)]
pub(crate) struct UsageRow {
    pub(crate) token: String,
    pub(crate) user: String,
    pub(crate) at: NaiveDateTime,
    pub(crate) created_by: String,
}

/// What the database holds, read in one read transaction.
#[derive(Default)]
pub(crate) struct Snapshot {
    pub(crate) prayers: Vec<DbPrayer>,
    logs: HashMap<String, Vec<DbLog>>,
    marks: HashMap<String, Vec<DbMark>>,
    attributes: HashMap<String, Vec<DbAttribute>>,
    pub(crate) users: Vec<DbUser>,
    /// Ledger rows per kind (marks, skips, attributes).
    pub(crate) ledger_rows: BTreeMap<LedgerKindKey, Vec<LedgerRow>>,
    /// `invite_token_usage` rows: token, user, claim time, token creator.
    pub(crate) invite_usage: Vec<UsageRow>,
    pub(crate) notes: Vec<String>,
}

/// [`LedgerKind`] as a map key, in the order marks, skips, attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum LedgerKindKey {
    Marks,
    Skips,
    Attributes,
}

impl LedgerKindKey {
    pub(crate) const ALL: [LedgerKindKey; 3] = [
        LedgerKindKey::Marks,
        LedgerKindKey::Skips,
        LedgerKindKey::Attributes,
    ];

    pub(crate) fn kind(self) -> LedgerKind {
        match self {
            LedgerKindKey::Marks => LedgerKind::Marks,
            LedgerKindKey::Skips => LedgerKind::Skips,
            LedgerKindKey::Attributes => LedgerKind::Attributes,
        }
    }
}

pub(super) fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

impl Snapshot {
    pub(crate) fn read(conn: &Connection, scope: Scope) -> Result<Snapshot> {
        // One read transaction: a consistent picture while ThyWill may be writing.
        conn.execute_batch("BEGIN")?;
        let result = Snapshot::read_in_transaction(conn, scope);
        // Ending a read transaction cannot lose anything; a failure to end it is SQLite
        // closing it anyway.
        let _ = conn.execute_batch("COMMIT");
        result
    }

    fn read_in_transaction(conn: &Connection, scope: Scope) -> Result<Snapshot> {
        let mut s = Snapshot::default();
        if table_exists(conn, "user")? {
            // A user who claimed a system token was archived as joining directly, although
            // the database names the admin as inviter.
            let system_token = if table_exists(conn, "invitetoken")? {
                "EXISTS (SELECT 1 FROM invitetoken t WHERE t.token = user.invite_token_used \
                 AND t.created_by_user = 'system')"
            } else {
                "0"
            };
            let columns = crate::db::table_columns(conn, "user")?;
            let flags = [
                "is_supporter",
                "supporter_since",
                "supporter_type",
                "welcome_message_dismissed",
            ]
            .iter()
            .all(|c| columns.iter().any(|have| have == c));
            let flag_columns = if flags {
                "is_supporter, supporter_since, supporter_type, welcome_message_dismissed"
            } else {
                "NULL, NULL, NULL, NULL"
            };
            let mut stmt = conn.prepare(&format!(
                "SELECT display_name, created_at, invited_by_username, text_file_path, \
                 {system_token}, {flag_columns} FROM user ORDER BY created_at, rowid"
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let name: String = r.get(0)?;
                let Some(created_at) =
                    time_of(&mut s.notes, "user", "created_at", &name, r.get(1)?)
                else {
                    continue;
                };
                let joined_directly: bool = r.get(4)?;
                let attributes = if flags {
                    let since: Option<String> = r.get(6)?;
                    Some(UserAttributes {
                        username: name.clone(),
                        is_supporter: r.get::<_, Option<bool>>(5)?.unwrap_or(false),
                        supporter_since: since
                            .as_deref()
                            .and_then(|t| parse_datetime(t).ok())
                            .map(|t| t.date()),
                        supporter_type: r.get(7)?,
                        welcome_message_dismissed: r.get::<_, Option<bool>>(8)?.unwrap_or(false),
                        other: Vec::new(),
                    })
                } else {
                    None
                };
                s.users.push(DbUser {
                    name,
                    created_at,
                    invited_by: if joined_directly { None } else { r.get(2)? },
                    text_file_path: r.get(3)?,
                    attributes,
                });
            }
        }
        if scope == Scope::Registrations {
            return Ok(s);
        }
        if table_exists(conn, "prayer")? {
            let columns = crate::db::table_columns(conn, "prayer")?;
            let categorized = [
                "safety_score",
                "safety_flags",
                "subject_category",
                "specificity_type",
                "categorization_method",
                "specificity_confidence",
            ]
            .iter()
            .all(|c| columns.iter().any(|have| have == c));
            let category_columns = if categorized {
                "safety_score, safety_flags, subject_category, specificity_type, \
                 categorization_method, specificity_confidence"
            } else {
                "NULL, NULL, NULL, NULL, NULL, NULL"
            };
            let mut stmt = conn.prepare(&format!(
                "SELECT id, author_username, text, generated_prayer, project_tag, created_at, \
                 text_file_path, {category_columns} FROM prayer ORDER BY created_at, rowid"
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                let Some(created_at) =
                    time_of(&mut s.notes, "prayer", "created_at", &id, r.get(5)?)
                else {
                    continue;
                };
                s.prayers.push(DbPrayer {
                    id,
                    author: r.get(1)?,
                    text: r.get(2)?,
                    generated_prayer: r.get(3)?,
                    project_tag: r.get(4)?,
                    created_at,
                    text_file_path: r.get(6)?,
                    categorization: if categorized {
                        categorization_of(r)?
                    } else {
                        None
                    },
                });
            }
        }
        if table_exists(conn, "prayer_activity_log")? {
            let mut stmt = conn.prepare(
                "SELECT prayer_id, user_id, action, old_value, new_value, created_at \
                 FROM prayer_activity_log ORDER BY rowid",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let prayer_id: String = r.get(0)?;
                let Some(at) = time_of(
                    &mut s.notes,
                    "prayer_activity_log",
                    "created_at",
                    &prayer_id,
                    r.get(5)?,
                ) else {
                    continue;
                };
                s.logs.entry(prayer_id).or_default().push(DbLog {
                    user: r.get(1)?,
                    action: r.get(2)?,
                    old: r.get(3)?,
                    new: r.get(4)?,
                    at,
                });
            }
        }
        if table_exists(conn, "prayermark")? {
            let mut stmt = conn
                .prepare("SELECT prayer_id, username, created_at FROM prayermark ORDER BY rowid")?;
            let mut rows = stmt.query([])?;
            let mut ledger = Vec::new();
            while let Some(r) = rows.next()? {
                let prayer_id: String = r.get(0)?;
                let user: String = r.get(1)?;
                let Some(at) = time_of(
                    &mut s.notes,
                    "prayermark",
                    "created_at",
                    &prayer_id,
                    r.get(2)?,
                ) else {
                    continue;
                };
                ledger.push(LedgerRow {
                    prayer_id: prayer_id.clone(),
                    user: user.clone(),
                    at,
                    name: None,
                    value: None,
                });
                s.marks
                    .entry(prayer_id)
                    .or_default()
                    .push(DbMark { user, at });
            }
            s.ledger_rows.insert(LedgerKindKey::Marks, ledger);
        }
        if table_exists(conn, "prayerskip")? {
            let mut stmt = conn
                .prepare("SELECT prayer_id, user_id, created_at FROM prayerskip ORDER BY rowid")?;
            let mut rows = stmt.query([])?;
            let mut ledger = Vec::new();
            while let Some(r) = rows.next()? {
                let prayer_id: String = r.get(0)?;
                let Some(at) = time_of(
                    &mut s.notes,
                    "prayerskip",
                    "created_at",
                    &prayer_id,
                    r.get(2)?,
                ) else {
                    continue;
                };
                ledger.push(LedgerRow {
                    prayer_id,
                    user: r.get(1)?,
                    at,
                    name: None,
                    value: None,
                });
            }
            s.ledger_rows.insert(LedgerKindKey::Skips, ledger);
        }
        if table_exists(conn, "prayer_attributes")? {
            let mut stmt = conn.prepare(
                "SELECT prayer_id, attribute_name, attribute_value, created_by, created_at \
                 FROM prayer_attributes ORDER BY rowid",
            )?;
            let mut rows = stmt.query([])?;
            let mut ledger = Vec::new();
            while let Some(r) = rows.next()? {
                let prayer_id: String = r.get(0)?;
                let Some(at) = time_of(
                    &mut s.notes,
                    "prayer_attributes",
                    "created_at",
                    &prayer_id,
                    r.get(4)?,
                ) else {
                    continue;
                };
                let attribute = DbAttribute {
                    name: r.get(1)?,
                    value: r.get(2)?,
                    user: r.get(3)?,
                    at,
                };
                ledger.push(LedgerRow {
                    prayer_id: prayer_id.clone(),
                    user: attribute.user.clone().unwrap_or_else(|| "system".into()),
                    at,
                    name: Some(attribute.name.clone()),
                    value: attribute.value.clone(),
                });
                s.attributes.entry(prayer_id).or_default().push(attribute);
            }
            s.ledger_rows.insert(LedgerKindKey::Attributes, ledger);
        }
        if table_exists(conn, "invite_token_usage")? {
            let creator = if table_exists(conn, "invitetoken")? {
                "(SELECT t.created_by_user FROM invitetoken t WHERE t.token = u.invite_token_id)"
            } else {
                "NULL"
            };
            let mut stmt = conn.prepare(&format!(
                "SELECT u.invite_token_id, u.user_id, u.claimed_at, {creator} \
                 FROM invite_token_usage u ORDER BY u.rowid"
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let token: String = r.get(0)?;
                let Some(at) = time_of(
                    &mut s.notes,
                    "invite_token_usage",
                    "created_at",
                    &token,
                    r.get(2)?,
                ) else {
                    continue;
                };
                s.invite_usage.push(UsageRow {
                    token,
                    user: r.get(1)?,
                    at,
                    created_by: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                });
            }
        }
        Ok(s)
    }

    /// The lines the database implies for the monthly activity log, in time order: a
    /// prayer submitted, a mark, an answered/archived/restored/flagged log row, a
    /// registration.
    pub(crate) fn activity_events(&self) -> Vec<ActivityEvent> {
        let mut events = Vec::new();
        for user in &self.users {
            events.push(ActivityEvent {
                at: user.created_at,
                rank: 0,
                user: user.name.clone(),
                action: match &user.invited_by {
                    Some(inviter) => format!("registered via invitation from {inviter}"),
                    None => "registered directly".into(),
                },
                tag: None,
            });
        }
        for prayer in &self.prayers {
            events.push(ActivityEvent {
                at: prayer.created_at,
                rank: 1,
                user: prayer.author.clone(),
                action: format!("submitted prayer {}", prayer.id),
                tag: prayer.project_tag.clone(),
            });
        }
        for (prayer_id, marks) in &self.marks {
            for mark in marks {
                events.push(ActivityEvent {
                    at: mark.at,
                    rank: 2,
                    user: mark.user.clone(),
                    action: format!("prayed for prayer {prayer_id}"),
                    tag: None,
                });
            }
        }
        for (prayer_id, logs) in &self.logs {
            for log in logs {
                let set = log.new.as_deref() == Some("true");
                let action = match log.action.as_str() {
                    "answered" => format!("marked prayer {prayer_id} as answered"),
                    "set_answered" if set => format!("marked prayer {prayer_id} as answered"),
                    "archived" => format!("archived prayer {prayer_id}"),
                    "set_archived" if set => format!("archived prayer {prayer_id}"),
                    "restored" | "remove_archived" => format!("restored prayer {prayer_id}"),
                    "flagged" => format!("flagged prayer {prayer_id}"),
                    "set_flagged" if set => format!("flagged prayer {prayer_id}"),
                    _ => continue,
                };
                events.push(ActivityEvent {
                    at: log.at,
                    rank: 3,
                    user: log.user.clone(),
                    action,
                    tag: None,
                });
            }
        }
        // The maps iterate in no fixed order: ties are broken by the line's text.
        events.sort_by(|a, b| {
            (a.at, a.rank, &a.user, &a.action).cmp(&(b.at, b.rank, &b.user, &b.action))
        });
        events
    }

    /// The activity lines the database says a prayer's file should hold, in time order:
    /// one per activity-log row (companion rows the app writes beside one line are folded
    /// into it), then a `prayed` line per mark and a `set` line per attribute that no log
    /// row accounts for.
    pub(crate) fn expected_lines(&self, prayer_id: &str) -> Vec<ExpectedLine> {
        let logs = self.logs.get(prayer_id).map(Vec::as_slice).unwrap_or(&[]);
        let mut lines: Vec<ExpectedLine> = Vec::new();
        let mut extra: Vec<ExpectedLine> = Vec::new();
        let same =
            |a: &DbLog, b: &DbLog| a.user == b.user && minute_number(&a.at) == minute_number(&b.at);
        for (i, log) in logs.iter().enumerate() {
            let has = |action: &str| logs.iter().any(|o| o.action == action && same(o, log));
            let action = match log.action.as_str() {
                "prayed" => Some(ActivityAction::Prayed),
                "answered" => Some(ActivityAction::Answered),
                "archived" => Some(ActivityAction::Archived),
                "restored" | "remove_archived" => Some(ActivityAction::Restored),
                "flagged" => Some(ActivityAction::Flagged),
                "testimony" => Some(ActivityAction::Testimony {
                    text: log.new.clone().unwrap_or_default(),
                }),
                "set_answered" if log.new.as_deref() == Some("true") => {
                    Some(ActivityAction::Answered)
                }
                "set_archived" if log.new.as_deref() == Some("true") => {
                    Some(ActivityAction::Archived)
                }
                "set_flagged" if log.new.as_deref() == Some("true") => {
                    Some(ActivityAction::Flagged)
                }
                // The app logs these beside the line of the action they belong to.
                "set_answer_date" if has("set_answered") || has("answered") => None,
                "set_answer_testimony" if has("testimony") => None,
                other => Some(ActivityAction::from_thywill(
                    other,
                    log.new.as_deref(),
                    log.old.as_deref(),
                    log.new.as_deref(),
                )),
            };
            if let Some(action) = action {
                lines.push(ExpectedLine {
                    at: log.at,
                    order: i,
                    activity: PrayerActivity::new(log.at, log.user.clone(), action),
                });
            }
        }
        // Marks without their `prayed` log row (multiplicity per user and minute).
        let mut prayed: HashMap<(&str, i64), usize> = HashMap::new();
        for log in logs.iter().filter(|l| l.action == "prayed") {
            *prayed
                .entry((log.user.as_str(), minute_number(&log.at)))
                .or_default() += 1;
        }
        let base = logs.len();
        for (j, mark) in self.marks.get(prayer_id).into_iter().flatten().enumerate() {
            let key = (mark.user.as_str(), minute_number(&mark.at));
            match prayed.get_mut(&key) {
                Some(n) if *n > 0 => *n -= 1,
                _ => extra.push(ExpectedLine {
                    at: mark.at,
                    order: base + j,
                    activity: PrayerActivity::new(
                        mark.at,
                        mark.user.clone(),
                        ActivityAction::Prayed,
                    ),
                }),
            }
        }
        // Attributes no log row set.
        let base = base + self.marks.get(prayer_id).map_or(0, Vec::len);
        for (j, attribute) in self
            .attributes
            .get(prayer_id)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let name = attribute.name.as_str();
            let accounted = logs.iter().any(|l| {
                l.action == format!("set_{name}")
                    || l.action == name
                    || (name == "answer_date"
                        && matches!(l.action.as_str(), "set_answered" | "answered"))
                    || (name == "answer_testimony" && l.action == "testimony")
            });
            if !accounted {
                let user = attribute.user.clone().unwrap_or_else(|| "system".into());
                extra.push(ExpectedLine {
                    at: attribute.at,
                    order: base + j,
                    activity: PrayerActivity::new(
                        attribute.at,
                        user,
                        ActivityAction::SetAttribute {
                            name: name.to_string(),
                            old: None,
                            new: attribute.value.clone().unwrap_or_else(|| "None".into()),
                        },
                    ),
                });
            }
        }
        // Log rows are in insertion order, which is the order ThyWill appended their lines
        // (an offline mark carries its client's earlier time); rows without a log row go
        // before the first line of a later time.
        extra.sort_by(|a, b| a.at.cmp(&b.at).then(a.order.cmp(&b.order)));
        for line in extra {
            let position = lines
                .iter()
                .position(|l| l.at > line.at)
                .unwrap_or(lines.len());
            lines.insert(position, line);
        }
        lines
    }
}

/// The categorization values of a prayer row (columns 7 to 12), as ThyWill's writer
/// renders its dict: the numbers as floats, the flags as a JSON list (`None` when the
/// flags are not a JSON list of strings).
fn categorization_of(r: &rusqlite::Row<'_>) -> Result<Option<Categorization>> {
    let number = |v: Option<f64>, default: f64| PyNumber::Float(v.unwrap_or(default));
    let flags: Option<String> = r.get(8)?;
    let safety_flags = match flags.as_deref().map(serde_json::from_str::<Vec<String>>) {
        None => Vec::new(),
        Some(Ok(flags)) => flags,
        Some(Err(_)) => return Ok(None),
    };
    let defaults = Categorization::writer_defaults();
    Ok(Some(Categorization {
        safety_score: number(r.get(7)?, 1.0),
        safety_flags,
        subject_category: r
            .get::<_, Option<String>>(9)?
            .unwrap_or(defaults.subject_category),
        specificity_type: r
            .get::<_, Option<String>>(10)?
            .unwrap_or(defaults.specificity_type),
        categorization_method: r
            .get::<_, Option<String>>(11)?
            .unwrap_or(defaults.categorization_method),
        categorization_confidence: number(r.get(12)?, 0.0),
    }))
}

/// The time of a row's `column`, or a note that the row is not archived because the time
/// cannot be read.
pub(super) fn time_of(
    notes: &mut Vec<String>,
    table: &str,
    column: &str,
    key: &str,
    text: Option<String>,
) -> Option<NaiveDateTime> {
    match text.as_deref().map(parse_datetime) {
        Some(Ok(t)) => Some(t),
        _ => {
            notes.push(format!(
                "{table} {key}: unreadable {column} {text:?}; not archived"
            ));
            None
        }
    }
}

/// One activity line the database implies.
#[derive(Debug, Clone)]
pub(crate) struct ExpectedLine {
    at: NaiveDateTime,
    order: usize,
    pub(crate) activity: PrayerActivity,
}

// ---------------------------------------------------------------------------------------
// The archive side.

/// Where a record is in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    pub(crate) file: String,
    pub(crate) line: usize,
}

/// What the archive holds, found by parsing it.
#[derive(Default)]
pub(crate) struct ArchiveScan {
    /// Every prayer file by path relative to the root, with the id its title names.
    pub(crate) prayer_files: BTreeMap<String, Option<String>>,
    /// Prayer files by the id their title names, in path order.
    pub(crate) files_by_id: HashMap<String, Vec<String>>,
    /// Registration lines by user name.
    pub(crate) registrations: HashMap<String, Vec<Location>>,
    /// Ledger records by kind, with their files.
    pub(crate) ledgers: BTreeMap<LedgerKindKey, Vec<(LedgerRecord, String)>>,
    /// `token_used` lines of the invite-usage files that name a user, with their files.
    pub(crate) invite_usage: Vec<(InviteUsageRecord, Location)>,
    /// `users/user_attributes.txt`, parsed, when it exists.
    pub(crate) user_attributes: Option<UserAttributesFile>,
    /// Ledger folders present.
    pub(crate) ledger_dirs: HashSet<LedgerKindKey>,
    /// `prayers/` exists.
    pub(crate) has_prayers_dir: bool,
    /// Some prayer file has a categorization block (ThyWill wrote them: heal writes the
    /// blocks the other files lack).
    pub(crate) has_categorization_blocks: bool,
    /// Lines the parsers could not read, as located remarks.
    pub(crate) unreadable: Vec<(Location, String)>,
    pub(crate) notes: Vec<String>,
}

/// The sorted regular files of a folder (names that are not UTF-8 are noted and left out).
fn sorted_files(dir: &Path, notes: &mut Vec<String>) -> Result<Vec<(String, PathBuf, bool)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let kind = entry_type(&entry).map_err(|e| Error::io(entry.path(), e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            notes.push(format!(
                "{}: a name that is not UTF-8; not read",
                entry.path().display()
            ));
            continue;
        };
        match kind {
            EntryType::File { via_link } => out.push((name, entry.path(), via_link)),
            EntryType::Dir | EntryType::Skipped(_) => {}
        }
    }
    out.sort();
    Ok(out)
}

fn sorted_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry_type(&entry).map_err(|e| Error::io(entry.path(), e))? == EntryType::Dir {
            if let Some(name) = entry.file_name().to_str() {
                out.push((name.to_owned(), entry.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The user-attributes snapshot, relative to the archive root.
pub(crate) const USER_ATTRIBUTES: &str = "users/user_attributes.txt";

/// The 1-based number of the first line of `text` equal to `line` (0 when none is).
pub(crate) fn line_of(text: &str, line: &str) -> usize {
    text.lines().position(|l| l == line).map_or(0, |i| i + 1)
}

/// Whether a prayer file's header (the lines before its first empty line) holds a
/// categorization line.
fn has_categorization_block(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .take_while(|l| !l.is_empty())
        .any(|l| l.starts_with("Safety Score: "))
}

/// The id a prayer file's title line names (`Prayer {id} by {author}`).
pub(crate) fn title_id(bytes: &[u8]) -> Option<String> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let end = bytes
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(bytes.len());
    let first = std::str::from_utf8(bytes.get(..end)?).ok()?;
    let rest = first.strip_prefix("Prayer ")?;
    let (id, _) = rest.split_once(" by ")?;
    (!id.is_empty()).then(|| id.to_string())
}

impl ArchiveScan {
    /// Reads `prayers/YYYY/MM/*.txt`: each file with the id its title names
    /// ([`ArchiveScan::prayer_files`], [`ArchiveScan::files_by_id`]).
    pub(crate) fn read_prayer_files(&mut self, root: &Path, progress: &dyn Progress) -> Result<()> {
        let prayers = root.join("prayers");
        self.has_prayers_dir = prayers.is_dir();
        let mut done = 0u64;
        for (year, year_dir) in sorted_dirs(&prayers)? {
            if !year.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            for (month, month_dir) in sorted_dirs(&year_dir)? {
                for (name, path, via_link) in sorted_files(&month_dir, &mut self.notes)? {
                    if !name.ends_with(".txt") {
                        continue;
                    }
                    let rel = format!("prayers/{year}/{month}/{name}");
                    let bytes = fileops::read_listed_file(&path, via_link)?;
                    let id = title_id(&bytes);
                    if !self.has_categorization_blocks && has_categorization_block(&bytes) {
                        self.has_categorization_blocks = true;
                    }
                    if let Some(id) = &id {
                        self.files_by_id
                            .entry(id.clone())
                            .or_default()
                            .push(rel.clone());
                    }
                    self.prayer_files.insert(rel, id);
                    done += 1;
                    if done.is_multiple_of(256) {
                        progress::report(progress, "scan", done, None)?;
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn read(root: &Path, scope: Scope, progress: &dyn Progress) -> Result<ArchiveScan> {
        let mut scan = ArchiveScan::default();
        // Registrations.
        for (name, path, via_link) in sorted_files(&root.join("users"), &mut scan.notes)? {
            if !name.ends_with("_users.txt") {
                continue;
            }
            let file = format!("users/{name}");
            let bytes = fileops::read_listed_file(&path, via_link)?;
            for item in users::parse_monthly(bytes.as_slice(), Some(Path::new(&file))) {
                match item {
                    Ok(reg) => scan
                        .registrations
                        .entry(reg.name)
                        .or_default()
                        .push(Location {
                            file: file.clone(),
                            line: reg.line,
                        }),
                    Err(d) => scan.unreadable.push((
                        Location {
                            file: file.clone(),
                            line: d.line,
                        },
                        d.reason,
                    )),
                }
            }
        }
        let attributes_path = root.join(USER_ATTRIBUTES);
        if attributes_path.is_file() {
            let bytes = fileops::read_regular_file(&attributes_path)?;
            let (file, _) = UserAttributesFile::parse(&bytes, Some(Path::new(USER_ATTRIBUTES)));
            scan.user_attributes = Some(file);
        }
        if scope == Scope::Registrations {
            return Ok(scan);
        }
        scan.read_prayer_files(root, progress)?;
        let prayers = root.join("prayers");
        for key in LedgerKindKey::ALL {
            let kind = key.kind();
            let dir = prayers.join(kind.word());
            if dir.is_dir() {
                scan.ledger_dirs.insert(key);
            }
            let mut records = Vec::new();
            for (name, path, via_link) in sorted_files(&dir, &mut scan.notes)? {
                if ledger::kind_from_file_name(&name) != Some(kind) {
                    continue;
                }
                let file = format!("prayers/{}/{name}", kind.word());
                let bytes = fileops::read_listed_file(&path, via_link)?;
                for item in ledger::parse_monthly(kind, bytes.as_slice(), Some(Path::new(&file))) {
                    match item {
                        Ok(record) => records.push((record, file.clone())),
                        Err(d) => scan.unreadable.push((
                            Location {
                                file: file.clone(),
                                line: d.line,
                            },
                            d.reason,
                        )),
                    }
                }
            }
            scan.ledgers.insert(key, records);
        }
        for (name, path, via_link) in sorted_files(&root.join("system"), &mut scan.notes)? {
            if !name.ends_with("_invite_usage.txt") {
                continue;
            }
            let file = format!("system/{name}");
            let bytes = fileops::read_listed_file(&path, via_link)?;
            let (parsed, diagnostics) =
                PipeFile::<InviteUsageRecord>::parse(&bytes, Some(Path::new(&file)));
            for d in diagnostics {
                scan.unreadable.push((
                    Location {
                        file: file.clone(),
                        line: d.line,
                    },
                    d.reason,
                ));
            }
            // The parsed records carry no line numbers: header lines come first, then one
            // record per line, so a record's line is found by its text.
            let text = String::from_utf8_lossy(&bytes);
            for record in parsed.records {
                if record.is_link_creation() {
                    continue;
                }
                let line = line_of(&text, &record.render_line());
                scan.invite_usage.push((
                    record,
                    Location {
                        file: file.clone(),
                        line,
                    },
                ));
            }
        }
        Ok(scan)
    }
}

// ---------------------------------------------------------------------------------------
// Matching lines with rows.

/// Matches rows with archive lines by a key and a minute, with multiplicity: a line
/// matches a row of its minute or of its minute shifted to UTC.
pub(crate) struct MinuteMatcher<K> {
    lines: HashMap<K, Vec<(i64, i64, bool, usize)>>,
}

impl<K: std::hash::Hash + Eq> MinuteMatcher<K> {
    pub(crate) fn new() -> Self {
        MinuteMatcher {
            lines: HashMap::new(),
        }
    }

    /// Adds line `index` (any number the caller uses to find it again).
    pub(crate) fn add(&mut self, key: K, at: &NaiveDateTime, zone: &ArchiveTimeZone, index: usize) {
        self.lines.entry(key).or_default().push((
            minute_number(at),
            minute_number(&zone.to_utc(at)),
            false,
            index,
        ));
    }

    /// Consumes a line for a row of `key` at `at`; its index, or `None` when the archive
    /// has no line left for the row.
    pub(crate) fn take(&mut self, key: &K, at: &NaiveDateTime) -> Option<usize> {
        let minute = minute_number(at);
        let lines = self.lines.get_mut(key)?;
        if let Some(l) = lines
            .iter_mut()
            .find(|(local, _, used, _)| !*used && *local == minute)
        {
            l.2 = true;
            return Some(l.3);
        }
        if let Some(l) = lines
            .iter_mut()
            .find(|(_, utc, used, _)| !*used && *utc == minute)
        {
            l.2 = true;
            return Some(l.3);
        }
        None
    }

    /// The indexes of the lines no row took.
    pub(crate) fn unused(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .lines
            .values()
            .flatten()
            .filter(|l| !l.2)
            .map(|l| l.3)
            .collect();
        out.sort_unstable();
        out
    }
}

/// The text of an activity line after its timestamp: what identifies it besides the minute.
fn activity_key(activity: &PrayerActivity) -> String {
    let line = activity.render();
    line.get(activity.timestamp.text.len()..)
        .unwrap_or_default()
        .to_string()
}

/// How a prayer's stored path and its files compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoredPath {
    /// The stored path names a file of this prayer.
    Good,
    /// No path (or ThyWill's placeholder for disabled archives).
    Missing,
    /// The stored path names no file.
    NoFile(String),
    /// The stored path names a file whose title names another prayer (or none).
    OtherPrayer(String, Option<String>),
    /// The stored path lies outside the archive root or is not a plain relative path.
    Outside(String),
}

/// One prayer compared with the archive.
pub(crate) struct PrayerState {
    /// The file of this prayer that heal keeps (relative to the root), if any.
    pub(crate) file: Option<String>,
    /// Further files whose title names this prayer (siblings ThyWill's heal left).
    pub(crate) duplicates: Vec<String>,
    pub(crate) stored: StoredPath,
    /// The stored path resolved relative to the root, when it is a plain relative path.
    pub(crate) stored_relative: Option<String>,
    /// The lines the file should hold, in order.
    pub(crate) expected: Vec<ExpectedLine>,
    /// Indexes into `expected` of the lines the file lacks.
    pub(crate) missing: Vec<usize>,
    /// The parsed file, when there is one.
    pub(crate) parsed: Option<PrayerArchive>,
    /// Indexes into the file's activities of the lines no row accounts for.
    pub(crate) unmatched_in_file: Vec<usize>,
    /// Whether each of the file's activities was matched, and to which expected line.
    file_matches: Vec<Option<usize>>,
    /// Parse problems of the file.
    pub(crate) diagnostics: Vec<(usize, String)>,
}

/// The stored path relative to the archive root, if it is a plain relative path under the
/// prefix (or an absolute path under the root).
pub(crate) fn resolve_stored(stored: &str, prefix: &str, root: &Path) -> Option<String> {
    let normal = pathlib_str(stored);
    let prefix = pathlib_str(prefix);
    let rest = if Path::new(&normal).is_absolute() {
        let root = std::path::absolute(root).ok()?;
        Path::new(&normal)
            .strip_prefix(&root)
            .ok()?
            .to_str()?
            .to_string()
    } else if prefix == "." {
        normal
    } else {
        normal.strip_prefix(&format!("{prefix}/"))?.to_string()
    };
    Path::new(&rest)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(rest)
        .filter(|r| !r.is_empty())
}

/// The stored form of a path relative to the root.
pub(crate) fn stored_of(relative: &str, prefix: &str) -> String {
    pathlib_str(&format!("{prefix}/{relative}"))
}

pub(crate) fn prayer_state(
    root: &Path,
    prayer: &DbPrayer,
    snapshot: &Snapshot,
    scan: &ArchiveScan,
    options: &HealOptions,
) -> Result<PrayerState> {
    let files: &[String] = scan
        .files_by_id
        .get(&prayer.id)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let stored_text = prayer
        .text_file_path
        .as_deref()
        .filter(|p| !p.is_empty() && !p.starts_with(DISABLED_PLACEHOLDER_PREFIX));
    let stored_relative = stored_text.and_then(|p| resolve_stored(p, &options.path_prefix, root));
    let stored = match (stored_text, &stored_relative) {
        (None, _) => StoredPath::Missing,
        (Some(p), None) => StoredPath::Outside(p.to_string()),
        (Some(p), Some(rel)) => match scan.prayer_files.get(rel) {
            None => StoredPath::NoFile(p.to_string()),
            Some(Some(id)) if *id == prayer.id => StoredPath::Good,
            Some(other) => StoredPath::OtherPrayer(p.to_string(), other.clone()),
        },
    };
    // The file kept: the stored one when it is this prayer's, else the first by path.
    let file = if stored == StoredPath::Good {
        stored_relative.clone()
    } else {
        files.first().cloned()
    };
    let duplicates = files
        .iter()
        .filter(|f| Some(*f) != file.as_ref())
        .cloned()
        .collect();
    let expected = snapshot.expected_lines(&prayer.id);
    let mut state = PrayerState {
        file,
        duplicates,
        stored,
        stored_relative,
        expected,
        missing: Vec::new(),
        parsed: None,
        unmatched_in_file: Vec::new(),
        file_matches: Vec::new(),
        diagnostics: Vec::new(),
    };
    let Some(file) = &state.file else {
        state.missing = (0..state.expected.len()).collect();
        return Ok(state);
    };
    let path = root.join(file);
    let bytes = fileops::read_regular_file(&path)?;
    let (parsed, diagnostics) = prayer::parse_bytes(&bytes, Some(Path::new(file)));
    state.diagnostics = diagnostics
        .into_iter()
        .map(|d| (d.line, d.reason))
        .collect();
    let mut matcher = MinuteMatcher::new();
    for (i, activity) in parsed.activities.iter().enumerate() {
        if let Some(at) = activity.timestamp.time {
            matcher.add(activity_key(activity), &at, &options.time_zone, i);
        }
    }
    let mut file_matches = vec![None; parsed.activities.len()];
    for (j, line) in state.expected.iter().enumerate() {
        match matcher.take(&activity_key(&line.activity), &line.at) {
            Some(i) => file_matches[i] = Some(j),
            None => state.missing.push(j),
        }
    }
    state.unmatched_in_file = (0..parsed.activities.len())
        .filter(|i| file_matches[*i].is_none())
        .collect();
    state.file_matches = file_matches;
    state.parsed = Some(parsed);
    Ok(state)
}

impl PrayerState {
    /// The file's activities with the missing lines put where the database orders them:
    /// each before the first line that the database orders after it.
    fn merged_activities(&self) -> Vec<PrayerActivity> {
        let Some(parsed) = &self.parsed else {
            return self.expected.iter().map(|e| e.activity.clone()).collect();
        };
        let mut merged: Vec<(PrayerActivity, Option<usize>)> = parsed
            .activities
            .iter()
            .cloned()
            .zip(self.file_matches.iter().copied())
            .collect();
        for &j in &self.missing {
            let position = merged
                .iter()
                .position(|(_, order)| order.is_some_and(|o| o > j))
                .unwrap_or(merged.len());
            merged.insert(position, (self.expected[j].activity.clone(), Some(j)));
        }
        merged.into_iter().map(|(a, _)| a).collect()
    }
}

// ---------------------------------------------------------------------------------------
// The plan.

/// The users whose block of the user-attributes snapshot is missing or differs from the
/// database, and the snapshot the database gives; `None` when the snapshot is not healed
/// (it exists only in archives that keep it, see [`LedgerPolicy`]).
pub(crate) fn user_attributes_state(
    snapshot: &Snapshot,
    scan: &ArchiveScan,
    policy: LedgerPolicy,
) -> Option<(Vec<String>, UserAttributesFile)> {
    let kept = match policy {
        LedgerPolicy::Never => false,
        LedgerPolicy::Always => true,
        LedgerPolicy::Auto => scan.user_attributes.is_some() || !scan.has_prayers_dir,
    };
    let blocks: Vec<UserAttributes> = snapshot
        .users
        .iter()
        .filter_map(|u| u.attributes.clone())
        .collect();
    if !kept || blocks.is_empty() {
        return None;
    }
    let wanted = UserAttributesFile::export(&blocks);
    let have: HashMap<&str, &UserAttributes> = scan
        .user_attributes
        .iter()
        .flat_map(|f| f.users.iter())
        .map(|u| (u.username.as_str(), u))
        .collect();
    let differing = wanted
        .users
        .iter()
        .filter(|u| have.get(u.username.as_str()) != Some(u))
        .map(|u| u.username.clone())
        .collect();
    Some((differing, wanted))
}

fn plan_user_attributes(
    plan: &mut Plan,
    snapshot: &Snapshot,
    scan: &ArchiveScan,
    options: &HealOptions,
) {
    let Some((differing, wanted)) = user_attributes_state(snapshot, scan, options.ledgers) else {
        return;
    };
    if differing.is_empty() {
        return;
    }
    plan.users.attribute_blocks_written = differing.len() as u64;
    plan.changes.push(HealChange {
        kind: HealChangeKind::UserAttributesRewritten,
        record: differing.first().cloned().unwrap_or_default(),
        path: USER_ATTRIBUTES.into(),
        detail: format!("{} users' blocks missing or different", differing.len()),
    });
    plan.files.push((
        String::new(),
        FileWrite::Rewrite {
            path: USER_ATTRIBUTES.into(),
            content: wanted.render(),
        },
    ));
}

enum FileWrite {
    /// A new file at `path` (its name reserved; created exclusively when applied) for a
    /// prayer created at `created_at`.
    Create {
        path: String,
        content: String,
        created_at: NaiveDateTime,
    },
    /// An existing file replaced in place.
    Rewrite { path: String, content: String },
}

struct Append {
    path: String,
    /// What to append.
    action: AppendAction,
}

enum AppendAction {
    Registration {
        name: String,
        inviter: Option<String>,
        at: NaiveDateTime,
    },
    Ledger {
        kind: LedgerKind,
        row: LedgerRow,
    },
    InviteUsage(UsageRow),
    /// A line rendered by its kind's writer, with the header of a new file.
    Rendered {
        header: String,
        line: String,
    },
}

impl AppendAction {
    /// The header of the monthly file the line goes in, and the line, as ThyWill's
    /// writers render them.
    fn rendered(&self) -> (String, String) {
        match self {
            AppendAction::Registration { name, inviter, at } => (
                users::monthly_header(at),
                UserRegistration::new(*at, name.clone(), inviter.clone()).render(),
            ),
            AppendAction::Ledger { kind, row } => {
                let record = match kind {
                    LedgerKind::Attributes => LedgerRecord::attribute(
                        row.at,
                        &row.prayer_id,
                        row.name.as_deref().unwrap_or_default(),
                        row.value.as_deref().unwrap_or("None"),
                        Some(row.user.as_str()),
                    ),
                    LedgerKind::Marks | LedgerKind::Skips => {
                        LedgerRecord::mark(*kind, row.at, &row.prayer_id, &row.user)
                    }
                };
                (ledger::monthly_header(*kind, &row.at), record.render())
            }
            AppendAction::InviteUsage(row) => {
                let record = InviteUsageRecord {
                    timestamp: PyDateTime::Naive(row.at),
                    token: row.token.clone(),
                    used_by: row.user.clone(),
                    created_by: row.created_by.clone(),
                    action: "token_used".into(),
                };
                (
                    PipeHeader::for_month::<InviteUsageRecord>(&row.at)
                        .render::<InviteUsageRecord>(),
                    record.render_line(),
                )
            }
            AppendAction::Rendered { header, line } => (header.clone(), line.clone()),
        }
    }
}

pub(crate) struct Plan {
    path_prefix: String,
    files: Vec<(String, FileWrite)>,
    prayer_paths: Vec<(String, String)>,
    appends: Vec<Append>,
    user_paths: Vec<(String, String)>,
    prayers: PrayerHealCounts,
    users: UserHealCounts,
    ledgers: Vec<LedgerHealCounts>,
    invite_usage: InviteUsageHealCounts,
    records: ArchivedRecordsHealCounts,
    changes: Vec<HealChange>,
    notes: Vec<String>,
}

/// Whether the archive can hold a name in a one-line record.
pub(crate) fn one_line(name: &str) -> bool {
    !name.contains(['\n', '\r'])
}

fn plan(
    snapshot: &Snapshot,
    scan: &ArchiveScan,
    root: &Path,
    options: &HealOptions,
    scope: Scope,
    progress: &dyn Progress,
) -> Result<Plan> {
    let mut plan = Plan {
        path_prefix: options.path_prefix.clone(),
        files: Vec::new(),
        prayer_paths: Vec::new(),
        appends: Vec::new(),
        user_paths: Vec::new(),
        prayers: PrayerHealCounts::default(),
        users: UserHealCounts::default(),
        ledgers: Vec::new(),
        invite_usage: InviteUsageHealCounts::default(),
        records: ArchivedRecordsHealCounts::default(),
        changes: Vec::new(),
        notes: Vec::new(),
    };
    if scope == Scope::All {
        plan_prayers(&mut plan, snapshot, scan, root, options, progress)?;
    }
    plan_registrations(&mut plan, snapshot, scan, options);
    if scope == Scope::All {
        plan_user_attributes(&mut plan, snapshot, scan, options);
        plan_ledgers(&mut plan, snapshot, scan, options);
        plan_invite_usage(&mut plan, snapshot, scan, options);
    }
    Ok(plan)
}

fn plan_prayers(
    plan: &mut Plan,
    snapshot: &Snapshot,
    scan: &ArchiveScan,
    root: &Path,
    options: &HealOptions,
    progress: &dyn Progress,
) -> Result<()> {
    // Categorization blocks are written where ThyWill wrote them (its export setting was on).
    let blocks = scan.has_categorization_blocks && options.ledgers != LedgerPolicy::Never;
    // Names taken: every file there is, and every file this run will create.
    let mut reserved: HashSet<String> = scan.prayer_files.keys().cloned().collect();
    let total = snapshot.prayers.len() as u64;
    plan.prayers.total = total;
    for (n, prayer) in snapshot.prayers.iter().enumerate() {
        if n.is_multiple_of(256) {
            progress::report(progress, "prayers", n as u64, Some(total))?;
        }
        if !one_line(&prayer.id) || !one_line(&prayer.author) {
            plan.notes.push(format!(
                "prayer {:?}: an id or author with a line break cannot be archived",
                prayer.id
            ));
            continue;
        }
        let state = prayer_state(root, prayer, snapshot, scan, options)?;
        let mut healed = false;
        let target = match &state.file {
            Some(file) => {
                let add_block = blocks
                    && prayer.categorization.is_some()
                    && state
                        .parsed
                        .as_ref()
                        .is_some_and(|p| p.categorization.is_none());
                if !state.missing.is_empty() || add_block {
                    let Some(parsed) = &state.parsed else {
                        continue;
                    };
                    // A file the parser read whole keeps its own header; one it could not
                    // (cut short, damaged) gets the database's, so that nothing the file
                    // lost is lost again.
                    let content = if state.diagnostics.is_empty() {
                        let mut archive = parsed.clone();
                        if add_block {
                            archive.categorization = prayer.categorization.clone();
                        }
                        archive.activities = state.merged_activities();
                        archive.render()
                    } else {
                        let mut archive = db_archive(prayer, blocks);
                        archive.activities = state.merged_activities();
                        archive.render_archive_first()
                    };
                    if add_block {
                        plan.prayers.categorization_blocks_written += 1;
                    }
                    plan.files.push((
                        prayer.id.clone(),
                        FileWrite::Rewrite {
                            path: file.clone(),
                            content,
                        },
                    ));
                    plan.prayers.files_rewritten += 1;
                    plan.prayers.activity_lines_written += state.missing.len() as u64;
                    plan.changes.push(HealChange {
                        kind: HealChangeKind::PrayerFileRewritten,
                        record: prayer.id.clone(),
                        path: file.clone(),
                        detail: if add_block {
                            format!(
                                "categorization block and {} missing activity lines added",
                                state.missing.len()
                            )
                        } else {
                            format!("{} missing activity lines added", state.missing.len())
                        },
                    });
                    healed = true;
                }
                file.clone()
            }
            None => {
                // The stored name when it is free, else the collision rule.
                let path = match &state.stored {
                    StoredPath::NoFile(_)
                        if state
                            .stored_relative
                            .as_deref()
                            .is_some_and(|r| !reserved.contains(r) && is_prayer_file_name(r)) =>
                    {
                        state.stored_relative.clone().unwrap_or_default()
                    }
                    _ => next_free_name(&prayer.created_at, &reserved),
                };
                reserved.insert(path.clone());
                let mut archive = db_archive(prayer, blocks);
                if archive.categorization.is_some() {
                    plan.prayers.categorization_blocks_written += 1;
                }
                archive.activities = state.expected.iter().map(|e| e.activity.clone()).collect();
                plan.files.push((
                    prayer.id.clone(),
                    FileWrite::Create {
                        path: path.clone(),
                        content: archive.render_archive_first(),
                        created_at: prayer.created_at,
                    },
                ));
                plan.prayers.files_created += 1;
                plan.prayers.activity_lines_written += state.expected.len() as u64;
                plan.changes.push(HealChange {
                    kind: HealChangeKind::PrayerFileCreated,
                    record: prayer.id.clone(),
                    path: path.clone(),
                    detail: match &state.stored {
                        StoredPath::Missing => "no archive path in the database".into(),
                        StoredPath::NoFile(_) => "archive file missing".into(),
                        StoredPath::OtherPrayer(_, other) => format!(
                            "the stored path names the file of prayer {}",
                            other.as_deref().unwrap_or("(none)")
                        ),
                        StoredPath::Outside(p) => {
                            format!("stored path {p:?} is outside the archive")
                        }
                        StoredPath::Good => String::new(),
                    },
                });
                healed = true;
                path
            }
        };
        let stored = stored_of(&target, &options.path_prefix);
        if prayer.text_file_path.as_deref() != Some(stored.as_str()) {
            plan.prayer_paths.push((prayer.id.clone(), stored.clone()));
            plan.prayers.paths_updated += 1;
            plan.changes.push(HealChange {
                kind: HealChangeKind::PrayerPathUpdated,
                record: prayer.id.clone(),
                path: target.clone(),
                detail: format!(
                    "text_file_path {:?} -> {stored:?}",
                    prayer.text_file_path.as_deref().unwrap_or("")
                ),
            });
            healed = true;
        }
        if healed {
            plan.prayers.healed += 1;
        } else {
            plan.prayers.healthy += 1;
        }
    }
    progress::report(progress, "prayers", total, Some(total))?;
    Ok(())
}

/// A prayer's file as the database describes it, without activity lines; with its
/// categorization block when `with_block`.
fn db_archive(prayer: &DbPrayer, with_block: bool) -> PrayerArchive {
    let mut archive = PrayerArchive::new(
        prayer.id.clone(),
        prayer.author.clone(),
        prayer.created_at,
        prayer.text.clone(),
    );
    archive.project_tag = prayer.project_tag.clone();
    archive.generated_prayer = prayer.generated_prayer.clone();
    if with_block {
        archive.categorization = prayer.categorization.clone();
    }
    archive
}

/// Whether a relative path has the shape of a prayer file (`prayers/YYYY/MM/*.txt`).
fn is_prayer_file_name(relative: &str) -> bool {
    let parts: Vec<&str> = relative.split('/').collect();
    parts.len() == 4 && parts[0] == "prayers" && parts[3].ends_with(".txt")
}

/// The first name of the collision rule neither on disk nor reserved in this run.
fn next_free_name(t: &NaiveDateTime, reserved: &HashSet<String>) -> String {
    let folder = layout::prayer_dir(Path::new(""), t);
    let folder = folder.to_string_lossy().replace('\\', "/");
    let mut n = 1;
    loop {
        let candidate = format!("{folder}/{}", layout::prayer_file_name(t, n));
        let candidate = candidate.trim_start_matches('/').to_string();
        if !reserved.contains(&candidate) {
            return candidate;
        }
        n += 1;
    }
}

fn plan_registrations(
    plan: &mut Plan,
    snapshot: &Snapshot,
    scan: &ArchiveScan,
    options: &HealOptions,
) {
    plan.users.total = snapshot.users.len() as u64;
    for user in &snapshot.users {
        if !one_line(&user.name) || user.invited_by.as_deref().is_some_and(|i| !one_line(i)) {
            plan.notes.push(format!(
                "user {:?}: a name with a line break cannot be archived",
                user.name
            ));
            continue;
        }
        let mut healed = false;
        let file = match scan.registrations.get(&user.name).and_then(|l| l.first()) {
            Some(location) => location.file.clone(),
            None => {
                let path = format!(
                    "users/{}_users.txt",
                    crate::archive::timestamp::ym(&user.created_at)
                );
                plan.appends.push(Append {
                    path: path.clone(),
                    action: AppendAction::Registration {
                        name: user.name.clone(),
                        inviter: user.invited_by.clone(),
                        at: user.created_at,
                    },
                });
                plan.users.registrations_written += 1;
                plan.changes.push(HealChange {
                    kind: HealChangeKind::RegistrationAppended,
                    record: user.name.clone(),
                    path: path.clone(),
                    detail: "no registration line in any monthly users file".into(),
                });
                healed = true;
                path
            }
        };
        let stored = stored_of(&file, &options.path_prefix);
        if user.text_file_path.as_deref() != Some(stored.as_str()) {
            plan.user_paths.push((user.name.clone(), stored.clone()));
            plan.users.paths_updated += 1;
            plan.changes.push(HealChange {
                kind: HealChangeKind::UserPathUpdated,
                record: user.name.clone(),
                path: file,
                detail: format!(
                    "text_file_path {:?} -> {stored:?}",
                    user.text_file_path.as_deref().unwrap_or("")
                ),
            });
            healed = true;
        }
        if healed {
            plan.users.healed += 1;
        } else {
            plan.users.healthy += 1;
        }
    }
}

/// The key a ledger line and its row share besides the minute.
pub(crate) fn ledger_key(
    prayer_id: &str,
    user: &str,
    name: Option<&str>,
    value: Option<&str>,
) -> (String, String, String, String) {
    (
        prayer_id.to_string(),
        user.to_string(),
        name.unwrap_or_default().to_string(),
        value.unwrap_or_default().to_string(),
    )
}

/// Which ledgers a run heals.
pub(crate) fn ledgers_healed(scan: &ArchiveScan, policy: LedgerPolicy) -> HashSet<LedgerKindKey> {
    match policy {
        LedgerPolicy::Never => HashSet::new(),
        LedgerPolicy::Always => LedgerKindKey::ALL.into_iter().collect(),
        LedgerPolicy::Auto if !scan.has_prayers_dir => LedgerKindKey::ALL.into_iter().collect(),
        LedgerPolicy::Auto => scan.ledger_dirs.clone(),
    }
}

fn plan_ledgers(plan: &mut Plan, snapshot: &Snapshot, scan: &ArchiveScan, options: &HealOptions) {
    let healed = ledgers_healed(scan, options.ledgers);
    for key in LedgerKindKey::ALL {
        let kind = key.kind();
        let rows: &[LedgerRow] = snapshot
            .ledger_rows
            .get(&key)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut counts = LedgerHealCounts {
            kind,
            healed: healed.contains(&key),
            rows: rows.len() as u64,
            present: 0,
            lines_written: 0,
        };
        if !counts.healed {
            plan.ledgers.push(counts);
            continue;
        }
        let mut matcher = MinuteMatcher::new();
        for (i, (record, _)) in scan.ledgers.get(&key).into_iter().flatten().enumerate() {
            if let Some(at) = record.timestamp.time {
                let k = ledger_key(
                    &record.prayer_id,
                    &record.user,
                    record.attribute_name.as_deref(),
                    record.attribute_value.as_deref(),
                );
                matcher.add(k, &at, &options.time_zone, i);
            }
        }
        let mut per_file: BTreeMap<String, u64> = BTreeMap::new();
        for row in rows {
            let k = ledger_key(
                &row.prayer_id,
                &row.user,
                row.name.as_deref(),
                row.value.as_deref(),
            );
            if matcher.take(&k, &row.at).is_some() {
                counts.present += 1;
                continue;
            }
            if ![&row.prayer_id, &row.user]
                .iter()
                .all(|s| one_line(s) && !s.contains('|'))
                || row
                    .name
                    .as_deref()
                    .is_some_and(|n| !one_line(n) || n.contains('|'))
                || row.value.as_deref().is_some_and(|v| !one_line(v))
            {
                plan.notes.push(format!(
                    "{} row of prayer {:?} by {:?}: a line break or `|` the ledger line cannot hold; not archived",
                    kind.word(),
                    row.prayer_id,
                    row.user
                ));
                continue;
            }
            let path = format!(
                "prayers/{}/{}_{}.txt",
                kind.word(),
                crate::archive::timestamp::ym(&row.at),
                kind.word()
            );
            *per_file.entry(path.clone()).or_default() += 1;
            plan.appends.push(Append {
                path,
                action: AppendAction::Ledger {
                    kind,
                    row: row.clone(),
                },
            });
            counts.lines_written += 1;
        }
        for (path, n) in per_file {
            plan.changes.push(HealChange {
                kind: HealChangeKind::LedgerLinesAppended,
                record: kind.word().to_string(),
                path,
                detail: format!("{n} lines"),
            });
        }
        plan.ledgers.push(counts);
    }
}

/// The key an invite-usage line and its row share besides the minute.
pub(crate) fn usage_key(token: &str, user: &str) -> (String, String) {
    (token.to_string(), user.to_string())
}

fn plan_invite_usage(
    plan: &mut Plan,
    snapshot: &Snapshot,
    scan: &ArchiveScan,
    options: &HealOptions,
) {
    let mut matcher = MinuteMatcher::new();
    for (i, (record, _)) in scan.invite_usage.iter().enumerate() {
        matcher.add(
            usage_key(&record.token, &record.used_by),
            &naive(&record.timestamp),
            &options.time_zone,
            i,
        );
    }
    plan.invite_usage.rows = snapshot.invite_usage.len() as u64;
    let mut per_file: BTreeMap<String, u64> = BTreeMap::new();
    for row in &snapshot.invite_usage {
        if matcher
            .take(&usage_key(&row.token, &row.user), &row.at)
            .is_some()
        {
            plan.invite_usage.present += 1;
            continue;
        }
        if [&row.token, &row.user, &row.created_by]
            .iter()
            .any(|s| !one_line(s) || s.contains('|'))
        {
            plan.notes.push(format!(
                "invite usage of token {:?} by {:?}: a line break or `|` the line cannot hold; not archived",
                row.token, row.user
            ));
            continue;
        }
        let path = format!(
            "system/{}",
            pipe::monthly_file_name(&row.at, "invite_usage")
        );
        *per_file.entry(path.clone()).or_default() += 1;
        plan.appends.push(Append {
            path,
            action: AppendAction::InviteUsage(row.clone()),
        });
        plan.invite_usage.lines_written += 1;
    }
    for (path, n) in per_file {
        plan.changes.push(HealChange {
            kind: HealChangeKind::InviteUsageAppended,
            record: "invite_usage".into(),
            path,
            detail: format!("{n} lines"),
        });
    }
}

/// A Python datetime as naive wall-clock time (an aware one converted to naive UTC).
fn naive(t: &PyDateTime) -> NaiveDateTime {
    match t {
        PyDateTime::Naive(t) => *t,
        PyDateTime::Aware(t) => t.naive_utc(),
    }
}

impl Plan {
    /// Takes in the plan of the monthly activity log.
    fn add_activity(&mut self, activity: heal_activity::ActivityPlan) {
        self.records.activity_log = activity.counts;
        self.changes.extend(activity.changes);
        self.notes.extend(activity.notes);
        for (path, content) in activity.rewrites {
            self.files
                .push((String::new(), FileWrite::Rewrite { path, content }));
        }
    }

    /// Takes in the plan of the records kept outside the prayer, user and ledger files.
    fn add_records(&mut self, records: heal_records::RecordsPlan) {
        self.records = records.counts;
        self.changes.extend(records.changes);
        self.notes.extend(records.notes);
        for (path, content) in records.rewrites {
            self.files
                .push((String::new(), FileWrite::Rewrite { path, content }));
        }
        for (path, header, line) in records.appends {
            self.appends.push(Append {
                path,
                action: AppendAction::Rendered { header, line },
            });
        }
    }

    fn report(&self, db_path: &Path, root: &Path, dry_run: bool) -> HealReport {
        let mut notes = self.notes.clone();
        notes.sort();
        notes.dedup();
        HealReport {
            dry_run,
            database: db_path.to_path_buf(),
            archive_root: root.to_path_buf(),
            prayers: self.prayers.clone(),
            users: self.users.clone(),
            ledgers: self.ledgers.clone(),
            invite_usage: self.invite_usage.clone(),
            records: self.records.clone(),
            changes: self.changes.clone(),
            notes,
        }
    }

    /// Writes the files, then commits their stored paths. Once the first file is written this
    /// runs to its end whatever the progress sink answers: stopped in between, the database
    /// would not name files that exist, and the next run would write them again beside them.
    fn apply(&self, db: &Database, root: &Path, progress: &dyn Progress) -> Result<()> {
        let total = (self.files.len() + self.appends.len()) as u64;
        let mut done = 0u64;
        let mut moved: HashMap<&str, String> = HashMap::new();
        for (prayer_id, write) in &self.files {
            match write {
                FileWrite::Create {
                    path,
                    content,
                    created_at,
                } => {
                    let full = root.join(path);
                    if let Some(parent) = full.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                    }
                    if !fileops::create_new_atomic(&full, content.as_bytes())? {
                        // ThyWill created this name since the scan: the first free name of
                        // the collision rule, taken atomically.
                        let created =
                            layout::create_prayer_file(root, created_at, content.as_bytes())?;
                        let relative = created
                            .strip_prefix(root)
                            .map(|r| r.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        moved.insert(prayer_id.as_str(), stored_of(&relative, &self.path_prefix));
                    }
                }
                FileWrite::Rewrite { path, content } => {
                    let full = root.join(path);
                    if let Some(parent) = full.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                    }
                    fileops::atomic_write(&full, content.as_bytes())?;
                }
            }
            done += 1;
            if done.is_multiple_of(256) {
                progress::report_without_stopping(progress, "write", done, Some(total));
            }
        }
        // The lines of one file go in one write: a file this run creates gets its header and
        // every line at once (created exclusively), a file that exists one `flock`-ed append.
        let mut per_file: BTreeMap<&str, (String, Vec<String>)> = BTreeMap::new();
        for append in &self.appends {
            let (header, line) = append.action.rendered();
            per_file
                .entry(append.path.as_str())
                .or_insert_with(|| (header, Vec::new()))
                .1
                .push(line);
        }
        for (path, (header, lines)) in per_file {
            let full = root.join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            let block = lines.join("\n");
            let created = !full.exists() && {
                let mut whole = header.clone();
                whole.push_str(&block);
                whole.push('\n');
                fileops::create_new_atomic(&full, whole.as_bytes())?
            };
            if !created {
                // The file exists (or ThyWill created it since the check): append.
                fileops::ensure_header(&full, &header, false)?;
                fileops::locked_append(&full, &block)?;
            }
            done += lines.len() as u64;
            progress::report_without_stopping(progress, "write", done, Some(total));
        }
        progress::report_without_stopping(progress, "write", total, Some(total));
        if self.prayer_paths.is_empty() && self.user_paths.is_empty() && moved.is_empty() {
            return Ok(());
        }
        // The only write transaction: the stored paths, all at once.
        let mut prayer_paths: BTreeMap<&str, &str> = self
            .prayer_paths
            .iter()
            .map(|(id, stored)| (id.as_str(), stored.as_str()))
            .collect();
        for (id, stored) in &moved {
            prayer_paths.insert(id, stored.as_str());
        }
        db.write_phase(|conn| {
            let mut prayer = conn.prepare("UPDATE prayer SET text_file_path = ?1 WHERE id = ?2")?;
            for (id, stored) in &prayer_paths {
                prayer.execute([*stored, *id])?;
            }
            let mut user =
                conn.prepare("UPDATE user SET text_file_path = ?1 WHERE display_name = ?2")?;
            for (name, stored) in &self.user_paths {
                user.execute([stored.as_str(), name.as_str()])?;
            }
            Ok(())
        })
    }
}
