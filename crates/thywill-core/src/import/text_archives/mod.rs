//! `thywill import text-archives [FOLDER|ZIP] [--dry-run]`: users (two passes), user
//! flags, prayers with their activities, the monthly marks/skips/attributes ledgers, roles
//! and grants, invite tokens and their use, sessions, authentication requests and
//! approvals, security events, notifications, the auth audit log (from an export) and
//! membership applications (docs/import.md).
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
//! is noted. A prayer file judged truncated ([`crate::archive::prayer::Cut`]) fails the
//! run; what it holds intact is imported, and the part the cut runs through is not.
//!
//! The [`plan`] lists the archive; applying it runs one module per phase, in the order of
//! [`Phase::ALL`], each in one transaction, all sharing one [`ImportRun`]. Before the first
//! phase, the [`read_ahead`] thread starts reading and parsing the prayer and ledger files
//! for the two phases that import them.

mod auth;
mod auth_audit_logs;
mod invites;
mod ledgers;
mod membership;
mod notifications;
mod phases;
mod plan;
mod prayers;
mod read_ahead;
mod records;
mod roles;
mod security_events;
mod sessions;
mod user_attributes;
mod users;
mod written;

pub use phases::{import_text_archive_phases, phase_names, phases_named, PhaseImportReport};
pub use plan::{Phase, PlannedFile, TextArchivePlan};
pub(crate) use prayers::{salvage, salvageable, time_from_file_name, truncation_failure};
pub(crate) use records::{registrations, LedgerEntry, Registration};
pub(crate) use sessions::SessionFilter;

use std::collections::HashSet;
use std::path::Path;

use rusqlite::{Connection, Params, Row, ToSql};

use super::report::{issue, Entity, ImportReport};
use super::runner::{ensure_lookup_indexes, ensure_schema, PhaseRunner};
use super::source::{ArchiveSource, ZipLimits};
use crate::archive::diagnostics::Diagnostic;
use crate::archive::fileops::read_listed_file;
use crate::archive::kind::FileKind;
use crate::archive::layout::pathlib_str;
use crate::db::{ArchiveTimeZone, Database, IdGenerator};
use crate::progress::Progress;
use crate::Result;
use written::{WrittenPrayers, WRITTEN_BUDGET};

/// Options of a text-archive import. Deserializes from a JSON object of these fields, each
/// optional (the C API's options document).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
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

/// Imports a folder or a ZIP of text archives into the database at `db_path`.
pub fn import_text_archives(
    source: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    options: &TextArchiveOptions,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let (source, db_path) = (source.as_ref(), db_path.as_ref());
    crate::audit::recorded(
        db_path,
        "import.text_archives",
        crate::audit::arguments([
            ("source", serde_json::json!(source)),
            ("database", serde_json::json!(db_path)),
            ("options", serde_json::json!(options)),
        ]),
        crate::import::report::import_audit_counts,
        || import_text_archives_unrecorded(source, db_path, options, progress),
    )
}

fn import_text_archives_unrecorded(
    source: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    options: &TextArchiveOptions,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let source = ArchiveSource::open_with_limits(source, &options.zip_limits)?;
    let plan = TextArchivePlan::scan(source.root(), source.given())?;
    plan.apply(db_path, options, progress)
}

impl TextArchivePlan {
    /// Imports into the database at `db_path` (created with ThyWill's schema when
    /// missing, except in a dry run, which then works on an in-memory database; a
    /// database file created for a run that fails is removed again).
    pub fn apply(
        &self,
        db_path: impl AsRef<Path>,
        options: &TextArchiveOptions,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        self.apply_phases(db_path, &[], options, progress)
    }

    /// [`TextArchivePlan::apply`] running only `phases` (empty: every phase), in the order
    /// of [`Phase::ALL`] whatever the order given. Refused (invalid input, nothing written)
    /// when a phase's prerequisites are neither among `phases` nor already in the database
    /// ([`Phase::prerequisites`]).
    pub fn apply_phases(
        &self,
        db_path: impl AsRef<Path>,
        phases: &[Phase],
        options: &TextArchiveOptions,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        super::with_target(db_path.as_ref(), options.dry_run, |db| {
            let mut report =
                self.apply_remembering(db, options, progress, WRITTEN_BUDGET, phases)?;
            report.seal();
            Ok(report)
        })
    }

    /// Imports into an open database.
    pub fn apply_to(
        &self,
        db: &Database,
        options: &TextArchiveOptions,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        let mut report = self.apply_remembering(db, options, progress, WRITTEN_BUDGET, &[])?;
        report.seal();
        Ok(report)
    }

