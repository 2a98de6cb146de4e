//! `thywill demo` as a process: the eleven steps of the story, its JSON, the temporary
//! folder it leaves behind (none) and the kept one, and its confirmation prompt on a pty.

use std::process::{Command, Stdio};

use crate::support::{json_of, thywill};

/// The steps, in the order the story tells them.
const STEPS: [&str; 11] = [
    "write the archives",
    "import",
    "back up",
    "verify the backup",
    "lose the database",
    "test-recovery",
    "full-recovery",
    "validate-consistency",
    "user and community ZIP",
    "downloads cleanup",
    "audit trail",
];

/// The first number on `line` after `word`.
fn number_after(line: &str, word: &str) -> u64 {
    let rest = &line[line
        .find(word)
        .unwrap_or_else(|| panic!("{word:?} in {line}"))
        + word.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn demo_tells_the_eleven_steps_in_order_with_their_figures() {
    let out = thywill(&["demo"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let step_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.len() > 3 && l[..2].trim().parse::<u32>().is_ok() && &l[2..4] == ". ")
        .collect();
    assert_eq!(step_lines.len(), 11, "{text}");
    for (n, (line, step)) in step_lines.iter().zip(STEPS).enumerate() {
        assert!(
            line.starts_with(&format!("{:>2}. {step} ", n + 1)),
            "step {} is not {step:?}: {line}",
            n + 1
        );
    }
    let line = |n: usize| step_lines[n - 1];
    assert!(number_after(line(1), "archives") >= 10, "{}", line(1));
    assert!(line(1).contains("1 flagged"), "{}", line(1));
    assert!(number_after(line(2), "import") > 0);
    assert!(
        line(2).contains("imported again: 0 new rows"),
        "{}",
        line(2)
    );
    assert!(line(3).contains("integrity check ok"), "{}", line(3));
    assert!(number_after(line(3), "(") > 0);
    assert!(line(4).contains("ok: checksum matches"), "{}", line(4));
    assert!(number_after(line(5), "bytes: ") > 0);
    assert!(number_after(line(6), "backup, ") > 0);
    assert!(line(6).contains(" 0 would be lost"), "{}", line(6));
    let rows_gone = number_after(line(5), "bytes: ");
    assert_eq!(number_after(line(7), "alone: "), rows_gone, "{}", line(7));
    assert!(line(7).contains("table by table equal"), "{}", line(7));
    assert!(line(8).contains("score 100.00"), "{}", line(8));
    assert!(number_after(line(9), "ZIP ") > 0);
    assert!(
        line(9).contains("(1 flagged prayer left out)"),
        "{}",
        line(9)
    );
    assert!(line(10).contains("removed 1 download"), "{}", line(10));
    assert!(number_after(line(11), "trail") >= 9);
    assert!(line(11).contains(" 0 failed"), "{}", line(11));
    // The audit trail lists one line per operation, those of the story among them.
    for operation in [
        "import.text_archives",
        "backup.create",
        "backup.verify",
        "recovery.test_recovery",
        "recovery.full_recovery",
        "recovery.validate_consistency",
        "download.user_zip",
        "download.community_zip",
        "download.cleanup",
    ] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(operation) && l.contains(" ok ")),
            "{operation} not in the trail:\n{text}"
        );
    }
}

#[test]
fn demo_json_has_every_step_ok_and_leaves_no_folder_behind() {
    let out = thywill(&["--json", "demo"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    assert_eq!(report["kept"], false);
    let steps = report["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(names, STEPS);
    for step in steps {
        assert_eq!(step["ok"], true, "{step}");
        assert!(step["seconds"].as_f64().unwrap() >= 0.0);
        assert!(step["figures"].is_object());
    }
    let figures = |n: usize| &steps[n - 1]["figures"];
    assert!(figures(2)["rows"].as_u64().unwrap() > 0);
    assert_eq!(figures(2)["second_import_inserted"], 0);
    assert_eq!(figures(3)["integrity_ok"], true);
    assert_eq!(figures(6)["lost"], 0);
    assert_eq!(figures(7)["equal"], true);
    assert_eq!(figures(7)["rows_back"], figures(2)["rows"]);
    assert_eq!(figures(9)["community"]["flagged_prayers_left_out"], 1);
    assert_eq!(figures(10)["removed"], 1);
    assert_eq!(figures(11)["failed"], 0);
    let folder = std::path::PathBuf::from(report["folder"].as_str().unwrap());
    assert!(folder.is_absolute());
    assert!(!folder.exists(), "{} was left behind", folder.display());
}

#[test]
fn demo_keeps_its_folder_with_everything_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("demo");
    let out = thywill(&["--json", "demo", "--keep", target.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    assert_eq!(report["kept"], true);
    assert!(target.join("thywill.db").is_file());
    assert!(target.join("thywill-audit.jsonl").is_file());
    assert!(target
        .join("text_archives/users/2025_10_users.txt")
        .is_file());
    let sets: Vec<_> = std::fs::read_dir(target.join("backups/daily"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        sets.iter().any(|n| n.ends_with(".manifest.json")),
        "{sets:?}"
    );
    let zips: Vec<_> = std::fs::read_dir(target.join("text_archives/downloads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(zips.len(), 2, "{zips:?}");
    assert!(zips.iter().any(|n| n.starts_with("Ana María_archive_")));
    assert!(zips.iter().any(|n| n.starts_with("complete_site_archive_")));
    // The kept folder's audit log is the one `thywill audit` reads beside the database.
    let audit = thywill(&[
        "--json",
        "--db",
        target.join("thywill.db").to_str().unwrap(),
        "audit",
    ]);
    assert_eq!(audit.status.code(), Some(0));
    let operations = json_of(&audit)["entries"].as_array().unwrap().len();
    assert_eq!(
        operations as u64,
        report["steps"][10]["figures"]["operations"]
            .as_u64()
            .unwrap()
    );

    // The folder is now non-empty: without --yes and without a terminal it must refuse.
    let out = thywill(&["demo", "--keep", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    // `--dir`, the option's old name, still works.
    let out = thywill(&[
        "--yes",
        "--quiet",
        "demo",
        "--dir",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(target.join("thywill.db").is_file());
}

#[test]
fn confirmation_is_asked_on_a_terminal_and_no_means_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep-me.txt"), "x").unwrap();
    let command = format!(
        "{} demo --keep {}",
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
