//! `SeqLabel.json`: the per-sequence label files that video-frame and 3D-tracking output lines
//! point at (`<attr>-ref`), spec §5.11, §5.13 and §5.14.
//!
//! - Video frames ([`VideoSeqLabel`]): `detection-annotations` or `tracking-annotations`, one
//!   entry per frame with `frame-no`, `frame`, `frame-attributes` and a shape list named by the
//!   tool: `annotations` (boxes), `polylines`, `polygons` or `keypoints`.
//! - 3D tracking ([`PointCloudSeqLabel`]): `tracking-annotations` with `frame-number`,
//!   `frame-name` and cuboid `annotations`.
//! - 3D-2D linking ([`SensorFusionSeqLabel`]): `{"lidar": <3D>, "camera-0": <video-style boxes>, …}`;
//!   a cuboid and a camera box belong together when they share `object-id`.
//!
//! Class ids are read as numbers or numeric strings and written back in the form read. Unknown
//! keys are kept at every level.

use serde_json::{Map, Value};

use crate::formats::error::FormatError;
use crate::formats::json::{Ctx, Index, Obj, ObjWriter, kind, parse_value};

use super::Cuboid;

/// Which list a video `SeqLabel.json` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoSeqLabelKind {
    /// `detection-annotations` (video frame object detection).
    Detection,
    /// `tracking-annotations` (video frame object tracking, and 3D-2D camera boxes).
    Tracking,
}

impl VideoSeqLabelKind {
    /// The top-level key.
    pub fn key(self) -> &'static str {
        match self {
            Self::Detection => "detection-annotations",
            Self::Tracking => "tracking-annotations",
        }
    }
}

/// Fields every video shape carries.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeInfo {
    /// `class-id`: index into the output line's `class-map`.
    pub class_id: Index,
    /// `label-category-attributes` (may be `{}`).
    pub label_category_attributes: Option<Map<String, Value>>,
    /// `object-id` (tracking): the same UUID for one object across frames.
    pub object_id: Option<String>,
    /// `object-name` (tracking): `<label>:<n>`.
    pub object_name: Option<String>,
}

impl ShapeInfo {
    /// A shape of class `class_id` (written as a string, as Ground Truth's video output does).
    pub fn new(class_id: u64) -> Self {
        Self {
            class_id: Index::string(class_id),
            label_category_attributes: Some(Map::new()),
            object_id: None,
            object_name: None,
        }
    }

    fn read(o: &mut Obj<'_>) -> Result<Self, FormatError> {
        Ok(Self {
            class_id: o.req_index("class-id")?,
            label_category_attributes: o.opt_map("label-category-attributes")?,
            object_id: o.opt_str("object-id")?,
            object_name: o.opt_str("object-name")?,
        })
    }

    fn write(&self, w: &mut ObjWriter) {
        w.put("class-id", self.class_id.to_value())
            .put_opt(
                "label-category-attributes",
                self.label_category_attributes.clone().map(Value::Object),
            )
            .put_opt_str("object-id", self.object_id.as_deref())
            .put_opt_str("object-name", self.object_name.as_deref());
    }
}

