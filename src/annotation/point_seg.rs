//! The editable document of a 3D point-cloud semantic-segmentation task (spec §5.15): one `u8`
//! class per point (0 = unlabeled / background, `i ≥ 1` = the job's label `i − 1`), painted in
//! screen space, plus the frame attributes (`dataset-object-attributes`).
//!
//! # Painting
//!
//! [`ProjectedCloud`] projects every point once per camera change (in parallel) through the
//! camera's `clip_from_local` matrix into the viewport's pixels and buckets the projections into
//! a grid of 16-pixel cells (a counting sort: the points of one cell are contiguous). A brush step
//! ([`ProjectedCloud::brush`]) then looks only at the cells under the capsule swept by the brush
//! between two pointer positions, and a lasso ([`ProjectedCloud::lasso`]) tests single points only
//! in the cells the polygon's edges cross: cells wholly inside or outside are decided by their
//! centre.
//!
//! The brush paints every point under the cursor, hidden ones included, as Ground Truth's does.
//! With `visible_only` it paints only the points in front: while projecting, each cell keeps the
//! nearest depth per block of `point_size` pixels, and a point is visible when it lies within
//! [`ProjectionOptions::surface_thickness_m`] (or 2 % of its distance, in perspective) of the
//! nearest point of its block. Blocks do not look at their neighbours, so a big point just across
//! a block edge does not hide a point: the test is approximate at block edges, as cheap as that.
//!
//! # Edits
//!
//! The document applies a stroke's candidates through [`PointSegDocument::paint`], which skips
//! points the stroke must not touch (already that class; painted ones under "paint only
//! unpainted"; earlier labels whose class is read-only, spec §4.4) and records, per stroke, the
//! changed points and their old classes: one stroke is one undo step, stored in 5 bytes per
//! changed point. Undo and redo return the points they changed, so a view re-uploads only those.
//!
//! # Audit rules (spec §4.4)
//!
//! In an adjustment job the earlier labels are loaded as the initial classes; points whose earlier
//! class has `editsAllowed: "none"` keep it, and such a class cannot be painted onto other points.
//! Verification (every label `editsAllowed: "none"`) paints nothing: only the frame attributes
//! whose `editsAllowed` is not `"none"` change. `adjustmentStatus` is `adjusted` when the classes
//! or the frame attributes differ from the earlier ones.
//!
//! # Formats
//!
//! [`PointSegDocument::answer_content`] is the worker's `answerContent`:
//! `{"pointLabels": <standard base64 of the zlib label file>, "pointCount", "color-map",
//! "dataset-object-attributes", "adjustmentStatus"?}`; drafts hold the same zlib labels
//! ([`PointSegDocument::to_draft`]).
//!
//! Pure data and math: no I/O, no clock, no GUI. Must not depend on `store`, `render`, `ui`,
//! `app` or `cli`, nor on egui, wgpu or tokio.

use std::collections::BTreeMap;

use nalgebra::Matrix4;
use rayon::prelude::*;
use serde_json::{Map, Value, json};

use super::consolidate::{base64, segmentation_class_colors};
use crate::formats::label_config::{
    AttributeSpec, EditsAllowed, LabelCategoryConfig, MAX_FRAME_TEXT_CHARS,
};
use crate::formats::output::ColorMapEntry;
use crate::formats::output::point_labels;
use crate::geometry::Viewport;

/// Version of the draft content this module writes.
pub const DRAFT_FORMAT: u32 = 1;

/// The `kind` of a segmentation draft.
pub const DRAFT_KIND: &str = "point-cloud-semantic-segmentation";

/// The name class 0 has in the `color-map` (as in AWS's example, spec §5.15).
pub const BACKGROUND_NAME: &str = "Background";

/// The most labels a job can have: class indices are one byte and 0 is the background.
pub const MAX_LABELS: usize = 255;

/// Side of a grid cell of [`ProjectedCloud`] in pixels.
pub const CELL_PX: u32 = 16;

/// Errors of segmentation edits, exports and drafts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointSegError {
    /// A class index past the class list.
    #[error("class {class} is not one of the {count} classes")]
    NoSuchClass {
        /// The class index.
        class: usize,
        /// How many classes there are (background included).
        count: usize,
    },
    /// The edit is not allowed in this task (verification, a read-only label or attribute).
    #[error("{0}")]
    ReadOnly(String),
    /// A frame attribute value that its definition does not allow.
    #[error("frame attribute `{name}`: {message}")]
    BadAttribute {
        /// The attribute.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The task cannot be submitted yet.
    #[error("{0}")]
    Incomplete(String),
    /// The document cannot be built as asked (labels, point counts).
    #[error("{0}")]
    Invalid(String),
    /// A draft could not be read.
    #[error("the draft cannot be read: {0}")]
    Draft(String),
}

/// How a task treats earlier labels (spec §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditMode {
    /// A fresh labeling task: everything editable.
    Labeling,
    /// Adjustment: earlier labels loaded; read-only classes keep their points.
    Adjustment,
    /// Verification (every label `editsAllowed: "none"`): no class changes, only attributes.
    Verification,
}

/// One class of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct SegClass {
    /// The label name (`Background` for class 0).
    pub name: String,
    /// The `hex-color` of the output's `color-map`.
    pub color: [u8; 3],
    /// `editsAllowed: "none"` in an audit job: the class's earlier points are fixed and it cannot
    /// be painted.
    pub read_only: bool,
}

/// What a stroke paints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrokeSpec {
    /// The class painted; 0 erases.
    pub class: u8,
    /// Paint only unlabeled points (Ground Truth's "background paint").
    pub only_unpainted: bool,
}

impl StrokeSpec {
    /// A stroke that erases back to class 0.
    pub const ERASE: Self = Self { class: 0, only_unpainted: false };
}

/// One undo step.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// A stroke: the points it changed, their old classes, and the class they got.
    Paint { class: u8, points: Vec<u32>, before: Vec<u8> },
    /// A frame attribute changed.
    Attribute { name: String, before: Option<Value>, after: Option<Value> },
}

/// What an undo or redo changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Changed {
    /// The classes of these points.
    Points(Vec<u32>),
    /// A frame attribute.
    FrameAttribute(String),
}

/// The segmentation of one point cloud, with undo and redo.
#[derive(Debug, Clone)]
pub struct PointSegDocument {
    classes: Vec<SegClass>,
    labels: Vec<u8>,
    counts: Vec<u64>,
    mode: AuditMode,
    initial: Option<Vec<u8>>,
    frame_specs: Vec<AttributeSpec>,
    frame_values: BTreeMap<String, Value>,
    initial_frame_values: BTreeMap<String, Value>,
    undo: Vec<Step>,
    redo: Vec<Step>,
    stroke: Option<(StrokeSpec, Vec<u32>, Vec<u8>)>,
    revision: u64,
}

