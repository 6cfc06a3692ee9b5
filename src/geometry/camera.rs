//! A 3D camera for point-cloud views: orbit around a target, pan, zoom, fly; perspective and
//! orthographic projections with wgpu's `0..=1` clip-space depth; the standard top, side, front
//! and orbit views; projection of world points to pixels and of pixels to rays.
//!
//! # Orientation
//!
//! The camera looks along `forward`, given by two angles:
//! - `yaw_rad`: azimuth of the viewing direction in the xy-plane, counter-clockwise from +x;
//! - `pitch_rad`: how far the viewing direction points *down* below the horizon (`π/2` looks
//!   straight down).
//!
//! The screen's right axis is the horizontal direction `(sin yaw, −cos yaw, 0)`, which stays
//! well defined when looking straight down, and up is `right × forward`. Hence the top view
//! (yaw `π/2`, pitch `π/2`) shows +x to the right and +y up: north up, as GIS users expect.
//!
//! The eye sits `distance` behind the target: `eye = target − forward · distance`. View space is
//! the usual right-handed camera frame (x right, y up, looking along −z).

use nalgebra::{Matrix4, Point2, Point3, Rotation3, Unit, Vector2, Vector3, Vector4};
use std::f64::consts::FRAC_PI_2;

/// Size of a viewport in physical pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    /// Width in pixels.
    pub width_px: f64,
    /// Height in pixels.
    pub height_px: f64,
}

impl Viewport {
    /// A viewport of `width_px × height_px` pixels (each at least one pixel).
    pub fn new(width_px: u32, height_px: u32) -> Self {
        Self { width_px: f64::from(width_px.max(1)), height_px: f64::from(height_px.max(1)) }
    }

    /// Width over height.
    pub fn aspect(&self) -> f64 {
        self.width_px / self.height_px.max(1.0)
    }
}

/// How view space is projected onto the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// Pin-hole perspective with the camera's vertical field of view.
    Perspective,
    /// Parallel projection. The visible height is the height the perspective camera would see at
    /// the target, `2 · distance · tan(fov_y / 2)`, so zooming works the same in both.
    Orthographic,
}

/// The standard views of a point-cloud tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandardView {
    /// Looking down −z, +x right, +y up (orthographic).
    Top,
    /// Looking along +y from the −y side, +x right, +z up (orthographic). For a vehicle frame
    /// (x forward, y left) this shows the vehicle's right side, heading to the right.
    Side,
    /// Looking along −x from the +x side, +y right, +z up (orthographic). For a vehicle frame this
    /// faces the front of the vehicle.
    Front,
    /// A perspective three-quarter view from the south-west, 30° above the horizon.
    Orbit,
}

/// A ray in world space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ray {
    /// Where the ray starts (the eye, or a point on the image plane for orthographic views).
    pub origin: Point3<f64>,
    /// Unit direction.
    pub direction: Unit<Vector3<f64>>,
}

impl Ray {
    /// The point `t` units along the ray.
    pub fn at(&self, t: f64) -> Point3<f64> {
        self.origin + self.direction.into_inner() * t
    }

    /// Where the ray meets the horizontal plane `z = z_m`, if it does in front of its origin.
    pub fn intersect_z_plane(&self, z_m: f64) -> Option<Point3<f64>> {
        let dz = self.direction.z;
        if dz.abs() < 1e-12 {
            return None;
        }
        let t = (z_m - self.origin.z) / dz;
        (t >= 0.0).then(|| self.at(t))
    }
}

/// Smallest distance from eye to target, so that zooming never passes through the target.
const MIN_DISTANCE: f64 = 1e-4;

/// An orbit/fly camera. See the module documentation for the conventions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// The point the camera orbits around and looks at.
    pub target: Point3<f64>,
    /// Azimuth of the viewing direction, counter-clockwise from +x (radians).
    pub yaw_rad: f64,
    /// Angle of the viewing direction below the horizon (radians, −π/2..=π/2).
    pub pitch_rad: f64,
    /// Distance from the eye to the target (world units).
    pub distance: f64,
    /// Vertical field of view (radians); also sets the orthographic view height.
    pub fov_y_rad: f64,
    /// Perspective or orthographic.
    pub projection: Projection,
    /// Near clip distance from the eye (perspective). Orthographic views clip at `−far..far`.
    pub near: f64,
    /// Far clip distance from the eye.
    pub far: f64,
}

impl Default for Camera {
    fn default() -> Self {
        Self::standard(StandardView::Orbit)
    }
}

