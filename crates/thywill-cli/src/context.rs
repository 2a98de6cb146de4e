//! What every command receives: resolved global options and output helpers.

use std::io::IsTerminal;
use std::path::PathBuf;

use serde::Serialize;

use crate::config_file::ConfigFile;
use crate::exit::CliError;
use crate::output;
use crate::progress::TerminalProgress;

/// The variable `--db` defaults to.
pub const DB_VARIABLE: &str = "DATABASE_PATH";
/// The variable `--archives` defaults to.
pub const ARCHIVES_VARIABLE: &str = "TEXT_ARCHIVE_BASE_DIR";
/// The variable `--audit-log` defaults to.
pub const AUDIT_VARIABLE: &str = "THYWILL_AUDIT_LOG";
/// The variable `--backups` defaults to.
pub const BACKUPS_VARIABLE: &str = "THYWILL_BACKUP_DIR";
/// The variable that overrides the config file's `time_zone`.
pub const TIME_ZONE_VARIABLE: &str = "THYWILL_TIME_ZONE";
/// The variable `--remote` defaults to.
pub const REMOTES_VARIABLE: &str = "THYWILL_BACKUP_REMOTES";

/// One setting in effect and where it came from, for `thywill config show`.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The setting's name (the config file's key).
    pub name: String,
    /// Its value.
    pub value: serde_json::Value,
    /// `option`, `env NAME`, `file PATH:LINE` or `default`.
    pub source: String,
}

impl Shown {
    /// A setting shown with a text value.
    pub fn new(name: &str, value: String, source: String) -> Self {
        Shown {
            name: name.to_owned(),
            value: serde_json::Value::String(value),
            source,
        }
    }
}

/// A path setting (`id` is its option's name, `variable` its environment variable) once
/// checked: an empty one is a usage error naming where it came from, so that an empty
/// `DATABASE_PATH=` in a service file is not reported as a missing `--db` value.
pub fn setting(
    matches: &clap::ArgMatches,
    id: &str,
    variable: &str,
    value: PathBuf,
) -> Result<PathBuf, CliError> {
    if !value.as_os_str().is_empty() {
        return Ok(value);
    }
    Err(CliError::Usage(
        if matches.value_source(id) == Some(clap::parser::ValueSource::EnvVariable) {
            format!("the environment variable {variable} is set but empty; set it to a path or unset it")
        } else {
            format!("--{id} is empty; give it a path")
        },
    ))
}

/// Global options after defaults and environment variables are applied.
#[derive(Debug, Clone)]
pub struct Context {
    /// The SQLite database.
    pub db: PathBuf,
    /// The text archive base folder.
    pub archives: PathBuf,
    /// Where database backups go.
    pub backups: PathBuf,
    /// `--audit-log`: a file, `off`, or unset (beside the database).
    pub audit_log: Option<PathBuf>,
    /// Print a JSON report on stdout instead of text.
    pub json: bool,
    /// Answer yes to every confirmation.
    pub yes: bool,
    /// No text output and no progress bar (errors still go to stderr).
    pub quiet: bool,
    /// The config file in effect, if any.
    pub config: Option<ConfigFile>,
    /// The global settings and their sources, for `config show`.
    pub shown: Vec<Shown>,
}

impl Context {
    /// Where the core records this run's operations: every line of a run goes to one log,
    /// beside `--db` unless `--audit-log` says otherwise (also for an operation that has no
    /// database of its own, such as verifying a backup file).
    pub fn audit_setting(&self) -> thywill_core::audit::AuditSetting {
        use thywill_core::audit::AuditSetting;
        match self.audit_log() {
            Some(path) => AuditSetting::At(path),
            None => AuditSetting::Off,
        }
    }

    /// The audit log of this run; `None` when it is off.
    pub fn audit_log(&self) -> Option<PathBuf> {
        match &self.audit_log {
            Some(path) if path.as_os_str() == "off" => None,
            Some(path) => Some(path.clone()),
            None => {
                let folder = self.db.parent().filter(|p| !p.as_os_str().is_empty());
                Some(
                    folder
                        .unwrap_or(std::path::Path::new("."))
                        .join(thywill_core::audit::AUDIT_FILE_NAME),
                )
            }
        }
    }

