//! `thywill download user|community` and `thywill downloads cleanup` on a copy of s1.

use std::time::{Duration, SystemTime};

use crate::support::{community_copy, json_of, thywill_in};

#[test]
fn download_user_and_community_write_zips_in_the_downloads_folder() {
    let dir = community_copy("s1");
    let out = thywill_in(dir.path(), &["download", "user", "John Lee", "--json"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let path = dir.path().join(report["path"].as_str().unwrap());
    assert!(path.starts_with(dir.path().join("text_archives/downloads")));
    assert!(path.is_file());
    // The report counts the entries and names the first few.
    let first = report["first_entries"].as_array().unwrap();
    assert!(!first.is_empty() && first.len() <= 16);
    assert!(first
        .iter()
        .all(|e| e.as_str().unwrap().starts_with("John Lee_text_archive/")));
    let count = report["entry_count"].as_u64().unwrap();
    let in_zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap())
        .unwrap()
        .len() as u64;
    assert_eq!(count, in_zip);
    let kinds = report["entry_kinds"].as_object().unwrap();
    assert_eq!(
        kinds.values().map(|v| v.as_u64().unwrap()).sum::<u64>(),
        count
    );

    let out = thywill_in(
        dir.path(),
        &["download", "community", "--out", "community.zip"],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("community.zip"), "{text}");
    assert!(text.contains("flagged prayer file(s)"), "{text}");
    assert!(dir.path().join("community.zip").is_file());

    let out = thywill_in(dir.path(), &["download", "user", "nobody"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
}

#[test]
fn downloads_cleanup_lists_in_a_dry_run_and_removes_old_zips() {
    let dir = community_copy("s1");
    let downloads = dir.path().join("text_archives/downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let old = downloads.join("Ann_archive_2025_01_01.zip");
    std::fs::write(&old, b"x").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3 * 86_400))
        .unwrap();
    let young = downloads.join("Ann_archive_2025_01_02.zip");
    std::fs::write(&young, b"x").unwrap();

    let dry = thywill_in(
        dir.path(),
        &[
            "downloads",
            "cleanup",
            "--older-than",
            "2d",
            "--dry-run",
            "--json",
        ],
        &[],
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let report = json_of(&dry);
    assert_eq!(report["removed"].as_array().unwrap().len(), 1);
    assert_eq!(report["dry_run"], true);
    assert!(old.exists());

    let real = thywill_in(
        dir.path(),
        &["downloads", "cleanup", "--older-than", "2d"],
        &[],
    );
    assert!(real.status.success());
    assert!(String::from_utf8_lossy(&real.stdout).contains("Removed 1 download(s)"));
    assert!(!old.exists() && young.exists());

    let bad = thywill_in(
        dir.path(),
        &["downloads", "cleanup", "--older-than", "2w"],
        &[],
    );
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn downloads_list_counts_what_the_community_zip_holds() {
    let dir = community_copy("s1");
    let out = thywill_in(dir.path(), &["downloads", "list", "--json"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = json_of(&out);
    let archives = list["archives"].as_array().unwrap();
    assert!(!archives.is_empty());
    let out = thywill_in(
        dir.path(),
        &["download", "community", "--out", "community.zip"],
        &[],
    );
    assert!(out.status.success());
    let zip = zip::ZipArchive::new(std::fs::File::open(dir.path().join("community.zip")).unwrap())
        .unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    for a in archives {
        let prefix = format!("complete_site_archive/{}", a["path"].as_str().unwrap());
        let in_zip = names
            .iter()
            .filter(|n| **n == prefix || n.starts_with(&format!("{prefix}/")))
            .count() as u64;
        assert_eq!(a["file_count"].as_u64().unwrap(), in_zip, "{prefix}");
    }
    let text = thywill_in(dir.path(), &["downloads", "list"], &[]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("prayers/2024/03"), "{text}");
}
