//! ThyWill's command names whose work one of our commands already does with other options:
//! each is turned into that command's own arguments and run by it, so there is no second
//! code path. (`rollback FILE` and `status` are plain aliases of `restore` and `list`.)

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, FromArgMatches, Subcommand};

use crate::commands::{import, recovery_reconstruct};
use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Options of `thywill import-all`.
#[derive(Args)]
pub struct ImportAllArgs {
    /// Do everything in a transaction that is rolled back.
    #[arg(long)]
    dry_run: bool,
}

/// Options of `thywill fix-prayer-content`.
#[derive(Args)]
pub struct FixPrayerContentArgs {
    /// Report what would be updated; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// The archive folder [default: the global --archives].
    #[arg(long, alias = "archive-dir")]
    archives_dir: Option<PathBuf>,
}

/// Options of `thywill analyze-orphaned-prayers` and `heal-orphaned-prayers`.
#[derive(Args)]
pub struct OrphanArgs {
    /// The archive folder to read [default: the global --archives].
    #[arg(long)]
    archive_dir: Option<PathBuf>,
}

/// `thywill import-all [--dry-run]`: ThyWill's import of export-all files, which
/// `import text-archives` reads along with the live archive files.
pub fn run_import_all(context: &Context, args: ImportAllArgs) -> Result<Outcome, CliError> {
    let mut argv: Vec<OsString> = vec!["text-archives".into()];
    if args.dry_run {
        argv.push("--dry-run".into());
    }
    import::run(context, subcommand::<import::ImportCommand>(argv)?)
}

/// `thywill fix-prayer-content [--dry-run]`: every prayer file re-read and the database's
/// text brought in line, i.e. `import text-archives --update-existing`.
pub fn run_fix_prayer_content(
    context: &Context,
    args: FixPrayerContentArgs,
) -> Result<Outcome, CliError> {
    let mut argv: Vec<OsString> = vec!["text-archives".into()];
    if let Some(dir) = args.archives_dir {
        argv.push(dir.into_os_string());
    }
    argv.push("--update-existing".into());
    if args.dry_run {
        argv.push("--dry-run".into());
    }
    import::run(context, subcommand::<import::ImportCommand>(argv)?)
}

/// `thywill analyze-orphaned-prayers` (`execute` false) and `heal-orphaned-prayers`
/// (`execute` true): `reconstruct-from-archives --dry-run` / `--execute`, which re-points or
/// recreates the authors and markers a prayer lost.
pub fn run_orphans(
    context: &Context,
    args: OrphanArgs,
    execute: bool,
) -> Result<Outcome, CliError> {
    let mut argv: Vec<OsString> = vec![if execute { "--execute" } else { "--dry-run" }.into()];
    if let Some(dir) = args.archive_dir {
        argv.push("--archive-dir".into());
        argv.push(dir.into_os_string());
    }
    recovery_reconstruct::run(
        context,
        arguments::<recovery_reconstruct::ReconstructArgs>(argv)?,
    )
}

/// `T` parsed from `argv` (its subcommand's name first), with `T`'s own defaults.
fn subcommand<T: Subcommand + FromArgMatches>(argv: Vec<OsString>) -> Result<T, CliError> {
    let command = T::augment_subcommands(clap::Command::new("thywill").no_binary_name(true));
    let matches = command
        .try_get_matches_from(argv)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    T::from_arg_matches(&matches).map_err(|e| CliError::Usage(e.to_string()))
}

/// `T` parsed from `argv`, with `T`'s own defaults.
fn arguments<T: Args + FromArgMatches>(argv: Vec<OsString>) -> Result<T, CliError> {
    let command = T::augment_args(clap::Command::new("thywill").no_binary_name(true));
    let matches = command
        .try_get_matches_from(argv)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    T::from_arg_matches(&matches).map_err(|e| CliError::Usage(e.to_string()))
}
