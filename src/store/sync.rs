//! The sync engine: one task on the Tokio runtime that drains the outbox and syncs drafts in the
//! background, retrying with backoff, and reports a [`SyncStatus`] through a `watch` channel.
//!
//! The UI talks to it only through a [`SyncHandle`]: [`SyncHandle::enqueue`] and
//! [`SyncHandle::save_draft`] hand work over a bounded channel and return at once (the engine
//! journals the submission durably as the first thing it does), [`SyncHandle::status`] reads the
//! latest status without waiting, and [`SyncHandle::flush`] (for the CLI and tests) asks for an
//! immediate attempt at everything and waits for its result.
//!
//! Must not depend on `render`, `ui`, `app` or `cli`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::Instrument;

use super::ObjectStore;
use super::outbox::{DraftKey, Drafts, Outbox, OutboxError, RetryPolicy, SubmissionRequest};

/// What the sync engine reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    /// False once a store call failed for network reasons, true again after one succeeds.
    pub online: bool,
    /// Submissions not yet acknowledged by the store (journaled or about to be).
    pub queued: usize,
    /// Drafts saved here that the store does not have yet.
    pub drafts_pending: usize,
    /// Submissions acknowledged since the engine started.
    pub delivered: u64,
    /// Of those, how many were late (their claim had been lost).
    pub late: u64,
    /// The most recent failure, cleared when everything is delivered.
    pub last_error: Option<String>,
}

impl Default for SyncStatus {
    fn default() -> Self {
        Self { online: true, queued: 0, drafts_pending: 0, delivered: 0, late: 0, last_error: None }
    }
}

/// How the engine behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    /// Backoff between attempts (`max_attempts` is not used: the engine retries forever).
    pub retry: RetryPolicy,
    /// Capacity of the command channel; [`SyncHandle::enqueue`] fails with
    /// [`SyncError::Busy`] when it is full.
    pub command_capacity: usize,
    /// How often the engine looks at the journal even when nothing happened (picks up entries
    /// written by another process of the same workspace, e.g. the CLI).
    pub idle_poll_ms: u64,
    /// Seed for the backoff jitter (fixed in tests, random in production).
    pub jitter_seed: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            command_capacity: 256,
            idle_poll_ms: 30_000,
            jitter_seed: fastrand::u64(..),
        }
    }
}

/// Why the engine did not take a request.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The command channel is full; try again shortly (the work stays with the caller).
    #[error("the sync engine is busy; try again")]
    Busy,
    /// The engine has stopped.
    #[error("the sync engine has stopped")]
    Stopped,
}

enum Command {
    Submit(Box<SubmissionRequest>),
    SaveDraft(Box<DraftKey>, Value),
    Flush(oneshot::Sender<SyncStatus>),
    Shutdown(oneshot::Sender<()>),
}

/// The UI's and CLI's side of the sync engine. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SyncHandle {
    commands: mpsc::Sender<Command>,
    status: watch::Receiver<SyncStatus>,
    /// Submissions handed over but not yet journaled by the engine.
    in_transit: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Submit(_) => "Submit",
            Self::SaveDraft(..) => "SaveDraft",
            Self::Flush(_) => "Flush",
            Self::Shutdown(_) => "Shutdown",
        })
    }
}

impl SyncHandle {
    /// Hands a submission to the engine without waiting. The engine journals it durably before
    /// anything else, then uploads it. On [`SyncError::Busy`] keep the work and retry.
    pub fn enqueue(&self, submission: SubmissionRequest) -> Result<(), SyncError> {
        self.in_transit.fetch_add(1, Ordering::SeqCst);
        match self.commands.try_send(Command::Submit(Box::new(submission))) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.in_transit.fetch_sub(1, Ordering::SeqCst);
                Err(match e {
                    mpsc::error::TrySendError::Full(_) => SyncError::Busy,
                    mpsc::error::TrySendError::Closed(_) => SyncError::Stopped,
                })
            }
        }
    }

    /// Hands a draft to the engine without waiting; it is saved locally at once and synced.
    pub fn save_draft(&self, key: DraftKey, content: Value) -> Result<(), SyncError> {
        self.commands.try_send(Command::SaveDraft(Box::new(key), content)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SyncError::Busy,
            mpsc::error::TrySendError::Closed(_) => SyncError::Stopped,
        })
    }

    /// The latest status; never waits.
    pub fn status(&self) -> SyncStatus {
        let mut status = self.status.borrow().clone();
        status.queued += self.in_transit.load(Ordering::SeqCst);
        status
    }

    /// A receiver that wakes on every status change (for an async UI bridge).
    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Attempts everything now, ignoring backoff, and returns the status after that attempt.
    /// Everything was delivered when `queued == 0 && drafts_pending == 0`.
    pub async fn flush(&self) -> Result<SyncStatus, SyncError> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::Flush(tx)).await.map_err(|_| SyncError::Stopped)?;
        rx.await.map_err(|_| SyncError::Stopped)
    }

    /// Stops the engine after its current step. Whatever is not delivered stays in the journal.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// Starts the sync engine on `runtime` for one workspace's `store`, journal and drafts.