/// A bounding box on a video frame or camera image (pixels, top-left origin).
#[derive(Debug, Clone, PartialEq)]
pub struct VideoBox {
    /// Class, attributes and identity.
    pub info: ShapeInfo,
    /// `left`.
    pub left: f64,
    /// `top`.
    pub top: f64,
    /// `width`.
    pub width: f64,
    /// `height`.
    pub height: f64,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// A polyline or polygon vertex (pixels).
#[derive(Debug, Clone, PartialEq)]
pub struct Vertex {
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// A polyline (open) or polygon (closed) on a video frame.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoPolyline {
    /// Class, attributes and identity.
    pub info: ShapeInfo,
    /// `vertices`.
    pub vertices: Vec<Vertex>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// A keypoint on a video frame.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoKeypoint {
    /// Class, attributes and identity.
    pub info: ShapeInfo,
    /// x (pixels).
    pub x: f64,
    /// y (pixels).
    pub y: f64,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// The labels of one video frame.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFrameLabel {
    /// `frame-no` (0-based in AWS's examples; a string in some real files).
    pub frame_no: Index,
    /// `frame`: the image file name.
    pub frame: String,
    /// `frame-attributes` (may be `{}`).
    pub frame_attributes: Option<Map<String, Value>>,
    /// `annotations`: boxes.
    pub boxes: Option<Vec<VideoBox>>,
    /// `polylines`.
    pub polylines: Option<Vec<VideoPolyline>>,
    /// `polygons`.
    pub polygons: Option<Vec<VideoPolyline>>,
    /// `keypoints`.
    pub keypoints: Option<Vec<VideoKeypoint>>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// A video-frame `SeqLabel.json` (or one camera of a 3D-2D file).
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSeqLabel {
    /// Detection or tracking.
    pub kind: VideoSeqLabelKind,
    /// One entry per frame that has labels.
    pub frames: Vec<VideoFrameLabel>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

fn read_vertices(o: &mut Obj<'_>) -> Result<Vec<Vertex>, FormatError> {
    let ctx = o.ctx();
    o.req_array("vertices", |v, p| {
        let mut x = Obj::new(v, p, ctx)?;
        Ok(Vertex { x: x.req_f64("x")?, y: x.req_f64("y")?, extra: x.rest() })
    })
}

fn read_video_frame(
    value: &Value,
    path: &str,
    ctx: &Ctx<'_>,
) -> Result<VideoFrameLabel, FormatError> {
    let mut o = Obj::new(value, path, ctx)?;
    let frame_no = o.req_index("frame-no")?;
    let frame = o.req_str("frame")?;
    let frame_attributes = o.opt_map("frame-attributes")?;
    let boxes = o.opt_array("annotations", |v, p| {
        let mut s = Obj::new(v, p, ctx)?;
        let info = ShapeInfo::read(&mut s)?;
        Ok(VideoBox {
            info,
            left: s.req_f64("left")?,
            top: s.req_f64("top")?,
            width: s.req_f64("width")?,
            height: s.req_f64("height")?,
            extra: s.rest(),
        })
    })?;
    let poly = |o: &mut Obj<'_>, key: &str| {
        o.opt_array(key, |v, p| {
            let mut s = Obj::new(v, p, ctx)?;
            let info = ShapeInfo::read(&mut s)?;
            let vertices = read_vertices(&mut s)?;
            Ok(VideoPolyline { info, vertices, extra: s.rest() })
        })
    };
    let polylines = poly(&mut o, "polylines")?;
    let polygons = poly(&mut o, "polygons")?;
    let keypoints = o.opt_array("keypoints", |v, p| {
        let mut s = Obj::new(v, p, ctx)?;
        let info = ShapeInfo::read(&mut s)?;
        Ok(VideoKeypoint { info, x: s.req_f64("x")?, y: s.req_f64("y")?, extra: s.rest() })
    })?;
    Ok(VideoFrameLabel {
        frame_no,
        frame,
        frame_attributes,
        boxes,
        polylines,
        polygons,
        keypoints,
        extra: o.rest(),
    })
}

fn video_frame_value(f: &VideoFrameLabel) -> Value {
    let shapes = |items: Vec<Value>| Value::Array(items);
    let poly_value = |list: &Vec<VideoPolyline>| {
        shapes(
            list.iter()
                .map(|p| {
                    let mut w = ObjWriter::new();
                    p.info.write(&mut w);
                    let vertices = p
                        .vertices
                        .iter()
                        .map(|v| {
                            ObjWriter::new()
                                .put_num("x", v.x)
                                .put_num("y", v.y)
                                .extend(&v.extra)
                                .value()
                        })
                        .collect();
                    w.put("vertices", Value::Array(vertices)).extend(&p.extra).value()
                })
                .collect(),
        )
    };
    let mut w = ObjWriter::new();
    w.put("frame-no", f.frame_no.to_value())
        .put_str("frame", &f.frame)
        .put_opt("frame-attributes", f.frame_attributes.clone().map(Value::Object))
        .put_opt(
            "annotations",
            f.boxes.as_ref().map(|boxes| {
                shapes(
                    boxes
                        .iter()
                        .map(|b| {
                            let mut w = ObjWriter::new();
                            w.put_num("height", b.height)
                                .put_num("width", b.width)
                                .put_num("top", b.top)
                                .put_num("left", b.left);
                            b.info.write(&mut w);
                            w.extend(&b.extra).value()
                        })
                        .collect(),
                )
            }),
        )
        .put_opt("polylines", f.polylines.as_ref().map(poly_value))
        .put_opt("polygons", f.polygons.as_ref().map(poly_value))
        .put_opt(
            "keypoints",
            f.keypoints.as_ref().map(|points| {
                shapes(
                    points
                        .iter()
                        .map(|k| {
                            let mut w = ObjWriter::new();
                            k.info.write(&mut w);
                            w.put_num("x", k.x).put_num("y", k.y).extend(&k.extra).value()
                        })
                        .collect(),
                )
            }),
        );
    w.extend(&f.extra).value()
}

impl VideoSeqLabel {
    /// Parses a file.
    pub fn parse(text: &str, file: &str) -> Result<Self, FormatError> {
        Self::from_value(&parse_value(text, file, 1)?, file)
    }

