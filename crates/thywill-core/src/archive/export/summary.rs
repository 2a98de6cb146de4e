//! `export_summary.txt`, written last by an export: when it ran and how many records of
//! each category it wrote.

use std::path::Path;

use serde::Serialize;

use crate::archive::diagnostics::Diagnostic;
use crate::archive::fields::parse_human;
use crate::archive::lines::decode_lines;
use crate::archive::timestamp::HumanTime;

/// `export_summary.txt`: lines joined by LF, no final LF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// `Exported:` time (`utcnow`), `TS_H`.
    pub exported_at: HumanTime,
    /// `(category, count)` in ThyWill's order (`prayer_data`, `user_data`,
    /// `user_attributes`, `sessions`, `authentication`, `invites`, `roles`, `security`,
    /// `system`), only categories with ≥1 record.
    pub categories: Vec<(String, u64)>,
}

impl ExportSummary {
    /// Writes the file (ThyWill overwrites in place; this writes atomically, which readers
    /// cannot tell apart except that they never see a half-written file). The folder must
    /// exist.
    pub fn write(&self, path: &Path) -> crate::Result<()> {
        crate::archive::fileops::atomic_write(path, self.render().as_bytes())
    }

    /// The bytes.
    pub fn render(&self) -> String {
        let mut lines = vec![
            "Complete Database Export Summary".to_string(),
            format!("Exported: {}", self.exported_at),
            String::new(),
            "This export includes all database data organized by category:".to_string(),
        ];
        for (c, n) in &self.categories {
            lines.push(format!("\u{2022} {c}: {n} records"));
        }
        lines.join("\n")
    }

    /// Parses the summary; unreadable lines become diagnostics.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> (Self, Vec<Diagnostic>) {
        let mut s = ExportSummary {
            exported_at: HumanTime::parse(""),
            categories: Vec::new(),
        };
        let content = match decode_lines(bytes, path) {
            Ok(c) => c,
            Err(d) => return (s, vec![d]),
        };
        let mut diags = Vec::new();
        for (i, line) in content.split('\n').enumerate() {
            let n = i + 1;
            if let Some(t) = line.strip_prefix("Exported: ") {
                match parse_human(t, "Exported") {
                    Ok(h) => s.exported_at = h,
                    Err(e) => diags.push(Diagnostic::new(path, n, e)),
                }
            } else if let Some(rest) = line.strip_prefix("\u{2022} ") {
                let parsed = rest
                    .strip_suffix(" records")
                    .and_then(|r| r.rsplit_once(": "))
                    .and_then(|(c, k)| Some((c.to_string(), k.parse::<u64>().ok()?)));
                match parsed {
                    Some(p) => s.categories.push(p),
                    None => {
                        diags.push(Diagnostic::new(path, n, "expected `• category: n records`"))
                    }
                }
            } else if !(line.is_empty()
                || line == "Complete Database Export Summary"
                || line == "This export includes all database data organized by category:")
            {
                diags.push(Diagnostic::new(
                    path,
                    n,
                    "unexpected line in export summary",
                ));
            }
        }
        (s, diags)
    }
}
