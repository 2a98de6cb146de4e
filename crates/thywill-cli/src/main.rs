//! The `thywill` command. Each domain's subcommands live in
//! `commands/<domain>.rs` (see `docs/frontends.md`); exit codes are mapped in
//! `exit.rs` (see `docs/cli.md`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::TypedValueParser;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod commands;
mod config_file;
mod context;
mod exit;
mod help;
mod interrupt;
mod output;
mod progress;

use clap::parser::ValueSource;
use context::{Context, Outcome, Shown};
use exit::CliError;
use thywill_core::backup::Tier;

/// mimalloc: an import's writer thread frees what its reader thread allocated, which
/// glibc's allocator serialises on the reader's arena lock (about 7% of an import's
/// wall time, `docs/import.md`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// ThyWill's backup, archive, import and recovery tool.
#[derive(Parser)]
#[command(name = "thywill", version)]
struct Cli {
    /// The config file (TOML) [default: thywill.toml in the current folder, if present].
    #[arg(long, global = true, env = config_file::CONFIG_VARIABLE, value_parser = any_path())]
    config: Option<PathBuf>,
    /// The ThyWill SQLite database [default: thywill.db].
    #[arg(long, global = true, env = context::DB_VARIABLE, value_parser = any_path())]
    db: Option<PathBuf>,
    /// The text archive base folder [default: text_archives].
    #[arg(long, global = true, env = context::ARCHIVES_VARIABLE, value_parser = any_path())]
    archives: Option<PathBuf>,
    /// Where database backups go [default: backups/ beside the database].
    #[arg(long, global = true, env = context::BACKUPS_VARIABLE, value_parser = any_path())]
    backups: Option<PathBuf>,
    /// The audit log: a file, or `off` [default: thywill-audit.jsonl beside the database].
    #[arg(long, global = true, env = context::AUDIT_VARIABLE, value_parser = any_path())]
    audit_log: Option<PathBuf>,
    /// Print a machine-readable JSON report on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Answer yes to every confirmation (needed when stdin is not a terminal).
    #[arg(long, short = 'y', global = true)]
    yes: bool,
    /// Print nothing but errors.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// Accepts empty paths too, so that an empty value is reported by [`context::setting`],
/// which can name the variable it came from (clap would name the option).
fn any_path() -> impl TypedValueParser<Value = PathBuf> {
    clap::builder::OsStringValueParser::new().map(PathBuf::from)
}

#[derive(Subcommand)]
enum Command {
    /// Read, render and check text archive files.
    #[command(subcommand)]
    Archive(commands::archive::ArchiveCommand),
    /// Back up the database (hourly, daily or weekly; default daily).
    Backup(commands::backup::BackupArgs),
    /// Scheduled hourly backup, as ThyWill's `backup_management.sh hourly`: back up, then
    /// apply retention without asking.
    Hourly(commands::backup::ScheduledArgs),
    /// Scheduled daily backup, as ThyWill's `backup_management.sh daily`: back up, then
    /// apply retention without asking.
    Daily(commands::backup::ScheduledArgs),
    /// Scheduled weekly backup, as ThyWill's `backup_management.sh weekly`: back up, then
    /// apply retention without asking.
    Weekly(commands::backup::ScheduledArgs),
    /// Verify a backup: checksums, integrity check, ThyWill's tables.
    Verify(commands::backup::VerifyArgs),
    /// List the backups of every tier, local and on remotes (ThyWill's `status` too).
    #[command(alias = "status")]
    List(commands::backup::ListArgs),
    /// Replace the database with a verified backup (ThyWill's `rollback FILE` too).
    #[command(alias = "rollback")]
    Restore(commands::backup::RestoreArgs),
    /// Restore, then bring the database up to the current ThyWill schema.
    RestoreSafe(commands::backup::RestoreArgs),
    /// Delete backups past their retention window.
    Cleanup(commands::backup::CleanupArgs),
    /// Show the settings in effect and where each came from (`config show`).
    Config(commands::config::ConfigArgs),
    /// The whole story on a sample community: archives, backup, loss, recovery, ZIPs, audit.
    Demo(commands::demo::DemoArgs),
    /// Import text archives (folder or ZIP), JSON prayers or one prayer file.
    #[command(subcommand)]
    Import(commands::import::ImportCommand),
    /// Rebuild the database from the text archives in a scratch file and compare: what
    /// would come back, what would be lost. Changes nothing.
    TestRecovery(commands::recovery::TestRecoveryArgs),
    /// Rebuild the database from the text archives and swap it in (after a safety
    /// backup), or with --merge import into the existing database.
    FullRecovery(commands::recovery::FullRecoveryArgs),
    /// Write a user's or the community's archive ZIP (docs/downloads.md).
    #[command(subcommand)]
    Download(commands::download::DownloadCommand),
    /// Manage written downloads: remove old ones.
    #[command(subcommand)]
    Downloads(commands::download::DownloadsCommand),
    /// Write the active sessions to a JSON file (default sessions_backup.json), mode 0600.
    ExportSessions(commands::sessions::ExportArgs),
    /// Put the sessions of an export-sessions file back into the database.
    RestoreSessions(commands::sessions::RestoreArgs),
    /// Write the archive files and lines missing for the database's records.
    ///
    /// Prayer files with their activity (a stale file rewritten in place, never a sibling),
    /// registrations, the marks/skips/attributes ledgers, invite usage, user flags.
    HealArchives(commands::care::HealArgs),
    /// Bring database and archives level: import what only the archives hold, then heal
    /// what only the database holds, then validate.
    SyncArchives(commands::care::SyncArchivesArgs),
    /// Write the registration lines missing from the monthly users files.
    SyncUsers(commands::care::SyncUsersArgs),
    /// Check archives and database against each other, read-only (exit 1 on problems).
    ValidateArchives(commands::care::ValidateArgs),
    /// Repair what validate-archives finds that can be repaired (heal-archives' work).
    RepairArchives(commands::care::HealArgs),
    /// Repair users, inviters, grants, invite tokens and sessions from the text archives.
    ReconstructFromArchives(commands::recovery_reconstruct::ReconstructArgs),
    /// Compare the text archives with the database field by field and score them
    /// (exit 0 from 95, 1 from 85, 2 below).
    ValidateConsistency(commands::recovery_report::ConsistencyArgs),
    /// How much the archives and backups would bring back, and one readiness verdict.
    RecoveryReport(commands::recovery_report::RecoveryReportArgs),
    /// Show the audit trail: one line per operation on user data (docs/audit.md).
    Audit(commands::audit::AuditArgs),
    /// Import everything export-all wrote, with the archive files (`import text-archives`).
    ImportAll(commands::thywill_names::ImportAllArgs),
    /// Bring prayers' text back in line with their archive files
    /// (`import text-archives --update-existing`).
    FixPrayerContent(commands::thywill_names::FixPrayerContentArgs),
    /// Report prayers whose author or markers are missing, and how the archives would
    /// repair them (`reconstruct-from-archives --dry-run`).
    AnalyzeOrphanedPrayers(commands::thywill_names::OrphanArgs),
    /// Repair prayers whose author or markers are missing from the archives
    /// (`reconstruct-from-archives --execute`).
    HealOrphanedPrayers(commands::thywill_names::OrphanArgs),
}

fn run(context: &Context, command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::Archive(command) => commands::archive::run(context, command),
        Command::Backup(args) => commands::backup::run_backup(context, args),
        Command::Hourly(args) => commands::backup::run_scheduled(context, Tier::Hourly, args),
        Command::Daily(args) => commands::backup::run_scheduled(context, Tier::Daily, args),
        Command::Weekly(args) => commands::backup::run_scheduled(context, Tier::Weekly, args),
        Command::Verify(args) => commands::backup::run_verify(context, args),
        Command::List(args) => commands::backup::run_list(context, args),
        Command::Restore(args) => commands::backup::run_restore(context, args, false),
        Command::RestoreSafe(args) => commands::backup::run_restore(context, args, true),
        Command::Cleanup(args) => commands::backup::run_cleanup(context, args),
        Command::Config(args) => commands::config::run(context, args),
        Command::Demo(args) => commands::demo::run(context, args),
        Command::Import(command) => commands::import::run(context, command),
        Command::TestRecovery(args) => commands::recovery::run_test_recovery(context, args),
        Command::FullRecovery(args) => commands::recovery::run_full_recovery(context, args),
        Command::Download(command) => commands::download::run(context, command),
        Command::Downloads(command) => commands::download::run_downloads(context, command),
        Command::ExportSessions(args) => commands::sessions::run_export(context, args),
        Command::RestoreSessions(args) => commands::sessions::run_restore(context, args),
        Command::HealArchives(args) | Command::RepairArchives(args) => {
            commands::care::run_heal(context, args)
        }
        Command::SyncArchives(args) => commands::care::run_sync_archives(context, args),
        Command::SyncUsers(args) => commands::care::run_sync_users(context, args),
        Command::ValidateArchives(args) => commands::care::run_validate(context, args),
        Command::ReconstructFromArchives(args) => {
            commands::recovery_reconstruct::run(context, args)
        }
        Command::ValidateConsistency(args) => {
            commands::recovery_report::run_consistency(context, args)
        }
        Command::RecoveryReport(args) => {
            commands::recovery_report::run_recovery_report(context, args)
        }
        Command::Audit(args) => commands::audit::run(context, args),
        Command::ImportAll(args) => commands::thywill_names::run_import_all(context, args),
        Command::FixPrayerContent(args) => {
            commands::thywill_names::run_fix_prayer_content(context, args)
        }
        Command::AnalyzeOrphanedPrayers(args) => {
            commands::thywill_names::run_orphans(context, args, false)
        }
        Command::HealOrphanedPrayers(args) => {
            commands::thywill_names::run_orphans(context, args, true)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let json = json_requested(&args);
    let code = match parse(&args) {
        Ok((context, command)) => {
            thywill_core::audit::configure(context.audit_setting());
            if let Err(e) = interrupt::install() {
                output::stderr_line(&format!(
                    "thywill: warning: Ctrl-C will end the command at once: {e}"
                ));
            }
            let code = match run(&context, command) {
                Ok(outcome) => print_outcome(&context, &outcome),
                Err(error) => print_error(&error, &format!("thywill: error: {error}\n"), json),
            };
            for failure in thywill_core::audit::take_append_failures() {
                output::stderr_line(&format!("thywill: warning: {failure}"));
            }
            code
        }
        Err(Failure::Clap(error)) => print_clap_error(&error, json),
        Err(Failure::Cli(error)) => {
            print_error(&error, &format!("thywill: error: {error}\n"), json)
        }
    };
    ExitCode::from(code)
}

/// Why the command line could not be turned into a command.
enum Failure {
    /// Clap's own outcome: a usage error, or `--help`/`--version`.
    Clap(clap::Error),
    /// The options parsed but a setting is unusable.
    Cli(CliError),
}

fn parse(args: &[OsString]) -> Result<(Context, Command), Failure> {
    let matches = help::decorate(Cli::command())
        .try_get_matches_from(args)
        .map_err(Failure::Clap)?;
    // Not `from_arg_matches_mut`: it takes the values out, and with them their sources,
    // which `context::setting` reads.
    let cli = Cli::from_arg_matches(&matches).map_err(Failure::Clap)?;
    let context = resolve(
        &matches,
        cli.config,
        cli.db,
        cli.archives,
        cli.backups,
        cli.audit_log,
    )
    .map_err(Failure::Cli)?;
    let context = Context {
        json: cli.json,
        yes: cli.yes,
        quiet: cli.quiet,
        ..context
    };
    Ok((context, cli.command))
}

/// Applies the layers to the global settings: option, then environment variable, then
/// config file, then default. Also sets the process's time zone from `time_zone`.
fn resolve(
    matches: &clap::ArgMatches,
    config: Option<PathBuf>,
    db: Option<PathBuf>,
    archives: Option<PathBuf>,
    backups: Option<PathBuf>,
    audit_log: Option<PathBuf>,
) -> Result<Context, CliError> {
    let explicit = config.map(|path| {
        let named_by = if matches.value_source("config") == Some(ValueSource::EnvVariable) {
            config_file::CONFIG_VARIABLE
        } else {
            "--config"
        };
        (path, named_by)
    });
    let file = config_file::find(explicit)?;
    let mut shown = Vec::new();
    let mut layer = |id: &str,
                     variable: &str,
                     given: Option<PathBuf>,
                     from_file: Option<&config_file::Entry<PathBuf>>|
     -> Result<Option<PathBuf>, CliError> {
        let (value, source) = if let Some(value) = given {
            let value = context::setting(matches, id, variable, value)?;
            let source = if matches.value_source(id) == Some(ValueSource::EnvVariable) {
                format!("env {variable}")
            } else {
                "option".to_owned()
            };
            (value, source)
        } else if let (Some(entry), Some(file)) = (from_file, file.as_ref()) {
            (entry.value.clone(), file.source(entry.line))
        } else {
            return Ok(None);
        };
        shown.push(Shown::new(id, value.display().to_string(), source));
        Ok(Some(value))
    };
    let db_file = file.as_ref().and_then(|f| f.db.as_ref());
    let db = layer("db", context::DB_VARIABLE, db, db_file)?;
    let archives_file = file.as_ref().and_then(|f| f.archives.as_ref());
    let archives = layer(
        "archives",
        context::ARCHIVES_VARIABLE,
        archives,
        archives_file,
    )?;
    let backups_file = file.as_ref().and_then(|f| f.backups.as_ref());
    let backups = layer("backups", context::BACKUPS_VARIABLE, backups, backups_file)?;
    let audit_file = file.as_ref().and_then(|f| f.audit_log.as_ref());
    let audit_log = layer("audit_log", context::AUDIT_VARIABLE, audit_log, audit_file)?;
    let db = db.unwrap_or_else(|| {
        shown.push(Shown::new(
            "db",
            "thywill.db".to_owned(),
            "default".to_owned(),
        ));
        PathBuf::from("thywill.db")
    });
    let archives = archives.unwrap_or_else(|| {
        shown.push(Shown::new(
            "archives",
            "text_archives".to_owned(),
            "default".to_owned(),
        ));
        PathBuf::from("text_archives")
    });
    let backups = backups.unwrap_or_else(|| {
        let path = db
            .parent()
            .map_or_else(|| PathBuf::from("backups"), |dir| dir.join("backups"));
        shown.push(Shown::new(
            "backups",
            path.display().to_string(),
            "default".to_owned(),
        ));
        path
    });
    let mut context = Context {
        db,
        archives,
        backups,
        audit_log,
        json: false,
        yes: false,
        quiet: false,
        config: file,
        shown: Vec::new(),
    };
    if context.audit_log.is_none() {
        let value = context
            .audit_log()
            .map_or_else(|| "off".to_owned(), |p| p.display().to_string());
        shown.push(Shown::new("audit_log", value, "default".to_owned()));
    }
    shown.push(apply_time_zone(context.config.as_ref())?);
    let order = ["db", "archives", "backups", "audit_log", "time_zone"];
    shown.sort_by_key(|s| order.iter().position(|name| *name == s.name));
    context.shown = shown;
    Ok(context)
}

/// `time_zone` (`THYWILL_TIME_ZONE`, else the file) becomes the process's `TZ`, before any
/// clock is read: backup set names and retention's "now" are local time.
fn apply_time_zone(file: Option<&config_file::ConfigFile>) -> Result<Shown, CliError> {
    let from_env = std::env::var(context::TIME_ZONE_VARIABLE)
        .ok()
        .filter(|zone| !zone.is_empty());
    let (zone, source) = if let Some(zone) = from_env {
        config_file::check_zone(&zone)
            .map_err(|why| CliError::Usage(format!("{}: {why}", context::TIME_ZONE_VARIABLE)))?;
        (zone, format!("env {}", context::TIME_ZONE_VARIABLE))
    } else if let Some((entry, file)) = file.and_then(|f| f.time_zone.as_ref().map(|e| (e, f))) {
        (entry.value.clone(), file.source(entry.line))
    } else {
        let zone = std::env::var("TZ").unwrap_or_else(|_| "local".to_owned());
        return Ok(Shown::new("time_zone", zone, "default".to_owned()));
    };
    // Set while the process still has one thread and before any clock is read, so every
    // later local time (chrono reads `TZ`) is in this zone.
    std::env::set_var("TZ", &zone);
    Ok(Shown::new("time_zone", zone, source))
}

/// Whether `--json` is on the command line (before a `--`), for reporting a command
/// line that clap could not parse in the shape `--json` asks for.
fn json_requested(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == "--json")
}

fn print_outcome(context: &Context, outcome: &Outcome) -> u8 {
    let code = if let Some(code) = outcome.exit_code {
        code
    } else if outcome.failed {
        exit::COMPLETED_WITH_FAILURES
    } else {
        exit::OK
    };
    let written = if context.json {
        output::stdout_json(&outcome.report)
    } else if !context.quiet && !outcome.text.is_empty() {
        output::stdout_line(outcome.text.trim_end())
    } else {
        Ok(())
    };
    code_after_writing(written, code)
}

/// Reports `error`: `stderr_text` on stderr and, under `--json`, the error report on stdout.
fn print_error(error: &CliError, stderr_text: &str, json: bool) -> u8 {
    output::stderr_text(stderr_text);
    if !json {
        return error.exit_code();
    }
    let report = serde_json::json!({
        "error": {"kind": error.kind_name(), "message": error.to_string(), "exit_code": error.exit_code()}
    });
    code_after_writing(output::stdout_json(&report), error.exit_code())
}

/// `--help` and `--version` print as clap prints them; usage errors also get the JSON
/// error report under `--json`.
fn print_clap_error(error: &clap::Error, json: bool) -> u8 {
    use clap::error::ErrorKind;
    let rendered = error.render().to_string();
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            u8::try_from(error.exit_code()).unwrap_or(exit::USAGE)
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => print_error(
            &CliError::Usage("a command is required; see `thywill --help`".to_owned()),
            &rendered,
            json,
        ),
        _ => {
            let first_line = rendered.lines().next().unwrap_or_default();
            let message = first_line.strip_prefix("error: ").unwrap_or(first_line);
            print_error(&CliError::Usage(message.to_owned()), &rendered, json)
        }
    }
}

/// The exit code once the report is written: `code`, or why the report could not be.
fn code_after_writing(written: std::io::Result<()>, code: u8) -> u8 {
    match written {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::STDOUT_CLOSED,
        Err(e) => {
            output::stderr_line(&format!("thywill: error: writing to stdout: {e}"));
            exit::code_for(thywill_core::ErrorKind::Io)
        }
    }
}
