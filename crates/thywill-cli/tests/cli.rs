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

#[test]
fn help_groups_the_commands_as_thywill_does() {
    for args in [&["help"][..], &["--help"][..]] {
        let out = thywill_env(args, &[]);
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        let at = |heading: &str| {
            help.find(heading)
                .unwrap_or_else(|| panic!("{heading}: {help}"))
        };
        assert!(at("Backup Commands:") < at("Archive and Recovery Commands:"));
        assert!(at("Archive and Recovery Commands:") < at("Utility Commands:"));
        let backup_group = &help[at("Backup Commands:")..at("Archive and Recovery Commands:")];
        for name in [
            "  backup ",
            "  list ",
            "  restore ",
            "  cleanup ",
            "  verify ",
        ] {
            assert!(backup_group.contains(name), "{name}: {backup_group}");
        }
        assert!(help.contains("  import-all "), "{help}");
        assert!(help.contains("Example:\n  thywill "), "{help}");
    }
}

/// The only styling the command prints is clap's help (bold and underlined headings): on a
/// terminal only, and never with `NO_COLOR`.
#[test]
fn help_is_styled_only_on_a_terminal_without_no_color() {
    let on_terminal = |no_color: bool| {
        let command = format!("{} --help", env!("CARGO_BIN_EXE_thywill"));
        let mut script = std::process::Command::new("script");
        script
            .args(["-qec", &command, "/dev/null"])
            .env_remove("CLICOLOR_FORCE")
            .env_remove("NO_COLOR")
            .stdin(std::process::Stdio::null());
        if no_color {
            script.env("NO_COLOR", "1");
        }
        let out = script.output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        on_terminal(false).contains("\x1b["),
        "no styling on a terminal"
    );
    let plain = on_terminal(true);
    assert!(
        plain.contains("Backup Commands:") && !plain.contains('\x1b'),
        "{plain:?}"
    );
    let piped = thywill_env(&["--help"], &[]);
    assert!(!String::from_utf8_lossy(&piped.stdout).contains('\x1b'));
}
