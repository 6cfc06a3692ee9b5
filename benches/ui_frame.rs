//! UI frame CPU time of the image task view with 10,000 boxes on a 4K image, headless: the real
//! `ui::task::task_ui` run through egui's `Context::run_ui` and tessellated, with the pointer
//! moving over the image (so hover picking runs every frame). Prints ms per frame; not a timed
//! assertion. Run: `cargo bench --bench ui_frame` (frames: `GROUNDWORK_BENCH_FRAMES`, default 120).
#![allow(clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use groundwork::annotation::document::{BoxPx, Document, Geometry, ImageSize, TaskTemplate};
use groundwork::ui::task::{self, TaskChrome, TaskHeader, TaskView};
use groundwork::ui::theme;
use groundwork::ui::widgets::SyncBadge;
use groundwork::ui::widgets::viewport::{ImageTiles, Tile};

const WIDTH: u32 = 3840;
const HEIGHT: u32 = 2160;
const BOXES: usize = 10_000;

fn main() {
    let frames: usize =
        std::env::var("GROUNDWORK_BENCH_FRAMES").ok().and_then(|v| v.parse().ok()).unwrap_or(120);
    let ctx = egui::Context::default();
    theme::apply(&ctx);

    // A 4K image in 2048-pixel tiles, as the app uploads it.
    let mut tiles = Vec::new();
    for ty in (0..HEIGHT).step_by(2048) {
        for tx in (0..WIDTH).step_by(2048) {
            let (w, h) = (2048.min(WIDTH - tx), 2048.min(HEIGHT - ty));
            let image =
                egui::ColorImage::filled([w as usize, h as usize], egui::Color32::from_gray(90));
            tiles.push(Tile {
                rect_px: egui::Rect::from_min_size(
                    egui::pos2(tx as f32, ty as f32),
                    egui::vec2(w as f32, h as f32),
                ),
                texture: ctx.load_texture("tile", image, egui::TextureOptions::LINEAR),
            });
        }
    }
    let image = ImageTiles { size: egui::vec2(WIDTH as f32, HEIGHT as f32), tiles };

    let labels: Vec<String> = (0..8).map(|i| format!("class-{i}")).collect();
    let mut doc = Document::new(
        TaskTemplate::BoundingBox,
        labels,
        ImageSize { width: WIDTH, height: HEIGHT },
    )
    .expect("a document");
    let mut rng = fastrand::Rng::with_seed(7);
    for i in 0..BOXES {
        let (w, h) = (rng.f64() * 80.0 + 8.0, rng.f64() * 80.0 + 8.0);
        let b = BoxPx {
            left: rng.f64() * (f64::from(WIDTH) - w),
            top: rng.f64() * (f64::from(HEIGHT) - h),
            width: w,
            height: h,
        };
        doc.add_shape(i % 8, Geometry::Box(b), BTreeMap::new()).expect("a box");
    }
    let mut view = TaskView::new(doc.template());
    view.selected = Some(42);

    for (name, zoom) in [("fitted (all boxes visible)", None), ("zoomed 4x", Some(4.0f32))] {
        let mut times = Vec::with_capacity(frames);
        let mut tess = Vec::with_capacity(frames);
        for frame in 0..frames + 5 {
            let t = frame as f32 / frames as f32;
            let pointer = egui::pos2(400.0 + 700.0 * t, 200.0 + 400.0 * (t * 6.0).sin().abs());
            let input = egui::RawInput {
                screen_rect: Some(egui::Rect::from_min_size(
                    egui::Pos2::ZERO,
                    egui::vec2(1920.0, 1080.0),
                )),
                events: vec![egui::Event::PointerMoved(pointer)],
                ..Default::default()
            };
            let chrome = TaskChrome {
                header: TaskHeader {
                    title: "Benchmark",
                    job_name: "bench",
                    object_id: 0,
                    short_instructions: "Draw boxes.",
                    full_instructions: "",
                    time_left_secs: Some(3600),
                    sync: SyncBadge { online: true, queued: 0, drafts_pending: 0 },
                    notice: None,
                    busy: false,
                    resumed: false,
                },
                global_attributes: &[],
                label_attributes: &[],
                image: Some(&image),
                image_status: "",
            };
            let start = Instant::now();
            let mut output = ctx.run_ui(input, |ui| {
                task::task_ui(ui, &mut view, &mut doc, &chrome);
            });
            let ran = start.elapsed();
            // A renderer would upload these; here they are dropped.
            output.textures_delta.clear();
            let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
            let total = start.elapsed();
            if frame == 1
                && let Some(z) = zoom
            {
                let c = view.viewport.rect.center();
                view.viewport.zoom_around(c, z);
            }
            if frame >= 5 {
                times.push(total.as_secs_f64() * 1000.0);
                tess.push((total - ran).as_secs_f64() * 1000.0);
            }
            std::hint::black_box(primitives);
        }
        times.sort_by(f64::total_cmp);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        let median = times[times.len() / 2];
        let p95 = times[times.len() * 95 / 100];
        let tess_mean = tess.iter().sum::<f64>() / tess.len() as f64;
        println!(
            "ui_frame {name}: {BOXES} boxes on {WIDTH}x{HEIGHT}, {} drawn, {frames} frames: mean {mean:.2} ms, median {median:.2} ms, p95 {p95:.2} ms (tessellation {tess_mean:.2} ms)",
            view.drawn_shapes
        );
    }
}
