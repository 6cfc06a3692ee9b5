//! The desktop app, driven the way a worker drives it: egui_kittest finds widgets by their
//! accessible labels and sends real pointer and key events; the answers are then read back from
//! the workspace's store, in Ground Truth's worker-response shape, and consolidated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use egui::{Key, Pos2, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use serde_json::Value;

use groundwork::annotation::consolidate::em::EmOptions;
use groundwork::annotation::consolidate::segmentation_class_colors as segmentation_colors;
use groundwork::annotation::consolidate::{
    BoundingBoxOptions, ClassificationKind, ObjectAnswers, RecordContext, WorkerAnswer,
    consolidate_bounding_boxes, consolidate_semantic_segmentation, consolidate_single_label,
    consolidate_verification,
};
use groundwork::annotation::document::{Mask, Point2};
use groundwork::app::GroundworkApp;
use groundwork::store::ObjectPath;

#[path = "support/gui.rs"]
mod gui;

use gui::{Env, WORKER, env};

fn harness(env: &Env) -> Harness<'static, GroundworkApp> {
    gui::harness(env, [1280.0, 800.0], 200, false)
}

/// Steps frames until every request is answered (or fails the test after 20 s).
fn settle(h: &mut Harness<'_, GroundworkApp>) {
    gui::wait_idle(h, Duration::from_secs(20));
    h.run_ok();
}

/// Opens the demo workspace and starts working on `job`.
fn start(h: &mut Harness<'_, GroundworkApp>, job: &str) {
    settle(h);
    assert_eq!(h.state().screen_name(), "home");
    assert!(h.state().job_rows().iter().any(|j| j.name == job), "{job} is listed");
    h.get_by_label(job).click();
    h.run_ok();
    h.get_by_role_and_label(Role::Button, "Start working").click();
    settle(h);
    assert_eq!(h.state().screen_name(), "task", "notice: {:?}", h.state().notice());
    h.run_ok();
}

fn screen(h: &Harness<'_, GroundworkApp>, x: f64, y: f64) -> Pos2 {
    h.state().task_view().unwrap().viewport.screen_from_image(Point2::new(x, y))
}

/// A primary-button drag through image points.
fn drag(h: &mut Harness<'_, GroundworkApp>, from: (f64, f64), to: (f64, f64)) {
    let a = screen(h, from.0, from.1);
    let b = screen(h, to.0, to.1);
    h.hover_at(a);
    h.drag_at(a);
    h.hover_at(a + (b - a) * 0.3);
    h.hover_at(a + (b - a) * 0.7);
    h.hover_at(b);
    h.drop_at(b);
    h.run_ok();
}

fn click_image(h: &mut Harness<'_, GroundworkApp>, x: f64, y: f64) {
    let p = screen(h, x, y);
    h.hover_at(p);
    h.drag_at(p);
    h.drop_at(p);
    h.run_ok();
}

fn button(h: &mut Harness<'_, GroundworkApp>, label: &str) {
    h.get_by_role_and_label(Role::Button, label).click();
    h.run_ok();
}

/// Waits until the sync engine delivered everything, then returns the worker responses of
/// `job` (one JSON document per file).
fn delivered_responses(env: &Env, h: &mut Harness<'_, GroundworkApp>, job: &str) -> Vec<Value> {
    gui::delivered_responses(env, h, job, Duration::from_secs(20))
}

