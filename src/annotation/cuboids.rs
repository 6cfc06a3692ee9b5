//! The editable document of a 3D cuboid task (spec §5.12–§5.14): point-cloud object detection
//! (one frame), object tracking and 3D-2D linking (a sequence of frames), and their adjustment
//! and verification forms.
//!
//! # Model
//!
//! Every labelled object is a *track* ([`TrackObject`]) with an `object-id` (a UUID drawn from
//! the document's injected random generator), a label and its instance number (`Label:n`), label
//! attributes, and a span of frames. Inside the span the object's cuboid (9 DOF: centre, size,
//! yaw/pitch/roll) comes from its *keyframes* — the frames the worker placed or adjusted by hand —
//! interpolated linearly between them (centre and size; yaw along the shorter arc, pitch and roll
//! likewise), by the frames' timestamps when they increase and by frame index otherwise; before
//! the first and after the last keyframe the nearest keyframe holds. Frames can be removed from a
//! span one at a time. Detection is the one-frame case.
//!
//! For 3D-2D linking an object also carries camera boxes per frame and camera (same
//! `object-id`). Frame attributes are kept per frame.
//!
//! Every edit goes through [`CuboidDocument::edit`]: it is applied to a copy of the content,
//! checked against the audit rules of spec §4.4 (objects loaded from earlier labels keep their
//! geometry, label and existence when their label says `editsAllowed: none`; attributes marked
//! `none` keep their earlier values), and the previous content goes on the undo stack. A drag
//! that edits many times is one undo step when its edits share a coalescing key.
//!
//! Pure data: no I/O, no clock, no GUI (randomness only through the injected seed). Must not
//! depend on `store`, `render`, `ui`, `app` or `cli`.

use std::collections::{BTreeMap, BTreeSet};

use nalgebra::{Point3, Vector3};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::formats::json::Index;
use crate::formats::label_config::{
    AttributeSpec, EditsAllowed, LabelCategoryConfig, MAX_FRAME_TEXT_CHARS, MAX_LABEL_TEXT_CHARS,
};
use crate::formats::output::Cuboid as CuboidRecord;
use crate::formats::output::seq_label::{
    PointCloudFrameLabel, PointCloudSeqLabel, SensorFusionSeqLabel, ShapeInfo, VideoBox,
    VideoFrameLabel, VideoSeqLabel, VideoSeqLabelKind,
};
use crate::geometry::Cuboid;
use crate::job::TaskType;

/// Version of the draft content this module writes.
pub const DRAFT_FORMAT: u32 = 1;

/// Smallest cuboid edge the document accepts (metres).
pub const MIN_SIZE_M: f64 = 0.01;

/// Errors of cuboid edits, exports and drafts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CuboidError {
    /// An edit names an object the document does not have.
    #[error("no object with id {0}")]
    NoSuchObject(u64),
    /// A frame past the sequence.
    #[error("frame {frame} is not one of the {count} frames")]
    NoSuchFrame {
        /// The frame index.
        frame: usize,
        /// How many frames there are.
        count: usize,
    },
    /// A class index past the label list.
    #[error("class {class} is not one of the {count} labels")]
    NoSuchClass {
        /// The class index.
        class: usize,
        /// How many labels there are.
        count: usize,
    },
    /// The object is not in this frame.
    #[error("{name} is not in frame {frame}")]
    NotInFrame {
        /// The object's name.
        name: String,
        /// The frame index.
        frame: usize,
    },
    /// The audit rules forbid the edit.
    #[error("{0}")]
    NotAllowed(String),
    /// A cuboid with non-finite or non-positive values.
    #[error("invalid cuboid: {0}")]
    InvalidCuboid(String),
    /// An attribute value the label category file does not allow (spec §4.3).
    #[error("attribute `{name}`: {message}")]
    InvalidAttribute {
        /// The attribute.
        name: String,
        /// Why the value is refused.
        message: String,
    },
    /// The task cannot be submitted yet.
    #[error("{0}")]
    Incomplete(String),
    /// A draft could not be read.
    #[error("the draft cannot be read: {0}")]
    Draft(String),
}

/// Which 3D cuboid task the document serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CuboidTaskKind {
    /// `PointCloudObjectDetection`: one frame, inline cuboids.
    Detection,
    /// `PointCloudObjectTracking`: a sequence, `SeqLabel.json`.
    Tracking,
    /// `PointCloud3d2dLinking`: a sequence with camera boxes linked to cuboids.
    Linking,
}

impl CuboidTaskKind {
    /// The kind of a task type, `None` for task types that are not cuboid tasks.
    pub fn of(task_type: TaskType) -> Option<Self> {
        use TaskType as T;
        match task_type {
            T::PointCloudObjectDetection | T::PointCloudObjectDetectionAdjustment => {
                Some(Self::Detection)
            }
            T::PointCloudObjectTracking | T::PointCloudObjectTrackingAdjustment => {
                Some(Self::Tracking)
            }
            T::PointCloud3d2dLinking | T::PointCloud3d2dLinkingAdjustment => Some(Self::Linking),
            _ => None,
        }
    }

    /// Whether objects span several frames.
    pub fn is_sequence(self) -> bool {
        !matches!(self, Self::Detection)
    }

    /// A short name for the UI.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Detection => "3D object detection",
            Self::Tracking => "3D object tracking",
            Self::Linking => "3D-2D object tracking",
        }
    }
}

/// A cuboid with nine degrees of freedom (spec §5.12), serialisable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Box9 {
    /// Centre `[x, y, z]` in the cloud's coordinates (metres).
    pub center: [f64; 3],
    /// `[length, width, height]` (metres).
    pub size: [f64; 3],
    /// Rotation about z (radians).
    pub yaw: f64,
    /// Rotation about y (radians).
    pub pitch: f64,
    /// Rotation about x (radians).
    pub roll: f64,
}

impl Box9 {
    /// The geometry cuboid.
    pub fn to_cuboid(&self) -> Cuboid {
        Cuboid {
            center: Point3::from(self.center),
            size: Vector3::from(self.size),
            yaw_rad: self.yaw,
            pitch_rad: self.pitch,
            roll_rad: self.roll,
        }
    }

    /// From a geometry cuboid.
    pub fn from_cuboid(c: &Cuboid) -> Self {
        Self {
            center: c.center.coords.into(),
            size: c.size.into(),
            yaw: c.yaw_rad,
            pitch: c.pitch_rad,
            roll: c.roll_rad,
        }
    }

    /// The cuboid a fraction `t` (0–1) of the way from `a` to `b`: centre and size linear,
    /// angles along the shorter arc (the result's angles wrapped to −π…π).
    pub fn interpolate(a: &Self, b: &Self, t: f64) -> Self {
        let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
        let lerp = |x: f64, y: f64| x + (y - x) * t;
        let angle = |x: f64, y: f64| wrap_angle(x + wrap_angle(y - x) * t);
        Self {
            center: std::array::from_fn(|i| lerp(a.center[i], b.center[i])),
            size: std::array::from_fn(|i| lerp(a.size[i], b.size[i])),
            yaw: angle(a.yaw, b.yaw),
            pitch: angle(a.pitch, b.pitch),
            roll: angle(a.roll, b.roll),
        }
    }

    /// Checks every value is finite and every edge at least [`MIN_SIZE_M`].
    pub fn validate(&self) -> Result<(), CuboidError> {
        let finite =
            self.center.iter().chain(&self.size).chain([&self.yaw, &self.pitch, &self.roll]);
        if !finite.into_iter().all(|v| v.is_finite()) {
            return Err(CuboidError::InvalidCuboid("a value is not a finite number".into()));
        }
        if self.size.iter().any(|s| *s < MIN_SIZE_M) {
            return Err(CuboidError::InvalidCuboid(format!(
                "every edge must be at least {MIN_SIZE_M} m"
            )));
        }
        Ok(())
    }

