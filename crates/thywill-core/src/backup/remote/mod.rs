//! Remote copies of backup sets: a folder (a mounted drive) or S3-compatible object storage
//! (feature `s3`).
//!
//! A remote holds sets under the same relative keys as the local root
//! (`<tier>/thywill_<tier>_<ts>.db`, its sidecar, its manifest, its companions). A push uploads
//! every member, re-reads each uploaded object to check its SHA-256 against the manifest, and
//! uploads the manifest last: a remote set without a manifest is incomplete and never trusted.

mod folder;
#[cfg(feature = "s3")]
mod s3;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use folder::FolderTarget;
#[cfg(feature = "s3")]
pub use s3::S3Target;

use super::files::{self, sidecar_line, Manifest, ManifestMember};
use super::{BackupKind, SetName};
use crate::progress::Progress;
use crate::{Error, Result};

/// An object in a remote target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteObject {
    /// Key relative to the target's root, `/`-separated.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
}

/// A place backup sets are copied to. Implementations are blocking.
pub trait RemoteTarget: Send + Sync {
    /// A display name without secrets, e.g. `folder:/mnt/usb` or `s3://bucket/prefix`.
    fn describe(&self) -> String;
    /// Uploads a local file to `key`, replacing any object there.
    fn put_file(&self, local: &Path, key: &str, progress: &dyn Progress) -> Result<()>;
    /// Downloads `key` into the new local file `local`.
    fn get_file(&self, key: &str, local: &Path, progress: &dyn Progress) -> Result<()>;
    /// Reads `key` back and returns its SHA-256 and size (the post-upload check).
    fn hash_object(&self, key: &str, progress: &dyn Progress) -> Result<(String, u64)>;
    /// Reads a small object whole.
    fn read(&self, key: &str) -> Result<Vec<u8>>;
    /// Writes a small object whole.
    fn write(&self, key: &str, bytes: &[u8]) -> Result<()>;
    /// Every object under the target.
    fn list(&self) -> Result<Vec<RemoteObject>>;
    /// Deletes `key` (absent keys are not an error).
    fn delete(&self, key: &str) -> Result<()>;
}

/// Where a remote is, as given on a command line or in a config file. Holds no secrets:
/// S3 credentials come from the environment or a credentials file (see [`S3Credentials`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RemoteSpec {
    /// A folder, typically a mounted drive.
    Folder {
        /// The folder.
        path: PathBuf,
    },
    /// An S3 bucket (or S3-compatible service).
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix inside the bucket (no leading or trailing `/`).
        prefix: String,
        /// Service URL, e.g. `http://127.0.0.1:9000`; AWS when absent.
        endpoint: Option<String>,
        /// Region (default `us-east-1`).
        region: Option<String>,
        /// Allow plain `http://` endpoints.
        allow_http: bool,
    },
}

/// The remote forms [`RemoteSpec::parse`] accepts, as listed in its error messages.
pub(crate) const ACCEPTED_REMOTE_FORMS: &str = "folder:PATH (a folder, e.g. folder:/mnt/usb), \
an absolute path (/mnt/usb, the same as folder:/mnt/usb), or \
s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION&allow_http=true]";

impl RemoteSpec {
    /// Parses one of the accepted forms: `folder:PATH`, an absolute path (a folder), or
    /// `s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1&allow_http=true`.
    /// Anything else (another scheme such as `sftp://` or `S3://`, `s3:/x`, a relative path)
    /// is [`Error::InvalidInput`] listing the accepted forms: a mistyped remote must never
    /// become a local folder that silently stands in for the off-site copy.
    pub fn parse(spec: &str) -> Result<RemoteSpec> {
        let unsupported = |why: &str| {
            Error::InvalidInput(format!(
                "unsupported remote {spec:?}: {why}; accepted forms: {ACCEPTED_REMOTE_FORMS}"
            ))
        };
        if let Some(rest) = spec.strip_prefix("s3://") {
            let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
            let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
            if bucket.is_empty() {
                return Err(unsupported("no bucket name"));
            }
            let mut endpoint = None;
            let mut region = None;
            let mut allow_http = false;
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                match k {
                    "endpoint" => endpoint = Some(v.to_string()),
                    "region" => region = Some(v.to_string()),
                    "allow_http" => allow_http = matches!(v, "true" | "1" | "yes"),
                    other => {
                        return Err(Error::InvalidInput(format!(
                            "{spec}: unknown option {other:?} (credentials never go in the URL; use the environment or a credentials file)"
                        )))
                    }
                }
            }
            return Ok(RemoteSpec::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
                endpoint,
                region,
                allow_http,
            });
        }
        if let Some(path) = spec.strip_prefix("folder:") {
            if path.is_empty() {
                return Err(unsupported("empty folder path"));
            }
            return Ok(RemoteSpec::Folder {
                path: PathBuf::from(path),
            });
        }
        if spec.starts_with('/') {
            return Ok(RemoteSpec::Folder {
                path: PathBuf::from(spec),
            });
        }
        Err(match url_scheme(spec) {
            Some(scheme) => unsupported(&format!("the scheme {scheme:?} is not supported")),
            None if spec.is_empty() => unsupported("empty"),
            None => unsupported("a relative folder must be written folder:PATH"),
        })
    }

    /// Opens the target. S3 credentials are looked up with `env` (see [`S3Credentials`]).
    pub fn open(&self, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Box<dyn RemoteTarget>> {
        match self {
            RemoteSpec::Folder { path } => Ok(Box::new(FolderTarget::new(path))),
            #[cfg(feature = "s3")]
            RemoteSpec::S3 { .. } => {
                let credentials = S3Credentials::from_env(env)?;
                Ok(Box::new(S3Target::new(self, &credentials)?))
            }
            #[cfg(not(feature = "s3"))]
            RemoteSpec::S3 { .. } => {
                let _ = env;
                Err(Error::InvalidInput(
                    "this build has no S3 support (cargo feature `s3`)".into(),
                ))
            }
        }
    }
}

