//! Archive references repaired (ThyWill's `repair_missing_archive_references`) and the
//! relationship integrity counts, on copies of the s1 community.

use std::path::Path;

use rusqlite::Connection;
use thywill_core::progress::NoProgress;
use thywill_core::recovery::{
    relationship_integrity, repair_archive_references, RepairReferencesOptions,
    RepairReferencesReport,
};

use super::support::{community, tree, CareCommunity};

fn repair(c: &CareCommunity, dry_run: bool) -> RepairReferencesReport {
    repair_archive_references(
        &c.db,
        &c.archives,
        &RepairReferencesOptions {
            dry_run,
            ..RepairReferencesOptions::default()
        },
        &NoProgress,
    )
    .unwrap()
}

/// Each prayer's id and stored path, by id.
fn stored_paths(db: &Path) -> Vec<(String, Option<String>)> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, text_file_path FROM prayer ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn prayers_without_a_path_get_their_file_and_one_without_a_file_is_reported() {
    let c = community("s1");
    let fixture = stored_paths(&c.db);
    // Four prayers lose their path (three NULL, one empty); the last also loses its file.
    let chosen: Vec<(String, String)> = fixture
        .iter()
        .take(4)
        .map(|(id, path)| (id.clone(), path.clone().unwrap()))
        .collect();
    let conn = Connection::open(&c.db).unwrap();
    for (n, (id, _)) in chosen.iter().enumerate() {
        let value = if n == 1 { Some("") } else { None };
        conn.execute(
            "UPDATE prayer SET text_file_path = ?1 WHERE id = ?2",
            rusqlite::params![value, id],
        )
        .unwrap();
    }
    drop(conn);
    let (gone_id, gone_path) = &chosen[3];
    let gone_relative = gone_path.strip_prefix("text_archives/").unwrap();
    c.remove_files(&[gone_relative]);
    let damaged = stored_paths(&c.db);
    let archives = tree(&c.archives);

    let dry = repair(&c, true);
    assert!(dry.dry_run);
    assert_eq!(stored_paths(&c.db), damaged, "a dry run writes nothing");
    assert_eq!(dry.prayers_without_path, 4);
    assert_eq!(dry.without_file, vec![gone_id.clone()]);
    let mut planned: Vec<(String, String)> = dry
        .repaired
        .iter()
        .map(|r| (r.prayer_id.clone(), r.stored.clone()))
        .collect();
    planned.sort();
    let mut expected = chosen[..3].to_vec();
    expected.sort();
    assert_eq!(
        planned, expected,
        "each prayer gets the path of its own file"
    );
    for r in &dry.repaired {
        assert_eq!(r.stored, format!("text_archives/{}", r.file));
    }

    let real = repair(&c, false);
    assert!(!real.dry_run);
    assert_eq!(real.prayers_without_path, dry.prayers_without_path);
    assert_eq!(
        real.repaired, dry.repaired,
        "the dry run's numbers are the real run's"
    );
    assert_eq!(real.without_file, dry.without_file);
    assert!(real.notes.is_empty(), "{:?}", real.notes);
    // Back to the fixture's paths, except the prayer whose file is gone.
    let after = stored_paths(&c.db);
    for ((id, now), (_, before)) in after.iter().zip(&fixture) {
        if id == gone_id {
            assert_eq!(now, &None, "a prayer without a file is left alone");
        } else {
            assert_eq!(now, before, "{id}");
        }
    }
    assert_eq!(tree(&c.archives), archives, "no archive file is written");

    let again = repair(&c, false);
    assert!(again.repaired.is_empty(), "a second run changes nothing");
    assert!(!again.changed_anything());
    assert_eq!(again.prayers_without_path, 1);
    assert_eq!(again.without_file, vec![gone_id.clone()]);
    assert_eq!(stored_paths(&c.db), after);

    let audit = std::fs::read_to_string(
        c.db.parent()
            .unwrap()
            .join(thywill_core::audit::AUDIT_FILE_NAME),
    )
    .unwrap();
    assert_eq!(
        audit.matches("recovery.repair_archive_references").count(),
        3,
        "each run is one audit line"
    );
}

#[test]
fn a_stored_path_is_not_touched_even_when_wrong() {
    let c = community("s1");
    // A wrong path is heal's to fix, not this repair's (which only fills missing paths).
    c.execute(
        "UPDATE prayer SET text_file_path = 'text_archives/prayers/2000/01/nothing.txt' \
         WHERE id = (SELECT id FROM prayer ORDER BY id LIMIT 1)",
    );
    let before = stored_paths(&c.db);
    let report = repair(&c, false);
    assert_eq!(report.prayers_without_path, 0);
    assert!(report.repaired.is_empty() && report.without_file.is_empty());
    assert_eq!(stored_paths(&c.db), before);
}

#[test]
fn a_missing_archive_folder_is_not_found() {
    let c = community("s1");
    let error = repair_archive_references(
        &c.db,
        c.archives.join("missing"),
        &RepairReferencesOptions::default(),
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(error.kind(), thywill_core::ErrorKind::NotFound);
}

#[test]
fn integrity_counts_rows_naming_missing_users() {
    let c = community("s1");
    let clean = relationship_integrity(&c.db).unwrap();
    assert!(clean.is_clean(), "{clean:?}");

    c.execute(
        "UPDATE prayer SET author_username = 'Ghost' WHERE id IN \
           (SELECT id FROM prayer ORDER BY id LIMIT 2);
         UPDATE user SET invited_by_username = 'Nobody' WHERE display_name = \
           (SELECT display_name FROM user ORDER BY display_name LIMIT 1);
         UPDATE user_roles SET user_id = 'Ghost' WHERE rowid = \
           (SELECT min(rowid) FROM user_roles);",
    );
    let report = relationship_integrity(&c.db).unwrap();
    assert_eq!(report.prayers_without_author, 2);
    assert_eq!(report.users_with_missing_inviter, 1);
    assert_eq!(report.role_grants_without_user, 1);
    assert!(!report.is_clean());
}

#[test]
fn integrity_counts_nothing_in_tables_a_database_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("partial.db");
    Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TABLE user(display_name TEXT PRIMARY KEY, invited_by_username TEXT);
             CREATE TABLE prayer(id TEXT PRIMARY KEY, author_username TEXT);
             INSERT INTO user VALUES ('Ann Lee', 'Nobody');
             INSERT INTO prayer VALUES ('p1', 'Ghost'), ('p2', 'Ann Lee'), ('p3', NULL);",
        )
        .unwrap();
    let report = relationship_integrity(&db).unwrap();
    assert_eq!(
        (
            report.prayers_without_author,
            report.users_with_missing_inviter,
            report.role_grants_without_user
        ),
        (1, 1, 0)
    );
    let missing = relationship_integrity(dir.path().join("absent.db")).unwrap_err();
    assert_eq!(missing.kind(), thywill_core::ErrorKind::NotFound);
}
