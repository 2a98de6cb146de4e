//! `full-recovery`: rebuild the database from the text archives and put it in place.
//!
//! The default mode, [`RecoveryMode::Replace`], rebuilds into a new file beside the live
//! database (a temp name), checks it (`quick_check` is `ok`, ThyWill's tables are there),
//! compares it with the live database, and installs it through the restore path: refusal
//! while another process has the database open (unless told to wait or force), a safety
//! backup of the current database into the backup root's `pre_restore/`, the live file's
//! owner and mode, a checkpoint of the live WAL, its side files removed, an atomic rename,
//! the folder fsynced. Killed at any moment, the live path holds the old database or the
//! new one, intact; the next run removes the leftover rebuild.
//!
//! [`RecoveryMode::Merge`] imports the archives into the existing database after a safety
//! backup: only records it lacks are added (the importer is idempotent).
//!
//! A dry run does the same rebuild (into a file that is then removed) and the same
//! comparison and checks, and reports what would be installed; it takes no backup and
//! swaps nothing. A merge dry run imports in a transaction that is rolled back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::compare::Comparison;
use super::rebuild::{self, ArchiveReading};
use super::test_recovery::{compare_with_live, describe_losses, live_database_exists};
use crate::backup::restore::{
    install_prepared, live_database_metadata, refuse_if_in_use, report_step, step, wait_deadline,
    Install, RootLock,
};
use crate::backup::{BackupKind, CreateOptions, CreateReport, LockPolicy, OpenProcess, Tier};
use crate::db::ArchiveTimeZone;
use crate::import::{ImportReport, ZipLimits};
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// How a full recovery puts the rebuild in place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryMode {
    /// Rebuild into a new file and swap it in atomically (the default).
    #[default]
    Replace,
    /// Import into the existing database, adding only the records it lacks.
    Merge,
}

/// Options of [`full_recovery`]. Deserializes from a JSON object of the settings below the
/// backup root, each optional: `{"mode": "merge", "dry_run": true, "lock": {"wait": 30},
/// "time_zone": "utc"}`. The paths are never part of such a document: the caller gives
/// them.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(default = "FullRecoveryOptions::unplaced", deny_unknown_fields)]
pub struct FullRecoveryOptions {
    /// Where the safety backup goes (`<root>/pre_restore/`).
    #[serde(skip)]
    pub backup_root: PathBuf,
    /// Replace (default) or merge.
    pub mode: RecoveryMode,
    /// Do the whole rebuild and comparison, change nothing.
    pub dry_run: bool,
    /// Behaviour when another process has the database open (replace mode).
    pub lock: LockPolicy,
    /// Take a safety backup of the current database first (default true).
    pub safety_backup: bool,
    /// Local time for the safety backup's name.
    pub now: NaiveDateTime,
    /// The zone the archive's human timestamps were written in (default: local).
    pub time_zone: ArchiveTimeZone,
    /// Prefix of the `text_file_path` values written (default `text_archives`).
    pub path_prefix: String,
    /// Bounds on what a ZIP of the archives may expand to.
    pub zip_limits: ZipLimits,
}

impl FullRecoveryOptions {
    /// A replacing recovery, failing while another process uses the database, with a
    /// safety backup into `backup_root`.
    pub fn new(backup_root: impl Into<PathBuf>) -> Self {
        FullRecoveryOptions {
            backup_root: backup_root.into(),
            mode: RecoveryMode::Replace,
            dry_run: false,
            lock: LockPolicy::Fail,
            safety_backup: true,
            now: chrono::Local::now().naive_local(),
            time_zone: ArchiveTimeZone::default(),
            path_prefix: rebuild::default_path_prefix(),
            zip_limits: ZipLimits::default(),
        }
    }

    /// The defaults a deserialized document starts from; its caller sets the path.
    fn unplaced() -> Self {
        FullRecoveryOptions::new(PathBuf::new())
    }

    fn reading(&self) -> ArchiveReading {
        ArchiveReading {
            time_zone: self.time_zone,
            path_prefix: self.path_prefix.clone(),
            zip_limits: self.zip_limits,
        }
    }
}