/// The scheme of a URL-like string (`sftp` in `sftp://host`, `s3` in `s3:/x`), if it has one.
fn url_scheme(spec: &str) -> Option<&str> {
    let (scheme, _) = spec.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)))
        .then_some(scheme)
}

/// S3 credentials. Never taken from command-line arguments (they show in `ps`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct S3Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token, for temporary credentials.
    #[serde(default)]
    pub session_token: Option<String>,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl S3Credentials {
    /// From `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`), else from the
    /// JSON file named by `THYWILL_S3_CREDENTIALS` (`{"access_key_id", "secret_access_key"}`),
    /// else from the AWS shared credentials file (`AWS_SHARED_CREDENTIALS_FILE` or
    /// `~/.aws/credentials`, profile `AWS_PROFILE` or `default`). Missing credentials are an
    /// error: there is deliberately no fallback to instance metadata.
    pub fn from_env(env: &dyn Fn(&str) -> Option<OsString>) -> Result<S3Credentials> {
        let var = |k: &str| {
            env(k)
                .map(|v| v.to_string_lossy().into_owned())
                .filter(|v| !v.is_empty())
        };
        if let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            return Ok(S3Credentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: var("AWS_SESSION_TOKEN"),
            });
        }
        if let Some(path) = var("THYWILL_S3_CREDENTIALS") {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            return serde_json::from_slice(&bytes)
                .map_err(|e| Error::InvalidInput(format!("{path}: not a credentials file: {e}")));
        }
        let shared = var("AWS_SHARED_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".aws/credentials")));
        if let Some(path) = shared.filter(|p| p.is_file()) {
            let profile = var("AWS_PROFILE").unwrap_or_else(|| "default".into());
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            if let Some(c) = parse_shared_credentials(&text, &profile) {
                return Ok(c);
            }
        }
        Err(Error::InvalidInput(
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or THYWILL_S3_CREDENTIALS, or ~/.aws/credentials".into(),
        ))
    }
}

fn parse_shared_credentials(text: &str, profile: &str) -> Option<S3Credentials> {
    let mut in_profile = false;
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') && line.ends_with(']') {
            in_profile = line[1..line.len() - 1].trim() == profile;
        } else if in_profile {
            if let Some((k, v)) = line.split_once('=') {
                values.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
    }
    Some(S3Credentials {
        access_key_id: values.remove("aws_access_key_id")?,
        secret_access_key: values.remove("aws_secret_access_key")?,
        session_token: values.remove("aws_session_token"),
    })
}

/// The key of a set member: `<kind folder>/<file>`.
pub(crate) fn member_key(kind: BackupKind, file: &str) -> String {
    format!("{}/{}", kind.folder(), file)
}

/// One member uploaded by [`push_set`].
#[derive(Debug, Clone, Serialize)]
pub struct PushedMember {
    /// The key written.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The remote copy's SHA-256, read back after upload, equals the manifest's.
    pub verified: bool,
}

/// The result of [`push_set`].
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    /// The target.
    pub target: String,
    /// The set.
    pub name: String,
    /// Every member.
    pub members: Vec<PushedMember>,
    /// The manifest's key (written last).
    pub manifest_key: String,
}

