//! Two ThyWill databases compared table by table, on the fields the text archives carry.
//!
//! Each table of the schema has a [`TableSpec`]: the fields a rebuild from the archives can
//! bring back (timestamps to the minute where the archive keeps only minutes, generated ids
//! left out, rows that point at another table compared through what identifies that row in
//! the text) and the documented list of what the text cannot carry, with the reason. Rows
//! are compared as multisets of those fields: N identical rows on one side need N on the
//! other.
//!
//! No SQL sort and no row text held: each side of a table is read once, on its own thread,
//! each row reduced to a keyed 128-bit hash of the compared fields; the hashes are sorted
//! in bounded runs and the two sides merged. Only a table that differs is read again, to
//! list its first differing rows.

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

/// [`compare_databases`] on open connections. Each side is read in one read transaction
/// (one snapshot: the app may commit meanwhile); per table, the two sides are read at once
/// on two threads.
///
/// A row is compared through a 128-bit key: two of std's SipHash hashers, keyed at random
/// per comparison, over its compared fields, so no archive text can be crafted to collide
/// with a row it is not. Each side's keys are sorted in runs of [`KEYS_PER_RUN`] (spilled
/// to an anonymous temp file beyond the first) and the two sides' runs merged: no SQL sort,
/// no row text held, memory bounded whatever the size. Only a table that differs is read
/// again, to list its first differing rows.
pub(crate) fn compare_connections(
    mut live: Connection,
    live_path: &Path,
    mut rebuilt: Connection,
    rebuilt_path: &Path,
) -> Result<Comparison> {
    let keys = RowKeys::new();
    live.execute_batch("BEGIN")?;
    rebuilt.execute_batch("BEGIN")?;
    let tables: Result<Vec<TableComparison>> = TABLES
        .iter()
        .map(|spec| compare_table(spec, &keys, &mut live, &mut rebuilt))
        .collect();
    let _ = live.execute_batch("COMMIT");
    let _ = rebuilt.execute_batch("COMMIT");
    let tables = tables?;
    Ok(Comparison {
        live: live_path.to_path_buf(),
        rebuilt: rebuilt_path.to_path_buf(),
        come_back: tables.iter().map(|t| t.come_back).sum(),
        lost: tables.iter().map(|t| t.lost).sum(),
        added: tables.iter().map(|t| t.added).sum(),
        tables,
    })
}

/// The two keyed hashers a row's 128-bit key is made of.
struct RowKeys {
    low: std::collections::hash_map::RandomState,
    high: std::collections::hash_map::RandomState,
}

impl RowKeys {
    fn new() -> RowKeys {
        RowKeys {
            low: std::collections::hash_map::RandomState::new(),
            high: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The key of the first `width` columns of `row`: each value's storage class and
    /// bytes, so `1`, `1.0`, `'1'` and NULL stay apart as `quote()` keeps them apart.
    /// `scratch` holds the row's encoding (one hasher call per row, not per value).
    fn of(
        &self,
        row: &rusqlite::Row<'_>,
        width: usize,
        scratch: &mut Vec<u8>,
    ) -> rusqlite::Result<u128> {
        use rusqlite::types::ValueRef;
        use std::hash::BuildHasher;
        scratch.clear();
        for i in 0..width {
            match row.get_ref(i)? {
                ValueRef::Null => scratch.push(0),
                ValueRef::Integer(v) => {
                    scratch.push(1);
                    scratch.extend_from_slice(&v.to_le_bytes());
                }
                ValueRef::Real(v) => {
                    scratch.push(2);
                    scratch.extend_from_slice(&v.to_bits().to_le_bytes());
                }
                ValueRef::Text(bytes) => push_bytes(scratch, 3, bytes),
                ValueRef::Blob(bytes) => push_bytes(scratch, 4, bytes),
            }
        }
        let low = self.low.hash_one(scratch.as_slice());
        let high = self.high.hash_one(scratch.as_slice());
        Ok(((high as u128) << 64) | low as u128)
    }
}

/// A length-prefixed byte string of storage class `tag`.
fn push_bytes(scratch: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    scratch.push(tag);
    scratch.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    scratch.extend_from_slice(bytes);
}

/// A hasher for keys that are already keyed hashes: their low 64 bits.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, key: u128) {
        self.0 = key as u64;
    }
}

/// Rows per key (differing rows to list).
type RowCounts = std::collections::HashMap<u128, u64, std::hash::BuildHasherDefault<KeyHasher>>;

