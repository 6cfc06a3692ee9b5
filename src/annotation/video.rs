//! The editable document of one video-frame task (video frame object detection and tracking, and
//! their adjustment and verification forms, spec §2, §4.3–§4.4, §5.11, §10.2).
//!
//! A sequence of frames holds **instances** ([`Track`]: a class, an instance name `label:n` and an
//! `object-id` UUID) and, per instance and frame, one [`FrameShape`] (box, polygon, polyline or
//! keypoint, as the label file's `annotationType` says) marked **keyframe** (placed by the
//! worker) or **interpolated** (computed). Every change is a [`VideoEdit`] with an exact
//! inverse, so undo and redo replay edits backwards and forwards.
//!
//! Worker tools: keyframe interpolation (linear between two keyframes of one instance; boxes by
//! edges, polygons, polylines and keypoints vertex by vertex when the vertex counts agree, else
//! the earlier keyframe holds), predict next (boxes, constant velocity from the last two frames;
//! never overwrites a shape that is there), copy to next / to all following frames (same instance),
//! delete over a frame range, label-category attributes per instance and frame, frame attributes,
//! and bulk attribute edits over frame ranges written `1-10,20` ([`parse_frame_ranges`]).
//!
//! Audits (spec §4.4): in adjustment and verification tasks a label whose `editsAllowed` is
//! `none` is read-only: its earlier instances keep their shapes and class, and no new instance of
//! it can be drawn (verification marks every label so: nothing changes but attributes). An
//! attribute whose `editsAllowed` is `none` stays as the earlier labels had it.
//!
//! Interpolation fills the frames between two keyframes when a keyframe is placed or moved. A
//! segment whose in-between frames are all empty is filled completely; in a segment where the
//! worker deleted some frames (the object was hidden) only the shapes still there follow.
//!
//! Exports `SeqLabel.json` ([`VideoDocument::to_seq_label`]) and the `answerContent` the lead's
//! consolidation reads (`{"seqLabel": …, "adjustmentStatus": …}`); imports an earlier
//! `SeqLabel.json` for adjustment; saves to and restores from a draft.
//!
//! Pure data: no I/O, no clock; randomness (object ids) comes from an injected generator.
//! Must not depend on `store`, `render`, `ui`, `app` or `cli`, nor on egui, wgpu or tokio.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::document::{BoxPx, Geometry, Point2, ShapeKind};
use crate::formats::json::Index;
use crate::formats::label_config::{
    AnnotationType, AttributeSpec, EditsAllowed, LabelCategoryConfig, MAX_FRAME_TEXT_CHARS,
    MAX_LABEL_TEXT_CHARS,
};
use crate::formats::output::seq_label::{
    ShapeInfo, Vertex, VideoBox, VideoFrameLabel, VideoKeypoint, VideoPolyline, VideoSeqLabel,
    VideoSeqLabelKind,
};
use crate::job::TaskType;

/// Version of the draft content this module writes.
pub const DRAFT_FORMAT: u32 = 1;

/// An instance id, stable within one document.
pub type TrackId = u64;

/// Errors of video document edits, exports, imports and drafts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VideoError {
    /// A frame index past the sequence.
    #[error("frame {frame} is outside the sequence (frames 1–{count})")]
    NoSuchFrame {
        /// The frame (1-based, as the worker reads it).
        frame: usize,
        /// How many frames there are.
        count: usize,
    },
    /// An edit names an instance the document does not have.
    #[error("no instance with id {0}")]
    NoSuchTrack(TrackId),
    /// An instance has no shape on a frame the edit needs.
    #[error("{name} has no shape on frame {frame}")]
    NoShape {
        /// The instance name (`car:1`).
        name: String,
        /// The frame (1-based).
        frame: usize,
    },
    /// A class index past the label list.
    #[error("class {class} is not one of the {count} labels")]
    NoSuchClass {
        /// The class index.
        class: usize,
        /// How many labels there are.
        count: usize,
    },
    /// The task's rules forbid the edit (spec §4.4).
    #[error("{0}")]
    NotAllowed(String),
    /// A frame range did not parse.
    #[error("frame range: {0}")]
    Range(#[from] RangeError),
    /// The document cannot be built, edited or exported as asked.
    #[error("{0}")]
    Invalid(String),
    /// The task cannot be submitted yet.
    #[error("{0}")]
    Incomplete(String),
    /// A draft could not be read.
    #[error("the draft cannot be read: {0}")]
    Draft(String),
    /// An edit does not match the document it is applied to (an undo history out of step).
    #[error("the edit does not fit the document: {0}")]
    Conflict(String),
}

/// Why a frame range like `1-10,20` did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// Nothing but blanks.
    #[error("no frames given (write e.g. `1-10,20`)")]
    Empty,
    /// An empty item between commas.
    #[error("item {position} is empty (two commas in a row?)")]
    EmptyItem {
        /// 1-based position of the item.
        position: usize,
    },
    /// Not a number or a range.
    #[error("`{token}` is not a frame number or a range like `1-10`")]
    BadToken {
        /// The item as written.
        token: String,
    },
    /// `10-1`.
    #[error("`{token}` runs backwards; write `{low}-{high}`")]
    Backwards {
        /// The item as written.
        token: String,
        /// The smaller end.
        low: usize,
        /// The larger end.
        high: usize,
    },
    /// A frame number outside `1..=count`.
    #[error("`{token}`: frame {frame} is outside 1–{count}")]
    OutOfRange {
        /// The item as written.
        token: String,
        /// The offending number.
        frame: usize,
        /// How many frames there are.
        count: usize,
    },
}

/// Parses a frame list as workers write it, `1-10` or `2-5,8-10,20` (1-based, inclusive,
/// blanks allowed around items), into sorted, distinct 0-based frame indices.
pub fn parse_frame_ranges(text: &str, count: usize) -> Result<Vec<usize>, RangeError> {
    if text.trim().is_empty() {
        return Err(RangeError::Empty);
    }
    let number = |s: &str, token: &str| -> Result<usize, RangeError> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RangeError::BadToken { token: token.to_owned() });
        }
        let n: usize = s.parse().map_err(|_| RangeError::BadToken { token: token.to_owned() })?;
        if n == 0 || n > count {
            return Err(RangeError::OutOfRange { token: token.to_owned(), frame: n, count });
        }
        Ok(n)
    };
    let mut frames = BTreeSet::new();
    for (i, item) in text.split(',').enumerate() {
        let token = item.trim();
        if token.is_empty() {
            return Err(RangeError::EmptyItem { position: i + 1 });
        }
        match token.split_once('-') {
            Some((a, b)) => {
                let (low, high) = (number(a, token)?, number(b, token)?);
                if low > high {
                    return Err(RangeError::Backwards {
                        token: token.to_owned(),
                        low: high,
                        high: low,
                    });
                }
                frames.extend(low - 1..high);
            }
            None => {
                frames.insert(number(token, token)? - 1);
            }
        }
    }
    Ok(frames.into_iter().collect())
}

/// Writes 0-based frame indices back as a 1-based list (`1-10,20`), the inverse of
/// [`parse_frame_ranges`].
pub fn format_frame_ranges(frames: &[usize]) -> String {
    let mut sorted: Vec<usize> = frames.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if end == start {
            format!("{}", start + 1)
        } else {
            format!("{}-{}", start + 1, end + 1)
        });
    }
    parts.join(",")
}

/// Detection (shapes per frame) or tracking (instances across frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VideoMode {
    /// Video frame object detection: `detection-annotations`.
    Detection,
    /// Video frame object tracking: `tracking-annotations`, with `object-id` and `object-name`.
    Tracking,
}

/// Whether the task labels from scratch or audits earlier labels (spec §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditMode {
    /// A labeling task.
    Labeling,
    /// An adjustment task: earlier labels loaded; read-only labels stay as they are.
    Adjustment,
    /// A verification task (every label `editsAllowed: none`): only allowed attributes change.
    Verification,
}

/// One label of the job, with the attributes its instances carry.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoLabel {
    /// The label name.
    pub name: String,
    /// `editsAllowed: none` (read-only in audits).
    pub read_only: bool,
    /// `categoryGlobalAttributes` then the label's `categoryAttributes`.
    pub attributes: Vec<AttributeSpec>,
}

/// What a video task is: its mode, tool, labels, attributes and frames.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSetup {
    /// Detection or tracking.
    pub mode: VideoMode,
    /// The drawing tool (`annotationType`).
    pub tool: ShapeKind,
    /// Labeling, adjustment or verification.
    pub audit: AuditMode,
    /// The labels in class order.
    pub labels: Vec<VideoLabel>,
    /// `frameAttributes`.
    pub frame_attributes: Vec<AttributeSpec>,
    /// The frame file names, in sequence order (frame index = position).
    pub frames: Vec<String>,
}

/// The mode of a video-frame task type, `None` for other task types.
pub fn video_mode(task_type: TaskType) -> Option<VideoMode> {
    match task_type {
        TaskType::VideoObjectDetection | TaskType::VideoObjectDetectionAdjustment => {
            Some(VideoMode::Detection)
        }
        TaskType::VideoObjectTracking | TaskType::VideoObjectTrackingAdjustment => {
            Some(VideoMode::Tracking)
        }
        _ => None,
    }
}

