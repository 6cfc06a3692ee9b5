//! The logic of the `point_cloud_read` benchmark (`benches/point_cloud_read.rs`), kept in the
//! library so unit tests exercise it at a small size: a deterministic synthetic terrain written
//! as LAS 1.4 point format 6 (plain or LAZ, through the `las` crate), timed reads with time to
//! first piece, peak RSS from `/proc/self/status`, and a markdown table.
//!
//! Must not depend on any layer above `formats`.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use super::{LoadOptions, PointCloud, las};
use crate::formats::{FormatError, Location};

/// Bytes of a point format 6 record.
const RECORD_LEN: usize = 30;
/// Coordinate scale of the synthetic files (millimetres).
const SCALE: f64 = 0.001;
/// Coordinate offsets of the synthetic files (UTM-like magnitudes).
const OFFSET: [f64; 3] = [500_000.0, 4_000_000.0, 0.0];
/// Grid spacing of the synthetic terrain, metres.
const SPACING_M: f64 = 0.25;

/// The world position of synthetic point `i` of `points` (a jittered grid over a smooth
/// terrain); `jitter` is two values in 0..1.
pub fn synthetic_position(i: u64, points: u64, jitter: [f64; 2]) -> [f64; 3] {
    let side = (points as f64).sqrt().ceil().max(1.0) as u64;
    let (gx, gy) = ((i % side) as f64, (i / side) as f64);
    let x = (gx + jitter[0]) * SPACING_M;
    let y = (gy + jitter[1]) * SPACING_M;
    let z = 20.0 * (x / 50.0).sin() * (y / 70.0).cos() + 3.0 * (x / 7.0 + y / 11.0).sin() + 100.0;
    [OFFSET[0] + x, OFFSET[1] + y, z]
}

/// Raw point format 6 records for points `start..start + count` of a `points`-point terrain.
pub fn synthetic_records(start: u64, count: u64, points: u64, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed ^ start.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0) * RECORD_LEN);
    for i in start..start + count {
        let p = synthetic_position(i, points, [rng.f64(), rng.f64()]);
        let raw = [0, 1, 2].map(|k| ((p[k] - OFFSET[k]) / SCALE).round() as i32);
        for v in raw {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&rng.u16(..).to_le_bytes()); // intensity
        out.push(0x11); // return 1 of 1
        out.push(0); // flags
        let class = if p[2] > 115.0 {
            5
        } else if i % 17 == 0 {
            6
        } else {
            2
        };
        out.push(class);
        out.push((i % 7) as u8); // user data
        out.extend_from_slice(&0i16.to_le_bytes()); // scan angle
        out.extend_from_slice(&1u16.to_le_bytes()); // point source id
        out.extend_from_slice(&(i as f64 * 1e-5).to_le_bytes()); // gps time
    }
    out
}

/// Writes a `points`-point synthetic terrain as LAS 1.4 point format 6 (LAZ when `compressed`).
pub fn write_synthetic_las(
    path: &Path,
    points: u64,
    seed: u64,
    compressed: bool,
) -> Result<(), FormatError> {
    let name = path.display().to_string();
    let las_err = |e: ::las::Error| FormatError::invalid(Location::file(&name), e.to_string());
    let mut builder = ::las::Builder::from((1, 4));
    builder.point_format = ::las::point::Format::new(6).map_err(las_err)?;
    builder.point_format.is_compressed = compressed;
    builder.generating_software = "groundwork bench_support".to_string();
    builder.transforms = ::las::Vector {
        x: ::las::Transform { scale: SCALE, offset: OFFSET[0] },
        y: ::las::Transform { scale: SCALE, offset: OFFSET[1] },
        z: ::las::Transform { scale: SCALE, offset: OFFSET[2] },
    };
    let header = builder.into_header().map_err(las_err)?;
    let file = File::create(path).map_err(|e| FormatError::io(&name, e))?;
    let mut writer = ::las::Writer::new(BufWriter::new(file), header).map_err(las_err)?;
    const BATCH: u64 = 1 << 20;
    let mut start = 0;
    while start < points {
        let count = BATCH.min(points - start);
        let data = ::las::PointDataBuilder::new()
            .for_header(writer.header())
            .build_from_bytes(synthetic_records(start, count, points, seed))
            .map_err(las_err)?;
        writer.write_points(&data).map_err(las_err)?;
        start += count;
    }
    writer.close().map_err(las_err)
}

