//! ThyWill's text archive format (spec: archive-format.md).
//!
//! - [`text`]: shared primitives (timestamp renderings, Python-compatible parsing and
//!   rendering rules, the streaming line reader, [`text::Diagnostic`]).
//! - [`fileops`]: atomic creates and `flock`-ed appends, safe next to ThyWill's own writers.
//! - [`layout`]: file locations and the path strings ThyWill stores.

pub mod fileops;
pub mod layout;
pub mod text;

pub use text::Diagnostic;
