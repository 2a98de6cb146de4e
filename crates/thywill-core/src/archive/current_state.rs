//! `system/current_state/*.txt` snapshots: a `#` comment header, then blocks,
//! each followed by one empty line (`'\n'.join(lines)` with a final `""`).
//!
//! `active_sessions.txt` (LIVE) is typed; the header is never taken for a session
//! (FIXABLE) and display names containing `(` are kept whole. The DORMANT siblings
//! (`active_admins`, `active_tokens`, `auth_requests`) keep their block lines verbatim.

use std::path::Path;

use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::fields::{parse_iso, parse_py_bool};
use super::lines::decode_lines;
use crate::pycompat::datetime::PyDateTime;
use crate::pycompat::strings;

/// One session block of `active_sessions.txt`.
///
/// Limits: no field may contain a line break; `username` cannot contain ` (ID: `.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveSession {
    /// Session ID.
    pub session_id: String,
    /// Display name, or `Unknown User` as written when the user row was missing.
    pub display_name: String,
    /// The session's username.
    pub username: String,
    /// `str(created_at)`.
    pub created_at: PyDateTime,
    /// `str(expires_at)`; absent in the variant some ThyWill versions write (with
    /// `Last seen:` instead, kept in [`ActiveSession::other`]).
    pub expires_at: Option<PyDateTime>,
    /// Other `  Key: value` lines after `Created:` (e.g. `Last seen`), verbatim, in order.
    pub other: Vec<(String, String)>,
    /// IP; `None` is written (and read) as the text `None`.
    pub ip_address: Option<String>,
    /// Device; `None`/empty is written as `Unknown` (and `Unknown` reads back as `None`).
    pub device_info: Option<String>,
    /// `True`/`False`.
    pub is_fully_authenticated: bool,
}

impl ActiveSession {
    fn render(&self, out: &mut Vec<String>) {
        out.push(format!("Session {}:", self.session_id));
        out.push(format!(
            "  User: {} (ID: {})",
            self.display_name, self.username
        ));
        out.push(format!("  Created: {}", self.created_at.py_str()));
        for (k, v) in &self.other {
            out.push(format!("  {k}: {v}"));
        }
        if let Some(e) = &self.expires_at {
            out.push(format!("  Expires: {}", e.py_str()));
        }
        out.push(format!(
            "  IP: {}",
            strings::py_opt_str(self.ip_address.as_deref())
        ));
        out.push(format!(
            "  Device: {}",
            match self.device_info.as_deref() {
                Some(d) if !d.is_empty() => d,
                _ => "Unknown",
            }
        ));
        out.push(format!(
            "  Fully authenticated: {}",
            strings::py_bool(self.is_fully_authenticated)
        ));
        out.push(String::new());
    }
}

/// The parsed `# …` header of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotHeader {
    /// E.g. `Active Sessions Snapshot`.
    pub title: String,
    /// `# Generated:` (aware UTC ISO).
    pub generated: PyDateTime,
    /// E.g. `active sessions` in `# Total active sessions: 3`.
    pub total_label: String,
    /// The count.
    pub total: u64,
}

/// A parsed `system/current_state/*.txt` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CurrentStateFile {
    /// `active_sessions.txt`.
    ActiveSessions {
        /// The header.
        header: SnapshotHeader,
        /// The sessions, in file order.
        sessions: Vec<ActiveSession>,
    },
    /// Any other snapshot: typed header, block lines verbatim (without the final `""`).
    Other {
        /// The header.
        header: SnapshotHeader,
        /// Lines after the header's blank line.
        lines: Vec<String>,
    },
}

impl CurrentStateFile {
    /// `active_sessions.txt` generated at `generated` with these sessions.
    pub fn active_sessions(generated: PyDateTime, sessions: Vec<ActiveSession>) -> Self {
        CurrentStateFile::ActiveSessions {
            header: SnapshotHeader {
                title: "Active Sessions Snapshot".into(),
                generated,
                total_label: "active sessions".into(),
                total: sessions.len() as u64,
            },
            sessions,
        }
    }

    /// Writes the file (ThyWill overwrites in place; this writes atomically, which readers
    /// cannot tell apart except that they never see a half-written file). The folder must
    /// exist.
    pub fn write(&self, path: &Path) -> crate::Result<()> {
        super::fileops::atomic_write(path, self.render().as_bytes())
    }

