//! Cuboid renderer: translucent faces, edges and a heading arrow for oriented 3D boxes.
//!
//! # How it works
//!
//! Each cuboid is one instance carrying its `local_from_unit_cube` matrix (relative to the set's
//! f64 origin, so f32 keeps precision), colour, flags and index. Faces are 36 vertices per
//! instance generated from the unit cube in the vertex shader; edges are 15 segments (12 edges +
//! 3 for the arrow from the centre to the front face), each expanded to a quad of
//! `edge_width_px` in screen space after projection, and clipped against the near plane in the
//! shader, so all cuboids take two draw calls however many there are.
//!
//! Faces are depth-tested against points (where the pass has depth) but do not write depth;
//! edges are drawn on top of everything (compare `Always`), so a box stays visible inside a dense
//! cloud, which is what an annotator needs. Picking draws the faces opaquely with ids.

use bytemuck::{Pod, Zeroable};

use super::points::matrix_to_gpu;
use super::{TargetFormat, pack_rgba8, picking, shader};
use crate::geometry::{Camera, Cuboid, Viewport};

/// One cuboid to draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CuboidInstance {
    /// The box in world coordinates.
    pub cuboid: Cuboid,
    /// Edge colour; faces use it with `face_alpha` times its alpha (display colour).
    pub color: [u8; 4],
    /// Drawn with `selected_edge_width_px`.
    pub selected: bool,
}

/// How cuboids are drawn in one view.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CuboidStyle {
    /// Edge width in physical pixels.
    pub edge_width_px: f32,
    /// Edge width of selected cuboids.
    pub selected_edge_width_px: f32,
    /// Face opacity multiplier (0 hides faces).
    pub face_alpha: f32,
}

impl Default for CuboidStyle {
    fn default() -> Self {
        Self { edge_width_px: 2.0, selected_edge_width_px: 4.0, face_alpha: 0.15 }
    }
}

mod gpu_data {
    use bytemuck::{Pod, Zeroable};

    /// `CuboidsUniform` in cuboids.wgsl.
    #[repr(C)]
    #[derive(Clone, Copy, Pod, Zeroable)]
    pub struct CuboidsUniform {
        pub clip_from_local: [[f32; 4]; 4],
        pub viewport_px: [f32; 2],
        pub edge_width_px: f32,
        pub face_alpha: f32,
        pub selected_edge_width_px: f32,
        pub target_is_srgb: u32,
        pub pad: [u32; 2],
    }
    const _: () = assert!(size_of::<CuboidsUniform>() == 96);
}

/// `Instance` in cuboids.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GpuInstance {
    local_from_unit: [[f32; 4]; 4],
    /// Colour, flags, index, unused.
    data: [u32; 4],
}
const _: () = assert!(size_of::<GpuInstance>() == 80);

const EDGE_VERTICES: u32 = 15 * 6;
const FACE_VERTICES: u32 = 36;

/// Pipelines for drawing cuboids into one [`TargetFormat`], plus picking.
#[derive(Debug)]
pub struct CuboidRenderer {
    format: TargetFormat,
    edge_pipeline: wgpu::RenderPipeline,
    face_pipeline: wgpu::RenderPipeline,
    pick_pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
}

