//! Issue 8's backup hardening, on real files and real processes: a restore beside a running
//! app, foreign databases in a backup root, remote forms, ownership of the restored file,
//! leftovers of interrupted runs, unusable paths.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::support::backup::{count, dead_pid, live_db, ts, App};
use rusqlite::Connection;
use thywill_core::backup::remote::RemoteSpec;
use thywill_core::backup::retention::{Action, Reason, RetentionPolicy};
use thywill_core::backup::{
    self, cleanup, create, list, read_manifest, restore, verify, CleanupOptions, CreateOptions,
    ListOptions, LockPolicy, RestoreOptions, SourceKind, Tier, VerifyOptions, VerifyStatus,
};
use thywill_core::progress::{NoProgress, ProgressEvent};
use thywill_core::ErrorKind;

fn backup_at(db: &Path, root: &Path, tier: Tier, when: &str) -> backup::CreateReport {
    let mut o = CreateOptions::new(db, root, tier);
    o.now = ts(when);
    create(&o, &NoProgress).unwrap()
}

fn set_journal_mode(db: &Path, mode: &str) {
    let conn = Connection::open(db).unwrap();
    let got: String = conn
        .query_row(&format!("PRAGMA journal_mode={mode}"), [], |r| r.get(0))
        .unwrap();
    assert_eq!(got, mode.to_ascii_lowercase());
}

fn restore_beside_an_idle_app(journal_mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    set_journal_mode(&db, journal_mode);
    let root = dir.path().join("backups");
    let backup = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM prayermark", [])
        .unwrap();
    let app = App::start(&db);

    // Refused, naming the app by pid and command line; nothing changes.
    let before = fs::read(&db).unwrap();
    let mut o = RestoreOptions::new(&db, &root);
    o.now = ts("20250102_000000");
    let err = restore(&backup.path, &o, &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let message = err.to_string();
    assert!(message.contains(&format!("pid {}", app.pid())), "{message}");
    assert!(message.contains("python3 -c"), "{message}");
    assert!(message.contains("--wait") && message.contains("--force"));
    assert_eq!(fs::read(&db).unwrap(), before);
    assert!(!root.join("pre_restore").exists(), "no safety copy either");
    o.dry_run = true;
    assert_eq!(
        restore(&backup.path, &o, &NoProgress).unwrap_err().kind(),
        ErrorKind::Conflict,
        "a dry run says what the real run would do"
    );
    o.dry_run = false;

    // Waiting: the app goes away while the restore waits, which then goes ahead.
    let app = Mutex::new(Some(app));
    let waited = AtomicBool::new(false);
    let release = |event: &ProgressEvent<'_>| {
        if event.phase == "wait" {
            waited.store(true, Ordering::SeqCst);
            if let Some(app) = app.lock().unwrap().take() {
                app.stop();
            }
        }
        true
    };
    o.lock = LockPolicy::Wait(120);
    let report = restore(&backup.path, &o, &release).unwrap();
    assert!(
        waited.load(Ordering::SeqCst),
        "the restore waited for the app"
    );
    assert!(report.other_processes.is_empty());
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(count(&db, "prayermark") > 0, "the backup is in place");

    // Forced: goes ahead, and the report names the process it overrode.
    let app = App::start(&db);
    o.lock = LockPolicy::Force;
    o.now = ts("20250102_000001");
    let report = restore(&backup.path, &o, &NoProgress).unwrap();
    assert_eq!(report.quick_check, ["ok"]);
    assert!(
        report.other_processes.iter().any(|p| p.pid == app.pid()
            && p.command_line
                .as_deref()
                .is_some_and(|c| c.contains("python3"))),
        "{:?}",
        report.other_processes
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains(&format!("pid {}", app.pid()))),
        "{:?}",
        report.warnings
    );
    app.stop();
}

