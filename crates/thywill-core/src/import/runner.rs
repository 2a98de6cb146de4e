//! Transaction discipline shared by every import: one `BEGIN IMMEDIATE` transaction
//! per phase in a real run; in a dry run one outer transaction with a savepoint per
//! phase, rolled back at the end, so later phases see earlier phases' rows exactly as
//! in a real run.

use rusqlite::Connection;

use crate::db::{schema, IdGenerator};
use crate::Result;

pub(crate) struct PhaseRunner<'c> {
    conn: &'c Connection,
    dry_run: bool,
    open: bool,
}

impl<'c> PhaseRunner<'c> {
    pub(crate) fn begin(conn: &'c Connection, dry_run: bool) -> Result<Self> {
        if dry_run {
            conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        Ok(PhaseRunner {
            conn,
            dry_run,
            open: dry_run,
        })
    }

    /// Runs one phase atomically.
    pub(crate) fn phase<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let (begin, commit, rollback) = if self.dry_run {
            (
                "SAVEPOINT import_phase",
                "RELEASE import_phase",
                "ROLLBACK TO import_phase; RELEASE import_phase",
            )
        } else {
            ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
        };
        self.conn.execute_batch(begin)?;
        match work(self.conn) {
            Ok(value) => match self.conn.execute_batch(commit) {
                Ok(()) => Ok(value),
                Err(e) => {
                    let _ = self.conn.execute_batch(rollback);
                    Err(e.into())
                }
            },
            Err(e) => {
                let _ = self.conn.execute_batch(rollback);
                Err(e)
            }
        }
    }

    /// Ends the run: a dry run is rolled back here.
    pub(crate) fn finish(mut self) -> Result<()> {
        if self.open {
            self.open = false;
            self.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }
}

impl Drop for PhaseRunner<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Creates the missing part of ThyWill's schema (inside the caller's transaction, so a
/// dry run leaves no table behind) and the default roles when `role` is new.
pub(crate) fn ensure_schema(conn: &Connection, ids: &IdGenerator) -> Result<Vec<String>> {
    let created = schema::create_missing_objects(conn)?;
    if created.iter().any(|name| name == "role") {
        schema::insert_default_roles(conn, ids, &chrono::Utc::now().naive_utc())?;
    }
    Ok(created)
}

/// Indexes the import's lookups need. ThyWill's create_all schema has none on these
/// columns, which made its importer quadratic; the schema may carry more indexes under
/// names of our own (`IF NOT EXISTS`), which the Python app ignores.
pub(crate) fn ensure_lookup_indexes(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS thywill_core_prayermark_prayer ON prayermark(prayer_id);
         CREATE INDEX IF NOT EXISTS thywill_core_prayerskip_prayer ON prayerskip(prayer_id);
         CREATE INDEX IF NOT EXISTS thywill_core_prayer_attributes_prayer ON prayer_attributes(prayer_id);
         CREATE INDEX IF NOT EXISTS thywill_core_prayer_activity_log_prayer ON prayer_activity_log(prayer_id);
         CREATE INDEX IF NOT EXISTS thywill_core_prayer_author ON prayer(author_username);",
    )?;
    Ok(())
}

/// The lookup indexes on the small activity tables (skips, attributes), which the
/// ledgers phase queries whatever it remembers of the prayers phase.
pub(crate) fn ensure_small_lookup_indexes(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS thywill_core_prayerskip_prayer ON prayerskip(prayer_id);
         CREATE INDEX IF NOT EXISTS thywill_core_prayer_attributes_prayer ON prayer_attributes(prayer_id);",
    )?;
    Ok(())
}
