//! Python's `datetime` as text: `isoformat()`, `str()`, `fromisoformat()` (3.11) and
//! `strptime()` with the formats ThyWill's archives use, and [`PyDateTime`], a naive or
//! aware value.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::Serialize;

use super::number::py_decimal_digit;
use super::strings::py_is_whitespace;

/// English month names, as Python's C locale renders `%B`.
pub(crate) const MONTH_NAMES: [&str; 12] = [
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

/// `datetime.isoformat()` of a naive value (the archive's `TS_ISO`): microseconds only
/// if non-zero.
pub fn py_isoformat(t: &NaiveDateTime) -> String {
    format!("{}T{}", iso_date(&t.date()), iso_time(&t.time()))
}

/// `isoformat()` of an aware value: as [`py_isoformat`] plus `+HH:MM` (`+00:00` for UTC).
pub(crate) fn py_isoformat_aware(t: &DateTime<FixedOffset>) -> String {
    format!(
        "{}{}",
        py_isoformat(&t.naive_local()),
        py_utcoffset(t.offset().local_minus_utc())
    )
}

/// `str(datetime)` of a naive value (the archive's `TS_STR`): like [`py_isoformat`] with a
/// space separator.
pub(crate) fn py_datetime_str(t: &NaiveDateTime) -> String {
    format!("{} {}", iso_date(&t.date()), iso_time(&t.time()))
}

/// `str()` of an aware datetime.
pub(crate) fn py_datetime_str_aware(t: &DateTime<FixedOffset>) -> String {
    format!(
        "{}{}",
        py_datetime_str(&t.naive_local()),
        py_utcoffset(t.offset().local_minus_utc())
    )
}

/// Python's `%Y` and `isoformat` pad the year to 4 digits.
pub(crate) fn py_year(y: i32) -> String {
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

/// Python's `datetime.strptime(s, "%B %d %Y at %H:%M")`, exactly: case-insensitive,
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

/// Python's `datetime.strptime(s, "%B %d %Y at %H:%M:%S")` (used by recovery).
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

/// `strptime(s, "%Y-%m-%d %H:%M:%S")` (the last recovery fallback), ASCII-strict enough
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
            PyDateTime::Naive(t) => py_isoformat(t),
            PyDateTime::Aware(t) => py_isoformat_aware(t),
        }
    }

    /// `str()`: [`PyDateTime::isoformat`] with a space separator (the archive's `TS_STR`).
    pub fn py_str(&self) -> String {
        match self {
            PyDateTime::Naive(t) => py_datetime_str(t),
            PyDateTime::Aware(t) => py_datetime_str_aware(t),
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
    fn isoformat_and_str_of_datetimes() {
        assert_eq!(py_isoformat(&dt(2025, 7, 6, 9, 6)), "2025-07-06T09:06:00");
        let us = NaiveDate::from_ymd_opt(2025, 7, 6)
            .unwrap()
            .and_hms_micro_opt(9, 5, 7, 123456)
            .unwrap();
        assert_eq!(py_isoformat(&us), "2025-07-06T09:05:07.123456");
        let small = NaiveDate::from_ymd_opt(2025, 6, 9)
            .unwrap()
            .and_hms_micro_opt(18, 2, 0, 100)
            .unwrap();
        assert_eq!(py_isoformat(&small), "2025-06-09T18:02:00.000100");
        let aware = NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_micro_opt(13, 26, 6, 416785)
            .unwrap()
            .and_utc()
            .fixed_offset();
        assert_eq!(
            py_isoformat_aware(&aware),
            "2026-11-26T13:26:06.416785+00:00"
        );
        let s5 = NaiveDate::from_ymd_opt(2099, 7, 15)
            .unwrap()
            .and_hms_micro_opt(9, 5, 7, 5)
            .unwrap();
        assert_eq!(py_datetime_str(&s5), "2099-07-15 09:05:07.000005");
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
    }
}
