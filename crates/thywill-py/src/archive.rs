//! Python bindings of `thywill_core::archive`: typed prayer files, monthly files as
//! iterators of dicts, file kinds, re-rendering, `check_tree` and the archive-first writer.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use pyo3::prelude::*;
use thywill_core::archive::categorization::Categorization;
use thywill_core::archive::check;
use thywill_core::archive::kind::{self, FileKind};
use thywill_core::archive::parsed::{self, kind_name, kind_of_path};
use thywill_core::archive::prayer::{self, ActivityAction, PrayerArchive, ThyWillPrayerData};
use thywill_core::archive::writer::{ArchiveWriter, Clock};
use thywill_core::archive::{activity, ledger, users, Diagnostic};
use thywill_core::archive::{fileops, layout};
use thywill_core::Error;

use crate::convert::{from_py, to_py};
use crate::errors::to_py_err;
use crate::progress::run;

fn read_file(path: &Path) -> PyResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| to_py_err(Error::io(path, e)))
}

fn format_error(d: &Diagnostic) -> Error {
    Error::ArchiveFormat {
        path: d.path.clone().unwrap_or_default(),
        line: d.line,
        reason: d.reason.clone(),
    }
}

/// One prayer file (`prayers/YYYY/MM/..._prayer_at_HHMM.txt`) as a typed record.
#[pyclass(module = "thywill_core", name = "PrayerArchive", eq)]
#[derive(Clone, PartialEq)]
pub struct PyPrayerArchive {
    inner: PrayerArchive,
    diagnostics: Vec<Diagnostic>,
}

#[pymethods]
impl PyPrayerArchive {
    /// A new prayer with no optional parts and no activity.
    #[new]
    fn new(id: String, author: String, created_at: NaiveDateTime, text: String) -> Self {
        PyPrayerArchive {
            inner: PrayerArchive::new(id, author, created_at, text),
            diagnostics: Vec::new(),
        }
    }

    /// Parses a prayer file's text; `path` only labels diagnostics.
    #[staticmethod]
    #[pyo3(signature = (text, path=None))]
    fn parse(text: &str, path: Option<PathBuf>) -> Self {
        let (inner, diagnostics) = prayer::parse(text, path.as_deref());
        PyPrayerArchive { inner, diagnostics }
    }

    /// Builds a prayer from plain data in the shape `to_dict()` returns. Optional parts
    /// and `activities` may be left out, and timestamps given as their text alone
    /// (`"July 06 2025 at 09:05"`). Raises `InvalidInputError` naming what is wrong.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyPrayerArchive {
            inner: from_py::<PrayerArchive>(data)?,
            diagnostics: Vec::new(),
        })
    }

    /// Reads and parses a prayer file.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let bytes = read_file(&path)?;
        let (inner, diagnostics) = py.detach(|| prayer::parse_bytes(&bytes, Some(&path)));
        Ok(PyPrayerArchive { inner, diagnostics })
    }

    /// The prayer ID from the title line.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    #[setter]
    fn set_id(&mut self, value: String) {
        self.inner.id = value;
    }
    /// The author's display name.
    #[getter]
    fn author(&self) -> &str {
        &self.inner.author
    }
    #[setter]
    fn set_author(&mut self, value: String) {
        self.inner.author = value;
    }
    /// The `Submitted` timestamp as written, e.g. `July 06 2025 at 09:05`.
    #[getter]
    fn submitted(&self) -> &str {
        &self.inner.submitted.text
    }
    /// The parsed `Submitted` minute, or None when it does not parse.
    #[getter]
    fn created_at(&self) -> Option<NaiveDateTime> {
        self.inner.created_at()
    }
    /// The `Project:` line.
    #[getter]
    fn project_tag(&self) -> Option<&str> {
        self.inner.project_tag.as_deref()
    }
    #[setter]
    fn set_project_tag(&mut self, value: Option<String>) {
        self.inner.project_tag = value;
    }
    /// The `Audience:` line.
    #[getter]
    fn target_audience(&self) -> Option<&str> {
        self.inner.target_audience.as_deref()
    }
    #[setter]
    fn set_target_audience(&mut self, value: Option<String>) {
        self.inner.target_audience = value;
    }
    /// The request text, verbatim.
    #[getter]
    fn text(&self) -> &str {
        &self.inner.text
    }
    #[setter]
    fn set_text(&mut self, value: String) {
        self.inner.text = value;
    }
    /// The generated prayer, if any.
    #[getter]
    fn generated_prayer(&self) -> Option<&str> {
        self.inner.generated_prayer.as_deref()
    }
    #[setter]
    fn set_generated_prayer(&mut self, value: Option<String>) {
        self.inner.generated_prayer = value;
    }
    /// The categorization block as a dict, if present.
    #[getter]
    fn categorization(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner.categorization)
    }
    /// The `Activity:` lines as dicts (`timestamp`, `actor`, `action` with a `kind`).
    #[getter]
    fn activities(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner.activities)
    }
    /// True for a header-less fragment (only activity lines).
    #[getter]
    fn fragment(&self) -> bool {
        self.inner.fragment
    }
    /// Problems found while parsing (`path`, `line`, `reason`); empty for a clean file.
    #[getter]
    fn diagnostics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.diagnostics)
    }

    /// The file's bytes as ThyWill writes them (as text).
    fn render(&self) -> String {
        self.inner.render()
    }
    /// The bytes of ThyWill's archive-first creation flow.
    fn render_archive_first(&self) -> String {
        self.inner.render_archive_first()
    }
    /// The whole record as plain data.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "PrayerArchive(id={:?}, author={:?}, submitted={:?}, activities={})",
            self.inner.id,
            self.inner.author,
            self.inner.submitted.text,
            self.inner.activities.len()
        )
    }
}

