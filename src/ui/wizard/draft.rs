//! The author's choices as the wizard holds them ([`JobDraft`]: text as typed, choices as picked),
//! and the pure translation of a draft into what gets written: the `CreateLabelingJob` request
//! ([`JobSpec`]), the label category file, the worker task template and the sampled manifest —
//! a [`CreatePlan`]. Every finding, from Ground Truth's rules ([`crate::job::validate`]) and from
//! the wizard's own checks (numbers that do not parse, a scan not run yet), is mapped by its JSON
//! path to the [`Field`] it is shown beside.
//!
//! Nothing here touches egui or the store: tests build drafts, plans and findings directly.
//! Must not depend on `app` or `cli`.

use std::collections::BTreeMap;

use crate::formats::label_config::{
    AnnotationType, AttributeSpec, AttributeType, DOCUMENT_VERSION_2018, DOCUMENT_VERSION_2020,
    EditsAllowed, Instructions, LabelCategory, LabelCategoryConfig,
};
use crate::job::spec::{
    AnnotationConsolidationConfig, ContentClassifier, DataAttributes, S3DataSource, Tag,
};
use crate::job::task_type::{AuditMode, LambdaRole, TaskCategory};
use crate::job::{Finding, JobSpec, LabelSummary, Severity, TaskType};
use crate::store::ObjectPath;
use crate::store::data_setup::DataKind;
use crate::store::layout::JobOutput;

use super::templates::Template;

/// One screen of the wizard, in the console's order (seed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Job name and label attribute name.
    Job,
    /// Automated or manual data setup, output location.
    Data,
    /// Who the job runs as, and an access check.
    Identity,
    /// How much of the dataset, KMS key, content classifiers.
    Additional,
    /// Task category and type.
    TaskType,
    /// Tags.
    Tags,
    /// Work team, timeouts, workers per object.
    Workers,
    /// Display existing labels: adjustment or verification.
    ExistingLabels,
    /// Labels, attributes, instructions, title.
    WorkerUi,
    /// The worker's view of the first object, in a sandbox.
    Preview,
    /// Everything at once, and Create.
    Review,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Self; 11] = [
        Self::Job,
        Self::Data,
        Self::Identity,
        Self::Additional,
        Self::TaskType,
        Self::Tags,
        Self::Workers,
        Self::ExistingLabels,
        Self::WorkerUi,
        Self::Preview,
        Self::Review,
    ];

    /// The step's title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Job => "Job name",
            Self::Data => "Input data",
            Self::Identity => "Identity and access",
            Self::Additional => "Additional configuration",
            Self::TaskType => "Task type",
            Self::Tags => "Tags",
            Self::Workers => "Workers",
            Self::ExistingLabels => "Existing labels",
            Self::WorkerUi => "Worker UI",
            Self::Preview => "Preview",
            Self::Review => "Review and create",
        }
    }

    /// 0-based position.
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    /// The step after this one.
    pub fn next(self) -> Option<Self> {
        Self::ALL.get(self.index() + 1).copied()
    }

    /// The step before this one.
    pub fn previous(self) -> Option<Self> {
        self.index().checked_sub(1).and_then(|i| Self::ALL.get(i).copied())
    }
}

/// A place in the wizard where findings are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// `LabelingJobName`.
    JobName,
    /// `LabelAttributeName`.
    LabelAttributeName,
    /// The automated data setup (prefix, kind, scan).
    DataSetup,
    /// The input manifest (`InputConfig.DataSource…`).
    InputManifest,
    /// `OutputConfig.S3OutputPath`.
    OutputPath,
    /// `RoleArn`.
    RoleArn,
    /// The access check.
    Access,
    /// How much of the dataset to label.
    Portion,
    /// `OutputConfig.KmsKeyId`.
    KmsKey,
    /// `InputConfig.DataAttributes.ContentClassifiers`.
    ContentClassifiers,
    /// The task type (and the Lambdas and worker UI it implies).
    TaskType,
    /// The tag list as a whole.
    Tags,
    /// Tag `i`'s key.
    TagKey(usize),
    /// Tag `i`'s value.
    TagValue(usize),
    /// `HumanTaskConfig.WorkteamArn`.
    WorkTeam,
    /// `TaskTimeLimitInSeconds`.
    Timeout,
    /// `TaskAvailabilityLifetimeInSeconds`.
    Lifetime,
    /// `NumberOfHumanWorkersPerDataObject`.
    WorkersPerObject,
    /// `MaxConcurrentTaskCount`.
    MaxConcurrent,
    /// Display existing labels (`auditLabelAttributeName`).
    ExistingLabels,
    /// The label list as a whole.
    Labels,
    /// Label `i`.
    Label(usize),
    /// Label category attributes.
    LabelAttributes,
    /// Frame attributes.
    FrameAttributes,
    /// The video frame tool (`annotationType`).
    VideoTool,
    /// `instructions.shortInstruction`.
    ShortInstruction,
    /// `instructions.fullInstruction`.
    FullInstruction,
    /// `TaskTitle`.
    TaskTitle,
    /// `TaskDescription`.
    TaskDescription,
    /// Anything else: shown on the review step.
    Other,
}

impl Field {
    /// The step that shows this field.
    pub fn step(self) -> Step {
        match self {
            Self::JobName | Self::LabelAttributeName => Step::Job,
            Self::DataSetup | Self::InputManifest | Self::OutputPath => Step::Data,
            Self::RoleArn | Self::Access => Step::Identity,
            Self::Portion | Self::KmsKey | Self::ContentClassifiers => Step::Additional,
            Self::TaskType => Step::TaskType,
            Self::Tags | Self::TagKey(_) | Self::TagValue(_) => Step::Tags,
            Self::WorkTeam
            | Self::Timeout
            | Self::Lifetime
            | Self::WorkersPerObject
            | Self::MaxConcurrent => Step::Workers,
            Self::ExistingLabels => Step::ExistingLabels,
            Self::Labels
            | Self::Label(_)
            | Self::LabelAttributes
            | Self::FrameAttributes
            | Self::VideoTool
            | Self::ShortInstruction
            | Self::FullInstruction
            | Self::TaskTitle
            | Self::TaskDescription => Step::WorkerUi,
            Self::Other => Step::Review,
        }
    }
}

/// Paths of the wizard's own findings (not fields of the request).
pub mod paths {
    /// The automated data setup has not produced a manifest.
    pub const DATA_SETUP: &str = "Wizard.DataSetup";
    /// The dataset portion.
    pub const PORTION: &str = "Wizard.Portion";
    /// The access check.
    pub const ACCESS: &str = "Wizard.Access";
    /// Label category attributes.
    pub const LABEL_ATTRIBUTES: &str = "Wizard.LabelAttributes";
    /// Frame attributes.
    pub const FRAME_ATTRIBUTES: &str = "Wizard.FrameAttributes";
    /// The task type.
    pub const TASK_TYPE: &str = "Wizard.TaskType";
    /// `auditLabelAttributeName`.
    pub const AUDIT: &str = "LabelCategoryConfig.auditLabelAttributeName";
    /// `instructions.shortInstruction`.
    pub const SHORT_INSTRUCTION: &str = "LabelCategoryConfig.instructions.shortInstruction";
    /// `instructions.fullInstruction`.
    pub const FULL_INSTRUCTION: &str = "LabelCategoryConfig.instructions.fullInstruction";
}

