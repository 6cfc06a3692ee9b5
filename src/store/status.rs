//! Job status and label counters, derived from the store alone — the catalog's `job.json` and
//! stop marker, the claims, the worker responses, the consolidation responses and the input
//! manifest's object count — so every client computes the same answer (DESIGN.md §2).
//!
//! Statuses use Ground Truth's names (spec §8.9): Initializing → InProgress → Completed | Failed,
//! and Stopping → Stopped. Per object: unclaimed, in progress (who holds which slot, k of n
//! submitted), awaiting consolidation, consolidated, or failed with a reason.
//!
//! Rules (spec §6): an object declined by as many workers as it has slots is closed; an object
//! nobody finished within `TaskAvailabilityLifetimeInSeconds` of the job's creation is closed.
//! A closed object with some answers awaits consolidation with those; with none it fails.
//!
//! Status and counters are the job layer's Ground Truth shapes. Must not
//! depend on `render`, `ui`, `app` or `cli`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use crate::job::status::{LabelCounters, LabelingJobStatus};

use super::claims::{
    ClaimCache, ClaimError, ClaimPolicy, ClaimState, ObjectClaims, is_stopped, scan_claims,
};
use super::clock::Clock;
use super::layout::JobOutput;
use super::{ObjectPath, ObjectStore, StoreError};

/// Why a data object failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectFailure {
    /// As many workers as the object has slots declined it ("expired", spec §6).
    Declined {
        /// How many workers declined it.
        workers: u32,
    },
    /// Nobody labeled it within `TaskAvailabilityLifetimeInSeconds`.
    AvailabilityExpired,
    /// Its answers could not be consolidated (the reason is in its
    /// `consolidation-response/iteration-1/<id>.failed.json`).
    ConsolidationFailed,
}

impl fmt::Display for ObjectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Declined { workers } => write!(f, "expired: declined by {workers} workers"),
            Self::AvailabilityExpired => {
                f.write_str("expired: not labeled within TaskAvailabilityLifetimeInSeconds")
            }
            Self::ConsolidationFailed => f.write_str("the answers could not be consolidated"),
        }
    }
}

/// Who holds a slot now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotHolder {
    /// The slot.
    pub slot: u32,
    /// The worker.
    pub worker: String,
    /// When the claim expires, ms since the epoch.
    pub expires_at_ms: i64,
}

/// Where one data object stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectState {
    /// Nobody holds it and nobody submitted it.
    Unclaimed,
    /// Someone holds a slot, or some but not all slots are submitted.
    InProgress {
        /// The active claims.
        holders: Vec<SlotHolder>,
        /// Slots submitted.
        submitted: u32,
        /// Slots in all (`NumberOfHumanWorkersPerDataObject`).
        of: u32,
    },
    /// Ready for consolidation: all slots submitted, or closed with some answers.
    AwaitingConsolidation {
        /// Slots submitted.
        submitted: u32,
        /// Slots in all.
        of: u32,
    },
    /// Its consolidation response exists.
    Consolidated,
    /// It failed.
    Failed(ObjectFailure),
}

impl ObjectState {
    /// True once nothing more will happen to it (consolidated or failed).
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Consolidated | Self::Failed(_))
    }
}

/// One data object's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectStatus {
    /// The object (0-based line of the input manifest).
    pub object_id: u64,
    /// Where it stands.
    pub state: ObjectState,
    /// Worker-response files stored for it.
    pub responses: u32,
    /// Of those, from workers who hold no submitted claim on it: late answers (or answers whose
    /// claim is still being marked).
    pub unclaimed_responses: u32,
}

/// A job's status, computed from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSnapshot {
    /// The status.
    pub status: LabelingJobStatus,
    /// The counters.
    pub counters: LabelCounters,
    /// Per object, in id order (empty while initializing).
    pub objects: Vec<ObjectStatus>,
    /// True when the stop marker exists.
    pub stop_requested: bool,
    /// Claims held and unexpired now.
    pub active_claims: u32,
    /// Why the job failed, when it did.
    pub failure_reason: Option<String>,
    /// When this was computed, ms since the epoch.
    pub computed_at_ms: i64,
}

