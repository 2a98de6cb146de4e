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
//! - [`pipe`]: shared pipe-file machinery; [`user_attributes`] (§8), [`sessions`] (§9),
//!   [`auth`] (§10), [`roles`] (§11), [`system`] (§12), [`event_log`] and
//!   [`current_state`] (§13), [`export`] (§14), [`membership`] (§15).

pub mod activity;
pub mod auth;
pub mod categorization;
pub mod current_state;
pub mod event_log;
pub mod export;
pub mod fileops;
pub mod kind;
pub mod layout;
pub mod ledger;
pub mod membership;
pub mod parsed;
pub mod pipe;
pub mod prayer;
pub mod roles;
pub mod sessions;
pub mod system;
pub mod text;
pub mod user_attributes;
pub mod users;
pub mod writer;

pub use text::Diagnostic;