/// Keys held in memory per side before a sorted run of them goes to a temp file (4 MiB):
/// what bounds the comparison's memory whatever the size of a table.
/// (Small in unit tests, so that they merge spilled runs.)
const KEYS_PER_RUN: usize = if cfg!(test) { 64 } else { 1 << 18 };
/// Distinct differing keys remembered per side for listing differing rows; beyond, rows
/// are only counted.
const DIFFERING_KEYS_TRACKED: usize = 1 << 16;

/// One side of one table: its row count and its rows' keys in sorted runs, or why it could
/// not be read.
enum SideRows {
    Read { rows: u64, keys: SortedKeys },
    Failed(String),
}

/// Reads one side of a table. A missing table reads as empty.
fn read_side(conn: &Connection, spec: &TableSpec, keys: &RowKeys) -> Result<SideRows> {
    let rows = row_count(conn, spec.table)?;
    let mut sorted = SortedKeys::default();
    if !has_table(conn, spec.table)? {
        return Ok(SideRows::Read { rows, keys: sorted });
    }
    let mut stmt = match conn.prepare(&fields_query(spec, false)) {
        Ok(stmt) => stmt,
        Err(e) => return Ok(SideRows::Failed(e.to_string())),
    };
    let width = spec.fields.len();
    let mut scratch = Vec::new();
    let mut query = stmt.query([])?;
    while let Some(row) = query.next()? {
        sorted.push(keys.of(row, width, &mut scratch)?)?;
    }
    sorted.finish();
    Ok(SideRows::Read { rows, keys: sorted })
}

/// Keys in sorted runs: the last in memory, earlier ones (only for tables of more than
/// [`KEYS_PER_RUN`] rows) in an anonymous temp file that goes when it is closed.
#[derive(Default)]
struct SortedKeys {
    memory: Vec<u128>,
    spilled: Option<std::fs::File>,
    /// The length in keys of each spilled run, in file order.
    runs: Vec<usize>,
}

