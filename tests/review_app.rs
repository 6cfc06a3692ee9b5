//! The review window, driven through egui_kittest with wgpu (lavapipe/llvmpipe on CI): the stats
//! panel, colour modes by their accessible labels, the top-view shortcut placing known world
//! points at the pixels the camera maths predicts, picking, and a LAZ streamed in pieces.
//!
//! Without a GPU adapter the tests skip loudly, unless `GROUNDWORK_REQUIRE_GPU=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use egui::{Event, Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use groundwork::app::review::ReviewApp;
use groundwork::formats::point_cloud::PointCloud;
use groundwork::render::RenderContext;
use groundwork::ui::review::ReviewInput;
use groundwork::ui::theme;
use nalgebra::Point3;

fn gpu_available() -> bool {
    match RenderContext::new_headless_if_available() {
        Ok(Some(_)) => true,
        Ok(None) => {
            eprintln!("SKIPPED: no GPU adapter (set GROUNDWORK_REQUIRE_GPU=1 to fail instead)");
            false
        }
        Err(e) => panic!("GROUNDWORK_REQUIRE_GPU=1 but: {e}"),
    }
}

fn open(input: ReviewInput) -> Harness<'static, ReviewApp> {
    let mut harness = Harness::builder()
        .with_size([1000.0, 640.0])
        .wgpu()
        .build_eframe(move |cc| ReviewApp::new(cc, input).unwrap());
    let started = Instant::now();
    while !harness.state().screen().is_loaded() {
        assert!(started.elapsed() < Duration::from_secs(60), "loading took over a minute");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(harness.state().screen().error(), None);
    // The hint text would put coloured glyphs among the points.
    if let Some(viewport) = harness.state_mut().screen_mut().viewport_mut() {
        viewport.show_hints = false;
    }
    // Settle the layout and the fit.
    harness.run_steps(3);
    harness
}

/// 50 × 40 points on x 100…139.2, y 200…209.75, z rising with x; ground then building classes.
fn grid_cloud() -> PointCloud {
    let mut cloud = PointCloud::default();
    let mut classes = Vec::new();
    let mut intensity = Vec::new();
    for i in 0..50 {
        for j in 0..40 {
            cloud.positions.push([100.0 + i as f32 * 0.8, 200.0 + j as f32 * 0.25, i as f32 * 0.1]);
            classes.push(if i < 25 { 2 } else { 6 });
            intensity.push(j as u16 * 1000);
        }
    }
    cloud.classification = Some(classes);
    cloud.intensity = Some(intensity);
    cloud
}

/// Five isolated points: the corners of 10 × 5 m and one inside.
fn sparse_cloud() -> (PointCloud, Vec<[f64; 3]>) {
    let world = vec![
        [0.0, 0.0, 0.0],
        [10.0, 0.0, 0.25],
        [0.0, 5.0, 0.5],
        [10.0, 5.0, 0.75],
        [3.0, 2.0, 1.0],
    ];
    let cloud = PointCloud {
        positions: world.iter().map(|p| p.map(|v| v as f32)).collect(),
        ..PointCloud::default()
    };
    (cloud, world)
}

fn is_background(pixel: &image::Rgba<u8>) -> bool {
    let [r, g, b, _] = theme::CANVAS.to_srgba_unmultiplied();
    let d = |a: u8, b: u8| (i16::from(a) - i16::from(b)).abs();
    d(pixel[0], r) <= 2 && d(pixel[1], g) <= 2 && d(pixel[2], b) <= 2
}

/// Screen pixel (harness image) of a world point, through the widget's camera.
fn expected_pixel(harness: &Harness<'_, ReviewApp>, world: [f64; 3]) -> (f64, f64) {
    let viewport = harness.state().screen().viewport().unwrap();
    let rect = viewport.rect();
    let p = viewport
        .camera
        .world_to_pixel(Point3::from(world), viewport.viewport_px())
        .expect("in front of the camera");
    (f64::from(rect.min.x) + p.x, f64::from(rect.min.y) + p.y)
}

#[test]
fn stats_panel_shows_count_bounds_and_classes() {
    if !gpu_available() {
        return;
    }
    let harness = open(ReviewInput::Cloud { name: "grid".into(), cloud: grid_cloud() });
    assert!(harness.query_by_label("2,000").is_some(), "point count");
    for bound in ["100.00", "139.20", "39.20", "200.00", "209.75", "9.75", "0.00"] {
        assert!(harness.query_by_label(bound).is_some(), "bounds: {bound}");
    }
    assert_eq!(harness.query_all_by_label("4.90").count(), 2, "z max and z size");
    assert!(harness.query_by_label("2 Ground").is_some(), "ASPRS class name");
    assert!(harness.query_by_label("6 Building").is_some(), "ASPRS class name");
    assert_eq!(harness.query_all_by_label("1,000").count(), 2, "1,000 points per class");
}

