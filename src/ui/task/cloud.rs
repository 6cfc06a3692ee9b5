//! The 3D cuboid task screen (point-cloud object detection, tracking, 3D-2D linking and their
//! adjustment/verification): the main 3D view ([`Viewport3d`]) with the frame's cuboids, three
//! small orthographic views around the selected cuboid (top, side, front; they follow the cuboid
//! and edit it with handles, all in sync), a frame bar for sequences, the camera images of sensor
//! fusion with points, cuboids and linked boxes projected into them, and a side panel with
//! labels, the objects of the frame, the selected cuboid's nine degrees of freedom and attributes,
//! frame attributes and view options.
//!
//! A cuboid is created in two clicks on the object (back, then front: heading and length; width
//! and height from the label), snapped to its points (Alt+O), rested on the ground (Alt+G), moved
//! with the arrow keys, Q/E and A/D, and edited by dragging edges, the inside or the rotation
//! handle in the side views. Every edit goes through the [`CuboidDocument`] (undoable, audit rules
//! of spec §4.4 enforced there).
//!
//! The frames' data ([`LoadedFrame`]) come from the app, loaded and uploaded off the UI thread;
//! this module never waits on disk or network. Must not depend on `app`.

use std::collections::BTreeMap;
use std::sync::Arc;

use egui::{Color32, Key, Mesh, Pos2, Rect, RichText, Sense, Stroke, Ui, Vec2, vec2};
use nalgebra::{Point2 as NPoint2, Point3, Rotation3, Vector2, Vector3};
use serde_json::Value;

use super::{TaskAction, TaskHeader, TopBar, instructions_window, notice_bar};
use crate::annotation::cuboids::{
    Box2, Box9, CuboidDocument, CuboidTaskKind, default_size_for, wrap_angle,
};
use crate::formats::label_config::{AttributeSpec, AttributeType};
use crate::formats::point_cloud::PointCloud;
use crate::geometry::fit::{self, FitOptions, GroundFit};
use crate::geometry::sensor::SensorCamera;
use crate::geometry::{Cuboid, StandardView, Viewport};
use crate::render::cuboids::CuboidInstance;
use crate::render::points::{ColorBy, GpuPointCloud, height_color};
use crate::ui::command::{self, all, cuboid as cmd};
use crate::ui::theme;
use crate::ui::viewport3d::{PickHit, Viewport3d, Viewport3dGpu};
use crate::ui::widgets;
use crate::ui::widgets::timeline::{
    self, Playback, TimelineAction, TimelineCommands, TimelineModel, TimelineState,
};

/// Height of the strip of side views (points).
const SIDE_STRIP_HEIGHT: f32 = 230.0;
/// Width of the camera panel (points).
const CAMERA_PANEL_WIDTH: f32 = 440.0;
/// Most points projected into a camera image.
const MAX_CAMERA_POINTS: usize = 40_000;
/// Points within this distance above the fitted ground plane are ground (metres).
pub const GROUND_DISTANCE_M: f64 = 0.2;
/// Pointer distance (points) within which a side-view edge or handle is grabbed.
const GRAB_PX: f32 = 7.0;
/// Keyboard move step (metres; ×5 with Shift) and turn step (degrees; ×5 with Shift).
const NUDGE_M: f64 = 0.05;
const TURN_DEG: f64 = 1.0;

/// A camera image of the current frame, ready to draw.
#[derive(Clone)]
pub struct CameraImage {
    /// What the camera is called (`camera-0`, the file name).
    pub name: String,
    /// The uploaded image.
    pub texture: egui::TextureHandle,
    /// Image size in pixels.
    pub size_px: [f64; 2],
    /// Intrinsics and extrinsics relative to the cloud.
    pub sensor: SensorCamera,
}

impl std::fmt::Debug for CameraImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraImage")
            .field("name", &self.name)
            .field("size_px", &self.size_px)
            .finish()
    }
}

/// One frame, loaded: the cloud on the CPU (fitting, side views, projection) and on the GPU
/// (whole, and without its ground points), the ground plane, and the camera images.
#[derive(Debug, Clone)]
pub struct LoadedFrame {
    /// Frame index in the task.
    pub index: usize,
    /// The cloud (positions relative to its origin).
    pub cloud: Arc<PointCloud>,
    /// The whole cloud on the GPU.
    pub gpu: Arc<GpuPointCloud>,
    /// The cloud without its ground points, and their indices in `cloud`.
    pub above_ground: Option<(Arc<GpuPointCloud>, Arc<Vec<u32>>)>,
    /// The fitted ground plane (cloud coordinates, not relative to the origin).
    pub ground: Option<GroundFit>,
    /// Per point: ground or not.
    pub ground_mask: Arc<Vec<bool>>,
    /// Camera images.
    pub cameras: Vec<CameraImage>,
}

impl LoadedFrame {
    /// World position of point `i`.
    fn point(&self, i: usize) -> Option<Point3<f64>> {
        self.cloud.world_position(i).map(Point3::from)
    }
}

/// How a new cuboid is being placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Creating {
    /// Waiting for the first click (the back of the object).
    First,
    /// The first click's point; waiting for the second (the front).
    Second {
        /// The first point (world).
        anchor: Point3<f64>,
    },
}

/// A click in the main view whose pick has not come back yet.
#[derive(Debug, Clone, Copy)]
struct PendingClick {
    pixel: NPoint2<f64>,
    frames_waited: u32,
}

/// Which side view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideKind {
    /// From above: length right, width up.
    Top,
    /// From the right side: length right, height up.
    Side,
    /// From the front: width right, height up.
    Front,
}

impl SideKind {
    fn title(self) -> &'static str {
        match self {
            Self::Top => "Top",
            Self::Side => "Side",
            Self::Front => "Front",
        }
    }

    /// The cuboid-frame axes shown right and up, and the depth axis.
    fn axes(self) -> (usize, usize, usize) {
        match self {
            Self::Top => (0, 1, 2),
            Self::Side => (0, 2, 1),
            Self::Front => (1, 2, 0),
        }
    }
}

/// What a side-view drag changes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SideGrab {
    Move,
    Edge { axis: usize, sign: f64 },
    Rotate,
}

#[derive(Debug, Clone, Copy)]
struct SideDrag {
    kind: SideKind,
    grab: SideGrab,
    object: u64,
    original: Box9,
    start: Pos2,
}

/// Points near the selected cuboid, for the side views.
#[derive(Debug, Clone, Default)]
struct SideCache {
    key: Option<(usize, u64, bool)>,
    center: Point3<f64>,
    radius: f64,
    points: Vec<Point3<f64>>,
}

/// Projected points of one camera image.
#[derive(Debug, Clone, Default)]
struct CameraCache {
    key: Option<(usize, usize)>,
    points: Vec<(NPoint2<f64>, f32)>,
}

/// The view state of the open 3D task (what is not part of the document).
#[derive(Debug)]
pub struct CloudView {
    /// The main 3D view.
    pub viewport: Viewport3d,
    gpu: Arc<Viewport3dGpu>,
    /// The frame shown.
    pub frame: usize,
    /// The selected object.
    pub selected: Option<u64>,
    /// The label new cuboids get.
    pub active_class: usize,
    /// Placing a new cuboid.
    pub creating: Option<Creating>,
    /// Colour mode of the points.
    pub color_by: ColorBy,
    /// Whether ground points are hidden.
    pub hide_ground: bool,
    /// Whether the shortcuts window shows.
    pub show_shortcuts: bool,
    /// Whether the full instructions window shows.
    pub show_full_instructions: bool,
    /// The camera image shown.
    pub camera: usize,
    /// Project the points into the camera image.
    pub camera_points: bool,
    /// Draw the cuboids into the camera image.
    pub camera_cuboids: bool,
    /// Draw the selected camera's field of view (its frustum) in the 3D view.
    pub camera_frustum: bool,
    /// True while a handle drag is under way (the app saves drafts after it).
    pub dragging: bool,
    /// A message about the last action (e.g. why an edit was refused).
    pub status: Option<String>,
    /// Playing the sequence or not.
    pub playback: Playback,
    /// The timeline's jump-to-frame field.
    timeline: TimelineState,
    pending_click: Option<PendingClick>,
    side_drag: Option<SideDrag>,
    side_cache: SideCache,
    camera_cache: CameraCache,
    box_drag: Option<(Pos2, Pos2)>,
    shown_cloud: Option<(usize, bool)>,
    cuboids_key: Option<(u64, usize, Option<u64>, bool)>,
    labels_key: Option<(u64, usize, bool)>,
    fitted_frame: bool,
}