/// The one answer of the one response, checked for the fields spec §6 requires.
fn only_answer(responses: &[Value]) -> Value {
    assert_eq!(responses.len(), 1, "{responses:?}");
    let answers = responses[0]["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1);
    let answer = &answers[0];
    assert_eq!(answer["workerId"], WORKER);
    for key in ["acceptanceTime", "submissionTime"] {
        let t = answer[key].as_str().unwrap();
        assert!(t.ends_with('Z') && t.len() == 24, "{key}: {t}");
    }
    assert!(answer["timeSpentInSeconds"].as_f64().unwrap() >= 0.0);
    answer["answerContent"].clone()
}

fn ctx() -> RecordContext {
    RecordContext::new("labeling-job/test", "2026-01-01T00:00:00.000000")
}

fn street_labels() -> Vec<String> {
    vec!["car".into(), "pedestrian".into(), "tree".into()]
}

#[test]
fn bounding_boxes_draw_relabel_undo_redo_submit() {
    let env = env();
    let mut h = harness(&env);
    start(&mut h, "street-boxes");
    assert_eq!(h.state().current_task(), Some(("street-boxes", 0)));

    drag(&mut h, (100.0, 100.0), (200.0, 180.0));
    drag(&mut h, (300.0, 120.0), (380.0, 220.0));
    let shapes = &h.state().document().unwrap().content().shapes;
    assert_eq!(shapes.len(), 2);
    assert_eq!(shapes[1].class, 0);

    // The new box is selected: choosing a label relabels it.
    h.get_by_label("pedestrian").click();
    h.run_ok();
    assert_eq!(h.state().document().unwrap().content().shapes[1].class, 1);

    button(&mut h, "Undo");
    assert_eq!(h.state().document().unwrap().content().shapes[1].class, 0);
    button(&mut h, "Redo");
    assert_eq!(h.state().document().unwrap().content().shapes[1].class, 1);

    // Move the first box by dragging its inside, then undo the move with Ctrl+Z.
    drag(&mut h, (150.0, 140.0), (160.0, 150.0));
    let moved = h.state().document().unwrap().content().shapes[0].geometry.bounds();
    assert!((moved.left - 110.0).abs() < 1.5 && (moved.top - 110.0).abs() < 1.5, "{moved:?}");
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::Z);
    h.run_ok();
    let back = h.state().document().unwrap().content().shapes[0].geometry.bounds();
    assert!((back.left - 100.0).abs() < 1.5, "{back:?}");

    button(&mut h, "Submit");
    settle(&mut h);
    assert_eq!(h.state().screen_name(), "home");
    let responses = delivered_responses(&env, &mut h, "street-boxes");
    let content = only_answer(&responses);
    let boxes = content["boundingBox"]["boundingBoxes"].as_array().unwrap();
    assert_eq!(boxes.len(), 2);
    assert_eq!(boxes[0]["label"], "car");
    assert_eq!(boxes[1]["label"], "pedestrian");
    let near = |v: &Value, x: f64| (v.as_f64().unwrap() - x).abs() <= 2.0;
    assert!(near(&boxes[0]["left"], 100.0) && near(&boxes[0]["top"], 100.0), "{:?}", boxes[0]);
    assert!(near(&boxes[0]["width"], 100.0) && near(&boxes[0]["height"], 80.0), "{:?}", boxes[0]);
    assert_eq!(
        content["boundingBox"]["inputImageProperties"],
        serde_json::json!({"height": 400, "width": 640})
    );

    let object = ObjectAnswers::new("0", vec![WorkerAnswer::new(WORKER, content)]);
    let record = consolidate_bounding_boxes(
        &object,
        &street_labels(),
        &ctx(),
        &BoundingBoxOptions::default(),
    )
    .unwrap();
    assert_eq!(record.label["annotations"].as_array().unwrap().len(), 2);
}

#[test]
fn classification_by_number_key_and_click() {
    let env = env();
    let mut h = harness(&env);
    start(&mut h, "street-scenes");
    let submit = h.get_by_role_and_label(Role::Button, "Submit");
    assert!(submit.accesskit_node().is_disabled(), "nothing chosen yet");
    h.key_press(Key::Num3);
    h.run_ok();
    assert_eq!(
        h.state().document().unwrap().content().classes.iter().copied().collect::<Vec<_>>(),
        vec![2]
    );
    h.get_by_label("quiet street").click();
    h.run_ok();
    button(&mut h, "Undo");
    button(&mut h, "Redo");
    button(&mut h, "Submit");
    settle(&mut h);
    let content = only_answer(&delivered_responses(&env, &mut h, "street-scenes"));
    assert_eq!(content, serde_json::json!({"crowd-image-classifier": {"label": "quiet street"}}));
    let labels = vec!["busy street".to_owned(), "quiet street".to_owned(), "no street".to_owned()];
    let objects = vec![ObjectAnswers::new("0", vec![WorkerAnswer::new(WORKER, content)])];
    let records = consolidate_single_label(
        &objects,
        &labels,
        ClassificationKind::Image,
        &ctx(),
        &EmOptions::default(),
    )
    .unwrap();
    assert_eq!(records[0].label, serde_json::json!(1));
}

