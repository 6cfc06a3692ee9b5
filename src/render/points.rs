//! Point-cloud renderer: persistent GPU buffers, colour modes, screen-space point sizes, and a
//! level-of-detail scheme with a point budget.
//!
//! # How it works
//!
//! **Upload, once.** [`PointCloudRenderer::upload`] reorders the cloud on the CPU and copies it
//! into GPU buffers that live as long as the [`GpuPointCloud`]. Nothing is re-uploaded per
//! frame; per frame only the view's 96-byte uniform changes. (Labels can be rewritten with
//! [`GpuPointCloud::set_labels`] when the user edits them.)
//!
//! **Chunks.** The cloud is split by a k-d tree (median splits along the longest axis) into
//! spatially compact chunks of at most `chunk_points` points, each with its bounding box. Chunks
//! are packed into *pages*: one set of vertex buffers per page, each at most `max_page_bytes`
//! (by default the smaller of the device's `max_buffer_size` and 256 MiB, the default limit egui's
//! device gets), so clouds far above 16M points draw on any device.
//!
//! **Coarse-to-fine order.** Inside a chunk, points are sorted along a Morton (Z-order) curve and
//! then emitted in bit-reversed rank order. Any prefix of a chunk is therefore an even,
//! space-filling subsample of it: drawing the first N points of a chunk thins it uniformly
//! instead of cutting a region off.
//!
//! **Budget.** [`PointCloudRenderer::prepare`] culls chunks against the view frustum, estimates
//! each visible chunk's screen area, and, when the visible points exceed `budget_points`, gives
//! each chunk `min(len, k · area_px)` points with `k` chosen so the total fits the budget. Chunks
//! near the camera (large on screen) keep full detail first; zoomed in, culling alone usually
//! brings everything under the budget and every point is drawn.
//!
//! **Drawing.** Each point is one instance of a 4-vertex triangle strip that the vertex shader
//! expands to `point_size_px` pixels around the projected centre (round points discard the
//! corners); points of at most one pixel use a `PointList` pipeline instead, one vertex per
//! point, a quarter of the vertex work (it matters on software rasterizers). Attributes are
//! vertex buffers (no storage buffers), so the same pipelines run on Vulkan, Metal, DX12 and GL.
//! The colour pipelines are specialised per colour mode: height colouring reads the positions
//! alone, the attribute modes one more buffer, and only the colour travels to the fragment
//! stage (flat). Buffers are bound once per page and chunks drawn in full that follow each
//! other in the page merge into one draw call (all of them when nothing is culled).

use std::sync::OnceLock;

use nalgebra::{Matrix4, Point3, Vector4};
use rayon::prelude::*;
use wgpu::util::DeviceExt as _;

use super::{RenderError, TargetFormat, pack_rgba8, picking, shader};
use crate::formats::point_cloud::PointCloud;
use crate::geometry::{Camera, Viewport};

/// What decides a point's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorBy {
    /// Grey ramp over the intensity range.
    Intensity,
    /// [`height_color`] ramp over the height range.
    #[default]
    Height,
    /// The cloud's own colours.
    Rgb,
    /// ASPRS classification palette (row 0 of the palette).
    Classification,
    /// Per-point label id and the label palette (row 1), see [`GpuPointCloud::set_labels`].
    Label,
}

/// How points are drawn in one view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointStyle {
    /// Colour mode. Falls back to [`ColorBy::Height`] when the cloud lacks the attribute.
    pub color_by: ColorBy,
    /// Point diameter in physical pixels (at least 1; exactly 1 takes the `PointList` path).
    pub point_size_px: f32,
    /// Round (discarding the square's corners) or square points.
    pub round: bool,
    /// Raw intensity mapped to black..white; `None`: the cloud's 1st..99th percentile.
    pub intensity_range: Option<[f32; 2]>,
    /// World z mapped to the height ramp; `None`: the cloud's z extent.
    pub height_range_m: Option<[f64; 2]>,
    /// Most points drawn per frame (see the module docs).
    pub budget_points: usize,
}

impl Default for PointStyle {
    fn default() -> Self {
        Self {
            color_by: ColorBy::Height,
            point_size_px: 2.0,
            round: false,
            intensity_range: None,
            height_range_m: None,
            budget_points: 4_000_000,
        }
    }
}

/// How a cloud is split on upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointUploadOptions {
    /// Largest chunk (the unit of culling and LOD).
    pub chunk_points: usize,
    /// Largest vertex buffer; `None`: `min(device max_buffer_size, 256 MiB)`.
    pub max_page_bytes: Option<u64>,
}

impl Default for PointUploadOptions {
    fn default() -> Self {
        Self { chunk_points: 1 << 13, max_page_bytes: None }
    }
}

/// What [`PointCloudRenderer::prepare`] decided for a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PointFrameStats {
    /// Chunks that survived frustum culling.
    pub visible_chunks: usize,
    /// Points in those chunks.
    pub visible_points: usize,
    /// Points that will be drawn (≤ the budget, unless one chunk's minimum exceeds it).
    pub drawn_points: usize,
}

/// Width of the palette texture: label ids wrap around at this value.
pub const PALETTE_WIDTH: u32 = 1024;

/// GPU-side structs, mirrored in `shaders/points.wgsl`.
mod gpu_data {
    use bytemuck::{Pod, Zeroable};

    /// `PointsUniform` in points.wgsl.
    #[repr(C)]
    #[derive(Clone, Copy, Pod, Zeroable)]
    pub struct PointsUniform {
        pub clip_from_local: [[f32; 4]; 4],
        pub viewport_px: [f32; 2],
        pub point_size_px: f32,
        pub color_mode: u32,
        pub value_range: [f32; 2],
        pub round_points: u32,
        pub target_is_srgb: u32,
    }
    const _: () = assert!(size_of::<PointsUniform>() == 96);

    /// `ChunkUniform` in points.wgsl.
    #[repr(C)]
    #[derive(Clone, Copy, Pod, Zeroable)]
    pub struct ChunkUniform {
        pub first_point: u32,
        pub pad: [u32; 3],
    }
    const _: () = assert!(size_of::<ChunkUniform>() == 16);
}

const POSITION_BYTES: u64 = 12;
const ATTRIBUTE_BYTES: u64 = 8;
const LABEL_BYTES: u64 = 4;

/// [`GpuPointCloud::update_labels`] joins changed points at most this many points apart (GPU
/// order) into one buffer write: rewriting a few unchanged labels is cheaper than another write.
pub const LABEL_SPAN_GAP: u32 = 1024;

/// Pipelines and layouts for drawing point clouds into one [`TargetFormat`], plus picking.
#[derive(Debug)]
pub struct PointCloudRenderer {
    format: TargetFormat,
    pipelines: Pipelines,
    frame_layout: wgpu::BindGroupLayout,
    chunk_layout: wgpu::BindGroupLayout,
    palette: wgpu::Texture,
    palette_view: wgpu::TextureView,
}

