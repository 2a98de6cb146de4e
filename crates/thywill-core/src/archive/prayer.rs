//! Per-prayer files `prayers/YYYY/MM/YYYY_MM_DD_prayer_at_HHMM[_N].txt`.
//!
//! [`PrayerArchive::render`] writes ThyWill's exact bytes. [`parse`] reads a file
//! positionally, fixing ThyWill's reader defects (full actor names, request text
//! kept verbatim, header only at the top, IDs as strings, …; see `docs/format-fixes.md`).
//! [`parse_thywill`] reproduces ThyWill's own `parse_prayer_archive` (bugs included) for
//! callers that must import exactly as ThyWill does.

use std::path::Path;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::categorization::{apply_key, Categorization, CATEGORIZATION_KEYS};
use super::diagnostics::Diagnostic;
use super::lines::{decode_text, normalize_newlines, split_lines};
use super::timestamp::HumanTime;
use crate::pycompat::datetime::strptime_ts_h;
use crate::pycompat::number::py_int;
use crate::pycompat::strings::{py_split_whitespace, py_strip};
use crate::Result;

/// One prayer file. It deserializes from the shape it serializes to (optional parts and
/// activities may be left out; timestamps may be given as their text alone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrayerArchive {
    /// The prayer ID from the title line, as written (`uuid4().hex`, a legacy integer, `temp`…).
    pub id: String,
    /// The author's display name (everything after the first ` by ` of the title).
    pub author: String,
    /// `Submitted` timestamp: the prayer's `created_at` to the minute.
    pub submitted: HumanTime,
    /// `Project:` line, if present (never empty).
    #[serde(default)]
    pub project_tag: Option<String>,
    /// `Audience:` line, if present (never empty; ThyWill's DB has no column for it).
    #[serde(default)]
    pub target_audience: Option<String>,
    /// The 6-line categorization block, if present.
    #[serde(default)]
    pub categorization: Option<Categorization>,
    /// The request text, verbatim (LF line ends; may be empty or contain blank and colon lines).
    pub text: String,
    /// The generated prayer, verbatim (without the writer's separator newline), if present.
    #[serde(default)]
    pub generated_prayer: Option<String>,
    /// The `Activity:` lines, in file (append) order.
    #[serde(default)]
    pub activities: Vec<PrayerActivity>,
    /// True for a header-less fragment: only activity lines, appended after the file was
    /// deleted. `id`, `author` and `submitted` are then empty and not rendered.
    #[serde(default)]
    pub fragment: bool,
}

/// One line of the `Activity:` section: `{timestamp} - {actor} {predicate}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrayerActivity {
    /// When (append time, or a client or DB timestamp).
    pub timestamp: HumanTime,
    /// The actor's full display name (empty for [`ActivityAction::Raw`]).
    pub actor: String,
    /// What was done.
    pub action: ActivityAction,
}

/// The predicate of an activity line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActivityAction {
    /// `prayed this prayer`
    Prayed,
    /// `marked this prayer as answered`
    Answered,
    /// `added testimony: {text}` (the text may span lines).
    Testimony {
        /// The testimony.
        text: String,
    },
    /// `archived this prayer`
    Archived,
    /// `restored this prayer`
    Restored,
    /// `flagged this prayer`
    Flagged,
    /// `set {name} from '{old}' to '{new}'`, or `set {name} to '{new}'` when `old` is
    /// `None` or empty (Python falsy).
    SetAttribute {
        /// The attribute name (action with `set_`/`remove_` removed).
        name: String,
        /// The previous value.
        old: Option<String>,
        /// The new value (`None` renders as the text `None`).
        new: String,
    },
    /// `removed {name} (was '{old}')`
    RemoveAttribute {
        /// The attribute name.
        name: String,
        /// The removed value.
        old: String,
    },
    /// Any other action: `{action}` plus `: {extra}` when `extra` is non-empty.
    Other {
        /// The action word(s).
        action: String,
        /// Extra text.
        extra: Option<String>,
    },
    /// A line that has a timestamp but no `{actor} {predicate}` shape; rendered as
    /// `{timestamp} - {text}`.
    Raw {
        /// Everything after `{timestamp} - `.
        text: String,
    },
}

const FIXED_SUFFIXES: [(&str, ActivityAction); 5] = [
    (" prayed this prayer", ActivityAction::Prayed),
    (" marked this prayer as answered", ActivityAction::Answered),
    (" archived this prayer", ActivityAction::Archived),
    (" restored this prayer", ActivityAction::Restored),
    (" flagged this prayer", ActivityAction::Flagged),
];

