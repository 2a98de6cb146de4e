//! `restore` and `restore-safe`: replace the live database with a verified backup, crash-safely.
//!
//! At every instant the live path holds either the old database (with its WAL) or the new one:
//! the backup is copied to a temp file beside the live one and fsynced; the old database's WAL
//! is checkpointed into the main file before its `-wal`/`-shm` are removed; the temp file is
//! renamed over the live path and the folder fsynced.

use crate::audit;
use serde_json::json;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::create::{self, open_existing, shm_path, wal_path, CreateReport};
use super::files::{self, copy_hashing, fsync_dir, fsync_file, parent_dir, rename_durably};
use super::openers::{self, journal_path, OpenProcess};
use super::stale;
use super::upgrade::{self, SchemaUpgradeReport};
use super::verify::{verify, VerifyOptions, VerifyReport};
use super::{BackupKind, CreateOptions};
use crate::progress::{self, Progress};
use crate::{Error, ErrorKind, Result};

/// An exclusive lock on a backup root, so that backups, cleanups and restores run one at a time.
pub(crate) struct RootLock {
    file: File,
}

impl RootLock {
    /// Blocks until the lock on `<root>/.thywill-backup.lock` is ours.
    pub(crate) fn acquire(root: &Path) -> Result<RootLock> {
        files::check_backup_root(root)?;
        files::create_private_dir(root)?;
        let path = root.join(".thywill-backup.lock");
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        file.lock().map_err(|e| Error::io(&path, e))?;
        Ok(RootLock { file })
    }
}

impl Drop for RootLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// What to do when the live database is in use: another process has it open (the app, even
/// idle: it would keep writing to the replaced file) or another connection holds a write
/// transaction. As JSON: `"fail"`, `"force"` or `{"wait": SECONDS}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockPolicy {
    /// Refuse at once with a conflict error naming the processes (the default).
    #[default]
    Fail,
    /// Wait up to this many seconds for the other processes to close the database and the
    /// writer to finish, then refuse.
    Wait(u64),
    /// Go ahead anyway: whatever those processes write afterwards is lost.
    Force,
}

impl LockPolicy {
    /// The policy of the front ends' two settings, `force` (`--force`) and `wait_seconds`
    /// (`--wait SECONDS`): neither is [`LockPolicy::Fail`]. Both at once contradict each
    /// other and are [`Error::InvalidInput`].
    pub fn from_flags(force: bool, wait_seconds: Option<u64>) -> Result<LockPolicy> {
        match (force, wait_seconds) {
            (true, Some(seconds)) => Err(Error::InvalidInput(format!(
                "force and wait ({seconds} s) contradict each other: force goes ahead at once, wait gives up after waiting; give one"
            ))),
            (true, None) => Ok(LockPolicy::Force),
            (false, Some(seconds)) => Ok(LockPolicy::Wait(seconds)),
            (false, None) => Ok(LockPolicy::Fail),
        }
    }
}

/// Plain restore or schema-upgrading restore.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreMode {
    /// Install the backup as it is (the default).
    #[default]
    Plain,
    /// Also bring the backup up to the current ThyWill schema (missing tables, columns,
    /// indexes of `create_all`) before installing it.
    Safe,
}

/// Where and how to restore (the backup itself is an argument of [`restore`], or a remote
/// set for [`crate::backup::restore_from_remote`]).
///
/// Deserializes from a JSON object of the settings below the paths, each optional:
/// `{"mode": "safe", "lock": {"wait": 30}, "dry_run": true, "verify": {...},
/// "safety_backup": true, "now": "2025-01-01T02:00:00"}`. The paths are never part of such a
/// document: the caller gives them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default = "RestoreOptions::unplaced", deny_unknown_fields)]
pub struct RestoreOptions {
    /// The live database path (it may be missing).
    #[serde(skip)]
    pub database: PathBuf,
    /// Where the pre-restore safety backup goes (`<root>/pre_restore/`); remote sets are
    /// staged here too.
    #[serde(skip)]
    pub backup_root: PathBuf,
    /// Plain or schema-upgrading.
    pub mode: RestoreMode,
    /// Behaviour when another process uses the database.
    pub lock: LockPolicy,
    /// Check everything and report what would happen, changing nothing.
    pub dry_run: bool,
    /// How the backup is verified first.
    pub verify: VerifyOptions,
    /// Take a safety backup of the current database first (default true).
    pub safety_backup: bool,
    /// Local time for the safety backup's name.
    pub now: NaiveDateTime,
}

