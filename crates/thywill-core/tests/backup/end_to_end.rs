//! Backups end to end on real SQLite files: create, verify, restore, restore-safe, list,
//! cleanup, folder remotes.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::support::backup::{copy_tree, count, flip_byte, live_db, ts};
use crate::support::fixtures;
use rusqlite::Connection;
use thywill_core::backup::remote::{self, FolderTarget, RemoteTarget};
use thywill_core::backup::retention::RetentionPolicy;
use thywill_core::backup::{
    self, cleanup, create, list, restore, verify, BackupKind, CleanupOptions, CreateOptions,
    ListOptions, LockPolicy, RestoreMode, RestoreOptions, SchemaChange, SetName, Tier,
    VerifyOptions, VerifyStatus,
};
use thywill_core::progress::NoProgress;
use thywill_core::ErrorKind;

fn backup_at(db: &Path, root: &Path, tier: Tier, when: &str) -> backup::CreateReport {
    let mut o = CreateOptions::new(db, root, tier);
    o.now = ts(when);
    create(&o, &NoProgress).unwrap()
}

#[test]
fn create_captures_wal_content_and_writes_a_portable_verified_set() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    // A committed row that lives only in the WAL: a `cp` of the main file would miss it.
    let writer = Connection::open(&db).unwrap();
    writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    writer
        .execute(
            "INSERT INTO securitylog (id, event_type, created_at) VALUES ('wal-only', 'test', '2025-01-01 00:00:00.000000')",
            [],
        )
        .unwrap();
    assert!(
        fs::metadata(dir.path().join("thywill.db-wal"))
            .unwrap()
            .len()
            > 0
    );

    let root = dir.path().join("backups");
    let report = backup_at(&db, &root, Tier::Hourly, "20250102_030405");
    assert_eq!(
        report.path,
        root.join("hourly/thywill_hourly_20250102_030405.db")
    );
    let backup_conn = Connection::open(&report.path).unwrap();
    let n: i64 = backup_conn
        .query_row(
            "SELECT count(*) FROM securitylog WHERE id = 'wal-only'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1, "the backup must hold what is committed in the WAL");
    let mode: String = backup_conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    drop(backup_conn);

    for f in [&report.path, &report.checksum_file, &report.manifest_file] {
        assert_eq!(
            fs::metadata(f).unwrap().permissions().mode() & 0o777,
            0o600,
            "{f:?}"
        );
    }
    let sidecar = fs::read_to_string(&report.checksum_file).unwrap();
    assert_eq!(
        sidecar,
        format!(
            "{}  thywill_hourly_20250102_030405.db\n",
            report.members[0].sha256
        )
    );
    assert!(report.verification.as_ref().unwrap().passed());

    // Moved elsewhere, the pair still checks with sha256sum -c.
    let moved = dir.path().join("elsewhere");
    fs::create_dir(&moved).unwrap();
    for f in [&report.path, &report.checksum_file] {
        fs::copy(f, moved.join(f.file_name().unwrap())).unwrap();
    }
    let status = Command::new("sha256sum")
        .arg("-c")
        .arg("thywill_hourly_20250102_030405.db.sha256")
        .current_dir(&moved)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");

    let v = verify(&report.path, &VerifyOptions::default(), &NoProgress).unwrap();
    assert_eq!(v.status, VerifyStatus::Ok, "{:?}", v.errors);
    assert!(v.checksum_file_found && v.checksum_verified && v.database_integrity_ok);
    assert!(v.manifest_found);
    assert_eq!(v.table_row_counts["prayer"], count(&db, "prayer") as u64);
}

#[test]
fn create_refuses_a_missing_database_without_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    let err = create(
        &CreateOptions::new(&db, dir.path().join("backups"), Tier::Daily),
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains("refusing to make an empty backup"),
        "{err}"
    );
    assert!(!db.exists(), "the database must not be created");
}

