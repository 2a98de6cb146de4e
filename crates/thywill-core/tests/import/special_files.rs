//! Files an archive folder may hold that are not regular files (FIFOs, sockets, links to
//! devices), file names that are not UTF-8, and the database an import leaves behind when
//! it fails. Nothing here may hang: every import runs under a hang detector.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::Duration;

use rusqlite::Connection;
use thywill_core::archive::check::check_tree;
use thywill_core::archive::parsed::parse_file;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{
    import_prayer_file, import_text_archives, report::entity, ImportReport, JsonPrayersOptions,
    JsonPrayersPlan, PrayerFileOptions, TextArchiveOptions,
};
use thywill_core::progress::{NoProgress, ProgressEvent};
use thywill_core::ErrorKind;

const PRAYER_ID: &str = "abcdef0123456789abcdef0123456789";
const LINKED_ID: &str = "0123456789abcdef0123456789abcdef";
const ODD_NAME_ID: &str = "fedcba9876543210fedcba9876543210";

/// Runs `work` on its own thread and fails the test if it has not finished after a minute.
/// This is a hang detector, not a timing assertion: the work takes well under a second.
fn without_hanging<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => panic!("{what} did not finish within 60 s: it hangs"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}

fn write(root: &Path, rel: impl AsRef<Path>, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let name = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(name.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

fn symlink(target: &Path, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn prayer_text(id: &str, author: &str, day: u32) -> String {
    format!(
        "Prayer {id} by {author}\nSubmitted January {day:02} 2024 at 10:00\n\nPlease pray for {author}\n\n\
         Generated Prayer:\nLord, be with {author}.\n\nActivity:\n\
         January {day:02} 2024 at 11:00 - Bob Stone prayed this prayer\n"
    )
}

fn options() -> TextArchiveOptions {
    TextArchiveOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..TextArchiveOptions::default()
    }
}

/// A small archive with a FIFO, a socket and links to a FIFO, to a device and to a
/// folder, all named like archive files, beside ordinary files and a link to a regular file.
fn hostile_archive(dir: &Path) -> PathBuf {
    let root = dir.join("text_archives");
    write(
        &root,
        "users/2024_01_users.txt",
        "User Registrations for January 2024\n\nJanuary 01 2024 at 10:00 - Bob Stone joined directly\n",
    );
    write(
        &root,
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt",
        &prayer_text(PRAYER_ID, "Ann Lee", 5),
    );
    // A regular prayer file outside the folder, linked in: read.
    write(
        dir,
        "elsewhere/linked.txt",
        &prayer_text(LINKED_ID, "Dan Linked", 8),
    );
    symlink(
        &dir.join("elsewhere/linked.txt"),
        &root.join("prayers/2024/01/2024_01_08_prayer_at_1000.txt"),
    );
    // A FIFO in a prayer month folder (read by the streaming reader) and one among the
    // planned files (users), one of a kind no phase imports, and one linked in.
    mkfifo(&root.join("prayers/2024/01/2024_01_06_prayer_at_1000.txt"));
    mkfifo(&root.join("users/2024_02_users.txt"));
    mkfifo(&root.join("activity/activity_2024_01.txt"));
    mkfifo(&dir.join("elsewhere/fifo"));
    symlink(
        &dir.join("elsewhere/fifo"),
        &root.join("prayers/2024/01/2024_01_07_prayer_at_1000.txt"),
    );
    // A device that never ends, named like a users file.
    symlink(
        Path::new("/dev/zero"),
        &root.join("users/2024_03_users.txt"),
    );
    // A link to a folder, named like a ledger.
    symlink(
        &dir.join("elsewhere"),
        &root.join("prayers/marks/2024_01_marks.txt"),
    );
    // A socket named like a sessions file.
    std::fs::create_dir_all(root.join("sessions")).unwrap();
    let socket =
        std::os::unix::net::UnixListener::bind(root.join("sessions/2024_01_sessions.txt")).unwrap();
    std::mem::forget(socket);
    root
}

fn notes_about(report: &ImportReport, file: &str) -> Vec<String> {
    report
        .notes
        .iter()
        .filter(|n| n.file == file)
        .map(|n| n.reason.clone())
        .collect()
}

#[test]
fn fifos_sockets_and_links_to_devices_are_reported_and_skipped_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_archive(dir.path());
    let db = dir.path().join("thywill.db");
    for dry_run in [true, false] {
        let (root, target) = (root.clone(), db.clone());
        let report = without_hanging("import text-archives", move || {
            let options = TextArchiveOptions {
                dry_run,
                ..options()
            };
            import_text_archives(&root, &target, &options, &NoProgress)
        })
        .unwrap();
        assert!(!report.has_failures(), "{:#?}", report.failures);
        assert_eq!(
            report.counts(entity::PRAYERS).inserted,
            2,
            "dry run {dry_run}"
        );
        assert_eq!(
            report.counts(entity::USERS).inserted,
            3,
            "dry run {dry_run}"
        );
        for (file, what) in [
            ("prayers/2024/01/2024_01_06_prayer_at_1000.txt", "FIFO"),
            (
                "prayers/2024/01/2024_01_07_prayer_at_1000.txt",
                "symbolic link to a FIFO",
            ),
            ("users/2024_02_users.txt", "FIFO"),
            (
                "users/2024_03_users.txt",
                "symbolic link to a character device",
            ),
            (
                "prayers/marks/2024_01_marks.txt",
                "symbolic link to a folder",
            ),
            ("sessions/2024_01_sessions.txt", "socket"),
            ("activity/activity_2024_01.txt", "FIFO"),
        ] {
            let notes = notes_about(&report, file);
            assert!(
                notes
                    .iter()
                    .any(|n| n.contains(what) && n.contains("not read")),
                "{file}: {notes:?}"
            );
        }
        assert!(report.counts(entity::FILES).skipped >= 7);
        assert_eq!(db.exists(), !dry_run);
    }
    let conn = Connection::open(&db).unwrap();
    let paths: Vec<String> = conn
        .prepare("SELECT text_file_path FROM prayer ORDER BY text_file_path")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        paths,
        [
            "text_archives/prayers/2024/01/2024_01_05_prayer_at_1000.txt",
            "text_archives/prayers/2024/01/2024_01_08_prayer_at_1000.txt"
        ]
    );
}

