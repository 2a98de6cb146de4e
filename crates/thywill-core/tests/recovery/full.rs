//! full-recovery: dry run, idempotency, refusal beside a running app, merge mode.

use super::support::{full_options, row_counts, tree_state, Community};
use crate::support::backup::App;
use rusqlite::Connection;
use thywill_core::backup::LockPolicy;
use thywill_core::progress::{NoProgress, ProgressEvent};
use thywill_core::recovery::{compare_databases, full_recovery, RecoveryMode};
use thywill_core::ErrorKind;

/// A community whose database lost some rows (its marks of 2024): a recovery has something
/// to bring back.
fn damaged(corpus: &str) -> Community {
    let community = Community::copy(corpus);
    let conn = Connection::open(community.db()).unwrap();
    let n = conn
        .execute("DELETE FROM prayermark WHERE created_at LIKE '2024%'", [])
        .unwrap();
    assert!(n > 100);
    community
}

#[test]
fn dry_run_changes_nothing_and_reports_the_real_runs_numbers() {
    let community = damaged("s1");
    let before = tree_state(community.dir.path());
    let mut options = full_options(&community.backups());
    options.dry_run = true;
    let events = std::sync::Mutex::new(Vec::new());
    let record = |e: &ProgressEvent<'_>| {
        events
            .lock()
            .unwrap()
            .push(format!("{} {}", e.phase, e.done));
        true
    };
    let dry = full_recovery(&community.archives(), &community.db(), &options, &record).unwrap();
    assert_eq!(
        tree_state(community.dir.path()),
        before,
        "the dry run changed something"
    );
    assert!(dry.dry_run && !dry.installed && dry.safety_backup.is_none());
    let marks = dry
        .comparison
        .as_ref()
        .unwrap()
        .table("prayermark")
        .unwrap();
    assert!(marks.added > 100, "{marks:?}");
    assert!(
        events.lock().unwrap().iter().any(|e| e == "restore 2"),
        "checked the lock"
    );

    options.dry_run = false;
    let real = full_recovery(
        &community.archives(),
        &community.db(),
        &options,
        &NoProgress,
    )
    .unwrap();
    assert!(real.installed);
    assert_eq!(dry.import.entities, real.import.entities);
    assert_eq!(dry.recovery_stats, real.recovery_stats);
    assert_eq!(dry.table_rows, real.table_rows);
    let (d, r) = (dry.comparison.unwrap(), real.comparison.unwrap());
    for (a, b) in d.tables.iter().zip(&r.tables) {
        assert_eq!(
            (
                &a.table,
                a.live_rows,
                a.rebuilt_rows,
                a.come_back,
                a.lost,
                a.added
            ),
            (
                &b.table,
                b.live_rows,
                b.rebuilt_rows,
                b.come_back,
                b.lost,
                b.added
            )
        );
    }
    assert_eq!(row_counts(&community.db()), real.table_rows);
}

#[test]
fn a_second_full_recovery_changes_nothing_in_the_data() {
    let community = damaged("s1");
    let options = full_options(&community.backups());
    let first = full_recovery(
        &community.archives(),
        &community.db(),
        &options,
        &NoProgress,
    )
    .unwrap();
    let saved = community.dir.path().join("first.db");
    std::fs::copy(community.db(), &saved).unwrap();
    let mut options = options;
    options.now += chrono::Duration::seconds(1);
    let second = full_recovery(
        &community.archives(),
        &community.db(),
        &options,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(first.table_rows, second.table_rows);
    // The second run found nothing to gain or lose...
    let comparison = second.comparison.unwrap();
    assert_eq!(comparison.differing_tables(), Vec::<&str>::new());
    assert_eq!((comparison.lost, comparison.added), (0, 0));
    assert!(second.warnings.is_empty(), "{:?}", second.warnings);
    // ...and the two results hold the same data.
    let again = compare_databases(&saved, &community.db()).unwrap();
    assert_eq!(again.differing_tables(), Vec::<&str>::new());
}

#[test]
fn refuses_beside_a_running_app_unless_forced() {
    let community = damaged("s1");
    let app = App::start(&community.db());
    let before = tree_state(community.dir.path());
    let options = full_options(&community.backups());
    let err = full_recovery(
        &community.archives(),
        &community.db(),
        &options,
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(
        err.to_string().contains(&format!("pid {}", app.pid())),
        "{err}"
    );
    assert_eq!(
        tree_state(community.dir.path()),
        before,
        "a refusal changes nothing"
    );

    let mut forced = options.clone();
    forced.lock = LockPolicy::Force;
    let report =
        full_recovery(&community.archives(), &community.db(), &forced, &NoProgress).unwrap();
    assert!(report.installed);
    assert!(report.other_processes.iter().any(|p| p.pid == app.pid()));
    assert!(
        report.warnings.iter().any(|w| w.contains("--force")),
        "{:?}",
        report.warnings
    );
    assert!(report.safety_backup.is_some());
    app.stop();
    // No rebuild left beside the database.
    let leftovers: Vec<_> = std::fs::read_dir(community.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".recovery-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn merge_adds_only_what_is_missing_after_a_safety_backup() {
    let community = damaged("s1");
    let before_rows = row_counts(&community.db());
    let mut options = full_options(&community.backups());
    options.mode = RecoveryMode::Merge;

    options.dry_run = true;
    let before = tree_state(community.dir.path());
    let dry = full_recovery(
        &community.archives(),
        &community.db(),
        &options,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        tree_state(community.dir.path()),
        before,
        "the dry run changed something"
    );
    let added = dry.import.counts("prayer_marks").inserted;
    assert!(added > 100);

    options.dry_run = false;
    let real = full_recovery(
        &community.archives(),
        &community.db(),
        &options,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(real.import.entities, dry.import.entities);
    assert!(real.safety_backup.is_some());
    let after = row_counts(&community.db());
    assert_eq!(after["prayermark"], before_rows["prayermark"] + added);
    assert_eq!(after["prayer"], before_rows["prayer"]);
    assert_eq!(real.table_rows, after);

    // Idempotent: a second merge adds nothing.
    options.now += chrono::Duration::seconds(1);
    let second = full_recovery(
        &community.archives(),
        &community.db(),
        &options,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        second.import.total_inserted(),
        0,
        "{:?}",
        second.import.entities
    );
    assert_eq!(row_counts(&community.db()), after);
}

#[test]
fn refuses_to_replace_a_community_with_an_empty_archive_folder() {
    let community = Community::copy("s1");
    let empty = community.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let before = tree_state(community.dir.path());
    let err = full_recovery(
        &empty,
        &community.db(),
        &full_options(&community.backups()),
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("would empty it"), "{err}");
    assert_eq!(tree_state(community.dir.path()), before);
    // A missing archive folder is not found.
    let err = full_recovery(
        &community.dir.path().join("missing"),
        &community.db(),
        &full_options(&community.backups()),
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}
