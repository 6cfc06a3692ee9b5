//! Point clouds in one structure-of-arrays layout, and readers for every format users bring:
//! LAS/LAZ, PCD, KITTI `.bin`, Ground Truth raw `binary/`/`text/` xyz[i][rgb], PLY.
//!
//! Positions are `f32` relative to an `f64` origin chosen at load time, so large projected
//! coordinates (LAS) keep millimetre precision on the GPU.
//!
//! Owns: [`PointCloud`], the load entry points ([`PointCloud::load`], [`PointCloud::load_with`],
//! [`PointCloud::load_bytes`]), format detection ([`CloudFormat`]), the attribute selection
//! ([`LoadOptions`], [`Attributes`]) and statistics ([`CloudStats`]). Must not depend on any layer
//! above `formats`, nor on egui, wgpu or tokio.
//!
//! # Memory
//!
//! A loaded point costs 12 bytes of position plus its kept attributes:
//! intensity 2, classification 1, return number 1, RGB 6, GPS time 8, user data 1. The default
//! [`LoadOptions`] keep [`Attributes::VIEW`] (positions, intensity, classification, return number):
//! at most 16 bytes a point. Ask for RGB, GPS time or user data explicitly when a view needs them.
//!
//! # Non-finite points
//!
//! Every reader drops points whose x, y or z is NaN or infinite (PCD organized clouds mark
//! invalid pixels that way) and counts them in [`LoadReport::dropped_non_finite`].
//!
//! # Intensity
//!
//! Intensity is stored as `u16`. Integer sources keep their value (8-bit sources are scaled by 257);
//! floating-point sources are scaled by one factor for the whole file, chosen from the largest
//! finite value: ≤ 1 → ×65535 (KITTI reflectance), ≤ 255 → ×257, ≤ 65535 → ×1, otherwise
//! normalised so the largest value maps to 65535. Negative values become 0.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{FormatError, Location};

pub mod asprs;
pub mod bench_support;
mod builder;
pub mod gt_raw;
pub mod kitti;
pub mod las;
pub mod pcd;
pub mod ply;
pub mod stats;

pub use gt_raw::RawFormat;
pub use stats::CloudStats;

/// A loaded point cloud: positions plus whichever attributes the file carries.
///
/// Every attribute vector, when present, has exactly `positions.len()` entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PointCloud {
    /// World position of point `i` is `origin + positions[i]` (metres, or the file's unit).
    pub origin: [f64; 3],
    /// Positions relative to `origin`.
    pub positions: Vec<[f32; 3]>,
    /// Intensity, as stored (LAS: u16; float formats are scaled into 0..=65535).
    pub intensity: Option<Vec<u16>>,
    /// ASPRS classification code (LAS) or label id.
    pub classification: Option<Vec<u8>>,
    /// Return number (1-based, LAS).
    pub return_number: Option<Vec<u8>>,
    /// Colour, 16 bits per channel (8-bit sources are scaled by 257).
    pub rgb: Option<Vec<[u16; 3]>>,
    /// GPS time (LAS).
    pub gps_time: Option<Vec<f64>>,
    /// LAS user data byte.
    pub user_data: Option<Vec<u8>>,
}

impl PointCloud {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// True when the cloud holds no point.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Loads a point cloud from a file with the default [`LoadOptions`] (the view attributes).
    ///
    /// The format is chosen from the file's first bytes and its extension (see
    /// [`CloudFormat::detect`]).
    pub fn load(path: impl AsRef<Path>) -> Result<PointCloud, FormatError> {
        Ok(Self::load_with(path, &LoadOptions::default())?.cloud)
    }

