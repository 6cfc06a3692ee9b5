//! The logic of the `render_frame` benchmark (`benches/render_frame.rs`), kept in the library so
//! a unit test runs it at a tiny size:
//! - headless frame time of [`PointCloudRenderer`] (culling, LOD planning, palette colouring)
//!   next to a bare wgpu pass drawing the renderer's own position buffers with a minimal pipeline (one uniform
//!   matrix, a constant colour, `PointList`), so the renderer's overhead shows as a ratio;
//! - time to first points: from starting a [`CloudStream`] on a LAS/LAZ file to the first piece
//!   uploaded and drawn (GPU finished), the path the review window takes.
//!
//! Must not depend on any layer above `render`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use wgpu::util::DeviceExt as _;

use super::points::{ColorBy, PointCloudRenderer, PointStyle, PointUploadOptions};
use super::stream::{CloudStream, StreamEvent, StreamOptions, StreamSource};
use super::target::{DEPTH_FORMAT, OffscreenTarget};
use super::{RenderContext, RenderError, TargetFormat, with_error_scope};
use crate::formats::point_cloud::PointCloud;
use crate::formats::point_cloud::bench_support::synthetic_position;
use crate::geometry::{Camera, StandardView};

/// Background of benchmark frames.
const BACKGROUND: [u8; 4] = [24, 26, 32, 255];

/// The synthetic terrain of `formats::point_cloud::bench_support`, `points` points, in memory
/// (positions relative to the first point's grid origin, intensity and classification set).
pub fn synthetic_cloud(points: usize, seed: u64) -> PointCloud {
    let mut rng = fastrand::Rng::with_seed(seed);
    let n = points as u64;
    let origin = synthetic_position(0, n, [0.0, 0.0]).map(f64::floor);
    let mut positions = Vec::with_capacity(points);
    let mut intensity = Vec::with_capacity(points);
    let mut classification = Vec::with_capacity(points);
    for i in 0..n {
        let p = synthetic_position(i, n, [rng.f64(), rng.f64()]);
        positions.push([0, 1, 2].map(|k| (p[k] - origin[k]) as f32));
        intensity.push(rng.u16(..));
        classification.push(if p[2] > 115.0 { 5 } else { 2 });
    }
    PointCloud {
        origin,
        positions,
        intensity: Some(intensity),
        classification: Some(classification),
        ..PointCloud::default()
    }
}

/// Frame times of one way of drawing a cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameTiming {
    /// Points in the cloud.
    pub points: usize,
    /// Points drawn per frame.
    pub drawn_points: usize,
    /// Median frame time (submit to GPU idle), milliseconds.
    pub median_ms: f64,
    /// Mean frame time, milliseconds.
    pub mean_ms: f64,
}

/// The renderer and the bare pass on one cloud.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameComparison {
    /// [`PointCloudRenderer`] with every point drawn at one pixel (height colouring).
    pub renderer: FrameTiming,
    /// The bare pipeline drawing the renderer's own position buffers (the same buffers, in the
    /// renderer's coarse-to-fine order).
    pub bare: FrameTiming,
    /// The bare pipeline drawing the positions in the cloud's input order (another buffer):
    /// shows what the renderer's point order costs or saves in rasterization.
    pub bare_input_order: FrameTiming,
    /// Output size.
    pub size_px: [u32; 2],
    /// Seconds [`PointCloudRenderer::upload`] took for the cloud (its k-d order and
    /// coarse-to-fine chunks, the page copies, the buffers).
    pub upload_secs: f64,
}

impl FrameComparison {
    /// Renderer time over bare time (medians).
    pub fn ratio(&self) -> f64 {
        if self.bare.median_ms > 0.0 { self.renderer.median_ms / self.bare.median_ms } else { 0.0 }
    }
}