/// Copies a local set (given by its database file) to `target`, verifying every upload.
pub fn push_set(
    target: &dyn RemoteTarget,
    database: &Path,
    progress: &dyn Progress,
) -> Result<PushReport> {
    let (set, manifest) = local_set(database)?;
    let dir = files::parent_dir(database);
    let mut members = Vec::new();
    for member in &manifest.members {
        let key = member_key(set.kind, &member.file);
        target.put_file(&dir.join(&member.file), &key, progress)?;
        let (sha, size) = target.hash_object(&key, progress)?;
        if sha != member.sha256 || size != member.size {
            return Err(Error::Remote(format!(
                "{}: the uploaded {key} reads back as {size} bytes with sha256 {sha}, expected {} bytes with {}",
                target.describe(),
                member.size,
                member.sha256
            )));
        }
        target.write(
            &format!("{key}.sha256"),
            sidecar_line(&member.sha256, &member.file).as_bytes(),
        )?;
        members.push(PushedMember {
            key,
            size,
            verified: true,
        });
    }
    let manifest_key = member_key(set.kind, &set.manifest_file());
    let mut json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Internal(format!("manifest serialisation: {e}")))?;
    json.push(b'\n');
    target.write(&manifest_key, &json)?;
    Ok(PushReport {
        target: target.describe(),
        name: set.stem(),
        members,
        manifest_key,
    })
}

fn local_set(database: &Path) -> Result<(SetName, Manifest)> {
    let name = database
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(SetName::parse_database_file)
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "{} is not named like a backup set (thywill_<tier>_<YYYYMMDD_HHMMSS>.db)",
                database.display()
            ))
        })?;
    let manifest_path = files::parent_dir(database).join(name.manifest_file());
    let manifest = files::read_manifest(&manifest_path)?;
    Ok((name, manifest))
}

/// A set found on a remote.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteSet {
    /// The set's name.
    pub name: SetName,
    /// The database object's key.
    pub database_key: String,
    /// Size of the database object.
    pub size: u64,
    /// Every object of the set (members, sidecars, manifest).
    pub keys: Vec<String>,
    /// The manifest, when present and readable (a set without one is incomplete).
    pub manifest: Option<Manifest>,
}

impl RemoteSet {
    /// Complete and verified (see [`crate::backup::is_verified`]): the manifest's checks
    /// passed, and without re-reading the object, its checksums match when its sidecar was
    /// uploaded and it has the size the manifest records.
    pub fn verified(&self) -> bool {
        let Some(manifest) = &self.manifest else {
            return false;
        };
        let sidecar = format!("{}.sha256", self.database_key);
        let checksums_match = self.keys.contains(&sidecar)
            && manifest
                .member(files::MemberRole::Database)
                .is_some_and(|m| m.size == self.size);
        manifest.verification.as_ref().is_some_and(|v| {
            super::verify::is_verified(&v.integrity_check, &v.table_row_counts, checksums_match)
        })
    }
}

/// Every set on a remote, grouped from its object listing, oldest first.
pub fn list_sets(target: &dyn RemoteTarget) -> Result<Vec<RemoteSet>> {
    let objects = target.list()?;
    let mut sets: BTreeMap<SetName, RemoteSet> = BTreeMap::new();
    for object in &objects {
        let file = object.key.rsplit('/').next().unwrap_or(&object.key);
        let Some(name) = set_of_file(file) else {
            continue;
        };
        if object.key != member_key(name.kind, file) {
            continue;
        }
        let entry = sets.entry(name).or_insert_with(|| RemoteSet {
            name,
            database_key: member_key(name.kind, &name.database_file()),
            size: 0,
            keys: Vec::new(),
            manifest: None,
        });
        entry.keys.push(object.key.clone());
        if file == name.database_file() {
            entry.size = object.size;
        }
    }
    for set in sets.values_mut() {
        let manifest_key = member_key(set.name.kind, &set.name.manifest_file());
        if set.keys.contains(&manifest_key) {
            set.manifest = target
                .read(&manifest_key)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<Manifest>(&bytes).ok())
                .filter(|m| m.format == files::MANIFEST_FORMAT);
        }
        set.keys.sort();
    }
    Ok(sets.into_values().collect())
}

/// The set a file belongs to: `<stem>.db`, `<stem>.db.sha256`, `<stem>.manifest.json`,
/// `<stem>.email.db`, `<stem>.text_archives.zip` and their sidecars.
pub(crate) fn set_of_file(file: &str) -> Option<SetName> {
    let base = file.strip_suffix(".sha256").unwrap_or(file);
    let stem = [".manifest.json", ".email.db", ".text_archives.zip", ".db"]
        .iter()
        .find_map(|suffix| base.strip_suffix(suffix))?;
    SetName::parse_stem(stem)
}

/// One member downloaded by [`fetch_set`].
#[derive(Debug, Clone, Serialize)]
pub struct FetchedMember {
    /// The member's file name.
    pub file: String,
    /// Bytes downloaded.
    pub size: u64,
}

/// The result of [`fetch_set`].
#[derive(Debug, Clone, Serialize)]
pub struct FetchReport {
    /// The target.
    pub target: String,
    /// The set.
    pub name: String,
    /// The local copy of the set's database, ready for `verify` and `restore`.
    pub database: PathBuf,
    /// Every member downloaded (their sidecars and the manifest come along).
    pub members: Vec<FetchedMember>,
}

