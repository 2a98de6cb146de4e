//! `archive::parsed` reads every file of both fixture corpora without a diagnostic.

use std::path::{Path, PathBuf};

use thywill_core::archive::kind::FileKind;
use thywill_core::archive::parsed::{kind_of_path, parse_file};

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
