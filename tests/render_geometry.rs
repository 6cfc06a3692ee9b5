//! Rendering tests on a real wgpu device (lavapipe/llvmpipe in CI): camera maths checked by the
//! exact pixels known world positions land on, colour modes, picking, images (tiled, mip-mapped)
//! and overlays. Without an adapter every test prints `SKIPPED` and passes, unless
//! `GROUNDWORK_REQUIRE_GPU=1`, which turns a missing adapter into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use groundwork::formats::point_cloud::PointCloud;
use groundwork::geometry::{Camera, Cuboid, ImageView2d, Projection, StandardView, Viewport};
use groundwork::render::cuboids::{CuboidInstance, CuboidRenderer, CuboidStyle};
use groundwork::render::image::{ImageRenderer, ImageSampling, ImageUploadOptions};
use groundwork::render::overlay::{OverlayBuilder, OverlayRenderer, ShapeStyle, Stroke};
use groundwork::render::picking::{PickKind, PickingTarget};
use groundwork::render::points::{
    ColorBy, PointCloudRenderer, PointStyle, PointUploadOptions, asprs_classification_palette,
    default_label_palette, height_color,
};
use groundwork::render::target::{OffscreenTarget, read_texture_region};
use groundwork::render::{RenderContext, TargetFormat, headless};
use nalgebra::{Point2, Point3, Vector2, Vector3};

const BG: [u8; 4] = [10, 20, 30, 255];
/// Odd sizes put the target (the viewport centre) on the centre of pixel (32, 24).
const W: u32 = 65;
const H: u32 = 49;

fn gpu() -> Option<&'static RenderContext> {
    static CONTEXT: OnceLock<Option<RenderContext>> = OnceLock::new();
    CONTEXT
        .get_or_init(|| match RenderContext::new_headless_if_available() {
            Ok(Some(ctx)) => {
                eprintln!("render tests run on {}", ctx.adapter_description());
                Some(ctx)
            }
            Ok(None) => None,
            Err(error) => panic!("GROUNDWORK_REQUIRE_GPU=1 but no usable GPU: {error}"),
        })
        .as_ref()
}

macro_rules! gpu_or_skip {
    () => {
        match gpu() {
            Some(ctx) => ctx,
            None => {
                // Straight to stderr, past the test harness's output capture: a skip is loud.
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED {}:{}: no GPU adapter (GROUNDWORK_REQUIRE_GPU=1 makes this a failure)",
                    file!(),
                    line!()
                );
                return;
            }
        }
    };
}

/// A camera in `view` centred on `target` with exactly one world unit per pixel at the target.
fn unit_camera(view: StandardView, target: Point3<f64>) -> Camera {
    let mut camera = Camera::standard(view);
    camera.target = target;
    camera.distance = (f64::from(H) / 2.0) / (camera.fov_y_rad / 2.0).tan();
    camera.near = 1.0;
    camera.far = 1000.0;
    camera
}

fn cloud_with_rgb(origin: [f64; 3], points: &[([f32; 3], [u8; 3])]) -> PointCloud {
    PointCloud {
        origin,
        positions: points.iter().map(|p| p.0).collect(),
        rgb: Some(points.iter().map(|p| p.1.map(|c| u16::from(c) * 257)).collect()),
        ..PointCloud::default()
    }
}

fn render_points(
    ctx: &RenderContext,
    cloud: &PointCloud,
    camera: &Camera,
    style: &PointStyle,
    upload: &PointUploadOptions,
    label_setup: impl FnOnce(&PointCloudRenderer, &groundwork::render::points::GpuPointCloud),
) -> image::RgbaImage {
    let (device, queue) = (&ctx.device, &ctx.queue);
    let renderer = PointCloudRenderer::new(device, queue, TargetFormat::OFFSCREEN);
    let gpu_cloud = renderer.upload(device, cloud, upload).unwrap();
    label_setup(&renderer, &gpu_cloud);
    let target = OffscreenTarget::new(device, W, H);
    let mut view = renderer.create_view(device);
    renderer.prepare(queue, &mut view, &gpu_cloud, camera, target.viewport(), style);
    target.render(device, queue, BG, |pass| renderer.paint(pass, &view, &gpu_cloud));
    target.read_rgba(device, queue).unwrap()
}

fn rgb(image: &image::RgbaImage, x: u32, y: u32) -> [u8; 3] {
    let p = image.get_pixel(x, y).0;
    [p[0], p[1], p[2]]
}

fn lit_pixels(image: &image::RgbaImage) -> usize {
    image.pixels().filter(|p| p.0 != BG).count()
}

