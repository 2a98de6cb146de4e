//! The `thywill` binary when things go wrong outside the commands themselves: a reader
//! that stops early, usage errors under `--json`, option values, unusable `--db` paths
//! and empty settings variables. Every test runs the real binary as a process.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{fixtures, json_of, thywill, thywill_env};

/// The exit code documented for a closed stdout (as a shell reports a SIGPIPE death).
const BROKEN_PIPE: i32 = 141;

/// Runs `thywill args` with stdout piped, reads a few bytes, closes the read end and
/// waits: the rest of the output then meets a closed pipe (EPIPE).
fn run_with_reader_that_stops_early(args: &[&str]) -> (Option<i32>, String, Vec<u8>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_thywill"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = vec![0u8; 16];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        head,
    )
}

/// A file whose report (larger than the file) is larger than a pipe's buffer (64 KiB), so
/// the writer must still be writing when the reader goes away.
fn large_archive_file() -> PathBuf {
    let file = fixtures().join("s1/text_archives/prayers/marks/2025_09_marks.txt");
    assert!(
        std::fs::metadata(&file).unwrap().len() > 64 * 1024,
        "{} is no longer large enough for this test",
        file.display()
    );
    file
}

#[test]
fn a_reader_that_stops_early_ends_the_json_report_quietly() {
    let file = large_archive_file();
    let (code, stderr, head) =
        run_with_reader_that_stops_early(&["archive", "parse", "--json", file.to_str().unwrap()]);
    assert!(head.starts_with(b"{"), "{head:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr, "");
    assert_eq!(code, Some(BROKEN_PIPE));
}

#[test]
fn a_reader_that_stops_early_ends_the_text_report_quietly() {
    let file = large_archive_file();
    let (code, stderr, _) =
        run_with_reader_that_stops_early(&["archive", "parse", file.to_str().unwrap()]);
    assert_eq!(stderr, "");
    assert_eq!(code, Some(BROKEN_PIPE));
}

#[test]
fn a_closed_stderr_does_not_turn_an_error_into_a_panic() {
    // The error message goes to stderr, whose reader is gone: the exit code still tells.
    let mut child = Command::new(env!("CARGO_BIN_EXE_thywill"))
        .args(["archive", "parse", "/no/such/2025_07_users.txt"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
}

fn error_of(out: &Output) -> serde_json::Value {
    let report = json_of(out);
    assert_eq!(report["error"]["exit_code"], 2, "{report}");
    assert_eq!(report["error"]["kind"], "usage", "{report}");
    report["error"].clone()
}

#[test]
fn usage_errors_under_json_print_the_error_report() {
    let out = thywill(&["--json", "no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    let error = error_of(&out);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("no-such-command"), "{message}");
    assert!(!message.starts_with("error:"), "{message}");
    // The usual text still goes to stderr.
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-command"));

    // `--json` after the subcommand, a missing argument, an unknown option, a bad value.
    for args in [
        &["archive", "parse", "--json"][..],
        &["archive", "parse", "--json", "--no-such-option", "x"],
        &[
            "--json",
            "import",
            "prayer",
            "x.txt",
            "--dry-run",
            "--time-zone",
            "+25:00",
        ],
        &["--json"],
    ] {
        let out = thywill(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        error_of(&out);
    }
}

#[test]
fn usage_errors_without_json_print_nothing_on_stdout() {
    let out = thywill(&["archive", "parse"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    // A `--json` after `--` is a value, not the option.
    let out = thywill(&["archive", "parse", "--", "--json", "extra"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn help_and_version_are_unchanged_under_json() {
    let out = thywill(&["--json", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: thywill"));
    let out = thywill(&["--json", "--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("thywill "));
}

fn one_prayer_file() -> PathBuf {
    fixtures().join("s1/text_archives/prayers/2024/06/2024_06_12_prayer_at_1033.txt")
}

#[test]
fn a_negative_time_zone_offset_is_a_value_without_equals_sign() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let prayer = one_prayer_file();
    for zone in ["-05:00", "-0500", "+23:59", "-23:59", "utc"] {
        let out = thywill(&[
            "--db",
            db.to_str().unwrap(),
            "--json",
            "import",
            "prayer",
            prayer.to_str().unwrap(),
            "--dry-run",
            "--time-zone",
            zone,
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{zone}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(json_of(&out)["dry_run"], true);
    }
}

#[test]
fn time_zone_offsets_outside_a_day_are_usage_errors() {
    let prayer = one_prayer_file();
    for zone in ["+99:99", "+24:00", "-24:00", "+05:60", "+5:00", "+05:0:0"] {
        let out = thywill(&[
            "import",
            "prayer",
            prayer.to_str().unwrap(),
            "--dry-run",
            "--time-zone",
            zone,
        ]);
        assert_eq!(out.status.code(), Some(2), "{zone}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--time-zone"), "{zone}: {stderr}");
    }
}

#[test]
fn a_directory_as_db_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let archives = fixtures().join("s1/text_archives");
    let out = thywill(&[
        "--db",
        dir.path().to_str().unwrap(),
        "--json",
        "import",
        "text-archives",
        archives.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(7));
    let error = json_of(&out)["error"].clone();
    assert_eq!(error["kind"], "invalid_input");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("is a directory"), "{message}");
}

/// A folder nobody may write to. The test process may be root, which the kernel lets
/// write anywhere; then the command runs as the unprivileged `nobody` (uid 65534), from
/// a copy of the binary that user can execute.
struct UnwritableFolder {
    _scratch: tempfile::TempDir,
    folder: PathBuf,
    binary: PathBuf,
    run_as_nobody: bool,
}

impl UnwritableFolder {
    fn new() -> Self {
        let scratch = tempfile::tempdir().unwrap();
        std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let folder = scratch.path().join("read-only");
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
        let privileged = std::fs::write(folder.join("probe"), b"").is_ok();
        let mut binary = PathBuf::from(env!("CARGO_BIN_EXE_thywill"));
        if privileged {
            std::fs::remove_file(folder.join("probe")).unwrap();
            let copy = scratch.path().join("thywill");
            std::fs::copy(&binary, &copy).unwrap();
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
            binary = copy;
        }
        UnwritableFolder {
            _scratch: scratch,
            folder,
            binary,
            run_as_nobody: privileged,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(&self.binary);
        command.args(args).stdin(Stdio::null());
        if self.run_as_nobody {
            command.uid(65534).gid(65534);
        }
        command.output().unwrap()
    }
}

/// A copy of the s1 text archives that `nobody` can read (the fixtures may sit in a
/// folder only the test's user can enter).
fn readable_archives(dir: &Path) -> PathBuf {
    let prayer = one_prayer_file();
    let target = dir.join("2024_06_12_prayer_at_1033.txt");
    std::fs::copy(prayer, &target).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    target
}

#[test]
fn a_db_in_an_unwritable_folder_is_permission_denied() {
    let unwritable = UnwritableFolder::new();
    let prayer = readable_archives(unwritable.folder.parent().unwrap());
    let db = unwritable.folder.join("thywill.db");
    let out = unwritable.run(&[
        "--db",
        db.to_str().unwrap(),
        "--json",
        "import",
        "prayer",
        prayer.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert_eq!(json_of(&out)["error"]["kind"], "permission");
    assert!(stderr.contains(db.to_str().unwrap()), "{stderr}");
    assert!(!db.exists());
}

#[test]
fn a_db_in_a_missing_folder_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("no-such-folder/thywill.db");
    let out = thywill(&[
        "--db",
        db.to_str().unwrap(),
        "import",
        "prayer",
        one_prayer_file().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no-such-folder"), "{stderr}");
}

#[test]
fn empty_settings_variables_are_named_in_the_error() {
    for (variable, option) in [
        ("DATABASE_PATH", "--db"),
        ("TEXT_ARCHIVE_BASE_DIR", "--archives"),
        ("THYWILL_BACKUP_DIR", "--backups"),
    ] {
        let out = thywill_env(&["--json", "config"], &[(variable, "")]);
        assert_eq!(out.status.code(), Some(2), "{variable}");
        let message = error_of(&out)["message"].as_str().unwrap().to_owned();
        assert!(message.contains(variable), "{variable}: {message}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(variable), "{variable}: {stderr}");

        // The option given on the command line wins over the empty variable.
        let out = thywill_env(&[option, "/x", "--json", "config"], &[(variable, "")]);
        assert_eq!(out.status.code(), Some(0), "{variable}");

        // An empty option value is named as the option.
        let out = thywill_env(&["--json", option, "", "config"], &[]);
        assert_eq!(out.status.code(), Some(2), "{option}");
        let message = error_of(&out)["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains(option) && !message.contains(variable),
            "{option}: {message}"
        );
    }
}
