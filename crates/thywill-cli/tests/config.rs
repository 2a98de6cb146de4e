//! The config file (`thywill.toml`) and `thywill config show`: where the file is found, the
//! precedence option > environment > file > default, relative paths, errors with file:line,
//! and `time_zone` reaching the backup set names.

use std::path::Path;

use crate::support::{community_copy, json_of, thywill_in};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `config show --json` run in `dir` with `args` first: the setting `key`'s value and source.
fn setting(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    key: &str,
) -> (serde_json::Value, String) {
    let mut all = args.to_vec();
    all.extend(["--json", "config", "show"]);
    let out = thywill_in(dir, &all, env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let entry = &report["settings"][key];
    (
        entry["value"].clone(),
        entry["source"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_path_key_takes_option_then_env_then_file_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "thywill.toml",
        "# settings\ndb = \"data/file.db\"\n",
    );
    let file = file.canonicalize().unwrap();

    let (value, source) = setting(empty.path(), &[], &[], "db");
    assert_eq!(
        (value.as_str().unwrap(), source.as_str()),
        ("thywill.db", "default")
    );

    // Found in the current folder; relative to the file's folder; line 2.
    let (value, source) = setting(dir.path(), &[], &[], "db");
    let expected = file.parent().unwrap().join("data/file.db");
    assert_eq!(value, expected.display().to_string());
    assert_eq!(source, format!("file {}:2", file.display()));

    let env = [("DATABASE_PATH", "/env/x.db")];
    let (value, source) = setting(dir.path(), &[], &env, "db");
    assert_eq!(
        (value.as_str().unwrap(), source.as_str()),
        ("/env/x.db", "env DATABASE_PATH")
    );

    let (value, source) = setting(dir.path(), &["--db", "/cli/x.db"], &env, "db");
    assert_eq!(
        (value.as_str().unwrap(), source.as_str()),
        ("/cli/x.db", "option")
    );

    // The backups folder follows the database the file names.
    let (value, source) = setting(dir.path(), &[], &[], "backups");
    assert_eq!(
        value,
        expected
            .parent()
            .unwrap()
            .join("backups")
            .display()
            .to_string()
    );
    assert_eq!(source, "default");
}

#[test]
fn a_retention_key_takes_option_then_env_then_file_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "settings.toml",
        "audit_log = \"off\"\n[retention]\ndaily_days = 7\n",
    );
    let file = file.canonicalize().unwrap();
    let config = file.to_str().unwrap();

    let (value, source) = setting(empty.path(), &[], &[], "retention.daily_days");
    assert_eq!((value.as_i64(), source.as_str()), (Some(30), "default"));
    let (value, source) = setting(
        empty.path(),
        &["--config", config],
        &[],
        "retention.daily_days",
    );
    assert_eq!(value.as_i64(), Some(7));
    assert_eq!(source, format!("file {}:3", file.display()));
    let env = [("THYWILL_RETENTION_DAILY_DAYS", "9")];
    let (value, source) = setting(
        empty.path(),
        &["--config", config],
        &env,
        "retention.daily_days",
    );
    assert_eq!(
        (value.as_i64(), source.as_str()),
        (Some(9), "env THYWILL_RETENTION_DAILY_DAYS")
    );

    // What cleanup applies: the same layers, with its option on top.
    let policy = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["--config", config, "--backups"];
        let backups = dir.path().join("backups");
        all.push(backups.to_str().unwrap());
        all.extend(["cleanup", "--dry-run", "--json"]);
        all.extend(args);
        let out = thywill_in(dir.path(), &all, env);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        json_of(&out)["policy"]["daily_days"].as_i64().unwrap()
    };
    assert_eq!(policy(&[], &[]), 7);
    assert_eq!(policy(&[], &env), 9);
    assert_eq!(policy(&["--daily-days", "11"], &env), 11);
}

#[test]
fn thywill_config_alone_is_config_show() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "thywill.toml",
        "remotes = [\"folder:/mnt/usb\"]\n",
    );
    let out = thywill_in(dir.path(), &["--json", "config"], &[]);
    let report = json_of(&out);
    assert_eq!(report["settings"]["remotes"]["value"][0], "folder:/mnt/usb");
    assert!(report["config_file"]
        .as_str()
        .unwrap()
        .ends_with("thywill.toml"));
    let none = tempfile::tempdir().unwrap();
    let report = json_of(&thywill_in(none.path(), &["--json", "config", "show"], &[]));
    assert!(report["config_file"].is_null());
    let text = thywill_in(dir.path(), &["config", "show"], &[]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("remotes") && text.contains("thywill.toml:1"),
        "{text}"
    );
}

