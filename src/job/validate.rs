//! Validation of a [`JobSpec`] against Ground Truth's rules, and the validated [`Job`].
//!
//! [`validate`] returns **every** finding at once (never stops at the first), each with the JSON
//! path of the field it is about, so the wizard can mark fields and the CLI can list them.
//! Findings about the label category file are rooted at `LabelCategoryConfig` and use that
//! file's own keys (`LabelCategoryConfig.labels[2].label`). Errors make Ground Truth refuse or
//! fail the job; warnings are legal but probably not what the author meant, or could not be
//! checked offline.
//!
//! Labels come in as a [`LabelSummary`], a digest of the label category file, so this module does
//! not depend on the label-configuration parser.
//!
//! Must not depend on anything above `job`.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::aws::{self, KmsKeyRef, S3Uri};
use super::spec::{Extra, JobSpec};
use super::task_type::{AuditMode, LambdaRole, RefSuffix, TaskType};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Ground Truth would refuse or fail the job; Groundwork will not create it.
    Error,
    /// Allowed, but likely a mistake, or a rule that cannot be checked offline.
    Warning,
}

/// One problem with a job specification. Serialises as `{"path", "message", "severity"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Finding {
    /// The JSON path of the field, e.g. `HumanTaskConfig.TaskTimeLimitInSeconds` or `Tags[3].Key`;
    /// label-file findings start with `LabelCategoryConfig`.
    pub path: String,
    /// What is wrong and what to do, in words a job author can act on.
    pub message: String,
    /// Error or warning.
    pub severity: Severity,
}

impl Finding {
    /// An error at `path`.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into(), severity: Severity::Error }
    }

    /// A warning at `path`.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into(), severity: Severity::Warning }
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}: {}", self.path, self.message)
    }
}

/// What validation needs to know about a label category file (spec §4), independent of how it
/// was parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSummary {
    /// The labels, in file order.
    pub labels: Vec<LabelSummaryEntry>,
    /// `categoryGlobalAttributes` count (3D / video form).
    pub category_global_attribute_count: usize,
    /// `frameAttributes` count (3D / video form).
    pub frame_attribute_count: usize,
    /// `auditLabelAttributeName`: set for adjustment and verification jobs.
    pub audit_label_attribute_name: Option<String>,
    /// `annotationType`: one entry for the video string form (`"Polygon"`), the `type` of each
    /// entry for the list form (`["BoundingBox", "Cuboid"]` for 3D-2D linking); empty if absent.
    pub annotation_types: Vec<String>,
}

/// One label of a [`LabelSummary`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSummaryEntry {
    /// `label`.
    pub name: String,
    /// `categoryAttributes` count of this label.
    pub attribute_count: usize,
    /// `"editsAllowed": "none"`: the label is read-only (verification, spec §4.4).
    pub read_only: bool,
}

impl LabelSummary {
    /// A summary of plain labels with no attributes, as in the simple file form (spec §4.1).
    pub fn from_names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            labels: names
                .into_iter()
                .map(|name| LabelSummaryEntry { name: name.into(), ..LabelSummaryEntry::default() })
                .collect(),
            ..Self::default()
        }
    }
}

/// Who does the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Workforce {
    /// The Mechanical Turk public crowd.
    Public,
    /// A private work team or a vendor.
    Private,
}

/// A job specification that passed validation (warnings allowed), with its task type resolved
/// and every default applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    spec: JobSpec,
    task_type: TaskType,
    audit: Option<AuditMode>,
    region: Option<String>,
    workforce: Workforce,
    label_attribute_name: String,
    workers_per_object: u32,
    task_time_limit_secs: u32,
    task_availability_lifetime_secs: u32,
    max_concurrent_task_count: u32,
    warnings: Vec<Finding>,
}

impl Job {
    /// The specification as written (defaults not filled in).
    pub fn spec(&self) -> &JobSpec {
        &self.spec
    }

    /// The job name.
    pub fn name(&self) -> &str {
        &self.spec().labeling_job_name
    }

    /// The task type.
    pub fn task_type(&self) -> TaskType {
        self.task_type
    }

    /// Adjustment or verification of earlier labels, if this is an audit job. For video frame
    /// and 3D adjustment types it is verification when every label is read-only (spec §4.4), and
    /// adjustment when the labels were not supplied to validation.
    pub fn audit(&self) -> Option<AuditMode> {
        self.audit
    }

    /// The job's Region, from its ARNs (work team first); `None` when no ARN names one.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Public crowd or private/vendor team.
    pub fn workforce(&self) -> Workforce {
        self.workforce
    }

    /// The label attribute name in effect (the job name when none is set).
    pub fn label_attribute_name(&self) -> &str {
        &self.label_attribute_name
    }

    /// Workers per data object (console default for the type when unset).
    pub fn workers_per_object(&self) -> u32 {
        self.workers_per_object
    }

    /// Seconds a worker has per task (console default for the type when unset).
    pub fn task_time_limit_secs(&self) -> u32 {
        self.task_time_limit_secs
    }

    /// Seconds a task stays available (6 hours for the public crowd, 30 days otherwise, when
    /// unset; spec §8.4).
    pub fn task_availability_lifetime_secs(&self) -> u32 {
        self.task_availability_lifetime_secs
    }

    /// Tasks out at once (1,000 when unset).
    pub fn max_concurrent_task_count(&self) -> u32 {
        self.max_concurrent_task_count
    }

    /// The warnings validation raised.
    pub fn warnings(&self) -> &[Finding] {
        &self.warnings
    }
}