#[test]
fn restore_refuses_beside_an_idle_app_in_wal_mode_unless_waited_out_or_forced() {
    restore_beside_an_idle_app("WAL");
}

#[test]
fn restore_refuses_beside_an_idle_app_in_rollback_journal_mode_unless_waited_out_or_forced() {
    restore_beside_an_idle_app("DELETE");
}

#[test]
fn restore_waiting_for_an_app_that_stays_gives_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let backup = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    let app = App::start(&db);
    let mut o = RestoreOptions::new(&db, &root);
    o.lock = LockPolicy::Wait(1);
    let err = restore(&backup.path, &o, &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string().contains(&format!("pid {}", app.pid())),
        "{err}"
    );
    assert!(err.to_string().contains("after waiting 1 s"), "{err}");
    app.stop();
}

/// A database that is not ThyWill's: the email database.
fn email_db(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE user_email (user_id TEXT PRIMARY KEY, email_encrypted TEXT);
         INSERT INTO user_email VALUES ('u1', 'x');",
    )
    .unwrap();
}

#[test]
fn a_scheduled_backup_of_a_foreign_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let email = dir.path().join("email.db");
    email_db(&email);
    let root = dir.path().join("backups");
    let err = create(&CreateOptions::new(&email, &root, Tier::Daily), &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not a ThyWill database"), "{err}");
    let daily: Vec<_> = fs::read_dir(root.join("daily"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(daily.is_empty(), "{daily:?}");
}

/// Turns a real set into what an older version wrote for `DATABASE_PATH=email.db`: the email
/// database with a matching sidecar and a manifest saying its integrity check passed.
fn forge_foreign_set(set: &backup::CreateReport, foreign: &Path) {
    fs::copy(foreign, &set.path).unwrap();
    let (sha, size) = backup::sha256_file(&set.path, &NoProgress).unwrap();
    let name = set.path.file_name().unwrap().to_str().unwrap();
    fs::write(&set.checksum_file, format!("{sha}  {name}\n")).unwrap();
    let mut manifest = read_manifest(&set.manifest_file).unwrap();
    manifest.members[0].sha256 = sha;
    manifest.members[0].size = size;
    manifest.source = None;
    let v = manifest.verification.as_mut().unwrap();
    v.table_row_counts = [("user_email".to_string(), 1)].into_iter().collect();
    fs::write(
        &set.manifest_file,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

#[test]
fn create_verify_list_and_retention_agree_that_a_foreign_set_is_not_verified() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let email = dir.path().join("email.db");
    email_db(&email);
    let root = dir.path().join("backups");
    let real = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    let foreign = backup_at(&db, &root, Tier::Daily, "20250301_020000");
    forge_foreign_set(&foreign, &email);

    let verdict = verify(&foreign.path, &VerifyOptions::default(), &NoProgress).unwrap();
    assert_eq!(verdict.status, VerifyStatus::NotThywill);
    for deep in [false, true] {
        let listed = list(
            &ListOptions {
                backup_root: root.clone(),
                now: ts("20250401_000000"),
                deep,
            },
            &[],
            &NoProgress,
        )
        .unwrap();
        let verified: Vec<(&str, bool)> = listed
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.verified))
            .collect();
        assert_eq!(
            verified,
            [
                ("thywill_daily_20250101_020000", true),
                ("thywill_daily_20250301_020000", false)
            ],
            "deep: {deep}"
        );
    }
    // Both are past the 30-day window; the real one is the newest verified set and stays.
    let report = cleanup(
        &CleanupOptions {
            backup_root: root.clone(),
            policy: RetentionPolicy::default(),
            now: ts("20250501_000000"),
            dry_run: false,
            database: Some(db.clone()),
        },
        &[],
        &NoProgress,
    )
    .unwrap();
    assert!(real.path.is_file(), "{:#?}", report.actions);
    assert!(!foreign.path.exists(), "{:#?}", report.actions);
}

#[test]
fn sets_of_two_databases_in_one_root_never_displace_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let a = live_db(&dir.path().join("a").tap_mkdir());
    let b = live_db(&dir.path().join("b").tap_mkdir());
    let root = dir.path().join("shared-backups");
    let a_old = backup_at(&a, &root, Tier::Daily, "20250101_020000");
    let a_new = backup_at(&a, &root, Tier::Daily, "20250102_020000");
    let b_only = backup_at(&b, &root, Tier::Daily, "20250103_020000");
    let manifest = read_manifest(&a_new.manifest_file).unwrap();
    let source = manifest.source.unwrap();
    assert_eq!(source.kind, SourceKind::Thywill);
    assert_eq!(
        PathBuf::from(&source.path),
        fs::canonicalize(&a).unwrap(),
        "the manifest records the canonical path"
    );

    let plan = cleanup(
        &CleanupOptions {
            backup_root: root.clone(),
            policy: RetentionPolicy::default(),
            now: ts("20250601_000000"),
            dry_run: true,
            database: Some(a.clone()),
        },
        &[],
        &NoProgress,
    )
    .unwrap();
    let fate = |path: &Path| {
        plan.actions
            .iter()
            .find(|x| x.files.iter().any(|f| Path::new(f) == path))
            .map(|x| (x.action, x.reason))
            .unwrap()
    };
    assert!(matches!(
        fate(&a_new.path),
        (Action::Keep, Reason::NewestVerified { .. })
    ));
    assert!(matches!(
        fate(&b_only.path),
        (Action::Keep, Reason::NewestVerified { .. })
    ));
    assert!(matches!(
        fate(&a_old.path),
        (Action::Delete, Reason::Expired { .. })
    ));
    let a_explained = plan
        .actions
        .iter()
        .find(|x| x.files.iter().any(|f| Path::new(f) == a_new.path))
        .unwrap();
    assert!(
        a_explained.explanation.contains(&source.path),
        "{}",
        a_explained.explanation
    );
}