impl SortedKeys {
    fn push(&mut self, key: u128) -> Result<()> {
        self.memory.push(key);
        if self.memory.len() == KEYS_PER_RUN {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        use std::io::Write;
        self.memory.sort_unstable();
        let file = match &mut self.spilled {
            Some(file) => file,
            None => self
                .spilled
                .insert(tempfile::tempfile().map_err(|e| Error::io(std::env::temp_dir(), e))?),
        };
        let mut out = std::io::BufWriter::new(file);
        for key in &self.memory {
            out.write_all(&key.to_le_bytes())
                .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        }
        out.flush()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        self.runs.push(self.memory.len());
        self.memory.clear();
        Ok(())
    }

    fn finish(&mut self) {
        self.memory.sort_unstable();
    }

    /// The keys in order, the runs merged.
    fn into_stream(self) -> Result<KeyStream> {
        let mut sources = vec![KeySource::Memory(self.memory.into_iter())];
        if let Some(file) = self.spilled {
            let mut offset = 0u64;
            for len in self.runs {
                // Each run reads its own window of the one file.
                let handle = file
                    .try_clone()
                    .map_err(|e| Error::io(std::env::temp_dir(), e))?;
                sources.push(KeySource::File {
                    reader: std::io::BufReader::with_capacity(
                        64 * 1024,
                        FileWindow {
                            file: handle,
                            offset,
                        },
                    ),
                    left: len,
                });
                offset += (len * 16) as u64;
            }
        }
        let mut stream = KeyStream {
            sources,
            heads: std::collections::BinaryHeap::new(),
        };
        for i in 0..stream.sources.len() {
            if let Some(key) = stream.sources[i].next()? {
                stream.heads.push(std::cmp::Reverse((key, i)));
            }
        }
        Ok(stream)
    }
}

/// Reads a file from `offset` on with `pread`, so several readers share one file.
struct FileWindow {
    file: std::fs::File,
    offset: u64,
}

impl std::io::Read for FileWindow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = std::os::unix::fs::FileExt::read_at(&self.file, buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

/// One sorted run of keys.
enum KeySource {
    Memory(std::vec::IntoIter<u128>),
    File {
        reader: std::io::BufReader<FileWindow>,
        left: usize,
    },
}

impl KeySource {
    fn next(&mut self) -> Result<Option<u128>> {
        match self {
            KeySource::Memory(keys) => Ok(keys.next()),
            KeySource::File { reader, left } => {
                if *left == 0 {
                    return Ok(None);
                }
                let mut bytes = [0u8; 16];
                std::io::Read::read_exact(reader, &mut bytes)
                    .map_err(|e| Error::io(std::env::temp_dir(), e))?;
                *left -= 1;
                Ok(Some(u128::from_le_bytes(bytes)))
            }
        }
    }
}

/// Sorted runs merged into one sorted stream.
struct KeyStream {
    sources: Vec<KeySource>,
    heads: std::collections::BinaryHeap<std::cmp::Reverse<(u128, usize)>>,
}

impl KeyStream {
    fn next(&mut self) -> Result<Option<u128>> {
        let Some(std::cmp::Reverse((key, i))) = self.heads.pop() else {
            return Ok(None);
        };
        if let Some(next) = self.sources[i].next()? {
            self.heads.push(std::cmp::Reverse((next, i)));
        }
        Ok(Some(key))
    }
}

/// Counts a differing key for listing, as long as the tracked keys are within bounds.
fn track(differing: &mut RowCounts, key: u128) {
    if differing.len() < DIFFERING_KEYS_TRACKED {
        *differing.entry(key).or_insert(0) += 1;
    } else if let Some(n) = differing.get_mut(&key) {
        *n += 1;
    }
}

/// `SELECT` of a table's compared fields; with `quoted`, followed by the same fields as
/// SQL literals (`quote()`), which is how differences are listed.
fn fields_query(spec: &TableSpec, quoted: bool) -> String {
    let mut columns: Vec<String> = spec
        .fields
        .iter()
        .map(|(_, expr)| expr.to_string())
        .collect();
    if quoted {
        columns.extend(spec.fields.iter().map(|(_, expr)| format!("quote({expr})")));
    }
    format!("SELECT {} FROM {}", columns.join(", "), spec.from)
}

/// The first rows (in the table's order, at most `limit`) of one side whose keys are in
/// `wanted`, each as often as `wanted` counts it, as SQL literals.
fn list_rows(
    conn: &Connection,
    spec: &TableSpec,
    keys: &RowKeys,
    mut wanted: RowCounts,
    limit: usize,
) -> Result<Vec<Vec<String>>> {
    let mut listed = Vec::new();
    if limit == 0 || wanted.is_empty() || !has_table(conn, spec.table)? {
        return Ok(listed);
    }
    let width = spec.fields.len();
    let mut stmt = conn.prepare(&fields_query(spec, true))?;
    let mut scratch = Vec::new();
    let mut query = stmt.query([])?;
    while let Some(row) = query.next()? {
        let key = keys.of(row, width, &mut scratch)?;
        if let Some(left) = wanted.get_mut(&key) {
            if *left > 0 {
                *left -= 1;
                listed.push(
                    (width..2 * width)
                        .map(|i| row.get::<_, String>(i))
                        .collect::<rusqlite::Result<Vec<_>>>()?,
                );
                if listed.len() == limit {
                    break;
                }
            }
        }
    }
    listed.sort();
    Ok(listed)
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

fn compare_table(
    spec: &TableSpec,
    keys: &RowKeys,
    live: &mut Connection,
    rebuilt: &mut Connection,
) -> Result<TableComparison> {
    let (live_side, rebuilt_side) = std::thread::scope(|scope| {
        let live_conn: &mut Connection = live;
        let live_reader = scope.spawn(move || read_side(live_conn, spec, keys));
        let rebuilt_side = read_side(rebuilt, spec, keys);
        let live_side = live_reader
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("the live database reader panicked".into())));
        (live_side, rebuilt_side)
    });
    let mut out = TableComparison {
        table: spec.table.to_string(),
        live_rows: 0,
        rebuilt_rows: 0,
        come_back: 0,
        lost: 0,
        added: 0,
        fields: spec.fields.iter().map(|(name, _)| *name).collect(),
        not_carried: spec.not_carried.to_vec(),
        differences: Vec::new(),
        differences_total: 0,
        error: None,
    };
    let (live_keys, rebuilt_keys) = match (live_side?, rebuilt_side?) {
        (SideRows::Failed(e), _) => {
            out.error = Some(format!("live database: {e}"));
            return Ok(out);
        }
        (_, SideRows::Failed(e)) => {
            out.error = Some(format!("rebuilt database: {e}"));
            return Ok(out);
        }
        (SideRows::Read { rows: l, keys: lk }, SideRows::Read { rows: r, keys: rk }) => {
            out.live_rows = l;
            out.rebuilt_rows = r;
            (lk, rk)
        }
    };
    let mut lost_keys = RowCounts::default();
    let mut added_keys = RowCounts::default();
    let mut live_stream = live_keys.into_stream()?;
    let mut rebuilt_stream = rebuilt_keys.into_stream()?;
    let mut left = live_stream.next()?;
    let mut right = rebuilt_stream.next()?;
    loop {
        let order = match (left, right) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(l), Some(r)) => l.cmp(&r),
        };
        match order {
            std::cmp::Ordering::Equal => {
                out.come_back += 1;
                left = live_stream.next()?;
                right = rebuilt_stream.next()?;
            }
            std::cmp::Ordering::Less => {
                out.lost += 1;
                if let Some(key) = left {
                    track(&mut lost_keys, key);
                }
                left = live_stream.next()?;
            }
            std::cmp::Ordering::Greater => {
                out.added += 1;
                if let Some(key) = right {
                    track(&mut added_keys, key);
                }
                right = rebuilt_stream.next()?;
            }
        }
    }
    out.differences_total = out.lost + out.added;
    if out.differences_total == 0 {
        return Ok(out);
    }
    // Both kinds get a share of the bound, so a table that loses and gains shows both.
    let added_listed = list_rows(
        rebuilt,
        spec,
        keys,
        added_keys,
        MAX_DIFFERENCES_PER_TABLE.min(out.added as usize),
    )?;
    let lost_limit = (MAX_DIFFERENCES_PER_TABLE
        - added_listed.len().min(MAX_DIFFERENCES_PER_TABLE / 2))
    .min(out.lost as usize);
    let lost_listed = list_rows(live, spec, keys, lost_keys, lost_limit)?;
    let added_limit = MAX_DIFFERENCES_PER_TABLE - lost_listed.len();
    out.differences = lost_listed
        .into_iter()
        .map(|values| RowDifference {
            side: Side::LiveOnly,
            values,
        })
        .chain(
            added_listed
                .into_iter()
                .take(added_limit)
                .map(|values| RowDifference {
                    side: Side::RebuiltOnly,
                    values,
                }),
        )
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
    // Through SQLite's file layer: the app may have this database open in this process, and
    // closing a plain descriptor of it would drop the app's locks (`db::vfs_read`).
    let read = crate::db::vfs_read::VfsReader::open(path)
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
    fn spilled_runs_merge_to_the_multiset_difference() {
        let live = database();
        let rebuilt = database();
        let mark = |db: &Connection, id: String, user: u32, prayer: u32| {
            db.execute(
                "INSERT INTO prayermark (id, username, prayer_id, created_at) VALUES (?1, ?2, ?3, '2025-01-01 00:00:00')",
                rusqlite::params![id, format!("u{user}"), format!("p{prayer}")],
            )
            .expect("insert");
        };
        // Rows repeat (i % 7 users over i % 13 prayers): multiset counts, many runs.
        let mut expected: std::collections::HashMap<(u32, u32), i64> = Default::default();
        for i in 0..1000u32 {
            mark(&live, format!("l{i}"), i % 7, i % 13);
            *expected.entry((i % 7, i % 13)).or_insert(0) += 1;
        }
        for i in 300..1450u32 {
            mark(&rebuilt, format!("r{i}"), i % 7, i % 13 + (i / 1200) * 100);
            *expected
                .entry((i % 7, i % 13 + (i / 1200) * 100))
                .or_insert(0) -= 1;
        }
        let lost: i64 = expected.values().filter(|n| **n > 0).sum();
        let added: i64 = -expected.values().filter(|n| **n < 0).sum::<i64>();
        assert!(lost > 0 && added > 0);
        let cmp = compare_connections(live, Path::new("live"), rebuilt, Path::new("rebuilt"))
            .expect("compare");
        let marks = cmp.table("prayermark").expect("prayermark");
        assert_eq!((marks.live_rows, marks.rebuilt_rows), (1000, 1150));
        assert_eq!((marks.lost as i64, marks.added as i64), (lost, added));
        assert_eq!(marks.come_back as i64, 1000 - lost);
        assert_eq!(marks.differences.len(), MAX_DIFFERENCES_PER_TABLE);
        // A listed difference really is on its side only as often as it is listed.
        for d in &marks.differences {
            let user: u32 = d.values[1]
                .trim_matches(|c| c == '\'' || c == 'u')
                .parse()
                .unwrap();
            let prayer: u32 = d.values[0]
                .trim_matches(|c| c == '\'' || c == 'p')
                .parse()
                .unwrap();
            let n = expected[&(user, prayer)];
            assert!(
                if d.side == Side::LiveOnly {
                    n > 0
                } else {
                    n < 0
                },
                "{d:?}"
            );
        }
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
