//! Headless worker commands — `task next | submit | release | decline` and `sync` — over the same
//! library paths the app uses: the claim board, the durable outbox (journaled under the user's
//! data folder, one journal per workspace), and the job lifecycle (consolidation, output
//! manifest).
//!
//! Each command has a library-level function returning data ([`next`], [`submit`], [`release`],
//! [`decline`], [`sync`]) that tests call directly, and a printing wrapper for the command line.
//! Local worker state lives in `<data>/outbox/<workspace-hash>/` where `<data>` is
//! `$GROUNDWORK_DATA_DIR` or the platform data folder's `groundwork/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::formats::time::format_worker_timestamp;
use crate::store::ObjectPath;
use crate::store::claims::{ClaimNext, ClaimState, ClaimTicket, FinishOutcome, Unavailable};
use crate::store::jobs::Jobs;
use crate::store::layout::validate_segment;
use crate::store::lifecycle::{Lifecycle, PendingReport, Settled};
use crate::store::outbox::{Drafts, Outbox, RetryPolicy, SubmissionRequest};

use super::commands::{current_user, default_workspace_dir, open_jobs};
use super::{CliError, CliResult, GlobalArgs, TaskCommand};

/// Exit status of `task next` when nothing is left to claim.
pub const EXIT_NOTHING_TO_DO: u8 = 3;

/// `$GROUNDWORK_DATA_DIR`, else the platform data folder's `groundwork/`.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("GROUNDWORK_DATA_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => dirs::data_dir().unwrap_or_else(std::env::temp_dir).join("groundwork"),
    }
}

/// A stable identity of the workspace the global options name: the canonical folder of a local
/// workspace, or the S3 URI with its endpoint.
pub fn workspace_id(global: &GlobalArgs) -> String {
    match global.workspace.as_deref() {
        Some(uri) if uri.starts_with("s3://") => {
            format!("{uri}|{}", global.endpoint_url.as_deref().unwrap_or("aws"))
        }
        Some(dir) => canonical(Path::new(dir)),
        None => canonical(&default_workspace_dir()),
    }
}

fn canonical(dir: &Path) -> String {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned()).to_string_lossy().into_owned()
}

/// The local state folder (outbox journal, drafts) of workspace `workspace_id` under `data_dir`:
/// `<data_dir>/outbox/<16 hex digits of FNV-1a of the id>/`.
pub fn state_dir(data_dir: &Path, workspace_id: &str) -> PathBuf {
    let hash = workspace_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    data_dir.join("outbox").join(format!("{hash:016x}"))
}

/// The CLI's retry policy for one delivery attempt: a few quick retries, then the submission
/// waits in the journal for `groundwork sync`.
pub fn cli_retry() -> RetryPolicy {
    RetryPolicy { initial_backoff_ms: 200, max_backoff_ms: 2_000, max_attempts: 4 }
}

/// A claim remembered locally by `task next`, so `task submit` can journal an answer without
/// reaching the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LocalTicket {
    ticket: ClaimTicket,
    s3_output_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
}

fn ticket_path(
    state_dir: &Path,
    job: &str,
    worker: &str,
    object_id: u64,
) -> Result<PathBuf, CliError> {
    validate_segment("job name", job)?;
    validate_segment("worker id", worker)?;
    Ok(state_dir.join("tickets").join(job).join(format!("{object_id}-{worker}.json")))
}

fn save_ticket(state_dir: &Path, job: &str, local: &LocalTicket) -> Result<(), CliError> {
    let path = ticket_path(state_dir, job, &local.ticket.worker, local.ticket.object_id)?;
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(local).unwrap_or_default())?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| CliError::invalid(format!("{}: {e}", path.display())))
}

fn load_ticket(state_dir: &Path, job: &str, worker: &str, object_id: u64) -> Option<LocalTicket> {
    let path = ticket_path(state_dir, job, worker, object_id).ok()?;
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn forget_ticket(state_dir: &Path, job: &str, worker: &str, object_id: u64) {
    if let Ok(path) = ticket_path(state_dir, job, worker, object_id) {
        let _ = std::fs::remove_file(path);
    }
}

/// A claimed task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskNext {
    /// The claim.
    pub ticket: ClaimTicket,
    /// The data object's input manifest line.
    pub manifest_line: Value,
}

