//! The editable document of one image task: shapes (box, polygon, polyline, keypoint), their
//! labels and attributes, a class selection (classification), a class mask (semantic
//! segmentation) and a verdict with feedback (label verification) — and every change to it as an
//! [`Edit`] with an exact inverse, so undo and redo are the same operation run backwards.
//!
//! A document exports to the `answerContent` of a worker-response file (spec §6) in the shape of
//! the built-in template its [`TaskTemplate`] names, exactly what
//! [`crate::annotation::consolidate`] reads back; it saves to and restores from a draft (plain
//! JSON), and for adjustment tasks remembers the labels it was opened with so it can report
//! `initialValueModified`.
//!
//! Pure data: no I/O, no clock, no GUI. Must not depend on `store`, `render`, `ui`, `app` or
//! `cli`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::consolidate::{base64, png, segmentation_class_colors};
use crate::formats::output::{BoundingBoxLabel, ColorMapEntry};
use crate::job::TaskType;

/// Version of the draft content this module writes.
pub const DRAFT_FORMAT: u32 = 1;

/// The most labels a segmentation mask can hold (class 0 is BACKGROUND; one byte per pixel).
pub const MAX_MASK_LABELS: usize = 255;

/// Errors of document edits, exports and drafts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DocumentError {
    /// An edit names a shape the document does not have.
    #[error("no shape with id {id}")]
    NoSuchShape {
        /// The shape id.
        id: ShapeId,
    },
    /// An edit's index or region does not fit the document.
    #[error("edit out of range: {what}")]
    OutOfRange {
        /// What did not fit.
        what: String,
    },
    /// A class index past the label list.
    #[error("class {class} is not one of the {count} labels")]
    NoSuchClass {
        /// The class index.
        class: usize,
        /// How many labels there are.
        count: usize,
    },
    /// The task cannot be submitted yet.
    #[error("{0}")]
    Incomplete(String),
    /// The document cannot be built or exported as asked.
    #[error("{0}")]
    Invalid(String),
    /// A draft could not be read.
    #[error("the draft cannot be read: {0}")]
    Draft(String),
}

/// Which worker template a document follows: what it edits and how it exports (spec §9.5, §9.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum TaskTemplate {
    /// `crowd-bounding-box` named `boundingBox`.
    BoundingBox,
    /// `crowd-polygon` under `element`.
    Polygon {
        /// The form element's name.
        element: String,
    },
    /// `crowd-polyline` under `element`.
    Polyline {
        /// The form element's name.
        element: String,
    },
    /// `crowd-keypoint` under `element`.
    Keypoint {
        /// The form element's name.
        element: String,
    },
    /// `crowd-image-classifier` (one label).
    Classification,
    /// `crowd-image-classifier-multi-select` (one or more labels).
    MultiLabel,
    /// `crowd-semantic-segmentation`.
    SemanticSegmentation,
    /// Label verification: the earlier label drawn over the image, the verdict through
    /// `crowd-image-classifier`.
    Verification,
}

/// The element name custom templates use in AWS's samples.
pub const ANNOTATED_RESULT: &str = "annotatedResult";

impl TaskTemplate {
    /// The template of an image task type, or `None` for task types that are not image tasks.
    /// `template_html` (the job's worker template) decides custom jobs: the first
    /// `crowd-polygon`, `crowd-polyline`, `crowd-keypoint`, `crowd-bounding-box`,
    /// `crowd-semantic-segmentation` or `crowd-image-classifier(-multi-select)` element in it,
    /// with its `name` attribute.
    pub fn for_task(task_type: TaskType, template_html: Option<&str>) -> Option<Self> {
        use TaskType as T;
        Some(match task_type {
            T::ImageClassification => Self::Classification,
            T::ImageClassificationMultiLabel => Self::MultiLabel,
            T::BoundingBox | T::BoundingBoxAdjustment => Self::BoundingBox,
            T::SemanticSegmentation | T::SemanticSegmentationAdjustment => {
                Self::SemanticSegmentation
            }
            T::BoundingBoxVerification | T::SemanticSegmentationVerification => Self::Verification,
            T::Custom => return template_html.and_then(Self::from_html),
            _ => return None,
        })
    }

    /// The template a custom worker template's first annotation element implies.
    pub fn from_html(html: &str) -> Option<Self> {
        let lower = html.to_ascii_lowercase();
        let mut best: Option<(usize, Self)> = None;
        type Make = fn(String) -> TaskTemplate;
        let candidates: [(&str, Make); 7] = [
            ("<crowd-polygon", |e| Self::Polygon { element: e }),
            ("<crowd-polyline", |e| Self::Polyline { element: e }),
            ("<crowd-keypoint", |e| Self::Keypoint { element: e }),
            ("<crowd-bounding-box", |_| Self::BoundingBox),
            ("<crowd-semantic-segmentation", |_| Self::SemanticSegmentation),
            ("<crowd-image-classifier-multi-select", |_| Self::MultiLabel),
            ("<crowd-image-classifier", |_| Self::Classification),
        ];
        for (tag, make) in candidates {
            let mut from = 0;
            while let Some(at) = lower.get(from..).and_then(|rest| rest.find(tag)).map(|i| i + from)
            {
                from = at + tag.len();
                // Only the whole tag name (`<crowd-polygon` must not match `<crowd-polygonx`).
                let next = lower.as_bytes().get(from).copied().unwrap_or(b' ');
                if next.is_ascii_alphanumeric() || next == b'-' {
                    continue;
                }
                if best.as_ref().is_none_or(|(b, _)| at < *b) {
                    let end =
                        lower.get(at..).and_then(|r| r.find('>')).map_or(lower.len(), |e| at + e);
                    let element = html
                        .get(at..end)
                        .and_then(name_attribute)
                        .unwrap_or_else(|| ANNOTATED_RESULT.to_owned());
                    best = Some((at, make(element)));
                }
                break;
            }
        }
        best.map(|(_, t)| t)
    }

    /// The form element name under which the answer is exported.
    pub fn element(&self) -> &str {
        match self {
            Self::BoundingBox => "boundingBox",
            Self::Polygon { element } | Self::Polyline { element } | Self::Keypoint { element } => {
                element
            }
            Self::Classification | Self::Verification => "crowd-image-classifier",
            Self::MultiLabel => "crowd-image-classifier-multi-select",
            Self::SemanticSegmentation => "crowd-semantic-segmentation",
        }
    }

    /// The kind of shape drawn, for shape templates.
    pub fn shape_kind(&self) -> Option<ShapeKind> {
        match self {
            Self::BoundingBox => Some(ShapeKind::Box),
            Self::Polygon { .. } => Some(ShapeKind::Polygon),
            Self::Polyline { .. } => Some(ShapeKind::Polyline),
            Self::Keypoint { .. } => Some(ShapeKind::Keypoint),
            _ => None,
        }
    }

    /// A short name for the UI.
    pub fn display_name(&self) -> &'static str {
        match self {
            Self::BoundingBox => "Bounding boxes",
            Self::Polygon { .. } => "Polygons",
            Self::Polyline { .. } => "Polylines",
            Self::Keypoint { .. } => "Keypoints",
            Self::Classification => "Image classification",
            Self::MultiLabel => "Multi-label classification",
            Self::SemanticSegmentation => "Semantic segmentation",
            Self::Verification => "Label verification",
        }
    }
}

/// The value of a `name="…"` attribute inside one start tag.
fn name_attribute(tag: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower.get(from..).and_then(|r| r.find("name")).map(|i| i + from) {
        from = at + 4;
        let before = lower.as_bytes().get(at.wrapping_sub(1)).copied().unwrap_or(b' ');
        if at > 0 && !before.is_ascii_whitespace() {
            continue;
        }
        let rest = tag.get(from..)?.trim_start();
        let rest = rest.strip_prefix('=')?.trim_start();
        let quote = rest.chars().next()?;
        if quote != '"' && quote != '\'' {
            continue;
        }
        let value = rest.get(1..)?;
        let end = value.find(quote)?;
        let name = value.get(..end)?.trim();
        if !name.is_empty() {
            return Some(name.to_owned());
        }
    }
    None
}

