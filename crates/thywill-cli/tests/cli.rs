//! The `thywill` binary run as a process: global options, exit codes, JSON errors.

use std::process::{Command, Output, Stdio};

fn thywill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thywill"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn version_prints_the_crate_version() {
    let out = thywill(&["--version"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.trim(),
        format!("thywill {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = thywill(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    let out = thywill(&[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_lists_the_global_options() {
    let out = thywill(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--db",
        "--archives",
        "--backups",
        "--json",
        "--yes",
        "--quiet",
    ] {
        assert!(help.contains(option), "{option} missing from --help");
    }
    assert!(help.contains("DATABASE_PATH") && help.contains("TEXT_ARCHIVE_BASE_DIR"));
}

fn thywill_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_thywill"));
    command.args(args).stdin(Stdio::null());
    for var in [
        "DATABASE_PATH",
        "TEXT_ARCHIVE_BASE_DIR",
        "THYWILL_BACKUP_DIR",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied()).output().unwrap()
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn config_shows_defaults_with_backups_beside_the_database() {
    let out = thywill_env(&["--json", "config"], &[]);
    assert!(out.status.success());
    let settings = json_of(&out);
    assert_eq!(settings["db"], "thywill.db");
    assert_eq!(settings["archives"], "text_archives");
    assert_eq!(settings["backups"], "backups");

    let out = thywill_env(&["config", "--db", "/srv/tw/data.db", "--json"], &[]);
    assert_eq!(json_of(&out)["backups"], "/srv/tw/backups");
}

#[test]
fn environment_variables_apply_and_options_override_them() {
    let env = [
        ("DATABASE_PATH", "/env/x.db"),
        ("TEXT_ARCHIVE_BASE_DIR", "/env/archives"),
        ("THYWILL_BACKUP_DIR", "/env/backups"),
    ];
    let settings = json_of(&thywill_env(&["--json", "config"], &env));
    assert_eq!(settings["db"], "/env/x.db");
    assert_eq!(settings["archives"], "/env/archives");
    assert_eq!(settings["backups"], "/env/backups");
    let settings = json_of(&thywill_env(
        &["--json", "--archives", "/cli/a", "config"],
        &env,
    ));
    assert_eq!(settings["archives"], "/cli/a");
}

#[test]
fn quiet_prints_nothing_on_success() {
    let out = thywill_env(&["--quiet", "config"], &[]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

fn fixtures() -> std::path::PathBuf {
    std::env::var_os("THYWILL_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        })
}

#[test]
fn demo_writes_reads_back_and_rerenders_everything() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("demo");
    let out = thywill(&["--json", "demo", "--dir", target.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    assert_eq!(report["kept"], true);
    assert_eq!(report["check"]["problems"], serde_json::json!([]));
    let checked = report["check"]["files_checked"].as_u64().unwrap();
    assert!(checked >= 10);
    assert_eq!(
        report["check"]["files_identical"].as_u64().unwrap(),
        checked
    );
    assert_eq!(report["read_back"]["prayer"]["records"], 8);
    assert_eq!(report["read_back"]["user_registrations"]["records"], 6);
    assert!(target
        .join("text_archives/users/2025_10_users.txt")
        .is_file());

    // The folder is now non-empty: without --yes and without a terminal it must refuse.
    let out = thywill(&["demo", "--dir", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    let out = thywill(&[
        "--yes",
        "--quiet",
        "demo",
        "--dir",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn demo_in_a_temporary_folder_prints_a_summary() {
    let out = thywill(&["demo"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Re-rendered byte-identical: 17/17 files"),
        "{text}"
    );
}

#[test]
fn archive_parse_prints_records_and_maps_errors() {
    let users = fixtures().join("s1/text_archives/users/2023_10_users.txt");
    let out = thywill(&["--json", "archive", "parse", users.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let parsed = json_of(&out);
    assert_eq!(parsed["kind"], "user_registrations");
    assert_eq!(parsed["content"]["records"][1]["name"], "al_haddad");

    let out = thywill(&["--json", "archive", "parse", "/no/such/2025_07_users.txt"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json_of(&out)["error"]["kind"], "not_found");
    let manifest = fixtures().join("s1/manifest.json");
    let out = thywill(&["archive", "parse", manifest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(7));
}

#[test]
fn archive_parse_exits_1_on_unreadable_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users/2025_07_users.txt");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        "User Registrations for July 2025\n\nJuly 06 2025 at 09:05 - Ann joined directly\ngarbage\n",
    )
    .unwrap();
    let out = thywill(&["archive", "parse", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("{}:4: ", file.display())), "{text}");
}

#[test]
fn archive_check_lists_differing_files_with_their_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("text_archives");
    let out = thywill(&[
        "--quiet",
        "demo",
        "--dir",
        dir.path().to_str().unwrap(),
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = thywill(&["archive", "check", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));

    let users = root.join("users/2025_10_users.txt");
    let text = std::fs::read_to_string(&users).unwrap();
    std::fs::write(&users, text.replacen('\n', "\r\n", 3)).unwrap();
    let out = thywill(&["archive", "check", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("users/2025_10_users.txt:1: re-rendered bytes differ"),
        "{text}"
    );

    let out = thywill(&[
        "--json",
        "--archives",
        root.to_str().unwrap(),
        "archive",
        "check",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    assert_eq!(report["problems"][0]["path"], "users/2025_10_users.txt");
    assert_eq!(report["problems"][0]["first_differing_line"], 1);

    let out = thywill(&[
        "archive",
        "check",
        dir.path().join("missing").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
}
