//! Membership applications `membership_applications/{APP_STAMP}_{app_id}.txt`:
//! a fixed header, a verbatim (possibly multi-line) essay, contact info, `STATUS: pending`
//! (never updated), then appended decisions.
//!
//! Fixes over ThyWill's parser (FIXABLE, see `docs/format-fixes.md`, Membership): essay lines that
//! look like keys are not taken as fields; `APPROVED by` splits on the last ` at ` (an admin
//! named `Nathan` works, test vector 45); `REJECTED by` is read.
//!
//! The file is read without newline normalisation so an essay's CRLF (browser textareas)
//! survives a round trip. Limits: `username`, `contact_info`, admin names and tokens cannot
//! contain line breaks; an essay containing a complete fake trailer
//! (`\n\nCONTACT INFO: …\n\nSTATUS: …\n`) is cut at the last valid one.

use std::path::Path;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::fields::parse_iso;
use super::timestamp;
use crate::pycompat::datetime::PyDateTime;

/// A decision appended to an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum MembershipDecision {
    /// `APPROVED by {admin} at {ts}` + `Invite token: {token}`.
    Approved {
        /// The admin's name.
        admin: String,
        /// When (`isoformat`).
        at: PyDateTime,
        /// The invite token issued.
        invite_token: String,
    },
    /// `REJECTED by {admin} at {ts}` [+ `Reason: {reason}`].
    Rejected {
        /// The admin's name.
        admin: String,
        /// When.
        at: PyDateTime,
        /// The reason, if one was given (may span lines).
        reason: Option<String>,
    },
}

/// One application file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembershipApplication {
    /// `uuid4().hex`.
    pub app_id: String,
    /// `utcnow().isoformat()`.
    pub submitted: PyDateTime,
    /// IP, `None` written as `Unknown`.
    pub ip_address: Option<String>,
    /// Requested username.
    pub username: String,
    /// The essay, verbatim.
    pub essay: String,
    /// Contact info, `None` written as `None provided`.
    pub contact_info: Option<String>,
    /// The `STATUS:` line's value (ThyWill always writes `pending`).
    pub status_line: String,
    /// Decisions in file order.
    pub decisions: Vec<MembershipDecision>,
}

const HEAD: &str = "MEMBERSHIP APPLICATION\n=====================\n\n";

impl MembershipApplication {
    /// The effective status: the last decision's, else the `STATUS:` line.
    pub fn status(&self) -> &str {
        match self.decisions.last() {
            Some(MembershipDecision::Approved { .. }) => "approved",
            Some(MembershipDecision::Rejected { .. }) => "rejected",
            None => &self.status_line,
        }
    }

    /// The file name ThyWill uses: `{APP_STAMP(t)}_{app_id}.txt`.
    pub fn file_name(stamp_time: &NaiveDateTime, app_id: &str) -> String {
        format!("{}_{app_id}.txt", timestamp::app_stamp(stamp_time))
    }

    /// Creates the application file as ThyWill does (only the part before any decision;
    /// the folder must exist). Fails if the file exists.
    pub fn create(&self, path: &Path) -> crate::Result<()> {
        let undecided = MembershipApplication {
            decisions: Vec::new(),
            ..self.clone()
        };
        if super::fileops::create_new_atomic(path, undecided.render().as_bytes())? {
            Ok(())
        } else {
            Err(crate::Error::InvalidInput(format!(
                "{} already exists",
                path.display()
            )))
        }
    }

    /// Appends one decision to an existing application file (`RAW_APPEND` in ThyWill; here
    /// under `flock`).
    pub fn append_decision(path: &Path, decision: &MembershipDecision) -> crate::Result<()> {
        let one = MembershipApplication {
            app_id: String::new(),
            submitted: PyDateTime::Naive(NaiveDateTime::MIN),
            ip_address: None,
            username: String::new(),
            essay: String::new(),
            contact_info: None,
            status_line: String::new(),
            decisions: vec![decision.clone()],
        };
        let full = one.render();
        let base = MembershipApplication {
            decisions: Vec::new(),
            ..one
        }
        .render();
        let text = full.get(base.len()..).unwrap_or_default();
        // `locked_append` adds the final LF itself.
        super::fileops::locked_append(path, text.strip_suffix('\n').unwrap_or(text))
    }

