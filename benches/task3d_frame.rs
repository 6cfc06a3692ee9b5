//! Frame time of the 3D cuboid task screen: the real `ui::task::cloud::cloud_task_ui` (main 3D
//! view with the LOD point budget on, the three side views around the selected cuboid, the side
//! panel) in an egui_kittest wgpu harness, with 1M points per frame. Each frame orbits the camera
//! a little, so the 3D scene is redrawn every frame (a static frame only blits). Prints the
//! adapter and ms per frame: the UI pass alone (`step`) and the UI pass plus GPU rendering and
//! read-back of the window (`step + render`). Not a timed assertion.
//!
//! Run: `cargo bench --bench task3d_frame` (release profile). Environment:
//! `GROUNDWORK_BENCH_POINTS` (default 1000000), `GROUNDWORK_BENCH_FRAMES` (default 30).
#![allow(clippy::print_stdout, clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use egui_kittest::Harness;
use groundwork::annotation::cuboids::{Box9, CuboidDocument, CuboidTaskKind, FrameInfo};
use groundwork::formats::label_config::LabelCategoryConfig;
use groundwork::formats::point_cloud::PointCloud;
use groundwork::geometry::fit::{GroundFitOptions, classify_ground, fit_ground};
use groundwork::render::points::PointUploadOptions;
use groundwork::ui::task::TaskHeader;
use groundwork::ui::task::cloud::{CloudChrome, CloudView, LoadedFrame, cloud_task_ui};
use groundwork::ui::viewport3d::Viewport3dGpu;
use groundwork::ui::widgets::SyncBadge;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A street: 75 % ground on a slight slope, a wall, and 20 cars as box surfaces.
fn street(points: usize) -> (PointCloud, Vec<Box9>) {
    let mut rng = fastrand::Rng::with_seed(5);
    let mut cloud = PointCloud::default();
    let mut intensity = Vec::with_capacity(points);
    let cars: Vec<Box9> = (0..20)
        .map(|i| Box9 {
            center: [-45.0 + 4.7 * i as f64, if i % 2 == 0 { -3.0 } else { 3.5 }, 0.8],
            size: [4.4, 1.9, 1.6],
            yaw: (i as f64 * 0.37).sin() * 0.2,
            pitch: 0.0,
            roll: 0.0,
        })
        .collect();
    for i in 0..points {
        let r = i % 20;
        let p = if r < 15 {
            let (x, y) = (rng.f32() * 100.0 - 50.0, rng.f32() * 30.0 - 15.0);
            [x, y, 0.005 * x + (rng.f32() - 0.5) * 0.06]
        } else if r < 17 {
            [rng.f32() * 100.0 - 50.0, 15.0, rng.f32() * 8.0]
        } else {
            let car = &cars[rng.usize(..cars.len())];
            let c = car.to_cuboid();
            let mut local = [rng.f64() - 0.5, rng.f64() - 0.5, rng.f64() - 0.5];
            let face = rng.usize(..3);
            local[face] = if rng.bool() { 0.5 } else { -0.5 };
            let v = nalgebra::Vector3::new(
                local[0] * c.size.x,
                local[1] * c.size.y,
                local[2] * c.size.z,
            );
            let w = c.center + c.rotation() * v;
            [w.x as f32, w.y as f32, w.z as f32]
        };
        cloud.positions.push(p);
        intensity.push(rng.u16(..));
    }
    cloud.intensity = Some(intensity);
    (cloud, cars)
}

struct BenchApp {
    /// Orbit a little every frame (the 3D scene is redrawn) or hold still (only a blit).
    orbit: bool,
    view: CloudView,
    doc: CuboidDocument,
    frame: LoadedFrame,
}