impl Camera {
    /// A camera in one of the standard views, looking at the origin from 10 units away.
    /// Use [`Camera::fit_to_bounds`] to frame data.
    pub fn standard(view: StandardView) -> Self {
        let mut camera = Self {
            target: Point3::origin(),
            yaw_rad: 0.0,
            pitch_rad: 0.0,
            distance: 10.0,
            fov_y_rad: 45f64.to_radians(),
            projection: Projection::Perspective,
            near: 0.01,
            far: 1000.0,
        };
        camera.set_standard_view(view);
        camera
    }

    /// Turns the camera to a standard view, keeping target and distance.
    pub fn set_standard_view(&mut self, view: StandardView) {
        let (yaw_deg, pitch_deg, projection) = match view {
            StandardView::Top => (90.0, 90.0, Projection::Orthographic),
            StandardView::Side => (90.0, 0.0, Projection::Orthographic),
            StandardView::Front => (180.0, 0.0, Projection::Orthographic),
            StandardView::Orbit => (45.0, 30.0, Projection::Perspective),
        };
        self.yaw_rad = f64::to_radians(yaw_deg);
        self.pitch_rad = f64::to_radians(pitch_deg);
        self.projection = projection;
    }

    /// Unit viewing direction.
    pub fn forward(&self) -> Vector3<f64> {
        let (sy, cy) = self.yaw_rad.sin_cos();
        let (sp, cp) = self.pitch_rad.sin_cos();
        Vector3::new(cp * cy, cp * sy, -sp)
    }

    /// Unit vector pointing right on screen (always horizontal).
    pub fn right(&self) -> Vector3<f64> {
        let (sy, cy) = self.yaw_rad.sin_cos();
        Vector3::new(sy, -cy, 0.0)
    }

    /// Unit vector pointing up on screen.
    pub fn up(&self) -> Vector3<f64> {
        self.right().cross(&self.forward())
    }

    /// Eye position.
    pub fn eye(&self) -> Point3<f64> {
        self.target - self.forward() * self.distance
    }

    /// Rotation taking view-space axes (x right, y up, z back) to world axes.
    fn world_from_view_rotation(&self) -> Rotation3<f64> {
        Rotation3::from_basis_unchecked(&[self.right(), self.up(), -self.forward()])
    }

    /// Rigid transform from view space to world space.
    pub fn world_from_view(&self) -> Matrix4<f64> {
        let mut m = self.world_from_view_rotation().to_homogeneous();
        let eye = self.eye();
        m[(0, 3)] = eye.x;
        m[(1, 3)] = eye.y;
        m[(2, 3)] = eye.z;
        m
    }

    /// Rigid transform from world space to view space.
    pub fn view_from_world(&self) -> Matrix4<f64> {
        let rotation = self.world_from_view_rotation().inverse();
        let eye = self.eye();
        let t = -(rotation * eye.coords);
        let mut m = rotation.to_homogeneous();
        m[(0, 3)] = t.x;
        m[(1, 3)] = t.y;
        m[(2, 3)] = t.z;
        m
    }

    /// Half of the visible height at the target distance (world units).
    pub fn half_height_at_target(&self) -> f64 {
        self.distance * (self.fov_y_rad * 0.5).tan()
    }

    /// World units covered by one pixel at the target distance.
    pub fn world_units_per_px(&self, viewport: Viewport) -> f64 {
        2.0 * self.half_height_at_target() / viewport.height_px
    }

    /// Projection from view space to wgpu clip space (depth `0..=1`).
    ///
    /// nalgebra's projections are OpenGL-style (depth −1..1); this applies the correction
    /// `z' = z/2 + w/2`, without which geometry near the camera is clipped away.
    pub fn clip_from_view(&self, viewport: Viewport) -> Matrix4<f64> {
        let aspect = viewport.aspect();
        let gl = match self.projection {
            Projection::Perspective => {
                let near = self.near.max(1e-6);
                let far = self.far.max(near * 2.0);
                nalgebra::Perspective3::new(aspect, self.fov_y_rad, near, far).to_homogeneous()
            }
            Projection::Orthographic => {
                let half_h = self.half_height_at_target();
                let half_w = half_h * aspect;
                let far = self.far.max(1e-6);
                nalgebra::Orthographic3::new(-half_w, half_w, -half_h, half_h, -far, far)
                    .to_homogeneous()
            }
        };
        depth_zero_to_one() * gl
    }

    /// Projection from world space to wgpu clip space.
    pub fn clip_from_world(&self, viewport: Viewport) -> Matrix4<f64> {
        self.clip_from_view(viewport) * self.view_from_world()
    }

