//! The SQLite library the module runs on.
//!
//! The module links the system's `libsqlite3` (thywill-core without `bundled-sqlite`), the
//! library Python's `sqlite3` module links, so that one process has one SQLite and the app's
//! connections and the core's see each other's locks. Two hooks let
//! `thywill_core.sqlite_library()` prove that at run time, and a fallback below lets the
//! module load on a SQLite older than the one rusqlite was written for.

use std::path::PathBuf;
use std::time::Duration;

use pyo3::prelude::*;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::errors::to_py_err;

/// The version of the SQLite library the core's connections use (`"3.40.1"`).
#[pyfunction]
fn _sqlite_version() -> &'static str {
    rusqlite::version()
}

/// Opens `database` with the core's SQLite and tries `BEGIN IMMEDIATE` without waiting.
/// Returns `True` when SQLite refused it as busy, `False` when the lock was granted (and
/// released again at once). The caller holds a RESERVED lock on the file through Python's
/// `sqlite3`: one shared library sees it and refuses, a second library cannot see it.
#[pyfunction]
fn _sqlite_lock_probe(py: Python<'_>, database: PathBuf) -> PyResult<bool> {
    py.detach(move || {
        let connection = Connection::open_with_flags(
            &database,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(Duration::ZERO)?;
        match connection.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                connection.execute_batch("ROLLBACK")?;
                Ok(false)
            }
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == ErrorCode::DatabaseBusy =>
            {
                Ok(true)
            }
            Err(other) => Err(other),
        }
    })
    .map_err(|error| to_py_err(thywill_core::Error::Database(error)))
}

/// Adds the hooks to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_sqlite_version, m)?)?;
    m.add_function(wrap_pyfunction!(_sqlite_lock_probe, m)?)?;
    Ok(())
}

/// rusqlite keeps the callbacks of busy handlers and hooks with
/// `sqlite3_set_clientdata`, which SQLite has only since 3.44; Debian 12's and Ubuntu
/// 22.04's system SQLite (3.40, 3.37) lack it, and the module would not load. These weak
/// definitions stand in for it: a SQLite that has the function (a newer system library, or
/// the bundled one when a workspace build turns `bundled-sqlite` on) takes precedence at link
/// time or is called through `dlsym(RTLD_NEXT)`; on an older one the only call the core
/// makes, clearing the slot when it sets a busy timeout, succeeds, and storing a callback
/// (which the core never does) fails as SQLite fails it, destroying the value.
#[cfg(target_os = "linux")]
mod clientdata_fallback {
    use std::ffi::{c_char, c_int, c_void, CStr};
    use std::sync::OnceLock;

    use rusqlite::ffi;

    type Destructor = Option<unsafe extern "C" fn(*mut c_void)>;
    type SetClientdata =
        unsafe extern "C" fn(*mut ffi::sqlite3, *const c_char, *mut c_void, Destructor) -> c_int;
    type GetClientdata = unsafe extern "C" fn(*mut ffi::sqlite3, *const c_char) -> *mut c_void;

    core::arch::global_asm!(
        ".weak sqlite3_set_clientdata",
        ".set sqlite3_set_clientdata, {set}",
        ".weak sqlite3_get_clientdata",
        ".set sqlite3_get_clientdata, {get}",
        set = sym set_clientdata,
        get = sym get_clientdata,
    );

    /// The loaded SQLite's own function of that name, if it has one.
    fn real(name: &CStr) -> Option<*mut c_void> {
        // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT searches the libraries loaded
        // after this module (its libsqlite3), not the module's own weak definitions.
        let found = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
        (!found.is_null()).then_some(found)
    }

    fn real_set() -> Option<SetClientdata> {
        static REAL: OnceLock<Option<usize>> = OnceLock::new();
        let address = (*REAL.get_or_init(|| real(c"sqlite3_set_clientdata").map(|p| p as usize)))?;
        // SAFETY: the address is SQLite's sqlite3_set_clientdata, of this signature.
        Some(unsafe { std::mem::transmute::<usize, SetClientdata>(address) })
    }

    fn real_get() -> Option<GetClientdata> {
        static REAL: OnceLock<Option<usize>> = OnceLock::new();
        let address = (*REAL.get_or_init(|| real(c"sqlite3_get_clientdata").map(|p| p as usize)))?;
        // SAFETY: the address is SQLite's sqlite3_get_clientdata, of this signature.
        Some(unsafe { std::mem::transmute::<usize, GetClientdata>(address) })
    }

    unsafe extern "C" fn set_clientdata(
        db: *mut ffi::sqlite3,
        name: *const c_char,
        data: *mut c_void,
        destructor: Destructor,
    ) -> c_int {
        if let Some(set) = real_set() {
            // SAFETY: the caller's arguments, passed on unchanged.
            return unsafe { set(db, name, data, destructor) };
        }
        if data.is_null() {
            return ffi::SQLITE_OK;
        }
        if let Some(destroy) = destructor {
            // SAFETY: SQLite destroys the value when it cannot keep it; rusqlite relies on it.
            unsafe { destroy(data) };
        }
        ffi::SQLITE_MISUSE
    }

    unsafe extern "C" fn get_clientdata(db: *mut ffi::sqlite3, name: *const c_char) -> *mut c_void {
        match real_get() {
            // SAFETY: the caller's arguments, passed on unchanged.
            Some(get) => unsafe { get(db, name) },
            None => std::ptr::null_mut(),
        }
    }
}
