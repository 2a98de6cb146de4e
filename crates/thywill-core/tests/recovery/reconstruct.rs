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
    super::support::copy_tree(&fixtures().join(corpus).join("text_archives"), &archives);
    (db, archives)
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

    let dry = reconstruct_from_archives(
        &archives,
        &db,
        &options(true, BEFORE_EVERYTHING),
        &NoProgress,
    )
    .unwrap();
    assert!(dry.dry_run);
    assert_eq!(
        relationship_rows(&db),
        damaged,
        "{corpus}: the dry run changed rows"
    );

    let real = reconstruct_from_archives(
        &archives,
        &db,
        &options(false, BEFORE_EVERYTHING),
        &NoProgress,
    )
    .unwrap();
    println!("{corpus}: {}", real.to_json());
    assert_eq!(
        numbers(&dry),
        numbers(&real),
        "{corpus}: dry run and real run differ"
    );

    let differences = unexplained_differences(corpus, &db);
    assert!(
        differences.is_empty(),
        "{corpus}: {} differences from the fixture: {differences:#?}",
        differences.len()
    );

    let r = &real.relationships;
    let author = &r["prayer_author"];
    assert_eq!(
        (author.found, author.repointed, author.unresolvable),
        (1, 1, 0)
    );
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
    let inviters = count(
        &db,
        "SELECT count(*) FROM user WHERE invited_by_username IS NOT NULL",
    );
    assert_eq!(r["inviter"].repointed as i64, inviters, "{corpus}");
    assert_eq!(r["inviter"].unresolvable, 0);
    assert_eq!(
        r["invite_tokens"].inserted as i64,
        count(&db, "SELECT count(*) FROM invitetoken")
    );
    assert_eq!(
        r["invite_token_usage"].inserted as i64,
        count(&db, "SELECT count(*) FROM invite_token_usage")
    );
    assert_eq!(
        r["user_roles"].inserted as i64,
        count(&db, "SELECT count(*) FROM user_roles")
    );
    assert_eq!(
        r["sessions"].inserted as i64,
        count(&db, "SELECT count(*) FROM session")
    );
    assert!(r["sessions"].inserted > 0);
    assert_eq!(
        r["invite_token_used"].repointed as i64,
        count(
            &db,
            "SELECT count(*) FROM user WHERE invite_token_used IS NOT NULL"
        )
    );
    assert!(real.users_created.is_empty(), "{:?}", real.users_created);
    assert_eq!(real.total_unresolvable(), 0, "{}", real.to_json());

    // A second run finds everything right.
    let fixed = relationship_rows(&db);
    let again = reconstruct_from_archives(
        &archives,
        &db,
        &options(false, BEFORE_EVERYTHING),
        &NoProgress,
    )
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

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn has_session(db: &Path, id: &str) -> bool {
    count(
        db,
        &format!("SELECT count(*) FROM session WHERE id = '{id}'"),
    ) == 1
}

/// A session a later archived `session_deleted` event ended stays away; one whose
/// deletion event came before it was created (the event names an earlier session with
/// the same id) comes back; sessions expired at `as_of` stay away.
#[test]
fn sessions_ended_by_a_later_event_or_expired_are_not_brought_back() {
    let dir = tempfile::tempdir().unwrap();
    let (db, archives) = copy_of("s1", dir.path());
    Connection::open(&db)
        .unwrap()
        .execute_batch("DELETE FROM session")
        .unwrap();
    // Created October 02 2023 at 09:20 (John B.) and October 24 2023 at 07:44 (al_haddad).
    let ended = "c63330d7632f4587a5be236d91fd37a2";
    let earlier_event = "b4203ce414c047b8afffe241f39253fc";
    append(
        &archives.join("auth").join("2023_10_security_events.txt"),
        &format!(
            "2023-10-05T10:00:00.000000|session_deleted|John B.|98.89.201.188|agent|session_id={ended}\n\
             2023-10-20T10:00:00.000000|session_deleted|al_haddad|172.56.62.21|agent|session_id={earlier_event}\n"
        ),
    );
    let report = reconstruct_from_archives(
        &archives,
        &db,
        &options(false, BEFORE_EVERYTHING),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.sessions_dropped.ended_by_event, 1);
    assert_eq!(report.sessions_dropped.expired, 0);
    assert!(!has_session(&db, ended));
    assert!(has_session(&db, earlier_event));
    assert_eq!(count(&db, "SELECT count(*) FROM session"), 124);
    assert_eq!(report.relationships["sessions"].inserted, 124);
    assert_eq!(report.relationships["sessions"].unresolvable, 0);

    // Judged in the middle of the community's life: the sessions expired by then stay away.
    let dir = tempfile::tempdir().unwrap();
    let (db, archives) = copy_of("s1", dir.path());
    Connection::open(&db)
        .unwrap()
        .execute_batch("DELETE FROM session")
        .unwrap();
    let as_of = "2025-01-01T00:00:00";
    let live = count(
        &fixtures().join("s1").join("thywill.db"),
        "SELECT count(*) FROM session WHERE expires_at > '2025-01-01 00:00:00'",
    );
    assert!(live > 0 && live < 125);
    let report =
        reconstruct_from_archives(&archives, &db, &options(false, as_of), &NoProgress).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM session"), live);
    assert_eq!(report.sessions_dropped.expired as i64, 125 - live);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM session WHERE expires_at <= '2025-01-01 00:00:00'"
        ),
        0
    );

    // By default sessions are judged now: every archived session of s1 has long expired.
    let dir = tempfile::tempdir().unwrap();
    let (db, archives) = copy_of("s1", dir.path());
    Connection::open(&db)
        .unwrap()
        .execute_batch("DELETE FROM session")
        .unwrap();
    let now = ReconstructOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..ReconstructOptions::default()
    };
    let report = reconstruct_from_archives(&archives, &db, &now, &NoProgress).unwrap();
    assert_eq!(report.sessions_dropped.expired, 125);
    assert_eq!(count(&db, "SELECT count(*) FROM session"), 0);
}

