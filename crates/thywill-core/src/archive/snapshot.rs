//! ThyWill's small full-rewrite snapshot files: the sessions snapshot (`auth/`), the role
//! definitions (`roles/`) and the system configuration (`system/`). Each is a title with a
//! stamp, a `Format:` line, one row per line and a `<label>: <n>` trailer, rewritten whole.

use std::path::Path;

use super::diagnostics::Diagnostic;
use super::lines::decode_lines;

/// The shape of ThyWill's small full-rewrite snapshot files (sessions snapshot, role
/// definitions, system configuration): `<title_prefix><stamp>` on line 1, `format_line` on
/// line 2, one row per line, and a `<total_label>: <n>` trailer.
pub(crate) struct SnapshotLayout<'a> {
    /// Line 1 up to the stamp, e.g. `"Role Definitions - Updated "`.
    pub title_prefix: &'a str,
    /// Line 2 exactly.
    pub format_line: &'a str,
    /// The trailer's label, e.g. `"Total roles"`.
    pub total_label: &'a str,
    /// The diagnostic for a trailer whose count does not parse.
    pub bad_total: &'a str,
}

/// A parsed snapshot file: the title's stamp, the rows, and the trailer's count (the
/// number of rows when the trailer is missing).
pub(crate) struct Snapshot<T> {
    pub stamp: String,
    pub rows: Vec<T>,
    pub total: u64,
}

/// Parses a snapshot file of `layout`; rows that `parse_row` refuses, a bad trailer and a
/// missing trailer become diagnostics.
pub(crate) fn parse_snapshot<T>(
    bytes: &[u8],
    path: Option<&Path>,
    layout: &SnapshotLayout<'_>,
    mut parse_row: impl FnMut(&str) -> Result<T, String>,
) -> (Snapshot<T>, Vec<Diagnostic>) {
    let mut file = Snapshot {
        stamp: String::new(),
        rows: Vec::new(),
        total: 0,
    };
    let content = match decode_lines(bytes, path) {
        Ok(c) => c,
        Err(d) => return (file, vec![d]),
    };
    let mut diags = Vec::new();
    let mut saw_total = false;
    let total_prefix = format!("{}: ", layout.total_label);
    for (i, line) in content.split('\n').enumerate() {
        let n = i + 1;
        if let Some(stamp) = line.strip_prefix(layout.title_prefix).filter(|_| n == 1) {
            file.stamp = stamp.to_string();
        } else if line.is_empty() || (n == 2 && line == layout.format_line) {
        } else if let Some(t) = line.strip_prefix(total_prefix.as_str()) {
            match t.parse() {
                Ok(v) => {
                    file.total = v;
                    saw_total = true;
                }
                Err(_) => diags.push(Diagnostic::new(path, n, layout.bad_total)),
            }
        } else {
            match parse_row(line) {
                Ok(row) => file.rows.push(row),
                Err(e) => diags.push(Diagnostic::new(path, n, e)),
            }
        }
    }
    if !saw_total {
        file.total = file.rows.len() as u64;
        diags.push(Diagnostic::new(
            path,
            0,
            format!("missing `{}` trailer", layout.total_label),
        ));
    }
    (file, diags)
}
