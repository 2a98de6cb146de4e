//! Helpers shared by the integration tests.

#![allow(dead_code)] // not every helper is used in every configuration

pub mod backup;
pub mod child;
pub mod import;
pub mod properties;

use std::path::PathBuf;

/// The fixture communities made by ThyWill's own code: `$THYWILL_FIXTURES`, else the
/// `shared/fixtures` folder beside the repository.
pub fn fixtures() -> PathBuf {
    std::env::var_os("THYWILL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/fixtures"
            ))
        })
}

/// The name libtest gives the test `name` of the module `module` (as `module_path!()` gives
/// it): the module path without the crate's name. Tests that re-run one test of this binary
/// in a child process pass it to `--exact`.
pub fn test_name(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_, path)) => format!("{path}::{name}"),
        None => name.to_owned(),
    }
}
