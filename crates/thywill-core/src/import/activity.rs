//! Turning a prayer's `Activity:` lines into rows, idempotently and with multiplicity.
//!
//! What the live app writes for each archived line (observed in ThyWill's own
//! databases) is what an import reproduces:
//!
//! | line | attributes | activity logs |
//! |---|---|---|
//! | `prayed this prayer` | — (a `prayermark`) | `prayed` |
//! | `marked this prayer as answered` | `answered`=`true`, `answer_date`=ISO minute | `set_answered`, `set_answer_date` |
//! | `added testimony: T` | `answer_testimony`=T | `set_answer_testimony`, `testimony` (T) |
//! | `archived this prayer` | `archived`=`true` | `set_archived` |
//! | `restored this prayer` | `archived` removed | `remove_archived` |
//! | `flagged this prayer` | `flagged`=`true` | `set_flagged` |
//! | `set X to 'v'` / `set X from 'o' to 'v'` | X=v | `set_X` |
//! | `removed X (was 'o')` | X removed | `remove_X` |
//!
//! Rows are matched by (prayer, user, action or name, minute): the text has minutes
//! only, so a database row written live (with seconds) matches the line of its minute.
//! Logs a line implies (`set_answered` from "marked as answered") and logs a healed
//! file states explicitly (`set answered to 'true'`) describe the same event, so per key
//! the larger of the two counts is wanted, not their sum.

use std::borrow::Cow;

use chrono::NaiveDateTime;
// Seeded per process (minimally DoS-resistant) and much cheaper than SipHash on the
// short keys built for every activity line.
use foldhash::HashMap;
use rusqlite::{params, Connection};

use super::report::{Entity, ImportReport, RecordIssue};
use crate::archive::prayer::{ActivityAction, PrayerActivity};
use crate::db::bulk::BulkStatement;
use crate::db::encode::{
    datetime_text, format_datetime, minute_number, minute_of_stored, stored_minute_number,
    StackText,
};
use crate::db::{ArchiveTimeZone, IdGenerator};
use crate::pycompat::datetime::py_isoformat;
use crate::Result;

/// A row of `prayer_activity_log` to be. Most actions and values are fixed words, so
/// they are borrowed; the user is the actor of activity line `line`.
#[derive(Debug, Clone)]
struct LogRow {
    line: usize,
    action: Cow<'static, str>,
    old: Option<Cow<'static, str>>,
    new: Option<Cow<'static, str>>,
    at: NaiveDateTime,
    with_path: bool,
    /// The row's id, when made ahead (see [`ActivityPlan::for_new_prayer`]).
    id: Option<StackText<32>>,
}

/// A `prayermark` row to be: the activity line (whose actor is the user), its time, and
/// the row's id when made ahead.
#[derive(Debug, Clone)]
pub(crate) struct PlannedMark {
    pub line: usize,
    pub at: NaiveDateTime,
    id: Option<StackText<32>>,
}

#[derive(Debug, Clone)]
struct AttrValue {
    value: String,
    created_by: String,
    created_at: NaiveDateTime,
}

/// Existing rows of one prayer counted by user, then minute, then action (marks have
/// an empty action), consumed as wanted rows are matched. Lookups borrow: no key is
/// built per row.
#[derive(Default)]
struct Existing {
    by_user: HashMap<String, HashMap<i64, Vec<(String, u32)>>>,
}

impl Existing {
    /// Counts a stored row. A `created_at` that names no minute can match no line, and a
    /// row without user or action no line either: neither is counted.
    fn add(&mut self, user: Option<&str>, action: Option<&str>, stored: Option<&str>) {
        let (Some(user), Some(action), Some(minute)) =
            (user, action, stored.and_then(stored_minute_number))
        else {
            return;
        };
        let per_user = match self.by_user.get_mut(user) {
            Some(per_user) => per_user,
            None => self.by_user.entry(user.to_owned()).or_default(),
        };
        let actions = per_user.entry(minute).or_default();
        match actions.iter_mut().find(|(a, _)| a == action) {
            Some((_, n)) => *n += 1,
            None => actions.push((action.to_owned(), 1)),
        }
    }

