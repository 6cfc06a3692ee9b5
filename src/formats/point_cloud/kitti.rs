//! KITTI velodyne `.bin` scans: little-endian `f32` x, y, z, reflectance per point (16 bytes).
//! Reflectance 0..=1 is scaled to `u16` 0..=65535. The layout is Ground Truth's `binary/xyzi`.
//!
//! Must not depend on any layer above `formats`.

use super::builder::{CloudBuilder, PointAttrs};
use super::{Attributes, CloudFormat, IntensityScale, LoadOptions, LoadReport, LoadedCloud};
use crate::formats::{FormatError, Location};

/// Bytes per KITTI point.
pub const POINT_BYTES: usize = 16;

/// Reads a KITTI scan held in memory.
pub fn read(bytes: &[u8], name: &str, options: &LoadOptions) -> Result<LoadedCloud, FormatError> {
    if !bytes.len().is_multiple_of(POINT_BYTES) {
        return Err(FormatError::invalid(
            Location::file(name),
            format!(
                "{} bytes is not a whole number of 16-byte KITTI points (x, y, z, reflectance \
                 as float32): truncated or not a KITTI scan",
                bytes.len()
            ),
        ));
    }
    let available = Attributes { intensity: true, ..Attributes::NONE };
    let keep = options.attributes.and(available);
    let n = bytes.len() / POINT_BYTES;
    let mut builder = CloudBuilder::new(keep, n, IntensityScale::Unit);
    for p in bytes.chunks_exact(POINT_BYTES) {
        let f = |k: usize| {
            p.get(4 * k..4 * k + 4)
                .and_then(|s| s.try_into().ok())
                .map(f32::from_le_bytes)
                .unwrap_or(f32::NAN)
        };
        let attrs = PointAttrs { intensity: f(3), ..PointAttrs::default() };
        builder.push([f64::from(f(0)), f64::from(f(1)), f64::from(f(2))], &attrs);
    }
    let (cloud, dropped) = builder.finish();
    let mut report = LoadReport::new(CloudFormat::Kitti, Some(n as u64), available);
    report.dropped_non_finite = dropped;
    Ok(LoadedCloud { cloud, report })
}

/// Encodes points as a KITTI scan (for tests and exports).
pub fn write(points: &[[f32; 4]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * POINT_BYTES);
    for p in points {
        for v in p {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn round_trip_with_reflectance_scaling() {
        let pts = [[1.5f32, -2.0, 0.25, 0.0], [10.0, 20.0, 30.0, 1.0], [0.0, 0.0, 0.0, 0.5]];
        let loaded = read(&write(&pts), "s.bin", &LoadOptions::default()).unwrap();
        let c = &loaded.cloud;
        assert_eq!(c.positions, vec![[1.5, -2.0, 0.25], [10.0, 20.0, 30.0], [0.0, 0.0, 0.0]]);
        assert_eq!(c.intensity, Some(vec![0, 65535, 32768]));
        assert!(c.classification.is_none() && c.return_number.is_none());
        assert_eq!(loaded.report.declared_points, Some(3));
    }

    #[test]
    fn ragged_length_is_an_error_naming_the_file() {
        let bytes = write(&[[1.0, 2.0, 3.0, 0.5]]);
        let err = read(&bytes[..15], "cut.bin", &LoadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("cut.bin"));
        assert!(read(&[], "e.bin", &LoadOptions::default()).unwrap().cloud.is_empty());
    }

    #[test]
    fn nan_points_are_dropped_and_counted() {
        let bytes = write(&[[f32::NAN, 0.0, 0.0, 0.1], [1.0, 1.0, 1.0, 0.2]]);
        let loaded = read(&bytes, "n.bin", &LoadOptions::default()).unwrap();
        assert_eq!(loaded.cloud.len(), 1);
        assert_eq!(loaded.report.dropped_non_finite, 1);
    }
}
