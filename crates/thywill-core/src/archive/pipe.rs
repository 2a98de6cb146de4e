//! Shared machinery of the pipe-delimited record files written by ThyWill's
//! `Auth/Role/SystemArchiveWriter`s (spec §10–§12): a title line, a `Format:` line, one
//! blank line, then one `|`-separated record per line.
//!
//! Each record type implements [`PipeRecord`]; [`PipeFile`] renders and parses whole files
//! and [`PipeReader`] streams records with memory bounded by the longest line.
//!
//! Pipes inside values: ThyWill escapes nothing in most fields. Each record type names one
//! *absorbing* field (the one most likely to hold a raw `|`, usually a user name or free
//! text); when a line has more separators than the layout, the surplus stays inside that
//! field (a FIXABLE fix of §19.2 #16/#18: ThyWill shifts or drops such records). A raw `|`
//! in any other non-escaped field cannot be told apart and is documented per type.

use std::collections::VecDeque;
use std::io::BufRead;
use std::marker::PhantomData;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::lines::{self, Line, LineReader};
use super::timestamp::{self, HumanTime};
use crate::pycompat::datetime::{self, PyDateTime};

/// A record type of a pipe-delimited archive file.
pub trait PipeRecord: Sized {
    /// The title's fixed part: `"Authentication Requests"` for the monthly title
    /// `Authentication Requests for July 2025`, or the whole title when not [`Self::MONTHLY`].
    const TITLE: &'static str;
    /// The text after `Format: ` on the second line.
    const FORMAT: &'static str;
    /// Whether the title ends with ` for {Month YYYY}`.
    const MONTHLY: bool = true;
    /// The record's line, without the line terminator, exactly as ThyWill writes it.
    fn render_line(&self) -> String;
    /// Parses one record line (already stripped of its terminator).
    fn parse_line(line: &str) -> Result<Self, String>;
}

/// The title line of a pipe file, kept verbatim so re-rendering reproduces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipeHeader {
    /// The first line, e.g. `Authentication Requests for July 2025`.
    pub title: String,
}

impl PipeHeader {
    /// The header ThyWill writes for records of type `R` in the month of `month`
    /// (the month is ignored for non-monthly kinds).
    pub fn for_month<R: PipeRecord>(month: &impl chrono::Datelike) -> Self {
        let title = if R::MONTHLY {
            format!("{} for {}", R::TITLE, timestamp::ts_my(month))
        } else {
            R::TITLE.to_string()
        };
        PipeHeader { title }
    }

    /// The month named by a monthly title (`… for July 2025`), as its first day.
    pub fn month(&self) -> Option<NaiveDate> {
        let (_, my) = self.title.rsplit_once(" for ")?;
        parse_month_year(my)
    }

    /// The header bytes: title, `Format:` line and one blank line.
    pub fn render<R: PipeRecord>(&self) -> String {
        format!("{}\nFormat: {}\n\n", self.title, R::FORMAT)
    }
}

/// Parses `July 2025` (month name case-insensitive, as `strptime('%B %Y')`).
pub fn parse_month_year(s: &str) -> Option<NaiveDate> {
    let (m, y) = s.trim().split_once(' ')?;
    let month = datetime::MONTH_NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(m))?;
    if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, month as u32 + 1, 1)
}

/// A whole pipe file: optional header, records, and whether the last record ended with LF
/// (ThyWill's appends always do; `false` only for a file cut short).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipeFile<R> {
    /// The title line; `None` for a header-less fragment.
    pub header: Option<PipeHeader>,
    /// The records in file order.
    pub records: Vec<R>,
    /// Whether the file ends with a line terminator.
    pub final_newline: bool,
}

impl<R: PipeRecord> PipeFile<R> {
    /// A file with ThyWill's header for `month` and these records.
    pub fn new(month: &impl chrono::Datelike, records: Vec<R>) -> Self {
        PipeFile {
            header: Some(PipeHeader::for_month::<R>(month)),
            records,
            final_newline: true,
        }
    }

