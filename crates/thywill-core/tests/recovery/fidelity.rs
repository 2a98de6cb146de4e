//! Full recovery from the text archives alone gives ThyWill's own database back on every
//! field the text carries: the only differences are the documented ones.

use std::collections::BTreeSet;

use super::support::{full_options, row_counts, test_options, Community};
use crate::support::fixtures;
use thywill_core::progress::NoProgress;
use thywill_core::recovery::compare::table_spec;
use thywill_core::recovery::{compare_databases, full_recovery, test_recovery, Comparison};

/// The tables whose differences the documented gaps explain for each fixture: what
/// ThyWill's live archives never hold (the audit log and notification state only an
/// export-all file carries; the grants made in the admin UI), and `s1-live` has no skips
/// ledger and no `users/user_attributes.txt`.
fn documented_differences(corpus: &str) -> BTreeSet<&'static str> {
    let mut tables: BTreeSet<&'static str> =
        ["authauditlog", "notification_state", "user_roles"].into();
    if corpus == "s1-live" {
        tables.extend(["prayerskip", "user"]);
    }
    tables
}

fn print(corpus: &str, comparison: &Comparison) {
    for table in &comparison.tables {
        if table.is_equal() {
            continue;
        }
        println!(
            "{corpus} {}: live {} rebuilt {} back {} lost {} added {}",
            table.table,
            table.live_rows,
            table.rebuilt_rows,
            table.come_back,
            table.lost,
            table.added
        );
        for d in &table.differences {
            println!("  {:?} {:?}", d.side, d.values);
        }
    }
}

fn check_against_fixture(corpus: &str, comparison: &Comparison) {
    print(corpus, comparison);
    let differing: BTreeSet<&str> = comparison.differing_tables().into_iter().collect();
    let expected = documented_differences(corpus);
    assert_eq!(
        differing.iter().copied().collect::<Vec<_>>(),
        expected.iter().copied().collect::<Vec<_>>(),
        "{corpus}: tables differing beyond the documented gaps"
    );
    for table in expected {
        let spec = table_spec(table).unwrap();
        assert!(
            spec.not_carried.iter().any(|n| (n.what.contains("without")
                || n.what.contains("admin UI"))
                && n.reason.len() > 20),
            "{table}: its documented gaps name what the archive lacks"
        );
        // The gap loses rows; it adds none (the user flags come back as defaults: the
        // same users, other flags).
        let t = comparison.table(table).unwrap();
        assert!(t.lost > 0);
        if table != "user" {
            assert_eq!(t.added, 0, "{table}");
        }
    }
    if corpus == "s1-live" {
        // Only the flags of users/user_attributes.txt differ for users.
        let users = comparison.table("user").unwrap();
        assert_eq!(users.lost, users.added);
        let carried = |d: &thywill_core::recovery::compare::RowDifference| d.values[..4].to_vec();
        let (lost, added): (Vec<_>, Vec<_>) = users
            .differences
            .iter()
            .partition(|d| d.side == thywill_core::recovery::compare::Side::LiveOnly);
        for d in &added {
            assert!(
                lost.iter().any(|l| carried(l) == carried(d)) || lost.len() < users.lost as usize,
                "a user differs beyond the flags: {:?}",
                d.values
            );
        }
        assert!(!added.is_empty());
    }
}

fn from_archives_alone(corpus: &str) {
    let community = Community::copy(corpus);
    std::fs::remove_file(community.db()).unwrap();
    let report = full_recovery(
        &community.archives(),
        &community.db(),
        &full_options(&community.backups()),
        &NoProgress,
    )
    .unwrap();
    assert!(report.installed);
    assert!(!report.previous_database_existed);
    assert!(report.safety_backup.is_none(), "nothing to back up");
    assert_eq!(report.quick_check, ["ok"]);
    assert_eq!(report.recovery_stats["prayers_recovered"], 1000);
    let comparison =
        compare_databases(&fixtures().join(corpus).join("thywill.db"), &community.db()).unwrap();
    check_against_fixture(corpus, &comparison);
    // Nothing beside the new database but itself and the audit log: no rebuild, no side
    // files.
    let mut beside: Vec<String> = std::fs::read_dir(community.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(
        beside,
        [
            "backups",
            "text_archives",
            "thywill-audit.jsonl",
            "thywill.db"
        ]
    );
    // The new file is private (it holds session ids) when there was no file to take after.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(community.db())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn full_recovery_of_s1_from_the_archives_alone_gives_the_fixture_back() {
    from_archives_alone("s1");
}

#[test]
fn full_recovery_of_s1_live_from_the_archives_alone_gives_the_fixture_back() {
    from_archives_alone("s1-live");
}

/// Over the existing database: test-recovery's prediction is what full recovery then does,
/// and the result equals the fixture on every carried field.
fn over_the_existing_database(corpus: &str) {
    let community = Community::copy(corpus);
    let prediction = test_recovery(
        &community.archives(),
        &community.db(),
        &test_options(),
        &NoProgress,
    )
    .unwrap();
    let report = full_recovery(
        &community.archives(),
        &community.db(),
        &full_options(&community.backups()),
        &NoProgress,
    )
    .unwrap();
    assert!(report.installed && report.previous_database_existed);
    let safety = report.safety_backup.as_ref().unwrap();
    assert!(safety
        .path
        .starts_with(community.backups().join("pre_restore")));
    assert_eq!(
        row_counts(&safety.path),
        row_counts(&fixtures().join(corpus).join("thywill.db"))
    );
    // The prediction, table by table: the rows the database now has, and what came back,
    // was lost and was added.
    let after = row_counts(&community.db());
    assert_eq!(prediction.predicted_rows, after, "{corpus}");
    assert_eq!(report.table_rows, after);
    let full = report.comparison.as_ref().unwrap();
    for (predicted, done) in prediction.comparison.tables.iter().zip(&full.tables) {
        assert_eq!(
            (
                predicted.table.as_str(),
                predicted.come_back,
                predicted.lost,
                predicted.added
            ),
            (done.table.as_str(), done.come_back, done.lost, done.added)
        );
    }
    assert_eq!(prediction.recovery_stats, report.recovery_stats);
    let comparison =
        compare_databases(&fixtures().join(corpus).join("thywill.db"), &community.db()).unwrap();
    check_against_fixture(corpus, &comparison);
}

#[test]
fn full_recovery_of_s1_over_the_database_does_what_test_recovery_predicted() {
    over_the_existing_database("s1");
}

#[test]
fn full_recovery_of_s1_live_over_the_database_does_what_test_recovery_predicted() {
    over_the_existing_database("s1-live");
}
