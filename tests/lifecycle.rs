//! The job lifecycle through the store: workers claim, submit through their outboxes, the worker
//! whose delivery completes an object consolidates it, and the output manifest appears once every
//! object is final — per task type with hand-computed expectations, under a 32-worker race, with
//! the store going away mid-run, and with a worker process killed between journaling and upload.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::seaweed;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use groundwork::cli::CliError;
use groundwork::cli::task;
use groundwork::formats::output::OutputManifest;
use groundwork::job::JobSpec;
use groundwork::store::catalog::Workspace;
use groundwork::store::claims::{
    ClaimBoard, ClaimError, ClaimNext, ClaimState, ClaimTicket, Unavailable,
};
use groundwork::store::clock::{Clock, ManualClock};
use groundwork::store::jobs::Jobs;
use groundwork::store::layout::{Catalog, JobOutput};
use groundwork::store::lifecycle::{Lifecycle, MASK_FILE_NAME, Settled};
use groundwork::store::local::LocalStore;
use groundwork::store::memory::{FlakyStore, MemoryStore};
use groundwork::store::outbox::{ClaimMark, Outbox, RetryPolicy};
use groundwork::store::retry::RetryPolicy as StoreRetry;
use groundwork::store::s3::{ListingStrategy, S3Store};
use groundwork::store::status::{LabelingJobStatus, ObjectFailure, ObjectState};
use groundwork::store::{
    BoxFuture, GetResult, ListPage, ObjectMeta, ObjectPath, ObjectStore, PutOptions, PutResult,
    StoreError,
};
use serde_json::{Value, json};

/// 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000;
const KMS: &str = "alias/groundwork-test";
const BUCKET: &str = "gw-test";

// ------------------------------------------------------------------------------------------------
// A store wrapper that records every put (key, KMS key) and yields before every call, so tasks
// interleave at each round trip as they do over a network.

#[derive(Debug)]
struct Recording {
    inner: Arc<dyn ObjectStore>,
    puts: Mutex<Vec<(String, Option<String>)>>,
}

impl Recording {
    fn new(inner: Arc<dyn ObjectStore>) -> Arc<Self> {
        Arc::new(Self { inner, puts: Mutex::new(Vec::new()) })
    }

    fn puts(&self) -> Vec<(String, Option<String>)> {
        self.puts.lock().unwrap().clone()
    }
}

impl ObjectStore for Recording {
    fn get<'a>(
        &'a self,
        path: &'a ObjectPath,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<GetResult, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.inner.get(path, range).await
        })
    }
    fn head<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<ObjectMeta, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.inner.head(path).await
        })
    }
    fn put<'a>(
        &'a self,
        path: &'a ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> BoxFuture<'a, Result<PutResult, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.puts.lock().unwrap().push((path.uri(), options.kms_key_id.clone()));
            self.inner.put(path, bytes, options).await
        })
    }
    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.inner.list(prefix, continuation, max_keys).await
        })
    }
    fn delete<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.inner.delete(path).await
        })
    }
}

// ------------------------------------------------------------------------------------------------
// Jobs

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Classification,
    Boxes,
    Segmentation,
    Verification,
}

impl Kind {
    fn function(self) -> &'static str {
        match self {
            Self::Classification => "ImageMultiClass",
            Self::Boxes => "BoundingBox",
            Self::Segmentation => "SemanticSegmentation",
            Self::Verification => "VerificationBoundingBox",
        }
    }
}

struct Setup<'a> {
    name: &'a str,
    attribute: &'a str,
    kind: Kind,
    workers: u32,
    labels: &'a [&'a str],
    lines: Vec<String>,
    kms: bool,
    lifetime_secs: u32,
}

impl<'a> Setup<'a> {
    fn new(
        name: &'a str,
        kind: Kind,
        workers: u32,
        labels: &'a [&'a str],
        lines: Vec<String>,
    ) -> Self {
        Self {
            name,
            attribute: name,
            kind,
            workers,
            labels,
            lines,
            kms: false,
            lifetime_secs: 864_000,
        }
    }
}

struct Env {
    store: Arc<dyn ObjectStore>,
    clock: Arc<ManualClock>,
    jobs: Jobs,
    bucket: String,
    prefix: String,
}

impl Env {
    fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Self {
        Self::on(store, BUCKET, prefix)
    }

    /// A workspace whose catalog, inputs and outputs all live under `s3://bucket/prefix/`.
    fn on(store: Arc<dyn ObjectStore>, bucket: &str, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        let clock = Arc::new(ManualClock::new(T0));
        let catalog =
            Catalog::new(ObjectPath::parse(&format!("s3://{bucket}/{prefix}/catalog/")).unwrap())
                .unwrap();
        let jobs = Jobs::new(Workspace::new(store.clone(), catalog), clock.clone());
        Self { store, clock, jobs, bucket: bucket.to_owned(), prefix: prefix.to_owned() }
    }

    fn uri(&self, rest: &str) -> String {
        format!("s3://{}/{}/{rest}", self.bucket, self.prefix)
    }

    fn path(&self, rest: &str) -> ObjectPath {
        ObjectPath::parse(&self.uri(rest)).unwrap()
    }

    async fn put(&self, rest: &str, bytes: Vec<u8>) {
        self.store.put(&self.path(rest), bytes, PutOptions::default()).await.unwrap();
    }

    async fn get(&self, path: &ObjectPath) -> Vec<u8> {
        self.store.get(path, None).await.unwrap().bytes
    }

    async fn keys(&self, prefix: &ObjectPath) -> Vec<String> {
        let mut out = Vec::new();
        let mut next = None;
        loop {
            let page = self.store.list(prefix, next, 1000).await.unwrap();
            out.extend(page.objects.iter().map(|m| m.path.key().to_owned()));
            next = page.next;
            if next.is_none() {
                return out;
            }
        }
    }

    async fn create_job(&self, setup: &Setup<'_>) -> Lifecycle {
        let name = setup.name;
        let mut manifest = setup.lines.join("\n");
        manifest.push('\n');
        self.put(&format!("{name}/input.manifest"), manifest.into_bytes()).await;
        let labels: Vec<Value> = setup.labels.iter().map(|l| json!({ "label": l })).collect();
        let config = json!({"document-version": "2018-11-28", "labels": labels});
        self.put(&format!("{name}/labels.json"), config.to_string().into_bytes()).await;
        self.put(&format!("{name}/template.liquid.html"), b"<crowd-form></crowd-form>".to_vec())
            .await;
        let lambda = |kind: &str| {
            format!(
                "arn:aws:lambda:us-east-1:432418664414:function:{kind}-{}",
                setup.kind.function()
            )
        };
        let mut output = json!({ "S3OutputPath": self.uri("out/") });
        if setup.kms {
            output["KmsKeyId"] = json!(KMS);
        }
        let spec = json!({
            "LabelingJobName": name,
            "LabelAttributeName": setup.attribute,
            "InputConfig": {"DataSource": {"S3DataSource": {
                "ManifestS3Uri": self.uri(&format!("{name}/input.manifest"))}}},
            "OutputConfig": output,
            "RoleArn": "arn:aws:iam::111122223333:role/groundwork-test",
            "LabelCategoryConfigS3Uri": self.uri(&format!("{name}/labels.json")),
            "HumanTaskConfig": {
                "WorkteamArn": "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team",
                "UiConfig": {"UiTemplateS3Uri": self.uri(&format!("{name}/template.liquid.html"))},
                "PreHumanTaskLambdaArn": lambda("PRE"),
                "TaskTitle": "Label it",
                "TaskDescription": "Label it well.",
                "NumberOfHumanWorkersPerDataObject": setup.workers,
                "TaskTimeLimitInSeconds": 3600,
                "TaskAvailabilityLifetimeInSeconds": setup.lifetime_secs,
                "MaxConcurrentTaskCount": 1000,
                "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": lambda("ACS")},
            },
        });
        let spec = JobSpec::from_json(&spec.to_string()).unwrap();
        self.jobs.create(&spec, "author").await.unwrap();
        Lifecycle::open(&self.jobs, name).await.unwrap()
    }

    fn output(&self, job: &str) -> JobOutput {
        JobOutput::new(&self.path("out/"), job).unwrap()
    }

    async fn output_lines(&self, job: &str) -> Vec<String> {
        let bytes = self.get(&self.output(job).output_manifest().unwrap()).await;
        let text = String::from_utf8(bytes).unwrap();
        OutputManifest::parse(&text, "output.manifest").unwrap(); // parses with our reader
        text.lines().map(str::to_owned).collect()
    }
}

