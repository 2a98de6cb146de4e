//! recovery-report: per table the share the archives bring back, the newest verified
//! backup, the archive's capability by its records, one verdict; read-only.

use super::support::{tree_state, Community};
use thywill_core::backup::{self, CreateOptions, Tier};
use thywill_core::db::ArchiveTimeZone;
use thywill_core::progress::NoProgress;
use thywill_core::recovery::{
    recovery_report, ArchiveCapability, Readiness, ReadinessReasonKind, RecoveryReport,
    RecoveryReportOptions,
};

fn run(community: &Community) -> RecoveryReport {
    let mut options = RecoveryReportOptions::new(community.backups());
    options.time_zone = ArchiveTimeZone::Utc;
    let before = tree_state(community.dir.path());
    let report = recovery_report(
        &community.archives(),
        &community.db(),
        &options,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        tree_state(community.dir.path()),
        before,
        "the report changed something"
    );
    for e in &report.entities {
        println!(
            "{}: live {} back {} lost {} share {:?}",
            e.entity, e.live_rows, e.recoverable_rows, e.lost_rows, e.share
        );
    }
    println!(
        "{:?} {:?} {:?}",
        report.capability, report.readiness, report.reasons
    );
    report
}

fn share(report: &RecoveryReport, table: &str) -> Option<f64> {
    report
        .entities
        .iter()
        .find(|e| e.entity == table)
        .unwrap()
        .share
}

fn reasons(report: &RecoveryReport) -> Vec<ReadinessReasonKind> {
    report.reasons.iter().map(|r| r.kind).collect()
}

fn take_backup(community: &Community) -> String {
    backup::create(
        &CreateOptions::new(community.db(), community.backups(), Tier::Daily),
        &NoProgress,
    )
    .unwrap()
    .name
}

fn expected_shares(corpus: &str) {
    let community = Community::copy(corpus);
    let report = run(&community);
    for table in [
        "prayer",
        "prayermark",
        "prayer_activity_log",
        "prayer_attributes",
    ] {
        assert_eq!(share(&report, table), Some(1.0), "{corpus} {table}");
    }
    // What the importer does not bring back yet (the auth audit log, notification state,
    // the grants made in the admin UI) is counted as lost.
    assert_eq!(share(&report, "authauditlog"), Some(0.0));
    assert_eq!(share(&report, "notification_state"), Some(0.0));
    let grants = report
        .entities
        .iter()
        .find(|e| e.entity == "user_roles")
        .unwrap();
    assert_eq!(grants.lost_rows, 2);
    let users = report.entities.iter().find(|e| e.entity == "user").unwrap();
    assert_eq!(users.missing_rows, 0);
    if corpus == "s1-live" {
        // No users/user_attributes.txt: every user comes back, 65 without their flags.
        assert_eq!((users.live_rows, users.lost_rows), (100, 65));
        // No skips ledger: no skip comes back, and the reason is documented.
        let skips = report
            .entities
            .iter()
            .find(|e| e.entity == "prayerskip")
            .unwrap();
        assert_eq!(skips.recoverable_rows, 0);
        assert!(skips
            .not_carried
            .iter()
            .any(|n| n.what.contains("skips ledger")));
    } else {
        assert_eq!(share(&report, "user"), Some(1.0));
        assert_eq!(share(&report, "prayerskip"), Some(1.0));
    }
    assert_eq!(report.capability, ArchiveCapability::Core);
    assert_eq!(report.readiness, Readiness::Partial);
    assert_eq!(
        reasons(&report),
        [
            ReadinessReasonKind::RowsWouldBeLost,
            ReadinessReasonKind::NoRecentVerifiedBackup
        ]
    );
    assert!(report.backups.newest_verified.is_none());
    assert!(report.archive_records["prayers"] == 1000);
    assert!(report.live_rows > report.recoverable_rows);
}

#[test]
fn s1_shares() {
    expected_shares("s1");
}

#[test]
fn s1_live_shares() {
    expected_shares("s1-live");
}

