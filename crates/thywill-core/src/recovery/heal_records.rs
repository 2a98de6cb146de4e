//! The records of `heal-archives` kept outside the prayer, user and ledger files: role
//! definitions, invite tokens, live sessions, authentication requests and approvals, and
//! security events.
//!
//! Each kind is found in the archive by parsing its files and matched with the database
//! by its natural key (a role by name, a token by token, a session by id) or, for the
//! pipe files whose lines carry no id, by (key fields, minute) with multiplicity. What is
//! missing is planned here and written by heal's apply step: monthly lines through the
//! `flock`-ed appends, the two snapshot files (`roles/role_definitions.txt`,
//! `system/invite_tokens.txt`) rewritten whole, atomically, keeping the lines and the
//! stamp they have.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDateTime;
use rusqlite::Connection;

use super::heal::{
    one_line, table_exists, time_of, ArchivedRecordsHealCounts, HealChange, HealChangeKind,
    HealOptions, LedgerPolicy, MinuteMatcher, RecordHealCounts,
};
use crate::archive::auth::{AuthApprovalRecord, AuthRequestRecord, SecurityEventRecord};
use crate::archive::export::{
    ExportAuthAuditLog, ExportFile, ExportNotificationState, ExportRecord,
};
use crate::archive::fields::underscore_pipe;
use crate::archive::fileops::{self, entry_type, EntryType};
use crate::archive::pipe::{self, PipeFile, PipeHeader, PipeRecord};
use crate::archive::roles::{RoleDefinition, RoleDefinitionsFile};
use crate::archive::sessions::{SessionOrigin, SessionRecord, SessionsHeader, SessionsReader};
use crate::archive::system::{InviteTokenLine, InviteTokensFile, InviteUsageRecord};
use crate::archive::timestamp::HumanTime;
use crate::db::encode::parse_datetime;
use crate::pycompat::datetime::PyDateTime;
use crate::{Error, Result};

/// `roles/role_definitions.txt`, relative to the archive root.
pub(crate) const ROLE_DEFINITIONS: &str = "roles/role_definitions.txt";
/// `system/invite_tokens.txt`, relative to the archive root.
pub(crate) const INVITE_TOKENS: &str = "system/invite_tokens.txt";

/// What the planning of these records gives heal's plan.
#[derive(Default)]
pub(crate) struct RecordsPlan {
    pub(crate) counts: ArchivedRecordsHealCounts,
    pub(crate) changes: Vec<HealChange>,
    pub(crate) notes: Vec<String>,
    /// Whole files replaced atomically: (path relative to the root, content).
    pub(crate) rewrites: Vec<(String, String)>,
    /// Monthly lines: (path relative to the root, the header of a new file, the line).
    pub(crate) appends: Vec<(String, String, String)>,
}

/// The clock of one heal run: which sessions are live and which tokens have expired
/// (database times are UTC), and the stamp a snapshot file gets (local wall-clock time,
/// as ThyWill's `datetime.now()`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub(crate) utc: NaiveDateTime,
    pub(crate) local: NaiveDateTime,
}

struct Role {
    definition: RoleDefinition,
}

struct Token {
    line: InviteTokenLine,
    expires: Option<NaiveDateTime>,
}

struct Session {
    id: String,
    username: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    device_info: Option<String>,
    ip_address: Option<String>,
    fully_authenticated: bool,
}

struct AuthRequest {
    user: String,
    device: Option<String>,
    ip: Option<String>,
    verification: bool,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
}

struct Approval {
    request: String,
    approver: String,
    created_at: NaiveDateTime,
}

struct AuditEntry {
    request: String,
    action: String,
    actor: Option<String>,
    actor_type: Option<String>,
    details: Option<String>,
    ip: Option<String>,
    agent: Option<String>,
    created_at: NaiveDateTime,
}

struct Notification {
    id: String,
    user: String,
    request: String,
    notification_type: String,
    is_read: bool,
    created_at: NaiveDateTime,
    read_at: Option<NaiveDateTime>,
}

struct SecurityEvent {
    event_type: String,
    user: Option<String>,
    ip: Option<String>,
    agent: Option<String>,
    details: Option<String>,
    created_at: NaiveDateTime,
}

