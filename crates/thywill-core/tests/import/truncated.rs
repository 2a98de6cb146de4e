//! Truncated prayer files: what is intact is imported, never silently. The run fails
//! with a located failure, a field the cut runs through is not stored, and a later intact
//! archive corrects the row with `update_existing`.

use std::path::Path;

use rusqlite::Connection;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    import_prayer_file, import_text_archives, report::entity, ImportReport, PrayerFileOptions,
    TextArchiveOptions,
};
use thywill_core::progress::NoProgress;

const ID: &str = "abcdef0123456789abcdef0123456789";
const REL: &str = "prayers/2024/01/2024_01_05_prayer_at_1000.txt";

/// A whole prayer file as ThyWill writes it: 13 lines.
fn intact() -> String {
    format!(
        "Prayer {ID} by Ann Lee\nSubmitted January 05 2024 at 10:00\n\nPlease pray for my exam\n\n\
         Generated Prayer:\nLord, be with Ann as she studies.\n\nAmen.\n\nActivity:\n\
         January 05 2024 at 11:00 - Bob Stone prayed this prayer\n\
         January 06 2024 at 11:00 - Carl Three prayed this prayer\n"
    )
}

/// The intact file cut just after `marker`'s first occurrence.
fn cut_after(marker: &str) -> String {
    let text = intact();
    let end = text.find(marker).expect("marker") + marker.len();
    text[..end].to_string()
}

fn archive(root: &Path, prayer: &str) {
    let path = root.join(REL);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, prayer).unwrap();
}

fn options(update_existing: bool) -> TextArchiveOptions {
    TextArchiveOptions {
        time_zone: ArchiveTimeZone::Utc,
        update_existing,
        ..TextArchiveOptions::default()
    }
}

fn prayer_row(db: &Path) -> Option<(String, Option<String>)> {
    let conn = Connection::open(db).unwrap();
    conn.query_row(
        "SELECT text, generated_prayer FROM prayer WHERE id = ?1",
        [ID],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .ok()
}

fn markers(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT username FROM prayermark ORDER BY username")
        .unwrap();
    let names = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names
}

/// The one failure of the run, about the prayer file.
fn truncation_failure(report: &ImportReport) -> (u64, String) {
    let failures: Vec<_> = report
        .failures
        .iter()
        .filter(|f| f.file.ends_with(REL))
        .collect();
    assert_eq!(failures.len(), 1, "{:#?}", report.failures);
    assert!(report.has_failures());
    (failures[0].line.unwrap_or(0), failures[0].reason.clone())
}

#[test]
fn a_generated_prayer_cut_short_is_not_stored_and_a_later_intact_file_corrects_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    let db = dir.path().join("thywill.db");
    archive(&root, &cut_after("Lord, be with"));
    let report = import_text_archives(&root, &db, &options(false), &NoProgress).unwrap();
    let (line, reason) = truncation_failure(&report);
    assert_eq!(line, 7, "the line the cut runs through");
    assert!(
        reason.contains("truncated") && reason.contains("generated prayer"),
        "{reason}"
    );
    // The request text is whole and kept; the cut generated prayer is not stored.
    assert_eq!(
        prayer_row(&db),
        Some(("Please pray for my exam".to_string(), None))
    );

    // The intact file, without update_existing: the row is kept, and the report says so.
    archive(&root, &intact());
    let report = import_text_archives(&root, &db, &options(false), &NoProgress).unwrap();
    assert!(!report.has_failures(), "{:#?}", report.failures);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.file == REL && n.reason.contains("differs from the database")),
        "{:#?}",
        report.notes
    );
    assert_eq!(prayer_row(&db).unwrap().1, None);
    assert_eq!(report.counts(entity::PRAYERS).updated, 0);

    // With update_existing the intact file corrects it; a second run changes nothing.
    let report = import_text_archives(&root, &db, &options(true), &NoProgress).unwrap();
    assert!(!report.has_failures(), "{:#?}", report.failures);
    assert_eq!(report.counts(entity::PRAYERS).updated, 1);
    assert_eq!(
        prayer_row(&db).unwrap().1.as_deref(),
        Some("Lord, be with Ann as she studies.\n\nAmen.")
    );
    let again = import_text_archives(&root, &db, &options(true), &NoProgress).unwrap();
    assert_eq!(again.total_changes(), 0, "{again:#?}");
}

