//! Two ThyWill databases compared table by table, on the fields the text archives carry.
//!
//! Each table of the schema has a [`TableSpec`]: the fields a rebuild from the archives can
//! bring back (timestamps to the minute where the archive keeps only minutes, generated ids
//! left out, rows that point at another table compared through what identifies that row in
//! the text) and the documented list of what the text cannot carry, with the reason. Rows
//! are compared as multisets of those fields: N identical rows on one side need N on the
//! other.
//!
//! Memory stays flat whatever the size: each side is read in one sorted query (SQLite
//! sorts, spilling to its temp files) and the two streams are walked side by side.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::{Error, Result};

/// Differences listed per table; beyond, only counted
/// ([`TableComparison::differences_total`]).
pub const MAX_DIFFERENCES_PER_TABLE: usize = 25;

/// Something of a table the text archives cannot bring back, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NotCarried {
    /// A column, a part of one (`created_at seconds`), or `rows` for the whole table.
    pub what: &'static str,
    /// Why the archives cannot carry it, and what a rebuild puts there instead.
    pub reason: &'static str,
}

/// How one table is compared: its carried fields and what the text cannot carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TableSpec {
    /// The table.
    pub table: &'static str,
    /// The fields compared, as `(name, SQL expression over the FROM clause)`.
    pub fields: &'static [(&'static str, &'static str)],
    /// The FROM clause (the table, or the table joined to the rows it names).
    #[serde(skip)]
    pub from: &'static str,
    /// What of the table the archives cannot carry.
    pub not_carried: &'static [NotCarried],
}

impl TableSpec {
    /// True when the archives carry none of the table's rows.
    pub fn whole_table_not_carried(&self) -> bool {
        self.not_carried.iter().any(|n| n.what == ROWS)
    }
}

/// [`NotCarried::what`] of a table whose rows the archives do not hold at all.
pub const ROWS: &str = "rows";

/// [`NotCarried::what`] of a table whose rows only an export-all file carries.
pub const ROWS_WITHOUT_EXPORT: &str = "rows without an export-all file";

const SECONDS: &str =
    "ThyWill's archive lines keep the minute; seconds and microseconds come back as 0";
const NEW_ID: &str =
    "the archive lines hold no id; a rebuild gives each row a new random id of ThyWill's shape";

