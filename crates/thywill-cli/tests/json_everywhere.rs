//! `--json` on every command: each one prints exactly one JSON document on stdout.
//!
//! Everything runs on a copy of a fixture community, so even the commands that write
//! (a backup, a download) leave the fixture alone; the destructive ones run with `--dry-run`.
//! Not run here: `restore`/`restore-safe` for real and `full-recovery` without `--dry-run`
//! (the dry runs go through the same code and print the same report), and `daily`, which is
//! `hourly` for another tier: the `backup` run has just made this second's daily set, and a
//! second one in the same second is refused as a conflict.

use std::path::{Path, PathBuf};

use crate::support::{community_copy, thywill_in};

fn first_file(dir: &Path, suffix: &str) -> PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found.sort();
    found.into_iter().next().unwrap()
}

/// Runs `args` with `--json` in `dir`: stdout must be one JSON document, and not an error
/// report unless `may_fail`.
fn one_document(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "--yes"];
    all.extend(args);
    let out = thywill_in(dir, &all, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut documents =
        serde_json::Deserializer::from_str(&stdout).into_iter::<serde_json::Value>();
    let first = documents
        .next()
        .unwrap_or_else(|| {
            panic!(
                "{args:?}: no JSON on stdout; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"));
    assert!(
        documents.next().is_none(),
        "{args:?}: more than one document: {stdout}"
    );
    assert!(
        first.get("error").is_none(),
        "{args:?} failed: {first}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    first
}

#[test]
fn every_command_prints_one_json_document() {
    let community = community_copy("s1");
    let dir = community.path();
    let archives = dir.join("text_archives");
    let users_file = first_file(&archives.join("users"), "_users.txt");
    let prayer_file = first_file(&archives.join("prayers"), ".txt");
    let prayers_json = dir.join("prayers.json");
    std::fs::write(
        &prayers_json,
        r#"[{"text": "For rain", "author_name": "Json Tester"}]"#,
    )
    .unwrap();
    let users_file = users_file.to_str().unwrap();
    let prayer_file = prayer_file.to_str().unwrap();
    let prayers_json = prayers_json.to_str().unwrap();

    let backup = one_document(dir, &["backup"]);
    let set = backup["backup"]["path"].as_str().unwrap().to_owned();
    let user = {
        let connection = rusqlite::Connection::open(dir.join("thywill.db")).unwrap();
        connection
            .query_row(
                "SELECT display_name FROM user ORDER BY display_name LIMIT 1",
                [],
                |r| r.get::<_, String>(0),
            )
            .unwrap()
    };
    let sessions = dir.join("sessions_backup.json");
    let sessions = sessions.to_str().unwrap();
    let demo = dir.join("demo");
    let demo = demo.to_str().unwrap();

    let commands: Vec<Vec<&str>> = vec![
        vec!["archive", "parse", users_file],
        vec!["archive", "check", "text_archives"],
        vec!["hourly"],
        vec!["weekly"],
        vec!["verify", &set],
        vec!["list"],
        vec!["status"],
        vec!["restore", &set, "--dry-run"],
        vec!["restore-safe", &set, "--dry-run"],
        vec!["rollback", &set, "--dry-run"],
        vec!["cleanup", "--dry-run"],
        vec!["config"],
        vec!["config", "show"],
        vec!["demo", "--keep", demo],
        vec!["import", "prayers", prayers_json, "--dry-run"],
        vec!["import", "text-archives", "--dry-run"],
        vec!["import", "prayer", prayer_file, "--dry-run"],
        vec!["import-all", "--dry-run"],
        vec!["fix-prayer-content", "--dry-run"],
        vec!["test-recovery"],
        vec!["full-recovery", "--dry-run"],
        vec!["download", "user", &user],
        vec!["download", "community"],
        vec!["downloads", "list"],
        vec!["downloads", "cleanup", "--dry-run"],
        vec!["export-sessions", "--out", sessions],
        vec!["restore-sessions", sessions, "--dry-run"],
        vec!["heal-archives", "--dry-run"],
        vec!["repair-archives", "--dry-run"],
        vec!["sync-archives", "--dry-run"],
        vec!["sync-users", "--dry-run"],
        vec!["validate-archives"],
        vec!["reconstruct-from-archives", "--dry-run"],
        vec!["analyze-orphaned-prayers"],
        vec!["validate-consistency", "--summary"],
        vec!["recovery-report"],
        vec!["audit"],
        // Last: it writes (to the copy).
        vec!["heal-orphaned-prayers"],
    ];
    for args in &commands {
        one_document(dir, args);
    }
    // The audit trail saw the run's operations.
    let audit = one_document(dir, &["audit"]);
    assert!(audit.to_string().contains("backup"), "{audit}");
}
