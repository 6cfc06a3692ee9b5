//! Conformance of the Ground Truth readers and writers against real AWS-published files
//! (`../shared/testdata/sagemaker-examples` and `sagemaker-dev-guide`, see its README), plus
//! bad-input behaviour.
//!
//! Every file in those two folders must be listed in [`CORPUS`] with the reader it needs, so a new
//! file fails loudly instead of being ignored. Valid files must read, and writing them back must
//! give an equal `serde_json::Value` line for line (up to the canonical spellings listed in
//! [`canonicalise`]). `*NOT-VALID-JSON*` files must fail with an error naming the file and line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use groundwork::formats::label_config::LabelCategoryConfig;
use groundwork::formats::manifest::{DataSource, InputManifest, ManifestLine, ManifestReader};
use groundwork::formats::output::seq_label::{SeqLabel, VideoSeqLabelKind};
use groundwork::formats::output::{Label, OutputLine, OutputManifest, TaskOutputType};
use groundwork::formats::sequence::{PointCloudFrameLine, PointCloudSequence, VideoSequence};
use groundwork::formats::worker_response::WorkerResponseFile;
use groundwork::formats::{FormatError, Index};
use serde_json::Value;

/// Which reader a corpus file needs.
#[derive(Debug, Clone, Copy)]
enum Reader {
    /// JSON Lines input manifest.
    InputManifest,
    /// JSON Lines input manifest whose lines are 3D single-frame lines (§3.2).
    PointCloudFrames,
    /// JSON Lines output manifest.
    OutputManifest,
    /// One output-manifest line, pretty-printed (developer-guide extracts).
    OutputLine,
    /// `SeqLabel.json` (any kind).
    SeqLabel,
    /// Video-frame sequence file.
    VideoSequence,
    /// Point-cloud sequence file.
    PointCloudSequence,
    /// Label category configuration.
    LabelConfig,
    /// Worker-response file.
    WorkerResponse,
}

