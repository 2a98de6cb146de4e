//! The legacy `database_exports/` layout, read by ThyWill's `import_database_exports.py`:
//! the first 3 lines are a header (kept verbatim), then one row per line with an exact field
//! count and strict `TS_H`. Sessions there use the sessions-file layout
//! ([`SessionsFile`]); invite tokens and security rows use [`ExportInviteToken`] and
//! [`ExportSecurityEvent`]; roles and user roles have no ID ([`LegacyRole`],
//! [`LegacyUserRole`]).

use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use super::file::ExportRecord;
use super::kinds::Rerender;
use super::rows::{fields, h, ExportInviteToken, ExportSecurityEvent};
use crate::archive::diagnostics::Diagnostic;
use crate::archive::fields::{parse_yes_no, split_absorbing, yes_no};
use crate::archive::lines::Lines;
use crate::archive::record::{FileHeader, HeaderRead, Record, RecordReader};
use crate::archive::sessions::SessionsFile;
use crate::archive::timestamp::HumanTime;

/// `database_exports/roles/roles.txt`: `name|description|permissions|created_by|yes/no`.
/// Absorbing field: `permissions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyRole {
    /// Name.
    pub role_name: String,
    /// Description.
    pub description: String,
    /// Permissions JSON text.
    pub permissions: String,
    /// Creator (verbatim).
    pub created_by: String,
    /// `yes`/`no`.
    pub is_system_role: bool,
}

impl ExportRecord for LegacyRole {
    const FORMAT: &'static str = "name|description|permissions|created_by|is_system_role";
}

impl Record for LegacyRole {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.role_name,
            self.description,
            self.permissions,
            self.created_by,
            yes_no(self.is_system_role)
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(split_absorbing(line, 5, 2), [name, desc, perms, by, system]);
        Ok(LegacyRole {
            role_name: name.to_string(),
            description: desc.to_string(),
            permissions: perms.to_string(),
            created_by: by.to_string(),
            is_system_role: parse_yes_no(system, "is_system_role")?,
        })
    }
}

/// `database_exports/roles/user_roles.txt`: `granted_at|user_id|role_id|granted_by|expires`.
/// Absorbing field: `user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyUserRole {
    /// `TS_H`.
    pub granted_at: HumanTime,
    /// The user.
    pub user_id: String,
    /// The role's ID.
    pub role_id: String,
    /// Granter (verbatim).
    pub granted_by: String,
    /// `TS_H`, or `never`.
    pub expires_at: Option<HumanTime>,
}

impl ExportRecord for LegacyUserRole {
    const FORMAT: &'static str = "granted_at|user_id|role_id|granted_by|expires_at";
}

impl Record for LegacyUserRole {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.granted_at,
            self.user_id,
            self.role_id,
            self.granted_by,
            self.expires_at
                .as_ref()
                .map(|t| t.text.clone())
                .unwrap_or_else(|| "never".into())
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(split_absorbing(line, 5, 1), [ts, user, role, by, exp]);
        Ok(LegacyUserRole {
            granted_at: h(ts)?,
            user_id: user.to_string(),
            role_id: role.to_string(),
            granted_by: by.to_string(),
            expires_at: if *exp == "never" || exp.is_empty() {
                None
            } else {
                Some(h(exp)?)
            },
        })
    }
}

/// A legacy file: 3 header lines verbatim, then rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyFile<R> {
    /// The first (up to) 3 lines, verbatim.
    pub header_lines: Vec<String>,
    /// The rows.
    pub rows: Vec<R>,
    /// Whether the file ends with LF.
    pub final_newline: bool,
}

impl<R: Record> LegacyFile<R> {
    /// The bytes.
    pub fn render(&self) -> String {
        let mut lines: Vec<String> = self.header_lines.clone();
        lines.extend(self.rows.iter().map(R::render_line));
        let mut out = lines.join("\n");
        if self.final_newline && !lines.is_empty() {
            out.push('\n');
        }
        out
    }

    /// Parses a legacy file; bad rows become diagnostics.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let read = RecordReader::<_, R, HeaderLines>::new(bytes, path).read_all();
        let file = LegacyFile {
            header_lines: read.header.map(|h| h.0).unwrap_or_default(),
            rows: read.records,
            final_newline: read.final_newline,
        };
        (file, read.diagnostics)
    }
}

/// The header of a legacy file: its first 3 lines, whatever they hold.
struct HeaderLines(Vec<String>);