/// What status needs to know about a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusQuery {
    /// The catalog's `jobs/<job>/job.json`.
    pub job_spec: ObjectPath,
    /// The catalog's `jobs/<job>/stop`.
    pub stop_marker: ObjectPath,
    /// The job's output folder.
    pub output: JobOutput,
    /// How many data objects the input manifest has; `None` while it is not read yet.
    pub object_count: Option<u64>,
    /// When the job was created, ms since the epoch.
    pub created_at_ms: i64,
    /// The job's claim parameters.
    pub policy: ClaimPolicy,
}

/// Errors computing a status.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// No `job.json` at the given path.
    #[error("{path}: no such job")]
    NoSuchJob {
        /// The missing `job.json`.
        path: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the claims failed.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// A file is not what it should be.
    #[error("{path}: {message}")]
    Invalid {
        /// The object.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Counts the data objects of a JSON Lines input manifest: its non-blank lines.
pub async fn count_manifest_objects(
    store: &dyn ObjectStore,
    manifest: &ObjectPath,
) -> Result<u64, StatusError> {
    let got = store.get(manifest, None).await?;
    Ok(super::catalog::count_manifest_lines(&got.bytes) as u64)
}

/// Every key under `prefix`, after the prefix.
async fn list_rest(
    store: &dyn ObjectStore,
    prefix: &ObjectPath,
) -> Result<Vec<String>, StoreError> {
    let objects = super::util::list_all(store, prefix).await?;
    Ok(objects
        .iter()
        .filter_map(|m| m.path.key().strip_prefix(prefix.key()).map(str::to_owned))
        .collect())
}

fn parse_u64(text: &str) -> Option<u64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// `<object>/<epoch-ms>-<worker>.json` → (object, worker).
fn parse_response_key(rest: &str) -> Option<(u64, String)> {
    let (object, file) = rest.split_once('/')?;
    let (ms, worker) = file.strip_suffix(".json")?.split_once('-')?;
    parse_u64(ms)?;
    super::layout::validate_segment("worker id", worker).ok()?;
    Some((parse_u64(object)?, worker.to_owned()))
}

/// What the store records about an object's consolidation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// `consolidation-response/iteration-1/<id>.json` exists.
    Consolidated,
    /// Only `consolidation-response/iteration-1/<id>.failed.json` exists.
    Failed,
}

/// The recorded consolidation outcome of every object that has one, from one listing of the
/// consolidation-response folder. A response wins over a failure record.
pub async fn recorded_outcomes(
    store: &dyn ObjectStore,
    output: &JobOutput,
) -> Result<BTreeMap<u64, Recorded>, StoreError> {
    let mut recorded = BTreeMap::new();
    for rest in list_rest(store, &output.consolidation_responses_prefix()?).await? {
        let Some(stem) = rest.strip_suffix(".json") else { continue };
        if let Some(id) = stem.strip_suffix(".failed").and_then(parse_u64) {
            recorded.entry(id).or_insert(Recorded::Failed);
        } else if let Some(id) = parse_u64(stem) {
            recorded.insert(id, Recorded::Consolidated);
        }
    }
    Ok(recorded)
}

/// Where one data object stands, from its claims, its recorded consolidation outcome, the job's
/// workers per object and whether `TaskAvailabilityLifetimeInSeconds` has passed. The one rule
/// every client applies (status, consolidation triggers).
pub fn object_state(
    claims: &ObjectClaims,
    recorded: Option<Recorded>,
    workers_per_object: u32,
    now_ms: i64,
    past_deadline: bool,
) -> ObjectState {
    let wpo = workers_per_object;
    let submitted = claims.submitted();
    let active = claims.active(now_ms);
    let declines = u32::try_from(claims.declined_by().len()).unwrap_or(u32::MAX);
    let closed = declines >= wpo || past_deadline;
    let natural = if submitted >= wpo || (closed && active == 0 && submitted > 0) {
        ObjectState::AwaitingConsolidation { submitted, of: wpo }
    } else if active > 0 || submitted > 0 {
        let holders = claims
            .slots
            .values()
            .filter(|c| c.record.is_active(now_ms))
            .map(|c| SlotHolder {
                slot: c.slot,
                worker: c.record.worker.clone(),
                expires_at_ms: c.record.expires_at_ms,
            })
            .collect();
        ObjectState::InProgress { holders, submitted, of: wpo }
    } else if declines >= wpo {
        ObjectState::Failed(ObjectFailure::Declined { workers: declines })
    } else if past_deadline {
        ObjectState::Failed(ObjectFailure::AvailabilityExpired)
    } else {
        ObjectState::Unclaimed
    };
    match (recorded, natural) {
        (Some(Recorded::Consolidated), _) => ObjectState::Consolidated,
        (Some(Recorded::Failed), failed @ ObjectState::Failed(_)) => failed,
        (Some(Recorded::Failed), _) => ObjectState::Failed(ObjectFailure::ConsolidationFailed),
        (None, natural) => natural,
    }
}

/// Computes a job's status from the store.
pub async fn job_status(
    store: &dyn ObjectStore,
    query: &StatusQuery,
    clock: &dyn Clock,
) -> Result<JobSnapshot, StatusError> {
    match store.head(&query.job_spec).await {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            return Err(StatusError::NoSuchJob { path: query.job_spec.uri() });
        }
        Err(e) => return Err(e.into()),
    }
    let stop_requested = is_stopped(store, &query.stop_marker).await?;
    let now_ms = clock.now_ms();
    let mut snapshot = JobSnapshot {
        status: LabelingJobStatus::Initializing,
        counters: LabelCounters::default(),
        objects: Vec::new(),
        stop_requested,
        active_claims: 0,
        failure_reason: None,
        computed_at_ms: now_ms,
    };
    let Some(object_count) = query.object_count else { return Ok(snapshot) };
    if object_count == 0 {
        snapshot.status = LabelingJobStatus::Failed;
        snapshot.failure_reason = Some("the input manifest has no data objects".into());
        return Ok(snapshot);
    }

    let wpo = query.policy.workers_per_object;
    let claims_prefix = query.output.claims_prefix()?;
    let board =
        scan_claims(store, &claims_prefix, &claims_prefix, wpo, &ClaimCache::default()).await?;

    let mut responses: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for rest in list_rest(store, &query.output.worker_responses_prefix()?).await? {
        if let Some((object, worker)) = parse_response_key(&rest) {
            responses.entry(object).or_default().push(worker);
        }
    }
    let recorded = recorded_outcomes(store, &query.output).await?;

    let deadline_ms = query.created_at_ms.saturating_add(
        i64::try_from(query.policy.availability_lifetime_secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000),
    );
    let past_deadline = now_ms >= deadline_ms;
    let empty = Default::default();
    let mut counters = LabelCounters::default();
    let mut active_total = 0u32;
    let mut objects = Vec::with_capacity(usize::try_from(object_count).unwrap_or(0));
    for object_id in 0..object_count {
        let claims = board.get(&object_id).unwrap_or(&empty);
        active_total += claims.active(now_ms);
        let state =
            object_state(claims, recorded.get(&object_id).copied(), wpo, now_ms, past_deadline);
        match state {
            ObjectState::Consolidated => {
                counters.total_labeled += 1;
                counters.human_labeled += 1;
            }
            ObjectState::Failed(_) => counters.failed_non_retryable_error += 1,
            _ => counters.unlabeled += 1,
        }
        let submitters: BTreeSet<&str> = claims
            .slots
            .values()
            .filter(|c| c.record.state == ClaimState::Submitted)
            .map(|c| c.record.worker.as_str())
            .collect();
        let workers = responses.get(&object_id).map(Vec::as_slice).unwrap_or_default();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        objects.push(ObjectStatus {
            object_id,
            state,
            responses: count(workers.len()),
            unclaimed_responses: count(
                workers.iter().filter(|w| !submitters.contains(w.as_str())).count(),
            ),
        });
    }

    snapshot.status = if objects.iter().all(|o| o.state.is_final()) {
        LabelingJobStatus::Completed
    } else if stop_requested {
        if active_total > 0 { LabelingJobStatus::Stopping } else { LabelingJobStatus::Stopped }
    } else {
        LabelingJobStatus::InProgress
    };
    snapshot.counters = counters;
    snapshot.objects = objects;
    snapshot.active_claims = active_total;
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn parses_response_keys() {
        assert_eq!(parse_response_key("4/1700000000000-ann.json"), Some((4, "ann".into())));
        assert_eq!(parse_response_key("4/1700000000000-a-b.json"), Some((4, "a-b".into())));
        assert_eq!(parse_response_key("4/x-ann.json"), None);
        assert_eq!(parse_response_key("4/2021-03-08_23:06:49.json"), None);
        assert_eq!(parse_response_key("x/1-a.json"), None);
    }
}