/// `Tags[3].Key` → (3, "Key").
fn indexed<'a>(path: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let rest = path.strip_prefix(prefix)?.strip_prefix('[')?;
    let (index, rest) = rest.split_once(']')?;
    Some((index.parse().ok()?, rest.trim_start_matches('.')))
}

/// The field a finding at JSON `path` is shown beside.
pub fn field_of(path: &str) -> Field {
    use Field as F;
    if let Some((i, rest)) = indexed(path, "Tags") {
        return if rest == "Value" { F::TagValue(i) } else { F::TagKey(i) };
    }
    if let Some((i, rest)) = indexed(path, "LabelCategoryConfig.labels") {
        return if rest == "label" { F::Label(i) } else { F::LabelAttributes };
    }
    match path {
        "LabelingJobName" => F::JobName,
        "LabelAttributeName" => F::LabelAttributeName,
        "OutputConfig.KmsKeyId" => F::KmsKey,
        "RoleArn" => F::RoleArn,
        "Tags" => F::Tags,
        "HumanTaskConfig.WorkteamArn" => F::WorkTeam,
        "HumanTaskConfig.TaskTimeLimitInSeconds" => F::Timeout,
        "HumanTaskConfig.TaskAvailabilityLifetimeInSeconds" => F::Lifetime,
        "HumanTaskConfig.NumberOfHumanWorkersPerDataObject" => F::WorkersPerObject,
        "HumanTaskConfig.MaxConcurrentTaskCount" => F::MaxConcurrent,
        "HumanTaskConfig.TaskTitle" => F::TaskTitle,
        "HumanTaskConfig.TaskDescription" => F::TaskDescription,
        "LabelCategoryConfig.labels" => F::Labels,
        "LabelCategoryConfig.categoryGlobalAttributes" | paths::LABEL_ATTRIBUTES => {
            F::LabelAttributes
        }
        "LabelCategoryConfig.frameAttributes" | paths::FRAME_ATTRIBUTES => F::FrameAttributes,
        "LabelCategoryConfig.annotationType" => F::VideoTool,
        paths::AUDIT => F::ExistingLabels,
        paths::SHORT_INSTRUCTION => F::ShortInstruction,
        paths::FULL_INSTRUCTION => F::FullInstruction,
        paths::DATA_SETUP => F::DataSetup,
        paths::PORTION => F::Portion,
        paths::ACCESS => F::Access,
        paths::TASK_TYPE => F::TaskType,
        _ if path.starts_with("InputConfig.DataAttributes") => F::ContentClassifiers,
        _ if path.starts_with("InputConfig") => F::InputManifest,
        _ if path.starts_with("OutputConfig") => F::OutputPath,
        _ if path.starts_with("StoppingConditions") => F::Portion,
        _ if path.starts_with("HumanTaskConfig.PublicWorkforceTaskPrice") => F::WorkTeam,
        _ if path.starts_with("HumanTaskConfig.UiConfig")
            || path.starts_with("HumanTaskConfig.PreHumanTaskLambdaArn")
            || path.starts_with("HumanTaskConfig.AnnotationConsolidationConfig") =>
        {
            F::TaskType
        }
        _ => F::Other,
    }
}

/// Automated or manual data setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataMode {
    /// Scan a prefix and write a manifest for it.
    Automated,
    /// An existing input manifest.
    Manual,
}

/// The automated setup's data type choices (seed: images, text, video frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoKind {
    /// `.jpg`, `.jpeg`, `.png`.
    Images,
    /// Lines of `.txt`, rows of `.csv`.
    Text,
    /// One folder of frames per sequence.
    VideoFrames,
}

impl AutoKind {
    /// Every choice.
    pub const ALL: [Self; 3] = [Self::Images, Self::Text, Self::VideoFrames];

    /// What the author sees.
    pub fn label(self) -> &'static str {
        match self {
            Self::Images => "Images",
            Self::Text => "Text (.txt lines, .csv rows)",
            Self::VideoFrames => "Video frames (one folder per sequence)",
        }
    }

    /// The store's data kind.
    pub fn data_kind(self) -> DataKind {
        match self {
            Self::Images => DataKind::Images,
            Self::Text => DataKind::Text,
            Self::VideoFrames => DataKind::VideoFrames,
        }
    }

    /// The task category that fits this data.
    pub fn category(self) -> TaskCategory {
        match self {
            Self::Images => TaskCategory::Image,
            Self::Text => TaskCategory::Text,
            Self::VideoFrames => TaskCategory::Video,
        }
    }
}

/// What an automated data setup produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoSetup {
    /// The prefix that was scanned (so a changed prefix invalidates the result).
    pub prefix: String,
    /// The kind it was scanned for.
    pub kind: AutoKind,
    /// The manifest written.
    pub manifest: String,
    /// Data objects in it.
    pub objects: usize,
    /// Its first lines.
    pub sample: Vec<String>,
    /// What was skipped and why, one line each.
    pub skipped: Vec<String>,
}

/// How much of the dataset to label (seed, "Additional configuration").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortionMode {
    /// Every object.
    All,
    /// A random sample of this many percent.
    RandomPercent,
    /// The first N objects.
    FirstN,
}

/// Units of a duration field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds.
    Seconds,
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
    /// Days.
    Days,
}

impl TimeUnit {
    /// Every unit.
    pub const ALL: [Self; 4] = [Self::Seconds, Self::Minutes, Self::Hours, Self::Days];

    /// Seconds per unit.
    pub fn secs(self) -> u64 {
        match self {
            Self::Seconds => 1,
            Self::Minutes => 60,
            Self::Hours => 3600,
            Self::Days => 86_400,
        }
    }

    /// Plural name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Seconds => "seconds",
            Self::Minutes => "minutes",
            Self::Hours => "hours",
            Self::Days => "days",
        }
    }
}

/// A duration as typed: a whole number and a unit; empty means "the default".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationInput {
    /// The number as typed.
    pub value: String,
    /// Its unit.
    pub unit: TimeUnit,
}

impl DurationInput {
    /// An empty field in `unit`.
    pub fn empty(unit: TimeUnit) -> Self {
        Self { value: String::new(), unit }
    }

    /// `secs` in the largest unit that divides it.
    pub fn from_secs(secs: u32) -> Self {
        let unit = [TimeUnit::Days, TimeUnit::Hours, TimeUnit::Minutes]
            .into_iter()
            .find(|u| u64::from(secs) % u.secs() == 0 && secs > 0)
            .unwrap_or(TimeUnit::Seconds);
        Self { value: (u64::from(secs) / unit.secs()).to_string(), unit }
    }

    /// `None` when empty; seconds, or why the text is not a duration.
    pub fn secs(&self) -> Option<Result<u32, String>> {
        let text = self.value.trim();
        if text.is_empty() {
            return None;
        }
        Some(match text.parse::<u64>() {
            Ok(n) => n
                .checked_mul(self.unit.secs())
                .and_then(|s| u32::try_from(s).ok())
                .ok_or_else(|| format!("{text} {} is far too long.", self.unit.label())),
            Err(_) => Err(format!("`{text}` is not a whole number.")),
        })
    }
}

