//! The worker's video-frame and 3D point-cloud task screens, driven through egui_kittest (one
//! test binary for the three screens: each binary links the whole app).
//!
//! Without a GPU adapter the 3D tests skip loudly, unless `GROUNDWORK_REQUIRE_GPU=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/gui.rs"]
mod gui;

mod cloud;
mod segment;
mod video;
