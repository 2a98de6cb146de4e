//! The auth-audit-log phase: the export's `authentication/auth_audit_logs.txt` into
//! `authauditlog`. ThyWill's live archives carry no audit log (it has no writer for one),
//! so only an export brings it back. The rows carry no id: they are matched by (request,
//! action, actor, minute) with multiplicity.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection};

use super::{execute_cached, query_row_cached, ImportRun, Phase};
use crate::archive::export::{ExportAuthAuditLog, ExportFile};
use crate::db::encode::{format_datetime, minute_key};
use crate::import::report::{issue, Entity};
use crate::import::validate::{refuse_fields, Rule};
use crate::Result;

/// `authentication/auth_audit_logs.txt`.
pub(super) fn import(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    let mut seen: HashMap<[String; 4], u64> = HashMap::new();
    for file in run.files(Phase::AuthAuditLogs) {
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let (file, diags) =
            ExportFile::<ExportAuthAuditLog>::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::AuthAuditLogs, relative, &diags);
        for row in file.rows {
            let actor = row.actor_user_id.as_deref().unwrap_or_default();
            if refuse_fields(
                run.report,
                Entity::AuthAuditLogs,
                relative,
                &bytes,
                [
                    ("auth_request_id", &row.auth_request_id, Rule::Name),
                    ("action", &row.action, Rule::Name),
                    ("actor_user_id", actor, Rule::Name),
                    (
                        "actor_type",
                        row.actor_type.as_deref().unwrap_or_default(),
                        Rule::Name,
                    ),
                    ("details", &row.details, Rule::FreeText),
                    (
                        "ip_address",
                        row.ip_address.as_deref().unwrap_or_default(),
                        Rule::Name,
                    ),
                    (
                        "user_agent",
                        row.user_agent.as_deref().unwrap_or_default(),
                        Rule::FreeText,
                    ),
                ],
            ) {
                continue;
            }
            let Some(at) = row.created_at.time else {
                run.report.fail(issue(
                    Entity::AuthAuditLogs,
                    relative,
                    None,
                    format!(
                        "audit log of request {}: unreadable time {:?}",
                        row.auth_request_id, row.created_at.text
                    ),
                ));
                continue;
            };
            let minute = minute_key(&at);
            let key = [
                row.auth_request_id.clone(),
                row.action.clone(),
                actor.to_string(),
                minute.clone(),
            ];
            let wanted = {
                let n = seen.entry(key).or_insert(0);
                *n += 1;
                *n
            };
            let present: i64 = query_row_cached(
                conn,
                "SELECT count(*) FROM authauditlog WHERE auth_request_id = ?1 AND action = ?2 \
                 AND actor_user_id IS ?3 AND substr(replace(created_at, 'T', ' '), 1, 16) = ?4",
                params![row.auth_request_id, row.action, row.actor_user_id, minute],
                |r| r.get(0),
            )?;
            if present >= wanted as i64 {
                run.report.counts_mut(Entity::AuthAuditLogs).already_present += 1;
                continue;
            }
            execute_cached(
                conn,
                "INSERT INTO authauditlog (id, auth_request_id, action, actor_user_id, actor_type, \
                 details, ip_address, user_agent, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    run.ids.uuid4_hex()?,
                    row.auth_request_id,
                    row.action,
                    row.actor_user_id,
                    row.actor_type,
                    (!row.details.is_empty()).then_some(row.details.as_str()),
                    row.ip_address,
                    row.user_agent,
                    format_datetime(&at)
                ],
            )?;
            run.report.counts_mut(Entity::AuthAuditLogs).inserted += 1;
        }
    }
    Ok(())
}
