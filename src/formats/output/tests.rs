#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use serde_json::json;

/// Parses `line`, checks that writing it back gives the same JSON value, and returns it.
fn round_trip(line: &Value) -> OutputLine {
    let parsed = OutputLine::parse_line(&line.to_string(), "out.manifest", 1).unwrap();
    assert_eq!(parsed.to_value(), *line, "round trip changed the line");
    parsed
}

fn only_pair(line: &OutputLine) -> &LabelPair {
    let pairs: Vec<_> = line.label_pairs().collect();
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    pairs[0]
}

#[test]
fn image_classification_single_label() {
    let v = json!({"source-ref": "s3://example-bucket/img/0001.jpg", "species": 0, "species-metadata": {"class-name": "dog", "confidence": 0.87, "type": "groundtruth/image-classification", "job-name": "identify-species", "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000"}});
    let line = round_trip(&v);
    let pair = only_pair(&line);
    assert_eq!(pair.label, Some(Label::Class(Index::number(0))));
    let m = &pair.metadata;
    assert_eq!(m.task_type, Some(TaskOutputType::ImageClassification));
    assert_eq!(m.class_name.as_deref(), Some("dog"));
    assert_eq!(m.confidence, Some(0.87));
    assert_eq!(m.human_annotated, Some(HumanAnnotated::Yes));
    assert_eq!(m.creation_date_ms().unwrap(), Some(1_675_245_600_000));
    // The class index as a numeric string is kept a string.
    let mut s = v.clone();
    s["species"] = json!("0");
    assert_eq!(only_pair(&round_trip(&s)).label, Some(Label::Class(Index::string(0))));
}

#[test]
fn multi_label_image_and_text() {
    let v = json!({"source-ref": "s3://example-bucket/img/0002.jpg", "tags": [1, 0, 8], "tags-metadata": {"job-name": "labeling-job/tags", "class-map": {"1": "bicycle", "0": "person", "8": "clothing"}, "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000", "confidence-map": {"1": 0.95, "0": 0.77, "8": 0.2}, "type": "groundtruth/image-classification-multilabel"}});
    let line = round_trip(&v);
    let pair = only_pair(&line);
    assert_eq!(
        pair.label,
        Some(Label::MultiClass(vec![Index::number(1), Index::number(0), Index::number(8)]))
    );
    assert_eq!(pair.metadata.class_label(8), Some("clothing"));
    assert_eq!(pair.metadata.confidence_map.as_ref().unwrap()[&0], 0.77);
    assert_eq!(pair.metadata.job_name.as_deref(), Some("labeling-job/tags"));
    assert_eq!(pair.metadata.job_name_without_prefix(), Some("tags"));
    let t = json!({"source": "Great food, slow service", "aspects": [0, 2], "aspects-metadata": {"job-name": "aspects", "class-map": {"0": "food", "2": "service"}, "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000", "confidence-map": {"0": 0.9, "2": 0.6}, "type": "groundtruth/text-classification-multilabel"}});
    let line = round_trip(&t);
    assert_eq!(line.source, DataSource::Source("Great food, slow service".into()));
    assert_eq!(
        only_pair(&line).metadata.task_type,
        Some(TaskOutputType::TextClassificationMultilabel)
    );
}

#[test]
fn text_classification_single_label() {
    let v = json!({"source": "The food was delicious", "mood": 1, "mood-metadata": {"class-name": "positive", "confidence": 0.8, "type": "groundtruth/text-classification", "job-name": "label-sentiment", "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000"}});
    let line = round_trip(&v);
    assert_eq!(only_pair(&line).label, Some(Label::Class(Index::number(1))));
}

#[test]
fn video_clip_classification_is_recognised_by_shape() {
    // The type string is undocumented (§5.6): an unknown type with a class index + class-name.
    let v = json!({"source-ref": "s3://b/clip.mp4", "activity": 2, "activity-metadata": {"class-name": "running", "confidence": 0.5, "type": "groundtruth/video-clip-classification", "job-name": "clips", "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000"}});
    let line = round_trip(&v);
    let pair = only_pair(&line);
    assert_eq!(pair.label, Some(Label::Class(Index::number(2))));
    assert_eq!(
        pair.metadata.task_type,
        Some(TaskOutputType::Other("groundtruth/video-clip-classification".into()))
    );
    let guessed = json!({"source-ref": "s3://b/clip.mp4", "activity": "1", "activity-metadata": {"class-name": "walking", "confidence": 0.0, "type": "groundtruth/video-classification"}});
    assert_eq!(only_pair(&round_trip(&guessed)).label, Some(Label::Class(Index::string(1))));
}