/// A set of cuboids on the GPU with its per-view uniform. Re-upload with
/// [`CuboidSet::set_instances`] when boxes change (cheap: 80 bytes each).
#[derive(Debug)]
pub struct CuboidSet {
    origin: [f64; 3],
    instances: wgpu::Buffer,
    capacity: usize,
    count: u32,
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

impl CuboidRenderer {
    /// Builds the pipelines for `format` and for picking.
    pub fn new(device: &wgpu::Device, format: TargetFormat) -> Self {
        let module = shader::module(device, "cuboids.wgsl", shader::CUBOIDS);
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("CuboidRenderer::layout"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: wgpu::BufferSize::new(
                        size_of::<gpu_data::CuboidsUniform>() as u64
                    ),
                },
                count: None,
            }],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("CuboidRenderer::pipeline_layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let instance_layout = [Some(wgpu::VertexBufferLayout {
            array_stride: size_of::<GpuInstance>() as u64,
            step_mode: wgpu::VertexStepMode::Instance,
            attributes: &wgpu::vertex_attr_array![
                0 => Float32x4, 1 => Float32x4, 2 => Float32x4, 3 => Float32x4, 4 => Uint32x4
            ],
        })];
        let make = |label,
                    target: TargetFormat,
                    vs,
                    fs,
                    blend: Option<wgpu::BlendState>,
                    depth_write: bool,
                    compare: wgpu::CompareFunction| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(label),
                layout: Some(&pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &module,
                    entry_point: Some(vs),
                    compilation_options: Default::default(),
                    buffers: &instance_layout,
                },
                primitive: wgpu::PrimitiveState::default(),
                depth_stencil: target.depth.map(|format| wgpu::DepthStencilState {
                    format,
                    depth_write_enabled: Some(depth_write),
                    depth_compare: Some(compare),
                    stencil: Default::default(),
                    bias: Default::default(),
                }),
                multisample: Default::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &module,
                    entry_point: Some(fs),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format: target.color,
                        blend,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let alpha = Some(wgpu::BlendState::ALPHA_BLENDING);
        Self {
            format,
            edge_pipeline: make(
                "CuboidRenderer::edge_pipeline",
                format,
                "vs_edge",
                "fs_edge",
                None,
                false,
                wgpu::CompareFunction::Always,
            ),
            face_pipeline: make(
                "CuboidRenderer::face_pipeline",
                format,
                "vs_face",
                "fs_face",
                alpha,
                false,
                wgpu::CompareFunction::LessEqual,
            ),
            pick_pipeline: make(
                "CuboidRenderer::pick_pipeline",
                picking::PICK_TARGET_FORMAT,
                "vs_face",
                "fs_face_pick",
                None,
                true,
                wgpu::CompareFunction::Less,
            ),
            layout,
        }
    }

    /// An empty set of cuboids whose f32 coordinates are relative to `origin` (use the point
    /// cloud's origin).
    pub fn create_set(&self, device: &wgpu::Device, origin: [f64; 3]) -> CuboidSet {
        let uniform = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("CuboidSet::uniform"),
            size: size_of::<gpu_data::CuboidsUniform>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("CuboidSet::bind_group"),
            layout: &self.layout,
            entries: &[wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }],
        });
        CuboidSet {
            origin,
            instances: instance_buffer(device, 16),
            capacity: 16,
            count: 0,
            uniform,
            bind_group,
        }
    }

    /// Writes the set's uniform for this frame.
    pub fn prepare(
        &self,
        queue: &wgpu::Queue,
        set: &CuboidSet,
        camera: &Camera,
        viewport: Viewport,
        style: &CuboidStyle,
    ) {
        let uniform = gpu_data::CuboidsUniform {
            clip_from_local: matrix_to_gpu(&camera.clip_from_local(viewport, set.origin)),
            viewport_px: [viewport.width_px as f32, viewport.height_px as f32],
            edge_width_px: style.edge_width_px.max(0.5),
            face_alpha: style.face_alpha.clamp(0.0, 1.0),
            selected_edge_width_px: style.selected_edge_width_px.max(0.5),
            target_is_srgb: self.format.srgb_flag(),
            pad: [0; 2],
        };
        queue.write_buffer(&set.uniform, 0, bytemuck::bytes_of(&uniform));
    }

    /// Records faces then edges (two draw calls).
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>, set: &CuboidSet) {
        if set.count == 0 {
            return;
        }
        pass.set_bind_group(0, &set.bind_group, &[]);
        pass.set_vertex_buffer(0, set.instances.slice(..));
        pass.set_pipeline(&self.face_pipeline);
        pass.draw(0..FACE_VERTICES, 0..set.count);
        pass.set_pipeline(&self.edge_pipeline);
        pass.draw(0..EDGE_VERTICES, 0..set.count);
    }

    /// Records the faces with picking ids into a [`picking::PickingTarget`] pass.
    pub fn paint_picking(&self, pass: &mut wgpu::RenderPass<'_>, set: &CuboidSet) {
        if set.count == 0 {
            return;
        }
        pass.set_bind_group(0, &set.bind_group, &[]);
        pass.set_vertex_buffer(0, set.instances.slice(..));
        pass.set_pipeline(&self.pick_pipeline);
        pass.draw(0..FACE_VERTICES, 0..set.count);
    }
}

impl CuboidSet {
    /// Replaces the cuboids (growing the buffer when needed). Picking reports indices into
    /// `instances`.
    pub fn set_instances(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        instances: &[CuboidInstance],
    ) {
        let origin = nalgebra::Vector3::new(self.origin[0], self.origin[1], self.origin[2]);
        let data: Vec<GpuInstance> = instances
            .iter()
            .enumerate()
            .map(|(index, instance)| {
                let mut m = instance.cuboid.world_from_unit_cube();
                for k in 0..3 {
                    m[(k, 3)] -= origin[k];
                }
                GpuInstance {
                    local_from_unit: matrix_to_gpu(&m),
                    data: [
                        pack_rgba8(instance.color),
                        u32::from(instance.selected),
                        index as u32,
                        0,
                    ],
                }
            })
            .collect();
        if data.len() > self.capacity {
            self.capacity = data.len().next_power_of_two();
            self.instances = instance_buffer(device, self.capacity);
        }
        if !data.is_empty() {
            queue.write_buffer(&self.instances, 0, bytemuck::cast_slice(&data));
        }
        self.count = data.len() as u32;
    }

    /// Number of cuboids.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True when the set holds no cuboid.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

fn instance_buffer(device: &wgpu::Device, capacity: usize) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("CuboidSet::instances"),
        size: (capacity.max(1) * size_of::<GpuInstance>()) as u64,
        usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}
