//! `create`: a consistent backup set of a live WAL database.

use crate::audit;
use serde_json::json;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDateTime;
use rusqlite::{backup::StepResult, Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use super::files::{
    self, available_space, create_private_dir, create_private_file, fsync_file, make_private,
    rename_durably, sha256_file, sidecar_line, sidecar_path, temp_path_for, write_atomically,
    Manifest, ManifestMember, MemberRole, SourceIdentity, SourceKind, Verification,
    MANIFEST_FORMAT,
};
use super::{BackupKind, SetName, Tier};
use crate::db::table_row_counts;
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// Pages copied per backup step. Large steps keep the copy fast; the source read transaction
/// is held across steps so the snapshot stays consistent however many steps it takes.
pub(crate) const DEFAULT_PAGES_PER_STEP: i32 = 16_384;

/// Extra free space demanded beyond the database's size, for the journal and filesystem slack.
const FREE_SPACE_SLACK: u64 = 16 << 20;

/// What to back up and where.
///
/// Deserializes from a JSON object of the settings below the paths and the kind, each
/// optional: `{"now": "2025-01-01T02:00:00", "text_archives": DIR, "email_database": FILE,
/// "integrity_check": false, "reserve_bytes": N}`. The caller gives the database, the
/// backup root and the tier.
#[derive(Debug, Clone, Deserialize)]
#[serde(default = "CreateOptions::unplaced", deny_unknown_fields)]
pub struct CreateOptions {
    /// The live database (must exist; an empty backup is never made).
    #[serde(skip)]
    pub database: PathBuf,
    /// The backup root (`backups/`); the set goes into `<root>/<tier>/`.
    #[serde(skip)]
    pub backup_root: PathBuf,
    /// Tier (or pre-restore) of the new set.
    #[serde(skip)]
    pub kind: BackupKind,
    /// The local time written into the name (injectable for tests).
    pub now: NaiveDateTime,
    /// When set and the folder exists, the text archives are added as one ZIP.
    pub text_archives: Option<PathBuf>,
    /// When set and the file exists, the email database is added.
    pub email_database: Option<PathBuf>,
    /// Run `PRAGMA integrity_check` on the copy (recorded in the manifest as "verified").
    pub integrity_check: bool,
    /// Bytes that must stay free on the destination after the backup.
    pub reserve_bytes: u64,
    /// Pages per online-backup step (a tuning knob, not part of option documents).
    #[serde(skip)]
    pub pages_per_step: i32,
}

impl CreateOptions {
    /// Options for a `tier` backup of `database` into `backup_root`, stamped with the current
    /// local time, with the integrity check on and no companions.
    pub fn new(database: impl Into<PathBuf>, backup_root: impl Into<PathBuf>, tier: Tier) -> Self {
        CreateOptions {
            database: database.into(),
            backup_root: backup_root.into(),
            kind: BackupKind::Tier(tier),
            now: chrono::Local::now().naive_local(),
            text_archives: None,
            email_database: None,
            integrity_check: true,
            reserve_bytes: 0,
            pages_per_step: DEFAULT_PAGES_PER_STEP,
        }
    }

    /// The defaults a deserialized document starts from; its caller sets the paths and
    /// the tier.
    fn unplaced() -> Self {
        CreateOptions::new(PathBuf::new(), PathBuf::new(), Tier::Daily)
    }
}

/// The result of [`create`].
#[derive(Debug, Clone, Serialize)]
pub struct CreateReport {
    /// The set's stem.
    pub name: String,
    /// Tier or pre-restore.
    pub kind: BackupKind,
    /// The backup database file.
    pub path: PathBuf,
    /// Its `.sha256` sidecar.
    pub checksum_file: PathBuf,
    /// The set's manifest.
    pub manifest_file: PathBuf,
    /// The database that was backed up.
    pub source_database: PathBuf,
    /// Its identity, as recorded in the manifest.
    pub source: SourceIdentity,
    /// Every member with size and checksum.
    pub members: Vec<ManifestMember>,
    /// Database pages copied.
    pub pages: u64,
    /// The integrity check of the copy, when it ran.
    pub verification: Option<Verification>,
    /// Leftovers of interrupted earlier runs in the backup root, removed first.
    pub removed_stale_files: Vec<PathBuf>,
    /// Wall-clock duration.
    pub duration_ms: u64,
}

/// Takes a backup set: the database through SQLite's online backup API (consistent while
/// other processes keep writing), optionally the text archives and the email database, each
/// written under a temporary name, fsynced and renamed, then the sidecar and the manifest.
///
/// Progress phases: `backup` (pages), `hash` (bytes), `archives` (files), `email` (pages).
pub fn create(options: &CreateOptions, progress: &dyn Progress) -> Result<CreateReport> {
    audit::recorded(
        &options.database,
        "backup.create",
        create_arguments(options),
        |report: &CreateReport| json!({"sets": 1, "members": report.members.len(), "bytes": report.members.iter().map(|m| m.size).sum::<u64>()}),
        || create_unrecorded(options, progress),
    )
}

/// The audit arguments of a backup.
pub(crate) fn create_arguments(options: &CreateOptions) -> serde_json::Value {
    audit::arguments([
        ("database", json!(options.database)),
        ("backup_root", json!(options.backup_root)),
        ("kind", json!(options.kind)),
        ("text_archives", json!(options.text_archives)),
        ("email_database", json!(options.email_database)),
        ("integrity_check", json!(options.integrity_check)),
    ])
}

fn create_unrecorded(options: &CreateOptions, progress: &dyn Progress) -> Result<CreateReport> {
    let _lock = super::restore::RootLock::acquire(&options.backup_root)?;
    let removed = super::stale::remove(super::stale::leftovers(&options.backup_root, None))?;
    let mut report = create_unlocked(options, progress)?;
    report.removed_stale_files = removed;
    Ok(report)
}

/// [`create`] for callers already holding the backup root's lock.
pub(crate) fn create_unlocked(
    options: &CreateOptions,
    progress: &dyn Progress,
) -> Result<CreateReport> {
    let started = Instant::now();
    let source_size = existing_database_size(&options.database)?;
    let (source_kind, missing) = inspect_source(&options.database)?;
    // A scheduled backup of some other database (DATABASE_PATH pointing at email.db) would
    // be listed beside the real ones; a safety copy is taken of whatever is being replaced.
    if options.kind != BackupKind::PreRestore && !missing.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{} is not a ThyWill database (it has no {} table{}): refusing to file a backup of it among ThyWill's; check --db / DATABASE_PATH",
            options.database.display(),
            missing.join(", "),
            if missing.len() == 1 { "" } else { "s" }
        )));
    }
    let source = SourceIdentity::new(&options.database, source_kind);
    let mut set = SetName::new(options.kind, options.now);
    let dir = options.backup_root.join(set.kind.folder());
    create_private_dir(&dir)?;

    // Two restores within a second must not fail for want of a safety-backup name; a
    // scheduled tier backup taken twice in a second is a mistake worth reporting.
    if set.kind == BackupKind::PreRestore {
        while dir.join(set.database_file()).exists() {
            set.timestamp += chrono::Duration::seconds(1);
        }
    }
    let final_db = dir.join(set.database_file());
    if final_db.exists() {
        return Err(Error::Conflict(format!(
            "{} already exists; a {} backup was already taken this second",
            final_db.display(),
            set.kind
        )));
    }
    let email = options
        .email_database
        .as_ref()
        .filter(|p| p.is_file())
        .cloned();
    let archives = options
        .text_archives
        .as_ref()
        .filter(|p| p.is_dir())
        .cloned();
    let mut required = source_size
        .saturating_add(FREE_SPACE_SLACK)
        .saturating_add(options.reserve_bytes);
    if let Some(email) = &email {
        required = required.saturating_add(existing_database_size(email)?);
    }
    if let Some(archives) = &archives {
        required = required.saturating_add(dir_size(archives));
    }
    let available = available_space(&dir)?;
    if available < required {
        return Err(Error::io(
            &dir,
            io::Error::new(
                io::ErrorKind::StorageFull,
                format!(
                    "not enough free space for the backup: {required} bytes needed, {available} available"
                ),
            ),
        ));
    }

    let mut temps: Vec<PathBuf> = Vec::new();
    let result = (|| {
        let db_tmp = temp_path_for(&final_db, "backup");
        temps.push(db_tmp.clone());
        let pages = online_backup_unsynced(
            &options.database,
            &db_tmp,
            options.pages_per_step,
            "backup",
            progress,
        )?;
        let (sha256, size, verification) =
            sync_hash_and_check(&db_tmp, options.integrity_check, options.now, progress)?;
        if let Some(v) = &verification {
            if !v.integrity_ok() {
                return Err(Error::Corrupt(format!(
                    "the backup copy of {} failed its integrity check: {}",
                    options.database.display(),
                    v.integrity_check.join("; ")
                )));
            }
        }
        let mut members = vec![ManifestMember {
            role: MemberRole::Database,
            file: set.database_file(),
            size,
            sha256,
        }];

        let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
        if let Some(email) = &email {
            let file = format!("{}.email.db", set.stem());
            let tmp = temp_path_for(&dir.join(&file), "backup");
            temps.push(tmp.clone());
            online_backup(email, &tmp, options.pages_per_step, "email", progress)?;
            let (sha256, size) = sha256_file(&tmp, progress)?;
            members.push(ManifestMember {
                role: MemberRole::EmailDatabase,
                file: file.clone(),
                size,
                sha256,
            });
            staged.push((tmp, dir.join(file)));
        }
        if let Some(archives) = &archives {
            let file = format!("{}.text_archives.zip", set.stem());
            let tmp = temp_path_for(&dir.join(&file), "backup");
            temps.push(tmp.clone());
            crate::fsutil::zip::zip_folder(archives, &tmp, "text_archives", progress)?;
            let (sha256, size) = sha256_file(&tmp, progress)?;
            members.push(ManifestMember {
                role: MemberRole::TextArchives,
                file: file.clone(),
                size,
                sha256,
            });
            staged.push((tmp, dir.join(file)));
        }

        // Companions first, the database next, the manifest last: a set with a manifest is complete.
        for (tmp, final_path) in &staged {
            rename_durably(tmp, final_path)?;
        }
        rename_durably(&db_tmp, &final_db)?;
        for member in &members {
            write_atomically(
                &sidecar_path(&dir.join(&member.file)),
                sidecar_line(&member.sha256, &member.file).as_bytes(),
            )?;
        }
        let manifest = Manifest {
            format: MANIFEST_FORMAT.to_string(),
            version: 1,
            name: set.stem(),
            kind: set.kind,
            created_at: set.timestamp,
            source_database: options.database.display().to_string(),
            source: Some(source.clone()),
            tool: format!("thywill-core {}", crate::VERSION),
            members: members.clone(),
            verification: verification.clone(),
        };
        let manifest_file = dir.join(set.manifest_file());
        write_manifest(&manifest_file, &manifest)?;
        Ok(CreateReport {
            name: set.stem(),
            kind: set.kind,
            checksum_file: sidecar_path(&final_db),
            path: final_db.clone(),
            manifest_file,
            source_database: options.database.clone(),
            source,
            members,
            pages,
            verification,
            removed_stale_files: Vec::new(),
            duration_ms: started.elapsed().as_millis() as u64,
        })
    })();
    for tmp in &temps {
        let _ = files::remove_if_exists(tmp);
    }
    result
}