impl RestoreOptions {
    /// A plain restore over `database`, failing while another process uses it, with a
    /// safety backup into `backup_root`.
    pub fn new(database: impl Into<PathBuf>, backup_root: impl Into<PathBuf>) -> Self {
        RestoreOptions {
            database: database.into(),
            backup_root: backup_root.into(),
            mode: RestoreMode::Plain,
            lock: LockPolicy::Fail,
            dry_run: false,
            verify: VerifyOptions::default(),
            safety_backup: true,
            now: chrono::Local::now().naive_local(),
        }
    }

    /// The defaults a deserialized document starts from; its caller sets the paths.
    fn unplaced() -> Self {
        RestoreOptions::new(PathBuf::new(), PathBuf::new())
    }
}

/// The result of [`restore`].
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// The backup restored.
    pub source: PathBuf,
    /// The live database path.
    pub database: PathBuf,
    /// Plain or safe.
    pub mode: RestoreMode,
    /// Nothing was changed.
    pub dry_run: bool,
    /// The verification of the backup.
    pub verification: VerifyReport,
    /// A database existed at the live path before.
    pub previous_database_existed: bool,
    /// The safety backup of the previous database.
    pub safety_backup: Option<CreateReport>,
    /// Stale `-wal`, `-shm`, `-journal` files removed (or that would be).
    pub removed_side_files: Vec<PathBuf>,
    /// Other processes that had the live database open when the restore went ahead (only
    /// with [`LockPolicy::Force`]; otherwise their presence is a conflict).
    pub other_processes: Vec<OpenProcess>,
    /// Leftovers of interrupted earlier runs (temp copies, remote staging folders) removed
    /// (or, in a dry run, that would be).
    pub removed_stale_files: Vec<PathBuf>,
    /// `PRAGMA quick_check` of the installed database.
    pub quick_check: Vec<String>,
    /// What `restore-safe` changed in the schema.
    pub schema: Option<SchemaUpgradeReport>,
    /// Things worth knowing (a forced lock, an incomplete checkpoint).
    pub warnings: Vec<String>,
    /// Wall-clock duration.
    pub duration_ms: u64,
}

/// Restore steps, reported as phase `"restore"` with `done` = step number, so callers (and the
/// crash test) can see how far it got.
pub(crate) mod step {
    pub(crate) const VERIFIED: u64 = 1;
    pub(crate) const LOCKED: u64 = 2;
    pub(crate) const SAFETY_BACKUP: u64 = 3;
    pub(crate) const COPIED: u64 = 4;
    pub(crate) const PREPARED: u64 = 5;
    pub(crate) const CHECKPOINTED: u64 = 6;
    pub(crate) const SIDE_FILES_REMOVED: u64 = 7;
    pub(crate) const RENAMED: u64 = 8;
    pub(crate) const CHECKED: u64 = 9;
    pub(crate) const TOTAL: u64 = 9;
}

pub(crate) fn report_step(progress: &dyn Progress, n: u64) -> Result<()> {
    progress::report(progress, "restore", n, Some(step::TOTAL))
}