    /// The file's bytes as ThyWill writes them (header via `ATOMIC_CREATE`, then one
    /// `record + "\n"` append per record).
    pub fn render(&self) -> String {
        let mut out = match &self.header {
            Some(h) => h.render::<R>(),
            None => String::new(),
        };
        for r in &self.records {
            out.push_str(&r.render_line());
            out.push('\n');
        }
        if !self.final_newline && !self.records.is_empty() {
            out.pop();
        }
        out
    }

    /// Parses a whole file. Unreadable lines become diagnostics; the rest is kept.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let mut reader = PipeReader::<_, R>::new(bytes, path);
        let mut records = Vec::new();
        let mut diags = Vec::new();
        for item in reader.by_ref() {
            match item {
                Ok(r) => records.push(r),
                Err(d) => diags.push(d),
            }
        }
        let file = PipeFile {
            header: reader.header().cloned(),
            records,
            final_newline: reader.final_newline(),
        };
        (file, diags)
    }
}

/// Appends `record` to the monthly file at `path` as ThyWill's writers do (§3.5.F): the
/// header for `month` is created first if the file is missing (exclusively, so concurrent
/// first writers cannot clobber each other), then `record + "\n"` is appended under `flock`.
/// The folder must exist (ThyWill's writers create theirs at start-up).
pub fn append<R: PipeRecord>(
    path: &Path,
    month: &impl chrono::Datelike,
    record: &R,
) -> crate::Result<()> {
    let header = PipeHeader::for_month::<R>(month).render::<R>();
    super::fileops::append_monthly(path, &header, &record.render_line(), false)
}

/// The monthly file name ThyWill uses under its folder: `{YYYY}_{MM}_{suffix}.txt`, e.g.
/// `monthly_file_name(&t, "auth_requests")` → `2025_07_auth_requests.txt`.
pub fn monthly_file_name(month: &impl chrono::Datelike, suffix: &str) -> String {
    format!("{}_{suffix}.txt", timestamp::ym(month))
}

/// Re-renders a pipe file of record type `R` (for `thywill archive check`).
pub fn rerender<R: PipeRecord>(
    bytes: &[u8],
    path: Option<&Path>,
) -> crate::Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (file, diags) = PipeFile::<R>::parse(bytes, path);
    Ok((file.render().into_bytes(), diags))
}

/// Line source with one-line push-back, used by every streaming reader here.
pub(crate) struct Lines<B> {
    inner: LineReader<B>,
    back: VecDeque<Line>,
    pub(crate) last_terminated: bool,
}

impl<B: BufRead> Lines<B> {
    pub(crate) fn new(reader: B, path: Option<&Path>) -> Self {
        Lines {
            inner: LineReader::new(reader, path),
            back: VecDeque::new(),
            last_terminated: true,
        }
    }

    pub(crate) fn path(&self) -> Option<&Path> {
        self.inner.path()
    }

    pub(crate) fn push_back(&mut self, line: Line) {
        self.back.push_front(line);
    }

    pub(crate) fn diag(&self, line: usize, reason: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.inner.path(), line, reason)
    }
}

impl<B: BufRead> Iterator for Lines<B> {
    type Item = Result<Line, Diagnostic>;
    fn next(&mut self) -> Option<Self::Item> {
        let item = match self.back.pop_front() {
            Some(l) => Ok(l),
            None => self.inner.next()?,
        };
        if let Ok(l) = &item {
            self.last_terminated = l.terminated;
        }
        Some(item)
    }
}

/// Streams the records of a pipe file: `Iterator<Item = Result<R, Diagnostic>>`.
/// The header is read when the reader is created ([`PipeReader::header`]).
pub struct PipeReader<B, R> {
    lines: Lines<B>,
    header: Option<PipeHeader>,
    pending: VecDeque<Diagnostic>,
    _record: PhantomData<R>,
}

