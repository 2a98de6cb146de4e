//! ThyWill's SQLite database.
//!
//! [`Database::open`] opens a live database beside the running Python app: WAL, a busy
//! timeout, `BEGIN IMMEDIATE` for write phases ([`Database::write_phase`]), and a schema
//! check that tolerates extra columns and missing optional tables but refuses the legacy
//! schema of ThyWill's migration 001. Every statement in this crate names its columns.

pub(crate) mod bulk;
pub mod encode;
pub mod schema;
mod time;
pub(crate) mod vfs_read;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use encode::IdGenerator;
pub use time::ArchiveTimeZone;

use crate::{Error, Result};

/// How to open a database.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How long a statement waits for the Python app to release its lock.
    pub busy_timeout: Duration,
    /// Create the file and ThyWill's schema (with the default roles) when the file
    /// does not exist.
    pub create_if_missing: bool,
    /// Open read-only (no WAL switch, no schema creation).
    pub read_only: bool,
    /// Switch the database to WAL, as the Python app runs it. Dry runs leave the
    /// journal mode alone so that they change nothing on disk.
    pub switch_to_wal: bool,
    /// When the file is created by this call, skip the per-step syncs, fill it with a
    /// rollback journal, and switch it to WAL and sync it once in [`Database::close`]
    /// (nobody else can be using a file that did not exist; a bulk import into a new
    /// database then pays two syncs instead of eight and no WAL growth). Until `close`
    /// succeeds the new file is not durable.
    pub sync_new_file_on_close: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            busy_timeout: Duration::from_secs(30),
            create_if_missing: false,
            read_only: false,
            switch_to_wal: true,
            sync_new_file_on_close: false,
        }
    }
}

/// SQLite reports every refused open as "unable to open database file" (read as
/// not found). Repeats the open with the file system's own calls to say why: a missing
/// folder (not found), a folder the user may not write to (permission), a path through
/// a file (invalid input). Runs only after a failure, so a successful open pays nothing.
fn why_open_failed(path: &Path, exists: bool, read_only: bool, error: rusqlite::Error) -> Error {
    if error.sqlite_error_code() != Some(rusqlite::ErrorCode::CannotOpen) {
        return Error::Database(error);
    }
    if exists {
        return match std::fs::OpenOptions::new()
            .read(true)
            .write(!read_only)
            .open(path)
        {
            Err(e) => Error::io(path, e),
            Ok(_) => Error::Database(error),
        };
    }
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    match std::fs::metadata(folder) {
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Error::InvalidInput(format!(
            "database {}: a part of the folder path is a file",
            path.display()
        )),
        Err(e) => Error::io(folder, e),
        Ok(m) if !m.is_dir() => Error::InvalidInput(format!(
            "database {}: {} is not a folder",
            path.display(),
            folder.display()
        )),
        Ok(_) => match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Err(e) => Error::io(path, e),
            Ok(_) => {
                // The probe made the file: remove it, and report SQLite's own error.
                let _ = std::fs::remove_file(path);
                Error::Database(error)
            }
        },
    }
}

/// What the schema check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SchemaInfo {
    /// Tables present.
    pub tables: Vec<String>,
    /// ThyWill tables of the create_all schema that are absent.
    pub missing_tables: Vec<String>,
}

/// An open ThyWill database.
#[derive(Debug)]
pub struct Database {
    conn: Connection,
    path: Option<PathBuf>,
    tables: HashSet<String>,
    /// Created with syncs (and the switch to WAL) deferred to [`Database::close`].
    unsynced_new_file: bool,
}

