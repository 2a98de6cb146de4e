//! Python binding of `thywill_core::recovery::reconstruct_from_archives`, returning its
//! report as a dict.

use std::path::PathBuf;

use pyo3::prelude::*;
use thywill_core::recovery::{self, ReconstructOptions};

use crate::convert::to_py;
use crate::import::zone;
use crate::progress::run;
use crate::sessions::as_of_arg;

/// Repairs the relationships of the database at `db` from the text archives in
/// `archive_dir`, in one transaction: orphaned names re-pointed (or their user created
/// from a registration, prayer author or activity actor), the inviter tree, roles and
/// grants, invite tokens and their usage, and the sessions no later `session_deleted`
/// event ended and not expired at `as_of` (UTC, default now). `dry_run` rolls it all back
/// with the same numbers. Returns the report (keys `relationships`, `users_created`,
/// `sessions_dropped`, `thywill_stats`, `failures`, `notes`, ...).
#[pyfunction]
#[pyo3(signature = (archive_dir, db, *, dry_run=false, time_zone="local", path_prefix="text_archives", as_of=None, max_listed=50, progress=None))]
#[allow(clippy::too_many_arguments)]
fn reconstruct_from_archives(
    py: Python<'_>,
    archive_dir: PathBuf,
    db: PathBuf,
    dry_run: bool,
    time_zone: &str,
    path_prefix: &str,
    as_of: Option<String>,
    max_listed: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = ReconstructOptions {
        dry_run,
        time_zone: zone(time_zone)?,
        path_prefix: path_prefix.to_string(),
        as_of: as_of_arg(as_of)?,
        max_listed,
    };
    let report = run(py, progress, move |sink| {
        recovery::reconstruct_from_archives(&archive_dir, &db, &options, sink)
    })?;
    to_py(py, &report)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(reconstruct_from_archives, m)?)?;
    Ok(())
}
