//! `thywill backup | hourly | daily | weekly | verify | list | restore | restore-safe |
//! cleanup`: database backups.

use std::path::PathBuf;

use clap::Args;
use thywill_core::backup::remote::{RemoteSpec, RemoteTarget};
use thywill_core::backup::retention::{Action, RetentionPolicy};
use thywill_core::backup::{
    self, CleanupOptions, CreateOptions, ListOptions, Location, LockPolicy, RestoreMode,
    RestoreOptions, RestoreReport, SetName, Tier, VerifyOptions, VerifyStatus,
};
use thywill_core::Error;

use crate::context::{Context, Outcome};
use crate::exit::{self, command_line_value, CliError};

/// Remote copy targets, shared by the commands that use them.
#[derive(Args, Debug, Default)]
pub struct RemoteArgs {
    /// A remote copy target, repeatable: `folder:PATH`, an absolute path, or
    /// `s3://bucket/prefix?endpoint=URL&region=R&allow_http=true`. S3 credentials come from
    /// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, THYWILL_S3_CREDENTIALS or ~/.aws/credentials,
    /// never from the command line.
    /// [default: `remotes` of the config file]
    #[arg(long = "remote", env = crate::context::REMOTES_VARIABLE, value_delimiter = ';')]
    remotes: Vec<String>,
}

impl RemoteArgs {
    fn open(&self, context: &Context) -> Result<Vec<Box<dyn RemoteTarget>>, CliError> {
        let env = |k: &str| std::env::var_os(k);
        let (remotes, _) = context.remotes(&self.remotes);
        remotes
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| Ok(parse_remote(s)?.open(&env)?))
            .collect()
    }
}

/// A remote spec; a form the core does not accept is a usage error (exit 2), which lists the
/// accepted forms.
fn parse_remote(spec: &str) -> Result<RemoteSpec, CliError> {
    RemoteSpec::parse(spec).map_err(command_line_value)
}

/// Prints a failure on stderr at once, whatever `--quiet` and `--json` say: a cron job's mail
/// must never be empty when something failed (the report on stdout lists it too).
fn print_error(line: &str) {
    eprintln!("thywill: error: {line}");
}

fn refs(targets: &[Box<dyn RemoteTarget>]) -> Vec<&dyn RemoteTarget> {
    targets.iter().map(|t| t.as_ref()).collect()
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
    #[command(flatten)]
    set: SetArgs,
}

/// What goes into a backup set and where copies go, shared by `thywill backup` and the
/// scheduled `thywill hourly | daily | weekly`.
#[derive(Args, Debug)]
pub struct SetArgs {
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

/// `thywill backup [hourly|daily|weekly]`: the core's create-and-copy; exit 1 when a copy
/// failed.
pub fn run_backup(context: &Context, args: BackupArgs) -> Result<Outcome, CliError> {
    let tier: Tier = args.tier.parse()?;
    let targets = args.set.remote.open(context)?;
    let (report, text) = create_set(context, tier, &args.set, &targets)?;
    let failed = report.has_failures();
    Ok(Outcome::new(&report, text)?.with_failures(failed))
}

/// Options of the scheduled `thywill hourly | daily | weekly`.
#[derive(Args, Debug)]
pub struct ScheduledArgs {
    #[command(flatten)]
    set: SetArgs,
    #[command(flatten)]
    retention: RetentionArgs,
}

/// The report of a scheduled backup: the set made, then the retention applied.
#[derive(serde::Serialize)]
struct ScheduledReport<'a> {
    backup: &'a backup::CreateAndCopyReport,
    cleanup: &'a backup::CleanupReport,
}

/// `thywill hourly | daily | weekly`: what ThyWill's `backup_management.sh` does for the
/// same word, so a crontab line keeps working: a backup of that tier, then the retention
/// windows applied to every tier without asking (the scheduled job is the consent; the
/// windows keep the newest sets). The retention runs only after the set is made; exit 1
/// when a copy or a remote deletion failed.
pub fn run_scheduled(
    context: &Context,
    tier: Tier,
    args: ScheduledArgs,
) -> Result<Outcome, CliError> {
    let policy = args.retention.policy(context)?;
    let targets = args.set.remote.open(context)?;
    let (created, mut text) = create_set(context, tier, &args.set, &targets)?;
    let options = CleanupOptions {
        policy,
        dry_run: false,
        database: Some(context.db.clone()),
        ..CleanupOptions::new(&context.backups)
    };
    let bar = context.progress();
    let cleaned = backup::cleanup(&options, &refs(&targets), &bar);
    bar.finish();
    let cleaned = cleaned?;
    text.push_str(&cleanup_text(&cleaned, false));
    for failure in &cleaned.remote_failures {
        print_error(&format!("FAILED on {}: {}", failure.target, failure.error));
    }
    let failed = created.has_failures() || !cleaned.remote_failures.is_empty();
    let report = ScheduledReport {
        backup: &created,
        cleanup: &cleaned,
    };
    Ok(Outcome::new(&report, text)?.with_failures(failed))
}

