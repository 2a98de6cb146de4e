//! Imports into real SQLite files: text archives (folder and ZIP), JSON prayers, one prayer file.

mod fidelity;
mod idempotency;
mod json;
mod names;
mod phases;
mod report_bounds;
mod semantics;
mod single;
mod special_files;
mod truncated;
mod zip;
