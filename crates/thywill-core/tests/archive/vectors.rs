//! The format's test vectors (A: prayer files, B: users/activity/attributes) for both the fixed
//! parser (`prayer::parse`) and ThyWill's own reader (`prayer::parse_thywill`).

use thywill_core::archive::prayer::{self, ActivityAction, PrayerArchive, ThyWillId};
use thywill_core::archive::timestamp::HumanTime;
use thywill_core::pycompat::datetime::strptime_ts_h;

fn file(text: &str, generated: Option<&str>) -> String {
    let mut p = PrayerArchive::new(
        "42abc",
        "Mary Jo",
        chrono::NaiveDate::from_ymd_opt(2025, 7, 6)
            .unwrap()
            .and_hms_opt(3, 4, 0)
            .unwrap(),
        text,
    );
    p.generated_prayer = generated.map(str::to_string);
    p.render()
}

fn fixed(s: &str) -> PrayerArchive {
    let (p, d) = prayer::parse(s, None);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(p.render(), s, "round trip");
    p
}

#[test]
fn multiline_request_with_blank_and_colon_lines() {
    let text = "Dear God: help\nno colon here\n\n  indented  \nCategory: urgent";
    let s = file(text, Some("G"));
    assert!(s.contains(text));
    let t = prayer::parse_thywill(&s);
    assert_eq!(
        t.original_request.as_deref(),
        Some("no colon here\nindented")
    );
    assert_eq!(fixed(&s).text, text);
    assert_eq!(
        thywill_core::archive::categorization::parse_thywill(&s).subject_category,
        "urgent"
    );
}

#[test]
fn request_containing_activity_line() {
    let text = "Line one\nActivity:\nJanuary 01 2025 at 10:00 - Eve prayed this prayer\nmore";
    let s = file(text, None);
    let t = prayer::parse_thywill(&s);
    assert_eq!(t.original_request.as_deref(), Some("Line one"));
    assert_eq!(t.activities.len(), 1);
    assert_eq!(t.activities[0].user, "Eve");
    assert_eq!(t.activities[0].action, "prayed");
    let p = fixed(&s);
    assert_eq!(p.text, text);
    assert!(p.activities.is_empty());
}

#[test]
fn generated_prayer_containing_activity_line() {
    let s = file("x", Some("Lord\nActivity:\nAmen"));
    assert_eq!(
        prayer::parse_thywill(&s).generated_prayer.as_deref(),
        Some("Lord")
    );
    assert_eq!(
        fixed(&s).generated_prayer.as_deref(),
        Some("Lord\nActivity:\nAmen")
    );
}

#[test]
fn title_lookalikes_in_text_and_generated() {
    let s = file("Prayer for my mom by the sea\nplease", Some("G"));
    let t = prayer::parse_thywill(&s);
    assert_eq!(t.id, Some(ThyWillId::Str("for my mom".into())));
    assert_eq!(t.author.as_deref(), Some("the sea"));
    assert_eq!(t.original_request.as_deref(), Some("please"));
    let p = fixed(&s);
    assert_eq!((p.id.as_str(), p.author.as_str()), ("42abc", "Mary Jo"));
    assert_eq!(p.text, "Prayer for my mom by the sea\nplease");

    let s = file("x", Some("Prayer of healing by grace\nAmen"));
    let t = prayer::parse_thywill(&s);
    assert_eq!(t.id, Some(ThyWillId::Str("of healing".into())));
    assert_eq!(t.generated_prayer.as_deref(), Some("Amen\n"));
    assert_eq!(
        fixed(&s).generated_prayer.as_deref(),
        Some("Prayer of healing by grace\nAmen")
    );
}

#[test]
fn author_containing_by() {
    let s = "Prayer 42abc by Stand by Me\nSubmitted July 06 2025 at 09:05\n\nx\n\nActivity:\n";
    assert_eq!(prayer::parse_thywill(s).author.as_deref(), Some("Stand"));
    assert_eq!(fixed(s).author, "Stand by Me");
}

#[test]
fn generated_round_trip_empty_request_no_generated() {
    let s = file("x", Some("Lord, heal her.\n\nAmen."));
    assert!(s.contains("Generated Prayer:\nLord, heal her.\n\nAmen.\n\nActivity:"));
    assert_eq!(
        prayer::parse_thywill(&s).generated_prayer.as_deref(),
        Some("Lord, heal her.\n\nAmen.\n")
    );
    assert_eq!(
        fixed(&s).generated_prayer.as_deref(),
        Some("Lord, heal her.\n\nAmen.")
    );

    let s = file("", Some("G"));
    assert!(s.contains("at 03:04\n\n\n\nGenerated Prayer:"));
    assert_eq!(prayer::parse_thywill(&s).original_request, None);
    assert_eq!(fixed(&s).text, "");

    let s = file("", None);
    assert_eq!(fixed(&s).generated_prayer, None);
    assert_eq!(fixed(&s).text, "");
}

