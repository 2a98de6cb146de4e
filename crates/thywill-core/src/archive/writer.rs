//! The archive-first write API of ThyWill's `TextArchiveService`, writing
//! byte-identical files with safe concurrency (exclusive name reservation, exclusive
//! monthly-header creation, `flock`-ed appends that interoperate with ThyWill's Python).

use std::path::{Path, PathBuf};

use chrono::{FixedOffset, Local, NaiveDateTime, Utc};
use serde::Serialize;

use super::activity::{self, MonthlyActivity};
use super::categorization::{self, Categorization};
use super::fileops;
use super::layout::{self, LedgerKind};
use super::ledger::{self, LedgerRecord};
use super::prayer::{self, ActivityAction, PrayerActivity, PrayerArchive, ThyWillPrayerData};
use super::users::{self, UserRegistration};
use crate::{Error, Result};

/// Where "now" comes from. ThyWill uses naive local time (`datetime.now()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Clock {
    /// The process's local time zone (ThyWill's behaviour).
    Local,
    /// UTC wall-clock time.
    Utc,
    /// The current time at a fixed offset from UTC, in seconds east (e.g. `-18000` for UTC−5).
    OffsetSeconds(i32),
    /// Always this instant (tests, deterministic replays).
    Fixed(NaiveDateTime),
}

impl Clock {
    /// The current naive wall-clock time.
    pub fn now(&self) -> NaiveDateTime {
        match self {
            Clock::Local => Local::now().naive_local(),
            Clock::Utc => Utc::now().naive_utc(),
            Clock::OffsetSeconds(secs) => match FixedOffset::east_opt(*secs) {
                Some(off) => Utc::now().with_timezone(&off).naive_local(),
                None => Utc::now().naive_utc(),
            },
            Clock::Fixed(t) => *t,
        }
    }
}

/// The DB placeholder ThyWill stores when archives are disabled; it never exists on disk.
pub(crate) const DISABLED_PLACEHOLDER_PREFIX: &str = "disabled_archive_for_prayer_";

/// Writes ThyWill's live text archive files under `base_dir`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveWriter {
    /// The archive base directory (`TEXT_ARCHIVE_BASE_DIR`, default `./text_archives`).
    pub base_dir: PathBuf,
    /// `TEXT_ARCHIVE_ENABLED`: when false every write is skipped and returns `None`.
    pub enabled: bool,
    /// `CATEGORIZATION_METADATA_EXPORT`: write the 6-line categorization block.
    pub categorization_metadata_export: bool,
    /// Where "now" comes from.
    pub clock: Clock,
}

/// ThyWill's boolean reading of its settings: `value.lower() == "true"`.
pub fn thywill_flag(value: &str) -> bool {
    value.to_lowercase() == "true"
}