/// `3_600` → "1 hour", `300` → "5 minutes", `90` → "90 seconds".
pub fn human_duration(secs: u32) -> String {
    let secs = u64::from(secs);
    for (unit, name) in [(86_400, "day"), (3600, "hour"), (60, "minute")] {
        if secs >= unit && secs % unit == 0 {
            let n = secs / unit;
            return format!("{n} {name}{}", if n == 1 { "" } else { "s" });
        }
    }
    format!("{secs} seconds")
}

/// What kind of value an attribute takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeKind {
    /// A string picked from a list (`type: string` + `enum`).
    Choice,
    /// Free text (`type: string`).
    Text,
    /// A number in `[minimum, maximum]`.
    Number,
}

impl AttributeKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::Choice, Self::Text, Self::Number];

    /// What the author sees.
    pub fn label(self) -> &'static str {
        match self {
            Self::Choice => "choice",
            Self::Text => "free text",
            Self::Number => "number",
        }
    }
}

/// A label category attribute or frame attribute as edited.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDraft {
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: String,
    /// Its kind.
    pub kind: AttributeKind,
    /// Comma-separated `enum` values (choice).
    pub values: String,
    /// `minimum` (number).
    pub minimum: String,
    /// `maximum` (number).
    pub maximum: String,
    /// `isRequired`.
    pub required: bool,
    /// Comma-separated labels it applies to; empty: every label (`categoryGlobalAttributes`).
    /// Unused for frame attributes.
    pub applies_to: String,
    /// Came from the audited job's label file (kept; not removable).
    pub existing: bool,
    /// "Allow workers to edit this attribute" (`editsAllowed`), for existing attributes.
    pub editable: bool,
}

impl AttributeDraft {
    /// An empty choice attribute.
    pub fn new() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            kind: AttributeKind::Choice,
            values: String::new(),
            minimum: String::new(),
            maximum: String::new(),
            required: false,
            applies_to: String::new(),
            existing: false,
            editable: true,
        }
    }

    /// The draft of an attribute read from a label file.
    pub fn from_spec(spec: &AttributeSpec, applies_to: &[&str]) -> Self {
        let kind = match (&spec.attribute_type, &spec.enum_values) {
            (AttributeType::Number, _) => AttributeKind::Number,
            (_, Some(_)) => AttributeKind::Choice,
            _ => AttributeKind::Text,
        };
        let number = |n: Option<f64>| n.map(|n| n.to_string()).unwrap_or_default();
        Self {
            name: spec.name.clone(),
            description: spec.description.clone().unwrap_or_default(),
            kind,
            values: spec.enum_values.as_ref().map(|v| v.join(", ")).unwrap_or_default(),
            minimum: number(spec.minimum),
            maximum: number(spec.maximum),
            required: spec.is_required.unwrap_or(false),
            applies_to: applies_to.join(", "),
            existing: false,
            editable: spec.edits_allowed != Some(EditsAllowed::None),
        }
    }

    fn list(text: &str) -> Vec<String> {
        text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    }

    /// The labels it applies to (empty: all).
    pub fn labels(&self) -> Vec<String> {
        Self::list(&self.applies_to)
    }

    /// The attribute object, or why it cannot be written.
    pub fn to_spec(&self, audit: bool) -> Result<AttributeSpec, String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err("An attribute needs a name.".into());
        }
        let mut spec = match self.kind {
            AttributeKind::Choice => {
                let values = Self::list(&self.values);
                if values.is_empty() {
                    return Err(format!(
                        "`{name}`: list the values to choose from, comma-separated."
                    ));
                }
                AttributeSpec::string(name, Some(values))
            }
            AttributeKind::Text => AttributeSpec::string(name, None),
            AttributeKind::Number => {
                let parse = |text: &str, what: &str| {
                    text.trim()
                        .parse::<f64>()
                        .map_err(|_| format!("`{name}`: the {what} `{text}` is not a number."))
                };
                let (min, max) =
                    (parse(&self.minimum, "minimum")?, parse(&self.maximum, "maximum")?);
                if min > max {
                    return Err(format!("`{name}`: the minimum is above the maximum."));
                }
                AttributeSpec::number(name, min, max)
            }
        };
        let description = self.description.trim();
        spec.description = (!description.is_empty()).then(|| description.to_owned());
        spec.is_required = self.required.then_some(true);
        if audit && self.existing {
            spec.edits_allowed =
                Some(if self.editable { EditsAllowed::Any } else { EditsAllowed::None });
        }
        Ok(spec)
    }
}

impl Default for AttributeDraft {
    fn default() -> Self {
        Self::new()
    }
}

/// One label attribute found in an earlier output manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct ExistingAttribute {
    /// The label attribute name (the earlier job's `LabelAttributeName`).
    pub attribute: String,
    /// Its metadata `type`.
    pub output_type: Option<String>,
    /// The job that wrote it (`job-name` without `labeling-job/`).
    pub job_name: Option<String>,
    /// Lines that carry it.
    pub objects: usize,
    /// Label → how many times it occurs (boxes, classes…), in class-index order where known.
    pub classes: Vec<(String, u64)>,
    /// The earlier job's label file, when the catalog has that job.
    pub earlier_config: Option<LabelCategoryConfig>,
}

/// What "Display existing labels" found in the input manifest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExistingLabels {
    /// The manifest that was read.
    pub manifest: String,
    /// Lines read.
    pub lines: usize,
    /// Label attributes found, sorted by name.
    pub attributes: Vec<ExistingAttribute>,
}

impl ExistingLabels {
    /// The attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&ExistingAttribute> {
        self.attributes.iter().find(|a| a.attribute == name)
    }
}

/// "Display existing labels".
#[derive(Debug, Clone, PartialEq)]
pub struct AuditDraft {
    /// Ticked.
    pub enabled: bool,
    /// Adjustment or verification.
    pub mode: AuditMode,
    /// The label attribute whose labels are shown (`auditLabelAttributeName`).
    pub attribute: String,
    /// What was found in the input manifest.
    pub found: Option<ExistingLabels>,
}

/// The result of the access check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessReport {
    /// The manifest that was read.
    pub manifest: String,
    /// The job output folder probed.
    pub output: String,
    /// Bytes and data objects read, or why not.
    pub read: Result<(u64, usize), String>,
    /// The probe object written and deleted, or why not.
    pub write: Result<String, String>,
}

impl AccessReport {
    /// Both checks passed.
    pub fn passed(&self) -> bool {
        self.read.is_ok() && self.write.is_ok()
    }
}

/// Where the job runs and as whom: what the app knows about the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user, recorded as the job's creator.
    pub user: String,
    /// Which credentials are used, in words ("local folder /data/ws", "AWS profile labeling").
    pub credentials: String,
    /// The AWS Region named in ARNs.
    pub region: String,
    /// The AWS account named in ARNs.
    pub account: String,
}

impl Identity {
    /// An identity for a local-folder workspace at `root`.
    pub fn local(user: &str, root: &str) -> Self {
        Self {
            user: user.to_owned(),
            credentials: format!("Local folder {root} (your operating-system user's file access)"),
            region: "us-east-1".into(),
            account: "111122223333".into(),
        }
    }

    /// The default execution role recorded in `RoleArn`.
    pub fn default_role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/groundwork", self.account)
    }
}

