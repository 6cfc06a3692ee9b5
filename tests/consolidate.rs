//! Annotation consolidation, driven through the public API the way the job runner uses it: worker
//! answers in, Ground Truth output-manifest label + metadata out. Expectations are computed by hand
//! in the comments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use groundwork::annotation::AnnotationError;
use groundwork::annotation::consolidate::em::{self, EmOptions, Observation};
use groundwork::annotation::consolidate::{
    BoundingBoxOptions, ClassificationKind, LabelRecord, ObjectAnswers, RecordContext,
    WorkerAnswer, consolidate_bounding_boxes, consolidate_multi_label,
    consolidate_semantic_segmentation, consolidate_single_label, consolidate_verification,
};
use serde_json::{Value, json};

fn context() -> RecordContext {
    RecordContext::new("my-job", "2023-02-01T10:00:00.000000")
}

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn object(id: &str, answers: Vec<(&str, Value)>) -> ObjectAnswers {
    ObjectAnswers::new(id, answers.into_iter().map(|(w, a)| WorkerAnswer::new(w, a)).collect())
}

fn image_class(label: &str) -> Value {
    json!({ "crowd-image-classifier": { "label": label } })
}

fn bytes(record: &LabelRecord) -> Vec<u8> {
    let mut out = serde_json::to_vec(&record.label).unwrap();
    out.extend(serde_json::to_vec(&record.metadata).unwrap());
    out
}

// ---------------------------------------------------------------- single-label classification

#[test]
fn cat_cat_dog_by_hand() {
    let batch = [object(
        "0",
        vec![("w1", image_class("cat")), ("w2", image_class("cat")), ("w3", image_class("dog"))],
    )];
    let labels = labels(&["cat", "dog"]);
    let run = |max_epochs| {
        let options = EmOptions { max_epochs, ..EmOptions::default() };
        consolidate_single_label(&batch, &labels, ClassificationKind::Image, &context(), &options)
            .unwrap()
            .remove(0)
    };

    // Epoch 1: prior (½, ½), every worker C = [[.7, .3], [.3, .7]].
    // cat ∝ ½·.7·.7·.3 = .0735, dog ∝ ½·.3·.3·.7 = .0315 → P(cat) = .0735/.105 = 0.70.
    let one = run(1);
    assert_eq!(one.label, json!(0));
    assert_eq!(one.metadata["confidence"], json!(0.7));

    // Epoch 2: prior = (.7, .3) (the only object's posterior). M-step of epoch 1:
    // cat-voters: counts [[.7,0],[.3,0]], accuracy .7, + 1.5·W(.7) → [[1.75,.45],[.75,1.05]]
    //   → C_cat = [[.79545, .20455], [.41667, .58333]];
    // dog-voter: counts [[0,.7],[0,.3]], accuracy .3, + W(.3) + .5·W(.7) → [[.65,1.55],[.85,.95]]
    //   → C_dog = [[.29545, .70455], [.47222, .52778]].
    // cat ∝ .7·.79545²·.70455 = .31206, dog ∝ .3·.41667²·.52778 = .02749 → .919 → 0.92.
    let two = run(2);
    assert_eq!(two.metadata["confidence"], json!(0.92));

    // Run to convergence the posterior keeps rising toward 1 (a one-object batch feeds its own
    // posterior back as the prior), so the written confidence is the 0.95 ceiling.
    let full = consolidate_single_label(
        &batch,
        &labels,
        ClassificationKind::Image,
        &context(),
        &EmOptions::default(),
    )
    .unwrap();
    assert_eq!(full.len(), 1);
    assert_eq!(full[0].dataset_object_id, "0");
    assert_eq!(full[0].label, json!(0));
    assert_eq!(
        serde_json::to_string(&full[0].metadata).unwrap(),
        r#"{"class-name":"cat","confidence":0.95,"type":"groundtruth/image-classification","job-name":"my-job","human-annotated":"yes","creation-date":"2023-02-01T10:00:00.000000"}"#
    );
}

