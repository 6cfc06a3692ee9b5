//! The durable outbox and local drafts: nothing a worker did is ever lost (DESIGN.md §2).
//!
//! A submission is written to a local journal (one file per submission, fsync'd, atomically
//! renamed into place) before any network call. Its submission time is fixed then, so the
//! worker-response key (`…/worker-response/iteration-1/<object>/<epoch-ms>-<worker>.json`) is
//! deterministic and a replay never duplicates: the upload is a create-only put, and finding
//! the identical bytes already there counts as acknowledged. Entries stay in the journal until
//! the store acknowledges them, across restarts. A submission whose claim was lost meanwhile
//! (expired and taken over) is still uploaded, marked `"late": true`; consolidation decides
//! whether it counts. After the upload the claim is marked submitted (conditionally).
//!
//! Drafts save locally at once (fsync'd, atomic rename) and sync to
//! `annotation-tool/drafts/<worker>/<object>.json`; loading prefers the newest copy.
//!
//! The worker-response file follows spec §6: `{"answers":[{acceptanceTime, submissionTime,
//! timeSpentInSeconds, workerId, workerMetadata?, answerContent}]}` with timestamps written as
//! `YYYY-MM-DDTHH:MM:SS.mmmZ`.
//!
//! Journal and draft files are small; their writes are synchronous (`std::fs`). Must not depend
//! on `render`, `ui`, `app` or `cli`.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::formats::time::format_worker_timestamp;

use super::claims::{ClaimError, ClaimState, FinishOutcome, finish_claim, read_claim};
use super::clock::Clock;
use super::layout::{JobOutput, validate_segment};
use super::{ObjectPath, ObjectStore, PutMode, PutOptions, StoreError};

/// The field added to a worker's answer when it was submitted on a claim the worker had lost.
pub const LATE_FIELD: &str = "late";

/// Version of the journal and local draft file formats.
const FILE_FORMAT: u32 = 1;

// ---------------------------------------------------------------------------------------------
// Errors

/// Errors of the outbox and drafts.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// Reading or writing the local journal or draft folder failed.
    #[error("{path}: {source}")]
    Local {
        /// The local file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A local journal or draft file is not what this version writes.
    #[error("{path}: unreadable: {message}")]
    Unreadable {
        /// The local file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading or updating the claim failed.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// A different answer already sits under this submission's deterministic key.
    #[error("{path}: a different worker response already exists under this key")]
    Conflict {
        /// The worker-response object.
        path: String,
    },
    /// The submission or draft is not valid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

impl OutboxError {
    /// True when a later retry may succeed (network trouble).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(e) | Self::Claim(ClaimError::Store(e)) => e.is_transient(),
            Self::Claim(ClaimError::Contended { .. }) => true,
            _ => false,
        }
    }
}

fn local_err(path: &Path) -> impl FnOnce(io::Error) -> OutboxError + '_ {
    move |source| OutboxError::Local { path: path.to_owned(), source }
}