/// The rows these kinds are healed from, read in one read transaction.
#[derive(Default)]
struct Rows {
    roles: Option<Vec<Role>>,
    tokens: Option<Vec<Token>>,
    sessions: Vec<Session>,
    requests: Vec<AuthRequest>,
    approvals: Vec<Approval>,
    events: Vec<SecurityEvent>,
    audit: Vec<AuditEntry>,
    notifications: Vec<Notification>,
    notes: Vec<String>,
}

fn optional_time(text: Option<String>) -> Option<NaiveDateTime> {
    text.as_deref().and_then(|t| parse_datetime(t).ok())
}

impl Rows {
    fn read(conn: &Connection) -> Result<Rows> {
        conn.execute_batch("BEGIN")?;
        let result = Rows::read_in_transaction(conn);
        // Ending a read transaction cannot lose anything.
        let _ = conn.execute_batch("COMMIT");
        result
    }

    fn read_in_transaction(conn: &Connection) -> Result<Rows> {
        let mut rows = Rows::default();
        if table_exists(conn, "role")? {
            let mut stmt = conn.prepare(
                "SELECT name, description, permissions, is_system_role, created_by \
                 FROM role ORDER BY rowid",
            )?;
            let mut out = Vec::new();
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let name: String = r.get(0)?;
                let permissions: Option<String> = r.get(2)?;
                let permissions: Vec<String> = match permissions
                    .as_deref()
                    .map(serde_json::from_str::<Vec<String>>)
                {
                    Some(Ok(p)) => p,
                    None => Vec::new(),
                    Some(Err(_)) => {
                        rows.notes.push(format!(
                            "role {name:?}: permissions are not a JSON list of strings; not archived"
                        ));
                        continue;
                    }
                };
                out.push(Role {
                    definition: RoleDefinition {
                        name,
                        description: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                        permissions,
                        is_system_role: r.get::<_, Option<bool>>(3)?.unwrap_or(false),
                        created_by: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                    },
                });
            }
            rows.roles = Some(out);
        }
        if table_exists(conn, "invitetoken")? {
            let mut stmt = conn.prepare(
                "SELECT token, created_by_user, expires_at, used_by_user_id \
                 FROM invitetoken ORDER BY expires_at, rowid",
            )?;
            let mut out = Vec::new();
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let expires = optional_time(r.get(2)?);
                let used_by: Option<String> = r.get(3)?;
                out.push(Token {
                    line: InviteTokenLine {
                        token: r.get(0)?,
                        created_by_user: r.get(1)?,
                        expires_at: expires.map(PyDateTime::Naive),
                        used: used_by.is_some(),
                        // ThyWill's snapshot writes an unused token's claimant empty.
                        used_by_user_id: Some(used_by.unwrap_or_default()),
                        created_at: None,
                    },
                    expires,
                });
            }
            rows.tokens = Some(out);
        }
        if table_exists(conn, "session")? {
            let mut stmt = conn.prepare(
                "SELECT id, username, created_at, expires_at, device_info, ip_address, \
                 is_fully_authenticated FROM session ORDER BY created_at, rowid",
            )?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let id: String = r.get(0)?;
                let Some(created_at) =
                    time_of(&mut rows.notes, "session", "created_at", &id, r.get(2)?)
                else {
                    continue;
                };
                let Some(expires_at) =
                    time_of(&mut rows.notes, "session", "expires_at", &id, r.get(3)?)
                else {
                    continue;
                };
                rows.sessions.push(Session {
                    id,
                    username: r.get(1)?,
                    created_at,
                    expires_at,
                    device_info: r.get(4)?,
                    ip_address: r.get(5)?,
                    fully_authenticated: r.get::<_, Option<bool>>(6)?.unwrap_or(false),
                });
            }
        }
        if table_exists(conn, "authenticationrequest")? {
            let mut stmt = conn.prepare(
                "SELECT id, user_id, device_info, ip_address, verification_code, created_at, \
                 expires_at FROM authenticationrequest ORDER BY created_at, rowid",
            )?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let id: String = r.get(0)?;
                let Some(created_at) = time_of(
                    &mut rows.notes,
                    "authenticationrequest",
                    "created_at",
                    &id,
                    r.get(5)?,
                ) else {
                    continue;
                };
                rows.requests.push(AuthRequest {
                    user: r.get(1)?,
                    device: r.get(2)?,
                    ip: r.get(3)?,
                    verification: r.get::<_, Option<String>>(4)?.is_some(),
                    created_at,
                    expires_at: optional_time(r.get(6)?),
                });
            }
        }
        if table_exists(conn, "authapproval")? {
            let mut stmt = conn.prepare(
                "SELECT id, auth_request_id, approver_user_id, created_at FROM authapproval \
                 ORDER BY created_at, rowid",
            )?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let id: String = r.get(0)?;
                let Some(created_at) = time_of(
                    &mut rows.notes,
                    "authapproval",
                    "created_at",
                    &id,
                    r.get(3)?,
                ) else {
                    continue;
                };
                rows.approvals.push(Approval {
                    request: r.get(1)?,
                    approver: r.get(2)?,
                    created_at,
                });
            }
        }
        if table_exists(conn, "securitylog")? {
            let mut stmt = conn.prepare(
                "SELECT id, event_type, user_id, ip_address, user_agent, details, created_at \
                 FROM securitylog ORDER BY created_at, rowid",
            )?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let id: String = r.get(0)?;
                let Some(created_at) =
                    time_of(&mut rows.notes, "securitylog", "created_at", &id, r.get(6)?)
                else {
                    continue;
                };
                rows.events.push(SecurityEvent {
                    event_type: r.get(1)?,
                    user: r.get(2)?,
                    ip: r.get(3)?,
                    agent: r.get(4)?,
                    details: r.get(5)?,
                    created_at,
                });
            }
        }
        if table_exists(conn, "authauditlog")? {
            let mut stmt = conn.prepare(
                "SELECT id, auth_request_id, action, actor_user_id, actor_type, details, \
                 ip_address, user_agent, created_at FROM authauditlog ORDER BY created_at, rowid",
            )?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let id: String = r.get(0)?;
                let Some(created_at) = time_of(
                    &mut rows.notes,
                    "authauditlog",
                    "created_at",
                    &id,
                    r.get(8)?,
                ) else {
                    continue;
                };
                rows.audit.push(AuditEntry {
                    request: r.get(1)?,
                    action: r.get(2)?,
                    actor: r.get(3)?,
                    actor_type: r.get(4)?,
                    details: r.get(5)?,
                    ip: r.get(6)?,
                    agent: r.get(7)?,
                    created_at,
                });
            }
        }
        if table_exists(conn, "notification_state")? {
            let mut stmt = conn.prepare(
                "SELECT id, user_id, auth_request_id, notification_type, is_read, created_at, \
                 read_at FROM notification_state ORDER BY created_at, rowid",
            )?;
            let mut q = stmt.query([])?;
            while let Some(r) = q.next()? {
                let id: String = r.get(0)?;
                let Some(created_at) = time_of(
                    &mut rows.notes,
                    "notification_state",
                    "created_at",
                    &id,
                    r.get(5)?,
                ) else {
                    continue;
                };
                rows.notifications.push(Notification {
                    id,
                    user: r.get(1)?,
                    request: r.get(2)?,
                    notification_type: r.get(3)?,
                    is_read: r.get::<_, Option<bool>>(4)?.unwrap_or(false),
                    created_at,
                    read_at: optional_time(r.get(6)?),
                });
            }
        }
        Ok(rows)
    }
}