    /// The Ground Truth record of this cuboid.
    fn record(
        &self,
        class: usize,
        name: String,
        attributes: &BTreeMap<String, Value>,
    ) -> CuboidRecord {
        CuboidRecord {
            class_id: Index::number(class as u64),
            object_name: Some(name),
            object_id: None,
            label_category_attributes: Some(attributes.clone().into_iter().collect()),
            center_x: self.center[0],
            center_y: self.center[1],
            center_z: self.center[2],
            length: self.size[0],
            width: self.size[1],
            height: self.size[2],
            roll: self.roll,
            pitch: self.pitch,
            yaw: self.yaw,
            extra: Map::new(),
        }
    }
}

/// Wraps an angle to −π…π.
pub fn wrap_angle(angle: f64) -> f64 {
    let two_pi = std::f64::consts::TAU;
    let a = angle.rem_euclid(two_pi);
    if a > std::f64::consts::PI { a - two_pi } else { a }
}

/// A box in a camera image (pixels, top-left origin), linked to a cuboid by its object.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Box2 {
    /// Left edge.
    pub left: f64,
    /// Top edge.
    pub top: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// One labelled object, over the frames it appears in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackObject {
    /// `object-id`: a UUID, the same in every frame (and on linked camera boxes).
    pub object_id: String,
    /// Index into the job's labels.
    pub class: usize,
    /// `n` of `Label:n`, unique per label in the document.
    pub number: u32,
    /// `label-category-attributes`.
    pub attributes: BTreeMap<String, Value>,
    /// First frame of the object's span.
    pub start: usize,
    /// Last frame of the object's span (inclusive).
    pub end: usize,
    /// Hand-placed cuboids by frame (the interpolation anchors); never empty.
    pub keyframes: BTreeMap<usize, Box9>,
    /// Frames inside the span where the object was deleted.
    pub removed: BTreeSet<usize>,
    /// Camera boxes: frame → camera index → box (3D-2D linking).
    pub camera_boxes: BTreeMap<usize, BTreeMap<usize, Box2>>,
    /// True when the object came from the earlier labels of an adjustment/verification job.
    pub initial: bool,
}

impl TrackObject {
    /// Whether the object appears in `frame`.
    pub fn in_frame(&self, frame: usize) -> bool {
        frame >= self.start && frame <= self.end && !self.removed.contains(&frame)
    }
}

/// Everything the worker edits.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CuboidContent {
    /// Objects by document-internal id.
    pub objects: BTreeMap<u64, TrackObject>,
    /// The next internal id.
    pub next_id: u64,
    /// Frame attributes by frame.
    pub frame_attributes: BTreeMap<usize, BTreeMap<String, Value>>,
}

/// One frame of the task.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameInfo {
    /// `frame-name` / `frame` in the output (the sequence's `frame`, or the source file name).
    pub name: String,
    /// `unix-timestamp` (seconds), used to interpolate.
    pub timestamp_secs: f64,
    /// How many camera images the frame has.
    pub cameras: usize,
}

/// The job's rules for one label.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRule {
    /// The label.
    pub name: String,
    /// `editsAllowed: none`: earlier objects of this label are read-only.
    pub locked: bool,
    /// The label's own attributes followed by the global ones.
    pub attributes: Vec<AttributeSpec>,
}

/// The task's document: content, rules, frames, undo history.
#[derive(Debug, Clone)]
pub struct CuboidDocument {
    kind: CuboidTaskKind,
    audit: bool,
    labels: Vec<LabelRule>,
    frame_attribute_specs: Vec<AttributeSpec>,
    frames: Vec<FrameInfo>,
    content: CuboidContent,
    initial: Option<CuboidContent>,
    undo: Vec<CuboidContent>,
    redo: Vec<CuboidContent>,
    coalesce: Option<String>,
    revision: u64,
    /// Interpolate between keyframes (else hold the previous keyframe).
    interpolate: bool,
    rng: fastrand::Rng,
}

/// Most undo steps kept.
const MAX_UNDO: usize = 500;

impl CuboidDocument {
    /// A document for `frames` (at least one) with the job's label configuration. `audit` marks
    /// adjustment and verification jobs (earlier labels and `adjustmentStatus`); `seed` seeds the
    /// generator of object ids.
    pub fn new(
        kind: CuboidTaskKind,
        config: &LabelCategoryConfig,
        frames: Vec<FrameInfo>,
        audit: bool,
        seed: u64,
    ) -> Result<Self, CuboidError> {
        if frames.is_empty() {
            return Err(CuboidError::NoSuchFrame { frame: 0, count: 0 });
        }
        if config.labels.is_empty() {
            return Err(CuboidError::NoSuchClass { class: 0, count: 0 });
        }
        let global = config.category_global_attributes.clone().unwrap_or_default();
        let labels = config
            .labels
            .iter()
            .map(|l| LabelRule {
                name: l.label.clone(),
                locked: l.edits_allowed == Some(EditsAllowed::None),
                attributes: l
                    .category_attributes
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .chain(global.iter().cloned())
                    .collect(),
            })
            .collect();
        Ok(Self {
            kind,
            audit,
            labels,
            frame_attribute_specs: config.frame_attributes.clone().unwrap_or_default(),
            frames,
            content: CuboidContent::default(),
            initial: None,
            undo: Vec::new(),
            redo: Vec::new(),
            coalesce: None,
            revision: 0,
            interpolate: true,
            rng: fastrand::Rng::with_seed(seed),
        })
    }

    // --- reading ----------------------------------------------------------------------------

    /// The task kind.
    pub fn kind(&self) -> CuboidTaskKind {
        self.kind
    }

    /// Whether this is an adjustment or verification job.
    pub fn is_audit(&self) -> bool {
        self.audit
    }

    /// Whether every label is `editsAllowed: none` (verification: no geometry changes at all).
    pub fn is_verification(&self) -> bool {
        self.audit && self.labels.iter().all(|l| l.locked)
    }

    /// The labels and their rules.
    pub fn labels(&self) -> &[LabelRule] {
        &self.labels
    }

    /// The label names.
    pub fn label_names(&self) -> Vec<&str> {
        self.labels.iter().map(|l| l.name.as_str()).collect()
    }

    /// The frame attributes' specs.
    pub fn frame_attribute_specs(&self) -> &[AttributeSpec] {
        &self.frame_attribute_specs
    }

    /// The frames.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }

    /// The content.
    pub fn content(&self) -> &CuboidContent {
        &self.content
    }

    /// Changes with every edit, undo and redo (for autosave).
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

    /// Whether in-between frames are interpolated (true) or hold the previous keyframe.
    pub fn interpolates(&self) -> bool {
        self.interpolate
    }

    /// Turns interpolation between keyframes on or off (a view of the data, not an edit).
    pub fn set_interpolate(&mut self, on: bool) {
        if self.interpolate != on {
            self.interpolate = on;
            self.revision += 1;
        }
    }

    /// An object.
    pub fn object(&self, id: u64) -> Option<&TrackObject> {
        self.content.objects.get(&id)
    }

    /// `Label:n` of an object.
    pub fn object_name(&self, id: u64) -> String {
        self.object(id).map_or_else(String::new, |o| self.name_of(o))
    }

    fn name_of(&self, o: &TrackObject) -> String {
        let label = self.labels.get(o.class).map_or("?", |l| l.name.as_str());
        format!("{label}:{}", o.number)
    }

    /// The object's cuboid in `frame`, if it appears there.
    pub fn cuboid_at(&self, id: u64, frame: usize) -> Option<Box9> {
        let o = self.object(id)?;
        self.cuboid_of(o, frame)
    }

