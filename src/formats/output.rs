//! Output manifests (spec §5.2–§5.16): an output line is the input line's keys plus one or more
//! `<attr>` / `<attr>-metadata` pairs (chained jobs accumulate pairs). Each pair is decoded into a
//! typed [`Label`] (chosen by the metadata `type`, or by shape when the type is unknown) and a
//! typed [`LabelMetadata`]; every other key is kept as it is, in order.
//!
//! Also the files `-ref` attributes point at: `SeqLabel.json` for video frames and 3D tracking
//! ([`seq_label`]) and the zlib-compressed 3D semantic-segmentation masks ([`point_labels`]).
//!
//! Readers are lenient (§11): `class-map` or `class_map`; `job-name`/`creation-date` or the
//! custom-job spellings `job_name`/`creation_date` (remembered and written back); `job-name` with
//! or without `labeling-job/` (kept as read; see [`LabelMetadata::job_name_without_prefix`]);
//! class indices as numbers or numeric strings (remembered, see [`Index`]); `creation-date` in
//! either form (kept as read, parsed by [`LabelMetadata::creation_date_ms`]); `failure-reason`;
//! `groundTruth/custom` labels of any shape; unknown fields at every level. Writers are
//! canonical: `class-map`, `camera-model`, the number style of [`crate::formats::json`]. Reading
//! then writing an unmodified line gives an equal JSON value, except for those canonical spellings.
//!
//! Must not depend on other `formats` modules except `error`, `json`, `manifest` and `time`.

pub mod point_labels;
pub mod seq_label;

use std::collections::BTreeMap;
use std::io::BufRead;

use serde_json::{Map, Value};

use super::error::FormatError;
use super::json::{Ctx, Index, Obj, ObjWriter, float, index_at, kind, parse_digits, parse_value};
use super::manifest::{
    DataSource, JsonLinesReader, ManifestLine, SOURCE, SOURCE_REF, check_line_length,
};
use super::time::{TimestampError, parse_timestamp_ms};

/// Suffix of a label's metadata key.
pub const METADATA_SUFFIX: &str = "-metadata";

/// The `labeling-job/` prefix Ground Truth often puts in front of `job-name`.
pub const JOB_NAME_PREFIX: &str = "labeling-job/";

/// The metadata `type` string of a built-in task type (§10.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskOutputType {
    /// `groundtruth/image-classification`.
    ImageClassification,
    /// `groundtruth/image-classification-multilabel`.
    ImageClassificationMultilabel,
    /// `groundtruth/text-classification`.
    TextClassification,
    /// `groundtruth/text-classification-multilabel`.
    TextClassificationMultilabel,
    /// `groundtruth/object-detection` (bounding boxes, also adjustment).
    ObjectDetection,
    /// `groundtruth/label-verification`.
    LabelVerification,
    /// `groundtruth/semantic-segmentation`.
    SemanticSegmentation,
    /// `groundtruth/text-span` (named entity recognition).
    TextSpan,
    /// `groundtruth/video-classification`: a guess, the real string is undocumented (§5.6);
    /// video clip labels of any type string are recognised by shape.
    VideoClassification,
    /// `groundtruth/video-object-detection`.
    VideoObjectDetection,
    /// `groundtruth/video-object-tracking`.
    VideoObjectTracking,
    /// `groundtruth/point_cloud_object_detection`.
    PointCloudObjectDetection,
    /// `groundtruth/point_cloud_object_tracking` (also 3D-2D linking).
    PointCloudObjectTracking,
    /// `groundtruth/point_cloud_single_frame_semantic_segmentation`.
    PointCloudSemanticSegmentation,
    /// `groundTruth/custom` (custom workflows; note the capital T).
    Custom,
    /// Any other string, kept as read.
    Other(String),
}

impl TaskOutputType {
    const ALL: [(Self, &'static str); 15] = [
        (Self::ImageClassification, "groundtruth/image-classification"),
        (Self::ImageClassificationMultilabel, "groundtruth/image-classification-multilabel"),
        (Self::TextClassification, "groundtruth/text-classification"),
        (Self::TextClassificationMultilabel, "groundtruth/text-classification-multilabel"),
        (Self::ObjectDetection, "groundtruth/object-detection"),
        (Self::LabelVerification, "groundtruth/label-verification"),
        (Self::SemanticSegmentation, "groundtruth/semantic-segmentation"),
        (Self::TextSpan, "groundtruth/text-span"),
        (Self::VideoClassification, "groundtruth/video-classification"),
        (Self::VideoObjectDetection, "groundtruth/video-object-detection"),
        (Self::VideoObjectTracking, "groundtruth/video-object-tracking"),
        (Self::PointCloudObjectDetection, "groundtruth/point_cloud_object_detection"),
        (Self::PointCloudObjectTracking, "groundtruth/point_cloud_object_tracking"),
        (
            Self::PointCloudSemanticSegmentation,
            "groundtruth/point_cloud_single_frame_semantic_segmentation",
        ),
        (Self::Custom, "groundTruth/custom"),
    ];

    /// The type for a `type` string (exact match; anything else is [`TaskOutputType::Other`]).
    pub fn parse(s: &str) -> Self {
        Self::ALL
            .iter()
            .find(|(_, name)| *name == s)
            .map_or_else(|| Self::Other(s.to_owned()), |(t, _)| t.clone())
    }

    /// The `type` string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(s) => s,
            known => Self::ALL.iter().find(|(t, _)| t == known).map_or("", |(_, name)| name),
        }
    }

    /// True for types whose label attribute ends in `-ref` and whose label is a file URI.
    pub fn is_ref(&self) -> bool {
        matches!(
            self,
            Self::SemanticSegmentation
                | Self::VideoObjectDetection
                | Self::VideoObjectTracking
                | Self::PointCloudObjectTracking
                | Self::PointCloudSemanticSegmentation
        )
    }
}

