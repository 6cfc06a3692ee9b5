//! The `groundwork` binary end to end: demo workspace, job create / describe / list / validate /
//! stop, manifest validation with bad input, and a team workspace on a real S3 server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn groundwork(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_groundwork"));
    cmd.args(args).env("GROUNDWORK_WORKER", "tester").env_remove("GROUNDWORK_WORKSPACE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the groundwork binary runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn demo(dir: &Path) -> String {
    let ws = dir.to_str().unwrap().to_owned();
    let out = groundwork(&["demo", "init", &ws], &[]);
    assert!(out.status.success(), "{}", text(&out));
    ws
}

#[test]
fn create_then_describe_shows_in_progress_and_the_object_count() {
    let dir = tempfile::tempdir().unwrap();
    let ws = demo(dir.path());
    let spec = dir.path().join("boxes2.json");
    let demo_spec = std::fs::read_to_string("assets/demo/jobs/street-boxes.json").unwrap();
    std::fs::write(&spec, demo_spec.replace("\"street-boxes\"", "\"street-boxes-2\"")).unwrap();

    let out =
        groundwork(&["--workspace", &ws, "job", "create", "--spec", spec.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("created job street-boxes-2 with 4 data object(s)"),
        "{}",
        text(&out)
    );

    let out = groundwork(&["--workspace", &ws, "--json", "job", "describe", "street-boxes-2"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let describe: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(describe["LabelingJobStatus"], "InProgress");
    assert_eq!(describe["LabelCounters"]["Unlabeled"], 4);
    assert_eq!(describe["LabelingJobName"], "street-boxes-2");

    // The stored job.json is the canonical form of the spec.
    let stored =
        std::fs::read_to_string(dir.path().join(".groundwork/jobs/street-boxes-2/job.json"))
            .unwrap();
    let parsed = groundwork::job::JobSpec::from_json(&stored).unwrap();
    assert_eq!(stored, parsed.to_canonical_json());

    // Creating it again is refused, naming the job.
    let out =
        groundwork(&["--workspace", &ws, "job", "create", "--spec", spec.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("street-boxes-2"), "{}", text(&out));

    let out = groundwork(&["--workspace", &ws, "--json", "job", "list"], &[]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = list["LabelingJobSummaryList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["LabelingJobName"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"street-boxes-2") && names.contains(&"street-cuboids"), "{names:?}");

    let out = groundwork(&["--workspace", &ws, "job", "stop", "street-boxes-2"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = groundwork(&["--workspace", &ws, "--json", "job", "describe", "street-boxes-2"], &[]);
    let describe: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(describe["LabelingJobStatus"], "Stopped");
}

#[test]
fn an_invalid_spec_lists_every_finding_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let ws = demo(dir.path());
    let spec = dir.path().join("bad.json");
    std::fs::write(
        &spec,
        r#"{"LabelingJobName": "-bad-", "HumanTaskConfig": {"NumberOfHumanWorkersPerDataObject": 12, "TaskTimeLimitInSeconds": 5}}"#,
    )
    .unwrap();
    let out =
        groundwork(&["--workspace", &ws, "--json", "job", "validate", spec.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    let paths: Vec<&str> =
        report["issues"].as_array().unwrap().iter().map(|i| i["path"].as_str().unwrap()).collect();
    for expected in [
        "LabelingJobName",
        "HumanTaskConfig.NumberOfHumanWorkersPerDataObject",
        "HumanTaskConfig.TaskTimeLimitInSeconds",
        "RoleArn",
        "OutputConfig.S3OutputPath",
    ] {
        assert!(paths.contains(&expected), "{expected} missing from {paths:?}");
    }
    for issue in report["issues"].as_array().unwrap() {
        assert!(issue["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(matches!(issue["severity"].as_str(), Some("error" | "warning")), "{issue}");
    }
    // job create refuses it the same way, and writes nothing.
    let out =
        groundwork(&["--workspace", &ws, "job", "create", "--spec", spec.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join(".groundwork/jobs/-bad-").exists());
}

#[test]
fn bad_input_gets_a_clear_error_and_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let ws = demo(dir.path());
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();

    // Malformed JSON in a spec: file, line and column.
    std::fs::write(path("broken.json"), "{\n  \"LabelingJobName\": \"x\",\n  oops\n}").unwrap();
    let out = groundwork(&["--workspace", &ws, "job", "validate", &path("broken.json")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("broken.json") && text(&out).contains("line 3"), "{}", text(&out));

    // Wrong type: the field is named.
    std::fs::write(
        path("types.json"),
        r#"{"HumanTaskConfig": {"TaskTimeLimitInSeconds": "soon"}}"#,
    )
    .unwrap();
    let out = groundwork(&["--workspace", &ws, "job", "validate", &path("types.json")], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));

    // A 200,000-character manifest line: the line is named.
    let long = format!(
        "{{\"source-ref\": \"s3://b/a.jpg\"}}\n{{\"source\": \"{}\"}}\n",
        "x".repeat(200_000)
    );
    std::fs::write(path("long.manifest"), long).unwrap();
    let out = groundwork(&["manifest", "validate", &path("long.manifest"), "--kind", "input"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("long.manifest:2"), "{}", text(&out));

    // Malformed output manifest line.
    std::fs::write(path("out.manifest"), "{\"source-ref\": \"s3://b/a.jpg\"}\n{not json}\n")
        .unwrap();
    let out = groundwork(&["manifest", "validate", &path("out.manifest"), "--kind", "output"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("out.manifest:2"), "{}", text(&out));

    // A `../` key never reaches the file system.
    let out = groundwork(
        &[
            "--workspace",
            &ws,
            "manifest",
            "validate",
            "s3://groundwork-demo/../../etc/passwd",
            "--kind",
            "input",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains(".."), "{}", text(&out));

    // Usage errors exit 2.
    let out = groundwork(&["job", "frobnicate"], &[]);
    assert_eq!(out.status.code(), Some(2));

    assert!(!text(&out).contains("panicked"));
}

#[test]
fn manifest_generate_scans_a_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let ws = demo(dir.path());
    let out = groundwork(
        &[
            "--workspace",
            &ws,
            "--json",
            "manifest",
            "generate",
            "s3://groundwork-demo/images/",
            "--data-type",
            "image",
            "-o",
            "s3://groundwork-demo/manifests/generated.manifest",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["dataObjects"], 4);
    let manifest =
        std::fs::read_to_string(dir.path().join("groundwork-demo/manifests/generated.manifest"))
            .unwrap();
    assert_eq!(manifest.lines().count(), 4);
    assert!(
        manifest.lines().all(|l| l.starts_with("{\"source-ref\":\"s3://groundwork-demo/images/"))
    );
}

#[test]
fn a_team_workspace_on_s3() {
    let Some(server) = support::seaweed::server_or_skip("a_team_workspace_on_s3") else { return };
    let prefix = support::seaweed::unique_prefix("cli");
    let ws = format!("s3://{}/{prefix}catalog", support::seaweed::BUCKET);
    let env = [
        ("AWS_ACCESS_KEY_ID", support::seaweed::ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", support::seaweed::SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
    ];
    let endpoint = server.endpoint_url();
    let base = ["--workspace", ws.as_str(), "--endpoint-url", endpoint.as_str()];

    // Data and labels into the bucket through the store, then a job over them.
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!("s3://{}/{prefix}in/images.manifest", support::seaweed::BUCKET);
    let labels = format!("s3://{}/{prefix}in/labels.json", support::seaweed::BUCKET);
    let store = server.store();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use groundwork::store::{ObjectPath, ObjectStore as _, PutOptions};
        let lines = "{\"source-ref\":\"s3://b/1.jpg\"}\n{\"source-ref\":\"s3://b/2.jpg\"}\n";
        store
            .put(&ObjectPath::parse(&manifest).unwrap(), lines.into(), PutOptions::default())
            .await
            .unwrap();
        let config =
            r#"{"document-version":"2018-11-28","labels":[{"label":"cat"},{"label":"dog"}]}"#;
        store
            .put(&ObjectPath::parse(&labels).unwrap(), config.into(), PutOptions::default())
            .await
            .unwrap();
    });
    let spec = std::fs::read_to_string("assets/demo/jobs/street-scenes.json")
        .unwrap()
        .replace("s3://groundwork-demo/manifests/images.manifest", &manifest)
        .replace("s3://groundwork-demo/config/scene-labels.json", &labels)
        .replace(
            "s3://groundwork-demo/output/",
            &format!("s3://{}/{prefix}out/", support::seaweed::BUCKET),
        )
        .replace(
            "s3://groundwork-demo/config/template.liquid.html",
            &format!("s3://{}/{prefix}in/t.html", support::seaweed::BUCKET),
        );
    let spec_path = dir.path().join("scenes.json");
    std::fs::write(&spec_path, spec).unwrap();

    let mut args = base.to_vec();
    args.extend(["job", "create", "--spec", spec_path.to_str().unwrap()]);
    let out = groundwork(&args, &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 data object(s)"), "{}", text(&out));

    let mut args = base.to_vec();
    args.extend(["--json", "job", "describe", "street-scenes"]);
    let out = groundwork(&args, &env);
    assert!(out.status.success(), "{}", text(&out));
    let describe: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(describe["LabelingJobStatus"], "InProgress");
    assert_eq!(describe["LabelCounters"]["Unlabeled"], 2);
}

/// Claims and submits one task of `job` through `task next` / `task submit` and returns the
/// object id.
fn work_one(ws: &str, data: &Path, job: &str, answer: &Value) -> u64 {
    let env = [("GROUNDWORK_DATA_DIR", data.to_str().unwrap())];
    let out = groundwork(&["--workspace", ws, "--json", "task", "next", "--job", job], &env);
    assert!(out.status.success(), "{}", text(&out));
    let claimed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let object = claimed["dataObjectId"].as_u64().unwrap();
    let file = data.join(format!("{job}-answer.json"));
    std::fs::write(&file, answer.to_string()).unwrap();
    let object_arg = object.to_string();
    let args = [
        "--workspace",
        ws,
        "task",
        "submit",
        "--job",
        job,
        "--object",
        &object_arg,
        "--answer",
        file.to_str().unwrap(),
    ];
    let out = groundwork(&args, &env);
    assert!(out.status.success(), "{}", text(&out));
    object
}

fn output_line(dir: &Path, job: &str) -> Value {
    let manifest =
        dir.join(format!("groundwork-demo/output/{job}/manifests/output/output.manifest"));
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    assert_eq!(text.lines().count(), 1, "{text}");
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

#[test]
fn video_and_3d_answers_become_ground_truth_output() {
    let dir = tempfile::tempdir().unwrap();
    let ws = demo(dir.path());
    let data = tempfile::tempdir().unwrap();

    // Video tracking: the answer's SeqLabel lands as SeqLabel.json and the line points at it.
    let seq = serde_json::json!({"tracking-annotations": [{"frame-no": 0, "frame": "frame-0001.jpg",
        "frame-attributes": {"weather": "rain"},
        "annotations": [{"height": 40, "width": 30, "top": 10, "left": 20, "class-id": "1",
            "label-category-attributes": {"occluded": "no"},
            "object-id": "0f8fad5b-d9cb-469f-a165-70867728950e", "object-name": "pedestrian:1"}]}]});
    let object =
        work_one(&ws, data.path(), "crossing-tracking", &serde_json::json!({"seqLabel": seq}));
    let line = output_line(dir.path(), "crossing-tracking");
    let uri = format!(
        "s3://groundwork-demo/output/crossing-tracking/annotations/consolidated-annotation/output/{object}/SeqLabel.json"
    );
    assert_eq!(line["crossing-tracking-ref"], uri.as_str());
    let meta = &line["crossing-tracking-ref-metadata"];
    assert_eq!(meta["type"], "groundtruth/video-object-tracking");
    assert_eq!(meta["class-map"], serde_json::json!({"1": "pedestrian"}));
    assert_eq!(meta["human-annotated"], "yes");
    let file = dir.path().join(uri.trim_start_matches("s3://"));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(written, seq);

    // 3D detection: the cuboids are inline in the output line.
    let cuboid = serde_json::json!({"label-category-attributes": {}, "object-name": "car:1",
        "class-id": 0, "center-x": 6.5, "center-y": -1.25, "center-z": 0.8, "length": 4.2,
        "width": 1.8, "height": 1.5, "roll": 0, "pitch": 0, "yaw": 0.3});
    work_one(&ws, data.path(), "street-cuboids", &serde_json::json!({"annotations": [cuboid]}));
    let line = output_line(dir.path(), "street-cuboids");
    assert_eq!(line["street-cuboids"], serde_json::json!({"annotations": [cuboid]}));
    let meta = &line["street-cuboids-metadata"];
    assert_eq!(meta["type"], "groundtruth/point_cloud_object_detection");
    assert_eq!(meta["objects"], serde_json::json!([]));
    assert!(meta["class-map"]["0"].is_string(), "{meta}");
    assert_eq!(line["source-ref"], "s3://groundwork-demo/pointclouds/street-0000.bin");
}

#[test]
fn video_files_are_split_into_frame_sequences() {
    if Command::new("ffmpeg").arg("-version").output().is_err() {
        assert!(
            !support::required("GROUNDWORK_REQUIRE_FFMPEG"),
            "GROUNDWORK_REQUIRE_FFMPEG=1 but ffmpeg is not on PATH"
        );
        eprintln!(
            "SKIPPED: ffmpeg is not on PATH (set GROUNDWORK_REQUIRE_FFMPEG=1 to fail instead)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = demo(dir.path());
    let videos = dir.path().join("groundwork-demo/videos");
    std::fs::create_dir_all(&videos).unwrap();
    // 60 frames at 10 fps.
    let made = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg("testsrc=size=64x48:rate=10")
        .args(["-t", "6", "-pix_fmt", "yuv420p"])
        .arg(videos.join("crossing.mp4"))
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::write(videos.join("broken.mp4"), b"not a video at all").unwrap();

    let args = [
        "--workspace",
        &ws,
        "--json",
        "manifest",
        "generate",
        "s3://groundwork-demo/videos/",
        "--data-type",
        "video-files",
        "--every",
        "10",
        "-o",
        "s3://groundwork-demo/manifests/videos.manifest",
    ];
    let out = groundwork(&args, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Frames 1, 10, 20, …, 60 of the 60 (spec §2.3's example).
    assert_eq!(report["videos"][0]["frames"], 7, "{report}");
    assert_eq!(report["dataObjects"], 1, "{report}");
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{report}");
    assert_eq!(skipped[0]["object"], "s3://groundwork-demo/videos/broken.mp4");
    assert!(skipped[0]["reason"].as_str().unwrap().contains("ffmpeg"), "{report}");

    let mut frames: Vec<String> = std::fs::read_dir(videos.join("crossing"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    frames.sort();
    assert_eq!(frames, (1..=7).map(|i| format!("frame-{i:04}.jpg")).collect::<Vec<_>>());
    let sequence: Value = serde_json::from_str(
        &std::fs::read_to_string(videos.join("crossing/crossing.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(sequence["number-of-frames"], 7);
    assert_eq!(sequence["prefix"], "s3://groundwork-demo/videos/crossing/");
    let manifest =
        std::fs::read_to_string(dir.path().join("groundwork-demo/manifests/videos.manifest"))
            .unwrap();
    assert_eq!(
        manifest.trim(),
        r#"{"source-ref":"s3://groundwork-demo/videos/crossing/crossing.json"}"#
    );

    // Without ffmpeg the command says what is missing.
    let out = groundwork(&args, &[("GROUNDWORK_FFMPEG", "/nonexistent/ffmpeg")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("needs the `ffmpeg` command"), "{}", text(&out));
}
