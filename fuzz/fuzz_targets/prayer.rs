#![no_main]
//! Prayer files: the fixed parser, ThyWill's reader, the categorization reader and the
//! re-render must not panic, and re-rendering is idempotent.

use libfuzzer_sys::fuzz_target;
use thywill_core::archive::{categorization, prayer};

fuzz_target!(|data: &[u8]| {
    let (archive, _diags) = prayer::parse_bytes(data, None);
    let once = archive.render();
    let (again, _) = prayer::parse(&once, None);
    assert_eq!(again.render(), once, "re-rendering must be idempotent");
    let text = String::from_utf8_lossy(data);
    let _ = prayer::parse_thywill(&text);
    let _ = categorization::parse_thywill(&text);
});
