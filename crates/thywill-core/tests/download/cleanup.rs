use std::os::unix::fs::symlink;
use std::time::{Duration, SystemTime};

use thywill_core::download::{cleanup_old_downloads, CleanupDownloadsOptions};

use super::Community;

fn aged(path: &std::path::Path, hours: u64) {
    std::fs::write(path, b"zip").unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(hours * 3600))
        .unwrap();
}

#[test]
fn cleanup_removes_only_old_zips_of_ours_and_the_dry_run_lists_them() {
    let c = Community::s1();
    let dir = c.root().join("downloads");
    std::fs::create_dir_all(&dir).unwrap();
    aged(&dir.join("Alice_archive_2025_06_13.zip"), 30);
    aged(&dir.join("complete_site_archive_2025_06_13_1030.zip"), 25);
    aged(
        &dir.join(".Bob_archive_2025_06_13.zip.download-3-77.tmp"),
        48,
    );
    aged(&dir.join("Alice_archive_2025_06_15.zip"), 1);
    aged(&dir.join("notes.zip"), 100);
    aged(&dir.join("keep.txt"), 100);
    let target = c.dir.path().join("elsewhere_archive_2025_01_01.zip");
    aged(&target, 100);
    symlink(&target, dir.join("Link_archive_2025_01_01.zip")).unwrap();

    let dry = cleanup_old_downloads(
        &c.root(),
        &CleanupDownloadsOptions {
            dry_run: true,
            ..CleanupDownloadsOptions::default()
        },
    )
    .unwrap();
    let listed: Vec<String> = dry
        .removed
        .iter()
        .map(|d| d.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        listed,
        [
            ".Bob_archive_2025_06_13.zip.download-3-77.tmp",
            "Alice_archive_2025_06_13.zip",
            "complete_site_archive_2025_06_13_1030.zip"
        ]
    );
    assert_eq!((dry.kept, dry.ignored), (1, 3));
    assert!(
        dir.join("Alice_archive_2025_06_13.zip").exists(),
        "the dry run removed nothing"
    );

    let real = cleanup_old_downloads(&c.root(), &CleanupDownloadsOptions::default()).unwrap();
    assert_eq!(
        real.removed,
        dry.removed
            .iter()
            .map(|d| {
                let mut d = d.clone();
                d.age_seconds = real
                    .removed
                    .iter()
                    .find(|r| r.path == d.path)
                    .unwrap()
                    .age_seconds;
                d
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(real.removed_bytes, dry.removed_bytes);
    for name in &listed {
        assert!(!dir.join(name).exists());
    }
    for kept in [
        "Alice_archive_2025_06_15.zip",
        "notes.zip",
        "keep.txt",
        "Link_archive_2025_01_01.zip",
    ] {
        assert!(std::fs::symlink_metadata(dir.join(kept)).is_ok(), "{kept}");
    }
    assert!(target.exists(), "a link's target is never touched");

    let again = cleanup_old_downloads(&c.root(), &CleanupDownloadsOptions::default()).unwrap();
    assert!(again.removed.is_empty());

    let shorter = cleanup_old_downloads(
        &c.root(),
        &CleanupDownloadsOptions {
            max_age_seconds: 60,
            ..CleanupDownloadsOptions::default()
        },
    )
    .unwrap();
    assert_eq!(shorter.removed.len(), 1);
}

#[test]
fn cleanup_without_a_downloads_folder_does_nothing() {
    let c = Community::s1();
    let r = cleanup_old_downloads(&c.root(), &CleanupDownloadsOptions::default()).unwrap();
    assert!(r.removed.is_empty());
    assert!(!c.root().join("downloads").exists());
}

#[test]
fn cleanup_of_every_zip_removes_any_old_zip_but_never_follows_links() {
    let c = Community::s1();
    let dir = c.root().join("downloads");
    std::fs::create_dir_all(&dir).unwrap();
    aged(&dir.join("old_archive.zip"), 25);
    aged(&dir.join("Alice_archive_2025_06_13.zip"), 30);
    aged(&dir.join("fresh.zip"), 1);
    aged(&dir.join("keep.txt"), 100);
    let target = c.dir.path().join("elsewhere.zip");
    aged(&target, 100);
    symlink(&target, dir.join("link.zip")).unwrap();
    let options = CleanupDownloadsOptions {
        every_zip: true,
        ..CleanupDownloadsOptions::default()
    };
    let report = cleanup_old_downloads(&c.root(), &options).unwrap();
    let removed: Vec<String> = report
        .removed
        .iter()
        .map(|d| d.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(removed, ["Alice_archive_2025_06_13.zip", "old_archive.zip"]);
    assert_eq!((report.kept, report.ignored), (1, 2));
    assert!(dir.join("fresh.zip").exists() && dir.join("keep.txt").exists());
    assert!(target.exists(), "a link's target is never removed");
    let again = cleanup_old_downloads(&c.root(), &options).unwrap();
    assert!(again.removed.is_empty());
}