/// Everything the author chose, as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDraft {
    /// `LabelingJobName`.
    pub name: String,
    /// "I want to specify a label attribute name different from the labeling job name".
    pub custom_label_attribute: bool,
    /// `LabelAttributeName` when ticked.
    pub label_attribute_name: String,
    /// Automated or manual data setup.
    pub data_mode: DataMode,
    /// The prefix to scan (automated).
    pub auto_prefix: String,
    /// The data type to scan for (automated).
    pub auto_kind: AutoKind,
    /// The scan's result (automated).
    pub auto_setup: Option<AutoSetup>,
    /// The input manifest (manual).
    pub manifest_uri: String,
    /// `OutputConfig.S3OutputPath`.
    pub output_path: String,
    /// `RoleArn`: recorded for Ground Truth; Groundwork runs with the session's credentials.
    pub role_arn: String,
    /// How much of the dataset.
    pub portion: PortionMode,
    /// Percent or count, as typed.
    pub portion_value: String,
    /// Seed of the random sample.
    pub sample_seed: u64,
    /// `OutputConfig.KmsKeyId`, as typed.
    pub kms_key: String,
    /// `FreeOfPersonallyIdentifiableInformation`.
    pub free_of_pii: bool,
    /// `FreeOfAdultContent`.
    pub free_of_adult: bool,
    /// The console category.
    pub category: TaskCategory,
    /// The console task type (a base or image-verification type).
    pub task_type: TaskType,
    /// Tags, key and value as typed.
    pub tags: Vec<(String, String)>,
    /// The private work team's name.
    pub team: String,
    /// `TaskTimeLimitInSeconds`.
    pub timeout: DurationInput,
    /// `TaskAvailabilityLifetimeInSeconds`.
    pub lifetime: DurationInput,
    /// `NumberOfHumanWorkersPerDataObject`, as typed.
    pub workers_per_object: String,
    /// `MaxConcurrentTaskCount`, as typed.
    pub max_concurrent: String,
    /// Display existing labels.
    pub audit: AuditDraft,
    /// Label names.
    pub labels: Vec<String>,
    /// Label category attributes.
    pub label_attributes: Vec<AttributeDraft>,
    /// Frame attributes.
    pub frame_attributes: Vec<AttributeDraft>,
    /// The video frame tool (`annotationType`).
    pub video_tool: String,
    /// `shortInstruction`.
    pub short_instruction: String,
    /// `fullInstruction` (Markdown).
    pub full_instruction: String,
    /// `TaskTitle`.
    pub task_title: String,
    /// `TaskDescription`.
    pub task_description: String,
    /// The AWS Region named in ARNs.
    pub region: String,
    /// The AWS account named in ARNs.
    pub account: String,
}

/// The video frame tools (spec §2.4).
pub const VIDEO_TOOLS: [&str; 4] = ["BoundingBox", "Polyline", "Polygon", "Keypoint"];

/// Default labels of an image label-verification job.
pub const VERIFICATION_LABELS: [&str; 2] = ["Correct", "Incorrect"];

/// Where the wizard writes a job's own files, under the job's output folder.
pub const LABEL_FILE: &str = "annotation-tool/data.json";
/// The generated worker task template.
pub const TEMPLATE_FILE: &str = "annotation-tool/template.liquid";
/// The sampled input manifest.
pub const SAMPLE_FILE: &str = "annotation-tool/input.manifest";

/// How a sampled manifest is cut from the chosen one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    /// `percent` % of the objects, chosen at random with `seed`, kept in manifest order.
    RandomPercent {
        /// 1–100.
        percent: u32,
        /// The random seed.
        seed: u64,
    },
    /// The first `count` objects.
    First {
        /// At least 1.
        count: usize,
    },
}

/// Everything the create step writes, in order: files, then the job.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePlan {
    /// The request stored as `job.json`.
    pub spec: JobSpec,
    /// The label category file and its address.
    pub label_file: Option<(ObjectPath, LabelCategoryConfig)>,
    /// The worker task template and its address (types without a built-in worker UI).
    pub template: Option<(ObjectPath, String)>,
    /// The sampled manifest to write: (source, target, how).
    pub sample: Option<(ObjectPath, ObjectPath, Sample)>,
    /// Recorded as the creator.
    pub created_by: String,
}

/// A draft translated: the plan and every finding.
#[derive(Debug, Clone)]
pub struct Built {
    /// What create would write.
    pub plan: CreatePlan,
    /// Errors and warnings, each mapped to a field.
    pub findings: Vec<(Field, Finding)>,
}

impl Built {
    /// True when nothing blocks create.
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|(_, f)| f.is_error())
    }

    /// The findings shown at `field`.
    pub fn at(&self, field: Field) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |(f, _)| *f == field).map(|(_, finding)| finding)
    }

    /// Errors on `step`.
    pub fn errors_on(&self, step: Step) -> usize {
        self.findings.iter().filter(|(f, finding)| f.step() == step && finding.is_error()).count()
    }
}

fn nonempty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn whole_number(text: &str, path: &str, findings: &mut Vec<Finding>) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            findings.push(Finding::error(path, format!("`{text}` is not a whole number.")));
            None
        }
    }
}

impl JobDraft {
    /// A fresh draft for `identity`: nothing chosen, defaults from the console.
    pub fn new(identity: &Identity) -> Self {
        Self {
            name: String::new(),
            custom_label_attribute: false,
            label_attribute_name: String::new(),
            data_mode: DataMode::Automated,
            auto_prefix: String::new(),
            auto_kind: AutoKind::Images,
            auto_setup: None,
            manifest_uri: String::new(),
            output_path: String::new(),
            role_arn: identity.default_role_arn(),
            portion: PortionMode::All,
            portion_value: String::new(),
            sample_seed: 1,
            kms_key: String::new(),
            free_of_pii: false,
            free_of_adult: false,
            category: TaskCategory::Image,
            task_type: TaskType::BoundingBox,
            tags: Vec::new(),
            team: String::new(),
            timeout: DurationInput::empty(TimeUnit::Minutes),
            lifetime: DurationInput::empty(TimeUnit::Days),
            workers_per_object: String::new(),
            max_concurrent: String::new(),
            audit: AuditDraft {
                enabled: false,
                mode: AuditMode::Adjustment,
                attribute: String::new(),
                found: None,
            },
            labels: Vec::new(),
            label_attributes: Vec::new(),
            frame_attributes: Vec::new(),
            video_tool: "BoundingBox".into(),
            short_instruction: String::new(),
            full_instruction: String::new(),
            task_title: String::new(),
            task_description: String::new(),
            region: identity.region.clone(),
            account: identity.account.clone(),
        }
    }