/// Orphans: a mark naming a case variant of a user is re-pointed; an author whose user
/// row and registration are both gone is created again from the prayer files (with the
/// rows naming them made right); a name the archives never carry is reported, bounded.
#[test]
fn orphans_are_repointed_created_from_prayer_files_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (db, archives) = copy_of("s1", dir.path());
    let conn = Connection::open(&db).unwrap();
    // Arjun authored 2 prayers; drop the user and the registration line.
    let lost = "Arjun";
    let authored = count(
        &db,
        "SELECT count(*) FROM prayer WHERE author_username = 'Arjun'",
    );
    let marked = count(
        &db,
        "SELECT count(*) FROM prayermark WHERE username = 'Arjun'",
    );
    assert!(authored > 0 && marked > 0);
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DELETE FROM user WHERE display_name = 'Arjun';
         UPDATE user SET invited_by_username = NULL WHERE invited_by_username = 'Arjun';",
    )
    .unwrap();
    let users_dir = archives.join("users");
    let mut found_line = false;
    for entry in std::fs::read_dir(&users_dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<&str> = text
            .split_inclusive('\n')
            .filter(|line| !line.contains(" - Arjun joined"))
            .collect();
        if kept.concat() != text {
            found_line = true;
            std::fs::write(&path, kept.concat()).unwrap();
        }
    }
    assert!(found_line);
    // A mark by a case variant of another user, and skips by someone no archive names.
    let (marker, mark_id): (String, i64) = conn
        .query_row(
            "SELECT username, rowid FROM prayermark WHERE username != 'Arjun' \
             AND upper(username) != username ORDER BY rowid LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    conn.execute(
        "UPDATE prayermark SET username = ?1 WHERE rowid = ?2",
        rusqlite::params![marker.to_uppercase(), mark_id],
    )
    .unwrap();
    for i in 0..3 {
        conn.execute(
            "INSERT INTO prayerskip (id, prayer_id, user_id, created_at) \
             SELECT ?1, id, 'Nobody We Know', created_at FROM prayer LIMIT 1",
            [format!("skip{i}")],
        )
        .unwrap();
    }
    drop(conn);

    let options = ReconstructOptions {
        max_listed: 1,
        ..options(false, BEFORE_EVERYTHING)
    };
    let report = reconstruct_from_archives(&archives, &db, &options, &NoProgress).unwrap();
    println!("{}", report.to_json());
    assert_eq!(report.users_created, vec![lost.to_string()]);
    assert_eq!(report.thywill_stats["missing_users_created"], 1);
    let r = &report.relationships;
    assert_eq!(r["prayer_author"].found as i64, authored);
    assert_eq!(r["prayer_author"].inserted as i64, authored);
    let marks = &r["prayer_mark_user"];
    // Arjun's marks were made right when the prayer authors brought Arjun back.
    assert_eq!((marks.found, marks.repointed, marks.inserted), (1, 1, 0));
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM prayermark WHERE username = 'Arjun'"
        ),
        marked
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM prayermark WHERE rowid = {mark_id} AND username = '{}'",
                marker.replace('\'', "''")
            )
        ),
        1
    );
    let skips = &r["prayer_skip_user"];
    assert_eq!((skips.found, skips.unresolvable), (3, 3));
    assert_eq!(skips.unresolved.len(), 1);
    assert_eq!(skips.unresolved[0].value, "Nobody We Know");
    assert_eq!(skips.unresolved[0].rows, 3);
    assert_eq!(
        report.thywill_stats["validation_errors"],
        report.total_unresolvable()
    );
    // Arjun's user row is back, created when they first appear in the prayer files.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM user WHERE display_name = 'Arjun'"
        ),
        1
    );

    // A second run: the unresolvable rows are still reported, nothing is changed.
    let again = reconstruct_from_archives(&archives, &db, &options, &NoProgress).unwrap();
    assert_eq!(again.total_fixed(), 0, "{}", again.to_json());
    assert_eq!(again.relationships["prayer_skip_user"].unresolvable, 3);
}

