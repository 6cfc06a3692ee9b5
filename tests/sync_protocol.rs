//! The coordination protocol end to end on the in-memory store: claim races, expiry and
//! takeover, release/decline, limits, stop, the durable outbox across simulated crashes and
//! restarts, drafts, job status, and the sync engine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use groundwork::store::claims::{
    ClaimBoard, ClaimJob, ClaimNext, ClaimPolicy, ClaimTicket, FinishOutcome, Unavailable,
};
use groundwork::store::clock::ManualClock;
use groundwork::store::layout::{Catalog, JobOutput};
use groundwork::store::memory::{FlakyStore, MemoryStore};
use groundwork::store::outbox::{
    ClaimMark, DraftKey, DraftSource, DraftSync, Drafts, LATE_FIELD, Outbox, OutboxError,
    RetryPolicy, SubmissionRequest,
};
use groundwork::store::status::{
    LabelingJobStatus, ObjectFailure, ObjectState, StatusError, StatusQuery,
    count_manifest_objects, job_status,
};
use groundwork::store::sync::{SyncConfig, spawn_sync_engine};
use groundwork::store::{
    BoxFuture, GetResult, ListPage, ObjectMeta, ObjectPath, ObjectStore, PutOptions, PutResult,
    StoreError,
};
use serde_json::{Value, json};

const JOB: &str = "boxes";
const T0: i64 = 1_700_000_000_000;

fn out_root() -> ObjectPath {
    ObjectPath::parse("s3://team-bucket/out/").unwrap()
}

fn catalog() -> Catalog {
    Catalog::new(ObjectPath::parse("s3://team-bucket/gw/").unwrap()).unwrap()
}

fn output() -> JobOutput {
    JobOutput::new(&out_root(), JOB).unwrap()
}

fn claim_job(object_count: u64) -> ClaimJob {
    ClaimJob {
        output: output(),
        stop_marker: catalog().job_stop(JOB).unwrap(),
        created_at_ms: T0,
        object_count,
        kms_key_id: None,
    }
}

fn board(
    store: Arc<dyn ObjectStore>,
    clock: Arc<ManualClock>,
    objects: u64,
    policy: &ClaimPolicy,
) -> ClaimBoard {
    ClaimBoard::new(store, claim_job(objects), policy.clone(), clock).unwrap()
}

fn claimed(next: ClaimNext) -> ClaimTicket {
    match next {
        ClaimNext::Claimed(t) => t,
        other => panic!("expected a claim, got {other:?}"),
    }
}

fn request(ticket: &ClaimTicket, label: &str) -> SubmissionRequest {
    SubmissionRequest {
        s3_output_path: out_root(),
        job_name: JOB.into(),
        kms_key_id: None,
        object_id: ticket.object_id,
        slot: ticket.slot,
        worker: ticket.worker.clone(),
        claimed_at_ms: ticket.claimed_at_ms,
        accepted_at_ms: ticket.claimed_at_ms,
        time_spent_secs: 12.25,
        worker_metadata: None,
        answer_content: json!({"crowd-image-classifier": {"label": label}}),
    }
}

fn quick_retry() -> RetryPolicy {
    RetryPolicy { initial_backoff_ms: 1, max_backoff_ms: 4, max_attempts: 1 }
}

async fn keys_under(store: &dyn ObjectStore, prefix: &ObjectPath) -> Vec<String> {
    let mut keys = Vec::new();
    let mut next = None;
    loop {
        let page = store.list(prefix, next, 7).await.unwrap();
        keys.extend(page.objects.iter().map(|m| m.path.key().to_owned()));
        next = page.next;
        if next.is_none() {
            return keys;
        }
    }
}

async fn get_json(store: &dyn ObjectStore, path: &ObjectPath) -> Value {
    serde_json::from_slice(&store.get(path, None).await.unwrap().bytes).unwrap()
}

