//! A reusable 3D viewport widget: point clouds and cuboids drawn through an egui_wgpu paint
//! callback, with orbit / pan / zoom / fly navigation, the standard views, fitting, and picking.
//!
//! # How a frame is drawn
//!
//! The pipelines live once per window in [`Viewport3dGpu`]. Point clouds arrive already on the GPU
//! (`Arc<GpuPointCloud>`, uploaded once, e.g. by [`crate::render::stream::CloudStream`] on a worker
//! thread) and are kept until the widget is given other clouds. Each widget owns a small GPU state
//! (behind a mutex shared with its paint callbacks): an offscreen colour + depth target of the
//! widget's size, one `PointCloudView` uniform per cloud, the cuboid instances and a picking
//! target.
//!
//! In `prepare` the callback compares the scene (camera, style, size, data generations) with the
//! last one drawn; only when it changed are the uniforms written and the scene redrawn into the
//! offscreen target. `paint` then blits that target into egui's pass. So the 3D scene has its own
//! depth buffer whatever egui's pass has, and frames where only other widgets changed cost one
//! blit instead of millions of points.
//!
//! Several clouds share one point budget in proportion to their sizes (a file streaming in piece
//! by piece); picking needs exactly one cloud (point ids are per cloud).
//!
//! egui's render pass must have no depth attachment (eframe's default `depth_buffer: 0`).
//!
//! Must not depend on `app`; knows nothing about files or jobs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use egui::epaint::ViewportInPixels;
use egui::{Color32, Key, PointerButton, Rect, Sense};
use nalgebra::{Point2, Point3, Vector2};

use crate::geometry::{Camera, Projection, StandardView, Viewport};
use crate::render::blit::TextureBlitter;
use crate::render::cuboids::{CuboidInstance, CuboidRenderer, CuboidSet, CuboidStyle};
use crate::render::picking::{PickId, PickKind, PickingTarget};
use crate::render::points::{
    ColorBy, GpuPointCloud, PointCloudRenderer, PointCloudView, PointFrameStats, PointStyle,
    suggested_point_budget,
};
use crate::render::target::OffscreenTarget;
use crate::render::{TargetFormat, with_error_scope};
use crate::ui::command::viewport as commands;
use crate::ui::theme;

/// Orbit speed: radians per physical pixel of drag.
const ORBIT_RAD_PER_PX: f64 = 0.008;
/// Fly look speed: radians per physical pixel of drag.
const LOOK_RAD_PER_PX: f64 = 0.004;
/// Zoom per point of wheel scroll (`factor = exp(scroll · this)`).
const ZOOM_PER_SCROLL_POINT: f64 = 0.002;
/// Fly speed in scene radii per second (×4 with Shift).
const FLY_RADII_PER_SEC: f64 = 0.35;
/// Picking looks this far around the cursor (physical pixels) at least.
const PICK_RADIUS_PX: u32 = 4;

/// Pipelines shared by every 3D viewport of a window, created once from egui's render state.
#[derive(Debug)]
pub struct Viewport3dGpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    target_format: wgpu::TextureFormat,
    points: Arc<PointCloudRenderer>,
    cuboids: CuboidRenderer,
    blitter: TextureBlitter,
    adapter: wgpu::AdapterInfo,
}

impl Viewport3dGpu {
    /// Builds the renderers: points and cuboids for the widgets' offscreen targets, the blit for
    /// egui's target format.
    pub fn new(render_state: &egui_wgpu::RenderState) -> Arc<Self> {
        let device = render_state.device.clone();
        let queue = render_state.queue.clone();
        Arc::new(Self {
            points: Arc::new(PointCloudRenderer::new(&device, &queue, TargetFormat::OFFSCREEN)),
            cuboids: CuboidRenderer::new(&device, TargetFormat::OFFSCREEN),
            blitter: TextureBlitter::new(
                &device,
                TargetFormat::color_only(render_state.target_format),
            ),
            target_format: render_state.target_format,
            adapter: render_state.adapter.get_info(),
            device,
            queue,
        })
    }

