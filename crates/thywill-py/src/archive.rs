//! Python bindings of `thywill_core::archive`.

use pyo3::prelude::*;

/// Adds the archive classes and functions to the module.
pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
