//! `thywill test-recovery` and `thywill full-recovery` run as processes.

use std::path::Path;
use std::process::Output;

use crate::support::community_copy as community;

fn thywill(dir: &Path, args: &[&str]) -> Output {
    crate::support::thywill_in(dir, args, &[])
}

#[test]
fn test_recovery_reports_per_table_and_changes_nothing() {
    let dir = community("s1");
    let before = std::fs::read(dir.path().join("thywill.db")).unwrap();
    let out = thywill(
        dir.path(),
        &["--json", "test-recovery", "--time-zone", "utc"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = crate::support::json_of(&out);
    assert_eq!(report["recovery_stats"]["prayers_recovered"], 1000);
    assert_eq!(report["predicted_rows"]["prayermark"], 9993);
    let tables = report["comparison"]["tables"].as_array().unwrap();
    let prayer = tables.iter().find(|t| t["table"] == "prayer").unwrap();
    assert_eq!(
        (prayer["come_back"].as_u64(), prayer["lost"].as_u64()),
        (Some(1000), Some(0))
    );
    assert_eq!(
        std::fs::read(dir.path().join("thywill.db")).unwrap(),
        before
    );
    // Nothing beside the database but its audit line (docs/audit.md).
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name != "thywill-audit.jsonl")
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    let text = thywill(
        dir.path(),
        &[
            "test-recovery",
            "--archive-dir",
            "text_archives",
            "--time-zone",
            "utc",
        ],
    );
    assert_eq!(text.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("would come back"), "{stdout}");
    assert!(stdout.contains("Prayers Recovered: 1000"), "{stdout}");
}

#[test]
fn full_recovery_asks_first_then_replaces_the_database() {
    let dir = community("s1");
    let db = dir.path().join("thywill.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM prayermark", [])
        .unwrap();
    let before = std::fs::read(&db).unwrap();

    // Without --yes and without a terminal: refused (usage, exit 2), nothing changed.
    let refused = thywill(dir.path(), &["full-recovery", "--time-zone", "utc"]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    assert_eq!(std::fs::read(&db).unwrap(), before);

    // A dry run needs no confirmation and changes nothing.
    let dry = thywill(
        dir.path(),
        &["--json", "full-recovery", "--dry-run", "--time-zone", "utc"],
    );
    assert_eq!(dry.status.code(), Some(0), "{dry:?}");
    let dry = crate::support::json_of(&dry);
    assert_eq!(dry["installed"], false);
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert!(!dir.path().join("backups").exists());

    let done = thywill(
        dir.path(),
        &["--json", "--yes", "full-recovery", "--time-zone", "utc"],
    );
    assert_eq!(done.status.code(), Some(0), "{done:?}");
    let done = crate::support::json_of(&done);
    assert_eq!(done["installed"], true);
    assert_eq!(done["table_rows"]["prayermark"], 9993);
    assert_eq!(done["table_rows"], dry["table_rows"]);
    assert!(done["safety_backup"]["path"]
        .as_str()
        .unwrap()
        .contains("pre_restore"));

    // --force and --wait contradict each other.
    let both = thywill(
        dir.path(),
        &["--yes", "full-recovery", "--force", "--wait", "5"],
    );
    assert_eq!(both.status.code(), Some(2), "{both:?}");
}

#[test]
fn full_recovery_merge_adds_what_is_missing() {
    let dir = community("s1-live");
    let db = dir.path().join("thywill.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM prayermark WHERE created_at LIKE '2025%'", [])
        .unwrap();
    let out = thywill(
        dir.path(),
        &[
            "--json",
            "-y",
            "full-recovery",
            "--merge",
            "--time-zone",
            "utc",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = crate::support::json_of(&out);
    assert_eq!(report["mode"], "merge");
    assert!(
        report["import"]["entities"]["prayer_marks"]["inserted"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(report["table_rows"]["prayermark"], 9939);
}
