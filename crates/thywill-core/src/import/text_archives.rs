//! `thywill import text-archives [FOLDER|ZIP] [--dry-run]` (spec §3.3 as corrected by
//! §6.2): users (two passes), user flags, prayers with their activities, the monthly
//! marks/skips/attributes ledgers, roles and grants, invite tokens and their use,
//! sessions, authentication requests and approvals.
//!
//! Exact: users come only from registrations, prayer authors and activity actors;
//! `restored` clears `archived`; logs keep their real action names. Idempotent with
//! multiplicity: rows are matched to lines by (prayer, user, action or name, minute), so a
//! second run, or a run against the live database that wrote the archives, inserts
//! nothing, while N identical lines mean N rows. Deterministic: listings are sorted,
//! files are read in order. Memory stays flat: prayer files are streamed month folder by
//! month folder and each is reconciled with its own rows only.
//!
//! Hostile input: only regular files (and links to regular files) are read; a FIFO,
//! socket, device or link to a folder is noted and skipped, never opened. Paths are kept
//! as the file system gives them (`OsStr`): a prayer file whose name is not UTF-8 is
//! imported (without a `text_file_path`, which could not name it), and any other such file
//! is noted. A prayer file judged truncated ([`prayer::Cut`]) fails the run; what it holds
//! intact is imported, and the part the cut runs through is not.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use rusqlite::{params, Connection};
use serde::Serialize;

use super::activity::{ActivityImport, ActivityPlan, PrayerTarget};
use super::records::{self, LedgerEntry};
use super::report::{entity, issue, ImportReport};
use super::runner::{
    ensure_lookup_indexes, ensure_schema, ensure_small_lookup_indexes, PhaseRunner,
};
use super::source::{ArchiveSource, ZipLimits};
use super::store::{find_prayer, find_prayer_path, insert_prayer_doc, insert_user, NewUser};
use super::written::{WrittenPrayers, WRITTEN_BUDGET};
use crate::archive::fileops::{entry_type, read_listed_file, EntryType};
use crate::archive::kind::{detect_kind, FileKind};
use crate::archive::layout::{pathlib_str, LedgerKind};
use crate::archive::prayer;
use crate::db::encode::{
    datetime_text, format_datetime, minute_key, minute_number, stored_minute_number,
};
use crate::db::{ArchiveTimeZone, Database, IdGenerator};
use crate::progress::{report as progress_report, Progress};
use crate::{Error, Result};

/// Options of a text-archive import. Deserializes from a JSON object of these fields, each
/// optional (the C API's options document).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextArchiveOptions {
    /// Do all the work in a transaction that is rolled back.
    pub dry_run: bool,
    /// The zone the archive's human timestamps were written in (default: local).
    pub time_zone: ArchiveTimeZone,
    /// Prefix of the `text_file_path` values written, as ThyWill stores them relative
    /// to its project folder (default `text_archives`).
    pub path_prefix: String,
    /// Overwrite the request text, generated prayer and project tag of a prayer already
    /// in the database when an intact file says otherwise (default: keep the database's
    /// and note the difference). Never from a truncated file; for a prayer named by
    /// several files, the first file in archive order counts.
    pub update_existing: bool,
    /// Bounds on what a ZIP input may expand to (default [`ZipLimits::default`]).
    pub zip_limits: ZipLimits,
}

impl Default for TextArchiveOptions {
    fn default() -> Self {
        TextArchiveOptions {
            dry_run: false,
            time_zone: ArchiveTimeZone::Local,
            path_prefix: "text_archives".into(),
            update_existing: false,
            zip_limits: ZipLimits::default(),
        }
    }
}

/// The phases of an import, in order; each runs in one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// `users/YYYY_MM_users.txt`, two passes (users, then inviters).
    Users,
    /// `users/user_attributes.txt`.
    UserAttributes,
    /// `prayers/YYYY/MM/*.txt` with their activities.
    Prayers,
    /// `prayers/{marks,skips,attributes}/YYYY_MM_*.txt`.
    Ledgers,
    /// `roles/role_definitions.txt`, `roles/YYYY_MM_role_assignments.txt`.
    Roles,
    /// `system/invite_tokens.txt`, `system/YYYY_MM_invite_usage.txt`.
    Invites,
    /// `sessions/YYYY_MM_sessions.txt`.
    Sessions,
    /// `auth/YYYY_MM_auth_requests.txt`, `auth/YYYY_MM_auth_approvals.txt`.
    Auth,
}

impl Phase {
    /// All phases in the order they run.
    pub const ALL: [Phase; 8] = [
        Phase::Users,
        Phase::UserAttributes,
        Phase::Prayers,
        Phase::Ledgers,
        Phase::Roles,
        Phase::Invites,
        Phase::Sessions,
        Phase::Auth,
    ];

    /// The phase name used in progress events.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Users => "users",
            Phase::UserAttributes => "user_attributes",
            Phase::Prayers => "prayers",
            Phase::Ledgers => "ledgers",
            Phase::Roles => "roles",
            Phase::Invites => "invites",
            Phase::Sessions => "sessions",
            Phase::Auth => "auth",
        }
    }

    fn of(kind: FileKind) -> Option<Phase> {
        Some(match kind {
            FileKind::UserRegistrations => Phase::Users,
            FileKind::UserAttributes => Phase::UserAttributes,
            FileKind::Prayer => Phase::Prayers,
            FileKind::Ledger(_) => Phase::Ledgers,
            FileKind::RoleDefinitions | FileKind::RoleAssignments => Phase::Roles,
            FileKind::InviteTokens | FileKind::InviteUsage => Phase::Invites,
            FileKind::Sessions => Phase::Sessions,
            FileKind::AuthRequests | FileKind::AuthApprovals => Phase::Auth,
            _ => return None,
        })
    }
}

/// A file the plan will read (prayer files are planned by month folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedFile {
    /// Path relative to the archive root, `/`-separated, as reports name it (bytes of a
    /// name that are not UTF-8 written `\xNN`).
    pub relative: String,
    /// What the file is.
    pub kind: FileKind,
    /// The path relative to the archive root, exactly as listed.
    #[serde(skip)]
    pub(crate) path: PathBuf,
    /// Listed as a symbolic link (to a regular file).
    #[serde(skip)]
    pub(crate) via_link: bool,
}

/// An entry of the archive folder that is not read: not a regular file or a link to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotRead {
    /// Path relative to the archive root, as [`PlannedFile::relative`] names it.
    pub relative: String,
    /// What it is, e.g. `FIFO`, `socket`, `symbolic link to a character device`.
    pub what: String,
}