#[test]
fn a_cut_activity_line_is_not_imported_and_the_intact_file_adds_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    let db = dir.path().join("thywill.db");
    archive(&root, &cut_after("Carl Three pra"));
    let report = import_text_archives(&root, &db, &options(false), &NoProgress).unwrap();
    let (line, reason) = truncation_failure(&report);
    assert_eq!(line, 13);
    assert!(
        reason.contains("truncated") && reason.contains("activity"),
        "{reason}"
    );
    assert_eq!(
        prayer_row(&db),
        Some((
            "Please pray for my exam".to_string(),
            Some("Lord, be with Ann as she studies.\n\nAmen.".to_string())
        ))
    );
    assert_eq!(markers(&db), ["Bob Stone"], "the cut line is not a mark");
    let conn = Connection::open(&db).unwrap();
    let bogus: i64 = conn
        .query_row(
            "SELECT count(*) FROM prayer_activity_log WHERE user_id LIKE 'Carl%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bogus, 0);
    drop(conn);
    // Activities are matched by shortfall: the intact file brings the missing line.
    archive(&root, &intact());
    let report = import_text_archives(&root, &db, &options(false), &NoProgress).unwrap();
    assert!(!report.has_failures(), "{:#?}", report.failures);
    assert_eq!(markers(&db), ["Bob Stone", "Carl Three"]);
}

#[test]
fn a_file_cut_in_its_header_or_request_text_imports_no_prayer() {
    for (cut, line) in [
        (cut_after("Submitted January 05 2"), 2),
        (cut_after("Please pray for"), 4),
        (cut_after("Please pray for my exam\n\n"), 5),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("text_archives");
        let db = dir.path().join("thywill.db");
        archive(&root, &cut);
        let report = import_text_archives(&root, &db, &options(true), &NoProgress).unwrap();
        let (at, reason) = truncation_failure(&report);
        assert_eq!(at, line as u64, "{cut:?}");
        assert!(reason.contains("truncated"), "{reason}");
        assert_eq!(prayer_row(&db), None, "{cut:?}");
        assert_eq!(report.counts(entity::PRAYERS).failed, 1);
    }
}

#[test]
fn a_file_missing_only_its_last_newline_is_imported_whole_but_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    let db = dir.path().join("thywill.db");
    let without_activity = format!(
        "Prayer {ID} by Ann Lee\nSubmitted January 05 2024 at 10:00\n\nPlease pray for my exam\n\nActivity:"
    );
    archive(&root, &without_activity);
    let report = import_text_archives(&root, &db, &options(false), &NoProgress).unwrap();
    let (line, reason) = truncation_failure(&report);
    assert_eq!(line, 6);
    assert!(reason.contains("newline"), "{reason}");
    assert_eq!(
        prayer_row(&db),
        Some(("Please pray for my exam".to_string(), None))
    );
}

#[test]
fn import_prayer_treats_a_truncated_file_the_same_and_never_updates_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    let cut = dir.path().join("2024_01_05_prayer_at_1000.txt");
    std::fs::write(&cut, cut_after("Lord, be with")).unwrap();
    let whole = dir.path().join("whole.txt");
    std::fs::write(&whole, intact()).unwrap();
    let options = |update_existing| PrayerFileOptions {
        update_existing,
        time_zone: ArchiveTimeZone::Utc,
        ..PrayerFileOptions::default()
    };
    let report = import_prayer_file(&cut, &db, &options(false), &NoProgress).unwrap();
    assert!(report.has_failures());
    assert!(
        report.failures[0].reason.contains("truncated"),
        "{:#?}",
        report.failures
    );
    assert_eq!(report.failures[0].line, Some(7));
    assert_eq!(prayer_row(&db).unwrap().1, None);
    let report = import_prayer_file(&whole, &db, &options(true), &NoProgress).unwrap();
    assert_eq!(report.counts(entity::PRAYERS).updated, 1);
    assert!(prayer_row(&db).unwrap().1.is_some());
    // A truncated file never overwrites a row, even when asked to.
    let report = import_prayer_file(&cut, &db, &options(true), &NoProgress).unwrap();
    assert!(report.has_failures());
    assert_eq!(report.counts(entity::PRAYERS).updated, 0);
    assert_eq!(
        prayer_row(&db).unwrap().1.as_deref(),
        Some("Lord, be with Ann as she studies.\n\nAmen.")
    );
}

#[test]
fn with_two_files_of_one_prayer_the_first_intact_one_counts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    let db = dir.path().join("thywill.db");
    // ThyWill's heal writes a second file for a prayer (`_2`); here the first is cut short.
    archive(&root, &cut_after("Lord, be with"));
    let second = root.join(REL.replace(".txt", "_2.txt"));
    std::fs::write(&second, intact()).unwrap();
    let third = root.join(REL.replace(".txt", "_3.txt"));
    std::fs::write(&third, intact().replace("as she studies", "today")).unwrap();
    for run in 0..2 {
        let report = import_text_archives(&root, &db, &options(true), &NoProgress).unwrap();
        assert_eq!(
            prayer_row(&db).unwrap().1.as_deref(),
            Some("Lord, be with Ann as she studies.\n\nAmen."),
            "run {run}"
        );
        assert!(
            report.notes.iter().any(|n| n.file.ends_with("_3.txt")
                && n.reason
                    .contains("an earlier file of this import named it first")),
            "{:#?}",
            report.notes
        );
        if run == 1 {
            assert_eq!(report.total_changes(), 0, "{report:#?}");
        }
    }
}
