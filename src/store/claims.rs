//! Claims: how N workers on N machines share one job with no server (DESIGN.md §2).
//!
//! Slot `s` of data object `i` (`0 ≤ s < NumberOfHumanWorkersPerDataObject`) belongs to whoever
//! wrote `annotation-tool/claims/<i>/<s>.json` first, with a create-only put. A claim carries the
//! worker, when it was claimed, when it expires (claimed-at + `TaskTimeLimitInSeconds`) and its
//! state. Every later change — release, decline, submit, and the takeover of an expired, released
//! or declined claim — is an update-if-etag, so two workers racing always get one winner and one
//! clear "taken" answer, never two owners.
//!
//! Rules enforced here, all decided from the store alone:
//! - a worker never holds two slots of one object, and never gets back an object it declined or
//!   already submitted;
//! - `MaxConcurrentTaskCount` ([`ClaimPolicy::max_concurrent_tasks`]) bounds how many data objects
//!   are in flight at once over the whole job, as in Ground Truth; a separate per-worker bound
//!   ([`ClaimPolicy::max_active_claims_per_worker`]) limits how many tasks one worker holds;
//! - nothing is claimed once `TaskAvailabilityLifetimeInSeconds` has passed since the job was
//!   created, nor once the job's stop marker exists;
//! - an object declined by as many workers as it has slots is closed ("expired", spec §6).
//!
//! Owns the claim record format and the claim protocol. Knows nothing of the job specification
//! type: the job parameters arrive as a [`ClaimPolicy`]. Must not depend on `render`, `ui`, `app`
//! or `cli`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::clock::Clock;
use super::layout::{JobOutput, validate_segment};
use super::{ObjectPath, ObjectStore, PutMode, PutOptions, StoreError};

/// Page size used when listing claims.
const LIST_PAGE: usize = 1000;
/// How often a conditional update re-reads and retries after losing a race to itself (an update
/// by another of the same worker's machines); far more than ever happens.
const UPDATE_ATTEMPTS: u32 = 8;

/// The job parameters that govern claims (from the job's `HumanTaskConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimPolicy {
    /// `NumberOfHumanWorkersPerDataObject` (1–9): the slots of each object.
    pub workers_per_object: u32,
    /// `TaskTimeLimitInSeconds`: how long a claim lasts before others may take it over.
    pub task_time_limit_secs: u64,
    /// `TaskAvailabilityLifetimeInSeconds`: after this long since the job's creation nothing more
    /// is claimed, and objects nobody finished fail as expired.
    pub availability_lifetime_secs: u64,
    /// `MaxConcurrentTaskCount`: at most this many data objects in flight (claimed or partly
    /// submitted) at once over the whole job.
    pub max_concurrent_tasks: u32,
    /// At most this many unexpired claims held by one worker at once.
    pub max_active_claims_per_worker: u32,
}

impl ClaimPolicy {
    /// A policy with Ground Truth's private-workforce defaults for the optional fields
    /// (availability 30 days, 1,000 concurrent objects) and one task per worker at a time.
    pub fn new(workers_per_object: u32, task_time_limit_secs: u64) -> Self {
        Self {
            workers_per_object,
            task_time_limit_secs,
            availability_lifetime_secs: 2_592_000,
            max_concurrent_tasks: 1_000,
            max_active_claims_per_worker: 1,
        }
    }

    /// Checks the bounds the protocol relies on.
    pub fn validate(&self) -> Result<(), ClaimError> {
        let bad = |field: &'static str, reason: &str| {
            Err(ClaimError::InvalidPolicy { field, reason: reason.to_owned() })
        };
        if !(1..=9).contains(&self.workers_per_object) {
            return bad("workers_per_object", "NumberOfHumanWorkersPerDataObject is 1 to 9");
        }
        if self.task_time_limit_secs == 0 {
            return bad("task_time_limit_secs", "TaskTimeLimitInSeconds must be positive");
        }
        if self.availability_lifetime_secs == 0 {
            return bad(
                "availability_lifetime_secs",
                "TaskAvailabilityLifetimeInSeconds must be positive",
            );
        }
        if self.max_concurrent_tasks == 0 {
            return bad("max_concurrent_tasks", "MaxConcurrentTaskCount is at least 1");
        }
        if self.max_active_claims_per_worker == 0 {
            return bad("max_active_claims_per_worker", "a worker may hold at least one task");
        }
        Ok(())
    }

    /// The task time limit in milliseconds.
    pub fn task_time_limit_ms(&self) -> i64 {
        secs_to_ms(self.task_time_limit_secs)
    }
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX / 1000).saturating_mul(1000)
}

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimState {
    /// The worker is working on it (until it expires).
    Claimed,
    /// The worker gave it back; anyone may take the slot.
    Released,
    /// The worker declined it; anyone else may take the slot, and the decline counts towards
    /// closing the object.
    Declined,
    /// The worker submitted an answer; the slot is done.
    Submitted,
}

