//! A job's lifecycle after the workers: consolidation of each data object once its answers are
//! in, failure records, and the output manifest in Ground Truth's format (DESIGN.md §2,
//! spec §5–§7). There is no server: every client that notices work to do does it, and every
//! write is create-only, so racing clients agree and a crash at any point is repaired by the
//! next client that looks.
//!
//! Per data object, in this order:
//! 1. `consolidation-request/iteration-1/<id>.json` — the answers that count, in the batch shape a
//!    post-annotation Lambda reads (spec §9.3). Whoever writes it first fixes the answer set;
//!    a client that loses the race consolidates from the stored request.
//!    Which answers count: one per worker, at most `NumberOfHumanWorkersPerDataObject`, workers
//!    whose claim on the object is submitted first, then the others (late answers, or answers
//!    whose claim was never marked), each group oldest first. A worker's on-time answer beats
//!    a late one.
//! 2. `-ref` label files under `consolidated-annotation/output/<id>/` (the segmentation mask,
//!    `SeqLabel.json` of video and 3D tracking jobs, the `.zlib` of 3D segmentation).
//! 3. `consolidation-response/iteration-1/<id>.json` — the post-annotation Lambda's response
//!    shape: `[{"datasetObjectId", "consolidatedAnnotation": {"content": {"<attr>": label,
//!    "<attr>-metadata": {…}}}}]`. Job status counts the object as labeled from then on.
//!
//! An object that fails (declined by as many workers as it has slots, not labeled within
//! `TaskAvailabilityLifetimeInSeconds`, or answers that cannot be consolidated) gets
//! `consolidation-response/iteration-1/<id>.failed.json` instead: the same shape with only
//! `<attr>-metadata`, carrying `failure-reason`.
//!
//! When every object has one of the two, `manifests/output/output.manifest` is written: each
//! input line, in order, plus `<attr>` and `<attr>-metadata` (failed objects: the metadata with
//! `failure-reason` only). A stopped job gets its output manifest once nothing awaits
//! consolidation, with unlabeled lines unchanged. While a job runs, [`Lifecycle::run_pending`]
//! refreshes `manifests/intermediate/1/output.manifest` (a snapshot; last writer wins).
//!
//! **Single-label classification and verification need the batch** (their EM estimates each
//! worker's reliability across objects). The consolidation response written when an object
//! completes is decided by EM over every object whose consolidation request is stored at that
//! moment; the output manifest reruns EM once over *all* consolidated objects, from their stored
//! requests, so the final labels do not depend on the order in which objects completed or on
//! which client wrote them (the `creation-date` of each object's response is kept). The other
//! types are per-object functions: the output manifest repeats their responses.
//!
//! Who runs this: the worker whose delivery completes an object ([`Lifecycle::settle_object`]
//! after its outbox delivery), and any client that sees objects awaiting consolidation
//! ([`Lifecycle::run_pending`]: `groundwork sync`, `job describe`).
//!
//! Every put passes the job's `OutputConfig.KmsKeyId`. Must not depend on `render`, `ui`,
//! `app` or `cli`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};

use crate::annotation::AnnotationError;
use crate::annotation::consolidate::{
    BoundingBoxOptions, ClassificationKind, LabelRecord, ObjectAnswers, OutputFile, RecordContext,
    SingleWorkerJob, SingleWorkerKind, WorkerAnswer, consolidate_bounding_boxes,
    consolidate_multi_label, consolidate_semantic_segmentation, consolidate_single_label,
    consolidate_single_worker, consolidate_verification, em::EmOptions, output_file_name,
};
use crate::formats::label_config::LabelCategoryConfig;
use crate::formats::manifest::{DataSource, ManifestLine};
use crate::formats::output::{LabelPair, METADATA_SUFFIX, OutputLine};
use crate::formats::sequence::PointCloudSequence;
use crate::formats::time::format_creation_date;
use crate::formats::worker_response::{
    AnnotationData, ConsolidationItem, ConsolidationRequest, DataObject, WorkerAnnotation,
    WorkerResponseFile,
};
use crate::job::{JobSpec, LabelSummary, TaskType};

use super::catalog::CatalogError;
use super::claims::{
    ClaimBoard, ClaimCache, ClaimError, ClaimJob, ClaimPolicy, ClaimState, ClaimTicket,
    ObjectClaims, scan_claims,
};
use super::clock::Clock;
use super::jobs::{Jobs, JobsError};
use super::layout::JobOutput;
use super::outbox::{LATE_FIELD, SubmissionRequest};
use super::status::{
    JobSnapshot, LabelingJobStatus, ObjectState, Recorded, StatusError, StatusQuery, job_status,
    object_state, recorded_outcomes,
};
use super::{ObjectPath, ObjectStore, PutMode, PutOptions, StoreError};

/// Page size used when listing.
const LIST_PAGE: usize = 1000;

/// File name of the consolidated segmentation mask under `consolidated-annotation/output/<id>/`.
pub const MASK_FILE_NAME: &str = "mask.png";