#[test]
fn sets_without_a_recorded_source_count_as_the_cleaned_databases() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let legacy = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    let newer = backup_at(&db, &root, Tier::Daily, "20250102_020000");
    // Written before sources were recorded: no "source" key at all.
    let mut json: serde_json::Value =
        serde_json::from_slice(&fs::read(&legacy.manifest_file).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("source");
    fs::write(&legacy.manifest_file, json.to_string()).unwrap();
    assert!(read_manifest(&legacy.manifest_file)
        .unwrap()
        .source
        .is_none());
    assert_eq!(
        verify(&legacy.path, &VerifyOptions::default(), &NoProgress)
            .unwrap()
            .status,
        VerifyStatus::Ok,
        "old manifests stay readable"
    );

    let plan = |database: Option<PathBuf>| {
        cleanup(
            &CleanupOptions {
                backup_root: root.clone(),
                policy: RetentionPolicy::default(),
                now: ts("20250601_000000"),
                dry_run: true,
                database,
            },
            &[],
            &NoProgress,
        )
        .unwrap()
    };
    // Counted with the database being cleaned: the newer set protects it no longer.
    let with_db = plan(Some(db.clone()));
    assert_eq!(with_db.deleted_sets, 1, "{:#?}", with_db.actions);
    assert!(
        with_db
            .actions
            .iter()
            .any(|a| a.action == Action::Delete
                && a.files.iter().any(|f| Path::new(f) == legacy.path))
    );
    assert!(newer.path.is_file());
    // Without a database to count them with, they are a source of their own.
    assert_eq!(plan(None).deleted_sets, 0);
}

trait TapMkdir {
    fn tap_mkdir(self) -> PathBuf;
}

impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> PathBuf {
        fs::create_dir_all(&self).unwrap();
        self
    }
}