impl ArchiveWriter {
    /// A writer for `base_dir`, enabled, without categorization export, on local time.
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        ArchiveWriter {
            base_dir: base_dir.into(),
            enabled: true,
            categorization_metadata_export: false,
            clock: Clock::Local,
        }
    }

    /// Configured like ThyWill from the environment: `TEXT_ARCHIVE_ENABLED` (default `true`;
    /// only a case-insensitive `true` enables, so `1` and `yes` disable), `TEXT_ARCHIVE_BASE_DIR`
    /// (default `./text_archives`), `CATEGORIZATION_METADATA_EXPORT` (default `false`).
    pub fn from_thywill_env() -> Self {
        let var = |k: &str| std::env::var(k).ok();
        ArchiveWriter {
            base_dir: PathBuf::from(
                var("TEXT_ARCHIVE_BASE_DIR").unwrap_or_else(|| "./text_archives".into()),
            ),
            enabled: thywill_flag(&var("TEXT_ARCHIVE_ENABLED").unwrap_or_else(|| "true".into())),
            categorization_metadata_export: thywill_flag(
                &var("CATEGORIZATION_METADATA_EXPORT").unwrap_or_else(|| "false".into()),
            ),
            clock: Clock::Local,
        }
    }

    /// The same writer with another clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Creates `<base>`, `prayers/`, `users/` and `activity/` (ThyWill does this at startup).
    pub fn ensure_dirs(&self) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        for d in ["prayers", "users", "activity"] {
            let p = self.base_dir.join(d);
            std::fs::create_dir_all(&p).map_err(|e| Error::io(&p, e))?;
        }
        Ok(())
    }

    fn created_at(archive: &PrayerArchive) -> Result<NaiveDateTime> {
        archive.submitted.time.ok_or_else(|| {
            Error::InvalidInput(format!(
                "prayer {:?}: unreadable Submitted timestamp {:?}",
                archive.id, archive.submitted.text
            ))
        })
    }

    fn gated(&self, archive: &PrayerArchive) -> PrayerArchive {
        let mut a = archive.clone();
        if !self.categorization_metadata_export {
            a.categorization = None;
        }
        a
    }

    /// ThyWill's `create_prayer_archive` (legacy on-demand, heal and tool paths): writes the
    /// prayer file as rendered (CRs in values kept), under the collision rule with the
    /// name reserved atomically. Activities in `archive` are written too (heal appends them).
    /// The categorization block is written only with `categorization_metadata_export`.
    /// Returns the path, or `None` when archives are disabled.
    pub fn create_prayer_archive(&self, archive: &PrayerArchive) -> Result<Option<PathBuf>> {
        if !self.enabled {
            return Ok(None);
        }
        let t = Self::created_at(archive)?;
        let content = self.gated(archive).render();
        layout::create_prayer_file(&self.base_dir, &t, content.as_bytes()).map(Some)
    }

    /// The archive-first submission in one write: the bytes ThyWill ends with after
    /// writing `Prayer temp by …` and rewriting it with the real ID (CRs normalised, every
    /// `Prayer temp by` replaced). Returns the path, or `None` when disabled.
    pub fn create_prayer_archive_first(&self, archive: &PrayerArchive) -> Result<Option<PathBuf>> {
        if !self.enabled {
            return Ok(None);
        }
        let t = Self::created_at(archive)?;
        let content = self.gated(archive).render_archive_first();
        layout::create_prayer_file(&self.base_dir, &t, content.as_bytes()).map(Some)
    }

    /// Appends an activity line to a prayer file with the clock's "now".
    pub fn append_prayer_activity(
        &self,
        file: &Path,
        actor: &str,
        action: &ActivityAction,
    ) -> Result<()> {
        self.append_prayer_activity_at(file, actor, action, self.clock.now())
    }

    /// Appends `{TS_H(t)} - {actor} {predicate}` to a prayer file under `flock`.
    /// Skipped when disabled, for an empty path (a prayer without `text_file_path`, as ThyWill
    /// skips it) and for ThyWill's `disabled_archive_for_prayer_…` placeholder.
    /// A missing folder is an error; a missing file is created (as ThyWill's append does).
    pub fn append_prayer_activity_at(
        &self,
        file: &Path,
        actor: &str,
        action: &ActivityAction,
        t: NaiveDateTime,
    ) -> Result<()> {
        if !self.enabled
            || file.as_os_str().is_empty()
            || file
                .to_string_lossy()
                .starts_with(DISABLED_PLACEHOLDER_PREFIX)
        {
            return Ok(());
        }
        let line = PrayerActivity::new(t, actor, action.clone()).render();
        fileops::locked_append(file, &line)
    }

    /// `append_user_registration(name, invite_source)` at the clock's "now".
    pub fn append_user_registration(
        &self,
        name: &str,
        invite_source: Option<&str>,
    ) -> Result<Option<PathBuf>> {
        self.append_user_registration_with_timestamp(name, invite_source, self.clock.now())
    }

    /// Appends a registration to `users/{YM(t)}_users.txt`, creating it with its header
    ///. An empty or `None` inviter writes `joined directly`.
    pub fn append_user_registration_with_timestamp(
        &self,
        name: &str,
        invite_source: Option<&str>,
        t: NaiveDateTime,
    ) -> Result<Option<PathBuf>> {
        if !self.enabled {
            return Ok(None);
        }
        let path = layout::users_file(&self.base_dir, &t);
        let rec = UserRegistration::new(t, name, invite_source.map(str::to_string));
        fileops::append_monthly(&path, &users::monthly_header(&t), &rec.render(), true)?;
        Ok(Some(path))
    }

    /// `append_monthly_activity(action, user, prayer_id, tag)` at the clock's "now".
    pub fn append_monthly_activity(
        &self,
        action: &str,
        user: &str,
        prayer_id: Option<&str>,
        tag: Option<&str>,
    ) -> Result<Option<PathBuf>> {
        self.append_monthly_activity_at(action, user, prayer_id, tag, self.clock.now())
    }

    /// Appends to `activity/activity_{YM(t)}.txt`: header on creation, the day header
    /// when ThyWill's substring test says it is missing (checked under the file lock), then
    /// `{HH:MM} - {user} {action}[ ({tag})]`.
    pub fn append_monthly_activity_at(
        &self,
        action: &str,
        user: &str,
        prayer_id: Option<&str>,
        tag: Option<&str>,
        t: NaiveDateTime,
    ) -> Result<Option<PathBuf>> {
        if !self.enabled {
            return Ok(None);
        }
        let path = layout::activity_file(&self.base_dir, &t);
        fileops::ensure_header(&path, &activity::monthly_header(&t), true)?;
        let entry = MonthlyActivity {
            date: Some(t.date()),
            time: activity::minute_of(&t),
            user: user.to_string(),
            action: activity::thywill_action_text(action, prayer_id),
            tag: tag.filter(|s| !s.is_empty()).map(str::to_string),
            line: 0,
        };
        fileops::locked_append_with(&path, |content| {
            activity::append_record(content, &entry, &t.date())
        })?;
        Ok(Some(path))
    }

    fn append_ledger(&self, rec: &LedgerRecord, t: NaiveDateTime) -> Result<Option<PathBuf>> {
        if !self.enabled {
            return Ok(None);
        }
        let path = layout::ledger_file(&self.base_dir, rec.kind, &t);
        fileops::append_monthly(
            &path,
            &ledger::monthly_header(rec.kind, &t),
            &rec.render(),
            true,
        )?;
        Ok(Some(path))
    }

    /// `append_prayer_attribute`: `t = created_at or now`; a `None` user writes `system`.
    pub fn append_prayer_attribute(
        &self,
        prayer_id: &str,
        name: &str,
        value: &str,
        user: Option<&str>,
        created_at: Option<NaiveDateTime>,
    ) -> Result<Option<PathBuf>> {
        let t = created_at.unwrap_or_else(|| self.clock.now());
        self.append_ledger(&LedgerRecord::attribute(t, prayer_id, name, value, user), t)
    }

    /// `append_prayer_mark`.
    pub fn append_prayer_mark(
        &self,
        prayer_id: &str,
        user: &str,
        created_at: Option<NaiveDateTime>,
    ) -> Result<Option<PathBuf>> {
        let t = created_at.unwrap_or_else(|| self.clock.now());
        self.append_ledger(
            &LedgerRecord::mark(LedgerKind::Marks, t, prayer_id, user),
            t,
        )
    }

    /// `append_prayer_skip`.
    pub fn append_prayer_skip(
        &self,
        prayer_id: &str,
        user: &str,
        created_at: Option<NaiveDateTime>,
    ) -> Result<Option<PathBuf>> {
        let t = created_at.unwrap_or_else(|| self.clock.now());
        self.append_ledger(
            &LedgerRecord::mark(LedgerKind::Skips, t, prayer_id, user),
            t,
        )
    }

    /// ThyWill's `parse_prayer_archive(path)`, defects included: strict UTF-8 without
    /// BOM removal, universal newlines. `Err` where ThyWill's read raises.
    pub fn parse_prayer_archive(&self, file: &Path) -> Result<ThyWillPrayerData> {
        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
        let text = std::str::from_utf8(&bytes).map_err(|e| Error::ArchiveFormat {
            path: file.to_path_buf(),
            line: 0,
            reason: format!("invalid UTF-8 at byte offset {}", e.valid_up_to()),
        })?;
        Ok(prayer::parse_thywill(text))
    }

    /// ThyWill's `parse_prayer_archive_categorization(path)`: the reader defaults when
    /// archives are disabled, the file is missing or unreadable.
    pub fn parse_prayer_archive_categorization(&self, file: &Path) -> Categorization {
        if !self.enabled {
            return Categorization::reader_defaults();
        }
        match std::fs::read(file)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            Some(text) => categorization::parse_thywill(&super::lines::normalize_newlines(&text)),
            None => Categorization::reader_defaults(),
        }
    }
}

/// The timestamp ThyWill writes for an offline "prayed" mark with a client time: an aware value converted to naive UTC; a naive value unchanged.
pub fn offline_mark_time(client_time: &crate::pycompat::datetime::PyDateTime) -> NaiveDateTime {
    match client_time {
        crate::pycompat::datetime::PyDateTime::Naive(t) => *t,
        crate::pycompat::datetime::PyDateTime::Aware(t) => t.naive_utc(),
    }
}
