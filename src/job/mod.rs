//! The job specification: Ground Truth's `CreateLabelingJob` request as [`JobSpec`], the closed list
//! of task types with their rules, validation into findings, and the job status model.
//!
//! Must not depend on `store`, `render`, `ui`, `app`, `cli`, nor on egui, wgpu or tokio.
