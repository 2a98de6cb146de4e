//! The exception hierarchy and the ONE mapping from [`thywill_core::Error`] to it.
//!
//! Classes are created here (module `thywill_core`, re-exported by the package).
//! Every binding converts core errors with [`to_py_err`]; nothing else builds
//! these exceptions.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;
use thywill_core::{Error, ErrorKind};

create_exception!(
    thywill_core,
    ThywillError,
    PyException,
    "Base class of every error raised by thywill_core. `kind` names the ErrorKind; `path` is the file involved, when known."
);
create_exception!(
    thywill_core,
    NotFoundError,
    ThywillError,
    "A file, database, backup or record that was asked for does not exist."
);
create_exception!(
    thywill_core,
    CorruptError,
    ThywillError,
    "Data exists but is damaged (bad checksum, failed integrity check)."
);
create_exception!(
    thywill_core,
    ConflictError,
    ThywillError,
    "The operation conflicts with the current state (a lock held, a record that differs)."
);
create_exception!(
    thywill_core,
    AccessDeniedError,
    ThywillError,
    "The operating system refused access."
);
create_exception!(
    thywill_core,
    InvalidInputError,
    ThywillError,
    "An unusable argument or malformed input."
);
create_exception!(
    thywill_core,
    ArchiveFormatError,
    InvalidInputError,
    "A text archive file could not be read; `path`, `line` (1-based, 0 = whole file) and `reason` say where and why."
);
create_exception!(
    thywill_core,
    ThywillIOError,
    ThywillError,
    "Input/output failed (other than not-found or permission)."
);
create_exception!(
    thywill_core,
    DatabaseError,
    ThywillError,
    "SQLite reported an error."
);
create_exception!(
    thywill_core,
    RemoteError,
    ThywillError,
    "A remote backup target failed."
);
create_exception!(
    thywill_core,
    CancelledError,
    ThywillError,
    "The operation was stopped because the progress callback returned False."
);
create_exception!(
    thywill_core,
    InternalError,
    ThywillError,
    "A bug: an invariant of thywill_core did not hold."
);

/// The exception class and `kind` string of each [`ErrorKind`].
fn class_of(py: Python<'_>, kind: ErrorKind) -> Bound<'_, PyType> {
    match kind {
        ErrorKind::NotFound => py.get_type::<NotFoundError>(),
        ErrorKind::Corrupt => py.get_type::<CorruptError>(),
        ErrorKind::Conflict => py.get_type::<ConflictError>(),
        ErrorKind::Permission => py.get_type::<AccessDeniedError>(),
        ErrorKind::InvalidInput => py.get_type::<InvalidInputError>(),
        ErrorKind::Io => py.get_type::<ThywillIOError>(),
        ErrorKind::Database => py.get_type::<DatabaseError>(),
        ErrorKind::Remote => py.get_type::<RemoteError>(),
        ErrorKind::Cancelled => py.get_type::<CancelledError>(),
        ErrorKind::Internal => py.get_type::<InternalError>(),
    }
}

/// The `kind` attribute of each class: the serde name of the [`ErrorKind`].
fn kind_name(kind: ErrorKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

const ALL_KINDS: [ErrorKind; 10] = [
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

/// Converts a core error into the matching Python exception, with its attributes set.
pub fn to_py_err(error: Error) -> PyErr {
    Python::attach(|py| match build(py, &error) {
        Ok(err) => err,
        // Building the exception itself failed (out of memory...): that error is the truest report.
        Err(err) => err,
    })
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let class = match error {
        Error::ArchiveFormat { .. } => py.get_type::<ArchiveFormatError>(),
        _ => class_of(py, error.kind()),
    };
    let instance = class.call1((error.to_string(),))?;
    match error {
        Error::ArchiveFormat { path, line, reason } => {
            instance.setattr("path", path.to_string_lossy().as_ref())?;
            instance.setattr("line", *line)?;
            instance.setattr("reason", reason.as_str())?;
        }
        Error::Io { path, .. } => {
            instance.setattr("path", path.to_string_lossy().as_ref())?;
        }
        _ => {}
    }
    Ok(PyErr::from_value(instance))
}

/// Adds the classes to the module and gives them their class attributes
/// (`kind`, and `None` defaults for the per-instance ones).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<ThywillError>();
    base.setattr("kind", "")?;
    base.setattr("path", py.None())?;
    m.add("ThywillError", &base)?;
    for kind in ALL_KINDS {
        let class = class_of(py, kind);
        class.setattr("kind", kind_name(kind))?;
        m.add(class.name()?, &class)?;
    }
    let archive = py.get_type::<ArchiveFormatError>();
    archive.setattr("line", py.None())?;
    archive.setattr("reason", py.None())?;
    m.add("ArchiveFormatError", &archive)?;
    m.add_function(wrap_pyfunction!(_raise_core_error, m)?)?;
    Ok(())
}

/// Raises the exception [`to_py_err`] gives for a core error built from
/// `variant` (an [`Error`] variant name) and `message`. Test hook: it lets the
/// test suite check the whole mapping without provoking each failure for real.
#[pyfunction]
fn _raise_core_error(variant: &str, message: &str) -> PyResult<()> {
    let io = |kind| std::io::Error::new(kind, message.to_owned());
    let error = match variant {
        "NotFound" => Error::NotFound {
            what: message.to_owned(),
        },
        "ArchiveFormat" => Error::ArchiveFormat {
            path: "prayers/x.txt".into(),
            line: 3,
            reason: message.to_owned(),
        },
        "Corrupt" => Error::Corrupt(message.to_owned()),
        "Conflict" => Error::Conflict(message.to_owned()),
        "InvalidInput" => Error::InvalidInput(message.to_owned()),
        "Io" => Error::io("some/file", io(std::io::ErrorKind::Other)),
        "IoNotFound" => Error::io("some/file", io(std::io::ErrorKind::NotFound)),
        "IoPermission" => Error::io("some/file", io(std::io::ErrorKind::PermissionDenied)),
        "Database" => Error::Database(rusqlite::Error::InvalidQuery),
        "Remote" => Error::Remote(message.to_owned()),
        "Cancelled" => Error::Cancelled,
        "Internal" => Error::Internal(message.to_owned()),
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown variant {other:?}"
            )))
        }
    };
    Err(to_py_err(error))
}
