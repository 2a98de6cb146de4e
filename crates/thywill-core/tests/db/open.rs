//! `Database::open` on paths that cannot be a database: each failure says why, with the
//! kind front ends map to their codes (SQLite alone reports them all as "unable to open
//! database file"). A folder the user may not write to is covered as a process in
//! `crates/thywill-cli/tests/cli_errors.rs` (it needs an unprivileged user).

use thywill_core::db::{Database, OpenOptions};
use thywill_core::ErrorKind;

fn creating() -> OpenOptions {
    OpenOptions {
        create_if_missing: true,
        ..OpenOptions::default()
    }
}

#[test]
fn a_directory_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    for options in [creating(), OpenOptions::default()] {
        let error = Database::open(dir.path(), &options).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
        assert!(error.to_string().contains("is a directory"), "{error}");
    }
}

#[test]
fn a_missing_folder_is_not_found_and_names_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder");
    let error = Database::open(missing.join("thywill.db"), &creating()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    assert!(error.to_string().contains("no-such-folder"), "{error}");
    assert!(!missing.exists());
}

#[test]
fn a_path_through_a_file_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "not a folder").unwrap();
    let error = Database::open(file.join("thywill.db"), &creating()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
    assert!(error.to_string().contains("is not a folder"), "{error}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder");
}

#[test]
fn a_missing_file_in_a_writable_folder_is_still_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("thywill.db");
    let db = Database::open(&path, &creating()).unwrap();
    assert!(db.has_table("prayer"));
    db.close().unwrap();
    assert!(path.is_file());
}