pub fn spawn_sync_engine(
    runtime: &tokio::runtime::Handle,
    store: Arc<dyn ObjectStore>,
    outbox: Arc<Outbox>,
    drafts: Arc<Drafts>,
    config: SyncConfig,
) -> SyncHandle {
    let (commands, rx) = mpsc::channel(config.command_capacity.max(1));
    let (status_tx, status) = watch::channel(SyncStatus::default());
    let in_transit = Arc::new(AtomicUsize::new(0));
    let engine = Engine {
        store,
        outbox,
        drafts,
        rng: fastrand::Rng::with_seed(config.jitter_seed),
        config,
        status: status_tx,
        in_transit: in_transit.clone(),
        backoff: HashMap::new(),
        drafts_backoff: None,
    };
    runtime.spawn(engine.run(rx).instrument(tracing::info_span!("sync-engine")));
    SyncHandle { commands, status, in_transit }
}

/// Retry state of one journal entry.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    attempts: u32,
    next_at: Instant,
}

struct Engine {
    store: Arc<dyn ObjectStore>,
    outbox: Arc<Outbox>,
    drafts: Arc<Drafts>,
    config: SyncConfig,
    rng: fastrand::Rng,
    status: watch::Sender<SyncStatus>,
    in_transit: Arc<AtomicUsize>,
    backoff: HashMap<String, Backoff>,
    drafts_backoff: Option<Backoff>,
}

