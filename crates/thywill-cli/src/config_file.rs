//! `thywill.toml`: settings kept in a file, below options and environment variables and
//! above the built-in defaults (`docs/cli.md`).
//!
//! The file holds paths, retention windows, remotes and the time zone. It never holds S3
//! credentials: those stay in the environment or `~/.aws/credentials`, so that a config file
//! can be shown, copied and checked in without leaking a secret.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::exit::CliError;

/// The variable that names the config file when `--config` is not given.
pub const CONFIG_VARIABLE: &str = "THYWILL_CONFIG";
/// The file looked for in the current folder when neither `--config` nor the variable is set.
pub const DEFAULT_FILE_NAME: &str = "thywill.toml";
/// Where zone names are checked before `TZ` is set to one.
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// One value read from the file and the line it is on (1-based).
#[derive(Debug, Clone)]
pub struct Entry<T> {
    /// The value, relative paths already made relative to the file's folder.
    pub value: T,
    /// The line of the key in the file.
    pub line: usize,
}

/// The `[retention]` table.
#[derive(Debug, Clone, Default)]
pub struct RetentionFile {
    /// Hourly window in hours.
    pub hourly_hours: Option<Entry<i64>>,
    /// Daily window in days.
    pub daily_days: Option<Entry<i64>>,
    /// Weekly window in weeks.
    pub weekly_weeks: Option<Entry<i64>>,
    /// Pre-restore window in days.
    pub pre_restore_days: Option<Entry<i64>>,
    /// Pre-restore sets always kept.
    pub pre_restore_keep: Option<Entry<i64>>,
}

/// A config file once read and checked.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The file as found (made absolute), for `config show` and error messages.
    pub path: PathBuf,
    /// `db`.
    pub db: Option<Entry<PathBuf>>,
    /// `archives`.
    pub archives: Option<Entry<PathBuf>>,
    /// `backups`.
    pub backups: Option<Entry<PathBuf>>,
    /// `audit_log`: a path or `off`.
    pub audit_log: Option<Entry<PathBuf>>,
    /// `time_zone`: an IANA zone name, checked to exist.
    pub time_zone: Option<Entry<String>>,
    /// `[retention]`.
    pub retention: RetentionFile,
    /// `remotes`.
    pub remotes: Option<Entry<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    db: Option<Spanned<String>>,
    archives: Option<Spanned<String>>,
    backups: Option<Spanned<String>>,
    audit_log: Option<Spanned<String>>,
    time_zone: Option<Spanned<String>>,
    retention: Option<RawRetention>,
    remotes: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    hourly_hours: Option<Spanned<i64>>,
    daily_days: Option<Spanned<i64>>,
    weekly_weeks: Option<Spanned<i64>>,
    pre_restore_days: Option<Spanned<i64>>,
    pre_restore_keep: Option<Spanned<i64>>,
}

/// Finds the config file: `explicit` (from `--config` or `THYWILL_CONFIG`, which must exist),
/// else `thywill.toml` in the current folder if there is one, else none.
pub fn find(explicit: Option<(PathBuf, &str)>) -> Result<Option<ConfigFile>, CliError> {
    match explicit {
        Some((path, named_by)) => {
            if path.as_os_str().is_empty() {
                return Err(CliError::Usage(format!(
                    "{named_by} is empty; give it a config file"
                )));
            }
            if !path.is_file() {
                return Err(CliError::Usage(format!(
                    "the config file {} named by {named_by} does not exist or is not a file",
                    path.display()
                )));
            }
            load(&path).map(Some)
        }
        None => {
            let path = PathBuf::from(DEFAULT_FILE_NAME);
            if path.is_file() {
                load(&path).map(Some)
            } else {
                Ok(None)
            }
        }
    }
}

