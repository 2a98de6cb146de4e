//! The time zone of human archive timestamps. ThyWill writes them with `datetime.now()`
//! (server local time) while several database columns hold `utcnow()` values,
//! so readers need to know the zone to relate the two.

use std::fmt;

use chrono::{Local, NaiveDateTime, Offset, TimeZone};
use serde::{Deserialize, Serialize};

/// The zone human timestamps (`June 05 2025 at 09:07`) were written in. Serializes as the
/// setting people write (`"local"`, `"utc"`, `"+02:00"`) and deserializes through
/// [`ArchiveTimeZone::parse`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ArchiveTimeZone {
    /// The host's local zone (ThyWill's `datetime.now()`), the default.
    #[default]
    Local,
    /// UTC.
    Utc,
    /// A fixed offset east of UTC, in seconds.
    FixedOffsetSeconds(i32),
}

impl ArchiveTimeZone {
    /// Parses `local`, `utc`, or an offset `±HH:MM` / `±HHMM` strictly within a day
    /// (`-23:59` to `+23:59`, minutes below 60: the range Python's `datetime.timezone`
    /// accepts). Every front end reads the setting through this one function.
    pub fn parse(text: &str) -> Option<ArchiveTimeZone> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("local") {
            return Some(ArchiveTimeZone::Local);
        }
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return Some(ArchiveTimeZone::Utc);
        }
        let (sign, rest) = match t.as_bytes().first()? {
            b'+' => (1, &t[1..]),
            b'-' => (-1, &t[1..]),
            _ => return None,
        };
        let (hours, minutes) = match rest.split_once(':') {
            Some((hours, minutes)) => (hours, minutes),
            None if rest.len() == 4 && rest.is_char_boundary(2) => rest.split_at(2),
            None => return None,
        };
        let two_digits = |s: &str| {
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i32>().ok())
                .flatten()
        };
        let (hours, minutes) = (two_digits(hours)?, two_digits(minutes)?);
        if hours > 23 || minutes > 59 {
            return None;
        }
        Some(ArchiveTimeZone::FixedOffsetSeconds(
            sign * (hours * 3600 + minutes * 60),
        ))
    }

    /// Seconds east of UTC for a wall-clock time in this zone (the earlier reading when
    /// a DST change makes it ambiguous; 0 when it does not exist).
    pub fn offset_seconds_at(&self, wall: &NaiveDateTime) -> i32 {
        match self {
            ArchiveTimeZone::Utc => 0,
            ArchiveTimeZone::FixedOffsetSeconds(s) => *s,
            ArchiveTimeZone::Local => Local
                .from_local_datetime(wall)
                .earliest()
                .map(|dt| dt.offset().fix().local_minus_utc())
                .unwrap_or(0),
        }
    }

    /// Converts a wall-clock time of this zone to naive UTC.
    pub fn to_utc(&self, wall: &NaiveDateTime) -> NaiveDateTime {
        *wall - chrono::Duration::seconds(i64::from(self.offset_seconds_at(wall)))
    }

    /// The current wall-clock time in this zone, naive.
    pub fn now(&self) -> NaiveDateTime {
        match self {
            ArchiveTimeZone::Local => Local::now().naive_local(),
            ArchiveTimeZone::Utc => chrono::Utc::now().naive_utc(),
            ArchiveTimeZone::FixedOffsetSeconds(s) => {
                let utc = chrono::Utc::now().naive_utc();
                utc + chrono::Duration::seconds(i64::from(*s))
            }
        }
    }
}

/// `local`, `utc`, or `±HH:MM`: what [`ArchiveTimeZone::parse`] reads back.
impl fmt::Display for ArchiveTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveTimeZone::Local => f.write_str("local"),
            ArchiveTimeZone::Utc => f.write_str("utc"),
            ArchiveTimeZone::FixedOffsetSeconds(seconds) => {
                let sign = if *seconds < 0 { '-' } else { '+' };
                let minutes = seconds.unsigned_abs() / 60;
                write!(f, "{sign}{:02}:{:02}", minutes / 60, minutes % 60)
            }
        }
    }
}

impl From<ArchiveTimeZone> for String {
    fn from(zone: ArchiveTimeZone) -> String {
        zone.to_string()
    }
}

impl TryFrom<String> for ArchiveTimeZone {
    type Error = crate::Error;

    fn try_from(text: String) -> crate::Result<ArchiveTimeZone> {
        ArchiveTimeZone::parse(&text).ok_or_else(|| {
            crate::Error::InvalidInput(format!(
                "time_zone {text:?}: expected local, utc or ±HH:MM (-23:59 to +23:59)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zone_settings() {
        assert_eq!(
            ArchiveTimeZone::parse("local"),
            Some(ArchiveTimeZone::Local)
        );
        assert_eq!(ArchiveTimeZone::parse("UTC"), Some(ArchiveTimeZone::Utc));
        assert_eq!(
            ArchiveTimeZone::parse("+02:00"),
            Some(ArchiveTimeZone::FixedOffsetSeconds(7200))
        );
        assert_eq!(
            ArchiveTimeZone::parse("-0530"),
            Some(ArchiveTimeZone::FixedOffsetSeconds(-19800))
        );
        assert_eq!(ArchiveTimeZone::parse("Mars"), None);
        assert_eq!(
            ArchiveTimeZone::parse("-23:59"),
            Some(ArchiveTimeZone::FixedOffsetSeconds(-86_340))
        );
    }

    #[test]
    fn settings_round_trip_through_text_and_json() {
        for text in ["local", "utc", "+02:00", "-05:30", "+00:00", "-23:59"] {
            let zone = ArchiveTimeZone::parse(text).unwrap();
            assert_eq!(zone.to_string(), text);
            let json = serde_json::to_string(&zone).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(
                serde_json::from_str::<ArchiveTimeZone>(&json).unwrap(),
                zone
            );
        }
        let err = serde_json::from_str::<ArchiveTimeZone>("\"Mars\"").unwrap_err();
        assert!(
            err.to_string().contains("expected local, utc or ±HH:MM"),
            "{err}"
        );
    }

    #[test]
    fn refuses_offsets_of_a_day_or_more_and_other_shapes() {
        for text in [
            "+99:99", "+24:00", "-24:00", "+2400", "+05:60", "+5:00", "+05:0:0", "+0:500", "+05",
            "+05:", "+:0500", "05:00", "+0é:00", "+",
        ] {
            assert_eq!(ArchiveTimeZone::parse(text), None, "{text}");
        }
        let wall = crate::db::encode::parse_datetime("2024-01-01 10:00:00").unwrap();
        let utc = ArchiveTimeZone::FixedOffsetSeconds(7200).to_utc(&wall);
        assert_eq!(
            crate::db::encode::format_datetime(&utc),
            "2024-01-01 08:00:00.000000"
        );
    }
}