/// One timed read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadMeasurement {
    /// What was read (e.g. `LAS 1.4 fmt 6`).
    pub label: String,
    /// Size of the file.
    pub file_bytes: u64,
    /// Points loaded.
    pub points: u64,
    /// Wall time of the whole load.
    pub wall_secs: f64,
    /// Wall time until the first decoded piece was available.
    pub first_piece_secs: f64,
    /// Peak resident memory of the process during the read (`VmHWM`), when Linux tells.
    pub peak_rss_bytes: Option<u64>,
    /// Memory the loaded cloud holds.
    pub cloud_bytes: u64,
    /// Growth of the process's resident memory from before the read to after it, with the cloud
    /// still held and the read's buffers freed (`/proc/self/statm`), when Linux tells.
    pub resident_growth_bytes: Option<u64>,
}

impl ReadMeasurement {
    /// Millions of points per second.
    pub fn mpts_per_sec(&self) -> f64 {
        if self.wall_secs > 0.0 { self.points as f64 / self.wall_secs / 1e6 } else { 0.0 }
    }
}

/// Loads the LAS/LAZ file at `path` progressively, timing the first piece and the whole load,
/// and the process's peak RSS (reset first, where the kernel allows).
pub fn measure_las_read(
    path: &Path,
    label: &str,
    options: &LoadOptions,
) -> Result<(ReadMeasurement, PointCloud), FormatError> {
    measure(path, label, |started| {
        let chunks = las::chunks_path(path, options)?;
        let mut cloud = PointCloud { origin: chunks.origin(), ..PointCloud::default() };
        let total = chunks.header().point_count;
        let mut first_piece_secs = None;
        for piece in chunks {
            let piece = piece?;
            if first_piece_secs.is_none() {
                first_piece_secs = Some(started.elapsed().as_secs_f64());
                cloud = piece;
                cloud.reserve(usize::try_from(total).unwrap_or(0).saturating_sub(cloud.len()));
            } else {
                cloud.append(piece);
            }
        }
        Ok((cloud, first_piece_secs))
    })
}

/// Loads the LAS/LAZ file at `path` whole ([`PointCloud::load_with`], the path `groundwork info`,
/// `render` and the review window's final cloud take), timing the load and the process's peak RSS.
/// `first_piece_secs` is the whole load here (nothing is shown before the end).
pub fn measure_las_load(
    path: &Path,
    label: &str,
    options: &LoadOptions,
) -> Result<(ReadMeasurement, PointCloud), FormatError> {
    measure(path, label, |_| Ok((PointCloud::load_with(path, options)?.cloud, None)))
}

/// Times `read` (given its start instant; it returns the cloud and when its first piece came),
/// with the process's peak RSS reset before and resident memory taken before and after.
fn measure(
    path: &Path,
    label: &str,
    read: impl FnOnce(Instant) -> Result<(PointCloud, Option<f64>), FormatError>,
) -> Result<(ReadMeasurement, PointCloud), FormatError> {
    let name = path.display().to_string();
    let file_bytes = std::fs::metadata(path).map_err(|e| FormatError::io(&name, e))?.len();
    reset_peak_rss();
    let resident_before = resident_bytes();
    let started = Instant::now();
    let (cloud, first_piece_secs) = read(started)?;
    let wall_secs = started.elapsed().as_secs_f64();
    let measurement = ReadMeasurement {
        label: label.to_string(),
        file_bytes,
        points: cloud.len() as u64,
        wall_secs,
        first_piece_secs: first_piece_secs.unwrap_or(wall_secs),
        peak_rss_bytes: peak_rss_bytes(),
        cloud_bytes: (cloud.len() * cloud.bytes_per_point()) as u64,
        resident_growth_bytes: resident_before
            .zip(resident_bytes())
            .map(|(before, after)| after.saturating_sub(before)),
    };
    Ok((measurement, cloud))
}

