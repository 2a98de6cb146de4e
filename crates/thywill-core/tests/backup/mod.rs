//! Database backups: create, verify, list, cleanup, restore, remotes, on real files and processes.

mod concurrent;
mod crash;
mod end_to_end;
mod hardening;
mod offsite;
mod options;
mod retention;
mod s3;
