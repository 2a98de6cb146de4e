//! The sessions phase: `sessions/YYYY_MM_sessions.txt`, live and export rows, matched by
//! session id.
//!
//! Like every phase after the ledgers, it creates no user: a row naming an unknown user is
//! still written, as ThyWill's unenforced foreign keys allow, but no `user` row is
//! invented. Rows are matched by their natural key or, for rows without one, by (key
//! fields, minute), so re-runs and runs against the live database insert nothing.

use std::path::Path;

use chrono::Duration;
use rusqlite::{params, Connection};

use super::{execute_cached, row_exists, ImportRun, Phase};
use crate::archive::kind::FileKind;
use crate::archive::sessions::SessionsFile;
use crate::db::encode::format_datetime;
use crate::import::report::{issue, Entity};
use crate::import::validate::refuse_names;
use crate::Result;

/// Sessions last 14 days.
const SESSION_DAYS: i64 = 14;

/// `sessions/YYYY_MM_sessions.txt` (live and export rows): inserted by session id,
/// never overwritten (a live session keeps its own values).
pub(super) fn import(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    for file in run.files_of_kind(Phase::Sessions, FileKind::Sessions) {
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let (file, diags) = SessionsFile::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::Sessions, relative, &diags);
        for s in file.records {
            if refuse_names(
                run.report,
                Entity::Sessions,
                relative,
                &bytes,
                [("session_id", &s.session_id), ("username", &s.username)],
            ) {
                continue;
            }
            if row_exists(
                conn,
                "SELECT 1 FROM session WHERE id = ?1",
                &[&s.session_id],
            )? {
                run.report.counts_mut(Entity::Sessions).already_present += 1;
                continue;
            }
            let Some(created) = s.created_at.time else {
                run.report.fail(issue(
                    Entity::Sessions,
                    relative,
                    None,
                    format!("session {}: unreadable creation time", s.session_id),
                ));
                continue;
            };
            let expires = s
                .expires_at
                .as_ref()
                .and_then(|e| e.time)
                .unwrap_or(created + Duration::days(SESSION_DAYS));
            execute_cached(conn,
                "INSERT INTO session (id, username, created_at, expires_at, auth_request_id, \
                 device_info, ip_address, is_fully_authenticated) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7)",
                params![
                    s.session_id,
                    s.username,
                    format_datetime(&created),
                    format_datetime(&expires),
                    s.device_info.filter(|d| !d.is_empty() && d != "unknown"),
                    s.ip_address.filter(|d| !d.is_empty() && d != "unknown"),
                    i64::from(s.is_fully_authenticated)
                ],
            )?;
            run.report.counts_mut(Entity::Sessions).inserted += 1;
        }
    }
    Ok(())
}