/// The names of the regular files of `dir` ending in `suffix`, sorted, with their paths.
fn files_ending(dir: &Path, suffix: &str) -> Result<Vec<(String, std::path::PathBuf, bool)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if !name.ends_with(suffix) {
            continue;
        }
        if let EntryType::File { via_link } =
            entry_type(&entry).map_err(|e| Error::io(entry.path(), e))?
        {
            out.push((name, entry.path(), via_link));
        }
    }
    out.sort();
    Ok(out)
}

/// Every record of the monthly pipe files `{folder}/*{suffix}`.
fn pipe_records<R: PipeRecord>(root: &Path, folder: &str, suffix: &str) -> Result<Vec<R>> {
    let mut out = Vec::new();
    for (name, path, via_link) in files_ending(&root.join(folder), suffix)? {
        let bytes = fileops::read_listed_file(&path, via_link)?;
        let file = format!("{folder}/{name}");
        let (parsed, _) = PipeFile::<R>::parse(&bytes, Some(Path::new(&file)));
        out.extend(parsed.records);
    }
    Ok(out)
}

/// Whether a snapshot file is healed: where the archive keeps it, or everywhere when the
/// archive is being rebuilt (it has no `prayers/` folder), as [`LedgerPolicy`] says.
fn snapshot_kept(policy: LedgerPolicy, exists: bool, has_prayers_dir: bool) -> bool {
    match policy {
        LedgerPolicy::Never => false,
        LedgerPolicy::Always => true,
        LedgerPolicy::Auto => exists || !has_prayers_dir,
    }
}