#[test]
fn only_the_documented_remote_forms_are_accepted() {
    for bad in [
        "sftp://host/srv/x",
        "S3://bucket/prefix",
        "https://example.invalid/backups",
        "gs://bucket/x",
        "ftp://host/x",
        "s3:/x",
        "file:///mnt/usb",
        "relative/folder",
        "",
        "folder:",
        "s3://",
    ] {
        let err = RemoteSpec::parse(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        let message = err.to_string();
        assert!(
            message.contains("folder:PATH") && message.contains("s3://BUCKET"),
            "{bad}: {message}"
        );
    }
    for (good, folder) in [
        ("folder:/mnt/usb", Some("/mnt/usb")),
        ("folder:relative/usb", Some("relative/usb")),
        ("/mnt/usb", Some("/mnt/usb")),
        ("s3://bucket", None),
        (
            "s3://bucket/p?endpoint=http://127.0.0.1:9000&region=us-east-1&allow_http=true",
            None,
        ),
    ] {
        let spec = RemoteSpec::parse(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        match (spec, folder) {
            (RemoteSpec::Folder { path }, Some(expected)) => {
                assert_eq!(path, PathBuf::from(expected))
            }
            (RemoteSpec::S3 { bucket, .. }, None) => assert_eq!(bucket, "bucket"),
            (other, _) => panic!("{good}: {other:?}"),
        }
    }
}

#[test]
fn the_restored_file_keeps_the_live_files_owner_group_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let backup = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    fs::set_permissions(&db, fs::Permissions::from_mode(0o664)).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root_user = unsafe { libc::geteuid() } == 0;
    let owner = if root_user {
        std::os::unix::fs::chown(&db, Some(4321), Some(4322)).unwrap();
        (4321, 4322)
    } else {
        let m = fs::metadata(&db).unwrap();
        (m.uid(), m.gid())
    };
    let mut o = RestoreOptions::new(&db, &root);
    o.now = ts("20250102_000000");
    restore(&backup.path, &o, &NoProgress).unwrap();
    let m = fs::metadata(&db).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o664);
    assert_eq!((m.uid(), m.gid()), owner);

    // restore-safe too.
    o.mode = backup::RestoreMode::Safe;
    o.now = ts("20250102_000001");
    restore(&backup.path, &o, &NoProgress).unwrap();
    let m = fs::metadata(&db).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o664);
    assert_eq!((m.uid(), m.gid()), owner);

    // No live file: 0600, the caller's.
    fs::remove_file(&db).unwrap();
    restore(&backup.path, &RestoreOptions::new(&db, &root), &NoProgress).unwrap();
    let m = fs::metadata(&db).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o600);
    // SAFETY: as above.
    assert_eq!(m.uid(), unsafe { libc::geteuid() });
}

fn leave_leftovers(db: &Path, root: &Path) -> Vec<PathBuf> {
    let dead = dead_pid();
    let db_dir = db.parent().unwrap();
    let leftovers = vec![
        root.join(format!(
            "pre_restore/.pre_restore_20250101_000000.db.backup-{dead}.tmp"
        )),
        root.join(format!(
            "daily/.thywill_daily_20250101_000000.db.backup-{dead}.tmp"
        )),
        root.join(format!(".remote-staging-{dead}")),
        db_dir.join(format!(".thywill.db.restore-{dead}.tmp")),
    ];
    for path in &leftovers {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        if path.to_string_lossy().contains("staging") {
            fs::create_dir_all(path.join("daily")).unwrap();
            fs::write(path.join("daily/thywill_daily_20250101_000000.db"), b"x").unwrap();
        } else {
            fs::write(path, b"half a database").unwrap();
        }
    }
    leftovers
}