/// Times `frames` frames (after two warm-up frames) of `cloud` drawn by [`PointCloudRenderer`]
/// (1-pixel points, no budget limit, orbit view fitted to the cloud) and by a bare pipeline
/// drawing the same positions (and over the cloud's input order), into a `size_px` offscreen
/// target, the passes taking turns frame by frame. Each frame is timed from recording to the GPU
/// being idle.
///
/// # Errors
/// [`RenderError`] on GPU errors.
pub fn compare_frame_times(
    ctx: &RenderContext,
    cloud: &PointCloud,
    size_px: [u32; 2],
    frames: usize,
) -> Result<FrameComparison, RenderError> {
    let (device, queue) = (&ctx.device, &ctx.queue);
    with_error_scope(device, "benchmarking frames", || {
        let target = OffscreenTarget::new(device, size_px[0], size_px[1]);
        let viewport = target.viewport();
        let renderer = PointCloudRenderer::new(device, queue, TargetFormat::OFFSCREEN);
        let started = std::time::Instant::now();
        let gpu = renderer.upload(device, cloud, &PointUploadOptions::default())?;
        let upload_secs = started.elapsed().as_secs_f64();
        let mut camera = Camera::standard(StandardView::Orbit);
        let (min, max) = gpu.bounds();
        camera.fit_to_bounds(min, max, viewport);
        let style = PointStyle {
            color_by: ColorBy::Height,
            point_size_px: 1.0,
            budget_points: usize::MAX,
            ..PointStyle::default()
        };
        let mut view = renderer.create_view(device);
        let mut drawn = 0;
        let bare = BarePipeline::new(device, cloud);
        let clip_from_local =
            super::points::matrix_to_gpu(&camera.clip_from_local(viewport, cloud.origin));
        // The three passes take turns frame by frame, so a change in the machine's load during
        // the run falls on all three alike instead of on whichever ran at that moment.
        let [renderer_times, bare_times, input_order_times] = time_interleaved(
            ctx,
            frames,
            [
                &mut || {
                    drawn = renderer
                        .prepare(queue, &mut view, &gpu, &camera, viewport, &style)
                        .drawn_points;
                    target.render(device, queue, BACKGROUND, |pass| {
                        renderer.paint(pass, &view, &gpu)
                    });
                },
                &mut || {
                    queue.write_buffer(&bare.uniform, 0, bytemuck::bytes_of(&clip_from_local));
                    target.render(device, queue, BACKGROUND, |pass| {
                        bare.bind(pass);
                        for (positions, len) in gpu.position_pages() {
                            pass.set_vertex_buffer(0, positions.slice(..));
                            pass.draw(0..len, 0..1);
                        }
                    });
                },
                &mut || {
                    queue.write_buffer(&bare.uniform, 0, bytemuck::bytes_of(&clip_from_local));
                    target.render(device, queue, BACKGROUND, |pass| {
                        bare.bind(pass);
                        pass.set_vertex_buffer(0, bare.positions.slice(..));
                        pass.draw(0..bare.count, 0..1);
                    });
                },
            ],
        )?;
        Ok(FrameComparison {
            renderer: timing(cloud.len(), drawn, &renderer_times),
            bare: timing(cloud.len(), cloud.len(), &bare_times),
            bare_input_order: timing(cloud.len(), cloud.len(), &input_order_times),
            size_px,
            upload_secs,
        })
    })
}

/// Times `frames` rounds (after two warm-up rounds) of the `N` frame functions, one frame of
/// each per round in turn; each frame from recording to the GPU being idle.
fn time_interleaved<const N: usize>(
    ctx: &RenderContext,
    frames: usize,
    mut passes: [&mut dyn FnMut(); N],
) -> Result<[Vec<f64>; N], RenderError> {
    let wait = || {
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| RenderError::Gpu { during: "waiting for a frame", message: e.to_string() })
    };
    for _ in 0..2 {
        for frame in passes.iter_mut() {
            frame();
            wait()?;
        }
    }
    let mut times: [Vec<f64>; N] = std::array::from_fn(|_| Vec::with_capacity(frames.max(1)));
    for _ in 0..frames.max(1) {
        for (frame, times) in passes.iter_mut().zip(times.iter_mut()) {
            let started = Instant::now();
            frame();
            wait()?;
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(times)
}

fn timing(points: usize, drawn_points: usize, times_ms: &[f64]) -> FrameTiming {
    let mut sorted = times_ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median_ms = match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    };
    let mean_ms =
        if sorted.is_empty() { 0.0 } else { sorted.iter().sum::<f64>() / sorted.len() as f64 };
    FrameTiming { points, drawn_points, median_ms, mean_ms }
}

