//! Retention over synthetic calendars, as snapshots (in the manner of rustic's `forget` tests):
//! each scenario renders every decision to `tests/snapshots/backup_retention/<name>.txt`.
//! Run with `UPDATE_SNAPSHOTS=1` to rewrite them after an intended change, then review the diff.
//! A property test checks the invariants on random calendars.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};
use proptest::prelude::*;
use thywill_core::backup::retention::{plan, Action, Candidate, Reason, RetentionPolicy};
use thywill_core::backup::{BackupKind, Tier};

const HOURLY: BackupKind = BackupKind::Tier(Tier::Hourly);
const DAILY: BackupKind = BackupKind::Tier(Tier::Daily);
const WEEKLY: BackupKind = BackupKind::Tier(Tier::Weekly);
const PRE: BackupKind = BackupKind::PreRestore;

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn c(kind: BackupKind, t: NaiveDateTime, verified: bool) -> Candidate {
    Candidate {
        id: format!("{kind}/{}", t.format("%Y%m%d_%H%M%S")),
        kind,
        timestamp: t,
        verified,
        source: None,
    }
}

fn render(candidates: &[Candidate], now: NaiveDateTime, policy: &RetentionPolicy) -> String {
    let mut out = format!(
        "now {now}  windows: hourly {}h, daily {}d, weekly {}d, pre_restore {}d (keep last {})\n",
        policy.window(HOURLY).num_hours(),
        policy.window(DAILY).num_days(),
        policy.window(WEEKLY).num_days(),
        policy.window(PRE).num_days(),
        policy.pre_restore_keep_last()
    );
    let decisions = plan(candidates, now, policy);
    assert_eq!(decisions.len(), candidates.len());
    for d in &decisions {
        let verified = candidates
            .iter()
            .find(|c| c.id == d.id)
            .map(|c| c.verified)
            .unwrap();
        writeln!(
            out,
            "{:<6} {:<11} {} {} {}",
            match d.action {
                Action::Keep => "keep",
                Action::Delete => "DELETE",
            },
            d.kind.to_string(),
            d.timestamp.format("%a %Y-%m-%d %H:%M:%S"),
            if verified { "v" } else { "-" },
            d.explanation
        )
        .unwrap();
    }
    let deleted = decisions
        .iter()
        .filter(|d| d.action == Action::Delete)
        .count();
    writeln!(
        out,
        "-- {} kept, {deleted} deleted",
        decisions.len() - deleted
    )
    .unwrap();
    out
}

fn check_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/backup_retention")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        // Rewriting instead of checking would pass whatever the code produces.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "UPDATE_SNAPSHOTS rewrites the snapshots instead of checking them; not under CI=true"
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1 and review it\n{actual}",
            path.display()
        )
    });
    assert_eq!(expected, actual, "snapshot {name} differs");
}

/// ThyWill's cron: hourly 09-17 on weekdays, daily 02:00, weekly Sunday 03:00.
fn thywill_calendar(from: NaiveDate, days: i64) -> Vec<Candidate> {
    let mut out = Vec::new();
    for d in 0..days {
        let day = from + Duration::days(d);
        let weekday = day.weekday();
        if !matches!(weekday, Weekday::Sat | Weekday::Sun) {
            for h in 9..=17 {
                out.push(c(HOURLY, day.and_hms_opt(h, 0, 0).unwrap(), true));
            }
        }
        out.push(c(DAILY, day.and_hms_opt(2, 0, 0).unwrap(), true));
        if weekday == Weekday::Sun {
            out.push(c(WEEKLY, day.and_hms_opt(3, 0, 0).unwrap(), true));
        }
    }
    out
}

#[test]
fn monday_morning_after_a_weekend_without_hourlies() {
    // 2025-01-06 is a Monday; the last hourly ran Friday 17:00, 63 h 59 m earlier.
    let cands = thywill_calendar(NaiveDate::from_ymd_opt(2024, 12, 30).unwrap(), 7)
        .into_iter()
        .filter(|c| c.kind == HOURLY)
        .collect::<Vec<_>>();
    let out = render(
        &cands,
        at("2025-01-06 08:59:00"),
        &RetentionPolicy::default(),
    );
    check_snapshot("monday_morning", &out);
}

