//! `verify`: is this file an intact ThyWill backup?

use crate::audit;
use serde_json::json;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use super::create::integrity_lines;
use super::files::{self, parse_sidecar, read_manifest, sha256_file, sidecar_path, MemberRole};
use super::SetName;
use crate::db::table_row_counts;
use crate::progress::Progress;
use crate::{Error, Result};

/// How thoroughly to verify. As JSON, `{"require_checksum", "full_integrity_check"}`, each
/// optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyOptions {
    /// Fail when neither a sidecar nor a manifest provides a checksum (default true): an
    /// unchecksummed file cannot be told apart from a damaged one.
    pub require_checksum: bool,
    /// Use `integrity_check` (default) rather than the faster `quick_check`.
    pub full_integrity_check: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            require_checksum: true,
            full_integrity_check: true,
        }
    }
}

/// The verdict of [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyStatus {
    /// Checksums match, the integrity check said `ok` and ThyWill's tables are present.
    Ok,
    /// The file does not exist.
    NotFound,
    /// A checksum mismatched, the integrity check failed, or the file is not SQLite.
    Corrupt,
    /// The file looks sound but nothing proves it is the file that was backed up.
    NoChecksum,
    /// A sound SQLite database that is not a ThyWill database.
    NotThywill,
    /// The path is a directory (or another non-file), not a backup file.
    NotAFile,
}

/// The one definition of a *verified* backup, used by `create`, `verify`, `list` and
/// retention alike: `PRAGMA integrity_check` said exactly `ok`, ThyWill's core tables are
/// present (`tables` holds the database's table names), and the file's checksums match.
pub fn is_verified<V>(
    integrity_check: &[String],
    tables: &BTreeMap<String, V>,
    checksums_match: bool,
) -> bool {
    integrity_check.len() == 1
        && integrity_check[0] == "ok"
        && missing_tables(tables).is_empty()
        && checksums_match
}

/// ThyWill's core tables that `tables` lacks.
pub(crate) fn missing_tables<V>(tables: &BTreeMap<String, V>) -> Vec<String> {
    super::required_tables()
        .iter()
        .filter(|t| !tables.contains_key(**t))
        .map(|t| t.to_string())
        .collect()
}

/// One manifest member's check.
#[derive(Debug, Clone, Serialize)]
pub struct MemberCheck {
    /// What the member holds.
    pub role: MemberRole,
    /// Its file name.
    pub file: String,
    /// Present, with the size and checksum the manifest records.
    pub ok: bool,
}

/// What [`verify`] found. The first five fields carry ThyWill's `verify_backup` keys.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The file verified.
    pub path: PathBuf,
    /// The file exists.
    pub file_exists: bool,
    /// A `.sha256` sidecar exists.
    pub checksum_file_found: bool,
    /// The file's SHA-256 matched every checksum found (sidecar and manifest), and at least one.
    pub checksum_verified: bool,
    /// `PRAGMA integrity_check` returned exactly `ok`.
    pub database_integrity_ok: bool,
    /// Everything that failed, as sentences.
    pub errors: Vec<String>,
    /// Things that did not fail but deserve attention.
    pub warnings: Vec<String>,
    /// The verdict.
    pub status: VerifyStatus,
    /// A manifest names this file.
    pub manifest_found: bool,
    /// Every other member of the set listed in the manifest.
    pub members: Vec<MemberCheck>,
    /// The integrity check's lines.
    pub integrity_check: Vec<String>,
    /// ThyWill's required tables that are missing.
    pub missing_tables: Vec<String>,
    /// Rows per table.
    pub table_row_counts: BTreeMap<String, u64>,
    /// SHA-256 of the file.
    pub sha256: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
}

impl VerifyReport {
    /// True when the verdict is [`VerifyStatus::Ok`].
    pub fn is_ok(&self) -> bool {
        self.status == VerifyStatus::Ok
    }

