//! GPU picking: renderers draw ids instead of colours into an `R32Uint` target (with depth, so
//! the nearest object wins), and the id under the cursor is read back.
//!
//! An id packs the kind of object into its top two bits and an index into the low 30 bits; 0
//! means "nothing". For points the index is the point's position in GPU order, which
//! [`super::points::GpuPointCloud::original_index`] maps back to the cloud's own index; for
//! cuboids it is the index into the slice given to [`super::cuboids::CuboidSet::set_instances`].
//!
//! Only a small scissor rectangle around the cursor is rasterised and read back, so a pick costs
//! a fraction of a frame.

use super::{RenderError, TargetFormat, target};

/// Colour format of the picking target.
pub const PICK_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::R32Uint;

/// The formats picking pipelines are built for.
pub const PICK_TARGET_FORMAT: TargetFormat =
    TargetFormat { color: PICK_FORMAT, depth: Some(target::DEPTH_FORMAT) };

const KIND_SHIFT: u32 = 30;
const INDEX_MASK: u32 = (1 << KIND_SHIFT) - 1;

/// What kind of object an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickKind {
    /// A point of a point cloud (index in GPU order).
    Point,
    /// A cuboid (index into its set).
    Cuboid,
}

impl PickKind {
    fn bits(self) -> u32 {
        match self {
            Self::Point => 1,
            Self::Cuboid => 2,
        }
    }
}

/// A decoded picking id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PickId {
    /// The kind of object.
    pub kind: PickKind,
    /// Index within that kind (see the module docs).
    pub index: u32,
}

impl PickId {
    /// The raw `u32` a shader writes for this id. Mirrors `PICK_KIND_*` in the shaders.
    pub fn encode(self) -> u32 {
        (self.kind.bits() << KIND_SHIFT) | (self.index & INDEX_MASK)
    }

    /// Decodes a raw id; `None` for 0 (nothing) and unknown kinds.
    pub fn decode(raw: u32) -> Option<Self> {
        let index = raw & INDEX_MASK;
        match raw >> KIND_SHIFT {
            1 => Some(Self { kind: PickKind::Point, index }),
            2 => Some(Self { kind: PickKind::Cuboid, index }),
            _ => None,
        }
    }
}

/// An `R32Uint` id target with its own depth buffer.
#[derive(Debug)]
pub struct PickingTarget {
    ids: wgpu::Texture,
    ids_view: wgpu::TextureView,
    depth_view: wgpu::TextureView,
    width_px: u32,
    height_px: u32,
}

impl PickingTarget {
    /// A picking target of the viewport's size (each side clamped to at least 1).
    pub fn new(device: &wgpu::Device, width_px: u32, height_px: u32) -> Self {
        let (width_px, height_px) = (width_px.max(1), height_px.max(1));
        let size = wgpu::Extent3d { width: width_px, height: height_px, depth_or_array_layers: 1 };
        let texture = |label, format, usage| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: Some(label),
                size,
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
        };
        let ids = texture(
            "PickingTarget::ids",
            PICK_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        );
        let depth = texture(
            "PickingTarget::depth",
            target::DEPTH_FORMAT,
            wgpu::TextureUsages::RENDER_ATTACHMENT,
        );
        Self {
            ids_view: ids.create_view(&wgpu::TextureViewDescriptor::default()),
            depth_view: depth.create_view(&wgpu::TextureViewDescriptor::default()),
            ids,
            width_px,
            height_px,
        }
    }

    /// Width in pixels.
    pub fn width_px(&self) -> u32 {
        self.width_px
    }

    /// Height in pixels.
    pub fn height_px(&self) -> u32 {
        self.height_px
    }

    /// Clears to 0, runs `draw` (call the renderers' `paint_picking`) with the scissor rectangle
    /// `origin_px`/`size_px` (clamped to the target), and submits.
    pub fn render(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        origin_px: [u32; 2],
        size_px: [u32; 2],
        draw: impl FnOnce(&mut wgpu::RenderPass<'_>),
    ) {
        let (origin_px, size_px) = self.clamp_rect(origin_px, size_px);
        let mut encoder = device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("picking") });
        {
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("PickingTarget::render"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &self.ids_view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &self.depth_view,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            });
            pass.set_scissor_rect(origin_px[0], origin_px[1], size_px[0], size_px[1]);
            draw(&mut pass);
        }
        queue.submit([encoder.finish()]);
    }

    /// Reads raw ids of a rectangle (clamped to the target), row by row.
    ///
    /// # Errors
    /// [`RenderError::Readback`] when mapping fails.
    pub fn read_ids(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        origin_px: [u32; 2],
        size_px: [u32; 2],
    ) -> Result<Vec<u32>, RenderError> {
        let (origin_px, size_px) = self.clamp_rect(origin_px, size_px);
        let bytes = target::read_texture_region(device, queue, &self.ids, origin_px, size_px, 4)?;
        Ok(bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    /// Renders ids in a `(2·radius_px + 1)²` square around `pixel` and returns the id closest to
    /// it (ties: the first in row order), or `None` when the square is empty.
    ///
    /// # Errors
    /// [`RenderError::Readback`] when mapping fails.
    pub fn pick(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        pixel: [u32; 2],
        radius_px: u32,
        draw: impl FnOnce(&mut wgpu::RenderPass<'_>),
    ) -> Result<Option<PickId>, RenderError> {
        let origin = [pixel[0].saturating_sub(radius_px), pixel[1].saturating_sub(radius_px)];
        let size = [2 * radius_px + 1, 2 * radius_px + 1];
        let (origin, size) = self.clamp_rect(origin, size);
        self.render(device, queue, origin, size, draw);
        let ids = self.read_ids(device, queue, origin, size)?;
        let mut best: Option<(i64, PickId)> = None;
        for (i, raw) in ids.iter().enumerate() {
            let Some(id) = PickId::decode(*raw) else { continue };
            let x = i64::from(origin[0]) + (i as i64 % i64::from(size[0]));
            let y = i64::from(origin[1]) + (i as i64 / i64::from(size[0]));
            let dx = x - i64::from(pixel[0]);
            let dy = y - i64::from(pixel[1]);
            let d2 = dx * dx + dy * dy;
            if best.is_none_or(|(b, _)| d2 < b) {
                best = Some((d2, id));
            }
        }
        Ok(best.map(|(_, id)| id))
    }

    fn clamp_rect(&self, origin: [u32; 2], size: [u32; 2]) -> ([u32; 2], [u32; 2]) {
        let x0 = origin[0].min(self.width_px - 1);
        let y0 = origin[1].min(self.height_px - 1);
        let w = size[0].clamp(1, self.width_px - x0);
        let h = size[1].clamp(1, self.height_px - y0);
        ([x0, y0], [w, h])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for id in [
            PickId { kind: PickKind::Point, index: 0 },
            PickId { kind: PickKind::Cuboid, index: 12345 },
        ] {
            assert_eq!(PickId::decode(id.encode()), Some(id));
        }
        assert_eq!(PickId::decode(0), None);
        assert_eq!(PickId { kind: PickKind::Point, index: 7 }.encode(), 0x4000_0007);
    }
}