/// `human-annotated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HumanAnnotated {
    /// `"yes"`: labeled by people.
    Yes,
    /// `"no"`: labeled by automated data labeling.
    No,
    /// Any other string, kept as read.
    Other(String),
}

impl HumanAnnotated {
    fn parse(s: &str) -> Self {
        match s {
            "yes" => Self::Yes,
            "no" => Self::No,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The JSON string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Other(s) => s,
        }
    }
}

/// `adjustment-status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdjustmentStatus {
    /// `"adjusted"`: at least one worker changed something.
    Adjusted,
    /// `"unadjusted"`.
    Unadjusted,
    /// Any other string, kept as read.
    Other(String),
}

impl AdjustmentStatus {
    fn parse(s: &str) -> Self {
        match s {
            "adjusted" => Self::Adjusted,
            "unadjusted" => Self::Unadjusted,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The JSON string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Adjusted => "adjusted",
            Self::Unadjusted => "unadjusted",
            Self::Other(s) => s,
        }
    }
}

/// The confidence in one `objects[]` entry: a score (bounding boxes) or a list (3D tracking,
/// where Ground Truth writes `[]`).
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectConfidence {
    /// `"confidence": 0.8`.
    Score(f64),
    /// `"confidence": []`.
    List(Vec<f64>),
}

/// One entry of metadata `objects`: `{"confidence": n}` for boxes, `{"frame-no": n,
/// "confidence": []}` for 3D tracking.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMetadata {
    /// `confidence`.
    pub confidence: Option<ObjectConfidence>,
    /// `frame-no` (3D tracking).
    pub frame_no: Option<Index>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl ObjectMetadata {
    /// A bounding-box confidence entry.
    pub fn score(confidence: f64) -> Self {
        Self {
            confidence: Some(ObjectConfidence::Score(confidence)),
            frame_no: None,
            extra: Map::new(),
        }
    }
}

/// One entry of NER metadata `entities`: the confidence of the matching label entity.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityMetadata {
    /// `confidence`.
    pub confidence: Option<f64>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// One class of a semantic-segmentation colour map (`internal-color-map` / `color-map`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColorMapEntry {
    /// `class-name`.
    pub class_name: Option<String>,
    /// `hex-color`, e.g. `#2ca02c`.
    pub hex_color: Option<String>,
    /// `confidence` (the same for every class of one image).
    pub confidence: Option<f64>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// One `worker-feedback` comment (verification jobs).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerFeedback {
    /// `comment`.
    pub comment: String,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// `<attr>-metadata`: every documented field typed, the rest kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelMetadata {
    /// `type`.
    pub task_type: Option<TaskOutputType>,
    /// `job-name` (or `job_name`), as read, possibly with the `labeling-job/` prefix.
    pub job_name: Option<String>,
    /// `human-annotated`.
    pub human_annotated: Option<HumanAnnotated>,
    /// `creation-date` (or `creation_date`), as read.
    pub creation_date: Option<String>,
    /// `confidence` (single-label types).
    pub confidence: Option<f64>,
    /// `class-name` (classification, verification).
    pub class_name: Option<String>,
    /// `class-map` (read from `class-map` or `class_map`): class index → label.
    pub class_map: Option<BTreeMap<u64, String>>,
    /// `confidence-map` (multi-label): class index → confidence.
    pub confidence_map: Option<BTreeMap<u64, f64>>,
    /// `objects`.
    pub objects: Option<Vec<ObjectMetadata>>,
    /// `entities` (NER confidences, parallel to the label's entities).
    pub entities: Option<Vec<EntityMetadata>>,
    /// `internal-color-map` (image semantic segmentation).
    pub internal_color_map: Option<BTreeMap<u64, ColorMapEntry>>,
    /// `color-map` (3D semantic segmentation).
    pub color_map: Option<BTreeMap<u64, ColorMapEntry>>,
    /// `adjustment-status`.
    pub adjustment_status: Option<AdjustmentStatus>,
    /// `worker-feedback`.
    pub worker_feedback: Option<Vec<WorkerFeedback>>,
    /// `dataset-object-attributes` (3D frame-attribute answers).
    pub dataset_object_attributes: Option<Map<String, Value>>,
    /// `failure-reason`.
    pub failure_reason: Option<String>,
    /// `worker-response-ref` (custom jobs without a post-annotation Lambda).
    pub worker_response_ref: Option<String>,
    /// True when the file spelled `job_name` / `creation_date` with underscores (custom jobs);
    /// the writer then does too.
    pub underscore_keys: bool,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// Keys whose presence makes a `<k>-metadata` object a label's metadata.
