//! The `thywill` command's tests: the real binary run as a process, one test binary with a
//! module per command group and the helpers they share in `support`.

mod support;

mod archive;
mod audit;
mod backup;
mod care;
mod cli;
mod cli_errors;
mod config;
mod demo;
mod docs_examples;
mod download;
mod import;
mod interrupt;
mod json_everywhere;
mod operations;
mod recovery;
mod recovery_reconstruct;
mod recovery_report;
mod sessions;
