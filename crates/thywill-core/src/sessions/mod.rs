//! Sessions across a restore: [`export_sessions`] writes the active sessions of a database to
//! ThyWill's `sessions_backup.json` shape, [`restore_sessions`] puts them back after the
//! database was rebuilt or restored, so that signed-in users stay signed in (docs/sessions.md).
//!
//! Not to be confused with [`crate::archive::sessions`], the text format of the
//! `sessions/` archive files.
//!
//! Both read either of ThyWill's session tables: the current one (`session.username`, a
//! display name) and the legacy one of its first migration (`session.user_id`, a `user.id`
//! beside the display name). Session ids are bearer credentials: the file is written with
//! mode 0600, atomically, and reports show only the first 8 characters of an id.
//!
//! ThyWill defects fixed (FIXABLE): its exporter writes every session, expired ones too,
//! with the default file mode; its restorer commits session by session, restores expired
//! sessions, and lists the first N usernames of its input as "restored" whatever was.

mod export;
mod restore;

pub use export::{export_sessions, ExportSessionsOptions, ExportedSession, SessionsExport};
pub use restore::{
    restore_sessions, RestoreSessionsOptions, SessionsRestoreReport, SkippedSession,
};

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The file name ThyWill's exporter writes, in its working folder.
pub const DEFAULT_FILE_NAME: &str = "sessions_backup.json";

/// One session as `sessions_backup.json` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEntry {
    /// The session id (a bearer credential).
    pub session_id: String,
    /// The user's display name.
    pub username: String,
    /// Creation, ISO 8601 (the database's UTC value; no fraction when it is zero).
    pub created_at: String,
    /// Expiry, ISO 8601.
    pub expires_at: String,
    /// Client address.
    #[serde(default)]
    pub ip_address: Option<String>,
    /// User agent.
    #[serde(default)]
    pub device_info: Option<String>,
    /// The authentication request the session came from.
    #[serde(default)]
    pub auth_request_id: Option<String>,
    /// Whether the session may do everything (false: waiting for another device's approval).
    #[serde(default = "default_true")]
    pub is_fully_authenticated: bool,
}

fn default_true() -> bool {
    true
}

/// The whole `sessions_backup.json` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsFile {
    /// When it was written (local time, ISO 8601, as ThyWill writes it).
    #[serde(default)]
    pub exported_at: String,
    /// The number of sessions.
    #[serde(default)]
    pub total_sessions: u64,
    /// The sessions.
    #[serde(default)]
    pub sessions: Vec<SessionEntry>,
}

/// Which of ThyWill's session tables a database has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionSchema {
    /// `session.username` holds the display name (ThyWill's create_all schema).
    UsernameBased,
    /// `session.user_id` holds a `user.id` (the legacy schema of migration 001).
    Legacy,
}

/// The first 8 characters of a session id, which reports show instead of the id.
pub(crate) fn id_prefix(id: &str) -> String {
    let prefix: String = id.chars().take(8).collect();
    format!("{prefix}...")
}

/// Opens an existing database for the session operations (which work on either schema, so
/// not through [`crate::db::Database`], which refuses the legacy one) and tells its schema.
fn open(path: &Path, read_only: bool) -> Result<(Connection, SessionSchema)> {
    if !path.is_file() {
        return Err(Error::NotFound {
            what: format!("database {}", path.display()),
        });
    }
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    // ThyWill may be running: wait for its writes as every other operation does.
    conn.busy_timeout(Duration::from_secs(30))?;
    // Foreign keys stay off as in ThyWill, whatever the SQLite build's default.
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let session = crate::db::table_columns(&conn, "session")?;
    let user = crate::db::table_columns(&conn, "user")?;
    let has = |cols: &[String], name: &str| cols.iter().any(|c| c == name);
    let schema = if has(&session, "username") {
        SessionSchema::UsernameBased
    } else if has(&session, "user_id") && has(&user, "id") && has(&user, "display_name") {
        SessionSchema::Legacy
    } else if session.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{} has no session table",
            path.display()
        )));
    } else {
        return Err(Error::InvalidInput(format!(
            "{}: the session table has neither ThyWill's username column nor the legacy user_id",
            path.display()
        )));
    };
    Ok((conn, schema))
}
