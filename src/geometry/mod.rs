//! Pure geometry on nalgebra types: 2D boxes and their overlap, transforms, projections.
//!
//! The lowest layer: must not depend on any other module of the crate, nor on egui, wgpu or tokio.

pub mod boxes;