impl Engine {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        tracing::debug!("started");
        // Count what an earlier session left before anything else, then deliver it.
        self.publish();
        self.round(false).await;
        loop {
            let wake = self.next_wake();
            let command = tokio::select! {
                command = rx.recv() => command,
                () = tokio::time::sleep_until(wake) => {
                    self.round(false).await;
                    continue;
                }
            };
            match command {
                None => break,
                Some(Command::Submit(request)) => {
                    let journaled = self.outbox.enqueue(*request);
                    self.in_transit.fetch_sub(1, Ordering::SeqCst);
                    if let Err(e) = journaled {
                        tracing::error!(error = %e, "submission could not be journaled");
                        self.status.send_modify(|s| s.last_error = Some(e.to_string()));
                    }
                    self.round(false).await;
                }
                Some(Command::SaveDraft(key, content)) => {
                    if let Err(e) = self.drafts.save_draft(&key, content) {
                        tracing::error!(error = %e, "draft could not be saved locally");
                        self.status.send_modify(|s| s.last_error = Some(e.to_string()));
                    }
                    self.round(false).await;
                }
                Some(Command::Flush(reply)) => {
                    self.round(true).await;
                    let _ = reply.send(self.status.borrow().clone());
                }
                Some(Command::Shutdown(reply)) => {
                    rx.close();
                    let _ = reply.send(());
                    break;
                }
            }
        }
        tracing::debug!("stopped");
    }

    fn next_wake(&self) -> Instant {
        let idle = Instant::now() + Duration::from_millis(self.config.idle_poll_ms.max(1));
        self.backoff
            .values()
            .chain(self.drafts_backoff.iter())
            .map(|b| b.next_at)
            .fold(idle, Instant::min)
    }

    fn schedule(&mut self, previous: Option<Backoff>) -> Backoff {
        let attempts = previous.map_or(0, |b| b.attempts);
        let delay = self.config.retry.backoff_ms(attempts, &mut self.rng);
        Backoff {
            attempts: attempts.saturating_add(1),
            next_at: Instant::now() + Duration::from_millis(delay),
        }
    }

    fn note_failure(&mut self, error: &OutboxError) {
        let online = !error.is_transient();
        let message = error.to_string();
        self.status.send_modify(|s| {
            if !online {
                s.online = false;
            }
            s.last_error = Some(message);
        });
    }

    /// One pass: deliver every due journal entry (all of them when `force`), then sync drafts.
    async fn round(&mut self, force: bool) {
        let now = Instant::now();
        match self.outbox.pending() {
            Ok(pending) => {
                self.backoff.retain(|id, _| pending.iter().any(|q| &q.id == id));
                let mut unreachable = false;
                for queued in &pending {
                    let previous = self.backoff.get(&queued.id).copied();
                    let due = force || previous.is_none_or(|b| b.next_at <= now);
                    if !due || unreachable {
                        continue;
                    }
                    match self.outbox.deliver(self.store.as_ref(), queued).await {
                        Ok(delivered) => {
                            self.backoff.remove(&queued.id);
                            tracing::info!(response = %delivered.response, late = delivered.late, "submission delivered");
                            self.status.send_modify(|s| {
                                s.online = true;
                                s.queued = s.queued.saturating_sub(1);
                                s.delivered += 1;
                                s.late += u64::from(delivered.late);
                            });
                        }
                        Err(e) => {
                            tracing::warn!(id = %queued.id, error = %e, "submission not delivered yet");
                            unreachable = e.is_transient();
                            let next = self.schedule(previous);
                            self.backoff.insert(queued.id.clone(), next);
                            self.note_failure(&e);
                        }
                    }
                }
                // Entries skipped because the store is unreachable wait as long as the failed one.
                if unreachable {
                    let latest = self.backoff.values().map(|b| b.next_at).max();
                    for queued in &pending {
                        if let (false, Some(at)) = (self.backoff.contains_key(&queued.id), latest) {
                            self.backoff
                                .insert(queued.id.clone(), Backoff { attempts: 1, next_at: at });
                        }
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "outbox journal unreadable");
                self.note_failure(&e);
            }
        }

        let drafts_due = force || self.drafts_backoff.is_none_or(|b| b.next_at <= now);
        if drafts_due {
            match self.drafts.sync_all(self.store.as_ref()).await {
                Ok(_) => self.drafts_backoff = None,
                Err(e) => {
                    tracing::warn!(error = %e, "drafts not synced yet");
                    self.drafts_backoff = Some(self.schedule(self.drafts_backoff));
                    self.note_failure(&e);
                }
            }
        }
        self.publish();
    }

    fn publish(&mut self) {
        let queued = self.outbox.len();
        let drafts_pending = self.drafts.unsynced().map(|d| d.len());
        self.status.send_modify(|s| {
            if let Ok(queued) = queued {
                s.queued = queued;
            }
            if let Ok(pending) = drafts_pending {
                s.drafts_pending = pending;
            }
            if s.queued == 0 && s.drafts_pending == 0 {
                s.last_error = None;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::store::ObjectPath;
    use crate::store::clock::ManualClock;
    use crate::store::memory::{FlakyStore, MemoryStore};

    fn request(object_id: u64) -> SubmissionRequest {
        SubmissionRequest {
            s3_output_path: ObjectPath::parse("s3://bkt/out/").unwrap(),
            job_name: "job".into(),
            kms_key_id: None,
            object_id,
            slot: 0,
            worker: "w1".into(),
            claimed_at_ms: 1,
            accepted_at_ms: 2,
            time_spent_secs: 1.5,
            worker_metadata: None,
            answer_content: serde_json::json!({"label": "cat"}),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn engine_queues_offline_and_drains_when_back() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(1_000));
        let store = Arc::new(FlakyStore::new(MemoryStore::new()));
        let outbox = Arc::new(Outbox::open(dir.path(), clock.clone()).unwrap());
        let drafts = Arc::new(Drafts::open(dir.path(), clock.clone()).unwrap());
        let config = SyncConfig {
            retry: RetryPolicy { initial_backoff_ms: 5, max_backoff_ms: 20, max_attempts: 1 },
            command_capacity: 8,
            idle_poll_ms: 50,
            jitter_seed: 1,
        };
        store.set_offline(true);
        let handle = spawn_sync_engine(
            &tokio::runtime::Handle::current(),
            store.clone(),
            outbox.clone(),
            drafts,
            config,
        );
        handle.enqueue(request(0)).unwrap();
        handle.enqueue(request(1)).unwrap();
        let status = handle.flush().await.unwrap();
        assert!(!status.online);
        assert_eq!(status.queued, 2);
        assert!(status.last_error.is_some());
        assert_eq!(outbox.len().unwrap(), 2, "journaled while offline");

        store.set_offline(false);
        let status = handle.flush().await.unwrap();
        assert!(status.online);
        assert_eq!((status.queued, status.delivered, status.late), (0, 2, 2));
        assert_eq!(status.last_error, None);
        // No claim existed, so both were uploaded as late.
        let prefix = ObjectPath::parse("s3://bkt/out/job/annotations/worker-response/").unwrap();
        assert_eq!(store.inner().list(&prefix, None, 100).await.unwrap().objects.len(), 2);
        handle.shutdown().await;
        assert!(matches!(handle.enqueue(request(2)), Err(SyncError::Stopped)));
    }
}