/// Claims the next task of `job` for `worker` — or hands out again the one the worker already
/// holds — and remembers the claim in `state_dir` (so the answer can be submitted offline).
/// Nothing to claim is [`EXIT_NOTHING_TO_DO`].
pub async fn next(
    jobs: &Jobs,
    state_dir: &Path,
    job: &str,
    worker: &str,
) -> Result<TaskNext, CliError> {
    let lifecycle = Lifecycle::open(jobs, job).await?;
    let board = lifecycle.claim_board()?;
    let mut next = board.claim_next(worker).await?;
    if next == ClaimNext::Unavailable(Unavailable::WorkerLimitReached) {
        // The worker already holds a task (e.g. an earlier `task next` whose answer was lost on
        // the way back): hand that one out again.
        if let Some(held) = board.held_by(worker).await?.into_iter().next() {
            next = ClaimNext::Claimed(held);
        }
    }
    match next {
        ClaimNext::Claimed(ticket) => {
            let line = lifecycle.input_line(ticket.object_id).unwrap_or("null");
            let manifest_line = serde_json::from_str(line).unwrap_or(Value::Null);
            let spec = &lifecycle.job().spec;
            save_ticket(
                state_dir,
                job,
                &LocalTicket {
                    ticket: ticket.clone(),
                    s3_output_path: spec.output_config.s3_output_path.clone(),
                    kms_key_id: spec.output_config.kms_key_id.clone(),
                },
            )?;
            Ok(TaskNext { ticket, manifest_line })
        }
        ClaimNext::Unavailable(why) => Err(CliError {
            code: EXIT_NOTHING_TO_DO,
            message: format!("no task of job {job} for {worker}: {why:?}"),
        }),
    }
}

/// The claim `worker` holds on `object_id` of the job (still in the claimed state, expired or
/// not: an expired claim nobody took over may still be finished).
async fn held_claim(
    lifecycle: &Lifecycle,
    worker: &str,
    object_id: u64,
) -> Result<ClaimTicket, CliError> {
    let board = lifecycle.claim_board()?;
    let claims = board.scan().await?;
    claims
        .get(&object_id)
        .and_then(|o| {
            o.slots
                .values()
                .find(|c| c.record.worker == worker && c.record.state == ClaimState::Claimed)
        })
        .map(|c| ClaimTicket {
            object_id,
            slot: c.slot,
            worker: c.record.worker.clone(),
            claimed_at_ms: c.record.claimed_at_ms,
            expires_at_ms: c.record.expires_at_ms,
            etag: c.etag.clone(),
        })
        .ok_or_else(|| {
            CliError::invalid(format!(
                "{worker} holds no claim on data object {object_id} of job {} (claim one with \
                 `groundwork task next`)",
                lifecycle.job().name()
            ))
        })
}

/// What delivering the outbox did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    /// Delivered submissions: (journal id, job, object, late).
    pub delivered: Vec<(String, String, u64, bool)>,
    /// Submissions still in the journal.
    pub remaining: usize,
    /// The last delivery failure, if any.
    pub last_error: Option<String>,
    /// What settling each delivered object did, by (job, object); errors as text.
    pub settled: BTreeMap<(String, u64), Result<Settled, String>>,
}

/// Delivers everything in the workspace's outbox journal, then settles each delivered object
/// (the worker whose delivery completes an object consolidates it).
pub async fn deliver(
    jobs: &Jobs,
    state_dir: &Path,
    retry: &RetryPolicy,
) -> Result<Delivery, CliError> {
    let outbox = Outbox::open(state_dir, jobs.clock().clone())?;
    let pending: BTreeMap<String, (String, u64)> = outbox
        .pending()?
        .into_iter()
        .map(|q| (q.id, (q.submission.request.job_name, q.submission.request.object_id)))
        .collect();
    let mut rng = fastrand::Rng::new();
    let report = outbox.drain(jobs.workspace().store.as_ref(), retry, &mut rng).await?;
    let mut delivery = Delivery {
        remaining: report.remaining,
        last_error: report.last_error.map(|e| e.to_string()),
        ..Delivery::default()
    };
    let mut lifecycles: BTreeMap<String, Result<Lifecycle, String>> = BTreeMap::new();
    for d in &report.delivered {
        let Some((job, object)) = pending.get(&d.id) else { continue };
        delivery.delivered.push((d.id.clone(), job.clone(), *object, d.late));
        if !lifecycles.contains_key(job) {
            let opened = Lifecycle::open(jobs, job).await.map_err(|e| e.to_string());
            lifecycles.insert(job.clone(), opened);
        }
        let settled = match lifecycles.get(job) {
            Some(Ok(lifecycle)) => {
                lifecycle.settle_object(*object).await.map_err(|e| e.to_string())
            }
            Some(Err(e)) => Err(e.clone()),
            None => continue,
        };
        delivery.settled.insert((job.clone(), *object), settled);
    }
    Ok(delivery)
}

