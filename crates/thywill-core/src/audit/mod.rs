//! The audit trail: one JSON line per operation that reads or writes user data.
//!
//! Every such operation of the core (backup, verify, restore, cleanup, import, recovery,
//! downloads, session export and restore) appends one [`AuditEntry`] when it ends, whether it
//! succeeded, failed, was cancelled or panicked: the time, the operation, its arguments with
//! secrets redacted, the acting user and process, the result, its counts and its duration.
//! Because the core writes it, Python and C callers are recorded as the CLI is.
//!
//! Where the log goes is a process-wide [`AuditSetting`]: by default
//! [`AUDIT_FILE_NAME`] beside the database (or beside the file or folder an operation works
//! on when it has no database), a fixed file, or off. Front ends set it once ([`configure`]).
//!
//! Appends are made safe for several processes: the file is opened for appending, locked
//! exclusively (`flock`), written with one `write` of the whole line, synced and unlocked, so
//! two processes never interleave a line. The file is created `0600` and brought back to it if
//! its mode was widened. An audit append never changes an operation's result: a failure to
//! append is kept for the front end to show ([`take_append_failures`]).

use std::cell::{Cell, RefCell};
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, Result};

/// The log's file name when it sits beside the database.
pub const AUDIT_FILE_NAME: &str = "thywill-audit.jsonl";

/// A line longer than this is reported as unreadable instead of being parsed.
const MAX_LINE_BYTES: usize = 1 << 20;

/// How many append failures are kept for [`take_append_failures`].
const MAX_KEPT_FAILURES: usize = 16;

/// Where the audit log goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuditSetting {
    /// [`AUDIT_FILE_NAME`] in the folder of the operation's database (the default).
    #[default]
    BesideDatabase,
    /// This file, for every operation.
    At(PathBuf),
    /// Nothing is recorded.
    Off,
}

static SETTING: RwLock<Option<AuditSetting>> = RwLock::new(None);
static APPEND_FAILURES: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    static ACTING_USER: RefCell<Option<String>> = const { RefCell::new(None) };
    /// How many recorded operations are running on this thread: an operation that another
    /// one runs (full recovery's safety backup, sync's import) is part of the outer line.
    static RECORDING_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Sets where this process's audit lines go.
pub fn configure(setting: AuditSetting) {
    let mut slot = SETTING
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *slot = Some(setting);
}

/// Where this process's audit lines go now.
pub fn current_setting() -> AuditSetting {
    SETTING
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
        .unwrap_or_default()
}

/// The log an operation on `anchor` (its database, or the file or folder it works on)
/// appends to under the current setting: [`AUDIT_FILE_NAME`] beside `anchor`, or the
/// configured file; `None` when auditing is off.
pub fn log_path_for(anchor: &Path) -> Option<PathBuf> {
    match current_setting() {
        AuditSetting::Off => None,
        AuditSetting::At(path) => Some(path),
        AuditSetting::BesideDatabase => {
            // Beside, never inside: a log inside an archive folder would be read as part
            // of the archives.
            let folder = anchor.parent().unwrap_or(Path::new(""));
            let folder = if folder.as_os_str().is_empty() {
                Path::new(".")
            } else {
                folder
            };
            Some(folder.join(AUDIT_FILE_NAME))
        }
    }
}

