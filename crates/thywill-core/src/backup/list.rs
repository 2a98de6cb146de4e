//! `list` and `cleanup`: the sets in a backup root and on remotes, and retention applied to them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::files::{self, read_manifest, sidecar_path, MemberRole, SourceIdentity, SourceKind};
use super::remote::{self, RemoteTarget};
use super::restore::RootLock;
use super::retention::{self, Action, Candidate, Reason, RetentionPolicy};
use super::stale;
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
struct LocalSet {
    name: SetName,
    database: PathBuf,
    files: Vec<PathBuf>,
    size: u64,
    complete: bool,
    verified: bool,
    source: Option<SourceIdentity>,
}

fn local_sets(root: &Path) -> Result<Vec<LocalSet>> {
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

/// What to clean up. Deserializes from `{"policy": {...}, "now", "dry_run", "database"}`
/// (each optional; `policy` as [`RetentionPolicy`] reads it); the caller gives the backup
/// root.
#[derive(Debug, Clone, Deserialize)]
#[serde(default = "CleanupOptions::unplaced", deny_unknown_fields)]
pub struct CleanupOptions {
    /// The local backup root.
    #[serde(skip)]
    pub backup_root: PathBuf,
    /// Windows and floors.
    pub policy: RetentionPolicy,
    /// "Now" (local time) against which name timestamps are judged.
    pub now: NaiveDateTime,
    /// Decide and report, delete nothing.
    pub dry_run: bool,
    /// The database these backups belong to: sets whose manifest records no source (written
    /// before sources were recorded) are judged together with this database's sets. When
    /// `None`, such sets form a group of their own.
    pub database: Option<PathBuf>,
}

impl CleanupOptions {
    /// Applies the default policy to `backup_root` as of now, deleting for real.
    pub fn new(backup_root: impl Into<PathBuf>) -> Self {
        CleanupOptions {
            backup_root: backup_root.into(),
            policy: RetentionPolicy::default(),
            now: chrono::Local::now().naive_local(),
            dry_run: false,
            database: None,
        }
    }

    fn unplaced() -> Self {
        CleanupOptions::new(PathBuf::new())
    }
}

/// One set's fate.
#[derive(Debug, Clone, Serialize)]
pub struct CleanupAction {
    /// Local or remote.
    pub location: Location,
    /// The set's stem.
    pub name: String,
    /// Tier or pre-restore.
    pub kind: BackupKind,
    /// The time in its name.
    pub timestamp: NaiveDateTime,
    /// Keep or delete.
    pub action: Action,
    /// The rule that decided.
    pub reason: Reason,
    /// The rule as a sentence.
    pub explanation: String,
    /// The set's files (paths or keys).
    pub files: Vec<String>,
    /// Bytes the set occupies (database only for remotes).
    pub bytes: u64,
    /// True once deleted (false in a dry run).
    pub deleted: bool,
}

/// The result of [`cleanup`].
#[derive(Debug, Clone, Serialize)]
pub struct CleanupReport {
    /// Nothing was deleted.
    pub dry_run: bool,
    /// The policy applied.
    pub policy: RetentionPolicy,
    /// Every set with its decision.
    pub actions: Vec<CleanupAction>,
    /// Sets deleted (or that would be).
    pub deleted_sets: usize,
    /// Bytes freed (or that would be).
    pub freed_bytes: u64,
    /// Remotes that failed.
    pub remote_failures: Vec<RemoteFailure>,
    /// Leftovers of interrupted runs (temp copies, remote staging folders) removed from the
    /// backup root (or, in a dry run, that would be).
    pub removed_stale_files: Vec<PathBuf>,
}

/// Applies retention to the local root and to each remote (each judged on its own sets).
/// With `dry_run` it only reports what would go and why.
pub fn cleanup(
    options: &CleanupOptions,
    remotes: &[&dyn RemoteTarget],
    progress: &dyn Progress,
) -> Result<CleanupReport> {
    let _lock = if options.dry_run {
        None
    } else {
        Some(RootLock::acquire(&options.backup_root)?)
    };
    let mut actions = Vec::new();
    let stale = stale::leftovers(&options.backup_root, None);
    let removed_stale_files = if options.dry_run {
        stale
    } else {
        stale::remove(stale)?
    };

    let own_source = options
        .database
        .as_deref()
        .map(|db| SourceIdentity::new(db, SourceKind::Thywill).key());
    let group_of = |source: Option<&SourceIdentity>| {
        source
            .map(SourceIdentity::key)
            .or_else(|| own_source.clone())
    };
    let sets = local_sets(&options.backup_root)?;
    let candidates: Vec<Candidate> = sets
        .iter()
        .map(|s| Candidate {
            id: s.database.display().to_string(),
            kind: s.name.kind,
            timestamp: s.name.timestamp,
            verified: s.verified,
            source: group_of(s.source.as_ref()),
        })
        .collect();
    for decision in retention::plan(&candidates, options.now, &options.policy) {
        let Some(set) = sets
            .iter()
            .find(|s| s.database.display().to_string() == decision.id)
        else {
            continue;
        };
        let bytes = set
            .files
            .iter()
            .map(|f| fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .sum();
        let mut deleted = false;
        if decision.action == Action::Delete && !options.dry_run {
            delete_local_set(set)?;
            deleted = true;
        }
        actions.push(CleanupAction {
            location: Location::Local,
            name: set.name.stem(),
            kind: set.name.kind,
            timestamp: set.name.timestamp,
            action: decision.action,
            reason: decision.reason,
            explanation: decision.explanation,
            files: set.files.iter().map(|f| f.display().to_string()).collect(),
            bytes,
            deleted,
        });
        progress::report(progress, "cleanup", actions.len() as u64, None)?;
    }

    let mut remote_failures = Vec::new();
    for target in remotes {
        let outcome = (|| -> Result<()> {
            let sets = remote::list_sets(*target)?;
            let candidates: Vec<Candidate> = sets
                .iter()
                .map(|s| Candidate {
                    id: s.database_key.clone(),
                    kind: s.name.kind,
                    timestamp: s.name.timestamp,
                    verified: s.verified(),
                    source: group_of(s.manifest.as_ref().and_then(|m| m.source.as_ref())),
                })
                .collect();
            for decision in retention::plan(&candidates, options.now, &options.policy) {
                let Some(set) = sets.iter().find(|s| s.database_key == decision.id) else {
                    continue;
                };
                let mut deleted = false;
                if decision.action == Action::Delete && !options.dry_run {
                    remote::delete_set(*target, set)?;
                    deleted = true;
                }
                actions.push(CleanupAction {
                    location: Location::Remote {
                        target: target.describe(),
                    },
                    name: set.name.stem(),
                    kind: set.name.kind,
                    timestamp: set.name.timestamp,
                    action: decision.action,
                    reason: decision.reason,
                    explanation: decision.explanation,
                    files: set.keys.clone(),
                    bytes: set.size,
                    deleted,
                });
                progress::report(progress, "cleanup", actions.len() as u64, None)?;
            }
            Ok(())
        })();
        if let Err(e) = outcome {
            remote_failures.push(RemoteFailure {
                target: target.describe(),
                error: e.to_string(),
            });
        }
    }
    let deleting = actions.iter().filter(|a| a.action == Action::Delete);
    let deleted_sets = deleting.clone().count();
    let freed_bytes = deleting.map(|a| a.bytes).sum();
    Ok(CleanupReport {
        dry_run: options.dry_run,
        policy: options.policy,
        actions,
        deleted_sets,
        freed_bytes,
        remote_failures,
        removed_stale_files,
    })
}

/// Deletes a set's files, manifest first, then fsyncs its folder.
fn delete_local_set(set: &LocalSet) -> Result<()> {
    let manifest = files::parent_dir(&set.database).join(set.name.manifest_file());
    files::remove_if_exists(&manifest)?;
    for file in &set.files {
        files::remove_if_exists(file)?;
    }
    files::fsync_dir(&files::parent_dir(&set.database))
}