    /// The file's bytes (creation plus every appended decision).
    pub fn render(&self) -> String {
        let mut out = format!(
            "{HEAD}Application ID: {}\nSubmitted: {}\nIP Address: {}\n\nUSERNAME: {}\n\nESSAY/MOTIVATION:\n{}\n\nCONTACT INFO: {}\n\nSTATUS: {}\n",
            self.app_id,
            self.submitted.isoformat(),
            non_empty_or(self.ip_address.as_deref(), "Unknown"),
            self.username,
            self.essay,
            non_empty_or(self.contact_info.as_deref(), "None provided"),
            self.status_line
        );
        for d in &self.decisions {
            match d {
                MembershipDecision::Approved {
                    admin,
                    at,
                    invite_token,
                } => out.push_str(&format!(
                    "\nAPPROVED by {admin} at {}\nInvite token: {invite_token}\n",
                    at.isoformat()
                )),
                MembershipDecision::Rejected { admin, at, reason } => {
                    out.push_str(&format!("\nREJECTED by {admin} at {}\n", at.isoformat()));
                    if let Some(r) = reason {
                        out.push_str(&format!("Reason: {r}\n"));
                    }
                }
            }
        }
        out
    }

    /// Parses an application file.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> Result<Self, Diagnostic> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let content = std::str::from_utf8(bytes).map_err(|e| {
            let line = 1 + bytes
                .get(..e.valid_up_to())
                .unwrap_or_default()
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            Diagnostic::new(path, line, "invalid UTF-8")
        })?;
        let last_line = 1 + content.matches('\n').count();
        // A missing line is reported at the last line that exists.
        let err = |line: usize, reason: &str| Diagnostic::new(path, line.min(last_line), reason);
        let rest = content
            .strip_prefix(HEAD)
            .ok_or_else(|| err(1, "missing `MEMBERSHIP APPLICATION` header"))?;
        let (app_id, rest) = take_field(rest, "Application ID: ")
            .ok_or_else(|| err(4, "missing `Application ID:`"))?;
        let (submitted, rest) =
            take_field(rest, "Submitted: ").ok_or_else(|| err(5, "missing `Submitted:`"))?;
        let submitted = parse_iso(submitted, "Submitted").map_err(|e| err(5, &e))?;
        let (ip, rest) =
            take_field(rest, "IP Address: ").ok_or_else(|| err(6, "missing `IP Address:`"))?;
        let rest = rest
            .strip_prefix('\n')
            .ok_or_else(|| err(7, "missing blank line"))?;
        let (username, rest) =
            take_field(rest, "USERNAME: ").ok_or_else(|| err(8, "missing `USERNAME:`"))?;
        let essay_all = rest
            .strip_prefix("\nESSAY/MOTIVATION:\n")
            .ok_or_else(|| err(10, "missing `ESSAY/MOTIVATION:`"))?;
        // Try each `CONTACT INFO:` trailer from the last; the first that parses completely wins.
        const MARK: &str = "\n\nCONTACT INFO: ";
        let candidates: Vec<usize> = essay_all.match_indices(MARK).map(|(i, _)| i).collect();
        let mut last_err = "missing `CONTACT INFO:`".to_string();
        for &at in candidates.iter().rev() {
            let essay = essay_all.get(..at).unwrap_or_default();
            let tail = essay_all.get(at + MARK.len()..).unwrap_or_default();
            match parse_tail(tail) {
                Ok((contact, status_line, decisions)) => {
                    return Ok(MembershipApplication {
                        app_id: app_id.to_string(),
                        submitted,
                        ip_address: (ip != "Unknown").then(|| ip.to_string()),
                        username: username.to_string(),
                        essay: essay.to_string(),
                        contact_info: (contact != "None provided").then(|| contact.to_string()),
                        status_line,
                        decisions,
                    })
                }
                Err(e) => last_err = e,
            }
        }
        Err(err(last_line, &last_err))
    }
}

fn non_empty_or<'a>(v: Option<&'a str>, default: &'a str) -> &'a str {
    match v {
        Some(s) if !s.is_empty() => s,
        _ => default,
    }
}

/// `key` + value + LF at the start of `s`.
fn take_field<'a>(s: &'a str, key: &str) -> Option<(&'a str, &'a str)> {
    let rest = s.strip_prefix(key)?;
    let (v, rest) = rest.split_once('\n')?;
    Some((v, rest))
}