/// What `task submit` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    /// The submission's journal id.
    pub id: String,
    /// The outbox delivery that followed.
    pub delivery: Delivery,
}

impl Submitted {
    /// True when this submission reached the store.
    pub fn delivered(&self) -> bool {
        self.delivery.delivered.iter().any(|(id, ..)| *id == self.id)
    }
}

/// Submits `answer_content` (the form of spec §6, e.g. `{"crowd-image-classifier": {"label":
/// "cat"}}`) for the task `worker` holds on `object_id`: journals it durably in `state_dir`'s
/// outbox, then delivers the outbox and settles what was delivered. With the claim remembered
/// by `task next`, the answer is journaled without reaching the store, so it survives being
/// offline; otherwise the claim is looked up in the store.
pub async fn submit(
    jobs: &Jobs,
    state_dir: &Path,
    job: &str,
    worker: &str,
    object_id: u64,
    answer_content: Value,
    retry: &RetryPolicy,
) -> Result<Submitted, CliError> {
    if !answer_content.is_object() {
        return Err(CliError::invalid("the answer must be a JSON object (answerContent)"));
    }
    let local = match load_ticket(state_dir, job, worker, object_id) {
        Some(local) => local,
        None => {
            let lifecycle = Lifecycle::open(jobs, job).await?;
            let spec = &lifecycle.job().spec;
            LocalTicket {
                ticket: held_claim(&lifecycle, worker, object_id).await?,
                s3_output_path: spec.output_config.s3_output_path.clone(),
                kms_key_id: spec.output_config.kms_key_id.clone(),
            }
        }
    };
    let ticket = &local.ticket;
    let now_ms = jobs.clock().now_ms();
    let request = SubmissionRequest {
        s3_output_path: ObjectPath::parse(&local.s3_output_path)?,
        job_name: job.to_owned(),
        kms_key_id: local.kms_key_id.clone(),
        object_id,
        slot: ticket.slot,
        worker: worker.to_owned(),
        claimed_at_ms: ticket.claimed_at_ms,
        accepted_at_ms: ticket.claimed_at_ms,
        time_spent_secs: (now_ms - ticket.claimed_at_ms).max(0) as f64 / 1000.0,
        worker_metadata: None,
        answer_content,
    };
    let queued = Outbox::open(state_dir, jobs.clock().clone())?.enqueue(request)?;
    // Journaled: the claim is no longer needed locally.
    forget_ticket(state_dir, job, worker, object_id);
    let delivery = deliver(jobs, state_dir, retry).await?;
    Ok(Submitted { id: queued.id, delivery })
}

/// Gives back the task `worker` holds on `object_id`.
pub async fn release(
    jobs: &Jobs,
    state_dir: &Path,
    job: &str,
    worker: &str,
    object_id: u64,
) -> Result<FinishOutcome, CliError> {
    let lifecycle = Lifecycle::open(jobs, job).await?;
    let ticket = held_claim(&lifecycle, worker, object_id).await?;
    let outcome = lifecycle.claim_board()?.release(&ticket).await?;
    forget_ticket(state_dir, job, worker, object_id);
    Ok(outcome)
}

/// Declines the task `worker` holds on `object_id`; settles the object (declined by all, it
/// closes).
pub async fn decline(
    jobs: &Jobs,
    state_dir: &Path,
    job: &str,
    worker: &str,
    object_id: u64,
) -> Result<(FinishOutcome, Settled), CliError> {
    let lifecycle = Lifecycle::open(jobs, job).await?;
    let ticket = held_claim(&lifecycle, worker, object_id).await?;
    let outcome = lifecycle.claim_board()?.decline(&ticket).await?;
    forget_ticket(state_dir, job, worker, object_id);
    let settled = lifecycle.settle_object(object_id).await?;
    Ok((outcome, settled))
}

/// What `groundwork sync` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncReport {
    /// The outbox delivery.
    pub delivery: Delivery,
    /// Drafts uploaded.
    pub drafts_uploaded: usize,
    /// Per job, what running its pending work did (errors as text).
    pub jobs: BTreeMap<String, Result<PendingReport, String>>,
}

