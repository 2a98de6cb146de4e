//! `thywill import ...` run as a process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixtures() -> PathBuf {
    std::env::var_os("THYWILL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        })
}

fn thywill(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_thywill"));
    command.current_dir(dir).args(args).stdin(Stdio::null());
    for var in [
        "DATABASE_PATH",
        "TEXT_ARCHIVE_BASE_DIR",
        "THYWILL_BACKUP_DIR",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied()).output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn text_archives_from_the_environment_then_idempotent_then_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let archives = fixtures().join("s1-live").join("text_archives");
    let db = dir.path().join("community.db");
    let env = [
        ("DATABASE_PATH", db.to_str().unwrap()),
        ("TEXT_ARCHIVE_BASE_DIR", archives.to_str().unwrap()),
    ];
    let dry = thywill(
        dir.path(),
        &[
            "import",
            "text-archives",
            "--dry-run",
            "--time-zone",
            "utc",
            "--json",
        ],
        &env,
    );
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(!db.exists(), "a dry run creates no database");
    let first = thywill(
        dir.path(),
        &["import", "text-archives", "--time-zone", "utc", "--json"],
        &env,
    );
    assert_eq!(first.status.code(), Some(0));
    let (dry, first) = (json(&dry), json(&first));
    assert_eq!(dry["entities"], first["entities"]);
    assert_eq!(first["entities"]["prayers"]["inserted"], 1000);
    let again = json(&thywill(
        dir.path(),
        &["import", "text-archives", "--time-zone", "utc", "--json"],
        &env,
    ));
    assert_eq!(again["entities"]["prayers"]["already_present"], 1000);
    assert_eq!(again["entities"]["prayer_marks"]["inserted"], 0);
    // Text output: a table of entities.
    let text = thywill(
        dir.path(),
        &["import", "text-archives", "--time-zone", "utc"],
        &env,
    );
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("prayer_marks") && text.contains("inserted"),
        "{text}"
    );
}

#[test]
fn defaults_are_thywill_db_and_text_archives_in_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("text_archives");
    copy_tree(
        &fixtures()
            .join("s1-live")
            .join("text_archives")
            .join("users"),
        &archives.join("users"),
    );
    let out = thywill(dir.path(), &["--json", "import", "text-archives"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("thywill.db").exists());
    assert_eq!(json(&out)["entities"]["users"]["inserted"], 100);
}

#[test]
fn a_failed_record_exits_1_and_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("text_archives");
    let bad = archives.join("prayers/2024/01/2024_01_05_prayer_at_1000.txt");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, "not a prayer\n").unwrap();
    let out = thywill(dir.path(), &["--json", "import", "text-archives"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(
        report["failures"][0]["file"],
        "prayers/2024/01/2024_01_05_prayer_at_1000.txt"
    );
    assert_eq!(report["failures"][0]["line"], 1);
}

#[test]
fn a_zip_with_an_escaping_entry_is_refused() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("evil.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file("../evil.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"x").unwrap();
    zip.finish().unwrap();
    let out = thywill(dir.path(), &["import", "text-archives", "evil.zip"], &[]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("leaves the extraction folder"));
    assert!(!dir.path().join("thywill.db").exists());
}

#[test]
fn json_prayers_and_a_single_prayer_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("prayers.json"),
        r#"[{"text": "Peace for Ann", "author_name": "Ann Lee", "created_at": "2024-01-01T10:00:00"}]"#,
    )
    .unwrap();
    let out = thywill(
        dir.path(),
        &["--json", "import", "prayers", "prayers.json"],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["entities"]["prayers"]["inserted"], 1);
    std::fs::write(dir.path().join("bad.json"), r#"[{"text": 3}]"#).unwrap();
    let out = thywill(
        dir.path(),
        &["--json", "import", "prayers", "bad.json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["failures"][0]["field"], "text");

    let file = fixtures()
        .join("s1")
        .join("text_archives/prayers/2024/06/2024_06_12_prayer_at_1033.txt");
    let args = [
        "--json",
        "import",
        "prayer",
        file.to_str().unwrap(),
        "--time-zone",
        "utc",
    ];
    let out = thywill(dir.path(), &args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["entities"]["prayers"]["inserted"], 1);
    let mut with_update = args.to_vec();
    with_update.extend(["--update-existing", "--dry-run"]);
    let out = thywill(dir.path(), &with_update, &[]);
    assert_eq!(json(&out)["entities"]["prayers"]["already_present"], 1);
}