    /// Consumes one row of `user` and `action` at the first of `minutes` that has one.
    fn take(&mut self, user: &str, action: &str, minutes: &[i64]) -> bool {
        let Some(per_user) = self.by_user.get_mut(user) else {
            return false;
        };
        for minute in minutes {
            let found = per_user
                .get_mut(minute)
                .and_then(|actions| actions.iter_mut().find(|(a, n)| a == action && *n > 0));
            if let Some((_, n)) = found {
                *n -= 1;
                return true;
            }
        }
        false
    }
}

/// The minutes a line's rows may carry: its own and, when the archive zone is not UTC,
/// the minute shifted to UTC (rows Python wrote with `utcnow()`).
fn line_minutes(at: &NaiveDateTime, zone: &ArchiveTimeZone) -> [i64; 2] {
    [minute_number(at), minute_number(&zone.to_utc(at))]
}

/// Ordered multiset of desired logs keyed by (user, action, minute): per key, the rows
/// the file states explicitly and the rows other lines imply. Rows are kept flat with
/// their key's number (keys numbered in order of first appearance); `into_rows` groups
/// them by key with a stable sort.
#[derive(Default)]
struct LogPlan<'a> {
    groups: HashMap<(&'a str, Cow<'static, str>, i64), usize>,
    /// Per key: how many rows the file states explicitly.
    explicit: Vec<usize>,
    rows: Vec<(usize, bool, LogRow)>,
}

impl<'a> LogPlan<'a> {
    fn push(&mut self, user: &'a str, row: LogRow, explicit: bool) {
        let next = self.explicit.len();
        let group = *self
            .groups
            .entry((user, row.action.clone(), minute_number(&row.at)))
            .or_insert(next);
        if group == next {
            self.explicit.push(0);
        }
        if explicit {
            self.explicit[group] += 1;
        }
        self.rows.push((group, explicit, row));
    }

    /// Per key in order: the explicit rows, then the implied rows beyond their number.
    fn into_rows(self) -> Vec<LogRow> {
        let LogPlan {
            explicit, mut rows, ..
        } = self;
        rows.sort_by_key(|(group, is_explicit, _)| (*group, !*is_explicit));
        let mut implied_seen = vec![0usize; explicit.len()];
        rows.into_iter()
            .filter_map(|(group, is_explicit, row)| {
                if is_explicit {
                    return Some(row);
                }
                implied_seen[group] += 1;
                (implied_seen[group] > explicit[group]).then_some(row)
            })
            .collect()
    }
}

/// The prayer whose activities are applied.
#[derive(Clone, Copy)]
pub(crate) struct PrayerTarget<'a> {
    pub prayer_id: &'a str,
    /// The prayer's `text_file_path` (also given to marks and some logs).
    pub prayer_path: Option<&'a str>,
    /// The archive file, for locating problems.
    pub file: &'a str,
    /// The caller knows the prayer has no marks, attributes or logs yet.
    pub known_empty: bool,
}

/// Applies prayers' activities, with the mark and log inserts prepared once.
pub(crate) struct ActivityImport<'a> {
    conn: &'a Connection,
    ids: &'a IdGenerator,
    zone: ArchiveTimeZone,
    insert_mark: BulkStatement<'a>,
    insert_log: BulkStatement<'a>,
}

