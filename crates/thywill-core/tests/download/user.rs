use thywill_core::download::{
    create_user_archive_zip, get_user_archive_metadata, MetadataOptions, UserZipOptions,
};
use thywill_core::progress::NoProgress;

use super::{at, entries, entry_map, names_in, Community};

fn options() -> UserZipOptions {
    UserZipOptions {
        now: Some(at("2025-06-15 10:30:00")),
        ..UserZipOptions::default()
    }
}

/// The user with the most marks who also wrote prayers.
fn busy_user(c: &Community) -> String {
    c.strings(
        "SELECT m.username FROM prayermark m WHERE m.username IN (SELECT author_username FROM prayer) \
         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )
    .remove(0)
}

#[test]
fn user_zip_has_thywills_layout() {
    let c = Community::s1();
    let name = busy_user(&c);
    let report =
        create_user_archive_zip(&c.db(), &c.root(), &name, &options(), &NoProgress).unwrap();
    assert_eq!(report.file_name, format!("{name}_archive_2025_06_15.zip"));
    assert_eq!(
        report.path,
        c.root().join("downloads").join(&report.file_name)
    );
    let folder = format!("{name}_text_archive");
    let zip = entries(&report.path);
    let names: Vec<&str> = zip.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.iter().all(|n| n.starts_with(&format!("{folder}/"))));
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let map = entry_map(&report.path);

    // prayers/prayer_<id>_<YYYY_MM_DD>.txt for each of the user's prayers with a file,
    // the file's own text (who prayed for it stays: the community view shows it).
    let prayers = c.strings(&format!(
        "SELECT id || '|' || strftime('%Y_%m_%d', created_at) || '|' || text_file_path FROM prayer \
         WHERE author_username = '{}'",
        name.replace('\'', "''")
    ));
    assert!(!prayers.is_empty());
    for row in &prayers {
        let [id, date, path]: [&str; 3] =
            row.splitn(3, '|').collect::<Vec<_>>().try_into().unwrap();
        let entry = format!("{folder}/prayers/prayer_{id}_{date}.txt");
        let original = std::fs::read_to_string(c.dir.path().join(path)).unwrap();
        let copied = &map[&entry];
        if original.contains(" skipped this prayer") || original.contains("flagged this prayer") {
            assert!(copied.len() < original.len());
        } else {
            assert_eq!(copied, &original, "{entry}");
        }
    }
    let prayer_entries = names.iter().filter(|n| n.contains("/prayers/")).count();
    assert_eq!(prayer_entries, prayers.len());

    // activities/my_prayer_activities.txt: ThyWill's summary of the user's marks.
    let summary = &map[&format!("{folder}/activities/my_prayer_activities.txt")];
    assert!(summary.starts_with(&format!(
        "Prayer Activities for {name}\n{}\n\n",
        "=".repeat(50)
    )));
    let marks = c.strings(&format!(
        "SELECT prayer_id FROM prayermark WHERE username = '{}'",
        name.replace('\'', "''")
    ));
    assert_eq!(
        summary.matches(" - Prayed for prayer ").count(),
        marks.len()
    );

    // personal/registration.txt: the user's own registration line, nobody else's.
    let registration = &map[&format!("{folder}/personal/registration.txt")];
    let lines: Vec<&str> = registration.lines().collect();
    assert_eq!(lines[0], "User Registration Information:");
    assert_eq!(lines.len(), 3, "{registration}");
    assert!(lines[2].contains(&format!(" - {name} joined ")));

    // community/: the monthly logs and registration files, under the community rules.
    assert!(names
        .iter()
        .any(|n| n.starts_with(&format!("{folder}/community/activity/activity_"))));
    assert!(names
        .iter()
        .any(|n| n.ends_with("_users.txt") && n.contains("/community/users/")));
    for (n, text) in &map {
        if n.contains("/community/") {
            assert!(!text.contains(" prayed for prayer "), "{n}");
        }
    }
    let without = create_user_archive_zip(
        &c.db(),
        &c.root(),
        &name,
        &UserZipOptions {
            include_community: false,
            out: Some(c.dir.path().join("own.zip")),
            ..options()
        },
        &NoProgress,
    )
    .unwrap();
    let names = names_in(&without.path);
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| !n.contains("/community/")));
    assert_eq!(without.entry_count as usize, names.len());
    assert_eq!(
        without.first_entries,
        names[..names.len().min(thywill_core::download::FIRST_ENTRIES)]
    );
    assert_eq!(
        without.entry_kinds.generated + without.entry_kinds.prayer_files,
        without.entry_count
    );
}

