//! `thywill archive check`: every file of an archive tree parsed and rendered back, and a
//! report of the files whose bytes differ, that carry diagnostics or cannot be read.
//!
//! A file ThyWill wrote comes back byte-identical; a difference means the file was edited,
//! damaged, written by an older version, or holds something the format cannot represent
//! unambiguously.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::diagnostics::{bound_diagnostics, Diagnostic};
use super::fileops::{entry_type, read_listed_file, EntryType};
use super::kind::{detect_kind, renderer, FileKind};
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// The first 1-based line at which `a` and `b` differ (counting LF-terminated lines).
pub fn first_differing_line(a: &[u8], b: &[u8]) -> Option<usize> {
    if a == b {
        return None;
    }
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let before = a.get(..common).unwrap_or_default();
    Some(1 + before.iter().filter(|&&c| c == b'\n').count())
}

/// One file whose re-rendered bytes differ from what is on disk, or that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedFile {
    /// Path relative to the archive root.
    pub path: PathBuf,
    /// Its kind.
    pub kind: FileKind,
    /// First line where the re-rendered bytes differ (None when identical).
    pub first_differing_line: Option<usize>,
    /// Problems found while parsing.
    pub diagnostics: Vec<Diagnostic>,
    /// Set when the file could not be read at all.
    pub error: Option<String>,
}

/// The result of [`check_tree`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Files parsed and re-rendered.
    pub files_checked: u64,
    /// Files identical after re-rendering.
    pub files_identical: u64,
    /// Files of a kind without a re-renderer (not checked).
    pub files_skipped: u64,
    /// Every file that differs, has diagnostics, or failed.
    pub problems: Vec<CheckedFile>,
    /// `*.tmp` files: leftovers of an interrupted atomic write, relative to the root.
    pub leftover_temp_files: Vec<PathBuf>,
    /// Entries that are not regular files (FIFOs, sockets, devices, links to folders): never
    /// opened, listed but not counted as problems.
    pub not_regular_files: Vec<NotRegularFile>,
}

/// An entry [`check_tree`] does not read because it is not a regular file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotRegularFile {
    /// Path relative to the archive root.
    pub path: PathBuf,
    /// What it is, e.g. `FIFO`, `symbolic link to a character device`.
    pub what: String,
}

impl CheckReport {
    /// True when every checked file re-rendered identically and without diagnostics
    /// (leftover temp files are listed but do not count).
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Collects the regular files under `dir` (with whether each was reached through a
/// symbolic link) and the entries that are not regular files.
fn walk(
    dir: &Path,
    out: &mut Vec<(PathBuf, bool)>,
    skipped: &mut Vec<(PathBuf, &'static str)>,
) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        match entry_type(&entry).map_err(|e| Error::io(entry.path(), e))? {
            EntryType::Dir => walk(&entry.path(), out, skipped)?,
            EntryType::File { via_link } => out.push((entry.path(), via_link)),
            EntryType::Skipped(what) => skipped.push((entry.path(), what)),
        }
    }
    Ok(())
}

/// Re-renders every file under `root` that has a re-renderer and lists the ones whose
/// bytes differ (with the first differing line), carry diagnostics, or cannot be read.
/// Files are visited in sorted path order; progress phase `"check"`.
pub fn check_tree(root: &Path, sink: &dyn Progress) -> Result<CheckReport> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    walk(root, &mut files, &mut skipped)?;
    files.sort();
    skipped.sort();
    let total = files.len() as u64;
    let mut report = CheckReport {
        not_regular_files: skipped
            .into_iter()
            .map(|(path, what)| NotRegularFile {
                path: path.strip_prefix(root).unwrap_or(&path).to_path_buf(),
                what: what.to_string(),
            })
            .collect(),
        ..CheckReport::default()
    };
    for (i, (file, via_link)) in files.iter().enumerate() {
        progress::report(sink, "check", i as u64, Some(total))?;
        let rel = file.strip_prefix(root).unwrap_or(file).to_path_buf();
        let kind = detect_kind(&rel);
        if rel.extension().is_some_and(|e| e == "tmp") {
            report.leftover_temp_files.push(rel.clone());
        }
        let Some(render) = renderer(kind) else {
            report.files_skipped += 1;
            continue;
        };
        report.files_checked += 1;
        let bytes = match read_listed_file(file, *via_link) {
            Ok(b) => b,
            Err(e) => {
                report.problems.push(CheckedFile {
                    path: rel,
                    kind,
                    first_differing_line: None,
                    diagnostics: Vec::new(),
                    error: Some(e.to_string()),
                });
                continue;
            }
        };
        match render(&bytes, Some(&rel)) {
            Ok((out, diagnostics)) => {
                let diagnostics = bound_diagnostics(diagnostics);
                let diff = first_differing_line(&bytes, &out);
                if diff.is_none() && diagnostics.is_empty() {
                    report.files_identical += 1;
                } else {
                    report.problems.push(CheckedFile {
                        path: rel,
                        kind,
                        first_differing_line: diff,
                        diagnostics,
                        error: None,
                    });
                }
            }
            Err(e) => report.problems.push(CheckedFile {
                path: rel,
                kind,
                first_differing_line: None,
                diagnostics: Vec::new(),
                error: Some(e.to_string()),
            }),
        }
    }
    progress::report(sink, "check", total, Some(total))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::export::legacy::LegacyKind;

    #[test]
    fn first_differing_line_counts_lf_terminated_lines() {
        assert_eq!(first_differing_line(b"a\nb\nc\n", b"a\nb\nd\n"), Some(3));
        assert_eq!(first_differing_line(b"a\n", b"a\n"), None);
    }

    /// The legacy `database_exports/` files are checked like the others: re-rendered
    /// byte for byte, a damaged one reported with its line.
    #[test]
    fn check_tree_reads_the_legacy_database_exports_layout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        write(
            "database_exports/roles/roles.txt",
            "System Roles\nFormat: name|description|permissions|created_by|is_system_role\n\nadmin|All|[\"*\"]|system|yes\nuser|Std|[]|system|no\n",
        );
        write(
            "database_exports/roles/user_roles.txt",
            "User Roles\nFormat: x\n\nJuly 01 2025 at 09:05|Ann|r1|system|never\n",
        );
        write(
            "database_exports/roles/user_roles_copy.txt",
            "not a legacy file\n",
        );
        let report = check_tree(root, &crate::progress::NoProgress).expect("check");
        assert_eq!(report.files_checked, 2, "{report:?}");
        assert_eq!(report.files_identical, 2, "{report:?}");
        assert_eq!(report.files_skipped, 1);
        // A row with a missing field is a located diagnostic.
        write(
            "database_exports/roles/user_roles.txt",
            "User Roles\nFormat: x\n\nJuly 01 2025 at 09:05|Ann|r1\n",
        );
        let report = check_tree(root, &crate::progress::NoProgress).expect("check");
        assert_eq!(report.files_identical, 1);
        assert_eq!(report.problems.len(), 1, "{report:?}");
        assert_eq!(
            report.problems[0].kind,
            FileKind::LegacyExport(LegacyKind::UserRoles)
        );
        assert_eq!(report.problems[0].diagnostics[0].line, 4);
    }
}
