//! Ground Truth file formats and point-cloud formats: parse and write, no I/O policy.
//!
//! Owns: input manifests, sequence files, label category configuration, output manifests,
//! worker responses, point clouds. Must not depend on `job`, `store`, `render`, `ui`, `app`, `cli`,
//! nor on egui, wgpu or tokio.

mod error;
pub mod point_cloud;

pub use error::{FormatError, Location};