    /// The report as an error when the verdict is not `Ok`: not-found, corrupt, or (for a
    /// missing checksum or a foreign database) invalid input.
    pub fn to_error(&self) -> Option<Error> {
        let detail = || format!("{}: {}", self.path.display(), self.errors.join("; "));
        match self.status {
            VerifyStatus::Ok => None,
            VerifyStatus::NotFound => Some(Error::NotFound {
                what: format!("backup {}", self.path.display()),
            }),
            VerifyStatus::Corrupt => Some(Error::Corrupt(detail())),
            VerifyStatus::NoChecksum | VerifyStatus::NotThywill | VerifyStatus::NotAFile => {
                Some(Error::InvalidInput(detail()))
            }
        }
    }
}

/// The manifest that belongs to a backup database file, if its name follows the scheme.
pub(crate) fn manifest_path_for(db: &Path) -> Option<PathBuf> {
    let name = db.file_name()?.to_str()?;
    let set = SetName::parse_database_file(name)?;
    Some(files::parent_dir(db).join(set.manifest_file()))
}

/// A read-only, lock-free, side-file-free connection: backup files are never written.
pub(crate) fn open_immutable(path: &Path) -> Result<Connection> {
    let mut uri = String::from("file:");
    for ch in path.to_string_lossy().chars() {
        match ch {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    Ok(Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?)
}

/// Verifies a backup database: SHA-256 against its sidecar and its manifest (and the other
/// members the manifest lists), `PRAGMA integrity_check` equal to exactly `ok`, and
/// ThyWill's tables present. Never fails for a bad backup: the verdict is in the report
/// (see [`VerifyReport::to_error`]); errors are for the verifier itself failing.
pub fn verify(
    path: &Path,
    options: &VerifyOptions,
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    audit::recorded(
        path,
        "backup.verify",
        audit::arguments([
            ("backup", json!(path)),
            ("require_checksum", json!(options.require_checksum)),
            ("full_integrity_check", json!(options.full_integrity_check)),
        ]),
        |report: &VerifyReport| {
            json!({
                "passed": report.errors.is_empty(),
                "errors": report.errors.len(),
                "warnings": report.warnings.len(),
            })
        },
        || verify_unrecorded(path, options, progress),
    )
}

fn verify_unrecorded(
    path: &Path,
    options: &VerifyOptions,
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    let mut report = VerifyReport {
        path: path.to_path_buf(),
        file_exists: false,
        checksum_file_found: false,
        checksum_verified: false,
        database_integrity_ok: false,
        errors: Vec::new(),
        warnings: Vec::new(),
        status: VerifyStatus::Ok,
        manifest_found: false,
        members: Vec::new(),
        integrity_check: Vec::new(),
        missing_tables: Vec::new(),
        table_row_counts: BTreeMap::new(),
        sha256: None,
        size: None,
    };
    match fs::metadata(path) {
        Ok(m) if m.is_file() => report.file_exists = true,
        Ok(m) => {
            report.errors.push(if m.is_dir() {
                format!("{} is a directory, not a backup file", path.display())
            } else {
                format!(
                    "{} is not a regular file, not a backup file",
                    path.display()
                )
            });
            report.status = VerifyStatus::NotAFile;
            return Ok(report);
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            report
                .errors
                .push(format!("Backup file not found: {}", path.display()));
            report.status = VerifyStatus::NotFound;
            return Ok(report);
        }
        Err(e) => return Err(Error::io(path, e)),
    }

    // Hashing and the integrity check each read the whole file: run them on both cores,
    // keeping progress (the hashing) on the caller's thread.
    let checking = {
        let owned = path.to_path_buf();
        let full = options.full_integrity_check;
        std::thread::spawn(move || check_sqlite(&owned, full))
    };
    let hashed = sha256_file(path, progress);
    let checked = checking
        .join()
        .unwrap_or_else(|_| Err(Error::Internal("integrity check thread panicked".into())));
    let (sha256, size) = hashed?;
    report.sha256 = Some(sha256.clone());
    report.size = Some(size);

    let mut corrupt = false;
    let mut checksums_seen = 0;
    let mut checksums_bad = 0;

    let sidecar = sidecar_path(path);
    match fs::read_to_string(&sidecar) {
        Ok(text) => {
            report.checksum_file_found = true;
            match parse_sidecar(&text) {
                Some(expected) => {
                    checksums_seen += 1;
                    if expected != sha256 {
                        checksums_bad += 1;
                        report.errors.push(format!(
                            "Checksum verification failed: {} says {expected}, file is {sha256}",
                            sidecar.display()
                        ));
                    }
                }
                None => {
                    corrupt = true;
                    report
                        .errors
                        .push(format!("{}: no SHA-256 digest in it", sidecar.display()));
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&sidecar, e)),
    }

    if let Some(manifest_path) = manifest_path_for(path).filter(|p| p.is_file()) {
        report.manifest_found = true;
        match read_manifest(&manifest_path) {
            Ok(manifest) => {
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                match manifest.members.iter().find(|m| m.file == file_name) {
                    Some(member) => {
                        checksums_seen += 1;
                        if member.sha256 != sha256 || member.size != size {
                            checksums_bad += 1;
                            report.errors.push(format!(
                                "Checksum verification failed: the manifest records {} bytes with {}, file has {size} bytes with {sha256}",
                                member.size, member.sha256
                            ));
                        }
                    }
                    None => report.warnings.push(format!(
                        "{} does not list {file_name}",
                        manifest_path.display()
                    )),
                }
                let dir = files::parent_dir(path);
                for member in manifest.members.iter().filter(|m| m.file != file_name) {
                    let member_path = dir.join(&member.file);
                    let ok = match sha256_file(&member_path, progress) {
                        Ok((h, n)) => h == member.sha256 && n == member.size,
                        Err(e) if e.kind() == crate::ErrorKind::NotFound => false,
                        Err(e) => return Err(e),
                    };
                    if !ok {
                        corrupt = true;
                        report.errors.push(format!(
                            "set member {} is missing or does not match the manifest",
                            member.file
                        ));
                    }
                    report.members.push(MemberCheck {
                        role: member.role,
                        file: member.file.clone(),
                        ok,
                    });
                }
            }
            Err(e) => {
                corrupt = true;
                report.errors.push(e.to_string());
            }
        }
    }
    report.checksum_verified = checksums_seen > 0 && checksums_bad == 0;
    corrupt |= checksums_bad > 0;

    match checked {
        Ok(check) => {
            report.database_integrity_ok = check.integrity.len() == 1 && check.integrity[0] == "ok";
            if !report.database_integrity_ok {
                corrupt = true;
                let shown: Vec<&str> = check
                    .integrity
                    .iter()
                    .take(10)
                    .map(String::as_str)
                    .collect();
                report.errors.push(format!(
                    "Database integrity check failed: {}",
                    shown.join("; ")
                ));
            }
            report.integrity_check = check.integrity;
            report.table_row_counts = check.row_counts;
            report.missing_tables = missing_tables(&report.table_row_counts);
        }
        Err(e) => {
            corrupt = true;
            report
                .errors
                .push(format!("Database integrity check error: {e}"));
        }
    }

    report.status = if corrupt {
        VerifyStatus::Corrupt
    } else if !report.missing_tables.is_empty() {
        report.errors.push(format!(
            "not a ThyWill database: missing tables {}",
            report.missing_tables.join(", ")
        ));
        VerifyStatus::NotThywill
    } else if checksums_seen == 0 {
        let message = "no checksum (neither a .sha256 sidecar nor a manifest): cannot prove the file is the one backed up";
        if options.require_checksum {
            report.errors.push(message.into());
            VerifyStatus::NoChecksum
        } else {
            report.warnings.push(message.into());
            VerifyStatus::Ok
        }
    } else if is_verified(
        &report.integrity_check,
        &report.table_row_counts,
        report.checksum_verified,
    ) {
        VerifyStatus::Ok
    } else {
        report.errors.push("the checks did not all pass".into());
        VerifyStatus::Corrupt
    };
    Ok(report)
}

struct SqliteCheck {
    integrity: Vec<String>,
    row_counts: BTreeMap<String, u64>,
}

fn check_sqlite(path: &Path, full: bool) -> Result<SqliteCheck> {
    let conn = open_immutable(path)?;
    let integrity = integrity_lines(
        &conn,
        if full {
            "integrity_check"
        } else {
            "quick_check"
        },
    )?;
    let row_counts = if integrity.len() == 1 && integrity[0] == "ok" {
        table_row_counts(&conn)?
    } else {
        BTreeMap::new()
    };
    Ok(SqliteCheck {
        integrity,
        row_counts,
    })
}