type RecordIter = Box<dyn Iterator<Item = Result<serde_json::Value, Diagnostic>> + Send + Sync>;

/// The records of a monthly file, read lazily. Unreadable lines are collected in
/// `diagnostics` (or raise `ArchiveFormatError` when opened with `strict=True`).
#[pyclass(module = "thywill_core", name = "ArchiveRecords")]
pub struct ArchiveRecords {
    records: RecordIter,
    kind: String,
    path: PathBuf,
    strict: bool,
    diagnostics: Vec<Diagnostic>,
}

fn as_values<T: serde::Serialize>(
    records: impl Iterator<Item = Result<T, Diagnostic>> + Send + Sync + 'static,
) -> RecordIter {
    Box::new(records.map(|r| {
        r.and_then(|record| {
            serde_json::to_value(record)
                .map_err(|e| Diagnostic::new(None, 0, format!("cannot convert record: {e}")))
        })
    }))
}

#[pymethods]
impl ArchiveRecords {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        for item in self.records.by_ref() {
            match item {
                Ok(value) => return Ok(Some(crate::convert::value_to_py(py, &value)?.unbind())),
                Err(diagnostic) if self.strict => return Err(to_py_err(format_error(&diagnostic))),
                Err(diagnostic) => self.diagnostics.push(diagnostic),
            }
        }
        Ok(None)
    }

    /// The file kind (`user_registrations`, `activity_log`, `ledger`).
    #[getter]
    fn kind(&self) -> &str {
        &self.kind
    }
    /// The file being read.
    #[getter]
    fn path(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
    /// Lines that could not be read so far (`path`, `line`, `reason`).
    #[getter]
    fn diagnostics(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.diagnostics)
    }
}

fn open_records(path: PathBuf, strict: bool, kind: FileKind) -> PyResult<ArchiveRecords> {
    let file = File::open(&path).map_err(|e| to_py_err(Error::io(&path, e)))?;
    let reader = BufReader::new(file);
    let records = match kind {
        FileKind::UserRegistrations => as_values(users::parse_monthly(reader, Some(&path))),
        FileKind::ActivityLog => as_values(activity::parse_monthly(reader, Some(&path))),
        FileKind::Ledger(ledger_kind) => {
            as_values(ledger::parse_monthly(ledger_kind, reader, Some(&path)))
        }
        other => {
            return Err(to_py_err(Error::InvalidInput(format!(
                "{} is a {} file, not a monthly records file",
                path.display(),
                kind_name(other)
            ))))
        }
    };
    Ok(ArchiveRecords {
        records,
        kind: kind_name(kind),
        path,
        strict,
        diagnostics: Vec::new(),
    })
}

/// Iterates the registrations of `users/YYYY_MM_users.txt` as dicts.
#[pyfunction]
#[pyo3(signature = (path, strict=false))]
fn iter_users(path: PathBuf, strict: bool) -> PyResult<ArchiveRecords> {
    open_records(path, strict, FileKind::UserRegistrations)
}

/// Iterates the entries of `activity/activity_YYYY_MM.txt` as dicts.
#[pyfunction]
#[pyo3(signature = (path, strict=false))]
fn iter_activity(path: PathBuf, strict: bool) -> PyResult<ArchiveRecords> {
    open_records(path, strict, FileKind::ActivityLog)
}