const METADATA_MARKERS: [&str; 7] = [
    "type",
    "job-name",
    "job_name",
    "creation-date",
    "creation_date",
    "human-annotated",
    "failure-reason",
];

impl LabelMetadata {
    /// `job-name` without a leading `labeling-job/`.
    pub fn job_name_without_prefix(&self) -> Option<&str> {
        self.job_name.as_deref().map(|n| n.strip_prefix(JOB_NAME_PREFIX).unwrap_or(n))
    }

    /// `creation-date` as Unix epoch milliseconds (`Ok(None)` when absent).
    pub fn creation_date_ms(&self) -> Result<Option<i64>, TimestampError> {
        self.creation_date.as_deref().map(parse_timestamp_ms).transpose()
    }

    /// The label text of class `index` in `class-map`.
    pub fn class_label(&self, index: u64) -> Option<&str> {
        self.class_map.as_ref()?.get(&index).map(String::as_str)
    }

    fn read(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Self, FormatError> {
        let mut o = Obj::new(value, path, ctx)?;
        let task_type = o.opt_str("type")?.map(|s| TaskOutputType::parse(&s));
        let (job_key, job_name) = opt_str_any(&mut o, &["job-name", "job_name"])?;
        let (date_key, creation_date) = opt_str_any(&mut o, &["creation-date", "creation_date"])?;
        let underscore_keys = job_key == Some("job_name") || date_key == Some("creation_date");
        let class_map = match o.get_any(&["class-map", "class_map"]) {
            None => None,
            Some((key, v)) => Some(index_map(v, &o.path_of(key), ctx, |v, p| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    ctx.error(p, format!("expected a label string, found {}", kind(v)))
                })
            })?),
        };
        let confidence_map = match o.get("confidence-map") {
            None => None,
            Some(v) => Some(index_map(v, &o.path_of("confidence-map"), ctx, |v, p| {
                super::json::number_at(v, p, ctx)
            })?),
        };
        let objects = o.opt_array("objects", |v, p| {
            let mut e = Obj::new(v, p, ctx)?;
            let confidence = match e.get("confidence") {
                None => None,
                Some(Value::Array(items)) => Some(ObjectConfidence::List(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, x)| {
                            super::json::number_at(x, &format!("{p}.confidence[{i}]"), ctx)
                        })
                        .collect::<Result<_, _>>()?,
                )),
                Some(x) => Some(ObjectConfidence::Score(super::json::number_at(
                    x,
                    &e.path_of("confidence"),
                    ctx,
                )?)),
            };
            Ok(ObjectMetadata { confidence, frame_no: e.opt_index("frame-no")?, extra: e.rest() })
        })?;
        let entities = o.opt_array("entities", |v, p| {
            let mut e = Obj::new(v, p, ctx)?;
            Ok(EntityMetadata { confidence: e.opt_f64("confidence")?, extra: e.rest() })
        })?;
        let color_map_of = |o: &mut Obj<'_>, key: &str| -> Result<_, FormatError> {
            match o.get(key) {
                None => Ok(None),
                Some(v) => index_map(v, &o.path_of(key), ctx, |v, p| {
                    let mut e = Obj::new(v, p, ctx)?;
                    Ok(ColorMapEntry {
                        class_name: e.opt_str("class-name")?,
                        hex_color: e.opt_str("hex-color")?,
                        confidence: e.opt_f64("confidence")?,
                        extra: e.rest(),
                    })
                })
                .map(Some),
            }
        };
        let internal_color_map = color_map_of(&mut o, "internal-color-map")?;
        let color_map = color_map_of(&mut o, "color-map")?;
        let worker_feedback = o.opt_array("worker-feedback", |v, p| {
            let mut e = Obj::new(v, p, ctx)?;
            Ok(WorkerFeedback { comment: e.req_str("comment")?, extra: e.rest() })
        })?;
        Ok(Self {
            task_type,
            job_name,
            human_annotated: o.opt_str("human-annotated")?.map(|s| HumanAnnotated::parse(&s)),
            creation_date,
            confidence: o.opt_f64("confidence")?,
            class_name: o.opt_str("class-name")?,
            class_map,
            confidence_map,
            objects,
            entities,
            internal_color_map,
            color_map,
            adjustment_status: o.opt_str("adjustment-status")?.map(|s| AdjustmentStatus::parse(&s)),
            worker_feedback,
            dataset_object_attributes: o.opt_map("dataset-object-attributes")?,
            failure_reason: o.opt_str("failure-reason")?,
            worker_response_ref: o.opt_str("worker-response-ref")?,
            underscore_keys,
            extra: o.rest(),
        })
    }

    /// The JSON object (canonical spellings; `job_name`/`creation_date` when
    /// [`LabelMetadata::underscore_keys`]).
    pub fn to_value(&self) -> Value {
        let (job_key, date_key) = if self.underscore_keys {
            ("job_name", "creation_date")
        } else {
            ("job-name", "creation-date")
        };
        let color_map_value = |m: &BTreeMap<u64, ColorMapEntry>| {
            Value::Object(
                m.iter()
                    .map(|(k, e)| {
                        let v = ObjWriter::new()
                            .put_opt_str("class-name", e.class_name.as_deref())
                            .put_opt("confidence", e.confidence.map(float))
                            .put_opt_str("hex-color", e.hex_color.as_deref())
                            .extend(&e.extra)
                            .value();
                        (k.to_string(), v)
                    })
                    .collect(),
            )
        };
        let mut w = ObjWriter::new();
        w.put_opt_str("class-name", self.class_name.as_deref())
            .put_opt("confidence", self.confidence.map(float))
            .put_opt(
                "objects",
                self.objects.as_ref().map(|objs| {
                    Value::Array(
                        objs.iter()
                            .map(|o| {
                                ObjWriter::new()
                                    .put_opt("frame-no", o.frame_no.map(Index::to_value))
                                    .put_opt(
                                        "confidence",
                                        o.confidence.as_ref().map(|c| match c {
                                            ObjectConfidence::Score(s) => float(*s),
                                            ObjectConfidence::List(l) => {
                                                Value::Array(l.iter().copied().map(float).collect())
                                            }
                                        }),
                                    )
                                    .extend(&o.extra)
                                    .value()
                            })
                            .collect(),
                    )
                }),
            )
            .put_opt(
                "entities",
                self.entities.as_ref().map(|es| {
                    Value::Array(
                        es.iter()
                            .map(|e| {
                                ObjWriter::new()
                                    .put_opt("confidence", e.confidence.map(float))
                                    .extend(&e.extra)
                                    .value()
                            })
                            .collect(),
                    )
                }),
            )
            .put_opt(
                "class-map",
                self.class_map.as_ref().map(|m| {
                    Value::Object(
                        m.iter().map(|(k, v)| (k.to_string(), Value::String(v.clone()))).collect(),
                    )
                }),
            )
            .put_opt(
                "confidence-map",
                self.confidence_map.as_ref().map(|m| {
                    Value::Object(m.iter().map(|(k, v)| (k.to_string(), float(*v))).collect())
                }),
            )
            .put_opt("internal-color-map", self.internal_color_map.as_ref().map(color_map_value))
            .put_opt("color-map", self.color_map.as_ref().map(color_map_value))
            .put_opt_str("type", self.task_type.as_ref().map(TaskOutputType::as_str))
            .put_opt_str(
                "human-annotated",
                self.human_annotated.as_ref().map(HumanAnnotated::as_str),
            )
            .put_opt_str(date_key, self.creation_date.as_deref())
            .put_opt_str(job_key, self.job_name.as_deref())
            .put_opt_str(
                "adjustment-status",
                self.adjustment_status.as_ref().map(AdjustmentStatus::as_str),
            )
            .put_opt(
                "worker-feedback",
                self.worker_feedback.as_ref().map(|f| {
                    Value::Array(
                        f.iter()
                            .map(|c| {
                                ObjWriter::new()
                                    .put_str("comment", &c.comment)
                                    .extend(&c.extra)
                                    .value()
                            })
                            .collect(),
                    )
                }),
            )
            .put_opt(
                "dataset-object-attributes",
                self.dataset_object_attributes.clone().map(Value::Object),
            )
            .put_opt_str("failure-reason", self.failure_reason.as_deref())
            .put_opt_str("worker-response-ref", self.worker_response_ref.as_deref());
        w.extend(&self.extra).value()
    }
}

