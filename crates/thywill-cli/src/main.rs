//! The `thywill` command.

use clap::Parser;

/// ThyWill's backup, archive, import and recovery tool.
#[derive(Parser)]
#[command(name = "thywill", version)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
