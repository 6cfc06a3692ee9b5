//! The job status model (spec §8.9, §8.10): `LabelingJobStatus`, `LabelCounters`, and the serde
//! shapes of `DescribeLabelingJob`'s response and `ListLabelingJobs`' `LabelingJobSummary`, with
//! Ground Truth's field names. Pure data: computing a status from the store is `store`'s job.
//!
//! Timestamps are epoch seconds (`f64`), as on the JSON wire protocol (spec §8.10).
//!
//! Must not depend on anything above `job`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::spec::{
    HumanTaskConfig, InputConfig, JobSpec, LabelingJobAlgorithmsConfig, OutputConfig,
    StoppingConditions, Tag,
};

/// A labeling job's status (spec §8.9).
///
/// ```text
/// Initializing ─► InProgress ─► Completed
///      │              │
///      ├──────────────┴─► Failed
///      └──────────────┴─► Stopping ─► Stopped
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LabelingJobStatus {
    /// Being set up (3D pre-processing happens while `InProgress`).
    Initializing,
    /// Workers are labeling.
    InProgress,
    /// Every object is labeled or failed.
    Completed,
    /// The job failed; `FailureReason` says why.
    Failed,
    /// A stop was asked for; running tasks are finishing.
    Stopping,
    /// Stopped. A stopped job cannot be restarted (chain a new job instead).
    Stopped,
}

impl LabelingJobStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 6] = [
        Self::Initializing,
        Self::InProgress,
        Self::Completed,
        Self::Failed,
        Self::Stopping,
        Self::Stopped,
    ];

    /// Ground Truth's name for the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initializing => "Initializing",
            Self::InProgress => "InProgress",
            Self::Completed => "Completed",
            Self::Failed => "Failed",
            Self::Stopping => "Stopping",
            Self::Stopped => "Stopped",
        }
    }

    /// True once nothing more will happen: `Completed`, `Failed`, `Stopped`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Stopped)
    }

    /// Whether a job may go from `self` to `next`. Staying in the same status is allowed.
    pub fn can_transition_to(self, next: Self) -> bool {
        use LabelingJobStatus as S;
        self == next
            || matches!(
                (self, next),
                (S::Initializing, S::InProgress | S::Failed | S::Stopping)
                    | (S::InProgress, S::Completed | S::Failed | S::Stopping)
                    | (S::Stopping, S::Stopped | S::Failed)
            )
    }
}

impl fmt::Display for LabelingJobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Object counts of a job (spec §8.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabelCounters {
    /// Objects labeled, by humans or machines.
    #[serde(default)]
    pub total_labeled: u64,
    /// Objects labeled by humans.
    #[serde(default)]
    pub human_labeled: u64,
    /// Objects labeled by automated data labeling.
    #[serde(default)]
    pub machine_labeled: u64,
    /// Objects that failed for good.
    #[serde(default)]
    pub failed_non_retryable_error: u64,
    /// Objects not labeled yet.
    #[serde(default)]
    pub unlabeled: u64,
}

impl LabelCounters {
    /// Every object the counters account for: labeled, failed and unlabeled.
    pub fn total_objects(&self) -> u64 {
        self.total_labeled
            .saturating_add(self.failed_non_retryable_error)
            .saturating_add(self.unlabeled)
    }
}

/// `LabelingJobOutput`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabelingJobOutput {
    /// `s3://…/<job-name>/manifests/output/output.manifest`.
    #[serde(rename = "OutputDatasetS3Uri")]
    pub output_dataset_s3_uri: String,
    /// The final model of automated data labeling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_active_learning_model_arn: Option<String>,
}

/// The response of `DescribeLabelingJob` (spec §8.10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeLabelingJobResponse {
    /// The status.
    pub labeling_job_status: LabelingJobStatus,
    /// The counters.
    pub label_counters: LabelCounters,
    /// Why the job failed (0–1,024 characters, only when `Failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// When the job was created, epoch seconds.
    #[serde(rename = "CreationTime")]
    pub creation_time_epoch_secs: f64,
    /// When the job last changed, epoch seconds.
    #[serde(rename = "LastModifiedTime")]
    pub last_modified_time_epoch_secs: f64,
    /// A non-empty reference code for the job.
    pub job_reference_code: String,
    /// The job's name.
    pub labeling_job_name: String,
    /// The job's ARN.
    pub labeling_job_arn: String,
    /// The label attribute name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_attribute_name: Option<String>,
    /// As in the request.
    pub input_config: InputConfig,
    /// As in the request.
    pub output_config: OutputConfig,
    /// As in the request.
    pub role_arn: String,
    /// As in the request.
    #[serde(default, rename = "LabelCategoryConfigS3Uri", skip_serializing_if = "Option::is_none")]
    pub label_category_config_s3_uri: Option<String>,
    /// As in the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping_conditions: Option<StoppingConditions>,
    /// As in the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labeling_job_algorithms_config: Option<LabelingJobAlgorithmsConfig>,
    /// As in the request.
    pub human_task_config: HumanTaskConfig,
    /// As in the request.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Where the output manifest is, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labeling_job_output: Option<LabelingJobOutput>,
}