/// Replaces the live database with a verified backup.
///
/// Order: verify the backup; refuse while another process has the live database open or a
/// connection holds a write transaction (honouring [`LockPolicy`]); take a safety backup of
/// the current database through the online backup API; copy the backup to a temp file beside
/// the live one (checking its hash again) and, in [`RestoreMode::Safe`], upgrade its schema;
/// give it the live file's owner, group and mode; fsync; checkpoint the live WAL; check again
/// that no other process opened the database meanwhile; remove stale `-wal`/`-shm`/`-journal`;
/// rename; fsync the folder; `quick_check`. Works when the live database is missing. Progress
/// phases: `restore` (steps), `wait` (seconds waited for other processes), `hash`, `backup`,
/// `copy`.
pub fn restore(
    source: &Path,
    options: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<RestoreReport> {
    let mut arguments = restore_arguments(options);
    arguments["source"] = json!(source);
    audit::recorded(
        &options.database,
        "backup.restore",
        arguments,
        restore_counts,
        || restore_unrecorded(source, options, progress),
    )
}

/// The audit arguments of a restore.
pub(crate) fn restore_arguments(options: &RestoreOptions) -> serde_json::Value {
    audit::arguments([
        ("database", json!(options.database)),
        ("backup_root", json!(options.backup_root)),
        ("mode", json!(options.mode)),
        ("lock", json!(format!("{:?}", options.lock))),
        ("dry_run", json!(options.dry_run)),
        ("safety_backup", json!(options.safety_backup)),
    ])
}

/// The audit counts of a restore.
pub(crate) fn restore_counts(report: &RestoreReport) -> serde_json::Value {
    json!({
        "dry_run": report.dry_run,
        "restored": !report.dry_run,
        "safety_backup": report.safety_backup.as_ref().map(|b| &b.path),
    })
}

fn restore_unrecorded(
    source: &Path,
    options: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<RestoreReport> {
    files::check_backup_root(&options.backup_root)?;
    // A dry run writes nothing, not even the lock file.
    let _lock = if options.dry_run {
        None
    } else {
        Some(RootLock::acquire(&options.backup_root)?)
    };
    restore_locked(source, options, progress)
}

/// [`restore`] for callers that hold the backup root's lock (or, for a dry run, need none).
pub(crate) fn restore_locked(
    source: &Path,
    options: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<RestoreReport> {
    let started = Instant::now();
    let database = &options.database;
    let live_metadata = live_database_metadata(database)?;
    let deadline = wait_deadline(options.lock, started)?;
    let verification = verify(source, &options.verify, progress)?;
    if let Some(e) = verification.to_error() {
        return Err(e);
    }
    report_step(progress, step::VERIFIED)?;
    let Some(expected_sha) = verification.sha256.clone() else {
        return Err(Error::Internal("verification produced no checksum".into()));
    };
    let mut report = RestoreReport {
        source: source.to_path_buf(),
        database: database.clone(),
        mode: options.mode,
        dry_run: options.dry_run,
        verification,
        previous_database_existed: live_metadata.is_some(),
        safety_backup: None,
        removed_side_files: Vec::new(),
        other_processes: Vec::new(),
        removed_stale_files: Vec::new(),
        quick_check: Vec::new(),
        schema: None,
        warnings: Vec::new(),
        duration_ms: 0,
    };
    let install = Install {
        database,
        backup_root: &options.backup_root,
        lock: options.lock,
        dry_run: options.dry_run,
        safety_backup: options.safety_backup,
        now: options.now,
        started,
        deadline,
    };
    let temp = files::temp_path_for(database, "restore");
    let mut schema = None;
    let installed = install_prepared(
        &install,
        &temp,
        live_metadata.as_ref(),
        progress,
        |temp: &Path| -> Result<()> {
            let (copied_sha, _) = copy_hashing(source, temp, "copy", progress)?;
            if copied_sha != expected_sha {
                return Err(Error::Corrupt(format!(
                    "{} changed while it was being restored (sha256 {copied_sha}, verified {expected_sha})",
                    source.display()
                )));
            }
            report_step(progress, step::COPIED)?;
            if options.mode == RestoreMode::Safe {
                let conn = Connection::open(temp)?;
                // The copy is private until renamed, so its upgrade needs no durability of its own.
                conn.pragma_update(None, "journal_mode", "DELETE")?;
                let upgrade = upgrade::upgrade_schema(&conn, false)?;
                let check = create::integrity_lines(&conn, "quick_check")?;
                conn.close().map_err(|(_, e)| Error::Database(e))?;
                if check != ["ok"] {
                    return Err(Error::Corrupt(format!(
                        "the upgraded copy failed quick_check: {}",
                        check.join("; ")
                    )));
                }
                schema = Some(upgrade);
            }
            Ok(())
        },
    )?;
    if options.dry_run && options.mode == RestoreMode::Safe {
        schema = Some(plan_upgrade_of(source)?);
    }
    report.schema = schema;
    report.safety_backup = installed.safety_backup;
    report.removed_side_files = installed.removed_side_files;
    report.other_processes = installed.other_processes;
    report.removed_stale_files = installed.removed_stale_files;
    report.quick_check = installed.quick_check;
    report.warnings = installed.warnings;
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// How a prepared database file is installed over the live database: the part of a
/// restore after the backup is verified, shared with full recovery.
pub(crate) struct Install<'a> {
    /// The live database path (it may be missing).
    pub(crate) database: &'a Path,
    /// Where the safety backup goes (`<root>/pre_restore/`).
    pub(crate) backup_root: &'a Path,
    /// Behaviour when another process uses the database.
    pub(crate) lock: LockPolicy,
    /// Check and report, changing nothing.
    pub(crate) dry_run: bool,
    /// Take a safety backup of the current database first.
    pub(crate) safety_backup: bool,
    /// Local time for the safety backup's name.
    pub(crate) now: NaiveDateTime,
    /// When the whole operation started (waits count from here).
    pub(crate) started: Instant,
    /// When a [`LockPolicy::Wait`] gives up ([`wait_deadline`]).
    pub(crate) deadline: Option<Instant>,
}

/// What [`install_prepared`] did (or, in a dry run, would do).
pub(crate) struct Installed {
    /// The safety backup of the previous database.
    pub(crate) safety_backup: Option<CreateReport>,
    /// Stale `-wal`, `-shm`, `-journal` files removed (or that would be).
    pub(crate) removed_side_files: Vec<PathBuf>,
    /// Other processes that had the live database open when the install went ahead.
    pub(crate) other_processes: Vec<OpenProcess>,
    /// Leftovers of interrupted earlier runs removed (or that would be).
    pub(crate) removed_stale_files: Vec<PathBuf>,
    /// `PRAGMA quick_check` of the installed database (empty in a dry run).
    pub(crate) quick_check: Vec<String>,
    /// Things worth knowing (a forced lock, an incomplete checkpoint).
    pub(crate) warnings: Vec<String>,
}

/// Installs the file `prepare` writes at `temp` (beside the live database) over the live
/// database, crash-safely: refuse while another process has the live database open or a
/// connection holds a write transaction (honouring [`LockPolicy`]); in a dry run stop
/// there; remove stale leftovers; take the safety backup; run `prepare` (which may find the
/// file already there); give it the live file's owner, group and mode; fsync; checkpoint
/// the live WAL; check again for other processes; remove the old side files; rename; fsync
/// the folder; `quick_check`. Reports the `restore` steps from [`step::LOCKED`] on
/// (`prepare` reports [`step::COPIED`] itself). `temp` is removed when the install fails
/// after `prepare` ran.
pub(crate) fn install_prepared(
    install: &Install<'_>,
    temp: &Path,
    live_metadata: Option<&fs::Metadata>,
    progress: &dyn Progress,
    prepare: impl FnOnce(&Path) -> Result<()>,
) -> Result<Installed> {
    let database = install.database;
    let started = install.started;
    let deadline = install.deadline;
    let mut warnings = Vec::new();
    let live_dir = parent_dir(database);
    let mut installed = Installed {
        safety_backup: None,
        removed_side_files: Vec::new(),
        other_processes: Vec::new(),
        removed_stale_files: Vec::new(),
        quick_check: Vec::new(),
        warnings: Vec::new(),
    };

    installed.other_processes = wait_for_other_processes(
        database,
        install.lock,
        started,
        deadline,
        progress,
        &mut warnings,
    )?;
    let live = if live_metadata.is_some() {
        let conn = open_existing(database)?;
        let remaining = deadline.map_or(Duration::ZERO, |d| {
            d.saturating_duration_since(Instant::now())
        });
        take_write_lock(&conn, database, install.lock, remaining, &mut warnings)?;
        Some(conn)
    } else {
        None
    };
    report_step(progress, step::LOCKED)?;

    let side_files: Vec<PathBuf> = [
        wal_path(database),
        shm_path(database),
        journal_path(database),
    ]
    .into_iter()
    .filter(|p| p.exists())
    .collect();

    if install.dry_run {
        installed.removed_side_files = side_files;
        installed.removed_stale_files = stale::leftovers(install.backup_root, Some(database));
        installed.warnings = warnings;
        return Ok(installed);
    }
    installed.removed_stale_files =
        stale::remove(stale::leftovers(install.backup_root, Some(database)))?;

    if live.is_some() && install.safety_backup {
        installed.safety_backup = Some(safety_backup(install, progress)?);
    }
    report_step(progress, step::SAFETY_BACKUP)?;

    let done = (|| -> Result<()> {
        prepare(temp)?;
        take_over_ownership(temp, database, live_metadata)?;
        fsync_file(temp)?;
        report_step(progress, step::PREPARED)?;

        if let Some(conn) = live {
            checkpoint_and_close(conn, database, install.lock, &mut warnings)?;
        }
        // A process that opened the database since the first check would keep the old file.
        let late = wait_for_other_processes(
            database,
            install.lock,
            started,
            deadline,
            progress,
            &mut warnings,
        )?;
        for process in late {
            if !installed
                .other_processes
                .iter()
                .any(|p| p.pid == process.pid)
            {
                installed.other_processes.push(process);
            }
        }
        report_step(progress, step::CHECKPOINTED)?;
        // Any -wal/-shm/-journal left now belongs to the old file and would be replayed into
        // the new one.
        for side in [
            wal_path(database),
            shm_path(database),
            journal_path(database),
        ] {
            if files::remove_if_exists(&side)? {
                installed.removed_side_files.push(side);
            }
        }
        fsync_dir(&live_dir)?;
        report_step(progress, step::SIDE_FILES_REMOVED)?;
        rename_durably(temp, database)?;
        // The swap is done: from here a stop request can no longer undo it.
        progress::report_without_stopping(progress, "restore", step::RENAMED, Some(step::TOTAL));
        Ok(())
    })();
    if let Err(e) = done {
        let _ = files::remove_if_exists(temp);
        return Err(e);
    }

    let conn = open_existing(database)?;
    installed.quick_check = create::integrity_lines(&conn, "quick_check")?;
    drop(conn);
    if installed.quick_check != ["ok"] {
        return Err(Error::Corrupt(format!(
            "the restored database failed quick_check: {}{}",
            installed.quick_check.join("; "),
            installed
                .safety_backup
                .as_ref()
                .map(|s| format!(" (the previous database is in {})", s.path.display()))
                .unwrap_or_default()
        )));
    }
    progress::report_without_stopping(progress, "restore", step::CHECKED, Some(step::TOTAL));
    installed.warnings = warnings;
    Ok(installed)
}

/// When a [`LockPolicy::Wait`] gives up; a wait beyond what the clock can count is invalid
/// input rather than a panic.
pub(crate) fn wait_deadline(policy: LockPolicy, started: Instant) -> Result<Option<Instant>> {
    match policy {
        LockPolicy::Wait(seconds) => started
            .checked_add(Duration::from_secs(seconds))
            .map(Some)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "a wait of {seconds} seconds is longer than the clock can count"
                ))
            }),
        LockPolicy::Fail | LockPolicy::Force => Ok(None),
    }
}

