//! validate-consistency: the archives against the database, field by field per entity,
//! scored; each kind of damage found, located and scored; `fix` heals and rescoring gives
//! 100; read-only without it.

use super::support::{tree_state, Community};
use thywill_core::db::ArchiveTimeZone;
use thywill_core::progress::NoProgress;
use thywill_core::recovery::{
    validate_consistency, ConsistencyOptions, ConsistencyReport, DifferenceKind, EntityStatus,
    ScoreBand,
};

fn options() -> ConsistencyOptions {
    ConsistencyOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..ConsistencyOptions::default()
    }
}

fn run(community: &Community, options: &ConsistencyOptions) -> ConsistencyReport {
    validate_consistency(&community.db(), &community.archives(), options, &NoProgress).unwrap()
}

fn print(label: &str, report: &ConsistencyReport) {
    println!("{label}: {:?} {:?}", report.stats, report.band);
    for e in &report.entities {
        if e.differences_total > 0 || e.status != EntityStatus::Scored {
            println!(
                "  {} {:?}: db {} ar {} eq {} diff {} db-only {} ar-only {}",
                e.entity,
                e.status,
                e.db_records,
                e.archive_records,
                e.equal,
                e.differing,
                e.only_in_db,
                e.only_in_archives
            );
            for d in e.differences.iter().take(5) {
                println!("    {d:?}");
            }
        }
    }
    for i in &report.issues {
        println!("  issue: {i}");
    }
}

fn entity<'r>(
    report: &'r ConsistencyReport,
    name: &str,
) -> &'r thywill_core::recovery::EntityConsistency {
    report.entities.iter().find(|e| e.entity == name).unwrap()
}

fn clean(corpus: &str) {
    let community = Community::copy(corpus);
    let before = tree_state(community.dir.path());
    let report = run(&community, &options());
    print(corpus, &report);
    assert_eq!(
        tree_state(community.dir.path()),
        before,
        "{corpus}: something changed"
    );
    assert_eq!(report.stats.consistency_score, 100.0);
    assert_eq!((report.band, report.exit_code), (ScoreBand::Excellent, 0));
    assert_eq!(report.issues_scored, 0);
    assert_eq!(report.stats.total_prayers_in_db, 1000);
    assert_eq!(report.stats.total_prayers_in_archives, 1000);
    assert_eq!(
        report.stats.total_users_in_db,
        report.stats.total_users_in_archives
    );
    for e in report
        .entities
        .iter()
        .filter(|e| e.status == EntityStatus::Scored)
    {
        assert_eq!(
            e.differences_total, 0,
            "{corpus} {}: {:?}",
            e.entity, e.differences
        );
        assert_eq!(
            e.equal + e.not_carried,
            e.db_records,
            "{corpus} {}",
            e.entity
        );
    }
    assert!(entity(&report, "prayermark").equal > 9000);
    // The tables once listed unscored: each has a status, and what the text cannot
    // carry is counted apart, with its reason.
    for table in ["securitylog", "user_roles"] {
        assert_eq!(
            entity(&report, table).status,
            EntityStatus::Scored,
            "{table}"
        );
    }
    if corpus == "s1" {
        let grants = entity(&report, "user_roles");
        assert_eq!((grants.equal, grants.not_carried), (4, 2));
        assert!(grants.reason.as_deref().unwrap().contains("admin UI"));
    }
    for table in ["notification_state", "authauditlog"] {
        let e = entity(&report, table);
        assert_eq!(e.status, EntityStatus::NotInThisArchive, "{corpus} {table}");
        assert_eq!(e.not_carried, e.db_records, "{corpus} {table}");
        assert!(e.reason.as_deref().unwrap().contains("export"), "{table}");
    }
    let migrations = entity(&report, "schema_migrations");
    assert_eq!(migrations.status, EntityStatus::NotCarried);
    assert!(migrations.reason.as_deref().unwrap().contains("migration"));
}

#[test]
fn s1_is_consistent() {
    clean("s1");
}

#[test]
fn s1_live_is_consistent() {
    clean("s1-live");
}

fn sql(community: &Community, statement: &str) {
    let conn = rusqlite::Connection::open(community.db()).unwrap();
    assert_eq!(conn.execute(statement, []).unwrap(), 1, "{statement}");
}

