//! Annotation consolidation: several workers' answers for a data object become one label value and
//! its `-metadata` object, exactly in Ground Truth's output-manifest shape for the task type.
//!
//! Inputs are the workers' `answerContent` objects as Ground Truth's built-in worker templates submit
//! them (spec §6, §9.5), the job's label list (class names in order; the order defines class
//! indices) and a [`RecordContext`] carrying the job name and creation date to stamp. Outputs are
//! [`LabelRecord`]s holding `serde_json::Value`s for `<LabelAttributeName>` and
//! `<LabelAttributeName>-metadata`.
//!
//! | task type | entry point | method |
//! | --- | --- | --- |
//! | image / text classification (single label) | [`consolidate_single_label`] | Dawid–Skene EM over a batch ([`em`]) |
//! | label verification | [`consolidate_verification`] | the same EM over the verdicts, plus worker comments |
//! | image / text multi-label classification | [`consolidate_multi_label`] | per-class vote |
//! | bounding box | [`consolidate_bounding_boxes`] | IoU clustering, averaged boxes |
//! | image semantic segmentation | [`consolidate_semantic_segmentation`] | per-pixel vote, ties by neighbourhood |
//! | video frames, 3D point clouds | [`consolidate_single_worker`] | one worker: checked and shaped into `SeqLabel.json`, inline cuboids or a `.zlib` |
//!
//! Everything here is a pure function: no I/O, no clock, no randomness. Answers are processed in
//! worker-id order, so the result does not depend on the order in which workers submitted, and
//! consolidating the same inputs twice gives byte-identical JSON.
//!
//! Confidence follows spec §5.17: a data object that only one worker labeled gets `0.0`.
//!
//! Must not depend on `store`, `render`, `ui`, `app` or `cli`.

mod answers;
pub(crate) mod base64;
mod boxes;
mod classification;
pub mod em;
mod multilabel;
pub(crate) mod png;
mod segmentation;
mod single_worker;

use serde_json::Value;

pub use boxes::{BoundingBoxOptions, consolidate_bounding_boxes};
pub use classification::{
    ClassificationKind, MAX_CLASSIFICATION_CONFIDENCE, consolidate_single_label,
    consolidate_verification,
};
pub use multilabel::consolidate_multi_label;
pub use segmentation::{
    BACKGROUND_CLASS_NAME, SegmentationOutput, consolidate_semantic_segmentation,
    segmentation_class_colors,
};
pub use single_worker::{
    OutputFile, SEQ_LABEL_FILE_NAME, SingleWorkerJob, SingleWorkerKind, SingleWorkerOutput,
    consolidate_single_worker, output_file_name,
};

/// One worker's answer for one data object: the worker id and the `answerContent` object of the
/// worker-response file (spec §6), e.g. `{"crowd-image-classifier": {"label": "cat"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerAnswer {
    /// The worker's id (`workerId`).
    pub worker_id: String,
    /// The submitted form, keyed by form element name.
    pub answer_content: Value,
}

impl WorkerAnswer {
    /// An answer from `worker_id`.
    pub fn new(worker_id: impl Into<String>, answer_content: Value) -> Self {
        Self { worker_id: worker_id.into(), answer_content }
    }
}

/// All workers' answers for one data object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectAnswers {
    /// The object's `datasetObjectId` (its 0-based line in the input manifest).
    pub dataset_object_id: String,
    /// One answer per worker, in any order.
    pub answers: Vec<WorkerAnswer>,
}

impl ObjectAnswers {
    /// The answers for object `dataset_object_id`.
    pub fn new(dataset_object_id: impl Into<String>, answers: Vec<WorkerAnswer>) -> Self {
        Self { dataset_object_id: dataset_object_id.into(), answers }
    }
}

/// What every record is stamped with: injected, so consolidation stays a pure function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordContext {
    /// The `job-name` metadata value, written as given (Ground Truth writes both `my-job` and
    /// `labeling-job/my-job`).
    pub job_name: String,
    /// The `creation-date` metadata value, e.g. `2023-02-01T10:00:00.000000` (spec §11).
    pub creation_date: String,
}

impl RecordContext {
    /// A context for `job_name` stamped `creation_date`.
    pub fn new(job_name: impl Into<String>, creation_date: impl Into<String>) -> Self {
        Self { job_name: job_name.into(), creation_date: creation_date.into() }
    }
}

/// One consolidated label: the value written under `<LabelAttributeName>` and the object written
/// under `<LabelAttributeName>-metadata` of the object's output-manifest line.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRecord {
    /// The object's `datasetObjectId`.
    pub dataset_object_id: String,
    /// The label value (class index, index list, box set, or mask URI).
    pub label: Value,
    /// The `-metadata` object.
    pub metadata: Value,
}

/// `"human-annotated"` for every record made here: all of them come from human workers.
const HUMAN_ANNOTATED: &str = "yes";

/// Rounds a confidence to two decimals, as Ground Truth writes it.
fn round_confidence(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A JSON number that is an integer when `x` is integral (as Ground Truth writes averaged box
/// coordinates: `859` but `164.60000000000002`), a float otherwise.
fn json_number(x: f64) -> Value {
    const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
    if x.is_finite() && x.fract() == 0.0 && x.abs() < EXACT_INTEGER_LIMIT {
        // Integral and inside the range where every integer is an exact f64.
        #[allow(clippy::cast_possible_truncation)]
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}
