//! ThyWill's text archive format (`docs/format.md`).
//!
//! Reading and writing any file:
//! - [`diagnostics`]: the located [`Diagnostic`] parsers report, and its bounds.
//! - [`lines`]: reading files as lines (UTF-8, BOM, universal newlines) and re-rendering.
//! - [`timestamp`]: the archive's timestamp formats, [`timestamp::HumanTime`] and the
//!   recovery timestamp parser (the Python rules beneath are in [`crate::pycompat`]).
//! - [`fields`]: the fields of a one-line record: `|` splitting and escapes, timestamps,
//!   booleans.
//! - [`record`]: the one [`record::Record`] trait of one-line records, and the one reader
//!   of files made of them ([`record::RecordReader`]).
//! - [`fileops`]: atomic creates and `flock`-ed appends, safe next to ThyWill's own writers.
//! - [`layout`]: file locations and the path strings ThyWill stores.
//!
//! One module per file kind:
//! - [`prayer`]: per-prayer files; [`categorization`]: their categorization block.
//! - [`users`]: monthly registrations; [`activity`]: monthly activity log; [`ledger`]:
//!   monthly attributes/marks/skips.
//! - [`user_attributes`]: user flags; [`sessions`]: the sessions file (live and export).
//! - [`pipe`]: the pipe-delimited monthly files, whose records are in [`auth`], [`roles`]
//!   and [`system`] (with those folders' snapshot files).
//! - [`event_log`] and [`current_state`]: `system/event_log/` and `system/current_state/`.
//! - [`export`]: export-all files and the legacy `database_exports/`; [`membership`]:
//!   membership applications.
//!
//! Over all kinds:
//! - [`kind`]: file kinds by path, and the re-renderer of each kind.
//! - [`check`]: `check_tree`, every file of a tree re-rendered and compared.
//! - [`parsed`]: any file, by its kind, into plain data (for the front ends).
//! - [`writer`]: the archive-first write API of ThyWill's `TextArchiveService`.
//!
//! Writers produce ThyWill's exact bytes; parsers are tolerant, fix ThyWill's reader defects
//! (see `docs/format-fixes.md`) and report every unreadable line as a [`Diagnostic`].
//!
//! ```
//! use chrono::NaiveDate;
//! use thywill_core::archive::prayer::{self, ActivityAction, PrayerArchive};
//! use thywill_core::archive::writer::{ArchiveWriter, Clock};
//!
//! let dir = tempfile::tempdir()?;
//! let at = NaiveDate::from_ymd_opt(2025, 7, 6).unwrap().and_hms_opt(9, 5, 0).unwrap();
//! let writer = ArchiveWriter::new(dir.path()).with_clock(Clock::Fixed(at));
//! let mut record = PrayerArchive::new("abc123", "Mary Jo", at, "Please pray for my mom.");
//! record.generated_prayer = Some("Lord, heal her.".into());
//! let path = writer.create_prayer_archive_first(&record)?.expect("archives enabled");
//! writer.append_prayer_activity(&path, "Bob Smith", &ActivityAction::Prayed)?;
//!
//! let (parsed, diagnostics) = prayer::parse_bytes(&std::fs::read(&path)?, Some(&path));
//! assert!(diagnostics.is_empty());
//! assert_eq!(parsed.activities[0].actor, "Bob Smith");
//! assert_eq!(parsed.render(), std::fs::read_to_string(&path)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod activity;
pub mod auth;
pub mod categorization;
pub mod check;
pub mod current_state;
pub mod diagnostics;
pub mod event_log;
pub mod export;
pub mod fields;
pub mod fileops;
pub mod kind;
pub mod layout;
pub mod ledger;
pub mod lines;
pub mod membership;
pub mod parsed;
pub mod pipe;
pub mod prayer;
pub mod record;
pub mod roles;
pub mod sessions;
mod snapshot;
pub mod system;
pub mod timestamp;
pub mod user_attributes;
pub mod users;
pub mod writer;

pub use diagnostics::Diagnostic;
