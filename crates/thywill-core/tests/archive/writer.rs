//! The write API produces the exact bytes ThyWill writes (the format's worked examples and test vectors).

use std::fs;

use chrono::{NaiveDate, NaiveDateTime};
use thywill_core::archive::categorization::Categorization;
use thywill_core::archive::prayer::{self, ActivityAction, PrayerArchive};
use thywill_core::archive::writer::{ArchiveWriter, Clock};

fn t(d: u32, h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 7, d)
        .unwrap()
        .and_hms_opt(h, m, 7)
        .unwrap()
}

fn writer(dir: &std::path::Path) -> ArchiveWriter {
    ArchiveWriter::new(dir).with_clock(Clock::Fixed(t(6, 9, 5)))
}

#[test]
fn prayer_file_example() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = writer(dir.path());
    w.categorization_metadata_export = true;
    let mut p = PrayerArchive::new(
        "temp",
        "Mary Jo",
        t(6, 9, 5),
        "Please pray for my mom.\r\nShe is sick: really.\n\nThanks",
    );
    p.generated_prayer = Some("Lord, heal her.\n\nAmen.".into());
    p.categorization = Some(Categorization {
        safety_flags: vec!["a".into(), "é".into()],
        subject_category: "health".into(),
        specificity_type: "specific".into(),
        ..Categorization::disabled()
    });
    let path = w.create_prayer_archive(&p).unwrap().unwrap();
    assert!(path.ends_with("prayers/2025/07/2025_07_06_prayer_at_0905.txt"));
    let a = |actor: &str, act: &str, extra: Option<&str>, old: Option<&str>, new: Option<&str>| {
        w.append_prayer_activity(
            &path,
            actor,
            &ActivityAction::from_thywill(act, extra, old, new),
        )
        .unwrap()
    };
    a("Bob Smith", "prayed", None, None, None);
    w.append_prayer_activity_at(&path, "Ann", &ActivityAction::Prayed, t(6, 23, 59))
        .unwrap();
    a("Mary Jo", "answered", Some("ignored"), None, None);
    a("Mary Jo", "testimony", Some("God is good"), None, None);
    a("Mary Jo", "archived", None, None, None);
    a("Mary Jo", "restored", None, None, None);
    a("Mod", "flagged", None, None, None);
    a(
        "Mary Jo",
        "set_answer_date",
        None,
        Some("2025-01-01"),
        Some("2025-02-02"),
    );
    a("Mary Jo", "set_answered", None, None, Some("true"));
    a("Mary Jo", "remove_archived", None, Some("true"), None);
    a("Mod", "unflagged", Some("because"), None, None);
    a("Mod", "unflagged", None, None, None);
    let expected = "Prayer temp by Mary Jo\nSubmitted July 06 2025 at 09:05\nSafety Score: 1.0\n\
Safety Flags: [\"a\", \"\\u00e9\"]\nCategory: health\nSpecificity: specific\nCategorization Method: disabled\n\
Categorization Confidence: 0.0\n\nPlease pray for my mom.\r\nShe is sick: really.\n\nThanks\n\n\
Generated Prayer:\nLord, heal her.\n\nAmen.\n\nActivity:\n\
July 06 2025 at 09:05 - Bob Smith prayed this prayer\n\
July 06 2025 at 23:59 - Ann prayed this prayer\n\
July 06 2025 at 09:05 - Mary Jo marked this prayer as answered\n\
July 06 2025 at 09:05 - Mary Jo added testimony: God is good\n\
July 06 2025 at 09:05 - Mary Jo archived this prayer\n\
July 06 2025 at 09:05 - Mary Jo restored this prayer\n\
July 06 2025 at 09:05 - Mod flagged this prayer\n\
July 06 2025 at 09:05 - Mary Jo set answer_date from '2025-01-01' to '2025-02-02'\n\
July 06 2025 at 09:05 - Mary Jo set answered to 'true'\n\
July 06 2025 at 09:05 - Mary Jo removed archived (was 'true')\n\
July 06 2025 at 09:05 - Mod unflagged: because\n\
July 06 2025 at 09:05 - Mod unflagged\n";
    let bytes = fs::read(&path).unwrap();
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expected);

    // The fixed parser reads it back: full names, verbatim text (the CR kept), no
    // trailing newline on the generated prayer, every action typed.
    let (parsed, diags) = prayer::parse_bytes(&bytes, None);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        parsed.text,
        "Please pray for my mom.\r\nShe is sick: really.\n\nThanks"
    );
    assert_eq!(
        parsed.generated_prayer.as_deref(),
        Some("Lord, heal her.\n\nAmen.")
    );
    assert_eq!(parsed.activities.len(), 12);
    assert_eq!(parsed.activities[0].actor, "Bob Smith");
    assert_eq!(
        parsed.activities[7].action,
        ActivityAction::SetAttribute {
            name: "answer_date".into(),
            old: Some("2025-01-01".into()),
            new: "2025-02-02".into()
        }
    );
    assert_eq!(
        parsed.activities[9].action,
        ActivityAction::RemoveAttribute {
            name: "archived".into(),
            old: "true".into()
        }
    );
    assert_eq!(
        parsed.activities[10].action,
        ActivityAction::Other {
            action: "unflagged".into(),
            extra: Some("because".into())
        }
    );
    assert_eq!(parsed.categorization, p.categorization);
    assert_eq!(parsed.render().as_bytes(), bytes.as_slice());

    // Same-minute second prayer with project and audience, categorization export off.
    w.categorization_metadata_export = false;
    let mut q = PrayerArchive::new("abc123", "Zed", t(6, 9, 5), "No gen");
    q.project_tag = Some("proj".into());
    q.target_audience = Some("all".into());
    let path2 = w.create_prayer_archive(&q).unwrap().unwrap();
    assert!(path2.ends_with("2025_07_06_prayer_at_0905_2.txt"));
    assert_eq!(
        fs::read_to_string(&path2).unwrap(),
        "Prayer abc123 by Zed\nSubmitted July 06 2025 at 09:05\nProject: proj\nAudience: all\n\nNo gen\n\nActivity:\n"
    );
}