fn query(community: &Community, statement: &str) -> String {
    let conn = rusqlite::Connection::open(community.db()).unwrap();
    conn.query_row(statement, [], |r| r.get(0)).unwrap()
}

/// A damaged copy scores below 100 and, with `fix` (dry first: nothing written, the same
/// plan), heal writes what the archives lack and rescoring gives 100.
fn fix_gives_100(community: &Community, expected_changes: bool) {
    let before = tree_state(community.dir.path());
    let dry = run(
        community,
        &ConsistencyOptions {
            fix: true,
            dry_run: true,
            ..options()
        },
    );
    assert_eq!(tree_state(community.dir.path()), before, "a dry fix wrote");
    let planned = dry.fix.as_ref().unwrap();
    assert!(planned.dry_run);
    assert_eq!(planned.changed_anything(), expected_changes);
    assert_eq!(dry.score_after_fix, None);
    let fixed = run(
        community,
        &ConsistencyOptions {
            fix: true,
            ..options()
        },
    );
    let healed = fixed.fix.as_ref().unwrap();
    assert_eq!(healed.changes.len(), planned.changes.len());
    assert_eq!(fixed.stats.consistency_score, dry.stats.consistency_score);
    assert_eq!(fixed.score_after_fix, Some(100.0));
    assert_eq!(fixed.band_after_fix, Some(ScoreBand::Excellent));
    let again = run(community, &options());
    print("after fix", &again);
    assert_eq!(again.stats.consistency_score, 100.0);
    assert_eq!(again.issues_scored, 0);
    // A second fix changes nothing.
    let second = run(
        community,
        &ConsistencyOptions {
            fix: true,
            ..options()
        },
    );
    assert!(!second.fix.unwrap().changed_anything());
}

#[test]
fn a_removed_prayer_file_is_found_located_scored_and_fixed() {
    let community = Community::copy("s1");
    let id = query(
        &community,
        "SELECT p.id FROM prayer p WHERE (SELECT count(*) FROM prayermark m WHERE m.prayer_id = p.id) > 3 ORDER BY p.id LIMIT 1",
    );
    let stored = query(
        &community,
        &format!("SELECT text_file_path FROM prayer WHERE id = '{id}'"),
    );
    let relative = stored.strip_prefix("text_archives/").unwrap().to_string();
    std::fs::remove_file(community.archives().join(&relative)).unwrap();
    let report = run(&community, &options());
    print("prayer file removed", &report);
    let prayers = entity(&report, "prayer");
    assert_eq!(
        (
            prayers.only_in_db,
            prayers.differing,
            prayers.only_in_archives
        ),
        (1, 0, 0)
    );
    let d = &prayers.differences[0];
    assert_eq!(d.kind, DifferenceKind::OnlyInDb);
    assert!(d.record.contains(&id), "{}", d.record);
    assert!(d.db.as_ref().unwrap().iter().any(|v| v.contains(&relative)));
    assert!(entity(&report, "prayermark").only_in_db > 3);
    assert_eq!(report.stats.broken_archive_paths, 1);
    assert_eq!(report.stats.total_prayers_in_archives, 999);
    assert!(report
        .validation
        .problems
        .iter()
        .any(|p| p.record == id && p.file.as_deref() == Some(relative.as_str())));
    assert!(report.stats.consistency_score < 100.0);
    assert!(report
        .issues
        .iter()
        .any(|i| i.contains("prayer records only in the database")));
    fix_gives_100(&community, true);
}

