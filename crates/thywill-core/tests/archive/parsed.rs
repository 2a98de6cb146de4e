//! `archive::parsed` reads every file of both fixture corpora without a diagnostic.

use crate::support::fixtures;
use std::path::{Path, PathBuf};

use thywill_core::archive::kind::FileKind;
use thywill_core::archive::parsed::{kind_of_path, parse_file};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_file_parses_cleanly() {
    for corpus in ["s1", "s1-live"] {
        let mut files = Vec::new();
        walk(&fixtures().join(corpus).join("text_archives"), &mut files);
        let mut parsed_count = 0;
        let mut records = 0;
        for file in &files {
            if kind_of_path(file) == FileKind::Other {
                continue;
            }
            let parsed = parse_file(file).unwrap();
            assert!(
                parsed.diagnostics.is_empty(),
                "{}: {:?}",
                file.display(),
                parsed.diagnostics
            );
            assert!(!parsed.content.is_null(), "{}", file.display());
            parsed_count += 1;
            records += parsed.record_count;
        }
        assert!(
            parsed_count >= 1150,
            "{corpus}: only {parsed_count} files parsed"
        );
        assert!(records > 10_000, "{corpus}: only {records} records");
    }
}

/// Every prayer file of both corpora survives serialize → deserialize unchanged, and the
/// deserialized record renders the file's bytes.
#[test]
fn every_fixture_prayer_round_trips_through_its_plain_data() {
    use thywill_core::archive::prayer::{self, PrayerArchive};
    let mut checked = 0;
    for corpus in ["s1", "s1-live"] {
        let mut files = Vec::new();
        walk(&fixtures().join(corpus).join("text_archives"), &mut files);
        files.sort();
        for file in files {
            if kind_of_path(&file) != FileKind::Prayer {
                continue;
            }
            let bytes = std::fs::read(&file).unwrap();
            let (doc, _) = prayer::parse_bytes(&bytes, Some(&file));
            let data = serde_json::to_value(&doc).unwrap();
            let back: PrayerArchive = serde_json::from_value(data).unwrap();
            assert_eq!(back, doc, "{}", file.display());
            assert_eq!(back.render().as_bytes(), &bytes[..], "{}", file.display());
            checked += 1;
        }
    }
    assert_eq!(checked, 2000, "prayer files of the two corpora");
}

/// Hand-made plain data: optional parts may be left out and timestamps given as text.
#[test]
fn a_prayer_from_minimal_plain_data() {
    use thywill_core::archive::prayer::{ActivityAction, PrayerArchive};
    let doc: PrayerArchive = serde_json::from_value(serde_json::json!({
        "id": "p1",
        "author": "Ann Lee",
        "submitted": "July 06 2025 at 09:05",
        "text": "Please pray",
        "activities": [
            {"timestamp": "July 06 2025 at 10:00", "actor": "Bob Stone", "action": {"kind": "prayed"}},
            {"timestamp": {"text": "July 06 2025 at 11:00"}, "actor": "Ann Lee",
             "action": {"kind": "set_attribute", "name": "daily_priority", "old": null, "new": "x"}}
        ]
    }))
    .unwrap();
    assert_eq!(
        doc.submitted.time.unwrap().to_string(),
        "2025-07-06 09:05:00"
    );
    assert_eq!(
        doc.activities[1].action,
        ActivityAction::SetAttribute {
            name: "daily_priority".into(),
            old: None,
            new: "x".into()
        }
    );
    assert!(doc.generated_prayer.is_none() && !doc.fragment);
    assert!(doc
        .render()
        .ends_with("July 06 2025 at 11:00 - Ann Lee set daily_priority to 'x'\n"));
    // A wrong type names the field.
    let err = serde_json::from_value::<PrayerArchive>(serde_json::json!({
        "id": "p1", "author": 3, "submitted": "x", "text": ""
    }))
    .unwrap_err();
    assert!(err.to_string().contains("invalid type"), "{err}");
}