#[test]
fn create_refuses_when_the_destination_lacks_space() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let mut o = CreateOptions::new(&db, dir.path().join("backups"), Tier::Daily);
    o.reserve_bytes = u64::MAX / 4;
    let err = create(&o, &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("not enough free space"), "{err}");
    let leftovers: Vec<_> = fs::read_dir(dir.path().join("backups/daily"))
        .unwrap()
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_set_can_carry_the_text_archives_and_the_email_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let archives = dir.path().join("text_archives");
    let files = copy_tree(&fixtures().join("s1/text_archives"), &archives);
    let email = dir.path().join("email.db");
    Connection::open(&email)
        .unwrap()
        .execute_batch("CREATE TABLE user_email (id VARCHAR PRIMARY KEY, user_id VARCHAR); INSERT INTO user_email VALUES ('1', 'alice');")
        .unwrap();
    let mut o = CreateOptions::new(&db, dir.path().join("backups"), Tier::Weekly);
    o.now = ts("20250105_030000");
    o.text_archives = Some(archives);
    o.email_database = Some(email);
    let report = create(&o, &NoProgress).unwrap();
    assert_eq!(report.members.len(), 3);
    let zip_path = report
        .path
        .with_file_name("thywill_weekly_20250105_030000.text_archives.zip");
    let zip = zip::ZipArchive::new(fs::File::open(&zip_path).unwrap()).unwrap();
    assert_eq!(zip.len(), files);
    let email_copy = report
        .path
        .with_file_name("thywill_weekly_20250105_030000.email.db");
    assert_eq!(count(&email_copy, "user_email"), 1);
    let v = verify(&report.path, &VerifyOptions::default(), &NoProgress).unwrap();
    assert!(v.is_ok(), "{:?}", v.errors);
    assert_eq!(v.members.len(), 2);

    // A damaged companion fails the set.
    flip_byte(&zip_path, 10);
    let v = verify(&report.path, &VerifyOptions::default(), &NoProgress).unwrap();
    assert_eq!(v.status, VerifyStatus::Corrupt);
    assert!(v.members.iter().any(|m| !m.ok));
}

#[test]
fn verify_tells_corrupt_from_missing_from_unproven() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let report = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    let opts = VerifyOptions::default();

    let missing = verify(&root.join("daily/nope.db"), &opts, &NoProgress).unwrap();
    assert_eq!(missing.status, VerifyStatus::NotFound);
    assert!(!missing.file_exists);
    assert_eq!(missing.to_error().unwrap().kind(), ErrorKind::NotFound);

    // One flipped byte: checksum mismatch.
    let flipped = dir.path().join("flipped/thywill_daily_20250101_020000.db");
    fs::create_dir(flipped.parent().unwrap()).unwrap();
    fs::copy(&report.path, &flipped).unwrap();
    fs::copy(&report.checksum_file, flipped.with_extension("db.sha256")).unwrap();
    flip_byte(&flipped, 3 * 4096 + 100);
    let v = verify(&flipped, &opts, &NoProgress).unwrap();
    assert_eq!(v.status, VerifyStatus::Corrupt);
    assert!(v.checksum_file_found && !v.checksum_verified);
    assert_eq!(v.to_error().unwrap().kind(), ErrorKind::Corrupt);

    // Truncated, with a matching sidecar rewritten: the integrity check must catch it.
    let truncated = dir.path().join("truncated.db");
    fs::copy(&report.path, &truncated).unwrap();
    let len = fs::metadata(&truncated).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&truncated)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let (sha, _) = backup::sha256_file(&truncated, &NoProgress).unwrap();
    fs::write(
        truncated.with_extension("db.sha256"),
        format!("{sha}  truncated.db\n"),
    )
    .unwrap();
    let v = verify(&truncated, &opts, &NoProgress).unwrap();
    assert_eq!(v.status, VerifyStatus::Corrupt, "{v:?}");
    assert!(v.checksum_verified && !v.database_integrity_ok);

    // No sidecar and no manifest: sound, but unproven.
    let bare = dir.path().join("bare.db");
    fs::copy(&report.path, &bare).unwrap();
    let v = verify(&bare, &opts, &NoProgress).unwrap();
    assert_eq!(v.status, VerifyStatus::NoChecksum);
    assert!(v.database_integrity_ok && !v.checksum_file_found);
    let lenient = VerifyOptions {
        require_checksum: false,
        ..VerifyOptions::default()
    };
    assert!(verify(&bare, &lenient, &NoProgress).unwrap().is_ok());

    // ThyWill's own sidecars name an absolute path; only the digest counts.
    fs::write(
        bare.with_extension("db.sha256"),
        format!(
            "{}  /home/thywill/thywill/backups/daily/x.db\n",
            report.members[0].sha256
        ),
    )
    .unwrap();
    assert!(verify(&bare, &opts, &NoProgress).unwrap().is_ok());

    // A sound SQLite file that is not ThyWill's.
    let other = dir.path().join("other.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let (sha, _) = backup::sha256_file(&other, &NoProgress).unwrap();
    fs::write(
        other.with_extension("db.sha256"),
        format!("{sha}  other.db\n"),
    )
    .unwrap();
    let v = verify(&other, &opts, &NoProgress).unwrap();
    assert_eq!(v.status, VerifyStatus::NotThywill);
    assert!(v.missing_tables.contains(&"prayer".to_string()));
}

