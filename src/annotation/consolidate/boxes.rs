//! Bounding boxes: cluster the workers' boxes by IoU and average each cluster (spec §5.7, §7.2).

use serde_json::{Map, Value, json};

use super::answers::{AnswerAt, LabelIndex, answers_by_worker};
use super::{
    HUMAN_ANNOTATED, LabelRecord, ObjectAnswers, RecordContext, json_number, round_confidence,
};
use crate::annotation::AnnotationError;
use crate::geometry::boxes::Aabb2;

/// The built-in bounding-box template's element name.
const BOUNDING_BOX_ELEMENT: &str = "boundingBox";

/// How boxes are matched and what the output image size says.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundingBoxOptions {
    /// Two boxes of the same class belong together when their IoU is at least this. Default 0.5.
    pub iou_threshold: f64,
    /// The `depth` (channel count) written in `image_size`; worker answers only report width and
    /// height. Default 3.
    pub image_depth: u32,
}

impl Default for BoundingBoxOptions {
    fn default() -> Self {
        Self { iou_threshold: 0.5, image_depth: 3 }
    }
}

/// Boxes of one class that workers drew around the same object.
struct Cluster {
    class: usize,
    /// (worker position in id order, box).
    members: Vec<(usize, Aabb2)>,
    /// The average of the members.
    mean: Aabb2,
}

impl Cluster {
    fn new(class: usize, worker: usize, b: Aabb2) -> Self {
        Self { class, members: vec![(worker, b)], mean: b }
    }

    fn recompute_mean(&mut self) {
        let n = self.members.len() as f64;
        let (mut left, mut top, mut width, mut height) = (0.0, 0.0, 0.0, 0.0);
        for (_, b) in &self.members {
            left += b.left();
            top += b.top();
            width += b.width();
            height += b.height();
        }
        self.mean = Aabb2::from_left_top_size(left / n, top / n, width / n, height / n);
    }
}

