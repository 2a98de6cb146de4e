//! The Python module `thywill_core._native`. It only converts types and errors;
//! all logic lives in `thywill-core`.

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", thywill_core::VERSION)?;
    Ok(())
}
