//! The `thywill` binary as a process: global options, exit codes, JSON errors, config.

use crate::support::{json_of, thywill, thywill_env};

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

#[test]
fn config_shows_defaults_with_backups_beside_the_database() {
    let out = thywill_env(&["--json", "config"], &[]);
    assert!(out.status.success());
    let settings = json_of(&out);
    assert_eq!(settings["settings"]["db"]["value"], "thywill.db");
    assert_eq!(settings["settings"]["archives"]["value"], "text_archives");
    assert_eq!(settings["settings"]["backups"]["value"], "backups");

    let out = thywill_env(&["config", "--db", "/srv/tw/data.db", "--json"], &[]);
    assert_eq!(
        json_of(&out)["settings"]["backups"]["value"],
        "/srv/tw/backups"
    );
}

#[test]
fn environment_variables_apply_and_options_override_them() {
    let env = [
        ("DATABASE_PATH", "/env/x.db"),
        ("TEXT_ARCHIVE_BASE_DIR", "/env/archives"),
        ("THYWILL_BACKUP_DIR", "/env/backups"),
    ];
    let settings = json_of(&thywill_env(&["--json", "config"], &env));
    assert_eq!(settings["settings"]["db"]["value"], "/env/x.db");
    assert_eq!(settings["settings"]["archives"]["value"], "/env/archives");
    assert_eq!(settings["settings"]["backups"]["value"], "/env/backups");
    let settings = json_of(&thywill_env(
        &["--json", "--archives", "/cli/a", "config"],
        &env,
    ));
    assert_eq!(settings["settings"]["archives"]["value"], "/cli/a");
}

#[test]
fn quiet_prints_nothing_on_success() {
    let out = thywill_env(&["--quiet", "config"], &[]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}
