//! The prayer-file route's content: moderation lines stay with moderators.

use std::io::Write;

use thywill_core::download::{prayer_archive_file, PrayerArchiveFileOptions};

use super::Community;

const FLAG: &str = "March 03 2024 at 06:42 - Ruth flagged this prayer\n";
const UNFLAG: &str = "March 04 2024 at 07:00 - Admin unflagged this prayer\n";
const SKIP: &str = "March 05 2024 at 08:00 - Ruth skipped this prayer\n";
const MARK: &str = "March 06 2024 at 09:00 - Ann prayed this prayer\n";

#[test]
fn a_prayer_flagged_then_unflagged_is_served_without_who_flagged_it_unless_for_a_moderator() {
    let c = Community::s1();
    let id = c
        .strings("SELECT id FROM prayer WHERE NOT flagged AND id NOT IN (SELECT prayer_id FROM prayer_attributes WHERE attribute_name = 'flagged') AND text_file_path IS NOT NULL ORDER BY id LIMIT 1")
        .remove(0);
    let as_is = prayer_archive_file(
        &c.db(),
        &c.root(),
        &id,
        &PrayerArchiveFileOptions {
            include_moderation: true,
            ..PrayerArchiveFileOptions::default()
        },
    )
    .unwrap();
    let original = std::fs::read_to_string(&as_is.path).unwrap();
    assert!(original.contains("\nActivity:\n"), "{original}");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&as_is.path)
        .unwrap();
    for line in [FLAG, MARK, UNFLAG, SKIP] {
        file.write_all(line.as_bytes()).unwrap();
    }
    drop(file);
    let stored = std::fs::read_to_string(&as_is.path).unwrap();

    let member = prayer_archive_file(
        &c.db(),
        &c.root(),
        &id,
        &PrayerArchiveFileOptions::default(),
    )
    .unwrap();
    let served = member.content.clone().expect("lines were left out");
    assert_eq!(served, format!("{original}{MARK}"));
    assert_eq!(member.excluded_lines, 3);
    assert_eq!(member.size, served.len() as u64);
    assert_eq!(member.path, as_is.path);

    let moderator = prayer_archive_file(
        &c.db(),
        &c.root(),
        &id,
        &PrayerArchiveFileOptions {
            include_moderation: true,
            ..PrayerArchiveFileOptions::default()
        },
    )
    .unwrap();
    assert_eq!(moderator.content, None);
    assert_eq!(moderator.excluded_lines, 0);
    assert_eq!(moderator.size, stored.len() as u64);
    assert!(std::fs::read_to_string(&moderator.path)
        .unwrap()
        .ends_with(&format!("{FLAG}{MARK}{UNFLAG}{SKIP}")));
}

#[test]
fn a_file_without_moderation_lines_is_served_as_it_is() {
    let c = Community::s1();
    let id = "24588c05c6a244f1b75bb6470a7430a5";
    let served =
        prayer_archive_file(&c.db(), &c.root(), id, &PrayerArchiveFileOptions::default()).unwrap();
    assert_eq!(served.content, None);
    assert_eq!(served.excluded_lines, 0);
    assert_eq!(served.size, std::fs::metadata(&served.path).unwrap().len());
}