impl CloudView {
    /// A fresh view: the orbit camera, the job's label colours in the label palette.
    pub fn new(gpu: Arc<Viewport3dGpu>, labels: usize) -> Self {
        let mut viewport = Viewport3d::new(Arc::clone(&gpu));
        viewport.keys_when_unhovered = false;
        viewport.show_hints = false;
        viewport.style.point_size_px = 2.0;
        let mut palette = vec![[150, 156, 164, 255]];
        palette.extend((0..labels).map(|i| theme::label_color(i).to_array()));
        gpu.point_renderer().set_label_palette(gpu.queue(), &palette);
        Self {
            viewport,
            gpu,
            frame: 0,
            selected: None,
            active_class: 0,
            creating: None,
            color_by: ColorBy::Height,
            hide_ground: false,
            show_shortcuts: false,
            show_full_instructions: false,
            camera: 0,
            camera_points: true,
            camera_cuboids: true,
            camera_frustum: true,
            dragging: false,
            status: None,
            playback: Playback::default(),
            timeline: TimelineState::default(),
            pending_click: None,
            side_drag: None,
            side_cache: SideCache::default(),
            camera_cache: CameraCache::default(),
            box_drag: None,
            shown_cloud: None,
            cuboids_key: None,
            labels_key: None,
            fitted_frame: false,
        }
    }

    /// Shows frame `frame` (clamped by the caller to the task's frames).
    pub fn go_to_frame(&mut self, frame: usize) {
        if frame != self.frame {
            self.frame = frame;
            self.creating = None;
            self.pending_click = None;
            self.side_drag = None;
            self.box_drag = None;
        }
    }
}

/// What the screen shows around the document, from the app.
#[derive(Debug, Clone, Copy)]
pub struct CloudChrome<'a> {
    /// Title, job, object, instructions, claim time, sync, notice, busy, resumed.
    pub header: TaskHeader<'a>,
    /// What is shown while the frame loads (or why it failed).
    pub frame_status: &'a str,
    /// Per frame: true when it is loaded, or failed to load, and can show at once (the timeline
    /// marks these, and playing waits for them).
    pub ready: &'a [bool],
}

/// The whole 3D task screen. `frame` is the current frame's data once loaded.
pub fn cloud_task_ui(
    ui: &mut Ui,
    view: &mut CloudView,
    doc: &mut CuboidDocument,
    frame: Option<&LoadedFrame>,
    chrome: &CloudChrome<'_>,
) -> Vec<TaskAction> {
    let mut actions = Vec::new();
    let ctx = ui.ctx().clone();
    let typing = ctx.egui_wants_keyboard_input();
    let frame_count = doc.frames().len();
    view.frame = view.frame.min(frame_count.saturating_sub(1));
    if view.selected.is_some_and(|id| doc.object(id).is_none()) {
        view.selected = None;
    }

    // --- keyboard ---------------------------------------------------------------------------
    if all::SUBMIT.pressed(&ctx) && doc.incomplete().is_none() && !chrome.header.busy {
        actions.push(TaskAction::Submit);
    }
    if !typing {
        keyboard(&ctx, view, doc, frame, &mut actions);
    }

    top_bar(ui, view, doc, chrome, &mut actions);
    let notice = chrome.header.notice.or(view.status.as_deref()).map(str::to_owned);
    if notice_bar(ui, "cloud-notice", notice.as_deref()) {
        view.status = None;
        actions.push(TaskAction::DismissNotice);
    }
    if doc.kind().is_sequence() && frame_count > 1 {
        frame_bar(ui, view, doc, chrome.ready);
        if let Some(f) = view.playback.tick(&ctx, view.frame, frame_count, chrome.ready, PLAY_FPS) {
            view.go_to_frame(f);
        }
    }
    egui::Panel::left("cloud-side")
        .exact_size(theme::SIDE_PANEL_WIDTH + 20.0)
        .frame(egui::Frame::new().fill(theme::SURFACE).inner_margin(theme::SPACE as i8 * 2))
        .show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                side_panel(ui, view, doc, frame, chrome);
            });
        });
    if let Some(frame) = frame.filter(|f| !f.cameras.is_empty()) {
        egui::Panel::right("cloud-camera")
            .exact_size(CAMERA_PANEL_WIDTH)
            .frame(egui::Frame::new().fill(theme::SURFACE).inner_margin(theme::SPACE as i8))
            .show(ui, |ui| camera_panel(ui, view, doc, frame));
    }
    if view.show_shortcuts {
        let mut open = true;
        egui::Window::new("Shortcuts").open(&mut open).default_width(360.0).show(&ctx, |ui| {
            shortcuts(ui);
        });
        view.show_shortcuts = open;
    }
    instructions_window(&ctx, &mut view.show_full_instructions, chrome.header.full_instructions);

    egui::CentralPanel::default().frame(egui::Frame::new().fill(theme::CANVAS)).show(ui, |ui| {
        let Some(frame) = frame else {
            ui.centered_and_justified(|ui| {
                ui.label(RichText::new(chrome.frame_status).color(theme::TEXT_WEAK));
            });
            return;
        };
        sync_gpu_scene(view, doc, frame);
        let selected = view.selected.and_then(|id| doc.cuboid_at(id, view.frame).map(|b| (id, b)));
        let full = ui.available_size();
        let strip = if selected.is_some() { SIDE_STRIP_HEIGHT.min(full.y * 0.45) } else { 0.0 };
        let main_size = vec2(full.x, (full.y - strip).max(80.0));
        ui.allocate_ui(main_size, |ui| main_view(ui, view, doc, frame));
        if let Some((id, b)) = selected {
            let (strip_rect, _) = ui.allocate_exact_size(vec2(full.x, strip), Sense::hover());
            let width = strip_rect.width() / 3.0;
            for (i, kind) in
                [SideKind::Top, SideKind::Side, SideKind::Front].into_iter().enumerate()
            {
                let rect = Rect::from_min_size(
                    strip_rect.min + vec2(width * i as f32, 0.0),
                    vec2(width, strip_rect.height()),
                )
                .shrink(2.0);
                side_view(ui, rect, kind, view, doc, frame, id, b);
            }
        }
    });
    actions
}

// --- keyboard -------------------------------------------------------------------------------

fn keyboard(
    ctx: &egui::Context,
    view: &mut CloudView,
    doc: &mut CuboidDocument,
    frame: Option<&LoadedFrame>,
    actions: &mut Vec<TaskAction>,
) {
    if all::STOP_AND_RESUME.pressed(ctx) {
        actions.push(TaskAction::StopAndResume);
    }
    if all::REDO.pressed(ctx) {
        doc.redo();
    }
    if all::UNDO.pressed(ctx) {
        doc.undo();
        view.side_drag = None;
    }
    if all::SHORTCUTS.pressed(ctx) {
        view.show_shortcuts = !view.show_shortcuts;
    }
    if all::INSTRUCTIONS.pressed(ctx) {
        view.show_full_instructions = !view.show_full_instructions;
    }
    if cmd::FIT.pressed(ctx) {
        fit_selected(view, doc, frame);
    }
    if cmd::GROUND.pressed(ctx) {
        ground_selected(view, doc, frame);
    }
    if cmd::TOGGLE_GROUND.pressed(ctx) {
        view.hide_ground = !view.hide_ground;
    }
    if cmd::NEW.pressed(ctx) && !doc.is_verification() {
        view.creating = Some(Creating::First);
        view.status = None;
    }
    if cmd::CANCEL.pressed(ctx) {
        if view.creating.is_some() {
            view.creating = None;
        } else {
            view.selected = None;
        }
    }
    if cmd::DELETE_ALL.pressed(ctx) {
        if let Some(id) = view.selected {
            report(view, doc.remove_all(id));
        }
    } else if cmd::DELETE.pressed(ctx)
        && let Some(id) = view.selected
    {
        report(view, doc.remove_in_frame(id, view.frame));
    }
    if cmd::COPY_NEXT.pressed(ctx) {
        copy_next(view, doc);
    } else if cmd::NEXT_FRAME.pressed(ctx) {
        view.playback.playing = false;
        view.go_to_frame((view.frame + 1).min(doc.frames().len().saturating_sub(1)));
    }
    if cmd::PREVIOUS_FRAME.pressed(ctx) {
        view.playback.playing = false;
        view.go_to_frame(view.frame.saturating_sub(1));
    }
    if doc.kind().is_sequence() {
        let last = doc.frames().len().saturating_sub(1);
        if cmd::FIRST_FRAME.pressed(ctx) {
            view.go_to_frame(0);
        }
        if cmd::LAST_FRAME.pressed(ctx) {
            view.go_to_frame(last);
        }
        if cmd::PLAY.pressed(ctx) {
            toggle_play(view, last + 1);
        }
    }
    if cmd::KEYFRAME.pressed(ctx)
        && let Some(id) = view.selected
    {
        report(view, doc.toggle_keyframe(id, view.frame));
    }
    for (command, step) in [(&cmd::NEXT_LABEL, 1isize), (&cmd::PREVIOUS_LABEL, -1)] {
        if command.pressed(ctx) {
            let ids: Vec<u64> = doc.objects_at(view.frame).into_iter().map(|(id, _)| id).collect();
            if !ids.is_empty() {
                let at = view.selected.and_then(|s| ids.iter().position(|i| *i == s));
                let next = match at {
                    Some(i) => (i as isize + step).rem_euclid(ids.len() as isize) as usize,
                    None if step > 0 => 0,
                    None => ids.len() - 1,
                };
                view.selected = ids.get(next).copied();
            }
        }
    }
    if cmd::FOCUS.pressed(ctx) {
        focus_selected(view, doc);
    }
    if cmd::COLOR_MODE.pressed(ctx) {
        view.color_by = next_color_mode(view.color_by);
    }
    if cmd::CAMERA_POINTS.pressed(ctx) {
        view.camera_points = !view.camera_points;
    }
    if cmd::CAMERA_CUBOIDS.pressed(ctx) {
        view.camera_cuboids = !view.camera_cuboids;
    }

    // Arrow keys, Q/E, A/D: the selected cuboid, or the camera; W/S zoom.
    let (shift, keys) = ctx.input(|i| {
        let pressed = |k: Key| f64::from(u8::try_from(i.num_presses(k)).unwrap_or(u8::MAX));
        (
            i.modifiers.shift,
            [
                pressed(Key::ArrowUp) - pressed(Key::ArrowDown),
                pressed(Key::ArrowRight) - pressed(Key::ArrowLeft),
                pressed(Key::E) - pressed(Key::Q),
                pressed(Key::A) - pressed(Key::D),
                pressed(Key::W) - pressed(Key::S),
            ],
        )
    });
    let [forward, right, up, turn, zoom] = keys;
    let scale = if shift { 5.0 } else { 1.0 };
    if zoom != 0.0 {
        view.viewport.camera.zoom(1.15f64.powf(zoom * scale));
    }
    if forward == 0.0 && right == 0.0 && up == 0.0 && turn == 0.0 {
        return;
    }
    let camera = view.viewport.camera;
    let ahead = Vector3::new(camera.forward().x, camera.forward().y, 0.0);
    let ahead = if ahead.norm() > 1e-6 { ahead.normalize() } else { camera.up() };
    let side = Vector3::new(camera.right().x, camera.right().y, 0.0);
    match view.selected.and_then(|id| doc.cuboid_at(id, view.frame).map(|b| (id, b))) {
        Some((id, mut b)) => {
            let delta = (ahead * forward + side * right) * NUDGE_M * scale
                + Vector3::z() * up * NUDGE_M * scale;
            for (c, d) in b.center.iter_mut().zip(delta.iter()) {
                *c += d;
            }
            b.yaw = wrap_angle(b.yaw + (turn * TURN_DEG * scale).to_radians());
            report(view, doc.set_cuboid(id, view.frame, b, Some("keys")));
        }
        None => {
            let units = camera.distance * 0.02 * scale;
            view.viewport.camera.target +=
                (ahead * forward + side * right + Vector3::z() * up) * units;
            view.viewport.camera.orbit(turn * 2f64.to_radians() * scale, 0.0);
        }
    }
}