    /// The device (for uploads on worker threads).
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// egui's colour target format (for renderers drawing straight into egui's pass).
    pub fn target_format(&self) -> wgpu::TextureFormat {
        self.target_format
    }

    /// The point renderer clouds must be uploaded with.
    pub fn point_renderer(&self) -> &Arc<PointCloudRenderer> {
        &self.points
    }

    /// The adapter egui renders with.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.adapter
    }

    /// A point budget that keeps interaction fluid on this adapter.
    pub fn suggested_budget(&self) -> usize {
        suggested_point_budget(&self.adapter)
    }
}

/// What a click picked.
#[derive(Debug, Clone, PartialEq)]
pub enum PickHit {
    /// A point: its index in the cloud as uploaded.
    Point {
        /// Index into the uploaded `PointCloud`.
        index: u32,
    },
    /// A cuboid: its index in the slice given to [`Viewport3d::set_cuboids`].
    Cuboid {
        /// Index of the cuboid.
        index: u32,
    },
    /// Nothing under the cursor.
    Nothing,
    /// Picking needs exactly one cloud (e.g. a file still streaming in pieces).
    Unavailable,
    /// The GPU failed.
    Failed(String),
}

/// What the last drawn frame did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FrameInfo {
    /// Points culled, planned and drawn over all clouds.
    pub points: PointFrameStats,
    /// Frames actually redrawn (not just blitted) since the widget was created.
    pub redraws: u64,
}

/// The widget's answer for one frame.
#[derive(Debug)]
pub struct Viewport3dResponse {
    /// The egui response of the viewport's area.
    pub response: egui::Response,
    /// A pick that completed since the last frame.
    pub picked: Option<PickHit>,
}

/// Everything that decides the pixels of a frame; a redraw happens only when it changes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SceneKey {
    camera: Camera,
    style: PointStyle,
    cuboid_style: CuboidStyle,
    size_px: [u32; 2],
    clouds_generation: u64,
    cuboids_generation: u64,
    background: [u8; 4],
}

/// The 3D viewport widget. Show it with [`Viewport3d::show`] every frame.
#[derive(Debug)]
pub struct Viewport3d {
    gpu: Arc<Viewport3dGpu>,
    shared: Arc<Mutex<ViewState>>,
    /// The camera (free to change between frames).
    pub camera: Camera,
    /// How points are drawn.
    pub style: PointStyle,
    /// How cuboids are drawn.
    pub cuboid_style: CuboidStyle,
    /// Background colour.
    pub background: Color32,
    /// Whether the view shortcuts (1–4, F) work while the pointer is elsewhere (true for a screen
    /// with one viewport; a screen with several gives them to the hovered one).
    pub keys_when_unhovered: bool,
    /// Whether the mouse and key hints are drawn in the bottom-right corner.
    pub show_hints: bool,
    /// Whether the primary button navigates (left drag orbits, a click picks). A screen whose
    /// tools take the primary button (painting) turns it off: then the secondary button orbits,
    /// Shift + secondary or the middle button pans.
    pub primary_navigates: bool,
    clouds: Vec<Arc<GpuPointCloud>>,
    clouds_generation: u64,
    cuboids: Arc<Vec<CuboidInstance>>,
    cuboids_generation: u64,
    bounds: Option<(Point3<f64>, Point3<f64>)>,
    viewport_px: Viewport,
    rect: Rect,
    fit_pending: bool,
    flying: bool,
    interacted: bool,
    pending_pick: Option<[u32; 2]>,
    last_pick: Option<PickHit>,
}