    /// [`TextArchivePlan::apply_to`] running `phases` (empty: all), remembering at most
    /// `budget` rows of the prayers phase for the ledgers phase (tests vary it: the result
    /// must not depend on it).
    fn apply_remembering(
        &self,
        db: &Database,
        options: &TextArchiveOptions,
        progress: &dyn Progress,
        budget: usize,
        phases: &[Phase],
    ) -> Result<ImportReport> {
        let database = super::database_label(db);
        let mut report =
            ImportReport::new("text_archives", &self.source, &database, options.dry_run);
        for entity in [
            Entity::Users,
            Entity::Prayers,
            Entity::PrayerMarks,
            Entity::PrayerAttributes,
            Entity::ActivityLogs,
        ] {
            report.counts_mut(entity);
        }
        self.note_files_not_read(&mut report);
        let ids = IdGenerator::new();
        let selected = |phase: Phase| phases.is_empty() || phases.contains(&phase);
        let runner = PhaseRunner::begin(db.connection(), options.dry_run)?;
        let mut run = ImportRun::new(self, options, &ids, &mut report, progress, budget, None);
        std::thread::scope(|scope| -> Result<()> {
            let read_ahead = read_ahead::start(
                scope,
                self,
                &ids,
                selected(Phase::Prayers),
                selected(Phase::Ledgers),
            );
            let result = (|| -> Result<()> {
                runner.phase(|conn| {
                    ensure_schema(conn, &ids)?;
                    if !phases.is_empty() {
                        self.check_prerequisites(conn, phases)?;
                        // The users phase loads them itself; the others find the users
                        // an earlier run left.
                        run.load_users(conn)?;
                    }
                    // On empty activity tables the prayer_id indexes wait until a lookup
                    // needs one: the prayers it creates need none, and the ledgers phase
                    // matches their lines against what the prayers phase remembers.
                    if !activity_tables_empty(conn)? {
                        run.need_lookup_indexes(conn)?;
                    }
                    if selected(Phase::Users) {
                        users::import(conn, &mut run)?;
                    }
                    Ok(())
                })?;
                if selected(Phase::UserAttributes) {
                    runner.phase(|conn| user_attributes::import(conn, &mut run))?;
                }
                if selected(Phase::Prayers) {
                    runner.phase(|conn| prayers::import(conn, &mut run, &read_ahead.prayers))?;
                    // After each large phase the new file's pages start on their way to
                    // disk while the next phase runs (a no-op for an existing database).
                    db.start_writeback();
                }
                if selected(Phase::Ledgers) {
                    runner.phase(|conn| ledgers::import(conn, &mut run, &read_ahead.ledgers))?;
                    db.start_writeback();
                }
                Ok(())
            })();
            // On an error the receivers go away first, so the reader stops at its next send.
            drop(read_ahead);
            result
        })?;
        let later: [(Phase, PhaseImport); 8] = [
            (Phase::Roles, roles::import),
            (Phase::Invites, invites::import),
            (Phase::Sessions, sessions::import),
            (Phase::Auth, auth::import),
            (Phase::SecurityEvents, security_events::import),
            (Phase::Notifications, notifications::import),
            (Phase::AuthAuditLogs, auth_audit_logs::import),
            (Phase::MembershipApplications, membership::import),
        ];
        for (phase, import) in later {
            if selected(phase) {
                runner.phase(|conn| import(conn, &mut run))?;
            }
        }
        runner.finish()?;
        let files = report.counts_mut(Entity::Files);
        files.skipped = (self.not_imported.len() + self.not_read.len()) as u64;
        Ok(report)
    }

    /// Runs `phases`, in the order given, on `conn` inside the caller's transaction (no
    /// transaction of its own, no schema creation), for the recovery operations that redo
    /// part of an import. The prayers and ledgers phases, which need the read-ahead
    /// thread, cannot run this way. With `session_filter`, the sessions phase inserts only
    /// the sessions it admits.
    pub(crate) fn apply_phases_in(
        &self,
        conn: &Connection,
        phases: &[Phase],
        options: &TextArchiveOptions,
        session_filter: Option<&SessionFilter>,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        let mut report = ImportReport::new(
            "text_archives",
            &self.source,
            "the database",
            options.dry_run,
        );
        let ids = IdGenerator::new();
        // The prayers phase does not run here: nothing to remember for the ledgers.
        let mut run = ImportRun::new(
            self,
            options,
            &ids,
            &mut report,
            progress,
            0,
            session_filter,
        );
        run.load_users(conn)?;
        for phase in phases {
            match phase {
                Phase::Users => users::import(conn, &mut run)?,
                Phase::UserAttributes => user_attributes::import(conn, &mut run)?,
                Phase::Roles => roles::import(conn, &mut run)?,
                Phase::Invites => invites::import(conn, &mut run)?,
                Phase::Sessions => sessions::import(conn, &mut run)?,
                Phase::Auth => auth::import(conn, &mut run)?,
                Phase::SecurityEvents => security_events::import(conn, &mut run)?,
                Phase::Notifications => notifications::import(conn, &mut run)?,
                Phase::AuthAuditLogs => auth_audit_logs::import(conn, &mut run)?,
                Phase::MembershipApplications => membership::import(conn, &mut run)?,
                Phase::Prayers | Phase::Ledgers => {
                    return Err(crate::Error::InvalidInput(format!(
                        "the {} phase cannot run alone",
                        phase.name()
                    )))
                }
            }
        }
        Ok(report)
    }

