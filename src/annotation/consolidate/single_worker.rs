//! Video-frame and 3D point-cloud tasks. Ground Truth gives these one worker per data object and
//! no real consolidation (spec §7.2): the one answer is checked and shaped into the output of
//! spec §5.11–§5.15 — a `SeqLabel.json` file (video, 3D tracking, 3D-2D linking), inline cuboids
//! (3D detection) or a zlib point-label file (3D semantic segmentation) — plus the label value
//! and `-metadata` of the output-manifest line.
//!
//! The `answerContent` each worker screen submits (Groundwork's choice; Ground Truth does not
//! document the built-in 3D and video UIs' answers):
//!
//! | task | `answerContent` |
//! | --- | --- |
//! | video detection / tracking | `{"seqLabel": <SeqLabel.json object>, "adjustmentStatus"?}` |
//! | 3D detection | `{"annotations": [<cuboid>…], "dataset-object-attributes"?, "adjustmentStatus"?}` |
//! | 3D tracking, 3D-2D linking | `{"seqLabel": <SeqLabel.json object>, "adjustmentStatus"?}` |
//! | 3D semantic segmentation | `{"pointLabels": <base64 of the zlib file>, "pointCount", "color-map", "dataset-object-attributes"?, "adjustmentStatus"?}` |
//!
//! `adjustmentStatus` (`adjusted` / `unadjusted`) is read for audit (adjustment) jobs only and
//! becomes the metadata's `adjustment-status`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::answers::{AnswerAt, answers_by_worker};
use super::{HUMAN_ANNOTATED, LabelRecord, ObjectAnswers, RecordContext, base64};
use crate::annotation::AnnotationError;
use crate::formats::output::Cuboid;
use crate::formats::output::point_labels;
use crate::formats::output::seq_label::{PointCloudSeqLabel, SeqLabel, VideoSeqLabel};

/// The file name of every sequence label file (spec §5.11).
pub const SEQ_LABEL_FILE_NAME: &str = "SeqLabel.json";

/// Which single-worker output a task type makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingleWorkerKind {
    /// Video frame object detection (`detection-annotations`).
    VideoDetection,
    /// Video frame object tracking (`tracking-annotations`).
    VideoTracking,
    /// 3D point-cloud object detection: inline cuboids.
    CuboidDetection,
    /// 3D point-cloud object tracking and 3D-2D linking: a `SeqLabel.json`.
    CuboidTracking,
    /// 3D point-cloud semantic segmentation: a `.zlib` label file.
    PointSegmentation,
}

impl SingleWorkerKind {
    /// The metadata `type` string.
    pub fn output_type(self) -> &'static str {
        match self {
            Self::VideoDetection => "groundtruth/video-object-detection",
            Self::VideoTracking => "groundtruth/video-object-tracking",
            Self::CuboidDetection => "groundtruth/point_cloud_object_detection",
            Self::CuboidTracking => "groundtruth/point_cloud_object_tracking",
            Self::PointSegmentation => "groundtruth/point_cloud_single_frame_semantic_segmentation",
        }
    }
}

/// What the output of one object needs besides the answer.
#[derive(Debug, Clone)]
pub struct SingleWorkerJob<'a> {
    /// The kind of output.
    pub kind: SingleWorkerKind,
    /// The job's labels in order (class ids).
    pub labels: &'a [String],
    /// Whether the task type is an audit (adjustment) type: `adjustment-status` is written.
    pub audit: bool,
    /// The input frame's file name (`frame1.bin`), for the segmentation file name.
    pub frame_file: Option<&'a str>,
    /// The `frame-no` of every frame of the sequence in order (3D tracking metadata `objects`);
    /// `None` uses the frame numbers in the answer.
    pub frame_numbers: Option<&'a [u64]>,
}

/// A file to write beside the consolidation response.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputFile {
    /// The file name under the object's `consolidated-annotation/output/<id>/` folder.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its content type.
    pub content_type: &'static str,
}

/// The output for one object.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleWorkerOutput {
    /// The label value and metadata.
    pub record: LabelRecord,
    /// The file the label value points at, if any.
    pub file: Option<OutputFile>,
}