/// What an import will read, in order. Cheap to build; applying it does the work.
#[derive(Debug, Clone, Serialize)]
pub struct TextArchivePlan {
    /// The input as given.
    pub source: String,
    /// The archive root read.
    pub root: PathBuf,
    /// Files per phase, in processing order (prayer files excluded; see `prayer_months`).
    pub files: Vec<(Phase, Vec<PlannedFile>)>,
    /// `prayers/YYYY/MM` folders, sorted, with their number of `.txt` files.
    pub prayer_months: Vec<(String, u64)>,
    /// Files that no phase imports (activity logs, security events, ...), by kind.
    pub not_imported: Vec<PlannedFile>,
    /// Entries that are not regular files (FIFOs, sockets, devices, links to folders):
    /// never opened, each noted in the report.
    pub not_read: Vec<NotRead>,
}

impl TextArchivePlan {
    /// Lists an archive root (sorted, deterministic).
    pub fn scan(root: impl AsRef<Path>, source: &str) -> Result<TextArchivePlan> {
        let root = root.as_ref();
        if !root.is_dir() {
            return Err(Error::NotFound {
                what: format!("archive folder {}", root.display()),
            });
        }
        let mut by_phase: HashMap<Phase, Vec<PlannedFile>> = HashMap::new();
        let mut not_imported = Vec::new();
        let mut not_read = Vec::new();
        let mut prayer_months = Vec::new();
        let mut stack = vec![PathBuf::new()];
        while let Some(rel_dir) = stack.pop() {
            let dir = root.join(&rel_dir);
            let mut entries = sorted_entries(&dir)?;
            entries.retain(|(name, entry)| match entry {
                EntryType::Skipped(what) => {
                    not_read.push(NotRead {
                        relative: slash_path(&rel_dir.join(name)),
                        what: (*what).to_string(),
                    });
                    false
                }
                _ => true,
            });
            // Prayer month folders are counted here and streamed at apply time.
            if is_prayer_month(&rel_dir) {
                let n = entries
                    .iter()
                    .filter(|(name, entry)| is_prayer_file_entry(name, *entry))
                    .count() as u64;
                prayer_months.push((slash_path(&rel_dir), n));
                entries.retain(|(_, entry)| *entry == EntryType::Dir);
            }
            let mut subdirs = Vec::new();
            for (name, entry) in entries {
                let rel = rel_dir.join(&name);
                let via_link = match entry {
                    EntryType::Dir => {
                        subdirs.push(rel);
                        continue;
                    }
                    EntryType::File { via_link } => via_link,
                    EntryType::Skipped(_) => continue,
                };
                let kind = detect_kind(&rel);
                let file = PlannedFile {
                    relative: slash_path(&rel),
                    kind,
                    path: rel,
                    via_link,
                };
                match Phase::of(kind) {
                    Some(phase) => by_phase.entry(phase).or_default().push(file),
                    None => not_imported.push(file),
                }
            }
            // Depth-first in name order.
            subdirs.reverse();
            stack.extend(subdirs);
        }
        prayer_months.sort();
        let mut files = Vec::new();
        for phase in Phase::ALL {
            let mut list = by_phase.remove(&phase).unwrap_or_default();
            list.sort_by(|a, b| a.relative.cmp(&b.relative));
            files.push((phase, list));
        }
        not_imported.sort_by(|a, b| a.relative.cmp(&b.relative));
        not_read.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(TextArchivePlan {
            source: source.into(),
            root: root.to_path_buf(),
            files,
            prayer_months,
            not_imported,
            not_read,
        })
    }

    /// Number of prayer files planned.
    pub fn prayer_file_count(&self) -> u64 {
        self.prayer_months.iter().map(|(_, n)| n).sum()
    }

    fn files_of(&self, phase: Phase) -> &[PlannedFile] {
        self.files
            .iter()
            .find(|(p, _)| *p == phase)
            .map(|(_, f)| f.as_slice())
            .unwrap_or(&[])
    }

    /// Imports into the database at `db_path` (created with ThyWill's schema when
    /// missing, except in a dry run, which then works on an in-memory database; a
    /// database file created for a run that fails is removed again).
    pub fn apply(
        &self,
        db_path: impl AsRef<Path>,
        options: &TextArchiveOptions,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        super::with_target(db_path.as_ref(), options.dry_run, |db| {
            self.apply_to(db, options, progress)
        })
    }

    /// Imports into an open database.
    pub fn apply_to(
        &self,
        db: &Database,
        options: &TextArchiveOptions,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        let mut report = self.apply_remembering(db, options, progress, WRITTEN_BUDGET)?;
        report.seal();
        Ok(report)
    }

    /// [`TextArchivePlan::apply_to`], remembering at most `budget` rows of the prayers
    /// phase for the ledgers phase (tests vary it: the result must not depend on it).
    fn apply_remembering(
        &self,
        db: &Database,
        options: &TextArchiveOptions,
        progress: &dyn Progress,
        budget: usize,
    ) -> Result<ImportReport> {
        let database = super::database_label(db);
        let mut report =
            ImportReport::new("text_archives", &self.source, &database, options.dry_run);
        for e in [
            entity::USERS,
            entity::PRAYERS,
            entity::PRAYER_MARKS,
            entity::PRAYER_ATTRIBUTES,
            entity::ACTIVITY_LOGS,
        ] {
            report.counts_mut(e);
        }
        self.note_files_not_read(&mut report);
        let ids = IdGenerator::new();
        let runner = PhaseRunner::begin(db.connection(), options.dry_run)?;
        let mut run = Run {
            plan: self,
            options,
            ids: &ids,
            report: &mut report,
            progress,
            users: HashSet::new(),
            activity_tables_empty: false,
            indexes_ready: false,
            written: WrittenPrayers::with_budget(budget),
            seen_prayers: HashSet::new(),
        };
        // Prayer files, then ledger files, are read and parsed on a second thread while
        // this one writes; bounded channels keep memory flat (8 batches of 16 prayer
        // files, 32 batches of about 4,096 ledger lines). The reader starts before the first
        // phase so the prayers phase finds work waiting. Prayer files travel in batches:
        // one wake-up per file cost more than parsing a small file.
        let root = self.root.clone();
        let months: Vec<String> = self.prayer_months.iter().map(|(m, _)| m.clone()).collect();
        let ledgers: Vec<PlannedFile> = self.files_of(Phase::Ledgers).to_vec();
        let (prayer_tx, prayer_rx) = std::sync::mpsc::sync_channel::<PrayerBatch>(8);
        let (ledger_tx, ledger_rx) =
            std::sync::mpsc::sync_channel::<LedgerBatch>(LEDGER_BATCHES_AHEAD);
        let reader_ids = &ids;
        std::thread::scope(|scope| -> Result<()> {
            scope.spawn(move || {
                read_prayer_files(&root, &months, reader_ids, &prayer_tx);
                drop(prayer_tx);
                read_ledger_files(&root, &ledgers, &ledger_tx);
            });
            let result = (|| -> Result<()> {
                runner.phase(|conn| {
                    ensure_schema(conn, &ids)?;
                    // On empty activity tables the prayer_id indexes wait until a lookup
                    // needs one: the prayers it creates need none, and the ledgers phase
                    // matches their lines against what the prayers phase remembers.
                    if !activity_tables_empty(conn)? {
                        run.need_lookup_indexes(conn)?;
                    }
                    run.users(conn)
                })?;
                runner.phase(|conn| run.user_attributes(conn))?;
                runner.phase(|conn| run.prayers(conn, &prayer_rx))?;
                // After each large phase the new file's pages start on their way to disk
                // while the next phase runs (a no-op for an existing database).
                db.start_writeback();
                runner.phase(|conn| run.ledgers(conn, &ledger_rx))?;
                db.start_writeback();
                Ok(())
            })();
            // On an error the receivers go away first, so the reader stops at its next send.
            drop(prayer_rx);
            drop(ledger_rx);
            result
        })?;
        runner.phase(|conn| super::extra::roles(conn, &mut run.ctx()))?;
        runner.phase(|conn| super::extra::invites(conn, &mut run.ctx()))?;
        runner.phase(|conn| super::extra::sessions(conn, &mut run.ctx()))?;
        runner.phase(|conn| super::extra::auth(conn, &mut run.ctx()))?;
        runner.finish()?;
        let files = report.counts_mut(entity::FILES);
        files.skipped = (self.not_imported.len() + self.not_read.len()) as u64;
        Ok(report)
    }