/// Consolidates bounding-box answers (`{"boundingBox": {"boundingBoxes": [{"label", "left", "top",
/// "width", "height"}], "inputImageProperties": {"width", "height"}}}`) for one object.
///
/// Method (Ground Truth: "finds the most similar boxes across workers using the Jaccard index and
/// averages them"):
/// 1. Workers are taken in id order. The first worker's boxes each start a cluster. Every next
///    worker's boxes are matched one-to-one to clusters of the same class that do not yet hold a box
///    of that worker, when the IoU with the cluster's current average is at least
///    [`BoundingBoxOptions::iou_threshold`]; pairs are taken greedily by descending IoU (ties: the
///    older cluster, then the earlier box). Unmatched boxes start new clusters.
/// 2. A cluster is kept when at least half of the object's workers contributed to it
///    (`2·support ≥ workers`): with 3 workers a box needs 2, with 5 workers 3; with 1 or 2 workers
///    every box is kept.
/// 3. The output box is the mean of the cluster's `left`, `top`, `width`, `height` (not rounded; an
///    integral mean is written as an integer, as Ground Truth does).
/// 4. Its confidence is `support / workers × mean IoU(member, output box)` rounded to two decimals
///    (the production formula is unpublished, spec §11.1 item 8); `0.0` when only one worker
///    labeled the object (spec §5.17).
///
/// Output boxes come in cluster creation order. Label: `{"image_size": [{width, height, depth}],
/// "annotations": [{class_id, left, top, width, height}]}`; metadata: `objects` (one
/// `{"confidence"}` per annotation, in the same order), `class-map` (classes present, ascending
/// index), `type`, `human-annotated`, `creation-date`, `job-name`. The image size comes from the
/// workers' `inputImageProperties`, which must agree.
pub fn consolidate_bounding_boxes(
    object: &ObjectAnswers,
    labels: &[String],
    context: &RecordContext,
    options: &BoundingBoxOptions,
) -> Result<LabelRecord, AnnotationError> {
    let labels = LabelIndex::new(labels)?;
    let answers = answers_by_worker(object)?;

    let mut image_size: Option<((u32, u32), &str)> = None;
    let mut clusters: Vec<Cluster> = Vec::new();
    for (worker, answer) in answers.iter().enumerate() {
        let at = AnswerAt { object, answer };
        let (name, element) = at.element(&[BOUNDING_BOX_ELEMENT], "boundingBoxes")?;
        if let Some(size) = at.image_properties(element, name)? {
            match image_size {
                None => image_size = Some((size, answer.worker_id.as_str())),
                Some((first, first_worker)) if first != size => {
                    return Err(at.invalid(
                        &format!("{name}.inputImageProperties"),
                        format!(
                            "image is {}x{} px here but {}x{} px in worker {first_worker}'s answer",
                            size.0, size.1, first.0, first.1
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        let boxes = read_boxes(&at, element, name, &labels)?;
        add_worker_boxes(&mut clusters, worker, &boxes, options.iou_threshold);
    }
    let Some(((width_px, height_px), _)) = image_size else {
        let worker = answers.first().map(|a| a.worker_id.clone()).unwrap_or_default();
        return Err(AnnotationError::InvalidAnswer {
            object: object.dataset_object_id.clone(),
            worker,
            field: format!("{BOUNDING_BOX_ELEMENT}.inputImageProperties"),
            message: "no worker's answer gives the image size".into(),
        });
    };

    let workers = answers.len();
    let mut annotations = Vec::new();
    let mut objects = Vec::new();
    let mut present = vec![false; labels.len()];
    for cluster in clusters.iter().filter(|c| 2 * c.members.len() >= workers) {
        let b = cluster.mean;
        annotations.push(json!({
            "class_id": cluster.class,
            "left": json_number(b.left()),
            "top": json_number(b.top()),
            "width": json_number(b.width()),
            "height": json_number(b.height()),
        }));
        let confidence = if workers == 1 {
            0.0
        } else {
            let support = cluster.members.len() as f64;
            let mean_iou = cluster.members.iter().map(|(_, m)| m.iou(&b)).sum::<f64>() / support;
            round_confidence(support / workers as f64 * mean_iou)
        };
        objects.push(json!({ "confidence": confidence }));
        if let Some(p) = present.get_mut(cluster.class) {
            *p = true;
        }
    }
    let class_map: Map<String, Value> = present
        .iter()
        .enumerate()
        .filter(|(_, p)| **p)
        .map(|(class, _)| (class.to_string(), json!(labels.name(class))))
        .collect();

    Ok(LabelRecord {
        dataset_object_id: object.dataset_object_id.clone(),
        label: json!({
            "image_size": [{ "width": width_px, "height": height_px, "depth": options.image_depth }],
            "annotations": annotations,
        }),
        metadata: json!({
            "objects": objects,
            "class-map": class_map,
            "type": "groundtruth/object-detection",
            "human-annotated": HUMAN_ANNOTATED,
            "creation-date": context.creation_date,
            "job-name": context.job_name,
        }),
    })
}

/// One worker's boxes as (class, box).
fn read_boxes(
    at: &AnswerAt<'_>,
    element: &Map<String, Value>,
    name: &str,
    labels: &LabelIndex<'_>,
) -> Result<Vec<(usize, Aabb2)>, AnnotationError> {
    let field = format!("{name}.boundingBoxes");
    let list = element
        .get("boundingBoxes")
        .and_then(Value::as_array)
        .ok_or_else(|| at.invalid(&field, "must be an array of boxes"))?;
    list.iter()
        .enumerate()
        .map(|(i, value)| {
            let path = format!("{field}[{i}]");
            let b = value.as_object().ok_or_else(|| at.invalid(&path, "must be a JSON object"))?;
            let label = at.str_field(b, &path, "label")?;
            let class = labels.index_of(at.object, at.answer, label)?;
            let left = at.number_field(b, &path, "left")?;
            let top = at.number_field(b, &path, "top")?;
            let width = at.number_field(b, &path, "width")?;
            let height = at.number_field(b, &path, "height")?;
            Ok((class, Aabb2::from_left_top_size(left, top, width, height)))
        })
        .collect()
}

/// Step 1 of [`consolidate_bounding_boxes`] for one worker.
fn add_worker_boxes(
    clusters: &mut Vec<Cluster>,
    worker: usize,
    boxes: &[(usize, Aabb2)],
    iou_threshold: f64,
) {
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (box_index, (class, b)) in boxes.iter().enumerate() {
        for (cluster_index, cluster) in clusters.iter().enumerate() {
            if cluster.class != *class || cluster.members.iter().any(|(w, _)| *w == worker) {
                continue;
            }
            let iou = cluster.mean.iou(b);
            if iou >= iou_threshold && iou > 0.0 {
                candidates.push((iou, cluster_index, box_index));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));

    let mut box_taken = vec![false; boxes.len()];
    let mut cluster_taken = vec![false; clusters.len()];
    for (_, cluster_index, box_index) in candidates {
        let (Some(bt), Some(ct)) = (box_taken.get(box_index), cluster_taken.get(cluster_index))
        else {
            continue;
        };
        if *bt || *ct {
            continue;
        }
        if let (Some(cluster), Some((_, b))) =
            (clusters.get_mut(cluster_index), boxes.get(box_index))
        {
            cluster.members.push((worker, *b));
            box_taken[box_index] = true;
            cluster_taken[cluster_index] = true;
        }
    }
    for cluster in clusters.iter_mut().zip(&cluster_taken).filter(|(_, t)| **t).map(|(c, _)| c) {
        cluster.recompute_mean();
    }
    for ((class, b), _) in boxes.iter().zip(&box_taken).filter(|(_, taken)| !**taken) {
        clusters.push(Cluster::new(*class, worker, *b));
    }
}