/// The 3×3 block centred on `(x, y)` has `color`.
fn assert_blob(image: &image::RgbaImage, (x, y): (u32, u32), color: [u8; 3], what: &str) {
    for dy in 0..3 {
        for dx in 0..3 {
            let got = rgb(image, x + dx - 1, y + dy - 1);
            assert_eq!(got, color, "{what}: pixel ({}, {})", x + dx - 1, y + dy - 1);
        }
    }
}

fn assert_close(got: [u8; 3], want: [u8; 3], tolerance: u8, what: &str) {
    let ok = (0..3).all(|k| got[k].abs_diff(want[k]) <= tolerance);
    assert!(ok, "{what}: got {got:?}, want {want:?} (±{tolerance})");
}

const RED: [u8; 3] = [255, 0, 0];
const GREEN: [u8; 3] = [0, 255, 0];
const BLUE: [u8; 3] = [0, 0, 255];
const YELLOW: [u8; 3] = [255, 255, 0];

fn squares(size: f32) -> PointStyle {
    PointStyle {
        color_by: ColorBy::Rgb,
        point_size_px: size,
        round: false,
        budget_points: usize::MAX,
        ..PointStyle::default()
    }
}

#[test]
fn points_land_on_the_expected_pixels_in_every_view() {
    let ctx = gpu_or_skip!();
    // A large origin: positions are f32 relative to it, the camera works in f64 world space.
    let origin = [500_000.0, 4_000_000.0, 100.0];
    let target = Point3::new(origin[0], origin[1], origin[2]);
    let cloud = cloud_with_rgb(
        origin,
        &[([0.0, 0.0, 0.0], RED), ([10.0, 5.0, 3.0], GREEN), ([-7.0, -4.0, -6.0], BLUE)],
    );
    // Hand-derived: top shows (x, y) with +y up, side (x, z), front (y, z); centre (32, 24).
    let cases = [
        (StandardView::Top, [(32, 24), (42, 19), (25, 28)]),
        (StandardView::Side, [(32, 24), (42, 21), (25, 30)]),
        (StandardView::Front, [(32, 24), (37, 21), (28, 30)]),
    ];
    for (view, expected) in cases {
        let camera = unit_camera(view, target);
        assert_eq!(camera.projection, Projection::Orthographic);
        let image = render_points(
            ctx,
            &cloud,
            &camera,
            &squares(3.0),
            &PointUploadOptions::default(),
            |_, _| {},
        );
        for ((pixel, color), position) in
            expected.iter().zip([RED, GREEN, BLUE]).zip(&cloud.positions)
        {
            assert_blob(&image, *pixel, color, &format!("{view:?}"));
            let world = target + Vector3::new(position[0], position[1], position[2]).cast::<f64>();
            let projected = camera.world_to_pixel(world, Viewport::new(W, H)).unwrap();
            assert_eq!((projected.x.floor() as u32, projected.y.floor() as u32), *pixel);
        }
        assert_eq!(lit_pixels(&image), 27, "{view:?}: nothing else is drawn");
    }
}

#[test]
fn orbit_view_projects_with_perspective() {
    let ctx = gpu_or_skip!();
    let camera = unit_camera(StandardView::Orbit, Point3::origin());
    assert_eq!(camera.projection, Projection::Perspective);
    let (right, up, forward) = (camera.right(), camera.up(), camera.forward());
    // yaw 45°: screen right is the world direction (1, -1, 0)/√2.
    assert!((right - Vector3::new(1.0, -1.0, 0.0).normalize()).norm() < 1e-12);
    let at = |v: Vector3<f64>| [v.x as f32, v.y as f32, v.z as f32];
    let cloud = cloud_with_rgb(
        [0.0; 3],
        &[
            (at(Vector3::zeros()), RED),
            (at(right * 10.0), GREEN),
            (at(up * 8.0), BLUE),
            // Halfway to the eye everything is twice as large: 10 units right → 20 pixels.
            (at(right * 10.0 - forward * (camera.distance / 2.0)), YELLOW),
        ],
    );
    let image = render_points(
        ctx,
        &cloud,
        &camera,
        &squares(3.0),
        &PointUploadOptions::default(),
        |_, _| {},
    );
    assert_blob(&image, (32, 24), RED, "target");
    assert_blob(&image, (42, 24), GREEN, "right");
    assert_blob(&image, (32, 16), BLUE, "up");
    assert_blob(&image, (52, 24), YELLOW, "near");
    assert_eq!(lit_pixels(&image), 36);
}

