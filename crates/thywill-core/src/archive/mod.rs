//! ThyWill's text archive format (spec: archive-format.md).
//!
//! - [`text`]: shared primitives (timestamp renderings, Python-compatible parsing and
//!   rendering rules, the streaming line reader, [`text::Diagnostic`]).

pub mod text;

pub use text::Diagnostic;
