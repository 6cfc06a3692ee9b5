//! Jobs in a workspace, end to end: validate a [`JobSpec`] against its label file in the store,
//! create it (canonical `job.json`), list, describe and stop it — with status and counters derived
//! from the store, so every client computes the same answer. The CLI and the app both go through
//! here.

use std::sync::Arc;

use crate::formats::label_config::LabelCategoryConfig;
use crate::job::status::{
    DescribeLabelingJobResponse, JobState, LabelingJobOutput, LabelingJobStatus, LabelingJobSummary,
};
use crate::job::{Finding, JobSpec, LabelSummary, Severity};

use super::catalog::{CatalogError, Workspace};
use super::claims::ClaimPolicy;
use super::clock::Clock;
use super::layout::JobOutput;
use super::lifecycle::{Lifecycle, LifecycleError, PendingReport};
use super::status::{JobSnapshot, StatusError, StatusQuery, job_status};
use super::{ObjectPath, StoreError};

/// Errors of job operations.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    /// The spec breaks rules; every finding is listed.
    #[error("the job specification has {} error(s):\n{}", errors(.0), list(.0))]
    Invalid(Vec<Finding>),
    /// A stored `job.json` does not parse.
    #[error("{path}: {message}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The catalog failed (job exists, no such job, store error).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Status could not be computed.
    #[error(transparent)]
    Status(#[from] StatusError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn errors(findings: &[Finding]) -> usize {
    findings.iter().filter(|f| f.is_error()).count()
}

fn list(findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n")
}

/// A job as created: its canonical spec and where its output goes.
#[derive(Debug, Clone)]
pub struct CreatedJob {
    /// The spec as stored.
    pub spec: JobSpec,
    /// Data objects in its input manifest.
    pub object_count: u64,
    /// Non-blocking findings (warnings).
    pub warnings: Vec<Finding>,
}

/// A job's full description: Ground Truth's `DescribeLabelingJob` shape plus per-object detail.
#[derive(Debug, Clone)]
pub struct JobDescription {
    /// `DescribeLabelingJob`'s response.
    pub describe: DescribeLabelingJobResponse,
    /// Per-object state and more, from the store.
    pub snapshot: JobSnapshot,
}

/// Job operations over a workspace.
#[derive(Debug, Clone)]
pub struct Jobs {
    workspace: Workspace,
    clock: Arc<dyn Clock>,
}

impl Jobs {
    /// Job operations on `workspace`, reading time from `clock`.
    pub fn new(workspace: Workspace, clock: Arc<dyn Clock>) -> Self {
        Self { workspace, clock }
    }

    /// The workspace.
    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Reads the label category file a spec names, from the workspace's store.
    pub async fn label_config(
        &self,
        spec: &JobSpec,
    ) -> Result<Option<LabelCategoryConfig>, String> {
        let Some(uri) = spec.label_category_config_s3_uri.as_deref() else { return Ok(None) };
        let path = ObjectPath::parse(uri).map_err(|e| e.to_string())?;
        let got = self.workspace.store.get(&path, None).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8(got.bytes).map_err(|_| format!("{uri}: not UTF-8 text"))?;
        LabelCategoryConfig::parse(&text, uri).map(Some).map_err(|e| e.to_string())
    }

    /// Every finding for `spec`: Ground Truth's rules, its label file (read from the store), and
    /// that its input manifest and label file can be read.
    pub async fn validate(&self, spec: &JobSpec) -> Vec<Finding> {
        let mut store_findings = Vec::new();
        let labels = match self.label_config(spec).await {
            Ok(config) => config.as_ref().map(LabelSummary::from),
            Err(message) => {
                store_findings.push(Finding::error(
                    "LabelCategoryConfigS3Uri",
                    format!("cannot read the label category file: {message}"),
                ));
                None
            }
        };
        let mut findings = crate::job::validate(spec, labels.as_ref());
        if let Some(s3) = &spec.input_config.data_source.s3_data_source {
            // A malformed URI is reported by the rules above.
            if let Ok(path) = ObjectPath::parse(&s3.manifest_s3_uri)
                && let Err(e) = self.workspace.store.head(&path).await
            {
                store_findings.push(Finding::error(
                    "InputConfig.DataSource.S3DataSource.ManifestS3Uri",
                    format!("cannot read the input manifest: {e}"),
                ));
            }
        }
        findings.extend(store_findings);
        findings
    }

    /// Validates and creates a job: `jobs/<name>/job.json` holds the canonical spec.
    pub async fn create(&self, spec: &JobSpec, created_by: &str) -> Result<CreatedJob, JobsError> {
        let findings = self.validate(spec).await;
        if findings.iter().any(Finding::is_error) {
            return Err(JobsError::Invalid(findings));
        }
        let name = spec.labeling_job_name.clone();
        let bytes = spec.to_canonical_json().into_bytes();
        self.workspace.create_job(&name, bytes, created_by, self.clock.now_ms()).await?;
        let object_count = self.workspace.job_object_count(&name).await? as u64;
        let warnings = findings.into_iter().filter(|f| f.severity == Severity::Warning).collect();
        Ok(CreatedJob { spec: spec.clone(), object_count, warnings })
    }

    /// The stored spec of job `name`.
    pub async fn spec(&self, name: &str) -> Result<JobSpec, JobsError> {
        let bytes = self.workspace.job_spec_bytes(name).await?;
        let path = self.workspace.catalog.job_spec(name)?.uri();
        let text = String::from_utf8(bytes)
            .map_err(|_| JobsError::Corrupt { path: path.clone(), message: "not UTF-8".into() })?;
        JobSpec::from_json(&text).map_err(|e| JobsError::Corrupt { path, message: e.to_string() })
    }

