//! Archive care: `thywill heal-archives`, `sync-archives`, `sync-users`,
//! `validate-archives` and `repair-archives` (the database written back into the text archives, and the two
//! checked against each other).

use clap::{Args, ValueEnum};
use thywill_core::db::ArchiveTimeZone;
use thywill_core::recovery::heal::{heal_archives, HealOptions, HealReport, LedgerPolicy};
use thywill_core::recovery::sync::{sync_archives, SyncOptions, SyncReport};
use thywill_core::recovery::sync_users::sync_users;
use thywill_core::recovery::validate::{validate_archives, ValidateOptions, ValidateReport};

use super::import::parse_zone;
use crate::context::{Context, Outcome};
use crate::exit::CliError;

/// Which ledgers heal writes and validate expects.
#[derive(Clone, Copy, ValueEnum)]
pub enum Ledgers {
    /// Those whose folder exists (all of them when `prayers/` is missing).
    Auto,
    /// All three, folders created as needed.
    Always,
    /// None.
    Never,
}

impl From<Ledgers> for LedgerPolicy {
    fn from(ledgers: Ledgers) -> Self {
        match ledgers {
            Ledgers::Auto => LedgerPolicy::Auto,
            Ledgers::Always => LedgerPolicy::Always,
            Ledgers::Never => LedgerPolicy::Never,
        }
    }
}

/// Options of `heal-archives` and `repair-archives`.
#[derive(Args)]
pub struct HealArgs {
    /// Plan and report everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Zone of the archive's human timestamps: local, utc or ±HH:MM.
    #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
    time_zone: ArchiveTimeZone,
    /// Which monthly ledgers (marks, skips, attributes) to heal.
    #[arg(long, value_enum, default_value = "auto")]
    ledgers: Ledgers,
}

/// Options of `sync-archives`.
#[derive(Args)]
pub struct SyncArchivesArgs {
    /// Do the whole sync on a scratch copy of the database and report it; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Zone of the archive's human timestamps: local, utc or ±HH:MM.
    #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
    time_zone: ArchiveTimeZone,
    /// Which monthly ledgers (marks, skips, attributes) to heal.
    #[arg(long, value_enum, default_value = "auto")]
    ledgers: Ledgers,
}

