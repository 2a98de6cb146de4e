//! Disaster recovery: test-recovery and full-recovery on ThyWill's fixture communities, with
//! real files, real processes and kills.

mod support;

mod crash;
mod fidelity;
mod full;
mod test_recovery;