fn source_lines(n: usize) -> Vec<String> {
    (0..n).map(|i| format!(r#"{{"source-ref":"s3://{BUCKET}/img/{i}.jpg"}}"#)).collect()
}

/// One worker machine: its claim board and its own outbox journal.
struct Worker {
    name: String,
    board: ClaimBoard,
    outbox: Outbox,
    rng: fastrand::Rng,
}

fn quick_retry() -> RetryPolicy {
    RetryPolicy { initial_backoff_ms: 1, max_backoff_ms: 5, max_attempts: 3 }
}

impl Worker {
    fn new(lifecycle: &Lifecycle, name: &str, journal: &Path, clock: Arc<dyn Clock>) -> Self {
        Self {
            name: name.to_owned(),
            board: lifecycle.claim_board().unwrap(),
            outbox: Outbox::open(journal, clock).unwrap(),
            rng: fastrand::Rng::with_seed(name.len() as u64),
        }
    }

    async fn claim(&self) -> ClaimTicket {
        match self.board.claim_next(&self.name).await.unwrap() {
            ClaimNext::Claimed(t) => t,
            other => panic!("{}: expected a task, got {other:?}", self.name),
        }
    }

    /// Submits through the outbox; after the delivery, settles the object, as the app does.
    async fn submit(
        &mut self,
        lifecycle: &Lifecycle,
        ticket: &ClaimTicket,
        answer: Value,
    ) -> Settled {
        let request = lifecycle.submission(ticket, answer, 12.5).unwrap();
        self.outbox.enqueue(request).unwrap();
        let report = self
            .outbox
            .drain(lifecycle.store().as_ref(), &quick_retry(), &mut self.rng)
            .await
            .unwrap();
        assert_eq!(report.delivered.len(), 1, "{:?}", report.last_error);
        assert_eq!(report.delivered[0].claim, ClaimMark::Submitted);
        lifecycle.settle_object(ticket.object_id).await.unwrap()
    }
}

fn class(label: &str) -> Value {
    json!({"crowd-image-classifier": {"label": label}})
}

// ------------------------------------------------------------------------------------------------
// Per task type, through the store

#[tokio::test]
async fn three_workers_two_objects_classification_end_to_end() {
    let recording = Recording::new(Arc::new(MemoryStore::new()));
    let env = Env::new(recording.clone(), "cls");
    let mut setup = Setup::new("pets", Kind::Classification, 3, &["cat", "dog"], source_lines(2));
    setup.attribute = "animal";
    setup.kms = true;
    let lifecycle = env.create_job(&setup).await;
    let journals = tempfile::tempdir().unwrap();
    let clock: Arc<dyn Clock> = env.clock.clone();
    let mut workers: Vec<Worker> = ["w1", "w2", "w3"]
        .iter()
        .map(|w| Worker::new(&lifecycle, w, &journals.path().join(w), clock.clone()))
        .collect();
    env.clock.set_ms(T0 + 60_000); // 2023-11-14T22:14:20Z: every creation-date below

    // Object 0: cat, cat, dog. Object 1: cat, dog, dog. Each worker takes object 0, then 1.
    let answers = [("cat", "cat"), ("cat", "dog"), ("dog", "dog")];
    let mut settled = Vec::new();
    for (worker, (first, second)) in workers.iter_mut().zip(answers) {
        let t0 = worker.claim().await;
        assert_eq!(t0.object_id, 0);
        settled.push(worker.submit(&lifecycle, &t0, class(first)).await);
        let t1 = worker.claim().await;
        assert_eq!(t1.object_id, 1);
        settled.push(worker.submit(&lifecycle, &t1, class(second)).await);
    }
    // w3's answers complete object 0, then object 1.
    assert!(matches!(settled[4], Settled::Consolidated), "{settled:?}");
    assert!(matches!(settled[5], Settled::Consolidated), "{settled:?}");
    assert!(settled[..4].iter().all(|s| matches!(s, Settled::NotReady(_))), "{settled:?}");

    let out = env.output("pets");
    // The request fixes the answers: claimed workers, in submission order (w1, w2, w3).
    let request: Value =
        serde_json::from_slice(&env.get(&out.consolidation_request(0).unwrap()).await).unwrap();
    assert_eq!(
        request,
        json!([{"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://gw-test/img/0.jpg"},
            "annotations": [
                {"workerId": "w1", "annotationData": {"content": r#"{"crowd-image-classifier":{"label":"cat"}}"#}},
                {"workerId": "w2", "annotationData": {"content": r#"{"crowd-image-classifier":{"label":"cat"}}"#}},
                {"workerId": "w3", "annotationData": {"content": r#"{"crowd-image-classifier":{"label":"dog"}}"#}}]}])
    );
    // Object 0 completed first: its response was decided by EM over a batch of one object, whose
    // posterior feeds back as its own prior and rises to the 0.95 ceiling (as in the unit test
    // `cat_cat_dog_by_hand`).
    let response0: Value =
        serde_json::from_slice(&env.get(&out.consolidation_response(0).unwrap()).await).unwrap();
    assert_eq!(
        response0,
        json!([{"datasetObjectId": "0", "consolidatedAnnotation": {"content": {
            "animal": 0,
            "animal-metadata": {"class-name": "cat", "confidence": 0.95,
                "type": "groundtruth/image-classification", "job-name": "pets",
                "human-annotated": "yes", "creation-date": "2023-11-14T22:14:20.000000"}}}}])
    );
    // The output manifest reruns EM over both objects. The batch is symmetric (swap the classes
    // and w1↔w3 and object 0 becomes object 1), so the prior stays (½, ½) and both objects get
    // the same posterior for their majority class. Epoch by epoch: 0.70 (W(0.7) everywhere, as
    // in `cat_cat_dog_by_hand`), 0.70, then w2 — right once and wrong once at 0.7 — drops toward
    // 0.5 while w1 and w3 (right with 0.7, wrong with 0.3) settle: 0.6667, 0.6417, converged →
    // 0.64. (Reproduced independently with a transcription of the M-step in Python.)
    let lines = env.output_lines("pets").await;
    assert_eq!(
        lines,
        [
            r#"{"source-ref":"s3://gw-test/img/0.jpg","animal":0,"animal-metadata":{"class-name":"cat","confidence":0.64,"type":"groundtruth/image-classification","human-annotated":"yes","creation-date":"2023-11-14T22:14:20.000000","job-name":"pets"}}"#,
            r#"{"source-ref":"s3://gw-test/img/1.jpg","animal":1,"animal-metadata":{"class-name":"dog","confidence":0.64,"type":"groundtruth/image-classification","human-annotated":"yes","creation-date":"2023-11-14T22:14:20.000000","job-name":"pets"}}"#,
        ]
    );

    let described = env.jobs.describe("pets").await.unwrap();
    assert_eq!(described.snapshot.status, LabelingJobStatus::Completed);
    let c = described.snapshot.counters;
    assert_eq!(
        (c.total_labeled, c.human_labeled, c.failed_non_retryable_error, c.unlabeled),
        (2, 2, 0, 0)
    );
    assert_eq!(
        described.describe.labeling_job_output.as_ref().unwrap().output_dataset_s3_uri,
        out.output_manifest().unwrap().uri()
    );

    // Every put under the output folder (claims, responses, requests, output) asked for the key.
    let base = out.base().uri();
    let under_output: Vec<_> =
        recording.puts().into_iter().filter(|(k, _)| k.starts_with(&base)).collect();
    // 6 claims, 6 claims marked submitted, 6 worker responses, 2 consolidation requests,
    // 2 consolidation responses, 1 output manifest.
    assert_eq!(under_output.len(), 23, "{under_output:?}");
    for (key, kms) in &under_output {
        assert_eq!(kms.as_deref(), Some(KMS), "{key}");
    }

    // Idempotent: running again does nothing and writes nothing.
    let before = recording.puts().len();
    let again = lifecycle.run_pending().await.unwrap();
    assert!(again.consolidated.is_empty() && again.failed.is_empty());
    assert_eq!(again.status, Some(LabelingJobStatus::Completed));
    assert_eq!(lifecycle.settle_object(1).await.unwrap(), Settled::AlreadyConsolidated);
    assert_eq!(recording.puts().len(), before);
}

fn boxes(list: &[(&str, f64, f64, f64, f64)]) -> Value {
    let list: Vec<Value> = list
        .iter()
        .map(|(label, left, top, width, height)| {
            json!({"label": label, "left": left, "top": top, "width": width, "height": height})
        })
        .collect();
    json!({"boundingBox": {"boundingBoxes": list, "inputImageProperties": {"width": 500, "height": 400}}})
}

#[tokio::test]
async fn bounding_boxes_consolidate_through_the_store() {
    let env = Env::new(Arc::new(MemoryStore::new()), "boxes");
    let lines = vec![r#"{"source-ref":"s3://gw-test/img/street.png","camera":"front"}"#.to_owned()];
    let setup = Setup::new("street-boxes", Kind::Boxes, 3, &["dog", "cat", "bone"], lines);
    let lifecycle = env.create_job(&setup).await;
    let journals = tempfile::tempdir().unwrap();
    env.clock.set_ms(T0 + 3_600_000); // 2023-11-14T23:13:20Z
    // The worked example of the unit test `three_workers_average_to_the_exact_box`: the dog
    // boxes average to (12, 20, 100, 50) with confidence 0.89; the bone and cat boxes have the
    // support of one worker of three and are dropped.
    let answers = [
        ("w1", boxes(&[("dog", 10.0, 20.0, 100.0, 50.0), ("bone", 300.0, 300.0, 30.0, 30.0)])),
        ("w2", boxes(&[("bone", 310.0, 310.0, 30.0, 30.0), ("dog", 12.0, 22.0, 98.0, 52.0)])),
        ("w3", boxes(&[("cat", 12.0, 20.0, 100.0, 50.0), ("dog", 14.0, 18.0, 102.0, 48.0)])),
    ];
    let mut last = None;
    for (name, answer) in answers {
        let mut w = Worker::new(&lifecycle, name, &journals.path().join(name), env.clock.clone());
        let t = w.claim().await;
        last = Some(w.submit(&lifecycle, &t, answer).await);
    }
    assert_eq!(last, Some(Settled::Consolidated));
    assert_eq!(
        env.output_lines("street-boxes").await,
        [
            r#"{"source-ref":"s3://gw-test/img/street.png","camera":"front","street-boxes":{"image_size":[{"width":500,"height":400,"depth":3}],"annotations":[{"class_id":0,"left":12,"top":20,"width":100,"height":50}]},"street-boxes-metadata":{"objects":[{"confidence":0.89}],"class-map":{"0":"dog"},"type":"groundtruth/object-detection","human-annotated":"yes","creation-date":"2023-11-14T23:13:20.000000","job-name":"street-boxes"}}"#
        ]
    );
}

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

fn mask_answer(width: u32, classes: &[u8], colors: &[[u8; 4]], mappings: Value) -> Value {
    let height = classes.len() as u32 / width;
    let image = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba(colors[classes[(y * width + x) as usize] as usize])
    });
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    json!({"crowd-semantic-segmentation": {
        "labeledImage": {"pngImageData": base64(&png)},
        "labelMappings": mappings,
        "inputImageProperties": {"width": width, "height": height},
    }})
}

#[tokio::test]
async fn semantic_segmentation_writes_the_mask_ref_file() {
    let env = Env::new(Arc::new(MemoryStore::new()), "seg");
    let mut setup = Setup::new("city", Kind::Segmentation, 3, &["road", "car"], source_lines(1));
    setup.attribute = "city-ref";
    setup.kms = true;
    let lifecycle = env.create_job(&setup).await;
    let journals = tempfile::tempdir().unwrap();
    env.clock.set_ms(T0);
    // 3×2 masks, classes 0 BACKGROUND, 1 road, 2 car; each worker picks its own colours.
    //   w1: 0 1 1 / 2 2 0     w2: 0 1 1 / 2 0 0     w3: 0 0 1 / 2 2 0
    // Votes per pixel: (0,0,0)→0, (1,1,0)→1, (1,1,1)→1 / (2,2,2)→2, (2,0,2)→2, (0,0,0)→0.
    // Winning votes 3+2+3+3+2+3 = 16 of 3·6 → 0.888… → 0.89.
    let white = [255, 255, 255, 255];
    let red = [255, 0, 0, 255];
    let blue = [0, 0, 255, 255];
    let map = json!({"road": {"color": "#ff0000"}, "car": {"color": "#0000ff"}});
    let answers = [
        ("w1", mask_answer(3, &[0, 1, 1, 2, 2, 0], &[white, red, blue], map.clone())),
        ("w2", mask_answer(3, &[0, 1, 1, 2, 0, 0], &[white, red, blue], map.clone())),
        ("w3", mask_answer(3, &[0, 0, 1, 2, 2, 0], &[white, red, blue], map)),
    ];
    for (name, answer) in answers {
        let mut w = Worker::new(&lifecycle, name, &journals.path().join(name), env.clock.clone());
        let t = w.claim().await;
        w.submit(&lifecycle, &t, answer).await;
    }
    let out = env.output("city");
    let mask_path = out.consolidated_output(0, MASK_FILE_NAME).unwrap();
    assert_eq!(
        mask_path.uri(),
        "s3://gw-test/seg/out/city/annotations/consolidated-annotation/output/0/mask.png"
    );
    // The mask: a PNG whose RGB is each class's hex-color (BACKGROUND #ffffff, then Ground
    // Truth's palette: road #2ca02c, car #1f77b4).
    let png = env.get(&mask_path).await;
    let mask = image::load_from_memory(&png).unwrap().to_rgb8();
    let (bg, road, car) = ([255, 255, 255], [0x2c, 0xa0, 0x2c], [0x1f, 0x77, 0xb4]);
    let pixels: Vec<[u8; 3]> = mask.pixels().map(|p| p.0).collect();
    assert_eq!((mask.width(), mask.height()), (3, 2));
    assert_eq!(pixels, [bg, road, road, car, car, bg]);
    assert_eq!(
        env.output_lines("city").await,
        [
            r##"{"source-ref":"s3://gw-test/img/0.jpg","city-ref":"s3://gw-test/seg/out/city/annotations/consolidated-annotation/output/0/mask.png","city-ref-metadata":{"internal-color-map":{"0":{"class-name":"BACKGROUND","confidence":0.89,"hex-color":"#ffffff"},"1":{"class-name":"road","confidence":0.89,"hex-color":"#2ca02c"},"2":{"class-name":"car","confidence":0.89,"hex-color":"#1f77b4"}},"type":"groundtruth/semantic-segmentation","human-annotated":"yes","creation-date":"2023-11-14T22:13:20.000000","job-name":"city"}}"##
        ]
    );
}

fn verdict(label: &str, comment: Option<&str>) -> Value {
    match comment {
        Some(c) => json!({"crowd-image-classifier": {"label": label, "workerComment": c}}),
        None => json!({"crowd-image-classifier": {"label": label}}),
    }
}

#[tokio::test]
async fn verification_keeps_the_earlier_label_and_adds_the_verdict() {
    let env = Env::new(Arc::new(MemoryStore::new()), "verify");
    let earlier = r#""boxes":{"annotations":[{"class_id":0,"left":1,"top":2,"width":3,"height":4}]},"boxes-metadata":{"objects":[{"confidence":0.8}],"class-map":{"0":"dog"},"type":"groundtruth/object-detection","human-annotated":"yes","creation-date":"2023-02-01T10:00:00.000000","job-name":"boxes"}"#;
    let lines: Vec<String> = (0..2)
        .map(|i| format!(r#"{{"source-ref":"s3://gw-test/img/{i}.jpg",{earlier}}}"#))
        .collect();
    let mut setup =
        Setup::new("check", Kind::Verification, 3, &["Correct", "Incorrect"], lines.clone());
    setup.attribute = "verify-boxes";
    let lifecycle = env.create_job(&setup).await;
    let journals = tempfile::tempdir().unwrap();
    env.clock.set_ms(T0);
    // Object 0: all three Correct. Object 1: w1 and w2 Incorrect (w1 explains), w3 Correct.
    // EM over both: object 0 → Correct at 0.998, object 1 → Incorrect at 0.997; both above the
    // 0.95 ceiling, so 0.95.
    let answers = [
        ("w1", verdict("Correct", None), verdict("Incorrect", Some("Box is too wide."))),
        ("w2", verdict("Correct", None), verdict("Incorrect", None)),
        ("w3", verdict("Correct", Some("  ")), verdict("Correct", None)),
    ];
    for (name, a0, a1) in answers {
        let mut w = Worker::new(&lifecycle, name, &journals.path().join(name), env.clock.clone());
        let t = w.claim().await;
        w.submit(&lifecycle, &t, a0).await;
        let t = w.claim().await;
        w.submit(&lifecycle, &t, a1).await;
    }
    let head = |i: usize| format!(r#"{{"source-ref":"s3://gw-test/img/{i}.jpg",{earlier},"#);
    assert_eq!(
        env.output_lines("check").await,
        [
            format!(
                r#"{}"verify-boxes":"0","verify-boxes-metadata":{{"class-name":"Correct","confidence":0.95,"type":"groundtruth/label-verification","human-annotated":"yes","creation-date":"2023-11-14T22:13:20.000000","job-name":"check"}}}}"#,
                head(0)
            ),
            format!(
                r#"{}"verify-boxes":"1","verify-boxes-metadata":{{"class-name":"Incorrect","confidence":0.95,"type":"groundtruth/label-verification","human-annotated":"yes","creation-date":"2023-11-14T22:13:20.000000","job-name":"check","worker-feedback":[{{"comment":"Box is too wide."}}]}}}}"#,
                head(1)
            ),
        ]
    );
}

#[tokio::test]
async fn failed_objects_carry_a_reason_and_the_job_completes() {
    let env = Env::new(Arc::new(MemoryStore::new()), "fail");
    let mut setup = Setup::new("mixed", Kind::Classification, 1, &["cat", "dog"], source_lines(4));
    setup.lifetime_secs = 86_400;
    let lifecycle = env.create_job(&setup).await;
    let journals = tempfile::tempdir().unwrap();
    env.clock.set_ms(T0 + 1_000);
    let mut ann = Worker::new(&lifecycle, "ann", &journals.path().join("ann"), env.clock.clone());
    // Object 0: labeled. Object 1: an answer naming no label of the job. Object 2: declined by
    // its only slot's worker. Object 3: nobody touches it before the availability lifetime ends.
    let t = ann.claim().await;
    assert_eq!(ann.submit(&lifecycle, &t, class("dog")).await, Settled::Consolidated);
    let t = ann.claim().await;
    let settled = ann.submit(&lifecycle, &t, class("horse")).await;
    let Settled::Failed(reason) = settled else { panic!("{settled:?}") };
    assert_eq!(
        reason,
        "the answers could not be consolidated: object 1, worker ann: label `horse` is not in the \
         job's label list"
    );
    let t = ann.claim().await;
    ann.board.decline(&t).await.unwrap();
    assert_eq!(
        lifecycle.settle_object(2).await.unwrap(),
        Settled::Failed("expired: declined by 1 workers".into())
    );
    assert!(matches!(
        lifecycle.settle_object(3).await.unwrap(),
        Settled::NotReady(ObjectState::Unclaimed)
    ));
    assert!(env.store.head(&env.output("mixed").output_manifest().unwrap()).await.is_err());

    env.clock.set_ms(T0 + 86_400_000);
    let report = lifecycle.run_pending().await.unwrap();
    assert_eq!(
        report.failed,
        [(3, "expired: not labeled within TaskAvailabilityLifetimeInSeconds".to_owned())]
    );
    assert_eq!(report.status, Some(LabelingJobStatus::Completed));
    let snapshot = lifecycle.status().await.unwrap();
    let states: Vec<_> = snapshot.objects.iter().map(|o| o.state.clone()).collect();
    assert_eq!(
        states,
        [
            ObjectState::Consolidated,
            ObjectState::Failed(ObjectFailure::ConsolidationFailed),
            ObjectState::Failed(ObjectFailure::Declined { workers: 1 }),
            ObjectState::Failed(ObjectFailure::AvailabilityExpired),
        ]
    );
    assert_eq!(
        (snapshot.counters.total_labeled, snapshot.counters.failed_non_retryable_error),
        (1, 3)
    );
    let lines = env.output_lines("mixed").await;
    assert_eq!(lines.len(), 4);
    // One worker per object: its answer, confidence 0 (spec §5.17).
    assert_eq!(
        lines[0],
        r#"{"source-ref":"s3://gw-test/img/0.jpg","mixed":1,"mixed-metadata":{"class-name":"dog","confidence":0.0,"type":"groundtruth/image-classification","human-annotated":"yes","creation-date":"2023-11-14T22:13:21.000000","job-name":"mixed"}}"#
    );
    assert_eq!(
        lines[2],
        r#"{"source-ref":"s3://gw-test/img/2.jpg","mixed-metadata":{"type":"groundtruth/image-classification","creation-date":"2023-11-14T22:13:21.000000","job-name":"mixed","failure-reason":"expired: declined by 1 workers"}}"#
    );
    assert_eq!(
        lines[3],
        r#"{"source-ref":"s3://gw-test/img/3.jpg","mixed-metadata":{"type":"groundtruth/image-classification","creation-date":"2023-11-15T22:13:20.000000","job-name":"mixed","failure-reason":"expired: not labeled within TaskAvailabilityLifetimeInSeconds"}}"#
    );
    let line1: Value = serde_json::from_str(&lines[1]).unwrap();
    assert!(line1.get("mixed").is_none());
    assert!(line1["mixed-metadata"]["failure-reason"].as_str().unwrap().contains("horse"));
}

#[tokio::test]
async fn a_stopped_job_gets_an_output_manifest_with_unlabeled_lines_unchanged() {
    let env = Env::new(Arc::new(MemoryStore::new()), "stop");
    let setup = Setup::new("halt", Kind::Classification, 1, &["cat", "dog"], source_lines(3));
    let lifecycle = env.create_job(&setup).await;
    let journals = tempfile::tempdir().unwrap();
    let mut ann = Worker::new(&lifecycle, "ann", &journals.path().join("ann"), env.clock.clone());
    let t = ann.claim().await;
    // Delivered but not settled (the worker's process ended before settling).
    let request = lifecycle.submission(&t, class("cat"), 1.0).unwrap();
    ann.outbox.enqueue(request).unwrap();
    ann.outbox.drain(env.store.as_ref(), &quick_retry(), &mut ann.rng).await.unwrap();
    env.jobs.stop("halt", "author").await.unwrap();
    // `job describe` sees the object awaiting consolidation and does it; the job is stopped
    // with nothing pending, so the output manifest is written.
    let described = env.jobs.describe("halt").await.unwrap();
    assert_eq!(described.snapshot.status, LabelingJobStatus::Stopped);
    assert!(described.describe.labeling_job_output.is_some());
    let lines = env.output_lines("halt").await;
    assert_eq!(&lines[1..], [source_lines(3)[1].clone(), source_lines(3)[2].clone()]);
    assert!(lines[0].contains(r#""halt":0"#), "{}", lines[0]);
}

// ------------------------------------------------------------------------------------------------
// The race: 32 workers, 200 objects × 3 slots

/// `kms`: ask for SSE-KMS on every output put (SeaweedFS without a KMS provider refuses it).
async fn race(env: Env, kms: bool) {
    const WORKERS: usize = 32;
    const OBJECTS: usize = 200;
    let mut setup =
        Setup::new("race", Kind::Classification, 3, &["cat", "dog"], source_lines(OBJECTS));
    setup.kms = kms;
    env.create_job(&setup).await;
    let journals = tempfile::tempdir().unwrap();
    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let jobs = env.jobs.clone();
        let journal = journals.path().join(format!("w{w}"));
        let clock: Arc<dyn Clock> = env.clock.clone();
        tasks.push(tokio::spawn(async move {
            // Each worker is its own client: its own lifecycle, board and outbox.
            let lifecycle = Lifecycle::open(&jobs, "race").await.unwrap();
            let mut worker = Worker::new(&lifecycle, &format!("worker-{w:02}"), &journal, clock);
            let mut won = Vec::new();
            loop {
                match worker.board.claim_next(&worker.name.clone()).await.unwrap() {
                    ClaimNext::Claimed(ticket) => {
                        // Every worker sees the same thing: even objects are cats.
                        let label = label_of(ticket.object_id);
                        worker.submit(&lifecycle, &ticket, class(label)).await;
                        won.push(ticket);
                    }
                    ClaimNext::Unavailable(Unavailable::NoTaskAvailable) => break,
                    ClaimNext::Unavailable(other) => panic!("unexpected {other:?}"),
                }
            }
            won
        }));
    }
    let mut tickets = Vec::new();
    for task in tasks {
        tickets.extend(task.await.unwrap());
    }
    check_race_outcome(&env, "race", OBJECTS, &tickets).await;
}

async fn check_race_outcome(env: &Env, job: &str, objects: usize, tickets: &[ClaimTicket]) {
    // 0 double claims: every (object, slot) won exactly once.
    let slots: BTreeSet<(u64, u32)> = tickets.iter().map(|t| (t.object_id, t.slot)).collect();
    assert_eq!(tickets.len(), objects * 3);
    assert_eq!(slots.len(), objects * 3);
    let out = env.output(job);
    // Every object: exactly 3 responses from 3 distinct workers, the holders of its 3 claims.
    let mut by_object: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let prefix = out.worker_responses_prefix().unwrap();
    for key in env.keys(&prefix).await {
        let rest = key.strip_prefix(prefix.key()).unwrap();
        let (object, file) = rest.split_once('/').unwrap();
        let worker = file.trim_end_matches(".json").split_once('-').unwrap().1.to_owned();
        by_object.entry(object.parse().unwrap()).or_default().push(worker);
    }
    assert_eq!(by_object.len(), objects, "0 lost");
    let lifecycle = Lifecycle::open(&env.jobs, job).await.unwrap();
    let claims = lifecycle.claim_board().unwrap().scan().await.unwrap();
    for (object, workers) in &by_object {
        let distinct: BTreeSet<&String> = workers.iter().collect();
        assert_eq!(workers.len(), 3, "object {object}: {workers:?}");
        assert_eq!(distinct.len(), 3, "object {object}: {workers:?}");
        let holders: BTreeSet<&String> = claims[object]
            .slots
            .values()
            .filter(|c| c.record.state == ClaimState::Submitted)
            .map(|c| &c.record.worker)
            .collect();
        assert_eq!(holders, distinct, "object {object}");
    }
    // Consolidated by the workers themselves; the output manifest has a line per object.
    let lines = env.output_lines(job).await;
    assert_eq!(lines.len(), objects);
    for (i, line) in lines.iter().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        let (label, name) = if i.is_multiple_of(2) { (0, "cat") } else { (1, "dog") };
        assert_eq!(v[job], json!(label), "line {i}");
        assert_eq!(v[format!("{job}-metadata")]["class-name"], json!(name), "line {i}");
        assert_eq!(v[format!("{job}-metadata")]["confidence"], json!(0.95), "line {i}");
    }
    let snapshot = lifecycle.status().await.unwrap();
    assert_eq!(snapshot.status, LabelingJobStatus::Completed);
    assert_eq!(snapshot.counters.total_labeled, objects as u64);
    let report = lifecycle.run_pending().await.unwrap();
    assert!(report.consolidated.is_empty() && report.failed.is_empty(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_workers_two_hundred_objects_memory_store() {
    let store: Arc<dyn ObjectStore> = Recording::new(Arc::new(MemoryStore::new()));
    race(Env::new(store, "race-mem"), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_workers_two_hundred_objects_local_store() {
    let root = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(root.path()).unwrap());
    race(Env::new(store, "race-local"), true).await;
}

// ------------------------------------------------------------------------------------------------
// Faults

fn label_of(object_id: u64) -> &'static str {
    if object_id.is_multiple_of(2) { "cat" } else { "dog" }
}

fn is_transient(e: &ClaimError) -> bool {
    match e {
        ClaimError::Store(e) => e.is_transient(),
        ClaimError::Contended { .. } => true,
        _ => false,
    }
}

/// A worker that keeps going through store outages, as the app does: it delivers its outbox
/// before claiming more, keeps what cannot be delivered, retries claims after transient
/// failures, and resumes a claim it holds but whose answer was lost on the way back. Returns
/// the claims it worked on.
async fn resilient_worker(
    jobs: Jobs,
    job: &'static str,
    name: String,
    journal: std::path::PathBuf,
    delivered: Arc<AtomicUsize>,
    pause: Duration,
) -> Vec<ClaimTicket> {
    let lifecycle = loop {
        match Lifecycle::open(&jobs, job).await {
            Ok(l) => break l,
            Err(e) if e.is_transient() => tokio::time::sleep(pause).await,
            Err(e) => panic!("{name}: {e}"),
        }
    };
    let board = lifecycle.claim_board().unwrap();
    let outbox = Outbox::open(&journal, jobs.clock().clone()).unwrap();
    let mut rng = fastrand::Rng::with_seed(name.len() as u64);
    let mut won: Vec<ClaimTicket> = Vec::new();
    loop {
        let pending: BTreeMap<String, u64> = outbox
            .pending()
            .unwrap()
            .into_iter()
            .map(|q| (q.id, q.submission.request.object_id))
            .collect();
        let report =
            outbox.drain(jobs.workspace().store.as_ref(), &quick_retry(), &mut rng).await.unwrap();
        for d in &report.delivered {
            delivered.fetch_add(1, Ordering::SeqCst);
            // Settling may fail during an outage; `groundwork sync` finishes it later.
            let _ = lifecycle.settle_object(pending[&d.id]).await;
        }
        if report.remaining > 0 {
            tokio::time::sleep(pause).await;
            continue;
        }
        let mut submit = |ticket: ClaimTicket| {
            let answer = class(label_of(ticket.object_id));
            outbox.enqueue(lifecycle.submission(&ticket, answer, 3.0).unwrap()).unwrap();
            won.push(ticket);
        };
        match board.claim_next(&name).await {
            Ok(ClaimNext::Claimed(ticket)) => submit(ticket),
            Ok(ClaimNext::Unavailable(Unavailable::NoTaskAvailable)) => break,
            Ok(ClaimNext::Unavailable(Unavailable::WorkerLimitReached)) => {
                match board.held_by(&name).await {
                    Ok(held) => held.into_iter().for_each(&mut submit),
                    Err(e) if is_transient(&e) => tokio::time::sleep(pause).await,
                    Err(e) => panic!("{name}: {e}"),
                }
            }
            Ok(ClaimNext::Unavailable(other)) => panic!("{name}: unexpected {other:?}"),
            Err(e) if is_transient(&e) => tokio::time::sleep(pause).await,
            Err(e) => panic!("{name}: {e}"),
        }
    }
    won
}

/// Starts `workers` resilient workers on `job`; returns their tasks and the delivery counter.
fn spawn_workers(
    env: &Env,
    job: &'static str,
    workers: usize,
    journals: &Path,
    pause: Duration,
) -> (Vec<tokio::task::JoinHandle<Vec<ClaimTicket>>>, Arc<AtomicUsize>) {
    let delivered = Arc::new(AtomicUsize::new(0));
    let tasks = (0..workers)
        .map(|w| {
            tokio::spawn(resilient_worker(
                env.jobs.clone(),
                job,
                format!("worker-{w:02}"),
                journals.join(format!("w{w}")),
                delivered.clone(),
                pause,
            ))
        })
        .collect();
    (tasks, delivered)
}

/// Joins the workers, runs what is pending (as `groundwork sync` would), checks every outbox
/// is empty and the race invariants hold.
async fn finish_and_check(
    env: &Env,
    job: &str,
    objects: usize,
    workers: usize,
    journals: &Path,
    tasks: Vec<tokio::task::JoinHandle<Vec<ClaimTicket>>>,
) {
    let mut tickets = Vec::new();
    for task in tasks {
        match task.await {
            Ok(won) => tickets.extend(won),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    // As `groundwork sync` does after a failure: run again (an injected fault may still be armed).
    let mut attempts = 0;
    loop {
        match Lifecycle::open(&env.jobs, job).await.unwrap().run_pending().await {
            Ok(_) => break,
            Err(e) if attempts < 10 => {
                attempts += 1;
                eprintln!("run_pending failed ({e}); running it again");
            }
            Err(e) => panic!("run_pending kept failing: {e}"),
        }
    }
    for w in 0..workers {
        let outbox = Outbox::open(&journals.join(format!("w{w}")), env.clock.clone()).unwrap();
        assert_eq!(outbox.len().unwrap(), 0, "worker {w}'s outbox drained");
    }
    check_race_outcome(env, job, objects, &tickets).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_offline_mid_run_then_back_nothing_lost_or_duplicated() {
    const WORKERS: usize = 8;
    const OBJECTS: usize = 30;
    let flaky = Arc::new(FlakyStore::new(MemoryStore::new()));
    let env = Env::new(flaky.clone(), "offline");
    let setup =
        Setup::new("outage", Kind::Classification, 3, &["cat", "dog"], source_lines(OBJECTS));
    env.create_job(&setup).await;
    let journals = tempfile::tempdir().unwrap();
    // The first few puts land but their answers are lost on the way back; then, about a third
    // of the way through the work (each answer takes a claim and a response put), the store
    // cuts itself off in the middle of a put — wherever the workers are, however loaded the
    // machine — and comes back after a while.
    flaky.lose_next_put_answers(4);
    flaky.offline_at_put(2 * OBJECTS as u64);
    let (tasks, _delivered) =
        spawn_workers(&env, "outage", WORKERS, journals.path(), Duration::from_millis(2));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !flaky.is_offline() {
        assert!(std::time::Instant::now() < deadline, "the workers never reached the outage");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(flaky.injected_failures() > 4, "the lost answers and the outage were felt");
    tokio::time::sleep(Duration::from_millis(150)).await;
    flaky.set_offline(false);
    finish_and_check(&env, "outage", OBJECTS, WORKERS, journals.path(), tasks).await;
}

/// The child side of the SIGKILL test: journals a submission, then starts delivering through a
/// store that stops forever at the upload, and waits to be killed. Does nothing unless run by
/// `a_worker_killed_between_journal_and_upload_delivers_exactly_once`.
#[tokio::test]
async fn child_worker_process() {
    let Ok(phase) = std::env::var("GW_LIFECYCLE_CHILD") else { return };
    let root = std::env::var("GW_CHILD_STORE").unwrap();
    let journal = std::env::var("GW_CHILD_JOURNAL").unwrap();
    let ready = std::env::var("GW_CHILD_READY").unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(&root).unwrap());
    let env = Env::new(store.clone(), "kill");
    env.clock.set_ms(T0 + 5_000);
    let lifecycle = Lifecycle::open(&env.jobs, "crash").await.unwrap();
    let board = lifecycle.claim_board().unwrap();
    let ticket = match board.claim_next("kid").await.unwrap() {
        ClaimNext::Claimed(t) => t,
        other => panic!("{other:?}"),
    };
    let outbox = Outbox::open(Path::new(&journal), env.clock.clone()).unwrap();
    outbox.enqueue(lifecycle.submission(&ticket, class("dog"), 7.0).unwrap()).unwrap();
    let pausing =
        Pausing { inner: store, after_upload: phase == "after-upload", ready: ready.into() };
    let mut rng = fastrand::Rng::with_seed(1);
    let _ = outbox.drain(&pausing, &quick_retry(), &mut rng).await;
    unreachable!("the upload never returns");
}

/// A store whose worker-response upload stops forever (before or after reaching the store),
/// after writing the `ready` marker.
#[derive(Debug)]
struct Pausing {
    inner: Arc<dyn ObjectStore>,
    after_upload: bool,
    ready: std::path::PathBuf,
}

impl ObjectStore for Pausing {
    fn get<'a>(
        &'a self,
        path: &'a ObjectPath,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<GetResult, StoreError>> {
        self.inner.get(path, range)
    }
    fn head<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<ObjectMeta, StoreError>> {
        self.inner.head(path)
    }
    fn put<'a>(
        &'a self,
        path: &'a ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> BoxFuture<'a, Result<PutResult, StoreError>> {
        Box::pin(async move {
            if !path.key().contains("/worker-response/") {
                return self.inner.put(path, bytes, options).await;
            }
            if self.after_upload {
                self.inner.put(path, bytes, options).await?;
            }
            std::fs::write(&self.ready, b"paused").unwrap();
            std::future::pending::<Result<PutResult, StoreError>>().await
        })
    }
    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        self.inner.list(prefix, continuation, max_keys)
    }
    fn delete<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<(), StoreError>> {
        self.inner.delete(path)
    }
}

async fn killed_worker_replays_once(phase: &str) {
    let root = tempfile::tempdir().unwrap();
    let journal = tempfile::tempdir().unwrap();
    let ready = journal.path().join("ready");
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(root.path()).unwrap());
    let env = Env::new(store.clone(), "kill");
    let setup = Setup::new("crash", Kind::Classification, 1, &["cat", "dog"], source_lines(1));
    env.create_job(&setup).await;

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_worker_process", "--nocapture", "--test-threads=1"])
        .env("GW_LIFECYCLE_CHILD", phase)
        .env("GW_CHILD_STORE", root.path())
        .env("GW_CHILD_JOURNAL", journal.path())
        .env("GW_CHILD_READY", &ready)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !ready.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the child ended before pausing");
        assert!(started.elapsed() < Duration::from_secs(60), "the child never paused");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());

    let out = env.output("crash");
    let responses = out.worker_responses_prefix().unwrap();
    let before = env.keys(&responses).await;
    assert_eq!(before.len(), usize::from(phase == "after-upload"), "{before:?}");
    // After the restart: the journal still holds the submission; replaying it lands it once.
    let outbox = Outbox::open(journal.path(), env.clock.clone()).unwrap();
    assert_eq!(outbox.len().unwrap(), 1);
    let mut rng = fastrand::Rng::with_seed(2);
    let report = outbox.drain(store.as_ref(), &quick_retry(), &mut rng).await.unwrap();
    assert_eq!(report.delivered.len(), 1, "{:?}", report.last_error);
    assert_eq!(report.delivered[0].replayed, phase == "after-upload");
    assert_eq!(report.delivered[0].claim, ClaimMark::Submitted);
    assert!(!report.delivered[0].late);
    assert_eq!(outbox.len().unwrap(), 0);
    let after = env.keys(&responses).await;
    assert_eq!(after.len(), 1, "exactly once: {after:?}");
    // Settling after the replay completes the job.
    let lifecycle = Lifecycle::open(&env.jobs, "crash").await.unwrap();
    assert_eq!(lifecycle.settle_object(0).await.unwrap(), Settled::Consolidated);
    let lines = env.output_lines("crash").await;
    assert!(lines[0].contains(r#""crash":1"#), "{lines:?}");
}

#[tokio::test]
async fn a_worker_killed_between_journal_and_upload_delivers_exactly_once() {
    if std::env::var_os("GW_LIFECYCLE_CHILD").is_some() {
        return;
    }
    killed_worker_replays_once("before-upload").await;
}

#[tokio::test]
async fn a_worker_killed_between_upload_and_acknowledgement_delivers_exactly_once() {
    if std::env::var_os("GW_LIFECYCLE_CHILD").is_some() {
        return;
    }
    killed_worker_replays_once("after-upload").await;
}

// ------------------------------------------------------------------------------------------------
// The headless worker CLI, through its library-level functions

#[tokio::test]
async fn cli_task_next_submit_release_decline_and_sync() {
    let flaky = Arc::new(FlakyStore::new(MemoryStore::new()));
    let env = Env::new(flaky.clone(), "cli");
    let setup = Setup::new("cli-job", Kind::Classification, 1, &["cat", "dog"], source_lines(3));
    env.create_job(&setup).await;
    let data = tempfile::tempdir().unwrap();
    let state = task::state_dir(data.path(), "workspace-under-test");
    assert!(state.starts_with(data.path().join("outbox")));
    let retry = quick_retry();

    // next → object 0 with its manifest line; submit → delivered and consolidated at once.
    let next = task::next(&env.jobs, &state, "cli-job", "ann").await.unwrap();
    assert_eq!((next.ticket.object_id, next.ticket.slot), (0, 0));
    assert_eq!(next.manifest_line, json!({"source-ref": "s3://gw-test/img/0.jpg"}));
    let done =
        task::submit(&env.jobs, &state, "cli-job", "ann", 0, class("cat"), &retry).await.unwrap();
    assert!(done.delivered());
    assert_eq!(
        done.delivery.settled.get(&("cli-job".to_owned(), 0)),
        Some(&Ok(Settled::Consolidated))
    );

    // Submitting for an object one holds no claim on is refused, naming the object.
    let err = task::submit(&env.jobs, &state, "cli-job", "ann", 2, class("cat"), &retry)
        .await
        .unwrap_err();
    assert!(err.message.contains("holds no claim on data object 2"), "{}", err.message);

    // release gives object 1 back; the same worker may take it again, then declines it: with one
    // worker per object that closes it, and the decline settles it as failed.
    let next = task::next(&env.jobs, &state, "cli-job", "ann").await.unwrap();
    assert_eq!(next.ticket.object_id, 1);
    task::release(&env.jobs, &state, "cli-job", "ann", 1).await.unwrap();
    let next = task::next(&env.jobs, &state, "cli-job", "ann").await.unwrap();
    assert_eq!(next.ticket.object_id, 1);
    let (_, settled) = task::decline(&env.jobs, &state, "cli-job", "ann", 1).await.unwrap();
    assert_eq!(settled, Settled::Failed("expired: declined by 1 workers".into()));

    // Offline: the claimed task's answer is journaled anyway (the claim was remembered by
    // `task next`) and waits; `sync` delivers it once the store is back and finishes the job.
    let next = task::next(&env.jobs, &state, "cli-job", "ann").await.unwrap();
    assert_eq!(next.ticket.object_id, 2);
    flaky.set_offline(true);
    let done =
        task::submit(&env.jobs, &state, "cli-job", "ann", 2, class("dog"), &retry).await.unwrap();
    assert!(!done.delivered());
    assert_eq!(done.delivery.remaining, 1);
    assert!(task::sync(&env.jobs, &state, None, &retry).await.is_err(), "sync fails while offline");
    flaky.set_offline(false);
    let report = task::sync(&env.jobs, &state, None, &retry).await.unwrap();
    assert_eq!(report.delivery.delivered.len(), 1);
    assert_eq!(report.delivery.remaining, 0);
    let job = report.jobs["cli-job"].as_ref().unwrap();
    assert_eq!(job.status, Some(LabelingJobStatus::Completed));
    assert_eq!(job.output_manifest, Some(env.output("cli-job").output_manifest().unwrap()));

    // Nothing is left: exit status 3.
    let err: CliError = task::next(&env.jobs, &state, "cli-job", "bob").await.unwrap_err();
    assert_eq!(err.code, task::EXIT_NOTHING_TO_DO);
    let lines = env.output_lines("cli-job").await;
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].contains(r#""cli-job":0"#) && lines[2].contains(r#""cli-job":1"#),
        "{lines:?}"
    );
    assert!(lines[1].contains("failure-reason"), "{lines:?}");
}

#[test]
fn workspace_state_folders_are_distinct_and_stable() {
    let data = Path::new("/data");
    let a = task::state_dir(data, "/home/ann/ws");
    assert_eq!(a, task::state_dir(data, "/home/ann/ws"));
    assert_ne!(a, task::state_dir(data, "s3://team/ws|http://127.0.0.1:8333"));
    assert_eq!(a.parent().unwrap(), data.join("outbox"));
    assert_eq!(a.file_name().unwrap().len(), 16);
}

// ------------------------------------------------------------------------------------------------
// On a real S3 server (SeaweedFS). Skipped when `weed` cannot start, unless
// GROUNDWORK_REQUIRE_S3=1.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_workers_two_hundred_objects_seaweedfs() {
    let Some(server) = seaweed::server_or_skip("thirty_two_workers_two_hundred_objects_seaweedfs")
    else {
        return;
    };
    let store: Arc<dyn ObjectStore> = Arc::new(server.store());
    let started = std::time::Instant::now();
    race(Env::on(store, seaweed::BUCKET, &seaweed::unique_prefix("race")), false).await;
    eprintln!("SeaweedFS race: {:.1} s", started.elapsed().as_secs_f64());
}

/// A SeaweedFS server this test can kill with SIGKILL and restart on the same ports and data
/// folder. `weed` runs under a small `sh` guard reading the test's pipe: closing the pipe (a
/// kill, a drop, or the test process dying) SIGKILLs `weed`.
struct RestartableWeed {
    weed: std::path::PathBuf,
    dir: tempfile::TempDir,
    args: Vec<String>,
    s3_port: u16,
    guard: Option<(std::process::Child, std::process::ChildStdin)>,
}

const WEED_GUARD: &str = r#"
"$@" >>"$GW_WEED_LOG" 2>&1 </dev/null &
pid=$!
while read -r _; do :; done
kill -KILL "$pid" 2>/dev/null
wait "$pid"
"#;

impl RestartableWeed {
    fn start() -> Result<Self, String> {
        let weed = std::env::var_os("GROUNDWORK_WEED")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                    .map(|d| d.join("weed"))
                    .find(|p| p.is_file())
            })
            .ok_or("`weed` is not on PATH")?;
        let dir = tempfile::Builder::new()
            .prefix("groundwork-weed-restart-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let config = dir.path().join("s3.json");
        let identities = json!({"identities": [{"name": "groundwork-test",
            "credentials": [{"accessKey": seaweed::ACCESS_KEY, "secretKey": seaweed::SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]});
        std::fs::write(&config, identities.to_string()).map_err(|e| e.to_string())?;
        let listeners: Vec<_> =
            (0..8).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let ports: Vec<u16> = listeners.iter().map(|l| l.local_addr().unwrap().port()).collect();
        drop(listeners);
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        let args = vec![
            "server".to_owned(),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            format!("-dir={}", data.display()),
            "-volume.max=0".into(),
            "-master.volumeSizeLimitMB=64".into(),
            format!("-master.port={}", ports[0]),
            format!("-master.port.grpc={}", ports[1]),
            format!("-volume.port={}", ports[2]),
            format!("-volume.port.grpc={}", ports[3]),
            format!("-filer.port={}", ports[4]),
            format!("-filer.port.grpc={}", ports[5]),
            "-s3".into(),
            format!("-s3.port={}", ports[6]),
            format!("-s3.port.grpc={}", ports[7]),
            format!("-s3.config={}", config.display()),
            "-s3.autoCreateBucket=false".into(),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
        ];
        let mut server = Self { weed, dir, args, s3_port: ports[6], guard: None };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(WEED_GUARD)
            .arg("sh")
            .arg(&self.weed)
            .args(&self.args)
            .env("GW_WEED_LOG", self.dir.path().join("weed.log"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let stdin = child.stdin.take().ok_or("no stdin pipe")?;
        self.guard = Some((child, stdin));
        let started = std::time::Instant::now();
        while !self.answers() {
            if started.elapsed() > Duration::from_secs(180) {
                return Err("SeaweedFS did not come up within 180 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// True when the S3 port answers HTTP.
    fn answers(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.s3_port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        let mut head = [0u8; 12];
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_exact(&mut head).is_ok()
            && head.starts_with(b"HTTP/1.")
    }

    /// SIGKILLs `weed` and waits for it to be gone.
    fn kill(&mut self) {
        if let Some((mut child, stdin)) = self.guard.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }

    fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.spawn()
    }

    fn store(&self) -> S3Store {
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::from_static("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{}", self.s3_port))
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                seaweed::ACCESS_KEY,
                seaweed::SECRET_KEY,
                None,
                None,
                "groundwork-test",
            ));
        S3Store::from_s3_config(config)
            .with_listing(ListingStrategy::DirectoryWalk)
            .with_retry_policy(StoreRetry::new(
                2,
                Duration::from_millis(20),
                Duration::from_millis(100),
            ))
    }
}

impl Drop for RestartableWeed {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seaweedfs_killed_and_restarted_mid_run_outboxes_drain() {
    const WORKERS: usize = 8;
    const OBJECTS: usize = 24;
    let mut server = match RestartableWeed::start() {
        Ok(server) => server,
        Err(e) if support::required("GROUNDWORK_REQUIRE_S3") => {
            panic!("GROUNDWORK_REQUIRE_S3=1 but SeaweedFS could not start: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: seaweedfs_killed_and_restarted_mid_run_outboxes_drain: {e}");
            return;
        }
    };
    let s3 = server.store();
    let started = std::time::Instant::now();
    while let Err(e) = s3.client().create_bucket().bucket(seaweed::BUCKET).send().await {
        assert!(started.elapsed() < Duration::from_secs(120), "cannot create the bucket: {e:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let env = Env::on(Arc::new(s3), seaweed::BUCKET, "restart");
    let setup =
        Setup::new("restart", Kind::Classification, 3, &["cat", "dog"], source_lines(OBJECTS));
    env.create_job(&setup).await;
    let journals = tempfile::tempdir().unwrap();
    let (tasks, delivered) =
        spawn_workers(&env, "restart", WORKERS, journals.path(), Duration::from_millis(100));
    while delivered.load(Ordering::SeqCst) < OBJECTS {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // SIGKILL the server mid-run; the workers keep answering into their outboxes and retrying.
    server.kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let at_kill = delivered.load(Ordering::SeqCst);
    let restart = std::time::Instant::now();
    tokio::task::block_in_place(|| server.restart()).unwrap();
    eprintln!(
        "SeaweedFS restarted in {:.1} s; {at_kill} of {} answers delivered before",
        restart.elapsed().as_secs_f64(),
        OBJECTS * 3
    );
    assert!(at_kill < OBJECTS * 3, "the kill happened mid-run");
    finish_and_check(&env, "restart", OBJECTS, WORKERS, journals.path(), tasks).await;
}