/// Iterates a marks/skips/attributes ledger; the ledger kind comes from the file name.
#[pyfunction]
#[pyo3(signature = (path, strict=false))]
fn iter_ledger(path: PathBuf, strict: bool) -> PyResult<ArchiveRecords> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let kind = ledger::kind_from_file_name(&name).ok_or_else(|| {
        to_py_err(Error::InvalidInput(format!(
            "{} is not a ledger file name",
            path.display()
        )))
    })?;
    open_records(path, strict, FileKind::Ledger(kind))
}

/// The kind of the file at `path` (relative, absolute or under `text_archives/`), e.g.
/// `"prayer"`, `"user_registrations"`, `"ledger"`, `"other"`.
#[pyfunction]
fn file_kind(path: PathBuf) -> String {
    kind_name(kind_of_path(&path))
}

/// Parses the file at `path` (kind from its path) and renders it back. Equal to the
/// file's bytes when the file is canonical.
#[pyfunction]
fn rerender_file(py: Python<'_>, path: PathBuf) -> PyResult<Py<pyo3::types::PyBytes>> {
    let bytes = read_file(&path)?;
    let kind = kind_of_path(&path);
    let (out, _diagnostics) = py
        .detach(|| kind::rerender(kind, &bytes, Some(&path)))
        .map_err(to_py_err)?;
    Ok(pyo3::types::PyBytes::new(py, &out).unbind())
}

/// Reads any archive file (kind from its path) into plain data: `{"path", "kind",
/// "content", "diagnostics"}`.
#[pyfunction]
fn parse_file(py: Python<'_>, path: PathBuf) -> PyResult<Py<PyAny>> {
    let parsed = run(py, None, |_| parsed::parse_file(&path))?;
    to_py(py, &parsed)
}

/// The correct reading of the prayer file at `path` in the shape of ThyWill's
/// `TextArchiveService.parse_prayer_archive`: `(data, activities)`, absent keys left out
/// of `data`. Raises `NotFoundError` for a missing file, as ThyWill's read raises.
#[pyfunction]
fn prayer_file_thywill_shape(py: Python<'_>, path: PathBuf) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
    let bytes = read_file(&path)?;
    let mut data = py.detach(|| {
        let (archive, _diagnostics) = prayer::parse_bytes(&bytes, Some(&path));
        ThyWillPrayerData::from_archive(&archive)
    });
    let activities = std::mem::take(&mut data.activities);
    let data = to_py(py, &data)?;
    data.bind(py)
        .cast::<pyo3::types::PyDict>()
        .map_err(PyErr::from)?
        .del_item("activities")?;
    Ok((data, to_py(py, &activities)?))
}

/// The categorization block of the prayer file at `path` as ThyWill's
/// `parse_prayer_archive_categorization` returns it (six keys), read from the header block
/// only; the reader defaults (method `default_fallback`) when `path` is None or the file is
/// missing, unreadable or has no block.
#[pyfunction]
#[pyo3(signature = (path=None))]
fn prayer_file_categorization(py: Python<'_>, path: Option<PathBuf>) -> PyResult<Py<PyAny>> {
    let categorization = py.detach(|| {
        path.and_then(|path| std::fs::read(&path).ok().map(|bytes| (path, bytes)))
            .and_then(|(path, bytes)| prayer::parse_bytes(&bytes, Some(&path)).0.categorization)
            .unwrap_or_else(Categorization::reader_defaults)
    });
    to_py(py, &categorization)
}

/// The first free prayer file name for a prayer created at `created_at` under `base_dir`
/// (the same-minute collision rule), creating its folder; ThyWill's `generate_prayer_filename`.
#[pyfunction]
fn first_free_prayer_file(
    py: Python<'_>,
    base_dir: PathBuf,
    created_at: NaiveDateTime,
) -> PyResult<String> {
    let path = run(py, None, |_| {
        layout::first_free_prayer_file(&base_dir, &created_at)
    })?;
    Ok(path.to_string_lossy().into_owned())
}

/// Writes `content` (UTF-8) to `path` whole: a temp file in the same folder, fsync,
/// rename over `path`, fsync of the folder. The folder must exist.
#[pyfunction]
fn write_file_atomic(py: Python<'_>, path: PathBuf, content: &str) -> PyResult<()> {
    run(py, None, |_| {
        fileops::atomic_write(&path, content.as_bytes())
    })
}

