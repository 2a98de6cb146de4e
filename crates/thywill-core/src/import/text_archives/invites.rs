//! The invites phase: `system/invite_tokens.txt` (tokens, matched by token) and
//! `system/YYYY_MM_invite_usage.txt` (link creations and claims, matched by token, user
//! and minute).
//!
//! Like every phase after the ledgers, it creates no user: a row naming an unknown user is
//! still written, as ThyWill's unenforced foreign keys allow, but no `user` row is
//! invented. Rows are matched by their natural key or, for rows without one, by (key
//! fields, minute), so re-runs and runs against the live database insert nothing.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{Duration, NaiveDateTime};
use rusqlite::{params, Connection, OptionalExtension};

use super::roles::role_id;
use super::{execute_cached, query_row_cached, row_exists, ImportRun, Phase, PlannedFile};
use crate::archive::kind::FileKind;
use crate::archive::pipe::PipeFile;
use crate::archive::system::{InviteTokensFile, InviteUsageRecord};
use crate::db::encode::{format_datetime, minute_key};
use crate::import::report::{issue, Entity};
use crate::import::validate::refuse_names;
use crate::progress::report as progress_report;
use crate::Result;

/// Invite tokens expire 12 hours after creation (`INVITE_TOKEN_EXPIRATION_HOURS`).
const INVITE_HOURS: i64 = 12;

/// `system/invite_tokens.txt` and `system/YYYY_MM_invite_usage.txt`; also fills
/// `user.invite_token_used` and, for users who registered "directly" with an invite,
/// `user.invited_by_username` (the token's creator, or for a system token the admin
/// ThyWill's `get_admin_user_id` names); claiming a system token grants `admin`.
pub(super) fn import(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    // Tokens this run inserted: every claim line counts as a use of them, as in a
    // first import, even when the claim's own usage row was already there.
    let mut fresh: HashSet<String> = HashSet::new();
    for file in run.files_of_kind(Phase::Invites, FileKind::InviteTokens) {
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let (file, diags) = InviteTokensFile::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::InviteTokens, relative, &diags);
        for token in file.active.iter().chain(file.recently_expired.iter()) {
            if refuse_names(
                run.report,
                Entity::InviteTokens,
                relative,
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
            if row_exists(
                conn,
                "SELECT 1 FROM invitetoken WHERE token = ?1",
                &[&token.token],
            )? {
                run.report.counts_mut(Entity::InviteTokens).already_present += 1;
                continue;
            }
            let expires = token.expires_at.as_ref().map(|e| e.naive()).or_else(|| {
                token
                    .created_at
                    .as_ref()
                    .map(|c| c.naive() + Duration::hours(INVITE_HOURS))
            });
            let Some(expires) = expires else {
                run.report.skip(issue(
                    Entity::InviteTokens,
                    relative,
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
                // The token was made before it was claimed: 12 hours before it expires.
                claimer(
                    conn,
                    token.used_by_user_id.as_deref(),
                    &(expires - Duration::hours(INVITE_HOURS)),
                )?,
            )?;
            fresh.insert(token.token.clone());
            run.report.counts_mut(Entity::InviteTokens).inserted += 1;
        }
    }
    let files: Vec<&PlannedFile> = run
        .files_of_kind(Phase::Invites, FileKind::InviteUsage)
        .collect();
    let total = Some(files.len() as u64);
    // Link creation times, for the expiry of tokens known only from their use.
    let mut created: HashMap<String, NaiveDateTime> = HashMap::new();
    for (done, file) in files.iter().enumerate() {
        let relative = &file.relative;
        progress_report(run.progress, Phase::Invites.name(), done as u64, total)?;
        let bytes = run.read(file)?;
        let (file, diags) = PipeFile::<InviteUsageRecord>::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::InviteTokenUsage, relative, &diags);
        for record in file.records {
            if refuse_names(
                run.report,
                Entity::InviteTokenUsage,
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
                if row_exists(
                    conn,
                    "SELECT 1 FROM invitetoken WHERE token = ?1",
                    &[&record.token],
                )? {
                    run.report.counts_mut(Entity::InviteTokens).already_present += 1;
                } else {
                    insert_token(
                        conn,
                        &record.token,
                        &record.created_by,
                        0,
                        &(at + Duration::hours(INVITE_HOURS)),
                        None,
                        Claimer::NewOrNone,
                    )?;
                    fresh.insert(record.token.clone());
                    run.report.counts_mut(Entity::InviteTokens).inserted += 1;
                }
                continue;
            }
            let link_created = created.get(&record.token).copied();
            claim(conn, run, &record, &at, link_created, &mut fresh)?;
        }
    }
    Ok(())
}

/// What the text tells of a token's type: nothing beyond its creator and its claimer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Claimer {
    /// Not claimed, or claimed by a user it created.
    NewOrNone,
    /// Claimed by a user who had registered before the claim: a login link.
    Existing,
}

/// Who claimed a token: a user registered before `before` (a claim creates its user in
/// the claim's minute) was logging in with a link made for them.
fn claimer(conn: &Connection, used_by: Option<&str>, before: &NaiveDateTime) -> Result<Claimer> {
    let Some(user) = used_by.filter(|u| !u.is_empty() && *u != "None") else {
        return Ok(Claimer::NewOrNone);
    };
    let registered_before = row_exists(
        conn,
        "SELECT 1 FROM user WHERE display_name = ?1 \
         AND substr(replace(created_at, 'T', ' '), 1, 16) < ?2",
        &[&user, &minute_key(before)],
    )?;
    Ok(if registered_before {
        Claimer::Existing
    } else {
        Claimer::NewOrNone
    })
}

