//! Retrying store operations: exponential backoff with full jitter, on transient errors only.
//!
//! Owns: the retry policy that the S3 backend (and anything else that talks to a store) applies to
//! every request. The clock and the randomness are injected, so tests run without sleeping.
//! Must not depend on anything above `store`; it knows nothing of S3 itself.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{BoxFuture, StoreError};

/// How a [`RetryPolicy`] waits: given a delay, a future that completes after it.
pub type SleepFn = Arc<dyn Fn(Duration) -> BoxFuture<'static, ()> + Send + Sync>;

/// Retries an operation while it fails with a [`StoreError::Transient`] error, waiting between
/// attempts with exponential backoff and full jitter: before retry `n` (counted from 0) it sleeps a
/// uniformly random duration in `[0, min(max_delay, base_delay · 2ⁿ)]`.
///
/// Any other error (not found, precondition failed, access denied, …) is returned at once. Cloning
/// is cheap and clones share the random source.
#[derive(Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    sleep: SleepFn,
    rng: Arc<Mutex<fastrand::Rng>>,
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("base_delay", &self.base_delay)
            .field("max_delay", &self.max_delay)
            .finish_non_exhaustive()
    }
}

impl Default for RetryPolicy {
    /// Six attempts, 200 ms base delay, 10 s cap, sleeping on the caller's tokio runtime.
    fn default() -> Self {
        Self::new(6, Duration::from_millis(200), Duration::from_secs(10))
    }
}

