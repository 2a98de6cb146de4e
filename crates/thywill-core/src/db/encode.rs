//! Value encodings exactly as ThyWill's SQLAlchemy/SQLModel layer writes them.

use std::fmt::Write as _;
use std::sync::Mutex;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::{Error, Result};

/// Renders a naive datetime as SQLAlchemy stores it in SQLite: always 26 characters,
/// `YYYY-MM-DD HH:MM:SS.ffffff`. Python compares these as strings, so the form must be exact.
pub fn format_datetime(value: &NaiveDateTime) -> String {
    datetime_text(value).as_str().to_owned()
}

/// [`format_datetime`] without a heap allocation, for the rows an import writes.
pub(crate) fn datetime_text(value: &NaiveDateTime) -> StackText<32> {
    let mut text = StackText::<32>::new();
    let year = value.year();
    if !(0..=9999).contains(&year) {
        // At most 7 characters of year (sign included) + 22: fits the 32 bytes.
        let _ = write!(
            text,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
            year,
            value.month(),
            value.day(),
            value.hour(),
            value.minute(),
            value.second(),
            value.nanosecond() / 1000 % 1_000_000
        );
        return text;
    }
    let mut buf = *b"0000-00-00 00:00:00.000000";
    let mut put = |start: usize, width: usize, mut n: u32| {
        for slot in buf[start..start + width].iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, value.month());
    put(8, 2, value.day());
    put(11, 2, value.hour());
    put(14, 2, value.minute());
    put(17, 2, value.second());
    put(20, 6, value.nanosecond() / 1000 % 1_000_000);
    text.push_ascii(&buf);
    text
}

/// A short text kept on the stack: the ids and timestamps bound to every inserted row,
/// which would otherwise cost an allocation and a free each.
#[derive(Clone, Copy)]
pub struct StackText<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> StackText<N> {
    fn new() -> Self {
        StackText {
            buf: [0; N],
            len: 0,
        }
    }

    /// Appends ASCII bytes (truncated at the capacity, which callers size for their text).
    fn push_ascii(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.is_ascii());
        let n = bytes.len().min(N - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII (or whole `write!` fragments, see `write_str`) is ever stored.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl<const N: usize> std::fmt::Write for StackText<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if s.len() > N - self.len {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
        self.len += s.len();
        Ok(())
    }
}

impl<const N: usize> std::ops::Deref for StackText<N> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> std::fmt::Display for StackText<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> std::fmt::Debug for StackText<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> rusqlite::ToSql for StackText<N> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(
            rusqlite::types::ValueRef::Text(self.as_str().as_bytes()),
        ))
    }
}

/// The minute a datetime falls in as a number (minutes since 1970): equal exactly when
/// the [`minute_key`] texts are equal, and free to compute.
pub fn minute_number(value: &NaiveDateTime) -> i64 {
    value.and_utc().timestamp().div_euclid(60)
}

/// Reads a database datetime leniently: `T` or space separator, no fraction or 1–6
/// fraction digits (raw `sqlite3` writes), optional trailing `Z` or `±HH:MM` (dropped
/// without conversion, as SQLAlchemy does), or a bare date.
pub fn parse_datetime(text: &str) -> Result<NaiveDateTime> {
    let bad = || Error::InvalidInput(format!("not a ThyWill datetime: {text:?}"));
    let s = text.trim();
    let date_part = s.get(..10).ok_or_else(bad)?;
    let date = NaiveDate::parse_from_str(date_part, "%Y-%m-%d").map_err(|_| bad())?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Ok(date.and_time(NaiveTime::MIN));
    }
    let rest = rest
        .strip_prefix(' ')
        .or_else(|| rest.strip_prefix('T'))
        .ok_or_else(bad)?;
    let rest = strip_zone_suffix(rest);
    let (hms, fraction) = match rest.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (rest, None),
    };
    let mut fields = hms.split(':');
    let mut next = || -> Result<u32> {
        let field = fields.next().ok_or_else(bad)?;
        if field.len() != 2 || !field.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        field.parse().map_err(|_| bad())
    };
    let (hour, minute) = (next()?, next()?);
    let second = if hms.len() > 5 { next()? } else { 0 };
    let micros = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 6 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{f:0<6}");
            padded.parse::<u32>().map_err(|_| bad())?
        }
        Some(_) => return Err(bad()),
    };
    let time = NaiveTime::from_hms_micro_opt(hour, minute, second, micros).ok_or_else(bad)?;
    Ok(date.and_time(time))
}

fn strip_zone_suffix(s: &str) -> &str {
    if let Some(stripped) = s.strip_suffix('Z') {
        return stripped;
    }
    if s.len() > 6 {
        let (head, tail) = s.split_at(s.len() - 6);
        let t = tail.as_bytes();
        if (t[0] == b'+' || t[0] == b'-') && t[3] == b':' {
            return head;
        }
    }
    s
}

/// The minute a datetime falls in, as the 16-character prefix `YYYY-MM-DD HH:MM` of its
/// database form. Text archives carry minutes only, so this is the identity used to
/// match archive lines with rows.
pub fn minute_key(value: &NaiveDateTime) -> String {
    let mut text = format_datetime(value);
    text.truncate(16);
    text
}

