//! The compositions every front end calls: back up and copy to every remote
//! (`create_and_copy`), and restore a set from a remote (`restore_from_remote`), on real
//! databases and folder remotes, with real processes beside the database.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::support::backup::{count, dead_pid, flip_byte, live_db, ts, App};
use rusqlite::Connection;
use thywill_core::backup::remote::{self, FolderTarget, RemoteTarget};
use thywill_core::backup::{
    create_and_copy, restore_from_remote, staging_dir, CreateOptions, LockPolicy, RestoreOptions,
    SetName, Tier,
};
use thywill_core::progress::{NoProgress, ProgressEvent};
use thywill_core::ErrorKind;

fn options(db: &Path, root: &Path, when: &str) -> CreateOptions {
    let mut o = CreateOptions::new(db, root, Tier::Daily);
    o.now = ts(when);
    o
}

/// A folder remote that cannot work: its folder would be below a regular file.
fn broken_remote(dir: &Path) -> FolderTarget {
    let file = dir.join("not-a-folder");
    fs::write(&file, b"x").unwrap();
    FolderTarget::new(file.join("usb"))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn create_and_copy_copies_to_every_remote_and_collects_the_one_that_fails() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let first = FolderTarget::new(dir.path().join("usb1"));
    let broken = broken_remote(dir.path());
    let second = FolderTarget::new(dir.path().join("usb2"));
    let remotes: [&dyn RemoteTarget; 3] = [&first, &broken, &second];

    let report = create_and_copy(
        &options(&db, &root, "20250101_020000"),
        &remotes,
        &NoProgress,
    )
    .unwrap();
    assert!(report.backup.path.is_file());
    assert_eq!(
        report
            .remotes
            .iter()
            .map(|r| r.target.clone())
            .collect::<Vec<_>>(),
        [first.describe(), second.describe()],
        "the remotes after the failing one are still copied to, in order"
    );
    assert!(report
        .remotes
        .iter()
        .all(|r| r.members.iter().all(|m| m.verified)));
    assert!(report.has_failures());
    assert_eq!(report.remote_failures.len(), 1);
    assert_eq!(report.remote_failures[0].target, broken.describe());
    assert!(!report.remote_failures[0].error.is_empty());
    for target in [&first, &second] {
        let sets = remote::list_sets(target).unwrap();
        assert_eq!(sets.len(), 1);
        assert!(sets[0].verified());
        assert_eq!(sets[0].name.stem(), report.backup.name);
    }
    // The report is what the front ends print as JSON.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["backup"]["name"], report.backup.name.as_str());
    assert_eq!(json["remotes"].as_array().unwrap().len(), 2);
    assert_eq!(
        json["remote_failures"][0]["target"],
        broken.describe().as_str()
    );
}