#[test]
fn ids() {
    let s = "Prayer 00123 by A\nSubmitted July 06 2025 at 09:05\n\nx\n\nActivity:\n";
    assert_eq!(prayer::parse_thywill(s).id, Some(ThyWillId::Int(123)));
    assert_eq!(fixed(s).id, "00123");
    let s = s.replace("00123", "1_000");
    assert_eq!(prayer::parse_thywill(&s).id, Some(ThyWillId::Int(1000)));
    let s = s.replace("1_000", "temp");
    assert_eq!(fixed(&s).id, "temp");
}

#[test]
fn headerless_fragment() {
    let s = "July 06 2025 at 09:05 - Bob prayed this prayer\n";
    assert!(prayer::parse_thywill(s).is_empty());
    let p = fixed(s);
    assert!(p.fragment);
    assert_eq!(p.activities.len(), 1);
    assert_eq!(p.activities[0].actor, "Bob");
}

#[test]
fn bom_is_stripped() {
    let s = "\u{feff}Prayer 42abc by A\nSubmitted July 06 2025 at 09:05\n\nx\n\nActivity:\n";
    let t = prayer::parse_thywill(s);
    assert_eq!(t.id, None);
    let (p, d) = prayer::parse_bytes(s.as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(p.id, "42abc");
    assert_eq!(p.render(), s.trim_start_matches('\u{feff}'));
}

#[test]
fn multiline_testimony() {
    let s = "Prayer 42abc by A\nSubmitted July 06 2025 at 09:05\n\nx\n\nActivity:\n\
July 06 2025 at 09:05 - Ann added testimony: line1\r\nline2 - at x\n";
    let t = prayer::parse_thywill(s);
    assert_eq!(t.activities.len(), 2);
    assert_eq!(t.activities[1].user, "at");
    assert_eq!(t.activities[1].action, "unknown");
    let (p, d) = prayer::parse(s, None);
    assert!(d.is_empty());
    assert_eq!(p.activities.len(), 1);
    // The CRLF the browser sent is kept: the record re-renders to the same bytes.
    assert_eq!(
        p.activities[0].action,
        ActivityAction::Testimony {
            text: "line1\r\nline2 - at x".into()
        }
    );
    assert_eq!(p.render(), s);
}

#[test]
fn testimony_phrases() {
    let s = "Prayer 42abc by A\nSubmitted July 06 2025 at 09:05\n\nx\n\nActivity:\n\
July 06 2025 at 09:05 - Ann added testimony: we prayed this prayer daily\n\
July 06 2025 at 09:05 - Ann Lee added testimony: great: yes\n";
    assert_eq!(prayer::parse_thywill(s).activities[0].action, "prayed");
    let p = fixed(s);
    assert_eq!(
        p.activities[0].action,
        ActivityAction::Testimony {
            text: "we prayed this prayer daily".into()
        }
    );
    assert_eq!(p.activities[1].actor, "Ann Lee");
    assert_eq!(
        p.activities[1].action,
        ActivityAction::Testimony {
            text: "great: yes".into()
        }
    );
}

#[test]
fn multiword_and_unicode_actors() {
    let names = [
        "Bob Smith",
        "Zoë Ñ",
        "Mary - Jo",
        "Zoë\u{a0}Ñ",
        "Stand by Me",
        "O'Brien \"Jr\" | x",
        "",
    ];
    let mut s =
        String::from("Prayer 42abc by A\nSubmitted July 06 2025 at 09:05\n\nx\n\nActivity:\n");
    for n in names {
        s.push_str(&format!("July 06 2025 at 09:05 - {n} prayed this prayer\n"));
    }
    let t = prayer::parse_thywill(&s);
    let firsts: Vec<&str> = t.activities.iter().map(|a| a.user.as_str()).collect();
    assert_eq!(
        firsts,
        ["Bob", "Zoë", "Mary", "Zoë", "Stand", "O'Brien", "prayed"]
    );
    let p = fixed(&s);
    let actors: Vec<&str> = p.activities.iter().map(|a| a.actor.as_str()).collect();
    assert_eq!(actors, names);
}

#[test]
fn heal_attribute_lines_are_typed() {
    let s = "Prayer 42abc by A\nSubmitted July 06 2025 at 09:05\n\nx\n\nActivity:\n\
July 06 2025 at 09:05 - Jo set answer_date from '2025-01-01' to '2025-02-02'\n\
July 06 2025 at 09:05 - Jo Ann set answer_testimony to 'it's ' to 'x''\n\
July 06 2025 at 09:05 - Jo removed archived (was 'true')\n";
    let t = prayer::parse_thywill(s);
    assert!(t.activities.iter().all(|a| a.action == "unknown"));
    let p = fixed(s);
    assert_eq!(p.activities[1].actor, "Jo Ann");
    assert_eq!(
        p.activities[1].action,
        ActivityAction::SetAttribute {
            name: "answer_testimony".into(),
            old: None,
            new: "it's ' to 'x'".into()
        }
    );
    assert_eq!(p.activities[2].action.action_name(), "remove_archived");
}

#[test]
fn timestamp_tolerance() {
    assert!(strptime_ts_h("june 1 2024 AT 9:5").is_some());
    assert!(strptime_ts_h("June  01 2024\tat 10:00").is_some());
    for bad in [
        "June 01 2024 at 10:00:33",
        "Jun 01 2024 at 10:00",
        "2025-07-06T09:05:00",
    ] {
        assert!(strptime_ts_h(bad).is_none(), "{bad}");
    }
    // A lenient timestamp is kept verbatim, so the line re-renders identically.
    let s = "Prayer 42abc by A\nSubmitted june 1 2024 AT 9:5\n\nx\n\nActivity:\n\
june 1 2024 AT 9:5 - Eve prayed this prayer\n";
    let p = fixed(s);
    assert_eq!(p.submitted, HumanTime::parse("june 1 2024 AT 9:5"));
    assert!(p.created_at().is_some());
}

#[test]
fn crlf_file_parses_like_lf() {
    let s = file("a\nb", Some("G"));
    let (p, d) = prayer::parse_bytes(s.replace('\n', "\r\n").as_bytes(), None);
    assert!(d.is_empty());
    assert_eq!(p.render(), s);
}

#[test]
fn damaged_files_give_located_diagnostics() {
    let (_, d) = prayer::parse(
        "Prayer 1 by A\nSubmitted nope\n\nx\n\nActivity:\ngarbage\n",
        None,
    );
    let lines: Vec<usize> = d.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![2, 7]);
    let (_, d) = prayer::parse_bytes(
        b"Prayer 1 by A\nSubmitted July 06 2025 at 09:05\n\n\xff\n",
        None,
    );
    assert_eq!(d[0].line, 4);
    assert!(d.iter().any(|d| d.reason.contains("Activity:")));
}