/// [`minute_number`] of a stored datetime text: `Some` exactly when its
/// [`minute_of_stored`] prefix is the [`minute_key`] of some datetime of the years
/// 0–9999 (a well-formed `YYYY-MM-DD HH:MM` or `YYYY-MM-DDTHH:MM` start), so comparing
/// numbers matches rows as comparing the texts does; other texts match no minute.
pub(crate) fn stored_minute_number(text: &str) -> Option<i64> {
    let b = text.as_bytes().get(..16)?;
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') || b[13] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
    let at = date.and_hms_opt(digits(11..13)?, digits(14..16)?, 0)?;
    Some(minute_number(&at))
}

/// The minute prefix of a stored datetime text, tolerant of a `T` separator.
pub fn minute_of_stored(text: &str) -> String {
    // The first 16 characters (not bytes), with the first `T` among them made a space;
    // sliced rather than collected char by char, as it runs for every existing row.
    let end = text.char_indices().nth(16).map_or(text.len(), |(i, _)| i);
    let prefix = &text[..end];
    match prefix.find('T') {
        Some(t) => {
            let mut out = String::with_capacity(prefix.len());
            out.push_str(&prefix[..t]);
            out.push(' ');
            out.push_str(&prefix[t + 1..]);
            out
        }
        None => prefix.to_owned(),
    }
}

/// Identifiers in the shapes ThyWill generates.
///
/// Row ids (`uuid4_hex`, `token_hex16`) start with a 48-bit prefix that increases with
/// every id (from the clock at creation, then a counter) followed by 74 random bits: they
/// keep ThyWill's shape (32 lowercase hex digits, version-4 and variant bits for uuid4
/// columns) and are unique, but bulk inserts append to the primary-key index instead of
/// touching a random page per row, which keeps large imports linear in time. Invite
/// tokens, which are secrets, are fully random.
#[derive(Debug)]
pub struct IdGenerator {
    pool: Mutex<Vec<u8>>,
    next_prefix: std::sync::atomic::AtomicU64,
}

impl Default for IdGenerator {
    fn default() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        IdGenerator {
            pool: Mutex::new(Vec::new()),
            // 16 ids per millisecond of headroom between runs; fits 48 bits until ~2500.
            next_prefix: std::sync::atomic::AtomicU64::new((millis << 4) & PREFIX_MASK),
        }
    }
}

const PREFIX_MASK: u64 = (1 << 48) - 1;

impl IdGenerator {
    /// A generator drawing from the operating system's random source.
    pub fn new() -> Self {
        Self::default()
    }

    fn random_bytes<const N: usize>(&self) -> Result<[u8; N]> {
        let mut pool = self
            .pool
            .lock()
            .map_err(|_| Error::Internal("id generator lock poisoned".into()))?;
        if pool.len() < N {
            let mut fresh = vec![0u8; 8192];
            getrandom::fill(&mut fresh)
                .map_err(|e| Error::Internal(format!("no random source: {e}")))?;
            pool.extend_from_slice(&fresh);
        }
        let mut out = [0u8; N];
        let start = pool.len() - N;
        out.copy_from_slice(&pool[start..]);
        pool.truncate(start);
        Ok(out)
    }

    fn ordered_bytes(&self) -> Result<[u8; 16]> {
        let mut bytes = self.random_bytes::<16>()?;
        let prefix = self
            .next_prefix
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            & PREFIX_MASK;
        bytes[..6].copy_from_slice(&prefix.to_be_bytes()[2..]);
        Ok(bytes)
    }

    /// `uuid.uuid4().hex` shape: 32 lowercase hex digits with the version-4 and RFC 4122
    /// variant bits.
    pub fn uuid4_hex(&self) -> Result<String> {
        Ok(self.uuid4_hex_text()?.as_str().to_owned())
    }

    /// [`IdGenerator::uuid4_hex`] without a heap allocation.
    pub fn uuid4_hex_text(&self) -> Result<StackText<32>> {
        let mut bytes = self.ordered_bytes()?;
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Ok(hex_text(&bytes))
    }

    /// `secrets.token_hex(16)` shape: 32 lowercase hex digits (attributes and activity logs).
    pub fn token_hex16(&self) -> Result<String> {
        Ok(self.token_hex16_text()?.as_str().to_owned())
    }

    /// [`IdGenerator::token_hex16`] without a heap allocation.
    pub fn token_hex16_text(&self) -> Result<StackText<32>> {
        Ok(hex_text(&self.ordered_bytes()?))
    }

    /// `secrets.token_hex(8)`: a fully random 16-hex-digit invite token.
    pub fn invite_token(&self) -> Result<String> {
        Ok(lower_hex(&self.random_bytes::<8>()?))
    }
}

