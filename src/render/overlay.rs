//! 2D overlays on images: boxes, polygons, polylines, keypoints, translucent fills and selection
//! highlights, as instanced geometry so tens of thousands of shapes take three draw calls.
//!
//! # How it works
//!
//! An [`OverlayBuilder`] turns shapes (in image pixel coordinates) into three flat lists:
//! - fill triangles (boxes: two; polygons: ear-clipped on the CPU), drawn as one vertex buffer;
//! - line segments, one instance each, expanded in the vertex shader to a quad of `width_px`
//!   screen pixels with square caps and a one-pixel antialiased edge;
//! - keypoints and vertex handles, one instance each, shaded as antialiased discs or squares with
//!   an optional stroke.
//!
//! [`OverlayRenderer::upload`] copies the lists into the overlay's buffers (grown by powers of
//! two, never shrunk), so editing shapes costs one small `write_buffer` per list. Each frame only
//! the 32-byte uniform with the [`ImageView2d`] transform changes, so line widths and handle sizes
//! stay constant on screen while the image zooms. Draw order: fills, lines, points.
//!
//! A selected shape (style `highlight`) gets a halo (its outline 4 px wider in the highlight
//! colour, drawn under the outline) and square handles on its vertices.

use bytemuck::{Pod, Zeroable};
use nalgebra::Point2;

use super::{TargetFormat, shader};
use crate::geometry::{ImageView2d, Viewport};

/// A line style: display colour and width in screen pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stroke {
    /// Colour (display RGBA).
    pub color: [u8; 4],
    /// Width in physical pixels.
    pub width_px: f32,
}

/// How a shape is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ShapeStyle {
    /// Outline, if any.
    pub stroke: Option<Stroke>,
    /// Fill colour (use alpha for translucency), if any. Ignored for polylines.
    pub fill: Option<[u8; 4]>,
    /// Selection highlight colour: draws a halo and vertex handles when set.
    pub highlight: Option<[u8; 4]>,
}

/// Extra width of a selection halo over the outline, in pixels.
const HALO_EXTRA_PX: f32 = 4.0;
/// Radius of a vertex handle, in pixels.
const HANDLE_RADIUS_PX: f32 = 4.0;

mod gpu_data {
    use bytemuck::{Pod, Zeroable};

