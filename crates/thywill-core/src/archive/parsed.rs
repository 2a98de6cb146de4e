//! Any archive file read into plain data, for the front ends (`thywill archive parse`,
//! `thywill_archive_parse_file`, Python `parse_file`): one dispatch from [`FileKind`] to
//! the parser of each kind, with the result as a [`serde_json::Value`].

use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::export::legacy::{LegacyFile, LegacyVisitor};
use super::export::{self, ExportDataKind, ExportFile, ExportRecord, ExportRowsVisitor};
use super::kind::{detect_kind, FileKind};
use super::record::{collect_records, Record};
use super::{
    activity, auth, current_state, event_log, ledger, membership, prayer, roles, sessions, system,
    user_attributes, users, Diagnostic,
};
use crate::{Error, Result};

/// A file read by the parser of its kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedFile {
    /// The file, as given.
    pub path: PathBuf,
    /// Its kind, named as [`kind_name`] names it.
    pub kind: String,
    /// The parsed content: the prayer record, `{"records": [...]}` for the monthly
    /// prayer/users/activity files, or the kind's file structure (header and records).
    pub content: serde_json::Value,
    /// How many records `content` holds (see [`record_count`]).
    pub record_count: usize,
    /// Lines that could not be read (the rest of the file is still in `content`).
    pub diagnostics: Vec<Diagnostic>,
}

/// How many records `content` holds for a file of `kind`: 1 for single-record kinds (a
/// prayer, a membership application), else the length of the content's first list (its
/// records, rows or sessions).
pub fn record_count(kind: FileKind, content: &serde_json::Value) -> usize {
    match (kind, content) {
        (_, serde_json::Value::Null) => 0,
        (FileKind::Prayer | FileKind::MembershipApplication, _) => 1,
        _ => content
            .as_object()
            .and_then(|o| o.values().find_map(serde_json::Value::as_array))
            .map_or(1, Vec::len),
    }
}

/// The kind of a file given by any path (relative to the archive root, under
/// `text_archives/`, or absolute): the longest trailing part of the path that names a
/// known kind wins.
pub fn kind_of_path(path: &Path) -> FileKind {
    let parts: Vec<_> = path.components().collect();
    (1..=parts.len().min(5))
        .rev()
        .filter_map(|n| parts.get(parts.len() - n..))
        .map(|tail| detect_kind(&tail.iter().collect::<PathBuf>()))
        .find(|k| *k != FileKind::Other)
        .unwrap_or(FileKind::Other)
}

/// The kind's snake_case name without data, e.g. `prayer`, `ledger`, `auth_requests`.
pub fn kind_name(kind: FileKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

fn value<T: Serialize>(content: T) -> Result<serde_json::Value> {
    serde_json::to_value(content).map_err(|e| Error::Internal(format!("record to JSON: {e}")))
}

fn whole<T: Serialize>(
    (content, diagnostics): (T, Vec<Diagnostic>),
) -> Result<(serde_json::Value, Vec<Diagnostic>)> {
    Ok((value(content)?, diagnostics))
}

fn streamed<T: Serialize>(
    items: impl Iterator<Item = std::result::Result<T, Diagnostic>>,
) -> Result<(serde_json::Value, Vec<Diagnostic>)> {
    let (records, diagnostics) = collect_records(items);
    let mut content = serde_json::Map::new();
    content.insert("records".into(), value(records)?);
    Ok((serde_json::Value::Object(content), diagnostics))
}

/// Reads an export data file or a legacy file into JSON, whatever its row type.
struct ToJson<'a> {
    bytes: &'a [u8],
    path: Option<&'a Path>,
}

impl ExportRowsVisitor for ToJson<'_> {
    type Output = Result<(serde_json::Value, Vec<Diagnostic>)>;

    fn visit<R: ExportRecord + Serialize>(self) -> Self::Output {
        whole(ExportFile::<R>::parse(self.bytes, self.path))
    }
}

impl LegacyVisitor for ToJson<'_> {
    type Output = Result<(serde_json::Value, Vec<Diagnostic>)>;

    fn rows<R: Record + Serialize>(self) -> Self::Output {
        whole(LegacyFile::<R>::parse(self.bytes, self.path))
    }

    fn sessions(self) -> Self::Output {
        whole(sessions::SessionsFile::parse(self.bytes, self.path))
    }
}