/// Refuses at once when another process has `database` open and `policy` is
/// [`LockPolicy::Fail`]: a remote restore asks before it downloads anything. (The restore
/// itself checks again, under every policy.)
pub(crate) fn refuse_if_in_use(database: &Path, policy: LockPolicy) -> Result<()> {
    if policy != LockPolicy::Fail {
        return Ok(());
    }
    let started = Instant::now();
    wait_for_other_processes(
        database,
        policy,
        started,
        None,
        &crate::progress::NoProgress,
        &mut Vec::new(),
    )
    .map(drop)
}

/// The live database's metadata (`None` when there is none yet), refusing a path that is not
/// a regular file or whose folder a restore cannot write to: both fail clearly before
/// anything is done.
pub(crate) fn live_database_metadata(database: &Path) -> Result<Option<fs::Metadata>> {
    let metadata = match fs::metadata(database) {
        Ok(m) if m.is_dir() => {
            return Err(Error::InvalidInput(format!(
                "{} is a directory, not a database file",
                database.display()
            )))
        }
        Ok(m) if m.is_file() => Some(m),
        Ok(_) => {
            return Err(Error::InvalidInput(format!(
                "{} exists and is not a regular file",
                database.display()
            )))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(database, e)),
    };
    let live_dir = parent_dir(database);
    if !live_dir.is_dir() {
        return Err(Error::NotFound {
            what: format!("folder {} for the database", live_dir.display()),
        });
    }
    files::require_writable_dir(
        &live_dir,
        "the folder holding the database (a restore writes the new file beside it)",
    )?;
    Ok(metadata)
}

