//! The job specification: Ground Truth's `CreateLabelingJob` request as [`JobSpec`], the closed list
//! of task types with their rules, validation into findings, and the job status model.
//!
//! Must not depend on `store`, `render`, `ui`, `app`, `cli`, nor on egui, wgpu or tokio.

pub mod aws;
pub mod error;
pub mod labels;
pub mod spec;
pub mod status;
pub mod task_type;
pub mod validate;

pub use error::JobError;
pub use spec::JobSpec;
pub use status::{LabelCounters, LabelingJobStatus};
pub use task_type::TaskType;
pub use validate::{Finding, Job, LabelSummary, Severity, validate};