impl<B: BufRead, R: PipeRecord> PipeReader<B, R> {
    /// Reads the header of `reader` and prepares to stream records; `path` labels diagnostics.
    pub fn new(reader: B, path: Option<&Path>) -> Self {
        let mut lines = Lines::new(reader, path);
        let mut pending = VecDeque::new();
        let header = read_title_and_format(&mut lines, &mut pending, R::TITLE, R::FORMAT)
            .map(|title| PipeHeader { title });
        PipeReader {
            lines,
            header,
            pending,
            _record: PhantomData,
        }
    }

    /// The title line, if the file has one.
    pub fn header(&self) -> Option<&PipeHeader> {
        self.header.as_ref()
    }

    /// Whether the last line read ended with a terminator (meaningful once exhausted).
    pub fn final_newline(&self) -> bool {
        self.lines.last_terminated
    }

    /// The file path used in diagnostics.
    pub fn path(&self) -> Option<&Path> {
        self.lines.path()
    }
}

/// Reads `title`, `Format:` and the blank line. Returns the title when the first line starts
/// with `title_prefix`; otherwise pushes the line back (a header-less fragment).
pub(crate) fn read_title_and_format<B: BufRead>(
    lines: &mut Lines<B>,
    pending: &mut VecDeque<Diagnostic>,
    title_prefix: &str,
    format: &str,
) -> Option<String> {
    let first = loop {
        match lines.next() {
            Some(Ok(l)) => break l,
            Some(Err(d)) => pending.push_back(d),
            None => return None,
        }
    };
    if !first.text.starts_with(title_prefix) {
        lines.push_back(first);
        return None;
    }
    let title = first.text;
    match lines.next() {
        Some(Ok(l)) if l.text == format!("Format: {format}") => {}
        Some(Ok(l)) if l.text.starts_with("Format:") => pending.push_back(lines.diag(
            l.number,
            format!("unexpected Format line (expected `Format: {format}`)"),
        )),
        Some(Ok(l)) => {
            pending.push_back(lines.diag(l.number, "missing `Format:` line after the title"));
            lines.push_back(l);
            return Some(title);
        }
        Some(Err(d)) => pending.push_back(d),
        None => return Some(title),
    }
    match lines.next() {
        Some(Ok(l)) if l.text.is_empty() => {}
        Some(Ok(l)) => {
            pending.push_back(lines.diag(l.number, "missing blank line after the header"));
            lines.push_back(l);
        }
        Some(Err(d)) => pending.push_back(d),
        None => {}
    }
    Some(title)
}

impl<B: BufRead, R: PipeRecord> Iterator for PipeReader<B, R> {
    type Item = Result<R, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(d) = self.pending.pop_front() {
            return Some(Err(d));
        }
        loop {
            let line = match self.lines.next()? {
                Ok(l) => l,
                Err(d) => return Some(Err(d)),
            };
            if line.text.is_empty() {
                continue;
            }
            return Some(
                R::parse_line(&line.text).map_err(|reason| self.lines.diag(line.number, reason)),
            );
        }
    }
}

/// Splits `line` on `|` into exactly `n` fields. Surplus separators stay inside field
/// `absorb`; too few separators is an error naming the counts.
pub fn split_absorbing(line: &str, n: usize, absorb: usize) -> Result<Vec<&str>, String> {
    let pipes: Vec<usize> = line.match_indices('|').map(|(i, _)| i).collect();
    let found = pipes.len() + 1;
    if found < n || n == 0 {
        return Err(format!("expected {n} `|`-separated fields, found {found}"));
    }
    let absorb = absorb.min(n - 1);
    let extra = found - n;
    // Boundaries: field i spans (start_i, end_i); separators used are all pipes except the
    // `extra` ones right after the absorbing field's start.
    let mut used: Vec<usize> = Vec::with_capacity(n - 1);
    for (k, p) in pipes.iter().enumerate() {
        if k < absorb || k >= absorb + extra {
            used.push(*p);
        }
    }
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for p in used {
        out.push(line.get(start..p).unwrap_or_default());
        start = p + 1;
    }
    out.push(line.get(start..).unwrap_or_default());
    Ok(out)
}