#[test]
fn archive_first_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let w = writer(dir.path());
    let mut p = PrayerArchive::new("42abc", "x", t(6, 3, 4), "A\rB\r\nC Prayer temp by x");
    p.generated_prayer = Some("G".into());
    let path = w.create_prayer_archive_first(&p).unwrap().unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "Prayer 42abc by x\nSubmitted July 06 2025 at 03:04\n\nA\nB\nC Prayer 42abc by x\n\nGenerated Prayer:\nG\n\nActivity:\n"
    );
    // Legacy/heal creation keeps the text verbatim.
    let legacy = w.create_prayer_archive(&p).unwrap().unwrap();
    assert!(fs::read_to_string(&legacy)
        .unwrap()
        .contains("\n\nA\rB\r\nC Prayer temp by x\n\n"));
}

#[test]
fn monthly_files() {
    let dir = tempfile::tempdir().unwrap();
    let w = writer(dir.path());
    w.append_user_registration("Mary Jo", Some("Admin"))
        .unwrap();
    let users = w
        .append_user_registration("Bob Smith", Some(""))
        .unwrap()
        .unwrap();
    assert_eq!(
        fs::read_to_string(users).unwrap(),
        "User Registrations for July 2025\n\nJuly 06 2025 at 09:05 - Mary Jo joined on invitation from Admin\nJuly 06 2025 at 09:05 - Bob Smith joined directly\n"
    );

    w.append_monthly_activity_at(
        "submitted prayer abc123",
        "Zed",
        Some("abc123"),
        Some("proj"),
        t(6, 9, 5),
    )
    .unwrap();
    w.append_monthly_activity_at(
        "prayed for prayer abc123",
        "Bob Smith",
        Some("abc123"),
        None,
        t(6, 9, 5),
    )
    .unwrap();
    w.append_monthly_activity_at(
        "registered via invitation from Admin",
        "Mary Jo",
        None,
        None,
        t(7, 0, 1),
    )
    .unwrap();
    let act = w
        .append_monthly_activity_at("registered directly", "X", None, None, t(7, 0, 1))
        .unwrap()
        .unwrap();
    assert_eq!(
        fs::read_to_string(&act).unwrap(),
        "Activity for July 2025\n\n\nJuly 06 2025\n09:05 - Zed submitted prayer abc123 (proj)\n09:05 - Bob Smith prayed for prayer abc123\n\nJuly 07 2025\n00:01 - Mary Jo registered via invitation from Admin\n00:01 - X registered directly\n"
    );
    // An inviter named like the next day's date suppresses that day's header (KEEP).
    w.append_monthly_activity_at(
        "registered via invitation from July 08 2025",
        "Kim",
        None,
        None,
        t(7, 9, 0),
    )
    .unwrap();
    w.append_monthly_activity_at("registered directly", "Amy", None, None, t(8, 10, 0))
        .unwrap();
    assert!(fs::read_to_string(&act)
        .unwrap()
        .ends_with("09:00 - Kim registered via invitation from July 08 2025\n10:00 - Amy registered directly\n"));
    // The prayer-id rewrite of a test-style action.
    w.append_monthly_activity_at("answered 456", "Q", Some("456"), None, t(8, 10, 0))
        .unwrap();
    assert!(fs::read_to_string(&act)
        .unwrap()
        .ends_with("10:00 - Q answered prayer 456\n"));

    w.append_prayer_attribute(
        "abc123",
        "answered",
        "true",
        Some("Mary Jo"),
        Some(t(6, 10, 0)),
    )
    .unwrap();
    let attrs = w
        .append_prayer_attribute("abc123", "answer_testimony", "a|b", None, Some(t(6, 10, 0)))
        .unwrap()
        .unwrap();
    assert_eq!(
        fs::read_to_string(attrs).unwrap(),
        "Prayer Attributes for July 2025\nFormat: timestamp|prayer_id|attribute_name|attribute_value|user_id\n\nJuly 06 2025 at 10:00|abc123|answered|true|Mary Jo\nJuly 06 2025 at 10:00|abc123|answer_testimony|a|b|system\n"
    );
    let marks = w.append_prayer_mark("p1", "Wei T.", None).unwrap().unwrap();
    assert_eq!(
        fs::read_to_string(marks).unwrap(),
        "Prayer Marks for July 2025\nFormat: timestamp|prayer_id|user_id\n\nJuly 06 2025 at 09:05|p1|Wei T.\n"
    );
    let skips = w
        .append_prayer_skip("p1", "Zoltán Kovács", None)
        .unwrap()
        .unwrap();
    assert!(fs::read_to_string(skips)
        .unwrap()
        .starts_with("Prayer Skips for July 2025\nFormat: timestamp|prayer_id|user_id\n\n"));
}

#[test]
fn disabled_writer_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = writer(dir.path());
    w.enabled = false;
    assert!(w.append_user_registration("A", None).unwrap().is_none());
    assert!(w
        .create_prayer_archive(&PrayerArchive::new("1", "A", t(6, 1, 1), "x"))
        .unwrap()
        .is_none());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    w.enabled = true;
    // Empty paths and the disabled-archive placeholder are skipped, as ThyWill skips them.
    w.append_prayer_activity(std::path::Path::new(""), "A", &ActivityAction::Prayed)
        .unwrap();
    w.append_prayer_activity(
        std::path::Path::new("disabled_archive_for_prayer_42"),
        "A",
        &ActivityAction::Prayed,
    )
    .unwrap();
    assert!(!std::path::Path::new("disabled_archive_for_prayer_42").exists());
    assert!(thywill_core::archive::writer::thywill_flag("TRUE"));
    assert!(!thywill_core::archive::writer::thywill_flag("1"));
    assert!(!thywill_core::archive::writer::thywill_flag("yes"));
}