#[test]
fn segmentation_brush_eraser_fill_submit() {
    let env = env();
    let mut h = harness(&env);
    start(&mut h, "street-segmentation");
    // Paint car (label 1) along a line, with a larger brush.
    drag(&mut h, (100.0, 100.0), (200.0, 100.0));
    let mask = h.state().document().unwrap().content().mask.clone().unwrap();
    assert_eq!(mask.get(150, 100), Some(1));
    assert_eq!(mask.get(150, 130), Some(0));
    // Fill a tree polygon.
    h.key_press(Key::Num3);
    h.key_press(Key::P);
    h.run_ok();
    for (x, y) in [(400.0, 200.0), (500.0, 200.0), (500.0, 300.0), (400.0, 300.0)] {
        click_image(&mut h, x, y);
    }
    h.key_press(Key::Enter);
    h.run_ok();
    let mask = h.state().document().unwrap().content().mask.clone().unwrap();
    assert_eq!(mask.get(450, 250), Some(3));
    // Erase the middle of the stroke, then undo the erase and redo it.
    button(&mut h, "Eraser");
    drag(&mut h, (150.0, 90.0), (150.0, 110.0));
    assert_eq!(
        h.state().document().unwrap().content().mask.as_ref().unwrap().get(150, 100),
        Some(0)
    );
    button(&mut h, "Undo");
    assert_eq!(
        h.state().document().unwrap().content().mask.as_ref().unwrap().get(150, 100),
        Some(1)
    );
    button(&mut h, "Redo");
    let expected = h.state().document().unwrap().content().mask.clone().unwrap();
    assert_eq!(expected.get(150, 100), Some(0));

    button(&mut h, "Submit");
    settle(&mut h);
    let content = only_answer(&delivered_responses(&env, &mut h, "street-segmentation"));
    let element = &content["crowd-semantic-segmentation"];
    assert_eq!(element["labelMappings"]["tree"]["color"], "#ff7f0e");
    let object = ObjectAnswers::new("0", vec![WorkerAnswer::new(WORKER, content.clone())]);
    let out =
        consolidate_semantic_segmentation(&object, &street_labels(), "s3://b/mask.png", &ctx())
            .unwrap();
    let (consolidated, unknown) = Mask::from_png(&out.mask_png, &segmentation_colors(3)).unwrap();
    assert_eq!(unknown, 0);
    assert_eq!(consolidated, expected);
}

#[test]
fn verification_shows_earlier_boxes_and_sends_verdict_with_feedback() {
    let env = env();
    let mut h = harness(&env);
    start(&mut h, "street-boxes-verify");
    let reference = h.state().document().unwrap().reference().cloned().unwrap();
    assert_eq!(reference.shapes.len(), 5, "street-01's five boxes from the earlier output");
    assert_eq!(reference.labels, street_labels());
    h.get_by_label("Incorrect").click();
    h.run_ok();
    let field = h.get_by_role(Role::MultilineTextInput);
    field.focus();
    field.type_text("The tree box is too wide.");
    h.run_ok();
    button(&mut h, "Submit");
    settle(&mut h);
    let content = only_answer(&delivered_responses(&env, &mut h, "street-boxes-verify"));
    assert_eq!(
        content,
        serde_json::json!({"crowd-image-classifier": {"label": "Incorrect", "workerComment": "The tree box is too wide."}})
    );
    let verdicts = vec!["Correct".to_owned(), "Incorrect".to_owned()];
    let objects = vec![ObjectAnswers::new("0", vec![WorkerAnswer::new(WORKER, content)])];
    let records =
        consolidate_verification(&objects, &verdicts, &ctx(), &EmOptions::default()).unwrap();
    assert_eq!(
        records[0].metadata["worker-feedback"],
        serde_json::json!([{"comment": "The tree box is too wide."}])
    );
}