/// The stored content of `annotation-tool/claims/<object>/<slot>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    /// Who holds (or last held) the slot.
    pub worker: String,
    /// When this worker claimed it, ms since the epoch. With `worker`, it identifies one claim.
    pub claimed_at_ms: i64,
    /// When the claim stops protecting the slot: claimed-at + `TaskTimeLimitInSeconds`.
    pub expires_at_ms: i64,
    /// Where it stands.
    pub state: ClaimState,
    /// When it was released, declined or submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<i64>,
    /// Every worker who declined this slot, carried over across takeovers so declines are never
    /// forgotten.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub declined_by: BTreeSet<String>,
}

impl ClaimRecord {
    /// True while the claim is held and unexpired.
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.state == ClaimState::Claimed && now_ms < self.expires_at_ms
    }

    /// True when another worker may take the slot over at `now_ms`.
    pub fn is_takeable(&self, now_ms: i64) -> bool {
        match self.state {
            ClaimState::Claimed => now_ms >= self.expires_at_ms,
            ClaimState::Released | ClaimState::Declined => true,
            ClaimState::Submitted => false,
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        // A struct of strings, integers and a set of strings always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// One slot's claim as read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotClaim {
    /// The slot number.
    pub slot: u32,
    /// The ETag it was read with (for update-if-etag).
    pub etag: String,
    /// Its content.
    pub record: ClaimRecord,
}

/// All claims of one data object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectClaims {
    /// Readable claims by slot.
    pub slots: BTreeMap<u32, SlotClaim>,
    /// Slots whose claim file exists but cannot be parsed; nobody may take them.
    pub unreadable: BTreeSet<u32>,
}

impl ObjectClaims {
    /// How many slots are submitted.
    pub fn submitted(&self) -> u32 {
        self.count(|c| c.record.state == ClaimState::Submitted)
    }

    /// How many claims are held and unexpired at `now_ms`.
    pub fn active(&self, now_ms: i64) -> u32 {
        self.count(|c| c.record.is_active(now_ms))
    }

    fn count(&self, f: impl Fn(&SlotClaim) -> bool) -> u32 {
        u32::try_from(self.slots.values().filter(|c| f(c)).count()).unwrap_or(u32::MAX)
    }

    /// Every worker who declined this object, over all slots.
    pub fn declined_by(&self) -> BTreeSet<&str> {
        self.slots.values().flat_map(|c| c.record.declined_by.iter().map(String::as_str)).collect()
    }

    /// True when as many workers as the object has slots declined it: it is closed ("expired").
    pub fn closed_by_declines(&self, workers_per_object: u32) -> bool {
        self.declined_by().len() >= workers_per_object as usize
    }

    /// True when `worker` holds an unexpired claim on this object, submitted it, or declined it:
    /// such a worker gets no further slot of it.
    pub fn involves(&self, worker: &str, now_ms: i64) -> bool {
        self.slots.values().any(|c| {
            c.record.declined_by.contains(worker)
                || (c.record.worker == worker
                    && (c.record.is_active(now_ms) || c.record.state == ClaimState::Submitted))
        })
    }

    /// True when the object counts against `MaxConcurrentTaskCount`: someone holds a claim, or
    /// some but not all slots are submitted and the object is not closed.
    pub fn in_flight(&self, workers_per_object: u32, now_ms: i64) -> bool {
        if self.active(now_ms) > 0 {
            return true;
        }
        let submitted = self.submitted();
        submitted > 0
            && submitted < workers_per_object
            && !self.closed_by_declines(workers_per_object)
    }

