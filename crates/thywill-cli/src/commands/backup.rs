//! `thywill backup | verify | list | restore | restore-safe | cleanup`: database backups.

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDateTime};
use clap::Args;
use serde::Serialize;
use thywill_core::backup::remote::{self, PushReport, RemoteSpec, RemoteTarget};
use thywill_core::backup::retention::{Action, RetentionPolicy};
use thywill_core::backup::{
    self, CleanupOptions, CreateOptions, ListOptions, Location, LockPolicy, RestoreMode,
    RestoreOptions, SetName, Tier, VerifyOptions, VerifyStatus,
};
use thywill_core::Error;

use crate::context::{Context, Outcome};
use crate::exit::{self, CliError};

/// Remote copy targets, shared by the commands that use them.
#[derive(Args, Debug, Default)]
pub struct RemoteArgs {
    /// A remote copy target, repeatable: `folder:PATH`, an absolute path, or
    /// `s3://bucket/prefix?endpoint=URL&region=R&allow_http=true`. S3 credentials come from
    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, THYWILL_S3_CREDENTIALS or ~/.aws/credentials,
    /// never from the command line.
    #[arg(long = "remote", env = "THYWILL_BACKUP_REMOTES", value_delimiter = ';')]
    remotes: Vec<String>,
}

impl RemoteArgs {
    fn open(&self) -> Result<Vec<Box<dyn RemoteTarget>>, CliError> {
        let env = |k: &str| std::env::var_os(k);
        self.remotes
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| Ok(parse_remote(s)?.open(&env)?))
            .collect()
    }
}

/// A remote spec; a form the core does not accept is a usage error (exit 2), which lists the
/// accepted forms.
fn parse_remote(spec: &str) -> Result<RemoteSpec, CliError> {
    RemoteSpec::parse(spec).map_err(|e| match e {
        Error::InvalidInput(message) => CliError::Usage(message),
        other => CliError::Core(other),
    })
}

/// Prints a failure on stderr at once, whatever `--quiet` and `--json` say: a cron job's mail
/// must never be empty when something failed (the report on stdout lists it too).
fn print_error(line: &str) {
    eprintln!("thywill: error: {line}");
}

fn refs(targets: &[Box<dyn RemoteTarget>]) -> Vec<&dyn RemoteTarget> {
    targets.iter().map(|t| t.as_ref()).collect()
}

fn now() -> NaiveDateTime {
    chrono::Local::now().naive_local()
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / (1u64 << 10) as f64),
        b => format!("{b} B"),
    }
}

fn age(seconds: i64) -> String {
    if seconds < 0 {
        "in the future".into()
    } else if seconds < 3600 {
        format!("{}m", seconds / 60)
    } else if seconds < 3 * 86_400 {
        format!("{}h", seconds / 3600)
    } else {
        format!("{}d", seconds / 86_400)
    }
}

/// Options of `thywill backup`.
#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Which tier: hourly, daily or weekly.
    #[arg(default_value = "daily", value_parser = ["hourly", "daily", "weekly"])]
    tier: String,
    /// Add the text archives (--archives) to the set as one ZIP.
    #[arg(long)]
    with_archives: bool,
    /// Add the email database to the set.
    #[arg(long)]
    with_email: bool,
    /// The email database [default: email.db beside the database].
    #[arg(long, env = "EMAIL_DATABASE_PATH")]
    email_db: Option<PathBuf>,
    /// Skip the integrity check of the copy (the set is then listed as unverified).
    #[arg(long)]
    no_check: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Serialize)]
struct BackupOutput {
    backup: backup::CreateReport,
    remotes: Vec<PushReport>,
    remote_failures: Vec<backup::RemoteFailure>,
}

