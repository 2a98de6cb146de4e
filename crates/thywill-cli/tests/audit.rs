//! The audit trail as a user meets it: the lines `thywill` commands leave beside the
//! database, and `thywill audit` reading them back.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn thywill(dir: &Path, args: &[&str]) -> Output {
    crate::support::thywill_in(dir, args, &[])
}

fn operations(report: &Value) -> Vec<(String, String)> {
    report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["operation"].as_str().unwrap().to_owned(),
                e["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_operation_leaves_one_line_beside_the_database_even_when_it_fails() {
    let dir = crate::support::community_copy("s1");
    let out = thywill(dir.path(), &["--json", "daily"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let set = crate::support::json_of(&out)["backup"]["backup"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        thywill(dir.path(), &["verify", &set]).status.code(),
        Some(0)
    );
    assert_eq!(
        thywill(dir.path(), &["restore", &set, "--yes"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        thywill(dir.path(), &["restore", "missing.db", "--yes"])
            .status
            .code(),
        Some(3)
    );

    let log = dir.path().join("thywill-audit.jsonl");
    let mode = std::fs::metadata(&log).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let out = thywill(dir.path(), &["--json", "audit"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = crate::support::json_of(&out);
    let expected = [
        ("backup.create", "ok"),
        ("backup.cleanup", "ok"),
        ("backup.verify", "ok"),
        ("backup.restore", "ok"),
        ("backup.restore", "failed"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(o, r)| (o.to_string(), r.to_string()))
        .collect();
    assert_eq!(operations(&report), expected);
    let failed = &report["entries"][4];
    assert_eq!(failed["error"]["kind"], "not_found", "{failed}");
    assert_eq!(failed["actor"]["program"], "thywill");
    let restored = &report["entries"][3];
    assert_eq!(restored["arguments"]["source"], set.as_str());
    assert!(
        restored["counts"]["safety_backup"].is_string(),
        "{restored}"
    );

    let out = thywill(
        dir.path(),
        &["--json", "audit", "--operation", "backup.restore"],
    );
    assert_eq!(operations(&crate::support::json_of(&out)).len(), 2);
    let out = thywill(
        dir.path(),
        &["--json", "audit", "--since", "2999-01-01T00:00:00Z"],
    );
    assert_eq!(operations(&crate::support::json_of(&out)).len(), 0);
    let text = String::from_utf8(thywill(dir.path(), &["audit", "--since", "1h"]).stdout).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.contains("backup.restore") && text.contains("FAILED  "),
        "{text}"
    );
}

/// Processes appending at once never interleave: every line of the log is an entry.
#[test]
fn concurrent_processes_append_whole_lines() {
    let dir = crate::support::community_copy("s1");
    let out = thywill(dir.path(), &["--json", "backup"]);
    let set = crate::support::json_of(&out)["backup"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let children: Vec<_> = (0..6)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_thywill"))
                .args(["verify", "--quick", &set])
                .current_dir(dir.path())
                .env_remove("THYWILL_AUDIT_LOG")
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let out = thywill(
        dir.path(),
        &["--json", "audit", "--operation", "backup.verify"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let report = crate::support::json_of(&out);
    assert_eq!(report["entries"].as_array().unwrap().len(), 6);
    assert_eq!(report["unreadable_count"], 0);
}

#[test]
fn an_unreadable_line_is_reported_and_the_rest_still_read() {
    let dir = crate::support::community_copy("s1");
    thywill(dir.path(), &["backup"]);
    let log = dir.path().join("thywill-audit.jsonl");
    let mut text = std::fs::read(&log).unwrap();
    text.extend_from_slice(b"{\"time\": cut short by a crash\n");
    std::fs::write(&log, text).unwrap();
    thywill(dir.path(), &["backup", "weekly"]);
    let out = thywill(dir.path(), &["audit"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("thywill-audit.jsonl:2: unreadable audit line"),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn the_log_goes_where_it_is_told_or_nowhere() {
    let dir = crate::support::community_copy("s1");
    let elsewhere = dir.path().join("logs/audit.jsonl");
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    let out = crate::support::thywill_in(
        dir.path(),
        &["backup"],
        &[("THYWILL_AUDIT_LOG", elsewhere.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(elsewhere.is_file());
    assert!(!dir.path().join("thywill-audit.jsonl").exists());

    let out = thywill(dir.path(), &["--audit-log", "off", "backup", "weekly"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!dir.path().join("thywill-audit.jsonl").exists());
    assert_eq!(
        thywill(dir.path(), &["--audit-log", "off", "audit"])
            .status
            .code(),
        Some(2)
    );

    // A log that cannot be written never fails the operation; the user is told.
    let out = thywill(dir.path(), &["--audit-log", "logs", "backup", "hourly"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: audit line of backup.create not written"),
        "{stderr}"
    );
}
