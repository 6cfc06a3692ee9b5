//! Sequence files and frame metadata (spec §2.2, §3.2, §3.3): video-frame sequence files, 3D
//! point-cloud single-frame manifest lines (`source-ref` + `source-ref-metadata`) and point-cloud
//! sequence files, with ego-vehicle pose and camera images (intrinsics, distortion, skew and the
//! camera's pose in world coordinates).
//!
//! The manifests that list sequence files are plain input manifests (`{"source-ref": "s3://…/seq1.json"}`)
//! read with [`crate::formats::manifest`]. Readers keep unknown keys on every object; writers emit
//! the spec's key order and spelling (`camera-model`, never `camera_model`). Structural problems
//! (wrong types, missing required fields) are errors; rule checks (frame count, prefix ending in
//! `/`, increasing timestamps, quotas) are [`Finding`]s from `check()`.
//!
//! Must not depend on other `formats` modules except `error`, `json` and `manifest`.

use serde_json::{Map, Value};

use super::error::{FormatError, Location};
use super::json::{Ctx, Index, Obj, ObjWriter, parse_value};
use super::manifest::{DataSource, ManifestLine};

/// A rule a file breaks that does not stop it from being read (a validation finding, not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where (file, line, field).
    pub location: Location,
    /// What rule is broken, in words a user can act on.
    pub message: String,
}

/// Most frames in one video-frame sequence (§2.4).
pub const MAX_VIDEO_FRAMES_PER_SEQUENCE: usize = 2_000;
/// Most frames in one point-cloud sequence (§3.3).
pub const MAX_POINT_CLOUD_FRAMES_PER_SEQUENCE: usize = 500;
/// Most camera images per point-cloud frame (§3.2).
pub const MAX_IMAGES_PER_FRAME: usize = 8;

/// A position `{x, y, z}` in metres.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Position {
    /// x (metres).
    pub x: f64,
    /// y (metres).
    pub y: f64,
    /// z (metres).
    pub z: f64,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// An orientation quaternion `{qx, qy, qz, qw}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Heading {
    /// x component.
    pub qx: f64,
    /// y component.
    pub qy: f64,
    /// z component.
    pub qz: f64,
    /// w (scalar) component.
    pub qw: f64,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl Default for Heading {
    /// The identity rotation, which the spec says to use when the pose is unknown.
    fn default() -> Self {
        Self { qx: 0.0, qy: 0.0, qz: 0.0, qw: 1.0, extra: Map::new() }
    }
}

/// A pose in world coordinates: `world_from_sensor` as position + heading (§3.4).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pose {
    /// Origin of the sensor in world coordinates.
    pub position: Position,
    /// Orientation of the sensor in world coordinates.
    pub heading: Heading,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// The camera model of a sensor-fusion image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraModel {
    /// `pinhole` (the default).
    Pinhole,
    /// `fisheye`.
    Fisheye,
    /// Any other string, kept as read.
    Other(String),
}

impl CameraModel {
    fn parse(s: &str) -> Self {
        match s {
            "pinhole" => Self::Pinhole,
            "fisheye" => Self::Fisheye,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The JSON string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pinhole => "pinhole",
            Self::Fisheye => "fisheye",
            Self::Other(s) => s,
        }
    }
}

/// One camera image attached to a point-cloud frame (§3.2 `images[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct CameraImage {
    /// `image-path`: relative to the frame's `prefix`.
    pub image_path: String,
    /// `unix-timestamp`: seconds since the epoch.
    pub unix_timestamp_secs: f64,
    /// `camera-model` (read from `camera-model` or `camera_model`); `None` means pinhole.
    pub camera_model: Option<CameraModel>,
    /// Focal length x (pixels).
    pub fx: f64,
    /// Focal length y (pixels).
    pub fy: f64,
    /// Principal point x (pixels).
    pub cx: f64,
    /// Principal point y (pixels).
    pub cy: f64,
    /// Radial distortion k1.
    pub k1: Option<f64>,
    /// Radial distortion k2.
    pub k2: Option<f64>,
    /// Radial distortion k3.
    pub k3: Option<f64>,
    /// Radial distortion k4.
    pub k4: Option<f64>,
    /// Tangential distortion p1 (pinhole only).
    pub p1: Option<f64>,
    /// Tangential distortion p2 (pinhole only).
    pub p2: Option<f64>,
    /// Skew.
    pub skew: Option<f64>,
    /// Camera pose in world coordinates (`position` and `heading`); `pose.extra` stays empty.
    pub world_from_camera: Pose,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// Per-frame point-cloud metadata: the `source-ref-metadata` of a single-frame line (§3.2), and