/// Errors of the lifecycle. Answers that cannot be consolidated are not errors: they fail their
/// object with a reason.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// Reading the job failed.
    #[error(transparent)]
    Jobs(#[from] JobsError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading claims failed.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// Computing the job status failed.
    #[error(transparent)]
    Status(#[from] StatusError),
    /// The stored job cannot be run.
    #[error("job {job}: {message}")]
    InvalidJob {
        /// The job.
        job: String,
        /// What is wrong.
        message: String,
    },
    /// A stored file is not what it should be.
    #[error("{path}: {message}")]
    Corrupt {
        /// The object.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl LifecycleError {
    /// True when a later retry may succeed (network trouble).
    pub fn is_transient(&self) -> bool {
        let status_store = |e: &StatusError| match e {
            StatusError::Store(e) | StatusError::Claim(ClaimError::Store(e)) => e.is_transient(),
            _ => false,
        };
        match self {
            Self::Store(e)
            | Self::Claim(ClaimError::Store(e))
            | Self::Jobs(JobsError::Store(e) | JobsError::Catalog(CatalogError::Store(e))) => {
                e.is_transient()
            }
            Self::Claim(ClaimError::Contended { .. }) => true,
            Self::Status(e) | Self::Jobs(JobsError::Status(e)) => status_store(e),
            _ => false,
        }
    }
}

fn corrupt(path: &ObjectPath, message: impl std::fmt::Display) -> LifecycleError {
    LifecycleError::Corrupt { path: path.uri(), message: message.to_string() }
}

/// How a task type's answers become one label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Dawid–Skene EM over the batch (image and text classification).
    SingleLabel(ClassificationKind),
    /// EM over the verdicts (bounding-box and segmentation verification).
    Verification,
    /// Per-class vote (multi-label classification).
    MultiLabel(ClassificationKind),
    /// IoU clustering (bounding boxes and their adjustment).
    BoundingBoxes,
    /// Per-pixel vote with a mask file (semantic segmentation and its adjustment).
    SemanticSegmentation,
    /// One worker per object (video frames, 3D point clouds): the answer is checked and shaped
    /// into `SeqLabel.json`, inline cuboids or a point-label file.
    SingleWorker(SingleWorkerKind),
    /// No consolidation function: an empty label and `worker-response-ref` pointing at the
    /// object's consolidation request, which holds every counted answer (spec §5.16).
    Custom,
    /// No consolidation for this task type in this version; its objects wait.
    Unsupported,
}

impl Method {
    /// The method for a task type.
    pub fn of(task_type: TaskType) -> Self {
        use ClassificationKind::{Image, Text};
        match task_type {
            TaskType::ImageClassification => Self::SingleLabel(Image),
            TaskType::TextClassification => Self::SingleLabel(Text),
            TaskType::ImageClassificationMultiLabel => Self::MultiLabel(Image),
            TaskType::TextClassificationMultiLabel => Self::MultiLabel(Text),
            TaskType::BoundingBox | TaskType::BoundingBoxAdjustment => Self::BoundingBoxes,
            TaskType::BoundingBoxVerification | TaskType::SemanticSegmentationVerification => {
                Self::Verification
            }
            TaskType::SemanticSegmentation | TaskType::SemanticSegmentationAdjustment => {
                Self::SemanticSegmentation
            }
            TaskType::VideoObjectDetection | TaskType::VideoObjectDetectionAdjustment => {
                Self::SingleWorker(SingleWorkerKind::VideoDetection)
            }
            TaskType::VideoObjectTracking | TaskType::VideoObjectTrackingAdjustment => {
                Self::SingleWorker(SingleWorkerKind::VideoTracking)
            }
            TaskType::PointCloudObjectDetection | TaskType::PointCloudObjectDetectionAdjustment => {
                Self::SingleWorker(SingleWorkerKind::CuboidDetection)
            }
            TaskType::PointCloudObjectTracking
            | TaskType::PointCloudObjectTrackingAdjustment
            | TaskType::PointCloud3d2dLinking
            | TaskType::PointCloud3d2dLinkingAdjustment => {
                Self::SingleWorker(SingleWorkerKind::CuboidTracking)
            }
            TaskType::PointCloudSemanticSegmentation
            | TaskType::PointCloudSemanticSegmentationAdjustment => {
                Self::SingleWorker(SingleWorkerKind::PointSegmentation)
            }
            TaskType::Custom => Self::Custom,
            _ => Self::Unsupported,
        }
    }

    /// True for the methods that estimate worker reliability over the whole batch.
    pub fn is_batch(self) -> bool {
        matches!(self, Self::SingleLabel(_) | Self::Verification)
    }
}

/// Everything the lifecycle needs to know about one job, read once from the workspace.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The stored spec.
    pub spec: JobSpec,
    /// Its task type.
    pub task_type: TaskType,
    /// How its answers are consolidated.
    pub method: Method,
    /// The label names in order (class indices), from its label category file.
    pub labels: Vec<String>,
    /// `LabelAttributeName` in effect.
    pub label_attribute_name: String,
    /// The output folder.
    pub output: JobOutput,
    /// The input manifest.
    pub input_manifest: ObjectPath,
    /// The catalog's `job.json`.
    pub job_spec_path: ObjectPath,
    /// The catalog's stop marker.
    pub stop_marker: ObjectPath,
    /// When the job was created, ms since the epoch.
    pub created_at_ms: i64,
    /// The claim parameters.
    pub policy: ClaimPolicy,
    /// `OutputConfig.KmsKeyId`.
    pub kms_key_id: Option<String>,
}

impl JobContext {
    /// The job's name.
    pub fn name(&self) -> &str {
        &self.spec.labeling_job_name
    }
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Not ready: still being labeled or not started.
    NotReady(ObjectState),
    /// Consolidated now, by this call.
    Consolidated,
    /// It already was consolidated (by this or another client).
    AlreadyConsolidated,
    /// Failed now, by this call, with this reason.
    Failed(String),
    /// It had already failed.
    AlreadyFailed,
    /// Ready, but the job's task type has no consolidation here.
    Unsupported,
}

/// What [`Lifecycle::run_pending`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingReport {
    /// Objects consolidated by this run.
    pub consolidated: Vec<u64>,
    /// Objects whose failure was recorded by this run, with the reason.
    pub failed: Vec<(u64, String)>,
    /// Objects ready but of a task type without consolidation.
    pub unsupported: Vec<u64>,
    /// The final output manifest, when it exists (written now or before).
    pub output_manifest: Option<ObjectPath>,
    /// The intermediate manifest, when this run refreshed it.
    pub intermediate_manifest: Option<ObjectPath>,
    /// The job's status after this run.
    pub status: Option<LabelingJobStatus>,
}

/// A consolidated label and, for `-ref` types, the label file it points at (the mask PNG,
/// `SeqLabel.json`, a `.zlib`).
type Consolidated = (LabelRecord, Option<OutputFile>);

/// One object's stored outcome, as read back.
#[derive(Debug, Clone, PartialEq)]
enum StoredOutcome {
    Labeled { label: Value, metadata: Value },
    Failed { metadata: Value },
}

/// One worker answer found in the store, before selection.
#[derive(Debug, Clone)]
struct FoundAnswer {
    worker: String,
    submitted_at_ms: i64,
    late: bool,
    content: Value,
}