fn report<T>(view: &mut CloudView, result: Result<T, crate::annotation::cuboids::CuboidError>) {
    match result {
        Ok(_) => {}
        Err(e) => view.status = Some(e.to_string()),
    }
}

fn next_color_mode(c: ColorBy) -> ColorBy {
    match c {
        ColorBy::Height => ColorBy::Intensity,
        ColorBy::Intensity => ColorBy::Rgb,
        ColorBy::Rgb => ColorBy::Label,
        _ => ColorBy::Height,
    }
}

/// Snaps the selected cuboid to the non-ground points it encloses, then down to the ground when
/// its bottom floats just above it.
pub fn fit_selected(view: &mut CloudView, doc: &mut CuboidDocument, frame: Option<&LoadedFrame>) {
    let (Some(id), Some(frame)) = (view.selected, frame) else { return };
    let Some(b) = doc.cuboid_at(id, view.frame) else { return };
    let cuboid = b.to_cuboid();
    let points = (0..frame.cloud.len())
        .filter(|i| !frame.ground_mask.get(*i).copied().unwrap_or(false))
        .filter_map(|i| frame.point(i));
    match fit::fit_to_points(&cuboid, points, &FitOptions::default()) {
        Some(mut fitted) => {
            if let Some(ground) = &frame.ground {
                fitted = fit::extend_to_ground(&fitted, &ground.plane, GROUND_DISTANCE_M + 0.15);
            }
            report(view, doc.set_cuboid(id, view.frame, Box9::from_cuboid(&fitted), None));
        }
        None => view.status = Some("No points inside the cuboid to fit to.".into()),
    }
}

/// Rests the selected cuboid on the ground plane.
pub fn ground_selected(
    view: &mut CloudView,
    doc: &mut CuboidDocument,
    frame: Option<&LoadedFrame>,
) {
    let (Some(id), Some(frame)) = (view.selected, frame) else { return };
    let Some(b) = doc.cuboid_at(id, view.frame) else { return };
    let Some(ground) = &frame.ground else {
        view.status = Some("No ground plane was found in this frame.".into());
        return;
    };
    if let Some(on) = fit::set_on_ground(&b.to_cuboid(), &ground.plane) {
        report(view, doc.set_cuboid(id, view.frame, Box9::from_cuboid(&on), None));
    }
}

fn copy_next(view: &mut CloudView, doc: &mut CuboidDocument) {
    if let Some(id) = view.selected
        && view.frame + 1 < doc.frames().len()
    {
        report(view, doc.copy_to_next(id, view.frame));
        view.go_to_frame(view.frame + 1);
    }
}

fn focus_selected(view: &mut CloudView, doc: &CuboidDocument) {
    if let Some(b) = view.selected.and_then(|id| doc.cuboid_at(id, view.frame)) {
        let (min, max) = b.to_cuboid().bounds();
        let pad = Vector3::repeat(2.0);
        view.viewport.fit_to(min - pad, max + pad);
    }
}

// --- top bar, frame bar ---------------------------------------------------------------------

fn top_bar(
    ui: &mut Ui,
    view: &mut CloudView,
    doc: &mut CuboidDocument,
    chrome: &CloudChrome<'_>,
    actions: &mut Vec<TaskAction>,
) {
    let bar = TopBar {
        id: "cloud-top",
        title: chrome.header.title,
        subtitle: format!("{} · {}", chrome.header.subtitle(), doc.kind().display_name()),
        busy: chrome.header.busy,
        can_undo: doc.can_undo(),
        can_redo: doc.can_redo(),
        incomplete: doc.incomplete(),
        ready: true,
        sync: chrome.header.sync,
        time_left_secs: chrome.header.time_left_secs,
    };
    let clicks = super::top_bar(
        ui,
        &bar,
        actions,
        |_| {},
        |ui| {
            if command::button(ui, &all::SHORTCUTS, true) {
                view.show_shortcuts = !view.show_shortcuts;
            }
        },
    );
    if clicks.undo {
        doc.undo();
    }
    if clicks.redo {
        doc.redo();
    }
}

/// The 3D timeline buttons: Ground Truth's `,` and `.` step frames.
const TIMELINE_COMMANDS: TimelineCommands = TimelineCommands {
    first: cmd::FIRST_FRAME,
    previous: cmd::PREVIOUS_FRAME,
    play: cmd::PLAY,
    next: cmd::NEXT_FRAME,
    last: cmd::LAST_FRAME,
};

/// Frames per second while playing (lidar sequences are commonly 10 Hz).
const PLAY_FPS: f64 = 10.0;

/// The sequence's timeline (the video task's widget): frame numbers, which frames are loaded
/// and labeled, the selected object's span and keyframes, the current frame, play, jump to a
/// frame; and the interpolation switch.
fn frame_bar(ui: &mut Ui, view: &mut CloudView, doc: &mut CuboidDocument, ready: &[bool]) {
    let count = doc.frames().len();
    // A frame is labeled when an object spans it (its keyframes lie within its span).
    let mut labeled = vec![false; count];
    for o in doc.content().objects.values() {
        for slot in labeled.iter_mut().take(o.end.saturating_add(1)).skip(o.start) {
            *slot = true;
        }
    }
    let selected = view.selected.and_then(|id| doc.object(id));
    let present: Vec<usize> = selected.map(|o| (o.start..=o.end).collect()).unwrap_or_default();
    let keyframes: Vec<usize> =
        selected.map(|o| o.keyframes.keys().copied().collect()).unwrap_or_default();
    let color = selected.map_or(theme::TEXT_WEAK, |o| theme::label_color(o.class));
    egui::Panel::bottom("cloud-frames")
        .frame(
            egui::Frame::new()
                .fill(theme::SURFACE)
                .inner_margin(egui::Margin::symmetric(theme::SPACE as i8 * 2, theme::SPACE as i8)),
        )
        .show(ui, |ui| {
            let model = TimelineModel {
                commands: &TIMELINE_COMMANDS,
                frame_count: count,
                current: view.frame,
                playing: view.playback.playing,
                keyframes: &keyframes,
                present: &present,
                labeled: &labeled,
                ready,
                color,
            };
            match timeline::timeline_ui(ui, &mut view.timeline, &model) {
                Some(TimelineAction::Seek(f)) => {
                    view.playback.playing = false;
                    view.go_to_frame(f.min(count - 1));
                }
                Some(TimelineAction::TogglePlay) => toggle_play(view, count),
                None => {}
            }
            let mut interpolate = doc.interpolates();
            if ui
                .checkbox(&mut interpolate, "Interpolate between keyframes")
                .on_hover_text(
                    "Cuboids on frames between two keyframes follow them in time; off, they \
                     keep the previous keyframe's box",
                )
                .changed()
            {
                doc.set_interpolate(interpolate);
            }
        });
}

fn toggle_play(view: &mut CloudView, count: usize) {
    if let Some(f) = view.playback.toggle(view.frame, count) {
        view.go_to_frame(f);
    }
}

