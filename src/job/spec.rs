//! [`JobSpec`]: Ground Truth's `CreateLabelingJob` request (spec §8.1, §8.2, §8.4) as plain
//! serde data, with Ground Truth's own PascalCase field names. It is the raw, user-editable form
//! that the GUI wizard and `groundwork job create --spec job.json` both edit; validation into a
//! [`Job`](super::validate::Job) lives in [`validate`](super::validate).
//!
//! Unknown fields are **kept**: every object has a flattened [`Extra`] map that collects fields
//! Ground Truth's model does not define, writes them back unchanged (keys sorted) in the
//! canonical JSON, and makes validation report each one as a warning with its path.
//!
//! Required fields of the API are plain values here (empty when missing) so that a half-filled
//! wizard or a hand-written file still parses and validation can report every gap at once.
//!
//! Must not depend on anything above `job`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::error::JobError;

/// Fields of a JSON object that Ground Truth's model does not define, kept verbatim.
///
/// Serialised with keys sorted at every depth, so that canonical JSON does not depend on the
/// order a user happened to write them in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extra(pub BTreeMap<String, Value>);

impl Extra {
    /// True when there are no unknown fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The unknown field names, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, SortedValue(v))))
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(deserializer).map(Self)
    }
}

/// A JSON value serialised with object keys in sorted order at every depth.
struct SortedValue<'a>(&'a Value);

impl Serialize for SortedValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                serializer.collect_map(entries.into_iter().map(|(k, v)| (k, SortedValue(v))))
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(SortedValue)),
            other => other.serialize(serializer),
        }
    }
}

