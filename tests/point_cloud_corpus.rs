//! Every point-cloud file of the third-party corpus (`../shared/testdata`) loads to its expected
//! point count or fails cleanly with an error naming the file; LAS/LAZ decoding agrees with the
//! `las` crate attribute by attribute; LAS/LAZ twins decode to the same points.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use groundwork::formats::point_cloud::{
    Attributes, CloudFormat, LoadOptions, PointCloud, RawFormat, las,
};

/// What loading a corpus file must give.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This many points (after dropping non-finite ones).
    Points(usize),
    /// A clean error; the message must contain this text (and the file name).
    Fails(&'static str),
}
use Expect::{Fails, Points};

/// Extensions the walk treats as point clouds (`.txt` is Ground Truth's `text/` frame).
const EXTENSIONS: &[&str] = &["las", "laz", "pcd", "xyz", "ply", "bin", "txt", "pts"];

/// Counts: LAS/LAZ from their headers (legacy or 64-bit count), cross-checked against the
/// corpus README; PCD from an independent Python reader (POINTS minus non-finite points).
const TABLE: &[(&str, Expect)] = &[
    ("las-rs/32-1-472-150-76.laz", Points(5658)),
    ("las-rs/autzen.copc.laz", Points(107)),
    ("las-rs/autzen.las", Points(106)),
    ("las-rs/autzen.laz", Points(106)),
    ("las-rs/extrabytes.laz", Points(1065)),
    ("laspy/1_4_w_evlr.las", Points(1000)),
    ("laspy/1_4_w_evlr.laz", Points(1000)),
    ("laspy/append-bug.laz", Points(37805)),
    ("laspy/extrabytes.las", Points(1065)),
    ("laspy/simple.las", Points(1065)),
    ("laspy/simple.laz", Points(1065)),
    ("laspy/simple1_3.las", Points(999)),
    ("laspy/test1_4.las", Points(1000)),
    ("laspy/unregistered_extra_bytes.las", Points(4)),
    ("laz-perf/no-points-1.3.las", Points(0)),
    ("laz-perf/no-points-1.3.laz", Points(0)),
    ("laz-perf/point-color.las.laz", Points(1065)),
    ("laz-perf/point-time-1.4.las.laz", Points(1065)),
    ("laz-perf/point10-1.0.las", Points(1)),
    ("laz-perf/point10-1.0.laz", Points(1)),
    ("pasture/10_points_format_0.las", Points(10)),
    ("pasture/10_points_format_0.laz", Points(10)),
    ("pasture/10_points_format_1.las", Points(10)),
    ("pasture/10_points_format_1.laz", Points(10)),
    ("pasture/10_points_format_10.las", Points(10)),
    ("pasture/10_points_format_10.laz", Fails("describe 38-byte records but the header says 67")),
    ("pasture/10_points_format_2.las", Points(10)),
    ("pasture/10_points_format_2.laz", Points(10)),
    ("pasture/10_points_format_3.las", Points(10)),
    ("pasture/10_points_format_3.laz", Points(10)),
    ("pasture/10_points_format_4.las", Points(10)),
    ("pasture/10_points_format_4.laz", Points(10)),
    ("pasture/10_points_format_5.las", Points(10)),
    ("pasture/10_points_format_5.laz", Points(10)),
    ("pasture/10_points_format_6.las", Points(10)),
    ("pasture/10_points_format_6.laz", Points(10)),
    ("pasture/10_points_format_7.las", Points(10)),
    ("pasture/10_points_format_7.laz", Points(10)),
    ("pasture/10_points_format_8.las", Points(10)),
    ("pasture/10_points_format_8.laz", Points(10)),
    ("pasture/10_points_format_9.las", Points(10)),
    ("pasture/10_points_format_9.laz", Fails("describe 30-byte records but the header says 59")),
    ("pasture/10_points_with_extra_bytes_format_6.las", Points(10)),
    ("pasture/10_points_with_extra_bytes_format_7.las", Points(10)),
    ("pasture/10_points_with_extra_bytes_format_8.las", Points(10)),
    ("pdal/1.0_0.las", Points(1)),
    ("pdal/1.0_1.las", Points(1)),
    ("pdal/1.1_0.las", Points(1)),
    ("pdal/1.1_1.las", Points(1)),
    ("pdal/1.2_0.las", Points(1)),
    ("pdal/1.2_1.las", Points(1)),
    ("pdal/1.2_2.las", Points(1)),
    ("pdal/1.2_3.las", Points(1)),
    ("pdal/autzen-bmx-2010.las", Points(829)),
    // Claims 1069128089 VLRs and 719 points; the file holds 718.7 records after the header.
    ("pdal/garbage_nVariableLength.las", Fails("declares 719 points")),
    ("pdal/gps-time-nan.las", Points(1)),
    ("pdal/no-points.las", Points(0)),
    // Old LASzip point-wise compressor (laz-rs's own reader panics): decoded directly.
    ("pdal/simple-laszip-compressor-version-1.2r0.laz", Points(1065)),
    // PCD
    ("pcd-rs/ascii.pcd", Points(213)),
    ("pcd-rs/binary.pcd", Points(28944)),
    ("pcd-rs/corrupt_compressed.pcd", Fails("corrupt: 3 points of 12 bytes need 36 bytes")),
    ("pcd-rs/empty_compressed.pcd", Points(0)),
    // Written row-major by pcd-rs; read column-major as PCL defines binary_compressed, which
    // makes point 0's y NaN (dropped). No `z` field: z = 0.
    ("pcd-rs/mixed_types_compressed.pcd", Points(1)),
    ("pcd-rs/test_v06_mixed_types.pcd", Fails("no `x`, `y` field")),
    ("pcl/car6.pcd", Points(10031)),
    ("pcl/colored_cloud.pcd", Points(1000)),
    ("pcl/curve3d.pcd", Points(110)),
    ("pcl/milk_color.pcd", Points(13704)),
    ("pcl/nhood_test.pcd", Points(36)),
    ("pcl/office1_keypoints.pcd", Points(1318)),
    ("pcl/table_scene_mug_stereo_textured.pcd", Points(209_280)),
    ("pdal/autzen-utm.pcd", Points(1065)),
    ("pdal/missingheader.pcd", Fails("not a PCD header line")),
    ("pdal/utm17_space.pcd", Points(10)),
    // Ground Truth text/xyz
    ("pdal/data.xyz", Points(400)),
    // Documentation extracts with a .txt name: not point clouds.
    ("sagemaker-dev-guide/3d-point-cloud-object-tracking.SeqLabel.NOT-VALID-JSON.txt", Fails(":1")),
    ("sagemaker-dev-guide/label-category-3d-point-cloud-od-ot.NOT-VALID-JSON.txt", Fails(":1")),
    ("sagemaker-dev-guide/label-category-video-frame.NOT-VALID-JSON.txt", Fails(":1")),
    ("sagemaker-dev-guide/output-3d-point-cloud-object-detection.NOT-VALID-JSON.txt", Fails(":1")),
    ("sagemaker-dev-guide/output-3d-point-cloud-object-tracking.NOT-VALID-JSON.txt", Fails(":1")),
    (
        "sagemaker-dev-guide/output-3d-point-cloud-semantic-segmentation.NOT-VALID-JSON.txt",
        Fails(":1"),
    ),
    ("sagemaker-dev-guide/output-semantic-segmentation-adjustment.NOT-VALID-JSON.txt", Fails(":1")),
    ("sagemaker-dev-guide/output-semantic-segmentation.NOT-VALID-JSON.txt", Fails(":1")),
    ("sagemaker-dev-guide/point-cloud-sequence.seq1.NOT-VALID-JSON.txt", Fails(":1")),
    ("sagemaker-dev-guide/video-object-detection.SeqLabel.NOT-VALID-JSON.txt", Fails(":1")),
    ("sagemaker-dev-guide/video-object-tracking.SeqLabel.NOT-VALID-JSON.txt", Fails(":1")),
];

