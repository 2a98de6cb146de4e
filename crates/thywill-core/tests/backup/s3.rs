//! Remote copies on S3, against moto's S3 server started here on loopback.
//!
//! moto is found as `$MOTO_SERVER`, else `moto_server` on `PATH`
//! (`pip install 'moto[server]==5.*' boto3`). Without it the test is skipped, except under
//! `CI=true`, where it fails.
#![cfg(feature = "s3")]

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::backup::{count, flip_byte, live_db, ts};
use rusqlite::Connection;
use thywill_core::backup::remote::{
    self, FolderTarget, RemoteSpec, RemoteTarget, S3Credentials, S3Target,
};
use thywill_core::backup::retention::RetentionPolicy;
use thywill_core::backup::{
    cleanup, create, create_and_copy, restore, restore_from_remote, staging_dir, verify,
    CleanupOptions, CreateOptions, RestoreOptions, SetName, Tier, VerifyOptions, VerifyStatus,
};
use thywill_core::progress::NoProgress;

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_moto() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
}

fn start_moto() -> Option<Moto> {
    let Some(exe) = find_moto() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "moto_server not found (set MOTO_SERVER or put it on PATH); required under CI=true"
            );
        }
        eprintln!("SKIPPED: moto_server not found (set MOTO_SERVER or put it on PATH)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&exe)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
    let moto = Moto { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(moto)
}

/// object_store cannot create buckets; moto accepts an unsigned `PUT /<bucket>`.
fn create_bucket(port: u16, bucket: &str) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

fn spec(port: u16) -> RemoteSpec {
    RemoteSpec::parse(&format!(
        "s3://thywill-test/community/backups?endpoint=http://127.0.0.1:{port}&region=us-east-1&allow_http=true"
    ))
    .unwrap()
}

fn credentials() -> S3Credentials {
    S3Credentials {
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        session_token: None,
    }
}

fn backup_at(db: &Path, root: &Path, when: &str) -> PathBuf {
    let mut o = CreateOptions::new(db, root, Tier::Daily);
    o.now = ts(when);
    create(&o, &NoProgress).unwrap().path
}

#[test]
fn s3_push_verify_list_fetch_restore_and_retention() {
    let Some(moto) = start_moto() else { return };
    create_bucket(moto.port, "thywill-test");
    let target = S3Target::new(&spec(moto.port), &credentials()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let old = backup_at(&db, &root, "20241001_020000");
    // Grow the database past the multipart threshold so both upload paths run.
    {
        let c = Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE ballast (b BLOB)").unwrap();
        for _ in 0..40 {
            c.execute("INSERT INTO ballast SELECT randomblob(1048576)", [])
                .unwrap();
        }
    }
    let new = backup_at(&db, &root, "20250101_020000");
    assert!(std::fs::metadata(&new).unwrap().len() > 40 << 20);

    for set in [&old, &new] {
        let pushed = remote::push_set(&target, set, &NoProgress).unwrap();
        assert!(pushed.members.iter().all(|m| m.verified));
    }
    let sets = remote::list_sets(&target).unwrap();
    assert_eq!(sets.len(), 2);
    assert!(sets.iter().all(|s| s.verified()));
    let sidecar = target
        .read("daily/thywill_daily_20250101_020000.db.sha256")
        .unwrap();
    assert!(String::from_utf8(sidecar)
        .unwrap()
        .ends_with("  thywill_daily_20250101_020000.db\n"));

    // The same target through the spec, with credentials from a lookup (never argv).
    let env = |k: &str| match k {
        "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some(OsString::from("testing")),
        _ => None,
    };
    let opened = spec(moto.port).open(&env).unwrap();
    assert_eq!(remote::list_sets(opened.as_ref()).unwrap().len(), 2);

    // Disaster: local backups and live rows gone; restore from S3.
    std::fs::remove_dir_all(&root).unwrap();
    let ballast_rows = count(&db, "ballast");
    Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM ballast", [])
        .unwrap();
    let name = SetName::parse_stem("thywill_daily_20250101_020000").unwrap();
    let fetched = remote::fetch_set(&target, &name, &dir.path().join("staging"), &NoProgress)
        .unwrap()
        .database;
    let report = restore(&fetched, &RestoreOptions::new(&db, &root), &NoProgress).unwrap();
    assert_eq!(report.quick_check, ["ok"]);
    assert_eq!(count(&db, "ballast"), ballast_rows);

    // Damage on the remote is caught when the set comes back.
    let staging = dir.path().join("damaged");
    let oldname = SetName::parse_stem("thywill_daily_20241001_020000").unwrap();
    let fetched_old = remote::fetch_set(&target, &oldname, &staging, &NoProgress)
        .unwrap()
        .database;
    flip_byte(&fetched_old, 6000);
    target
        .put_file(
            &fetched_old,
            "daily/thywill_daily_20241001_020000.db",
            &NoProgress,
        )
        .unwrap();
    let refetched = remote::fetch_set(&target, &oldname, &dir.path().join("again"), &NoProgress)
        .unwrap()
        .database;
    assert_eq!(
        verify(&refetched, &VerifyOptions::default(), &NoProgress)
            .unwrap()
            .status,
        VerifyStatus::Corrupt
    );

    // Remote retention: the October set goes, the newest stays.
    let targets: [&dyn RemoteTarget; 1] = [&target];
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
    let left = remote::list_sets(&target).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].name, name);
    assert!(target
        .list()
        .unwrap()
        .iter()
        .all(|o| o.key.contains("20250101")));
}