    /// Projection from a local frame whose origin sits at `origin` in world space (the frame of
    /// a point cloud's f32 positions) to clip space. Computed in f64, so it can be cast to f32
    /// for the GPU without losing the precision of large world coordinates.
    pub fn clip_from_local(&self, viewport: Viewport, origin: [f64; 3]) -> Matrix4<f64> {
        self.clip_from_world(viewport)
            * Matrix4::new_translation(&Vector3::new(origin[0], origin[1], origin[2]))
    }

    /// Where a world point lands in the viewport, in continuous pixel coordinates (origin
    /// top-left, y down), or `None` when it is behind the camera.
    pub fn world_to_pixel(&self, world: Point3<f64>, viewport: Viewport) -> Option<Point2<f64>> {
        let clip = self.clip_from_world(viewport) * Vector4::new(world.x, world.y, world.z, 1.0);
        if clip.w <= 1e-12 {
            return None;
        }
        Some(pixel_from_ndc(clip.x / clip.w, clip.y / clip.w, viewport))
    }

    /// The ray through a pixel position (continuous pixel coordinates).
    pub fn pixel_to_ray(&self, pixel: Point2<f64>, viewport: Viewport) -> Ray {
        let ndc_x = 2.0 * pixel.x / viewport.width_px - 1.0;
        let ndc_y = 1.0 - 2.0 * pixel.y / viewport.height_px;
        let half_h = (self.fov_y_rad * 0.5).tan();
        let half_w = half_h * viewport.aspect();
        match self.projection {
            Projection::Perspective => {
                let direction =
                    self.forward() + self.right() * (ndc_x * half_w) + self.up() * (ndc_y * half_h);
                Ray { origin: self.eye(), direction: Unit::new_normalize(direction) }
            }
            Projection::Orthographic => {
                let origin = self.eye()
                    + self.right() * (ndc_x * half_w * self.distance)
                    + self.up() * (ndc_y * half_h * self.distance);
                Ray { origin, direction: Unit::new_normalize(self.forward()) }
            }
        }
    }

    /// Orbits around the target: adds to yaw and pitch (radians); pitch is clamped to ±π/2.
    pub fn orbit(&mut self, delta_yaw_rad: f64, delta_pitch_rad: f64) {
        self.yaw_rad = wrap_angle(self.yaw_rad + delta_yaw_rad);
        self.pitch_rad = (self.pitch_rad + delta_pitch_rad).clamp(-FRAC_PI_2, FRAC_PI_2);
    }

    /// Pans by a mouse drag of `delta_px` (pixels, y down): the content under the cursor follows
    /// the cursor on the plane through the target.
    pub fn pan_px(&mut self, delta_px: Vector2<f64>, viewport: Viewport) {
        let units = self.world_units_per_px(viewport);
        self.target -= self.right() * (delta_px.x * units);
        self.target += self.up() * (delta_px.y * units);
    }