async fn write_job_json(store: &dyn ObjectStore) {
    let spec = catalog().job_spec(JOB).unwrap();
    store
        .put(&spec, br#"{"LabelingJobName":"boxes"}"#.to_vec(), PutOptions::default())
        .await
        .unwrap();
}

fn status_query(object_count: Option<u64>, policy: &ClaimPolicy) -> StatusQuery {
    StatusQuery {
        job_spec: catalog().job_spec(JOB).unwrap(),
        stop_marker: catalog().job_stop(JOB).unwrap(),
        output: output(),
        object_count,
        created_at_ms: T0,
        policy: policy.clone(),
    }
}

async fn consolidate(store: &dyn ObjectStore, object_id: u64) {
    let path = output().consolidation_response(object_id).unwrap();
    store.put(&path, b"{}".to_vec(), PutOptions::default()).await.unwrap();
}

/// A store that yields to the scheduler before every call, so tasks interleave at every store
/// round trip the way they do over a network.
#[derive(Debug)]
struct Yielding(Arc<MemoryStore>);

impl ObjectStore for Yielding {
    fn get<'a>(
        &'a self,
        path: &'a ObjectPath,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<GetResult, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.0.get(path, range).await
        })
    }
    fn head<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<ObjectMeta, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.0.head(path).await
        })
    }
    fn put<'a>(
        &'a self,
        path: &'a ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> BoxFuture<'a, Result<PutResult, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.0.put(path, bytes, options).await
        })
    }
    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.0.list(prefix, continuation, max_keys).await
        })
    }
    fn delete<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.0.delete(path).await
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_workers_race_for_fifty_objects_of_three_slots() {
    const WORKERS: usize = 32;
    const OBJECTS: u64 = 50;
    let memory = Arc::new(MemoryStore::new());
    let store: Arc<dyn ObjectStore> = Arc::new(Yielding(memory.clone()));
    let clock = Arc::new(ManualClock::new(T0 + 1_000));
    let policy = ClaimPolicy::new(3, 3_600);
    write_job_json(store.as_ref()).await;
    let journals = tempfile::tempdir().unwrap();

    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let store = store.clone();
        let clock = clock.clone();
        let policy = policy.clone();
        let journal = journals.path().join(format!("w{w}"));
        tasks.push(tokio::spawn(async move {
            let worker = format!("worker-{w:02}");
            let board = board(store.clone(), clock.clone(), OBJECTS, &policy);
            let outbox = Outbox::open(&journal, clock).unwrap();
            let mut rng = fastrand::Rng::with_seed(w as u64);
            let mut won = Vec::new();
            loop {
                match board.claim_next(&worker).await.unwrap() {
                    ClaimNext::Claimed(ticket) => {
                        tokio::task::yield_now().await;
                        outbox.enqueue(request(&ticket, &worker)).unwrap();
                        let report =
                            outbox.drain(store.as_ref(), &quick_retry(), &mut rng).await.unwrap();
                        assert_eq!(report.delivered.len(), 1, "{:?}", report.last_error);
                        assert!(!report.delivered[0].late);
                        assert_eq!(report.delivered[0].claim, ClaimMark::Submitted);
                        won.push(ticket);
                    }
                    ClaimNext::Unavailable(Unavailable::NoTaskAvailable) => break,
                    ClaimNext::Unavailable(other) => panic!("{worker}: unexpected {other:?}"),
                }
            }
            won
        }));
    }
    let mut tickets = Vec::new();
    for task in tasks {
        tickets.extend(task.await.unwrap());
    }

    // 0 double claims: every (object, slot) was won exactly once, 150 in all.
    let slots: BTreeSet<(u64, u32)> = tickets.iter().map(|t| (t.object_id, t.slot)).collect();
    assert_eq!(tickets.len(), 150);
    assert_eq!(slots.len(), 150);
    let winners: BTreeSet<&str> = tickets.iter().map(|t| t.worker.as_str()).collect();
    assert!(winners.len() > 1, "the work was shared");

    // Every object: 3 submitted claims and 3 responses from 3 distinct workers, the same ones.
    let reader = board(store.clone(), clock.clone(), OBJECTS, &policy);
    let claims = reader.scan().await.unwrap();
    for object_id in 0..OBJECTS {
        let object = &claims[&object_id];
        assert_eq!(object.submitted(), 3, "object {object_id}");
        let claim_workers: BTreeSet<String> =
            object.slots.values().map(|c| c.record.worker.clone()).collect();
        assert_eq!(claim_workers.len(), 3, "object {object_id}: distinct workers");
        let prefix = output().object_responses_prefix(object_id).unwrap();
        let response_workers: BTreeSet<String> = keys_under(memory.as_ref(), &prefix)
            .await
            .iter()
            .map(|k| {
                k.rsplit('/')
                    .next()
                    .unwrap()
                    .split_once('-')
                    .unwrap()
                    .1
                    .trim_end_matches(".json")
                    .to_owned()
            })
            .collect();
        assert_eq!(response_workers, claim_workers, "object {object_id}");
    }
    let all = keys_under(memory.as_ref(), &output().worker_responses_prefix().unwrap()).await;
    assert_eq!(all.len(), 150);

    let snapshot =
        job_status(store.as_ref(), &status_query(Some(OBJECTS), &policy), clock.as_ref())
            .await
            .unwrap();
    assert_eq!(snapshot.status, LabelingJobStatus::InProgress);
    assert!(
        snapshot
            .objects
            .iter()
            .all(|o| o.state == ObjectState::AwaitingConsolidation { submitted: 3, of: 3 }
                && o.responses == 3
                && o.unclaimed_responses == 0)
    );
    for object_id in 0..OBJECTS {
        consolidate(store.as_ref(), object_id).await;
    }
    let snapshot =
        job_status(store.as_ref(), &status_query(Some(OBJECTS), &policy), clock.as_ref())
            .await
            .unwrap();
    assert_eq!(snapshot.status, LabelingJobStatus::Completed);
    assert_eq!(
        (
            snapshot.counters.total_labeled,
            snapshot.counters.human_labeled,
            snapshot.counters.unlabeled
        ),
        (50, 50, 0)
    );
}

