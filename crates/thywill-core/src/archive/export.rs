//! Export-all files (spec §14): the generic data-file layout (§14.1) with one typed row per
//! file (§14.2), and `export_summary.txt` (§14.3). The sessions export shares its path with
//! the live file and lives in [`super::sessions`].
//!
//! Layout: `{title} (exported {TS_H})`, `Format: …`, two empty lines, rows joined by LF,
//! **no final LF**. Sentinels (`unknown`, `none`, `never`, `system`, `anonymous`,
//! `unlimited`) read back as `None`. The `\|` escape is honoured when splitting (FIXABLE
//! §19.2 #17) and undone in the escaped columns.
//!
//! Limits (documented per row type): escaped columns must not end with `\`; a raw `|`
//! is only recoverable in the row's absorbing field; a value equal to its column's sentinel
//! reads back as `None`; the changelog description cannot contain the 3 characters `\\n`.

use std::collections::VecDeque;
use std::io::BufRead;
use std::marker::PhantomData;
use std::path::Path;

use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::pipe::{
    self, escape_pipe, parse_human, parse_yes_no, split_absorbing, split_escaped, unescape_pipe,
    yes_no, Lines,
};
use super::timestamp::HumanTime;

/// A row type of an export data file.
pub trait ExportRecord: Sized {
    /// The text after `Format: `.
    const FORMAT: &'static str;
    /// The row's text as the export writes it.
    fn render_row(&self) -> String;
    /// Parses one row.
    fn parse_row(line: &str) -> Result<Self, String>;
}

/// The export's title line, e.g. `Prayer Marks (exported November 26 2026 at 13:24)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportHeader {
    /// `Prayer Marks`, or `Security Events for July 2025`.
    pub title: String,
    /// The `utcnow()` of the export.
    pub exported_at: HumanTime,
}

impl ExportHeader {
    /// The header bytes for rows of type `R` (title, Format, two empty lines).
    pub fn render<R: ExportRecord>(&self) -> String {
        format!(
            "{} (exported {})\nFormat: {}\n\n\n",
            self.title,
            self.exported_at,
            R::FORMAT
        )
    }

    fn parse(line: &str) -> Option<Self> {
        let (title, rest) = line.rsplit_once(" (exported ")?;
        let ts = rest.strip_suffix(')')?;
        Some(ExportHeader {
            title: title.to_string(),
            exported_at: parse_human(ts, "exported").ok()?,
        })
    }
}

/// A whole export data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportFile<R> {
    /// The title line (absent only in a damaged file).
    pub header: Option<ExportHeader>,
    /// Rows in file order.
    pub rows: Vec<R>,
}

impl<R: ExportRecord> ExportFile<R> {
    /// Writes the file as `_write_data_file` does, except atomically. Like ThyWill, a file
    /// with no rows is not written at all (an older file stays); returns whether it wrote.
    pub fn write(&self, path: &Path) -> crate::Result<bool> {
        if self.rows.is_empty() {
            return Ok(false);
        }
        super::fileops::atomic_write(path, self.render().as_bytes())?;
        Ok(true)
    }

    /// The bytes (`_write_data_file`).
    pub fn render(&self) -> String {
        let mut out = self
            .header
            .as_ref()
            .map(ExportHeader::render::<R>)
            .unwrap_or_default();
        let rows: Vec<String> = self.rows.iter().map(R::render_row).collect();
        out.push_str(&rows.join("\n"));
        out
    }

    /// Parses a whole file.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let mut reader = ExportReader::<_, R>::new(bytes, path);
        let mut rows = Vec::new();
        let mut diags = Vec::new();
        for item in reader.by_ref() {
            match item {
                Ok(r) => rows.push(r),
                Err(d) => diags.push(d),
            }
        }
        (
            ExportFile {
                header: reader.header.clone(),
                rows,
            },
            diags,
        )
    }
}

/// Streams the rows of an export data file.
pub struct ExportReader<B, R> {
    lines: Lines<B>,
    header: Option<ExportHeader>,
    pending: VecDeque<Diagnostic>,
    /// Set when the `Format:` line names another layout (other ThyWill versions wrote
    /// e.g. 5-field approvals): rows are then reported, never misread.
    other_layout: Option<String>,
    _row: PhantomData<R>,
}

