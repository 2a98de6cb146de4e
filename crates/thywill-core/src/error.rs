//! The one error type of the core. Every front end maps [`Error::kind`] once:
//! Python to an exception class, C to a status code, the CLI to an exit code.

use std::path::PathBuf;

use serde::Serialize;

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Broad classes of failure, stable across releases, which front ends map to
/// exception classes, status codes and exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A file, database, backup or record that was asked for does not exist.
    NotFound,
    /// Data exists but is damaged: bad checksum, failed integrity check, unreadable archive.
    Corrupt,
    /// The operation conflicts with the current state (a lock held, a record that differs).
    Conflict,
    /// The operating system refused access.
    Permission,
    /// The caller passed something unusable (bad argument, malformed input file).
    InvalidInput,
    /// Input/output failed for another reason.
    Io,
    /// SQLite reported an error.
    Database,
    /// A remote backup target failed.
    Remote,
    /// The caller asked for the operation to stop.
    Cancelled,
    /// A bug: an invariant of this library did not hold.
    Internal,
}

/// Every failure the core can report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something asked for does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was missing, e.g. a path or an id.
        what: String,
    },
    /// A text archive file could not be read as ThyWill's format.
    #[error("{path}:{line}: {reason}")]
    ArchiveFormat {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the whole file is at fault).
        line: usize,
        /// Why the line could not be read.
        reason: String,
    },
    /// Data is damaged (checksum mismatch, integrity check failed).
    #[error("corrupt: {0}")]
    Corrupt(String),
    /// The operation conflicts with current state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller passed an unusable value.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// An I/O error, with the path it concerned.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A remote target failed.
    #[error("remote storage: {0}")]
    Remote(String),
    /// The progress callback asked to stop.
    #[error("cancelled")]
    Cancelled,
    /// An invariant of this library did not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerned.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::ArchiveFormat { .. } => ErrorKind::InvalidInput,
            Error::Corrupt(_) => ErrorKind::Corrupt,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                std::io::ErrorKind::PermissionDenied => ErrorKind::Permission,
                _ => ErrorKind::Io,
            },
            Error::Database(e) => match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                    ErrorKind::Conflict
                }
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
                    ErrorKind::Corrupt
                }
                Some(rusqlite::ErrorCode::CannotOpen) => ErrorKind::NotFound,
                Some(rusqlite::ErrorCode::PermissionDenied | rusqlite::ErrorCode::ReadOnly) => {
                    ErrorKind::Permission
                }
                _ => ErrorKind::Database,
            },
            Error::Remote(_) => ErrorKind::Remote,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }
}
