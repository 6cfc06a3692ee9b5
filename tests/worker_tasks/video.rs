//! The video-frame task screen, driven the way a worker drives it (egui_kittest: real pointer
//! and key events): on the demo job `crossing-tracking` (12 frames of 320×200), track one car
//! over 10 frames from two keyframes — draw a box on frame 1, step to frame 10, move and resize
//! the car's faint copy there — submit, and find the 10 interpolated boxes in the submitted
//! `SeqLabel` and, after consolidation, in `SeqLabel.json` and the output manifest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui::{self, Env, WORKER, delivered_responses, env, wait_for_object, wait_idle};
use crate::support;

use std::time::{Duration, Instant};

use egui::{Key, Pos2, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use serde_json::Value;

use groundwork::annotation::document::{BoxPx, Geometry, Point2};
use groundwork::app::GroundworkApp;

const JOB: &str = "crossing-tracking";

fn harness(env: &Env, wgpu: bool) -> Harness<'static, GroundworkApp> {
    gui::harness(env, [1280.0, 800.0], 200, wgpu)
}

fn settle(h: &mut Harness<'_, GroundworkApp>) {
    wait_idle(h, Duration::from_secs(20));
    h.run_ok();
}

/// Steps until the current frame is decoded and shown.
fn frame_shown(h: &mut Harness<'_, GroundworkApp>) {
    let start = Instant::now();
    while !h.state().video_session().is_some_and(|s| s.frame_ready()) {
        assert!(start.elapsed() < Duration::from_secs(20), "the frame never showed");
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
    h.run_ok();
}

fn start(h: &mut Harness<'_, GroundworkApp>) {
    settle(h);
    let row = h.state().job_rows().iter().find(|j| j.name == JOB).cloned();
    let row = row.expect("the demo lists crossing-tracking");
    assert!(row.supported, "video tracking jobs can be worked on: {row:?}");
    h.get_by_label(JOB).click();
    h.run_ok();
    h.get_by_role_and_label(Role::Button, "Start working").click();
    settle(h);
    assert_eq!(h.state().screen_name(), "video", "notice: {:?}", h.state().notice());
    frame_shown(h);
}

fn screen(h: &Harness<'_, GroundworkApp>, x: f64, y: f64) -> Pos2 {
    h.state().video_session().unwrap().view.viewport.screen_from_image(Point2::new(x, y))
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

fn bx(left: f64, top: f64, width: f64, height: f64) -> Geometry {
    Geometry::Box(BoxPx { left, top, width, height })
}

/// Geometry equal to `expected` within float noise of the screen ↔ image mapping.
fn assert_near(actual: &Geometry, expected: &Geometry) {
    let (Geometry::Box(a), Geometry::Box(e)) = (actual, expected) else {
        panic!("not boxes: {actual:?}")
    };
    for (x, y) in [(a.left, e.left), (a.top, e.top), (a.width, e.width), (a.height, e.height)] {
        assert!((x - y).abs() < 0.01, "{a:?} != {e:?}");
    }
}

/// Draws car:1 on frame 1, moves and resizes it on frame 10; returns the harness on the task.
fn track_one_car(h: &mut Harness<'_, GroundworkApp>) {
    start(h);
    drag(h, (40.0, 60.0), (100.0, 100.0));
    let session = h.state().video_session().unwrap();
    let doc = session.document();
    let (&car, track) = doc.content().tracks.iter().next().expect("a new instance");
    assert_eq!(doc.track_name(track), "car:1");
    assert_eq!(session.view.selected, Some(car));
    assert_near(&doc.content().shape(car, 0).unwrap().geometry, &bx(40.0, 60.0, 60.0, 40.0));

    // Step to frame 10 with the arrow key.
    for _ in 0..9 {
        h.key_press(Key::ArrowRight);
        h.run_ok();
    }
    assert_eq!(h.state().video_session().unwrap().view.frame, 9);
    frame_shown(h);
    assert!(h.state().video_session().unwrap().document().content().shape(car, 9).is_none());

    // The car's faint copy from frame 1 is there: move it, then resize it by its corner.
    drag(h, (70.0, 80.0), (160.0, 125.0));
    drag(h, (190.0, 145.0), (208.0, 154.0));
    let doc = h.state().video_session().unwrap().document();
    assert_eq!(doc.keyframes(car), vec![0, 9]);
    assert_eq!(doc.frames_of(car), (0..10).collect::<Vec<_>>());
    assert_near(&doc.content().shape(car, 9).unwrap().geometry, &bx(130.0, 105.0, 78.0, 49.0));
    assert_near(&doc.content().shape(car, 4).unwrap().geometry, &bx(80.0, 80.0, 68.0, 44.0));

    // Undo the resize and redo it through the top bar.
    h.get_by_role_and_label(Role::Button, "Undo").click();
    h.run_ok();
    let g = h.state().video_session().unwrap().document().content().shape(car, 9).cloned();
    assert_near(&g.unwrap().geometry, &bx(130.0, 105.0, 60.0, 40.0));
    h.get_by_role_and_label(Role::Button, "Redo").click();
    h.run_ok();
}

/// Checks the ten boxes of car:1, frames 0–9: left 40+10k, top 60+5k, 60+2k × 40+k.
fn assert_ten_boxes(seq_label: &Value) {
    let frames = seq_label["tracking-annotations"].as_array().expect("tracking-annotations");
    assert_eq!(frames.len(), 10, "{seq_label:#}");
    let object_id = frames[0]["annotations"][0]["object-id"].as_str().unwrap().to_owned();
    for (k, frame) in frames.iter().enumerate() {
        assert_eq!(frame["frame-no"], k);
        assert_eq!(frame["frame"], format!("frame_{k:04}.png"));
        let boxes = frame["annotations"].as_array().unwrap();
        assert_eq!(boxes.len(), 1, "frame {k}");
        let b = &boxes[0];
        let k = k as i64;
        assert_eq!(
            (b["left"].as_i64(), b["top"].as_i64(), b["width"].as_i64(), b["height"].as_i64()),
            (Some(40 + 10 * k), Some(60 + 5 * k), Some(60 + 2 * k), Some(40 + k)),
            "frame {k}: {b}"
        );
        assert_eq!(b["class-id"], "0");
        assert_eq!(b["object-name"], "car:1");
        assert_eq!(b["object-id"], object_id.as_str());
    }
}

fn submit_and_collect(env: &Env, h: &mut Harness<'_, GroundworkApp>) -> Value {
    h.get_by_role_and_label(Role::Button, "Submit").click();
    h.run_ok();
    settle(h);
    assert_eq!(h.state().screen_name(), "home", "notice: {:?}", h.state().notice());
    let responses = delivered_responses(env, h, JOB, Duration::from_secs(20));
    assert_eq!(responses.len(), 1, "{responses:?}");
    let answers = responses[0]["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["workerId"], WORKER);
    answers[0]["answerContent"].clone()
}

#[test]
fn track_one_object_over_ten_frames_from_two_keyframes() {
    let env = env();
    let mut h = harness(&env, false);
    track_one_car(&mut h);
    let content = submit_and_collect(&env, &mut h);
    assert!(content.get("adjustmentStatus").is_none(), "a labeling task: {content}");
    assert_ten_boxes(&content["seqLabel"]);
}

/// The same flow through consolidation, which the app runs itself once its delivery lands (as
/// `groundwork task submit` does): `SeqLabel.json` and the output manifest line pointing at it
/// appear without anything else settling the job (spec §5.11).
#[test]
fn tracked_boxes_reach_seq_label_json() {
    let env = env();
    let mut h = harness(&env, false);
    track_one_car(&mut h);
    let _ = submit_and_collect(&env, &mut h);
    let manifest = wait_for_object(
        &env,
        &h,
        &format!("s3://groundwork-demo/output/{JOB}/manifests/output/output.manifest"),
    );
    let text = String::from_utf8(manifest).unwrap();
    let line: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let uri = line["crossing-tracking-ref"].as_str().expect("a -ref label");
    assert!(uri.ends_with("/SeqLabel.json"), "{uri}");
    let meta = &line["crossing-tracking-ref-metadata"];
    assert_eq!(meta["type"], "groundtruth/video-object-tracking");
    assert_eq!(meta["class-map"]["0"], "car");
    let seq = wait_for_object(&env, &h, uri);
    assert_ten_boxes(&serde_json::from_slice(&seq).unwrap());
    // Settling again (what `groundwork sync` would do) finds nothing left and keeps the output.
    let jobs = h.state().jobs_service().unwrap().clone();
    let report = env.runtime.block_on(support::consolidate_job(&jobs, JOB));
    assert!(report.consolidated.is_empty(), "the app had consolidated already: {report:?}");
}

/// Renders the video task screen to `assets/screenshots/video-task.png` (for the README). Runs
/// only with `GROUNDWORK_SCREENSHOTS=1`, as it needs a wgpu adapter (lavapipe or llvmpipe do).
#[test]
fn screenshot() {
    if std::env::var("GROUNDWORK_SCREENSHOTS").as_deref() != Ok("1") {
        eprintln!("NOTE: set GROUNDWORK_SCREENSHOTS=1 to render assets/screenshots/video-task.png");
        return;
    }
    let env = env();
    let mut h = harness(&env, true);
    start(&mut h);
    let step = |h: &mut Harness<'_, GroundworkApp>, key: Key, times: usize| {
        for _ in 0..times {
            h.key_press(key);
            h.run_ok();
        }
        frame_shown(h);
    };
    // The red car drives right 22 px a frame; the pedestrian walks left 4 px a frame.
    drag(&mut h, (9.0, 129.0), (83.0, 171.0));
    step(&mut h, Key::ArrowRight, 9);
    drag(&mut h, (46.0, 150.0), (244.0, 150.0));
    step(&mut h, Key::Home, 1);
    h.key_press(Key::Escape);
    h.key_press(Key::Num2);
    h.run_ok();
    drag(&mut h, (244.0, 121.0), (257.0, 162.0));
    step(&mut h, Key::ArrowRight, 9);
    drag(&mut h, (250.0, 140.0), (214.0, 140.0));
    step(&mut h, Key::ArrowLeft, 4);
    // Select the car on frame 6 (an interpolated box) and point at it.
    let p = screen(&h, 150.0, 150.0);
    h.hover_at(p);
    h.drag_at(p);
    h.drop_at(p);
    h.run_ok();
    h.hover_at(screen(&h, 290.0, 40.0));
    h.run_ok();
    let image = h.render().expect("a wgpu adapter");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    image.save(out.join("video-task.png")).unwrap();
}
