#![no_main]
//! Monthly activity log: streaming parser and re-render.

use libfuzzer_sys::fuzz_target;
use thywill_core::archive::activity;

fuzz_target!(|data: &[u8]| {
    for entry in activity::parse_monthly(data, None).flatten() {
        let _ = entry.meaning();
        let line = entry.render();
        let back = activity::MonthlyActivity::parse_line(&line, entry.date)
            .expect("a rendered line parses");
        assert_eq!(back.render(), line);
    }
    let _ = activity::rerender(data, None);
});
