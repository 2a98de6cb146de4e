//! File kinds of the archive tree (spec §2), detected from a path relative to the
//! archive root, and the generic re-render used by `thywill archive check`.
//!
//! Re-rendering parses a file into typed records and renders them back. A file ThyWill wrote
//! comes back byte-identical; a difference means the file was edited, damaged, written by
//! an older version, or holds something the format cannot represent unambiguously.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::fileops::{entry_type, read_listed_file, EntryType};
use super::layout::LedgerKind;
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// Every kind of file that can appear under the archive base directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// `prayers/YYYY/MM/YYYY_MM_DD_prayer_at_HHMM[_N].txt` (§4).
    Prayer,
    /// `users/YYYY_MM_users.txt` (§5).
    UserRegistrations,
    /// `activity/activity_YYYY_MM.txt` (§6).
    ActivityLog,
    /// `prayers/{attributes,marks,skips}/YYYY_MM_{kind}.txt` (§7).
    Ledger(LedgerKind),
    /// `users/user_attributes.txt` (§8).
    UserAttributes,
    /// `sessions/YYYY_MM_sessions.txt` (§9, live and export share it).
    Sessions,
    /// `auth/YYYY_MM_auth_requests.txt` (§10.1).
    AuthRequests,
    /// `auth/YYYY_MM_auth_approvals.txt` (§10.2).
    AuthApprovals,
    /// `auth/YYYY_MM_security_events.txt` (§10.3).
    SecurityEvents,
    /// `auth/YYYY_MM_DD_sessions_snapshot.txt` (§10.4).
    SessionsSnapshot,
    /// `auth/notifications/YYYY_MM_notifications.txt` (§10.5).
    Notifications,
    /// `roles/YYYY_MM_role_assignments.txt` (§11.1).
    RoleAssignments,
    /// `roles/role_definitions.txt` (§11.2).
    RoleDefinitions,
    /// `roles/role_history.txt` (§11.3).
    RoleHistory,
    /// `system/YYYY_MM_invite_usage.txt` (§12.1).
    InviteUsage,
    /// `system/invite_tokens.txt` (§12.2).
    InviteTokens,
    /// `system/system_config.txt` (§12.3).
    SystemConfig,
    /// `system/YYYY_MM_feature_flags.txt` (§12.4).
    FeatureFlags,
    /// `system/event_log/{type}_YYYY_MM.txt` (§13.1).
    EventLog,
    /// `system/current_state/*.txt` (§13.2).
    CurrentState,
    /// An export-all data file (§14.1–14.2), e.g. `prayers/prayer_marks.txt`.
    ExportData,
    /// `export_summary.txt` (§14.3).
    ExportSummary,
    /// `membership_applications/*.txt` (§15).
    MembershipApplication,
    /// A file of the legacy `database_exports/` layout (§16), read only.
    LegacyExport(super::export::legacy::LegacyKind),
    /// Anything else (temp files, downloads, README, legacy layouts).
    Other,
}