impl<'a> ActivityImport<'a> {
    pub(crate) fn new(
        conn: &'a Connection,
        ids: &'a IdGenerator,
        zone: ArchiveTimeZone,
    ) -> Result<Self> {
        Ok(ActivityImport {
            conn,
            ids,
            zone,
            insert_mark: BulkStatement::prepare(
                conn,
                "INSERT INTO prayermark (id, username, prayer_id, created_at, text_file_path) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            insert_log: BulkStatement::prepare(
                conn,
                "INSERT INTO prayer_activity_log (id, prayer_id, user_id, action, old_value, \
                 new_value, created_at, text_file_path) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
        })
    }

    /// `planned`: the plan built ahead (on another thread) with
    /// [`ActivityPlan::for_new_prayer`]; used only when `target.known_empty`, where it is
    /// exactly the plan this would build. `ensure_user` creates a missing actor.
    pub(crate) fn apply(
        &mut self,
        target: &PrayerTarget<'_>,
        activities: &[PrayerActivity],
        planned: Option<ActivityPlan>,
        report: &mut ImportReport,
        ensure_user: &mut dyn FnMut(&str, &NaiveDateTime, &mut ImportReport) -> Result<()>,
    ) -> Result<()> {
        let PrayerTarget {
            prayer_id,
            prayer_path,
            file,
            known_empty,
        } = *target;
        let conn = self.conn;
        // Existing rows of this prayer (none to look for when the caller knows there are
        // none: a prayer created in this run on tables that were empty).
        let mut marks = Existing::default();
        if !known_empty {
            let mut stmt = conn.prepare_cached(
                "SELECT username, created_at FROM prayermark WHERE prayer_id = ?1",
            )?;
            let mut rows = stmt.query([prayer_id])?;
            while let Some(r) = rows.next()? {
                marks.add(text_or_null(r, 0)?, Some(""), text_or_null(r, 1)?);
            }
        }
        let mut logs = Existing::default();
        if !known_empty {
            let mut stmt = conn.prepare_cached(
                "SELECT user_id, action, created_at FROM prayer_activity_log WHERE prayer_id = ?1",
            )?;
            let mut rows = stmt.query([prayer_id])?;
            while let Some(r) = rows.next()? {
                logs.add(
                    text_or_null(r, 0)?,
                    text_or_null(r, 1)?,
                    text_or_null(r, 2)?,
                );
            }
        }
        // Current attribute state: the first row of each name, as ThyWill's
        // `get_attribute` reads it.
        let mut db_attrs: HashMap<String, (String, Option<String>, u32)> = HashMap::default();
        if !known_empty {
            let mut stmt = conn.prepare_cached(
                "SELECT id, attribute_name, attribute_value FROM prayer_attributes \
                 WHERE prayer_id = ?1 ORDER BY rowid",
            )?;
            let mut rows = stmt.query([prayer_id])?;
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                let name: String = r.get(1)?;
                let value: Option<String> = r.get(2)?;
                db_attrs
                    .entry(name)
                    .and_modify(|e| e.2 += 1)
                    .or_insert((id, value, 1));
            }
        }
        let plan = match planned {
            Some(plan) if known_empty => plan,
            _ => ActivityPlan::build(activities, file, &db_attrs),
        };
        let ActivityPlan {
            actors,
            skipped,
            marks: wanted_marks,
            logs: wanted_logs,
            attributes: wanted_attributes,
            refused: _,
        } = plan;
        for issue in skipped {
            report.skip(issue);
        }
        for (index, at) in actors {
            if let Some(activity) = activities.get(index) {
                ensure_user(&activity.actor, &at, report)?;
            }
        }

        // Marks.
        let actor = |line: usize| activities.get(line).map_or("", |a| a.actor.as_str());
        // Counted here and added to the report once (a report lookup per row showed).
        let (mut marks_present, mut marks_inserted) = (0u64, 0u64);
        for mark in &wanted_marks {
            let (user, at) = (actor(mark.line), &mark.at);
            if !known_empty && marks.take(user, "", &line_minutes(at, &self.zone)) {
                marks_present += 1;
            } else {
                let id = match mark.id {
                    Some(id) => id,
                    None => self.ids.uuid4_hex_text()?,
                };
                let created_at = datetime_text(at);
                self.insert_mark.execute(&[
                    id.as_str().into(),
                    user.into(),
                    prayer_id.into(),
                    created_at.as_str().into(),
                    prayer_path.into(),
                ])?;
                marks_inserted += 1;
            }
        }
        let counts = report.counts_mut(Entity::PrayerMarks);
        counts.already_present += marks_present;
        counts.inserted += marks_inserted;
        // Logs.
        let (mut logs_present, mut logs_inserted) = (0u64, 0u64);
        for row in &wanted_logs {
            let user = actor(row.line);
            if !known_empty && logs.take(user, &row.action, &line_minutes(&row.at, &self.zone)) {
                logs_present += 1;
                continue;
            }
            let id = match row.id {
                Some(id) => id,
                None => self.ids.token_hex16_text()?,
            };
            let created_at = datetime_text(&row.at);
            self.insert_log.execute(&[
                id.as_str().into(),
                prayer_id.into(),
                user.into(),
                row.action.as_ref().into(),
                row.old.as_deref().into(),
                row.new.as_deref().into(),
                created_at.as_str().into(),
                (if row.with_path { prayer_path } else { None }).into(),
            ])?;
            logs_inserted += 1;
        }
        let counts = report.counts_mut(Entity::ActivityLogs);
        counts.already_present += logs_present;
        counts.inserted += logs_inserted;
        // Attributes: reconcile the final state of every name the text touched.
        for (name, desired) in wanted_attributes {
            let existing = db_attrs.get(&name);
            match (desired, existing) {
                (Some(want), None) => {
                    conn.prepare_cached(
                        "INSERT INTO prayer_attributes (id, prayer_id, attribute_name, \
                         attribute_value, created_at, created_by, text_file_path) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
                    )?
                    .execute(params![
                        self.ids.token_hex16()?,
                        prayer_id,
                        name,
                        want.value,
                        format_datetime(&want.created_at),
                        want.created_by
                    ])?;
                    report.counts_mut(Entity::PrayerAttributes).inserted += 1;
                }
                (Some(want), Some((id, value, _))) => {
                    if same_value(&name, value.as_deref(), &want.value) {
                        report.counts_mut(Entity::PrayerAttributes).already_present += 1;
                    } else {
                        conn.prepare_cached(
                            "UPDATE prayer_attributes SET attribute_value = ?1 WHERE id = ?2",
                        )?
                        .execute(params![want.value, id])?;
                        report.counts_mut(Entity::PrayerAttributes).updated += 1;
                    }
                }
                (None, Some((_, _, n))) => {
                    conn.prepare_cached(
                        "DELETE FROM prayer_attributes WHERE prayer_id = ?1 AND attribute_name = ?2",
                    )?
                    .execute(params![prayer_id, name])?;
                    report.counts_mut(Entity::PrayerAttributes).deleted += u64::from(*n);
                }
                (None, None) => {}
            }
        }
        Ok(())
    }
}