/// Colour and picking pipelines, each as screen-space quads (any size) and as a PointList
/// (points of at most one pixel: a quarter of the vertex work, which matters on software
/// rasterizers). Colour pipelines are specialised per colour mode (each reads only the vertex
/// buffers its mode needs) and built on first use.
#[derive(Debug)]
struct Pipelines {
    device: wgpu::Device,
    module: wgpu::ShaderModule,
    color_layout: wgpu::PipelineLayout,
    /// Index: [`color_pipeline_index`].
    color: [OnceLock<wgpu::RenderPipeline>; 10],
    pick_quads: wgpu::RenderPipeline,
    pick_pixels: wgpu::RenderPipeline,
}

/// The vertex buffer a colour mode reads besides the positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecondBuffer {
    None,
    Attributes,
    Labels,
}

fn second_buffer(color_by: ColorBy) -> SecondBuffer {
    match color_by {
        ColorBy::Height => SecondBuffer::None,
        ColorBy::Intensity | ColorBy::Rgb | ColorBy::Classification => SecondBuffer::Attributes,
        ColorBy::Label => SecondBuffer::Labels,
    }
}

fn color_pipeline_index(color_by: ColorBy, single_pixel: bool) -> usize {
    let mode = match color_by {
        ColorBy::Height => 0,
        ColorBy::Intensity => 1,
        ColorBy::Rgb => 2,
        ColorBy::Classification => 3,
        ColorBy::Label => 4,
    };
    mode * 2 + usize::from(single_pixel)
}

fn color_entry_point(color_by: ColorBy, single_pixel: bool) -> &'static str {
    match (color_by, single_pixel) {
        (ColorBy::Height, true) => "vs_pixel_height",
        (ColorBy::Intensity, true) => "vs_pixel_intensity",
        (ColorBy::Rgb, true) => "vs_pixel_rgb",
        (ColorBy::Classification, true) => "vs_pixel_classification",
        (ColorBy::Label, true) => "vs_pixel_label",
        (ColorBy::Height, false) => "vs_quad_height",
        (ColorBy::Intensity, false) => "vs_quad_intensity",
        (ColorBy::Rgb, false) => "vs_quad_rgb",
        (ColorBy::Classification, false) => "vs_quad_classification",
        (ColorBy::Label, false) => "vs_quad_label",
    }
}

fn depth_state(target: TargetFormat) -> Option<wgpu::DepthStencilState> {
    target.depth.map(|format| wgpu::DepthStencilState {
        format,
        depth_write_enabled: Some(true),
        depth_compare: Some(wgpu::CompareFunction::Less),
        stencil: Default::default(),
        bias: Default::default(),
    })
}

