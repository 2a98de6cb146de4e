//! Database backups: create, verify, list, restore, retention, remote copies.
