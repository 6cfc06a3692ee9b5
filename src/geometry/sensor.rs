//! Sensor fusion maths (spec §3.4): poses (position + heading quaternion) as rigid transforms,
//! the LiDAR extrinsic from the ego-vehicle pose, a camera's inverse extrinsic, pinhole and
//! fisheye intrinsics with their distortion, and the projection of cloud points and cuboids into
//! a camera image.
//!
//! Frames: a point-cloud point is in the *lidar* frame; `world_from_lidar` is the ego pose's
//! transform ([`pose_isometry`]); `world_from_camera` the camera's. Cameras follow the OpenCV
//! convention Ground Truth's examples use: x right, y down, z forward (the optical axis). Images
//! are drawn as recorded, so projection applies the distortion model (Ground Truth undistorts
//! the image instead; the two agree on where a point lands on the undistorted image).
//!
//! Pure maths on nalgebra types; must not depend on any other module of the crate but
//! [`super::cuboid`] and [`super::boxes`].

use nalgebra::{Isometry3, Matrix3, Point2, Point3, Quaternion, Translation3, UnitQuaternion};

use super::boxes::Aabb2;
use super::cuboid::{CUBOID_EDGES, Cuboid};

/// Points closer than this to the camera plane (metres, along the optical axis) are not
/// projected; cuboid edges are clipped there.
pub const NEAR_PLANE_M: f64 = 0.05;

/// The rigid transform of a pose: rotate by the heading quaternion `[qx, qy, qz, qw]`
/// (normalised; the identity when it is zero or not finite), then translate by `position`
/// (`[R T; 0 0 0 1]`, spec §3.4).
pub fn pose_isometry(position: [f64; 3], heading: [f64; 4]) -> Isometry3<f64> {
    let [qx, qy, qz, qw] = heading;
    let q = Quaternion::new(qw, qx, qy, qz);
    let norm = q.norm();
    let rotation = if norm.is_finite() && norm > 1e-12 {
        UnitQuaternion::from_quaternion(q)
    } else {
        UnitQuaternion::identity()
    };
    let [x, y, z] = position.map(|v| if v.is_finite() { v } else { 0.0 });
    Isometry3::from_parts(Translation3::new(x, y, z), rotation)
}

/// Which lens model maps directions to the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LensModel {
    /// Pin-hole with Brown–Conrady distortion (`k1 k2 k3` radial, `p1 p2` tangential).
    #[default]
    Pinhole,
    /// Equidistant fisheye (`k1…k4` on the angle, OpenCV's fisheye model).
    Fisheye,
}

/// Distortion coefficients (0 = none).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Distortion {
    /// Radial k1.
    pub k1: f64,
    /// Radial k2.
    pub k2: f64,
    /// Radial k3.
    pub k3: f64,
    /// Radial k4 (fisheye).
    pub k4: f64,
    /// Tangential p1 (pinhole).
    pub p1: f64,
    /// Tangential p2 (pinhole).
    pub p2: f64,
}

/// A camera's intrinsics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intrinsics {
    /// Focal length along x (pixels).
    pub fx: f64,
    /// Focal length along y (pixels).
    pub fy: f64,
    /// Principal point x (pixels).
    pub cx: f64,
    /// Principal point y (pixels).
    pub cy: f64,
    /// Skew (pixels per unit of normalised y).
    pub skew: f64,
    /// Lens model.
    pub model: LensModel,
    /// Distortion.
    pub distortion: Distortion,
}

impl Intrinsics {
    /// An undistorted pin-hole camera.
    pub fn pinhole(fx: f64, fy: f64, cx: f64, cy: f64) -> Self {
        Self {
            fx,
            fy,
            cx,
            cy,
            skew: 0.0,
            model: LensModel::Pinhole,
            distortion: Distortion::default(),
        }
    }

    /// The 3×3 intrinsic matrix `[fx skew cx; 0 fy cy; 0 0 1]`.
    pub fn matrix(&self) -> Matrix3<f64> {
        Matrix3::new(self.fx, self.skew, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0)
    }

    /// The pixel of a point in camera coordinates, `None` behind (or on) the camera plane.
    pub fn project(&self, camera: Point3<f64>) -> Option<Point2<f64>> {
        if camera.z.is_nan()
            || camera.z <= NEAR_PLANE_M * 0.5
            || !camera.coords.iter().all(|v| v.is_finite())
        {
            return None;
        }
        let (a, b) = (camera.x / camera.z, camera.y / camera.z);
        let d = &self.distortion;
        let (x, y) = match self.model {
            LensModel::Pinhole => {
                let r2 = a * a + b * b;
                let radial = 1.0 + r2 * (d.k1 + r2 * (d.k2 + r2 * d.k3));
                (
                    a * radial + 2.0 * d.p1 * a * b + d.p2 * (r2 + 2.0 * a * a),
                    b * radial + d.p1 * (r2 + 2.0 * b * b) + 2.0 * d.p2 * a * b,
                )
            }
            LensModel::Fisheye => {
                let r = (a * a + b * b).sqrt();
                if r < 1e-12 {
                    (a, b)
                } else {
                    let theta = r.atan();
                    let t2 = theta * theta;
                    let theta_d =
                        theta * (1.0 + t2 * (d.k1 + t2 * (d.k2 + t2 * (d.k3 + t2 * d.k4))));
                    (a * theta_d / r, b * theta_d / r)
                }
            }
        };
        let pixel = Point2::new(self.fx * x + self.skew * y + self.cx, self.fy * y + self.cy);
        (pixel.x.is_finite() && pixel.y.is_finite()).then_some(pixel)
    }
}