#[test]
fn colour_mode_buttons_change_the_pixels() {
    if !gpu_available() {
        return;
    }
    let mut harness = open(ReviewInput::Cloud { name: "grid".into(), cloud: grid_cloud() });
    let rect = harness.state().screen().viewport().unwrap().rect();
    let crop = |image: &image::RgbaImage| {
        image::imageops::crop_imm(
            image,
            rect.min.x as u32,
            rect.min.y as u32,
            rect.width() as u32,
            rect.height() as u32,
        )
        .to_image()
    };
    let height = crop(&harness.render().unwrap());
    let drawn = height.pixels().filter(|p| !is_background(p)).count();
    assert!(drawn > 2_000, "the cloud covers pixels: {drawn}");

    harness.get_by_label("Classification").click();
    harness.run_steps(2);
    let classes = crop(&harness.render().unwrap());
    let changed = height.pixels().zip(classes.pixels()).filter(|(a, b)| a != b).count();
    assert!(changed > drawn / 2, "{changed} of {drawn} drawn pixels changed colour");
    // Ground is brown, buildings red in the ASPRS palette: both appear.
    let has = |rgb: [u8; 3]| classes.pixels().any(|p| p.0[..3] == rgb);
    assert!(has([166, 118, 62]) && has([220, 70, 60]), "ground and building colours");

    harness.get_by_label("Intensity").click();
    harness.run_steps(2);
    let intensity = crop(&harness.render().unwrap());
    assert!(intensity.pixels().zip(classes.pixels()).filter(|(a, b)| a != b).count() > drawn / 2);
    // Intensity is a grey ramp (the axis gizmo in the bottom-left corner aside).
    let height_px = intensity.height();
    assert!(
        intensity
            .enumerate_pixels()
            .filter(|(x, y, p)| {
                let in_gizmo_corner = *x < 80 && *y + 80 > height_px;
                !is_background(p) && !in_gizmo_corner
            })
            .all(|(_, _, p)| p[0] == p[1] && p[1] == p[2])
    );
}

