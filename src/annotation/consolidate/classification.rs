//! Single-label classification (image, text) and label verification: Dawid–Skene EM over a batch
//! (spec §5.3, §5.5, §5.8, §7.2).

use serde_json::{Map, Value, json};

use super::answers::{AnswerAt, LabelIndex, answers_by_worker};
use super::em::{self, EmOptions, Observation};
use super::{HUMAN_ANNOTATED, LabelRecord, ObjectAnswers, RecordContext, round_confidence};
use crate::annotation::AnnotationError;
use std::collections::BTreeMap;

/// The highest confidence written for single-label classification and verification.
///
/// Ground Truth's production consolidation evidently clips its posterior there: in a real
/// 302-object image-classification output (`testdata/sagemaker-examples/
/// birds-image-classification.output.manifest`, 5 workers per object) 297 objects carry exactly
/// 0.95 and none more. Clipping also keeps a small batch, whose estimated prior feeds back into
/// itself, from claiming certainty.
pub const MAX_CLASSIFICATION_CONFIDENCE: f64 = 0.95;

/// What kind of content was classified: decides the `type` string and the form element read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassificationKind {
    /// Images (`crowd-image-classifier` / `crowd-image-classifier-multi-select`).
    Image,
    /// Text (`crowd-classifier` / `crowd-classifier-multi-select`).
    Text,
}

impl ClassificationKind {
    /// The metadata `type` of single-label output.
    pub fn single_label_type(self) -> &'static str {
        match self {
            Self::Image => "groundtruth/image-classification",
            Self::Text => "groundtruth/text-classification",
        }
    }

    /// The metadata `type` of multi-label output.
    pub fn multi_label_type(self) -> &'static str {
        match self {
            Self::Image => "groundtruth/image-classification-multilabel",
            Self::Text => "groundtruth/text-classification-multilabel",
        }
    }

    /// The built-in template's single-choice element name first, then the other modality's.
    pub(super) fn single_label_elements(self) -> &'static [&'static str] {
        match self {
            Self::Image => &["crowd-image-classifier", "crowd-classifier"],
            Self::Text => &["crowd-classifier", "crowd-image-classifier"],
        }
    }

    /// The built-in template's multi-choice element name first, then the other modality's.
    pub(super) fn multi_label_elements(self) -> &'static [&'static str] {
        match self {
            Self::Image => {
                &["crowd-image-classifier-multi-select", "crowd-classifier-multi-select"]
            }
            Self::Text => &["crowd-classifier-multi-select", "crowd-image-classifier-multi-select"],
        }
    }
}

/// The verification template's element (a `crowd-image-classifier` with an overlay).
const VERIFICATION_ELEMENTS: &[&str] = &["crowd-image-classifier", "crowd-classifier"];

/// The outcome for one object.
struct Decision {
    class: usize,
    confidence: f64,
    comments: Vec<String>,
}

/// Reads every object's answers (`{"label": …, "workerComment"?: …}` under one of `elements`), runs
/// the EM over the whole batch and decides each object.
///
/// An object only one worker labeled takes that worker's answer with confidence 0 (spec §5.17,
/// §7.1); it still informs the worker's confusion matrix. Otherwise the class is the posterior's
/// argmax (ties: the lowest class index) and the confidence the posterior rounded to two decimals
/// and clipped at [`MAX_CLASSIFICATION_CONFIDENCE`].
fn decide(
    batch: &[ObjectAnswers],
    labels: &LabelIndex<'_>,
    elements: &[&str],
    options: &EmOptions,
) -> Result<Vec<Decision>, AnnotationError> {
    let mut worker_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut answered: Vec<Vec<(&str, usize)>> = Vec::with_capacity(batch.len());
    let mut comments: Vec<Vec<String>> = Vec::with_capacity(batch.len());
    for object in batch {
        let mut object_answers = Vec::new();
        let mut object_comments = Vec::new();
        for answer in answers_by_worker(object)? {
            let at = AnswerAt { object, answer };
            let (name, element) = at.element(elements, "label")?;
            let label = at.str_field(element, name, "label")?;
            object_answers
                .push((answer.worker_id.as_str(), labels.index_of(object, answer, label)?));
            match element.get("workerComment") {
                None | Some(Value::Null) => {}
                Some(Value::String(comment)) => {
                    let comment = comment.trim();
                    if !comment.is_empty() {
                        object_comments.push(comment.to_owned());
                    }
                }
                Some(_) => {
                    return Err(at.invalid(&format!("{name}.workerComment"), "must be a string"));
                }
            }
            worker_index.insert(answer.worker_id.as_str(), 0);
        }
        answered.push(object_answers);
        comments.push(object_comments);
    }
    // Renumber workers in id order so the estimator's arithmetic does not depend on batch order.
    for (index, slot) in worker_index.values_mut().enumerate() {
        *slot = index;
    }
    let items: Vec<Vec<Observation>> = answered
        .iter()
        .map(|object| {
            object
                .iter()
                .map(|(worker, class)| Observation {
                    worker: worker_index.get(worker).copied().unwrap_or_default(),
                    class: *class,
                })
                .collect()
        })
        .collect();
    let estimate = em::estimate(&items, worker_index.len(), labels.len(), options)?;

    let decisions = answered
        .iter()
        .zip(estimate.posteriors)
        .zip(comments)
        .map(|((object, posterior), comments)| match object.as_slice() {
            [(_, only)] => Decision { class: *only, confidence: 0.0, comments },
            _ => {
                let (class, best) = posterior.iter().enumerate().fold(
                    (0, f64::NEG_INFINITY),
                    |(bi, bp), (i, &p)| {
                        if p > bp { (i, p) } else { (bi, bp) }
                    },
                );
                let confidence = round_confidence(best).min(MAX_CLASSIFICATION_CONFIDENCE);
                Decision { class, confidence, comments }
            }
        })
        .collect();
    Ok(decisions)
}