impl Pipelines {
    /// The colour pipeline for a mode and point kind, built on first use.
    fn color(
        &self,
        format: TargetFormat,
        color_by: ColorBy,
        single_pixel: bool,
    ) -> &wgpu::RenderPipeline {
        let slot = &self.color[color_pipeline_index(color_by, single_pixel)];
        slot.get_or_init(|| {
            let step_mode = if single_pixel {
                wgpu::VertexStepMode::Vertex
            } else {
                wgpu::VertexStepMode::Instance
            };
            let position = wgpu::VertexBufferLayout {
                array_stride: POSITION_BYTES,
                step_mode,
                attributes: &POSITION_ATTRIBUTES,
            };
            let second = match second_buffer(color_by) {
                SecondBuffer::None => None,
                SecondBuffer::Attributes => Some(wgpu::VertexBufferLayout {
                    array_stride: ATTRIBUTE_BYTES,
                    step_mode,
                    attributes: &ATTRIBUTE_ATTRIBUTES,
                }),
                SecondBuffer::Labels => Some(wgpu::VertexBufferLayout {
                    array_stride: LABEL_BYTES,
                    step_mode,
                    attributes: &LABEL_ATTRIBUTES,
                }),
            };
            let buffers = [Some(position), second];
            let buffers = if buffers[1].is_some() { &buffers[..] } else { &buffers[..1] };
            let topology = if single_pixel {
                wgpu::PrimitiveTopology::PointList
            } else {
                wgpu::PrimitiveTopology::TriangleStrip
            };
            self.device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(color_entry_point(color_by, single_pixel)),
                layout: Some(&self.color_layout),
                vertex: wgpu::VertexState {
                    module: &self.module,
                    entry_point: Some(color_entry_point(color_by, single_pixel)),
                    compilation_options: Default::default(),
                    buffers,
                },
                primitive: wgpu::PrimitiveState { topology, ..Default::default() },
                depth_stencil: depth_state(format),
                multisample: Default::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &self.module,
                    entry_point: Some(if single_pixel { "fs_flat" } else { "fs_quad" }),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: &[("SRGB_TARGET", f64::from(format.srgb_flag()))],
                        ..Default::default()
                    },
                    targets: &[Some(wgpu::ColorTargetState {
                        format: format.color,
                        blend: None,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        })
    }
}

const POSITION_ATTRIBUTES: [wgpu::VertexAttribute; 1] = wgpu::vertex_attr_array![0 => Float32x3];
const ATTRIBUTE_ATTRIBUTES: [wgpu::VertexAttribute; 1] = wgpu::vertex_attr_array![1 => Uint32x2];
const LABEL_ATTRIBUTES: [wgpu::VertexAttribute; 1] = wgpu::vertex_attr_array![2 => Uint32];

/// One GPU page: vertex buffers holding a contiguous run of chunks.
#[derive(Debug)]
struct Page {
    positions: wgpu::Buffer,
    attributes: wgpu::Buffer,
    labels: wgpu::Buffer,
    /// GPU-order index of the page's first point.
    first_point: usize,
    len: usize,
}

/// A spatially compact run of points, the unit of culling and level of detail.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    page: usize,
    /// First point, relative to the page.
    first_in_page: usize,
    len: usize,
    min: [f32; 3],
    max: [f32; 3],
}

/// A point cloud resident on the GPU (see the module docs for its layout).
#[derive(Debug)]
pub struct GpuPointCloud {
    origin: [f64; 3],
    min: [f32; 3],
    max: [f32; 3],
    intensity_percentiles: Option<[f32; 2]>,
    has_rgb: bool,
    has_classification: bool,
    pages: Vec<Page>,
    chunks: Vec<Chunk>,
    /// `original_from_gpu[i]`: index in the uploaded [`PointCloud`] of GPU point `i`.
    original_from_gpu: Vec<u32>,
    /// The inverse permutation, built on the first [`GpuPointCloud::update_labels`].
    gpu_from_original: std::sync::OnceLock<Vec<u32>>,
    chunk_uniforms: wgpu::Buffer,
    chunk_bind_group: wgpu::BindGroup,
    chunk_uniform_stride: u32,
}

/// Per-view state: the uniform written each frame and the chunks chosen to draw.
#[derive(Debug)]
pub struct PointCloudView {
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    draws: Vec<(usize, u32)>,
    /// Points of at most one pixel: drawn as a PointList.
    single_pixel: bool,
    /// The colour mode in effect (the cloud's fallback applied).
    color_by: ColorBy,
}

impl PointCloudRenderer {
    /// Builds the pipelines for `format` (and the picking pipeline) and the default palettes.
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue, format: TargetFormat) -> Self {
        let module = shader::module(device, "points.wgsl", shader::POINTS);
        let frame_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("PointCloudRenderer::frame_layout"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: wgpu::BufferSize::new(
                            size_of::<gpu_data::PointsUniform>() as u64,
                        ),
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::VERTEX,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: false },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
            ],
        });
        let chunk_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("PointCloudRenderer::chunk_layout"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: true,
                    min_binding_size: wgpu::BufferSize::new(
                        size_of::<gpu_data::ChunkUniform>() as u64
                    ),
                },
                count: None,
            }],
        });
        let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("PointCloudRenderer::layout"),
            bind_group_layouts: &[Some(&frame_layout), Some(&chunk_layout)],
            immediate_size: 0,
        });
        let buffers = |step_mode| {
            [
                Some(wgpu::VertexBufferLayout {
                    array_stride: POSITION_BYTES,
                    step_mode,
                    attributes: &POSITION_ATTRIBUTES,
                }),
                Some(wgpu::VertexBufferLayout {
                    array_stride: ATTRIBUTE_BYTES,
                    step_mode,
                    attributes: &ATTRIBUTE_ATTRIBUTES,
                }),
                Some(wgpu::VertexBufferLayout {
                    array_stride: LABEL_BYTES,
                    step_mode,
                    attributes: &LABEL_ATTRIBUTES,
                }),
            ]
        };
        let make = |label, target: TargetFormat, single_pixel: bool, fragment_entry| {
            let (vertex_entry, topology, step_mode) = if single_pixel {
                (
                    "vs_single_pixel",
                    wgpu::PrimitiveTopology::PointList,
                    wgpu::VertexStepMode::Vertex,
                )
            } else {
                ("vs_main", wgpu::PrimitiveTopology::TriangleStrip, wgpu::VertexStepMode::Instance)
            };
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(&layout),
                vertex: wgpu::VertexState {
                    module: &module,
                    entry_point: Some(vertex_entry),
                    compilation_options: Default::default(),
                    buffers: &buffers(step_mode),
                },
                primitive: wgpu::PrimitiveState { topology, ..Default::default() },
                depth_stencil: depth_state(target),
                multisample: Default::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &module,
                    entry_point: Some(fragment_entry),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format: target.color,
                        blend: None,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let pick = picking::PICK_TARGET_FORMAT;
        let pick_quads = make("PointCloudRenderer::pick_quads", pick, false, "fs_pick");
        let pick_pixels = make("PointCloudRenderer::pick_pixels", pick, true, "fs_pick");
        let color_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("PointCloudRenderer::color_layout"),
            bind_group_layouts: &[Some(&frame_layout)],
            immediate_size: 0,
        });
        let pipelines = Pipelines {
            device: device.clone(),
            module,
            color_layout,
            color: Default::default(),
            pick_quads,
            pick_pixels,
        };
        let palette = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("PointCloudRenderer::palette"),
            size: wgpu::Extent3d { width: PALETTE_WIDTH, height: 2, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        });
        let palette_view = palette.create_view(&wgpu::TextureViewDescriptor::default());
        let renderer =
            Self { format, pipelines, frame_layout, chunk_layout, palette, palette_view };
        renderer.set_classification_palette(queue, &asprs_classification_palette());
        renderer.set_label_palette(queue, &default_label_palette());
        renderer
    }

    /// The target format the colour pipeline was built for.
    pub fn format(&self) -> TargetFormat {
        self.format
    }

    /// Sets the colours of classification codes 0..; alpha 0 hides a class. Missing entries (up
    /// to 256) are filled by repeating the given ones.
    pub fn set_classification_palette(&self, queue: &wgpu::Queue, colors: &[[u8; 4]]) {
        self.write_palette_row(queue, 0, colors);
    }

    /// Sets the colours of label ids 0..; alpha 0 hides a label. Ids at or above
    /// [`PALETTE_WIDTH`] wrap around; missing entries repeat the given ones.
    pub fn set_label_palette(&self, queue: &wgpu::Queue, colors: &[[u8; 4]]) {
        self.write_palette_row(queue, 1, colors);
    }

    fn write_palette_row(&self, queue: &wgpu::Queue, row: u32, colors: &[[u8; 4]]) {
        if colors.is_empty() {
            return;
        }
        let bytes: Vec<u8> =
            colors.iter().cycle().take(PALETTE_WIDTH as usize).flatten().copied().collect();
        queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: &self.palette,
                mip_level: 0,
                origin: wgpu::Origin3d { x: 0, y: row, z: 0 },
                aspect: wgpu::TextureAspect::All,
            },
            &bytes,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(PALETTE_WIDTH * 4),
                rows_per_image: Some(1),
            },
            wgpu::Extent3d { width: PALETTE_WIDTH, height: 1, depth_or_array_layers: 1 },
        );
    }

    /// Per-view state for drawing clouds with this renderer.
    pub fn create_view(&self, device: &wgpu::Device) -> PointCloudView {
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("PointCloudView::uniform"),
            size: size_of::<gpu_data::PointsUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("PointCloudView::bind_group"),
            layout: &self.frame_layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&self.palette_view),
                },
            ],
        });
        PointCloudView {
            uniform,
            bind_group,
            draws: Vec::new(),
            single_pixel: false,
            color_by: ColorBy::Height,
        }
    }

    /// Reorders `cloud` into chunks and uploads it (see the module docs). Call once per cloud.
    ///
    /// # Errors
    /// [`RenderError::InvalidInput`] when attribute lengths disagree with the positions or the
    /// cloud has more than 2³⁰ points (the picking id limit).
    pub fn upload(
        &self,
        device: &wgpu::Device,
        cloud: &PointCloud,
        options: &PointUploadOptions,
    ) -> Result<GpuPointCloud, RenderError> {
        let n = cloud.len();
        check_lengths(cloud)?;
        if n >= (1 << 30) {
            return Err(RenderError::InvalidInput(format!(
                "{n} points exceed the 2^30 points one cloud can hold"
            )));
        }
        let limits = device.limits();
        let max_page_bytes = options
            .max_page_bytes
            .unwrap_or_else(|| limits.max_buffer_size.min(256 << 20))
            .min(limits.max_buffer_size)
            .max(POSITION_BYTES);
        let page_points = usize::try_from(max_page_bytes / POSITION_BYTES).unwrap_or(usize::MAX);
        let chunk_points = options.chunk_points.clamp(1, page_points);

        let (order, leaves) = coarse_to_fine_order(&cloud.positions, chunk_points);

        // Group chunks into pages.
        let mut chunks = Vec::with_capacity(leaves.len());
        let mut page_spans: Vec<(usize, usize)> = Vec::new(); // (first point, len)
        let mut first = 0usize;
        for leaf in &leaves {
            let fits = page_spans.last().is_some_and(|&(_, len)| len + leaf.len <= page_points);
            if !fits {
                page_spans.push((first, 0));
            }
            let page = page_spans.len() - 1;
            let Some(span) = page_spans.last_mut() else { continue };
            chunks.push(Chunk {
                page,
                first_in_page: span.1,
                len: leaf.len,
                min: leaf.min,
                max: leaf.max,
            });
            span.1 += leaf.len;
            first += leaf.len;
        }

        let rgb_shift = rgb_shift_of(cloud);
        let pages = page_spans
            .iter()
            .map(|&(page_first, len)| {
                let indices = &order[page_first..page_first + len];
                let positions: Vec<[f32; 3]> =
                    indices.par_iter().map(|&i| cloud.positions[i as usize]).collect();
                let attributes: Vec<[u32; 2]> = indices
                    .par_iter()
                    .map(|&i| pack_attributes(cloud, i as usize, rgb_shift))
                    .collect();
                let labels = vec![0u32; len.max(1)];
                let buffer = |label, contents: &[u8]| {
                    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some(label),
                        contents,
                        usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
                    })
                };
                Page {
                    positions: buffer(
                        "GpuPointCloud::positions",
                        pad_nonempty(bytemuck::cast_slice(&positions), 12),
                    ),
                    attributes: buffer(
                        "GpuPointCloud::attributes",
                        pad_nonempty(bytemuck::cast_slice(&attributes), 8),
                    ),
                    labels: buffer("GpuPointCloud::labels", bytemuck::cast_slice(&labels)),
                    first_point: page_first,
                    len,
                }
            })
            .collect::<Vec<_>>();

        let stride = limits.min_uniform_buffer_offset_alignment.max(16);
        let mut uniform_bytes = vec![0u8; stride as usize * chunks.len().max(1)];
        for (i, chunk) in chunks.iter().enumerate() {
            let first_point =
                pages.get(chunk.page).map_or(0, |p| p.first_point) + chunk.first_in_page;
            let value = gpu_data::ChunkUniform { first_point: first_point as u32, pad: [0; 3] };
            let at = i * stride as usize;
            uniform_bytes[at..at + 16].copy_from_slice(bytemuck::bytes_of(&value));
        }
        let chunk_uniforms = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("GpuPointCloud::chunk_uniforms"),
            contents: &uniform_bytes,
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let chunk_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("GpuPointCloud::chunk_bind_group"),
            layout: &self.chunk_layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &chunk_uniforms,
                    offset: 0,
                    size: wgpu::BufferSize::new(16),
                }),
            }],
        });

        let (min, max) = bounds(&cloud.positions);
        Ok(GpuPointCloud {
            origin: cloud.origin,
            min,
            max,
            intensity_percentiles: cloud.intensity.as_deref().and_then(percentiles_1_99),
            has_rgb: cloud.rgb.is_some(),
            has_classification: cloud.classification.is_some(),
            pages,
            chunks,
            original_from_gpu: order,
            gpu_from_original: std::sync::OnceLock::new(),
            chunk_uniforms,
            chunk_bind_group,
            chunk_uniform_stride: stride,
        })
    }

    /// Writes the view's uniform for this frame and chooses the chunks and point counts to draw
    /// (culling + budget, see the module docs). Call before [`PointCloudRenderer::paint`]
    /// (in egui: from `CallbackTrait::prepare`).
    pub fn prepare(
        &self,
        queue: &wgpu::Queue,
        view: &mut PointCloudView,
        cloud: &GpuPointCloud,
        camera: &Camera,
        viewport: Viewport,
        style: &PointStyle,
    ) -> PointFrameStats {
        let clip_from_local = camera.clip_from_local(viewport, cloud.origin);
        let color_by = cloud.resolve_color_by(style.color_by);
        let value_range = match color_by {
            ColorBy::Intensity => {
                style.intensity_range.or(cloud.intensity_percentiles).unwrap_or([0.0, 65535.0])
            }
            ColorBy::Height => match style.height_range_m {
                Some([lo, hi]) => [(lo - cloud.origin[2]) as f32, (hi - cloud.origin[2]) as f32],
                None => [cloud.min[2], cloud.max[2]],
            },
            _ => [0.0, 1.0],
        };
        let uniform = gpu_data::PointsUniform {
            clip_from_local: matrix_to_gpu(&clip_from_local),
            viewport_px: [viewport.width_px as f32, viewport.height_px as f32],
            point_size_px: style.point_size_px.max(1.0),
            color_mode: match color_by {
                ColorBy::Intensity => 0,
                ColorBy::Height => 1,
                ColorBy::Rgb => 2,
                ColorBy::Classification => 3,
                ColorBy::Label => 4,
            },
            value_range,
            round_points: u32::from(style.round),
            target_is_srgb: self.format.srgb_flag(),
        };
        queue.write_buffer(&view.uniform, 0, bytemuck::bytes_of(&uniform));
        let (draws, stats) =
            plan_draws(&cloud.chunks, &clip_from_local, viewport, style.budget_points);
        view.draws = draws;
        view.single_pixel = style.point_size_px <= 1.0;
        view.color_by = color_by;
        // Build the pipeline now rather than inside a render pass.
        let _ = self.pipelines.color(self.format, color_by, view.single_pixel);
        stats
    }

    /// Records the draw calls chosen by the last [`PointCloudRenderer::prepare`] into a pass
    /// whose formats match this renderer's [`TargetFormat`].
    pub fn paint(
        &self,
        pass: &mut wgpu::RenderPass<'_>,
        view: &PointCloudView,
        cloud: &GpuPointCloud,
    ) {
        pass.set_pipeline(self.pipelines.color(self.format, view.color_by, view.single_pixel));
        pass.set_bind_group(0, &view.bind_group, &[]);
        let second = second_buffer(view.color_by);
        // Consecutive chunks of one page drawn in full merge into one draw; buffers are bound
        // once per page and ranges start at the chunk's first point.
        let mut bound_page = None;
        let mut pending: Option<(usize, u32, u32)> = None; // (page, first, end)
        let flush = |pass: &mut wgpu::RenderPass<'_>, range: Option<(usize, u32, u32)>| {
            if let Some((_, first, end)) = range {
                if view.single_pixel {
                    pass.draw(first..end, 0..1);
                } else {
                    pass.draw(0..4, first..end);
                }
            }
        };
        for &(chunk_index, count) in &view.draws {
            let Some(chunk) = cloud.chunks.get(chunk_index) else { continue };
            let Some(page) = cloud.pages.get(chunk.page) else { continue };
            let count = count.min(chunk.len as u32);
            if count == 0 {
                continue;
            }
            let first = chunk.first_in_page as u32;
            match &mut pending {
                Some((p, _, end)) if *p == chunk.page && *end == first => {
                    *end = first + count;
                }
                _ => {
                    flush(pass, pending.take());
                    if bound_page != Some(chunk.page) {
                        pass.set_vertex_buffer(0, page.positions.slice(..));
                        match second {
                            SecondBuffer::None => {}
                            SecondBuffer::Attributes => {
                                pass.set_vertex_buffer(1, page.attributes.slice(..));
                            }
                            SecondBuffer::Labels => {
                                pass.set_vertex_buffer(1, page.labels.slice(..))
                            }
                        }
                        bound_page = Some(chunk.page);
                    }
                    pending = Some((chunk.page, first, first + count));
                }
            }
            // A partly drawn chunk ends the run: the next chunk does not follow its last drawn
            // point.
            if count < chunk.len as u32 {
                flush(pass, pending.take());
            }
        }
        flush(pass, pending);
    }

    /// Like [`PointCloudRenderer::paint`], but writes picking ids into a
    /// [`picking::PickingTarget`] pass.
    pub fn paint_picking(
        &self,
        pass: &mut wgpu::RenderPass<'_>,
        view: &PointCloudView,
        cloud: &GpuPointCloud,
    ) {
        let pipeline = if view.single_pixel {
            &self.pipelines.pick_pixels
        } else {
            &self.pipelines.pick_quads
        };
        pass.set_pipeline(pipeline);
        Self::draw_chunks(pass, view, cloud);
    }

    fn draw_chunks(pass: &mut wgpu::RenderPass<'_>, view: &PointCloudView, cloud: &GpuPointCloud) {
        pass.set_bind_group(0, &view.bind_group, &[]);
        for &(chunk_index, count) in &view.draws {
            let Some(chunk) = cloud.chunks.get(chunk_index) else { continue };
            let Some(page) = cloud.pages.get(chunk.page) else { continue };
            let count = count.min(chunk.len as u32);
            if count == 0 {
                continue;
            }
            let first = chunk.first_in_page as u64;
            let offset = chunk_index as u32 * cloud.chunk_uniform_stride;
            pass.set_bind_group(1, &cloud.chunk_bind_group, &[offset]);
            pass.set_vertex_buffer(0, page.positions.slice(first * POSITION_BYTES..));
            pass.set_vertex_buffer(1, page.attributes.slice(first * ATTRIBUTE_BYTES..));
            pass.set_vertex_buffer(2, page.labels.slice(first * LABEL_BYTES..));
            if view.single_pixel {
                pass.draw(0..count, 0..1);
            } else {
                pass.draw(0..4, 0..count);
            }
        }
    }
}

