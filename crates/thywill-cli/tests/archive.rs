//! `thywill archive parse|check` as a process, including the progress bar on a pty.

use std::process::{Command, Stdio};

use crate::support::{fixtures, json_of, thywill};

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

#[test]
fn progress_bar_only_on_a_terminal() {
    let root = fixtures().join("s1/text_archives");
    // Piped stderr: no bar at all.
    let out = thywill(&["archive", "check", root.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A pseudo-terminal (util-linux `script`, in every Debian base system): the bar is drawn
    // and erased, and the summary still follows.
    let command = format!(
        "{} archive check {}",
        env!("CARGO_BIN_EXE_thywill"),
        root.display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("\r\x1b[2Kcheck ["), "{screen:?}");
    assert!(screen.contains(" ETA "), "{screen:?}");
    // Erased before the summary: the summary starts a cleared line.
    let summary_at = screen.find("0 with problems").unwrap();
    let last_clear = screen.rfind("\x1b[2K").unwrap();
    assert!(last_clear < summary_at, "{screen:?}");
    assert!(!screen[last_clear..].contains("check ["), "{screen:?}");
    assert!(screen.contains("0 with problems"), "{screen:?}");
}