impl<R> FileHeader<R> for HeaderLines {
    fn read<B: BufRead>(lines: &mut Lines<B>) -> HeaderRead<Self> {
        let mut read = HeaderRead::none();
        let mut header = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(l)) if l.number <= 3 => header.push(l.text),
                Some(Ok(l)) => {
                    lines.push_back(l);
                    break;
                }
                Some(Err(d)) => read.diagnostics.push(d),
                None => break,
            }
        }
        read.header = Some(HeaderLines(header));
        read
    }
}

/// Which legacy file a path under `database_exports/` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LegacyKind {
    /// `sessions/*_sessions.txt`
    Sessions,
    /// `invites/invite_tokens.txt`
    InviteTokens,
    /// `security/*_security.txt`
    Security,
    /// `roles/roles.txt`
    Roles,
    /// `roles/user_roles.txt`
    UserRoles,
}

impl LegacyKind {
    /// Detects the kind from a path whose components include `database_exports`.
    pub fn detect(path: &Path) -> Option<Self> {
        let parts: Vec<&str> = path.iter().filter_map(|c| c.to_str()).collect();
        let at = parts.iter().position(|c| *c == "database_exports")?;
        Some(match parts.get(at + 1..)? {
            ["sessions", f] if f.ends_with("_sessions.txt") => Self::Sessions,
            ["invites", "invite_tokens.txt"] => Self::InviteTokens,
            ["security", f] if f.ends_with("_security.txt") => Self::Security,
            ["roles", "roles.txt"] => Self::Roles,
            ["roles", "user_roles.txt"] => Self::UserRoles,
            _ => return None,
        })
    }

    /// Runs `visitor` with this kind's layout.
    pub fn visit<V: LegacyVisitor>(self, visitor: V) -> V::Output {
        match self {
            LegacyKind::Sessions => visitor.sessions(),
            LegacyKind::InviteTokens => visitor.rows::<ExportInviteToken>(),
            LegacyKind::Security => visitor.rows::<ExportSecurityEvent>(),
            LegacyKind::Roles => visitor.rows::<LegacyRole>(),
            LegacyKind::UserRoles => visitor.rows::<LegacyUserRole>(),
        }
    }
}

/// An operation on a legacy file that depends on its layout: [`LegacyKind::visit`] runs it
/// with the layout of a kind, so that the table of kinds and layouts is written once.
pub trait LegacyVisitor {
    /// What the operation returns.
    type Output;
    /// Runs the operation for a [`LegacyFile`] of rows of type `R`.
    fn rows<R: Record + Serialize>(self) -> Self::Output;
    /// Runs the operation for a [`SessionsFile`].
    fn sessions(self) -> Self::Output;
}

impl LegacyVisitor for Rerender<'_> {
    type Output = (Vec<u8>, Vec<Diagnostic>);

    fn rows<R: Record + Serialize>(self) -> Self::Output {
        let (f, d) = LegacyFile::<R>::parse(self.bytes, self.path);
        (f.render().into_bytes(), d)
    }

    fn sessions(self) -> Self::Output {
        let (f, d) = SessionsFile::parse(self.bytes, self.path);
        (f.render().into_bytes(), d)
    }
}

/// Re-renders a legacy file of `kind`.
pub(crate) fn rerender_kind(
    kind: LegacyKind,
    bytes: &[u8],
    path: Option<&Path>,
) -> (Vec<u8>, Vec<Diagnostic>) {
    kind.visit(Rerender { bytes, path })
}

/// Re-renderer of a legacy file, its kind taken from the path (as
/// [`super::rerender`] does for export data files).
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    match path.and_then(LegacyKind::detect) {
        Some(kind) => Ok(rerender_kind(kind, bytes, path)),
        None => Err(crate::Error::InvalidInput(format!(
            "not a database_exports file: {}",
            path.map(|p| p.display().to_string()).unwrap_or_default()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_roles_and_user_roles() {
        let roles = "System Roles\nFormat: name|description|permissions|created_by|is_system_role\n\nadmin|All|[\"*\"]|system|yes\nuser|Std|[]|system|no\n";
        let (f, d) = LegacyFile::<LegacyRole>::parse(roles.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.rows.len(), 2);
        assert!(f.rows[0].is_system_role);
        assert_eq!(f.render(), roles);
        let ur = "User Roles\nFormat: x\n\nJuly 01 2025 at 09:05|Ann|r1|system|never\n";
        let (f, d) = LegacyFile::<LegacyUserRole>::parse(ur.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.rows[0].expires_at, None);
        assert_eq!(f.render(), ur);
        assert_eq!(
            LegacyKind::detect(Path::new("x/database_exports/roles/user_roles.txt")),
            Some(LegacyKind::UserRoles)
        );
        assert_eq!(LegacyKind::detect(Path::new("roles/user_roles.txt")), None);
    }
}
