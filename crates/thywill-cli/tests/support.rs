//! Helpers shared by the CLI's process-level tests: run the real `thywill` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `thywill` with `args`, stdin closed.
pub fn thywill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thywill"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The settings variables a test must not inherit from the machine it runs on.
const SETTINGS: [&str; 8] = [
    "THYWILL_CONFIG",
    "THYWILL_TIME_ZONE",
    "DATABASE_PATH",
    "THYWILL_AUDIT_LOG",
    "TEXT_ARCHIVE_BASE_DIR",
    "THYWILL_BACKUP_DIR",
    "THYWILL_BACKUP_REMOTES",
    "EMAIL_DATABASE_PATH",
];

/// Runs `thywill` with the settings variables removed, then `env` set.
pub fn thywill_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    run(None, args, env)
}

/// Runs `thywill` in `dir` with the settings variables removed, then `env` set.
pub fn thywill_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    run(Some(dir), args, env)
}

fn run(dir: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_thywill"));
    command.args(args).stdin(Stdio::null());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    without_settings(&mut command)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Removes the settings variables from `command`'s environment, so a test (or a shell a test
/// starts) sees only the settings it gives.
pub fn without_settings(command: &mut Command) -> &mut Command {
    for var in SETTINGS {
        command.env_remove(var);
    }
    command
}

/// Parses stdout as JSON, showing stdout and stderr when it is not.
pub fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The shared fixture corpora (`THYWILL_FIXTURES` overrides).
pub fn fixtures() -> PathBuf {
    std::env::var_os("THYWILL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        })
}

/// A writable copy of a fixture community (`text_archives/` and `thywill.db`) in a temp folder.
pub fn community_copy(corpus: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixtures().join(corpus);
    let status = std::process::Command::new("cp")
        .args(["-r"])
        .arg(fixture.join("text_archives"))
        .arg(fixture.join("thywill.db"))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let status = std::process::Command::new("chmod")
        .args(["-R", "u+w"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}