/// the optional fields of a sequence frame (§3.3).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameMetadata {
    /// `format`, e.g. `binary/xyzi`; `None` means the default for the file extension.
    pub format: Option<String>,
    /// `unix-timestamp` (seconds, fractional allowed). Required.
    pub unix_timestamp_secs: f64,
    /// `ego-vehicle-pose`: `world_from_lidar`.
    pub ego_vehicle_pose: Option<Pose>,
    /// `prefix` for `images[].image-path`.
    pub prefix: Option<String>,
    /// Camera images (≤ 8).
    pub images: Option<Vec<CameraImage>>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl FrameMetadata {
    /// The `format` to use for `frame_path`: the explicit one, else `binary/xyzi` for `.bin`,
    /// `text/xyzi` for `.txt` (and anything else).
    pub fn effective_format(&self, frame_path: &str) -> &str {
        match &self.format {
            Some(f) => f,
            None if frame_path.to_ascii_lowercase().ends_with(".bin") => "binary/xyzi",
            None => "text/xyzi",
        }
    }

    fn read_fields(o: &mut Obj<'_>) -> Result<Self, FormatError> {
        let format = o.opt_str("format")?;
        let unix_timestamp_secs = o.req_f64("unix-timestamp")?;
        let ego_vehicle_pose = match o.get("ego-vehicle-pose") {
            Some(v) => Some(read_pose(v, &o.path_of("ego-vehicle-pose"), o.ctx())?),
            None => None,
        };
        let prefix = o.opt_str("prefix")?;
        let ctx = o.ctx();
        let images = o.opt_array("images", |v, path| read_camera_image(v, path, ctx))?;
        Ok(Self {
            format,
            unix_timestamp_secs,
            ego_vehicle_pose,
            prefix,
            images,
            extra: Map::new(),
        })
    }

    fn write_fields(&self, w: &mut ObjWriter) {
        w.put_opt_str("format", self.format.as_deref());
        w.put_num("unix-timestamp", self.unix_timestamp_secs);
        w.put_opt("ego-vehicle-pose", self.ego_vehicle_pose.as_ref().map(pose_value));
        w.put_opt_str("prefix", self.prefix.as_deref());
        w.put_opt(
            "images",
            self.images
                .as_ref()
                .map(|imgs| Value::Array(imgs.iter().map(camera_image_value).collect())),
        );
    }

    /// Decodes a `source-ref-metadata` object.
    pub fn from_value(value: &Value, file: &str, line: Option<usize>) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, line);
        read_frame_metadata(value, "source-ref-metadata", &ctx)
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        let mut w = ObjWriter::new();
        self.write_fields(&mut w);
        w.extend(&self.extra).value()
    }

    fn check(&self, ctx: &Ctx<'_>, path: &str, findings: &mut Vec<Finding>) {
        if let Some(prefix) = &self.prefix {
            check_prefix(prefix, ctx, &format!("{path}prefix"), findings);
        }
        if let Some(images) = &self.images
            && images.len() > MAX_IMAGES_PER_FRAME
        {
            findings.push(Finding {
                location: ctx.location(&format!("{path}images")),
                message: format!(
                    "{} camera images; Ground Truth allows at most {MAX_IMAGES_PER_FRAME} per frame",
                    images.len()
                ),
            });
        }
    }
}

fn read_frame_metadata(
    value: &Value,
    path: &str,
    ctx: &Ctx<'_>,
) -> Result<FrameMetadata, FormatError> {
    let mut o = Obj::new(value, path, ctx)?;
    let mut meta = FrameMetadata::read_fields(&mut o)?;
    meta.extra = o.rest();
    Ok(meta)
}