type Tail = (String, String, Vec<MembershipDecision>);

fn parse_tail(tail: &str) -> Result<Tail, String> {
    let (contact, rest) = tail
        .split_once('\n')
        .ok_or("unterminated CONTACT INFO line")?;
    let rest = rest
        .strip_prefix('\n')
        .ok_or("missing blank line before STATUS")?;
    let (status, mut rest) = take_field(rest, "STATUS: ").ok_or("missing `STATUS:` line")?;
    let mut decisions = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("\nAPPROVED by ") {
            let (head, r) = r.split_once('\n').ok_or("unterminated APPROVED line")?;
            let (admin, at) = split_admin_at(head)?;
            let (token, r) = take_field(r, "Invite token: ").ok_or("missing `Invite token:`")?;
            decisions.push(MembershipDecision::Approved {
                admin,
                at,
                invite_token: token.to_string(),
            });
            rest = r;
        } else if let Some(r) = rest.strip_prefix("\nREJECTED by ") {
            let (head, r) = r.split_once('\n').ok_or("unterminated REJECTED line")?;
            let (admin, at) = split_admin_at(head)?;
            let (reason, r) = match r.strip_prefix("Reason: ") {
                Some(after) => {
                    let end = ["\n\nAPPROVED by ", "\n\nREJECTED by "]
                        .iter()
                        .filter_map(|m| after.find(m))
                        .min()
                        .map(|i| i + 1)
                        .unwrap_or(after.len());
                    let block = after.get(..end).unwrap_or_default();
                    let reason = block.strip_suffix('\n').ok_or("unterminated Reason")?;
                    (
                        Some(reason.to_string()),
                        after.get(end..).unwrap_or_default(),
                    )
                }
                None => (None, r),
            };
            decisions.push(MembershipDecision::Rejected { admin, at, reason });
            rest = r;
        } else {
            return Err("unexpected text after STATUS".into());
        }
    }
    Ok((contact.to_string(), status.to_string(), decisions))
}

fn split_admin_at(head: &str) -> Result<(String, PyDateTime), String> {
    let (admin, ts) = head.rsplit_once(" at ").ok_or("decision without ` at `")?;
    Ok((admin.to_string(), parse_iso(ts, "decision")?))
}

/// Re-renderer of a membership application.
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    match MembershipApplication::parse(bytes, path) {
        Ok(a) => Ok((a.render().into_bytes(), Vec::new())),
        Err(d) => Ok((Vec::new(), vec![d])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        "MEMBERSHIP APPLICATION\n=====================\n\nApplication ID: abc\nSubmitted: 2025-06-15T12:00:00\nIP Address: Unknown\n\nUSERNAME: Nat\n\nESSAY/MOTIVATION:\nI pray.\r\nUSERNAME: fake\n\nCONTACT INFO: fake\n\nCONTACT INFO: None provided\n\nSTATUS: pending\n".to_string()
    }

    #[test]
    fn approved_by_nathan_and_rejection() {
        // Test vector 45.
        let text = format!(
            "{}\nAPPROVED by Nathan at 2025-06-15T12:30:00\nInvite token: 0123456789abcdef\n\nREJECTED by Pat at 2025-06-16T12:30:00.000001\nReason: spam\nmore\n",
            sample()
        );
        let a = MembershipApplication::parse(text.as_bytes(), None).unwrap();
        assert_eq!(a.username, "Nat");
        assert_eq!(a.essay, "I pray.\r\nUSERNAME: fake\n\nCONTACT INFO: fake");
        assert_eq!(a.contact_info, None);
        assert_eq!(a.ip_address, None);
        assert_eq!(a.decisions.len(), 2);
        assert!(
            matches!(&a.decisions[0], MembershipDecision::Approved { admin, .. } if admin == "Nathan")
        );
        assert!(
            matches!(&a.decisions[1], MembershipDecision::Rejected { reason: Some(r), .. } if r == "spam\nmore")
        );
        assert_eq!(a.status(), "rejected");
        assert_eq!(a.render(), text);
    }

    #[test]
    fn pending_round_trip() {
        let a = MembershipApplication::parse(sample().as_bytes(), None).unwrap();
        assert_eq!(a.status(), "pending");
        assert_eq!(a.render(), sample());
    }
}
