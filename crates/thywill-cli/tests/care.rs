//! `thywill heal-archives`, `sync-archives`, `sync-users`, `validate-archives`,
//! `repair-archives` on copies
//! of a fixture community.

use std::path::{Path, PathBuf};

use crate::support::{fixtures, json_of, thywill_env};

fn copy_writable(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_writable(&entry.path(), &target);
        } else {
            std::fs::write(&target, std::fs::read(entry.path()).unwrap()).unwrap();
        }
    }
}

struct Community {
    _dir: tempfile::TempDir,
    db: PathBuf,
    archives: PathBuf,
}

fn community() -> Community {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    std::fs::write(
        &db,
        std::fs::read(fixtures().join("s1-live/thywill.db")).unwrap(),
    )
    .unwrap();
    let archives = dir.path().join("text_archives");
    copy_writable(&fixtures().join("s1-live/text_archives"), &archives);
    Community {
        _dir: dir,
        db,
        archives,
    }
}

fn run(c: &Community, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "--db",
        c.db.to_str().unwrap(),
        "--archives",
        c.archives.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    thywill_env(&all, &[])
}

const PRAYER: &str = "prayers/2024/04/2024_04_02_prayer_at_0546.txt";
const USERS: &str = "users/2024_03_users.txt";

fn damage(c: &Community) {
    std::fs::remove_file(c.archives.join(PRAYER)).unwrap();
    let text = std::fs::read_to_string(c.archives.join(USERS)).unwrap();
    let kept: Vec<&str> = text.lines().take(4).collect();
    std::fs::write(c.archives.join(USERS), format!("{}\n", kept.join("\n"))).unwrap();
}

#[test]
fn heal_dry_run_real_run_and_second_run() {
    let c = community();
    damage(&c);
    let dry = run(
        &c,
        &["heal-archives", "--dry-run", "--json", "--time-zone", "utc"],
    );
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let dry = json_of(&dry);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["prayers"]["files_created"], 1);
    assert_eq!(dry["users"]["registrations_written"], 2);
    assert!(
        !c.archives.join(PRAYER).exists(),
        "a dry run writes nothing"
    );

    let real = run(&c, &["heal-archives", "--json", "--time-zone", "utc"]);
    assert_eq!(real.status.code(), Some(0));
    let real = json_of(&real);
    assert_eq!(real["prayers"], dry["prayers"]);
    assert_eq!(real["users"], dry["users"]);
    assert_eq!(real["changes"], dry["changes"]);
    let original = fixtures().join("s1-live/text_archives");
    for file in [PRAYER, USERS] {
        assert_eq!(
            std::fs::read(c.archives.join(file)).unwrap(),
            std::fs::read(original.join(file)).unwrap(),
            "{file}"
        );
    }
    let again = run(&c, &["heal-archives", "--time-zone", "utc"]);
    assert_eq!(again.status.code(), Some(0));
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("prayers already healthy: 1000"), "{text}");
    assert!(text.contains("users healed: 0"), "{text}");
    // The activity log and the auth files are looked at too; nothing is missing there.
    assert!(text.contains("activity log: "), "{text}");
    assert!(
        text.contains("auth requests: 11 rows, 11 archived"),
        "{text}"
    );
    assert_eq!(real["records"]["activity_log"]["written"], 0);
    assert_eq!(
        real["records"]["activity_log"]["present"],
        real["records"]["activity_log"]["rows"]
    );
}

#[test]
fn validate_exits_1_on_problems_and_repair_fixes_them() {
    let c = community();
    let clean = run(&c, &["validate-archives", "--time-zone", "utc"]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    assert!(String::from_utf8_lossy(&clean.stdout).contains("No problems found."));

    damage(&c);
    let found = run(&c, &["validate-archives", "--json", "--time-zone", "utc"]);
    assert_eq!(found.status.code(), Some(1));
    let report = json_of(&found);
    assert_eq!(report["problems_by_kind"]["prayer_file_missing"], 1);
    assert_eq!(report["problems_by_kind"]["registration_missing"], 2);
    let missing = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "prayer_file_missing")
        .unwrap();
    assert_eq!(missing["file"], PRAYER);
    assert_eq!(missing["healable"], true);

    let text = run(&c, &["validate-archives", "--time-zone", "utc"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains(&format!("{PRAYER}: PrayerFileMissing")),
        "{text}"
    );

    let repaired = run(&c, &["repair-archives", "--json", "--time-zone", "utc"]);
    assert_eq!(repaired.status.code(), Some(0));
    assert_eq!(json_of(&repaired)["prayers"]["files_created"], 1);
    let after = run(&c, &["validate-archives", "--time-zone", "utc"]);
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&after.stdout)
    );
}

#[test]
fn sync_users_writes_registrations_only() {
    let c = community();
    damage(&c);
    let dry = run(&c, &["sync-users", "--dry-run", "--json"]);
    assert_eq!(dry.status.code(), Some(0));
    assert_eq!(json_of(&dry)["users"]["registrations_written"], 2);
    let real = run(&c, &["sync-users", "--json"]);
    assert_eq!(real.status.code(), Some(0));
    let real = json_of(&real);
    assert_eq!(real["users"]["registrations_written"], 2);
    assert_eq!(real["prayers"]["total"], 0);
    assert!(!c.archives.join(PRAYER).exists());
    let again = json_of(&run(&c, &["sync-users", "--json"]));
    assert_eq!(again["changes"].as_array().unwrap().len(), 0);
}

#[test]
fn a_missing_database_is_not_found() {
    let c = community();
    std::fs::remove_file(&c.db).unwrap();
    let out = run(&c, &["heal-archives", "--json"]);
    let report = json_of(&out);
    assert_eq!(report["error"]["kind"], "not_found");
    assert!(!c.db.exists(), "no database is created");
}

#[test]
fn sync_archives_asks_first_then_levels_both_sides_once() {
    let c = community();
    damage(&c);
    let refused = run(&c, &["sync-archives", "--time-zone", "utc"]);
    assert_eq!(refused.status.code(), Some(2), "no terminal and no --yes");
    assert!(
        !c.archives.join(PRAYER).exists(),
        "nothing written when refused"
    );

    let dry = json_of(&run(
        &c,
        &["sync-archives", "--dry-run", "--json", "--time-zone", "utc"],
    ));
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["heal"]["prayers"]["files_created"], 1);
    assert_eq!(dry["heal"]["users"]["registrations_written"], 2);
    assert!(
        !c.archives.join(PRAYER).exists(),
        "a dry run writes nothing"
    );

    let real = run(
        &c,
        &["--yes", "sync-archives", "--json", "--time-zone", "utc"],
    );
    assert_eq!(real.status.code(), Some(0));
    let real = json_of(&real);
    assert_eq!(real["heal"]["prayers"], dry["heal"]["prayers"]);
    assert_eq!(real["heal"]["users"], dry["heal"]["users"]);
    assert!(c.archives.join(PRAYER).exists());
    assert_eq!(
        real["validation"]["problems_by_kind"],
        serde_json::json!({})
    );

    let again = json_of(&run(
        &c,
        &["--yes", "sync-archives", "--json", "--time-zone", "utc"],
    ));
    assert_eq!(again["heal"]["changes"].as_array().unwrap().len(), 0);
    let inserted: u64 = again["import"]["entities"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["inserted"].as_u64().unwrap())
        .sum();
    assert_eq!(inserted, 0);
}