/// `thywill backup [hourly|daily|weekly]`.
pub fn run_backup(context: &Context, args: BackupArgs) -> Result<Outcome, CliError> {
    let tier: Tier = args.tier.parse()?;
    let targets = args.remote.open()?;
    let mut options = CreateOptions::new(&context.db, &context.backups, tier);
    options.integrity_check = !args.no_check;
    if args.with_archives {
        if !context.archives.is_dir() {
            return Err(Error::NotFound {
                what: format!("text archive folder {}", context.archives.display()),
            }
            .into());
        }
        options.text_archives = Some(context.archives.clone());
    }
    if args.with_email {
        let email = args
            .email_db
            .clone()
            .unwrap_or_else(|| backup::email_database_path(&|_| None, &context.db));
        if !email.is_file() {
            return Err(Error::NotFound {
                what: format!("email database {}", email.display()),
            }
            .into());
        }
        options.email_database = Some(email);
    }
    let bar = context.progress();
    let created = backup::create(&options, &bar);
    bar.finish();
    let created = created?;
    let mut text = format!(
        "Backup created: {} ({}, sha256 {})\n",
        created.path.display(),
        size(created.members.first().map_or(0, |m| m.size)),
        created.members.first().map_or("", |m| m.sha256.as_str())
    );
    match &created.verification {
        Some(v) if v.passed() => text.push_str("Integrity check: ok\n"),
        Some(_) => text.push_str("Integrity check: FAILED\n"),
        None => text.push_str("Integrity check: skipped (--no-check)\n"),
    }
    for stale in &created.removed_stale_files {
        text.push_str(&format!(
            "Removed {} (left by an interrupted run)\n",
            stale.display()
        ));
    }
    for member in created.members.iter().skip(1) {
        text.push_str(&format!("  with {} ({})\n", member.file, size(member.size)));
    }
    let mut pushed = Vec::new();
    let mut remote_failures = Vec::new();
    for target in &targets {
        let bar = context.progress();
        let result = remote::push_set(target.as_ref(), &created.path, &bar);
        bar.finish();
        match result {
            Ok(report) => {
                text.push_str(&format!(
                    "Copied to {} ({} file(s), checksums verified after upload)\n",
                    report.target,
                    report.members.len()
                ));
                pushed.push(report);
            }
            Err(e) => {
                print_error(&format!("FAILED to copy to {}: {e}", target.describe()));
                remote_failures.push(backup::RemoteFailure {
                    target: target.describe(),
                    error: e.to_string(),
                });
            }
        }
    }
    let failed = !remote_failures.is_empty();
    let output = BackupOutput {
        backup: created,
        remotes: pushed,
        remote_failures,
    };
    Ok(Outcome::new(&output, text)?.with_failures(failed))
}

/// Options of `thywill verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The backup database file.
    file: PathBuf,
    /// Use `quick_check` instead of the full `integrity_check`.
    #[arg(long)]
    quick: bool,
    /// Accept a backup with neither a .sha256 sidecar nor a manifest.
    #[arg(long)]
    allow_missing_checksum: bool,
}

/// `thywill verify FILE`: exit 0 when sound, 3 when missing, 4 when corrupt, 7 when unproven
/// (no checksum) or not a ThyWill database.
pub fn run_verify(context: &Context, args: VerifyArgs) -> Result<Outcome, CliError> {
    let options = VerifyOptions {
        require_checksum: !args.allow_missing_checksum,
        full_integrity_check: !args.quick,
    };
    let bar = context.progress();
    let report = backup::verify(&args.file, &options, &bar);
    bar.finish();
    let report = report?;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let exists = if report.status == VerifyStatus::NotAFile {
        if args.file.is_dir() {
            "no (it is a directory, not a backup file)"
        } else {
            "no (it is not a regular file)"
        }
    } else {
        yes_no(report.file_exists)
    };
    let mut text = format!(
        "Verifying backup: {}\nFile exists: {}\nChecksum file found: {}\nChecksum verified: {}\nManifest found: {}\nDatabase integrity ok: {}\n",
        args.file.display(),
        exists,
        yes_no(report.checksum_file_found),
        yes_no(report.checksum_verified),
        yes_no(report.manifest_found),
        yes_no(report.database_integrity_ok),
    );
    if !report.table_row_counts.is_empty() {
        text.push_str("Rows per table:\n");
        for (table, n) in &report.table_row_counts {
            text.push_str(&format!("  {table}: {n}\n"));
        }
    }
    for warning in &report.warnings {
        text.push_str(&format!("Warning: {warning}\n"));
    }
    for error in &report.errors {
        print_error(error);
    }
    text.push_str(match report.status {
        VerifyStatus::Ok => "Backup verification completed successfully\n",
        _ => "Backup verification failed\n",
    });
    let code = report.to_error().map(|e| exit::code_for(e.kind()));
    let outcome = Outcome::new(&report, text)?;
    Ok(match code {
        Some(code) => outcome.with_exit_code(code),
        None => outcome,
    })
}

/// Options of `thywill list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Re-verify every local set (hash and integrity check) instead of trusting its manifest.
    #[arg(long)]
    deep: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// `thywill list`: every set in every tier, local and remote.
