//! Multi-label classification (image, text): a vote per class (spec §5.4).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::answers::{AnswerAt, LabelIndex, answers_by_worker};
use super::{
    ClassificationKind, HUMAN_ANNOTATED, LabelRecord, ObjectAnswers, RecordContext,
    round_confidence,
};
use crate::annotation::AnnotationError;

/// Consolidates multi-label answers (`{"crowd-image-classifier-multi-select": {"labels": ["a",
/// "b"]}}` or `crowd-classifier-multi-select`) for one object.
///
/// The label is the list of class indices that **at least one** worker chose (spec §5.4), ascending.
/// Each listed class gets a confidence: the fraction of the object's workers who chose it, rounded
/// to two decimals; `0.0` when only one worker labeled the object (spec §5.17). A worker listing a
/// class twice counts once. Metadata: `job-name`, `class-map` and `confidence-map` (keys = class
/// indices as strings, ascending), `human-annotated`, `creation-date`, `type`.
pub fn consolidate_multi_label(
    object: &ObjectAnswers,
    labels: &[String],
    kind: ClassificationKind,
    context: &RecordContext,
) -> Result<LabelRecord, AnnotationError> {
    let labels = LabelIndex::new(labels)?;
    let answers = answers_by_worker(object)?;
    let mut votes = vec![0usize; labels.len()];
    for answer in &answers {
        let at = AnswerAt { object, answer };
        let (name, element) = at.element(kind.multi_label_elements(), "labels")?;
        let field = format!("{name}.labels");
        let chosen = element
            .get("labels")
            .and_then(Value::as_array)
            .ok_or_else(|| at.invalid(&field, "must be an array of label names"))?;
        let mut classes = BTreeSet::new();
        for (i, label) in chosen.iter().enumerate() {
            let label = label
                .as_str()
                .ok_or_else(|| at.invalid(&format!("{field}[{i}]"), "must be a string"))?;
            classes.insert(labels.index_of(object, answer, label)?);
        }
        for class in classes {
            if let Some(v) = votes.get_mut(class) {
                *v += 1;
            }
        }
    }

    let workers = answers.len();
    let mut chosen = Vec::new();
    let mut class_map = Map::new();
    let mut confidence_map = Map::new();
    for (class, &count) in votes.iter().enumerate().filter(|(_, count)| **count > 0) {
        let confidence =
            if workers == 1 { 0.0 } else { round_confidence(count as f64 / workers as f64) };
        chosen.push(json!(class));
        class_map.insert(class.to_string(), json!(labels.name(class)));
        confidence_map.insert(class.to_string(), json!(confidence));
    }
    Ok(LabelRecord {
        dataset_object_id: object.dataset_object_id.clone(),
        label: Value::Array(chosen),
        metadata: json!({
            "job-name": context.job_name,
            "class-map": class_map,
            "human-annotated": HUMAN_ANNOTATED,
            "creation-date": context.creation_date,
            "confidence-map": confidence_map,
            "type": kind.multi_label_type(),
        }),
    })
}