fn insert_token(
    conn: &Connection,
    token: &str,
    created_by: &str,
    usage_count: u64,
    expires: &NaiveDateTime,
    used_by: Option<&str>,
    claimer: Claimer,
) -> Result<()> {
    // The text has no token type; the creator and the claimer tell it.
    let token_type = if created_by == "system" {
        "admin"
    } else if used_by == Some(created_by) {
        "multi_device"
    } else if claimer == Claimer::Existing {
        "user_login"
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
    run: &mut ImportRun<'_>,
    record: &InviteUsageRecord,
    at: &NaiveDateTime,
    link_created: Option<NaiveDateTime>,
    fresh: &mut HashSet<String>,
) -> Result<()> {
    let present = row_exists(
        conn,
        "SELECT 1 FROM invite_token_usage WHERE invite_token_id = ?1 AND user_id = ?2 \
         AND substr(replace(claimed_at, 'T', ' '), 1, 16) = ?3",
        &[&record.token, &record.used_by, &minute_key(at)],
    )?;
    if present {
        run.report
            .counts_mut(Entity::InviteTokenUsage)
            .already_present += 1;
        // The token row and the claimer's links may still be missing (reconstruction
        // repairs them this way); adding only what is absent, this changes nothing on a
        // faithful database.
        if !row_exists(
            conn,
            "SELECT 1 FROM invitetoken WHERE token = ?1",
            &[&record.token],
        )? {
            token_from_use(conn, run, record, at, link_created)?;
            fresh.insert(record.token.clone());
        } else if fresh.contains(&record.token) {
            count_use(conn, record)?;
        }
        return link_claimer(conn, run, record, at, false);
    }
    execute_cached(
        conn,
        "INSERT INTO invite_token_usage (id, invite_token_id, user_id, claimed_at, ip_address) \
         VALUES (?1, ?2, ?3, ?4, NULL)",
        params![
            run.ids.uuid4_hex()?,
            record.token,
            record.used_by,
            format_datetime(at)
        ],
    )?;
    run.report.counts_mut(Entity::InviteTokenUsage).inserted += 1;
    // The token row: created from its use when the archive has no token list.
    let token_exists = row_exists(
        conn,
        "SELECT 1 FROM invitetoken WHERE token = ?1",
        &[&record.token],
    )?;
    if token_exists {
        // A new use of a known token (its usage row was absent above).
        count_use(conn, record)?;
    } else {
        token_from_use(conn, run, record, at, link_created)?;
        fresh.insert(record.token.clone());
    }
    link_claimer(conn, run, record, at, true)
}

/// A claim's use of its token: the claimer becomes its last user.
fn count_use(conn: &Connection, record: &InviteUsageRecord) -> Result<()> {
    execute_cached(conn,
        "UPDATE invitetoken SET usage_count = usage_count + \
         (CASE WHEN used_by_user_id IS ?1 THEN 0 ELSE 1 END), used_by_user_id = ?1 WHERE token = ?2",
        params![record.used_by, record.token],
    )?;
    Ok(())
}

/// A token row made from its use, when the archive has no token list naming it.
fn token_from_use(
    conn: &Connection,
    run: &mut ImportRun<'_>,
    record: &InviteUsageRecord,
    at: &NaiveDateTime,
    link_created: Option<NaiveDateTime>,
) -> Result<()> {
    let expires = link_created.unwrap_or(*at) + Duration::hours(INVITE_HOURS);
    insert_token(
        conn,
        &record.token,
        &record.created_by,
        1,
        &expires,
        Some(&record.used_by),
        claimer(conn, Some(&record.used_by), at)?,
    )?;
    run.report.counts_mut(Entity::InviteTokens).inserted += 1;
    Ok(())
}

/// The claimer's user row: the token used and, when the registration said "joined
/// directly", who invited them; for a system token, the admin grant (only with `grant`:
/// an existing claim's grant is the roles phase's to judge).
fn link_claimer(
    conn: &Connection,
    run: &mut ImportRun<'_>,
    record: &InviteUsageRecord,
    at: &NaiveDateTime,
    grant: bool,
) -> Result<()> {
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
    run.report.counts_mut(Entity::Users).updated += changed as u64;
    if grant && record.created_by == "system" {
        let admin = role_id(conn, run, "admin", at)?;
        let granted = row_exists(
            conn,
            "SELECT 1 FROM user_roles WHERE user_id = ?1 AND role_id = ?2",
            &[&record.used_by, &admin],
        )?;
        if granted {
            run.report.counts_mut(Entity::UserRoles).already_present += 1;
        } else {
            execute_cached(conn,
                "INSERT INTO user_roles (id, user_id, role_id, granted_by, granted_at, expires_at) \
                 VALUES (?1, ?2, ?3, NULL, ?4, NULL)",
                params![run.ids.uuid4_hex()?, record.used_by, admin, format_datetime(at)],
            )?;
            run.report.counts_mut(Entity::UserRoles).inserted += 1;
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