/// The first present spelling of a string field, and which spelling it was.
fn opt_str_any(
    o: &mut Obj<'_>,
    keys: &[&'static str],
) -> Result<(Option<&'static str>, Option<String>), FormatError> {
    match o.get_any(keys) {
        None => Ok((None, None)),
        Some((key, Value::String(s))) => Ok((Some(key), Some(s.clone()))),
        Some((key, other)) => {
            Err(o.error(key, format!("expected a string, found {}", kind(other))))
        }
    }
}

/// Reads `{"<index>": T}` (class-map and friends); keys must be non-negative integers.
fn index_map<T>(
    value: &Value,
    path: &str,
    ctx: &Ctx<'_>,
    mut f: impl FnMut(&Value, &str) -> Result<T, FormatError>,
) -> Result<BTreeMap<u64, T>, FormatError> {
    let map = value
        .as_object()
        .ok_or_else(|| ctx.error(path, format!("expected an object, found {}", kind(value))))?;
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let item_path = format!("{path}.{k}");
        let index = parse_digits(k)
            .ok_or_else(|| ctx.error(&item_path, format!("key {k:?} is not a class index")))?;
        out.insert(index, f(v, &item_path)?);
    }
    Ok(out)
}

/// `image_size[]` of a bounding-box label.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSize {
    /// `width` (pixels).
    pub width: f64,
    /// `height` (pixels).
    pub height: f64,
    /// `depth` (channels).
    pub depth: Option<f64>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// One box of a bounding-box label (§5.7). Pixels, top-left origin.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundingBox {
    /// `class_id`: index into the label list / `class-map`.
    pub class_id: Index,
    /// `left` (pixels).
    pub left: f64,
    /// `top` (pixels).
    pub top: f64,
    /// `width` (pixels).
    pub width: f64,
    /// `height` (pixels).
    pub height: f64,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// A bounding-box label: `{"image_size": [...], "annotations": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundingBoxLabel {
    /// `image_size`: an array with one object.
    pub image_size: Option<Vec<ImageSize>>,
    /// `annotations`: the boxes, parallel to metadata `objects`.
    pub annotations: Vec<BoundingBox>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// A label definition inside a NER label (`annotations.labels[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct EntityLabelDefinition {
    /// `label`.
    pub label: String,
    /// `shortDisplayName`.
    pub short_display_name: Option<String>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// One entity span (`annotations.entities[]`): `[start_offset, end_offset)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// `label`.
    pub label: String,
    /// `startOffset`: first selected character.
    pub start_offset: u64,
    /// `endOffset`: first character after the span.
    pub end_offset: u64,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// A named-entity-recognition label (§5.10): `{"annotations": {"labels": [...], "entities": [...]}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityLabel {
    /// `annotations.labels`.
    pub labels: Option<Vec<EntityLabelDefinition>>,
    /// `annotations.entities`.
    pub entities: Vec<Entity>,
    /// Unknown keys of `annotations`, kept.
    pub annotations_extra: Map<String, Value>,
    /// Unknown top-level keys, kept.
    pub extra: Map<String, Value>,
}