impl GpuPointCloud {
    /// The position vertex buffers (12-byte `vec3f` each, in GPU order) and their point counts,
    /// page by page: what a bare pass drawing the same buffers binds (benchmarks).
    pub(crate) fn position_pages(&self) -> impl Iterator<Item = (&wgpu::Buffer, u32)> {
        self.pages.iter().map(|p| (&p.positions, p.len as u32))
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.original_from_gpu.len()
    }

    /// True when the cloud has no point.
    pub fn is_empty(&self) -> bool {
        self.original_from_gpu.is_empty()
    }

    /// The f64 world origin the f32 positions are relative to.
    pub fn origin(&self) -> [f64; 3] {
        self.origin
    }

    /// World-space bounds `(min, max)`.
    pub fn bounds(&self) -> (Point3<f64>, Point3<f64>) {
        let world = |p: [f32; 3]| {
            Point3::new(
                self.origin[0] + f64::from(p[0]),
                self.origin[1] + f64::from(p[1]),
                self.origin[2] + f64::from(p[2]),
            )
        };
        (world(self.min), world(self.max))
    }

    /// Number of chunks (culling/LOD units).
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// Number of pages (vertex buffer sets).
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The uploaded cloud's index of the point at `gpu_index` (as in a picking id).
    pub fn original_index(&self, gpu_index: u32) -> Option<u32> {
        self.original_from_gpu.get(gpu_index as usize).copied()
    }

