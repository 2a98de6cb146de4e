//! The C ABI of thywill-core. See `include/thywill.h`.

/// Returns the library version as a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn thywill_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
