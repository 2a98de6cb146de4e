//! The phases of a text-archive import run one at a time, as ThyWill's
//! `CompleteSystemRecovery` runs its `_recover_*` steps: the names, the rules between them,
//! and [`import_text_archive_phases`], which runs some of them and reports ThyWill's
//! `recovery_stats` counters beside the import report.
//!
//! The rules ([`Phase::prerequisites`]) say which phases must have run before another:
//! marks need their prayers, notifications and audit entries the requests they name, and so
//! on. A selection is checked before anything is written: each prerequisite of a selected
//! phase must be selected too, or have left its rows in the database already, or have
//! nothing to import in this archive. Otherwise the import is refused (an invalid-input
//! error naming the phase and what it needs) rather than half done: rows imported without
//! what they point at would be rows ThyWill's app could not show.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;
use serde::Serialize;

use super::{Phase, TextArchiveOptions, TextArchivePlan};
use crate::import::report::ImportReport;
use crate::import::source::ArchiveSource;
use crate::progress::Progress;
use crate::{Error, Result};

impl Phase {
    /// The phase named `name` (as [`Phase::name`] gives it), if there is one.
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The phases that must have run before this one, and why.
    ///
    /// | phase | needs | why |
    /// |---|---|---|
    /// | `users` | — | |
    /// | `user_attributes` | `users` | the flags are set on existing users |
    /// | `prayers` | `users` | an author the registrations name keeps their registration |
    /// | `ledgers` | `prayers` | marks, skips and attributes name their prayer |
    /// | `roles` | `users` | grants name their user |
    /// | `invites` | `roles` | a system-token claim grants the `admin` role |
    /// | `sessions` | `invites` | a claim's address comes from its session |
    /// | `auth` | `users` | requests and approvals name their users |
    /// | `security_events` | `users` | events name their user |
    /// | `notifications` | `auth` | a notification names its request |
    /// | `auth_audit_logs` | `auth` | an audit entry names its request |
    /// | `membership_applications` | — | applicants are not users yet |
    ///
    /// Only the direct prerequisites are listed; [`Phase::requires`] gives them all.
    pub fn prerequisites(self) -> &'static [Phase] {
        match self {
            Phase::Users | Phase::MembershipApplications => &[],
            Phase::UserAttributes
            | Phase::Prayers
            | Phase::Roles
            | Phase::Auth
            | Phase::SecurityEvents => &[Phase::Users],
            Phase::Ledgers => &[Phase::Prayers],
            Phase::Invites => &[Phase::Roles],
            Phase::Sessions => &[Phase::Invites],
            Phase::Notifications | Phase::AuthAuditLogs => &[Phase::Auth],
        }
    }

    /// Every phase this one needs, directly or through another, in run order.
    pub fn requires(self) -> Vec<Phase> {
        let mut out: Vec<Phase> = Vec::new();
        let mut stack: Vec<Phase> = self.prerequisites().to_vec();
        while let Some(p) = stack.pop() {
            if !out.contains(&p) {
                out.push(p);
                stack.extend_from_slice(p.prerequisites());
            }
        }
        out.sort();
        out
    }

    /// The table whose rows show that the phase has run against a database.
    fn evidence_table(self) -> &'static str {
        match self {
            Phase::Users | Phase::UserAttributes => "user",
            Phase::Prayers => "prayer",
            Phase::Ledgers => "prayermark",
            Phase::Roles => "role",
            Phase::Invites => "invitetoken",
            Phase::Sessions => "session",
            Phase::Auth => "authenticationrequest",
            Phase::SecurityEvents => "securitylog",
            Phase::Notifications => "notification_state",
            Phase::AuthAuditLogs => "authauditlog",
            Phase::MembershipApplications => "membership_application",
        }
    }
}

/// The names of the phases of a text-archive import, in the order they run: the values
/// [`Phase::from_name`] reads, the CLI's `--phase` takes and the C options' `phases` list
/// holds.
pub fn phase_names() -> Vec<&'static str> {
    Phase::ALL.iter().map(|p| p.name()).collect()
}