#[test]
fn a_removed_registration_line_is_found_located_scored_and_fixed() {
    let community = Community::copy("s1");
    let name = "PhoebePatel67";
    let file = community.archives().join("users/2025_07_users.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    let kept: Vec<&str> = text
        .split_inclusive('\n')
        .filter(|l| !l.contains(&format!(" - {name} ")))
        .collect();
    assert_eq!(kept.len() + 1, text.split_inclusive('\n').count());
    std::fs::write(&file, kept.concat()).unwrap();
    let report = run(&community, &options());
    print("registration removed", &report);
    let users = entity(&report, "user");
    assert_eq!(users.differences_total, 1);
    assert!(users.differences[0].record.contains(name));
    assert!(report.stats.consistency_score < 100.0);
    assert!(report
        .validation
        .problems
        .iter()
        .any(|p| p.record == name && p.file.as_deref() == Some("users/2025_07_users.txt")));
    fix_gives_100(&community, true);
}

#[test]
fn an_author_renamed_in_the_database_is_found_located_and_scored() {
    let community = Community::copy("s1");
    let id = query(&community, "SELECT id FROM prayer ORDER BY id LIMIT 1");
    let author = query(
        &community,
        &format!("SELECT author_username FROM prayer WHERE id = '{id}'"),
    );
    let other = query(
        &community,
        &format!("SELECT display_name FROM user WHERE display_name <> '{author}' ORDER BY display_name LIMIT 1"),
    );
    sql(
        &community,
        &format!("UPDATE prayer SET author_username = '{other}' WHERE id = '{id}'"),
    );
    let report = run(&community, &options());
    print("author renamed", &report);
    let prayers = entity(&report, "prayer");
    assert_eq!(
        (
            prayers.differing,
            prayers.only_in_db,
            prayers.only_in_archives
        ),
        (1, 0, 0)
    );
    let d = &prayers.differences[0];
    assert_eq!(d.kind, DifferenceKind::Differs);
    assert_eq!(d.record, format!("id='{id}'"));
    assert_eq!(d.fields, ["author_username"]);
    assert_eq!(d.db.as_ref().unwrap()[1], format!("'{other}'"));
    assert_eq!(d.archives.as_ref().unwrap()[1], format!("'{author}'"));
    assert!(report.stats.consistency_score < 100.0);
    assert_eq!(report.band, ScoreBand::Excellent);
}

#[test]
fn a_mark_deleted_in_the_database_is_found_located_and_scored() {
    let community = Community::copy("s1");
    let (prayer, user): (String, String) = {
        let conn = rusqlite::Connection::open(community.db()).unwrap();
        conn.query_row(
            "SELECT prayer_id, username FROM prayermark ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    sql(
        &community,
        "DELETE FROM prayermark WHERE id = (SELECT id FROM prayermark ORDER BY id LIMIT 1)",
    );
    let report = run(&community, &options());
    print("mark deleted", &report);
    let marks = entity(&report, "prayermark");
    assert_eq!(
        (marks.only_in_archives, marks.only_in_db, marks.differing),
        (1, 0, 0)
    );
    let d = &marks.differences[0];
    assert_eq!(d.kind, DifferenceKind::OnlyInArchives);
    assert!(
        d.record.contains(&prayer) && d.record.contains(&user),
        "{}",
        d.record
    );
    assert!(report.stats.consistency_score < 100.0);
    assert_eq!(report.stats.total_prayer_marks_in_db, 9992);
}

#[test]
fn an_empty_archive_scores_poor() {
    let community = Community::copy("s1");
    std::fs::remove_dir_all(community.archives()).unwrap();
    std::fs::create_dir(community.archives()).unwrap();
    let report = run(&community, &options());
    assert_eq!(report.stats.total_prayers_in_archives, 0);
    assert_eq!(report.stats.users_only_in_db, 100);
    assert_eq!(entity(&report, "prayer").only_in_db, 1000);
    assert_eq!(report.stats.consistency_score, 0.0);
    assert_eq!((report.band, report.exit_code), (ScoreBand::Poor, 2));
}

/// A stored time (`2025-04-17 18:15:02.1`) as ThyWill's export writes times (`TS_H`).
fn human_time(stored: &str) -> String {
    let at = chrono::NaiveDateTime::parse_from_str(stored, "%Y-%m-%d %H:%M:%S%.f").unwrap();
    thywill_core::archive::timestamp::ts_h(&at)
}

fn strings(community: &Community, statement: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(community.db()).unwrap();
    let mut stmt = conn.prepare(statement).unwrap();
    let n = stmt.column_count();
    let rows = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| r.get::<_, Option<String>>(i).map(Option::unwrap_or_default))
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// s1 with what carries its notifications, audit log and security events: the
/// notification lines and the export's audit log written from the database, and two
/// security events in both (plus one with no user agent, which ThyWill could not archive).
fn s1_carrying_every_table() -> Community {
    let community = Community::copy("s1");
    let archives = community.archives();
    let mut by_month: std::collections::BTreeMap<String, String> = Default::default();
    for row in strings(
        &community,
        "SELECT created_at, user_id, auth_request_id, notification_type FROM notification_state ORDER BY created_at",
    ) {
        let month = format!("{}_{}", &row[0][..4], &row[0][5..7]);
        by_month.entry(month).or_default().push_str(&format!(
            "{}|{}|{}|{}|created|\n",
            row[0].replacen(' ', "T", 1),
            row[1],
            row[2],
            row[3]
        ));
    }
    std::fs::create_dir_all(archives.join("auth/notifications")).unwrap();
    for (month, lines) in by_month {
        std::fs::write(
            archives.join(format!("auth/notifications/{month}_notifications.txt")),
            format!(
                "Notification Events\nFormat: timestamp|user_id|auth_request_id|notification_type|action|details\n\n{lines}"
            ),
        )
        .unwrap();
    }
    let mut audit = String::from(
        "Authentication Audit Logs (exported October 01 2025 at 12:00)\n\
         Format: created_at|auth_request_id|action|actor_user_id|actor_type|details|ip_address|user_agent\n\n\n",
    );
    for row in strings(
        &community,
        "SELECT created_at, auth_request_id, action, coalesce(actor_user_id, 'unknown'), actor_type, details, \
         coalesce(ip_address, 'unknown'), coalesce(user_agent, 'unknown') FROM authauditlog ORDER BY created_at",
    ) {
        audit.push_str(&format!(
            "{}|{}\n",
            human_time(&row[0]),
            row[1..].join("|")
        ));
    }
    std::fs::create_dir_all(archives.join("authentication")).unwrap();
    std::fs::write(archives.join("authentication/auth_audit_logs.txt"), audit).unwrap();
    let events = archives.join("auth/2025_09_security_events.txt");
    let mut text = std::fs::read_to_string(&events).unwrap();
    text.push_str(
        "2025-09-21T10:00:05.1|logout|Mateo|1.2.3.4|UA 1|session_id=abc, reason=manual\n\
         2025-09-21T11:30:00|ip_change|Lydia1973|5.6.7.8|UA 2|IP changed from 1.2.3.4 to 5.6.7.8\n",
    );
    std::fs::write(&events, text).unwrap();
    let conn = rusqlite::Connection::open(community.db()).unwrap();
    conn.execute_batch(
        "INSERT INTO securitylog (id, event_type, user_id, ip_address, user_agent, details, created_at) VALUES \
         ('e1', 'logout', 'Mateo', '1.2.3.4', 'UA 1', 'session_id=abc, reason=manual', '2025-09-21 10:00:05.100000'), \
         ('e2', 'ip_change', 'Lydia1973', '5.6.7.8', 'UA 2', 'IP changed from 1.2.3.4 to 5.6.7.8', '2025-09-21 11:30:00.000000'), \
         ('e3', 'rate_limit', 'Mateo', '1.2.3.4', NULL, NULL, '2025-09-22 08:00:00.000000')",
    )
    .unwrap();
    community
}

/// The difference of `kind` listed for `table`.
fn difference<'r>(
    report: &'r ConsistencyReport,
    table: &str,
    kind: DifferenceKind,
) -> &'r thywill_core::recovery::RecordDifference {
    let e = entity(report, table);
    e.differences
        .iter()
        .find(|d| d.kind == kind)
        .unwrap_or_else(|| panic!("{table}: no {kind:?} in {:?}", e.differences))
}

