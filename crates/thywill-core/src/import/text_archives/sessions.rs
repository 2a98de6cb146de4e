//! The sessions phase: `sessions/YYYY_MM_sessions.txt`, live and export rows, matched by
//! session id; then the addresses of invite claims, from the sessions the claims created.
//!
//! Like every phase after the ledgers, it creates no user: a row naming an unknown user is
//! still written, as ThyWill's unenforced foreign keys allow, but no `user` row is
//! invented. Rows are matched by their natural key or, for rows without one, by (key
//! fields, minute), so re-runs and runs against the live database insert nothing.

use std::cell::Cell;
use std::collections::HashMap;
use std::path::Path;

use chrono::{Duration, NaiveDateTime, Timelike};
use rusqlite::{params, Connection};

use super::{execute_cached, row_exists, ImportRun, Phase};
use crate::archive::kind::FileKind;
use crate::archive::sessions::SessionsFile;
use crate::db::encode::{format_datetime, minute_of_stored};
use crate::import::report::{issue, Entity};
use crate::import::validate::refuse_names;
use crate::Result;

/// Which archived sessions may come back: those no later `session_deleted` security
/// event ended and that have not expired at `as_of` (reconstruction's rule; a plain
/// import brings every archived session back). Counts what it turned away.
#[derive(Debug)]
pub(crate) struct SessionFilter {
    /// Session ids with the time of the latest `session_deleted` event naming them.
    pub ended: HashMap<String, NaiveDateTime>,
    /// Sessions expiring at or before this time are not brought back.
    pub as_of: NaiveDateTime,
    /// Sessions turned away because an event ended them.
    pub turned_away_ended: Cell<u64>,
    /// Sessions turned away because they had expired.
    pub turned_away_expired: Cell<u64>,
}

impl SessionFilter {
    /// Whether a session created at `created`, expiring at `expires`, may come back.
    fn admits(&self, id: &str, created: NaiveDateTime, expires: NaiveDateTime) -> bool {
        // An event in the session's creation minute may end it (the file's times carry
        // minutes only).
        let created_minute = created - Duration::seconds(i64::from(created.second()));
        if self.ended.get(id).is_some_and(|at| *at >= created_minute) {
            self.turned_away_ended.set(self.turned_away_ended.get() + 1);
            return false;
        }
        if expires <= self.as_of {
            self.turned_away_expired
                .set(self.turned_away_expired.get() + 1);
            return false;
        }
        true
    }
}

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
            if let Some(filter) = run.session_filter {
                if !filter.admits(&s.session_id, created, expires) {
                    run.report.counts_mut(Entity::Sessions).skipped += 1;
                    continue;
                }
            }
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
    fill_claim_addresses(conn, run)
}

/// The address of an invite claim, which its usage line does not carry: claiming a token
/// signs the claimer in, so the session of that user created in the claim's minute has it
/// (when exactly one address fits; never overwritten).
fn fill_claim_addresses(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    let mut addresses: HashMap<(String, String), Option<String>> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT username, created_at, ip_address FROM session WHERE ip_address IS NOT NULL",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let created: String = row.get(1)?;
            let ip: String = row.get(2)?;
            addresses
                .entry((row.get(0)?, minute_of_stored(&created)))
                .and_modify(|seen| {
                    if seen.as_deref() != Some(ip.as_str()) {
                        // Two addresses in one minute: which one claimed is unknown.
                        *seen = None;
                    }
                })
                .or_insert(Some(ip));
        }
    }
    if addresses.is_empty() {
        return Ok(());
    }
    let unknown: Vec<(String, String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT id, user_id, claimed_at FROM invite_token_usage WHERE ip_address IS NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    for (id, user, claimed) in unknown {
        if let Some(Some(ip)) = addresses.get(&(user, minute_of_stored(&claimed))) {
            execute_cached(
                conn,
                "UPDATE invite_token_usage SET ip_address = ?1 WHERE id = ?2",
                params![ip, id],
            )?;
            run.report.counts_mut(Entity::InviteTokenUsage).updated += 1;
        }
    }
    Ok(())
}
