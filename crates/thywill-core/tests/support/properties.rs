//! The configuration of every `proptest!` block in the repository, so that CI runs are
//! reproducible and past failures are replayed everywhere.
//!
//! - Under `CI=true` the generator seed is fixed ([`CI_SEED`]): a CI failure reruns
//!   identically, and CI cannot pass or fail by the luck of a random seed. Elsewhere the
//!   seed stays random, so local runs keep exploring new cases. `PROPTEST_RNG_SEED`
//!   overrides both (proptest applies its environment variables last).
//! - Failures are recorded in, and replayed from, `<test file>.proptest-regressions`
//!   beside the test file; those files are committed (`committed_regressions_are_read`
//!   in `archive/properties.rs` checks that they are found).

use proptest::test_runner::{Config, FailurePersistence, FileFailurePersistence, RngSeed};

/// The seed of every property test under `CI=true` ("thywill" in ASCII).
pub const CI_SEED: u64 = 0x0074_6879_7769_6c6c;

/// The extension of the committed regressions files, beside each test file.
const REGRESSIONS: FileFailurePersistence =
    FileFailurePersistence::WithSource("proptest-regressions");

/// The configuration for a `proptest!` block that runs `cases` cases.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(REGRESSIONS)),
        rng_seed: if std::env::var("CI").as_deref() == Ok("true") {
            RngSeed::Fixed(CI_SEED)
        } else {
            RngSeed::Random
        },
        ..Config::default()
    }
}

/// How many recorded failures the configuration replays for the test file `source_file`
/// (a path as `file!()` gives it).
pub fn replayed_seed_count(source_file: &'static str) -> usize {
    REGRESSIONS
        .load_persisted_failures2(Some(source_file))
        .len()
}