/// A camera of a frame: intrinsics and where it sits relative to the lidar's points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensorCamera {
    /// Intrinsics.
    pub intrinsics: Intrinsics,
    /// Cloud (lidar) coordinates to camera coordinates:
    /// `camera_inverse_extrinsic · lidar_extrinsic`.
    pub camera_from_lidar: Isometry3<f64>,
}

impl SensorCamera {
    /// A camera from the two poses of spec §3.4: the frame's ego-vehicle pose (`world_from_lidar`,
    /// identity when the frame has none) and the camera's own pose (`world_from_camera`).
    pub fn new(
        intrinsics: Intrinsics,
        world_from_lidar: Isometry3<f64>,
        world_from_camera: Isometry3<f64>,
    ) -> Self {
        Self { intrinsics, camera_from_lidar: world_from_camera.inverse() * world_from_lidar }
    }

    /// The pixel of a cloud point, `None` when it is behind the camera.
    pub fn project(&self, lidar: Point3<f64>) -> Option<Point2<f64>> {
        self.intrinsics.project(self.camera_from_lidar * lidar)
    }

    /// Depth along the optical axis of a cloud point (metres; negative behind the camera).
    pub fn depth(&self, lidar: Point3<f64>) -> f64 {
        (self.camera_from_lidar * lidar).z
    }

    /// The cuboid's 12 edges in the image, each clipped at the near plane; edges wholly behind
    /// the camera are left out.
    pub fn project_cuboid_edges(&self, cuboid: &Cuboid) -> Vec<[Point2<f64>; 2]> {
        let corners = cuboid.corners().map(|c| self.camera_from_lidar * c);
        CUBOID_EDGES
            .iter()
            .filter_map(|[i, j]| {
                let (a, b) = clip_to_near(corners[*i], corners[*j])?;
                Some([self.intrinsics.project(a)?, self.intrinsics.project(b)?])
            })
            .collect()
    }

    /// The 2D box around the cuboid's projection (its 8 corners, edges clipped at the near
    /// plane), limited to `image_size` when given; `None` when nothing of it is in front of the
    /// camera (or inside the image).
    pub fn project_cuboid(&self, cuboid: &Cuboid, image_size: Option<[f64; 2]>) -> Option<Aabb2> {
        let edges = self.project_cuboid_edges(cuboid);
        let mut points = edges.iter().flatten();
        let first = *points.next()?;
        let (mut min, mut max) = (first, first);
        for p in points {
            min = min.inf(p);
            max = max.sup(p);
        }
        if let Some([w, h]) = image_size {
            min = Point2::new(min.x.clamp(0.0, w), min.y.clamp(0.0, h));
            max = Point2::new(max.x.clamp(0.0, w), max.y.clamp(0.0, h));
            if max.x - min.x <= 0.0 || max.y - min.y <= 0.0 {
                return None;
            }
        }
        Some(Aabb2::from_corners(min, max))
    }
}