/// A stable shape identifier within one document.
pub type ShapeId = u64;

/// A point in image pixels; (0, 0) is the top-left corner of the top-left pixel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point2 {
    /// Rightwards.
    pub x: f64,
    /// Downwards.
    pub y: f64,
}

impl Point2 {
    /// `(x, y)`.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
}

/// An axis-aligned box in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoxPx {
    /// Left edge.
    pub left: f64,
    /// Top edge.
    pub top: f64,
    /// Width (≥ 0).
    pub width: f64,
    /// Height (≥ 0).
    pub height: f64,
}

impl BoxPx {
    /// The box spanned by two corners in any order.
    pub fn from_corners(a: Point2, b: Point2) -> Self {
        Self {
            left: a.x.min(b.x),
            top: a.y.min(b.y),
            width: (a.x - b.x).abs(),
            height: (a.y - b.y).abs(),
        }
    }

    /// Right edge.
    pub fn right(&self) -> f64 {
        self.left + self.width
    }

    /// Bottom edge.
    pub fn bottom(&self) -> f64 {
        self.top + self.height
    }

    /// True when `p` is inside (edges included).
    pub fn contains(&self, p: Point2) -> bool {
        p.x >= self.left && p.x <= self.right() && p.y >= self.top && p.y <= self.bottom()
    }
}

/// What kind of shape a template draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShapeKind {
    /// Axis-aligned box.
    Box,
    /// Closed polygon.
    Polygon,
    /// Open polyline.
    Polyline,
    /// One point.
    Keypoint,
}

/// A shape's geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Geometry {
    /// A box.
    Box(BoxPx),
    /// A closed polygon (≥ 3 vertices).
    Polygon(Vec<Point2>),
    /// An open polyline (≥ 2 vertices).
    Polyline(Vec<Point2>),
    /// A keypoint.
    Keypoint(Point2),
}

impl Geometry {
    /// Its kind.
    pub fn kind(&self) -> ShapeKind {
        match self {
            Self::Box(_) => ShapeKind::Box,
            Self::Polygon(_) => ShapeKind::Polygon,
            Self::Polyline(_) => ShapeKind::Polyline,
            Self::Keypoint(_) => ShapeKind::Keypoint,
        }
    }

    /// The bounding box.
    pub fn bounds(&self) -> BoxPx {
        match self {
            Self::Box(b) => *b,
            Self::Keypoint(p) => BoxPx { left: p.x, top: p.y, width: 0.0, height: 0.0 },
            Self::Polygon(v) | Self::Polyline(v) => {
                let (mut lo, mut hi) =
                    (Point2::new(f64::MAX, f64::MAX), Point2::new(f64::MIN, f64::MIN));
                for p in v {
                    lo = Point2::new(lo.x.min(p.x), lo.y.min(p.y));
                    hi = Point2::new(hi.x.max(p.x), hi.y.max(p.y));
                }
                if v.is_empty() {
                    BoxPx { left: 0.0, top: 0.0, width: 0.0, height: 0.0 }
                } else {
                    BoxPx::from_corners(lo, hi)
                }
            }
        }
    }

    /// The geometry moved by `(dx, dy)`.
    pub fn translated(&self, dx: f64, dy: f64) -> Self {
        let shift = |p: &Point2| Point2::new(p.x + dx, p.y + dy);
        match self {
            Self::Box(b) => Self::Box(BoxPx { left: b.left + dx, top: b.top + dy, ..*b }),
            Self::Keypoint(p) => Self::Keypoint(shift(p)),
            Self::Polygon(v) => Self::Polygon(v.iter().map(shift).collect()),
            Self::Polyline(v) => Self::Polyline(v.iter().map(shift).collect()),
        }
    }

    /// The geometry kept inside a `width × height` image.
    pub fn clamped(&self, width: f64, height: f64) -> Self {
        let clamp = |p: &Point2| Point2::new(p.x.clamp(0.0, width), p.y.clamp(0.0, height));
        match self {
            Self::Box(b) => {
                let a = clamp(&Point2::new(b.left, b.top));
                let c = clamp(&Point2::new(b.right(), b.bottom()));
                Self::Box(BoxPx::from_corners(a, c))
            }
            Self::Keypoint(p) => Self::Keypoint(clamp(p)),
            Self::Polygon(v) => Self::Polygon(v.iter().map(clamp).collect()),
            Self::Polyline(v) => Self::Polyline(v.iter().map(clamp).collect()),
        }
    }
}

/// One labeled shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    /// Stable id (never reused within a document).
    pub id: ShapeId,
    /// Class index into the job's label list.
    pub class: usize,
    /// Where it is.
    pub geometry: Geometry,
    /// Attribute values by attribute name (sorted, as written).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, Value>,
}

/// A rectangle of whole pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelRect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

impl PixelRect {
    /// The smallest rectangle holding both.
    pub fn union(self, other: Self) -> Self {
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        let right = (self.x + self.width).max(other.x + other.width);
        let bottom = (self.y + self.height).max(other.y + other.height);
        Self { x, y, width: right - x, height: bottom - y }
    }

    /// True when it holds no pixel.
    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }
}

/// A class mask: one byte per pixel, 0 = BACKGROUND, `i ≥ 1` = label `i − 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    width: u32,
    height: u32,
    classes: Vec<u8>,
}

