//! Disaster recovery from the text archives (docs/recovery.md).
//!
//! - [`compare`]: two databases compared table by table on the fields the text carries,
//!   with the documented list of what it cannot carry.
//! - [`test_recovery`]: rebuild into a scratch database and compare; touches nothing.
//! - [`full_recovery`]: rebuild into a new file and swap it in through the restore path,
//!   or merge into the existing database.

pub mod compare;
mod full_recovery;
mod rebuild;
mod test_recovery;

pub use compare::{compare_databases, Comparison, TableComparison};
pub use full_recovery::{full_recovery, FullRecoveryOptions, FullRecoveryReport, RecoveryMode};
pub use rebuild::{recovery_stats, RECOVERY_STATS};
pub use test_recovery::{test_recovery, TestRecoveryOptions, TestRecoveryReport};
