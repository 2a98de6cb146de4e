//! The one mapping from outcomes to exit codes (documented in `docs/cli.md`).

use std::fmt;

use thywill_core::ErrorKind;

/// The command did what was asked.
pub const OK: u8 = 0;
/// The command ran to the end but some items failed (e.g. files that differ).
pub const COMPLETED_WITH_FAILURES: u8 = 1;
/// Bad command line, or a confirmation was needed and could not be asked.
pub const USAGE: u8 = 2;
/// Stdout was closed before the whole report was written (`thywill ... | head`): what a
/// shell reports for a process killed by SIGPIPE (128 + 13), as Unix tools end there.
pub const STDOUT_CLOSED: u8 = 141;

/// The exit code of each [`ErrorKind`] (3 and up; stable, documented).
pub fn code_for(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::NotFound => 3,
        ErrorKind::Corrupt => 4,
        ErrorKind::Conflict => 5,
        ErrorKind::Permission => 6,
        ErrorKind::InvalidInput => 7,
        ErrorKind::Io => 8,
        ErrorKind::Database => 9,
        ErrorKind::Remote => 10,
        ErrorKind::Cancelled => 11,
        ErrorKind::Internal => 12,
    }
}

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The core reported an error.
    Core(thywill_core::Error),
    /// The command line was unusable, or a needed confirmation was missing.
    Usage(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Core(e) => code_for(e.kind()),
            CliError::Usage(_) => USAGE,
        }
    }

    /// The machine-readable kind (`usage` or the core's `ErrorKind` name).
    pub fn kind_name(&self) -> String {
        match self {
            CliError::Core(e) => serde_json::to_value(e.kind())
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            CliError::Usage(_) => "usage".to_owned(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Core(e) => e.fmt(f),
            CliError::Usage(message) => f.write_str(message),
        }
    }
}

/// The one mapping for values typed on the command line (options, arguments, their
/// variables) that the core's constructors refuse: their [`ErrorKind::InvalidInput`] is a
/// usage error (exit 2), as for a value clap itself refuses. Any other error keeps its kind.
/// Errors of the work itself (a malformed file, a foreign database) are never mapped here.
pub fn command_line_value(error: thywill_core::Error) -> CliError {
    match error {
        thywill_core::Error::InvalidInput(message) => CliError::Usage(message),
        other => CliError::Core(other),
    }
}

impl From<thywill_core::Error> for CliError {
    fn from(error: thywill_core::Error) -> Self {
        CliError::Core(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_code_above_usage() {
        let kinds = [
            ErrorKind::NotFound,
            ErrorKind::Corrupt,
            ErrorKind::Conflict,
            ErrorKind::Permission,
            ErrorKind::InvalidInput,
            ErrorKind::Io,
            ErrorKind::Database,
            ErrorKind::Remote,
            ErrorKind::Cancelled,
            ErrorKind::Internal,
        ];
        let mut codes: Vec<u8> = kinds.iter().map(|k| code_for(*k)).collect();
        assert!(codes.iter().all(|c| *c > USAGE && *c != STDOUT_CLOSED));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
    }
}