/// A job's consolidation and output, over one store. Cheap to keep: stored requests and
/// responses are immutable, so they are cached for the life of this value.
#[derive(Debug)]
pub struct Lifecycle {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    job: JobContext,
    input_lines: Vec<String>,
    requests: Mutex<BTreeMap<u64, Arc<ObjectAnswers>>>,
    /// Per object: whether its answers pass the consolidation function alone (batch methods).
    valid: Mutex<BTreeMap<u64, bool>>,
    outcomes: Mutex<BTreeMap<u64, StoredOutcome>>,
    claim_cache: ClaimCache,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn parse_u64(text: &str) -> Option<u64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

impl Lifecycle {
    /// Reads job `name` from `jobs`' workspace: its spec, label file, input manifest and
    /// creation time.
    pub async fn open(jobs: &Jobs, name: &str) -> Result<Self, LifecycleError> {
        let spec = jobs.spec(name).await?;
        let invalid = |message: String| LifecycleError::InvalidJob { job: name.into(), message };
        let store = &jobs.workspace().store;
        let config = match spec.label_category_config_s3_uri.as_deref() {
            None => None,
            Some(uri) => {
                let path = ObjectPath::parse(uri)?;
                let bytes = store.get(&path, None).await?.bytes;
                let text = String::from_utf8(bytes).map_err(|_| corrupt(&path, "not UTF-8"))?;
                Some(LabelCategoryConfig::parse(&text, uri).map_err(|e| corrupt(&path, e))?)
            }
        };
        let summary = config.as_ref().map(LabelSummary::from);
        let validated = spec.validated(summary.as_ref()).map_err(|findings| {
            let errors: Vec<String> =
                findings.iter().filter(|f| f.is_error()).map(ToString::to_string).collect();
            invalid(format!("the stored specification is invalid: {}", errors.join("; ")))
        })?;
        let labels = config
            .as_ref()
            .map(|c| c.label_names().into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        let workspace = jobs.workspace();
        let input_manifest = workspace.job_input_manifest(name).await.map_err(JobsError::from)?;
        let created_at_ms = workspace
            .job_created(name)
            .await
            .map_err(JobsError::from)?
            .map_or(0, |c| c.created_at_ms);
        let job = JobContext {
            task_type: validated.task_type(),
            method: Method::of(validated.task_type()),
            labels,
            label_attribute_name: validated.label_attribute_name().to_owned(),
            output: Jobs::output_of(&spec)?,
            input_manifest,
            job_spec_path: workspace.catalog.job_spec(name)?,
            stop_marker: workspace.catalog.job_stop(name)?,
            created_at_ms,
            policy: Jobs::policy_of(&spec),
            kms_key_id: spec.output_config.kms_key_id.clone(),
            spec,
        };
        Self::with_context(workspace.store.clone(), jobs.clock().clone(), job).await
    }

    /// A lifecycle for an already-read job context (reads the input manifest).
    pub async fn with_context(
        store: Arc<dyn ObjectStore>,
        clock: Arc<dyn Clock>,
        job: JobContext,
    ) -> Result<Self, LifecycleError> {
        let got = store.get(&job.input_manifest, None).await?;
        let text = String::from_utf8(got.bytes)
            .map_err(|_| corrupt(&job.input_manifest, "the input manifest is not UTF-8"))?;
        let input_lines =
            text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect();
        Ok(Self {
            store,
            clock,
            job,
            input_lines,
            requests: Mutex::default(),
            valid: Mutex::default(),
            outcomes: Mutex::default(),
            claim_cache: ClaimCache::default(),
        })
    }

    /// The job.
    pub fn job(&self) -> &JobContext {
        &self.job
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// How many data objects the job has.
    pub fn object_count(&self) -> u64 {
        self.input_lines.len() as u64
    }

    /// Data object `object_id`'s input manifest line, as text.
    pub fn input_line(&self, object_id: u64) -> Option<&str> {
        usize::try_from(object_id).ok().and_then(|i| self.input_lines.get(i)).map(String::as_str)
    }

    /// What the claim protocol needs to know about this job.
    pub fn claim_job(&self) -> ClaimJob {
        ClaimJob {
            output: self.job.output.clone(),
            stop_marker: self.job.stop_marker.clone(),
            created_at_ms: self.job.created_at_ms,
            object_count: self.object_count(),
            kms_key_id: self.job.kms_key_id.clone(),
        }
    }

    /// A claim board for this job (one per worker machine).
    pub fn claim_board(&self) -> Result<ClaimBoard, ClaimError> {
        ClaimBoard::new(
            self.store.clone(),
            self.claim_job(),
            self.job.policy.clone(),
            self.clock.clone(),
        )
    }

    /// The status query of this job.
    pub fn status_query(&self) -> StatusQuery {
        StatusQuery {
            job_spec: self.job.job_spec_path.clone(),
            stop_marker: self.job.stop_marker.clone(),
            output: self.job.output.clone(),
            object_count: Some(self.object_count()),
            created_at_ms: self.job.created_at_ms,
            policy: self.job.policy.clone(),
        }
    }

    /// The job's status, from the store.
    pub async fn status(&self) -> Result<JobSnapshot, LifecycleError> {
        Ok(job_status(self.store.as_ref(), &self.status_query(), self.clock.as_ref()).await?)
    }

    /// The submission for a won claim: `answer_content` is the form a worker submits (spec §6),
    /// accepted when the claim was made, `time_spent_secs` of active work.
    pub fn submission(
        &self,
        ticket: &ClaimTicket,
        answer_content: Value,
        time_spent_secs: f64,
    ) -> Result<SubmissionRequest, StoreError> {
        let s3_output_path = ObjectPath::parse(&self.job.spec.output_config.s3_output_path)?;
        Ok(SubmissionRequest {
            s3_output_path,
            job_name: self.job.name().to_owned(),
            kms_key_id: self.job.kms_key_id.clone(),
            object_id: ticket.object_id,
            slot: ticket.slot,
            worker: ticket.worker.clone(),
            claimed_at_ms: ticket.claimed_at_ms,
            accepted_at_ms: ticket.claimed_at_ms,
            time_spent_secs,
            worker_metadata: None,
            answer_content,
        })
    }

    fn put_options(&self, content_type: &str) -> PutOptions {
        PutOptions {
            mode: PutMode::CreateOnly,
            content_type: Some(content_type.to_owned()),
            kms_key_id: self.job.kms_key_id.clone(),
        }
    }

    /// Writes `bytes` create-only; true when this call created it, false when it existed.
    async fn create(
        &self,
        path: &ObjectPath,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        match self.store.put(path, bytes, self.put_options(content_type)).await {
            Ok(_) => Ok(true),
            Err(StoreError::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn exists(&self, path: &ObjectPath) -> Result<bool, StoreError> {
        match self.store.head(path).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn get_opt(&self, path: &ObjectPath) -> Result<Option<Vec<u8>>, StoreError> {
        match self.store.get(path, None).await {
            Ok(got) => Ok(Some(got.bytes)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn list_keys(&self, prefix: &ObjectPath) -> Result<Vec<ObjectPath>, StoreError> {
        let mut out = Vec::new();
        let mut continuation = None;
        loop {
            let page = self.store.list(prefix, continuation, LIST_PAGE).await?;
            out.extend(page.objects.into_iter().map(|m| m.path));
            continuation = page.next;
            if continuation.is_none() {
                return Ok(out);
            }
        }
    }

    fn past_deadline(&self, now_ms: i64) -> bool {
        let lifetime_ms = i64::try_from(self.job.policy.availability_lifetime_secs)
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000);
        now_ms >= self.job.created_at_ms.saturating_add(lifetime_ms)
    }

    async fn object_claims(&self, object_id: u64) -> Result<ObjectClaims, ClaimError> {
        let prefix = self.job.output.claims_prefix()?;
        let under = prefix.join(&format!("{object_id}/"))?;
        let mut board = scan_claims(
            self.store.as_ref(),
            &prefix,
            &under,
            self.job.policy.workers_per_object,
            &self.claim_cache,
        )
        .await?;
        Ok(board.remove(&object_id).unwrap_or_default())
    }

    // -----------------------------------------------------------------------------------------
    // Triggers

    /// Settles one object if it is ready — consolidates it, or records its failure — and, when
    /// that made every object final, writes the output manifest. What a worker calls after its
    /// submission for `object_id` was delivered. Idempotent; safe to race.
    pub async fn settle_object(&self, object_id: u64) -> Result<Settled, LifecycleError> {
        let settled = self.settle_one(object_id, None).await?;
        if matches!(
            settled,
            Settled::Consolidated
                | Settled::Failed(_)
                | Settled::AlreadyConsolidated
                | Settled::AlreadyFailed
        ) {
            let recorded = recorded_outcomes(self.store.as_ref(), &self.job.output).await?;
            let count = self.object_count();
            if recorded.range(..count).count() as u64 >= count {
                self.write_output_manifest(true).await?;
            }
        }
        Ok(settled)
    }

    /// Does everything pending for the job: consolidates every object awaiting consolidation,
    /// records failures, writes the output manifest when every object is final (or the job is
    /// stopped and nothing awaits), otherwise refreshes the intermediate manifest when something
    /// changed. What `groundwork sync` and `job describe` call. Idempotent; safe to race.
    pub async fn run_pending(&self) -> Result<PendingReport, LifecycleError> {
        let mut report = PendingReport::default();
        let snapshot = self.status().await?;
        if snapshot.objects.is_empty() {
            report.status = Some(snapshot.status);
            return Ok(report);
        }
        let recorded = recorded_outcomes(self.store.as_ref(), &self.job.output).await?;
        for object in &snapshot.objects {
            let needs_work = match &object.state {
                ObjectState::AwaitingConsolidation { .. } => true,
                ObjectState::Failed(_) => !recorded.contains_key(&object.object_id),
                _ => false,
            };
            if !needs_work {
                continue;
            }
            match self.settle_one(object.object_id, Some(object.state.clone())).await? {
                Settled::Consolidated => report.consolidated.push(object.object_id),
                Settled::Failed(reason) => report.failed.push((object.object_id, reason)),
                Settled::Unsupported => report.unsupported.push(object.object_id),
                _ => {}
            }
        }
        let changed = !report.consolidated.is_empty() || !report.failed.is_empty();
        let snapshot = if changed { self.status().await? } else { snapshot };
        let output = self.job.output.output_manifest()?;
        let nothing_awaits = !snapshot
            .objects
            .iter()
            .any(|o| matches!(o.state, ObjectState::AwaitingConsolidation { .. }));
        match snapshot.status {
            LabelingJobStatus::Completed => {
                self.write_output_manifest(true).await?;
                report.output_manifest = Some(output);
            }
            LabelingJobStatus::Stopped if nothing_awaits => {
                self.write_output_manifest(false).await?;
                report.output_manifest = Some(output);
            }
            _ => {
                let intermediate = self.job.output.intermediate_manifest()?;
                let missing = self.get_opt(&intermediate).await?.is_none();
                let labeled =
                    snapshot.counters.total_labeled + snapshot.counters.failed_non_retryable_error;
                if changed || (missing && labeled > 0) {
                    let text = self.output_manifest_text().await?;
                    let mut options = self.put_options("application/jsonlines");
                    options.mode = PutMode::Overwrite;
                    self.store.put(&intermediate, text.into_bytes(), options).await?;
                    report.intermediate_manifest = Some(intermediate);
                }
            }
        }
        report.status = Some(snapshot.status);
        Ok(report)
    }

    /// Settles one object given its state (computed here when `None`).
    async fn settle_one(
        &self,
        object_id: u64,
        known: Option<ObjectState>,
    ) -> Result<Settled, LifecycleError> {
        if object_id >= self.object_count() {
            return Err(LifecycleError::Claim(ClaimError::NoSuchObject {
                object_id,
                object_count: self.object_count(),
            }));
        }
        let response = self.job.output.consolidation_response(object_id)?;
        if self.exists(&response).await? {
            return Ok(Settled::AlreadyConsolidated);
        }
        let failure = self.job.output.consolidation_failure(object_id)?;
        let failure_recorded = self.exists(&failure).await?;
        let claims = self.object_claims(object_id).await?;
        let state = match known {
            Some(state) => state,
            None => {
                let now_ms = self.clock.now_ms();
                let recorded = failure_recorded.then_some(Recorded::Failed);
                object_state(
                    &claims,
                    recorded,
                    self.job.policy.workers_per_object,
                    now_ms,
                    self.past_deadline(now_ms),
                )
            }
        };
        if failure_recorded {
            return Ok(Settled::AlreadyFailed);
        }
        match state {
            ObjectState::AwaitingConsolidation { .. } => self.consolidate(object_id, &claims).await,
            ObjectState::Failed(why) => {
                let reason = why.to_string();
                Ok(if self.record_failure(object_id, &reason).await? {
                    Settled::Failed(reason)
                } else {
                    Settled::AlreadyFailed
                })
            }
            ObjectState::Consolidated => Ok(Settled::AlreadyConsolidated),
            other => Ok(Settled::NotReady(other)),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Consolidation

    /// The answers of an object as stored in its consolidation request, writing the request
    /// first when there is none.
    async fn request_for(
        &self,
        object_id: u64,
        claims: &ObjectClaims,
    ) -> Result<Option<Arc<ObjectAnswers>>, LifecycleError> {
        if let Some(cached) = lock(&self.requests).get(&object_id) {
            return Ok(Some(cached.clone()));
        }
        let path = self.job.output.consolidation_request(object_id)?;
        if let Some(stored) = self.read_request(object_id, &path).await? {
            return Ok(Some(stored));
        }
        let answers = self.select_answers(object_id, claims).await?;
        if answers.is_empty() {
            return Ok(None);
        }
        let item = ConsolidationItem {
            dataset_object_id: object_id.to_string(),
            data_object: self.data_object(object_id)?,
            data_object_extra: Map::new(),
            annotations: answers
                .iter()
                .map(|a| WorkerAnnotation {
                    worker_id: a.worker.clone(),
                    annotation_data: AnnotationData::from_answer_content(&a.content),
                    annotation_data_extra: Map::new(),
                    extra: Map::new(),
                })
                .collect(),
            extra: Map::new(),
        };
        let bytes = ConsolidationRequest { items: vec![item] }.to_value().to_string().into_bytes();
        self.create(&path, bytes, "application/json").await?;
        // Whoever wrote it first decided; read back what is stored.
        self.read_request(object_id, &path)
            .await?
            .ok_or_else(|| {
                corrupt(&path, "the consolidation request vanished after it was written")
            })
            .map(Some)
    }

    async fn read_request(
        &self,
        object_id: u64,
        path: &ObjectPath,
    ) -> Result<Option<Arc<ObjectAnswers>>, LifecycleError> {
        let Some(bytes) = self.get_opt(path).await? else { return Ok(None) };
        let text = String::from_utf8(bytes).map_err(|_| corrupt(path, "not UTF-8"))?;
        let request =
            ConsolidationRequest::parse(&text, &path.uri()).map_err(|e| corrupt(path, e))?;
        let id = object_id.to_string();
        let item = request
            .items
            .iter()
            .find(|i| i.dataset_object_id == id)
            .ok_or_else(|| corrupt(path, format!("no item for data object {object_id}")))?;
        let mut answers = Vec::with_capacity(item.annotations.len());
        for annotation in &item.annotations {
            let content = annotation
                .answer_content(&path.uri())
                .map_err(|e| corrupt(path, e))?
                .ok_or_else(|| corrupt(path, "annotationData by s3Uri is not supported"))?;
            answers.push(WorkerAnswer::new(annotation.worker_id.clone(), content));
        }
        let answers = Arc::new(ObjectAnswers::new(id, answers));
        lock(&self.requests).insert(object_id, answers.clone());
        Ok(Some(answers))
    }

    fn data_object(&self, object_id: u64) -> Result<DataObject, LifecycleError> {
        let manifest = &self.job.input_manifest;
        let text = self
            .input_line(object_id)
            .ok_or_else(|| corrupt(manifest, format!("no line for data object {object_id}")))?;
        let line_no = usize::try_from(object_id).unwrap_or(usize::MAX).saturating_add(1);
        let line = ManifestLine::parse_line(text, &manifest.uri(), line_no)
            .map_err(|e| corrupt(manifest, e))?;
        Ok(match line.source {
            DataSource::SourceRef(uri) => DataObject::S3Uri(uri),
            DataSource::Source(text) => DataObject::Content(text),
        })
    }

    /// Reads an object's worker responses and picks the answers that count (see the module
    /// documentation).
    async fn select_answers(
        &self,
        object_id: u64,
        claims: &ObjectClaims,
    ) -> Result<Vec<FoundAnswer>, LifecycleError> {
        let prefix = self.job.output.object_responses_prefix(object_id)?;
        let mut found = Vec::new();
        for path in self.list_keys(&prefix).await? {
            let Some(rest) = path.key().strip_prefix(prefix.key()) else { continue };
            let Some((ms, _)) = rest.strip_suffix(".json").and_then(|s| s.split_once('-')) else {
                continue;
            };
            let Some(submitted_at_ms) = parse_u64(ms).and_then(|m| i64::try_from(m).ok()) else {
                continue;
            };
            let Some(bytes) = self.get_opt(&path).await? else { continue };
            let parsed = std::str::from_utf8(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|t| WorkerResponseFile::parse(t, &path.uri()).map_err(|e| e.to_string()));
            let file = match parsed {
                Ok(file) => file,
                Err(message) => {
                    tracing::warn!(%path, %message, "unreadable worker response ignored");
                    continue;
                }
            };
            for answer in file.answers {
                let late = answer.extra.get(LATE_FIELD) == Some(&Value::Bool(true));
                found.push(FoundAnswer {
                    worker: answer.worker_id,
                    submitted_at_ms,
                    late,
                    content: answer.answer_content,
                });
            }
        }
        let submitted: BTreeSet<&str> = claims
            .slots
            .values()
            .filter(|c| c.record.state == ClaimState::Submitted)
            .map(|c| c.record.worker.as_str())
            .collect();
        found.sort_by(|a, b| {
            let rank = |x: &FoundAnswer| (!submitted.contains(x.worker.as_str()), x.late);
            rank(a)
                .cmp(&rank(b))
                .then(a.submitted_at_ms.cmp(&b.submitted_at_ms))
                .then(a.worker.cmp(&b.worker))
        });
        let mut seen = BTreeSet::new();
        found.retain(|a| seen.insert(a.worker.clone()));
        found.truncate(self.job.policy.workers_per_object as usize);
        Ok(found)
    }

    fn record_context(&self, now_ms: i64) -> RecordContext {
        RecordContext::new(self.job.name(), format_creation_date(now_ms))
    }

    fn labels(&self) -> &[String] {
        &self.job.labels
    }

    /// Runs the job's consolidation function on one object alone.
    fn consolidate_alone(
        &self,
        answers: &ObjectAnswers,
        context: &RecordContext,
    ) -> Result<Option<Consolidated>, AnnotationError> {
        let labels = self.labels();
        let em = EmOptions::default();
        let one = std::slice::from_ref(answers);
        let record = match self.job.method {
            Method::SingleLabel(kind) => {
                consolidate_single_label(one, labels, kind, context, &em)?.into_iter().next()
            }
            Method::Verification => {
                consolidate_verification(one, labels, context, &em)?.into_iter().next()
            }
            Method::MultiLabel(kind) => {
                Some(consolidate_multi_label(answers, labels, kind, context)?)
            }
            Method::BoundingBoxes => Some(consolidate_bounding_boxes(
                answers,
                labels,
                context,
                &BoundingBoxOptions::default(),
            )?),
            Method::SemanticSegmentation => {
                let object_id = answers.dataset_object_id.parse::<u64>().unwrap_or_default();
                let mask_uri = self
                    .job
                    .output
                    .consolidated_output(object_id, MASK_FILE_NAME)
                    .map(|p| p.uri())
                    .unwrap_or_default();
                let out = consolidate_semantic_segmentation(answers, labels, &mask_uri, context)?;
                let file = OutputFile {
                    name: MASK_FILE_NAME.into(),
                    bytes: out.mask_png,
                    content_type: "image/png",
                };
                return Ok(Some((out.record, Some(file))));
            }
            Method::SingleWorker(kind) => {
                let object_id = answers.dataset_object_id.parse::<u64>().unwrap_or_default();
                let frame_file = self.source_file_name(object_id);
                return self.single_worker(answers, kind, frame_file.as_deref(), None, context);
            }
            Method::Custom => Some(self.custom_record(answers, context)),
            Method::Unsupported => None,
        };
        Ok(record.map(|r| (r, None)))
    }

    /// The single-worker output of one object (video frames, 3D point clouds).
    fn single_worker(
        &self,
        answers: &ObjectAnswers,
        kind: SingleWorkerKind,
        frame_file: Option<&str>,
        frame_numbers: Option<&[u64]>,
        context: &RecordContext,
    ) -> Result<Option<Consolidated>, AnnotationError> {
        let object_id = answers.dataset_object_id.parse::<u64>().unwrap_or_default();
        let job = SingleWorkerJob {
            kind,
            labels: self.labels(),
            audit: self.job.task_type.is_adjustment(),
            frame_file,
            frame_numbers,
        };
        let uri = output_file_name(&job)
            .and_then(|name| self.job.output.consolidated_output(object_id, &name).ok())
            .map(|p| p.uri());
        let out = consolidate_single_worker(answers, &job, uri.as_deref(), context)?;
        Ok(Some((out.record, out.file)))
    }

    /// The file name of an object's `source-ref` (`frame1.bin`), if it has one.
    fn source_file_name(&self, object_id: u64) -> Option<String> {
        match self.data_object(object_id).ok()? {
            DataObject::S3Uri(uri) => uri.rsplit('/').next().map(str::to_owned),
            DataObject::Content(_) => None,
        }
    }

    /// The `frame-no` of each frame of an object's point-cloud sequence file (its index when
    /// the frame has none); `None` when the file cannot be read (the answer's frame numbers are
    /// used then).
    async fn sequence_frame_numbers(&self, object_id: u64) -> Option<Vec<u64>> {
        let DataObject::S3Uri(uri) = self.data_object(object_id).ok()? else { return None };
        let path = ObjectPath::parse(&uri).ok()?;
        let bytes = self.get_opt(&path).await.ok()??;
        let text = String::from_utf8(bytes).ok()?;
        let sequence = PointCloudSequence::parse(&text, &uri).ok()?;
        Some(
            sequence
                .frames
                .iter()
                .enumerate()
                .map(|(i, f)| f.frame_no.map_or(i as u64, |n| n.value))
                .collect(),
        )
    }

    fn custom_record(&self, answers: &ObjectAnswers, context: &RecordContext) -> LabelRecord {
        let object_id = answers.dataset_object_id.parse::<u64>().unwrap_or_default();
        let reference =
            self.job.output.consolidation_request(object_id).map(|p| p.uri()).unwrap_or_default();
        LabelRecord {
            dataset_object_id: answers.dataset_object_id.clone(),
            label: json!({}),
            metadata: json!({
                "worker-response-ref": reference,
                "type": "groundTruth/custom",
                "job_name": context.job_name,
                "human-annotated": "yes",
                "creation_date": context.creation_date,
            }),
        }
    }

    /// Whether an object's stored answers pass the batch method alone (cached).
    fn is_valid_alone(&self, answers: &ObjectAnswers) -> bool {
        let Ok(id) = answers.dataset_object_id.parse::<u64>() else { return false };
        if let Some(valid) = lock(&self.valid).get(&id) {
            return *valid;
        }
        let valid = self.consolidate_alone(answers, &self.record_context(0)).is_ok();
        lock(&self.valid).insert(id, valid);
        valid
    }

    /// Every stored consolidation request of the job whose answers are valid alone, by id.
    async fn valid_requests(&self) -> Result<BTreeMap<u64, Arc<ObjectAnswers>>, LifecycleError> {
        let prefix = self.job.output.consolidation_requests_prefix()?;
        let mut out = BTreeMap::new();
        for path in self.list_keys(&prefix).await? {
            let Some(id) = path
                .key()
                .strip_prefix(prefix.key())
                .and_then(|r| r.strip_suffix(".json"))
                .and_then(parse_u64)
            else {
                continue;
            };
            let cached = lock(&self.requests).get(&id).cloned();
            let answers = match cached {
                Some(a) => Some(a),
                None => self.read_request(id, &path).await?,
            };
            if let Some(answers) = answers
                && self.is_valid_alone(&answers)
            {
                out.insert(id, answers);
            }
        }
        Ok(out)
    }

    /// Runs the batch method over `batch` (sorted by id) and returns the records by id.
    fn consolidate_batch(
        &self,
        batch: &BTreeMap<u64, Arc<ObjectAnswers>>,
        context: &RecordContext,
    ) -> Result<BTreeMap<u64, LabelRecord>, AnnotationError> {
        let objects: Vec<ObjectAnswers> = batch.values().map(|a| a.as_ref().clone()).collect();
        let em = EmOptions::default();
        let records = match self.job.method {
            Method::SingleLabel(kind) => {
                consolidate_single_label(&objects, self.labels(), kind, context, &em)?
            }
            Method::Verification => {
                consolidate_verification(&objects, self.labels(), context, &em)?
            }
            _ => Vec::new(),
        };
        Ok(batch.keys().copied().zip(records).collect())
    }

    async fn consolidate(
        &self,
        object_id: u64,
        claims: &ObjectClaims,
    ) -> Result<Settled, LifecycleError> {
        if self.job.method == Method::Unsupported {
            return Ok(Settled::Unsupported);
        }
        let Some(answers) = self.request_for(object_id, claims).await? else {
            let reason = "no readable worker response".to_owned();
            return Ok(if self.record_failure(object_id, &reason).await? {
                Settled::Failed(reason)
            } else {
                Settled::AlreadyFailed
            });
        };
        let context = self.record_context(self.clock.now_ms());
        let alone = match self.job.method {
            Method::SingleWorker(kind) => {
                let frame_file = self.source_file_name(object_id);
                let numbers = match kind {
                    SingleWorkerKind::CuboidTracking => {
                        self.sequence_frame_numbers(object_id).await
                    }
                    _ => None,
                };
                self.single_worker(
                    &answers,
                    kind,
                    frame_file.as_deref(),
                    numbers.as_deref(),
                    &context,
                )
            }
            _ => self.consolidate_alone(&answers, &context),
        };
        let alone = match alone {
            Ok(Some(done)) => done,
            Ok(None) => return Ok(Settled::Unsupported),
            Err(e) => {
                let reason = format!("the answers could not be consolidated: {e}");
                return Ok(if self.record_failure(object_id, &reason).await? {
                    Settled::Failed(reason)
                } else {
                    Settled::AlreadyFailed
                });
            }
        };
        let (record, file) = if self.job.method.is_batch() {
            let mut batch = self.valid_requests().await?;
            batch.insert(object_id, answers.clone());
            let mut records = self.consolidate_batch(&batch, &context).map_err(|e| {
                LifecycleError::InvalidJob { job: self.job.name().into(), message: e.to_string() }
            })?;
            (records.remove(&object_id).unwrap_or(alone.0), None)
        } else {
            alone
        };
        if let Some(file) = file {
            let path = self.job.output.consolidated_output(object_id, &file.name)?;
            self.create(&path, file.bytes, file.content_type).await?;
        }
        let attribute = &self.job.label_attribute_name;
        let content = json!({
            attribute.clone(): record.label,
            format!("{attribute}{METADATA_SUFFIX}"): record.metadata,
        });
        let path = self.job.output.consolidation_response(object_id)?;
        let created =
            self.create(&path, response_bytes(object_id, content), "application/json").await?;
        Ok(if created { Settled::Consolidated } else { Settled::AlreadyConsolidated })
    }

    /// Writes the failure record of an object; false when one (or a consolidation) exists.
    async fn record_failure(&self, object_id: u64, reason: &str) -> Result<bool, LifecycleError> {
        let mut metadata = Map::new();
        metadata.insert("failure-reason".into(), reason.into());
        if let Some(t) = self.job.task_type.output_type() {
            metadata.insert("type".into(), t.into());
        }
        metadata.insert("job-name".into(), self.job.name().into());
        metadata.insert("creation-date".into(), format_creation_date(self.clock.now_ms()).into());
        let attribute = &self.job.label_attribute_name;
        let content = json!({ format!("{attribute}{METADATA_SUFFIX}"): Value::Object(metadata) });
        let path = self.job.output.consolidation_failure(object_id)?;
        Ok(self.create(&path, response_bytes(object_id, content), "application/json").await?)
    }

    // -----------------------------------------------------------------------------------------
    // Output manifest

    /// Reads one object's stored outcome (cached; stored outcomes never change).
    async fn outcome(
        &self,
        object_id: u64,
        recorded: Recorded,
    ) -> Result<Option<StoredOutcome>, LifecycleError> {
        if let Some(cached) = lock(&self.outcomes).get(&object_id) {
            return Ok(Some(cached.clone()));
        }
        let path = match recorded {
            Recorded::Consolidated => self.job.output.consolidation_response(object_id)?,
            Recorded::Failed => self.job.output.consolidation_failure(object_id)?,
        };
        let Some(bytes) = self.get_opt(&path).await? else { return Ok(None) };
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| corrupt(&path, e))?;
        let content = value
            .as_array()
            .and_then(|items| {
                items.iter().find(|i| {
                    i.get("datasetObjectId").and_then(Value::as_str)
                        == Some(object_id.to_string().as_str())
                })
            })
            .and_then(|i| i.pointer("/consolidatedAnnotation/content"))
            .and_then(Value::as_object)
            .ok_or_else(|| corrupt(&path, "no consolidatedAnnotation.content for this object"))?;
        let attribute = &self.job.label_attribute_name;
        let metadata = content
            .get(&format!("{attribute}{METADATA_SUFFIX}"))
            .cloned()
            .ok_or_else(|| corrupt(&path, format!("no `{attribute}{METADATA_SUFFIX}`")))?;
        let outcome = match (recorded, content.get(attribute.as_str())) {
            (Recorded::Consolidated, Some(label)) => {
                StoredOutcome::Labeled { label: label.clone(), metadata }
            }
            (Recorded::Consolidated, None) => {
                return Err(corrupt(&path, format!("no `{attribute}`")));
            }
            (Recorded::Failed, _) => StoredOutcome::Failed { metadata },
        };
        lock(&self.outcomes).insert(object_id, outcome.clone());
        Ok(Some(outcome))
    }

    /// The output manifest as it stands: every input line, labeled objects with their label
    /// pair, failed ones with their failure metadata, the others unchanged. Batch methods rerun
    /// over every consolidated object.
    pub async fn output_manifest_text(&self) -> Result<String, LifecycleError> {
        let recorded = recorded_outcomes(self.store.as_ref(), &self.job.output).await?;
        let mut outcomes = BTreeMap::new();
        for (id, how) in &recorded {
            if let Some(outcome) = self.outcome(*id, *how).await? {
                outcomes.insert(*id, outcome);
            }
        }
        if self.job.method.is_batch() {
            self.rerun_batch(&mut outcomes).await?;
        }
        let attribute = &self.job.label_attribute_name;
        let manifest = self.job.input_manifest.uri();
        let mut text = String::new();
        for (index, line_text) in self.input_lines.iter().enumerate() {
            let mut line = OutputLine::parse_line(line_text, &manifest, index + 1)
                .map_err(|e| corrupt(&self.job.input_manifest, e))?;
            if let Some(outcome) = outcomes.get(&(index as u64)) {
                let (label, metadata) = match outcome {
                    StoredOutcome::Labeled { label, metadata } => (Some(label), metadata),
                    StoredOutcome::Failed { metadata } => (None, metadata),
                };
                line.set_label_pair(label_pair(attribute, label, metadata)?);
            }
            text.push_str(&line.to_json_line());
            text.push('\n');
        }
        Ok(text)
    }

    /// Replaces the labels of every labeled object by one EM run over all of them, keeping each
    /// object's stored `creation-date`.
    async fn rerun_batch(
        &self,
        outcomes: &mut BTreeMap<u64, StoredOutcome>,
    ) -> Result<(), LifecycleError> {
        let mut batch = BTreeMap::new();
        for (id, outcome) in outcomes.iter() {
            if !matches!(outcome, StoredOutcome::Labeled { .. }) {
                continue;
            }
            let path = self.job.output.consolidation_request(*id)?;
            let cached = lock(&self.requests).get(id).cloned();
            let answers = match cached {
                Some(a) => a,
                None => self
                    .read_request(*id, &path)
                    .await?
                    .ok_or_else(|| corrupt(&path, "consolidated, but its request is missing"))?,
            };
            batch.insert(*id, answers);
        }
        if batch.is_empty() {
            return Ok(());
        }
        let records = self.consolidate_batch(&batch, &self.record_context(0)).map_err(|e| {
            LifecycleError::InvalidJob { job: self.job.name().into(), message: e.to_string() }
        })?;
        for (id, record) in records {
            if let Some(StoredOutcome::Labeled { label, metadata }) = outcomes.get_mut(&id) {
                let date = metadata.get("creation-date").cloned();
                *label = record.label;
                *metadata = record.metadata;
                if let (Some(date), Some(m)) = (date, metadata.as_object_mut()) {
                    m.insert("creation-date".into(), date);
                }
            }
        }
        Ok(())
    }

    /// Writes `manifests/output/output.manifest` (create-only: once written it is final).
    /// `complete` says every object is final; otherwise (a stopped job) unlabeled lines stay
    /// unchanged. Returns false when it already existed.
    pub async fn write_output_manifest(&self, complete: bool) -> Result<bool, LifecycleError> {
        let path = self.job.output.output_manifest()?;
        if self.exists(&path).await? {
            return Ok(false);
        }
        tracing::info!(job = self.job.name(), complete, "writing the output manifest");
        let text = self.output_manifest_text().await?;
        Ok(self.create(&path, text.into_bytes(), "application/jsonlines").await?)
    }
}

/// The consolidation-response file of one object: the post-annotation Lambda's response shape.
fn response_bytes(object_id: u64, content: Value) -> Vec<u8> {
    json!([{
        "datasetObjectId": object_id.to_string(),
        "consolidatedAnnotation": { "content": content },
    }])
    .to_string()
    .into_bytes()
}

/// A typed label pair from a label value (absent for failures) and its metadata object.
fn label_pair(
    attribute: &str,
    label: Option<&Value>,
    metadata: &Value,
) -> Result<LabelPair, LifecycleError> {
    let mut map = Map::new();
    map.insert("source".into(), Value::String(String::new()));
    if let Some(label) = label {
        map.insert(attribute.to_owned(), label.clone());
    }
    map.insert(format!("{attribute}{METADATA_SUFFIX}"), metadata.clone());
    let file = format!("consolidated label `{attribute}`");
    let line = OutputLine::from_value(Value::Object(map), &file, None)
        .map_err(|e| LifecycleError::Corrupt { path: file.clone(), message: e.to_string() })?;
    line.label_pair(attribute).cloned().ok_or_else(|| LifecycleError::Corrupt {
        path: file,
        message: "the metadata is not a label's metadata".into(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn methods_by_task_type() {
        assert_eq!(
            Method::of(TaskType::ImageClassification),
            Method::SingleLabel(ClassificationKind::Image)
        );
        assert_eq!(Method::of(TaskType::BoundingBoxAdjustment), Method::BoundingBoxes);
        assert_eq!(Method::of(TaskType::SemanticSegmentationVerification), Method::Verification);
        assert_eq!(Method::of(TaskType::NamedEntityRecognition), Method::Unsupported);
        assert_eq!(
            Method::of(TaskType::PointCloud3d2dLinkingAdjustment),
            Method::SingleWorker(SingleWorkerKind::CuboidTracking)
        );
        assert_eq!(
            Method::of(TaskType::VideoObjectDetection),
            Method::SingleWorker(SingleWorkerKind::VideoDetection)
        );
        assert!(Method::Verification.is_batch() && !Method::BoundingBoxes.is_batch());
    }

    #[test]
    fn failure_pair_carries_only_metadata() {
        let pair =
            label_pair("boxes", None, &json!({"failure-reason": "x", "job-name": "j"})).unwrap();
        assert!(pair.label.is_none());
        assert_eq!(pair.metadata.failure_reason.as_deref(), Some("x"));
        let line = label_pair(
            "c",
            Some(&json!(1)),
            &json!({"class-name": "dog", "type": "groundtruth/image-classification"}),
        )
        .unwrap();
        assert!(line.label.is_some());
    }

    #[test]
    fn custom_jobs_point_at_the_counted_answers() {
        let metadata = json!({"worker-response-ref": "s3://b/out/j/annotations/consolidated-annotation/consolidation-request/iteration-1/3.json",
            "type": "groundTruth/custom", "job_name": "j", "human-annotated": "yes",
            "creation_date": "2023-02-01T10:00:00.000000"});
        let pair = label_pair("j", Some(&json!({})), &metadata).unwrap();
        assert!(pair.metadata.underscore_keys);
        let mut line = OutputLine::parse_line(r#"{"source":"hello"}"#, "m", 1).unwrap();
        line.set_label_pair(pair);
        assert_eq!(
            line.to_json_line(),
            r#"{"source":"hello","j":{},"j-metadata":{"type":"groundTruth/custom","human-annotated":"yes","creation_date":"2023-02-01T10:00:00.000000","job_name":"j","worker-response-ref":"s3://b/out/j/annotations/consolidated-annotation/consolidation-request/iteration-1/3.json"}}"#
        );
    }

    #[test]
    fn response_file_is_the_lambda_response_shape() {
        let bytes = response_bytes(4, json!({"a": 1, "a-metadata": {"type": "t"}}));
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"[{"datasetObjectId":"4","consolidatedAnnotation":{"content":{"a":1,"a-metadata":{"type":"t"}}}}]"#
        );
    }
}
