//! `thywill import prayers <file.json>`, implemented with its intended
//! semantics on the live schema (`author_username` = display name), which ThyWill's own
//! command never reached (it fails on every record).
//!
//! The batch is one transaction: when any record is malformed nothing is imported and
//! every bad record is reported with its index and field. A record is "already
//! present" when the database holds a prayer with the same author, text and (when the
//! record gives one) creation time; N identical records mean N prayers.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDateTime;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use serde_json::Value;

use super::report::{Entity, ImportReport, RecordIssue};
use super::runner::{ensure_lookup_indexes, ensure_schema, PhaseRunner};
use super::store::{insert_prayer, insert_user, user_exists, NewPrayer, NewUser};
use crate::db::encode::{format_datetime, parse_datetime};
use crate::db::{Database, IdGenerator};
use crate::progress::{report as progress_report, Progress};
use crate::{Error, Result};

/// The author ThyWill's command uses when a record names none.
pub const DEFAULT_AUTHOR: &str = "Imported User";

/// One valid record of the batch.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JsonPrayer {
    /// 0-based index in the JSON array.
    pub record: u64,
    /// The request (`text`).
    pub text: String,
    /// `generated_prayer`, stored as-is.
    pub generated_prayer: Option<String>,
    /// `author_name`, or [`DEFAULT_AUTHOR`].
    pub author_name: String,
    /// `author_id`: a legacy user id; used as a display name when such a user exists.
    pub author_id: Option<String>,
    /// `project_tag`.
    pub project_tag: Option<String>,
    /// `created_at` (ISO 8601, trailing `Z` accepted, offset dropped without conversion).
    pub created_at: Option<NaiveDateTime>,
}

/// Options of [`JsonPrayersPlan::apply`]. Deserializes from `{"dry_run": bool}` (optional).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct JsonPrayersOptions {
    /// Do everything in a transaction that is rolled back.
    pub dry_run: bool,
}

/// A parsed batch: the valid records and the located problems.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct JsonPrayersPlan {
    /// The input, as given.
    pub source: String,
    /// Valid records in file order.
    pub prayers: Vec<JsonPrayer>,
    /// Malformed records (the batch is rejected when there is any).
    pub failures: Vec<RecordIssue>,
    /// Records without `text` (skipped, as ThyWill does).
    pub skipped: Vec<RecordIssue>,
}

impl JsonPrayersPlan {
    /// Reads a JSON file. Unreadable files, invalid JSON (with line and column) and a
    /// top level that is not an array are errors; bad records are collected. Only a regular
    /// file is read: a FIFO or a device is refused instead of blocking or reading forever.
    pub fn from_file(path: impl AsRef<Path>) -> Result<JsonPrayersPlan> {
        let path = path.as_ref();
        let bytes = crate::archive::fileops::read_regular_file(path)?;
        Self::from_slice(&bytes, &path.display().to_string())
    }