    /// Loads a point cloud from a file, keeping the attributes `options` asks for, and reports
    /// what the file declared and what was dropped.
    pub fn load_with(
        path: impl AsRef<Path>,
        options: &LoadOptions,
    ) -> Result<LoadedCloud, FormatError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let mut head = [0u8; 512];
        let head_len = read_head(path, &mut head).map_err(|e| FormatError::io(&name, e))?;
        let format = CloudFormat::detect(path, head.get(..head_len).unwrap_or_default())
            .ok_or_else(|| {
                FormatError::invalid(
                    Location::file(&name),
                    "not a point cloud this reader knows: expected LAS/LAZ, PCD, PLY, or a \
                     Ground Truth raw frame (.bin, .txt, .xyz)",
                )
            })?;
        match format {
            CloudFormat::Las | CloudFormat::Laz => las::load_path(path, options),
            _ => {
                let bytes = std::fs::read(path).map_err(|e| FormatError::io(&name, e))?;
                Self::load_bytes(&bytes, format, &name, options)
            }
        }
    }

    /// Loads a point cloud held in memory (e.g. fetched from S3). `name` is what errors call the
    /// data (its path or `s3://` URI).
    pub fn load_bytes(
        bytes: &[u8],
        format: CloudFormat,
        name: &str,
        options: &LoadOptions,
    ) -> Result<LoadedCloud, FormatError> {
        match format {
            CloudFormat::Las | CloudFormat::Laz => las::load_bytes(bytes, name, options),
            CloudFormat::Pcd => pcd::read(bytes, name, options),
            CloudFormat::Ply => ply::read(bytes, name, options),
            CloudFormat::Kitti => kitti::read(bytes, name, options),
            CloudFormat::Raw(raw) => gt_raw::read(bytes, raw, name, options),
        }
    }

    /// Appends `other` to this cloud. `other` must use the same origin; attributes this cloud
    /// keeps and `other` lacks are filled with zeros, attributes only `other` has are dropped.
    /// An empty cloud adopts `other`'s origin and attribute set.
    pub fn append(&mut self, other: PointCloud) {
        if self.is_empty() && self.origin == [0.0; 3] && Attributes::of(self) == Attributes::NONE {
            *self = other;
            return;
        }
        let n = other.len();
        let shift = [
            (other.origin[0] - self.origin[0]) as f32,
            (other.origin[1] - self.origin[1]) as f32,
            (other.origin[2] - self.origin[2]) as f32,
        ];
        if shift == [0.0; 3] {
            self.positions.extend_from_slice(&other.positions);
        } else {
            self.positions.extend(
                other.positions.iter().map(|p| [p[0] + shift[0], p[1] + shift[1], p[2] + shift[2]]),
            );
        }
        append_attr(&mut self.intensity, other.intensity, n);
        append_attr(&mut self.classification, other.classification, n);
        append_attr(&mut self.return_number, other.return_number, n);
        append_attr(&mut self.rgb, other.rgb, n);
        append_attr(&mut self.gps_time, other.gps_time, n);
        append_attr(&mut self.user_data, other.user_data, n);
    }

    /// Reserves room for `additional` more points in every kept attribute.
    pub fn reserve(&mut self, additional: usize) {
        self.positions.reserve(additional);
        reserve_attr(&mut self.intensity, additional);
        reserve_attr(&mut self.classification, additional);
        reserve_attr(&mut self.return_number, additional);
        reserve_attr(&mut self.rgb, additional);
        reserve_attr(&mut self.gps_time, additional);
        reserve_attr(&mut self.user_data, additional);
    }

    /// Sets the number of points to `n` in every kept attribute (new points: zeros). An empty
    /// cloud gets freshly zeroed arrays (`vec![0; n]` maps zero pages without writing them, so the
    /// pages are first touched by whoever fills them, in parallel, instead of here).
    pub fn resize_default(&mut self, n: usize) {
        fn resize<T: Clone + Default>(v: &mut Vec<T>, n: usize) {
            if v.is_empty() {
                *v = vec![T::default(); n];
            } else {
                v.resize(n, T::default());
            }
        }
        fn resize_attr<T: Clone + Default>(attr: &mut Option<Vec<T>>, n: usize) {
            if let Some(v) = attr {
                resize(v, n);
            }
        }
        resize(&mut self.positions, n);
        resize_attr(&mut self.intensity, n);
        resize_attr(&mut self.classification, n);
        resize_attr(&mut self.return_number, n);
        resize_attr(&mut self.rgb, n);
        resize_attr(&mut self.gps_time, n);
        resize_attr(&mut self.user_data, n);
    }

    /// The world position of point `i` (`origin + positions[i]`, in `f64`).
    pub fn world_position(&self, i: usize) -> Option<[f64; 3]> {
        self.positions.get(i).map(|p| {
            [
                self.origin[0] + f64::from(p[0]),
                self.origin[1] + f64::from(p[1]),
                self.origin[2] + f64::from(p[2]),
            ]
        })
    }

    /// Bytes of point data per point with this cloud's attribute set (see the module docs).
    pub fn bytes_per_point(&self) -> usize {
        Attributes::of(self).bytes_per_point()
    }

    /// Statistics computed from the points themselves (no load report: nothing dropped).
    pub fn stats(&self) -> CloudStats {
        CloudStats::compute(self, None)
    }
}