#[test]
fn a_dropped_app_resumes_its_draft() {
    let env = env();
    {
        let mut h = harness(&env);
        start(&mut h, "street-boxes");
        drag(&mut h, (50.0, 60.0), (150.0, 160.0));
        drag(&mut h, (300.0, 300.0), (340.0, 380.0));
        h.get_by_label("tree").click();
        h.run_ok();
        assert_eq!(h.state().document().unwrap().content().shapes.len(), 2);
        // Dropped mid-task, no "stop" pressed.
    }
    env.runtime.block_on(env.config.exit_tasks.wait(Duration::from_secs(10)));

    let mut h = harness(&env);
    settle(&mut h);
    let row = h.state().job_rows().iter().find(|j| j.name == "street-boxes").cloned().unwrap();
    assert_eq!(row.held, 1, "the claim is still held");
    start(&mut h, "street-boxes");
    assert_eq!(
        h.state().current_task(),
        Some(("street-boxes", 0)),
        "the same object, not a new claim"
    );
    let content = h.state().document().unwrap().content().clone();
    assert_eq!(content.shapes.len(), 2);
    assert_eq!(content.shapes[1].class, 2);
    assert!(!h.state().document().unwrap().can_undo(), "history starts fresh");
    // The draft was also synced to the store for other machines.
    assert!(
        env.dir
            .path()
            .join("demo/groundwork-demo/output/street-boxes/annotation-tool/drafts/alice/0.json")
            .exists()
    );
}

#[test]
fn release_gives_the_task_back_and_stop_keeps_it() {
    let env = env();
    let mut h = harness(&env);
    start(&mut h, "street-boxes");
    drag(&mut h, (50.0, 60.0), (150.0, 160.0));
    button(&mut h, "Stop and resume later");
    settle(&mut h);
    assert_eq!(h.state().screen_name(), "home");
    assert_eq!(h.state().job_rows().iter().find(|j| j.name == "street-boxes").unwrap().held, 1);
    start(&mut h, "street-boxes");
    assert_eq!(h.state().document().unwrap().content().shapes.len(), 1);
    button(&mut h, "Release task");
    settle(&mut h);
    assert_eq!(h.state().screen_name(), "home");
    assert_eq!(h.state().job_rows().iter().find(|j| j.name == "street-boxes").unwrap().held, 0);
}

/// Installs the demo (as the app would) and adds a job derived from the demo's `street-boxes`
/// job with `edit` applied; `files` are written to the demo bucket first.
fn add_job(env: &Env, edit: impl FnOnce(&mut Value), files: &[(&str, &str)]) {
    use groundwork::store::catalog::Workspace;
    use groundwork::store::clock::SystemClock;
    use groundwork::store::jobs::Jobs;
    use groundwork::store::{PutOptions, demo};
    let jobs =
        Jobs::new(Workspace::open_local(&env.config.demo_dir).unwrap(), Arc::new(SystemClock));
    env.runtime.block_on(async {
        if !env.config.demo_dir.join(".groundwork").exists() {
            demo::install(&jobs, WORKER).await.unwrap();
        }
        for (key, text) in files {
            let path = ObjectPath::new("groundwork-demo", *key).unwrap();
            jobs.workspace()
                .store
                .put(&path, text.as_bytes().to_vec(), PutOptions::default())
                .await
                .unwrap();
        }
        let base = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/demo/jobs/street-boxes.json"
        ))
        .unwrap();
        let mut spec: Value = serde_json::from_str(&base).unwrap();
        edit(&mut spec);
        let spec = groundwork::job::JobSpec::from_json(&spec.to_string()).unwrap();
        jobs.create(&spec, WORKER).await.unwrap();
    });
}

const POLYGON_TEMPLATE: &str = r#"<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form><crowd-polygon name="outlines" src="{{ task.input.taskObject | grant_read_access }}" labels="{{ task.input.labels | to_json | escape }}"></crowd-polygon></crowd-form>"#;

fn custom_job(name: &'static str, template_key: &'static str) -> impl FnOnce(&mut Value) {
    move |spec: &mut Value| {
        spec["LabelingJobName"] = Value::from(name);
        spec["LabelAttributeName"] = Value::from(name);
        let task = &mut spec["HumanTaskConfig"];
        task["PreHumanTaskLambdaArn"] =
            Value::from("arn:aws:lambda:us-east-1:111122223333:function:gw-pre-passthrough");
        task["AnnotationConsolidationConfig"]["AnnotationConsolidationLambdaArn"] =
            Value::from("arn:aws:lambda:us-east-1:111122223333:function:gw-consolidate");
        task["UiConfig"]["UiTemplateS3Uri"] =
            Value::from(format!("s3://groundwork-demo/{template_key}"));
        task["TaskTitle"] = Value::from("Outline every road user");
    }
}

