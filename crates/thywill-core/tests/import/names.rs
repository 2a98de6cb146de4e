//! Control characters in names, ids and free text, on every import path (JSON prayers, a
//! single prayer file, text archives): names and ids refuse every control character,
//! free text keeps tab, LF and CR and refuses the rest; a refused record is a located
//! failure (file, line or JSON index, field, the character escaped) and is not imported.

use std::path::Path;

use chrono::NaiveDate;
use rusqlite::Connection;
use thywill_core::archive::categorization::Categorization;
use thywill_core::archive::prayer::{ActivityAction, PrayerActivity, PrayerArchive};
use thywill_core::archive::writer::{ArchiveWriter, Clock};
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    import_prayer_file, import_prayers_json, import_text_archives, report::entity, ImportReport,
    JsonPrayersOptions, PrayerFileOptions, RecordIssue, TextArchiveOptions,
};
use thywill_core::progress::NoProgress;
use thywill_core::pycompat::number::PyNumber;

fn strings(conn: &Connection, sql: &str) -> Vec<String> {
    conn.prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every name and id the database holds, none with a control character.
fn assert_no_control_characters_in_keys(db: &Path) {
    let conn = Connection::open(db).unwrap();
    for sql in [
        "SELECT display_name FROM user",
        "SELECT id FROM prayer",
        "SELECT author_username FROM prayer",
        "SELECT username FROM prayermark",
        "SELECT prayer_id FROM prayermark",
        "SELECT username FROM session",
        "SELECT id FROM session",
    ] {
        for value in strings(&conn, sql) {
            assert!(!value.chars().any(char::is_control), "{sql}: {value:?}");
        }
    }
}

fn failure<'r>(report: &'r ImportReport, field: &str) -> &'r RecordIssue {
    report
        .failures
        .iter()
        .find(|f| f.field.as_deref() == Some(field))
        .unwrap_or_else(|| panic!("no failure on {field}: {:#?}", report.failures))
}

#[test]
fn json_batch_with_a_control_character_in_a_name_is_rejected_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("prayers.json");
    std::fs::write(
        &json,
        r#"[
          {"text": "ok", "author_name": "Ann"},
          {"text": "x", "author_name": "John\u0000Lee"},
          {"text": "tab\there\nand CR\r\n", "author_name": "Bob", "generated_prayer": "a\tb"},
          {"text": "bell\u0007", "author_name": "Bob"},
          {"text": "y", "author_id": "Legacy\u001f"},
          {"text": "z", "author_name": "Cy", "project_tag": "p\u0085"}
        ]"#,
    )
    .unwrap();
    let db = dir.path().join("thywill.db");
    let report =
        import_prayers_json(&json, &db, &JsonPrayersOptions::default(), &NoProgress).unwrap();
    assert_eq!(report.total_inserted(), 0, "{report:#?}");
    assert_eq!(report.failures.len(), 4, "{:#?}", report.failures);
    let name = failure(&report, "author_name");
    assert_eq!(
        (name.record, name.file.as_str()),
        (Some(1), json.to_str().unwrap())
    );
    assert!(
        name.reason.contains("\\x00 (U+0000) at character 5"),
        "{}",
        name.reason
    );
    assert_eq!(failure(&report, "text").record, Some(3));
    assert!(failure(&report, "text").reason.contains("\\x07 (U+0007)"));
    assert_eq!(failure(&report, "author_id").record, Some(4));
    assert!(failure(&report, "project_tag")
        .reason
        .contains("\\x85 (U+0085)"));

    // Tab, LF and CR in free text are kept verbatim.
    std::fs::write(
        &json,
        r#"[{"text": "tab\there\nand CR\r\n", "author_name": "Bob", "generated_prayer": "a\tb"}]"#,
    )
    .unwrap();
    let report =
        import_prayers_json(&json, &db, &JsonPrayersOptions::default(), &NoProgress).unwrap();
    assert!(!report.has_failures(), "{:#?}", report.failures);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(
        strings(&conn, "SELECT text || '|' || generated_prayer FROM prayer"),
        ["tab\there\nand CR\r\n|a\tb"]
    );
    assert_no_control_characters_in_keys(&db);
}