/// Runs `body` with `user` recorded as the acting user of the operations it runs on this
/// thread (the web routes name the app user who asked for a download).
pub fn with_acting_user<R>(user: &str, body: impl FnOnce() -> R) -> R {
    let previous = ACTING_USER.with(|slot| slot.replace(Some(user.to_owned())));
    struct Restore(Option<String>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            ACTING_USER.with(|slot| *slot.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    body()
}

/// Sets (or with `None` clears) the acting user of this thread's following operations, for
/// front ends whose calls cannot be wrapped in [`with_acting_user`] (a Python context
/// manager).
pub fn set_acting_user(user: Option<String>) {
    ACTING_USER.with(|slot| *slot.borrow_mut() = user);
}

/// The append failures since the last call (at most the last 16), oldest first.
pub fn take_append_failures() -> Vec<String> {
    let mut failures = APPEND_FAILURES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    std::mem::take(&mut *failures)
}

fn remember_append_failure(message: String) {
    let mut failures = APPEND_FAILURES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if failures.len() == MAX_KEPT_FAILURES {
        failures.remove(0);
    }
    failures.push(message);
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditResult {
    /// It did its work.
    Ok,
    /// It returned an error.
    Failed,
    /// The caller cancelled it (through its progress sink).
    Cancelled,
    /// It never returned: a panic unwound through it.
    Interrupted,
}

/// Who ran an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditActor {
    /// The app user on whose behalf it ran, when the caller named one
    /// ([`with_acting_user`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The operating-system user (`$USER`, else the numeric uid).
    pub os_user: String,
    /// The process id.
    pub pid: u32,
    /// The program's file name (`thywill`, `python3`, a C program's name).
    pub program: String,
}

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditError {
    /// The error's kind (`not_found`, `corrupt`, `conflict`, ...).
    pub kind: String,
    /// Its message.
    pub message: String,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When the operation ended, RFC 3339 in UTC with milliseconds.
    pub time: String,
    /// The operation, `domain.action` (`backup.create`, `import.text_archives`, ...).
    pub operation: String,
    /// Its arguments, with secrets redacted.
    pub arguments: Value,
    /// Who ran it.
    pub actor: AuditActor,
    /// How it ended.
    pub result: AuditResult,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AuditError>,
    /// What it counted (rows, files, sets, bytes), when it ended well.
    #[serde(default)]
    pub counts: Value,
    /// How long it ran, in milliseconds.
    pub duration_ms: u64,
}

/// Records one operation: made when the operation starts, written when it ends
/// ([`Recorder::finish`]), or, if the operation never returns because a panic unwinds
/// through it, written as [`AuditResult::Interrupted`] when the recorder is dropped.
pub(crate) struct Recorder {
    log: Option<PathBuf>,
    operation: &'static str,
    arguments: Value,
    started: Instant,
    written: bool,
}

impl Recorder {
    /// Starts recording `operation` on `anchor` (its database, or the folder it works on).
    /// Inside another recorded operation on this thread it records nothing.
    pub(crate) fn begin(anchor: &Path, operation: &'static str, mut arguments: Value) -> Self {
        let outermost = RECORDING_DEPTH.with(|depth| {
            depth.set(depth.get() + 1);
            depth.get() == 1
        });
        redact(&mut arguments);
        Recorder {
            log: if outermost {
                log_path_for(anchor)
            } else {
                None
            },
            operation,
            arguments,
            started: Instant::now(),
            written: false,
        }
    }

    /// Writes the line for `outcome`, with `counts` of a success.
    pub(crate) fn finish<T>(mut self, outcome: &Result<T>, counts: impl FnOnce(&T) -> Value) {
        let (result, error, counts) = match outcome {
            Ok(value) => (AuditResult::Ok, None, counts(value)),
            Err(Error::Cancelled) => (AuditResult::Cancelled, None, Value::Null),
            Err(error) => (
                AuditResult::Failed,
                Some(AuditError {
                    kind: serde_json::to_value(error.kind())
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    message: error.to_string(),
                }),
                Value::Null,
            ),
        };
        self.write(result, error, counts);
    }

    fn write(&mut self, result: AuditResult, error: Option<AuditError>, counts: Value) {
        self.written = true;
        let Some(log) = self.log.as_deref() else {
            return;
        };
        let entry = AuditEntry {
            time: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            operation: self.operation.to_owned(),
            arguments: std::mem::take(&mut self.arguments),
            actor: actor(),
            result,
            error,
            counts,
            duration_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        if let Err(e) = append(log, &entry) {
            remember_append_failure(format!("audit line of {} not written: {e}", self.operation));
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if !self.written {
            self.write(AuditResult::Interrupted, None, Value::Null);
        }
        RECORDING_DEPTH.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Runs `body` as `operation` on `anchor` and records it; `counts` picks the figures of a
/// success for the line.
pub(crate) fn recorded<T>(
    anchor: &Path,
    operation: &'static str,
    arguments: Value,
    counts: impl FnOnce(&T) -> Value,
    body: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let recorder = Recorder::begin(anchor, operation, arguments);
    let outcome = body();
    recorder.finish(&outcome, counts);
    outcome
}

fn actor() -> AuditActor {
    let os_user = std::env::var("USER")
        .ok()
        .filter(|name| !name.is_empty())
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|| unsafe { libc::getuid() }.to_string());
    let program = std::env::args_os()
        .next()
        .map(PathBuf::from)
        .and_then(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    AuditActor {
        user: ACTING_USER.with(|slot| slot.borrow().clone()),
        os_user,
        pid: std::process::id(),
        program,
    }
}

/// Argument names whose values never reach the log.
const SECRET_WORDS: [&str; 7] = [
    "password",
    "secret",
    "token",
    "credential",
    "cookie",
    "authorization",
    "session_id",
];

/// Replaces secret values (by their key's name) with `"<redacted>"` and drops the
/// `user:password@` part of URLs, at any depth.
pub(crate) fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                let key = key.to_ascii_lowercase();
                if SECRET_WORDS.iter().any(|word| key.contains(word)) {
                    *inner = Value::String("<redacted>".to_owned());
                } else {
                    redact(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(text) => {
            if let Some(clean) = without_url_credentials(text) {
                *text = clean;
            }
        }
        _ => {}
    }
}

fn without_url_credentials(text: &str) -> Option<String> {
    let scheme_end = text.find("://")? + 3;
    let authority_end = text[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| scheme_end + i);
    let at = text[scheme_end..authority_end].rfind('@')? + scheme_end;
    Some(format!("{}{}", &text[..scheme_end], &text[at + 1..]))
}

/// Appends `entry` to the log at `path` as one line, under an exclusive lock, and syncs it.
pub fn append(path: &Path, entry: &AuditEntry) -> Result<()> {
    let mut line = serde_json::to_vec(entry)
        .map_err(|e| Error::Internal(format!("audit entry to JSON: {e}")))?;
    line.push(b'\n');
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let metadata = file.metadata().map_err(|e| Error::io(path, e))?;
    if !metadata.is_file() {
        return Err(Error::InvalidInput(format!(
            "audit log {} is not a regular file",
            path.display()
        )));
    }
    if metadata.permissions().mode() & 0o077 != 0 {
        // Best effort: a log another user owns keeps its mode, and the append goes on.
        let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
    }
    file.lock().map_err(|e| Error::io(path, e))?;
    let written = (&file).write_all(&line).and_then(|()| file.sync_data());
    let unlocked = file.unlock();
    written.map_err(|e| Error::io(path, e))?;
    unlocked.map_err(|e| Error::io(path, e))
}

/// Which lines [`read`] returns. Deserializes from `{"since": "2026-01-31T00:00:00Z",
/// "operation": "backup"}`, each optional (the C API's options).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditQuery {
    /// Only operations that ended at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only this operation, or the operations of this domain (`backup` takes
    /// `backup.create`, `backup.restore`, ...).
    pub operation: Option<String>,
}

impl AuditQuery {
    fn matches(&self, entry: &AuditEntry) -> bool {
        let operation_matches = self.operation.as_deref().is_none_or(|wanted| {
            entry.operation == wanted
                || entry
                    .operation
                    .strip_prefix(wanted)
                    .is_some_and(|rest| rest.starts_with('.'))
        });
        let time_matches = self.since.is_none_or(|since| {
            DateTime::parse_from_rfc3339(&entry.time).is_ok_and(|time| time >= since)
        });
        operation_matches && time_matches
    }
}

/// A line [`read`] could not take as an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableLine {
    /// Its line number, from 1.
    pub line: u64,
    /// Why it was not read.
    pub reason: String,
}

/// What [`read`] found.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReadReport {
    /// The log read.
    pub path: PathBuf,
    /// Whether it exists (no operation has been recorded there when it does not).
    pub exists: bool,
    /// The matching entries, oldest first.
    pub entries: Vec<AuditEntry>,
    /// How many lines the log has.
    pub lines: u64,
    /// The lines that are not entries (at most 100 listed; `unreadable_count` has them all).
    pub unreadable: Vec<UnreadableLine>,
    /// How many lines are not entries.
    pub unreadable_count: u64,
}

/// Reads the log at `path`, keeping the entries `query` matches. A line that is not an
/// entry (cut short by a crash, edited, binary, longer than 1 MiB) is listed as unreadable
/// and the reading goes on. A missing log reads as empty.
pub fn read(path: &Path, query: &AuditQuery) -> Result<AuditReadReport> {
    let mut report = AuditReadReport {
        path: path.to_owned(),
        exists: false,
        entries: Vec::new(),
        lines: 0,
        unreadable: Vec::new(),
        unreadable_count: 0,
    };
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(Error::io(path, e)),
    };
    if !file.metadata().map_err(|e| Error::io(path, e))?.is_file() {
        return Err(Error::InvalidInput(format!(
            "audit log {} is not a regular file",
            path.display()
        )));
    }
    report.exists = true;
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?;
        if read == 0 {
            break;
        }
        report.lines += 1;
        let complete = line.last() == Some(&b'\n');
        let outcome = if !complete && line.len() > MAX_LINE_BYTES {
            skip_rest_of_line(&mut reader).map_err(|e| Error::io(path, e))?;
            Err("longer than 1 MiB".to_owned())
        } else {
            parse_line(&line)
        };
        match outcome {
            Ok(entry) if query.matches(&entry) => report.entries.push(entry),
            Ok(_) => {}
            Err(reason) => {
                report.unreadable_count += 1;
                if report.unreadable.len() < 100 {
                    report.unreadable.push(UnreadableLine {
                        line: report.lines,
                        reason,
                    });
                }
            }
        }
    }
    Ok(report)
}

fn parse_line(line: &[u8]) -> std::result::Result<AuditEntry, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_owned())?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.trim().is_empty() {
        return Err("empty".to_owned());
    }
    let entry: AuditEntry =
        serde_json::from_str(text).map_err(|e| format!("not an audit entry: {e}"))?;
    if DateTime::parse_from_rfc3339(&entry.time).is_err() {
        return Err(format!("time {:?} is not RFC 3339", entry.time));
    }
    Ok(entry)
}

