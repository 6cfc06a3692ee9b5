//! eframe apps: window set-up, app state, command handling, the bridge between views and the
//! store. May use every layer below it.

pub mod review;