fn pipe_free(s: &str) -> bool {
    one_line(s) && !s.contains('|')
}

/// Plans the records of this module. `claimed_tokens` are the tokens of the
/// `invite_token_usage` rows, whose usage lines heal writes in the same run.
pub(crate) fn plan_records(
    conn: &Connection,
    root: &Path,
    options: &HealOptions,
    has_prayers_dir: bool,
    claimed_tokens: &HashSet<String>,
    clock: Clock,
) -> Result<RecordsPlan> {
    let rows = Rows::read(conn)?;
    let mut plan = RecordsPlan {
        notes: rows.notes.clone(),
        ..RecordsPlan::default()
    };
    plan_roles(&mut plan, &rows, root, options, has_prayers_dir, clock)?;
    plan_tokens(
        &mut plan,
        &rows,
        root,
        options,
        has_prayers_dir,
        claimed_tokens,
        clock,
    )?;
    plan_sessions(&mut plan, &rows, root, clock)?;
    plan_auth(&mut plan, &rows, root, options)?;
    plan_export_files(&mut plan, &rows, root, options)?;
    Ok(plan)
}

/// The export-only audit log and notification states: ThyWill's export writes them whole at
/// one instant, and no live writer does, so heal adds the missing rows only to a file the
/// archive already has (keeping its title, its stamp and its rows), each at its place in
/// time order, and rewrites it whole, atomically.
fn plan_export_files(
    plan: &mut RecordsPlan,
    rows: &Rows,
    root: &Path,
    options: &HealOptions,
) -> Result<()> {
    // The audit log: rows carry no id; matched by (request, action, actor, minute).
    plan.counts.auth_audit_log = export_file::<ExportAuthAuditLog, AuditEntry>(
        plan,
        root,
        options,
        AUDIT_LOG,
        &rows.audit,
        |r| {
            (
                [
                    r.auth_request_id.as_str(),
                    &r.action,
                    r.actor_user_id.as_deref().unwrap_or_default(),
                ]
                .join("\n"),
                r.created_at.time,
            )
        },
        |a| {
            let row = ExportAuthAuditLog {
                created_at: HumanTime::from_time(a.created_at),
                auth_request_id: a.request.clone(),
                action: a.action.clone(),
                actor_user_id: a.actor.clone().filter(|s| !s.is_empty()),
                actor_type: a.actor_type.clone().filter(|s| !s.is_empty()),
                details: a.details.clone().unwrap_or_default(),
                ip_address: a.ip.clone().filter(|s| !s.is_empty()),
                user_agent: a.agent.clone().filter(|s| !s.is_empty()),
            };
            let key = [
                row.auth_request_id.as_str(),
                &row.action,
                row.actor_user_id.as_deref().unwrap_or_default(),
            ]
            .join("\n");
            (key, a.created_at, row)
        },
    )?;
    // Notification states carry their id.
    plan.counts.notification_states = export_file::<ExportNotificationState, Notification>(
        plan,
        root,
        options,
        NOTIFICATION_STATES,
        &rows.notifications,
        |r| (r.id.clone(), r.created_at.time),
        |n| {
            let row = ExportNotificationState {
                id: n.id.clone(),
                created_at: HumanTime::from_time(n.created_at),
                user_id: n.user.clone(),
                auth_request_id: n.request.clone(),
                notification_type: n.notification_type.clone(),
                is_read: n.is_read,
                read_at: n.read_at.map(HumanTime::from_time),
            };
            (n.id.clone(), n.created_at, row)
        },
    )?;
    Ok(())
}

/// `authentication/auth_audit_logs.txt`, relative to the archive root.
pub(crate) const AUDIT_LOG: &str = "authentication/auth_audit_logs.txt";
/// `users/notification_states.txt`, relative to the archive root.
pub(crate) const NOTIFICATION_STATES: &str = "users/notification_states.txt";