/// The result of [`full_recovery`].
#[derive(Debug, Clone, Serialize)]
pub struct FullRecoveryReport {
    /// The archives (folder or ZIP) as given.
    pub archive_dir: PathBuf,
    /// The live database.
    pub database: PathBuf,
    /// Replace or merge.
    pub mode: RecoveryMode,
    /// Nothing was changed.
    pub dry_run: bool,
    /// A database existed at the live path before.
    pub previous_database_existed: bool,
    /// The import: into the rebuild (replace) or into the live database (merge).
    pub import: ImportReport,
    /// ThyWill's `recovery_stats` counters, from the import.
    pub recovery_stats: BTreeMap<String, u64>,
    /// Replace mode: the old database against the new one, per table (what the new one
    /// gains and loses).
    pub comparison: Option<Comparison>,
    /// `PRAGMA quick_check` of the rebuild before it was installed (replace mode).
    pub rebuilt_quick_check: Vec<String>,
    /// The rebuild was installed (replace mode, not a dry run).
    pub installed: bool,
    /// The safety backup of the previous database.
    pub safety_backup: Option<CreateReport>,
    /// Stale `-wal`, `-shm`, `-journal` files of the old database removed (or that would be).
    pub removed_side_files: Vec<PathBuf>,
    /// Other processes that had the live database open when the swap went ahead (only
    /// with [`LockPolicy::Force`]).
    pub other_processes: Vec<OpenProcess>,
    /// Leftovers of interrupted earlier runs removed (or that would be).
    pub removed_stale_files: Vec<PathBuf>,
    /// `PRAGMA quick_check` of the installed database.
    pub quick_check: Vec<String>,
    /// Rows per table of the database as this run leaves it (in a dry run: as it would).
    pub table_rows: BTreeMap<String, u64>,
    /// Things worth knowing (rows that do not come back, a forced lock).
    pub warnings: Vec<String>,
    /// Wall-clock duration.
    pub duration_ms: u64,
}

