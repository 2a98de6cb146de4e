//! The plan of a text-archive import: the archive's files listed, sorted, and sorted into
//! the phases that import them. Cheap to build and inspectable; applying it
//! ([`TextArchivePlan::apply`]) does the work.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::archive::export::ExportDataKind;
use crate::archive::fileops::{entry_type, EntryType};
use crate::archive::kind::{detect_kind, FileKind};
use crate::{Error, Result};

/// The phases of an import, in order; each runs in one transaction. A phase serializes as
/// its [`Phase::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// `users/YYYY_MM_users.txt`, two passes (users, then inviters).
    Users,
    /// `users/user_attributes.txt`.
    UserAttributes,
    /// `prayers/YYYY/MM/*.txt` with their activities.
    Prayers,
    /// `prayers/{marks,skips,attributes}/YYYY_MM_*.txt`.
    Ledgers,
    /// `roles/role_definitions.txt`, `roles/YYYY_MM_role_assignments.txt`.
    Roles,
    /// `system/invite_tokens.txt`, `system/YYYY_MM_invite_usage.txt`.
    Invites,
    /// `sessions/YYYY_MM_sessions.txt`.
    Sessions,
    /// `auth/YYYY_MM_auth_requests.txt`, `auth/YYYY_MM_auth_approvals.txt`.
    Auth,
    /// `auth/YYYY_MM_security_events.txt`.
    SecurityEvents,
    /// `auth/notifications/YYYY_MM_notifications.txt`, the export's
    /// `users/notification_states.txt`.
    Notifications,
    /// The export's `authentication/auth_audit_logs.txt`.
    AuthAuditLogs,
    /// `membership_applications/*.txt`.
    MembershipApplications,
}

impl Phase {
    /// All phases in the order they run.
    pub const ALL: [Phase; 12] = [
        Phase::Users,
        Phase::UserAttributes,
        Phase::Prayers,
        Phase::Ledgers,
        Phase::Roles,
        Phase::Invites,
        Phase::Sessions,
        Phase::Auth,
        Phase::SecurityEvents,
        Phase::Notifications,
        Phase::AuthAuditLogs,
        Phase::MembershipApplications,
    ];

    /// The phase name used in progress events.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Users => "users",
            Phase::UserAttributes => "user_attributes",
            Phase::Prayers => "prayers",
            Phase::Ledgers => "ledgers",
            Phase::Roles => "roles",
            Phase::Invites => "invites",
            Phase::Sessions => "sessions",
            Phase::Auth => "auth",
            Phase::SecurityEvents => "security_events",
            Phase::Notifications => "notifications",
            Phase::AuthAuditLogs => "auth_audit_logs",
            Phase::MembershipApplications => "membership_applications",
        }
    }

    /// The phase that imports the file at `rel` (relative to the archive root), of `kind`
    /// (`None`: no phase does). Of the export files, only those whose content the live
    /// archives never carry are read: the notification states and the auth audit log.
    fn of(kind: FileKind, rel: &Path) -> Option<Phase> {
        Some(match kind {
            FileKind::UserRegistrations => Phase::Users,
            FileKind::UserAttributes => Phase::UserAttributes,
            FileKind::Prayer => Phase::Prayers,
            FileKind::Ledger(_) => Phase::Ledgers,
            FileKind::RoleDefinitions | FileKind::RoleAssignments => Phase::Roles,
            FileKind::InviteTokens | FileKind::InviteUsage => Phase::Invites,
            FileKind::Sessions => Phase::Sessions,
            FileKind::AuthRequests | FileKind::AuthApprovals => Phase::Auth,
            FileKind::SecurityEvents => Phase::SecurityEvents,
            FileKind::Notifications => Phase::Notifications,
            FileKind::MembershipApplication => Phase::MembershipApplications,
            FileKind::ExportData => match ExportDataKind::detect(rel)? {
                ExportDataKind::NotificationStates => Phase::Notifications,
                ExportDataKind::AuthAuditLogs => Phase::AuthAuditLogs,
                _ => return None,
            },
            _ => return None,
        })
    }
}

/// A file the plan will read (prayer files are planned by month folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedFile {
    /// Path relative to the archive root, `/`-separated, as reports name it (bytes of a
    /// name that are not UTF-8 written `\xNN`).
    pub relative: String,
    /// What the file is.
    pub kind: FileKind,
    /// The path relative to the archive root, exactly as listed.
    #[serde(skip)]
    pub(crate) path: PathBuf,
    /// Listed as a symbolic link (to a regular file).
    #[serde(skip)]
    pub(crate) via_link: bool,
}

/// An entry of the archive folder that is not read: not a regular file or a link to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotRead {
    /// Path relative to the archive root, as [`PlannedFile::relative`] names it.
    pub relative: String,
    /// What it is, e.g. `FIFO`, `socket`, `symbolic link to a character device`.
    pub what: String,
}

/// What an import will read, in order. Cheap to build; applying it does the work.
#[derive(Debug, Clone, Serialize)]
pub struct TextArchivePlan {
    /// The input as given.
    pub source: String,
    /// The archive root read.
    pub root: PathBuf,
    /// Files per phase, in processing order (prayer files excluded; see `prayer_months`).
    pub files: Vec<(Phase, Vec<PlannedFile>)>,
    /// `prayers/YYYY/MM` folders, sorted, with their number of `.txt` files.
    pub prayer_months: Vec<(String, u64)>,
    /// Files that no phase imports (activity logs, security events, ...), by kind.
    pub not_imported: Vec<PlannedFile>,
    /// Entries that are not regular files (FIFOs, sockets, devices, links to folders):
    /// never opened, each noted in the report.
    pub not_read: Vec<NotRead>,
}

