//! File-system helpers that several domains share: the deterministic ZIP writer (backups'
//! text-archive ZIPs, downloads) and path confinement for names taken from data (ZIP
//! import's entry names, the stored paths and display names downloads turn into paths).

pub(crate) mod confine;
pub(crate) mod zip;