impl<B: BufRead, R: ExportRecord> ExportReader<B, R> {
    /// Reads the header and prepares to stream rows.
    pub fn new(reader: B, path: Option<&Path>) -> Self {
        let mut lines = Lines::new(reader, path);
        let mut pending = VecDeque::new();
        let mut header = None;
        let mut other_layout = None;
        match lines.next() {
            Some(Ok(l)) => match ExportHeader::parse(&l.text) {
                Some(h) => header = Some(h),
                None => {
                    pending.push_back(lines.diag(l.number, "missing `… (exported …)` title"));
                    lines.push_back(l);
                }
            },
            Some(Err(d)) => pending.push_back(d),
            None => {}
        }
        if header.is_some() {
            match lines.next() {
                Some(Ok(l)) if l.text == format!("Format: {}", R::FORMAT) => {}
                Some(Ok(l)) if l.text.starts_with("Format:") => {
                    pending.push_back(lines.diag(
                        l.number,
                        format!("unexpected Format line (expected `Format: {}`)", R::FORMAT),
                    ));
                    other_layout = Some(l.text);
                }
                Some(Ok(l)) => lines.push_back(l),
                Some(Err(d)) => pending.push_back(d),
                None => {}
            }
        }
        ExportReader {
            lines,
            header,
            pending,
            other_layout,
            _row: PhantomData,
        }
    }

    /// The title line, if present.
    pub fn header(&self) -> Option<&ExportHeader> {
        self.header.as_ref()
    }
}

impl<B: BufRead, R: ExportRecord> Iterator for ExportReader<B, R> {
    type Item = Result<R, Diagnostic>;
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(d) = self.pending.pop_front() {
            return Some(Err(d));
        }
        loop {
            let line = match self.lines.next()? {
                Ok(l) => l,
                Err(d) => return Some(Err(d)),
            };
            if line.text.is_empty() {
                continue;
            }
            if let Some(layout) = &self.other_layout {
                return Some(Err(self.lines.diag(
                    line.number,
                    format!("row of an unsupported layout ({layout})"),
                )));
            }
            return Some(R::parse_row(&line.text).map_err(|e| self.lines.diag(line.number, e)));
        }
    }
}

fn or_sentinel(v: &Option<String>, sentinel: &str) -> String {
    match v.as_deref() {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => sentinel.to_string(),
    }
}

fn from_sentinel(v: &str, sentinel: &str) -> Option<String> {
    (v != sentinel && !v.is_empty()).then(|| v.to_string())
}

fn h(field: &str) -> Result<HumanTime, String> {
    parse_human(field, "timestamp")
}

