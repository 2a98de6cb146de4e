//! The monthly activity log (`activity/activity_YYYY_MM.txt`) of `heal-archives`.
//!
//! The database implies one line per prayer submitted, per mark (`prayed for prayer`),
//! per answered, archived, restored or flagged log row, and per registration. Each is
//! looked for in the activity files by parsing them (its text and its minute, with
//! multiplicity, as [`MinuteMatcher`] matches; then its text alone, since a line carries
//! the time it was written: a mark made offline is written when it reaches the server). A month that lacks lines is rewritten
//! whole, atomically, in ThyWill's layout with the missing lines put where the database's
//! times order them (a month with no file gets one); a file whose layout ThyWill's writer
//! would not have produced (a repeated or missing day header) is left alone and noted, as
//! rewriting it would change lines heal did not add.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use super::heal::{
    one_line, HealChange, HealChangeKind, HealOptions, LedgerPolicy, MinuteMatcher,
    RecordHealCounts,
};
use crate::archive::activity::{self, minute_of, MonthlyActivity};
use crate::archive::fileops::{self, entry_type, EntryType};
use crate::archive::timestamp::ts_day;
use crate::{Error, Result};

/// One line the database implies.
#[derive(Debug, Clone)]
pub(crate) struct ActivityEvent {
    pub(crate) at: NaiveDateTime,
    /// Orders events of one instant: registrations, submissions, marks, the rest.
    pub(crate) rank: u8,
    pub(crate) user: String,
    pub(crate) action: String,
    pub(crate) tag: Option<String>,
}

impl ActivityEvent {
    fn entry(&self) -> MonthlyActivity {
        MonthlyActivity {
            date: Some(self.at.date()),
            time: minute_of(&self.at.time()),
            user: self.user.clone(),
            action: self.action.clone(),
            tag: self.tag.clone().filter(|t| !t.is_empty()),
            line: 0,
        }
    }
}

/// What identifies a line besides its minute: its text after the time.
fn key_of(entry: &MonthlyActivity) -> String {
    let line = entry.render();
    line.get(5..).unwrap_or_default().to_string()
}

/// One activity file, parsed.
struct ActivityFile {
    relative: String,
    bytes: Vec<u8>,
    /// The entries with their dates (`None` for an entry above any day header).
    entries: Vec<MonthlyActivity>,
    /// Lines the parser could not read.
    unreadable: usize,
}

fn read_files(root: &Path) -> Result<Vec<ActivityFile>> {
    let dir = root.join("activity");
    let mut names = Vec::new();
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(&dir, e))?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if !(name.starts_with("activity_") && name.ends_with(".txt")) {
                    continue;
                }
                if let EntryType::File { via_link } =
                    entry_type(&entry).map_err(|e| Error::io(entry.path(), e))?
                {
                    names.push((name, entry.path(), via_link));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&dir, e)),
    }
    names.sort();
    let mut files = Vec::new();
    for (name, path, via_link) in names {
        let bytes = fileops::read_listed_file(&path, via_link)?;
        let relative = format!("activity/{name}");
        let mut entries = Vec::new();
        let mut unreadable = 0;
        for item in activity::parse_monthly(bytes.as_slice(), Some(Path::new(&relative))) {
            match item {
                Ok(entry) => entries.push(entry),
                Err(_) => unreadable += 1,
            }
        }
        files.push(ActivityFile {
            relative,
            bytes,
            entries,
            unreadable,
        });
    }
    Ok(files)
}

/// The file of a month: `activity/activity_YYYY_MM.txt`.
fn month_file(month: &impl Datelike) -> String {
    format!(
        "activity/activity_{}.txt",
        crate::archive::timestamp::ym(month)
    )
}

/// A month's file in ThyWill's layout: the creation header, then per day an empty line,
/// the day header and the day's lines.
fn render_month(month: &NaiveDate, entries: &[MonthlyActivity]) -> Option<String> {
    let mut out = activity::monthly_header(month);
    let mut day: Option<NaiveDate> = None;
    for entry in entries {
        let date = entry.date?;
        if day != Some(date) {
            out.push('\n');
            out.push_str(&ts_day(&date));
            out.push('\n');
            day = Some(date);
        }
        out.push_str(&entry.render());
        out.push('\n');
    }
    Some(out)
}

/// The month a file's name says (`activity_2025_07.txt`).
fn month_of_name(relative: &str) -> Option<NaiveDate> {
    let stem = relative
        .strip_prefix("activity/activity_")?
        .strip_suffix(".txt")?;
    let (year, month) = stem.split_once('_')?;
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
}

/// What the activity log's planning gives heal's plan.
#[derive(Default)]
pub(crate) struct ActivityPlan {
    pub(crate) counts: RecordHealCounts,
    pub(crate) changes: Vec<HealChange>,
    pub(crate) notes: Vec<String>,
    /// Whole files written atomically: (path relative to the root, content).
    pub(crate) rewrites: Vec<(String, String)>,
}

