//! Fitting geometry to points: a cuboid to the points it encloses ("snap", Alt+O), a cuboid onto
//! the ground plane under it (Alt+G), and the ground plane itself (RANSAC plus a least-squares
//! refinement on the inliers, deterministic for a given seed) with the classification of ground
//! points that "ground removal" hides.
//!
//! Pure maths on nalgebra types; must not depend on any other module of the crate but
//! [`super::cuboid`].

use nalgebra::{Matrix3, Point3, Unit, Vector3};

use super::cuboid::Cuboid;

/// A plane `normal · p = offset`, the normal a unit vector pointing up (`normal.z ≥ 0`) for
/// ground planes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plane {
    /// Unit normal.
    pub normal: Unit<Vector3<f64>>,
    /// Distance of the plane from the origin along the normal.
    pub offset: f64,
}

impl Plane {
    /// The horizontal plane `z = z_m`.
    pub fn horizontal(z_m: f64) -> Self {
        Self { normal: Vector3::z_axis(), offset: z_m }
    }

    /// The plane through `point` with `normal` (normalised; `None` when it is zero or not
    /// finite).
    pub fn through(point: Point3<f64>, normal: Vector3<f64>) -> Option<Self> {
        let normal = Unit::try_new(normal, 1e-12)?;
        let offset = normal.dot(&point.coords);
        offset.is_finite().then_some(Self { normal, offset })
    }

    /// Signed distance of `point` from the plane (positive on the normal's side: above ground).
    pub fn signed_distance(&self, point: Point3<f64>) -> f64 {
        self.normal.dot(&point.coords) - self.offset
    }

    /// The plane's z over `(x, y)`, or `None` for (nearly) vertical planes.
    pub fn z_at(&self, x: f64, y: f64) -> Option<f64> {
        let nz = self.normal.z;
        (nz.abs() > 1e-6).then(|| (self.offset - self.normal.x * x - self.normal.y * y) / nz)
    }

    /// The same plane in a frame whose origin sits at `origin` of this one (`p' = p − origin`).
    pub fn relative_to(&self, origin: Vector3<f64>) -> Self {
        Self { normal: self.normal, offset: self.offset - self.normal.dot(&origin) }
    }

    /// Angle between the normal and +z (radians).
    pub fn tilt_rad(&self) -> f64 {
        self.normal.z.abs().clamp(0.0, 1.0).acos()
    }
}

/// How [`fit_ground`] searches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroundFitOptions {
    /// RANSAC hypotheses tried.
    pub iterations: usize,
    /// Points this close to a hypothesis count as its inliers (metres).
    pub inlier_distance_m: f64,
    /// Most points scored per hypothesis (an even random subsample of larger clouds).
    pub max_samples: usize,
    /// Hypotheses tilted more than this from horizontal are rejected (walls are not ground).
    pub max_tilt_rad: f64,
    /// Seed of the random sampling: the same seed and points give the same plane.
    pub seed: u64,
}

impl Default for GroundFitOptions {
    fn default() -> Self {
        Self {
            iterations: 200,
            inlier_distance_m: 0.15,
            max_samples: 20_000,
            max_tilt_rad: 20f64.to_radians(),
            seed: 0x6772_6f75_6e64,
        }
    }
}

/// A fitted ground plane and how well it fits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroundFit {
    /// The plane (normal up).
    pub plane: Plane,
    /// Share of the scored points within the inlier distance (0–1).
    pub inlier_ratio: f64,
    /// Root-mean-square distance of the inliers from the plane (metres).
    pub rms_m: f64,
}

