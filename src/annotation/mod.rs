//! The editable document per task and its export/consolidation into Ground Truth records.
//!
//! Owns: the editable document of a task with undoable edits ([`document`]); what workers produce for a data object and how several workers' answers become one label
//! and its `-metadata` object in Ground Truth's output-manifest shape ([`consolidate`]).
//! Pure data and math: no I/O, no clock, no randomness. Must not depend on `store`, `render`, `ui`,
//! `app` or `cli`, nor on egui, wgpu or tokio.

mod error;

pub mod consolidate;
pub mod cuboids;
pub mod document;
pub mod point_seg;
pub mod video;

pub use error::AnnotationError;