/// What one prayer's activity lines ask for, worked out against the prayer's current
/// attributes (none for a prayer without rows). Building it touches no database, so the
/// reader thread of a text-archive import builds it for new prayers while the writer
/// thread is busy with earlier ones.
pub(crate) struct ActivityPlan {
    /// Index of each usable line with its time, in line order: its actor must exist.
    actors: Vec<(usize, NaiveDateTime)>,
    /// Lines that cannot be imported.
    skipped: Vec<RecordIssue>,
    marks: Vec<PlannedMark>,
    logs: Vec<LogRow>,
    /// Every attribute name the lines touched, in order, with its final value.
    attributes: Vec<(String, Option<AttrValue>)>,
    /// The failure of a prayer file the character rule refuses (`super::validate`),
    /// found where the plan is made ([`ActivityPlan::checked`]): nothing of the file is
    /// imported then.
    refused: Option<Box<RecordIssue>>,
}

impl ActivityPlan {
    /// Checks the whole prayer file (`content`: its bytes, to locate a refused character)
    /// against the character rule, so that the reader thread of a text-archive import
    /// does it rather than the writer.
    pub(crate) fn checked(
        mut self,
        doc: &crate::archive::prayer::PrayerArchive,
        content: &[u8],
        file: &str,
    ) -> ActivityPlan {
        self.refused =
            super::validate::prayer_refusal(doc, file, || Some(content.to_vec())).map(Box::new);
        self
    }

    /// Why the file is refused ([`ActivityPlan::checked`]).
    pub(crate) fn refused(&self) -> Option<&RecordIssue> {
        self.refused.as_deref()
    }

    /// The marks it writes: (activity line, whose actor is the user; time).
    pub(crate) fn marks(&self) -> &[PlannedMark] {
        &self.marks
    }