impl Mask {
    /// An all-BACKGROUND mask.
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height, classes: vec![0; width as usize * height as usize] }
    }

    /// A mask from its classes (row-major); `None` when the sizes disagree.
    pub fn from_classes(width: u32, height: u32, classes: Vec<u8>) -> Option<Self> {
        (classes.len() == width as usize * height as usize).then_some(Self {
            width,
            height,
            classes,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Every pixel's class, row-major.
    pub fn classes(&self) -> &[u8] {
        &self.classes
    }

    /// The class at `(x, y)`, if inside.
    pub fn get(&self, x: u32, y: u32) -> Option<u8> {
        (x < self.width && y < self.height)
            .then(|| self.classes.get(y as usize * self.width as usize + x as usize).copied())
            .flatten()
    }

    /// The whole mask as a rectangle.
    pub fn full_rect(&self) -> PixelRect {
        PixelRect { x: 0, y: 0, width: self.width, height: self.height }
    }

    /// A copy of the pixels of `rect` (which must be inside).
    fn read_rect(&self, rect: PixelRect) -> Option<Vec<u8>> {
        if rect.x + rect.width > self.width || rect.y + rect.height > self.height {
            return None;
        }
        let mut out = Vec::with_capacity(rect.width as usize * rect.height as usize);
        for row in rect.y..rect.y + rect.height {
            let start = row as usize * self.width as usize + rect.x as usize;
            out.extend_from_slice(self.classes.get(start..start + rect.width as usize)?);
        }
        Some(out)
    }

    /// Writes `pixels` into `rect`.
    fn write_rect(&mut self, rect: PixelRect, pixels: &[u8]) -> Result<(), DocumentError> {
        let out_of_range = || DocumentError::OutOfRange {
            what: format!(
                "mask region {}x{} at ({}, {}) in a {}x{} mask",
                rect.width, rect.height, rect.x, rect.y, self.width, self.height
            ),
        };
        if rect.x + rect.width > self.width
            || rect.y + rect.height > self.height
            || pixels.len() != rect.width as usize * rect.height as usize
        {
            return Err(out_of_range());
        }
        for (i, row) in (rect.y..rect.y + rect.height).enumerate() {
            let start = row as usize * self.width as usize + rect.x as usize;
            let src = pixels
                .get(i * rect.width as usize..(i + 1) * rect.width as usize)
                .ok_or_else(out_of_range)?;
            self.classes
                .get_mut(start..start + rect.width as usize)
                .ok_or_else(out_of_range)?
                .copy_from_slice(src);
        }
        Ok(())
    }

    /// Paints a capsule (a disc of `radius_px` swept from `a` to `b`) with `class`. Returns the
    /// pixels it may have changed (empty when it missed the mask).
    pub fn paint_segment(&mut self, a: Point2, b: Point2, radius_px: f64, class: u8) -> PixelRect {
        let r = radius_px.max(0.5);
        let Some(rect) =
            self.clip(a.x.min(b.x) - r, a.y.min(b.y) - r, a.x.max(b.x) + r, a.y.max(b.y) + r)
        else {
            return PixelRect { x: 0, y: 0, width: 0, height: 0 };
        };
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len2 = dx * dx + dy * dy;
        let width = self.width as usize;
        for y in rect.y..rect.y + rect.height {
            for x in rect.x..rect.x + rect.width {
                let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
                let t = if len2 > 0.0 {
                    (((px - a.x) * dx + (py - a.y) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let (cx, cy) = (a.x + t * dx - px, a.y + t * dy - py);
                if cx * cx + cy * cy <= r * r
                    && let Some(c) = self.classes.get_mut(y as usize * width + x as usize)
                {
                    *c = class;
                }
            }
        }
        rect
    }

    /// Fills the polygon `vertices` (even-odd rule, pixel centres) with `class`. Returns the
    /// pixels it may have changed.
    pub fn fill_polygon(&mut self, vertices: &[Point2], class: u8) -> PixelRect {
        let empty = PixelRect { x: 0, y: 0, width: 0, height: 0 };
        if vertices.len() < 3 {
            return empty;
        }
        let b = Geometry::Polygon(vertices.to_vec()).bounds();
        let Some(rect) = self.clip(b.left, b.top, b.right(), b.bottom()) else { return empty };
        let width = self.width as usize;
        let mut crossings = Vec::new();
        for y in rect.y..rect.y + rect.height {
            let py = f64::from(y) + 0.5;
            crossings.clear();
            for (i, p) in vertices.iter().enumerate() {
                let q = vertices.get((i + 1) % vertices.len()).unwrap_or(p);
                if (p.y <= py) != (q.y <= py) {
                    crossings.push(p.x + (py - p.y) / (q.y - p.y) * (q.x - p.x));
                }
            }
            crossings.sort_by(f64::total_cmp);
            for pair in crossings.chunks_exact(2) {
                let (from, to) = (pair[0], pair[1]);
                // Pixel x is inside when from ≤ x + 0.5 < to.
                let first = (from - 0.5).ceil().max(f64::from(rect.x));
                let last = (to - 0.5).ceil().min(f64::from(rect.x + rect.width));
                let (first, last) = (first as u32, last as u32);
                for x in first..last {
                    if let Some(c) = self.classes.get_mut(y as usize * width + x as usize) {
                        *c = class;
                    }
                }
            }
        }
        rect
    }

    /// The pixel rectangle covering `[x0, x1] × [y0, y1]` (image coordinates), clipped.
    fn clip(&self, x0: f64, y0: f64, x1: f64, y1: f64) -> Option<PixelRect> {
        let left = x0.floor().max(0.0);
        let top = y0.floor().max(0.0);
        let right = x1.ceil().min(f64::from(self.width));
        let bottom = y1.ceil().min(f64::from(self.height));
        (right > left && bottom > top).then_some(PixelRect {
            x: left as u32,
            y: top as u32,
            width: (right - left) as u32,
            height: (bottom - top) as u32,
        })
    }

    /// Encodes the mask as an 8-bit palette PNG whose palette holds each class's colour
    /// (`colors[0]` BACKGROUND).
    pub fn to_png(&self, colors: &[[u8; 3]]) -> Result<Vec<u8>, DocumentError> {
        png::encode_indexed(self.width, self.height, colors, &self.classes)
            .map_err(|e| DocumentError::Invalid(format!("the mask cannot be encoded: {e}")))
    }

    /// Decodes a colour-coded mask PNG (palette or RGB(A)): a pixel whose colour is
    /// `colors[i]` gets class `i`; transparent and unknown colours are BACKGROUND. Returns the
    /// mask and how many pixels had an unknown colour.
    pub fn from_png(bytes: &[u8], colors: &[[u8; 3]]) -> Result<(Self, u64), DocumentError> {
        let image = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .map_err(|e| DocumentError::Invalid(format!("not a readable PNG mask: {e}")))?
            .into_rgba8();
        let (width, height) = image.dimensions();
        let lookup: BTreeMap<[u8; 3], u8> = colors
            .iter()
            .enumerate()
            .filter_map(|(i, c)| u8::try_from(i).ok().map(|i| (*c, i)))
            .rev()
            .collect();
        let mut unknown = 0;
        let classes = image
            .pixels()
            .map(|p| {
                let [r, g, b, a] = p.0;
                if a == 0 {
                    return 0;
                }
                lookup.get(&[r, g, b]).copied().unwrap_or_else(|| {
                    unknown += 1;
                    0
                })
            })
            .collect();
        Ok((Self { width, height, classes }, unknown))
    }
}

/// The mask as stored in drafts: size and a base64 palette PNG.
#[derive(Serialize, Deserialize)]
struct MaskJson {
    width: u32,
    height: u32,
    png: String,
}

impl Serialize for Mask {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Indices only matter here, so any palette with 256 distinct entries will do.
        let palette: Vec<[u8; 3]> = (0..=255u8).map(|i| [i, i, i]).collect();
        let png = self.to_png(&palette).map_err(serde::ser::Error::custom)?;
        MaskJson { width: self.width, height: self.height, png: base64::encode(&png) }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Mask {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let json = MaskJson::deserialize(d)?;
        let bytes = base64::decode(&json.png)
            .map_err(|(at, what)| D::Error::custom(format!("mask: {what} at {at}")))?;
        let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
            .map_err(D::Error::custom)?
            .into_luma8();
        if image.dimensions() != (json.width, json.height) {
            return Err(D::Error::custom("mask size disagrees with its PNG"));
        }
        Ok(Self { width: json.width, height: json.height, classes: image.into_raw() })
    }
}

/// Everything a worker edits: what a draft saves and an edit changes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Content {
    /// Shapes, in drawing order.
    #[serde(default)]
    pub shapes: Vec<Shape>,
    /// The next shape id to hand out.
    #[serde(default)]
    pub next_id: ShapeId,
    /// Chosen classes (classification; one at most for single-label).
    #[serde(default)]
    pub classes: BTreeSet<usize>,
    /// The class mask (segmentation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<Mask>,
    /// The verdict: a class of the verification job's labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<usize>,
    /// Optional feedback (verification, classification).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

impl Content {
    /// The index of shape `id`.
    pub fn index_of(&self, id: ShapeId) -> Option<usize> {
        self.shapes.iter().position(|s| s.id == id)
    }

    /// Shape `id`.
    pub fn shape(&self, id: ShapeId) -> Option<&Shape> {
        self.shapes.iter().find(|s| s.id == id)
    }

    fn shape_mut(&mut self, id: ShapeId) -> Result<&mut Shape, DocumentError> {
        self.shapes.iter_mut().find(|s| s.id == id).ok_or(DocumentError::NoSuchShape { id })
    }
}

/// One change to a document's [`Content`], carrying what it replaces so that
/// [`Edit::inverse`] undoes it exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Inserts `shape` at `index`.
    InsertShape {
        /// Position in drawing order.
        index: usize,
        /// The shape.
        shape: Shape,
    },
    /// Removes `shape`, which is at `index`.
    RemoveShape {
        /// Position in drawing order.
        index: usize,
        /// The shape as it was.
        shape: Shape,
    },
    /// Moves or reshapes a shape.
    SetGeometry {
        /// Which shape.
        id: ShapeId,
        /// Before.
        before: Geometry,
        /// After.
        after: Geometry,
    },
    /// Relabels a shape.
    SetClass {
        /// Which shape.
        id: ShapeId,
        /// Before.
        before: usize,
        /// After.
        after: usize,
    },
    /// Sets (or clears, with `None`) an attribute of a shape.
    SetAttribute {
        /// Which shape.
        id: ShapeId,
        /// Attribute name.
        name: String,
        /// Before.
        before: Option<Value>,
        /// After.
        after: Option<Value>,
    },
    /// Changes the chosen classes.
    SetClasses {
        /// Before.
        before: BTreeSet<usize>,
        /// After.
        after: BTreeSet<usize>,
    },
    /// Changes the verdict.
    SetVerdict {
        /// Before.
        before: Option<usize>,
        /// After.
        after: Option<usize>,
    },
    /// Changes the feedback text.
    SetComment {
        /// Before.
        before: String,
        /// After.
        after: String,
    },
    /// Replaces the mask pixels of `rect`.
    PaintMask {
        /// The region.
        rect: PixelRect,
        /// Its pixels before (row-major).
        before: Vec<u8>,
        /// Its pixels after.
        after: Vec<u8>,
    },
    /// Several edits as one step.
    Batch(Vec<Edit>),
}

impl Edit {
    /// Applies the edit. On error nothing changed (a batch is rolled back).
    pub fn apply(&self, content: &mut Content) -> Result<(), DocumentError> {
        match self {
            Self::InsertShape { index, shape } => {
                if *index > content.shapes.len() {
                    return Err(DocumentError::OutOfRange {
                        what: format!("shape index {index} of {}", content.shapes.len()),
                    });
                }
                content.shapes.insert(*index, shape.clone());
                content.next_id = content.next_id.max(shape.id + 1);
            }
            Self::RemoveShape { index, shape } => {
                if content.shapes.get(*index).map(|s| s.id) != Some(shape.id) {
                    return Err(DocumentError::NoSuchShape { id: shape.id });
                }
                content.shapes.remove(*index);
            }
            Self::SetGeometry { id, after, .. } => content.shape_mut(*id)?.geometry = after.clone(),
            Self::SetClass { id, after, .. } => content.shape_mut(*id)?.class = *after,
            Self::SetAttribute { id, name, after, .. } => {
                let shape = content.shape_mut(*id)?;
                match after {
                    Some(v) => shape.attributes.insert(name.clone(), v.clone()),
                    None => shape.attributes.remove(name),
                };
            }
            Self::SetClasses { after, .. } => content.classes = after.clone(),
            Self::SetVerdict { after, .. } => content.verdict = *after,
            Self::SetComment { after, .. } => content.comment = after.clone(),
            Self::PaintMask { rect, after, .. } => {
                let mask = content.mask.as_mut().ok_or_else(|| DocumentError::OutOfRange {
                    what: "the document has no mask".into(),
                })?;
                mask.write_rect(*rect, after)?;
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
            Self::InsertShape { index, shape } => {
                Self::RemoveShape { index: *index, shape: shape.clone() }
            }
            Self::RemoveShape { index, shape } => {
                Self::InsertShape { index: *index, shape: shape.clone() }
            }
            Self::SetGeometry { id, before, after } => {
                Self::SetGeometry { id: *id, before: after.clone(), after: before.clone() }
            }
            Self::SetClass { id, before, after } => {
                Self::SetClass { id: *id, before: *after, after: *before }
            }
            Self::SetAttribute { id, name, before, after } => Self::SetAttribute {
                id: *id,
                name: name.clone(),
                before: after.clone(),
                after: before.clone(),
            },
            Self::SetClasses { before, after } => {
                Self::SetClasses { before: after.clone(), after: before.clone() }
            }
            Self::SetVerdict { before, after } => {
                Self::SetVerdict { before: *after, after: *before }
            }
            Self::SetComment { before, after } => {
                Self::SetComment { before: after.clone(), after: before.clone() }
            }
            Self::PaintMask { rect, before, after } => {
                Self::PaintMask { rect: *rect, before: after.clone(), after: before.clone() }
            }
            Self::Batch(edits) => Self::Batch(edits.iter().rev().map(Self::inverse).collect()),
        }
    }

    /// Folds `next` into `self` when both change the same text field, so typing is one undo
    /// step. Returns false (and leaves both alone) otherwise.
    fn absorb(&mut self, next: &Self) -> bool {
        match (self, next) {
            (Self::SetComment { after, .. }, Self::SetComment { after: next_after, .. }) => {
                after.clone_from(next_after);
                true
            }
            (
                Self::SetAttribute { id, name, after, .. },
                Self::SetAttribute { id: next_id, name: next_name, after: next_after, .. },
            ) if id == next_id
                && name == next_name
                && matches!(after, Some(Value::String(_)))
                && matches!(next_after, Some(Value::String(_))) =>
            {
                after.clone_from(next_after);
                true
            }
            _ => false,
        }
    }
}

/// The earlier label a verification or adjustment task shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reference {
    /// Earlier shapes (boxes), classes indexing [`Reference::labels`].
    pub shapes: Vec<Shape>,
    /// An earlier mask, classes indexing BACKGROUND + [`Reference::labels`].
    pub mask: Option<Mask>,
    /// The earlier job's class names.
    pub labels: Vec<String>,
    /// The earlier job's colours for `mask` (BACKGROUND first), when it had some.
    pub mask_colors: Vec<[u8; 3]>,
    /// Where it came from (the label attribute name).
    pub attribute: String,
}

/// The image's size, as `inputImageProperties` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSize {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// The editable document of one task, with its undo and redo stacks.
#[derive(Debug, Clone)]
pub struct Document {
    template: TaskTemplate,
    labels: Vec<String>,
    image: ImageSize,
    content: Content,
    /// For adjustment: the content the task opened with.
    initial: Option<Content>,
    /// For verification: the label under review.
    reference: Option<Reference>,
    undo: Vec<Edit>,
    redo: Vec<Edit>,
    /// Increments on every change (edit, undo, redo, restore, stroke).
    revision: u64,
    /// While a brush stroke runs: the mask before it and the pixels touched so far.
    stroke: Option<(Vec<u8>, Option<PixelRect>)>,
}

impl Document {
    /// An empty document for `template` over an image of `image` size with the job's labels.
    pub fn new(
        template: TaskTemplate,
        labels: Vec<String>,
        image: ImageSize,
    ) -> Result<Self, DocumentError> {
        if labels.is_empty() {
            return Err(DocumentError::Invalid("the job has no labels".into()));
        }
        if template == TaskTemplate::SemanticSegmentation && labels.len() > MAX_MASK_LABELS {
            return Err(DocumentError::Invalid(format!(
                "a mask holds at most {MAX_MASK_LABELS} labels, the job has {}",
                labels.len()
            )));
        }
        let mut content = Content::default();
        if template == TaskTemplate::SemanticSegmentation {
            content.mask = Some(Mask::new(image.width, image.height));
        }
        Ok(Self {
            template,
            labels,
            image,
            content,
            initial: None,
            reference: None,
            undo: Vec::new(),
            redo: Vec::new(),
            revision: 0,
            stroke: None,
        })
    }

    /// Makes this an adjustment document: `content` (earlier labels) is loaded for editing and
    /// remembered, so the export reports whether the worker changed it.
    pub fn with_initial(mut self, content: Content) -> Self {
        self.content = content.clone();
        if self.template == TaskTemplate::SemanticSegmentation && self.content.mask.is_none() {
            self.content.mask = Some(Mask::new(self.image.width, self.image.height));
        }
        self.initial = Some(self.content.clone());
        self.revision += 1;
        self
    }

    /// Attaches the earlier label a verification task shows.
    pub fn with_reference(mut self, reference: Reference) -> Self {
        self.reference = Some(reference);
        self
    }

    /// A copy without undo and redo history (what a draft needs; cheap to hand to another
    /// thread).
    pub fn without_history(&self) -> Self {
        Self {
            template: self.template.clone(),
            labels: self.labels.clone(),
            image: self.image,
            content: self.content.clone(),
            initial: None,
            reference: None,
            undo: Vec::new(),
            redo: Vec::new(),
            revision: self.revision,
            stroke: None,
        }
    }

    /// The template.
    pub fn template(&self) -> &TaskTemplate {
        &self.template
    }

    /// The job's labels.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The image size.
    pub fn image_size(&self) -> ImageSize {
        self.image
    }

    /// The current content.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The reference label (verification), if any.
    pub fn reference(&self) -> Option<&Reference> {
        self.reference.as_ref()
    }

    /// True for adjustment documents.
    pub fn is_adjustment(&self) -> bool {
        self.initial.is_some()
    }

    /// For adjustment: whether the worker changed the earlier labels.
    pub fn initial_value_modified(&self) -> bool {
        self.initial.as_ref().is_some_and(|i| *i != self.content)
    }

    /// Changes since opening (for autosave: save when it moved).
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

    /// A fresh shape id.
    pub fn next_shape_id(&self) -> ShapeId {
        self.content.next_id
    }

    /// Applies `edit` and records it for undo (clearing redo).
    pub fn commit(&mut self, edit: Edit) -> Result<(), DocumentError> {
        self.check(&edit)?;
        edit.apply(&mut self.content)?;
        self.revision += 1;
        self.redo.clear();
        if let Some(last) = self.undo.last_mut()
            && last.absorb(&edit)
        {
            return Ok(());
        }
        self.undo.push(edit);
        Ok(())
    }

    /// Checks class indices against the labels.
    fn check(&self, edit: &Edit) -> Result<(), DocumentError> {
        let count = self.labels.len();
        let bad = |class: usize| DocumentError::NoSuchClass { class, count };
        match edit {
            Edit::InsertShape { shape, .. } if shape.class >= count => Err(bad(shape.class)),
            Edit::SetClass { after, .. } if *after >= count => Err(bad(*after)),
            Edit::SetClasses { after, .. } => match after.iter().find(|c| **c >= count) {
                Some(c) => Err(bad(*c)),
                None => Ok(()),
            },
            Edit::SetVerdict { after: Some(v), .. } if *v >= count => Err(bad(*v)),
            Edit::Batch(edits) => edits.iter().try_for_each(|e| self.check(e)),
            _ => Ok(()),
        }
    }

    /// Undoes the last edit. Returns false when there was none.
    pub fn undo(&mut self) -> bool {
        self.finish_stroke();
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
        self.finish_stroke();
        let Some(edit) = self.redo.pop() else { return false };
        if edit.apply(&mut self.content).is_err() {
            return false;
        }
        self.undo.push(edit);
        self.revision += 1;
        true
    }

    // --- convenience edits ------------------------------------------------------------------

    /// Adds a shape with a fresh id; returns the id.
    pub fn add_shape(
        &mut self,
        class: usize,
        geometry: Geometry,
        attributes: BTreeMap<String, Value>,
    ) -> Result<ShapeId, DocumentError> {
        let id = self.content.next_id;
        let shape = Shape { id, class, geometry, attributes };
        self.commit(Edit::InsertShape { index: self.content.shapes.len(), shape })?;
        Ok(id)
    }

    /// Deletes shape `id`.
    pub fn remove_shape(&mut self, id: ShapeId) -> Result<(), DocumentError> {
        let index = self.content.index_of(id).ok_or(DocumentError::NoSuchShape { id })?;
        let shape =
            self.content.shapes.get(index).cloned().ok_or(DocumentError::NoSuchShape { id })?;
        self.commit(Edit::RemoveShape { index, shape })
    }

    /// Moves or reshapes shape `id` (no edit when unchanged).
    pub fn set_geometry(&mut self, id: ShapeId, after: Geometry) -> Result<(), DocumentError> {
        let before =
            self.content.shape(id).ok_or(DocumentError::NoSuchShape { id })?.geometry.clone();
        if before == after {
            return Ok(());
        }
        self.commit(Edit::SetGeometry { id, before, after })
    }

    /// Relabels shape `id` (no edit when unchanged).
    pub fn set_class(&mut self, id: ShapeId, after: usize) -> Result<(), DocumentError> {
        let before = self.content.shape(id).ok_or(DocumentError::NoSuchShape { id })?.class;
        if before == after {
            return Ok(());
        }
        self.commit(Edit::SetClass { id, before, after })
    }

    /// Sets an attribute of shape `id` (`None` clears it).
    pub fn set_attribute(
        &mut self,
        id: ShapeId,
        name: &str,
        after: Option<Value>,
    ) -> Result<(), DocumentError> {
        let before = self
            .content
            .shape(id)
            .ok_or(DocumentError::NoSuchShape { id })?
            .attributes
            .get(name)
            .cloned();
        if before == after {
            return Ok(());
        }
        self.commit(Edit::SetAttribute { id, name: name.to_owned(), before, after })
    }

    /// Chooses `class` (single-label: replaces the choice; multi-label: toggles it).
    pub fn choose_class(&mut self, class: usize) -> Result<(), DocumentError> {
        let before = self.content.classes.clone();
        let mut after = before.clone();
        if self.template == TaskTemplate::MultiLabel {
            if !after.remove(&class) {
                after.insert(class);
            }
        } else {
            after = BTreeSet::from([class]);
        }
        if before == after {
            return Ok(());
        }
        self.commit(Edit::SetClasses { before, after })
    }

    /// Sets the verdict.
    pub fn set_verdict(&mut self, verdict: Option<usize>) -> Result<(), DocumentError> {
        let before = self.content.verdict;
        if before == verdict {
            return Ok(());
        }
        self.commit(Edit::SetVerdict { before, after: verdict })
    }

    /// Sets the feedback text (consecutive changes are one undo step).
    pub fn set_comment(&mut self, after: &str) -> Result<(), DocumentError> {
        let before = self.content.comment.clone();
        if before == after {
            return Ok(());
        }
        self.commit(Edit::SetComment { before, after: after.to_owned() })
    }

    // --- mask painting ----------------------------------------------------------------------

    /// Starts a brush stroke (remembers the mask to build one undoable edit at the end).
    pub fn begin_stroke(&mut self) {
        self.finish_stroke();
        if let Some(mask) = &self.content.mask {
            self.stroke = Some((mask.classes.clone(), None));
        }
    }

    /// Paints one segment of the running stroke with `class` (0 erases). Returns the pixels that
    /// may have changed, for a partial texture update.
    pub fn stroke_segment(&mut self, a: Point2, b: Point2, radius_px: f64, class: u8) -> PixelRect {
        let empty = PixelRect { x: 0, y: 0, width: 0, height: 0 };
        if self.stroke.is_none() {
            self.begin_stroke();
        }
        let (Some(mask), Some((_, dirty))) = (self.content.mask.as_mut(), self.stroke.as_mut())
        else {
            return empty;
        };
        let rect = mask.paint_segment(a, b, radius_px, class);
        if !rect.is_empty() {
            *dirty = Some(dirty.map_or(rect, |d| d.union(rect)));
            self.revision += 1;
        }
        rect
    }

    /// Ends the running stroke, recording it as one edit. Returns true when it changed pixels.
    pub fn finish_stroke(&mut self) -> bool {
        let Some((before_all, Some(rect))) = self.stroke.take() else { return false };
        let Some(mask) = &self.content.mask else { return false };
        let Some(before) =
            Mask { width: mask.width, height: mask.height, classes: before_all }.read_rect(rect)
        else {
            return false;
        };
        let Some(after) = mask.read_rect(rect) else { return false };
        if before == after {
            return false;
        }
        self.redo.clear();
        self.undo.push(Edit::PaintMask { rect, before, after });
        true
    }

    /// Fills a polygon in the mask with `class` as one edit. Returns the pixels changed.
    pub fn fill_mask_polygon(
        &mut self,
        vertices: &[Point2],
        class: u8,
    ) -> Result<PixelRect, DocumentError> {
        self.finish_stroke();
        let mask = self
            .content
            .mask
            .as_ref()
            .ok_or_else(|| DocumentError::Invalid("this task has no mask".into()))?;
        let mut scratch = mask.clone();
        let rect = scratch.fill_polygon(vertices, class);
        if rect.is_empty() {
            return Ok(rect);
        }
        let before = mask.read_rect(rect).unwrap_or_default();
        let after = scratch.read_rect(rect).unwrap_or_default();
        if before != after {
            self.commit(Edit::PaintMask { rect, before, after })?;
        }
        Ok(rect)
    }

    // --- export -----------------------------------------------------------------------------

    /// Why the task cannot be submitted yet, if it cannot.
    pub fn incomplete(&self) -> Option<String> {
        match self.template {
            TaskTemplate::Classification | TaskTemplate::MultiLabel
                if self.content.classes.is_empty() =>
            {
                Some("Choose a label first.".into())
            }
            TaskTemplate::Verification if self.content.verdict.is_none() => {
                Some("Give your verdict first.".into())
            }
            _ => None,
        }
    }

    /// The colour of each mask class (BACKGROUND first), as consolidation writes them.
    pub fn mask_colors(&self) -> Vec<[u8; 3]> {
        segmentation_class_colors(self.labels.len())
    }

    /// The `answerContent` of the worker response for this document (spec §6), in the shape of
    /// its template's built-in element.
    pub fn answer_content(&self) -> Result<Value, DocumentError> {
        if let Some(why) = self.incomplete() {
            return Err(DocumentError::Incomplete(why));
        }
        let name = |class: usize| self.labels.get(class).cloned().unwrap_or_default();
        let image_properties = json!({ "height": self.image.height, "width": self.image.width });
        let (w, h) = (f64::from(self.image.width), f64::from(self.image.height));
        let mut element = Map::new();
        match &self.template {
            TaskTemplate::BoundingBox => {
                let boxes: Vec<Value> = self
                    .content
                    .shapes
                    .iter()
                    .filter_map(|s| match s.geometry.clamped(w, h) {
                        Geometry::Box(b) => {
                            let (left, top) = (b.left.round(), b.top.round());
                            let width = (b.right().round() - left).max(1.0);
                            let height = (b.bottom().round() - top).max(1.0);
                            let mut o = json!({
                                "height": height as i64,
                                "label": name(s.class),
                                "left": left as i64,
                                "top": top as i64,
                                "width": width as i64,
                            });
                            if !s.attributes.is_empty()
                                && let Some(o) = o.as_object_mut()
                            {
                                o.insert("attributes".into(), json!(s.attributes));
                            }
                            Some(o)
                        }
                        _ => None,
                    })
                    .collect();
                element.insert("boundingBoxes".into(), Value::Array(boxes));
                element.insert("inputImageProperties".into(), image_properties);
            }
            TaskTemplate::Polygon { .. } | TaskTemplate::Polyline { .. } => {
                let polygon = matches!(self.template, TaskTemplate::Polygon { .. });
                let items: Vec<Value> = self
                    .content
                    .shapes
                    .iter()
                    .filter_map(|s| match s.geometry.clamped(w, h) {
                        Geometry::Polygon(v) | Geometry::Polyline(v) => {
                            let mut o = json!({
                                "label": name(s.class),
                                "vertices": v.iter().map(|p| json!({"x": round2(p.x), "y": round2(p.y)})).collect::<Vec<_>>(),
                            });
                            if !s.attributes.is_empty()
                                && let Some(o) = o.as_object_mut()
                            {
                                o.insert("attributes".into(), json!(s.attributes));
                            }
                            Some(o)
                        }
                        _ => None,
                    })
                    .collect();
                element.insert(
                    if polygon { "polygons" } else { "polylines" }.into(),
                    Value::Array(items),
                );
                element.insert("inputImageProperties".into(), image_properties);
            }
            TaskTemplate::Keypoint { .. } => {
                let items: Vec<Value> = self
                    .content
                    .shapes
                    .iter()
                    .filter_map(|s| match s.geometry.clamped(w, h) {
                        Geometry::Keypoint(p) => {
                            let mut o =
                                json!({"label": name(s.class), "x": round2(p.x), "y": round2(p.y)});
                            if !s.attributes.is_empty()
                                && let Some(o) = o.as_object_mut()
                            {
                                o.insert("attributes".into(), json!(s.attributes));
                            }
                            Some(o)
                        }
                        _ => None,
                    })
                    .collect();
                element.insert("keypoints".into(), Value::Array(items));
                element.insert("inputImageProperties".into(), image_properties);
            }
            TaskTemplate::Classification => {
                let class = self.content.classes.iter().next().copied().unwrap_or_default();
                element.insert("label".into(), json!(name(class)));
                if !self.content.comment.trim().is_empty() {
                    element.insert("workerComment".into(), json!(self.content.comment.trim()));
                }
            }
            TaskTemplate::MultiLabel => {
                let labels: Vec<String> = self.content.classes.iter().map(|c| name(*c)).collect();
                element.insert("labels".into(), json!(labels));
                if !self.content.comment.trim().is_empty() {
                    element.insert("workerComment".into(), json!(self.content.comment.trim()));
                }
            }
            TaskTemplate::SemanticSegmentation => {
                let mask = self
                    .content
                    .mask
                    .as_ref()
                    .ok_or_else(|| DocumentError::Invalid("the task has no mask".into()))?;
                let colors = self.mask_colors();
                let png = mask.to_png(&colors)?;
                let mappings: Map<String, Value> = self
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(i, label)| {
                        let c = colors.get(i + 1).copied().unwrap_or([0, 0, 0]);
                        (label.clone(), json!({ "color": hex_color(c) }))
                    })
                    .collect();
                element
                    .insert("labeledImage".into(), json!({ "pngImageData": base64::encode(&png) }));
                element.insert("labelMappings".into(), Value::Object(mappings));
                element.insert("inputImageProperties".into(), image_properties);
            }
            TaskTemplate::Verification => {
                let verdict = self.content.verdict.unwrap_or_default();
                element.insert("label".into(), json!(name(verdict)));
                if !self.content.comment.trim().is_empty() {
                    element.insert("workerComment".into(), json!(self.content.comment.trim()));
                }
            }
        }
        if self.is_adjustment() {
            element.insert("initialValueModified".into(), json!(self.initial_value_modified()));
        }
        let mut answer = Map::new();
        answer.insert(self.template.element().to_owned(), Value::Object(element));
        Ok(Value::Object(answer))
    }

    /// `adjustment-status` as Ground Truth writes it for this document's answer: `adjusted` when
    /// the worker changed the earlier labels, `unadjusted` otherwise; `None` when this is not an
    /// adjustment task.
    pub fn adjustment_status(&self) -> Option<&'static str> {
        self.is_adjustment()
            .then(|| if self.initial_value_modified() { "adjusted" } else { "unadjusted" })
    }

    // --- drafts -----------------------------------------------------------------------------

    /// The draft: the content and the template it belongs to (undo history is not saved).
    pub fn to_draft(&self) -> Value {
        json!({
            "format": DRAFT_FORMAT,
            "template": self.template,
            "labels": self.labels,
            "image": self.image,
            "content": self.content,
        })
    }

    /// Restores a draft saved by [`Document::to_draft`] for the same template, labels and image.
    /// Undo and redo start empty.
    pub fn restore_draft(&mut self, draft: &Value) -> Result<(), DocumentError> {
        let bad = |what: &str| DocumentError::Draft(what.to_owned());
        if draft.get("format").and_then(Value::as_u64) != Some(u64::from(DRAFT_FORMAT)) {
            return Err(bad("unknown draft format"));
        }
        let template: TaskTemplate =
            serde_json::from_value(draft.get("template").cloned().unwrap_or_default())
                .map_err(|e| bad(&format!("template: {e}")))?;
        if template != self.template {
            return Err(bad("the draft belongs to another kind of task"));
        }
        let labels: Vec<String> =
            serde_json::from_value(draft.get("labels").cloned().unwrap_or_default())
                .map_err(|e| bad(&format!("labels: {e}")))?;
        if labels != self.labels {
            return Err(bad("the job's labels changed since the draft was saved"));
        }
        let content: Content =
            serde_json::from_value(draft.get("content").cloned().unwrap_or_default())
                .map_err(|e| bad(&format!("content: {e}")))?;
        if let Some(mask) = &content.mask
            && (mask.width, mask.height) != (self.image.width, self.image.height)
        {
            return Err(bad("the draft's mask does not match the image size"));
        }
        if let Some(c) = content
            .shapes
            .iter()
            .map(|s| s.class)
            .chain(content.classes.iter().copied())
            .find(|c| *c >= labels.len())
        {
            return Err(DocumentError::NoSuchClass { class: c, count: labels.len() });
        }
        self.content = content;
        self.undo.clear();
        self.redo.clear();
        self.stroke = None;
        self.revision += 1;
        Ok(())
    }
}

/// Two decimals: sub-pixel precision without float noise.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `#rrggbb`.
pub fn hex_color(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Parses `#rrggbb`.
pub fn parse_hex_color(text: &str) -> Option<[u8; 3]> {
    let d = text.trim().strip_prefix('#')?;
    if d.len() != 6 || !d.is_ascii() {
        return None;
    }
    let byte = |i: usize| d.get(i..i + 2).and_then(|s| u8::from_str_radix(s, 16).ok());
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// Earlier boxes (an object-detection label and its class map) as shapes whose classes index
/// `labels`; boxes whose class name is not in `labels` are skipped and counted.
pub fn shapes_from_boxes(
    label: &BoundingBoxLabel,
    class_map: &BTreeMap<u64, String>,
    labels: &[String],
) -> (Vec<Shape>, usize) {
    let mut shapes = Vec::new();
    let mut skipped = 0;
    for (i, b) in label.annotations.iter().enumerate() {
        let class_id = Some(b.class_id.value);
        let class = class_id
            .and_then(|id| class_map.get(&id))
            .and_then(|name| labels.iter().position(|l| l == name))
            .or_else(|| {
                // No class map: the index is into the label list itself.
                class_map
                    .is_empty()
                    .then_some(class_id)
                    .flatten()
                    .and_then(|id| usize::try_from(id).ok())
                    .filter(|c| *c < labels.len())
            });
        let Some(class) = class else {
            skipped += 1;
            continue;
        };
        let mut attributes = BTreeMap::new();
        if let Some(Value::Object(attrs)) = b.extra.get("attributes") {
            attributes = attrs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        }
        shapes.push(Shape {
            id: i as ShapeId,
            class,
            geometry: Geometry::Box(BoxPx {
                left: b.left,
                top: b.top,
                width: b.width,
                height: b.height,
            }),
            attributes,
        });
    }
    (shapes, skipped)
}

/// The colours of an earlier segmentation's `internal-color-map`, re-indexed so that entry `i`
/// is the colour of class `i` of `labels` + 1 (0 = BACKGROUND); classes missing from the map
/// get no colour (`None`).
pub fn colors_from_color_map(
    map: &BTreeMap<u64, ColorMapEntry>,
    labels: &[String],
) -> Vec<Option<[u8; 3]>> {
    let mut out = vec![None; labels.len() + 1];
    for entry in map.values() {
        let Some(color) = entry.hex_color.as_deref().and_then(parse_hex_color) else { continue };
        let class = match entry.class_name.as_deref() {
            Some(super::consolidate::BACKGROUND_CLASS_NAME) => Some(0),
            Some(name) => labels.iter().position(|l| l == name).map(|i| i + 1),
            None => None,
        };
        if let Some(slot) = class.and_then(|c| out.get_mut(c)) {
            *slot = Some(color);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::annotation::consolidate::em::EmOptions;
    use crate::annotation::consolidate::{
        BoundingBoxOptions, ClassificationKind, ObjectAnswers, RecordContext, WorkerAnswer,
        consolidate_bounding_boxes, consolidate_multi_label, consolidate_semantic_segmentation,
        consolidate_single_label, consolidate_verification,
    };

    fn labels() -> Vec<String> {
        vec!["car".into(), "pedestrian".into(), "tree".into()]
    }

    fn size() -> ImageSize {
        ImageSize { width: 64, height: 40 }
    }

    fn boxed(l: f64, t: f64, w: f64, h: f64) -> Geometry {
        Geometry::Box(BoxPx { left: l, top: t, width: w, height: h })
    }

    fn ctx() -> RecordContext {
        RecordContext::new("job", "2026-01-01T00:00:00.000000")
    }

    #[test]
    fn every_edit_is_undone_by_its_inverse() {
        let mut doc = Document::new(TaskTemplate::BoundingBox, labels(), size()).unwrap();
        let start = doc.content().clone();
        let a = doc.add_shape(0, boxed(1.0, 2.0, 10.0, 5.0), BTreeMap::new()).unwrap();
        let b = doc.add_shape(2, boxed(20.0, 2.0, 10.0, 5.0), BTreeMap::new()).unwrap();
        doc.set_class(a, 1).unwrap();
        doc.set_geometry(b, boxed(21.0, 3.0, 12.0, 6.0)).unwrap();
        doc.set_attribute(a, "occluded", Some(json!("yes"))).unwrap();
        doc.remove_shape(b).unwrap();
        let end = doc.content().clone();
        let mut steps = 0;
        while doc.undo() {
            steps += 1;
        }
        assert_eq!(steps, 6);
        assert_eq!(doc.content().shapes, start.shapes);
        while doc.redo() {}
        assert_eq!(doc.content(), &end);
        // A new edit clears the redo stack.
        doc.undo();
        doc.set_class(a, 2).unwrap();
        assert!(!doc.can_redo());
    }

    #[test]
    fn typing_is_one_undo_step_and_bad_classes_are_refused() {
        let mut doc =
            Document::new(TaskTemplate::Verification, vec!["ok".into(), "bad".into()], size())
                .unwrap();
        for text in ["B", "Bo", "Box", "Box too wide"] {
            doc.set_comment(text).unwrap();
        }
        assert!(doc.undo());
        assert_eq!(doc.content().comment, "");
        assert!(!doc.can_undo());
        assert!(matches!(doc.set_verdict(Some(5)), Err(DocumentError::NoSuchClass { .. })));
        assert!(matches!(doc.answer_content(), Err(DocumentError::Incomplete(_))));
    }

    #[test]
    fn boxes_export_as_the_bounding_box_template_and_consolidate() {
        let mut doc = Document::new(TaskTemplate::BoundingBox, labels(), size()).unwrap();
        doc.add_shape(0, boxed(10.4, 5.0, 20.2, 10.0), BTreeMap::new()).unwrap();
        doc.add_shape(1, boxed(50.0, 30.0, 30.0, 30.0), BTreeMap::new()).unwrap(); // clipped
        let answer = doc.answer_content().unwrap();
        let boxes = &answer["boundingBox"]["boundingBoxes"];
        assert_eq!(
            boxes[0],
            json!({"height": 10, "label": "car", "left": 10, "top": 5, "width": 21})
        );
        assert_eq!(boxes[1]["width"], json!(14));
        assert_eq!(
            answer["boundingBox"]["inputImageProperties"],
            json!({"height": 40, "width": 64})
        );
        let object = ObjectAnswers::new("0", vec![WorkerAnswer::new("w", answer)]);
        let record =
            consolidate_bounding_boxes(&object, &labels(), &ctx(), &BoundingBoxOptions::default())
                .unwrap();
        assert_eq!(record.label["annotations"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn classification_exports_consolidate() {
        let mut single = Document::new(TaskTemplate::Classification, labels(), size()).unwrap();
        single.choose_class(2).unwrap();
        single.choose_class(1).unwrap();
        assert_eq!(single.content().classes, BTreeSet::from([1]));
        let answer = single.answer_content().unwrap();
        assert_eq!(answer, json!({"crowd-image-classifier": {"label": "pedestrian"}}));
        let objects = vec![ObjectAnswers::new("0", vec![WorkerAnswer::new("w", answer)])];
        let records = consolidate_single_label(
            &objects,
            &labels(),
            ClassificationKind::Image,
            &ctx(),
            &EmOptions::default(),
        )
        .unwrap();
        assert_eq!(records[0].label, json!(1));

        let mut multi = Document::new(TaskTemplate::MultiLabel, labels(), size()).unwrap();
        multi.choose_class(2).unwrap();
        multi.choose_class(0).unwrap();
        multi.choose_class(1).unwrap();
        multi.choose_class(1).unwrap(); // toggled off again
        let answer = multi.answer_content().unwrap();
        assert_eq!(
            answer,
            json!({"crowd-image-classifier-multi-select": {"labels": ["car", "tree"]}})
        );
        let object = ObjectAnswers::new("0", vec![WorkerAnswer::new("w", answer)]);
        let record =
            consolidate_multi_label(&object, &labels(), ClassificationKind::Image, &ctx()).unwrap();
        assert_eq!(record.label, json!([0, 2]));
    }

    #[test]
    fn verification_exports_verdict_and_feedback() {
        let verdicts = vec!["Correct".to_owned(), "Incorrect".to_owned()];
        let mut doc = Document::new(TaskTemplate::Verification, verdicts.clone(), size()).unwrap();
        doc.set_verdict(Some(1)).unwrap();
        doc.set_comment("  box too wide ").unwrap();
        let answer = doc.answer_content().unwrap();
        assert_eq!(
            answer,
            json!({"crowd-image-classifier": {"label": "Incorrect", "workerComment": "box too wide"}})
        );
        let objects = vec![ObjectAnswers::new("0", vec![WorkerAnswer::new("w", answer)])];
        let records =
            consolidate_verification(&objects, &verdicts, &ctx(), &EmOptions::default()).unwrap();
        assert_eq!(records[0].metadata["worker-feedback"], json!([{"comment": "box too wide"}]));
    }

    #[test]
    fn segmentation_paints_undoes_and_consolidates() {
        let mut doc = Document::new(TaskTemplate::SemanticSegmentation, labels(), size()).unwrap();
        doc.begin_stroke();
        let rect = doc.stroke_segment(Point2::new(5.0, 5.0), Point2::new(15.0, 5.0), 2.0, 1);
        assert!(!rect.is_empty());
        assert!(doc.finish_stroke());
        doc.fill_mask_polygon(
            &[
                Point2::new(30.0, 10.0),
                Point2::new(50.0, 10.0),
                Point2::new(50.0, 30.0),
                Point2::new(30.0, 30.0),
            ],
            3,
        )
        .unwrap();
        let mask = doc.content().mask.clone().unwrap();
        assert_eq!(mask.get(10, 5), Some(1));
        assert_eq!(mask.get(40, 20), Some(3));
        assert_eq!(mask.get(30, 10), Some(3));
        assert_eq!(mask.get(50, 20), Some(0), "right edge is outside (pixel centres)");
        assert_eq!(mask.classes().iter().filter(|c| **c == 3).count(), 400);
        // Erase part of the stroke, undo the erase.
        doc.begin_stroke();
        doc.stroke_segment(Point2::new(10.0, 5.0), Point2::new(10.0, 5.0), 1.5, 0);
        doc.finish_stroke();
        assert_eq!(doc.content().mask.as_ref().unwrap().get(10, 5), Some(0));
        doc.undo();
        assert_eq!(doc.content().mask.as_ref().unwrap(), &mask);

        let answer = doc.answer_content().unwrap();
        let element = &answer["crowd-semantic-segmentation"];
        assert_eq!(element["labelMappings"]["car"]["color"], json!("#2ca02c"));
        let object = ObjectAnswers::new("0", vec![WorkerAnswer::new("w", answer)]);
        let out =
            consolidate_semantic_segmentation(&object, &labels(), "s3://b/m.png", &ctx()).unwrap();
        let (round, unknown) =
            Mask::from_png(&out.mask_png, &segmentation_class_colors(3)).unwrap();
        assert_eq!(unknown, 0);
        assert_eq!(round, mask);
    }

    #[test]
    fn drafts_round_trip_and_refuse_other_tasks() {
        let mut doc = Document::new(TaskTemplate::SemanticSegmentation, labels(), size()).unwrap();
        doc.begin_stroke();
        doc.stroke_segment(Point2::new(3.0, 3.0), Point2::new(30.0, 20.0), 3.0, 2);
        doc.finish_stroke();
        doc.set_comment("x").unwrap();
        let draft = doc.to_draft();
        let text = serde_json::to_string(&draft).unwrap();
        let mut fresh =
            Document::new(TaskTemplate::SemanticSegmentation, labels(), size()).unwrap();
        fresh.restore_draft(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(fresh.content(), doc.content());
        assert!(!fresh.can_undo());
        let mut other = Document::new(TaskTemplate::BoundingBox, labels(), size()).unwrap();
        assert!(matches!(other.restore_draft(&draft), Err(DocumentError::Draft(_))));
    }

    #[test]
    fn adjustment_reports_whether_labels_changed() {
        let initial = Content {
            shapes: vec![Shape {
                id: 0,
                class: 0,
                geometry: boxed(1.0, 1.0, 5.0, 5.0),
                attributes: BTreeMap::new(),
            }],
            next_id: 1,
            ..Content::default()
        };
        let mut doc = Document::new(TaskTemplate::BoundingBox, labels(), size())
            .unwrap()
            .with_initial(initial);
        assert_eq!(doc.adjustment_status(), Some("unadjusted"));
        assert_eq!(
            doc.answer_content().unwrap()["boundingBox"]["initialValueModified"],
            json!(false)
        );
        doc.set_class(0, 2).unwrap();
        assert_eq!(doc.adjustment_status(), Some("adjusted"));
        assert_eq!(
            doc.answer_content().unwrap()["boundingBox"]["initialValueModified"],
            json!(true)
        );
        doc.undo();
        assert_eq!(doc.adjustment_status(), Some("unadjusted"));
    }

    #[test]
    fn shape_templates_export_their_elements() {
        let html = r#"<crowd-form><crowd-polygon name="outline" src="{{ task.input.taskObject }}" labels="[]"></crowd-polygon></crowd-form>"#;
        let template = TaskTemplate::for_task(TaskType::Custom, Some(html)).unwrap();
        assert_eq!(template, TaskTemplate::Polygon { element: "outline".into() });
        let mut doc = Document::new(template, labels(), size()).unwrap();
        doc.add_shape(
            2,
            Geometry::Polygon(vec![
                Point2::new(1.0, 1.0),
                Point2::new(9.0, 1.0),
                Point2::new(5.0, 7.333),
            ]),
            BTreeMap::new(),
        )
        .unwrap();
        let answer = doc.answer_content().unwrap();
        assert_eq!(answer["outline"]["polygons"][0]["label"], json!("tree"));
        assert_eq!(answer["outline"]["polygons"][0]["vertices"][2], json!({"x": 5.0, "y": 7.33}));
        assert_eq!(
            TaskTemplate::from_html("<crowd-keypoint\n name='pts'>"),
            Some(TaskTemplate::Keypoint { element: "pts".into() })
        );
        assert_eq!(
            TaskTemplate::from_html("<crowd-polyline labels='[]'>"),
            Some(TaskTemplate::Polyline { element: ANNOTATED_RESULT.into() })
        );
        assert_eq!(TaskTemplate::from_html("<p>nothing</p>"), None);
        assert_eq!(TaskTemplate::for_task(TaskType::PointCloudObjectDetection, None), None);
    }
}