/// The file name [`consolidate_single_worker`] will write for `job` (known before consolidating,
/// so the caller can turn it into the URI the label value holds).
pub fn output_file_name(job: &SingleWorkerJob<'_>) -> Option<String> {
    match job.kind {
        SingleWorkerKind::CuboidDetection => None,
        SingleWorkerKind::PointSegmentation => {
            let frame = job.frame_file.unwrap_or("labels");
            let base = frame.rsplit('/').next().unwrap_or(frame);
            let stem = base.split_once('.').map_or(base, |(stem, _)| stem);
            Some(format!("{}.zlib", if stem.is_empty() { "labels" } else { stem }))
        }
        _ => Some(SEQ_LABEL_FILE_NAME.to_owned()),
    }
}

/// Checks the one answer of `answers` and shapes it into Ground Truth's output for `job`.
/// `file_uri` is the URI the output file will have (the label value of `-ref` attributes).
///
/// # Errors
/// No answer, more than one worker, or an answer that does not follow the contract (the error
/// names the field).
pub fn consolidate_single_worker(
    answers: &ObjectAnswers,
    job: &SingleWorkerJob<'_>,
    file_uri: Option<&str>,
    context: &RecordContext,
) -> Result<SingleWorkerOutput, AnnotationError> {
    let answer = match answers_by_worker(answers)?.as_slice() {
        [one] => *one,
        [first, second, ..] => {
            let at = AnswerAt { object: answers, answer: second };
            return Err(at.invalid(
                "answerContent",
                format!(
                    "this task type takes one worker per object, but {} and {} answered",
                    first.worker_id, second.worker_id
                ),
            ));
        }
        [] => return Err(AnnotationError::NoAnswers { object: answers.dataset_object_id.clone() }),
    };
    let at = AnswerAt { object: answers, answer };
    let content = answer
        .answer_content
        .as_object()
        .ok_or_else(|| at.invalid("answerContent", "expected an object"))?;
    let uri = || file_uri.unwrap_or_default().to_owned();
    let mut metadata = Map::new();
    let (label, file) = match job.kind {
        SingleWorkerKind::VideoDetection | SingleWorkerKind::VideoTracking => {
            let value = field(content, "seqLabel", at)?;
            let seq = VideoSeqLabel::from_value(value, "answerContent.seqLabel")
                .map_err(|e| at.invalid("seqLabel", e.to_string()))?;
            let expected = if job.kind == SingleWorkerKind::VideoTracking {
                "tracking-annotations"
            } else {
                "detection-annotations"
            };
            if seq.kind.key() != expected {
                return Err(at.invalid(
                    "seqLabel",
                    format!("expected `{expected}`, found `{}`", seq.kind.key()),
                ));
            }
            let used = seq.frames.iter().flat_map(|f| {
                let boxes = f.boxes.iter().flatten().map(|s| s.info.class_id.value);
                let polylines = f.polylines.iter().flatten().map(|s| s.info.class_id.value);
                let polygons = f.polygons.iter().flatten().map(|s| s.info.class_id.value);
                let keypoints = f.keypoints.iter().flatten().map(|s| s.info.class_id.value);
                boxes.chain(polylines).chain(polygons).chain(keypoints).collect::<Vec<_>>()
            });
            metadata.insert("class-map".into(), class_map(used, job.labels, at)?);
            let bytes = pretty(&seq.to_value());
            (Value::String(uri()), Some(seq_label_file(bytes)))
        }
        SingleWorkerKind::CuboidDetection => {
            let list = field(content, "annotations", at)?
                .as_array()
                .ok_or_else(|| at.invalid("annotations", "expected an array"))?;
            let mut cuboids = Vec::with_capacity(list.len());
            for (i, value) in list.iter().enumerate() {
                let cuboid = Cuboid::from_value(value, "answerContent")
                    .map_err(|e| at.invalid(&format!("annotations[{i}]"), e.to_string()))?;
                cuboids.push(cuboid);
            }
            check_cuboids(&cuboids, at, "annotations")?;
            metadata.insert("objects".into(), Value::Array(Vec::new()));
            metadata.insert(
                "class-map".into(),
                class_map(cuboids.iter().map(|c| c.class_id.value), job.labels, at)?,
            );
            let annotations: Vec<Value> = cuboids.iter().map(Cuboid::to_value).collect();
            (json!({ "annotations": annotations }), None)
        }
        SingleWorkerKind::CuboidTracking => {
            let value = field(content, "seqLabel", at)?;
            let seq = SeqLabel::from_value(value, "answerContent.seqLabel")
                .map_err(|e| at.invalid("seqLabel", e.to_string()))?;
            let lidar: &PointCloudSeqLabel = match &seq {
                SeqLabel::PointCloud(p) => p,
                SeqLabel::SensorFusion(s) => &s.lidar,
                SeqLabel::Video(_) => {
                    return Err(at.invalid(
                        "seqLabel",
                        "expected 3D `tracking-annotations` with cuboids (frame-number, \
                         frame-name), found a video SeqLabel",
                    ));
                }
            };
            let cuboids: Vec<Cuboid> =
                lidar.frames.iter().flat_map(|f| f.annotations.iter().cloned()).collect();
            check_cuboids(&cuboids, at, "seqLabel")?;
            let frame_numbers: Vec<u64> = match job.frame_numbers {
                Some(numbers) => numbers.to_vec(),
                None => lidar.frames.iter().map(|f| f.frame_number.value).collect(),
            };
            let objects: Vec<Value> =
                frame_numbers.iter().map(|n| json!({ "frame-no": n, "confidence": [] })).collect();
            metadata.insert("objects".into(), Value::Array(objects));
            metadata.insert(
                "class-map".into(),
                class_map(cuboids.iter().map(|c| c.class_id.value), job.labels, at)?,
            );
            let bytes = pretty(&seq.to_value());
            (Value::String(uri()), Some(seq_label_file(bytes)))
        }
        SingleWorkerKind::PointSegmentation => {
            let encoded = field(content, "pointLabels", at)?
                .as_str()
                .ok_or_else(|| at.invalid("pointLabels", "expected a string"))?;
            let zlib = base64::decode(encoded).map_err(|(offset, why)| {
                at.invalid("pointLabels", format!("base64 at offset {offset}: {why}"))
            })?;
            let count = field(content, "pointCount", at)?
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| at.invalid("pointCount", "expected a non-negative integer"))?;
            let labels = point_labels::decode(&zlib, Some(count), "answerContent.pointLabels")
                .map_err(|e| at.invalid("pointLabels", e.to_string()))?;
            let colors = field(content, "color-map", at)?
                .as_object()
                .ok_or_else(|| at.invalid("color-map", "expected an object"))?;
            let mut color_map = Map::new();
            for (key, entry) in colors {
                let index: u8 = key
                    .parse()
                    .map_err(|_| at.invalid("color-map", format!("key `{key}` is not 0–255")))?;
                let entry = entry
                    .as_object()
                    .ok_or_else(|| at.invalid(&format!("color-map.{key}"), "expected an object"))?;
                let name = entry
                    .get("class-name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| at.invalid(&format!("color-map.{key}.class-name"), "missing"))?;
                let color = entry
                    .get("hex-color")
                    .and_then(Value::as_str)
                    .ok_or_else(|| at.invalid(&format!("color-map.{key}.hex-color"), "missing"))?;
                if index > 0 && !job.labels.iter().any(|l| l == name) {
                    return Err(AnnotationError::UnknownLabel {
                        object: answers.dataset_object_id.clone(),
                        worker: answer.worker_id.clone(),
                        label: name.to_owned(),
                    });
                }
                color_map.insert(
                    key.clone(),
                    json!({ "class-name": name, "hex-color": color, "confidence": 0.0 }),
                );
            }
            if let Some(bad) = labels.iter().find(|&&l| !color_map.contains_key(&l.to_string())) {
                return Err(at.invalid(
                    "pointLabels",
                    format!("class {bad} is used by a point but missing from color-map"),
                ));
            }
            metadata.insert("color-map".into(), Value::Object(color_map));
            let file = OutputFile {
                name: output_file_name(job).unwrap_or_else(|| "labels.zlib".into()),
                bytes: zlib,
                content_type: "application/zlib",
            };
            (Value::String(uri()), Some(file))
        }
    };
    metadata.insert("type".into(), job.kind.output_type().into());
    metadata.insert("human-annotated".into(), HUMAN_ANNOTATED.into());
    metadata.insert("creation-date".into(), context.creation_date.clone().into());
    metadata.insert("job-name".into(), context.job_name.clone().into());
    if job.audit {
        let status = match content.get("adjustmentStatus") {
            None => "unadjusted",
            Some(Value::String(s)) if s == "adjusted" || s == "unadjusted" => s.as_str(),
            Some(other) => {
                return Err(at.invalid(
                    "adjustmentStatus",
                    format!("expected \"adjusted\" or \"unadjusted\", found {other}"),
                ));
            }
        };
        metadata.insert("adjustment-status".into(), status.into());
    }
    if matches!(job.kind, SingleWorkerKind::CuboidDetection | SingleWorkerKind::PointSegmentation)
        && let Some(attributes) = content.get("dataset-object-attributes")
    {
        if !attributes.is_object() {
            return Err(at.invalid("dataset-object-attributes", "expected an object"));
        }
        metadata.insert("dataset-object-attributes".into(), attributes.clone());
    }
    Ok(SingleWorkerOutput {
        record: LabelRecord {
            dataset_object_id: answers.dataset_object_id.clone(),
            label,
            metadata: Value::Object(metadata),
        },
        file,
    })
}

