//! Render benchmark: headless frame time of `PointCloudRenderer` next to a bare wgpu pass drawing
//! the same positions with a minimal pipeline (1M and 10M points by default), and the time to
//! first points of a 10M-point LAZ streamed the way the review window streams it. Prints the
//! adapter and two markdown tables.
//!
//! Run: `cargo bench --bench render_frame` (release profile). Options through the environment:
//! `GROUNDWORK_BENCH_FRAME_POINTS` (comma-separated, default `1000000,10000000`),
//! `GROUNDWORK_BENCH_POINTS` (LAZ size, default 10000000), `GROUNDWORK_BENCH_FRAMES` (default 10),
//! `GROUNDWORK_BENCH_SIZE` (`WIDTHxHEIGHT`, default 1920x1080), `GROUNDWORK_BENCH_DIR` (where the
//! LAZ goes; default a temporary folder). wgpu's `WGPU_BACKEND` / `WGPU_ADAPTER_NAME` choose the
//! adapter.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use groundwork::formats::point_cloud::bench_support::write_synthetic_las;
use groundwork::render::RenderContext;
use groundwork::render::bench_support::{
    compare_frame_times, first_points_table, frame_table, synthetic_cloud, time_to_first_points,
};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let ctx = RenderContext::new_headless()?;
    println!("adapter: {}", ctx.adapter_description());
    let frames: usize = env_or("GROUNDWORK_BENCH_FRAMES", 10);
    let size: [u32; 2] = std::env::var("GROUNDWORK_BENCH_SIZE")
        .ok()
        .and_then(|s| {
            let (w, h) = s.split_once('x')?;
            Some([w.parse().ok()?, h.parse().ok()?])
        })
        .unwrap_or([1920, 1080]);
    let frame_points: Vec<usize> = std::env::var("GROUNDWORK_BENCH_FRAME_POINTS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000_000, 10_000_000]);

    let mut rows = Vec::new();
    for &points in &frame_points {
        let cloud = synthetic_cloud(points, 0x6772_6f75);
        let row = compare_frame_times(&ctx, &cloud, size, frames)?;
        eprintln!(
            "{points} points: renderer {:.2} ms, bare {:.2} ms",
            row.renderer.median_ms, row.bare.median_ms
        );
        rows.push(row);
    }
    println!(
        "\nframe time ({frames} frames after 2 warm-up frames, 1-pixel points, every point drawn)\n"
    );
    println!("{}", frame_table(&rows));

    let laz_points: u64 = env_or("GROUNDWORK_BENCH_POINTS", 10_000_000);
    let temp = tempfile::tempdir()?;
    let dir = std::env::var_os("GROUNDWORK_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let laz = dir.join(format!("terrain-{laz_points}.laz"));
    if !laz.exists() {
        let started = Instant::now();
        write_synthetic_las(&laz, laz_points, 0x6772_6f75_6e64, true)?;
        eprintln!("wrote {} in {:.1} s", laz.display(), started.elapsed().as_secs_f64());
    }
    let first = time_to_first_points(&ctx, &laz, size)?;
    println!(
        "\ntime to first points (stream start → first piece uploaded and drawn, GPU idle; {} rayon threads)\n",
        rayon::current_num_threads()
    );
    println!("{}", first_points_table(&[(format!("LAZ 1.4 fmt 6, {laz_points} points"), first)]));
    Ok(())
}
