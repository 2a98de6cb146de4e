//! `thywill demo`: the whole story on a small embedded community, offline, in seconds.
//!
//! Eleven steps, each a call into the core and one line of figures: the archives written,
//! imported into a fresh database, backed up, the backup verified, the database lost,
//! test-recovery, full-recovery from the archives alone, validate-consistency, a user's and
//! the community's ZIP, downloads cleanup, and the audit trail of all of it. Everything
//! happens in one folder (temporary unless `--keep DIR`), its audit log included.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use clap::Args;
use serde::Serialize;
use serde_json::{json, Value};
use thywill_core::archive::check::check_tree;
use thywill_core::archive::kind::FileKind;
use thywill_core::archive::parsed::{kind_of_path, parse_file};
use thywill_core::archive::prayer::{ActivityAction, PrayerArchive};
use thywill_core::archive::writer::{ArchiveWriter, Clock};
use thywill_core::audit::{self, AuditQuery, AuditResult, AuditSetting};
use thywill_core::backup::{self, CreateOptions, Tier, VerifyOptions};
use thywill_core::db::{table_row_counts, Database, OpenOptions};
use thywill_core::download::{
    cleanup_old_downloads, create_full_community_zip, create_user_archive_zip,
    CleanupDownloadsOptions, CommunityZipOptions, UserZipOptions,
};
use thywill_core::import::{import_text_archives, TextArchiveOptions};
use thywill_core::recovery::{
    full_recovery, test_recovery, validate_consistency, ConsistencyOptions, FullRecoveryOptions,
    TestRecoveryOptions,
};
use thywill_core::Error;

use crate::context::{Context, Outcome};
use crate::exit::CliError;
use crate::output;
use crate::progress::StopOnSignal;

/// Options of `thywill demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Work in this folder and keep it (database, archives, backups, ZIPs, audit log)
    /// instead of a temporary folder removed at the end.
    #[arg(long, alias = "dir", value_name = "DIR")]
    keep: Option<PathBuf>,
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

/// One step of the story as `--json` reports it.
#[derive(Serialize)]
struct Step {
    step: &'static str,
    ok: bool,
    figures: Value,
    seconds: f64,
}

/// `--json`'s document.
#[derive(Serialize)]
struct DemoReport {
    folder: PathBuf,
    kept: bool,
    steps: Vec<Step>,
}

/// What a step tells: its line, its figures, and what went wrong when its result is not
/// what the sample community must give.
struct Told {
    line: String,
    figures: Value,
    problem: Option<String>,
    details: Vec<String>,
}

impl Told {
    fn new(line: String, figures: Value) -> Self {
        Told {
            line,
            figures,
            problem: None,
            details: Vec::new(),
        }
    }

    /// Marks the step failed with `why` unless `fine`.
    fn unless(mut self, fine: bool, why: impl FnOnce() -> String) -> Self {
        if !fine && self.problem.is_none() {
            self.problem = Some(why());
        }
        self
    }
}

/// The steps told so far.
struct Story<'a> {
    context: &'a Context,
    steps: Vec<Step>,
    text: String,
}

impl Story<'_> {
    /// Runs one step; a core error or a result the sample must not give stops the demo.
    fn step(
        &mut self,
        name: &'static str,
        body: impl FnOnce() -> Result<Told, Error>,
    ) -> Result<(), CliError> {
        let number = self.steps.len() + 1;
        let started = Instant::now();
        let told = match body() {
            Ok(told) => told,
            Err(error) => {
                self.stop(number, name, &error.to_string());
                return Err(CliError::Core(error));
            }
        };
        self.text
            .push_str(&format!("{number:>2}. {name:<23} {}\n", told.line));
        for detail in &told.details {
            self.text.push_str(&format!("      {detail}\n"));
        }
        self.steps.push(Step {
            step: name,
            ok: told.problem.is_none(),
            figures: told.figures,
            seconds: started.elapsed().as_secs_f64(),
        });
        match told.problem {
            None => Ok(()),
            Some(problem) => {
                self.stop(number, name, &problem);
                Err(CliError::Core(Error::Internal(format!(
                    "demo step {number} ({name}) failed: {problem}"
                ))))
            }
        }
    }

    /// Shows the steps told so far on stderr, so the failing one is seen in its place.
    fn stop(&self, number: usize, name: &str, why: &str) {
        if !self.context.quiet && !self.context.json {
            output::stderr_text(&self.text);
        }
        output::stderr_line(&format!(
            "thywill: demo stopped at step {number} ({name}): {why}"
        ));
    }
}

