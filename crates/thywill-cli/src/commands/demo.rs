//! `thywill demo`: a sample community's archives written and read back.

use clap::Args;

use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Options of `thywill demo`.
#[derive(Args)]
pub struct DemoArgs {}

/// Runs the demo.
pub fn run(_context: &Context, _args: DemoArgs) -> Result<Outcome, CliError> {
    Err(CliError::Usage("demo: waiting for the archive API".into()))
}