#[tokio::test]
async fn expired_claim_is_taken_over_and_the_late_answer_is_marked() {
    let store = Arc::new(MemoryStore::new());
    let dyn_store: Arc<dyn ObjectStore> = store.clone();
    let clock = Arc::new(ManualClock::new(T0));
    let policy = ClaimPolicy::new(1, 60);
    write_job_json(store.as_ref()).await;
    let a = board(dyn_store.clone(), clock.clone(), 1, &policy);
    let b = board(dyn_store.clone(), clock.clone(), 1, &policy);

    let ta = claimed(a.claim_next("ann").await.unwrap());
    assert_eq!(ta.expires_at_ms, T0 + 60_000);
    assert_eq!(
        b.claim_next("bob").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::NoTaskAvailable)
    );
    clock.advance_ms(59_999);
    assert_eq!(
        b.claim_next("bob").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::NoTaskAvailable)
    );
    clock.advance_ms(1);
    let tb = claimed(b.claim_next("bob").await.unwrap());
    assert_eq!((tb.object_id, tb.slot), (0, 0));

    // Ann's claim is gone: changing it directly says so...
    assert!(
        matches!(a.submit(&ta).await.unwrap(), FinishOutcome::Lost { current: Some(r) } if r.worker == "bob")
    );
    // ...and her answer is still uploaded, marked late, without touching Bob's claim.
    let journal = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(journal.path(), clock.clone()).unwrap();
    let queued = outbox.enqueue(request(&ta, "cat")).unwrap();
    let mut rng = fastrand::Rng::with_seed(1);
    let report = outbox.drain(store.as_ref(), &quick_retry(), &mut rng).await.unwrap();
    assert_eq!(report.delivered.len(), 1);
    let late = &report.delivered[0];
    assert!(late.late);
    assert_eq!(late.claim, ClaimMark::Lost);
    let body = get_json(store.as_ref(), &queued.submission.response_path().unwrap()).await;
    assert_eq!(body["answers"][0][LATE_FIELD], json!(true));
    assert_eq!(body["answers"][0]["workerId"], json!("ann"));

    // Bob submits on time; the slot is his.
    let tb_request = request(&tb, "dog");
    outbox.enqueue(tb_request).unwrap();
    let report = outbox.drain(store.as_ref(), &quick_retry(), &mut rng).await.unwrap();
    assert!(!report.delivered[0].late);
    let claim = get_json(store.as_ref(), &output().claim(0, 0).unwrap()).await;
    assert_eq!(
        (claim["worker"].as_str(), claim["state"].as_str()),
        (Some("bob"), Some("submitted"))
    );
    let on_time = get_json(store.as_ref(), &report.delivered[0].response).await;
    assert!(on_time["answers"][0].get(LATE_FIELD).is_none());

    let snapshot =
        job_status(store.as_ref(), &status_query(Some(1), &policy), clock.as_ref()).await.unwrap();
    let object = &snapshot.objects[0];
    assert_eq!(object.state, ObjectState::AwaitingConsolidation { submitted: 1, of: 1 });
    assert_eq!((object.responses, object.unclaimed_responses), (2, 1));
}

#[tokio::test]
async fn an_expired_claim_nobody_took_can_still_be_submitted() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(T0));
    let b = board(store.clone(), clock.clone(), 1, &ClaimPolicy::new(1, 30));
    let t = claimed(b.claim_next("ann").await.unwrap());
    clock.advance_ms(3_600_000);
    assert_eq!(b.submit(&t).await.unwrap(), FinishOutcome::Done);
    assert_eq!(b.submit(&t).await.unwrap(), FinishOutcome::AlreadyDone);
    // A submitted slot is never taken over.
    assert_eq!(
        b.claim_next("bob").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::NoTaskAvailable)
    );
}

#[tokio::test]
async fn release_and_decline_flows() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    write_job_json(store.as_ref()).await;
    let clock = Arc::new(ManualClock::new(T0));
    let policy = ClaimPolicy::new(2, 600);
    let b = board(store.clone(), clock.clone(), 1, &policy);

    // Release: the slot is free again, for the same worker too.
    let t = claimed(b.claim_next("ann").await.unwrap());
    assert_eq!(b.release(&t).await.unwrap(), FinishOutcome::Done);
    assert_eq!(b.release(&t).await.unwrap(), FinishOutcome::AlreadyDone);
    clock.advance_ms(1);
    let t = claimed(b.claim_next("ann").await.unwrap());
    assert_eq!(t.slot, 0);
    // Decline: Ann never gets this object again; Bob takes the declined slot over.
    assert_eq!(b.decline(&t).await.unwrap(), FinishOutcome::Done);
    // A released/declined claim cannot then be submitted.
    assert!(matches!(b.submit(&t).await.unwrap(), FinishOutcome::Lost { .. }));
    assert_eq!(
        b.claim_next("ann").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::NoTaskAvailable)
    );
    let tb = claimed(b.claim_next("bob").await.unwrap());
    assert_eq!(tb.slot, 0, "the declined slot is reused");
    let record = get_json(store.as_ref(), &output().claim(0, 0).unwrap()).await;
    assert_eq!(record["declined_by"], json!(["ann"]), "declines survive takeovers");
    let snapshot =
        job_status(store.as_ref(), &status_query(Some(1), &policy), clock.as_ref()).await.unwrap();
    assert!(
        matches!(&snapshot.objects[0].state, ObjectState::InProgress { holders, submitted: 0, of: 2 } if holders.len() == 1 && holders[0].worker == "bob")
    );

    // As many declines as slots: the object is closed ("expired").
    assert_eq!(b.decline(&tb).await.unwrap(), FinishOutcome::Done);
    assert_eq!(
        b.claim_next("cid").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::NoTaskAvailable)
    );
    let snapshot =
        job_status(store.as_ref(), &status_query(Some(1), &policy), clock.as_ref()).await.unwrap();
    assert_eq!(
        snapshot.objects[0].state,
        ObjectState::Failed(ObjectFailure::Declined { workers: 2 })
    );
    assert_eq!(snapshot.status, LabelingJobStatus::Completed);
    assert_eq!(snapshot.counters.failed_non_retryable_error, 1);
}

