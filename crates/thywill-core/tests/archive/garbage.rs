//! Every parser survives random, truncated and corrupted bytes: no panic, and every
//! diagnostic is located (path set, line within the file).

use crate::support::fixtures;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use thywill_core::archive::diagnostics::Diagnostic;
use thywill_core::archive::kind::{rerender, FileKind};
use thywill_core::archive::layout::LedgerKind;
use thywill_core::archive::lines::LineReader;
use thywill_core::archive::{activity, ledger, prayer, timestamp, users};
use thywill_core::pycompat::datetime;

fn check_diag(d: &Diagnostic, lines: usize, path: &Path) {
    assert_eq!(d.path.as_deref(), Some(path), "{d}");
    // A missing line may be reported just past the end.
    assert!(
        d.line <= lines + 1,
        "{d}: line beyond the {lines} lines of the input"
    );
    assert!(!d.reason.is_empty());
}

/// Runs every parser over `bytes`.
fn all_parsers(bytes: &[u8]) {
    let path = Path::new("x.txt");
    let lines = 1 + bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
    let (archive, diags) = prayer::parse_bytes(bytes, Some(path));
    for d in &diags {
        check_diag(d, lines, path);
    }
    // Re-rendering is idempotent: the canonical form reads back to itself.
    let once = archive.render();
    let (again, _) = prayer::parse(&once, None);
    assert_eq!(
        again.render(),
        once,
        "prayer re-render not idempotent for {bytes:?}"
    );
    for kind in [
        FileKind::Prayer,
        FileKind::UserRegistrations,
        FileKind::ActivityLog,
        FileKind::Ledger(LedgerKind::Attributes),
    ] {
        let p = Path::new("2025_07_attributes.txt");
        let (first, _) = rerender(kind, bytes, Some(p)).unwrap();
        let (second, _) = rerender(kind, &first, Some(p)).unwrap();
        assert_eq!(second, first, "{kind:?} re-render not idempotent");
    }
    for r in users::parse_monthly(Cursor::new(bytes), Some(path)) {
        if let Err(d) = r {
            check_diag(&d, lines, path);
            assert!(d.line >= 1);
        }
    }
    for r in activity::parse_monthly(Cursor::new(bytes), Some(path)) {
        if let Err(d) = r {
            check_diag(&d, lines, path);
            assert!(d.line >= 1);
        }
    }
    for kind in [LedgerKind::Attributes, LedgerKind::Marks, LedgerKind::Skips] {
        for r in ledger::parse_monthly(kind, Cursor::new(bytes), Some(path)) {
            if let Err(d) = r {
                check_diag(&d, lines, path);
                assert!(d.line >= 1);
            }
        }
    }
    for kind in [
        FileKind::Prayer,
        FileKind::UserRegistrations,
        FileKind::ActivityLog,
        FileKind::Ledger(LedgerKind::Marks),
    ] {
        let (_, diags) = rerender(kind, bytes, Some(path)).unwrap();
        for d in &diags {
            check_diag(d, lines, path);
        }
    }
    for l in LineReader::new(Cursor::new(bytes), Some(path)).flatten() {
        let _ = datetime::strptime_ts_h(&l.text);
        let _ = datetime::py_fromisoformat(&l.text);
        let _ = timestamp::parse_recovery_timestamp(&l.text);
        let _ = prayer::parse_thywill(&l.text);
    }
}

#[test]
fn truncated_and_corrupted_fixture_files() {
    let root = fixtures().join("s1/text_archives");
    let samples = [
        "users/2025_07_users.txt",
        "activity/activity_2025_07.txt",
        "prayers/marks/2025_07_marks.txt",
        "prayers/attributes/2025_07_attributes.txt",
    ];
    let mut files: Vec<PathBuf> = samples
        .iter()
        .map(|s| root.join(s))
        .filter(|p| p.exists())
        .collect();
    let month = root.join("prayers/2025/07");
    files.extend(
        std::fs::read_dir(month)
            .unwrap()
            .take(5)
            .map(|e| e.unwrap().path()),
    );
    assert!(files.len() >= 8);
    for f in files {
        // The first ~4 KB keep the run short in debug builds; every cut position there is tried
        // at a stride, plus the whole file once.
        let full = std::fs::read(&f).unwrap();
        all_parsers(&full);
        let bytes = &full[..full.len().min(4096)];
        let step = (bytes.len() / 30).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            all_parsers(&bytes[..cut]);
            let mut corrupted = bytes.to_vec();
            corrupted[cut] ^= 0x80; // breaks UTF-8 or changes a character
            all_parsers(&corrupted);
        }
    }
}

proptest! {
    #![proptest_config(crate::support::properties::config(300))]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        all_parsers(&bytes);
    }

    #[test]
    fn random_archive_like_text(s in "(Prayer | by |Submitted |July 06 2025 at 09:05| - |Activity:\n|Generated Prayer:\n|\n|\r|\u{feff}|[a-z :|'()]{0,5}|joined directly| prayed this prayer| set x to '|\u{ff}){0,40}") {
        all_parsers(s.as_bytes());
    }
}
