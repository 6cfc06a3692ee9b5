//! Texture blit: draws a colour texture 1:1 onto the current viewport of a render pass.
//!
//! On-screen 3D views render into their own [`super::target::OffscreenTarget`] (colour plus a
//! `Depth32Float` depth buffer, whatever the window's pass has) and then blit that frame into
//! egui's pass. This keeps depth testing independent of egui's options, and lets a view skip the
//! 3D work entirely on frames where nothing in it changed (the blit alone is a few microseconds).

use super::{TargetFormat, shader};

/// The blit pipeline for one target format.
#[derive(Debug)]
pub struct TextureBlitter {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
}

impl TextureBlitter {
    /// Builds the pipeline drawing into passes of `format` (depth attachment allowed: the blit
    /// neither tests nor writes depth).
    pub fn new(device: &wgpu::Device, format: TargetFormat) -> Self {
        let module = shader::module(device, "blit.wgsl", shader::BLIT);
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("TextureBlitter::layout"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::FRAGMENT,
                ty: wgpu::BindingType::Texture {
                    sample_type: wgpu::TextureSampleType::Float { filterable: false },
                    view_dimension: wgpu::TextureViewDimension::D2,
                    multisampled: false,
                },
                count: None,
            }],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("TextureBlitter::pipeline_layout"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let fragment_entry = if format.srgb_flag() == 1 { "fs_main_srgb" } else { "fs_main" };
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("TextureBlitter::pipeline"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[],
            },
            primitive: wgpu::PrimitiveState::default(),
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
                entry_point: Some(fragment_entry),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format: format.color,
                    blend: None,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        });
        Self { pipeline, layout }
    }

    /// A bind group for drawing `source` (a view of a non-multisampled float colour texture
    /// with `TEXTURE_BINDING` usage holding display colours).
    pub fn bind(&self, device: &wgpu::Device, source: &wgpu::TextureView) -> wgpu::BindGroup {
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("TextureBlitter::bind_group"),
            layout: &self.layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::TextureView(source),
            }],
        })
    }

    /// Draws the bound texture over the pass's current viewport (one triangle).
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>, source: &wgpu::BindGroup) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, source, &[]);
        pass.draw(0..3, 0..1);
    }
}