#[tokio::test]
async fn worker_and_job_concurrency_limits() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(T0));
    let mut policy = ClaimPolicy::new(1, 600);
    policy.max_active_claims_per_worker = 2;
    policy.max_concurrent_tasks = 3;
    let b = board(store.clone(), clock.clone(), 5, &policy);

    let a0 = claimed(b.claim_next("ann").await.unwrap());
    let a1 = claimed(b.claim_next("ann").await.unwrap());
    assert_eq!((a0.object_id, a1.object_id), (0, 1));
    assert_eq!(
        b.claim_next("ann").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::WorkerLimitReached)
    );
    let b2 = claimed(b.claim_next("bob").await.unwrap());
    assert_eq!(b2.object_id, 2);
    // Three objects in flight: nothing new starts.
    assert_eq!(
        b.claim_next("bob").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::ConcurrencyLimitReached)
    );
    assert_eq!(
        b.claim_next("cid").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::ConcurrencyLimitReached)
    );
    b.submit(&a0).await.unwrap();
    assert_eq!(claimed(b.claim_next("cid").await.unwrap()).object_id, 3);
    // An expired claim frees both the worker's quota and the job's.
    clock.advance_ms(600_000);
    assert_eq!(claimed(b.claim_next("ann").await.unwrap()).object_id, 1);
    assert!(b.held_by("ann").await.unwrap().iter().all(|t| t.object_id == 1));
}

#[tokio::test]
async fn partly_submitted_objects_count_as_in_flight() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(T0));
    let mut policy = ClaimPolicy::new(2, 600);
    policy.max_concurrent_tasks = 1;
    let b = board(store.clone(), clock.clone(), 3, &policy);
    let a = claimed(b.claim_next("ann").await.unwrap());
    b.submit(&a).await.unwrap();
    // Object 0 is half done: it is the one in flight; Bob gets its second slot, Cid nothing.
    assert_eq!(
        b.claim_next("ann").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::ConcurrencyLimitReached)
    );
    let tb = claimed(b.claim_next("bob").await.unwrap());
    assert_eq!((tb.object_id, tb.slot), (0, 1));
    assert_eq!(
        b.claim_next("cid").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::ConcurrencyLimitReached)
    );
    b.submit(&tb).await.unwrap();
    assert_eq!(claimed(b.claim_next("cid").await.unwrap()).object_id, 1);
}

#[tokio::test]
async fn stop_blocks_new_claims_but_not_submissions() {
    let store = Arc::new(MemoryStore::new());
    let dyn_store: Arc<dyn ObjectStore> = store.clone();
    write_job_json(store.as_ref()).await;
    let clock = Arc::new(ManualClock::new(T0));
    let policy = ClaimPolicy::new(1, 600);
    let b = board(dyn_store.clone(), clock.clone(), 3, &policy);
    let t = claimed(b.claim_next("ann").await.unwrap());
    let stop = catalog().job_stop(JOB).unwrap();
    let workspace = groundwork::store::catalog::Workspace::new(dyn_store.clone(), catalog());
    assert!(workspace.stop_job(JOB, "author", T0).await.unwrap());
    assert!(!workspace.stop_job(JOB, "author", T0).await.unwrap());
    assert!(store.head(&stop).await.is_ok(), "the catalog's stop marker is the one claims read");
    assert_eq!(b.claim_next("bob").await.unwrap(), ClaimNext::Unavailable(Unavailable::JobStopped));
    assert_eq!(
        b.claim_object("bob", 2).await.unwrap(),
        ClaimNext::Unavailable(Unavailable::JobStopped)
    );
    let snapshot =
        job_status(store.as_ref(), &status_query(Some(3), &policy), clock.as_ref()).await.unwrap();
    assert_eq!(
        (snapshot.status, snapshot.active_claims, snapshot.stop_requested),
        (LabelingJobStatus::Stopping, 1, true)
    );

    let journal = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(journal.path(), clock.clone()).unwrap();
    outbox.enqueue(request(&t, "cat")).unwrap();
    let report = outbox
        .drain(store.as_ref(), &quick_retry(), &mut fastrand::Rng::with_seed(2))
        .await
        .unwrap();
    assert!(!report.delivered[0].late);
    let snapshot =
        job_status(store.as_ref(), &status_query(Some(3), &policy), clock.as_ref()).await.unwrap();
    assert_eq!(snapshot.status, LabelingJobStatus::Stopped);
    assert_eq!(
        snapshot.objects[0].state,
        ObjectState::AwaitingConsolidation { submitted: 1, of: 1 }
    );
    assert_eq!(snapshot.objects[1].state, ObjectState::Unclaimed);
    assert_eq!(snapshot.counters.unlabeled, 3);
}