    /// Notes the entries that are not read (not regular files), and the files no phase
    /// imports whose names are not UTF-8 (no archive file has such a name, so they may be
    /// archive files whose names were damaged).
    fn note_files_not_read(&self, report: &mut ImportReport) {
        for entry in &self.not_read {
            report.note(issue(
                Entity::Files,
                &entry.relative,
                None,
                format!("not a regular file ({}); not read", entry.what),
            ));
        }
        for file in &self.not_imported {
            if file.path.to_str().is_none() {
                report.note(issue(
                    Entity::Files,
                    &file.relative,
                    None,
                    "file name is not valid UTF-8, so no archive file name; not imported",
                ));
            }
        }
    }
}

/// A phase that needs nothing but the connection and the run.
type PhaseImport = fn(&Connection, &mut ImportRun<'_>) -> Result<()>;

/// One run of a text-archive import: what every phase reads (the plan, the options), what
/// every phase writes to (the report), and what a phase learns for a later one.
struct ImportRun<'r> {
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
    /// Which archived sessions the sessions phase may insert (`None`: all).
    session_filter: Option<&'r SessionFilter>,
}

impl<'r> ImportRun<'r> {
    /// A run that has learnt nothing yet, remembering at most `budget` rows of the prayers
    /// phase for the ledgers phase.
    fn new(
        plan: &'r TextArchivePlan,
        options: &'r TextArchiveOptions,
        ids: &'r IdGenerator,
        report: &'r mut ImportReport,
        progress: &'r dyn Progress,
        budget: usize,
        session_filter: Option<&'r SessionFilter>,
    ) -> ImportRun<'r> {
        ImportRun {
            plan,
            options,
            ids,
            report,
            progress,
            users: HashSet::new(),
            activity_tables_empty: false,
            indexes_ready: false,
            written: WrittenPrayers::with_budget(budget),
            seen_prayers: HashSet::new(),
            session_filter,
        }
    }

    /// The planned files of `phase`, in order.
    fn files(&self, phase: Phase) -> &'r [PlannedFile] {
        self.plan.files_of(phase)
    }

    /// The planned files of `phase` that are of `kind`, in order.
    fn files_of_kind(&self, phase: Phase, kind: FileKind) -> impl Iterator<Item = &'r PlannedFile> {
        self.files(phase).iter().filter(move |f| f.kind == kind)
    }

    /// The bytes of a planned file.
    fn read(&self, file: &PlannedFile) -> Result<Vec<u8>> {
        read_listed_file(&self.plan.root.join(&file.path), file.via_link)
    }

    /// The `text_file_path` stored for a file, as ThyWill names it.
    fn stored_path(&self, relative: &str) -> String {
        pathlib_str(&format!("{}/{relative}", self.options.path_prefix))
    }

    /// Notes the lines of a file its parser could not read.
    fn note_diagnostics(&mut self, entity: Entity, relative: &str, diagnostics: &[Diagnostic]) {
        for d in diagnostics {
            self.report.note(issue(
                entity,
                relative,
                (d.line > 0).then_some(d.line as u64),
                d.reason.clone(),
            ));
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

    /// Fills [`ImportRun::users`] from the `user` table.
    fn load_users(&mut self, conn: &Connection) -> Result<()> {
        let mut stmt = conn.prepare("SELECT display_name FROM user")?;
        let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
        self.users = names.collect::<std::result::Result<_, _>>()?;
        Ok(())
    }
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

/// `Connection::execute` through the statement cache: the phases after the ledgers run
/// their statements once per archive record, and preparing the SQL each time cost more
/// than running it.
fn execute_cached(conn: &Connection, sql: &str, args: impl Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(args)
}

/// `Connection::query_row` through the statement cache (see [`execute_cached`]).
fn query_row_cached<T>(
    conn: &Connection,
    sql: &str,
    args: impl Params,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(args, map)
}

/// Whether the query `sql` finds a row, through the statement cache (see
/// [`execute_cached`]).
fn row_exists(conn: &Connection, sql: &str, args: &[&dyn ToSql]) -> Result<bool> {
    Ok(conn.prepare_cached(sql)?.exists(args)?)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

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
            .apply_remembering(&db, &options, &NoProgress, budget, &[])
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