#[test]
fn color_modes_produce_the_expected_colors() {
    let ctx = gpu_or_skip!();
    let origin = [1000.0, 2000.0, 50.0];
    let target = Point3::new(origin[0], origin[1], origin[2]);
    let mut cloud = PointCloud {
        origin,
        positions: vec![[-10.0, 0.0, -10.0], [0.0, 0.0, 0.0], [10.0, 0.0, 10.0]],
        intensity: Some(vec![0, 500, 1000]),
        classification: Some(vec![2, 6, 9]),
        ..PointCloud::default()
    };
    let pixels = [(22, 24), (32, 24), (42, 24)];
    let camera = unit_camera(StandardView::Top, target);
    // One chunk per point: labels must follow the reordering into chunks.
    let upload = PointUploadOptions { chunk_points: 1, max_page_bytes: None };
    let style = |color_by| PointStyle { color_by, ..squares(3.0) };

    let image = render_points(
        ctx,
        &cloud,
        &camera,
        &PointStyle { intensity_range: Some([0.0, 1000.0]), ..style(ColorBy::Intensity) },
        &upload,
        |_, _| {},
    );
    for (pixel, grey) in pixels.iter().zip([0u8, 128, 255]) {
        assert_close(rgb(&image, pixel.0, pixel.1), [grey; 3], 1, "intensity");
    }

    let image = render_points(
        ctx,
        &cloud,
        &camera,
        &PointStyle { height_range_m: Some([40.0, 60.0]), ..style(ColorBy::Height) },
        &upload,
        |_, _| {},
    );
    for (pixel, t) in pixels.iter().zip([0.0, 0.5, 1.0]) {
        assert_close(rgb(&image, pixel.0, pixel.1), height_color(t), 1, "height");
    }

    let image =
        render_points(ctx, &cloud, &camera, &style(ColorBy::Classification), &upload, |_, _| {});
    let palette = asprs_classification_palette();
    for (pixel, class) in pixels.iter().zip([2usize, 6, 9]) {
        let [r, g, b, _] = palette[class];
        assert_eq!(rgb(&image, pixel.0, pixel.1), [r, g, b], "classification {class}");
    }

    let image =
        render_points(ctx, &cloud, &camera, &style(ColorBy::Label), &upload, |renderer, gpu| {
            gpu.set_labels(&ctx.queue, &[3, 1, 2]).unwrap();
            let mut palette = default_label_palette();
            palette[2][3] = 0; // label 2 hidden
            renderer.set_label_palette(&ctx.queue, &palette);
        });
    let palette = default_label_palette();
    let [r, g, b, _] = palette[3];
    assert_eq!(rgb(&image, 22, 24), [r, g, b], "label 3");
    let [r, g, b, _] = palette[1];
    assert_eq!(rgb(&image, 32, 24), [r, g, b], "label 1");
    assert_eq!(rgb(&image, 42, 24), [BG[0], BG[1], BG[2]], "hidden label 2 is not drawn");

    // A cloud without RGB falls back to height.
    cloud.classification = None;
    let image = render_points(
        ctx,
        &cloud,
        &camera,
        &PointStyle { height_range_m: Some([40.0, 60.0]), ..style(ColorBy::Rgb) },
        &upload,
        |_, _| {},
    );
    assert_close(rgb(&image, 42, 24), height_color(1.0), 1, "rgb falls back to height");
}