#[tokio::test]
async fn availability_lifetime_fails_untouched_objects() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    write_job_json(store.as_ref()).await;
    let clock = Arc::new(ManualClock::new(T0 + 10_000));
    let mut policy = ClaimPolicy::new(1, 60);
    policy.availability_lifetime_secs = 100;
    let b = board(store.clone(), clock.clone(), 3, &policy);
    let t = claimed(b.claim_next("ann").await.unwrap());
    b.submit(&t).await.unwrap();
    let t1 = claimed(b.claim_next("ann").await.unwrap());
    clock.set_ms(T0 + 100_000);
    assert_eq!(
        b.claim_next("bob").await.unwrap(),
        ClaimNext::Unavailable(Unavailable::AvailabilityExpired)
    );
    // Object 1 is still held (until its claim expires at T0+70s... already past): not active.
    assert!(!b.held_by("ann").await.unwrap().iter().any(|h| h.object_id == t1.object_id));
    let snapshot =
        job_status(store.as_ref(), &status_query(Some(3), &policy), clock.as_ref()).await.unwrap();
    assert_eq!(
        snapshot.objects[0].state,
        ObjectState::AwaitingConsolidation { submitted: 1, of: 1 }
    );
    assert_eq!(snapshot.objects[1].state, ObjectState::Failed(ObjectFailure::AvailabilityExpired));
    assert_eq!(snapshot.objects[2].state, ObjectState::Failed(ObjectFailure::AvailabilityExpired));
    assert_eq!(snapshot.status, LabelingJobStatus::InProgress);
    consolidate(store.as_ref(), 0).await;
    let snapshot =
        job_status(store.as_ref(), &status_query(Some(3), &policy), clock.as_ref()).await.unwrap();
    assert_eq!(snapshot.status, LabelingJobStatus::Completed);
    assert_eq!(
        (
            snapshot.counters.total_labeled,
            snapshot.counters.failed_non_retryable_error,
            snapshot.counters.unlabeled
        ),
        (1, 2, 0)
    );
}

