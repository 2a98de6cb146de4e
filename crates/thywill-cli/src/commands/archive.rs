//! `thywill archive ...`: read, render and check text archive files.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde::Serialize;
use thywill_core::archive::kind::{self, FileKind};
use thywill_core::archive::{activity, ledger, prayer, users, Diagnostic};
use thywill_core::Error;

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

/// The kind of a file given by any path: the longest trailing part of the path that
/// names a known kind wins (so absolute and `text_archives/...` paths work).
pub fn kind_of_path(path: &Path) -> FileKind {
    let parts: Vec<_> = path.components().collect();
    (1..=parts.len().min(5))
        .rev()
        .filter_map(|n| parts.get(parts.len() - n..))
        .map(|tail| kind::detect_kind(&tail.iter().collect::<PathBuf>()))
        .find(|k| *k != FileKind::Other)
        .unwrap_or(FileKind::Other)
}

/// The kind's name without data, e.g. `ledger` for `Ledger(Marks)`.
fn kind_name(kind: FileKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// One file read by the parser of its kind.
#[derive(Serialize)]
pub struct ParsedFile {
    /// The file.
    pub path: PathBuf,
    /// Its kind (`prayer`, `user_registrations`, `activity_log`, `ledger`).
    pub kind: String,
    /// Its records as plain data (one for a prayer file).
    pub records: Vec<serde_json::Value>,
    /// Lines that could not be read.
    pub diagnostics: Vec<Diagnostic>,
}

fn collect<T: Serialize>(
    items: impl Iterator<Item = Result<T, Diagnostic>>,
    parsed: &mut ParsedFile,
) -> Result<(), CliError> {
    for item in items {
        match item {
            Ok(record) => parsed.records.push(
                serde_json::to_value(record)
                    .map_err(|e| CliError::Core(Error::Internal(e.to_string())))?,
            ),
            Err(diagnostic) => parsed.diagnostics.push(diagnostic),
        }
    }
    Ok(())
}

/// Parses a prayer, users, activity or ledger file; other kinds are invalid input.
pub fn parse_file(path: PathBuf) -> Result<ParsedFile, CliError> {
    // A missing file is "not found" whatever its name says.
    std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
    let kind = kind_of_path(&path);
    let mut parsed = ParsedFile {
        kind: kind_name(kind),
        path: path.clone(),
        records: Vec::new(),
        diagnostics: Vec::new(),
    };
    let open = || {
        File::open(&path)
            .map(BufReader::new)
            .map_err(|e| Error::io(&path, e))
    };
    match kind {
        FileKind::Prayer => {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let (record, diagnostics) = prayer::parse_bytes(&bytes, Some(&path));
            collect(std::iter::once(Ok::<_, Diagnostic>(record)), &mut parsed)?;
            parsed.diagnostics = diagnostics;
        }
        FileKind::UserRegistrations => {
            collect(users::parse_monthly(open()?, Some(&path)), &mut parsed)?
        }
        FileKind::ActivityLog => {
            collect(activity::parse_monthly(open()?, Some(&path)), &mut parsed)?
        }
        FileKind::Ledger(ledger_kind) => collect(
            ledger::parse_monthly(ledger_kind, open()?, Some(&path)),
            &mut parsed,
        )?,
        other => {
            return Err(Error::InvalidInput(format!(
                "{}: no parser for {} files",
                path.display(),
                kind_name(other)
            ))
            .into())
        }
    }
    Ok(parsed)
}

fn parse(path: PathBuf) -> Result<Outcome, CliError> {
    let parsed = parse_file(path.clone())?;
    let mut text = format!(
        "{}: {} file, {} record(s), {} diagnostic(s)\n",
        path.display(),
        parsed.kind,
        parsed.records.len(),
        parsed.diagnostics.len()
    );
    for record in &parsed.records {
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
    let report = kind::check_tree(&dir, &bar);
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
