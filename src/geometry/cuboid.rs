//! Oriented 3D boxes (Ground Truth's cuboids): centre, size and yaw/pitch/roll.

use nalgebra::{Matrix4, Point3, Rotation3, Vector3};

/// An oriented box. Its own frame has x along the heading (length), y to the left (width), z up
/// (height); `rotation()` turns that frame into the world.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cuboid {
    /// Centre in world coordinates.
    pub center: Point3<f64>,
    /// Length (x), width (y), height (z), in world units.
    pub size: Vector3<f64>,
    /// Rotation about world z (radians), applied last.
    pub yaw_rad: f64,
    /// Rotation about the box's y axis (radians).
    pub pitch_rad: f64,
    /// Rotation about the box's x axis (radians), applied first.
    pub roll_rad: f64,
}

/// The 12 edges of a box as pairs of indices into [`Cuboid::corners`].
pub const CUBOID_EDGES: [[usize; 2]; 12] = [
    [0, 1],
    [2, 3],
    [4, 5],
    [6, 7],
    [0, 2],
    [1, 3],
    [4, 6],
    [5, 7],
    [0, 4],
    [1, 5],
    [2, 6],
    [3, 7],
];

impl Cuboid {
    /// An axis-aligned box (no rotation).
    pub fn axis_aligned(center: Point3<f64>, size: Vector3<f64>) -> Self {
        Self { center, size, yaw_rad: 0.0, pitch_rad: 0.0, roll_rad: 0.0 }
    }

    /// `Rz(yaw) · Ry(pitch) · Rx(roll)`: the box frame's axes in world coordinates.
    pub fn rotation(&self) -> Rotation3<f64> {
        Rotation3::from_euler_angles(self.roll_rad, self.pitch_rad, self.yaw_rad)
    }

    /// Transform from the unit cube `[-0.5, 0.5]³` to world space (scale, rotate, translate).
    pub fn world_from_unit_cube(&self) -> Matrix4<f64> {
        let mut m = self.rotation().to_homogeneous()
            * Matrix4::new_nonuniform_scaling(&Vector3::new(self.size.x, self.size.y, self.size.z));
        m[(0, 3)] = self.center.x;
        m[(1, 3)] = self.center.y;
        m[(2, 3)] = self.center.z;
        m
    }

    /// The 8 corners in world space. Corner `i` takes the +x half-size when bit 0 of `i` is set,
    /// +y for bit 1 and +z for bit 2 (so corner 0 is (−x, −y, −z) and corner 7 is (+x, +y, +z)).
    pub fn corners(&self) -> [Point3<f64>; 8] {
        let rotation = self.rotation();
        let half = self.size * 0.5;
        std::array::from_fn(|i| {
            let local = Vector3::new(
                if i & 1 == 0 { -half.x } else { half.x },
                if i & 2 == 0 { -half.y } else { half.y },
                if i & 4 == 0 { -half.z } else { half.z },
            );
            self.center + rotation * local
        })
    }

    /// Centre of the face the box heads towards (+x face).
    pub fn heading_point(&self) -> Point3<f64> {
        self.center + self.rotation() * Vector3::new(self.size.x * 0.5, 0.0, 0.0)
    }

    /// True when `point` lies inside the box or on its boundary.
    pub fn contains(&self, point: Point3<f64>) -> bool {
        let local = self.rotation().inverse() * (point - self.center);
        let half = self.size * 0.5;
        local.x.abs() <= half.x + 1e-12
            && local.y.abs() <= half.y + 1e-12
            && local.z.abs() <= half.z + 1e-12
    }

    /// Axis-aligned bounds `(min, max)` of the box in world space.
    pub fn bounds(&self) -> (Point3<f64>, Point3<f64>) {
        let corners = self.corners();
        let mut min = corners[0];
        let mut max = corners[0];
        for c in &corners[1..] {
            min = min.inf(c);
            max = max.sup(c);
        }
        (min, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yawed_box_corners_and_containment() {
        let cuboid = Cuboid {
            center: Point3::new(10.0, 5.0, 1.0),
            size: Vector3::new(4.0, 2.0, 1.0),
            yaw_rad: std::f64::consts::FRAC_PI_2,
            pitch_rad: 0.0,
            roll_rad: 0.0,
        };
        // Heading +x of the box points along world +y after a 90° yaw.
        assert!((cuboid.heading_point() - Point3::new(10.0, 7.0, 1.0)).norm() < 1e-12);
        let corners = cuboid.corners();
        // Corner 7 = (+2, +1, +0.5) in the box frame = (-1, +2, +0.5) in world after the yaw.
        assert!((corners[7] - Point3::new(9.0, 7.0, 1.5)).norm() < 1e-12);
        assert!(cuboid.contains(Point3::new(10.9, 6.9, 1.4)));
        assert!(!cuboid.contains(Point3::new(11.1, 5.0, 1.0)));
        let (min, max) = cuboid.bounds();
        assert!((min - Point3::new(9.0, 3.0, 0.5)).norm() < 1e-12);
        assert!((max - Point3::new(11.0, 7.0, 1.5)).norm() < 1e-12);
        let m = cuboid.world_from_unit_cube();
        let c7 = m * nalgebra::Vector4::new(0.5, 0.5, 0.5, 1.0);
        assert!((c7.xyz() - corners[7].coords).norm() < 1e-12);
        for [a, b] in CUBOID_EDGES {
            // Every edge joins corners that differ in exactly one bit.
            assert_eq!((a ^ b).count_ones(), 1);
        }
    }
}