    /// A draft for an adjustment or verification job of `earlier`'s output (the monitor's
    /// "create adjustment / verification job from this output"): its output manifest as input,
    /// its label attribute audited, its team, role and output location, and its labels (or, for
    /// an image verification, the verification labels).
    pub fn chained(
        earlier: &JobSpec,
        earlier_config: Option<&LabelCategoryConfig>,
        output_manifest: &str,
        mode: AuditMode,
        identity: &Identity,
    ) -> Self {
        let mut draft = Self::new(identity);
        let base = earlier_task_type(earlier).base();
        let suffix = match mode {
            AuditMode::Adjustment => "adjust",
            AuditMode::Verification => "verify",
        };
        draft.name = chained_name(&earlier.labeling_job_name, suffix);
        draft.data_mode = DataMode::Manual;
        draft.manifest_uri = output_manifest.to_owned();
        draft.output_path = earlier.output_config.s3_output_path.clone();
        draft.kms_key = earlier.output_config.kms_key_id.clone().unwrap_or_default();
        draft.role_arn = earlier.role_arn.clone();
        if let Some(classifiers) = &earlier.input_config.data_attributes {
            draft.free_of_pii = classifiers
                .content_classifiers
                .contains(&ContentClassifier::FreeOfPersonallyIdentifiableInformation);
            draft.free_of_adult =
                classifiers.content_classifiers.contains(&ContentClassifier::FreeOfAdultContent);
        }
        if let Some((region, account, team)) =
            parse_workteam_arn(&earlier.human_task_config.workteam_arn)
        {
            draft.region = region;
            draft.account = account;
            draft.team = team;
        }
        draft.category = base.category();
        draft.task_type = base;
        draft.tags = earlier.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
        draft.audit = AuditDraft {
            enabled: true,
            mode,
            attribute: earlier.effective_label_attribute_name().to_owned(),
            found: None,
        };
        let image_verification = mode == AuditMode::Verification && base.verification().is_some();
        if image_verification {
            draft.labels = VERIFICATION_LABELS.iter().map(|s| (*s).to_owned()).collect();
            draft.task_title = format!("Check the labels of {}", earlier.labeling_job_name);
            draft.task_description =
                "Look at the earlier labels and say whether they are correct.".into();
            draft.short_instruction =
                "Judge whether the labels shown are correct and complete.".into();
        } else {
            if let Some(config) = earlier_config {
                draft.adopt_earlier_config(config);
            }
            draft.task_title = earlier.human_task_config.task_title.clone();
            draft.task_description = earlier.human_task_config.task_description.clone();
        }
        draft
    }

    /// Takes labels, attributes, tool and instructions from the audited job's label file; its
    /// attributes become existing ones ("allow workers to edit" defaults per the console: on for
    /// adjustment, off for verification).
    pub fn adopt_earlier_config(&mut self, config: &LabelCategoryConfig) {
        self.labels = config.labels.iter().map(|l| l.label.clone()).collect();
        let editable = self.audit.mode == AuditMode::Adjustment;
        let mut attributes: Vec<AttributeDraft> = config
            .category_global_attributes
            .iter()
            .flatten()
            .map(|a| AttributeDraft {
                existing: true,
                editable,
                ..AttributeDraft::from_spec(a, &[])
            })
            .collect();
        let mut per_label: BTreeMap<String, (AttributeSpec, Vec<&str>)> = BTreeMap::new();
        for label in &config.labels {
            for attribute in label.category_attributes.iter().flatten() {
                per_label
                    .entry(attribute.name.clone())
                    .or_insert_with(|| (attribute.clone(), Vec::new()))
                    .1
                    .push(&label.label);
            }
        }
        attributes.extend(per_label.values().map(|(spec, labels)| AttributeDraft {
            existing: true,
            editable,
            ..AttributeDraft::from_spec(spec, labels)
        }));
        self.label_attributes = attributes;
        self.frame_attributes = config
            .frame_attributes
            .iter()
            .flatten()
            .map(|a| AttributeDraft {
                existing: true,
                editable,
                ..AttributeDraft::from_spec(a, &[])
            })
            .collect();
        if let Some(AnnotationType::Tool(tool)) = &config.annotation_type {
            self.video_tool = tool.clone();
        }
        if let Some(instructions) = &config.instructions {
            self.short_instruction = instructions.short_instruction.clone().unwrap_or_default();
            self.full_instruction = instructions.full_instruction.clone().unwrap_or_default();
        }
    }

    /// Applies a built-in template: task type, labels, attributes, instructions, title.
    pub fn apply_template(&mut self, template: &Template) {
        self.category = template.task_type.category();
        self.task_type = template.task_type;
        let audit = self.audit.clone();
        self.adopt_earlier_config(&template.config);
        self.audit = audit;
        for attribute in self.label_attributes.iter_mut().chain(self.frame_attributes.iter_mut()) {
            attribute.existing = false;
            attribute.editable = true;
        }
        self.task_title = template.task_title.clone();
        self.task_description = template.task_description.clone();
    }

    /// True when the job shows earlier labels (ticked, or an image verification type).
    pub fn audit_active(&self) -> bool {
        self.audit.enabled || self.task_type.is_verification()
    }

    /// The audit mode in effect.
    pub fn audit_mode(&self) -> AuditMode {
        if self.task_type.is_verification() { AuditMode::Verification } else { self.audit.mode }
    }

    /// The task type the request will name: the console choice, turned into its adjustment or
    /// verification type when existing labels are displayed (where Ground Truth has one).
    pub fn effective_task_type(&self) -> TaskType {
        let base = self.task_type;
        if base.is_verification() || !self.audit.enabled {
            return base;
        }
        match self.audit.mode {
            AuditMode::Adjustment => base.adjustment().unwrap_or(base),
            AuditMode::Verification => base.verification().or(base.adjustment()).unwrap_or(base),
        }
    }

    /// The input manifest chosen (before sampling): the scan's, or the one typed.
    pub fn chosen_manifest(&self) -> Option<String> {
        match self.data_mode {
            DataMode::Manual => nonempty(&self.manifest_uri),
            DataMode::Automated => self.current_auto_setup().map(|s| s.manifest.clone()),
        }
    }

    /// The scan result, when it matches the prefix and kind chosen now.
    pub fn current_auto_setup(&self) -> Option<&AutoSetup> {
        self.auto_setup
            .as_ref()
            .filter(|s| s.prefix == self.auto_prefix.trim() && s.kind == self.auto_kind)
    }

    /// The job's output folder, when name and output path make one.
    pub fn job_output(&self) -> Option<JobOutput> {
        let base = ObjectPath::parse(self.output_path.trim()).ok()?;
        JobOutput::new(&base, &self.name).ok()
    }

    /// The work team ARN for the chosen team.
    pub fn workteam_arn(&self) -> String {
        match nonempty(&self.team) {
            Some(team) => format!(
                "arn:aws:sagemaker:{}:{}:workteam/private-crowd/{team}",
                self.region, self.account
            ),
            None => String::new(),
        }
    }

    fn sample(&self, findings: &mut Vec<Finding>) -> Option<Sample> {
        let text = self.portion_value.trim();
        match self.portion {
            PortionMode::All => None,
            PortionMode::RandomPercent => match text.parse::<u32>() {
                Ok(percent) if (1..=100).contains(&percent) => {
                    Some(Sample::RandomPercent { percent, seed: self.sample_seed })
                }
                Ok(_) | Err(_) => {
                    findings.push(Finding::error(
                        paths::PORTION,
                        format!("A sample is 1–100 percent of the dataset; got `{text}`."),
                    ));
                    None
                }
            },
            PortionMode::FirstN => match text.parse::<usize>() {
                Ok(count) if count >= 1 => Some(Sample::First { count }),
                Ok(_) | Err(_) => {
                    findings.push(Finding::error(
                        paths::PORTION,
                        format!("Give how many objects to label (at least 1); got `{text}`."),
                    ));
                    None
                }
            },
        }
    }