/// Every table of ThyWill's schema (`db::schema`), in its order, with how it is compared.
pub static TABLES: &[TableSpec] = &[
    TableSpec {
        table: "user",
        fields: &[
            ("display_name", "display_name"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
            ("invited_by_username", "invited_by_username"),
            ("invite_token_used", "invite_token_used"),
            ("is_supporter", "is_supporter"),
            ("supporter_since", "substr(supporter_since, 1, 10)"),
            ("supporter_type", "supporter_type"),
            ("welcome_message_dismissed", "welcome_message_dismissed"),
        ],
        from: "user",
        not_carried: &[
            NotCarried { what: "created_at seconds", reason: SECONDS },
            NotCarried { what: "supporter_since time of day", reason: "users/user_attributes.txt keeps the date only" },
            NotCarried { what: "is_supporter, supporter_since, supporter_type, welcome_message_dismissed without users/user_attributes.txt", reason: "the flags are only in that file (written by ThyWill's export); without it a rebuild writes the defaults (not a supporter, welcome not dismissed)" },
            NotCarried { what: "text_file_path", reason: "ThyWill's registration writer does not set it on the row; a rebuild names the monthly users file" },
        ],
    },
    TableSpec {
        table: "prayer",
        fields: &[
            ("id", "id"),
            ("author_username", "author_username"),
            ("text", "text"),
            ("generated_prayer", "generated_prayer"),
            ("project_tag", "project_tag"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
            ("text_file_path", "text_file_path"),
        ],
        from: "prayer",
        not_carried: &[
            NotCarried { what: "created_at seconds", reason: SECONDS },
            NotCarried { what: "flagged", reason: "the moderation column is not in the prayer file (a flag shows only as a `flagged` attribute); a rebuild writes 0" },
            NotCarried { what: "safety_score, safety_flags, categorization_method, specificity_type, specificity_confidence, subject_category", reason: "only files with a categorization block carry them; otherwise ThyWill's defaults (1.0, [], default_fallback, unknown, 0.0, general)" },
        ],
    },
    TableSpec {
        table: "prayerskip",
        fields: &[
            ("prayer_id", "prayer_id"),
            ("user_id", "user_id"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
        ],
        from: "prayerskip",
        not_carried: &[
            NotCarried { what: "id", reason: NEW_ID },
            NotCarried { what: "created_at seconds", reason: SECONDS },
            NotCarried { what: "rows without a skips ledger", reason: "skips are written only to the monthly prayers/skips/ ledger (ThyWill's full ledger mode); an archive without it brings no skip back" },
        ],
    },
    TableSpec {
        table: "authenticationrequest",
        fields: &[
            ("user_id", "user_id"),
            ("device_info", "replace(device_info, '|', '_')"),
            ("ip_address", "ip_address"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
            ("expires_at", "substr(replace(expires_at, 'T', ' '), 1, 16)"),
        ],
        from: "authenticationrequest",
        not_carried: &[
            NotCarried { what: "id", reason: "the auth request lines hold no id; a rebuild gives a new one, so the archived request id of approvals, audit entries and notifications names no rebuilt request" },
            NotCarried { what: "verification_code", reason: "never archived (a secret); NULL" },
            NotCarried { what: "status, approved_by_user_id, approved_at", reason: "the request line is written once, at creation; the status stays the one written then (pending), the approver and time NULL" },
            NotCarried { what: "`|` in device_info", reason: "the auth writer replaces it with `_`" },
            NotCarried { what: "created_at, expires_at seconds", reason: SECONDS },
        ],
    },
    TableSpec {
        table: "authapproval",
        fields: &[
            ("auth_request_id", "auth_request_id"),
            ("approver_user_id", "approver_user_id"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
        ],
        from: "authapproval",
        not_carried: &[
            NotCarried { what: "id", reason: NEW_ID },
            NotCarried { what: "created_at seconds", reason: SECONDS },
        ],
    },
    TableSpec {
        table: "authauditlog",
        fields: &[
            ("auth_request_id", "auth_request_id"),
            ("action", "action"),
            ("actor_user_id", "actor_user_id"),
            ("actor_type", "actor_type"),
            ("details", "details"),
            ("ip_address", "ip_address"),
            ("user_agent", "user_agent"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
        ],
        from: "authauditlog",
        not_carried: &[
            NotCarried { what: ROWS_WITHOUT_EXPORT, reason: "ThyWill has no live writer for the audit log: only an export-all `authentication/auth_audit_logs.txt` carries it" },
            NotCarried { what: "id", reason: NEW_ID },
            NotCarried { what: "created_at seconds", reason: SECONDS },
        ],
    },
    TableSpec {
        table: "securitylog",
        fields: &[
            ("event_type", "event_type"),
            ("user_id", "user_id"),
            ("ip_address", "ip_address"),
            ("user_agent", "user_agent"),
            ("details", "details"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
        ],
        from: "securitylog",
        not_carried: &[
            NotCarried { what: "events whose user agent or details were None", reason: "ThyWill's writer fails on them after the header (rate_limit events), so they never reach the file" },
            NotCarried { what: "id", reason: NEW_ID },
            NotCarried { what: "created_at seconds", reason: SECONDS },
        ],
    },
    TableSpec {
        table: "session",
        fields: &[
            ("id", "id"),
            ("username", "username"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
            ("expires_at", "substr(replace(expires_at, 'T', ' '), 1, 16)"),
            ("device_info", "replace(device_info, '|', '_')"),
            ("ip_address", "ip_address"),
            ("is_fully_authenticated", "is_fully_authenticated"),
        ],
        from: "session",
        not_carried: &[
            NotCarried { what: "auth_request_id", reason: "the sessions file has no request column; NULL" },
            NotCarried { what: "`|` in device_info", reason: "the sessions writer replaces it with `_`" },
            NotCarried { what: "created_at, expires_at seconds", reason: SECONDS },
        ],
    },
    TableSpec {
        table: "invitetoken",
        fields: &[
            ("token", "token"),
            ("created_by_user", "created_by_user"),
            ("usage_count", "usage_count"),
            ("max_uses", "max_uses"),
            ("used_by_user_id", "used_by_user_id"),
        ],
        from: "invitetoken",
        not_carried: &[
            NotCarried { what: "expires_at", reason: "system and multi-device tokens are archived only when claimed: a rebuild sets claim time + 12 h; other tokens' expiry comes back to the minute" },
            NotCarried { what: "token_type", reason: "not written; inferred (admin for system tokens, multi_device for self-used ones, else new_user; ThyWill's user_login tokens come back as new_user)" },
        ],
    },
    TableSpec {
        table: "changelogentry",
        fields: &[("commit_id", "commit_id")],
        from: "changelogentry",
        not_carried: &[NotCarried {
            what: ROWS,
            reason: "only an export-all `system/changelog_entries.txt` carries the changelog; ThyWill's live archives never do",
        }],
    },
    TableSpec {
        table: "membership_application",
        fields: &[
            ("id", "id"),
            ("username", "username"),
            ("essay", "essay"),
            ("contact_info", "contact_info"),
            ("status", "status"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
        ],
        from: "membership_application",
        not_carried: &[
            NotCarried { what: "a rejection's reason", reason: "no column holds it" },
            NotCarried { what: "created_at seconds", reason: SECONDS },
        ],
    },
    TableSpec {
        table: "role",
        fields: &[
            ("name", "name"),
            ("description", "description"),
            ("permissions", "permissions"),
            ("created_by", "created_by"),
            ("is_system_role", "is_system_role"),
        ],
        from: "role",
        not_carried: &[
            NotCarried { what: "id", reason: "role_definitions.txt holds no id; new ids (grants follow them by name)" },
            NotCarried { what: "created_at", reason: "not in role_definitions.txt; the import time" },
        ],
    },
    TableSpec {
        table: "prayer_attributes",
        fields: &[
            ("prayer_id", "prayer_id"),
            ("created_by", "created_by"),
            ("attribute_name", "attribute_name"),
            ("attribute_value", "CASE WHEN attribute_name = 'answer_date' THEN substr(replace(attribute_value, 'T', ' '), 1, 16) ELSE attribute_value END"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
        ],
        from: "prayer_attributes",
        not_carried: &[
            NotCarried { what: "id", reason: NEW_ID },
            NotCarried { what: "created_at seconds; answer_date value seconds", reason: SECONDS },
            NotCarried { what: "text_file_path", reason: "ThyWill fills it inconsistently (set by some writers, not others); a rebuild names the prayer's file" },
        ],
    },
    TableSpec {
        table: "prayermark",
        fields: &[
            ("prayer_id", "prayer_id"),
            ("username", "username"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
            ("text_file_path", "text_file_path"),
        ],
        from: "prayermark",
        not_carried: &[
            NotCarried { what: "id", reason: NEW_ID },
            NotCarried { what: "created_at seconds", reason: SECONDS },
        ],
    },
    TableSpec {
        table: "notification_state",
        fields: &[
            ("user_id", "user_id"),
            ("auth_request_id", "auth_request_id"),
            ("notification_type", "notification_type"),
            ("is_read", "is_read"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
        ],
        from: "notification_state",
        not_carried: &[
            NotCarried { what: ROWS_WITHOUT_EXPORT, reason: "ThyWill's notification writer has no caller, so `auth/notifications/` stays empty: only an export-all `users/notification_states.txt` carries them" },
            NotCarried { what: "id", reason: NEW_ID },
            NotCarried { what: "read_at", reason: "the notification lines record the read as an event; its time is compared only through is_read" },
            NotCarried { what: "created_at seconds", reason: SECONDS },
        ],
    },
    TableSpec {
        table: "prayer_activity_log",
        fields: &[
            ("prayer_id", "prayer_id"),
            ("user_id", "user_id"),
            ("action", "action"),
            ("old_value", "CASE WHEN action = 'set_answer_date' THEN substr(replace(old_value, 'T', ' '), 1, 16) ELSE old_value END"),
            ("new_value", "CASE WHEN action = 'set_answer_date' THEN substr(replace(new_value, 'T', ' '), 1, 16) ELSE new_value END"),
            ("created_at", "substr(replace(created_at, 'T', ' '), 1, 16)"),
        ],
        from: "prayer_activity_log",
        not_carried: &[
            NotCarried { what: "id", reason: NEW_ID },
            NotCarried { what: "created_at seconds; answer_date values' seconds", reason: SECONDS },
            NotCarried { what: "text_file_path", reason: "ThyWill fills it inconsistently; a rebuild names the prayer's file" },
        ],
    },
    TableSpec {
        table: "invite_token_usage",
        fields: &[
            ("invite_token_id", "invite_token_id"),
            ("user_id", "user_id"),
            ("claimed_at", "substr(replace(claimed_at, 'T', ' '), 1, 16)"),
        ],
        from: "invite_token_usage",
        not_carried: &[
            NotCarried { what: "id", reason: NEW_ID },
            NotCarried { what: "ip_address", reason: "the invite usage lines hold no address" },
            NotCarried { what: "claimed_at seconds", reason: SECONDS },
        ],
    },
    TableSpec {
        table: "user_roles",
        fields: &[
            ("user_id", "ur.user_id"),
            ("role", "r.name"),
            ("granted_by", "ur.granted_by"),
            ("granted_at", "substr(replace(ur.granted_at, 'T', ' '), 1, 16)"),
            ("expires_at", "substr(replace(ur.expires_at, 'T', ' '), 1, 16)"),
        ],
        from: "user_roles ur LEFT JOIN role r ON r.id = ur.role_id",
        not_carried: &[
            NotCarried { what: "grants made in the admin UI or by the role command (moderators)", reason: "only deactivation, reactivation and system-token claims are archived" },
            NotCarried { what: "id, role_id", reason: "new ids; the grant names its role by name" },
            NotCarried { what: "granted_at, expires_at seconds", reason: SECONDS },
        ],
    },
    TableSpec {
        table: "schema_migrations",
        fields: &[("migration_id", "migration_id")],
        from: "schema_migrations",
        not_carried: &[NotCarried {
            what: ROWS,
            reason: "ThyWill's migration bookkeeping, not community data: the app records its migrations again when it starts",
        }],
    },
];

/// The spec of `table`, if it is one of ThyWill's.
pub fn table_spec(table: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|s| s.table == table)
}

/// Which side a listed difference is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// In the live (old) database only: it would be lost.
    LiveOnly,
    /// In the rebuild (new) database only: it would be added.
    RebuiltOnly,
}

/// One row on one side without its counterpart on the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowDifference {
    /// Which side holds it.
    pub side: Side,
    /// The compared fields, in the order of [`TableComparison::fields`], as SQL literals
    /// (`'text'`, `NULL`, numbers).
    pub values: Vec<String>,
}

/// One table compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableComparison {
    /// The table.
    pub table: String,
    /// Rows in the live database.
    pub live_rows: u64,
    /// Rows the rebuild has.
    pub rebuilt_rows: u64,
    /// Live rows the rebuild has too (on the compared fields): they would come back.
    pub come_back: u64,
    /// Live rows the rebuild lacks: they would be lost.
    pub lost: u64,
    /// Rebuild rows the live database lacks: the rebuild adds them.
    pub added: u64,
    /// The fields compared.
    pub fields: Vec<&'static str>,
    /// What of this table the archives cannot carry, and why.
    pub not_carried: Vec<NotCarried>,
    /// The first differences (at most [`MAX_DIFFERENCES_PER_TABLE`]), live-only rows first.
    pub differences: Vec<RowDifference>,
    /// All differences (`lost + added`).
    pub differences_total: u64,
    /// Why a side could not be read (a missing table reads as empty and is not an error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TableComparison {
    /// True when both sides hold the same rows on the compared fields.
    pub fn is_equal(&self) -> bool {
        self.lost == 0 && self.added == 0 && self.error.is_none()
    }
}

/// Two databases compared table by table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// The live (old) database.
    pub live: PathBuf,
    /// The rebuild (new) database.
    pub rebuilt: PathBuf,
    /// Every table of [`TABLES`], in that order.
    pub tables: Vec<TableComparison>,
    /// Sum of [`TableComparison::come_back`].
    pub come_back: u64,
    /// Sum of [`TableComparison::lost`].
    pub lost: u64,
    /// Sum of [`TableComparison::added`].
    pub added: u64,
}

impl Comparison {
    /// The comparison of one table.
    pub fn table(&self, table: &str) -> Option<&TableComparison> {
        self.tables.iter().find(|t| t.table == table)
    }

    /// The tables whose rows differ.
    pub fn differing_tables(&self) -> Vec<&str> {
        self.tables
            .iter()
            .filter(|t| !t.is_equal())
            .map(|t| t.table.as_str())
            .collect()
    }
}

/// Compares the live database at `live` with the rebuild at `rebuilt`, each read as
/// [`open_live_read_only`] opens it (nothing on disk changes), in one read transaction.
pub fn compare_databases(live: &Path, rebuilt: &Path) -> Result<Comparison> {
    let live_conn = open_live_read_only(live)?;
    let rebuilt_conn = open_read_only(rebuilt)?;
    compare_connections(live_conn, live, rebuilt_conn, rebuilt)
}

/// [`compare_databases`] on open connections. Each side is read on its own thread, in one
/// read transaction (one snapshot: the app may commit meanwhile), and streamed in batches
/// to this one, which walks the two sorted streams side by side: the two sorts run at once.
pub(crate) fn compare_connections(
    live: Connection,
    live_path: &Path,
    rebuilt: Connection,
    rebuilt_path: &Path,
) -> Result<Comparison> {
    let tables = std::thread::scope(|scope| -> Result<Vec<TableComparison>> {
        let (live_tx, live_rx) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
        let (rebuilt_tx, rebuilt_rx) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
        scope.spawn(move || read_side(&live, &live_tx));
        scope.spawn(move || read_side(&rebuilt, &rebuilt_tx));
        let mut live = SideStream::new(live_rx, "live database");
        let mut rebuilt = SideStream::new(rebuilt_rx, "rebuilt database");
        // On an error the receivers go away with the streams, and the readers stop at
        // their next send.
        TABLES
            .iter()
            .map(|spec| compare_table(spec, &mut live, &mut rebuilt))
            .collect()
    })?;
    Ok(Comparison {
        live: live_path.to_path_buf(),
        rebuilt: rebuilt_path.to_path_buf(),
        come_back: tables.iter().map(|t| t.come_back).sum(),
        lost: tables.iter().map(|t| t.lost).sum(),
        added: tables.iter().map(|t| t.added).sum(),
        tables,
    })
}

/// Rows per batch a side reader sends.
const ROWS_PER_BATCH: usize = 512;
/// Batches a side reader may be ahead: memory stays bounded.
const BATCHES_IN_FLIGHT: usize = 8;

/// What a side reader sends, for each table of [`TABLES`] in order: `Start`, its rows in
/// sorted batches, `End`; or `Failed` and nothing more.
enum Message {
    /// The table's row count, or why it could not be queried (then no rows follow).
    Start(u64, Option<String>),
    Rows(Vec<Vec<String>>),
    End,
    Failed(Error),
}

/// Reads every table of one side, sorted, into `tx`. Stops when the receiver is gone.
fn read_side(conn: &Connection, tx: &std::sync::mpsc::SyncSender<Message>) {
    let outcome = (|| -> Result<()> {
        conn.execute_batch("BEGIN")?;
        for spec in TABLES {
            let rows = row_count(conn, spec.table)?;
            let mut stmt = match prepare_sorted(conn, spec, &sorted_query(spec)) {
                Ok(stmt) => stmt,
                Err(e) => {
                    if tx.send(Message::Start(rows, Some(e.to_string()))).is_err()
                        || tx.send(Message::End).is_err()
                    {
                        return Ok(());
                    }
                    continue;
                }
            };
            if tx.send(Message::Start(rows, None)).is_err() {
                return Ok(());
            }
            if let Some(stmt) = stmt.as_mut() {
                let width = spec.fields.len();
                let mut query = stmt.query([])?;
                let mut batch = Vec::with_capacity(ROWS_PER_BATCH);
                while let Some(row) = query.next()? {
                    let mut values = Vec::with_capacity(width);
                    for i in 0..width {
                        values.push(row.get::<_, String>(i)?);
                    }
                    batch.push(values);
                    if batch.len() == ROWS_PER_BATCH {
                        let full =
                            std::mem::replace(&mut batch, Vec::with_capacity(ROWS_PER_BATCH));
                        if tx.send(Message::Rows(full)).is_err() {
                            return Ok(());
                        }
                    }
                }
                if !batch.is_empty() && tx.send(Message::Rows(batch)).is_err() {
                    return Ok(());
                }
            }
            if tx.send(Message::End).is_err() {
                return Ok(());
            }
        }
        Ok(())
    })();
    let _ = conn.execute_batch("COMMIT");
    if let Err(e) = outcome {
        let _ = tx.send(Message::Failed(e));
    }
}

/// The receiving end of one side's reader: the rows of the current table, in order.
struct SideStream {
    rx: std::sync::mpsc::Receiver<Message>,
    side: &'static str,
    batch: std::vec::IntoIter<Vec<String>>,
    ended: bool,
}

impl SideStream {
    fn new(rx: std::sync::mpsc::Receiver<Message>, side: &'static str) -> SideStream {
        SideStream {
            rx,
            side,
            batch: Vec::new().into_iter(),
            ended: true,
        }
    }

    fn receive(&self) -> Result<Message> {
        match self.rx.recv() {
            Ok(Message::Failed(e)) => Err(e),
            Ok(message) => Ok(message),
            Err(_) => Err(Error::Internal(format!(
                "the reader of the {} stopped",
                self.side
            ))),
        }
    }

    /// The next table's row count and query error.
    fn start(&mut self) -> Result<(u64, Option<String>)> {
        match self.receive()? {
            Message::Start(rows, error) => {
                self.ended = false;
                self.batch = Vec::new().into_iter();
                Ok((rows, error))
            }
            _ => Err(Error::Internal(format!(
                "the reader of the {} is out of step",
                self.side
            ))),
        }
    }

    /// The next row of the current table.
    fn next(&mut self) -> Result<Option<Vec<String>>> {
        loop {
            if let Some(row) = self.batch.next() {
                return Ok(Some(row));
            }
            if self.ended {
                return Ok(None);
            }
            match self.receive()? {
                Message::Rows(batch) => self.batch = batch.into_iter(),
                Message::End => self.ended = true,
                _ => {
                    return Err(Error::Internal(format!(
                        "the reader of the {} is out of step",
                        self.side
                    )))
                }
            }
        }
    }

    /// Skips what is left of the current table.
    fn finish(&mut self) -> Result<()> {
        while self.next()?.is_some() {}
        Ok(())
    }
}

fn has_table(conn: &Connection, table: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [table],
        |r| r.get(0),
    )?)
}

fn row_count(conn: &Connection, table: &str) -> Result<u64> {
    if !has_table(conn, table)? {
        return Ok(0);
    }
    let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
        r.get(0)
    })?;
    Ok(n.max(0) as u64)
}

fn sorted_query(spec: &TableSpec) -> String {
    let columns: Vec<String> = spec
        .fields
        .iter()
        .map(|(_, expr)| format!("quote({expr})"))
        .collect();
    let order: Vec<String> = (1..=spec.fields.len()).map(|i| i.to_string()).collect();
    // quote() makes every value text, so SQLite's BINARY order is Rust's byte order of
    // the same strings: the merge below walks both sides in one order.
    format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        spec.from,
        order.join(", ")
    )
}

/// The sorted query of a table on one side; `None` when the table is missing there (it
/// reads as empty).
fn prepare_sorted<'c>(
    conn: &'c Connection,
    spec: &TableSpec,
    sql: &str,
) -> Result<Option<rusqlite::Statement<'c>>> {
    if !has_table(conn, spec.table)? {
        return Ok(None);
    }
    Ok(Some(conn.prepare(sql)?))
}