#[test]
fn without_a_set_nothing_is_copied() {
    let dir = tempfile::tempdir().unwrap();
    let usb = FolderTarget::new(dir.path().join("usb"));
    let remotes: [&dyn RemoteTarget; 1] = [&usb];
    let err = create_and_copy(
        &options(
            &dir.path().join("missing.db"),
            &dir.path().join("backups"),
            "20250101_020000",
        ),
        &remotes,
        &NoProgress,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(files_under(&dir.path().join("usb")).is_empty());
}

#[test]
fn cancelling_during_a_copy_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let first = FolderTarget::new(dir.path().join("usb1"));
    let second = FolderTarget::new(dir.path().join("usb2"));
    let remotes: [&dyn RemoteTarget; 2] = [&first, &second];
    let cancel_uploads = |e: &ProgressEvent<'_>| e.phase != "upload";
    let err = create_and_copy(
        &options(&db, &root, "20250101_020000"),
        &remotes,
        &cancel_uploads,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(
        root.join("daily/thywill_daily_20250101_020000.manifest.json")
            .is_file(),
        "the finished local set stays"
    );
    assert!(remote::list_sets(&first)
        .unwrap()
        .iter()
        .all(|s| s.manifest.is_none()));
    assert!(files_under(&dir.path().join("usb2")).is_empty());
}

/// A live database with a set of it on the folder remote `usb` and no local backups; the
/// live database then loses its prayer marks.
struct Disaster {
    _dir: tempfile::TempDir,
    db: PathBuf,
    root: PathBuf,
    usb: FolderTarget,
    usb_dir: PathBuf,
    name: SetName,
    marks: i64,
}

fn disaster() -> Disaster {
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let usb_dir = dir.path().join("usb");
    let usb = FolderTarget::new(&usb_dir);
    let remotes: [&dyn RemoteTarget; 1] = [&usb];
    let made = create_and_copy(
        &options(&db, &root, "20250101_020000"),
        &remotes,
        &NoProgress,
    )
    .unwrap();
    assert!(!made.has_failures());
    fs::remove_dir_all(&root).unwrap();
    let marks = count(&db, "prayermark");
    assert!(marks > 0);
    Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM prayermark", [])
        .unwrap();
    Disaster {
        db,
        root,
        usb,
        usb_dir,
        name: "thywill_daily_20250101_020000".parse().unwrap(),
        marks,
        _dir: dir,
    }
}

fn restore_options(d: &Disaster) -> RestoreOptions {
    let mut o = RestoreOptions::new(&d.db, &d.root);
    o.now = ts("20250102_000000");
    o
}

#[test]
fn restore_from_remote_stages_under_its_pid_restores_and_removes_the_staging_folder() {
    let d = disaster();
    let staging = d
        .root
        .join(format!(".remote-staging-{}", std::process::id()));
    assert_eq!(staging_dir(&d.root), staging);
    let staged_file = staging.join("daily/thywill_daily_20250101_020000.db");
    let seen_staged = AtomicBool::new(false);
    let progress = |e: &ProgressEvent<'_>| {
        if e.phase == "restore" && staged_file.is_file() {
            seen_staged.store(true, Ordering::SeqCst);
        }
        true
    };
    let report = restore_from_remote(&d.usb, &d.name, &restore_options(&d), &progress).unwrap();
    assert!(
        seen_staged.load(Ordering::SeqCst),
        "the set was restored from the staging folder"
    );
    assert!(!staging.exists(), "the staging folder is removed");
    assert_eq!(report.target, d.usb.describe());
    assert_eq!(report.name, "thywill_daily_20250101_020000");
    assert_eq!(report.fetch.database, staged_file);
    assert_eq!(report.restore.source, staged_file);
    let member = report
        .fetch
        .members
        .iter()
        .find(|m| m.file == "thywill_daily_20250101_020000.db")
        .unwrap();
    assert_eq!(
        member.size,
        fs::metadata(d.usb_dir.join("daily/thywill_daily_20250101_020000.db"))
            .unwrap()
            .len()
    );
    assert!(report.restore.verification.is_ok());
    assert_eq!(report.restore.quick_check, ["ok"]);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(count(&d.db, "prayermark"), d.marks);
    // The replaced database was saved first, as by any restore.
    let safety = report.restore.safety_backup.as_ref().unwrap();
    assert!(safety.path.starts_with(d.root.join("pre_restore")));
    assert_eq!(count(&safety.path, "prayermark"), 0);
}

#[test]
fn a_dry_run_from_a_remote_verifies_the_set_and_changes_nothing_else() {
    let d = disaster();
    let before = fs::read(&d.db).unwrap();
    let mut o = restore_options(&d);
    o.dry_run = true;
    let report = restore_from_remote(&d.usb, &d.name, &o, &NoProgress).unwrap();
    assert!(report.restore.dry_run);
    assert!(report.restore.verification.is_ok());
    assert!(report.restore.safety_backup.is_none());
    assert_eq!(fs::read(&d.db).unwrap(), before);
    assert_eq!(count(&d.db, "prayermark"), 0);
    assert!(!staging_dir(&d.root).exists());
    assert!(files_under(&d.root)
        .iter()
        .all(|f| f.file_name().is_some_and(|n| n == ".thywill-backup.lock")));
}