const TESTIMONY: &str = " added testimony: ";

impl ActivityAction {
    /// Builds the action the way ThyWill's `append_prayer_activity(action, …, extra,
    /// old_value, new_value)` chooses its line: the six fixed actions first, then
    /// `set_…`/`remove_…` (name = action with every `set_` then every `remove_` removed),
    /// then the generic form. `None` values render as `None`.
    pub fn from_thywill(
        action: &str,
        extra: Option<&str>,
        old_value: Option<&str>,
        new_value: Option<&str>,
    ) -> Self {
        match action {
            "prayed" => ActivityAction::Prayed,
            "answered" => ActivityAction::Answered,
            "testimony" => ActivityAction::Testimony {
                text: extra.unwrap_or_default().to_string(),
            },
            "archived" => ActivityAction::Archived,
            "restored" => ActivityAction::Restored,
            "flagged" => ActivityAction::Flagged,
            a if a.starts_with("set_") || a.starts_with("remove_") => {
                let name = a.replace("set_", "").replace("remove_", "");
                if a.starts_with("set_") {
                    ActivityAction::SetAttribute {
                        name,
                        old: old_value.filter(|o| !o.is_empty()).map(str::to_string),
                        new: new_value.unwrap_or("None").to_string(),
                    }
                } else {
                    ActivityAction::RemoveAttribute {
                        name,
                        old: old_value.unwrap_or("None").to_string(),
                    }
                }
            }
            a => ActivityAction::Other {
                action: a.to_string(),
                extra: extra.filter(|e| !e.is_empty()).map(str::to_string),
            },
        }
    }

    /// ThyWill's action word for this entry (`prayed`, `answered`, `testimony`, `archived`,
    /// `restored`, `flagged`, `set_{name}`, `remove_{name}`, or the generic action), as its
    /// `PrayerActivityLog.action` column would hold it.
    pub fn action_name(&self) -> String {
        match self {
            ActivityAction::Prayed => "prayed".into(),
            ActivityAction::Answered => "answered".into(),
            ActivityAction::Testimony { .. } => "testimony".into(),
            ActivityAction::Archived => "archived".into(),
            ActivityAction::Restored => "restored".into(),
            ActivityAction::Flagged => "flagged".into(),
            ActivityAction::SetAttribute { name, .. } => format!("set_{name}"),
            ActivityAction::RemoveAttribute { name, .. } => format!("remove_{name}"),
            ActivityAction::Other { action, .. } => action.clone(),
            ActivityAction::Raw { .. } => "unknown".into(),
        }
    }

    fn predicate(&self) -> String {
        match self {
            ActivityAction::Prayed => "prayed this prayer".into(),
            ActivityAction::Answered => "marked this prayer as answered".into(),
            ActivityAction::Testimony { text } => format!("added testimony: {text}"),
            ActivityAction::Archived => "archived this prayer".into(),
            ActivityAction::Restored => "restored this prayer".into(),
            ActivityAction::Flagged => "flagged this prayer".into(),
            ActivityAction::SetAttribute { name, old, new } => match old {
                Some(o) if !o.is_empty() => format!("set {name} from '{o}' to '{new}'"),
                _ => format!("set {name} to '{new}'"),
            },
            ActivityAction::RemoveAttribute { name, old } => {
                format!("removed {name} (was '{old}')")
            }
            ActivityAction::Other { action, extra } => match extra {
                Some(e) if !e.is_empty() => format!("{action}: {e}"),
                _ => action.clone(),
            },
            ActivityAction::Raw { text } => text.clone(),
        }
    }
}

impl PrayerActivity {
    /// An activity at `t` (rendered as `TS_H`).
    pub fn new(t: NaiveDateTime, actor: impl Into<String>, action: ActivityAction) -> Self {
        PrayerActivity {
            timestamp: HumanTime::from_time(t),
            actor: actor.into(),
            action,
        }
    }

    /// The line ThyWill appends, without its LF (it contains LFs only if a value does).
    pub fn render(&self) -> String {
        match &self.action {
            ActivityAction::Raw { text } => format!("{} - {text}", self.timestamp.text),
            a => format!("{} - {} {}", self.timestamp.text, self.actor, a.predicate()),
        }
    }

