//! `parse(render(record)) == record` for arbitrary records within what the format can
//! represent. The limits (documented in docs/format-fixes.md) are encoded in the strategies:
//! - prayer files keep CRs inside values (only a whole-file CRLF conversion is normalised);
//!   the line-oriented monthly files are read with universal newlines, so no CR there;
//!   no LF in single-line fields;
//! - actors do not contain a predicate phrase (` prayed this prayer`, ` added testimony: `,
//!   ` set `, ` removed `, …) and generic-action actors are one word;
//! - the request text does not contain `\n\nGenerated Prayer:\n`; activity texts contain no
//!   `Activity:` line; an attribute's old value does not contain `' to '`;
//! - registration names do not contain ` joined on invitation from `;
//! - monthly-activity users contain no lowercase ASCII word that starts an action phrase;
//! - ledger: `|` only in an attribute value or a mark/skip user.

use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use thywill_core::archive::activity::MonthlyActivity;
use thywill_core::archive::categorization::Categorization;
use thywill_core::archive::layout::LedgerKind;
use thywill_core::archive::ledger::LedgerRecord;
use thywill_core::archive::prayer::{self, ActivityAction, PrayerActivity, PrayerArchive};
use thywill_core::archive::text::HumanTime;
use thywill_core::archive::users::UserRegistration;

const PHRASES: [&str; 9] = [
    " prayed this prayer",
    " marked this prayer as answered",
    " archived this prayer",
    " restored this prayer",
    " flagged this prayer",
    " added testimony: ",
    " set ",
    " removed ",
    "Activity:",
];

fn time() -> impl Strategy<Value = NaiveDateTime> {
    (1i32..=9999, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60).prop_map(|(y, mo, d, h, mi)| {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    })
}

/// One line of free text: unicode, ` - `, `|`, ` by `, ` at `, quotes, colons, NBSP, U+2028.
fn line_text() -> impl Strategy<Value = String> {
    "([a-zA-Z0-9 éÑ😀中'\"|:.()\u{a0}\u{2028}-]| - | by | at ){0,12}"
}

/// Like [`line_text`], with CRs (as a browser's CRLF leaves them): prayer-file values only.
fn value_text() -> impl Strategy<Value = String> {
    "([a-zA-Z0-9 éÑ😀中'\"|:.()\u{a0}\u{2028}\r-]| - | by | at |\r){0,12}"
}

fn multi_text() -> impl Strategy<Value = String> {
    prop::collection::vec(value_text(), 0..5).prop_map(|v| v.join("\n"))
}

fn actor() -> impl Strategy<Value = String> {
    value_text().prop_filter("actor must not contain a predicate phrase", |s| {
        !PHRASES
            .iter()
            .any(|p| s.contains(p.trim_end()) || s.contains(p))
            && !s.ends_with(" prayed this prayer")
    })
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_éÑ]{1,10}"
}

fn action() -> impl Strategy<Value = (ActivityAction, bool)> {
    prop_oneof![
        Just((ActivityAction::Prayed, false)),
        Just((ActivityAction::Answered, false)),
        Just((ActivityAction::Archived, false)),
        Just((ActivityAction::Restored, false)),
        Just((ActivityAction::Flagged, false)),
        multi_text()
            .prop_filter("no Activity: line", |t| !t.contains("Activity:"))
            .prop_map(|text| (ActivityAction::Testimony { text }, false)),
        (
            word(),
            prop::option::of(
                line_text().prop_filter("non-empty, no ' to '", |o| !o.is_empty()
                    && !o.contains("' to '"))
            ),
            line_text()
        )
            .prop_map(|(name, old, new)| (ActivityAction::SetAttribute { name, old, new }, false)),
        (word(), line_text())
            .prop_map(|(name, old)| (ActivityAction::RemoveAttribute { name, old }, false)),
        (
            prop::sample::select(vec!["unflagged", "deleted", "noted"]),
            prop::option::of("[A-Za-z0-9,.!?éÑ|-]{1,12}")
        )
            .prop_map(|(a, extra)| (
                ActivityAction::Other {
                    action: a.to_string(),
                    extra
                },
                true
            )),
    ]
}

fn activity() -> impl Strategy<Value = PrayerActivity> {
    (time(), actor(), word(), action()).prop_map(
        |(t, actor, one_word, (action, single_word_actor))| {
            PrayerActivity::new(t, if single_word_actor { one_word } else { actor }, action)
        },
    )
}

