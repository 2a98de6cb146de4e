//! `auth/` files: monthly auth requests, approvals, security events and
//! notifications (pipe files, see [`super::pipe`]) and the dormant daily sessions snapshot.
//!
//! String fields hold exactly what ThyWill wrote: a Python `None` value appears as the
//! text `None`, a missing key as `""`.

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
use crate::pycompat::strings;

/// One line of `auth/{YM}_auth_requests.txt`. The request's own ID is not in the
/// file (ThyWill never writes it).
///
/// Limits: `device_info` cannot hold `|` (written as `_`); a `|` in `user_id` is kept
/// (absorbing field); one in `ip_address` or `status` misplaces fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthRequestRecord {
    /// `created_at` (UTC in production), ISO.
    pub timestamp: PyDateTime,
    /// The requesting user's name.
    pub user_id: String,
    /// Device / user agent, `|` replaced by `_` when written.
    pub device_info: String,
    /// Client IP.
    pub ip_address: String,
    /// Status, `pending` by default.
    pub status: String,
    /// `expires_…` detail segment.
    pub expires_at: Option<PyDateTime>,
    /// `verification_required` detail segment.
    pub verification_required: bool,
    /// Any other comma-separated detail segments (ThyWill writes none), kept in order.
    pub other_details: Vec<String>,
}

impl PipeRecord for AuthRequestRecord {
    const TITLE: &'static str = "Authentication Requests";
    const FORMAT: &'static str = "timestamp|user_id|device_info|ip_address|status|details";
}

impl Record for AuthRequestRecord {
    fn render_line(&self) -> String {
        let mut details: Vec<String> = Vec::new();
        if let Some(e) = &self.expires_at {
            details.push(format!("expires_{}", e.isoformat()));
        }
        if self.verification_required {
            details.push("verification_required".into());
        }
        details.extend(self.other_details.iter().cloned());
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.timestamp.isoformat(),
            self.user_id,
            underscore_pipe(&self.device_info),
            self.ip_address,
            self.status,
            details.join(",")
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 6, 1)?;
        let [ts, user, device, ip, status, details] = f.as_slice() else {
            return Err("bad field count".into());
        };
        let mut expires_at = None;
        let mut verification_required = false;
        let mut other_details = Vec::new();
        if !details.is_empty() {
            for seg in details.split(',') {
                if let Some(e) = seg.strip_prefix("expires_") {
                    if expires_at.is_none() {
                        if let Ok(t) = parse_iso(e, "expires") {
                            expires_at = Some(t);
                            continue;
                        }
                    }
                    other_details.push(seg.to_string());
                } else if seg == "verification_required" && !verification_required {
                    verification_required = true;
                } else {
                    other_details.push(seg.to_string());
                }
            }
        }
        Ok(AuthRequestRecord {
            timestamp: parse_iso(ts, "timestamp")?,
            user_id: user.to_string(),
            device_info: device.to_string(),
            ip_address: ip.to_string(),
            status: status.to_string(),
            expires_at,
            verification_required,
            other_details,
        })
    }
}

/// One line of `auth/{YM}_auth_approvals.txt`.
///
/// Limits: a `|` in `approver_user_id` is kept (absorbing); one in another field misplaces
/// fields. The `action` is kept (ThyWill's importer ignores it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthApprovalRecord {
    /// When (UTC in production), ISO.
    pub timestamp: PyDateTime,
    /// The approved or rejected request's ID.
    pub auth_request_id: String,
    /// The approver's name.
    pub approver_user_id: String,
    /// `approved` or `rejected`.
    pub action: String,
    /// Free text, e.g. `Request approved via web interface`.
    pub details: String,
}

impl PipeRecord for AuthApprovalRecord {
    const TITLE: &'static str = "Authentication Approvals";
    const FORMAT: &'static str = "timestamp|auth_request_id|approver_user_id|action|details";
}

impl Record for AuthApprovalRecord {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.timestamp.isoformat(),
            self.auth_request_id,
            self.approver_user_id,
            self.action,
            self.details
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 5, 2)?;
        let [ts, req, approver, action, details] = f.as_slice() else {
            return Err("bad field count".into());
        };
        Ok(AuthApprovalRecord {
            timestamp: parse_iso(ts, "timestamp")?,
            auth_request_id: req.to_string(),
            approver_user_id: approver.to_string(),
            action: action.to_string(),
            details: details.to_string(),
        })
    }
}

/// One line of `auth/{YM}_security_events.txt`.
///
/// Limits: `user_agent` and `details` cannot hold `|` (written as `_`); a `|` in `user_id`
/// is kept (absorbing). Records with `=` in details are kept (FIXABLE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityEventRecord {
    /// When (UTC in production), ISO.
    pub timestamp: PyDateTime,
    /// E.g. `session_created`, `session_deleted`.
    pub event_type: String,
    /// The user's name (`None` when Python had None).
    pub user_id: String,
    /// Client IP.
    pub ip_address: String,
    /// User agent, `|` replaced by `_`.
    pub user_agent: String,
    /// Details, `|` replaced by `_`, e.g. `session_id=abc, fully_authenticated=True`.
    pub details: String,
}