    /// Notes the entries that are not read (not regular files), and the files no phase
    /// imports whose names are not UTF-8 (no archive file has such a name, so they may be
    /// archive files whose names were damaged).
    fn note_files_not_read(&self, report: &mut ImportReport) {
        for entry in &self.not_read {
            report.note(issue(
                entity::FILES,
                &entry.relative,
                None,
                format!("not a regular file ({}); not read", entry.what),
            ));
        }
        for file in &self.not_imported {
            if file.path.to_str().is_none() {
                report.note(issue(
                    entity::FILES,
                    &file.relative,
                    None,
                    "file name is not valid UTF-8, so no archive file name; not imported",
                ));
            }
        }
    }
}

/// Imports a folder or a ZIP of text archives into the database at `db_path`.
pub fn import_text_archives(
    source: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    options: &TextArchiveOptions,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let source = ArchiveSource::open_with_limits(source, &options.zip_limits)?;
    let plan = TextArchivePlan::scan(source.root(), source.given())?;
    plan.apply(db_path, options, progress)
}

/// What the per-kind importers of [`super::extra`] get.
pub(crate) struct Ctx<'r> {
    pub root: &'r Path,
    pub files: &'r [(Phase, Vec<PlannedFile>)],
    pub ids: &'r IdGenerator,
    pub report: &'r mut ImportReport,
    pub progress: &'r dyn Progress,
}

impl Ctx<'_> {
    pub(crate) fn files(&self, phase: Phase) -> impl Iterator<Item = &PlannedFile> {
        self.files
            .iter()
            .filter(move |(p, _)| *p == phase)
            .flat_map(|(_, f)| f.iter())
    }
}

struct Run<'r> {
    plan: &'r TextArchivePlan,
    options: &'r TextArchiveOptions,
    ids: &'r IdGenerator,
    report: &'r mut ImportReport,
    progress: &'r dyn Progress,
    /// Users known to exist (a cache of the `user` table, bounded by the community size).
    users: HashSet<String>,
    /// The mark, attribute and log tables were empty when the prayers phase began.
    activity_tables_empty: bool,
    /// The `prayer_id` lookup indexes exist (on empty activity tables they are made
    /// only when a lookup first needs them).
    indexes_ready: bool,
    /// What the prayers phase wrote for the prayers it created, for the ledgers phase.
    written: WrittenPrayers,
    /// With `update_existing`: the prayers a file of this run has named, so that a later
    /// file naming one again does not overwrite what the first wrote (runs stay
    /// idempotent when two files of one prayer differ).
    seen_prayers: HashSet<String>,
}

