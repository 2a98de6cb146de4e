//! `validate-archives`: the archives and the database checked against each other,
//! read-only.
//!
//! - every file of the archive parses and renders back to its bytes
//!   ([`crate::archive::check::check_tree`]);
//! - every database record has its archive: a prayer file whose title names the prayer,
//!   holding every activity line the database implies, at the stored path; a registration
//!   line per user; a ledger line per mark, skip and attribute (for the ledgers the archive
//!   keeps); a usage line per invite-token use;
//! - every archive record has its row: a prayer file's prayer, an activity line's row, a
//!   registration's user, a mark or skip line's row, a usage line's row.
//!
//! Each problem is located by file, line (when the problem is a line) and record, and says
//! whether `heal-archives` repairs it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::heal::user_attributes_state;
use super::heal::{
    ledger_key, ledgers_healed, line_of, open_database, prayer_state, stored_of, usage_key,
    ArchiveScan, HealOptions, LedgerKindKey, LedgerPolicy, MinuteMatcher, Scope, Snapshot,
    StoredPath, USER_ATTRIBUTES,
};
use crate::archive::check::{check_tree, CheckReport};
use crate::archive::timestamp::ym;
use crate::db::ArchiveTimeZone;
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// At most this many problems of one kind are listed; the counts stay exact.
pub const MAX_PROBLEMS_PER_KIND: usize = 500;

/// Options of [`validate_archives`]. Deserializes from a JSON object of these fields,
/// each optional (the C options document).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidateOptions {
    /// The zone the archive's human timestamps were written in (lines match rows of their
    /// minute or of their minute shifted to UTC).
    pub time_zone: ArchiveTimeZone,
    /// Prefix of the stored `text_file_path` values (default `text_archives`).
    pub path_prefix: String,
    /// Which ledgers are expected, as heal decides which it writes.
    pub ledgers: LedgerPolicy,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        let heal = HealOptions::default();
        ValidateOptions {
            time_zone: heal.time_zone,
            path_prefix: heal.path_prefix,
            ledgers: heal.ledgers,
        }
    }
}

/// What kind of problem an [`ArchiveProblem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A line (or the whole file) the parser could not read.
    UnreadableLine,
    /// A file that parses but does not render back to its bytes (edited or damaged).
    FileDiffersWhenRendered,
    /// A prayer with no file whose title names it.
    PrayerFileMissing,
    /// A prayer whose stored `text_file_path` does not name its file (empty, missing file,
    /// another prayer's file, outside the archive).
    PrayerPathWrong,
    /// A prayer file that lacks activity lines the database holds.
    PrayerFileStale,
    /// A second file whose title names the same prayer (a sibling ThyWill's heal wrote).
    DuplicatePrayerFile,
    /// A prayer file whose prayer is not in the database.
    PrayerFileWithoutRow,
    /// An activity line no row of the database accounts for.
    ActivityLineWithoutRow,
    /// A user without a registration line.
    RegistrationMissing,
    /// A registration line whose user is not in the database.
    RegistrationWithoutRow,
    /// A user whose stored `text_file_path` does not name the file of their registration.
    UserPathWrong,
    /// A user whose block of `users/user_attributes.txt` is missing or differs from the
    /// database's flags (for archives that keep the snapshot).
    UserAttributesStale,
    /// A mark, skip or attribute row without its ledger line.
    LedgerLineMissing,
    /// A mark or skip ledger line without its row. (Attribute lines are history: an
    /// attribute set and later removed keeps its line.)
    LedgerLineWithoutRow,
    /// An invite-token use without its usage line.
    InviteUsageLineMissing,
    /// A usage line without its `invite_token_usage` row.
    InviteUsageLineWithoutRow,
}