    /// The colour mode actually used for `wanted`: the cloud's attribute, or height.
    pub fn resolve_color_by(&self, wanted: ColorBy) -> ColorBy {
        match wanted {
            ColorBy::Intensity if self.intensity_percentiles.is_none() => ColorBy::Height,
            ColorBy::Rgb if !self.has_rgb => ColorBy::Height,
            ColorBy::Classification if !self.has_classification => ColorBy::Height,
            other => other,
        }
    }

    /// Replaces every point's label id (in the uploaded cloud's order) for [`ColorBy::Label`].
    /// Writes only the label buffers.
    ///
    /// # Errors
    /// [`RenderError::InvalidInput`] when `labels.len()` differs from the point count.
    pub fn set_labels(&self, queue: &wgpu::Queue, labels: &[u32]) -> Result<(), RenderError> {
        if labels.len() != self.len() {
            return Err(RenderError::InvalidInput(format!(
                "{} labels for {} points",
                labels.len(),
                self.len()
            )));
        }
        for page in &self.pages {
            let gpu: Vec<u32> = self.original_from_gpu
                [page.first_point..page.first_point + page.len]
                .iter()
                .map(|&i| labels.get(i as usize).copied().unwrap_or(0))
                .collect();
            if !gpu.is_empty() {
                queue.write_buffer(&page.labels, 0, bytemuck::cast_slice(&gpu));
            }
        }
        Ok(())
    }

    /// Rewrites the label ids of some points (`points`: indices in the uploaded cloud's order;
    /// `label_of(i)`: the label of point `i`), writing only the spans of the label buffers that
    /// hold them: changed points at most [`LABEL_SPAN_GAP`] apart in GPU order share one write.
    /// Returns the bytes written. Indices past the cloud are ignored.
    pub fn update_labels(
        &self,
        queue: &wgpu::Queue,
        points: &[u32],
        label_of: impl Fn(u32) -> u32,
    ) -> u64 {
        let inverse = self.gpu_from_original.get_or_init(|| {
            let mut inverse = vec![0u32; self.original_from_gpu.len()];
            for (gpu, &original) in self.original_from_gpu.iter().enumerate() {
                if let Some(slot) = inverse.get_mut(original as usize) {
                    *slot = gpu as u32;
                }
            }
            inverse
        });
        let mut gpu: Vec<u32> =
            points.iter().filter_map(|&p| inverse.get(p as usize).copied()).collect();
        gpu.sort_unstable();
        gpu.dedup();
        let mut written = 0u64;
        let mut values = Vec::new();
        let mut rest = gpu.as_slice();
        while let Some((&start, _)) = rest.split_first() {
            let Some(page) = self.pages.iter().find(|p| {
                (start as usize) >= p.first_point && (start as usize) < p.first_point + p.len
            }) else {
                rest = rest.get(1..).unwrap_or_default();
                continue;
            };
            let page_end = page.first_point + page.len;
            let mut end = start;
            let mut taken = 1;
            for &next in rest.iter().skip(1) {
                if next as usize >= page_end || next - end > LABEL_SPAN_GAP {
                    break;
                }
                end = next;
                taken += 1;
            }
            values.clear();
            values.extend(
                (start..=end)
                    .map(|g| self.original_from_gpu.get(g as usize).map_or(0, |&i| label_of(i))),
            );
            let offset = (start as usize - page.first_point) as u64 * LABEL_BYTES;
            queue.write_buffer(&page.labels, offset, bytemuck::cast_slice(&values));
            written += values.len() as u64 * LABEL_BYTES;
            rest = rest.get(taken..).unwrap_or_default();
        }
        written
    }

