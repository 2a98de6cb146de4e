//! The notifications phase: `auth/notifications/YYYY_MM_notifications.txt` (ThyWill's
//! writer exists but nothing calls it) and the export's `users/notification_states.txt`
//! into `notification_state`.
//!
//! A `created` line (or any action but `read`) is a notification, matched by (user,
//! request, type, minute) with multiplicity; a `read` line marks the oldest unread such
//! notification read at its time (or is one, read, when there is none). An export row
//! carries its id and is matched by it. No user is created from a notified name.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection};

use super::{execute_cached, query_row_cached, row_exists, ImportRun, Phase};
use crate::archive::auth::NotificationRecord;
use crate::archive::export::{ExportFile, ExportNotificationState};
use crate::archive::kind::FileKind;
use crate::archive::pipe::PipeFile;
use crate::db::encode::{format_datetime, minute_key};
use crate::import::report::{issue, Entity};
use crate::import::validate::{refuse_fields, Rule};
use crate::Result;

/// `auth/notifications/YYYY_MM_notifications.txt`, then `users/notification_states.txt`.
pub(super) fn import(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    let mut seen: HashMap<[String; 4], u64> = HashMap::new();
    for file in run.files_of_kind(Phase::Notifications, FileKind::Notifications) {
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let (file, diags) =
            PipeFile::<NotificationRecord>::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::Notifications, relative, &diags);
        for n in file.records {
            if refuse_fields(
                run.report,
                Entity::Notifications,
                relative,
                &bytes,
                [
                    ("user_id", &n.user_id, Rule::Name),
                    ("auth_request_id", &n.auth_request_id, Rule::Name),
                    ("notification_type", &n.notification_type, Rule::Name),
                    ("action", &n.action, Rule::Name),
                ],
            ) {
                continue;
            }
            let at = n.timestamp.naive();
            let minute = minute_key(&at);
            let kind = if n.notification_type.is_empty() {
                "auth_request"
            } else {
                n.notification_type.as_str()
            };
            if n.action.eq_ignore_ascii_case("read") {
                read_line(conn, run, &n, kind, &at)?;
                continue;
            }
            let key = [
                n.user_id.clone(),
                n.auth_request_id.clone(),
                kind.to_string(),
                minute.clone(),
            ];
            let wanted = {
                let count = seen.entry(key).or_insert(0);
                *count += 1;
                *count
            };
            let present: i64 = query_row_cached(
                conn,
                "SELECT count(*) FROM notification_state WHERE user_id = ?1 \
                 AND auth_request_id = ?2 AND notification_type = ?3 \
                 AND substr(replace(created_at, 'T', ' '), 1, 16) = ?4",
                params![n.user_id, n.auth_request_id, kind, minute],
                |r| r.get(0),
            )?;
            if present >= wanted as i64 {
                run.report.counts_mut(Entity::Notifications).already_present += 1;
                continue;
            }
            insert(conn, run, &n.user_id, &n.auth_request_id, kind, &at, None)?;
        }
    }
    for file in run.files(Phase::Notifications) {
        if file.kind != FileKind::ExportData {
            continue;
        }
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let (file, diags) =
            ExportFile::<ExportNotificationState>::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::Notifications, relative, &diags);
        for row in file.rows {
            if refuse_fields(
                run.report,
                Entity::Notifications,
                relative,
                &bytes,
                [
                    ("id", &row.id, Rule::Name),
                    ("user_id", &row.user_id, Rule::Name),
                    ("auth_request_id", &row.auth_request_id, Rule::Name),
                    ("notification_type", &row.notification_type, Rule::Name),
                ],
            ) {
                continue;
            }
            if row_exists(
                conn,
                "SELECT 1 FROM notification_state WHERE id = ?1",
                &[&row.id],
            )? {
                run.report.counts_mut(Entity::Notifications).already_present += 1;
                continue;
            }
            let Some(created) = row.created_at.time else {
                run.report.fail(issue(
                    Entity::Notifications,
                    relative,
                    None,
                    format!("notification {}: unreadable creation time", row.id),
                ));
                continue;
            };
            let read_at = row.read_at.as_ref().and_then(|t| t.time);
            execute_cached(
                conn,
                "INSERT INTO notification_state (id, user_id, auth_request_id, notification_type, \
                 is_read, created_at, read_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    row.id,
                    row.user_id,
                    row.auth_request_id,
                    row.notification_type,
                    i64::from(row.is_read),
                    format_datetime(&created),
                    read_at.as_ref().map(format_datetime)
                ],
            )?;
            run.report.counts_mut(Entity::Notifications).inserted += 1;
        }
    }
    Ok(())
}

/// A `read` line: the notification it reads, marked read at its time.
fn read_line(
    conn: &Connection,
    run: &mut ImportRun<'_>,
    n: &NotificationRecord,
    kind: &str,
    at: &chrono::NaiveDateTime,
) -> Result<()> {
    let already = row_exists(
        conn,
        "SELECT 1 FROM notification_state WHERE user_id = ?1 AND auth_request_id = ?2 \
         AND notification_type = ?3 AND is_read = 1 \
         AND substr(replace(read_at, 'T', ' '), 1, 16) = ?4",
        &[&n.user_id, &n.auth_request_id, &kind, &minute_key(at)],
    )?;
    if already {
        run.report.counts_mut(Entity::Notifications).already_present += 1;
        return Ok(());
    }
    let changed = execute_cached(
        conn,
        "UPDATE notification_state SET is_read = 1, read_at = ?4 WHERE id = (\
         SELECT id FROM notification_state WHERE user_id = ?1 AND auth_request_id = ?2 \
         AND notification_type = ?3 AND is_read = 0 ORDER BY created_at LIMIT 1)",
        params![n.user_id, n.auth_request_id, kind, format_datetime(at)],
    )?;
    if changed > 0 {
        run.report.counts_mut(Entity::Notifications).updated += 1;
        return Ok(());
    }
    insert(
        conn,
        run,
        &n.user_id,
        &n.auth_request_id,
        kind,
        at,
        Some(at),
    )
}

fn insert(
    conn: &Connection,
    run: &mut ImportRun<'_>,
    user: &str,
    request: &str,
    kind: &str,
    at: &chrono::NaiveDateTime,
    read_at: Option<&chrono::NaiveDateTime>,
) -> Result<()> {
    execute_cached(
        conn,
        "INSERT INTO notification_state (id, user_id, auth_request_id, notification_type, \
         is_read, created_at, read_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            run.ids.uuid4_hex()?,
            user,
            request,
            kind,
            i64::from(read_at.is_some()),
            format_datetime(at),
            read_at.map(format_datetime)
        ],
    )?;
    run.report.counts_mut(Entity::Notifications).inserted += 1;
    Ok(())
}