/// Fits the dominant near-horizontal plane of `points` (coordinates in any frame; the plane is
/// in the same frame): RANSAC over three-point hypotheses, then a least-squares plane through
/// the best hypothesis' inliers, refined twice. `None` with fewer than three points or when no
/// hypothesis is flat enough.
pub fn fit_ground(points: &[[f32; 3]], options: &GroundFitOptions) -> Option<GroundFit> {
    if points.len() < 3 || options.max_samples < 3 {
        return None;
    }
    let mut rng = fastrand::Rng::with_seed(options.seed);
    // An even subsample: every k-th point from a random start.
    let step = points.len().div_ceil(options.max_samples).max(1);
    let start = rng.usize(..step);
    let sample: Vec<Point3<f64>> = points
        .iter()
        .skip(start)
        .step_by(step)
        .filter(|p| p.iter().all(|v| v.is_finite()))
        .map(|p| Point3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2])))
        .collect();
    if sample.len() < 3 {
        return None;
    }
    let threshold = options.inlier_distance_m.max(1e-6);
    let max_tilt_cos = options.max_tilt_rad.clamp(0.0, std::f64::consts::FRAC_PI_2).cos();
    let mut best: Option<(usize, Plane)> = None;
    for _ in 0..options.iterations.max(1) {
        let (a, b, c) = (
            sample[rng.usize(..sample.len())],
            sample[rng.usize(..sample.len())],
            sample[rng.usize(..sample.len())],
        );
        let mut normal = (b - a).cross(&(c - a));
        if normal.z < 0.0 {
            normal = -normal;
        }
        let Some(plane) = Plane::through(a, normal) else { continue };
        if plane.normal.z < max_tilt_cos {
            continue;
        }
        let count = sample.iter().filter(|p| plane.signed_distance(**p).abs() <= threshold).count();
        if best.is_none_or(|(n, _)| count > n) {
            best = Some((count, plane));
        }
    }
    let (_, mut plane) = best?;
    for _ in 0..2 {
        let inliers: Vec<Point3<f64>> = sample
            .iter()
            .copied()
            .filter(|p| plane.signed_distance(*p).abs() <= threshold)
            .collect();
        match least_squares_plane(&inliers) {
            Some(refined) if refined.normal.z >= max_tilt_cos => plane = refined,
            _ => break,
        }
    }
    let distances: Vec<f64> =
        sample.iter().map(|p| plane.signed_distance(*p)).filter(|d| d.abs() <= threshold).collect();
    let inlier_ratio = distances.len() as f64 / sample.len() as f64;
    let rms_m = if distances.is_empty() {
        0.0
    } else {
        (distances.iter().map(|d| d * d).sum::<f64>() / distances.len() as f64).sqrt()
    };
    Some(GroundFit { plane, inlier_ratio, rms_m })
}

/// The plane through the centroid of `points` whose normal is the covariance's smallest
/// eigenvector, oriented up. `None` with fewer than three points.
pub fn least_squares_plane(points: &[Point3<f64>]) -> Option<Plane> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let centroid = points.iter().fold(Vector3::zeros(), |acc, p| acc + p.coords) / n;
    let mut covariance = Matrix3::zeros();
    for p in points {
        let d = p.coords - centroid;
        covariance += d * d.transpose();
    }
    let eigen = covariance.symmetric_eigen();
    let (smallest, _) = eigen.eigenvalues.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1))?;
    let mut normal: Vector3<f64> = eigen.eigenvectors.column(smallest).into_owned();
    if normal.z < 0.0 {
        normal = -normal;
    }
    Plane::through(Point3::from(centroid), normal)
}

/// Which points are ground: at most `distance_m` above `plane` (points below it, noise under
/// the road surface, count as ground too). `plane` is in the points' frame.
pub fn classify_ground(points: &[[f32; 3]], plane: &Plane, distance_m: f64) -> Vec<bool> {
    points
        .iter()
        .map(|p| {
            let p = Point3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2]));
            plane.signed_distance(p) <= distance_m
        })
        .collect()
}

/// How [`fit_to_points`] chooses and bounds the points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Points up to this far outside the cuboid still count as enclosed (metres), so a box drawn
    /// a little small still snaps to the whole object.
    pub search_margin_m: f64,
    /// Space left between the points and each face of the fitted box (metres).
    pub margin_m: f64,
    /// Fewest points a fit needs.
    pub min_points: usize,
    /// Smallest edge of the fitted box (metres).
    pub min_size_m: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self { search_margin_m: 0.25, margin_m: 0.0, min_points: 3, min_size_m: 0.05 }
    }
}