/// Rebuilds `live_db` from the text archives at `archive_dir` (a folder or a ZIP) and puts
/// the result in place as [`FullRecoveryOptions::mode`] says (see the module's
/// documentation). Progress: the import's phases, `compare`, then the `restore` steps
/// (`backup` for the safety backup).
pub fn full_recovery(
    archive_dir: &Path,
    live_db: &Path,
    options: &FullRecoveryOptions,
    progress: &dyn Progress,
) -> Result<FullRecoveryReport> {
    crate::audit::recorded(
        live_db,
        "recovery.full_recovery",
        crate::audit::arguments([
            ("archive_dir", serde_json::json!(archive_dir)),
            ("database", serde_json::json!(live_db)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &FullRecoveryReport| serde_json::json!({"dry_run": report.dry_run, "installed": report.installed, "inserted": report.import.total_inserted(), "safety_backup": report.safety_backup.as_ref().map(|b| &b.path)}),
        || full_recovery_unrecorded(archive_dir, live_db, options, progress),
    )
}

fn full_recovery_unrecorded(
    archive_dir: &Path,
    live_db: &Path,
    options: &FullRecoveryOptions,
    progress: &dyn Progress,
) -> Result<FullRecoveryReport> {
    crate::backup::files::check_backup_root(&options.backup_root)?;
    match options.mode {
        RecoveryMode::Replace => replace(archive_dir, live_db, options, progress),
        RecoveryMode::Merge => merge(archive_dir, live_db, options, progress),
    }
}

fn empty_report(
    archive_dir: &Path,
    live_db: &Path,
    options: &FullRecoveryOptions,
    previous_database_existed: bool,
    import: ImportReport,
) -> FullRecoveryReport {
    FullRecoveryReport {
        archive_dir: archive_dir.to_path_buf(),
        database: live_db.to_path_buf(),
        mode: options.mode,
        dry_run: options.dry_run,
        previous_database_existed,
        recovery_stats: rebuild::recovery_stats(&import),
        import,
        comparison: None,
        rebuilt_quick_check: Vec::new(),
        installed: false,
        safety_backup: None,
        removed_side_files: Vec::new(),
        other_processes: Vec::new(),
        removed_stale_files: Vec::new(),
        quick_check: Vec::new(),
        table_rows: BTreeMap::new(),
        warnings: Vec::new(),
        duration_ms: 0,
    }
}

fn replace(
    archive_dir: &Path,
    live_db: &Path,
    options: &FullRecoveryOptions,
    progress: &dyn Progress,
) -> Result<FullRecoveryReport> {
    let started = Instant::now();
    let live_metadata = live_database_metadata(live_db)?;
    let deadline = wait_deadline(options.lock, started)?;
    // Refuse before the rebuild rather than after it; the install checks again.
    refuse_if_in_use(live_db, options.lock)?;
    let temp = crate::backup::files::temp_path_for(live_db, "recovery");
    rebuild::remove_database_files(&temp);
    let outcome = (|| -> Result<FullRecoveryReport> {
        let import =
            rebuild::import_archives(archive_dir, &temp, &options.reading(), false, progress)?;
        restrict_permissions(&temp)?;
        let rebuilt_quick_check = rebuild::check_rebuilt(&temp)?;
        progress::report(progress, "compare", 0, Some(1))?;
        let comparison = compare_with_live(live_db, live_metadata.is_some(), &temp)?;
        progress::report(progress, "compare", 1, Some(1))?;
        refuse_an_empty_rebuild(archive_dir, &comparison)?;
        report_step(progress, step::VERIFIED)?;
        let mut report = empty_report(
            archive_dir,
            live_db,
            options,
            live_metadata.is_some(),
            import,
        );
        report.rebuilt_quick_check = rebuilt_quick_check;
        report
            .warnings
            .extend(rebuild::failures_warning(&report.import));
        describe_losses(&comparison, &mut report.warnings);
        report.table_rows = comparison
            .tables
            .iter()
            .map(|t| (t.table.clone(), t.rebuilt_rows))
            .collect();
        report.comparison = Some(comparison);

        let _lock = if options.dry_run {
            None
        } else {
            Some(RootLock::acquire(&options.backup_root)?)
        };
        let install = Install {
            database: live_db,
            backup_root: &options.backup_root,
            lock: options.lock,
            dry_run: options.dry_run,
            safety_backup: options.safety_backup,
            now: options.now,
            started,
            deadline,
        };
        let installed = install_prepared(
            &install,
            &temp,
            live_metadata.as_ref(),
            progress,
            // The rebuild is already there, checked.
            |_: &Path| report_step(progress, step::COPIED),
        )?;
        report.installed = !options.dry_run;
        report.safety_backup = installed.safety_backup;
        report.removed_side_files = installed.removed_side_files;
        report.other_processes = installed.other_processes;
        report.removed_stale_files = installed.removed_stale_files;
        report.quick_check = installed.quick_check;
        if report.installed {
            let conn = super::compare::open_live_read_only(live_db)?;
            report.table_rows = crate::db::table_row_counts(&conn)?;
        }
        report.warnings.extend(installed.warnings);
        if report.installed
            && report
                .warnings
                .iter()
                .any(|w| w.contains("would not come back"))
        {
            if let Some(safety) = &report.safety_backup {
                report.warnings.push(format!(
                    "the rows that did not come back are in the safety backup {}",
                    safety.path.display()
                ));
            }
        }
        report.duration_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    })();
    // After a swap the temp name no longer exists; otherwise (a dry run, a refusal, a
    // failure) the rebuild goes.
    rebuild::remove_database_files(&temp);
    outcome
}

/// A rebuild without a single user or prayer, over a database that has some, is a wrong
/// archive folder rather than a community: installing it would empty the database.
fn refuse_an_empty_rebuild(archive_dir: &Path, comparison: &Comparison) -> Result<()> {
    let rows = |table: &str| {
        comparison
            .table(table)
            .map_or((0, 0), |t| (t.live_rows, t.rebuilt_rows))
    };
    let (live_users, rebuilt_users) = rows("user");
    let (live_prayers, rebuilt_prayers) = rows("prayer");
    if rebuilt_users + rebuilt_prayers == 0 && live_users + live_prayers > 0 {
        return Err(Error::InvalidInput(format!(
            "{} holds no user and no prayer: replacing the database ({live_users} users, {live_prayers} prayers) with it would empty it; check the archive folder",
            archive_dir.display()
        )));
    }
    Ok(())
}

/// The rebuild holds session ids and auth data: private until it takes over the live
/// file's owner and mode.
fn restrict_permissions(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io(path, e))
}

fn merge(
    archive_dir: &Path,
    live_db: &Path,
    options: &FullRecoveryOptions,
    progress: &dyn Progress,
) -> Result<FullRecoveryReport> {
    let started = Instant::now();
    let existed = live_database_exists(live_db)?;
    let mut safety_backup = None;
    if existed && options.safety_backup && !options.dry_run {
        let mut create_options = CreateOptions::new(live_db, &options.backup_root, Tier::Daily);
        create_options.kind = BackupKind::PreRestore;
        create_options.now = options.now;
        create_options.integrity_check = false;
        safety_backup = Some(crate::backup::create(&create_options, progress)?);
    }
    // The import runs beside the app: one transaction per phase, WAL, a busy timeout.
    let import = rebuild::import_archives(
        archive_dir,
        live_db,
        &options.reading(),
        options.dry_run,
        progress,
    )?;
    let mut report = empty_report(archive_dir, live_db, options, existed, import);
    report.safety_backup = safety_backup;
    report
        .warnings
        .extend(rebuild::failures_warning(&report.import));
    if live_db.is_file() {
        let conn = super::compare::open_live_read_only(live_db)?;
        report.table_rows = crate::db::table_row_counts(&conn)?;
    }
    if options.dry_run {
        // The import was rolled back: the rows it would add are its inserts.
        for (entity, counts) in &report.import.entities {
            if counts.inserted > 0 {
                report.warnings.push(format!(
                    "{entity}: {} rows would be added (dry run: none were)",
                    counts.inserted
                ));
            }
        }
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}