/// The phases named, in run order, without repeats; an unknown name is invalid input.
pub fn phases_named<S: AsRef<str>>(names: &[S]) -> Result<Vec<Phase>> {
    let mut phases = Vec::with_capacity(names.len());
    for name in names {
        let name = name.as_ref();
        let phase = Phase::from_name(name).ok_or_else(|| {
            Error::InvalidInput(format!(
                "unknown import phase {name:?}; the phases are {}",
                phase_names().join(", ")
            ))
        })?;
        phases.push(phase);
    }
    phases.sort();
    phases.dedup();
    Ok(phases)
}

impl TextArchivePlan {
    /// Whether this archive holds anything for `phase` to import.
    fn has_work_for(&self, phase: Phase) -> bool {
        match phase {
            Phase::Prayers => self.prayer_file_count() > 0,
            _ => !self.files_of(phase).is_empty(),
        }
    }

    /// Refuses a selection of phases whose prerequisites are neither selected, nor in the
    /// database already, nor without work in this archive ([`Phase::prerequisites`]).
    pub(super) fn check_prerequisites(&self, conn: &Connection, selected: &[Phase]) -> Result<()> {
        for phase in selected {
            for needed in phase.prerequisites() {
                if selected.contains(needed) || !self.has_work_for(*needed) {
                    continue;
                }
                let present: bool = conn.query_row(
                    &format!(
                        "SELECT EXISTS(SELECT 1 FROM \"{}\")",
                        needed.evidence_table()
                    ),
                    [],
                    |r| r.get(0),
                )?;
                if !present {
                    return Err(Error::InvalidInput(format!(
                        "the {} phase needs the {} phase first (the database has no {} rows and the archive has some to import): run it before, or with, {}",
                        phase.name(),
                        needed.name(),
                        needed.evidence_table(),
                        phase.name()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The result of [`import_text_archive_phases`].
#[derive(Debug, Clone, Serialize)]
pub struct PhaseImportReport {
    /// The phases run, in run order (by name).
    pub phases: Vec<Phase>,
    /// The import report of those phases.
    pub import: ImportReport,
    /// ThyWill's `recovery_stats` counters of the run ([`crate::recovery::recovery_stats`]):
    /// the counters of phases not run are 0.
    pub recovery_stats: BTreeMap<String, u64>,
}

/// Runs the named phases of a text-archive import of `source` (a folder or a ZIP) into the
/// database at `db_path`, in run order whatever the order given, each in its own
/// transaction, as [`super::import_text_archives`] runs them all; an empty list runs every
/// phase. Refused (invalid input, nothing written) when a
/// selected phase needs one that is neither selected nor already in the database
/// ([`Phase::prerequisites`]). A dry run works the same and rolls back; a second run
/// inserts nothing.
pub fn import_text_archive_phases(
    source: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    phases: &[Phase],
    options: &TextArchiveOptions,
    progress: &dyn Progress,
) -> Result<PhaseImportReport> {
    let (source, db_path) = (source.as_ref(), db_path.as_ref());
    crate::audit::recorded(
        db_path,
        "import.text_archive_phases",
        crate::audit::arguments([
            ("source", serde_json::json!(source)),
            ("database", serde_json::json!(db_path)),
            ("phases", serde_json::json!(phases)),
            ("options", serde_json::json!(options)),
        ]),
        |report: &PhaseImportReport| crate::import::report::import_audit_counts(&report.import),
        || import_text_archive_phases_unrecorded(source, db_path, phases, options, progress),
    )
}

fn import_text_archive_phases_unrecorded(
    source: impl AsRef<Path>,
    db_path: impl AsRef<Path>,
    phases: &[Phase],
    options: &TextArchiveOptions,
    progress: &dyn Progress,
) -> Result<PhaseImportReport> {
    let mut selected = phases.to_vec();
    selected.sort();
    selected.dedup();
    let source = ArchiveSource::open_with_limits(source, &options.zip_limits)?;
    let plan = TextArchivePlan::scan(source.root(), source.given())?;
    let import = plan.apply_phases(db_path, &selected, options, progress)?;
    Ok(PhaseImportReport {
        phases: if selected.is_empty() {
            Phase::ALL.to_vec()
        } else {
            selected
        },
        recovery_stats: crate::recovery::recovery_stats(&import),
        import,
    })
}
