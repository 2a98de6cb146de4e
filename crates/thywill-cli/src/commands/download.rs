//! `thywill download user|community`, `thywill downloads list` and `thywill downloads
//! cleanup`: archive downloads (docs/downloads.md).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use thywill_core::download::{
    cleanup_old_downloads, create_full_community_zip, create_user_archive_zip,
    list_community_archives, CleanupDownloadsOptions, CleanupDownloadsReport, CommunityArchiveList,
    CommunityZipOptions, DownloadZipReport, UserZipOptions,
};

use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// `thywill download ...`.
#[derive(Subcommand)]
pub enum DownloadCommand {
    /// Write a user's archive ZIP (their registration, prayers, prayer activity and the
    /// community's monthly logs) [default: <archives>/downloads/<name>_archive_<date>.zip].
    User(UserArgs),
    /// Write the community's archive ZIP, without flagged prayers and, unless asked, without
    /// who prayed for or skipped each prayer
    /// [default: <archives>/downloads/complete_site_archive_<date>_<time>.zip].
    Community(CommunityArgs),
}

/// `thywill download user NAME`.
#[derive(Args)]
pub struct UserArgs {
    /// The user's display name.
    name: String,
    /// Where to write the ZIP.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Leave out the community's monthly activity logs and registration files.
    #[arg(long)]
    no_community: bool,
}

/// `thywill download community`.
#[derive(Args)]
pub struct CommunityArgs {
    /// Where to write the ZIP.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Include who prayed for and skipped each prayer (left out by default).
    #[arg(long)]
    include_prayer_activity: bool,
}

/// `thywill downloads ...`.
#[derive(Subcommand)]
pub enum DownloadsCommand {
    /// List the community's archives (prayer months, monthly registrations and activity
    /// logs), counting what the community ZIP holds: no flagged prayers.
    List,
    /// Remove download ZIPs older than a limit from <archives>/downloads/ (only ours).
    Cleanup(CleanupArgs),
}

/// `thywill downloads cleanup`.
#[derive(Args)]
pub struct CleanupArgs {
    /// Age limit: a number with s, m, h or d (default 24h, ThyWill's).
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    older_than: u64,
    /// List what would be removed; remove nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `download user|community`.
pub fn run(context: &Context, command: DownloadCommand) -> Result<Outcome, CliError> {
    let bar = context.progress();
    let report = match command {
        DownloadCommand::User(args) => create_user_archive_zip(
            &context.db,
            &context.archives,
            &args.name,
            &UserZipOptions {
                include_community: !args.no_community,
                out: args.out,
                ..UserZipOptions::default()
            },
            &bar,
        ),
        DownloadCommand::Community(args) => create_full_community_zip(
            &context.db,
            &context.archives,
            &CommunityZipOptions {
                include_prayer_activity: args.include_prayer_activity,
                out: args.out,
                ..CommunityZipOptions::default()
            },
            &bar,
        ),
    };
    bar.finish();
    let report = report?;
    Outcome::new(&report, zip_summary(&report))
}

/// Runs `downloads cleanup`.
pub fn run_downloads(context: &Context, command: DownloadsCommand) -> Result<Outcome, CliError> {
    match command {
        DownloadsCommand::List => {
            let list = list_community_archives(&context.db, &context.archives)?;
            Outcome::new(&list, list_summary(&list))
        }
        DownloadsCommand::Cleanup(args) => {
            let report = cleanup_old_downloads(
                &context.archives,
                &CleanupDownloadsOptions {
                    max_age_seconds: args.older_than,
                    dry_run: args.dry_run,
                    ..CleanupDownloadsOptions::default()
                },
            )?;
            Outcome::new(&report, cleanup_summary(&report))
        }
    }
}

/// `90s`, `30m`, `24h`, `7d` (a bare number is hours, as ThyWill's `max_age_hours`).
fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "h"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number with s, m, h or d, e.g. 24h"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    n.checked_mul(unit)
        .ok_or_else(|| format!("{text:?}: too large"))
}

fn list_summary(list: &CommunityArchiveList) -> String {
    let mut text = String::new();
    for a in &list.archives {
        text.push_str(&format!(
            "{:<8} {:<8} {:>5} file(s)  {}{}\n",
            a.kind,
            a.period,
            a.file_count,
            a.path,
            if a.compressed { " (compressed)" } else { "" }
        ));
    }
    if list.archives.is_empty() {
        text.push_str("No community archives.\n");
    }
    text
}

fn zip_summary(report: &DownloadZipReport) -> String {
    let mut text = format!(
        "Wrote {} ({} entries, {} bytes)\n",
        report.path.display(),
        report.entry_count,
        report.bytes
    );
    let e = &report.excluded;
    if e.flagged_prayer_files + e.lines + e.files > 0 {
        text.push_str(&format!(
            "Left out by the privacy rules: {} flagged prayer file(s), {} line(s), {} other file(s)\n",
            e.flagged_prayer_files, e.lines, e.files
        ));
    }
    for s in &report.skipped_paths {
        text.push_str(&format!(
            "skipped {} ({}): {}\n",
            s.owner, s.stored, s.reason
        ));
    }
    text
}

fn cleanup_summary(report: &CleanupDownloadsReport) -> String {
    let verb = if report.dry_run {
        "Would remove"
    } else {
        "Removed"
    };
    let mut text = format!(
        "{verb} {} download(s) older than {} s from {} ({} bytes); {} kept\n",
        report.removed.len(),
        report.max_age_seconds,
        report.downloads_dir.display(),
        report.removed_bytes,
        report.kept
    );
    for d in &report.removed {
        text.push_str(&format!("  {}\n", d.path.display()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("24h"), Ok(86_400));
        assert_eq!(parse_duration("30m"), Ok(1_800));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("2"), Ok(7_200));
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
    }
}