/// Reads and checks one file; every problem is a usage error naming `file:line` and the key.
pub fn load(path: &Path) -> Result<ConfigFile, CliError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CliError::Usage(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    let raw: RawFile = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(1, |span| line_of(&text, span.start));
        let key = e
            .span()
            .and_then(|span| key_at(&text, span))
            .map(|key| format!(" (key `{key}`)"))
            .unwrap_or_default();
        CliError::Usage(format!(
            "{}:{line}{key}: {}",
            path.display(),
            e.message().trim_end()
        ))
    })?;
    let folder = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let path_entry = |value: Option<Spanned<String>>, key: &str, allow_off: bool| {
        value
            .map(|v| {
                let line = line_of(&text, v.span().start);
                let value = v.into_inner();
                if value.is_empty() {
                    return Err(CliError::Usage(format!(
                        "{}:{line}: key `{key}` is empty; give it a path or remove it",
                        path.display()
                    )));
                }
                let value = if allow_off && value == "off" {
                    PathBuf::from(value)
                } else {
                    folder.join(value)
                };
                Ok(Entry { value, line })
            })
            .transpose()
    };
    let number = |value: Option<Spanned<i64>>| {
        value.map(|v| Entry {
            line: line_of(&text, v.span().start),
            value: v.into_inner(),
        })
    };
    let time_zone = match raw.time_zone {
        Some(zone) => {
            let line = line_of(&text, zone.span().start);
            let value = zone.into_inner();
            check_zone(&value).map_err(|why| {
                CliError::Usage(format!("{}:{line}: key `time_zone`: {why}", path.display()))
            })?;
            Some(Entry { value, line })
        }
        None => None,
    };
    let retention = raw
        .retention
        .map_or_else(RetentionFile::default, |r| RetentionFile {
            hourly_hours: number(r.hourly_hours),
            daily_days: number(r.daily_days),
            weekly_weeks: number(r.weekly_weeks),
            pre_restore_days: number(r.pre_restore_days),
            pre_restore_keep: number(r.pre_restore_keep),
        });
    Ok(ConfigFile {
        db: path_entry(raw.db, "db", false)?,
        archives: path_entry(raw.archives, "archives", false)?,
        backups: path_entry(raw.backups, "backups", false)?,
        audit_log: path_entry(raw.audit_log, "audit_log", true)?,
        time_zone,
        retention,
        remotes: raw
            .remotes
            .map(|v| {
                let line = line_of(&text, v.span().start);
                let value = v.into_inner();
                for remote in &value {
                    thywill_core::backup::remote::RemoteSpec::parse(remote).map_err(|e| {
                        CliError::Usage(format!(
                            "{}:{line}: key `remotes`: {}",
                            path.display(),
                            redact(&e.to_string())
                        ))
                    })?;
                }
                Ok::<_, CliError>(Entry { value, line })
            })
            .transpose()?,
        path,
    })
}

/// Whether `zone` names a zone the system knows (a file under the zoneinfo folder), so that
/// a typo is refused instead of silently meaning UTC.
pub fn check_zone(zone: &str) -> Result<(), String> {
    let plain = !zone.is_empty()
        && !zone.starts_with('/')
        && zone
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if plain && Path::new(ZONEINFO).join(zone).is_file() {
        Ok(())
    } else {
        Err(format!(
            "unknown time zone {zone:?} (an IANA name such as \"Europe/Berlin\", as listed under {ZONEINFO})"
        ))
    }
}

impl ConfigFile {
    /// `file PATH:LINE`, the source shown by `config show`.
    pub fn source(&self, line: usize) -> String {
        format!("file {}:{line}", self.path.display())
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The key written on the line where `span` starts (the text before its `=`), so that an
/// error names the key even when the parser's message does not.
fn key_at(text: &str, span: Range<usize>) -> Option<String> {
    let before = text.get(..span.start)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty()).then(|| key.to_owned())
}

/// `text` with the user-info part of every URL in it (`scheme://user:secret@`) replaced by
/// `***`, so that a secret mistakenly written into a remote is never printed.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"')
            .unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(user_end) => {
                out.push_str("***");
                rest = &after[user_end..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn user_info_in_urls_is_redacted() {
        assert_eq!(redact("s3://AKIA:secret@bucket/p"), "s3://***@bucket/p");
        assert_eq!(
            redact("s3://b?endpoint=http://u:p@127.0.0.1:9 and folder:/x"),
            "s3://b?endpoint=http://***@127.0.0.1:9 and folder:/x"
        );
        assert_eq!(redact("folder:/mnt/usb"), "folder:/mnt/usb");
    }
}