fn write_prayer(dir: &Path, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn a_prayer_file_with_a_control_character_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    let options = PrayerFileOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..PrayerFileOptions::default()
    };
    let import = |path: &Path| import_prayer_file(path, &db, &options, &NoProgress).unwrap();
    let submitted = "Submitted June 12 2024 at 10:33";

    let author = write_prayer(
        dir.path(),
        "author.txt",
        &format!("Prayer p1 by John\0Lee\n{submitted}\n\nhelp\n\nActivity:\n"),
    );
    let report = import(&author);
    let issue = failure(&report, "author");
    assert_eq!(issue.line, Some(1));
    assert!(
        issue.reason.contains("\\x00 (U+0000) at character 5"),
        "{}",
        issue.reason
    );

    let text = write_prayer(
        dir.path(),
        "text.txt",
        &format!("Prayer p2 by Ann\n{submitted}\n\nline one\tok\nline\x0btwo\n\nActivity:\n"),
    );
    let issue = failure(&import(&text), "text").clone();
    assert_eq!(issue.line, Some(5), "{issue:?}");
    assert!(issue.reason.contains("\\x0b (U+000B)"));

    let actor = write_prayer(
        dir.path(),
        "actor.txt",
        &format!(
            "Prayer p3 by Ann\n{submitted}\n\nhelp\n\nActivity:\n\
             June 12 2024 at 10:40 - Ann prayed this prayer\n\
             June 12 2024 at 10:41 - Mary\x1bJo prayed this prayer\n"
        ),
    );
    let issue = failure(&import(&actor), "activity actor").clone();
    assert_eq!(issue.line, Some(8), "{issue:?}");

    let nan = write_prayer(
        dir.path(),
        "nan.txt",
        &format!(
            "Prayer p4 by Ann\n{submitted}\nSafety Score: nan\nSafety Flags: []\nCategory: general\n\
             Specificity: unknown\nCategorization Method: ai_full\nCategorization Confidence: 0.5\n\n\
             help\n\nActivity:\n"
        ),
    );
    let issue = failure(&import(&nan), "Safety Score").clone();
    assert_eq!(issue.line, Some(3), "{issue:?}");

    // Tab and CR in the request text are imported verbatim.
    let fine = write_prayer(
        dir.path(),
        "fine.txt",
        &format!("Prayer p5 by Ann\n{submitted}\n\ntab\there\r\nCR\n\nActivity:\n"),
    );
    let report = import(&fine);
    assert!(!report.has_failures(), "{:#?}", report.failures);
    let conn = Connection::open(&db).unwrap();
    assert_eq!(strings(&conn, "SELECT id FROM prayer"), ["p5"]);
    assert_eq!(strings(&conn, "SELECT display_name FROM user"), ["Ann"]);
    assert_no_control_characters_in_keys(&db);
}