impl Run<'_> {
    fn ctx(&mut self) -> Ctx<'_> {
        Ctx {
            root: &self.plan.root,
            files: &self.plan.files,
            ids: self.ids,
            report: self.report,
            progress: self.progress,
        }
    }

    /// Creates the `prayer_id` lookup indexes when a lookup first needs them.
    fn need_lookup_indexes(&mut self, conn: &Connection) -> Result<()> {
        if !self.indexes_ready {
            ensure_lookup_indexes(conn)?;
            self.indexes_ready = true;
        }
        Ok(())
    }

    fn stored_path(&self, relative: &str) -> String {
        pathlib_str(&format!("{}/{relative}", self.options.path_prefix))
    }

    fn read(&self, file: &PlannedFile) -> Result<Vec<u8>> {
        read_listed_file(&self.plan.root.join(&file.path), file.via_link)
    }

    fn load_users(&mut self, conn: &Connection) -> Result<()> {
        let mut stmt = conn.prepare("SELECT display_name FROM user")?;
        let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
        self.users = names.collect::<std::result::Result<_, _>>()?;
        Ok(())
    }

    /// Creates a user implied by a prayer author or an activity actor.
    fn ensure_user(
        users: &mut HashSet<String>,
        conn: &Connection,
        name: &str,
        created_at: &NaiveDateTime,
        report: &mut ImportReport,
    ) -> Result<()> {
        if users.contains(name) {
            return Ok(());
        }
        insert_user(
            conn,
            &NewUser {
                display_name: name,
                created_at: *created_at,
                invited_by_username: None,
                text_file_path: None,
            },
        )?;
        report.counts_mut(entity::USERS).inserted += 1;
        users.insert(name.to_string());
        Ok(())
    }

    fn users(&mut self, conn: &Connection) -> Result<()> {
        self.load_users(conn)?;
        let files: Vec<PlannedFile> = self.plan.files_of(Phase::Users).to_vec();
        let total = Some(files.len() as u64 * 2);
        let mut inserted_now: HashSet<String> = HashSet::new();
        // Pass 1: every registered user, without inviter.
        for (done, file) in files.iter().enumerate() {
            progress_report(self.progress, "users", done as u64, total)?;
            let bytes = self.read(file)?;
            let path = self.stored_path(&file.relative);
            let parsed = records::registrations(&bytes, &file.relative);
            self.note_diagnostics(entity::USERS, &file.relative, &parsed.diagnostics);
            for reg in parsed.records {
                if super::validate::refuse_registration(self.report, &file.relative, &reg) {
                    continue;
                }
                let Some(at) = reg.time else {
                    self.report.fail(issue(
                        entity::USERS,
                        &file.relative,
                        Some(reg.line),
                        format!("unreadable registration time for {:?}", reg.name),
                    ));
                    continue;
                };
                if self.users.contains(&reg.name) {
                    let changed = conn
                        .prepare_cached(
                            "UPDATE user SET text_file_path = ?1 \
                             WHERE display_name = ?2 AND text_file_path IS NULL",
                        )?
                        .execute(params![path, reg.name])?;
                    let counts = self.report.counts_mut(entity::USERS);
                    if changed > 0 {
                        counts.updated += 1;
                    } else {
                        counts.already_present += 1;
                    }
                    continue;
                }
                insert_user(
                    conn,
                    &NewUser {
                        display_name: &reg.name,
                        created_at: at,
                        invited_by_username: None,
                        text_file_path: Some(&path),
                    },
                )?;
                self.report.counts_mut(entity::USERS).inserted += 1;
                self.users.insert(reg.name.clone());
                inserted_now.insert(reg.name);
            }
        }
        // Pass 2: inviters, now that every registered user exists whatever the file order.
        for (done, file) in files.iter().enumerate() {
            progress_report(self.progress, "users", (files.len() + done) as u64, total)?;
            let bytes = self.read(file)?;
            for reg in records::registrations(&bytes, &file.relative).records {
                let Some(inviter) = reg.inviter else { continue };
                if !self.users.contains(&inviter) {
                    self.report.note(issue(
                        entity::USERS,
                        &file.relative,
                        Some(reg.line),
                        format!("inviter {inviter:?} of {:?} is not a user", reg.name),
                    ));
                    continue;
                }
                let changed = conn
                    .prepare_cached(
                        "UPDATE user SET invited_by_username = ?1 \
                         WHERE display_name = ?2 AND invited_by_username IS NULL",
                    )?
                    .execute(params![inviter, reg.name])?;
                if changed > 0 && !inserted_now.contains(&reg.name) {
                    let counts = self.report.counts_mut(entity::USERS);
                    counts.updated += 1;
                    counts.already_present = counts.already_present.saturating_sub(1);
                }
            }
        }
        progress_report(self.progress, "users", files.len() as u64 * 2, total)?;
        Ok(())
    }

    fn user_attributes(&mut self, conn: &Connection) -> Result<()> {
        let files: Vec<PlannedFile> = self.plan.files_of(Phase::UserAttributes).to_vec();
        for file in &files {
            let bytes = self.read(file)?;
            let parsed = records::user_attributes(&bytes, &file.relative);
            self.note_diagnostics(entity::USER_ATTRIBUTES, &file.relative, &parsed.diagnostics);
            for block in parsed.records {
                let current: Option<(i64, Option<String>, Option<String>, i64)> = conn
                    .prepare_cached(
                        "SELECT is_supporter, supporter_since, supporter_type, welcome_message_dismissed \
                         FROM user WHERE display_name = ?1",
                    )?
                    .query_row([&block.username], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .map(Some)
                    .or_else(|e| match e {
                        rusqlite::Error::QueryReturnedNoRows => Ok(None),
                        e => Err(e),
                    })?;
                let Some((supporter, since, kind, welcome)) = current else {
                    self.report.skip(issue(
                        entity::USER_ATTRIBUTES,
                        &file.relative,
                        (block.line > 0).then_some(block.line),
                        format!("user {:?} does not exist", block.username),
                    ));
                    continue;
                };
                let want_supporter = block.is_supporter.map(i64::from).unwrap_or(supporter);
                let want_welcome = block
                    .welcome_message_dismissed
                    .map(i64::from)
                    .unwrap_or(welcome);
                // The file has the date only; a stored value of that day is kept.
                let want_since = match (&block.supporter_since, &since) {
                    (Some(day), Some(stored)) if stored.get(..10) == Some(day.as_str()) => {
                        since.clone()
                    }
                    (Some(day), _) => Some(format!("{day} 00:00:00.000000")),
                    (None, _) => since.clone(),
                };
                let want_kind = block.supporter_type.clone().or(kind.clone());
                if (want_supporter, &want_since, &want_kind, want_welcome)
                    == (supporter, &since, &kind, welcome)
                {
                    self.report
                        .counts_mut(entity::USER_ATTRIBUTES)
                        .already_present += 1;
                    continue;
                }
                conn.prepare_cached(
                    "UPDATE user SET is_supporter = ?1, supporter_since = ?2, supporter_type = ?3, \
                     welcome_message_dismissed = ?4 WHERE display_name = ?5",
                )?
                .execute(params![
                    want_supporter,
                    want_since,
                    want_kind,
                    want_welcome,
                    block.username
                ])?;
                self.report.counts_mut(entity::USER_ATTRIBUTES).updated += 1;
            }
        }
        Ok(())
    }

    fn prayers(
        &mut self,
        conn: &Connection,
        receiver: &std::sync::mpsc::Receiver<PrayerBatch>,
    ) -> Result<()> {
        self.load_users(conn)?;
        self.activity_tables_empty = activity_tables_empty(conn)?;
        let total = Some(self.plan.prayer_file_count());
        let mut activity = ActivityImport::new(conn, self.ids, self.options.time_zone)?;
        let mut done = 0u64;
        for item in receiver.iter().flatten() {
            if done.is_multiple_of(64) {
                progress_report(self.progress, "prayers", done, total)?;
            }
            done += 1;
            let parsed = item?;
            self.prayer_file(conn, &mut activity, parsed)?;
        }
        self.written.seal(conn)?;
        progress_report(self.progress, "prayers", done, total)?;
        Ok(())
    }

    fn prayer_file(
        &mut self,
        conn: &Connection,
        activity: &mut ActivityImport<'_>,
        parsed: ParsedPrayerFile,
    ) -> Result<()> {
        let ParsedPrayerFile {
            relative,
            name_is_utf8,
            doc,
            diagnostics,
            plan,
            cut,
        } = parsed;
        let relative = relative.as_str();
        self.note_diagnostics(entity::PRAYERS, relative, &diagnostics);
        if doc.fragment || doc.id.is_empty() || doc.author.is_empty() {
            self.report.fail(issue(
                entity::PRAYERS,
                relative,
                Some(1),
                "no `Prayer <id> by <author>` title line; file not imported",
            ));
            return Ok(());
        }
        if let Some(cut) = cut {
            let (entity, reason) = truncation_failure(cut, &doc.id);
            self.report
                .fail(issue(entity, relative, Some(cut.line as u64), reason));
            if !salvageable(cut) {
                return Ok(());
            }
        }
        if super::validate::refuse_planned(&plan, self.report) {
            return Ok(());
        }
        let created = match doc.created_at().or_else(|| time_from_file_name(relative)) {
            Some(t) => t,
            None => {
                self.report.fail(issue(
                    entity::PRAYERS,
                    relative,
                    Some(2),
                    format!("unreadable `Submitted` time {:?}", doc.submitted.text),
                ));
                return Ok(());
            }
        };
        // A name that is not UTF-8 cannot be stored as a path ThyWill could open; without
        // one, ThyWill writes a new file for the prayer at its next activity.
        let stored = name_is_utf8.then(|| self.stored_path(relative));
        if !name_is_utf8 {
            self.report.note(issue(
                entity::PRAYERS,
                relative,
                None,
                "file name is not valid UTF-8: prayer imported without a text_file_path",
            ));
        }
        // With update_existing, only the first intact file of a prayer in this run may
        // write it (a truncated one writes nothing, so it does not count).
        let first_file = !self.options.update_existing
            || cut.is_some()
            || self.seen_prayers.insert(doc.id.clone());
        let mut created_now = false;
        let prayer_path = match find_prayer(conn, &doc.id)? {
            None => {
                Self::ensure_user(&mut self.users, conn, &doc.author, &created, self.report)?;
                insert_prayer_doc(conn, &doc, created, stored.as_deref())?;
                created_now = true;
                self.report.counts_mut(entity::PRAYERS).inserted += 1;
                stored
            }
            Some(existing) => {
                let differs = existing.text != doc.text
                    || existing.generated_prayer != doc.generated_prayer
                    || existing.project_tag != doc.project_tag;
                let overwrite =
                    differs && self.options.update_existing && first_file && cut.is_none();
                if overwrite {
                    conn.prepare_cached(
                        "UPDATE prayer SET text = ?1, generated_prayer = ?2, project_tag = ?3 \
                         WHERE id = ?4",
                    )?
                    .execute(params![
                        doc.text,
                        doc.generated_prayer,
                        doc.project_tag,
                        doc.id
                    ])?;
                } else if cut.is_none() && (differs || existing.author_username != doc.author) {
                    let how = if !self.options.update_existing {
                        "update_existing overwrites it"
                    } else if !first_file {
                        "an earlier file of this import named it first"
                    } else {
                        "the author is never overwritten"
                    };
                    self.report.note(issue(
                        entity::PRAYERS,
                        relative,
                        Some(1),
                        format!(
                            "prayer {} differs from the database; the database is kept ({how})",
                            doc.id
                        ),
                    ));
                }
                let (path, filled) = match (existing.text_file_path, stored) {
                    (Some(path), _) => (Some(path), false),
                    (None, Some(stored)) => {
                        conn.prepare_cached("UPDATE prayer SET text_file_path = ?1 WHERE id = ?2")?
                            .execute(params![stored, doc.id])?;
                        (Some(stored), true)
                    }
                    (None, None) => (None, false),
                };
                let counts = self.report.counts_mut(entity::PRAYERS);
                if overwrite || filled {
                    counts.updated += 1;
                } else {
                    counts.already_present += 1;
                }
                path
            }
        };
        let known_empty = created_now && self.activity_tables_empty;
        if known_empty {
            // What the plan writes is all this prayer's rows: remembered for the ledgers
            // (when the budget allows; otherwise they are read back there).
            let actor = |line: usize| doc.activities.get(line).map_or("", |a| a.actor.as_str());
            self.written.record(
                &doc.id,
                prayer_path.as_deref(),
                plan.marks().iter().map(|mark| (actor(mark.line), mark.at)),
                plan.removals(),
            );
        } else {
            // A prayer named by a second file: what was remembered of the first no
            // longer holds all its rows.
            self.written.forget(&doc.id);
            // An existing prayer's rows are looked up by prayer_id.
            self.need_lookup_indexes(conn)?;
        }
        let users = &mut self.users;
        let mut ensure = |name: &str, at: &NaiveDateTime, report: &mut ImportReport| {
            Self::ensure_user(users, conn, name, at, report)
        };
        let target = PrayerTarget {
            prayer_id: &doc.id,
            prayer_path: prayer_path.as_deref(),
            file: relative,
            known_empty,
        };
        activity.apply(
            &target,
            &doc.activities,
            Some(plan),
            self.report,
            &mut ensure,
        )
    }

    fn ledgers(
        &mut self,
        conn: &Connection,
        receiver: &std::sync::mpsc::Receiver<LedgerBatch>,
    ) -> Result<()> {
        let total = Some(self.plan.files_of(Phase::Ledgers).len() as u64);
        // Ledger lines match the rows there were when the phase began, never rows that
        // lines of other ledger files insert (N lines are N rows whatever the files).
        let last_mark = last_rowid(conn, "prayermark")?;
        let last_skip = last_rowid(conn, "prayerskip")?;
        ensure_small_lookup_indexes(conn)?;
        if !self.written.is_empty() && !self.written.still_valid(conn)? {
            self.report.note(issue(
                entity::PRAYER_MARKS,
                "",
                None,
                "the database changed between the prayers and ledgers phases; \
                 ledger lines are matched against the database",
            ));
        }
        let mut done = 0u64;
        // The prayers a marks or skips file has named so far (see `ledger_marks`).
        let mut file_prayers: LedgerPrayers = Default::default();
        for item in receiver.iter().flatten() {
            let ParsedLedgerPart {
                relative,
                kind,
                first,
                diagnostics,
                records,
            } = item?;
            let entity = match kind {
                LedgerKind::Marks => entity::PRAYER_MARKS,
                LedgerKind::Skips => entity::PRAYER_SKIPS,
                LedgerKind::Attributes => entity::PRAYER_ATTRIBUTES,
            };
            if first {
                progress_report(self.progress, "ledgers", done, total)?;
                done += 1;
                file_prayers.clear();
                self.report.counts_mut(entity);
                self.note_diagnostics(entity, &relative, &diagnostics);
            }
            match kind {
                LedgerKind::Marks => {
                    self.ledger_marks(conn, kind, last_mark, &mut file_prayers, &relative, records)?
                }
                LedgerKind::Skips => {
                    self.ledger_marks(conn, kind, last_skip, &mut file_prayers, &relative, records)?
                }
                LedgerKind::Attributes => self.ledger_attributes(conn, &relative, records)?,
            }
        }
        progress_report(self.progress, "ledgers", done, total)?;
        Ok(())
    }

    /// Marks and skips: per (prayer, user, minute), the file's count of lines is the
    /// number of rows wanted; only the shortfall is inserted (the prayer files have
    /// usually brought the marks already). `last_rowid`: the table's last row when the
    /// phase began (`None`: it was empty, so there is nothing to match). `prayers`: the
    /// prayers the file has named in its earlier parts.
    fn ledger_marks(
        &mut self,
        conn: &Connection,
        kind: LedgerKind,
        last_rowid: Option<i64>,
        prayers: &mut LedgerPrayers,
        relative: &str,
        entries: Vec<LedgerEntry>,
    ) -> Result<()> {
        let entity = if kind == LedgerKind::Marks {
            entity::PRAYER_MARKS
        } else {
            entity::PRAYER_SKIPS
        };
        // Per prayer, one query for its path and one for all its rows. (A single LEFT
        // JOIN query measured slower.)
        let select = if kind == LedgerKind::Marks {
            "SELECT username, created_at FROM prayermark WHERE prayer_id = ?1 AND rowid <= ?2"
        } else {
            "SELECT user_id, created_at FROM prayerskip WHERE prayer_id = ?1 AND rowid <= ?2"
        };
        let zone = self.options.time_zone;
        // Looked up in the statement cache once per file rather than once per line.
        let mut select_existing = conn.prepare_cached(select)?;
        let mut insert = conn.prepare_cached(if kind == LedgerKind::Marks {
            "INSERT INTO prayermark (id, username, prayer_id, created_at, text_file_path) \
             VALUES (?1, ?2, ?3, ?4, ?5)"
        } else {
            "INSERT INTO prayerskip (id, user_id, prayer_id, created_at) VALUES (?1, ?2, ?3, ?4)"
        })?;
        // Counted here and added to the report once.
        let (mut present, mut inserted) = (0u64, 0u64);
        for entry in entries {
            if super::validate::refuse_ledger_entry(self.report, entity, relative, &entry) {
                continue;
            }
            let Some(at) = entry.time else {
                self.report.fail(issue(
                    entity,
                    relative,
                    Some(entry.line),
                    "unreadable timestamp",
                ));
                continue;
            };
            if !prayers.contains_key(&entry.prayer_id) {
                // A prayer this import created: its path and marks are remembered (its
                // skips, which prayer files do not carry, are read back).
                let remembered = self.written.get(&entry.prayer_id).map(|w| {
                    let marks = if kind == LedgerKind::Marks {
                        w.marks.clone()
                    } else {
                        Vec::new()
                    };
                    (w.path.clone(), marks)
                });
                let read_back = remembered.is_none() || kind == LedgerKind::Skips;
                let found = match remembered {
                    Some(known) => Some(known),
                    None => {
                        self.need_lookup_indexes(conn)?;
                        find_prayer_path(conn, &entry.prayer_id)?.map(|path| (path, Vec::new()))
                    }
                };
                let found = match found {
                    None => None,
                    Some((path, mut rows)) => {
                        if let (Some(last), true) = (last_rowid, read_back) {
                            let mut found =
                                select_existing.query(params![entry.prayer_id, last])?;
                            while let Some(r) = found.next()? {
                                let stored =
                                    r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
                                // A text that is no minute can match no line.
                                let Some(minute) = stored_minute_number(stored) else {
                                    continue;
                                };
                                let user = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                                rows.push((self.written.user_number(user), minute));
                            }
                        }
                        Some(LedgerPrayer { path, rows })
                    }
                };
                prayers.insert(entry.prayer_id.clone(), found);
            }
            let Some(LedgerPrayer { path, rows }) =
                prayers.get_mut(&entry.prayer_id).and_then(Option::as_mut)
            else {
                self.report.skip(issue(
                    entity,
                    relative,
                    Some(entry.line),
                    format!("prayer {} is not in the database", entry.prayer_id),
                ));
                continue;
            };
            // The line's minute, then (rows Python wrote with `utcnow()`) its UTC minute.
            let local = minute_number(&at);
            let utc = minute_number(&zone.to_utc(&at));
            let found = self.written.known_user(&entry.user).and_then(|user| {
                [local, utc]
                    .iter()
                    .find_map(|&minute| rows.iter().position(|&row| row == (user, minute)))
            });
            if let Some(index) = found {
                // Each existing row answers for one line.
                rows.swap_remove(index);
                present += 1;
                continue;
            }
            if kind == LedgerKind::Marks {
                insert.execute(params![
                    self.ids.uuid4_hex_text()?,
                    entry.user,
                    entry.prayer_id,
                    datetime_text(&at),
                    path.as_deref()
                ])?;
            } else {
                insert.execute(params![
                    self.ids.uuid4_hex_text()?,
                    entry.user,
                    entry.prayer_id,
                    datetime_text(&at)
                ])?;
            }
            inserted += 1;
        }
        let counts = self.report.counts_mut(entity);
        counts.already_present += present;
        counts.inserted += inserted;
        Ok(())
    }

    /// Attribute ledger lines record attributes being set, never removed. A line is
    /// applied only when the prayer has no attribute of that name and no later
    /// `remove_<name>` log (so a restored prayer stays restored).
    fn ledger_attributes(
        &mut self,
        conn: &Connection,
        relative: &str,
        entries: Vec<LedgerEntry>,
    ) -> Result<()> {
        let entity = entity::PRAYER_ATTRIBUTES;
        for entry in entries {
            if super::validate::refuse_ledger_entry(self.report, entity, relative, &entry) {
                continue;
            }
            let (Some(at), Some(name)) = (entry.time, entry.name.as_deref()) else {
                self.report.fail(issue(
                    entity,
                    relative,
                    Some(entry.line),
                    "unreadable timestamp or attribute name",
                ));
                continue;
            };
            // A prayer this import created: its `remove_*` logs are remembered.
            let remembered_removed_later = self.written.get(&entry.prayer_id).map(|w| {
                let minute = minute_number(&at);
                w.removals
                    .iter()
                    .any(|(removed, m)| removed == name && *m >= minute)
            });
            if remembered_removed_later.is_none() {
                self.need_lookup_indexes(conn)?;
            }
            if remembered_removed_later.is_none()
                && find_prayer_path(conn, &entry.prayer_id)?.is_none()
            {
                self.report.skip(issue(
                    entity,
                    relative,
                    Some(entry.line),
                    format!("prayer {} is not in the database", entry.prayer_id),
                ));
                continue;
            }
            let present: bool = conn
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM prayer_attributes WHERE prayer_id = ?1 AND attribute_name = ?2)",
                )?
                .query_row(params![entry.prayer_id, name], |r| r.get(0))?;
            if present {
                self.report.counts_mut(entity).already_present += 1;
                continue;
            }
            let removed_later = match remembered_removed_later {
                Some(removed) => removed,
                None => conn
                    .prepare_cached(
                        "SELECT EXISTS(SELECT 1 FROM prayer_activity_log WHERE prayer_id = ?1 \
                         AND action = ?2 AND substr(replace(created_at, 'T', ' '), 1, 16) >= ?3)",
                    )?
                    .query_row(
                        params![entry.prayer_id, format!("remove_{name}"), minute_key(&at)],
                        |r| r.get(0),
                    )?,
            };
            if removed_later {
                self.report.counts_mut(entity).already_present += 1;
                continue;
            }
            conn.prepare_cached(
                "INSERT INTO prayer_attributes (id, prayer_id, attribute_name, attribute_value, \
                 created_at, created_by, text_file_path) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
            )?
            .execute(params![
                self.ids.token_hex16()?,
                entry.prayer_id,
                name,
                entry.value,
                format_datetime(&at),
                if entry.user.is_empty() {
                    None
                } else {
                    Some(entry.user.as_str())
                }
            ])?;
            self.report.counts_mut(entity).inserted += 1;
        }
        Ok(())
    }

    fn note_diagnostics(
        &mut self,
        entity: &str,
        relative: &str,
        diagnostics: &[crate::archive::diagnostics::Diagnostic],
    ) {
        for d in diagnostics {
            self.report.note(issue(
                entity,
                relative,
                (d.line > 0).then_some(d.line as u64),
                d.reason.clone(),
            ));
        }
    }
}