#[test]
fn bad_files_are_usage_errors_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, line, key) in [
        ("db = \"a.db\"\n\narchive = \"x\"\n", 3, "archive"),
        ("[retention]\nhourly_hours = \"two\"\n", 2, "hourly_hours"),
        (
            "db = \"a.db\"\ntime_zone = \"Europe/Atlantis\"\n",
            2,
            "time_zone",
        ),
        ("[retention]\nyearly = 1\n", 2, "yearly"),
    ] {
        write(dir.path(), "thywill.toml", text);
        let out = thywill_in(dir.path(), &["--json", "config", "show"], &[]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("thywill.toml:{line}")),
            "{text}: {stderr}"
        );
        assert!(stderr.contains(key), "{text}: {stderr}");
        assert_eq!(json_of(&out)["error"]["kind"], "usage");
    }
}

#[test]
fn an_explicitly_named_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = thywill_in(dir.path(), &["--config", "nope.toml", "config"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.toml"));
    let out = thywill_in(dir.path(), &["config"], &[("THYWILL_CONFIG", "gone.toml")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("gone.toml") && stderr.contains("THYWILL_CONFIG"),
        "{stderr}"
    );
}

#[test]
fn time_zone_sets_the_hour_in_backup_set_names() {
    let community = community_copy("s1");
    let dir = community.path();
    write(
        dir,
        "thywill.toml",
        "db = \"thywill.db\"\naudit_log = \"off\"\ntime_zone = \"Pacific/Kiritimati\"\n",
    );
    let before = chrono::Utc::now() + chrono::Duration::hours(14);
    let out = thywill_in(dir, &["--json", "backup"], &[("TZ", "UTC")]);
    let after = chrono::Utc::now() + chrono::Duration::hours(14);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = json_of(&out)["backup"]["name"].as_str().unwrap().to_owned();
    let stamp = name.strip_prefix("thywill_daily_").unwrap();
    let stamp = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d_%H%M%S").unwrap();
    assert!(
        stamp >= before.naive_utc() - chrono::Duration::seconds(1)
            && stamp <= after.naive_utc() + chrono::Duration::seconds(1),
        "{name} is not UTC+14 ({before} .. {after})"
    );
    assert!(dir
        .join("backups/daily")
        .join(format!("{name}.db"))
        .is_file());
}

#[test]
fn a_refused_retention_value_from_the_file_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "thywill.toml",
        "audit_log = \"off\"\n[retention]\ndaily_days = 0\n",
    );
    let out = thywill_in(dir.path(), &["cleanup", "--dry-run"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("daily_days") && stderr.contains("thywill.toml:3"),
        "{stderr}"
    );
}

#[test]
fn time_zone_takes_env_then_file_and_an_unknown_env_zone_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "thywill.toml",
        "time_zone = \"Pacific/Kiritimati\"\n",
    );
    let (value, source) = setting(dir.path(), &[], &[], "time_zone");
    assert_eq!(value, "Pacific/Kiritimati");
    assert!(source.ends_with("thywill.toml:1"), "{source}");
    let env = [("THYWILL_TIME_ZONE", "Europe/Berlin")];
    let (value, source) = setting(dir.path(), &[], &env, "time_zone");
    assert_eq!(
        (value.as_str().unwrap(), source.as_str()),
        ("Europe/Berlin", "env THYWILL_TIME_ZONE")
    );
    let out = thywill_in(
        dir.path(),
        &["config"],
        &[("THYWILL_TIME_ZONE", "../etc/passwd")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("THYWILL_TIME_ZONE"));
}

#[test]
fn a_bad_remote_is_refused_at_its_line_without_printing_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "thywill.toml",
        "db = \"x.db\"\nremotes = [\"folder:/mnt/usb\", \"sftp://me:hunter2@host/x\"]\n",
    );
    let out = thywill_in(dir.path(), &["config", "show"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("thywill.toml:2") && stderr.contains("remotes"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
    // One that parses but carries user info is shown without it.
    write(
        dir.path(),
        "thywill.toml",
        "remotes = [\"s3://AKIA:hunter2@bucket/p\"]\n",
    );
    let out = thywill_in(dir.path(), &["config", "show", "--json"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("s3://***@bucket/p") && !stdout.contains("hunter2"),
        "{stdout}"
    );
}
