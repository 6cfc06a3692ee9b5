//! Point-cloud read benchmark: writes a deterministic synthetic terrain as LAS 1.4 point format 6
//! and as LAZ (10 million points by default), then times our LAS and LAZ readers (wall time,
//! Mpts/s, time to the first decoded piece) and the process's peak RSS during each read, and
//! prints a markdown table.
//!
//! Run: `cargo bench --bench point_cloud_read` (release profile). Options through the
//! environment: `GROUNDWORK_BENCH_POINTS` (default 10000000), `GROUNDWORK_BENCH_DIR` (where the
//! files go; default a temporary folder, deleted afterwards), `GROUNDWORK_BENCH_ATTRS=all` (or
//! the older `GROUNDWORK_BENCH_ALL=1`) to keep every attribute and `=positions` to keep positions
//! only instead of the default view set, `GROUNDWORK_BENCH_REPEAT` (default 3) runs of each read,
//! of which the median is reported.
//!
//! Each file is read two ways: whole (`PointCloud::load_with`, what `groundwork info` and
//! `render` do) and streamed (decoded pieces handed over as they finish, as the review window
//! shows them, appended into one cloud).
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use groundwork::formats::point_cloud::LoadOptions;
use groundwork::formats::point_cloud::bench_support::{
    markdown_table, measure_las_load, measure_las_read, write_synthetic_las,
};

fn main() -> anyhow::Result<()> {
    let points: u64 = std::env::var("GROUNDWORK_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let options = match std::env::var("GROUNDWORK_BENCH_ATTRS").as_deref() {
        Ok("all") => LoadOptions::all(),
        Ok("positions") => LoadOptions::positions_only(),
        _ if std::env::var("GROUNDWORK_BENCH_ALL").is_ok_and(|v| v == "1") => LoadOptions::all(),
        _ => LoadOptions::default(),
    };
    let repeat: usize = std::env::var("GROUNDWORK_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let temp = tempfile::tempdir()?;
    let dir = std::env::var_os("GROUNDWORK_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let las_path = dir.join(format!("terrain-{points}.las"));
    let laz_path = dir.join(format!("terrain-{points}.laz"));
    for (path, compressed) in [(&las_path, false), (&laz_path, true)] {
        if !path.exists() {
            let started = Instant::now();
            write_synthetic_las(path, points, 0x6772_6f75_6e64, compressed)?;
            eprintln!("wrote {} in {:.1} s", path.display(), started.elapsed().as_secs_f64());
        }
    }
    let threads = rayon::current_num_threads();
    let mut rows = Vec::new();
    for (path, label) in [(&las_path, "LAS 1.4 fmt 6"), (&laz_path, "LAZ 1.4 fmt 6")] {
        // Whole load (`PointCloud::load_with`), then the streamed read the viewer uses (pieces
        // as they decode, appended into one cloud); each `repeat` times, the median kept.
        for streamed in [false, true] {
            let mut runs = Vec::new();
            for _ in 0..repeat {
                let (measurement, cloud) = if streamed {
                    measure_las_read(path, label, &options)?
                } else {
                    measure_las_load(path, label, &options)?
                };
                assert_eq!(cloud.len() as u64, points, "{label}: point count");
                drop(cloud);
                eprintln!(
                    "{label} {}: {:.3} s",
                    if streamed { "streamed" } else { "load" },
                    measurement.wall_secs
                );
                runs.push(measurement);
            }
            runs.sort_by(|a, b| a.wall_secs.total_cmp(&b.wall_secs));
            let best = runs.first().map_or(0.0, |r| r.wall_secs);
            let mut median = runs.swap_remove(runs.len() / 2);
            median.label = format!(
                "{label}, {} (median of {repeat}, best {best:.3} s)",
                if streamed { "streamed" } else { "whole load" }
            );
            rows.push(median);
        }
    }
    println!(
        "point_cloud_read: {points} points, {threads} rayon threads, attributes {:?}\n",
        options.attributes.names()
    );
    println!("{}", markdown_table(&rows));
    Ok(())
}
