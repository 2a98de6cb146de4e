//! The relationships of a database that name a user who is not there, counted, read-only
//! (ThyWill's `CompleteSystemRecovery.validate_recovery_integrity`, run after a recovery).
//!
//! A table the database lacks has nothing to count (0). `reconstruct-from-archives`
//! repairs what these counts find.

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::Serialize;

use super::heal::{open_database, table_exists};
use crate::Result;

/// The result of [`relationship_integrity`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegrityReport {
    /// The database.
    pub database: PathBuf,
    /// Prayers whose `author_username` is no user's `display_name`.
    pub prayers_without_author: u64,
    /// Users whose `invited_by_username` is set and is no user's `display_name`.
    pub users_with_missing_inviter: u64,
    /// `user_roles` grants whose `user_id` is no user's `display_name`.
    pub role_grants_without_user: u64,
}

impl IntegrityReport {
    /// No relationship names a missing user.
    pub fn is_clean(&self) -> bool {
        self.prayers_without_author == 0
            && self.users_with_missing_inviter == 0
            && self.role_grants_without_user == 0
    }
}

/// Counts the rows of the database at `db_path` that name a user it does not have (see
/// the module documentation). Reads only.
pub fn relationship_integrity(db_path: impl AsRef<Path>) -> Result<IntegrityReport> {
    let db_path = db_path.as_ref();
    crate::audit::recorded(
        db_path,
        "recovery.relationship_integrity",
        crate::audit::arguments([("database", serde_json::json!(db_path))]),
        |report: &IntegrityReport| {
            serde_json::json!({
                "prayers_without_author": report.prayers_without_author,
                "users_with_missing_inviter": report.users_with_missing_inviter,
                "role_grants_without_user": report.role_grants_without_user,
            })
        },
        || {
            let db = open_database(db_path, true)?;
            let conn = db.connection();
            // One read transaction: the three counts see one state of a live database.
            conn.execute_batch("BEGIN")?;
            let counts = counts(conn);
            let _ = conn.execute_batch("COMMIT");
            let (prayers, users, grants) = counts?;
            Ok(IntegrityReport {
                database: db_path.to_path_buf(),
                prayers_without_author: prayers,
                users_with_missing_inviter: users,
                role_grants_without_user: grants,
            })
        },
    )
}

/// No user has this name: ThyWill's own test, so the counts are its counts (a NULL name is
/// not counted).
const NO_SUCH_USER: &str = "NOT IN (SELECT display_name FROM user WHERE display_name IS NOT NULL)";

fn counts(conn: &Connection) -> Result<(u64, u64, u64)> {
    if !table_exists(conn, "user")? {
        // ThyWill's queries fail without the table and it counts nothing.
        return Ok((0, 0, 0));
    }
    let count = |table: &str, sql: String| -> Result<u64> {
        if !table_exists(conn, table)? {
            return Ok(0);
        }
        let n: i64 = conn.query_row(&sql, [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    };
    Ok((
        count(
            "prayer",
            format!("SELECT count(*) FROM prayer WHERE author_username {NO_SUCH_USER}"),
        )?,
        count(
            "user",
            format!(
                "SELECT count(*) FROM user WHERE invited_by_username IS NOT NULL \
                 AND invited_by_username {NO_SUCH_USER}"
            ),
        )?,
        count(
            "user_roles",
            format!("SELECT count(*) FROM user_roles WHERE user_id {NO_SUCH_USER}"),
        )?,
    ))
}