#[test]
fn chunked_pages_draw_every_point_and_the_budget_thins_evenly() {
    let ctx = gpu_or_skip!();
    let (device, queue) = (&ctx.device, &ctx.queue);
    // 100 × 50 points, one per pixel centre of a 100 × 50 top view.
    let (w, h) = (100u32, 50u32);
    let positions: Vec<[f32; 3]> =
        (0..w * h).map(|i| [(i % w) as f32 - 49.5, 24.5 - (i / w) as f32, 0.0]).collect();
    let cloud = PointCloud { positions, ..PointCloud::default() };
    let renderer = PointCloudRenderer::new(device, queue, TargetFormat::OFFSCREEN);
    // Pages of 500 points force ten vertex-buffer sets, as >16M points would at 256 MiB.
    let upload = PointUploadOptions { chunk_points: 64, max_page_bytes: Some(12 * 500) };
    let gpu_cloud = renderer.upload(device, &cloud, &upload).unwrap();
    assert!(gpu_cloud.page_count() >= 10, "{} pages", gpu_cloud.page_count());
    assert!(gpu_cloud.chunk_count() >= 5000 / 64);
    let mut camera = Camera::standard(StandardView::Top);
    camera.distance = (f64::from(h) / 2.0) / (camera.fov_y_rad / 2.0).tan();
    let target = OffscreenTarget::new(device, w, h);
    let mut view = renderer.create_view(device);

    let style =
        PointStyle { point_size_px: 1.0, budget_points: usize::MAX, ..PointStyle::default() };
    let stats = renderer.prepare(queue, &mut view, &gpu_cloud, &camera, target.viewport(), &style);
    assert_eq!(stats.drawn_points, 5000);
    target.render(device, queue, BG, |pass| renderer.paint(pass, &view, &gpu_cloud));
    let image = target.read_rgba(device, queue).unwrap();
    assert_eq!(lit_pixels(&image), 5000, "every point on its own pixel, none lost across pages");

    let style = PointStyle { budget_points: 1000, ..style };
    let stats = renderer.prepare(queue, &mut view, &gpu_cloud, &camera, target.viewport(), &style);
    assert!(stats.drawn_points <= 1000 && stats.drawn_points >= 900, "{stats:?}");
    target.render(device, queue, BG, |pass| renderer.paint(pass, &view, &gpu_cloud));
    let image = target.read_rgba(device, queue).unwrap();
    assert_eq!(lit_pixels(&image), stats.drawn_points);
    for by in 0..h / 10 {
        for bx in 0..w / 10 {
            let lit = (0..100)
                .filter(|i| image.get_pixel(bx * 10 + i % 10, by * 10 + i / 10).0 != BG)
                .count();
            assert!((8..=35).contains(&lit), "block ({bx}, {by}) has {lit} of 100 points lit");
        }
    }

    // Zoomed in on a corner: chunks outside are culled and the rest is drawn in full.
    camera.zoom(4.0);
    camera.target = Point3::new(-40.0, 20.0, 0.0);
    let stats = renderer.prepare(queue, &mut view, &gpu_cloud, &camera, target.viewport(), &style);
    assert!(stats.visible_points < 1000, "{stats:?}");
    assert_eq!(stats.drawn_points, stats.visible_points);
}

#[test]
fn picking_returns_point_and_cuboid_ids() {
    let ctx = gpu_or_skip!();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let origin = [100.0, 200.0, 0.0];
    let target_world = Point3::new(origin[0], origin[1], origin[2]);
    // Many points so the GPU order differs from the cloud's own order.
    let mut positions: Vec<[f32; 3]> = (0..400)
        .map(|i| [-30.0 + (i % 20) as f32 * 0.1, -20.0 + (i / 20) as f32 * 0.1, 0.0])
        .collect();
    positions.push([10.0, 5.0, 1.0]); // index 400, alone at pixel (42, 19)
    let cloud = PointCloud { origin, positions, ..PointCloud::default() };
    let points = PointCloudRenderer::new(device, queue, TargetFormat::OFFSCREEN);
    let upload = PointUploadOptions { chunk_points: 16, max_page_bytes: None };
    let gpu_cloud = points.upload(device, &cloud, &upload).unwrap();
    let camera = unit_camera(StandardView::Top, target_world);
    let viewport = Viewport::new(W, H);
    let mut view = points.create_view(device);
    points.prepare(queue, &mut view, &gpu_cloud, &camera, viewport, &squares(3.0));

    let cuboids = CuboidRenderer::new(device, TargetFormat::OFFSCREEN);
    let mut set = cuboids.create_set(device, origin);
    let cuboid = |x: f64, y: f64| CuboidInstance {
        cuboid: Cuboid::axis_aligned(
            Point3::new(origin[0] + x, origin[1] + y, 0.0),
            Vector3::new(6.0, 4.0, 2.0),
        ),
        color: [255, 255, 0, 255],
        selected: false,
    };
    set.set_instances(device, queue, &[cuboid(-15.0, 10.0), cuboid(15.0, -10.0)]);
    cuboids.prepare(queue, &set, &camera, viewport, &CuboidStyle::default());

    let picker = PickingTarget::new(device, W, H);
    let pick_with = |view: &groundwork::render::points::PointCloudView, pixel: [u32; 2], radius| {
        picker
            .pick(device, queue, pixel, radius, |pass| {
                points.paint_picking(pass, view, &gpu_cloud);
                cuboids.paint_picking(pass, &set);
            })
            .unwrap()
    };
    let pick = |pixel, radius| pick_with(&view, pixel, radius);
    let hit = pick([42, 19], 0).expect("the lone point");
    assert_eq!(hit.kind, PickKind::Point);
    assert_eq!(gpu_cloud.original_index(hit.index), Some(400));
    // Two pixels off, within a radius of 3: still the point.
    let hit = pick([44, 21], 3).expect("near the lone point");
    assert_eq!(gpu_cloud.original_index(hit.index), Some(400));
    // Cuboid 1 is centred at (15, -10) → pixel (47, 34).
    let hit = pick([47, 34], 0).expect("cuboid");
    assert_eq!((hit.kind, hit.index), (PickKind::Cuboid, 1));
    let hit = pick([17, 14], 0).expect("cuboid 0");
    assert_eq!((hit.kind, hit.index), (PickKind::Cuboid, 0));
    assert_eq!(pick([60, 5], 2), None, "empty space");
    // One-pixel points take the PointList pipelines; picking still finds them.
    let mut view = view;
    points.prepare(queue, &mut view, &gpu_cloud, &camera, viewport, &squares(1.0));
    let hit = pick_with(&view, [43, 19], 1).expect("the lone 1-pixel point");
    assert_eq!(gpu_cloud.original_index(hit.index), Some(400));
    assert_eq!(pick_with(&view, [44, 19], 0), None, "a 1-pixel point covers one pixel");
}

