//! Shared helpers of the import tests: fixture location and the fidelity comparison.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

pub fn open_ro(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn minute(ts: &str) -> String {
    ts.replace('T', " ").chars().take(16).collect()
}

type Multiset = BTreeMap<Vec<String>, i64>;

fn multiset(conn: &Connection, sql: &str, minute_cols: &[usize]) -> Multiset {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let mut out = Multiset::new();
    let mut rows = stmt.query([]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        let mut key = Vec::with_capacity(n);
        for i in 0..n {
            let v = match r.get::<_, rusqlite::types::Value>(i).unwrap() {
                rusqlite::types::Value::Null => "<NULL>".to_string(),
                rusqlite::types::Value::Integer(n) => n.to_string(),
                rusqlite::types::Value::Real(f) => f.to_string(),
                rusqlite::types::Value::Text(t) => t,
                rusqlite::types::Value::Blob(b) => format!("{b:?}"),
            };
            key.push(if minute_cols.contains(&i) {
                minute(&v)
            } else {
                v
            });
        }
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

fn diff_multisets(name: &str, original: &Multiset, rebuilt: &Multiset, out: &mut Vec<String>) {
    let keys: BTreeSet<&Vec<String>> = original.keys().chain(rebuilt.keys()).collect();
    for key in keys {
        let a = original.get(key).copied().unwrap_or(0);
        let b = rebuilt.get(key).copied().unwrap_or(0);
        if a != b {
            out.push(format!("{name} {key:?}: original {a}, rebuilt {b}"));
        }
    }
}

/// Every difference between the original database and one rebuilt from its text
/// archives, on the fields the text carries. Empty means faithful.
pub fn fidelity_differences(original: &Path, rebuilt: &Path, with_skips: bool) -> Vec<String> {
    let a = open_ro(original);
    let b = open_ro(rebuilt);
    let mut out = Vec::new();
    // Users: exact set, inviter, creation minute.
    let users = "SELECT display_name, invited_by_username, created_at FROM user";
    diff_multisets(
        "user",
        &multiset(&a, users, &[2]),
        &multiset(&b, users, &[2]),
        &mut out,
    );
    // Prayers: id, author, request and generated prayer byte for byte, tag, minute.
    let prayers =
        "SELECT id, author_username, text, generated_prayer, project_tag, created_at, text_file_path FROM prayer";
    diff_multisets(
        "prayer",
        &multiset(&a, prayers, &[5]),
        &multiset(&b, prayers, &[5]),
        &mut out,
    );
    let marks = "SELECT prayer_id, username, created_at, text_file_path FROM prayermark";
    diff_multisets(
        "mark",
        &multiset(&a, marks, &[2]),
        &multiset(&b, marks, &[2]),
        &mut out,
    );
    let skips = "SELECT prayer_id, user_id, created_at FROM prayerskip";
    // Skips reach the text only through the monthly skips ledger (`--ledgers full`).
    if with_skips {
        diff_multisets(
            "skip",
            &multiset(&a, skips, &[2]),
            &multiset(&b, skips, &[2]),
            &mut out,
        );
    }
    // Attributes: answer_date values compared to the minute (the text has minutes).
    let attrs = "SELECT prayer_id, created_by, attribute_name, \
                 CASE WHEN attribute_name = 'answer_date' THEN substr(replace(attribute_value, 'T', ' '), 1, 16) ELSE attribute_value END, \
                 created_at FROM prayer_attributes";
    diff_multisets(
        "attribute",
        &multiset(&a, attrs, &[4]),
        &multiset(&b, attrs, &[4]),
        &mut out,
    );
    let logs = "SELECT prayer_id, user_id, action, created_at, \
                CASE WHEN action = 'set_answer_date' THEN substr(replace(new_value, 'T', ' '), 1, 16) ELSE new_value END, \
                CASE WHEN action = 'set_answer_date' THEN substr(replace(old_value, 'T', ' '), 1, 16) ELSE old_value END \
                FROM prayer_activity_log";
    diff_multisets(
        "log",
        &multiset(&a, logs, &[3]),
        &multiset(&b, logs, &[3]),
        &mut out,
    );
    out
}

/// Differences on the tables beyond the core, on the fields the text carries (a `|` in a
/// device, user agent or details compared as the `_` the archive writes); printed and
/// checked by the fidelity test against the losses docs/import.md lists. Each difference
/// starts with its table's name.
pub fn extra_differences(original: &Path, rebuilt: &Path) -> Vec<String> {
    let a = open_ro(original);
    let b = open_ro(rebuilt);
    let mut out = Vec::new();
    let checks: [(&str, &str, &[usize]); 13] = [
        ("user_flags", "SELECT display_name, invite_token_used, is_supporter, supporter_type, substr(supporter_since, 1, 10), welcome_message_dismissed FROM user", &[]),
        ("session", "SELECT id, username, created_at, expires_at, replace(device_info, '|', '_'), ip_address, is_fully_authenticated FROM session", &[2, 3]),
        ("invitetoken", "SELECT token, created_by_user, usage_count, max_uses, used_by_user_id, token_type FROM invitetoken", &[]),
        ("invite_token_usage", "SELECT invite_token_id, user_id, claimed_at, ip_address FROM invite_token_usage", &[2]),
        ("role", "SELECT name, description, permissions, is_system_role, created_by FROM role", &[]),
        ("user_roles", "SELECT ur.user_id, r.name, ur.granted_by, ur.granted_at, ur.expires_at FROM user_roles ur LEFT JOIN role r ON r.id = ur.role_id", &[3, 4]),
        ("authenticationrequest", "SELECT user_id, replace(device_info, '|', '_'), ip_address, created_at, expires_at FROM authenticationrequest", &[3, 4]),
        ("authapproval", "SELECT auth_request_id, approver_user_id, created_at FROM authapproval", &[2]),
        ("securitylog", "SELECT event_type, user_id, ip_address, replace(user_agent, '|', '_'), replace(details, '|', '_'), created_at FROM securitylog", &[5]),
        ("notification_state", "SELECT user_id, auth_request_id, notification_type, is_read, created_at, read_at FROM notification_state", &[4, 5]),
        ("authauditlog", "SELECT auth_request_id, action, actor_user_id, actor_type, details, ip_address, user_agent, created_at FROM authauditlog", &[7]),
        ("membership_application", "SELECT id, username, essay, contact_info, ip_address, status, created_at, processed_at, processed_by_user_id, invite_token, text_file_path FROM membership_application", &[6, 7]),
        ("prayer_columns", "SELECT id, flagged, categorization_method FROM prayer", &[]),
    ];
    for (name, sql, minutes) in checks {
        diff_multisets(
            name,
            &multiset(&a, sql, minutes),
            &multiset(&b, sql, minutes),
            &mut out,
        );
    }
    out
}

/// The rows of `sql`, each as its values joined by `|` (NULL as `NULL`), sorted.
pub fn rows(db: &Path, sql: &str) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let fields: Vec<String> = (0..n)
            .map(|i| match row.get::<_, rusqlite::types::Value>(i).unwrap() {
                rusqlite::types::Value::Null => "NULL".into(),
                rusqlite::types::Value::Integer(v) => v.to_string(),
                rusqlite::types::Value::Text(t) => t,
                other => format!("{other:?}"),
            })
            .collect();
        out.push(fields.join("|"));
    }
    out.sort();
    out
}