/// A 3D cuboid (§5.12, also in 3D tracking `SeqLabel.json`), in the input cloud's coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Cuboid {
    /// `class-id`.
    pub class_id: Index,
    /// `object-name`: `<label>:<n>`.
    pub object_name: Option<String>,
    /// `object-id` (tracking): shared by all cuboids of one object.
    pub object_id: Option<String>,
    /// `label-category-attributes`.
    pub label_category_attributes: Option<Map<String, Value>>,
    /// `center-x` (metres).
    pub center_x: f64,
    /// `center-y` (metres).
    pub center_y: f64,
    /// `center-z` (metres).
    pub center_z: f64,
    /// `length` (metres).
    pub length: f64,
    /// `width` (metres).
    pub width: f64,
    /// `height` (metres).
    pub height: f64,
    /// `roll` (radians, about x).
    pub roll: f64,
    /// `pitch` (radians, about y).
    pub pitch: f64,
    /// `yaw` (radians, about z).
    pub yaw: f64,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl Cuboid {
    /// Decodes one cuboid object; `file` names the source in errors.
    pub fn from_value(value: &Value, file: &str) -> Result<Self, FormatError> {
        Self::read(value, "", &Ctx::new(file, None))
    }

    pub(crate) fn read(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Self, FormatError> {
        let mut o = Obj::new(value, path, ctx)?;
        Ok(Self {
            label_category_attributes: o.opt_map("label-category-attributes")?,
            object_name: o.opt_str("object-name")?,
            class_id: o.req_index("class-id")?,
            center_x: o.req_f64("center-x")?,
            center_y: o.req_f64("center-y")?,
            center_z: o.req_f64("center-z")?,
            length: o.req_f64("length")?,
            width: o.req_f64("width")?,
            height: o.req_f64("height")?,
            roll: o.req_f64("roll")?,
            pitch: o.req_f64("pitch")?,
            yaw: o.req_f64("yaw")?,
            object_id: o.opt_str("object-id")?,
            extra: o.rest(),
        })
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        ObjWriter::new()
            .put_opt(
                "label-category-attributes",
                self.label_category_attributes.clone().map(Value::Object),
            )
            .put_opt_str("object-name", self.object_name.as_deref())
            .put("class-id", self.class_id.to_value())
            .put_num("center-x", self.center_x)
            .put_num("center-y", self.center_y)
            .put_num("center-z", self.center_z)
            .put_num("length", self.length)
            .put_num("width", self.width)
            .put_num("height", self.height)
            .put_num("roll", self.roll)
            .put_num("pitch", self.pitch)
            .put_num("yaw", self.yaw)
            .put_opt_str("object-id", self.object_id.as_deref())
            .extend(&self.extra)
            .value()
    }
}

/// Inline cuboids of a 3D object-detection label: `{"annotations": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct CuboidLabel {
    /// `annotations`.
    pub annotations: Vec<Cuboid>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// The value of `<attr>`, typed by task type.
#[derive(Debug, Clone, PartialEq)]
pub enum Label {
    /// Single-label image/text/video-clip classification and label verification: the chosen
    /// class index.
    Class(Index),
    /// Multi-label classification: every class chosen by at least one worker.
    MultiClass(Vec<Index>),
    /// Bounding boxes (also adjustment).
    BoundingBoxes(BoundingBoxLabel),
    /// Named entity recognition.
    Entities(EntityLabel),
    /// 3D object detection cuboids.
    Cuboids(CuboidLabel),
    /// `-ref` types: the S3 URI of a label file (segmentation PNG, `SeqLabel.json`, `.zlib` mask).
    Ref(String),
    /// Custom workflows and unrecognised shapes: the JSON as read.
    Custom(Value),
}

impl Label {
    fn read(
        value: &Value,
        attribute: &str,
        metadata: &LabelMetadata,
        ctx: &Ctx<'_>,
    ) -> Result<Self, FormatError> {
        use TaskOutputType as T;
        let path = attribute;
        let expect_ref = |value: &Value| match value {
            Value::String(s) => Ok(Self::Ref(s.clone())),
            other => {
                Err(ctx.error(path, format!("expected an S3 URI string, found {}", kind(other))))
            }
        };
        match metadata.task_type.as_ref() {
            Some(
                T::ImageClassification
                | T::TextClassification
                | T::LabelVerification
                | T::VideoClassification,
            ) => index_at(value, path, ctx).map(Self::Class),
            Some(T::ImageClassificationMultilabel | T::TextClassificationMultilabel) => {
                let items = value.as_array().ok_or_else(|| {
                    ctx.error(
                        path,
                        format!("expected an array of class indices, found {}", kind(value)),
                    )
                })?;
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| index_at(v, &format!("{path}[{i}]"), ctx))
                    .collect::<Result<_, _>>()
                    .map(Self::MultiClass)
            }
            Some(T::ObjectDetection) => read_boxes(value, path, ctx).map(Self::BoundingBoxes),
            Some(T::TextSpan) => read_entities(value, path, ctx).map(Self::Entities),
            Some(T::PointCloudObjectDetection) => {
                let mut o = Obj::new(value, path, ctx)?;
                let annotations = o.req_array("annotations", |v, p| Cuboid::read(v, p, ctx))?;
                Ok(Self::Cuboids(CuboidLabel { annotations, extra: o.rest() }))
            }
            Some(t) if t.is_ref() => expect_ref(value),
            Some(T::Custom) => Ok(Self::Custom(value.clone())),
            // Unknown or missing type: decide by shape (§5.6: video clip classification's type
            // string is undocumented).
            _ => Ok(match (value, Index::from_value(value)) {
                (Value::String(s), _) if attribute.ends_with("-ref") => Self::Ref(s.clone()),
                (_, Some(index)) if metadata.class_name.is_some() => Self::Class(index),
                (v, _) => Self::Custom(v.clone()),
            }),
        }
    }

    /// The JSON value.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Class(i) => i.to_value(),
            Self::MultiClass(list) => Value::Array(list.iter().map(|i| i.to_value()).collect()),
            Self::BoundingBoxes(b) => boxes_value(b),
            Self::Entities(e) => entities_value(e),
            Self::Cuboids(c) => ObjWriter::new()
                .put(
                    "annotations",
                    Value::Array(c.annotations.iter().map(Cuboid::to_value).collect()),
                )
                .extend(&c.extra)
                .value(),
            Self::Ref(uri) => Value::String(uri.clone()),
            Self::Custom(v) => v.clone(),
        }
    }
}

