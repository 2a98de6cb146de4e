//! `thywill demo` as a process, including its confirmation prompt on a pty.

use std::process::{Command, Stdio};

use crate::support::{json_of, thywill};

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
    assert_eq!(report["drill"]["detected"], true);
    assert_eq!(report["drill"]["first_differing_line"], 1);
    assert!(target
        .join("text_archives/users/2025_10_users.txt")
        .is_file());
    // The database story: import, idempotent re-import, backup, disaster, restore.
    let recovery = &report["recovery"];
    assert_eq!(recovery["first_import"]["failures"], serde_json::json!([]));
    assert_eq!(recovery["rows_before_disaster"]["prayer"], 8);
    assert_eq!(recovery["rows_before_disaster"]["user"], 6);
    assert_eq!(recovery["second_import_inserted"], 0);
    assert_eq!(recovery["backup_verified"], true);
    assert_eq!(recovery["restored_quick_check"], serde_json::json!(["ok"]));
    assert_eq!(
        recovery["rows_after_restore"],
        recovery["rows_before_disaster"]
    );
    // Rows are counted by the core's one function: every table, as the backup's manifest
    // records them.
    assert_eq!(
        recovery["rows_before_disaster"],
        recovery["backup"]["verification"]["table_row_counts"]
    );
    assert!(target.join("thywill.db").is_file());

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
fn confirmation_is_asked_on_a_terminal_and_no_means_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep-me.txt"), "x").unwrap();
    let command = format!(
        "{} demo --dir {}",
        env!("CARGO_BIN_EXE_thywill"),
        dir.path().display()
    );
    let run = |answer: &str| {
        let mut child = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("n\n");
    assert_eq!(out.status.code(), Some(11));
    assert!(String::from_utf8_lossy(&out.stdout).contains("[y/N]"));
    assert!(dir.path().join("keep-me.txt").exists());
    let out = run("y\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(!dir.path().join("keep-me.txt").exists());
    assert!(dir
        .path()
        .join("text_archives/users/2025_10_users.txt")
        .is_file());
}
