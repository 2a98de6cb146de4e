//! Sessions exported to `sessions_backup.json` and restored into real SQLite files.

mod round_trip;