fn export_file<R: ExportRecord + Clone, T>(
    plan: &mut RecordsPlan,
    root: &Path,
    options: &HealOptions,
    relative: &str,
    rows: &[T],
    key_of_row: impl Fn(&R) -> (String, Option<NaiveDateTime>),
    render: impl Fn(&T) -> (String, NaiveDateTime, R),
) -> Result<RecordHealCounts> {
    let path = root.join(relative);
    let mut counts = RecordHealCounts {
        healed: path.is_file() && options.ledgers != LedgerPolicy::Never,
        rows: rows.len() as u64,
        ..RecordHealCounts::default()
    };
    if !path.is_file() {
        return Ok(counts);
    }
    let bytes = fileops::read_regular_file(&path)?;
    let (mut file, diagnostics) = ExportFile::<R>::parse(&bytes, Some(Path::new(relative)));
    let mut matcher = MinuteMatcher::new();
    let mut times: Vec<Option<NaiveDateTime>> = Vec::new();
    for (i, row) in file.rows.iter().enumerate() {
        let (key, at) = key_of_row(row);
        if let Some(at) = at {
            matcher.add(key, &at, &options.time_zone, i);
        }
        times.push(at);
    }
    // Which database row each file row is (rows are read in time order).
    let mut order: Vec<Option<usize>> = vec![None; file.rows.len()];
    let mut missing: Vec<(usize, NaiveDateTime, R)> = Vec::new();
    for (j, row) in rows.iter().enumerate() {
        let (key, at, rendered) = render(row);
        if let Some(i) = matcher.take(&key, &at) {
            if let Some(slot) = order.get_mut(i) {
                *slot = Some(j);
            }
            counts.present += 1;
        } else if rendered.render_line().contains(['\n', '\r']) {
            plan.notes.push(format!(
                "{relative}: a row at {at} holds a line break the line cannot hold; not archived"
            ));
        } else {
            missing.push((j, at, rendered));
        }
    }
    if missing.is_empty() || !counts.healed {
        return Ok(counts);
    }
    if !diagnostics.is_empty() || file.header.is_none() {
        plan.notes.push(format!(
            "{relative}: lines heal cannot read; its {} missing rows are not written",
            missing.len()
        ));
        return Ok(counts);
    }
    counts.written = missing.len() as u64;
    for (j, at, row) in missing {
        // Before the first row the database orders after it (a row of no database row:
        // before the first of a later minute).
        let minute = crate::db::encode::minute_number(&at);
        let position = order
            .iter()
            .zip(times.iter())
            .position(|(o, t)| match o {
                Some(o) => *o > j,
                None => t.is_some_and(|t| crate::db::encode::minute_number(&t) > minute),
            })
            .unwrap_or(order.len());
        order.insert(position, Some(j));
        times.insert(position, Some(at));
        file.rows.insert(position, row);
    }
    plan.changes.push(HealChange {
        kind: HealChangeKind::ExportFileWritten,
        record: relative.to_string(),
        path: relative.to_string(),
        detail: format!("{} missing rows added", counts.written),
    });
    plan.rewrites.push((relative.to_string(), file.render()));
    Ok(counts)
}

