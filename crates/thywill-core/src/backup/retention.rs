//! Retention as a pure function: backups + now + policy → keep/delete decisions with reasons.
//!
//! Age is judged by the timestamp in the name (local time, as written), never by mtime, so
//! copying, restoring from tape or touching files changes nothing. Rules, per kind:
//! - a tier set is kept while its age is at most the tier's window (48 h, 30 d, 12 w by
//!   default) and deleted once it is strictly older;
//! - sets are judged per kind *and source database* (recorded in each manifest), so backups
//!   of two databases in one root never displace each other;
//! - the newest *verified* set of each kind is kept whatever its age (if backups stop for a
//!   month, the last good one survives); when no set of a kind is verified, the newest one is
//!   kept instead, so a kind is never emptied;
//! - a timestamp in the future (a clock set wrong) is kept: its age is unknowable;
//! - pre-restore safety sets are kept while younger than their own window (30 d) or while
//!   among the newest few (3), whichever keeps more.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::{BackupKind, Tier};
use crate::{Error, Result};

/// Retention windows and floors: how long sets of each kind are kept, in the units people
/// give them. Made only by [`RetentionPolicy::new`] (with [`RetentionPolicy::with_pre_restore`])
/// or by deserializing, which runs the same checks, so every policy in use is valid. The
/// [`Default`] is 48 hours, 30 days, 12 weeks, and pre-restore sets for 30 days with the
/// newest 3 always kept. Serializes as `{"hourly_hours", "daily_days", "weekly_weeks",
/// "pre_restore_days", "pre_restore_keep"}`; a document may leave any of them out (the
/// default) but may not add others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RetentionFields")]
pub struct RetentionPolicy {
    hourly_hours: i64,
    daily_days: i64,
    weekly_weeks: i64,
    pre_restore_days: i64,
    pre_restore_keep: usize,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            hourly_hours: 48,
            daily_days: 30,
            weekly_weeks: 12,
            pre_restore_days: 30,
            pre_restore_keep: 3,
        }
    }
}

/// A window must be at least one unit and small enough to be a duration at all.
fn window_of(
    value: i64,
    name: &str,
    unit: &str,
    to_duration: fn(i64) -> Option<Duration>,
) -> Result<Duration> {
    if value <= 0 {
        return Err(Error::InvalidInput(format!(
            "{name} must be a positive number of {unit}, not {value}"
        )));
    }
    to_duration(value).ok_or_else(|| {
        Error::InvalidInput(format!(
            "{name} of {value} {unit} is longer than any clock can count"
        ))
    })
}

impl RetentionPolicy {
    /// A policy keeping hourly sets `hourly_hours` hours, daily sets `daily_days` days and
    /// weekly sets `weekly_weeks` weeks, with the default pre-restore rule. Each window must
    /// be positive and representable; otherwise [`Error::InvalidInput`] naming it.
    pub fn new(hourly_hours: i64, daily_days: i64, weekly_weeks: i64) -> Result<Self> {
        window_of(hourly_hours, "hourly_hours", "hours", Duration::try_hours)?;
        window_of(daily_days, "daily_days", "days", Duration::try_days)?;
        window_of(weekly_weeks, "weekly_weeks", "weeks", Duration::try_weeks)?;
        Ok(RetentionPolicy {
            hourly_hours,
            daily_days,
            weekly_weeks,
            ..RetentionPolicy::default()
        })
    }

    /// This policy with pre-restore safety sets kept `days` days, and the newest `keep_last`
    /// of them kept whatever their age (0: the window alone decides). A window that is not
    /// positive or a negative count is [`Error::InvalidInput`].
    pub fn with_pre_restore(self, days: i64, keep_last: i64) -> Result<Self> {
        window_of(days, "pre_restore_days", "days", Duration::try_days)?;
        let pre_restore_keep = usize::try_from(keep_last).map_err(|_| {
            Error::InvalidInput(format!(
                "pre_restore_keep must be a count of sets (0 or more), not {keep_last}"
            ))
        })?;
        Ok(RetentionPolicy {
            pre_restore_days: days,
            pre_restore_keep,
            ..self
        })
    }

    /// The age limit for a kind.
    pub fn window(&self, kind: BackupKind) -> Duration {
        // Validated on construction; the fallbacks are never reached.
        match kind {
            BackupKind::Tier(Tier::Hourly) => Duration::try_hours(self.hourly_hours),
            BackupKind::Tier(Tier::Daily) => Duration::try_days(self.daily_days),
            BackupKind::Tier(Tier::Weekly) => Duration::try_weeks(self.weekly_weeks),
            BackupKind::PreRestore => Duration::try_days(self.pre_restore_days),
        }
        .unwrap_or(Duration::MAX)
    }

