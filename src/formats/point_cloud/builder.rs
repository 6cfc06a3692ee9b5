//! Point-at-a-time assembly of a [`PointCloud`] for the sequential readers (PCD, PLY, KITTI,
//! Ground Truth raw): drops non-finite points, picks the origin from the first finite point, and
//! scales float intensities once the whole file is seen. No I/O; nothing above `formats`.

use super::{Attributes, IntensityScale, PointCloud, origin_for, scale_intensity};

/// One point's optional attributes as a reader found them; unused ones are ignored.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PointAttrs {
    /// Raw intensity (scaled at [`CloudBuilder::finish`]).
    pub intensity: f32,
    /// Classification or label.
    pub classification: u8,
    /// Return number.
    pub return_number: u8,
    /// Colour, 16 bits a channel.
    pub rgb: [u16; 3],
    /// GPS time.
    pub gps_time: f64,
    /// User data.
    pub user_data: u8,
}

/// Collects points into a [`PointCloud`].
pub(crate) struct CloudBuilder {
    cloud: PointCloud,
    raw_intensity: Option<Vec<f32>>,
    intensity_scale: IntensityScale,
    origin_set: bool,
    dropped: u64,
}

impl CloudBuilder {
    /// A builder keeping `keep` (already intersected with what the file has), with room for
    /// `capacity` points (callers bound it by the data's size).
    pub(crate) fn new(keep: Attributes, capacity: usize, intensity_scale: IntensityScale) -> Self {
        fn vec_if<T>(on: bool, capacity: usize) -> Option<Vec<T>> {
            on.then(|| Vec::with_capacity(capacity))
        }
        CloudBuilder {
            cloud: PointCloud {
                origin: [0.0; 3],
                positions: Vec::with_capacity(capacity),
                intensity: None,
                classification: vec_if(keep.classification, capacity),
                return_number: vec_if(keep.return_number, capacity),
                rgb: vec_if(keep.rgb, capacity),
                gps_time: vec_if(keep.gps_time, capacity),
                user_data: vec_if(keep.user_data, capacity),
            },
            raw_intensity: vec_if(keep.intensity, capacity),
            intensity_scale,
            origin_set: false,
            dropped: 0,
        }
    }

    /// Adds a point at world position `p`; a non-finite one is counted and dropped.
    #[inline]
    pub(crate) fn push(&mut self, p: [f64; 3], attrs: &PointAttrs) {
        if !(p[0].is_finite() && p[1].is_finite() && p[2].is_finite()) {
            self.dropped += 1;
            return;
        }
        if !self.origin_set {
            self.cloud.origin = origin_for(p);
            self.origin_set = true;
        }
        let o = self.cloud.origin;
        self.cloud.positions.push([
            (p[0] - o[0]) as f32,
            (p[1] - o[1]) as f32,
            (p[2] - o[2]) as f32,
        ]);
        if let Some(v) = &mut self.raw_intensity {
            v.push(attrs.intensity);
        }
        if let Some(v) = &mut self.cloud.classification {
            v.push(attrs.classification);
        }
        if let Some(v) = &mut self.cloud.return_number {
            v.push(attrs.return_number);
        }
        if let Some(v) = &mut self.cloud.rgb {
            v.push(attrs.rgb);
        }
        if let Some(v) = &mut self.cloud.gps_time {
            v.push(attrs.gps_time);
        }
        if let Some(v) = &mut self.cloud.user_data {
            v.push(attrs.user_data);
        }
    }

    /// The cloud and the number of dropped non-finite points.
    pub(crate) fn finish(mut self) -> (PointCloud, u64) {
        if let Some(raw) = self.raw_intensity.take() {
            let max = raw.iter().copied().filter(|v| v.is_finite()).fold(0.0f32, f32::max);
            let factor = self.intensity_scale.factor(max);
            self.cloud.intensity = Some(raw.iter().map(|&v| scale_intensity(v, factor)).collect());
        }
        (self.cloud, self.dropped)
    }
}

/// An 8-bit colour channel as 16 bits (×257, so 255 → 65535).
pub(crate) fn rgb8_to_16(v: u8) -> u16 {
    u16::from(v) * 257
}

/// A float colour channel in 0..=255 as 16 bits, clamped.
pub(crate) fn rgb_f32_to_16(v: f32) -> u16 {
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= 255.0 {
        u16::MAX
    } else {
        (v * 257.0).round() as u16
    }
}

/// PCL's packed colour (`0x00RRGGBB`, alpha in the top byte for `rgba`) as 16-bit channels.
pub(crate) fn unpack_rgb(packed: u32) -> [u16; 3] {
    [
        rgb8_to_16(((packed >> 16) & 0xff) as u8),
        rgb8_to_16(((packed >> 8) & 0xff) as u8),
        rgb8_to_16((packed & 0xff) as u8),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn drops_non_finite_points_and_scales_intensity_once() {
        let mut b = CloudBuilder::new(Attributes::VIEW, 4, IntensityScale::Auto);
        b.push([1.0, 2.0, 3.0], &PointAttrs { intensity: 0.5, ..Default::default() });
        b.push([f64::NAN, 0.0, 0.0], &PointAttrs::default());
        b.push([0.0, f64::INFINITY, 0.0], &PointAttrs::default());
        b.push([4.0, 5.0, 6.0], &PointAttrs { intensity: 1.0, ..Default::default() });
        let (cloud, dropped) = b.finish();
        assert_eq!(dropped, 2);
        assert_eq!(cloud.len(), 2);
        assert_eq!(cloud.intensity, Some(vec![32768, 65535]));
        assert_eq!(cloud.classification, Some(vec![0, 0]));
        assert!(cloud.rgb.is_none());
        assert_eq!(cloud.origin, [0.0; 3]);
    }

    #[test]
    fn large_coordinates_get_a_rounded_origin() {
        let mut b = CloudBuilder::new(Attributes::NONE, 2, IntensityScale::Auto);
        b.push([637_012.25, 849_000.25, 12.0], &PointAttrs::default());
        b.push([637_013.25, 849_001.25, 13.0], &PointAttrs::default());
        let (cloud, _) = b.finish();
        assert_eq!(cloud.origin, [637_012.0, 849_000.0, 0.0]);
        assert_eq!(cloud.positions, vec![[0.25, 0.25, 12.0], [1.25, 1.25, 13.0]]);
    }

    #[test]
    fn colour_conversions() {
        assert_eq!(unpack_rgb(0x00ff_8001), [65535, 128 * 257, 257]);
        assert_eq!(rgb_f32_to_16(255.0), 65535);
        assert_eq!(rgb_f32_to_16(-1.0), 0);
        assert_eq!(rgb8_to_16(1), 257);
    }
}