impl PointSegDocument {
    /// A document of `point_count` unlabeled points for the job's labels (classes 1…n) and frame
    /// attributes. In audit modes a label with `editsAllowed: "none"` is read-only.
    ///
    /// # Errors
    /// [`PointSegError::Invalid`] without labels, with more than [`MAX_LABELS`], or with a point
    /// count past `u32`.
    pub fn new(
        config: &LabelCategoryConfig,
        point_count: usize,
        mode: AuditMode,
    ) -> Result<Self, PointSegError> {
        let n = config.labels.len();
        if n == 0 {
            return Err(PointSegError::Invalid("the job has no labels".into()));
        }
        if n > MAX_LABELS {
            return Err(PointSegError::Invalid(format!(
                "{n} labels: a point-cloud segmentation holds at most {MAX_LABELS}"
            )));
        }
        if u32::try_from(point_count).is_err() {
            return Err(PointSegError::Invalid(format!("{point_count} points are too many")));
        }
        let colors = segmentation_class_colors(n);
        let audit = mode != AuditMode::Labeling;
        let mut classes = Vec::with_capacity(n + 1);
        classes.push(SegClass {
            name: BACKGROUND_NAME.into(),
            color: colors.first().copied().unwrap_or([255, 255, 255]),
            read_only: false,
        });
        for (i, label) in config.labels.iter().enumerate() {
            classes.push(SegClass {
                name: label.label.clone(),
                color: colors.get(i + 1).copied().unwrap_or([128, 128, 128]),
                read_only: audit && label.edits_allowed == Some(EditsAllowed::None),
            });
        }
        let mut counts = vec![0u64; classes.len()];
        counts[0] = point_count as u64;
        Ok(Self {
            classes,
            labels: vec![0; point_count],
            counts,
            mode,
            initial: None,
            frame_specs: config.frame_attributes.clone().unwrap_or_default(),
            frame_values: BTreeMap::new(),
            initial_frame_values: BTreeMap::new(),
            undo: Vec::new(),
            redo: Vec::new(),
            stroke: None,
            revision: 0,
        })
    }