    fn cuboid_of(&self, o: &TrackObject, frame: usize) -> Option<Box9> {
        if !o.in_frame(frame) {
            return None;
        }
        if let Some(b) = o.keyframes.get(&frame) {
            return Some(*b);
        }
        let before = o.keyframes.range(..frame).next_back();
        let after = o.keyframes.range(frame..).next();
        match (before, after) {
            (Some((&fa, a)), Some((&fb, b))) if self.interpolate => {
                Some(Box9::interpolate(a, b, self.fraction(fa, fb, frame)))
            }
            (Some((_, a)), _) => Some(*a),
            (None, Some((_, b))) => Some(*b),
            (None, None) => None,
        }
    }

    /// Where `frame` lies between keyframes `a` < `b`: by timestamps when they increase, else by
    /// index.
    fn fraction(&self, a: usize, b: usize, frame: usize) -> f64 {
        let ts = |i: usize| self.frames.get(i).map(|f| f.timestamp_secs);
        if let (Some(ta), Some(tb), Some(tf)) = (ts(a), ts(b), ts(frame))
            && tb > ta
            && tf.is_finite()
        {
            return (tf - ta) / (tb - ta);
        }
        (frame - a) as f64 / (b - a).max(1) as f64
    }

    /// The objects in `frame` with their cuboids, by id.
    pub fn objects_at(&self, frame: usize) -> Vec<(u64, Box9)> {
        self.content
            .objects
            .iter()
            .filter_map(|(id, o)| self.cuboid_of(o, frame).map(|b| (*id, b)))
            .collect()
    }

    /// Whether `frame` is a keyframe of the object.
    pub fn is_keyframe(&self, id: u64, frame: usize) -> bool {
        self.object(id).is_some_and(|o| o.keyframes.contains_key(&frame))
    }

    /// Whether the object's geometry, label and existence may change (spec §4.4).
    pub fn geometry_editable(&self, id: u64) -> bool {
        self.object(id).is_some_and(|o| {
            !(o.initial && self.audit && self.labels.get(o.class).is_some_and(|l| l.locked))
        })
    }

    /// Whether the object's attribute `name` may change.
    pub fn attribute_editable(&self, id: u64, name: &str) -> bool {
        let Some(o) = self.object(id) else { return false };
        if !(o.initial && self.audit) {
            return true;
        }
        self.labels
            .get(o.class)
            .and_then(|l| l.attributes.iter().find(|a| a.name == name))
            .is_none_or(|a| a.edits_allowed != Some(EditsAllowed::None))
    }

    /// Whether frame attribute `name` may change in `frame`.
    pub fn frame_attribute_editable(&self, frame: usize, name: &str) -> bool {
        let locked = self
            .frame_attribute_specs
            .iter()
            .any(|a| a.name == name && a.edits_allowed == Some(EditsAllowed::None));
        let had_value = self
            .initial
            .as_ref()
            .is_some_and(|i| i.frame_attributes.get(&frame).is_some_and(|m| m.contains_key(name)));
        !(self.audit && locked && had_value)
    }

    // --- editing ----------------------------------------------------------------------------

    /// Applies `change` to a copy of the content; when it succeeds and changes something, the
    /// copy becomes the content after the audit rules were checked, and the old content goes on
    /// the undo stack — unless `coalesce` equals the previous edit's key (one drag, one step).
    pub fn edit<F>(&mut self, coalesce: Option<&str>, change: F) -> Result<(), CuboidError>
    where
        F: FnOnce(&mut CuboidContent) -> Result<(), CuboidError>,
    {
        let mut next = self.content.clone();
        change(&mut next)?;
        if next == self.content {
            return Ok(());
        }
        self.check_rules(&next)?;
        let merge = coalesce.is_some() && coalesce == self.coalesce.as_deref();
        let before = std::mem::replace(&mut self.content, next);
        if !merge {
            self.undo.push(before);
            if self.undo.len() > MAX_UNDO {
                self.undo.remove(0);
            }
        }
        self.redo.clear();
        self.coalesce = coalesce.map(str::to_owned);
        self.revision += 1;
        Ok(())
    }

    /// Ends a coalesced gesture: the next edit is a new undo step.
    pub fn end_gesture(&mut self) {
        self.coalesce = None;
    }

    /// Undoes the last edit.
    pub fn undo(&mut self) -> bool {
        let Some(before) = self.undo.pop() else { return false };
        self.redo.push(std::mem::replace(&mut self.content, before));
        self.coalesce = None;
        self.revision += 1;
        true
    }

    /// Redoes the last undone edit.
    pub fn redo(&mut self) -> bool {
        let Some(after) = self.redo.pop() else { return false };
        self.undo.push(std::mem::replace(&mut self.content, after));
        self.coalesce = None;
        self.revision += 1;
        true
    }

