//! ThyWill's SQLite database (spec: schema-and-recovery.md §1).