/// A generation counter shared by every widget, so two widgets never reuse a generation value.
fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Viewport3d {
    /// An empty viewport in the orbit view, with the adapter's suggested point budget.
    pub fn new(gpu: Arc<Viewport3dGpu>) -> Self {
        let style = PointStyle { budget_points: gpu.suggested_budget(), ..PointStyle::default() };
        Self {
            gpu,
            shared: Arc::new(Mutex::new(ViewState::default())),
            camera: Camera::standard(StandardView::Orbit),
            style,
            cuboid_style: CuboidStyle::default(),
            background: theme::CANVAS,
            keys_when_unhovered: true,
            show_hints: true,
            primary_navigates: true,
            clouds: Vec::new(),
            clouds_generation: next_generation(),
            cuboids: Arc::new(Vec::new()),
            cuboids_generation: next_generation(),
            bounds: None,
            viewport_px: Viewport::new(800, 600),
            rect: Rect::NOTHING,
            fit_pending: false,
            flying: false,
            interacted: false,
            pending_pick: None,
            last_pick: None,
        }
    }

    /// Replaces the clouds drawn (they must share one origin, as the pieces of one file do).
    pub fn set_clouds(&mut self, clouds: Vec<Arc<GpuPointCloud>>) {
        self.clouds = clouds;
        self.clouds_changed();
    }

    /// Adds a cloud (e.g. the next streamed piece).
    pub fn push_cloud(&mut self, cloud: Arc<GpuPointCloud>) {
        self.clouds.push(cloud);
        self.clouds_changed();
    }

    fn clouds_changed(&mut self) {
        self.clouds_generation = next_generation();
        self.last_pick = None;
        self.bounds = self
            .clouds
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| c.bounds())
            .reduce(|(a_min, a_max), (b_min, b_max)| (a_min.inf(&b_min), a_max.sup(&b_max)));
    }

    /// The clouds drawn.
    pub fn clouds(&self) -> &[Arc<GpuPointCloud>] {
        &self.clouds
    }

    /// Redraws at the next frame although nothing the widget knows changed (the clouds' labels or
    /// the label palette were rewritten).
    pub fn invalidate(&mut self) {
        self.clouds_generation = next_generation();
    }

    /// Replaces the cuboids (world coordinates).
    pub fn set_cuboids(&mut self, cuboids: Vec<CuboidInstance>) {
        self.cuboids = Arc::new(cuboids);
        self.cuboids_generation = next_generation();
    }

    /// World bounds of the clouds, `None` while there are no points.
    pub fn bounds(&self) -> Option<(Point3<f64>, Point3<f64>)> {
        self.bounds
    }

    /// The viewport's size in physical pixels at the last [`Viewport3d::show`].
    pub fn viewport_px(&self) -> Viewport {
        self.viewport_px
    }

    /// Where the viewport was laid out at the last [`Viewport3d::show`] (egui points).
    pub fn rect(&self) -> Rect {
        self.rect
    }

    /// True once the user moved the camera with the mouse or keyboard.
    pub fn interacted(&self) -> bool {
        self.interacted
    }

    /// The last completed pick.
    pub fn last_pick(&self) -> Option<&PickHit> {
        self.last_pick.as_ref()
    }

    /// What the last drawn frame did.
    pub fn frame_info(&self) -> FrameInfo {
        self.lock().frame
    }

    /// The last GPU error, if drawing failed.
    pub fn error(&self) -> Option<String> {
        self.lock().error.clone()
    }

    /// The colour mode actually used (the wanted one, or height when the cloud lacks it).
    pub fn effective_color_by(&self) -> ColorBy {
        self.clouds.first().map_or(self.style.color_by, |c| c.resolve_color_by(self.style.color_by))
    }

    /// Turns to a standard view and fits the clouds at the next frame.
    pub fn set_standard_view(&mut self, view: StandardView) {
        self.camera.set_standard_view(view);
        self.fit_pending = true;
    }

    /// Frames the clouds at the next frame (keeping the viewing direction).
    pub fn fit(&mut self) {
        self.fit_pending = true;
    }

    /// Frames a box now, with the viewport size of the last frame.
    pub fn fit_to(&mut self, min: Point3<f64>, max: Point3<f64>) {
        self.fit_pending = false;
        self.camera.fit_to_bounds(min, max, self.viewport_px);
    }

    /// Asks for a pick at a pixel of the viewport (physical pixels from its top-left corner);
    /// the answer comes with a later frame's [`Viewport3dResponse::picked`].
    pub fn request_pick(&mut self, pixel: [u32; 2]) {
        self.pending_pick = Some(pixel);
    }

    fn lock(&self) -> MutexGuard<'_, ViewState> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lays out the viewport over the whole available space, handles input and paints.
    pub fn show(&mut self, ui: &mut egui::Ui) -> Viewport3dResponse {
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        let ppp = ui.ctx().pixels_per_point();
        let px = viewport_in_pixels(rect, ppp, None);
        self.viewport_px = Viewport::new(px.width_px.max(1) as u32, px.height_px.max(1) as u32);
        self.rect = rect;

        let picked = self.lock().pick_done.take();
        if let Some(hit) = &picked {
            self.last_pick = Some(hit.clone());
        }
        self.handle_input(ui, &response, rect, ppp);
        if self.fit_pending
            && let Some((min, max)) = self.bounds
        {
            self.fit_to(min, max);
        }

        let background = self.background.to_srgba_unmultiplied();
        let callback = SceneCallback {
            gpu: Arc::clone(&self.gpu),
            state: Arc::clone(&self.shared),
            rect,
            key: SceneKey {
                camera: self.camera,
                style: self.style,
                cuboid_style: self.cuboid_style,
                size_px: [0, 0],
                clouds_generation: self.clouds_generation,
                cuboids_generation: self.cuboids_generation,
                background,
            },
            clouds: self.clouds.clone(),
            cuboids: Arc::clone(&self.cuboids),
            pick: self.pending_pick.take(),
            height_range_m: self.bounds.map(|(min, max)| [min.z, max.z]),
            ctx: ui.ctx().clone(),
        };
        ui.painter().add(egui_wgpu::Callback::new_paint_callback(rect, callback));
        self.paint_axes(ui, rect);
        if self.show_hints && rect.width() > 560.0 {
            ui.painter().text(
                rect.right_bottom() + egui::vec2(-theme::SPACE, -theme::SPACE),
                egui::Align2::RIGHT_BOTTOM,
                if self.primary_navigates {
                    "Left drag: orbit · Right drag: pan · Wheel: zoom · Right button + WASD/QE: fly · \
                     Click: pick · 1–4: views · F: fit"
                } else {
                    "Right drag: orbit · Middle or Shift + right drag: pan · Wheel: zoom · F: fit"
                },
                egui::TextStyle::Small.resolve(ui.style()),
                theme::TEXT_WEAK.gamma_multiply(0.8),
            );
        }
        if self.clouds.is_empty() {
            ui.painter().text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "No points yet",
                egui::TextStyle::Body.resolve(ui.style()),
                theme::TEXT_WEAK,
            );
        }
        Viewport3dResponse { response, picked }
    }

    /// The world axes as seen by the camera, in the bottom-left corner.
    fn paint_axes(&self, ui: &egui::Ui, rect: Rect) {
        const LENGTH: f32 = 22.0;
        let origin = rect.left_bottom() + egui::vec2(LENGTH + 14.0, -(LENGTH + 14.0));
        if !rect.contains(origin) {
            return;
        }
        let (right, up) = (self.camera.right(), self.camera.up());
        let painter = ui.painter_at(rect);
        let font = egui::TextStyle::Small.resolve(ui.style());
        let mut axes = [
            (nalgebra::Vector3::x(), theme::AXIS_X, "x"),
            (nalgebra::Vector3::y(), theme::AXIS_Y, "y"),
            (nalgebra::Vector3::z(), theme::AXIS_Z, "z"),
        ];
        // Axes pointing away from the viewer first, so the nearer ones are drawn on top.
        let forward = self.camera.forward();
        axes.sort_by(|a, b| b.0.dot(&forward).total_cmp(&a.0.dot(&forward)));
        for (axis, color, name) in axes {
            let dir = egui::vec2(axis.dot(&right) as f32, -axis.dot(&up) as f32);
            let end = origin + dir * LENGTH;
            painter.line_segment([origin, end], egui::Stroke::new(2.0, color));
            if dir.length() > 0.2 {
                painter.text(
                    end + dir.normalized() * 7.0,
                    egui::Align2::CENTER_CENTER,
                    name,
                    font.clone(),
                    color,
                );
            }
        }
    }

    fn handle_input(&mut self, ui: &egui::Ui, response: &egui::Response, rect: Rect, ppp: f32) {
        let ctx = ui.ctx().clone();
        let viewport = self.viewport_px;
        let hovered = response.hovered();
        let (shift, secondary_down, dt, scroll, pinch, pointer) = ui.input(|i| {
            (
                i.modifiers.shift,
                i.pointer.button_down(PointerButton::Secondary),
                f64::from(i.stable_dt.min(0.1)),
                f64::from(i.smooth_scroll_delta.y),
                f64::from(i.zoom_delta()),
                i.pointer.latest_pos(),
            )
        });
        let to_px = |pos: egui::Pos2| {
            Point2::new(
                f64::from((pos.x - rect.min.x) * ppp),
                f64::from((pos.y - rect.min.y) * ppp),
            )
        };

        // Dragging.
        if response.dragged() {
            let delta = response.drag_delta() * ppp;
            let (dx, dy) = (f64::from(delta.x), f64::from(delta.y));
            let primary = self.primary_navigates;
            let secondary = response.dragged_by(PointerButton::Secondary) && !self.flying;
            let pan = response.dragged_by(PointerButton::Middle)
                || (secondary && (primary || shift))
                || (response.dragged_by(PointerButton::Primary) && shift && primary);
            let orbit = if primary {
                response.dragged_by(PointerButton::Primary)
            } else {
                secondary && !shift
            };
            if dx != 0.0 || dy != 0.0 {
                if self.flying && response.dragged_by(PointerButton::Secondary) {
                    self.camera.fly_look(-dx * LOOK_RAD_PER_PX, dy * LOOK_RAD_PER_PX);
                } else if pan {
                    self.camera.pan_px(Vector2::new(dx, dy), viewport);
                } else if orbit {
                    self.camera.orbit(-dx * ORBIT_RAD_PER_PX, dy * ORBIT_RAD_PER_PX);
                }
                self.interacted = true;
            }
        }

        // Zoom about the cursor.
        if hovered {
            let factor = (scroll * ZOOM_PER_SCROLL_POINT).exp() * pinch;
            if (factor - 1.0).abs() > 1e-9 {
                let at = pointer.filter(|p| rect.contains(*p)).map_or_else(
                    || Point2::new(viewport.width_px * 0.5, viewport.height_px * 0.5),
                    to_px,
                );
                self.camera.zoom_about_px(factor, at, viewport);
                self.interacted = true;
            }
        }

        // Fly: W A S D (forward, left, back, right), Q E (down, up) while the right button is
        // held.
        if secondary_down && (hovered || self.flying) && !ctx.egui_wants_keyboard_input() {
            let axis = |plus: Key, minus: Key| {
                ui.input(|i| {
                    f64::from(u8::from(i.key_down(plus))) - f64::from(u8::from(i.key_down(minus)))
                })
            };
            let (forward, right, up) =
                (axis(Key::W, Key::S), axis(Key::D, Key::A), axis(Key::E, Key::Q));
            if forward != 0.0 || right != 0.0 || up != 0.0 {
                if !self.flying {
                    self.flying = true;
                    self.camera.projection = Projection::Perspective;
                }
                let radius = self.bounds.map_or(10.0, |(min, max)| (max - min).norm() * 0.5);
                let step =
                    radius.max(1e-3) * FLY_RADII_PER_SEC * dt * if shift { 4.0 } else { 1.0 };
                self.camera.fly_move(forward * step, right * step, up * step);
                self.interacted = true;
            }
            if self.flying {
                ctx.request_repaint();
            }
        } else if !secondary_down {
            self.flying = false;
        }

        // View shortcuts.
        if (hovered || self.keys_when_unhovered) && !self.flying && !ctx.egui_wants_keyboard_input()
        {
            for (command, view) in [
                (commands::VIEW_TOP, StandardView::Top),
                (commands::VIEW_SIDE, StandardView::Side),
                (commands::VIEW_FRONT, StandardView::Front),
                (commands::VIEW_ORBIT, StandardView::Orbit),
            ] {
                if command.pressed(&ctx) {
                    self.set_standard_view(view);
                }
            }
            if commands::FIT.pressed(&ctx) {
                self.fit();
            }
        }

        // A click picks.
        if self.primary_navigates
            && response.clicked_by(PointerButton::Primary)
            && let Some(pos) = response.interact_pointer_pos()
        {
            let p = to_px(pos);
            self.request_pick([p.x.max(0.0) as u32, p.y.max(0.0) as u32]);
        }
    }
}

