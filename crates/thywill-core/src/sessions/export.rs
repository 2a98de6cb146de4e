//! `thywill export-sessions`: the active sessions of a database, written to ThyWill's
//! `sessions_backup.json` shape atomically with mode 0600.

use crate::audit;
use serde_json::json;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{id_prefix, open, SessionEntry, SessionSchema, SessionsFile};
use crate::db::encode::parse_datetime;
use crate::progress::{report as progress_report, Progress};
use crate::pycompat::datetime::py_isoformat;
use crate::{Error, Result};

/// Options of [`export_sessions`]. Deserializes from a JSON object of these fields, each
/// optional (the C API's options document).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportSessionsOptions {
    /// Export expired sessions too, as ThyWill's exporter does (default: active ones only;
    /// an expired session is of no use after a restore).
    pub include_expired: bool,
    /// The time sessions are judged active at, UTC (`2025-09-20T12:00:00`; default: now).
    pub as_of: Option<NaiveDateTime>,
}

/// What [`export_sessions`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionsExport {
    /// The file written.
    pub file: String,
    /// The session table's shape.
    pub schema: SessionSchema,
    /// Sessions written.
    pub total_sessions: u64,
    /// Expired sessions left out.
    pub expired_skipped: u64,
    /// The users whose sessions were written, sorted, each once.
    pub usernames: Vec<String>,
    /// Each written session: its id's first 8 characters, user and expiry.
    pub sessions: Vec<ExportedSession>,
}

/// One written session, as reports show it (never the whole id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedSession {
    /// The first 8 characters of the id, then `...`.
    pub id_prefix: String,
    /// The user.
    pub username: String,
    /// The expiry, ISO 8601.
    pub expires_at: String,
}

/// Exports the sessions of the database at `db` to `out` (replaced atomically, mode 0600).
pub fn export_sessions(
    db: impl AsRef<Path>,
    out: impl AsRef<Path>,
    options: &ExportSessionsOptions,
    progress: &dyn Progress,
) -> Result<SessionsExport> {
    let (db, out) = (db.as_ref(), out.as_ref());
    audit::recorded(
        db,
        "sessions.export",
        audit::arguments([
            ("database", json!(db)),
            ("file", json!(out)),
            ("include_expired", json!(options.include_expired)),
        ]),
        |report: &SessionsExport| {
            json!({
                "sessions": report.total_sessions,
                "expired_skipped": report.expired_skipped,
            })
        },
        || export_sessions_unrecorded(db, out, options, progress),
    )
}

fn export_sessions_unrecorded(
    db: impl AsRef<Path>,
    out: impl AsRef<Path>,
    options: &ExportSessionsOptions,
    progress: &dyn Progress,
) -> Result<SessionsExport> {
    let (conn, schema) = open(db.as_ref(), true)?;
    let now = options
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().naive_utc());
    let sql = match schema {
        SessionSchema::UsernameBased => {
            "SELECT id, username, created_at, expires_at, ip_address, device_info, \
             auth_request_id, is_fully_authenticated FROM session ORDER BY created_at, id"
        }
        // The legacy table names users by `user.id`; the file names them by display name.
        SessionSchema::Legacy => {
            "SELECT s.id, coalesce(u.display_name, s.user_id), s.created_at, s.expires_at, \
             s.ip_address, s.device_info, s.auth_request_id, coalesce(s.is_fully_authenticated, 1) \
             FROM session s LEFT JOIN user u ON u.id = s.user_id ORDER BY s.created_at, s.id"
        }
    };
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut sessions = Vec::new();
    let mut expired_skipped = 0u64;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let created: String = row.get(2)?;
        let expires: String = row.get(3)?;
        let created = parse_datetime(&created).map_err(|_| corrupt(&id, "created_at", &created))?;
        let expires = parse_datetime(&expires).map_err(|_| corrupt(&id, "expires_at", &expires))?;
        // ThyWill's own test: valid while `expires_at >= utcnow`.
        if expires < now && !options.include_expired {
            expired_skipped += 1;
            continue;
        }
        sessions.push(SessionEntry {
            session_id: id,
            username: row.get(1)?,
            created_at: py_isoformat(&created),
            expires_at: py_isoformat(&expires),
            ip_address: row.get(4)?,
            device_info: row.get(5)?,
            auth_request_id: row.get(6)?,
            is_fully_authenticated: row.get::<_, Option<bool>>(7)?.unwrap_or(true),
        });
    }
    progress_report(progress, "sessions", sessions.len() as u64, None)?;
    let file = SessionsFile {
        exported_at: py_isoformat(&chrono::Local::now().naive_local()),
        total_sessions: sessions.len() as u64,
        sessions,
    };
    let out = out.as_ref();
    write_private(out, &python_json(&file)?)?;
    let mut usernames: Vec<String> = file.sessions.iter().map(|s| s.username.clone()).collect();
    usernames.sort();
    usernames.dedup();
    Ok(SessionsExport {
        file: out.display().to_string(),
        schema,
        total_sessions: file.total_sessions,
        expired_skipped,
        usernames,
        sessions: file
            .sessions
            .iter()
            .map(|s| ExportedSession {
                id_prefix: id_prefix(&s.session_id),
                username: s.username.clone(),
                expires_at: s.expires_at.clone(),
            })
            .collect(),
    })
}

fn corrupt(id: &str, column: &str, value: &str) -> Error {
    Error::Corrupt(format!(
        "session {}: {column} {value:?} is not a datetime",
        id_prefix(id)
    ))
}

/// The document as Python's `json.dump(.., indent=2)` writes it: two-space indent, and
/// every character beyond ASCII escaped (`ensure_ascii`).
fn python_json(file: &SessionsFile) -> Result<String> {
    let pretty = serde_json::to_string_pretty(file)
        .map_err(|e| Error::Internal(format!("sessions JSON: {e}")))?;
    let mut out = String::with_capacity(pretty.len());
    for c in pretty.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    Ok(out)
}

/// Writes `content` to `path` through a private temp file (mode 0600 from its creation, so
/// the ids are never readable by others, not even for a moment), fsynced, renamed over
/// `path`, and the folder fsynced.
fn write_private(path: &Path, content: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::InvalidInput(format!("{}: not a file name", path.display())))?
        .to_string_lossy()
        .into_owned();
    let tmp = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(content.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(&folder)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}
