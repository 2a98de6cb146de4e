//! Disaster recovery between the database and the text archives (`docs/recovery.md`).
//!
//! - [`heal`]: the database written back into the archives (`heal-archives`).
//! - [`sync_users`]: the registrations part of heal alone (`sync-users`).
//! - [`validate`]: archives and database checked against each other, read-only
//!   (`validate-archives`).

pub mod heal;
pub mod sync_users;
pub mod validate;