#[test]
fn archived_then_restored_are_both_typed() {
    let s = "Prayer 42abc by A\nSubmitted July 06 2025 at 09:05\n\nx\n\nActivity:\n\
July 06 2025 at 09:05 - Mod archived this prayer\n\
July 06 2025 at 09:06 - Mod restored this prayer\n";
    let p = fixed(s);
    let actions: Vec<_> = p.activities.iter().map(|a| a.action.clone()).collect();
    assert_eq!(
        actions,
        vec![ActivityAction::Archived, ActivityAction::Restored]
    );
}

#[test]
fn duplicate_registration_and_heal_backfill_into_an_old_month() {
    use thywill_core::archive::users;
    use thywill_core::archive::writer::{ArchiveWriter, Clock};
    let dir = tempfile::tempdir().unwrap();
    let july = chrono::NaiveDate::from_ymd_opt(2025, 7, 6)
        .unwrap()
        .and_hms_opt(9, 5, 0)
        .unwrap();
    let march = chrono::NaiveDate::from_ymd_opt(2025, 3, 1)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap();
    let w = ArchiveWriter::new(dir.path()).with_clock(Clock::Fixed(july));
    w.append_user_registration_with_timestamp(
        "Late",
        None,
        chrono::NaiveDate::from_ymd_opt(2025, 3, 20)
            .unwrap()
            .and_hms_opt(1, 0, 0)
            .unwrap(),
    )
    .unwrap();
    w.append_user_registration("Ann", None).unwrap();
    w.append_user_registration("Ann", None).unwrap(); // re-registration appends again (KEEP)
    let path = w
        .append_user_registration_with_timestamp("Early", Some("Ann"), march)
        .unwrap()
        .unwrap();
    assert!(path.ends_with("users/2025_03_users.txt"));
    let names: Vec<String> = users::parse_monthly(
        std::fs::File::open(&path)
            .map(std::io::BufReader::new)
            .unwrap(),
        Some(&path),
    )
    .map(|r| r.unwrap().name)
    .collect();
    assert_eq!(
        names,
        ["Late", "Early"],
        "appended at the end, not in time order"
    );
    let july_file = dir.path().join("users/2025_07_users.txt");
    assert_eq!(
        std::fs::read_to_string(july_file)
            .unwrap()
            .matches("Ann joined directly")
            .count(),
        2
    );
}

#[test]
fn ledger_values_with_equals_sign_are_kept() {
    use thywill_core::archive::layout::LedgerKind;
    use thywill_core::archive::ledger;
    let data = "Prayer Attributes for July 2025\nFormat: timestamp|prayer_id|attribute_name|attribute_value|user_id\n\n\
July 06 2025 at 10:00|abc123|answer_testimony|x=y|system\n";
    let recs: Vec<_> =
        ledger::parse_monthly(LedgerKind::Attributes, data.as_bytes(), None).collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(
        recs[0].as_ref().unwrap().attribute_value.as_deref(),
        Some("x=y")
    );
}

#[test]
fn stored_relative_path() {
    use thywill_core::archive::layout::{prayer_dir, prayer_file_name, stored_path};
    let t = chrono::NaiveDate::from_ymd_opt(2025, 7, 6)
        .unwrap()
        .and_hms_opt(9, 5, 0)
        .unwrap();
    let p = prayer_dir(std::path::Path::new("./text_archives"), &t).join(prayer_file_name(&t, 2));
    assert_eq!(
        stored_path(&p),
        "text_archives/prayers/2025/07/2025_07_06_prayer_at_0905_2.txt"
    );
}
