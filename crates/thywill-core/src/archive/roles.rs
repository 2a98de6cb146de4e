//! `roles/` files: monthly role assignments (LIVE), role definitions (DORMANT full
//! rewrite) and role history (DORMANT append file).

use std::path::Path;

use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::fields::{
    parse_iso, parse_opt_iso, parse_py_bool, render_opt_iso, split_absorbing, underscore_pipe,
};
use super::pipe::{self, PipeRecord};
use super::record::Record;
use super::snapshot;
use super::timestamp;
use crate::pycompat::datetime::PyDateTime;
use crate::pycompat::json;
use crate::pycompat::strings;

/// One line of `roles/{YM}_role_assignments.txt`.
///
/// Limits: a `|` in `details` (the admin's free-text reason) is kept (absorbing); one in
/// `user_id`, `role_name` or `granted_by` misplaces fields. Unlike ThyWill's importer, a user
/// whose name ends in "at" is read normally (FIXABLE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleAssignmentRecord {
    /// `granted_at` (UTC in production), ISO.
    pub timestamp: PyDateTime,
    /// The user's name.
    pub user_id: String,
    /// The role's name, e.g. `deactivated`, `user`.
    pub role_name: String,
    /// `assigned` by default; `revoked`/`removed` delete.
    pub action: String,
    /// Who granted it.
    pub granted_by: String,
    /// Optional expiry, ISO.
    pub expires_at: Option<PyDateTime>,
    /// Free text, e.g. `User deactivated by admin`.
    pub details: String,
}

impl PipeRecord for RoleAssignmentRecord {
    const TITLE: &'static str = "Role Assignments";
    const FORMAT: &'static str = "timestamp|user_id|role_name|action|granted_by|expires_at|details";
}

impl Record for RoleAssignmentRecord {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.timestamp.isoformat(),
            self.user_id,
            self.role_name,
            self.action,
            self.granted_by,
            render_opt_iso(&self.expires_at),
            self.details
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 7, 6)?;
        let [ts, user, role, action, by, expires, details] = f.as_slice() else {
            return Err("bad field count".into());
        };
        // ThyWill's importer also reads `none`/`never` as no expiry.
        let expires_at = if ["none", "never"].contains(&expires.to_ascii_lowercase().as_str()) {
            None
        } else {
            parse_opt_iso(expires, "expires_at")?
        };
        Ok(RoleAssignmentRecord {
            timestamp: parse_iso(ts, "timestamp")?,
            user_id: user.to_string(),
            role_name: role.to_string(),
            action: action.to_string(),
            granted_by: by.to_string(),
            expires_at,
            details: details.to_string(),
        })
    }
}

/// One line of `roles/role_history.txt` (DORMANT; fixed title `Role System History`).
///
/// Limits: `old_value`, `new_value`, `details` cannot hold `|` (written as `_`); a `|` in
/// `changed_by` is kept (absorbing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleHistoryRecord {
    /// When, ISO.
    pub timestamp: PyDateTime,
    /// Kind of change.
    pub change_type: String,
    /// The role.
    pub role_name: String,
    /// Who changed it.
    pub changed_by: String,
    /// Previous value, `|` → `_`.
    pub old_value: String,
    /// New value, `|` → `_`.
    pub new_value: String,
    /// Free text, `|` → `_`.
    pub details: String,
}

impl PipeRecord for RoleHistoryRecord {
    const TITLE: &'static str = "Role System History";
    const FORMAT: &'static str =
        "timestamp|change_type|role_name|changed_by|old_value|new_value|details";
    const MONTHLY: bool = false;
}

impl Record for RoleHistoryRecord {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.timestamp.isoformat(),
            self.change_type,
            self.role_name,
            self.changed_by,
            underscore_pipe(&self.old_value),
            underscore_pipe(&self.new_value),
            underscore_pipe(&self.details)
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 7, 3)?;
        let [ts, ty, role, by, old, new, details] = f.as_slice() else {
            return Err("bad field count".into());
        };
        Ok(RoleHistoryRecord {
            timestamp: parse_iso(ts, "timestamp")?,
            change_type: ty.to_string(),
            role_name: role.to_string(),
            changed_by: by.to_string(),
            old_value: old.to_string(),
            new_value: new.to_string(),
            details: details.to_string(),
        })
    }
}

/// `roles/{YM}_role_assignments.txt`.
pub type RoleAssignmentsFile = pipe::PipeFile<RoleAssignmentRecord>;
/// `roles/role_history.txt`.
pub type RoleHistoryFile = pipe::PipeFile<RoleHistoryRecord>;

/// One role of `roles/role_definitions.txt`.
///
/// Limits: `description` cannot hold `|` (written as `_`); `name` and `created_by` must not
/// contain `|` (a `|` inside a permission string is fine: the JSON field absorbs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleDefinition {
    /// Role name.
    pub name: String,
    /// Description, `|` → `_`.
    pub description: String,
    /// Permissions, written with `json.dumps`.
    pub permissions: Vec<String>,
    /// `True`/`False`.
    pub is_system_role: bool,
    /// Creator (`None` as text for Python None; empty when unset).
    pub created_by: String,
}