#[test]
fn cuboid_edges_faces_and_heading_land_on_the_expected_pixels() {
    let ctx = gpu_or_skip!();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let renderer = CuboidRenderer::new(device, TargetFormat::OFFSCREEN);
    let camera = unit_camera(StandardView::Top, Point3::origin());
    let target = OffscreenTarget::new(device, W, H);
    let style = CuboidStyle { edge_width_px: 3.0, selected_edge_width_px: 5.0, face_alpha: 0.25 };
    let color = [255, 128, 0, 255];
    let render = |yaw_rad: f64| {
        let mut set = renderer.create_set(device, [0.0; 3]);
        let cuboid = Cuboid {
            yaw_rad,
            ..Cuboid::axis_aligned(Point3::origin(), Vector3::new(20.0, 10.0, 4.0))
        };
        set.set_instances(device, queue, &[CuboidInstance { cuboid, color, selected: false }]);
        renderer.prepare(queue, &set, &camera, target.viewport(), &style);
        target.render(device, queue, BG, |pass| renderer.paint(pass, &set));
        target.read_rgba(device, queue).unwrap()
    };
    let edge = [255, 128, 0];
    // Top view of a 20 × 10 box at the origin: x = ±10 → columns 22 and 42, y = ±5 → rows 29, 19.
    let image = render(0.0);
    for (x, y) in [(22, 24), (42, 24), (32, 19), (32, 29), (21, 24), (23, 24)] {
        assert_eq!(rgb(&image, x, y), edge, "edge pixel ({x}, {y})");
    }
    // Heading arrow from the centre to the +x face along row 24.
    assert_eq!(rgb(&image, 37, 24), edge, "heading arrow");
    // Inside: top and bottom faces blended over the background (alpha 0.25 each).
    let blend = |dst: [u8; 3]| -> [u8; 3] {
        std::array::from_fn(|k| {
            (0.25 * f64::from(edge[k]) + 0.75 * f64::from(dst[k])).round() as u8
        })
    };
    let bg = [BG[0], BG[1], BG[2]];
    assert_close(rgb(&image, 28, 22), blend(blend(bg)), 2, "face");
    assert_eq!(rgb(&image, 10, 5), bg, "outside");
    assert_eq!(rgb(&image, 32, 17), bg, "beyond the top edge");

    // Yawed 90°: the box now spans x = ±5, y = ±10 and heads towards +y (up on screen).
    let image = render(std::f64::consts::FRAC_PI_2);
    for (x, y) in [(27, 24), (37, 24), (32, 14), (32, 34)] {
        assert_eq!(rgb(&image, x, y), edge, "yawed edge pixel ({x}, {y})");
    }
    assert_eq!(rgb(&image, 32, 19), edge, "yawed heading arrow points north");
    assert_eq!(rgb(&image, 42, 24), bg, "old extent is empty");
}

fn checker(width: u32, height: u32) -> image::RgbaImage {
    image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([
            (x * 37 % 256) as u8,
            (y * 53 % 256) as u8,
            if (x + y) % 2 == 0 { 40 } else { 220 },
            255,
        ])
    })
}

