//! Disaster recovery from the text archives (docs/recovery.md).

mod reconstruct;

pub use reconstruct::{
    reconstruct_from_archives, reconstruct_in, ReconstructOptions, ReconstructReport,
    RelationshipCounts, SessionsDropped, Unresolved,
};