    /// The label category file for the draft.
    pub fn label_config(&self, findings: &mut Vec<Finding>) -> LabelCategoryConfig {
        let task_type = self.effective_task_type();
        let frames = task_type.is_video_frame() || task_type.is_point_cloud();
        let audit = self.audit_active();
        let verification_frames = frames && audit && self.audit_mode() == AuditMode::Verification;
        let mut labels: Vec<LabelCategory> = self
            .labels
            .iter()
            .map(|name| LabelCategory {
                edits_allowed: verification_frames.then_some(EditsAllowed::None),
                ..LabelCategory::new(name.trim())
            })
            .collect();
        let mut global = Vec::new();
        if task_type.label_attributes_allowed() {
            for attribute in &self.label_attributes {
                match attribute.to_spec(audit) {
                    Ok(spec) => {
                        let applies = attribute.labels();
                        if applies.is_empty() {
                            global.push(spec);
                            continue;
                        }
                        for name in &applies {
                            match labels.iter_mut().find(|l| &l.label == name) {
                                Some(label) => label
                                    .category_attributes
                                    .get_or_insert_with(Vec::new)
                                    .push(spec.clone()),
                                None => findings.push(Finding::error(
                                    paths::LABEL_ATTRIBUTES,
                                    format!(
                                        "`{}` applies to `{name}`, which is not a label.",
                                        spec.name
                                    ),
                                )),
                            }
                        }
                    }
                    Err(message) => findings.push(Finding::error(paths::LABEL_ATTRIBUTES, message)),
                }
            }
        }
        let mut frame = Vec::new();
        if task_type.frame_attributes_allowed() {
            for attribute in &self.frame_attributes {
                match attribute.to_spec(audit) {
                    Ok(spec) if spec.description.is_none() => findings.push(Finding::error(
                        paths::FRAME_ATTRIBUTES,
                        format!("`{}`: frame attributes need a description.", spec.name),
                    )),
                    Ok(spec) => frame.push(spec),
                    Err(message) => findings.push(Finding::error(paths::FRAME_ATTRIBUTES, message)),
                }
            }
        }
        let short = nonempty(&self.short_instruction);
        let full = nonempty(&self.full_instruction);
        if let Some(short) = &short
            && short.chars().count() >= 255
        {
            findings.push(Finding::error(
                paths::SHORT_INSTRUCTION,
                format!(
                    "{} characters; short instructions have fewer than 255.",
                    short.chars().count()
                ),
            ));
        }
        if let Some(full) = &full
            && full.chars().count() >= 2048
        {
            findings.push(Finding::error(
                paths::FULL_INSTRUCTION,
                format!(
                    "{} characters; full instructions have fewer than 2,048.",
                    full.chars().count()
                ),
            ));
        }
        if task_type == TaskType::NamedEntityRecognition && (short.is_none() || full.is_none()) {
            findings.push(Finding::error(
                if short.is_none() { paths::SHORT_INSTRUCTION } else { paths::FULL_INSTRUCTION },
                "Named entity recognition jobs need both short and full instructions.",
            ));
        }
        let instructions = (short.is_some() || full.is_some()).then(|| Instructions {
            short_instruction: short,
            full_instruction: full,
            extra: Default::default(),
        });
        let audit_attribute = if audit { nonempty(&self.audit.attribute) } else { None };
        if audit && audit_attribute.is_none() && !task_type.supports_audit() {
            // With an attribute chosen, Ground Truth's rules say this themselves.
            findings.push(Finding::error(
                paths::AUDIT,
                format!(
                    "{task_type} jobs cannot adjust or verify earlier labels: only bounding box, \
                     semantic segmentation, video frame and 3D point cloud jobs can."
                ),
            ));
        } else if audit && audit_attribute.is_none() {
            findings.push(Finding::error(
                paths::AUDIT,
                "Choose the label attribute whose labels workers will see: read the existing \
                 labels from the input manifest.",
            ));
        }
        LabelCategoryConfig {
            document_version: Some(
                if frames { DOCUMENT_VERSION_2020 } else { DOCUMENT_VERSION_2018 }.to_owned(),
            ),
            labels,
            instructions,
            frame_attributes: (!frame.is_empty()).then_some(frame),
            category_global_attributes: (!global.is_empty()).then_some(global),
            annotation_type: task_type
                .is_video_frame()
                .then(|| AnnotationType::Tool(self.video_tool.clone())),
            audit_label_attribute_name: audit_attribute,
            extra: Default::default(),
        }
    }

