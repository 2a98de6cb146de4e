//! `system/` flat files: monthly invite usage (LIVE), the invite tokens snapshot,
//! the system configuration snapshot and monthly feature-flag changes (all DORMANT).

use std::path::Path;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::fields::{parse_iso, parse_opt_iso, parse_py_bool, render_opt_iso, split_absorbing};
use super::lines::decode_lines;
use super::pipe::{self, PipeRecord};
use super::record::Record;
use super::snapshot;
use super::timestamp;
use crate::pycompat::datetime::PyDateTime;
use crate::pycompat::strings;

/// One line of `system/{YM}_invite_usage.txt`. Never read by ThyWill's importers
///. When an invite link is *created*, `used_by` is empty and the action still
/// reads `token_used`.
///
/// Limits: a `|` in `used_by` is kept (absorbing); one in `created_by` or `token` misplaces
/// fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteUsageRecord {
    /// When (local time in production), ISO.
    pub timestamp: PyDateTime,
    /// The invite token.
    pub token: String,
    /// Who claimed it; empty for a link creation.
    pub used_by: String,
    /// Who created the token.
    pub created_by: String,
    /// Always `token_used` in ThyWill's output.
    pub action: String,
}

impl InviteUsageRecord {
    /// True for the line ThyWill writes when an invite link is created rather than used.
    pub fn is_link_creation(&self) -> bool {
        self.used_by.is_empty()
    }
}

impl PipeRecord for InviteUsageRecord {
    const TITLE: &'static str = "Invite Token Usage";
    const FORMAT: &'static str = "timestamp|token|used_by_user|created_by_user|action";
}

impl Record for InviteUsageRecord {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.timestamp.isoformat(),
            self.token,
            self.used_by,
            self.created_by,
            self.action
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 5, 2)?;
        let [ts, token, used_by, created_by, action] = f.as_slice() else {
            return Err("bad field count".into());
        };
        Ok(InviteUsageRecord {
            timestamp: parse_iso(ts, "timestamp")?,
            token: token.to_string(),
            used_by: used_by.to_string(),
            created_by: created_by.to_string(),
            action: action.to_string(),
        })
    }
}

/// One line of `system/{YM}_feature_flags.txt` (DORMANT).
///
/// Limits: a `|` in `new_value` is kept (absorbing); one elsewhere misplaces fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureFlagRecord {
    /// When, ISO.
    pub timestamp: PyDateTime,
    /// Flag name.
    pub flag_name: String,
    /// `str(value)`, e.g. `True`.
    pub new_value: String,
    /// Who changed it (`system` by default).
    pub changed_by: String,
    /// Always `flag_changed` in ThyWill's output.
    pub details: String,
}

impl PipeRecord for FeatureFlagRecord {
    const TITLE: &'static str = "Feature Flag Changes";
    const FORMAT: &'static str = "timestamp|flag_name|new_value|changed_by|details";
}

impl Record for FeatureFlagRecord {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.timestamp.isoformat(),
            self.flag_name,
            self.new_value,
            self.changed_by,
            self.details
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 5, 2)?;
        let [ts, flag, value, by, details] = f.as_slice() else {
            return Err("bad field count".into());
        };
        Ok(FeatureFlagRecord {
            timestamp: parse_iso(ts, "timestamp")?,
            flag_name: flag.to_string(),
            new_value: value.to_string(),
            changed_by: by.to_string(),
            details: details.to_string(),
        })
    }
}

/// `system/{YM}_invite_usage.txt`.
pub type InviteUsageFile = pipe::PipeFile<InviteUsageRecord>;
/// `system/{YM}_feature_flags.txt`.
pub type FeatureFlagsFile = pipe::PipeFile<FeatureFlagRecord>;

/// One token line of `system/invite_tokens.txt`.
///
/// Limits: `token` and `created_by_user` must not contain `|`; a `|` in `used_by_user_id`
/// is kept (absorbing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteTokenLine {
    /// The token.
    pub token: String,
    /// Creator's name.
    pub created_by_user: String,
    /// Expiry, ISO or absent.
    pub expires_at: Option<PyDateTime>,
    /// `True`/`False`.
    pub used: bool,
    /// Who used it; `None` when Python had None (written as `None`).
    pub used_by_user_id: Option<String>,
    /// Creation time, ISO or absent.
    pub created_at: Option<PyDateTime>,
}

impl Record for InviteTokenLine {
    fn render_line(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            self.token,
            self.created_by_user,
            render_opt_iso(&self.expires_at),
            strings::py_bool(self.used),
            strings::py_opt_str(self.used_by_user_id.as_deref()),
            render_opt_iso(&self.created_at)
        )
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let f = split_absorbing(line, 6, 4)?;
        let [token, by, expires, used, used_by, created] = f.as_slice() else {
            return Err("bad field count".into());
        };
        Ok(InviteTokenLine {
            token: token.to_string(),
            created_by_user: by.to_string(),
            expires_at: parse_opt_iso(expires, "expires_at")?,
            used: parse_py_bool(used, "used")?,
            used_by_user_id: (*used_by != strings::PY_NONE).then(|| used_by.to_string()),
            created_at: parse_opt_iso(created, "created_at")?,
        })
    }
}

