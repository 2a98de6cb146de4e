//! ThyWill's `create_all` schema, byte for byte as SQLAlchemy emits it for the
//! classes of `models.py`, and the default roles `thywill db init` creates.

use rusqlite::{params, Connection};

use super::encode::{format_datetime, IdGenerator};
use crate::Result;

/// Every schema object of a ThyWill database as `(type, name, sql)`, in the order
/// `create_all` creates them (its foreign-key topological order), followed by
/// `schema_migrations` (created at every app start) and the unique display-name index
/// of the startup duplicate-user migration. The SQL text is what `sqlite_master`
/// holds for a database ThyWill created.
pub const SCHEMA_OBJECTS: &[(&str, &str, &str)] = &[
    (
        "table",
        "user",
        r#"CREATE TABLE user (
	display_name VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	invited_by_username VARCHAR, 
	invite_token_used VARCHAR, 
	welcome_message_dismissed BOOLEAN NOT NULL, 
	text_file_path VARCHAR, 
	is_supporter BOOLEAN NOT NULL, 
	supporter_since DATETIME, 
	supporter_type VARCHAR, 
	PRIMARY KEY (display_name)
)"#,
    ),
    (
        "table",
        "prayer",
        r#"CREATE TABLE prayer (
	id VARCHAR NOT NULL, 
	author_username VARCHAR NOT NULL, 
	text VARCHAR NOT NULL, 
	generated_prayer VARCHAR, 
	project_tag VARCHAR, 
	created_at DATETIME NOT NULL, 
	flagged BOOLEAN NOT NULL, 
	text_file_path VARCHAR, 
	safety_score FLOAT NOT NULL, 
	safety_flags VARCHAR NOT NULL, 
	categorization_method VARCHAR NOT NULL, 
	specificity_type VARCHAR NOT NULL, 
	specificity_confidence FLOAT NOT NULL, 
	subject_category VARCHAR NOT NULL, 
	PRIMARY KEY (id)
)"#,
    ),
    (
        "table",
        "prayerskip",
        r#"CREATE TABLE prayerskip (
	id VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	prayer_id VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
)"#,
    ),
    (
        "table",
        "authenticationrequest",
        r#"CREATE TABLE authenticationrequest (
	id VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	device_info VARCHAR, 
	ip_address VARCHAR, 
	verification_code VARCHAR, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	status VARCHAR NOT NULL, 
	approved_by_user_id VARCHAR, 
	approved_at DATETIME, 
	PRIMARY KEY (id)
)"#,
    ),
    (
        "table",
        "authapproval",
        r#"CREATE TABLE authapproval (
	id VARCHAR NOT NULL, 
	auth_request_id VARCHAR NOT NULL, 
	approver_user_id VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
)"#,
    ),
    (
        "table",
        "authauditlog",
        r#"CREATE TABLE authauditlog (
	id VARCHAR NOT NULL, 
	auth_request_id VARCHAR NOT NULL, 
	action VARCHAR NOT NULL, 
	actor_user_id VARCHAR, 
	actor_type VARCHAR, 
	details VARCHAR, 
	ip_address VARCHAR, 
	user_agent VARCHAR, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
)"#,
    ),
    (
        "table",
        "securitylog",
        r#"CREATE TABLE securitylog (
	id VARCHAR NOT NULL, 
	event_type VARCHAR NOT NULL, 
	user_id VARCHAR, 
	ip_address VARCHAR, 
	user_agent VARCHAR, 
	details VARCHAR, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
)"#,
    ),
    (
        "table",
        "session",
        r#"CREATE TABLE session (
	id VARCHAR NOT NULL, 
	username VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	auth_request_id VARCHAR, 
	device_info VARCHAR, 
	ip_address VARCHAR, 
	is_fully_authenticated BOOLEAN NOT NULL, 
	PRIMARY KEY (id)
)"#,
    ),
    (
        "table",
        "invitetoken",
        r#"CREATE TABLE invitetoken (
	token VARCHAR NOT NULL, 
	created_by_user VARCHAR NOT NULL, 
	usage_count INTEGER NOT NULL, 
	max_uses INTEGER, 
	expires_at DATETIME NOT NULL, 
	used_by_user_id VARCHAR, 
	token_type VARCHAR(20) NOT NULL, 
	PRIMARY KEY (token)
)"#,
    ),
    (
        "table",
        "changelogentry",
        r#"CREATE TABLE changelogentry (
	commit_id VARCHAR(40) NOT NULL, 
	original_message VARCHAR NOT NULL, 
	friendly_description VARCHAR, 
	change_type VARCHAR(20), 
	commit_date DATETIME NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (commit_id)
)"#,
    ),
    (
        "table",
        "membership_application",
        r#"CREATE TABLE membership_application (
	id VARCHAR NOT NULL, 
	username VARCHAR NOT NULL, 
	essay VARCHAR NOT NULL, 
	contact_info VARCHAR, 
	ip_address VARCHAR, 
	status VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	processed_at DATETIME, 
	processed_by_user_id VARCHAR, 
	invite_token VARCHAR, 
	text_file_path VARCHAR, 
	PRIMARY KEY (id)
)"#,
    ),
    (
        "table",
        "role",
        r#"CREATE TABLE role (
	id VARCHAR NOT NULL, 
	name VARCHAR(50) NOT NULL, 
	description VARCHAR(255), 
	permissions VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	created_by VARCHAR, 
	is_system_role BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name), 
	FOREIGN KEY(created_by) REFERENCES user (display_name)
)"#,
    ),
    (
        "table",
        "prayer_attributes",
        r#"CREATE TABLE prayer_attributes (
	id VARCHAR NOT NULL, 
	prayer_id VARCHAR NOT NULL, 
	attribute_name VARCHAR(50) NOT NULL, 
	attribute_value VARCHAR(255), 
	created_at DATETIME NOT NULL, 
	created_by VARCHAR, 
	text_file_path VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(prayer_id) REFERENCES prayer (id), 
	FOREIGN KEY(created_by) REFERENCES user (display_name)
)"#,
    ),
    (
        "table",
        "prayermark",
        r#"CREATE TABLE prayermark (
	id VARCHAR NOT NULL, 
	username VARCHAR NOT NULL, 
	prayer_id VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	text_file_path VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(username) REFERENCES user (display_name)
)"#,
    ),
    (
        "table",
        "notification_state",
        r#"CREATE TABLE notification_state (
	id VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	auth_request_id VARCHAR NOT NULL, 
	notification_type VARCHAR(50) NOT NULL, 
	is_read BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	read_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES user (display_name), 
	FOREIGN KEY(auth_request_id) REFERENCES authenticationrequest (id)
)"#,
    ),
    (
        "table",
        "prayer_activity_log",
        r#"CREATE TABLE prayer_activity_log (
	id VARCHAR NOT NULL, 
	prayer_id VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	action VARCHAR(50) NOT NULL, 
	old_value VARCHAR(255), 
	new_value VARCHAR(255), 
	created_at DATETIME NOT NULL, 
	text_file_path VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(prayer_id) REFERENCES prayer (id), 
	FOREIGN KEY(user_id) REFERENCES user (display_name)
)"#,
    ),
    (
        "table",
        "invite_token_usage",
        r#"CREATE TABLE invite_token_usage (
	id VARCHAR NOT NULL, 
	invite_token_id VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	claimed_at DATETIME NOT NULL, 
	ip_address VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(invite_token_id) REFERENCES invitetoken (token), 
	FOREIGN KEY(user_id) REFERENCES user (display_name)
)"#,
    ),
    (
        "table",
        "user_roles",
        r#"CREATE TABLE user_roles (
	id VARCHAR NOT NULL, 
	user_id VARCHAR NOT NULL, 
	role_id VARCHAR NOT NULL, 
	granted_by VARCHAR, 
	granted_at DATETIME NOT NULL, 
	expires_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES user (display_name), 
	FOREIGN KEY(role_id) REFERENCES role (id), 
	FOREIGN KEY(granted_by) REFERENCES user (display_name)
)"#,
    ),
    (
        "table",
        "schema_migrations",
        r#"CREATE TABLE schema_migrations (
                    migration_id TEXT PRIMARY KEY,
                    applied_at TIMESTAMP NOT NULL,
                    checksum TEXT NOT NULL,
                    execution_time_ms INTEGER,
                    status TEXT NOT NULL DEFAULT 'completed'
                )"#,
    ),
    (
        "index",
        "idx_user_display_name_unique",
        r#"CREATE UNIQUE INDEX idx_user_display_name_unique ON user(display_name)"#,
    ),
];