    /// The spec §4.4 rules: earlier objects of locked labels keep their geometry, label and
    /// existence; attributes marked `none` keep their earlier values.
    fn check_rules(&self, next: &CuboidContent) -> Result<(), CuboidError> {
        let count = self.labels.len();
        for o in next.objects.values() {
            if o.class >= count {
                return Err(CuboidError::NoSuchClass { class: o.class, count });
            }
            if o.end >= self.frames.len() || o.start > o.end || o.keyframes.is_empty() {
                return Err(CuboidError::NoSuchFrame { frame: o.end, count: self.frames.len() });
            }
            for b in o.keyframes.values() {
                b.validate()?;
            }
        }
        let Some(initial) = self.initial.as_ref().filter(|_| self.audit) else { return Ok(()) };
        for (id, before) in &initial.objects {
            let locked = self.labels.get(before.class).is_some_and(|l| l.locked);
            let after = next.objects.get(id);
            let name = self.name_of(before);
            if locked {
                let same_geometry = after.is_some_and(|a| {
                    a.class == before.class
                        && a.number == before.number
                        && a.start == before.start
                        && a.end == before.end
                        && a.keyframes == before.keyframes
                        && a.removed == before.removed
                });
                if !same_geometry {
                    return Err(CuboidError::NotAllowed(format!(
                        "{name} comes from the earlier labels and may not be moved, resized, \
                         relabelled or deleted"
                    )));
                }
            }
            if let Some(after) = after {
                let specs = self.labels.get(before.class).map_or(&[][..], |l| &l.attributes[..]);
                for spec in specs.iter().filter(|s| s.edits_allowed == Some(EditsAllowed::None)) {
                    if before.attributes.get(&spec.name) != after.attributes.get(&spec.name) {
                        return Err(CuboidError::NotAllowed(format!(
                            "the attribute {} of {name} may not be changed",
                            spec.name
                        )));
                    }
                }
            }
        }
        for spec in self
            .frame_attribute_specs
            .iter()
            .filter(|s| s.edits_allowed == Some(EditsAllowed::None))
        {
            for (frame, before) in &initial.frame_attributes {
                if let Some(v) = before.get(&spec.name)
                    && next.frame_attributes.get(frame).and_then(|m| m.get(&spec.name)) != Some(v)
                {
                    return Err(CuboidError::NotAllowed(format!(
                        "the frame attribute {} may not be changed",
                        spec.name
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_frame(&self, frame: usize) -> Result<(), CuboidError> {
        if frame < self.frames.len() {
            Ok(())
        } else {
            Err(CuboidError::NoSuchFrame { frame, count: self.frames.len() })
        }
    }

    /// A new UUID (version 4 layout) from the document's generator.
    pub fn new_object_id(&mut self) -> String {
        let mut bytes = [0u8; 16];
        for b in &mut bytes {
            *b = self.rng.u8(..);
        }
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
    }

    /// Adds an object of `class` with `cuboid` in `frame`. In a sequence the new object spans
    /// from `frame` to the last frame (Ground Truth's label autofill) with one keyframe.
    pub fn add_object(
        &mut self,
        class: usize,
        frame: usize,
        cuboid: Box9,
    ) -> Result<u64, CuboidError> {
        self.check_frame(frame)?;
        if class >= self.labels.len() {
            return Err(CuboidError::NoSuchClass { class, count: self.labels.len() });
        }
        if self.is_verification() {
            return Err(CuboidError::NotAllowed("a verification task adds no labels".into()));
        }
        let object_id = self.new_object_id();
        let number = self.next_number(class);
        let end = if self.kind.is_sequence() { self.frames.len() - 1 } else { frame };
        let id = self.content.next_id;
        self.edit(None, |c| {
            c.next_id = id + 1;
            c.objects.insert(
                id,
                TrackObject {
                    object_id,
                    class,
                    number,
                    attributes: BTreeMap::new(),
                    start: frame,
                    end,
                    keyframes: BTreeMap::from([(frame, cuboid)]),
                    removed: BTreeSet::new(),
                    camera_boxes: BTreeMap::new(),
                    initial: false,
                },
            );
            Ok(())
        })?;
        Ok(id)
    }

    fn next_number(&self, class: usize) -> u32 {
        self.content
            .objects
            .values()
            .filter(|o| o.class == class)
            .map(|o| o.number)
            .max()
            .unwrap_or(0)
            + 1
    }

    /// Sets the object's cuboid in `frame` (making it a keyframe, and extending the span or
    /// restoring a removed frame when needed).
    pub fn set_cuboid(
        &mut self,
        id: u64,
        frame: usize,
        cuboid: Box9,
        coalesce: Option<&str>,
    ) -> Result<(), CuboidError> {
        self.check_frame(frame)?;
        cuboid.validate()?;
        self.edit(coalesce, |c| {
            let o = c.objects.get_mut(&id).ok_or(CuboidError::NoSuchObject(id))?;
            o.keyframes.insert(frame, cuboid);
            o.removed.remove(&frame);
            o.start = o.start.min(frame);
            o.end = o.end.max(frame);
            Ok(())
        })
    }

    /// Makes `frame` a keyframe holding the cuboid it shows now (or, when it is one, turns it
    /// back into an interpolated frame — unless it is the only keyframe).
    pub fn toggle_keyframe(&mut self, id: u64, frame: usize) -> Result<(), CuboidError> {
        let current = self
            .cuboid_at(id, frame)
            .ok_or_else(|| CuboidError::NotInFrame { name: self.object_name(id), frame })?;
        self.edit(None, |c| {
            let o = c.objects.get_mut(&id).ok_or(CuboidError::NoSuchObject(id))?;
            let keys = o.keyframes.len();
            match o.keyframes.entry(frame) {
                std::collections::btree_map::Entry::Occupied(e) if keys > 1 => {
                    e.remove();
                }
                std::collections::btree_map::Entry::Occupied(_) => {}
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(current);
                }
            }
            Ok(())
        })
    }

    /// Copies the object's cuboid in `frame` to the next frame (a keyframe there).
    pub fn copy_to_next(&mut self, id: u64, frame: usize) -> Result<(), CuboidError> {
        let current = self
            .cuboid_at(id, frame)
            .ok_or_else(|| CuboidError::NotInFrame { name: self.object_name(id), frame })?;
        self.set_cuboid(id, frame + 1, current, None)
    }

    /// Removes the object from `frame` only (the whole object when it is nowhere else).
    pub fn remove_in_frame(&mut self, id: u64, frame: usize) -> Result<(), CuboidError> {
        self.edit(None, |c| {
            let o = c.objects.get_mut(&id).ok_or(CuboidError::NoSuchObject(id))?;
            o.keyframes.remove(&frame);
            if frame == o.start {
                o.start += 1;
            } else if frame == o.end {
                o.end = o.end.saturating_sub(1);
            } else {
                o.removed.insert(frame);
            }
            if !settle_span(o) {
                c.objects.remove(&id);
            }
            Ok(())
        })
    }

    /// Removes the object from every frame before `frame` (`frame` kept).
    pub fn remove_before(&mut self, id: u64, frame: usize) -> Result<(), CuboidError> {
        let keep = self.cuboid_at(id, frame);
        self.edit(None, |c| {
            let o = c.objects.get_mut(&id).ok_or(CuboidError::NoSuchObject(id))?;
            if let Some(b) = keep {
                o.keyframes.entry(frame).or_insert(b);
            }
            o.keyframes.retain(|f, _| *f >= frame);
            o.start = o.start.max(frame);
            if !settle_span(o) {
                c.objects.remove(&id);
            }
            Ok(())
        })
    }

    /// Removes the object from every frame after `frame` (`frame` kept).
    pub fn remove_after(&mut self, id: u64, frame: usize) -> Result<(), CuboidError> {
        let keep = self.cuboid_at(id, frame);
        self.edit(None, |c| {
            let o = c.objects.get_mut(&id).ok_or(CuboidError::NoSuchObject(id))?;
            if let Some(b) = keep {
                o.keyframes.entry(frame).or_insert(b);
            }
            o.keyframes.retain(|f, _| *f <= frame);
            o.end = o.end.min(frame);
            if !settle_span(o) {
                c.objects.remove(&id);
            }
            Ok(())
        })
    }

    /// Removes the object from every frame.
    pub fn remove_all(&mut self, id: u64) -> Result<(), CuboidError> {
        self.edit(None, |c| c.objects.remove(&id).map(|_| ()).ok_or(CuboidError::NoSuchObject(id)))
    }

    /// Changes the object's label in every frame (it gets the next instance number of the new
    /// label).
    pub fn set_class(&mut self, id: u64, class: usize) -> Result<(), CuboidError> {
        if class >= self.labels.len() {
            return Err(CuboidError::NoSuchClass { class, count: self.labels.len() });
        }
        if self.object(id).is_some_and(|o| o.class == class) {
            return Ok(());
        }
        let number = self.next_number(class);
        self.edit(None, |c| {
            let o = c.objects.get_mut(&id).ok_or(CuboidError::NoSuchObject(id))?;
            o.class = class;
            o.number = number;
            Ok(())
        })
    }

    /// Sets (or clears with `None`) a label attribute of the object.
    pub fn set_attribute(
        &mut self,
        id: u64,
        name: &str,
        value: Option<Value>,
    ) -> Result<(), CuboidError> {
        if let Some(v) = &value {
            let class = self.object(id).ok_or(CuboidError::NoSuchObject(id))?.class;
            let spec =
                self.labels.get(class).and_then(|l| l.attributes.iter().find(|a| a.name == name));
            check_attribute(spec, name, v, MAX_LABEL_TEXT_CHARS)?;
        }
        self.edit(None, |c| {
            let o = c.objects.get_mut(&id).ok_or(CuboidError::NoSuchObject(id))?;
            match value {
                Some(v) => o.attributes.insert(name.to_owned(), v),
                None => o.attributes.remove(name),
            };
            Ok(())
        })
    }

    /// Sets (or clears) a frame attribute in each of `frames`.
    pub fn set_frame_attribute(
        &mut self,
        frames: &[usize],
        name: &str,
        value: Option<Value>,
    ) -> Result<(), CuboidError> {
        for f in frames {
            self.check_frame(*f)?;
        }
        if let Some(v) = &value {
            let spec = self.frame_attribute_specs.iter().find(|a| a.name == name);
            check_attribute(spec, name, v, MAX_FRAME_TEXT_CHARS)?;
        }
        self.edit(None, |c| {
            for f in frames {
                let map = c.frame_attributes.entry(*f).or_default();
                match &value {
                    Some(v) => map.insert(name.to_owned(), v.clone()),
                    None => map.remove(name),
                };
                if map.is_empty() {
                    c.frame_attributes.remove(f);
                }
            }
            Ok(())
        })
    }

    /// Sets (or clears) the object's box in camera `camera` of `frame` (3D-2D linking).
    pub fn set_camera_box(
        &mut self,
        id: u64,
        frame: usize,
        camera: usize,
        b: Option<Box2>,
        coalesce: Option<&str>,
    ) -> Result<(), CuboidError> {
        self.check_frame(frame)?;
        if let Some(b) = b
            && !(b.width > 0.0 && b.height > 0.0 && b.left.is_finite() && b.top.is_finite())
        {
            return Err(CuboidError::InvalidCuboid("a camera box needs a positive size".into()));
        }
        self.edit(coalesce, |c| {
            let o = c.objects.get_mut(&id).ok_or(CuboidError::NoSuchObject(id))?;
            let per_camera = o.camera_boxes.entry(frame).or_default();
            match b {
                Some(b) => per_camera.insert(camera, b),
                None => per_camera.remove(&camera),
            };
            if per_camera.is_empty() {
                o.camera_boxes.remove(&frame);
            }
            Ok(())
        })
    }

    // --- earlier labels, drafts -------------------------------------------------------------

    /// Loads earlier labels (adjustment/verification) as the starting content: cuboid records per
    /// frame index with the earlier job's class map (names are matched to this job's labels);
    /// records sharing an `object-id` become one object, each of its frames a keyframe. Camera
    /// boxes `(frame, camera, record)` join the object of their `object-id`. Returns how many
    /// records were skipped (unknown label or frame, invalid geometry).
    pub fn load_initial(
        &mut self,
        frames: &[(usize, Vec<CuboidRecord>)],
        class_map: &BTreeMap<u64, String>,
        camera_boxes: &[(usize, usize, VideoBox)],
    ) -> usize {
        let mut content = CuboidContent::default();
        let mut by_object_id: BTreeMap<String, u64> = BTreeMap::new();
        let mut skipped = 0;
        for (frame, records) in frames {
            for r in records {
                let class = class_map
                    .get(&r.class_id.value)
                    .and_then(|name| self.labels.iter().position(|l| &l.name == name))
                    .or_else(|| {
                        // Without a class map the class id is this job's index.
                        class_map.is_empty().then_some(r.class_id.value as usize)
                    })
                    .filter(|c| *c < self.labels.len());
                let b = Box9 {
                    center: [r.center_x, r.center_y, r.center_z],
                    size: [r.length, r.width, r.height],
                    yaw: r.yaw,
                    pitch: r.pitch,
                    roll: r.roll,
                };
                let (Some(class), true, Ok(())) = (class, *frame < self.frames.len(), b.validate())
                else {
                    skipped += 1;
                    continue;
                };
                let key = r
                    .object_id
                    .clone()
                    .unwrap_or_else(|| format!("frame-{frame}-{}", content.next_id));
                let id = match by_object_id.get(&key) {
                    Some(id) => *id,
                    None => {
                        let id = content.next_id;
                        content.next_id += 1;
                        let number = r
                            .object_name
                            .as_deref()
                            .and_then(|n| n.rsplit(':').next())
                            .and_then(|n| n.parse::<u32>().ok())
                            .unwrap_or_else(|| {
                                content
                                    .objects
                                    .values()
                                    .filter(|o| o.class == class)
                                    .map(|o| o.number)
                                    .max()
                                    .unwrap_or(0)
                                    + 1
                            });
                        let object_id = match &r.object_id {
                            Some(o) => o.clone(),
                            None => self.new_object_id(),
                        };
                        content.objects.insert(
                            id,
                            TrackObject {
                                object_id,
                                class,
                                number,
                                attributes: r
                                    .label_category_attributes
                                    .clone()
                                    .unwrap_or_default()
                                    .into_iter()
                                    .collect(),
                                start: *frame,
                                end: *frame,
                                keyframes: BTreeMap::new(),
                                removed: BTreeSet::new(),
                                camera_boxes: BTreeMap::new(),
                                initial: true,
                            },
                        );
                        by_object_id.insert(key, id);
                        id
                    }
                };
                if let Some(o) = content.objects.get_mut(&id) {
                    o.keyframes.insert(*frame, b);
                    o.start = o.start.min(*frame);
                    o.end = o.end.max(*frame);
                }
            }
        }
        // Frames inside a span without a record were not labelled there.
        for o in content.objects.values_mut() {
            for f in o.start..=o.end {
                if !o.keyframes.contains_key(&f) {
                    o.removed.insert(f);
                }
            }
        }
        for (frame, camera, vb) in camera_boxes {
            let target = vb
                .info
                .object_id
                .as_ref()
                .and_then(|oid| content.objects.values_mut().find(|o| &o.object_id == oid));
            match target {
                Some(o) if *frame < self.frames.len() && vb.width > 0.0 && vb.height > 0.0 => {
                    o.camera_boxes.entry(*frame).or_default().insert(
                        *camera,
                        Box2 { left: vb.left, top: vb.top, width: vb.width, height: vb.height },
                    );
                }
                _ => skipped += 1,
            }
        }
        self.initial = Some(content.clone());
        self.content = content;
        self.undo.clear();
        self.redo.clear();
        self.revision += 1;
        skipped
    }

    /// Sets the earlier frame attributes (adjustment): `frame → attributes`.
    pub fn load_initial_frame_attributes(
        &mut self,
        attributes: BTreeMap<usize, BTreeMap<String, Value>>,
    ) {
        let attributes: BTreeMap<_, _> = attributes
            .into_iter()
            .filter(|(f, m)| *f < self.frames.len() && !m.is_empty())
            .collect();
        self.content.frame_attributes = attributes.clone();
        if let Some(initial) = &mut self.initial {
            initial.frame_attributes = attributes;
        } else {
            self.initial = Some(self.content.clone());
        }
    }

    /// A copy without the undo history (what a draft save needs; the history can hold hundreds
    /// of copies of the content).
    pub fn without_history(&self) -> Self {
        Self {
            kind: self.kind,
            audit: self.audit,
            labels: self.labels.clone(),
            frame_attribute_specs: self.frame_attribute_specs.clone(),
            frames: self.frames.clone(),
            content: self.content.clone(),
            initial: self.initial.clone(),
            undo: Vec::new(),
            redo: Vec::new(),
            coalesce: None,
            revision: self.revision,
            interpolate: self.interpolate,
            rng: self.rng.clone(),
        }
    }

    /// The draft: the content, plus the view setting that changes what is exported.
    pub fn to_draft(&self) -> Value {
        json!({
            "format": DRAFT_FORMAT,
            "kind": self.kind,
            "interpolate": self.interpolate,
            "content": serde_json::to_value(&self.content).unwrap_or(Value::Null),
        })
    }

    /// Restores a draft written by [`CuboidDocument::to_draft`] (checked against this task's
    /// labels, frames and audit rules; undo history cleared).
    pub fn restore_draft(&mut self, draft: &Value) -> Result<(), CuboidError> {
        let format = draft.get("format").and_then(Value::as_u64);
        if format != Some(u64::from(DRAFT_FORMAT)) {
            return Err(CuboidError::Draft(format!("unknown draft format {format:?}")));
        }
        let kind: CuboidTaskKind =
            serde_json::from_value(draft.get("kind").cloned().unwrap_or(Value::Null))
                .map_err(|e| CuboidError::Draft(e.to_string()))?;
        if kind != self.kind {
            return Err(CuboidError::Draft("the draft belongs to another kind of task".into()));
        }
        let content: CuboidContent =
            serde_json::from_value(draft.get("content").cloned().unwrap_or(Value::Null))
                .map_err(|e| CuboidError::Draft(e.to_string()))?;
        if content.objects.keys().any(|id| *id >= content.next_id) {
            return Err(CuboidError::Draft("object ids past next_id".into()));
        }
        if content.frame_attributes.keys().any(|f| *f >= self.frames.len()) {
            return Err(CuboidError::Draft("frame attributes past the last frame".into()));
        }
        self.check_rules(&content).map_err(|e| CuboidError::Draft(e.to_string()))?;
        self.content = content;
        self.interpolate = draft.get("interpolate").and_then(Value::as_bool).unwrap_or(true);
        self.undo.clear();
        self.redo.clear();
        self.revision += 1;
        Ok(())
    }

    // --- export -----------------------------------------------------------------------------

    /// Why the task cannot be submitted yet (a required attribute without a value), if so.
    pub fn incomplete(&self) -> Option<String> {
        for o in self.content.objects.values() {
            let specs = self.labels.get(o.class).map_or(&[][..], |l| &l.attributes[..]);
            for spec in specs.iter().filter(|s| s.is_required == Some(true)) {
                if !o.attributes.contains_key(&spec.name) {
                    return Some(format!("{} needs a value for {}.", self.name_of(o), spec.name));
                }
            }
        }
        for spec in self.frame_attribute_specs.iter().filter(|s| s.is_required == Some(true)) {
            for f in 0..self.frames.len() {
                if !self
                    .content
                    .frame_attributes
                    .get(&f)
                    .is_some_and(|m| m.contains_key(&spec.name))
                {
                    return Some(if self.frames.len() == 1 {
                        format!("The frame attribute {} needs a value.", spec.name)
                    } else {
                        format!("Frame {} needs a value for {}.", f + 1, spec.name)
                    });
                }
            }
        }
        None
    }

    /// `"adjusted"` or `"unadjusted"` for audit jobs (whether anything differs from the earlier
    /// labels), `None` otherwise.
    pub fn adjustment_status(&self) -> Option<&'static str> {
        if !self.audit {
            return None;
        }
        let same = self.initial.as_ref().map_or(
            self.content.objects.is_empty() && self.content.frame_attributes.is_empty(),
            |i| {
                let export = |c: &CuboidContent| {
                    let mut d = self.clone();
                    d.content = c.clone();
                    d.seq_records()
                };
                export(i) == export(&self.content)
            },
        );
        Some(if same { "unadjusted" } else { "adjusted" })
    }

    /// The cuboid records of every frame, with `object-id` (frame index, records).
    fn seq_records(&self) -> Vec<Vec<CuboidRecord>> {
        (0..self.frames.len())
            .map(|f| {
                self.content
                    .objects
                    .values()
                    .filter_map(|o| {
                        let b = self.cuboid_of(o, f)?;
                        let mut r = b.record(o.class, self.name_of(o), &o.attributes);
                        r.object_id = Some(o.object_id.clone());
                        Some(r)
                    })
                    .collect()
            })
            .collect()
    }

    fn frame_attributes_of(&self, frame: usize) -> Map<String, Value> {
        self.content.frame_attributes.get(&frame).cloned().unwrap_or_default().into_iter().collect()
    }

    /// The `answerContent` of the worker response (contracts in the issue notes): detection
    /// `{"annotations", "dataset-object-attributes"}`; tracking and 3D-2D linking `{"seqLabel"}`;
    /// audit jobs add `adjustmentStatus`.
    pub fn answer_content(&self) -> Result<Value, CuboidError> {
        if let Some(why) = self.incomplete() {
            return Err(CuboidError::Incomplete(why));
        }
        let mut out = Map::new();
        match self.kind {
            CuboidTaskKind::Detection => {
                let annotations: Vec<Value> = self
                    .content
                    .objects
                    .values()
                    .filter_map(|o| {
                        let b = self.cuboid_of(o, 0)?;
                        Some(b.record(o.class, self.name_of(o), &o.attributes).to_value())
                    })
                    .collect();
                out.insert("annotations".into(), Value::Array(annotations));
                out.insert(
                    "dataset-object-attributes".into(),
                    Value::Object(self.frame_attributes_of(0)),
                );
            }
            CuboidTaskKind::Tracking => {
                out.insert("seqLabel".into(), self.point_cloud_seq_label().to_value());
            }
            CuboidTaskKind::Linking => {
                out.insert("seqLabel".into(), self.sensor_fusion_seq_label().to_value());
            }
        }
        if let Some(status) = self.adjustment_status() {
            out.insert("adjustmentStatus".into(), Value::from(status));
        }
        Ok(Value::Object(out))
    }

    /// The lidar `SeqLabel.json` (§5.13): one entry per frame of the sequence.
    pub fn point_cloud_seq_label(&self) -> PointCloudSeqLabel {
        let frames = self
            .seq_records()
            .into_iter()
            .enumerate()
            .map(|(i, annotations)| PointCloudFrameLabel {
                frame_number: Index::number(i as u64),
                frame_name: self.frames.get(i).map(|f| f.name.clone()).unwrap_or_default(),
                frame_attributes: Some(self.frame_attributes_of(i)),
                annotations,
                extra: Map::new(),
            })
            .collect();
        PointCloudSeqLabel { frames, extra: Map::new() }
    }

    /// The 3D-2D `SeqLabel.json` (§5.14): the lidar track and, per camera, the frames with boxes.
    pub fn sensor_fusion_seq_label(&self) -> SensorFusionSeqLabel {
        let cameras = self.frames.iter().map(|f| f.cameras).max().unwrap_or(0);
        let camera_labels = (0..cameras)
            .map(|camera| {
                let frames = (0..self.frames.len())
                    .filter_map(|f| {
                        let boxes: Vec<VideoBox> = self
                            .content
                            .objects
                            .values()
                            .filter(|o| o.in_frame(f))
                            .filter_map(|o| {
                                let b = o.camera_boxes.get(&f)?.get(&camera)?;
                                let mut info = ShapeInfo::new(o.class as u64);
                                info.class_id = Index::number(o.class as u64);
                                info.label_category_attributes =
                                    Some(o.attributes.clone().into_iter().collect());
                                info.object_id = Some(o.object_id.clone());
                                info.object_name = Some(self.name_of(o));
                                Some(VideoBox {
                                    info,
                                    left: b.left,
                                    top: b.top,
                                    width: b.width,
                                    height: b.height,
                                    extra: Map::new(),
                                })
                            })
                            .collect();
                        (!boxes.is_empty()).then(|| VideoFrameLabel {
                            frame_no: Index::number(f as u64),
                            frame: self.frames.get(f).map(|x| x.name.clone()).unwrap_or_default(),
                            frame_attributes: Some(self.frame_attributes_of(f)),
                            boxes: Some(boxes),
                            polylines: None,
                            polygons: None,
                            keypoints: None,
                            extra: Map::new(),
                        })
                    })
                    .collect();
                (
                    format!("camera-{camera}"),
                    VideoSeqLabel { kind: VideoSeqLabelKind::Tracking, frames, extra: Map::new() },
                )
            })
            .collect();
        SensorFusionSeqLabel {
            lidar: self.point_cloud_seq_label(),
            cameras: camera_labels,
            extra: Map::new(),
        }
    }
}

/// Drops keyframes and removed frames outside the span and trims removed frames off its ends;
/// false when nothing of the object is left.
fn settle_span(o: &mut TrackObject) -> bool {
    let (start, end) = (o.start, o.end);
    o.keyframes.retain(|f, _| *f >= start && *f <= end);
    o.removed.retain(|f| *f >= start && *f <= end);
    while o.start <= o.end && o.removed.remove(&o.start) {
        o.start += 1;
    }
    while o.end > o.start && o.removed.remove(&o.end) {
        o.end -= 1;
    }
    o.camera_boxes.retain(|f, _| *f >= o.start && *f <= o.end);
    if o.start > o.end || o.keyframes.is_empty() {
        return false;
    }
    // The span's visible frames must reach a keyframe: clamp the span to the keyframes' hold.
    true
}

/// Default cuboid size `[length, width, height]` for a label name (common road users; 2 m cube
/// otherwise).
pub fn default_size_for(label: &str) -> [f64; 3] {
    let l = label.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| l.contains(w));
    if has(&["truck", "lorry", "bus", "trailer"]) {
        [9.0, 2.6, 3.2]
    } else if has(&["van"]) {
        [5.2, 2.0, 2.2]
    } else if has(&["car", "vehicle", "sedan", "suv"]) {
        [4.5, 1.9, 1.6]
    } else if has(&["bike", "bicycle", "cyclist", "motor"]) {
        [1.8, 0.7, 1.6]
    } else if has(&["person", "pedestrian", "people", "human", "child"]) {
        [0.7, 0.7, 1.75]
    } else if has(&["pole", "post", "sign", "light"]) {
        [0.4, 0.4, 4.0]
    } else if has(&["cone", "barrier"]) {
        [0.5, 0.5, 0.8]
    } else {
        [2.0, 2.0, 2.0]
    }
}

/// `value` checked against attribute `name`'s definition (spec §4.3); unknown attributes are
/// refused.
fn check_attribute(
    spec: Option<&AttributeSpec>,
    name: &str,
    value: &Value,
    max_text_chars: usize,
) -> Result<(), CuboidError> {
    let invalid =
        |message: String| CuboidError::InvalidAttribute { name: name.to_owned(), message };
    spec.ok_or_else(|| invalid("not an attribute in the label category file".into()))?
        .check_value(value, max_text_chars)
        .map_err(invalid)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::formats::label_config::LabelCategory;
    use std::f64::consts::PI;

    fn config(locked: bool) -> LabelCategoryConfig {
        let text = format!(
            r#"{{"documentVersion": "2020-03-01",
                "labels": [{{"label": "Car", {} "categoryAttributes": [{{"name": "parked", "type": "string", "enum": ["yes", "no"], "editsAllowed": "none"}}]}}, {{"label": "Pole"}}],
                "frameAttributes": [{{"name": "weather", "type": "string", "enum": ["sun", "rain"], "description": "Weather"}}]}}"#,
            if locked { r#""editsAllowed": "none","# } else { "" }
        );
        LabelCategoryConfig::parse(&text, "labels.json").unwrap()
    }

    fn frames(n: usize) -> Vec<FrameInfo> {
        (0..n)
            .map(|i| FrameInfo {
                name: format!("{i}.bin"),
                timestamp_secs: 100.0 + i as f64 * 0.1,
                cameras: 1,
            })
            .collect()
    }

    fn b(x: f64, yaw: f64, length: f64) -> Box9 {
        Box9 { center: [x, 2.0, 0.8], size: [length, 2.0, 1.5], yaw, pitch: 0.0, roll: 0.0 }
    }

    #[test]
    fn interpolation_between_keyframes_has_known_answers() {
        let mut doc =
            CuboidDocument::new(CuboidTaskKind::Tracking, &config(false), frames(10), false, 1)
                .unwrap();
        // Keyframes at frames 0 and 4: x 0 → 8, length 4 → 6, yaw 170° → −170° (20° the short way).
        let id = doc.add_object(0, 0, b(0.0, 170f64.to_radians(), 4.0)).unwrap();
        doc.set_cuboid(id, 4, b(8.0, (-170f64).to_radians(), 6.0), None).unwrap();
        let mid = doc.cuboid_at(id, 2).unwrap();
        assert!((mid.center[0] - 4.0).abs() < 1e-9);
        assert!((mid.size[0] - 5.0).abs() < 1e-9);
        assert!(
            (wrap_angle(mid.yaw - PI)).abs() < 1e-9,
            "yaw {} should be ±180°",
            mid.yaw.to_degrees()
        );
        let q = doc.cuboid_at(id, 1).unwrap();
        assert!((q.center[0] - 2.0).abs() < 1e-9);
        assert!((q.yaw.to_degrees() - 175.0).abs() < 1e-9);
        let r = doc.cuboid_at(id, 3).unwrap();
        assert!((r.yaw.to_degrees() + 175.0).abs() < 1e-9);
        // After the last keyframe the object holds it (autofill to the end of the sequence).
        assert_eq!(doc.cuboid_at(id, 9), Some(b(8.0, (-170f64).to_radians(), 6.0)));
        // Timestamps decide the fraction: frame 1 at 3/4 of the way in time.
        doc.frames[1].timestamp_secs = 100.3;
        assert!((doc.cuboid_at(id, 1).unwrap().center[0] - 6.0).abs() < 1e-9);
        // Interpolation off: the previous keyframe holds.
        doc.set_interpolate(false);
        assert_eq!(doc.cuboid_at(id, 3).unwrap().center[0], 0.0);
        assert_eq!(
            Box9::interpolate(&b(0.0, 0.0, 1.0), &b(1.0, 0.0, 1.0), f64::NAN).center[0],
            0.0
        );
    }

    #[test]
    fn frames_are_removed_before_after_and_alone_and_undo_restores_them() {
        let mut doc =
            CuboidDocument::new(CuboidTaskKind::Tracking, &config(false), frames(6), false, 2)
                .unwrap();
        let id = doc.add_object(0, 1, b(0.0, 0.0, 4.0)).unwrap();
        assert_eq!(doc.objects_at(0).len(), 0);
        assert_eq!(doc.objects_at(5).len(), 1);
        doc.copy_to_next(id, 1).unwrap();
        assert!(doc.is_keyframe(id, 2));
        doc.remove_in_frame(id, 3).unwrap();
        assert!(doc.cuboid_at(id, 3).is_none());
        assert!(doc.cuboid_at(id, 4).is_some());
        doc.remove_after(id, 4).unwrap();
        assert!(doc.cuboid_at(id, 5).is_none());
        assert!(doc.is_keyframe(id, 4));
        doc.remove_before(id, 2).unwrap();
        assert!(doc.cuboid_at(id, 1).is_none());
        assert_eq!(doc.object(id).unwrap().start, 2);
        doc.undo();
        doc.undo();
        doc.undo();
        assert!(doc.cuboid_at(id, 3).is_some());
        doc.redo();
        assert!(doc.cuboid_at(id, 3).is_none());
        doc.remove_all(id).unwrap();
        assert!(doc.object(id).is_none());
        doc.undo();
        assert!(doc.object(id).is_some());
        // A drag is one undo step.
        let before = doc.cuboid_at(id, 2).unwrap();
        for i in 0..5 {
            doc.set_cuboid(id, 2, b(i as f64, 0.0, 4.0), Some("drag")).unwrap();
        }
        doc.end_gesture();
        doc.undo();
        assert_eq!(doc.cuboid_at(id, 2), Some(before));
        // Invalid geometry and frames are refused.
        assert!(doc.set_cuboid(id, 2, b(0.0, 0.0, 0.0), None).is_err());
        assert!(doc.set_cuboid(id, 9, b(0.0, 0.0, 1.0), None).is_err());
    }

    #[test]
    fn names_ids_rename_and_export_follow_the_contracts() {
        let mut doc =
            CuboidDocument::new(CuboidTaskKind::Tracking, &config(false), frames(3), false, 7)
                .unwrap();
        let a = doc.add_object(0, 0, b(0.0, 0.1, 4.0)).unwrap();
        let c = doc.add_object(0, 0, b(5.0, 0.1, 4.0)).unwrap();
        assert_eq!(doc.object_name(a), "Car:1");
        assert_eq!(doc.object_name(c), "Car:2");
        let uuid = doc.object(a).unwrap().object_id.clone();
        assert_eq!(uuid.len(), 36);
        assert_eq!(uuid.as_bytes()[14], b'4');
        assert_ne!(uuid, doc.object(c).unwrap().object_id);
        doc.set_class(c, 1).unwrap();
        assert_eq!(doc.object_name(c), "Pole:1");
        doc.set_attribute(a, "parked", Some(json!("yes"))).unwrap();
        doc.set_frame_attribute(&[0, 1, 2], "weather", Some(json!("rain"))).unwrap();
        let answer = doc.answer_content().unwrap();
        let seq = &answer["seqLabel"]["tracking-annotations"];
        assert_eq!(seq.as_array().unwrap().len(), 3);
        assert_eq!(seq[1]["frame-number"], json!(1));
        assert_eq!(seq[1]["frame-name"], json!("1.bin"));
        assert_eq!(seq[1]["frame-attributes"], json!({"weather": "rain"}));
        let car = &seq[2]["annotations"][0];
        assert_eq!(car["object-name"], json!("Car:1"));
        assert_eq!(car["object-id"], json!(uuid));
        assert_eq!(car["class-id"], json!(0));
        assert_eq!(car["label-category-attributes"], json!({"parked": "yes"}));
        assert_eq!(car["center-x"], json!(0));
        assert_eq!(car["length"], json!(4));
        assert!(answer.get("adjustmentStatus").is_none());
        // The SeqLabel parses back as a 3D tracking file.
        let parsed =
            crate::formats::output::seq_label::SeqLabel::from_value(&answer["seqLabel"], "x")
                .unwrap();
        assert!(matches!(parsed, crate::formats::output::seq_label::SeqLabel::PointCloud(_)));

        // Detection: inline annotations, no object-id.
        let mut det =
            CuboidDocument::new(CuboidTaskKind::Detection, &config(false), frames(1), false, 7)
                .unwrap();
        let d = det.add_object(1, 0, b(1.0, 0.5, 0.4)).unwrap();
        det.set_frame_attribute(&[0], "weather", Some(json!("sun"))).unwrap();
        let answer = det.answer_content().unwrap();
        assert_eq!(answer["annotations"][0]["object-name"], json!("Pole:1"));
        assert_eq!(answer["annotations"][0]["class-id"], json!(1));
        assert_eq!(answer["annotations"][0]["yaw"], json!(0.5));
        assert!(answer["annotations"][0].get("object-id").is_none());
        assert_eq!(answer["dataset-object-attributes"], json!({"weather": "sun"}));
        assert_eq!(det.object(d).unwrap().end, 0);

        // 3D-2D linking: camera boxes keyed by camera, same object-id.
        let mut link =
            CuboidDocument::new(CuboidTaskKind::Linking, &config(false), frames(2), false, 9)
                .unwrap();
        let l = link.add_object(0, 0, b(3.0, 0.0, 4.0)).unwrap();
        link.set_camera_box(
            l,
            1,
            0,
            Some(Box2 { left: 10.0, top: 20.0, width: 30.0, height: 40.0 }),
            None,
        )
        .unwrap();
        let answer = link.answer_content().unwrap();
        let cam = &answer["seqLabel"]["camera-0"]["tracking-annotations"];
        assert_eq!(cam.as_array().unwrap().len(), 1);
        assert_eq!(cam[0]["frame-no"], json!(1));
        assert_eq!(cam[0]["annotations"][0]["object-id"], json!(link.object(l).unwrap().object_id));
        assert_eq!(cam[0]["annotations"][0]["left"], json!(10));
        assert_eq!(
            answer["seqLabel"]["lidar"]["tracking-annotations"][1]["annotations"][0]["object-id"],
            cam[0]["annotations"][0]["object-id"]
        );
    }

    #[test]
    fn audit_rules_and_drafts() {
        // Verification: every label locked; earlier cuboids cannot move; attributes marked none
        // keep their value; others may change.
        let mut cfg = config(true);
        cfg.labels[1].edits_allowed = Some(EditsAllowed::None);
        cfg.labels[0]
            .category_attributes
            .as_mut()
            .unwrap()
            .push(AttributeSpec::string("note", None));
        let mut doc =
            CuboidDocument::new(CuboidTaskKind::Detection, &cfg, frames(1), true, 3).unwrap();
        let record = b(1.0, 0.2, 4.0).record(
            0,
            "Car:3".into(),
            &BTreeMap::from([("parked".to_owned(), json!("no"))]),
        );
        let class_map = BTreeMap::from([(0, "Car".to_owned())]);
        assert_eq!(doc.load_initial(&[(0, vec![record.clone()])], &class_map, &[]), 0);
        let id = *doc.content().objects.keys().next().unwrap();
        assert_eq!(doc.object_name(id), "Car:3");
        assert!(doc.is_verification());
        assert!(!doc.geometry_editable(id));
        assert!(matches!(
            doc.set_cuboid(id, 0, b(2.0, 0.2, 4.0), None),
            Err(CuboidError::NotAllowed(_))
        ));
        assert!(doc.remove_all(id).is_err());
        assert!(doc.set_class(id, 1).is_err());
        assert!(doc.add_object(0, 0, b(0.0, 0.0, 1.0)).is_err());
        assert!(!doc.attribute_editable(id, "parked"));
        assert!(doc.set_attribute(id, "parked", Some(json!("yes"))).is_err());
        assert_eq!(doc.adjustment_status(), Some("unadjusted"));
        doc.set_attribute(id, "note", Some(json!("ok"))).unwrap();
        assert_eq!(doc.answer_content().unwrap()["adjustmentStatus"], json!("adjusted"));

        // Adjustment (labels editable): geometry may change, new labels may be added.
        let mut adj =
            CuboidDocument::new(CuboidTaskKind::Detection, &config(false), frames(1), true, 3)
                .unwrap();
        adj.load_initial(&[(0, vec![record])], &class_map, &[]);
        let id = *adj.content().objects.keys().next().unwrap();
        adj.set_cuboid(id, 0, b(1.5, 0.2, 4.0), None).unwrap();
        let new = adj.add_object(0, 0, b(9.0, 0.0, 4.0)).unwrap();
        assert_eq!(adj.object_name(new), "Car:4");
        assert_eq!(adj.answer_content().unwrap()["adjustmentStatus"], json!("adjusted"));

        // Drafts round-trip, and a broken draft is refused without changing the document.
        let draft = adj.to_draft();
        let mut again =
            CuboidDocument::new(CuboidTaskKind::Detection, &config(false), frames(1), true, 3)
                .unwrap();
        again.restore_draft(&draft).unwrap();
        assert_eq!(again.content(), adj.content());
        let mut bad = draft.clone();
        bad["content"]["objects"][new.to_string()]["class"] = json!(7);
        assert!(matches!(again.restore_draft(&bad), Err(CuboidError::Draft(_))));
        assert!(again.restore_draft(&json!({"format": 99})).is_err());
        assert_eq!(again.content(), adj.content());

        // Required attributes block submission.
        let mut cfg = config(false);
        cfg.labels.push(LabelCategory::new("Sign"));
        cfg.frame_attributes.as_mut().unwrap()[0].is_required = Some(true);
        let mut req =
            CuboidDocument::new(CuboidTaskKind::Detection, &cfg, frames(1), false, 1).unwrap();
        assert!(req.incomplete().is_some());
        req.set_frame_attribute(&[0], "weather", Some(json!("sun"))).unwrap();
        assert!(req.answer_content().is_ok());
        assert_eq!(default_size_for("Car"), [4.5, 1.9, 1.6]);
    }
}