fn render_image(
    ctx: &RenderContext,
    source: &image::RgbaImage,
    options: &ImageUploadOptions,
    transform: ImageView2d,
    size: (u32, u32),
) -> (image::RgbaImage, usize, u32) {
    let (device, queue) = (&ctx.device, &ctx.queue);
    let renderer = ImageRenderer::new(device, TargetFormat::OFFSCREEN);
    let gpu_image = renderer.upload(device, queue, source, options).unwrap();
    let target = OffscreenTarget::new(device, size.0, size.1);
    let mut view = renderer.create_view(device);
    renderer.prepare(
        queue,
        &mut view,
        &gpu_image,
        &transform,
        target.viewport(),
        ImageSampling::Nearest,
    );
    target.render(device, queue, BG, |pass| renderer.paint(pass, &view, &gpu_image));
    (target.read_rgba(device, queue).unwrap(), gpu_image.tile_count(), gpu_image.mip_levels())
}

#[test]
fn image_pixels_land_where_the_view_puts_them() {
    let ctx = gpu_or_skip!();
    let source = checker(8, 6);
    let transform = ImageView2d { zoom: 4.0, offset_px: Vector2::new(3.0, 5.0) };
    let (image, tiles, mips) =
        render_image(ctx, &source, &ImageUploadOptions::default(), transform, (48, 40));
    assert_eq!((tiles, mips), (1, 4));
    for j in 0..6 {
        for i in 0..8 {
            let want = source.get_pixel(i, j).0;
            // Every screen pixel of the 4×4 block of image pixel (i, j).
            for k in 0..16 {
                let (x, y) = (3 + 4 * i + k % 4, 5 + 4 * j + k / 4);
                assert_close(
                    rgb(&image, x, y),
                    [want[0], want[1], want[2]],
                    1,
                    &format!("image ({i}, {j}) at ({x}, {y})"),
                );
            }
        }
    }
    assert_eq!(rgb(&image, 2, 10), [BG[0], BG[1], BG[2]], "left of the image");
    assert_eq!(rgb(&image, 10, 29), [BG[0], BG[1], BG[2]], "below the image");
}

#[test]
fn tiled_image_is_seamless() {
    let ctx = gpu_or_skip!();
    let source = checker(100, 70);
    let options = ImageUploadOptions { max_tile_px: Some(32) };
    let (image, tiles, _) = render_image(ctx, &source, &options, ImageView2d::default(), (100, 70));
    assert_eq!(tiles, 4 * 3, "30-pixel tiles (32 minus the gutters)");
    for (x, y, want) in source.enumerate_pixels() {
        assert_close(rgb(&image, x, y), [want[0], want[1], want[2]], 1, &format!("({x}, {y})"));
    }
}

#[test]
fn zoomed_out_image_uses_mip_levels() {
    let ctx = gpu_or_skip!();
    // One-pixel black/white checkerboard at 1/8 scale: mips average it to linear mid-grey
    // (sRGB ≈ 188); point sampling level 0 would give black or white.
    let source = image::RgbaImage::from_fn(256, 256, |x, y| {
        let v = if (x + y) % 2 == 0 { 0 } else { 255 };
        image::Rgba([v, v, v, 255])
    });
    let transform = ImageView2d { zoom: 0.125, offset_px: Vector2::zeros() };
    for options in [ImageUploadOptions::default(), ImageUploadOptions { max_tile_px: Some(64) }] {
        let (image, _, _) = render_image(ctx, &source, &options, transform, (32, 32));
        for (x, y) in [(5, 5), (16, 16), (30, 2)] {
            let [r, g, b] = rgb(&image, x, y);
            assert!(
                (180..=196).contains(&r) && r == g && g == b,
                "({x}, {y}) = {r}, tiles {options:?}"
            );
        }
    }
}