#[test]
fn bounding_boxes_and_adjustment() {
    let v = json!({"source-ref": "s3://example-bucket/img/0003.png", "boxes": {"image_size": [{"width": 500, "height": 400, "depth": 3}], "annotations": [{"class_id": 0, "left": 111, "top": 134, "width": 61, "height": 128}, {"class_id": 5, "left": 161.5, "top": 250, "width": 30, "height": 30}]}, "boxes-metadata": {"objects": [{"confidence": 0.8}, {"confidence": 0.9}], "class-map": {"0": "dog", "5": "bone"}, "type": "groundtruth/object-detection", "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000", "job-name": "identify-dogs-and-toys"},
        "adjusted-boxes": {"image_size": [{"width": 500, "height": 400, "depth": 3}], "annotations": [{"class_id": 0, "left": 110, "top": 135, "width": 61, "height": 128}]}, "adjusted-boxes-metadata": {"objects": [{"confidence": 0.8}], "class-map": {"0": "dog"}, "type": "groundtruth/object-detection", "human-annotated": "yes", "creation-date": "2023-02-02T10:00:00.000000", "job-name": "adjust-boxes", "adjustment-status": "adjusted"}});
    let line = round_trip(&v);
    let pairs: Vec<_> = line.label_pairs().collect();
    assert_eq!(pairs.len(), 2);
    let Some(Label::BoundingBoxes(b)) = &pairs[0].label else { panic!("{:?}", pairs[0].label) };
    assert_eq!(b.image_size.as_ref().unwrap()[0].depth, Some(3.0));
    assert_eq!(b.annotations[1].left, 161.5);
    assert_eq!(b.annotations[1].class_id, Index::number(5));
    assert_eq!(
        pairs[0].metadata.objects.as_ref().unwrap()[1].confidence,
        Some(ObjectConfidence::Score(0.9))
    );
    assert_eq!(pairs[1].attribute, "adjusted-boxes");
    assert_eq!(pairs[1].metadata.adjustment_status, Some(AdjustmentStatus::Adjusted));
}

#[test]
fn label_verification_with_worker_feedback() {
    let v = json!({"source-ref": "s3://example-bucket/img/0003.png", "verify-boxes": "1", "verify-boxes-metadata": {"class-name": "bad", "confidence": 0.93, "type": "groundtruth/label-verification", "job-name": "verify-boxes", "human-annotated": "yes", "creation-date": "2023-02-02T10:00:00.000000", "worker-feedback": [{"comment": "Box is too wide on the right."}]}});
    let line = round_trip(&v);
    let pair = only_pair(&line);
    assert_eq!(pair.label, Some(Label::Class(Index::string(1))));
    assert_eq!(
        pair.metadata.worker_feedback.as_ref().unwrap()[0].comment,
        "Box is too wide on the right."
    );
}

#[test]
fn image_semantic_segmentation() {
    let v = json!({"source-ref": "s3://example-bucket/img/street.png", "city-ref": "s3://example-bucket/out/city-job/annotations/consolidated-annotation/output/0_2023-02-01T10:00:00.png", "city-ref-metadata": {"internal-color-map": {"0": {"class-name": "BACKGROUND", "confidence": 0.9, "hex-color": "#ffffff"}, "1": {"class-name": "buildings", "confidence": 0.9, "hex-color": "#2acf59"}, "2": {"class-name": "road", "confidence": 0.9, "hex-color": "#f28333"}}, "type": "groundtruth/semantic-segmentation", "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000", "job-name": "label-city-streets"}});
    let line = round_trip(&v);
    let pair = only_pair(&line);
    assert!(matches!(&pair.label, Some(Label::Ref(uri)) if uri.ends_with(".png")));
    let map = pair.metadata.internal_color_map.as_ref().unwrap();
    assert_eq!(map[&1].hex_color.as_deref(), Some("#2acf59"));
    assert_eq!(map[&0].class_name.as_deref(), Some("BACKGROUND"));
}