fn append_attr<T: Clone + Default>(mine: &mut Option<Vec<T>>, theirs: Option<Vec<T>>, n: usize) {
    if let Some(mine) = mine {
        match theirs {
            Some(theirs) => mine.extend_from_slice(&theirs),
            None => mine.resize(mine.len() + n, T::default()),
        }
    }
}

fn reserve_attr<T>(attr: &mut Option<Vec<T>>, additional: usize) {
    if let Some(v) = attr {
        v.reserve(additional);
    }
}

fn read_head(path: &Path, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read(buf.get_mut(filled..).unwrap_or_default())?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// Which per-point attributes a cloud keeps (positions are always kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attributes {
    /// Intensity (`u16`, 2 bytes a point).
    pub intensity: bool,
    /// Classification or label (`u8`).
    pub classification: bool,
    /// Return number (`u8`).
    pub return_number: bool,
    /// RGB colour (`[u16; 3]`, 6 bytes a point).
    pub rgb: bool,
    /// GPS time (`f64`, 8 bytes a point).
    pub gps_time: bool,
    /// LAS user data (`u8`).
    pub user_data: bool,
}

impl Attributes {
    /// Positions only.
    pub const NONE: Attributes = Attributes {
        intensity: false,
        classification: false,
        return_number: false,
        rgb: false,
        gps_time: false,
        user_data: false,
    };
    /// The default view set: intensity, classification and return number (16 bytes a point with
    /// positions).
    pub const VIEW: Attributes = Attributes {
        intensity: true,
        classification: true,
        return_number: true,
        rgb: false,
        gps_time: false,
        user_data: false,
    };
    /// Every attribute.
    pub const ALL: Attributes = Attributes {
        intensity: true,
        classification: true,
        return_number: true,
        rgb: true,
        gps_time: true,
        user_data: true,
    };

    /// The attributes `cloud` holds.
    pub fn of(cloud: &PointCloud) -> Attributes {
        Attributes {
            intensity: cloud.intensity.is_some(),
            classification: cloud.classification.is_some(),
            return_number: cloud.return_number.is_some(),
            rgb: cloud.rgb.is_some(),
            gps_time: cloud.gps_time.is_some(),
            user_data: cloud.user_data.is_some(),
        }
    }

    /// The attributes in both sets.
    #[must_use]
    pub fn and(self, other: Attributes) -> Attributes {
        Attributes {
            intensity: self.intensity && other.intensity,
            classification: self.classification && other.classification,
            return_number: self.return_number && other.return_number,
            rgb: self.rgb && other.rgb,
            gps_time: self.gps_time && other.gps_time,
            user_data: self.user_data && other.user_data,
        }
    }

    /// Bytes a point costs with this set, positions (12 bytes) included.
    pub fn bytes_per_point(self) -> usize {
        12 + 2 * usize::from(self.intensity)
            + usize::from(self.classification)
            + usize::from(self.return_number)
            + 6 * usize::from(self.rgb)
            + 8 * usize::from(self.gps_time)
            + usize::from(self.user_data)
    }

    /// The names of the attributes in this set, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        for (on, name) in [
            (self.intensity, "intensity"),
            (self.classification, "classification"),
            (self.return_number, "return_number"),
            (self.rgb, "rgb"),
            (self.gps_time, "gps_time"),
            (self.user_data, "user_data"),
        ] {
            if on {
                names.push(name);
            }
        }
        names
    }
}

impl Default for Attributes {
    fn default() -> Self {
        Attributes::VIEW
    }
}

/// What a load keeps. The default keeps [`Attributes::VIEW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadOptions {
    /// Attributes to keep when the file carries them (others are never invented).
    pub attributes: Attributes,
}

impl LoadOptions {
    /// Keep every attribute the file carries.
    pub fn all() -> Self {
        LoadOptions { attributes: Attributes::ALL }
    }

    /// Keep positions only.
    pub fn positions_only() -> Self {
        LoadOptions { attributes: Attributes::NONE }
    }
}