pub fn run_list(context: &Context, args: ListArgs) -> Result<Outcome, CliError> {
    let targets = args.remote.open()?;
    let bar = context.progress();
    let report = backup::list(
        &ListOptions {
            backup_root: context.backups.clone(),
            now: now(),
            deep: args.deep,
        },
        &refs(&targets),
        &bar,
    );
    bar.finish();
    let report = report?;
    let mut text = format!("Backups in {}\n", context.backups.display());
    let mut last_heading = String::new();
    for entry in &report.entries {
        let heading = match &entry.location {
            Location::Local => format!("{} (local)", entry.kind),
            Location::Remote { target } => format!("{} on {target}", entry.kind),
        };
        if heading != last_heading {
            text.push_str(&format!("\n{heading}:\n"));
            last_heading = heading;
        }
        text.push_str(&format!(
            "  {:<40} {}  {:>6} old  {:>9}  {}\n",
            entry.name,
            entry.timestamp.format("%Y-%m-%d %H:%M:%S"),
            age(entry.age_seconds),
            size(entry.size),
            if entry.verified {
                "verified"
            } else if entry.complete {
                "NOT verified"
            } else {
                "incomplete / no manifest"
            }
        ));
    }
    if report.entries.is_empty() {
        text.push_str("No backups found\n");
    }
    for failure in &report.remote_failures {
        print_error(&format!(
            "FAILED to list {}: {}",
            failure.target, failure.error
        ));
    }
    let failed = !report.remote_failures.is_empty();
    Ok(Outcome::new(&report, text)?.with_failures(failed))
}

/// Options of `thywill restore` and `thywill restore-safe`.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The backup database file, or with --from the set's name
    /// (e.g. thywill_daily_20250101_020000).
    file: String,
    /// Take the set from this remote (same syntax as --remote).
    #[arg(long)]
    from: Option<String>,
    /// Wait up to SECONDS for other processes (the app) to close the database and for any
    /// write transaction to end.
    #[arg(long, value_name = "SECONDS", conflicts_with = "force")]
    wait: Option<u64>,
    /// Restore even while another process has the database open or holds a write
    /// transaction: whatever it writes afterwards is lost.
    #[arg(long)]
    force: bool,
    /// Check everything and report what would happen; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Accept a backup with neither a .sha256 sidecar nor a manifest.
    #[arg(long)]
    allow_missing_checksum: bool,
}

/// `thywill restore FILE` (`safe` = `restore-safe`, which also upgrades the schema).
pub fn run_restore(context: &Context, args: RestoreArgs, safe: bool) -> Result<Outcome, CliError> {
    let (source, staging) = match &args.from {
        Some(spec) => {
            let target = parse_remote(spec)?.open(&|k| std::env::var_os(k))?;
            let stem = args.file.trim_end_matches(".db");
            let name = SetName::parse_stem(stem).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "{}: not a backup set name (thywill_<tier>_<YYYYMMDD_HHMMSS>)",
                    args.file
                ))
            })?;
            let staging = backup::staging_dir(&context.backups);
            let bar = context.progress();
            let fetched = remote::fetch_set(target.as_ref(), &name, &staging, &bar);
            bar.finish();
            (fetched?, Some(staging))
        }
        None => (PathBuf::from(&args.file), None),
    };
    let result = restore_from(context, &args, safe, &source);
    if let Some(staging) = staging {
        let _ = std::fs::remove_dir_all(staging);
    }
    result
}

fn restore_from(
    context: &Context,
    args: &RestoreArgs,
    safe: bool,
    source: &Path,
) -> Result<Outcome, CliError> {
    let mut options = RestoreOptions::new(source, &context.db, &context.backups);
    options.mode = if safe {
        RestoreMode::Safe
    } else {
        RestoreMode::Plain
    };
    options.lock = match (args.wait, args.force) {
        (_, true) => LockPolicy::Force,
        (Some(seconds), false) => LockPolicy::Wait(seconds),
        (None, false) => LockPolicy::Fail,
    };
    options.verify.require_checksum = !args.allow_missing_checksum;
    if !args.dry_run {
        context.confirm(&format!(
            "This will replace {} with {} (a safety backup of the current database is taken first). Continue?",
            context.db.display(),
            source.display()
        ))?;
    }
    options.dry_run = args.dry_run;
    let bar = context.progress();
    let report = backup::restore(&options, &bar);
    bar.finish();
    let report = report?;
    let mut text = String::new();
    if report.dry_run {
        text.push_str(&format!(
            "Dry run: {} is a sound backup and would replace {}\n",
            source.display(),
            context.db.display()
        ));
    } else {
        text.push_str(&format!("Database restored from: {}\n", source.display()));
        match &report.safety_backup {
            Some(s) => text.push_str(&format!(
                "Previous database saved as: {}\n",
                s.path.display()
            )),
            None => text.push_str("There was no previous database to save\n"),
        }
    }
    for process in &report.other_processes {
        text.push_str(&format!(
            "Warning: {process} still had the database open (--force)\n"
        ));
    }
    for stale in &report.removed_stale_files {
        text.push_str(&format!(
            "{} {} (left by an interrupted run)\n",
            if report.dry_run {
                "Would remove"
            } else {
                "Removed"
            },
            stale.display()
        ));
    }
    for side in &report.removed_side_files {
        text.push_str(&format!(
            "{} stale {}\n",
            if report.dry_run {
                "Would remove"
            } else {
                "Removed"
            },
            side.display()
        ));
    }
    if let Some(schema) = &report.schema {
        if schema.changes.is_empty() {
            text.push_str("Schema already current\n");
        }
        for change in &schema.changes {
            let line = match change {
                backup::SchemaChange::CreateTable { table } => format!("table {table}"),
                backup::SchemaChange::AddColumn { table, column, .. } => {
                    format!("column {table}.{column}")
                }
                backup::SchemaChange::CreateIndex { index } => format!("index {index}"),
            };
            text.push_str(&format!(
                "{} {line}\n",
                if schema.planned_only {
                    "Would add"
                } else {
                    "Added"
                }
            ));
        }
    }
    for warning in &report.warnings {
        text.push_str(&format!("Warning: {warning}\n"));
    }
    Outcome::new(&report, text)
}