macro_rules! fields {
    ($split:expr, [$($name:ident),+]) => {
        let f = $split?;
        let [$($name),+] = f.as_slice() else {
            return Err("bad field count".into());
        };
    };
}

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
    fn render_row(&self) -> String {
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
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.id, self.created_at, self.prayer_id, self.username
        )
    }
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.id, self.created_at, self.prayer_id, self.user_id
        )
    }
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
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
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
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
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
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
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
        format!(
            "{}|{}|{}",
            self.created_at, self.auth_request_id, self.approver_user_id
        )
    }
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
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
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
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
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.claimed_at,
            self.invite_token_id,
            self.user_id,
            or_sentinel(&self.ip_address, "unknown")
        )
    }
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
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
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
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
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.timestamp,
            self.event_type,
            or_sentinel(&self.user_id, "anonymous"),
            or_sentinel(&self.ip_address, "unknown"),
            self.details
        )
    }
    fn parse_row(line: &str) -> Result<Self, String> {
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
    fn render_row(&self) -> String {
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
    fn parse_row(line: &str) -> Result<Self, String> {
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

/// `export_summary.txt` (§14.3): lines joined by LF, no final LF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// `Exported:` time (`utcnow`), `TS_H`.
    pub exported_at: HumanTime,
    /// `(category, count)` in ThyWill's order (`prayer_data`, `user_data`,
    /// `user_attributes`, `sessions`, `authentication`, `invites`, `roles`, `security`,
    /// `system`), only categories with ≥1 record.
    pub categories: Vec<(String, u64)>,
}

impl ExportSummary {
    /// Writes the file (ThyWill overwrites in place; this writes atomically, which readers
    /// cannot tell apart except that they never see a half-written file). The folder must
    /// exist.
    pub fn write(&self, path: &Path) -> crate::Result<()> {
        super::fileops::atomic_write(path, self.render().as_bytes())
    }

    /// The bytes.
    pub fn render(&self) -> String {
        let mut lines = vec![
            "Complete Database Export Summary".to_string(),
            format!("Exported: {}", self.exported_at),
            String::new(),
            "This export includes all database data organized by category:".to_string(),
        ];
        for (c, n) in &self.categories {
            lines.push(format!("\u{2022} {c}: {n} records"));
        }
        lines.join("\n")
    }

    /// Parses the summary; unreadable lines become diagnostics.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let mut s = ExportSummary {
            exported_at: HumanTime::parse(""),
            categories: Vec::new(),
        };
        let content = match pipe::decode_lines(bytes, path) {
            Ok(c) => c,
            Err(d) => return (s, vec![d]),
        };
        let mut diags = Vec::new();
        for (i, line) in content.split('\n').enumerate() {
            let n = i + 1;
            if let Some(t) = line.strip_prefix("Exported: ") {
                match parse_human(t, "Exported") {
                    Ok(h) => s.exported_at = h,
                    Err(e) => diags.push(Diagnostic::new(path, n, e)),
                }
            } else if let Some(rest) = line.strip_prefix("\u{2022} ") {
                let parsed = rest
                    .strip_suffix(" records")
                    .and_then(|r| r.rsplit_once(": "))
                    .and_then(|(c, k)| Some((c.to_string(), k.parse::<u64>().ok()?)));
                match parsed {
                    Some(p) => s.categories.push(p),
                    None => {
                        diags.push(Diagnostic::new(path, n, "expected `• category: n records`"))
                    }
                }
            } else if !(line.is_empty()
                || line == "Complete Database Export Summary"
                || line == "This export includes all database data organized by category:")
            {
                diags.push(Diagnostic::new(
                    path,
                    n,
                    "unexpected line in export summary",
                ));
            }
        }
        (s, diags)
    }
}

/// Which export data file a path (relative to the archive root) is, by its last two
/// components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportDataKind {
    /// `prayers/prayer_attributes.txt`
    PrayerAttributes,
    /// `prayers/prayer_marks.txt`
    PrayerMarks,
    /// `prayers/prayer_skips.txt`
    PrayerSkips,
    /// `prayers/prayer_activity_logs.txt`
    PrayerActivityLogs,
    /// `users/notification_states.txt`
    NotificationStates,
    /// `authentication/auth_requests.txt`
    AuthRequests,
    /// `authentication/auth_approvals.txt`
    AuthApprovals,
    /// `authentication/auth_audit_logs.txt`
    AuthAuditLogs,
    /// `invites/invite_tokens.txt`
    InviteTokens,
    /// `invites/invite_token_usage.txt`
    InviteTokenUsage,
    /// `roles/roles.txt`
    Roles,
    /// `roles/user_roles.txt`
    UserRoles,
    /// `security/{YM}_security_events.txt`
    SecurityEvents,
    /// `system/changelog_entries.txt`
    ChangelogEntries,
}

impl ExportDataKind {
    /// Detects the kind from a path ending in `<dir>/<file>`.
    pub fn detect(path: &Path) -> Option<Self> {
        let file = path.file_name()?.to_str()?;
        let dir = path.parent()?.file_name()?.to_str()?;
        Some(match (dir, file) {
            ("prayers", "prayer_attributes.txt") => Self::PrayerAttributes,
            ("prayers", "prayer_marks.txt") => Self::PrayerMarks,
            ("prayers", "prayer_skips.txt") => Self::PrayerSkips,
            ("prayers", "prayer_activity_logs.txt") => Self::PrayerActivityLogs,
            ("users", "notification_states.txt") => Self::NotificationStates,
            ("authentication", "auth_requests.txt") => Self::AuthRequests,
            ("authentication", "auth_approvals.txt") => Self::AuthApprovals,
            ("authentication", "auth_audit_logs.txt") => Self::AuthAuditLogs,
            ("invites", "invite_tokens.txt") => Self::InviteTokens,
            ("invites", "invite_token_usage.txt") => Self::InviteTokenUsage,
            ("roles", "roles.txt") => Self::Roles,
            ("roles", "user_roles.txt") => Self::UserRoles,
            ("security", f) if f.ends_with("_security_events.txt") => Self::SecurityEvents,
            ("system", "changelog_entries.txt") => Self::ChangelogEntries,
            _ => return None,
        })
    }
}