// --- side panel -----------------------------------------------------------------------------

fn side_panel(
    ui: &mut Ui,
    view: &mut CloudView,
    doc: &mut CuboidDocument,
    frame: Option<&LoadedFrame>,
    chrome: &CloudChrome<'_>,
) {
    super::instructions_section(ui, &mut view.show_full_instructions, &chrome.header);
    if chrome.header.resumed {
        ui.label(RichText::new("Resumed from your saved draft.").small().color(theme::TEXT_WEAK));
    }

    ui.add_space(theme::SPACE);
    widgets::section(ui, "Tools");
    ui.horizontal(|ui| {
        let select = ui
            .add(egui::Button::selectable(view.creating.is_none(), "Select"))
            .on_hover_text(cmd::CANCEL.hint(ui.ctx()));
        if select.clicked() {
            view.creating = None;
        }
        let new = ui
            .add_enabled(
                !doc.is_verification(),
                egui::Button::selectable(view.creating.is_some(), cmd::NEW.label),
            )
            .on_hover_text(cmd::NEW.hint(ui.ctx()));
        if new.clicked() {
            view.creating = Some(Creating::First);
        }
    });
    ui.label(
        RichText::new(match view.creating {
            Some(Creating::First) => "Click the back of the object in the 3D view.",
            Some(Creating::Second { .. }) => "Click the front of the object (Esc cancels).",
            None => "Click a cuboid or its points to select it. Left drag orbits, right drag pans.",
        })
        .small()
        .color(theme::TEXT_WEAK),
    );

    ui.add_space(theme::SPACE);
    widgets::section(ui, "Labels");
    let selected_class = view.selected.and_then(|id| doc.object(id)).map(|o| o.class);
    let shown = selected_class.unwrap_or(view.active_class);
    let names: Vec<String> = doc.labels().iter().map(|l| l.name.clone()).collect();
    for (i, name) in names.iter().enumerate() {
        if widgets::label_row(ui, theme::label_color(i), name, None, i == shown, false).clicked() {
            view.active_class = i;
            if let Some(id) = view.selected {
                report(view, doc.set_class(id, i));
            }
        }
    }

    ui.add_space(theme::SPACE);
    let here = doc.objects_at(view.frame);
    widgets::section(ui, &format!("Objects in this frame ({})", here.len()));
    if here.is_empty() {
        ui.label(RichText::new("None yet.").color(theme::TEXT_WEAK));
    }
    for (id, _) in &here {
        let Some(o) = doc.object(*id) else { continue };
        let mut name = doc.object_name(*id);
        if doc.kind().is_sequence() && doc.is_keyframe(*id, view.frame) {
            name.push_str(" · keyframe");
        }
        if widgets::label_row(
            ui,
            theme::label_color(o.class),
            &name,
            None,
            view.selected == Some(*id),
            false,
        )
        .clicked()
        {
            view.selected = Some(*id);
            view.active_class = o.class;
        }
    }

    if let Some(id) = view.selected {
        selection_section(ui, view, doc, frame, id);
    }
    frame_attributes_section(ui, view, doc);
    view_section(ui, view, frame);
}

fn selection_section(
    ui: &mut Ui,
    view: &mut CloudView,
    doc: &mut CuboidDocument,
    frame: Option<&LoadedFrame>,
    id: u64,
) {
    ui.add_space(theme::SPACE);
    widgets::section(ui, "Selected cuboid");
    let name = doc.object_name(id);
    let editable = doc.geometry_editable(id);
    let Some(mut b) = doc.cuboid_at(id, view.frame) else {
        ui.label(RichText::new(format!("{name} is not in this frame.")).color(theme::TEXT_WEAK));
        return;
    };
    ui.horizontal(|ui| {
        ui.label(RichText::new(&name).strong());
        if !editable {
            ui.label(RichText::new("read-only").small().color(theme::WARN));
        }
        if doc.kind().is_sequence() {
            let key = doc.is_keyframe(id, view.frame);
            ui.label(
                RichText::new(if key { "keyframe" } else { "interpolated" })
                    .small()
                    .color(if key { theme::ERROR } else { theme::TEXT_WEAK }),
            );
        }
    });
    let before = b;
    let audit_angles = doc.is_audit();
    egui::Grid::new("cuboid-dof").num_columns(4).spacing([6.0, 4.0]).show(ui, |ui| {
        let field =
            |ui: &mut Ui, label: &str, v: &mut f64, speed: f64, enabled: bool, degrees: bool| {
                ui.label(RichText::new(label).color(theme::TEXT_WEAK));
                if degrees {
                    let mut d = v.to_degrees();
                    if ui
                        .add_enabled(
                            enabled,
                            egui::DragValue::new(&mut d).speed(speed).suffix("°").max_decimals(1),
                        )
                        .changed()
                    {
                        *v = wrap_angle(d.to_radians());
                    }
                } else {
                    ui.add_enabled(
                        enabled,
                        egui::DragValue::new(v).speed(speed).suffix(" m").max_decimals(2),
                    );
                }
            };
        let [x, y, z] = &mut b.center;
        field(ui, "x", x, 0.02, editable, false);
        field(ui, "length", &mut b.size[0], 0.02, editable, false);
        ui.end_row();
        field(ui, "y", y, 0.02, editable, false);
        field(ui, "width", &mut b.size[1], 0.02, editable, false);
        ui.end_row();
        field(ui, "z", z, 0.02, editable, false);
        field(ui, "height", &mut b.size[2], 0.02, editable, false);
        ui.end_row();
        field(ui, "yaw", &mut b.yaw, 0.5, editable, true);
        // Adjustment shows pitch and roll but keeps them (spec §3.5).
        field(ui, "pitch", &mut b.pitch, 0.5, editable && !audit_angles, true);
        ui.end_row();
        field(ui, "roll", &mut b.roll, 0.5, editable && !audit_angles, true);
        ui.end_row();
    });
    if b != before {
        for s in &mut b.size {
            *s = s.max(crate::annotation::cuboids::MIN_SIZE_M);
        }
        report(view, doc.set_cuboid(id, view.frame, b, Some("fields")));
    }
    ui.horizontal_wrapped(|ui| {
        if command::button(ui, &cmd::FIT, editable && frame.is_some()) {
            fit_selected(view, doc, frame);
        }
        if command::button(ui, &cmd::GROUND, editable && frame.is_some_and(|f| f.ground.is_some()))
        {
            ground_selected(view, doc, frame);
        }
        if command::button(ui, &cmd::FOCUS, true) {
            focus_selected(view, doc);
        }
    });
    if doc.kind().is_sequence() {
        ui.horizontal_wrapped(|ui| {
            if command::button(ui, &cmd::COPY_NEXT, editable && view.frame + 1 < doc.frames().len())
            {
                copy_next(view, doc);
            }
            if command::button(ui, &cmd::KEYFRAME, editable) {
                report(view, doc.toggle_keyframe(id, view.frame));
            }
        });
    }
    ui.horizontal_wrapped(|ui| {
        if command::button(ui, &cmd::DELETE, editable) {
            report(view, doc.remove_in_frame(id, view.frame));
        }
        if doc.kind().is_sequence() {
            if command::button(ui, &cmd::DELETE_PREVIOUS, editable && view.frame > 0) {
                report(view, doc.remove_before(id, view.frame));
            }
            if command::button(ui, &cmd::DELETE_NEXT, editable) {
                report(view, doc.remove_after(id, view.frame));
            }
            if command::button(ui, &cmd::DELETE_ALL, editable) {
                report(view, doc.remove_all(id));
            }
        }
    });

    let Some(o) = doc.object(id) else { return };
    let specs = doc.labels().get(o.class).map(|l| l.attributes.clone()).unwrap_or_default();
    if !specs.is_empty() {
        ui.add_space(theme::SPACE);
        widgets::section(ui, "Label attributes");
    }
    let values = o.attributes.clone();
    for spec in &specs {
        let enabled = doc.attribute_editable(id, &spec.name);
        if let Some(change) = attribute_editor(ui, ("obj", id), &values, spec, enabled) {
            report(view, doc.set_attribute(id, &spec.name, change));
        }
    }
}

fn frame_attributes_section(ui: &mut Ui, view: &mut CloudView, doc: &mut CuboidDocument) {
    let specs = doc.frame_attribute_specs().to_vec();
    if specs.is_empty() {
        return;
    }
    ui.add_space(theme::SPACE);
    widgets::section(ui, "Frame attributes");
    let values = doc.content().frame_attributes.get(&view.frame).cloned().unwrap_or_default();
    for spec in &specs {
        let enabled = doc.frame_attribute_editable(view.frame, &spec.name);
        if let Some(change) =
            attribute_editor(ui, ("frame", view.frame as u64), &values, spec, enabled)
        {
            report(view, doc.set_frame_attribute(&[view.frame], &spec.name, change));
        }
    }
    if doc.frames().len() > 1 && ui.button("Apply to all frames").clicked() {
        let all_frames: Vec<usize> = (0..doc.frames().len()).collect();
        for spec in &specs {
            if let Some(v) = values.get(&spec.name) {
                report(view, doc.set_frame_attribute(&all_frames, &spec.name, Some(v.clone())));
            }
        }
    }
}