#[test]
fn a_fresh_verified_backup_is_found_and_counts() {
    let community = Community::copy("s1");
    let name = take_backup(&community);
    let report = run(&community);
    let newest = report.backups.newest_verified.as_ref().unwrap();
    assert_eq!(newest.name, name);
    assert!(newest.age_seconds < 3600);
    assert!(report.backups.recent);
    assert_eq!((report.backups.sets, report.backups.verified_sets), (1, 1));
    assert_eq!(reasons(&report), [ReadinessReasonKind::RowsWouldBeLost]);
    assert_eq!(report.readiness, Readiness::Partial);
    // An old one is not recent.
    let mut options = RecoveryReportOptions::new(community.backups());
    options.time_zone = ArchiveTimeZone::Utc;
    options.now += chrono::Duration::hours(49);
    let later = recovery_report(
        &community.archives(),
        &community.db(),
        &options,
        &NoProgress,
    )
    .unwrap();
    assert!(!later.backups.recent);
    assert!(reasons(&later).contains(&ReadinessReasonKind::NoRecentVerifiedBackup));
}

#[test]
fn an_empty_archive_tree_is_not_ready_whatever_its_folders() {
    let community = Community::copy("s1");
    std::fs::remove_dir_all(community.archives()).unwrap();
    // ThyWill called this "Complete recovery capability": every folder, no record.
    for dir in ["prayers", "users", "activity", "auth", "roles", "system"] {
        std::fs::create_dir_all(community.archives().join(dir)).unwrap();
    }
    let report = run(&community);
    assert_eq!(report.capability, ArchiveCapability::Limited);
    assert_eq!(report.readiness, Readiness::NotReady);
    assert!(reasons(&report).contains(&ReadinessReasonKind::ArchivesMissing));
    assert_eq!(share(&report, "prayer"), Some(0.0));
    assert_eq!(share(&report, "user"), Some(0.0));
    // With a fresh verified backup the community can come back: partial.
    take_backup(&community);
    let report = run(&community);
    assert_eq!(report.readiness, Readiness::Partial);
}

#[test]
fn a_missing_archive_folder_is_not_ready() {
    let community = Community::copy("s1");
    std::fs::remove_dir_all(community.archives()).unwrap();
    let report = run(&community);
    assert!(report.rebuild_error.is_some());
    assert_eq!(report.readiness, Readiness::NotReady);
    assert_eq!(share(&report, "user"), Some(0.0));
}

#[test]
fn a_damaged_archive_loses_its_prayer() {
    let community = Community::copy("s1");
    let conn = rusqlite::Connection::open(community.db()).unwrap();
    let stored: String = conn
        .query_row(
            "SELECT text_file_path FROM prayer ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    std::fs::remove_file(
        community
            .archives()
            .join(stored.strip_prefix("text_archives/").unwrap()),
    )
    .unwrap();
    let report = run(&community);
    assert_eq!(share(&report, "prayer"), Some(0.999));
    assert_eq!(report.capability, ArchiveCapability::Limited);
    assert!(reasons(&report).contains(&ReadinessReasonKind::CoreRowsWouldBeLost));
    assert_eq!(report.readiness, Readiness::NotReady);
    take_backup(&community);
    assert_eq!(run(&community).readiness, Readiness::Partial);
}

/// Without the rows ThyWill's archives do not bring back (the auth audit log, notification
/// state, grants made in the admin UI) and with a fresh verified backup: `ready`, `complete`.
#[test]
fn a_fully_archived_community_with_a_fresh_backup_is_ready() {
    let community = Community::copy("s1");
    let conn = rusqlite::Connection::open(community.db()).unwrap();
    conn.execute_batch(
        "DELETE FROM authauditlog; DELETE FROM notification_state;
         DELETE FROM user_roles WHERE user_id IN ('Amara Adams', 'Grace R.') AND granted_by IS NULL
           AND role_id IN (SELECT id FROM role WHERE name = 'moderator');",
    )
    .unwrap();
    drop(conn);
    let report = run(&community);
    assert_eq!(report.capability, ArchiveCapability::Complete);
    assert_eq!(
        reasons(&report),
        [ReadinessReasonKind::NoRecentVerifiedBackup]
    );
    assert_eq!(report.readiness, Readiness::Partial);
    take_backup(&community);
    let report = run(&community);
    assert!(report.reasons.is_empty(), "{:?}", report.reasons);
    assert_eq!(report.readiness, Readiness::Ready);
    assert_eq!(report.recoverable_rows, report.live_rows);
}
