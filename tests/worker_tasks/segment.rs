//! The 3D point-cloud segmentation task, driven the way a worker drives it: egui_kittest (wgpu,
//! lavapipe/llvmpipe on CI) opens the demo job `street-pointseg`, paints with the brush and the
//! lasso through real pointer events, and submits; the answer's `pointLabels` are then decoded from
//! the worker response in the store and compared, point by point, with the points whose projections
//! (through the camera maths, not the app's projection grid) fall under the brush and inside the
//! lasso. The lifecycle's `.zlib` under `annotations/consolidated-annotation/output/` is checked
//! the same way.
//!
//! Without a GPU adapter the tests skip loudly, unless `GROUNDWORK_REQUIRE_GPU=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::gui::{self, Env, WORKER, delivered_responses, env, gpu_available, wait_idle};
use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Pos2, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use nalgebra::Point3;

use groundwork::annotation::point_seg::point_labels_from_answer;
use groundwork::app::GroundworkApp;
use groundwork::formats::output::point_labels;
use groundwork::geometry::StandardView;
use groundwork::store::ObjectPath;
use groundwork::ui::task::segment3d::Segment3dView;

const JOB: &str = "street-pointseg";

fn harness(env: &Env) -> Harness<'static, GroundworkApp> {
    gui::harness(env, [1280.0, 800.0], 200, true)
}

fn settle(h: &mut Harness<'_, GroundworkApp>) {
    wait_idle(h, Duration::from_secs(30));
    h.run_ok();
}

fn view<'a>(h: &'a Harness<'_, GroundworkApp>) -> &'a Segment3dView {
    h.state().point_seg().expect("a segmentation task").view.as_ref().expect("wgpu")
}

fn view_mut<'a>(h: &'a mut Harness<'_, GroundworkApp>) -> &'a mut Segment3dView {
    h.state_mut().point_seg_mut().expect("a segmentation task").view.as_mut().expect("wgpu")
}

/// Opens the demo workspace, starts the segmentation job and waits for the points on the GPU,
/// then turns to `standard` (fitted).
fn open_task(h: &mut Harness<'_, GroundworkApp>, standard: StandardView) {
    settle(h);
    assert!(h.state().job_rows().iter().any(|j| j.name == JOB && j.supported), "{JOB} listed");
    h.get_by_label(JOB).click();
    h.run_ok();
    h.get_by_role_and_label(Role::Button, "Start working").click();
    settle(h);
    assert_eq!(h.state().screen_name(), "segment3d", "notice: {:?}", h.state().notice());
    let start = Instant::now();
    while !view(h).is_ready() {
        assert!(start.elapsed() < Duration::from_secs(60), "the upload did not finish");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    let v = view_mut(h);
    v.viewport.show_hints = false;
    v.viewport.set_standard_view(standard);
    h.run_steps(3);
}

/// Where a world point appears on screen (egui points), through the camera maths.
fn screen_of(h: &Harness<'_, GroundworkApp>, world: [f64; 3]) -> Option<Pos2> {
    let v = view(h);
    let px = v
        .viewport
        .camera
        .world_to_pixel(Point3::new(world[0], world[1], world[2]), v.viewport.viewport_px())?;
    let ppp = h.ctx.pixels_per_point();
    Some(v.viewport.rect().min + egui::vec2(px.x as f32 / ppp, px.y as f32 / ppp))
}

/// Every point's screen position (`None`: behind the camera).
fn screen_positions(h: &Harness<'_, GroundworkApp>) -> Vec<Option<Pos2>> {
    let cloud = Arc::clone(view(h).cloud().unwrap());
    (0..cloud.len()).map(|i| cloud.world_position(i).and_then(|w| screen_of(h, w))).collect()
}

/// A primary-button drag through `path` (screen points), one frame per event, as a hand would.
fn drag_path(h: &mut Harness<'_, GroundworkApp>, path: &[Pos2]) {
    let (Some(&first), Some(&last)) = (path.first(), path.last()) else { return };
    h.hover_at(first);
    h.step();
    h.drag_at(first);
    h.step();
    for &p in path.iter().skip(1) {
        h.hover_at(p);
        h.step();
    }
    h.drop_at(last);
    h.step();
    h.run_ok();
}

fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t =
        if ab.length_sq() > 0.0 { ((p - a).dot(ab) / ab.length_sq()).clamp(0.0, 1.0) } else { 0.0 };
    p.distance(a + ab * t)
}