#[test]
fn user_zip_holds_nothing_of_users_who_share_part_of_the_name() {
    let c = Community::s1();
    // ThyWill took every registration line containing the name: "Naomi" got "Naomi2000"'s.
    let names = c.strings("SELECT display_name FROM user");
    let (short, long) = names
        .iter()
        .flat_map(|a| names.iter().map(move |b| (a, b)))
        .find(|(a, b)| a != b && b.contains(a.as_str()))
        .expect("s1 has a name inside another");
    let report =
        create_user_archive_zip(&c.db(), &c.root(), short, &options(), &NoProgress).unwrap();
    let map = entry_map(&report.path);
    let registration = &map[&format!("{short}_text_archive/personal/registration.txt")];
    assert!(
        !registration.contains(&format!(" - {long} joined")),
        "{registration}"
    );
}

#[test]
fn same_user_data_gives_the_same_bytes() {
    let c = Community::s1();
    let name = busy_user(&c);
    let run = |out: &str| {
        let r = create_user_archive_zip(
            &c.db(),
            &c.root(),
            &name,
            &UserZipOptions {
                out: Some(c.dir.path().join(out)),
                ..options()
            },
            &NoProgress,
        )
        .unwrap();
        std::fs::read(r.path).unwrap()
    };
    assert_eq!(run("a.zip"), run("b.zip"));
}

#[test]
fn unknown_user_is_not_found() {
    let c = Community::s1();
    let e = create_user_archive_zip(&c.db(), &c.root(), "nobody here", &options(), &NoProgress)
        .unwrap_err();
    assert_eq!(e.kind(), thywill_core::ErrorKind::NotFound);
    assert!(
        !c.root().join("downloads").exists()
            || std::fs::read_dir(c.root().join("downloads"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn metadata_has_thywills_keys_and_no_server_paths() {
    let c = Community::s1();
    let name = busy_user(&c);
    let m =
        get_user_archive_metadata(&c.db(), &c.root(), &name, &MetadataOptions::default()).unwrap();
    let json = serde_json::to_value(&m).unwrap();
    let text = serde_json::to_string(&m).unwrap();
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
    assert!(at("user") < at("prayers") && at("prayers") < at("activities"));
    assert!(at("activities") < at("archive_statistics"));
    assert_eq!(json.as_object().unwrap().len(), 4);
    assert_eq!(json["user"]["id"], name.as_str());
    assert!(json["user"]["text_file_path"]
        .as_str()
        .unwrap()
        .starts_with("users/"));
    assert!(m.prayers.iter().all(|p| p.archive_exists == Some(true)));
    assert!(m.prayers.iter().all(|p| p
        .text_file_path
        .as_deref()
        .is_some_and(|p| p.starts_with("prayers/"))));
    assert_eq!(m.archive_statistics.total_prayers as usize, m.prayers.len());
    assert_eq!(
        m.archive_statistics.total_archive_files as usize,
        m.prayers.len() + 1
    );
    assert!(m.archive_statistics.date_range.earliest <= m.archive_statistics.date_range.latest);
    assert!(!serde_json::to_string(&m)
        .unwrap()
        .contains(c.dir.path().to_str().unwrap()));
}
