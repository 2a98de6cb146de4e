//! The roles phase: `roles/role_definitions.txt` (roles, matched by name) and
//! `roles/YYYY_MM_role_assignments.txt` (grants and their removal, matched by user, role
//! and minute). An archive without `role_definitions.txt` gets `db init`'s default roles
//! (inserted when absent, counted as present otherwise), as ThyWill's recovery does.
//!
//! Like every phase after the ledgers, it creates no user: a row naming an unknown user is
//! still written, as ThyWill's unenforced foreign keys allow, but no `user` row is
//! invented. Rows are matched by their natural key or, for rows without one, by (key
//! fields, minute), so re-runs and runs against the live database insert nothing.

use std::path::Path;

use chrono::NaiveDateTime;
use rusqlite::{params, Connection, OptionalExtension};

use super::{execute_cached, query_row_cached, row_exists, ImportRun, Phase};
use crate::archive::kind::FileKind;
use crate::archive::pipe::PipeFile;
use crate::archive::roles::{RoleAssignmentRecord, RoleDefinitionsFile};
use crate::db::encode::{format_datetime, minute_key};
use crate::db::schema::{ensure_role, DefaultRole, DEACTIVATED_ROLE, DEFAULT_ROLES};
use crate::import::report::Entity;
use crate::import::validate::refuse_names;
use crate::pycompat::json::py_json_str_list;
use crate::Result;

/// `roles/role_definitions.txt` and `roles/YYYY_MM_role_assignments.txt`.
pub(super) fn import(conn: &Connection, run: &mut ImportRun<'_>) -> Result<()> {
    let now = chrono::Utc::now().naive_utc();
    if run
        .files_of_kind(Phase::Roles, FileKind::RoleDefinitions)
        .next()
        .is_none()
    {
        // Without definitions the roles are `db init`'s, as ThyWill's recovery makes them
        // when the archive has none: grants and system-token claims name them.
        for role in DEFAULT_ROLES {
            let counts = if ensure_role(conn, run.ids, role, &now)? == 1 {
                &mut run.report.counts_mut(Entity::Roles).inserted
            } else {
                &mut run.report.counts_mut(Entity::Roles).already_present
            };
            *counts += 1;
        }
    }
    for file in run.files_of_kind(Phase::Roles, FileKind::RoleDefinitions) {
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let (file, diags) = RoleDefinitionsFile::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::Roles, relative, &diags);
        for role in file.roles {
            if refuse_names(
                run.report,
                Entity::Roles,
                relative,
                &bytes,
                [("name", &role.name), ("created_by", &role.created_by)],
            ) {
                continue;
            }
            let exists = row_exists(conn, "SELECT 1 FROM role WHERE name = ?1", &[&role.name])?;
            if exists {
                run.report.counts_mut(Entity::Roles).already_present += 1;
                continue;
            }
            execute_cached(conn,
                "INSERT INTO role (id, name, description, permissions, created_at, created_by, is_system_role) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    run.ids.uuid4_hex()?,
                    role.name,
                    (!role.description.is_empty()).then_some(role.description.as_str()),
                    py_json_str_list(&role.permissions),
                    format_datetime(&now),
                    (!role.created_by.is_empty()).then_some(role.created_by.as_str()),
                    i64::from(role.is_system_role)
                ],
            )?;
            run.report.counts_mut(Entity::Roles).inserted += 1;
        }
    }
    for file in run.files_of_kind(Phase::Roles, FileKind::RoleAssignments) {
        let relative = &file.relative;
        let bytes = run.read(file)?;
        let (file, diags) =
            PipeFile::<RoleAssignmentRecord>::parse(&bytes, Some(Path::new(relative)));
        run.note_diagnostics(Entity::UserRoles, relative, &diags);
        for record in file.records {
            if refuse_names(
                run.report,
                Entity::UserRoles,
                relative,
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
            let role = role_id(conn, run, &record.role_name, &at)?;
            let action = record.action.to_ascii_lowercase();
            if action == "assigned" || action == "granted" {
                // Reactivation ends the deactivation grant (`user_management.py:175-185`).
                if record.role_name != DEACTIVATED_ROLE.name
                    && record.details.to_ascii_lowercase().contains("reactivat")
                {
                    let deactivated = role_id(conn, run, DEACTIVATED_ROLE.name, &at)?;
                    let changed = execute_cached(conn,
                        "UPDATE user_roles SET expires_at = ?1 WHERE user_id = ?2 AND role_id = ?3 \
                         AND expires_at IS NULL AND granted_at <= ?1",
                        params![format_datetime(&at), record.user_id, deactivated],
                    )?;
                    run.report.counts_mut(Entity::UserRoles).updated += changed as u64;
                }
                let present = row_exists(
                    conn,
                    "SELECT 1 FROM user_roles WHERE user_id = ?1 AND role_id = ?2 \
                     AND substr(replace(granted_at, 'T', ' '), 1, 16) = ?3",
                    &[&record.user_id, &role, &minute_key(&at)],
                )?;
                if present {
                    run.report.counts_mut(Entity::UserRoles).already_present += 1;
                    continue;
                }
                execute_cached(conn,
                    "INSERT INTO user_roles (id, user_id, role_id, granted_by, granted_at, expires_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        run.ids.uuid4_hex()?,
                        record.user_id,
                        role,
                        (!record.granted_by.is_empty()).then_some(record.granted_by.as_str()),
                        format_datetime(&at),
                        record.expires_at.as_ref().map(|e| format_datetime(&e.naive()))
                    ],
                )?;
                run.report.counts_mut(Entity::UserRoles).inserted += 1;
            } else {
                // Removal: end the active grant of that role.
                let changed = execute_cached(
                    conn,
                    "UPDATE user_roles SET expires_at = ?1 WHERE user_id = ?2 AND role_id = ?3 \
                     AND expires_at IS NULL",
                    params![format_datetime(&at), record.user_id, role],
                )?;
                let counts = run.report.counts_mut(Entity::UserRoles);
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

/// The id of the role `name`, creating it when absent (ThyWill's own definitions for the
/// built-in names, an empty permission list otherwise).
pub(super) fn role_id(
    conn: &Connection,
    run: &mut ImportRun<'_>,
    name: &str,
    at: &NaiveDateTime,
) -> Result<String> {
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
        ensure_role(conn, run.ids, &role, at)?;
    } else {
        execute_cached(conn,
            "INSERT INTO role (id, name, description, permissions, created_at, created_by, is_system_role) \
             VALUES (?1, ?2, NULL, '[]', ?3, NULL, 0)",
            params![run.ids.uuid4_hex()?, name, format_datetime(at)],
        )?;
    }
    run.report.counts_mut(Entity::Roles).inserted += 1;
    Ok(query_row_cached(
        conn,
        "SELECT id FROM role WHERE name = ?1",
        [name],
        |r| r.get(0),
    )?)
}
