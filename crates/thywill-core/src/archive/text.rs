//! Shared text primitives of the archive format (spec §3): timestamp renderings,
//! Python-compatible lenient parsers, Python value rendering, whitespace rules,
//! a streaming universal-newline line reader and the located [`Diagnostic`].
//!
//! Everything here reproduces what ThyWill's Python code does, byte for byte,
//! because the archive files are compared and re-rendered against ThyWill's output.

use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::Serialize;

// ---------------------------------------------------------------------------
// Diagnostics
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Timestamp renderings (§3.3.1)
// ---------------------------------------------------------------------------

/// English month names, as Python's C locale renders `%B`.
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_name(month: u32) -> &'static str {
    MONTH_NAMES
        .get((month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("January")
}

/// `TS_H`: `%B %d %Y at %H:%M`, e.g. `July 06 2025 at 09:05`.
pub fn ts_h(t: &NaiveDateTime) -> String {
    format!(
        "{} {:02} {} at {:02}:{:02}",
        month_name(t.month()),
        t.day(),
        py_year(t.year()),
        t.hour(),
        t.minute()
    )
}

/// `TS_HC`: `%B %d, %Y at %H:%M`, e.g. `July 07, 2025 at 00:01`.
pub fn ts_hc(t: &NaiveDateTime) -> String {
    format!(
        "{} {:02}, {} at {:02}:{:02}",
        month_name(t.month()),
        t.day(),
        py_year(t.year()),
        t.hour(),
        t.minute()
    )
}

/// `TS_MY`: `%B %Y`, e.g. `July 2025`.
pub fn ts_my(d: &impl Datelike) -> String {
    format!("{} {}", month_name(d.month()), py_year(d.year()))
}

/// `TS_DAY`: `%B %d %Y`, e.g. `July 06 2025`.
pub fn ts_day(d: &impl Datelike) -> String {
    format!(
        "{} {:02} {}",
        month_name(d.month()),
        d.day(),
        py_year(d.year())
    )
}

/// `TS_HM`: `%H:%M`, e.g. `09:05`.
pub fn ts_hm(t: &impl Timelike) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// `TS_ISO` of a naive value: `datetime.isoformat()`, microseconds only if non-zero.
pub fn ts_iso(t: &NaiveDateTime) -> String {
    format!("{}T{}", iso_date(&t.date()), iso_time(&t.time()))
}

/// `TS_ISO` of an aware value: as [`ts_iso`] plus `+HH:MM` (`+00:00` for UTC).
pub fn ts_iso_aware(t: &DateTime<FixedOffset>) -> String {
    format!(
        "{}{}",
        ts_iso(&t.naive_local()),
        py_utcoffset(t.offset().local_minus_utc())
    )
}

/// `TS_STR`: `str(datetime)`, like [`ts_iso`] with a space separator.
pub fn ts_str(t: &NaiveDateTime) -> String {
    format!("{} {}", iso_date(&t.date()), iso_time(&t.time()))
}

/// `TS_STR` of an aware value (`str()` of an aware datetime).
pub fn ts_str_aware(t: &DateTime<FixedOffset>) -> String {
    format!(
        "{}{}",
        ts_str(&t.naive_local()),
        py_utcoffset(t.offset().local_minus_utc())
    )
}

/// `YM`: `{year}_{month:02d}`, e.g. `2025_07` (year unpadded).
pub fn ym(d: &impl Datelike) -> String {
    format!("{}_{:02}", d.year(), d.month())
}

/// `PRAYER_BASE`: `%Y_%m_%d_prayer_at_%H%M`, e.g. `2025_07_06_prayer_at_0905`.
pub fn prayer_base(t: &NaiveDateTime) -> String {
    format!(
        "{}_{:02}_{:02}_prayer_at_{:02}{:02}",
        py_year(t.year()),
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `APP_STAMP`: `%Y%m%d_%H%M%S`, e.g. `20250615_120000`.
pub fn app_stamp(t: &NaiveDateTime) -> String {
    format!(
        "{}{:02}{:02}_{:02}{:02}{:02}",
        py_year(t.year()),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `DATE_ONLY`: `%Y-%m-%d`, e.g. `2025-07-02`.
pub fn date_only(d: &impl Datelike) -> String {
    format!("{}-{:02}-{:02}", py_year(d.year()), d.month(), d.day())
}

/// Python's `%Y` and `isoformat` pad the year to 4 digits.
fn py_year(y: i32) -> String {
    format!("{y:04}")
}

fn iso_date(d: &NaiveDate) -> String {
    format!("{}-{:02}-{:02}", py_year(d.year()), d.month(), d.day())
}

fn iso_time(t: &NaiveTime) -> String {
    // A leap second (nanosecond >= 1e9) cannot occur in a Python datetime; clamp it.
    let micros = (t.nanosecond() % 1_000_000_000) / 1000;
    if micros == 0 {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    } else {
        format!(
            "{:02}:{:02}:{:02}.{:06}",
            t.hour(),
            t.minute(),
            t.second(),
            micros
        )
    }
}

/// Python renders a UTC offset as `+HH:MM`, adding `:SS` only when seconds are non-zero.
fn py_utcoffset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{sec:02}")
    }
}

// ---------------------------------------------------------------------------
// Python whitespace, strip, split, splitlines (§3.6)
// ---------------------------------------------------------------------------

/// Python's `str.isspace()` for one character (what `str.strip()` and `\s` use).
/// Unlike `char::is_whitespace` it includes 0x1C–0x1F, and it excludes U+FEFF and U+200B.
pub fn py_is_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | '\u{1C}'..='\u{1F}'
            | ' '
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

/// Python's `str.strip()` with no argument.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_is_whitespace)
}

/// Python's `str.split()` with no argument: split on runs of Python whitespace, no empty parts.
pub fn py_split_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(py_is_whitespace).filter(|p| !p.is_empty())
}

/// Python's `str.splitlines()` (without keepends): the line boundaries are LF, CR,
/// CRLF, VT, FF, FS, GS, RS, NEL, U+2028 and U+2029.
pub fn py_splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let boundary = matches!(
            c,
            '\n' | '\r'
                | '\u{0B}'
                | '\u{0C}'
                | '\u{1C}'
                | '\u{1D}'
                | '\u{1E}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if boundary {
            out.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = chars.peek() {
                    chars.next();
                    end = j + 1;
                }
            }
            start = end;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Converts CRLF and then lone CR to LF, as Python's universal-newline reading does.
pub fn normalize_newlines(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\r') {
        std::borrow::Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

// ---------------------------------------------------------------------------
// Unicode decimal digits (Python `\d` and `int()`)
// ---------------------------------------------------------------------------

/// The zero of every Unicode `Nd` run (Unicode 14.0, as in Python 3.11); each run has 10 digits.
const ND_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66,
    0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90,
    0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
    0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
    0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50,
    0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/// The value of a Unicode decimal digit (Python's `\d` / `unicodedata.decimal`), if `c` is one.
pub fn py_decimal_digit(c: char) -> Option<u32> {
    let cp = c as u32;
    if c.is_ascii_digit() {
        return Some(cp - 0x30);
    }
    if cp < 0x660 {
        return None;
    }
    let idx = ND_ZEROS.partition_point(|&z| z <= cp);
    let zero = *ND_ZEROS.get(idx.checked_sub(1)?)?;
    let v = cp - zero;
    (v < 10).then_some(v)
}

/// Python's `int(s)` for base-10 strings: surrounding whitespace, optional sign,
/// Unicode decimal digits, single `_` between digits. `None` if Python would raise.
pub fn py_int(s: &str) -> Option<i128> {
    let s = py_strip(s);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i128 = 0;
    let mut prev_underscore = true; // a leading `_` is invalid
    for c in digits.chars() {
        if c == '_' {
            if prev_underscore {
                return None;
            }
            prev_underscore = true;
            continue;
        }
        let d = py_decimal_digit(c)?;
        value = value.checked_mul(10)?.checked_add(i128::from(d))?;
        prev_underscore = false;
    }
    if prev_underscore {
        return None;
    }
    Some(if neg { -value } else { value })
}

// ---------------------------------------------------------------------------
// strptime("%B %d %Y at %H:%M") (§3.6)
// ---------------------------------------------------------------------------

/// A tiny backtracking matcher over the regex Python's `_strptime` builds for the
/// archive formats. Each function returns every possible end position, in the
/// regex's preference order, so alternation and `\s+` backtrack like `re` does.
struct Cursor<'a> {
    chars: &'a [char],
}

impl Cursor<'_> {
    fn ws_plus(&self, pos: usize) -> Vec<usize> {
        let mut end = pos;
        while self.chars.get(end).is_some_and(|c| py_is_whitespace(*c)) {
            end += 1;
        }
        // Greedy: longest first, then give back one at a time.
        (pos + 1..=end).rev().collect()
    }

    fn digit(&self, pos: usize) -> Option<u32> {
        self.chars.get(pos).and_then(|c| py_decimal_digit(*c))
    }

    /// An ASCII digit (the literal classes such as `[0-5]` in `_strptime`'s regexes).
    fn ascii(&self, pos: usize) -> Option<u32> {
        self.chars
            .get(pos)
            .and_then(|c| c.to_digit(10).filter(|_| c.is_ascii_digit()))
    }

    /// Case-insensitive ASCII literal. `re.IGNORECASE` would also let a few non-ASCII letters
    /// match (e.g. `ſ`), but `_strptime` then looks the month up by `lower()`, which fails
    /// for them, and `at` has no such letters: so only ASCII case folding matters.
    fn literal(&self, pos: usize, lit: &str) -> Option<usize> {
        let mut p = pos;
        for want in lit.chars() {
            let got = *self.chars.get(p)?;
            if got.to_ascii_lowercase() != want || !got.is_ascii() {
                return None;
            }
            p += 1;
        }
        Some(p)
    }

    /// `%B`: the month alternatives, longest names first as `_strptime` orders them.
    fn month(&self, pos: usize) -> Vec<(usize, u32)> {
        // `_strptime` sorts the names by length, longest first (stable for equal lengths).
        const ORDER: [(&str, u32); 12] = [
            ("september", 9),
            ("february", 2),
            ("november", 11),
            ("december", 12),
            ("january", 1),
            ("october", 10),
            ("august", 8),
            ("march", 3),
            ("april", 4),
            ("june", 6),
            ("july", 7),
            ("may", 5),
        ];
        ORDER
            .iter()
            .filter_map(|(name, m)| self.literal(pos, name).map(|end| (end, *m)))
            .collect()
    }

    /// `%d`: `3[01]|[12]\d|0[1-9]|[1-9]| [1-9]` (only `\d` is Unicode; the classes are ASCII).
    fn day(&self, pos: usize) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        let a0 = self.ascii(pos);
        if let (Some(3), Some(b @ 0..=1)) = (a0, self.ascii(pos + 1)) {
            out.push((pos + 2, 30 + b));
        }
        if let (Some(a @ 1..=2), Some(b)) = (a0, self.digit(pos + 1)) {
            out.push((pos + 2, a * 10 + b));
        }
        if let (Some(0), Some(b @ 1..=9)) = (a0, self.ascii(pos + 1)) {
            out.push((pos + 2, b));
        }
        if let Some(a @ 1..=9) = a0 {
            out.push((pos + 1, a));
        }
        if self.chars.get(pos) == Some(&' ') {
            if let Some(b @ 1..=9) = self.ascii(pos + 1) {
                out.push((pos + 2, b));
            }
        }
        out
    }

    /// `%Y`: exactly four `\d`.
    fn year(&self, pos: usize) -> Option<(usize, i32)> {
        let mut y = 0i32;
        for i in 0..4 {
            y = y * 10 + self.digit(pos + i)? as i32;
        }
        Some((pos + 4, y))
    }

    /// `%H`: `2[0-3]|[0-1]\d|\d`.
    fn hour(&self, pos: usize) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        let a0 = self.ascii(pos);
        if let (Some(2), Some(b @ 0..=3)) = (a0, self.ascii(pos + 1)) {
            out.push((pos + 2, 20 + b));
        }
        if let (Some(a @ 0..=1), Some(b)) = (a0, self.digit(pos + 1)) {
            out.push((pos + 2, a * 10 + b));
        }
        if let Some(a) = self.digit(pos) {
            out.push((pos + 1, a));
        }
        out
    }

    /// `%M`: `[0-5]\d|\d` (and `%S` without its `6[01]` branch, which can never
    /// build a valid datetime anyway).
    fn minute(&self, pos: usize) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        if let (Some(a @ 0..=5), Some(b)) = (self.ascii(pos), self.digit(pos + 1)) {
            out.push((pos + 2, a * 10 + b));
        }
        if let Some(a) = self.digit(pos) {
            out.push((pos + 1, a));
        }
        out
    }
}