fn compare_table(
    spec: &TableSpec,
    a: &mut SideStream,
    b: &mut SideStream,
) -> Result<TableComparison> {
    let (live_rows, live_error) = a.start()?;
    let (rebuilt_rows, rebuilt_error) = b.start()?;
    let mut out = TableComparison {
        table: spec.table.to_string(),
        live_rows,
        rebuilt_rows,
        come_back: 0,
        lost: 0,
        added: 0,
        fields: spec.fields.iter().map(|(name, _)| *name).collect(),
        not_carried: spec.not_carried.to_vec(),
        differences: Vec::new(),
        differences_total: 0,
        error: None,
    };
    if let Some(e) = live_error {
        out.error = Some(format!("live database: {e}"));
    } else if let Some(e) = rebuilt_error {
        out.error = Some(format!("rebuilt database: {e}"));
    }
    if out.error.is_some() {
        a.finish()?;
        b.finish()?;
        return Ok(out);
    }
    let mut lost_listed = Vec::new();
    let mut added_listed = Vec::new();
    let mut left = a.next()?;
    let mut right = b.next()?;
    loop {
        let order = match (&left, &right) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(l), Some(r)) => l.cmp(r),
        };
        match order {
            Ordering::Equal => {
                out.come_back += 1;
                left = a.next()?;
                right = b.next()?;
            }
            Ordering::Less => {
                out.lost += 1;
                if let Some(values) = left.take() {
                    if lost_listed.len() < MAX_DIFFERENCES_PER_TABLE {
                        lost_listed.push(values);
                    }
                }
                left = a.next()?;
            }
            Ordering::Greater => {
                out.added += 1;
                if let Some(values) = right.take() {
                    if added_listed.len() < MAX_DIFFERENCES_PER_TABLE {
                        added_listed.push(values);
                    }
                }
                right = b.next()?;
            }
        }
    }
    out.differences_total = out.lost + out.added;
    // Both kinds get a share of the bound, so a table that loses and gains shows both.
    let lost_share = lost_listed
        .len()
        .min(MAX_DIFFERENCES_PER_TABLE - added_listed.len().min(MAX_DIFFERENCES_PER_TABLE / 2));
    out.differences = lost_listed
        .into_iter()
        .take(lost_share)
        .map(|values| RowDifference {
            side: Side::LiveOnly,
            values,
        })
        .chain(added_listed.into_iter().map(|values| RowDifference {
            side: Side::RebuiltOnly,
            values,
        }))
        .take(MAX_DIFFERENCES_PER_TABLE)
        .collect();
    Ok(out)
}