#[test]
fn the_once_unscored_tables_are_scored_and_their_damage_located() {
    let community = s1_carrying_every_table();
    let clean = run(&community, &options());
    print("every table carried", &clean);
    assert_eq!(clean.stats.consistency_score, 100.0);
    for (table, rows, not_carried) in [
        ("securitylog", 3, 1),
        ("notification_state", 885, 0),
        ("authauditlog", 16, 0),
        ("user_roles", 6, 2),
    ] {
        let e = entity(&clean, table);
        assert_eq!(e.status, EntityStatus::Scored, "{table}");
        assert_eq!(
            (e.db_records, e.equal, e.not_carried, e.differences_total),
            (rows, rows - not_carried, not_carried, 0),
            "{table}: {:?}",
            e.differences
        );
    }

    // In each table one row deleted and one field altered in the database.
    let conn = rusqlite::Connection::open(community.db()).unwrap();
    let audit = strings(
        &community,
        "SELECT id, auth_request_id, action FROM authauditlog ORDER BY id LIMIT 2",
    );
    let notes = strings(
        &community,
        "SELECT id, user_id, auth_request_id FROM notification_state ORDER BY id LIMIT 2",
    );
    for statement in [
        "DELETE FROM securitylog WHERE id = 'e1'".to_string(),
        "UPDATE securitylog SET details = 'altered' WHERE id = 'e2'".to_string(),
        format!("DELETE FROM authauditlog WHERE id = '{}'", audit[0][0]),
        format!(
            "UPDATE authauditlog SET details = 'altered' WHERE id = '{}'",
            audit[1][0]
        ),
        format!("DELETE FROM notification_state WHERE id = '{}'", notes[0][0]),
        format!(
            "UPDATE notification_state SET is_read = 1 WHERE id = '{}'",
            notes[1][0]
        ),
        "DELETE FROM user_roles WHERE id = '2861fd92535643e7be5e7e20d8329b1e'".to_string(),
        "UPDATE user_roles SET granted_by = 'Amara Adams' WHERE id = '366511cff74a4e2cb79a3a38b99ebcbe'"
            .to_string(),
    ] {
        assert_eq!(conn.execute(&statement, []).unwrap(), 1, "{statement}");
    }
    drop(conn);
    let damaged = run(&community, &options());
    print("damaged", &damaged);
    for table in [
        "securitylog",
        "authauditlog",
        "notification_state",
        "user_roles",
    ] {
        let e = entity(&damaged, table);
        assert_eq!(
            (e.only_in_archives, e.differing, e.only_in_db),
            (1, 1, 0),
            "{table}: {:?}",
            e.differences
        );
    }
    let check = |table: &str, deleted: &[&str], altered: &[&str], field: &str| {
        let gone = difference(&damaged, table, DifferenceKind::OnlyInArchives);
        for part in deleted {
            assert!(gone.record.contains(part), "{table}: {}", gone.record);
        }
        let changed = difference(&damaged, table, DifferenceKind::Differs);
        for part in altered {
            assert!(changed.record.contains(part), "{table}: {}", changed.record);
        }
        assert_eq!(changed.fields, [field], "{table}");
    };
    check(
        "securitylog",
        &["event_type='logout'", "user_id='Mateo'"],
        &["event_type='ip_change'", "user_id='Lydia1973'"],
        "details",
    );
    check(
        "authauditlog",
        &[&audit[0][1], &audit[0][2]],
        &[&audit[1][1], &audit[1][2]],
        "details",
    );
    check(
        "notification_state",
        &[&notes[0][1], &notes[0][2]],
        &[&notes[1][1], &notes[1][2]],
        "is_read",
    );
    check(
        "user_roles",
        &["user_id='Robert Rogers'", "role='user'"],
        &["user_id='Robert Rogers'", "role='deactivated'"],
        "granted_by",
    );
    assert_eq!(damaged.issues_scored, 8);
    assert!(damaged.stats.consistency_score < 100.0);
    assert!(damaged
        .issues
        .iter()
        .any(|i| i == "1 securitylog records differ between database and archives"));

    // A fix heals what the database has and the archives lack: the altered security
    // event, and the one whose None fields ThyWill's writer fails on (written as its
    // str() writes them; the import reads them back as NULL). It never deletes an archive
    // line, so rows deleted from the database stay "only in the archives".
    let fixed = run(
        &community,
        &ConsistencyOptions {
            fix: true,
            ..options()
        },
    );
    let fix = fixed.fix.as_ref().unwrap();
    assert!(fix.changed_anything());
    assert_eq!(fix.records.security_events.written, 2);
    let events = std::fs::read_to_string(
        community
            .archives()
            .join("auth/2025_09_security_events.txt"),
    )
    .unwrap();
    assert!(events.ends_with(
        "2025-09-21T11:30:00|ip_change|Lydia1973|5.6.7.8|UA 2|altered\n\
         2025-09-22T08:00:00|rate_limit|Mateo|1.2.3.4|None|None\n"
    ));
    for table in [
        "securitylog",
        "authauditlog",
        "notification_state",
        "user_roles",
    ] {
        assert_eq!(entity(&fixed, table).only_in_archives, 1, "{table}");
    }
    // A second fix has nothing left to write.
    let again = run(
        &community,
        &ConsistencyOptions {
            fix: true,
            ..options()
        },
    );
    assert!(!again.fix.as_ref().unwrap().changed_anything());
}