/// One attribute's editor; returns the new value (`Some(None)` clears) when it changed.
fn attribute_editor(
    ui: &mut Ui,
    salt: (&str, u64),
    values: &BTreeMap<String, Value>,
    spec: &AttributeSpec,
    enabled: bool,
) -> Option<Option<Value>> {
    let current = values.get(&spec.name);
    let title =
        if spec.is_required == Some(true) { format!("{} *", spec.name) } else { spec.name.clone() };
    let label = ui.label(RichText::new(title).color(theme::TEXT));
    if let Some(d) = &spec.description {
        label.on_hover_text(d);
    }
    let mut change = None;
    ui.add_enabled_ui(enabled, |ui| match (&spec.attribute_type, &spec.enum_values) {
        (AttributeType::String, Some(options)) => {
            let shown = current.and_then(Value::as_str).unwrap_or("—").to_owned();
            let combo = egui::ComboBox::from_id_salt((salt, &spec.name))
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    if ui.selectable_label(current.is_none(), "—").clicked() {
                        change = Some(None);
                    }
                    for option in options {
                        let on = current.and_then(Value::as_str) == Some(option.as_str());
                        if ui.selectable_label(on, option).clicked() {
                            change = Some(Some(Value::from(option.clone())));
                        }
                    }
                });
            combo.response.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, enabled, &spec.name)
            });
        }
        (AttributeType::Number, _) => {
            let lo = spec.minimum.unwrap_or(0.0);
            let hi = spec.maximum.unwrap_or(100.0).max(lo);
            let mut v = current.and_then(Value::as_f64).unwrap_or(lo);
            let r = ui.add(egui::Slider::new(&mut v, lo..=hi));
            if r.drag_stopped() || (r.changed() && !r.dragged()) {
                change = Some(serde_json::Number::from_f64(v).map(Value::Number));
            }
        }
        _ => {
            let mut text = current.and_then(Value::as_str).unwrap_or_default().to_owned();
            let r = ui.add(egui::TextEdit::singleline(&mut text).desired_width(f32::INFINITY));
            if r.changed() {
                change = Some((!text.is_empty()).then(|| Value::from(text)));
            }
        }
    });
    change
}

fn view_section(ui: &mut Ui, view: &mut CloudView, frame: Option<&LoadedFrame>) {
    ui.add_space(theme::SPACE);
    widgets::section(ui, "View");
    ui.horizontal(|ui| {
        ui.label("Colour");
        egui::ComboBox::from_id_salt("cloud-color")
            .selected_text(color_name(view.color_by))
            .show_ui(ui, |ui| {
                for c in [ColorBy::Height, ColorBy::Intensity, ColorBy::Rgb, ColorBy::Label] {
                    ui.selectable_value(&mut view.color_by, c, color_name(c));
                }
            })
            .response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "Point colour"));
    });
    ui.add(egui::Slider::new(&mut view.viewport.style.point_size_px, 1.0..=6.0).text("Point size"));
    let has_ground = frame.is_some_and(|f| f.above_ground.is_some());
    ui.add_enabled(
        has_ground,
        egui::Checkbox::new(&mut view.hide_ground, cmd::TOGGLE_GROUND.label),
    )
    .on_hover_text(cmd::TOGGLE_GROUND.hint(ui.ctx()));
    if let Some(ground) = frame.and_then(|f| f.ground.as_ref()) {
        ui.label(
            RichText::new(format!(
                "Ground: {:.0}% of points, tilt {:.1}°, rms {:.0} mm",
                ground.inlier_ratio * 100.0,
                ground.plane.tilt_rad().to_degrees(),
                ground.rms_m * 1000.0
            ))
            .small()
            .color(theme::TEXT_WEAK),
        );
    }
    ui.horizontal(|ui| {
        for (label, v) in [
            ("Top", StandardView::Top),
            ("Side", StandardView::Side),
            ("Orbit", StandardView::Orbit),
        ] {
            if ui.button(label).clicked() {
                view.viewport.set_standard_view(v);
            }
        }
    });
    if let Some(f) = frame {
        let info = view.viewport.frame_info();
        ui.label(
            RichText::new(format!("{} points · {} drawn", f.cloud.len(), info.points.drawn_points))
                .small()
                .color(theme::TEXT_WEAK),
        );
    }
}

fn color_name(c: ColorBy) -> &'static str {
    match c {
        ColorBy::Height => "Height",
        ColorBy::Intensity => "Intensity",
        ColorBy::Rgb => "RGB",
        ColorBy::Label => "Label",
        ColorBy::Classification => "Classification",
    }
}

fn shortcuts(ui: &mut Ui) {
    egui::ScrollArea::vertical().max_height(520.0).show(ui, |ui| {
        for c in
            cmd::ALL.iter().chain([&all::UNDO, &all::REDO, &all::SUBMIT, &all::STOP_AND_RESUME])
        {
            ui.horizontal(|ui| {
                ui.label(RichText::new(c.label).color(theme::TEXT_WEAK));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let text = c
                        .shortcut
                        .map(|s| command::shortcut_text(ui.ctx(), &s))
                        .unwrap_or_else(|| "—".into());
                    ui.label(RichText::new(text).monospace());
                });
            });
        }
        ui.label(
            RichText::new(
                "Arrow keys move the selected cuboid (Shift: ×5), Q/E lower/raise it, A/D turn it; \
                 without a selection they move the camera. W/S zoom. 1–4: standard views.",
            )
            .small()
            .color(theme::TEXT_WEAK),
        );
    });
}

// --- GPU scene ------------------------------------------------------------------------------

/// Gives the viewport the frame's cloud, the cuboids and (colour by label) the point labels, each
/// only when it changed.
fn sync_gpu_scene(view: &mut CloudView, doc: &CuboidDocument, frame: &LoadedFrame) {
    let hide = view.hide_ground && frame.above_ground.is_some();
    let shown = (frame.index, hide);
    if view.shown_cloud != Some(shown) {
        let gpu = match (&frame.above_ground, hide) {
            (Some((above, _)), true) => Arc::clone(above),
            _ => Arc::clone(&frame.gpu),
        };
        view.viewport.set_clouds(vec![gpu]);
        if !view.fitted_frame {
            view.viewport.fit();
            view.fitted_frame = true;
        }
        view.shown_cloud = Some(shown);
        view.labels_key = None;
    }
    view.viewport.style.color_by = view.color_by;
    let key = (doc.revision(), view.frame, view.selected, doc.interpolates());
    if view.cuboids_key != Some(key) {
        let instances = doc
            .objects_at(view.frame)
            .into_iter()
            .filter_map(|(id, b)| {
                let o = doc.object(id)?;
                Some(CuboidInstance {
                    cuboid: b.to_cuboid(),
                    color: theme::label_color(o.class).to_array(),
                    selected: view.selected == Some(id),
                })
            })
            .collect();
        view.viewport.set_cuboids(instances);
        view.cuboids_key = Some(key);
    }
    if view.color_by == ColorBy::Label && !view.dragging {
        let key = (doc.revision(), view.frame, hide);
        if view.labels_key != Some(key) {
            let labels = point_labels(doc, view.frame, frame);
            let result = match (&frame.above_ground, hide) {
                (Some((above, indices)), true) => {
                    let sub: Vec<u32> = indices
                        .iter()
                        .map(|i| labels.get(*i as usize).copied().unwrap_or(0))
                        .collect();
                    above.set_labels(view.gpu.queue(), &sub)
                }
                _ => frame.gpu.set_labels(view.gpu.queue(), &labels),
            };
            if let Err(e) = result {
                view.status = Some(e.to_string());
            }
            view.labels_key = Some(key);
        }
    }
}

/// Per point: 1 + the class of the cuboid containing it, 0 for none.
pub fn point_labels(doc: &CuboidDocument, frame_index: usize, frame: &LoadedFrame) -> Vec<u32> {
    let mut labels = vec![0u32; frame.cloud.len()];
    let origin = Vector3::from(frame.cloud.origin);
    for (id, b) in doc.objects_at(frame_index) {
        let Some(o) = doc.object(id) else { continue };
        let cuboid = b.to_cuboid();
        let (min, max) = cuboid.bounds();
        let (min, max) = (min - origin, max - origin);
        let rotation = cuboid.rotation().inverse();
        let half = cuboid.size * 0.5;
        let center = cuboid.center - origin;
        for (label, p) in labels.iter_mut().zip(&frame.cloud.positions) {
            let v = Vector3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2]));
            if v.x < min.x
                || v.y < min.y
                || v.z < min.z
                || v.x > max.x
                || v.y > max.y
                || v.z > max.z
            {
                continue;
            }
            let local = rotation * (v - center.coords);
            if local.x.abs() <= half.x && local.y.abs() <= half.y && local.z.abs() <= half.z {
                *label = o.class as u32 + 1;
            }
        }
    }
    labels
}

// --- main view ------------------------------------------------------------------------------