/// Every file of the two folders, with its reader and, for invalid files, the 1-based line at
/// which the JSON breaks (as Python's `json` module also reports it).
const CORPUS: &[(&str, Reader, Option<usize>)] = &[
    ("sagemaker-examples/birds-bbox.output.manifest", Reader::OutputManifest, None),
    ("sagemaker-examples/birds-image-classification.output.manifest", Reader::OutputManifest, None),
    (
        "sagemaker-examples/classification-image-and-text.output.manifest",
        Reader::OutputManifest,
        None,
    ),
    ("sagemaker-examples/video-tracking.SeqLabel.json", Reader::SeqLabel, None),
    ("sagemaker-examples/worker-response.image-classification.json", Reader::WorkerResponse, None),
    ("sagemaker-dev-guide/3d-2d-object-tracking.SeqLabel.json", Reader::SeqLabel, None),
    ("sagemaker-dev-guide/input-point-cloud-frames.manifest", Reader::PointCloudFrames, None),
    ("sagemaker-dev-guide/input-point-cloud-sequences.manifest", Reader::InputManifest, None),
    ("sagemaker-dev-guide/input-video-frame-sequences.manifest", Reader::InputManifest, None),
    ("sagemaker-dev-guide/label-category-3d-2d-object-tracking.json", Reader::LabelConfig, None),
    ("sagemaker-dev-guide/output-3d-2d-object-tracking.json", Reader::OutputLine, None),
    ("sagemaker-dev-guide/output-bounding-box-adjustment.json", Reader::OutputLine, None),
    ("sagemaker-dev-guide/output-bounding-box.json", Reader::OutputLine, None),
    ("sagemaker-dev-guide/output-image-classification-multilabel.json", Reader::OutputLine, None),
    ("sagemaker-dev-guide/output-image-classification.json", Reader::OutputLine, None),
    ("sagemaker-dev-guide/output-label-verification.json", Reader::OutputLine, None),
    ("sagemaker-dev-guide/output-verification-worker-feedback.json", Reader::OutputLine, None),
    ("sagemaker-dev-guide/output-video-object-detection.json", Reader::OutputLine, None),
    ("sagemaker-dev-guide/output-video-object-tracking.json", Reader::OutputLine, None),
    ("sagemaker-dev-guide/video-frame-sequence.seq1.json", Reader::VideoSequence, None),
    (
        "sagemaker-dev-guide/3d-point-cloud-object-tracking.SeqLabel.NOT-VALID-JSON.txt",
        Reader::SeqLabel,
        Some(6),
    ),
    (
        "sagemaker-dev-guide/label-category-3d-point-cloud-od-ot.NOT-VALID-JSON.txt",
        Reader::LabelConfig,
        Some(16),
    ),
    (
        "sagemaker-dev-guide/label-category-video-frame.NOT-VALID-JSON.txt",
        Reader::LabelConfig,
        Some(15),
    ),
    (
        "sagemaker-dev-guide/output-3d-point-cloud-object-detection.NOT-VALID-JSON.txt",
        Reader::OutputLine,
        Some(95),
    ),
    (
        "sagemaker-dev-guide/output-3d-point-cloud-object-tracking.NOT-VALID-JSON.txt",
        Reader::OutputLine,
        Some(15),
    ),
    (
        "sagemaker-dev-guide/output-3d-point-cloud-semantic-segmentation.NOT-VALID-JSON.txt",
        Reader::OutputLine,
        Some(6),
    ),
    (
        "sagemaker-dev-guide/output-semantic-segmentation-adjustment.NOT-VALID-JSON.txt",
        Reader::OutputLine,
        Some(26),
    ),
    (
        "sagemaker-dev-guide/output-semantic-segmentation.NOT-VALID-JSON.txt",
        Reader::OutputLine,
        Some(26),
    ),
    (
        "sagemaker-dev-guide/point-cloud-sequence.seq1.NOT-VALID-JSON.txt",
        Reader::PointCloudSequence,
        Some(58),
    ),
    (
        "sagemaker-dev-guide/video-object-detection.SeqLabel.NOT-VALID-JSON.txt",
        Reader::SeqLabel,
        Some(24),
    ),
    (
        "sagemaker-dev-guide/video-object-tracking.SeqLabel.NOT-VALID-JSON.txt",
        Reader::SeqLabel,
        Some(52),
    ),
];