// ---------------------------------------------------------------------------------------------
// Durable local files

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` so that a crash leaves the old file or the new one, never a mix:
/// write a temporary file beside it, fsync it, rename it over `path`, fsync the folder.
fn write_durable(path: &Path, bytes: &[u8]) -> Result<(), OutboxError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(local_err(path))
}

/// Removes `path` durably (missing is fine).
fn remove_durable(path: &Path) -> Result<(), OutboxError> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(local_err(path)(e)),
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    sync_dir(dir).map_err(local_err(dir))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Windows cannot open a folder for fsync; the rename itself is durable on NTFS.
    Ok(())
}

/// Removes temporary files a crash left behind in `dir`.
fn sweep_tmp(dir: &Path) -> Result<(), OutboxError> {
    for entry in fs::read_dir(dir).map_err(local_err(dir))? {
        let entry = entry.map_err(local_err(dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(())
}

fn lock(mutex: &Mutex<()>) -> MutexGuard<'_, ()> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// FNV-1a, 64 bits: a stable short name for a job's output folder in local file names.
fn fnv1a64(text: &str) -> u64 {
    text.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

mod uri {
    //! Serde for an [`ObjectPath`] as its `s3://` URI.
    use super::ObjectPath;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(path: &ObjectPath, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&path.uri())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectPath, D::Error> {
        let text = String::deserialize(d)?;
        ObjectPath::parse(&text).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Submissions

/// What a worker submits for one claimed task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmissionRequest {
    /// The job's `OutputConfig.S3OutputPath`.
    #[serde(with = "uri")]
    pub s3_output_path: ObjectPath,
    /// The job's name.
    pub job_name: String,
    /// `OutputConfig.KmsKeyId`, asked for on the upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// The data object.
    pub object_id: u64,
    /// The claimed slot.
    pub slot: u32,
    /// The worker.
    pub worker: String,
    /// When the claim was made (identifies the claim, see [`super::claims::ClaimTicket`]).
    pub claimed_at_ms: i64,
    /// When the worker accepted (opened) the task, ms since the epoch.
    pub accepted_at_ms: i64,
    /// Active time spent on the task, seconds (pauses excluded).
    pub time_spent_secs: f64,
    /// `workerMetadata` for private workforces (identity data), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_metadata: Option<Value>,
    /// The submitted form: one key per named form element (spec §6).
    pub answer_content: Value,
}

impl SubmissionRequest {
    fn validate(&self) -> Result<JobOutput, OutboxError> {
        let invalid = |field, reason: &str| OutboxError::Invalid { field, reason: reason.into() };
        validate_segment("worker id", &self.worker)?;
        let output = JobOutput::new(&self.s3_output_path, &self.job_name)?;
        if !self.time_spent_secs.is_finite() || self.time_spent_secs < 0.0 {
            return Err(invalid("time_spent_secs", "must be a finite, non-negative number"));
        }
        if !self.answer_content.is_object() {
            return Err(invalid("answer_content", "must be a JSON object"));
        }
        if self.worker_metadata.as_ref().is_some_and(|m| !m.is_object()) {
            return Err(invalid("worker_metadata", "must be a JSON object"));
        }
        Ok(output)
    }
}

/// A submission in the journal: the request and its fixed submission time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// When it entered the outbox, ms since the epoch; part of the worker-response key.
    pub submitted_at_ms: i64,
    /// What was submitted.
    pub request: SubmissionRequest,
}

impl Submission {
    /// The job output folder.
    pub fn output(&self) -> Result<JobOutput, StoreError> {
        JobOutput::new(&self.request.s3_output_path, &self.request.job_name)
    }

    /// The deterministic worker-response key.
    pub fn response_path(&self) -> Result<ObjectPath, StoreError> {
        self.output()?.worker_response(
            self.request.object_id,
            self.submitted_at_ms,
            &self.request.worker,
        )
    }

    /// The worker-response file (spec §6), `late` adding `"late": true` to the answer.
    pub fn response_json(&self, late: bool) -> Vec<u8> {
        let r = &self.request;
        let mut answer = Map::new();
        answer.insert("acceptanceTime".into(), format_worker_timestamp(r.accepted_at_ms).into());
        answer
            .insert("submissionTime".into(), format_worker_timestamp(self.submitted_at_ms).into());
        let spent = (r.time_spent_secs * 1000.0).round() / 1000.0;
        answer.insert(
            "timeSpentInSeconds".into(),
            serde_json::Number::from_f64(spent).map_or(Value::Null, Value::Number),
        );
        answer.insert("workerId".into(), r.worker.clone().into());
        if let Some(metadata) = &r.worker_metadata {
            answer.insert("workerMetadata".into(), metadata.clone());
        }
        answer.insert("answerContent".into(), r.answer_content.clone());
        if late {
            answer.insert(LATE_FIELD.into(), Value::Bool(true));
        }
        let mut file = Map::new();
        file.insert("answers".into(), Value::Array(vec![Value::Object(answer)]));
        // A map of strings, numbers and already-valid JSON values always serialises.
        serde_json::to_vec(&Value::Object(file)).unwrap_or_default()
    }
}

/// The journal file of one submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct JournalEntry {
    format: u32,
    submission: Submission,
    /// Decided once, before the first upload, and kept, so every replay uploads the same bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    late: Option<bool>,
}

