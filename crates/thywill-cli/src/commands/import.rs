//! `thywill import ...`: text archives (folder or ZIP), JSON prayers, one prayer file.

use std::path::PathBuf;

use clap::Subcommand;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    import_prayer_file, import_text_archives, ImportReport, JsonPrayersOptions, JsonPrayersPlan,
    PrayerFileOptions, TextArchiveOptions,
};

use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Import subcommands.
#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import prayers from a JSON array (creates missing authors; all or nothing).
    Prayers {
        /// The JSON file.
        file: PathBuf,
        /// Do everything in a transaction that is rolled back.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import text archives from a folder or a ZIP (idempotent; exit 1 if a record failed).
    TextArchives {
        /// The archive folder or ZIP file [default: --archives].
        source: Option<PathBuf>,
        /// Do everything in a transaction that is rolled back; nothing is created on disk.
        #[arg(long)]
        dry_run: bool,
        /// Zone of the archive's human timestamps: local, utc or ±HH:MM.
        #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
        time_zone: ArchiveTimeZone,
    },
    /// Import one prayer file.
    Prayer {
        /// The prayer file.
        file: PathBuf,
        /// Do everything in a transaction that is rolled back.
        #[arg(long)]
        dry_run: bool,
        /// Overwrite the text, generated prayer and project tag of an existing prayer.
        #[arg(long)]
        update_existing: bool,
        /// Zone of the file's human timestamps: local, utc or ±HH:MM.
        #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
        time_zone: ArchiveTimeZone,
    },
}

fn parse_zone(text: &str) -> Result<ArchiveTimeZone, String> {
    ArchiveTimeZone::parse(text).ok_or_else(|| format!("{text:?}: expected local, utc or ±HH:MM"))
}

/// Runs an import subcommand.
pub fn run(context: &Context, command: ImportCommand) -> Result<Outcome, CliError> {
    let bar = context.progress();
    let report = match command {
        ImportCommand::Prayers { file, dry_run } => JsonPrayersPlan::from_file(&file)
            .and_then(|plan| plan.apply(&context.db, &JsonPrayersOptions { dry_run }, &bar)),
        ImportCommand::TextArchives {
            source,
            dry_run,
            time_zone,
        } => import_text_archives(
            source.unwrap_or_else(|| context.archives.clone()),
            &context.db,
            &TextArchiveOptions {
                dry_run,
                time_zone,
                ..TextArchiveOptions::default()
            },
            &bar,
        ),
        ImportCommand::Prayer {
            file,
            dry_run,
            update_existing,
            time_zone,
        } => import_prayer_file(
            &file,
            &context.db,
            &PrayerFileOptions {
                dry_run,
                update_existing,
                time_zone,
                ..PrayerFileOptions::default()
            },
            &bar,
        ),
    };
    bar.finish();
    let report = report?;
    let failed = report.has_failures();
    Ok(Outcome::new(&report, summary(&report))?.with_failures(failed))
}

/// The report for people: one line per entity, then every failure with its location.
pub fn summary(report: &ImportReport) -> String {
    let mut text = format!(
        "{}{} from {} into {}\n",
        if report.dry_run {
            "Dry run (rolled back): "
        } else {
            ""
        },
        report.operation.replace('_', " "),
        report.source,
        report.database
    );
    text.push_str(&format!(
        "{:<20} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7}\n",
        "entity", "inserted", "present", "updated", "deleted", "skipped", "failed"
    ));
    for (name, c) in &report.entities {
        text.push_str(&format!(
            "{:<20} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7}\n",
            name, c.inserted, c.already_present, c.updated, c.deleted, c.skipped, c.failed
        ));
    }
    for f in &report.failures {
        text.push_str(&format!("failed: {f}\n"));
    }
    if !report.notes.is_empty() {
        text.push_str(&format!(
            "{} note(s); see --json for all\n",
            report.notes.len()
        ));
        for n in report.notes.iter().take(5) {
            text.push_str(&format!("note: {n}\n"));
        }
    }
    text
}