/// Which of the human timestamp formats to match.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HumanFormat {
    /// `%B %d %Y at %H:%M`
    Minutes,
    /// `%B %d %Y at %H:%M:%S`
    Seconds,
}

/// Python's `datetime.strptime(s, "%B %d %Y at %H:%M")`, exactly (§3.6): case-insensitive,
/// whitespace runs, 1–2 digit day/hour/minute, 4-digit year, Unicode digits, full match,
/// invalid dates fail. Returns `None` where Python raises `ValueError`.
pub fn strptime_ts_h(s: &str) -> Option<NaiveDateTime> {
    canonical_ts_h(s).or_else(|| strptime_human(s, HumanFormat::Minutes))
}

/// Fast path for the exact `TS_H` rendering (`July 06 2025 at 09:05`) with valid values:
/// Python's regex matches such a string in one way only, so the result is the same as the
/// general matcher's. Anything else (including invalid values) goes to the general matcher.
fn canonical_ts_h(s: &str) -> Option<NaiveDateTime> {
    let (month_name, rest) = s.split_once(' ')?;
    let month = MONTH_NAMES.iter().position(|m| *m == month_name)? as u32 + 1;
    let b = rest.as_bytes();
    // "DD YYYY at HH:MM"
    if b.len() != 16 || &b[2..3] != b" " || &b[7..11] != b" at " || b[13] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let d = b.get(r)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| d.iter().fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0')))
    };
    let (day, year, hour, minute) = (num(0..2)?, num(3..7)?, num(11..13)?, num(14..16)?);
    if day == 0 || year == 0 || hour > 23 || minute > 59 {
        return None;
    }
    NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_opt(hour, minute, 0)
}

