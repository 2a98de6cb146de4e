//! The layout of an export data file: `{title} (exported {TS_H})`, `Format: …`, two empty
//! lines, then the rows joined by LF, with **no final LF**.

use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use crate::archive::diagnostics::Diagnostic;
use crate::archive::fields::parse_human;
use crate::archive::lines::Lines;
use crate::archive::record::{FileHeader, HeaderRead, Record, RecordReader};
use crate::archive::timestamp::HumanTime;

/// A [`Record`] that is a row of an export data file: it names the file's `Format:` line.
pub trait ExportRecord: Record {
    /// The text after `Format: `.
    const FORMAT: &'static str;
}

/// The export's title line, e.g. `Prayer Marks (exported November 26 2026 at 13:24)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportHeader {
    /// `Prayer Marks`, or `Security Events for July 2025`.
    pub title: String,
    /// The `utcnow()` of the export.
    pub exported_at: HumanTime,
}

impl ExportHeader {
    /// The header bytes for rows of type `R` (title, Format, two empty lines).
    pub fn render<R: ExportRecord>(&self) -> String {
        format!(
            "{} (exported {})\nFormat: {}\n\n\n",
            self.title,
            self.exported_at,
            R::FORMAT
        )
    }

    fn parse(line: &str) -> Option<Self> {
        let (title, rest) = line.rsplit_once(" (exported ")?;
        let ts = rest.strip_suffix(')')?;
        Some(ExportHeader {
            title: title.to_string(),
            exported_at: parse_human(ts, "exported").ok()?,
        })
    }
}

/// Reads the title and the `Format:` line. When the `Format:` line names another layout
/// (other ThyWill versions wrote e.g. 5-field approvals), every row is reported, never
/// misread.
impl<R: ExportRecord> FileHeader<R> for ExportHeader {
    fn read<B: BufRead>(lines: &mut Lines<B>) -> HeaderRead<Self> {
        let mut read = HeaderRead::none();
        match lines.next() {
            Some(Ok(l)) => match ExportHeader::parse(&l.text) {
                Some(h) => read.header = Some(h),
                None => {
                    read.diagnostics
                        .push(lines.diag(l.number, "missing `… (exported …)` title"));
                    lines.push_back(l);
                }
            },
            Some(Err(d)) => read.diagnostics.push(d),
            None => {}
        }
        if read.header.is_some() {
            match lines.next() {
                Some(Ok(l)) if l.text == format!("Format: {}", R::FORMAT) => {}
                Some(Ok(l)) if l.text.starts_with("Format:") => {
                    read.diagnostics.push(lines.diag(
                        l.number,
                        format!("unexpected Format line (expected `Format: {}`)", R::FORMAT),
                    ));
                    read.refuse_records =
                        Some(format!("row of an unsupported layout ({})", l.text));
                }
                Some(Ok(l)) => lines.push_back(l),
                Some(Err(d)) => read.diagnostics.push(d),
                None => {}
            }
        }
        read
    }
}

/// A whole export data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportFile<R> {
    /// The title line (absent only in a damaged file).
    pub header: Option<ExportHeader>,
    /// Rows in file order.
    pub rows: Vec<R>,
}

impl<R: ExportRecord> ExportFile<R> {
    /// Writes the file as `_write_data_file` does, except atomically. Like ThyWill, a file
    /// with no rows is not written at all (an older file stays); returns whether it wrote.
    pub fn write(&self, path: &Path) -> crate::Result<bool> {
        if self.rows.is_empty() {
            return Ok(false);
        }
        crate::archive::fileops::atomic_write(path, self.render().as_bytes())?;
        Ok(true)
    }

    /// The bytes (`_write_data_file`).
    pub fn render(&self) -> String {
        let mut out = self
            .header
            .as_ref()
            .map(ExportHeader::render::<R>)
            .unwrap_or_default();
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&row.render_line());
        }
        out
    }

    /// Parses a whole file.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let read = ExportReader::<_, R>::new(bytes, path).read_all();
        let file = ExportFile {
            header: read.header,
            rows: read.records,
        };
        (file, read.diagnostics)
    }
}

/// Streams the rows of an export data file.
pub type ExportReader<B, R> = RecordReader<B, R, ExportHeader>;