/// The documented canonical spellings a writer emits in place of what a file had (spec §4.3:
/// `document-version: 2020-03-01` is read, `documentVersion` written).
fn canonicalise(relative: &str, mut value: Value) -> Value {
    if relative == "sagemaker-dev-guide/label-category-3d-2d-object-tracking.json"
        && let Some(map) = value.as_object_mut()
        && let Some(version) = map.shift_remove("document-version")
    {
        map.insert("documentVersion".into(), version);
    }
    value
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// One (as read, as written) pair for a whole-document file.
fn document(text: &str, written: Value) -> Vec<(Value, Value)> {
    vec![(parse_json(text), written)]
}

/// `text` parsed the way serde_json parses it. Without serde_json's `float_roundtrip` feature its
/// float parser may land one ulp away from the correctly rounded value a Rust literal gives.
fn json_f64(text: &str) -> f64 {
    serde_json::from_str(text).unwrap()
}

/// Reads one file with `reader` and returns (value as read, value as written back) pairs, one
/// per record (line for JSON Lines, one for whole documents).
fn read_and_write(
    reader: Reader,
    text: &str,
    file: &str,
) -> Result<Vec<(Value, Value)>, FormatError> {
    let lines = || text.lines().filter(|l| !l.trim().is_empty()).map(parse_json);
    Ok(match reader {
        Reader::InputManifest => {
            let parsed = InputManifest::parse(text, file)?;
            lines().zip(parsed.iter().map(ManifestLine::to_value)).collect()
        }
        Reader::PointCloudFrames => {
            let mut out = Vec::new();
            for (i, (line, original)) in
                InputManifest::parse(text, file)?.iter().zip(lines()).enumerate()
            {
                let frame = PointCloudFrameLine::from_manifest_line(line, file, Some(i + 1))?;
                assert!(frame.check(file, Some(i + 1)).is_empty(), "{file}:{}: findings", i + 1);
                out.push((original, frame.to_value()));
            }
            out
        }
        Reader::OutputManifest => {
            let parsed = OutputManifest::parse(text, file)?;
            assert_eq!(
                OutputManifest::parse(&OutputManifest::to_jsonl(&parsed), "rewritten").unwrap(),
                parsed
            );
            lines().zip(parsed.iter().map(OutputLine::to_value)).collect()
        }
        // The library reader runs first, so invalid documents fail through its error.
        Reader::OutputLine => document(text, OutputLine::parse_document(text, file)?.to_value()),
        Reader::SeqLabel => document(text, SeqLabel::parse(text, file)?.to_value()),
        Reader::VideoSequence => document(text, VideoSequence::parse(text, file)?.to_value()),
        Reader::PointCloudSequence => {
            document(text, PointCloudSequence::parse(text, file)?.to_value())
        }
        Reader::LabelConfig => document(text, LabelCategoryConfig::parse(text, file)?.to_value()),
        Reader::WorkerResponse => document(text, WorkerResponseFile::parse(text, file)?.to_value()),
    })
}

#[test]
fn corpus_files_read_and_write_back_equal() {
    let Some(root) = support::testdata_dir() else {
        eprintln!("SKIPPED corpus_files_read_and_write_back_equal: no conformance corpus");
        return;
    };
    let mut on_disk = BTreeSet::new();
    for folder in ["sagemaker-examples", "sagemaker-dev-guide"] {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            on_disk.insert(format!("{folder}/{name}"));
        }
    }
    let listed: BTreeSet<String> = CORPUS.iter().map(|(p, _, _)| (*p).to_owned()).collect();
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    assert!(unlisted.is_empty(), "corpus files without a reader in CORPUS: {unlisted:?}");
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    assert!(missing.is_empty(), "CORPUS lists files that are not on disk: {missing:?}");

    let mut records = 0;
    for (relative, reader, bad_line) in CORPUS {
        let path = root.join(relative);
        let file = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(relative.contains("NOT-VALID-JSON"), bad_line.is_some(), "{relative}");
        match (read_and_write(*reader, &text, &file), bad_line) {
            (Ok(pairs), None) => {
                assert!(!pairs.is_empty(), "{relative}: no records");
                for (i, (original, written)) in pairs.into_iter().enumerate() {
                    assert_eq!(
                        written,
                        canonicalise(relative, original),
                        "{relative}: record {}",
                        i + 1
                    );
                    records += 1;
                }
            }
            (Err(e), Some(line)) => {
                let message = e.to_string();
                let prefix = format!("{file}:{line}: ");
                assert!(
                    message.starts_with(&prefix),
                    "{relative}: {message:?} should start with {prefix:?}"
                );
            }
            (Ok(_), Some(_)) => panic!("{relative}: invalid JSON was accepted"),
            (Err(e), None) => panic!("{relative}: {e}"),
        }
    }
    // 100 + 302 + 2 output lines, 2 + 2 + 2 input lines, 14 whole documents.
    assert_eq!(records, 424);
}

fn corpus_text(relative: &str) -> Option<(String, String)> {
    let root = support::testdata_dir()?;
    let path = root.join(relative);
    Some((std::fs::read_to_string(&path).unwrap(), path.display().to_string()))
}

