//! `ArchiveWriter::from_thywill_env` reads ThyWill's settings. The environment is set only
//! in child processes (this binary re-run for one test), since the tests of one binary share
//! their process and changing its environment would race with every other test.

use std::process::{Command, Stdio};

use thywill_core::archive::writer::ArchiveWriter;

const SETTINGS: [&str; 3] = [
    "TEXT_ARCHIVE_ENABLED",
    "TEXT_ARCHIVE_BASE_DIR",
    "CATEGORIZATION_METADATA_EXPORT",
];

/// In a child (`THYWILL_ENV_CHILD` set): prints what the writer read. Otherwise nothing.
#[test]
fn child_prints_the_settings_read() {
    if std::env::var_os("THYWILL_ENV_CHILD").is_none() {
        return;
    }
    let w = ArchiveWriter::from_thywill_env();
    println!(
        "SETTINGS enabled={} base_dir={} metadata={}",
        w.enabled,
        w.base_dir.display(),
        w.categorization_metadata_export
    );
}

/// The settings a child process reads with exactly `env` set.
fn read_with(env: &[(&str, &str)]) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            &crate::support::test_name(module_path!(), "child_prints_the_settings_read"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env("THYWILL_ENV_CHILD", "1")
        .stdin(Stdio::null());
    for name in SETTINGS {
        command.env_remove(name);
    }
    let out = command.envs(env.iter().copied()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout
        .lines()
        // libtest prints the test's name on the same line, before the test's output.
        .find_map(|l| l.split_once("SETTINGS ").map(|(_, settings)| settings))
        .unwrap_or_else(|| panic!("no settings printed: {stdout}"))
        .to_owned()
}

#[test]
fn reads_thywill_settings_from_the_environment() {
    assert_eq!(
        read_with(&[]),
        "enabled=true base_dir=./text_archives metadata=false"
    );
    // `1` disables; only a case-insensitive `true` enables.
    assert_eq!(
        read_with(&[
            ("TEXT_ARCHIVE_ENABLED", "1"),
            ("TEXT_ARCHIVE_BASE_DIR", "/srv/arch"),
            ("CATEGORIZATION_METADATA_EXPORT", "TRUE"),
        ]),
        "enabled=false base_dir=/srv/arch metadata=true"
    );
    assert!(read_with(&[("TEXT_ARCHIVE_ENABLED", "True")]).starts_with("enabled=true "));
}