    /// Where job `name`'s output goes.
    pub fn output_of(spec: &JobSpec) -> Result<JobOutput, StoreError> {
        let base = ObjectPath::parse(&spec.output_config.s3_output_path)?;
        JobOutput::new(&base, &spec.labeling_job_name)
    }

    /// The claim parameters of a spec (defaults applied as validation applies them).
    pub fn policy_of(spec: &JobSpec) -> ClaimPolicy {
        let task = &spec.human_task_config;
        let mut policy = ClaimPolicy::new(
            task.number_of_human_workers_per_data_object.unwrap_or(1).max(1),
            u64::from(task.task_time_limit_secs.unwrap_or(3600).max(30)),
        );
        if let Ok(job) = spec.validated(None) {
            policy =
                ClaimPolicy::new(job.workers_per_object(), u64::from(job.task_time_limit_secs()));
            policy.availability_lifetime_secs = u64::from(job.task_availability_lifetime_secs());
            policy.max_concurrent_tasks = job.max_concurrent_task_count();
        }
        policy
    }

    /// Job `name` as `DescribeLabelingJob` describes it, computed from the store.
    pub async fn describe(&self, name: &str) -> Result<JobDescription, JobsError> {
        let spec = self.spec(name).await?;
        let created = self.workspace.job_created(name).await?;
        let created_at_ms = created.as_ref().map_or(0, |c| c.created_at_ms);
        let object_count = match self.workspace.job_object_count(name).await {
            Ok(n) => Some(n as u64),
            Err(CatalogError::Store(StoreError::NotFound { .. })) => None,
            Err(e) => return Err(e.into()),
        };
        let output = Self::output_of(&spec)?;
        let query = StatusQuery {
            job_spec: self.workspace.catalog.job_spec(name)?,
            stop_marker: self.workspace.catalog.job_stop(name)?,
            output: output.clone(),
            object_count,
            created_at_ms,
            policy: Self::policy_of(&spec),
        };
        let mut snapshot =
            job_status(self.workspace.store.as_ref(), &query, self.clock.as_ref()).await?;
        let output_manifest = output.output_manifest()?;
        let has_output = self.workspace.store.head(&output_manifest).await.is_ok();
        let awaiting = snapshot
            .objects
            .iter()
            .any(|o| matches!(o.state, super::status::ObjectState::AwaitingConsolidation { .. }));
        let finished =
            matches!(snapshot.status, LabelingJobStatus::Completed | LabelingJobStatus::Stopped);
        if awaiting || (finished && !has_output) {
            // Any client that sees work pending does it (DESIGN.md §2); a client without write
            // access still gets its description.
            match self.advance(name).await {
                Ok(_) => {
                    snapshot =
                        job_status(self.workspace.store.as_ref(), &query, self.clock.as_ref())
                            .await?;
                }
                Err(e) => tracing::warn!(job = name, error = %e, "pending consolidation not run"),
            }
        }
        let (status, counters) = (snapshot.status, snapshot.counters);
        let region = region_of(&spec);
        let has_output = self.workspace.store.head(&output_manifest).await.is_ok();
        let state = JobState {
            labeling_job_arn: format!(
                "arn:aws:sagemaker:{region}:{}:labeling-job/{}",
                account_of(&spec),
                spec.labeling_job_name.to_ascii_lowercase()
            ),
            job_reference_code: format!(
                "gw-{}",
                &crate::store::local::etag_of(name.as_bytes())[..12]
            ),
            status,
            counters,
            failure_reason: snapshot.failure_reason.clone(),
            creation_time_epoch_secs: created_at_ms as f64 / 1000.0,
            last_modified_time_epoch_secs: snapshot.computed_at_ms as f64 / 1000.0,
            output: has_output.then(|| LabelingJobOutput {
                output_dataset_s3_uri: output_manifest.uri(),
                final_active_learning_model_arn: None,
            }),
        };
        Ok(JobDescription { describe: DescribeLabelingJobResponse::new(&spec, state), snapshot })
    }

    /// Does what is pending for job `name`: consolidates objects awaiting it, records failures,
    /// writes the output manifest once every object is final (see [`Lifecycle`]).
    pub async fn advance(&self, name: &str) -> Result<PendingReport, LifecycleError> {
        Lifecycle::open(self, name).await?.run_pending().await
    }

    /// Every job, as `ListLabelingJobs` lists them (sorted by name).
    pub async fn list(&self) -> Result<Vec<LabelingJobSummary>, JobsError> {
        let mut out = Vec::new();
        for entry in self.workspace.list_jobs().await? {
            out.push(self.describe(&entry.name).await?.describe.summary());
        }
        Ok(out)
    }

    /// Asks job `name` to stop. Returns false when it was already asked.
    pub async fn stop(&self, name: &str, stopped_by: &str) -> Result<bool, JobsError> {
        Ok(self.workspace.stop_job(name, stopped_by, self.clock.now_ms()).await?)
    }
}

/// The region named by the spec's ARNs (work team first), or `us-east-1`.
fn region_of(spec: &JobSpec) -> String {
    arn_part(&spec.human_task_config.workteam_arn, 3).unwrap_or_else(|| "us-east-1".to_owned())
}

/// The account of the spec's role ARN, or twelve zeros.
fn account_of(spec: &JobSpec) -> String {
    arn_part(&spec.role_arn, 4).unwrap_or_else(|| "000000000000".to_owned())
}

fn arn_part(arn: &str, index: usize) -> Option<String> {
    arn.split(':').nth(index).filter(|s| !s.is_empty()).map(str::to_owned)
}
