//! Reports stay short whatever the input: a line quoted in a reason is cut, and a file's
//! notes beyond a few dozen are summarised, so 10 MB of garbage gives a short report.

use std::path::Path;

use thywill_core::archive::check::check_tree;
use thywill_core::archive::diagnostics::MAX_REASON_CHARS;
use thywill_core::archive::parsed::parse_file;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    import_text_archives, report::entity, TextArchiveOptions, MAX_ISSUES_PER_FILE,
};
use thywill_core::progress::NoProgress;

const TEN_MB: usize = 10 << 20;

/// Deterministic garbage: printable noise with a newline every `line` bytes (never, when
/// `line` is 0), and a byte that is not UTF-8 now and then.
fn garbage(len: usize, line: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if line > 0 && i % line == line - 1 {
                b'\n'
            } else if (state >> 60) == 0 {
                0xFF
            } else {
                b' ' + ((state >> 33) % 94) as u8
            }
        })
        .collect()
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn ten_megabytes_of_garbage_give_a_short_report() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    write(&root, "users/2024_01_users.txt", &garbage(TEN_MB, 120, 1));
    write(
        &root,
        "prayers/marks/2024_01_marks.txt",
        &garbage(TEN_MB, 80, 2),
    );
    // One line of 10 MB, named like a prayer file.
    write(
        &root,
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt",
        &garbage(TEN_MB, 0, 3),
    );
    let options = TextArchiveOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..TextArchiveOptions::default()
    };
    let report =
        import_text_archives(&root, dir.path().join("thywill.db"), &options, &NoProgress).unwrap();
    assert!(report.has_failures(), "the prayer file is no prayer");
    let json = report.to_json();
    assert!(json.len() < 100_000, "{} bytes of report", json.len());
    for issue in report.notes.iter().chain(&report.failures) {
        assert!(
            issue.reason.chars().count() <= MAX_REASON_CHARS,
            "{}",
            issue.reason
        );
    }
    for file in ["users/2024_01_users.txt", "prayers/marks/2024_01_marks.txt"] {
        let notes: Vec<_> = report.notes.iter().filter(|n| n.file == file).collect();
        assert_eq!(notes.len(), MAX_ISSUES_PER_FILE + 1, "{file}");
        let summary = &notes[MAX_ISSUES_PER_FILE].reason;
        assert!(
            summary.contains("more notes in this file, not listed"),
            "{summary}"
        );
    }
    // The counts stay exact: the summary says how many notes there were.
    let users_lines = TEN_MB / 120;
    let summary = &report
        .notes
        .iter()
        .filter(|n| n.file == "users/2024_01_users.txt")
        .nth(MAX_ISSUES_PER_FILE)
        .unwrap()
        .reason;
    assert!(
        summary.contains(&format!("({} in all)", users_lines + 1))
            || summary.contains(&format!("({users_lines} in all)")),
        "{summary}"
    );
    assert_eq!(report.counts(entity::PRAYERS).failed, 1);
}

#[test]
fn archive_parse_and_check_list_a_bounded_number_of_short_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    write(&root, "users/2024_01_users.txt", &garbage(TEN_MB, 120, 4));
    write(
        &root,
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt",
        &garbage(TEN_MB, 0, 5),
    );
    let parsed = parse_file(&root.join("users/2024_01_users.txt")).unwrap();
    assert_eq!(parsed.diagnostics.len(), 51);
    assert!(parsed.diagnostics[50]
        .reason
        .contains("more diagnostics, not listed"));
    let parsed = parse_file(&root.join("prayers/2024/01/2024_01_05_prayer_at_1000.txt")).unwrap();
    assert!(parsed
        .diagnostics
        .iter()
        .all(|d| d.reason.chars().count() <= MAX_REASON_CHARS));
    let report = check_tree(&root, &NoProgress).unwrap();
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.len() < 100_000, "{} bytes of report", json.len());
    assert!(report.problems.iter().all(|p| p.diagnostics.len() <= 51));
}
