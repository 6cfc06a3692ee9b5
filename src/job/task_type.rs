//! The closed list of Ground Truth task types and everything Ground Truth decides per type
//! (spec §10.1, §1.2–§1.4, §2.4, §3.5, §4.4, §7.1, §8.3–§8.7; seed "Create a Labeling Job
//! (Console)"): output `type` strings, the `PRE-`/`ACS-` Lambdas and worker UIs, defaults and
//! limits, and how a `CreateLabelingJob` request names its type.
//!
//! Ground Truth has no "task type" field: a request names its type through the built-in
//! pre-annotation Lambda (`PRE-<Name>`), so adjustment and verification variants are separate
//! types exactly where Ground Truth has separate Lambdas for them. 3D and video-frame
//! verification uses the `Adjustment…` Lambdas with read-only labels (spec §4.4), so it is an
//! [`AuditMode`] of the adjustment type, not a type of its own.
//!
//! Must not depend on anything above `job`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::aws;

/// Every task type Ground Truth offers, built-in and custom (spec §10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TaskType {
    /// Image classification, one label per image (`PRE-ImageMultiClass`).
    ImageClassification,
    /// Image classification, several labels per image (`PRE-ImageMultiClassMultiLabel`).
    ImageClassificationMultiLabel,
    /// Image bounding boxes (`PRE-BoundingBox`).
    BoundingBox,
    /// Adjusting earlier bounding boxes (`PRE-AdjustmentBoundingBox`).
    BoundingBoxAdjustment,
    /// Verifying earlier bounding boxes: label verification (`PRE-VerificationBoundingBox`).
    BoundingBoxVerification,
    /// Image semantic segmentation (`PRE-SemanticSegmentation`).
    SemanticSegmentation,
    /// Adjusting earlier segmentation masks (`PRE-AdjustmentSemanticSegmentation`).
    SemanticSegmentationAdjustment,
    /// Verifying earlier segmentation masks: label verification
    /// (`PRE-VerificationSemanticSegmentation`).
    SemanticSegmentationVerification,
    /// Text classification, one label per text (`PRE-TextMultiClass`).
    TextClassification,
    /// Text classification, several labels per text (`PRE-TextMultiClassMultiLabel`).
    TextClassificationMultiLabel,
    /// Named entity recognition: labelled text spans (`PRE-NamedEntityRecognition`).
    NamedEntityRecognition,
    /// Video clip classification (`PRE-VideoMultiClass`).
    VideoClassification,
    /// Video frame object detection (`PRE-VideoObjectDetection`).
    VideoObjectDetection,
    /// Adjusting or verifying video frame object detection (`PRE-AdjustmentVideoObjectDetection`).
    VideoObjectDetectionAdjustment,
    /// Video frame object tracking (`PRE-VideoObjectTracking`).
    VideoObjectTracking,
    /// Adjusting or verifying video frame object tracking (`PRE-AdjustmentVideoObjectTracking`).
    VideoObjectTrackingAdjustment,
    /// 3D point cloud object detection: cuboids in one frame (`PRE-3DPointCloudObjectDetection`).
    PointCloudObjectDetection,
    /// Adjusting or verifying 3D object detection (`PRE-Adjustment3DPointCloudObjectDetection`).
    PointCloudObjectDetectionAdjustment,
    /// 3D point cloud object tracking across a sequence (`PRE-3DPointCloudObjectTracking`).
    PointCloudObjectTracking,
    /// Adjusting or verifying 3D object tracking (`PRE-Adjustment3DPointCloudObjectTracking`).
    PointCloudObjectTrackingAdjustment,
    /// 3D-2D linking: tracking with cuboids and camera boxes sharing an object id. Same Lambdas
    /// and UI as 3D tracking; told apart by the label file's `annotationType` (spec §3.5).
    PointCloud3d2dLinking,
    /// Adjusting or verifying 3D-2D linking.
    PointCloud3d2dLinkingAdjustment,
    /// 3D point cloud semantic segmentation (`PRE-3DPointCloudSemanticSegmentation`).
    PointCloudSemanticSegmentation,
    /// Adjusting or verifying 3D semantic segmentation
    /// (`PRE-Adjustment3DPointCloudSemanticSegmentation`).
    PointCloudSemanticSegmentationAdjustment,
    /// A custom workflow: your template and Lambdas, or `PRE-PassThrough` (spec §9).
    Custom,
}

/// The console's "Task category" dropdown (seed, step "Task type").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TaskCategory {
    /// Image tasks.
    Image,
    /// Text tasks.
    Text,
    /// Video clip and video frame tasks.
    Video,
    /// 3D point cloud tasks.
    PointCloud,
    /// Custom workflows.
    Custom,
}