#[test]
fn corpus_content_is_typed_as_expected() {
    let Some((text, file)) = corpus_text("sagemaker-examples/birds-bbox.output.manifest") else {
        eprintln!("SKIPPED corpus_content_is_typed_as_expected: no conformance corpus");
        return;
    };
    let lines = OutputManifest::parse(&text, &file).unwrap();
    assert_eq!(lines.len(), 100);
    let mut boxes = 0;
    for line in &lines {
        let pair = line.label_pair("category").unwrap();
        assert_eq!(pair.metadata.task_type, Some(TaskOutputType::ObjectDetection));
        assert_eq!(
            pair.metadata.job_name_without_prefix(),
            Some("ground-truth-od-demo-1662974840")
        );
        assert!(pair.metadata.creation_date_ms().unwrap().is_some());
        let Some(Label::BoundingBoxes(b)) = &pair.label else { panic!("{:?}", pair.label) };
        assert_eq!(b.annotations.len(), pair.metadata.objects.as_ref().unwrap().len());
        boxes += b.annotations.len();
    }
    assert!(boxes > 100, "{boxes}");

    let (text, file) =
        corpus_text("sagemaker-examples/birds-image-classification.output.manifest").unwrap();
    let lines = OutputManifest::parse(&text, &file).unwrap();
    assert_eq!(lines.len(), 302);
    let first = lines[0].label_pair("birds-open-images-clone").unwrap();
    assert_eq!(first.label, Some(Label::Class(Index::number(9))));
    assert_eq!(first.metadata.class_name.as_deref(), Some("Canary"));

    let (text, file) =
        corpus_text("sagemaker-examples/classification-image-and-text.output.manifest").unwrap();
    let lines = OutputManifest::parse(&text, &file).unwrap();
    assert!(matches!(lines[0].source, DataSource::SourceRef(_)));
    assert_eq!(lines[1].source, DataSource::Source("The food was delicious".into()));
    assert_eq!(lines[1].label_pair("mood").unwrap().label, Some(Label::Class(Index::string(1))));

    let (text, file) = corpus_text("sagemaker-examples/video-tracking.SeqLabel.json").unwrap();
    let SeqLabel::Video(video) = SeqLabel::parse(&text, &file).unwrap() else {
        panic!("not video")
    };
    assert_eq!(video.kind, VideoSeqLabelKind::Tracking);
    assert_eq!(video.frames.len(), 300);
    assert_eq!(video.frames[0].frame_no, Index::string(0));

    let (text, file) =
        corpus_text("sagemaker-dev-guide/3d-2d-object-tracking.SeqLabel.json").unwrap();
    let SeqLabel::SensorFusion(fused) = SeqLabel::parse(&text, &file).unwrap() else {
        panic!("not 3D-2D")
    };
    assert_eq!(fused.lidar.frames.len(), 3);
    assert_eq!(fused.cameras.len(), 1);
    let linked = &fused.cameras[0].1.frames[1].boxes.as_ref().unwrap()[0];
    assert!(fused.lidar.frames[1].annotations.iter().any(|c| c.object_id == linked.info.object_id));

    let (text, file) =
        corpus_text("sagemaker-dev-guide/input-point-cloud-frames.manifest").unwrap();
    let line = ManifestReader::new(text.as_bytes(), file.clone()).next().unwrap().unwrap();
    let frame = PointCloudFrameLine::from_manifest_line(&line, &file, Some(1)).unwrap();
    let camera = &frame.metadata.images.as_ref().unwrap()[0];
    assert_eq!(camera.fx, json_f64("847.7962624528487"));
    assert_eq!(camera.k1, Some(0.0));
    assert_eq!(
        frame.metadata.ego_vehicle_pose.as_ref().unwrap().heading.qw,
        json_f64("0.9997181192298087")
    );

    let (text, file) = corpus_text("sagemaker-dev-guide/video-frame-sequence.seq1.json").unwrap();
    let seq = VideoSequence::parse(&text, &file).unwrap();
    assert!(seq.check(&file).is_empty());
    assert_eq!(seq.frames[2].frame, "frame0003.jpg");

    let (text, file) =
        corpus_text("sagemaker-examples/worker-response.image-classification.json").unwrap();
    let responses = WorkerResponseFile::parse(&text, &file).unwrap();
    assert_eq!(responses.answers.len(), 5);
    assert_eq!(responses.answers[0].submission_ms().unwrap(), Some(1_555_603_875_000));

    let (text, file) =
        corpus_text("sagemaker-dev-guide/label-category-3d-2d-object-tracking.json").unwrap();
    let config = LabelCategoryConfig::parse(&text, &file).unwrap();
    assert_eq!(config.label_names(), vec!["Car", "Bus"]);
    assert_eq!(config.category_global_attributes.as_ref().unwrap()[0].name, "Occlusion");
}

