//! `thywill validate-consistency` and `thywill recovery-report` run as processes.

use std::path::Path;
use std::process::Output;

use crate::support::community_copy as community;

fn thywill(dir: &Path, args: &[&str]) -> Output {
    crate::support::thywill_in(dir, args, &[])
}

fn sql(dir: &Path, statement: &str) {
    let conn = rusqlite::Connection::open(dir.join("thywill.db")).unwrap();
    conn.execute_batch(statement).unwrap();
}

#[test]
fn validate_consistency_scores_s1_at_100_and_exits_0() {
    let dir = community("s1");
    let before = std::fs::read(dir.path().join("thywill.db")).unwrap();
    let out = thywill(
        dir.path(),
        &["--json", "validate-consistency", "--time-zone", "utc"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = crate::support::json_of(&out);
    assert_eq!(report["stats"]["consistency_score"], 100.0);
    assert_eq!(report["stats"]["total_prayers_in_archives"], 1000);
    assert_eq!(report["band"], "EXCELLENT");
    assert!(report["fix"].is_null());
    assert_eq!(
        std::fs::read(dir.path().join("thywill.db")).unwrap(),
        before
    );
    let text = thywill(
        dir.path(),
        &["validate-consistency", "--summary", "--time-zone", "utc"],
    );
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("Consistency score: 100.00 (Excellent)"),
        "{text}"
    );
    assert!(
        !text.contains("compared"),
        "--summary lists no entity: {text}"
    );
}

#[test]
fn validate_consistency_exits_1_for_a_good_score_and_2_below() {
    let dir = community("s1");
    // 800 marks deleted: 800 of 10,293 records differ, a score of 92.23.
    sql(
        dir.path(),
        "DELETE FROM prayermark WHERE id IN (SELECT id FROM prayermark ORDER BY id LIMIT 800)",
    );
    let out = thywill(
        dir.path(),
        &["--json", "validate-consistency", "--time-zone", "utc"],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = crate::support::json_of(&out);
    assert_eq!(report["band"], "GOOD");
    assert_eq!(report["stats"]["consistency_score"], 92.23);
    let marks = report["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity"] == "prayermark")
        .unwrap()
        .clone();
    assert_eq!(marks["only_in_archives"], 800);
    assert_eq!(marks["differences"].as_array().unwrap().len(), 50);
    // An archive without its prayer folder: far below.
    std::fs::remove_dir_all(dir.path().join("text_archives/prayers")).unwrap();
    let out = thywill(dir.path(), &["validate-consistency", "--time-zone", "utc"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn validate_consistency_fix_dry_run_writes_nothing_then_fix_gives_100() {
    let dir = community("s1");
    let file = std::fs::read_dir(dir.path().join("text_archives/prayers/2024/05"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&file).unwrap();
    let out = thywill(
        dir.path(),
        &[
            "--json",
            "validate-consistency",
            "--fix",
            "--dry-run",
            "--time-zone",
            "utc",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = crate::support::json_of(&out);
    assert!(report["stats"]["consistency_score"].as_f64().unwrap() < 100.0);
    assert_eq!(report["fix"]["dry_run"], true);
    assert!(!report["fix"]["changes"].as_array().unwrap().is_empty());
    assert!(!file.exists(), "a dry run wrote the file back");
    // Without --yes and without a terminal, --fix refuses (exit 2).
    let out = thywill(
        dir.path(),
        &["validate-consistency", "--fix", "--time-zone", "utc"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!file.exists());
    let out = thywill(
        dir.path(),
        &[
            "--json",
            "--yes",
            "validate-consistency",
            "--fix",
            "--time-zone",
            "utc",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = crate::support::json_of(&out);
    assert_eq!(report["score_after_fix"], 100.0);
    assert!(file.exists());
}

#[test]
fn validate_consistency_without_a_database_fails_with_not_found() {
    let dir = community("s1");
    std::fs::remove_file(dir.path().join("thywill.db")).unwrap();
    let out = thywill(dir.path(), &["validate-consistency"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

#[test]
fn recovery_report_gives_shares_and_a_verdict_and_changes_nothing() {
    let dir = community("s1-live");
    let before = std::fs::read(dir.path().join("thywill.db")).unwrap();
    let out = thywill(
        dir.path(),
        &["--json", "recovery-report", "--time-zone", "utc"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = crate::support::json_of(&out);
    let prayer = report["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity"] == "prayer")
        .unwrap()
        .clone();
    assert_eq!(prayer["share"], 1.0);
    assert_eq!(report["readiness"], "partial");
    assert_eq!(report["capability"], "core");
    assert!(report["backups"]["newest_verified"].is_null());
    assert_eq!(
        std::fs::read(dir.path().join("thywill.db")).unwrap(),
        before
    );
    assert!(!dir.path().join("backups").exists());
    let text = thywill(dir.path(), &["recovery-report", "--time-zone", "utc"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains("Readiness: Partial"), "{text}");
    assert!(text.contains("No verified backup"), "{text}");
}