#[test]
fn text_archives_refuse_control_characters_in_every_kind_of_record() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("text_archives");
    let at = |d: u32, m: u32| {
        NaiveDate::from_ymd_opt(2024, 3, d)
            .unwrap()
            .and_hms_opt(10, m, 0)
            .unwrap()
    };
    let writer = ArchiveWriter::new(&archives).with_clock(Clock::Fixed(at(1, 0)));
    writer.ensure_dirs().unwrap();
    writer
        .append_user_registration_with_timestamp("Ann", None, at(1, 1))
        .unwrap();
    writer
        .append_user_registration_with_timestamp("John\0Lee", None, at(1, 2))
        .unwrap();
    writer
        .append_user_registration_with_timestamp("Bob", Some("Ann\u{1}"), at(1, 3))
        .unwrap();

    let mut good = PrayerArchive::new("a".repeat(32), "Ann", at(2, 0), "please\tpray");
    good.activities
        .push(PrayerActivity::new(at(2, 5), "Ann", ActivityAction::Prayed));
    writer.create_prayer_archive(&good).unwrap();
    let mut bad_text = PrayerArchive::new("b".repeat(32), "Ann", at(3, 0), "fine");
    bad_text.generated_prayer = Some("Lord,\nhear\u{0}us".into());
    writer.create_prayer_archive(&bad_text).unwrap();
    let mut bad_word = PrayerArchive::new("c".repeat(32), "Ann", at(4, 0), "fine");
    let mut writer_with_block = writer.clone();
    writer_with_block.categorization_metadata_export = true;
    bad_word.categorization = Some(Categorization {
        subject_category: "health\u{7f}".into(),
        safety_score: PyNumber::Int(1),
        ..Categorization::writer_defaults()
    });
    writer_with_block.create_prayer_archive(&bad_word).unwrap();

    let good_id = "a".repeat(32);
    writer
        .append_prayer_mark(&good_id, "Ann", Some(at(5, 0)))
        .unwrap();
    writer
        .append_prayer_mark(&good_id, "Ann\u{1b}[31m", Some(at(5, 1)))
        .unwrap();
    std::fs::create_dir_all(archives.join("sessions")).unwrap();
    std::fs::write(
        archives.join("sessions/2024_03_sessions.txt"),
        "Sessions for March 2024\n\
         Format: created_at|session_id|username|expires_at|device_info|ip_address|is_fully_authenticated\n\n\
         March 01 2024 at 10:00|s1|Ann|March 15 2024 at 10:00|x|1.2.3.4|yes\n\
         March 01 2024 at 10:01|s2|Ann\u{8}|March 15 2024 at 10:01|x|1.2.3.4|yes\n",
    )
    .unwrap();

    let db = dir.path().join("thywill.db");
    let options = TextArchiveOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..TextArchiveOptions::default()
    };
    let report = import_text_archives(&archives, &db, &options, &NoProgress).unwrap();

    let located = |entity: &str, field: &str| -> RecordIssue {
        report
            .failures
            .iter()
            .find(|f| f.entity == entity && f.field.as_deref() == Some(field))
            .unwrap_or_else(|| panic!("no {entity} failure on {field}: {:#?}", report.failures))
            .clone()
    };
    let name = located(entity::USERS, "name");
    assert_eq!(
        (name.file.as_str(), name.line),
        ("users/2024_03_users.txt", Some(4))
    );
    assert!(name.reason.contains("\\x00 (U+0000)"), "{}", name.reason);
    let inviter = located(entity::USERS, "inviter");
    assert_eq!(inviter.line, Some(5));
    let generated = located(entity::PRAYERS, "generated_prayer");
    assert_eq!(
        (generated.file.as_str(), generated.line),
        ("prayers/2024/03/2024_03_03_prayer_at_1000.txt", Some(8))
    );
    let category = located(entity::PRAYERS, "category");
    assert_eq!(category.line, Some(5));
    assert!(
        category.reason.contains("\\x7f (U+007F)"),
        "{}",
        category.reason
    );
    let mark = located(entity::PRAYER_MARKS, "user");
    assert_eq!(mark.file, "prayers/marks/2024_03_marks.txt");
    assert!(mark.line.is_some());
    assert!(mark.reason.contains("\\x1b (U+001B)"), "{}", mark.reason);
    let session = located(entity::SESSIONS, "username");
    assert_eq!(session.line, Some(5));
    assert_eq!(report.failures.len(), 6, "{:#?}", report.failures);

    let conn = Connection::open(&db).unwrap();
    assert_eq!(strings(&conn, "SELECT display_name FROM user"), ["Ann"]);
    assert_eq!(strings(&conn, "SELECT id FROM prayer"), [good_id]);
    assert_eq!(strings(&conn, "SELECT text FROM prayer"), ["please\tpray"]);
    // The prayer file's `prayed` line and the ledger's good line (another minute).
    assert_eq!(
        strings(&conn, "SELECT username FROM prayermark"),
        ["Ann", "Ann"]
    );
    assert_eq!(strings(&conn, "SELECT id FROM session"), ["s1"]);
    assert_no_control_characters_in_keys(&db);
}