#[test]
fn one_worker_means_their_answer_and_zero_confidence() {
    let batch = [
        object("0", vec![("w1", image_class("cat")), ("w2", image_class("cat"))]),
        object("1", vec![("w1", image_class("cat")), ("w2", image_class("cat"))]),
        // Only w2 labeled this one, and said dog: taken as is, even though the batch prior favours
        // cat.
        object("2", vec![("w2", image_class("dog"))]),
    ];
    let out = consolidate_single_label(
        &batch,
        &labels(&["cat", "dog"]),
        ClassificationKind::Image,
        &context(),
        &EmOptions::default(),
    )
    .unwrap();
    assert_eq!(out[2].label, json!(1));
    assert_eq!(out[2].metadata["class-name"], json!("dog"));
    assert_eq!(out[2].metadata["confidence"], json!(0.0));
    assert_eq!(out[0].metadata["confidence"], json!(0.95));
}

/// Workers a and b always give the true class; worker c always gives the other one.
fn unreliable_worker_batch() -> Vec<ObjectAnswers> {
    let truth = ["cat", "dog", "cat", "cat", "dog", "cat"];
    let mut batch: Vec<ObjectAnswers> = truth
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let wrong = if *t == "cat" { "dog" } else { "cat" };
            object(
                &i.to_string(),
                vec![("a", image_class(t)), ("b", image_class(t)), ("c", image_class(wrong))],
            )
        })
        .collect();
    // A 1–1 disagreement: a says dog, c says cat. A plain vote ties (and a tie broken by class
    // index would pick cat); the estimator has learned that c is wrong, so it picks dog.
    batch.push(object("6", vec![("a", image_class("dog")), ("c", image_class("cat"))]));
    batch
}

#[test]
fn em_down_weights_a_worker_who_is_always_wrong() {
    let batch = unreliable_worker_batch();
    let out = consolidate_single_label(
        &batch,
        &labels(&["cat", "dog"]),
        ClassificationKind::Image,
        &context(),
        &EmOptions::default(),
    )
    .unwrap();
    let chosen: Vec<&str> =
        out.iter().map(|r| r.metadata["class-name"].as_str().unwrap()).collect();
    assert_eq!(chosen, ["cat", "dog", "cat", "cat", "dog", "cat", "dog"]);
    let last = out[6].metadata["confidence"].as_f64().unwrap();
    assert!(last > 0.5, "confidence {last}");

    // The estimator itself: c's expected accuracy collapses, a's and b's approach 1.
    let items: Vec<Vec<Observation>> = batch
        .iter()
        .map(|o| {
            o.answers
                .iter()
                .map(|a| Observation {
                    worker: (a.worker_id.as_bytes()[0] - b'a') as usize,
                    class: usize::from(
                        a.answer_content["crowd-image-classifier"]["label"] == "dog",
                    ),
                })
                .collect()
        })
        .collect();
    let est = em::estimate(&items, 3, 2, &EmOptions::default()).unwrap();
    assert!(est.worker_accuracy[0] > 0.9, "{:?}", est.worker_accuracy);
    assert!(est.worker_accuracy[1] > 0.9, "{:?}", est.worker_accuracy);
    assert!(est.worker_accuracy[2] < 0.1, "{:?}", est.worker_accuracy);
    // P(c says cat | truth dog) is high: a "cat" from c is evidence for dog.
    assert!(est.confusion_of(2, 1, 0).unwrap() > 0.8);
}

#[test]
fn text_classification_reads_crowd_classifier() {
    let batch = [object(
        "7",
        vec![
            ("w1", json!({"crowd-classifier": {"label": "positive"}})),
            ("w2", json!({"crowd-classifier": {"label": "positive"}})),
        ],
    )];
    let out = consolidate_single_label(
        &batch,
        &labels(&["negative", "positive"]),
        ClassificationKind::Text,
        &context(),
        &EmOptions::default(),
    )
    .unwrap();
    assert_eq!(out[0].label, json!(1));
    assert_eq!(out[0].metadata["type"], json!("groundtruth/text-classification"));
    assert_eq!(out[0].metadata["class-name"], json!("positive"));
}

