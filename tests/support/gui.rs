//! Shared fixture of the worker GUI tests (`app_gui`, `worker_tasks`): the app on a demo
//! workspace in a temporary folder, its own Tokio runtime, an egui_kittest harness, and waits for
//! the app, the outbox and the store. Included with `#[path = "support/gui.rs"] mod gui;`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use serde_json::Value;

use groundwork::app::{AppConfig, ExitTasks, GroundworkApp};
use groundwork::render::RenderContext;
use groundwork::store::ObjectPath;
use groundwork::store::clock::SystemClock;

/// The worker every GUI test works as.
pub const WORKER: &str = "alice";

/// A temporary state folder, the runtime the app's backend runs on, and the app's config.
pub struct Env {
    /// Holds the demo workspace and the app's local state.
    pub dir: tempfile::TempDir,
    /// The app's runtime (also used to read the store back).
    pub runtime: tokio::runtime::Runtime,
    /// What the app starts with.
    pub config: AppConfig,
}

/// A fresh environment: no workspace yet (the app offers the demo), worker [`WORKER`].
pub fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config = AppConfig {
        workspace: None,
        demo_dir: dir.path().join("demo"),
        state_dir: dir.path().join("state"),
        worker: WORKER.into(),
        clock: Arc::new(SystemClock),
        exit_tasks: ExitTasks::default(),
    };
    Env { dir, runtime, config }
}

/// The app in a `size_px` window, at most `max_steps` steps per run, rendering with wgpu when
/// `wgpu` is set.
pub fn harness(
    env: &Env,
    size_px: [f32; 2],
    max_steps: u64,
    wgpu: bool,
) -> Harness<'static, GroundworkApp> {
    let config = env.config.clone();
    let handle = env.runtime.handle().clone();
    let builder = Harness::builder().with_size(size_px).with_max_steps(max_steps);
    let builder = if wgpu { builder.wgpu() } else { builder };
    builder.build_eframe(move |cc| GroundworkApp::new(cc, config, handle))
}

/// True when a wgpu adapter exists; prints a loud skip note when not. Panics when none exists
/// and `GROUNDWORK_REQUIRE_GPU=1`.
pub fn gpu_available() -> bool {
    match RenderContext::new_headless_if_available() {
        Ok(Some(_)) => true,
        Ok(None) => {
            eprintln!("SKIPPED: no GPU adapter (set GROUNDWORK_REQUIRE_GPU=1 to fail instead)");
            false
        }
        Err(e) => panic!("GROUNDWORK_REQUIRE_GPU=1 but: {e}"),
    }
}

/// Steps frames until every request is answered (fails the test after `timeout`).
pub fn wait_idle(h: &mut Harness<'_, GroundworkApp>, timeout: Duration) {
    let start = Instant::now();
    loop {
        h.step();
        if h.state().is_idle() {
            break;
        }
        assert!(start.elapsed() < timeout, "the app did not settle");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits (at most `timeout`) until the sync engine delivered everything, then returns the
/// worker responses of `job` (one JSON document per file).
pub fn delivered_responses(
    env: &Env,
    h: &mut Harness<'_, GroundworkApp>,
    job: &str,
    timeout: Duration,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        h.step();
        let status = h.state().sync_status().unwrap();
        if status.queued == 0 && status.delivered > 0 {
            break;
        }
        assert!(start.elapsed() < timeout, "not delivered: {status:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let jobs = h.state().jobs_service().unwrap().clone();
    let prefix = ObjectPath::parse(&format!(
        "s3://groundwork-demo/output/{job}/annotations/worker-response/"
    ))
    .unwrap();
    env.runtime.block_on(async {
        let store = &jobs.workspace().store;
        let page = store.list(&prefix, None, 100).await.unwrap();
        let mut out = Vec::new();
        for meta in page.objects {
            let got = store.get(&meta.path, None).await.unwrap();
            out.push(serde_json::from_slice(&got.bytes).unwrap());
        }
        out
    })
}

/// Waits (at most 30 s) until `uri` exists in the app's store, without running anything but the
/// app itself, and returns its bytes (e.g. the output manifest the app writes when it settles
/// its own delivery).
pub fn wait_for_object(env: &Env, h: &Harness<'_, GroundworkApp>, uri: &str) -> Vec<u8> {
    let jobs = h.state().jobs_service().unwrap().clone();
    let path = ObjectPath::parse(uri).unwrap();
    env.runtime.block_on(async {
        let started = Instant::now();
        loop {
            if let Ok(got) = jobs.workspace().store.get(&path, None).await {
                return got.bytes;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{uri} never appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}