/// The pixel rectangle egui gives a paint callback over `rect` (same rounding as egui).
fn viewport_in_pixels(rect: Rect, ppp: f32, screen_px: Option<[u32; 2]>) -> ViewportInPixels {
    ViewportInPixels::from_points(&rect, ppp, screen_px.unwrap_or([u32::MAX / 2; 2]))
}

/// The widget's GPU state, shared with its paint callbacks.
#[derive(Debug, Default)]
struct ViewState {
    target: Option<FrameTarget>,
    views: Vec<PointCloudView>,
    cuboids: Option<CuboidSet>,
    cuboids_origin: [f64; 3],
    cuboids_generation: u64,
    drawn: Option<SceneKey>,
    picking: Option<PickingTarget>,
    pick_done: Option<PickHit>,
    frame: FrameInfo,
    error: Option<String>,
}

#[derive(Debug)]
struct FrameTarget {
    target: OffscreenTarget,
    blit: wgpu::BindGroup,
}

struct SceneCallback {
    gpu: Arc<Viewport3dGpu>,
    state: Arc<Mutex<ViewState>>,
    rect: Rect,
    key: SceneKey,
    clouds: Vec<Arc<GpuPointCloud>>,
    cuboids: Arc<Vec<CuboidInstance>>,
    pick: Option<[u32; 2]>,
    /// World z range of all clouds.
    height_range_m: Option<[f64; 2]>,
    ctx: egui::Context,
}