    /// ThyWill's bytes.
    pub fn render(&self) -> String {
        let (header, body) = match self {
            CurrentStateFile::ActiveSessions { header, sessions } => {
                let mut body = Vec::new();
                for s in sessions {
                    s.render(&mut body);
                }
                (header, body)
            }
            CurrentStateFile::Other { header, lines } => {
                let mut body = lines.clone();
                if !body.is_empty() {
                    body.push(String::new());
                }
                (header, body)
            }
        };
        let mut lines = vec![
            format!("# {}", header.title),
            format!("# Generated: {}", header.generated.isoformat()),
            format!("# Total {}: {}", header.total_label, header.total),
            String::new(),
        ];
        lines.extend(body);
        lines.join("\n")
    }

    /// Parses a snapshot. A file whose title is `Active Sessions Snapshot` is typed.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> Result<(Self, Vec<Diagnostic>), Diagnostic> {
        let content = decode_lines(bytes, path)?;
        let lines: Vec<&str> = content.split('\n').collect();
        let mut diags = Vec::new();
        let get = |i: usize| lines.get(i).copied().unwrap_or_default();
        // A missing line is reported at the last line that exists.
        let at = |n: usize| n.min(lines.len());
        let title = get(0)
            .strip_prefix("# ")
            .ok_or_else(|| Diagnostic::new(path, at(1), "missing `# … Snapshot` title"))?
            .to_string();
        let generated = get(1)
            .strip_prefix("# Generated: ")
            .ok_or_else(|| Diagnostic::new(path, at(2), "missing `# Generated:` line"))
            .and_then(|g| parse_iso(g, "generated").map_err(|e| Diagnostic::new(path, at(2), e)))?;
        let (total_label, total) = get(2)
            .strip_prefix("# Total ")
            .and_then(|t| t.rsplit_once(": "))
            .and_then(|(l, n)| Some((l.to_string(), n.parse::<u64>().ok()?)))
            .ok_or_else(|| Diagnostic::new(path, at(3), "missing `# Total …: n` line"))?;
        let header = SnapshotHeader {
            title,
            generated,
            total_label,
            total,
        };
        // 1-based line number of body[0].
        let mut body_start = 5;
        let mut body: Vec<&str> = lines.get(4..).unwrap_or_default().to_vec();
        if lines.len() > 3 && !get(3).is_empty() {
            diags.push(Diagnostic::new(
                path,
                4,
                "missing blank line after the header",
            ));
            body = lines.get(3..).unwrap_or_default().to_vec();
            body_start = 4;
        }
        // The writer's final "" element.
        if body.last() == Some(&"") {
            body.pop();
        }
        if header.title != "Active Sessions Snapshot" {
            let lines = body.iter().map(|s| s.to_string()).collect();
            return Ok((CurrentStateFile::Other { header, lines }, diags));
        }
        let mut sessions = Vec::new();
        let mut i = 0;
        while i < body.len() {
            let n = body_start + i;
            let line = body.get(i).copied().unwrap_or_default();
            if line.is_empty() {
                i += 1;
                continue;
            }
            let Some(id) = line
                .strip_prefix("Session ")
                .and_then(|r| r.strip_suffix(':'))
            else {
                diags.push(Diagnostic::new(path, n, "expected `Session {id}:`"));
                i += 1;
                continue;
            };
            let mut j = i + 1;
            let mut fields: Vec<(&str, &str, usize)> = Vec::new();
            while let Some(l) = body.get(j) {
                let Some(kv) = l.strip_prefix("  ") else {
                    break;
                };
                if let Some((k, v)) = kv.split_once(": ") {
                    fields.push((k, v, body_start + j));
                } else {
                    diags.push(Diagnostic::new(
                        path,
                        body_start + j,
                        "expected `  Key: value`",
                    ));
                }
                j += 1;
            }
            match build_session(id, &fields) {
                Ok(s) => sessions.push(s),
                Err(e) => diags.push(Diagnostic::new(path, n, e)),
            }
            i = j;
        }
        Ok((CurrentStateFile::ActiveSessions { header, sessions }, diags))
    }
}