fn read_boxes(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<BoundingBoxLabel, FormatError> {
    let mut o = Obj::new(value, path, ctx)?;
    let image_size = o.opt_array("image_size", |v, p| {
        let mut s = Obj::new(v, p, ctx)?;
        Ok(ImageSize {
            width: s.req_f64("width")?,
            height: s.req_f64("height")?,
            depth: s.opt_f64("depth")?,
            extra: s.rest(),
        })
    })?;
    let annotations = o.req_array("annotations", |v, p| {
        let mut b = Obj::new(v, p, ctx)?;
        Ok(BoundingBox {
            class_id: b.req_index("class_id")?,
            left: b.req_f64("left")?,
            top: b.req_f64("top")?,
            width: b.req_f64("width")?,
            height: b.req_f64("height")?,
            extra: b.rest(),
        })
    })?;
    Ok(BoundingBoxLabel { image_size, annotations, extra: o.rest() })
}

fn boxes_value(b: &BoundingBoxLabel) -> Value {
    let sizes = b.image_size.as_ref().map(|sizes| {
        Value::Array(
            sizes
                .iter()
                .map(|s| {
                    ObjWriter::new()
                        .put_num("width", s.width)
                        .put_num("height", s.height)
                        .put_opt_num("depth", s.depth)
                        .extend(&s.extra)
                        .value()
                })
                .collect(),
        )
    });
    let boxes = b
        .annotations
        .iter()
        .map(|a| {
            ObjWriter::new()
                .put("class_id", a.class_id.to_value())
                .put_num("left", a.left)
                .put_num("top", a.top)
                .put_num("width", a.width)
                .put_num("height", a.height)
                .extend(&a.extra)
                .value()
        })
        .collect();
    ObjWriter::new()
        .put_opt("image_size", sizes)
        .put("annotations", Value::Array(boxes))
        .extend(&b.extra)
        .value()
}

fn read_entities(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<EntityLabel, FormatError> {
    let mut o = Obj::new(value, path, ctx)?;
    let mut a = o.req_obj("annotations")?;
    let labels = a.opt_array("labels", |v, p| {
        let mut l = Obj::new(v, p, ctx)?;
        Ok(EntityLabelDefinition {
            label: l.req_str("label")?,
            short_display_name: l.opt_str("shortDisplayName")?,
            extra: l.rest(),
        })
    })?;
    let entities = a.req_array("entities", |v, p| {
        let mut e = Obj::new(v, p, ctx)?;
        Ok(Entity {
            label: e.req_str("label")?,
            start_offset: e.req_u64("startOffset")?,
            end_offset: e.req_u64("endOffset")?,
            extra: e.rest(),
        })
    })?;
    Ok(EntityLabel { labels, entities, annotations_extra: a.rest(), extra: o.rest() })
}

fn entities_value(e: &EntityLabel) -> Value {
    let labels = e.labels.as_ref().map(|ls| {
        Value::Array(
            ls.iter()
                .map(|l| {
                    ObjWriter::new()
                        .put_str("label", &l.label)
                        .put_opt_str("shortDisplayName", l.short_display_name.as_deref())
                        .extend(&l.extra)
                        .value()
                })
                .collect(),
        )
    });
    let entities = e
        .entities
        .iter()
        .map(|x| {
            ObjWriter::new()
                .put_str("label", &x.label)
                .put("startOffset", Value::from(x.start_offset))
                .put("endOffset", Value::from(x.end_offset))
                .extend(&x.extra)
                .value()
        })
        .collect();
    let annotations = ObjWriter::new()
        .put_opt("labels", labels)
        .put("entities", Value::Array(entities))
        .extend(&e.annotations_extra)
        .value();
    ObjWriter::new().put("annotations", annotations).extend(&e.extra).value()
}

/// One label attribute of an output line: `<attribute>` and `<attribute>-metadata`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelPair {
    /// The `LabelAttributeName`.
    pub attribute: String,
    /// The label; `None` when the line carries only metadata (e.g. a failed object).
    pub label: Option<Label>,
    /// The metadata.
    pub metadata: LabelMetadata,
}

impl LabelPair {
    /// The metadata key: `<attribute>-metadata`.
    pub fn metadata_key(&self) -> String {
        format!("{}{METADATA_SUFFIX}", self.attribute)
    }
}

/// One key of an output line, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputField {
    /// A key that is not part of a label pair (input keys, `source-ref-metadata`, …).
    Plain {
        /// The key.
        key: String,
        /// Its value, as read.
        value: Value,
    },
    /// A label pair, at the position of the first of its two keys.
    Label(Box<LabelPair>),
}

