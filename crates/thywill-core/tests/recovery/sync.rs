//! `sync-archives` on a copy of s1 whose database and archives each lost different records:
//! the dry run predicts the real run's numbers and touches nothing, the real run brings both
//! sides back to the fixture's, and a second run changes nothing.

use std::path::Path;

use rusqlite::Connection;
use sha2::{Digest, Sha256};
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::report::entity;
use thywill_core::progress::NoProgress;
use thywill_core::recovery::sync::{sync_archives, SyncOptions};

use super::support::{tree_state, Community};
use crate::support::fixtures;
use crate::support::import::fidelity_differences;

fn options(dry_run: bool) -> SyncOptions {
    SyncOptions {
        dry_run,
        // The fixtures were written on a UTC host.
        time_zone: ArchiveTimeZone::Utc,
        ..SyncOptions::default()
    }
}

fn file_hash(path: &Path) -> String {
    format!("{:x}", Sha256::digest(std::fs::read(path).unwrap()))
}

/// Removes the first three prayer files of April 2024 from the archives, and the marks of
/// May 2024 from the database. Returns (files removed, marks deleted).
fn damage_both_sides(community: &Community) -> (usize, usize) {
    let month = community.archives().join("prayers/2024/04");
    let mut files: Vec<_> = std::fs::read_dir(&month)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in &files[..3] {
        std::fs::remove_file(file).unwrap();
    }
    let conn = Connection::open(community.db()).unwrap();
    let marks = conn
        .execute(
            "DELETE FROM prayermark WHERE created_at LIKE '2024-05%'",
            [],
        )
        .unwrap();
    assert!(marks > 0);
    (3, marks)
}

#[test]
fn sync_levels_both_sides_and_its_dry_run_predicts_it() {
    let community = Community::copy("s1");
    let (files_removed, marks_deleted) = damage_both_sides(&community);
    let archives_before = tree_state(&community.archives());
    let db_before = file_hash(&community.db());

    let dry = sync_archives(
        &community.archives(),
        &community.db(),
        &options(true),
        &NoProgress,
    )
    .unwrap();
    assert!(dry.dry_run && dry.validation.is_none());
    assert_eq!(tree_state(&community.archives()), archives_before);
    assert_eq!(file_hash(&community.db()), db_before);
    assert_eq!(
        dry.import.counts(entity::PRAYER_MARKS).inserted,
        marks_deleted as u64
    );
    assert_eq!(dry.heal.prayers.files_created, files_removed as u64);

    let real = sync_archives(
        &community.archives(),
        &community.db(),
        &options(false),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&real.import.entities).unwrap(),
        serde_json::to_value(&dry.import.entities).unwrap(),
        "the dry run's import numbers are the real run's"
    );
    assert_eq!(real.heal.prayers, dry.heal.prayers);
    assert_eq!(real.heal.users, dry.heal.users);
    assert!(!real.import.has_failures(), "{:?}", real.import.failures);

    // Both sides are the fixture's again: the database on every field the text carries, the
    // archive byte for byte.
    let original = fixtures().join("s1");
    let differences = fidelity_differences(&original.join("thywill.db"), &community.db(), true);
    assert!(differences.is_empty(), "{differences:?}");
    let month = |root: &Path| -> Vec<(String, String)> {
        let dir = root.join("prayers/2024/04");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    file_hash(&p),
                )
            })
            .collect();
        files.sort();
        files
    };
    assert_eq!(
        month(&community.archives()),
        month(&original.join("text_archives"))
    );
    let validation = real.validation.as_ref().unwrap();
    assert!(validation.is_clean(), "{:?}", validation.problems_by_kind);

    // Level now: a second run changes nothing on either side.
    let archives_after = tree_state(&community.archives());
    let again = sync_archives(
        &community.archives(),
        &community.db(),
        &options(false),
        &NoProgress,
    )
    .unwrap();
    assert!(!again.changed_anything(), "{:?}", again.heal.changes);
    assert_eq!(again.import.total_inserted(), 0);
    assert_eq!(tree_state(&community.archives()), archives_after);
}

#[test]
fn a_missing_database_is_created_from_the_archives_and_a_missing_archive_folder_refused() {
    let community = Community::copy("s1-live");
    std::fs::remove_file(community.db()).unwrap();
    let dry = sync_archives(
        &community.archives(),
        &community.db(),
        &options(true),
        &NoProgress,
    )
    .unwrap();
    assert!(dry.database_created);
    assert!(!community.db().exists(), "a dry run creates no database");
    let real = sync_archives(
        &community.archives(),
        &community.db(),
        &options(false),
        &NoProgress,
    )
    .unwrap();
    assert!(real.database_created);
    assert_eq!(real.import.counts(entity::PRAYERS).inserted, 1000);
    assert_eq!(
        real.import.counts(entity::PRAYERS).inserted,
        dry.import.counts(entity::PRAYERS).inserted
    );

    let missing = community.dir.path().join("no-such-archive");
    let error = sync_archives(&missing, &community.db(), &options(false), &NoProgress).unwrap_err();
    assert_eq!(error.kind(), thywill_core::ErrorKind::NotFound);
}