    /// `OverlayUniform` in overlay.wgsl.
    #[repr(C)]
    #[derive(Clone, Copy, Pod, Zeroable)]
    pub struct OverlayUniform {
        pub scale: [f32; 2],
        pub offset: [f32; 2],
        pub viewport_px: [f32; 2],
        pub target_is_srgb: u32,
        pub pad: u32,
    }
    const _: () = assert!(size_of::<OverlayUniform>() == 32);
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct FillVertex {
    position: [f32; 2],
    color: [u8; 4],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct LineInstance {
    a: [f32; 2],
    b: [f32; 2],
    color: [u8; 4],
    width_px: f32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct PointInstance {
    center: [f32; 2],
    fill: [u8; 4],
    stroke: [u8; 4],
    /// radius_px, stroke_px, shape (0 disc, 1 square).
    params: [f32; 3],
}

/// CPU-side accumulation of overlay shapes for one upload.
#[derive(Debug, Clone, Default)]
pub struct OverlayBuilder {
    fills: Vec<FillVertex>,
    lines: Vec<LineInstance>,
    points: Vec<PointInstance>,
    shapes: usize,
}

fn to_f32(p: Point2<f64>) -> [f32; 2] {
    [p.x as f32, p.y as f32]
}

impl OverlayBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes every shape, keeping the allocations.
    pub fn clear(&mut self) {
        self.fills.clear();
        self.lines.clear();
        self.points.clear();
        self.shapes = 0;
    }

    /// Number of shapes added.
    pub fn shape_count(&self) -> usize {
        self.shapes
    }

    /// Number of line segments (outlines, polylines, halos).
    pub fn segment_count(&self) -> usize {
        self.lines.len()
    }

    /// An axis-aligned box from `min` to `max` (image pixels).
    pub fn add_box(&mut self, min: Point2<f64>, max: Point2<f64>, style: &ShapeStyle) {
        let corners = [min, Point2::new(max.x, min.y), max, Point2::new(min.x, max.y)];
        self.add_polygon(&corners, style);
    }

    /// A closed polygon (image pixels). The fill is ear-clipped, so concave polygons fill
    /// correctly; self-intersecting ones fall back to a fan.
    pub fn add_polygon(&mut self, points: &[Point2<f64>], style: &ShapeStyle) {
        if points.len() < 2 {
            return;
        }
        self.shapes += 1;
        if let Some(color) = style.fill.filter(|_| points.len() >= 3) {
            for [a, b, c] in triangulate(points) {
                for i in [a, b, c] {
                    if let Some(&p) = points.get(i) {
                        self.fills.push(FillVertex { position: to_f32(p), color });
                    }
                }
            }
        }
        self.add_outline(points, true, style);
    }

    /// An open polyline (image pixels); `style.fill` is ignored.
    pub fn add_polyline(&mut self, points: &[Point2<f64>], style: &ShapeStyle) {
        if points.len() < 2 {
            return;
        }
        self.shapes += 1;
        self.add_outline(points, false, style);
    }

    /// A keypoint: a disc of `radius_px` screen pixels at `center` (image pixels), with an
    /// optional outline; `highlight` draws a larger ring behind it.
    pub fn add_keypoint(
        &mut self,
        center: Point2<f64>,
        radius_px: f32,
        fill: [u8; 4],
        stroke: Option<Stroke>,
        highlight: Option<[u8; 4]>,
    ) {
        self.shapes += 1;
        if let Some(color) = highlight {
            self.points.push(PointInstance {
                center: to_f32(center),
                fill: [0; 4],
                stroke: color,
                params: [radius_px + HALO_EXTRA_PX * 0.5 + 1.0, HALO_EXTRA_PX * 0.5, 0.0],
            });
        }
        let (stroke_color, stroke_px) = stroke.map_or((fill, 0.0), |s| (s.color, s.width_px));
        self.points.push(PointInstance {
            center: to_f32(center),
            fill,
            stroke: stroke_color,
            params: [radius_px, stroke_px, 0.0],
        });
    }

    fn add_outline(&mut self, points: &[Point2<f64>], closed: bool, style: &ShapeStyle) {
        let segments: Vec<(Point2<f64>, Point2<f64>)> = points
            .windows(2)
            .map(|w| (w[0], w[1]))
            .chain(closed.then(|| (points[points.len() - 1], points[0])))
            .collect();
        let stroke_width = style.stroke.map_or(1.0, |s| s.width_px);
        if let Some(color) = style.highlight {
            for &(a, b) in &segments {
                self.lines.push(LineInstance {
                    a: to_f32(a),
                    b: to_f32(b),
                    color,
                    width_px: stroke_width + HALO_EXTRA_PX,
                });
            }
        }
        if let Some(stroke) = style.stroke {
            for &(a, b) in &segments {
                self.lines.push(LineInstance {
                    a: to_f32(a),
                    b: to_f32(b),
                    color: stroke.color,
                    width_px: stroke.width_px,
                });
            }
        }
        if let Some(color) = style.highlight {
            let edge = style.stroke.map_or([0, 0, 0, 255], |s| s.color);
            for &p in points {
                self.points.push(PointInstance {
                    center: to_f32(p),
                    fill: color,
                    stroke: edge,
                    params: [HANDLE_RADIUS_PX, 1.0, 1.0],
                });
            }
        }
    }
}

/// Triangles (index triples) covering a simple polygon by ear clipping; a fan when the polygon is
/// not simple (no ear found).
fn triangulate(points: &[Point2<f64>]) -> Vec<[usize; 3]> {
    let n = points.len();
    let signed_area: f64 = (0..n)
        .map(|i| {
            let (a, b) = (points[i], points[(i + 1) % n]);
            a.x * b.y - b.x * a.y
        })
        .sum();
    let ccw = signed_area > 0.0;
    let cross = |a: Point2<f64>, b: Point2<f64>, c: Point2<f64>| {
        (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
    };
    let convex = |a, b, c| {
        let z = cross(a, b, c);
        if ccw { z > 0.0 } else { z < 0.0 }
    };
    let inside = |p: Point2<f64>, a, b, c| {
        let (d1, d2, d3) = (cross(a, b, p), cross(b, c, p), cross(c, a, p));
        let has_neg = d1 < 0.0 || d2 < 0.0 || d3 < 0.0;
        let has_pos = d1 > 0.0 || d2 > 0.0 || d3 > 0.0;
        !(has_neg && has_pos)
    };
    let mut remaining: Vec<usize> = (0..n).collect();
    let mut triangles = Vec::with_capacity(n.saturating_sub(2));
    while remaining.len() > 3 {
        let m = remaining.len();
        let ear = (0..m).find(|&i| {
            let (ia, ib, ic) = (remaining[(i + m - 1) % m], remaining[i], remaining[(i + 1) % m]);
            let (a, b, c) = (points[ia], points[ib], points[ic]);
            convex(a, b, c)
                && remaining
                    .iter()
                    .filter(|&&j| j != ia && j != ib && j != ic)
                    .all(|&j| !inside(points[j], a, b, c))
        });
        let Some(i) = ear else {
            // Not simple: fan the rest.
            for k in 1..m - 1 {
                triangles.push([remaining[0], remaining[k], remaining[k + 1]]);
            }
            return triangles;
        };
        triangles.push([remaining[(i + m - 1) % m], remaining[i], remaining[(i + 1) % m]]);
        remaining.remove(i);
    }
    if let [a, b, c] = remaining[..] {
        triangles.push([a, b, c]);
    }
    triangles
}

/// Pipelines for drawing overlays into one [`TargetFormat`].
#[derive(Debug)]
pub struct OverlayRenderer {
    format: TargetFormat,
    fill_pipeline: wgpu::RenderPipeline,
    line_pipeline: wgpu::RenderPipeline,
    point_pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
}

/// Overlay geometry on the GPU plus its per-view uniform.
#[derive(Debug)]
pub struct GpuOverlay {
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    fills: GrowableBuffer,
    lines: GrowableBuffer,
    points: GrowableBuffer,
}

#[derive(Debug)]
struct GrowableBuffer {
    label: &'static str,
    buffer: wgpu::Buffer,
    /// Elements in use.
    count: u32,
}

impl GrowableBuffer {
    fn new(device: &wgpu::Device, label: &'static str) -> Self {
        Self { label, buffer: vertex_buffer(device, label, 1024), count: 0 }
    }

    fn write<T: Pod>(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, data: &[T]) {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        if bytes.len() as u64 > self.buffer.size() {
            self.buffer =
                vertex_buffer(device, self.label, (bytes.len() as u64).next_power_of_two());
        }
        if !bytes.is_empty() {
            queue.write_buffer(&self.buffer, 0, bytes);
        }
        self.count = data.len() as u32;
    }
}

fn vertex_buffer(device: &wgpu::Device, label: &'static str, size: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

impl OverlayRenderer {
    /// Builds the pipelines for `format`.
    pub fn new(device: &wgpu::Device, format: TargetFormat) -> Self {
        let module = shader::module(device, "overlay.wgsl", shader::OVERLAY);
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("OverlayRenderer::layout"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: wgpu::BufferSize::new(
                        size_of::<gpu_data::OverlayUniform>() as u64
                    ),
                },
                count: None,
            }],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("OverlayRenderer::pipeline_layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let make = |label, vs, fs, topology, buffer: wgpu::VertexBufferLayout<'_>| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &module,
                    entry_point: Some(vs),
                    compilation_options: Default::default(),
                    buffers: &[Some(buffer)],
                },
                primitive: wgpu::PrimitiveState { topology, ..Default::default() },
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
                    entry_point: Some(fs),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format: format.color,
                        blend: Some(wgpu::BlendState::ALPHA_BLENDING),
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let fill_pipeline = make(
            "OverlayRenderer::fill_pipeline",
            "vs_fill",
            "fs_fill",
            wgpu::PrimitiveTopology::TriangleList,
            wgpu::VertexBufferLayout {
                array_stride: size_of::<FillVertex>() as u64,
                step_mode: wgpu::VertexStepMode::Vertex,
                attributes: &wgpu::vertex_attr_array![0 => Float32x2, 1 => Unorm8x4],
            },
        );
        let line_pipeline = make(
            "OverlayRenderer::line_pipeline",
            "vs_line",
            "fs_line",
            wgpu::PrimitiveTopology::TriangleList,
            wgpu::VertexBufferLayout {
                array_stride: size_of::<LineInstance>() as u64,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &wgpu::vertex_attr_array![
                    0 => Float32x2, 1 => Float32x2, 2 => Unorm8x4, 3 => Float32
                ],
            },
        );
        let point_pipeline = make(
            "OverlayRenderer::point_pipeline",
            "vs_point",
            "fs_point",
            wgpu::PrimitiveTopology::TriangleStrip,
            wgpu::VertexBufferLayout {
                array_stride: size_of::<PointInstance>() as u64,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &wgpu::vertex_attr_array![
                    0 => Float32x2, 1 => Unorm8x4, 2 => Unorm8x4, 3 => Float32x3
                ],
            },
        );
        Self { format, fill_pipeline, line_pipeline, point_pipeline, layout }
    }

    /// An empty overlay with its own uniform (one per view).
    pub fn create_overlay(&self, device: &wgpu::Device) -> GpuOverlay {
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("GpuOverlay::uniform"),
            size: size_of::<gpu_data::OverlayUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("GpuOverlay::bind_group"),
            layout: &self.layout,
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }],
        });
        GpuOverlay {
            uniform,
            bind_group,
            fills: GrowableBuffer::new(device, "GpuOverlay::fills"),
            lines: GrowableBuffer::new(device, "GpuOverlay::lines"),
            points: GrowableBuffer::new(device, "GpuOverlay::points"),
        }
    }

    /// Replaces the overlay's shapes with the builder's.
    pub fn upload(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        overlay: &mut GpuOverlay,
        shapes: &OverlayBuilder,
    ) {
        overlay.fills.write(device, queue, &shapes.fills);
        overlay.lines.write(device, queue, &shapes.lines);
        overlay.points.write(device, queue, &shapes.points);
    }

    /// Writes the overlay's uniform for this frame.
    pub fn prepare(
        &self,
        queue: &wgpu::Queue,
        overlay: &GpuOverlay,
        transform: &ImageView2d,
        viewport: Viewport,
    ) {
        let uniform = gpu_data::OverlayUniform {
            scale: [transform.zoom as f32; 2],
            offset: [transform.offset_px.x as f32, transform.offset_px.y as f32],
            viewport_px: [viewport.width_px as f32, viewport.height_px as f32],
            target_is_srgb: self.format.srgb_flag(),
            pad: 0,
        };
        queue.write_buffer(&overlay.uniform, 0, bytemuck::bytes_of(&uniform));
    }

    /// Records fills, lines and points: at most three draw calls.
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>, overlay: &GpuOverlay) {
        pass.set_bind_group(0, &overlay.bind_group, &[]);
        if overlay.fills.count > 0 {
            pass.set_pipeline(&self.fill_pipeline);
            pass.set_vertex_buffer(0, overlay.fills.buffer.slice(..));
            pass.draw(0..overlay.fills.count, 0..1);
        }
        if overlay.lines.count > 0 {
            pass.set_pipeline(&self.line_pipeline);
            pass.set_vertex_buffer(0, overlay.lines.buffer.slice(..));
            pass.draw(0..6, 0..overlay.lines.count);
        }
        if overlay.points.count > 0 {
            pass.set_pipeline(&self.point_pipeline);
            pass.set_vertex_buffer(0, overlay.points.buffer.slice(..));
            pass.draw(0..4, 0..overlay.points.count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(points: &[Point2<f64>], tris: &[[usize; 3]]) -> f64 {
        tris.iter()
            .map(|&[a, b, c]| {
                let (a, b, c) = (points[a], points[b], points[c]);
                ((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)).abs() * 0.5
            })
            .sum()
    }

    #[test]
    fn ear_clipping_covers_a_concave_polygon_exactly() {
        // An L shape of area 3, clockwise and counter-clockwise.
        let mut l = vec![
            Point2::new(0.0, 0.0),
            Point2::new(2.0, 0.0),
            Point2::new(2.0, 1.0),
            Point2::new(1.0, 1.0),
            Point2::new(1.0, 2.0),
            Point2::new(0.0, 2.0),
        ];
        for _ in 0..2 {
            let tris = triangulate(&l);
            assert_eq!(tris.len(), 4);
            assert!((area(&l, &tris) - 3.0).abs() < 1e-12);
            l.reverse();
        }
    }

    #[test]
    fn builder_counts_segments_and_handles() {
        let mut b = OverlayBuilder::new();
        let style = ShapeStyle {
            stroke: Some(Stroke { color: [255, 0, 0, 255], width_px: 2.0 }),
            fill: Some([255, 0, 0, 64]),
            highlight: Some([255, 255, 0, 255]),
        };
        b.add_box(Point2::new(0.0, 0.0), Point2::new(10.0, 5.0), &style);
        b.add_polyline(
            &[Point2::new(0.0, 0.0), Point2::new(1.0, 1.0), Point2::new(2.0, 0.0)],
            &ShapeStyle { highlight: None, ..style },
        );
        assert_eq!(b.shape_count(), 2);
        assert_eq!(b.segment_count(), 4 + 4 + 2, "halo + outline for the box, 2 for the polyline");
        assert_eq!(b.fills.len(), 6);
        assert_eq!(b.points.len(), 4, "one handle per box corner");
    }
}