/// Appends `line` plus LF to `path` under an exclusive `flock`, then fsyncs; creates the
/// file but not its folder (as ThyWill's append does).
#[pyfunction]
fn append_line_locked(py: Python<'_>, path: PathBuf, line: &str) -> PyResult<()> {
    run(py, None, |_| fileops::locked_append(&path, line))
}

/// Re-renders every file under `root`; returns the report (`files_checked`,
/// `files_identical`, `files_skipped`, `problems`).
#[pyfunction]
#[pyo3(signature = (root, progress=None))]
fn check_tree(py: Python<'_>, root: PathBuf, progress: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
    let report = run(py, progress, move |sink| check::check_tree(&root, sink))?;
    to_py(py, &report)
}

fn path_str(path: Option<PathBuf>) -> Option<String> {
    path.map(|p| p.to_string_lossy().into_owned())
}

/// ThyWill's archive-first write API (`TextArchiveService`): every method writes the exact
/// bytes ThyWill writes, with ThyWill's locking, and returns the file written (None when the
/// writer is disabled). Timestamps default to the writer's clock: local time, or `now` when given.
#[pyclass(module = "thywill_core", name = "ArchiveWriter", frozen)]
pub struct PyArchiveWriter {
    inner: ArchiveWriter,
}

impl PyArchiveWriter {
    fn at(&self, at: Option<NaiveDateTime>) -> NaiveDateTime {
        at.unwrap_or_else(|| self.inner.clock.now())
    }
}

#[pymethods]
impl PyArchiveWriter {
    /// A writer for `base_dir`. `now` fixes the clock (deterministic output).
    #[new]
    #[pyo3(signature = (base_dir, *, enabled=true, categorization_metadata_export=false, now=None))]
    fn new(
        base_dir: PathBuf,
        enabled: bool,
        categorization_metadata_export: bool,
        now: Option<NaiveDateTime>,
    ) -> Self {
        let mut inner = ArchiveWriter::new(base_dir);
        inner.enabled = enabled;
        inner.categorization_metadata_export = categorization_metadata_export;
        if let Some(now) = now {
            inner = inner.with_clock(Clock::Fixed(now));
        }
        PyArchiveWriter { inner }
    }

    /// A writer configured like ThyWill from `TEXT_ARCHIVE_ENABLED`, `TEXT_ARCHIVE_BASE_DIR`
    /// and `CATEGORIZATION_METADATA_EXPORT`.
    #[staticmethod]
    fn from_env() -> Self {
        PyArchiveWriter {
            inner: ArchiveWriter::from_thywill_env(),
        }
    }

    /// The archive base directory.
    #[getter]
    fn base_dir(&self) -> String {
        self.inner.base_dir.to_string_lossy().into_owned()
    }
    /// False when every write is skipped (`TEXT_ARCHIVE_ENABLED` not `true`).
    #[getter]
    fn enabled(&self) -> bool {
        self.inner.enabled
    }

    /// Creates the base folder and `prayers/`, `users/`, `activity/`.
    fn ensure_dirs(&self, py: Python<'_>) -> PyResult<()> {
        run(py, None, |_| self.inner.ensure_dirs())
    }

    /// Writes a new prayer file under the same-minute collision rule. `archive_first=True`
    /// gives the bytes of ThyWill's submission flow, False those of its heal/legacy path.
    #[pyo3(signature = (prayer, archive_first=true))]
    fn create_prayer(
        &self,
        py: Python<'_>,
        prayer: PyRef<'_, PyPrayerArchive>,
        archive_first: bool,
    ) -> PyResult<Option<String>> {
        let record = prayer.inner.clone();
        let path = run(py, None, |_| {
            if archive_first {
                self.inner.create_prayer_archive_first(&record)
            } else {
                self.inner.create_prayer_archive(&record)
            }
        })?;
        Ok(path_str(path))
    }

    /// Appends an activity line to a prayer file, choosing the line as ThyWill's
    /// `append_prayer_activity(action, user, extra, old_value, new_value)` does.
    #[pyo3(signature = (file, actor, action, *, extra=None, old_value=None, new_value=None, at=None))]
    #[allow(clippy::too_many_arguments)] // mirrors ThyWill's keyword arguments
    fn append_prayer_activity(
        &self,
        py: Python<'_>,
        file: PathBuf,
        actor: &str,
        action: &str,
        extra: Option<&str>,
        old_value: Option<&str>,
        new_value: Option<&str>,
        at: Option<NaiveDateTime>,
    ) -> PyResult<()> {
        let action = ActivityAction::from_thywill(action, extra, old_value, new_value);
        let t = self.at(at);
        run(py, None, |_| {
            self.inner
                .append_prayer_activity_at(&file, actor, &action, t)
        })
    }