    /// Parses one logical activity line (continuation lines joined with LF).
    /// `None` if it does not start with a readable `{timestamp} - `.
    pub fn parse(line: &str) -> Option<Self> {
        let (ts, rest) = line.split_once(" - ")?;
        let time = strptime_ts_h(ts)?;
        let timestamp = HumanTime {
            text: ts.to_string(),
            time: Some(time),
        };
        let (actor, action) = parse_actor_and_action(rest);
        Some(PrayerActivity {
            timestamp,
            actor,
            action,
        })
    }
}

/// Parses `set {name} …` / `removed {name} …` tails that follow an actor.
fn parse_set(after: &str) -> Option<ActivityAction> {
    let (name, tail) = after.split_once(' ')?;
    if name.is_empty() {
        return None;
    }
    let new_body = |s: &str| -> Option<String> { s.strip_suffix('\'').map(str::to_string) };
    if let Some(v) = tail.strip_prefix("to '") {
        return Some(ActivityAction::SetAttribute {
            name: name.to_string(),
            old: None,
            new: new_body(v)?,
        });
    }
    let from = tail.strip_prefix("from '")?;
    let (old, new) = from.split_once("' to '")?;
    if old.is_empty() {
        return None;
    }
    Some(ActivityAction::SetAttribute {
        name: name.to_string(),
        old: Some(old.to_string()),
        new: new_body(new)?,
    })
}

fn parse_removed(after: &str) -> Option<ActivityAction> {
    let (name, tail) = after.split_once(" (was '")?;
    if name.is_empty() || name.contains(' ') {
        return None;
    }
    Some(ActivityAction::RemoveAttribute {
        name: name.to_string(),
        old: tail.strip_suffix("')")?.to_string(),
    })
}

/// Splits `{actor} {predicate}`: the actor is the text before the earliest position at
/// which a recognised predicate matches through to the end of the line (FIXABLE).
/// Unrecognised lines fall back to ThyWill's first-word actor.
fn parse_actor_and_action(rest: &str) -> (String, ActivityAction) {
    let mut best: Option<(usize, ActivityAction)> = None;
    let mut consider = |pos: usize, action: ActivityAction| {
        if best.as_ref().is_none_or(|(p, _)| pos < *p) {
            best = Some((pos, action));
        }
    };
    if let Some(i) = rest.find(TESTIMONY) {
        consider(
            i,
            ActivityAction::Testimony {
                text: rest
                    .get(i + TESTIMONY.len()..)
                    .unwrap_or_default()
                    .to_string(),
            },
        );
    }
    for (suffix, action) in FIXED_SUFFIXES.iter() {
        if let Some(actor) = rest.strip_suffix(suffix) {
            consider(actor.len(), action.clone());
        }
    }
    for (i, _) in rest.match_indices(" set ") {
        if let Some(a) = parse_set(rest.get(i + 5..).unwrap_or_default()) {
            consider(i, a);
            break;
        }
    }
    for (i, _) in rest.match_indices(" removed ") {
        if let Some(a) = parse_removed(rest.get(i + 9..).unwrap_or_default()) {
            consider(i, a);
            break;
        }
    }
    if let Some((pos, action)) = best {
        return (rest.get(..pos).unwrap_or_default().to_string(), action);
    }
    match rest.split_once(' ') {
        Some((actor, tail)) if !tail.is_empty() => {
            let action = match tail.split_once(": ") {
                Some((a, e)) if !e.is_empty() => ActivityAction::Other {
                    action: a.to_string(),
                    extra: Some(e.to_string()),
                },
                _ => ActivityAction::Other {
                    action: tail.to_string(),
                    extra: None,
                },
            };
            (actor.to_string(), action)
        }
        _ => (
            String::new(),
            ActivityAction::Raw {
                text: rest.to_string(),
            },
        ),
    }
}

impl PrayerArchive {
    /// A new prayer record with no optional parts and no activity.
    pub fn new(
        id: impl Into<String>,
        author: impl Into<String>,
        created_at: NaiveDateTime,
        text: impl Into<String>,
    ) -> Self {
        PrayerArchive {
            id: id.into(),
            author: author.into(),
            submitted: HumanTime::from_time(created_at),
            project_tag: None,
            target_audience: None,
            categorization: None,
            text: text.into(),
            generated_prayer: None,
            activities: Vec::new(),
            fragment: false,
        }
    }

