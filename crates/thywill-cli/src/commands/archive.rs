//! `thywill archive ...`: read, render and check text archive files.

use std::path::PathBuf;

use clap::Subcommand;
use thywill_core::archive::check;
use thywill_core::archive::parsed::{parse_file, ParsedFile};

use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Archive subcommands.
#[derive(Subcommand)]
pub enum ArchiveCommand {
    /// Parse one archive file (kind from its path) and print its records.
    Parse {
        /// The file (a prayer file, a monthly users/activity file or a ledger).
        file: PathBuf,
    },
    /// Re-render every file under DIR and list those whose bytes differ (exit 1 if any).
    Check {
        /// The archive base folder [default: --archives].
        dir: Option<PathBuf>,
    },
}

/// Runs an archive subcommand.
pub fn run(context: &Context, command: ArchiveCommand) -> Result<Outcome, CliError> {
    match command {
        ArchiveCommand::Parse { file } => parse(file),
        ArchiveCommand::Check { dir } => check(context, dir.unwrap_or(context.archives.clone())),
    }
}

/// The records to list one per line: the content's first list, else the content itself.
fn records(parsed: &ParsedFile) -> Vec<&serde_json::Value> {
    let list = parsed
        .content
        .as_object()
        .and_then(|o| o.values().find_map(serde_json::Value::as_array));
    match list {
        Some(list) if !matches!(parsed.kind.as_str(), "prayer" | "membership_application") => {
            list.iter().collect()
        }
        _ => vec![&parsed.content],
    }
}

fn parse(path: PathBuf) -> Result<Outcome, CliError> {
    let parsed = parse_file(&path)?;
    let mut text = format!(
        "{}: {} file, {} record(s), {} diagnostic(s)\n",
        path.display(),
        parsed.kind,
        parsed.record_count,
        parsed.diagnostics.len()
    );
    for record in records(&parsed) {
        text.push_str(&format!("{record}\n"));
    }
    for d in &parsed.diagnostics {
        text.push_str(&format!("{}:{}: {}\n", path.display(), d.line, d.reason));
    }
    let failed = !parsed.diagnostics.is_empty();
    Ok(Outcome::new(&parsed, text)?.with_failures(failed))
}

fn check(context: &Context, dir: PathBuf) -> Result<Outcome, CliError> {
    let bar = context.progress();
    let report = check::check_tree(&dir, &bar);
    bar.finish();
    let report = report?;
    let mut text = format!(
        "{}: {} file(s) checked, {} identical, {} skipped (no renderer), {} with problems\n",
        dir.display(),
        report.files_checked,
        report.files_identical,
        report.files_skipped,
        report.problems.len()
    );
    for entry in &report.not_regular_files {
        text.push_str(&format!(
            "{}: not a regular file ({}); not read\n",
            entry.path.display(),
            entry.what
        ));
    }
    for problem in &report.problems {
        let path = problem.path.display();
        if let Some(error) = &problem.error {
            text.push_str(&format!("{path}: cannot check: {error}\n"));
        }
        if let Some(line) = problem.first_differing_line {
            text.push_str(&format!(
                "{path}:{line}: re-rendered bytes differ from here\n"
            ));
        }
        for d in &problem.diagnostics {
            text.push_str(&format!("{path}:{}: {}\n", d.line, d.reason));
        }
    }
    let failed = !report.is_clean();
    Ok(Outcome::new(&report, text)?.with_failures(failed))
}