/// The compositions against S3: back up and copy to S3 beside a remote that fails, then
/// restore from S3 through the staging folder; a set damaged on S3 is refused.
#[test]
fn s3_create_and_copy_then_restore_from_remote() {
    let Some(moto) = start_moto() else { return };
    create_bucket(moto.port, "thywill-test");
    let target = S3Target::new(&spec(moto.port), &credentials()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = live_db(dir.path());
    let root = dir.path().join("backups");
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let broken = FolderTarget::new(blocker.join("usb"));
    let remotes: [&dyn RemoteTarget; 2] = [&broken, &target];
    let mut o = CreateOptions::new(&db, &root, Tier::Daily);
    o.now = ts("20250101_020000");
    let made = create_and_copy(&o, &remotes, &NoProgress).unwrap();
    assert_eq!(made.remotes.len(), 1);
    assert_eq!(made.remotes[0].target, target.describe());
    assert_eq!(made.remote_failures.len(), 1);
    assert_eq!(made.remote_failures[0].target, broken.describe());
    assert!(remote::list_sets(&target).unwrap()[0].verified());

    std::fs::remove_dir_all(&root).unwrap();
    let marks = count(&db, "prayermark");
    Connection::open(&db)
        .unwrap()
        .execute("DELETE FROM prayermark", [])
        .unwrap();
    let name: SetName = made.backup.name.parse().unwrap();
    let mut r = RestoreOptions::new(&db, &root);
    r.now = ts("20250102_000000");
    let report = restore_from_remote(&target, &name, &r, &NoProgress).unwrap();
    assert_eq!(report.restore.quick_check, ["ok"]);
    assert_eq!(count(&db, "prayermark"), marks);
    assert!(!staging_dir(&root).exists());

    // Damage the set on S3: the restore refuses it and leaves no staging folder.
    let local = dir.path().join("damaged.db");
    target
        .get_file(
            "daily/thywill_daily_20250101_020000.db",
            &local,
            &NoProgress,
        )
        .unwrap();
    flip_byte(&local, 6000);
    target
        .put_file(
            &local,
            "daily/thywill_daily_20250101_020000.db",
            &NoProgress,
        )
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    r.now = ts("20250102_000001");
    let err = restore_from_remote(&target, &name, &r, &NoProgress).unwrap_err();
    assert_eq!(err.kind(), thywill_core::ErrorKind::Corrupt, "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert!(!staging_dir(&root).exists());
}

#[test]
fn s3_without_credentials_refuses_instead_of_asking_the_cloud() {
    let Err(err) = spec(9).open(&|_| None) else {
        panic!("opened without credentials")
    };
    assert_eq!(err.kind(), thywill_core::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("no S3 credentials"), "{err}");
}
