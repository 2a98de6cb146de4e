//! `reconstruct-from-archives` on copies of s1 and s1-live whose relationships were
//! damaged: inviters cleared, grants, tokens, usage and sessions deleted, a prayer author
//! renamed to a case variant. Reconstruction brings them back equal to the fixture; a dry
//! run reports the same numbers and changes nothing; a second run fixes nothing.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use rusqlite::Connection;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::progress::NoProgress;
use thywill_core::recovery::{reconstruct_from_archives, ReconstructOptions, ReconstructReport};
use thywill_core::ErrorKind;

use crate::support::fixtures;
use crate::support::import::{extra_differences, fidelity_differences};

/// Before every archived session expired, so that all of them may come back.
const BEFORE_EVERYTHING: &str = "2023-01-01T00:00:00";

fn at(text: &str) -> Option<NaiveDateTime> {
    Some(NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap())
}

fn options(dry_run: bool, as_of: &str) -> ReconstructOptions {
    ReconstructOptions {
        dry_run,
        // The fixtures were written on a UTC host.
        time_zone: ArchiveTimeZone::Utc,
        as_of: at(as_of),
        ..ReconstructOptions::default()
    }
}

/// A copy of the fixture's database and archives in `dir`.
fn copy_of(corpus: &str, dir: &Path) -> (PathBuf, PathBuf) {
    let db = dir.join("thywill.db");
    std::fs::copy(fixtures().join(corpus).join("thywill.db"), &db).unwrap();
    let archives = dir.join("text_archives");
    copy_tree(&fixtures().join(corpus).join("text_archives"), &archives);
    (db, archives)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The prayer whose author is renamed to a case variant, and the variant.
fn renamed_prayer(db: &Path) -> (String, String) {
    let conn = Connection::open(db).unwrap();
    let (id, author): (String, String) = conn
        .query_row(
            "SELECT id, author_username FROM prayer WHERE lower(author_username) != author_username \
             ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    (id, author.to_lowercase())
}

fn damage(db: &Path) {
    let (id, variant) = renamed_prayer(db);
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         UPDATE user SET invited_by_username = NULL, invite_token_used = NULL;
         DELETE FROM user_roles;
         DELETE FROM invitetoken;
         DELETE FROM invite_token_usage;
         DELETE FROM session;",
    )
    .unwrap();
    conn.execute(
        "UPDATE prayer SET author_username = ?1 WHERE id = ?2",
        [&variant, &id],
    )
    .unwrap();
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// Every row of the relationship tables, to tell whether anything changed.
fn relationship_rows(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut out = Vec::new();
    for sql in [
        "SELECT display_name, invited_by_username, invite_token_used, created_at FROM user",
        "SELECT id, author_username FROM prayer",
        "SELECT user_id, role_id, granted_by, granted_at FROM user_roles",
        "SELECT token, created_by_user, usage_count, used_by_user_id FROM invitetoken",
        "SELECT invite_token_id, user_id, claimed_at, ip_address FROM invite_token_usage",
        "SELECT id, username, created_at, expires_at FROM session",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let values: Vec<String> = (0..n)
                .map(|i| format!("{:?}", row.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect();
            out.push(values.join("|"));
        }
    }
    out.sort();
    out
}

/// Differences from the fixture the archives cannot bring back: grants made in the admin
/// UI (moderators) are never archived.
fn unexplained_differences(corpus: &str, db: &Path) -> Vec<String> {
    let original = fixtures().join(corpus).join("thywill.db");
    let mut out = fidelity_differences(&original, db, true);
    out.extend(
        extra_differences(&original, db)
            .into_iter()
            .filter(|d| !(d.starts_with("user_roles") && d.contains("\"moderator\""))),
    );
    out
}

fn numbers(report: &ReconstructReport) -> serde_json::Value {
    let mut value = serde_json::to_value(report).unwrap();
    value.as_object_mut().unwrap().remove("dry_run");
    value
}

fn check_corpus(corpus: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (db, archives) = copy_of(corpus, dir.path());
    let (renamed, _) = renamed_prayer(&db);
    damage(&db);
    assert!(!unexplained_differences(corpus, &db).is_empty());
    let damaged = relationship_rows(&db);

    let dry =
        reconstruct_from_archives(&archives, &db, &options(true, BEFORE_EVERYTHING), &NoProgress)
            .unwrap();
    assert!(dry.dry_run);
    assert_eq!(relationship_rows(&db), damaged, "{corpus}: the dry run changed rows");

    let real =
        reconstruct_from_archives(&archives, &db, &options(false, BEFORE_EVERYTHING), &NoProgress)
            .unwrap();
    println!("{corpus}: {}", real.to_json());
    assert_eq!(numbers(&dry), numbers(&real), "{corpus}: dry run and real run differ");

    let differences = unexplained_differences(corpus, &db);
    assert!(
        differences.is_empty(),
        "{corpus}: {} differences from the fixture: {differences:#?}",
        differences.len()
    );

    let r = &real.relationships;
    let author = &r["prayer_author"];
    assert_eq!((author.found, author.repointed, author.unresolvable), (1, 1, 0));
    assert_eq!(real.thywill_stats["orphaned_prayers_fixed"], 1);
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM prayer p JOIN user u ON u.display_name = p.author_username \
                 WHERE p.id = '{renamed}'"
            )
        ),
        1
    );
    let inviters = count(&db, "SELECT count(*) FROM user WHERE invited_by_username IS NOT NULL");
    assert_eq!(r["inviter"].repointed as i64, inviters, "{corpus}");
    assert_eq!(r["inviter"].unresolvable, 0);
    assert_eq!(r["invite_tokens"].inserted as i64, count(&db, "SELECT count(*) FROM invitetoken"));
    assert_eq!(
        r["invite_token_usage"].inserted as i64,
        count(&db, "SELECT count(*) FROM invite_token_usage")
    );
    assert_eq!(r["user_roles"].inserted as i64, count(&db, "SELECT count(*) FROM user_roles"));
    assert_eq!(r["sessions"].inserted as i64, count(&db, "SELECT count(*) FROM session"));
    assert!(r["sessions"].inserted > 0);
    assert_eq!(
        r["invite_token_used"].repointed as i64,
        count(&db, "SELECT count(*) FROM user WHERE invite_token_used IS NOT NULL")
    );
    assert!(real.users_created.is_empty(), "{:?}", real.users_created);
    assert_eq!(real.total_unresolvable(), 0, "{}", real.to_json());

    // A second run finds everything right.
    let fixed = relationship_rows(&db);
    let again =
        reconstruct_from_archives(&archives, &db, &options(false, BEFORE_EVERYTHING), &NoProgress)
            .unwrap();
    assert_eq!(again.total_fixed(), 0, "{}", again.to_json());
    assert!(again.users_created.is_empty());
    assert_eq!(relationship_rows(&db), fixed);
}

#[test]
fn s1_relationships_come_back_equal_to_the_fixture() {
    check_corpus("s1");
}

#[test]
fn s1_live_relationships_come_back_equal_to_the_fixture() {
    check_corpus("s1-live");
}