impl RetryPolicy {
    /// A policy making at most `max_attempts` attempts in all (at least 1), sleeping with
    /// `tokio::time::sleep` and seeded from the system's randomness.
    pub fn new(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            base_delay,
            max_delay,
            sleep: Arc::new(|delay| Box::pin(tokio::time::sleep(delay))),
            rng: Arc::new(Mutex::new(fastrand::Rng::new())),
        }
    }

    /// A policy that makes a single attempt.
    pub fn no_retries() -> Self {
        Self::new(1, Duration::ZERO, Duration::ZERO)
    }

    /// This policy, waiting with `sleep` instead of the tokio timer (tests record the delays).
    pub fn with_sleep(mut self, sleep: SleepFn) -> Self {
        self.sleep = sleep;
        self
    }

    /// This policy, drawing its jitter from a generator seeded with `seed` (deterministic).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(seed)));
        self
    }

    /// The most attempts made, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The upper bound of the delay before retry `retry` (0 for the first retry):
    /// `min(max_delay, base_delay · 2^retry)`.
    pub fn delay_cap(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base_delay.checked_mul(factor).unwrap_or(Duration::MAX).min(self.max_delay)
    }

    /// A delay drawn uniformly from `[0, delay_cap(retry)]` (full jitter).
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap_nanos = u64::try_from(self.delay_cap(retry).as_nanos()).unwrap_or(u64::MAX);
        let mut rng = self.rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Duration::from_nanos(rng.u64(0..=cap_nanos))
    }

    /// Runs `op` until it succeeds, fails with a non-transient error, or `max_attempts` attempts
    /// have failed; returns the last outcome. `op` receives the attempt number (0 for the first).
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, StoreError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let mut attempt = 0;
        loop {
            match op(attempt).await {
                Err(err) if err.is_transient() && attempt + 1 < self.max_attempts => {
                    let delay = self.backoff(attempt);
                    tracing::debug!(attempt, ?delay, error = %err, "transient store error; retrying");
                    (self.sleep)(delay).await;
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A sleep that records each requested delay and returns at once.
    fn recording_sleep() -> (SleepFn, Arc<Mutex<Vec<Duration>>>) {
        let slept = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&slept);
        let sleep: SleepFn = Arc::new(move |delay| {
            log.lock().unwrap().push(delay);
            Box::pin(async {})
        });
        (sleep, slept)
    }

    fn transient() -> StoreError {
        StoreError::Transient { path: "s3://b/k".into(), message: "503 SlowDown".into() }
    }

    fn policy(max_attempts: u32) -> (RetryPolicy, Arc<Mutex<Vec<Duration>>>) {
        let (sleep, slept) = recording_sleep();
        let policy =
            RetryPolicy::new(max_attempts, Duration::from_millis(100), Duration::from_millis(1000))
                .with_sleep(sleep)
                .with_seed(7);
        (policy, slept)
    }

    #[test]
    fn caps_grow_exponentially_up_to_the_maximum() {
        let (p, _) = policy(10);
        let caps: Vec<u64> = (0..6).map(|n| p.delay_cap(n).as_millis() as u64).collect();
        assert_eq!(caps, [100, 200, 400, 800, 1000, 1000]);
        // Huge retry counts saturate instead of overflowing.
        assert_eq!(p.delay_cap(200), Duration::from_millis(1000));
    }

    #[test]
    fn jitter_stays_within_the_cap_and_varies() {
        let (p, _) = policy(10);
        let draws: Vec<Duration> = (0..200).map(|_| p.backoff(3)).collect();
        assert!(draws.iter().all(|d| *d <= Duration::from_millis(800)));
        let distinct: std::collections::BTreeSet<_> = draws.iter().collect();
        assert!(distinct.len() > 150, "full jitter should spread the delays: {}", distinct.len());
        let mean_ms = draws.iter().map(|d| d.as_secs_f64() * 1000.0).sum::<f64>() / 200.0;
        assert!((250.0..550.0).contains(&mean_ms), "uniform on [0, 800] ms, mean {mean_ms}");
    }

    #[test]
    fn same_seed_same_delays() {
        let (a, _) = policy(10);
        let (b, _) = policy(10);
        let da: Vec<_> = (0..5).map(|n| a.backoff(n)).collect();
        let db: Vec<_> = (0..5).map(|n| b.backoff(n)).collect();
        assert_eq!(da, db);
    }

    #[test]
    fn retries_transient_errors_until_success() {
        let (p, slept) = policy(6);
        let mut calls = Vec::new();
        let out = pollster::block_on(p.run(|attempt| {
            calls.push(attempt);
            async move { if attempt < 3 { Err(transient()) } else { Ok(attempt * 10) } }
        }));
        assert_eq!(out.unwrap(), 30);
        assert_eq!(calls, [0, 1, 2, 3]);
        let slept = slept.lock().unwrap().clone();
        assert_eq!(slept.len(), 3, "one sleep between consecutive attempts");
        for (n, d) in slept.iter().enumerate() {
            assert!(*d <= p.delay_cap(n as u32), "retry {n} slept {d:?}");
        }
    }

    #[test]
    fn gives_up_after_max_attempts_with_the_last_error() {
        let (p, slept) = policy(4);
        let mut calls = 0;
        let out: Result<(), _> = pollster::block_on(p.run(|_| {
            calls += 1;
            async { Err(transient()) }
        }));
        assert!(matches!(out, Err(StoreError::Transient { .. })));
        assert_eq!(calls, 4);
        assert_eq!(slept.lock().unwrap().len(), 3);
    }

    #[test]
    fn permanent_errors_are_not_retried() {
        for err in [
            StoreError::NotFound { path: "p".into() },
            StoreError::AlreadyExists { path: "p".into() },
            StoreError::PreconditionFailed { path: "p".into() },
            StoreError::AccessDenied { path: "p".into(), message: "no".into() },
            StoreError::Other { path: "p".into(), message: "bad request".into() },
        ] {
            let (p, slept) = policy(5);
            let mut calls = 0;
            let mut err = Some(err);
            let out: Result<(), _> = pollster::block_on(p.run(|_| {
                calls += 1;
                let e = err.take().expect("called once");
                async move { Err(e) }
            }));
            assert!(out.is_err());
            assert_eq!(calls, 1);
            assert!(slept.lock().unwrap().is_empty());
        }
    }

    #[test]
    fn no_retries_means_one_attempt() {
        let p = RetryPolicy::no_retries();
        let mut calls = 0;
        let out: Result<(), _> = pollster::block_on(p.run(|_| {
            calls += 1;
            async { Err(transient()) }
        }));
        assert!(out.is_err());
        assert_eq!(calls, 1);
    }
}
