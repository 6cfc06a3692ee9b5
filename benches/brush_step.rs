//! Brush benchmark: what one brush stroke step costs on a 1M-point cloud (the 3D segmentation
//! screen's inner loop), and, reported apart, the projection done once per camera change.
//!
//! A step is: the grid query under the brush capsule ([`ProjectedCloud::brush`]), painting the
//! candidates into the document ([`PointSegDocument::paint`], undo record included), and — when a
//! GPU adapter exists — writing the changed labels ([`GpuPointCloud::update_labels`]) plus the
//! queue submit and wait that move them to the GPU. Also measured: a lasso over a third of the
//! screen, and the visible-only projection variant.
//!
//! Run: `cargo bench --bench brush_step` (release profile). Environment:
//! `GROUNDWORK_BENCH_POINTS` (default 1000000), `GROUNDWORK_BENCH_SIZE` (`WIDTHxHEIGHT`, default
//! 1920x1080), `GROUNDWORK_BENCH_BRUSH_PX` (radius, default 40), `GROUNDWORK_BENCH_STEPS`
//! (default 200). Prints a markdown table.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use groundwork::annotation::point_seg::{
    AuditMode, PointSegDocument, ProjectedCloud, ProjectionOptions, StrokeSpec,
};
use groundwork::formats::label_config::{LabelCategory, LabelCategoryConfig};
use groundwork::geometry::{Camera, StandardView, Viewport};
use groundwork::render::bench_support::synthetic_cloud;
use groundwork::render::points::{PointCloudRenderer, PointUploadOptions};
use groundwork::render::{RenderContext, TargetFormat};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Median, 95th percentile and maximum of `ms`.
fn summary(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at =
        |q: f64| ms.get(((ms.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    (at(0.5), at(0.95), at(1.0))
}

fn main() -> anyhow::Result<()> {
    let points: usize = env_or("GROUNDWORK_BENCH_POINTS", 1_000_000);
    let steps: usize = env_or("GROUNDWORK_BENCH_STEPS", 200);
    let radius_px: f32 = env_or("GROUNDWORK_BENCH_BRUSH_PX", 40.0);
    let [width, height]: [u32; 2] = std::env::var("GROUNDWORK_BENCH_SIZE")
        .ok()
        .and_then(|s| {
            let (w, h) = s.split_once('x')?;
            Some([w.parse().ok()?, h.parse().ok()?])
        })
        .unwrap_or([1920, 1080]);
    let cloud = synthetic_cloud(points, 7);
    let viewport = Viewport::new(width, height);
    let mut camera = Camera::standard(StandardView::Orbit);
    let (min, max) = {
        let mut min = [f64::INFINITY; 3];
        let mut max = [f64::NEG_INFINITY; 3];
        for i in 0..cloud.len() {
            if let Some(w) = cloud.world_position(i) {
                for k in 0..3 {
                    min[k] = min[k].min(w[k]);
                    max[k] = max[k].max(w[k]);
                }
            }
        }
        (nalgebra::Point3::from(min), nalgebra::Point3::from(max))
    };
    camera.fit_to_bounds(min, max, viewport);
    let clip_from_local = camera.clip_from_local(viewport, cloud.origin);
    println!(
        "points: {points}, viewport {width}x{height}, brush radius {radius_px} px, rayon threads {}",
        rayon::current_num_threads()
    );

    // Projection, once per camera change.
    let options = ProjectionOptions::default();
    let mut projection_ms = Vec::new();
    let mut projected = ProjectedCloud::default();
    for _ in 0..5 {
        let t = Instant::now();
        projected = ProjectedCloud::new(&cloud.positions, &clip_from_local, viewport, &options);
        projection_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("points on screen: {}", projected.len());

    let mut config = LabelCategoryConfig::parse(r#"{"labels": [{"label": "x"}]}"#, "bench")?;
    config.labels =
        ["road", "car", "pole", "building", "vegetation"].map(LabelCategory::new).to_vec();
    let mut doc = PointSegDocument::new(&config, cloud.len(), AuditMode::Labeling)?;

    let gpu = RenderContext::new_headless_if_available()?.map(|ctx| {
        let renderer = PointCloudRenderer::new(&ctx.device, &ctx.queue, TargetFormat::OFFSCREEN);
        let uploaded = renderer.upload(&ctx.device, &cloud, &PointUploadOptions::default());
        (ctx, uploaded)
    });
    if let Some((ctx, _)) = &gpu {
        println!("adapter: {}", ctx.adapter_description());
    } else {
        println!("adapter: none (label upload not measured)");
    }

    // Brush strokes across the middle of the screen, alternating classes so every step changes
    // points.
    let mut query_paint_ms = Vec::new();
    let mut step_ms = Vec::new();
    let mut changed_total = 0usize;
    let mut bytes_total = 0u64;
    let mut candidates = Vec::new();
    let mut changed = Vec::new();
    let (y, x0) = (height as f32 * 0.5, width as f32 * 0.2);
    let dx = (width as f32 * 0.6) / steps.max(1) as f32;
    for pass in 0..2u8 {
        doc.begin_stroke(StrokeSpec { class: 1 + pass, only_unpainted: false })?;
        let mut last = [x0, y];
        for s in 0..steps {
            let at = [x0 + dx * (s as f32 + 1.0), y + (s as f32 * 0.05).sin() * 30.0];
            let t = Instant::now();
            candidates.clear();
            changed.clear();
            projected.brush(last, at, radius_px, false, &mut candidates);
            doc.paint(&candidates, &mut changed);
            let painted = t.elapsed().as_secs_f64() * 1000.0;
            if let Some((ctx, Ok(gpu_cloud))) = &gpu {
                let labels = doc.labels();
                bytes_total += gpu_cloud.update_labels(&ctx.queue, &changed, |i| {
                    labels.get(i as usize).copied().map_or(0, u32::from)
                });
                ctx.queue.submit([]);
                let _ = ctx.device.poll(wgpu::PollType::wait_indefinitely());
            }
            query_paint_ms.push(painted);
            step_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            changed_total += changed.len();
            last = at;
        }
        doc.end_stroke();
    }

    // A lasso over a third of the screen.
    let (w, h) = (width as f32, height as f32);
    let outline =
        [[w * 0.3, h * 0.3], [w * 0.7, h * 0.25], [w * 0.75, h * 0.7], [w * 0.35, h * 0.75]];
    let t = Instant::now();
    candidates.clear();
    projected.lasso(&outline, false, &mut candidates);
    let lasso_changed =
        doc.paint_stroke(StrokeSpec { class: 3, only_unpainted: false }, &candidates)?;
    let lasso_ms = t.elapsed().as_secs_f64() * 1000.0;

    let (p50, p95, pmax) = summary(projection_ms);
    let (q50, q95, qmax) = summary(query_paint_ms);
    let (s50, s95, smax) = summary(step_ms);
    let n = (2 * steps).max(1);
    println!();
    println!("| measurement | median ms | p95 ms | max ms |");
    println!("| --- | ---: | ---: | ---: |");
    println!("| projection (once per camera change) | {p50:.2} | {p95:.2} | {pmax:.2} |");
    println!("| brush step: grid query + paint | {q50:.3} | {q95:.3} | {qmax:.3} |");
    if gpu.as_ref().is_some_and(|(_, c)| c.is_ok()) {
        println!(
            "| brush step incl. label upload + submit/wait | {s50:.3} | {s95:.3} | {smax:.3} |"
        );
    }
    println!(
        "| lasso over ~⅓ of the screen ({} points) | {lasso_ms:.2} | | |",
        lasso_changed.len()
    );
    println!();
    println!(
        "{} steps; {:.0} points changed per step on average; {:.1} KiB of labels written per step",
        n,
        changed_total as f64 / n as f64,
        bytes_total as f64 / 1024.0 / n as f64
    );
    Ok(())
}
