//! The 3D cuboid task screen, driven the way a worker drives it (egui_kittest with wgpu): open the
//! demo's `street-cuboids` job, place a cuboid on the parked car with two clicks in the top view,
//! snap it to its points with Alt+O, set an attribute, submit, and find the answer in the
//! worker response (the answerContent contract) and in the job's output after consolidation.
//!
//! Without a GPU adapter the tests skip loudly, unless `GROUNDWORK_REQUIRE_GPU=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui::{self, Env, delivered_responses, env, gpu_available, wait_idle};
use crate::support;

use std::time::{Duration, Instant};

use egui::{Event, Key, Modifiers, PointerButton, Pos2, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use nalgebra::Point3;
use serde_json::Value;

use groundwork::app::GroundworkApp;
use groundwork::geometry::StandardView;
use groundwork::store::ObjectPath;
use groundwork::ui::task::cloud::pixel_of;

const JOB: &str = "street-cuboids";

/// Opens the demo workspace, starts `job`, and waits for its first frame.
fn settle(h: &mut Harness<'_, GroundworkApp>) {
    wait_idle(h, Duration::from_secs(30));
}

/// The app in a `size_px` window, rendering with wgpu.
fn harness(env: &Env, size_px: [f32; 2]) -> Harness<'static, GroundworkApp> {
    gui::harness(env, size_px, 400, true)
}

