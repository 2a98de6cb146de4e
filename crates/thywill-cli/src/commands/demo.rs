//! `thywill demo`: a small sample community's text archives written with the core's
//! writers, every file parsed back and re-rendered; then the database story: the archives
//! imported (twice, to show idempotency), backed up, the database lost, and restored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use clap::Args;
use serde::Serialize;
use thywill_core::archive::check::{check_tree, CheckReport};
use thywill_core::archive::kind::FileKind;
use thywill_core::archive::parsed::{kind_of_path, parse_file};
use thywill_core::archive::prayer::{ActivityAction, PrayerArchive};
use thywill_core::archive::writer::{ArchiveWriter, Clock};
use thywill_core::backup::{
    self, CreateOptions, CreateReport, RestoreOptions, Tier, VerifyOptions,
};
use thywill_core::db::{table_row_counts, Database, OpenOptions};
use thywill_core::import::{import_text_archives, ImportReport, TextArchiveOptions};
use thywill_core::progress::NoProgress;
use thywill_core::Error;

use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Options of `thywill demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Write the sample archives here (kept afterwards) instead of a temporary folder.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Empties `dir` after confirmation, or creates it.
fn prepare_dir(context: &Context, dir: &Path) -> Result<(), CliError> {
    let io = |e| CliError::Core(Error::io(dir, e));
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io)?;
        if entries.next().is_some() {
            context.confirm(&format!(
                "{} is not empty; delete its contents for the demo?",
                dir.display()
            ))?;
            std::fs::remove_dir_all(dir).map_err(io)?;
        }
    }
    std::fs::create_dir_all(dir).map_err(io)
}

const MEMBERS: [(&str, Option<&str>); 6] = [
    ("John B.", None),
    ("Ana María", Some("John B.")),
    ("Kwame Cooper-Mitchell", Some("John B.")),
    ("李明", Some("Ana María")),
    ("Sr. Mary Margaret", None),
    ("Bob", Some("Kwame Cooper-Mitchell")),
];

const REQUESTS: [(&str, &str); 8] = [
    ("John B.", "Please pray for rain on our parched fields."),
    ("Ana María", "Pray for my mother's surgery on Tuesday."),
    ("李明", "For peace in my family. 🙏"),
    (
        "Kwame Cooper-Mitchell",
        "Guidance for a new job.\nI start next week.",
    ),
    (
        "Bob",
        "Healing for my neighbour, who is dealing with long covid.",
    ),
    ("Sr. Mary Margaret", "For the children of our parish."),
    ("Ana María", "Safe travels for my brother."),
    ("John B.", "Thanksgiving for a new grandchild!"),
];

/// What the demo wrote: counts per step of the story.
#[derive(Serialize, Default)]
struct Written {
    users: u64,
    prayers: u64,
    prayer_activity_lines: u64,
    monthly_activity_lines: u64,
    ledger_lines: u64,
}

/// Files and records read back, per kind.
#[derive(Serialize, Default)]
struct KindSummary {
    files: u64,
    records: u64,
    diagnostics: u64,
}

/// The drill: one file saved with Windows line ends, which the check must catch.
#[derive(Serialize)]
struct Drill {
    damaged: PathBuf,
    detected: bool,
    first_differing_line: Option<usize>,
}

/// The database part of the story.
#[derive(Serialize)]
struct Recovery {
    database: PathBuf,
    first_import: ImportReport,
    rows_inserted: u64,
    second_import_inserted: u64,
    backup: CreateReport,
    backup_verified: bool,
    rows_before_disaster: BTreeMap<String, u64>,
    restored_quick_check: Vec<String>,
    rows_after_restore: BTreeMap<String, u64>,
}

#[derive(Serialize)]
struct DemoReport {
    dir: PathBuf,
    kept: bool,
    written: Written,
    read_back: BTreeMap<String, KindSummary>,
    check: CheckReport,
    drill: Drill,
    recovery: Recovery,
}

/// Rows per table, counted as backups count them (`db::table_row_counts`).
fn count_rows(database: &Path) -> Result<BTreeMap<String, u64>, Error> {
    let db = Database::open(database, &OpenOptions::default())?;
    let counts = table_row_counts(db.connection())?;
    db.close()?;
    Ok(counts)
}

/// Imports the archives into a new database (twice), backs it up, deletes the database as a
/// disaster would, and restores it from the backup.
fn recovery_story(dir: &Path, base: &Path) -> Result<Recovery, Error> {
    let database = dir.join("thywill.db");
    let backups = dir.join("backups");
    let options = TextArchiveOptions::default();
    let first_import = import_text_archives(base, &database, &options, &NoProgress)?;
    let inserted = |r: &ImportReport| r.entities.values().map(|c| c.inserted).sum::<u64>();
    let second = import_text_archives(base, &database, &options, &NoProgress)?;
    let backup = backup::create(
        &CreateOptions::new(&database, &backups, Tier::Daily),
        &NoProgress,
    )?;
    let verification = backup::verify(&backup.path, &VerifyOptions::default(), &NoProgress)?;
    let rows_before_disaster = count_rows(&database)?;
    for file in [
        database.clone(),
        dir.join("thywill.db-wal"),
        dir.join("thywill.db-shm"),
    ] {
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(&file, e)),
            _ => {}
        }
    }
    let restored = backup::restore(
        &backup.path,
        &RestoreOptions::new(&database, &backups),
        &NoProgress,
    )?;
    Ok(Recovery {
        rows_inserted: inserted(&first_import),
        second_import_inserted: inserted(&second),
        backup_verified: verification.is_ok(),
        rows_after_restore: count_rows(&database)?,
        restored_quick_check: restored.quick_check,
        rows_before_disaster,
        database,
        first_import,
        backup,
    })
}

/// Rewrites `file` with CRLF line ends (as an editor on Windows would), checks the tree,
/// and puts the original bytes back.
fn drill(base: &Path, file: &Path) -> Result<Drill, Error> {
    let original = std::fs::read(file).map_err(|e| Error::io(file, e))?;
    let text = String::from_utf8_lossy(&original).replace('\n', "\r\n");
    std::fs::write(file, text).map_err(|e| Error::io(file, e))?;
    let report = check_tree(base, &thywill_core::progress::NoProgress);
    std::fs::write(file, &original).map_err(|e| Error::io(file, e))?;
    let relative = file.strip_prefix(base).unwrap_or(file).to_path_buf();
    let found = report?.problems.into_iter().find(|p| p.path == relative);
    Ok(Drill {
        detected: found.is_some(),
        first_differing_line: found.and_then(|p| p.first_differing_line),
        damaged: relative,
    })
}

/// A stable ID shaped like ThyWill's `uuid4().hex` (splitmix64 of the index).
fn prayer_id(n: usize) -> String {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    format!("{:016x}{:016x}", mix(n as u64), mix(n as u64 + 1000))
}

/// Writes the sample community with the core's archive-first writer (fixed clock, so
/// every run writes the same bytes).
fn write_community(base: &Path) -> Result<Written, Error> {
    let start = NaiveDate::from_ymd_opt(2025, 10, 2)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .unwrap_or(NaiveDateTime::MIN);
    let writer = ArchiveWriter::new(base).with_clock(Clock::Fixed(start));
    writer.ensure_dirs()?;
    let mut written = Written::default();
    for (i, (name, inviter)) in MEMBERS.iter().enumerate() {
        let t = start + Duration::days(3 * i as i64) + Duration::minutes(20);
        writer.append_user_registration_with_timestamp(name, *inviter, t)?;
        let action = match inviter {
            Some(by) => format!("registered via invitation from {by}"),
            None => "registered directly".to_owned(),
        };
        writer.append_monthly_activity_at(&action, name, None, None, t)?;
        written.users += 1;
        written.monthly_activity_lines += 1;
    }
    for (i, (author, text)) in REQUESTS.iter().enumerate() {
        // Prayers 3 and 4 share a minute: ThyWill's `_2` collision suffix.
        let minute = if i == 4 { 3 } else { i };
        let created = start + Duration::days(20 + 2 * minute as i64) + Duration::hours(7);
        let id = prayer_id(i);
        let file = writer
            .create_prayer_archive_first(&PrayerArchive::new(&id, *author, created, *text))?
            .ok_or_else(|| Error::Internal("writer disabled".into()))?;
        writer.append_monthly_activity_at(
            &format!("submitted prayer {id}"),
            author,
            Some(&id),
            None,
            created,
        )?;
        written.prayers += 1;
        written.monthly_activity_lines += 1;
        // Everyone after the author prays for it, a day apart; some skip it.
        for (j, (member, _)) in MEMBERS.iter().enumerate().filter(|(_, m)| m.0 != *author) {
            let t = created + Duration::hours(5 + 24 * j as i64);
            if (i + j) % 4 == 0 {
                writer.append_prayer_skip(&id, member, Some(t))?;
                written.ledger_lines += 1;
                continue;
            }
            writer.append_prayer_activity_at(&file, member, &ActivityAction::Prayed, t)?;
            writer.append_monthly_activity_at(
                &format!("prayed for prayer {id}"),
                member,
                Some(&id),
                None,
                t,
            )?;
            writer.append_prayer_mark(&id, member, Some(t))?;
            written.prayer_activity_lines += 1;
            written.monthly_activity_lines += 1;
            written.ledger_lines += 1;
        }
        if i % 3 == 0 {
            let t = created + Duration::days(9);
            let testimony =
                ActivityAction::from_thywill("testimony", Some("God is good."), None, None);
            writer.append_prayer_activity_at(&file, author, &ActivityAction::Answered, t)?;
            writer.append_prayer_activity_at(&file, author, &testimony, t)?;
            writer.append_prayer_attribute(&id, "answered", "true", Some(author), Some(t))?;
            written.prayer_activity_lines += 2;
            written.ledger_lines += 1;
        }
    }
    Ok(written)
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            files_under(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs the demo.
pub fn run(context: &Context, args: DemoArgs) -> Result<Outcome, CliError> {
    let temp;
    let (dir, kept) = match &args.dir {
        Some(dir) => {
            prepare_dir(context, dir)?;
            (dir.clone(), true)
        }
        None => {
            temp = tempfile::tempdir()
                .map_err(|e| CliError::Core(Error::io(std::env::temp_dir(), e)))?;
            (temp.path().to_path_buf(), false)
        }
    };
    if context.audit_log.is_none() {
        // The demo's operations are on its own community: their lines stay in its folder.
        thywill_core::audit::configure(thywill_core::audit::AuditSetting::At(
            dir.join(thywill_core::audit::AUDIT_FILE_NAME),
        ));
    }
    let base = dir.join("text_archives");
    let written = write_community(&base)?;

    let mut files = Vec::new();
    files_under(&base, &mut files)?;
    files.sort();
    let mut read_back: BTreeMap<String, KindSummary> = BTreeMap::new();
    for file in files {
        if kind_of_path(&file) == FileKind::Other {
            continue;
        }
        let parsed = parse_file(&file)?;
        let summary = read_back.entry(parsed.kind.clone()).or_default();
        summary.files += 1;
        summary.records += parsed.record_count as u64;
        summary.diagnostics += parsed.diagnostics.len() as u64;
    }
    let bar = context.progress();
    let check = check_tree(&base, &bar);
    bar.finish();
    let check = check?;
    let drill_file = base.join("users/2025_10_users.txt");
    let drill = drill(&base, &drill_file)?;
    let recovery = recovery_story(&dir, &base)?;

    let mut text = format!(
        "Wrote a sample community with thywill-core's archive writers to {}{}\n\
         {} users, {} prayers, {} prayer activity lines, {} monthly activity lines, {} ledger lines\n\n\
         Read back with the parsers:\n",
        base.display(),
        if kept { "" } else { " (temporary, removed now)" },
        written.users,
        written.prayers,
        written.prayer_activity_lines,
        written.monthly_activity_lines,
        written.ledger_lines,
    );
    for (kind, s) in &read_back {
        text.push_str(&format!(
            "  {kind:<20} {:>3} files {:>4} records {:>2} diagnostics\n",
            s.files, s.records, s.diagnostics
        ));
    }
    text.push_str(&format!(
        "\nRe-rendered byte-identical: {}/{} files\n",
        check.files_identical, check.files_checked
    ));
    for problem in &check.problems {
        text.push_str(&format!(
            "  differs: {} (line {:?})\n",
            problem.path.display(),
            problem.first_differing_line
        ));
    }
    text.push_str(&format!(
        "\nDrill: {} saved with Windows line ends: {}\n",
        drill.damaged.display(),
        match (drill.detected, drill.first_differing_line) {
            (true, Some(line)) => format!("caught by the check, first differing line {line}"),
            (true, None) => "caught by the check".to_owned(),
            (false, _) => "NOT caught by the check".to_owned(),
        }
    ));
    text.push_str(&format!(
        "\nImported into {}: {} rows; imported again: {} new rows\n\
         Backed up to {} ({}verified)\n\
         Disaster: the database is deleted. Restored from the backup: quick_check {}\n",
        recovery.database.display(),
        recovery.rows_inserted,
        recovery.second_import_inserted,
        recovery.backup.path.display(),
        if recovery.backup_verified { "" } else { "NOT " },
        recovery.restored_quick_check.join(", "),
    ));
    // Every table is compared; the empty ones would only lengthen the summary.
    for (table, before) in &recovery.rows_before_disaster {
        let after = recovery.rows_after_restore.get(table).copied().unwrap_or(0);
        if *before == 0 && after == 0 {
            continue;
        }
        text.push_str(&format!(
            "  {table:<20} {before:>4} rows before, {after:>4} after\n"
        ));
    }
    if kept {
        text.push_str(&format!(
            "\nTry: thywill archive check {}\n     thywill archive parse {}\n",
            base.display(),
            base.join("users/2025_10_users.txt").display()
        ));
    }
    let failed = !check.is_clean()
        || !drill.detected
        || read_back.values().any(|s| s.diagnostics > 0)
        || !recovery.first_import.failures.is_empty()
        || recovery.second_import_inserted != 0
        || !recovery.backup_verified
        || recovery.restored_quick_check != ["ok"]
        || recovery.rows_before_disaster != recovery.rows_after_restore;
    let report = DemoReport {
        dir: base,
        kept,
        written,
        read_back,
        check,
        drill,
        recovery,
    };
    Ok(Outcome::new(&report, text)?.with_failures(failed))
}
