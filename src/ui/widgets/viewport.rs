//! The image viewport: the mapping between image pixels and screen points, pan and zoom (wheel
//! around the pointer, drag with the middle or secondary button, fit), and the tiled image layer
//! drawn with culling so large images cost only the tiles in view.

use egui::{Color32, Pos2, Rect, TextureHandle, Vec2, pos2, vec2};

use crate::annotation::document::Point2;

/// Smallest zoom (screen points per image pixel).
pub const MIN_ZOOM: f32 = 0.02;
/// Largest zoom.
pub const MAX_ZOOM: f32 = 64.0;
/// Zoom factor of one zoom-in step.
pub const ZOOM_STEP: f32 = 1.25;

/// Pan and zoom of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Viewport {
    /// Screen points per image pixel.
    pub zoom: f32,
    /// Where image pixel (0, 0) is, relative to the viewport's top-left corner.
    pub offset: Vec2,
    /// The viewport's rectangle on screen (last frame).
    pub rect: Rect,
    /// The image's size in pixels.
    pub image_size: Vec2,
    /// Fit the image at the next frame.
    pub fit_pending: bool,
    /// True while the view is as [`Viewport::fit`] left it (a resize then fits again).
    pub fitted: bool,
}

impl Default for Viewport {
    fn default() -> Self {
        Self {
            zoom: 1.0,
            offset: Vec2::ZERO,
            rect: Rect::from_min_size(Pos2::ZERO, vec2(1.0, 1.0)),
            image_size: vec2(1.0, 1.0),
            fit_pending: true,
            fitted: false,
        }
    }
}

impl Viewport {
    /// The screen position of an image point.
    pub fn screen_from_image(&self, p: Point2) -> Pos2 {
        self.rect.min + self.offset + vec2(p.x as f32, p.y as f32) * self.zoom
    }

    /// The image point under a screen position.
    pub fn image_from_screen(&self, p: Pos2) -> Point2 {
        let v = (p - self.rect.min - self.offset) / self.zoom;
        Point2::new(f64::from(v.x), f64::from(v.y))
    }

    /// The image rectangle (pixels) visible in the viewport.
    pub fn visible_image_rect(&self) -> Rect {
        let a = self.image_from_screen(self.rect.min);
        let b = self.image_from_screen(self.rect.max);
        Rect::from_min_max(pos2(a.x as f32, a.y as f32), pos2(b.x as f32, b.y as f32))
    }

    /// The screen rectangle of an image-space rectangle.
    pub fn screen_rect(&self, image_rect: Rect) -> Rect {
        Rect::from_min_max(
            self.rect.min + self.offset + image_rect.min.to_vec2() * self.zoom,
            self.rect.min + self.offset + image_rect.max.to_vec2() * self.zoom,
        )
    }

    /// Fits the whole image, centred, with a small margin.
    pub fn fit(&mut self) {
        let avail = self.rect.size();
        let zoom = (avail.x / self.image_size.x).min(avail.y / self.image_size.y) * 0.96;
        self.zoom = zoom.clamp(MIN_ZOOM, MAX_ZOOM);
        self.offset = (avail - self.image_size * self.zoom) * 0.5;
        self.fit_pending = false;
        self.fitted = true;
    }

    /// Zooms by `factor` keeping the image point under `anchor` (screen) in place.
    pub fn zoom_around(&mut self, anchor: Pos2, factor: f32) {
        let before = self.image_from_screen(anchor);
        self.zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let after = self.screen_from_image(before);
        self.offset += anchor - after;
        self.fitted = false;
    }

    /// Sets the rectangle and image size for this frame (fits on the first frame or on request).
    pub fn begin_frame(&mut self, rect: Rect, image_size: Vec2) {
        let resized = self.rect.size() != rect.size();
        if image_size != self.image_size {
            self.fit_pending = true;
        }
        self.rect = rect;
        self.image_size = image_size.max(vec2(1.0, 1.0));
        if self.fit_pending || (resized && self.fitted) {
            self.fit();
        }
    }

    /// Applies wheel zoom (around the pointer) and panning with the middle or secondary button,
    /// or with the primary button when `primary_pans`.
    pub fn handle_input(&mut self, ui: &egui::Ui, response: &egui::Response, primary_pans: bool) {
        if let Some(hover) = response.hover_pos() {
            let (scroll, zoom_delta) = ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta()));
            if zoom_delta != 1.0 {
                self.zoom_around(hover, zoom_delta);
            } else if scroll.y != 0.0 {
                self.zoom_around(hover, (scroll.y / 200.0).exp());
            }
        }
        let pans = response.dragged_by(egui::PointerButton::Middle)
            || response.dragged_by(egui::PointerButton::Secondary)
            || (primary_pans && response.dragged_by(egui::PointerButton::Primary));
        if pans && response.drag_delta() != Vec2::ZERO {
            self.offset += response.drag_delta();
            self.fitted = false;
        }
    }
}

/// One tile of a large image: where it goes (image pixels) and its texture.
#[derive(Clone)]
pub struct Tile {
    /// The tile's rectangle in image pixels.
    pub rect_px: Rect,
    /// Its texture.
    pub texture: TextureHandle,
}

/// An image uploaded as tiles (so images larger than the GPU's texture limit still show, and
/// only the tiles in view are drawn).
#[derive(Clone, Default)]
pub struct ImageTiles {
    /// Image size in pixels.
    pub size: Vec2,
    /// The tiles.
    pub tiles: Vec<Tile>,
}

impl std::fmt::Debug for ImageTiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageTiles")
            .field("size", &self.size)
            .field("tiles", &self.tiles.len())
            .finish()
    }
}

impl ImageTiles {
    /// Draws the tiles that intersect the view.
    pub fn paint(&self, painter: &egui::Painter, viewport: &Viewport) {
        let visible = viewport.visible_image_rect();
        let uv = Rect::from_min_max(Pos2::ZERO, pos2(1.0, 1.0));
        for tile in &self.tiles {
            if tile.rect_px.intersects(visible) {
                painter.image(
                    tile.texture.id(),
                    viewport.screen_rect(tile.rect_px),
                    uv,
                    Color32::WHITE,
                );
            }
        }
    }
}