impl TaskCategory {
    /// Every category, in the console's order.
    pub const ALL: [Self; 5] =
        [Self::Image, Self::Text, Self::Video, Self::PointCloud, Self::Custom];

    /// The console's name for the category.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Image => "Image",
            Self::Text => "Text",
            Self::Video => "Video",
            Self::PointCloud => "3D point cloud",
            Self::Custom => "Custom",
        }
    }
}

/// What one input-manifest line carries for a task type (spec §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InputKind {
    /// `source-ref`: an image (`.jpg`, `.jpeg`, `.png`).
    ImageRef,
    /// `source`: the text itself.
    Text,
    /// `source-ref`: a video clip (`.mp4`, `.ogg`, `.webm`).
    VideoClipRef,
    /// `source-ref`: a video frame sequence file (spec §2.2).
    VideoFrameSequence,
    /// `source-ref` + `source-ref-metadata`: one point-cloud frame (spec §3.2).
    PointCloudFrame,
    /// `source-ref`: a point-cloud sequence file (spec §3.3).
    PointCloudSequence,
    /// `source-ref` or `source`: whatever a custom template understands.
    Any,
}

impl InputKind {
    /// The manifest key the data lives under, or `None` when either is allowed.
    pub fn manifest_key(self) -> Option<&'static str> {
        match self {
            Self::Text => Some("source"),
            Self::Any => None,
            Self::ImageRef
            | Self::VideoClipRef
            | Self::VideoFrameSequence
            | Self::PointCloudFrame
            | Self::PointCloudSequence => Some("source-ref"),
        }
    }
}

/// Whether a task type's `LabelAttributeName` must or must not end in `-ref` (spec §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefSuffix {
    /// The label is a file (mask, `SeqLabel.json`): the name must end in `-ref`.
    Required,
    /// The label is inline: the name must not end in `-ref`.
    Forbidden,
}

/// How a job treats labels from an earlier job (spec §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditMode {
    /// Workers may change earlier labels and add new ones.
    Adjustment,
    /// Earlier labels are read-only; workers judge them (and fill editable attributes).
    Verification,
}

/// Which of a pair of built-in Lambdas a function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LambdaRole {
    /// `PRE-<Name>`: pre-annotation.
    PreAnnotation,
    /// `ACS-<Name>`: annotation consolidation.
    Consolidation,
}

impl LambdaRole {
    fn prefix(self) -> &'static str {
        match self {
            Self::PreAnnotation => "PRE-",
            Self::Consolidation => "ACS-",
        }
    }
}

/// Label-count limits of a task type (spec §1.4, §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelLimits {
    /// The fewest labels a job may have.
    pub min: usize,
    /// The most labels the API accepts, `None` for no documented limit.
    pub api_max: Option<usize>,
    /// The most labels the console accepts, where that is fewer than the API.
    pub console_max: Option<usize>,
    /// Above this many labels a job still works but some Ground Truth part documents a lower
    /// limit (bounding boxes: the `crowd-bounding-box` element says 10).
    pub warn_above: Option<usize>,
    /// The longest label name, in characters.
    pub max_name_chars: usize,
}

/// One minute, in seconds.
const MINUTE_SECS: u32 = 60;

struct Info {
    display: &'static str,
    output_type: Option<&'static str>,
    lambda: Option<&'static str>,
    ui: Option<&'static str>,
    category: TaskCategory,
    input: InputKind,
    ref_suffix: RefSuffix,
    labels: LabelLimits,
    default_timeout_secs: u32,
    default_workers: u32,
    algorithm: Option<&'static str>,
}

const fn limits(min: usize, api_max: Option<usize>, console_max: Option<usize>) -> LabelLimits {
    LabelLimits { min, api_max, console_max, warn_above: None, max_name_chars: 256 }
}

/// 3D and video-frame label files: 1–30 labels of at most 16 characters (spec §4.3).
const FRAME_LABELS: LabelLimits = LabelLimits {
    min: 1,
    api_max: Some(30),
    console_max: None,
    warn_above: None,
    max_name_chars: 16,
};

const BOX_LABELS: LabelLimits = LabelLimits {
    min: 1,
    api_max: Some(50),
    console_max: None,
    warn_above: Some(10),
    max_name_chars: 256,
};

const FIVE_MINUTES: u32 = 5 * MINUTE_SECS;
const ONE_HOUR: u32 = 60 * MINUTE_SECS;
const THREE_DAYS: u32 = 3 * 24 * ONE_HOUR;