#[tokio::test]
async fn job_status_initializing_missing_and_empty() {
    let store = MemoryStore::new();
    let clock = ManualClock::new(T0);
    let policy = ClaimPolicy::new(1, 60);
    let missing = job_status(&store, &status_query(Some(1), &policy), &clock).await;
    assert!(matches!(missing, Err(StatusError::NoSuchJob { .. })));
    write_job_json(&store).await;
    let snapshot = job_status(&store, &status_query(None, &policy), &clock).await.unwrap();
    assert_eq!(snapshot.status, LabelingJobStatus::Initializing);
    let manifest = ObjectPath::parse("s3://team-bucket/in/input.manifest").unwrap();
    store
        .put(
            &manifest,
            b"{\"source-ref\":\"s3://b/1.jpg\"}\n\n{\"source-ref\":\"s3://b/2.jpg\"}".to_vec(),
            PutOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(count_manifest_objects(&store, &manifest).await.unwrap(), 2);
    let snapshot = job_status(&store, &status_query(Some(2), &policy), &clock).await.unwrap();
    assert_eq!(snapshot.status, LabelingJobStatus::InProgress);
    assert_eq!(snapshot.counters.unlabeled, 2);
    let snapshot = job_status(&store, &status_query(Some(0), &policy), &clock).await.unwrap();
    assert_eq!(snapshot.status, LabelingJobStatus::Failed);
    assert!(snapshot.failure_reason.is_some());
}

/// Claims one slot and returns everything a submission test needs.
async fn one_claim(
    store: Arc<dyn ObjectStore>,
    clock: Arc<ManualClock>,
) -> (ClaimBoard, ClaimTicket) {
    let b = board(store, clock, 1, &ClaimPolicy::new(1, 600));
    let t = claimed(b.claim_next("ann").await.unwrap());
    (b, t)
}

fn journal_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn outbox_survives_offline_and_restart_and_drains_exactly_once() {
    let flaky = Arc::new(FlakyStore::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::new(T0));
    let (_board, ticket) = one_claim(flaky.clone(), clock.clone()).await;
    let journal = tempfile::tempdir().unwrap();
    flaky.set_offline(true);
    let calls_before = flaky.calls();

    let outbox = Outbox::open(journal.path(), clock.clone()).unwrap();
    clock.advance_ms(5_000);
    let queued = outbox.enqueue(request(&ticket, "cat")).unwrap();
    assert_eq!(flaky.calls(), calls_before, "journaled before any network call");
    assert_eq!(queued.submission.submitted_at_ms, T0 + 5_000);
    let files = journal_files(outbox.dir());
    assert_eq!(files, std::slice::from_ref(&queued.id));
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(outbox.dir().join(&files[0])).unwrap()).unwrap();
    assert_eq!(
        on_disk["submission"]["request"]["answer_content"]["crowd-image-classifier"]["label"],
        json!("cat")
    );

    let mut rng = fastrand::Rng::with_seed(3);
    let retry = RetryPolicy { initial_backoff_ms: 1, max_backoff_ms: 2, max_attempts: 3 };
    let report = outbox.drain(flaky.as_ref(), &retry, &mut rng).await.unwrap();
    assert!(report.delivered.is_empty());
    assert_eq!(report.remaining, 1);
    assert!(report.last_error.as_ref().is_some_and(OutboxError::is_transient));
    assert_eq!(flaky.injected_failures(), 3, "retried max_attempts times");
    drop(outbox);

    // Restart: a new process opens the same journal; the clock has moved on.
    clock.advance_ms(3_600_000);
    flaky.set_offline(false);
    let outbox = Outbox::open(journal.path(), clock.clone()).unwrap();
    let pending = outbox.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].submission.submitted_at_ms,
        T0 + 5_000,
        "the submission time stays fixed"
    );
    let report = outbox.drain(flaky.as_ref(), &retry, &mut rng).await.unwrap();
    assert_eq!(report.delivered.len(), 1);
    assert_eq!(report.remaining, 0);
    assert!(!report.delivered[0].replayed);
    let again = outbox.drain(flaky.as_ref(), &retry, &mut rng).await.unwrap();
    assert!(again.delivered.is_empty());
    let responses = keys_under(flaky.inner(), &output().worker_responses_prefix().unwrap()).await;
    assert_eq!(
        responses,
        [format!("out/boxes/annotations/worker-response/iteration-1/0/{}-ann.json", T0 + 5_000)]
    );
    let body = get_json(flaky.inner(), &queued.submission.response_path().unwrap()).await;
    assert_eq!(body["answers"][0]["submissionTime"], json!("2023-11-14T22:13:25.000Z"));
    assert_eq!(body["answers"][0]["timeSpentInSeconds"], json!(12.25));
    let claim = get_json(flaky.inner(), &output().claim(0, 0).unwrap()).await;
    assert_eq!(claim["state"], json!("submitted"));
    assert!(journal_files(outbox.dir()).is_empty());
}

#[tokio::test]
async fn transient_failures_are_retried_with_backoff_within_a_drain() {
    let flaky = Arc::new(FlakyStore::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::new(T0));
    let (_board, ticket) = one_claim(flaky.clone(), clock.clone()).await;
    let journal = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(journal.path(), clock.clone()).unwrap();
    outbox.enqueue(request(&ticket, "cat")).unwrap();
    flaky.fail_next(2);
    let retry = RetryPolicy { initial_backoff_ms: 1, max_backoff_ms: 2, max_attempts: 4 };
    let report =
        outbox.drain(flaky.as_ref(), &retry, &mut fastrand::Rng::with_seed(4)).await.unwrap();
    assert_eq!(report.delivered.len(), 1);
    assert_eq!(flaky.injected_failures(), 2);
}

#[tokio::test]
async fn lost_answer_after_upload_is_replayed_without_duplicate() {
    let flaky = Arc::new(FlakyStore::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::new(T0));
    let (_board, ticket) = one_claim(flaky.clone(), clock.clone()).await;
    let journal = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(journal.path(), clock.clone()).unwrap();
    outbox.enqueue(request(&ticket, "cat")).unwrap();
    // The response upload reaches the store but its answer is lost.
    flaky.lose_next_put_answers(1);
    let mut rng = fastrand::Rng::with_seed(5);
    let report = outbox.drain(flaky.as_ref(), &quick_retry(), &mut rng).await.unwrap();
    assert!(report.delivered.is_empty());
    assert_eq!(report.remaining, 1);
    let prefix = output().worker_responses_prefix().unwrap();
    assert_eq!(keys_under(flaky.inner(), &prefix).await.len(), 1, "it did reach the store");
    let report = outbox.drain(flaky.as_ref(), &quick_retry(), &mut rng).await.unwrap();
    assert_eq!(report.delivered.len(), 1);
    assert!(report.delivered[0].replayed);
    assert!(!report.delivered[0].late);
    assert_eq!(keys_under(flaky.inner(), &prefix).await.len(), 1, "no duplicate");
}