fn rr<R: ExportRecord>(bytes: &[u8], path: Option<&Path>) -> (Vec<u8>, Vec<Diagnostic>) {
    let (f, d) = ExportFile::<R>::parse(bytes, path);
    (f.render().into_bytes(), d)
}

/// Re-renders an export data file of `kind`.
pub fn rerender_kind(
    kind: ExportDataKind,
    bytes: &[u8],
    path: Option<&Path>,
) -> (Vec<u8>, Vec<Diagnostic>) {
    use ExportDataKind as K;
    match kind {
        K::PrayerAttributes => rr::<ExportPrayerAttribute>(bytes, path),
        K::PrayerMarks => rr::<ExportPrayerMark>(bytes, path),
        K::PrayerSkips => rr::<ExportPrayerSkip>(bytes, path),
        K::PrayerActivityLogs => rr::<ExportPrayerActivityLog>(bytes, path),
        K::NotificationStates => rr::<ExportNotificationState>(bytes, path),
        K::AuthRequests => rr::<ExportAuthRequest>(bytes, path),
        K::AuthApprovals => rr::<ExportAuthApproval>(bytes, path),
        K::AuthAuditLogs => rr::<ExportAuthAuditLog>(bytes, path),
        K::InviteTokens => rr::<ExportInviteToken>(bytes, path),
        K::InviteTokenUsage => rr::<ExportInviteUsage>(bytes, path),
        K::Roles => rr::<ExportRole>(bytes, path),
        K::UserRoles => rr::<ExportUserRole>(bytes, path),
        K::SecurityEvents => rr::<ExportSecurityEvent>(bytes, path),
        K::ChangelogEntries => rr::<ExportChangelogEntry>(bytes, path),
    }
}

/// Re-renderer of an export data file; the kind comes from `path`.
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    match path.and_then(ExportDataKind::detect) {
        Some(k) => Ok(rerender_kind(k, bytes, path)),
        None => Err(crate::Error::InvalidInput(format!(
            "not an export data file: {}",
            path.map(|p| p.display().to_string()).unwrap_or_default()
        ))),
    }
}

/// Re-renderer of `export_summary.txt`.
pub fn rerender_summary(
    bytes: &[u8],
    path: Option<&Path>,
) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (s, d) = ExportSummary::parse(bytes, path);
    Ok((s.render().into_bytes(), d))
}