fn read_position(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Position, FormatError> {
    let mut o = Obj::new(value, path, ctx)?;
    Ok(Position { x: o.req_f64("x")?, y: o.req_f64("y")?, z: o.req_f64("z")?, extra: o.rest() })
}

fn read_heading(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Heading, FormatError> {
    let mut o = Obj::new(value, path, ctx)?;
    Ok(Heading {
        qx: o.req_f64("qx")?,
        qy: o.req_f64("qy")?,
        qz: o.req_f64("qz")?,
        qw: o.req_f64("qw")?,
        extra: o.rest(),
    })
}

/// Reads `position` and `heading` from `o` (both required).
fn read_pose_fields(o: &mut Obj<'_>) -> Result<Pose, FormatError> {
    let ctx = o.ctx();
    let position = read_position(o.req("position")?, &o.path_of("position"), ctx)?;
    let heading = read_heading(o.req("heading")?, &o.path_of("heading"), ctx)?;
    Ok(Pose { position, heading, extra: Map::new() })
}

fn read_pose(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<Pose, FormatError> {
    let mut o = Obj::new(value, path, ctx)?;
    let mut pose = read_pose_fields(&mut o)?;
    pose.extra = o.rest();
    Ok(pose)
}

fn position_value(p: &Position) -> Value {
    ObjWriter::new().put_num("x", p.x).put_num("y", p.y).put_num("z", p.z).extend(&p.extra).value()
}

fn heading_value(h: &Heading) -> Value {
    ObjWriter::new()
        .put_num("qx", h.qx)
        .put_num("qy", h.qy)
        .put_num("qz", h.qz)
        .put_num("qw", h.qw)
        .extend(&h.extra)
        .value()
}

fn pose_value(p: &Pose) -> Value {
    ObjWriter::new()
        .put("position", position_value(&p.position))
        .put("heading", heading_value(&p.heading))
        .extend(&p.extra)
        .value()
}

fn read_camera_image(value: &Value, path: &str, ctx: &Ctx<'_>) -> Result<CameraImage, FormatError> {
    let mut o = Obj::new(value, path, ctx)?;
    let image_path = o.req_str("image-path")?;
    let unix_timestamp_secs = o.req_f64("unix-timestamp")?;
    let camera_model = match o.get_any(&["camera-model", "camera_model"]) {
        None => None,
        Some((_, Value::String(s))) => Some(CameraModel::parse(s)),
        Some((key, other)) => {
            return Err(
                o.error(key, format!("expected a string, found {}", super::json::kind(other)))
            );
        }
    };
    let image = CameraImage {
        image_path,
        unix_timestamp_secs,
        camera_model,
        fx: o.req_f64("fx")?,
        fy: o.req_f64("fy")?,
        cx: o.req_f64("cx")?,
        cy: o.req_f64("cy")?,
        k1: o.opt_f64("k1")?,
        k2: o.opt_f64("k2")?,
        k3: o.opt_f64("k3")?,
        k4: o.opt_f64("k4")?,
        p1: o.opt_f64("p1")?,
        p2: o.opt_f64("p2")?,
        skew: o.opt_f64("skew")?,
        world_from_camera: read_pose_fields(&mut o)?,
        extra: Map::new(),
    };
    Ok(CameraImage { extra: o.rest(), ..image })
}

fn camera_image_value(c: &CameraImage) -> Value {
    ObjWriter::new()
        .put_str("image-path", &c.image_path)
        .put_num("unix-timestamp", c.unix_timestamp_secs)
        .put_num("fx", c.fx)
        .put_num("fy", c.fy)
        .put_num("cx", c.cx)
        .put_num("cy", c.cy)
        .put_opt_num("k1", c.k1)
        .put_opt_num("k2", c.k2)
        .put_opt_num("k3", c.k3)
        .put_opt_num("k4", c.k4)
        .put_opt_num("p1", c.p1)
        .put_opt_num("p2", c.p2)
        .put_opt_num("skew", c.skew)
        .put("position", position_value(&c.world_from_camera.position))
        .put("heading", heading_value(&c.world_from_camera.heading))
        .put_opt_str("camera-model", c.camera_model.as_ref().map(CameraModel::as_str))
        .extend(&c.extra)
        .value()
}

fn check_prefix(prefix: &str, ctx: &Ctx<'_>, path: &str, findings: &mut Vec<Finding>) {
    if !prefix.ends_with('/') {
        findings.push(Finding {
            location: ctx.location(path),
            message: format!("prefix {prefix:?} must end with `/`"),
        });
    }
}

/// A 3D single-frame input-manifest line (§3.2): `source-ref` of one point-cloud file plus its
/// `source-ref-metadata`.
#[derive(Debug, Clone, PartialEq)]
pub struct PointCloudFrameLine {
    /// `source-ref`: the point-cloud file.
    pub source_ref: String,
    /// `source-ref-metadata`.
    pub metadata: FrameMetadata,
    /// Every other key of the line, in order.
    pub extra: Map<String, Value>,
}

impl PointCloudFrameLine {
    /// Decodes a manifest line; fails when it has no `source-ref` or no valid metadata.
    pub fn from_manifest_line(
        line: &ManifestLine,
        file: &str,
        line_no: Option<usize>,
    ) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, line_no);
        let DataSource::SourceRef(source_ref) = &line.source else {
            return Err(
                ctx.error("source", "a point-cloud frame line needs `source-ref`, not `source`")
            );
        };
        let mut extra = line.extra.clone();
        let meta_value = extra
            .shift_remove("source-ref-metadata")
            .ok_or_else(|| ctx.error("source-ref-metadata", "required field is missing"))?;
        let metadata = read_frame_metadata(&meta_value, "source-ref-metadata", &ctx)?;
        Ok(Self { source_ref: source_ref.clone(), metadata, extra })
    }

    /// Parses one JSON line of text.
    pub fn parse_line(text: &str, file: &str, line: usize) -> Result<Self, FormatError> {
        let manifest_line = ManifestLine::parse_line(text, file, line)?;
        Self::from_manifest_line(&manifest_line, file, Some(line))
    }

    /// Back to a generic manifest line (`source-ref`, `source-ref-metadata`, then the other keys).
    pub fn to_manifest_line(&self) -> ManifestLine {
        let mut extra = Map::with_capacity(self.extra.len() + 1);
        extra.insert("source-ref-metadata".to_owned(), self.metadata.to_value());
        extra.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        ManifestLine { source: DataSource::SourceRef(self.source_ref.clone()), extra }
    }

    /// The line as a JSON object.
    pub fn to_value(&self) -> Value {
        self.to_manifest_line().to_value()
    }

    /// Rule checks (prefix ends in `/`, ≤ 8 images).
    pub fn check(&self, file: &str, line: Option<usize>) -> Vec<Finding> {
        let ctx = Ctx::new(file, line);
        let mut findings = Vec::new();
        self.metadata.check(&ctx, "source-ref-metadata.", &mut findings);
        findings
    }
}

/// One frame of a video-frame sequence file (§2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct VideoFrame {
    /// `frame-no`: the frame's order number.
    pub frame_no: Index,
    /// `unix-timestamp`: capture time in seconds, optional.
    pub unix_timestamp_secs: Option<f64>,
    /// `frame`: image file name relative to the sequence `prefix`.
    pub frame: String,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

/// A video-frame sequence file (§2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSequence {
    /// `seq-no`.
    pub seq_no: Index,
    /// `prefix`: `s3://bucket/folder/` holding the frames; must end with `/`.
    pub prefix: String,
    /// `number-of-frames`: must equal `frames.len()`.
    pub number_of_frames: Index,
    /// The frames, in file order.
    pub frames: Vec<VideoFrame>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl VideoSequence {
    /// Parses a sequence file.
    pub fn parse(text: &str, file: &str) -> Result<Self, FormatError> {
        Self::from_value(&parse_value(text, file, 1)?, file)
    }

    /// Decodes a parsed sequence file.
    pub fn from_value(value: &Value, file: &str) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, None);
        let mut o = Obj::new(value, "", &ctx)?;
        let seq_no = o.req_index("seq-no")?;
        let prefix = o.req_str("prefix")?;
        let number_of_frames = o.req_index("number-of-frames")?;
        let frames = o.req_array("frames", |v, path| {
            let mut f = Obj::new(v, path, &ctx)?;
            Ok(VideoFrame {
                frame_no: f.req_index("frame-no")?,
                unix_timestamp_secs: f.opt_f64("unix-timestamp")?,
                frame: f.req_str("frame")?,
                extra: f.rest(),
            })
        })?;
        Ok(Self { seq_no, prefix, number_of_frames, frames, extra: o.rest() })
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        let frames = self
            .frames
            .iter()
            .map(|f| {
                ObjWriter::new()
                    .put("frame-no", f.frame_no.to_value())
                    .put_opt_num("unix-timestamp", f.unix_timestamp_secs)
                    .put_str("frame", &f.frame)
                    .extend(&f.extra)
                    .value()
            })
            .collect();
        ObjWriter::new()
            .put("seq-no", self.seq_no.to_value())
            .put_str("prefix", &self.prefix)
            .put("number-of-frames", self.number_of_frames.to_value())
            .put("frames", Value::Array(frames))
            .extend(&self.extra)
            .value()
    }

    /// Pretty-printed JSON text.
    pub fn to_json_pretty(&self) -> String {
        pretty(&self.to_value())
    }

    /// Rule checks: prefix ends in `/`, `number-of-frames` = frame count, ≤ 2,000 frames.
    pub fn check(&self, file: &str) -> Vec<Finding> {
        let ctx = Ctx::new(file, None);
        let mut findings = Vec::new();
        check_prefix(&self.prefix, &ctx, "prefix", &mut findings);
        check_frame_count(self.number_of_frames, self.frames.len(), &ctx, &mut findings);
        if self.frames.len() > MAX_VIDEO_FRAMES_PER_SEQUENCE {
            findings.push(Finding {
                location: ctx.location("frames"),
                message: format!(
                    "{} frames; a video-frame sequence may have at most {MAX_VIDEO_FRAMES_PER_SEQUENCE}",
                    self.frames.len()
                ),
            });
        }
        findings
    }
}

