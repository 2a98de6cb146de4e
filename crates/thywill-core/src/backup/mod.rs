//! Database backups: create, verify, list, restore (and schema-upgrading restore),
//! retention and remote copies.
//!
//! A *backup set* lives in `<root>/<tier>/` and is named after ThyWill's own scheme:
//!
//! ```text
//! thywill_<tier>_<YYYYMMDD_HHMMSS>.db              the database (SQLite online backup, DELETE journal mode)
//! thywill_<tier>_<YYYYMMDD_HHMMSS>.db.sha256       `sha256sum -c` line naming the bare file
//! thywill_<tier>_<YYYYMMDD_HHMMSS>.manifest.json   every member with size and sha256, plus the check results
//! thywill_<tier>_<YYYYMMDD_HHMMSS>.text_archives.zip   optional: the text archives
//! thywill_<tier>_<YYYYMMDD_HHMMSS>.email.db            optional: the email database
//! ```
//!
//! Pre-restore safety backups use the same layout in `<root>/pre_restore/` with names
//! `pre_restore_<YYYYMMDD_HHMMSS>.db`. Every file is written under a temporary name, fsynced,
//! renamed and its folder fsynced, with mode 0600.
//!
//! The timestamp in a name is the local wall-clock time of the backup (as ThyWill's scripts
//! name them); retention judges age by that timestamp, never by mtime.

mod cleanup;
mod create;
pub(crate) mod files;
mod list;
mod locate;
mod offsite;
mod openers;
pub mod remote;
pub(crate) mod restore;
pub mod retention;
mod stale;
mod upgrade;
mod verify;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

pub use cleanup::{cleanup, CleanupAction, CleanupOptions, CleanupReport};
pub(crate) use create::online_backup;
pub use create::{create, CreateOptions, CreateReport};
pub use files::{
    read_manifest, sha256_file, Manifest, ManifestMember, MemberRole, SourceIdentity, SourceKind,
    Verification, MANIFEST_FORMAT,
};
pub use list::{list, BackupEntry, ListOptions, ListReport, Location, RemoteFailure};
pub use locate::{backup_root, email_database_path};
pub use offsite::{
    create_and_copy, restore_from_remote, CreateAndCopyReport, RestoreFromRemoteReport,
};
pub use openers::OpenProcess;
pub use restore::{restore, LockPolicy, RestoreMode, RestoreOptions, RestoreReport};
pub use stale::staging_dir;
pub use upgrade::{SchemaChange, SchemaUpgradeReport};
pub use verify::{is_verified, verify, MemberCheck, VerifyOptions, VerifyReport, VerifyStatus};

/// The format of the timestamp embedded in backup names (local time, second precision).
pub(crate) const NAME_TIME_FORMAT: &str = "%Y%m%d_%H%M%S";

/// How often a backup is taken; decides its folder, its name and its retention window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Kept for 48 hours by default.
    Hourly,
    /// Kept for 30 days by default.
    Daily,
    /// Kept for 12 weeks by default.
    Weekly,
}

impl Tier {
    /// Every tier, in display order.
    pub const ALL: [Tier; 3] = [Tier::Hourly, Tier::Daily, Tier::Weekly];

    /// The lowercase name used in folders and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Hourly => "hourly",
            Tier::Daily => "daily",
            Tier::Weekly => "weekly",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "hourly" => Ok(Tier::Hourly),
            "daily" => Ok(Tier::Daily),
            "weekly" => Ok(Tier::Weekly),
            other => Err(crate::Error::InvalidInput(format!(
                "unknown backup tier {other:?} (expected hourly, daily or weekly)"
            ))),
        }
    }
}

/// What kind of backup set a name denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupKind {
    /// A scheduled backup of the given tier.
    Tier(Tier),
    /// A safety backup taken just before a restore replaced the database.
    PreRestore,
}

impl BackupKind {
    /// The folder (under the backup root) holding sets of this kind.
    pub fn folder(self) -> &'static str {
        match self {
            BackupKind::Tier(t) => t.as_str(),
            BackupKind::PreRestore => "pre_restore",
        }
    }

    /// The name prefix before the timestamp.
    fn prefix(self) -> &'static str {
        match self {
            BackupKind::Tier(Tier::Hourly) => "thywill_hourly_",
            BackupKind::Tier(Tier::Daily) => "thywill_daily_",
            BackupKind::Tier(Tier::Weekly) => "thywill_weekly_",
            BackupKind::PreRestore => "pre_restore_",
        }
    }

    /// Every kind, in display order.
    pub const ALL: [BackupKind; 4] = [
        BackupKind::Tier(Tier::Hourly),
        BackupKind::Tier(Tier::Daily),
        BackupKind::Tier(Tier::Weekly),
        BackupKind::PreRestore,
    ];
}

