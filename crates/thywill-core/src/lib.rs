//! thywill-core: ThyWill's backup, archive, import and disaster-recovery engine.
//!
//! Modules mirror the domain:
//! - [`archive`]: the text archive format (typed records, byte-identical renderers,
//!   tolerant parsers, file layout, atomic and locked writes, the archive-first write API).
//! - [`db`]: ThyWill's SQLite database (schema, value encodings, live-safe access).
//! - [`import`]: text archives, JSON prayers and single prayer files into the database.
//! - [`backup`]: database backups, verification, restore, retention and remote copies.
//! - [`download`]: users' and the community's archive ZIPs, metadata, listing, one
//!   prayer's file, cleanup of old downloads, under written privacy rules.
//! - [`audit`]: the audit trail, one JSON line per operation on user data.
//! - [`recovery`]: disaster recovery from the text archives (test and full recovery).
//! - `fsutil` (internal): the deterministic ZIP writer and path confinement that backups,
//!   import and downloads share.
//! - [`pycompat`]: the Python formatting and parsing rules both depend on (`repr(float)`,
//!   `json.dumps`, `isoformat`, `strptime`, `str.strip`, `int()`, `float()`).
//!
//! The core prints nothing: operations return serialisable reports and take a
//! [`progress::Progress`] sink.

#![warn(missing_docs, unreachable_pub)]

pub mod archive;
pub mod audit;
pub mod backup;
pub mod db;
pub mod download;
pub mod error;
pub(crate) mod fsutil;
pub mod import;
pub mod progress;
pub mod pycompat;
pub mod recovery;
pub mod sessions;

pub use error::{Error, ErrorKind, Result};

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