/// The legacy `database_exports/` layout (spec §16), read by ThyWill's
/// `import_database_exports.py`: the first 3 lines are a header (kept verbatim), then one
/// row per line with an exact field count and strict `TS_H`. Sessions there use the §9
/// layout ([`super::sessions::SessionsFile`]); invite tokens and security rows use
/// [`ExportInviteToken`] and [`ExportSecurityEvent`]; roles and user roles have no ID
/// ([`LegacyRole`], [`LegacyUserRole`]).
pub mod legacy {
    use super::*;

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
        fn render_row(&self) -> String {
            format!(
                "{}|{}|{}|{}|{}",
                self.role_name,
                self.description,
                self.permissions,
                self.created_by,
                yes_no(self.is_system_role)
            )
        }
        fn parse_row(line: &str) -> Result<Self, String> {
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
        fn render_row(&self) -> String {
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
        fn parse_row(line: &str) -> Result<Self, String> {
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

    impl<R: ExportRecord> LegacyFile<R> {
        /// The bytes.
        pub fn render(&self) -> String {
            let mut lines: Vec<String> = self.header_lines.clone();
            lines.extend(self.rows.iter().map(R::render_row));
            let mut out = lines.join("\n");
            if self.final_newline && !lines.is_empty() {
                out.push('\n');
            }
            out
        }

        /// Parses a legacy file; bad rows become diagnostics.
        pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
            let mut lines = Lines::new(bytes, path);
            let mut file = LegacyFile {
                header_lines: Vec::new(),
                rows: Vec::new(),
                final_newline: true,
            };
            let mut diags = Vec::new();
            for item in lines.by_ref() {
                match item {
                    Ok(l) if file.header_lines.len() < 3 && l.number <= 3 => {
                        file.header_lines.push(l.text)
                    }
                    Ok(l) if l.text.is_empty() => {}
                    Ok(l) => match R::parse_row(&l.text) {
                        Ok(r) => file.rows.push(r),
                        Err(e) => diags.push(Diagnostic::new(path, l.number, e)),
                    },
                    Err(d) => diags.push(d),
                }
            }
            file.final_newline = lines.last_terminated;
            (file, diags)
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
    }

    fn lr<R: ExportRecord>(bytes: &[u8], path: Option<&Path>) -> (Vec<u8>, Vec<Diagnostic>) {
        let (f, d) = LegacyFile::<R>::parse(bytes, path);
        (f.render().into_bytes(), d)
    }

    /// Re-renders a legacy file of `kind`.
    pub fn rerender_kind(
        kind: LegacyKind,
        bytes: &[u8],
        path: Option<&Path>,
    ) -> (Vec<u8>, Vec<Diagnostic>) {
        match kind {
            LegacyKind::Sessions => {
                let (f, d) = super::super::sessions::SessionsFile::parse(bytes, path);
                (f.render().into_bytes(), d)
            }
            LegacyKind::InviteTokens => lr::<ExportInviteToken>(bytes, path),
            LegacyKind::Security => lr::<ExportSecurityEvent>(bytes, path),
            LegacyKind::Roles => lr::<LegacyRole>(bytes, path),
            LegacyKind::UserRoles => lr::<LegacyUserRole>(bytes, path),
        }
    }

    /// Re-renderer of a legacy file, its kind taken from the path (as
    /// [`super::rerender`] does for export data files).
    pub fn rerender(
        bytes: &[u8],
        path: Option<&Path>,
    ) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_attribute_export_with_escaped_pipe() {
        // Test vector 46: ThyWill's import-all reads `x\` and created_by `y`; we read `x|y`.
        let bytes = "Prayer Attributes (exported November 26 2026 at 13:24)\nFormat: id|created_at|prayer_id|attribute_name|attribute_value|created_by\n\n\na1|July 01 2025 at 09:01|p1|answer_testimony|x\\|y|Mary Jo";
        let (f, d) = ExportFile::<ExportPrayerAttribute>::parse(bytes.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.rows[0].attribute_value, "x|y");
        assert_eq!(f.rows[0].created_by, "Mary Jo");
        assert_eq!(f.render(), bytes);
    }

    #[test]
    fn observed_changelog_export() {
        let bytes = "System Changelog Entries (exported November 26 2026 at 13:24)\nFormat: created_at|commit_id|original_message|friendly_description|change_type|commit_date\n\n\nJuly 01 2025 at 09:14|c1|fix\\|x|line1\\\\nline2|fixed|July 01 2025 at 00:00";
        let (f, d) = ExportFile::<ExportChangelogEntry>::parse(bytes.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.rows[0].original_message, "fix|x");
        assert_eq!(f.rows[0].friendly_description, "line1\nline2");
        assert_eq!(f.render(), bytes);
    }

    #[test]
    fn rows_of_another_layout_are_reported_not_misread() {
        // The 5-field approvals some ThyWill versions export.
        let bytes = "Authentication Approvals (exported November 26 2026 at 13:24)\nFormat: approved_at|request_id|approver_user_id|approval_status|notes\n\n\nJuly 01 2025 at 09:01|r1|Admin|approved|ok";
        let (f, d) = ExportFile::<ExportAuthApproval>::parse(bytes.as_bytes(), None);
        assert!(f.rows.is_empty());
        let lines: Vec<usize> = d.iter().map(|d| d.line).collect();
        assert_eq!(lines, vec![2, 5]);
    }

    #[test]
    fn summary_round_trip() {
        let text = "Complete Database Export Summary\nExported: November 26 2026 at 13:24\n\nThis export includes all database data organized by category:\n\u{2022} prayer_data: 12 records\n\u{2022} sessions: 3 records";
        let (s, d) = ExportSummary::parse(text.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(s.categories.len(), 2);
        assert_eq!(s.render(), text);
    }

    #[test]
    fn kinds_detected_from_paths() {
        assert_eq!(
            ExportDataKind::detect(Path::new("security/2025_07_security_events.txt")),
            Some(ExportDataKind::SecurityEvents)
        );
        assert_eq!(
            ExportDataKind::detect(Path::new("text_archives/invites/invite_tokens.txt")),
            Some(ExportDataKind::InviteTokens)
        );
        assert_eq!(ExportDataKind::detect(Path::new("x.txt")), None);
    }
}