#[test]
fn exact_boundaries_of_every_window() {
    let now = at("2025-03-01 12:00:00");
    let s = Duration::seconds(1);
    let cands = vec![
        c(HOURLY, now, true),
        c(HOURLY, now - Duration::hours(48), true),
        c(HOURLY, now - Duration::hours(48) - s, true),
        c(HOURLY, now + s, true),
        c(DAILY, now - Duration::days(30), true),
        c(DAILY, now - Duration::days(30) - s, true),
        c(DAILY, now - Duration::days(31), true),
        c(WEEKLY, now - Duration::weeks(12), true),
        c(WEEKLY, now - Duration::weeks(12) - s, true),
    ];
    check_snapshot(
        "boundaries",
        &render(&cands, now, &RetentionPolicy::default()),
    );
}

#[test]
fn a_month_without_backups_keeps_the_last_good_one_of_each_tier() {
    let mut cands = thywill_calendar(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(), 21);
    // The last daily failed its check; the one before is the newest verified.
    let last_daily = cands
        .iter_mut()
        .filter(|c| c.kind == DAILY)
        .max_by_key(|c| c.timestamp)
        .unwrap();
    last_daily.verified = false;
    let out = render(
        &cands,
        at("2025-03-15 02:00:00"),
        &RetentionPolicy::default(),
    );
    check_snapshot("month_gap", &out);
    // Whatever the gap, every tier keeps at least one set.
    for kind in [HOURLY, DAILY, WEEKLY] {
        assert!(out
            .lines()
            .any(|l| l.starts_with("keep") && l.contains(&kind.to_string())));
    }
}

#[test]
fn bursts_and_duplicates_within_seconds() {
    let base = at("2025-05-10 10:00:00");
    let mut cands = Vec::new();
    for i in 0..6 {
        cands.push(c(HOURLY, base + Duration::seconds(i), i % 2 == 0));
    }
    for i in 0..4 {
        cands.push(c(
            HOURLY,
            base - Duration::hours(49) + Duration::seconds(i),
            true,
        ));
    }
    check_snapshot(
        "bursts",
        &render(
            &cands,
            base + Duration::hours(47),
            &RetentionPolicy::default(),
        ),
    );
}

#[test]
fn nothing_verified_keeps_the_newest_anyway() {
    let now = at("2025-06-01 00:00:00");
    let cands = (1..=5)
        .map(|d| c(DAILY, now - Duration::days(30 + d), false))
        .collect::<Vec<_>>();
    let out = render(&cands, now, &RetentionPolicy::default());
    check_snapshot("none_verified", &out);
    assert_eq!(out.lines().filter(|l| l.starts_with("keep")).count(), 1);
}

#[test]
fn pre_restore_sets_have_their_own_rule() {
    let now = at("2025-06-01 00:00:00");
    let cands = [1, 5, 20, 29, 45, 60, 90, 400]
        .iter()
        .map(|d| c(PRE, now - Duration::days(*d), *d != 5))
        .collect::<Vec<_>>();
    check_snapshot(
        "pre_restore",
        &render(&cands, now, &RetentionPolicy::default()),
    );
    let old_only = [45, 60, 90, 400, 500]
        .iter()
        .map(|d| c(PRE, now - Duration::days(*d), true))
        .collect::<Vec<_>>();
    check_snapshot(
        "pre_restore_old_only",
        &render(&old_only, now, &RetentionPolicy::default()),
    );
}

#[test]
fn configurable_windows() {
    let policy = RetentionPolicy::new(24, 7, 4)
        .unwrap()
        .with_pre_restore(3, 1)
        .unwrap();
    let mut cands = thywill_calendar(NaiveDate::from_ymd_opt(2025, 2, 1).unwrap(), 35);
    cands.push(c(PRE, at("2025-02-20 10:00:00"), true));
    cands.push(c(PRE, at("2025-03-06 10:00:00"), true));
    check_snapshot(
        "custom_policy",
        &render(&cands, at("2025-03-07 12:00:00"), &policy),
    );
}