impl BenchApp {
    fn new(cc: &eframe::CreationContext<'_>, points: usize) -> Self {
        let render_state = cc.wgpu_render_state.as_ref().expect("a wgpu render state");
        let gpu = Viewport3dGpu::new(render_state);
        println!("adapter: {:?} ({:?})", gpu.adapter_info().name, gpu.adapter_info().backend);
        let (cloud, cars) = street(points);
        let fit = fit_ground(&cloud.positions, &GroundFitOptions::default());
        let mask = fit
            .map(|g| classify_ground(&cloud.positions, &g.plane, 0.2))
            .unwrap_or_else(|| vec![false; cloud.len()]);
        let whole = gpu
            .point_renderer()
            .upload(gpu.device(), &cloud, &PointUploadOptions::default())
            .expect("an upload");
        let config = LabelCategoryConfig::parse(
            r#"{"documentVersion": "2020-03-01", "labels": [{"label": "Car"}, {"label": "Pole"}]}"#,
            "labels.json",
        )
        .expect("labels");
        let frames = vec![FrameInfo { name: "street.bin".into(), timestamp_secs: 0.0, cameras: 0 }];
        let mut doc = CuboidDocument::new(CuboidTaskKind::Detection, &config, frames, false, 1)
            .expect("a document");
        let mut selected = None;
        for car in &cars {
            selected = Some(doc.add_object(0, 0, *car).expect("a cuboid"));
        }
        let mut view = CloudView::new(Arc::clone(&gpu), 2);
        view.selected = selected;
        let frame = LoadedFrame {
            index: 0,
            cloud: Arc::new(cloud),
            gpu: Arc::new(whole),
            above_ground: None,
            ground: fit,
            ground_mask: Arc::new(mask),
            cameras: Vec::new(),
        };
        Self { view, doc, frame, orbit: true }
    }
}

impl eframe::App for BenchApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        if self.orbit {
            self.view.viewport.camera.orbit(0.01, 0.0);
        }
        let chrome = CloudChrome {
            header: TaskHeader {
                title: "Benchmark",
                job_name: "bench",
                object_id: 0,
                short_instructions: "",
                full_instructions: "",
                time_left_secs: None,
                sync: SyncBadge::default(),
                notice: None,
                busy: false,
                resumed: false,
            },
            frame_status: "",
            ready: &[true],
        };
        cloud_task_ui(ui, &mut self.view, &mut self.doc, Some(&self.frame), &chrome);
    }
}

fn stats(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len().max(1) as f64;
    (mean, ms.get(ms.len() / 2).copied().unwrap_or(0.0))
}

fn main() {
    let points: usize = env_or("GROUNDWORK_BENCH_POINTS", 1_000_000);
    let frames: usize = env_or("GROUNDWORK_BENCH_FRAMES", 30);
    let mut harness = Harness::builder()
        .with_size([1600.0, 1000.0])
        .wgpu()
        .build_eframe(move |cc| BenchApp::new(cc, points));
    for _ in 0..5 {
        harness.step();
        harness.render().expect("a frame");
    }
    let (mut step_ms, mut total_ms) = (Vec::new(), Vec::new());
    for _ in 0..frames {
        let t0 = Instant::now();
        harness.step();
        let t1 = Instant::now();
        harness.render().expect("a frame");
        step_ms.push((t1 - t0).as_secs_f64() * 1000.0);
        total_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    // The same frames with the camera still: the 3D scene is only blitted, so this is what the
    // harness's egui rendering and read-back cost without the point and cuboid redraw.
    harness.state_mut().orbit = false;
    harness.step();
    harness.render().expect("a frame");
    let mut still_ms = Vec::new();
    for _ in 0..frames {
        let t0 = Instant::now();
        harness.step();
        harness.render().expect("a frame");
        still_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let (still_mean, still_median) = stats(still_ms);
    let info = harness.state().view.viewport.frame_info();
    let (step_mean, step_median) = stats(step_ms);
    let (total_mean, total_median) = stats(total_ms);
    println!(
        "{points} points, budget {} points, {} drawn per frame, 1600x1000 window, {frames} frames",
        harness.state().view.viewport.style.budget_points,
        info.points.drawn_points
    );
    println!("| pass | mean ms | median ms |\n|---|---|---|");
    println!("| UI (step: layout, side views, tessellation) | {step_mean:.1} | {step_median:.1} |");
    println!(
        "| step + render (3D redraw, egui, read-back) | {total_mean:.1} | {total_median:.1} |"
    );
    println!(
        "| step + render, camera still (3D blit only, egui, read-back) | {still_mean:.1} | \
         {still_median:.1} |"
    );
}