fn corpus() -> Option<PathBuf> {
    support::testdata_dir()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn is_point_cloud(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn expected(rel: &str) -> Option<Expect> {
    TABLE.iter().find(|(name, _)| *name == rel).map(|(_, e)| *e)
}

#[test]
fn every_corpus_point_cloud_loads_or_fails_cleanly() {
    let Some(root) = corpus() else { return };
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.retain(|p| is_point_cloud(p));
    files.sort();
    assert!(files.len() >= TABLE.len(), "corpus has {} point clouds", files.len());
    let mut problems = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        let Some(expect) = expected(&rel) else {
            problems.push(format!("{rel}: not in the table (add its expected count)"));
            continue;
        };
        let result =
            catch_unwind(AssertUnwindSafe(|| PointCloud::load_with(path, &LoadOptions::all())));
        match (expect, result) {
            (_, Err(_)) => problems.push(format!("{rel}: PANICKED")),
            (Points(n), Ok(Ok(loaded))) => {
                let c = &loaded.cloud;
                if c.len() != n {
                    problems.push(format!("{rel}: {} points, expected {n}", c.len()));
                }
                let attrs = Attributes::of(c);
                let lens = [
                    c.intensity.as_ref().map(Vec::len),
                    c.classification.as_ref().map(Vec::len),
                    c.return_number.as_ref().map(Vec::len),
                    c.rgb.as_ref().map(Vec::len),
                    c.gps_time.as_ref().map(Vec::len),
                    c.user_data.as_ref().map(Vec::len),
                ];
                if lens.iter().flatten().any(|&l| l != c.len()) {
                    problems.push(format!("{rel}: attribute lengths {lens:?} vs {}", c.len()));
                }
                if attrs != loaded.report.available {
                    problems.push(format!(
                        "{rel}: kept {attrs:?} but file has {:?}",
                        loaded.report.available
                    ));
                }
                if c.positions.iter().any(|p| p.iter().any(|v| !v.is_finite())) {
                    problems.push(format!("{rel}: non-finite position kept"));
                }
            }
            (Points(n), Ok(Err(e))) => {
                problems.push(format!("{rel}: expected {n} points, got error {e}"))
            }
            (Fails(text), Ok(Ok(l))) => problems
                .push(format!("{rel}: expected an error ({text}), loaded {}", l.cloud.len())),
            (Fails(text), Ok(Err(e))) => {
                let msg = e.to_string();
                let file = path.file_name().unwrap().to_string_lossy().to_string();
                if !msg.contains(&file) || !msg.contains(text) {
                    problems.push(format!(
                        "{rel}: error `{msg}` should name the file and say `{text}`"
                    ));
                }
            }
        }
    }
    for (name, _) in TABLE {
        if !root.join(name).exists() {
            problems.push(format!("{name}: in the table but not in the corpus"));
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// World positions agree within what `f32` relative storage allows.
fn close(a: f64, b: f64, local: f32) -> bool {
    (a - b).abs() <= 1e-6 + f64::from(local.abs()) * 1.2e-7 + b.abs() * 1e-15
}

#[test]
fn las_and_laz_decoding_agrees_with_the_las_crate() {
    let Some(root) = corpus() else { return };
    let mut checked = 0;
    for (rel, expect) in TABLE {
        let is_las = rel.ends_with(".las") || rel.ends_with(".laz");
        // laz-rs panics on the point-wise LASzip file; it is checked against simple.las below.
        if !is_las || matches!(expect, Fails(_)) || rel.contains("compressor-version-1.2r0") {
            continue;
        }
        let path = root.join(rel);
        let ours = PointCloud::load_with(&path, &LoadOptions::all()).unwrap().cloud;
        let mut reader = ::las::Reader::from_path(&path).unwrap();
        let theirs = reader.read_all().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{rel}");
        let (xs, ys, zs): (Vec<f64>, Vec<f64>, Vec<f64>) =
            (theirs.x().collect(), theirs.y().collect(), theirs.z().collect());
        for i in 0..ours.len() {
            let w = ours.world_position(i).unwrap();
            let p = ours.positions[i];
            assert!(
                close(w[0], xs[i], p[0]) && close(w[1], ys[i], p[1]) && close(w[2], zs[i], p[2]),
                "{rel} point {i}: ours {w:?}, las crate {:?}",
                [xs[i], ys[i], zs[i]]
            );
        }
        assert_eq!(
            ours.intensity.as_ref().unwrap(),
            &theirs.intensity().collect::<Vec<_>>(),
            "{rel}"
        );
        assert_eq!(
            ours.classification.as_ref().unwrap(),
            &theirs.classification().collect::<Vec<_>>(),
            "{rel}"
        );
        assert_eq!(
            ours.return_number.as_ref().unwrap(),
            &theirs.return_number().collect::<Vec<_>>(),
            "{rel}"
        );
        assert_eq!(
            ours.user_data.as_ref().unwrap(),
            &theirs.user_data().collect::<Vec<_>>(),
            "{rel}"
        );
        match theirs.gps_time() {
            Some(t) => {
                let t: Vec<f64> = t.collect();
                let o = ours.gps_time.as_ref().expect(rel);
                assert!(
                    o.iter().zip(&t).all(|(a, b)| a == b || (a.is_nan() && b.is_nan())),
                    "{rel}: gps time"
                );
            }
            None => assert!(ours.gps_time.is_none(), "{rel}"),
        }
        match theirs.rgb() {
            Some(rgb) => assert_eq!(
                ours.rgb.as_ref().expect(rel),
                &rgb.map(|(r, g, b)| [r, g, b]).collect::<Vec<_>>(),
                "{rel}"
            ),
            None => assert!(ours.rgb.is_none(), "{rel}"),
        }
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} files cross-checked");
}

fn world(c: &PointCloud) -> Vec<[f64; 3]> {
    (0..c.len()).map(|i| c.world_position(i).unwrap()).collect()
}

fn assert_same_points(a: &PointCloud, b: &PointCloud, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    if a.origin == b.origin {
        assert_eq!(a.positions, b.positions, "{what}");
    } else {
        for (i, (p, q)) in world(a).iter().zip(world(b)).enumerate() {
            assert!((0..3).all(|k| (p[k] - q[k]).abs() < 1e-3), "{what} point {i}: {p:?} {q:?}");
        }
    }
    assert_eq!(a.intensity, b.intensity, "{what}");
    assert_eq!(a.classification, b.classification, "{what}");
    assert_eq!(a.return_number, b.return_number, "{what}");
    assert_eq!(a.rgb, b.rgb, "{what}");
    assert_eq!(a.user_data, b.user_data, "{what}");
    let same_time = match (&a.gps_time, &b.gps_time) {
        (Some(x), Some(y)) => x.iter().zip(y).all(|(p, q)| p == q || (p.is_nan() && q.is_nan())),
        (x, y) => x.is_none() && y.is_none(),
    };
    assert!(same_time, "{what}: gps time");
}

#[test]
fn las_and_laz_twins_decode_to_the_same_points() {
    let Some(root) = corpus() else { return };
    let mut twins: Vec<(String, String)> = vec![
        ("laspy/simple.las".into(), "laspy/simple.laz".into()),
        ("laspy/simple.las".into(), "pdal/simple-laszip-compressor-version-1.2r0.laz".into()),
        ("laspy/1_4_w_evlr.las".into(), "laspy/1_4_w_evlr.laz".into()),
        ("laz-perf/point10-1.0.las".into(), "laz-perf/point10-1.0.laz".into()),
        ("laz-perf/no-points-1.3.las".into(), "laz-perf/no-points-1.3.laz".into()),
    ];
    for f in 0..=8 {
        twins.push((
            format!("pasture/10_points_format_{f}.las"),
            format!("pasture/10_points_format_{f}.laz"),
        ));
    }
    for (a, b) in &twins {
        let load = |rel: &str| PointCloud::load_with(root.join(rel), &LoadOptions::all()).unwrap();
        let (la, lb) = (load(a), load(b));
        assert_eq!(la.report.format, CloudFormat::Las, "{a}");
        assert_eq!(lb.report.format, CloudFormat::Laz, "{b}");
        assert_same_points(&la.cloud, &lb.cloud, &format!("{a} vs {b}"));
    }
}

#[test]
fn simple_las_known_values_stats_and_memory() {
    let Some(root) = corpus() else { return };
    let path = root.join("laspy/simple.las");
    let header = las::read_header_path(&path).unwrap();
    assert_eq!((header.version, header.point_format, header.record_len), ((1, 2), 3, 34));
    let loaded = PointCloud::load_with(&path, &LoadOptions::default()).unwrap();
    let c = &loaded.cloud;
    // The default view set: 16 bytes a point, no RGB/GPS/user data kept.
    assert_eq!(Attributes::of(c), Attributes::VIEW);
    assert_eq!(c.bytes_per_point(), 16);
    assert!(c.rgb.is_none() && c.gps_time.is_none() && c.user_data.is_none());
    assert!(loaded.report.available.rgb && loaded.report.available.gps_time);
    // The first record, read by hand from the file: X Y Z as i32 at the point data offset.
    let bytes = std::fs::read(&path).unwrap();
    let at = header.offset_to_point_data as usize;
    let raw = |k: usize| i32::from_le_bytes(bytes[at + 4 * k..at + 4 * k + 4].try_into().unwrap());
    let first = c.world_position(0).unwrap();
    for (k, &got) in first.iter().enumerate() {
        let expected = f64::from(raw(k)) * header.scale[k] + header.offset[k];
        assert!((got - expected).abs() < 1e-4, "axis {k}: {got} vs {expected}");
        assert!(header.min[k] - 1e-6 <= got && got <= header.max[k] + 1e-6);
    }
    // Stats from the points match the header bounds (which this writer got right).
    let stats = loaded.stats();
    let bounds = stats.bounds.unwrap();
    for k in 0..3 {
        assert!((bounds.min[k] - header.min[k]).abs() < 1e-3, "min {k}");
        assert!((bounds.max[k] - header.max[k]).abs() < 1e-3, "max {k}");
    }
    assert_eq!(stats.points, 1065);
    assert_eq!(stats.classification_histogram.values().sum::<u64>(), 1065);
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(json["format"], "las");
    assert_eq!(json["bytes_per_point"], 16);
}

#[test]
fn organized_pcd_with_nan_points_reports_what_it_dropped() {
    let Some(root) = corpus() else { return };
    let loaded = PointCloud::load_with(
        root.join("pcl/table_scene_mug_stereo_textured.pcd"),
        &LoadOptions::all(),
    )
    .unwrap();
    assert_eq!(loaded.report.declared_points, Some(307_200));
    assert_eq!(loaded.report.dropped_non_finite, 307_200 - 209_280);
    assert!(loaded.cloud.rgb.is_some());
    let stats = loaded.stats();
    assert_eq!(stats.dropped_non_finite, 97_920);
    assert!(stats.notes.iter().any(|n| n.contains("97920")));
    // First finite point, from an independent reader.
    let p = loaded.cloud.world_position(0).unwrap();
    let expected = [-0.3819099962711334, -0.448199987411499, 2.0257999897003174];
    assert!((0..3).all(|k| (p[k] - expected[k]).abs() < 1e-6), "{p:?}");
}

#[test]
fn pcd_with_f8_utm_coordinates_keeps_precision() {
    let Some(root) = corpus() else { return };
    let c =
        PointCloud::load_with(root.join("pdal/autzen-utm.pcd"), &LoadOptions::all()).unwrap().cloud;
    let p = c.world_position(0).unwrap();
    let expected = [494428.61, 4877455.58, 131.57];
    assert!((0..3).all(|k| (p[k] - expected[k]).abs() < 1e-3), "{p:?}");
    assert!(c.origin[0] != 0.0 && c.origin[1] != 0.0);
    assert!(c.intensity.is_some() && c.classification.is_some() && c.gps_time.is_some());
    assert!(c.rgb.is_some() && c.return_number.is_some() && c.user_data.is_some());
}

#[test]
fn header_less_xyz_text_reads_as_ground_truth_text_xyz() {
    let Some(root) = corpus() else { return };
    let bytes = std::fs::read(root.join("pdal/missingheader.pcd")).unwrap();
    let loaded = PointCloud::load_bytes(
        &bytes,
        CloudFormat::Raw(RawFormat::TextXyz),
        "missingheader.pcd",
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(loaded.cloud.len(), 10);
    let p = loaded.cloud.world_position(0).unwrap();
    assert!((p[0] - 289814.15).abs() < 1e-3 && (p[2] - 170.76).abs() < 1e-3, "{p:?}");
    let xyz = PointCloud::load(root.join("pdal/data.xyz")).unwrap();
    assert_eq!(xyz.world_position(0).unwrap(), [440750.0, 3751290.0, 107.0]);
}

#[test]
fn laz_progressive_pieces_cover_the_file_in_order() {
    let Some(root) = corpus() else { return };
    let path = root.join("laspy/append-bug.laz");
    let full = PointCloud::load_with(&path, &LoadOptions::default()).unwrap().cloud;
    let chunks = las::chunks_path(&path, &LoadOptions::default()).unwrap();
    assert_eq!(chunks.header().point_count, 37805);
    let origin = chunks.origin();
    let mut joined = PointCloud::default();
    for piece in chunks {
        let piece = piece.unwrap();
        assert_eq!(piece.origin, origin);
        joined.append(piece);
    }
    assert_eq!(joined, full);
}

#[test]
fn damaged_corpus_files_never_panic() {
    let Some(root) = corpus() else { return };
    let files = [
        ("laspy/simple.las", CloudFormat::Las),
        ("laspy/simple.laz", CloudFormat::Laz),
        ("laspy/1_4_w_evlr.laz", CloudFormat::Laz),
        ("las-rs/autzen.copc.laz", CloudFormat::Laz),
        ("pdal/simple-laszip-compressor-version-1.2r0.laz", CloudFormat::Laz),
        ("pcl/car6.pcd", CloudFormat::Pcd),
        ("pcl/nhood_test.pcd", CloudFormat::Pcd),
        ("pcd-rs/binary.pcd", CloudFormat::Pcd),
        ("pdal/data.xyz", CloudFormat::Raw(RawFormat::TextXyz)),
    ];
    let mut rng = fastrand::Rng::with_seed(2024);
    let mut outcomes = [0usize; 2];
    for (rel, format) in files {
        let original = std::fs::read(root.join(rel)).unwrap();
        for round in 0..60 {
            let mut bytes = original.clone();
            match round % 3 {
                0 => bytes.truncate(rng.usize(0..bytes.len())),
                1 => {
                    for _ in 0..rng.usize(1..8) {
                        let at = rng.usize(0..bytes.len());
                        bytes[at] ^= 1 << rng.u8(0..8);
                    }
                }
                _ => {
                    // Damage the header region, where counts and offsets live.
                    let at = rng.usize(0..bytes.len().min(400));
                    bytes[at] = rng.u8(..);
                }
            }
            let result = catch_unwind(AssertUnwindSafe(|| {
                PointCloud::load_bytes(&bytes, format, rel, &LoadOptions::all())
            }));
            match result {
                Err(_) => panic!("{rel}: panicked on damaged input (round {round})"),
                Ok(Ok(_)) => outcomes[0] += 1,
                Ok(Err(e)) => {
                    assert!(e.to_string().contains(rel), "{rel}: {e}");
                    outcomes[1] += 1;
                }
            }
        }
    }
    assert!(outcomes[1] > 0, "no damaged file was rejected: {outcomes:?}");
}
