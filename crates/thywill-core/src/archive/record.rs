//! Records that are one line of an archive file, and the one reader of files made of them.
//!
//! Every such record kind implements [`Record`] once: the line ThyWill writes for it and the
//! parse of that line. The file layouts add what their header needs: a pipe file's title and
//! `Format:` line ([`super::pipe::PipeRecord`]), an export file's `Format:` line
//! ([`super::export::ExportRecord`]).
//!
//! [`RecordReader`] reads every file that is a header followed by one record per non-empty
//! line (pipe files, export data files, the legacy `database_exports/` files, the event log):
//! the header is read by the layout's [`FileHeader`], then each line is parsed as `R`, and a
//! line that cannot be read is a located [`Diagnostic`], never a lost record. Memory stays
//! bounded by the longest line.

use std::io::BufRead;
use std::marker::PhantomData;
use std::path::Path;

use super::diagnostics::Diagnostic;
use super::lines::Lines;

/// A record kind that is one line of an archive file.
pub trait Record: Sized {
    /// The record's line, without the line terminator, exactly as ThyWill writes it.
    fn render_line(&self) -> String;
    /// Parses one line (already stripped of its terminator); the error says why it cannot
    /// be read.
    fn parse_line(line: &str) -> Result<Self, String>;
}

/// What reading a file's header found (see [`FileHeader::read`]).
#[derive(Debug)]
pub struct HeaderRead<H> {
    /// The header, when the file starts with one.
    pub header: Option<H>,
    /// Problems found in the header lines, reported before the first record.
    pub diagnostics: Vec<Diagnostic>,
    /// Set when the header announces records of a layout these records cannot be read
    /// with: every record line is then reported with this reason rather than misread.
    pub refuse_records: Option<String>,
}

impl<H> HeaderRead<H> {
    /// No header, nothing to report.
    pub fn none() -> Self {
        HeaderRead {
            header: None,
            diagnostics: Vec::new(),
            refuse_records: None,
        }
    }
}

/// The header of a file layout whose records are of type `R` (which may name the header's
/// fixed text, as [`super::pipe::PipeRecord`] does).
pub trait FileHeader<R>: Sized {
    /// Reads the header off the start of `lines`. A line that is not part of the header is
    /// pushed back, so that it is read as a record.
    fn read<B: BufRead>(lines: &mut Lines<B>) -> HeaderRead<Self>;
}

/// Files without a header (the event log).
impl<R> FileHeader<R> for () {
    fn read<B: BufRead>(_lines: &mut Lines<B>) -> HeaderRead<Self> {
        HeaderRead::none()
    }
}

/// Streams the records of a file: a header of type `H`, then one `R` per non-empty line, as
/// `Iterator<Item = Result<R, Diagnostic>>`. The header is read when the reader is created.
pub struct RecordReader<B, R, H> {
    lines: Lines<B>,
    header: Option<H>,
    pending: std::vec::IntoIter<Diagnostic>,
    refuse_records: Option<String>,
    _record: PhantomData<R>,
}

/// A whole record file as [`RecordReader::read_all`] returns it.
#[derive(Debug)]
pub struct RecordFileParts<R, H> {
    /// The header, when the file has one.
    pub header: Option<H>,
    /// The records in file order.
    pub records: Vec<R>,
    /// Whether the file ends with a line terminator.
    pub final_newline: bool,
    /// Every line that could not be read, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl<B: BufRead, R: Record, H: FileHeader<R>> RecordReader<B, R, H> {
    /// Reads the header of `reader` and prepares to stream records; `path` labels
    /// diagnostics.
    pub fn new(reader: B, path: Option<&Path>) -> Self {
        let mut lines = Lines::new(reader, path);
        let read = H::read(&mut lines);
        RecordReader {
            lines,
            header: read.header,
            pending: read.diagnostics.into_iter(),
            refuse_records: read.refuse_records,
            _record: PhantomData,
        }
    }

    /// The header, if the file has one.
    pub fn header(&self) -> Option<&H> {
        self.header.as_ref()
    }

    /// Whether the last line read ended with a terminator (meaningful once exhausted).
    pub fn final_newline(&self) -> bool {
        self.lines.last_terminated()
    }

    /// The file path used in diagnostics.
    pub fn path(&self) -> Option<&Path> {
        self.lines.path()
    }

    /// Reads every record: the whole file, its unreadable lines as diagnostics.
    pub fn read_all(mut self) -> RecordFileParts<R, H> {
        let (records, diagnostics) = collect_records(self.by_ref());
        RecordFileParts {
            final_newline: self.final_newline(),
            header: self.header,
            records,
            diagnostics,
        }
    }
}

impl<B: BufRead, R: Record, H: FileHeader<R>> Iterator for RecordReader<B, R, H> {
    type Item = Result<R, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(d) = self.pending.next() {
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
            if let Some(reason) = &self.refuse_records {
                return Some(Err(self.lines.diag(line.number, reason.as_str())));
            }
            return Some(
                R::parse_line(&line.text).map_err(|reason| self.lines.diag(line.number, reason)),
            );
        }
    }
}

/// Splits what a streaming reader yields into the records and the diagnostics, each in file
/// order: how every whole-file parse of this crate keeps the readable records of a damaged
/// file.
pub(crate) fn collect_records<T>(
    items: impl Iterator<Item = Result<T, Diagnostic>>,
) -> (Vec<T>, Vec<Diagnostic>) {
    let mut records = Vec::new();
    let mut diagnostics = Vec::new();
    for item in items {
        match item {
            Ok(r) => records.push(r),
            Err(d) => diagnostics.push(d),
        }
    }
    (records, diagnostics)
}