/// The minimal pipeline: positions only, one matrix, a constant colour, `PointList`, depth test.
struct BarePipeline {
    pipeline: wgpu::RenderPipeline,
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    positions: wgpu::Buffer,
    count: u32,
}

const BARE_WGSL: &str = "
@group(0) @binding(0) var<uniform> clip_from_local: mat4x4f;
@vertex
fn vs_main(@location(0) position: vec3f) -> @builtin(position) vec4f {
    return clip_from_local * vec4f(position, 1.0);
}
@fragment
fn fs_main() -> @location(0) vec4f {
    return vec4f(0.9, 0.9, 0.9, 1.0);
}
";

impl BarePipeline {
    fn new(device: &wgpu::Device, cloud: &PointCloud) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("bench bare points"),
            source: wgpu::ShaderSource::Wgsl(BARE_WGSL.into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("bench bare layout"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: wgpu::BufferSize::new(64),
                },
                count: None,
            }],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("bench bare pipeline layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let attributes = wgpu::vertex_attr_array![0 => Float32x3];
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("bench bare pipeline"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: 12,
                    step_mode: wgpu::VertexStepMode::Vertex,
                    attributes: &attributes,
                })],
            },
            primitive: wgpu::PrimitiveState {
                topology: wgpu::PrimitiveTopology::PointList,
                ..Default::default()
            },
            depth_stencil: Some(wgpu::DepthStencilState {
                format: DEPTH_FORMAT,
                depth_write_enabled: Some(true),
                depth_compare: Some(wgpu::CompareFunction::Less),
                stencil: Default::default(),
                bias: Default::default(),
            }),
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format: TargetFormat::OFFSCREEN.color,
                    blend: None,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        });
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("bench bare uniform"),
            size: 64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("bench bare bind group"),
            layout: &layout,
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }],
        });
        let bytes: &[u8] = bytemuck::cast_slice(&cloud.positions);
        let positions = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("bench bare positions"),
            contents: if bytes.is_empty() { &[0; 12] } else { bytes },
            usage: wgpu::BufferUsages::VERTEX,
        });
        Self { pipeline, uniform, bind_group, positions, count: cloud.len() as u32 }
    }

    fn bind(&self, pass: &mut wgpu::RenderPass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
    }
}

/// Time to first points of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstPoints {
    /// Points in the file.
    pub points: u64,
    /// Seconds from starting the stream to the first piece uploaded and drawn (GPU idle).
    pub first_points_secs: f64,
    /// Points in that first piece.
    pub first_piece_points: usize,
    /// Seconds from starting the stream to the last point decoded.
    pub decoded_secs: f64,
    /// Seconds from starting the stream to the whole cloud uploaded as one.
    pub finished_secs: f64,
}

/// Streams the LAS/LAZ file at `path` as the review window does and times the first piece
/// drawn into a `size_px` offscreen target, and the whole load.
///
/// # Errors
/// [`RenderError`] on GPU errors or when the stream fails.
pub fn time_to_first_points(
    ctx: &RenderContext,
    path: &Path,
    size_px: [u32; 2],
) -> Result<FirstPoints, RenderError> {
    let (device, queue) = (&ctx.device, &ctx.queue);
    let renderer = Arc::new(PointCloudRenderer::new(device, queue, TargetFormat::OFFSCREEN));
    let target = OffscreenTarget::new(device, size_px[0], size_px[1]);
    let viewport = target.viewport();
    let mut view = renderer.create_view(device);
    let started = Instant::now();
    let stream = CloudStream::spawn(
        StreamSource::File(path.to_path_buf()),
        device.clone(),
        Arc::clone(&renderer),
        StreamOptions::default(),
        || {},
    )
    .map_err(|e| RenderError::InvalidInput(format!("cannot start the loader thread: {e}")))?;
    let mut camera = Camera::standard(StandardView::Orbit);
    let mut first: Option<(f64, usize)> = None;
    let style = PointStyle { point_size_px: 1.0, ..PointStyle::default() };
    while let Some(event) = stream.recv() {
        match event {
            StreamEvent::Opened { header_bounds: Some(bounds), .. } => {
                camera.fit_to_bounds(bounds.min.into(), bounds.max.into(), viewport);
            }
            StreamEvent::Opened { .. } => {}
            StreamEvent::Piece { gpu, .. } if first.is_none() => {
                renderer.prepare(queue, &mut view, &gpu, &camera, viewport, &style);
                target.render(device, queue, BACKGROUND, |pass| renderer.paint(pass, &view, &gpu));
                device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| RenderError::Gpu {
                    during: "drawing the first points",
                    message: e.to_string(),
                })?;
                first = Some((started.elapsed().as_secs_f64(), gpu.len()));
            }
            StreamEvent::Piece { .. } => {}
            StreamEvent::Finished(done) => {
                let (first_points_secs, first_piece_points) =
                    first.unwrap_or((done.total_secs, done.gpu.len()));
                return Ok(FirstPoints {
                    points: done.cloud.len() as u64,
                    first_points_secs,
                    first_piece_points,
                    decoded_secs: done.decoded_secs,
                    finished_secs: done.total_secs,
                });
            }
            StreamEvent::Failed(message) => return Err(RenderError::InvalidInput(message)),
        }
    }
    Err(RenderError::InvalidInput(format!("{}: the loader ended without a result", path.display())))
}

