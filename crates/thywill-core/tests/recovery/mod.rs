//! Disaster recovery on ThyWill's fixture communities, with real files, real processes and
//! kills: test-recovery, full-recovery and reconstruct (archives to database), heal and
//! validate (database to archives), sync (both), the consistency check and the recovery report.

pub(crate) mod support;

mod consistency;
mod crash;
mod fidelity;
mod full;
mod heal;
mod reconstruct;
mod references;
mod report;
mod sync;
mod test_recovery;
mod validate;