#[test]
fn leftovers_of_interrupted_runs_are_removed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let backup = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    // One of a run that is still going (this process) is never touched.
    let running = root.join(format!(
        "daily/.thywill_daily_20250101_030000.db.backup-{}.tmp",
        std::process::id()
    ));
    fs::write(&running, b"in progress").unwrap();

    let leftovers = leave_leftovers(&db, &root);
    let mut o = RestoreOptions::new(&db, &root);
    o.dry_run = true;
    let dry = restore(&backup.path, &o, &NoProgress).unwrap();
    let mut expected = leftovers.clone();
    expected.sort();
    assert_eq!(dry.removed_stale_files, expected);
    assert!(
        leftovers.iter().all(|p| p.exists()),
        "a dry run removes nothing"
    );
    o.dry_run = false;
    o.now = ts("20250102_000000");
    let report = restore(&backup.path, &o, &NoProgress).unwrap();
    assert_eq!(report.removed_stale_files, expected);
    assert!(leftovers.iter().all(|p| !p.exists()));
    assert!(running.exists());

    let leftovers = leave_leftovers(&db, &root);
    let in_root: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = leftovers
            .iter()
            .filter(|p| p.starts_with(&root))
            .cloned()
            .collect();
        v.sort();
        v
    };
    let options = CleanupOptions {
        backup_root: root.clone(),
        policy: RetentionPolicy::default(),
        now: ts("20250102_000000"),
        dry_run: true,
        database: Some(db.clone()),
    };
    let dry = cleanup(&options, &[], &NoProgress).unwrap();
    assert_eq!(dry.removed_stale_files, in_root);
    assert!(in_root.iter().all(|p| p.exists()));
    let done = cleanup(
        &CleanupOptions {
            dry_run: false,
            ..options
        },
        &[],
        &NoProgress,
    )
    .unwrap();
    assert_eq!(done.removed_stale_files, in_root);
    assert!(in_root.iter().all(|p| !p.exists()));
    assert!(running.exists());

    // A backup sweeps them too.
    let leftovers = leave_leftovers(&db, &root);
    let made = backup_at(&db, &root, Tier::Hourly, "20250102_010000");
    assert_eq!(
        made.removed_stale_files.len(),
        3,
        "{:?}",
        made.removed_stale_files
    );
    assert!(leftovers
        .iter()
        .filter(|p| p.starts_with(&root))
        .all(|p| !p.exists()));
}

#[test]
fn a_backup_folder_that_is_a_file_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let not_a_folder = dir.path().join("backups");
    fs::write(&not_a_folder, b"").unwrap();
    let below = not_a_folder.join("sub");
    for root in [&not_a_folder, &below] {
        let err = create(&CreateOptions::new(&db, root, Tier::Daily), &NoProgress).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("backup folder"), "{err}");
        let err = list(
            &ListOptions {
                backup_root: root.clone(),
                now: ts("20250101_000000"),
                deep: false,
            },
            &[],
            &NoProgress,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert!(err_text_of_file(&not_a_folder).contains("is a file"));
}

fn err_text_of_file(root: &Path) -> String {
    let options = CleanupOptions {
        backup_root: root.to_path_buf(),
        policy: RetentionPolicy::default(),
        now: ts("20250101_000000"),
        dry_run: false,
        database: None,
    };
    cleanup(&options, &[], &NoProgress).unwrap_err().to_string()
}

#[test]
fn a_directory_as_the_database_or_the_backup_is_invalid_input_not_missing() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let backup = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    let folder = dir.path().join("a-folder");
    fs::create_dir(&folder).unwrap();

    let err = create(
        &CreateOptions::new(&folder, &root, Tier::Daily),
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("is a directory"), "{err}");
    let err = restore(
        &backup.path,
        &RestoreOptions::new(&folder, &root),
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("is a directory"), "{err}");
    let verdict = verify(&folder, &VerifyOptions::default(), &NoProgress).unwrap();
    assert_eq!(verdict.status, VerifyStatus::NotAFile);
    assert_eq!(verdict.to_error().unwrap().kind(), ErrorKind::InvalidInput);
    assert!(verdict.errors[0].contains("is a directory, not a backup file"));
}