/// Resets the kernel's peak-RSS mark for this process (`/proc/self/clear_refs`); false where
/// that is not possible.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// This process's peak resident memory (`VmHWM` in `/proc/self/status`), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    parse_vm_hwm(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// This process's resident memory now (second field of `/proc/self/statm`, in pages of 4 KiB),
/// in bytes.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The measurements as a markdown table.
pub fn markdown_table(rows: &[ReadMeasurement]) -> String {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mut out = String::from(
        "| read | file MiB | points | wall s | Mpts/s | first piece ms | peak RSS MiB | cloud MiB (B/pt) | resident growth MiB (B/pt) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let per_point = |b: u64, n: u64| if n > 0 { b as f64 / n as f64 } else { 0.0 };
    for r in rows {
        out.push_str(&format!(
            "| {} | {:.1} | {} | {:.3} | {:.1} | {:.1} | {} | {:.1} ({:.1}) | {} |\n",
            r.label,
            mib(r.file_bytes),
            r.points,
            r.wall_secs,
            r.mpts_per_sec(),
            r.first_piece_secs * 1e3,
            r.peak_rss_bytes.map_or("n/a".to_string(), |b| format!("{:.1}", mib(b))),
            mib(r.cloud_bytes),
            per_point(r.cloud_bytes, r.points),
            r.resident_growth_bytes.map_or("n/a".to_string(), |b| {
                format!("{:.1} ({:.1})", mib(b), per_point(b, r.points))
            }),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn small_synthetic_las_and_laz_read_back_identically() {
        let dir = tempfile::tempdir().unwrap();
        let n = 70_000;
        let las_path = dir.path().join("t.las");
        let laz_path = dir.path().join("t.laz");
        write_synthetic_las(&las_path, n, 42, false).unwrap();
        write_synthetic_las(&laz_path, n, 42, true).unwrap();
        let (m_las, las) = measure_las_read(&las_path, "LAS", &LoadOptions::all()).unwrap();
        let (m_laz, laz) = measure_las_read(&laz_path, "LAZ", &LoadOptions::all()).unwrap();
        assert_eq!(m_las.points, n);
        assert_eq!(m_laz.points, n);
        assert_eq!(las, laz);
        // The whole load (straight into one cloud, chunks in parallel) gives the same cloud as
        // the streamed pieces, for the raw records and for the two LAZ chunks.
        let (w_las, las_whole) = measure_las_load(&las_path, "LAS", &LoadOptions::all()).unwrap();
        let (w_laz, laz_whole) = measure_las_load(&laz_path, "LAZ", &LoadOptions::all()).unwrap();
        assert_eq!((w_las.points, w_laz.points), (n, n));
        assert_eq!(las_whole, las);
        assert_eq!(laz_whole, las);
        assert!(m_laz.file_bytes < m_las.file_bytes);
        assert!(m_laz.first_piece_secs <= m_laz.wall_secs);
        // The decoded coordinates are the generator's (to the file's millimetre resolution).
        let mut rng = fastrand::Rng::with_seed(42);
        let p0 = synthetic_position(0, n, [rng.f64(), rng.f64()]);
        let w0 = las.world_position(0).unwrap();
        for k in 0..3 {
            assert!((p0[k] - w0[k]).abs() < 2e-3, "{p0:?} vs {w0:?}");
        }
        assert_eq!(las.gps_time.as_ref().unwrap()[10], 10.0 * 1e-5);
        let table = markdown_table(&[m_las, m_laz]);
        assert_eq!(table.lines().count(), 4);
        assert!(table.contains("| LAZ |"));
    }

    #[test]
    fn vm_hwm_parsing() {
        assert_eq!(parse_vm_hwm("Name:\tx\nVmHWM:\t  2048 kB\n"), Some(2048 * 1024));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
        if cfg!(target_os = "linux") {
            assert!(peak_rss_bytes().is_some_and(|b| b > 0));
            assert!(resident_bytes().is_some_and(|b| b > 0));
        }
    }
}
