//! Python bindings of `thywill_core::import`: text archives (folder or ZIP), JSON
//! prayers and one prayer file, each returning a typed [`PyImportReport`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use pyo3::prelude::*;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    self, EntityCounts, ImportReport, JsonPrayersOptions, JsonPrayersPlan, PrayerFileOptions,
    TextArchiveOptions, ZipLimits,
};
use thywill_core::Error;

use crate::convert::to_py;
use crate::errors::to_py_err;
use crate::progress::run;

/// What happened to the records of one entity.
#[pyclass(module = "thywill_core", name = "EntityCounts", frozen, get_all, eq)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyEntityCounts {
    inserted: u64,
    already_present: u64,
    updated: u64,
    deleted: u64,
    skipped: u64,
    failed: u64,
}

impl From<EntityCounts> for PyEntityCounts {
    fn from(c: EntityCounts) -> Self {
        PyEntityCounts {
            inserted: c.inserted,
            already_present: c.already_present,
            updated: c.updated,
            deleted: c.deleted,
            skipped: c.skipped,
            failed: c.failed,
        }
    }
}

#[pymethods]
impl PyEntityCounts {
    /// The counts as a dict.
    fn to_dict(&self) -> BTreeMap<&'static str, u64> {
        BTreeMap::from([
            ("inserted", self.inserted),
            ("already_present", self.already_present),
            ("updated", self.updated),
            ("deleted", self.deleted),
            ("skipped", self.skipped),
            ("failed", self.failed),
        ])
    }

    fn __repr__(&self) -> String {
        format!(
            "EntityCounts(inserted={}, already_present={}, updated={}, deleted={}, skipped={}, failed={})",
            self.inserted, self.already_present, self.updated, self.deleted, self.skipped, self.failed
        )
    }
}

/// The outcome of an import: counts per entity and located failures.
#[pyclass(module = "thywill_core", name = "ImportReport", frozen)]
pub struct PyImportReport {
    inner: ImportReport,
}

#[pymethods]
impl PyImportReport {
    /// `text_archives`, `prayers_json` or `prayer_file`.
    #[getter]
    fn operation(&self) -> &str {
        &self.inner.operation
    }

    /// The input as given.
    #[getter]
    fn source(&self) -> &str {
        &self.inner.source
    }

    /// The database path (`:memory:` for a dry run without a database file).
    #[getter]
    fn database(&self) -> &str {
        &self.inner.database
    }

    /// True when every change was rolled back.
    #[getter]
    fn dry_run(&self) -> bool {
        self.inner.dry_run
    }

    /// Counts per entity name (`users`, `prayers`, `prayer_marks`, ...).
    #[getter]
    fn entities(&self) -> BTreeMap<String, PyEntityCounts> {
        self.inner
            .entities
            .iter()
            .map(|(k, v)| (k.clone(), PyEntityCounts::from(*v)))
            .collect()
    }

    /// Failed records: dicts with `entity`, `file`, `line`/`record`, `field`, `reason`.
    #[getter]
    fn failures(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner.failures)
    }

    /// Skipped records and remarks, located like failures.
    #[getter]
    fn notes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner.notes)
    }

    /// True when any record failed.
    #[getter]
    fn has_failures(&self) -> bool {
        self.inner.has_failures()
    }

    /// Rows inserted over all entities.
    #[getter]
    fn total_inserted(&self) -> u64 {
        self.inner.total_inserted()
    }

    /// Rows inserted, updated or deleted over all entities.
    #[getter]
    fn total_changes(&self) -> u64 {
        self.inner.total_changes()
    }

    /// The counts of one entity (zeros when absent).
    fn counts(&self, entity: &str) -> PyEntityCounts {
        self.inner.counts(entity).into()
    }

    /// The whole report as plain dicts and lists.
    fn to_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        to_py(py, &self.inner)
    }

    /// The whole report as a JSON string.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    fn __repr__(&self) -> String {
        format!(
            "ImportReport(operation={:?}, dry_run={}, inserted={}, failures={})",
            self.inner.operation,
            if self.inner.dry_run { "True" } else { "False" },
            self.inner.total_inserted(),
            self.inner.failures.len()
        )
    }
}

pub(crate) fn zone(text: &str) -> PyResult<ArchiveTimeZone> {
    ArchiveTimeZone::parse(text).ok_or_else(|| {
        to_py_err(Error::InvalidInput(format!(
            "time_zone {text:?}: expected 'local', 'utc' or '±HH:MM'"
        )))
    })
}