/// Splits on `|` not preceded by a backslash: the export's `\|` escape (§14.1), which no
/// ThyWill importer honours (FIXABLE §19.2 #17). Exactly `n` fields; surplus unescaped
/// separators stay in field `absorb`.
pub fn split_escaped(line: &str, n: usize, absorb: usize) -> Result<Vec<&str>, String> {
    let bytes = line.as_bytes();
    let pipes: Vec<usize> = line
        .match_indices('|')
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || bytes.get(i - 1) != Some(&b'\\'))
        .collect();
    let found = pipes.len() + 1;
    if found < n || n == 0 {
        return Err(format!("expected {n} `|`-separated fields, found {found}"));
    }
    let absorb = absorb.min(n - 1);
    let extra = found - n;
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for (k, p) in pipes.iter().enumerate() {
        if k < absorb || k >= absorb + extra {
            out.push(line.get(start..*p).unwrap_or_default());
            start = p + 1;
        }
    }
    out.push(line.get(start..).unwrap_or_default());
    Ok(out)
}

/// The export's escape: `|` → `\|`.
pub fn escape_pipe(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Inverse of [`escape_pipe`].
pub fn unescape_pipe(s: &str) -> String {
    s.replace("\\|", "|")
}

/// The live writers' replacement: `|` → `_`.
pub fn underscore_pipe(s: &str) -> String {
    s.replace('|', "_")
}

/// Parses an ISO timestamp field (`fromisoformat` first, then the recovery fallbacks).
pub fn parse_iso(field: &str, what: &str) -> Result<PyDateTime, String> {
    if let Some(t) = datetime::py_fromisoformat(field) {
        return Ok(t);
    }
    match timestamp::parse_recovery_timestamp(field) {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(format!("empty {what} timestamp")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

/// Parses an optional ISO field: empty means `None`.
pub fn parse_opt_iso(field: &str, what: &str) -> Result<Option<PyDateTime>, String> {
    if field.is_empty() {
        Ok(None)
    } else {
        parse_iso(field, what).map(Some)
    }
}

/// `isoformat()` of an optional value, `''` for `None`.
pub fn render_opt_iso(t: &Option<PyDateTime>) -> String {
    t.as_ref().map(PyDateTime::isoformat).unwrap_or_default()
}

/// Parses a `TS_H` field leniently (strptime tolerance, then the recovery fallbacks),
/// keeping its exact text.
pub fn parse_human(field: &str, what: &str) -> Result<HumanTime, String> {
    let mut h = HumanTime::parse(field);
    if h.time.is_none() {
        match timestamp::parse_recovery_timestamp(field) {
            Ok(Some(t)) => h.time = Some(t.naive()),
            _ => return Err(format!("{what}: unsupported timestamp format: {field}")),
        }
    }
    Ok(h)
}

/// Parses `True`/`False` (case-insensitive); anything else is an error.
pub fn parse_py_bool(field: &str, what: &str) -> Result<bool, String> {
    if field.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if field.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(format!("{what}: expected True or False, found `{field}`"))
    }
}

/// Parses `yes`/`no` as the export and sessions files write them; like ThyWill's readers a
/// value starting with `y`/`t` is true, one starting with `n`/`f` false; anything else is
/// an error (ThyWill reads it as false).
pub fn parse_yes_no(field: &str, what: &str) -> Result<bool, String> {
    match field.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('y' | 't') => Ok(true),
        Some('n' | 'f') => Ok(false),
        _ => Err(format!("{what}: expected yes or no, found `{field}`")),
    }
}

/// `yes`/`no`.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// A whole-file reader helper: decodes and splits into normalised lines for the small
/// full-rewrite files, returning a diagnostic when the bytes are not UTF-8.
pub(crate) fn decode_lines(bytes: &[u8], path: Option<&Path>) -> Result<String, Diagnostic> {
    lines::decode_text(bytes, path).map(|(s, _)| s)
}

/// The shape of ThyWill's small full-rewrite snapshot files (sessions snapshot, role
/// definitions, system configuration): `<title_prefix><stamp>` on line 1, `format_line` on
/// line 2, one row per line, and a `<total_label>: <n>` trailer.
pub(crate) struct SnapshotLayout<'a> {
    /// Line 1 up to the stamp, e.g. `"Role Definitions - Updated "`.
    pub title_prefix: &'a str,
    /// Line 2 exactly.
    pub format_line: &'a str,
    /// The trailer's label, e.g. `"Total roles"`.
    pub total_label: &'a str,
    /// The diagnostic for a trailer whose count does not parse.
    pub bad_total: &'a str,
}

/// A parsed snapshot file: the title's stamp, the rows, and the trailer's count (the
/// number of rows when the trailer is missing).
pub(crate) struct Snapshot<T> {
    pub stamp: String,
    pub rows: Vec<T>,
    pub total: u64,
}

/// Parses a snapshot file of `layout`; rows that `parse_row` refuses, a bad trailer and a
/// missing trailer become diagnostics.
pub(crate) fn parse_snapshot<T>(
    bytes: &[u8],
    path: Option<&Path>,
    layout: &SnapshotLayout<'_>,
    mut parse_row: impl FnMut(&str) -> Result<T, String>,
) -> (Snapshot<T>, Vec<Diagnostic>) {
    let mut file = Snapshot {
        stamp: String::new(),
        rows: Vec::new(),
        total: 0,
    };
    let content = match decode_lines(bytes, path) {
        Ok(c) => c,
        Err(d) => return (file, vec![d]),
    };
    let mut diags = Vec::new();
    let mut saw_total = false;
    let total_prefix = format!("{}: ", layout.total_label);
    for (i, line) in content.split('\n').enumerate() {
        let n = i + 1;
        if let Some(stamp) = line.strip_prefix(layout.title_prefix).filter(|_| n == 1) {
            file.stamp = stamp.to_string();
        } else if line.is_empty() || (n == 2 && line == layout.format_line) {
        } else if let Some(t) = line.strip_prefix(total_prefix.as_str()) {
            match t.parse() {
                Ok(v) => {
                    file.total = v;
                    saw_total = true;
                }
                Err(_) => diags.push(Diagnostic::new(path, n, layout.bad_total)),
            }
        } else {
            match parse_row(line) {
                Ok(row) => file.rows.push(row),
                Err(e) => diags.push(Diagnostic::new(path, n, e)),
            }
        }
    }
    if !saw_total {
        file.total = file.rows.len() as u64;
        diags.push(Diagnostic::new(
            path,
            0,
            format!("missing `{}` trailer", layout.total_label),
        ));
    }
    (file, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absorbing_split_keeps_surplus_in_the_named_field() {
        assert_eq!(split_absorbing("a|b|c", 3, 1).unwrap(), vec!["a", "b", "c"]);
        assert_eq!(
            split_absorbing("a|b|x|c", 3, 1).unwrap(),
            vec!["a", "b|x", "c"]
        );
        assert_eq!(
            split_absorbing("a|b|c|d", 3, 2).unwrap(),
            vec!["a", "b", "c|d"]
        );
        assert_eq!(
            split_absorbing("a|b|c|d", 3, 0).unwrap(),
            vec!["a|b", "c", "d"]
        );
        assert!(split_absorbing("a|b", 3, 1).is_err());
        assert_eq!(
            split_escaped("a|x\\|y|c", 3, 1).unwrap(),
            vec!["a", "x\\|y", "c"]
        );
    }

    #[test]
    fn month_titles_parse() {
        let h = PipeHeader {
            title: "Sessions for July 2025".into(),
        };
        assert_eq!(h.month(), NaiveDate::from_ymd_opt(2025, 7, 1));
    }
}
