//! `sync-users`: the registration lines of heal alone. A user is in the archive when a
//! monthly `users/YYYY_MM_users.txt` file holds a line naming them (found by parsing the
//! files, not by the stored `text_file_path`); the missing lines are appended with the
//! archive writer, and `user.text_file_path` is set to the file holding the line.

use std::path::Path;

use super::heal::{self, HealOptions, HealReport, Scope};
use crate::progress::Progress;
use crate::Result;

/// Appends the missing registration lines of the users of the database at `db_path` to
/// the archive at `archive_root`. The report's prayer and ledger counts stay zero;
/// `options.ledgers` is not used.
pub fn sync_users(
    db_path: impl AsRef<Path>,
    archive_root: impl AsRef<Path>,
    options: &HealOptions,
    progress: &dyn Progress,
) -> Result<HealReport> {
    crate::audit::recorded(
        db_path.as_ref(),
        "recovery.sync_users",
        crate::audit::arguments([
            ("database", serde_json::json!(db_path.as_ref())),
            ("archive_root", serde_json::json!(archive_root.as_ref())),
            ("options", serde_json::json!(options)),
        ]),
        |report: &HealReport| serde_json::json!({"dry_run": report.dry_run, "changes": report.changes.len()}),
        || sync_users_unrecorded(db_path.as_ref(), archive_root.as_ref(), options, progress),
    )
}

fn sync_users_unrecorded(
    db_path: impl AsRef<Path>,
    archive_root: impl AsRef<Path>,
    options: &HealOptions,
    progress: &dyn Progress,
) -> Result<HealReport> {
    heal::run(
        db_path.as_ref(),
        archive_root.as_ref(),
        options,
        Scope::Registrations,
        None,
        progress,
    )
}