    /// The slots a worker could take at `now_ms`, in order: `None` etag = free (create-only),
    /// `Some` = takeover of a released, declined or expired claim.
    fn candidate_slots(
        &self,
        workers_per_object: u32,
        now_ms: i64,
    ) -> Vec<(u32, Option<&SlotClaim>)> {
        (0..workers_per_object)
            .filter(|slot| !self.unreadable.contains(slot))
            .filter_map(|slot| match self.slots.get(&slot) {
                None => Some((slot, None)),
                Some(claim) if claim.record.is_takeable(now_ms) => Some((slot, Some(claim))),
                Some(_) => None,
            })
            .collect()
    }
}

/// Proof of a won claim: what a worker needs to release, decline or submit it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimTicket {
    /// The data object (its 0-based line in the input manifest).
    pub object_id: u64,
    /// The slot.
    pub slot: u32,
    /// Who holds it.
    pub worker: String,
    /// When it was claimed; with `worker`, identifies this claim across takeovers.
    pub claimed_at_ms: i64,
    /// When it expires.
    pub expires_at_ms: i64,
    /// The claim's ETag right after the claim was written.
    pub etag: String,
}

/// Why no task was claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The job's stop marker exists.
    JobStopped,
    /// `TaskAvailabilityLifetimeInSeconds` has passed since the job was created.
    AvailabilityExpired,
    /// The worker already holds as many unexpired claims as allowed.
    WorkerLimitReached,
    /// Free slots exist, but only on objects not yet started, and `MaxConcurrentTaskCount`
    /// objects are already in flight.
    ConcurrencyLimitReached,
    /// Every slot this worker could take is held, submitted, or on an object it already worked.
    NoTaskAvailable,
}

/// The answer to "give me the next task".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimNext {
    /// A slot was won.
    Claimed(ClaimTicket),
    /// Nothing to claim now.
    Unavailable(Unavailable),
}

/// The result of changing a claim's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishOutcome {
    /// The claim now has the asked-for state.
    Done,
    /// It already had it (a replay).
    AlreadyDone,
    /// The claim is no longer this worker's to change: it expired and was taken over, it was
    /// finished differently, or it is gone. `current` is what the store holds now, if anything.
    Lost {
        /// The claim as it stands, if it exists.
        current: Option<ClaimRecord>,
    },
}

/// Errors of the claim protocol.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A claim file exists but is not a claim.
    #[error("{path}: not a valid claim: {message}")]
    Corrupt {
        /// The claim file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The job parameters are out of range.
    #[error("claim policy: {field}: {reason}")]
    InvalidPolicy {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The object id is not in the job.
    #[error("data object {object_id} is not in the job (it has {object_count} objects)")]
    NoSuchObject {
        /// The asked-for object.
        object_id: u64,
        /// How many the job has.
        object_count: u64,
    },
    /// A conditional update kept losing races.
    #[error("{path}: the claim kept changing while it was updated")]
    Contended {
        /// The claim file.
        path: String,
    },
}

/// Remembers claim contents by ETag, so a rescan only reads claims that changed.
#[derive(Debug, Default)]
pub struct ClaimCache {
    entries: Mutex<HashMap<String, (String, ClaimRecord)>>,
}

impl ClaimCache {
    fn lookup(&self, key: &str, etag: &str) -> Option<ClaimRecord> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(key).filter(|(cached, _)| cached == etag).map(|(_, record)| record.clone())
    }

    fn store(&self, key: &str, etag: &str, record: &ClaimRecord) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.insert(key.to_owned(), (etag.to_owned(), record.clone()));
    }

    fn retain(&self, keep: &BTreeSet<String>, under: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|key, _| !key.starts_with(under) || keep.contains(key));
    }
}

/// Parses `<object>/<slot>.json` (the part of a claim key after the claims prefix).
fn parse_claim_key(rest: &str) -> Option<(u64, u32)> {
    let (object, file) = rest.split_once('/')?;
    let slot = file.strip_suffix(".json")?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(object) || !digits(slot) {
        return None;
    }
    Some((object.parse().ok()?, slot.parse().ok()?))
}