/// Gives the restored copy the live file's owner, group and permission bits, so the app that
/// owns the database can still open it after a restore run as root. With no live file the copy
/// stays 0600, owned by the caller.
fn take_over_ownership(temp: &Path, database: &Path, live: Option<&fs::Metadata>) -> Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some(live) = live else {
        return Ok(());
    };
    let current = fs::metadata(temp).map_err(|e| Error::io(temp, e))?;
    if (current.uid(), current.gid()) != (live.uid(), live.gid()) {
        std::os::unix::fs::chown(temp, Some(live.uid()), Some(live.gid())).map_err(|e| {
            if e.kind() == io::ErrorKind::PermissionDenied {
                Error::io(
                    temp,
                    io::Error::new(
                        e.kind(),
                        format!(
                            "cannot give the restored database the owner {}:{} of {}: run the restore as that user or as root",
                            live.uid(),
                            live.gid(),
                            database.display()
                        ),
                    ),
                )
            } else {
                Error::io(temp, e)
            }
        })?;
    }
    fs::set_permissions(temp, fs::Permissions::from_mode(live.mode() & 0o7777))
        .map_err(|e| Error::io(temp, e))
}

/// Checks for other processes that have the live database open: none, or the policy says go
/// ahead (a warning names them), or waiting until they are gone; else a conflict naming them.
fn wait_for_other_processes(
    database: &Path,
    policy: LockPolicy,
    started: Instant,
    deadline: Option<Instant>,
    progress: &dyn Progress,
    warnings: &mut Vec<String>,
) -> Result<Vec<OpenProcess>> {
    loop {
        let others = openers::other_processes(database);
        if others.is_empty() {
            return Ok(others);
        }
        let named = openers::describe(&others);
        match (policy, deadline) {
            (LockPolicy::Force, _) => {
                let warning = format!(
                    "{} is open in {named}; restoring anyway (--force): whatever it writes from now on goes to the replaced file and is lost",
                    database.display()
                );
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
                return Ok(others);
            }
            (LockPolicy::Wait(seconds), Some(deadline)) => {
                if Instant::now() >= deadline {
                    return Err(Error::Conflict(format!(
                        "{} is still open in {named} after waiting {seconds} s; stop the app first, or retry with a longer --wait or with --force (its later writes would be lost)",
                        database.display()
                    )));
                }
                progress::report(
                    progress,
                    "wait",
                    started.elapsed().as_secs(),
                    Some(seconds),
                )?;
                std::thread::sleep(WAIT_POLL.min(deadline.saturating_duration_since(Instant::now())));
            }
            _ => {
                return Err(Error::Conflict(format!(
                    "{} is open in {named} (is the app running?); a restore now would lose everything it writes afterwards. Stop the app first, or retry with --wait SECONDS (until it exits) or --force",
                    database.display()
                )))
            }
        }
    }
}

