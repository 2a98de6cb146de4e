//! `thywill validate-consistency` and `thywill recovery-report`: how well the text archives
//! and the backups cover the database.

use std::path::PathBuf;

use clap::Args;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::recovery::{
    recovery_report, validate_consistency, ConsistencyOptions, ConsistencyReport, EntityStatus,
    RecoveryReport, RecoveryReportOptions,
};

use super::import::parse_zone;
use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// `thywill validate-consistency`.
#[derive(Args)]
pub struct ConsistencyArgs {
    /// Print the statistics and the score only, not the differences.
    #[arg(long)]
    summary: bool,
    /// The text archive folder [default: --archives].
    #[arg(long, value_name = "DIR")]
    archive_dir: Option<PathBuf>,
    /// Write what the archives lack (heal-archives), then score again.
    #[arg(long)]
    fix: bool,
    /// With --fix: report what would be written, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Zone of the archive's human timestamps: local, utc or ±HH:MM.
    #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
    time_zone: ArchiveTimeZone,
}

/// `thywill recovery-report`.
#[derive(Args)]
pub struct RecoveryReportArgs {
    /// The text archives, a folder or a ZIP [default: --archives].
    #[arg(long, value_name = "DIR")]
    archive_dir: Option<PathBuf>,
    /// A verified backup older than this many hours is not recent.
    #[arg(long, value_name = "HOURS", default_value_t = thywill_core::recovery::DEFAULT_MAX_BACKUP_AGE_HOURS)]
    max_backup_age: u64,
    /// Zone of the archive's human timestamps: local, utc or ±HH:MM.
    #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
    time_zone: ArchiveTimeZone,
}

/// `thywill validate-consistency`: the core's `recovery::validate_consistency`. Exits with
/// ThyWill's codes: 0 for a score of 95 or more, 1 from 85, 2 below (after `--fix`, the
/// score measured again); a failure to validate exits with the error's code (3 and up).
pub fn run_consistency(context: &Context, args: ConsistencyArgs) -> Result<Outcome, CliError> {
    let archives = args.archive_dir.unwrap_or_else(|| context.archives.clone());
    let options = ConsistencyOptions {
        time_zone: args.time_zone,
        fix: args.fix,
        dry_run: args.dry_run,
        ..ConsistencyOptions::default()
    };
    if args.fix && !args.dry_run {
        context.confirm(&format!(
            "This will write the records of {} that {} lacks (heal-archives). Continue?",
            context.db.display(),
            archives.display()
        ))?;
    }
    let bar = context.progress();
    let report = validate_consistency(&context.db, &archives, &options, &bar);
    bar.finish();
    let report = report?;
    let code = report.score_after_fix.map_or(
        report.exit_code,
        thywill_core::recovery::ScoreBand::exit_code,
    );
    Ok(Outcome::new(&report, consistency_text(&report, args.summary))?.with_exit_code(code))
}