#[test]
fn clock_set_back_deletes_nothing() {
    let cands = thywill_calendar(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(), 10);
    let out = render(
        &cands,
        at("2024-12-01 00:00:00"),
        &RetentionPolicy::default(),
    );
    assert!(!out.contains("DELETE"));
    assert!(out.contains("in the future"));
}

proptest! {
    #![proptest_config(crate::support::properties::config(256))]

    #[test]
    fn retention_invariants(
        offsets in proptest::collection::vec((0u8..4, -86_400i64..200 * 86_400, any::<bool>()), 0..60),
    ) {
        let now = at("2025-06-01 12:00:00");
        let policy = RetentionPolicy::default();
        let kinds = [HOURLY, DAILY, WEEKLY, PRE];
        let mut cands: Vec<Candidate> = offsets
            .iter()
            .map(|(k, off, v)| c(kinds[*k as usize], now - Duration::seconds(*off), *v))
            .collect();
        cands.sort_by(|a, b| a.id.cmp(&b.id));
        cands.dedup_by(|a, b| a.id == b.id);
        let decisions = plan(&cands, now, &policy);
        prop_assert_eq!(decisions.len(), cands.len());
        for kind in kinds {
            let of_kind: Vec<&Candidate> = cands.iter().filter(|c| c.kind == kind && c.timestamp <= now).collect();
            let newest_verified = of_kind.iter().filter(|c| c.verified).max_by_key(|c| c.timestamp);
            if let Some(nv) = newest_verified {
                let d = decisions.iter().find(|d| d.id == nv.id).unwrap();
                prop_assert_eq!(d.action, Action::Keep);
            }
            if !of_kind.is_empty() {
                prop_assert!(decisions.iter().any(|d| d.kind == kind && d.action == Action::Keep));
            }
        }
        for d in &decisions {
            let age = now.signed_duration_since(d.timestamp);
            if d.action == Action::Delete {
                prop_assert!(age > policy.window(d.kind), "deleted within window: {:?}", d);
                let expired = matches!(d.reason, Reason::Expired { .. });
                prop_assert!(expired, "delete without expiry: {:?}", d);
            }
            if age <= policy.window(d.kind) {
                prop_assert_eq!(d.action, Action::Keep);
            }
        }
    }
}

/// Two databases backed up into one root: each keeps its own newest verified set, and a newer
/// verified set of one never makes the other's last good set expendable.
#[test]
fn sources_are_judged_apart() {
    let now = at("2025-06-01 00:00:00");
    let of = |source: &str, t: &str, verified: bool| Candidate {
        source: Some(source.to_string()),
        id: format!("{source}/{t}"),
        ..c(DAILY, at(t), verified)
    };
    let candidates = [
        of("thywill:/srv/a/thywill.db", "2025-01-01 02:00:00", true),
        of("thywill:/srv/a/thywill.db", "2025-01-02 02:00:00", true),
        of("other:/srv/a/email.db", "2025-03-01 02:00:00", true),
        Candidate {
            source: None,
            ..c(DAILY, at("2025-02-01 02:00:00"), true)
        },
    ];
    let decisions = plan(&candidates, now, &RetentionPolicy::default());
    let fate = |id: &str| {
        decisions
            .iter()
            .find(|d| d.id == id)
            .map(|d| (d.action, d.explanation.clone()))
            .unwrap()
    };
    let (action, why) = fate("thywill:/srv/a/thywill.db/2025-01-02 02:00:00");
    assert_eq!(action, Action::Keep);
    assert!(
        why.contains("newest verified") && why.contains("/srv/a/thywill.db"),
        "{why}"
    );
    assert_eq!(
        fate("thywill:/srv/a/thywill.db/2025-01-01 02:00:00").0,
        Action::Delete
    );
    assert_eq!(
        fate("other:/srv/a/email.db/2025-03-01 02:00:00").0,
        Action::Keep
    );
    let unrecorded = format!("{DAILY}/20250201_020000");
    let (action, why) = fate(&unrecorded);
    assert_eq!(action, Action::Keep);
    assert!(why.contains("unrecorded source"), "{why}");
}