impl Record for RoleDefinition {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.name,
            underscore_pipe(&self.description),
            json::py_json_str_list(&self.permissions),
            strings::py_bool(self.is_system_role),
            self.created_by
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 5, 2)?;
        let [name, desc, perms, system, by] = f.as_slice() else {
            return Err("bad field count".into());
        };
        let permissions: Vec<String> = serde_json::from_str(perms)
            .map_err(|e| format!("permissions are not a JSON list of strings: {e}"))?;
        Ok(RoleDefinition {
            name: name.to_string(),
            description: desc.to_string(),
            permissions,
            is_system_role: parse_py_bool(system, "is_system_role")?,
            created_by: by.to_string(),
        })
    }
}

/// `roles/role_definitions.txt`: `TS_HC` title, rows, `Total roles` trailer, no
/// final LF. The `Format:` line is not a role (FIXABLE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleDefinitionsFile {
    /// The `TS_HC` text after `Role Definitions - Updated `, verbatim.
    pub updated: String,
    /// The roles.
    pub roles: Vec<RoleDefinition>,
    /// The trailer's count (ThyWill writes the number of roles).
    pub total: u64,
}

const ROLE_DEF_FORMAT: &str =
    "Format: role_name|description|permissions_json|is_system_role|created_by";

impl RoleDefinitionsFile {
    /// A file updated at `now` (local time).
    pub fn new(now: &chrono::NaiveDateTime, roles: Vec<RoleDefinition>) -> Self {
        let total = roles.len() as u64;
        RoleDefinitionsFile {
            updated: timestamp::ts_hc(now),
            roles,
            total,
        }
    }

    /// Writes the file atomically (ThyWill's `ATOMIC_CREATE` full rewrite: temp file,
    /// fsync, rename). The folder must exist.
    pub fn write(&self, path: &Path) -> crate::Result<()> {
        super::fileops::atomic_write(path, self.render().as_bytes())
    }

    /// ThyWill's bytes.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Role Definitions - Updated {}\n{ROLE_DEF_FORMAT}\n\n",
            self.updated
        );
        for r in &self.roles {
            out.push_str(&r.render_line());
            out.push('\n');
        }
        out.push_str(&format!("\nTotal roles: {}", self.total));
        out
    }

    /// Parses the file; unreadable lines become diagnostics.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let layout = snapshot::SnapshotLayout {
            title_prefix: "Role Definitions - Updated ",
            format_line: ROLE_DEF_FORMAT,
            total_label: "Total roles",
            bad_total: "bad role total",
        };
        let (file, diags) =
            snapshot::parse_snapshot(bytes, path, &layout, RoleDefinition::parse_line);
        let file = RoleDefinitionsFile {
            updated: file.stamp,
            roles: file.rows,
            total: file.total,
        };
        (file, diags)
    }
}

/// Re-renderer of `roles/role_definitions.txt`.
pub(crate) fn rerender_role_definitions(
    bytes: &[u8],
    path: Option<&Path>,
) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (f, d) = RoleDefinitionsFile::parse(bytes, path);
    Ok((f.render().into_bytes(), d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_assignment_for_user_ending_in_at() {
        // ThyWill takes the ID-first branch for `Pat`; we read it normally.
        let line = "2025-07-06T09:05:07|Pat|deactivated|assigned|Admin||User deactivated by admin";
        let r = RoleAssignmentRecord::parse_line(line).unwrap();
        assert_eq!(r.user_id, "Pat");
        assert_eq!(r.role_name, "deactivated");
        assert_eq!(r.expires_at, None);
        assert_eq!(r.render_line(), line);
    }

    #[test]
    fn role_definitions_observed_bytes() {
        let bytes = "Role Definitions - Updated July 07, 2025 at 00:01\nFormat: role_name|description|permissions_json|is_system_role|created_by\n\nadmin|Sys_admin|[\"*\"]|True|system\n\nTotal roles: 1";
        let (f, d) = RoleDefinitionsFile::parse(bytes.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        // The Format line is not a role.
        assert_eq!(f.roles.len(), 1);
        assert_eq!(f.roles[0].permissions, vec!["*"]);
        assert_eq!(f.render(), bytes);
        let now = chrono::NaiveDate::from_ymd_opt(2025, 7, 7)
            .unwrap()
            .and_hms_opt(0, 1, 0)
            .unwrap();
        let built = RoleDefinitionsFile::new(
            &now,
            vec![RoleDefinition {
                name: "admin".into(),
                description: "Sys|admin".into(),
                permissions: vec!["*".into()],
                is_system_role: true,
                created_by: "system".into(),
            }],
        );
        assert_eq!(built.render(), bytes);
    }
}