    /// Bytes of GPU memory held by the vertex buffers.
    pub fn gpu_bytes(&self) -> u64 {
        self.pages
            .iter()
            .map(|p| p.positions.size() + p.attributes.size() + p.labels.size())
            .sum::<u64>()
            + self.chunk_uniforms.size()
    }
}

/// A per-frame point budget that keeps interaction fluid on `adapter`: software rasterizers
/// (lavapipe, llvmpipe: about 3–5 M points/s on two cores) get 300k, real GPUs 4M.
pub fn suggested_point_budget(adapter: &wgpu::AdapterInfo) -> usize {
    match adapter.device_type {
        wgpu::DeviceType::Cpu => 300_000,
        _ => 4_000_000,
    }
}

/// CPU mirror of the shader's height colour ramp (blue, cyan, green, yellow, red), for legends and
/// tests. `t` is clamped to 0..=1.
pub fn height_color(t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0) * 4.0;
    let rgb = if t < 1.0 {
        [0.0, t, 1.0]
    } else if t < 2.0 {
        [0.0, 1.0, 2.0 - t]
    } else if t < 3.0 {
        [t - 2.0, 1.0, 0.0]
    } else {
        [1.0, 4.0 - t, 0.0]
    };
    rgb.map(|c| (c * 255.0).round() as u8)
}

/// Colours of ASPRS LAS classification codes 0..=18 (LAS 1.4 R15, table 17); codes above repeat a
/// neutral grey. Alpha 255 everywhere.
pub fn asprs_classification_palette() -> Vec<[u8; 4]> {
    let named: [[u8; 3]; 19] = [
        [160, 160, 160], // 0 created, never classified
        [200, 200, 200], // 1 unclassified
        [166, 118, 62],  // 2 ground
        [140, 200, 90],  // 3 low vegetation
        [70, 160, 50],   // 4 medium vegetation
        [20, 110, 30],   // 5 high vegetation
        [220, 70, 60],   // 6 building
        [255, 0, 255],   // 7 low point (noise)
        [120, 120, 120], // 8 reserved (model key-point)
        [40, 120, 230],  // 9 water
        [130, 80, 160],  // 10 rail
        [90, 90, 100],   // 11 road surface
        [120, 120, 120], // 12 reserved (overlap)
        [240, 200, 40],  // 13 wire guard (shield)
        [250, 230, 90],  // 14 wire conductor (phase)
        [230, 130, 30],  // 15 transmission tower
        [200, 160, 60],  // 16 wire-structure connector
        [150, 150, 190], // 17 bridge deck
        [255, 80, 200],  // 18 high noise
    ];
    (0..256)
        .map(|code| {
            let [r, g, b] = named.get(code).copied().unwrap_or([128, 128, 128]);
            [r, g, b, 255]
        })
        .collect()
}

/// A default label palette of 20 well-separated colours (label 0 grey = unlabelled), used until
/// the app sets the job's label colours.
pub fn default_label_palette() -> Vec<[u8; 4]> {
    [
        [128, 128, 128],
        [31, 119, 180],
        [255, 127, 14],
        [44, 160, 44],
        [214, 39, 40],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [188, 189, 34],
        [23, 190, 207],
        [174, 199, 232],
        [255, 187, 120],
        [152, 223, 138],
        [255, 152, 150],
        [197, 176, 213],
        [196, 156, 148],
        [247, 182, 210],
        [219, 219, 141],
        [158, 218, 229],
        [127, 127, 127],
    ]
    .iter()
    .map(|&[r, g, b]| [r, g, b, 255])
    .collect()
}

fn check_lengths(cloud: &PointCloud) -> Result<(), RenderError> {
    let n = cloud.len();
    let lengths = [
        ("intensity", cloud.intensity.as_ref().map(Vec::len)),
        ("classification", cloud.classification.as_ref().map(Vec::len)),
        ("rgb", cloud.rgb.as_ref().map(Vec::len)),
    ];
    for (name, len) in lengths {
        if let Some(len) = len.filter(|&len| len != n) {
            return Err(RenderError::InvalidInput(format!(
                "point cloud has {n} positions but {len} {name} values"
            )));
        }
    }
    Ok(())
}

/// How far to shift 16-bit colour channels down to 8 bits: 8 for true 16-bit colour, 0 when
/// every channel is ≤ 255 (many LAS writers store 8-bit colour in the 16-bit fields).
fn rgb_shift_of(cloud: &PointCloud) -> u32 {
    let max = cloud
        .rgb
        .as_ref()
        .map_or(0, |rgb| rgb.par_iter().map(|c| c[0].max(c[1]).max(c[2])).max().unwrap_or(0));
    if max <= 255 { 0 } else { 8 }
}

fn pack_attributes(cloud: &PointCloud, i: usize, rgb_shift: u32) -> [u32; 2] {
    let [r, g, b] = cloud
        .rgb
        .as_ref()
        .and_then(|rgb| rgb.get(i))
        .map_or([0, 0, 0], |c| c.map(|v| (v >> rgb_shift).min(255) as u8));
    let class = cloud.classification.as_ref().and_then(|c| c.get(i)).copied().unwrap_or(0);
    let intensity = cloud.intensity.as_ref().and_then(|v| v.get(i)).copied().unwrap_or(0);
    [pack_rgba8([r, g, b, class]), u32::from(intensity)]
}

fn pad_nonempty(bytes: &[u8], stride: usize) -> &[u8] {
    // wgpu rejects zero-sized vertex buffers in some backends; an empty cloud gets one dummy.
    const ZEROS: [u8; 16] = [0; 16];
    if bytes.is_empty() { &ZEROS[..stride] } else { bytes }
}

fn bounds(positions: &[[f32; 3]]) -> ([f32; 3], [f32; 3]) {
    if positions.is_empty() {
        return ([0.0; 3], [0.0; 3]);
    }
    positions
        .par_iter()
        .fold(
            || ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]),
            |(mut lo, mut hi), p| {
                for k in 0..3 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
                (lo, hi)
            },
        )
        .reduce(
            || ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]),
            |(a_lo, a_hi), (b_lo, b_hi)| {
                (
                    std::array::from_fn(|k| a_lo[k].min(b_lo[k])),
                    std::array::from_fn(|k| a_hi[k].max(b_hi[k])),
                )
            },
        )
}

/// Intensity values at the 1st and 99th percentile (from a histogram of all 65536 values).
fn percentiles_1_99(intensity: &[u16]) -> Option<[f32; 2]> {
    if intensity.is_empty() {
        return None;
    }
    let mut histogram = vec![0u32; 1 << 16];
    for &v in intensity {
        histogram[v as usize] += 1;
    }
    let n = intensity.len();
    let rank_lo = (n - 1) / 100;
    let rank_hi = ((n - 1) * 99).div_ceil(100);
    let value_at = |rank: usize| {
        let mut seen = 0usize;
        for (value, &count) in histogram.iter().enumerate() {
            seen += count as usize;
            if seen > rank {
                return value as f32;
            }
        }
        65535.0
    };
    Some([value_at(rank_lo), value_at(rank_hi)])
}

