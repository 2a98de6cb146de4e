//! The fields of a one-line record: splitting at `|` (with an absorbing field, or honouring
//! the export's `\|` escape), the pipe replacements the writers apply, and the timestamps and
//! booleans the fields hold.
//!
//! Pipes inside values: ThyWill escapes nothing in most fields. Each record type names one
//! *absorbing* field (the one most likely to hold a raw `|`, usually a user name or free
//! text); when a line has more separators than the layout, the surplus stays inside that
//! field, where ThyWill's readers shift or drop such records (`docs/format-fixes.md`). A raw
//! `|` in any other non-escaped field cannot be told apart and is documented per type.

use super::timestamp::{self, HumanTime};
use crate::pycompat::datetime::{self, PyDateTime};

/// Splits `line` on `|` into exactly `n` fields. Surplus separators stay inside field
/// `absorb`; too few separators is an error naming the counts.
pub(crate) fn split_absorbing(line: &str, n: usize, absorb: usize) -> Result<Vec<&str>, String> {
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

/// Splits on `|` not preceded by a backslash: the export's `\|` escape, which no ThyWill
/// importer honours (`docs/format-fixes.md`, export-all files). Exactly `n` fields; surplus
/// unescaped separators stay in field `absorb`.
pub(crate) fn split_escaped(line: &str, n: usize, absorb: usize) -> Result<Vec<&str>, String> {
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
pub(crate) fn unescape_pipe(s: &str) -> String {
    s.replace("\\|", "|")
}

/// The live writers' replacement: `|` → `_`.
pub(crate) fn underscore_pipe(s: &str) -> String {
    s.replace('|', "_")
}

/// Parses an ISO timestamp field (`fromisoformat` first, then the recovery fallbacks).
pub(crate) fn parse_iso(field: &str, what: &str) -> Result<PyDateTime, String> {
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
pub(crate) fn parse_opt_iso(field: &str, what: &str) -> Result<Option<PyDateTime>, String> {
    if field.is_empty() {
        Ok(None)
    } else {
        parse_iso(field, what).map(Some)
    }
}

/// `isoformat()` of an optional value, `''` for `None`.
pub(crate) fn render_opt_iso(t: &Option<PyDateTime>) -> String {
    t.as_ref().map(PyDateTime::isoformat).unwrap_or_default()
}

/// Parses a `TS_H` field leniently (strptime tolerance, then the recovery fallbacks),
/// keeping its exact text.
pub(crate) fn parse_human(field: &str, what: &str) -> Result<HumanTime, String> {
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
pub(crate) fn parse_py_bool(field: &str, what: &str) -> Result<bool, String> {
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
pub(crate) fn parse_yes_no(field: &str, what: &str) -> Result<bool, String> {
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
}
