use std::collections::BTreeSet;

use thywill_core::download::{
    create_full_community_zip, list_community_archives, CommunityArchiveList, CommunityZipOptions,
    DownloadZipReport, FIRST_ENTRIES,
};
use thywill_core::progress::NoProgress;

use super::{at, entries, entry_map, files_under, names_in, Community};

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
    // The report counts the entries and names the first few, never all of them.
    assert_eq!(report.entry_count as usize, names.len());
    assert_eq!(report.first_entries, names[..FIRST_ENTRIES]);
    let kinds = &report.entry_kinds;
    let count = |f: &dyn Fn(&str) -> bool| names.iter().filter(|n| f(n)).count() as u64;
    assert_eq!(kinds.generated, 2);
    assert_eq!(
        kinds.prayer_files,
        count(&|n| n.starts_with("complete_site_archive/prayers/"))
    );
    assert_eq!(
        kinds.registration_files,
        count(&|n| n.starts_with("complete_site_archive/users/"))
    );
    assert_eq!(
        kinds.activity_logs,
        count(&|n| n.starts_with("complete_site_archive/activity/"))
    );
    assert_eq!(kinds.ledgers, 0);
    assert_eq!(
        kinds.prayer_files
            + kinds.registration_files
            + kinds.activity_logs
            + kinds.foundational_prayers
            + kinds.generated,
        report.entry_count
    );

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
    let list = list_community_archives(&c.db(), &c.root()).unwrap();
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
    let flagged = c.strings("SELECT id FROM prayer WHERE flagged UNION SELECT prayer_id FROM prayer_attributes WHERE attribute_name = 'flagged'");
    let unflagged_in_march = files_under(&c.root().join("prayers/2024/03"))
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(c.root().join("prayers/2024/03").join(f)).unwrap();
            !flagged.contains(&text.split(' ').nth(1).unwrap().to_string())
        })
        .count();
    assert_eq!(march.file_count as usize, unflagged_in_march);
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

/// The listing's counts per kind, to compare with a community ZIP's.
fn listed(list: &CommunityArchiveList, kind: &str) -> u64 {
    list.archives
        .iter()
        .filter(|a| a.kind == kind && !a.compressed)
        .map(|a| a.file_count)
        .sum()
}

fn assert_listing_counts_the_zip(c: &Community, now: &str) -> DownloadZipReport {
    let list = list_community_archives(&c.db(), &c.root()).unwrap();
    let report = create_full_community_zip(&c.db(), &c.root(), &options(now), &NoProgress).unwrap();
    assert_eq!(listed(&list, "prayers"), report.entry_kinds.prayer_files);
    assert_eq!(
        listed(&list, "users"),
        report.entry_kinds.registration_files
    );
    assert_eq!(listed(&list, "activity"), report.entry_kinds.activity_logs);
    // Month by month too.
    let names = names_in(&report.path);
    for a in list.archives.iter().filter(|a| a.kind == "prayers") {
        let prefix = format!("complete_site_archive/{}/", a.path);
        let in_zip = names.iter().filter(|n| n.starts_with(&prefix)).count() as u64;
        assert_eq!(a.file_count, in_zip, "{}", a.path);
    }
    report
}

#[test]
fn listing_counts_what_the_community_zip_holds() {
    let c = Community::s1();
    let report = assert_listing_counts_the_zip(&c, "2025-06-15 10:30:00");
    assert!(
        report.excluded.flagged_prayer_files > 0,
        "s1 has flagged prayers"
    );
}

#[test]
fn listing_counts_what_the_community_zip_holds_after_a_prayer_is_flagged() {
    let c = Community::s1();
    let before = list_community_archives(&c.db(), &c.root()).unwrap();
    // Flag one more prayer, the one whose file is in the March 2024 folder's first file.
    let march = c.root().join("prayers/2024/03");
    let first = files_under(&march).remove(0);
    let text = std::fs::read_to_string(march.join(&first)).unwrap();
    let id = text.split(' ').nth(1).unwrap().to_string();
    c.conn()
        .execute("UPDATE prayer SET flagged = 1 WHERE id = ?1", [&id])
        .unwrap();
    let report = assert_listing_counts_the_zip(&c, "2025-06-15 10:31:00");
    let after = list_community_archives(&c.db(), &c.root()).unwrap();
    let count = |l: &CommunityArchiveList| {
        l.archives
            .iter()
            .find(|a| a.path == "prayers/2024/03")
            .map_or(0, |a| a.file_count)
    };
    assert_eq!(count(&after), count(&before) - 1);
    assert!(names_in(&report.path)
        .iter()
        .all(|n| !n.ends_with(&format!("/{first}"))));
}

#[test]
fn entries_come_out_in_name_order_whatever_the_folder_names() {
    // Names that sort differently as whole names and as path components: `a.txt` and
    // `a-b.txt` come before `a/…` (`-` and `.` sort before `/`), `a0` after.
    let c = Community::s1();
    let foundational = c.root().join("foundational_prayers");
    for rel in [
        "a/b.txt",
        "a.txt",
        "a-b.txt",
        "a/c/d.txt",
        "a0.txt",
        "a b.txt",
        "A.txt",
        "a/c.txt",
    ] {
        let path = foundational.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, rel).unwrap();
    }
    let report = create_full_community_zip(
        &c.db(),
        &c.root(),
        &options("2025-06-15 10:30:00"),
        &NoProgress,
    )
    .unwrap();
    let names = names_in(&report.path);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert_eq!(report.entry_kinds.foundational_prayers, 8);
    let ours: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_prefix("complete_site_archive/foundational_prayers/"))
        .collect();
    assert_eq!(
        ours,
        [
            "A.txt",
            "a b.txt",
            "a-b.txt",
            "a.txt",
            "a/b.txt",
            "a/c.txt",
            "a/c/d.txt",
            "a0.txt"
        ]
    );
}