    /// Decodes a parsed file.
    pub fn from_value(value: &Value, file: &str) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, None);
        Self::read(value, "", &ctx)
    }

    fn read(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Self, FormatError> {
        let mut o = Obj::new(value, path, ctx)?;
        let kind = if o.contains(VideoSeqLabelKind::Detection.key()) {
            VideoSeqLabelKind::Detection
        } else if o.contains(VideoSeqLabelKind::Tracking.key()) {
            VideoSeqLabelKind::Tracking
        } else {
            return Err(ctx
                .error(path, "expected a `detection-annotations` or `tracking-annotations` list"));
        };
        let frames = o.req_array(kind.key(), |v, p| read_video_frame(v, p, ctx))?;
        Ok(Self { kind, frames, extra: o.rest() })
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        ObjWriter::new()
            .put(self.kind.key(), Value::Array(self.frames.iter().map(video_frame_value).collect()))
            .extend(&self.extra)
            .value()
    }
}

/// The cuboids of one point-cloud frame.
#[derive(Debug, Clone, PartialEq)]
pub struct PointCloudFrameLabel {
    /// `frame-number`: 0-based position in the sequence.
    pub frame_number: Index,
    /// `frame-name`.
    pub frame_name: String,
    /// `frame-attributes`.
    pub frame_attributes: Option<Map<String, Value>>,
    /// `annotations`: cuboids.
    pub annotations: Vec<Cuboid>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// A 3D point-cloud tracking `SeqLabel.json` (`tracking-annotations`).
#[derive(Debug, Clone, PartialEq)]
pub struct PointCloudSeqLabel {
    /// One entry per frame.
    pub frames: Vec<PointCloudFrameLabel>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl PointCloudSeqLabel {
    /// Parses a file.
    pub fn parse(text: &str, file: &str) -> Result<Self, FormatError> {
        Self::from_value(&parse_value(text, file, 1)?, file)
    }

    /// Decodes a parsed file.
    pub fn from_value(value: &Value, file: &str) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, None);
        Self::read(value, "", &ctx)
    }

    fn read(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Self, FormatError> {
        let mut o = Obj::new(value, path, ctx)?;
        let frames = o.req_array("tracking-annotations", |v, p| {
            let mut f = Obj::new(v, p, ctx)?;
            Ok(PointCloudFrameLabel {
                frame_number: f.req_index("frame-number")?,
                frame_name: f.req_str("frame-name")?,
                frame_attributes: f.opt_map("frame-attributes")?,
                annotations: f.req_array("annotations", |v, p| Cuboid::read(v, p, ctx))?,
                extra: f.rest(),
            })
        })?;
        Ok(Self { frames, extra: o.rest() })
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        let frames = self
            .frames
            .iter()
            .map(|f| {
                ObjWriter::new()
                    .put("frame-number", f.frame_number.to_value())
                    .put_str("frame-name", &f.frame_name)
                    .put(
                        "annotations",
                        Value::Array(f.annotations.iter().map(Cuboid::to_value).collect()),
                    )
                    .put_opt("frame-attributes", f.frame_attributes.clone().map(Value::Object))
                    .extend(&f.extra)
                    .value()
            })
            .collect();
        ObjWriter::new()
            .put("tracking-annotations", Value::Array(frames))
            .extend(&self.extra)
            .value()
    }
}

/// A 3D-2D linking `SeqLabel.json`: the lidar track plus per-camera boxes.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorFusionSeqLabel {
    /// `lidar`.
    pub lidar: PointCloudSeqLabel,
    /// `camera-<n>` entries in file order: (key, boxes).
    pub cameras: Vec<(String, VideoSeqLabel)>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl SensorFusionSeqLabel {
    /// Parses a file.
    pub fn parse(text: &str, file: &str) -> Result<Self, FormatError> {
        Self::from_value(&parse_value(text, file, 1)?, file)
    }

    /// Decodes a parsed file.
    pub fn from_value(value: &Value, file: &str) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, None);
        let map = value
            .as_object()
            .ok_or_else(|| ctx.error("", format!("expected an object, found {}", kind(value))))?;
        let lidar_value =
            map.get("lidar").ok_or_else(|| ctx.error("lidar", "required field is missing"))?;
        let lidar = PointCloudSeqLabel::read(lidar_value, "lidar", &ctx)?;
        let mut cameras = Vec::new();
        let mut extra = Map::new();
        for (key, v) in map {
            if key == "lidar" {
                continue;
            }
            if is_camera_key(key) {
                cameras.push((key.clone(), VideoSeqLabel::read(v, key, &ctx)?));
            } else {
                extra.insert(key.clone(), v.clone());
            }
        }
        Ok(Self { lidar, cameras, extra })
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        let mut w = ObjWriter::new();
        w.put("lidar", self.lidar.to_value());
        for (key, camera) in &self.cameras {
            w.put(key, camera.to_value());
        }
        w.extend(&self.extra).value()
    }
}

