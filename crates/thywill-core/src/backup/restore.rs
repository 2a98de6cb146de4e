//! `restore` and `restore-safe`: replace the live database with a verified backup, crash-safely.
//!
//! At every instant the live path holds either the old database (with its WAL) or the new one:
//! the backup is copied to a temp file beside the live one and fsynced; the old database's WAL
//! is checkpointed into the main file before its `-wal`/`-shm` are removed; the temp file is
//! renamed over the live path and the folder fsynced.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use rusqlite::Connection;
use serde::Serialize;

use super::create::{self, open_existing, shm_path, wal_path, CreateReport};
use super::files::{self, copy_hashing, fsync_dir, fsync_file, parent_dir, rename_durably};
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

/// What to do when another connection holds a write transaction on the live database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "policy", content = "seconds")]
pub enum LockPolicy {
    /// Refuse at once with a conflict error.
    Fail,
    /// Wait up to this long for the writer to finish, then refuse.
    Wait(u64),
    /// Go ahead anyway (the writer's transaction may be lost).
    Force,
}

/// Plain restore or schema-upgrading restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreMode {
    /// Install the backup as it is.
    Plain,
    /// Also bring the backup up to the current ThyWill schema (missing tables, columns,
    /// indexes of `create_all`) before installing it.
    Safe,
}

