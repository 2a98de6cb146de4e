//! `thywill backup | verify | list | restore | restore-safe | cleanup` run as processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn fixture_db() -> PathBuf {
    crate::support::fixtures().join("s1/thywill.db")
}

/// Runs `thywill` in `dir` with no inherited ThyWill settings and stdin not a terminal.
fn thywill(dir: &Path, args: &[&str]) -> Output {
    crate::support::thywill_in(dir, args, &[])
}

fn json(out: &Output) -> Value {
    crate::support::json_of(out)
}

fn community() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    std::fs::copy(fixture_db(), &db).unwrap();
    let mut perms = std::fs::metadata(&db).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&db, perms).unwrap();
    dir
}

fn backup(dir: &Path, tier: &str) -> String {
    let out = thywill(dir, &["--json", "backup", tier]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    json(&out)["backup"]["path"].as_str().unwrap().to_string()
}

#[test]
fn backup_list_and_verify_with_distinct_exit_codes() {
    let dir = community();
    let path = backup(dir.path(), "hourly");
    assert!(path.starts_with("backups/hourly/thywill_hourly_"), "{path}");

    let listed = json(&thywill(dir.path(), &["--json", "list"]));
    let entries = listed["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["verified"], Value::Bool(true));
    assert_eq!(entries[0]["kind"]["tier"], "hourly");

    let ok = thywill(dir.path(), &["--json", "verify", &path]);
    assert_eq!(ok.status.code(), Some(0));
    let report = json(&ok);
    for key in [
        "file_exists",
        "checksum_file_found",
        "checksum_verified",
        "database_integrity_ok",
    ] {
        assert_eq!(report[key], Value::Bool(true), "{key}");
    }
    assert_eq!(report["errors"], Value::Array(vec![]));
    assert_eq!(report["table_row_counts"]["prayer"], 1000);

    let missing = thywill(dir.path(), &["--json", "verify", "backups/hourly/none.db"]);
    assert_eq!(missing.status.code(), Some(3));
    assert_eq!(json(&missing)["file_exists"], Value::Bool(false));

    let corrupt = dir.path().join("corrupt.db");
    std::fs::copy(dir.path().join(&path), &corrupt).unwrap();
    std::fs::copy(
        dir.path().join(format!("{path}.sha256")),
        dir.path().join("corrupt.db.sha256"),
    )
    .unwrap();
    let mut bytes = std::fs::read(&corrupt).unwrap();
    bytes[9000] ^= 0xff;
    std::fs::write(&corrupt, bytes).unwrap();
    let out = thywill(dir.path(), &["verify", "corrupt.db"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Backup verification failed"));

    let bare = dir.path().join("bare.db");
    std::fs::copy(dir.path().join(&path), &bare).unwrap();
    assert_eq!(
        thywill(dir.path(), &["verify", "bare.db"]).status.code(),
        Some(7)
    );
    assert_eq!(
        thywill(
            dir.path(),
            &["verify", "--allow-missing-checksum", "bare.db"]
        )
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn backup_of_a_missing_database_fails_without_creating_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = thywill(dir.path(), &["backup"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to make an empty backup"));
    assert!(!dir.path().join("thywill.db").exists());
}

#[test]
fn restore_asks_never_blocks_and_restore_safe_reports_changes() {
    let dir = community();
    let path = backup(dir.path(), "daily");
    let db = dir.path().join("thywill.db");
    delete_marks(&db);
    let before = std::fs::read(&db).unwrap();

    // No terminal and no --yes: refuse at once (exit 2), change nothing.
    let out = thywill(dir.path(), &["restore", &path]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(std::fs::read(&db).unwrap(), before);

    let out = thywill(dir.path(), &["--yes", "--json", "restore", &path]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json(&out);
    assert_eq!(report["quick_check"][0], "ok");
    assert!(report["safety_backup"]["path"]
        .as_str()
        .unwrap()
        .contains("pre_restore/pre_restore_"));

    let out = thywill(dir.path(), &["--json", "restore-safe", "--dry-run", &path]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json(&out);
    assert_eq!(report["dry_run"], Value::Bool(true));
    assert_eq!(report["schema"]["changes"], Value::Array(vec![]));

    let out = thywill(dir.path(), &["--yes", "restore", "backups/daily/none.db"]);
    assert_eq!(out.status.code(), Some(3));
}

/// Deletes the prayer marks with the sqlite3 CLI so the database differs from its backup.
fn delete_marks(db: &Path) {
    let st = Command::new("sqlite3")
        .arg(db)
        .arg("DELETE FROM prayermark;")
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn cleanup_dry_run_lists_reasons_and_real_cleanup_needs_yes() {
    let dir = community();
    let path = backup(dir.path(), "daily");
    // Two old copies of the set under old names (unverified: they have no manifest).
    for stamp in ["20200101_020000", "20200102_020000"] {
        let name = format!("backups/daily/thywill_daily_{stamp}.db");
        std::fs::copy(dir.path().join(&path), dir.path().join(&name)).unwrap();
    }
    let out = thywill(dir.path(), &["--json", "cleanup", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json(&out);
    assert_eq!(report["deleted_sets"], 2, "{report}");
    let text = String::from_utf8(thywill(dir.path(), &["cleanup", "--dry-run"]).stdout).unwrap();
    assert!(
        text.contains("would delete thywill_daily_20200101_020000: age"),
        "{text}"
    );
    assert!(text.contains("exceeds the 30d window"), "{text}");
    assert!(dir
        .path()
        .join("backups/daily/thywill_daily_20200101_020000.db")
        .exists());

    assert_eq!(thywill(dir.path(), &["cleanup"]).status.code(), Some(2));
    let out = thywill(dir.path(), &["--yes", "cleanup"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!dir
        .path()
        .join("backups/daily/thywill_daily_20200101_020000.db")
        .exists());
    assert!(dir.path().join(&path).exists());
}

#[test]
fn folder_remote_from_backup_to_restore() {
    let dir = community();
    let usb = dir.path().join("usb");
    let remote = format!("folder:{}", usb.display());
    let out = thywill(
        dir.path(),
        &["--json", "backup", "weekly", "--remote", &remote],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json(&out);
    let name = report["backup"]["name"].as_str().unwrap().to_string();
    assert_eq!(
        report["remotes"][0]["members"][0]["verified"],
        Value::Bool(true)
    );

    let listed = json(&thywill(
        dir.path(),
        &["--json", "list", "--remote", &remote],
    ));
    let remote_entries: Vec<&Value> = listed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["location"]["type"] == "remote")
        .collect();
    assert_eq!(remote_entries.len(), 1);
    assert_eq!(remote_entries[0]["verified"], Value::Bool(true));

    std::fs::remove_dir_all(dir.path().join("backups")).unwrap();
    let out = thywill(
        dir.path(),
        &["--yes", "--json", "restore", &name, "--from", &remote],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json(&out);
    assert_eq!(report["restore"]["quick_check"][0], "ok");
    assert_eq!(report["name"], name.as_str());
    assert_eq!(report["fetch"]["members"][0]["file"], format!("{name}.db"));
    assert_eq!(
        staging_folders(&dir.path().join("backups")),
        Vec::<String>::new()
    );
}

/// The `.remote-staging-*` folders in a backup root.
fn staging_folders(root: &Path) -> Vec<String> {
    std::fs::read_dir(root)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".remote-staging-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_failing_remote_among_several_is_reported_and_the_others_get_their_copy() {
    let dir = community();
    let good1 = format!("folder:{}", dir.path().join("usb1").display());
    let bad = format!("folder:{}/x", dir.path().join("thywill.db").display());
    let good2 = format!("folder:{}", dir.path().join("usb2").display());
    let out = thywill(
        dir.path(),
        &[
            "--json", "backup", "daily", "--remote", &good1, "--remote", &bad, "--remote", &good2,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = json(&out);
    let copied: Vec<&str> = report["remotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(copied, [good1.as_str(), good2.as_str()]);
    assert_eq!(report["remote_failures"].as_array().unwrap().len(), 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("FAILED to copy to folder:"), "{stderr}");
    let name = report["backup"]["name"].as_str().unwrap();
    for usb in ["usb1", "usb2"] {
        assert!(dir
            .path()
            .join(format!("{usb}/daily/{name}.manifest.json"))
            .is_file());
    }
}

#[test]
fn a_corrupt_remote_set_is_refused_and_no_staging_folder_is_left() {
    let dir = community();
    let usb = dir.path().join("usb");
    let remote = format!("folder:{}", usb.display());
    let out = thywill(
        dir.path(),
        &["--json", "backup", "weekly", "--remote", &remote],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let name = json(&out)["backup"]["name"].as_str().unwrap().to_string();
    let remote_db = usb.join(format!("weekly/{name}.db"));
    let mut bytes = std::fs::read(&remote_db).unwrap();
    bytes[7000] ^= 0xff;
    std::fs::write(&remote_db, bytes).unwrap();
    let db = dir.path().join("thywill.db");
    let before = std::fs::read(&db).unwrap();
    for extra in [&["--dry-run"][..], &[]] {
        let mut args = vec!["--yes", "restore", &name, "--from", &remote];
        args.extend_from_slice(extra);
        let out = thywill(dir.path(), &args);
        assert_eq!(out.status.code(), Some(4), "{extra:?}: {out:?}");
        assert_eq!(std::fs::read(&db).unwrap(), before);
        assert_eq!(
            staging_folders(&dir.path().join("backups")),
            Vec::<String>::new()
        );
    }
}

#[test]
fn values_the_core_refuses_are_usage_errors() {
    let dir = community();
    let remote = format!("folder:{}", dir.path().join("usb").display());
    for args in [
        &["cleanup", "--dry-run", "--hourly-hours", "0"][..],
        &["cleanup", "--dry-run", "--daily-days=-3"],
        // Used to panic in chrono (exit 101).
        &[
            "cleanup",
            "--dry-run",
            "--weekly-weeks",
            "9223372036854775807",
        ],
        &["cleanup", "--dry-run", "--pre-restore-keep=-1"],
        &[
            "--yes",
            "restore",
            "--wait",
            "5",
            "--force",
            "backups/daily/x.db",
        ],
        &[
            "--yes",
            "restore",
            "thywill_monthly_20250101_020000",
            "--from",
            &remote,
        ],
    ] {
        let out = thywill(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("thywill: error:"), "{args:?}: {stderr}");
    }
    let out = thywill(
        dir.path(),
        &["--json", "cleanup", "--dry-run", "--hourly-hours", "0"],
    );
    let error = json(&out);
    assert_eq!(error["error"]["kind"], "usage");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("hourly_hours"),
        "{error}"
    );
    let out = thywill(
        dir.path(),
        &[
            "--yes",
            "restore",
            "--wait",
            "5",
            "--force",
            "backups/daily/x.db",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("contradict"), "{stderr}");
    // The defaults shown in --help are the core's.
    let help = String::from_utf8(thywill(dir.path(), &["cleanup", "--help"]).stdout).unwrap();
    for default in [
        "[default: 48]",
        "[default: 30]",
        "[default: 12]",
        "[default: 3]",
    ] {
        assert!(help.contains(default), "{default}: {help}");
    }
}

/// The app, idle: a Python process holding a sqlite3 connection it has read through.
fn idle_app(db: &Path) -> std::process::Child {
    use std::io::BufRead;
    let script = "import sqlite3, sys\n\
                  conn = sqlite3.connect(sys.argv[1])\n\
                  conn.execute('SELECT count(*) FROM prayer').fetchone()\n\
                  print('ready', flush=True)\n\
                  sys.stdin.readline()\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready");
    child
}

#[test]
fn restore_beside_a_running_app_is_a_conflict_naming_it_unless_forced() {
    let dir = community();
    let path = backup(dir.path(), "daily");
    let db = dir.path().join("thywill.db");
    delete_marks(&db);
    let before = std::fs::read(&db).unwrap();
    let mut app = idle_app(&db);

    let out = thywill(dir.path(), &["--yes", "restore", &path]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("pid {}", app.id())), "{stderr}");
    assert!(stderr.contains("python3"), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), before);

    let out = thywill(
        dir.path(),
        &["--yes", "--json", "restore", "--force", &path],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = json(&out);
    assert_eq!(report["other_processes"][0]["pid"], app.id());
    app.kill().unwrap();
    app.wait().unwrap();
}

#[test]
fn an_unsupported_remote_is_a_usage_error_that_creates_nothing() {
    let dir = community();
    for bad in [
        "sftp://host/srv/x",
        "S3://bucket/x",
        "https://example.invalid/x",
        "gs://bucket/x",
        "ftp://host/x",
        "s3:/x",
    ] {
        let out = thywill(dir.path(), &["backup", "weekly", "--remote", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("folder:PATH") && stderr.contains("s3://BUCKET"),
            "{bad}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{bad}");
        let out = thywill(dir.path(), &["list", "--remote", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {out:?}");
    }
    let mut entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        ["thywill.db"],
        "no folder was made, no backup taken"
    );
}

#[test]
fn quiet_never_hides_a_failure() {
    let dir = community();
    // A remote folder below a regular file: every upload fails.
    let remote = format!("folder:{}/x", dir.path().join("thywill.db").display());
    let out = thywill(
        dir.path(),
        &["--quiet", "backup", "hourly", "--remote", &remote],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("FAILED to copy to folder:"), "{stderr}");

    // verify's findings go to stderr too.
    let path = backup(dir.path(), "daily");
    let file = dir.path().join(&path);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[5000] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let out = thywill(dir.path(), &["--quiet", "verify", &path]);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Checksum verification failed"), "{stderr}");
}

#[test]
fn a_foreign_database_is_not_backed_up_as_thywills() {
    let dir = community();
    let st = Command::new("sqlite3")
        .arg(dir.path().join("email.db"))
        .arg("CREATE TABLE user_email (user_id TEXT PRIMARY KEY, email_encrypted TEXT);")
        .status()
        .unwrap();
    assert!(st.success());
    backup(dir.path(), "daily");
    let out = thywill(dir.path(), &["--db", "email.db", "backup", "daily"]);
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a ThyWill database"));
    let listed = json(&thywill(dir.path(), &["--json", "list"]));
    let entries = listed["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{listed}");
    assert_eq!(entries[0]["verified"], Value::Bool(true));
    assert_eq!(entries[0]["source"]["kind"], "thywill");
}

#[test]
fn unusable_paths_get_messages_that_say_what_is_wrong() {
    let dir = community();
    let path = backup(dir.path(), "daily");
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    std::fs::write(dir.path().join("a-file"), b"").unwrap();
    let check = |args: &[&str], code: u8, says: &str| {
        let out = thywill(dir.path(), args);
        assert_eq!(out.status.code(), Some(code as i32), "{args:?}: {out:?}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains(says), "{args:?}: {all}");
    };
    check(&["--db", "folder", "backup"], 7, "folder is a directory");
    check(
        &["--db", "folder", "--yes", "restore", &path],
        7,
        "folder is a directory",
    );
    check(
        &["verify", "folder"],
        7,
        "it is a directory, not a backup file",
    );
    check(
        &["--backups", "a-file", "backup"],
        7,
        "the backup folder a-file is a file",
    );
    check(&["--backups", "a-file", "list"], 7, "is a file");
    check(&["--backups", "a-file", "--yes", "cleanup"], 7, "is a file");
}

/// The live database's folder is not writable by the user running the command: as root, the
/// command runs as `nobody`; otherwise the folder's write bit is taken away.
#[test]
fn an_unwritable_database_folder_is_a_permission_error_that_names_it() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = community();
    let path = backup(dir.path(), "daily");
    let live = dir.path().join("live");
    std::fs::create_dir(&live).unwrap();
    let db = live.join("thywill.db");
    std::fs::copy(dir.path().join("thywill.db"), &db).unwrap();
    let st = Command::new("sqlite3")
        .arg(&db)
        .arg("PRAGMA journal_mode=WAL;")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let backups = dir.path().join("elsewhere");
    std::fs::create_dir(&backups).unwrap();
    // /proc/self belongs to the effective user.
    let as_root =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap()) == 0;
    for p in [dir.path(), &backups] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    std::fs::set_permissions(&live, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o666)).unwrap();
    let run = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_thywill"));
        command
            .args(["--db"])
            .arg(&db)
            .arg("--backups")
            .arg(&backups)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null());
        if as_root {
            command.uid(65534).gid(65534);
        }
        command.output().unwrap()
    };
    let out = run(&["backup"]);
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the folder holding the database") && stderr.contains("not writable"),
        "{stderr}"
    );
    let out = run(&[
        "--yes",
        "restore",
        &dir.path().join(&path).display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not writable"), "{stderr}");
    std::fs::set_permissions(&live, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// ThyWill's crontab runs `backup_management.sh hourly|daily|weekly` with stdin not a
/// terminal; its script backs up, then applies retention. The same words here do the same,
/// with no confirmation to answer, and delete only what is past its window.
#[test]
fn scheduled_backups_back_up_then_apply_retention_without_asking() {
    let dir = community();
    let expired = "backups/hourly/thywill_hourly_20200101_020000.db";
    let recent = format!(
        "backups/hourly/thywill_hourly_{}.db",
        (chrono::Local::now() - chrono::Duration::hours(1)).format("%Y%m%d_%H%M%S")
    );
    std::fs::create_dir_all(dir.path().join("backups/hourly")).unwrap();
    for name in [expired, recent.as_str()] {
        std::fs::copy(fixture_db(), dir.path().join(name)).unwrap();
    }

    for tier in ["hourly", "daily", "weekly"] {
        let out = thywill(dir.path(), &["--json", tier]);
        assert_eq!(out.status.code(), Some(0), "{tier}: {out:?}");
        let report = json(&out);
        let made = report["backup"]["backup"]["path"].as_str().unwrap();
        assert!(
            made.contains(&format!("backups/{tier}/thywill_{tier}_")),
            "{made}"
        );
        assert!(dir.path().join(made).exists(), "{made}");
        assert_eq!(report["cleanup"]["dry_run"], false, "{report}");
        let deleted = if tier == "hourly" { 1 } else { 0 };
        assert_eq!(
            report["cleanup"]["deleted_sets"], deleted,
            "{tier}: {report}"
        );
    }
    assert!(!dir.path().join(expired).exists());
    assert!(dir.path().join(&recent).exists());

    // Set names have a resolution of one second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let text = String::from_utf8(thywill(dir.path(), &["daily"]).stdout).unwrap();
    assert!(text.starts_with("Backup created: "), "{text}");
    assert!(text.contains("0 set(s) deleted"), "{text}");
    assert!(!text.contains("keep "), "kept sets are not listed: {text}");
}

/// A scheduled backup that cannot be made deletes nothing.
#[test]
fn a_failed_scheduled_backup_applies_no_retention() {
    let dir = community();
    let first = backup(dir.path(), "hourly");
    let expired = "backups/hourly/thywill_hourly_20200101_020000.db";
    std::fs::copy(dir.path().join(&first), dir.path().join(expired)).unwrap();
    let out = thywill(
        dir.path(),
        &["--db", "missing.db", "--backups", "backups", "hourly"],
    );
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert!(dir.path().join(expired).exists());
}

/// ThyWill's `deployment/backup_management.sh` with the one-line body of
/// `docs/migrating-from-thywill.md`, run from another folder as cron runs it: each of its
/// forms works on the project root's database and `backups/`.
#[test]
fn the_one_line_backup_management_script_runs_every_form() {
    let project = community();
    let deployment = project.path().join("deployment");
    std::fs::create_dir(&deployment).unwrap();
    let script = deployment.join("backup_management.sh");
    std::fs::write(
        &script,
        "#!/bin/bash\nexec thywill --db \"$(dirname \"$(dirname \"$(realpath \"$0\")\")\")/thywill.db\" \"$@\"\n",
    )
    .unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_thywill")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new("bash")
            .arg(&script)
            .args(args)
            .current_dir(elsewhere.path())
            .env("PATH", &path)
            .env_remove("DATABASE_PATH")
            .env_remove("TEXT_ARCHIVE_BASE_DIR")
            .env_remove("THYWILL_BACKUP_DIR")
            .env_remove("THYWILL_BACKUP_REMOTES")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };

    let out = run(&["--json", "daily"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let made = json(&out)["backup"]["backup"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        Path::new(&made).starts_with(project.path().join("backups/daily")),
        "{made}"
    );
    let listed = String::from_utf8(run(&["list"]).stdout).unwrap();
    let stem = Path::new(&made).file_stem().unwrap().to_str().unwrap();
    assert!(listed.contains(stem), "{listed}");
    assert_eq!(run(&["verify", &made]).status.code(), Some(0));
    let expired = project
        .path()
        .join("backups/daily/thywill_daily_20200101_020000.db");
    std::fs::copy(&made, &expired).unwrap();
    assert_eq!(
        run(&["cleanup"]).status.code(),
        Some(2),
        "no terminal, no --yes"
    );
    assert!(expired.exists());
    assert_eq!(run(&["cleanup", "--yes"]).status.code(), Some(0));
    assert!(!expired.exists());
    let out = run(&["restore", &made, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(std::fs::read_dir(elsewhere.path())
        .unwrap()
        .next()
        .is_none());
}