/// ThyWill's verifier passed a database whose integrity check said
/// "row N missing from index sqlite_autoindex_invitetoken_1", because "invitetoken" contains
/// "ok". Ours must not.
#[test]
fn verify_requires_exactly_ok_from_the_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("damaged.db");
    fs::copy(fixtures().join("s1/thywill.db"), &db).unwrap();
    fs::set_permissions(&db, fs::Permissions::from_mode(0o600)).unwrap();
    {
        // Point the invite-token key index at an empty b-tree: the table's rows are then
        // "missing from index sqlite_autoindex_invitetoken_1".
        let c = Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE z (x); CREATE INDEX zi ON z (x);")
            .unwrap();
        let empty_root: i64 = c
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = 'zi'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        c.execute_batch(&format!(
            "PRAGMA writable_schema = ON;
             UPDATE sqlite_master SET rootpage = {empty_root} WHERE name = 'sqlite_autoindex_invitetoken_1';
             DELETE FROM sqlite_master WHERE name IN ('z', 'zi');
             PRAGMA writable_schema = OFF;"
        ))
        .unwrap();
    }
    let (sha, _) = backup::sha256_file(&db, &NoProgress).unwrap();
    fs::write(
        db.with_extension("db.sha256"),
        format!("{sha}  damaged.db\n"),
    )
    .unwrap();
    let v = verify(&db, &VerifyOptions::default(), &NoProgress).unwrap();
    assert!(v.checksum_verified);
    assert!(!v.database_integrity_ok, "{:?}", v.integrity_check);
    assert!(
        v.integrity_check.iter().any(|l| l.contains("ok")),
        "the damage should produce a message containing \"ok\": {:?}",
        v.integrity_check
    );
    assert_eq!(v.status, VerifyStatus::Corrupt);
}

#[test]
fn restore_replaces_the_database_and_never_replays_a_stale_wal() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let backup = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    let prayers_in_backup = count(&db, "prayer");

    // The live database moves on, and a stale WAL full of frames is left beside it (as after
    // a crash, or as ThyWill's cp-restore leaves it).
    let wal = dir.path().join("thywill.db-wal");
    {
        let c = Connection::open(&db).unwrap();
        c.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        c.execute_batch("PRAGMA foreign_keys=OFF; DELETE FROM prayer;")
            .unwrap();
        fs::copy(&wal, dir.path().join("saved-wal")).unwrap();
    }
    fs::copy(dir.path().join("saved-wal"), &wal).unwrap();
    assert_eq!(count(&db, "prayer"), 0);
    fs::copy(dir.path().join("saved-wal"), &wal).unwrap();

    let mut o = RestoreOptions::new(&db, &root);
    o.now = ts("20250103_000000");
    let report = restore(&backup.path, &o, &NoProgress).unwrap();
    assert_eq!(report.quick_check, ["ok"]);
    assert!(report.previous_database_existed);
    assert_eq!(count(&db, "prayer"), prayers_in_backup);

    let safety = report.safety_backup.unwrap();
    assert_eq!(
        safety.path,
        root.join("pre_restore/pre_restore_20250103_000000.db")
    );
    assert_eq!(
        count(&safety.path, "prayer"),
        0,
        "the safety backup holds the replaced state"
    );
    assert!(
        verify(&safety.path, &VerifyOptions::default(), &NoProgress)
            .unwrap()
            .checksum_verified
    );
    let leftovers: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn restore_works_when_the_live_database_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let backup = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    let users = count(&db, "user");
    fs::remove_file(&db).unwrap();
    let _ = fs::remove_file(dir.path().join("thywill.db-wal"));
    let report = restore(&backup.path, &RestoreOptions::new(&db, &root), &NoProgress).unwrap();
    assert!(!report.previous_database_existed);
    assert!(report.safety_backup.is_none());
    assert_eq!(count(&db, "user"), users);
}

