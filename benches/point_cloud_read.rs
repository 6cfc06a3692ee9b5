//! Point-cloud read benchmark: writes a deterministic synthetic terrain as LAS 1.4 point format 6
//! and as LAZ (10 million points by default), then times our LAS and LAZ readers (wall time,
//! Mpts/s, time to the first decoded piece) and the process's peak RSS during each read, and
//! prints a markdown table.
//!
//! Run: `cargo bench --bench point_cloud_read` (release profile). Options through the
//! environment: `GROUNDWORK_BENCH_POINTS` (default 10000000), `GROUNDWORK_BENCH_DIR` (where the
//! files go; default a temporary folder, deleted afterwards), `GROUNDWORK_BENCH_ALL=1` to keep
//! every attribute instead of the default view set.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use groundwork::formats::point_cloud::LoadOptions;
use groundwork::formats::point_cloud::bench_support::{
    markdown_table, measure_las_read, write_synthetic_las,
};

fn main() -> anyhow::Result<()> {
    let points: u64 = std::env::var("GROUNDWORK_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let options = if std::env::var("GROUNDWORK_BENCH_ALL").is_ok_and(|v| v == "1") {
        LoadOptions::all()
    } else {
        LoadOptions::default()
    };
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
        let (measurement, cloud) = measure_las_read(path, label, &options)?;
        assert_eq!(cloud.len() as u64, points, "{label}: point count");
        drop(cloud);
        rows.push(measurement);
    }
    println!(
        "point_cloud_read: {points} points, {threads} rayon threads, attributes {:?}\n",
        options.attributes.names()
    );
    println!("{}", markdown_table(&rows));
    Ok(())
}