/// The core tables ThyWill's importers check for before deciding a database needs
/// `create_all` (`import_service.py:86-111`).
pub(crate) const CORE_TABLES: &[&str] = &["user", "prayer", "session", "invitetoken", "role"];

/// A role as `scripts/utils/create_database.py` creates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultRole {
    /// Unique role name.
    pub name: &'static str,
    /// Human description.
    pub description: &'static str,
    /// The permissions column, already in `json.dumps` form.
    pub permissions: &'static str,
}

/// The roles `thywill db init` creates (`create_database.py:23-83`), in that order.
pub const DEFAULT_ROLES: &[DefaultRole] = &[
    DefaultRole {
        name: "admin",
        description: "Full administrative access",
        permissions: r#"["*", "admin.users", "admin.roles", "admin.prayers", "admin.system", "moderate.prayers", "view.analytics"]"#,
    },
    DefaultRole {
        name: "moderator",
        description: "Prayer moderation and user management",
        permissions: r#"["moderate.prayers", "view.users", "flag.prayers", "view.reports"]"#,
    },
    DefaultRole {
        name: "user",
        description: "Standard user permissions",
        permissions: r#"["create.prayers", "view.prayers", "mark.prayers", "view.profile"]"#,
    },
];

/// The role `scripts/admin/add_deactivated_role.py` adds; deactivation needs it.
pub const DEACTIVATED_ROLE: DefaultRole = DefaultRole {
    name: "deactivated",
    description: "Deactivated user - no permissions, cannot login",
    permissions: "[]",
};

