//! Disaster recovery between the database and the text archives (docs/recovery.md).
//!
//! From the archives to the database:
//! - [`compare`]: two databases compared table by table on the fields the text carries,
//!   with the documented list of what it cannot carry.
//! - [`test_recovery`]: rebuild into a scratch database and compare; touches nothing.
//! - [`full_recovery`]: rebuild into a new file and swap it in through the restore path,
//!   or merge into the existing database.
//! - [`reconstruct_from_archives`]: the relationships of an existing database (orphans,
//!   inviters, roles and grants, invite tokens, sessions) repaired from the archives.
//!
//! From the database to the archives ("archive care"):
//! - [`heal`]: the database written back into the archives (`heal-archives`).
//! - [`sync_users`]: the registrations part of heal alone (`sync-users`).
//! - [`sync`]: both directions, import then heal (`sync-archives`).
//! - [`validate`]: archives and database checked against each other, read-only
//!   (`validate-archives`).
//! - [`repair_archive_references`]: prayers without a stored path pointed at their file
//!   (ThyWill's `repair_missing_archive_references`).
//!
//! Both ways at once, read-only:
//! - [`validate_consistency`]: archives against the database field by field, scored
//!   (`validate-consistency`; with `fix`, heal writes what the archives lack).
//! - [`relationship_integrity`]: rows naming a user the database lacks, counted.
//! - [`recovery_report`]: per table the share the archives would bring back, the newest
//!   verified backup, and one readiness verdict (`recovery-report`).

pub mod compare;
mod consistency;
mod full_recovery;
pub mod heal;
mod heal_activity;
mod heal_records;
mod integrity;
mod rebuild;
mod reconstruct;
mod references;
mod report;
pub mod sync;
pub mod sync_users;
mod test_recovery;
pub mod validate;

pub use compare::{compare_databases, Comparison, TableComparison};
pub use consistency::{
    validate_consistency, ConsistencyOptions, ConsistencyReport, ConsistencyStats, DifferenceKind,
    EntityConsistency, EntityStatus, RecordDifference, ScoreBand, MAX_DIFFERENCES_PER_ENTITY,
};
pub use full_recovery::{full_recovery, FullRecoveryOptions, FullRecoveryReport, RecoveryMode};
pub use integrity::{relationship_integrity, IntegrityReport};
pub use rebuild::{recovery_stats, RECOVERY_STATS};
pub use reconstruct::{
    reconstruct_from_archives, reconstruct_in, ReconstructOptions, ReconstructReport,
    RelationshipCounts, SessionsDropped, Unresolved,
};
pub use references::{
    repair_archive_references, ReferenceRepair, RepairReferencesOptions, RepairReferencesReport,
};
pub use report::{
    recovery_report, ArchiveCapability, BackupState, EntityRecovery, NewestBackup, Readiness,
    ReadinessReason, ReadinessReasonKind, RecoveryReport, RecoveryReportOptions,
    DEFAULT_MAX_BACKUP_AGE_HOURS,
};
pub use test_recovery::{test_recovery, TestRecoveryOptions, TestRecoveryReport};