/// A point-cloud file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CloudFormat {
    /// ASPRS LAS 1.0–1.4, uncompressed.
    Las,
    /// LAZ (LASzip-compressed LAS).
    Laz,
    /// PCL's PCD v0.5–0.7.
    Pcd,
    /// Stanford PLY (ascii or binary).
    Ply,
    /// KITTI velodyne `.bin` (float32 x, y, z, reflectance 0..1).
    Kitti,
    /// A Ground Truth raw frame (`binary/xyzi`, `text/xyz`, ...).
    Raw(RawFormat),
}

impl CloudFormat {
    /// Picks the format from the first bytes of the file (`head`, up to 512 are looked at) and
    /// its extension. Magic bytes win: `LASF`, `ply`, a PCD header keyword. Otherwise `.bin` is
    /// Ground Truth `binary/xyzi` (the same layout as KITTI), `.xyz` is `text/xyz`, and `.txt` is
    /// the `text/` layout whose column count matches the first data line (Ground Truth's default
    /// `text/xyzi` when it cannot tell).
    pub fn detect(path: &Path, head: &[u8]) -> Option<CloudFormat> {
        if head.starts_with(b"LASF") {
            // Point data format byte: bit 7 (LASzip) or bit 6 (older LASzip) marks compression.
            let compressed = head.get(104).is_some_and(|b| b & 0xC0 != 0);
            let ext_laz = extension(path).is_some_and(|e| e == "laz");
            return Some(if compressed || ext_laz { CloudFormat::Laz } else { CloudFormat::Las });
        }
        if head.starts_with(b"ply\n") || head.starts_with(b"ply\r\n") {
            return Some(CloudFormat::Ply);
        }
        if pcd::looks_like_pcd(head) {
            return Some(CloudFormat::Pcd);
        }
        match extension(path).as_deref() {
            Some("las") => Some(CloudFormat::Las),
            Some("laz") => Some(CloudFormat::Laz),
            Some("pcd") => Some(CloudFormat::Pcd),
            Some("ply") => Some(CloudFormat::Ply),
            Some("bin") => Some(CloudFormat::Raw(RawFormat::BinaryXyzi)),
            Some("xyz") => Some(CloudFormat::Raw(RawFormat::TextXyz)),
            Some("txt") => Some(CloudFormat::Raw(
                gt_raw::guess_text_layout(head).unwrap_or(RawFormat::TextXyzi),
            )),
            _ => None,
        }
    }

    /// A short name for messages and `--json` output (`las`, `pcd`, `binary/xyzi`, ...).
    pub fn name(self) -> &'static str {
        match self {
            CloudFormat::Las => "las",
            CloudFormat::Laz => "laz",
            CloudFormat::Pcd => "pcd",
            CloudFormat::Ply => "ply",
            CloudFormat::Kitti => "kitti",
            CloudFormat::Raw(raw) => raw.as_str(),
        }
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
}

/// What a reader found besides the points: what the file declared and what was left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// The format read.
    pub format: CloudFormat,
    /// The point count the file's header declared, when it declares one.
    pub declared_points: Option<u64>,
    /// Points dropped because x, y or z was NaN or infinite.
    pub dropped_non_finite: u64,
    /// Attributes the file carries (whether or not they were kept).
    pub available: Attributes,
    /// Other things worth telling the user (a missing `z` field, saturated labels, ...).
    pub notes: Vec<String>,
}

impl LoadReport {
    /// A report with nothing dropped and no notes.
    pub fn new(format: CloudFormat, declared_points: Option<u64>, available: Attributes) -> Self {
        LoadReport { format, declared_points, dropped_non_finite: 0, available, notes: Vec::new() }
    }
}

/// A cloud and its [`LoadReport`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedCloud {
    /// The points.
    pub cloud: PointCloud,
    /// What the reader found besides the points.
    pub report: LoadReport,
}

impl LoadedCloud {
    /// Statistics of the cloud, including the report's dropped counts.
    pub fn stats(&self) -> CloudStats {
        CloudStats::compute(&self.cloud, Some(&self.report))
    }
}

/// How a reader chooses the `f64` origin for one axis from a representative coordinate: keep 0
/// while `f32` still resolves better than a centimetre (|c| < 65536), else the coordinate rounded
/// to a whole unit.
pub(crate) fn origin_for(c: [f64; 3]) -> [f64; 3] {
    c.map(|v| if v.is_finite() && v.abs() >= 65536.0 { v.round() } else { 0.0 })
}