    /// The attribute names of the `remove_<name>` logs it writes, with their times.
    pub(crate) fn removals(&self) -> impl Iterator<Item = (&str, NaiveDateTime)> {
        self.logs.iter().filter_map(|row| {
            row.action
                .strip_prefix("remove_")
                .map(|name| (name, row.at))
        })
    }

    /// The plan for a prayer that has no marks, attributes or logs yet.
    /// Its row ids are made here too (they are only used if the plan is, and an
    /// unused id costs nothing but a number), so the thread that plans ahead also takes
    /// that work off the writer.
    pub(crate) fn for_new_prayer(
        activities: &[PrayerActivity],
        file: &str,
        ids: &IdGenerator,
    ) -> ActivityPlan {
        let mut plan = ActivityPlan::build(activities, file, &HashMap::default());
        // Ids made ahead are an optimisation: on a failure the writer makes them (and
        // reports the failure).
        for mark in &mut plan.marks {
            mark.id = ids.uuid4_hex_text().ok();
        }
        for row in &mut plan.logs {
            row.id = ids.token_hex16_text().ok();
        }
        plan
    }

    fn build(
        activities: &[PrayerActivity],
        file: &str,
        db_attrs: &HashMap<String, (String, Option<String>, u32)>,
    ) -> ActivityPlan {
        let mut actors = Vec::new();
        let mut skipped = Vec::new();
        let mut attrs = AttrState {
            state: HashMap::default(),
            touched: Vec::new(),
            db: db_attrs,
        };
        let mut wanted_marks: Vec<PlannedMark> = Vec::new();
        let mut plan = LogPlan::default();

        for (index, activity) in activities.iter().enumerate() {
            let Some(at) = activity.timestamp.time else {
                skipped.push(super::report::issue(
                    Entity::ActivityLogs,
                    file,
                    None,
                    format!("unreadable activity time {:?}", activity.timestamp.text),
                ));
                continue;
            };
            let user = activity.actor.as_str();
            if user.is_empty() {
                skipped.push(super::report::issue(
                    Entity::ActivityLogs,
                    file,
                    None,
                    format!("activity line without an actor: {:?}", activity.render()),
                ));
                continue;
            }
            actors.push((index, at));
            let log = |action: Cow<'static, str>,
                       old: Option<Cow<'static, str>>,
                       new: Option<Cow<'static, str>>,
                       with_path: bool| LogRow {
                line: index,
                action,
                old,
                new,
                at,
                with_path,
                id: None,
            };
            const TRUE: Option<Cow<'static, str>> = Some(Cow::Borrowed("true"));
            let owned = |value: Option<String>| value.map(Cow::Owned);
            match &activity.action {
                ActivityAction::Prayed => {
                    wanted_marks.push(PlannedMark {
                        line: index,
                        at,
                        id: None,
                    });
                    plan.push(user, log("prayed".into(), None, TRUE, true), true);
                }
                ActivityAction::Answered => {
                    let prev = attrs.set(user, at, "answered", "true".into());
                    plan.push(
                        user,
                        log("set_answered".into(), owned(prev), TRUE, false),
                        false,
                    );
                    let iso = py_isoformat(&at);
                    let prev = attrs.set(user, at, "answer_date", iso.clone());
                    plan.push(
                        user,
                        log(
                            "set_answer_date".into(),
                            owned(prev),
                            Some(iso.into()),
                            false,
                        ),
                        false,
                    );
                }
                ActivityAction::Testimony { text } => {
                    let prev = attrs.set(user, at, "answer_testimony", text.clone());
                    plan.push(
                        user,
                        log(
                            "set_answer_testimony".into(),
                            owned(prev),
                            Some(text.clone().into()),
                            false,
                        ),
                        false,
                    );
                    plan.push(
                        user,
                        log("testimony".into(), None, Some(text.clone().into()), true),
                        true,
                    );
                }
                ActivityAction::Archived => {
                    let prev = attrs.set(user, at, "archived", "true".into());
                    plan.push(
                        user,
                        log("set_archived".into(), owned(prev), TRUE, false),
                        false,
                    );
                }
                ActivityAction::Flagged => {
                    let prev = attrs.set(user, at, "flagged", "true".into());
                    plan.push(
                        user,
                        log("set_flagged".into(), owned(prev), TRUE, false),
                        false,
                    );
                }
                ActivityAction::Restored => {
                    let prev = attrs.remove("archived");
                    let old = owned(prev).or(TRUE);
                    plan.push(user, log("remove_archived".into(), old, None, false), false);
                }
                ActivityAction::SetAttribute { name, old, new } => {
                    attrs.set(user, at, name, new.clone());
                    plan.push(
                        user,
                        log(
                            format!("set_{name}").into(),
                            owned(old.clone()),
                            Some(new.clone().into()),
                            false,
                        ),
                        true,
                    );
                }
                ActivityAction::RemoveAttribute { name, old } => {
                    attrs.remove(name);
                    plan.push(
                        user,
                        log(
                            format!("remove_{name}").into(),
                            Some(old.clone().into()),
                            None,
                            false,
                        ),
                        true,
                    );
                }
                ActivityAction::Other { action, extra } => {
                    let value = owned(extra.clone()).or(TRUE);
                    plan.push(user, log(action.clone().into(), None, value, true), true);
                }
                ActivityAction::Raw { text } => {
                    skipped.push(super::report::issue(
                        Entity::ActivityLogs,
                        file,
                        None,
                        format!("activity line without actor and action: {text:?}"),
                    ));
                }
            }
        }

        let AttrState { state, touched, .. } = attrs;
        let attributes = touched
            .into_iter()
            .map(|name| {
                let value = state.get(&name).cloned().flatten();
                (name, value)
            })
            .collect();
        ActivityPlan {
            actors,
            skipped,
            marks: wanted_marks,
            logs: plan.into_rows(),
            attributes,
            refused: None,
        }
    }
}