/// Imports text archives from a folder or a ZIP into the database at `db` (created
/// with ThyWill's schema when missing). Idempotent; `dry_run` rolls everything back
/// and creates nothing on disk. `update_existing` overwrites the text, generated prayer
/// and project tag of existing prayers from intact files; `max_zip_bytes` (default
/// 4 GiB) and `max_zip_ratio` (default 100) bound what a ZIP may expand to.
#[pyfunction]
#[pyo3(signature = (source, db, *, dry_run=false, time_zone="local", path_prefix="text_archives", update_existing=false, max_zip_bytes=None, max_zip_ratio=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn import_text_archives(
    py: Python<'_>,
    source: PathBuf,
    db: PathBuf,
    dry_run: bool,
    time_zone: &str,
    path_prefix: &str,
    update_existing: bool,
    max_zip_bytes: Option<u64>,
    max_zip_ratio: Option<u64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyImportReport> {
    let limits = ZipLimits::default();
    let options = TextArchiveOptions {
        dry_run,
        time_zone: zone(time_zone)?,
        path_prefix: path_prefix.to_string(),
        update_existing,
        zip_limits: ZipLimits {
            max_bytes: max_zip_bytes.unwrap_or(limits.max_bytes),
            max_ratio: max_zip_ratio.unwrap_or(limits.max_ratio),
        },
    };
    let inner = run(py, progress, |sink| {
        import::import_text_archives(&source, &db, &options, sink)
    })?;
    Ok(PyImportReport { inner })
}

/// Runs only the named `phases` of a text-archive import of `source` (a folder or a ZIP)
/// into `db` (created when missing), in import order whatever the order given, as ThyWill's
/// `CompleteSystemRecovery` runs its steps. A phase whose prerequisites are neither named
/// nor already in the database raises `InvalidInputError` and nothing is written (see
/// `import_phase_prerequisites`). Returns `{"phases", "import", "recovery_stats"}`: the
/// phases run, the import report as a dict, and ThyWill's `recovery_stats` counters.
#[pyfunction]
#[pyo3(signature = (source, db, phases, *, dry_run=false, time_zone="local", path_prefix="text_archives", update_existing=false, progress=None))]
#[allow(clippy::too_many_arguments)]
fn import_text_archive_phases(
    py: Python<'_>,
    source: PathBuf,
    db: PathBuf,
    phases: Vec<String>,
    dry_run: bool,
    time_zone: &str,
    path_prefix: &str,
    update_existing: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    let phases = import::phases_named(&phases).map_err(to_py_err)?;
    let options = TextArchiveOptions {
        dry_run,
        time_zone: zone(time_zone)?,
        path_prefix: path_prefix.to_string(),
        update_existing,
        ..TextArchiveOptions::default()
    };
    let report = run(py, progress, |sink| {
        import::import_text_archive_phases(&source, &db, &phases, &options, sink)
    })?;
    to_py(py, &report)
}

/// The phases of a text-archive import, in the order they run.
#[pyfunction]
fn import_phase_names() -> Vec<&'static str> {
    import::phase_names()
}

/// Each phase of a text-archive import with every phase it needs first, in run order.
#[pyfunction]
fn import_phase_prerequisites() -> Vec<(&'static str, Vec<&'static str>)> {
    import::Phase::ALL
        .iter()
        .map(|p| (p.name(), p.requires().iter().map(|r| r.name()).collect()))
        .collect()
}

/// Imports a JSON array of prayers (`text`, `generated_prayer`, `author_name`,
/// `project_tag`, `created_at`); one transaction, nothing imported if a record is bad.
#[pyfunction]
#[pyo3(signature = (file, db, *, dry_run=false, progress=None))]
fn import_prayers_json(
    py: Python<'_>,
    file: PathBuf,
    db: PathBuf,
    dry_run: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyImportReport> {
    let inner = run(py, progress, |sink| {
        JsonPrayersPlan::from_file(&file)?.apply(&db, &JsonPrayersOptions { dry_run }, sink)
    })?;
    Ok(PyImportReport { inner })
}

/// Imports one prayer file; `update_existing` overwrites an existing prayer's text.
#[pyfunction]
#[pyo3(signature = (file, db, *, dry_run=false, update_existing=false, time_zone="local", progress=None))]
fn import_prayer_file(
    py: Python<'_>,
    file: PathBuf,
    db: PathBuf,
    dry_run: bool,
    update_existing: bool,
    time_zone: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyImportReport> {
    let options = PrayerFileOptions {
        dry_run,
        update_existing,
        time_zone: zone(time_zone)?,
        ..PrayerFileOptions::default()
    };
    let inner = run(py, progress, |sink| {
        import::import_prayer_file(&file, &db, &options, sink)
    })?;
    Ok(PyImportReport { inner })
}

/// Adds the import bindings to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyImportReport>()?;
    m.add_class::<PyEntityCounts>()?;
    m.add_function(wrap_pyfunction!(import_text_archives, m)?)?;
    m.add_function(wrap_pyfunction!(import_text_archive_phases, m)?)?;
    m.add_function(wrap_pyfunction!(import_phase_names, m)?)?;
    m.add_function(wrap_pyfunction!(import_phase_prerequisites, m)?)?;
    m.add_function(wrap_pyfunction!(import_prayers_json, m)?)?;
    m.add_function(wrap_pyfunction!(import_prayer_file, m)?)?;
    Ok(())
}