/// Makes one backup set of `tier` and copies it to `targets`: the report and its text.
fn create_set(
    context: &Context,
    tier: Tier,
    args: &SetArgs,
    targets: &[Box<dyn RemoteTarget>],
) -> Result<(backup::CreateAndCopyReport, String), CliError> {
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
    let report = backup::create_and_copy(&options, &refs(targets), &bar);
    bar.finish();
    let report = report?;
    let created = &report.backup;
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
    for copy in &report.remotes {
        text.push_str(&format!(
            "Copied to {} ({} file(s), checksums verified after upload)\n",
            copy.target,
            copy.members.len()
        ));
    }
    for failure in &report.remote_failures {
        print_error(&format!(
            "FAILED to copy to {}: {}",
            failure.target, failure.error
        ));
    }
    Ok((report, text))
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
    let targets = args.remote.open(context)?;
    let bar = context.progress();
    let report = backup::list(
        &ListOptions {
            deep: args.deep,
            ..ListOptions::new(&context.backups)
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
    #[arg(long, value_name = "SECONDS")]
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

/// `thywill restore FILE` (`safe` = `restore-safe`, which also upgrades the schema), or
/// `thywill restore NAME --from REMOTE`: the core's restore or restore-from-remote.
pub fn run_restore(context: &Context, args: RestoreArgs, safe: bool) -> Result<Outcome, CliError> {
    let mut options = RestoreOptions::new(&context.db, &context.backups);
    options.mode = if safe {
        RestoreMode::Safe
    } else {
        RestoreMode::Plain
    };
    options.lock = LockPolicy::from_flags(args.force, args.wait).map_err(command_line_value)?;
    options.verify.require_checksum = !args.allow_missing_checksum;
    options.dry_run = args.dry_run;
    let Some(spec) = &args.from else {
        let source = PathBuf::from(&args.file);
        confirm_restore(context, &args, &source.display().to_string())?;
        let bar = context.progress();
        let report = backup::restore(&source, &options, &bar);
        bar.finish();
        let report = report?;
        let text = restore_text(context, &report, &source.display().to_string());
        return Outcome::new(&report, text);
    };
    let name: SetName = args.file.parse().map_err(command_line_value)?;
    let target = parse_remote(spec)?.open(&|k| std::env::var_os(k))?;
    let described = format!("{name} from {}", target.describe());
    confirm_restore(context, &args, &described)?;
    let bar = context.progress();
    let report = backup::restore_from_remote(target.as_ref(), &name, &options, &bar);
    bar.finish();
    let report = report?;
    let fetched: u64 = report.fetch.members.iter().map(|m| m.size).sum();
    let mut text = format!(
        "Fetched {} from {} ({} file(s), {}) into {}, removed again\n",
        report.name,
        report.target,
        report.fetch.members.len(),
        size(fetched),
        backup::staging_dir(&context.backups).display()
    );
    text.push_str(&restore_text(context, &report.restore, &described));
    for warning in &report.warnings {
        text.push_str(&format!("Warning: {warning}\n"));
    }
    Outcome::new(&report, text)
}

fn confirm_restore(context: &Context, args: &RestoreArgs, source: &str) -> Result<(), CliError> {
    if args.dry_run {
        return Ok(());
    }
    context.confirm(&format!(
        "This will replace {} with {source} (a safety backup of the current database is taken first). Continue?",
        context.db.display()
    ))
}

/// What a restore did, for people; `source` names the backup as the user gave it.
fn restore_text(context: &Context, report: &RestoreReport, source: &str) -> String {
    let mut text = String::new();
    if report.dry_run {
        text.push_str(&format!(
            "Dry run: {source} is a sound backup and would replace {}\n",
            context.db.display()
        ));
    } else {
        text.push_str(&format!("Database restored from: {source}\n"));
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
    let verb = if report.dry_run {
        "Would remove"
    } else {
        "Removed"
    };
    for stale in &report.removed_stale_files {
        text.push_str(&format!(
            "{verb} {} (left by an interrupted run)\n",
            stale.display()
        ));
    }
    for side in &report.removed_side_files {
        text.push_str(&format!("{verb} stale {}\n", side.display()));
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
    text
}

/// Options of `thywill cleanup`.
#[derive(Args, Debug)]
pub struct CleanupArgs {
    /// List what would be deleted and why; delete nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    retention: RetentionArgs,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// The retention windows, shared by `thywill cleanup` and the scheduled backups. Each
/// window not given here comes from the config file's `[retention]`, else the core's
/// default (ThyWill's 48 hours, 30 days, 12 weeks).
#[derive(Args, Debug)]
pub struct RetentionArgs {
    /// Hourly retention window, in hours [default: 48].
    #[arg(long, env = "THYWILL_RETENTION_HOURLY_HOURS")]
    hourly_hours: Option<i64>,
    /// Daily retention window, in days [default: 30].
    #[arg(long, env = "THYWILL_RETENTION_DAILY_DAYS")]
    daily_days: Option<i64>,
    /// Weekly retention window, in weeks [default: 12].
    #[arg(long, env = "THYWILL_RETENTION_WEEKLY_WEEKS")]
    weekly_weeks: Option<i64>,
    /// Pre-restore safety backups: window in days [default: 30]...
    #[arg(long, env = "THYWILL_RETENTION_PRE_RESTORE_DAYS")]
    pre_restore_days: Option<i64>,
    /// ...and how many of the newest are always kept [default: 3].
    #[arg(long, env = "THYWILL_RETENTION_PRE_RESTORE_KEEP")]
    pre_restore_keep: Option<i64>,
}

/// The retention settings in effect and their sources, in the config file's key order.
pub fn retention_settings(
    context: &Context,
    args: Option<&RetentionArgs>,
) -> Result<Vec<(&'static str, i64, String)>, CliError> {
    let defaults = RetentionPolicy::default();
    vec![
        (
            "hourly_hours",
            context.retention_value(
                args.and_then(|a| a.hourly_hours),
                "THYWILL_RETENTION_HOURLY_HOURS",
                |r| r.hourly_hours.as_ref(),
                defaults.hourly_hours(),
            ),
        ),
        (
            "daily_days",
            context.retention_value(
                args.and_then(|a| a.daily_days),
                "THYWILL_RETENTION_DAILY_DAYS",
                |r| r.daily_days.as_ref(),
                defaults.daily_days(),
            ),
        ),
        (
            "weekly_weeks",
            context.retention_value(
                args.and_then(|a| a.weekly_weeks),
                "THYWILL_RETENTION_WEEKLY_WEEKS",
                |r| r.weekly_weeks.as_ref(),
                defaults.weekly_weeks(),
            ),
        ),
        (
            "pre_restore_days",
            context.retention_value(
                args.and_then(|a| a.pre_restore_days),
                "THYWILL_RETENTION_PRE_RESTORE_DAYS",
                |r| r.pre_restore_days.as_ref(),
                defaults.pre_restore_days(),
            ),
        ),
        (
            "pre_restore_keep",
            context.retention_value(
                args.and_then(|a| a.pre_restore_keep),
                "THYWILL_RETENTION_PRE_RESTORE_KEEP",
                |r| r.pre_restore_keep.as_ref(),
                defaults.pre_restore_keep_last() as i64,
            ),
        ),
    ]
    .into_iter()
    .map(|(key, setting)| setting.map(|(value, source)| (key, value, source)))
    .collect()
}

impl RetentionArgs {
    fn policy(&self, context: &Context) -> Result<RetentionPolicy, CliError> {
        let settings = retention_settings(context, Some(self))?;
        let values: Vec<i64> = settings.iter().map(|(_, value, _)| *value).collect();
        let [hourly, daily, weekly, pre_days, pre_keep] = values[..] else {
            return Err(CliError::Core(Error::Internal(
                "five retention settings".to_owned(),
            )));
        };
        RetentionPolicy::new(hourly, daily, weekly)
            .and_then(|p| p.with_pre_restore(pre_days, pre_keep))
            .map_err(command_line_value)
            .map_err(|error| match error {
                // Say where a refused value came from when it was not typed here.
                CliError::Usage(message) => {
                    let origin = settings
                        .iter()
                        .find(|(key, _, source)| message.starts_with(key) && source != "option")
                        .map(|(_, _, source)| format!(" (from {source})"))
                        .unwrap_or_default();
                    CliError::Usage(format!("{message}{origin}"))
                }
                other => other,
            })
    }
}

/// `thywill cleanup [--dry-run]`.
pub fn run_cleanup(context: &Context, args: CleanupArgs) -> Result<Outcome, CliError> {
    let policy = args.retention.policy(context)?;
    let targets = args.remote.open(context)?;
    let options = CleanupOptions {
        policy,
        dry_run: true,
        database: Some(context.db.clone()),
        ..CleanupOptions::new(&context.backups)
    };
    let plan = backup::cleanup(&options, &refs(&targets), &crate::progress::StopOnSignal)?;
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
    let text = cleanup_text(&report, true);
    for failure in &report.remote_failures {
        print_error(&format!("FAILED on {}: {}", failure.target, failure.error));
    }
    let failed = !report.remote_failures.is_empty();
    Ok(Outcome::new(&report, text)?.with_failures(failed))
}

/// A cleanup's text: every set's verdict when `every_set`, else only what was deleted.
fn cleanup_text(report: &backup::CleanupReport, every_set: bool) -> String {
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
        if !every_set && action.action == Action::Keep {
            continue;
        }
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
    text
}
