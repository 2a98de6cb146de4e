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
        assert_eq!(e.equal, e.db_records, "{corpus} {}", e.entity);
    }
    assert!(entity(&report, "prayermark").equal > 9000);
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