fn skip_rest_of_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        if let Some(end) = buffer.iter().position(|&b| b == b'\n') {
            reader.consume(end + 1);
            return Ok(());
        }
        let length = buffer.len();
        reader.consume(length);
    }
}

/// Builds an arguments object from `(name, value)` pairs, leaving out `null` values.
pub(crate) fn arguments<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let map: Map<String, Value> = pairs
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let mut value = serde_json::json!({
            "db": "/srv/thywill.db",
            "remote": "s3://key:secret@bucket/prefix?endpoint=http://127.0.0.1:9000",
            "options": {"session_token": "abc", "nested": [{"Password": "p"}]},
        });
        redact(&mut value);
        assert_eq!(value["db"], "/srv/thywill.db");
        assert_eq!(
            value["remote"],
            "s3://bucket/prefix?endpoint=http://127.0.0.1:9000"
        );
        assert_eq!(value["options"]["session_token"], "<redacted>");
        assert_eq!(value["options"]["nested"][0]["Password"], "<redacted>");
    }

    #[test]
    fn a_query_matches_a_domain_or_one_operation() {
        let entry = |operation: &str| AuditEntry {
            time: "2026-01-02T03:04:05.000Z".to_owned(),
            operation: operation.to_owned(),
            arguments: Value::Null,
            actor: actor(),
            result: AuditResult::Ok,
            error: None,
            counts: Value::Null,
            duration_ms: 0,
        };
        let domain = AuditQuery {
            operation: Some("backup".to_owned()),
            ..AuditQuery::default()
        };
        assert!(domain.matches(&entry("backup.create")));
        assert!(!domain.matches(&entry("backups.create")));
        let since = AuditQuery {
            since: Some(
                DateTime::parse_from_rfc3339("2026-01-02T03:04:06Z")
                    .unwrap()
                    .into(),
            ),
            ..AuditQuery::default()
        };
        assert!(!since.matches(&entry("backup.create")));
    }
}