    /// A retention setting: `given` (clap's value of the option or of `variable`), else
    /// `variable` (read here for `config show`, which has no retention options), else the
    /// config file's, else `default`; with where it came from.
    pub fn retention_value(
        &self,
        given: Option<i64>,
        variable: &str,
        pick: fn(&crate::config_file::RetentionFile) -> Option<&crate::config_file::Entry<i64>>,
        default: i64,
    ) -> Result<(i64, String), CliError> {
        let from_env = match std::env::var(variable) {
            Ok(text) if !text.trim().is_empty() => {
                Some(text.trim().parse::<i64>().map_err(|_| {
                    CliError::Usage(format!("{variable} must be a whole number, not {text:?}"))
                })?)
            }
            _ => None,
        };
        if let Some(value) = given {
            let source = if from_env == Some(value) {
                format!("env {variable}")
            } else {
                "option".to_owned()
            };
            return Ok((value, source));
        }
        if let Some(value) = from_env {
            return Ok((value, format!("env {variable}")));
        }
        match self
            .config
            .as_ref()
            .and_then(|file| pick(&file.retention).map(|e| (file, e)))
        {
            Some((file, entry)) => Ok((entry.value, file.source(entry.line))),
            None => Ok((default, "default".to_owned())),
        }
    }

    /// The remotes: `given` (from `--remote` or `THYWILL_BACKUP_REMOTES`, even empty), else the
    /// config file's `remotes`, else none; with where they came from.
    pub fn remotes(&self, given: &[String]) -> (Vec<String>, String) {
        if !given.is_empty() {
            let from_env = std::env::var(REMOTES_VARIABLE)
                .ok()
                .is_some_and(|variable| {
                    variable.split(';').map(str::to_owned).collect::<Vec<_>>() == given
                });
            let source = if from_env {
                format!("env {REMOTES_VARIABLE}")
            } else {
                "option".to_owned()
            };
            return (given.to_vec(), source);
        }
        if std::env::var_os(REMOTES_VARIABLE).is_some() {
            return (Vec::new(), format!("env {REMOTES_VARIABLE}"));
        }
        match self
            .config
            .as_ref()
            .and_then(|file| file.remotes.as_ref().map(|e| (file, e)))
        {
            Some((file, entry)) => (entry.value.clone(), file.source(entry.line)),
            None => (Vec::new(), "default".to_owned()),
        }
    }

    /// A progress sink: a bar on stderr when it is a terminal, otherwise silent; either way
    /// it stops the operation once a stop signal arrived (`interrupt`).
    pub fn progress(&self) -> TerminalProgress {
        TerminalProgress::new(!self.quiet && !self.json && std::io::stderr().is_terminal())
    }

    /// Asks before something destructive. With `--yes` it returns at once; when
    /// stdin is not a terminal it fails (exit 2) instead of waiting for input.
    pub fn confirm(&self, question: &str) -> Result<(), CliError> {
        if self.yes {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Usage(format!(
                "{question} Refusing without confirmation: stdin is not a terminal; pass --yes"
            )));
        }
        output::stderr_text(&format!("{question} [y/N] "));
        let mut answer = String::new();
        crate::interrupt::while_prompting(|| std::io::stdin().read_line(&mut answer))
            .map_err(|e| CliError::Core(thywill_core::Error::io("<stdin>", e)))?;
        // A signal during a step before the prompt that had no safe point to stop at.
        if crate::interrupt::requested() {
            return Err(CliError::Core(thywill_core::Error::Cancelled));
        }
        match answer.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => Ok(()),
            _ => Err(CliError::Core(thywill_core::Error::Cancelled)),
        }
    }
}

/// What a command produced: a report for `--json`, text for people, and
/// whether some items failed (exit code 1).
#[derive(Debug)]
pub struct Outcome {
    /// The machine-readable report.
    pub report: serde_json::Value,
    /// The human-readable summary.
    pub text: String,
    /// The command completed but some items failed.
    pub failed: bool,
    /// An exit code chosen by the command while still printing its report
    /// (e.g. `verify`: the report, and 4 for a corrupt backup).
    pub exit_code: Option<u8>,
}

impl Outcome {
    /// Builds an outcome from any serialisable report.
    pub fn new<T: Serialize + ?Sized>(report: &T, text: String) -> Result<Self, CliError> {
        let report = serde_json::to_value(report).map_err(|e| {
            CliError::Core(thywill_core::Error::Internal(format!(
                "report to JSON: {e}"
            )))
        })?;
        Ok(Outcome {
            report,
            text,
            failed: false,
            exit_code: None,
        })
    }

    /// Prints the report as usual but exits with `code` (one of `exit.rs`'s codes).
    pub fn with_exit_code(mut self, code: u8) -> Self {
        self.exit_code = Some(code);
        self
    }

    /// Marks the outcome as completed with failures.
    pub fn with_failures(mut self, failed: bool) -> Self {
        self.failed = failed;
        self
    }
}