fn field<'a>(
    content: &'a Map<String, Value>,
    name: &str,
    at: AnswerAt<'_>,
) -> Result<&'a Value, AnnotationError> {
    content.get(name).ok_or_else(|| at.invalid(name, "required field is missing"))
}

/// `class-map` of the classes used (ascending), each checked against the label list.
fn class_map(
    used: impl IntoIterator<Item = u64>,
    labels: &[String],
    at: AnswerAt<'_>,
) -> Result<Value, AnnotationError> {
    let used: BTreeSet<u64> = used.into_iter().collect();
    let mut map = Map::new();
    for id in used {
        let name = usize::try_from(id).ok().and_then(|i| labels.get(i)).ok_or_else(|| {
            at.invalid(
                "class-id",
                format!("class {id} is not in the job's {} labels", labels.len()),
            )
        })?;
        map.insert(id.to_string(), Value::String(name.clone()));
    }
    Ok(Value::Object(map))
}

/// Cuboids must have finite values and positive sizes.
fn check_cuboids(cuboids: &[Cuboid], at: AnswerAt<'_>, field: &str) -> Result<(), AnnotationError> {
    for (i, c) in cuboids.iter().enumerate() {
        let values = [c.center_x, c.center_y, c.center_z, c.roll, c.pitch, c.yaw];
        let sizes = [c.length, c.width, c.height];
        if values.iter().chain(&sizes).any(|v| !v.is_finite()) || sizes.iter().any(|&s| s <= 0.0) {
            let name = c.object_name.as_deref().unwrap_or("?");
            return Err(at.invalid(
                field,
                format!("cuboid {i} ({name}): sizes must be positive and every value finite"),
            ));
        }
    }
    Ok(())
}