fn plan_roles(
    plan: &mut RecordsPlan,
    rows: &Rows,
    root: &Path,
    options: &HealOptions,
    has_prayers_dir: bool,
    clock: Clock,
) -> Result<()> {
    let Some(roles) = &rows.roles else {
        return Ok(());
    };
    let counts = &mut plan.counts.roles;
    counts.rows = roles.len() as u64;
    let path = root.join(ROLE_DEFINITIONS);
    let existing = if path.is_file() {
        let bytes = fileops::read_regular_file(&path)?;
        Some(RoleDefinitionsFile::parse(&bytes, Some(Path::new(ROLE_DEFINITIONS))).0)
    } else {
        None
    };
    let have: HashSet<&str> = existing
        .iter()
        .flat_map(|f| f.roles.iter())
        .map(|r| r.name.as_str())
        .collect();
    let mut missing = Vec::new();
    for role in roles {
        if have.contains(role.definition.name.as_str()) {
            counts.present += 1;
        } else if !pipe_free(&role.definition.name)
            || !pipe_free(&role.definition.created_by)
            || !one_line(&role.definition.description)
            || role.definition.permissions.iter().any(|p| !one_line(p))
        {
            plan.notes.push(format!(
                "role {:?}: a line break or `|` the definitions line cannot hold; not archived",
                role.definition.name
            ));
        } else {
            missing.push(role.definition.clone());
        }
    }
    counts.healed = snapshot_kept(options.ledgers, existing.is_some(), has_prayers_dir);
    if missing.is_empty() || !counts.healed {
        return Ok(());
    }
    counts.written = missing.len() as u64;
    let file = match existing {
        // The stamp and the lines the file has are kept; each missing role goes before
        // the first listed role the database orders after it, so that a line taken out
        // comes back at its place.
        Some(mut file) => {
            let order: HashMap<&str, usize> = roles
                .iter()
                .enumerate()
                .map(|(i, r)| (r.definition.name.as_str(), i))
                .collect();
            for role in &missing {
                let rank = order.get(role.name.as_str()).copied().unwrap_or(usize::MAX);
                let position = file
                    .roles
                    .iter()
                    .position(|r| order.get(r.name.as_str()).is_some_and(|&i| i > rank))
                    .unwrap_or(file.roles.len());
                file.roles.insert(position, role.clone());
            }
            file.total = file.roles.len() as u64;
            file
        }
        None => RoleDefinitionsFile::new(&clock.local, missing.clone()),
    };
    plan.changes.push(HealChange {
        kind: HealChangeKind::RoleDefinitionsWritten,
        record: missing.first().map(|r| r.name.clone()).unwrap_or_default(),
        path: ROLE_DEFINITIONS.into(),
        detail: format!("{} roles missing", missing.len()),
    });
    plan.rewrites.push((ROLE_DEFINITIONS.into(), file.render()));
    Ok(())
}

fn plan_tokens(
    plan: &mut RecordsPlan,
    rows: &Rows,
    root: &Path,
    options: &HealOptions,
    has_prayers_dir: bool,
    claimed_tokens: &HashSet<String>,
    clock: Clock,
) -> Result<()> {
    let Some(tokens) = &rows.tokens else {
        return Ok(());
    };
    let counts = &mut plan.counts.invite_tokens;
    counts.rows = tokens.len() as u64;
    let path = root.join(INVITE_TOKENS);
    let existing = if path.is_file() {
        let bytes = fileops::read_regular_file(&path)?;
        Some(InviteTokensFile::parse(&bytes, Some(Path::new(INVITE_TOKENS))).0)
    } else {
        None
    };
    // A token is in the archive when the snapshot lists it or a usage line names it
    // (a link creation or a claim, including the claims this run writes).
    let mut have: HashSet<String> = existing
        .iter()
        .flat_map(|f| f.active.iter().chain(f.recently_expired.iter()))
        .map(|t| t.token.clone())
        .collect();
    for record in pipe_records::<InviteUsageRecord>(root, "system", "_invite_usage.txt")? {
        have.insert(record.token);
    }
    have.extend(claimed_tokens.iter().cloned());
    let mut missing: Vec<&Token> = Vec::new();
    for token in tokens {
        if have.contains(&token.line.token) {
            counts.present += 1;
        } else if !pipe_free(&token.line.token)
            || !pipe_free(&token.line.created_by_user)
            || token
                .line
                .used_by_user_id
                .as_deref()
                .is_some_and(|u| !one_line(u))
        {
            plan.notes.push(format!(
                "invite token {:?}: a line break or `|` the snapshot line cannot hold; not archived",
                token.line.token
            ));
        } else {
            missing.push(token);
        }
    }
    counts.healed = snapshot_kept(options.ledgers, existing.is_some(), has_prayers_dir);
    if missing.is_empty() || !counts.healed {
        return Ok(());
    }
    counts.written = missing.len() as u64;
    let live = |t: &Token| !t.line.used && t.expires.is_some_and(|e| e > clock.utc);
    let mut file = match existing {
        Some(file) => file,
        None => {
            // ThyWill's selection from the tokens not archived elsewhere; the rest of them
            // are added below.
            let all: Vec<InviteTokenLine> = missing.iter().map(|t| t.line.clone()).collect();
            InviteTokensFile::from_tokens(&clock.utc, &all)
        }
    };
    let listed: HashSet<String> = file
        .active
        .iter()
        .chain(file.recently_expired.iter())
        .map(|t| t.token.clone())
        .collect();
    for token in &missing {
        if listed.contains(&token.line.token) {
            continue;
        }
        // A token goes where ThyWill lists it (active or expired), in expiry order, so
        // that a line taken out of the snapshot comes back at its place. Heal keeps every
        // token it adds, not only the last ten expired: the snapshot is the only place
        // its creator and expiry are archived.
        let section = if live(token) {
            &mut file.active
        } else {
            &mut file.recently_expired
        };
        let position = section
            .iter()
            .position(|t| t.expires_at.map(|e| e.naive()) > token.expires)
            .unwrap_or(section.len());
        section.insert(position, token.line.clone());
    }
    file.active_count = tokens.iter().filter(|t| !t.line.used).count() as u64;
    file.total_count = tokens.len() as u64;
    plan.changes.push(HealChange {
        kind: HealChangeKind::InviteTokensWritten,
        record: missing
            .first()
            .map(|t| t.line.token.clone())
            .unwrap_or_default(),
        path: INVITE_TOKENS.into(),
        detail: format!("{} tokens missing", missing.len()),
    });
    plan.rewrites.push((INVITE_TOKENS.into(), file.render()));
    Ok(())
}

