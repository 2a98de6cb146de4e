//! The row types of the export data files: one per file, each a [`Record`] whose line is
//! a row, with the file's `Format:` line ([`ExportRecord`]).
//!
//! Sentinels (`unknown`, `none`, `never`, `system`, `anonymous`, `unlimited`) read back as
//! `None`. The `\|` escape is honoured when splitting and undone in the escaped columns.

use serde::Serialize;

use super::file::ExportRecord;
use crate::archive::fields::{
    escape_pipe, parse_human, parse_yes_no, split_absorbing, split_escaped, unescape_pipe, yes_no,
};
use crate::archive::record::Record;
use crate::archive::timestamp::HumanTime;

fn or_sentinel(v: &Option<String>, sentinel: &str) -> String {
    match v.as_deref() {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => sentinel.to_string(),
    }
}

fn from_sentinel(v: &str, sentinel: &str) -> Option<String> {
    (v != sentinel && !v.is_empty()).then(|| v.to_string())
}

pub(super) fn h(field: &str) -> Result<HumanTime, String> {
    parse_human(field, "timestamp")
}

/// Splits a line with `$split` and binds the fields to the names, or returns the split's
/// error (a row with too few fields).
macro_rules! fields {
    ($split:expr, [$($name:ident),+]) => {
        let f = $split?;
        let [$($name),+] = f.as_slice() else {
            return Err("bad field count".into());
        };
    };
}
pub(super) use fields;

/// `prayers/prayer_attributes.txt`. The value is `\|`-escaped; `None` was written as `""`.
/// Absorbing field: `attribute_value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportPrayerAttribute {
    /// Row ID.
    pub id: String,
    /// `TS_H`.
    pub created_at: HumanTime,
    /// Prayer ID.
    pub prayer_id: String,
    /// Attribute name.
    pub attribute_name: String,
    /// Attribute value (unescaped).
    pub attribute_value: String,
    /// Creator (`None` as text when unset).
    pub created_by: String,
}

impl ExportRecord for ExportPrayerAttribute {
    const FORMAT: &'static str =
        "id|created_at|prayer_id|attribute_name|attribute_value|created_by";
}

impl Record for ExportPrayerAttribute {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.id,
            self.created_at,
            self.prayer_id,
            self.attribute_name,
            escape_pipe(&self.attribute_value),
            self.created_by
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(split_escaped(line, 6, 4), [id, ts, prayer, name, value, by]);
        Ok(ExportPrayerAttribute {
            id: id.to_string(),
            created_at: h(ts)?,
            prayer_id: prayer.to_string(),
            attribute_name: name.to_string(),
            attribute_value: unescape_pipe(value),
            created_by: by.to_string(),
        })
    }
}

/// `prayers/prayer_marks.txt`. Absorbing field: `username`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportPrayerMark {
    /// Row ID.
    pub id: String,
    /// `TS_H`.
    pub created_at: HumanTime,
    /// Prayer ID.
    pub prayer_id: String,
    /// Who prayed.
    pub username: String,
}

impl ExportRecord for ExportPrayerMark {
    const FORMAT: &'static str = "id|created_at|prayer_id|username";
}

impl Record for ExportPrayerMark {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.id, self.created_at, self.prayer_id, self.username
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(split_absorbing(line, 4, 3), [id, ts, prayer, user]);
        Ok(ExportPrayerMark {
            id: id.to_string(),
            created_at: h(ts)?,
            prayer_id: prayer.to_string(),
            username: user.to_string(),
        })
    }
}

/// `prayers/prayer_skips.txt`. Absorbing field: `user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportPrayerSkip {
    /// Row ID.
    pub id: String,
    /// `TS_H`.
    pub created_at: HumanTime,
    /// Prayer ID.
    pub prayer_id: String,
    /// Who skipped.
    pub user_id: String,
}

impl ExportRecord for ExportPrayerSkip {
    const FORMAT: &'static str = "id|created_at|prayer_id|user_id";
}

impl Record for ExportPrayerSkip {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.id, self.created_at, self.prayer_id, self.user_id
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(split_absorbing(line, 4, 3), [id, ts, prayer, user]);
        Ok(ExportPrayerSkip {
            id: id.to_string(),
            created_at: h(ts)?,
            prayer_id: prayer.to_string(),
            user_id: user.to_string(),
        })
    }
}

/// `prayers/prayer_activity_logs.txt`. Old/new values are `\|`-escaped (`None` → `""`).
/// Absorbing field for raw pipes: `user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportPrayerActivityLog {
    /// Row ID.
    pub id: String,
    /// `TS_H`.
    pub created_at: HumanTime,
    /// Prayer ID.
    pub prayer_id: String,
    /// Actor.
    pub user_id: String,
    /// Action, e.g. `set_answered`.
    pub action: String,
    /// Old value (unescaped).
    pub old_value: String,
    /// New value (unescaped).
    pub new_value: String,
}

