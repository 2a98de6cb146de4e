//! `ArchiveWriter::from_thywill_env` reads ThyWill's settings. Alone in its test binary
//! (its own process), so changing the environment races with nothing.

use std::path::PathBuf;

use thywill_core::archive::writer::ArchiveWriter;

#[test]
fn reads_thywill_settings_from_the_environment() {
    std::env::remove_var("TEXT_ARCHIVE_ENABLED");
    std::env::remove_var("TEXT_ARCHIVE_BASE_DIR");
    std::env::remove_var("CATEGORIZATION_METADATA_EXPORT");
    let w = ArchiveWriter::from_thywill_env();
    assert!(w.enabled);
    assert_eq!(w.base_dir, PathBuf::from("./text_archives"));
    assert!(!w.categorization_metadata_export);

    // `1` disables; only a case-insensitive `true` enables.
    std::env::set_var("TEXT_ARCHIVE_ENABLED", "1");
    std::env::set_var("TEXT_ARCHIVE_BASE_DIR", "/srv/arch");
    std::env::set_var("CATEGORIZATION_METADATA_EXPORT", "TRUE");
    let w = ArchiveWriter::from_thywill_env();
    assert!(!w.enabled);
    assert_eq!(w.base_dir, PathBuf::from("/srv/arch"));
    assert!(w.categorization_metadata_export);
    std::env::set_var("TEXT_ARCHIVE_ENABLED", "True");
    assert!(ArchiveWriter::from_thywill_env().enabled);
}
