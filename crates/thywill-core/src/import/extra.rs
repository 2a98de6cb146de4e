//! Roles and grants, invite tokens and their use, sessions, authentication requests and
//! approvals from text archives (their parsers live in `crate::archive`).
//!
//! None of these files creates users (spec §6.2): a row naming an unknown user is still
//! written, as ThyWill's unenforced foreign keys allow, but no `user` row is invented.
//! Every row is matched by its natural key (role name, session id, token) or, for rows
//! without one, by (key fields, minute), so re-runs and runs against the live database
//! insert nothing.

use std::collections::HashMap;
use std::path::Path;

use chrono::{Duration, NaiveDateTime};
use rusqlite::{params, Connection, OptionalExtension};

use super::report::{entity, issue};
use super::text_archives::{Ctx, Phase, PlannedFile};
use crate::archive::auth::{AuthApprovalRecord, AuthRequestRecord};
use crate::archive::diagnostics::Diagnostic;
use crate::archive::fileops::read_listed_file;
use crate::archive::kind::FileKind;
use crate::archive::pipe::PipeFile;
use crate::archive::roles::{RoleAssignmentRecord, RoleDefinitionsFile};
use crate::archive::sessions::SessionsFile;
use crate::archive::system::{InviteTokensFile, InviteUsageRecord};
use crate::db::encode::{format_datetime, minute_key};
use crate::db::schema::{ensure_role, DefaultRole, DEACTIVATED_ROLE, DEFAULT_ROLES};
use crate::progress::report as progress_report;
use crate::pycompat::json::py_json_str_list;
use crate::Result;

/// Invite tokens expire 12 hours after creation (`INVITE_TOKEN_EXPIRATION_HOURS`).
const INVITE_HOURS: i64 = 12;
/// Authentication requests expire after 7 days.
const AUTH_REQUEST_DAYS: i64 = 7;
/// Sessions last 14 days.
const SESSION_DAYS: i64 = 14;

fn note_diagnostics(ctx: &mut Ctx<'_>, entity: &str, relative: &str, diags: &[Diagnostic]) {
    for d in diags {
        ctx.report.note(issue(
            entity,
            relative,
            (d.line > 0).then_some(d.line as u64),
            d.reason.clone(),
        ));
    }
}

fn files_of(ctx: &Ctx<'_>, phase: Phase, kind: FileKind) -> Vec<PlannedFile> {
    ctx.files(phase)
        .filter(|f| f.kind == kind)
        .cloned()
        .collect()
}

fn read(ctx: &Ctx<'_>, file: &PlannedFile) -> Result<Vec<u8>> {
    read_listed_file(&ctx.root.join(&file.path), file.via_link)
}

/// `Connection::execute` through the statement cache: these run once per archive
/// record, and preparing the SQL each time cost more than running it.
fn execute_cached(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(args)
}

/// `Connection::query_row` through the statement cache (see [`execute_cached`]).
fn query_row_cached<T>(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
    map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(args, map)
}