// ---- bad input -------------------------------------------------------------------------------

fn input_error(text: &str) -> String {
    InputManifest::parse(text, "bad.manifest").unwrap_err().to_string()
}

#[test]
fn malformed_json_names_file_and_line() {
    let e = input_error("{\"source\": \"a\"}\n{\"source\": \"b\",}\n");
    assert!(e.starts_with("bad.manifest:2: invalid JSON at column"), "{e}");
    let e = OutputManifest::parse("{\"source-ref\": \"s3://b/k\"\n", "out.manifest")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("out.manifest:1: invalid JSON"), "{e}");
    let e = LabelCategoryConfig::parse(
        "{\n  \"labels\": [\n    {\"label\": 'car'}\n  ]\n}",
        "labels.json",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("labels.json:3: invalid JSON"), "{e}");
}

#[test]
fn wrong_field_types_name_the_field() {
    assert_eq!(
        input_error("{\"source-ref\": [\"s3://b/k\"]}"),
        "bad.manifest:1: field `source-ref`: expected a string, found an array"
    );
    let e = OutputManifest::parse(
        "{\"source-ref\": \"s3://b/k\", \"boxes\": {\"annotations\": [{\"class_id\": 0, \"left\": 1, \"top\": 2, \"width\": true, \"height\": 4}]}, \"boxes-metadata\": {\"type\": \"groundtruth/object-detection\"}}",
        "out.manifest",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "out.manifest:1: field `boxes.annotations[0].width`: expected a number, found a boolean"
    );
    let e = VideoSequence::parse(
        "{\"seq-no\": 1, \"prefix\": \"s3://b/p/\", \"number-of-frames\": \"two\", \"frames\": []}",
        "seq.json",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "seq.json: field `number-of-frames`: expected a non-negative integer or numeric string, found the string \"two\""
    );
}

#[test]
fn a_200000_character_line_is_an_error_naming_the_line() {
    let long = format!("{{\"source\": \"{}\"}}", "x".repeat(200_000));
    let text = format!("{{\"source\": \"ok\"}}\n{long}\n");
    let e = input_error(&text);
    assert!(e.starts_with("bad.manifest:2: ") && e.contains("100000"), "{e}");
    // The streaming reader reports it and carries on with the next line.
    let results: Vec<_> =
        ManifestReader::new(format!("{long}\n{{\"source\": \"after\"}}\n").as_bytes(), "s")
            .collect();
    assert!(results[0].is_err());
    assert_eq!(results[1].as_ref().unwrap().source, DataSource::Source("after".into()));
    let e = OutputManifest::parse(&long, "out.manifest").unwrap_err().to_string();
    assert!(e.starts_with("out.manifest:1: "), "{e}");
}

#[test]
fn missing_source_and_both_sources_are_errors() {
    let e = input_error("{\"source\": \"a\"}\n{\"label\": 1}\n");
    assert!(
        e.starts_with("bad.manifest:2: ") && e.contains("neither `source-ref` nor `source`"),
        "{e}"
    );
    let e = input_error("{\"source\": \"a\", \"source-ref\": \"s3://b/k\"}");
    assert!(e.starts_with("bad.manifest:1: field `source-ref`: ") && e.contains("both"), "{e}");
    let e = OutputManifest::parse(
        "{\"x-metadata\": {\"type\": \"groundtruth/text-classification\"}}",
        "o",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("neither"), "{e}");
}

#[test]
fn corpus_path_helper_is_consistent() {
    // Every CORPUS entry is a relative path inside one of the two folders.
    for (p, _, _) in CORPUS {
        let path = Path::new(p);
        assert!(
            path.starts_with("sagemaker-examples") || path.starts_with("sagemaker-dev-guide"),
            "{p}"
        );
    }
}