/// A submission waiting in the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedSubmission {
    /// The journal file's name; stable across restarts.
    pub id: String,
    /// The submission.
    pub submission: Submission,
    /// Whether it was found late, once that was decided.
    pub late: Option<bool>,
}

/// How the claim ended up after an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimMark {
    /// The claim is marked submitted (now or by an earlier replay).
    Submitted,
    /// The claim was no longer the worker's; the answer was uploaded as late.
    Lost,
}

/// An acknowledged submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    /// Its journal id (now removed from the journal).
    pub id: String,
    /// Where the worker response is.
    pub response: ObjectPath,
    /// Whether the answer counts as late (its claim was lost).
    pub late: bool,
    /// What happened to the claim.
    pub claim: ClaimMark,
    /// True when the store already had the identical response (a replay after a lost answer or
    /// a crash between upload and journal removal).
    pub replayed: bool,
}

/// Retries with exponential backoff and jitter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first delay, ms.
    pub initial_backoff_ms: u64,
    /// The longest delay, ms.
    pub max_backoff_ms: u64,
    /// Attempts per entry per drain before giving up until the next drain.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { initial_backoff_ms: 500, max_backoff_ms: 60_000, max_attempts: 6 }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (0-based): the exponential step
    /// `initial·2^attempt` capped at the maximum, then "equal jitter" — half of it fixed, the
    /// other half random — so many clients coming back online do not retry in lockstep.
    pub fn backoff_ms(&self, attempt: u32, rng: &mut fastrand::Rng) -> u64 {
        let step = self
            .initial_backoff_ms
            .saturating_mul(1u64.checked_shl(attempt.min(62)).unwrap_or(u64::MAX))
            .min(self.max_backoff_ms);
        let half = step / 2;
        half + rng.u64(0..=step - half)
    }
}

/// The result of a drain.
#[derive(Debug, Default)]
pub struct DrainReport {
    /// What was acknowledged.
    pub delivered: Vec<Delivered>,
    /// How many submissions are still in the journal.
    pub remaining: usize,
    /// The last failure, if any.
    pub last_error: Option<OutboxError>,
}

/// The durable outbox of one workspace: a journal folder and the logic that replays it.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    lock: Mutex<()>,
}

impl Outbox {
    /// Opens (creating if needed) the journal in `root/outbox/` and sweeps temporary files a
    /// crash may have left. In production `root` is the workspace's folder under the user's
    /// data directory.
    pub fn open(root: &Path, clock: Arc<dyn Clock>) -> Result<Self, OutboxError> {
        let dir = root.join("outbox");
        fs::create_dir_all(&dir).map_err(local_err(&dir))?;
        sweep_tmp(&dir)?;
        Ok(Self { dir, clock, lock: Mutex::new(()) })
    }

