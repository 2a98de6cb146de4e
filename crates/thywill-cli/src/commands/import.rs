//! `thywill import ...`: text archives (folder or ZIP), JSON prayers, one prayer file.

use std::path::PathBuf;

use clap::Subcommand;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    import_prayer_file, import_text_archive_phases, import_text_archives, phase_names,
    ImportReport, JsonPrayersOptions, JsonPrayersPlan, Phase, PhaseImportReport, PrayerFileOptions,
    TextArchiveOptions, ZipLimits,
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
    /// Import text archives from a folder or a ZIP (idempotent; exit 1 if a record failed
    /// or a prayer file is truncated).
    TextArchives {
        /// The archive folder or ZIP file [default: --archives].
        source: Option<PathBuf>,
        /// Do everything in a transaction that is rolled back; nothing is created on disk.
        #[arg(long)]
        dry_run: bool,
        /// Zone of the archive's human timestamps: local, utc or ±HH:MM.
        #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
        time_zone: ArchiveTimeZone,
        /// Overwrite the text, generated prayer and project tag of prayers already in the
        /// database when an intact file differs (never from a truncated file).
        #[arg(long)]
        update_existing: bool,
        /// Most bytes a ZIP may expand to (K, M, G, T suffixes: powers of 1024).
        #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_size)]
        max_zip_bytes: u64,
        /// Largest expansion ratio of a ZIP entry of more than 1 MiB.
        #[arg(long, value_name = "N", default_value_t = ZipLimits::default().max_ratio)]
        max_zip_ratio: u64,
        /// Run only this phase (repeat for several; they run in import order). The report
        /// then carries ThyWill's recovery_stats too. A phase whose prerequisites are
        /// neither given nor in the database is refused.
        #[arg(long = "phase", value_name = "NAME", value_parser = parse_phase)]
        phases: Vec<Phase>,
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

/// A phase of a text-archive import, by name.
fn parse_phase(text: &str) -> Result<Phase, String> {
    Phase::from_name(text)
        .ok_or_else(|| format!("{text:?}: the phases are {}", phase_names().join(", ")))
}

pub(crate) fn parse_zone(text: &str) -> Result<ArchiveTimeZone, String> {
    ArchiveTimeZone::parse(text).ok_or_else(|| format!("{text:?}: expected local, utc or ±HH:MM"))
}

/// A byte count: digits, optionally followed by K, M, G or T (powers of 1024; `KiB`,
/// `MB`... accepted alike).
fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?}: expected a number of bytes such as 500M or 8G");
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(bad()),
    };
    number.checked_mul(1 << shift).ok_or_else(bad)
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
            update_existing,
            max_zip_bytes,
            max_zip_ratio,
            phases,
        } => {
            let source = source.unwrap_or_else(|| context.archives.clone());
            let options = TextArchiveOptions {
                dry_run,
                time_zone,
                update_existing,
                zip_limits: ZipLimits {
                    max_bytes: max_zip_bytes,
                    max_ratio: max_zip_ratio,
                },
                ..TextArchiveOptions::default()
            };
            if !phases.is_empty() {
                let report =
                    import_text_archive_phases(source, &context.db, &phases, &options, &bar);
                bar.finish();
                let report = report?;
                let failed = report.import.has_failures();
                return Ok(Outcome::new(&report, phases_summary(&report))?.with_failures(failed));
            }
            import_text_archives(source, &context.db, &options, &bar)
        }
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

/// The report of a run of some phases for people: the phases, the import's summary, then
/// ThyWill's recovery counters.
fn phases_summary(report: &PhaseImportReport) -> String {
    let names: Vec<&str> = report.phases.iter().map(|p| p.name()).collect();
    let mut text = format!("phases: {}\n", names.join(", "));
    text.push_str(&summary(&report.import));
    text.push_str(&super::recovery::stats_text(&report.recovery_stats));
    text
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

#[cfg(test)]
mod tests {
    use super::parse_size;
    use thywill_core::import::ZipLimits;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        // The option's default is the core's.
        assert_eq!(parse_size("4G"), Ok(ZipLimits::default().max_bytes));
        assert_eq!(parse_size("500MiB"), Ok(500 << 20));
        assert_eq!(parse_size("2kb"), Ok(2048));
        assert!(parse_size("G").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