/// `system/invite_tokens.txt`: a full rewrite with `ACTIVE TOKENS:` and
/// `RECENTLY EXPIRED TOKENS:` sections and two counters (no final LF). ThyWill's importer
/// never persists these tokens; this parser reads every line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InviteTokensFile {
    /// The `TS_HC` text after `Active Invite Tokens - Updated `, verbatim.
    pub updated: String,
    /// Unused, unexpired tokens.
    pub active: Vec<InviteTokenLine>,
    /// Up to 10 tokens that had expired.
    pub recently_expired: Vec<InviteTokenLine>,
    /// `Active tokens:` (every unused token, listed or not).
    pub active_count: u64,
    /// `Total tokens:` (every token).
    pub total_count: u64,
}

const INVITE_TOKENS_FORMAT: &str =
    "Format: token|created_by_user|expires_at|used|used_by_user_id|created_at";

impl InviteTokensFile {
    /// Builds the snapshot exactly as ThyWill selects it from all `tokens` at local `now`:
    /// active = unused with an expiry after `now`; recently expired = the last 10 (input
    /// order) with an expiry before `now`.
    pub fn from_tokens(now: &NaiveDateTime, tokens: &[InviteTokenLine]) -> Self {
        let active = tokens
            .iter()
            .filter(|t| !t.used && t.expires_at.is_some_and(|e| e.naive() > *now))
            .cloned()
            .collect();
        let expired: Vec<InviteTokenLine> = tokens
            .iter()
            .filter(|t| t.expires_at.is_some_and(|e| e.naive() < *now))
            .cloned()
            .collect();
        let recently_expired = expired
            .get(expired.len().saturating_sub(10)..)
            .unwrap_or_default()
            .to_vec();
        InviteTokensFile {
            updated: timestamp::ts_hc(now),
            active,
            recently_expired,
            active_count: tokens.iter().filter(|t| !t.used).count() as u64,
            total_count: tokens.len() as u64,
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
            "Active Invite Tokens - Updated {}\n{INVITE_TOKENS_FORMAT}\n\nACTIVE TOKENS:\n",
            self.updated
        );
        for t in &self.active {
            out.push_str(&t.render_line());
            out.push('\n');
        }
        out.push_str("\nRECENTLY EXPIRED TOKENS:\n");
        for t in &self.recently_expired {
            out.push_str(&t.render_line());
            out.push('\n');
        }
        out.push_str(&format!(
            "\nActive tokens: {}\nTotal tokens: {}",
            self.active_count, self.total_count
        ));
        out
    }

    /// Parses the file; unreadable lines become diagnostics.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let mut file = InviteTokensFile {
            updated: String::new(),
            active: Vec::new(),
            recently_expired: Vec::new(),
            active_count: 0,
            total_count: 0,
        };
        let content = match decode_lines(bytes, path) {
            Ok(c) => c,
            Err(d) => return (file, vec![d]),
        };
        let mut diags = Vec::new();
        let mut in_expired = false;
        let (mut saw_active, mut saw_total) = (false, false);
        for (i, line) in content.split('\n').enumerate() {
            let n = i + 1;
            if let Some(u) = line
                .strip_prefix("Active Invite Tokens - Updated ")
                .filter(|_| n == 1)
            {
                file.updated = u.to_string();
            } else if line.is_empty() || (n == 2 && line == INVITE_TOKENS_FORMAT) {
            } else if line == "ACTIVE TOKENS:" {
                in_expired = false;
            } else if line == "RECENTLY EXPIRED TOKENS:" {
                in_expired = true;
            } else if let Some(c) = line.strip_prefix("Active tokens: ") {
                match c.parse() {
                    Ok(v) => {
                        file.active_count = v;
                        saw_active = true;
                    }
                    Err(_) => diags.push(Diagnostic::new(path, n, "bad active token count")),
                }
            } else if let Some(c) = line.strip_prefix("Total tokens: ") {
                match c.parse() {
                    Ok(v) => {
                        file.total_count = v;
                        saw_total = true;
                    }
                    Err(_) => diags.push(Diagnostic::new(path, n, "bad total token count")),
                }
            } else {
                match InviteTokenLine::parse_line(line) {
                    Ok(t) if in_expired => file.recently_expired.push(t),
                    Ok(t) => file.active.push(t),
                    Err(e) => diags.push(Diagnostic::new(path, n, e)),
                }
            }
        }
        if !saw_active || !saw_total {
            diags.push(Diagnostic::new(path, 0, "missing token counters"));
        }
        (file, diags)
    }
}

/// `system/system_config.txt` (DORMANT): `key=value` lines sorted by key, secrets
/// redacted, `Configuration items` trailer, no final LF.
///
/// Limits: keys cannot contain `=`; keys and values cannot contain line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemConfigFile {
    /// The `TS_HC` text after `System Configuration - Snapshot `, verbatim.
    pub snapshot: String,
    /// `(key, value)` in file order (values already redacted as written).
    pub items: Vec<(String, String)>,
    /// The trailer's count.
    pub total: u64,
}

