//! S3 throughput: Groundwork's `S3Store` against boto3, both talking to one SeaweedFS server that
//! the test harness starts (`tests/support/seaweed.rs`), in the same run.
//!
//! Workloads: 2,000 objects of 2 kB and 20 objects of 20 MiB; each uploaded, then downloaded
//! (and checked byte for byte), with 10 and with 32 requests in flight. On our side "threads" are
//! concurrent requests on one Tokio runtime (worker threads = CPU cores); on boto3's side they are
//! the threads of a `ThreadPoolExecutor` sharing one client (`benches/boto3_throughput.py`).
//! Multipart settings match: 16 MiB threshold, 8 MiB parts, 4 parts in flight.
//!
//! Run (release, needs `weed` on PATH and python3 with boto3):
//!     cargo bench --bench s3_throughput
//! Prints a markdown table for BENCHMARKS.md. `GROUNDWORK_BENCH_ONLY=small|large` runs one
//! workload; `GROUNDWORK_BENCH_CPU=1` prints each client's CPU seconds for its downloads.
//! `GROUNDWORK_BENCH_QUICK=1` runs a tenth of the
//! objects (a smoke run of the harness, not a measurement).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use groundwork::store::{ObjectPath, ObjectStore, PutOptions};
use support::seaweed::{ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedServer};

const MIB: f64 = 1024.0 * 1024.0;

struct Workload {
    name: &'static str,
    count: usize,
    size: usize,
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    upload_secs: f64,
    download_secs: f64,
}

fn payloads(count: usize, size: usize, seed: u64) -> Vec<Arc<Vec<u8>>> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..count.min(16))
        .map(|_| {
            let mut bytes = vec![0u8; size];
            rng.fill(&mut bytes);
            Arc::new(bytes)
        })
        .collect()
}