impl PipeRecord for SecurityEventRecord {
    const TITLE: &'static str = "Security Events";
    const FORMAT: &'static str = "timestamp|event_type|user_id|ip_address|user_agent|details";
}

impl Record for SecurityEventRecord {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.timestamp.isoformat(),
            self.event_type,
            self.user_id,
            self.ip_address,
            underscore_pipe(&self.user_agent),
            underscore_pipe(&self.details)
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 6, 2)?;
        let [ts, ev, user, ip, ua, details] = f.as_slice() else {
            return Err("bad field count".into());
        };
        Ok(SecurityEventRecord {
            timestamp: parse_iso(ts, "timestamp")?,
            event_type: ev.to_string(),
            user_id: user.to_string(),
            ip_address: ip.to_string(),
            user_agent: ua.to_string(),
            details: details.to_string(),
        })
    }
}

/// One line of `auth/notifications/{YM}_notifications.txt` (DORMANT writer).
///
/// Limits: a `|` in `details` is kept (absorbing); one elsewhere misplaces fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationRecord {
    /// When, ISO.
    pub timestamp: PyDateTime,
    /// The notified user.
    pub user_id: String,
    /// The related auth request.
    pub auth_request_id: String,
    /// `auth_request` by default.
    pub notification_type: String,
    /// `created` by default; `read` marks it read.
    pub action: String,
    /// Free text.
    pub details: String,
}

impl PipeRecord for NotificationRecord {
    const TITLE: &'static str = "Notification Events";
    const FORMAT: &'static str =
        "timestamp|user_id|auth_request_id|notification_type|action|details";
}

impl Record for NotificationRecord {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.timestamp.isoformat(),
            self.user_id,
            self.auth_request_id,
            self.notification_type,
            self.action,
            self.details
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 6, 5)?;
        let [ts, user, req, ty, action, details] = f.as_slice() else {
            return Err("bad field count".into());
        };
        Ok(NotificationRecord {
            timestamp: parse_iso(ts, "timestamp")?,
            user_id: user.to_string(),
            auth_request_id: req.to_string(),
            notification_type: ty.to_string(),
            action: action.to_string(),
            details: details.to_string(),
        })
    }
}

/// `auth/{YM}_auth_requests.txt`.
pub type AuthRequestsFile = pipe::PipeFile<AuthRequestRecord>;
/// `auth/{YM}_auth_approvals.txt`.
pub type AuthApprovalsFile = pipe::PipeFile<AuthApprovalRecord>;
/// `auth/{YM}_security_events.txt`.
pub type SecurityEventsFile = pipe::PipeFile<SecurityEventRecord>;
/// `auth/notifications/{YM}_notifications.txt`.
pub type NotificationsFile = pipe::PipeFile<NotificationRecord>;

/// One row of `auth/{YYYY}_{MM}_{DD}_sessions_snapshot.txt` (DORMANT).
///
/// Limits: `device_info` cannot hold `|`; a `|` in `user_id` is kept (absorbing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotSession {
    /// Session ID.
    pub session_id: String,
    /// The user's name.
    pub user_id: String,
    /// Created, ISO or absent.
    pub created_at: Option<PyDateTime>,
    /// Expires, ISO or absent.
    pub expires_at: Option<PyDateTime>,
    /// Device, `|` replaced by `_`.
    pub device_info: String,
    /// Client IP.
    pub ip_address: String,
    /// `True`/`False`.
    pub is_fully_authenticated: bool,
}

impl Record for SnapshotSession {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.session_id,
            self.user_id,
            render_opt_iso(&self.created_at),
            render_opt_iso(&self.expires_at),
            underscore_pipe(&self.device_info),
            self.ip_address,
            strings::py_bool(self.is_fully_authenticated)
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 7, 1)?;
        let [id, user, created, expires, device, ip, auth] = f.as_slice() else {
            return Err("bad field count".into());
        };
        Ok(SnapshotSession {
            session_id: id.to_string(),
            user_id: user.to_string(),
            created_at: parse_opt_iso(created, "created_at")?,
            expires_at: parse_opt_iso(expires, "expires_at")?,
            device_info: device.to_string(),
            ip_address: ip.to_string(),
            is_fully_authenticated: parse_py_bool(auth, "is_fully_authenticated")?,
        })
    }
}

/// `auth/{YYYY}_{MM}_{DD}_sessions_snapshot.txt`: a full rewrite with a `TS_HC` title and a
/// `Total active sessions` trailer (no final LF).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionsSnapshotFile {
    /// The `TS_HC` text after `Session Snapshot for `, kept verbatim.
    pub generated: String,
    /// The rows.
    pub sessions: Vec<SnapshotSession>,
    /// The trailer's count (ThyWill writes the row count).
    pub total: u64,
}

const SNAPSHOT_FORMAT: &str =
    "Format: session_id|user_id|created_at|expires_at|device_info|ip_address|is_fully_authenticated";