    /// Sets the earlier classes and frame attributes an audit job starts from (both become the
    /// reference `adjustmentStatus` compares with). History is cleared.
    ///
    /// # Errors
    /// [`PointSegError::Invalid`] when `labels` does not have one class per point or names a class
    /// past the list.
    pub fn with_earlier(
        mut self,
        labels: Vec<u8>,
        frame_attributes: &Map<String, Value>,
    ) -> Result<Self, PointSegError> {
        if labels.len() != self.labels.len() {
            return Err(PointSegError::Invalid(format!(
                "the earlier labels have {} points but the cloud has {}",
                labels.len(),
                self.labels.len()
            )));
        }
        if let Some(&bad) = labels.iter().find(|&&c| usize::from(c) >= self.classes.len()) {
            return Err(PointSegError::NoSuchClass {
                class: usize::from(bad),
                count: self.classes.len(),
            });
        }
        self.labels.clone_from(&labels);
        self.initial = Some(labels);
        self.frame_values = frame_attributes
            .iter()
            .filter(|(name, _)| self.frame_specs.iter().any(|s| &s.name == *name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.initial_frame_values = self.frame_values.clone();
        self.recount();
        self.undo.clear();
        self.redo.clear();
        self.revision += 1;
        Ok(self)
    }

    /// A copy without undo history (what a draft save needs).
    pub fn without_history(&self) -> Self {
        // Field by field: `..self.clone()` would copy the whole history first.
        Self {
            classes: self.classes.clone(),
            labels: self.labels.clone(),
            counts: self.counts.clone(),
            mode: self.mode,
            initial: self.initial.clone(),
            frame_specs: self.frame_specs.clone(),
            frame_values: self.frame_values.clone(),
            initial_frame_values: self.initial_frame_values.clone(),
            undo: Vec::new(),
            redo: Vec::new(),
            stroke: None,
            revision: self.revision,
        }
    }

    fn recount(&mut self) {
        self.counts = vec![0; self.classes.len()];
        for &c in &self.labels {
            if let Some(n) = self.counts.get_mut(usize::from(c)) {
                *n += 1;
            }
        }
    }

    /// The classes, background first.
    pub fn classes(&self) -> &[SegClass] {
        &self.classes
    }

    /// The class of every point.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Points per class.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Number of points.
    pub fn point_count(&self) -> usize {
        self.labels.len()
    }

    /// The audit mode.
    pub fn mode(&self) -> AuditMode {
        self.mode
    }

    /// The frame attribute definitions.
    pub fn frame_specs(&self) -> &[AttributeSpec] {
        &self.frame_specs
    }

    /// The frame attribute answers.
    pub fn frame_values(&self) -> &BTreeMap<String, Value> {
        &self.frame_values
    }

    /// Increases with every change (drafts are saved when it moved).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Whether there is something to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether there is something to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Whether a stroke is in progress.
    pub fn in_stroke(&self) -> bool {
        self.stroke.is_some()
    }

    /// Why `class` cannot be painted now, if it cannot.
    pub fn paint_refusal(&self, class: u8) -> Option<String> {
        if self.mode == AuditMode::Verification {
            return Some("This is a verification task: the labels are read-only.".into());
        }
        match self.classes.get(usize::from(class)) {
            None => Some(format!("Class {class} does not exist.")),
            Some(c) if c.read_only => {
                Some(format!("`{}` is read-only in this task (editsAllowed: none).", c.name))
            }
            Some(_) => None,
        }
    }

    /// Starts a stroke (one undo step). A stroke already in progress is finished first.
    ///
    /// # Errors
    /// [`PointSegError::ReadOnly`] in verification or for a read-only class;
    /// [`PointSegError::NoSuchClass`] for a class past the list.
    pub fn begin_stroke(&mut self, spec: StrokeSpec) -> Result<(), PointSegError> {
        self.end_stroke();
        if usize::from(spec.class) >= self.classes.len() {
            return Err(PointSegError::NoSuchClass {
                class: usize::from(spec.class),
                count: self.classes.len(),
            });
        }
        if let Some(why) = self.paint_refusal(spec.class) {
            return Err(PointSegError::ReadOnly(why));
        }
        self.stroke = Some((spec, Vec::new(), Vec::new()));
        Ok(())
    }

    /// Paints the candidate points (indices into the cloud) with the current stroke, skipping
    /// those it must not change, and appends the changed ones to `changed`. Without a stroke in
    /// progress nothing changes. Returns how many points changed.
    pub fn paint(&mut self, candidates: &[u32], changed: &mut Vec<u32>) -> usize {
        let Some((spec, points, before)) = &mut self.stroke else { return 0 };
        let class = spec.class;
        let mut n = 0;
        for &index in candidates {
            let i = index as usize;
            let Some(current) = self.labels.get(i).copied() else { continue };
            if current == class || (spec.only_unpainted && current != 0) {
                continue;
            }
            if let Some(initial) = &self.initial
                && initial
                    .get(i)
                    .is_some_and(|&c| self.classes.get(usize::from(c)).is_some_and(|k| k.read_only))
            {
                continue;
            }
            if let Some(slot) = self.labels.get_mut(i) {
                *slot = class;
            }
            if let Some(c) = self.counts.get_mut(usize::from(current)) {
                *c = c.saturating_sub(1);
            }
            if let Some(c) = self.counts.get_mut(usize::from(class)) {
                *c += 1;
            }
            points.push(index);
            before.push(current);
            changed.push(index);
            n += 1;
        }
        if n > 0 {
            self.revision += 1;
        }
        n
    }

    /// Finishes the stroke in progress; returns true when it changed something (and became an
    /// undo step).
    pub fn end_stroke(&mut self) -> bool {
        let Some((spec, points, before)) = self.stroke.take() else { return false };
        if points.is_empty() {
            return false;
        }
        self.undo.push(Step::Paint { class: spec.class, points, before });
        self.redo.clear();
        true
    }

    /// One whole stroke (a lasso fill): begin, paint, end. Returns the changed points.
    ///
    /// # Errors
    /// As [`PointSegDocument::begin_stroke`].
    pub fn paint_stroke(
        &mut self,
        spec: StrokeSpec,
        candidates: &[u32],
    ) -> Result<Vec<u32>, PointSegError> {
        self.begin_stroke(spec)?;
        let mut changed = Vec::new();
        self.paint(candidates, &mut changed);
        self.end_stroke();
        Ok(changed)
    }

    /// Undoes the last step (finishing a stroke in progress first).
    pub fn undo(&mut self) -> Option<Changed> {
        self.end_stroke();
        let step = self.undo.pop()?;
        let changed = self.apply(&step, true);
        self.redo.push(step);
        self.revision += 1;
        Some(changed)
    }

    /// Redoes the last undone step.
    pub fn redo(&mut self) -> Option<Changed> {
        self.end_stroke();
        let step = self.redo.pop()?;
        let changed = self.apply(&step, false);
        self.undo.push(step);
        self.revision += 1;
        Some(changed)
    }

    fn apply(&mut self, step: &Step, backwards: bool) -> Changed {
        match step {
            Step::Paint { class, points, before } => {
                for (&index, &old) in points.iter().zip(before) {
                    let (from, to) = if backwards { (*class, old) } else { (old, *class) };
                    if let Some(slot) = self.labels.get_mut(index as usize) {
                        *slot = to;
                    }
                    if let Some(c) = self.counts.get_mut(usize::from(from)) {
                        *c = c.saturating_sub(1);
                    }
                    if let Some(c) = self.counts.get_mut(usize::from(to)) {
                        *c += 1;
                    }
                }
                Changed::Points(points.clone())
            }
            Step::Attribute { name, before, after } => {
                let value = if backwards { before } else { after };
                match value {
                    Some(v) => self.frame_values.insert(name.clone(), v.clone()),
                    None => self.frame_values.remove(name),
                };
                Changed::FrameAttribute(name.clone())
            }
        }
    }

    /// Whether the frame attribute `name` can be edited in this task.
    pub fn frame_attribute_editable(&self, name: &str) -> bool {
        self.frame_specs.iter().any(|s| {
            s.name == name
                && !(self.mode != AuditMode::Labeling
                    && s.edits_allowed == Some(EditsAllowed::None))
        })
    }

    /// Sets (or clears, with `None`) a frame attribute, as one undo step. Returns false when the
    /// value did not change.
    ///
    /// # Errors
    /// [`PointSegError::BadAttribute`] for an unknown attribute or a value its definition does not
    /// allow; [`PointSegError::ReadOnly`] for a read-only attribute of an audit task.
    pub fn set_frame_attribute(
        &mut self,
        name: &str,
        value: Option<Value>,
    ) -> Result<bool, PointSegError> {
        let spec = self.frame_specs.iter().find(|s| s.name == name).ok_or_else(|| {
            PointSegError::BadAttribute { name: name.into(), message: "not defined".into() }
        })?;
        if !self.frame_attribute_editable(name) {
            return Err(PointSegError::ReadOnly(format!(
                "Frame attribute `{name}` is read-only in this task."
            )));
        }
        if let Some(v) = &value {
            spec.check_value(v, MAX_FRAME_TEXT_CHARS)
                .map_err(|message| PointSegError::BadAttribute { name: name.into(), message })?;
        }
        let before = self.frame_values.get(name).cloned();
        if before == value {
            return Ok(false);
        }
        self.end_stroke();
        let step = Step::Attribute { name: name.into(), before, after: value };
        self.apply(&step, false);
        self.undo.push(step);
        self.redo.clear();
        self.revision += 1;
        Ok(true)
    }

    /// Why the task cannot be submitted yet (a required frame attribute is missing), if so.
    pub fn incomplete(&self) -> Option<String> {
        let missing: Vec<&str> = self
            .frame_specs
            .iter()
            .filter(|s| s.is_required == Some(true) && !self.frame_values.contains_key(&s.name))
            .map(|s| s.name.as_str())
            .collect();
        (!missing.is_empty())
            .then(|| format!("Fill in the required frame attribute(s): {}.", missing.join(", ")))
    }

    /// `adjusted` / `unadjusted` for audit tasks, `None` otherwise.
    pub fn adjustment_status(&self) -> Option<&'static str> {
        if self.mode == AuditMode::Labeling {
            return None;
        }
        let labels_same = self.initial.as_ref().is_none_or(|i| i == &self.labels);
        let unadjusted = labels_same && self.frame_values == self.initial_frame_values;
        Some(if unadjusted { "unadjusted" } else { "adjusted" })
    }

    /// The `color-map` of the output: class index → `class-name` and `hex-color`.
    pub fn color_map(&self) -> Value {
        let map: Map<String, Value> = self
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (i.to_string(), json!({ "class-name": c.name, "hex-color": hex_color(c.color) }))
            })
            .collect();
        Value::Object(map)
    }

    /// The worker's `answerContent` (see the module docs).
    ///
    /// # Errors
    /// [`PointSegError::Incomplete`] while a required frame attribute is missing.
    pub fn answer_content(&self) -> Result<Value, PointSegError> {
        if let Some(why) = self.incomplete() {
            return Err(PointSegError::Incomplete(why));
        }
        let mut answer = Map::new();
        answer.insert(
            "pointLabels".into(),
            Value::String(base64::encode(&point_labels::encode(&self.labels))),
        );
        answer.insert("pointCount".into(), Value::from(self.labels.len() as u64));
        answer.insert("color-map".into(), self.color_map());
        answer.insert(
            "dataset-object-attributes".into(),
            Value::Object(self.frame_values.clone().into_iter().collect()),
        );
        if let Some(status) = self.adjustment_status() {
            answer.insert("adjustmentStatus".into(), status.into());
        }
        Ok(Value::Object(answer))
    }

    /// The draft: the labels (zlib, base64) and the frame attributes.
    pub fn to_draft(&self) -> Value {
        json!({
            "format": DRAFT_FORMAT,
            "kind": DRAFT_KIND,
            "pointCount": self.labels.len(),
            "pointLabels": base64::encode(&point_labels::encode(&self.labels)),
            "frameAttributes": Value::Object(self.frame_values.clone().into_iter().collect()),
        })
    }

    /// Restores a draft saved by [`PointSegDocument::to_draft`]. Read-only points keep their
    /// earlier class and read-only attributes their earlier value whatever the draft says. History
    /// is cleared.
    ///
    /// # Errors
    /// [`PointSegError::Draft`] when the draft is not this kind, has another point count or
    /// classes past the list; the document is then unchanged.
    pub fn restore_draft(&mut self, draft: &Value) -> Result<(), PointSegError> {
        let bad = |m: String| PointSegError::Draft(m);
        if draft.get("kind").and_then(Value::as_str) != Some(DRAFT_KIND) {
            return Err(bad("not a point-cloud segmentation draft".into()));
        }
        match draft.get("format").and_then(Value::as_u64) {
            Some(f) if f <= u64::from(DRAFT_FORMAT) => {}
            other => return Err(bad(format!("unknown draft format {other:?}"))),
        }
        let count = draft.get("pointCount").and_then(Value::as_u64).unwrap_or(u64::MAX);
        if count != self.labels.len() as u64 {
            return Err(bad(format!(
                "it has {count} points but the cloud has {}",
                self.labels.len()
            )));
        }
        let encoded = draft
            .get("pointLabels")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no pointLabels".into()))?;
        let zlib = base64::decode(encoded)
            .map_err(|(at, why)| bad(format!("pointLabels: {why} at {at}")))?;
        let labels = point_labels::decode(&zlib, Some(self.labels.len()), "draft")
            .map_err(|e| bad(e.to_string()))?;
        if let Some(&c) = labels.iter().find(|&&c| usize::from(c) >= self.classes.len()) {
            return Err(bad(format!("class {c} is not one of the {} classes", self.classes.len())));
        }
        let mut values = BTreeMap::new();
        if let Some(map) = draft.get("frameAttributes").and_then(Value::as_object) {
            for (name, value) in map {
                if let Some(spec) = self.frame_specs.iter().find(|s| &s.name == name)
                    && spec.check_value(value, MAX_FRAME_TEXT_CHARS).is_ok()
                {
                    values.insert(name.clone(), value.clone());
                }
            }
        }
        self.labels = labels;
        if let Some(initial) = &self.initial {
            let fixed = |c: u8| {
                self.mode == AuditMode::Verification
                    || self.classes.get(usize::from(c)).is_some_and(|k| k.read_only)
            };
            for (label, &old) in self.labels.iter_mut().zip(initial) {
                if fixed(old) || (fixed(*label) && *label != old) {
                    *label = old;
                }
            }
        }
        for spec in &self.frame_specs {
            if !self.frame_attribute_editable(&spec.name) {
                match self.initial_frame_values.get(&spec.name) {
                    Some(v) => values.insert(spec.name.clone(), v.clone()),
                    None => values.remove(&spec.name),
                };
            }
        }
        self.frame_values = values;
        self.recount();
        self.undo.clear();
        self.redo.clear();
        self.stroke = None;
        self.revision += 1;
        Ok(())
    }
}