    /// The hourly window in hours.
    pub fn hourly_hours(&self) -> i64 {
        self.hourly_hours
    }

    /// The daily window in days.
    pub fn daily_days(&self) -> i64 {
        self.daily_days
    }

    /// The weekly window in weeks.
    pub fn weekly_weeks(&self) -> i64 {
        self.weekly_weeks
    }

    /// The pre-restore window in days.
    pub fn pre_restore_days(&self) -> i64 {
        self.pre_restore_days
    }

    /// How many of the newest pre-restore sets are kept whatever their age.
    pub fn pre_restore_keep_last(&self) -> usize {
        self.pre_restore_keep
    }
}

/// A retention document as given (JSON options of the C API): any field may be left out.
/// Deserializing a [`RetentionPolicy`] goes through this and the constructors' checks.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RetentionFields {
    hourly_hours: i64,
    daily_days: i64,
    weekly_weeks: i64,
    pre_restore_days: i64,
    pre_restore_keep: i64,
}

impl Default for RetentionFields {
    fn default() -> Self {
        let d = RetentionPolicy::default();
        RetentionFields {
            hourly_hours: d.hourly_hours,
            daily_days: d.daily_days,
            weekly_weeks: d.weekly_weeks,
            pre_restore_days: d.pre_restore_days,
            pre_restore_keep: d.pre_restore_keep as i64,
        }
    }
}

impl TryFrom<RetentionFields> for RetentionPolicy {
    type Error = Error;

    fn try_from(f: RetentionFields) -> Result<Self> {
        RetentionPolicy::new(f.hourly_hours, f.daily_days, f.weekly_weeks)?
            .with_pre_restore(f.pre_restore_days, f.pre_restore_keep)
    }
}

/// One backup set as retention sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// Caller's identifier (a path, a remote key); echoed in the decision.
    pub id: String,
    /// Tier or pre-restore.
    pub kind: BackupKind,
    /// The timestamp in the name.
    pub timestamp: NaiveDateTime,
    /// Whether the set is known good (see [`crate::backup::is_verified`]).
    pub verified: bool,
    /// The database the set was taken from (a [`crate::backup::SourceIdentity::key`]): sets
    /// of different sources are judged apart, so one database's newest verified set never
    /// protects or displaces another's. `None` is a source of its own.
    pub source: Option<String>,
}

/// Keep or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Leave the set alone.
    Keep,
    /// Delete the set.
    Delete,
}

/// Why a decision was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Reason {
    /// Younger than (or exactly) the window.
    WithinWindow {
        /// Age in seconds.
        age_seconds: i64,
        /// The window in seconds.
        window_seconds: i64,
    },
    /// Older than the window, but the newest verified set of its kind.
    NewestVerified {
        /// Age in seconds.
        age_seconds: i64,
    },
    /// Older than the window, but the newest set of a kind with no verified set.
    NewestUnverified {
        /// Age in seconds.
        age_seconds: i64,
    },
    /// Stamped later than now.
    FutureTimestamp {
        /// How far ahead of now, in seconds.
        ahead_seconds: i64,
    },
    /// A pre-restore set among the newest `keep` ones.
    AmongNewestPreRestore {
        /// 1 for the newest.
        rank: usize,
        /// The floor.
        keep: usize,
    },
    /// Older than the window and not protected by any floor.
    Expired {
        /// Age in seconds.
        age_seconds: i64,
        /// The window in seconds.
        window_seconds: i64,
    },
}