#[test]
fn a_corrupt_remote_set_is_refused_and_its_staging_folder_removed() {
    let d = disaster();
    flip_byte(
        &d.usb_dir.join("daily/thywill_daily_20250101_020000.db"),
        7000,
    );
    let before = fs::read(&d.db).unwrap();
    let err = restore_from_remote(&d.usb, &d.name, &restore_options(&d), &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert_eq!(
        fs::read(&d.db).unwrap(),
        before,
        "the live database is untouched"
    );
    assert!(!staging_dir(&d.root).exists());
    assert!(
        !d.root.join("pre_restore").exists(),
        "nothing was replaced, so nothing needed saving"
    );
}

#[test]
fn a_set_the_remote_does_not_have_is_not_found_and_leaves_no_staging_folder() {
    let d = disaster();
    let other: SetName = "thywill_daily_20240101_020000.db".parse().unwrap();
    let err = restore_from_remote(&d.usb, &other, &restore_options(&d), &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(!staging_dir(&d.root).exists());
}

#[test]
fn cancelling_a_remote_restore_removes_the_staging_folder() {
    let d = disaster();
    let staging = staging_dir(&d.root);
    let staged_before_cancel = AtomicBool::new(false);
    let cancel_downloads = |e: &ProgressEvent<'_>| {
        if e.phase == "download" {
            staged_before_cancel.store(staging.is_dir(), Ordering::SeqCst);
            return false;
        }
        true
    };
    let err =
        restore_from_remote(&d.usb, &d.name, &restore_options(&d), &cancel_downloads).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(staged_before_cancel.load(Ordering::SeqCst));
    assert!(!staging.exists());
    assert_eq!(count(&d.db, "prayermark"), 0);
}

#[test]
fn a_remote_restore_beside_the_app_is_refused_before_downloading_unless_forced() {
    let d = disaster();
    let app = App::start(&d.db);
    let phases = Mutex::new(Vec::<String>::new());
    let record = |e: &ProgressEvent<'_>| {
        phases.lock().unwrap().push(e.phase.to_string());
        true
    };
    let err = restore_from_remote(&d.usb, &d.name, &restore_options(&d), &record).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string().contains(&format!("pid {}", app.pid())),
        "{err}"
    );
    assert!(
        phases.lock().unwrap().is_empty(),
        "refused before anything was downloaded: {:?}",
        phases.lock().unwrap()
    );
    assert!(!d.root.exists(), "nothing was written");

    // Waiting downloads, then gives up; the staging folder goes all the same.
    let mut o = restore_options(&d);
    o.lock = LockPolicy::Wait(1);
    let err = restore_from_remote(&d.usb, &d.name, &o, &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(!staging_dir(&d.root).exists());
    assert_eq!(count(&d.db, "prayermark"), 0);

    o.lock = LockPolicy::Force;
    let report = restore_from_remote(&d.usb, &d.name, &o, &NoProgress).unwrap();
    assert_eq!(
        report
            .restore
            .other_processes
            .iter()
            .map(|p| p.pid)
            .collect::<Vec<_>>(),
        [app.pid()]
    );
    assert!(!staging_dir(&d.root).exists());
    app.stop();
    assert_eq!(count(&d.db, "prayermark"), d.marks);
}

#[test]
fn the_staging_folder_of_a_killed_run_is_removed_and_reported() {
    let d = disaster();
    let stale = d.root.join(format!(".remote-staging-{}", dead_pid()));
    fs::create_dir_all(stale.join("daily")).unwrap();
    fs::write(stale.join("daily/thywill_daily_20240101_020000.db"), b"x").unwrap();
    let report = restore_from_remote(&d.usb, &d.name, &restore_options(&d), &NoProgress).unwrap();
    assert_eq!(
        report.restore.removed_stale_files,
        std::slice::from_ref(&stale)
    );
    assert!(!stale.exists());
    assert!(!staging_dir(&d.root).exists());
}
