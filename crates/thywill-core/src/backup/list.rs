//! `list`: the sets in a backup root and on remotes, with their state.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::files::{self, read_manifest, sidecar_path, MemberRole, SourceIdentity};
use super::remote::{self, RemoteTarget};
use super::verify::{is_verified, verify, VerifyOptions};
use super::{BackupKind, SetName};
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// Where a set is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Location {
    /// In the local backup root.
    Local,
    /// On a remote target.
    Remote {
        /// The target's description.
        target: String,
    },
}

/// One backup set.
#[derive(Debug, Clone, Serialize)]
pub struct BackupEntry {
    /// Local or remote.
    pub location: Location,
    /// The set's stem.
    pub name: String,
    /// Tier or pre-restore.
    pub kind: BackupKind,
    /// The time in its name.
    pub timestamp: NaiveDateTime,
    /// Seconds between that time and now (negative when in the future).
    pub age_seconds: i64,
    /// Size of the database file.
    pub size: u64,
    /// The database's local path, or its key on the remote.
    pub path: String,
    /// Checksummed, complete, and integrity-checked (at creation, or just now with `deep`).
    pub verified: bool,
    /// The manifest is present (the set was completely written).
    pub complete: bool,
    /// The database the set was taken from, when its manifest records it.
    pub source: Option<SourceIdentity>,
    /// Every file of the set.
    pub files: Vec<String>,
}

/// What to list. Deserializes from `{"now", "deep"}` (each optional); the caller gives the
/// backup root.
#[derive(Debug, Clone, Deserialize)]
#[serde(default = "ListOptions::unplaced", deny_unknown_fields)]
pub struct ListOptions {
    /// The local backup root.
    #[serde(skip)]
    pub backup_root: PathBuf,
    /// "Now" for ages (local time).
    pub now: NaiveDateTime,
    /// Re-verify every local set (hash + integrity check) instead of trusting its manifest.
    pub deep: bool,
}

impl ListOptions {
    /// Lists `backup_root` as of now, trusting manifests.
    pub fn new(backup_root: impl Into<PathBuf>) -> Self {
        ListOptions {
            backup_root: backup_root.into(),
            now: chrono::Local::now().naive_local(),
            deep: false,
        }
    }

    fn unplaced() -> Self {
        ListOptions::new(PathBuf::new())
    }
}

/// A remote that could not be copied to, listed or cleaned.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteFailure {
    /// The target.
    pub target: String,
    /// What went wrong.
    pub error: String,
}

/// The result of [`list`].
#[derive(Debug, Clone, Serialize)]
pub struct ListReport {
    /// The local root.
    pub backup_root: PathBuf,
    /// Every set, local first, then each remote; within each, by kind then time.
    pub entries: Vec<BackupEntry>,
    /// Remotes that failed.
    pub remote_failures: Vec<RemoteFailure>,
}

/// A local set and its files.
pub(super) struct LocalSet {
    pub(super) name: SetName,
    pub(super) database: PathBuf,
    pub(super) files: Vec<PathBuf>,
    pub(super) size: u64,
    pub(super) complete: bool,
    pub(super) verified: bool,
    pub(super) source: Option<SourceIdentity>,
}

pub(super) fn local_sets(root: &Path) -> Result<Vec<LocalSet>> {
    files::check_backup_root(root)?;
    let mut sets: std::collections::BTreeMap<SetName, LocalSet> = Default::default();
    // ThyWill itself wrote pre-restore copies straight into the root.
    let mut folders = vec![root.to_path_buf()];
    folders.extend(BackupKind::ALL.iter().map(|k| root.join(k.folder())));
    for folder in folders {
        let entries = match fs::read_dir(&folder) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&folder, e)),
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let Some(name) = remote::set_of_file(&file_name) else {
                continue;
            };
            let in_own_folder = folder == root.join(name.kind.folder());
            let legacy_pre_restore = folder == root && name.kind == BackupKind::PreRestore;
            if !in_own_folder && !legacy_pre_restore {
                continue;
            }
            let set = sets.entry(name).or_insert_with(|| LocalSet {
                name,
                database: folder.join(name.database_file()),
                files: Vec::new(),
                size: 0,
                complete: false,
                verified: false,
                source: None,
            });
            if file_name == name.database_file() {
                set.size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            }
            set.files.push(entry.path());
        }
    }
    let mut out: Vec<LocalSet> = sets.into_values().collect();
    for set in &mut out {
        set.files.sort();
        let manifest_path = files::parent_dir(&set.database).join(set.name.manifest_file());
        if let Ok(manifest) = read_manifest(&manifest_path) {
            set.complete = true;
            // Without re-hashing (that is `deep`), the checksums match when the sidecar and
            // the manifest agree on the digest and the file has the recorded size.
            let sidecar = fs::read_to_string(sidecar_path(&set.database))
                .ok()
                .and_then(|text| files::parse_sidecar(&text));
            let checksums_match = manifest.member(MemberRole::Database).is_some_and(|m| {
                m.size == set.size
                    && set.database.is_file()
                    && sidecar.as_deref() == Some(m.sha256.as_str())
            });
            set.verified = manifest.verification.as_ref().is_some_and(|v| {
                is_verified(&v.integrity_check, &v.table_row_counts, checksums_match)
            });
            set.source = manifest.source;
        }
    }
    Ok(out)
}

/// Lists every set in the local root and on each remote: name, time, age, size, verified.
pub fn list(
    options: &ListOptions,
    remotes: &[&dyn RemoteTarget],
    progress: &dyn Progress,
) -> Result<ListReport> {
    let mut entries = Vec::new();
    for set in local_sets(&options.backup_root)? {
        let verified = if options.deep {
            set.database.is_file()
                && verify(&set.database, &VerifyOptions::default(), progress)?.is_ok()
        } else {
            set.verified
        };
        entries.push(BackupEntry {
            location: Location::Local,
            name: set.name.stem(),
            kind: set.name.kind,
            timestamp: set.name.timestamp,
            age_seconds: options
                .now
                .signed_duration_since(set.name.timestamp)
                .num_seconds(),
            size: set.size,
            path: set.database.display().to_string(),
            verified,
            complete: set.complete,
            source: set.source.clone(),
            files: set.files.iter().map(|f| f.display().to_string()).collect(),
        });
    }
    let mut remote_failures = Vec::new();
    for target in remotes {
        match remote::list_sets(*target) {
            Ok(sets) => {
                for set in sets {
                    entries.push(BackupEntry {
                        location: Location::Remote {
                            target: target.describe(),
                        },
                        name: set.name.stem(),
                        kind: set.name.kind,
                        timestamp: set.name.timestamp,
                        age_seconds: options
                            .now
                            .signed_duration_since(set.name.timestamp)
                            .num_seconds(),
                        size: set.size,
                        path: set.database_key.clone(),
                        verified: set.verified(),
                        complete: set.manifest.is_some(),
                        source: set.manifest.as_ref().and_then(|m| m.source.clone()),
                        files: set.keys.clone(),
                    });
                }
            }
            Err(e) => remote_failures.push(RemoteFailure {
                target: target.describe(),
                error: e.to_string(),
            }),
        }
    }
    progress::report(progress, "list", entries.len() as u64, None)?;
    Ok(ListReport {
        backup_root: options.backup_root.clone(),
        entries,
        remote_failures,
    })
}