impl TextArchivePlan {
    /// Lists an archive root (sorted, deterministic).
    pub fn scan(root: impl AsRef<Path>, source: &str) -> Result<TextArchivePlan> {
        let root = root.as_ref();
        if !root.is_dir() {
            return Err(Error::NotFound {
                what: format!("archive folder {}", root.display()),
            });
        }
        let mut by_phase: HashMap<Phase, Vec<PlannedFile>> = HashMap::new();
        let mut not_imported = Vec::new();
        let mut not_read = Vec::new();
        let mut prayer_months = Vec::new();
        let mut stack = vec![PathBuf::new()];
        while let Some(rel_dir) = stack.pop() {
            let dir = root.join(&rel_dir);
            let mut entries = sorted_entries(&dir)?;
            entries.retain(|(name, entry)| match entry {
                EntryType::Skipped(what) => {
                    not_read.push(NotRead {
                        relative: slash_path(&rel_dir.join(name)),
                        what: (*what).to_string(),
                    });
                    false
                }
                _ => true,
            });
            // Prayer month folders are counted here and streamed at apply time.
            if is_prayer_month(&rel_dir) {
                let n = entries
                    .iter()
                    .filter(|(name, entry)| is_prayer_file_entry(name, *entry))
                    .count() as u64;
                prayer_months.push((slash_path(&rel_dir), n));
                entries.retain(|(_, entry)| *entry == EntryType::Dir);
            }
            let mut subdirs = Vec::new();
            for (name, entry) in entries {
                let rel = rel_dir.join(&name);
                let via_link = match entry {
                    EntryType::Dir => {
                        subdirs.push(rel);
                        continue;
                    }
                    EntryType::File { via_link } => via_link,
                    EntryType::Skipped(_) => continue,
                };
                let kind = detect_kind(&rel);
                let phase = Phase::of(kind, &rel);
                let file = PlannedFile {
                    relative: slash_path(&rel),
                    kind,
                    path: rel,
                    via_link,
                };
                match phase {
                    Some(phase) => by_phase.entry(phase).or_default().push(file),
                    None => not_imported.push(file),
                }
            }
            // Depth-first in name order.
            subdirs.reverse();
            stack.extend(subdirs);
        }
        prayer_months.sort();
        let mut files = Vec::new();
        for phase in Phase::ALL {
            let mut list = by_phase.remove(&phase).unwrap_or_default();
            list.sort_by(|a, b| a.relative.cmp(&b.relative));
            files.push((phase, list));
        }
        not_imported.sort_by(|a, b| a.relative.cmp(&b.relative));
        not_read.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(TextArchivePlan {
            source: source.into(),
            root: root.to_path_buf(),
            files,
            prayer_months,
            not_imported,
            not_read,
        })
    }

    /// Number of prayer files planned.
    pub fn prayer_file_count(&self) -> u64 {
        self.prayer_months.iter().map(|(_, n)| n).sum()
    }

    /// The files of one phase, in processing order.
    pub(crate) fn files_of(&self, phase: Phase) -> &[PlannedFile] {
        self.files
            .iter()
            .find(|(p, _)| *p == phase)
            .map(|(_, f)| f.as_slice())
            .unwrap_or(&[])
    }
}

/// Directory entries with what each is ([`entry_type`]), sorted by name (bytewise, which
/// for UTF-8 names is the order of their characters).
pub(super) fn sorted_entries(dir: &Path) -> Result<Vec<(OsString, EntryType)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let kind = entry_type(&entry).map_err(|e| Error::io(entry.path(), e))?;
        out.push((entry.file_name(), kind));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// A listed entry of a prayer month folder that is a prayer file: a `.txt` regular file.
pub(super) fn is_prayer_file_entry(name: &OsStr, entry: EntryType) -> bool {
    matches!(entry, EntryType::File { .. }) && name.as_encoded_bytes().ends_with(b".txt")
}

/// A file name as reports show it: itself when it is UTF-8, else with each byte that is not
/// part of UTF-8 written `\xNN` (so two such names never read alike).
pub(super) fn display_name(name: &OsStr) -> String {
    match name.to_str() {
        Some(text) => text.to_string(),
        None => {
            let mut out = String::new();
            for chunk in name.as_encoded_bytes().utf8_chunks() {
                out.push_str(chunk.valid());
                for byte in chunk.invalid() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            }
            out
        }
    }
}

/// A path relative to the archive root as reports name it: `/`-separated, each part as
/// [`display_name`] shows it.
fn slash_path(rel: &Path) -> String {
    rel.components()
        .map(|c| display_name(c.as_os_str()))
        .collect::<Vec<_>>()
        .join("/")
}

/// `prayers/YYYY/MM`: a folder whose prayer files are counted at planning and streamed
/// at import.
fn is_prayer_month(rel: &Path) -> bool {
    let parts: Vec<&OsStr> = rel.components().map(|c| c.as_os_str()).collect();
    let digits = |s: &OsStr| {
        let bytes = s.as_encoded_bytes();
        !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit)
    };
    parts.len() == 3 && parts[0] == "prayers" && digits(parts[1]) && digits(parts[2])
}