fn pretty(value: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap_or_else(|_| value.to_string().into_bytes())
}

fn seq_label_file(bytes: Vec<u8>) -> OutputFile {
    OutputFile { name: SEQ_LABEL_FILE_NAME.into(), bytes, content_type: "application/json" }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::annotation::consolidate::WorkerAnswer;

    fn labels() -> Vec<String> {
        vec!["Car".into(), "Person".into(), "Pole".into()]
    }

    fn context() -> RecordContext {
        RecordContext::new("labeling-job/demo", "2026-11-28T10:00:00.000000")
    }

    fn one(content: Value) -> ObjectAnswers {
        ObjectAnswers::new("0", vec![WorkerAnswer::new("alice", content)])
    }

    fn job(kind: SingleWorkerKind, labels: &[String]) -> SingleWorkerJob<'_> {
        SingleWorkerJob { kind, labels, audit: false, frame_file: None, frame_numbers: None }
    }

    #[test]
    fn video_tracking_writes_seq_label_and_class_map_of_used_classes() {
        let labels = labels();
        let seq = json!({"tracking-annotations": [
            {"frame-no": 0, "frame": "f0.jpg", "frame-attributes": {},
             "annotations": [{"height": 10, "width": 20, "top": 5, "left": 7, "class-id": "1",
                "label-category-attributes": {}, "object-id": "u-1", "object-name": "Person:1"}]},
            {"frame-no": 1, "frame": "f1.jpg", "frame-attributes": {},
             "annotations": [{"height": 10, "width": 20, "top": 6, "left": 8, "class-id": "1",
                "label-category-attributes": {}, "object-id": "u-1", "object-name": "Person:1"}]}
        ]});
        let mut job = job(SingleWorkerKind::VideoTracking, &labels);
        job.audit = true;
        let out = consolidate_single_worker(
            &one(json!({"seqLabel": seq, "adjustmentStatus": "adjusted"})),
            &job,
            Some("s3://b/out/SeqLabel.json"),
            &context(),
        )
        .unwrap();
        assert_eq!(out.record.label, json!("s3://b/out/SeqLabel.json"));
        assert_eq!(
            out.record.metadata,
            json!({"class-map": {"1": "Person"}, "type": "groundtruth/video-object-tracking",
                   "human-annotated": "yes", "creation-date": "2026-11-28T10:00:00.000000",
                   "job-name": "labeling-job/demo", "adjustment-status": "adjusted"})
        );
        let file = out.file.unwrap();
        assert_eq!(file.name, "SeqLabel.json");
        let written: Value = serde_json::from_slice(&file.bytes).unwrap();
        assert_eq!(written, seq);
    }

    #[test]
    fn video_detection_refuses_tracking_lists_and_unknown_classes() {
        let labels = labels();
        let tracking = json!({"seqLabel": {"tracking-annotations": []}});
        let err = consolidate_single_worker(
            &one(tracking),
            &job(SingleWorkerKind::VideoDetection, &labels),
            None,
            &context(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("detection-annotations"), "{err}");
        let unknown = json!({"seqLabel": {"detection-annotations": [{"frame-no": 0, "frame": "a.jpg",
            "annotations": [{"height": 1, "width": 1, "top": 0, "left": 0, "class-id": "7"}]}]}});
        let err = consolidate_single_worker(
            &one(unknown),
            &job(SingleWorkerKind::VideoDetection, &labels),
            None,
            &context(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("class 7"), "{err}");
    }

    #[test]
    fn cuboid_detection_is_inline_with_frame_attributes() {
        let labels = labels();
        let cuboid = json!({"label-category-attributes": {"Occlusion": "Partial"},
            "object-name": "Car:1", "class-id": 0, "center-x": -2.616, "center-y": 125.041,
            "center-z": 0.311, "length": 2.993, "width": 1.836, "height": 1.323,
            "roll": 0, "pitch": 0, "yaw": 1.648});
        let out = consolidate_single_worker(
            &one(json!({"annotations": [cuboid.clone()],
                        "dataset-object-attributes": {"weather": "rain"}})),
            &job(SingleWorkerKind::CuboidDetection, &labels),
            None,
            &context(),
        )
        .unwrap();
        assert_eq!(out.record.label, json!({"annotations": [cuboid]}));
        assert_eq!(out.record.metadata["objects"], json!([]));
        assert_eq!(out.record.metadata["class-map"], json!({"0": "Car"}));
        assert_eq!(out.record.metadata["type"], "groundtruth/point_cloud_object_detection");
        assert_eq!(out.record.metadata["dataset-object-attributes"], json!({"weather": "rain"}));
        assert!(out.record.metadata.get("adjustment-status").is_none());
        assert_eq!(out.file, None);
    }

    #[test]
    fn cuboids_with_a_zero_size_are_refused_naming_the_cuboid() {
        let labels = labels();
        let cuboid = json!({"object-name": "Car:1", "class-id": 0, "center-x": 0, "center-y": 0,
            "center-z": 0, "length": 0, "width": 1, "height": 1, "roll": 0, "pitch": 0, "yaw": 0});
        let err = consolidate_single_worker(
            &one(json!({"annotations": [cuboid]})),
            &job(SingleWorkerKind::CuboidDetection, &labels),
            None,
            &context(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("Car:1"), "{err}");
    }

    #[test]
    fn cuboid_tracking_lists_every_sequence_frame_in_objects() {
        let labels = labels();
        let seq = json!({"tracking-annotations": [{"frame-number": 0, "frame-name": "0.pcd",
            "frame-attributes": {}, "annotations": [{"label-category-attributes": {},
            "object-name": "Car:4", "class-id": 0, "center-x": -2.29, "center-y": 103.74,
            "center-z": 0.376, "length": 4, "width": 2, "height": 2, "roll": 0, "pitch": 0,
            "yaw": 1.583, "object-id": "ae5d"}]}]});
        let numbers = [300, 301];
        let mut job = job(SingleWorkerKind::CuboidTracking, &labels);
        job.frame_numbers = Some(&numbers);
        let out = consolidate_single_worker(
            &one(json!({"seqLabel": seq})),
            &job,
            Some("s3://b/o/SeqLabel.json"),
            &context(),
        )
        .unwrap();
        assert_eq!(
            out.record.metadata["objects"],
            json!([{"frame-no": 300, "confidence": []}, {"frame-no": 301, "confidence": []}])
        );
        assert_eq!(out.record.metadata["type"], "groundtruth/point_cloud_object_tracking");
        let written: Value = serde_json::from_slice(&out.file.unwrap().bytes).unwrap();
        assert_eq!(written, seq);
    }

    #[test]
    fn point_segmentation_writes_the_zlib_named_after_the_frame() {
        let labels = labels();
        let points = [0u8, 1, 1, 3, 0];
        let content = json!({
            "pointLabels": base64::encode(&point_labels::encode(&points)),
            "pointCount": 5,
            "color-map": {"0": {"class-name": "Background", "hex-color": "#ffffff"},
                          "1": {"class-name": "Car", "hex-color": "#2ca02c"},
                          "3": {"class-name": "Pole", "hex-color": "#1f77b4"}},
            "dataset-object-attributes": {"weather": "clear"}
        });
        let mut job = job(SingleWorkerKind::PointSegmentation, &labels);
        job.frame_file = Some("lidar/frame1.bin");
        assert_eq!(output_file_name(&job).as_deref(), Some("frame1.zlib"));
        let out = consolidate_single_worker(
            &one(content),
            &job,
            Some("s3://b/o/frame1.zlib"),
            &context(),
        )
        .unwrap();
        let file = out.file.unwrap();
        assert_eq!(file.name, "frame1.zlib");
        assert_eq!(point_labels::decode(&file.bytes, Some(5), "t").unwrap(), points);
        assert_eq!(
            out.record.metadata["color-map"]["1"],
            json!({"class-name": "Car", "hex-color": "#2ca02c", "confidence": 0.0})
        );
        assert_eq!(out.record.label, json!("s3://b/o/frame1.zlib"));
    }

    #[test]
    fn point_segmentation_checks_counts_and_colors() {
        let labels = labels();
        let job = job(SingleWorkerKind::PointSegmentation, &labels);
        let base = |points: &[u8], count: u64| {
            json!({"pointLabels": base64::encode(&point_labels::encode(points)),
                   "pointCount": count,
                   "color-map": {"0": {"class-name": "Background", "hex-color": "#ffffff"}}})
        };
        let err =
            consolidate_single_worker(&one(base(&[0, 0], 3)), &job, None, &context()).unwrap_err();
        assert!(err.to_string().contains("3 points"), "{err}");
        let err =
            consolidate_single_worker(&one(base(&[0, 2], 2)), &job, None, &context()).unwrap_err();
        assert!(err.to_string().contains("class 2"), "{err}");
    }

    #[test]
    fn two_workers_are_refused() {
        let labels = labels();
        let answers = ObjectAnswers::new(
            "4",
            vec![WorkerAnswer::new("a", json!({})), WorkerAnswer::new("b", json!({}))],
        );
        let err = consolidate_single_worker(
            &answers,
            &job(SingleWorkerKind::CuboidDetection, &labels),
            None,
            &context(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("one worker"), "{err}");
    }
}