/// Per prayer a marks or skips file names (None: not in the database), loaded at its
/// first line in the file and consumed by the file's lines.
type LedgerPrayers = foldhash::HashMap<String, Option<LedgerPrayer>>;

/// A prayer as the marks and skips ledgers need it: its rows are (user number, minute
/// number) pairs, a handful per prayer, scanned linearly.
struct LedgerPrayer {
    path: Option<String>,
    /// Its rows not yet matched by a line: (user number, minute number).
    rows: Vec<(u32, i64)>,
}

/// A prayer file read and parsed by the reader thread.
struct ParsedPrayerFile {
    /// As reports name it.
    relative: String,
    /// False when the file name is not UTF-8 (then no `text_file_path` is stored).
    name_is_utf8: bool,
    /// Its record, without the part a cut runs through ([`salvage`]).
    doc: prayer::PrayerArchive,
    diagnostics: Vec<crate::archive::diagnostics::Diagnostic>,
    /// Its activities' rows as for a new prayer on empty activity tables.
    plan: ActivityPlan,
    /// Where the file was cut short, if it was.
    cut: Option<prayer::Cut>,
}

/// Whether what a truncated file holds intact is imported: yes unless the cut runs through
/// the header or the request text (a prayer without its request is no prayer).
pub(crate) fn salvageable(cut: prayer::Cut) -> bool {
    !matches!(
        cut.part,
        prayer::CutPart::Header | prayer::CutPart::RequestText
    )
}