    /// Parses a batch from bytes; `source` names it in reports.
    pub fn from_slice(bytes: &[u8], source: &str) -> Result<JsonPrayersPlan> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::ArchiveFormat {
            path: source.into(),
            line: e.line(),
            reason: format!("invalid JSON at column {}: {e}", e.column()),
        })?;
        let Value::Array(items) = value else {
            return Err(Error::InvalidInput(format!(
                "{source}: expected a JSON array of prayer objects, found {}",
                json_type(&value)
            )));
        };
        let mut plan = JsonPrayersPlan {
            source: source.into(),
            ..JsonPrayersPlan::default()
        };
        for (index, item) in items.iter().enumerate() {
            let record = index as u64;
            match parse_record(record, item) {
                Ok(Some(prayer)) => match refused_characters(source, &prayer) {
                    None => plan.prayers.push(prayer),
                    Some(issue) => plan.failures.push(issue),
                },
                Ok(None) => plan.skipped.push(record_issue(
                    source,
                    record,
                    "text",
                    "missing field `text`; record skipped",
                )),
                Err((field, reason)) => plan
                    .failures
                    .push(record_issue(source, record, &field, &reason)),
            }
        }
        Ok(plan)
    }

    /// Imports the batch into the database at `db_path` (created with ThyWill's schema
    /// when missing, except in a dry run).
    pub fn apply(
        &self,
        db_path: impl AsRef<Path>,
        options: &JsonPrayersOptions,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        super::with_target(db_path.as_ref(), options.dry_run, |db| {
            self.apply_to(db, options, progress)
        })
    }

    /// Imports the batch into an open database.
    pub fn apply_to(
        &self,
        db: &Database,
        options: &JsonPrayersOptions,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        let database = super::database_label(db);
        let mut report =
            ImportReport::new("prayers_json", &self.source, &database, options.dry_run);
        report.counts_mut(Entity::Prayers);
        for issue in &self.skipped {
            report.skip(issue.clone());
        }
        for issue in &self.failures {
            report.fail(issue.clone());
        }
        if !self.failures.is_empty() {
            report.counts_mut(Entity::Prayers).skipped += self.prayers.len() as u64;
            report.notes.push(RecordIssue {
                entity: Entity::Prayers.as_str().into(),
                file: self.source.clone(),
                line: None,
                record: None,
                field: None,
                reason: format!(
                    "batch rejected: {} malformed record(s); nothing was imported",
                    self.failures.len()
                ),
            });
            return Ok(report);
        }
        let ids = IdGenerator::new();
        let runner = PhaseRunner::begin(db.connection(), options.dry_run)?;
        runner.phase(|conn| {
            ensure_schema(conn, &ids)?;
            ensure_lookup_indexes(conn)?;
            self.import_all(conn, &ids, &mut report, progress)
        })?;
        runner.finish()?;
        Ok(report)
    }

    fn import_all(
        &self,
        conn: &Connection,
        ids: &IdGenerator,
        report: &mut ImportReport,
        progress: &dyn Progress,
    ) -> Result<()> {
        let now = chrono::Utc::now().naive_utc();
        let total = Some(self.prayers.len() as u64);
        // Multiplicity: the n-th identical record is present when the database already
        // holds n matching prayers (those this batch inserted included).
        let mut seen: HashMap<(String, &str, Option<String>), u64> = HashMap::new();
        let mut existing = ExistingPrayers::new(&self.prayers);
        for (done, prayer) in self.prayers.iter().enumerate() {
            if done.is_multiple_of(100) {
                progress_report(progress, "prayers", done as u64, total)?;
            }
            let author = resolve_author(conn, prayer)?;
            if !user_exists(conn, &author)? {
                insert_user(
                    conn,
                    &NewUser {
                        display_name: &author,
                        created_at: now,
                        invited_by_username: None,
                        text_file_path: None,
                    },
                )?;
                report.counts_mut(Entity::Users).inserted += 1;
            }
            let created = prayer.created_at.as_ref().map(format_datetime);
            let key = (author.clone(), prayer.text.as_str(), created.clone());
            let ordinal = seen.entry(key).or_insert(0);
            *ordinal += 1;
            if existing.count(conn, &author, &prayer.text, created.as_deref())? >= *ordinal {
                report.counts_mut(Entity::Prayers).already_present += 1;
                continue;
            }
            let id = ids.uuid4_hex()?;
            insert_prayer(
                conn,
                &NewPrayer {
                    id: &id,
                    author_username: &author,
                    text: &prayer.text,
                    generated_prayer: prayer.generated_prayer.as_deref(),
                    project_tag: prayer.project_tag.as_deref(),
                    created_at: prayer.created_at.unwrap_or(now),
                    text_file_path: None,
                    safety_score: 1.0,
                    safety_flags: "[]",
                    categorization_method: "default",
                    specificity_type: "unknown",
                    specificity_confidence: 0.0,
                    subject_category: "general",
                },
            )?;
            let stored_at = created.unwrap_or_else(|| format_datetime(&now));
            existing.inserted(&author, &prayer.text, stored_at);
            report.counts_mut(Entity::Prayers).inserted += 1;
        }
        progress_report(progress, "prayers", self.prayers.len() as u64, total)?;
        Ok(())
    }
}

/// Reads `json_path` and imports it into `db_path` (see [`JsonPrayersPlan`]).
pub fn import_prayers_json(
    json_path: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    options: &JsonPrayersOptions,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    let (json_path, db_path) = (json_path.as_ref(), db_path.as_ref());
    crate::audit::recorded(
        db_path,
        "import.prayers_json",
        crate::audit::arguments([
            ("json_path", serde_json::json!(json_path)),
            ("database", serde_json::json!(db_path)),
            ("options", serde_json::json!(options)),
        ]),
        crate::import::report::import_audit_counts,
        || import_prayers_json_unrecorded(json_path, db_path, options, progress),
    )
}

fn import_prayers_json_unrecorded(
    json_path: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    options: &JsonPrayersOptions,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    JsonPrayersPlan::from_file(json_path)?.apply(db_path, options, progress)
}

fn resolve_author(conn: &Connection, prayer: &JsonPrayer) -> Result<String> {
    // ThyWill looks the author up by `author_id` first; on the live schema a user id is
    // the display name.
    if let Some(id) = &prayer.author_id {
        if user_exists(conn, id)? {
            return Ok(id.clone());
        }
    }
    Ok(prayer.author_name.clone())
}

/// What `SELECT count(*) FROM prayer WHERE author_username = ? AND text = ? [AND
/// created_at = ?]` returns, answered from memory: each author's prayers are read once,
/// through the author index, when the batch first names the author, and the batch's own
/// inserts are added as they happen. Asking the database per record instead scanned all
/// of the author's prayers each time, which made a batch of one author quadratic.
///
/// Only prayers whose text is one of the batch's are kept, so memory is bounded by the
/// batch. Values compare as SQLite compares them here: a stored text or time matches only
/// when it is TEXT with the same bytes (an INTEGER or BLOB never equals a bound text).
struct ExistingPrayers<'b> {
    /// The batch's request texts.
    texts: HashSet<&'b str>,
    /// Per author already read: per text, the matching prayers.
    by_author: HashMap<String, HashMap<&'b str, TextCount>>,
}