/// A `file:` URI for `path` with `query` appended (`%`, `?`, `#` escaped).
fn file_uri(path: &Path, query: &str) -> String {
    let mut uri = String::from("file:");
    for ch in path.to_string_lossy().chars() {
        match ch {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push('?');
    uri.push_str(query);
    uri
}

/// Opens a database read-only as [`open_live_read_only`] does, refusing a missing file.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(Error::NotFound {
            what: format!("database {}", path.display()),
        });
    }
    open_live_read_only(path)
}

/// Opens the live database for reading without changing anything on disk, also while
/// ThyWill has it open.
///
/// A read-only SQLite connection to a WAL database creates the `-wal` and `-shm` files
/// when they are missing and leaves them behind. So: when the `-wal` exists (the app has
/// the database open, or left it), it is used as it is, with what it holds; when the database is in WAL mode without a `-wal`, nobody has it open and
/// nothing is in a WAL, so the file is read as immutable (no side files, no locks; an app
/// starting meanwhile writes to its new WAL, not to the file read); a rollback-journal
/// database is read with a plain read-only connection, which creates nothing.
pub fn open_live_read_only(path: &Path) -> Result<Connection> {
    let mut header = [0u8; 20];
    let read = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut header))
        .map_err(|e| Error::io(path, e))?;
    let wal_mode = read >= 20 && header[18] == 2;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let conn = if wal_mode && !Path::new(&wal).exists() {
        Connection::open_with_flags(file_uri(path, "immutable=1"), flags)?
    } else {
        Connection::open_with_flags(file_uri(path, "mode=ro"), flags)?
    };
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An in-memory database with ThyWill's tables.
    fn database() -> Connection {
        let conn = Connection::open_in_memory().expect("database");
        // As ThyWill runs it (the marks here name no user row).
        conn.execute_batch("PRAGMA foreign_keys = OFF")
            .expect("pragma");
        crate::db::schema::create_missing_objects(&conn).expect("schema");
        conn
    }

    #[test]
    fn rows_are_multisets_compared_to_the_minute() {
        let live = database();
        let rebuilt = database();
        let insert = |db: &Connection, rows: &[(&str, &str, &str)]| {
            for (i, (prayer, user, at)) in rows.iter().enumerate() {
                db.execute(
                        "INSERT INTO prayermark (id, username, prayer_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                        rusqlite::params![format!("m{i}"), user, prayer, at],
                    )
                    .expect("insert");
            }
        };
        // Two identical marks live, one rebuilt (to the minute: seconds are not carried);
        // one mark only in the rebuild.
        insert(
            &live,
            &[
                ("p1", "ann", "2025-01-01 10:00:12.345678"),
                ("p1", "ann", "2025-01-01 10:00:40.000000"),
                ("p2", "bob", "2025-01-02 09:30:00.000000"),
            ],
        );
        insert(
            &rebuilt,
            &[
                ("p1", "ann", "2025-01-01 10:00:00.000000"),
                ("p2", "bob", "2025-01-02 09:30:00.000000"),
                ("p3", "cy", "2025-01-03 08:00:00.000000"),
            ],
        );
        let cmp = compare_connections(live, Path::new("live"), rebuilt, Path::new("rebuilt"))
            .expect("compare");
        let marks = cmp.table("prayermark").expect("prayermark");
        assert_eq!(
            (
                marks.live_rows,
                marks.rebuilt_rows,
                marks.come_back,
                marks.lost,
                marks.added
            ),
            (3, 3, 2, 1, 1)
        );
        assert_eq!(marks.differences.len(), 2);
        assert_eq!(marks.differences[0].side, Side::LiveOnly);
        assert_eq!(marks.differences[0].values[2], "'2025-01-01 10:00'");
        assert_eq!(marks.differences[1].side, Side::RebuiltOnly);
        assert_eq!(cmp.differing_tables(), ["prayermark"]);
        assert_eq!((cmp.lost, cmp.added), (1, 1));
    }

    #[test]
    fn every_schema_table_has_a_spec_and_the_lists_are_bounded() {
        for (kind, name, _) in crate::db::schema::SCHEMA_OBJECTS {
            if *kind == "table" {
                let spec = table_spec(name).unwrap_or_else(|| panic!("{name} has no spec"));
                assert!(
                    !spec.fields.is_empty() && !spec.not_carried.is_empty(),
                    "{name}"
                );
            }
        }
        assert_eq!(
            TABLES.len(),
            crate::db::schema::SCHEMA_OBJECTS
                .iter()
                .filter(|(kind, _, _)| *kind == "table")
                .count()
        );
        let live = database();
        let rebuilt = database();
        for i in 0..100 {
            live.execute(
                    "INSERT INTO prayermark (id, username, prayer_id, created_at) VALUES (?1, 'u', ?1, '2025-01-01 00:00:00')",
                    [format!("x{i}")],
                )
                .expect("insert");
        }
        let cmp = compare_connections(live, Path::new("live"), rebuilt, Path::new("rebuilt"))
            .expect("compare");
        let marks = cmp.table("prayermark").expect("prayermark");
        assert_eq!(marks.differences.len(), MAX_DIFFERENCES_PER_TABLE);
        assert_eq!(marks.differences_total, 100);
    }
}