fn build_session(id: &str, fields: &[(&str, &str, usize)]) -> Result<ActiveSession, String> {
    let get = |key: &str| -> Result<&str, String> {
        fields
            .iter()
            .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v, _)| *v)
            .ok_or_else(|| format!("session {id}: missing `{key}`"))
    };
    let user = get("User")?;
    let (display_name, username) = user
        .rsplit_once(" (ID: ")
        .and_then(|(d, u)| Some((d, u.strip_suffix(')')?)))
        .ok_or_else(|| format!("session {id}: `User` is not `name (ID: username)`"))?;
    let ip = get("IP")?;
    let device = get("Device")?;
    Ok(ActiveSession {
        session_id: id.to_string(),
        display_name: display_name.to_string(),
        username: username.to_string(),
        created_at: parse_iso(get("Created")?, "Created")?,
        expires_at: match get("Expires") {
            Ok(e) => Some(parse_iso(e, "Expires")?),
            Err(_) => None,
        },
        other: fields
            .iter()
            .filter(|(k, _, _)| {
                ![
                    "User",
                    "Created",
                    "Expires",
                    "IP",
                    "Device",
                    "Fully authenticated",
                ]
                .iter()
                .any(|known| k.eq_ignore_ascii_case(known))
            })
            .map(|(k, v, _)| (k.to_string(), v.to_string()))
            .collect(),
        ip_address: (ip != strings::PY_NONE).then(|| ip.to_string()),
        device_info: (device != "Unknown").then(|| device.to_string()),
        is_fully_authenticated: parse_py_bool(get("Fully authenticated")?, "Fully authenticated")?,
    })
}

/// Re-renderer of a current-state snapshot.
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    match CurrentStateFile::parse(bytes, path) {
        Ok((f, d)) => Ok((f.render().into_bytes(), d)),
        Err(d) => Ok((Vec::new(), vec![d])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_not_a_session_and_none_ip_is_none() {
        // Test vector 43.
        let text = "# Active Sessions Snapshot\n# Generated: 2025-09-28T10:02:05.584840+00:00\n# Total active sessions: 1\n\nSession abc:\n  User: Ann (Smith) (ID: Ann (Smith))\n  Created: 2025-09-20 13:10:06.290023\n  Expires: 2025-10-04 13:10:06\n  IP: None\n  Device: Unknown\n  Fully authenticated: False\n";
        let (f, d) = CurrentStateFile::parse(text.as_bytes(), None).unwrap();
        assert!(d.is_empty(), "{d:?}");
        let CurrentStateFile::ActiveSessions { sessions, .. } = &f else {
            panic!("not typed")
        };
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].session_id, "abc");
        assert_eq!(sessions[0].display_name, "Ann (Smith)");
        assert_eq!(sessions[0].ip_address, None);
        assert_eq!(sessions[0].device_info, None);
        assert_eq!(f.render(), text);
    }

    #[test]
    fn last_seen_variant_is_read_and_kept() {
        let text = "# Active Sessions Snapshot\n# Generated: 2025-09-28T10:02:05+00:00\n# Total active sessions: 1\n\nSession abc:\n  User: Ann (ID: 7)\n  Created: 2025-09-20 13:10:06\n  Last seen: None\n  IP: 1.2.3.4\n  Device: UA\n  Fully authenticated: True\n";
        let (f, d) = CurrentStateFile::parse(text.as_bytes(), None).unwrap();
        assert!(d.is_empty(), "{d:?}");
        let CurrentStateFile::ActiveSessions { sessions, .. } = &f else {
            panic!("not typed")
        };
        assert_eq!(sessions[0].expires_at, None);
        assert_eq!(
            sessions[0].other,
            vec![("Last seen".to_string(), "None".to_string())]
        );
        assert_eq!(f.render(), text);
    }

    #[test]
    fn header_only_dormant_snapshot() {
        let text = "# Active Invite Tokens Snapshot\n# Generated: 2025-09-28T10:02:05+00:00\n# Total active tokens: 0\n";
        let (f, d) = CurrentStateFile::parse(text.as_bytes(), None).unwrap();
        assert!(d.is_empty(), "{d:?}");
        assert!(matches!(f, CurrentStateFile::Other { .. }));
        assert_eq!(f.render(), text);
    }
}