#[test]
fn archive_parse_and_check_and_import_prayer_refuse_a_fifo_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_archive(dir.path());
    for rel in [
        "users/2024_02_users.txt",
        "users/2024_03_users.txt",
        "prayers/2024/01/2024_01_07_prayer_at_1000.txt",
        "sessions/2024_01_sessions.txt",
    ] {
        let path = root.join(rel);
        let err = without_hanging("archive parse", move || parse_file(&path)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{rel}: {err}");
        assert!(
            err.to_string().contains("not a regular file"),
            "{rel}: {err}"
        );
    }
    let fifo = root.join("prayers/2024/01/2024_01_06_prayer_at_1000.txt");
    let db = dir.path().join("single.db");
    let db_in_thread = db.clone();
    let err = without_hanging("import prayer", move || {
        import_prayer_file(
            &fifo,
            &db_in_thread,
            &PrayerFileOptions::default(),
            &NoProgress,
        )
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(!db.exists(), "a failed import creates no database");
    // A FIFO given as the archive (a ZIP) itself.
    let fifo_zip = dir.path().join("archive.zip");
    mkfifo(&fifo_zip);
    let db_in_thread = db.clone();
    let err = without_hanging("import text-archives from a FIFO", move || {
        import_text_archives(&fifo_zip, &db_in_thread, &options(), &NoProgress)
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(!db.exists());

    let check_root = root.clone();
    let report = without_hanging("archive check", move || {
        check_tree(&check_root, &NoProgress)
    })
    .unwrap();
    let listed: Vec<String> = report
        .not_regular_files
        .iter()
        .map(|f| format!("{} ({})", f.path.display(), f.what))
        .collect();
    for expected in [
        "prayers/2024/01/2024_01_06_prayer_at_1000.txt (FIFO)",
        "users/2024_03_users.txt (symbolic link to a character device)",
        "sessions/2024_01_sessions.txt (socket)",
    ] {
        assert!(
            listed.iter().any(|l| l == expected),
            "{expected}: {listed:?}"
        );
    }
    // The regular files and the link to a regular file are checked as before.
    assert_eq!(report.files_checked, 3, "{report:#?}");
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
}

#[test]
fn a_prayer_file_whose_name_is_not_utf8_is_imported_and_the_import_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    write(
        &root,
        "users/2024_01_users.txt",
        "User Registrations for January 2024\n\nJanuary 01 2024 at 10:00 - Bob Stone joined directly\n",
    );
    write(
        &root,
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt",
        &prayer_text(PRAYER_ID, "Ann Lee", 5),
    );
    let month = root.join("prayers/2024/01");
    let odd = OsStr::from_bytes(b"2024_01_06_prayer_at_1000_\xff.txt");
    write(&month, odd, &prayer_text(ODD_NAME_ID, "Eve Odd", 6));
    // A users file whose name is not UTF-8 is no users-file name: noted, not imported.
    write(
        &root.join("users"),
        OsStr::from_bytes(b"2024_02_users\xfe.txt"),
        "User Registrations for February 2024\n\nFebruary 01 2024 at 10:00 - Zed joined directly\n",
    );
    let db = dir.path().join("thywill.db");
    for run in 0..2 {
        let report = import_text_archives(&root, &db, &options(), &NoProgress).unwrap();
        assert!(!report.has_failures(), "{:#?}", report.failures);
        let odd_notes = notes_about(
            &report,
            "prayers/2024/01/2024_01_06_prayer_at_1000_\\xff.txt",
        );
        assert!(
            odd_notes.iter().any(|n| n.contains("not valid UTF-8")),
            "{:#?}",
            report.notes
        );
        let users_notes = notes_about(&report, "users/2024_02_users\\xfe.txt");
        assert!(
            users_notes.iter().any(|n| n.contains("not valid UTF-8")),
            "{:#?}",
            report.notes
        );
        if run == 0 {
            assert_eq!(report.counts(entity::PRAYERS).inserted, 2);
        } else {
            assert_eq!(report.total_changes(), 0, "{report:#?}");
        }
    }
    let conn = Connection::open(&db).unwrap();
    let (author, path): (String, Option<String>) = conn
        .query_row(
            "SELECT author_username, text_file_path FROM prayer WHERE id = ?1",
            [ODD_NAME_ID],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(author, "Eve Odd");
    assert_eq!(path, None, "no path ThyWill could open is stored");
    let marks: i64 = conn
        .query_row(
            "SELECT count(*) FROM prayermark WHERE prayer_id = ?1",
            [ODD_NAME_ID],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(marks, 1);
    let zed: i64 = conn
        .query_row(
            "SELECT count(*) FROM user WHERE display_name = 'Zed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(zed, 0);
}

#[test]
fn failed_imports_and_missing_inputs_leave_no_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("thywill.db");
    let missing = dir.path().join("missing");
    // Missing inputs.
    let err =
        import_prayer_file(&missing, &db, &PrayerFileOptions::default(), &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!db.exists());
    let err = import_text_archives(&missing, &db, &options(), &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!db.exists());
    let err = JsonPrayersPlan::from_file(&missing)
        .and_then(|plan| plan.apply(&db, &JsonPrayersOptions { dry_run: false }, &NoProgress))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!db.exists());
    // A file that is no prayer: a failed record, nothing written.
    let not_prayer = dir.path().join("note.txt");
    std::fs::write(&not_prayer, "hello\n").unwrap();
    let report =
        import_prayer_file(&not_prayer, &db, &PrayerFileOptions::default(), &NoProgress).unwrap();
    assert!(report.has_failures());
    assert!(!db.exists(), "nothing was written, so no database file");
    // An import stopped half-way (cancelled) removes the database file it created.
    let root = dir.path().join("text_archives");
    write(
        &root,
        "users/2024_01_users.txt",
        "User Registrations for January 2024\n\nJanuary 01 2024 at 10:00 - Bob Stone joined directly\n",
    );
    write(
        &root,
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt",
        &prayer_text(PRAYER_ID, "Ann Lee", 5),
    );
    let stop_at_prayers = |event: &ProgressEvent<'_>| event.phase != "prayers";
    let err = import_text_archives(&root, &db, &options(), &stop_at_prayers).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        assert!(!Path::new(&name).exists(), "{suffix}");
    }
    // An existing database is never removed, whatever happens.
    import_text_archives(&root, &db, &options(), &NoProgress).unwrap();
    let err = import_text_archives(&root, &db, &options(), &stop_at_prayers).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(db.exists());
}

#[test]
fn import_prayers_refuses_a_fifo_given_as_its_json_file_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("prayers.json");
    mkfifo(&fifo);
    let link = dir.path().join("link.json");
    symlink(Path::new("/dev/zero"), &link);
    for path in [fifo, link] {
        let shown = path.display().to_string();
        let err = without_hanging("import prayers from a FIFO", move || {
            JsonPrayersPlan::from_file(&path).map(|_| ())
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{shown}: {err}");
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}