fn check_frame_count(declared: Index, actual: usize, ctx: &Ctx<'_>, findings: &mut Vec<Finding>) {
    if declared.value != actual as u64 {
        findings.push(Finding {
            location: ctx.location("number-of-frames"),
            message: format!("number-of-frames is {declared} but `frames` lists {actual}"),
        });
    }
}

fn pretty(value: &Value) -> String {
    // Serialising a `Value` cannot fail (all keys are strings).
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// One frame of a point-cloud sequence file (§3.3).
#[derive(Debug, Clone, PartialEq)]
pub struct PointCloudSequenceFrame {
    /// `frame-no`: the user's own identifier, optional, not used by Ground Truth.
    pub frame_no: Option<Index>,
    /// `frame`: the point-cloud file, relative to the sequence `prefix`.
    pub frame: String,
    /// `unix-timestamp`, `format`, `ego-vehicle-pose`, `prefix`, `images`, and unknown keys.
    pub metadata: FrameMetadata,
}

/// A point-cloud sequence file (§3.3).
#[derive(Debug, Clone, PartialEq)]
pub struct PointCloudSequence {
    /// `seq-no`.
    pub seq_no: Index,
    /// `prefix`: base of each `frames[].frame`; must end with `/`.
    pub prefix: String,
    /// `number-of-frames`: must equal `frames.len()`.
    pub number_of_frames: Index,
    /// Frames in the order the worker sees them.
    pub frames: Vec<PointCloudSequenceFrame>,
    /// Unknown keys, kept.
    pub extra: Map<String, Value>,
}

impl PointCloudSequence {
    /// Parses a sequence file.
    pub fn parse(text: &str, file: &str) -> Result<Self, FormatError> {
        Self::from_value(&parse_value(text, file, 1)?, file)
    }

    /// Decodes a parsed sequence file.
    pub fn from_value(value: &Value, file: &str) -> Result<Self, FormatError> {
        let ctx = Ctx::new(file, None);
        let mut o = Obj::new(value, "", &ctx)?;
        let seq_no = o.req_index("seq-no")?;
        let prefix = o.req_str("prefix")?;
        let number_of_frames = o.req_index("number-of-frames")?;
        let frames = o.req_array("frames", |v, path| {
            let mut f = Obj::new(v, path, &ctx)?;
            let frame_no = f.opt_index("frame-no")?;
            let frame = f.req_str("frame")?;
            let mut metadata = FrameMetadata::read_fields(&mut f)?;
            metadata.extra = f.rest();
            Ok(PointCloudSequenceFrame { frame_no, frame, metadata })
        })?;
        Ok(Self { seq_no, prefix, number_of_frames, frames, extra: o.rest() })
    }

    /// The JSON object.
    pub fn to_value(&self) -> Value {
        let frames = self
            .frames
            .iter()
            .map(|f| {
                let mut w = ObjWriter::new();
                w.put_opt("frame-no", f.frame_no.map(Index::to_value));
                w.put_num("unix-timestamp", f.metadata.unix_timestamp_secs);
                w.put_str("frame", &f.frame);
                f.metadata.write_fields(&mut w);
                w.extend(&f.metadata.extra).value()
            })
            .collect();
        ObjWriter::new()
            .put("seq-no", self.seq_no.to_value())
            .put_str("prefix", &self.prefix)
            .put("number-of-frames", self.number_of_frames.to_value())
            .put("frames", Value::Array(frames))
            .extend(&self.extra)
            .value()
    }

    /// Pretty-printed JSON text.
    pub fn to_json_pretty(&self) -> String {
        pretty(&self.to_value())
    }

    /// Rule checks: prefixes end in `/`, frame count matches, ≤ 500 frames, timestamps distinct
    /// and increasing, ≤ 8 images per frame.
    pub fn check(&self, file: &str) -> Vec<Finding> {
        let ctx = Ctx::new(file, None);
        let mut findings = Vec::new();
        check_prefix(&self.prefix, &ctx, "prefix", &mut findings);
        check_frame_count(self.number_of_frames, self.frames.len(), &ctx, &mut findings);
        if self.frames.len() > MAX_POINT_CLOUD_FRAMES_PER_SEQUENCE {
            findings.push(Finding {
                location: ctx.location("frames"),
                message: format!(
                    "{} frames; a point-cloud sequence may have at most {MAX_POINT_CLOUD_FRAMES_PER_SEQUENCE}",
                    self.frames.len()
                ),
            });
        }
        for (i, pair) in self.frames.windows(2).enumerate() {
            if let [a, b] = pair
                && b.metadata.unix_timestamp_secs <= a.metadata.unix_timestamp_secs
            {
                findings.push(Finding {
                    location: ctx.location(&format!("frames[{}].unix-timestamp", i + 1)),
                    message: "frame timestamps must be distinct and increasing".to_owned(),
                });
            }
        }
        for (i, f) in self.frames.iter().enumerate() {
            f.metadata.check(&ctx, &format!("frames[{i}]."), &mut findings);
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn spec_point_cloud_sequence() -> Value {
        json!({
          "seq-no": 1,
          "prefix": "s3://example-bucket/lidar_sequences/seq1/",
          "number-of-frames": 2,
          "frames": [
            {
              "frame-no": 300,
              "unix-timestamp": 1566861644.759115,
              "frame": "frames/frame300.bin",
              "format": "binary/xyzi",
              "ego-vehicle-pose": {"position": {"x": -2.716, "y": 116.258, "z": 1.835}, "heading": {"qx": -0.0211, "qy": -0.0065, "qz": -0.0080, "qw": 0.9997}},
              "prefix": "s3://example-bucket/lidar_sequences/seq1/",
              "images": [{"image-path": "images/frame300_camera0.jpg", "unix-timestamp": 1566861644.759115, "fx": 847.8, "fy": 850.0, "cx": 576.2, "cy": 317.2, "position": {"x": -2.27, "y": 116.86, "z": 1.45}, "heading": {"qx": 0.7595, "qy": 0.0218, "qz": -0.0246, "qw": -0.6497}, "camera-model": "pinhole"}]
            },
            {"frame-no": 301, "unix-timestamp": 1566861644.859115, "frame": "frames/frame301.txt", "format": "text/xyzi", "sensor": "lidar-top"}
          ]
        })
    }

    #[test]
    fn point_cloud_sequence_round_trips_and_types_the_pose() {
        let v = spec_point_cloud_sequence();
        let seq = PointCloudSequence::from_value(&v, "seq1.json").unwrap();
        assert_eq!(seq.frames.len(), 2);
        let f0 = &seq.frames[0];
        assert_eq!(f0.frame_no, Some(Index::number(300)));
        let pose = f0.metadata.ego_vehicle_pose.as_ref().unwrap();
        assert_eq!(pose.heading.qw, 0.9997);
        let cam = &f0.metadata.images.as_ref().unwrap()[0];
        assert_eq!(cam.camera_model, Some(CameraModel::Pinhole));
        assert_eq!(cam.world_from_camera.position.x, -2.27);
        assert_eq!(cam.k1, None);
        assert_eq!(seq.frames[1].metadata.extra.get("sensor"), Some(&json!("lidar-top")));
        // Same JSON numbers; the writer's style turns the whole-number float `850.0` into `850`.
        let mut expected = v.clone();
        expected["frames"][0]["images"][0]["fy"] = json!(850);
        assert_eq!(seq.to_value(), expected);
        assert!(seq.check("seq1.json").is_empty());
        assert_eq!(seq.frames[1].metadata.effective_format("x.bin"), "text/xyzi");
    }

    #[test]
    fn camera_model_underscore_is_read_and_written_with_a_hyphen() {
        let line = r#"{"source-ref":"s3://b/f.bin","source-ref-metadata":{"unix-timestamp":5,"images":[{"image-path":"a.jpg","unix-timestamp":5,"fx":1,"fy":1,"cx":0,"cy":0,"position":{"x":0,"y":0,"z":0},"heading":{"qx":0,"qy":0,"qz":0,"qw":1},"camera_model":"fisheye"}]}}"#;
        let frame = PointCloudFrameLine::parse_line(line, "m", 1).unwrap();
        let cam = &frame.metadata.images.as_ref().unwrap()[0];
        assert_eq!(cam.camera_model, Some(CameraModel::Fisheye));
        let out = frame.to_value();
        let img = &out["source-ref-metadata"]["images"][0];
        assert_eq!(img["camera-model"], json!("fisheye"));
        assert!(img.get("camera_model").is_none());
        assert_eq!(frame.metadata.effective_format("f.bin"), "binary/xyzi");
    }

    #[test]
    fn errors_name_the_field() {
        let mut v = spec_point_cloud_sequence();
        v["frames"][0]["images"][0]["fx"] = json!("wide");
        let err = PointCloudSequence::from_value(&v, "s.json").unwrap_err().to_string();
        assert_eq!(
            err,
            "s.json: field `frames[0].images[0].fx`: expected a number, found a string"
        );
        let mut v = spec_point_cloud_sequence();
        v["frames"][1].as_object_mut().unwrap().remove("unix-timestamp");
        let err = PointCloudSequence::from_value(&v, "s.json").unwrap_err().to_string();
        assert_eq!(err, "s.json: field `frames[1].unix-timestamp`: required field is missing");
        let mut v = spec_point_cloud_sequence();
        v["frames"][0]["ego-vehicle-pose"].as_object_mut().unwrap().remove("heading");
        let err = PointCloudSequence::from_value(&v, "s.json").unwrap_err().to_string();
        assert!(err.contains("frames[0].ego-vehicle-pose.heading"), "{err}");
        let err =
            PointCloudFrameLine::parse_line(r#"{"source-ref":"s3://b/k"}"#, "m", 9).unwrap_err();
        assert_eq!(err.to_string(), "m:9: field `source-ref-metadata`: required field is missing");
    }

    #[test]
    fn rule_checks_are_findings() {
        let mut v = spec_point_cloud_sequence();
        v["prefix"] = json!("s3://b/no-slash");
        v["number-of-frames"] = json!(3);
        v["frames"][1]["unix-timestamp"] = json!(1566861644.759115);
        let seq = PointCloudSequence::from_value(&v, "s.json").unwrap();
        let messages: Vec<String> =
            seq.check("s.json").iter().map(|f| f.location.to_string()).collect();
        assert_eq!(
            messages,
            vec![
                "s.json: field `prefix`",
                "s.json: field `number-of-frames`",
                "s.json: field `frames[1].unix-timestamp`"
            ]
        );
    }

    #[test]
    fn video_sequence_round_trip_and_string_frame_numbers() {
        let text = r#"{"seq-no": 1, "prefix": "s3://b/video1/", "number-of-frames": 2,
            "frames": [{"frame-no": "1", "unix-timestamp": 1566861644, "frame": "frame0001.jpg"},
                       {"frame-no": 2, "frame": "frame0002.jpg"}]}"#;
        let seq = VideoSequence::parse(text, "seq.json").unwrap();
        assert_eq!(seq.frames[0].frame_no, Index::string(1));
        assert_eq!(seq.frames[1].unix_timestamp_secs, None);
        let back = seq.to_value();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(back["frames"][0]["unix-timestamp"], json!(1566861644));
        assert_eq!(VideoSequence::parse(&seq.to_json_pretty(), "x").unwrap(), seq);
        assert!(seq.check("seq.json").is_empty());
        let err = VideoSequence::parse(
            r#"{"seq-no": 1, "prefix": "p/", "number-of-frames": 1, "frames": [{"frame-no": 1}]}"#,
            "v.json",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "v.json: field `frames[0].frame`: required field is missing");
    }
}
