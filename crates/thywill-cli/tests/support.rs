//! Helpers shared by the CLI's process-level tests: run the real `thywill` binary.

use std::process::{Command, Output, Stdio};

/// Runs `thywill` with `args`, stdin closed.
pub fn thywill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thywill"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs `thywill` with the settings variables removed, then `env` set.
pub fn thywill_env(args: &[&str], env: &[(&str, &str)]) -> Output {
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

/// Parses stdout as JSON.
pub fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The shared fixture corpora (`THYWILL_FIXTURES` overrides).
pub fn fixtures() -> std::path::PathBuf {
    std::env::var_os("THYWILL_FIXTURES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        })
}