/// The frame comparisons as a markdown table.
pub fn frame_table(rows: &[FrameComparison]) -> String {
    let mut out = String::from(
        "| points | size | PointCloudRenderer median (mean) ms | bare pass, same buffers, median \
         (mean) ms | ratio | bare pass, input order, median ms | upload s |\n\
         |---:|---|---:|---:|---:|---:|---:|\n",
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {}×{} | {:.2} ({:.2}) | {:.2} ({:.2}) | {:.2} | {:.2} | {:.2} |\n",
            row.renderer.points,
            row.size_px[0],
            row.size_px[1],
            row.renderer.median_ms,
            row.renderer.mean_ms,
            row.bare.median_ms,
            row.bare.mean_ms,
            row.ratio(),
            row.bare_input_order.median_ms,
            row.upload_secs,
        ));
    }
    out
}

/// Time-to-first-points results as a markdown table.
pub fn first_points_table(rows: &[(String, FirstPoints)]) -> String {
    let mut out = String::from(
        "| file | points | first points drawn (s) | points in first piece | all decoded (s) | \
         whole cloud uploaded (s) |\n|---|---:|---:|---:|---:|---:|\n",
    );
    for (label, row) in rows {
        out.push_str(&format!(
            "| {label} | {} | {:.3} | {} | {:.3} | {:.3} |\n",
            row.points,
            row.first_points_secs,
            row.first_piece_points,
            row.decoded_secs,
            row.finished_secs
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::formats::point_cloud::bench_support::write_synthetic_las;

    #[test]
    fn benchmark_logic_runs_at_a_tiny_size() {
        let cloud = synthetic_cloud(5_000, 1);
        assert_eq!(cloud.len(), 5_000);
        let Some(ctx) = RenderContext::new_headless_if_available().expect("GPU required") else {
            eprintln!("SKIPPED: no GPU adapter (set GROUNDWORK_REQUIRE_GPU=1 to fail instead)");
            return;
        };
        let comparison = compare_frame_times(&ctx, &cloud, [64, 48], 2).unwrap();
        assert_eq!(comparison.renderer.drawn_points, 5_000);
        assert_eq!(comparison.bare.drawn_points, 5_000);
        assert!(comparison.renderer.median_ms > 0.0 && comparison.bare.median_ms > 0.0);
        assert!(frame_table(&[comparison]).contains("| 5000 | 64×48 |"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.laz");
        write_synthetic_las(&path, 70_000, 3, true).unwrap();
        let first = time_to_first_points(&ctx, &path, [64, 48]).unwrap();
        assert_eq!(first.points, 70_000);
        assert!(first.first_piece_points > 0 && first.first_piece_points < 70_000);
        assert!(first.first_points_secs <= first.finished_secs);
        assert!(first_points_table(&[("tiny".into(), first)]).contains("| tiny | 70000 |"));
    }
}