/// The `CreateLabelingJob` request (spec §8.1). Field order here is the canonical JSON order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobSpec {
    /// 1–63 characters, letters, digits and hyphens; also the top-level output folder (§8.2).
    #[serde(default)]
    pub labeling_job_name: String,
    /// The key the labels get in the output manifest (§8.3). `None`: the job name is used, as
    /// the console does when "specify a label attribute name" is not ticked (seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_attribute_name: Option<String>,
    /// Where the data objects come from.
    #[serde(default)]
    pub input_config: InputConfig,
    /// Where the output goes.
    #[serde(default)]
    pub output_config: OutputConfig,
    /// The IAM role Ground Truth assumes.
    #[serde(default)]
    pub role_arn: String,
    /// The label category configuration file (spec §4).
    #[serde(default, rename = "LabelCategoryConfigS3Uri", skip_serializing_if = "Option::is_none")]
    pub label_category_config_s3_uri: Option<String>,
    /// When to stop sending objects to workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping_conditions: Option<StoppingConditions>,
    /// Automated data labeling (active learning, spec §8.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labeling_job_algorithms_config: Option<LabelingJobAlgorithmsConfig>,
    /// The human part of the job (spec §8.4).
    #[serde(default)]
    pub human_task_config: HumanTaskConfig,
    /// Up to 50 tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Fields Ground Truth does not define (kept, reported by validation).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `InputConfig`: the data source and what the data is free of.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputConfig {
    /// An input manifest, an SNS topic (streaming), or both.
    #[serde(default)]
    pub data_source: DataSource,
    /// Content classifiers (required by Mechanical Turk jobs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_attributes: Option<DataAttributes>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `InputConfig.DataSource`: at least one of the two sources.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataSource {
    /// An input manifest in S3.
    #[serde(default, rename = "S3DataSource", skip_serializing_if = "Option::is_none")]
    pub s3_data_source: Option<S3DataSource>,
    /// An SNS topic: its presence makes a streaming job (spec §8.8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sns_data_source: Option<SnsDataSource>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `S3DataSource`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3DataSource {
    /// The input manifest's S3 URI.
    #[serde(default, rename = "ManifestS3Uri")]
    pub manifest_s3_uri: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `SnsDataSource`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsDataSource {
    /// The input topic.
    #[serde(default)]
    pub sns_topic_arn: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `DataAttributes`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataAttributes {
    /// What the data is declared free of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content_classifiers: Vec<ContentClassifier>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A content classifier (spec §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ContentClassifier {
    /// The data contains no personally identifiable information.
    FreeOfPersonallyIdentifiableInformation,
    /// The data contains no adult content.
    FreeOfAdultContent,
}

/// `OutputConfig`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutputConfig {
    /// Where the `<job-name>/` output folder goes.
    #[serde(default, rename = "S3OutputPath")]
    pub s3_output_path: String,
    /// The KMS key for SSE-KMS on every output object: key id, alias, key ARN or alias ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// The output topic of a streaming job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sns_topic_arn: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `StoppingConditions`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StoppingConditions {
    /// Stop after this many human-labeled objects (≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_human_labeled_object_count: Option<u64>,
    /// Stop after this percentage of the input is labeled (1–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_percentage_of_input_dataset_labeled: Option<u32>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `LabelingJobAlgorithmsConfig`: automated data labeling (spec §8.7).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabelingJobAlgorithmsConfig {
    /// `arn:aws:sagemaker:<region>:027400017018:labeling-job-algorithm-specification/<name>`.
    #[serde(default)]
    pub labeling_job_algorithm_specification_arn: String,
    /// A model from an earlier job to start from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_active_learning_model_arn: Option<String>,
    /// Volume encryption and VPC for the training and inference jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labeling_job_resource_config: Option<LabelingJobResourceConfig>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `LabelingJobResourceConfig`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LabelingJobResourceConfig {
    /// KMS key for the ML volumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_kms_key_id: Option<String>,
    /// The VPC the algorithm runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<VpcConfig>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `VpcConfig`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcConfig {
    /// 1–5 security group ids.
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    /// 1–16 subnet ids.
    #[serde(default)]
    pub subnets: Vec<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `HumanTaskConfig` (spec §8.4).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HumanTaskConfig {
    /// The work team (a private team, a vendor, or the Mechanical Turk public crowd).
    #[serde(default)]
    pub workteam_arn: String,
    /// The worker UI: a template or a built-in UI.
    #[serde(default)]
    pub ui_config: UiConfig,
    /// The pre-annotation Lambda: for built-in types, `PRE-<Name>`, which names the task type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_human_task_lambda_arn: Option<String>,
    /// 1–5 keywords for workers to find the task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_keywords: Vec<String>,
    /// The task title workers see.
    #[serde(default)]
    pub task_title: String,
    /// The task description workers see.
    #[serde(default)]
    pub task_description: String,
    /// Workers per data object, 1–9. `None`: the console default for the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_human_workers_per_data_object: Option<u32>,
    /// Time a worker has for one task. `None`: the console default for the type.
    #[serde(default, rename = "TaskTimeLimitInSeconds", skip_serializing_if = "Option::is_none")]
    pub task_time_limit_secs: Option<u32>,
    /// How long a task stays available to workers. `None`: the default for the workforce.
    #[serde(
        default,
        rename = "TaskAvailabilityLifetimeInSeconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub task_availability_lifetime_secs: Option<u32>,
    /// How many tasks are out at once (1–5,000). `None`: 1,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_task_count: Option<u32>,
    /// The consolidation Lambda.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_consolidation_config: Option<AnnotationConsolidationConfig>,
    /// What Mechanical Turk workers are paid per task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_workforce_task_price: Option<PublicWorkforceTaskPrice>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `UiConfig`: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UiConfig {
    /// A Liquid/HTML worker task template in S3.
    #[serde(default, rename = "UiTemplateS3Uri", skip_serializing_if = "Option::is_none")]
    pub ui_template_s3_uri: Option<String>,
    /// A built-in worker UI (`…:human-task-ui/<Name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_task_ui_arn: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `AnnotationConsolidationConfig`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AnnotationConsolidationConfig {
    /// The consolidation Lambda: for built-in types, `ACS-<Name>`.
    #[serde(default)]
    pub annotation_consolidation_lambda_arn: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `PublicWorkforceTaskPrice`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicWorkforceTaskPrice {
    /// The price in US dollars.
    #[serde(default)]
    pub amount_in_usd: UsdAmount,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `USD`: dollars, cents and tenths of a cent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsdAmount {
    /// 0–2.
    #[serde(default)]
    pub dollars: u32,
    /// 0–99.
    #[serde(default)]
    pub cents: u32,
    /// 0–9.
    #[serde(default, rename = "TenthFractionsOfACent")]
    pub tenth_fractions_of_a_cent: u32,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// 1–128 characters.
    #[serde(default)]
    pub key: String,
    /// 0–256 characters.
    #[serde(default)]
    pub value: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl JobSpec {
    /// Parses a `job.json` / `CreateLabelingJob` request. Syntax and type errors (a string where a
    /// number belongs, a negative count, an unknown `ContentClassifiers` value) are errors with
    /// line and column; everything else is left to [`validate`](super::validate::validate).
    pub fn from_json(text: &str) -> Result<Self, JobError> {
        serde_json::from_str(text).map_err(|err| {
            let (line, column) = (err.line(), err.column());
            let message = err.to_string();
            let position = format!(" at line {line} column {column}");
            let message = message.strip_suffix(&position).unwrap_or(&message).to_owned();
            JobError::Json { line, column, message }
        })
    }

    /// The canonical `job.json`: pretty-printed with two-space indentation, fields in the order of
    /// this module's structs (unknown fields after the known ones, sorted), absent options and
    /// empty lists left out, and a trailing newline. The same spec always gives the same bytes,
    /// so the wizard and the CLI write identical files for identical choices.
    pub fn to_canonical_json(&self) -> String {
        // Serialising plain structs, string-keyed maps and `serde_json::Value`s into memory has
        // no failure path; `to_string_pretty` is fallible only for non-string map keys and
        // failing custom `Serialize` impls, neither of which exists here.
        #[allow(clippy::expect_used)]
        let mut text = serde_json::to_string_pretty(self)
            .expect("a JobSpec always serialises: string keys and plain data only");
        text.push('\n');
        text
    }

    /// The label attribute name in effect: `LabelAttributeName`, or the job name when it is not
    /// set (the console's behaviour, seed).
    pub fn effective_label_attribute_name(&self) -> &str {
        self.label_attribute_name.as_deref().unwrap_or(&self.labeling_job_name)
    }

    /// True for a streaming job (an SNS input topic, spec §8.8).
    pub fn is_streaming(&self) -> bool {
        self.input_config.data_source.sns_data_source.is_some()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn field_names_are_ground_truths() {
        let mut spec = JobSpec {
            label_category_config_s3_uri: Some("s3://b/l.json".into()),
            ..JobSpec::default()
        };
        spec.input_config.data_source.s3_data_source = Some(S3DataSource::default());
        spec.human_task_config.task_time_limit_secs = Some(300);
        spec.human_task_config.task_availability_lifetime_secs = Some(600);
        spec.human_task_config.public_workforce_task_price =
            Some(PublicWorkforceTaskPrice::default());
        let text = spec.to_canonical_json();
        for name in [
            "\"LabelingJobName\"",
            "\"LabelCategoryConfigS3Uri\"",
            "\"S3DataSource\"",
            "\"ManifestS3Uri\"",
            "\"S3OutputPath\"",
            "\"TaskTimeLimitInSeconds\"",
            "\"TaskAvailabilityLifetimeInSeconds\"",
            "\"AmountInUsd\"",
            "\"TenthFractionsOfACent\"",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }

    #[test]
    fn unknown_fields_are_kept_at_every_level() {
        let text = r#"{"LabelingJobName": "a", "Zeta": {"b": 1, "a": [ {"y": 1, "x": 2} ]},
            "HumanTaskConfig": {"TaskTitle": "t", "Surprise": true}}"#;
        let spec = JobSpec::from_json(text).unwrap();
        assert_eq!(spec.extra.keys().collect::<Vec<_>>(), ["Zeta"]);
        assert_eq!(spec.human_task_config.extra.keys().collect::<Vec<_>>(), ["Surprise"]);
        let canonical = spec.to_canonical_json();
        // Nested keys of unknown values come out sorted.
        assert!(
            canonical.contains(
                "\"Zeta\": {\n    \"a\": [\n      {\n        \"x\": 2,\n        \"y\": 1"
            )
        );
        assert!(canonical.contains("\"Surprise\": true"));
    }

    #[test]
    fn type_errors_carry_line_and_column() {
        let err = JobSpec::from_json(
            "{\n  \"HumanTaskConfig\": {\"TaskTimeLimitInSeconds\": \"300\"}\n}",
        )
        .unwrap_err();
        assert!(matches!(err, JobError::Json { line: 2, .. }), "{err}");
    }
}
