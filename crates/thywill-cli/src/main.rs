//! The `thywill` command. Each domain's subcommands live in
//! `commands/<domain>.rs` (see `docs/frontends.md`); exit codes are mapped in
//! `exit.rs` (see `docs/cli.md`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod context;
mod exit;
mod progress;

use context::{Context, Outcome};
use exit::CliError;

/// mimalloc: an import's writer thread frees what its reader thread allocated, which
/// glibc's allocator serialises on the reader's arena lock (about 7% of an import's
/// wall time, `docs/import.md`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// ThyWill's backup, archive, import and recovery tool.
#[derive(Parser)]
#[command(name = "thywill", version)]
struct Cli {
    /// The ThyWill SQLite database.
    #[arg(
        long,
        global = true,
        env = "DATABASE_PATH",
        default_value = "thywill.db"
    )]
    db: PathBuf,
    /// The text archive base folder.
    #[arg(
        long,
        global = true,
        env = "TEXT_ARCHIVE_BASE_DIR",
        default_value = "text_archives"
    )]
    archives: PathBuf,
    /// Where database backups go [default: backups/ beside the database].
    #[arg(long, global = true, env = "THYWILL_BACKUP_DIR")]
    backups: Option<PathBuf>,
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

#[derive(Subcommand)]
enum Command {
    /// Read, render and check text archive files.
    #[command(subcommand)]
    Archive(commands::archive::ArchiveCommand),
    /// Back up the database (hourly, daily or weekly; default daily).
    Backup(commands::backup::BackupArgs),
    /// Verify a backup: checksums, integrity check, ThyWill's tables.
    Verify(commands::backup::VerifyArgs),
    /// List the backups of every tier, local and on remotes.
    List(commands::backup::ListArgs),
    /// Replace the database with a verified backup.
    Restore(commands::backup::RestoreArgs),
    /// Restore, then bring the database up to the current ThyWill schema.
    RestoreSafe(commands::backup::RestoreArgs),
    /// Delete backups past their retention window.
    Cleanup(commands::backup::CleanupArgs),
    /// Show the settings in effect (options, environment, defaults).
    Config(commands::config::ConfigArgs),
    /// Build a small sample community's archives, read them back and summarise.
    Demo(commands::demo::DemoArgs),
    /// Import text archives (folder or ZIP), JSON prayers or one prayer file.
    #[command(subcommand)]
    Import(commands::import::ImportCommand),
}

fn run(context: &Context, command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::Archive(command) => commands::archive::run(context, command),
        Command::Backup(args) => commands::backup::run_backup(context, args),
        Command::Verify(args) => commands::backup::run_verify(context, args),
        Command::List(args) => commands::backup::run_list(context, args),
        Command::Restore(args) => commands::backup::run_restore(context, args, false),
        Command::RestoreSafe(args) => commands::backup::run_restore(context, args, true),
        Command::Cleanup(args) => commands::backup::run_cleanup(context, args),
        Command::Config(args) => commands::config::run(context, args),
        Command::Demo(args) => commands::demo::run(context, args),
        Command::Import(command) => commands::import::run(context, command),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let backups = cli.backups.unwrap_or_else(|| {
        cli.db
            .parent()
            .map_or_else(|| PathBuf::from("backups"), |dir| dir.join("backups"))
    });
    let context = Context {
        db: cli.db,
        archives: cli.archives,
        backups,
        json: cli.json,
        yes: cli.yes,
        quiet: cli.quiet,
    };
    let code = match run(&context, cli.command) {
        Ok(outcome) => {
            if context.json {
                println!("{}", outcome.report);
            } else if !context.quiet && !outcome.text.is_empty() {
                println!("{}", outcome.text.trim_end());
            }
            if let Some(code) = outcome.exit_code {
                code
            } else if outcome.failed {
                exit::COMPLETED_WITH_FAILURES
            } else {
                exit::OK
            }
        }
        Err(error) => {
            eprintln!("thywill: error: {error}");
            if context.json {
                let report = serde_json::json!({
                    "error": {"kind": error.kind_name(), "message": error.to_string(), "exit_code": error.exit_code()}
                });
                println!("{report}");
            }
            error.exit_code()
        }
    };
    ExitCode::from(code)
}