/// Plans the lines of `events` (sorted by time) the activity files lack.
pub(crate) fn plan_activity(
    events: &[ActivityEvent],
    root: &Path,
    options: &HealOptions,
    has_prayers_dir: bool,
) -> Result<ActivityPlan> {
    // As the ledgers: an archive without `activity/` is not given one unless it is being
    // rebuilt (no `prayers/` either) or `ledgers = always` says so.
    let healed = match options.ledgers {
        LedgerPolicy::Never => false,
        LedgerPolicy::Always => true,
        LedgerPolicy::Auto => root.join("activity").is_dir() || !has_prayers_dir,
    };
    let mut plan = ActivityPlan {
        counts: RecordHealCounts {
            healed,
            rows: events.len() as u64,
            ..RecordHealCounts::default()
        },
        ..ActivityPlan::default()
    };
    if !healed {
        return Ok(plan);
    }
    let files = read_files(root)?;
    let mut matcher = MinuteMatcher::new();
    // Line number = (file, entry) packed into one index.
    let mut where_is: Vec<(usize, usize)> = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for (e, entry) in file.entries.iter().enumerate() {
            if let Some(date) = entry.date {
                matcher.add(
                    key_of(entry),
                    &date.and_time(entry.time),
                    &options.time_zone,
                    where_is.len(),
                );
                where_is.push((f, e));
            }
        }
    }
    // Which event each file entry is, and the events no line holds, by month.
    let mut matched: HashMap<(usize, usize), usize> = HashMap::new();
    let mut unmatched: Vec<usize> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let entry = event.entry();
        if !one_line(&event.user) || event.tag.as_deref().is_some_and(|t| !one_line(t)) {
            plan.notes.push(format!(
                "activity of {:?} ({}): a line break the activity line cannot hold; not archived",
                event.user, event.action
            ));
            continue;
        }
        match matcher.take(&key_of(&entry), &event.at) {
            Some(index) => {
                if let Some(place) = where_is.get(index) {
                    matched.insert(*place, i);
                }
                plan.counts.present += 1;
            }
            None => unmatched.push(i),
        }
    }
    // The line's time is the time of writing: a mark made offline carries its client's
    // earlier time, and its line the time it reached the server. A line of the same text
    // that no row of its minute took accounts for such a row.
    let mut spare: HashMap<String, std::collections::VecDeque<usize>> = HashMap::new();
    for index in matcher.unused() {
        if let Some(&(f, e)) = where_is.get(index) {
            spare
                .entry(key_of(&files[f].entries[e]))
                .or_default()
                .push_back(index);
        }
    }
    let mut missing: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
    for i in unmatched {
        let event = &events[i];
        match spare
            .get_mut(&key_of(&event.entry()))
            .and_then(|lines| lines.pop_front())
        {
            Some(index) => {
                if let Some(place) = where_is.get(index) {
                    matched.insert(*place, i);
                }
                plan.counts.present += 1;
            }
            None => missing
                .entry(event.at.date().with_day(1).unwrap_or(event.at.date()))
                .or_default()
                .push(i),
        }
    }
    let by_name: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.relative.as_str(), i))
        .collect();
    for (month, lacking) in missing {
        let relative = month_file(&month);
        // The merged lines: (entry, the event it is, if known).
        let mut merged: Vec<(MonthlyActivity, Option<usize>)> = Vec::new();
        if let Some(&f) = by_name.get(relative.as_str()) {
            let file = &files[f];
            let canonical = file.unreadable == 0
                && month_of_name(&file.relative)
                    .and_then(|m| render_month(&m, &file.entries))
                    .is_some_and(|r| r.as_bytes() == file.bytes.as_slice());
            if !canonical {
                plan.notes.push(format!(
                    "{relative}: not in the layout ThyWill's writer makes; its {} missing lines are not written",
                    lacking.len()
                ));
                continue;
            }
            merged = file
                .entries
                .iter()
                .enumerate()
                .map(|(e, entry)| (entry.clone(), matched.get(&(f, e)).copied()))
                .collect();
        }
        for &i in &lacking {
            let entry = events[i].entry();
            let (date, time) = (entry.date, entry.time);
            // Before the first line of a later minute, or of the same minute that the
            // database orders after this one.
            let position = merged
                .iter()
                .position(|(other, order)| {
                    (other.date, other.time) > (date, time)
                        || ((other.date, other.time) == (date, time)
                            && order.is_some_and(|o| o > i))
                })
                .unwrap_or(merged.len());
            merged.insert(position, (entry, Some(i)));
        }
        let entries: Vec<MonthlyActivity> = merged.into_iter().map(|(e, _)| e).collect();
        let Some(content) = render_month(&month, &entries) else {
            continue;
        };
        plan.counts.written += lacking.len() as u64;
        plan.changes.push(HealChange {
            kind: HealChangeKind::ActivityLogWritten,
            record: "activity".into(),
            path: relative.clone(),
            detail: format!("{} missing lines added", lacking.len()),
        });
        plan.rewrites.push((relative, content));
    }
    Ok(plan)
}