/// Downloads a remote set into `local_root/<kind>/` (members, sidecars, manifest), ready
/// for `verify` and `restore` of [`FetchReport::database`]. Refuses incomplete sets (no
/// manifest) and manifests naming anything but bare file names. Checks nothing else: the
/// verification of what arrived is `verify`'s (and every restore's).
pub fn fetch_set(
    target: &dyn RemoteTarget,
    name: &SetName,
    local_root: &Path,
    progress: &dyn Progress,
) -> Result<FetchReport> {
    let manifest_key = member_key(name.kind, &name.manifest_file());
    let bytes = target.read(&manifest_key).map_err(|e| match e.kind() {
        crate::ErrorKind::NotFound => Error::NotFound {
            what: format!(
                "{} on {} (or it is incomplete: no manifest)",
                name,
                target.describe()
            ),
        },
        _ => e,
    })?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Corrupt(format!("{manifest_key}: unreadable manifest: {e}")))?;
    let dir = local_root.join(name.kind.folder());
    files::create_private_dir(&dir)?;
    let mut members = Vec::with_capacity(manifest.members.len());
    for ManifestMember { file, .. } in &manifest.members {
        if file.contains('/') || file.contains('\\') || file.starts_with('.') {
            return Err(Error::Corrupt(format!(
                "{manifest_key}: member name {file:?} is not a bare file name"
            )));
        }
        let key = member_key(name.kind, file);
        let local = dir.join(file);
        let tmp = files::temp_path_for(&local, "fetch");
        let fetched = target
            .get_file(&key, &tmp, progress)
            .and_then(|()| files::rename_durably(&tmp, &local));
        if let Err(e) = fetched {
            let _ = files::remove_if_exists(&tmp);
            return Err(e);
        }
        if let Ok(sidecar) = target.read(&format!("{key}.sha256")) {
            files::write_atomically(&files::sidecar_path(&local), &sidecar)?;
        }
        let size = std::fs::metadata(&local)
            .map_err(|e| Error::io(&local, e))?
            .len();
        members.push(FetchedMember {
            file: file.clone(),
            size,
        });
    }
    files::write_atomically(&dir.join(name.manifest_file()), &bytes)?;
    Ok(FetchReport {
        target: target.describe(),
        name: name.stem(),
        database: dir.join(name.database_file()),
        members,
    })
}

/// Deletes a remote set: the manifest first (so a half-deleted set reads as incomplete).
pub(crate) fn delete_set(target: &dyn RemoteTarget, set: &RemoteSet) -> Result<()> {
    let manifest_key = member_key(set.name.kind, &set.name.manifest_file());
    if set.keys.contains(&manifest_key) {
        target.delete(&manifest_key)?;
    }
    for key in set.keys.iter().filter(|k| **k != manifest_key) {
        target.delete(key)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_refuse_credentials_in_urls() {
        assert_eq!(
            RemoteSpec::parse("folder:/mnt/usb").unwrap(),
            RemoteSpec::Folder {
                path: "/mnt/usb".into()
            }
        );
        assert_eq!(
            RemoteSpec::parse("s3://b/p/q?endpoint=http://127.0.0.1:9&allow_http=true").unwrap(),
            RemoteSpec::S3 {
                bucket: "b".into(),
                prefix: "p/q".into(),
                endpoint: Some("http://127.0.0.1:9".into()),
                region: None,
                allow_http: true
            }
        );
        assert!(RemoteSpec::parse("s3://b?secret_access_key=x").is_err());
        assert!(RemoteSpec::parse("s3://").is_err());
    }

    #[test]
    fn set_membership_of_file_names() {
        let stem = "thywill_daily_20250101_020000";
        for f in [
            format!("{stem}.db"),
            format!("{stem}.db.sha256"),
            format!("{stem}.manifest.json"),
            format!("{stem}.email.db.sha256"),
            format!("{stem}.text_archives.zip"),
        ] {
            assert_eq!(
                set_of_file(&f).map(|s| s.stem()),
                Some(stem.to_string()),
                "{f}"
            );
        }
        assert_eq!(set_of_file("notes.txt"), None);
    }

    #[test]
    fn shared_credentials_profiles() {
        let text = "[default]\naws_access_key_id = A\naws_secret_access_key = S\n[other]\naws_access_key_id=B\naws_secret_access_key=T\n";
        assert_eq!(
            parse_shared_credentials(text, "other")
                .unwrap()
                .access_key_id,
            "B"
        );
        assert_eq!(
            parse_shared_credentials(text, "default")
                .unwrap()
                .secret_access_key,
            "S"
        );
        assert!(parse_shared_credentials(text, "none").is_none());
    }
}
