use std::os::unix::fs::symlink;

use thywill_core::download::{
    create_user_archive_zip, prayer_archive_file, PrayerArchiveFileOptions, UserZipOptions,
};
use thywill_core::progress::NoProgress;
use thywill_core::ErrorKind;

use super::{at, files_under, names_in, Community};

fn first_prayer(c: &Community) -> String {
    c.strings("SELECT id FROM prayer WHERE NOT flagged AND id NOT IN (SELECT prayer_id FROM prayer_attributes WHERE attribute_name = 'flagged') ORDER BY id LIMIT 1")
        .remove(0)
}

fn set_path(c: &Community, id: &str, path: &str) {
    c.conn()
        .execute(
            "UPDATE prayer SET text_file_path = ?1 WHERE id = ?2",
            [path, id],
        )
        .unwrap();
}

#[test]
fn a_prayers_file_is_served_from_inside_the_archive_root_only() {
    let c = Community::s1();
    let id = first_prayer(&c);
    let ok = prayer_archive_file(
        &c.db(),
        &c.root(),
        &id,
        &PrayerArchiveFileOptions::default(),
    )
    .unwrap();
    assert!(ok.path.starts_with(c.root().canonicalize().unwrap()));
    assert!(ok.file_name.starts_with(&format!("prayer_{id}_")));
    assert_eq!(ok.size, std::fs::metadata(&ok.path).unwrap().len());

    // ThyWill served /etc/hostname when the stored path said so.
    let outside = c.dir.path().join("secret.txt");
    std::fs::write(&outside, "secret").unwrap();
    let link = c.root().join("prayers/2024/03/link_out.txt");
    symlink(&outside, &link).unwrap();
    let absolute_inside = ok.path.to_string_lossy().into_owned();
    for stored in [
        "/etc/hostname",
        "../../x",
        "text_archives/../secret.txt",
        "text_archives/prayers/2024/03/link_out.txt",
        outside.to_str().unwrap(),
    ] {
        set_path(&c, &id, stored);
        let e = prayer_archive_file(
            &c.db(),
            &c.root(),
            &id,
            &PrayerArchiveFileOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Permission, "{stored}: {e}");
    }
    // An absolute path inside the root (ThyWill with an absolute base folder) is served.
    set_path(&c, &id, &absolute_inside);
    prayer_archive_file(
        &c.db(),
        &c.root(),
        &id,
        &PrayerArchiveFileOptions::default(),
    )
    .unwrap();
    set_path(&c, &id, "text_archives/prayers/2099/01/missing.txt");
    let e = prayer_archive_file(
        &c.db(),
        &c.root(),
        &id,
        &PrayerArchiveFileOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = prayer_archive_file(
        &c.db(),
        &c.root(),
        "no-such-prayer",
        &PrayerArchiveFileOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[test]
fn a_flagged_prayers_file_is_served_only_when_the_caller_allows_it() {
    let c = Community::s1();
    let id = c
        .strings("SELECT id FROM prayer WHERE flagged ORDER BY id LIMIT 1")
        .remove(0);
    let e = prayer_archive_file(
        &c.db(),
        &c.root(),
        &id,
        &PrayerArchiveFileOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permission);
    prayer_archive_file(
        &c.db(),
        &c.root(),
        &id,
        &PrayerArchiveFileOptions {
            include_flagged: true,
            ..PrayerArchiveFileOptions::default()
        },
    )
    .unwrap();
}

#[test]
fn a_display_name_with_dot_dot_stays_inside_the_downloads_folder() {
    let c = Community::s1();
    let name = "../../x";
    c.conn()
        .execute(
            "INSERT INTO user (display_name, created_at, welcome_message_dismissed, is_supporter, text_file_path) \
             VALUES (?1, '2024-03-04 02:21:00', 0, 0, '../../etc/passwd')",
            [name],
        )
        .unwrap();
    let id = first_prayer(&c);
    c.conn()
        .execute(
            "UPDATE prayer SET author_username = ?1 WHERE id = ?2",
            [name, &id],
        )
        .unwrap();
    let before = files_under(c.dir.path());
    let report = create_user_archive_zip(
        &c.db(),
        &c.root(),
        name,
        &UserZipOptions {
            now: Some(at("2025-06-15 10:30:00")),
            ..UserZipOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.path.parent().unwrap(), c.root().join("downloads"));
    assert!(!report.file_name.contains('/') && !report.file_name.contains(".."));
    let names = names_in(&report.path);
    assert_eq!(report.entry_count as usize, names.len());
    assert!(names
        .iter()
        .all(|e| !e.contains("..") && !e.starts_with('/')));
    assert!(names.iter().all(|e| e.starts_with("______x_text_archive/")));
    // The registration path leaving the root was refused, not read.
    assert_eq!(report.skipped_paths.len(), 1);
    assert!(report.skipped_paths[0].stored.contains("passwd"));
    let after = files_under(c.dir.path());
    // The ZIP, and the download's audit line beside the database (docs/audit.md).
    let new: Vec<&String> = after
        .iter()
        .filter(|f| !before.contains(f) && f.as_str() != thywill_core::audit::AUDIT_FILE_NAME)
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert!(new[0].starts_with("text_archives/downloads/"));
    // Nothing was written beside the fixture copy either.
    assert!(!c
        .dir
        .path()
        .parent()
        .unwrap()
        .join("x_archive_2025_06_15.zip")
        .exists());
}

#[test]
fn a_user_zip_leaves_out_a_prayer_whose_path_leaves_the_root() {
    let c = Community::s1();
    let name = c
        .strings(
            "SELECT author_username FROM prayer GROUP BY 1 HAVING count(*) >= 2 ORDER BY 1 LIMIT 1",
        )
        .remove(0);
    let ids = c.strings(&format!(
        "SELECT id FROM prayer WHERE author_username = '{}' ORDER BY id",
        name.replace('\'', "''")
    ));
    set_path(&c, &ids[0], "/etc/hostname");
    let report = create_user_archive_zip(
        &c.db(),
        &c.root(),
        &name,
        &UserZipOptions {
            include_community: false,
            now: Some(at("2025-06-15 10:30:00")),
            ..UserZipOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    let names = names_in(&report.path);
    assert!(names.iter().all(|e| !e.contains(&ids[0])));
    assert!(names.iter().any(|e| e.contains(&ids[1])));
    assert_eq!(report.skipped_paths.len(), 1);
    assert_eq!(report.skipped_paths[0].owner, format!("prayer {}", ids[0]));
}
