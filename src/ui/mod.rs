//! egui views: the home screen and jobs, the job wizard and monitor, task views per modality,
//! local review, shared widgets; [`theme`] holds every colour and spacing, [`command`] every user
//! action with its label and shortcut.
//!
//! Must not depend on `app` or `cli`; never touches aws-sdk-s3. Never waits on disk or network:
//! views read state and return actions.

pub mod command;
pub mod home;
pub mod monitor;
pub mod review;
pub mod task;
pub mod theme;
pub mod viewport3d;
pub mod widgets;
pub mod wizard;
