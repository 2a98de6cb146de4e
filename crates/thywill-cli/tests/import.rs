//! `thywill import ...` run as a process.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::fixtures;

fn thywill(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    crate::support::thywill_in(dir, args, env)
}

fn json(out: &Output) -> serde_json::Value {
    crate::support::json_of(out)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn text_archives_from_the_environment_then_idempotent_then_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let archives = fixtures().join("s1-live").join("text_archives");
    let db = dir.path().join("community.db");
    let env = [
        ("DATABASE_PATH", db.to_str().unwrap()),
        ("TEXT_ARCHIVE_BASE_DIR", archives.to_str().unwrap()),
    ];
    let dry = thywill(
        dir.path(),
        &[
            "import",
            "text-archives",
            "--dry-run",
            "--time-zone",
            "utc",
            "--json",
        ],
        &env,
    );
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(!db.exists(), "a dry run creates no database");
    let first = thywill(
        dir.path(),
        &["import", "text-archives", "--time-zone", "utc", "--json"],
        &env,
    );
    assert_eq!(first.status.code(), Some(0));
    let (dry, first) = (json(&dry), json(&first));
    assert_eq!(dry["entities"], first["entities"]);
    assert_eq!(first["entities"]["prayers"]["inserted"], 1000);
    let again = json(&thywill(
        dir.path(),
        &["import", "text-archives", "--time-zone", "utc", "--json"],
        &env,
    ));
    assert_eq!(again["entities"]["prayers"]["already_present"], 1000);
    assert_eq!(again["entities"]["prayer_marks"]["inserted"], 0);
    // Text output: a table of entities.
    let text = thywill(
        dir.path(),
        &["import", "text-archives", "--time-zone", "utc"],
        &env,
    );
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("prayer_marks") && text.contains("inserted"),
        "{text}"
    );
}

#[test]
fn defaults_are_thywill_db_and_text_archives_in_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("text_archives");
    copy_tree(
        &fixtures()
            .join("s1-live")
            .join("text_archives")
            .join("users"),
        &archives.join("users"),
    );
    let out = thywill(dir.path(), &["--json", "import", "text-archives"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("thywill.db").exists());
    assert_eq!(json(&out)["entities"]["users"]["inserted"], 100);
}

#[test]
fn a_failed_record_exits_1_and_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("text_archives");
    let bad = archives.join("prayers/2024/01/2024_01_05_prayer_at_1000.txt");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, "not a prayer\n").unwrap();
    let out = thywill(dir.path(), &["--json", "import", "text-archives"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(
        report["failures"][0]["file"],
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt"
    );
    assert_eq!(report["failures"][0]["line"], 1);
}

#[test]
fn a_zip_with_an_escaping_entry_is_refused() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("evil.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file("../evil.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"x").unwrap();
    zip.finish().unwrap();
    let out = thywill(dir.path(), &["import", "text-archives", "evil.zip"], &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("leaves the extraction folder"));
    assert!(!dir.path().join("thywill.db").exists());
}