/// Parses `bytes` as a file of `kind`. `path` labels diagnostics and, for ledgers and
/// export files, tells which variant. `Err(InvalidInput)` for kinds without a parser.
pub fn parse_bytes(
    kind: FileKind,
    bytes: &[u8],
    path: Option<&Path>,
) -> Result<(serde_json::Value, Vec<Diagnostic>)> {
    match kind {
        FileKind::Prayer => whole(prayer::parse_bytes(bytes, path)),
        FileKind::UserRegistrations => streamed(users::parse_monthly(BufReader::new(bytes), path)),
        FileKind::ActivityLog => streamed(activity::parse_monthly(BufReader::new(bytes), path)),
        FileKind::Ledger(k) => streamed(ledger::parse_monthly(k, BufReader::new(bytes), path)),
        FileKind::UserAttributes => whole(user_attributes::UserAttributesFile::parse(bytes, path)),
        FileKind::Sessions => whole(sessions::SessionsFile::parse(bytes, path)),
        FileKind::AuthRequests => whole(auth::AuthRequestsFile::parse(bytes, path)),
        FileKind::AuthApprovals => whole(auth::AuthApprovalsFile::parse(bytes, path)),
        FileKind::SecurityEvents => whole(auth::SecurityEventsFile::parse(bytes, path)),
        FileKind::SessionsSnapshot => whole(auth::SessionsSnapshotFile::parse(bytes, path)),
        FileKind::Notifications => whole(auth::NotificationsFile::parse(bytes, path)),
        FileKind::RoleAssignments => whole(roles::RoleAssignmentsFile::parse(bytes, path)),
        FileKind::RoleDefinitions => whole(roles::RoleDefinitionsFile::parse(bytes, path)),
        FileKind::RoleHistory => whole(roles::RoleHistoryFile::parse(bytes, path)),
        FileKind::InviteUsage => whole(system::InviteUsageFile::parse(bytes, path)),
        FileKind::InviteTokens => whole(system::InviteTokensFile::parse(bytes, path)),
        FileKind::SystemConfig => whole(system::SystemConfigFile::parse(bytes, path)),
        FileKind::FeatureFlags => whole(system::FeatureFlagsFile::parse(bytes, path)),
        FileKind::EventLog => whole(event_log::EventLogFile::parse(bytes, path)),
        FileKind::CurrentState => match current_state::CurrentStateFile::parse(bytes, path) {
            Ok(parsed) => whole(parsed),
            Err(d) => Ok((serde_json::Value::Null, vec![d])),
        },
        FileKind::ExportData => match path.and_then(ExportDataKind::detect) {
            Some(k) => k.visit(ToJson { bytes, path }),
            None => Err(Error::InvalidInput(
                "export data file of unknown kind".into(),
            )),
        },
        FileKind::ExportSummary => whole(export::ExportSummary::parse(bytes, path)),
        FileKind::MembershipApplication => {
            match membership::MembershipApplication::parse(bytes, path) {
                Ok(application) => Ok((value(application)?, Vec::new())),
                Err(d) => Ok((serde_json::Value::Null, vec![d])),
            }
        }
        FileKind::LegacyExport(legacy) => legacy.visit(ToJson { bytes, path }),
        FileKind::Other => Err(Error::InvalidInput(format!(
            "{}: not a ThyWill archive file (unknown kind)",
            path.map(|p| p.display().to_string()).unwrap_or_default()
        ))),
    }
}

/// Reads and parses the file at `path`, its kind taken from the path ([`kind_of_path`]).
/// A missing file is `NotFound`; a file of unknown kind, or one that is not a regular file
/// (a FIFO, a device: never opened), is `InvalidInput`. At most
/// [`super::diagnostics::MAX_DIAGNOSTICS_PER_FILE`] diagnostics are listed, then their number.
pub fn parse_file(path: &Path) -> Result<ParsedFile> {
    let bytes = super::fileops::read_regular_file(path)?;
    let kind = kind_of_path(path);
    let (content, diagnostics) = parse_bytes(kind, &bytes, Some(path))?;
    Ok(ParsedFile {
        path: path.to_path_buf(),
        kind: kind_name(kind),
        record_count: record_count(kind, &content),
        content,
        diagnostics: super::diagnostics::bound_diagnostics(diagnostics),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_of_any_path_uses_the_longest_known_tail() {
        let k = |p: &str| kind_name(kind_of_path(Path::new(p)));
        assert_eq!(
            k("/srv/x/text_archives/prayers/2024/01/2024_01_01_prayer_at_0719.txt"),
            "prayer"
        );
        assert_eq!(k("text_archives/prayers/marks/2024_01_marks.txt"), "ledger");
        assert_eq!(k("/a/b/users/2023_10_users.txt"), "user_registrations");
        assert_eq!(k("/a/b/prayers/prayer_marks.txt"), "export_data");
        assert_eq!(k("/a/b/roles/roles.txt"), "export_data");
        assert_eq!(
            k("/srv/text_archives/database_exports/roles/roles.txt"),
            "legacy_export"
        );
        assert_eq!(k("/a/b/notes.txt"), "other");
    }

    #[test]
    fn monthly_files_give_records_and_diagnostics() {
        let bytes = b"User Registrations for July 2025\n\nJuly 06 2025 at 09:05 - Ann joined directly\nnonsense\n";
        let (content, diagnostics) =
            parse_bytes(FileKind::UserRegistrations, bytes, Some(Path::new("u.txt"))).unwrap();
        assert_eq!(content["records"][0]["name"], "Ann");
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].line, 4);
    }

    #[test]
    fn unknown_kinds_and_missing_files_are_errors() {
        let err = parse_bytes(FileKind::Other, b"", None).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        let err = parse_file(Path::new("/definitely/missing/users/2025_07_users.txt")).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::NotFound);
    }
}