/// Drops from a parsed record the part a cut runs through, so it is not stored as if it
/// were whole: the generated prayer, or the last activity.
pub(crate) fn salvage(doc: &mut prayer::PrayerArchive, cut: Option<prayer::Cut>) {
    match cut.map(|c| c.part) {
        Some(prayer::CutPart::GeneratedPrayer) => doc.generated_prayer = None,
        Some(prayer::CutPart::LastActivity) => {
            doc.activities.pop();
        }
        _ => {}
    }
}

/// The located failure of a truncated prayer file: its entity (`prayers` when no prayer is
/// imported from it, `files` when what it holds intact is) and its reason.
pub(crate) fn truncation_failure(cut: prayer::Cut, id: &str) -> (&'static str, String) {
    use prayer::CutPart;
    let reason = match cut.part {
        CutPart::Header => format!(
            "file is truncated in its header (no blank line follows it); prayer {id} not imported"
        ),
        CutPart::RequestText => format!(
            "file is truncated in its request text (no `Generated Prayer:` or `Activity:` line \
             follows it); prayer {id} not imported"
        ),
        CutPart::GeneratedPrayer => format!(
            "file is truncated in its generated prayer (no `Activity:` line follows it); \
             prayer {id} imported without its generated prayer"
        ),
        CutPart::LastActivity => {
            "file is truncated in its last activity line (no newline ends it); that activity \
             is not imported"
                .to_string()
        }
        CutPart::FinalNewline => {
            "file is truncated: it does not end with a newline; everything in it is imported"
                .to_string()
        }
    };
    let entity = if salvageable(cut) {
        entity::FILES
    } else {
        entity::PRAYERS
    };
    (entity, reason)
}