impl ExportRecord for ExportPrayerActivityLog {
    const FORMAT: &'static str = "id|created_at|prayer_id|user_id|action|old_value|new_value";
}

impl Record for ExportPrayerActivityLog {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.id,
            self.created_at,
            self.prayer_id,
            self.user_id,
            self.action,
            escape_pipe(&self.old_value),
            escape_pipe(&self.new_value)
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(
            split_escaped(line, 7, 3),
            [id, ts, prayer, user, action, old, new]
        );
        Ok(ExportPrayerActivityLog {
            id: id.to_string(),
            created_at: h(ts)?,
            prayer_id: prayer.to_string(),
            user_id: user.to_string(),
            action: action.to_string(),
            old_value: unescape_pipe(old),
            new_value: unescape_pipe(new),
        })
    }
}

/// `users/notification_states.txt`. Absorbing field: `user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportNotificationState {
    /// Row ID.
    pub id: String,
    /// `TS_H`.
    pub created_at: HumanTime,
    /// The user.
    pub user_id: String,
    /// The auth request.
    pub auth_request_id: String,
    /// Notification type.
    pub notification_type: String,
    /// `yes`/`no`.
    pub is_read: bool,
    /// `TS_H`, or `never`.
    pub read_at: Option<HumanTime>,
}

impl ExportRecord for ExportNotificationState {
    const FORMAT: &'static str =
        "id|created_at|user_id|auth_request_id|notification_type|is_read|read_at";
}

impl Record for ExportNotificationState {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.id,
            self.created_at,
            self.user_id,
            self.auth_request_id,
            self.notification_type,
            yes_no(self.is_read),
            self.read_at
                .as_ref()
                .map(|t| t.text.clone())
                .unwrap_or_else(|| "never".into())
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(
            split_absorbing(line, 7, 2),
            [id, ts, user, req, ty, read, read_at]
        );
        Ok(ExportNotificationState {
            id: id.to_string(),
            created_at: h(ts)?,
            user_id: user.to_string(),
            auth_request_id: req.to_string(),
            notification_type: ty.to_string(),
            is_read: parse_yes_no(read, "is_read")?,
            read_at: if *read_at == "never" {
                None
            } else {
                Some(h(read_at)?)
            },
        })
    }
}

/// `authentication/auth_requests.txt`. Absorbing field: `device_info` (user agents hold
/// raw pipes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportAuthRequest {
    /// Request ID.
    pub id: String,
    /// `TS_H`.
    pub created_at: HumanTime,
    /// The user.
    pub user_id: String,
    /// Device, or `unknown`.
    pub device_info: Option<String>,
    /// IP, or `unknown`.
    pub ip_address: Option<String>,
    /// Status.
    pub status: String,
    /// `TS_H`.
    pub expires_at: HumanTime,
}

impl ExportRecord for ExportAuthRequest {
    const FORMAT: &'static str = "id|created_at|user_id|device_info|ip_address|status|expires_at";
}

impl Record for ExportAuthRequest {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.id,
            self.created_at,
            self.user_id,
            or_sentinel(&self.device_info, "unknown"),
            or_sentinel(&self.ip_address, "unknown"),
            self.status,
            self.expires_at
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(
            split_absorbing(line, 7, 3),
            [id, ts, user, device, ip, status, exp]
        );
        Ok(ExportAuthRequest {
            id: id.to_string(),
            created_at: h(ts)?,
            user_id: user.to_string(),
            device_info: from_sentinel(device, "unknown"),
            ip_address: from_sentinel(ip, "unknown"),
            status: status.to_string(),
            expires_at: h(exp)?,
        })
    }
}

/// `authentication/auth_approvals.txt`. Absorbing field: `approver_user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportAuthApproval {
    /// `TS_H`.
    pub created_at: HumanTime,
    /// The request.
    pub auth_request_id: String,
    /// The approver.
    pub approver_user_id: String,
}

impl ExportRecord for ExportAuthApproval {
    const FORMAT: &'static str = "created_at|auth_request_id|approver_user_id";
}

impl Record for ExportAuthApproval {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}",
            self.created_at, self.auth_request_id, self.approver_user_id
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(split_absorbing(line, 3, 2), [ts, req, approver]);
        Ok(ExportAuthApproval {
            created_at: h(ts)?,
            auth_request_id: req.to_string(),
            approver_user_id: approver.to_string(),
        })
    }
}