fn parse_record(path: &ObjectPath, bytes: &[u8]) -> Result<ClaimRecord, ClaimError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ClaimError::Corrupt { path: path.uri(), message: e.to_string() })
}

/// Reads one claim. `Ok(None)` when it does not exist.
pub async fn read_claim(
    store: &dyn ObjectStore,
    path: &ObjectPath,
) -> Result<Option<SlotClaimAt>, ClaimError> {
    match store.get(path, None).await {
        Ok(got) => {
            let record = parse_record(path, &got.bytes)?;
            Ok(Some(SlotClaimAt { etag: got.meta.etag, record }))
        }
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A claim's content with the ETag it was read with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotClaimAt {
    /// The ETag.
    pub etag: String,
    /// The content.
    pub record: ClaimRecord,
}

/// Reads every claim under `prefix` (all of a job's claims, or one object's), using `cache` to
/// skip claims whose ETag has not changed. Slots `≥ workers_per_object` are ignored.
pub async fn scan_claims(
    store: &dyn ObjectStore,
    claims_prefix: &ObjectPath,
    under: &ObjectPath,
    workers_per_object: u32,
    cache: &ClaimCache,
) -> Result<BTreeMap<u64, ObjectClaims>, ClaimError> {
    let mut board: BTreeMap<u64, ObjectClaims> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut continuation = None;
    loop {
        let page = store.list(under, continuation, LIST_PAGE).await?;
        for meta in &page.objects {
            let Some(rest) = meta.path.key().strip_prefix(claims_prefix.key()) else { continue };
            let Some((object_id, slot)) = parse_claim_key(rest) else { continue };
            if slot >= workers_per_object {
                continue;
            }
            let key = meta.path.key().to_owned();
            let claims = board.entry(object_id).or_default();
            let (etag, record) = match cache.lookup(&key, &meta.etag) {
                Some(record) => (meta.etag.clone(), record),
                None => match read_claim(store, &meta.path).await {
                    Ok(Some(at)) => {
                        cache.store(&key, &at.etag, &at.record);
                        (at.etag, at.record)
                    }
                    // Deleted between the listing and the read.
                    Ok(None) => continue,
                    Err(ClaimError::Corrupt { path, message }) => {
                        tracing::warn!(%path, %message, "unreadable claim; its slot stays blocked");
                        claims.unreadable.insert(slot);
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            };
            seen.insert(key);
            claims.slots.insert(slot, SlotClaim { slot, etag, record });
        }
        continuation = page.next;
        if continuation.is_none() {
            break;
        }
    }
    cache.retain(&seen, under.key());
    Ok(board)
}

/// Changes the state of one claim from `claimed` to `new_state`, if it is still the claim that
/// `worker` made at `claimed_at_ms`. A conditional update: it never overwrites another worker's
/// claim. Releasing, declining or submitting an expired claim nobody took over still succeeds.
pub async fn finish_claim(
    store: &dyn ObjectStore,
    path: &ObjectPath,
    worker: &str,
    claimed_at_ms: i64,
    new_state: ClaimState,
    now_ms: i64,
    kms_key_id: Option<&str>,
) -> Result<FinishOutcome, ClaimError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let Some(at) = read_claim(store, path).await? else {
            return Ok(FinishOutcome::Lost { current: None });
        };
        let record = at.record;
        if record.worker != worker || record.claimed_at_ms != claimed_at_ms {
            return Ok(FinishOutcome::Lost { current: Some(record) });
        }
        if record.state == new_state {
            return Ok(FinishOutcome::AlreadyDone);
        }
        if record.state != ClaimState::Claimed {
            return Ok(FinishOutcome::Lost { current: Some(record) });
        }
        let mut next = record;
        next.state = new_state;
        next.finished_at_ms = Some(now_ms);
        if new_state == ClaimState::Declined {
            next.declined_by.insert(worker.to_owned());
        }
        let options = put_options(PutMode::UpdateIfMatch(at.etag), kms_key_id);
        match store.put(path, next.to_bytes(), options).await {
            Ok(_) => return Ok(FinishOutcome::Done),
            Err(StoreError::PreconditionFailed { .. }) => continue,
            Err(StoreError::NotFound { .. }) => return Ok(FinishOutcome::Lost { current: None }),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ClaimError::Contended { path: path.uri() })
}

fn put_options(mode: PutMode, kms_key_id: Option<&str>) -> PutOptions {
    PutOptions {
        mode,
        content_type: Some("application/json".into()),
        kms_key_id: kms_key_id.map(str::to_owned),
    }
}

/// What the claim protocol needs to know about a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimJob {
    /// The job's output folder.
    pub output: JobOutput,
    /// The catalog's `jobs/<job>/stop` marker.
    pub stop_marker: ObjectPath,
    /// When the job was created, ms since the epoch (start of the availability lifetime).
    pub created_at_ms: i64,
    /// How many data objects the input manifest has.
    pub object_count: u64,
    /// `OutputConfig.KmsKeyId`, asked for on every claim write.
    pub kms_key_id: Option<String>,
}

/// True when the job's stop marker exists.
pub async fn is_stopped(
    store: &dyn ObjectStore,
    stop_marker: &ObjectPath,
) -> Result<bool, StoreError> {
    match store.head(stop_marker).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// One worker's (or one machine's) view of a job's claims, and the operations on them.
#[derive(Debug)]
pub struct ClaimBoard {
    store: Arc<dyn ObjectStore>,
    job: ClaimJob,
    policy: ClaimPolicy,
    clock: Arc<dyn Clock>,
    claims_prefix: ObjectPath,
    cache: ClaimCache,
}

impl ClaimBoard {
    /// A board for `job` under `policy`, reading the time from `clock`.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        job: ClaimJob,
        policy: ClaimPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ClaimError> {
        policy.validate()?;
        let claims_prefix = job.output.claims_prefix()?;
        Ok(Self { store, job, policy, clock, claims_prefix, cache: ClaimCache::default() })
    }

    /// The policy.
    pub fn policy(&self) -> &ClaimPolicy {
        &self.policy
    }

    /// The job.
    pub fn job(&self) -> &ClaimJob {
        &self.job
    }

    /// When the availability lifetime ends, ms since the epoch.
    pub fn availability_deadline_ms(&self) -> i64 {
        self.job.created_at_ms.saturating_add(secs_to_ms(self.policy.availability_lifetime_secs))
    }

    /// Every claim of the job, by object.
    pub async fn scan(&self) -> Result<BTreeMap<u64, ObjectClaims>, ClaimError> {
        scan_claims(
            self.store.as_ref(),
            &self.claims_prefix,
            &self.claims_prefix,
            self.policy.workers_per_object,
            &self.cache,
        )
        .await
    }

    async fn scan_object(&self, object_id: u64) -> Result<ObjectClaims, ClaimError> {
        let under = self.claims_prefix.join(&format!("{object_id}/"))?;
        let mut board = scan_claims(
            self.store.as_ref(),
            &self.claims_prefix,
            &under,
            self.policy.workers_per_object,
            &self.cache,
        )
        .await?;
        Ok(board.remove(&object_id).unwrap_or_default())
    }

    /// The unexpired claims `worker` holds, as tickets (to resume work after a restart).
    pub async fn held_by(&self, worker: &str) -> Result<Vec<ClaimTicket>, ClaimError> {
        let now_ms = self.clock.now_ms();
        let board = self.scan().await?;
        Ok(board
            .iter()
            .flat_map(|(object_id, claims)| {
                claims
                    .slots
                    .values()
                    .filter(|c| c.record.worker == worker && c.record.is_active(now_ms))
                    .map(|c| ticket(*object_id, c.slot, &c.etag, &c.record))
            })
            .collect())
    }

    /// Checks what blocks every claim: the stop marker, the availability lifetime, the
    /// worker's own limit. Returns the scanned board when nothing blocks.
    async fn gate(
        &self,
        worker: &str,
    ) -> Result<Result<(BTreeMap<u64, ObjectClaims>, i64), Unavailable>, ClaimError> {
        validate_segment("worker id", worker)?;
        if is_stopped(self.store.as_ref(), &self.job.stop_marker).await? {
            return Ok(Err(Unavailable::JobStopped));
        }
        if self.clock.now_ms() >= self.availability_deadline_ms() {
            return Ok(Err(Unavailable::AvailabilityExpired));
        }
        let board = self.scan().await?;
        let now_ms = self.clock.now_ms();
        let held = board
            .values()
            .flat_map(|c| c.slots.values())
            .filter(|c| c.record.worker == worker && c.record.is_active(now_ms))
            .count();
        if held >= self.policy.max_active_claims_per_worker as usize {
            return Ok(Err(Unavailable::WorkerLimitReached));
        }
        Ok(Ok((board, now_ms)))
    }

    /// Claims the next task for `worker`: scans the objects in order, takes the first slot it
    /// may take, racing other workers with a conditional write; on losing a race it tries the
    /// next slot, then the next object.
    pub async fn claim_next(&self, worker: &str) -> Result<ClaimNext, ClaimError> {
        let (board, now_ms) = match self.gate(worker).await? {
            Ok(ready) => ready,
            Err(why) => return Ok(ClaimNext::Unavailable(why)),
        };
        let wpo = self.policy.workers_per_object;
        let mut in_flight = board.values().filter(|claims| claims.in_flight(wpo, now_ms)).count();
        let empty = ObjectClaims::default();
        let mut blocked_by_limit = false;
        for object_id in 0..self.job.object_count {
            let claims = board.get(&object_id).unwrap_or(&empty);
            if claims.closed_by_declines(wpo) || claims.involves(worker, now_ms) {
                continue;
            }
            let candidates = claims.candidate_slots(wpo, now_ms);
            if candidates.is_empty() {
                continue;
            }
            let starts_new = !claims.in_flight(wpo, now_ms);
            if starts_new && in_flight >= self.policy.max_concurrent_tasks as usize {
                blocked_by_limit = true;
                continue;
            }
            if let Some(ticket) = self.race_for(worker, object_id, &candidates).await? {
                return Ok(ClaimNext::Claimed(ticket));
            }
            // Lost every race on this object; it is surely in flight now.
            if starts_new {
                in_flight += 1;
            }
        }
        Ok(ClaimNext::Unavailable(if blocked_by_limit {
            Unavailable::ConcurrencyLimitReached
        } else {
            Unavailable::NoTaskAvailable
        }))
    }

    /// Claims a slot of one given object for `worker` (a worker picking a task from a list).
    pub async fn claim_object(
        &self,
        worker: &str,
        object_id: u64,
    ) -> Result<ClaimNext, ClaimError> {
        if object_id >= self.job.object_count {
            return Err(ClaimError::NoSuchObject {
                object_id,
                object_count: self.job.object_count,
            });
        }
        let (board, now_ms) = match self.gate(worker).await? {
            Ok(ready) => ready,
            Err(why) => return Ok(ClaimNext::Unavailable(why)),
        };
        let wpo = self.policy.workers_per_object;
        let empty = ObjectClaims::default();
        let claims = board.get(&object_id).unwrap_or(&empty);
        if claims.closed_by_declines(wpo) || claims.involves(worker, now_ms) {
            return Ok(ClaimNext::Unavailable(Unavailable::NoTaskAvailable));
        }
        let in_flight = board.values().filter(|c| c.in_flight(wpo, now_ms)).count();
        if !claims.in_flight(wpo, now_ms) && in_flight >= self.policy.max_concurrent_tasks as usize
        {
            return Ok(ClaimNext::Unavailable(Unavailable::ConcurrencyLimitReached));
        }
        let candidates = claims.candidate_slots(wpo, now_ms);
        Ok(match self.race_for(worker, object_id, &candidates).await? {
            Some(ticket) => ClaimNext::Claimed(ticket),
            None => ClaimNext::Unavailable(Unavailable::NoTaskAvailable),
        })
    }

    /// Tries the candidate slots of one object in order; the first conditional write that
    /// succeeds wins. Then makes sure this worker holds no other slot of the object.
    async fn race_for(
        &self,
        worker: &str,
        object_id: u64,
        candidates: &[(u32, Option<&SlotClaim>)],
    ) -> Result<Option<ClaimTicket>, ClaimError> {
        for (slot, previous) in candidates {
            let now_ms = self.clock.now_ms();
            let record = ClaimRecord {
                worker: worker.to_owned(),
                claimed_at_ms: now_ms,
                expires_at_ms: now_ms.saturating_add(self.policy.task_time_limit_ms()),
                state: ClaimState::Claimed,
                finished_at_ms: None,
                declined_by: previous.map(|p| p.record.declined_by.clone()).unwrap_or_default(),
            };
            let mode = match previous {
                None => PutMode::CreateOnly,
                Some(p) => PutMode::UpdateIfMatch(p.etag.clone()),
            };
            let path = self.job.output.claim(object_id, *slot)?;
            let options = put_options(mode, self.job.kms_key_id.as_deref());
            match self.store.put(&path, record.to_bytes(), options).await {
                Ok(put) => {
                    self.cache.store(path.key(), &put.etag, &record);
                    let won = ticket(object_id, *slot, &put.etag, &record);
                    if self.keeps(&won).await? {
                        return Ok(Some(won));
                    }
                    return Ok(None);
                }
                Err(
                    StoreError::AlreadyExists { .. }
                    | StoreError::PreconditionFailed { .. }
                    | StoreError::NotFound { .. },
                ) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// After winning `won`, checks that the same worker (racing from another machine or task)
    /// did not also win another slot of the object. Of two such claims the lower slot is kept
    /// and the higher released, so both racers reach the same verdict. Returns whether `won`
    /// is kept.
    async fn keeps(&self, won: &ClaimTicket) -> Result<bool, ClaimError> {
        let now_ms = self.clock.now_ms();
        let claims = self.scan_object(won.object_id).await?;
        let conflict = claims.slots.values().any(|c| {
            c.slot != won.slot
                && c.record.worker == won.worker
                && (c.record.state == ClaimState::Submitted
                    || (c.record.is_active(now_ms) && c.slot < won.slot))
        });
        if !conflict {
            return Ok(true);
        }
        tracing::debug!(object = won.object_id, slot = won.slot, "gave back a second slot");
        self.release(won).await?;
        Ok(false)
    }

    async fn finish(
        &self,
        ticket: &ClaimTicket,
        state: ClaimState,
    ) -> Result<FinishOutcome, ClaimError> {
        let path = self.job.output.claim(ticket.object_id, ticket.slot)?;
        finish_claim(
            self.store.as_ref(),
            &path,
            &ticket.worker,
            ticket.claimed_at_ms,
            state,
            self.clock.now_ms(),
            self.job.kms_key_id.as_deref(),
        )
        .await
    }

    /// Gives the task back; anyone (this worker too) may claim the slot again.
    pub async fn release(&self, ticket: &ClaimTicket) -> Result<FinishOutcome, ClaimError> {
        self.finish(ticket, ClaimState::Released).await
    }

    /// Declines the task: others may take the slot, this worker never gets the object again, and
    /// once as many workers as the object has slots declined it, it is closed.
    pub async fn decline(&self, ticket: &ClaimTicket) -> Result<FinishOutcome, ClaimError> {
        self.finish(ticket, ClaimState::Declined).await
    }

    /// Marks the slot submitted. The answer itself goes through the outbox, which calls this
    /// after the upload; calling it directly is for tests and tools.
    pub async fn submit(&self, ticket: &ClaimTicket) -> Result<FinishOutcome, ClaimError> {
        self.finish(ticket, ClaimState::Submitted).await
    }
}

fn ticket(object_id: u64, slot: u32, etag: &str, record: &ClaimRecord) -> ClaimTicket {
    ClaimTicket {
        object_id,
        slot,
        worker: record.worker.clone(),
        claimed_at_ms: record.claimed_at_ms,
        expires_at_ms: record.expires_at_ms,
        etag: etag.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::store::clock::ManualClock;
    use crate::store::memory::MemoryStore;

    fn board(
        store: Arc<dyn ObjectStore>,
        clock: Arc<ManualClock>,
        objects: u64,
        policy: ClaimPolicy,
    ) -> ClaimBoard {
        let out_root = ObjectPath::parse("s3://bkt/out/").unwrap();
        let job = ClaimJob {
            output: JobOutput::new(&out_root, "job").unwrap(),
            stop_marker: ObjectPath::parse("s3://bkt/catalog/jobs/job/stop").unwrap(),
            created_at_ms: 0,
            object_count: objects,
            kms_key_id: None,
        };
        ClaimBoard::new(store, job, policy, clock).unwrap()
    }

    fn claimed(next: ClaimNext) -> ClaimTicket {
        match next {
            ClaimNext::Claimed(t) => t,
            other => panic!("expected a claim, got {other:?}"),
        }
    }

    #[test]
    fn parses_claim_keys() {
        assert_eq!(parse_claim_key("12/3.json"), Some((12, 3)));
        assert_eq!(parse_claim_key("12/3.json.tmp"), None);
        assert_eq!(parse_claim_key("x/3.json"), None);
        assert_eq!(parse_claim_key("12/-3.json"), None);
        assert_eq!(parse_claim_key("12"), None);
    }

    #[test]
    fn policy_bounds() {
        assert!(ClaimPolicy::new(3, 60).validate().is_ok());
        assert!(ClaimPolicy::new(0, 60).validate().is_err());
        assert!(ClaimPolicy::new(10, 60).validate().is_err());
        assert!(ClaimPolicy::new(1, 0).validate().is_err());
    }

    #[test]
    fn claim_record_wire_format() {
        let record = ClaimRecord {
            worker: "ann".into(),
            claimed_at_ms: 5,
            expires_at_ms: 65,
            state: ClaimState::Claimed,
            finished_at_ms: None,
            declined_by: BTreeSet::new(),
        };
        assert_eq!(
            String::from_utf8(record.to_bytes()).unwrap(),
            r#"{"worker":"ann","claimed_at_ms":5,"expires_at_ms":65,"state":"claimed"}"#
        );
        assert!(record.is_active(64) && !record.is_active(65));
        assert!(!record.is_takeable(64) && record.is_takeable(65));
    }

    #[tokio::test]
    async fn same_worker_racing_itself_keeps_one_slot() {
        let clock = Arc::new(ManualClock::new(1_000));
        let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
        let mut policy = ClaimPolicy::new(3, 600);
        policy.max_active_claims_per_worker = 5;
        // Two machines of the same worker, each with its own board.
        let a = Arc::new(board(store.clone(), clock.clone(), 1, policy.clone()));
        let b = Arc::new(board(store.clone(), clock.clone(), 1, policy));
        let (ra, rb) = tokio::join!(a.claim_object("w", 0), b.claim_object("w", 0));
        let won = [ra.unwrap(), rb.unwrap()]
            .into_iter()
            .filter(|n| matches!(n, ClaimNext::Claimed(_)))
            .count();
        let active = a.scan().await.unwrap()[&0].active(1_000);
        assert_eq!(active, 1, "one active slot for the worker");
        assert!(won >= 1);
        // Whatever the interleaving, a third attempt gets nothing: the worker is on it.
        assert_eq!(
            a.claim_object("w", 0).await.unwrap(),
            ClaimNext::Unavailable(Unavailable::NoTaskAvailable)
        );
    }

    #[tokio::test]
    async fn keeps_gives_back_a_higher_second_slot() {
        let clock = Arc::new(ManualClock::new(1_000));
        let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
        let b = board(store.clone(), clock.clone(), 1, ClaimPolicy::new(3, 600));
        // Simulate the interleaving where another machine of "w" already holds slot 0.
        let first = claimed(b.claim_object("w", 0).await.unwrap());
        assert_eq!(first.slot, 0);
        let candidates = [(2u32, None)];
        assert_eq!(b.race_for("w", 0, &candidates).await.unwrap(), None);
        let claims = b.scan().await.unwrap().remove(&0).unwrap();
        assert_eq!(claims.slots[&2].record.state, ClaimState::Released);
        assert_eq!(claims.slots[&0].record.state, ClaimState::Claimed);
    }

    #[tokio::test]
    async fn corrupt_claim_blocks_only_its_slot() {
        let clock = Arc::new(ManualClock::new(0));
        let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
        let b = board(store.clone(), clock, 1, ClaimPolicy::new(2, 60));
        let path = b.job().output.claim(0, 0).unwrap();
        store.put(&path, b"not json".to_vec(), PutOptions::default()).await.unwrap();
        let t = claimed(b.claim_next("w").await.unwrap());
        assert_eq!(t.slot, 1);
        let claims = b.scan().await.unwrap().remove(&0).unwrap();
        assert!(claims.unreadable.contains(&0));
    }
}