/// ThyWill's legacy schema (user.id as key) is refused before anything is read or written.
#[test]
fn the_legacy_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("legacy.db");
    Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TABLE user (id TEXT PRIMARY KEY, display_name TEXT, created_at TEXT);
             CREATE TABLE prayer (id TEXT PRIMARY KEY, author_id TEXT, text TEXT);
             INSERT INTO user VALUES ('u1', 'Alice', '2024-01-01');",
        )
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let archives = fixtures().join("s1").join("text_archives");
    let err = reconstruct_from_archives(
        &archives,
        &db,
        &options(false, BEFORE_EVERYTHING),
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("legacy"), "{err}");
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the refused database was changed"
    );
}

/// Tokens deleted and inviters cleared while the usage rows remain: the tokens come back
/// from their uses, the inviters of users who joined "directly" from their claims.
#[test]
fn tokens_and_inviters_come_back_when_their_usage_rows_remain() {
    for corpus in ["s1", "s1-live"] {
        let dir = tempfile::tempdir().unwrap();
        let (db, archives) = copy_of(corpus, dir.path());
        Connection::open(&db)
            .unwrap()
            .execute_batch(
                "PRAGMA foreign_keys = OFF;
                 UPDATE user SET invited_by_username = NULL, invite_token_used = NULL;
                 DELETE FROM invitetoken;",
            )
            .unwrap();
        let report = reconstruct_from_archives(
            &archives,
            &db,
            &options(false, BEFORE_EVERYTHING),
            &NoProgress,
        )
        .unwrap();
        let differences = unexplained_differences(corpus, &db);
        assert!(differences.is_empty(), "{corpus}: {differences:#?}");
        assert_eq!(report.relationships["invite_token_usage"].inserted, 0);
        assert_eq!(
            report.relationships["invite_tokens"].inserted, 119,
            "{corpus}"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM user WHERE invited_by_username IS NOT NULL"
            ),
            99
        );
    }
}

/// A database without the session, role and invite tables (an old schema) gets them, with
/// the default roles, and their rows; a dry run creates none.
#[test]
fn missing_tables_are_created_inside_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (db, archives) = copy_of("s1-live", dir.path());
    Connection::open(&db)
        .unwrap()
        .execute_batch(
            "PRAGMA foreign_keys = OFF; DROP TABLE session; DROP TABLE user_roles; DROP TABLE role; \
             DROP TABLE invitetoken; DROP TABLE invite_token_usage;",
        )
        .unwrap();
    let tables = "SELECT count(*) FROM sqlite_master WHERE type = 'table'";
    let before = count(&db, tables);
    let dry = reconstruct_from_archives(
        &archives,
        &db,
        &options(true, BEFORE_EVERYTHING),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(dry.tables_created.len(), 5, "{:?}", dry.tables_created);
    assert_eq!(count(&db, tables), before);
    let real = reconstruct_from_archives(
        &archives,
        &db,
        &options(false, BEFORE_EVERYTHING),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(numbers(&dry), numbers(&real));
    assert_eq!(count(&db, "SELECT count(*) FROM session"), 125);
    assert_eq!(count(&db, "SELECT count(*) FROM invitetoken"), 119);
    assert!(count(&db, "SELECT count(*) FROM role") >= 3);
    let again = reconstruct_from_archives(
        &archives,
        &db,
        &options(false, BEFORE_EVERYTHING),
        &NoProgress,
    )
    .unwrap();
    assert!(again.tables_created.is_empty());
    assert_eq!(again.total_fixed(), 0, "{}", again.to_json());
}