#[test]
fn named_entity_recognition() {
    let v = json!({"source": "Amazon SageMaker launched in November 2017.", "ner": {"annotations": {"labels": [{"label": "Date", "shortDisplayName": "dt"}, {"label": "Thing", "shortDisplayName": "tng"}], "entities": [{"label": "Thing", "startOffset": 0, "endOffset": 16}, {"label": "Date", "startOffset": 29, "endOffset": 42}]}}, "ner-metadata": {"job-name": "labeling-job/ner", "type": "groundtruth/text-span", "creation-date": "2023-02-01T10:00:00.000000", "human-annotated": "yes", "entities": [{"confidence": 0.0}, {"confidence": 0.0}]}});
    let line = round_trip(&v);
    let pair = only_pair(&line);
    let Some(Label::Entities(e)) = &pair.label else { panic!("{:?}", pair.label) };
    assert_eq!((e.entities[1].start_offset, e.entities[1].end_offset), (29, 42));
    assert_eq!(e.labels.as_ref().unwrap()[0].short_display_name.as_deref(), Some("dt"));
    assert_eq!(pair.metadata.entities.as_ref().unwrap().len(), 2);
}

#[test]
fn video_frame_detection_and_tracking() {
    for (t, expected) in [
        ("groundtruth/video-object-tracking", TaskOutputType::VideoObjectTracking),
        ("groundtruth/video-object-detection", TaskOutputType::VideoObjectDetection),
    ] {
        let v = json!({"source-ref": "s3://example-bucket/video-frames/seq1.json", "cars-ref": "s3://example-bucket/out/cars/annotations/consolidated-annotation/output/0/SeqLabel.json", "cars-ref-metadata": {"class-map": {"0": "car", "1": "bus"}, "job-name": "labeling-job/cars", "human-annotated": "yes", "creation-date": "2021-09-29T05:50:35.566000", "type": t}});
        let line = round_trip(&v);
        let pair = only_pair(&line);
        assert_eq!(pair.metadata.task_type, Some(expected));
        assert!(matches!(&pair.label, Some(Label::Ref(uri)) if uri.ends_with("SeqLabel.json")));
    }
}

#[test]
fn point_cloud_detection_inline_cuboids_and_class_map_underscore() {
    let v = json!({"source-ref": "s3://example-bucket/lidar/frame1.txt", "source-ref-metadata": {"format": "text/xyzi", "unix-timestamp": 1566861644.759115}, "cuboids": {"annotations": [{"label-category-attributes": {"Occlusion": "Partial", "Type": "Sedan"}, "object-name": "Car:1", "class-id": 0, "center-x": -2.616, "center-y": 125.041, "center-z": 0.311, "length": 2.993, "width": 1.836, "height": 1.323, "roll": 0, "pitch": 0, "yaw": 1.648}]}, "cuboids-metadata": {"objects": [], "class-map": {"0": "Car"}, "type": "groundtruth/point_cloud_object_detection", "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000", "job-name": "identify-3d-objects", "adjustment-status": "adjusted", "dataset-object-attributes": {"weather": "rain"}}});
    let line = round_trip(&v);
    // `source-ref-metadata` is input data, not a label pair.
    assert!(line.plain("source-ref-metadata").is_some());
    let pair = only_pair(&line);
    let Some(Label::Cuboids(c)) = &pair.label else { panic!("{:?}", pair.label) };
    assert_eq!(c.annotations[0].yaw, 1.648);
    assert_eq!(c.annotations[0].object_name.as_deref(), Some("Car:1"));
    assert_eq!(pair.metadata.dataset_object_attributes.as_ref().unwrap()["weather"], json!("rain"));
    // AWS's 3D detection example spells `class_map`: read it, write `class-map`.
    let mut misspelt = v.clone();
    let meta = misspelt["cuboids-metadata"].as_object_mut().unwrap();
    let map = meta.shift_remove("class-map").unwrap();
    meta.insert("class_map".into(), map);
    let line = OutputLine::parse_line(&misspelt.to_string(), "o", 1).unwrap();
    assert_eq!(only_pair(&line).metadata.class_label(0), Some("Car"));
    assert_eq!(line.to_value(), v);
}