/// The attribute names the text touched and their values after each line.
struct AttrState<'d> {
    state: HashMap<String, Option<AttrValue>>,
    touched: Vec<String>,
    db: &'d HashMap<String, (String, Option<String>, u32)>,
}

impl AttrState<'_> {
    fn current(&self, name: &str) -> Option<String> {
        match self.state.get(name) {
            Some(v) => v.as_ref().map(|a| a.value.clone()),
            None => self.db.get(name).and_then(|(_, v, _)| v.clone()),
        }
    }

    fn touch(&mut self, name: &str) {
        if !self.touched.iter().any(|t| t == name) {
            self.touched.push(name.to_string());
        }
    }

    /// `Prayer.set_attribute`: updates the value in place (keeping who and when) or
    /// creates the attribute. Returns the previous value.
    fn set(&mut self, user: &str, at: NaiveDateTime, name: &str, value: String) -> Option<String> {
        let prev = self.current(name);
        self.touch(name);
        let from_db = self.db.get(name).map(|(_, v, _)| AttrValue {
            value: v.clone().unwrap_or_default(),
            created_by: user.to_string(),
            created_at: at,
        });
        let entry = self.state.entry(name.to_string()).or_insert(from_db);
        match entry {
            Some(existing) => existing.value = value,
            None => {
                *entry = Some(AttrValue {
                    value,
                    created_by: user.to_string(),
                    created_at: at,
                })
            }
        }
        prev
    }

    /// `Prayer.remove_attribute`. Returns the removed value.
    fn remove(&mut self, name: &str) -> Option<String> {
        let prev = self.current(name);
        self.touch(name);
        self.state.insert(name.to_string(), None);
        prev
    }
}

/// Attribute values the text cannot tell apart count as equal: an `answer_date`
/// rebuilt from a line has minute precision while the live value has microseconds.
fn same_value(name: &str, stored: Option<&str>, wanted: &str) -> bool {
    match stored {
        Some(s) if s == wanted => true,
        Some(s) if name == "answer_date" => minute_of_stored(s) == minute_of_stored(wanted),
        _ => false,
    }
}

/// A text column, `None` for NULL (a non-text value is an error, as rusqlite reports it).
fn text_or_null<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> Result<Option<&'r str>> {
    Ok(row
        .get_ref(index)?
        .as_str_or_null()
        .map_err(rusqlite::Error::from)?)
}
