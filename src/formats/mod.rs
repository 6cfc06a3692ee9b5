//! Ground Truth file formats and point-cloud formats: parse and write, no I/O policy.
//!
//! Owns: input manifests, sequence files, label category configuration, output manifests,
//! worker responses, point clouds. Must not depend on `job`, `store`, `render`, `ui`, `app`, `cli`,
//! nor on egui, wgpu or tokio.

mod error;
pub mod json;
pub mod label_config;
pub mod manifest;
pub mod output;
pub mod point_cloud;
pub mod sequence;
pub mod time;
pub mod worker_response;

pub use error::{FormatError, Location};
pub use json::Index;
