//! Shared helpers for integration tests. Each test file that needs them says `mod support;`.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/testdata` beside the checkout (the third-party conformance corpus), or
/// `$GROUNDWORK_TESTDATA`. `None`, with a loud note on stderr, when it is absent.
pub fn testdata_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("GROUNDWORK_TESTDATA").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("shared").join("testdata")
    });
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("NOTE: conformance corpus not found at {}; corpus tests skipped", dir.display());
        None
    }
}

/// True when the environment variable `name` is set to `1` (e.g. `GROUNDWORK_REQUIRE_GPU`).
pub fn required(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}
pub mod seaweed;