fn categorization() -> impl Strategy<Value = Categorization> {
    (
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        prop::collection::vec(".{0,6}", 0..4),
        line_text(),
        line_text(),
        line_text(),
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
    )
        .prop_map(|(s, flags, c, sp, m, conf)| Categorization {
            safety_score: s.into(),
            safety_flags: flags.into_iter().map(|f| f.replace('\r', "")).collect(),
            subject_category: c,
            specificity_type: sp,
            categorization_method: m,
            categorization_confidence: conf.into(),
        })
}

fn non_empty_line() -> impl Strategy<Value = String> {
    line_text().prop_filter("non-empty", |s| !s.is_empty())
}

prop_compose! {
    fn prayer_archive()(
        id in "[a-z0-9_]{0,32}|temp|[a-z0-9 ]{1,12}",
        author in value_text(),
        t in time(),
        project_tag in prop::option::of(non_empty_line()),
        target_audience in prop::option::of(non_empty_line()),
        categorization in prop::option::of(categorization()),
        text in multi_text().prop_filter("no generated-prayer marker", |t| !t.contains("\n\nGenerated Prayer:\n")),
        generated in prop::option::of(multi_text().prop_filter("non-empty", |g| !g.is_empty())),
        activities in prop::collection::vec(activity(), 0..6),
    ) -> PrayerArchive {
        let mut p = PrayerArchive::new(id, author, t, text);
        p.project_tag = project_tag;
        p.target_audience = target_audience;
        p.categorization = categorization;
        p.generated_prayer = generated;
        p.activities = activities;
        p
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn prayer_round_trip(p in prayer_archive()) {
        prop_assume!(!p.id.contains(" by "));
        let rendered = p.render();
        let (parsed, diags) = prayer::parse(&rendered, None);
        prop_assert!(diags.is_empty(), "{:?}", diags);
        prop_assert_eq!(&parsed, &p);
        prop_assert_eq!(parsed.render(), rendered);
    }

    #[test]
    fn registration_round_trip(
        t in time(),
        name in line_text().prop_filter("no marker", |n| !n.contains(" joined on invitation from")),
        inviter in prop::option::of(non_empty_line()),
    ) {
        let r = UserRegistration::new(t, name, inviter);
        prop_assert_eq!(UserRegistration::parse_line(&r.render()).unwrap(), r);
    }

    #[test]
    fn monthly_activity_round_trip(
        t in time(),
        user in "[A-Z0-9éÑ中'|. -]{0,12}",
        which in 0usize..9,
        id in "[0-9a-f]{1,32}",
        inviter in line_text(),
        tag in prop::option::of("[^\r\n]{1,8}"),
    ) {
        let (action, tag) = match which {
            0 => (format!("submitted prayer {id}"), tag),
            1 => (format!("prayed for prayer {id}"), tag),
            2 => (format!("marked prayer {id} as answered"), tag),
            3 => (format!("archived prayer {id}"), tag),
            4 => (format!("restored prayer {id}"), tag),
            5 => (format!("flagged prayer {id}"), tag),
            6 => (format!("added testimony for prayer {id}"), tag),
            7 => ("registered directly".to_string(), tag),
            _ => (format!("registered via invitation from {inviter}"), None),
        };
        let e = MonthlyActivity {
            date: Some(t.date()),
            time: t.time(),
            user,
            action,
            tag,
            line: 0,
        };
        prop_assert_eq!(MonthlyActivity::parse_line(&e.render(), Some(t.date())).unwrap(), e);
    }

    #[test]
    fn ledger_round_trip(
        t in time(),
        kind in prop::sample::select(vec![LedgerKind::Attributes, LedgerKind::Marks, LedgerKind::Skips]),
        id in prop::option::of("[a-z0-9]{1,16}"),
        prayer_id in "[a-f0-9]{1,32}",
        name in "[a-z_]{1,12}",
        value in "[^\r\n]{0,16}",
        user in "[^\r\n|]{0,12}",
        user_with_pipes in "[^\r\n]{0,12}",
    ) {
        let attr = kind == LedgerKind::Attributes;
        let r = LedgerRecord {
            kind,
            id: if kind == LedgerKind::Skips { None } else { id },
            timestamp: HumanTime::from_time(t),
            prayer_id,
            attribute_name: attr.then_some(name),
            attribute_value: attr.then_some(value),
            user: if attr { user } else { user_with_pipes },
            line: 0,
        };
        prop_assert_eq!(LedgerRecord::parse_line(kind, &r.render()).unwrap(), r);
    }
}
