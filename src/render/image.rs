//! Image renderer: an RGBA image as mip-mapped, tiled textures, drawn with pan/zoom.
//!
//! # How it works
//!
//! [`ImageRenderer::upload`] cuts the image into tiles no larger than the device's
//! `max_texture_dimension_2d` (or a smaller forced size), builds each tile's full mip chain on the
//! CPU (2×2 box filter in linear light, so downscaled photos keep their brightness) and uploads it
//! once as an `Rgba8UnormSrgb` texture. When an image needs several tiles, each tile texture has a
//! one-pixel gutter copied from its neighbours, so bilinear filtering does not show seams at the
//! tile borders.
//!
//! Per frame only the view's 32-byte uniform changes: the [`ImageView2d`] transform (image px →
//! screen px) and the viewport size. Each visible tile is one textured quad; tiles entirely
//! outside the viewport are skipped. Magnification is nearest-neighbour (crisp pixels for
//! annotation) or bilinear, minification is trilinear.

use nalgebra::{Point2, Vector2};
use wgpu::util::DeviceExt as _;

use super::{RenderError, TargetFormat, shader};
pub use crate::geometry::ImageView2d;
use crate::geometry::Viewport;

/// How image pixels are interpolated when magnified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageSampling {
    /// Each image pixel is a sharp square (best for annotation).
    #[default]
    Nearest,
    /// Bilinear interpolation.
    Linear,
}

/// How an image is cut into textures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImageUploadOptions {
    /// Largest texture side; `None`: the device's `max_texture_dimension_2d`. Values below 16 are
    /// raised to 16.
    pub max_tile_px: Option<u32>,
}

mod gpu_data {
    use bytemuck::{Pod, Zeroable};

    /// `ImageUniform` in image.wgsl.
    #[repr(C)]
    #[derive(Clone, Copy, Pod, Zeroable)]
    pub struct ImageUniform {
        pub scale: [f32; 2],
        pub offset: [f32; 2],
        pub viewport_px: [f32; 2],
        pub target_is_srgb: u32,
        pub pad: u32,
    }
    const _: () = assert!(size_of::<ImageUniform>() == 32);

    /// `TileUniform` in image.wgsl.
    #[repr(C)]
    #[derive(Clone, Copy, Pod, Zeroable)]
    pub struct TileUniform {
        pub rect_px: [f32; 4],
        pub uv_rect: [f32; 4],
    }
    const _: () = assert!(size_of::<TileUniform>() == 32);
}

/// Pipeline, samplers and layouts for drawing images into one [`TargetFormat`].
#[derive(Debug)]
pub struct ImageRenderer {
    format: TargetFormat,
    pipeline: wgpu::RenderPipeline,
    view_layout: wgpu::BindGroupLayout,
    tile_layout: wgpu::BindGroupLayout,
    nearest: wgpu::BindGroup,
    linear: wgpu::BindGroup,
}

#[derive(Debug)]
struct Tile {
    /// Kept alive for the bind group.
    _texture: wgpu::Texture,
    bind_group: wgpu::BindGroup,
    /// Image pixels covered: x0, y0, x1, y1.
    rect_px: [u32; 4],
    mip_levels: u32,
}

/// An image resident on the GPU as tiles.
#[derive(Debug)]
pub struct GpuImage {
    width_px: u32,
    height_px: u32,
    tiles: Vec<Tile>,
}

/// Per-view state: the uniform written each frame, the sampling mode and the visible tiles.
#[derive(Debug)]
pub struct ImageDrawView {
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    sampling: ImageSampling,
    visible_tiles: Vec<usize>,
}