fn minute_matches(conn: &Connection, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<bool> {
    Ok(conn.prepare_cached(sql)?.exists(args)?)
}

/// The id of the role `name`, creating it when absent (ThyWill's own definitions for the
/// built-in names, an empty permission list otherwise).
fn role_id(conn: &Connection, ctx: &mut Ctx<'_>, name: &str, at: &NaiveDateTime) -> Result<String> {
    let found: Option<String> = conn
        .prepare_cached("SELECT id FROM role WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let builtin = DEFAULT_ROLES
        .iter()
        .chain([&DEACTIVATED_ROLE])
        .find(|r| r.name == name)
        .copied();
    let role = builtin.unwrap_or(DefaultRole {
        name: "",
        description: "",
        permissions: "[]",
    });
    if builtin.is_some() {
        ensure_role(conn, ctx.ids, &role, at)?;
    } else {
        execute_cached(conn,
            "INSERT INTO role (id, name, description, permissions, created_at, created_by, is_system_role) \
             VALUES (?1, ?2, NULL, '[]', ?3, NULL, 0)",
            params![ctx.ids.uuid4_hex()?, name, format_datetime(at)],
        )?;
    }
    ctx.report.counts_mut(entity::ROLES).inserted += 1;
    Ok(query_row_cached(
        conn,
        "SELECT id FROM role WHERE name = ?1",
        [name],
        |r| r.get(0),
    )?)
}

/// `roles/role_definitions.txt` and `roles/YYYY_MM_role_assignments.txt`.
pub(crate) fn roles(conn: &Connection, ctx: &mut Ctx<'_>) -> Result<()> {
    let now = chrono::Utc::now().naive_utc();
    for file in files_of(ctx, Phase::Roles, FileKind::RoleDefinitions) {
        let relative = file.relative.clone();
        let bytes = read(ctx, &file)?;
        let (file, diags) = RoleDefinitionsFile::parse(&bytes, Some(Path::new(&relative)));
        note_diagnostics(ctx, entity::ROLES, &relative, &diags);
        for role in file.roles {
            if super::validate::refuse_names(
                ctx.report,
                entity::ROLES,
                &relative,
                &bytes,
                [("name", &role.name), ("created_by", &role.created_by)],
            ) {
                continue;
            }
            let exists = minute_matches(conn, "SELECT 1 FROM role WHERE name = ?1", &[&role.name])?;
            if exists {
                ctx.report.counts_mut(entity::ROLES).already_present += 1;
                continue;
            }
            execute_cached(conn,
                "INSERT INTO role (id, name, description, permissions, created_at, created_by, is_system_role) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    ctx.ids.uuid4_hex()?,
                    role.name,
                    (!role.description.is_empty()).then_some(role.description.as_str()),
                    py_json_str_list(&role.permissions),
                    format_datetime(&now),
                    (!role.created_by.is_empty()).then_some(role.created_by.as_str()),
                    i64::from(role.is_system_role)
                ],
            )?;
            ctx.report.counts_mut(entity::ROLES).inserted += 1;
        }
    }
    for file in files_of(ctx, Phase::Roles, FileKind::RoleAssignments) {
        let relative = file.relative.clone();
        let bytes = read(ctx, &file)?;
        let (file, diags) =
            PipeFile::<RoleAssignmentRecord>::parse(&bytes, Some(Path::new(&relative)));
        note_diagnostics(ctx, entity::USER_ROLES, &relative, &diags);
        for record in file.records {
            if super::validate::refuse_names(
                ctx.report,
                entity::USER_ROLES,
                &relative,
                &bytes,
                [
                    ("user_id", &record.user_id),
                    ("role_name", &record.role_name),
                    ("granted_by", &record.granted_by),
                ],
            ) {
                continue;
            }
            let at = record.timestamp.naive();
            let role = role_id(conn, ctx, &record.role_name, &at)?;
            let action = record.action.to_ascii_lowercase();
            if action == "assigned" || action == "granted" {
                // Reactivation ends the deactivation grant (`user_management.py:175-185`).
                if record.role_name != DEACTIVATED_ROLE.name
                    && record.details.to_ascii_lowercase().contains("reactivat")
                {
                    let deactivated = role_id(conn, ctx, DEACTIVATED_ROLE.name, &at)?;
                    let changed = execute_cached(conn,
                        "UPDATE user_roles SET expires_at = ?1 WHERE user_id = ?2 AND role_id = ?3 \
                         AND expires_at IS NULL AND granted_at <= ?1",
                        params![format_datetime(&at), record.user_id, deactivated],
                    )?;
                    ctx.report.counts_mut(entity::USER_ROLES).updated += changed as u64;
                }
                let present = minute_matches(
                    conn,
                    "SELECT 1 FROM user_roles WHERE user_id = ?1 AND role_id = ?2 \
                     AND substr(replace(granted_at, 'T', ' '), 1, 16) = ?3",
                    &[&record.user_id, &role, &minute_key(&at)],
                )?;
                if present {
                    ctx.report.counts_mut(entity::USER_ROLES).already_present += 1;
                    continue;
                }
                execute_cached(conn,
                    "INSERT INTO user_roles (id, user_id, role_id, granted_by, granted_at, expires_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        ctx.ids.uuid4_hex()?,
                        record.user_id,
                        role,
                        (!record.granted_by.is_empty()).then_some(record.granted_by.as_str()),
                        format_datetime(&at),
                        record.expires_at.as_ref().map(|e| format_datetime(&e.naive()))
                    ],
                )?;
                ctx.report.counts_mut(entity::USER_ROLES).inserted += 1;
            } else {
                // Removal: end the active grant of that role.
                let changed = execute_cached(
                    conn,
                    "UPDATE user_roles SET expires_at = ?1 WHERE user_id = ?2 AND role_id = ?3 \
                     AND expires_at IS NULL",
                    params![format_datetime(&at), record.user_id, role],
                )?;
                let counts = ctx.report.counts_mut(entity::USER_ROLES);
                if changed > 0 {
                    counts.updated += changed as u64;
                } else {
                    counts.already_present += 1;
                }
            }
        }
    }
    Ok(())
}