fn consistency_text(report: &ConsistencyReport, summary: bool) -> String {
    let s = &report.stats;
    let mut text = format!(
        "Archive consistency of {} with {}\n",
        report.database.display(),
        report.archive_dir.display()
    );
    for (label, value) in [
        ("Users in database", s.total_users_in_db),
        ("Users in archives", s.total_users_in_archives),
        ("Users only in database", s.users_only_in_db),
        ("Users only in archives", s.users_only_in_archives),
        ("Prayers in database", s.total_prayers_in_db),
        ("Prayers in archives", s.total_prayers_in_archives),
        ("Orphaned prayers", s.orphaned_prayers),
        ("Prayer marks in database", s.total_prayer_marks_in_db),
        ("Orphaned prayer marks", s.orphaned_prayer_marks),
        ("Missing archive paths", s.missing_archive_paths),
        ("Broken archive paths", s.broken_archive_paths),
    ] {
        text.push_str(&format!("  {label:<26} {value}\n"));
    }
    text.push_str(&format!(
        "Consistency score: {:.2} ({:?})\n",
        s.consistency_score, report.band
    ));
    for (n, issue) in report.issues.iter().enumerate() {
        text.push_str(&format!("  {}. {issue}\n", n + 1));
    }
    if !summary {
        for e in &report.entities {
            let status = match e.status {
                EntityStatus::Scored => "",
                EntityStatus::NotInThisArchive => " (not in this archive)",
                EntityStatus::NotCarried => " (not carried by any archive)",
            };
            let not_carried = if e.not_carried > 0 {
                format!("  not carried {:>5}", e.not_carried)
            } else {
                String::new()
            };
            text.push_str(&format!(
                "  {:<22} compared {:>7}  equal {:>7}  differ {:>5}  only in db {:>5}  only in archives {:>5}{not_carried}{status}\n",
                e.entity, e.compared, e.equal, e.differing, e.only_in_db, e.only_in_archives
            ));
            for d in &e.differences {
                let fields = if d.fields.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", d.fields.join(", "))
                };
                text.push_str(&format!("      {:?} {}{fields}\n", d.kind, d.record));
            }
            let listed = e.differences.len() as u64;
            if e.differences_total > listed {
                text.push_str(&format!(
                    "      … and {} more\n",
                    e.differences_total - listed
                ));
            }
        }
        for p in &report.validation.problems {
            let place = match (&p.file, p.line) {
                (Some(f), Some(l)) => format!("{f}:{l}"),
                (Some(f), None) => f.clone(),
                _ => String::new(),
            };
            text.push_str(&format!(
                "  {:?} {place} {}: {}\n",
                p.kind, p.record, p.detail
            ));
        }
    }
    if let Some(fix) = &report.fix {
        let verb = if fix.dry_run { "would write" } else { "wrote" };
        text.push_str(&format!(
            "Fix: heal-archives {verb} {} changes\n",
            fix.changes.len()
        ));
    }
    if let (Some(score), Some(band)) = (report.score_after_fix, report.band_after_fix) {
        text.push_str(&format!(
            "Consistency score after the fix: {score:.2} ({band:?})\n"
        ));
    }
    text
}

/// `thywill recovery-report`: the core's `recovery::recovery_report`. Exit 0 whatever the
/// verdict (the verdict is in the report).
pub fn run_recovery_report(
    context: &Context,
    args: RecoveryReportArgs,
) -> Result<Outcome, CliError> {
    let archives = args.archive_dir.unwrap_or_else(|| context.archives.clone());
    let mut options = RecoveryReportOptions::new(&context.backups);
    options.time_zone = args.time_zone;
    options.max_backup_age_hours = args.max_backup_age;
    let bar = context.progress();
    let report = recovery_report(&archives, &context.db, &options, &bar);
    bar.finish();
    let report = report?;
    Outcome::new(&report, report_text(&report))
}

fn report_text(report: &RecoveryReport) -> String {
    let mut text = format!(
        "Recovery report for {} (archives {}; nothing was changed)\n",
        report.database.display(),
        report.archive_dir.display()
    );
    for e in &report.entities {
        if e.live_rows == 0 {
            continue;
        }
        let share = e
            .share
            .map_or(String::from("-"), |s| format!("{:.1}%", s * 100.0));
        let never = if e.never_carried {
            "  (not in the text archives)"
        } else {
            ""
        };
        text.push_str(&format!(
            "  {:<24} {:>7} rows  {:>7} recoverable  {share:>7}{never}\n",
            e.entity, e.live_rows, e.recoverable_rows
        ));
    }
    text.push_str(&format!(
        "Recoverable from the archives: {} of {} rows\n",
        report.recoverable_rows, report.live_rows
    ));
    text.push_str(&format!("Archive capability: {:?}\n", report.capability));
    match &report.backups.newest_verified {
        Some(b) => text.push_str(&format!(
            "Newest verified backup: {} ({} hours old)\n",
            b.name,
            b.age_seconds / 3600
        )),
        None => text.push_str(&format!(
            "No verified backup in {}\n",
            report.backups.backup_root.display()
        )),
    }
    text.push_str(&format!("Readiness: {:?}\n", report.readiness));
    for r in &report.reasons {
        text.push_str(&format!("  {:?}: {}\n", r.kind, r.detail));
    }
    for w in &report.warnings {
        text.push_str(&format!("Warning: {w}\n"));
    }
    text
}