/// `#rrggbb`.
pub fn hex_color(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// The audit mode of a task: labeling unless it is an adjustment task type; verification when
/// every label is `editsAllowed: "none"` (spec §4.4).
pub fn audit_mode(is_adjustment: bool, config: &LabelCategoryConfig) -> AuditMode {
    if !is_adjustment {
        AuditMode::Labeling
    } else if !config.labels.is_empty()
        && config.labels.iter().all(|l| l.edits_allowed == Some(EditsAllowed::None))
    {
        AuditMode::Verification
    } else {
        AuditMode::Adjustment
    }
}

/// Maps an earlier job's classes (its `color-map`) onto this job's classes by `class-name`:
/// returns the per-point classes and how many points had a class this job does not know (they
/// become 0). An earlier class without a colour-map entry keeps its index when that is a class
/// of this job.
pub fn map_earlier_labels(
    earlier: &[u8],
    color_map: &BTreeMap<u64, ColorMapEntry>,
    class_names: &[&str],
) -> (Vec<u8>, u64) {
    let mut table = [None::<u8>; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        *slot = match color_map.get(&(i as u64)) {
            _ if i == 0 => Some(0),
            Some(entry) => entry.class_name.as_deref().and_then(|name| {
                class_names.iter().position(|n| *n == name).and_then(|p| u8::try_from(p).ok())
            }),
            None => (i < class_names.len()).then_some(i as u8),
        };
    }
    let mut unknown = 0u64;
    let mapped = earlier
        .iter()
        .map(|&c| {
            table.get(usize::from(c)).copied().flatten().unwrap_or_else(|| {
                unknown += 1;
                0
            })
        })
        .collect();
    (mapped, unknown)
}

/// The per-point classes of a segmentation `answerContent` (its `pointLabels`, checked against
/// `pointCount`).
///
/// # Errors
/// [`PointSegError::Invalid`] when a key is missing or the labels do not decode.
pub fn point_labels_from_answer(answer: &Value) -> Result<Vec<u8>, PointSegError> {
    let bad = |m: &str| PointSegError::Invalid(format!("answerContent: {m}"));
    let encoded = answer
        .get("pointLabels")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no pointLabels string"))?;
    let count = answer
        .get("pointCount")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| bad("no pointCount"))?;
    let zlib = base64::decode(encoded).map_err(|(_, why)| bad(why))?;
    point_labels::decode(&zlib, Some(count), "answerContent.pointLabels")
        .map_err(|e| PointSegError::Invalid(e.to_string()))
}

// --- screen-space projection ------------------------------------------------------------------

