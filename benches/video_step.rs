//! Stepping through a 500-frame 1080p JPEG sequence the way the video task screen does: the
//! frames sit in a local-folder store, the app's [`FrameCache`] reads and decodes them ahead on
//! its threads, and the "worker" steps one frame at a time at playback pace. Per step it measures
//! how long the frame took to be ready (0 when it was decoded ahead: a hit; the stall otherwise)
//! and prints mean / p95 / max, hits and misses, and decode times. Not a timed assertion.
//!
//! Run: `cargo bench --bench video_step`. Knobs (environment): `GROUNDWORK_BENCH_FRAMES`
//! (default 500), `GROUNDWORK_BENCH_FPS` (default 30; 0 steps as fast as frames are ready),
//! `GROUNDWORK_BENCH_WORKERS` (decoding threads, default as the app: 2).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use groundwork::app::frames::{FrameCache, FrameCacheConfig, FrameSource, FrameState};
use groundwork::store::local::LocalStore;
use groundwork::store::{ObjectPath, ObjectStore, PutOptions};

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A street-like synthetic frame: sky and road gradients, lane marks and a box that moves, with
/// noise so the JPEG is as large as a camera's.
fn frame(index: usize, rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut image = image::RgbImage::new(WIDTH, HEIGHT);
    let car_x = (index as u32 * 7) % WIDTH;
    for (x, y, p) in image.enumerate_pixels_mut() {
        let noise = rng.u8(0..24);
        let base = if y < HEIGHT / 2 {
            [90 + (y / 8) as u8, 140 + (y / 10) as u8, 230]
        } else {
            [70, 72, 78]
        };
        let lane =
            y > HEIGHT * 3 / 4 && y < HEIGHT * 3 / 4 + 12 && (x + index as u32 * 11) % 240 < 120;
        let car = x >= car_x && x < car_x + 320 && y > 560 && y < 760;
        let c = if car {
            [200, 40, 40]
        } else if lane {
            [240, 240, 220]
        } else {
            base
        };
        *p = image::Rgb(c.map(|v| v.saturating_add(noise)));
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&image)
        .expect("JPEG encoding");
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let frames = env_or("GROUNDWORK_BENCH_FRAMES", 500);
    let fps = env_or("GROUNDWORK_BENCH_FPS", 30);
    let workers = env_or("GROUNDWORK_BENCH_WORKERS", FrameCacheConfig::default().workers);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-io")
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(dir.path()).unwrap());

    // The sequence: 500 JPEG frames in one folder.
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(42);
    let mut paths = Vec::with_capacity(frames);
    let mut total_bytes = 0usize;
    for i in 0..frames {
        let bytes = frame(i, &mut rng);
        total_bytes += bytes.len();
        let path = ObjectPath::parse(&format!("s3://bench-video/seq/frame_{i:04}.jpg")).unwrap();
        runtime.block_on(store.put(&path, bytes, PutOptions::default())).unwrap();
        paths.push(path);
    }
    println!(
        "sequence: {frames} frames {WIDTH}x{HEIGHT} JPEG, {:.1} MB, written in {:.1} s",
        total_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let config = FrameCacheConfig { workers, ..FrameCacheConfig::default() };
    let source = FrameSource { store, paths, runtime: runtime.handle().clone() };
    let cache = FrameCache::new(source, config, None);
    // The task opens on frame 1: the worker looks at it before pressing play.
    let open = Instant::now();
    while !matches!(cache.get(0), FrameState::Ready(_)) {
        std::thread::sleep(Duration::from_micros(200));
    }
    let first_ms = open.elapsed().as_secs_f64() * 1000.0;
    std::thread::sleep(Duration::from_millis(500));

    let interval =
        if fps == 0 { Duration::ZERO } else { Duration::from_secs_f64(1.0 / fps as f64) };
    let mut waits_ms = Vec::with_capacity(frames);
    let run = Instant::now();
    let mut next_tick = Instant::now();
    for i in 1..frames {
        next_tick += interval;
        let t = Instant::now();
        loop {
            match cache.get(i) {
                FrameState::Ready(_) => break,
                FrameState::Failed(e) => panic!("frame {i}: {e}"),
                FrameState::Loading => std::thread::sleep(Duration::from_micros(200)),
            }
        }
        waits_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let now = Instant::now();
        if next_tick > now {
            std::thread::sleep(next_tick - now);
        } else {
            next_tick = now;
        }
    }
    let elapsed = run.elapsed().as_secs_f64();
    let stats = cache.stats();
    let mut sorted = waits_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let mean = sorted.iter().sum::<f64>() / sorted.len().max(1) as f64;
    let stalls = sorted.iter().filter(|w| **w > interval.as_secs_f64() * 1000.0).count();
    println!(
        "pace: {} fps ({:.1} ms a step), {workers} decoding thread(s), cache budget {} MB",
        if fps == 0 { "unlimited".to_owned() } else { fps.to_string() },
        interval.as_secs_f64() * 1000.0,
        config.budget_bytes >> 20
    );
    println!("first frame ready after {first_ms:.1} ms");
    println!(
        "wait per step: mean {mean:.2} ms, p95 {:.2} ms, max {:.2} ms over {} steps; \
         {stalls} step(s) waited longer than a frame interval",
        percentile(&sorted, 0.95),
        sorted.last().copied().unwrap_or(0.0),
        sorted.len()
    );
    println!(
        "achieved {:.1} frames/s; cache: {} hits, {} misses, {} decoded, {} evicted, {} frames / {:.0} MB held",
        waits_ms.len() as f64 / elapsed,
        stats.hits,
        stats.misses,
        stats.decoded,
        stats.evicted,
        stats.cached_frames,
        stats.cached_bytes as f64 / 1e6
    );
    println!(
        "decode per frame: mean {:.1} ms, max {:.1} ms; store read mean {:.2} ms",
        stats.decode_ms_mean(),
        stats.decode_ms_max,
        stats.fetch_ms_mean()
    );
}