/// Fits `cuboid` to the points it encloses (within `search_margin_m`): keeps its orientation
/// and makes its faces touch the extreme points in its own frame, plus `margin_m`. `None` when
/// fewer than `min_points` points are enclosed.
pub fn fit_to_points<I>(cuboid: &Cuboid, points: I, options: &FitOptions) -> Option<Cuboid>
where
    I: IntoIterator<Item = Point3<f64>>,
{
    let rotation = cuboid.rotation();
    let inverse = rotation.inverse();
    let half = cuboid.size * 0.5 + Vector3::repeat(options.search_margin_m.max(0.0));
    let mut lo = Vector3::repeat(f64::INFINITY);
    let mut hi = Vector3::repeat(f64::NEG_INFINITY);
    let mut count = 0usize;
    for point in points {
        let local = inverse * (point - cuboid.center);
        if local.x.abs() <= half.x && local.y.abs() <= half.y && local.z.abs() <= half.z {
            lo = lo.inf(&local);
            hi = hi.sup(&local);
            count += 1;
        }
    }
    if count < options.min_points.max(1) {
        return None;
    }
    let margin = Vector3::repeat(options.margin_m.max(0.0));
    let size = (hi - lo + margin * 2.0).map(|v| v.max(options.min_size_m));
    let local_center = (lo + hi) * 0.5;
    Some(Cuboid { center: cuboid.center + rotation * local_center, size, ..*cuboid })
}

/// Moves `cuboid` vertically so its lowest corner rests on `plane` under its centre (size and
/// orientation kept). `None` when the plane is vertical.
pub fn set_on_ground(cuboid: &Cuboid, plane: &Plane) -> Option<Cuboid> {
    let ground_z = plane.z_at(cuboid.center.x, cuboid.center.y)?;
    let lowest = cuboid.corners().iter().map(|c| c.z).fold(f64::INFINITY, f64::min);
    let drop = lowest - ground_z;
    let mut out = *cuboid;
    out.center.z -= drop;
    Some(out)
}