/// How [`ProjectedCloud::new`] projects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProjectionOptions {
    /// Drawn point size in pixels: the block size of the visibility test (rounded to 1, 2, 4, 8
    /// or 16).
    pub point_size_px: f32,
    /// Points this far behind the nearest point of their block (metres along the view
    /// direction) still count as visible.
    pub surface_thickness_m: f32,
}

impl Default for ProjectionOptions {
    fn default() -> Self {
        Self { point_size_px: 2.0, surface_thickness_m: 0.3 }
    }
}

/// One projected point.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ProjectedPoint {
    /// Index in the cloud.
    pub index: u32,
    /// Pixel x (continuous, from the viewport's left edge).
    pub x_px: f32,
    /// Pixel y (continuous, from the viewport's top edge, down).
    pub y_px: f32,
    /// Distance along the view direction (metres, for a rigid `clip_from_local`).
    pub depth: f32,
    /// In front within its block (see the module docs).
    pub visible: bool,
}

/// Every point's pixel, bucketed by 16-pixel cells: the structure brush and lasso queries run
/// on. Build it again when the camera or the viewport changes.
#[derive(Debug, Clone, Default)]
pub struct ProjectedCloud {
    width_px: f32,
    height_px: f32,
    cols: u32,
    rows: u32,
    /// `starts[c]..starts[c + 1]`: the points of cell `c` (row-major).
    starts: Vec<u32>,
    points: Vec<ProjectedPoint>,
}

/// The matrix as `f32` rows.
fn rows_f32(m: &Matrix4<f64>) -> [[f32; 4]; 4] {
    let mut rows = [[0f32; 4]; 4];
    for (r, row) in rows.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = m[(r, c)] as f32;
        }
    }
    rows
}

fn dot4(row: &[f32; 4], p: &[f32; 3]) -> f32 {
    row[0] * p[0] + row[1] * p[1] + row[2] * p[2] + row[3]
}

