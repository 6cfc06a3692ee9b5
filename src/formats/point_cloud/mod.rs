//! Point clouds in one structure-of-arrays layout, and readers for every format users bring:
//! LAS/LAZ, PCD, KITTI `.bin`, Ground Truth raw `binary/`/`text/` xyz[i][rgb], PLY.
//!
//! Positions are `f32` relative to an `f64` origin chosen at load time, so large projected
//! coordinates (LAS) keep millimetre precision on the GPU.

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
}
