//! GPU rendering with wgpu: point clouds, cuboids, images, 2D overlays, picking, and headless
//! offscreen rendering. Shared by the app (inside egui_wgpu paint callbacks), the CLI
//! (`groundwork render`) and the tests.
//!
//! Owns: GPU resources and draw calls. Depends on [`crate::geometry`] and
//! [`crate::formats::point_cloud`] only; must not depend on egui, the annotation model, `store`,
//! `ui`, `app` or `cli`. Colours (palettes aside) come from the caller.
//!
//! # How a frame is drawn
//!
//! Every renderer follows the same split:
//! - an `XRenderer` owns pipelines and bind-group layouts. It is created once per target format
//!   ([`TargetFormat`]: colour format plus optional depth format), so the same code draws into
//!   egui's render pass (caller's colour format, no depth attachment) and into our own
//!   [`target::OffscreenTarget`] (colour + `Depth32Float`);
//! - GPU data (`GpuPointCloud`, `GpuImage`, …) is uploaded once and kept until the data changes;
//! - a per-view object (`PointCloudView`, …) holds the small uniform buffer that changes per frame.
//!   `prepare` writes it (egui's `CallbackTrait::prepare`), `paint` records draw calls into any
//!   `wgpu::RenderPass` (egui's `CallbackTrait::paint`).
//!
//! Colours are "display" colours (sRGB-encoded, as in image files and egui). Shaders write them
//! unchanged into non-sRGB targets and linearise them for `*Srgb` targets, so output looks the
//! same in either. The offscreen target is `Rgba8Unorm` ([`target::COLOR_FORMAT`]).

pub mod context;
pub mod cuboids;
pub mod headless;
pub mod image;
pub mod overlay;
pub mod picking;
pub mod points;
pub mod shader;
pub mod target;

pub use context::RenderContext;

/// The formats of the render pass a renderer draws into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetFormat {
    /// Colour attachment format.
    pub color: wgpu::TextureFormat,
    /// Depth attachment format, or `None` when the pass has none (egui's default pass).
    pub depth: Option<wgpu::TextureFormat>,
}

impl TargetFormat {
    /// The format of [`target::OffscreenTarget`]: `Rgba8Unorm` colour with `Depth32Float` depth.
    pub const OFFSCREEN: Self =
        Self { color: target::COLOR_FORMAT, depth: Some(target::DEPTH_FORMAT) };

    /// A pass with this colour format and no depth attachment (egui's pass by default).
    pub fn color_only(color: wgpu::TextureFormat) -> Self {
        Self { color, depth: None }
    }

    /// 1 when the colour target is sRGB (shaders then linearise display colours), else 0.
    pub(crate) fn srgb_flag(&self) -> u32 {
        u32::from(self.color.is_srgb())
    }
}

/// An error from the render layer.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// No GPU adapter (not even a software one such as lavapipe or llvmpipe) was found.
    #[error(
        "no GPU adapter found ({reason}); install Mesa's software drivers \
         (`mesa-vulkan-drivers` for lavapipe) or set WGPU_BACKEND"
    )]
    NoAdapter {
        /// What wgpu said.
        reason: String,
    },
    /// The adapter refused to create a device.
    #[error("could not create a GPU device on {adapter}: {reason}")]
    RequestDevice {
        /// The adapter description.
        adapter: String,
        /// What wgpu said.
        reason: String,
    },
    /// wgpu reported a validation or out-of-memory error while rendering.
    #[error("GPU error while {during}: {message}")]
    Gpu {
        /// What we were doing.
        during: &'static str,
        /// wgpu's message.
        message: String,
    },
    /// Reading a texture back to the CPU failed.
    #[error("reading the frame back from the GPU failed: {0}")]
    Readback(String),
    /// The input cannot be drawn (empty, too large, mismatched lengths).
    #[error("cannot render: {0}")]
    InvalidInput(String),
}

/// Packs a display colour into the `u32` layout of WGSL's `unpack4x8unorm` (r in the low byte).
pub fn pack_rgba8(rgba: [u8; 4]) -> u32 {
    u32::from_le_bytes(rgba)
}

/// Runs `f`, capturing wgpu validation and out-of-memory errors into a [`RenderError::Gpu`].
pub(crate) fn with_error_scope<T>(
    device: &wgpu::Device,
    during: &'static str,
    f: impl FnOnce() -> Result<T, RenderError>,
) -> Result<T, RenderError> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let result = f();
    let validation_error = pollster::block_on(validation.pop());
    let oom_error = pollster::block_on(oom.pop());
    if let Some(error) = validation_error.or(oom_error) {
        return Err(RenderError::Gpu { during, message: error.to_string() });
    }
    result
}