/// What to restore where.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// The backup database file (a local path; fetch remote sets first).
    pub source: PathBuf,
    /// The live database path (it may be missing).
    pub database: PathBuf,
    /// Where the pre-restore safety backup goes (`<root>/pre_restore/`).
    pub backup_root: PathBuf,
    /// Plain or schema-upgrading.
    pub mode: RestoreMode,
    /// Behaviour when a writer is active.
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
    /// A plain restore of `source` over `database`, failing on an active writer.
    pub fn new(
        source: impl Into<PathBuf>,
        database: impl Into<PathBuf>,
        backup_root: impl Into<PathBuf>,
    ) -> Self {
        RestoreOptions {
            source: source.into(),
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
    pub const VERIFIED: u64 = 1;
    pub const LOCKED: u64 = 2;
    pub const SAFETY_BACKUP: u64 = 3;
    pub const COPIED: u64 = 4;
    pub const PREPARED: u64 = 5;
    pub const CHECKPOINTED: u64 = 6;
    pub const SIDE_FILES_REMOVED: u64 = 7;
    pub const RENAMED: u64 = 8;
    pub const CHECKED: u64 = 9;
    pub const TOTAL: u64 = 9;
}

fn report_step(progress: &dyn Progress, n: u64) -> Result<()> {
    progress::report(progress, "restore", n, Some(step::TOTAL))
}

/// Replaces the live database with a verified backup.
///
/// Order: verify the backup; probe for a writer (`BEGIN IMMEDIATE`, honouring
/// [`LockPolicy`]); take a safety backup of the current database through the online backup
/// API; copy the backup to a temp file beside the live one (checking its hash again) and, in
/// [`RestoreMode::Safe`], upgrade its schema; fsync; checkpoint the live WAL; remove stale
/// `-wal`/`-shm`/`-journal`; rename; fsync the folder; `quick_check`. Works when the live
/// database is missing. Progress phases: `restore` (steps), `hash`, `backup`, `copy`.
pub fn restore(options: &RestoreOptions, progress: &dyn Progress) -> Result<RestoreReport> {
    let started = Instant::now();
    let database = &options.database;
    // A dry run writes nothing, not even the lock file.
    let _lock = if options.dry_run {
        None
    } else {
        Some(RootLock::acquire(&options.backup_root)?)
    };
    let verification = verify(&options.source, &options.verify, progress)?;
    if let Some(e) = verification.to_error() {
        return Err(e);
    }
    report_step(progress, step::VERIFIED)?;
    let Some(expected_sha) = verification.sha256.clone() else {
        return Err(Error::Internal("verification produced no checksum".into()));
    };

    let previous_database_existed = match fs::metadata(database) {
        Ok(m) if m.is_file() => true,
        Ok(_) => {
            return Err(Error::InvalidInput(format!(
                "{} exists and is not a file",
                database.display()
            )))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::io(database, e)),
    };
    let mut warnings = Vec::new();
    let live_dir = parent_dir(database);
    if !live_dir.is_dir() {
        return Err(Error::NotFound {
            what: format!("folder {} for the database", live_dir.display()),
        });
    }

    let mut report = RestoreReport {
        source: options.source.clone(),
        database: database.clone(),
        mode: options.mode,
        dry_run: options.dry_run,
        verification,
        previous_database_existed,
        safety_backup: None,
        removed_side_files: Vec::new(),
        quick_check: Vec::new(),
        schema: None,
        warnings: Vec::new(),
        duration_ms: 0,
    };

    let live = if previous_database_existed {
        let conn = open_existing(database)?;
        take_write_lock(&conn, database, options.lock, &mut warnings)?;
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

    if options.dry_run {
        if options.mode == RestoreMode::Safe {
            report.schema = Some(plan_upgrade_of(&options.source)?);
        }
        report.removed_side_files = side_files;
        report.warnings = warnings;
        report.duration_ms = started.elapsed().as_millis() as u64;
        return Ok(report);
    }

    if live.is_some() && options.safety_backup {
        let safety = safety_backup(options, progress)?;
        report.safety_backup = Some(safety);
    }
    report_step(progress, step::SAFETY_BACKUP)?;

    sweep_stale_temps(database);
    let temp = files::temp_path_for(database, "restore");
    let installed = (|| -> Result<()> {
        let (copied_sha, _) = copy_hashing(&options.source, &temp, "copy", progress)?;
        if copied_sha != expected_sha {
            return Err(Error::Corrupt(format!(
                "{} changed while it was being restored (sha256 {copied_sha}, verified {expected_sha})",
                options.source.display()
            )));
        }
        report_step(progress, step::COPIED)?;
        if options.mode == RestoreMode::Safe {
            let conn = Connection::open(&temp)?;
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
            report.schema = Some(upgrade);
            files::make_private(&temp)?;
            fsync_file(&temp)?;
        }
        report_step(progress, step::PREPARED)?;

        if let Some(conn) = live {
            checkpoint_and_close(conn, database, options.lock, &mut warnings)?;
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
                report.removed_side_files.push(side);
            }
        }
        fsync_dir(&live_dir)?;
        report_step(progress, step::SIDE_FILES_REMOVED)?;
        rename_durably(&temp, database)?;
        report_step(progress, step::RENAMED)?;
        Ok(())
    })();
    if let Err(e) = installed {
        let _ = files::remove_if_exists(&temp);
        return Err(e);
    }

    let conn = open_existing(database)?;
    report.quick_check = create::integrity_lines(&conn, "quick_check")?;
    drop(conn);
    if report.quick_check != ["ok"] {
        return Err(Error::Corrupt(format!(
            "the restored database failed quick_check: {}{}",
            report.quick_check.join("; "),
            report
                .safety_backup
                .as_ref()
                .map(|s| format!(" (the previous database is in {})", s.path.display()))
                .unwrap_or_default()
        )));
    }
    report_step(progress, step::CHECKED)?;
    report.warnings = warnings;
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

fn journal_path(database: &Path) -> PathBuf {
    let mut s = database.as_os_str().to_owned();
    s.push("-journal");
    PathBuf::from(s)
}

/// Takes `BEGIN IMMEDIATE` on the live database: the probe for an active writer.
fn take_write_lock(
    conn: &Connection,
    database: &Path,
    policy: LockPolicy,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let wait = match policy {
        LockPolicy::Wait(seconds) => Duration::from_secs(seconds),
        LockPolicy::Fail | LockPolicy::Force => Duration::ZERO,
    };
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
fn safety_backup(options: &RestoreOptions, progress: &dyn Progress) -> Result<CreateReport> {
    let mut create_options =
        CreateOptions::new(&options.database, &options.backup_root, super::Tier::Daily);
    create_options.kind = BackupKind::PreRestore;
    create_options.now = options.now;
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

/// Removes temp files of earlier restores whose process is gone.
fn sweep_stale_temps(database: &Path) {
    let Some(name) = database
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
    else {
        return;
    };
    let prefix = format!(".{name}.restore-");
    let Ok(entries) = fs::read_dir(parent_dir(database)) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let alive = pid == std::process::id() as i32 || unsafe { libc::kill(pid, 0) } == 0;
        if !alive {
            let _ = fs::remove_file(entry.path());
        }
    }
}
