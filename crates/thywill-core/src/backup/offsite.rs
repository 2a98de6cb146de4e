//! Backups that leave the machine, composed here once for every front end: take a set and
//! copy it to every remote, collecting the remotes that fail ([`create_and_copy`]); and
//! restore a set from a remote: fetch it into a staging folder, verify it, restore it and
//! remove the staging folder whatever happened ([`restore_from_remote`]).

use crate::audit;
use serde_json::json;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::create::{create, CreateOptions, CreateReport};
use super::files;
use super::list::RemoteFailure;
use super::remote::{self, FetchReport, PushReport, RemoteTarget};
use super::restore::{self, RestoreOptions, RestoreReport, RootLock};
use super::stale::staging_dir;
use super::SetName;
use crate::progress::Progress;
use crate::{Error, ErrorKind, Result};

/// The result of [`create_and_copy`].
#[derive(Debug, Clone, Serialize)]
pub struct CreateAndCopyReport {
    /// The set taken locally.
    pub backup: CreateReport,
    /// The copies made, one per remote that took the set, in the order given.
    pub remotes: Vec<PushReport>,
    /// The remotes that did not, with why.
    pub remote_failures: Vec<RemoteFailure>,
}

impl CreateAndCopyReport {
    /// Whether any remote failed (the local set exists either way).
    pub fn has_failures(&self) -> bool {
        !self.remote_failures.is_empty()
    }
}

/// Takes a backup set ([`create`]) and copies it to every remote in turn
/// ([`remote::push_set`], each upload read back and checked against the manifest).
///
/// A remote that fails does not stop the others: it is listed in
/// [`CreateAndCopyReport::remote_failures`] and the call still succeeds, because the local
/// set is sound and the other copies are made. A failure to take the set itself is the
/// call's error, and nothing is copied. Cancelling through `progress` stops at once with
/// [`Error::Cancelled`]; the local set, once complete, stays (as any finished backup does),
/// and a remote whose copy was cut short holds an incomplete set: its manifest goes last,
/// so that set is never taken for a good one. Progress phases: [`create`]'s, then the
/// remotes' uploads.
pub fn create_and_copy(
    options: &CreateOptions,
    remotes: &[&dyn RemoteTarget],
    progress: &dyn Progress,
) -> Result<CreateAndCopyReport> {
    let mut arguments = super::create::create_arguments(options);
    arguments["remotes"] = json!(remotes.iter().map(|r| r.describe()).collect::<Vec<_>>());
    audit::recorded(
        &options.database,
        "backup.create",
        arguments,
        |report: &CreateAndCopyReport| {
            json!({
                "sets": 1,
                "members": report.backup.members.len(),
                "bytes": report.backup.members.iter().map(|m| m.size).sum::<u64>(),
                "remote_copies": report.remotes.len(),
                "remote_failures": report.remote_failures.len(),
            })
        },
        || create_and_copy_unrecorded(options, remotes, progress),
    )
}

fn create_and_copy_unrecorded(
    options: &CreateOptions,
    remotes: &[&dyn RemoteTarget],
    progress: &dyn Progress,
) -> Result<CreateAndCopyReport> {
    let backup = create(options, progress)?;
    let mut copies = Vec::with_capacity(remotes.len());
    let mut remote_failures = Vec::new();
    for target in remotes {
        match remote::push_set(*target, &backup.path, progress) {
            Ok(report) => copies.push(report),
            Err(e) if e.kind() == ErrorKind::Cancelled => return Err(e),
            Err(e) => remote_failures.push(RemoteFailure {
                target: target.describe(),
                error: e.to_string(),
            }),
        }
    }
    Ok(CreateAndCopyReport {
        backup,
        remotes: copies,
        remote_failures,
    })
}

/// The result of [`restore_from_remote`].
#[derive(Debug, Clone, Serialize)]
pub struct RestoreFromRemoteReport {
    /// The remote the set came from.
    pub target: String,
    /// The set.
    pub name: String,
    /// What was downloaded, and where it was staged (removed again by now).
    pub fetch: FetchReport,
    /// The restore of the staged copy: its `verification` is the check of what arrived,
    /// its `source` the staged file.
    pub restore: RestoreReport,
    /// Things worth knowing beyond the restore's own warnings (a staging folder that could
    /// not be removed).
    pub warnings: Vec<String>,
}

/// Restores the set `name` from `remote`: fetches it into the staging folder
/// `<backup root>/.remote-staging-<pid>`, restores it from there exactly as [`restore`]
/// restores a local file (verified first; refused while another process has the database
/// open unless `options.lock` waits or forces; a safety backup of the current database;
/// crash-safe), then removes the staging folder. The folder is removed on every path:
/// success, a refused or corrupt set, an error, cancellation through `progress`. A process
/// killed meanwhile leaves it behind under its pid, and the next backup, restore or cleanup
/// of that root removes it.
///
/// With [`LockPolicy::Fail`](super::LockPolicy::Fail) a database in use is refused before
/// anything is downloaded. A dry run also downloads and verifies the set (there is nothing
/// else to check it against) and then changes nothing else; unlike a local dry run it
/// takes the backup root's lock, since it writes the staging folder. Progress phases: the
/// remote's downloads, then [`restore`]'s.
///
/// [`restore`]: super::restore()
pub fn restore_from_remote(
    remote: &dyn RemoteTarget,
    name: &SetName,
    options: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<RestoreFromRemoteReport> {
    let mut arguments = super::restore::restore_arguments(options);
    arguments["remote"] = json!(remote.describe());
    arguments["name"] = json!(name.stem());
    audit::recorded(
        &options.database,
        "backup.restore",
        arguments,
        |report: &RestoreFromRemoteReport| super::restore::restore_counts(&report.restore),
        || restore_from_remote_unrecorded(remote, name, options, progress),
    )
}

fn restore_from_remote_unrecorded(
    remote: &dyn RemoteTarget,
    name: &SetName,
    options: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<RestoreFromRemoteReport> {
    files::check_backup_root(&options.backup_root)?;
    restore::refuse_if_in_use(&options.database, options.lock)?;
    // The staging folder is named after this process: the lock keeps two restores of one
    // root in this process (two threads) from sharing it.
    let _lock = RootLock::acquire(&options.backup_root)?;
    let staging = Staging::create(&options.backup_root)?;
    let fetch = remote::fetch_set(remote, name, &staging.path, progress)?;
    let restore = restore::restore_locked(&fetch.database, options, progress)?;
    let mut warnings = Vec::new();
    if let Err(e) = staging.remove() {
        warnings.push(format!(
            "the staging folder could not be removed ({e}); the next backup, restore or cleanup of this root removes it"
        ));
    }
    Ok(RestoreFromRemoteReport {
        target: remote.describe(),
        name: name.stem(),
        fetch,
        restore,
        warnings,
    })
}

/// This process's staging folder under a backup root, removed when dropped (on error,
/// cancellation and panic paths alike).
struct Staging {
    path: PathBuf,
    removed: bool,
}

impl Staging {
    /// Starts empty: a folder of this pid can only be left over from an earlier call in
    /// this process whose removal failed, and the root's lock says no call uses it now.
    fn create(root: &Path) -> Result<Staging> {
        let path = staging_dir(root);
        remove_dir(&path)?;
        files::create_private_dir(&path)?;
        Ok(Staging {
            path,
            removed: false,
        })
    }

    fn remove(mut self) -> Result<()> {
        self.removed = true;
        remove_dir(&self.path)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.removed {
            let _ = remove_dir(&self.path);
        }
    }
}

fn remove_dir(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}
