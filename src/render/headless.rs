//! One-call offscreen renders for `groundwork render` and tests: a point cloud from a standard
//! view, or an image (with optional overlays), into an [`image::RgbaImage`].

use nalgebra::Vector2;

use super::image::{ImageRenderer, ImageSampling, ImageUploadOptions};
use super::overlay::{OverlayBuilder, OverlayRenderer};
use super::points::{ColorBy, PointCloudRenderer, PointStyle, PointUploadOptions};
use super::target::OffscreenTarget;
use super::{RenderContext, RenderError, TargetFormat, with_error_scope};
use crate::formats::point_cloud::PointCloud;
use crate::geometry::{Camera, ImageView2d, StandardView};

/// Default background of headless renders: a dark blue-grey (display colour).
pub const DEFAULT_BACKGROUND: [u8; 4] = [24, 26, 32, 255];

/// Everything a headless point-cloud render needs besides the cloud.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointRenderOptions {
    /// Output size in pixels.
    pub size_px: [u32; 2],
    /// Standard view; the camera is fitted to the cloud's bounds.
    pub view: StandardView,
    /// Colour, size and budget of the points.
    pub style: PointStyle,
    /// Background (display colour).
    pub background: [u8; 4],
}

impl Default for PointRenderOptions {
    fn default() -> Self {
        Self {
            size_px: [1280, 720],
            view: StandardView::Orbit,
            style: PointStyle { budget_points: usize::MAX, ..PointStyle::default() },
            background: DEFAULT_BACKGROUND,
        }
    }
}

/// Renders `cloud` from a standard view fitted to its bounds, every point drawn.
///
/// # Errors
/// [`RenderError`] on invalid input, GPU errors or readback failure.
pub fn render_point_cloud_png(
    ctx: &RenderContext,
    cloud: &PointCloud,
    size_px: [u32; 2],
    color_by: ColorBy,
    view: StandardView,
) -> Result<image::RgbaImage, RenderError> {
    let mut options = PointRenderOptions { size_px, view, ..PointRenderOptions::default() };
    options.style.color_by = color_by;
    render_point_cloud(ctx, cloud, &options)
}

/// Renders `cloud` with full options.
///
/// # Errors
/// [`RenderError`] on invalid input, GPU errors or readback failure.
pub fn render_point_cloud(
    ctx: &RenderContext,
    cloud: &PointCloud,
    options: &PointRenderOptions,
) -> Result<image::RgbaImage, RenderError> {
    let (device, queue) = (&ctx.device, &ctx.queue);
    with_error_scope(device, "rendering a point cloud", || {
        let renderer = PointCloudRenderer::new(device, queue, TargetFormat::OFFSCREEN);
        let gpu = renderer.upload(device, cloud, &PointUploadOptions::default())?;
        let target = OffscreenTarget::new(device, options.size_px[0], options.size_px[1]);
        let viewport = target.viewport();
        let mut camera = Camera::standard(options.view);
        let (min, max) = gpu.bounds();
        camera.fit_to_bounds(min, max, viewport);
        let mut view = renderer.create_view(device);
        renderer.prepare(queue, &mut view, &gpu, &camera, viewport, &options.style);
        target.render(device, queue, options.background, |pass| {
            renderer.paint(pass, &view, &gpu);
        });
        target.read_rgba(device, queue)
    })
}

/// Renders an image fitted into `size_px` (letterboxed on `background`), with optional
/// overlays in image pixel coordinates.
///
/// # Errors
/// [`RenderError`] on an empty image, GPU errors or readback failure.
pub fn render_image_png(
    ctx: &RenderContext,
    image: &image::RgbaImage,
    size_px: [u32; 2],
    overlay: Option<&OverlayBuilder>,
    background: [u8; 4],
) -> Result<image::RgbaImage, RenderError> {
    let (device, queue) = (&ctx.device, &ctx.queue);
    with_error_scope(device, "rendering an image", || {
        let target = OffscreenTarget::new(device, size_px[0], size_px[1]);
        let viewport = target.viewport();
        let images = ImageRenderer::new(device, TargetFormat::OFFSCREEN);
        let gpu = images.upload(device, queue, image, &ImageUploadOptions::default())?;
        let transform = ImageView2d::fit(
            Vector2::new(f64::from(image.width()), f64::from(image.height())),
            Vector2::new(viewport.width_px, viewport.height_px),
        );
        let mut view = images.create_view(device);
        images.prepare(queue, &mut view, &gpu, &transform, viewport, ImageSampling::Linear);
        let overlays = overlay.map(|shapes| {
            let renderer = OverlayRenderer::new(device, TargetFormat::OFFSCREEN);
            let mut gpu_overlay = renderer.create_overlay(device);
            renderer.upload(device, queue, &mut gpu_overlay, shapes);
            renderer.prepare(queue, &gpu_overlay, &transform, viewport);
            (renderer, gpu_overlay)
        });
        target.render(device, queue, background, |pass| {
            images.paint(pass, &view, &gpu);
            if let Some((renderer, gpu_overlay)) = &overlays {
                renderer.paint(pass, gpu_overlay);
            }
        });
        target.read_rgba(device, queue)
    })
}
