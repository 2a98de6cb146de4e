//! Bringing an old backup up to the current ThyWill schema (`restore-safe`): the tables,
//! columns and indexes of `create_all` ([`crate::db::schema::SCHEMA_OBJECTS`]) that it lacks.
//! Extra tables and columns are left alone, as ThyWill tolerates them.

use rusqlite::Connection;
use serde::Serialize;

use crate::db::schema::{CORE_TABLES, SCHEMA_OBJECTS};
use crate::{Error, Result};

/// Tables whose absence means the file is not a ThyWill database.
pub(crate) fn required_tables() -> &'static [&'static str] {
    CORE_TABLES
}

/// One schema change made (or planned) by `restore-safe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum SchemaChange {
    /// A whole table was missing.
    CreateTable {
        /// The table.
        table: String,
    },
    /// A column was missing from an existing table.
    AddColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The statement run, including the default given to existing rows.
        sql: String,
    },
    /// An index was missing.
    CreateIndex {
        /// The index.
        index: String,
    },
}

/// What `restore-safe` changed (or, in a dry run, would change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SchemaUpgradeReport {
    /// The changes, in the order applied.
    pub changes: Vec<SchemaChange>,
    /// True when the changes were only planned.
    pub planned_only: bool,
}

/// A column as `PRAGMA table_info` describes it.
struct Column {
    name: String,
    declared_type: String,
    not_null: bool,
}

fn columns(conn: &Connection, table: &str) -> Result<Vec<Column>> {
    let mut stmt = conn.prepare("SELECT name, type, \"notnull\" FROM pragma_table_info(?1)")?;
    let rows = stmt.query_map([table], |r| {
        Ok(Column {
            name: r.get(0)?,
            declared_type: r.get(1)?,
            not_null: r.get::<_, i64>(2)? != 0,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn object_exists(conn: &Connection, kind: &str, name: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = ?1 AND name = ?2)",
        [kind, name],
        |r| r.get(0),
    )?)
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The value existing rows get for a NOT NULL column SQLite can only add with a default:
/// ThyWill's client-side default where the model has one, else the type's zero.
fn default_for(table: &str, column: &Column) -> &'static str {
    match (table, column.name.as_str()) {
        ("prayer", "safety_score") => "1.0",
        ("prayer", "safety_flags") | ("role", "permissions") => "'[]'",
        ("prayer", "categorization_method") => "'default'",
        ("prayer", "specificity_type") => "'unknown'",
        ("prayer", "subject_category") => "'general'",
        ("session", "is_fully_authenticated") => "1",
        ("authenticationrequest", "status") => "'pending'",
        ("invitetoken", "token_type") => "'new_user'",
        ("notification_state", "notification_type") => "'auth_request'",
        ("membership_application", "status") => "'pending'",
        _ => {
            let t = column.declared_type.to_ascii_uppercase();
            if t.contains("BOOL") || t.contains("INT") {
                "0"
            } else if t.contains("FLOAT") || t.contains("REAL") || t.contains("DOUBLE") {
                "0.0"
            } else if t.contains("DATE") || t.contains("TIME") {
                "'1970-01-01 00:00:00.000000'"
            } else {
                "''"
            }
        }
    }
}

/// Brings `conn`'s schema up to [`SCHEMA_OBJECTS`] in one transaction, or with `plan_only`
/// just reports what it would do. Refuses ThyWill's legacy migration-001 shape.
pub(crate) fn upgrade_schema(conn: &Connection, plan_only: bool) -> Result<SchemaUpgradeReport> {
    if object_exists(conn, "table", "user")? {
        let user = columns(conn, "user")?;
        let has = |c: &str| user.iter().any(|col| col.name == c);
        if !has("display_name") || has("id") {
            return Err(Error::InvalidInput(
                "the backup has ThyWill's legacy schema (user.id as key); restore-safe only upgrades create_all databases".into(),
            ));
        }
    }
    let reference = Connection::open_in_memory()?;
    for (_, _, sql) in SCHEMA_OBJECTS {
        reference.execute_batch(sql)?;
    }

    let mut changes = Vec::new();
    let mut statements = Vec::new();
    for (kind, name, sql) in SCHEMA_OBJECTS {
        match *kind {
            "table" if !object_exists(conn, "table", name)? => {
                changes.push(SchemaChange::CreateTable {
                    table: name.to_string(),
                });
                statements.push(sql.to_string());
            }
            "table" => {
                let present = columns(conn, name)?;
                for column in columns(&reference, name)? {
                    if present
                        .iter()
                        .any(|p| p.name.eq_ignore_ascii_case(&column.name))
                    {
                        continue;
                    }
                    let mut sql = format!(
                        "ALTER TABLE {} ADD COLUMN {} {}",
                        quote(name),
                        quote(&column.name),
                        column.declared_type
                    );
                    if column.not_null {
                        sql.push_str(&format!(" NOT NULL DEFAULT {}", default_for(name, &column)));
                    }
                    changes.push(SchemaChange::AddColumn {
                        table: name.to_string(),
                        column: column.name.clone(),
                        sql: sql.clone(),
                    });
                    statements.push(sql);
                }
            }
            "index" if !object_exists(conn, "index", name)? => {
                changes.push(SchemaChange::CreateIndex {
                    index: name.to_string(),
                });
                statements.push(sql.to_string());
            }
            _ => {}
        }
    }
    if !plan_only && !statements.is_empty() {
        // ThyWill never enables foreign keys (orphans are legal); the bundled SQLite does.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let applied = statements
            .iter()
            .try_for_each(|sql| conn.execute_batch(sql));
        match applied {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e.into());
            }
        }
    }
    Ok(SchemaUpgradeReport {
        changes,
        planned_only: plan_only,
    })
}