/// What the database at `path` holds, and which of ThyWill's core tables it lacks. A WAL
/// database can only be read where SQLite may create its `-shm`: an unwritable folder is
/// reported as such rather than as SQLite's "unable to open" or "readonly database".
fn inspect_source(path: &Path) -> Result<(SourceKind, Vec<String>)> {
    let read = || -> Result<BTreeMap<String, ()>> {
        let conn = open_existing(path)?;
        let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
        let names = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .map(|n| n.map(|n| (n, ())))
            .collect::<rusqlite::Result<BTreeMap<_, _>>>()?;
        Ok(names)
    };
    let tables = match read() {
        Ok(tables) => tables,
        Err(e) => {
            files::require_writable_dir(
                &files::parent_dir(path),
                "the folder holding the database (SQLite creates its -shm and -wal there)",
            )?;
            return Err(e);
        }
    };
    let missing = super::verify::missing_tables(&tables);
    let kind = if missing.is_empty() {
        SourceKind::Thywill
    } else if tables.contains_key("user_email") {
        SourceKind::Email
    } else {
        SourceKind::Other
    };
    Ok((kind, missing))
}

pub(crate) fn write_manifest(path: &Path, manifest: &Manifest) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| Error::Internal(format!("manifest serialisation: {e}")))?;
    json.push(b'\n');
    write_atomically(path, &json)
}