impl SessionsSnapshotFile {
    /// A snapshot generated at `now` (local time) with these rows.
    pub fn new(now: &chrono::NaiveDateTime, sessions: Vec<SnapshotSession>) -> Self {
        let total = sessions.len() as u64;
        SessionsSnapshotFile {
            generated: timestamp::ts_hc(now),
            sessions,
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
            "Session Snapshot for {}\n{SNAPSHOT_FORMAT}\n\n",
            self.generated
        );
        for s in &self.sessions {
            out.push_str(&s.render_line());
            out.push('\n');
        }
        out.push_str(&format!("\nTotal active sessions: {}", self.total));
        out
    }

    /// Parses a snapshot; unreadable lines become diagnostics.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let layout = snapshot::SnapshotLayout {
            title_prefix: "Session Snapshot for ",
            format_line: SNAPSHOT_FORMAT,
            total_label: "Total active sessions",
            bad_total: "bad session total",
        };
        let (file, diags) =
            snapshot::parse_snapshot(bytes, path, &layout, SnapshotSession::parse_line);
        let file = SessionsSnapshotFile {
            generated: file.stamp,
            sessions: file.rows,
            total: file.total,
        };
        (file, diags)
    }
}

/// Re-renderer of the sessions snapshot (for `thywill archive check`).
pub(crate) fn rerender_sessions_snapshot(
    bytes: &[u8],
    path: Option<&Path>,
) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (f, d) = SessionsSnapshotFile::parse(bytes, path);
    Ok((f.render().into_bytes(), d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::pipe::PipeFile;

    #[test]
    fn auth_request_observed_line_round_trips() {
        let line = "2025-07-06T09:05:07.123456|Mary Jo|Mozilla_5.0|1.2.3.4|pending|expires_2025-07-13T09:05:07,verification_required";
        let r = AuthRequestRecord::parse_line(line).unwrap();
        assert_eq!(r.user_id, "Mary Jo");
        assert!(r.verification_required);
        assert_eq!(r.expires_at.unwrap().isoformat(), "2025-07-13T09:05:07");
        assert_eq!(r.render_line(), line);
    }

    #[test]
    fn approval_and_rejection_keep_their_action() {
        let a = "2025-07-06T09:06:00|req1|Admin|approved|Request approved via web interface";
        let r = AuthApprovalRecord::parse_line(a).unwrap();
        assert_eq!(r.render_line(), a);
        // A rejection stays a rejection (FIXABLE).
        let rej =
            "2025-07-06T09:06:00|req1|Admin|rejected|Request rejected by admin via web interface";
        assert_eq!(
            AuthApprovalRecord::parse_line(rej).unwrap().action,
            "rejected"
        );
    }

    #[test]
    fn security_event_with_equals_sign_is_kept() {
        // ThyWill's recovery drops every such record; we keep it.
        let line = "2025-07-06T09:06:01.000005|session_created|Mary Jo|1.2.3.4|UA_x|session_id=abc, fully_authenticated=True";
        let r = SecurityEventRecord::parse_line(line).unwrap();
        assert_eq!(r.details, "session_id=abc, fully_authenticated=True");
        assert_eq!(r.render_line(), line);
    }

    #[test]
    fn monthly_file_round_trip_and_header() {
        let bytes = b"Security Events for July 2025\nFormat: timestamp|event_type|user_id|ip_address|user_agent|details\n\n2025-07-06T09:06:01.000005|session_created|Mary Jo|1.2.3.4|UA_x|session_id=abc, fully_authenticated=True\n";
        let (f, d) = PipeFile::<SecurityEventRecord>::parse(bytes, None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.records.len(), 1);
        assert_eq!(f.render().as_bytes(), bytes);
    }

    #[test]
    fn sessions_snapshot_empty_and_full() {
        let empty = "Session Snapshot for July 07, 2025 at 00:01\nFormat: session_id|user_id|created_at|expires_at|device_info|ip_address|is_fully_authenticated\n\n\nTotal active sessions: 0";
        let (f, d) = SessionsSnapshotFile::parse(empty.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(f.render(), empty);
        let now = chrono::NaiveDate::from_ymd_opt(2025, 7, 7)
            .unwrap()
            .and_hms_opt(0, 1, 0)
            .unwrap();
        let s = SessionsSnapshotFile::new(
            &now,
            vec![SnapshotSession {
                session_id: "s1".into(),
                user_id: "Mary Jo".into(),
                created_at: Some(PyDateTime::Naive(now)),
                expires_at: None,
                device_info: "A|B".into(),
                ip_address: "".into(),
                is_fully_authenticated: true,
            }],
        );
        let text = s.render();
        assert!(text
            .contains("\ns1|Mary Jo|2025-07-07T00:01:00||A_B||True\n\nTotal active sessions: 1"));
        let (back, d) = SessionsSnapshotFile::parse(text.as_bytes(), None);
        assert!(d.is_empty());
        assert_eq!(back.render(), text);
    }
}