/// `authentication/auth_audit_logs.txt`. `details` and `user_agent` are `\|`-escaped.
/// Absorbing field for raw pipes: `actor_user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportAuthAuditLog {
    /// `TS_H`.
    pub created_at: HumanTime,
    /// The request.
    pub auth_request_id: String,
    /// Action.
    pub action: String,
    /// Actor, or `unknown`.
    pub actor_user_id: Option<String>,
    /// Actor type, or `unknown`.
    pub actor_type: Option<String>,
    /// Details (unescaped).
    pub details: String,
    /// IP, or `unknown`.
    pub ip_address: Option<String>,
    /// User agent (unescaped), or `unknown`.
    pub user_agent: Option<String>,
}

impl ExportRecord for ExportAuthAuditLog {
    const FORMAT: &'static str =
        "created_at|auth_request_id|action|actor_user_id|actor_type|details|ip_address|user_agent";
}

impl Record for ExportAuthAuditLog {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}",
            self.created_at,
            self.auth_request_id,
            self.action,
            or_sentinel(&self.actor_user_id, "unknown"),
            or_sentinel(&self.actor_type, "unknown"),
            escape_pipe(&self.details),
            or_sentinel(&self.ip_address, "unknown"),
            escape_pipe(&or_sentinel(&self.user_agent, "unknown"))
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(
            split_escaped(line, 8, 3),
            [ts, req, action, actor, ty, details, ip, ua]
        );
        Ok(ExportAuthAuditLog {
            created_at: h(ts)?,
            auth_request_id: req.to_string(),
            action: action.to_string(),
            actor_user_id: from_sentinel(actor, "unknown"),
            actor_type: from_sentinel(ty, "unknown"),
            details: unescape_pipe(details),
            ip_address: from_sentinel(ip, "unknown"),
            user_agent: from_sentinel(&unescape_pipe(ua), "unknown"),
        })
    }
}

/// `invites/invite_tokens.txt`. Absorbing field: `created_by_user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportInviteToken {
    /// The token.
    pub token: String,
    /// Creator.
    pub created_by_user: String,
    /// Uses so far.
    pub usage_count: i64,
    /// `None` = `unlimited` (a stored 0 is also written `unlimited`).
    pub max_uses: Option<i64>,
    /// `TS_H`.
    pub expires_at: HumanTime,
    /// Last user, or `none`.
    pub used_by_user_id: Option<String>,
}

impl ExportRecord for ExportInviteToken {
    const FORMAT: &'static str =
        "token|created_by_user|usage_count|max_uses|expires_at|used_by_user_id";
}

impl Record for ExportInviteToken {
    fn render_line(&self) -> String {
        let max = match self.max_uses {
            Some(m) if m != 0 => m.to_string(),
            _ => "unlimited".into(),
        };
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.token,
            self.created_by_user,
            self.usage_count,
            max,
            self.expires_at,
            or_sentinel(&self.used_by_user_id, "none")
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(
            split_absorbing(line, 6, 1),
            [token, by, count, max, exp, used_by]
        );
        let usage_count = count
            .parse()
            .map_err(|_| format!("usage_count `{count}` is not an integer"))?;
        let max_uses = if ["unlimited", "none"].contains(max) {
            None
        } else {
            Some(
                max.parse()
                    .map_err(|_| format!("max_uses `{max}` is not an integer"))?,
            )
        };
        Ok(ExportInviteToken {
            token: token.to_string(),
            created_by_user: by.to_string(),
            usage_count,
            max_uses,
            expires_at: h(exp)?,
            used_by_user_id: from_sentinel(used_by, "none"),
        })
    }
}

/// `invites/invite_token_usage.txt`. Absorbing field: `user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportInviteUsage {
    /// `TS_H`.
    pub claimed_at: HumanTime,
    /// The token.
    pub invite_token_id: String,
    /// Who claimed it.
    pub user_id: String,
    /// IP, or `unknown`.
    pub ip_address: Option<String>,
}

impl ExportRecord for ExportInviteUsage {
    const FORMAT: &'static str = "claimed_at|invite_token_id|user_id|ip_address";
}

impl Record for ExportInviteUsage {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.claimed_at,
            self.invite_token_id,
            self.user_id,
            or_sentinel(&self.ip_address, "unknown")
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(split_absorbing(line, 4, 2), [ts, token, user, ip]);
        Ok(ExportInviteUsage {
            claimed_at: h(ts)?,
            invite_token_id: token.to_string(),
            user_id: user.to_string(),
            ip_address: from_sentinel(ip, "unknown"),
        })
    }
}

/// `roles/roles.txt`. Absorbing field: `permissions` (raw JSON text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRole {
    /// Role ID.
    pub id: String,
    /// Name.
    pub role_name: String,
    /// Description, verbatim.
    pub description: String,
    /// Permissions JSON text as stored.
    pub permissions: String,
    /// Creator, or `system`.
    pub created_by: Option<String>,
    /// `yes`/`no`.
    pub is_system_role: bool,
}