impl TaskType {
    /// Every task type, grouped by console category.
    pub const ALL: [Self; 25] = [
        Self::ImageClassification,
        Self::ImageClassificationMultiLabel,
        Self::BoundingBox,
        Self::BoundingBoxAdjustment,
        Self::BoundingBoxVerification,
        Self::SemanticSegmentation,
        Self::SemanticSegmentationAdjustment,
        Self::SemanticSegmentationVerification,
        Self::TextClassification,
        Self::TextClassificationMultiLabel,
        Self::NamedEntityRecognition,
        Self::VideoClassification,
        Self::VideoObjectDetection,
        Self::VideoObjectDetectionAdjustment,
        Self::VideoObjectTracking,
        Self::VideoObjectTrackingAdjustment,
        Self::PointCloudObjectDetection,
        Self::PointCloudObjectDetectionAdjustment,
        Self::PointCloudObjectTracking,
        Self::PointCloudObjectTrackingAdjustment,
        Self::PointCloud3d2dLinking,
        Self::PointCloud3d2dLinkingAdjustment,
        Self::PointCloudSemanticSegmentation,
        Self::PointCloudSemanticSegmentationAdjustment,
        Self::Custom,
    ];

    #[allow(clippy::too_many_lines)]
    fn info(self) -> Info {
        use InputKind as In;
        use RefSuffix::{Forbidden, Required};
        use TaskCategory as Cat;
        let image = |display, output, lambda, labels, timeout, workers, algorithm| Info {
            display,
            output_type: Some(output),
            lambda: Some(lambda),
            ui: None,
            category: Cat::Image,
            input: In::ImageRef,
            ref_suffix: Forbidden,
            labels,
            default_timeout_secs: timeout,
            default_workers: workers,
            algorithm,
        };
        let text = |display, output, lambda, ui, labels, timeout, algorithm| Info {
            display,
            output_type: Some(output),
            lambda: Some(lambda),
            ui,
            category: Cat::Text,
            input: In::Text,
            ref_suffix: Forbidden,
            labels,
            default_timeout_secs: timeout,
            default_workers: 3,
            algorithm,
        };
        let frames = |display, output, lambda, ui, category, input, ref_suffix, timeout| Info {
            display,
            output_type: Some(output),
            lambda: Some(lambda),
            ui: Some(ui),
            category,
            input,
            ref_suffix,
            labels: FRAME_LABELS,
            default_timeout_secs: timeout,
            default_workers: 1,
            algorithm: None,
        };
        let seg = |display, lambda, ref_suffix| Info {
            ref_suffix,
            ..image(
                display,
                "groundtruth/semantic-segmentation",
                lambda,
                limits(1, None, Some(10)),
                ONE_HOUR,
                3,
                Some("semantic-segmentation"),
            )
        };
        let verification = |display, lambda| {
            image(
                display,
                "groundtruth/label-verification",
                lambda,
                limits(1, None, Some(30)),
                FIVE_MINUTES,
                3,
                None,
            )
        };
        // Video frame jobs default to 60 minutes: the console page gives 3 days only for 3D
        // (seed, step "Task timeout"); spec §8.4's "(and video frame)" is the note-taker's.
        let video = |display, output, lambda, ui| {
            frames(
                display,
                output,
                lambda,
                ui,
                Cat::Video,
                In::VideoFrameSequence,
                Required,
                ONE_HOUR,
            )
        };
        let cloud = |display, output, lambda, ui, input, ref_suffix| {
            frames(display, output, lambda, ui, Cat::PointCloud, input, ref_suffix, THREE_DAYS)
        };
        const OD: &str = "groundtruth/point_cloud_object_detection";
        const OT: &str = "groundtruth/point_cloud_object_tracking";
        const SS: &str = "groundtruth/point_cloud_single_frame_semantic_segmentation";
        match self {
            Self::ImageClassification => image(
                "Image classification (single label)",
                "groundtruth/image-classification",
                "ImageMultiClass",
                limits(2, None, Some(30)),
                FIVE_MINUTES,
                3,
                Some("image-classification"),
            ),
            Self::ImageClassificationMultiLabel => image(
                "Image classification (multi-label)",
                "groundtruth/image-classification-multilabel",
                "ImageMultiClassMultiLabel",
                limits(2, Some(50), None),
                FIVE_MINUTES,
                3,
                None,
            ),
            Self::BoundingBox => image(
                "Bounding box",
                "groundtruth/object-detection",
                "BoundingBox",
                BOX_LABELS,
                ONE_HOUR,
                5,
                Some("object-detection"),
            ),
            Self::BoundingBoxAdjustment => image(
                "Bounding box adjustment",
                "groundtruth/object-detection",
                "AdjustmentBoundingBox",
                BOX_LABELS,
                ONE_HOUR,
                5,
                None,
            ),
            Self::BoundingBoxVerification => {
                verification("Label verification (bounding box)", "VerificationBoundingBox")
            }
            Self::SemanticSegmentation => {
                seg("Semantic segmentation", "SemanticSegmentation", Required)
            }
            Self::SemanticSegmentationAdjustment => Info {
                algorithm: None,
                ..seg(
                    "Semantic segmentation adjustment",
                    "AdjustmentSemanticSegmentation",
                    Required,
                )
            },
            Self::SemanticSegmentationVerification => verification(
                "Label verification (semantic segmentation)",
                "VerificationSemanticSegmentation",
            ),
            Self::TextClassification => text(
                "Text classification (single label)",
                "groundtruth/text-classification",
                "TextMultiClass",
                None,
                limits(2, None, Some(30)),
                FIVE_MINUTES,
                Some("text-classification"),
            ),
            Self::TextClassificationMultiLabel => text(
                "Text classification (multi-label)",
                "groundtruth/text-classification-multilabel",
                "TextMultiClassMultiLabel",
                None,
                limits(2, Some(50), None),
                FIVE_MINUTES,
                None,
            ),
            Self::NamedEntityRecognition => text(
                "Named entity recognition",
                "groundtruth/text-span",
                "NamedEntityRecognition",
                Some("NamedEntityRecognition"),
                limits(1, None, Some(30)),
                ONE_HOUR,
                None,
            ),
            Self::VideoClassification => Info {
                display: "Video clip classification",
                // Undocumented (spec §5.6, §11.1 item 2): key on the label shape instead.
                output_type: None,
                lambda: Some("VideoMultiClass"),
                ui: None,
                category: Cat::Video,
                input: In::VideoClipRef,
                ref_suffix: Forbidden,
                labels: limits(1, Some(30), None),
                default_timeout_secs: ONE_HOUR,
                default_workers: 3,
                algorithm: None,
            },
            Self::VideoObjectDetection => video(
                "Video frame object detection",
                "groundtruth/video-object-detection",
                "VideoObjectDetection",
                "VideoObjectDetection",
            ),
            Self::VideoObjectDetectionAdjustment => video(
                "Video frame object detection adjustment",
                "groundtruth/video-object-detection",
                "AdjustmentVideoObjectDetection",
                "VideoObjectDetection",
            ),
            Self::VideoObjectTracking => video(
                "Video frame object tracking",
                "groundtruth/video-object-tracking",
                "VideoObjectTracking",
                "VideoObjectTracking",
            ),
            Self::VideoObjectTrackingAdjustment => video(
                "Video frame object tracking adjustment",
                "groundtruth/video-object-tracking",
                "AdjustmentVideoObjectTracking",
                "VideoObjectTracking",
            ),
            Self::PointCloudObjectDetection => cloud(
                "3D point cloud object detection",
                OD,
                "3DPointCloudObjectDetection",
                "PointCloudObjectDetection",
                In::PointCloudFrame,
                Forbidden,
            ),
            Self::PointCloudObjectDetectionAdjustment => cloud(
                "3D point cloud object detection adjustment",
                OD,
                "Adjustment3DPointCloudObjectDetection",
                "PointCloudObjectDetection",
                In::PointCloudFrame,
                Forbidden,
            ),
            Self::PointCloudObjectTracking => cloud(
                "3D point cloud object tracking",
                OT,
                "3DPointCloudObjectTracking",
                "PointCloudObjectTracking",
                In::PointCloudSequence,
                Required,
            ),
            Self::PointCloudObjectTrackingAdjustment => cloud(
                "3D point cloud object tracking adjustment",
                OT,
                "Adjustment3DPointCloudObjectTracking",
                "PointCloudObjectTracking",
                In::PointCloudSequence,
                Required,
            ),
            Self::PointCloud3d2dLinking => cloud(
                "3D-2D object tracking (linking)",
                OT,
                "3DPointCloudObjectTracking",
                "PointCloudObjectTracking",
                In::PointCloudSequence,
                Required,
            ),
            Self::PointCloud3d2dLinkingAdjustment => cloud(
                "3D-2D object tracking (linking) adjustment",
                OT,
                "Adjustment3DPointCloudObjectTracking",
                "PointCloudObjectTracking",
                In::PointCloudSequence,
                Required,
            ),
            Self::PointCloudSemanticSegmentation => cloud(
                "3D point cloud semantic segmentation",
                SS,
                "3DPointCloudSemanticSegmentation",
                "PointCloudSemanticSegmentation",
                In::PointCloudFrame,
                Required,
            ),
            Self::PointCloudSemanticSegmentationAdjustment => cloud(
                "3D point cloud semantic segmentation adjustment",
                SS,
                "Adjustment3DPointCloudSemanticSegmentation",
                "PointCloudSemanticSegmentation",
                In::PointCloudFrame,
                Required,
            ),
            Self::Custom => Info {
                display: "Custom",
                output_type: Some("groundTruth/custom"),
                lambda: Some("PassThrough"),
                ui: None,
                category: Cat::Custom,
                input: In::Any,
                ref_suffix: Forbidden,
                labels: limits(0, None, None),
                default_timeout_secs: ONE_HOUR,
                default_workers: 3,
                algorithm: None,
            },
        }
    }