impl ProjectedCloud {
    /// Projects `positions` (the cloud's local `f32` positions) through `clip_from_local` into a
    /// viewport of `viewport` pixels. Points behind the camera, outside the depth range or
    /// outside the viewport are left out (they cannot be under the cursor).
    pub fn new(
        positions: &[[f32; 3]],
        clip_from_local: &Matrix4<f64>,
        viewport: Viewport,
        options: &ProjectionOptions,
    ) -> Self {
        let m = rows_f32(clip_from_local);
        let (width, height) =
            (viewport.width_px.max(1.0) as f32, viewport.height_px.max(1.0) as f32);
        let cell = CELL_PX as f32;
        let cols = (width / cell).ceil().max(1.0) as u32;
        let rows = (height / cell).ceil().max(1.0) as u32;
        let cells = cols as usize * rows as usize;
        // Depth along the view direction in metres: w for a perspective projection (its last row
        // is minus the unit view direction), else the clip z over the norm of its row.
        let w_norm = (m[3][0] * m[3][0] + m[3][1] * m[3][1] + m[3][2] * m[3][2]).sqrt();
        let perspective = w_norm > 1e-9;
        let z_norm = (m[2][0] * m[2][0] + m[2][1] * m[2][1] + m[2][2] * m[2][2]).sqrt().max(1e-20);

        const OUT: u32 = u32::MAX;
        let projected: Vec<(u32, f32, f32, f32)> = positions
            .par_iter()
            .map(|p| {
                let w = dot4(&m[3], p);
                if w <= 1e-9 {
                    return (OUT, 0.0, 0.0, 0.0);
                }
                let (x, y, z) = (dot4(&m[0], p) / w, dot4(&m[1], p) / w, dot4(&m[2], p) / w);
                if !(-1.0..=1.0).contains(&x)
                    || !(-1.0..=1.0).contains(&y)
                    || !(0.0..=1.0).contains(&z)
                {
                    return (OUT, 0.0, 0.0, 0.0);
                }
                let px = (x + 1.0) * 0.5 * width;
                let py = (1.0 - y) * 0.5 * height;
                let cx = ((px / cell) as u32).min(cols - 1);
                let cy = ((py / cell) as u32).min(rows - 1);
                let depth = if perspective { w / w_norm } else { dot4(&m[2], p) / z_norm };
                (cy * cols + cx, px, py, depth)
            })
            .collect();

        // Counting sort by cell.
        let mut starts = vec![0u32; cells + 1];
        for &(c, ..) in &projected {
            if let Some(n) = starts.get_mut(c.wrapping_add(1) as usize).filter(|_| c != OUT) {
                *n += 1;
            }
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let total = starts.last().copied().unwrap_or(0) as usize;
        let mut points = vec![ProjectedPoint::default(); total];
        let mut next = starts.clone();
        for (index, &(c, x_px, y_px, depth)) in projected.iter().enumerate() {
            if c == OUT {
                continue;
            }
            let Some(slot) = next.get_mut(c as usize) else { continue };
            if let Some(dst) = points.get_mut(*slot as usize) {
                *dst = ProjectedPoint { index: index as u32, x_px, y_px, depth, visible: true };
            }
            *slot += 1;
        }
        drop(projected);

        // Visibility per cell, in parallel: each cell's points are one contiguous slice.
        let block = [1u32, 2, 4, 8, 16]
            .into_iter()
            .rev()
            .find(|&b| b as f32 <= options.point_size_px.max(1.0))
            .unwrap_or(1);
        let per_side = (CELL_PX / block) as usize;
        let thickness = options.surface_thickness_m.max(0.0);
        let mut slices: Vec<(usize, &mut [ProjectedPoint])> = Vec::with_capacity(cells);
        let mut rest: &mut [ProjectedPoint] = &mut points;
        for (c, w) in starts.windows(2).enumerate() {
            let len = w[1].saturating_sub(w[0]) as usize;
            let Some((head, tail)) = std::mem::take(&mut rest).split_at_mut_checked(len) else {
                break;
            };
            if !head.is_empty() {
                slices.push((c, head));
            }
            rest = tail;
        }
        slices.into_par_iter().for_each(|(c, pts)| {
            let (x0, y0) = ((c % cols as usize) as f32 * cell, (c / cols as usize) as f32 * cell);
            let block_of = |p: &ProjectedPoint| {
                let bx = (((p.x_px - x0) / block as f32) as usize).min(per_side - 1);
                let by = (((p.y_px - y0) / block as f32) as usize).min(per_side - 1);
                by * per_side + bx
            };
            let mut nearest = [f32::INFINITY; (CELL_PX * CELL_PX) as usize];
            for p in pts.iter() {
                if let Some(n) = nearest.get_mut(block_of(p)) {
                    *n = n.min(p.depth);
                }
            }
            for p in pts.iter_mut() {
                let front = nearest.get(block_of(p)).copied().unwrap_or(p.depth);
                let slack = if perspective { thickness.max(front * 0.02) } else { thickness };
                p.visible = p.depth <= front + slack;
            }
        });

        Self { width_px: width, height_px: height, cols, rows, starts, points }
    }

    /// Points that landed in the viewport.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when no point landed in the viewport.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The projected points, grouped by cell.
    pub fn points(&self) -> &[ProjectedPoint] {
        &self.points
    }

    /// Size of the viewport projected into, in pixels.
    pub fn size_px(&self) -> [f32; 2] {
        [self.width_px, self.height_px]
    }

    /// Cell range `(x0..=x1, y0..=y1)` covering a pixel box, or `None` when it misses the
    /// viewport.
    fn cells_over(&self, min: [f32; 2], max: [f32; 2]) -> Option<([u32; 2], [u32; 2])> {
        if max[0] < 0.0 || max[1] < 0.0 || min[0] > self.width_px || min[1] > self.height_px {
            return None;
        }
        let cell = CELL_PX as f32;
        let to = |v: f32, n: u32| ((v.max(0.0) / cell) as u32).min(n.saturating_sub(1));
        Some((
            [to(min[0], self.cols), to(max[0], self.cols)],
            [to(min[1], self.rows), to(max[1], self.rows)],
        ))
    }

    fn cell_points(&self, cx: u32, cy: u32) -> &[ProjectedPoint] {
        let c = cy as usize * self.cols as usize + cx as usize;
        let (a, b) = (
            self.starts.get(c).copied().unwrap_or(0) as usize,
            self.starts.get(c + 1).copied().unwrap_or(0) as usize,
        );
        self.points.get(a..b).unwrap_or_default()
    }

    /// The points within `radius_px` of the segment `from`–`to` (one brush step: a capsule, so a
    /// fast stroke leaves no gaps), appended to `out`.
    pub fn brush(
        &self,
        from: [f32; 2],
        to: [f32; 2],
        radius_px: f32,
        visible_only: bool,
        out: &mut Vec<u32>,
    ) {
        let r = radius_px.max(0.0);
        let min = [from[0].min(to[0]) - r, from[1].min(to[1]) - r];
        let max = [from[0].max(to[0]) + r, from[1].max(to[1]) + r];
        let Some(([x0, x1], [y0, y1])) = self.cells_over(min, max) else { return };
        let (dx, dy) = (to[0] - from[0], to[1] - from[1]);
        let len2 = dx * dx + dy * dy;
        let r2 = r * r;
        for cy in y0..=y1 {
            for cx in x0..=x1 {
                for p in self.cell_points(cx, cy) {
                    if visible_only && !p.visible {
                        continue;
                    }
                    let (px, py) = (p.x_px - from[0], p.y_px - from[1]);
                    let t =
                        if len2 > 0.0 { ((px * dx + py * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
                    let (ex, ey) = (px - t * dx, py - t * dy);
                    if ex * ex + ey * ey <= r2 {
                        out.push(p.index);
                    }
                }
            }
        }
    }

    /// The points inside a closed polygon (even–odd rule), appended to `out`. Cells no edge
    /// touches are decided by their centre; only points of cells an edge crosses are tested.
    pub fn lasso(&self, polygon: &[[f32; 2]], visible_only: bool, out: &mut Vec<u32>) {
        if polygon.len() < 3 {
            return;
        }
        let mut min = [f32::INFINITY; 2];
        let mut max = [f32::NEG_INFINITY; 2];
        for p in polygon {
            min = [min[0].min(p[0]), min[1].min(p[1])];
            max = [max[0].max(p[0]), max[1].max(p[1])];
        }
        let Some(([x0, x1], [y0, y1])) = self.cells_over(min, max) else { return };
        let edges: Vec<([f32; 2], [f32; 2])> = polygon
            .iter()
            .zip(polygon.iter().cycle().skip(1))
            .map(|(a, b)| ([a[0].min(b[0]), a[1].min(b[1])], [a[0].max(b[0]), a[1].max(b[1])]))
            .collect();
        let cell = CELL_PX as f32;
        let rows: Vec<Vec<u32>> = (y0..=y1)
            .into_par_iter()
            .map(|cy| {
                let mut found = Vec::new();
                for cx in x0..=x1 {
                    let (lo, hi) = (
                        [cx as f32 * cell, cy as f32 * cell],
                        [(cx + 1) as f32 * cell, (cy + 1) as f32 * cell],
                    );
                    let crossed = edges.iter().any(|(a, b)| {
                        a[0] <= hi[0] && b[0] >= lo[0] && a[1] <= hi[1] && b[1] >= lo[1]
                    });
                    let pts = self.cell_points(cx, cy);
                    if crossed {
                        found.extend(
                            pts.iter()
                                .filter(|p| !visible_only || p.visible)
                                .filter(|p| point_in_polygon([p.x_px, p.y_px], polygon))
                                .map(|p| p.index),
                        );
                    } else if point_in_polygon(
                        [(lo[0] + hi[0]) * 0.5, (lo[1] + hi[1]) * 0.5],
                        polygon,
                    ) {
                        found.extend(
                            pts.iter().filter(|p| !visible_only || p.visible).map(|p| p.index),
                        );
                    }
                }
                found
            })
            .collect();
        for row in rows {
            out.extend(row);
        }
    }
}

/// Even–odd point-in-polygon test.
pub fn point_in_polygon(p: [f32; 2], polygon: &[[f32; 2]]) -> bool {
    let mut inside = false;
    let mut j = polygon.len().saturating_sub(1);
    for (i, a) in polygon.iter().enumerate() {
        let Some(b) = polygon.get(j) else { break };
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::formats::label_config::LabelCategory;
    use crate::geometry::{Camera, Projection};
    use nalgebra::Point3;

    fn config(names: &[&str]) -> LabelCategoryConfig {
        let mut c = LabelCategoryConfig::parse(r#"{"labels": [{"label": "x"}]}"#, "t").unwrap();
        c.labels = names.iter().map(|n| LabelCategory::new(*n)).collect();
        c
    }

    /// 19 × 19 points on x, y ∈ {−0.9, −0.8, …, 0.9} at z = 0.5: index `row * 19 + col`, with
    /// x = (col − 9) / 10 and y = (row − 9) / 10.
    fn grid() -> Vec<[f32; 3]> {
        let mut pts = Vec::new();
        for row in 0..19 {
            for col in 0..19 {
                pts.push([(col as f32 - 9.0) / 10.0, (row as f32 - 9.0) / 10.0, 0.5]);
            }
        }
        pts
    }

    fn idx(col: u32, row: u32) -> u32 {
        row * 19 + col
    }

    /// Identity clip matrix on a 200 × 200 viewport: x = (ndc_x + 1) · 100, y = (1 − ndc_y) · 100,
    /// so grid neighbours are 10 px apart and the centre point is at (100, 100).
    fn identity_projection(points: &[[f32; 3]]) -> ProjectedCloud {
        ProjectedCloud::new(
            points,
            &Matrix4::identity(),
            Viewport::new(200, 200),
            &ProjectionOptions::default(),
        )
    }

    fn sorted(mut v: Vec<u32>) -> Vec<u32> {
        v.sort_unstable();
        v
    }

    #[test]
    fn brush_selects_exactly_the_points_under_it() {
        let proj = identity_projection(&grid());
        assert_eq!(proj.len(), 361);
        let mut out = Vec::new();
        proj.brush([100.0, 100.0], [100.0, 100.0], 10.5, false, &mut out);
        // The centre (col 9, row 9) and its four neighbours at 10 px; the diagonals are 14.1 px.
        let expected = sorted(vec![idx(9, 9), idx(8, 9), idx(10, 9), idx(9, 8), idx(9, 10)]);
        assert_eq!(sorted(out), expected);

        // A step from (50, 100) to (150, 100) with radius 4 sweeps row 9 (y = 0 → pixel y 100),
        // cols 4…14 (x −0.5…0.5 → pixels 50…150).
        let mut out = Vec::new();
        proj.brush([50.0, 100.0], [150.0, 100.0], 4.0, false, &mut out);
        assert_eq!(sorted(out), (4..=14).map(|c| idx(c, 9)).collect::<Vec<_>>());

        // Pixel y grows downwards: y = +0.9 (row 18) is at the top.
        let mut out = Vec::new();
        proj.brush([10.0, 10.0], [10.0, 10.0], 1.0, false, &mut out);
        assert_eq!(out, vec![idx(0, 18)]);

        // Off screen: nothing.
        let mut out = Vec::new();
        proj.brush([-50.0, -50.0], [-30.0, -30.0], 5.0, false, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn lasso_selects_points_inside_the_polygon() {
        let proj = identity_projection(&grid());
        // A square from pixel (45, 45) to (75, 75): cols/rows with pixel 50, 60, 70 →
        // cols 4, 5, 6 and pixel y 50…70 → rows 14, 13, 12.
        let square = [[45.0, 45.0], [75.0, 45.0], [75.0, 75.0], [45.0, 75.0]];
        let mut out = Vec::new();
        proj.lasso(&square, false, &mut out);
        let mut expected = Vec::new();
        for row in 12..=14 {
            for col in 4..=6 {
                expected.push(idx(col, row));
            }
        }
        assert_eq!(sorted(out), sorted(expected));

        // A triangle whose cells are mostly interior: (0,0), (200,0), (0,200) holds the points
        // with px + py < 200, i.e. col + (18 − row) < 18 ⇔ col < row, plus none on the diagonal
        // (px + py = 200 exactly is on the edge: the even–odd rule puts it outside or inside; we
        // keep it out of the comparison).
        let triangle = [[0.0, 0.0], [200.0, 0.0], [0.0, 200.0]];
        let mut out = Vec::new();
        proj.lasso(&triangle, false, &mut out);
        let got: std::collections::BTreeSet<u32> = out.into_iter().collect();
        for row in 0..19u32 {
            for col in 0..19u32 {
                if col < row {
                    assert!(got.contains(&idx(col, row)), "({col},{row}) inside");
                } else if col > row {
                    assert!(!got.contains(&idx(col, row)), "({col},{row}) outside");
                }
            }
        }
        // A big lasso over everything: every point, once.
        let all = [[-10.0, -10.0], [210.0, -10.0], [210.0, 210.0], [-10.0, 210.0]];
        let mut out = Vec::new();
        proj.lasso(&all, false, &mut out);
        assert_eq!(sorted(out), (0..361).collect::<Vec<_>>());
    }

    #[test]
    fn perspective_camera_and_visibility() {
        // A camera on the +x axis looking back at the origin; two points on the same ray, one
        // behind the other, one point behind the camera.
        let mut camera = Camera::standard(crate::geometry::StandardView::Orbit);
        camera.projection = Projection::Perspective;
        camera.target = Point3::new(0.0, 0.0, 0.0);
        camera.distance = 10.0;
        camera.yaw_rad = 0.0;
        camera.pitch_rad = 0.0;
        let viewport = Viewport::new(400, 300);
        let eye = camera.eye();
        let front = Point3::new(0.0, 0.0, 0.0);
        let back = eye + (front - eye) * 1.5; // 5 m behind the front point, same pixel
        let behind = eye + (eye - front) * 0.5;
        let pts: Vec<[f32; 3]> =
            [front, back, behind].iter().map(|p| [p.x as f32, p.y as f32, p.z as f32]).collect();
        let m = camera.clip_from_local(viewport, [0.0; 3]);
        let proj = ProjectedCloud::new(&pts, &m, viewport, &ProjectionOptions::default());
        assert_eq!(proj.len(), 2, "the point behind the camera is left out");
        let centre = camera.world_to_pixel(front, viewport).unwrap();
        let c = [centre.x as f32, centre.y as f32];
        let front_depth = proj.points().iter().find(|p| p.index == 0).unwrap().depth;
        assert!((front_depth - 10.0).abs() < 1e-3, "depth in metres: {front_depth}");
        let mut out = Vec::new();
        proj.brush(c, c, 3.0, false, &mut out);
        assert_eq!(sorted(out), vec![0, 1], "the brush paints hidden points too");
        let mut out = Vec::new();
        proj.brush(c, c, 3.0, true, &mut out);
        assert_eq!(out, vec![0], "visible only: the front point");
    }

    fn doc(n: usize) -> PointSegDocument {
        PointSegDocument::new(&config(&["road", "car", "pole"]), n, AuditMode::Labeling).unwrap()
    }

    #[test]
    fn strokes_undo_redo_and_only_unpainted() {
        let mut d = doc(10);
        assert_eq!(d.counts(), &[10, 0, 0, 0]);
        d.begin_stroke(StrokeSpec { class: 2, only_unpainted: false }).unwrap();
        let mut changed = Vec::new();
        assert_eq!(d.paint(&[1, 2, 3], &mut changed), 3);
        assert_eq!(d.paint(&[3, 4, 99], &mut changed), 1, "3 already car; 99 out of range");
        assert!(d.end_stroke());
        assert_eq!(changed, vec![1, 2, 3, 4]);
        assert_eq!(d.labels(), &[0, 2, 2, 2, 2, 0, 0, 0, 0, 0]);

        // Background paint: only unlabeled points get the class.
        let changed =
            d.paint_stroke(StrokeSpec { class: 1, only_unpainted: true }, &[0, 1, 2, 5]).unwrap();
        assert_eq!(changed, vec![0, 5]);
        assert_eq!(d.labels(), &[1, 2, 2, 2, 2, 1, 0, 0, 0, 0]);
        assert_eq!(d.counts(), &[4, 2, 4, 0]);

        // Erase.
        d.paint_stroke(StrokeSpec::ERASE, &[2, 3]).unwrap();
        assert_eq!(d.labels(), &[1, 2, 0, 0, 2, 1, 0, 0, 0, 0]);

        // Undo three strokes, one step each; redo one.
        assert_eq!(d.undo(), Some(Changed::Points(vec![2, 3])));
        assert_eq!(d.labels(), &[1, 2, 2, 2, 2, 1, 0, 0, 0, 0]);
        d.undo();
        d.undo();
        assert_eq!(d.labels(), &[0; 10]);
        assert_eq!(d.counts(), &[10, 0, 0, 0]);
        assert!(!d.can_undo());
        assert_eq!(d.redo(), Some(Changed::Points(vec![1, 2, 3, 4])));
        assert_eq!(d.labels(), &[0, 2, 2, 2, 2, 0, 0, 0, 0, 0]);
        // A new stroke drops the redo stack.
        d.paint_stroke(StrokeSpec { class: 3, only_unpainted: false }, &[9]).unwrap();
        assert!(!d.can_redo());
        // An empty stroke is no undo step.
        d.paint_stroke(StrokeSpec { class: 3, only_unpainted: false }, &[9]).unwrap();
        d.undo();
        assert_eq!(d.labels()[9], 0);
        assert!(matches!(
            d.begin_stroke(StrokeSpec { class: 4, only_unpainted: false }),
            Err(PointSegError::NoSuchClass { class: 4, count: 4 })
        ));
    }

    #[test]
    fn export_draft_and_answer_round_trip() {
        let mut c = config(&["road", "car"]);
        c.frame_attributes = Some(vec![{
            let mut a = AttributeSpec::string("weather", Some(vec!["clear".into(), "rain".into()]));
            a.is_required = Some(true);
            a
        }]);
        let mut d = PointSegDocument::new(&c, 1000, AuditMode::Labeling).unwrap();
        let cars: Vec<u32> = (100..300).collect();
        d.paint_stroke(StrokeSpec { class: 2, only_unpainted: false }, &cars).unwrap();
        assert!(matches!(d.answer_content(), Err(PointSegError::Incomplete(_))));
        assert!(d.set_frame_attribute("weather", Some("fog".into())).is_err());
        assert!(d.set_frame_attribute("weather", Some("rain".into())).unwrap());
        let answer = d.answer_content().unwrap();
        assert_eq!(answer["pointCount"], 1000);
        assert_eq!(answer["color-map"]["0"]["class-name"], BACKGROUND_NAME);
        assert_eq!(answer["color-map"]["0"]["hex-color"], "#ffffff");
        assert_eq!(answer["color-map"]["2"]["class-name"], "car");
        assert_eq!(answer["color-map"]["1"]["hex-color"], "#2ca02c");
        assert_eq!(answer["dataset-object-attributes"]["weather"], "rain");
        assert!(answer.get("adjustmentStatus").is_none());
        let labels = point_labels_from_answer(&answer).unwrap();
        assert_eq!(labels, d.labels());

        let draft = d.to_draft();
        let mut e = PointSegDocument::new(&c, 1000, AuditMode::Labeling).unwrap();
        e.restore_draft(&draft).unwrap();
        assert_eq!(e.labels(), d.labels());
        assert_eq!(e.counts(), &[800, 0, 200]);
        assert_eq!(e.frame_values(), d.frame_values());
        let mut wrong = PointSegDocument::new(&c, 999, AuditMode::Labeling).unwrap();
        assert!(matches!(wrong.restore_draft(&draft), Err(PointSegError::Draft(_))));
        assert!(wrong.restore_draft(&json!({"kind": "other"})).is_err());
    }

    #[test]
    fn adjustment_keeps_read_only_classes_and_verification_paints_nothing() {
        let mut c = config(&["road", "car"]);
        c.labels[1].edits_allowed = Some(EditsAllowed::None); // car is fixed
        // The earlier job's colour map names the classes the other way round.
        let mut cmap = BTreeMap::new();
        for (i, name) in [(0u64, "Background"), (1, "car"), (2, "road")] {
            cmap.insert(
                i,
                ColorMapEntry {
                    class_name: Some(name.into()),
                    hex_color: None,
                    confidence: None,
                    extra: Map::new(),
                },
            );
        }
        let (earlier, unknown) =
            map_earlier_labels(&[0, 1, 2, 1, 0, 7], &cmap, &[BACKGROUND_NAME, "road", "car"]);
        assert_eq!(earlier, vec![0, 2, 1, 2, 0, 0]);
        assert_eq!(unknown, 1);

        let mode = audit_mode(true, &c);
        assert_eq!(mode, AuditMode::Adjustment);
        let mut d =
            PointSegDocument::new(&c, 6, mode).unwrap().with_earlier(earlier, &Map::new()).unwrap();
        assert_eq!(d.adjustment_status(), Some("unadjusted"));
        // Road over everything: the car points (1, 3) keep their class.
        let changed = d
            .paint_stroke(StrokeSpec { class: 1, only_unpainted: false }, &[0, 1, 2, 3, 4])
            .unwrap();
        assert_eq!(changed, vec![0, 4]);
        assert!(matches!(
            d.begin_stroke(StrokeSpec { class: 2, only_unpainted: false }),
            Err(PointSegError::ReadOnly(_))
        ));
        assert_eq!(d.adjustment_status(), Some("adjusted"));
        d.undo();
        assert_eq!(d.adjustment_status(), Some("unadjusted"));
        assert_eq!(d.answer_content().unwrap()["adjustmentStatus"], "unadjusted");

        // Verification: every label read-only.
        c.labels[0].edits_allowed = Some(EditsAllowed::None);
        let mode = audit_mode(true, &c);
        assert_eq!(mode, AuditMode::Verification);
        let mut v = PointSegDocument::new(&c, 6, mode)
            .unwrap()
            .with_earlier(vec![0, 2, 1, 2, 0, 0], &Map::new())
            .unwrap();
        assert!(v.begin_stroke(StrokeSpec::ERASE).is_err());
        // A draft cannot smuggle changes in.
        let mut tampered = v.to_draft();
        tampered["pointLabels"] = Value::String(base64::encode(&point_labels::encode(&[1; 6])));
        v.restore_draft(&tampered).unwrap();
        assert_eq!(v.labels(), &[0, 2, 1, 2, 0, 0]);
    }
}