/// Prayer files read and parsed by the reader thread, in order; an error ends the batch.
type PrayerBatch = Vec<Result<ParsedPrayerFile>>;

/// Prayer files per [`PrayerBatch`].
const PRAYER_BATCH: usize = 16;

/// Reads and parses the prayer files of `months` in order and sends them in batches;
/// stops early when the receiving side has gone (an error or a cancellation there).
fn read_prayer_files(
    root: &Path,
    months: &[String],
    ids: &IdGenerator,
    sender: &std::sync::mpsc::SyncSender<PrayerBatch>,
) {
    let mut batch: PrayerBatch = Vec::with_capacity(PRAYER_BATCH);
    for month in months {
        let folder = root.join(month);
        let entries = match sorted_entries(&folder) {
            Ok(entries) => entries,
            Err(e) => {
                batch.push(Err(e));
                let _ = sender.send(batch);
                return;
            }
        };
        for (name, entry) in entries {
            // What is no regular file the plan noted; it is never opened.
            let EntryType::File { via_link } = entry else {
                continue;
            };
            if !is_prayer_file_entry(&name, entry) {
                continue;
            }
            let (relative, name_is_utf8) = match name.to_str() {
                Some(name) => (format!("{month}/{name}"), true),
                None => (format!("{month}/{}", display_name(&name)), false),
            };
            let path = folder.join(&name);
            let item = read_listed_file(&path, via_link).map(|bytes| {
                let (mut doc, diagnostics, cut) =
                    prayer::parse_bytes_judged(&bytes, Some(Path::new(&relative)));
                salvage(&mut doc, cut);
                // Planned as for a new prayer on empty activity tables; the writer
                // uses the plan only when that turns out to be the case.
                let plan = ActivityPlan::for_new_prayer(&doc.activities, &relative, ids)
                    .checked(&doc, &bytes, &relative);
                ParsedPrayerFile {
                    relative,
                    name_is_utf8,
                    doc,
                    diagnostics,
                    plan,
                    cut,
                }
            });
            let failed = item.is_err();
            batch.push(item);
            if failed || batch.len() == PRAYER_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(PRAYER_BATCH));
                if sender.send(full).is_err() || failed {
                    return;
                }
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.send(batch);
    }
}

/// The rowid of a table's last row (`None` when it is empty).
fn last_rowid(conn: &Connection, table: &str) -> Result<Option<i64>> {
    Ok(conn.query_row(&format!("SELECT max(rowid) FROM {table}"), [], |r| r.get(0))?)
}

/// Whether the mark, attribute and activity-log tables hold no row.
fn activity_tables_empty(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT NOT EXISTS(SELECT 1 FROM prayermark) AND NOT EXISTS(SELECT 1 FROM prayer_attributes) \
         AND NOT EXISTS(SELECT 1 FROM prayer_activity_log)",
        [],
        |r| r.get(0),
    )?)
}

/// Part of a ledger file read and parsed by the reader thread. Files travel in parts of
/// at most [`LEDGER_PART`] lines, packed into [`LedgerBatch`]es of about that many lines,
/// so the reader (done with the prayer files long before the writer) parses ahead within
/// bounded memory, and the writer is woken once per batch, not once per small file (on
/// this project's virtual machines a wake-up of an idle thread took up to a millisecond,
/// which per file was most of the ledgers phase).
struct ParsedLedgerPart {
    relative: String,
    kind: LedgerKind,
    /// The file's first part, which carries its diagnostics.
    first: bool,
    diagnostics: Vec<crate::archive::diagnostics::Diagnostic>,
    records: Vec<LedgerEntry>,
}

/// Ledger parts in file order, about [`LEDGER_PART`] lines in all; an error ends them.
type LedgerBatch = Vec<Result<ParsedLedgerPart>>;