    /// The file as ThyWill's `create_prayer_archive` writes it (ending `Activity:\n`), without
    /// any activity line. Empty `project_tag`, `target_audience` and `generated_prayer` are
    /// omitted as Python's truthiness test omits them.
    pub fn render_header(&self) -> String {
        if self.fragment {
            return String::new();
        }
        let mut lines: Vec<String> = vec![
            format!("Prayer {} by {}", self.id, self.author),
            format!("Submitted {}", self.submitted.text),
        ];
        if let Some(p) = self.project_tag.as_deref().filter(|p| !p.is_empty()) {
            lines.push(format!("Project: {p}"));
        }
        if let Some(a) = self.target_audience.as_deref().filter(|a| !a.is_empty()) {
            lines.push(format!("Audience: {a}"));
        }
        if let Some(c) = &self.categorization {
            lines.extend(c.render_lines());
        }
        lines.push(String::new());
        lines.push(self.text.clone());
        lines.push(String::new());
        if let Some(g) = self.generated_prayer.as_deref().filter(|g| !g.is_empty()) {
            lines.push("Generated Prayer:".into());
            lines.push(g.to_string());
            lines.push(String::new());
        }
        lines.push("Activity:".into());
        lines.push(String::new());
        lines.join("\n")
    }

    /// The whole file: [`PrayerArchive::render_header`] plus one line per activity.
    pub fn render(&self) -> String {
        let mut out = self.render_header();
        for a in &self.activities {
            out.push_str(&a.render());
            out.push('\n');
        }
        out
    }

    /// The bytes of ThyWill's archive-first flow: rendered with ID `temp`,
    /// newlines normalised, then every `Prayer temp by` replaced by `Prayer {id} by`.
    pub fn render_archive_first(&self) -> String {
        let temp = PrayerArchive {
            id: "temp".into(),
            activities: Vec::new(),
            ..self.clone()
        };
        let mut out = normalize_newlines(&temp.render_header())
            .replace("Prayer temp by", &format!("Prayer {} by", self.id));
        for a in &self.activities {
            out.push_str(&a.render());
            out.push('\n');
        }
        out
    }

    /// The parsed `created_at` (minute precision), if the `Submitted` line parses.
    pub fn created_at(&self) -> Option<NaiveDateTime> {
        self.submitted.time
    }
}

fn diag(path: Option<&Path>, line: usize, reason: impl Into<String>) -> Diagnostic {
    Diagnostic::new(path, line, reason)
}

/// Parses a prayer file's bytes (strict UTF-8, leading BOMs and CRLF files tolerated).
/// Never fails: unreadable input gives diagnostics and as much of the record as was read.
pub fn parse_bytes(bytes: &[u8], path: Option<&Path>) -> (PrayerArchive, Vec<Diagnostic>) {
    let (archive, diags, _) = parse_bytes_judged(bytes, path);
    (archive, diags)
}

/// [`parse_bytes`], plus where the file was cut short, if it was ([`Cut`]).
pub(crate) fn parse_bytes_judged(
    bytes: &[u8],
    path: Option<&Path>,
) -> (PrayerArchive, Vec<Diagnostic>, Option<Cut>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_judged(text, path),
        Err(_) => {
            // Read what can be read; the diagnostic (with the line of the first bad byte)
            // says the file is damaged.
            let (archive, mut diags, cut) = parse_judged(&String::from_utf8_lossy(bytes), path);
            if let Err(d) = decode_text(bytes, path) {
                diags.insert(0, d);
            }
            (archive, diags, cut)
        }
    }
}

/// Where a prayer file was cut short. ThyWill writes a prayer file whole, ending with
/// `Activity:` and a newline, and appends whole activity lines ending with a newline; so a
/// file with a title line is judged truncated when its header has no blank line after it,
/// when it has no `Activity:` line, or when it does not end with a newline. (A cut that
/// falls exactly after a whole activity line cannot be told from fewer activities.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cut {
    /// The part of the file the cut runs through.
    pub part: CutPart,
    /// The 1-based line where the file ends, the one the cut runs through.
    pub line: usize,
}

/// The part of a prayer file a [`Cut`] runs through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CutPart {
    /// The title, `Submitted` or other header lines: no blank line follows them.
    Header,
    /// The request text: no `Generated Prayer:` and no `Activity:` line follows it.
    RequestText,
    /// The generated prayer: no `Activity:` line follows it.
    GeneratedPrayer,
    /// The last activity line: the file does not end with a newline.
    LastActivity,
    /// Only the newline after the final `Activity:` line is missing.
    FinalNewline,
}

impl CutPart {
    /// The part in words, e.g. `the generated prayer`.
    pub fn describe(self) -> &'static str {
        match self {
            CutPart::Header => "the header",
            CutPart::RequestText => "the request text",
            CutPart::GeneratedPrayer => "the generated prayer",
            CutPart::LastActivity => "the last activity line",
            CutPart::FinalNewline => "the final newline",
        }
    }
}

