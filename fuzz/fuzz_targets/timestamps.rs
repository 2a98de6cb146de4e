#![no_main]
//! Timestamp parsers and the line reader.

use libfuzzer_sys::fuzz_target;
use thywill_core::archive::text;

fuzz_target!(|data: &[u8]| {
    for line in text::LineReader::new(data, None).flatten() {
        if let Some(t) = text::strptime_ts_h(&line.text) {
            assert_eq!(text::strptime_ts_h(&text::ts_h(&t)), Some(t));
        }
        let _ = text::strptime_ts_h_seconds(&line.text);
        let _ = text::strptime_sql(&line.text);
        if let Some(t) = text::py_fromisoformat(&line.text) {
            assert_eq!(text::py_fromisoformat(&t.isoformat()), Some(t));
        }
        let _ = text::parse_recovery_timestamp(&line.text);
        let _ = text::py_int(&line.text);
        let _ = text::py_splitlines(&line.text);
    }
});