/// The parts of a description that do not come from the request.
#[derive(Debug, Clone, PartialEq)]
pub struct JobState {
    /// The job's ARN.
    pub labeling_job_arn: String,
    /// A non-empty reference code.
    pub job_reference_code: String,
    /// The status.
    pub status: LabelingJobStatus,
    /// The counters.
    pub counters: LabelCounters,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// Created at, epoch seconds.
    pub creation_time_epoch_secs: f64,
    /// Last changed at, epoch seconds.
    pub last_modified_time_epoch_secs: f64,
    /// The output, once there is one.
    pub output: Option<LabelingJobOutput>,
}

impl DescribeLabelingJobResponse {
    /// The description of a job created from `spec`, in `state`.
    pub fn new(spec: &JobSpec, state: JobState) -> Self {
        Self {
            labeling_job_status: state.status,
            label_counters: state.counters,
            failure_reason: state.failure_reason,
            creation_time_epoch_secs: state.creation_time_epoch_secs,
            last_modified_time_epoch_secs: state.last_modified_time_epoch_secs,
            job_reference_code: state.job_reference_code,
            labeling_job_name: spec.labeling_job_name.clone(),
            labeling_job_arn: state.labeling_job_arn,
            label_attribute_name: Some(spec.effective_label_attribute_name().to_owned()),
            input_config: spec.input_config.clone(),
            output_config: spec.output_config.clone(),
            role_arn: spec.role_arn.clone(),
            label_category_config_s3_uri: spec.label_category_config_s3_uri.clone(),
            stopping_conditions: spec.stopping_conditions.clone(),
            labeling_job_algorithms_config: spec.labeling_job_algorithms_config.clone(),
            human_task_config: spec.human_task_config.clone(),
            tags: spec.tags.clone(),
            labeling_job_output: state.output,
        }
    }

    /// The `ListLabelingJobs` entry for this job.
    pub fn summary(&self) -> LabelingJobSummary {
        let task = &self.human_task_config;
        LabelingJobSummary {
            labeling_job_name: self.labeling_job_name.clone(),
            labeling_job_arn: self.labeling_job_arn.clone(),
            creation_time_epoch_secs: self.creation_time_epoch_secs,
            last_modified_time_epoch_secs: self.last_modified_time_epoch_secs,
            labeling_job_status: self.labeling_job_status,
            label_counters: self.label_counters,
            workteam_arn: task.workteam_arn.clone(),
            pre_human_task_lambda_arn: task.pre_human_task_lambda_arn.clone(),
            annotation_consolidation_lambda_arn: task
                .annotation_consolidation_config
                .as_ref()
                .map(|c| c.annotation_consolidation_lambda_arn.clone()),
            failure_reason: self.failure_reason.clone(),
            labeling_job_output: self.labeling_job_output.clone(),
            input_config: Some(self.input_config.clone()),
        }
    }
}

