//! The categorization block of prayer files and ThyWill's
//! `parse_prayer_archive_categorization` reader.

use serde::{Deserialize, Serialize};

use crate::pycompat::json::py_json_str_list;
use crate::pycompat::number::PyNumber;
use crate::pycompat::strings::py_strip;

/// The six categorization values of a prayer. Keys missing when deserializing take the
/// writer's defaults, as ThyWill's writer fills a partial categorization dict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default = "Categorization::writer_defaults")]
pub struct Categorization {
    /// `Safety Score:`, written as Python's `str()` writes it: `1.0` for a float, `1`
    /// for an int (ThyWill writes whatever its dict holds).
    pub safety_score: PyNumber,
    /// `Safety Flags:` (rendered as a JSON list).
    pub safety_flags: Vec<String>,
    /// `Category:`.
    pub subject_category: String,
    /// `Specificity:`.
    pub specificity_type: String,
    /// `Categorization Method:`.
    pub categorization_method: String,
    /// `Categorization Confidence:`, written as [`Categorization::safety_score`] is.
    pub categorization_confidence: PyNumber,
}

impl Categorization {
    /// The writer's defaults for missing keys: `1.0`, `[]`, `general`, `unknown`,
    /// `default`, `0.0`.
    pub fn writer_defaults() -> Self {
        Categorization {
            safety_score: PyNumber::Float(1.0),
            safety_flags: Vec::new(),
            subject_category: "general".into(),
            specificity_type: "unknown".into(),
            categorization_method: "default".into(),
            categorization_confidence: PyNumber::Float(0.0),
        }
    }

    /// The reader's defaults: as the writer's, but the method is `default_fallback`.
    pub fn reader_defaults() -> Self {
        Categorization {
            categorization_method: "default_fallback".into(),
            ..Self::writer_defaults()
        }
    }

    /// What the archive-first flow records when categorization is disabled:
    /// `1.0 / [] / general / unknown / disabled / 0.0`.
    pub fn disabled() -> Self {
        Categorization {
            categorization_method: "disabled".into(),
            ..Self::writer_defaults()
        }
    }

    /// The six lines, without line terminators, in file order.
    pub fn render_lines(&self) -> [String; 6] {
        [
            format!("Safety Score: {}", self.safety_score),
            format!("Safety Flags: {}", py_json_str_list(&self.safety_flags)),
            format!("Category: {}", self.subject_category),
            format!("Specificity: {}", self.specificity_type),
            format!("Categorization Method: {}", self.categorization_method),
            format!(
                "Categorization Confidence: {}",
                self.categorization_confidence
            ),
        ]
    }
}

/// The header keys of the block, in file order.
pub(crate) const CATEGORIZATION_KEYS: [&str; 6] = [
    "Safety Score",
    "Safety Flags",
    "Category",
    "Specificity",
    "Categorization Method",
    "Categorization Confidence",
];

/// Applies `key: value` to `c` the way ThyWill's reader does; returns false when the key is
/// not a categorization key or its value does not parse (the key is then skipped).
/// A number keeps the kind its text shows (`1` an int, `1.0` a float), so the block is
/// written back byte for byte; ThyWill's own reader makes every number a float
/// ([`parse_thywill`]).
pub fn apply_key(c: &mut Categorization, key: &str, value: &str) -> bool {
    match key {
        "Safety Score" => PyNumber::from_text(value)
            .map(|v| c.safety_score = v)
            .is_some(),
        "Safety Flags" => {
            if value == "[]" {
                c.safety_flags = Vec::new();
                return true;
            }
            match serde_json::from_str::<Vec<String>>(value) {
                Ok(v) => {
                    c.safety_flags = v;
                    true
                }
                Err(_) => false,
            }
        }
        "Category" => {
            c.subject_category = value.to_string();
            true
        }
        "Specificity" => {
            c.specificity_type = value.to_string();
            true
        }
        "Categorization Method" => {
            c.categorization_method = value.to_string();
            true
        }
        "Categorization Confidence" => PyNumber::from_text(value)
            .map(|v| c.categorization_confidence = v)
            .is_some(),
        _ => false,
    }
}

/// ThyWill's `parse_prayer_archive_categorization`, exactly: every line of the file
/// (request and activity lines included) with a `:` is split on the first `:`, both sides
/// stripped, and recognised keys override the reader defaults. (A request line such as
/// `Category: urgent` therefore sets the category — KEEP, it is how ThyWill imports.)
/// `Safety Flags` values that are JSON but not a list of strings are skipped.
pub fn parse_thywill(text: &str) -> Categorization {
    let mut c = Categorization::reader_defaults();
    for raw in text.split('\n') {
        let line = py_strip(raw);
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        apply_key(&mut c, py_strip(k), py_strip(v));
    }
    // ThyWill reads both numbers with `float()`.
    c.safety_score = PyNumber::Float(c.safety_score.as_f64());
    c.categorization_confidence = PyNumber::Float(c.categorization_confidence.as_f64());
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_block_and_reads_like_thywill() {
        let c = Categorization {
            safety_flags: vec!["a".into(), "é".into()],
            ..Categorization::disabled()
        };
        assert_eq!(
            c.render_lines().join("\n"),
            "Safety Score: 1.0\nSafety Flags: [\"a\", \"\\u00e9\"]\nCategory: general\n\
             Specificity: unknown\nCategorization Method: disabled\nCategorization Confidence: 0.0"
        );
        // A request line `Category: urgent` sets the category.
        let parsed = parse_thywill("Prayer 1 by A\nDear God: help\nCategory: urgent\n");
        assert_eq!(parsed.subject_category, "urgent");
        assert_eq!(parsed.categorization_method, "default_fallback");
        let parsed = parse_thywill(&c.render_lines().join("\n"));
        assert_eq!(parsed, c);
    }
}