/// True when the file's own line structure uses CR: every LF (at least two) is part of a CRLF
/// and every CR of one (an editor or transfer converted the file), or there is no LF at all.
fn structural_cr(text: &str) -> bool {
    if !text.contains('\r') {
        return false;
    }
    if !text.contains('\n') {
        return true;
    }
    let b = text.as_bytes();
    // One CRLF alone is more likely a value's CR before the writer's LF than a conversion.
    b.iter().filter(|&&c| c == b'\n').count() >= 2
        && b.iter().enumerate().all(|(i, &c)| match c {
            b'\n' => i > 0 && b.get(i - 1) == Some(&b'\r'),
            b'\r' => b.get(i + 1) == Some(&b'\n'),
            _ => true,
        })
}

/// Parses a prayer file's text positionally, fixing ThyWill's reader defects:
/// the title is only the first line, the header block ends at the first empty line, the
/// request text and generated prayer are kept verbatim, the activity section starts at the
/// last `Activity:` line that follows an empty line, activity lines are joined with their
/// continuation lines, and actors are full names.
///
/// Line ends: ThyWill's writers join lines with LF; a CR can only come from a value (a
/// browser textarea sends CRLF), which the legacy and heal paths write verbatim. Such CRs
/// are kept in the values, so the record re-renders byte-identically and keeps the text as
/// it was submitted. Only a file whose every line ends in CRLF (converted after writing) is
/// read with universal newlines, as ThyWill would.
pub fn parse(text: &str, path: Option<&Path>) -> (PrayerArchive, Vec<Diagnostic>) {
    let (archive, diags, _) = parse_judged(text, path);
    (archive, diags)
}

/// [`parse`], plus where the file was cut short, if it was ([`Cut`]).
pub(crate) fn parse_judged(
    text: &str,
    path: Option<&Path>,
) -> (PrayerArchive, Vec<Diagnostic>, Option<Cut>) {
    let text = text.trim_start_matches('\u{FEFF}');
    let normalized;
    let text = if structural_cr(text) {
        normalized = normalize_newlines(text).into_owned();
        normalized.as_str()
    } else {
        text
    };
    let (lines, ended_with_lf) = split_lines(text);
    let mut diags = Vec::new();
    let mut archive = PrayerArchive::new("", "", NaiveDateTime::MIN, "");
    archive.submitted = HumanTime {
        text: String::new(),
        time: None,
    };
    if !ended_with_lf {
        diags.push(diag(
            path,
            lines.len(),
            "file does not end with a newline (truncated?)",
        ));
    }
    let title = lines.first().copied().unwrap_or_default();
    let title_parts = title
        .strip_prefix("Prayer ")
        .and_then(|t| t.split_once(" by "));
    let Some((id, author)) = title_parts else {
        // A header-less fragment: activity lines only.
        archive.fragment = true;
        archive.activities = parse_activities(&lines, 0, path, &mut diags);
        if lines.is_empty() {
            diags.push(diag(path, 0, "empty file"));
        }
        return (archive, diags, None);
    };
    let cut_at = |part| {
        Some(Cut {
            part,
            line: lines.len(),
        })
    };
    archive.id = id.to_string();
    archive.author = author.to_string();

    let mut i = 1;
    match lines.get(1).and_then(|l| l.strip_prefix("Submitted ")) {
        Some(ts) => {
            archive.submitted = HumanTime::parse(ts);
            if archive.submitted.time.is_none() {
                diags.push(diag(
                    path,
                    2,
                    format!("unreadable Submitted timestamp {ts:?}"),
                ));
            }
            i = 2;
        }
        None => diags.push(diag(path, 2, "missing `Submitted ` line")),
    }

    // Header block: until the first empty line.
    let mut cat: Option<Categorization> = None;
    let mut cat_keys = 0usize;
    while let Some(line) = lines.get(i) {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Project: ") {
            archive.project_tag = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("Audience: ") {
            archive.target_audience = Some(v.to_string());
        } else if let Some((k, v)) = CATEGORIZATION_KEYS.iter().find_map(|k| {
            line.strip_prefix(k)
                .and_then(|r| r.strip_prefix(": "))
                .map(|v| (*k, v))
        }) {
            let c = cat.get_or_insert_with(Categorization::writer_defaults);
            if apply_key(c, k, v) {
                cat_keys += 1;
            } else {
                diags.push(diag(path, i + 1, format!("unreadable {k} value {v:?}")));
            }
        } else {
            diags.push(diag(
                path,
                i + 1,
                format!("unexpected header line {line:?}"),
            ));
        }
        i += 1;
    }
    if cat.is_some() && cat_keys != CATEGORIZATION_KEYS.len() {
        diags.push(diag(
            path,
            i,
            format!("categorization block has {cat_keys} of 6 readable lines"),
        ));
    }
    archive.categorization = cat;
    let header_end = i; // index of the empty line after the header
    if lines.get(header_end).is_none() {
        diags.push(diag(
            path,
            lines.len(),
            "missing blank line after the header",
        ));
        return (archive, diags, cut_at(CutPart::Header));
    }

    // The activity marker: the last `Activity:` line preceded by an empty line, at least
    // one text line after the header.
    let marker = (header_end + 3..lines.len())
        .rev()
        .find(|&k| lines.get(k) == Some(&"Activity:") && lines.get(k - 1) == Some(&""));
    let (body_end, activities_from) = match marker {
        Some(k) => (k - 1, Some(k + 1)),
        None => {
            diags.push(diag(path, lines.len(), "missing `Activity:` line"));
            (lines.len(), None)
        }
    };
    let body = lines
        .get(header_end + 1..body_end)
        .unwrap_or_default()
        .join("\n");
    const GEN: &str = "\n\nGenerated Prayer:\n";
    match body.find(GEN) {
        Some(p) => {
            archive.text = body.get(..p).unwrap_or_default().to_string();
            archive.generated_prayer =
                Some(body.get(p + GEN.len()..).unwrap_or_default().to_string());
        }
        None => archive.text = body,
    }
    if let Some(from) = activities_from {
        archive.activities = parse_activities(&lines, from, path, &mut diags);
    }
    let cut = match (activities_from, ended_with_lf) {
        (None, _) if archive.generated_prayer.is_some() => cut_at(CutPart::GeneratedPrayer),
        (None, _) => cut_at(CutPart::RequestText),
        (Some(from), false) if lines.len() > from => cut_at(CutPart::LastActivity),
        (Some(_), false) => cut_at(CutPart::FinalNewline),
        (Some(_), true) => None,
    };
    (archive, diags, cut)
}