#[test]
fn restore_refuses_a_bad_backup_and_leaves_the_database_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let backup = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    flip_byte(&backup.path, 5000);
    let before = fs::read(&db).unwrap();
    let err = restore(&backup.path, &RestoreOptions::new(&db, &root), &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert_eq!(fs::read(&db).unwrap(), before);
    let err = restore(
        &root.join("daily/missing.db"),
        &RestoreOptions::new(&db, &root),
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn restore_refuses_while_a_writer_holds_the_database_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let backup = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    let prayers = count(&db, "prayer");

    let writer = Connection::open(&db).unwrap();
    writer
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM prayermark;")
        .unwrap();

    let mut o = RestoreOptions::new(&db, &root);
    o.now = ts("20250102_000000");
    let err = restore(&backup.path, &o, &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("--force"), "{err}");

    o.lock = LockPolicy::Wait(1);
    let err = restore(&backup.path, &o, &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);

    o.lock = LockPolicy::Force;
    o.now = ts("20250102_000001");
    let report = restore(&backup.path, &o, &NoProgress).unwrap();
    assert!(!report.warnings.is_empty());
    writer.execute_batch("ROLLBACK").unwrap();
    drop(writer);
    assert_eq!(count(&db, "prayer"), prayers);
    assert_eq!(report.quick_check, ["ok"]);
}

#[test]
fn restore_dry_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let backup = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM prayermark", [])
        .unwrap();
    let safety_root = dir.path().join("safety");
    let mut o = RestoreOptions::new(&db, &safety_root);
    o.dry_run = true;
    let report = restore(&backup.path, &o, &NoProgress).unwrap();
    assert!(report.dry_run && report.safety_backup.is_none());
    assert_eq!(count(&db, "prayermark"), 0);
    assert!(!safety_root.exists(), "a dry run creates nothing");
}

#[test]
fn restore_safe_brings_an_old_backup_up_to_the_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    // An "old" database: no membership_application table, no user.supporter_type, no unique index.
    let old = dir.path().join("old");
    fs::create_dir(&old).unwrap();
    let old_db = live_db(&old);
    Connection::open(&old_db)
        .unwrap()
        .execute_batch(
            "DROP TABLE IF EXISTS membership_application;
             DROP INDEX IF EXISTS idx_user_display_name_unique;
             ALTER TABLE user DROP COLUMN supporter_type;",
        )
        .unwrap();
    let root = dir.path().join("backups");
    let backup = backup_at(&old_db, &root, Tier::Weekly, "20240101_030000");

    let mut o = RestoreOptions::new(&db, &root);
    o.mode = RestoreMode::Safe;
    o.dry_run = true;
    let planned = restore(&backup.path, &o, &NoProgress)
        .unwrap()
        .schema
        .unwrap();
    assert!(planned.planned_only);

    o.dry_run = false;
    let report = restore(&backup.path, &o, &NoProgress).unwrap();
    let schema = report.schema.unwrap();
    assert_eq!(schema.changes, planned.changes);
    assert!(schema.changes.contains(&SchemaChange::CreateTable {
        table: "membership_application".into()
    }));
    assert!(schema.changes.contains(&SchemaChange::CreateIndex {
        index: "idx_user_display_name_unique".into()
    }));
    assert!(schema.changes.iter().any(|c| matches!(c,
        SchemaChange::AddColumn { table, column, .. } if table == "user" && column == "supporter_type")));
    let c = Connection::open(&db).unwrap();
    let has_column: i64 = c
        .query_row(
            "SELECT count(*) FROM pragma_table_info('user') WHERE name = 'supporter_type'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(has_column, 1);
    assert_eq!(count(&db, "membership_application"), 0);
    // A second upgrade finds nothing to do.
    drop(c);
    let again = backup_at(&db, &root, Tier::Daily, "20250101_000000");
    let mut o = RestoreOptions::new(&db, &root);
    o.mode = RestoreMode::Safe;
    o.now = ts("20250101_000001");
    assert!(restore(&again.path, &o, &NoProgress)
        .unwrap()
        .schema
        .unwrap()
        .changes
        .is_empty());
}