    /// A short human name, as the console lists it.
    pub fn display_name(self) -> &'static str {
        self.info().display
    }

    /// The console dropdown category.
    pub fn category(self) -> TaskCategory {
        self.info().category
    }

    /// The task types offered under `category`, in order. Adjustment types are not listed: the
    /// console reaches them through "Display existing labels" on their base type; 3D-2D linking
    /// is API-only and shows as object tracking (spec §3.5), but is listed so a wizard can offer it.
    pub fn console_choices(category: TaskCategory) -> Vec<Self> {
        Self::ALL.into_iter().filter(|t| t.category() == category && !t.is_adjustment()).collect()
    }

    /// The `type` string Ground Truth writes into `<label>-metadata` (spec §10.1, §5), or `None`
    /// for video clip classification, whose string is undocumented (spec §5.6).
    pub fn output_type(self) -> Option<&'static str> {
        self.info().output_type
    }

    /// What a manifest line carries (spec §1.2).
    pub fn input_kind(self) -> InputKind {
        self.info().input
    }

    /// The `<Name>` of this type's built-in `PRE-<Name>` / `ACS-<Name>` Lambdas (spec §8.6).
    /// Custom jobs get `PassThrough`, the built-in that passes data through unchanged.
    pub fn lambda_name(self) -> &'static str {
        self.info().lambda.unwrap_or("PassThrough")
    }

    /// The built-in function name for `role`: `PRE-BoundingBox`, `ACS-BoundingBox`, ….
    pub fn builtin_function_name(self, role: LambdaRole) -> String {
        format!("{}{}", role.prefix(), self.lambda_name())
    }

    /// The built-in Lambda ARN for `role` in `region`, or `None` when spec §8.6 lists no account
    /// for that Region.
    pub fn builtin_lambda_arn(self, role: LambdaRole, region: &str) -> Option<String> {
        let account = aws::builtin_lambda_account(region)?;
        Some(format!(
            "arn:aws:lambda:{region}:{account}:function:{}",
            self.builtin_function_name(role)
        ))
    }

    /// The task type named by a built-in function name (`PRE-<Name>` or `ACS-<Name>`), with the
    /// role. `PassThrough` gives [`TaskType::Custom`]. 3D tracking Lambdas give
    /// [`TaskType::PointCloudObjectTracking`] (or its adjustment): 3D-2D linking shares them.
    pub fn from_builtin_function_name(function: &str) -> Option<(Self, LambdaRole)> {
        let (role, name) = if let Some(name) = function.strip_prefix("PRE-") {
            (LambdaRole::PreAnnotation, name)
        } else {
            (LambdaRole::Consolidation, function.strip_prefix("ACS-")?)
        };
        Self::ALL
            .into_iter()
            .filter(|t| !t.is_3d_2d_linking())
            .find(|t| t.lambda_name() == name)
            .map(|t| (t, role))
    }

    /// The task type a `PreHumanTaskLambdaArn` names, whatever its account (the caller checks the
    /// account against spec §8.6). `None` for a malformed ARN or a function that is not a
    /// built-in `PRE-` Lambda (a custom workflow's own function).
    pub fn from_pre_lambda_arn(arn: &str) -> Option<Self> {
        let (_, function) = aws::check_lambda_arn(arn).ok()?;
        match Self::from_builtin_function_name(function)? {
            (task_type, LambdaRole::PreAnnotation) => Some(task_type),
            (_, LambdaRole::Consolidation) => None,
        }
    }

    /// The `<Name>` of the built-in worker UI `human-task-ui/<Name>`, for the types that use one
    /// (NER, video frame, 3D; spec §8.5). All others use a `UiTemplateS3Uri`.
    pub fn human_task_ui_name(self) -> Option<&'static str> {
        self.info().ui
    }

    /// The built-in worker UI ARN in `region` (spec §8.5), for the types that use one.
    pub fn human_task_ui_arn(self, region: &str) -> Option<String> {
        let name = self.human_task_ui_name()?;
        Some(format!(
            "arn:aws:sagemaker:{region}:{}:human-task-ui/{name}",
            aws::GROUND_TRUTH_UI_ACCOUNT
        ))
    }

    /// The base (non-adjustment) type using the built-in worker UI `name`.
    pub fn from_human_task_ui_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| {
            !t.is_adjustment() && !t.is_3d_2d_linking() && t.human_task_ui_name() == Some(name)
        })
    }

    /// The `LabelAttributeName` suffix rule (spec §8.3).
    pub fn ref_suffix(self) -> RefSuffix {
        self.info().ref_suffix
    }

    /// Label-count and label-name limits (spec §1.4, §4.3).
    pub fn label_limits(self) -> LabelLimits {
        self.info().labels
    }

    /// The console's default `TaskTimeLimitInSeconds`: 5 minutes for image and text
    /// classification and label verification, 3 days for 3D, 60 minutes for everything else
    /// (seed, step "Task timeout").
    pub fn default_task_time_limit_secs(self) -> u32 {
        self.info().default_timeout_secs
    }

    /// The largest `TaskTimeLimitInSeconds`: 8 hours for image, text, video clip and custom jobs;
    /// for 3D and video frame jobs 7 days, the safe one of the two documented caps (spec §8.4).
    pub fn max_task_time_limit_secs(self) -> u32 {
        if self.is_video_frame() || self.is_point_cloud() {
            7 * 24 * ONE_HOUR
        } else {
            8 * ONE_HOUR
        }
    }

    /// The console's default `NumberOfHumanWorkersPerDataObject` (spec §7.1).
    pub fn default_workers_per_object(self) -> u32 {
        self.info().default_workers
    }

    /// The most workers per data object: 9, or 1 for video frame and 3D jobs (spec §7.1).
    pub fn max_workers_per_object(self) -> u32 {
        if self.is_video_frame() || self.is_point_cloud() { 1 } else { 9 }
    }

    /// Whether labels may carry attributes (`categoryAttributes`, `categoryGlobalAttributes`):
    /// video frame and 3D types except 3D semantic segmentation (spec §4.3, seed).
    pub fn label_attributes_allowed(self) -> bool {
        (self.is_video_frame() || self.is_point_cloud()) && !self.is_point_cloud_segmentation()
    }

    /// Whether the label file may define `frameAttributes`: all video frame and 3D types (§4.3).
    pub fn frame_attributes_allowed(self) -> bool {
        self.is_video_frame() || self.is_point_cloud()
    }

    /// Whether the label file's `annotationType` means anything: video frame types choose their
    /// tool with it, 3D-2D linking is defined by it (spec §2.4, §3.5).
    pub fn annotation_type_allowed(self) -> bool {
        self.is_video_frame() || self.is_3d_2d_linking()
    }

    /// Whether this type takes part in an audit workflow (adjustment or verification of earlier
    /// labels): bounding box, image semantic segmentation, video frame and 3D (spec §4.4, seed).
    pub fn supports_audit(self) -> bool {
        matches!(
            self,
            Self::BoundingBox
                | Self::BoundingBoxAdjustment
                | Self::BoundingBoxVerification
                | Self::SemanticSegmentation
                | Self::SemanticSegmentationAdjustment
                | Self::SemanticSegmentationVerification
        ) || self.is_video_frame()
            || self.is_point_cloud()
    }

    /// Whether this is an adjustment type (it uses an `Adjustment…` Lambda).
    pub fn is_adjustment(self) -> bool {
        self.lambda_name().starts_with("Adjustment")
    }

    /// Whether this is an image label-verification type (output `groundtruth/label-verification`).
    pub fn is_verification(self) -> bool {
        matches!(self, Self::BoundingBoxVerification | Self::SemanticSegmentationVerification)
    }

    /// The adjustment type for this base type, where Ground Truth has one.
    pub fn adjustment(self) -> Option<Self> {
        Some(match self {
            Self::BoundingBox => Self::BoundingBoxAdjustment,
            Self::SemanticSegmentation => Self::SemanticSegmentationAdjustment,
            Self::VideoObjectDetection => Self::VideoObjectDetectionAdjustment,
            Self::VideoObjectTracking => Self::VideoObjectTrackingAdjustment,
            Self::PointCloudObjectDetection => Self::PointCloudObjectDetectionAdjustment,
            Self::PointCloudObjectTracking => Self::PointCloudObjectTrackingAdjustment,
            Self::PointCloud3d2dLinking => Self::PointCloud3d2dLinkingAdjustment,
            Self::PointCloudSemanticSegmentation => Self::PointCloudSemanticSegmentationAdjustment,
            _ => return None,
        })
    }

    /// The image label-verification type for this base type, where Ground Truth has one. Video
    /// frame and 3D jobs verify through their adjustment type with read-only labels (spec §4.4).
    pub fn verification(self) -> Option<Self> {
        match self {
            Self::BoundingBox => Some(Self::BoundingBoxVerification),
            Self::SemanticSegmentation => Some(Self::SemanticSegmentationVerification),
            _ => None,
        }
    }

    /// The base type of an adjustment or verification type; itself otherwise.
    pub fn base(self) -> Self {
        Self::ALL
            .into_iter()
            .find(|base| base.adjustment() == Some(self) || base.verification() == Some(self))
            .unwrap_or(self)
    }

    /// The 3D-2D linking counterpart of a 3D tracking type (they share Lambdas and UI, spec §3.5);
    /// every other type is returned unchanged.
    pub fn with_3d_2d_linking(self) -> Self {
        match self {
            Self::PointCloudObjectTracking => Self::PointCloud3d2dLinking,
            Self::PointCloudObjectTrackingAdjustment => Self::PointCloud3d2dLinkingAdjustment,
            other => other,
        }
    }

    /// Whether the type is one of the 3D-2D linking types.
    pub fn is_3d_2d_linking(self) -> bool {
        matches!(self, Self::PointCloud3d2dLinking | Self::PointCloud3d2dLinkingAdjustment)
    }

    /// Whether the type labels video frame sequences.
    pub fn is_video_frame(self) -> bool {
        self.input_kind() == InputKind::VideoFrameSequence
    }

    /// Whether the type labels 3D point clouds.
    pub fn is_point_cloud(self) -> bool {
        self.category() == TaskCategory::PointCloud
    }

    fn is_point_cloud_segmentation(self) -> bool {
        matches!(
            self,
            Self::PointCloudSemanticSegmentation | Self::PointCloudSemanticSegmentationAdjustment
        )
    }

    /// Whether Mechanical Turk (the public work team) may do this type: not video frame, not 3D
    /// (spec §2.4, §3.5, seed).
    pub fn public_workforce_allowed(self) -> bool {
        !(self.is_video_frame() || self.is_point_cloud())
    }

    /// The automated-labeling algorithm (`labeling-job-algorithm-specification/<name>`) for the
    /// types that support active learning (spec §8.2, §8.7).
    pub fn active_learning_algorithm(self) -> Option<&'static str> {
        self.info().algorithm
    }

    /// Whether this is one of Ground Truth's built-in types (everything but [`TaskType::Custom`]).
    pub fn is_builtin(self) -> bool {
        self != Self::Custom
    }
}