fn main_view(ui: &mut Ui, view: &mut CloudView, doc: &mut CuboidDocument, frame: &LoadedFrame) {
    let shown = view.viewport.show(ui);
    let response = shown.response;
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "3D view"));
    let rect = view.viewport.rect();
    let ppp = ui.ctx().pixels_per_point();
    if response.clicked()
        && let Some(pos) = response.interact_pointer_pos()
    {
        let pixel = NPoint2::new(
            f64::from((pos.x - rect.min.x) * ppp),
            f64::from((pos.y - rect.min.y) * ppp),
        );
        match view.creating {
            Some(Creating::Second { anchor }) => {
                let ray = view.viewport.camera.pixel_to_ray(pixel, view.viewport.viewport_px());
                let front = ray.intersect_z_plane(anchor.z).unwrap_or(anchor);
                create_cuboid(view, doc, frame, anchor, front);
            }
            _ => view.pending_click = Some(PendingClick { pixel, frames_waited: 0 }),
        }
    }
    if let Some(hit) = shown.picked
        && let Some(click) = view.pending_click.take()
    {
        handle_pick(view, doc, frame, hit, click.pixel);
    } else if let Some(click) = &mut view.pending_click {
        click.frames_waited += 1;
        if click.frames_waited > 120 {
            view.pending_click = None;
        }
        ui.ctx().request_repaint();
    }

    // Overlay: labels over the cuboids, the rubber band while placing one.
    let painter = ui.painter_at(rect);
    let viewport = view.viewport.viewport_px();
    let camera = view.viewport.camera;
    let to_screen = |p: Point3<f64>| {
        camera
            .world_to_pixel(p, viewport)
            .map(|px| rect.min + vec2(px.x as f32 / ppp, px.y as f32 / ppp))
    };
    let font = egui::FontId::proportional(theme::OVERLAY_TEXT);
    for (id, b) in doc.objects_at(view.frame).into_iter().take(theme::MAX_OVERLAY_LABELS) {
        let Some(o) = doc.object(id) else { continue };
        let top = Point3::new(b.center[0], b.center[1], b.center[2] + b.size[2] * 0.5);
        if let Some(at) = to_screen(top).filter(|p| rect.contains(*p)) {
            let text = doc.object_name(id);
            let galley = painter.layout_no_wrap(text, font.clone(), Color32::WHITE);
            let bg = Rect::from_min_size(
                at - vec2(galley.size().x * 0.5 + 4.0, galley.size().y + 6.0),
                galley.size() + vec2(8.0, 4.0),
            );
            let color = theme::label_color(o.class);
            painter.rect_filled(
                bg,
                3.0,
                if view.selected == Some(id) { color } else { theme::OVERLAY_TEXT_BG },
            );
            painter.galley(bg.min + vec2(4.0, 2.0), galley, Color32::WHITE);
        }
    }
    if view.camera_frustum
        && let Some(camera) = frame.cameras.get(view.camera)
    {
        let stroke = Stroke::new(1.5, theme::with_alpha(theme::ACCENT, 0.9));
        let [apex, corners @ ..] = frustum(&camera.sensor, camera.size_px, FRUSTUM_DEPTH_M);
        let apex_px = to_screen(apex);
        for (i, &corner) in corners.iter().enumerate() {
            let next = corners[(i + 1) % corners.len()];
            for [a, b] in [[apex_px, to_screen(corner)], [to_screen(corner), to_screen(next)]] {
                if let (Some(a), Some(b)) = (a, b) {
                    painter.line_segment([a, b], stroke);
                }
            }
        }
        if let Some(at) = apex_px.filter(|p| rect.contains(*p)) {
            painter.text(
                at + vec2(4.0, -4.0),
                egui::Align2::LEFT_BOTTOM,
                &camera.name,
                font.clone(),
                theme::ACCENT,
            );
        }
    }
    if let Some(Creating::Second { anchor }) = view.creating
        && let (Some(a), Some(hover)) = (to_screen(anchor), response.hover_pos())
    {
        let color = theme::label_color(view.active_class);
        painter.line_segment([a, hover], Stroke::new(2.0, color));
        painter.circle_filled(a, 4.0, color);
    }
    if let Some(mode) = view.creating {
        let text = match mode {
            Creating::First => "New cuboid: click the back of the object",
            Creating::Second { .. } => "New cuboid: click the front of the object",
        };
        let galley = painter.layout_no_wrap(
            text.into(),
            egui::FontId::proportional(14.0),
            theme::TEXT_STRONG,
        );
        let at = rect.center_top() + vec2(-galley.size().x * 0.5, theme::SPACE * 1.5);
        painter.rect_filled(
            Rect::from_min_size(at - vec2(8.0, 4.0), galley.size() + vec2(16.0, 8.0)),
            4.0,
            theme::OVERLAY_TEXT_BG,
        );
        painter.galley(at, galley, theme::TEXT_STRONG);
    }
}

fn handle_pick(
    view: &mut CloudView,
    doc: &mut CuboidDocument,
    frame: &LoadedFrame,
    hit: PickHit,
    pixel: NPoint2<f64>,
) {
    let point = match &hit {
        PickHit::Point { index } => {
            let index = match (&frame.above_ground, view.hide_ground) {
                (Some((_, indices)), true) => indices.get(*index as usize).copied(),
                _ => Some(*index),
            };
            index.and_then(|i| frame.point(i as usize))
        }
        _ => None,
    };
    if let Some(Creating::First) = view.creating {
        // The picked point gives the height; the click's own ray the place at that height (a
        // pick may land a few pixels off the click).
        let ray = view.viewport.camera.pixel_to_ray(pixel, view.viewport.viewport_px());
        let z = point.map(|p| p.z).unwrap_or_else(|| {
            frame
                .ground
                .and_then(|g| ray.intersect_z_plane(0.0).and_then(|p| g.plane.z_at(p.x, p.y)))
                .unwrap_or_else(|| view.viewport.bounds().map_or(0.0, |(min, _)| min.z))
        });
        if let Some(anchor) = ray.intersect_z_plane(z).or(point) {
            view.creating = Some(Creating::Second { anchor });
        }
        return;
    }
    // Selection: a cuboid, or the cuboid that holds the picked point.
    let here = doc.objects_at(view.frame);
    view.selected = match hit {
        PickHit::Cuboid { index } => here.get(index as usize).map(|(id, _)| *id),
        _ => point
            .and_then(|p| here.iter().find(|(_, b)| b.to_cuboid().contains(p)).map(|(id, _)| *id)),
    };
    if let Some(o) = view.selected.and_then(|id| doc.object(id)) {
        view.active_class = o.class;
    }
}

/// A cuboid from the back point `a` to the front point `b` (heading and length; the label's
/// default width and height; length the label's default when the clicks are close), rested on
/// the ground when there is one.
fn create_cuboid(
    view: &mut CloudView,
    doc: &mut CuboidDocument,
    frame: &LoadedFrame,
    a: Point3<f64>,
    b: Point3<f64>,
) {
    view.creating = None;
    let class = view.active_class.min(doc.labels().len().saturating_sub(1));
    let [default_length, width, height] =
        doc.labels().get(class).map_or([2.0; 3], |l| default_size_for(&l.name));
    let d = Vector2::new(b.x - a.x, b.y - a.y);
    let (center, yaw, length) = if d.norm() >= 0.3 {
        let mid = nalgebra::center(&a, &b);
        (mid, d.y.atan2(d.x), d.norm())
    } else {
        (a, 0.0, default_length)
    };
    let mut cuboid = Cuboid {
        center,
        size: Vector3::new(length, width, height),
        yaw_rad: yaw,
        pitch_rad: 0.0,
        roll_rad: 0.0,
    };
    match frame.ground.and_then(|g| fit::set_on_ground(&cuboid, &g.plane)) {
        Some(on) => cuboid = on,
        // No ground: the clicked surface point is as good a height as any.
        None => cuboid.center.z = a.z,
    }
    match doc.add_object(class, view.frame, Box9::from_cuboid(&cuboid)) {
        Ok(id) => view.selected = Some(id),
        Err(e) => view.status = Some(e.to_string()),
    }
}

// --- side views -----------------------------------------------------------------------------

/// Refreshes the points near the selected cuboid when it moved away from the cached ones.
fn side_points<'a>(
    view: &'a mut CloudView,
    frame: &LoadedFrame,
    id: u64,
    b: &Box9,
) -> &'a [Point3<f64>] {
    let center = Point3::from(b.center);
    let radius_needed = Vector3::from(b.size).norm() * 0.5 * 1.6 + 1.0;
    let key = (frame.index, id, view.hide_ground);
    let cache = &view.side_cache;
    let stale =
        cache.key != Some(key) || (cache.center - center).norm() + radius_needed > cache.radius;
    if stale {
        let radius = radius_needed * 1.5 + 2.0;
        let hide = view.hide_ground;
        let points = (0..frame.cloud.len())
            .filter(|i| !(hide && frame.ground_mask.get(*i).copied().unwrap_or(false)))
            .filter_map(|i| frame.point(i))
            .filter(|p| {
                (p.x - center.x).abs() <= radius
                    && (p.y - center.y).abs() <= radius
                    && (p.z - center.z).abs() <= radius
            })
            .collect();
        view.side_cache = SideCache { key: Some(key), center, radius, points };
    }
    &view.side_cache.points
}