/// Runs `op(i)` for every `i < count` with `concurrency` requests in flight.
async fn run_concurrently<F, Fut>(count: usize, concurrency: usize, op: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let op = Arc::new(op);
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let next = next.clone();
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                op(i).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

async fn ours(
    store: Arc<dyn ObjectStore>,
    prefix: &str,
    w: &Workload,
    concurrency: usize,
) -> Timing {
    let data = Arc::new(payloads(w.count, w.size, 7));
    let paths: Arc<Vec<ObjectPath>> = Arc::new(
        (0..w.count).map(|i| ObjectPath::new(BUCKET, format!("{prefix}{i:06}")).unwrap()).collect(),
    );
    let start = Instant::now();
    {
        let (store, data, paths) = (store.clone(), data.clone(), paths.clone());
        run_concurrently(w.count, concurrency, move |i| {
            let (store, data, paths) = (store.clone(), data.clone(), paths.clone());
            async move {
                let bytes = data[i % data.len()].as_ref().clone();
                store.put(&paths[i], bytes, PutOptions::default()).await.unwrap();
            }
        })
        .await;
    }
    let upload_secs = start.elapsed().as_secs_f64();
    let cpu_before = process_cpu_secs();
    let start = Instant::now();
    {
        let (store, data, paths) = (store.clone(), data.clone(), paths.clone());
        run_concurrently(w.count, concurrency, move |i| {
            let (store, data, paths) = (store.clone(), data.clone(), paths.clone());
            async move {
                let got = store.get(&paths[i], None).await.unwrap();
                assert!(
                    got.bytes == *data[i % data.len()],
                    "{}: downloaded bytes differ",
                    paths[i]
                );
            }
        })
        .await;
    }
    let download_secs = start.elapsed().as_secs_f64();
    if std::env::var_os("GROUNDWORK_BENCH_CPU").is_some() {
        eprintln!("ours: download CPU {:.2} s", process_cpu_secs() - cpu_before);
    }
    Timing { upload_secs, download_secs }
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat (0 elsewhere).
fn process_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn boto3(
    server: &SeaweedServer,
    prefix: &str,
    w: &Workload,
    threads: usize,
) -> Result<Timing, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/boto3_throughput.py");
    let out = Command::new(std::env::var("GROUNDWORK_PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(script)
        .args(["--endpoint", &server.endpoint_url(), "--bucket", BUCKET, "--prefix", prefix])
        .args(["--threads", &threads.to_string(), "--count", &w.count.to_string()])
        .args(["--size", &w.size.to_string()])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !out.status.success() {
        return Err(format!("boto3 script failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    if std::env::var_os("GROUNDWORK_BENCH_CPU").is_some() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(text.trim())
        .map_err(|e| format!("unreadable boto3 result {text:?}: {e}"))?;
    if let Some(error) = v.get("error").and_then(|e| e.as_str()) {
        return Err(error.to_owned());
    }
    let secs = |k: &str| v.get(k).and_then(serde_json::Value::as_f64).ok_or(format!("no {k}"));
    Ok(Timing { upload_secs: secs("upload_secs")?, download_secs: secs("download_secs")? })
}

fn cell(count: usize, size: usize, secs: f64) -> String {
    format!(
        "{:.2} s · {:.0} obj/s · {:.1} MiB/s",
        secs,
        count as f64 / secs,
        (count * size) as f64 / MIB / secs
    )
}

fn main() {
    let server = match SeaweedServer::start() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("s3_throughput: cannot start SeaweedFS: {e}");
            std::process::exit(1);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(server.store());
    // GROUNDWORK_BENCH_QUICK=1: a tenth of the objects, to check the harness end to end.
    let quick = std::env::var("GROUNDWORK_BENCH_QUICK").is_ok_and(|v| v == "1");
    let workloads = if quick {
        [
            Workload { name: "200 × 2 kB (quick)", count: 200, size: 2_000 },
            Workload { name: "2 × 20 MiB (quick)", count: 2, size: 20 * 1024 * 1024 },
        ]
    } else {
        [
            Workload { name: "2,000 × 2 kB", count: 2_000, size: 2_000 },
            Workload { name: "20 × 20 MiB", count: 20, size: 20 * 1024 * 1024 },
        ]
    };
    // Warm the server up (it allocates its volumes on the first writes), so the first measured
    // workload is not the only one that pays for that.
    runtime.block_on(async {
        for i in 0..50 {
            let path = ObjectPath::new(BUCKET, format!("warmup/{i:03}")).unwrap();
            store.put(&path, vec![7; 2_000], PutOptions::default()).await.unwrap();
            store.get(&path, None).await.unwrap();
        }
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("SeaweedFS {} on 127.0.0.1, {cores} CPU cores\n", server.version());
    println!("| objects | op | threads | Groundwork S3Store | boto3 | boto3 time ÷ ours |");
    println!("| --- | --- | ---: | --- | --- | ---: |");
    // GROUNDWORK_BENCH_ONLY=small|large: one of the two workloads (profiling one path).
    let only = std::env::var("GROUNDWORK_BENCH_ONLY").unwrap_or_default();
    for (wi, w) in workloads.iter().enumerate() {
        if (only == "small" && wi != 0) || (only == "large" && wi != 1) {
            continue;
        }
        for threads in [10usize, 32] {
            let mine = runtime.block_on(ours(
                store.clone(),
                &format!("bench/gw-{wi}-{threads}/"),
                w,
                threads,
            ));
            let theirs = boto3(&server, &format!("bench/boto3-{wi}-{threads}/"), w, threads);
            for (op, m, t) in [
                ("upload", mine.upload_secs, theirs.as_ref().map(|t| t.upload_secs)),
                ("download", mine.download_secs, theirs.as_ref().map(|t| t.download_secs)),
            ] {
                let (b, ratio) = match t {
                    Ok(t) => (cell(w.count, w.size, t), format!("{:.2}×", t / m)),
                    Err(e) => (format!("n/a ({e})"), "–".into()),
                };
                println!(
                    "| {} | {op} | {threads} | {} | {b} | {ratio} |",
                    w.name,
                    cell(w.count, w.size, m)
                );
            }
        }
    }
}