impl Database {
    /// Opens an existing database (or creates it, see [`OpenOptions::create_if_missing`]).
    /// Refuses the legacy migration-001 schema with [`Error::InvalidInput`].
    pub fn open(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Database> {
        let path = path.as_ref();
        let metadata = std::fs::metadata(path);
        if metadata.as_ref().is_ok_and(std::fs::Metadata::is_dir) {
            return Err(Error::InvalidInput(format!(
                "database {} is a directory, not a database file",
                path.display()
            )));
        }
        let exists = metadata.is_ok();
        if !exists && (options.read_only || !options.create_if_missing) {
            return Err(Error::NotFound {
                what: format!("database {}", path.display()),
            });
        }
        let flags = if options.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| why_open_failed(path, exists, options.read_only, e))?;
        conn.busy_timeout(options.busy_timeout)?;
        tune(&conn)?;
        let unsynced_new_file = !exists && options.sync_new_file_on_close;
        if unsynced_new_file {
            conn.execute_batch("PRAGMA synchronous=OFF")?;
        }
        // A new file deferring its syncs is filled with a rollback journal (a huge WAL
        // transaction slows every page lookup) and switched to WAL in `close`.
        if !options.read_only && options.switch_to_wal && !unsynced_new_file {
            // The Python app runs the database in WAL mode; matching it keeps readers
            // and the app's writer from blocking each other.
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
                return Err(Error::Conflict(format!(
                    "{} could not be switched to WAL (journal_mode is {mode})",
                    path.display()
                )));
            }
            if !unsynced_new_file {
                conn.execute_batch("PRAGMA synchronous=NORMAL")?;
            }
        }
        let mut db = Database {
            conn,
            path: Some(path.to_path_buf()),
            tables: HashSet::new(),
            unsynced_new_file,
        };
        db.check_schema()?;
        if !exists && options.create_if_missing {
            db.create_schema(&IdGenerator::new())?;
        }
        Ok(db)
    }

    /// Creates a new database file with ThyWill's schema and default roles. Fails with
    /// [`Error::Conflict`] when the file exists.
    pub fn create(path: impl AsRef<Path>) -> Result<Database> {
        let path = path.as_ref();
        if path.exists() {
            return Err(Error::Conflict(format!(
                "{} already exists",
                path.display()
            )));
        }
        Database::open(
            path,
            &OpenOptions {
                create_if_missing: true,
                ..OpenOptions::default()
            },
        )
    }

    /// An in-memory database with ThyWill's schema and default roles (used by dry runs
    /// against a database file that does not exist, so nothing is created on disk).
    pub fn in_memory() -> Result<Database> {
        let conn = Connection::open_in_memory()?;
        tune(&conn)?;
        let mut db = Database {
            conn,
            path: None,
            tables: HashSet::new(),
            unsynced_new_file: false,
        };
        db.create_schema(&IdGenerator::new())?;
        Ok(db)
    }

    /// Wraps a connection the caller opened (checks the schema).
    pub fn from_connection(conn: Connection) -> Result<Database> {
        tune(&conn)?;
        let mut db = Database {
            conn,
            path: None,
            tables: HashSet::new(),
            unsynced_new_file: false,
        };
        db.check_schema()?;
        Ok(db)
    }

    /// Closes the database (SQLite checkpoints the WAL into the file) and, for a file
    /// created with [`OpenOptions::sync_new_file_on_close`], syncs the file and its folder
    /// so that everything written is durable when this returns.
    pub fn close(self) -> Result<()> {
        let Database {
            conn,
            path,
            unsynced_new_file,
            ..
        } = self;
        if unsynced_new_file {
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::Conflict(format!(
                    "the new database could not be switched to WAL (journal_mode is {mode})"
                )));
            }
        }
        conn.close().map_err(|(_, e)| Error::Database(e))?;
        if let (true, Some(path)) = (unsynced_new_file, path) {
            let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
            file.sync_all().map_err(|e| Error::io(&path, e))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                if let Ok(dir_file) = std::fs::File::open(dir) {
                    dir_file.sync_all().map_err(|e| Error::io(dir, e))?;
                }
            }
        }
        Ok(())
    }

    /// For a new file whose syncs are deferred to [`Database::close`]: asks the kernel to
    /// start writing what has been committed so far, so the sync in `close` has less
    /// left to wait for (it was a tenth of a small import's wall time). A hint only;
    /// durability still comes from `close`. The request runs on a short-lived thread:
    /// submitting the pages takes the kernel a few milliseconds that the caller's next
    /// phase need not wait for.
    pub(crate) fn start_writeback(&self) {
        if let (true, Some(path)) = (self.unsynced_new_file, &self.path) {
            let owned = path.clone();
            let spawned = std::thread::Builder::new()
                .name("thywill-writeback".into())
                .spawn(move || start_writeback_of(&owned));
            if spawned.is_err() {
                start_writeback_of(path);
            }
        }
    }

    /// The underlying connection.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The database file, when it has one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether a table exists (as of the last schema check).
    pub fn has_table(&self, name: &str) -> bool {
        self.tables.contains(name)
    }

    /// Creates whatever part of the create_all schema is missing and the default roles
    /// when the `role` table is new. Returns the objects created.
    pub fn create_schema(&mut self, ids: &IdGenerator) -> Result<Vec<String>> {
        // One transaction: all of the schema or none of it.
        let created = self.write_phase(|conn| {
            let created = schema::create_missing_objects(conn)?;
            if created.iter().any(|name| name == "role") {
                schema::insert_default_roles(conn, ids, &chrono::Utc::now().naive_utc())?;
            }
            Ok(created)
        })?;
        self.refresh_tables()?;
        Ok(created)
    }

    /// Inspects the schema: records the tables, refuses the legacy shape.
    pub fn check_schema(&mut self) -> Result<SchemaInfo> {
        self.refresh_tables()?;
        if self.tables.contains("user") {
            let columns = table_columns(&self.conn, "user")?;
            let has = |c: &str| columns.iter().any(|name| name == c);
            if !has("display_name") || has("id") {
                return Err(Error::InvalidInput(format!(
                    "{} has the legacy ThyWill schema of migrations/001_initial_schema \
                     (user.id as key{}), not the create_all schema every live ThyWill \
                     database uses (user.display_name as key); refusing to touch it",
                    self.describe(),
                    if has("display_name") {
                        ""
                    } else {
                        ", no display_name"
                    }
                )));
            }
        }
        if self.tables.contains("prayermark") {
            let columns = table_columns(&self.conn, "prayermark")?;
            if !columns.iter().any(|c| c == "username") {
                return Err(Error::InvalidInput(format!(
                    "{} has the legacy ThyWill schema (prayermark.user_id); refusing to touch it",
                    self.describe()
                )));
            }
        }
        let mut tables: Vec<String> = self.tables.iter().cloned().collect();
        tables.sort();
        let missing_tables = schema::SCHEMA_OBJECTS
            .iter()
            .filter(|(kind, name, _)| *kind == "table" && !self.tables.contains(*name))
            .map(|(_, name, _)| (*name).to_string())
            .collect();
        Ok(SchemaInfo {
            tables,
            missing_tables,
        })
    }

    fn describe(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "the database".into(),
        }
    }

    fn refresh_tables(&mut self) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
        let names = stmt.query_map([], |row| row.get::<_, String>(0))?;
        self.tables = names.collect::<std::result::Result<_, _>>()?;
        Ok(())
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction: committed when it returns
    /// `Ok`, rolled back otherwise.
    pub fn write_phase<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match work(&self.conn) {
            Ok(value) => {
                if let Err(e) = self.conn.execute_batch("COMMIT") {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn start_writeback_of(path: &Path) {
    use std::os::fd::AsRawFd;
    if let Ok(file) = std::fs::File::open(path) {
        // SAFETY: `file` is an open descriptor for the whole call; SYNC_FILE_RANGE_WRITE
        // only schedules the writing of dirty pages and waits for nothing. A failure
        // changes nothing (close syncs anyway), so it is ignored.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback_of(_path: &Path) {}

/// Connection settings for bulk work: enough cached statements for an import's
/// distinct statements, a bounded page cache (constant memory, whatever the size), and
/// WAL checkpoints every 10,000 pages rather than 1,000 (each page is copied back fewer
/// times during a bulk import; the app's own connections keep their setting). Sorts for
/// index builds spill to temporary files beyond the cache, so memory stays bounded.
/// Foreign keys stay off as in ThyWill (orphan rows are legal there), whatever
/// the SQLite build's default (rusqlite's bundled build turns them on).
fn tune(conn: &Connection) -> Result<()> {
    conn.set_prepared_statement_cache_capacity(64);
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 10000",
    )?;
    Ok(())
}

/// The column names of a table, in declaration order (empty when the table is absent).
pub(crate) fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt.query_map([table], |row| row.get::<_, String>(0))?;
    Ok(names.collect::<std::result::Result<_, _>>()?)
}

/// The number of rows in every table (SQLite's own `sqlite_*` tables left out), by table
/// name. Backups record these in their manifests and `verify` reports them; they are what
/// "the same data" means when a restored database is compared with the one it replaced.
pub fn table_row_counts(conn: &Connection) -> Result<BTreeMap<String, u64>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut counts = BTreeMap::new();
    for name in names {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {quoted}"), [], |r| r.get(0))?;
        counts.insert(name, n.max(0) as u64);
    }
    Ok(counts)
}