/// `2d3h4m5s`-style durations; under three days in hours (`48h`, `49h30m`), the unit the
/// hourly window is thought of in.
fn human(seconds: i64) -> String {
    let days = if seconds < 3 * 86_400 {
        0
    } else {
        seconds / 86_400
    };
    let (d, h, m, s) = (
        days,
        (seconds - days * 86_400) / 3600,
        (seconds % 3600) / 60,
        seconds % 60,
    );
    let mut out = String::new();
    if d > 0 {
        out.push_str(&format!("{d}d"));
    }
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reason::WithinWindow {
                age_seconds,
                window_seconds,
            } => write!(
                f,
                "age {} is within the {} window",
                human(age_seconds),
                human(window_seconds)
            ),
            Reason::NewestVerified { age_seconds } => write!(
                f,
                "newest verified set of its kind (age {}), kept whatever its age",
                human(age_seconds)
            ),
            Reason::NewestUnverified { age_seconds } => write!(
                f,
                "newest set of its kind, none verified (age {}), kept whatever its age",
                human(age_seconds)
            ),
            Reason::FutureTimestamp { ahead_seconds } => write!(
                f,
                "timestamp {} in the future (clock skew?), kept",
                human(ahead_seconds)
            ),
            Reason::AmongNewestPreRestore { rank, keep } => {
                write!(f, "pre-restore set {rank} of the newest {keep}, kept")
            }
            Reason::Expired {
                age_seconds,
                window_seconds,
            } => write!(
                f,
                "age {} exceeds the {} window",
                human(age_seconds),
                human(window_seconds)
            ),
        }
    }
}

/// A decision about one candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The candidate's identifier.
    pub id: String,
    /// Tier or pre-restore.
    pub kind: BackupKind,
    /// The timestamp in its name.
    pub timestamp: NaiveDateTime,
    /// Keep or delete.
    pub action: Action,
    /// Why.
    pub reason: Reason,
    /// The reason as a sentence.
    pub explanation: String,
}

/// Decides, for every candidate, whether it stays. Output order: by kind (then source),
/// newest first.
pub fn plan(
    candidates: &[Candidate],
    now: NaiveDateTime,
    policy: &RetentionPolicy,
) -> Vec<Decision> {
    let mut by_group: BTreeMap<(BackupKind, Option<&str>), Vec<&Candidate>> = BTreeMap::new();
    for c in candidates {
        by_group
            .entry((c.kind, c.source.as_deref()))
            .or_default()
            .push(c);
    }
    let mut sources_per_kind: BTreeMap<BackupKind, usize> = BTreeMap::new();
    for (kind, _) in by_group.keys() {
        *sources_per_kind.entry(*kind).or_default() += 1;
    }
    let mut decisions = Vec::with_capacity(candidates.len());
    for ((kind, source), mut sets) in by_group {
        // Named only where it matters: a kind with sets of more than one source.
        let of_source = match source {
            Some(source) if sources_per_kind.get(&kind).copied().unwrap_or(0) > 1 => {
                format!(" (sets of {source})")
            }
            None if sources_per_kind.get(&kind).copied().unwrap_or(0) > 1 => {
                " (sets of an unrecorded source)".to_string()
            }
            _ => String::new(),
        };
        sets.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then_with(|| a.id.cmp(&b.id)));
        let window = policy.window(kind);
        // Among sets not in the future: the newest verified one, else the newest one.
        let past = || sets.iter().filter(|c| c.timestamp <= now);
        let protected_verified = past().find(|c| c.verified).map(|c| c.id.clone());
        let protected_unverified = if protected_verified.is_none() {
            past().next().map(|c| c.id.clone())
        } else {
            None
        };
        let mut pre_restore_rank = 0usize;
        for c in sets {
            let age = now.signed_duration_since(c.timestamp);
            let age_seconds = age.num_seconds();
            let (action, reason) = if age < Duration::zero() {
                (
                    Action::Keep,
                    Reason::FutureTimestamp {
                        ahead_seconds: -age_seconds,
                    },
                )
            } else if age <= window {
                (
                    Action::Keep,
                    Reason::WithinWindow {
                        age_seconds,
                        window_seconds: window.num_seconds(),
                    },
                )
            } else if protected_verified.as_deref() == Some(c.id.as_str()) {
                (Action::Keep, Reason::NewestVerified { age_seconds })
            } else if protected_unverified.as_deref() == Some(c.id.as_str()) {
                (Action::Keep, Reason::NewestUnverified { age_seconds })
            } else if kind == BackupKind::PreRestore && pre_restore_rank < policy.pre_restore_keep {
                (
                    Action::Keep,
                    Reason::AmongNewestPreRestore {
                        rank: pre_restore_rank + 1,
                        keep: policy.pre_restore_keep,
                    },
                )
            } else {
                (
                    Action::Delete,
                    Reason::Expired {
                        age_seconds,
                        window_seconds: window.num_seconds(),
                    },
                )
            };
            if kind == BackupKind::PreRestore && age >= Duration::zero() {
                pre_restore_rank += 1;
            }
            decisions.push(Decision {
                id: c.id.clone(),
                kind,
                timestamp: c.timestamp,
                action,
                explanation: format!("{reason}{of_source}"),
                reason,
            });
        }
    }
    decisions
}
