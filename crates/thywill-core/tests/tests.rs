//! The integration tests of thywill-core: one test binary (so the crate is linked once),
//! with a module per domain of the crate and the helpers they share in `support`.
//! Run one domain with `cargo nextest run -p thywill-core -E 'test(/^backup::/)'` or
//! `cargo test -p thywill-core --test integration backup::`.

mod support;

mod archive;
mod audit;
mod backup;
mod db;
mod download;
mod import;
mod recovery;
mod sessions;