/// Stretches `cuboid` down to `plane` when its lowest corner floats at most `max_gap_m` above the
/// ground under its centre (the top stays): after a fit that ignored ground points, the box
/// reaches the ground again. Unchanged otherwise.
pub fn extend_to_ground(cuboid: &Cuboid, plane: &Plane, max_gap_m: f64) -> Cuboid {
    let Some(ground_z) = plane.z_at(cuboid.center.x, cuboid.center.y) else { return *cuboid };
    let lowest = cuboid.corners().iter().map(|c| c.z).fold(f64::INFINITY, f64::min);
    let gap = lowest - ground_z;
    if !(gap > 0.0 && gap <= max_gap_m) {
        return *cuboid;
    }
    let mut out = *cuboid;
    out.size.z += gap;
    out.center.z -= gap * 0.5;
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn fit_to_points_recovers_a_known_yawed_cluster() {
        let truth = Cuboid {
            center: Point3::new(5.0, 2.0, 1.0),
            size: Vector3::new(4.0, 2.0, 1.5),
            yaw_rad: 0.3,
            pitch_rad: 0.0,
            roll_rad: 0.0,
        };
        // The 8 corners plus a deterministic scatter inside, and clutter far away.
        let mut points: Vec<Point3<f64>> = truth.corners().to_vec();
        let mut rng = fastrand::Rng::with_seed(3);
        let rotation = truth.rotation();
        for _ in 0..500 {
            let local = Vector3::new(
                (rng.f64() - 0.5) * 4.0,
                (rng.f64() - 0.5) * 2.0,
                (rng.f64() - 0.5) * 1.5,
            );
            points.push(truth.center + rotation * local);
        }
        points.push(Point3::new(20.0, 2.0, 1.0));
        points.push(Point3::new(5.0, 9.0, 1.0));
        // A first guess: too big, shifted, same yaw.
        let guess = Cuboid {
            center: Point3::new(5.3, 2.2, 1.1),
            size: Vector3::new(5.0, 3.0, 2.0),
            ..truth
        };
        let fitted = fit_to_points(&guess, points.iter().copied(), &FitOptions::default()).unwrap();
        assert!((fitted.center - truth.center).norm() < 1e-9, "{fitted:?}");
        assert!((fitted.size - truth.size).norm() < 1e-9, "{fitted:?}");
        assert_eq!(fitted.yaw_rad, 0.3);
        // A margin grows every face.
        let options = FitOptions { margin_m: 0.1, ..FitOptions::default() };
        let padded = fit_to_points(&guess, points.iter().copied(), &options).unwrap();
        assert!((padded.size - Vector3::new(4.2, 2.2, 1.7)).norm() < 1e-9);
        // Nothing enclosed: no fit.
        let empty = Cuboid { center: Point3::new(-50.0, 0.0, 0.0), ..guess };
        assert!(fit_to_points(&empty, points.iter().copied(), &FitOptions::default()).is_none());
    }

    #[test]
    fn ground_fit_recovers_a_noisy_tilted_plane_and_classifies_it() {
        // z = 0.02 x − 0.01 y + 0.5, with ±5 cm noise; a wall and a box of clutter above it.
        let mut rng = fastrand::Rng::with_seed(11);
        let mut points = Vec::new();
        for _ in 0..20_000 {
            let (x, y) = (rng.f64() * 60.0 - 30.0, rng.f64() * 40.0 - 20.0);
            let noise = (rng.f64() - 0.5) * 0.1;
            points.push([x as f32, y as f32, (0.02 * x - 0.01 * y + 0.5 + noise) as f32]);
        }
        let ground_count = points.len();
        for _ in 0..6_000 {
            let (x, z) = (rng.f64() * 60.0 - 30.0, rng.f64() * 8.0);
            points.push([x as f32, 20.0, z as f32]);
        }
        for _ in 0..3_000 {
            let (x, y, z) = (rng.f64() * 4.0, rng.f64() * 2.0, 1.0 + rng.f64() * 1.5);
            points.push([x as f32, y as f32, z as f32]);
        }
        let fit = fit_ground(&points, &GroundFitOptions::default()).unwrap();
        let expected = Unit::new_normalize(Vector3::new(-0.02, 0.01, 1.0));
        assert!(fit.plane.normal.angle(&expected) < 0.2f64.to_radians(), "{fit:?}");
        assert!((fit.plane.z_at(0.0, 0.0).unwrap() - 0.5).abs() < 0.01, "{fit:?}");
        assert!((fit.plane.z_at(10.0, 10.0).unwrap() - 0.6).abs() < 0.02, "{fit:?}");
        assert!(fit.rms_m < 0.04, "{fit:?}");
        // Deterministic for a seed.
        assert_eq!(fit_ground(&points, &GroundFitOptions::default()), Some(fit));
        let ground = classify_ground(&points, &fit.plane, 0.15);
        let found = ground.iter().take(ground_count).filter(|g| **g).count();
        assert_eq!(found, ground_count, "every ground point is ground");
        let clutter = ground.iter().skip(ground_count).filter(|g| **g).count();
        // Only the wall's foot (z ≤ ~0.3 of 8 m) is within reach of the plane.
        assert!(clutter < 400, "{clutter} clutter points classified as ground");
    }

    #[test]
    fn set_on_ground_rests_the_lowest_corner_on_the_plane() {
        let plane = Plane::through(Point3::new(0.0, 0.0, 1.0), Vector3::z()).unwrap();
        let floating =
            Cuboid::axis_aligned(Point3::new(3.0, 4.0, 5.0), Vector3::new(2.0, 1.0, 1.6));
        let grounded = set_on_ground(&floating, &plane).unwrap();
        assert!((grounded.center - Point3::new(3.0, 4.0, 1.8)).norm() < 1e-12);
        let short = Cuboid::axis_aligned(Point3::new(3.0, 4.0, 2.0), Vector3::new(2.0, 1.0, 1.6));
        let stretched = extend_to_ground(&short, &plane, 0.5);
        assert!((stretched.size.z - 1.8).abs() < 1e-12 && (stretched.center.z - 1.9).abs() < 1e-12);
        assert_eq!(extend_to_ground(&floating, &plane, 0.5), floating);
        let wall = Plane::through(Point3::origin(), Vector3::x()).unwrap();
        assert!(set_on_ground(&floating, &wall).is_none());
        let shifted = Plane::horizontal(2.0).relative_to(Vector3::new(0.0, 0.0, 0.5));
        assert!((shifted.z_at(7.0, 7.0).unwrap() - 1.5).abs() < 1e-12);
        assert!(least_squares_plane(&[Point3::origin(), Point3::origin()]).is_none());
    }
}
