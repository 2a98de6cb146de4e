//! The Python module `thywill_core._native`. It only converts types and errors;
//! all logic lives in `thywill-core`.
//!
//! Conventions (see `docs/frontends.md`): one file per domain (`archive.rs`,
//! `backup.rs`, ...) with a `register(m)` function, added below with one line;
//! core calls go through [`progress::run`] (GIL released, progress callable,
//! errors mapped by [`errors::to_py_err`]); reports are returned with
//! [`convert::to_py`]. Every name added here is also declared in
//! `python/thywill_core/_native.pyi` and re-exported by `__init__.py`.

use pyo3::prelude::*;

mod archive;
mod audit;
mod backup;
mod care;
mod consistency;
mod convert;
mod download;
mod errors;
mod import;
mod progress;
mod reconstruct;
mod recovery;
mod sessions;
mod sqlite;
mod testing;

/// mimalloc for the module's own allocations, as pydantic-core does: an import's writer
/// thread frees what its reader thread allocated, which glibc's allocator serialises on
/// the reader's arena lock (`docs/import.md`). Python's objects keep Python's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", thywill_core::VERSION)?;
    errors::register(m)?;
    archive::register(m)?;
    audit::register(m)?;
    backup::register(m)?;
    care::register(m)?;
    consistency::register(m)?;
    download::register(m)?;
    import::register(m)?;
    reconstruct::register(m)?;
    recovery::register(m)?;
    sessions::register(m)?;
    sqlite::register(m)?;
    testing::register(m)?;
    Ok(())
}
