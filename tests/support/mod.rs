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

/// Runs job `job`'s lifecycle until its output manifest is written, and returns that run's
/// report. A submission's worker response lands before its claim is marked submitted (the
/// outbox marks it after the upload), so the first run right after a delivery can find the
/// object still in progress. Panics after 30 s.
pub async fn consolidate_job(
    jobs: &groundwork::store::jobs::Jobs,
    job: &str,
) -> groundwork::store::lifecycle::PendingReport {
    use groundwork::store::lifecycle::Lifecycle;
    let started = std::time::Instant::now();
    loop {
        let report = Lifecycle::open(jobs, job)
            .await
            .expect("the job opens")
            .run_pending()
            .await
            .expect("run_pending");
        if report.output_manifest.is_some() {
            return report;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no output manifest for {job} after 30 s: {report:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