/// Options of `sync-users`.
#[derive(Args)]
pub struct SyncUsersArgs {
    /// Plan and report everything, write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Options of `validate-archives`.
#[derive(Args)]
pub struct ValidateArgs {
    /// Zone of the archive's human timestamps: local, utc or ±HH:MM.
    #[arg(long, default_value = "local", value_parser = parse_zone, allow_hyphen_values = true)]
    time_zone: ArchiveTimeZone,
    /// Which monthly ledgers (marks, skips, attributes) are expected.
    #[arg(long, value_enum, default_value = "auto")]
    ledgers: Ledgers,
}

fn heal_text(report: &HealReport) -> String {
    let verb = if report.dry_run { "would be " } else { "" };
    let mut text = String::new();
    for change in &report.changes {
        text.push_str(&format!(
            "{:?} {} {}: {}\n",
            change.kind, change.path, change.record, change.detail
        ));
    }
    let p = &report.prayers;
    if p.total > 0 {
        text.push_str(&format!(
            "Total prayers: {}; prayers {verb}healed: {} ({} files created, {} rewritten in place, \
             {} paths updated, {} activity lines); prayers already healthy: {}\n",
            p.total,
            p.healed,
            p.files_created,
            p.files_rewritten,
            p.paths_updated,
            p.activity_lines_written,
            p.healthy
        ));
    }
    let u = &report.users;
    text.push_str(&format!(
        "Total users: {}; users {verb}healed: {} ({} registration lines, {} paths updated); \
         users already healthy: {}\n",
        u.total, u.healed, u.registrations_written, u.paths_updated, u.healthy
    ));
    if u.attribute_blocks_written > 0 {
        text.push_str(&format!(
            "users/user_attributes.txt {verb}rewritten: {} users' blocks missing or different\n",
            u.attribute_blocks_written
        ));
    }
    for ledger in report.ledgers.iter().filter(|l| l.healed) {
        text.push_str(&format!(
            "{} ledger: {} rows, {} archived, {} lines {verb}written\n",
            ledger.kind.word(),
            ledger.rows,
            ledger.present,
            ledger.lines_written
        ));
    }
    if report.invite_usage.rows > 0 {
        text.push_str(&format!(
            "invite usage: {} rows, {} archived, {} lines {verb}written\n",
            report.invite_usage.rows,
            report.invite_usage.present,
            report.invite_usage.lines_written
        ));
    }
    if p.categorization_blocks_written > 0 {
        text.push_str(&format!(
            "categorization blocks {verb}written: {}\n",
            p.categorization_blocks_written
        ));
    }
    let r = &report.records;
    for (name, counts) in [
        ("roles", &r.roles),
        ("invite tokens", &r.invite_tokens),
        ("live sessions", &r.sessions),
        ("auth requests", &r.auth_requests),
        ("auth approvals", &r.auth_approvals),
        ("security events", &r.security_events),
        ("activity log", &r.activity_log),
    ] {
        if counts.healed && counts.rows > 0 {
            text.push_str(&format!(
                "{name}: {} rows, {} archived, {} {verb}written\n",
                counts.rows, counts.present, counts.written
            ));
        }
    }
    for note in &report.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    if report.dry_run {
        text.push_str("Dry run: nothing was written.\n");
    }
    text
}

/// `heal-archives` (and `repair-archives`, which is the same operation).
pub fn run_heal(context: &Context, args: HealArgs) -> Result<Outcome, CliError> {
    let options = HealOptions {
        dry_run: args.dry_run,
        time_zone: args.time_zone,
        ledgers: args.ledgers.into(),
        ..HealOptions::default()
    };
    let bar = context.progress();
    let report = heal_archives(&context.db, &context.archives, &options, &bar);
    bar.finish();
    let report = report?;
    Outcome::new(&report, heal_text(&report))
}

/// `sync-users`.
pub fn run_sync_users(context: &Context, args: SyncUsersArgs) -> Result<Outcome, CliError> {
    let options = HealOptions {
        dry_run: args.dry_run,
        ..HealOptions::default()
    };
    let bar = context.progress();
    let report = sync_users(&context.db, &context.archives, &options, &bar);
    bar.finish();
    let report = report?;
    Outcome::new(&report, heal_text(&report))
}

fn sync_text(report: &SyncReport) -> String {
    let verb = if report.dry_run { "would be " } else { "" };
    let import = &report.import;
    let mut text = String::new();
    if report.database_created {
        text.push_str(&format!(
            "{} {verb}created from the archives\n",
            report.database.display()
        ));
    }
    text.push_str(&format!(
        "Archives -> database: {} rows {verb}inserted, {} already present\n",
        import.total_inserted(),
        import
            .entities
            .values()
            .map(|c| c.already_present)
            .sum::<u64>()
    ));
    for (entity, counts) in import.entities.iter().filter(|(_, c)| c.inserted > 0) {
        text.push_str(&format!("  {entity}: {}\n", counts.inserted));
    }
    for note in import
        .notes
        .iter()
        .filter(|n| n.reason.contains("differs from the database"))
    {
        text.push_str(&format!("  conflict (neither side changed): {note}\n"));
    }
    for failure in &import.failures {
        text.push_str(&format!("  failure: {failure}\n"));
    }
    text.push_str("Database -> archives:\n");
    text.push_str(&heal_text(&report.heal));
    match &report.validation {
        Some(v) if v.is_clean() => text.push_str("Validation: the two agree.\n"),
        Some(v) => {
            let total: u64 = v.problems_by_kind.values().sum();
            text.push_str(&format!(
                "Validation: {total} problems remain (see validate-archives):\n"
            ));
            for (kind, n) in &v.problems_by_kind {
                text.push_str(&format!("  {kind:?}: {n}\n"));
            }
        }
        None => {}
    }
    text
}

/// `sync-archives`: asks first unless `--dry-run` or `--yes`; exit 1 when an archive record
/// could not be imported.
pub fn run_sync_archives(context: &Context, args: SyncArchivesArgs) -> Result<Outcome, CliError> {
    let options = SyncOptions {
        dry_run: args.dry_run,
        time_zone: args.time_zone,
        ledgers: args.ledgers.into(),
        ..SyncOptions::default()
    };
    if !args.dry_run {
        context.confirm(&format!(
            "This will import into {} what only {} holds, and write into {} what only the database holds (run with --dry-run to see it first). Continue?",
            context.db.display(),
            context.archives.display(),
            context.archives.display()
        ))?;
    }
    let bar = context.progress();
    let report = sync_archives(&context.archives, &context.db, &options, &bar);
    bar.finish();
    let report = report?;
    let failed = report.import.has_failures();
    Ok(Outcome::new(&report, sync_text(&report))?.with_failures(failed))
}

fn validate_text(report: &ValidateReport) -> String {
    let mut text = String::new();
    for p in &report.problems {
        let place = match (&p.file, p.line) {
            (Some(file), Some(line)) => format!("{file}:{line}"),
            (Some(file), None) => file.clone(),
            (None, _) => "(database)".to_owned(),
        };
        let record = if p.record.is_empty() {
            String::new()
        } else {
            format!(" [{}]", p.record)
        };
        text.push_str(&format!("{place}: {:?}{record}: {}\n", p.kind, p.detail));
    }
    let c = &report.counts;
    text.push_str(&format!(
        "{} prayers, {} prayer files, {} users, {} registration lines, {} ledger rows, \
         {} invite uses compared; {} files checked\n",
        c.prayers,
        c.prayer_files,
        c.users,
        c.registrations,
        c.ledger_rows,
        c.invite_uses,
        report.check.files_checked
    ));
    if report.is_clean() {
        text.push_str("No problems found.\n");
    } else {
        let total: u64 = report.problems_by_kind.values().sum();
        text.push_str(&format!(
            "{total} problems, {} of which heal-archives repairs:\n",
            report.healable_problems()
        ));
        for (kind, n) in &report.problems_by_kind {
            text.push_str(&format!("  {kind:?}: {n}\n"));
        }
    }
    for note in &report.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    text
}

/// `validate-archives`: exit 1 when a problem is found.
pub fn run_validate(context: &Context, args: ValidateArgs) -> Result<Outcome, CliError> {
    let options = ValidateOptions {
        time_zone: args.time_zone,
        ledgers: args.ledgers.into(),
        ..ValidateOptions::default()
    };
    let bar = context.progress();
    let report = validate_archives(&context.db, &context.archives, &options, &bar);
    bar.finish();
    let report = report?;
    let failed = !report.is_clean();
    Ok(Outcome::new(&report, validate_text(&report))?.with_failures(failed))
}