/// The drawing tool an `annotationType` names (absent = bounding box).
pub fn tool_of(annotation_type: Option<&AnnotationType>) -> Result<ShapeKind, VideoError> {
    match annotation_type {
        None => Ok(ShapeKind::Box),
        Some(AnnotationType::Tool(t)) => match t.as_str() {
            "BoundingBox" => Ok(ShapeKind::Box),
            "Polygon" => Ok(ShapeKind::Polygon),
            "Polyline" => Ok(ShapeKind::Polyline),
            "Keypoint" => Ok(ShapeKind::Keypoint),
            other => Err(VideoError::Invalid(format!(
                "annotationType `{other}` is not one of BoundingBox, Polygon, Polyline, Keypoint"
            ))),
        },
        Some(AnnotationType::List(_)) => Err(VideoError::Invalid(
            "annotationType is a list (3D-2D linking), not a video-frame tool".into(),
        )),
    }
}

impl VideoSetup {
    /// The setup of a task of `task_type` with the job's label file over `frames`.
    pub fn from_config(
        task_type: TaskType,
        config: &LabelCategoryConfig,
        frames: Vec<String>,
    ) -> Result<Self, VideoError> {
        let mode = video_mode(task_type).ok_or_else(|| {
            VideoError::Invalid(format!("{} is not a video frame task", task_type.display_name()))
        })?;
        let tool = tool_of(config.annotation_type.as_ref())?;
        let none = |e: &Option<EditsAllowed>| matches!(e, Some(EditsAllowed::None));
        let global = config.category_global_attributes.clone().unwrap_or_default();
        let labels: Vec<VideoLabel> = config
            .labels
            .iter()
            .map(|l| VideoLabel {
                name: l.label.clone(),
                read_only: none(&l.edits_allowed),
                attributes: global
                    .iter()
                    .chain(l.category_attributes.iter().flatten())
                    .cloned()
                    .collect(),
            })
            .collect();
        let audit = if !task_type.is_adjustment() {
            AuditMode::Labeling
        } else if !labels.is_empty() && labels.iter().all(|l| l.read_only) {
            AuditMode::Verification
        } else {
            AuditMode::Adjustment
        };
        Ok(Self {
            mode,
            tool,
            audit,
            labels,
            frame_attributes: config.frame_attributes.clone().unwrap_or_default(),
            frames,
        })
    }
}

/// One object instance across frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// Stable id (never reused within a document).
    pub id: TrackId,
    /// Class index into the job's labels.
    pub class: usize,
    /// The `n` of `label:n`.
    pub number: u32,
    /// `object-id`: a UUID, the same on every frame.
    pub object_id: String,
    /// True for instances loaded from the audited labels.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub earlier: bool,
}

/// An instance's shape on one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameShape {
    /// Where it is.
    pub geometry: Geometry,
    /// True when the worker placed it (an anchor of interpolation), false when computed.
    pub keyframe: bool,
    /// Label-category attribute values on this frame.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, Value>,
}

/// Everything a worker edits: what a draft saves and an edit changes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VideoContent {
    /// Instances by id.
    #[serde(default)]
    pub tracks: BTreeMap<TrackId, Track>,
    /// Per instance: frame index → shape.
    #[serde(default)]
    pub shapes: BTreeMap<TrackId, BTreeMap<usize, FrameShape>>,
    /// Per frame index: frame attribute values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub frame_attributes: BTreeMap<usize, BTreeMap<String, Value>>,
    /// The next instance id to hand out.
    #[serde(default)]
    pub next_track: TrackId,
}

impl VideoContent {
    /// The shape of `track` on `frame`.
    pub fn shape(&self, track: TrackId, frame: usize) -> Option<&FrameShape> {
        self.shapes.get(&track).and_then(|s| s.get(&frame))
    }
}

/// One change to a [`VideoContent`], carrying what it replaces so that [`VideoEdit::inverse`]
/// undoes it exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum VideoEdit {
    /// Sets, replaces or removes the shape of `track` on `frame`.
    Shape {
        /// The instance.
        track: TrackId,
        /// The frame index.
        frame: usize,
        /// Before.
        before: Option<FrameShape>,
        /// After.
        after: Option<FrameShape>,
    },
    /// Adds, changes or removes an instance.
    Track {
        /// The instance id.
        id: TrackId,
        /// Before.
        before: Option<Track>,
        /// After.
        after: Option<Track>,
    },
    /// Sets or clears a frame attribute.
    FrameAttribute {
        /// The frame index.
        frame: usize,
        /// The attribute name.
        name: String,
        /// Before.
        before: Option<Value>,
        /// After.
        after: Option<Value>,
    },
    /// Several edits as one step.
    Batch(Vec<VideoEdit>),
}