impl ProblemKind {
    /// Whether `heal-archives` repairs problems of this kind (the others need a person:
    /// an archive record without its row is brought in by an import, a duplicate file is
    /// left for someone to remove, an unreadable line to correct).
    pub fn healable(self) -> bool {
        matches!(
            self,
            ProblemKind::PrayerFileMissing
                | ProblemKind::PrayerPathWrong
                | ProblemKind::PrayerFileStale
                | ProblemKind::RegistrationMissing
                | ProblemKind::UserPathWrong
                | ProblemKind::UserAttributesStale
                | ProblemKind::LedgerLineMissing
                | ProblemKind::InviteUsageLineMissing
        )
    }
}

/// One problem, located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveProblem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// The file, relative to the archive root (for a missing line: the file it belongs in).
    pub file: Option<String>,
    /// The 1-based line, when the problem is a line of the file.
    pub line: Option<usize>,
    /// The record: a prayer id, a display name, `prayer_id by user at time` for a ledger row.
    pub record: String,
    /// What exactly.
    pub detail: String,
    /// Whether `heal-archives` repairs it.
    pub healable: bool,
}

/// Counts of what was compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidateCounts {
    /// Prayers in the database.
    pub prayers: u64,
    /// Prayer files in the archive.
    pub prayer_files: u64,
    /// Users in the database.
    pub users: u64,
    /// Registration lines in the archive.
    pub registrations: u64,
    /// Mark, skip and attribute rows compared with their ledgers.
    pub ledger_rows: u64,
    /// Invite-token uses.
    pub invite_uses: u64,
}

/// The result of [`validate_archives`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidateReport {
    /// The database.
    pub database: PathBuf,
    /// The archive root.
    pub archive_root: PathBuf,
    /// What was compared.
    pub counts: ValidateCounts,
    /// Every file parsed and rendered back.
    pub check: CheckReport,
    /// Problems per kind (exact).
    pub problems_by_kind: BTreeMap<ProblemKind, u64>,
    /// The problems, at most [`MAX_PROBLEMS_PER_KIND`] of each kind.
    pub problems: Vec<ArchiveProblem>,
    /// Remarks (rows with unreadable times, names that are not UTF-8).
    pub notes: Vec<String>,
}

impl ValidateReport {
    /// No problem found.
    pub fn is_clean(&self) -> bool {
        self.problems_by_kind.is_empty()
    }

    /// Problems that `heal-archives` repairs.
    pub fn healable_problems(&self) -> u64 {
        self.problems_by_kind
            .iter()
            .filter(|(k, _)| k.healable())
            .map(|(_, n)| n)
            .sum()
    }
}

struct Problems {
    by_kind: BTreeMap<ProblemKind, u64>,
    list: Vec<ArchiveProblem>,
}

impl Problems {
    fn add(
        &mut self,
        kind: ProblemKind,
        file: Option<&str>,
        line: Option<usize>,
        record: impl Into<String>,
        detail: impl Into<String>,
    ) {
        let n = self.by_kind.entry(kind).or_default();
        *n += 1;
        if *n as usize <= MAX_PROBLEMS_PER_KIND {
            self.list.push(ArchiveProblem {
                kind,
                file: file.map(str::to_string),
                line: line.filter(|l| *l > 0),
                record: record.into(),
                detail: detail.into(),
                healable: kind.healable(),
            });
        }
    }
}

/// Checks the archive at `archive_root` and the database at `db_path` against each
/// other. Reads only.
pub fn validate_archives(
    db_path: impl AsRef<Path>,
    archive_root: impl AsRef<Path>,
    options: &ValidateOptions,
    progress: &dyn Progress,
) -> Result<ValidateReport> {
    crate::audit::recorded(
        db_path.as_ref(),
        "recovery.validate_archives",
        crate::audit::arguments([
            ("database", serde_json::json!(db_path.as_ref())),
            ("archive_root", serde_json::json!(archive_root.as_ref())),
            ("options", serde_json::json!(options)),
        ]),
        |report: &ValidateReport| serde_json::json!({"problems": report.problems.len(), "prayers": report.counts.prayers, "users": report.counts.users}),
        || validate_archives_unrecorded(db_path.as_ref(), archive_root.as_ref(), options, progress),
    )
}