impl fmt::Display for BackupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.folder())
    }
}

/// The parsed name of a backup set: its kind and the timestamp it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SetName {
    /// Tier or pre-restore.
    pub kind: BackupKind,
    /// The local time written in the name.
    pub timestamp: NaiveDateTime,
}

impl SetName {
    /// A name for a set of `kind` taken at `timestamp` (sub-second precision is dropped).
    pub fn new(kind: BackupKind, timestamp: NaiveDateTime) -> Self {
        use chrono::Timelike;
        let timestamp = timestamp.with_nanosecond(0).unwrap_or(timestamp);
        SetName { kind, timestamp }
    }

    /// The stem shared by every member, e.g. `thywill_daily_20250101_020000`.
    pub fn stem(&self) -> String {
        format!(
            "{}{}",
            self.kind.prefix(),
            self.timestamp.format(NAME_TIME_FORMAT)
        )
    }

    /// The database file name, e.g. `thywill_daily_20250101_020000.db`.
    pub fn database_file(&self) -> String {
        format!("{}.db", self.stem())
    }

    /// The manifest file name.
    pub fn manifest_file(&self) -> String {
        format!("{}.manifest.json", self.stem())
    }

    /// The path of the set's database under `root`.
    pub fn database_path(&self, root: &Path) -> PathBuf {
        root.join(self.kind.folder()).join(self.database_file())
    }

    /// Parses a database file name (`thywill_<tier>_<ts>.db` or `pre_restore_<ts>.db`).
    pub fn parse_database_file(file_name: &str) -> Option<SetName> {
        let stem = file_name.strip_suffix(".db")?;
        Self::parse_stem(stem)
    }

    /// Parses a set stem (a database file name without `.db`).
    pub fn parse_stem(stem: &str) -> Option<SetName> {
        BackupKind::ALL.iter().find_map(|kind| {
            let ts = stem.strip_prefix(kind.prefix())?;
            // The format is fixed-width; chrono would also accept e.g. single-digit fields.
            if ts.len() != 15 {
                return None;
            }
            let timestamp = NaiveDateTime::parse_from_str(ts, NAME_TIME_FORMAT).ok()?;
            Some(SetName {
                kind: *kind,
                timestamp,
            })
        })
    }
}

/// A set's name as people write it: its stem (`thywill_daily_20250101_020000`,
/// `pre_restore_20250101_020000`) or its database file name (the stem and `.db`). Every
/// front end reads set names through this; anything else is [`crate::Error::InvalidInput`].
impl FromStr for SetName {
    type Err = crate::Error;

    fn from_str(text: &str) -> crate::Result<Self> {
        let stem = text.strip_suffix(".db").unwrap_or(text);
        SetName::parse_stem(stem).ok_or_else(|| {
            crate::Error::InvalidInput(format!(
                "{text:?} is not a backup set name (thywill_<tier>_<YYYYMMDD_HHMMSS> or pre_restore_<YYYYMMDD_HHMMSS>, optionally with .db)"
            ))
        })
    }
}

impl fmt::Display for SetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.stem())
    }
}

/// The tables whose presence marks a file as a ThyWill database. Missing ones are an error in
/// `verify` (a backup of some other database is not a ThyWill backup).
pub(crate) fn required_tables() -> &'static [&'static str] {
    upgrade::required_tables()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reject_near_misses() {
        let ts = NaiveDateTime::parse_from_str("20250102_030405", NAME_TIME_FORMAT).unwrap();
        let name = SetName::new(BackupKind::Tier(Tier::Hourly), ts);
        assert_eq!(name.database_file(), "thywill_hourly_20250102_030405.db");
        assert_eq!(
            SetName::parse_database_file("thywill_hourly_20250102_030405.db"),
            Some(name)
        );
        let pre = SetName::parse_database_file("pre_restore_20250102_030405.db").unwrap();
        assert_eq!(pre.kind, BackupKind::PreRestore);
        for bad in [
            "thywill_hourly_20250102_03045.db",
            "thywill_monthly_20250102_030405.db",
            "thywill_daily_20251302_030405.db",
            "thywill_daily_20250102_030405.db.sha256",
            "thywill_backup_20250102_030405.db",
        ] {
            assert_eq!(SetName::parse_database_file(bad), None, "{bad}");
        }
    }
}
