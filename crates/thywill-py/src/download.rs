//! Python bindings of `thywill_core::download` (docs/downloads.md): the user and community
//! ZIPs, a user's metadata, the community listing, one prayer's archive file and the cleanup
//! of old downloads, each returning its report as a dict.

use std::path::PathBuf;

use chrono::NaiveDateTime;
use pyo3::prelude::*;
use thywill_core::download::{
    self, CleanupDownloadsOptions, CommunityZipOptions, MetadataOptions, PrayerArchiveFileOptions,
    UserZipOptions,
};
use thywill_core::Error;

use crate::convert::to_py;
use crate::errors::to_py_err;
use crate::progress::run;

/// `now` as the core reads it (`2025-06-15T10:30:00`, local time).
fn now_arg(now: Option<String>) -> PyResult<Option<NaiveDateTime>> {
    now.map(|text| {
        text.parse::<NaiveDateTime>().map_err(|e| {
            to_py_err(Error::InvalidInput(format!(
                "now {text:?}: expected an ISO 8601 time such as 2025-06-15T10:30:00 ({e})"
            )))
        })
    })
    .transpose()
}

/// Writes the archive ZIP of the user `name` (ThyWill's `<name>_text_archive/` layout) to
/// `out` (default `<archive_dir>/downloads/<name>_archive_<date>.zip`). Returns the report
/// (keys `path`, `file_name`, `entry_count`, `entry_kinds` (counts per kind),
/// `first_entries` (the first 16 names; the ZIP's central directory has them all), `bytes`,
/// `excluded`, `skipped_paths`, `duration_ms`).
#[pyfunction]
#[pyo3(signature = (db, archive_dir, name, *, out=None, include_community=true, now=None,
    compression_level=None, path_prefix="text_archives", progress=None))]
#[allow(clippy::too_many_arguments)]
fn download_user(
    py: Python<'_>,
    db: PathBuf,
    archive_dir: PathBuf,
    name: String,
    out: Option<PathBuf>,
    include_community: bool,
    now: Option<String>,
    compression_level: Option<i64>,
    path_prefix: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = UserZipOptions {
        include_community,
        out,
        now: now_arg(now)?,
        compression_level,
        path_prefix: path_prefix.to_string(),
    };
    let report = run(py, progress, move |sink| {
        download::create_user_archive_zip(&db, &archive_dir, &name, &options, sink)
    })?;
    to_py(py, &report)
}

/// Writes the community ZIP (`complete_site_archive/`): no flagged prayers and, unless
/// `include_prayer_activity`, nobody's marks or skips. Returns the report as
/// `download_user`'s.
#[pyfunction]
#[pyo3(signature = (db, archive_dir, *, out=None, include_prayer_activity=false, now=None,
    compression_level=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn download_community(
    py: Python<'_>,
    db: PathBuf,
    archive_dir: PathBuf,
    out: Option<PathBuf>,
    include_prayer_activity: bool,
    now: Option<String>,
    compression_level: Option<i64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let options = CommunityZipOptions {
        include_prayer_activity,
        out,
        now: now_arg(now)?,
        compression_level,
    };
    let report = run(py, progress, move |sink| {
        download::create_full_community_zip(&db, &archive_dir, &options, sink)
    })?;
    to_py(py, &report)
}

/// The archive metadata of the user `name`, in ThyWill's shape (keys `user`, `prayers`,
/// `activities`, `archive_statistics`), paths relative to `archive_dir`.
#[pyfunction]
#[pyo3(signature = (db, archive_dir, name, *, path_prefix="text_archives"))]
fn download_user_metadata(
    py: Python<'_>,
    db: PathBuf,
    archive_dir: PathBuf,
    name: String,
    path_prefix: &str,
) -> PyResult<Py<PyAny>> {
    let options = MetadataOptions {
        path_prefix: path_prefix.to_string(),
    };
    let report = run(py, None, move |_| {
        download::get_user_archive_metadata(&db, &archive_dir, &name, &options)
    })?;
    to_py(py, &report)
}

/// The community archives of `archive_dir` (`{"archives": [{"type", "period", "path",
/// "file_count", "compressed"}]}`), newest first; a prayer month's `file_count` leaves out
/// the prayers `db` marks flagged, as the community ZIP does.
#[pyfunction]
fn download_list_community(
    py: Python<'_>,
    db: PathBuf,
    archive_dir: PathBuf,
) -> PyResult<Py<PyAny>> {
    let report = run(py, None, move |_| {
        download::list_community_archives(&db, &archive_dir)
    })?;
    to_py(py, &report)
}

/// The archive file of the prayer `prayer_id` (keys `prayer_id`, `path`, `file_name`,
/// `size`, `content`, `excluded_lines`): serve `content` when it is not None (the file
/// without who flagged, unflagged or skipped the prayer), else the file at `path`;
/// `include_moderation` serves the file as it is (for a moderator). Raises
/// `AccessDeniedError` when its stored path leaves the archive folder or the prayer is
/// flagged (unless `include_flagged`), `NotFoundError` when there is no such prayer or file.
#[pyfunction]
#[pyo3(signature = (db, archive_dir, prayer_id, *, include_flagged=false,
    include_moderation=false, path_prefix="text_archives"))]
fn download_prayer_file(
    py: Python<'_>,
    db: PathBuf,
    archive_dir: PathBuf,
    prayer_id: String,
    include_flagged: bool,
    include_moderation: bool,
    path_prefix: &str,
) -> PyResult<Py<PyAny>> {
    let options = PrayerArchiveFileOptions {
        include_flagged,
        include_moderation,
        path_prefix: path_prefix.to_string(),
    };
    let report = run(py, None, move |_| {
        download::prayer_archive_file(&db, &archive_dir, &prayer_id, &options)
    })?;
    to_py(py, &report)
}

/// Removes download ZIPs of ours older than `max_age_seconds` (default 24 h) from
/// `<archive_dir>/downloads/`; `dry_run` lists them and removes nothing; `every_zip` counts
/// every regular `*.zip` file there as a download, as ThyWill's cleanup does.
#[pyfunction]
#[pyo3(signature = (archive_dir, *, max_age_seconds=86_400, dry_run=false, every_zip=false))]
fn download_cleanup(
    py: Python<'_>,
    archive_dir: PathBuf,
    max_age_seconds: u64,
    dry_run: bool,
    every_zip: bool,
) -> PyResult<Py<PyAny>> {
    let options = CleanupDownloadsOptions {
        max_age_seconds,
        dry_run,
        every_zip,
    };
    let report = run(py, None, move |_| {
        download::cleanup_old_downloads(&archive_dir, &options)
    })?;
    to_py(py, &report)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(download_user, m)?)?;
    m.add_function(wrap_pyfunction!(download_community, m)?)?;
    m.add_function(wrap_pyfunction!(download_user_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(download_list_community, m)?)?;
    m.add_function(wrap_pyfunction!(download_prayer_file, m)?)?;
    m.add_function(wrap_pyfunction!(download_cleanup, m)?)?;
    Ok(())
}