impl ImageRenderer {
    /// Builds the pipeline for `format`.
    pub fn new(device: &wgpu::Device, format: TargetFormat) -> Self {
        let module = shader::module(device, "image.wgsl", shader::IMAGE);
        let uniform_entry = |binding, size: usize| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: wgpu::BufferSize::new(size as u64),
            },
            count: None,
        };
        let view_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("ImageRenderer::view_layout"),
            entries: &[uniform_entry(0, size_of::<gpu_data::ImageUniform>())],
        });
        let sampler_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("ImageRenderer::sampler_layout"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                count: None,
            }],
        });
        let tile_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("ImageRenderer::tile_layout"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                uniform_entry(1, size_of::<gpu_data::TileUniform>()),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("ImageRenderer::pipeline_layout"),
            bind_group_layouts: &[Some(&view_layout), Some(&sampler_layout), Some(&tile_layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("ImageRenderer::pipeline"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[],
            },
            primitive: wgpu::PrimitiveState {
                topology: wgpu::PrimitiveTopology::TriangleStrip,
                ..Default::default()
            },
            depth_stencil: format.depth.map(|format| wgpu::DepthStencilState {
                format,
                depth_write_enabled: Some(false),
                depth_compare: Some(wgpu::CompareFunction::Always),
                stencil: Default::default(),
                bias: Default::default(),
            }),
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format: format.color,
                    blend: Some(wgpu::BlendState::ALPHA_BLENDING),
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        });
        let sampler_group = |label, mag_filter| {
            let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
                label: Some(label),
                address_mode_u: wgpu::AddressMode::ClampToEdge,
                address_mode_v: wgpu::AddressMode::ClampToEdge,
                mag_filter,
                min_filter: wgpu::FilterMode::Linear,
                mipmap_filter: wgpu::MipmapFilterMode::Linear,
                ..Default::default()
            });
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &sampler_layout,
                entries: &[wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Sampler(&sampler),
                }],
            })
        };
        Self {
            format,
            pipeline,
            view_layout,
            tile_layout,
            nearest: sampler_group("ImageRenderer::nearest", wgpu::FilterMode::Nearest),
            linear: sampler_group("ImageRenderer::linear", wgpu::FilterMode::Linear),
        }
    }

    /// Per-view state for drawing images with this renderer.
    pub fn create_view(&self, device: &wgpu::Device) -> ImageDrawView {
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("ImageDrawView::uniform"),
            size: size_of::<gpu_data::ImageUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("ImageDrawView::bind_group"),
            layout: &self.view_layout,
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }],
        });
        ImageDrawView {
            uniform,
            bind_group,
            sampling: ImageSampling::default(),
            visible_tiles: Vec::new(),
        }
    }

    /// Uploads an image (display colours, sRGB) as tiles with mip chains. Call once per image.
    ///
    /// # Errors
    /// [`RenderError::InvalidInput`] for an empty image.
    pub fn upload(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        image: &image::RgbaImage,
        options: &ImageUploadOptions,
    ) -> Result<GpuImage, RenderError> {
        let (width, height) = image.dimensions();
        if width == 0 || height == 0 {
            return Err(RenderError::InvalidInput("the image has no pixels".into()));
        }
        let device_max = device.limits().max_texture_dimension_2d;
        let max_tile = options.max_tile_px.unwrap_or(device_max).clamp(16, device_max.max(16));
        let single = width <= max_tile && height <= max_tile;
        // Tiled images keep a one-pixel gutter on each side of a tile's content.
        let (gutter, content) = if single { (0, max_tile) } else { (1, max_tile - 2) };
        let mut tiles = Vec::new();
        for y0 in (0..height).step_by(content as usize) {
            for x0 in (0..width).step_by(content as usize) {
                let x1 = (x0 + content).min(width);
                let y1 = (y0 + content).min(height);
                let tex_x0 = x0.saturating_sub(gutter);
                let tex_y0 = y0.saturating_sub(gutter);
                let tex_x1 = (x1 + gutter).min(width);
                let tex_y1 = (y1 + gutter).min(height);
                let pixels = image::imageops::crop_imm(
                    image,
                    tex_x0,
                    tex_y0,
                    tex_x1 - tex_x0,
                    tex_y1 - tex_y0,
                )
                .to_image();
                let (tw, th) = (tex_x1 - tex_x0, tex_y1 - tex_y0);
                let uv_rect = [
                    (x0 - tex_x0) as f32 / tw as f32,
                    (y0 - tex_y0) as f32 / th as f32,
                    (x1 - tex_x0) as f32 / tw as f32,
                    (y1 - tex_y0) as f32 / th as f32,
                ];
                tiles.push(self.upload_tile(device, queue, &pixels, [x0, y0, x1, y1], uv_rect));
            }
        }
        Ok(GpuImage { width_px: width, height_px: height, tiles })
    }

    fn upload_tile(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        pixels: &image::RgbaImage,
        rect_px: [u32; 4],
        uv_rect: [f32; 4],
    ) -> Tile {
        let levels = mip_chain(pixels);
        let (width, height) = pixels.dimensions();
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("GpuImage::tile"),
            size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
            mip_level_count: levels.len() as u32,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8UnormSrgb,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        for (level, pixels) in levels.iter().enumerate() {
            let (w, h) = pixels.dimensions();
            queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: &texture,
                    mip_level: level as u32,
                    origin: wgpu::Origin3d::ZERO,
                    aspect: wgpu::TextureAspect::All,
                },
                pixels.as_raw(),
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(4 * w),
                    rows_per_image: Some(h),
                },
                wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
            );
        }
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        let tile_uniform = gpu_data::TileUniform { rect_px: rect_px.map(|v| v as f32), uv_rect };
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("GpuImage::tile_uniform"),
            contents: bytemuck::bytes_of(&tile_uniform),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("GpuImage::tile_bind_group"),
            layout: &self.tile_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::TextureView(&view),
                },
                wgpu::BindGroupEntry { binding: 1, resource: uniform.as_entire_binding() },
            ],
        });
        Tile { _texture: texture, bind_group, rect_px, mip_levels: levels.len() as u32 }
    }

    /// Writes the view's uniform and picks the tiles inside the viewport.
    pub fn prepare(
        &self,
        queue: &wgpu::Queue,
        view: &mut ImageDrawView,
        image: &GpuImage,
        transform: &ImageView2d,
        viewport: Viewport,
        sampling: ImageSampling,
    ) {
        let uniform = gpu_data::ImageUniform {
            scale: [transform.zoom as f32; 2],
            offset: [transform.offset_px.x as f32, transform.offset_px.y as f32],
            viewport_px: [viewport.width_px as f32, viewport.height_px as f32],
            target_is_srgb: self.format.srgb_flag(),
            pad: 0,
        };
        queue.write_buffer(&view.uniform, 0, bytemuck::bytes_of(&uniform));
        view.sampling = sampling;
        view.visible_tiles = image
            .tiles
            .iter()
            .enumerate()
            .filter(|(_, tile)| {
                let [x0, y0, x1, y1] = tile.rect_px.map(f64::from);
                let a = transform.screen_from_image(Point2::new(x0, y0));
                let b = transform.screen_from_image(Point2::new(x1, y1));
                a.x < viewport.width_px && b.x > 0.0 && a.y < viewport.height_px && b.y > 0.0
            })
            .map(|(i, _)| i)
            .collect();
    }

    /// Records one quad per visible tile.
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>, view: &ImageDrawView, image: &GpuImage) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &view.bind_group, &[]);
        let sampler = match view.sampling {
            ImageSampling::Nearest => &self.nearest,
            ImageSampling::Linear => &self.linear,
        };
        pass.set_bind_group(1, sampler, &[]);
        for &index in &view.visible_tiles {
            let Some(tile) = image.tiles.get(index) else { continue };
            pass.set_bind_group(2, &tile.bind_group, &[]);
            pass.draw(0..4, 0..1);
        }
    }
}