/// One output-manifest line.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputLine {
    /// `source-ref` or `source`.
    pub source: DataSource,
    /// Every other key, in order, label pairs decoded.
    pub fields: Vec<OutputField>,
}

impl From<ManifestLine> for OutputLine {
    /// An output line with the input line's keys and no labels yet (plain fields are not decoded
    /// as label pairs: use [`OutputLine::from_value`] for that).
    fn from(line: ManifestLine) -> Self {
        Self {
            source: line.source,
            fields: line
                .extra
                .into_iter()
                .map(|(key, value)| OutputField::Plain { key, value })
                .collect(),
        }
    }
}

impl OutputLine {
    /// Decodes a parsed line; `line` is the 1-based line number for errors.
    pub fn from_value(value: Value, file: &str, line: Option<usize>) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, line);
        let mut map = match value {
            Value::Object(map) => map,
            other => {
                return Err(
                    ctx.error("", format!("expected a JSON object, found {}", kind(&other)))
                );
            }
        };
        let source = DataSource::take(&mut map, &ctx)?;
        let pair_attributes: Vec<&str> = map
            .iter()
            .filter_map(|(k, v)| {
                let attribute = k.strip_suffix(METADATA_SUFFIX)?;
                let meta = v.as_object()?;
                let is_label_metadata = attribute != SOURCE
                    && attribute != SOURCE_REF
                    && METADATA_MARKERS.iter().any(|m| meta.contains_key(*m));
                is_label_metadata.then_some(attribute)
            })
            .collect();
        let mut fields = Vec::with_capacity(map.len());
        let mut done: Vec<&str> = Vec::new();
        for (key, value) in &map {
            let attribute =
                key.strip_suffix(METADATA_SUFFIX).filter(|a| pair_attributes.contains(a));
            let attribute =
                attribute.or_else(|| pair_attributes.iter().copied().find(|a| *a == key));
            match attribute {
                Some(attribute) if done.contains(&attribute) => {}
                Some(attribute) => {
                    done.push(attribute);
                    let meta_key = format!("{attribute}{METADATA_SUFFIX}");
                    let meta_value = map.get(&meta_key).unwrap_or(&Value::Null);
                    let metadata = LabelMetadata::read(meta_value, &meta_key, &ctx)?;
                    let label = map
                        .get(attribute)
                        .map(|v| Label::read(v, attribute, &metadata, &ctx))
                        .transpose()?;
                    fields.push(OutputField::Label(Box::new(LabelPair {
                        attribute: attribute.to_owned(),
                        label,
                        metadata,
                    })));
                }
                None => fields.push(OutputField::Plain { key: key.clone(), value: value.clone() }),
            }
        }
        Ok(Self { source, fields })
    }

    /// Parses one line of text (without its newline).
    pub fn parse_line(text: &str, file: &str, line: usize) -> Result<Self, FormatError> {
        check_line_length(text, file, line)?;
        Self::from_value(parse_value(text, file, line)?, file, Some(line))
    }

    /// Parses one line stored as a whole (possibly pretty-printed) JSON document, as in AWS's
    /// documentation; syntax errors name the line within `text`.
    pub fn parse_document(text: &str, file: &str) -> Result<Self, FormatError> {
        Self::from_value(parse_value(text, file, 1)?, file, None)
    }

    /// The label pairs, in order.
    pub fn label_pairs(&self) -> impl Iterator<Item = &LabelPair> {
        self.fields.iter().filter_map(|f| match f {
            OutputField::Label(p) => Some(p.as_ref()),
            OutputField::Plain { .. } => None,
        })
    }

    /// The label pair for `attribute`.
    pub fn label_pair(&self, attribute: &str) -> Option<&LabelPair> {
        self.label_pairs().find(|p| p.attribute == attribute)
    }

    /// A plain (non-label) key's value.
    pub fn plain(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find_map(|f| match f {
            OutputField::Plain { key: k, value } if k == key => Some(value),
            _ => None,
        })
    }

    /// Adds or replaces the pair for `pair.attribute`. An existing pair, or plain keys named
    /// `<attribute>` or `<attribute>-metadata`, are replaced in place (§1.1: a new label
    /// overwrites an input key of the same name); otherwise the pair is appended.
    pub fn set_label_pair(&mut self, pair: LabelPair) {
        let meta_key = pair.metadata_key();
        let clashes = |f: &OutputField| match f {
            OutputField::Label(p) => p.attribute == pair.attribute,
            OutputField::Plain { key, .. } => *key == pair.attribute || *key == meta_key,
        };
        match self.fields.iter().position(clashes) {
            Some(i) => {
                let attribute = pair.attribute.clone();
                if let Some(slot) = self.fields.get_mut(i) {
                    *slot = OutputField::Label(Box::new(pair));
                }
                let mut index = 0;
                self.fields.retain(|f| {
                    let keep = index == i
                        || !match f {
                            OutputField::Label(p) => p.attribute == attribute,
                            OutputField::Plain { key, .. } => *key == attribute || *key == meta_key,
                        };
                    index += 1;
                    keep
                });
            }
            None => self.fields.push(OutputField::Label(Box::new(pair))),
        }
    }

    /// The line as a JSON object: the data source, then the fields in order.
    pub fn to_value(&self) -> Value {
        let mut map = Map::with_capacity(self.fields.len() + 2);
        map.insert(self.source.key().to_owned(), Value::String(self.source.value().to_owned()));
        for field in &self.fields {
            match field {
                OutputField::Plain { key, value } => {
                    map.insert(key.clone(), value.clone());
                }
                OutputField::Label(pair) => {
                    if let Some(label) = &pair.label {
                        map.insert(pair.attribute.clone(), label.to_value());
                    }
                    map.insert(pair.metadata_key(), pair.metadata.to_value());
                }
            }
        }
        Value::Object(map)
    }

    /// The line as compact JSON, without a newline.
    pub fn to_json_line(&self) -> String {
        self.to_value().to_string()
    }

    /// The line as the next job's input line (chained jobs).
    pub fn to_manifest_line(&self) -> ManifestLine {
        match self.to_value() {
            Value::Object(mut map) => {
                map.shift_remove(self.source.key());
                ManifestLine { source: self.source.clone(), extra: map }
            }
            _ => ManifestLine::new(self.source.clone()),
        }
    }
}