impl egui_wgpu::CallbackTrait for SceneCallback {
    fn prepare(
        &self,
        _device: &wgpu::Device,
        _queue: &wgpu::Queue,
        screen: &egui_wgpu::ScreenDescriptor,
        _egui_encoder: &mut wgpu::CommandEncoder,
        _resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let px =
            viewport_in_pixels(self.rect, screen.pixels_per_point, Some(screen.size_in_pixels));
        if px.width_px > 0 && px.height_px > 0 {
            let size_px = [px.width_px as u32, px.height_px as u32];
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.prepare(self, size_px);
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        _resources: &egui_wgpu::CallbackResources,
    ) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(target) = &state.target {
            self.gpu.blitter.paint(pass, &target.blit);
        }
    }
}

impl ViewState {
    fn prepare(&mut self, scene: &SceneCallback, size_px: [u32; 2]) {
        let gpu = &scene.gpu;
        let (device, queue) = (&gpu.device, &gpu.queue);
        if self
            .target
            .as_ref()
            .is_none_or(|t| [t.target.width_px(), t.target.height_px()] != size_px)
        {
            let target = OffscreenTarget::new(device, size_px[0], size_px[1]);
            let blit = gpu.blitter.bind(device, &target.color_view);
            self.target = Some(FrameTarget { target, blit });
            self.picking = None;
            self.drawn = None;
        }
        while self.views.len() < scene.clouds.len() {
            self.views.push(gpu.points.create_view(device));
        }
        let origin = scene.clouds.first().map_or([0.0; 3], |c| c.origin());
        if self.cuboids_generation != scene.key.cuboids_generation || self.cuboids_origin != origin
        {
            if scene.cuboids.is_empty() {
                self.cuboids = None;
            } else {
                let set = match self.cuboids.take() {
                    Some(set) if self.cuboids_origin == origin => set,
                    _ => gpu.cuboids.create_set(device, origin),
                };
                let mut set = set;
                set.set_instances(device, queue, &scene.cuboids);
                self.cuboids = Some(set);
            }
            self.cuboids_generation = scene.key.cuboids_generation;
            self.cuboids_origin = origin;
        }

        let key = SceneKey { size_px, ..scene.key };
        if self.drawn != Some(key) {
            let result = with_error_scope(device, "drawing the 3D view", || {
                self.draw(scene, key);
                Ok(())
            });
            self.error = result.err().map(|e| e.to_string());
            self.drawn = Some(key);
        }
        if let Some(pixel) = scene.pick {
            let hit = self.pick(scene, pixel);
            self.pick_done = Some(hit);
            scene.ctx.request_repaint();
        }
    }