/// Drains the outbox, syncs drafts, then runs every pending consolidation of `job` (or of every
/// job of the workspace).
pub async fn sync(
    jobs: &Jobs,
    state_dir: &Path,
    job: Option<&str>,
    retry: &RetryPolicy,
) -> Result<SyncReport, CliError> {
    let delivery = deliver(jobs, state_dir, retry).await?;
    let drafts = Drafts::open(state_dir, jobs.clock().clone())?;
    let drafts_uploaded = match drafts.sync_all(jobs.workspace().store.as_ref()).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "drafts not synced");
            0
        }
    };
    let names = match job {
        Some(name) => vec![name.to_owned()],
        None => jobs.workspace().list_jobs().await?.into_iter().map(|j| j.name).collect(),
    };
    let mut report = SyncReport { delivery, drafts_uploaded, jobs: BTreeMap::new() };
    for name in names {
        let done = jobs.advance(&name).await.map_err(|e| e.to_string());
        report.jobs.insert(name, done);
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Command-line wrappers

fn print_json(value: &Value) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::invalid(e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn settled_json(settled: &Result<Settled, String>) -> Value {
    match settled {
        Ok(Settled::NotReady(state)) => {
            json!({"state": "not-ready", "detail": format!("{state:?}")})
        }
        Ok(Settled::Consolidated) => json!({"state": "consolidated"}),
        Ok(Settled::AlreadyConsolidated) => json!({"state": "already-consolidated"}),
        Ok(Settled::Failed(reason)) => json!({"state": "failed", "reason": reason}),
        Ok(Settled::AlreadyFailed) => json!({"state": "already-failed"}),
        Ok(Settled::Unsupported) => json!({"state": "unsupported"}),
        Err(e) => json!({"state": "error", "error": e}),
    }
}

fn delivery_json(d: &Delivery) -> Value {
    json!({
        "delivered": d.delivered.iter().map(|(id, job, object, late)| json!({
            "id": id, "job": job, "dataObjectId": object, "late": late,
            "settled": d.settled.get(&(job.clone(), *object)).map(settled_json),
        })).collect::<Vec<_>>(),
        "remaining": d.remaining,
        "lastError": d.last_error,
    })
}

fn print_delivery(d: &Delivery) {
    for (id, job, object, late) in &d.delivered {
        let settled = d.settled.get(&(job.clone(), *object)).map(settled_json);
        let state = settled
            .as_ref()
            .and_then(|s| s.get("state"))
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_owned();
        println!(
            "delivered {id} (job {job}, object {object}{}) — {state}",
            if *late { ", late" } else { "" }
        );
    }
    if d.remaining > 0 {
        println!(
            "{} submission(s) still queued{}",
            d.remaining,
            d.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
        );
    }
}

fn read_answer(path: &Path) -> Result<Value, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::invalid(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| CliError::invalid(format!("{}:{}: {e}", path.display(), e.line())))
}

/// Runs a `task` subcommand.
pub async fn run(global: &GlobalArgs, command: TaskCommand) -> CliResult {
    let jobs = open_jobs(global).await?;
    let state = state_dir(&data_dir(), &workspace_id(global));
    let retry = cli_retry();
    let who = |w: Option<String>| w.unwrap_or_else(current_user);
    match command {
        TaskCommand::Next { job, worker } => {
            let worker = who(worker);
            match next(&jobs, &state, &job, &worker).await {
                Ok(task) => {
                    let t = &task.ticket;
                    if global.json {
                        print_json(&json!({
                            "job": job,
                            "worker": t.worker,
                            "dataObjectId": t.object_id,
                            "slot": t.slot,
                            "claimedAtMs": t.claimed_at_ms,
                            "expiresAtMs": t.expires_at_ms,
                            "expiresAt": format_worker_timestamp(t.expires_at_ms),
                            "manifestLine": task.manifest_line,
                        }))
                    } else {
                        println!(
                            "claimed data object {} (slot {}) of {job} until {}",
                            t.object_id,
                            t.slot,
                            format_worker_timestamp(t.expires_at_ms)
                        );
                        println!("{}", task.manifest_line);
                        Ok(())
                    }
                }
                Err(e) => {
                    if global.json && e.code == EXIT_NOTHING_TO_DO {
                        print_json(&json!({"job": job, "worker": worker, "available": false}))?;
                    }
                    Err(e)
                }
            }
        }
        TaskCommand::Submit { job, worker, object, answer } => {
            let answer = read_answer(&answer)?;
            let done = submit(&jobs, &state, &job, &who(worker), object, answer, &retry).await?;
            if global.json {
                print_json(&json!({
                    "id": done.id,
                    "delivered": done.delivered(),
                    "outbox": delivery_json(&done.delivery),
                }))
            } else {
                print_delivery(&done.delivery);
                if !done.delivered() {
                    println!(
                        "submission {} is saved and will be delivered by `groundwork sync`",
                        done.id
                    );
                }
                Ok(())
            }
        }
        TaskCommand::Release { job, worker, object } => {
            let outcome = release(&jobs, &state, &job, &who(worker), object).await?;
            finish_output(global, "released", &outcome)
        }
        TaskCommand::Decline { job, worker, object } => {
            let (outcome, settled) = decline(&jobs, &state, &job, &who(worker), object).await?;
            finish_output(global, "declined", &outcome)?;
            if !global.json {
                println!("object {object}: {}", settled_json(&Ok(settled))["state"]);
            }
            Ok(())
        }
    }
}

fn finish_output(global: &GlobalArgs, verb: &str, outcome: &FinishOutcome) -> CliResult {
    let state = match outcome {
        FinishOutcome::Done => verb.to_owned(),
        FinishOutcome::AlreadyDone => format!("already {verb}"),
        FinishOutcome::Lost { .. } => "lost: the claim is no longer yours".to_owned(),
    };
    if global.json {
        print_json(&json!({ "result": state }))?;
    } else {
        println!("{state}");
    }
    match outcome {
        FinishOutcome::Lost { .. } => Err(CliError::invalid("the claim was lost")),
        _ => Ok(()),
    }
}

/// `groundwork sync`.
pub async fn sync_command(global: &GlobalArgs, job: Option<&str>) -> CliResult {
    let jobs = open_jobs(global).await?;
    let state = state_dir(&data_dir(), &workspace_id(global));
    let report = sync(&jobs, &state, job, &cli_retry()).await?;
    if global.json {
        let per_job: serde_json::Map<String, Value> = report
            .jobs
            .iter()
            .map(|(name, r)| {
                let v = match r {
                    Ok(p) => json!({
                        "status": p.status.map(|s| s.as_str()),
                        "consolidated": p.consolidated,
                        "failed": p.failed.iter().map(|(id, why)| json!({"dataObjectId": id, "reason": why})).collect::<Vec<_>>(),
                        "unsupported": p.unsupported,
                        "outputManifest": p.output_manifest.as_ref().map(|o| o.uri()),
                        "intermediateManifest": p.intermediate_manifest.as_ref().map(|o| o.uri()),
                    }),
                    Err(e) => json!({"error": e}),
                };
                (name.clone(), v)
            })
            .collect();
        print_json(&json!({
            "outbox": delivery_json(&report.delivery),
            "draftsUploaded": report.drafts_uploaded,
            "jobs": per_job,
        }))?;
    } else {
        print_delivery(&report.delivery);
        if report.drafts_uploaded > 0 {
            println!("{} draft(s) uploaded", report.drafts_uploaded);
        }
        for (name, r) in &report.jobs {
            match r {
                Ok(p) => {
                    let mut parts = vec![p.status.map_or("-", |s| s.as_str()).to_owned()];
                    if !p.consolidated.is_empty() {
                        parts.push(format!("{} consolidated", p.consolidated.len()));
                    }
                    if !p.failed.is_empty() {
                        parts.push(format!("{} failed", p.failed.len()));
                    }
                    if !p.unsupported.is_empty() {
                        parts.push(format!(
                            "{} awaiting a consolidation this version lacks",
                            p.unsupported.len()
                        ));
                    }
                    if let Some(out) = &p.output_manifest {
                        parts.push(format!("output {out}"));
                    }
                    println!("{name}: {}", parts.join(", "));
                }
                Err(e) => println!("{name}: error: {e}"),
            }
        }
    }
    let failed_jobs = report.jobs.values().filter(|r| r.is_err()).count();
    if failed_jobs > 0 || report.delivery.remaining > 0 {
        return Err(CliError::invalid(format!(
            "sync incomplete: {} submission(s) queued, {failed_jobs} job(s) with errors",
            report.delivery.remaining
        )));
    }
    Ok(())
}