fn plan_sessions(plan: &mut RecordsPlan, rows: &Rows, root: &Path, clock: Clock) -> Result<()> {
    let mut have: HashSet<String> = HashSet::new();
    for (name, path, via_link) in files_ending(&root.join("sessions"), "_sessions.txt")? {
        let bytes = fileops::read_listed_file(&path, via_link)?;
        let file = format!("sessions/{name}");
        for record in SessionsReader::new(bytes.as_slice(), Some(Path::new(&file))).flatten() {
            have.insert(record.session_id);
        }
    }
    let counts = &mut plan.counts.sessions;
    counts.healed = true;
    let mut per_file: BTreeMap<String, u64> = BTreeMap::new();
    for session in rows.sessions.iter().filter(|s| s.expires_at > clock.utc) {
        counts.rows += 1;
        if have.contains(&session.id) {
            counts.present += 1;
            continue;
        }
        if !pipe_free(&session.id)
            || !one_line(&session.username)
            || session
                .ip_address
                .as_deref()
                .is_some_and(|ip| !pipe_free(ip))
            || session.device_info.as_deref().is_some_and(|d| !one_line(d))
        {
            plan.notes.push(format!(
                "session {:?}: a line break or `|` the sessions line cannot hold; not archived",
                session.id
            ));
            continue;
        }
        let record = SessionRecord {
            created_at: HumanTime::from_time(session.created_at),
            session_id: session.id.clone(),
            username: session.username.clone(),
            expires_at: Some(HumanTime::from_time(session.expires_at)),
            device_info: session.device_info.clone(),
            ip_address: session.ip_address.clone(),
            is_fully_authenticated: session.fully_authenticated,
            origin: SessionOrigin::Live,
        };
        // The file of the session's creation month, as the export picks it (the live
        // writer's month of writing is that month for a session written when created).
        let path = format!(
            "sessions/{}",
            pipe::monthly_file_name(&session.created_at, "sessions")
        );
        let header =
            SessionsHeader::new(&session.created_at, &clock.local, SessionOrigin::Live).render();
        *per_file.entry(path.clone()).or_default() += 1;
        plan.appends.push((path, header, record.render_line()));
        counts.written += 1;
    }
    for (path, n) in per_file {
        plan.changes.push(HealChange {
            kind: HealChangeKind::SessionsAppended,
            record: "sessions".into(),
            path,
            detail: format!("{n} lines"),
        });
    }
    Ok(())
}

/// Appends one kind of monthly `auth/` line for the rows no line holds.
struct PipeKind<'a> {
    /// The file name's suffix without `_` and `.txt`, e.g. `auth_requests`.
    word: &'a str,
}