/// The part of segment `a–b` (camera coordinates) in front of the near plane.
fn clip_to_near(a: Point3<f64>, b: Point3<f64>) -> Option<(Point3<f64>, Point3<f64>)> {
    let near = NEAR_PLANE_M;
    match (a.z >= near, b.z >= near) {
        (true, true) => Some((a, b)),
        (false, false) => None,
        (a_in, _) => {
            let t = (near - a.z) / (b.z - a.z);
            let cut = a + (b - a) * t;
            if a_in { Some((a, cut)) } else { Some((cut, b)) }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use nalgebra::Vector3;

    /// A camera 1.6 m up looking along +x (the quaternion of the demo's front camera: camera
    /// x → world −y, camera y → world −z, camera z → world +x).
    fn front_camera(intrinsics: Intrinsics, ego: Isometry3<f64>) -> SensorCamera {
        let world_from_camera = pose_isometry([0.0, 0.0, 1.6], [-0.5, 0.5, -0.5, 0.5]);
        SensorCamera::new(intrinsics, ego, world_from_camera)
    }

    #[test]
    fn a_world_point_lands_on_the_hand_computed_pixel() {
        let k = Intrinsics::pinhole(520.0, 520.0, 320.0, 200.0);
        let camera = front_camera(k, Isometry3::identity());
        // World (10, 2, 0.6): camera x = −2, y = 1.0, z = 10 → u = 520·(−0.2) + 320, v = 520·0.1 + 200.
        let p = camera.project(Point3::new(10.0, 2.0, 0.6)).unwrap();
        assert!((p - Point2::new(216.0, 252.0)).norm() < 1e-9, "{p}");
        assert!((camera.depth(Point3::new(10.0, 2.0, 0.6)) - 10.0).abs() < 1e-12);
        // Behind the camera: none.
        assert_eq!(camera.project(Point3::new(-5.0, 0.0, 1.0)), None);
        // The ego pose moves the lidar: a lidar point 1 m behind the same world point, with the
        // ego at x = 1 turned by 0°, lands on the same pixel.
        let ego = pose_isometry([1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]);
        let moved = front_camera(k, ego);
        let q = moved.project(Point3::new(9.0, 2.0, 0.6)).unwrap();
        assert!((q - p).norm() < 1e-9);
        // Ego yawed 90° (lidar x = world y): lidar (2, −10, 0.6) is world (10, 2, 0.6).
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let yawed = front_camera(k, pose_isometry([0.0, 0.0, 0.0], [0.0, 0.0, s, s]));
        let r = yawed.project(Point3::new(2.0, -10.0, 0.6)).unwrap();
        assert!((r - p).norm() < 1e-9, "{r}");
    }

    #[test]
    fn distortion_and_skew_follow_the_opencv_models() {
        let mut k = Intrinsics::pinhole(520.0, 520.0, 320.0, 200.0);
        k.distortion.k1 = 0.1;
        let camera = front_camera(k, Isometry3::identity());
        // a = −0.2, b = 0.1, r² = 0.05, radial = 1.005.
        let p = camera.project(Point3::new(10.0, 2.0, 0.6)).unwrap();
        assert!((p - Point2::new(520.0 * -0.201 + 320.0, 520.0 * 0.1005 + 200.0)).norm() < 1e-9);
        k.distortion = Distortion { p1: 0.01, p2: 0.02, ..Distortion::default() };
        k.skew = 2.0;
        let p = front_camera(k, Isometry3::identity()).project(Point3::new(10.0, 2.0, 0.6));
        // x = a + 2·p1·a·b + p2·(r² + 2a²) = −0.2 − 0.0004 + 0.0026; y = b + p1·(r² + 2b²) + 2·p2·a·b.
        let (x, y) = (-0.2 - 0.0004 + 0.0026, 0.1 + 0.0007 - 0.0008);
        let expected = Point2::new(520.0 * x + 2.0 * y + 320.0, 520.0 * y + 200.0);
        assert!((p.unwrap() - expected).norm() < 1e-9);
        // Fisheye: θ = atan(r), θd = θ(1 + k1 θ²).
        let mut f = Intrinsics::pinhole(300.0, 300.0, 320.0, 240.0);
        f.model = LensModel::Fisheye;
        f.distortion.k1 = 0.05;
        let on_axis = f.project(Point3::new(0.0, 0.0, 4.0)).unwrap();
        assert!((on_axis - Point2::new(320.0, 240.0)).norm() < 1e-12);
        let q = f.project(Point3::new(1.0, 0.0, 1.0)).unwrap();
        let theta = std::f64::consts::FRAC_PI_4;
        let theta_d = theta * (1.0 + 0.05 * theta * theta);
        assert!((q.x - (300.0 * theta_d + 320.0)).abs() < 1e-9);
        assert_eq!(f.matrix()[(0, 2)], 320.0);
    }

    #[test]
    fn cuboids_project_to_boxes_and_clip_at_the_near_plane() {
        let k = Intrinsics::pinhole(520.0, 520.0, 320.0, 200.0);
        let camera = front_camera(k, Isometry3::identity());
        let cuboid = Cuboid::axis_aligned(Point3::new(10.0, 0.0, 1.6), Vector3::new(2.0, 2.0, 2.0));
        let b = camera.project_cuboid(&cuboid, None).unwrap();
        // Nearest face at x = 9: ±1 m → ±520/9 px around the centre.
        assert!((b.left() - (320.0 - 520.0 / 9.0)).abs() < 1e-9);
        assert!((b.width() - 2.0 * 520.0 / 9.0).abs() < 1e-9);
        assert_eq!(camera.project_cuboid_edges(&cuboid).len(), 12);
        // Straddling the camera: some edges clipped, still a box; wholly behind: none.
        let around = Cuboid::axis_aligned(Point3::new(0.0, 0.0, 1.6), Vector3::new(4.0, 2.0, 2.0));
        assert!(camera.project_cuboid(&around, Some([640.0, 400.0])).is_some());
        assert!(camera.project_cuboid_edges(&around).len() < 12);
        let behind = Cuboid::axis_aligned(Point3::new(-10.0, 0.0, 1.6), Vector3::repeat(2.0));
        assert!(camera.project_cuboid(&behind, None).is_none());
        // Bad quaternions fall back to identity rather than NaN.
        let iso = pose_isometry([f64::NAN, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0]);
        assert_eq!(iso.translation.vector, Vector3::new(0.0, 1.0, 2.0));
    }
}
