//! # Groundwork
//!
//! A native annotation workstation: images, video frames and 3D point clouds rendered with wgpu,
//! labeled by a private workforce, exchanged through S3 (or a local folder standing in for it) in
//! Amazon SageMaker Ground Truth's own file formats. There is no server: conditional writes to the
//! object store coordinate the workers.
//!
//! ## Layers (lowest first)
//!
//! ```text
//! geometry ─► formats ─► job, annotation ─► store, render ─► ui ─► app      cli beside ui/app
//! ```
//!
//! A lower layer never names a higher one; `tests/architecture.rs` enforces it.
//!
//! - [`formats`]: parse and write Ground Truth files and point clouds; errors name file, line, field.
//! - [`job`]: the `CreateLabelingJob` request as a [`job::JobSpec`], its task types and every rule.
//! - [`geometry`]: 2D boxes, cameras and projections, oriented cuboids, the 2D image view.
//! - [`render`]: wgpu renderers for points, cuboids, images, overlays; picking; headless frames.
//! - [`alloc`]: the global allocator (the system's, large blocks advised for huge pages); below
//!   every layer, names none.
//! - [`store`]: the [`store::ObjectStore`] trait, its backends, the storage layout of a workspace.

pub mod alloc;
pub mod annotation;
pub mod app;
pub mod cli;
pub mod formats;
pub mod geometry;
pub mod job;
pub mod render;
pub mod store;
pub mod ui;