fn validate_archives_unrecorded(
    db_path: impl AsRef<Path>,
    archive_root: impl AsRef<Path>,
    options: &ValidateOptions,
    progress: &dyn Progress,
) -> Result<ValidateReport> {
    let (db_path, root) = (db_path.as_ref(), archive_root.as_ref());
    if !root.is_dir() {
        return Err(Error::NotFound {
            what: format!("archive folder {}", root.display()),
        });
    }
    let heal_options = HealOptions {
        dry_run: true,
        time_zone: options.time_zone,
        path_prefix: options.path_prefix.clone(),
        ledgers: options.ledgers,
    };
    let db = open_database(db_path, true)?;
    let snapshot = Snapshot::read(db.connection(), Scope::All)?;
    drop(db);
    let scan = ArchiveScan::read(root, Scope::All, progress)?;
    let check = check_tree(root, progress)?;
    let mut problems = Problems {
        by_kind: BTreeMap::new(),
        list: Vec::new(),
    };
    for file in &check.problems {
        let path = file.path.to_string_lossy().into_owned();
        if let Some(error) = &file.error {
            problems.add(
                ProblemKind::UnreadableLine,
                Some(&path),
                None,
                "",
                error.clone(),
            );
        }
        for d in &file.diagnostics {
            problems.add(
                ProblemKind::UnreadableLine,
                Some(&path),
                Some(d.line),
                "",
                d.reason.clone(),
            );
        }
        if file.error.is_none() && file.diagnostics.is_empty() {
            problems.add(
                ProblemKind::FileDiffersWhenRendered,
                Some(&path),
                file.first_differing_line,
                "",
                "the file parses but does not render back to its bytes",
            );
        }
    }
    let mut counts = ValidateCounts {
        prayers: snapshot.prayers.len() as u64,
        prayer_files: scan.prayer_files.len() as u64,
        users: snapshot.users.len() as u64,
        registrations: scan.registrations.values().map(|v| v.len() as u64).sum(),
        ..ValidateCounts::default()
    };
    // Prayers.
    let total = snapshot.prayers.len() as u64;
    for (n, prayer) in snapshot.prayers.iter().enumerate() {
        if n.is_multiple_of(256) {
            progress::report(progress, "validate prayers", n as u64, Some(total))?;
        }
        let state = prayer_state(root, prayer, &snapshot, &scan, &heal_options)?;
        let id = prayer.id.as_str();
        match &state.file {
            None => problems.add(
                ProblemKind::PrayerFileMissing,
                state.stored_relative.as_deref(),
                None,
                id,
                match &state.stored {
                    StoredPath::NoFile(p) => format!("no file names prayer {id}; text_file_path {p:?} names no file"),
                    StoredPath::OtherPrayer(p, other) => format!(
                        "no file names prayer {id}; text_file_path {p:?} names the file of prayer {}",
                        other.as_deref().unwrap_or("(no title)")
                    ),
                    StoredPath::Outside(p) => format!("no file names prayer {id}; text_file_path {p:?} is outside the archive"),
                    StoredPath::Missing | StoredPath::Good => format!("no file names prayer {id}; no text_file_path"),
                },
            ),
            Some(file) => {
                if !state.missing.is_empty() {
                    let first = &state.expected[state.missing[0]].activity;
                    problems.add(
                        ProblemKind::PrayerFileStale,
                        Some(file),
                        None,
                        id,
                        format!(
                            "{} activity lines missing, the first: {:?}",
                            state.missing.len(),
                            first.render()
                        ),
                    );
                }
                if let Some(parsed) = &state.parsed {
                    let text = std::fs::read(root.join(file))
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    for &i in &state.unmatched_in_file {
                        let line = parsed.activities[i].render();
                        problems.add(
                            ProblemKind::ActivityLineWithoutRow,
                            Some(file),
                            Some(line_of(&text, &line)),
                            id,
                            format!("no row of the database accounts for {line:?}"),
                        );
                    }
                }
                match &state.stored {
                    StoredPath::Good => {}
                    other => problems.add(
                        ProblemKind::PrayerPathWrong,
                        Some(file),
                        None,
                        id,
                        match other {
                            StoredPath::Missing => "no text_file_path".to_string(),
                            StoredPath::NoFile(p) => format!("text_file_path {p:?} names no file"),
                            StoredPath::OtherPrayer(p, other) => format!(
                                "text_file_path {p:?} names the file of prayer {}",
                                other.as_deref().unwrap_or("(no title)")
                            ),
                            StoredPath::Outside(p) => {
                                format!("text_file_path {p:?} is outside the archive")
                            }
                            StoredPath::Good => String::new(),
                        },
                    ),
                }
            }
        }
        for duplicate in &state.duplicates {
            problems.add(
                ProblemKind::DuplicatePrayerFile,
                Some(duplicate),
                Some(1),
                id,
                format!(
                    "a second file names prayer {id} (kept: {})",
                    state.file.as_deref().unwrap_or("")
                ),
            );
        }
    }
    let prayer_ids: HashSet<&str> = snapshot.prayers.iter().map(|p| p.id.as_str()).collect();
    for (file, id) in &scan.prayer_files {
        match id {
            Some(id) if prayer_ids.contains(id.as_str()) => {}
            Some(id) => problems.add(
                ProblemKind::PrayerFileWithoutRow,
                Some(file),
                Some(1),
                id.clone(),
                format!("prayer {id} is not in the database"),
            ),
            None => problems.add(
                ProblemKind::PrayerFileWithoutRow,
                Some(file),
                Some(1),
                "",
                "no `Prayer <id> by <author>` title line",
            ),
        }
    }
    // Registrations.
    let user_names: HashSet<&str> = snapshot.users.iter().map(|u| u.name.as_str()).collect();
    for user in &snapshot.users {
        match scan.registrations.get(&user.name).and_then(|l| l.first()) {
            None => problems.add(
                ProblemKind::RegistrationMissing,
                Some(&format!("users/{}_users.txt", ym(&user.created_at))),
                None,
                user.name.clone(),
                "no registration line in any monthly users file",
            ),
            Some(location) => {
                let stored = stored_of(&location.file, &options.path_prefix);
                if user.text_file_path.as_deref() != Some(stored.as_str()) {
                    problems.add(
                        ProblemKind::UserPathWrong,
                        Some(&location.file),
                        Some(location.line),
                        user.name.clone(),
                        format!(
                            "text_file_path {:?}, the registration is in {stored:?}",
                            user.text_file_path.as_deref().unwrap_or("")
                        ),
                    );
                }
            }
        }
    }
    let mut registrations: Vec<(&String, &super::heal::Location)> = scan
        .registrations
        .iter()
        .flat_map(|(name, locations)| locations.iter().map(move |l| (name, l)))
        .collect();
    registrations.sort_by(|a, b| (&a.1.file, a.1.line).cmp(&(&b.1.file, b.1.line)));
    for (name, location) in registrations {
        if !user_names.contains(name.as_str()) {
            problems.add(
                ProblemKind::RegistrationWithoutRow,
                Some(&location.file),
                Some(location.line),
                name.clone(),
                format!("user {name:?} is not in the database"),
            );
        }
    }
    if let Some((differing, _)) = user_attributes_state(&snapshot, &scan, options.ledgers) {
        for name in differing {
            problems.add(
                ProblemKind::UserAttributesStale,
                Some(USER_ATTRIBUTES),
                None,
                name,
                "the user's block is missing or differs from the database",
            );
        }
    }
    // Ledgers.
    let expected_ledgers = ledgers_healed(&scan, options.ledgers);
    for key in LedgerKindKey::ALL {
        if !expected_ledgers.contains(&key) {
            continue;
        }
        let kind = key.kind();
        let records = scan.ledgers.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        let mut matcher = MinuteMatcher::new();
        for (i, (record, _)) in records.iter().enumerate() {
            if let Some(at) = record.timestamp.time {
                matcher.add(
                    ledger_key(
                        &record.prayer_id,
                        &record.user,
                        record.attribute_name.as_deref(),
                        record.attribute_value.as_deref(),
                    ),
                    &at,
                    &options.time_zone,
                    i,
                );
            }
        }
        let rows = snapshot
            .ledger_rows
            .get(&key)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        counts.ledger_rows += rows.len() as u64;
        for row in rows {
            let k = ledger_key(
                &row.prayer_id,
                &row.user,
                row.name.as_deref(),
                row.value.as_deref(),
            );
            if matcher.take(&k, &row.at).is_none() {
                problems.add(
                    ProblemKind::LedgerLineMissing,
                    Some(&format!(
                        "prayers/{}/{}_{}.txt",
                        kind.word(),
                        ym(&row.at),
                        kind.word()
                    )),
                    None,
                    format!("{} by {} at {}", row.prayer_id, row.user, row.at),
                    match &row.name {
                        Some(name) => format!(
                            "attribute {name}={:?} has no ledger line",
                            row.value.as_deref().unwrap_or("")
                        ),
                        None => format!("{} row has no ledger line", kind.word()),
                    },
                );
            }
        }
        if key != LedgerKindKey::Attributes {
            let mut unmatched: HashMap<usize, ()> = HashMap::new();
            for i in matcher.unused() {
                unmatched.insert(i, ());
            }
            for (i, (record, file)) in records.iter().enumerate() {
                if unmatched.contains_key(&i) {
                    problems.add(
                        ProblemKind::LedgerLineWithoutRow,
                        Some(file),
                        Some(record.line),
                        format!("{} by {}", record.prayer_id, record.user),
                        format!("no {} row for this line", kind.word()),
                    );
                }
            }
        }
    }
    // Invite usage.
    let mut matcher = MinuteMatcher::new();
    for (i, (record, _)) in scan.invite_usage.iter().enumerate() {
        let at = match &record.timestamp {
            crate::pycompat::datetime::PyDateTime::Naive(t) => *t,
            crate::pycompat::datetime::PyDateTime::Aware(t) => t.naive_utc(),
        };
        matcher.add(
            usage_key(&record.token, &record.used_by),
            &at,
            &options.time_zone,
            i,
        );
    }
    counts.invite_uses = snapshot.invite_usage.len() as u64;
    for row in &snapshot.invite_usage {
        if matcher
            .take(&usage_key(&row.token, &row.user), &row.at)
            .is_none()
        {
            problems.add(
                ProblemKind::InviteUsageLineMissing,
                Some(&format!(
                    "system/{}",
                    crate::archive::pipe::monthly_file_name(&row.at, "invite_usage")
                )),
                None,
                format!("{} by {}", row.token, row.user),
                "invite-token use without its usage line",
            );
        }
    }
    for i in matcher.unused() {
        let (record, location) = &scan.invite_usage[i];
        problems.add(
            ProblemKind::InviteUsageLineWithoutRow,
            Some(&location.file),
            Some(location.line),
            format!("{} by {}", record.token, record.used_by),
            "no invite_token_usage row for this line",
        );
    }
    progress::report(progress, "validate prayers", total, Some(total))?;
    let mut notes = snapshot.notes.clone();
    notes.extend(scan.notes.iter().cloned());
    Ok(ValidateReport {
        database: db_path.to_path_buf(),
        archive_root: root.to_path_buf(),
        counts,
        check,
        problems_by_kind: problems.by_kind,
        problems: problems.list,
        notes,
    })
}
