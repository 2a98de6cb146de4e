#![no_main]
//! Timestamp parsers and the line reader.

use libfuzzer_sys::fuzz_target;
use thywill_core::archive::{lines, timestamp};
use thywill_core::pycompat::{datetime, number};

fuzz_target!(|data: &[u8]| {
    for line in lines::LineReader::new(data, None).flatten() {
        if let Some(t) = datetime::strptime_ts_h(&line.text) {
            assert_eq!(datetime::strptime_ts_h(&timestamp::ts_h(&t)), Some(t));
        }
        let _ = datetime::strptime_ts_h_seconds(&line.text);
        let _ = datetime::strptime_sql(&line.text);
        if let Some(t) = datetime::py_fromisoformat(&line.text) {
            assert_eq!(datetime::py_fromisoformat(&t.isoformat()), Some(t));
        }
        let _ = timestamp::parse_recovery_timestamp(&line.text);
        let _ = number::py_int(&line.text);
    }
});