/// One `ListLabelingJobs` entry (spec §8.10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabelingJobSummary {
    /// The job's name.
    pub labeling_job_name: String,
    /// The job's ARN.
    pub labeling_job_arn: String,
    /// Created at, epoch seconds.
    #[serde(rename = "CreationTime")]
    pub creation_time_epoch_secs: f64,
    /// Last changed at, epoch seconds.
    #[serde(rename = "LastModifiedTime")]
    pub last_modified_time_epoch_secs: f64,
    /// The status.
    pub labeling_job_status: LabelingJobStatus,
    /// The counters.
    pub label_counters: LabelCounters,
    /// The work team.
    pub workteam_arn: String,
    /// The pre-annotation Lambda.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_human_task_lambda_arn: Option<String>,
    /// The consolidation Lambda.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_consolidation_lambda_arn: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// The output, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labeling_job_output: Option<LabelingJobOutput>,
    /// The input configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_config: Option<InputConfig>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// The example of spec §8.10, verbatim except the placeholder strings.
    const DESCRIBE: &str = r#"{
  "LabelingJobStatus": "Completed",
  "LabelCounters": {"TotalLabeled": 100, "HumanLabeled": 100, "MachineLabeled": 0, "FailedNonRetryableError": 0, "Unlabeled": 0},
  "CreationTime": 1675245600.0,
  "LastModifiedTime": 1675249200.0,
  "JobReferenceCode": "ref-1",
  "LabelingJobName": "boxes",
  "LabelingJobArn": "arn:aws:sagemaker:us-east-1:111122223333:labeling-job/boxes",
  "LabelAttributeName": "boxes",
  "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": "s3://example-bucket/in/input.manifest"}}},
  "OutputConfig": {"S3OutputPath": "s3://example-bucket/out/"},
  "RoleArn": "arn:aws:iam::111122223333:role/gt-role",
  "LabelCategoryConfigS3Uri": "s3://example-bucket/in/labels.json",
  "StoppingConditions": {"MaxPercentageOfInputDatasetLabeled": 100},
  "LabelingJobAlgorithmsConfig": null,
  "HumanTaskConfig": {"WorkteamArn": "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team", "UiConfig": {"UiTemplateS3Uri": "s3://example-bucket/in/template.liquid.html"}, "PreHumanTaskLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:PRE-BoundingBox", "TaskTitle": "Draw boxes", "TaskDescription": "Draw a box around each car", "NumberOfHumanWorkersPerDataObject": 3, "TaskTimeLimitInSeconds": 3600, "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:ACS-BoundingBox"}},
  "Tags": [],
  "LabelingJobOutput": {"OutputDatasetS3Uri": "s3://example-bucket/out/boxes/manifests/output/output.manifest", "FinalActiveLearningModelArn": "arn:aws:sagemaker:us-east-1:111122223333:model/m"}
}"#;

    #[test]
    fn describe_example_parses_and_round_trips() {
        let response: DescribeLabelingJobResponse = serde_json::from_str(DESCRIBE).unwrap();
        assert_eq!(response.labeling_job_status, LabelingJobStatus::Completed);
        assert_eq!(response.label_counters.human_labeled, 100);
        assert_eq!(response.label_counters.total_objects(), 100);
        assert_eq!(response.human_task_config.task_time_limit_secs, Some(3600));
        assert!(response.labeling_job_algorithms_config.is_none());
        let again: DescribeLabelingJobResponse =
            serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
        assert_eq!(again, response);

        let summary = response.summary();
        assert_eq!(
            summary.annotation_consolidation_lambda_arn.as_deref(),
            Some("arn:aws:lambda:us-east-1:432418664414:function:ACS-BoundingBox")
        );
        let value = serde_json::to_value(&summary).unwrap();
        for key in
            ["LabelingJobName", "CreationTime", "LabelingJobStatus", "WorkteamArn", "InputConfig"]
        {
            assert!(value.get(key).is_some(), "{key}");
        }
        assert_eq!(value["LabelCounters"]["FailedNonRetryableError"], 0);
    }

    #[test]
    fn describe_from_spec() {
        let response: DescribeLabelingJobResponse = serde_json::from_str(DESCRIBE).unwrap();
        let spec = JobSpec {
            labeling_job_name: "boxes".into(),
            input_config: response.input_config.clone(),
            output_config: response.output_config.clone(),
            role_arn: response.role_arn.clone(),
            human_task_config: response.human_task_config.clone(),
            ..JobSpec::default()
        };
        let state = JobState {
            labeling_job_arn: "arn:aws:sagemaker:us-east-1:111122223333:labeling-job/boxes".into(),
            job_reference_code: "r".into(),
            status: LabelingJobStatus::InProgress,
            counters: LabelCounters { unlabeled: 7, ..LabelCounters::default() },
            failure_reason: None,
            creation_time_epoch_secs: 1.0,
            last_modified_time_epoch_secs: 2.0,
            output: None,
        };
        let described = DescribeLabelingJobResponse::new(&spec, state);
        assert_eq!(described.label_attribute_name.as_deref(), Some("boxes"));
        assert_eq!(described.label_counters.unlabeled, 7);
        let json = serde_json::to_value(&described).unwrap();
        assert_eq!(json["LabelingJobStatus"], "InProgress");
        assert_eq!(json["CreationTime"], 1.0);
    }

    #[test]
    fn status_names_and_transitions() {
        for status in LabelingJobStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
        }
        use LabelingJobStatus as S;
        assert!(S::Initializing.can_transition_to(S::InProgress));
        assert!(S::InProgress.can_transition_to(S::Stopping));
        assert!(S::Stopping.can_transition_to(S::Stopped));
        assert!(!S::Stopped.can_transition_to(S::InProgress));
        assert!(!S::Completed.can_transition_to(S::Stopping));
        assert!(!S::InProgress.can_transition_to(S::Stopped));
        assert!(
            S::ALL
                .iter()
                .filter(|s| s.is_terminal())
                .all(|s| { S::ALL.iter().all(|n| n == s || !s.can_transition_to(*n)) })
        );
    }
}
