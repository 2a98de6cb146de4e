//! Python's `str` rules: `isspace()`, `strip()`, `split()`, and `str()` of `None`,
//! `bool` and optional strings.

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

/// `str(None)`.
pub(crate) const PY_NONE: &str = "None";

/// `str(bool)`: `True` / `False`.
pub(crate) fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// `str(x)` of an optional string: the value, or `None`.
pub(crate) fn py_opt_str(v: Option<&str>) -> &str {
    v.unwrap_or(PY_NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_uses_python_whitespace() {
        assert_eq!(py_strip("\u{1c}\u{a0} x \u{3000}"), "x");
        assert_eq!(py_strip("\u{feff}x"), "\u{feff}x");
        assert_eq!(
            py_split_whitespace("\u{1f}a  b\u{2003}c ").collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(py_bool(true), "True");
        assert_eq!(py_opt_str(None), "None");
    }
}