#[test]
fn overlay_shapes_land_on_the_expected_pixels() {
    let ctx = gpu_or_skip!();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let renderer = OverlayRenderer::new(device, TargetFormat::OFFSCREEN);
    let mut overlay = renderer.create_overlay(device);
    let mut shapes = OverlayBuilder::new();
    let red = [255, 0, 0, 255];
    let yellow = [255, 255, 0, 255];
    // 10,000 small boxes in a grid off to the right: still three draw calls.
    for i in 0..10_000 {
        let (x, y) = (40.0 + f64::from(i % 100) * 0.2, f64::from(i / 100) * 0.2);
        shapes.add_box(
            Point2::new(x, y),
            Point2::new(x + 0.1, y + 0.1),
            &ShapeStyle { fill: Some([0, 255, 0, 255]), ..ShapeStyle::default() },
        );
    }
    shapes.add_box(
        Point2::new(5.0, 5.0),
        Point2::new(15.0, 10.0),
        &ShapeStyle {
            stroke: Some(Stroke { color: red, width_px: 3.0 }),
            fill: Some([0, 0, 255, 128]),
            highlight: Some(yellow),
        },
    );
    shapes.add_keypoint(Point2::new(20.0, 20.0), 4.0, [255, 0, 255, 255], None, None);
    // x = 2.25 → screen 6.5: the 1-pixel line covers exactly the pixel column 6.
    shapes.add_polyline(
        &[Point2::new(2.25, 20.0), Point2::new(2.25, 22.0)],
        &ShapeStyle {
            stroke: Some(Stroke { color: [0, 255, 255, 255], width_px: 1.0 }),
            ..ShapeStyle::default()
        },
    );
    assert_eq!(shapes.shape_count(), 10_003);
    renderer.upload(device, queue, &mut overlay, &shapes);
    // image → screen: ×2, then +(2, 3). The box spans screen (12, 13)–(32, 23).
    let transform = ImageView2d { zoom: 2.0, offset_px: Vector2::new(2.0, 3.0) };
    let target = OffscreenTarget::new(device, 128, 64);
    renderer.prepare(queue, &overlay, &transform, target.viewport());
    target.render(device, queue, BG, |pass| renderer.paint(pass, &overlay));
    let image = target.read_rgba(device, queue).unwrap();

    assert_eq!(rgb(&image, 12, 18), [255, 0, 0], "left edge");
    assert_eq!(rgb(&image, 11, 18), [255, 0, 0], "left edge, 3 px wide");
    assert_eq!(rgb(&image, 22, 22), [255, 0, 0], "bottom edge");
    assert_eq!(rgb(&image, 9, 18), [255, 255, 0], "selection halo outside the edge");
    // Fill: 50% blue over the background.
    let half = |a: u8, b: u8| ((f64::from(a) * 128.0 + f64::from(b) * 127.0) / 255.0).round() as u8;
    assert_close(
        rgb(&image, 22, 18),
        [half(0, BG[0]), half(0, BG[1]), half(255, BG[2])],
        2,
        "fill",
    );
    assert_eq!(rgb(&image, 42, 43), [255, 0, 255], "keypoint centre");
    assert_eq!(rgb(&image, 48, 43), [BG[0], BG[1], BG[2]], "outside the keypoint");
    assert_eq!(rgb(&image, 6, 44), [0, 255, 255], "polyline");
    assert_eq!(rgb(&image, 5, 44), [BG[0], BG[1], BG[2]], "1-pixel polyline, left neighbour");
    assert_eq!(rgb(&image, 60, 30), [BG[0], BG[1], BG[2]], "empty");
    // The grid of 10,000 boxes starts at image x = 40 → screen x = 82.
    assert_eq!(rgb(&image, 82, 3), [0, 255, 0], "first of the 10,000 boxes");
}

#[test]
fn renderers_draw_into_a_color_only_srgb_pass() {
    // egui's pass: the caller's colour format, no depth attachment.
    let ctx = gpu_or_skip!();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let format = wgpu::TextureFormat::Rgba8UnormSrgb;
    let renderer = PointCloudRenderer::new(device, queue, TargetFormat::color_only(format));
    let color = [200, 100, 50];
    let cloud = cloud_with_rgb([0.0; 3], &[([0.0, 0.0, 0.0], color)]);
    let gpu_cloud = renderer.upload(device, &cloud, &PointUploadOptions::default()).unwrap();
    let mut view = renderer.create_view(device);
    let camera = unit_camera(StandardView::Top, Point3::origin());
    renderer.prepare(queue, &mut view, &gpu_cloud, &camera, Viewport::new(W, H), &squares(3.0));
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("egui-like target"),
        size: wgpu::Extent3d { width: W, height: H, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let texture_view = texture.create_view(&wgpu::TextureViewDescriptor::default());
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: None,
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &texture_view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        renderer.paint(&mut pass, &view, &gpu_cloud);
    }
    queue.submit([encoder.finish()]);
    let bytes = read_texture_region(device, queue, &texture, [32, 24], [1, 1], 4).unwrap();
    // Stored sRGB-encoded: the display colour comes back unchanged.
    assert_close([bytes[0], bytes[1], bytes[2]], color, 1, "sRGB target");
}