/// Output manifest reading and writing.
#[derive(Debug, Clone, Copy)]
pub struct OutputManifest;

impl OutputManifest {
    /// Parses a whole output manifest (JSON Lines) held in memory; stops at the first bad line.
    pub fn parse(text: &str, file_name: &str) -> Result<Vec<OutputLine>, FormatError> {
        OutputManifestReader::new(text.as_bytes(), file_name).collect()
    }

    /// Writes lines as JSON Lines, each ending in `\n`.
    pub fn to_jsonl(lines: &[OutputLine]) -> String {
        let mut out = String::new();
        for line in lines {
            out.push_str(&line.to_json_line());
            out.push('\n');
        }
        out
    }
}

/// Streams an output manifest line by line, in bounded memory.
pub struct OutputManifestReader<R> {
    lines: JsonLinesReader<R>,
}

impl<R: BufRead> OutputManifestReader<R> {
    /// A reader over `reader`; `file` names the source in errors.
    pub fn new(reader: R, file: impl Into<String>) -> Self {
        Self { lines: JsonLinesReader::new(reader, file) }
    }
}

impl<R: BufRead> Iterator for OutputManifestReader<R> {
    type Item = Result<OutputLine, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.lines.next()?;
        Some(
            item.and_then(|(line, value)| {
                OutputLine::from_value(value, self.lines.file(), Some(line))
            }),
        )
    }
}

#[cfg(test)]
mod tests;
