//! ZIP input: same result as the folder, entries confined, temp folder removed.

mod import_support;

use std::io::Write;
use std::path::Path;

use import_support::fixtures;
use thywill_core::db::ArchiveTimeZone;
use thywill_core::import::{import_text_archives, ArchiveSource, TextArchiveOptions};
use thywill_core::progress::NoProgress;
use thywill_core::ErrorKind;
use zip::write::SimpleFileOptions;

fn zip_tree(root: &Path, prefix: &str, out: &Path) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                zip.start_file(format!("{prefix}{rel}"), SimpleFileOptions::default())
                    .unwrap();
                zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
            }
        }
    }
    zip.finish().unwrap();
}

fn options() -> TextArchiveOptions {
    TextArchiveOptions {
        time_zone: ArchiveTimeZone::Utc,
        ..TextArchiveOptions::default()
    }
}

#[test]
fn community_zip_imports_like_the_folder_and_its_temp_folder_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let archives = fixtures().join("s1-live").join("text_archives");
    let zip_path = dir.path().join("complete_site_archive_2025_10_01_0900.zip");
    zip_tree(&archives, "complete_site_archive/", &zip_path);

    let source = ArchiveSource::open(&zip_path).unwrap();
    assert!(source.is_zip());
    let extracted = source.root().to_path_buf();
    assert!(extracted.join("prayers").is_dir());
    drop(source);
    assert!(!extracted.exists(), "the extraction folder must be removed");

    let from_zip =
        import_text_archives(&zip_path, dir.path().join("a.db"), &options(), &NoProgress).unwrap();
    let from_dir =
        import_text_archives(&archives, dir.path().join("b.db"), &options(), &NoProgress).unwrap();
    assert_eq!(from_zip.entities, from_dir.entities);
    assert_eq!(from_zip.source, zip_path.display().to_string());
    let differences = import_support::fidelity_differences(
        &dir.path().join("b.db"),
        &dir.path().join("a.db"),
        true,
    );
    assert!(differences.is_empty(), "{differences:?}");
}

fn evil_zip(path: &Path, name: &str, symlink: bool) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    zip.start_file(
        "text_archives/users/2024_01_users.txt",
        SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(b"User Registrations for January 2024\n\n")
        .unwrap();
    if symlink {
        zip.add_symlink(name, "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
    } else {
        zip.start_file(name, SimpleFileOptions::default()).unwrap();
        zip.write_all(b"owned").unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn escaping_entries_and_symlinks_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("../escape.txt", false, "leaves the extraction folder"),
        (
            "text_archives/../../escape.txt",
            false,
            "leaves the extraction folder",
        ),
        ("/tmp/absolute-escape.txt", false, "absolute"),
        ("text_archives/link", true, "symbolic link"),
    ];
    for (i, (name, symlink, words)) in cases.iter().enumerate() {
        let zip_path = dir.path().join(format!("evil{i}.zip"));
        evil_zip(&zip_path, name, *symlink);
        let db = dir.path().join(format!("evil{i}.db"));
        let err = import_text_archives(&zip_path, &db, &options(), &NoProgress).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{name}");
        assert!(err.to_string().contains(words), "{name}: {err}");
        assert!(!db.exists());
    }
    assert!(!dir.path().join("escape.txt").exists());
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
    assert!(!Path::new("/tmp/absolute-escape.txt").exists());
}

#[test]
fn a_file_that_is_not_a_zip_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.zip");
    std::fs::write(&path, b"not a zip").unwrap();
    let err =
        import_text_archives(&path, dir.path().join("x.db"), &options(), &NoProgress).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not a readable ZIP"), "{err}");
}
