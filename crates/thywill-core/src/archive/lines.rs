//! Reading archive files as lines: strict UTF-8, one leading BOM dropped, Python's
//! universal newlines, every fault a located [`Diagnostic`]; streamed ([`LineReader`], and
//! [`Lines`] with push-back for the header readers) or whole ([`decode_text`]), and
//! line-by-line re-rendering.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::diagnostics::Diagnostic;

/// Converts CRLF and then lone CR to LF, as Python's universal-newline reading does.
pub(crate) fn normalize_newlines(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\r') {
        std::borrow::Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// One line of an archive file, without its line terminator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// 1-based line number.
    pub number: usize,
    /// The text, with universal newlines applied (no CR or LF inside).
    pub text: String,
    /// `false` only for a last line that had no line terminator.
    pub terminated: bool,
}

/// Reads a file line by line with Python's universal newlines (CRLF and lone CR end a
/// line), strips one leading UTF-8 BOM (a FIXABLE fix; [`LineReader::had_bom`] tells),
/// and reports invalid UTF-8 and I/O errors as located [`Diagnostic`]s instead of panicking.
/// Memory stays bounded by the longest line.
pub struct LineReader<R> {
    reader: R,
    path: Option<PathBuf>,
    number: usize,
    buf: Vec<u8>,
    pending: VecDeque<(Vec<u8>, bool)>,
    had_bom: bool,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    /// A reader over `reader`; `path` only labels diagnostics.
    pub fn new(reader: R, path: Option<&Path>) -> Self {
        LineReader {
            reader,
            path: path.map(Path::to_path_buf),
            number: 0,
            buf: Vec::new(),
            pending: Default::default(),
            had_bom: false,
            done: false,
        }
    }

    /// Whether a leading UTF-8 BOM was found (and removed).
    pub fn had_bom(&self) -> bool {
        self.had_bom
    }

    /// The path used in diagnostics.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn refill(&mut self) -> Result<(), Diagnostic> {
        self.buf.clear();
        let n = self.reader.read_until(b'\n', &mut self.buf).map_err(|e| {
            Diagnostic::new(
                self.path.as_deref(),
                self.number + 1,
                format!("read error: {e}"),
            )
        })?;
        if n == 0 {
            self.done = true;
            return Ok(());
        }
        if self.number == 0 && self.pending.is_empty() {
            while self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.had_bom = true;
                self.buf.drain(..3);
            }
        }
        // Split the chunk (which contains at most one LF, at its end) at every CR.
        let chunk = std::mem::take(&mut self.buf);
        let mut start = 0;
        let mut i = 0;
        while i < chunk.len() {
            match chunk.get(i) {
                Some(b'\r') => {
                    self.pending
                        .push_back((chunk.get(start..i).unwrap_or_default().to_vec(), true));
                    i += if chunk.get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    start = i;
                }
                Some(b'\n') => {
                    self.pending
                        .push_back((chunk.get(start..i).unwrap_or_default().to_vec(), true));
                    i += 1;
                    start = i;
                }
                _ => i += 1,
            }
        }
        if start < chunk.len() {
            // No terminator: either the last line of the file, or a lone CR follows in the next read
            // (impossible: read_until stops only at LF or EOF), so this is the unterminated last line.
            self.pending
                .push_back((chunk.get(start..).unwrap_or_default().to_vec(), false));
        }
        self.buf = chunk;
        Ok(())
    }
}

impl<R: BufRead> Iterator for LineReader<R> {
    type Item = Result<Line, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.pending.is_empty() {
            if self.done {
                return None;
            }
            if let Err(d) = self.refill() {
                self.done = true;
                self.number += 1;
                return Some(Err(d));
            }
        }
        let (bytes, terminated) = self.pending.pop_front()?;
        self.number += 1;
        Some(match String::from_utf8(bytes) {
            Ok(text) => Ok(Line {
                number: self.number,
                text,
                terminated,
            }),
            Err(e) => Err(Diagnostic::new(
                self.path.as_deref(),
                self.number,
                format!(
                    "invalid UTF-8 at byte {} of the line",
                    e.utf8_error().valid_up_to()
                ),
            )),
        })
    }
}

/// A [`LineReader`] that can take lines back: a header reader looks at a line and, when it
/// is not part of the header, returns it so the record reader sees it next. It also keeps
/// whether the last line read had a terminator. Every streaming reader of this crate reads
/// through one.
pub struct Lines<B> {
    inner: LineReader<B>,
    back: VecDeque<Line>,
    last_terminated: bool,
}

impl<B: BufRead> Lines<B> {
    /// The lines of `reader`; `path` labels diagnostics.
    pub fn new(reader: B, path: Option<&Path>) -> Self {
        Lines {
            inner: LineReader::new(reader, path),
            back: VecDeque::new(),
            last_terminated: true,
        }
    }