/// Rows per table, counted as backups count them (`db::table_row_counts`).
fn count_rows(database: &Path) -> Result<BTreeMap<String, u64>, Error> {
    let db = Database::open(database, &OpenOptions::default())?;
    let counts = table_row_counts(db.connection())?;
    db.close()?;
    Ok(counts)
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

/// Step 1: the sample community written with the core's writers, every file parsed back
/// and re-rendered byte for byte.
fn write_archives(base: &Path) -> Result<Told, Error> {
    let written = write_community(base)?;
    let mut files = Vec::new();
    files_under(base, &mut files)?;
    files.sort();
    let (mut archive_files, mut records, mut diagnostics) = (0u64, 0u64, 0u64);
    for file in files {
        if kind_of_path(&file) == FileKind::Other {
            continue;
        }
        let parsed = parse_file(&file)?;
        archive_files += 1;
        records += parsed.record_count as u64;
        diagnostics += parsed.diagnostics.len() as u64;
    }
    let check = check_tree(base, &StopOnSignal)?;
    let line = format!(
        "{archive_files} files, {records} records ({} users, {} prayers, {} flagged); \
         re-rendered byte-identical: {}/{}",
        written.users, written.prayers, written.flagged, check.files_identical, check.files_checked
    );
    let clean = check.is_clean() && diagnostics == 0;
    Ok(Told::new(
        line,
        json!({
            "files": archive_files, "records": records, "users": written.users,
            "prayers": written.prayers, "flagged_prayers": written.flagged,
            "diagnostics": diagnostics, "files_identical": check.files_identical,
            "files_checked": check.files_checked,
        }),
    )
    .unless(clean, || {
        format!(
            "{diagnostics} parse diagnostics, {} files differ when re-rendered",
            check.problems.len()
        )
    }))
}

/// The figures a later step compares with.
#[derive(Default)]
struct Before {
    rows: BTreeMap<String, u64>,
    backup: Option<PathBuf>,
}

/// Runs the demo.
pub fn run(context: &Context, args: DemoArgs) -> Result<Outcome, CliError> {
    let temp;
    let (folder, kept) = match &args.keep {
        Some(dir) => {
            prepare_dir(context, dir)?;
            (
                std::path::absolute(dir).map_err(|e| CliError::Core(Error::io(dir, e)))?,
                true,
            )
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("thywill-demo-")
                .tempdir()
                .map_err(|e| CliError::Core(Error::io(std::env::temp_dir(), e)))?;
            (temp.path().to_path_buf(), false)
        }
    };
    // The demo's operations are on its own community: their lines go to its folder, and
    // step 11 reads them back from there.
    let audit_log = folder.join(audit::AUDIT_FILE_NAME);
    audit::configure(AuditSetting::At(audit_log.clone()));
    let base = folder.join("text_archives");
    let database = folder.join("thywill.db");
    let backups = folder.join("backups");
    let mut story = Story {
        context,
        steps: Vec::new(),
        text: format!(
            "The story of a small community, in {}{}\n",
            folder.display(),
            if kept {
                ""
            } else {
                " (temporary, removed at the end)"
            }
        ),
    };
    let mut before = Before::default();

    story.step("write the archives", || write_archives(&base))?;
    story.step("import", || {
        let options = TextArchiveOptions::default();
        let first = import_text_archives(&base, &database, &options, &StopOnSignal)?;
        let again = import_text_archives(&base, &database, &options, &StopOnSignal)?;
        let rows = count_rows(&database)?;
        let total: u64 = rows.values().sum();
        let line = format!(
            "{} rows inserted into a fresh {} ({total} rows in {} tables); imported again: {} new rows",
            first.total_inserted(),
            database.file_name().unwrap_or_default().to_string_lossy(),
            rows.values().filter(|n| **n > 0).count(),
            again.total_inserted(),
        );
        let figures = json!({
            "rows_inserted": first.total_inserted(), "rows": total,
            "users": rows.get("user"), "prayers": rows.get("prayer"),
            "failures": first.failures.len(), "second_import_inserted": again.total_inserted(),
        });
        let fine = !first.has_failures() && again.total_inserted() == 0 && total > 0;
        before.rows = rows;
        Ok(Told::new(line, figures).unless(fine, || {
            format!(
                "{} failures; the second import inserted {} rows",
                first.failures.len(),
                again.total_inserted()
            )
        }))
    })?;
    story.step("back up", || {
        let created = backup::create(
            &CreateOptions::new(&database, &backups, Tier::Daily),
            &StopOnSignal,
        )?;
        let size: u64 = created.members.iter().map(|m| m.size).sum();
        let integrity_ok = created.verification.as_ref().is_some_and(|v| v.passed());
        before.backup = Some(created.path.clone());
        Ok(Told::new(
            format!(
                "set {} ({size} bytes), integrity check {}",
                created.name,
                if integrity_ok { "ok" } else { "FAILED" }
            ),
            json!({"name": created.name, "bytes": size, "pages": created.pages, "integrity_ok": integrity_ok}),
        )
        .unless(integrity_ok, || "the backup's integrity check did not pass".into()))
    })?;
    let backup_path = before.backup.clone().unwrap_or_default();
    story.step("verify the backup", || {
        let verified = backup::verify(&backup_path, &VerifyOptions::default(), &StopOnSignal)?;
        let rows: u64 = verified.table_row_counts.values().sum();
        Ok(Told::new(
            format!(
                "{}: checksum {}, integrity {}, ThyWill's tables present, {rows} rows",
                format!("{:?}", verified.status).to_lowercase(),
                if verified.checksum_verified {
                    "matches"
                } else {
                    "DIFFERS"
                },
                if verified.database_integrity_ok {
                    "ok"
                } else {
                    "FAILED"
                },
            ),
            json!({
                "status": verified.status, "checksum_verified": verified.checksum_verified,
                "integrity_ok": verified.database_integrity_ok, "rows": rows,
                "missing_tables": verified.missing_tables,
            }),
        )
        .unless(verified.is_ok(), || verified.errors.join("; ")))
    })?;
    story.step("lose the database", || {
        let (mut deleted, mut bytes) = (0u64, 0u64);
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = database.clone().into_os_string();
            name.push(suffix);
            let file = PathBuf::from(name);
            match std::fs::metadata(&file) {
                Ok(meta) => {
                    std::fs::remove_file(&file).map_err(|e| Error::io(&file, e))?;
                    deleted += 1;
                    bytes += meta.len();
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&file, e)),
            }
        }
        let rows: u64 = before.rows.values().sum();
        Ok(Told::new(
            format!("deleted {deleted} file(s), {bytes} bytes: {rows} rows gone"),
            json!({"files_deleted": deleted, "bytes": bytes, "rows_lost": rows}),
        )
        .unless(deleted > 0 && !database.exists(), || {
            "the database was not deleted".into()
        }))
    })?;
    story.step("test-recovery", || {
        // With the database gone, the last verified backup is what the archives are
        // measured against.
        let options = TestRecoveryOptions {
            scratch_dir: Some(folder.clone()),
            ..TestRecoveryOptions::default()
        };
        let report = test_recovery(&base, &backup_path, &options, &StopOnSignal)?;
        let c = &report.comparison;
        Ok(Told::new(
            format!(
                "against the backup, {} rows would come back from the archives, {} would be lost, {} added",
                c.come_back, c.lost, c.added
            ),
            json!({"come_back": c.come_back, "lost": c.lost, "added": c.added,
                   "compared_with": "backup", "warnings": report.warnings}),
        )
        .unless(!report.import.has_failures() && c.come_back > 0, || {
            format!("the rebuild had {} failures", report.import.failures.len())
        }))
    })?;
    story.step("full-recovery", || {
        let report = full_recovery(
            &base,
            &database,
            &FullRecoveryOptions::new(&backups),
            &StopOnSignal,
        )?;
        let rows = count_rows(&database)?;
        let back: u64 = rows.values().sum();
        let equal = rows == before.rows;
        let mut told = Told::new(
            format!(
                "rebuilt from the archives alone: {back} rows back, {} before the loss; quick_check {}",
                if equal { "table by table equal to" } else { "NOT equal to" },
                report.quick_check.join(", ")
            ),
            json!({"rows_back": back, "rows_before": before.rows.values().sum::<u64>(),
                   "equal": equal, "installed": report.installed,
                   "quick_check": report.quick_check}),
        );
        for (table, was) in &before.rows {
            let now = rows.get(table).copied().unwrap_or(0);
            if now != *was {
                told.details
                    .push(format!("{table}: {was} rows before, {now} after"));
            }
        }
        let fine = equal && report.installed && report.quick_check == ["ok"];
        Ok(told.unless(fine, || "the recovered database differs from the lost one".into()))
    })?;
    story.step("validate-consistency", || {
        let options = ConsistencyOptions {
            scratch_dir: Some(folder.clone()),
            ..ConsistencyOptions::default()
        };
        let report = validate_consistency(&database, &base, &options, &StopOnSignal)?;
        let score = report.stats.consistency_score;
        let mut told = Told::new(
            format!(
                "score {score:.2} ({:?}): {} users, {} prayers, {} prayer marks",
                report.band,
                report.stats.total_users_in_db,
                report.stats.total_prayers_in_db,
                report.stats.total_prayer_marks_in_db
            ),
            json!({"score": score, "band": report.band, "issues": report.issues.len(),
                   "users": report.stats.total_users_in_db,
                   "prayers": report.stats.total_prayers_in_db}),
        );
        told.details = report.issues.clone();
        Ok(told.unless(report.exit_code == 0, || {
            format!("the score {score:.2} is below 95")
        }))
    })?;
    story.step("user and community ZIP", || {
        let user = create_user_archive_zip(
            &database,
            &base,
            ZIP_USER,
            &UserZipOptions::default(),
            &StopOnSignal,
        )?;
        let community = create_full_community_zip(
            &database,
            &base,
            &CommunityZipOptions::default(),
            &StopOnSignal,
        )?;
        let flagged_left_out = community.excluded.flagged_prayer_files;
        Ok(Told::new(
            format!(
                "{}'s ZIP {} entries, {} bytes; the community ZIP {} entries, {} bytes \
                 ({flagged_left_out} flagged prayer left out)",
                ZIP_USER, user.entry_count, user.bytes, community.entry_count, community.bytes
            ),
            json!({
                "user": {"name": ZIP_USER, "file": user.file_name, "entries": user.entry_count, "bytes": user.bytes},
                "community": {"file": community.file_name, "entries": community.entry_count,
                              "bytes": community.bytes, "flagged_prayers_left_out": flagged_left_out,
                              "lines_left_out": community.excluded.lines},
            }),
        )
        .unless(flagged_left_out > 0 && user.entry_count > 0, || {
            "the community ZIP did not leave the flagged prayer out".into()
        }))
    })?;
    story.step("downloads cleanup", || {
        let stale = plant_stale_download(&base)?;
        let report = cleanup_old_downloads(&base, &CleanupDownloadsOptions::default())?;
        let removed = report.removed.len() as u64;
        Ok(Told::new(
            format!(
                "removed {removed} download older than 24 h ({} bytes, {}), kept {}",
                report.removed_bytes,
                stale.file_name().unwrap_or_default().to_string_lossy(),
                report.kept
            ),
            json!({"removed": removed, "removed_bytes": report.removed_bytes,
                   "kept": report.kept, "max_age_seconds": report.max_age_seconds}),
        )
        .unless(removed == 1 && !stale.exists() && report.kept >= 2, || {
            "the old download was not the one removed".into()
        }))
    })?;
    story.step("audit trail", || {
        let trail = audit::read(&audit_log, &AuditQuery::default())?;
        let failed = trail
            .entries
            .iter()
            .filter(|e| e.result != AuditResult::Ok)
            .count();
        let mut told = Told::new(
            format!(
                "{} operations recorded in {}, {failed} failed, {} unreadable lines",
                trail.entries.len(),
                audit::AUDIT_FILE_NAME,
                trail.unreadable_count
            ),
            json!({"operations": trail.entries.len(), "failed": failed,
                   "unreadable": trail.unreadable_count,
                   "recorded": trail.entries.iter().map(|e| e.operation.as_str()).collect::<Vec<_>>()}),
        );
        for entry in &trail.entries {
            let counts = entry
                .counts
                .as_object()
                .map(|c| {
                    c.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            told.details.push(format!(
                "{:<30} {:<6} {:>5} ms  {counts}",
                entry.operation,
                format!("{:?}", entry.result).to_lowercase(),
                entry.duration_ms
            ));
        }
        let missing: Vec<&str> = EXPECTED_OPERATIONS
            .iter()
            .copied()
            .filter(|op| !trail.entries.iter().any(|e| e.operation == *op))
            .collect();
        let fine = failed == 0 && trail.unreadable_count == 0 && missing.is_empty();
        Ok(told.unless(fine, || {
            format!("{failed} failed lines; not recorded: {}", missing.join(", "))
        }))
    })?;

    let mut text = story.text;
    if kept {
        text.push_str(&format!(
            "\nKept in {0}. Try:\n  thywill --db {1} list\n  thywill --db {1} audit\n  \
             thywill --db {1} --archives {2} recovery-report\n",
            folder.display(),
            database.display(),
            base.display()
        ));
    }
    let report = DemoReport {
        folder,
        kept,
        steps: story.steps,
    };
    Outcome::new(&report, text)
}

/// The operations step 11 must find in the audit trail, one per core call of the story.
const EXPECTED_OPERATIONS: [&str; 9] = [
    "import.text_archives",
    "backup.create",
    "backup.verify",
    "recovery.test_recovery",
    "recovery.full_recovery",
    "recovery.validate_consistency",
    "download.user_zip",
    "download.community_zip",
    "download.cleanup",
];

/// Whose ZIP step 9 writes.
const ZIP_USER: &str = "Ana María";

/// A community ZIP as one written two days ago would be, for cleanup to find: a copy of
/// today's, named and dated two days back.
fn plant_stale_download(base: &Path) -> Result<PathBuf, Error> {
    let downloads = base.join(thywill_core::download::DOWNLOADS_FOLDER);
    let mut current = None;
    for entry in std::fs::read_dir(&downloads).map_err(|e| Error::io(&downloads, e))? {
        let path = entry.map_err(|e| Error::io(&downloads, e))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("complete_site_archive_") && name.ends_with(".zip") {
            current = Some(path);
        }
    }
    let current = current
        .ok_or_else(|| Error::Internal(format!("no community ZIP in {}", downloads.display())))?;
    let two_days = std::time::Duration::from_secs(2 * 86_400);
    let then = chrono::Local::now() - Duration::days(2);
    let stale = downloads.join(format!(
        "complete_site_archive_{}.zip",
        then.format("%Y_%m_%d_%H%M")
    ));
    std::fs::copy(&current, &stale).map_err(|e| Error::io(&stale, e))?;
    let file = std::fs::File::options()
        .write(true)
        .open(&stale)
        .map_err(|e| Error::io(&stale, e))?;
    let when = SystemTime::now()
        .checked_sub(two_days)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    file.set_modified(when).map_err(|e| Error::io(&stale, e))?;
    Ok(stale)
}

const MEMBERS: [(&str, Option<&str>); 6] = [
    ("John B.", None),
    ("Ana María", Some("John B.")),
    ("Kwame Cooper-Mitchell", Some("John B.")),
    ("李明", Some("Ana María")),
    ("Sr. Mary Margaret", None),
    ("Bob", Some("Kwame Cooper-Mitchell")),
];

const REQUESTS: [(&str, &str); 9] = [
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
    (
        "Bob",
        "Miracle cures at discount prices, visit my shop today!",
    ),
];

/// The request a moderator flags (and that nobody prays for): the community ZIP leaves it
/// out.
const FLAGGED_REQUEST: usize = 8;
/// Who flags it.
const MODERATOR: &str = "John B.";

/// What the sample community holds.
#[derive(Default)]
struct Written {
    users: u64,
    prayers: u64,
    flagged: u64,
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
        if i == FLAGGED_REQUEST {
            let t = created + Duration::hours(2);
            writer.append_prayer_activity_at(&file, MODERATOR, &ActivityAction::Flagged, t)?;
            writer.append_monthly_activity_at(
                &format!("flagged prayer {id}"),
                MODERATOR,
                Some(&id),
                None,
                t,
            )?;
            writer.append_prayer_attribute(&id, "flagged", "true", Some(MODERATOR), Some(t))?;
            written.flagged += 1;
            continue;
        }
        // Everyone after the author prays for it, a day apart; some skip it.
        for (j, (member, _)) in MEMBERS.iter().enumerate().filter(|(_, m)| m.0 != *author) {
            let t = created + Duration::hours(5 + 24 * j as i64);
            if (i + j) % 4 == 0 {
                writer.append_prayer_skip(&id, member, Some(t))?;
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
        }
        if i % 3 == 0 {
            let t = created + Duration::days(9);
            let testimony =
                ActivityAction::from_thywill("testimony", Some("God is good."), None, None);
            writer.append_prayer_activity_at(&file, author, &ActivityAction::Answered, t)?;
            writer.append_prayer_activity_at(&file, author, &testimony, t)?;
            // Answering sets three attributes, each with its ledger line, as ThyWill's
            // archive-first service writes them.
            let answer_date = t.format("%Y-%m-%dT%H:%M:%S").to_string();
            for (name, value) in [
                ("answered", "true"),
                ("answer_date", answer_date.as_str()),
                ("answer_testimony", "God is good."),
            ] {
                writer.append_prayer_attribute(&id, name, value, Some(author), Some(t))?;
            }
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            db: "thywill.db".into(),
            archives: "text_archives".into(),
            backups: "backups".into(),
            audit_log: None,
            json: true,
            yes: false,
            quiet: true,
            config: None,
            shown: Vec::new(),
        }
    }

    #[test]
    fn a_failing_step_stops_the_story_naming_the_step() {
        let context = context();
        let mut story = Story {
            context: &context,
            steps: Vec::new(),
            text: String::new(),
        };
        story
            .step("first", || Ok(Told::new("fine".into(), json!({"n": 1}))))
            .unwrap();
        let error = story
            .step("second", || {
                Ok(Told::new("wrong".into(), json!({"n": 0}))
                    .unless(false, || "the figures are wrong".into()))
            })
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "internal error: demo step 2 (second) failed: the figures are wrong"
        );
        assert_eq!(error.exit_code(), 12);
        let oks: Vec<bool> = story.steps.iter().map(|s| s.ok).collect();
        assert_eq!(oks, [true, false]);
        assert!(story.text.contains(" 2. second"));
        // A core error keeps its kind, and so its exit code.
        let error = story
            .step("third", || {
                Err(Error::Conflict("the database is in use".into()))
            })
            .unwrap_err();
        assert_eq!(error.exit_code(), 5);
        assert_eq!(story.steps.len(), 2);
    }
}