#[tokio::test]
async fn crash_between_upload_and_journal_removal_replays_without_duplicate() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(T0));
    let (_board, ticket) = one_claim(store.clone(), clock.clone()).await;
    let journal = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(journal.path(), clock.clone()).unwrap();
    let queued = outbox.enqueue(request(&ticket, "cat")).unwrap();
    let mut rng = fastrand::Rng::with_seed(6);
    let entry_path = outbox.dir().join(&queued.id);
    let report = outbox.drain(store.as_ref(), &quick_retry(), &mut rng).await.unwrap();
    assert_eq!(report.delivered.len(), 1);
    assert!(!entry_path.exists());
    // The crash: the process died after the upload and claim update, before the journal
    // removal reached the disk. Put the journal file back as it was, as a reboot would find it.
    let snapshot = serde_json::json!({
        "format": 1,
        "submission": serde_json::to_value(&queued.submission).unwrap(),
        "late": false,
    });
    std::fs::write(&entry_path, serde_json::to_vec(&snapshot).unwrap()).unwrap();
    drop(outbox);
    let outbox = Outbox::open(journal.path(), clock.clone()).unwrap();
    assert_eq!(outbox.len().unwrap(), 1);
    let report = outbox.drain(store.as_ref(), &quick_retry(), &mut rng).await.unwrap();
    assert_eq!(report.delivered.len(), 1);
    assert!(report.delivered[0].replayed);
    assert_eq!(report.delivered[0].claim, ClaimMark::Submitted);
    assert_eq!(outbox.len().unwrap(), 0);
    let prefix = output().worker_responses_prefix().unwrap();
    assert_eq!(keys_under(store.as_ref(), &prefix).await.len(), 1);
}

#[tokio::test]
async fn a_different_answer_under_the_same_key_is_a_conflict_kept_in_the_journal() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(T0));
    let (_board, ticket) = one_claim(store.clone(), clock.clone()).await;
    let journal = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(journal.path(), clock.clone()).unwrap();
    let queued = outbox.enqueue(request(&ticket, "cat")).unwrap();
    let key = queued.submission.response_path().unwrap();
    store.put(&key, b"{\"answers\":[]}".to_vec(), PutOptions::default()).await.unwrap();
    let report = outbox
        .drain(store.as_ref(), &quick_retry(), &mut fastrand::Rng::with_seed(7))
        .await
        .unwrap();
    assert!(matches!(report.last_error, Some(OutboxError::Conflict { .. })));
    assert_eq!(report.remaining, 1, "never dropped");
}

#[tokio::test]
async fn same_millisecond_submissions_get_distinct_keys() {
    let clock = Arc::new(ManualClock::new(T0));
    let journal = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(journal.path(), clock.clone()).unwrap();
    let ticket = ClaimTicket {
        object_id: 4,
        slot: 0,
        worker: "ann".into(),
        claimed_at_ms: T0,
        expires_at_ms: T0 + 1,
        etag: String::new(),
    };
    let a = outbox.enqueue(request(&ticket, "cat")).unwrap();
    let b = outbox.enqueue(request(&ticket, "dog")).unwrap();
    assert_ne!(a.submission.response_path().unwrap(), b.submission.response_path().unwrap());
    let bad = SubmissionRequest { answer_content: json!("not an object"), ..request(&ticket, "x") };
    assert!(matches!(outbox.enqueue(bad), Err(OutboxError::Invalid { .. })));
    let bad = SubmissionRequest { worker: "../x".into(), ..request(&ticket, "x") };
    assert!(outbox.enqueue(bad).is_err());
}

fn draft_key(worker: &str) -> DraftKey {
    DraftKey {
        s3_output_path: out_root(),
        job_name: JOB.into(),
        worker: worker.into(),
        object_id: 9,
        kms_key_id: None,
    }
}