    /// Zooms by `factor` (> 1 zooms in) towards the target.
    pub fn zoom(&mut self, factor: f64) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        self.distance = (self.distance / factor).max(MIN_DISTANCE);
        // Keep the near plane well in front of the target when zooming in.
        self.near = self.near.min(self.distance * 0.1);
    }

    /// Zooms by `factor` keeping the point under `pixel` (on the plane through the target) fixed
    /// on screen, as map viewers do.
    pub fn zoom_about_px(&mut self, factor: f64, pixel: Point2<f64>, viewport: Viewport) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        let ndc_x = 2.0 * pixel.x / viewport.width_px - 1.0;
        let ndc_y = 1.0 - 2.0 * pixel.y / viewport.height_px;
        let half_h = self.half_height_at_target();
        let half_w = half_h * viewport.aspect();
        let offset = self.right() * (ndc_x * half_w) + self.up() * (ndc_y * half_h);
        let before = self.distance;
        self.zoom(factor);
        let scale = self.distance / before;
        self.target += offset * (1.0 - scale);
    }

    /// Moves eye and target together along the camera axes (first-person "fly").
    pub fn fly_move(&mut self, forward: f64, right: f64, up: f64) {
        self.target += self.forward() * forward + self.right() * right + self.up() * up;
    }

    /// Turns the camera around its eye (first-person look), keeping the eye fixed.
    pub fn fly_look(&mut self, delta_yaw_rad: f64, delta_pitch_rad: f64) {
        let eye = self.eye();
        self.orbit(delta_yaw_rad, delta_pitch_rad);
        self.target = eye + self.forward() * self.distance;
    }

    /// Frames the axis-aligned box `min..max` in the viewport (keeping the viewing direction and
    /// projection) and sets near/far to enclose it with margin. Orthographic views fit the box's
    /// projected extent tightly (so a long, flat box fills a side view); perspective views fit
    /// its bounding sphere.
    pub fn fit_to_bounds(&mut self, min: Point3<f64>, max: Point3<f64>, viewport: Viewport) {
        const MARGIN: f64 = 1.05;
        let center = nalgebra::center(&min, &max);
        let radius = ((max - min).norm() * 0.5).max(1e-3);
        let tan_half_y = (self.fov_y_rad * 0.5).tan();
        let aspect = viewport.aspect();
        match self.projection {
            Projection::Perspective => {
                let half_fov_min = (tan_half_y * aspect.min(1.0)).atan();
                self.distance = radius / half_fov_min.sin() * MARGIN;
                self.target = center;
            }
            Projection::Orthographic => {
                let (right, up) = (self.right(), self.up());
                let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
                for i in 0..8 {
                    let corner = Vector3::new(
                        if i & 1 == 0 { min.x } else { max.x },
                        if i & 2 == 0 { min.y } else { max.y },
                        if i & 4 == 0 { min.z } else { max.z },
                    ) - center.coords;
                    for (k, axis) in [right, up].iter().enumerate() {
                        let v = corner.dot(axis);
                        lo[k] = lo[k].min(v);
                        hi[k] = hi[k].max(v);
                    }
                }
                let half_w = ((hi[0] - lo[0]) * 0.5).max(1e-3);
                let half_h = ((hi[1] - lo[1]) * 0.5).max(1e-3);
                let needed_half_h = half_h.max(half_w / aspect) * MARGIN;
                self.distance = needed_half_h / tan_half_y;
                self.target =
                    center + right * ((lo[0] + hi[0]) * 0.5) + up * ((lo[1] + hi[1]) * 0.5);
            }
        }
        self.near = (self.distance - radius * 1.5).max(self.distance * 1e-3);
        self.far = self.distance + radius * 3.0;
    }
}

/// wgpu clip space keeps depth in `0..=1`; nalgebra's OpenGL-style matrices produce −1..1.
fn depth_zero_to_one() -> Matrix4<f64> {
    Matrix4::new(
        1.0, 0.0, 0.0, 0.0, //
        0.0, 1.0, 0.0, 0.0, //
        0.0, 0.0, 0.5, 0.5, //
        0.0, 0.0, 0.0, 1.0,
    )
}

/// Continuous pixel coordinates of a normalised device coordinate.
pub fn pixel_from_ndc(ndc_x: f64, ndc_y: f64, viewport: Viewport) -> Point2<f64> {
    Point2::new((ndc_x + 1.0) * 0.5 * viewport.width_px, (1.0 - ndc_y) * 0.5 * viewport.height_px)
}