impl VideoEdit {
    /// Applies the edit. It must find what it replaces; on error nothing changed (a batch is
    /// rolled back).
    pub fn apply(&self, content: &mut VideoContent) -> Result<(), VideoError> {
        match self {
            Self::Shape { track, frame, before, after } => {
                if content.shape(*track, *frame) != before.as_ref() {
                    return Err(VideoError::Conflict(format!(
                        "instance {track}, frame {}: the shape differs",
                        frame + 1
                    )));
                }
                match after {
                    Some(s) => {
                        content.shapes.entry(*track).or_default().insert(*frame, s.clone());
                    }
                    None => {
                        if let Some(frames) = content.shapes.get_mut(track) {
                            frames.remove(frame);
                            if frames.is_empty() {
                                content.shapes.remove(track);
                            }
                        }
                    }
                }
            }
            Self::Track { id, before, after } => {
                if content.tracks.get(id) != before.as_ref() {
                    return Err(VideoError::Conflict(format!("instance {id} differs")));
                }
                match after {
                    Some(t) => {
                        content.tracks.insert(*id, t.clone());
                        content.next_track = content.next_track.max(id + 1);
                    }
                    None => {
                        content.tracks.remove(id);
                    }
                }
            }
            Self::FrameAttribute { frame, name, before, after } => {
                let current = content.frame_attributes.get(frame).and_then(|m| m.get(name));
                if current != before.as_ref() {
                    return Err(VideoError::Conflict(format!(
                        "frame {}: attribute `{name}` differs",
                        frame + 1
                    )));
                }
                match after {
                    Some(v) => {
                        content
                            .frame_attributes
                            .entry(*frame)
                            .or_default()
                            .insert(name.clone(), v.clone());
                    }
                    None => {
                        if let Some(m) = content.frame_attributes.get_mut(frame) {
                            m.remove(name);
                            if m.is_empty() {
                                content.frame_attributes.remove(frame);
                            }
                        }
                    }
                }
            }
            Self::Batch(edits) => {
                for (done, edit) in edits.iter().enumerate() {
                    if let Err(e) = edit.apply(content) {
                        for undo in edits.iter().take(done).rev() {
                            // Undoing what just applied cannot fail.
                            let _ = undo.inverse().apply(content);
                        }
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// The edit that undoes this one.
    pub fn inverse(&self) -> Self {
        match self {
            Self::Shape { track, frame, before, after } => Self::Shape {
                track: *track,
                frame: *frame,
                before: after.clone(),
                after: before.clone(),
            },
            Self::Track { id, before, after } => {
                Self::Track { id: *id, before: after.clone(), after: before.clone() }
            }
            Self::FrameAttribute { frame, name, before, after } => Self::FrameAttribute {
                frame: *frame,
                name: name.clone(),
                before: after.clone(),
                after: before.clone(),
            },
            Self::Batch(edits) => Self::Batch(edits.iter().rev().map(Self::inverse).collect()),
        }
    }
}

/// A change being built against a scratch copy of the content; committed as one undo step.
struct Tx {
    content: VideoContent,
    edits: Vec<VideoEdit>,
}

impl Tx {
    fn push(&mut self, edit: VideoEdit) {
        // Built from the scratch copy's own state, so it always applies.
        if edit.apply(&mut self.content).is_ok() {
            self.edits.push(edit);
        }
    }

    fn shape(&mut self, track: TrackId, frame: usize, after: Option<FrameShape>) {
        let before = self.content.shape(track, frame).cloned();
        if before != after {
            self.push(VideoEdit::Shape { track, frame, before, after });
        }
    }

    fn track(&mut self, id: TrackId, after: Option<Track>) {
        let before = self.content.tracks.get(&id).cloned();
        if before != after {
            self.push(VideoEdit::Track { id, before, after });
        }
    }

    fn frame_attribute(&mut self, frame: usize, name: &str, after: Option<Value>) {
        let before = self.content.frame_attributes.get(&frame).and_then(|m| m.get(name)).cloned();
        if before != after {
            self.push(VideoEdit::FrameAttribute { frame, name: name.to_owned(), before, after });
        }
    }

    fn keyframes(&self, track: TrackId) -> Vec<usize> {
        self.content
            .shapes
            .get(&track)
            .map(|m| m.iter().filter(|(_, s)| s.keyframe).map(|(f, _)| *f).collect())
            .unwrap_or_default()
    }

    /// Fills the frames strictly between keyframes `a` and `b` of `track` (see the module docs).
    fn fill_segment(&mut self, track: TrackId, a: usize, b: usize) {
        if b <= a + 1 {
            return;
        }
        let (Some(left), Some(right)) =
            (self.content.shape(track, a).cloned(), self.content.shape(track, b).cloned())
        else {
            return;
        };
        let fresh = (a + 1..b).all(|f| self.content.shape(track, f).is_none());
        for f in a + 1..b {
            let existing = self.content.shape(track, f).cloned();
            if existing.is_none() && !fresh {
                continue;
            }
            let t = (f - a) as f64 / (b - a) as f64;
            let attributes = existing.map_or_else(|| left.attributes.clone(), |e| e.attributes);
            let geometry = interpolate(&left.geometry, &right.geometry, t);
            self.shape(track, f, Some(FrameShape { geometry, keyframe: false, attributes }));
        }
    }

    /// Re-interpolates the segments next to `frame` of `track` (after a keyframe there changed).
    fn reinterpolate_around(&mut self, track: TrackId, frame: usize) {
        let keys = self.keyframes(track);
        let before = keys.iter().rev().find(|k| **k < frame).copied();
        let after = keys.iter().find(|k| **k > frame).copied();
        if keys.contains(&frame) {
            if let Some(a) = before {
                self.fill_segment(track, a, frame);
            }
            if let Some(b) = after {
                self.fill_segment(track, frame, b);
            }
        } else if let (Some(a), Some(b)) = (before, after) {
            self.fill_segment(track, a, b);
        }
    }
}

fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
}

fn lerp_point(a: &Point2, b: &Point2, t: f64) -> Point2 {
    Point2::new(lerp(a.x, b.x, t), lerp(a.y, b.y, t))
}

/// The geometry at `t` (0 = `a`, 1 = `b`) between two keyframes: boxes edge by edge, vertex
/// lists vertex by vertex when their counts agree, keypoints linearly; otherwise `a` holds.
pub fn interpolate(a: &Geometry, b: &Geometry, t: f64) -> Geometry {
    match (a, b) {
        (Geometry::Box(p), Geometry::Box(q)) => Geometry::Box(BoxPx {
            left: lerp(p.left, q.left, t),
            top: lerp(p.top, q.top, t),
            width: lerp(p.width, q.width, t),
            height: lerp(p.height, q.height, t),
        }),
        (Geometry::Polygon(p), Geometry::Polygon(q)) if p.len() == q.len() => {
            Geometry::Polygon(p.iter().zip(q).map(|(u, v)| lerp_point(u, v, t)).collect())
        }
        (Geometry::Polyline(p), Geometry::Polyline(q)) if p.len() == q.len() => {
            Geometry::Polyline(p.iter().zip(q).map(|(u, v)| lerp_point(u, v, t)).collect())
        }
        (Geometry::Keypoint(p), Geometry::Keypoint(q)) => Geometry::Keypoint(lerp_point(p, q, t)),
        _ => a.clone(),
    }
}

/// The box on the frame after `current`, moving as it moved from `previous` (constant velocity
/// of every edge); without a previous box it stays. Kept at least 1 px wide and high and inside
/// `bounds` (width, height) when given.
pub fn predict_box(previous: Option<&BoxPx>, current: &BoxPx, bounds: Option<(f64, f64)>) -> BoxPx {
    let mut next = match previous {
        Some(p) => BoxPx {
            left: 2.0 * current.left - p.left,
            top: 2.0 * current.top - p.top,
            width: (2.0 * current.width - p.width).max(1.0),
            height: (2.0 * current.height - p.height).max(1.0),
        },
        None => *current,
    };
    if let Some((w, h)) = bounds {
        next.width = next.width.min(w);
        next.height = next.height.min(h);
        next.left = next.left.clamp(0.0, (w - next.width).max(0.0));
        next.top = next.top.clamp(0.0, (h - next.height).max(0.0));
    }
    next
}

/// A random (version 4) UUID.
fn uuid_v4(rng: &mut fastrand::Rng) -> String {
    let mut b = [0u8; 16];
    for byte in &mut b {
        *byte = rng.u8(..);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    let group = |r: std::ops::Range<usize>| hex.get(r).map(|g| g.concat()).unwrap_or_default();
    format!("{}-{}-{}-{}-{}", group(0..4), group(4..6), group(6..8), group(8..10), group(10..16))
}

/// What importing earlier labels found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// Shapes loaded.
    pub shapes: usize,
    /// Shapes skipped (unknown frame or class).
    pub skipped: usize,
}

/// The editable document of one video-frame task, with its undo and redo stacks.
#[derive(Debug, Clone)]
pub struct VideoDocument {
    setup: VideoSetup,
    content: VideoContent,
    /// For audits: the content the task opened with.
    initial: Option<VideoContent>,
    undo: Vec<VideoEdit>,
    redo: Vec<VideoEdit>,
    revision: u64,
    rng: fastrand::Rng,
}

impl VideoDocument {
    /// An empty document. `rng` makes the object ids (seed it in tests).
    pub fn new(setup: VideoSetup, rng: fastrand::Rng) -> Result<Self, VideoError> {
        if setup.labels.is_empty() {
            return Err(VideoError::Invalid("the job has no labels".into()));
        }
        if setup.frames.is_empty() {
            return Err(VideoError::Invalid("the sequence has no frames".into()));
        }
        let initial = (setup.audit != AuditMode::Labeling).then(VideoContent::default);
        Ok(Self {
            setup,
            content: VideoContent::default(),
            initial,
            undo: Vec::new(),
            redo: Vec::new(),
            revision: 0,
            rng,
        })
    }

    /// A copy without undo and redo history (what a draft needs; cheap to hand to a thread).
    pub fn without_history(&self) -> Self {
        Self {
            setup: self.setup.clone(),
            content: self.content.clone(),
            initial: self.initial.clone(),
            undo: Vec::new(),
            redo: Vec::new(),
            revision: self.revision,
            rng: self.rng.clone(),
        }
    }

    // --- reading ------------------------------------------------------------------------------

    /// The task's setup.
    pub fn setup(&self) -> &VideoSetup {
        &self.setup
    }

    /// The current content.
    pub fn content(&self) -> &VideoContent {
        &self.content
    }

    /// How many frames the sequence has.
    pub fn frame_count(&self) -> usize {
        self.setup.frames.len()
    }

    /// Changes since opening (for autosave).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// True when there is something to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// True when there is something to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// The instance `id`.
    pub fn track(&self, id: TrackId) -> Option<&Track> {
        self.content.tracks.get(&id)
    }

    /// `label:n` of an instance.
    pub fn track_name(&self, track: &Track) -> String {
        let label = self.setup.labels.get(track.class).map_or("?", |l| l.name.as_str());
        format!("{label}:{}", track.number)
    }

    /// The instances with a shape on `frame`, by id.
    pub fn frame_shapes(&self, frame: usize) -> Vec<(&Track, &FrameShape)> {
        self.content
            .tracks
            .values()
            .filter_map(|t| self.content.shape(t.id, frame).map(|s| (t, s)))
            .collect()
    }

    /// The frames where `track` has a keyframe.
    pub fn keyframes(&self, track: TrackId) -> Vec<usize> {
        self.content
            .shapes
            .get(&track)
            .map(|m| m.iter().filter(|(_, s)| s.keyframe).map(|(f, _)| *f).collect())
            .unwrap_or_default()
    }

    /// The frames where `track` has a shape.
    pub fn frames_of(&self, track: TrackId) -> Vec<usize> {
        self.content.shapes.get(&track).map(|m| m.keys().copied().collect()).unwrap_or_default()
    }

    /// The shape of `track` nearest to `frame` (the latest one before it, else the first after).
    pub fn nearest_shape(&self, track: TrackId, frame: usize) -> Option<(usize, &FrameShape)> {
        let m = self.content.shapes.get(&track)?;
        m.range(..=frame).next_back().or_else(|| m.range(frame..).next()).map(|(f, s)| (*f, s))
    }

    /// The attributes an instance of `class` carries.
    pub fn label_attributes(&self, class: usize) -> &[AttributeSpec] {
        self.setup.labels.get(class).map_or(&[], |l| l.attributes.as_slice())
    }

    /// True when new instances of `class` may be drawn and its instances edited.
    pub fn class_editable(&self, class: usize) -> bool {
        self.setup.audit == AuditMode::Labeling
            || !self.setup.labels.get(class).is_some_and(|l| l.read_only)
    }

    /// True when attribute `name` of `track` may be edited.
    pub fn attribute_editable(&self, track: &Track, name: &str) -> bool {
        let locked = self.setup.audit != AuditMode::Labeling
            && track.earlier
            && self
                .label_attributes(track.class)
                .iter()
                .any(|a| a.name == name && a.edits_allowed == Some(EditsAllowed::None));
        !locked
    }

    /// True when frame attribute `name` may be edited.
    pub fn frame_attribute_editable(&self, name: &str) -> bool {
        self.setup.audit == AuditMode::Labeling
            || !self
                .setup
                .frame_attributes
                .iter()
                .any(|a| a.name == name && a.edits_allowed == Some(EditsAllowed::None))
    }

    /// For audits: whether the worker changed the earlier labels.
    pub fn modified(&self) -> bool {
        self.initial.as_ref().is_some_and(|i| {
            i.tracks != self.content.tracks
                || i.shapes != self.content.shapes
                || i.frame_attributes != self.content.frame_attributes
        })
    }

    // --- undo ---------------------------------------------------------------------------------

    fn begin(&self) -> Tx {
        Tx { content: self.content.clone(), edits: Vec::new() }
    }

    /// Commits a built change as one undo step. Returns false when it changed nothing.
    fn finish(&mut self, tx: Tx) -> bool {
        let Tx { content, mut edits } = tx;
        if edits.is_empty() {
            return false;
        }
        self.content = content;
        let edit = if edits.len() == 1 {
            edits.pop().unwrap_or(VideoEdit::Batch(Vec::new()))
        } else {
            VideoEdit::Batch(edits)
        };
        self.undo.push(edit);
        self.redo.clear();
        self.revision += 1;
        true
    }

    /// Applies `edit` (e.g. one recorded elsewhere) and records it for undo.
    pub fn commit(&mut self, edit: VideoEdit) -> Result<(), VideoError> {
        edit.apply(&mut self.content)?;
        self.undo.push(edit);
        self.redo.clear();
        self.revision += 1;
        Ok(())
    }

    /// Undoes the last edit. Returns false when there was none.
    pub fn undo(&mut self) -> bool {
        let Some(edit) = self.undo.pop() else { return false };
        if edit.inverse().apply(&mut self.content).is_err() {
            return false;
        }
        self.redo.push(edit);
        self.revision += 1;
        true
    }

    /// Redoes the last undone edit. Returns false when there was none.
    pub fn redo(&mut self) -> bool {
        let Some(edit) = self.redo.pop() else { return false };
        if edit.apply(&mut self.content).is_err() {
            return false;
        }
        self.undo.push(edit);
        self.revision += 1;
        true
    }

    // --- checks -------------------------------------------------------------------------------

    fn check_frame(&self, frame: usize) -> Result<(), VideoError> {
        if frame < self.frame_count() {
            Ok(())
        } else {
            Err(VideoError::NoSuchFrame { frame: frame + 1, count: self.frame_count() })
        }
    }

    fn check_class(&self, class: usize) -> Result<(), VideoError> {
        let count = self.setup.labels.len();
        if class >= count {
            return Err(VideoError::NoSuchClass { class, count });
        }
        if !self.class_editable(class) {
            let name = self.setup.labels.get(class).map_or("", |l| l.name.as_str());
            return Err(VideoError::NotAllowed(if self.setup.audit == AuditMode::Verification {
                "This is a verification task: labels cannot change, only attributes.".into()
            } else {
                format!("Labels of `{name}` cannot be added, changed or removed in this task.")
            }));
        }
        Ok(())
    }

    fn check_geometry(&self, geometry: &Geometry) -> Result<(), VideoError> {
        let finite = |p: &Point2| p.x.is_finite() && p.y.is_finite();
        let ok = match geometry {
            Geometry::Box(b) => {
                [b.left, b.top, b.width, b.height].iter().all(|v| v.is_finite())
                    && b.width >= 0.0
                    && b.height >= 0.0
            }
            Geometry::Polygon(v) => v.len() >= 3 && v.iter().all(finite),
            Geometry::Polyline(v) => v.len() >= 2 && v.iter().all(finite),
            Geometry::Keypoint(p) => finite(p),
        };
        if geometry.kind() != self.setup.tool {
            return Err(VideoError::Invalid(format!(
                "this task draws {:?} shapes, not {:?}",
                self.setup.tool,
                geometry.kind()
            )));
        }
        if ok {
            Ok(())
        } else {
            Err(VideoError::Invalid("the shape has too few or non-finite points".into()))
        }
    }

    fn editable_track(&self, id: TrackId) -> Result<&Track, VideoError> {
        let track = self.content.tracks.get(&id).ok_or(VideoError::NoSuchTrack(id))?;
        self.check_class(track.class)?;
        Ok(track)
    }

    fn check_attribute(
        &self,
        track: &Track,
        name: &str,
        value: Option<&Value>,
    ) -> Result<(), VideoError> {
        let spec = self.label_attributes(track.class).iter().find(|a| a.name == name).ok_or_else(
            || {
                VideoError::Invalid(format!(
                    "`{name}` is not an attribute of {}",
                    self.track_name(track)
                ))
            },
        )?;
        if !self.attribute_editable(track, name) {
            return Err(VideoError::NotAllowed(format!(
                "`{name}` of {} cannot be changed in this task.",
                self.track_name(track)
            )));
        }
        match value {
            Some(v) => spec
                .check_value(v, MAX_LABEL_TEXT_CHARS)
                .map_err(|why| VideoError::Invalid(format!("`{}`: {why}", spec.name))),
            None => Ok(()),
        }
    }

    fn check_frame_attribute(&self, name: &str, value: Option<&Value>) -> Result<(), VideoError> {
        let spec = self
            .setup
            .frame_attributes
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| VideoError::Invalid(format!("`{name}` is not a frame attribute")))?;
        if !self.frame_attribute_editable(name) {
            return Err(VideoError::NotAllowed(format!(
                "The frame attribute `{name}` cannot be changed in this task."
            )));
        }
        match value {
            Some(v) => spec
                .check_value(v, MAX_FRAME_TEXT_CHARS)
                .map_err(|why| VideoError::Invalid(format!("`{}`: {why}", spec.name))),
            None => Ok(()),
        }
    }

    fn no_shape(&self, track: &Track, frame: usize) -> VideoError {
        VideoError::NoShape { name: self.track_name(track), frame: frame + 1 }
    }

    fn next_number(&self, class: usize) -> u32 {
        self.content
            .tracks
            .values()
            .filter(|t| t.class == class)
            .map(|t| t.number)
            .max()
            .unwrap_or(0)
            + 1
    }

    fn new_track(&mut self, class: usize) -> Track {
        let number = self.next_number(class);
        let mut object_id = uuid_v4(&mut self.rng);
        while self.content.tracks.values().any(|t| t.object_id == object_id) {
            object_id = uuid_v4(&mut self.rng);
        }
        Track { id: self.content.next_track, class, number, object_id, earlier: false }
    }

    // --- edits --------------------------------------------------------------------------------

    /// Draws a new instance of `class` with a keyframe on `frame`; returns its id.
    pub fn add_track(
        &mut self,
        frame: usize,
        class: usize,
        geometry: Geometry,
    ) -> Result<TrackId, VideoError> {
        self.check_frame(frame)?;
        self.check_class(class)?;
        self.check_geometry(&geometry)?;
        let track = self.new_track(class);
        let id = track.id;
        let mut tx = self.begin();
        tx.track(id, Some(track));
        tx.shape(
            id,
            frame,
            Some(FrameShape { geometry, keyframe: true, attributes: BTreeMap::new() }),
        );
        self.finish(tx);
        Ok(id)
    }

    /// Places a keyframe of `track` on `frame` (drawn, moved or resized there), keeping the
    /// shape's attributes, and re-interpolates the frames between it and its neighbouring
    /// keyframes.
    pub fn set_shape(
        &mut self,
        track: TrackId,
        frame: usize,
        geometry: Geometry,
    ) -> Result<(), VideoError> {
        self.check_frame(frame)?;
        self.editable_track(track)?;
        self.check_geometry(&geometry)?;
        let attributes = self
            .content
            .shape(track, frame)
            .map(|s| s.attributes.clone())
            .or_else(|| self.nearest_shape(track, frame).map(|(_, s)| s.attributes.clone()))
            .unwrap_or_default();
        let mut tx = self.begin();
        tx.shape(track, frame, Some(FrameShape { geometry, keyframe: true, attributes }));
        tx.reinterpolate_around(track, frame);
        self.finish(tx);
        Ok(())
    }

    /// Removes the shape of `track` on `frame` only (the instance goes when its last shape does).
    pub fn remove_shape(&mut self, track: TrackId, frame: usize) -> Result<(), VideoError> {
        self.delete_range(track, &[frame]).map(|_| ())
    }

    /// Removes the shapes of `track` on `frames` (the instance goes when its last shape does).
    /// Frames where it has no shape are passed over.
    pub fn delete_range(&mut self, track: TrackId, frames: &[usize]) -> Result<usize, VideoError> {
        for f in frames {
            self.check_frame(*f)?;
        }
        self.editable_track(track)?;
        let mut tx = self.begin();
        let mut removed = 0;
        for f in frames {
            if tx.content.shape(track, *f).is_some() {
                tx.shape(track, *f, None);
                removed += 1;
            }
        }
        if !tx.content.shapes.contains_key(&track) {
            tx.track(track, None);
        }
        self.finish(tx);
        Ok(removed)
    }

    /// Removes an instance from every frame.
    pub fn delete_track(&mut self, track: TrackId) -> Result<(), VideoError> {
        let frames = self.frames_of(track);
        self.editable_track(track)?;
        let mut tx = self.begin();
        for f in frames {
            tx.shape(track, f, None);
        }
        tx.track(track, None);
        self.finish(tx);
        Ok(())
    }

    /// Changes an instance's label (on every frame); it gets the next number of its new label.
    pub fn set_class(&mut self, track: TrackId, class: usize) -> Result<(), VideoError> {
        let current = self.editable_track(track)?.clone();
        if current.class == class {
            return Ok(());
        }
        self.check_class(class)?;
        let number = self.next_number(class);
        let mut tx = self.begin();
        tx.track(track, Some(Track { class, number, ..current }));
        // Attributes the new label does not have are dropped.
        let names: BTreeSet<String> =
            self.label_attributes(class).iter().map(|a| a.name.clone()).collect();
        for f in self.frames_of(track) {
            if let Some(shape) = tx.content.shape(track, f).cloned() {
                let attributes: BTreeMap<String, Value> = shape
                    .attributes
                    .iter()
                    .filter(|(k, _)| names.contains(*k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if attributes != shape.attributes {
                    tx.shape(track, f, Some(FrameShape { attributes, ..shape }));
                }
            }
        }
        self.finish(tx);
        Ok(())
    }

    /// Sets (or clears) attribute `name` of `track` on `frame`.
    pub fn set_attribute(
        &mut self,
        track: TrackId,
        frame: usize,
        name: &str,
        value: Option<Value>,
    ) -> Result<(), VideoError> {
        let mut values = BTreeMap::new();
        values.insert(name.to_owned(), value);
        self.set_attributes_range(track, &[frame], &values)
    }

    /// Sets (`Some`) or clears (`None`) several attributes of `track` on every frame of `frames`
    /// (bulk edit). The instance must have a shape on each of them.
    pub fn set_attributes_range(
        &mut self,
        track: TrackId,
        frames: &[usize],
        values: &BTreeMap<String, Option<Value>>,
    ) -> Result<(), VideoError> {
        let t = self.content.tracks.get(&track).ok_or(VideoError::NoSuchTrack(track))?;
        for f in frames {
            self.check_frame(*f)?;
            if self.content.shape(track, *f).is_none() {
                return Err(self.no_shape(t, *f));
            }
        }
        for (name, value) in values {
            self.check_attribute(t, name, value.as_ref())?;
        }
        let mut tx = self.begin();
        for f in frames {
            let Some(mut shape) = tx.content.shape(track, *f).cloned() else { continue };
            for (name, value) in values {
                match value {
                    Some(v) => shape.attributes.insert(name.clone(), v.clone()),
                    None => shape.attributes.remove(name),
                };
            }
            tx.shape(track, *f, Some(shape));
        }
        self.finish(tx);
        Ok(())
    }

    /// Sets (or clears) frame attribute `name` on `frame`.
    pub fn set_frame_attribute(
        &mut self,
        frame: usize,
        name: &str,
        value: Option<Value>,
    ) -> Result<(), VideoError> {
        let mut values = BTreeMap::new();
        values.insert(name.to_owned(), value);
        self.set_frame_attributes_range(&[frame], &values)
    }

    /// Sets (`Some`) or clears (`None`) frame attributes on every frame of `frames` (bulk edit).
    pub fn set_frame_attributes_range(
        &mut self,
        frames: &[usize],
        values: &BTreeMap<String, Option<Value>>,
    ) -> Result<(), VideoError> {
        for f in frames {
            self.check_frame(*f)?;
        }
        for (name, value) in values {
            self.check_frame_attribute(name, value.as_ref())?;
        }
        let mut tx = self.begin();
        for f in frames {
            for (name, value) in values {
                tx.frame_attribute(*f, name, value.clone());
            }
        }
        self.finish(tx);
        Ok(())
    }

    /// The instances an operation on `frame` acts on: `tracks`, or every instance on the frame
    /// when `tracks` is empty. Each must have a shape there and be editable.
    fn sources(&self, frame: usize, tracks: &[TrackId]) -> Result<Vec<TrackId>, VideoError> {
        self.check_frame(frame)?;
        let ids: Vec<TrackId> = if tracks.is_empty() {
            self.frame_shapes(frame)
                .into_iter()
                .filter(|(t, _)| self.class_editable(t.class))
                .map(|(t, _)| t.id)
                .collect()
        } else {
            tracks.to_vec()
        };
        if ids.is_empty() {
            return Err(VideoError::Invalid(format!(
                "frame {} has no shape to work from",
                frame + 1
            )));
        }
        for id in &ids {
            let t = self.editable_track(*id)?;
            if self.content.shape(*id, frame).is_none() {
                return Err(self.no_shape(t, frame));
            }
        }
        Ok(ids)
    }

    fn check_not_last(&self, frame: usize) -> Result<(), VideoError> {
        if frame + 1 >= self.frame_count() {
            Err(VideoError::Invalid(format!("frame {} is the last frame", frame + 1)))
        } else {
            Ok(())
        }
    }

    /// Copies the shapes of `tracks` (all on the frame when empty) from `frame` to the next frame,
    /// as keyframes of the same instances. Returns how many were copied.
    pub fn copy_to_next(&mut self, frame: usize, tracks: &[TrackId]) -> Result<usize, VideoError> {
        self.check_not_last(frame)?;
        let ids = self.sources(frame, tracks)?;
        let mut tx = self.begin();
        for id in &ids {
            if let Some(shape) = tx.content.shape(*id, frame).cloned() {
                tx.shape(*id, frame + 1, Some(FrameShape { keyframe: true, ..shape }));
                tx.reinterpolate_around(*id, frame + 1);
            }
        }
        self.finish(tx);
        Ok(ids.len())
    }

    /// Copies the shapes of `tracks` (all on the frame when empty) from `frame` to every
    /// following frame, replacing what the instances had there: a keyframe on the last frame and
    /// interpolated (identical) shapes between, so moving the object on any later frame
    /// interpolates from `frame`. Returns how many instances were copied.
    pub fn copy_to_all(&mut self, frame: usize, tracks: &[TrackId]) -> Result<usize, VideoError> {
        self.check_not_last(frame)?;
        let ids = self.sources(frame, tracks)?;
        let last = self.frame_count() - 1;
        let mut tx = self.begin();
        for id in &ids {
            let Some(shape) = tx.content.shape(*id, frame).cloned() else { continue };
            let later: Vec<usize> = tx
                .content
                .shapes
                .get(id)
                .map(|m| m.range(frame + 1..).map(|(f, _)| *f).collect())
                .unwrap_or_default();
            for f in later {
                tx.shape(*id, f, None);
            }
            tx.shape(*id, frame, Some(FrameShape { keyframe: true, ..shape.clone() }));
            tx.shape(*id, last, Some(FrameShape { keyframe: true, ..shape }));
            tx.fill_segment(*id, frame, last);
        }
        self.finish(tx);
        Ok(ids.len())
    }

    /// Predict next (boxes only): for `tracks` (all boxes on the frame when empty), a box on the
    /// next frame moving as it moved from the previous frame. Never overwrites: instances that
    /// already have a shape on the next frame are left alone. Returns how many were predicted.
    pub fn predict_next(
        &mut self,
        frame: usize,
        tracks: &[TrackId],
        bounds: Option<(f64, f64)>,
    ) -> Result<usize, VideoError> {
        if self.setup.tool != ShapeKind::Box {
            return Err(VideoError::Invalid("Predict next works on bounding boxes only.".into()));
        }
        self.check_not_last(frame)?;
        let ids = self.sources(frame, tracks)?;
        let mut tx = self.begin();
        let mut predicted = 0;
        for id in ids {
            if tx.content.shape(id, frame + 1).is_some() {
                continue;
            }
            let Some(current) = tx.content.shape(id, frame).cloned() else { continue };
            let Geometry::Box(b) = &current.geometry else { continue };
            let previous =
                frame.checked_sub(1).and_then(|p| tx.content.shape(id, p)).and_then(|s| {
                    match &s.geometry {
                        Geometry::Box(p) => Some(*p),
                        _ => None,
                    }
                });
            let next = predict_box(previous.as_ref(), b, bounds);
            tx.shape(
                id,
                frame + 1,
                Some(FrameShape {
                    geometry: Geometry::Box(next),
                    keyframe: false,
                    attributes: current.attributes.clone(),
                }),
            );
            predicted += 1;
        }
        self.finish(tx);
        Ok(predicted)
    }

    // --- export -------------------------------------------------------------------------------

    /// Why the task cannot be submitted yet, if it cannot: a required attribute left empty.
    pub fn incomplete(&self) -> Option<String> {
        for (track, frames) in &self.content.shapes {
            let Some(t) = self.content.tracks.get(track) else { continue };
            for (frame, shape) in frames {
                for spec in self.label_attributes(t.class) {
                    if spec.is_required == Some(true) && !shape.attributes.contains_key(&spec.name)
                    {
                        return Some(format!(
                            "Fill in `{}` of {} on frame {}.",
                            spec.name,
                            self.track_name(t),
                            frame + 1
                        ));
                    }
                }
            }
        }
        for spec in &self.setup.frame_attributes {
            if spec.is_required != Some(true) {
                continue;
            }
            let missing: Vec<usize> = (0..self.frame_count())
                .filter(|f| {
                    !self
                        .content
                        .frame_attributes
                        .get(f)
                        .is_some_and(|m| m.contains_key(&spec.name))
                })
                .collect();
            if !missing.is_empty() {
                return Some(format!(
                    "Fill in the frame attribute `{}` on frames {}.",
                    spec.name,
                    format_frame_ranges(&missing)
                ));
            }
        }
        None
    }

    /// The `SeqLabel.json` of spec §5.11: one entry per frame with shapes or frame attributes;
    /// boxes in whole pixels, vertices and keypoints to 1/100 px.
    pub fn to_seq_label(&self) -> VideoSeqLabel {
        let tracking = self.setup.mode == VideoMode::Tracking;
        let mut frames = Vec::new();
        for (index, name) in self.setup.frames.iter().enumerate() {
            let shapes = self.frame_shapes(index);
            let attributes = self.content.frame_attributes.get(&index);
            if shapes.is_empty() && attributes.is_none_or(BTreeMap::is_empty) {
                continue;
            }
            let (mut boxes, mut polygons, mut polylines, mut keypoints) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (track, shape) in shapes {
                let info = ShapeInfo {
                    class_id: Index::string(track.class as u64),
                    label_category_attributes: Some(
                        shape.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    ),
                    object_id: tracking.then(|| track.object_id.clone()),
                    object_name: tracking.then(|| self.track_name(track)),
                };
                let vertices = |v: &[Point2]| -> Vec<Vertex> {
                    v.iter()
                        .map(|p| Vertex { x: round2(p.x), y: round2(p.y), extra: Map::new() })
                        .collect()
                };
                match &shape.geometry {
                    Geometry::Box(b) => {
                        let (left, top) = (b.left.round(), b.top.round());
                        boxes.push(VideoBox {
                            info,
                            left,
                            top,
                            width: ((b.left + b.width).round() - left).max(1.0),
                            height: ((b.top + b.height).round() - top).max(1.0),
                            extra: Map::new(),
                        });
                    }
                    Geometry::Polygon(v) => polygons.push(VideoPolyline {
                        info,
                        vertices: vertices(v),
                        extra: Map::new(),
                    }),
                    Geometry::Polyline(v) => polylines.push(VideoPolyline {
                        info,
                        vertices: vertices(v),
                        extra: Map::new(),
                    }),
                    Geometry::Keypoint(p) => keypoints.push(VideoKeypoint {
                        info,
                        x: round2(p.x),
                        y: round2(p.y),
                        extra: Map::new(),
                    }),
                }
            }
            let tool = self.setup.tool;
            frames.push(VideoFrameLabel {
                frame_no: Index::number(index as u64),
                frame: name.clone(),
                frame_attributes: Some(
                    attributes
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default(),
                ),
                boxes: list_for(boxes, ShapeKind::Box, tool),
                polylines: list_for(polylines, ShapeKind::Polyline, tool),
                polygons: list_for(polygons, ShapeKind::Polygon, tool),
                keypoints: list_for(keypoints, ShapeKind::Keypoint, tool),
                extra: Map::new(),
            });
        }
        VideoSeqLabel {
            kind: if tracking { VideoSeqLabelKind::Tracking } else { VideoSeqLabelKind::Detection },
            frames,
            extra: Map::new(),
        }
    }

    /// `adjusted` or `unadjusted` for audit tasks, `None` for labeling tasks.
    pub fn adjustment_status(&self) -> Option<&'static str> {
        (self.setup.audit != AuditMode::Labeling)
            .then(|| if self.modified() { "adjusted" } else { "unadjusted" })
    }

    /// The worker response's `answerContent`: `{"seqLabel": …}` plus `adjustmentStatus` for
    /// audit tasks.
    pub fn answer_content(&self) -> Result<Value, VideoError> {
        if let Some(why) = self.incomplete() {
            return Err(VideoError::Incomplete(why));
        }
        let mut answer = Map::new();
        answer.insert("seqLabel".into(), self.to_seq_label().to_value());
        if let Some(status) = self.adjustment_status() {
            answer.insert("adjustmentStatus".into(), json!(status));
        }
        Ok(Value::Object(answer))
    }

    // --- import -------------------------------------------------------------------------------

    /// Loads earlier labels for an audit task (they become the content it opened with). Frames
    /// are matched by file name (else by `frame-no` as a 0-based index), classes by name through
    /// the earlier job's `class_map` (else by index); shapes of one `object-id` (else
    /// `object-name`) form one instance. Every earlier shape is a keyframe.
    pub fn load_earlier(
        &mut self,
        earlier: &VideoSeqLabel,
        class_map: Option<&BTreeMap<u64, String>>,
    ) -> ImportReport {
        let mut report = ImportReport::default();
        let mut content = VideoContent::default();
        let mut groups: BTreeMap<String, TrackId> = BTreeMap::new();
        let frame_index: BTreeMap<&str, usize> =
            self.setup.frames.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
        for entry in &earlier.frames {
            let frame = match frame_index.get(entry.frame.as_str()) {
                Some(i) => *i,
                None if (entry.frame_no.value as usize) < self.frame_count() => {
                    entry.frame_no.value as usize
                }
                None => {
                    report.skipped += shape_count(entry);
                    continue;
                }
            };
            if let Some(attributes) = &entry.frame_attributes
                && !attributes.is_empty()
            {
                content.frame_attributes.insert(
                    frame,
                    attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                );
            }
            let mut shapes: Vec<(&ShapeInfo, Geometry)> = Vec::new();
            for b in entry.boxes.iter().flatten() {
                let geometry = Geometry::Box(BoxPx {
                    left: b.left,
                    top: b.top,
                    width: b.width,
                    height: b.height,
                });
                shapes.push((&b.info, geometry));
            }
            let points = |v: &[Vertex]| v.iter().map(|p| Point2::new(p.x, p.y)).collect();
            for p in entry.polygons.iter().flatten() {
                shapes.push((&p.info, Geometry::Polygon(points(&p.vertices))));
            }
            for p in entry.polylines.iter().flatten() {
                shapes.push((&p.info, Geometry::Polyline(points(&p.vertices))));
            }
            for k in entry.keypoints.iter().flatten() {
                shapes.push((&k.info, Geometry::Keypoint(Point2::new(k.x, k.y))));
            }
            for (index, (info, geometry)) in shapes.into_iter().enumerate() {
                let class = class_map
                    .and_then(|m| m.get(&info.class_id.value))
                    .and_then(|name| self.setup.labels.iter().position(|l| &l.name == name))
                    .or_else(|| {
                        let i = info.class_id.value as usize;
                        (class_map.is_none() && i < self.setup.labels.len()).then_some(i)
                    });
                let Some(class) = class else {
                    report.skipped += 1;
                    continue;
                };
                if geometry.kind() != self.setup.tool || self.check_geometry(&geometry).is_err() {
                    report.skipped += 1;
                    continue;
                }
                let key = info
                    .object_id
                    .clone()
                    .or_else(|| info.object_name.clone())
                    .unwrap_or_else(|| format!("frame {frame} shape {index}"));
                let id = match groups.get(&key) {
                    Some(id) => *id,
                    None => {
                        let id = content.next_track;
                        content.next_track += 1;
                        let wanted = info
                            .object_name
                            .as_deref()
                            .and_then(|n| n.rsplit_once(':'))
                            .and_then(|(_, n)| n.parse::<u32>().ok());
                        let taken = |n: u32| {
                            content.tracks.values().any(|t| t.class == class && t.number == n)
                        };
                        let number = match wanted {
                            Some(n) if !taken(n) => n,
                            _ => {
                                content
                                    .tracks
                                    .values()
                                    .filter(|t| t.class == class)
                                    .map(|t| t.number)
                                    .max()
                                    .unwrap_or(0)
                                    + 1
                            }
                        };
                        let object_id = match &info.object_id {
                            Some(o) if !content.tracks.values().any(|t| &t.object_id == o) => {
                                o.clone()
                            }
                            _ => uuid_v4(&mut self.rng),
                        };
                        content
                            .tracks
                            .insert(id, Track { id, class, number, object_id, earlier: true });
                        groups.insert(key, id);
                        id
                    }
                };
                let attributes = info
                    .label_category_attributes
                    .as_ref()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                content
                    .shapes
                    .entry(id)
                    .or_default()
                    .insert(frame, FrameShape { geometry, keyframe: true, attributes });
                report.shapes += 1;
            }
        }
        self.content = content.clone();
        self.initial = Some(content);
        self.undo.clear();
        self.redo.clear();
        self.revision += 1;
        report
    }

    // --- drafts -------------------------------------------------------------------------------

    /// The draft: the content and what it belongs to (undo history is not saved).
    pub fn to_draft(&self) -> Value {
        let labels: Vec<&str> = self.setup.labels.iter().map(|l| l.name.as_str()).collect();
        json!({
            "format": DRAFT_FORMAT,
            "kind": "video",
            "mode": self.setup.mode,
            "tool": self.setup.tool,
            "labels": labels,
            "frames": self.setup.frames,
            "content": self.content,
        })
    }

    /// Restores a draft saved by [`VideoDocument::to_draft`] for the same task (mode, tool,
    /// labels and frames). Undo and redo start empty.
    pub fn restore_draft(&mut self, draft: &Value) -> Result<(), VideoError> {
        let bad = |what: String| VideoError::Draft(what);
        if draft.get("format").and_then(Value::as_u64) != Some(u64::from(DRAFT_FORMAT))
            || draft.get("kind").and_then(Value::as_str) != Some("video")
        {
            return Err(bad("it is not a video task draft of a known format".into()));
        }
        let field = |name: &str| draft.get(name).cloned().unwrap_or_default();
        let mode: VideoMode =
            serde_json::from_value(field("mode")).map_err(|e| bad(format!("mode: {e}")))?;
        let tool: ShapeKind =
            serde_json::from_value(field("tool")).map_err(|e| bad(format!("tool: {e}")))?;
        let labels: Vec<String> =
            serde_json::from_value(field("labels")).map_err(|e| bad(format!("labels: {e}")))?;
        let frames: Vec<String> =
            serde_json::from_value(field("frames")).map_err(|e| bad(format!("frames: {e}")))?;
        if mode != self.setup.mode || tool != self.setup.tool {
            return Err(bad("it belongs to another kind of task".into()));
        }
        if labels.iter().map(String::as_str).ne(self.setup.labels.iter().map(|l| l.name.as_str())) {
            return Err(bad("the job's labels changed since it was saved".into()));
        }
        if frames != self.setup.frames {
            return Err(bad("the sequence's frames changed since it was saved".into()));
        }
        let content: VideoContent =
            serde_json::from_value(field("content")).map_err(|e| bad(format!("content: {e}")))?;
        for (id, frames) in &content.shapes {
            let track = content.tracks.get(id).ok_or(VideoError::NoSuchTrack(*id))?;
            if track.class >= labels.len() {
                return Err(VideoError::NoSuchClass { class: track.class, count: labels.len() });
            }
            if let Some(f) = frames.keys().find(|f| **f >= self.frame_count()) {
                return Err(VideoError::NoSuchFrame { frame: f + 1, count: self.frame_count() });
            }
            if frames.values().any(|s| s.geometry.kind() != tool) {
                return Err(bad("it holds shapes of another tool".into()));
            }
        }
        self.content = content;
        self.undo.clear();
        self.redo.clear();
        self.revision += 1;
        Ok(())
    }
}

/// The shape list of `kind`: always present for the task's own tool, else only when not empty.
fn list_for<T>(items: Vec<T>, kind: ShapeKind, tool: ShapeKind) -> Option<Vec<T>> {
    (kind == tool || !items.is_empty()).then_some(items)
}

fn shape_count(entry: &VideoFrameLabel) -> usize {
    entry.boxes.as_ref().map_or(0, Vec::len)
        + entry.polygons.as_ref().map_or(0, Vec::len)
        + entry.polylines.as_ref().map_or(0, Vec::len)
        + entry.keypoints.as_ref().map_or(0, Vec::len)
}

/// Two decimals: sub-pixel precision without float noise.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::formats::label_config::LabelCategory;

    fn config(tool: Option<&str>) -> LabelCategoryConfig {
        let mut c = LabelCategoryConfig {
            labels: vec![LabelCategory::new("car"), LabelCategory::new("pedestrian")],
            ..Default::default()
        };
        c.category_global_attributes =
            Some(vec![AttributeSpec::string("occluded", Some(vec!["no".into(), "partly".into()]))]);
        c.frame_attributes =
            Some(vec![AttributeSpec::string("weather", Some(vec!["sunny".into(), "rain".into()]))]);
        c.annotation_type = tool.map(|t| AnnotationType::Tool(t.into()));
        c
    }

    fn frames(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("frame_{i:04}.png")).collect()
    }

    fn doc(task: TaskType, c: &LabelCategoryConfig, n: usize) -> VideoDocument {
        let setup = VideoSetup::from_config(task, c, frames(n)).unwrap();
        VideoDocument::new(setup, fastrand::Rng::with_seed(7)).unwrap()
    }

    fn bx(left: f64, top: f64, width: f64, height: f64) -> Geometry {
        Geometry::Box(BoxPx { left, top, width, height })
    }

    #[test]
    fn frame_ranges_parse_and_name_bad_tokens() {
        assert_eq!(parse_frame_ranges("1-10,20", 20).unwrap(), {
            let mut v: Vec<usize> = (0..10).collect();
            v.push(19);
            v
        });
        assert_eq!(
            parse_frame_ranges(" 2-5 , 8-10,20,3 ", 30).unwrap(),
            vec![1, 2, 3, 4, 7, 8, 9, 19]
        );
        assert_eq!(parse_frame_ranges("4", 4).unwrap(), vec![3]);
        assert_eq!(parse_frame_ranges("", 5), Err(RangeError::Empty));
        assert_eq!(parse_frame_ranges("1,,3", 5), Err(RangeError::EmptyItem { position: 2 }));
        assert_eq!(parse_frame_ranges("1-3,x", 5), Err(RangeError::BadToken { token: "x".into() }));
        assert_eq!(
            parse_frame_ranges("2-+3", 5),
            Err(RangeError::BadToken { token: "2-+3".into() })
        );
        assert_eq!(
            parse_frame_ranges("1-2-3", 5),
            Err(RangeError::BadToken { token: "1-2-3".into() })
        );
        assert_eq!(
            parse_frame_ranges("9-4", 10),
            Err(RangeError::Backwards { token: "9-4".into(), low: 4, high: 9 })
        );
        assert_eq!(
            parse_frame_ranges("0-3", 10),
            Err(RangeError::OutOfRange { token: "0-3".into(), frame: 0, count: 10 })
        );
        assert_eq!(
            parse_frame_ranges("5-11", 10),
            Err(RangeError::OutOfRange { token: "5-11".into(), frame: 11, count: 10 })
        );
        assert!(
            RangeError::BadToken { token: "x".into() }.to_string().contains("`x`"),
            "the message names the token"
        );
        assert_eq!(format_frame_ranges(&[0, 1, 2, 9, 19, 18]), "1-3,10,19-20");
        assert_eq!(format_frame_ranges(&[]), "");
    }

    #[test]
    fn boxes_interpolate_between_two_keyframes() {
        let c = config(None);
        let mut d = doc(TaskType::VideoObjectTracking, &c, 12);
        let car = d.add_track(0, 0, bx(40.0, 60.0, 60.0, 40.0)).unwrap();
        d.set_shape(car, 9, bx(130.0, 105.0, 78.0, 49.0)).unwrap();
        assert_eq!(d.keyframes(car), vec![0, 9]);
        assert_eq!(d.frames_of(car), (0..10).collect::<Vec<_>>());
        for f in 0..10 {
            let s = d.content().shape(car, f).unwrap();
            let k = f as f64;
            assert_eq!(
                s.geometry,
                bx(40.0 + 10.0 * k, 60.0 + 5.0 * k, 60.0 + 2.0 * k, 40.0 + k),
                "frame {f}"
            );
            assert_eq!(s.keyframe, f == 0 || f == 9);
        }
        // The export: 10 frames with one box each, object id and name the same throughout.
        let seq = d.to_seq_label().to_value();
        let list = seq["tracking-annotations"].as_array().unwrap();
        assert_eq!(list.len(), 10);
        assert_eq!(list[3]["frame-no"], 3);
        assert_eq!(list[3]["frame"], "frame_0003.png");
        let b = &list[3]["annotations"][0];
        assert_eq!((b["left"].as_f64(), b["top"].as_f64()), (Some(70.0), Some(75.0)));
        assert_eq!((b["width"].as_f64(), b["height"].as_f64()), (Some(66.0), Some(43.0)));
        assert_eq!(b["class-id"], "0");
        assert_eq!(b["object-name"], "car:1");
        let id = list[0]["annotations"][0]["object-id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4', "version 4 UUID: {id}");
        assert!(list.iter().all(|f| f["annotations"][0]["object-id"] == id.as_str()));

        // Moving the middle keyframe re-interpolates both sides; undo restores.
        d.set_shape(car, 4, bx(0.0, 0.0, 10.0, 10.0)).unwrap();
        assert_eq!(d.content().shape(car, 2).unwrap().geometry, bx(20.0, 30.0, 35.0, 25.0));
        assert!(d.undo());
        assert_eq!(d.content().shape(car, 2).unwrap().geometry, bx(60.0, 70.0, 64.0, 42.0));
        assert!(d.redo());
        assert_eq!(d.keyframes(car), vec![0, 4, 9]);
        // A second car is car:2 with another object id.
        let other = d.add_track(1, 0, bx(1.0, 1.0, 5.0, 5.0)).unwrap();
        assert_eq!(d.track_name(d.track(other).unwrap()), "car:2");
        assert_ne!(d.track(other).unwrap().object_id, d.track(car).unwrap().object_id);
    }

    #[test]
    fn polygons_interpolate_vertex_wise_and_deleted_frames_stay_deleted() {
        let c = config(Some("Polygon"));
        let mut d = doc(TaskType::VideoObjectDetection, &c, 5);
        let tri = |dx: f64| {
            Geometry::Polygon(vec![
                Point2::new(dx, 0.0),
                Point2::new(dx + 4.0, 0.0),
                Point2::new(dx, 4.0),
            ])
        };
        let t = d.add_track(0, 1, tri(0.0)).unwrap();
        d.set_shape(t, 4, tri(8.0)).unwrap();
        assert_eq!(d.content().shape(t, 1).unwrap().geometry, tri(2.0));
        assert_eq!(d.delete_range(t, &[2]).unwrap(), 1);
        d.set_shape(t, 4, tri(4.0)).unwrap();
        assert_eq!(d.content().shape(t, 1).unwrap().geometry, tri(1.0));
        assert!(d.content().shape(t, 2).is_none(), "a deleted frame is not refilled");
        // Detection output: polygons list, no object ids.
        let seq = d.to_seq_label().to_value();
        let first = &seq["detection-annotations"][0];
        assert!(first.get("annotations").is_none());
        assert_eq!(first["polygons"][0]["vertices"][1], json!({"x": 4, "y": 0}));
        assert!(first["polygons"][0].get("object-id").is_none());
        // A box in a polygon task is refused.
        assert!(matches!(d.add_track(0, 0, bx(0.0, 0.0, 1.0, 1.0)), Err(VideoError::Invalid(_))));
        // Unequal vertex counts: the earlier keyframe holds.
        let square = Geometry::Polygon(vec![
            Point2::new(0.0, 0.0),
            Point2::new(1.0, 0.0),
            Point2::new(1.0, 1.0),
            Point2::new(0.0, 1.0),
        ]);
        assert_eq!(interpolate(&tri(0.0), &square, 0.5), tri(0.0));
        let kp = interpolate(
            &Geometry::Keypoint(Point2::new(0.0, 10.0)),
            &Geometry::Keypoint(Point2::new(10.0, 0.0)),
            0.3,
        );
        assert_eq!(kp, Geometry::Keypoint(Point2::new(3.0, 7.0)));
    }

    #[test]
    fn predict_copy_and_delete() {
        let c = config(None);
        let mut d = doc(TaskType::VideoObjectTracking, &c, 6);
        assert!(d.predict_next(0, &[], None).is_err(), "no box to predict from");
        let a = d.add_track(0, 0, bx(10.0, 10.0, 20.0, 20.0)).unwrap();
        d.set_shape(a, 1, bx(14.0, 12.0, 22.0, 20.0)).unwrap();
        assert_eq!(d.predict_next(1, &[], Some((100.0, 100.0))).unwrap(), 1);
        let p = d.content().shape(a, 2).unwrap();
        assert_eq!(p.geometry, bx(18.0, 14.0, 24.0, 20.0));
        assert!(!p.keyframe);
        // Never overwrites: frame 2 already has the box.
        let manual = bx(50.0, 50.0, 5.0, 5.0);
        d.set_shape(a, 3, manual.clone()).unwrap();
        assert_eq!(d.predict_next(2, &[a], None).unwrap(), 0);
        assert_eq!(d.content().shape(a, 3).unwrap().geometry, manual);
        // Clamped into the frame.
        assert_eq!(
            predict_box(
                Some(&BoxPx { left: 0.0, top: 0.0, width: 10.0, height: 10.0 }),
                &BoxPx { left: 85.0, top: 0.0, width: 10.0, height: 10.0 },
                Some((100.0, 100.0))
            ),
            BoxPx { left: 90.0, top: 0.0, width: 10.0, height: 10.0 }
        );

        // Copy to all following frames: the same instance on every later frame.
        let b = d.add_track(2, 1, bx(1.0, 2.0, 3.0, 4.0)).unwrap();
        assert_eq!(d.copy_to_all(2, &[b]).unwrap(), 1);
        assert_eq!(d.frames_of(b), vec![2, 3, 4, 5]);
        assert_eq!(d.keyframes(b), vec![2, 5]);
        assert!(
            (2..6).all(|f| d.content().shape(b, f).unwrap().geometry == bx(1.0, 2.0, 3.0, 4.0))
        );
        // Moving it on frame 4 interpolates from frame 2.
        d.set_shape(b, 4, bx(5.0, 2.0, 3.0, 4.0)).unwrap();
        assert_eq!(d.content().shape(b, 3).unwrap().geometry, bx(3.0, 2.0, 3.0, 4.0));
        // Copy to next on the last frame fails; on frame 0 it copies car:1.
        assert!(d.copy_to_next(5, &[b]).is_err());
        let before = d.content().clone();
        d.delete_range(b, &parse_frame_ranges("4-6", 6).unwrap()).unwrap();
        assert_eq!(d.frames_of(b), vec![2]);
        d.delete_range(b, &[2]).unwrap();
        assert!(d.track(b).is_none(), "the instance goes with its last shape");
        assert!(d.undo() && d.undo());
        assert_eq!(*d.content(), before);
    }

    #[test]
    fn attributes_per_frame_bulk_and_frame_attributes() {
        let c = config(None);
        let mut d = doc(TaskType::VideoObjectTracking, &c, 4);
        let a = d.add_track(0, 0, bx(0.0, 0.0, 4.0, 4.0)).unwrap();
        d.set_shape(a, 2, bx(2.0, 0.0, 4.0, 4.0)).unwrap();
        let mut values = BTreeMap::new();
        values.insert("occluded".to_owned(), Some(json!("partly")));
        d.set_attributes_range(a, &parse_frame_ranges("1-3", 4).unwrap(), &values).unwrap();
        assert!(
            (0..3).all(|f| d.content().shape(a, f).unwrap().attributes["occluded"] == "partly")
        );
        // The label must exist in every frame of the range.
        let err = d.set_attributes_range(a, &[0, 3], &values).unwrap_err();
        assert_eq!(err, VideoError::NoShape { name: "car:1".into(), frame: 4 });
        values.insert("occluded".to_owned(), Some(json!("fully")));
        assert!(matches!(d.set_attributes_range(a, &[0], &values), Err(VideoError::Invalid(_))));
        assert!(matches!(
            d.set_attribute(a, 0, "colour", Some(json!("red"))),
            Err(VideoError::Invalid(_))
        ));
        let mut weather = BTreeMap::new();
        weather.insert("weather".to_owned(), Some(json!("rain")));
        d.set_frame_attributes_range(&[1, 3], &weather).unwrap();
        let seq = d.to_seq_label().to_value();
        let list = seq["tracking-annotations"].as_array().unwrap();
        assert_eq!(list.len(), 4, "frame 4 has a frame attribute only");
        assert_eq!(list[3]["frame-attributes"], json!({"weather": "rain"}));
        assert_eq!(list[3]["annotations"], json!([]));
        assert_eq!(
            list[1]["annotations"][0]["label-category-attributes"],
            json!({"occluded": "partly"})
        );
        // Required frame attribute blocks submitting until every frame has it.
        let mut c2 = config(None);
        if let Some(f) = c2.frame_attributes.as_mut().and_then(|f| f.first_mut()) {
            f.is_required = Some(true);
        }
        let mut d2 = doc(TaskType::VideoObjectDetection, &c2, 3);
        assert!(matches!(d2.answer_content(), Err(VideoError::Incomplete(m)) if m.contains("1-3")));
        weather.insert("weather".to_owned(), Some(json!("sunny")));
        d2.set_frame_attributes_range(&[0, 1, 2], &weather).unwrap();
        assert!(d2.answer_content().is_ok());
    }

    fn earlier() -> VideoSeqLabel {
        VideoSeqLabel::parse(
            r#"{"tracking-annotations": [
                {"frame-no": 0, "frame": "frame_0000.png", "frame-attributes": {"weather": "sunny"},
                 "annotations": [{"height": 10, "width": 10, "top": 5, "left": 5, "class-id": "1",
                   "label-category-attributes": {"occluded": "no"},
                   "object-id": "480dc450-c0ca-11ea-961f-a9b1c5c97972", "object-name": "pedestrian:3"}]},
                {"frame-no": 1, "frame": "frame_0001.png",
                 "annotations": [{"height": 10, "width": 10, "top": 5, "left": 9, "class-id": "1",
                   "object-id": "480dc450-c0ca-11ea-961f-a9b1c5c97972", "object-name": "pedestrian:3"},
                   {"height": 1, "width": 1, "top": 1, "left": 1, "class-id": "7"}]}
            ]}"#,
            "SeqLabel.json",
        )
        .unwrap()
    }

    #[test]
    fn adjustment_keeps_read_only_labels_and_reports_changes() {
        let mut c = config(None);
        c.labels[1].edits_allowed = Some(EditsAllowed::None);
        if let Some(g) = c.category_global_attributes.as_mut().and_then(|g| g.first_mut()) {
            g.edits_allowed = Some(EditsAllowed::None);
        }
        let mut d = doc(TaskType::VideoObjectTrackingAdjustment, &c, 3);
        assert_eq!(d.setup().audit, AuditMode::Adjustment);
        let report = d.load_earlier(&earlier(), None);
        assert_eq!(report, ImportReport { shapes: 2, skipped: 1 });
        let ped = *d.content().tracks.keys().next().unwrap();
        let t = d.track(ped).unwrap().clone();
        assert_eq!((t.class, t.number, t.earlier), (1, 3, true));
        assert_eq!(t.object_id, "480dc450-c0ca-11ea-961f-a9b1c5c97972");
        assert_eq!(d.adjustment_status(), Some("unadjusted"));
        // The read-only label cannot move, go, be relabelled, or get new instances.
        assert!(matches!(
            d.set_shape(ped, 0, bx(0.0, 0.0, 1.0, 1.0)),
            Err(VideoError::NotAllowed(_))
        ));
        assert!(matches!(d.remove_shape(ped, 0), Err(VideoError::NotAllowed(_))));
        assert!(matches!(d.set_class(ped, 0), Err(VideoError::NotAllowed(_))));
        assert!(matches!(
            d.add_track(0, 1, bx(0.0, 0.0, 1.0, 1.0)),
            Err(VideoError::NotAllowed(_))
        ));
        // Its attribute with editsAllowed none stays; new labels may be added.
        assert!(matches!(
            d.set_attribute(ped, 0, "occluded", Some(json!("partly"))),
            Err(VideoError::NotAllowed(_))
        ));
        let car = d.add_track(2, 0, bx(0.0, 0.0, 3.0, 3.0)).unwrap();
        d.set_attribute(car, 2, "occluded", Some(json!("partly"))).unwrap();
        assert_eq!(d.adjustment_status(), Some("adjusted"));
        let answer = d.answer_content().unwrap();
        assert_eq!(answer["adjustmentStatus"], "adjusted");
        assert_eq!(
            answer["seqLabel"]["tracking-annotations"][0]["annotations"][0]["object-name"],
            "pedestrian:3"
        );
        d.undo();
        d.undo();
        assert_eq!(d.adjustment_status(), Some("unadjusted"));
    }

    #[test]
    fn verification_changes_no_labels_only_allowed_attributes() {
        let mut c = config(None);
        for l in &mut c.labels {
            l.edits_allowed = Some(EditsAllowed::None);
        }
        if let Some(f) = c.frame_attributes.as_mut().and_then(|f| f.first_mut()) {
            f.edits_allowed = Some(EditsAllowed::None);
        }
        let mut d = doc(TaskType::VideoObjectTrackingAdjustment, &c, 3);
        assert_eq!(d.setup().audit, AuditMode::Verification);
        let mut map = BTreeMap::new();
        map.insert(0, "car".to_owned());
        map.insert(1, "pedestrian".to_owned());
        assert_eq!(d.load_earlier(&earlier(), Some(&map)).shapes, 2);
        let ped = *d.content().tracks.keys().next().unwrap();
        assert!(
            matches!(d.add_track(0, 0, bx(0.0, 0.0, 1.0, 1.0)), Err(VideoError::NotAllowed(m)) if m.contains("verification"))
        );
        assert!(d.copy_to_next(0, &[ped]).is_err());
        assert!(d.set_frame_attribute(0, "weather", Some(json!("rain"))).is_err());
        d.set_attribute(ped, 1, "occluded", Some(json!("partly"))).unwrap();
        assert_eq!(d.answer_content().unwrap()["adjustmentStatus"], "adjusted");
    }

    #[test]
    fn drafts_round_trip_and_refuse_other_tasks() {
        let c = config(Some("Keypoint"));
        let mut d = doc(TaskType::VideoObjectTracking, &c, 4);
        let k = d.add_track(1, 1, Geometry::Keypoint(Point2::new(3.0, 4.0))).unwrap();
        d.set_frame_attribute(1, "weather", Some(json!("sunny"))).unwrap();
        let draft = d.to_draft();
        let mut again = doc(TaskType::VideoObjectTracking, &c, 4);
        again.restore_draft(&draft).unwrap();
        assert_eq!(again.content(), d.content());
        assert!(!again.can_undo());
        assert_eq!(
            again.to_seq_label().to_value()["tracking-annotations"][0]["keypoints"][0]["x"],
            3.0
        );
        let mut other = doc(TaskType::VideoObjectTracking, &c, 5);
        assert!(matches!(other.restore_draft(&draft), Err(VideoError::Draft(_))));
        let mut boxes = doc(TaskType::VideoObjectTracking, &config(None), 4);
        assert!(boxes.restore_draft(&draft).is_err());
        assert!(boxes.restore_draft(&json!({"format": 1})).is_err());
        let _ = k;
    }
}
