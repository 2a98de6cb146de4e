//! `thywill test-recovery` and `thywill full-recovery`: rebuild the database from the text
//! archives, compare it with the live one, and (full recovery) put it in place.

use std::path::PathBuf;

use clap::Args;
use thywill_core::backup::LockPolicy;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::recovery::{
    full_recovery, test_recovery, Comparison, FullRecoveryOptions, FullRecoveryReport,
    RecoveryMode, TestRecoveryOptions,
};

use super::import::parse_zone;
use crate::context::{Context, Outcome};
use crate::exit::{command_line_value, CliError};

/// `thywill test-recovery`.
#[derive(Args)]
pub struct TestRecoveryArgs {
    /// The text archives, a folder or a ZIP [default: --archives].
    #[arg(long, value_name = "DIR")]
    archive_dir: Option<PathBuf>,
    /// Zone of the archive's human timestamps: local, utc or ±HH:MM.
    #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
    time_zone: ArchiveTimeZone,
}

/// `thywill full-recovery`.
#[derive(Args)]
pub struct FullRecoveryArgs {
    /// The text archives, a folder or a ZIP [default: --archives].
    #[arg(long, value_name = "DIR")]
    archive_dir: Option<PathBuf>,
    /// Import into the existing database (adding only what it lacks) instead of replacing it
    /// with a rebuild.
    #[arg(long)]
    merge: bool,
    /// Do the whole rebuild and comparison and report what would be installed; change
    /// nothing.
    #[arg(long)]
    dry_run: bool,
    /// Wait up to SECONDS for other processes (the app) to close the database.
    #[arg(long, value_name = "SECONDS")]
    wait: Option<u64>,
    /// Replace the database even while another process has it open: whatever it writes
    /// afterwards is lost.
    #[arg(long)]
    force: bool,
    /// Zone of the archive's human timestamps: local, utc or ±HH:MM.
    #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
    time_zone: ArchiveTimeZone,
}

/// `thywill test-recovery`: the core's `recovery::test_recovery`.
pub fn run_test_recovery(context: &Context, args: TestRecoveryArgs) -> Result<Outcome, CliError> {
    let archives = args.archive_dir.unwrap_or_else(|| context.archives.clone());
    let options = TestRecoveryOptions {
        time_zone: args.time_zone,
        ..TestRecoveryOptions::default()
    };
    let bar = context.progress();
    let report = test_recovery(&archives, &context.db, &options, &bar);
    bar.finish();
    let report = report?;
    let mut text = format!(
        "Test recovery of {} from {} (nothing was changed)\n",
        context.db.display(),
        archives.display()
    );
    text.push_str(&comparison_text(&report.comparison, false));
    text.push_str(&stats_text(&report.recovery_stats));
    for warning in &report.warnings {
        text.push_str(&format!("Warning: {warning}\n"));
    }
    let failed = report.import.has_failures();
    Ok(Outcome::new(&report, text)?.with_failures(failed))
}

/// `thywill full-recovery`: the core's `recovery::full_recovery`.
pub fn run_full_recovery(context: &Context, args: FullRecoveryArgs) -> Result<Outcome, CliError> {
    let archives = args.archive_dir.unwrap_or_else(|| context.archives.clone());
    let mut options = FullRecoveryOptions::new(&context.backups);
    options.mode = if args.merge {
        RecoveryMode::Merge
    } else {
        RecoveryMode::Replace
    };
    options.dry_run = args.dry_run;
    options.lock = LockPolicy::from_flags(args.force, args.wait).map_err(command_line_value)?;
    options.time_zone = args.time_zone;
    if !args.dry_run {
        context.confirm(&match options.mode {
            RecoveryMode::Replace => format!(
                "This will replace {} with a database rebuilt from {} (a safety backup of the current database is taken first; run test-recovery to see what would be lost). Continue?",
                context.db.display(),
                archives.display()
            ),
            RecoveryMode::Merge => format!(
                "This will import {} into {} (a safety backup is taken first). Continue?",
                archives.display(),
                context.db.display()
            ),
        })?;
    }
    let bar = context.progress();
    let report = full_recovery(&archives, &context.db, &options, &bar);
    bar.finish();
    let report = report?;
    let text = full_recovery_text(context, &report);
    let failed = report.import.has_failures();
    Ok(Outcome::new(&report, text)?.with_failures(failed))
}

fn full_recovery_text(context: &Context, report: &FullRecoveryReport) -> String {
    let mut text = String::new();
    let db = context.db.display();
    match (report.mode, report.dry_run) {
        (RecoveryMode::Replace, true) => text.push_str(&format!(
            "Dry run: a database rebuilt from {} passed its checks and would replace {db}\n",
            report.archive_dir.display()
        )),
        (RecoveryMode::Replace, false) => text.push_str(&format!(
            "{db} replaced by a database rebuilt from {}\n",
            report.archive_dir.display()
        )),
        (RecoveryMode::Merge, true) => text.push_str(&format!(
            "Dry run: importing {} into {db} would add {} rows\n",
            report.archive_dir.display(),
            report.import.total_inserted()
        )),
        (RecoveryMode::Merge, false) => text.push_str(&format!(
            "Imported {} into {db}: {} rows added\n",
            report.archive_dir.display(),
            report.import.total_inserted()
        )),
    }
    if let Some(safety) = &report.safety_backup {
        text.push_str(&format!(
            "Previous database saved as: {}\n",
            safety.path.display()
        ));
    }
    if let Some(comparison) = &report.comparison {
        text.push_str(&comparison_text(comparison, report.installed));
    }
    text.push_str(&stats_text(&report.recovery_stats));
    for warning in &report.warnings {
        text.push_str(&format!("Warning: {warning}\n"));
    }
    text
}

/// One line per table that has rows on either side.
fn comparison_text(comparison: &Comparison, done: bool) -> String {
    let (back, lost, added) = if done {
        ("came back", "were lost", "were added")
    } else {
        ("would come back", "would be lost", "would be added")
    };
    let mut text = format!(
        "Rows that {back}: {}; that {lost}: {}; that {added}: {}\n",
        comparison.come_back, comparison.lost, comparison.added
    );
    for table in &comparison.tables {
        if table.live_rows == 0 && table.rebuilt_rows == 0 {
            continue;
        }
        text.push_str(&format!(
            "  {:<24} live {:>7}  rebuilt {:>7}  back {:>7}  lost {:>7}  added {:>7}\n",
            table.table,
            table.live_rows,
            table.rebuilt_rows,
            table.come_back,
            table.lost,
            table.added
        ));
    }
    text
}

/// ThyWill's counters, in its Title Case, those above 0.
/// ThyWill's `recovery_stats` as its report prints them: `Title Case: N`, zeros left out.
pub(crate) fn stats_text(stats: &std::collections::BTreeMap<String, u64>) -> String {
    let mut text = String::new();
    for (key, value) in stats {
        if *value == 0 {
            continue;
        }
        let title: Vec<String> = key
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            })
            .collect();
        text.push_str(&format!("{}: {value}\n", title.join(" ")));
    }
    text
}