    fn draw(&mut self, scene: &SceneCallback, key: SceneKey) {
        let gpu = &scene.gpu;
        let (device, queue) = (&gpu.device, &gpu.queue);
        let Some(frame) = &self.target else { return };
        let viewport = frame.target.viewport();
        let total: usize = scene.clouds.iter().map(|c| c.len()).sum();
        let mut stats = PointFrameStats::default();
        for (cloud, view) in scene.clouds.iter().zip(self.views.iter_mut()) {
            let mut style = key.style;
            if scene.clouds.len() > 1 && style.height_range_m.is_none() {
                // One height ramp over all clouds, not one per piece.
                style.height_range_m = scene.height_range_m;
            }
            if scene.clouds.len() > 1 && total > 0 {
                let share = key.style.budget_points as f64 * cloud.len() as f64 / total as f64;
                style.budget_points = (share.ceil() as usize).max(1);
            }
            let s = gpu.points.prepare(queue, view, cloud, &key.camera, viewport, &style);
            stats.visible_chunks += s.visible_chunks;
            stats.visible_points += s.visible_points;
            stats.drawn_points += s.drawn_points;
        }
        if let Some(set) = &self.cuboids {
            gpu.cuboids.prepare(queue, set, &key.camera, viewport, &key.cuboid_style);
        }
        let (clouds, views, cuboids) = (&scene.clouds, &self.views, &self.cuboids);
        frame.target.render(device, queue, key.background, |pass| {
            for (cloud, view) in clouds.iter().zip(views.iter()) {
                gpu.points.paint(pass, view, cloud);
            }
            if let Some(set) = cuboids {
                gpu.cuboids.paint(pass, set);
            }
        });
        self.frame = FrameInfo { points: stats, redraws: self.frame.redraws + 1 };
    }