#[test]
fn headless_helpers_render_something_of_the_right_size() {
    let ctx = gpu_or_skip!();
    let mut rng = fastrand::Rng::with_seed(3);
    let cloud = PointCloud {
        origin: [10.0, 20.0, 30.0],
        positions: (0..20_000)
            .map(|_| [rng.f32() * 40.0, rng.f32() * 20.0, rng.f32() * 5.0])
            .collect(),
        ..PointCloud::default()
    };
    for view in [StandardView::Top, StandardView::Side, StandardView::Front, StandardView::Orbit] {
        let image = headless::render_point_cloud_png(ctx, &cloud, [160, 90], ColorBy::Height, view)
            .unwrap();
        assert_eq!(image.dimensions(), (160, 90));
        let lit = image.pixels().filter(|p| p.0 != headless::DEFAULT_BACKGROUND).count();
        assert!(lit > 160 * 90 / 10, "{view:?}: only {lit} pixels drawn");
    }
    // Left half orange, right half teal; headless images are sampled bilinearly.
    let source = image::RgbaImage::from_fn(40, 20, |x, _| {
        if x < 20 { image::Rgba([250, 140, 20, 255]) } else { image::Rgba([20, 160, 150, 255]) }
    });
    let image = headless::render_image_png(ctx, &source, [80, 80], None, BG).unwrap();
    // Fitted at zoom 2, centred vertically: image rows cover y = 20..60.
    assert_close(rgb(&image, 10, 30), [250, 140, 20], 1, "fitted image, left half");
    assert_close(rgb(&image, 70, 50), [20, 160, 150], 1, "fitted image, right half");
    assert_eq!(rgb(&image, 40, 5), [BG[0], BG[1], BG[2]], "letterbox above");
    assert_eq!(rgb(&image, 40, 75), [BG[0], BG[1], BG[2]], "letterbox below");
}

/// Frame timings for 1M points (run with `-- --ignored --nocapture`). Prints, never asserts time.
#[test]
#[ignore = "benchmark: prints frame timings"]
fn points_1m_frame_timings() {
    let ctx = gpu_or_skip!();
    let (device, queue) = (&ctx.device, &ctx.queue);
    let n = std::env::var("GROUNDWORK_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000usize);
    let mut rng = fastrand::Rng::with_seed(1);
    let cloud = PointCloud {
        positions: (0..n)
            .map(|_| {
                let (u, v) = (rng.f32() * std::f32::consts::TAU, rng.f32() * 2.0 - 1.0);
                let r = (1.0 - v * v).sqrt();
                [50.0 * r * u.cos(), 50.0 * r * u.sin(), 50.0 * v]
            })
            .collect(),
        intensity: Some((0..n).map(|_| rng.u16(..)).collect()),
        ..PointCloud::default()
    };
    let renderer = PointCloudRenderer::new(device, queue, TargetFormat::OFFSCREEN);
    let start = std::time::Instant::now();
    let gpu_cloud = renderer.upload(device, &cloud, &PointUploadOptions::default()).unwrap();
    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    let upload_ms = start.elapsed().as_secs_f64() * 1e3;
    let target = OffscreenTarget::new(device, 1280, 720);
    let mut camera = Camera::standard(StandardView::Orbit);
    let (min, max) = gpu_cloud.bounds();
    camera.fit_to_bounds(min, max, target.viewport());
    let mut view = renderer.create_view(device);
    eprintln!("adapter: {}", ctx.adapter_description());
    eprintln!(
        "{n} points: upload (reorder + GPU copy) {upload_ms:.0} ms, {} chunks, {} MiB",
        gpu_cloud.chunk_count(),
        gpu_cloud.gpu_bytes() >> 20
    );
    for (label, budget, size) in [
        ("full, 2 px quads", usize::MAX, 2.0),
        ("full, 1 px PointList", usize::MAX, 1.0),
        ("budget 250k, 2 px quads", 250_000, 2.0),
    ] {
        let style = PointStyle {
            budget_points: budget,
            point_size_px: size,
            color_by: ColorBy::Intensity,
            ..PointStyle::default()
        };
        let mut times = Vec::new();
        for frame in 0..6 {
            camera.orbit(0.05, 0.0);
            let start = std::time::Instant::now();
            let stats =
                renderer.prepare(queue, &mut view, &gpu_cloud, &camera, target.viewport(), &style);
            target.render(device, queue, BG, |pass| renderer.paint(pass, &view, &gpu_cloud));
            device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
            if frame > 0 {
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
            if frame == 5 {
                times.sort_by(f64::total_cmp);
                let mean = times.iter().sum::<f64>() / times.len() as f64;
                eprintln!(
                    "{label}: drew {} points, frame mean {mean:.1} ms, median {:.1} ms (1280×720)",
                    stats.drawn_points,
                    times[times.len() / 2]
                );
            }
        }
    }
    let start = std::time::Instant::now();
    let _ = target.read_rgba(device, queue).unwrap();
    eprintln!("readback 1280×720: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
}