/// Size of an existing database (main file plus WAL), or a clear not-found error.
pub(crate) fn existing_database_size(database: &Path) -> Result<u64> {
    match fs::metadata(database) {
        Ok(m) if m.is_file() => {
            let wal = fs::metadata(wal_path(database))
                .map(|m| m.len())
                .unwrap_or(0);
            Ok(m.len().saturating_add(wal))
        }
        Ok(m) if m.is_dir() => Err(Error::InvalidInput(format!(
            "{} is a directory, not a database file",
            database.display()
        ))),
        Ok(_) => Err(Error::InvalidInput(format!(
            "{} is not a regular file, not a database file",
            database.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::NotFound {
            what: format!(
                "database {} (refusing to make an empty backup)",
                database.display()
            ),
        }),
        Err(e) => Err(Error::io(database, e)),
    }
}

pub(crate) fn wal_path(database: &Path) -> PathBuf {
    let mut s = database.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

pub(crate) fn shm_path(database: &Path) -> PathBuf {
    let mut s = database.as_os_str().to_owned();
    s.push("-shm");
    PathBuf::from(s)
}

/// Opens an existing database for reading and writing without ever creating it.
pub(crate) fn open_existing(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    Ok(conn)
}

/// Copies `source` into the new file `dest` with the online backup API, from one read
/// transaction held across all steps (so concurrent commits never restart or tear the copy),
/// and leaves `dest` in DELETE journal mode, mode 0600 (not yet fsynced). Returns the page count.
pub(crate) fn online_backup(
    source: &Path,
    dest: &Path,
    pages_per_step: i32,
    phase: &str,
    progress: &dyn Progress,
) -> Result<u64> {
    let pages = online_backup_unsynced(source, dest, pages_per_step, phase, progress)?;
    fsync_file(dest)?;
    Ok(pages)
}

/// [`online_backup`] without the final fsync, for callers that overlap it with hashing.
fn online_backup_unsynced(
    source: &Path,
    dest: &Path,
    pages_per_step: i32,
    phase: &str,
    progress: &dyn Progress,
) -> Result<u64> {
    existing_database_size(source)?;
    let src = open_existing(source)?;
    online_backup_from(&src, dest, pages_per_step, phase, progress)
}

/// As [`online_backup`], from an already open connection (which may hold a transaction).
pub(crate) fn online_backup_from(
    src: &Connection,
    dest: &Path,
    pages_per_step: i32,
    phase: &str,
    progress: &dyn Progress,
) -> Result<u64> {
    let own_transaction = pin_snapshot(src)?;
    let result = (|| {
        drop(create_private_file(dest)?);
        let mut dst = Connection::open(dest)?;
        // The file only becomes a backup once it is complete, fsynced and renamed, so the
        // destination needs no journal and no syncs of its own.
        dst.pragma_update(None, "journal_mode", "OFF")?;
        dst.pragma_update(None, "synchronous", "OFF")?;
        let pages = copy_pages(src, &mut dst, pages_per_step, phase, progress)?;
        progress::report(progress, phase, pages, Some(pages))?;
        // The copied header carries the source's WAL flag; a backup file is self-contained.
        dst.pragma_update(None, "journal_mode", "DELETE")?;
        dst.close().map_err(|(_, e)| Error::Database(e))?;
        let _ = files::remove_if_exists(&wal_path(dest));
        let _ = files::remove_if_exists(&shm_path(dest));
        make_private(dest)?;
        Ok(pages)
    })();
    if own_transaction {
        let _ = src.execute_batch("COMMIT");
    }
    result
}

/// Runs the online backup from `src` into `dst` in steps of `pages_per_step`.
fn copy_pages(
    src: &Connection,
    dst: &mut Connection,
    pages_per_step: i32,
    phase: &str,
    progress: &dyn Progress,
) -> Result<u64> {
    let backup = rusqlite::backup::Backup::new(src, dst)?;
    let mut busy_retries = 0u32;
    loop {
        match backup.step(pages_per_step.max(1))? {
            StepResult::Done => break,
            StepResult::More => busy_retries = 0,
            _ => {
                busy_retries += 1;
                if busy_retries > 1000 {
                    return Err(Error::Conflict(
                        "the database stayed locked during the backup".into(),
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        let p = backup.progress();
        let total = p.pagecount.max(0) as u64;
        progress::report(
            progress,
            phase,
            total.saturating_sub(p.remaining.max(0) as u64),
            Some(total),
        )?;
    }
    let p = backup.progress();
    Ok(p.pagecount.max(0) as u64)
}

/// Begins a read transaction on `src` unless one is open; returns whether it did.
fn pin_snapshot(src: &Connection) -> Result<bool> {
    src.busy_timeout(std::time::Duration::from_secs(30))?;
    // Reading the source through a memory map spares a read(2) and a copy per page; the
    // map is bounded (64 MiB, beyond which pages are read as usual) because mapped pages
    // count as the process's memory, which stays flat whatever the database's size.
    src.query_row("PRAGMA mmap_size = 67108864", [], |_| Ok(()))?;
    // A read transaction pins the snapshot: the backup then never sees a concurrent commit.
    let own_transaction = src.is_autocommit();
    if own_transaction {
        src.execute_batch("BEGIN")?;
        src.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
    }
    Ok(own_transaction)
}

/// fsyncs `path`, hashes it and, when asked, runs `integrity_check`, all at once: the hash
/// and the check read from the page cache while the disk absorbs the writes.
fn sync_hash_and_check(
    path: &Path,
    integrity_check: bool,
    now: NaiveDateTime,
    progress: &dyn Progress,
) -> Result<(String, u64, Option<Verification>)> {
    // Progress stays on the caller's thread (C callers may not expect calls from others);
    // the helpers are plain threads, which unlike a thread scope leave the caller's thread
    // untouched.
    let owned = path.to_path_buf();
    let syncing = std::thread::spawn(move || fsync_file(&owned));
    let checking = integrity_check.then(|| {
        let owned = path.to_path_buf();
        std::thread::spawn(move || check_database(&owned, now))
    });
    let hashed = sha256_file(path, progress);
    let verification = checking
        .map(|h| {
            h.join()
                .map_err(|_| Error::Internal("integrity check thread panicked".into()))?
        })
        .transpose();
    let synced = syncing
        .join()
        .map_err(|_| Error::Internal("fsync thread panicked".into()))?;
    let (sha, size) = hashed?;
    synced?;
    Ok((sha, size, verification?))
}

/// `PRAGMA integrity_check` and row counts of a database file, opened read-only.
pub(crate) fn check_database(path: &Path, now: NaiveDateTime) -> Result<Verification> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let integrity_check = integrity_lines(&conn, "integrity_check")?;
    let table_row_counts = if integrity_check.len() == 1 && integrity_check[0] == "ok" {
        table_row_counts(&conn)?
    } else {
        BTreeMap::new()
    };
    Ok(Verification {
        integrity_check,
        checked_at: now,
        table_row_counts,
    })
}

/// The lines of `PRAGMA integrity_check` / `quick_check`.
pub(crate) fn integrity_lines(conn: &Connection, pragma: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA {pragma}"))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => {
                    total += entry.metadata().map(|m| m.len()).unwrap_or(0);
                }
                _ => {}
            }
        }
    }
    total
}
