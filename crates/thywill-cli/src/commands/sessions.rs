//! `thywill export-sessions` and `thywill restore-sessions`: sessions across a restore.

use std::path::PathBuf;

use clap::Args;
use thywill_core::sessions::{
    export_sessions, restore_sessions, ExportSessionsOptions, RestoreSessionsOptions,
    SessionsExport, SessionsRestoreReport, DEFAULT_FILE_NAME,
};

use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// `thywill export-sessions`.
#[derive(Args)]
pub struct ExportArgs {
    /// The file to write (replaced atomically; mode 0600: session ids are credentials).
    #[arg(long, default_value = DEFAULT_FILE_NAME)]
    out: PathBuf,
    /// Export expired sessions too (ThyWill's exporter does; they are of no use).
    #[arg(long)]
    include_expired: bool,
}

/// `thywill restore-sessions FILE`.
#[derive(Args)]
pub struct RestoreArgs {
    /// The `sessions_backup.json` to read.
    file: PathBuf,
    /// Do everything in a transaction that is rolled back.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `export-sessions`.
pub fn run_export(context: &Context, args: ExportArgs) -> Result<Outcome, CliError> {
    let bar = context.progress();
    let options = ExportSessionsOptions {
        include_expired: args.include_expired,
        ..ExportSessionsOptions::default()
    };
    let report = export_sessions(&context.db, &args.out, &options, &bar);
    bar.finish();
    let report = report?;
    Outcome::new(&report, export_summary(&report))
}

/// Runs `restore-sessions`; exits 1 when an entry of the file could not be read.
pub fn run_restore(context: &Context, args: RestoreArgs) -> Result<Outcome, CliError> {
    let bar = context.progress();
    let options = RestoreSessionsOptions {
        dry_run: args.dry_run,
        ..RestoreSessionsOptions::default()
    };
    let report = restore_sessions(&context.db, &args.file, &options, &bar);
    bar.finish();
    let report = report?;
    let failed = report.has_failures();
    Ok(Outcome::new(&report, restore_summary(&report))?.with_failures(failed))
}

fn export_summary(report: &SessionsExport) -> String {
    let mut text = format!(
        "Exported {} active session(s) to {} ({} expired left out)\n",
        report.total_sessions, report.file, report.expired_skipped
    );
    if !report.usernames.is_empty() {
        text.push_str(&format!("Users: {}\n", report.usernames.join(", ")));
    }
    for s in &report.sessions {
        text.push_str(&format!(
            "  {} ({}) expires {}\n",
            s.id_prefix, s.username, s.expires_at
        ));
    }
    text
}

fn restore_summary(report: &SessionsRestoreReport) -> String {
    let mut text = format!(
        "{}Restored {} of {} session(s) from {} into {}: {} already present, {} expired\n",
        if report.dry_run {
            "Dry run (rolled back): "
        } else {
            ""
        },
        report.restored,
        report.total,
        report.file,
        report.database,
        report.already_present,
        report.expired
    );
    for s in &report.unknown_users {
        text.push_str(&format!(
            "not restored: {} ({}): {}\n",
            s.id_prefix, s.username, s.reason
        ));
    }
    for s in &report.failures {
        text.push_str(&format!(
            "failed: session {} at index {} ({}): {}\n",
            s.id_prefix, s.index, s.username, s.reason
        ));
    }
    text
}