impl JobSpec {
    /// Validates this spec; on success the [`Job`] carries the warnings, on failure every
    /// finding (errors and warnings) is returned.
    pub fn validated(&self, labels: Option<&LabelSummary>) -> Result<Job, Vec<Finding>> {
        let checked = Checker::run(self, labels);
        if checked.findings.iter().any(Finding::is_error) {
            return Err(checked.findings);
        }
        let task = &self.human_task_config;
        let task_type = checked.task_type;
        let audit = if task_type.is_verification() {
            Some(AuditMode::Verification)
        } else if task_type.is_adjustment() {
            let all_read_only = labels.is_some_and(|l| {
                !l.labels.is_empty() && l.labels.iter().all(|label| label.read_only)
            });
            Some(if all_read_only && (task_type.is_video_frame() || task_type.is_point_cloud()) {
                AuditMode::Verification
            } else {
                AuditMode::Adjustment
            })
        } else {
            None
        };
        let workforce = if checked.public { Workforce::Public } else { Workforce::Private };
        Ok(Job {
            spec: self.clone(),
            task_type,
            audit,
            region: checked.region,
            workforce,
            label_attribute_name: self.effective_label_attribute_name().to_owned(),
            workers_per_object: task
                .number_of_human_workers_per_data_object
                .unwrap_or_else(|| task_type.default_workers_per_object()),
            task_time_limit_secs: task
                .task_time_limit_secs
                .unwrap_or_else(|| task_type.default_task_time_limit_secs()),
            task_availability_lifetime_secs: task.task_availability_lifetime_secs.unwrap_or(
                match workforce {
                    Workforce::Public => PUBLIC_DEFAULT_LIFETIME_SECS,
                    Workforce::Private => PRIVATE_MAX_LIFETIME_SECS,
                },
            ),
            max_concurrent_task_count: task
                .max_concurrent_task_count
                .unwrap_or(DEFAULT_MAX_CONCURRENT_TASKS),
            warnings: checked.findings,
        })
    }
}

/// Every finding for `spec` (and its labels, when given), errors and warnings, in a fixed order.
pub fn validate(spec: &JobSpec, labels: Option<&LabelSummary>) -> Vec<Finding> {
    Checker::run(spec, labels).findings
}

// Limits, spec §8.4 unless noted.
const MIN_TASK_TIME_LIMIT_SECS: u32 = 30;
const ONE_HOUR_SECS: u32 = 3600;
const EIGHT_HOURS_SECS: u32 = 8 * ONE_HOUR_SECS;
const MIN_LIFETIME_SECS: u32 = 60;
const PUBLIC_MAX_LIFETIME_SECS: u32 = 43_200;
const PUBLIC_DEFAULT_LIFETIME_SECS: u32 = 21_600;
const PRIVATE_MAX_LIFETIME_SECS: u32 = 2_592_000;
const DEFAULT_MAX_CONCURRENT_TASKS: u32 = 1000;
const MAX_CONCURRENT_TASKS: u32 = 5000;
// spec §4.3.
const MAX_ATTRIBUTES_PER_LABEL: usize = 10;
const MAX_FRAME_ATTRIBUTES: usize = 10;

const PRE: &str = "HumanTaskConfig.PreHumanTaskLambdaArn";
const ACS: &str = "HumanTaskConfig.AnnotationConsolidationConfig.AnnotationConsolidationLambdaArn";
const WORKTEAM: &str = "HumanTaskConfig.WorkteamArn";
const UI: &str = "HumanTaskConfig.UiConfig";
const UI_ARN: &str = "HumanTaskConfig.UiConfig.HumanTaskUiArn";
const UI_TEMPLATE: &str = "HumanTaskConfig.UiConfig.UiTemplateS3Uri";
const LABELS: &str = "LabelCategoryConfig";
const AUDIT: &str = "LabelCategoryConfig.auditLabelAttributeName";
const ALGORITHMS: &str = "LabelingJobAlgorithmsConfig";

struct Checked {
    findings: Vec<Finding>,
    task_type: TaskType,
    region: Option<String>,
    public: bool,
}

struct Checker<'a> {
    spec: &'a JobSpec,
    labels: Option<&'a LabelSummary>,
    findings: Vec<Finding>,
    /// (path, Region) of every field that names a Region, in check order.
    regions: Vec<(String, String)>,
    /// Paths of S3 URIs whose bucket Region cannot be known offline.
    unknown_region_uris: Vec<String>,
}

impl<'a> Checker<'a> {
    fn run(spec: &'a JobSpec, labels: Option<&'a LabelSummary>) -> Checked {
        let mut c = Checker {
            spec,
            labels,
            findings: Vec::new(),
            regions: Vec::new(),
            unknown_region_uris: Vec::new(),
        };
        c.job_name();
        let public = c.workteam();
        let task_type = c.task_type();
        c.label_attribute_name(task_type);
        c.input_config(public);
        c.output_config();
        c.role();
        c.label_file(task_type);
        c.stopping_conditions();
        c.algorithms(task_type);
        c.ui_config(task_type);
        c.consolidation(task_type);
        c.task_text();
        c.workers_and_times(task_type, public);
        c.public_workforce(task_type, public);
        c.tags();
        c.unknown_fields();
        let region = c.regions_agree();
        Checked { findings: c.findings, task_type, region, public }
    }