/// How often a waiting restore looks again for other processes.
const WAIT_POLL: Duration = Duration::from_millis(200);

/// Takes `BEGIN IMMEDIATE` on the live database: the probe for an active writer.
fn take_write_lock(
    conn: &Connection,
    database: &Path,
    policy: LockPolicy,
    wait: Duration,
    warnings: &mut Vec<String>,
) -> Result<()> {
    conn.busy_timeout(wait)?;
    match conn.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => {
            // Reading once makes SQLite roll back any hot journal of the old database now.
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })?;
            Ok(())
        }
        Err(e) => {
            let err = Error::Database(e);
            if err.kind() != ErrorKind::Conflict {
                return Err(err);
            }
            if policy == LockPolicy::Force {
                warnings.push(format!(
                    "another connection holds a write transaction on {}; restoring anyway (--force)",
                    database.display()
                ));
                Ok(())
            } else {
                Err(Error::Conflict(format!(
                    "another connection holds a write transaction on {} (is the app running?); \
                     stop it, or retry with --wait SECONDS or --force",
                    database.display()
                )))
            }
        }
    }
}

/// A pre-restore safety backup through the online backup API. It reads through its own
/// connection: SQLite refuses to back up from a connection holding a write transaction.
fn safety_backup(install: &Install<'_>, progress: &dyn Progress) -> Result<CreateReport> {
    let mut create_options =
        CreateOptions::new(install.database, install.backup_root, super::Tier::Daily);
    create_options.kind = BackupKind::PreRestore;
    create_options.now = install.now;
    // The old database may be the damaged one being replaced: record its check, don't refuse.
    create_options.integrity_check = false;
    create::create_unlocked(&create_options, progress)
}

