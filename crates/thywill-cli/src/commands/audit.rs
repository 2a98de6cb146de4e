//! `thywill audit`: reads the audit trail (docs/audit.md).

use chrono::{DateTime, Utc};
use clap::Args;
use thywill_core::audit::{self, AuditQuery, AuditResult};

use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Options of `thywill audit`.
#[derive(Args)]
pub struct AuditArgs {
    /// Only operations that ended since this time: RFC 3339 (`2026-01-31T00:00:00Z`) or an
    /// age (`90s`, `30m`, `24h`, `7d`).
    #[arg(long, value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// Only this operation (`backup.restore`) or domain (`backup`).
    #[arg(long)]
    operation: Option<String>,
}

/// `thywill audit [--since T] [--operation OP]`: the entries, oldest first; exit 1 when a
/// line of the log could not be read (each is listed on stderr with its number).
pub fn run(context: &Context, args: AuditArgs) -> Result<Outcome, CliError> {
    let path = context.audit_log().ok_or_else(|| {
        CliError::Usage("the audit log is off (--audit-log off); there is nothing to read".into())
    })?;
    let query = AuditQuery {
        since: args.since,
        operation: args.operation,
    };
    let report = audit::read(&path, &query)?;
    let mut text = String::new();
    if !report.exists {
        text.push_str(&format!("No audit log yet at {}\n", path.display()));
    }
    for entry in &report.entries {
        let result = match entry.result {
            AuditResult::Ok => "ok",
            AuditResult::Failed => "FAILED",
            AuditResult::Cancelled => "cancelled",
            AuditResult::Interrupted => "INTERRUPTED",
        };
        let who = match &entry.actor.user {
            Some(user) => format!("{user} via {}", entry.actor.os_user),
            None => entry.actor.os_user.clone(),
        };
        text.push_str(&format!(
            "{}  {:<24} {:<11} {:>7} ms  {} ({} pid {})",
            entry.time,
            entry.operation,
            result,
            entry.duration_ms,
            who,
            entry.actor.program,
            entry.actor.pid
        ));
        if let Some(error) = &entry.error {
            text.push_str(&format!("  {}: {}", error.kind, error.message));
        } else if let Some(counts) = entry.counts.as_object().filter(|c| !c.is_empty()) {
            let figures: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
            text.push_str(&format!("  {}", figures.join(" ")));
        }
        text.push('\n');
    }
    for unreadable in &report.unreadable {
        eprintln!(
            "thywill: warning: {}:{}: unreadable audit line: {}",
            path.display(),
            unreadable.line,
            unreadable.reason
        );
    }
    if report.unreadable_count > report.unreadable.len() as u64 {
        eprintln!(
            "thywill: warning: {} unreadable audit lines in all",
            report.unreadable_count
        );
    }
    let failed = report.unreadable_count > 0;
    Ok(Outcome::new(&report, text)?.with_failures(failed))
}

fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let seconds: i64 = match (number.parse::<i64>(), unit) {
        (Ok(n), "s") => n,
        (Ok(n), "m") => n * 60,
        (Ok(n), "h") => n * 3600,
        (Ok(n), "d") => n * 86_400,
        _ => {
            return Err(format!(
                "{text:?}: expected an RFC 3339 time or an age such as 24h or 7d"
            ))
        }
    };
    chrono::Duration::try_seconds(seconds)
        .and_then(|age| Utc::now().checked_sub_signed(age))
        .ok_or_else(|| format!("{text:?}: too far back"))
}