    /// Translates the draft: the plan create would carry out, and every finding at its field.
    /// `access` is the latest access check, if any.
    pub fn build(&self, created_by: &str, access: Option<&AccessReport>) -> Built {
        let mut findings: Vec<Finding> = Vec::new();
        let task_type = self.effective_task_type();
        let output = self.job_output();
        let mut spec = JobSpec {
            labeling_job_name: self.name.clone(),
            label_attribute_name: self
                .custom_label_attribute
                .then(|| self.label_attribute_name.clone()),
            role_arn: self.role_arn.trim().to_owned(),
            ..JobSpec::default()
        };

        // Input, sampled or not.
        let chosen = self.chosen_manifest();
        if self.data_mode == DataMode::Automated && chosen.is_none() {
            let message = if self.auto_prefix.trim().is_empty() {
                "Give the prefix that holds your data, then scan it to write the input manifest."
            } else {
                "Scan the prefix to write the input manifest for it."
            };
            findings.push(Finding::error(paths::DATA_SETUP, message));
        }
        let sample = self.sample(&mut findings);
        let mut sample_plan = None;
        let manifest = match (sample, &chosen, &output) {
            (Some(how), Some(source), Some(output)) => {
                match (ObjectPath::parse(source), output.base().join(SAMPLE_FILE)) {
                    (Ok(source), Ok(target)) => {
                        let uri = target.uri();
                        sample_plan = Some((source, target, how));
                        Some(uri)
                    }
                    _ => chosen.clone(),
                }
            }
            _ => chosen.clone(),
        };
        match manifest {
            Some(uri) => {
                spec.input_config.data_source.s3_data_source =
                    Some(S3DataSource { manifest_s3_uri: uri, extra: Default::default() });
            }
            None if self.data_mode == DataMode::Manual => {
                spec.input_config.data_source.s3_data_source = Some(S3DataSource::default());
            }
            None => {} // Reported above as the data setup's finding.
        }
        let mut classifiers = Vec::new();
        if self.free_of_pii {
            classifiers.push(ContentClassifier::FreeOfPersonallyIdentifiableInformation);
        }
        if self.free_of_adult {
            classifiers.push(ContentClassifier::FreeOfAdultContent);
        }
        if !classifiers.is_empty() {
            spec.input_config.data_attributes = Some(DataAttributes {
                content_classifiers: classifiers,
                extra: Default::default(),
            });
        }
        spec.output_config.s3_output_path = self.output_path.trim().to_owned();
        spec.output_config.kms_key_id = nonempty(&self.kms_key);

        // Worker UI and Lambdas.
        let config = self.label_config(&mut findings);
        let label_file = output.as_ref().and_then(|o| o.base().join(LABEL_FILE).ok());
        spec.label_category_config_s3_uri = label_file.as_ref().map(ObjectPath::uri);
        let task = &mut spec.human_task_config;
        task.workteam_arn = self.workteam_arn();
        let template = match task_type.human_task_ui_arn(&self.region) {
            Some(arn) => {
                task.ui_config.human_task_ui_arn = Some(arn);
                None
            }
            None => {
                let path = output.as_ref().and_then(|o| o.base().join(TEMPLATE_FILE).ok());
                task.ui_config.ui_template_s3_uri = path.as_ref().map(ObjectPath::uri);
                path.map(|p| (p, worker_template(task_type, &config, self.audit_active())))
            }
        };
        task.pre_human_task_lambda_arn =
            task_type.builtin_lambda_arn(LambdaRole::PreAnnotation, &self.region);
        task.annotation_consolidation_config = task_type
            .builtin_lambda_arn(LambdaRole::Consolidation, &self.region)
            .map(|arn| AnnotationConsolidationConfig {
                annotation_consolidation_lambda_arn: arn,
                extra: Default::default(),
            });
        if task.pre_human_task_lambda_arn.is_none() {
            findings.push(Finding::error(
                paths::TASK_TYPE,
                format!(
                    "Ground Truth publishes no built-in Lambdas for Region {}; choose a supported \
                     Region for the session.",
                    self.region
                ),
            ));
        }
        task.task_title = self.task_title.trim().to_owned();
        task.task_description = self.task_description.trim().to_owned();
        task.number_of_human_workers_per_data_object = whole_number(
            &self.workers_per_object,
            "HumanTaskConfig.NumberOfHumanWorkersPerDataObject",
            &mut findings,
        );
        task.max_concurrent_task_count = whole_number(
            &self.max_concurrent,
            "HumanTaskConfig.MaxConcurrentTaskCount",
            &mut findings,
        );
        for (input, path, slot) in [
            (
                &self.timeout,
                "HumanTaskConfig.TaskTimeLimitInSeconds",
                &mut task.task_time_limit_secs,
            ),
            (
                &self.lifetime,
                "HumanTaskConfig.TaskAvailabilityLifetimeInSeconds",
                &mut task.task_availability_lifetime_secs,
            ),
        ] {
            match input.secs() {
                None => {}
                Some(Ok(secs)) => *slot = Some(secs),
                Some(Err(message)) => findings.push(Finding::error(path, message)),
            }
        }
        spec.tags = self
            .tags
            .iter()
            .map(|(key, value)| Tag {
                key: key.clone(),
                value: value.clone(),
                extra: Default::default(),
            })
            .collect();

        // Ground Truth's rules.
        let summary = LabelSummary::from(&config);
        let generated_paths_broken = output.is_none();
        for finding in crate::job::validate(&spec, Some(&summary)) {
            let generated = matches!(
                finding.path.as_str(),
                "LabelCategoryConfigS3Uri"
                    | "HumanTaskConfig.UiConfig"
                    | "HumanTaskConfig.UiConfig.UiTemplateS3Uri"
            );
            if generated && generated_paths_broken {
                continue; // A consequence of a bad name or output path, reported there.
            }
            if finding.path == "InputConfig.DataSource" && self.data_mode == DataMode::Automated {
                continue; // Reported as the data setup's finding.
            }
            findings.push(finding);
        }
        // The access check gates create: a job that cannot read its input or write its output
        // would only fail later, on a worker's machine.
        match access {
            Some(report)
                if report.passed()
                    && self.access_target().as_ref()
                        == Some(&(report.manifest.clone(), report.output.clone())) => {}
            Some(report)
                if self.access_target().as_ref()
                    == Some(&(report.manifest.clone(), report.output.clone())) =>
            {
                if let Err(e) = &report.read {
                    findings.push(Finding::error(
                        paths::ACCESS,
                        format!("Cannot read the input manifest: {e}"),
                    ));
                }
                if let Err(e) = &report.write {
                    findings.push(Finding::error(
                        paths::ACCESS,
                        format!("Cannot write to the output location: {e}"),
                    ));
                }
            }
            _ => findings.push(Finding::error(
                paths::ACCESS,
                "Check that the input can be read and the output written.",
            )),
        }

        let findings = findings
            .into_iter()
            .map(|f| {
                // The offline-Region note concerns every bucket at once; it belongs with the notes.
                let field = if f.severity == Severity::Warning
                    && f.message.contains("cannot be checked offline")
                {
                    Field::Other
                } else {
                    field_of(&f.path)
                };
                (field, f)
            })
            .collect();
        let plan = CreatePlan {
            spec,
            label_file: label_file.map(|p| (p, config)),
            template,
            sample: sample_plan,
            created_by: created_by.to_owned(),
        };
        Built { plan, findings }
    }

    /// What the access check should read and probe now: (manifest, job output folder).
    pub fn access_target(&self) -> Option<(String, String)> {
        Some((self.chosen_manifest()?, self.job_output()?.base().uri()))
    }
}

/// The task type a stored request names (its PRE- Lambda, else its worker UI).
pub fn earlier_task_type(spec: &JobSpec) -> TaskType {
    let task = &spec.human_task_config;
    task.pre_human_task_lambda_arn
        .as_deref()
        .and_then(TaskType::from_pre_lambda_arn)
        .or_else(|| {
            let arn = task.ui_config.human_task_ui_arn.as_deref()?;
            TaskType::from_human_task_ui_name(arn.split_once(":human-task-ui/")?.1)
        })
        .unwrap_or(TaskType::Custom)
}

/// `arn:aws:sagemaker:<region>:<account>:workteam/private-crowd/<team>` → its parts.
pub fn parse_workteam_arn(arn: &str) -> Option<(String, String, String)> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, _, region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let team = resource.rsplit('/').next()?;
    Some((region.to_owned(), account.to_owned(), team.to_owned()))
}