impl fmt::Display for TaskType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn pre_lambda_arn_round_trips_for_every_region_and_type() {
        for (region, _) in aws::BUILTIN_LAMBDA_ACCOUNTS {
            for task_type in TaskType::ALL {
                let arn = task_type.builtin_lambda_arn(LambdaRole::PreAnnotation, region).unwrap();
                let back = TaskType::from_pre_lambda_arn(&arn).unwrap();
                // 3D-2D linking shares the tracking Lambdas (spec §3.5).
                let expected = match task_type {
                    TaskType::PointCloud3d2dLinking => TaskType::PointCloudObjectTracking,
                    TaskType::PointCloud3d2dLinkingAdjustment => {
                        TaskType::PointCloudObjectTrackingAdjustment
                    }
                    other => other,
                };
                assert_eq!(back, expected, "{arn}");
            }
        }
    }

    #[test]
    fn lambda_arn_uses_the_region_account_table() {
        assert_eq!(
            TaskType::BoundingBox
                .builtin_lambda_arn(LambdaRole::PreAnnotation, "us-east-1")
                .unwrap(),
            "arn:aws:lambda:us-east-1:432418664414:function:PRE-BoundingBox"
        );
        assert_eq!(
            TaskType::PointCloudSemanticSegmentationAdjustment
                .builtin_lambda_arn(LambdaRole::Consolidation, "eu-central-1")
                .unwrap(),
            "arn:aws:lambda:eu-central-1:203001061592:function:ACS-Adjustment3DPointCloudSemanticSegmentation"
        );
        assert_eq!(
            TaskType::BoundingBox.builtin_lambda_arn(LambdaRole::PreAnnotation, "xx-1"),
            None
        );
        assert_eq!(
            TaskType::from_pre_lambda_arn(
                "arn:aws:lambda:us-east-1:432418664414:function:ACS-BoundingBox"
            ),
            None
        );
        assert_eq!(
            TaskType::from_pre_lambda_arn("arn:aws:lambda:us-east-1:111122223333:function:MyPre"),
            None
        );
    }

    #[test]
    fn every_documented_lambda_name_maps_to_a_type() {
        // spec §8.6, verbatim.
        let names = [
            "BoundingBox",
            "ImageMultiClass",
            "ImageMultiClassMultiLabel",
            "SemanticSegmentation",
            "TextMultiClass",
            "TextMultiClassMultiLabel",
            "NamedEntityRecognition",
            "VideoMultiClass",
            "VideoObjectDetection",
            "VideoObjectTracking",
            "3DPointCloudObjectDetection",
            "3DPointCloudObjectTracking",
            "3DPointCloudSemanticSegmentation",
            "VerificationBoundingBox",
            "AdjustmentBoundingBox",
            "VerificationSemanticSegmentation",
            "AdjustmentSemanticSegmentation",
            "AdjustmentVideoObjectDetection",
            "AdjustmentVideoObjectTracking",
            "Adjustment3DPointCloudObjectDetection",
            "Adjustment3DPointCloudObjectTracking",
            "Adjustment3DPointCloudSemanticSegmentation",
            "PassThrough",
        ];
        for name in names {
            for prefix in ["PRE-", "ACS-"] {
                let (task_type, _) =
                    TaskType::from_builtin_function_name(&format!("{prefix}{name}"))
                        .unwrap_or_else(|| panic!("{prefix}{name}"));
                assert_eq!(task_type.lambda_name(), name);
            }
        }
    }

    #[test]
    fn human_task_uis() {
        assert_eq!(
            TaskType::PointCloudObjectTrackingAdjustment.human_task_ui_arn("us-west-2").unwrap(),
            "arn:aws:sagemaker:us-west-2:394669845002:human-task-ui/PointCloudObjectTracking"
        );
        assert_eq!(TaskType::BoundingBox.human_task_ui_arn("us-west-2"), None);
        assert_eq!(
            TaskType::from_human_task_ui_name("NamedEntityRecognition"),
            Some(TaskType::NamedEntityRecognition)
        );
        assert_eq!(
            TaskType::from_human_task_ui_name("PointCloudObjectTracking"),
            Some(TaskType::PointCloudObjectTracking)
        );
    }

    #[test]
    fn rules_per_family() {
        use TaskType as T;
        assert_eq!(T::ImageClassification.default_task_time_limit_secs(), 300);
        assert_eq!(T::BoundingBoxVerification.default_task_time_limit_secs(), 300);
        assert_eq!(T::BoundingBox.default_task_time_limit_secs(), 3600);
        assert_eq!(T::VideoObjectTracking.default_task_time_limit_secs(), 3600);
        assert_eq!(T::PointCloudObjectDetection.default_task_time_limit_secs(), 259_200);
        assert_eq!(T::PointCloudObjectTracking.max_workers_per_object(), 1);
        assert_eq!(T::TextClassification.max_workers_per_object(), 9);
        assert!(!T::VideoObjectDetection.public_workforce_allowed());
        assert!(T::VideoClassification.public_workforce_allowed());
        assert!(!T::PointCloudSemanticSegmentation.label_attributes_allowed());
        assert!(T::PointCloudSemanticSegmentation.frame_attributes_allowed());
        assert!(T::PointCloudObjectDetection.label_attributes_allowed());
        assert!(!T::ImageClassification.supports_audit());
        assert!(T::VideoObjectDetection.supports_audit());
        assert_eq!(T::SemanticSegmentation.ref_suffix(), RefSuffix::Required);
        assert_eq!(T::SemanticSegmentationVerification.ref_suffix(), RefSuffix::Forbidden);
        assert_eq!(T::PointCloudObjectDetection.ref_suffix(), RefSuffix::Forbidden);
        assert_eq!(T::ImageClassification.label_limits().min, 2);
        assert_eq!(T::NamedEntityRecognition.label_limits().min, 1);
        assert_eq!(T::BoundingBoxVerification.base(), T::BoundingBox);
        assert_eq!(T::PointCloud3d2dLinkingAdjustment.base(), T::PointCloud3d2dLinking);
        assert_eq!(T::Custom.base(), T::Custom);
        assert_eq!(T::VideoClassification.output_type(), None);
        assert_eq!(T::Custom.output_type(), Some("groundTruth/custom"));
        assert_eq!(T::NamedEntityRecognition.input_kind().manifest_key(), Some("source"));
        assert!(T::ALL.iter().all(|t| t.base().adjustment().is_none_or(|a| a.is_adjustment())));
    }

    #[test]
    fn console_dropdown() {
        let image = TaskType::console_choices(TaskCategory::Image);
        assert_eq!(
            image,
            vec![
                TaskType::ImageClassification,
                TaskType::ImageClassificationMultiLabel,
                TaskType::BoundingBox,
                TaskType::BoundingBoxVerification,
                TaskType::SemanticSegmentation,
                TaskType::SemanticSegmentationVerification,
            ]
        );
        assert_eq!(TaskType::console_choices(TaskCategory::Custom), vec![TaskType::Custom]);
        let all: usize =
            TaskCategory::ALL.iter().map(|c| TaskType::console_choices(*c).len()).sum();
        assert_eq!(all, TaskType::ALL.iter().filter(|t| !t.is_adjustment()).count());
    }
}
