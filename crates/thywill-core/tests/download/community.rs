use std::collections::BTreeSet;

use thywill_core::download::{
    create_full_community_zip, list_community_archives, CommunityZipOptions,
};
use thywill_core::progress::NoProgress;

use super::{at, entries, entry_map, files_under, Community};

fn options(now: &str) -> CommunityZipOptions {
    CommunityZipOptions {
        now: Some(at(now)),
        ..CommunityZipOptions::default()
    }
}

#[test]
fn community_zip_has_thywills_layout_without_flagged_prayers_and_ledgers() {
    let c = Community::s1();
    let report = create_full_community_zip(
        &c.db(),
        &c.root(),
        &options("2025-06-15 10:30:00"),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        report.file_name,
        "complete_site_archive_2025_06_15_1030.zip"
    );
    assert_eq!(
        report.path,
        c.root()
            .join("downloads")
            .join("complete_site_archive_2025_06_15_1030.zip")
    );
    let zip = entries(&report.path);
    let names: Vec<String> = zip.iter().map(|(n, _)| n.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "entries are sorted");
    assert_eq!(names, report.entries);

    // ThyWill's entries: every file of prayers/, users/, activity/ (copytree) plus the
    // two generated files; ours leave out flagged prayers, the ledgers and the dumps.
    let flagged: BTreeSet<String> = c
        .strings("SELECT id FROM prayer WHERE flagged UNION SELECT prayer_id FROM prayer_attributes WHERE attribute_name = 'flagged'")
        .into_iter()
        .collect();
    assert!(!flagged.is_empty());
    let mut expected = BTreeSet::new();
    for top in ["prayers", "users", "activity"] {
        for rel in files_under(&c.root().join(top)) {
            let rel = format!("{top}/{rel}");
            let parts: Vec<&str> = rel.split('/').collect();
            let keep = match parts.as_slice() {
                ["prayers", y, _, _] if y.len() == 4 => {
                    let text = std::fs::read_to_string(c.root().join(&rel)).unwrap();
                    let id = text.split(' ').nth(1).unwrap().to_string();
                    !flagged.contains(&id)
                }
                ["prayers", ..] => false,
                ["users", name] => name.ends_with("_users.txt"),
                _ => true,
            };
            if keep {
                expected.insert(format!("complete_site_archive/{rel}"));
            }
        }
    }
    expected.insert("complete_site_archive/README.txt".into());
    expected.insert("complete_site_archive/archive_metadata.json".into());
    let got: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(
        got.difference(&expected).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    assert_eq!(
        expected.difference(&got).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    assert_eq!(report.excluded.flagged_prayer_files, flagged.len() as u64);

    let map = entry_map(&report.path);
    let readme = &map["complete_site_archive/README.txt"];
    assert!(readme.starts_with("ThyWill Text Archive\n===================\n"));
    assert!(readme.ends_with("\n\nGenerated: June 15 2025 at 10:30"));
    let metadata: serde_json::Value =
        serde_json::from_str(&map["complete_site_archive/archive_metadata.json"]).unwrap();
    assert_eq!(metadata["export_date"], "2025-06-15T10:30:00");
    assert_eq!(metadata["export_type"], "complete_site_archive");
    assert_eq!(
        metadata["format_info"]["timestamp_format"],
        "Month DD YYYY at HH:MM"
    );
    let keys: Vec<&String> = metadata.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4);
    assert!(
        map["complete_site_archive/archive_metadata.json"].starts_with("{\n  \"export_date\": ")
    );

    // Flagged prayers appear nowhere: not as files, not in activity lines.
    for (name, text) in &map {
        for id in &flagged {
            assert!(
                !text.contains(id.as_str()),
                "{name} mentions flagged prayer {id}"
            );
        }
    }
}

#[test]
fn community_zip_names_nobody_who_prayed_or_skipped_by_default() {
    let c = Community::s1();
    let report = create_full_community_zip(
        &c.db(),
        &c.root(),
        &options("2025-06-15 10:30:00"),
        &NoProgress,
    )
    .unwrap();
    let map = entry_map(&report.path);
    assert!(map
        .keys()
        .all(|n| !n.contains("/marks/") && !n.contains("/skips/")));
    for (name, text) in &map {
        assert!(!text.contains(" prayed this prayer"), "{name}");
        assert!(!text.contains(" prayed for prayer "), "{name}");
        assert!(!text.contains(" flagged "), "{name}");
    }
    assert!(report.excluded.lines > 9000, "{:?}", report.excluded);
    // Everything else of a prayer file is kept verbatim: text, generated prayer, answers.
    let answered = map
        .values()
        .filter(|t| t.contains(" marked this prayer as answered"))
        .count();
    assert!(answered > 50);

    // Asked for, who prayed is there; flagged prayers still are not.
    let with = create_full_community_zip(
        &c.db(),
        &c.root(),
        &CommunityZipOptions {
            include_prayer_activity: true,
            out: Some(c.dir.path().join("with.zip")),
            ..options("2025-06-15 10:30:00")
        },
        &NoProgress,
    )
    .unwrap();
    let map = entry_map(&with.path);
    assert!(map.keys().any(|n| n.contains("prayers/marks/")));
    assert!(map.keys().any(|n| n.contains("prayers/skips/")));
    assert!(map.values().any(|t| t.contains(" prayed this prayer")));
    assert_eq!(
        with.excluded.flagged_prayer_files,
        report.excluded.flagged_prayer_files
    );
}

#[test]
fn the_same_data_gives_the_same_bytes() {
    let c = Community::s1();
    let run = |out: &str| {
        let r = create_full_community_zip(
            &c.db(),
            &c.root(),
            &CommunityZipOptions {
                out: Some(c.dir.path().join(out)),
                ..options("2025-06-15 10:30:00")
            },
            &NoProgress,
        )
        .unwrap();
        std::fs::read(r.path).unwrap()
    };
    let first = run("a.zip");
    // Touching the files' times changes nothing: entries carry the export time.
    let some = c.root().join("users/2023_10_users.txt");
    std::fs::File::options()
        .write(true)
        .open(&some)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    assert_eq!(first, run("b.zip"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(first)).unwrap();
    let stamp = archive.by_index(0).unwrap().last_modified().unwrap();
    assert_eq!(
        (stamp.year(), stamp.month(), stamp.day(), stamp.hour()),
        (2025, 6, 15, 10)
    );
    // No temporary file is left beside the ZIPs.
    assert!(std::fs::read_dir(c.dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
}

#[test]
fn listing_shows_relative_paths_newest_first() {
    let c = Community::s1();
    let list = list_community_archives(&c.root()).unwrap();
    assert!(!list.archives.is_empty());
    assert!(list
        .archives
        .iter()
        .all(|a| !a.path.starts_with('/') && !a.path.contains(c.dir.path().to_str().unwrap())));
    let periods: Vec<&str> = list.archives.iter().map(|a| a.period.as_str()).collect();
    let mut sorted = periods.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(periods, sorted);
    let march = list
        .archives
        .iter()
        .find(|a| a.kind == "prayers" && a.period == "2024-03")
        .unwrap();
    assert_eq!(march.path, "prayers/2024/03");
    assert_eq!(
        march.file_count as usize,
        files_under(&c.root().join("prayers/2024/03")).len()
    );
    assert!(list
        .archives
        .iter()
        .any(|a| a.kind == "users" && a.period == "2024_03"));
    assert!(list
        .archives
        .iter()
        .any(|a| a.kind == "activity" && a.period == "2024_03"));
    let json = serde_json::to_value(&list).unwrap();
    assert!(json["archives"][0]["type"].as_str().is_some());
}