#[allow(clippy::too_many_arguments)]
fn side_view(
    ui: &mut Ui,
    rect: Rect,
    kind: SideKind,
    view: &mut CloudView,
    doc: &mut CuboidDocument,
    frame: &LoadedFrame,
    id: u64,
    b: Box9,
) {
    let response =
        ui.interact(rect, ui.scope_id().with(("side-view", kind.title())), Sense::click_and_drag());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Canvas, true, format!("{} view", kind.title()))
    });
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, theme::CANVAS);
    painter.rect_stroke(rect, 4.0, Stroke::new(1.0, theme::LINE), egui::StrokeKind::Inside);

    let (ax_u, ax_v, ax_d) = kind.axes();
    let cuboid = b.to_cuboid();
    let rotation: Rotation3<f64> = cuboid.rotation();
    let inverse = rotation.inverse();
    let half = cuboid.size * 0.5;
    let margin = |h: f64| h * 1.35 + 0.6;
    let (extent_u, extent_v) = (margin(half[ax_u]), margin(half[ax_v]));
    let inner = rect.shrink2(vec2(10.0, 22.0)).translate(vec2(0.0, 8.0));
    let scale = (inner.width() as f64 / (2.0 * extent_u))
        .min(inner.height() as f64 / (2.0 * extent_v))
        .max(1e-6);
    let center_px = inner.center();
    let to_px = |u: f64, v: f64| center_px + vec2((u * scale) as f32, (-v * scale) as f32);
    let from_px =
        |p: Pos2| ((p.x - center_px.x) as f64 / scale, -(p.y - center_px.y) as f64 / scale);

    // Points near the cuboid, in its frame; those inside in the label colour.
    let color = doc.object(id).map_or(theme::ACCENT, |o| theme::label_color(o.class));
    let depth_limit = margin(half[ax_d]);
    let origin = cuboid.center;
    let mut mesh = Mesh::default();
    let dot = vec2(1.0, 1.0) * 1.2;
    for p in side_points(view, frame, id, &b) {
        let local = inverse * (p - origin);
        if local[ax_d].abs() > depth_limit
            || local[ax_u].abs() > extent_u
            || local[ax_v].abs() > extent_v
        {
            continue;
        }
        let inside = local.x.abs() <= half.x && local.y.abs() <= half.y && local.z.abs() <= half.z;
        let c = if inside {
            color
        } else {
            let t = ((local.z + half.z) / (2.0 * half.z + 1e-9)) as f32;
            let [r, g, bl] = height_color(t);
            Color32::from_rgb(r, g, bl).gamma_multiply(0.55)
        };
        mesh.add_colored_rect(
            Rect::from_center_size(to_px(local[ax_u], local[ax_v]), dot * 2.0),
            c,
        );
    }
    painter.add(egui::Shape::mesh(mesh));

    // The box, its heading, its handles.
    let box_rect =
        Rect::from_two_pos(to_px(-half[ax_u], -half[ax_v]), to_px(half[ax_u], half[ax_v]));
    painter.rect_filled(box_rect, 0.0, theme::with_alpha(color, 0.08));
    painter.rect_stroke(box_rect, 0.0, Stroke::new(2.0, color), egui::StrokeKind::Middle);
    if ax_u == 0 {
        painter.arrow(
            to_px(0.0, 0.0),
            vec2((half.x * scale) as f32, 0.0),
            Stroke::new(1.5, theme::TEXT_STRONG),
        );
    }
    let editable = doc.geometry_editable(id);
    let edges = [
        (ax_u, 1.0, Pos2::new(box_rect.right(), box_rect.center().y)),
        (ax_u, -1.0, Pos2::new(box_rect.left(), box_rect.center().y)),
        (ax_v, 1.0, Pos2::new(box_rect.center().x, box_rect.top())),
        (ax_v, -1.0, Pos2::new(box_rect.center().x, box_rect.bottom())),
    ];
    let rotate_handle = (kind == SideKind::Top).then(|| box_rect.right_center() + vec2(18.0, 0.0));
    if editable {
        for (_, _, at) in edges {
            painter.rect_filled(
                Rect::from_center_size(at, Vec2::splat(theme::HANDLE_SIZE)),
                1.0,
                theme::HANDLE,
            );
        }
        if let Some(h) = rotate_handle {
            painter.line_segment([box_rect.right_center(), h], Stroke::new(1.0, theme::HANDLE));
            painter.circle(h, 5.0, theme::with_alpha(color, 0.6), Stroke::new(1.5, theme::HANDLE));
        }
    }
    painter.text(
        rect.left_top() + vec2(8.0, 6.0),
        egui::Align2::LEFT_TOP,
        format!("{} · {:.2} × {:.2} m", kind.title(), cuboid.size[ax_u], cuboid.size[ax_v]),
        egui::FontId::proportional(12.0),
        theme::TEXT_WEAK,
    );

    // Dragging.
    if !editable {
        return;
    }
    if response.drag_started()
        && let Some(start) = response.interact_pointer_pos()
    {
        let near = |p: Pos2| (p - start).length() <= GRAB_PX + 2.0;
        let shift = ui.input(|i| i.modifiers.shift);
        let grab = if rotate_handle.is_some_and(near)
            || (shift && kind == SideKind::Top && box_rect.contains(start))
        {
            Some(SideGrab::Rotate)
        } else if let Some((axis, sign, _)) = edges.iter().copied().find(|(axis, sign, _)| {
            let on_u = *axis == ax_u;
            let edge = if on_u {
                if *sign > 0.0 { box_rect.right() } else { box_rect.left() }
            } else if *sign > 0.0 {
                box_rect.top()
            } else {
                box_rect.bottom()
            };
            if on_u {
                (start.x - edge).abs() <= GRAB_PX
                    && start.y >= box_rect.top() - GRAB_PX
                    && start.y <= box_rect.bottom() + GRAB_PX
            } else {
                (start.y - edge).abs() <= GRAB_PX
                    && start.x >= box_rect.left() - GRAB_PX
                    && start.x <= box_rect.right() + GRAB_PX
            }
        }) {
            Some(SideGrab::Edge { axis, sign })
        } else if box_rect.contains(start) {
            Some(SideGrab::Move)
        } else {
            None
        };
        view.side_drag = grab.map(|grab| SideDrag { kind, grab, object: id, original: b, start });
    }
    let Some(drag) = view.side_drag.filter(|d| d.kind == kind && d.object == id) else {
        // A drag whose frame changed under it (the timeline, a key) still ends here.
        if response.drag_stopped() && view.dragging {
            view.dragging = false;
            doc.end_gesture();
        }
        return;
    };
    view.dragging = true;
    // The frame stays put while a cuboid is being dragged.
    view.playback.playing = false;
    if let Some(now) = response.interact_pointer_pos().filter(|_| response.dragged()) {
        let (su, sv) = from_px(drag.start);
        let (nu, nv) = from_px(now);
        let (du, dv) = (nu - su, nv - sv);
        let original = drag.original;
        let rot = original.to_cuboid().rotation();
        let mut next = original;
        match drag.grab {
            SideGrab::Move => {
                let mut local = Vector3::zeros();
                local[ax_u] = du;
                local[ax_v] = dv;
                let world = rot * local;
                for (c, d) in next.center.iter_mut().zip(world.iter()) {
                    *c += d;
                }
            }
            SideGrab::Edge { axis, sign } => {
                let delta = if axis == ax_u { du } else { dv } * sign;
                let size = (original.size[axis] + delta).max(0.05);
                let moved = (size - original.size[axis]) * 0.5 * sign;
                let mut local = Vector3::zeros();
                local[axis] = moved;
                let world = rot * local;
                next.size[axis] = size;
                for (c, d) in next.center.iter_mut().zip(world.iter()) {
                    *c += d;
                }
            }
            SideGrab::Rotate => {
                let a0 = sv.atan2(su);
                let a1 = nv.atan2(nu);
                next.yaw = wrap_angle(original.yaw + wrap_angle(a1 - a0));
            }
        }
        report(view, doc.set_cuboid(id, view.frame, next, Some("side-drag")));
    }
    if response.drag_stopped() {
        view.side_drag = None;
        view.dragging = false;
        doc.end_gesture();
    }
}

// --- camera panel ---------------------------------------------------------------------------