/// `camera-<digits>`.
fn is_camera_key(key: &str) -> bool {
    key.strip_prefix("camera-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Any `SeqLabel.json`, recognised by its content.
#[derive(Debug, Clone, PartialEq)]
pub enum SeqLabel {
    /// Video frame detection or tracking.
    Video(VideoSeqLabel),
    /// 3D point-cloud tracking.
    PointCloud(PointCloudSeqLabel),
    /// 3D-2D linking.
    SensorFusion(SensorFusionSeqLabel),
}

impl SeqLabel {
    /// Parses a file and decides its kind: `lidar` → 3D-2D; `detection-annotations` → video;
    /// `tracking-annotations` whose frames use `frame-number`/`frame-name` → 3D, otherwise video
    /// (an empty list is read as video: it carries no frames to tell them apart).
    pub fn parse(text: &str, file: &str) -> Result<Self, FormatError> {
        Self::from_value(&parse_value(text, file, 1)?, file)
    }

    /// Decodes a parsed file (see [`SeqLabel::parse`]).
    pub fn from_value(value: &Value, file: &str) -> Result<Self, FormatError> {
        let Some(map) = value.as_object() else {
            return Err(Ctx::new(file, None)
                .error("", format!("expected an object, found {}", kind(value))));
        };
        if map.contains_key("lidar") {
            return SensorFusionSeqLabel::from_value(value, file).map(Self::SensorFusion);
        }
        let is_point_cloud = map
            .get("tracking-annotations")
            .and_then(Value::as_array)
            .and_then(|frames| frames.first())
            .and_then(Value::as_object)
            .is_some_and(|f| f.contains_key("frame-number") || f.contains_key("frame-name"));
        if is_point_cloud {
            PointCloudSeqLabel::from_value(value, file).map(Self::PointCloud)
        } else {
            VideoSeqLabel::from_value(value, file).map(Self::Video)
        }
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Video(v) => v.to_value(),
            Self::PointCloud(p) => p.to_value(),
            Self::SensorFusion(s) => s.to_value(),
        }
    }

    /// Pretty-printed JSON text.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn video_tracking_boxes_round_trip() {
        let v = json!({"tracking-annotations": [{
            "frame-no": 0, "frame": "frame_0001.jpeg", "frame-attributes": {"visibility": "clear"},
            "annotations": [{"height": 36, "width": 46, "top": 178, "left": 315, "class-id": "0",
                "label-category-attributes": {"occluded": "no"},
                "object-id": "480dc450-c0ca-11ea-961f-a9b1c5c97972", "object-name": "car:1"}]}]});
        let s = SeqLabel::from_value(&v, "SeqLabel.json").unwrap();
        let SeqLabel::Video(video) = &s else { panic!("{s:?}") };
        assert_eq!(video.kind, VideoSeqLabelKind::Tracking);
        let b = &video.frames[0].boxes.as_ref().unwrap()[0];
        assert_eq!(b.info.class_id, Index::string(0));
        assert_eq!((b.left, b.top, b.width, b.height), (315.0, 178.0, 46.0, 36.0));
        assert_eq!(s.to_value(), v);
        assert_eq!(SeqLabel::parse(&s.to_json_pretty(), "x").unwrap(), s);
    }

    #[test]
    fn polylines_polygons_and_keypoints() {
        let v = json!({"detection-annotations": [{
            "frame-no": 3, "frame": "f.png", "frame-attributes": {},
            "polylines": [{"class-id": "1", "label-category-attributes": {}, "vertices": [{"x": 1, "y": 2.5}, {"x": 3, "y": 4}]}],
            "polygons": [{"class-id": "2", "vertices": [{"x": 0, "y": 0}, {"x": 5, "y": 0}, {"x": 5, "y": 5}]}],
            "keypoints": [{"class-id": "0", "object-name": "nose:1", "x": 10.5, "y": 20}]}]});
        let s = VideoSeqLabel::from_value(&v, "d.json").unwrap();
        assert_eq!(s.kind, VideoSeqLabelKind::Detection);
        let f = &s.frames[0];
        assert_eq!(f.polylines.as_ref().unwrap()[0].vertices[0].y, 2.5);
        assert_eq!(f.polygons.as_ref().unwrap()[0].vertices.len(), 3);
        assert_eq!(f.keypoints.as_ref().unwrap()[0].info.object_name.as_deref(), Some("nose:1"));
        assert_eq!(s.to_value(), v);
    }

    #[test]
    fn point_cloud_and_sensor_fusion() {
        let cuboid = json!({"label-category-attributes": {}, "object-name": "Car:4", "class-id": 0,
            "center-x": -2.29, "center-y": 103.74, "center-z": 0.376, "length": 4, "width": 2, "height": 2,
            "roll": 0, "pitch": 0, "yaw": 1.583, "object-id": "ae5dc770-a782-11ea-b57d-67c51a0561a1"});
        let lidar = json!({"tracking-annotations": [{"frame-number": 0, "frame-name": "0.txt.pcd",
            "frame-attributes": {}, "annotations": [cuboid]}]});
        let s = SeqLabel::from_value(&lidar, "p.json").unwrap();
        let SeqLabel::PointCloud(p) = &s else { panic!("{s:?}") };
        assert_eq!(p.frames[0].annotations[0].yaw, 1.583);
        assert_eq!(s.to_value(), lidar);

        let fused = json!({"lidar": lidar, "camera-0": {"tracking-annotations": [{"frame-no": 0, "frame": "0.txt.pcd",
            "frame-attributes": {}, "annotations": [{"label-category-attributes": {"Occlusion": "Partial"},
            "object-name": "Car:4", "class-id": 0, "width": 223, "height": 164, "top": 225, "left": 486,
            "object-id": "ae5dc770-a782-11ea-b57d-67c51a0561a1"}]}]}});
        let s = SeqLabel::from_value(&fused, "f.json").unwrap();
        let SeqLabel::SensorFusion(f) = &s else { panic!("{s:?}") };
        assert_eq!(f.cameras[0].0, "camera-0");
        let cam_box = &f.cameras[0].1.frames[0].boxes.as_ref().unwrap()[0];
        assert_eq!(cam_box.info.object_id, f.lidar.frames[0].annotations[0].object_id);
        assert_eq!(cam_box.info.class_id, Index::number(0));
        assert_eq!(s.to_value(), fused);
    }

    #[test]
    fn errors_name_the_field() {
        let v = json!({"tracking-annotations": [{"frame-number": 0, "frame-name": "a",
            "annotations": [{"class-id": 0, "center-x": "1"}]}]});
        let e = SeqLabel::from_value(&v, "s.json").unwrap_err().to_string();
        assert_eq!(
            e,
            "s.json: field `tracking-annotations[0].annotations[0].center-x`: expected a number, found a string"
        );
        let e = SeqLabel::from_value(&json!({"frames": []}), "s.json").unwrap_err().to_string();
        assert!(e.contains("detection-annotations"), "{e}");
        let v = json!({"lidar": {"tracking-annotations": []}, "camera-1": {"tracking-annotations": [{"frame-no": "x", "frame": "a"}]}});
        let e = SeqLabel::from_value(&v, "f.json").unwrap_err().to_string();
        assert!(e.starts_with("f.json: field `camera-1.tracking-annotations[0].frame-no`"), "{e}");
    }
}
