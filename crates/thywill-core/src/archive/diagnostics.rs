//! The located [`Diagnostic`] that every archive parser reports instead of failing, and
//! the bounds that keep reports short whatever the input.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// A located problem found while reading an archive file. Parsers never panic
/// and never drop a line silently: every unreadable line becomes one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file, when known.
    pub path: Option<PathBuf>,
    /// 1-based line number; 0 when the whole file is at fault.
    pub line: usize,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl Diagnostic {
    /// A diagnostic for `line` of the file at `path`. A long reason (one quoting a long
    /// line) is cut as [`bounded_reason`] cuts it.
    pub fn new(path: Option<&Path>, line: usize, reason: impl Into<String>) -> Self {
        Diagnostic {
            path: path.map(Path::to_path_buf),
            line,
            reason: bounded_reason(reason.into()),
        }
    }
}

/// Diagnostics a report lists per file (see [`bound_diagnostics`]).
pub const MAX_DIAGNOSTICS_PER_FILE: usize = 50;

/// The first [`MAX_DIAGNOSTICS_PER_FILE`] diagnostics, then one saying how many more there
/// were (line 0: the whole file), so a file of garbage gives a short report.
pub fn bound_diagnostics(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    if diagnostics.len() > MAX_DIAGNOSTICS_PER_FILE {
        let more = diagnostics.len() - MAX_DIAGNOSTICS_PER_FILE;
        diagnostics.truncate(MAX_DIAGNOSTICS_PER_FILE);
        let path = diagnostics.first().and_then(|d| d.path.clone());
        diagnostics.push(Diagnostic {
            path,
            line: 0,
            reason: format!("{more} more diagnostics, not listed"),
        });
    }
    diagnostics
}

/// Reasons longer than this many characters are cut (see [`bounded_reason`]).
pub const MAX_REASON_CHARS: usize = 240;

/// Characters of a cut reason that are kept.
const KEPT_REASON_CHARS: usize = 200;

/// `reason` itself, or, when it is longer than [`MAX_REASON_CHARS`] characters (it quotes
/// a line of a damaged file: a 10 MB file without a newline is one line), its first 200
/// characters followed by `… (N characters in all)`. Reports stay short whatever the input.
pub fn bounded_reason(reason: String) -> String {
    if reason.len() <= MAX_REASON_CHARS {
        return reason;
    }
    let mut chars = reason.char_indices();
    let Some((cut, _)) = chars.nth(KEPT_REASON_CHARS) else {
        return reason;
    };
    let total = KEPT_REASON_CHARS + 1 + chars.count();
    if total <= MAX_REASON_CHARS {
        return reason;
    }
    let mut out = String::with_capacity(cut + 32);
    out.push_str(reason.get(..cut).unwrap_or_default());
    out.push_str(&format!("… ({total} characters in all)"));
    out
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}:{}: {}", p.display(), self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

impl std::error::Error for Diagnostic {}

impl From<Diagnostic> for crate::Error {
    fn from(d: Diagnostic) -> Self {
        crate::Error::ArchiveFormat {
            path: d.path.unwrap_or_default(),
            line: d.line,
            reason: d.reason,
        }
    }
}
