//! Our ZIPs against the ones ThyWill's own `ArchiveDownloadService` wrote on s1
//! (`tests/snapshots/downloads/thywill_s1_zips.json`: entry names and SHA-256 of each
//! entry): the same entries and bytes, except what the privacy rules change.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use thywill_core::download::{
    create_full_community_zip, create_user_archive_zip, CommunityZipOptions, UserZipOptions,
};
use thywill_core::progress::NoProgress;

use super::{at, entries, Community};

fn thywill(key: &str) -> BTreeMap<String, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/downloads/thywill_s1_zips.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc[key]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn ours(zip: &std::path::Path, top: &str) -> BTreeMap<String, (String, String)> {
    entries(zip)
        .into_iter()
        .map(|(name, text)| {
            let sha = hex::encode(Sha256::digest(text.as_bytes()));
            (name.strip_prefix(top).unwrap().to_string(), (sha, text))
        })
        .collect()
}

#[test]
fn community_zip_is_thywills_minus_what_the_privacy_rules_leave_out() {
    let c = Community::s1();
    let theirs = thywill("community");
    let report = create_full_community_zip(
        &c.db(),
        &c.root(),
        &CommunityZipOptions {
            now: Some(at("2026-12-07 02:32:00")),
            ..CommunityZipOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    let ours = ours(&report.path, "complete_site_archive/");
    // Every entry of ours is one of ThyWill's.
    for name in ours.keys() {
        assert!(theirs.contains_key(name), "{name} is not in ThyWill's ZIP");
    }
    // ThyWill's entries we leave out: the ledgers, users' attributes, flagged prayers.
    let missing: Vec<&String> = theirs.keys().filter(|n| !ours.contains_key(*n)).collect();
    for name in &missing {
        let ledger = name.starts_with("prayers/marks/")
            || name.starts_with("prayers/skips/")
            || name.starts_with("prayers/attributes/");
        let dump = name.starts_with("users/") && !name.ends_with("_users.txt");
        let prayer = name.starts_with("prayers/20");
        assert!(ledger || dump || prayer, "{name} left out");
    }
    let flagged_left_out = missing
        .iter()
        .filter(|n| n.starts_with("prayers/20"))
        .count();
    assert_eq!(
        flagged_left_out as u64,
        report.excluded.flagged_prayer_files
    );
    // Files the rules do not touch have ThyWill's bytes.
    let mut same = 0;
    for (name, (sha, text)) in &ours {
        let untouched = name.starts_with("users/")
            || (name.starts_with("prayers/20") && !text.contains("\nActivity:\n"));
        if untouched {
            assert_eq!(sha, &theirs[name], "{name}");
            same += 1;
        }
    }
    assert!(same >= 20, "{same}");
}

#[test]
fn user_zip_is_thywills_minus_other_users_data() {
    let c = Community::s1();
    let theirs = thywill("user_John Lee");
    let report = create_user_archive_zip(
        &c.db(),
        &c.root(),
        "John Lee",
        &UserZipOptions {
            now: Some(at("2026-12-07 02:32:00")),
            ..UserZipOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.file_name, "John Lee_archive_2026_12_07.zip");
    let ours = ours(&report.path, "John Lee_text_archive/");
    let names = |m: &BTreeMap<String, _>| -> Vec<String> {
        m.keys()
            .filter(|n| !n.starts_with("community/users/") || n.ends_with("_users.txt"))
            .cloned()
            .collect()
    };
    let their_names: Vec<String> = theirs
        .keys()
        .filter(|n| !n.starts_with("community/users/") || n.ends_with("_users.txt"))
        .cloned()
        .collect();
    assert_eq!(names(&ours), their_names, "the same entries");
    let mut flag_lines_dropped = 0;
    for (name, (sha, text)) in &ours {
        let original = name
            .strip_prefix("prayers/prayer_")
            .and_then(|rest| rest.split('_').next())
            .map(|id| {
                let stored = c.strings(&format!(
                    "SELECT text_file_path FROM prayer WHERE id = '{id}'"
                ));
                std::fs::read_to_string(c.dir.path().join(&stored[0])).unwrap()
            });
        if let Some(original) = &original {
            if original.contains(" flagged this prayer") {
                assert!(!text.contains(" flagged this prayer"));
                assert_eq!(original.lines().count(), text.lines().count() + 1, "{name}");
                flag_lines_dropped += 1;
            }
        }
        let same_bytes = original.is_some_and(|o| {
            !o.contains(" skipped this prayer") && !o.contains(" flagged this prayer")
        }) || name == "activities/my_prayer_activities.txt"
            || name.starts_with("community/users/");
        if same_bytes {
            assert_eq!(sha, &theirs[name], "{name}");
        }
    }
    assert!(flag_lines_dropped >= 1);
    // ThyWill's registration.txt also held the lines of users the name invited.
    assert_ne!(
        ours["personal/registration.txt"].0,
        theirs["personal/registration.txt"]
    );
    assert_eq!(
        ours["personal/registration.txt"].1,
        "User Registration Information:\n\nNovember 07 2023 at 16:40 - John Lee joined on invitation from al_haddad"
    );
}
