//! Private hooks (`_`-prefixed) that let `tests/python` exercise the binding
//! machinery itself (GIL release, progress adapter, plain-data conversion)
//! independently of any domain.

use pyo3::prelude::*;

use crate::convert::{py_to_value, to_py};
use crate::progress::run;

/// Reports `steps` progress events in phase `phase` from core code running
/// without the GIL; returns how many were reported before a stop request.
#[pyfunction]
#[pyo3(signature = (phase, steps, progress=None))]
fn _progress_probe(
    py: Python<'_>,
    phase: String,
    steps: u64,
    progress: Option<Py<PyAny>>,
) -> PyResult<u64> {
    run(py, progress, move |sink| {
        for done in 0..=steps {
            thywill_core::progress::report(sink, &phase, done, Some(steps))?;
        }
        Ok(steps)
    })
}

/// Converts plain data to serde's model and back, as reports and inputs are.
#[pyfunction]
fn _plain_roundtrip(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    to_py(py, &py_to_value(value)?)
}

/// Adds the hooks to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_progress_probe, m)?)?;
    m.add_function(wrap_pyfunction!(_plain_roundtrip, m)?)?;
    Ok(())
}
