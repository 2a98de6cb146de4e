//! `cleanup`: retention applied to the sets in a backup root and on remotes.

use crate::audit;
use serde_json::json;
use std::fs;
use std::path::PathBuf;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::files::{self, SourceIdentity, SourceKind};
use super::list::{local_sets, LocalSet, Location, RemoteFailure};
use super::remote::{self, RemoteTarget};
use super::restore::RootLock;
use super::retention::{self, Action, Candidate, Reason, RetentionPolicy};
use super::stale;
use super::BackupKind;
use crate::progress::{self, Progress};
use crate::Result;

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
    audit::recorded(
        options.database.as_deref().unwrap_or(&options.backup_root),
        "backup.cleanup",
        audit::arguments([
            ("backup_root", json!(options.backup_root)),
            ("database", json!(options.database)),
            ("policy", json!(options.policy)),
            ("dry_run", json!(options.dry_run)),
            (
                "remotes",
                json!(remotes.iter().map(|r| r.describe()).collect::<Vec<_>>()),
            ),
        ]),
        |report: &CleanupReport| {
            json!({
                "dry_run": report.dry_run,
                "deleted_sets": report.deleted_sets,
                "freed_bytes": report.freed_bytes,
                "remote_failures": report.remote_failures.len(),
            })
        },
        || cleanup_unrecorded(options, remotes, progress),
    )
}

fn cleanup_unrecorded(
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