/// Options of `thywill cleanup`.
#[derive(Args, Debug)]
pub struct CleanupArgs {
    /// List what would be deleted and why; delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Hourly retention window, in hours.
    #[arg(long, default_value_t = 48)]
    hourly_hours: i64,
    /// Daily retention window, in days.
    #[arg(long, default_value_t = 30)]
    daily_days: i64,
    /// Weekly retention window, in weeks.
    #[arg(long, default_value_t = 12)]
    weekly_weeks: i64,
    /// Pre-restore safety backups: window in days...
    #[arg(long, default_value_t = 30)]
    pre_restore_days: i64,
    /// ...and how many of the newest are always kept.
    #[arg(long, default_value_t = 3)]
    pre_restore_keep: usize,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// `thywill cleanup [--dry-run]`.
pub fn run_cleanup(context: &Context, args: CleanupArgs) -> Result<Outcome, CliError> {
    if [
        args.hourly_hours,
        args.daily_days,
        args.weekly_weeks,
        args.pre_restore_days,
    ]
    .iter()
    .any(|v| *v <= 0)
    {
        return Err(CliError::Usage("retention windows must be positive".into()));
    }
    let policy = RetentionPolicy {
        hourly: Duration::hours(args.hourly_hours),
        daily: Duration::days(args.daily_days),
        weekly: Duration::weeks(args.weekly_weeks),
        pre_restore: Duration::days(args.pre_restore_days),
        pre_restore_keep_last: args.pre_restore_keep,
    };
    let targets = args.remote.open()?;
    let options = CleanupOptions {
        backup_root: context.backups.clone(),
        policy,
        now: now(),
        dry_run: true,
        database: Some(context.db.clone()),
    };
    let plan = backup::cleanup(
        &options,
        &refs(&targets),
        &thywill_core::progress::NoProgress,
    )?;
    let report = if args.dry_run || plan.deleted_sets == 0 {
        plan
    } else {
        context.confirm(&format!(
            "Delete {} backup set(s) ({})?",
            plan.deleted_sets,
            size(plan.freed_bytes)
        ))?;
        let bar = context.progress();
        let report = backup::cleanup(
            &CleanupOptions {
                dry_run: false,
                ..options
            },
            &refs(&targets),
            &bar,
        );
        bar.finish();
        report?
    };
    let mut text = String::new();
    for stale in &report.removed_stale_files {
        text.push_str(&format!(
            "{} {} (left by an interrupted run)\n",
            if report.dry_run {
                "would remove"
            } else {
                "removed"
            },
            stale.display()
        ));
    }
    for action in &report.actions {
        let place = match &action.location {
            Location::Local => String::new(),
            Location::Remote { target } => format!(" on {target}"),
        };
        let verb = match (action.action, report.dry_run) {
            (Action::Keep, _) => "keep  ",
            (Action::Delete, true) => "would delete",
            (Action::Delete, false) => "deleted",
        };
        text.push_str(&format!(
            "{verb} {}{place}: {}\n",
            action.name, action.explanation
        ));
    }
    text.push_str(&format!(
        "{} set(s) {}, {} freed\n",
        report.deleted_sets,
        if report.dry_run {
            "would be deleted"
        } else {
            "deleted"
        },
        size(report.freed_bytes)
    ));
    for failure in &report.remote_failures {
        print_error(&format!("FAILED on {}: {}", failure.target, failure.error));
    }
    let failed = !report.remote_failures.is_empty();
    Ok(Outcome::new(&report, text)?.with_failures(failed))
}