impl ExportRecord for ExportRole {
    const FORMAT: &'static str = "id|role_name|description|permissions|created_by|is_system_role";
}

impl Record for ExportRole {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.id,
            self.role_name,
            self.description,
            self.permissions,
            or_sentinel(&self.created_by, "system"),
            yes_no(self.is_system_role)
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(
            split_absorbing(line, 6, 3),
            [id, name, desc, perms, by, system]
        );
        Ok(ExportRole {
            id: id.to_string(),
            role_name: name.to_string(),
            description: desc.to_string(),
            permissions: perms.to_string(),
            created_by: from_sentinel(by, "system"),
            is_system_role: parse_yes_no(system, "is_system_role")?,
        })
    }
}

/// `roles/user_roles.txt`. Absorbing field: `user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportUserRole {
    /// Row ID.
    pub id: String,
    /// `TS_H`.
    pub granted_at: HumanTime,
    /// The user.
    pub user_id: String,
    /// The role's ID.
    pub role_id: String,
    /// Granter, or `system`.
    pub granted_by: Option<String>,
    /// `TS_H`, or `never`.
    pub expires_at: Option<HumanTime>,
}

impl ExportRecord for ExportUserRole {
    const FORMAT: &'static str = "id|granted_at|user_id|role_id|granted_by|expires_at";
}

impl Record for ExportUserRole {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.id,
            self.granted_at,
            self.user_id,
            self.role_id,
            or_sentinel(&self.granted_by, "system"),
            self.expires_at
                .as_ref()
                .map(|t| t.text.clone())
                .unwrap_or_else(|| "never".into())
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(split_absorbing(line, 6, 2), [id, ts, user, role, by, exp]);
        Ok(ExportUserRole {
            id: id.to_string(),
            granted_at: h(ts)?,
            user_id: user.to_string(),
            role_id: role.to_string(),
            granted_by: from_sentinel(by, "system"),
            expires_at: if *exp == "never" { None } else { Some(h(exp)?) },
        })
    }
}

/// `security/{YM}_security_events.txt` (5 fields, no user agent). Absorbing field: `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSecurityEvent {
    /// `TS_H`.
    pub timestamp: HumanTime,
    /// Event type.
    pub event_type: String,
    /// User, or `anonymous`.
    pub user_id: Option<String>,
    /// IP, or `unknown`.
    pub ip_address: Option<String>,
    /// Details, raw.
    pub details: String,
}

impl ExportRecord for ExportSecurityEvent {
    const FORMAT: &'static str = "timestamp|event_type|user_id|ip_address|details";
}

impl Record for ExportSecurityEvent {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.timestamp,
            self.event_type,
            or_sentinel(&self.user_id, "anonymous"),
            or_sentinel(&self.ip_address, "unknown"),
            self.details
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(split_absorbing(line, 5, 4), [ts, ev, user, ip, details]);
        Ok(ExportSecurityEvent {
            timestamp: h(ts)?,
            event_type: ev.to_string(),
            user_id: from_sentinel(user, "anonymous"),
            ip_address: from_sentinel(ip, "unknown"),
            details: details.to_string(),
        })
    }
}

/// `system/changelog_entries.txt`. The message is `\|`-escaped; the description is
/// `\|`-escaped with LF written as the 3 characters `\\n`. Absorbing field for raw
/// pipes: `original_message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportChangelogEntry {
    /// `TS_H`.
    pub created_at: HumanTime,
    /// Commit ID.
    pub commit_id: String,
    /// Commit message (unescaped).
    pub original_message: String,
    /// Friendly description (unescaped, may contain LF).
    pub friendly_description: String,
    /// Change type.
    pub change_type: String,
    /// `TS_H`.
    pub commit_date: HumanTime,
}

impl ExportRecord for ExportChangelogEntry {
    const FORMAT: &'static str =
        "created_at|commit_id|original_message|friendly_description|change_type|commit_date";
}

impl Record for ExportChangelogEntry {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.created_at,
            self.commit_id,
            escape_pipe(&self.original_message),
            escape_pipe(&self.friendly_description).replace('\n', "\\\\n"),
            self.change_type,
            self.commit_date
        )
    }
    fn parse_line(line: &str) -> Result<Self, String> {
        fields!(split_escaped(line, 6, 2), [ts, id, msg, desc, ty, date]);
        Ok(ExportChangelogEntry {
            created_at: h(ts)?,
            commit_id: id.to_string(),
            original_message: unescape_pipe(msg),
            friendly_description: unescape_pipe(&desc.replace("\\\\n", "\n")),
            change_type: ty.to_string(),
            commit_date: h(date)?,
        })
    }
}