/// Creates every missing table and index of [`SCHEMA_OBJECTS`] (like `create_all`, it
/// never alters an existing table). Returns the names of the objects created.
pub(crate) fn create_missing_objects(conn: &Connection) -> Result<Vec<String>> {
    let mut created = Vec::new();
    for (kind, name, sql) in SCHEMA_OBJECTS {
        let exists: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = ?1 AND name = ?2)",
            params![kind, name],
            |row| row.get(0),
        )?;
        if !exists {
            conn.execute_batch(sql)?;
            created.push((*name).to_string());
        }
    }
    Ok(created)
}

/// Inserts the [`DEFAULT_ROLES`] whose names are absent, as `db init` does (random
/// uuid4 ids, `is_system_role` 1, `created_by` NULL, `created_at` = `now_utc`).
/// Returns how many were inserted.
pub(crate) fn insert_default_roles(
    conn: &Connection,
    ids: &IdGenerator,
    now_utc: &chrono::NaiveDateTime,
) -> Result<usize> {
    let mut inserted = 0;
    for role in DEFAULT_ROLES {
        inserted += ensure_role(conn, ids, role, now_utc)?;
    }
    Ok(inserted)
}

/// Inserts one role unless a role of that name exists; returns 1 when inserted.
pub(crate) fn ensure_role(
    conn: &Connection,
    ids: &IdGenerator,
    role: &DefaultRole,
    now_utc: &chrono::NaiveDateTime,
) -> Result<usize> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM role WHERE name = ?1)",
        [role.name],
        |row| row.get(0),
    )?;
    if exists {
        return Ok(0);
    }
    conn.execute(
        "INSERT INTO role (id, name, description, permissions, created_at, created_by, is_system_role) \
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, 1)",
        params![
            ids.uuid4_hex()?,
            role.name,
            role.description,
            role.permissions,
            format_datetime(now_utc)
        ],
    )?;
    Ok(1)
}
