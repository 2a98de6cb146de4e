//! ThyWill's text archive format (spec: archive-format.md).
//!
//! - [`text`]: shared primitives (timestamp renderings, Python-compatible parsing and
//!   rendering rules, the streaming line reader, [`text::Diagnostic`]).
//! - [`fileops`]: atomic creates and `flock`-ed appends, safe next to ThyWill's own writers.
//! - [`layout`]: file locations and the path strings ThyWill stores.
//! - [`prayer`]: per-prayer files (§4); [`categorization`]: their categorization block.
//! - [`users`]: monthly registrations (§5); [`activity`]: monthly activity log (§6);
//!   [`ledger`]: monthly attributes/marks/skips (§7).
//! - [`writer`]: the archive-first write API of ThyWill's `TextArchiveService`.
//! - [`kind`]: file kinds by path, re-rendering and `check_tree`.

pub mod activity;
pub mod categorization;
pub mod fileops;
pub mod kind;
pub mod layout;
pub mod ledger;
pub mod prayer;
pub mod text;
pub mod users;

pub use text::Diagnostic;