fn inside(p: Pos2, polygon: &[Pos2]) -> bool {
    let mut inside = false;
    let mut j = polygon.len() - 1;
    for i in 0..polygon.len() {
        let (a, b) = (polygon[i], polygon[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x) {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn distance_to_outline(p: Pos2, polygon: &[Pos2]) -> f32 {
    (0..polygon.len())
        .map(|i| distance_to_segment(p, polygon[i], polygon[(i + 1) % polygon.len()]))
        .fold(f32::INFINITY, f32::min)
}

/// Which points must and must not carry a class: `Some(true)` certainly painted, `Some(false)`
/// certainly not, `None` within half a point of the brush or lasso edge (rounding).
type Expectation = Vec<Option<bool>>;

#[test]
fn paint_with_brush_and_lasso_submit_and_find_the_classes() {
    if !gpu_available() {
        return;
    }
    let env = env();
    let mut h = harness(&env);
    open_task(&mut h, StandardView::Top);
    let camera_before = view(&h).viewport.camera;
    let n = view(&h).cloud().unwrap().len();
    assert_eq!(n, 24_600);

    // Brush "car" (class 2) along the first car's long axis.
    h.get_by_label("car").click();
    h.run_ok();
    assert_eq!(view(&h).active_class, 2);
    let radius_pt = 18.0;
    view_mut(&mut h).brush_radius_pt = radius_pt;
    let a = screen_of(&h, [4.5, -3.3, 0.8]).unwrap();
    let b = screen_of(&h, [7.5, -2.7, 0.8]).unwrap();
    let path: Vec<Pos2> = (0..=4).map(|k| a + (b - a) * (k as f32 / 4.0)).collect();
    drag_path(&mut h, &path);
    assert_eq!(view(&h).viewport.camera, camera_before, "painting must not move the camera");

    let positions = screen_positions(&h);
    let brushed: Expectation = positions
        .iter()
        .map(|p| {
            let d = distance_to_segment((*p)?, a, b);
            if (d - radius_pt).abs() < 0.5 { None } else { Some(d < radius_pt) }
        })
        .collect();
    let count = brushed.iter().filter(|e| **e == Some(true)).count();
    assert!(count > 300, "the brush covers part of the car: {count} points");

    // Lasso "pole" (class 3) around the pole at (15, −6).
    h.get_by_label("Lasso").click();
    h.get_by_label("pole").click();
    h.run_ok();
    let outline: Vec<Pos2> = [[14.2, -6.8], [15.8, -6.8], [15.8, -5.2], [14.2, -5.2]]
        .iter()
        .map(|c| screen_of(&h, [c[0], c[1], 0.0]).unwrap())
        .collect();
    drag_path(&mut h, &outline);
    let lassoed: Expectation = positions
        .iter()
        .map(|p| {
            let p = (*p)?;
            if distance_to_outline(p, &outline) < 0.5 { None } else { Some(inside(p, &outline)) }
        })
        .collect();
    assert!(lassoed.iter().filter(|e| **e == Some(true)).count() >= 600, "the whole pole");

    // The document agrees, and undo/redo take the lasso back and forth as one step.
    let check = |labels: &[u8]| {
        for i in 0..n {
            match (brushed[i], lassoed[i]) {
                (_, Some(true)) => assert_eq!(labels[i], 3, "point {i} in the lasso"),
                (Some(true), Some(false)) => assert_eq!(labels[i], 2, "point {i} under the brush"),
                (Some(false), Some(false)) => assert_eq!(labels[i], 0, "point {i} untouched"),
                _ => {}
            }
        }
    };
    check(h.state().point_seg().unwrap().task.document.labels());
    h.get_by_role_and_label(Role::Button, "Undo").click();
    h.run_ok();
    let after_undo = h.state().point_seg().unwrap().task.document.labels().to_vec();
    assert_eq!(after_undo.iter().filter(|&&c| c == 3).count(), 0);
    h.get_by_role_and_label(Role::Button, "Redo").click();
    h.run_ok();
    check(h.state().point_seg().unwrap().task.document.labels());

    h.get_by_role_and_label(Role::Button, "Submit").click();
    settle(&mut h);
    assert_eq!(h.state().screen_name(), "home");

    let responses = delivered_responses(&env, &mut h, JOB, Duration::from_secs(30));
    assert_eq!(responses.len(), 1, "{responses:?}");
    let answer = &responses[0]["answers"][0];
    assert_eq!(answer["workerId"], WORKER);
    let content = &answer["answerContent"];
    assert_eq!(content["pointCount"], n);
    assert_eq!(content["color-map"]["2"]["class-name"], "car");
    assert_eq!(content["color-map"]["3"]["class-name"], "pole");
    let submitted = point_labels_from_answer(content).unwrap();
    check(&submitted);

    // The Ground Truth output, once the lifecycle consolidates 3D segmentation.
    let jobs = h.state().jobs_service().unwrap().clone();
    let output = env.runtime.block_on(async {
        let report = support::consolidate_job(&jobs, JOB).await;
        assert!(report.unsupported.is_empty(), "{report:?}");
        let prefix = ObjectPath::parse(&format!(
            "s3://groundwork-demo/output/{JOB}/annotations/consolidated-annotation/output/"
        ))
        .unwrap();
        let store = &jobs.workspace().store;
        let page = store.list(&prefix, None, 100).await.unwrap();
        let zlib = page
            .objects
            .iter()
            .find(|o| o.path.key().ends_with(".zlib"))
            .expect("a .zlib label file in the consolidated output");
        store.get(&zlib.path, None).await.unwrap().bytes
    });
    check(&point_labels::decode(&output, Some(n), "output").unwrap());
}

/// `GROUNDWORK_SCREENSHOTS=1`: renders assets/screenshots/segment3d-task.png.
#[test]
fn screenshot() {
    if std::env::var("GROUNDWORK_SCREENSHOTS").as_deref() != Ok("1") {
        eprintln!("NOTE: set GROUNDWORK_SCREENSHOTS=1 to render assets/screenshots/");
        return;
    }
    if !gpu_available() {
        return;
    }
    let env = env();
    let mut h = harness(&env);
    open_task(&mut h, StandardView::Orbit);
    let world = |h: &Harness<'_, GroundworkApp>, pts: &[[f64; 3]]| -> Vec<Pos2> {
        pts.iter().filter_map(|p| screen_of(h, *p)).collect()
    };
    h.get_by_label("Lasso").click();
    // Building: the wall at y = 12.
    h.get_by_label("building").click();
    h.run_ok();
    let wall = world(
        &h,
        &[[-31.0, 11.5, -0.2], [31.0, 11.5, -0.2], [31.0, 12.5, 8.5], [-31.0, 12.5, 8.5]],
    );
    drag_path(&mut h, &wall);
    // Cars: boxes around both.
    h.get_by_label("car").click();
    h.run_ok();
    for (cx, cy) in [(6.0, -3.0), (-8.0, 4.0)] {
        let outline = world(
            &h,
            &[
                [cx - 2.6, cy - 1.4, 0.0],
                [cx + 2.6, cy - 1.4, 0.0],
                [cx + 2.6, cy + 1.4, 1.8],
                [cx - 2.6, cy + 1.4, 1.8],
            ],
        );
        drag_path(&mut h, &outline);
    }
    // Pole.
    h.get_by_label("pole").click();
    h.run_ok();
    let pole =
        world(&h, &[[14.6, -6.4, 0.05], [15.4, -6.4, 0.05], [15.4, -5.6, 5.2], [14.6, -5.6, 5.2]]);
    drag_path(&mut h, &pole);
    // Road: only the unpainted points of the ground, with the brush.
    h.get_by_label("road").click();
    view_mut(&mut h).only_unpainted = true;
    h.get_by_label("Brush").click();
    h.run_ok();
    view_mut(&mut h).brush_radius_pt = 60.0;
    let road = world(
        &h,
        &[
            [-28.0, -8.0, 0.0],
            [28.0, -8.0, 0.0],
            [28.0, 0.0, 0.0],
            [-28.0, 0.0, 0.0],
            [-28.0, 8.0, 0.0],
            [28.0, 8.0, 0.0],
        ],
    );
    drag_path(&mut h, &road);
    // Hover the brush over the second car.
    view_mut(&mut h).brush_radius_pt = 28.0;
    h.get_by_label("car").click();
    h.run_ok();
    if let Some(p) = screen_of(&h, [-8.0, 4.0, 0.8]) {
        h.hover_at(p);
    }
    h.run_steps(2);
    let image = h.render().expect("a wgpu adapter");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    image.save(out.join("segment3d-task.png")).unwrap();
}