#[test]
fn classification_is_idempotent_and_order_independent() {
    let batch = unreliable_worker_batch();
    let run = |batch: &[ObjectAnswers]| {
        consolidate_single_label(
            batch,
            &labels(&["cat", "dog"]),
            ClassificationKind::Image,
            &context(),
            &EmOptions::default(),
        )
        .unwrap()
    };
    let first = run(&batch);
    let second = run(&batch);
    let mut shuffled = batch.clone();
    for o in &mut shuffled {
        o.answers.reverse();
    }
    let third = run(&shuffled);
    for ((a, b), c) in first.iter().zip(&second).zip(&third) {
        assert_eq!(bytes(a), bytes(b));
        assert_eq!(bytes(a), bytes(c));
    }
}

#[test]
fn classification_errors_name_object_and_worker() {
    let labels = labels(&["cat", "dog"]);
    let run = |batch: &[ObjectAnswers]| {
        consolidate_single_label(
            batch,
            &labels,
            ClassificationKind::Image,
            &context(),
            &EmOptions::default(),
        )
        .unwrap_err()
    };
    assert_eq!(
        run(&[object("3", vec![("w1", image_class("cow"))])]),
        AnnotationError::UnknownLabel {
            object: "3".into(),
            worker: "w1".into(),
            label: "cow".into()
        }
    );
    assert_eq!(
        run(&[object("3", vec![("w1", image_class("cat")), ("w1", image_class("dog"))])]),
        AnnotationError::DuplicateWorker { object: "3".into(), worker: "w1".into() }
    );
    assert_eq!(run(&[object("4", vec![])]), AnnotationError::NoAnswers { object: "4".into() });
    let err = run(&[object("5", vec![("w9", json!({"crowd-image-classifier": {"label": 3}}))])]);
    assert_eq!(
        err.to_string(),
        "object 5, worker w9: field `crowd-image-classifier.label`: must be a string"
    );
    let err = run(&[object("5", vec![("w9", json!({"boundingBox": {}}))])]);
    assert!(
        matches!(err, AnnotationError::InvalidAnswer { ref field, .. } if field == "answerContent")
    );
    assert_eq!(
        consolidate_single_label(
            &[],
            &labels_dup(),
            ClassificationKind::Image,
            &context(),
            &EmOptions::default()
        )
        .unwrap_err(),
        AnnotationError::DuplicateLabel { label: "cat".into() }
    );
}

fn labels_dup() -> Vec<String> {
    labels(&["cat", "dog", "cat"])
}

#[test]
fn a_custom_element_name_is_found_by_shape() {
    let batch = [object(
        "0",
        vec![
            ("w1", json!({"animal": {"label": "dog"}, "notes": "x"})),
            ("w2", json!({"animal": {"label": "dog"}})),
        ],
    )];
    let out = consolidate_single_label(
        &batch,
        &labels(&["cat", "dog"]),
        ClassificationKind::Image,
        &context(),
        &EmOptions::default(),
    )
    .unwrap();
    assert_eq!(out[0].label, json!(1));
}