/// `<earlier>-<suffix>`, shortened so it stays within the 63-character job-name limit.
fn chained_name(earlier: &str, suffix: &str) -> String {
    let room = 63usize.saturating_sub(suffix.len() + 1);
    let stem: String = earlier.chars().take(room).collect();
    format!("{}-{suffix}", stem.trim_end_matches('-'))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A Liquid worker task template for the types that use one (spec §9.5, §9.6): the matching
/// crowd element with the job's labels and instructions; audits pre-load the earlier boxes.
pub fn worker_template(task_type: TaskType, config: &LabelCategoryConfig, audit: bool) -> String {
    let labels = serde_json::to_string(&config.label_names()).unwrap_or_else(|_| "[]".into());
    let labels = html_escape(&labels);
    let short = config
        .instructions
        .as_ref()
        .and_then(|i| i.short_instruction.as_deref())
        .map(html_escape)
        .unwrap_or_default();
    let full = config
        .instructions
        .as_ref()
        .and_then(|i| i.full_instruction.as_deref())
        .map(html_escape)
        .unwrap_or_default();
    let source = if task_type.input_kind().manifest_key() == Some("source") {
        "{{ task.input.taskObject }}"
    } else {
        "{{ task.input.taskObject | grant_read_access }}"
    };
    let audited = config.audit_label_attribute_name.as_deref().unwrap_or("");
    let (element, extra) = match task_type {
        TaskType::BoundingBox | TaskType::BoundingBoxAdjustment => {
            let initial = if audit && !audited.is_empty() {
                format!(
                    "\n    initial-value=\"[{{% for box in task.input.manifestLine.{audited}.annotations %}}{{% capture class_id %}}{{{{ box.class_id }}}}{{% endcapture %}}{{% assign label = task.input.manifestLine.{audited}-metadata.class-map[class_id] %}}{{ label: {{{{ label | to_json }}}}, left: {{{{ box.left }}}}, top: {{{{ box.top }}}}, width: {{{{ box.width }}}}, height: {{{{ box.height }}}} }},{{% endfor %}}]\""
                )
            } else {
                String::new()
            };
            ("crowd-bounding-box", format!("\n    src=\"{source}\"{initial}"))
        }
        TaskType::SemanticSegmentation | TaskType::SemanticSegmentationAdjustment => {
            ("crowd-semantic-segmentation", format!("\n    src=\"{source}\""))
        }
        TaskType::ImageClassification
        | TaskType::BoundingBoxVerification
        | TaskType::SemanticSegmentationVerification => {
            ("crowd-image-classifier", format!("\n    src=\"{source}\""))
        }
        TaskType::ImageClassificationMultiLabel => {
            ("crowd-image-classifier-multi-select", format!("\n    src=\"{source}\""))
        }
        TaskType::TextClassificationMultiLabel => {
            ("crowd-classifier-multi-select", format!("\n    header=\"{short}\""))
        }
        _ => ("crowd-classifier", format!("\n    header=\"{short}\"")),
    };
    let text_body = if task_type.input_kind().manifest_key() == Some("source") {
        format!("\n  <classification-target>{source}</classification-target>")
    } else {
        String::new()
    };
    format!(
        "<script src=\"https://assets.crowd.aws/crowd-html-elements.js\"></script>\n\
         <crowd-form>\n  <{element}\n    name=\"annotatedResult\"\n    categories=\"{labels}\"{extra}\n  >{text_body}\n    \
         <full-instructions header=\"Instructions\">{full}</full-instructions>\n    \
         <short-instructions>{short}</short-instructions>\n  </{element}>\n</crowd-form>\n"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn identity() -> Identity {
        Identity::local("ann", "/tmp/ws")
    }

    #[test]
    fn paths_map_to_fields_and_steps() {
        assert_eq!(field_of("LabelingJobName"), Field::JobName);
        assert_eq!(field_of("Tags[3].Value"), Field::TagValue(3));
        assert_eq!(field_of("Tags[12].Key"), Field::TagKey(12));
        assert_eq!(field_of("LabelCategoryConfig.labels[1].label"), Field::Label(1));
        assert_eq!(
            field_of("LabelCategoryConfig.labels[1].categoryAttributes"),
            Field::LabelAttributes
        );
        assert_eq!(field_of("LabelCategoryConfig.labels"), Field::Labels);
        assert_eq!(
            field_of("InputConfig.DataSource.S3DataSource.ManifestS3Uri"),
            Field::InputManifest
        );
        assert_eq!(
            field_of("InputConfig.DataAttributes.ContentClassifiers"),
            Field::ContentClassifiers
        );
        assert_eq!(field_of("HumanTaskConfig.UiConfig.UiTemplateS3Uri"), Field::TaskType);
        assert_eq!(field_of("HumanTaskConfig.TaskTimeLimitInSeconds").step(), Step::Workers);
        assert_eq!(field_of(paths::AUDIT).step(), Step::ExistingLabels);
        assert_eq!(field_of("Something.Else"), Field::Other);
    }

    #[test]
    fn durations_parse_and_print() {
        let input = DurationInput { value: "2".into(), unit: TimeUnit::Hours };
        assert_eq!(input.secs(), Some(Ok(7200)));
        assert!(
            DurationInput { value: "x".into(), unit: TimeUnit::Hours }.secs().unwrap().is_err()
        );
        assert_eq!(DurationInput::empty(TimeUnit::Hours).secs(), None);
        assert_eq!(
            DurationInput::from_secs(259_200),
            DurationInput { value: "3".into(), unit: TimeUnit::Days }
        );
        assert_eq!(human_duration(300), "5 minutes");
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(human_duration(45), "45 seconds");
    }

    #[test]
    fn effective_type_follows_existing_labels() {
        let mut draft = JobDraft::new(&identity());
        draft.task_type = TaskType::BoundingBox;
        assert_eq!(draft.effective_task_type(), TaskType::BoundingBox);
        draft.audit.enabled = true;
        assert_eq!(draft.effective_task_type(), TaskType::BoundingBoxAdjustment);
        draft.audit.mode = AuditMode::Verification;
        assert_eq!(draft.effective_task_type(), TaskType::BoundingBoxVerification);
        draft.task_type = TaskType::VideoObjectTracking;
        assert_eq!(draft.effective_task_type(), TaskType::VideoObjectTrackingAdjustment);
        draft.task_type = TaskType::ImageClassification;
        assert_eq!(draft.effective_task_type(), TaskType::ImageClassification);
    }

    #[test]
    fn numbers_that_do_not_parse_are_errors_at_their_field() {
        let mut draft = JobDraft::new(&identity());
        draft.workers_per_object = "three".into();
        draft.timeout = DurationInput { value: "9".into(), unit: TimeUnit::Hours };
        let built = draft.build("ann", None);
        assert!(
            built.at(Field::WorkersPerObject).any(|f| f.message.contains("not a whole number"))
        );
        assert!(
            built.at(Field::Timeout).any(|f| f.is_error() && f.message.contains("at most 28800"))
        );
        assert!(!built.is_valid());
    }

    #[test]
    fn attributes_apply_to_labels_or_globally() {
        let mut draft = JobDraft::new(&identity());
        draft.task_type = TaskType::VideoObjectDetection;
        draft.labels = vec!["car".into(), "bus".into()];
        draft.label_attributes = vec![
            AttributeDraft {
                name: "occluded".into(),
                values: "no, yes".into(),
                ..AttributeDraft::new()
            },
            AttributeDraft {
                name: "seats".into(),
                kind: AttributeKind::Number,
                minimum: "1".into(),
                maximum: "80".into(),
                applies_to: "bus".into(),
                ..AttributeDraft::new()
            },
        ];
        let mut findings = Vec::new();
        let config = draft.label_config(&mut findings);
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(config.document_version.as_deref(), Some(DOCUMENT_VERSION_2020));
        assert_eq!(config.category_global_attributes.as_ref().unwrap()[0].name, "occluded");
        assert_eq!(config.labels[1].category_attributes.as_ref().unwrap()[0].maximum, Some(80.0));
        assert_eq!(config.annotation_type, Some(AnnotationType::Tool("BoundingBox".into())));
        // Round trip through the earlier-config reader.
        let mut again = JobDraft::new(&identity());
        again.adopt_earlier_config(&config);
        assert_eq!(again.labels, draft.labels);
        assert_eq!(again.label_attributes.len(), 2);
        assert_eq!(again.label_attributes[1].applies_to, "bus");
    }

    #[test]
    fn chained_names_stay_within_the_limit() {
        assert_eq!(chained_name("street-boxes", "verify"), "street-boxes-verify");
        let long = "a".repeat(63);
        assert_eq!(chained_name(&long, "adjust").len(), 63);
    }

    #[test]
    fn workteam_arns_round_trip() {
        let mut draft = JobDraft::new(&identity());
        draft.team = "demo-team".into();
        let arn = draft.workteam_arn();
        assert_eq!(
            arn,
            "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/demo-team"
        );
        assert_eq!(
            parse_workteam_arn(&arn),
            Some(("us-east-1".into(), "111122223333".into(), "demo-team".into()))
        );
    }
}
