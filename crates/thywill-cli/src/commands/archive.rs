//! `thywill archive ...`: read, render and check text archive files.

use clap::Subcommand;

use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Archive subcommands.
#[derive(Subcommand)]
pub enum ArchiveCommand {}

/// Runs an archive subcommand.
pub fn run(_context: &Context, command: ArchiveCommand) -> Result<Outcome, CliError> {
    match command {}
}
