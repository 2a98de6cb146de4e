//! Python's numbers as text: `int()` and `float()` of a `str` (Unicode decimal digits,
//! underscores), `repr(float)`, and [`PyNumber`], an `int` or a `float` kept apart.

use std::fmt;

use serde::Serialize;

use super::strings::py_strip;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_of_python_strings() {
        assert_eq!(py_int("00123"), Some(123));
        assert_eq!(py_int("1_000"), Some(1000));
        assert_eq!(py_int("1__0"), None);
        assert_eq!(py_int("_1"), None);
        assert_eq!(py_int(" -٣ "), Some(-3));
        assert_eq!(py_int("temp"), None);
    }

    #[test]
    fn float_repr() {
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
    }
}
