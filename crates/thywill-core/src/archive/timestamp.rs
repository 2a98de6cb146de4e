//! The archive's timestamp formats (`TS_H`, `TS_HC`, `TS_MY`, file-name stamps, ...),
//! [`HumanTime`] that keeps a human timestamp's exact text, and ThyWill's recovery
//! timestamp parser. The Python rules beneath them are in [`crate::pycompat::datetime`].

use std::fmt;

use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::Serialize;

use crate::pycompat::datetime::{
    py_fromisoformat, py_year, strptime_sql, strptime_ts_h, strptime_ts_h_seconds, PyDateTime,
    MONTH_NAMES,
};
use crate::pycompat::strings::py_strip;

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
pub(crate) fn ts_hc(t: &NaiveDateTime) -> String {
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
pub(crate) fn ts_my(d: &impl Datelike) -> String {
    format!("{} {}", month_name(d.month()), py_year(d.year()))
}

/// `TS_DAY`: `%B %d %Y`, e.g. `July 06 2025`.
pub(crate) fn ts_day(d: &impl Datelike) -> String {
    format!(
        "{} {:02} {}",
        month_name(d.month()),
        d.day(),
        py_year(d.year())
    )
}

/// `TS_HM`: `%H:%M`, e.g. `09:05`.
pub(crate) fn ts_hm(t: &impl Timelike) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// `YM`: `{year}_{month:02d}`, e.g. `2025_07` (year unpadded).
pub fn ym(d: &impl Datelike) -> String {
    format!("{}_{:02}", d.year(), d.month())
}

/// `PRAYER_BASE`: `%Y_%m_%d_prayer_at_%H%M`, e.g. `2025_07_06_prayer_at_0905`.
pub(crate) fn prayer_base(t: &NaiveDateTime) -> String {
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
pub(crate) fn app_stamp(t: &NaiveDateTime) -> String {
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
pub(crate) fn date_only(d: &impl Datelike) -> String {
    format!("{}-{:02}-{:02}", py_year(d.year()), d.month(), d.day())
}

/// ThyWill's recovery `_parse_timestamp`: `None` for empty, `none`, `never`, `n/a`;
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

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
        assert_eq!(ym(&t), "2025_07");
        assert_eq!(prayer_base(&t), "2025_07_06_prayer_at_0905");
        assert_eq!(app_stamp(&dt(2025, 6, 15, 12, 0)), "20250615_120000");
        assert_eq!(date_only(&dt(2025, 7, 2, 0, 0)), "2025-07-02");
    }

    #[test]
    fn recovery_timestamps() {
        assert!(parse_recovery_timestamp("never").unwrap().is_none());
        assert!(parse_recovery_timestamp("abc123").is_err());
        assert!(parse_recovery_timestamp("2025-07-06 09:05:07")
            .unwrap()
            .is_some());
    }
}