/// `system/invite_tokens.txt` and `system/YYYY_MM_invite_usage.txt`; also fills
/// `user.invite_token_used` and, for users who registered "directly" with an invite,
/// `user.invited_by_username` (the token's creator, or for a system token the admin
/// ThyWill's `get_admin_user_id` names); claiming a system token grants `admin`.
pub(crate) fn invites(conn: &Connection, ctx: &mut Ctx<'_>) -> Result<()> {
    for file in files_of(ctx, Phase::Invites, FileKind::InviteTokens) {
        let relative = file.relative.clone();
        let bytes = read(ctx, &file)?;
        let (file, diags) = InviteTokensFile::parse(&bytes, Some(Path::new(&relative)));
        note_diagnostics(ctx, entity::INVITE_TOKENS, &relative, &diags);
        for token in file.active.iter().chain(file.recently_expired.iter()) {
            if super::validate::refuse_names(
                ctx.report,
                entity::INVITE_TOKENS,
                &relative,
                &bytes,
                [
                    ("token", &token.token),
                    ("created_by_user", &token.created_by_user),
                    (
                        "used_by_user_id",
                        token.used_by_user_id.as_deref().unwrap_or_default(),
                    ),
                ],
            ) {
                continue;
            }
            if minute_matches(
                conn,
                "SELECT 1 FROM invitetoken WHERE token = ?1",
                &[&token.token],
            )? {
                ctx.report.counts_mut(entity::INVITE_TOKENS).already_present += 1;
                continue;
            }
            let expires = token.expires_at.as_ref().map(|e| e.naive()).or_else(|| {
                token
                    .created_at
                    .as_ref()
                    .map(|c| c.naive() + Duration::hours(INVITE_HOURS))
            });
            let Some(expires) = expires else {
                ctx.report.skip(issue(
                    entity::INVITE_TOKENS,
                    &relative,
                    None,
                    format!("token {} has no expiry or creation time", token.token),
                ));
                continue;
            };
            insert_token(
                conn,
                &token.token,
                &token.created_by_user,
                u64::from(token.used),
                &expires,
                token.used_by_user_id.as_deref().filter(|u| !u.is_empty()),
            )?;
            ctx.report.counts_mut(entity::INVITE_TOKENS).inserted += 1;
        }
    }
    let files = files_of(ctx, Phase::Invites, FileKind::InviteUsage);
    let total = Some(files.len() as u64);
    // Link creation times, for the expiry of tokens known only from their use.
    let mut created: HashMap<String, NaiveDateTime> = HashMap::new();
    for (done, file) in files.iter().enumerate() {
        let relative = &file.relative;
        progress_report(ctx.progress, "invites", done as u64, total)?;
        let bytes = read(ctx, file)?;
        let (file, diags) = PipeFile::<InviteUsageRecord>::parse(&bytes, Some(Path::new(relative)));
        note_diagnostics(ctx, entity::INVITE_TOKEN_USAGE, relative, &diags);
        for record in file.records {
            if super::validate::refuse_names(
                ctx.report,
                entity::INVITE_TOKEN_USAGE,
                relative,
                &bytes,
                [
                    ("token", &record.token),
                    ("used_by", &record.used_by),
                    ("created_by", &record.created_by),
                ],
            ) {
                continue;
            }
            let at = record.timestamp.naive();
            if record.is_link_creation() {
                created.entry(record.token.clone()).or_insert(at);
                // A link that was never used exists only as this line.
                if minute_matches(
                    conn,
                    "SELECT 1 FROM invitetoken WHERE token = ?1",
                    &[&record.token],
                )? {
                    ctx.report.counts_mut(entity::INVITE_TOKENS).already_present += 1;
                } else {
                    insert_token(
                        conn,
                        &record.token,
                        &record.created_by,
                        0,
                        &(at + Duration::hours(INVITE_HOURS)),
                        None,
                    )?;
                    ctx.report.counts_mut(entity::INVITE_TOKENS).inserted += 1;
                }
                continue;
            }
            claim(conn, ctx, &record, &at, created.get(&record.token).copied())?;
        }
    }
    Ok(())
}