    /// The spec, borrowed for `'a` rather than for the borrow of `self`, so that findings can
    /// be pushed while parts of it are borrowed.
    fn spec(&self) -> &'a JobSpec {
        self.spec
    }

    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.findings.push(Finding::error(path, message));
    }

    fn warning(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.findings.push(Finding::warning(path, message));
    }

    fn note_region(&mut self, path: &str, region: &str) {
        if !region.is_empty() {
            self.regions.push((path.to_owned(), region.to_owned()));
        }
    }

    /// Checks an S3 URI field and notes its Region (or that it has none to check).
    fn s3_uri(&mut self, path: &str, uri: &str) -> Option<S3Uri> {
        if uri.is_empty() {
            self.error(path, "Required: an S3 URI such as s3://bucket/key.");
            return None;
        }
        match S3Uri::parse(uri) {
            Ok(parsed) => {
                match &parsed.region {
                    Some(region) => self.note_region(path, region),
                    None => self.unknown_region_uris.push(path.to_owned()),
                }
                Some(parsed)
            }
            Err(message) => {
                self.error(path, format!("Not a valid S3 URI: {message}."));
                None
            }
        }
    }

    // spec §8.2: `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`.
    fn job_name(&mut self) {
        let name = &self.spec().labeling_job_name;
        if name.is_empty() {
            self.error("LabelingJobName", "Required: give the job a name.");
        } else if let Err(message) = check_hyphenated_name(name, 63) {
            self.error("LabelingJobName", message);
        }
    }

    // spec §8.3.
    fn label_attribute_name(&mut self, task_type: TaskType) {
        let (path, name, source) = match &self.spec().label_attribute_name {
            Some(name) => ("LabelAttributeName", name.as_str(), "The label attribute name"),
            None => (
                "LabelingJobName",
                self.spec().labeling_job_name.as_str(),
                "The job name, used as label attribute name because LabelAttributeName is not set,",
            ),
        };
        if self.spec().label_attribute_name.is_some() {
            if name.is_empty() {
                self.error(path, "Must not be empty; leave it out to use the job name.");
                return;
            }
            if let Err(message) = check_hyphenated_name(name, 127) {
                self.error(path, message);
                return;
            }
        } else if name.is_empty() {
            return; // Reported by job_name.
        }
        if name.ends_with("-metadata") {
            self.error(
                path,
                format!("{source} must not end in `-metadata` (reserved for metadata)."),
            );
        }
        if name == "source" || name == "source-ref" {
            self.error(
                path,
                format!("{source} must not be `{name}`: it is reserved for the data."),
            );
        }
        let ends_ref = name.ends_with("-ref");
        match task_type.ref_suffix() {
            RefSuffix::Required if !ends_ref => self.error(
                path,
                format!(
                    "{source} must end in `-ref` for {task_type} jobs: their labels are files \
                     referenced from the manifest."
                ),
            ),
            RefSuffix::Forbidden if ends_ref => self.error(
                path,
                format!(
                    "{source} must not end in `-ref` for {task_type} jobs: their labels are inline."
                ),
            ),
            _ => {}
        }
    }

    // spec §8.2 `InputConfig`; §8.2 ContentClassifiers with Mechanical Turk.
    fn input_config(&mut self, public: bool) {
        let input = &self.spec().input_config;
        let source = &input.data_source;
        if source.s3_data_source.is_none() && source.sns_data_source.is_none() {
            self.error(
                "InputConfig.DataSource",
                "Required: an input manifest (S3DataSource) or an SNS topic for a streaming job \
                 (SnsDataSource).",
            );
        }
        if let Some(s3) = &source.s3_data_source {
            let uri = s3.manifest_s3_uri.clone();
            self.s3_uri("InputConfig.DataSource.S3DataSource.ManifestS3Uri", &uri);
        }
        if let Some(sns) = &source.sns_data_source {
            let path = "InputConfig.DataSource.SnsDataSource.SnsTopicArn";
            if sns.sns_topic_arn.is_empty() {
                self.error(path, "Required: the ARN of the input SNS topic.");
            } else {
                match aws::check_sns_topic_arn(&sns.sns_topic_arn) {
                    Ok(arn) => self.note_region(path, arn.region),
                    Err(message) => self.error(path, format!("Not an SNS topic ARN: {message}.")),
                }
            }
        }
        let classifiers =
            input.data_attributes.as_ref().map(|a| a.content_classifiers.as_slice()).unwrap_or(&[]);
        let distinct: BTreeSet<_> = classifiers.iter().collect();
        if distinct.len() != classifiers.len() {
            self.warning(
                "InputConfig.DataAttributes.ContentClassifiers",
                "Lists a classifier more than once.",
            );
        }
        if public
            && !classifiers
                .contains(&super::spec::ContentClassifier::FreeOfPersonallyIdentifiableInformation)
        {
            self.error(
                "InputConfig.DataAttributes.ContentClassifiers",
                "Mechanical Turk jobs fail unless the data is declared \
                 FreeOfPersonallyIdentifiableInformation.",
            );
        }
    }

    // spec §8.2 `OutputConfig`.
    fn output_config(&mut self) {
        let output = &self.spec().output_config;
        let path = output.s3_output_path.clone();
        self.s3_uri("OutputConfig.S3OutputPath", &path);
        if let Some(key) = &output.kms_key_id {
            match KmsKeyRef::parse(key) {
                Ok(parsed) => {
                    if let Some(region) = parsed.region() {
                        self.note_region("OutputConfig.KmsKeyId", region);
                    }
                }
                Err(message) => self.error(
                    "OutputConfig.KmsKeyId",
                    format!(
                        "Not a KMS key reference: {message}. Use a key id, alias/<name>, a key ARN \
                         or an alias ARN."
                    ),
                ),
            }
        }
        if let Some(topic) = &output.sns_topic_arn {
            match aws::check_sns_topic_arn(topic) {
                Ok(arn) => self.note_region("OutputConfig.SnsTopicArn", arn.region),
                Err(message) => {
                    self.error(
                        "OutputConfig.SnsTopicArn",
                        format!("Not an SNS topic ARN: {message}."),
                    );
                }
            }
        }
    }

    // spec §8.2 `RoleArn`.
    fn role(&mut self) {
        if self.spec().role_arn.is_empty() {
            self.error("RoleArn", "Required: the IAM role Ground Truth runs the job as.");
        } else if let Err(message) = aws::check_role_arn(&self.spec().role_arn) {
            self.error("RoleArn", format!("Not an IAM role ARN: {message}."));
        }
    }

    // spec §8.4 `WorkteamArn`; returns whether it is the Mechanical Turk public crowd.
    fn workteam(&mut self) -> bool {
        let arn = &self.spec().human_task_config.workteam_arn;
        if arn.is_empty() {
            self.error(WORKTEAM, "Required: the work team that labels the data.");
            return false;
        }
        match aws::check_arn(arn, "sagemaker", false, "workteam/", 256) {
            Ok(parsed) => {
                self.note_region(WORKTEAM, parsed.region);
                parsed.account == aws::GROUND_TRUTH_UI_ACCOUNT
                    && parsed.resource.starts_with("workteam/public-crowd")
            }
            Err(message) => {
                self.error(WORKTEAM, format!("Not a work team ARN: {message}."));
                false
            }
        }
    }

    // How a request names its type: the PRE- Lambda (spec §8.6), else the built-in UI (§8.5);
    // 3D-2D linking by the label file's annotationType (§3.5).
    fn task_type(&mut self) -> TaskType {
        let task = &self.spec().human_task_config;
        let from_ui = task
            .ui_config
            .human_task_ui_arn
            .as_deref()
            .and_then(|arn| arn.split_once(":human-task-ui/"))
            .and_then(|(_, name)| TaskType::from_human_task_ui_name(name));
        let mut resolved = None;
        if let Some(arn) = task.pre_human_task_lambda_arn.as_deref() {
            match aws::check_lambda_arn(arn) {
                Err(message) => self.error(PRE, format!("Not a Lambda function ARN: {message}.")),
                Ok((parsed, function)) => {
                    self.note_region(PRE, parsed.region);
                    match TaskType::from_builtin_function_name(function) {
                        Some((task_type, LambdaRole::PreAnnotation)) => {
                            self.builtin_account(PRE, parsed.region, parsed.account);
                            resolved = Some(task_type);
                        }
                        Some((_, LambdaRole::Consolidation)) => self.error(
                            PRE,
                            format!(
                                "`{function}` is a consolidation function; the pre-annotation \
                                 Lambda is its PRE- counterpart."
                            ),
                        ),
                        None => resolved = Some(TaskType::Custom),
                    }
                }
            }
        }
        let task_type = match (resolved, from_ui) {
            (Some(task_type), _) => task_type,
            (None, Some(ui_type)) => {
                if task.pre_human_task_lambda_arn.is_none() {
                    self.warning(
                        PRE,
                        format!(
                            "Not set; the task type ({ui_type}) is taken from the worker UI. \
                             Ground Truth's built-in types expect {}.",
                            ui_type.builtin_function_name(LambdaRole::PreAnnotation)
                        ),
                    );
                }
                ui_type
            }
            (None, None) => TaskType::Custom,
        };
        let linking = self.labels.is_some_and(|l| l.annotation_types.iter().any(|t| t == "Cuboid"));
        if linking { task_type.with_3d_2d_linking() } else { task_type }
    }

    /// A built-in Lambda must live in Ground Truth's account for its Region (spec §8.6).
    fn builtin_account(&mut self, path: &str, region: &str, account: &str) {
        if region.is_empty() {
            return;
        }
        match aws::builtin_lambda_account(region) {
            Some(expected) if expected != account => self.warning(
                path,
                format!(
                    "Account {account} is not Ground Truth's ({expected}) in {region}: this is not \
                     the built-in function of that name."
                ),
            ),
            Some(_) => {}
            None => self.warning(
                path,
                format!(
                    "No Ground Truth Lambda account is known for Region {region}; the account \
                     could not be checked."
                ),
            ),
        }
    }

    // spec §8.4 `AnnotationConsolidationConfig`, §8.6 (PRE/ACS pairs).
    fn consolidation(&mut self, task_type: TaskType) {
        let Some(config) = &self.spec().human_task_config.annotation_consolidation_config else {
            if task_type.is_builtin() {
                self.warning(
                    "HumanTaskConfig.AnnotationConsolidationConfig",
                    format!(
                        "Not set; {task_type} jobs consolidate with {}.",
                        task_type.builtin_function_name(LambdaRole::Consolidation)
                    ),
                );
            }
            return;
        };
        let arn = &config.annotation_consolidation_lambda_arn;
        if arn.is_empty() {
            self.error(ACS, "Required inside AnnotationConsolidationConfig.");
            return;
        }
        let (parsed, function) = match aws::check_lambda_arn(arn) {
            Ok(ok) => ok,
            Err(message) => {
                self.error(ACS, format!("Not a Lambda function ARN: {message}."));
                return;
            }
        };
        self.note_region(ACS, parsed.region);
        let expected = task_type.builtin_function_name(LambdaRole::Consolidation);
        match TaskType::from_builtin_function_name(function) {
            Some((_, LambdaRole::PreAnnotation)) => self.error(
                ACS,
                format!(
                    "`{function}` is a pre-annotation function; consolidation uses ACS- functions."
                ),
            ),
            Some((acs_type, LambdaRole::Consolidation)) => {
                self.builtin_account(ACS, parsed.region, parsed.account);
                if task_type.is_builtin() && acs_type.lambda_name() != task_type.lambda_name() {
                    self.error(
                        ACS,
                        format!(
                            "`{function}` does not match the task type {task_type}; use {expected}."
                        ),
                    );
                }
            }
            None if task_type.is_builtin() => self.warning(
                ACS,
                format!(
                    "`{function}` is not Ground Truth's {expected}; Groundwork consolidates \
                     {task_type} jobs with the built-in algorithm."
                ),
            ),
            None => {}
        }
    }

    // spec §8.4 `UiConfig`, §8.5, §2.4, §3.5.
    fn ui_config(&mut self, task_type: TaskType) {
        let ui = &self.spec().human_task_config.ui_config;
        let region = self.regions.first().map(|(_, r)| r.clone());
        let expected_arn = task_type
            .human_task_ui_arn(region.as_deref().unwrap_or("<region>"))
            .unwrap_or_default();
        match (&ui.ui_template_s3_uri, &ui.human_task_ui_arn) {
            (Some(_), Some(_)) => {
                self.error(UI, "Set exactly one of UiTemplateS3Uri and HumanTaskUiArn, not both.");
            }
            (None, None) if task_type.human_task_ui_name().is_some() => self.error(
                UI,
                format!("Required: {task_type} jobs use the built-in worker UI {expected_arn}."),
            ),
            (None, None) => {
                self.error(UI, "Required: the worker task template (UiTemplateS3Uri).");
            }
            _ => {}
        }
        if let Some(template) = &ui.ui_template_s3_uri {
            let template = template.clone();
            self.s3_uri(UI_TEMPLATE, &template);
            if task_type.human_task_ui_name().is_some() && ui.human_task_ui_arn.is_none() {
                self.error(
                    UI_TEMPLATE,
                    format!(
                        "{task_type} jobs use the built-in worker UI, not a template: set \
                         HumanTaskUiArn to {expected_arn}."
                    ),
                );
            }
        }
        if let Some(arn) = &ui.human_task_ui_arn {
            match aws::check_arn(arn, "sagemaker", true, "human-task-ui/", 1024) {
                Err(message) => self.error(UI_ARN, format!("Not a worker UI ARN: {message}.")),
                Ok(parsed) => {
                    self.note_region(UI_ARN, parsed.region);
                    let name = parsed.resource.trim_start_matches("human-task-ui/");
                    match task_type.human_task_ui_name() {
                        Some(expected) if expected != name => self.error(
                            UI_ARN,
                            format!(
                                "{task_type} jobs use the worker UI human-task-ui/{expected}, not \
                                 human-task-ui/{name}."
                            ),
                        ),
                        Some(_) if parsed.account != aws::GROUND_TRUTH_UI_ACCOUNT => self.warning(
                            UI_ARN,
                            format!(
                                "Ground Truth's built-in worker UIs belong to account {}, not {}.",
                                aws::GROUND_TRUTH_UI_ACCOUNT,
                                parsed.account
                            ),
                        ),
                        Some(_) => {}
                        None => self.error(
                            UI_ARN,
                            format!(
                                "{task_type} jobs use a worker task template (UiTemplateS3Uri), \
                                 not a built-in worker UI."
                            ),
                        ),
                    }
                }
            }
        }
    }

    // spec §8.2 `LabelCategoryConfigS3Uri`; §1.4, §4.3, §4.4, §2.4, §3.5 and the seed for labels.
    fn label_file(&mut self, task_type: TaskType) {
        match &self.spec().label_category_config_s3_uri {
            Some(uri) => {
                let uri = uri.clone();
                self.s3_uri("LabelCategoryConfigS3Uri", &uri);
            }
            None if task_type.is_builtin() => self.error(
                "LabelCategoryConfigS3Uri",
                format!("Required: {task_type} jobs need a label category configuration file."),
            ),
            None => {}
        }
        let Some(labels) = self.labels else { return };
        self.label_counts(task_type, labels);
        self.label_names(task_type, labels);
        self.attributes(task_type, labels);
        self.annotation_types(task_type, labels);
        self.audit(task_type, labels);
    }

    fn label_counts(&mut self, task_type: TaskType, labels: &LabelSummary) {
        let path = format!("{LABELS}.labels");
        let count = labels.labels.len();
        let limits = task_type.label_limits();
        // spec §1.4: semantic segmentation with automated labeling allows 20 labels.
        let api_max = if self.spec().labeling_job_algorithms_config.is_some()
            && task_type.base() == TaskType::SemanticSegmentation
        {
            Some(20)
        } else {
            limits.api_max
        };
        if count < limits.min {
            let plural = if limits.min == 1 { "label" } else { "labels" };
            self.error(
                &path,
                format!(
                    "{task_type} jobs need at least {} {plural}; there are {count}.",
                    limits.min
                ),
            );
        } else if let Some(max) = api_max.filter(|max| count > *max) {
            self.error(
                &path,
                format!("{task_type} jobs allow at most {max} labels; there are {count}."),
            );
        } else if let Some(max) = limits.console_max.filter(|max| count > *max) {
            self.warning(
                &path,
                format!(
                    "{count} labels: the Ground Truth console allows at most {max} for {task_type} \
                     jobs (the API allows more)."
                ),
            );
        } else if let Some(max) = limits.warn_above.filter(|max| count > *max) {
            self.warning(
                &path,
                format!(
                    "{count} labels: Ground Truth's bounding-box worker element documents a limit \
                     of {max}."
                ),
            );
        }
    }

    fn label_names(&mut self, task_type: TaskType, labels: &LabelSummary) {
        let max_chars = task_type.label_limits().max_name_chars;
        let mut seen = BTreeSet::new();
        for (i, label) in labels.labels.iter().enumerate() {
            let path = format!("{LABELS}.labels[{i}].label");
            let chars = label.name.chars().count();
            if label.name.trim().is_empty() {
                self.error(&path, "A label name must not be empty.");
            } else if chars > max_chars {
                self.error(
                    &path,
                    format!(
                        "`{}` is {chars} characters long; {task_type} labels have at most {max_chars}.",
                        label.name
                    ),
                );
            }
            if !seen.insert(label.name.as_str()) {
                self.error(
                    &path,
                    format!("`{}` appears more than once; labels must be unique.", label.name),
                );
            }
        }
    }

    fn attributes(&mut self, task_type: TaskType, labels: &LabelSummary) {
        let global = labels.category_global_attribute_count;
        // Custom templates may read anything from the label file: only warn for them.
        let unsupported = |c: &mut Self, path: String, message: String| {
            if task_type.is_builtin() { c.error(path, message) } else { c.warning(path, message) }
        };
        if task_type.label_attributes_allowed() {
            for (i, label) in labels.labels.iter().enumerate() {
                let total = label.attribute_count + global;
                if total > MAX_ATTRIBUTES_PER_LABEL {
                    self.error(
                        format!("{LABELS}.labels[{i}].categoryAttributes"),
                        format!(
                            "`{}` has {total} attributes counting the global ones; at most \
                             {MAX_ATTRIBUTES_PER_LABEL} are allowed.",
                            label.name
                        ),
                    );
                }
            }
        } else {
            let why = if task_type.is_point_cloud() {
                format!("{task_type} jobs do not support label category attributes.")
            } else {
                format!(
                    "{task_type} jobs have no label attributes (only video frame and 3D point \
                     cloud jobs do)."
                )
            };
            if global > 0 {
                unsupported(self, format!("{LABELS}.categoryGlobalAttributes"), why.clone());
            }
            for (i, label) in labels.labels.iter().enumerate() {
                if label.attribute_count > 0 {
                    unsupported(
                        self,
                        format!("{LABELS}.labels[{i}].categoryAttributes"),
                        why.clone(),
                    );
                }
            }
        }
        let path = format!("{LABELS}.frameAttributes");
        let frames = labels.frame_attribute_count;
        if !task_type.frame_attributes_allowed() && frames > 0 {
            unsupported(
                self,
                path,
                format!(
                    "{task_type} jobs have no frame attributes (only video frame and 3D jobs do)."
                ),
            );
        } else if frames > MAX_FRAME_ATTRIBUTES {
            self.error(
                path,
                format!("{frames} frame attributes; at most {MAX_FRAME_ATTRIBUTES} are allowed."),
            );
        }
    }

    // spec §2.4 (video tools), §3.5 (3D-2D linking).
    fn annotation_types(&mut self, task_type: TaskType, labels: &LabelSummary) {
        let path = format!("{LABELS}.annotationType");
        let types: Vec<&str> = labels.annotation_types.iter().map(String::as_str).collect();
        if task_type.is_3d_2d_linking() {
            let mut sorted = types.clone();
            sorted.sort_unstable();
            if sorted != ["BoundingBox", "Cuboid"] {
                self.error(
                    path,
                    "3D-2D linking needs exactly [{\"type\": \"BoundingBox\"}, {\"type\": \"Cuboid\"}].",
                );
            }
        } else if task_type.is_video_frame() {
            let known = ["BoundingBox", "Polyline", "Polygon", "Keypoint"];
            if types.len() > 1 || types.iter().any(|t| !known.contains(t)) {
                self.error(
                    path,
                    format!(
                        "Video frame jobs use one tool: BoundingBox (default), Polyline, Polygon or \
                         Keypoint; got {types:?}."
                    ),
                );
            }
        } else if !types.is_empty() {
            self.warning(path, format!("{task_type} jobs ignore annotationType."));
        }
    }

    // spec §4.4, §8.3 and the seed ("Display existing labels").
    fn audit(&mut self, task_type: TaskType, labels: &LabelSummary) {
        let frames = task_type.is_video_frame() || task_type.is_point_cloud();
        match &labels.audit_label_attribute_name {
            Some(audited) => {
                if !task_type.supports_audit() {
                    self.error(
                        AUDIT,
                        format!(
                            "{task_type} jobs cannot adjust or verify earlier labels: only bounding \
                             box, semantic segmentation, video frame and 3D point cloud jobs can."
                        ),
                    );
                } else if frames && !task_type.is_adjustment() {
                    let adjustment = task_type.adjustment().unwrap_or(task_type);
                    self.error(
                        PRE,
                        format!(
                            "Adjustment and verification jobs use {} (the label file names an \
                             audited job).",
                            adjustment.builtin_function_name(LambdaRole::PreAnnotation)
                        ),
                    );
                }
                if audited == self.spec().effective_label_attribute_name() {
                    let path = if self.spec().label_attribute_name.is_some() {
                        "LabelAttributeName"
                    } else {
                        "LabelingJobName"
                    };
                    self.error(
                        path,
                        format!(
                            "`{audited}` is the audited job's label attribute name; an adjustment \
                             or verification job must use a different one."
                        ),
                    );
                }
            }
            None if frames && task_type.is_adjustment() => self.error(
                AUDIT,
                "Required for adjustment and verification jobs: the label attribute name of the \
                 job whose labels are audited.",
            ),
            None => {}
        }
    }

    // spec §8.2 `StoppingConditions`.
    fn stopping_conditions(&mut self) {
        let Some(stop) = &self.spec().stopping_conditions else { return };
        if stop.max_human_labeled_object_count == Some(0) {
            self.error("StoppingConditions.MaxHumanLabeledObjectCount", "Must be at least 1.");
        }
        if let Some(percent) = stop.max_percentage_of_input_dataset_labeled
            && !(1..=100).contains(&percent)
        {
            self.error(
                "StoppingConditions.MaxPercentageOfInputDatasetLabeled",
                format!("Must be 1–100; got {percent}."),
            );
        }
        if self.spec().is_streaming() {
            self.warning("StoppingConditions", "Streaming jobs ignore stopping conditions.");
        }
    }

    // spec §8.2 `LabelingJobAlgorithmsConfig`, §8.7.
    fn algorithms(&mut self, task_type: TaskType) {
        let Some(config) = &self.spec().labeling_job_algorithms_config else { return };
        if self.spec().is_streaming() {
            self.error(ALGORITHMS, "Streaming jobs cannot use automated data labeling.");
        }
        let expected = task_type.active_learning_algorithm();
        if expected.is_none() {
            if matches!(
                task_type,
                TaskType::BoundingBoxAdjustment | TaskType::SemanticSegmentationAdjustment
            ) {
                self.warning(
                    ALGORITHMS,
                    format!(
                        "Automated data labeling for {task_type} jobs is not confirmed by AWS."
                    ),
                );
            } else {
                self.error(
                    ALGORITHMS,
                    format!(
                        "{task_type} jobs cannot use automated data labeling (only image \
                         classification, bounding box, semantic segmentation and text \
                         classification, single label)."
                    ),
                );
            }
        }
        let path = "LabelingJobAlgorithmsConfig.LabelingJobAlgorithmSpecificationArn";
        let arn = &config.labeling_job_algorithm_specification_arn;
        let prefix = "labeling-job-algorithm-specification/";
        match aws::check_arn(arn, "sagemaker", true, prefix, 2048) {
            Err(message) => {
                self.error(path, format!("Not an algorithm specification ARN: {message}."))
            }
            Ok(parsed) => {
                self.note_region(path, parsed.region);
                let name = parsed.resource.trim_start_matches(prefix);
                let expected = expected.or(task_type.base().active_learning_algorithm());
                if parsed.account != aws::ACTIVE_LEARNING_ACCOUNT {
                    self.error(
                        path,
                        format!(
                            "Ground Truth's algorithms belong to account {}, not {}.",
                            aws::ACTIVE_LEARNING_ACCOUNT,
                            parsed.account
                        ),
                    );
                } else if let Some(expected) = expected.filter(|e| *e != name) {
                    self.error(
                        path,
                        format!("{task_type} jobs use the `{expected}` algorithm, not `{name}`."),
                    );
                }
            }
        }
        if let Some(model) = &config.initial_active_learning_model_arn {
            let path = "LabelingJobAlgorithmsConfig.InitialActiveLearningModelArn";
            match aws::check_arn(model, "sagemaker", false, "model/", 2048) {
                Ok(parsed) if model.len() >= 20 => self.note_region(path, parsed.region),
                Ok(_) => self.error(path, "A model ARN has at least 20 characters."),
                Err(message) => self.error(path, format!("Not a SageMaker model ARN: {message}.")),
            }
        }
        let Some(resources) = &config.labeling_job_resource_config else { return };
        if let Some(key) = &resources.volume_kms_key_id {
            let path = "LabelingJobAlgorithmsConfig.LabelingJobResourceConfig.VolumeKmsKeyId";
            match KmsKeyRef::parse(key) {
                Ok(parsed) => {
                    if let Some(region) = parsed.region() {
                        self.note_region(path, region);
                    }
                }
                Err(message) => self.error(path, format!("Not a KMS key reference: {message}.")),
            }
        }
        if let Some(vpc) = &resources.vpc_config {
            let base = "LabelingJobAlgorithmsConfig.LabelingJobResourceConfig.VpcConfig";
            for (field, ids, max) in
                [("SecurityGroupIds", &vpc.security_group_ids, 5), ("Subnets", &vpc.subnets, 16)]
            {
                if ids.is_empty() || ids.len() > max {
                    self.error(format!("{base}.{field}"), format!("Needs 1–{max} entries."));
                }
                for (i, id) in ids.iter().enumerate() {
                    let ok = (1..=32).contains(&id.len())
                        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
                    if !ok {
                        self.error(
                            format!("{base}.{field}[{i}]"),
                            format!("`{id}` is not an id (1–32 letters, digits and hyphens)."),
                        );
                    }
                }
            }
        }
    }

    // spec §8.4 `TaskKeywords`, `TaskTitle`, `TaskDescription`.
    fn task_text(&mut self) {
        let task = &self.spec().human_task_config;
        if task.task_keywords.len() > 5 {
            self.error(
                "HumanTaskConfig.TaskKeywords",
                format!("At most 5 keywords; there are {}.", task.task_keywords.len()),
            );
        }
        for (i, keyword) in task.task_keywords.iter().enumerate() {
            let words_ok = !keyword.is_empty()
                && keyword
                    .split(' ')
                    .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric()));
            if keyword.len() > 30 || !words_ok {
                self.error(
                    format!("HumanTaskConfig.TaskKeywords[{i}]"),
                    format!(
                        "`{keyword}`: a keyword is 1–30 characters of letters and digits, words \
                         separated by single spaces."
                    ),
                );
            }
        }
        let title_len = aws::utf16_len(&task.task_title);
        if task.task_title.is_empty() {
            self.error("HumanTaskConfig.TaskTitle", "Required: the title workers see.");
        } else if title_len > 128 {
            self.error(
                "HumanTaskConfig.TaskTitle",
                format!("{title_len} characters; at most 128 are allowed."),
            );
        } else if task.task_title.chars().any(|c| !title_char_ok(c)) {
            self.error(
                "HumanTaskConfig.TaskTitle",
                "Contains a control character or a character outside the Basic Multilingual Plane.",
            );
        }
        let description_len = aws::utf16_len(&task.task_description);
        if task.task_description.is_empty() {
            self.error("HumanTaskConfig.TaskDescription", "Required: the description workers see.");
        } else if description_len > 255 {
            self.error(
                "HumanTaskConfig.TaskDescription",
                format!("{description_len} characters; at most 255 are allowed."),
            );
        } else if task.task_description.chars().any(is_line_terminator) {
            self.error("HumanTaskConfig.TaskDescription", "Must be a single line.");
        }
    }

    // spec §7.1 / §8.4 workers; §8.4 and the seed for timeouts; §8.4 lifetime and concurrency.
    fn workers_and_times(&mut self, task_type: TaskType, public: bool) {
        let task = &self.spec().human_task_config;
        if let Some(workers) = task.number_of_human_workers_per_data_object {
            let path = "HumanTaskConfig.NumberOfHumanWorkersPerDataObject";
            let max = task_type.max_workers_per_object();
            if !(1..=9).contains(&workers) {
                self.error(path, format!("Must be 1–9; got {workers}."));
            } else if workers > max {
                self.error(path, format!("{task_type} jobs take exactly {max} worker per object."));
            }
        }
        if let Some(secs) = task.task_time_limit_secs {
            let path = "HumanTaskConfig.TaskTimeLimitInSeconds";
            let max = task_type.max_task_time_limit_secs();
            if secs < MIN_TASK_TIME_LIMIT_SECS {
                self.error(
                    path,
                    format!("At least {MIN_TASK_TIME_LIMIT_SECS} seconds; got {secs}."),
                );
            } else if secs > max {
                self.error(
                    path,
                    format!("{task_type} tasks may last at most {max} seconds; got {secs}."),
                );
            } else if task_type.is_point_cloud() && secs > EIGHT_HOURS_SECS {
                self.warning(
                    path,
                    "Above 8 hours: 3D point cloud jobs this long need the execution role's \
                     MaxSessionDuration raised as Ground Truth describes for 3D jobs.",
                );
            } else if secs > ONE_HOUR_SECS {
                self.warning(
                    path,
                    "Above 1 hour: the execution role's maximum session duration must be at least \
                     the task timeout.",
                );
            }
        }
        if let Some(secs) = task.task_availability_lifetime_secs {
            let path = "HumanTaskConfig.TaskAvailabilityLifetimeInSeconds";
            let max = if public { PUBLIC_MAX_LIFETIME_SECS } else { PRIVATE_MAX_LIFETIME_SECS };
            if secs < MIN_LIFETIME_SECS {
                self.error(path, format!("At least {MIN_LIFETIME_SECS} seconds; got {secs}."));
            } else if secs > max {
                let who = if public { "Mechanical Turk" } else { "private and vendor" };
                self.error(
                    path,
                    format!("At most {max} seconds for {who} work teams; got {secs}."),
                );
            }
        }
        if let Some(count) = task.max_concurrent_task_count {
            let path = "HumanTaskConfig.MaxConcurrentTaskCount";
            if !(1..=MAX_CONCURRENT_TASKS).contains(&count) {
                self.error(path, format!("Must be 1–{MAX_CONCURRENT_TASKS}; got {count}."));
            } else if count > DEFAULT_MAX_CONCURRENT_TASKS {
                self.warning(path, "Above 1,000 needs an AWS Support request on Ground Truth.");
            }
        }
    }

    // spec §8.4 `PublicWorkforceTaskPrice`; §2.4, §3.5 and the seed for who may work.
    fn public_workforce(&mut self, task_type: TaskType, public: bool) {
        if public && !task_type.public_workforce_allowed() {
            self.error(
                WORKTEAM,
                format!(
                    "{task_type} jobs cannot use the Mechanical Turk workforce; use a private or \
                     vendor work team."
                ),
            );
        }
        let price = &self.spec().human_task_config.public_workforce_task_price;
        match (public, price) {
            (true, None) => self.warning(
                "HumanTaskConfig.PublicWorkforceTaskPrice",
                "Mechanical Turk jobs need a price per task.",
            ),
            (false, Some(_)) => self.warning(
                "HumanTaskConfig.PublicWorkforceTaskPrice",
                "Only Mechanical Turk jobs are paid per task; ignored for this work team.",
            ),
            _ => {}
        }
        let Some(price) = price else { return };
        let amount = &price.amount_in_usd;
        let base = "HumanTaskConfig.PublicWorkforceTaskPrice.AmountInUsd";
        for (field, value, max) in [
            ("Dollars", amount.dollars, 2),
            ("Cents", amount.cents, 99),
            ("TenthFractionsOfACent", amount.tenth_fractions_of_a_cent, 9),
        ] {
            if value > max {
                self.error(format!("{base}.{field}"), format!("Must be 0–{max}; got {value}."));
            }
        }
    }

    // spec §8.2 `Tags`, and AWS's reserved `aws:` prefix.
    fn tags(&mut self) {
        let tags = &self.spec().tags;
        if tags.len() > 50 {
            self.error("Tags", format!("At most 50 tags; there are {}.", tags.len()));
        }
        let mut seen = BTreeSet::new();
        for (i, tag) in tags.iter().enumerate() {
            let key_len = aws::utf16_len(&tag.key);
            let key_path = format!("Tags[{i}].Key");
            if !(1..=128).contains(&key_len) {
                self.error(&key_path, format!("A tag key is 1–128 characters; got {key_len}."));
            } else if !tag.key.chars().all(tag_char_ok) {
                self.error(
                    &key_path,
                    format!("`{}`: tag keys use letters, digits, spaces and `_.:/=+-@`.", tag.key),
                );
            } else if tag.key.to_ascii_lowercase().starts_with("aws:") {
                self.error(&key_path, "The `aws:` prefix is reserved for AWS.");
            }
            if !seen.insert(tag.key.as_str()) {
                self.error(&key_path, format!("`{}` is used twice; tag keys are unique.", tag.key));
            }
            let value_len = aws::utf16_len(&tag.value);
            if value_len > 256 {
                self.error(
                    format!("Tags[{i}].Value"),
                    format!("A tag value has at most 256 characters; got {value_len}."),
                );
            } else if !tag.value.chars().all(tag_char_ok) {
                self.error(
                    format!("Tags[{i}].Value"),
                    "Tag values use letters, digits, spaces and `_.:/=+-@`.",
                );
            }
        }
    }

    /// Fields Ground Truth does not define are kept in the spec and reported here.
    fn unknown_fields(&mut self) {
        let spec = self.spec;
        let input = &spec.input_config;
        let task = &spec.human_task_config;
        let mut places: Vec<(String, &Extra)> = vec![
            (String::new(), &spec.extra),
            ("InputConfig".into(), &input.extra),
            ("InputConfig.DataSource".into(), &input.data_source.extra),
            ("OutputConfig".into(), &spec.output_config.extra),
            ("HumanTaskConfig".into(), &task.extra),
            ("HumanTaskConfig.UiConfig".into(), &task.ui_config.extra),
        ];
        if let Some(s3) = &input.data_source.s3_data_source {
            places.push(("InputConfig.DataSource.S3DataSource".into(), &s3.extra));
        }
        if let Some(sns) = &input.data_source.sns_data_source {
            places.push(("InputConfig.DataSource.SnsDataSource".into(), &sns.extra));
        }
        if let Some(attributes) = &input.data_attributes {
            places.push(("InputConfig.DataAttributes".into(), &attributes.extra));
        }
        if let Some(stop) = &spec.stopping_conditions {
            places.push(("StoppingConditions".into(), &stop.extra));
        }
        if let Some(algorithms) = &spec.labeling_job_algorithms_config {
            places.push((ALGORITHMS.into(), &algorithms.extra));
            if let Some(resources) = &algorithms.labeling_job_resource_config {
                let base = format!("{ALGORITHMS}.LabelingJobResourceConfig");
                if let Some(vpc) = &resources.vpc_config {
                    places.push((format!("{base}.VpcConfig"), &vpc.extra));
                }
                places.push((base, &resources.extra));
            }
        }
        if let Some(acs) = &task.annotation_consolidation_config {
            places.push(("HumanTaskConfig.AnnotationConsolidationConfig".into(), &acs.extra));
        }
        if let Some(price) = &task.public_workforce_task_price {
            let base = "HumanTaskConfig.PublicWorkforceTaskPrice";
            places.push((base.into(), &price.extra));
            places.push((format!("{base}.AmountInUsd"), &price.amount_in_usd.extra));
        }
        for (i, tag) in spec.tags.iter().enumerate() {
            places.push((format!("Tags[{i}]"), &tag.extra));
        }
        let mut found = Vec::new();
        for (base, extra) in places {
            for key in extra.keys() {
                let path = if base.is_empty() { key.to_owned() } else { format!("{base}.{key}") };
                found.push(path);
            }
        }
        for path in found {
            self.warning(
                path,
                "Unknown field: Ground Truth does not define it. It is kept in job.json but not used.",
            );
        }
    }

    /// Every Region named anywhere must be the job's (the work team's); the seed: "Your work
    /// team, input manifest file, output bucket, and other resources in Amazon S3 must be in the
    /// same AWS Region". Returns the job's Region.
    fn regions_agree(&mut self) -> Option<String> {
        let reference = self
            .regions
            .iter()
            .find(|(path, _)| path == WORKTEAM)
            .or_else(|| self.regions.first())
            .cloned();
        let Some((reference_path, region)) = reference else {
            if let Some(first) = self.unknown_region_uris.first().cloned() {
                self.warning(
                    first,
                    "No ARN names the job's Region, so the S3 buckets' Regions cannot be checked; \
                     Ground Truth requires them to be in the job's Region.",
                );
            }
            return None;
        };
        let mismatches: Vec<(String, String)> =
            self.regions.iter().filter(|(_, r)| *r != region).cloned().collect();
        for (path, other) in mismatches {
            self.error(
                path,
                format!(
                    "Region {other} differs from the job's Region {region} (from \
                     {reference_path}); everything a job uses must be in one Region."
                ),
            );
        }
        if let Some(first) = self.unknown_region_uris.first().cloned() {
            let all = self.unknown_region_uris.join(", ");
            self.warning(
                first,
                format!(
                    "The bucket Region of {all} cannot be checked offline (s3:// URIs name no \
                     Region); Ground Truth requires them to be in {region}."
                ),
            );
        }
        Some(region)
    }
}

/// `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,n-1}` with at most `max_len` characters (spec §8.2).
fn check_hyphenated_name(name: &str, max_len: usize) -> Result<(), String> {
    if name.len() > max_len {
        return Err(format!(
            "`{name}` is {} characters long; at most {max_len} are allowed.",
            name.len()
        ));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!("`{name}` may contain only letters, digits and hyphens."));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(format!("`{name}` must start and end with a letter or digit."));
    }
    Ok(())
}

/// `[\t\n\r -\uD7FF\uE000-\uFFFD]` (spec §8.4 `TaskTitle`).
fn title_char_ok(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
}

/// The characters Java's `.` does not match (spec §8.4 `TaskDescription`: `.+`).
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (spec §8.2 `Tags`).
fn tag_char_ok(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}