    /// The path used in diagnostics.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path()
    }

    /// Returns `line` to the front: the next call to `next` yields it again.
    pub fn push_back(&mut self, line: Line) {
        self.back.push_front(line);
    }

    /// A diagnostic for `line` of this file.
    pub fn diag(&self, line: usize, reason: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.inner.path(), line, reason)
    }

    /// Whether the last line read ended with a terminator (`true` before any line; the
    /// file's final state once the lines are exhausted).
    pub fn last_terminated(&self) -> bool {
        self.last_terminated
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

/// Decodes a whole file's bytes as ThyWill reads them, with this crate's fixes: strict UTF-8
/// (a failure is a diagnostic at the line of the first bad byte), one leading BOM removed,
/// CRLF and CR turned into LF. Returns the text and whether a BOM was removed.
pub fn decode_text(bytes: &[u8], path: Option<&Path>) -> Result<(String, bool), Diagnostic> {
    // Repeated BOMs (a file concatenated from BOM-prefixed pieces) all go.
    let mut bytes = bytes;
    let mut bom = false;
    while let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        bytes = rest;
        bom = true;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((normalize_newlines(s).into_owned(), bom)),
        Err(e) => {
            let upto = e.valid_up_to();
            let before = bytes.get(..upto).unwrap_or_default();
            let line = 1 + before
                .iter()
                .enumerate()
                .filter(|(i, b)| {
                    **b == b'\n' || (**b == b'\r' && before.get(i + 1) != Some(&b'\n'))
                })
                .count();
            Err(Diagnostic::new(
                path,
                line,
                format!("invalid UTF-8 at byte offset {upto}"),
            ))
        }
    }
}

/// [`decode_text`] without the BOM flag: the text of a small file that is read whole.
pub(crate) fn decode_lines(bytes: &[u8], path: Option<&Path>) -> Result<String, Diagnostic> {
    decode_text(bytes, path).map(|(s, _)| s)
}

/// Splits normalised text into lines like Python's `split("\n")` after dropping the final
/// terminator: returns the lines and whether the text ended with LF.
pub(crate) fn split_lines(text: &str) -> (Vec<&str>, bool) {
    if text.is_empty() {
        return (Vec::new(), true);
    }
    match text.strip_suffix('\n') {
        Some(body) => (body.split('\n').collect(), true),
        None => (text.split('\n').collect(), false),
    }
}

/// Re-renders a line-oriented file one line at a time, for `thywill archive check`: the bytes
/// are decoded (BOM and CR tolerated, invalid UTF-8 replaced and reported), each line is
/// passed to `render_line(line_number, text)`, and an `Err` keeps the line unchanged and
/// records the diagnostic. The final LF is kept as it was.
pub(crate) fn rerender_lines(
    bytes: &[u8],
    path: Option<&Path>,
    mut render_line: impl FnMut(usize, &str) -> Result<String, Diagnostic>,
) -> (Vec<u8>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let text = match decode_text(bytes, path) {
        Ok((t, _)) => t,
        Err(d) => {
            diags.push(d);
            normalize_newlines(&String::from_utf8_lossy(bytes))
                .trim_start_matches('\u{FEFF}')
                .to_string()
        }
    };
    let (lines, ended_with_lf) = split_lines(&text);
    let mut out = String::with_capacity(text.len());
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match render_line(i + 1, line) {
            Ok(s) => out.push_str(&s),
            Err(d) => {
                diags.push(d);
                out.push_str(line);
            }
        }
    }
    if ended_with_lf && !lines.is_empty() {
        out.push('\n');
    }
    (out.into_bytes(), diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_reader_universal_newlines_bom_and_bad_utf8() {
        let data: &[u8] = b"\xEF\xBB\xBFa\r\nb\rc\n\xFF\nlast";
        let mut r = LineReader::new(data, Some(Path::new("f.txt")));
        let items: Vec<_> = r.by_ref().collect();
        assert!(r.had_bom());
        let texts: Vec<String> = items
            .iter()
            .map(|i| match i {
                Ok(l) => format!("{}:{}:{}", l.number, l.text, l.terminated),
                Err(d) => format!("ERR {d}"),
            })
            .collect();
        assert_eq!(
            texts,
            vec![
                "1:a:true",
                "2:b:true",
                "3:c:true",
                "ERR f.txt:4: invalid UTF-8 at byte 0 of the line",
                "5:last:false"
            ]
        );
        let err = decode_text(b"ok\r\nbad\xC3", None).unwrap_err();
        assert_eq!(err.line, 2);
    }
}