/// A k-d tree leaf: `len` consecutive entries of the order.
#[derive(Debug, Clone, Copy)]
struct Leaf {
    len: usize,
    min: [f32; 3],
    max: [f32; 3],
}

/// The GPU order of the points (original indices) and its chunks: k-d leaves of at most
/// `chunk_points`, each ordered coarse-to-fine.
fn coarse_to_fine_order(positions: &[[f32; 3]], chunk_points: usize) -> (Vec<u32>, Vec<Leaf>) {
    let mut order: Vec<u32> = (0..positions.len() as u32).collect();
    let mut leaves = Vec::new();
    // One scratch array for the whole build: each node uses its own range of it (fresh memory
    // for every node cost more in page faults than the selection itself).
    let mut keys = vec![0u64; order.len()];
    split_kd(&mut order, &mut keys, positions, chunk_points, bounds(positions), &mut leaves);
    drop(keys);
    // Reorder every leaf in parallel.
    let mut slices = Vec::with_capacity(leaves.len());
    let mut rest: &mut [u32] = &mut order;
    for leaf in &leaves {
        let (head, tail) = rest.split_at_mut(leaf.len);
        slices.push(head);
        rest = tail;
    }
    slices.into_par_iter().zip(leaves.par_iter()).for_each(|(slice, leaf)| {
        reorder_leaf(slice, positions, leaf);
    });
    (order, leaves)
}

/// Splits `indices` at the median of the longest axis of `cell` (the node's box: exact at the
/// root, then the parent's cut at the split plane) until at most `chunk_points` remain; the
/// leaves get their exact bounds. The median is selected over one contiguous array of keys
/// (the coordinate's order-preserving bits beside the index), not by looking every comparison
/// up in `positions`: the k-d build was most of a 10M-point upload. `keys` is scratch space as
/// long as `indices`.
fn split_kd(
    indices: &mut [u32],
    keys: &mut [u64],
    positions: &[[f32; 3]],
    chunk_points: usize,
    cell: ([f32; 3], [f32; 3]),
    out: &mut Vec<Leaf>,
) {
    if indices.len() <= chunk_points {
        if !indices.is_empty() {
            let (min, max) = bounds_of(indices, positions);
            out.push(Leaf { len: indices.len(), min, max });
        }
        return;
    }
    let (min, max) = cell;
    let extent = [max[0] - min[0], max[1] - min[1], max[2] - min[2]];
    let axis = if extent[0] >= extent[1] && extent[0] >= extent[2] {
        0
    } else if extent[1] >= extent[2] {
        1
    } else {
        2
    };
    let mid = indices.len() / 2;
    keys.par_iter_mut().with_min_len(1 << 14).zip(indices.par_iter()).for_each(|(key, &i)| {
        *key = u64::from(ordered_bits(positions[i as usize][axis])) << 32 | u64::from(i);
    });
    keys.select_nth_unstable(mid);
    let split = from_ordered_bits((keys[mid] >> 32) as u32);
    indices.par_iter_mut().with_min_len(1 << 14).zip(keys.par_iter()).for_each(|(slot, key)| {
        *slot = *key as u32;
    });
    let (left, right) = indices.split_at_mut(mid);
    let (left_keys, right_keys) = keys.split_at_mut(mid);
    let (mut left_max, mut right_min) = (max, min);
    left_max[axis] = split;
    right_min[axis] = split;
    let (mut left_leaves, mut right_leaves) = (Vec::new(), Vec::new());
    rayon::join(
        || split_kd(left, left_keys, positions, chunk_points, (min, left_max), &mut left_leaves),
        || {
            let cell = (right_min, max);
            split_kd(right, right_keys, positions, chunk_points, cell, &mut right_leaves);
        },
    );
    out.append(&mut left_leaves);
    out.append(&mut right_leaves);
}

/// `f32` bits whose unsigned order is `f32::total_cmp`'s.
fn ordered_bits(x: f32) -> u32 {
    let b = x.to_bits();
    if b >> 31 == 1 { !b } else { b | 0x8000_0000 }
}

/// The inverse of [`ordered_bits`].
fn from_ordered_bits(b: u32) -> f32 {
    f32::from_bits(if b >> 31 == 1 { b & 0x7fff_ffff } else { !b })
}

fn bounds_of(indices: &[u32], positions: &[[f32; 3]]) -> ([f32; 3], [f32; 3]) {
    let mut min = [f32::INFINITY; 3];
    let mut max = [f32::NEG_INFINITY; 3];
    for &i in indices {
        let p = positions[i as usize];
        for k in 0..3 {
            min[k] = min[k].min(p[k]);
            max[k] = max[k].max(p[k]);
        }
    }
    (min, max)
}

/// Sorts a leaf along a Morton curve, then emits it in bit-reversed rank order, so every prefix
/// is spread evenly over the leaf.
fn reorder_leaf(slice: &mut [u32], positions: &[[f32; 3]], leaf: &Leaf) {
    let n = slice.len();
    if n < 3 {
        return;
    }
    let scale: [f32; 3] =
        std::array::from_fn(|k| 1023.0 / (leaf.max[k] - leaf.min[k]).max(f32::MIN_POSITIVE));
    let mut keyed: Vec<(u32, u32)> = slice
        .iter()
        .map(|&i| {
            let p = positions[i as usize];
            let q: [u32; 3] = std::array::from_fn(|k| {
                ((p[k] - leaf.min[k]) * scale[k]).clamp(0.0, 1023.0) as u32
            });
            (morton3(q), i)
        })
        .collect();
    keyed.sort_unstable();
    let bits = n.next_power_of_two().trailing_zeros();
    let mut out = 0usize;
    for i in 0..(1usize << bits) {
        let rank = i.reverse_bits() >> (usize::BITS - bits);
        if let Some(&(_, index)) = keyed.get(rank) {
            slice[out] = index;
            out += 1;
        }
    }
}

fn morton3(q: [u32; 3]) -> u32 {
    fn spread(mut x: u32) -> u32 {
        x &= 0x3ff;
        x = (x | (x << 16)) & 0x0300_00ff;
        x = (x | (x << 8)) & 0x0300_f00f;
        x = (x | (x << 4)) & 0x030c_30c3;
        x = (x | (x << 2)) & 0x0924_9249;
        x
    }
    spread(q[0]) | (spread(q[1]) << 1) | (spread(q[2]) << 2)
}

/// Column-major f32 matrix for WGSL's `mat4x4f`.
pub(crate) fn matrix_to_gpu(m: &Matrix4<f64>) -> [[f32; 4]; 4] {
    std::array::from_fn(|col| std::array::from_fn(|row| m[(row, col)] as f32))
}