fn start(h: &mut Harness<'_, GroundworkApp>, job: &str) {
    settle(h);
    h.run_steps(2);
    assert!(h.state().job_rows().iter().any(|j| j.name == job && j.supported), "{job} is listed");
    h.get_by_label(job).click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Start working").click();
    settle(h);
    assert_eq!(h.state().screen_name(), "cloud", "notice: {:?}", h.state().notice());
    let start = Instant::now();
    while h.state().cloud_session().unwrap().current_frame().is_none() {
        assert!(start.elapsed() < Duration::from_secs(60), "the frame did not load");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(3);
}

/// Looks straight down on the parked car.
fn top_view_on_car(h: &mut Harness<'_, GroundworkApp>) {
    top_view_on(h, Point3::new(0.0, -9.0, 0.0), Point3::new(12.0, 3.0, 2.0));
}

fn top_view_on(h: &mut Harness<'_, GroundworkApp>, min: Point3<f64>, max: Point3<f64>) {
    let view = &mut h.state_mut().cloud_session_mut().unwrap().view;
    view.viewport.set_standard_view(StandardView::Top);
    h.run_steps(2);
    let view = &mut h.state_mut().cloud_session_mut().unwrap().view;
    view.viewport.fit_to(min, max);
    h.run_steps(2);
}

fn click_world(h: &mut Harness<'_, GroundworkApp>, world: Point3<f64>) {
    let ppp = h.ctx.pixels_per_point();
    let at: Pos2 = pixel_of(&h.state().cloud_session().unwrap().view, world, ppp).unwrap();
    h.hover_at(at);
    h.step();
    for pressed in [true, false] {
        h.event(Event::PointerButton {
            pos: at,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
    h.step();
    // The paint callback runs the pick; its answer comes with the next frames.
    h.render().unwrap();
    h.run_steps(2);
}

/// The demo car: centre (6, −3, 0.8), 4.4 × 1.9 × 1.6 m, yaw 0.2 rad.
fn along_car(u: f64) -> Point3<f64> {
    let yaw: f64 = 0.2;
    Point3::new(6.0 + u * yaw.cos(), -3.0 + u * yaw.sin(), 1.6)
}

/// New cuboid (N) on the parked car, seen from the top: a click at its back, one at its front.
fn place_car_cuboid(h: &mut Harness<'_, GroundworkApp>) {
    h.key_press(Key::N);
    h.run_steps(1);
    click_world(h, along_car(-2.1));
    click_world(h, along_car(2.1));
}

/// Labels the parked car and submits; returns the worker response's answerContent.
fn label_and_submit(env: &Env, h: &mut Harness<'_, GroundworkApp>) -> Value {
    start(h, JOB);
    top_view_on_car(h);

    place_car_cuboid(h);
    let doc = h.state().cloud_session().unwrap().document();
    assert_eq!(doc.content().objects.len(), 1, "a cuboid was created");
    let (id, first) = doc.objects_at(0)[0];
    assert!((first.yaw - 0.2).abs() < 0.01, "heading from the clicks: {first:?}");
    assert!((first.size[0] - 4.2).abs() < 0.05, "length from the clicks: {first:?}");

    // Snap to the points (Alt+O): the car's own box.
    h.key_press_modifiers(Modifiers::ALT, Key::O);
    h.run_steps(2);
    let b = h.state().cloud_session().unwrap().document().cuboid_at(id, 0).unwrap();
    assert!((b.center[0] - 6.0).abs() < 0.1 && (b.center[1] + 3.0).abs() < 0.1, "{b:?}");
    assert!((b.size[0] - 4.4).abs() < 0.1 && (b.size[1] - 1.9).abs() < 0.1, "{b:?}");
    assert!(b.size[2] > 1.4 && b.size[2] < 1.75, "{b:?}");
    assert!((b.yaw - 0.2).abs() < 0.01);

    // The side views show the selection.
    assert!(h.query_by_label("Top view").is_some());
    assert!(h.query_by_label("Front view").is_some());

    // Submit.
    h.get_by_role_and_label(Role::Button, "Submit").click();
    h.run_steps(2);
    assert_eq!(h.state().screen_name(), "home", "notice: {:?}", h.state().notice());
    let responses = delivered_responses(env, h, JOB, Duration::from_secs(20));
    assert_eq!(responses.len(), 1);
    responses[0]["answers"][0]["answerContent"].clone()
}

/// Closing the app mid-task keeps the cuboid: the last revision is queued to the autosave at
/// exit, and the next start resumes the same object with it.
#[test]
fn a_dropped_app_resumes_its_cuboid_draft() {
    if !gpu_available() {
        return;
    }
    let env = env();
    {
        let mut h = harness(&env, [1400.0, 860.0]);
        start(&mut h, JOB);
        top_view_on_car(&mut h);
        place_car_cuboid(&mut h);
        assert_eq!(h.state().cloud_session().unwrap().document().content().objects.len(), 1);
        h.run_steps(2);
        // A last edit, then the app closes before another frame could autosave it.
        let doc = h.state_mut().cloud_session_mut().unwrap().document_mut();
        let (id, _) = doc.objects_at(0)[0];
        doc.set_class(id, 1).unwrap();
    }
    env.runtime.block_on(env.config.exit_tasks.wait(Duration::from_secs(10)));

    let mut h = harness(&env, [1400.0, 860.0]);
    start(&mut h, JOB);
    let doc = h.state().cloud_session().unwrap().document();
    assert_eq!(doc.content().objects.len(), 1, "the cuboid came back from the draft");
    let (id, cuboid) = doc.objects_at(0)[0];
    assert!((cuboid.yaw - 0.2).abs() < 0.01, "{cuboid:?}");
    let class = doc.content().objects.get(&id).map(|o| o.class);
    assert_eq!(class, Some(1), "the last edit (car → pole), made just before closing, was kept");
    assert!(!doc.can_undo(), "history starts fresh");
}

#[test]
fn label_a_cuboid_and_submit_the_answer() {
    if !gpu_available() {
        return;
    }
    let env = env();
    let mut h = harness(&env, [1400.0, 860.0]);
    let answer = label_and_submit(&env, &mut h);
    let cuboid = &answer["annotations"][0];
    assert_eq!(cuboid["object-name"], "car:1", "{answer}");
    assert_eq!(cuboid["class-id"], 0);
    assert!((cuboid["center-x"].as_f64().unwrap() - 6.0).abs() < 0.1);
    assert!((cuboid["length"].as_f64().unwrap() - 4.4).abs() < 0.1);
    assert!((cuboid["yaw"].as_f64().unwrap() - 0.2).abs() < 0.01);
    assert_eq!(answer["dataset-object-attributes"], serde_json::json!({}));
    assert!(answer.get("adjustmentStatus").is_none());
}

#[test]
fn label_a_cuboid_and_find_the_output_manifest() {
    if !gpu_available() {
        return;
    }
    let env = env();
    let mut h = harness(&env, [1400.0, 860.0]);
    label_and_submit(&env, &mut h);
    // Consolidation writes the job's output manifest with the cuboid inline (spec §5.12).
    let jobs = h.state().jobs_service().unwrap().clone();
    let output = env.runtime.block_on(async {
        support::consolidate_job(&jobs, JOB).await;
        let path = ObjectPath::parse(
            "s3://groundwork-demo/output/street-cuboids/manifests/output/output.manifest",
        )
        .unwrap();
        let got = jobs.workspace().store.get(&path, None).await.unwrap();
        String::from_utf8(got.bytes).unwrap()
    });
    let line: Value = serde_json::from_str(output.lines().next().unwrap()).unwrap();
    let label = &line["street-cuboids"]["annotations"][0];
    assert_eq!(label["object-name"], "car:1", "{line}");
    assert!((label["center-y"].as_f64().unwrap() + 3.0).abs() < 0.1, "{line}");
    assert_eq!(line["street-cuboids-metadata"]["class-map"]["0"], "car", "{line}");
    assert_eq!(line["street-cuboids-metadata"]["type"], "groundtruth/point_cloud_object_detection");
}

/// Tracking over the demo's 4-frame sequence: one cuboid placed and snapped in frame 0, moved
/// in frame 3 (a second keyframe); the frames between are interpolated and the SeqLabel.json
/// answer has the same object in all four frames.
#[test]
fn track_a_car_over_a_sequence() {
    if !gpu_available() {
        return;
    }
    let env = env();
    let mut h = harness(&env, [1400.0, 860.0]);
    start(&mut h, "street-tracking");
    top_view_on(&mut h, Point3::new(-15.0, -9.0, 0.0), Point3::new(-3.0, 3.0, 2.0));
    let moving = |u: f64| Point3::new(-9.0 + u, -3.0, 1.6);
    h.key_press(Key::N);
    h.run_steps(1);
    click_world(&mut h, moving(-2.1));
    click_world(&mut h, moving(2.1));
    h.key_press_modifiers(Modifiers::ALT, Key::O);
    h.run_steps(2);
    let (id, first) = h.state().cloud_session().unwrap().document().objects_at(0)[0];
    assert!((first.center[0] + 9.0).abs() < 0.1, "{first:?}");
    // Autofill: the new object is in every frame.
    assert_eq!(h.state().cloud_session().unwrap().document().objects_at(3).len(), 1);

    // Frame 4 (index 3), through the frame keys; the car has moved 12 m.
    for _ in 0..3 {
        h.key_press(Key::Period);
        h.run_steps(1);
    }
    let start = Instant::now();
    while h.state().cloud_session().unwrap().current_frame().is_none_or(|f| f.index != 3) {
        assert!(start.elapsed() < Duration::from_secs(30), "frame 3 did not load");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(h.state().cloud_session().unwrap().view.frame, 3);
    let mut moved = first;
    moved.center[0] += 12.0;
    moved.yaw = 0.15;
    h.state_mut()
        .cloud_session_mut()
        .unwrap()
        .document_mut()
        .set_cuboid(id, 3, moved, None)
        .unwrap();
    h.run_steps(2);
    let doc = h.state().cloud_session().unwrap().document();
    let mid = doc.cuboid_at(id, 1).unwrap();
    assert!((mid.center[0] - (first.center[0] + 4.0)).abs() < 1e-4, "{mid:?}");
    assert!((mid.yaw - (first.yaw + (0.15 - first.yaw) / 3.0)).abs() < 1e-5, "{mid:?}");

    h.get_by_role_and_label(Role::Button, "Submit").click();
    h.run_steps(2);
    let responses = delivered_responses(&env, &mut h, "street-tracking", Duration::from_secs(20));
    let seq = &responses[0]["answers"][0]["answerContent"]["seqLabel"]["tracking-annotations"];
    let frames = seq.as_array().unwrap();
    assert_eq!(frames.len(), 4);
    let object_id = &frames[0]["annotations"][0]["object-id"];
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f["frame-number"], i);
        assert_eq!(f["frame-name"], format!("frame-{i:02}.bin"));
        let a = &f["annotations"][0];
        assert_eq!(&a["object-id"], object_id);
        assert_eq!(a["object-name"], "car:1");
        let x = a["center-x"].as_f64().unwrap();
        assert!((x - (first.center[0] + 4.0 * i as f64)).abs() < 1e-4, "frame {i}: {x}");
    }

    // Consolidation: the output line points at a SeqLabel.json with the same four frames.
    let jobs = h.state().jobs_service().unwrap().clone();
    let seq_label: Value = env.runtime.block_on(async {
        support::consolidate_job(&jobs, "street-tracking").await;
        let store = &jobs.workspace().store;
        let manifest = ObjectPath::parse(
            "s3://groundwork-demo/output/street-tracking/manifests/output/output.manifest",
        )
        .unwrap();
        let text = String::from_utf8(store.get(&manifest, None).await.unwrap().bytes).unwrap();
        let line: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        let uri = line["street-tracking-ref"].as_str().expect("a SeqLabel.json URI").to_owned();
        let got = store.get(&ObjectPath::parse(&uri).unwrap(), None).await.unwrap();
        serde_json::from_slice(&got.bytes).unwrap()
    });
    let frames = seq_label["tracking-annotations"].as_array().unwrap();
    assert_eq!(frames.len(), 4, "{seq_label}");
    assert_eq!(&frames[2]["annotations"][0]["object-id"], object_id);
}

/// Renders the 3D task screen (with the camera panel) into assets/screenshots/ when
/// `GROUNDWORK_SCREENSHOTS=1`.
#[test]
fn screenshots() {
    if std::env::var("GROUNDWORK_SCREENSHOTS").as_deref() != Ok("1") {
        eprintln!("NOTE: set GROUNDWORK_SCREENSHOTS=1 to render assets/screenshots/");
        return;
    }
    if !gpu_available() {
        return;
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let env = env();
    let mut h = harness(&env, [1500.0, 900.0]);
    start(&mut h, JOB);
    top_view_on_car(&mut h);
    place_car_cuboid(&mut h);
    h.key_press_modifiers(Modifiers::ALT, Key::O);
    h.run_steps(2);
    {
        let view = &mut h.state_mut().cloud_session_mut().unwrap().view;
        view.viewport.set_standard_view(StandardView::Orbit);
        view.viewport.camera.yaw_rad = -0.9;
        view.viewport.camera.pitch_rad = 0.45;
    }
    h.run_steps(2);
    {
        let view = &mut h.state_mut().cloud_session_mut().unwrap().view;
        view.viewport.fit_to(Point3::new(-4.0, -12.0, 0.0), Point3::new(18.0, 8.0, 3.0));
        view.viewport.camera.zoom(1.6);
    }
    h.run_steps(4);
    h.remove_cursor();
    h.run_steps(2);
    let image = h.render().expect("a wgpu adapter");
    image.save(out.join("cloud-task.png")).unwrap();
}

/// The sequence's timeline: last and first frame, jump to a typed frame, and play, which steps
/// through the frames as they load and stops at the end.
#[test]
fn the_sequence_timeline_jumps_and_plays() {
    if !gpu_available() {
        return;
    }
    let env = env();
    let mut h = harness(&env, [1400.0, 860.0]);
    start(&mut h, "street-tracking");
    let frame = |h: &Harness<'_, GroundworkApp>| h.state().cloud_session().unwrap().view.frame;
    assert!(h.query_by_label("Timeline").is_some());
    h.get_by_role_and_label(Role::Button, "Last frame").click();
    h.run_steps(2);
    assert_eq!(frame(&h), 3);
    h.get_by_role_and_label(Role::Button, "First frame").click();
    h.run_steps(2);
    assert_eq!(frame(&h), 0);
    // The jump-to-frame field (the screen's one text field).
    h.get_by_role(Role::TextInput).click();
    h.run_steps(1);
    h.get_by_role(Role::TextInput).type_text("3");
    h.run_steps(1);
    h.get_by_role_and_label(Role::Button, "Go to frame").click();
    h.run_steps(2);
    assert_eq!(frame(&h), 2, "typed frame numbers count from 1");
    h.get_by_role_and_label(Role::Button, "First frame").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Play").click();
    h.run_steps(1);
    assert!(h.state().cloud_session().unwrap().view.playback.playing);
    h.run_steps(1);
    assert!(h.query_by_label("Pause").is_some(), "the button says what it does now");
    let start = Instant::now();
    while h.state().cloud_session().unwrap().view.playback.playing {
        assert!(start.elapsed() < Duration::from_secs(60), "playing did not reach the end");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(frame(&h), 3, "played to the last frame, then stopped");
}

/// The demo's camera pictures show the scene its clouds sample: points inside the car cuboids,
/// projected through each manifest camera with our sensor maths, land on that car's colour in
/// the picture. The pictures are ray cast by `assets/demo/make_demo.py` with its own camera
/// code, so this also checks our reading of Ground Truth's camera pose (a picture drawn
/// without the cloud, as the demo's first one was, fails it).
#[test]
fn demo_camera_pictures_agree_with_the_clouds() {
    use groundwork::geometry::sensor::{Intrinsics, SensorCamera, pose_isometry};
    use groundwork::store::demo_files::DEMO_FILES;

    let file = |rel: &str| -> &'static [u8] {
        DEMO_FILES.iter().find(|(p, _)| p.ends_with(rel)).map(|(_, b)| *b).unwrap()
    };
    let camera_of = |image: &Value| {
        let n = |k: &str| image[k].as_f64().unwrap();
        let (p, h) = (&image["position"], &image["heading"]);
        let pose = pose_isometry(
            ["x", "y", "z"].map(|k| p[k].as_f64().unwrap()),
            ["qx", "qy", "qz", "qw"].map(|k| h[k].as_f64().unwrap()),
        );
        let k = Intrinsics::pinhole(n("fx"), n("fy"), n("cx"), n("cy"));
        SensorCamera::new(k, nalgebra::Isometry3::identity(), pose)
    };
    let line = file("manifests/pointcloud.manifest").split(|&b| b == b'\n').next().unwrap();
    let manifest: Value = serde_json::from_slice(line).unwrap();
    let single = &manifest["source-ref-metadata"]["images"][0];
    let seq: Value = serde_json::from_slice(file("pointclouds/street-seq.json")).unwrap();
    let last = &seq["frames"][3]["images"][0];
    // Red body (shaded or lit), and the white car's body (grey in shade, never the asphalt).
    let red = |c: [i32; 3]| c[0] > c[1] + 60 && c[0] > c[2] + 60;
    let white = |c: [i32; 3]| c.iter().all(|&v| v > 105) && c[2] - c[0] < 25;
    type IsCar<'a> = &'a dyn Fn([i32; 3]) -> bool;
    let cases: [(&str, &Value, Point3<f64>, IsCar); 3] = [
        ("pointclouds/camera-front-0000.jpg", single, Point3::new(6.0, -3.0, 0.6), &red),
        ("pointclouds/street-seq/camera-front-03.jpg", last, Point3::new(7.0, 4.0, 0.55), &red),
        ("pointclouds/street-seq/camera-front-03.jpg", last, Point3::new(4.5, -2.5, 0.6), &white),
    ];
    for (picture, image, inside_car, is_car) in cases {
        assert!(picture.ends_with(image["image-path"].as_str().unwrap()), "{picture}");
        let rgb = image::load_from_memory(file(picture)).unwrap().to_rgb8();
        let px = camera_of(image).project(inside_car).unwrap();
        assert!(px.x >= 0.0 && px.y >= 0.0, "{picture}: {inside_car} projects off the picture");
        let pixel = rgb.get_pixel(px.x as u32, px.y as u32).0.map(i32::from);
        assert!(
            is_car(pixel),
            "{picture}: {inside_car} projects to {px}, where the picture is {pixel:?}"
        );
    }
}