/// Ledger lines per [`ParsedLedgerPart`] and per [`LedgerBatch`].
const LEDGER_PART: usize = 4096;

/// Ledger batches the reader may be ahead of the writer (about 131,072 lines).
const LEDGER_BATCHES_AHEAD: usize = 32;

/// Reads and parses the ledger files in order and sends them in batches of parts; stops
/// early when the receiving side has gone.
fn read_ledger_files(
    root: &Path,
    files: &[PlannedFile],
    sender: &std::sync::mpsc::SyncSender<LedgerBatch>,
) {
    let mut batch: LedgerBatch = Vec::new();
    let mut lines = 0;
    for file in files {
        let FileKind::Ledger(kind) = file.kind else {
            continue;
        };
        let parsed = match read_listed_file(&root.join(&file.path), file.via_link) {
            Ok(bytes) => records::ledger(kind, &bytes, &file.relative),
            Err(e) => {
                batch.push(Err(e));
                let _ = sender.send(batch);
                return;
            }
        };
        let mut diagnostics = Some(parsed.diagnostics);
        let mut records = parsed.records.into_iter().peekable();
        loop {
            let part = ParsedLedgerPart {
                relative: file.relative.clone(),
                kind,
                first: diagnostics.is_some(),
                diagnostics: diagnostics.take().unwrap_or_default(),
                records: records.by_ref().take(LEDGER_PART - lines).collect(),
            };
            lines += part.records.len();
            batch.push(Ok(part));
            if lines >= LEDGER_PART {
                if sender.send(std::mem::take(&mut batch)).is_err() {
                    return;
                }
                lines = 0;
            }
            if records.peek().is_none() {
                break;
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.send(batch);
    }
}

/// Directory entries with what each is ([`entry_type`]), sorted by name (bytewise, which
/// for UTF-8 names is the order of their characters).
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<(OsString, EntryType)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let kind = entry_type(&entry).map_err(|e| Error::io(entry.path(), e))?;
        out.push((entry.file_name(), kind));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// A listed entry of a prayer month folder that is a prayer file: a `.txt` regular file.
fn is_prayer_file_entry(name: &OsStr, entry: EntryType) -> bool {
    matches!(entry, EntryType::File { .. }) && name.as_encoded_bytes().ends_with(b".txt")
}

/// A file name as reports show it: itself when it is UTF-8, else with each byte that is not
/// part of UTF-8 written `\xNN` (so two such names never read alike).
fn display_name(name: &OsStr) -> String {
    match name.to_str() {
        Some(text) => text.to_string(),
        None => {
            let mut out = String::new();
            for chunk in name.as_encoded_bytes().utf8_chunks() {
                out.push_str(chunk.valid());
                for byte in chunk.invalid() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            }
            out
        }
    }
}

fn slash_path(rel: &Path) -> String {
    rel.components()
        .map(|c| display_name(c.as_os_str()))
        .collect::<Vec<_>>()
        .join("/")
}

fn is_prayer_month(rel: &Path) -> bool {
    let parts: Vec<&OsStr> = rel.components().map(|c| c.as_os_str()).collect();
    let digits = |s: &OsStr| {
        let bytes = s.as_encoded_bytes();
        !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit)
    };
    parts.len() == 3 && parts[0] == "prayers" && digits(parts[1]) && digits(parts[2])
}

/// `YYYY_MM_DD_prayer_at_HHMM[_N].txt`: the creation minute, used when the `Submitted`
/// line cannot be read (ThyWill would use the current time, which breaks idempotency).
pub(crate) fn time_from_file_name(relative: &str) -> Option<NaiveDateTime> {
    let name = relative.rsplit('/').next()?;
    let (date, rest) = name.split_once("_prayer_at_")?;
    let hhmm = rest.get(..4)?;
    chrono::NaiveDateTime::parse_from_str(&format!("{date} {hhmm}"), "%Y_%m_%d %H%M").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

    fn fixtures() -> PathBuf {
        std::env::var_os("THYWILL_FIXTURES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../../shared/fixtures"
                ))
            })
    }

    /// Every row of the tables an import fills, without the generated ids, sorted.
    fn contents(db: &Database) -> Vec<String> {
        let conn = db.connection();
        let mut out = Vec::new();
        for table in [
            "user",
            "prayer",
            "prayermark",
            "prayerskip",
            "prayer_attributes",
            "prayer_activity_log",
        ] {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table}"))
                .expect("select");
            let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
            let mut rows = stmt.query([]).expect("query");
            while let Some(row) = rows.next().expect("row") {
                let mut line = table.to_string();
                for (i, name) in names.iter().enumerate() {
                    if name != "id" {
                        let value: rusqlite::types::Value = row.get(i).expect("value");
                        line.push_str(&format!("|{value:?}"));
                    }
                }
                out.push(line);
            }
        }
        out.sort();
        out
    }

    fn import_with_budget(corpus: &str, budget: usize) -> (Vec<String>, ImportReport, bool) {
        let archives = fixtures().join(corpus).join("text_archives");
        let db = Database::in_memory().expect("database");
        let plan = TextArchivePlan::scan(&archives, "test").expect("scan");
        let options = TextArchiveOptions {
            time_zone: crate::db::ArchiveTimeZone::Utc,
            ..TextArchiveOptions::default()
        };
        let report = plan
            .apply_remembering(&db, &options, &NoProgress, budget)
            .expect("import");
        let big_index = db
            .connection()
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = 'thywill_core_prayermark_prayer')",
                [],
                |r| r.get(0),
            )
            .expect("index");
        (contents(&db), report, big_index)
    }

    /// Remembering everything, part or nothing of the prayers phase: the same rows and
    /// the same report. Only the lookup indexes a read-back needs differ.
    #[test]
    fn the_ledgers_phase_gives_the_same_rows_whatever_it_remembers() {
        for corpus in ["s1", "s1-live"] {
            let (all, all_report, all_index) = import_with_budget(corpus, WRITTEN_BUDGET);
            assert!(!all_index, "{corpus}: nothing needed a prayer_id index");
            for budget in [0, 5_000] {
                let (some, report, index) = import_with_budget(corpus, budget);
                // s1-live has no ledger files: nothing to read back there.
                assert_eq!(
                    index,
                    corpus == "s1",
                    "{corpus}, budget {budget}: read back through the index"
                );
                assert_eq!(all.len(), some.len(), "{corpus}, budget {budget}");
                let differing: Vec<_> = all
                    .iter()
                    .zip(&some)
                    .filter(|(a, b)| a != b)
                    .take(5)
                    .collect();
                assert!(
                    differing.is_empty(),
                    "{corpus}, budget {budget}: {differing:#?}"
                );
                assert_eq!(
                    serde_json::to_value(&all_report.entities).expect("json"),
                    serde_json::to_value(&report.entities).expect("json"),
                    "{corpus}, budget {budget}"
                );
            }
        }
    }
}