fn is_ym(s: &str) -> bool {
    // `{year}_{MM}`: year unpadded digits, two-digit month.
    match s.rsplit_once('_') {
        Some((y, m)) => {
            !y.is_empty()
                && y.bytes().all(|b| b.is_ascii_digit())
                && m.len() == 2
                && m.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn ym_prefixed(name: &str, suffix: &str) -> bool {
    name.strip_suffix(suffix).is_some_and(is_ym)
}

/// `{type}_{YYYY}_{MM}.txt`.
fn is_event_log_name(f: &str) -> bool {
    let Some(stem) = f.strip_suffix(".txt") else {
        return false;
    };
    let mut it = stem.rsplitn(3, '_');
    let (Some(m), Some(y), Some(t)) = (it.next(), it.next(), it.next()) else {
        return false;
    };
    !t.is_empty() && y.len() == 4 && all_digits(y) && m.len() == 2 && all_digits(m)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Detects the kind of the file at `rel`, a path relative to the archive root. A DB-stored
/// path such as `text_archives/prayers/2025/07/….txt` also works: when the path is not a
/// known kind and starts with a `text_archives` folder, that folder is skipped.
pub fn detect_kind(rel: &Path) -> FileKind {
    match detect_kind_exact(rel) {
        FileKind::Other => match rel.strip_prefix("text_archives") {
            Ok(inner) => detect_kind_exact(inner),
            Err(_) => FileKind::Other,
        },
        kind => kind,
    }
}

fn detect_kind_exact(rel: &Path) -> FileKind {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    match parts.as_slice() {
        ["prayers", "attributes", f] if ym_prefixed(f, "_attributes.txt") => {
            FileKind::Ledger(LedgerKind::Attributes)
        }
        ["prayers", "marks", f] if ym_prefixed(f, "_marks.txt") => {
            FileKind::Ledger(LedgerKind::Marks)
        }
        ["prayers", "skips", f] if ym_prefixed(f, "_skips.txt") => {
            FileKind::Ledger(LedgerKind::Skips)
        }
        ["prayers", y, m, f] if all_digits(y) && all_digits(m) && f.ends_with(".txt") => {
            FileKind::Prayer
        }
        ["prayers", "prayer_attributes.txt"
        | "prayer_marks.txt"
        | "prayer_skips.txt"
        | "prayer_activity_logs.txt"] => FileKind::ExportData,
        ["users", "user_attributes.txt"] => FileKind::UserAttributes,
        ["users", "notification_states.txt"] => FileKind::ExportData,
        ["users", f] if ym_prefixed(f, "_users.txt") => FileKind::UserRegistrations,
        ["activity", f]
            if f.strip_prefix("activity_")
                .and_then(|r| r.strip_suffix(".txt"))
                .is_some_and(is_ym) =>
        {
            FileKind::ActivityLog
        }
        ["sessions", f] if ym_prefixed(f, "_sessions.txt") => FileKind::Sessions,
        ["auth", "notifications", f] if ym_prefixed(f, "_notifications.txt") => {
            FileKind::Notifications
        }
        ["auth", f] if ym_prefixed(f, "_auth_requests.txt") => FileKind::AuthRequests,
        ["auth", f] if ym_prefixed(f, "_auth_approvals.txt") => FileKind::AuthApprovals,
        ["auth", f] if ym_prefixed(f, "_security_events.txt") => FileKind::SecurityEvents,
        ["auth", f] if f.ends_with("_sessions_snapshot.txt") => FileKind::SessionsSnapshot,
        ["roles", "role_definitions.txt"] => FileKind::RoleDefinitions,
        ["roles", "role_history.txt"] => FileKind::RoleHistory,
        ["roles", "roles.txt" | "user_roles.txt"] => FileKind::ExportData,
        ["roles", f] if ym_prefixed(f, "_role_assignments.txt") => FileKind::RoleAssignments,
        ["system", "invite_tokens.txt"] => FileKind::InviteTokens,
        ["system", "system_config.txt"] => FileKind::SystemConfig,
        ["system", "changelog_entries.txt"] => FileKind::ExportData,
        ["system", f] if ym_prefixed(f, "_invite_usage.txt") => FileKind::InviteUsage,
        ["system", f] if ym_prefixed(f, "_feature_flags.txt") => FileKind::FeatureFlags,
        ["system", "event_log", f] if is_event_log_name(f) => FileKind::EventLog,
        ["system", "current_state", f] if f.ends_with(".txt") => FileKind::CurrentState,
        ["authentication" | "invites", f] if f.ends_with(".txt") => FileKind::ExportData,
        ["security", f] if ym_prefixed(f, "_security_events.txt") => FileKind::ExportData,
        ["export_summary.txt"] => FileKind::ExportSummary,
        ["membership_applications", f] if f.ends_with(".txt") => FileKind::MembershipApplication,
        ["database_exports", ..] => super::export::legacy::LegacyKind::detect(rel)
            .map_or(FileKind::Other, FileKind::LegacyExport),
        _ => FileKind::Other,
    }
}

/// A re-render function: file bytes (and a path for diagnostics) to canonical bytes plus the
/// diagnostics of every line that could not be read.
pub type Renderer = fn(&[u8], Option<&Path>) -> Result<(Vec<u8>, Vec<Diagnostic>)>;

/// The re-renderer of `kind`, if this crate has one.
pub fn renderer(kind: FileKind) -> Option<Renderer> {
    match kind {
        FileKind::Prayer => Some(super::prayer::rerender),
        FileKind::UserRegistrations => Some(super::users::rerender),
        FileKind::ActivityLog => Some(super::activity::rerender),
        FileKind::Ledger(_) => Some(super::ledger::rerender),
        FileKind::UserAttributes => Some(super::user_attributes::rerender),
        FileKind::Sessions => Some(super::sessions::rerender),
        FileKind::AuthRequests => Some(super::pipe::rerender::<super::auth::AuthRequestRecord>),
        FileKind::AuthApprovals => Some(super::pipe::rerender::<super::auth::AuthApprovalRecord>),
        FileKind::SecurityEvents => Some(super::pipe::rerender::<super::auth::SecurityEventRecord>),
        FileKind::SessionsSnapshot => Some(super::auth::rerender_sessions_snapshot),
        FileKind::Notifications => Some(super::pipe::rerender::<super::auth::NotificationRecord>),
        FileKind::RoleAssignments => {
            Some(super::pipe::rerender::<super::roles::RoleAssignmentRecord>)
        }
        FileKind::RoleDefinitions => Some(super::roles::rerender_role_definitions),
        FileKind::RoleHistory => Some(super::pipe::rerender::<super::roles::RoleHistoryRecord>),
        FileKind::InviteUsage => Some(super::pipe::rerender::<super::system::InviteUsageRecord>),
        FileKind::InviteTokens => Some(super::system::rerender_invite_tokens),
        FileKind::SystemConfig => Some(super::system::rerender_system_config),
        FileKind::FeatureFlags => Some(super::pipe::rerender::<super::system::FeatureFlagRecord>),
        FileKind::EventLog => Some(super::event_log::rerender),
        FileKind::CurrentState => Some(super::current_state::rerender),
        FileKind::ExportData => Some(super::export::rerender),
        FileKind::ExportSummary => Some(super::export::rerender_summary),
        FileKind::MembershipApplication => Some(super::membership::rerender),
        FileKind::LegacyExport(_) => Some(super::export::legacy::rerender),
        _ => None,
    }
}

/// Parses `bytes` as `kind` and renders the records back. `Err` if `kind` has no renderer
/// or the bytes are not UTF-8 at all; unreadable lines are diagnostics, not errors.
pub fn rerender(
    kind: FileKind,
    bytes: &[u8],
    path: Option<&Path>,
) -> Result<(Vec<u8>, Vec<Diagnostic>)> {
    match renderer(kind) {
        Some(f) => f(bytes, path),
        None => Err(Error::InvalidInput(format!(
            "no re-renderer for file kind {kind:?}"
        ))),
    }
}

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
    /// `*.tmp` files: leftovers of an interrupted atomic write (§16), relative to the root.
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
                let diagnostics = super::diagnostics::bound_diagnostics(diagnostics);
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
    fn detects_kinds_from_relative_paths() {
        let k = |p: &str| detect_kind(Path::new(p));
        assert_eq!(
            k("prayers/2025/07/2025_07_06_prayer_at_0905_2.txt"),
            FileKind::Prayer
        );
        assert_eq!(k("prayers/2025/07/x.txt.tmp"), FileKind::Other);
        assert_eq!(
            k("prayers/marks/2025_07_marks.txt"),
            FileKind::Ledger(LedgerKind::Marks)
        );
        assert_eq!(k("prayers/prayer_marks.txt"), FileKind::ExportData);
        assert_eq!(k("users/2025_07_users.txt"), FileKind::UserRegistrations);
        assert_eq!(k("users/user_attributes.txt"), FileKind::UserAttributes);
        assert_eq!(k("activity/activity_2025_07.txt"), FileKind::ActivityLog);
        assert_eq!(k("auth/2025_07_auth_requests.txt"), FileKind::AuthRequests);
        assert_eq!(
            k("auth/2025_07_06_sessions_snapshot.txt"),
            FileKind::SessionsSnapshot
        );
        assert_eq!(
            k("system/event_log/session_events_2025_07.txt"),
            FileKind::EventLog
        );
        assert_eq!(
            k("system/current_state/active_sessions.txt"),
            FileKind::CurrentState
        );
        assert_eq!(
            k("roles/2025_07_role_assignments.txt"),
            FileKind::RoleAssignments
        );
        assert_eq!(k("export_summary.txt"), FileKind::ExportSummary);
        assert_eq!(k("README.txt"), FileKind::Other);
        assert_eq!(
            k("text_archives/prayers/2025/07/2025_07_06_prayer_at_0905.txt"),
            FileKind::Prayer
        );
        assert_eq!(first_differing_line(b"a\nb\nc\n", b"a\nb\nd\n"), Some(3));
        assert_eq!(first_differing_line(b"a\n", b"a\n"), None);
        assert_eq!(
            k("database_exports/roles/user_roles.txt"),
            FileKind::LegacyExport(LegacyKind::UserRoles)
        );
        assert_eq!(
            k("database_exports/sessions/2025_07_sessions.txt"),
            FileKind::LegacyExport(LegacyKind::Sessions)
        );
        assert_eq!(k("database_exports/notes.txt"), FileKind::Other);
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