/// Frustum culling and budget allocation (see the module docs).
fn plan_draws(
    chunks: &[Chunk],
    clip_from_local: &Matrix4<f64>,
    viewport: Viewport,
    budget_points: usize,
) -> (Vec<(usize, u32)>, PointFrameStats) {
    let viewport_area = viewport.width_px * viewport.height_px;
    let mut visible: Vec<(usize, f64)> = Vec::new(); // (chunk, screen area in px)
    for (index, chunk) in chunks.iter().enumerate() {
        let clips: [Vector4<f64>; 8] = std::array::from_fn(|i| {
            let pick =
                |k: usize| f64::from(if i >> k & 1 == 0 { chunk.min[k] } else { chunk.max[k] });
            clip_from_local * Vector4::new(pick(0), pick(1), pick(2), 1.0)
        });
        let outside = |test: &dyn Fn(&Vector4<f64>) -> bool| clips.iter().all(test);
        if outside(&|c| c.x < -c.w)
            || outside(&|c| c.x > c.w)
            || outside(&|c| c.y < -c.w)
            || outside(&|c| c.y > c.w)
            || outside(&|c| c.z < 0.0)
            || outside(&|c| c.z > c.w)
        {
            continue;
        }
        let area = if clips.iter().all(|c| c.w > 1e-9) {
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for c in &clips {
                for k in 0..2 {
                    let ndc = (c[k] / c.w).clamp(-1.0, 1.0);
                    lo[k] = lo[k].min(ndc);
                    hi[k] = hi[k].max(ndc);
                }
            }
            ((hi[0] - lo[0]) * 0.5 * viewport.width_px * (hi[1] - lo[1]) * 0.5 * viewport.height_px)
                .max(1.0)
        } else {
            viewport_area
        };
        visible.push((index, area));
    }
    let visible_points: usize = visible.iter().map(|&(i, _)| chunks[i].len).sum();
    let mut stats =
        PointFrameStats { visible_chunks: visible.len(), visible_points, drawn_points: 0 };
    let draws: Vec<(usize, u32)> = if visible_points <= budget_points {
        visible.iter().map(|&(i, _)| (i, chunks[i].len as u32)).collect()
    } else {
        let counts = |k: f64| -> usize {
            visible.iter().map(|&(i, area)| ((k * area).floor() as usize).min(chunks[i].len)).sum()
        };
        let mut lo = 0.0;
        let mut hi =
            visible.iter().map(|&(i, area)| chunks[i].len as f64 / area).fold(0.0, f64::max);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if counts(mid) <= budget_points { lo = mid } else { hi = mid }
        }
        visible
            .iter()
            .map(|&(i, area)| (i, ((lo * area).floor() as usize).min(chunks[i].len) as u32))
            .filter(|&(_, count)| count > 0)
            .collect()
    };
    stats.drawn_points = draws.iter().map(|&(_, c)| c as usize).sum();
    (draws, stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn height_ramp_matches_its_stops() {
        assert_eq!(height_color(0.0), [0, 0, 255]);
        assert_eq!(height_color(0.25), [0, 255, 255]);
        assert_eq!(height_color(0.5), [0, 255, 0]);
        assert_eq!(height_color(0.75), [255, 255, 0]);
        assert_eq!(height_color(1.0), [255, 0, 0]);
    }

    #[test]
    fn ordered_bits_sort_like_total_cmp_and_round_trip() {
        let mut values =
            [-f32::INFINITY, -1e30, -2.5, -0.0, 0.0, 1e-40, 1.0, 3.5, 1e30, f32::INFINITY];
        let mut rng = fastrand::Rng::with_seed(3);
        rng.shuffle(&mut values);
        let mut by_bits = values;
        by_bits.sort_by_key(|v| ordered_bits(*v));
        let mut by_cmp = values;
        by_cmp.sort_by(f32::total_cmp);
        assert_eq!(by_bits.map(f32::to_bits), by_cmp.map(f32::to_bits));
        for v in values {
            assert_eq!(from_ordered_bits(ordered_bits(v)).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn order_is_a_permutation_with_compact_chunks() {
        let mut rng = fastrand::Rng::with_seed(7);
        let positions: Vec<[f32; 3]> =
            (0..10_000).map(|_| [rng.f32() * 100.0, rng.f32() * 50.0, rng.f32()]).collect();
        let (order, leaves) = coarse_to_fine_order(&positions, 1000);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert!(sorted.iter().enumerate().all(|(i, &v)| i as u32 == v));
        assert_eq!(leaves.iter().map(|l| l.len).sum::<usize>(), 10_000);
        assert!(leaves.iter().all(|l| l.len <= 1000 && l.len >= 500));
        // Every point lies in its leaf's bounds.
        let mut at = 0;
        for leaf in &leaves {
            for &i in &order[at..at + leaf.len] {
                let p = positions[i as usize];
                assert!((0..3).all(|k| p[k] >= leaf.min[k] && p[k] <= leaf.max[k]));
            }
            at += leaf.len;
        }
    }

    #[test]
    fn chunk_prefix_is_spread_over_the_chunk() {
        // 4096 points on a 64×64 grid in one chunk: the first 64 must cover all 4×4 blocks of
        // 16×16 cells (a plain Morton prefix would cover only one block).
        let positions: Vec<[f32; 3]> =
            (0..4096).map(|i| [(i % 64) as f32, (i / 64) as f32, 0.0]).collect();
        let (order, leaves) = coarse_to_fine_order(&positions, 4096);
        assert_eq!(leaves.len(), 1);
        let mut blocks = std::collections::BTreeSet::new();
        for &i in &order[..64] {
            let p = positions[i as usize];
            blocks.insert(((p[0] / 16.0) as u32, (p[1] / 16.0) as u32));
        }
        assert_eq!(blocks.len(), 16);
    }

    #[test]
    fn budget_prefers_near_chunks_and_is_respected() {
        let chunk = |x: f32| Chunk {
            page: 0,
            first_in_page: 0,
            len: 1000,
            min: [x, -1.0, -1.0],
            max: [x + 2.0, 1.0, 1.0],
        };
        let chunks = [chunk(2.0), chunk(40.0), chunk(-100.0)];
        // Perspective camera at the origin looking along +x.
        let mut camera = Camera::standard(crate::geometry::StandardView::Side);
        camera.projection = crate::geometry::Projection::Perspective;
        camera.yaw_rad = 0.0;
        camera.target = Point3::new(10.0, 0.0, 0.0);
        camera.distance = 10.0;
        camera.near = 0.1;
        camera.far = 1000.0;
        let vp = Viewport::new(200, 200);
        let m = camera.clip_from_world(vp);
        let (draws, stats) = plan_draws(&chunks, &m, vp, 1200);
        assert_eq!(stats.visible_chunks, 2, "the chunk behind the camera is culled");
        assert!(stats.drawn_points <= 1200);
        let near = draws.iter().find(|d| d.0 == 0).map_or(0, |d| d.1);
        let far = draws.iter().find(|d| d.0 == 1).map_or(0, |d| d.1);
        assert_eq!(near, 1000, "the near chunk keeps full detail");
        assert!(far > 0 && far <= 200);
        let (all, stats) = plan_draws(&chunks, &m, vp, 10_000);
        assert_eq!(stats.drawn_points, 2000);
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn intensity_percentiles() {
        let values: Vec<u16> = (0..=1000).collect();
        assert_eq!(percentiles_1_99(&values), Some([10.0, 990.0]));
    }
}
