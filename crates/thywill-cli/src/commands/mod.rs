//! One module per domain, each with a clap `Args`/`Subcommand` type and a
//! `run(&Context, ...) -> Result<Outcome, CliError>` function.

pub mod archive;
pub mod audit;
pub mod backup;
pub mod care;
pub mod config;
pub mod demo;
pub mod download;
pub mod import;
pub mod recovery;
pub mod recovery_reconstruct;
pub mod recovery_report;
pub mod sessions;
pub mod thywill_names;