impl GpuImage {
    /// Image size in pixels.
    pub fn size_px(&self) -> Vector2<u32> {
        Vector2::new(self.width_px, self.height_px)
    }

    /// Number of tile textures.
    pub fn tile_count(&self) -> usize {
        self.tiles.len()
    }

    /// Mip levels of the first tile (the full chain down to 1×1).
    pub fn mip_levels(&self) -> u32 {
        self.tiles.first().map_or(0, |t| t.mip_levels)
    }
}

/// The full mip chain of an sRGB image, level 0 first, each level a 2×2 box filter of the previous
/// one in linear light (odd sizes clamp at the edge).
pub fn mip_chain(level0: &image::RgbaImage) -> Vec<image::RgbaImage> {
    let to_linear: [f32; 256] = std::array::from_fn(|v| {
        let c = v as f32 / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    });
    // Linear → sRGB byte, 4096 steps.
    let to_srgb: Vec<u8> = (0..4096)
        .map(|i| {
            let c = i as f32 / 4095.0;
            let s = if c <= 0.003_130_8 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 };
            (s * 255.0).round().clamp(0.0, 255.0) as u8
        })
        .collect();
    let mut levels = vec![level0.clone()];
    while let Some(prev) = levels.last() {
        let (w, h) = prev.dimensions();
        if w <= 1 && h <= 1 {
            break;
        }
        let (nw, nh) = ((w / 2).max(1), (h / 2).max(1));
        let next = image::RgbaImage::from_fn(nw, nh, |x, y| {
            let mut sum = [0.0f32; 4];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let sx = (2 * x + dx).min(w - 1);
                let sy = (2 * y + dy).min(h - 1);
                let p = prev.get_pixel(sx, sy).0;
                for k in 0..3 {
                    sum[k] += to_linear[p[k] as usize];
                }
                sum[3] += f32::from(p[3]);
            }
            let srgb = |linear: f32| to_srgb[((linear * 0.25 * 4095.0).round() as usize).min(4095)];
            image::Rgba([srgb(sum[0]), srgb(sum[1]), srgb(sum[2]), (sum[3] * 0.25).round() as u8])
        });
        levels.push(next);
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mip_chain_goes_to_one_pixel_and_keeps_brightness() {
        // Black/white checkerboard: the 1×1 level is mid grey in linear light (sRGB ~188), not 128.
        let board = image::RgbaImage::from_fn(8, 4, |x, y| {
            if (x + y) % 2 == 0 {
                image::Rgba([0, 0, 0, 255])
            } else {
                image::Rgba([255, 255, 255, 255])
            }
        });
        let chain = mip_chain(&board);
        let sizes: Vec<_> = chain.iter().map(|l| l.dimensions()).collect();
        assert_eq!(sizes, vec![(8, 4), (4, 2), (2, 1), (1, 1)]);
        let last = chain[3].get_pixel(0, 0).0;
        assert!((186..=190).contains(&last[0]), "{last:?}");
        assert_eq!(last[3], 255);
    }
}