    /// The journal folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_name(submission: &Submission) -> String {
        let r = &submission.request;
        let job = fnv1a64(&format!("{}|{}", r.s3_output_path.uri(), r.job_name));
        format!("{:013}-{}-{}-{job:016x}.json", submission.submitted_at_ms, r.object_id, r.worker)
    }

    /// Writes the submission durably to the journal and fixes its submission time; touches no
    /// network. When it returns `Ok`, the submission survives a crash.
    pub fn enqueue(&self, request: SubmissionRequest) -> Result<QueuedSubmission, OutboxError> {
        request.validate()?;
        let _guard = lock(&self.lock);
        let mut submission = Submission { submitted_at_ms: self.clock.now_ms(), request };
        // Two submissions of one worker for one object in the same millisecond would share a
        // key: move the later one on by a millisecond.
        while self.dir.join(Self::entry_name(&submission)).exists() {
            submission.submitted_at_ms += 1;
        }
        let id = Self::entry_name(&submission);
        let entry = JournalEntry { format: FILE_FORMAT, submission, late: None };
        self.write_entry(&id, &entry)?;
        Ok(QueuedSubmission { id, submission: entry.submission, late: None })
    }

    fn write_entry(&self, id: &str, entry: &JournalEntry) -> Result<(), OutboxError> {
        let bytes = serde_json::to_vec_pretty(entry)
            .map_err(|e| OutboxError::Invalid { field: "submission", reason: e.to_string() })?;
        write_durable(&self.dir.join(id), &bytes)
    }

    fn read_entry(path: &Path) -> Result<JournalEntry, OutboxError> {
        let bytes = fs::read(path).map_err(local_err(path))?;
        let entry: JournalEntry = serde_json::from_slice(&bytes).map_err(|e| {
            OutboxError::Unreadable { path: path.to_owned(), message: e.to_string() }
        })?;
        if entry.format != FILE_FORMAT {
            return Err(OutboxError::Unreadable {
                path: path.to_owned(),
                message: format!(
                    "journal format {} (this version reads {FILE_FORMAT})",
                    entry.format
                ),
            });
        }
        Ok(entry)
    }

    /// Every submission still waiting, oldest first. A journal file that cannot be read is
    /// moved aside to `outbox/unreadable/` (kept for a human, never deleted) and skipped.
    pub fn pending(&self) -> Result<Vec<QueuedSubmission>, OutboxError> {
        let _guard = lock(&self.lock);
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(local_err(&self.dir))? {
            let entry = entry.map_err(local_err(&self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && name.ends_with(".json") && entry.path().is_file() {
                names.push(name);
            }
        }
        names.sort();
        let mut queued = Vec::with_capacity(names.len());
        for id in names {
            let path = self.dir.join(&id);
            match Self::read_entry(&path) {
                Ok(entry) => queued.push(QueuedSubmission {
                    id,
                    submission: entry.submission,
                    late: entry.late,
                }),
                Err(OutboxError::Unreadable { message, .. }) => {
                    tracing::error!(path = %path.display(), %message, "unreadable outbox entry set aside");
                    let aside = self.dir.join("unreadable");
                    fs::create_dir_all(&aside).map_err(local_err(&aside))?;
                    fs::rename(&path, aside.join(&id)).map_err(local_err(&path))?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(queued)
    }

    /// How many submissions wait.
    pub fn len(&self) -> Result<usize, OutboxError> {
        self.pending().map(|p| p.len())
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> Result<bool, OutboxError> {
        self.len().map(|n| n == 0)
    }

    /// One delivery attempt of one queued submission: decide (once) whether it is late, upload
    /// it create-only, mark its claim submitted, remove it from the journal.
    pub async fn deliver(
        &self,
        store: &dyn ObjectStore,
        queued: &QueuedSubmission,
    ) -> Result<Delivered, OutboxError> {
        let submission = &queued.submission;
        let r = &submission.request;
        let output = submission.output()?;
        let claim_path = output.claim(r.object_id, r.slot)?;
        let response = submission.response_path()?;

        // 1. Late or not: decided before the first upload and journaled, so replays agree.
        let late = match queued.late {
            Some(late) => late,
            None => {
                let late = match read_claim(store, &claim_path).await {
                    Ok(Some(at)) => {
                        let rec = at.record;
                        !(rec.worker == r.worker
                            && rec.claimed_at_ms == r.claimed_at_ms
                            && matches!(rec.state, ClaimState::Claimed | ClaimState::Submitted))
                    }
                    Ok(None) | Err(ClaimError::Corrupt { .. }) => true,
                    Err(e) => return Err(e.into()),
                };
                let _guard = lock(&self.lock);
                let path = self.dir.join(&queued.id);
                let mut entry = Self::read_entry(&path)?;
                entry.late = Some(late);
                self.write_entry(&queued.id, &entry)?;
                late
            }
        };

        // 2. Upload create-only; the identical bytes already there mean an earlier attempt made it.
        let bytes = submission.response_json(late);
        let options = PutOptions {
            mode: PutMode::CreateOnly,
            content_type: Some("application/json".into()),
            kms_key_id: r.kms_key_id.clone(),
        };
        let replayed = match store.put(&response, bytes.clone(), options).await {
            Ok(_) => false,
            Err(StoreError::AlreadyExists { .. }) => {
                let existing = store.get(&response, None).await?;
                let same = existing.bytes == bytes
                    || serde_json::from_slice::<Value>(&existing.bytes).ok()
                        == serde_json::from_slice::<Value>(&bytes).ok();
                if !same {
                    return Err(OutboxError::Conflict { path: response.uri() });
                }
                true
            }
            Err(e) => return Err(e.into()),
        };

        // 3. Mark the claim submitted, if it is still this worker's.
        let claim = if late {
            ClaimMark::Lost
        } else {
            match finish_claim(
                store,
                &claim_path,
                &r.worker,
                r.claimed_at_ms,
                ClaimState::Submitted,
                self.clock.now_ms(),
                r.kms_key_id.as_deref(),
            )
            .await?
            {
                FinishOutcome::Done | FinishOutcome::AlreadyDone => ClaimMark::Submitted,
                FinishOutcome::Lost { .. } => ClaimMark::Lost,
            }
        };

        // 4. Acknowledged: drop it from the journal.
        {
            let _guard = lock(&self.lock);
            remove_durable(&self.dir.join(&queued.id))?;
        }
        Ok(Delivered {
            id: queued.id.clone(),
            response,
            late: late || claim == ClaimMark::Lost,
            claim,
            replayed,
        })
    }

    /// Delivers everything waiting, oldest first, retrying transient failures with backoff up
    /// to `retry.max_attempts` per entry. Stops at the first entry that still fails transiently
    /// (the store is unreachable: the rest would fail too); skips past permanent failures.
    pub async fn drain(
        &self,
        store: &dyn ObjectStore,
        retry: &RetryPolicy,
        rng: &mut fastrand::Rng,
    ) -> Result<DrainReport, OutboxError> {
        let mut report = DrainReport::default();
        'entries: for queued in self.pending()? {
            let mut attempt = 0;
            loop {
                match self.deliver(store, &queued).await {
                    Ok(delivered) => {
                        report.delivered.push(delivered);
                        break;
                    }
                    Err(e) if e.is_transient() && attempt + 1 < retry.max_attempts.max(1) => {
                        let delay = retry.backoff_ms(attempt, rng);
                        tracing::debug!(id = %queued.id, error = %e, delay, "retrying");
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        attempt += 1;
                    }
                    Err(e) => {
                        let transient = e.is_transient();
                        tracing::warn!(id = %queued.id, error = %e, "submission not delivered");
                        report.last_error = Some(e);
                        if transient {
                            break 'entries;
                        }
                        break;
                    }
                }
            }
        }
        report.remaining = self.len()?;
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------------
// Drafts

/// Which draft: a worker's work in progress on one object of one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftKey {
    /// The job's `OutputConfig.S3OutputPath`.
    #[serde(with = "uri")]
    pub s3_output_path: ObjectPath,
    /// The job's name.
    pub job_name: String,
    /// The worker.
    pub worker: String,
    /// The data object.
    pub object_id: u64,
    /// `OutputConfig.KmsKeyId`, asked for when the draft is uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

impl DraftKey {
    /// Where the draft lives in the store.
    pub fn remote_path(&self) -> Result<ObjectPath, StoreError> {
        JobOutput::new(&self.s3_output_path, &self.job_name)?.draft(&self.worker, self.object_id)
    }
}

/// A saved draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// When it was saved, ms since the epoch; the newest copy wins.
    pub saved_at_ms: i64,
    /// The work in progress (the task view's document, as JSON).
    pub content: Value,
}

/// Where a loaded draft came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftSource {
    /// This machine's copy.
    Local,
    /// The store's copy (saved on another machine, or after this one's).
    Remote,
}

/// What syncing one draft did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftSync {
    /// The local draft was uploaded.
    Uploaded,
    /// The store already had this draft or a newer one; nothing uploaded.
    RemoteNewer,
    /// The local draft was already synced.
    AlreadySynced,
    /// There is no local draft.
    Missing,
}

/// The local draft file: the draft, its key, and whether the store has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LocalDraft {
    format: u32,
    key: DraftKey,
    synced: bool,
    draft: Draft,
}

/// The draft as stored in `annotation-tool/drafts/<worker>/<object>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RemoteDraft {
    worker: String,
    object_id: u64,
    saved_at_ms: i64,
    content: Value,
}

/// Local drafts of one workspace, in `root/drafts/`, and their sync to the store.
#[derive(Debug)]
pub struct Drafts {
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    lock: Mutex<()>,
}

impl Drafts {
    /// Opens (creating if needed) `root/drafts/`.
    pub fn open(root: &Path, clock: Arc<dyn Clock>) -> Result<Self, OutboxError> {
        let dir = root.join("drafts");
        fs::create_dir_all(&dir).map_err(local_err(&dir))?;
        Ok(Self { dir, clock, lock: Mutex::new(()) })
    }

    fn local_path(&self, key: &DraftKey) -> Result<PathBuf, OutboxError> {
        validate_segment("worker id", &key.worker)?;
        let job = fnv1a64(&format!("{}|{}", key.s3_output_path.uri(), key.job_name));
        Ok(self
            .dir
            .join(format!("{job:016x}"))
            .join(&key.worker)
            .join(format!("{}.json", key.object_id)))
    }

    fn read_local(path: &Path) -> Result<Option<LocalDraft>, OutboxError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(local_err(path)(e)),
        };
        let local: LocalDraft = serde_json::from_slice(&bytes).map_err(|e| {
            OutboxError::Unreadable { path: path.to_owned(), message: e.to_string() }
        })?;
        Ok(Some(local))
    }

    fn write_local(path: &Path, local: &LocalDraft) -> Result<(), OutboxError> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(local_err(dir))?;
        }
        let bytes = serde_json::to_vec(local)
            .map_err(|e| OutboxError::Invalid { field: "draft", reason: e.to_string() })?;
        write_durable(path, &bytes)
    }

    /// Saves a draft locally, durably, at once (no network). Its time is now, or just after the
    /// previous save when the clock went backwards, so the newest save always wins.
    pub fn save_draft(&self, key: &DraftKey, content: Value) -> Result<Draft, OutboxError> {
        JobOutput::new(&key.s3_output_path, &key.job_name)?;
        let path = self.local_path(key)?;
        let _guard = lock(&self.lock);
        let previous = Self::read_local(&path).ok().flatten().map(|l| l.draft.saved_at_ms);
        let now_ms = self.clock.now_ms();
        let saved_at_ms = previous.map_or(now_ms, |p| now_ms.max(p + 1));
        let draft = Draft { saved_at_ms, content };
        let local = LocalDraft {
            format: FILE_FORMAT,
            key: key.clone(),
            synced: false,
            draft: draft.clone(),
        };
        Self::write_local(&path, &local)?;
        Ok(draft)
    }

    /// This machine's copy of a draft.
    pub fn local_draft(&self, key: &DraftKey) -> Result<Option<Draft>, OutboxError> {
        let path = self.local_path(key)?;
        let _guard = lock(&self.lock);
        Ok(Self::read_local(&path)?.map(|l| l.draft))
    }

    /// Deletes this machine's copy (after the task was submitted or released).
    pub fn discard_local(&self, key: &DraftKey) -> Result<(), OutboxError> {
        let path = self.local_path(key)?;
        let _guard = lock(&self.lock);
        remove_durable(&path)
    }

    /// The drafts saved here that the store does not have yet.
    pub fn unsynced(&self) -> Result<Vec<DraftKey>, OutboxError> {
        let _guard = lock(&self.lock);
        let mut keys = Vec::new();
        let mut stack = vec![self.dir.clone()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).map_err(local_err(&dir))? {
                let entry = entry.map_err(local_err(&dir))?;
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() {
                    stack.push(path);
                } else if !name.starts_with('.') && name.ends_with(".json") {
                    match Self::read_local(&path) {
                        Ok(Some(local)) if !local.synced => keys.push(local.key),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "unreadable local draft skipped"),
                    }
                }
            }
        }
        keys.sort_by(|a, b| {
            (a.s3_output_path.uri(), &a.job_name, &a.worker, a.object_id).cmp(&(
                b.s3_output_path.uri(),
                &b.job_name,
                &b.worker,
                b.object_id,
            ))
        });
        Ok(keys)
    }

    async fn read_remote(
        store: &dyn ObjectStore,
        path: &ObjectPath,
    ) -> Result<Option<(String, RemoteDraft)>, OutboxError> {
        match store.get(path, None).await {
            Ok(got) => match serde_json::from_slice::<RemoteDraft>(&got.bytes) {
                Ok(remote) => Ok(Some((got.meta.etag, remote))),
                Err(e) => {
                    // A broken remote draft must not block saving a good one over it.
                    tracing::warn!(path = %path, error = %e, "unreadable remote draft");
                    Ok(Some((
                        got.meta.etag,
                        RemoteDraft {
                            worker: String::new(),
                            object_id: 0,
                            saved_at_ms: i64::MIN,
                            content: Value::Null,
                        },
                    )))
                }
            },
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Uploads one local draft unless the store has it or a newer one. The upload is
    /// conditional on what was read, so a newer draft from another machine is never overwritten.
    pub async fn sync_draft(
        &self,
        store: &dyn ObjectStore,
        key: &DraftKey,
    ) -> Result<DraftSync, OutboxError> {
        let path = self.local_path(key)?;
        let remote_path = key.remote_path()?;
        let local = {
            let _guard = lock(&self.lock);
            Self::read_local(&path)?
        };
        let Some(local) = local else { return Ok(DraftSync::Missing) };
        if local.synced {
            return Ok(DraftSync::AlreadySynced);
        }
        let mut outcome = DraftSync::RemoteNewer;
        for _ in 0..4 {
            let remote = Self::read_remote(store, &remote_path).await?;
            let mode = match &remote {
                Some((_, r)) if r.saved_at_ms >= local.draft.saved_at_ms => break,
                Some((etag, _)) => PutMode::UpdateIfMatch(etag.clone()),
                None => PutMode::CreateOnly,
            };
            let body = RemoteDraft {
                worker: key.worker.clone(),
                object_id: key.object_id,
                saved_at_ms: local.draft.saved_at_ms,
                content: local.draft.content.clone(),
            };
            let bytes = serde_json::to_vec(&body)
                .map_err(|e| OutboxError::Invalid { field: "draft", reason: e.to_string() })?;
            let options = PutOptions {
                mode,
                content_type: Some("application/json".into()),
                kms_key_id: key.kms_key_id.clone(),
            };
            match store.put(&remote_path, bytes, options).await {
                Ok(_) => {
                    outcome = DraftSync::Uploaded;
                    break;
                }
                Err(
                    StoreError::AlreadyExists { .. }
                    | StoreError::PreconditionFailed { .. }
                    | StoreError::NotFound { .. },
                ) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        // Mark synced unless a newer save happened meanwhile (that one still needs a sync).
        let _guard = lock(&self.lock);
        if let Some(mut now) = Self::read_local(&path)?
            && now.draft.saved_at_ms == local.draft.saved_at_ms
            && !now.synced
        {
            now.synced = true;
            Self::write_local(&path, &now)?;
        }
        Ok(outcome)
    }

    /// Syncs every unsynced draft; returns how many were uploaded. Stops at the first store
    /// failure.
    pub async fn sync_all(&self, store: &dyn ObjectStore) -> Result<usize, OutboxError> {
        let mut uploaded = 0;
        for key in self.unsynced()? {
            if self.sync_draft(store, &key).await? == DraftSync::Uploaded {
                uploaded += 1;
            }
        }
        Ok(uploaded)
    }

    /// The newest of the local and the stored copy. When the store's is newer it is also kept
    /// locally (for offline work). When the store cannot be reached, the local copy is returned.
    pub async fn load_draft(
        &self,
        store: &dyn ObjectStore,
        key: &DraftKey,
    ) -> Result<Option<(Draft, DraftSource)>, OutboxError> {
        let path = self.local_path(key)?;
        let local = {
            let _guard = lock(&self.lock);
            Self::read_local(&path)?
        };
        let remote = match Self::read_remote(store, &key.remote_path()?).await {
            Ok(remote) => remote.filter(|(_, r)| r.saved_at_ms != i64::MIN).map(|(_, r)| r),
            Err(e) if e.is_transient() => {
                tracing::debug!(error = %e, "store unreachable; using the local draft");
                None
            }
            Err(e) => return Err(e),
        };
        match (local, remote) {
            (Some(l), Some(r)) if r.saved_at_ms > l.draft.saved_at_ms => {
                Ok(Some(self.adopt_remote(&path, key, r)?))
            }
            (None, Some(r)) => Ok(Some(self.adopt_remote(&path, key, r)?)),
            (Some(l), _) => Ok(Some((l.draft, DraftSource::Local))),
            (None, None) => Ok(None),
        }
    }

    fn adopt_remote(
        &self,
        path: &Path,
        key: &DraftKey,
        remote: RemoteDraft,
    ) -> Result<(Draft, DraftSource), OutboxError> {
        let draft = Draft { saved_at_ms: remote.saved_at_ms, content: remote.content };
        let _guard = lock(&self.lock);
        // Only if no newer local save raced in.
        let newer_local =
            Self::read_local(path)?.is_some_and(|l| l.draft.saved_at_ms > draft.saved_at_ms);
        if !newer_local {
            let local = LocalDraft {
                format: FILE_FORMAT,
                key: key.clone(),
                synced: true,
                draft: draft.clone(),
            };
            Self::write_local(path, &local)?;
        }
        Ok((draft, DraftSource::Remote))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn formats_ground_truth_timestamps() {
        assert_eq!(format_worker_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_worker_timestamp(1_609_181_955_191), "2020-12-28T18:59:15.191Z");
        assert_eq!(format_worker_timestamp(951_868_799_999), "2000-02-29T23:59:59.999Z");
        assert_eq!(format_worker_timestamp(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_worker_timestamp(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let policy =
            RetryPolicy { initial_backoff_ms: 100, max_backoff_ms: 1_000, max_attempts: 5 };
        let mut rng = fastrand::Rng::with_seed(7);
        for attempt in 0..40 {
            let step = (100u64 << attempt.min(20)).min(1_000);
            for _ in 0..20 {
                let d = policy.backoff_ms(attempt, &mut rng);
                assert!(
                    d >= step / 2 && d <= step,
                    "attempt {attempt}: {d} not in [{}, {step}]",
                    step / 2
                );
            }
        }
        let spread: std::collections::BTreeSet<u64> =
            (0..50).map(|_| policy.backoff_ms(3, &mut rng)).collect();
        assert!(spread.len() > 10, "jitter spreads retries");
    }

    #[test]
    fn response_file_follows_spec_section_6() {
        let sub = Submission {
            submitted_at_ms: 1_609_181_998_321,
            request: SubmissionRequest {
                s3_output_path: ObjectPath::parse("s3://bkt/out/").unwrap(),
                job_name: "boxes".into(),
                kms_key_id: None,
                object_id: 3,
                slot: 0,
                worker: "a12b3cdefg4h5i67".into(),
                claimed_at_ms: 1_609_181_955_000,
                accepted_at_ms: 1_609_181_955_191,
                time_spent_secs: 40.543_21,
                worker_metadata: None,
                answer_content: serde_json::json!({"boundingBox": {"boundingBoxes": []}}),
            },
        };
        assert_eq!(
            String::from_utf8(sub.response_json(false)).unwrap(),
            r#"{"answers":[{"acceptanceTime":"2020-12-28T18:59:15.191Z","submissionTime":"2020-12-28T18:59:58.321Z","timeSpentInSeconds":40.543,"workerId":"a12b3cdefg4h5i67","answerContent":{"boundingBox":{"boundingBoxes":[]}}}]}"#
        );
        let late: Value = serde_json::from_slice(&sub.response_json(true)).unwrap();
        assert_eq!(late["answers"][0][LATE_FIELD], Value::Bool(true));
        assert_eq!(
            sub.response_path().unwrap().uri(),
            "s3://bkt/out/boxes/annotations/worker-response/iteration-1/3/1609181998321-a12b3cdefg4h5i67.json"
        );
    }

    #[test]
    fn durable_write_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        write_durable(&path, b"one").unwrap();
        write_durable(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
        remove_durable(&path).unwrap();
        remove_durable(&path).unwrap();
        assert!(!path.exists());
    }
}
