//! Axis-aligned 2D boxes in image coordinates and their overlap (intersection over union).
//!
//! Image convention (Ground Truth's): the origin is the top-left pixel, x grows to the right and y
//! grows downward, so a box's `top` is its smallest y. Must not depend on any other layer.

use nalgebra::{Point2, Vector2};

/// An axis-aligned box: the closed region between `min` (top-left corner) and `max` (bottom-right
/// corner). Construction normalises the corners, so `min <= max` on both axes always holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aabb2 {
    min: Point2<f64>,
    max: Point2<f64>,
}

impl Aabb2 {
    /// The box spanned by two opposite corners, in either order.
    pub fn from_corners(a: Point2<f64>, b: Point2<f64>) -> Self {
        Self {
            min: Point2::new(a.x.min(b.x), a.y.min(b.y)),
            max: Point2::new(a.x.max(b.x), a.y.max(b.y)),
        }
    }

    /// The box with top-left corner (`left`, `top`) and the given size, the way Ground Truth writes
    /// boxes. A negative width or height extends the box to the left or upward.
    pub fn from_left_top_size(left: f64, top: f64, width: f64, height: f64) -> Self {
        Self::from_corners(Point2::new(left, top), Point2::new(left + width, top + height))
    }

    /// The top-left corner (smallest x and y).
    pub fn min(&self) -> Point2<f64> {
        self.min
    }

    /// The bottom-right corner (largest x and y).
    pub fn max(&self) -> Point2<f64> {
        self.max
    }

    /// The smallest x.
    pub fn left(&self) -> f64 {
        self.min.x
    }

    /// The smallest y.
    pub fn top(&self) -> f64 {
        self.min.y
    }

    /// Extent along x (never negative).
    pub fn width(&self) -> f64 {
        self.max.x - self.min.x
    }

    /// Extent along y (never negative).
    pub fn height(&self) -> f64 {
        self.max.y - self.min.y
    }

    /// Width and height as a vector.
    pub fn size(&self) -> Vector2<f64> {
        self.max - self.min
    }

    /// The centre point.
    pub fn center(&self) -> Point2<f64> {
        self.min + self.size() / 2.0
    }

    /// Width × height.
    pub fn area(&self) -> f64 {
        self.width() * self.height()
    }

    /// The overlap of two boxes, or `None` when they do not overlap with a positive area (boxes that
    /// only touch along an edge or at a corner have no intersection).
    pub fn intersection(&self, other: &Self) -> Option<Self> {
        let min = Point2::new(self.min.x.max(other.min.x), self.min.y.max(other.min.y));
        let max = Point2::new(self.max.x.min(other.max.x), self.max.y.min(other.max.y));
        (min.x < max.x && min.y < max.y).then_some(Self { min, max })
    }

    /// Intersection over union (the Jaccard index) in `[0, 1]`: 1 for identical boxes with a positive
    /// area, 0 for boxes that do not overlap. Two boxes whose union has no area (degenerate boxes)
    /// give 0.
    pub fn iou(&self, other: &Self) -> f64 {
        let intersection = self.intersection(other).map_or(0.0, |b| b.area());
        let union = self.area() + other.area() - intersection;
        if union > 0.0 { (intersection / union).clamp(0.0, 1.0) } else { 0.0 }
    }

    /// Whether `point` lies inside the box or on its border.
    pub fn contains(&self, point: Point2<f64>) -> bool {
        (self.min.x..=self.max.x).contains(&point.x) && (self.min.y..=self.max.y).contains(&point.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(left: f64, top: f64, width: f64, height: f64) -> Aabb2 {
        Aabb2::from_left_top_size(left, top, width, height)
    }

    #[test]
    fn corners_are_normalised() {
        let a = Aabb2::from_corners(Point2::new(10.0, 2.0), Point2::new(4.0, 8.0));
        assert_eq!((a.left(), a.top(), a.width(), a.height()), (4.0, 2.0, 6.0, 6.0));
        let flipped = b(10.0, 8.0, -6.0, -6.0);
        assert_eq!(flipped, a);
        assert_eq!(a.center(), Point2::new(7.0, 5.0));
        assert_eq!(a.area(), 36.0);
    }

    #[test]
    fn iou_of_identical_boxes_is_one() {
        let a = b(3.0, 4.0, 10.0, 5.0);
        assert_eq!(a.iou(&a), 1.0);
    }

    #[test]
    fn iou_by_hand() {
        // a = [0,10]x[0,10] (area 100), c = [5,15]x[0,10] (area 100): overlap [5,10]x[0,10] = 50,
        // union = 150, IoU = 1/3.
        let a = b(0.0, 0.0, 10.0, 10.0);
        let c = b(5.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&c) - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(a.iou(&c), c.iou(&a));
        // A box inside another: overlap = inner area 25, union = outer area 100.
        let inner = b(2.0, 2.0, 5.0, 5.0);
        assert_eq!(a.iou(&inner), 0.25);
        assert_eq!(a.intersection(&inner), Some(inner));
    }

    #[test]
    fn disjoint_touching_and_degenerate_boxes_have_zero_iou() {
        let a = b(0.0, 0.0, 10.0, 10.0);
        assert_eq!(a.iou(&b(20.0, 20.0, 5.0, 5.0)), 0.0);
        let touching = b(10.0, 0.0, 10.0, 10.0);
        assert_eq!(a.intersection(&touching), None);
        assert_eq!(a.iou(&touching), 0.0);
        let point = b(1.0, 1.0, 0.0, 0.0);
        assert_eq!(point.iou(&point), 0.0);
        assert_eq!(a.iou(&point), 0.0);
    }

    #[test]
    fn contains_includes_the_border() {
        let a = b(0.0, 0.0, 2.0, 2.0);
        assert!(a.contains(Point2::new(2.0, 0.0)));
        assert!(a.contains(Point2::new(1.0, 1.0)));
        assert!(!a.contains(Point2::new(2.1, 1.0)));
    }
}
