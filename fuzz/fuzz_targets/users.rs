#![no_main]
//! Monthly user registrations: streaming parser and re-render.

use libfuzzer_sys::fuzz_target;
use thywill_core::archive::users;

fuzz_target!(|data: &[u8]| {
    for record in users::parse_monthly(data, None).flatten() {
        let line = record.render();
        let back = users::UserRegistration::parse_line(&line).expect("a rendered line parses");
        assert_eq!(back.render(), line);
    }
    let _ = users::rerender(data, None);
});