fn camera_panel(ui: &mut Ui, view: &mut CloudView, doc: &mut CuboidDocument, frame: &LoadedFrame) {
    view.camera = view.camera.min(frame.cameras.len().saturating_sub(1));
    widgets::section(ui, "Cameras");
    ui.horizontal_wrapped(|ui| {
        for (i, c) in frame.cameras.iter().enumerate() {
            if ui.selectable_label(view.camera == i, &c.name).clicked() {
                view.camera = i;
            }
        }
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut view.camera_points, cmd::CAMERA_POINTS.label)
            .on_hover_text(cmd::CAMERA_POINTS.hint(ui.ctx()));
        ui.checkbox(&mut view.camera_cuboids, cmd::CAMERA_CUBOIDS.label)
            .on_hover_text(cmd::CAMERA_CUBOIDS.hint(ui.ctx()));
    });
    ui.checkbox(&mut view.camera_frustum, cmd::CAMERA_FRUSTUM.label)
        .on_hover_text("Where the selected camera looks, drawn in the 3D view");
    let Some(camera) = frame.cameras.get(view.camera) else { return };
    let [w, h] = camera.size_px;
    let avail = ui.available_width();
    let scale = (avail as f64 / w.max(1.0)).min(1.0e6);
    let size = vec2((w * scale) as f32, (h * scale) as f32);
    let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Image, true, format!("Camera {}", camera.name))
    });
    let painter = ui.painter_at(rect);
    painter.image(
        camera.texture.id(),
        rect,
        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
        Color32::WHITE,
    );
    let to_screen = |p: NPoint2<f64>| rect.min + vec2((p.x * scale) as f32, (p.y * scale) as f32);
    let to_image = |p: Pos2| {
        NPoint2::new(f64::from(p.x - rect.min.x) / scale, f64::from(p.y - rect.min.y) / scale)
    };

    if view.camera_points {
        if view.camera_cache.key != Some((frame.index, view.camera)) {
            let step = frame.cloud.len().div_ceil(MAX_CAMERA_POINTS).max(1);
            let points = (0..frame.cloud.len())
                .step_by(step)
                .filter_map(|i| frame.point(i))
                .filter_map(|p| {
                    let px = camera.sensor.project(p)?;
                    (px.x >= 0.0 && px.y >= 0.0 && px.x < w && px.y < h)
                        .then(|| (px, camera.sensor.depth(p) as f32))
                })
                .collect();
            view.camera_cache = CameraCache { key: Some((frame.index, view.camera)), points };
        }
        let mut mesh = Mesh::default();
        for (px, depth) in &view.camera_cache.points {
            let t = (depth / 40.0).clamp(0.0, 1.0);
            let [r, g, b] = height_color(1.0 - t);
            mesh.add_colored_rect(
                Rect::from_center_size(to_screen(*px), Vec2::splat(2.0)),
                Color32::from_rgb(r, g, b),
            );
        }
        painter.add(egui::Shape::mesh(mesh));
    }
    let objects = doc.objects_at(view.frame);
    if view.camera_cuboids {
        for (id, b) in &objects {
            let Some(o) = doc.object(*id) else { continue };
            let selected = view.selected == Some(*id);
            let stroke = Stroke::new(if selected { 2.5 } else { 1.5 }, theme::label_color(o.class));
            for [a, c] in camera.sensor.project_cuboid_edges(&b.to_cuboid()) {
                painter.line_segment([to_screen(a), to_screen(c)], stroke);
            }
        }
    }
    // Linked boxes (3D-2D linking).
    let linking = doc.kind() == CuboidTaskKind::Linking;
    for (id, _) in &objects {
        let Some(o) = doc.object(*id) else { continue };
        if let Some(b2) = o.camera_boxes.get(&view.frame).and_then(|m| m.get(&view.camera)) {
            let r = Rect::from_min_max(
                to_screen(NPoint2::new(b2.left, b2.top)),
                to_screen(NPoint2::new(b2.left + b2.width, b2.top + b2.height)),
            );
            let color = theme::label_color(o.class);
            painter.rect_filled(r, 0.0, theme::with_alpha(color, 0.15));
            painter.rect_stroke(
                r,
                0.0,
                Stroke::new(if view.selected == Some(*id) { 2.5 } else { 1.5 }, color),
                egui::StrokeKind::Middle,
            );
            painter.text(
                r.left_top() + vec2(2.0, -2.0),
                egui::Align2::LEFT_BOTTOM,
                doc.object_name(*id),
                egui::FontId::proportional(11.0),
                color,
            );
        }
    }
    if !linking {
        ui.label(
            RichText::new("Points and cuboids projected through the camera's intrinsics and pose.")
                .small()
                .color(theme::TEXT_WEAK),
        );
        return;
    }
    // Draw the selected object's box by dragging on the image.
    let selected = view.selected.filter(|id| objects.iter().any(|(o, _)| o == id));
    if let Some(id) = selected {
        if response.drag_started()
            && let Some(p) = response.interact_pointer_pos()
        {
            view.box_drag = Some((p, p));
        }
        if let (Some((start, _)), Some(p)) = (view.box_drag, response.interact_pointer_pos()) {
            view.box_drag = Some((start, p));
            painter.rect_stroke(
                Rect::from_two_pos(start, p),
                0.0,
                Stroke::new(1.5, theme::DRAFT_SHAPE),
                egui::StrokeKind::Middle,
            );
        }
        if response.drag_stopped()
            && let Some((start, end)) = view.box_drag.take()
        {
            let (a, c) = (to_image(start), to_image(end));
            let (left, top) = (a.x.min(c.x).clamp(0.0, w), a.y.min(c.y).clamp(0.0, h));
            let (right, bottom) = (a.x.max(c.x).clamp(0.0, w), a.y.max(c.y).clamp(0.0, h));
            if right - left >= 2.0 && bottom - top >= 2.0 {
                let b2 = Box2 { left, top, width: right - left, height: bottom - top };
                report(view, doc.set_camera_box(id, view.frame, view.camera, Some(b2), None));
            }
        }
        ui.horizontal_wrapped(|ui| {
            if command::button(ui, &cmd::BOX_FROM_CUBOID, true) {
                let projected = doc.cuboid_at(id, view.frame).and_then(|b| {
                    camera.sensor.project_cuboid(&b.to_cuboid(), Some(camera.size_px))
                });
                match projected {
                    Some(r) => {
                        let b2 = Box2 {
                            left: r.left(),
                            top: r.top(),
                            width: r.width(),
                            height: r.height(),
                        };
                        report(
                            view,
                            doc.set_camera_box(id, view.frame, view.camera, Some(b2), None),
                        );
                    }
                    None => view.status = Some("The cuboid is not in this camera's view.".into()),
                }
            }
            let has_box = doc.object(id).is_some_and(|o| {
                o.camera_boxes.get(&view.frame).is_some_and(|m| m.contains_key(&view.camera))
            });
            if ui.add_enabled(has_box, egui::Button::new("Remove box")).clicked() {
                report(view, doc.set_camera_box(id, view.frame, view.camera, None, None));
            }
        });
        ui.label(
            RichText::new(format!("Drag on the image to draw the box of {}.", doc.object_name(id)))
                .small()
                .color(theme::TEXT_WEAK),
        );
    } else {
        ui.label(
            RichText::new("Select a cuboid, then drag on the image to link its box.")
                .small()
                .color(theme::TEXT_WEAK),
        );
    }
}

/// How far the drawn camera frustum reaches, metres along the optical axis.
const FRUSTUM_DEPTH_M: f64 = 8.0;

/// A camera's frustum in cloud coordinates, `depth` metres deep: its centre, then the image's
/// corners (top-left, top-right, bottom-right, bottom-left) at that depth (lens distortion left
/// out: the outline only shows where the camera looks).
pub fn frustum(sensor: &SensorCamera, size_px: [f64; 2], depth: f64) -> [Point3<f64>; 5] {
    let k = &sensor.intrinsics;
    let lidar_from_camera = sensor.camera_from_lidar.inverse();
    let [w, h] = size_px;
    let corner = |u: f64, v: f64| {
        let y = (v - k.cy) / k.fy;
        let x = (u - k.cx - k.skew * y) / k.fx;
        lidar_from_camera * Point3::new(x * depth, y * depth, depth)
    };
    [
        lidar_from_camera * Point3::origin(),
        corner(0.0, 0.0),
        corner(w, 0.0),
        corner(w, h),
        corner(0.0, h),
    ]
}

/// The camera viewport size used by tests and benchmarks to aim at world points.
pub fn pixel_of(view: &CloudView, world: Point3<f64>, ppp: f32) -> Option<Pos2> {
    let viewport: Viewport = view.viewport.viewport_px();
    let px = view.viewport.camera.world_to_pixel(world, viewport)?;
    Some(view.viewport.rect().min + vec2(px.x as f32 / ppp, px.y as f32 / ppp))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::geometry::sensor::{Intrinsics, pose_isometry};

    /// The frustum's corners project back onto the image's corners, its apex is the camera's
    /// position, and its far face lies `depth` along the optical axis.
    #[test]
    fn frustum_corners_project_onto_the_image_corners() {
        let mut k = Intrinsics::pinhole(520.0, 500.0, 320.0, 200.0);
        k.skew = 3.0;
        let world_from_camera = pose_isometry([2.0, -1.0, 1.6], [-0.5, 0.5, -0.5, 0.5]);
        let sensor = SensorCamera::new(k, nalgebra::Isometry3::identity(), world_from_camera);
        let [apex, corners @ ..] = frustum(&sensor, [640.0, 400.0], 8.0);
        assert!((apex - Point3::new(2.0, -1.0, 1.6)).norm() < 1e-9, "{apex}");
        let expected = [[0.0, 0.0], [640.0, 0.0], [640.0, 400.0], [0.0, 400.0]];
        for (corner, [u, v]) in corners.iter().zip(expected) {
            let px = sensor.project(*corner).unwrap();
            assert!((px.x - u).abs() < 1e-6 && (px.y - v).abs() < 1e-6, "{corner} → {px}");
            assert!((sensor.depth(*corner) - 8.0).abs() < 1e-9);
        }
        // The camera looks along +x: the far face is 8 m ahead of it.
        assert!(corners.iter().all(|c| (c.x - 10.0).abs() < 1e-9));
    }
}
