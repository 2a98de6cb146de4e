//! The pipe-delimited record files written by ThyWill's `Auth/Role/SystemArchiveWriter`s
//! (the monthly files of `auth/`, `roles/` and `system/`): a title line, a `Format:` line,
//! one blank line, then one `|`-separated record per line.
//!
//! A record kind of these files implements [`Record`] (its line) and [`PipeRecord`] (its
//! title and `Format:` line); [`PipeFile`] renders and parses whole files and [`PipeReader`]
//! streams records with memory bounded by the longest line.

use std::io::BufRead;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use super::diagnostics::Diagnostic;
use super::lines::Lines;
use super::record::{FileHeader, HeaderRead, Record, RecordReader};
use super::timestamp;
use crate::pycompat::datetime;

/// A [`Record`] that is a line of a pipe file: it names the file's title and `Format:` line.
pub trait PipeRecord: Record {
    /// The title's fixed part: `"Authentication Requests"` for the monthly title
    /// `Authentication Requests for July 2025`, or the whole title when not [`Self::MONTHLY`].
    const TITLE: &'static str;
    /// The text after `Format: ` on the second line.
    const FORMAT: &'static str;
    /// Whether the title ends with ` for {Month YYYY}`.
    const MONTHLY: bool = true;
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

/// Reads the title, `Format:` and the blank line. A first line that does not start with
/// the record kind's title is pushed back: the file is a header-less fragment.
impl<R: PipeRecord> FileHeader<R> for PipeHeader {
    fn read<B: BufRead>(lines: &mut Lines<B>) -> HeaderRead<Self> {
        let mut read = HeaderRead::none();
        let first = loop {
            match lines.next() {
                Some(Ok(l)) => break l,
                Some(Err(d)) => read.diagnostics.push(d),
                None => return read,
            }
        };
        if !first.text.starts_with(R::TITLE) {
            lines.push_back(first);
            return read;
        }
        read.header = Some(PipeHeader { title: first.text });
        let format = R::FORMAT;
        match lines.next() {
            Some(Ok(l)) if l.text == format!("Format: {format}") => {}
            Some(Ok(l)) if l.text.starts_with("Format:") => read.diagnostics.push(lines.diag(
                l.number,
                format!("unexpected Format line (expected `Format: {format}`)"),
            )),
            Some(Ok(l)) => {
                read.diagnostics
                    .push(lines.diag(l.number, "missing `Format:` line after the title"));
                lines.push_back(l);
                return read;
            }
            Some(Err(d)) => read.diagnostics.push(d),
            None => return read,
        }
        match lines.next() {
            Some(Ok(l)) if l.text.is_empty() => {}
            Some(Ok(l)) => {
                read.diagnostics
                    .push(lines.diag(l.number, "missing blank line after the header"));
                lines.push_back(l);
            }
            Some(Err(d)) => read.diagnostics.push(d),
            None => {}
        }
        read
    }
}

/// Parses `July 2025` (month name case-insensitive, as `strptime('%B %Y')`).
pub(crate) fn parse_month_year(s: &str) -> Option<NaiveDate> {
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
        let read = PipeReader::<_, R>::new(bytes, path).read_all();
        let file = PipeFile {
            header: read.header,
            records: read.records,
            final_newline: read.final_newline,
        };
        (file, read.diagnostics)
    }
}

/// Streams the records of a pipe file: `Iterator<Item = Result<R, Diagnostic>>`.
/// The header is read when the reader is created ([`RecordReader::header`]).
pub type PipeReader<B, R> = RecordReader<B, R, PipeHeader>;

/// Appends `record` to the monthly file at `path` as ThyWill's writers do: the header for
/// `month` is created first if the file is missing (exclusively, so concurrent first
/// writers cannot clobber each other), then `record + "\n"` is appended under `flock`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_titles_parse() {
        let h = PipeHeader {
            title: "Sessions for July 2025".into(),
        };
        assert_eq!(h.month(), NaiveDate::from_ymd_opt(2025, 7, 1));
    }
}