/// Python's `datetime.strptime(s, "%B %d %Y at %H:%M:%S")` (used by recovery, §17.2).
pub fn strptime_ts_h_seconds(s: &str) -> Option<NaiveDateTime> {
    strptime_human(s, HumanFormat::Seconds)
}

fn strptime_human(s: &str, format: HumanFormat) -> Option<NaiveDateTime> {
    let chars: Vec<char> = s.chars().collect();
    let cur = Cursor { chars: &chars };
    // `re.match` takes the first successful path in preference order; then
    // `_strptime` rejects it if it did not consume everything. So find the first
    // full path, and fail if the preferred path ends early.
    let mut first: Option<(usize, [u32; 6])> = None;
    'outer: for (p1, month) in cur.month(0) {
        for p2 in cur.ws_plus(p1) {
            for (p3, day) in cur.day(p2) {
                for p4 in cur.ws_plus(p3) {
                    let Some((p5, year)) = cur.year(p4) else {
                        continue;
                    };
                    for p6 in cur.ws_plus(p5) {
                        let Some(p7) = cur.literal(p6, "at") else {
                            continue;
                        };
                        for p8 in cur.ws_plus(p7) {
                            for (p9, hour) in cur.hour(p8) {
                                if chars.get(p9) != Some(&':') {
                                    continue;
                                }
                                for (p10, minute) in cur.minute(p9 + 1) {
                                    if format == HumanFormat::Minutes {
                                        first =
                                            Some((p10, [year as u32, month, day, hour, minute, 0]));
                                        break 'outer;
                                    }
                                    if chars.get(p10) != Some(&':') {
                                        continue;
                                    }
                                    if let Some((p11, sec)) = cur.minute(p10 + 1).first().copied() {
                                        first = Some((
                                            p11,
                                            [year as u32, month, day, hour, minute, sec],
                                        ));
                                        break 'outer;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let (end, [year, month, day, hour, minute, second]) = first?;
    if end != chars.len() || year < 1 {
        return None;
    }
    NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_opt(hour, minute, second)
}

/// `strptime(s, "%Y-%m-%d %H:%M:%S")` (the last recovery fallback, §17.2), ASCII-strict enough
/// for files ThyWill writes: `%Y` 4 digits, the others 1–2 digits, full match.
pub fn strptime_sql(s: &str) -> Option<NaiveDateTime> {
    let chars: Vec<char> = s.chars().collect();
    let cur = Cursor { chars: &chars };
    let (p1, year) = cur.year(0)?;
    (chars.get(p1) == Some(&'-')).then_some(())?;
    // %m: 1[0-2]|0[1-9]|[1-9]
    let month_opts: Vec<(usize, u32)> = {
        let mut v = Vec::new();
        let (a, b) = (cur.ascii(p1 + 1), cur.ascii(p1 + 2));
        if let (Some(1), Some(x @ 0..=2)) = (a, b) {
            v.push((p1 + 3, 10 + x));
        }
        if let (Some(0), Some(x @ 1..=9)) = (a, b) {
            v.push((p1 + 3, x));
        }
        if let Some(x @ 1..=9) = a {
            v.push((p1 + 2, x));
        }
        v
    };
    for (p2, month) in month_opts {
        if chars.get(p2) != Some(&'-') {
            continue;
        }
        for (p3, day) in cur.day(p2 + 1) {
            for p4 in cur.ws_plus(p3) {
                for (p5, hour) in cur.hour(p4) {
                    if chars.get(p5) != Some(&':') {
                        continue;
                    }
                    for (p6, minute) in cur.minute(p5 + 1) {
                        if chars.get(p6) != Some(&':') {
                            continue;
                        }
                        let (p7, sec) = cur.minute(p6 + 1).first().copied()?;
                        if p7 != chars.len() || year < 1 {
                            return None;
                        }
                        return NaiveDate::from_ymd_opt(year, month, day)?
                            .and_hms_opt(hour, minute, sec);
                    }
                }
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------
// fromisoformat (Python 3.11) and the recovery timestamp parser
// ---------------------------------------------------------------------------

/// A Python datetime: naive or aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum PyDateTime {
    /// No offset.
    Naive(NaiveDateTime),
    /// With a UTC offset.
    Aware(DateTime<FixedOffset>),
}

impl PyDateTime {
    /// The wall-clock value, dropping any offset (what ThyWill's SQLite columns keep).
    pub fn naive(&self) -> NaiveDateTime {
        match self {
            PyDateTime::Naive(t) => *t,
            PyDateTime::Aware(t) => t.naive_local(),
        }
    }

    /// `isoformat()`.
    pub fn isoformat(&self) -> String {
        match self {
            PyDateTime::Naive(t) => ts_iso(t),
            PyDateTime::Aware(t) => ts_iso_aware(t),
        }
    }
}

fn ascii_digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

/// Parses the date part: `YYYY-MM-DD`, `YYYYMMDD`, `YYYY-Www[-D]`, `YYYYWww[D]`.
fn iso_date_part(b: &[u8]) -> Option<NaiveDate> {
    let year = ascii_digits(b.get(0..4)?)? as i32;
    let rest = b.get(4..)?;
    let week = |w: &[u8], d: Option<&[u8]>| -> Option<NaiveDate> {
        let week = ascii_digits(w)?;
        let day = match d {
            Some(d) => ascii_digits(d)?,
            None => 1,
        };
        let wd = match day {
            1 => chrono::Weekday::Mon,
            2 => chrono::Weekday::Tue,
            3 => chrono::Weekday::Wed,
            4 => chrono::Weekday::Thu,
            5 => chrono::Weekday::Fri,
            6 => chrono::Weekday::Sat,
            7 => chrono::Weekday::Sun,
            _ => return None,
        };
        NaiveDate::from_isoywd_opt(year, week, wd)
    };
    let date = match rest {
        [b'-', b'W', w1, w2] => week(&[*w1, *w2], None)?,
        [b'-', b'W', w1, w2, b'-', d] => week(&[*w1, *w2], Some(&[*d]))?,
        [b'W', w1, w2] => week(&[*w1, *w2], None)?,
        [b'W', w1, w2, d] => week(&[*w1, *w2], Some(&[*d]))?,
        [b'-', m1, m2, b'-', d1, d2] => {
            NaiveDate::from_ymd_opt(year, ascii_digits(&[*m1, *m2])?, ascii_digits(&[*d1, *d2])?)?
        }
        [m1, m2, d1, d2] => {
            NaiveDate::from_ymd_opt(year, ascii_digits(&[*m1, *m2])?, ascii_digits(&[*d1, *d2])?)?
        }
        _ => return None,
    };
    (year >= 1).then_some(date)
}

/// Parses `HH[:MM[:SS[.f+]]]` or `HH[MM[SS[.f+]]]` (fraction separator `.` or `,`).
fn iso_time_part(b: &[u8]) -> Option<(u32, u32, u32, u32)> {
    let hour = ascii_digits(b.get(0..2)?)?;
    let mut pos = 2;
    let extended = b.get(2) == Some(&b':');
    let mut comps = [0u32; 2];
    for comp in comps.iter_mut() {
        if pos == b.len() {
            break;
        }
        if extended {
            if b.get(pos) != Some(&b':') {
                return None;
            }
            pos += 1;
        }
        *comp = ascii_digits(b.get(pos..pos + 2)?)?;
        pos += 2;
    }
    let mut micros = 0;
    if pos < b.len() {
        // A fraction is only allowed after seconds.
        if !matches!(b.get(pos), Some(b'.' | b',')) || pos < if extended { 8 } else { 6 } {
            return None;
        }
        let frac = b.get(pos + 1..)?;
        if frac.is_empty() || !frac.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let take = frac.len().min(6);
        let mut v = ascii_digits(frac.get(..take)?)?;
        for _ in take..6 {
            v *= 10;
        }
        micros = v;
    }
    if hour > 23 || comps[0] > 59 || comps[1] > 59 {
        return None;
    }
    Some((hour, comps[0], comps[1], micros))
}

/// Python 3.11 `datetime.fromisoformat(s)` for the forms ThyWill's data can hold:
/// a date alone, or date + any one-character separator + time, with an optional
/// `Z`/`±HH[:MM[:SS[.ffffff]]]` offset. Returns `None` where Python raises.
/// (Callers reproducing recovery replace `Z` by `+00:00` first, as ThyWill does.)
pub fn py_fromisoformat(s: &str) -> Option<PyDateTime> {
    let b = s.as_bytes();
    if !s.is_ascii() {
        return None;
    }
    // Date length: 10 for extended (`YYYY-MM-DD`, `YYYY-Www-D`), 8 for `YYYY-Www`, basic 8 / 7.
    let date_len = if b.get(4) == Some(&b'-') {
        if b.get(5) == Some(&b'W') {
            if b.get(8) == Some(&b'-') {
                10
            } else {
                8
            }
        } else {
            10
        }
    } else if b.get(4) == Some(&b'W') {
        if b.len() > 7 && b.get(7).is_some_and(u8::is_ascii_digit) {
            8
        } else {
            7
        }
    } else {
        8
    };
    let date = iso_date_part(b.get(..date_len.min(b.len()))?)?;
    if b.len() <= date_len {
        return (b.len() == date_len).then(|| PyDateTime::Naive(date.and_time(NaiveTime::MIN)));
    }
    let time_all = b.get(date_len + 1..)?;
    let tz_at = time_all
        .iter()
        .position(|c| matches!(c, b'+' | b'-' | b'Z'));
    let (time_b, tz_b) = match tz_at {
        Some(i) => (time_all.get(..i)?, Some(time_all.get(i..)?)),
        None => (time_all, None),
    };
    let (h, m, sec, us) = iso_time_part(time_b)?;
    let naive = date.and_hms_micro_opt(h, m, sec, us)?;
    match tz_b {
        None => Some(PyDateTime::Naive(naive)),
        Some(b"Z") => {
            let off = FixedOffset::east_opt(0)?;
            Some(PyDateTime::Aware(naive.and_local_timezone(off).single()?))
        }
        Some(tz) => {
            let sign: i32 = if tz.first() == Some(&b'-') { -1 } else { 1 };
            let (th, tm, ts, tus) = iso_time_part(tz.get(1..)?)?;
            if tus != 0 {
                return None; // sub-second offsets cannot become a chrono FixedOffset
            }
            let secs = sign * (th * 3600 + tm * 60 + ts) as i32;
            let off = FixedOffset::east_opt(secs)?;
            Some(PyDateTime::Aware(naive.and_local_timezone(off).single()?))
        }
    }
}

/// ThyWill's recovery `_parse_timestamp` (§17.2): `None` for empty, `none`, `never`, `n/a`;
/// then `fromisoformat` (with `Z` → `+00:00`), then `%B %d %Y at %H:%M`,
/// `%B %d %Y at %H:%M:%S`, `%Y-%m-%d %H:%M:%S`. `Err` where ThyWill raises.
pub fn parse_recovery_timestamp(s: &str) -> Result<Option<PyDateTime>, String> {
    let t = py_strip(s);
    if t.is_empty() || ["none", "never", "n/a"].contains(&t.to_lowercase().as_str()) {
        return Ok(None);
    }
    if let Some(v) = py_fromisoformat(&t.replace('Z', "+00:00")) {
        return Ok(Some(v));
    }
    if let Some(v) = strptime_ts_h(t)
        .or_else(|| strptime_ts_h_seconds(t))
        .or_else(|| strptime_sql(t))
    {
        return Ok(Some(PyDateTime::Naive(v)));
    }
    Err(format!("Unsupported timestamp format: {t}"))
}

/// A human timestamp as it appears in a file (`TS_H`, e.g. `July 06 2025 at 09:05`), kept
/// verbatim so re-rendering reproduces the bytes, with its parsed value (Python's
/// `strptime("%B %d %Y at %H:%M")`; `None` when that fails).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct HumanTime {
    /// The exact text.
    pub text: String,
    /// The parsed wall-clock minute, if the text parses.
    pub time: Option<NaiveDateTime>,
}

/// A [`HumanTime`] deserializes from its text, given alone or as the `text` of its
/// serialized form; its time is always parsed from the text (a `time` given beside it is
/// ignored), so the two cannot disagree.
impl<'de> serde::Deserialize<'de> for HumanTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Given {
            Text(String),
            Full { text: String },
        }
        let text = match Given::deserialize(deserializer)? {
            Given::Text(text) | Given::Full { text } => text,
        };
        Ok(HumanTime::parse(&text))
    }
}

impl HumanTime {
    /// The canonical `TS_H` rendering of `t` (seconds and below are dropped from the text
    /// and from [`HumanTime::time`], as a round trip through the file drops them).
    pub fn from_time(t: NaiveDateTime) -> Self {
        let text = ts_h(&t);
        let time = strptime_ts_h(&text);
        HumanTime { text, time }
    }

    /// Keeps `text` and parses it leniently.
    pub fn parse(text: &str) -> Self {
        HumanTime {
            text: text.to_string(),
            time: strptime_ts_h(text),
        }
    }
}

impl fmt::Display for HumanTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

// ---------------------------------------------------------------------------
// Python value rendering (§3.4)
// ---------------------------------------------------------------------------

/// `str(None)`.
pub const PY_NONE: &str = "None";

/// `str(bool)`: `True` / `False`.
pub fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// `str(x)` of an optional string: the value, or `None`.
pub fn py_opt_str(v: Option<&str>) -> &str {
    v.unwrap_or(PY_NONE)
}

/// Python `repr(float)`: shortest round-trip digits, `.0` when integral, exponent
/// notation when the decimal exponent is < -4 or ≥ 16 (`1e-05`, `1e+16`), `inf`, `nan`.
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digit count, but may break a tie between two
    // equally near shortest strings differently from Python (which takes the one nearest the
    // exact binary value, ties to even). Re-rendering with that many digits in exact mode
    // (correctly rounded, ties to even) gives Python's choice.
    let shortest = format!("{:e}", x.abs());
    let n_digits = shortest
        .split_once('e')
        .map(|(m, _)| m.chars().filter(char::is_ascii_digit).count())
        .unwrap_or(1);
    let sci = format!("{:.*e}", n_digits.saturating_sub(1), x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x < 0.0 { "-" } else { "" };
    let n = digits.len() as i32;
    if (-4..16).contains(&exp) {
        let body = if exp >= n - 1 {
            format!("{digits}{}.0", "0".repeat((exp - (n - 1)) as usize))
        } else if exp >= 0 {
            let (a, b) = digits.split_at((exp + 1) as usize);
            format!("{a}.{b}")
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

/// Python's `float(s)` for a `str`, which ThyWill's readers apply to stripped values:
/// surrounding whitespace, an optional sign, decimal or exponent forms (`1`, `.5`, `5.`,
/// `1e-05`, `1E+16`), `inf`/`infinity`/`nan` in any case, Unicode decimal digits (`١٢`),
/// and single `_` between digits (`1_000`). `None` where Python raises `ValueError`.
pub fn py_float(s: &str) -> Option<f64> {
    let s = py_strip(s);
    if s.is_ascii() && !s.contains('_') {
        return parse_ascii_float(s);
    }
    // Python first maps decimal digits to ASCII (anything else non-ASCII fails), then
    // allows an underscore only between two digits and drops it.
    let mut ascii = String::with_capacity(s.len());
    let mut prev = '\0';
    for c in s.chars() {
        let c = match c {
            c if c.is_ascii() => c,
            c => char::from_digit(py_decimal_digit(c)?, 10)?,
        };
        if c == '_' {
            if !prev.is_ascii_digit() {
                return None;
            }
        } else {
            if prev == '_' && !c.is_ascii_digit() {
                return None;
            }
            ascii.push(c);
        }
        prev = c;
    }
    if prev == '_' {
        return None;
    }
    parse_ascii_float(&ascii)
}

/// Python's float grammar on ASCII text, which Rust's parser shares (decimal and
/// exponent forms, `inf`, `infinity` and `nan` in any case with an optional sign).
fn parse_ascii_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// A Python number as a dict ThyWill writes from holds it: an `int` or a `float`.
/// ThyWill puts values into text with f-strings (`str()`), which write `1` for the int
/// and `1.0` for the float, so the two must stay apart to write the same bytes.
///
/// Serialises as a JSON integer or float and deserialises from either (an integer
/// beyond the `i64` range becomes a float). Equality is per kind: `Int(1) != Float(1.0)`,
/// as their texts differ; compare [`PyNumber::as_f64`] for numeric equality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PyNumber {
    /// A Python `int` (written `1`).
    Int(i64),
    /// A Python `float` (written as `repr`: `1.0`, `1e-05`, `inf`, `nan`).
    Float(f64),
}

impl PyNumber {
    /// The value as a float (what a `FLOAT` column stores).
    pub fn as_f64(self) -> f64 {
        match self {
            PyNumber::Int(i) => i as f64,
            PyNumber::Float(f) => f,
        }
    }

    /// Reads a value written by `str()`: the form `str(int)` writes (`-?[0-9]+`, no
    /// leading zero or `-0`) is an `Int` when it fits, anything Python's `float()`
    /// accepts is a `Float`. So rendering what was read gives the same text back.
    pub fn from_text(s: &str) -> Option<PyNumber> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        let int_form = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && s != "-0";
        if int_form {
            if let Ok(i) = s.parse::<i64>() {
                return Some(PyNumber::Int(i));
            }
        }
        py_float(s).map(PyNumber::Float)
    }
}

impl From<f64> for PyNumber {
    fn from(value: f64) -> Self {
        PyNumber::Float(value)
    }
}

impl From<i64> for PyNumber {
    fn from(value: i64) -> Self {
        PyNumber::Int(value)
    }
}

impl PartialEq<f64> for PyNumber {
    fn eq(&self, other: &f64) -> bool {
        self.as_f64() == *other
    }
}

impl fmt::Display for PyNumber {
    /// Python's `str()`: `1` for an int, `repr` for a float.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PyNumber::Int(i) => write!(f, "{i}"),
            PyNumber::Float(x) => f.write_str(&py_float_repr(*x)),
        }
    }
}

impl Serialize for PyNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PyNumber::Int(i) => serializer.serialize_i64(*i),
            PyNumber::Float(x) => serializer.serialize_f64(*x),
        }
    }
}

impl<'de> serde::Deserialize<'de> for PyNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = PyNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a float")
            }
            fn visit_i64<E>(self, v: i64) -> Result<PyNumber, E> {
                Ok(PyNumber::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<PyNumber, E> {
                Ok(i64::try_from(v).map_or(PyNumber::Float(v as f64), PyNumber::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<PyNumber, E> {
                Ok(PyNumber::Float(v))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Python `json.dumps(str)` with `ensure_ascii=True`.
pub fn py_json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Python `json.dumps(list_of_str)`: `["a", "b"]`, `[]` when empty, ensure_ascii.
pub fn py_json_str_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| py_json_str(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

/// Python `json.dumps(value)` for a JSON value (separators `", "`/`": "`, ensure_ascii,
/// floats as `repr`). Object keys come out in `serde_json`'s map order.
pub fn py_json_dumps(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Number(n) => {
            if n.is_f64() {
                n.as_f64()
                    .map(py_float_repr)
                    .unwrap_or_else(|| n.to_string())
            } else {
                n.to_string()
            }
        }
        Value::String(s) => py_json_str(s),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(py_json_dumps).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", py_json_str(k), py_json_dumps(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

// ---------------------------------------------------------------------------
// Streaming line reader
// ---------------------------------------------------------------------------

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
/// line), strips one leading UTF-8 BOM (a FIXABLE fix, §3.1; [`LineReader::had_bom`] tells),
/// and reports invalid UTF-8 and I/O errors as located [`Diagnostic`]s instead of panicking.
/// Memory stays bounded by the longest line.
pub struct LineReader<R> {
    reader: R,
    path: Option<PathBuf>,
    number: usize,
    buf: Vec<u8>,
    pending: std::collections::VecDeque<(Vec<u8>, bool)>,
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

/// Splits normalised text into lines like Python's `split("\n")` after dropping the final
/// terminator: returns the lines and whether the text ended with LF.
pub fn split_lines(text: &str) -> (Vec<&str>, bool) {
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
pub fn rerender_lines(
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

    fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn renders_every_timestamp_format() {
        let t = dt(2025, 7, 6, 9, 5);
        assert_eq!(ts_h(&t), "July 06 2025 at 09:05");
        assert_eq!(ts_hc(&dt(2025, 7, 7, 0, 1)), "July 07, 2025 at 00:01");
        assert_eq!(ts_my(&t), "July 2025");
        assert_eq!(ts_day(&t), "July 06 2025");
        assert_eq!(ts_hm(&t), "09:05");
        assert_eq!(ts_iso(&dt(2025, 7, 6, 9, 6)), "2025-07-06T09:06:00");
        let us = NaiveDate::from_ymd_opt(2025, 7, 6)
            .unwrap()
            .and_hms_micro_opt(9, 5, 7, 123456)
            .unwrap();
        assert_eq!(ts_iso(&us), "2025-07-06T09:05:07.123456");
        let aware = NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_micro_opt(13, 26, 6, 416785)
            .unwrap()
            .and_utc()
            .fixed_offset();
        assert_eq!(ts_iso_aware(&aware), "2026-11-26T13:26:06.416785+00:00");
        let s5 = NaiveDate::from_ymd_opt(2099, 7, 15)
            .unwrap()
            .and_hms_micro_opt(9, 5, 7, 5)
            .unwrap();
        assert_eq!(ts_str(&s5), "2099-07-15 09:05:07.000005");
        assert_eq!(ym(&t), "2025_07");
        assert_eq!(prayer_base(&t), "2025_07_06_prayer_at_0905");
        assert_eq!(app_stamp(&dt(2025, 6, 15, 12, 0)), "20250615_120000");
        assert_eq!(date_only(&dt(2025, 7, 2, 0, 0)), "2025-07-02");
    }

    #[test]
    fn strptime_tolerance_matches_python() {
        assert_eq!(
            strptime_ts_h("June 01 2024 at 10:00"),
            Some(dt(2024, 6, 1, 10, 0))
        );
        assert_eq!(
            strptime_ts_h("JUNE 01 2024 AT 10:00"),
            Some(dt(2024, 6, 1, 10, 0))
        );
        assert_eq!(
            strptime_ts_h("june 1 2024 AT 9:5"),
            Some(dt(2024, 6, 1, 9, 5))
        );
        assert_eq!(
            strptime_ts_h("June  01 2024\tat 10:00"),
            Some(dt(2024, 6, 1, 10, 0))
        );
        assert_eq!(
            strptime_ts_h("June  1 2024 at 10:00"),
            Some(dt(2024, 6, 1, 10, 0))
        );
        assert_eq!(strptime_ts_h("June 01 2024 at 10:00:33"), None);
        assert_eq!(strptime_ts_h("Jun 01 2024 at 10:00"), None);
        assert_eq!(strptime_ts_h("2025-07-06T09:05:00"), None);
        assert_eq!(strptime_ts_h("June 31 2024 at 10:00"), None);
        assert_eq!(strptime_ts_h("June 01 2024 at 24:00"), None);
        assert_eq!(strptime_ts_h("June 01 2024 at 10:00 "), None);
        assert_eq!(strptime_ts_h("June 01 0000 at 10:00"), None);
        // `\d` is Unicode (the year, second digits), the literal classes are ASCII.
        assert_eq!(
            strptime_ts_h("June 1٦ ٢٠٢٤ at 0٩:٥"),
            Some(dt(2024, 6, 16, 9, 5))
        );
        assert_eq!(strptime_ts_h("June ٠١ 2024 at 10:00"), None);
        assert_eq!(
            strptime_ts_h_seconds("June 01 2024 at 10:00:33"),
            Some(dt(2024, 6, 1, 10, 0).with_second(33).unwrap())
        );
    }

    #[test]
    fn fromisoformat_forms() {
        let n = |s| py_fromisoformat(s).map(|v| v.isoformat());
        assert_eq!(n("2025-07-06").as_deref(), Some("2025-07-06T00:00:00"));
        assert_eq!(
            n("2025-07-06T09:05:07.123456").as_deref(),
            Some("2025-07-06T09:05:07.123456")
        );
        assert_eq!(
            n("2025-07-06 09:05").as_deref(),
            Some("2025-07-06T09:05:00")
        );
        assert_eq!(
            n("2025-07-06T09:05:07.1").as_deref(),
            Some("2025-07-06T09:05:07.100000")
        );
        assert_eq!(
            n("2025-07-06T09:05:00+02:00").as_deref(),
            Some("2025-07-06T09:05:00+02:00")
        );
        assert_eq!(n("20250706T0905").as_deref(), Some("2025-07-06T09:05:00"));
        assert_eq!(
            n("2025-07-06T09:05Z").as_deref(),
            Some("2025-07-06T09:05:00+00:00")
        );
        assert_eq!(n("2025-07-6"), None);
        assert_eq!(n("July 06 2025 at 09:05"), None);
        assert!(parse_recovery_timestamp("never").unwrap().is_none());
        assert!(parse_recovery_timestamp("abc123").is_err());
        assert!(parse_recovery_timestamp("2025-07-06 09:05:07")
            .unwrap()
            .is_some());
    }

    #[test]
    fn python_strip_and_int() {
        assert_eq!(py_strip("\u{1c}\u{a0} x \u{3000}"), "x");
        assert_eq!(py_strip("\u{feff}x"), "\u{feff}x");
        assert_eq!(py_int("00123"), Some(123));
        assert_eq!(py_int("1_000"), Some(1000));
        assert_eq!(py_int("1__0"), None);
        assert_eq!(py_int("_1"), None);
        assert_eq!(py_int(" -٣ "), Some(-3));
        assert_eq!(py_int("temp"), None);
        assert_eq!(
            py_splitlines("a\r\nb\u{2028}c\rd\n"),
            vec!["a", "b", "c", "d"]
        );
    }

    #[test]
    fn python_value_rendering() {
        assert_eq!(py_float_repr(1.0), "1.0");
        assert_eq!(py_float_repr(0.0), "0.0");
        assert_eq!(py_float_repr(0.95), "0.95");
        assert_eq!(py_float_repr(0.6), "0.6");
        assert_eq!(py_float_repr(1e-5), "1e-05");
        assert_eq!(py_float_repr(1e16), "1e+16");
        assert_eq!(py_float_repr(1.5e-7), "1.5e-07");
        assert_eq!(py_float_repr(123456789012345.0), "123456789012345.0");
        assert_eq!(py_float_repr(0.0001), "0.0001");
        assert_eq!(py_float_repr(-2.5), "-2.5");
        assert_eq!(py_json_str_list(&["a", "é"]), r#"["a", "\u00e9"]"#);
        assert_eq!(py_json_str_list::<&str>(&[]), "[]");
        assert_eq!(
            py_json_str_list(&["😀\"\n\u{1}"]),
            r#"["\ud83d\ude00\"\n\u0001"]"#
        );
    }

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