/// Checkpoints the live WAL fully into the main file and closes the connection, so that
/// removing `-wal` afterwards loses nothing. A checkpoint cannot run inside a transaction, so
/// the write lock is released first; a writer that commits in that instant leaves frames in
/// the WAL, which is detected after the close and refused (unless forced).
fn checkpoint_and_close(
    conn: Connection,
    database: &Path,
    policy: LockPolicy,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let _ = conn.execute_batch("ROLLBACK");
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if mode.eq_ignore_ascii_case("wal") {
        let (busy, log, done): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if busy != 0 || log != done {
            let message = format!(
                "the live WAL could not be fully checkpointed (busy={busy}, {done} of {log} frames): another connection is using the database"
            );
            if policy == LockPolicy::Force {
                warnings.push(format!(
                    "{message}; its un-checkpointed frames are only in the safety backup"
                ));
            } else {
                return Err(Error::Conflict(format!(
                    "{message}; stop the app, or retry with --force"
                )));
            }
        }
    }
    conn.close().map_err(|(_, e)| Error::Database(e))?;
    let wal_len = fs::metadata(wal_path(database))
        .map(|m| m.len())
        .unwrap_or(0);
    if wal_len > 0 {
        let message = format!(
            "{} was written to during the restore ({wal_len} bytes of new WAL)",
            database.display()
        );
        if policy == LockPolicy::Force {
            warnings.push(format!("{message}; those writes are discarded"));
        } else {
            return Err(Error::Conflict(format!(
                "{message}; stop the app, or retry with --force"
            )));
        }
    }
    Ok(())
}

/// What `restore-safe` would change, computed on a private copy.
fn plan_upgrade_of(source: &Path) -> Result<SchemaUpgradeReport> {
    let conn = super::verify::open_immutable(source)?;
    upgrade::upgrade_schema(&conn, true)
}
