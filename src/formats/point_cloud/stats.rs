//! Statistics of a loaded cloud computed from its points (what `groundwork info --json` prints):
//! count, `f64` bounds, attributes, classification histogram, intensity range, and what the
//! reader dropped. Must not depend on any layer above `formats`.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Attributes, LoadReport, PointCloud};

/// An axis-aligned box in world coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// Smallest x, y, z.
    pub min: [f64; 3],
    /// Largest x, y, z.
    pub max: [f64; 3],
}

/// Statistics of a cloud, serialisable as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudStats {
    /// The format read, when known (`las`, `pcd`, `binary/xyzi`, ...).
    pub format: Option<String>,
    /// Points loaded.
    pub points: u64,
    /// Points the file declared, when it declares a count.
    pub declared_points: Option<u64>,
    /// Points dropped for a NaN/infinite coordinate.
    pub dropped_non_finite: u64,
    /// The origin positions are stored relative to.
    pub origin: [f64; 3],
    /// World bounds of the loaded points (`None` when empty).
    pub bounds: Option<Bounds>,
    /// Attributes the cloud holds.
    pub attributes: Vec<String>,
    /// Attributes the file carries (whether kept or not), when known.
    pub available_attributes: Option<Vec<String>>,
    /// Memory per point with the kept attributes.
    pub bytes_per_point: usize,
    /// Points per classification code (empty without classification).
    pub classification_histogram: BTreeMap<u8, u64>,
    /// Smallest and largest intensity.
    pub intensity_range: Option<[u16; 2]>,
    /// The reader's notes.
    pub notes: Vec<String>,
}

impl CloudStats {
    /// Computes the statistics of `cloud`, adding what `report` says was dropped.
    pub fn compute(cloud: &PointCloud, report: Option<&LoadReport>) -> CloudStats {
        let bounds = local_bounds(&cloud.positions).map(|(lo, hi)| Bounds {
            min: [0, 1, 2].map(|i| cloud.origin[i] + f64::from(lo[i])),
            max: [0, 1, 2].map(|i| cloud.origin[i] + f64::from(hi[i])),
        });
        let mut classification_histogram = BTreeMap::new();
        if let Some(classes) = &cloud.classification {
            let counts = classes
                .par_chunks(1 << 16)
                .map(|chunk| {
                    let mut h = [0u64; 256];
                    for &c in chunk {
                        if let Some(slot) = h.get_mut(usize::from(c)) {
                            *slot += 1;
                        }
                    }
                    h
                })
                .reduce(|| [0u64; 256], |a, b| std::array::from_fn(|i| a[i] + b[i]));
            for (code, &n) in counts.iter().enumerate() {
                if n > 0 {
                    classification_histogram.insert(code as u8, n);
                }
            }
        }
        let intensity_range = cloud.intensity.as_ref().and_then(|v| {
            let lo = v.par_iter().copied().min()?;
            let hi = v.par_iter().copied().max()?;
            Some([lo, hi])
        });
        let attributes = Attributes::of(cloud);
        CloudStats {
            format: report.map(|r| r.format.name().to_string()),
            points: cloud.len() as u64,
            declared_points: report.and_then(|r| r.declared_points),
            dropped_non_finite: report.map_or(0, |r| r.dropped_non_finite),
            origin: cloud.origin,
            bounds,
            attributes: attributes.names().into_iter().map(String::from).collect(),
            available_attributes: report
                .map(|r| r.available.names().into_iter().map(String::from).collect()),
            bytes_per_point: attributes.bytes_per_point(),
            classification_histogram,
            intensity_range,
            notes: report.map(|r| r.notes.clone()).unwrap_or_default(),
        }
    }
}

fn local_bounds(positions: &[[f32; 3]]) -> Option<([f32; 3], [f32; 3])> {
    if positions.is_empty() {
        return None;
    }
    let merge = |a: ([f32; 3], [f32; 3]), b: ([f32; 3], [f32; 3])| {
        (std::array::from_fn(|i| a.0[i].min(b.0[i])), std::array::from_fn(|i| a.1[i].max(b.1[i])))
    };
    let empty = ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
    Some(
        positions
            .par_chunks(1 << 16)
            .map(|chunk| chunk.iter().fold(empty, |acc, p| merge(acc, (*p, *p))))
            .reduce(|| empty, merge),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::formats::point_cloud::CloudFormat;

    #[test]
    fn stats_from_points_and_report() {
        let cloud = PointCloud {
            origin: [1000.0, 0.0, 0.0],
            positions: vec![[1.0, -2.0, 3.0], [-1.0, 5.0, 0.5]],
            intensity: Some(vec![9, 3]),
            classification: Some(vec![2, 2]),
            ..PointCloud::default()
        };
        let mut report = LoadReport::new(CloudFormat::Pcd, Some(3), Attributes::ALL);
        report.dropped_non_finite = 1;
        let s = CloudStats::compute(&cloud, Some(&report));
        assert_eq!(s.points, 2);
        assert_eq!(s.dropped_non_finite, 1);
        let b = s.bounds.unwrap();
        assert_eq!(b.min, [999.0, -2.0, 0.5]);
        assert_eq!(b.max, [1001.0, 5.0, 3.0]);
        assert_eq!(s.classification_histogram, BTreeMap::from([(2u8, 2u64)]));
        assert_eq!(s.intensity_range, Some([3, 9]));
        assert_eq!(s.attributes, vec!["intensity", "classification"]);
        assert_eq!(s.bytes_per_point, 15);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["classification_histogram"]["2"], 2);
        assert_eq!(json["format"], "pcd");
        let back: CloudStats = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
        assert!(PointCloud::default().stats().bounds.is_none());
    }
}