/// Groups lines from `from` into activity records (a record starts with a readable
/// `{timestamp} - `; other lines continue the previous record) and parses each.
fn parse_activities(
    lines: &[&str],
    from: usize,
    path: Option<&Path>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<PrayerActivity> {
    // (timestamp text, parsed time, rest of the logical line)
    let mut records: Vec<(&str, NaiveDateTime, String)> = Vec::new();
    for (k, line) in lines.iter().enumerate().skip(from) {
        let start = line
            .split_once(" - ")
            .and_then(|(ts, rest)| strptime_ts_h(ts).map(|t| (ts, t, rest)));
        match (start, records.last_mut()) {
            (Some((ts, t, rest)), _) => records.push((ts, t, rest.to_string())),
            (None, Some((_, _, rest))) => {
                rest.push('\n');
                rest.push_str(line);
            }
            (None, None) => diags.push(diag(
                path,
                k + 1,
                format!("unreadable activity line {line:?}"),
            )),
        }
    }
    records
        .into_iter()
        .map(|(ts, t, rest)| {
            let (actor, action) = parse_actor_and_action(&rest);
            PrayerActivity {
                timestamp: HumanTime {
                    text: ts.to_string(),
                    time: Some(t),
                },
                actor,
                action,
            }
        })
        .collect()
}

/// Re-renders prayer-file bytes (for `thywill archive check`).
pub fn rerender(bytes: &[u8], path: Option<&Path>) -> Result<(Vec<u8>, Vec<Diagnostic>)> {
    let (archive, diags) = parse_bytes(bytes, path);
    Ok((archive.render().into_bytes(), diags))
}

// ---------------------------------------------------------------------------
// ThyWill's own reader, for exact-compatibility imports
// ---------------------------------------------------------------------------

/// A prayer ID as ThyWill's parser returns it: an `int` when Python's `int()` accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ThyWillId {
    /// A numeric ID (leading zeros and `_` separators lost).
    Int(i64),
    /// Any other ID.
    Str(String),
}

/// One activity as ThyWill's parser returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThyWillActivity {
    /// Raw timestamp text before the first ` - `.
    pub timestamp: String,
    /// Everything after the first ` - `.
    pub raw_action: String,
    /// The first whitespace-separated word of `raw_action`.
    pub user: String,
    /// `prayed`, `answered`, `testimony`, `archived`, `restored`, `flagged` or `unknown`.
    pub action: String,
}

