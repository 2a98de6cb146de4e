#![no_main]
//! Monthly attribute/mark/skip ledgers: streaming parsers and re-render.

use libfuzzer_sys::fuzz_target;
use thywill_core::archive::layout::LedgerKind;
use thywill_core::archive::ledger;

fuzz_target!(|data: &[u8]| {
    for kind in [LedgerKind::Attributes, LedgerKind::Marks, LedgerKind::Skips] {
        for record in ledger::parse_monthly(kind, data, None).flatten() {
            let line = record.render();
            let back =
                ledger::LedgerRecord::parse_line(kind, &line).expect("a rendered line parses");
            assert_eq!(back.render(), line);
        }
    }
    let _ = ledger::rerender(data, Some(std::path::Path::new("2025_07_attributes.txt")));
});
