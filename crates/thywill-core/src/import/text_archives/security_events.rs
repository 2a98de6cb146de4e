//! The security-events phase: `auth/YYYY_MM_security_events.txt` into `securitylog`.
//!
//! ThyWill writes two kinds of lines there. Events logged through its security log
//! (`ip_change`, `logout`, ...) are a `securitylog` row and a line each; they come back,
//! matched by (event, user, address, agent, details, minute) with multiplicity. Session
//! lifecycle events (`session_created`, `session_deleted`) are written to the file only,
//! never to the table: importing them would add rows the community never had, so they
//! are counted as skipped (the sessions they name come back through the sessions phase).
//!
//! Fixes of ThyWill's recovery: lines whose details hold `=` are read like any other (its
//! line filter dropped them all); rows are matched on their user (its key ignored the
//! user); no user is created from a logged name.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection};

use super::{execute_cached, query_row_cached, ImportRun, Phase};
use crate::archive::auth::SecurityEventRecord;
use crate::archive::kind::FileKind;
use crate::archive::pipe::PipeFile;
use crate::db::encode::{format_datetime, minute_key};
use crate::import::report::{issue, Entity};
use crate::import::validate::{refuse_fields, Rule};
use crate::Result;

/// The events ThyWill writes to the security-events file but never to `securitylog`.
pub(crate) const SESSION_LIFECYCLE_EVENTS: [&str; 2] = ["session_created", "session_deleted"];

/// A field ThyWill wrote from a Python `None` (`None` in the file) is NULL.
fn none_as_null(value: &str) -> Option<&str> {
    (value != "None").then_some(value)
}

/// `auth/YYYY_MM_security_events.txt`.
pub(super) fn import(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    // Lines seen per key in this run, for multiplicity.
    let mut seen: HashMap<[String; 6], u64> = HashMap::new();
    for file in run.files_of_kind(Phase::SecurityEvents, FileKind::SecurityEvents) {
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let (file, diags) =
            PipeFile::<SecurityEventRecord>::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::SecurityEvents, relative, &diags);
        let mut lifecycle = 0u64;
        for e in file.records {
            if SESSION_LIFECYCLE_EVENTS.contains(&e.event_type.as_str()) {
                lifecycle += 1;
                continue;
            }
            if refuse_fields(
                run.report,
                Entity::SecurityEvents,
                relative,
                &bytes,
                [
                    ("event_type", &e.event_type, Rule::Name),
                    ("user_id", &e.user_id, Rule::Name),
                    ("ip_address", &e.ip_address, Rule::Name),
                    ("user_agent", &e.user_agent, Rule::FreeText),
                    ("details", &e.details, Rule::FreeText),
                ],
            ) {
                continue;
            }
            let at = e.timestamp.naive();
            let minute = minute_key(&at);
            let user = none_as_null(&e.user_id);
            let ip = none_as_null(&e.ip_address);
            let agent = none_as_null(&e.user_agent);
            let details = none_as_null(&e.details);
            let key = [
                e.event_type.clone(),
                e.user_id.clone(),
                e.ip_address.clone(),
                e.user_agent.clone(),
                e.details.clone(),
                minute.clone(),
            ];
            let wanted = {
                let n = seen.entry(key).or_insert(0);
                *n += 1;
                *n
            };
            let present: i64 = query_row_cached(
                conn,
                "SELECT count(*) FROM securitylog WHERE event_type = ?1 AND user_id IS ?2 \
                 AND ip_address IS ?3 AND user_agent IS ?4 AND details IS ?5 \
                 AND substr(replace(created_at, 'T', ' '), 1, 16) = ?6",
                params![e.event_type, user, ip, agent, details, minute],
                |r| r.get(0),
            )?;
            if present >= wanted as i64 {
                run.report
                    .counts_mut(Entity::SecurityEvents)
                    .already_present += 1;
                continue;
            }
            execute_cached(
                conn,
                "INSERT INTO securitylog (id, event_type, user_id, ip_address, user_agent, \
                 details, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    run.ids.uuid4_hex()?,
                    e.event_type,
                    user,
                    ip,
                    agent,
                    details,
                    format_datetime(&at)
                ],
            )?;
            run.report.counts_mut(Entity::SecurityEvents).inserted += 1;
        }
        if lifecycle > 0 {
            run.report.counts_mut(Entity::SecurityEvents).skipped += lifecycle;
            run.report.note(issue(
                Entity::SecurityEvents,
                relative,
                None,
                format!(
                    "{lifecycle} session_created/session_deleted events not imported: ThyWill \
                     writes them to this file only, never to securitylog"
                ),
            ));
        }
    }
    Ok(())
}