/// A real Ground Truth job: the raw worker responses of object 95 and the output-manifest line that
/// Ground Truth wrote for it (line 96). With the job name and creation date injected from that line,
/// the whole metadata object must come out equal.
#[test]
fn matches_a_real_ground_truth_image_classification() {
    let Some(dir) = support::testdata_dir() else { return };
    let examples = dir.join("sagemaker-examples");
    let manifest =
        std::fs::read_to_string(examples.join("birds-image-classification.output.manifest"))
            .unwrap();
    let lines: Vec<Value> = manifest.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let attr = "birds-open-images-clone";
    // The label list, reassembled from (index, class-name) pairs across the manifest.
    let mut names = vec![String::new(); 10];
    for line in &lines {
        let index = line[attr].as_u64().unwrap() as usize;
        names[index] = line[format!("{attr}-metadata")]["class-name"].as_str().unwrap().to_owned();
    }
    assert!(names.iter().all(|n| !n.is_empty()), "{names:?}");

    let response: Value = serde_json::from_str(
        &std::fs::read_to_string(examples.join("worker-response.image-classification.json"))
            .unwrap(),
    )
    .unwrap();
    let answers = response["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| WorkerAnswer::new(a["workerId"].as_str().unwrap(), a["answerContent"].clone()))
        .collect();
    let batch = [ObjectAnswers::new("95", answers)];

    let expected = &lines[95];
    let expected_meta = &expected[format!("{attr}-metadata")];
    let ctx = RecordContext::new(
        expected_meta["job-name"].as_str().unwrap(),
        expected_meta["creation-date"].as_str().unwrap(),
    );
    let out = consolidate_single_label(
        &batch,
        &names,
        ClassificationKind::Image,
        &ctx,
        &EmOptions::default(),
    )
    .unwrap();
    assert_eq!(out[0].label, expected[attr]);
    assert_eq!(&out[0].metadata, expected_meta);
}

// ---------------------------------------------------------------- multi-label

#[test]
fn multi_label_vote_by_hand() {
    // labels: 0 bird, 1 cat, 2 dog. w1 {cat, dog}, w2 {cat}, w3 {cat, bird, cat}.
    // bird 1/3 = 0.33, cat 3/3 = 1.0, dog 1/3 = 0.33 (w3's second "cat" counts once).
    let o = object(
        "0",
        vec![
            ("w1", json!({"crowd-image-classifier-multi-select": {"labels": ["cat", "dog"]}})),
            ("w2", json!({"crowd-image-classifier-multi-select": {"labels": ["cat"]}})),
            (
                "w3",
                json!({"crowd-image-classifier-multi-select": {"labels": ["cat", "bird", "cat"]}}),
            ),
        ],
    );
    let labels = labels(&["bird", "cat", "dog", "fish"]);
    let out = consolidate_multi_label(&o, &labels, ClassificationKind::Image, &context()).unwrap();
    assert_eq!(out.label, json!([0, 1, 2]));
    assert_eq!(
        serde_json::to_string(&out.metadata).unwrap(),
        r#"{"job-name":"my-job","class-map":{"0":"bird","1":"cat","2":"dog"},"human-annotated":"yes","creation-date":"2023-02-01T10:00:00.000000","confidence-map":{"0":0.33,"1":1.0,"2":0.33},"type":"groundtruth/image-classification-multilabel"}"#
    );
    let again =
        consolidate_multi_label(&o, &labels, ClassificationKind::Image, &context()).unwrap();
    assert_eq!(bytes(&out), bytes(&again));

    let single =
        object("1", vec![("w1", json!({"crowd-classifier-multi-select": {"labels": ["fish"]}}))]);
    let out =
        consolidate_multi_label(&single, &labels, ClassificationKind::Text, &context()).unwrap();
    assert_eq!(out.label, json!([3]));
    assert_eq!(out.metadata["confidence-map"], json!({"3": 0.0}));
    assert_eq!(out.metadata["type"], json!("groundtruth/text-classification-multilabel"));
}

// ---------------------------------------------------------------- label verification

fn verdict(label: &str, comment: Option<&str>) -> Value {
    match comment {
        Some(c) => json!({"crowd-image-classifier": {"label": label, "workerComment": c}}),
        None => json!({"crowd-image-classifier": {"label": label}}),
    }
}

#[test]
fn verification_vote_with_feedback() {
    let batch = [
        object(
            "0",
            vec![
                ("w3", verdict("good", Some("Looks fine to me."))),
                ("w1", verdict("bad", Some("Box is too wide on the right."))),
                ("w2", verdict("bad", Some("   "))),
            ],
        ),
        object("1", vec![("w1", verdict("good", None)), ("w2", verdict("good", None))]),
    ];
    let verdicts = labels(&["good", "bad"]);
    let one_epoch = EmOptions { max_epochs: 1, ..EmOptions::default() };
    let out = consolidate_verification(&batch, &verdicts, &context(), &one_epoch).unwrap();
    // Object 0 after one epoch. The prior is uniform (both objects start uniform), so as in
    // `cat_cat_dog_by_hand`: bad ∝ ½·.7·.7·.3, good ∝ ½·.3·.3·.7 → P(bad) = 0.70.
    // Comments in worker-id order (w1, then w3); w2's blank comment is dropped.
    assert_eq!(out[0].label, json!("1"));
    assert_eq!(
        serde_json::to_string(&out[0].metadata).unwrap(),
        r#"{"class-name":"bad","confidence":0.7,"type":"groundtruth/label-verification","job-name":"my-job","human-annotated":"yes","creation-date":"2023-02-01T10:00:00.000000","worker-feedback":[{"comment":"Box is too wide on the right."},{"comment":"Looks fine to me."}]}"#
    );
    // Object 1: no comments → no worker-feedback key.
    assert_eq!(out[1].label, json!("0"));
    assert!(out[1].metadata.get("worker-feedback").is_none());

    let full =
        consolidate_verification(&batch, &verdicts, &context(), &EmOptions::default()).unwrap();
    let again =
        consolidate_verification(&batch, &verdicts, &context(), &EmOptions::default()).unwrap();
    assert_eq!(full[0].label, json!("1"));
    for (a, b) in full.iter().zip(&again) {
        assert_eq!(bytes(a), bytes(b));
    }
}

// ---------------------------------------------------------------- bounding boxes

fn boxes(list: &[(&str, f64, f64, f64, f64)]) -> Value {
    let list: Vec<Value> = list
        .iter()
        .map(|(label, left, top, width, height)| {
            json!({"label": label, "left": left, "top": top, "width": width, "height": height})
        })
        .collect();
    json!({"boundingBox": {"boundingBoxes": list, "inputImageProperties": {"width": 500, "height": 400}}})
}

#[test]
fn three_workers_average_to_the_exact_box() {
    // dog boxes: (10,20,100,50), (12,22,98,52), (14,18,102,48) → mean (12, 20, 100, 50).
    // IoU with the mean box [12,112]×[20,70] (area 5000):
    //   w1 [10,110]×[20,70]: ∩ 98·50 = 4900, ∪ 5000+5000−4900 = 5100 → .960784
    //   w2 [12,110]×[22,74]: ∩ 98·48 = 4704, ∪ 5000+5096−4704 = 5392 → .872404
    //   w3 [14,116]×[18,66]: ∩ 98·46 = 4508, ∪ 5000+4896−4508 = 5388 → .836674
    //   mean .889954 × support 3/3 → 0.89.
    // The bone boxes of w1 and w2 (IoU (20·20)/(30·30+30·30−400) = 400/1400 < 0.5) do not match:
    // two clusters of support 1 out of 3 workers, both dropped. w3's cat box sits exactly on the
    // dog boxes but is another class: its own cluster, support 1, dropped.
    let o = object(
        "12",
        vec![
            ("w1", boxes(&[("dog", 10.0, 20.0, 100.0, 50.0), ("bone", 300.0, 300.0, 30.0, 30.0)])),
            ("w2", boxes(&[("bone", 310.0, 310.0, 30.0, 30.0), ("dog", 12.0, 22.0, 98.0, 52.0)])),
            ("w3", boxes(&[("cat", 12.0, 20.0, 100.0, 50.0), ("dog", 14.0, 18.0, 102.0, 48.0)])),
        ],
    );
    let out = consolidate_bounding_boxes(
        &o,
        &labels(&["dog", "cat", "bone"]),
        &context(),
        &BoundingBoxOptions::default(),
    )
    .unwrap();
    assert_eq!(
        serde_json::to_string(&out.label).unwrap(),
        r#"{"image_size":[{"width":500,"height":400,"depth":3}],"annotations":[{"class_id":0,"left":12,"top":20,"width":100,"height":50}]}"#
    );
    assert_eq!(
        serde_json::to_string(&out.metadata).unwrap(),
        r#"{"objects":[{"confidence":0.89}],"class-map":{"0":"dog"},"type":"groundtruth/object-detection","human-annotated":"yes","creation-date":"2023-02-01T10:00:00.000000","job-name":"my-job"}"#
    );
}

#[test]
fn two_disjoint_clusters_give_two_boxes() {
    // Two workers; each draws a dog and a bone box, in different orders.
    // dog: (100,100,50,40) and (101,100,50,41) → mean (100.5, 100, 50, 40.5).
    // bone: (0,0,10,10) and (0,0,10,10) → (0,0,10,10), IoU 1 each → confidence 2/2·1 = 1.0.
    // dog IoUs with the mean [100.5,150.5]×[100,140.5] (area 2025):
    //   [100,150]×[100,140]: ∩ 49.5·40 = 1980, ∪ 2025+2000−1980 = 2045 → .968215
    //   [101,151]×[100,141]: ∩ 49.5·40.5 = 2004.75, ∪ 2025+2050−2004.75 = 2070.25 → .968361
    //   mean .968288 → 0.97.
    let o = object(
        "3",
        vec![
            ("w2", boxes(&[("bone", 0.0, 0.0, 10.0, 10.0), ("dog", 101.0, 100.0, 50.0, 41.0)])),
            ("w1", boxes(&[("dog", 100.0, 100.0, 50.0, 40.0), ("bone", 0.0, 0.0, 10.0, 10.0)])),
        ],
    );
    let labels = labels(&["dog", "cat", "bone"]);
    let out = consolidate_bounding_boxes(&o, &labels, &context(), &BoundingBoxOptions::default())
        .unwrap();
    // w1 comes first (worker-id order), so its dog cluster is first.
    assert_eq!(
        out.label["annotations"],
        json!([
            {"class_id": 0, "left": 100.5, "top": 100, "width": 50, "height": 40.5},
            {"class_id": 2, "left": 0, "top": 0, "width": 10, "height": 10}
        ])
    );
    assert_eq!(out.metadata["objects"], json!([{"confidence": 0.97}, {"confidence": 1.0}]));
    assert_eq!(out.metadata["class-map"], json!({"0": "dog", "2": "bone"}));
    let again = consolidate_bounding_boxes(&o, &labels, &context(), &BoundingBoxOptions::default())
        .unwrap();
    assert_eq!(bytes(&out), bytes(&again));
}

#[test]
fn a_single_worker_keeps_every_box_at_zero_confidence() {
    let o = object(
        "0",
        vec![("w1", boxes(&[("dog", 1.0, 2.0, 3.0, 4.0), ("dog", 50.0, 50.0, 5.0, 5.0)]))],
    );
    let out = consolidate_bounding_boxes(
        &o,
        &labels(&["dog"]),
        &context(),
        &BoundingBoxOptions::default(),
    )
    .unwrap();
    assert_eq!(out.label["annotations"].as_array().unwrap().len(), 2);
    assert_eq!(out.metadata["objects"], json!([{"confidence": 0.0}, {"confidence": 0.0}]));
}

#[test]
fn no_boxes_and_mismatched_image_sizes() {
    let empty = object("0", vec![("w1", boxes(&[])), ("w2", boxes(&[]))]);
    let out = consolidate_bounding_boxes(
        &empty,
        &labels(&["dog"]),
        &context(),
        &BoundingBoxOptions::default(),
    )
    .unwrap();
    assert_eq!(out.label["annotations"], json!([]));
    assert_eq!(out.metadata["objects"], json!([]));
    assert_eq!(out.metadata["class-map"], json!({}));

    let mut other = boxes(&[]);
    other["boundingBox"]["inputImageProperties"] = json!({"width": 640, "height": 400});
    let o = object("9", vec![("w1", boxes(&[])), ("w2", other)]);
    let err = consolidate_bounding_boxes(
        &o,
        &labels(&["dog"]),
        &context(),
        &BoundingBoxOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "object 9, worker w2: field `boundingBox.inputImageProperties`: image is 640x400 px here \
         but 500x400 px in worker w1's answer"
    );
}

// ---------------------------------------------------------------- semantic segmentation

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A PNG of `classes` (row-major, `width` wide) drawn with `colors[class]` (RGBA).
fn mask_png(width: u32, classes: &[u8], colors: &[[u8; 4]]) -> Vec<u8> {
    let height = classes.len() as u32 / width;
    let image = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba(colors[classes[(y * width + x) as usize] as usize])
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

fn segmentation_answer(png: &[u8], mappings: Value, width: u32, height: u32) -> Value {
    json!({"crowd-semantic-segmentation": {
        "labeledImage": {"pngImageData": base64(png)},
        "labelMappings": mappings,
        "inputImageProperties": {"width": width, "height": height},
    }})
}

#[test]
fn four_by_four_mask_vote_pixel_by_pixel() {
    // Classes: 0 BACKGROUND, 1 road, 2 car. Each worker uses its own colours.
    #[rustfmt::skip]
    let a: [u8; 16] = [0, 0, 1, 1,
             0, 0, 1, 1,
             2, 2, 1, 1,
             2, 2, 0, 0];
    #[rustfmt::skip]
    let b: [u8; 16] = [0, 0, 1, 1,
             0, 1, 1, 1,
             2, 2, 2, 1,
             2, 2, 0, 0];
    #[rustfmt::skip]
    let c: [u8; 16] = [0, 0, 0, 1,
             0, 0, 1, 1,
             2, 1, 0, 1,
             2, 2, 0, 1];
    // Per pixel (a, b, c) → winner, votes:
    //   row 0: 000→0 3, 000→0 3, 110→1 2, 111→1 3
    //   row 1: 000→0 3, 010→0 2, 111→1 3, 111→1 3
    //   row 2: 222→2 3, 221→2 2, 120→three-way tie (1 vote), 111→1 3
    //   row 3: 222→2 3, 222→2 3, 000→0 3, 001→0 2
    // The tie at (x 2, y 2): votes over its 3×3 neighbourhood (x 1..3, y 1..3):
    //   a: 0 1 1 / 2 1 1 / 2 0 0 → c0 3, c1 4, c2 2
    //   b: 1 1 1 / 2 2 1 / 2 0 0 → c0 2, c1 4, c2 3
    //   c: 0 1 1 / 1 0 1 / 2 0 1 → c0 3, c1 5, c2 1
    //   totals c0 8, c1 13, c2 6 → road (1).
    // Confidence: winning votes 11 + 11 + 9 + 11 = 42 of 3·16 = 48 → 0.875 → 0.88.
    #[rustfmt::skip]
    let expected: [usize; 16] = [0, 0, 1, 1,
                    0, 0, 1, 1,
                    2, 2, 1, 1,
                    2, 2, 0, 0];
    let transparent = [0, 0, 0, 0];
    let white = [255, 255, 255, 255];
    let pa = mask_png(4, &a, &[transparent, [255, 0, 0, 255], [0, 255, 0, 255]]);
    let pb = mask_png(4, &b, &[white, [0x2c, 0xa0, 0x2c, 255], [0x1f, 0x77, 0xb4, 255]]);
    let pc = mask_png(4, &c, &[white, [0x12, 0x34, 0x56, 255], [0xab, 0xcd, 0xef, 200]]);
    let o = object(
        "5",
        vec![
            (
                "a",
                segmentation_answer(
                    &pa,
                    json!({"road": {"color": "#ff0000"}, "car": {"color": "#00FF00"}}),
                    4,
                    4,
                ),
            ),
            (
                "b",
                segmentation_answer(
                    &pb,
                    json!({"road": {"color": "#2ca02c"}, "car": {"color": "#1f77b4"}}),
                    4,
                    4,
                ),
            ),
            (
                "c",
                segmentation_answer(
                    &pc,
                    json!({"road": {"color": "#123456"}, "car": {"color": "#abcdef"}}),
                    4,
                    4,
                ),
            ),
        ],
    );
    let labels = labels(&["road", "car"]);
    let uri = "s3://bucket/out/job/annotations/consolidated-annotation/output/5/mask.png";
    let out = consolidate_semantic_segmentation(&o, &labels, uri, &context()).unwrap();

    assert_eq!(out.record.label, json!(uri));
    assert_eq!(
        serde_json::to_string(&out.record.metadata).unwrap(),
        r##"{"internal-color-map":{"0":{"class-name":"BACKGROUND","confidence":0.88,"hex-color":"#ffffff"},"1":{"class-name":"road","confidence":0.88,"hex-color":"#2ca02c"},"2":{"class-name":"car","confidence":0.88,"hex-color":"#1f77b4"}},"type":"groundtruth/semantic-segmentation","human-annotated":"yes","creation-date":"2023-02-01T10:00:00.000000","job-name":"my-job"}"##
    );

    // An 8-bit palette PNG (IHDR colour type 3 at byte 25) whose RGB is the class colour.
    assert_eq!(&out.mask_png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(out.mask_png[24..26], [8, 3]);
    let rgb = image::load_from_memory_with_format(&out.mask_png, image::ImageFormat::Png)
        .unwrap()
        .to_rgb8();
    assert_eq!(rgb.dimensions(), (4, 4));
    let palette = [[0xff, 0xff, 0xff], [0x2c, 0xa0, 0x2c], [0x1f, 0x77, 0xb4]];
    let got: Vec<usize> = rgb
        .pixels()
        .map(|p| palette.iter().position(|c| *c == p.0).expect("a class colour"))
        .collect();
    assert_eq!(got, expected);

    let again = consolidate_semantic_segmentation(&o, &labels, uri, &context()).unwrap();
    assert_eq!(out, again);
}

#[test]
fn mismatched_masks_and_unknown_colours_are_clear_errors() {
    let labels = labels(&["road"]);
    let colors = [[255, 255, 255, 255], [255, 0, 0, 255], [9, 9, 9, 255]];
    let mapping = json!({"road": {"color": "#ff0000"}});
    let small = mask_png(2, &[0, 1, 1, 0], &colors);
    let wide = mask_png(3, &[0, 1, 1, 0, 0, 0], &colors);
    let o = object(
        "8",
        vec![
            ("w1", segmentation_answer(&small, mapping.clone(), 2, 2)),
            ("w2", segmentation_answer(&wide, mapping.clone(), 3, 2)),
        ],
    );
    let err =
        consolidate_semantic_segmentation(&o, &labels, "s3://b/k.png", &context()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "object 8, worker w2: the mask is 3x2 px, but the mask of worker w1 is 2x2 px"
    );

    let o = object("8", vec![("w1", segmentation_answer(&small, mapping.clone(), 4, 4))]);
    let err =
        consolidate_semantic_segmentation(&o, &labels, "s3://b/k.png", &context()).unwrap_err();
    assert!(matches!(err, AnnotationError::MaskSizeMismatch { expected_width_px: 4, .. }), "{err}");

    let stray = mask_png(2, &[0, 1, 2, 0], &colors);
    let o = object("8", vec![("w1", segmentation_answer(&stray, mapping.clone(), 2, 2))]);
    let err =
        consolidate_semantic_segmentation(&o, &labels, "s3://b/k.png", &context()).unwrap_err();
    assert_eq!(
        err,
        AnnotationError::UnknownMaskColor {
            object: "8".into(),
            worker: "w1".into(),
            x_px: 0,
            y_px: 1,
            color: "#090909".into()
        }
    );

    let mut garbled = segmentation_answer(&small, mapping, 2, 2);
    garbled["crowd-semantic-segmentation"]["labeledImage"]["pngImageData"] = json!("iVBOR*");
    let o = object("8", vec![("w1", garbled)]);
    let err =
        consolidate_semantic_segmentation(&o, &labels, "s3://b/k.png", &context()).unwrap_err();
    assert!(
        err.to_string().contains("crowd-semantic-segmentation.labeledImage.pngImageData"),
        "{err}"
    );
}

/// A real Ground Truth mask (8-bit palette PNG, 800×600) submitted by three workers who agree:
/// the consolidated mask has exactly the same colours pixel for pixel, at confidence 1.
#[test]
fn a_real_ground_truth_mask_survives_consolidation() {
    let Some(dir) = support::testdata_dir() else { return };
    let png = std::fs::read(dir.join("gt-conversion-kit/img1_annotated.png")).unwrap();
    let mapping = json!({
        "first": {"color": "#2ca02c"}, "second": {"color": "#1f77b4"}, "third": {"color": "#ff7f0e"}
    });
    let answers =
        ["w1", "w2", "w3"].map(|w| (w, segmentation_answer(&png, mapping.clone(), 800, 600)));
    let o = object("0", answers.to_vec());
    let labels = labels(&["first", "second", "third"]);
    let out = consolidate_semantic_segmentation(&o, &labels, "s3://b/0.png", &context()).unwrap();
    let original = image::load_from_memory(&png).unwrap().to_rgb8();
    let consolidated = image::load_from_memory(&out.mask_png).unwrap().to_rgb8();
    assert_eq!(original.dimensions(), (800, 600));
    assert!(original == consolidated, "the consolidated mask differs from the agreed one");
    assert_eq!(out.record.metadata["internal-color-map"]["3"]["confidence"], json!(1.0));
    assert_eq!(out.record.metadata["internal-color-map"]["3"]["hex-color"], json!("#ff7f0e"));
}