fn auth_lines<R: PipeRecord, T>(
    plan: &mut RecordsPlan,
    root: &Path,
    options: &HealOptions,
    kind: PipeKind<'_>,
    rows: &[T],
    key_of_record: impl Fn(&R) -> (String, NaiveDateTime),
    row: impl Fn(&T) -> Option<(String, NaiveDateTime, R)>,
) -> Result<RecordHealCounts> {
    let mut counts = RecordHealCounts {
        healed: true,
        rows: rows.len() as u64,
        ..RecordHealCounts::default()
    };
    let mut matcher = MinuteMatcher::new();
    let suffix = format!("_{}.txt", kind.word);
    for (i, record) in pipe_records::<R>(root, "auth", &suffix)?.iter().enumerate() {
        let (key, at) = key_of_record(record);
        matcher.add(key, &at, &options.time_zone, i);
    }
    let mut per_file: BTreeMap<String, u64> = BTreeMap::new();
    for r in rows {
        let Some((key, at, record)) = row(r) else {
            continue;
        };
        if matcher.take(&key, &at).is_some() {
            counts.present += 1;
            continue;
        }
        let line = record.render_line();
        if line.contains(['\n', '\r']) {
            plan.notes.push(format!(
                "{} row at {at}: a line break the line cannot hold; not archived",
                kind.word
            ));
            continue;
        }
        let path = format!("auth/{}", pipe::monthly_file_name(&at, kind.word));
        let header = PipeHeader::for_month::<R>(&at).render::<R>();
        *per_file.entry(path.clone()).or_default() += 1;
        plan.appends.push((path, header, line));
        counts.written += 1;
    }
    for (path, n) in per_file {
        plan.changes.push(HealChange {
            kind: HealChangeKind::AuthLinesAppended,
            record: kind.word.into(),
            path,
            detail: format!("{n} lines"),
        });
    }
    Ok(counts)
}

fn plan_auth(
    plan: &mut RecordsPlan,
    rows: &Rows,
    root: &Path,
    options: &HealOptions,
) -> Result<()> {
    // A request line carries no id: it is the request of its user and minute.
    plan.counts.auth_requests = auth_lines::<AuthRequestRecord, _>(
        plan,
        root,
        options,
        PipeKind {
            word: "auth_requests",
        },
        &rows.requests,
        |r| (r.user_id.clone(), r.timestamp.naive()),
        |q| {
            Some((
                q.user.clone(),
                q.created_at,
                AuthRequestRecord {
                    timestamp: PyDateTime::Naive(q.created_at),
                    user_id: q.user.clone(),
                    device_info: q.device.clone().unwrap_or_default(),
                    ip_address: q.ip.clone().unwrap_or_default(),
                    // The line is written when the request is made.
                    status: "pending".into(),
                    expires_at: q.expires_at.map(PyDateTime::Naive),
                    verification_required: q.verification,
                    other_details: Vec::new(),
                },
            ))
        },
    )?;
    plan.counts.auth_approvals = auth_lines::<AuthApprovalRecord, _>(
        plan,
        root,
        options,
        PipeKind {
            word: "auth_approvals",
        },
        &rows.approvals,
        |r| {
            (
                format!("{}|{}", r.auth_request_id, r.approver_user_id),
                r.timestamp.naive(),
            )
        },
        |a| {
            Some((
                format!("{}|{}", a.request, a.approver),
                a.created_at,
                AuthApprovalRecord {
                    timestamp: PyDateTime::Naive(a.created_at),
                    auth_request_id: a.request.clone(),
                    approver_user_id: a.approver.clone(),
                    action: "approved".into(),
                    details: "Request approved via web interface".into(),
                },
            ))
        },
    )?;
    let none = |v: &Option<String>| v.clone().unwrap_or_else(|| "None".into());
    plan.counts.security_events = auth_lines::<SecurityEventRecord, _>(
        plan,
        root,
        options,
        PipeKind {
            word: "security_events",
        },
        &rows.events,
        |r| {
            (
                [
                    r.event_type.as_str(),
                    &r.user_id,
                    &r.ip_address,
                    &r.user_agent,
                    &r.details,
                ]
                .join("\n"),
                r.timestamp.naive(),
            )
        },
        |e| {
            let record = SecurityEventRecord {
                timestamp: PyDateTime::Naive(e.created_at),
                event_type: e.event_type.clone(),
                user_id: none(&e.user),
                ip_address: none(&e.ip),
                user_agent: none(&e.agent),
                details: none(&e.details),
            };
            let key = [
                record.event_type.as_str(),
                &record.user_id,
                &record.ip_address,
                &underscore_pipe(&record.user_agent),
                &underscore_pipe(&record.details),
            ]
            .join("\n");
            Some((key, e.created_at, record))
        },
    )?;
    Ok(())
}