#[tokio::test]
async fn drafts_round_trip_between_machines_and_offline() {
    let flaky = Arc::new(FlakyStore::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::new(T0));
    let laptop_dir = tempfile::tempdir().unwrap();
    let desktop_dir = tempfile::tempdir().unwrap();
    let laptop = Drafts::open(laptop_dir.path(), clock.clone()).unwrap();
    let desktop = Drafts::open(desktop_dir.path(), clock.clone()).unwrap();
    let key = draft_key("ann");

    let v1 = laptop.save_draft(&key, json!({"boxes": 1})).unwrap();
    assert_eq!(laptop.unsynced().unwrap(), std::slice::from_ref(&key));
    assert_eq!(
        laptop.load_draft(flaky.as_ref(), &key).await.unwrap(),
        Some((v1.clone(), DraftSource::Local))
    );
    assert_eq!(laptop.sync_all(flaky.as_ref()).await.unwrap(), 1);
    assert!(laptop.unsynced().unwrap().is_empty());
    let remote = get_json(flaky.inner(), &key.remote_path().unwrap()).await;
    assert_eq!(remote["content"], json!({"boxes": 1}));
    assert_eq!(key.remote_path().unwrap().key(), "out/boxes/annotation-tool/drafts/ann/9.json");

    // The desktop picks it up, continues, syncs.
    clock.advance_ms(60_000);
    assert_eq!(
        desktop.load_draft(flaky.as_ref(), &key).await.unwrap(),
        Some((v1.clone(), DraftSource::Remote))
    );
    let v2 = desktop.save_draft(&key, json!({"boxes": 2})).unwrap();
    assert_eq!(desktop.sync_draft(flaky.as_ref(), &key).await.unwrap(), DraftSync::Uploaded);
    assert_eq!(desktop.sync_draft(flaky.as_ref(), &key).await.unwrap(), DraftSync::AlreadySynced);
    // The laptop prefers the newer remote copy.
    assert_eq!(
        laptop.load_draft(flaky.as_ref(), &key).await.unwrap(),
        Some((v2.clone(), DraftSource::Remote))
    );

    // Offline: saves work, loading falls back to the local copy, syncing waits.
    flaky.set_offline(true);
    clock.advance_ms(60_000);
    let v3 = laptop.save_draft(&key, json!({"boxes": 3})).unwrap();
    assert_eq!(
        laptop.load_draft(flaky.as_ref(), &key).await.unwrap(),
        Some((v3.clone(), DraftSource::Local))
    );
    assert!(laptop.sync_all(flaky.as_ref()).await.unwrap_err().is_transient());
    assert_eq!(laptop.unsynced().unwrap().len(), 1);
    flaky.set_offline(false);
    assert_eq!(laptop.sync_all(flaky.as_ref()).await.unwrap(), 1);
    assert_eq!(desktop.load_draft(flaky.as_ref(), &key).await.unwrap().unwrap().0, v3);

    // A stale unsynced local draft never overwrites a newer remote one.
    let stale_dir = tempfile::tempdir().unwrap();
    let stale_clock = Arc::new(ManualClock::new(T0));
    let stale = Drafts::open(stale_dir.path(), stale_clock).unwrap();
    stale.save_draft(&key, json!({"boxes": 0})).unwrap();
    assert_eq!(stale.sync_draft(flaky.as_ref(), &key).await.unwrap(), DraftSync::RemoteNewer);
    assert_eq!(
        get_json(flaky.inner(), &key.remote_path().unwrap()).await["content"],
        json!({"boxes": 3})
    );
    assert_eq!(stale.load_draft(flaky.as_ref(), &key).await.unwrap().unwrap().0, v3);

    laptop.discard_local(&key).unwrap();
    assert_eq!(laptop.local_draft(&key).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_engine_delivers_across_a_restart() {
    let flaky = Arc::new(FlakyStore::new(MemoryStore::new()));
    let clock = Arc::new(ManualClock::new(T0));
    let (_board, ticket) = one_claim(flaky.clone(), clock.clone()).await;
    let root = tempfile::tempdir().unwrap();
    let config = || SyncConfig {
        retry: RetryPolicy { initial_backoff_ms: 2, max_backoff_ms: 10, max_attempts: 1 },
        command_capacity: 4,
        idle_poll_ms: 20,
        jitter_seed: 9,
    };
    let runtime = tokio::runtime::Handle::current();
    flaky.set_offline(true);
    {
        let outbox = Arc::new(Outbox::open(root.path(), clock.clone()).unwrap());
        let drafts = Arc::new(Drafts::open(root.path(), clock.clone()).unwrap());
        let handle = spawn_sync_engine(&runtime, flaky.clone(), outbox, drafts, config());
        handle.save_draft(draft_key("ann"), json!({"wip": true})).unwrap();
        handle.enqueue(request(&ticket, "cat")).unwrap();
        assert!(handle.status().queued >= 1 || handle.status().delivered == 0);
        let status = handle.flush().await.unwrap();
        assert_eq!((status.online, status.queued, status.drafts_pending), (false, 1, 1));
        // The engine keeps retrying on its own while offline; nothing is lost.
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        assert_eq!(handle.status().queued, 1);
        handle.shutdown().await;
    }
    flaky.set_offline(false);
    let outbox = Arc::new(Outbox::open(root.path(), clock.clone()).unwrap());
    let drafts = Arc::new(Drafts::open(root.path(), clock.clone()).unwrap());
    let handle = spawn_sync_engine(&runtime, flaky.clone(), outbox, drafts, config());
    let mut watch = handle.subscribe();
    // The new engine drains on its own at start; wait for it through the watch channel.
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        watch.wait_for(|s| s.queued == 0 && s.drafts_pending == 0 && s.delivered == 1),
    )
    .await
    .expect("drained in time")
    .unwrap();
    let status = handle.status();
    assert!(status.online);
    assert_eq!(status.late, 0);
    let responses = keys_under(flaky.inner(), &output().worker_responses_prefix().unwrap()).await;
    assert_eq!(responses.len(), 1);
    let claim = get_json(flaky.inner(), &output().claim(0, 0).unwrap()).await;
    assert_eq!(claim["state"], json!("submitted"));
    assert!(
        flaky
            .inner()
            .paths()
            .iter()
            .any(|p| p.key() == "out/boxes/annotation-tool/drafts/ann/9.json")
    );
    handle.shutdown().await;
}
