//! The 2D view of an image: pan and zoom as a transform between image pixels and screen pixels.

use nalgebra::{Point2, Vector2};

/// Maps image pixel coordinates to viewport (screen) pixel coordinates:
/// `screen = offset_px + zoom · image`. Both have their origin top-left and y down; image pixel
/// `(i, j)` covers `[i, i+1) × [j, j+1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageView2d {
    /// Screen pixels per image pixel.
    pub zoom: f64,
    /// Screen position of the image's top-left corner.
    pub offset_px: Vector2<f64>,
}

impl Default for ImageView2d {
    fn default() -> Self {
        Self { zoom: 1.0, offset_px: Vector2::zeros() }
    }
}

/// Smallest and largest zoom the view allows.
const ZOOM_RANGE: (f64, f64) = (1e-4, 1e4);

impl ImageView2d {
    /// The view that shows a whole `image_size` image centred in `viewport_size` (both in pixels).
    pub fn fit(image_size: Vector2<f64>, viewport_size: Vector2<f64>) -> Self {
        let zoom = (viewport_size.x / image_size.x.max(1.0))
            .min(viewport_size.y / image_size.y.max(1.0))
            .clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
        let offset_px = (viewport_size - image_size * zoom) * 0.5;
        Self { zoom, offset_px }
    }

    /// Screen position of an image position.
    pub fn screen_from_image(&self, image: Point2<f64>) -> Point2<f64> {
        Point2::from(self.offset_px + image.coords * self.zoom)
    }

    /// Image position under a screen position.
    pub fn image_from_screen(&self, screen: Point2<f64>) -> Point2<f64> {
        Point2::from((screen.coords - self.offset_px) / self.zoom)
    }

    /// Moves the image by `delta_px` screen pixels.
    pub fn pan(&mut self, delta_px: Vector2<f64>) {
        self.offset_px += delta_px;
    }

    /// Multiplies the zoom by `factor`, keeping the image point under `screen` fixed.
    pub fn zoom_about(&mut self, screen: Point2<f64>, factor: f64) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        let anchor = self.image_from_screen(screen);
        self.zoom = (self.zoom * factor).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
        self.offset_px = screen.coords - anchor.coords * self.zoom;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_centres_and_zoom_keeps_anchor() {
        let mut view = ImageView2d::fit(Vector2::new(200.0, 100.0), Vector2::new(400.0, 400.0));
        assert!((view.zoom - 2.0).abs() < 1e-12);
        assert!(
            (view.screen_from_image(Point2::new(0.0, 0.0)) - Point2::new(0.0, 100.0)).norm()
                < 1e-12
        );
        let anchor = Point2::new(123.0, 77.0);
        let image = view.image_from_screen(anchor);
        view.zoom_about(anchor, 3.0);
        assert!((view.screen_from_image(image) - anchor).norm() < 1e-9);
        view.pan(Vector2::new(5.0, -2.0));
        assert!((view.screen_from_image(image) - (anchor + Vector2::new(5.0, -2.0))).norm() < 1e-9);
    }
}