fn wrap_angle(angle: f64) -> f64 {
    let two_pi = std::f64::consts::TAU;
    let a = angle.rem_euclid(two_pi);
    if a > std::f64::consts::PI { a - two_pi } else { a }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn assert_close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn top_view_is_north_up() {
        let camera = Camera::standard(StandardView::Top);
        assert!((camera.right() - Vector3::x()).norm() < 1e-12);
        assert!((camera.up() - Vector3::y()).norm() < 1e-12);
        assert!((camera.forward() + Vector3::z()).norm() < 1e-12);
        let vp = Viewport::new(200, 100);
        let center = camera.world_to_pixel(Point3::origin(), vp).unwrap();
        let east = camera.world_to_pixel(Point3::new(1.0, 0.0, 0.0), vp).unwrap();
        let north = camera.world_to_pixel(Point3::new(0.0, 1.0, 0.0), vp).unwrap();
        assert_close(center.x, 100.0);
        assert_close(center.y, 50.0);
        assert!(east.x > center.x && (east.y - center.y).abs() < 1e-9);
        assert!(north.y < center.y && (north.x - center.x).abs() < 1e-9);
    }

    #[test]
    fn clip_depth_is_zero_to_one() {
        let mut camera = Camera::standard(StandardView::Orbit);
        camera.near = 1.0;
        camera.far = 100.0;
        camera.distance = 10.0;
        let vp = Viewport::new(100, 100);
        let m = camera.clip_from_world(vp);
        let at = |d: f64| {
            let p = camera.eye() + camera.forward() * d;
            let c = m * Vector4::new(p.x, p.y, p.z, 1.0);
            c.z / c.w
        };
        assert_close(at(1.0), 0.0);
        assert!((at(100.0) - 1.0).abs() < 1e-9);
        camera.projection = Projection::Orthographic;
        let m = camera.clip_from_world(vp);
        let p = camera.target;
        let c = m * Vector4::new(p.x, p.y, p.z, 1.0);
        assert!(c.z / c.w > 0.0 && c.z / c.w < 1.0);
    }

    #[test]
    fn ray_through_projected_pixel_hits_the_point() {
        for projection in [Projection::Perspective, Projection::Orthographic] {
            let mut camera = Camera::standard(StandardView::Orbit);
            camera.projection = projection;
            camera.target = Point3::new(3.0, -2.0, 1.0);
            let vp = Viewport::new(320, 240);
            let world = Point3::new(4.0, -1.5, 0.25);
            let pixel = camera.world_to_pixel(world, vp).unwrap();
            let ray = camera.pixel_to_ray(pixel, vp);
            let to_point = world - ray.origin;
            let off_axis = to_point - ray.direction.into_inner() * to_point.dot(&ray.direction);
            assert!(off_axis.norm() < 1e-9, "{projection:?}: {}", off_axis.norm());
        }
    }

    #[test]
    fn pan_keeps_the_grabbed_point_under_the_cursor() {
        for view in [StandardView::Top, StandardView::Side, StandardView::Front] {
            let mut camera = Camera::standard(view);
            let vp = Viewport::new(400, 300);
            let world = camera.target + camera.right() * 1.5 + camera.up() * 0.5;
            let before = camera.world_to_pixel(world, vp).unwrap();
            camera.pan_px(Vector2::new(17.0, -9.0), vp);
            let after = camera.world_to_pixel(world, vp).unwrap();
            assert_close(after.x - before.x, 17.0);
            assert_close(after.y - before.y, -9.0);
        }
    }

    #[test]
    fn zoom_about_pixel_keeps_that_pixel_fixed() {
        let mut camera = Camera::standard(StandardView::Top);
        let vp = Viewport::new(400, 300);
        let pixel = Point2::new(300.0, 60.0);
        let ray = camera.pixel_to_ray(pixel, vp);
        let world = ray.intersect_z_plane(0.0).unwrap();
        camera.zoom_about_px(2.5, pixel, vp);
        let after = camera.world_to_pixel(world, vp).unwrap();
        assert_close(after.x, pixel.x);
        assert_close(after.y, pixel.y);
    }

    #[test]
    fn fly_look_keeps_the_eye() {
        let mut camera = Camera::standard(StandardView::Orbit);
        let eye = camera.eye();
        camera.fly_look(0.3, -0.2);
        assert!((camera.eye() - eye).norm() < 1e-9);
        camera.fly_move(1.0, 0.0, 0.0);
        assert!((camera.eye() - (eye + camera.forward())).norm() < 1e-9);
    }

    #[test]
    fn fit_to_bounds_shows_every_corner() {
        for view in
            [StandardView::Top, StandardView::Side, StandardView::Front, StandardView::Orbit]
        {
            let mut camera = Camera::standard(view);
            let vp = Viewport::new(300, 200);
            let (min, max) = (Point3::new(100.0, 200.0, -5.0), Point3::new(140.0, 210.0, 5.0));
            camera.fit_to_bounds(min, max, vp);
            for i in 0..8 {
                let p = Point3::new(
                    if i & 1 == 0 { min.x } else { max.x },
                    if i & 2 == 0 { min.y } else { max.y },
                    if i & 4 == 0 { min.z } else { max.z },
                );
                let px = camera.world_to_pixel(p, vp).unwrap();
                assert!((0.0..=300.0).contains(&px.x) && (0.0..=200.0).contains(&px.y), "{view:?}");
                let clip = camera.clip_from_world(vp) * Vector4::new(p.x, p.y, p.z, 1.0);
                assert!((0.0..=1.0).contains(&(clip.z / clip.w)), "{view:?} depth");
            }
        }
    }

    #[test]
    fn orthographic_fit_is_tight() {
        // A long, flat box seen from the side fills the width (40 of 300 px would be a
        // bounding-sphere fit).
        let mut camera = Camera::standard(StandardView::Side);
        let vp = Viewport::new(300, 200);
        let (min, max) = (Point3::new(0.0, 0.0, 0.0), Point3::new(40.0, 20.0, 5.0));
        camera.fit_to_bounds(min, max, vp);
        let left = camera.world_to_pixel(Point3::new(0.0, 10.0, 2.5), vp).unwrap();
        let right = camera.world_to_pixel(Point3::new(40.0, 10.0, 2.5), vp).unwrap();
        let width = right.x - left.x;
        assert!(width > 280.0 && width <= 300.0, "{width}");
        assert!((left.x + right.x - 300.0).abs() < 1e-9, "centred");
        assert!((left.y - 100.0).abs() < 1e-9);
    }
}