/// The dict ThyWill's `TextArchiveService.parse_prayer_archive` returns: absent keys are
/// `None` and left out when serialized, as ThyWill leaves them out of its dict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ThyWillPrayerData {
    /// `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<ThyWillId>,
    /// `author` (text between the first and second ` by `).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// `submitted`, raw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted: Option<String>,
    /// `project_tag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_tag: Option<String>,
    /// `target_audience`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_audience: Option<String>,
    /// `original_request`: non-empty, stripped, colon-free header-section lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_request: Option<String>,
    /// `generated_prayer` (with ThyWill's trailing `\n`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_prayer: Option<String>,
    /// `activities`.
    pub activities: Vec<ThyWillActivity>,
}

impl ThyWillPrayerData {
    /// The correct reading of a prayer file (`archive`, from [`parse`]) in the shape of
    /// ThyWill's parser, for callers that index ThyWill's keys. It differs from
    /// [`parse_thywill`] only where ThyWill's reader is wrong: the ID stays the string
    /// written, the author is everything after the first ` by `, the request is the text
    /// verbatim (colon and blank lines kept; absent when empty), header-looking lines of
    /// the text are text, the generated prayer has no trailing `\n`, the user is the full
    /// actor name and the action is the predicate after it (`unknown` for any other
    /// predicate, as ThyWill's callers expect). A header-less fragment, or a file
    /// without a readable title, is empty (ThyWill's "No prayer data found").
    pub fn from_archive(archive: &PrayerArchive) -> Self {
        if archive.fragment || archive.id.is_empty() {
            return ThyWillPrayerData::default();
        }
        let activities = archive
            .activities
            .iter()
            .map(|a| {
                let line = a.render();
                let raw_action = line
                    .split_once(" - ")
                    .map(|(_, rest)| rest.to_string())
                    .unwrap_or_default();
                let action = match &a.action {
                    ActivityAction::Prayed => "prayed",
                    ActivityAction::Answered => "answered",
                    ActivityAction::Testimony { .. } => "testimony",
                    ActivityAction::Archived => "archived",
                    ActivityAction::Restored => "restored",
                    ActivityAction::Flagged => "flagged",
                    _ => "unknown",
                };
                ThyWillActivity {
                    timestamp: a.timestamp.text.clone(),
                    raw_action,
                    user: a.actor.clone(),
                    action: action.to_string(),
                }
            })
            .collect();
        ThyWillPrayerData {
            id: Some(ThyWillId::Str(archive.id.clone())),
            author: Some(archive.author.clone()),
            submitted: Some(archive.submitted.text.clone()),
            project_tag: archive.project_tag.clone(),
            target_audience: archive.target_audience.clone(),
            original_request: Some(archive.text.clone()).filter(|t| !t.is_empty()),
            generated_prayer: archive.generated_prayer.clone(),
            activities,
        }
    }

    /// True when ThyWill would report "No prayer data found" (the dict is empty).
    pub fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.author.is_none()
            && self.submitted.is_none()
            && self.project_tag.is_none()
            && self.target_audience.is_none()
            && self.original_request.is_none()
            && self.generated_prayer.is_none()
    }
}

/// ThyWill's activity classification: the first of six substrings found anywhere.
pub(crate) fn classify_thywill(rest: &str) -> &'static str {
    const ORDER: [(&str, &str); 6] = [
        ("prayed this prayer", "prayed"),
        ("marked this prayer as answered", "answered"),
        ("added testimony", "testimony"),
        ("archived this prayer", "archived"),
        ("restored this prayer", "restored"),
        ("flagged this prayer", "flagged"),
    ];
    ORDER
        .iter()
        .find(|(needle, _)| rest.contains(needle))
        .map(|(_, a)| *a)
        .unwrap_or("unknown")
}