#[test]
fn list_and_cleanup_follow_the_names_not_the_mtimes() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    for when in ["20250101_090000", "20250102_090000", "20250103_090000"] {
        backup_at(&db, &root, Tier::Hourly, when);
    }
    backup_at(&db, &root, Tier::Daily, "20241101_020000");
    // ThyWill left a pre-restore copy in the root.
    fs::copy(&db, root.join("pre_restore_20240101_000000.db")).unwrap();

    let now = ts("20250103_100000");
    let listed = list(
        &ListOptions {
            backup_root: root.clone(),
            now,
            deep: false,
        },
        &[],
        &NoProgress,
    )
    .unwrap();
    assert_eq!(listed.entries.len(), 5);
    let legacy = listed
        .entries
        .iter()
        .find(|e| e.kind == BackupKind::PreRestore)
        .unwrap();
    assert!(!legacy.verified && !legacy.complete);
    assert!(listed
        .entries
        .iter()
        .filter(|e| e.kind != BackupKind::PreRestore)
        .all(|e| e.verified));
    let hourly_ages: Vec<i64> = listed
        .entries
        .iter()
        .filter(|e| e.kind == BackupKind::Tier(Tier::Hourly))
        .map(|e| e.age_seconds)
        .collect();
    assert_eq!(hourly_ages, [49 * 3600, 25 * 3600, 3600]);

    let options = CleanupOptions {
        backup_root: root.clone(),
        policy: RetentionPolicy::default(),
        now,
        dry_run: true,
        database: None,
    };
    let dry = cleanup(&options, &[], &NoProgress).unwrap();
    assert_eq!(dry.deleted_sets, 1, "{:#?}", dry.actions);
    assert!(root
        .join("hourly/thywill_hourly_20250101_090000.db")
        .exists());
    let real = cleanup(
        &CleanupOptions {
            dry_run: false,
            ..options
        },
        &[],
        &NoProgress,
    )
    .unwrap();
    assert_eq!(real.deleted_sets, 1);
    let remaining: Vec<String> = fs::read_dir(root.join("hourly"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("20250101"))
        .collect();
    assert!(remaining.is_empty(), "{remaining:?}");
    // The 2-month-old daily is the newest verified daily: kept. The lone legacy
    // pre-restore copy is among the newest three: kept.
    assert!(root.join("daily/thywill_daily_20241101_020000.db").exists());
    assert!(root.join("pre_restore_20240101_000000.db").exists());
}

#[test]
fn folder_remote_round_trip_list_restore_and_retention() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let target = FolderTarget::new(dir.path().join("usb"));
    let first = backup_at(&db, &root, Tier::Daily, "20241001_020000");
    let second = backup_at(&db, &root, Tier::Daily, "20250101_020000");
    for set in [&first, &second] {
        let pushed = remote::push_set(&target, &set.path, &NoProgress).unwrap();
        assert!(pushed.members.iter().all(|m| m.verified));
    }
    let sidecar = fs::read_to_string(
        dir.path()
            .join("usb/daily/thywill_daily_20250101_020000.db.sha256"),
    )
    .unwrap();
    assert!(
        sidecar.ends_with("  thywill_daily_20250101_020000.db\n"),
        "{sidecar}"
    );

    let targets: [&dyn RemoteTarget; 1] = [&target];
    let listed = list(
        &ListOptions {
            backup_root: root.clone(),
            now: ts("20250102_000000"),
            deep: false,
        },
        &targets,
        &NoProgress,
    )
    .unwrap();
    let remote_entries: Vec<_> = listed
        .entries
        .iter()
        .filter(|e| matches!(e.location, backup::Location::Remote { .. }))
        .collect();
    assert_eq!(remote_entries.len(), 2);
    assert!(remote_entries.iter().all(|e| e.verified && e.complete));

    // Restore from the remote after the local copies are gone.
    fs::remove_dir_all(&root).unwrap();
    Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA foreign_keys=OFF; DELETE FROM prayer;")
        .unwrap();
    let name = SetName::parse_stem("thywill_daily_20250101_020000").unwrap();
    let staging = dir.path().join("staging");
    let fetched = remote::fetch_set(&target, &name, &staging, &NoProgress)
        .unwrap()
        .database;
    let report = restore(&fetched, &RestoreOptions::new(&db, &root), &NoProgress).unwrap();
    assert_eq!(report.quick_check, ["ok"]);
    assert!(count(&db, "prayer") > 0);

    // A remote copy damaged after upload is caught when it comes back.
    flip_byte(
        &dir.path()
            .join("usb/daily/thywill_daily_20241001_020000.db"),
        7000,
    );
    let old = SetName::parse_stem("thywill_daily_20241001_020000").unwrap();
    let fetched = remote::fetch_set(&target, &old, &dir.path().join("staging2"), &NoProgress)
        .unwrap()
        .database;
    assert_eq!(
        verify(&fetched, &VerifyOptions::default(), &NoProgress)
            .unwrap()
            .status,
        VerifyStatus::Corrupt
    );

    // Remote retention: the October set is past 30 days and not the newest verified one.
    let report = cleanup(
        &CleanupOptions {
            backup_root: root.clone(),
            policy: RetentionPolicy::default(),
            now: ts("20250102_000000"),
            dry_run: false,
            database: None,
        },
        &targets,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.deleted_sets, 1, "{:#?}", report.actions);
    assert!(!dir
        .path()
        .join("usb/daily/thywill_daily_20241001_020000.db")
        .exists());
    assert!(dir
        .path()
        .join("usb/daily/thywill_daily_20250101_020000.db")
        .exists());
}