    fn pick(&mut self, scene: &SceneCallback, pixel: [u32; 2]) -> PickHit {
        let gpu = &scene.gpu;
        let (device, queue) = (&gpu.device, &gpu.queue);
        if scene.clouds.len() > 1 {
            return PickHit::Unavailable;
        }
        let Some(frame) = &self.target else { return PickHit::Nothing };
        let (width, height) = (frame.target.width_px(), frame.target.height_px());
        let picking = match self.picking.take() {
            Some(p) if p.width_px() == width && p.height_px() == height => p,
            _ => PickingTarget::new(device, width, height),
        };
        let radius = PICK_RADIUS_PX.max(scene.key.style.point_size_px.ceil() as u32);
        let (cloud, view, cuboids) = (scene.clouds.first(), self.views.first(), &self.cuboids);
        let result = picking.pick(device, queue, pixel, radius, |pass| {
            if let (Some(cloud), Some(view)) = (cloud, view) {
                gpu.points.paint_picking(pass, view, cloud);
            }
            if let Some(set) = cuboids {
                gpu.cuboids.paint_picking(pass, set);
            }
        });
        self.picking = Some(picking);
        match result {
            Ok(Some(PickId { kind: PickKind::Point, index })) => cloud
                .and_then(|c| c.original_index(index))
                .map_or(PickHit::Nothing, |index| PickHit::Point { index }),
            Ok(Some(PickId { kind: PickKind::Cuboid, index })) => PickHit::Cuboid { index },
            Ok(None) => PickHit::Nothing,
            Err(e) => PickHit::Failed(e.to_string()),
        }
    }
}