#[test]
fn point_cloud_tracking_and_semantic_segmentation() {
    let v = json!({"source-ref": "s3://example-bucket/sequences/seq1.json", "track-ref": "s3://example-bucket/out/track/annotations/consolidated-annotation/output/0/SeqLabel.json", "track-ref-metadata": {"objects": [{"frame-no": 300, "confidence": []}, {"frame-no": 301, "confidence": []}], "class-map": {"0": "Car", "1": "Person"}, "type": "groundtruth/point_cloud_object_tracking", "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000", "job-name": "identify-3d-objects", "adjustment-status": "adjusted"}});
    let line = round_trip(&v);
    let objects = only_pair(&line).metadata.objects.clone().unwrap();
    assert_eq!(objects[1].frame_no, Some(Index::number(301)));
    assert_eq!(objects[1].confidence, Some(ObjectConfidence::List(vec![])));
    let s = json!({"source-ref": "s3://example-bucket/lidar/frame1.bin", "source-ref-metadata": {"format": "binary/xyzi", "unix-timestamp": 1566861644.759115}, "seg-ref": "s3://example-bucket/out/seg/annotations/consolidated-annotation/output/0/frame1.zlib", "seg-ref-metadata": {"color-map": {"0": {"class-name": "Background", "hex-color": "#ffffff", "confidence": 0.0}, "1": {"class-name": "Car", "hex-color": "#2ca02c", "confidence": 0.0}}, "type": "groundtruth/point_cloud_single_frame_semantic_segmentation", "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000", "job-name": "seg", "adjustment-status": "adjusted", "dataset-object-attributes": {"weather": "clear"}}});
    let line = round_trip(&s);
    let pair = only_pair(&line);
    assert_eq!(pair.metadata.color_map.as_ref().unwrap()[&1].class_name.as_deref(), Some("Car"));
    assert!(matches!(&pair.label, Some(Label::Ref(u)) if u.ends_with(".zlib")));
}

#[test]
fn custom_outputs_with_underscore_keys_and_worker_response_ref() {
    let v = json!({"source-ref": "s3://example-bucket/img/0004.jpg", "animal": "bird", "answers": {"workerId": "private.us-east-1.abcd", "boxesInfo": "{\"boundingBox\":{}}"}, "answers-metadata": {"type": "groundTruth/custom", "job_name": "custom-boxes", "human-annotated": "yes", "creation_date": "2023-02-01T10:00:00.000000"}});
    let line = round_trip(&v);
    // `animal` has no metadata: a plain key.
    assert_eq!(line.plain("animal"), Some(&json!("bird")));
    let pair = only_pair(&line);
    assert!(pair.metadata.underscore_keys);
    assert_eq!(pair.metadata.job_name.as_deref(), Some("custom-boxes"));
    assert!(matches!(&pair.label, Some(Label::Custom(Value::Object(_)))));
    let r = json!({"source": "text", "x": {}, "x-metadata": {"type": "groundTruth/custom", "job_name": "j", "human-annotated": "yes", "creation_date": "2023-02-01T10:00:00.000000", "worker-response-ref": "s3://b/j/annotations/worker-response/iteration-1/0/2021-03-08_23:06:49.json"}});
    let line = round_trip(&r);
    assert!(only_pair(&line).metadata.worker_response_ref.as_deref().unwrap().ends_with(".json"));
}

#[test]
fn failed_objects_unknown_fields_and_streaming_keys_survive() {
    let v = json!({"$sequencer": "0055AED6DCD90281E5", "source-ref": "s3://b/i.jpg", "dataset-objectid-attribute-name": "$boxes-object-id", "$boxes-object-id": "abc",
        "boxes-metadata": {"failure-reason": "ClientError: image too large", "type": "groundtruth/object-detection", "job-name": "boxes", "future-field": {"a": [1, 2.5]}},
        "user-id": 17, "note-metadata": {"author": "me"}});
    let line = round_trip(&v);
    let pair = only_pair(&line);
    assert_eq!(pair.label, None);
    assert_eq!(pair.metadata.failure_reason.as_deref(), Some("ClientError: image too large"));
    assert_eq!(pair.metadata.extra["future-field"], json!({"a": [1, 2.5]}));
    // `note-metadata` has no label-metadata keys: plain. Key order is kept (source first).
    assert_eq!(line.plain("note-metadata"), Some(&json!({"author": "me"})));
    let written = line.to_value();
    let keys: Vec<_> = written.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        vec![
            "source-ref",
            "$sequencer",
            "dataset-objectid-attribute-name",
            "$boxes-object-id",
            "boxes-metadata",
            "user-id",
            "note-metadata"
        ]
    );
}