fn insert_token(
    conn: &Connection,
    token: &str,
    created_by: &str,
    usage_count: u64,
    expires: &NaiveDateTime,
    used_by: Option<&str>,
) -> Result<()> {
    // The text has no token type; the creator tells most of it.
    let token_type = if created_by == "system" {
        "admin"
    } else if used_by == Some(created_by) {
        "multi_device"
    } else {
        "new_user"
    };
    execute_cached(
        conn,
        "INSERT INTO invitetoken (token, created_by_user, usage_count, max_uses, expires_at, \
         used_by_user_id, token_type) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)",
        params![
            token,
            created_by,
            usage_count as i64,
            format_datetime(expires),
            used_by,
            token_type
        ],
    )?;
    Ok(())
}

fn claim(
    conn: &Connection,
    ctx: &mut Ctx<'_>,
    record: &InviteUsageRecord,
    at: &NaiveDateTime,
    link_created: Option<NaiveDateTime>,
) -> Result<()> {
    let present = minute_matches(
        conn,
        "SELECT 1 FROM invite_token_usage WHERE invite_token_id = ?1 AND user_id = ?2 \
         AND substr(replace(claimed_at, 'T', ' '), 1, 16) = ?3",
        &[&record.token, &record.used_by, &minute_key(at)],
    )?;
    if present {
        ctx.report
            .counts_mut(entity::INVITE_TOKEN_USAGE)
            .already_present += 1;
        return Ok(());
    }
    execute_cached(
        conn,
        "INSERT INTO invite_token_usage (id, invite_token_id, user_id, claimed_at, ip_address) \
         VALUES (?1, ?2, ?3, ?4, NULL)",
        params![
            ctx.ids.uuid4_hex()?,
            record.token,
            record.used_by,
            format_datetime(at)
        ],
    )?;
    ctx.report.counts_mut(entity::INVITE_TOKEN_USAGE).inserted += 1;
    // The token row: created from its use when the archive has no token list.
    let token_exists = minute_matches(
        conn,
        "SELECT 1 FROM invitetoken WHERE token = ?1",
        &[&record.token],
    )?;
    if token_exists {
        // A new use of a known token (its usage row was absent above).
        execute_cached(conn,
            "UPDATE invitetoken SET usage_count = usage_count + \
             (CASE WHEN used_by_user_id IS ?1 THEN 0 ELSE 1 END), used_by_user_id = ?1 WHERE token = ?2",
            params![record.used_by, record.token],
        )?;
    } else {
        let expires = link_created.unwrap_or(*at) + Duration::hours(INVITE_HOURS);
        insert_token(
            conn,
            &record.token,
            &record.created_by,
            1,
            &expires,
            Some(&record.used_by),
        )?;
        ctx.report.counts_mut(entity::INVITE_TOKENS).inserted += 1;
    }
    // The claimer's user row: the token used and, when the registration said
    // "joined directly", who invited them.
    if record.used_by == record.created_by {
        return Ok(());
    }
    let inviter = if record.created_by == "system" {
        admin_user(conn, &record.used_by)?
    } else {
        Some(record.created_by.clone())
    };
    let changed = execute_cached(conn,
        "UPDATE user SET invite_token_used = coalesce(invite_token_used, ?1), \
         invited_by_username = coalesce(invited_by_username, ?2) \
         WHERE display_name = ?3 AND (invite_token_used IS NULL OR (invited_by_username IS NULL AND ?2 IS NOT NULL))",
        params![record.token, inviter, record.used_by],
    )?;
    ctx.report.counts_mut(entity::USERS).updated += changed as u64;
    if record.created_by == "system" {
        let admin = role_id(conn, ctx, "admin", at)?;
        let granted = minute_matches(
            conn,
            "SELECT 1 FROM user_roles WHERE user_id = ?1 AND role_id = ?2",
            &[&record.used_by, &admin],
        )?;
        if granted {
            ctx.report.counts_mut(entity::USER_ROLES).already_present += 1;
        } else {
            execute_cached(conn,
                "INSERT INTO user_roles (id, user_id, role_id, granted_by, granted_at, expires_at) \
                 VALUES (?1, ?2, ?3, NULL, ?4, NULL)",
                params![ctx.ids.uuid4_hex()?, record.used_by, admin, format_datetime(at)],
            )?;
            ctx.report.counts_mut(entity::USER_ROLES).inserted += 1;
        }
    }
    Ok(())
}

