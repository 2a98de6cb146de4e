//! `thywill restore-sessions FILE`: the sessions of a `sessions_backup.json` back into a
//! database, in one transaction.

use crate::audit;
use serde_json::json;
use std::path::Path;

use chrono::NaiveDateTime;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{id_prefix, open, SessionEntry, SessionSchema, SessionsFile};
use crate::db::encode::format_datetime;
use crate::import::validate::{check_free_text, check_name};
use crate::progress::{report as progress_report, Progress};
use crate::pycompat::datetime::py_fromisoformat;
use crate::{Error, Result};

/// Options of [`restore_sessions`]. Deserializes from a JSON object of these fields, each
/// optional (the C API's options document).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestoreSessionsOptions {
    /// Do the work in the transaction, then roll it back (same numbers as the real run).
    pub dry_run: bool,
    /// The time sessions are judged expired at, UTC (`2025-09-20T12:00:00`; default: now).
    pub as_of: Option<NaiveDateTime>,
}

/// A session of the file that was not restored, and why (never the whole id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedSession {
    /// 0-based position in the file's `sessions` list.
    pub index: u64,
    /// The first 8 characters of the id, then `...`.
    pub id_prefix: String,
    /// The user the session belonged to.
    pub username: String,
    /// Why it was not restored.
    pub reason: String,
}

/// What [`restore_sessions`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionsRestoreReport {
    /// The file read.
    pub file: String,
    /// The database written.
    pub database: String,
    /// The session table's shape.
    pub schema: SessionSchema,
    /// True when every change was rolled back.
    pub dry_run: bool,
    /// Sessions in the file.
    pub total: u64,
    /// Sessions inserted.
    pub restored: u64,
    /// Sessions whose id the database already has (left as they are).
    pub already_present: u64,
    /// Expired sessions, not restored.
    pub expired: u64,
    /// Sessions whose user no longer exists, not restored.
    pub unknown_users: Vec<SkippedSession>,
    /// Sessions that could not be read (a bad time, a control character in a name).
    pub failures: Vec<SkippedSession>,
    /// The users whose sessions were restored, sorted, each once.
    pub restored_usernames: Vec<String>,
}

impl SessionsRestoreReport {
    /// Whether some session could not be read.
    pub fn has_failures(&self) -> bool {
        !self.failures.is_empty()
    }
}

/// Restores the sessions of the `sessions_backup.json` at `file` into the database at `db`:
/// one transaction; a session whose id exists is left alone, an expired one skipped, one
/// whose user no longer exists reported and skipped. Idempotent.
pub fn restore_sessions(
    db: impl AsRef<Path>,
    file: impl AsRef<Path>,
    options: &RestoreSessionsOptions,
    progress: &dyn Progress,
) -> Result<SessionsRestoreReport> {
    let (db, file) = (db.as_ref(), file.as_ref());
    audit::recorded(
        db,
        "sessions.restore",
        audit::arguments([
            ("database", json!(db)),
            ("file", json!(file)),
            ("dry_run", json!(options.dry_run)),
        ]),
        |report: &SessionsRestoreReport| {
            json!({
                "dry_run": report.dry_run,
                "total": report.total,
                "restored": report.restored,
                "already_present": report.already_present,
            })
        },
        || restore_sessions_unrecorded(db, file, options, progress),
    )
}

