//! `thywill reconstruct-from-archives (--dry-run|--execute)`: the relationships of the
//! database repaired from the text archives.

use std::path::PathBuf;

use chrono::NaiveDateTime;
use clap::{ArgGroup, Args};
use thywill_core::db::ArchiveTimeZone;
use thywill_core::recovery::{reconstruct_from_archives, ReconstructOptions, ReconstructReport};

use super::import::parse_zone;
use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// `thywill reconstruct-from-archives`.
#[derive(Args)]
#[command(group(ArgGroup::new("mode").required(true).multiple(true).args(["dry_run", "execute"])))]
pub struct ReconstructArgs {
    /// Do everything in a transaction that is rolled back, and report (wins over
    /// --execute, as in ThyWill).
    #[arg(long)]
    dry_run: bool,
    /// Repair the database.
    #[arg(long)]
    execute: bool,
    /// The archive folder to read [default: the global --archives].
    #[arg(long)]
    archive_dir: Option<PathBuf>,
    /// The zone the archive's timestamps were written in: local, utc or ±HH:MM.
    #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
    time_zone: ArchiveTimeZone,
    /// Judge sessions expired at this UTC time (YYYY-MM-DDTHH:MM:SS) [default: now].
    #[arg(long, value_parser = parse_time)]
    as_of: Option<NaiveDateTime>,
}

fn parse_time(text: &str) -> Result<NaiveDateTime, String> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .map_err(|e| format!("{text:?}: expected YYYY-MM-DDTHH:MM:SS ({e})"))
}

/// Runs `reconstruct-from-archives`; exits 1 when an archive record could not be used.
pub fn run(context: &Context, args: ReconstructArgs) -> Result<Outcome, CliError> {
    let archives = args.archive_dir.unwrap_or_else(|| context.archives.clone());
    let options = ReconstructOptions {
        dry_run: args.dry_run || !args.execute,
        time_zone: args.time_zone,
        as_of: args.as_of,
        ..ReconstructOptions::default()
    };
    let bar = context.progress();
    let report = reconstruct_from_archives(&archives, &context.db, &options, &bar);
    bar.finish();
    let report = report?;
    let failed = !report.failures.is_empty();
    Ok(Outcome::new(&report, summary(&report))?.with_failures(failed))
}

fn summary(report: &ReconstructReport) -> String {
    let mut text = format!(
        "{} {} from {}\n",
        if report.dry_run {
            "DRY RUN (rolled back): would reconstruct"
        } else {
            "Reconstructed"
        },
        report.database,
        report.archive_dir
    );
    text.push_str(&format!(
        "{:<20} {:>7} {:>10} {:>9} {:>14} {:>13}\n",
        "relationship", "found", "re-pointed", "inserted", "already right", "unresolvable"
    ));
    for (name, c) in &report.relationships {
        text.push_str(&format!(
            "{:<20} {:>7} {:>10} {:>9} {:>14} {:>13}\n",
            name, c.found, c.repointed, c.inserted, c.already_right, c.unresolvable
        ));
    }
    for (name, c) in &report.relationships {
        for u in &c.unresolved {
            text.push_str(&format!(
                "unresolvable ({name}): {} ({} row(s)): {}\n",
                u.value, u.rows, u.reason
            ));
        }
    }
    if !report.users_created.is_empty() {
        text.push_str(&format!(
            "Users created: {}\n",
            report.users_created.join(", ")
        ));
    }
    text.push_str(&format!(
        "Sessions not brought back: {} ended by a later session_deleted event, {} expired at {}\n",
        report.sessions_dropped.ended_by_event, report.sessions_dropped.expired, report.as_of
    ));
    for (key, value) in &report.thywill_stats {
        text.push_str(&format!("{key}: {value}\n"));
    }
    for f in &report.failures {
        text.push_str(&format!("failed: {f}\n"));
    }
    text.push_str(if report.dry_run {
        "DRY RUN: nothing was changed\n"
    } else {
        "COMPLETED\n"
    });
    text
}