    /// Appends to `users/YYYY_MM_users.txt`; `invite_source` None or "" is "joined directly".
    #[pyo3(signature = (name, invite_source=None, *, at=None))]
    fn append_user_registration(
        &self,
        py: Python<'_>,
        name: &str,
        invite_source: Option<&str>,
        at: Option<NaiveDateTime>,
    ) -> PyResult<Option<String>> {
        let t = self.at(at);
        let path = run(py, None, |_| {
            self.inner
                .append_user_registration_with_timestamp(name, invite_source, t)
        })?;
        Ok(path_str(path))
    }

    /// Appends to `activity/activity_YYYY_MM.txt` (`action` as ThyWill names it, e.g.
    /// `submitted_prayer`, `prayed`).
    #[pyo3(signature = (action, user, prayer_id=None, tag=None, *, at=None))]
    fn append_monthly_activity(
        &self,
        py: Python<'_>,
        action: &str,
        user: &str,
        prayer_id: Option<&str>,
        tag: Option<&str>,
        at: Option<NaiveDateTime>,
    ) -> PyResult<Option<String>> {
        let t = self.at(at);
        let path = run(py, None, |_| {
            self.inner
                .append_monthly_activity_at(action, user, prayer_id, tag, t)
        })?;
        Ok(path_str(path))
    }

    /// Appends to `prayers/attributes/YYYY_MM_attributes.txt` (None user writes `system`).
    #[pyo3(signature = (prayer_id, name, value, user=None, created_at=None))]
    fn append_prayer_attribute(
        &self,
        py: Python<'_>,
        prayer_id: &str,
        name: &str,
        value: &str,
        user: Option<&str>,
        created_at: Option<NaiveDateTime>,
    ) -> PyResult<Option<String>> {
        let path = run(py, None, |_| {
            self.inner
                .append_prayer_attribute(prayer_id, name, value, user, created_at)
        })?;
        Ok(path_str(path))
    }

    /// Appends to `prayers/marks/YYYY_MM_marks.txt`.
    #[pyo3(signature = (prayer_id, user, created_at=None))]
    fn append_prayer_mark(
        &self,
        py: Python<'_>,
        prayer_id: &str,
        user: &str,
        created_at: Option<NaiveDateTime>,
    ) -> PyResult<Option<String>> {
        let path = run(py, None, |_| {
            self.inner.append_prayer_mark(prayer_id, user, created_at)
        })?;
        Ok(path_str(path))
    }

    /// Appends to `prayers/skips/YYYY_MM_skips.txt`.
    #[pyo3(signature = (prayer_id, user, created_at=None))]
    fn append_prayer_skip(
        &self,
        py: Python<'_>,
        prayer_id: &str,
        user: &str,
        created_at: Option<NaiveDateTime>,
    ) -> PyResult<Option<String>> {
        let path = run(py, None, |_| {
            self.inner.append_prayer_skip(prayer_id, user, created_at)
        })?;
        Ok(path_str(path))
    }

    fn __repr__(&self) -> String {
        format!("ArchiveWriter({:?})", self.inner.base_dir)
    }
}

/// Adds the archive classes and functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPrayerArchive>()?;
    m.add_class::<ArchiveRecords>()?;
    m.add_class::<PyArchiveWriter>()?;
    m.add_function(wrap_pyfunction!(iter_users, m)?)?;
    m.add_function(wrap_pyfunction!(iter_activity, m)?)?;
    m.add_function(wrap_pyfunction!(iter_ledger, m)?)?;
    m.add_function(wrap_pyfunction!(file_kind, m)?)?;
    m.add_function(wrap_pyfunction!(rerender_file, m)?)?;
    m.add_function(wrap_pyfunction!(parse_file, m)?)?;
    m.add_function(wrap_pyfunction!(check_tree, m)?)?;
    m.add_function(wrap_pyfunction!(prayer_file_thywill_shape, m)?)?;
    m.add_function(wrap_pyfunction!(prayer_file_categorization, m)?)?;
    m.add_function(wrap_pyfunction!(write_file_atomic, m)?)?;
    m.add_function(wrap_pyfunction!(first_free_prayer_file, m)?)?;
    m.add_function(wrap_pyfunction!(append_line_locked, m)?)?;
    Ok(())
}