/// The prayers of one author with one text: how many, and how many per stored time.
#[derive(Default)]
struct TextCount {
    any: u64,
    at: HashMap<String, u64>,
}

impl<'b> ExistingPrayers<'b> {
    fn new(prayers: &'b [JsonPrayer]) -> Self {
        ExistingPrayers {
            texts: prayers.iter().map(|p| p.text.as_str()).collect(),
            by_author: HashMap::new(),
        }
    }

    /// The author's prayers with `text` (and stored time `created`, when given).
    fn count(
        &mut self,
        conn: &Connection,
        author: &str,
        text: &str,
        created: Option<&str>,
    ) -> Result<u64> {
        let texts = self.author(conn, author)?;
        let Some(found) = texts.get(text) else {
            return Ok(0);
        };
        Ok(match created {
            None => found.any,
            Some(at) => found.at.get(at).copied().unwrap_or(0),
        })
    }

    /// Counts a prayer the import has just inserted (its author was read by `count`).
    fn inserted(&mut self, author: &str, text: &'b str, created: String) {
        let Some(texts) = self.by_author.get_mut(author) else {
            return;
        };
        let found = texts.entry(text).or_default();
        found.any += 1;
        *found.at.entry(created).or_insert(0) += 1;
    }

    fn author(&mut self, conn: &Connection, author: &str) -> Result<&HashMap<&'b str, TextCount>> {
        if !self.by_author.contains_key(author) {
            let mut texts: HashMap<&'b str, TextCount> = HashMap::new();
            let mut stmt = conn
                .prepare_cached("SELECT text, created_at FROM prayer WHERE author_username = ?1")?;
            let mut rows = stmt.query([author])?;
            while let Some(row) = rows.next()? {
                let ValueRef::Text(text) = row.get_ref(0)? else {
                    continue;
                };
                let Some(text) = std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| self.texts.get(t).copied())
                else {
                    continue;
                };
                let found = texts.entry(text).or_default();
                found.any += 1;
                if let ValueRef::Text(at) = row.get_ref(1)? {
                    if let Ok(at) = std::str::from_utf8(at) {
                        *found.at.entry(at.to_owned()).or_insert(0) += 1;
                    }
                }
            }
            self.by_author.insert(author.to_owned(), texts);
        }
        self.by_author
            .get(author)
            .ok_or_else(|| Error::Internal("an author's prayers were not read".into()))
    }
}

/// The record's names and free text against the character rule (`super::validate`).
fn refused_characters(source: &str, prayer: &JsonPrayer) -> Option<RecordIssue> {
    use super::validate::Rule::{FreeText, Name};
    super::validate::json_record_issue(
        source,
        prayer.record,
        &[
            ("text", Some(&prayer.text), FreeText),
            (
                "generated_prayer",
                prayer.generated_prayer.as_deref(),
                FreeText,
            ),
            ("author_name", Some(&prayer.author_name), Name),
            ("author_id", prayer.author_id.as_deref(), Name),
            ("project_tag", prayer.project_tag.as_deref(), Name),
        ],
    )
}

type FieldError = (String, String);

fn parse_record(record: u64, item: &Value) -> std::result::Result<Option<JsonPrayer>, FieldError> {
    let Value::Object(map) = item else {
        return Err((
            "(record)".into(),
            format!("expected an object, found {}", json_type(item)),
        ));
    };
    let text = match map.get("text") {
        None => return Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(("text".into(), "empty request text".into())),
        Some(other) => {
            return Err((
                "text".into(),
                format!("expected a string, found {}", json_type(other)),
            ))
        }
    };
    let optional_string = |field: &str| -> std::result::Result<Option<String>, FieldError> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err((
                field.into(),
                format!("expected a string or null, found {}", json_type(other)),
            )),
        }
    };
    let author_name = match optional_string("author_name")? {
        Some(name) if !name.trim().is_empty() => name,
        Some(_) => return Err(("author_name".into(), "empty author name".into())),
        None => DEFAULT_AUTHOR.into(),
    };
    let created_at = match optional_string("created_at")? {
        None => None,
        Some(text) => Some(parse_datetime(&text).map_err(|_| {
            (
                "created_at".to_string(),
                format!("not an ISO 8601 date-time: {text:?}"),
            )
        })?),
    };
    // `target_audience` is documented but has no column any more; it is accepted and ignored.
    optional_string("target_audience")?;
    Ok(Some(JsonPrayer {
        record,
        text,
        generated_prayer: optional_string("generated_prayer")?,
        author_name,
        author_id: optional_string("author_id")?,
        project_tag: optional_string("project_tag")?,
        created_at,
    }))
}

fn record_issue(source: &str, record: u64, field: &str, reason: &str) -> RecordIssue {
    RecordIssue {
        entity: Entity::Prayers.as_str().into(),
        file: source.into(),
        line: None,
        record: Some(record),
        field: Some(field.into()),
        reason: reason.into(),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
