//! Offscreen render target (colour `Rgba8Unorm` + `Depth32Float`) and texture readback.

use super::RenderError;

/// Colour format of offscreen targets: display colours are stored as they are (not sRGB-encoded
/// by the hardware), like egui's usual `Rgba8Unorm`/`Bgra8Unorm` swap-chain formats.
pub const COLOR_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;
/// Depth format of offscreen targets.
pub const DEPTH_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Depth32Float;

/// A colour + depth target that renderers draw into without a window.
#[derive(Debug)]
pub struct OffscreenTarget {
    /// Colour texture ([`COLOR_FORMAT`]).
    pub color: wgpu::Texture,
    /// View of the colour texture.
    pub color_view: wgpu::TextureView,
    /// Depth texture ([`DEPTH_FORMAT`]).
    pub depth: wgpu::Texture,
    /// View of the depth texture.
    pub depth_view: wgpu::TextureView,
    width_px: u32,
    height_px: u32,
}

impl OffscreenTarget {
    /// A `width_px × height_px` target (each clamped to at least 1).
    pub fn new(device: &wgpu::Device, width_px: u32, height_px: u32) -> Self {
        let (width_px, height_px) = (width_px.max(1), height_px.max(1));
        let size = wgpu::Extent3d { width: width_px, height: height_px, depth_or_array_layers: 1 };
        let color = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("OffscreenTarget::color"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: COLOR_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let depth = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("OffscreenTarget::depth"),
            size,
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: DEPTH_FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            view_formats: &[],
        });
        let color_view = color.create_view(&wgpu::TextureViewDescriptor::default());
        let depth_view = depth.create_view(&wgpu::TextureViewDescriptor::default());
        Self { color, color_view, depth, depth_view, width_px, height_px }
    }

    /// Width in pixels.
    pub fn width_px(&self) -> u32 {
        self.width_px
    }

    /// Height in pixels.
    pub fn height_px(&self) -> u32 {
        self.height_px
    }

    /// The target's size as a camera viewport.
    pub fn viewport(&self) -> crate::geometry::Viewport {
        crate::geometry::Viewport::new(self.width_px, self.height_px)
    }

    /// Clears the target to `background` (a display colour) and depth 1, runs `draw` inside one
    /// render pass, and submits.
    pub fn render(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        background: [u8; 4],
        draw: impl FnOnce(&mut wgpu::RenderPass<'_>),
    ) {
        let mut encoder = device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("offscreen") });
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("OffscreenTarget::render"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &self.color_view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color {
                            r: f64::from(background[0]) / 255.0,
                            g: f64::from(background[1]) / 255.0,
                            b: f64::from(background[2]) / 255.0,
                            a: f64::from(background[3]) / 255.0,
                        }),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &self.depth_view,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Store,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            draw(&mut pass);
        }
        queue.submit([encoder.finish()]);
    }

    /// Copies the colour texture to the CPU.
    ///
    /// # Errors
    /// [`RenderError::Readback`] when mapping the staging buffer fails.
    pub fn read_rgba(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
    ) -> Result<image::RgbaImage, RenderError> {
        let bytes = read_texture_region(
            device,
            queue,
            &self.color,
            [0, 0],
            [self.width_px, self.height_px],
            4,
        )?;
        image::RgbaImage::from_raw(self.width_px, self.height_px, bytes)
            .ok_or_else(|| RenderError::Readback("pixel buffer has the wrong size".into()))
    }
}

/// Copies a region of mip level 0 of a texture with `bytes_per_texel` bytes per texel to the CPU,
/// rows tightly packed. Waits for the GPU.
///
/// # Errors
/// [`RenderError::Readback`] when mapping fails.
pub fn read_texture_region(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    texture: &wgpu::Texture,
    origin_px: [u32; 2],
    size_px: [u32; 2],
    bytes_per_texel: u32,
) -> Result<Vec<u8>, RenderError> {
    let [width, height] = size_px;
    let unpadded = width * bytes_per_texel;
    let padded =
        unpadded.div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT) * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback staging"),
        size: u64::from(padded) * u64::from(height),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut encoder =
        device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
    encoder.copy_texture_to_buffer(
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: 0,
            origin: wgpu::Origin3d { x: origin_px[0], y: origin_px[1], z: 0 },
            aspect: wgpu::TextureAspect::All,
        },
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: Some(height),
            },
        },
        wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
    );
    queue.submit([encoder.finish()]);
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    buffer.slice(..).map_async(wgpu::MapMode::Read, move |result| {
        let _ = sender.send(result);
    });
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| RenderError::Readback(e.to_string()))?;
    receiver
        .recv()
        .map_err(|e| RenderError::Readback(e.to_string()))?
        .map_err(|e| RenderError::Readback(e.to_string()))?;
    let mut out = Vec::with_capacity((unpadded * height) as usize);
    {
        let view = buffer
            .slice(..)
            .get_mapped_range()
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        for row in view.chunks_exact(padded as usize) {
            out.extend_from_slice(row.get(..unpadded as usize).unwrap_or_default());
        }
    }
    buffer.unmap();
    Ok(out)
}