fn restore_sessions_unrecorded(
    db: impl AsRef<Path>,
    file: impl AsRef<Path>,
    options: &RestoreSessionsOptions,
    progress: &dyn Progress,
) -> Result<SessionsRestoreReport> {
    let file = file.as_ref();
    let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
    let document: SessionsFile = serde_json::from_slice(&bytes).map_err(|e| {
        Error::InvalidInput(format!(
            "{}: not a sessions_backup.json document: {e}",
            file.display()
        ))
    })?;
    let db = db.as_ref();
    let (conn, schema) = open(db, false)?;
    let now = options
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().naive_utc());
    let mut report = SessionsRestoreReport {
        file: file.display().to_string(),
        database: db.display().to_string(),
        schema,
        dry_run: options.dry_run,
        total: document.sessions.len() as u64,
        restored: 0,
        already_present: 0,
        expired: 0,
        unknown_users: Vec::new(),
        failures: Vec::new(),
        restored_usernames: Vec::new(),
    };
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> Result<()> {
        for (index, entry) in document.sessions.iter().enumerate() {
            restore_one(&conn, schema, index as u64, entry, &now, &mut report)?;
            progress_report(progress, "sessions", index as u64 + 1, Some(report.total))?;
        }
        Ok(())
    })();
    let end = if result.is_ok() && !options.dry_run {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    if let Err(e) = conn.execute_batch(end) {
        let _ = conn.execute_batch("ROLLBACK");
        result?;
        return Err(e.into());
    }
    result?;
    report.restored_usernames.sort();
    report.restored_usernames.dedup();
    Ok(report)
}

fn restore_one(
    conn: &Connection,
    schema: SessionSchema,
    index: u64,
    entry: &SessionEntry,
    now: &NaiveDateTime,
    report: &mut SessionsRestoreReport,
) -> Result<()> {
    let skipped = |reason: String| SkippedSession {
        index,
        id_prefix: id_prefix(&entry.session_id),
        username: entry.username.clone(),
        reason,
    };
    if let Some(reason) = refusal(entry) {
        report.failures.push(skipped(reason));
        return Ok(());
    }
    let (Some(created), Some(expires)) = (
        py_fromisoformat(&entry.created_at),
        py_fromisoformat(&entry.expires_at),
    ) else {
        report.failures.push(skipped(format!(
            "unreadable time (created_at {:?}, expires_at {:?})",
            entry.created_at, entry.expires_at
        )));
        return Ok(());
    };
    let (created, expires) = (created.naive(), expires.naive());
    let exists = conn
        .prepare_cached("SELECT 1 FROM session WHERE id = ?1")?
        .exists([&entry.session_id])?;
    if exists {
        report.already_present += 1;
        return Ok(());
    }
    if expires < *now {
        report.expired += 1;
        return Ok(());
    }
    let user: Option<String> = match schema {
        SessionSchema::UsernameBased => conn
            .prepare_cached("SELECT display_name FROM user WHERE display_name = ?1")?
            .query_row([&entry.username], |r| r.get(0))
            .optional()?,
        SessionSchema::Legacy => conn
            .prepare_cached("SELECT id FROM user WHERE display_name = ?1")?
            .query_row([&entry.username], |r| r.get(0))
            .optional()?,
    };
    let Some(user) = user else {
        report
            .unknown_users
            .push(skipped("the user no longer exists".into()));
        return Ok(());
    };
    let column = match schema {
        SessionSchema::UsernameBased => "username",
        SessionSchema::Legacy => "user_id",
    };
    conn.prepare_cached(&format!(
        "INSERT INTO session (id, {column}, created_at, expires_at, auth_request_id, \
         device_info, ip_address, is_fully_authenticated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        entry.session_id,
        user,
        format_datetime(&created),
        format_datetime(&expires),
        entry.auth_request_id,
        entry.device_info,
        entry.ip_address,
        entry.is_fully_authenticated
    ])?;
    report.restored += 1;
    report.restored_usernames.push(entry.username.clone());
    Ok(())
}

/// Why an entry is refused: a control character in an id or name (they are keys), or a
/// C0 control in the user agent.
fn refusal(entry: &SessionEntry) -> Option<String> {
    let names = [
        ("session_id", Some(entry.session_id.as_str())),
        ("username", Some(entry.username.as_str())),
        ("auth_request_id", entry.auth_request_id.as_deref()),
        ("ip_address", entry.ip_address.as_deref()),
    ];
    for (field, value) in names {
        if let Some(Err(refused)) = value.map(check_name) {
            return Some(format!("{field} has a {refused}"));
        }
    }
    if entry.session_id.is_empty() || entry.username.is_empty() {
        return Some("empty session_id or username".into());
    }
    if let Some(Err(refused)) = entry.device_info.as_deref().map(check_free_text) {
        return Some(format!("device_info has a {refused}"));
    }
    None
}