/// ThyWill's `parse_prayer_archive`, defects included, on already-decoded text
/// (universal newlines applied here). For imports that must match ThyWill exactly.
pub fn parse_thywill(text: &str) -> ThyWillPrayerData {
    let content = normalize_newlines(text);
    let mut data = ThyWillPrayerData::default();
    let mut in_activity = false;
    let mut generated_section = false;
    for raw in content.split('\n') {
        let line = py_strip(raw);
        if line == "Activity:" {
            in_activity = true;
            continue;
        }
        if !in_activity {
            if line.starts_with("Prayer ") && line.contains(" by ") {
                let mut parts = line.split(" by ");
                let id_str = parts.next().unwrap_or_default().replace("Prayer ", "");
                data.id = Some(match py_int(&id_str).and_then(|v| i64::try_from(v).ok()) {
                    Some(n) => ThyWillId::Int(n),
                    None => ThyWillId::Str(id_str),
                });
                data.author = Some(parts.next().unwrap_or_default().to_string());
            } else if line.starts_with("Submitted ") {
                data.submitted = Some(line.replace("Submitted ", ""));
            } else if line.starts_with("Project: ") {
                data.project_tag = Some(line.replace("Project: ", ""));
            } else if line.starts_with("Audience: ") {
                data.target_audience = Some(line.replace("Audience: ", ""));
            } else if line == "Generated Prayer:" {
                generated_section = true;
                data.generated_prayer = Some(String::new());
            } else if generated_section {
                let gp = data.generated_prayer.get_or_insert_with(String::new);
                if !line.is_empty() {
                    if gp.is_empty() {
                        *gp = line.to_string();
                    } else {
                        gp.push('\n');
                        gp.push_str(line);
                    }
                } else if !gp.is_empty() {
                    gp.push('\n');
                }
            } else if !line.is_empty() && !line.contains(':') {
                match data.original_request.as_mut() {
                    Some(r) => {
                        r.push('\n');
                        r.push_str(line);
                    }
                    None => data.original_request = Some(line.to_string()),
                }
            }
        } else if line.contains(" - ") && line.contains(" at ") {
            let (ts, rest) = line.split_once(" - ").unwrap_or((line, ""));
            data.activities.push(ThyWillActivity {
                timestamp: ts.to_string(),
                raw_action: rest.to_string(),
                user: py_split_whitespace(rest)
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                action: classify_thywill(rest).to_string(),
            });
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thywill_parser_reproduces_observed_defects() {
        let d = parse_thywill(
            "Prayer 00123 by Stand by Me\nSubmitted July 06 2025 at 09:05\n\nDear God: help\nno colon here\n\n  indented  \nPrayer for my mom by the sea\n\nActivity:\nJuly 06 2025 at 09:05 - Bob Smith prayed this prayer\n",
        );
        assert_eq!(d.id, Some(ThyWillId::Str("for my mom".into())));
        assert_eq!(d.author.as_deref(), Some("the sea"));
        assert_eq!(
            d.original_request.as_deref(),
            Some("no colon here\nindented")
        );
        assert_eq!(d.activities[0].user, "Bob");
        let d = parse_thywill("Prayer 00123 by Stand by Me\n");
        assert_eq!(d.id, Some(ThyWillId::Int(123)));
        assert_eq!(d.author.as_deref(), Some("Stand"));
    }

    #[test]
    fn thywill_shape_of_the_correct_parse_fixes_the_fixable_defects() {
        let text = "Prayer 00123 by Stand by Me\nSubmitted July 06 2025 at 09:05\n\nDear God: help\n\n  indented  \nPrayer for my mom by the sea\n\nGenerated Prayer:\nLord\n\nAmen\n\nActivity:\nJuly 06 2025 at 09:05 - Bob Smith prayed this prayer\nJuly 06 2025 at 09:06 - Bob Smith added testimony: I prayed this prayer daily\nJuly 06 2025 at 09:07 - Ann set answered to 'yes'\n";
        let (archive, _) = parse(text, None);
        let d = ThyWillPrayerData::from_archive(&archive);
        assert_eq!(d.id, Some(ThyWillId::Str("00123".into())));
        assert_eq!(d.author.as_deref(), Some("Stand by Me"));
        assert_eq!(
            d.original_request.as_deref(),
            Some("Dear God: help\n\n  indented  \nPrayer for my mom by the sea")
        );
        assert_eq!(d.generated_prayer.as_deref(), Some("Lord\n\nAmen"));
        let acts: Vec<(&str, &str)> = d
            .activities
            .iter()
            .map(|a| (a.user.as_str(), a.action.as_str()))
            .collect();
        assert_eq!(
            acts,
            [
                ("Bob Smith", "prayed"),
                ("Bob Smith", "testimony"),
                ("Ann", "unknown")
            ]
        );
        assert_eq!(
            d.activities[1].raw_action,
            "Bob Smith added testimony: I prayed this prayer daily"
        );
        let (fragment, _) = parse("July 06 2025 at 09:05 - Bob prayed this prayer\n", None);
        assert!(ThyWillPrayerData::from_archive(&fragment).is_empty());
    }
}