/// Consolidates single-label classification answers (`{"crowd-image-classifier": {"label": "cat"}}`
/// or `{"crowd-classifier": {"label": "positive"}}`) for a batch of objects.
///
/// Worker confusion matrices and class priors are estimated across the whole batch ([`em`]), so
/// pass every object that is ready together. Returns one record per object in batch order: label =
/// class index (a number), metadata `class-name`, `confidence`, `type`, `job-name`,
/// `human-annotated`, `creation-date` (spec §5.3, §5.5).
pub fn consolidate_single_label(
    batch: &[ObjectAnswers],
    labels: &[String],
    kind: ClassificationKind,
    context: &RecordContext,
    options: &EmOptions,
) -> Result<Vec<LabelRecord>, AnnotationError> {
    let labels = LabelIndex::new(labels)?;
    let decisions = decide(batch, &labels, kind.single_label_elements(), options)?;
    Ok(batch
        .iter()
        .zip(decisions)
        .map(|(object, decision)| LabelRecord {
            dataset_object_id: object.dataset_object_id.clone(),
            label: json!(decision.class),
            metadata: json!({
                "class-name": labels.name(decision.class),
                "confidence": decision.confidence,
                "type": kind.single_label_type(),
                "job-name": context.job_name,
                "human-annotated": HUMAN_ANNOTATED,
                "creation-date": context.creation_date,
            }),
        })
        .collect())
}

/// Consolidates label-verification answers for a batch of objects: a classification over the
/// verification job's own categories (e.g. `["good", "bad"]`), read from the verification template's
/// `crowd-image-classifier` element, with the workers' `workerComment`s collected.
///
/// Returns one record per object in batch order: label = category index as a string (`"1"`, as in
/// spec §5.8), metadata `class-name`, `confidence`, `type` `groundtruth/label-verification`,
/// `job-name`, `human-annotated`, `creation-date`, and `worker-feedback` (`[{"comment": …}]` in
/// worker-id order; omitted when no worker commented).
pub fn consolidate_verification(
    batch: &[ObjectAnswers],
    verdict_labels: &[String],
    context: &RecordContext,
    options: &EmOptions,
) -> Result<Vec<LabelRecord>, AnnotationError> {
    let labels = LabelIndex::new(verdict_labels)?;
    let decisions = decide(batch, &labels, VERIFICATION_ELEMENTS, options)?;
    Ok(batch
        .iter()
        .zip(decisions)
        .map(|(object, decision)| {
            let mut metadata = Map::new();
            metadata.insert("class-name".into(), json!(labels.name(decision.class)));
            metadata.insert("confidence".into(), json!(decision.confidence));
            metadata.insert("type".into(), json!("groundtruth/label-verification"));
            metadata.insert("job-name".into(), json!(context.job_name));
            metadata.insert("human-annotated".into(), json!(HUMAN_ANNOTATED));
            metadata.insert("creation-date".into(), json!(context.creation_date));
            if !decision.comments.is_empty() {
                let feedback: Vec<Value> =
                    decision.comments.iter().map(|c| json!({ "comment": c })).collect();
                metadata.insert("worker-feedback".into(), Value::Array(feedback));
            }
            LabelRecord {
                dataset_object_id: object.dataset_object_id.clone(),
                label: json!(decision.class.to_string()),
                metadata: Value::Object(metadata),
            }
        })
        .collect())
}