#[test]
fn top_view_key_puts_world_points_at_the_predicted_pixels_and_a_click_picks() {
    if !gpu_available() {
        return;
    }
    let (cloud, world) = sparse_cloud();
    let mut harness = open(ReviewInput::Cloud { name: "sparse".into(), cloud });
    harness.state_mut().screen_mut().viewport_mut().unwrap().style.point_size_px = 9.0;
    harness.key_press(egui::Key::Num1);
    harness.run_steps(2);

    // Camera maths, independently of the renderer: the top view fitted to the 10 × 5 box puts
    // its centre at the viewport's centre, +x to the right and +y up.
    let viewport = harness.state().screen().viewport().unwrap();
    let rect = viewport.rect();
    let (cx, cy) = expected_pixel(&harness, [5.0, 2.5, 0.5]);
    assert!(
        (cx - f64::from(rect.center().x)).abs() < 0.5
            && (cy - f64::from(rect.center().y)).abs() < 0.5
    );
    let (x0, y0) = expected_pixel(&harness, world[0]);
    let (x1, y1) = expected_pixel(&harness, world[1]);
    let (x2, y2) = expected_pixel(&harness, world[2]);
    assert!(x1 > x0 + 100.0 && (y1 - y0).abs() < 1e-6, "+x is to the right");
    assert!(y2 < y0 - 50.0 && (x2 - x0).abs() < 1e-6, "+y is up (north up)");
    // A 10 × 5 box fills the width (2:1 is wider than the viewport's aspect) with a 5% margin.
    let width = x1 - x0;
    assert!(width > 0.9 * f64::from(rect.width()) && width < f64::from(rect.width()));

    // Rendering: each point is drawn at its predicted pixel, the centre stays empty.
    let image = harness.render().unwrap();
    for (i, p) in world.iter().enumerate() {
        let (x, y) = expected_pixel(&harness, *p);
        let pixel = image.get_pixel(x as u32, y as u32);
        assert!(!is_background(pixel), "point {i} at ({x:.1}, {y:.1}) not drawn: {pixel:?}");
    }
    assert!(is_background(image.get_pixel(cx as u32, cy as u32)), "nothing at the centre");

    // Click on point 4 and read its attributes in the side panel.
    let (x, y) = expected_pixel(&harness, world[4]);
    let pos = Pos2::new(x as f32, y as f32);
    harness.hover_at(pos);
    harness.step();
    for pressed in [true, false] {
        harness.event(Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
    harness.step();
    harness.render().unwrap(); // the paint callback runs the pick
    harness.run_steps(2);
    assert!(harness.query_by_label("Point #4 of 5").is_some(), "picked point shown");
    assert!(harness.query_by_label("3.000").is_some(), "its x");
    assert!(harness.query_by_label("2.000").is_some(), "its y");

    // A click on empty space picks nothing.
    let pos = Pos2::new(cx as f32, cy as f32);
    harness.hover_at(pos);
    harness.step();
    for pressed in [true, false] {
        harness.event(Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
    harness.step();
    harness.render().unwrap();
    harness.run_steps(2);
    assert!(harness.query_by_label("Nothing under the cursor").is_some());
}

#[test]
fn laz_streams_into_the_review_window() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("terrain.laz");
    groundwork::formats::point_cloud::bench_support::write_synthetic_las(&path, 120_000, 5, true)
        .unwrap();
    let harness = open(ReviewInput::File(path));
    let screen = harness.state().screen();
    assert_eq!(screen.title(), "terrain.laz");
    assert_eq!(screen.cloud().unwrap().cloud.len(), 120_000);
    assert_eq!(screen.viewport().unwrap().clouds().len(), 1, "pieces replaced by the whole cloud");
    assert!(harness.query_by_label("120,000").is_some());
    assert!(harness.query_by_label("LAZ").is_some(), "format under the title");
    // The file also carries GPS time and user data, which the viewer does not keep: the stats
    // panel says so rather than listing only what was loaded.
    assert!(harness.query_by_label("Not loaded").is_some());
    assert!(harness.query_by_label("gps_time, user_data").is_some());
}

#[test]
fn corpus_laz_opens() {
    let Some(dir) = support::testdata_dir() else { return };
    if !gpu_available() {
        return;
    }
    let harness = open(ReviewInput::File(dir.join("laspy").join("simple.laz")));
    let done = harness.state().screen().cloud().unwrap();
    assert_eq!(done.cloud.len(), 1065);
    assert!(harness.query_by_label("1,065").is_some());
}

/// `groundwork view picture.png`: the picture fills the canvas (fit), the stats give its size,
/// and the pointer's pixel is reported (column and row from the top-left).
#[test]
fn an_image_opens_fitted_and_reports_the_pixel_under_the_pointer() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("left-red-right-blue.png");
    let picture = image::RgbImage::from_fn(400, 200, |x, _| {
        if x < 200 { image::Rgb([220, 30, 30]) } else { image::Rgb([30, 30, 220]) }
    });
    picture.save(&path).unwrap();
    let mut harness = open(ReviewInput::File(path));
    assert!(harness.query_by_label("400 × 200 px").is_some());
    assert!(harness.query_by_label("–").is_some(), "no pointer over the image yet");

    // The canvas is what the side panel leaves; the fitted picture is centred in it.
    let canvas = harness.ctx.content_rect();
    let side = harness.get_by_label("Size").rect();
    let left = side.right() + (canvas.right() - side.right()) * 0.25;
    let right = side.right() + (canvas.right() - side.right()) * 0.75;
    let mid_y = canvas.center().y;
    let image = harness.render().unwrap();
    let ppp = harness.ctx.pixels_per_point();
    let at = |x: f32| image.get_pixel((x * ppp) as u32, (mid_y * ppp) as u32).0;
    let (l, r) = (at(left + 40.0), at(right - 40.0));
    assert!(l[0] > 150 && l[2] < 100, "left half is red: {l:?}");
    assert!(r[2] > 150 && r[0] < 100, "right half is blue: {r:?}");

    harness.hover_at(Pos2::new(left + 40.0, mid_y));
    harness.run_steps(2);
    // A label's text is its AccessKit value.
    let text = harness
        .query_all_by_label_contains("px")
        .filter_map(|n| n.accesskit_node().value())
        .find(|l| l.starts_with("x "))
        .expect("the pointer's pixel");
    let numbers: Vec<u32> =
        text.split(|c: char| !c.is_ascii_digit()).filter_map(|t| t.parse().ok()).collect();
    assert!(numbers.len() == 2 && numbers[0] < 200 && numbers[1].abs_diff(100) <= 2, "{text}");
}
