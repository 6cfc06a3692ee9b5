//! Pure geometry on nalgebra types: 2D boxes and their overlap, 3D cameras and their projections,
//! oriented cuboids, and the 2D image view transform.
//!
//! The lowest layer: must not depend on any other module of the crate, nor on egui, wgpu or tokio.
//!
//! Conventions: the world is right-handed with +z up. Transforms are named `a_from_b` (they map
//! coordinates in frame `b` to frame `a`). Pixel coordinates are continuous, origin at the top-left
//! corner of the viewport, +x right, +y down; pixel `(i, j)` covers `[i, i+1) × [j, j+1)`, so its
//! centre is `(i + 0.5, j + 0.5)`. Clip space follows wgpu: depth in `0..=1`.

pub mod boxes;
pub mod camera;
pub mod cuboid;
pub mod fit;
pub mod sensor;
pub mod view2d;

pub use camera::{Camera, Projection, Ray, StandardView, Viewport};
pub use cuboid::Cuboid;
pub use view2d::ImageView2d;