/// How float intensities become `u16` (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum IntensityScale {
    /// Already 0..=65535.
    Identity,
    /// 8-bit values: ×257.
    Times257,
    /// KITTI reflectance 0..=1: ×65535, clamped.
    Unit,
    /// Chosen from the file's largest value.
    Auto,
}

impl IntensityScale {
    /// The factor for values whose largest finite value is `max`.
    pub(crate) fn factor(self, max: f32) -> f32 {
        match self {
            IntensityScale::Identity => 1.0,
            IntensityScale::Times257 => 257.0,
            IntensityScale::Unit => 65535.0,
            IntensityScale::Auto => {
                if max <= 1.0 {
                    65535.0
                } else if max <= 255.0 {
                    257.0
                } else if max <= 65535.0 {
                    1.0
                } else {
                    65535.0 / max
                }
            }
        }
    }
}

/// `value * factor` as `u16`, saturating; NaN and negatives become 0.
pub(crate) fn scale_intensity(value: f32, factor: f32) -> u16 {
    let v = value * factor;
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= 65535.0 {
        u16::MAX
    } else {
        v.round() as u16
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn view_set_costs_sixteen_bytes_a_point() {
        assert_eq!(Attributes::VIEW.bytes_per_point(), 16);
        assert_eq!(Attributes::NONE.bytes_per_point(), 12);
        assert_eq!(Attributes::ALL.bytes_per_point(), 12 + 2 + 1 + 1 + 6 + 8 + 1);
    }

    #[test]
    fn detect_by_magic_beats_extension() {
        let mut las = vec![0u8; 227];
        las[..4].copy_from_slice(b"LASF");
        assert_eq!(CloudFormat::detect(Path::new("a.bin"), &las), Some(CloudFormat::Las));
        las[104] = 0x83;
        assert_eq!(CloudFormat::detect(Path::new("a.las"), &las), Some(CloudFormat::Laz));
        assert_eq!(
            CloudFormat::detect(Path::new("a.txt"), b"ply\nformat ascii 1.0\n"),
            Some(CloudFormat::Ply)
        );
        assert_eq!(
            CloudFormat::detect(Path::new("a.bin"), b"# .PCD v0.7\nVERSION 0.7\n"),
            Some(CloudFormat::Pcd)
        );
        assert_eq!(
            CloudFormat::detect(Path::new("f.BIN"), &[0u8; 16]),
            Some(CloudFormat::Raw(RawFormat::BinaryXyzi))
        );
        assert_eq!(
            CloudFormat::detect(Path::new("f.txt"), b"1 2 3 4 5 6\n"),
            Some(CloudFormat::Raw(RawFormat::TextXyzrgb))
        );
        assert_eq!(CloudFormat::detect(Path::new("f.dat"), b"1 2 3\n"), None);
    }

    #[test]
    fn append_shifts_to_the_first_origin_and_fills_missing_attributes() {
        let mut a = PointCloud {
            origin: [100.0, 0.0, 0.0],
            positions: vec![[1.0, 2.0, 3.0]],
            intensity: Some(vec![7]),
            ..PointCloud::default()
        };
        let b = PointCloud {
            origin: [110.0, 0.0, 0.0],
            positions: vec![[1.0, 0.0, 0.0]],
            ..PointCloud::default()
        };
        a.append(b);
        assert_eq!(a.positions, vec![[1.0, 2.0, 3.0], [11.0, 0.0, 0.0]]);
        assert_eq!(a.intensity, Some(vec![7, 0]));
        assert_eq!(a.world_position(1), Some([111.0, 0.0, 0.0]));
    }

    #[test]
    fn auto_intensity_scale_follows_the_largest_value() {
        assert_eq!(IntensityScale::Auto.factor(0.9), 65535.0);
        assert_eq!(IntensityScale::Auto.factor(200.0), 257.0);
        assert_eq!(IntensityScale::Auto.factor(4000.0), 1.0);
        assert_eq!(scale_intensity(1.0, 65535.0), 65535);
        assert_eq!(scale_intensity(-3.0, 1.0), 0);
        assert_eq!(scale_intensity(f32::NAN, 1.0), 0);
        assert_eq!(scale_intensity(1e9, 1.0), 65535);
    }
}