#[test]
fn set_label_pair_replaces_in_place_and_appends() {
    let input = ManifestLine::parse_line(
        r#"{"source-ref": "s3://b/i.jpg", "species": "old", "id": 3}"#,
        "in",
        1,
    )
    .unwrap();
    let mut line = OutputLine::from(input.clone());
    let metadata = LabelMetadata {
        task_type: Some(TaskOutputType::ImageClassification),
        job_name: Some("j".into()),
        human_annotated: Some(HumanAnnotated::Yes),
        creation_date: Some(crate::formats::time::format_creation_date(1_675_245_600_000)),
        confidence: Some(0.0),
        class_name: Some("cat".into()),
        ..LabelMetadata::default()
    };
    line.set_label_pair(LabelPair {
        attribute: "species".into(),
        label: Some(Label::Class(Index::number(1))),
        metadata: metadata.clone(),
    });
    assert_eq!(
        line.to_json_line(),
        r#"{"source-ref":"s3://b/i.jpg","species":1,"species-metadata":{"class-name":"cat","confidence":0.0,"type":"groundtruth/image-classification","human-annotated":"yes","creation-date":"2023-02-01T10:00:00.000000","job-name":"j"},"id":3}"#
    );
    line.set_label_pair(LabelPair {
        attribute: "verify".into(),
        label: Some(Label::Class(Index::string(0))),
        metadata,
    });
    assert_eq!(line.label_pairs().count(), 2);
    let reread = OutputLine::parse_line(&line.to_json_line(), "o", 1).unwrap();
    assert_eq!(reread, line);
    // An output line is the next job's input line.
    let chained = reread.to_manifest_line();
    assert_eq!(chained.source, input.source);
    assert_eq!(chained.extra.len(), 5);
}

#[test]
fn bad_output_lines_name_file_line_and_field() {
    let cases = [
        (
            json!({"source-ref": "s3://b/i", "boxes": {"annotations": [{"class_id": 0, "left": "10", "top": 0, "width": 1, "height": 1}]}, "boxes-metadata": {"type": "groundtruth/object-detection"}}),
            "o:7: field `boxes.annotations[0].left`: expected a number, found a string",
        ),
        (
            json!({"source-ref": "s3://b/i", "c": "dog", "c-metadata": {"type": "groundtruth/image-classification"}}),
            "o:7: field `c`: expected a non-negative integer or numeric string, found a string",
        ),
        (
            json!({"source-ref": "s3://b/i", "m": [0], "m-metadata": {"type": "groundtruth/image-classification-multilabel", "class-map": {"zero": "a"}}}),
            "o:7: field `m-metadata.class-map.zero`: key \"zero\" is not a class index",
        ),
        (
            json!({"source-ref": "s3://b/i", "s-ref": 5, "s-ref-metadata": {"type": "groundtruth/semantic-segmentation"}}),
            "o:7: field `s-ref`: expected an S3 URI string, found a number",
        ),
        (
            json!({"source-ref": "s3://b/i", "n": {"annotations": {"entities": [{"label": "x", "startOffset": -1, "endOffset": 2}]}}, "n-metadata": {"type": "groundtruth/text-span"}}),
            "o:7: field `n.annotations.entities[0].startOffset`: expected a non-negative integer, found -1",
        ),
        (
            json!({"source-ref": "s3://b/i", "c-metadata": {"type": "groundtruth/image-classification", "job-name": 4}}),
            "o:7: field `c-metadata.job-name`: expected a string, found a number",
        ),
    ];
    for (v, expected) in cases {
        let e = OutputLine::parse_line(&v.to_string(), "o", 7).unwrap_err().to_string();
        assert_eq!(e, expected);
    }
}

#[test]
fn output_manifest_streams_and_writes_jsonl() {
    let a = json!({"source": "a", "m": 0, "m-metadata": {"class-name": "x", "confidence": 0.5, "type": "groundtruth/text-classification", "job-name": "j", "human-annotated": "yes", "creation-date": "2023-02-01T10:00:00.000000"}});
    let text = format!("{a}\n\n{a}\n");
    let lines = OutputManifest::parse(&text, "o.manifest").unwrap();
    assert_eq!(lines.len(), 2);
    let out = OutputManifest::to_jsonl(&lines);
    assert_eq!(out.lines().count(), 2);
    assert_eq!(OutputManifest::parse(&out, "o2").unwrap(), lines);
    let bad = format!(
        "{a}\n{{\"source\": \"a\", \"m-metadata\": {{\"type\": \"groundtruth/text-classification\"}}, \"m\": []}}\n"
    );
    let e = OutputManifestReader::new(bad.as_bytes(), "o.manifest").nth(1).unwrap().unwrap_err();
    assert!(e.to_string().starts_with("o.manifest:2: field `m`"), "{e}");
}

#[test]
fn task_type_strings_round_trip() {
    for (t, s) in TaskOutputType::ALL {
        assert_eq!(TaskOutputType::parse(s), t);
        assert_eq!(t.as_str(), s);
    }
    assert_eq!(TaskOutputType::parse("groundtruth/new").as_str(), "groundtruth/new");
}