/// The value ThyWill writes instead of a secret.
pub const REDACTED: &str = "[REDACTED]";

impl SystemConfigFile {
    /// Builds the snapshot as ThyWill does from a configuration at local `now`: keys sorted
    /// by code point, values redacted when the lowercased key contains `secret`, `key` or
    /// `password` (so `MONKEY` is redacted too).
    pub fn from_config(now: &NaiveDateTime, config: &[(String, String)]) -> Self {
        let mut items: Vec<(String, String)> = config
            .iter()
            .map(|(k, v)| {
                let lk = k.to_lowercase();
                let redact = ["secret", "key", "password"].iter().any(|w| lk.contains(w));
                (k.clone(), if redact { REDACTED.into() } else { v.clone() })
            })
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let total = items.len() as u64;
        SystemConfigFile {
            snapshot: timestamp::ts_hc(now),
            items,
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
            "System Configuration - Snapshot {}\nFormat: key=value\n\n",
            self.snapshot
        );
        for (k, v) in &self.items {
            out.push_str(&format!("{k}={v}\n"));
        }
        out.push_str(&format!("\nConfiguration items: {}", self.total));
        out
    }

    /// Parses the file; unreadable lines become diagnostics.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let layout = snapshot::SnapshotLayout {
            title_prefix: "System Configuration - Snapshot ",
            format_line: "Format: key=value",
            total_label: "Configuration items",
            bad_total: "bad item count",
        };
        let (file, diags) = snapshot::parse_snapshot(bytes, path, &layout, |line| {
            line.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| "not a key=value line".to_string())
        });
        let file = SystemConfigFile {
            snapshot: file.stamp,
            items: file.rows,
            total: file.total,
        };
        (file, diags)
    }
}

/// Re-renderer of `system/invite_tokens.txt`.
pub(crate) fn rerender_invite_tokens(
    bytes: &[u8],
    path: Option<&Path>,
) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (f, d) = InviteTokensFile::parse(bytes, path);
    Ok((f.render().into_bytes(), d))
}

/// Re-renderer of `system/system_config.txt`.
pub(crate) fn rerender_system_config(
    bytes: &[u8],
    path: Option<&Path>,
) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (f, d) = SystemConfigFile::parse(bytes, path);
    Ok((f.render().into_bytes(), d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn invite_usage_observed_lines() {
        // Test vector 44.
        for line in [
            "2025-07-07T00:01:00|tok1|Mary Jo|Admin|token_used",
            "2025-07-07T00:01:00|tok2||Admin|token_used",
        ] {
            let r = InviteUsageRecord::parse_line(line).unwrap();
            assert_eq!(r.render_line(), line);
        }
        assert!(
            InviteUsageRecord::parse_line("2025-07-07T00:01:00|tok2||Admin|token_used")
                .unwrap()
                .is_link_creation()
        );
    }

    #[test]
    fn invite_tokens_observed_example() {
        let bytes = "Active Invite Tokens - Updated July 07, 2025 at 00:01\nFormat: token|created_by_user|expires_at|used|used_by_user_id|created_at\n\nACTIVE TOKENS:\ntok1|Admin|2025-08-01T00:00:00|False|None|2025-07-01T00:00:00\n\nRECENTLY EXPIRED TOKENS:\ntok0|Admin|2025-07-01T00:00:00|True|Bob|2025-06-01T00:00:00\n\nActive tokens: 1\nTotal tokens: 2";
        let (f, d) = InviteTokensFile::parse(bytes.as_bytes(), None);
        assert!(d.is_empty(), "{d:?}");
        // both tokens are read (ThyWill saves neither).
        assert_eq!(f.active.len() + f.recently_expired.len(), 2);
        assert_eq!(f.active[0].used_by_user_id, None);
        assert_eq!(f.render(), bytes);
        let all: Vec<InviteTokenLine> = f
            .recently_expired
            .iter()
            .chain(f.active.iter())
            .cloned()
            .collect();
        let rebuilt = InviteTokensFile::from_tokens(&at(2025, 7, 7, 0, 1), &all);
        assert_eq!(rebuilt.render(), bytes);
    }

    #[test]
    fn system_config_sorts_and_redacts() {
        let f = SystemConfigFile::from_config(
            &at(2025, 7, 7, 0, 1),
            &[
                ("MONKEY".into(), "banana".into()),
                ("A".into(), "1".into()),
                ("db_password".into(), "x".into()),
            ],
        );
        let text = f.render();
        assert_eq!(text, "System Configuration - Snapshot July 07, 2025 at 00:01\nFormat: key=value\n\nA=1\nMONKEY=[REDACTED]\ndb_password=[REDACTED]\n\nConfiguration items: 3");
        let (back, d) = SystemConfigFile::parse(text.as_bytes(), None);
        assert!(d.is_empty());
        assert_eq!(back, f);
    }
}