/// ThyWill's `get_admin_user_id`: the user named `admin`, else the earliest user; `None`
/// when that is the claimer itself (the first admin has no inviter).
fn admin_user(conn: &Connection, claimer: &str) -> Result<Option<String>> {
    let named: Option<String> = query_row_cached(
        conn,
        "SELECT display_name FROM user WHERE display_name = 'admin'",
        [],
        |r| r.get(0),
    )
    .optional()?;
    let admin = match named {
        Some(a) => Some(a),
        None => query_row_cached(
            conn,
            "SELECT display_name FROM user ORDER BY created_at, rowid LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?,
    };
    Ok(admin.filter(|a: &String| a != claimer))
}

/// `sessions/YYYY_MM_sessions.txt` (live and export rows): inserted by session id,
/// never overwritten (a live session keeps its own values).
pub(crate) fn sessions(conn: &Connection, ctx: &mut Ctx<'_>) -> Result<()> {
    for file in files_of(ctx, Phase::Sessions, FileKind::Sessions) {
        let relative = file.relative.clone();
        let bytes = read(ctx, &file)?;
        let (file, diags) = SessionsFile::parse(&bytes, Some(Path::new(&relative)));
        note_diagnostics(ctx, entity::SESSIONS, &relative, &diags);
        for s in file.records {
            if super::validate::refuse_names(
                ctx.report,
                entity::SESSIONS,
                &relative,
                &bytes,
                [("session_id", &s.session_id), ("username", &s.username)],
            ) {
                continue;
            }
            if minute_matches(
                conn,
                "SELECT 1 FROM session WHERE id = ?1",
                &[&s.session_id],
            )? {
                ctx.report.counts_mut(entity::SESSIONS).already_present += 1;
                continue;
            }
            let Some(created) = s.created_at.time else {
                ctx.report.fail(issue(
                    entity::SESSIONS,
                    &relative,
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
            ctx.report.counts_mut(entity::SESSIONS).inserted += 1;
        }
    }
    Ok(())
}

/// `auth/YYYY_MM_auth_requests.txt` (no request id in the live format: matched by user
/// and minute) and `auth/YYYY_MM_auth_approvals.txt` (matched by request and approver).
pub(crate) fn auth(conn: &Connection, ctx: &mut Ctx<'_>) -> Result<()> {
    for file in files_of(ctx, Phase::Auth, FileKind::AuthRequests) {
        let relative = file.relative.clone();
        let bytes = read(ctx, &file)?;
        let (file, diags) =
            PipeFile::<AuthRequestRecord>::parse(&bytes, Some(Path::new(&relative)));
        note_diagnostics(ctx, entity::AUTH_REQUESTS, &relative, &diags);
        for r in file.records {
            if super::validate::refuse_names(
                ctx.report,
                entity::AUTH_REQUESTS,
                &relative,
                &bytes,
                [("user_id", &r.user_id)],
            ) {
                continue;
            }
            let at = r.timestamp.naive();
            let present = minute_matches(
                conn,
                "SELECT 1 FROM authenticationrequest WHERE user_id = ?1 \
                 AND substr(replace(created_at, 'T', ' '), 1, 16) = ?2",
                &[&r.user_id, &minute_key(&at)],
            )?;
            if present {
                ctx.report.counts_mut(entity::AUTH_REQUESTS).already_present += 1;
                continue;
            }
            let expires = r
                .expires_at
                .as_ref()
                .map(|e| e.naive())
                .unwrap_or(at + Duration::days(AUTH_REQUEST_DAYS));
            execute_cached(conn,
                "INSERT INTO authenticationrequest (id, user_id, device_info, ip_address, \
                 verification_code, created_at, expires_at, status, approved_by_user_id, approved_at) \
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, NULL, NULL)",
                params![
                    ctx.ids.uuid4_hex()?,
                    r.user_id,
                    (!r.device_info.is_empty()).then_some(r.device_info.as_str()),
                    (!r.ip_address.is_empty()).then_some(r.ip_address.as_str()),
                    format_datetime(&at),
                    format_datetime(&expires),
                    if r.status.is_empty() { "pending" } else { r.status.as_str() }
                ],
            )?;
            ctx.report.counts_mut(entity::AUTH_REQUESTS).inserted += 1;
        }
    }
    for file in files_of(ctx, Phase::Auth, FileKind::AuthApprovals) {
        let relative = file.relative.clone();
        let bytes = read(ctx, &file)?;
        let (file, diags) =
            PipeFile::<AuthApprovalRecord>::parse(&bytes, Some(Path::new(&relative)));
        note_diagnostics(ctx, entity::AUTH_APPROVALS, &relative, &diags);
        for a in file.records {
            if super::validate::refuse_names(
                ctx.report,
                entity::AUTH_APPROVALS,
                &relative,
                &bytes,
                [
                    ("auth_request_id", &a.auth_request_id),
                    ("approver_user_id", &a.approver_user_id),
                ],
            ) {
                continue;
            }
            if !a.action.eq_ignore_ascii_case("approved") {
                ctx.report.counts_mut(entity::AUTH_APPROVALS).skipped += 1;
                continue;
            }
            let present = minute_matches(
                conn,
                "SELECT 1 FROM authapproval WHERE auth_request_id = ?1 AND approver_user_id = ?2",
                &[&a.auth_request_id, &a.approver_user_id],
            )?;
            if present {
                ctx.report
                    .counts_mut(entity::AUTH_APPROVALS)
                    .already_present += 1;
                continue;
            }
            execute_cached(
                conn,
                "INSERT INTO authapproval (id, auth_request_id, approver_user_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    ctx.ids.uuid4_hex()?,
                    a.auth_request_id,
                    a.approver_user_id,
                    format_datetime(&a.timestamp.naive())
                ],
            )?;
            ctx.report.counts_mut(entity::AUTH_APPROVALS).inserted += 1;
        }
    }
    Ok(())
}