/// Lowercase hex, as `hex::encode` gives, in one allocation: an import makes an id for
/// every row, and `hex::encode` collects one `char` at a time.
fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn hex_text(bytes: &[u8; 16]) -> StackText<32> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0x0f)];
    }
    let mut text = StackText::new();
    text.push_ascii(&out);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// True when `text` is `len` lowercase hexadecimal digits.
    fn is_lower_hex(text: &str, len: usize) -> bool {
        text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    #[test]
    fn lower_hex_matches_the_hex_crate() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(lower_hex(&bytes), hex::encode(&bytes));
        assert_eq!(lower_hex(&[]), "");
    }

    #[test]
    fn minute_of_stored_keeps_sixteen_characters_with_a_space_separator() {
        assert_eq!(
            minute_of_stored("2024-07-29T15:43:31.109805"),
            "2024-07-29 15:43"
        );
        assert_eq!(
            minute_of_stored("2024-07-29 15:43:31.109805"),
            "2024-07-29 15:43"
        );
        assert_eq!(minute_of_stored("2024-07-29 15:43"), "2024-07-29 15:43");
        assert_eq!(minute_of_stored("2024-07"), "2024-07");
        assert_eq!(minute_of_stored(""), "");
        // Characters, not bytes; only the first `T` changes.
        assert_eq!(minute_of_stored("ééééTTéééééééééééé"), "éééé Téééééééééé");
    }

    #[test]
    fn datetimes_round_trip_in_the_26_char_form() {
        let dt = parse_datetime("2024-07-29 15:43:31.109805").unwrap();
        assert_eq!(format_datetime(&dt), "2024-07-29 15:43:31.109805");
        let dt = parse_datetime("2024-07-29T15:43:31").unwrap();
        assert_eq!(format_datetime(&dt), "2024-07-29 15:43:31.000000");
        let dt = parse_datetime("2024-07-29 15:43:31.1").unwrap();
        assert_eq!(format_datetime(&dt), "2024-07-29 15:43:31.100000");
        let dt = parse_datetime("2024-07-29T15:43:31.5+02:00").unwrap();
        assert_eq!(format_datetime(&dt), "2024-07-29 15:43:31.500000");
        assert_eq!(
            format_datetime(&parse_datetime("2024-07-29").unwrap()).len(),
            26
        );
        assert!(parse_datetime("July 29 2024").is_err());
        assert!(parse_datetime("2024-07-29 15:43:31.1234567").is_err());
    }

    #[test]
    fn stack_texts_equal_the_allocating_forms() {
        for text in [
            "2024-07-29 15:43:31.109805",
            "0001-01-01 00:00:00.000000",
            "9999-12-31 23:59:59.999999",
        ] {
            let dt = parse_datetime(text).unwrap();
            assert_eq!(datetime_text(&dt).as_str(), text);
        }
        let far = NaiveDate::from_ymd_opt(-12345, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 6)
            .unwrap();
        assert_eq!(datetime_text(&far).as_str(), "-12345-01-02 03:04:05.000006");
        let bytes: [u8; 16] = core::array::from_fn(|i| (i * 17) as u8);
        assert_eq!(hex_text(&bytes).as_str(), hex::encode(bytes));
        let a = parse_datetime("2024-07-29 15:43:59.999999").unwrap();
        let b = parse_datetime("2024-07-29 15:43:00").unwrap();
        let c = parse_datetime("2024-07-29 15:44:00").unwrap();
        assert_eq!(minute_number(&a), minute_number(&b));
        assert_eq!(minute_number(&c), minute_number(&b) + 1);
        let early = parse_datetime("1969-12-31 23:59:30").unwrap();
        assert_eq!(minute_number(&early), -1);
        // Stored texts: the same number as their minute, or none when malformed.
        for stored in [
            "2024-07-29 15:43:31.109805",
            "2024-07-29T15:43:31",
            "2024-07-29 15:43",
            "0000-01-01 00:00:00.000000",
        ] {
            let at = parse_datetime(stored).unwrap();
            assert_eq!(stored_minute_number(stored), Some(minute_number(&at)));
            assert_eq!(minute_of_stored(stored), minute_key(&at));
        }
        for malformed in [
            "2024-07-29",
            "2024-02-30 10:00:00",
            "2024-07-29 24:00:00",
            "2024-07-29_15:43:00",
            "2024-07-2x 15:43:00",
            "ééééTTéééééééééééé",
            "",
        ] {
            assert_eq!(stored_minute_number(malformed), None, "{malformed}");
        }
    }

    #[test]
    fn ids_have_thywill_shapes() {
        let ids = IdGenerator::new();
        let u = ids.uuid4_hex().unwrap();
        assert!(is_lower_hex(&u, 32));
        assert_eq!(&u[12..13], "4");
        assert!(matches!(&u[16..17], "8" | "9" | "a" | "b"));
        assert!(is_lower_hex(&ids.token_hex16().unwrap(), 32));
        assert!(is_lower_hex(&ids.invite_token().unwrap(), 16));
        assert_ne!(ids.uuid4_hex().unwrap(), ids.uuid4_hex().unwrap());
        // Successive row ids sort in creation order (index appends, not random inserts).
        let a = ids.token_hex16().unwrap();
        let b = ids.token_hex16().unwrap();
        assert!(a < b, "{a} {b}");
        let u = ids.uuid4_hex().unwrap();
        let v = ids.uuid4_hex().unwrap();
        assert!(u < v, "{u} {v}");
    }
}