#[test]
fn json_prayers_and_a_single_prayer_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prayers.json"),
        r#"[{"text": "Peace for Ann", "author_name": "Ann Lee", "created_at": "2024-01-01T10:00:00"}]"#,
    )
    .unwrap();
    let out = thywill(
        dir.path(),
        &["--json", "import", "prayers", "prayers.json"],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["entities"]["prayers"]["inserted"], 1);
    std::fs::write(dir.path().join("bad.json"), r#"[{"text": 3}]"#).unwrap();
    let out = thywill(
        dir.path(),
        &["--json", "import", "prayers", "bad.json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["failures"][0]["field"], "text");

    let file = fixtures()
        .join("s1")
        .join("text_archives/prayers/2024/06/2024_06_12_prayer_at_1033.txt");
    let args = [
        "--json",
        "import",
        "prayer",
        file.to_str().unwrap(),
        "--time-zone",
        "utc",
    ];
    let out = thywill(dir.path(), &args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["entities"]["prayers"]["inserted"], 1);
    let mut with_update = args.to_vec();
    with_update.extend(["--update-existing", "--dry-run"]);
    let out = thywill(dir.path(), &with_update, &[]);
    assert_eq!(json(&out)["entities"]["prayers"]["already_present"], 1);
}

/// Runs `thywill` and fails the test if it has not ended after a minute (it is then
/// killed). A hang detector, not a timing assertion: these runs take well under a second.
fn thywill_bounded(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_thywill"));
    command
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "DATABASE_PATH",
        "TEXT_ARCHIVE_BASE_DIR",
        "THYWILL_BACKUP_DIR",
    ] {
        command.env_remove(var);
    }
    let mut child = command.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("thywill {args:?} did not end within 60 s: it hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

const PRAYER_ID: &str = "abcdef0123456789abcdef0123456789";

fn intact_prayer() -> String {
    format!(
        "Prayer {PRAYER_ID} by Ann Lee\nSubmitted January 05 2024 at 10:00\n\nPlease pray for my exam\n\n\
         Generated Prayer:\nLord, be with Ann as she studies.\n\nAmen.\n\nActivity:\n\
         January 05 2024 at 11:00 - Bob Stone prayed this prayer\n"
    )
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_fifo_in_the_archive_folder_is_skipped_and_archive_parse_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("text_archives");
    write(
        &archives.join("prayers/2024/01/2024_01_05_prayer_at_1000.txt"),
        intact_prayer().as_bytes(),
    );
    let fifo = archives.join("prayers/2024/01/2024_01_06_prayer_at_1000.txt");
    let users_fifo = archives.join("users/2024_01_users.txt");
    std::fs::create_dir_all(users_fifo.parent().unwrap()).unwrap();
    for path in [&fifo, &users_fifo] {
        let made = Command::new("mkfifo").arg(path).status().unwrap();
        assert!(made.success());
    }
    for dry_run in [true, false] {
        let mut args = vec!["--json", "import", "text-archives", "--time-zone", "utc"];
        if dry_run {
            args.push("--dry-run");
        }
        let out = thywill_bounded(dir.path(), &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = json(&out);
        assert_eq!(report["entities"]["prayers"]["inserted"], 1);
        let notes = report["notes"].as_array().unwrap();
        for file in [
            "prayers/2024/01/2024_01_06_prayer_at_1000.txt",
            "users/2024_01_users.txt",
        ] {
            assert!(
                notes.iter().any(|n| n["file"] == file
                    && n["reason"]
                        .as_str()
                        .unwrap()
                        .contains("not a regular file (FIFO)")),
                "{file}: {notes:?}"
            );
        }
    }
    let out = thywill_bounded(dir.path(), &["archive", "parse", fifo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file (FIFO)"));
    let out = thywill_bounded(dir.path(), &["archive", "check", "text_archives"]);
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("users/2024_01_users.txt: not a regular file (FIFO); not read"));
}

#[test]
fn a_truncated_prayer_file_exits_1_and_update_existing_lets_the_intact_one_correct_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir
        .path()
        .join("text_archives/prayers/2024/01/2024_01_05_prayer_at_1000.txt");
    let whole = intact_prayer();
    let cut = &whole[..whole.find("be with").unwrap()];
    write(&file, cut.as_bytes());
    let args = ["--json", "import", "text-archives", "--time-zone", "utc"];
    let out = thywill(dir.path(), &args, &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let failure = &report["failures"][0];
    assert_eq!(
        failure["file"],
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt"
    );
    assert_eq!(failure["line"], 7);
    assert!(failure["reason"]
        .as_str()
        .unwrap()
        .contains("truncated in its generated prayer"));

    write(&file, whole.as_bytes());
    let out = thywill(dir.path(), &args, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["entities"]["prayers"]["updated"], 0);
    let mut with_update = args.to_vec();
    with_update.push("--update-existing");
    let out = thywill(dir.path(), &with_update, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["entities"]["prayers"]["updated"], 1);
    let out = thywill(dir.path(), &with_update, &[]);
    assert_eq!(json(&out)["entities"]["prayers"]["updated"], 0);
}

#[test]
fn a_prayer_file_whose_name_is_not_utf8_imports_and_the_rest_goes_on() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let month = dir.path().join("text_archives/prayers/2024/01");
    write(
        &month.join(std::ffi::OsStr::from_bytes(
            b"2024_01_05_prayer_at_1000_\xff.txt",
        )),
        intact_prayer().as_bytes(),
    );
    let out = thywill(
        dir.path(),
        &["--json", "import", "text-archives", "--time-zone", "utc"],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["entities"]["prayers"]["inserted"], 1);
    assert_eq!(report["entities"]["prayer_marks"]["inserted"], 1);
}

#[test]
fn ten_megabytes_of_garbage_print_a_short_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 7u64;
    let garbage: Vec<u8> = (0..10 << 20)
        .map(|i| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            if i % 100 == 99 {
                b'\n'
            } else {
                b' ' + ((state >> 33) % 94) as u8
            }
        })
        .collect();
    write(
        &dir.path().join("text_archives/users/2024_01_users.txt"),
        &garbage,
    );
    let mut one_line = garbage.clone();
    one_line.retain(|&b| b != b'\n');
    write(
        &dir.path()
            .join("text_archives/prayers/2024/01/2024_01_05_prayer_at_1000.txt"),
        &one_line,
    );
    for args in [
        &["import", "text-archives"][..],
        &["--json", "import", "text-archives"][..],
    ] {
        let out = thywill(dir.path(), args, &[]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            out.stdout.len() < 100_000,
            "{args:?}: {} bytes printed",
            out.stdout.len()
        );
        assert!(out.stderr.len() < 10_000, "{args:?}");
    }
}

#[test]
fn zip_limits_refuse_a_bomb_and_can_be_raised() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("zeros.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("text_archives/users/2024_01_users.txt", options)
        .unwrap();
    zip.write_all(b"User Registrations for January 2024\n\nJanuary 01 2024 at 10:00 - Bob Stone joined directly\n")
        .unwrap();
    zip.start_file("text_archives/extra/zeros.bin", options)
        .unwrap();
    zip.write_all(&vec![0u8; 4 << 20]).unwrap();
    zip.finish().unwrap();
    let out = thywill(dir.path(), &["import", "text-archives", "zeros.zip"], &[]);
    assert_eq!(out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_zip_ratio"));
    assert!(!dir.path().join("thywill.db").exists());
    let out = thywill(
        dir.path(),
        &[
            "import",
            "text-archives",
            "zeros.zip",
            "--max-zip-ratio",
            "2000",
            "--max-zip-bytes",
            "1M",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(7));
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_zip_bytes"));
    let out = thywill(
        dir.path(),
        &[
            "--json",
            "import",
            "text-archives",
            "zeros.zip",
            "--max-zip-ratio",
            "2000",
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["entities"]["users"]["inserted"], 1);
}

#[test]
fn a_failed_single_import_or_a_missing_input_creates_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = thywill(dir.path(), &["import", "prayer", "missing.txt"], &[]);
    assert_eq!(out.status.code(), Some(3));
    std::fs::write(dir.path().join("note.txt"), "hello\n").unwrap();
    let out = thywill(dir.path(), &["import", "prayer", "note.txt"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let out = thywill(dir.path(), &["import", "text-archives", "missing"], &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(!dir.path().join("thywill.db").exists());
}

#[test]
fn text_archives_phase_by_phase() {
    let dir = tempfile::tempdir().unwrap();
    let archives = fixtures().join("s1").join("text_archives");
    let db = dir.path().join("community.db");
    let env = [
        ("DATABASE_PATH", db.to_str().unwrap()),
        ("TEXT_ARCHIVE_BASE_DIR", archives.to_str().unwrap()),
    ];
    let run = |phases: &[&str], json_out: bool| {
        let mut args = vec!["import", "text-archives", "--time-zone", "utc"];
        for p in phases {
            args.extend(["--phase", p]);
        }
        if json_out {
            args.push("--json");
        }
        thywill(dir.path(), &args, &env)
    };
    // Marks need their prayers: refused, nothing created.
    let refused = run(&["ledgers"], false);
    assert_eq!(refused.status.code(), Some(7));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("the ledgers phase needs the prayers phase"),
        "{stderr}"
    );
    assert!(!db.exists());
    // An unknown phase is a usage error that lists the phases.
    let unknown = run(&["marks"], false);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("membership_applications"));
    // Given in any order, run in import order, with ThyWill's counters.
    let first = run(&["prayers", "users"], true);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let report = json(&first);
    assert_eq!(report["phases"], serde_json::json!(["users", "prayers"]));
    assert_eq!(report["recovery_stats"]["users_recovered"], 100);
    assert_eq!(report["recovery_stats"]["prayers_recovered"], 1000);
    assert_eq!(report["import"]["entities"]["prayers"]["inserted"], 1000);
    // Now the ledgers have their prayers.
    let ledgers = run(&["ledgers"], false);
    assert_eq!(ledgers.status.code(), Some(0));
    let text = String::from_utf8_lossy(&ledgers.stdout);
    assert!(text.starts_with("phases: ledgers\n"), "{text}");
    assert!(text.contains("Prayer Skips Recovered: "), "{text}");
}