#[test]
fn polygons_from_a_custom_template() {
    let env = env();
    add_job(
        &env,
        custom_job("street-outlines", "config/polygon.liquid.html"),
        &[("config/polygon.liquid.html", POLYGON_TEMPLATE)],
    );
    let mut h = harness(&env);
    start(&mut h, "street-outlines");
    h.key_press(Key::Num2);
    h.run_ok();
    for (x, y) in [(100.0, 100.0), (200.0, 110.0), (180.0, 200.0)] {
        click_image(&mut h, x, y);
    }
    click_image(&mut h, 100.5, 100.5); // the first corner closes it
    let shapes = h.state().document().unwrap().content().shapes.clone();
    assert_eq!(shapes.len(), 1);
    assert_eq!(shapes[0].class, 1);
    // Drag a vertex of the (selected) polygon.
    drag(&mut h, (200.0, 110.0), (220.0, 120.0));
    button(&mut h, "Submit");
    settle(&mut h);
    let content = only_answer(&delivered_responses(&env, &mut h, "street-outlines"));
    let polygon = &content["outlines"]["polygons"][0];
    assert_eq!(polygon["label"], "pedestrian");
    let vertices = polygon["vertices"].as_array().unwrap();
    assert_eq!(vertices.len(), 3);
    assert!((vertices[1]["x"].as_f64().unwrap() - 220.0).abs() < 1.5, "{vertices:?}");
    assert_eq!(content["outlines"]["inputImageProperties"]["width"], 640);
}

#[test]
fn adjustment_loads_earlier_boxes_and_reports_changes() {
    let env = env();
    add_job(
        &env,
        |spec| {
            spec["LabelingJobName"] = Value::from("street-boxes-adjust");
            spec["LabelAttributeName"] = Value::from("street-boxes-adjusted");
            spec["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"] =
                Value::from("s3://groundwork-demo/manifests/street-boxes.output.manifest");
            spec["HumanTaskConfig"]["PreHumanTaskLambdaArn"] = Value::from(
                "arn:aws:lambda:us-east-1:432418664414:function:PRE-AdjustmentBoundingBox",
            );
            spec["HumanTaskConfig"]["AnnotationConsolidationConfig"]["AnnotationConsolidationLambdaArn"] =
                Value::from(
                    "arn:aws:lambda:us-east-1:432418664414:function:ACS-AdjustmentBoundingBox",
                );
        },
        &[],
    );
    let mut h = harness(&env);
    start(&mut h, "street-boxes-adjust");
    let doc = h.state().document().unwrap();
    assert!(doc.is_adjustment());
    assert_eq!(doc.content().shapes.len(), 5);
    assert_eq!(doc.adjustment_status(), Some("unadjusted"));
    // Select the car at (60, 261, 126×82) and delete it.
    click_image(&mut h, 120.0, 300.0);
    h.key_press(Key::Delete);
    h.run_ok();
    assert_eq!(h.state().document().unwrap().content().shapes.len(), 4);
    assert_eq!(h.state().document().unwrap().adjustment_status(), Some("adjusted"));
    button(&mut h, "Submit");
    settle(&mut h);
    let content = only_answer(&delivered_responses(&env, &mut h, "street-boxes-adjust"));
    assert_eq!(content["boundingBox"]["initialValueModified"], true);
    assert_eq!(content["boundingBox"]["boundingBoxes"].as_array().unwrap().len(), 4);
}

