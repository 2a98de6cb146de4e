//! `thywill config`: the settings in effect after options, environment and defaults.

use clap::Args;
use serde::Serialize;

use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Options of `thywill config` (none: it shows the global ones).
#[derive(Args)]
pub struct ConfigArgs {}

#[derive(Serialize)]
struct Settings {
    version: &'static str,
    db: String,
    archives: String,
    backups: String,
    assume_yes: bool,
}

/// Shows the effective settings.
pub fn run(context: &Context, _args: ConfigArgs) -> Result<Outcome, CliError> {
    let settings = Settings {
        version: thywill_core::VERSION,
        db: context.db.display().to_string(),
        archives: context.archives.display().to_string(),
        backups: context.backups.display().to_string(),
        assume_yes: context.yes,
    };
    let text = format!(
        "thywill {}\ndatabase: {}\narchives: {}\nbackups:  {}\n",
        settings.version, settings.db, settings.archives, settings.backups
    );
    Outcome::new(&settings, text)
}