/// Renders every view to `assets/screenshots/*.png` (for the README). Runs only with
/// `GROUNDWORK_SCREENSHOTS=1`, as it needs a wgpu adapter (Mesa's lavapipe or llvmpipe does).
#[test]
fn screenshots() {
    if std::env::var("GROUNDWORK_SCREENSHOTS").as_deref() != Ok("1") {
        eprintln!("NOTE: set GROUNDWORK_SCREENSHOTS=1 to render assets/screenshots/");
        return;
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let shot = |h: &mut Harness<'_, GroundworkApp>, name: &str| {
        h.remove_cursor();
        h.run_ok();
        let image = h.render().expect("a wgpu adapter");
        image.save(out.join(format!("{name}.png"))).unwrap();
    };
    let wgpu_harness = |env: &Env| {
        let config = env.config.clone();
        let handle = env.runtime.handle().clone();
        Harness::builder()
            .with_size([1280.0, 800.0])
            .with_max_steps(200)
            .wgpu()
            .build_eframe(move |cc| GroundworkApp::new(cc, config, handle))
    };

    let env = env();
    add_job(
        &env,
        custom_job("street-outlines", "config/polygon.liquid.html"),
        &[("config/polygon.liquid.html", POLYGON_TEMPLATE)],
    );
    let mut h = wgpu_harness(&env);
    settle(&mut h);
    h.get_by_label("street-boxes").click();
    h.run_ok();
    shot(&mut h, "home");

    start(&mut h, "street-boxes");
    // Every road user of street-01: label first (Escape drops the selection so the key does
    // not relabel the last box), then draw.
    for (key, from, to) in [
        (Key::Num1, (59.0, 259.0), (187.0, 344.0)),
        (Key::Num1, (377.0, 249.0), (472.0, 311.0)),
        (Key::Num2, (287.0, 248.0), (312.0, 323.0)),
        (Key::Num3, (101.0, 119.0), (138.0, 181.0)),
        (Key::Num3, (493.0, 87.0), (548.0, 181.0)),
    ] {
        h.key_press(Key::Escape);
        h.key_press(key);
        h.run_ok();
        drag(&mut h, from, to);
    }
    click_image(&mut h, 300.0, 280.0);
    h.hover_at(screen(&h, 420.0, 150.0));
    shot(&mut h, "bounding-boxes");
    button(&mut h, "Shortcuts");
    shot(&mut h, "shortcuts");
    button(&mut h, "Shortcuts");
    button(&mut h, "Submit");
    settle(&mut h);

    start(&mut h, "street-scenes");
    h.key_press(Key::Num1);
    h.run_ok();
    shot(&mut h, "classification");
    button(&mut h, "Submit");
    settle(&mut h);

    start(&mut h, "street-segmentation");
    h.key_press(Key::P);
    h.key_press(Key::Num1);
    h.run_ok();
    for (x, y) in [
        (62.0, 300.0),
        (80.0, 270.0),
        (170.0, 268.0),
        (186.0, 300.0),
        (186.0, 340.0),
        (62.0, 340.0),
    ] {
        click_image(&mut h, x, y);
    }
    h.key_press(Key::Enter);
    h.key_press(Key::Num3);
    h.key_press(Key::B);
    h.run_ok();
    drag(&mut h, (520.0, 100.0), (520.0, 175.0));
    drag(&mut h, (505.0, 110.0), (535.0, 110.0));
    h.key_press(Key::Num2);
    h.run_ok();
    drag(&mut h, (300.0, 255.0), (300.0, 315.0));
    h.hover_at(screen(&h, 420.0, 160.0));
    shot(&mut h, "segmentation");
    button(&mut h, "Submit");
    settle(&mut h);

    start(&mut h, "street-boxes-verify");
    h.get_by_label("Incorrect").click();
    h.run_ok();
    let field = h.get_by_role(Role::MultilineTextInput);
    field.focus();
    field.type_text("The left tree box is too wide.");
    h.run_ok();
    shot(&mut h, "verification");
    button(&mut h, "Submit");
    settle(&mut h);

    start(&mut h, "street-outlines");
    h.key_press(Key::Num1);
    h.run_ok();
    for (x, y) in [
        (60.0, 300.0),
        (85.0, 268.0),
        (168.0, 266.0),
        (186.0, 298.0),
        (184.0, 340.0),
        (62.0, 342.0),
    ] {
        click_image(&mut h, x, y);
    }
    h.key_press(Key::Enter);
    h.key_press(Key::Escape);
    h.key_press(Key::Num2);
    h.run_ok();
    for (x, y) in [(292.0, 252.0), (309.0, 252.0), (310.0, 318.0), (291.0, 318.0)] {
        click_image(&mut h, x, y);
    }
    h.hover_at(screen(&h, 300.0, 200.0));
    shot(&mut h, "polygons");
}
