//! The 3D point-cloud semantic-segmentation screen: a top bar (task commands, undo/redo, time
//! left, sync badge), a left panel (instructions, tools, labels with colours and point counts,
//! frame attributes, view), and the 3D viewport in the middle, its points coloured by label.
//!
//! The primary button paints with the active tool (brush, lasso, eraser); the secondary button
//! orbits and the middle button (or Shift + secondary) pans, so painting never fights the camera.
//! A brush step projects nothing: the points' pixels are computed once per camera change
//! ([`ProjectedCloud`]) and a step asks only the grid cells under the brush. After a step only the
//! changed labels go to the GPU ([`GpuPointCloud::update_labels`]); "show one class only" is a
//! palette with alpha 0 for the other classes.
//!
//! Edits go to the [`PointSegDocument`] directly (every stroke is one undo step); the screen
//! returns the [`TaskAction`]s that need the app. Never waits on disk or network. Must not depend
//! on `app`.

use std::sync::Arc;
use std::time::Instant;

use egui::{Color32, Pos2, RichText, Ui};
use serde_json::Value;

use super::{TaskAction, TaskHeader, TopBar, instructions_window, label_key_text, notice_bar};
use crate::annotation::point_seg::{
    AuditMode, PointSegDocument, ProjectedCloud, ProjectionOptions, StrokeSpec,
};
use crate::formats::label_config::{AttributeSpec, AttributeType};
use crate::formats::point_cloud::PointCloud;
use crate::geometry::{Camera, StandardView, Viewport};
use crate::render::points::{ColorBy, GpuPointCloud};
use crate::ui::command::{self, Command, all, segment3d as cmds};
use crate::ui::theme;
use crate::ui::viewport3d::{Viewport3d, Viewport3dGpu};
use crate::ui::widgets;

/// What the primary button does in the viewport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegTool {
    /// Paint a circle around the cursor.
    Brush,
    /// Paint inside a drawn outline.
    Lasso,
    /// Erase to unlabeled under a circle around the cursor.
    Eraser,
}

/// How long the last paint step took.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepTiming {
    /// Milliseconds re-projecting the cloud (0 when the projection was current).
    pub projection_ms: f64,
    /// Milliseconds finding and painting the points and writing the changed labels.
    pub paint_ms: f64,
    /// Points changed.
    pub changed: usize,
}

/// The camera, viewport and point size a projection was made for.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ProjectionKey {
    camera: Camera,
    viewport: Viewport,
    point_size_px: f32,
}

/// The view state of the open segmentation task (what is not part of the document).
#[derive(Debug)]
pub struct Segment3dView {
    /// The 3D viewport.
    pub viewport: Viewport3d,
    gpu: Arc<Viewport3dGpu>,
    cloud: Option<(Arc<PointCloud>, Arc<GpuPointCloud>)>,
    projection: Option<(ProjectionKey, ProjectedCloud)>,
    /// The active tool.
    pub tool: SegTool,
    /// The class the brush and lasso paint (1…n).
    pub active_class: u8,
    /// Paint only unlabeled points.
    pub only_unpainted: bool,
    /// Paint only points not hidden behind others.
    pub visible_only: bool,
    /// Show only the points of the active class.
    pub show_one_class: bool,
    /// Brush radius in egui points.
    pub brush_radius_pt: f32,
    /// Whether the shortcuts panel shows.
    pub show_shortcuts: bool,
    /// Whether the full instructions window shows.
    pub show_full_instructions: bool,
    /// A short message about the last refused action (read-only label, …).
    pub message: Option<String>,
    /// The last paint step's timing.
    pub last_step: Option<StepTiming>,
    stroke_last_px: Option<[f32; 2]>,
    lasso: Vec<Pos2>,
    palette: Option<(Option<u8>, usize)>,
    candidates: Vec<u32>,
    changed: Vec<u32>,
}

impl Segment3dView {
    /// A view on `gpu`'s renderers, without points until [`Segment3dView::set_cloud`].
    pub fn new(gpu: Arc<Viewport3dGpu>) -> Self {
        let mut viewport = Viewport3d::new(Arc::clone(&gpu));
        viewport.primary_navigates = false;
        viewport.style.color_by = ColorBy::Label;
        viewport.style.point_size_px = 2.0;
        Self {
            viewport,
            gpu,
            cloud: None,
            projection: None,
            tool: SegTool::Brush,
            active_class: 1,
            only_unpainted: false,
            visible_only: false,
            show_one_class: false,
            brush_radius_pt: 24.0,
            show_shortcuts: false,
            show_full_instructions: false,
            message: None,
            last_step: None,
            stroke_last_px: None,
            lasso: Vec::new(),
            palette: None,
            candidates: Vec::new(),
            changed: Vec::new(),
        }
    }

    /// Shows `gpu_cloud` (uploaded from `cloud`) with the document's labels, framed from above
    /// at an angle.
    pub fn set_cloud(
        &mut self,
        cloud: Arc<PointCloud>,
        gpu_cloud: Arc<GpuPointCloud>,
        doc: &PointSegDocument,
    ) {
        let labels: Vec<u32> = doc.labels().iter().map(|&c| u32::from(c)).collect();
        if let Err(e) = gpu_cloud.set_labels(self.gpu.queue(), &labels) {
            self.message = Some(format!("The labels could not be shown: {e}"));
        }
        self.viewport.set_clouds(vec![Arc::clone(&gpu_cloud)]);
        self.viewport.set_standard_view(StandardView::Orbit);
        self.cloud = Some((cloud, gpu_cloud));
        self.projection = None;
        self.palette = None;
    }

    /// The cloud shown (CPU copy), once set.
    pub fn cloud(&self) -> Option<&Arc<PointCloud>> {
        self.cloud.as_ref().map(|(c, _)| c)
    }

    /// True once the points are on the GPU.
    pub fn is_ready(&self) -> bool {
        self.cloud.is_some()
    }

    /// Sends the labels of `points` to the GPU and asks for a redraw.
    pub fn upload_changed(&mut self, doc: &PointSegDocument, points: &[u32]) {
        if points.is_empty() {
            return;
        }
        if let Some((_, gpu_cloud)) = &self.cloud {
            let labels = doc.labels();
            gpu_cloud.update_labels(self.gpu.queue(), points, |i| {
                labels.get(i as usize).copied().map_or(0, u32::from)
            });
            self.viewport.invalidate();
        }
    }

    /// The projection for the current camera, made now if the camera or viewport changed.
    /// Returns the milliseconds spent projecting.
    fn ensure_projection(&mut self) -> f64 {
        let Some((cloud, _)) = &self.cloud else { return 0.0 };
        let key = ProjectionKey {
            camera: self.viewport.camera,
            viewport: self.viewport.viewport_px(),
            point_size_px: self.viewport.style.point_size_px,
        };
        if self.projection.as_ref().is_some_and(|(k, _)| *k == key) {
            return 0.0;
        }
        let started = Instant::now();
        let clip_from_local = key.camera.clip_from_local(key.viewport, cloud.origin);
        let options =
            ProjectionOptions { point_size_px: key.point_size_px, ..ProjectionOptions::default() };
        let projected =
            ProjectedCloud::new(&cloud.positions, &clip_from_local, key.viewport, &options);
        self.projection = Some((key, projected));
        started.elapsed().as_secs_f64() * 1000.0
    }

    /// Uploads the label palette when the classes or "show one class only" changed.
    fn update_palette(&mut self, doc: &PointSegDocument) {
        let only = self.show_one_class.then_some(self.active_class);
        let state = (only, doc.classes().len());
        if self.palette == Some(state) {
            return;
        }
        let colors: Vec<[u8; 4]> = doc
            .classes()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let [r, g, b] = if i == 0 { theme::UNLABELED_POINT } else { c.color };
                let shown = only.is_none_or(|o| usize::from(o) == i);
                [r, g, b, if shown { 255 } else { 0 }]
            })
            .collect();
        // Ids past the classes (none are written) stay hidden rather than repeating colours.
        let mut palette = colors;
        palette.resize(crate::render::points::PALETTE_WIDTH as usize, [0, 0, 0, 0]);
        self.gpu.point_renderer().set_label_palette(self.gpu.queue(), &palette);
        self.palette = Some(state);
        self.viewport.invalidate();
    }

    fn stroke_spec(&self) -> StrokeSpec {
        match self.tool {
            SegTool::Eraser => StrokeSpec::ERASE,
            SegTool::Brush | SegTool::Lasso => {
                StrokeSpec { class: self.active_class, only_unpainted: self.only_unpainted }
            }
        }
    }

    fn undo(&mut self, doc: &mut PointSegDocument) {
        self.stroke_last_px = None;
        if let Some(crate::annotation::point_seg::Changed::Points(points)) = doc.undo() {
            self.upload_changed(doc, &points);
        }
    }

    fn redo(&mut self, doc: &mut PointSegDocument) {
        if let Some(crate::annotation::point_seg::Changed::Points(points)) = doc.redo() {
            self.upload_changed(doc, &points);
        }
    }
}

/// What the segmentation screen shows around the document, from the app.
#[derive(Debug, Clone, Copy)]
pub struct Segment3dChrome<'a> {
    /// Title, job, object, instructions, claim time, sync, notice, busy, resumed.
    pub header: TaskHeader<'a>,
    /// What to show while there are no points ("Loading…" or an error).
    pub status: &'a str,
}

fn class_color(doc: &PointSegDocument, class: usize) -> Color32 {
    match class {
        0 => theme::rgb(theme::UNLABELED_POINT),
        i => doc.classes().get(i).map_or(theme::TEXT_WEAK, |c| theme::rgb(c.color)),
    }
}

/// The whole segmentation screen. Returns the actions the worker asked for.
pub fn segment3d_ui(
    ui: &mut Ui,
    view: &mut Segment3dView,
    doc: &mut PointSegDocument,
    chrome: &Segment3dChrome<'_>,
) -> Vec<TaskAction> {
    let mut actions = Vec::new();
    let ctx = ui.ctx().clone();
    let typing = ctx.egui_wants_keyboard_input();
    let painting = doc.in_stroke() || !view.lasso.is_empty();
    let class_count = doc.classes().len();
    if usize::from(view.active_class) >= class_count {
        view.active_class = 1;
    }

    // --- keyboard (before the viewport, so number keys choose labels, not views) -------------
    if all::SUBMIT.pressed(&ctx) && doc.incomplete().is_none() && !chrome.header.busy && !painting {
        actions.push(TaskAction::Submit);
    }
    if !typing {
        if all::STOP_AND_RESUME.pressed(&ctx) {
            actions.push(TaskAction::StopAndResume);
        }
        if !painting {
            if all::REDO.pressed(&ctx) {
                view.redo(doc);
            }
            if all::UNDO.pressed(&ctx) {
                view.undo(doc);
            }
        }
        for (command, tool) in [
            (cmds::TOOL_BRUSH, SegTool::Brush),
            (cmds::TOOL_LASSO, SegTool::Lasso),
            (cmds::TOOL_ERASER, SegTool::Eraser),
        ] {
            if command.pressed(&ctx) && !painting {
                view.tool = tool;
            }
        }
        if cmds::ONLY_UNPAINTED.pressed(&ctx) {
            view.only_unpainted = !view.only_unpainted;
        }
        if cmds::VISIBLE_ONLY.pressed(&ctx) {
            view.visible_only = !view.visible_only;
        }
        if cmds::SHOW_ONE_CLASS.pressed(&ctx) {
            view.show_one_class = !view.show_one_class;
        }
        if cmds::BRUSH_SMALLER.pressed(&ctx) {
            view.brush_radius_pt = resize_brush(view.brush_radius_pt, 1.0 / 1.25);
        }
        if cmds::BRUSH_LARGER.pressed(&ctx) {
            view.brush_radius_pt = resize_brush(view.brush_radius_pt, 1.25);
        }
        if all::SHORTCUTS.pressed(&ctx) {
            view.show_shortcuts = !view.show_shortcuts;
        }
        if all::INSTRUCTIONS.pressed(&ctx) {
            view.show_full_instructions = !view.show_full_instructions;
        }
        for i in 0..class_count.saturating_sub(1) {
            if command::label_pressed(&ctx, i)
                && let Ok(class) = u8::try_from(i + 1)
            {
                view.active_class = class;
            }
        }
    }
    // Alt + wheel sizes the brush (taken before the viewport zooms with it).
    let over_viewport = ctx.pointer_latest_pos().is_some_and(|p| view.viewport.rect().contains(p));
    if over_viewport {
        let scroll = ctx.input_mut(|i| {
            if i.modifiers.alt && i.smooth_scroll_delta.y != 0.0 {
                let y = i.smooth_scroll_delta.y;
                i.smooth_scroll_delta = egui::Vec2::ZERO;
                y
            } else {
                0.0
            }
        });
        if scroll != 0.0 {
            view.brush_radius_pt = resize_brush(view.brush_radius_pt, (scroll * 0.004).exp());
        }
    }
    view.update_palette(doc);

    top_bar(ui, view, doc, chrome, &mut actions, painting);

    if notice_bar(ui, "seg3d-notice", chrome.header.notice) {
        actions.push(TaskAction::DismissNotice);
    }

    if view.show_shortcuts {
        egui::Panel::right("seg3d-shortcuts").exact_size(theme::RIGHT_PANEL_WIDTH).show(ui, |ui| {
            shortcuts_panel(ui, doc);
        });
    }

    egui::Panel::left("seg3d-side")
        .exact_size(theme::SIDE_PANEL_WIDTH)
        .frame(egui::Frame::new().fill(theme::SURFACE).inner_margin(theme::SPACE as i8 * 2))
        .show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                side_panel(ui, view, doc, chrome, painting);
            });
        });

    instructions_window(&ctx, &mut view.show_full_instructions, chrome.header.full_instructions);

    egui::CentralPanel::default().frame(egui::Frame::new().fill(theme::CANVAS)).show(ui, |ui| {
        if !view.is_ready() {
            ui.centered_and_justified(|ui| {
                ui.label(RichText::new(chrome.status).color(theme::TEXT_WEAK));
            });
            return;
        }
        canvas(ui, view, doc);
    });
    actions
}

fn resize_brush(radius: f32, factor: f32) -> f32 {
    (radius * factor).clamp(*theme::BRUSH_RADIUS_RANGE.start(), *theme::BRUSH_RADIUS_RANGE.end())
}

fn top_bar(
    ui: &mut Ui,
    view: &mut Segment3dView,
    doc: &mut PointSegDocument,
    chrome: &Segment3dChrome<'_>,
    actions: &mut Vec<TaskAction>,
    painting: bool,
) {
    let bar = TopBar {
        id: "seg3d-top",
        title: chrome.header.title,
        subtitle: chrome.header.subtitle(),
        busy: chrome.header.busy,
        can_undo: doc.can_undo() && !painting,
        can_redo: doc.can_redo() && !painting,
        incomplete: doc.incomplete(),
        ready: view.is_ready(),
        sync: chrome.header.sync,
        time_left_secs: chrome.header.time_left_secs,
    };
    let clicks = super::top_bar(ui, &bar, actions, |_| {}, |_| {});
    if clicks.undo {
        view.undo(doc);
    }
    if clicks.redo {
        view.redo(doc);
    }
}

fn tool_button(ui: &mut Ui, view: &mut Segment3dView, command: &Command, tool: SegTool) {
    let r = ui
        .add(egui::Button::selectable(view.tool == tool, command.label))
        .on_hover_text(command.hint(ui.ctx()));
    if r.clicked() {
        view.tool = tool;
    }
}

fn toggle(ui: &mut Ui, value: &mut bool, command: &Command) {
    ui.checkbox(value, command.label).on_hover_text(command.hint(ui.ctx()));
}

fn side_panel(
    ui: &mut Ui,
    view: &mut Segment3dView,
    doc: &mut PointSegDocument,
    chrome: &Segment3dChrome<'_>,
    painting: bool,
) {
    super::instructions_section(ui, &mut view.show_full_instructions, &chrome.header);
    ui.add_space(theme::SPACE);

    widgets::section(ui, "Paint");
    if doc.mode() == AuditMode::Verification {
        ui.label(
            RichText::new("Verification: the labels are read-only; check them and answer the frame attributes.")
                .color(theme::TEXT_WEAK),
        );
    } else {
        ui.add_enabled_ui(!painting, |ui| {
            ui.horizontal(|ui| {
                tool_button(ui, view, &cmds::TOOL_BRUSH, SegTool::Brush);
                tool_button(ui, view, &cmds::TOOL_LASSO, SegTool::Lasso);
                tool_button(ui, view, &cmds::TOOL_ERASER, SegTool::Eraser);
            });
        });
        ui.add(
            egui::Slider::new(&mut view.brush_radius_pt, theme::BRUSH_RADIUS_RANGE)
                .logarithmic(true)
                .text("Brush radius")
                .suffix(" pt")
                .fixed_decimals(0),
        )
        .on_hover_text("[ and ] or Alt + wheel");
        toggle(ui, &mut view.only_unpainted, &cmds::ONLY_UNPAINTED);
        toggle(ui, &mut view.visible_only, &cmds::VISIBLE_ONLY);
    }
    ui.add_space(theme::SPACE);

    widgets::section(ui, "Labels");
    let total = doc.point_count().max(1) as f64;
    for i in 1..doc.classes().len() {
        let Some(class) = doc.classes().get(i) else { continue };
        let name = if class.read_only {
            format!("{} (read-only)", class.name)
        } else {
            class.name.clone()
        };
        let key = label_key_text(i - 1);
        let selected = usize::from(view.active_class) == i;
        let response =
            widgets::label_row(ui, class_color(doc, i), &name, key.as_deref(), selected, false);
        let count = doc.counts().get(i).copied().unwrap_or(0);
        ui.painter().text(
            response.rect.right_center() - egui::vec2(theme::SPACE * 2.0 + 24.0, 0.0),
            egui::Align2::RIGHT_CENTER,
            format_count(count),
            egui::TextStyle::Small.resolve(ui.style()),
            theme::TEXT_WEAK,
        );
        let response = response
            .on_hover_text(format!("{count} points ({:.1} %)", count as f64 * 100.0 / total));
        if response.clicked()
            && let Ok(class) = u8::try_from(i)
        {
            view.active_class = class;
        }
    }
    let unlabeled = doc.counts().first().copied().unwrap_or(0);
    ui.horizontal(|ui| {
        let (rect, _) =
            ui.allocate_exact_size(egui::vec2(theme::SWATCH, theme::SWATCH), egui::Sense::hover());
        ui.painter().rect_filled(rect, 3.0, class_color(doc, 0));
        ui.label(
            RichText::new(format!("Unlabeled: {}", format_count(unlabeled)))
                .color(theme::TEXT_WEAK),
        );
    });
    toggle(ui, &mut view.show_one_class, &cmds::SHOW_ONE_CLASS);
    ui.add_space(theme::SPACE);

    if !doc.frame_specs().is_empty() {
        widgets::section(ui, "Frame attributes");
        let specs: Vec<AttributeSpec> = doc.frame_specs().to_vec();
        for spec in &specs {
            frame_attribute_editor(ui, view, doc, spec);
        }
        ui.add_space(theme::SPACE);
    }

    widgets::section(ui, "View");
    ui.horizontal_wrapped(|ui| {
        for (command, standard) in [
            (crate::ui::command::viewport::VIEW_TOP, StandardView::Top),
            (crate::ui::command::viewport::VIEW_SIDE, StandardView::Side),
            (crate::ui::command::viewport::VIEW_FRONT, StandardView::Front),
            (crate::ui::command::viewport::VIEW_ORBIT, StandardView::Orbit),
        ] {
            if ui.button(command.label).on_hover_text(format!("{} view", command.label)).clicked() {
                view.viewport.set_standard_view(standard);
            }
        }
        if command::button(ui, &crate::ui::command::viewport::FIT, true) {
            view.viewport.fit();
        }
    });
    ui.add(
        egui::Slider::new(&mut view.viewport.style.point_size_px, 1.0..=8.0)
            .text("Point size")
            .suffix(" px")
            .fixed_decimals(0),
    );
    if command::button(ui, &all::SHORTCUTS, true) {
        view.show_shortcuts = !view.show_shortcuts;
    }
    if chrome.header.resumed {
        ui.add_space(theme::SPACE);
        ui.label(RichText::new("Resumed from your saved draft.").small().color(theme::TEXT_WEAK));
    }
}

/// `12 345`.
fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// One frame attribute's editor: a choice for enums, a slider for numbers, a text field
/// otherwise; read-only attributes are shown greyed out.
fn frame_attribute_editor(
    ui: &mut Ui,
    view: &mut Segment3dView,
    doc: &mut PointSegDocument,
    spec: &AttributeSpec,
) {
    let current = doc.frame_values().get(&spec.name).cloned();
    let required = spec.is_required == Some(true);
    let title = if required { format!("{} *", spec.name) } else { spec.name.clone() };
    let label = ui.label(RichText::new(title).color(theme::TEXT));
    let label_id = label.id;
    if let Some(d) = &spec.description {
        label.on_hover_text(d);
    }
    let editable = doc.frame_attribute_editable(&spec.name);
    let mut set = None::<Option<Value>>;
    ui.add_enabled_ui(editable, |ui| match (&spec.attribute_type, &spec.enum_values) {
        (AttributeType::String, Some(options)) => {
            let shown = current.as_ref().and_then(Value::as_str).unwrap_or("—").to_owned();
            let combo = egui::ComboBox::from_id_salt(("frame-attr", &spec.name))
                .selected_text(shown)
                .width(ui.available_width() - theme::SPACE)
                .show_ui(ui, |ui| {
                    if ui.selectable_label(current.is_none(), "—").clicked() {
                        set = Some(None);
                    }
                    for option in options {
                        let on = current.as_ref().and_then(Value::as_str) == Some(option.as_str());
                        if ui.selectable_label(on, option).clicked() {
                            set = Some(Some(Value::from(option.clone())));
                        }
                    }
                });
            let _ = combo.response.labelled_by(label_id);
        }
        (AttributeType::Number, _) => {
            let lo = spec.minimum.unwrap_or(0.0);
            let hi = spec.maximum.unwrap_or(100.0).max(lo);
            let mut v = current.as_ref().and_then(Value::as_f64).unwrap_or(lo);
            let r = ui
                .add(egui::Slider::new(&mut v, lo..=hi).text(spec.name.as_str()))
                .labelled_by(label_id);
            if r.drag_stopped() || (r.changed() && !r.dragged()) {
                set = Some(serde_json::Number::from_f64(v).map(Value::Number));
            }
        }
        _ => {
            let mut text = current.as_ref().and_then(Value::as_str).unwrap_or_default().to_owned();
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut text)
                        .hint_text(spec.name.as_str())
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label_id);
            if r.changed() {
                set = Some((!text.is_empty()).then(|| Value::from(text)));
            }
        }
    });
    if let Some(value) = set
        && let Err(e) = doc.set_frame_attribute(&spec.name, value)
    {
        view.message = Some(e.to_string());
    }
}

/// The viewport, painting, the brush cursor or lasso, and the status line.
fn canvas(ui: &mut Ui, view: &mut Segment3dView, doc: &mut PointSegDocument) {
    let shown = view.viewport.show(ui);
    let response = shown.response;
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Point cloud viewport")
    });
    let rect = response.rect;
    let ppp = ui.ctx().pixels_per_point();
    let to_px = |p: Pos2| [(p.x - rect.min.x) * ppp, (p.y - rect.min.y) * ppp];
    let (pressed, down, pos) = ui
        .input(|i| (i.pointer.primary_pressed(), i.pointer.primary_down(), i.pointer.latest_pos()));
    let can_paint = doc.mode() != AuditMode::Verification;

    match view.tool {
        SegTool::Brush | SegTool::Eraser => {
            if pressed && response.hovered() && can_paint && !doc.in_stroke() {
                match doc.begin_stroke(view.stroke_spec()) {
                    Ok(()) => {
                        view.message = None;
                        if let Some(p) = pos {
                            view.stroke_last_px = None;
                            brush_step(view, doc, to_px(p), ppp);
                        }
                    }
                    Err(e) => view.message = Some(e.to_string()),
                }
            } else if doc.in_stroke()
                && down
                && let Some(p) = pos
                && view.stroke_last_px != Some(to_px(p))
            {
                brush_step(view, doc, to_px(p), ppp);
            }
            if doc.in_stroke() && !down {
                doc.end_stroke();
                view.stroke_last_px = None;
            }
        }
        SegTool::Lasso => {
            if pressed && response.hovered() && can_paint && view.lasso.is_empty() {
                match doc.paint_refusal(view.active_class) {
                    Some(why) => view.message = Some(why),
                    None => {
                        view.message = None;
                        view.lasso.extend(pos);
                    }
                }
            } else if !view.lasso.is_empty()
                && down
                && let Some(p) = pos
                && view.lasso.last().is_none_or(|l| l.distance(p) >= 2.0)
            {
                view.lasso.push(p);
            }
            if !view.lasso.is_empty() && !down {
                let outline: Vec<[f32; 2]> = view.lasso.drain(..).map(to_px).collect();
                lasso_fill(view, doc, &outline);
            }
        }
    }

    // Overlays.
    let painter = ui.painter_at(rect);
    let color = match view.tool {
        SegTool::Eraser => Color32::WHITE,
        _ => class_color(doc, usize::from(view.active_class)),
    };
    if view.lasso.len() > 1 {
        let mut points = view.lasso.clone();
        if let Some(&first) = points.first() {
            points.push(first);
        }
        painter.add(egui::Shape::line(points, egui::Stroke::new(2.0, color)));
    } else if can_paint
        && view.tool != SegTool::Lasso
        && let Some(p) = response.hover_pos()
    {
        painter.circle_filled(p, view.brush_radius_pt, theme::with_alpha(color, 0.12));
        painter.circle_stroke(p, view.brush_radius_pt, egui::Stroke::new(1.5, color));
        painter.circle_filled(p, 1.5, color);
    }
    status_line(&painter, rect, view, doc);
    if doc.in_stroke() || !view.lasso.is_empty() {
        ui.ctx().request_repaint();
    }
}

/// One brush step: the capsule from the last position to `at` (physical pixels).
fn brush_step(view: &mut Segment3dView, doc: &mut PointSegDocument, at: [f32; 2], ppp: f32) {
    let projection_ms = view.ensure_projection();
    let started = Instant::now();
    let from = view.stroke_last_px.unwrap_or(at);
    view.stroke_last_px = Some(at);
    let Some((_, projected)) = &view.projection else { return };
    view.candidates.clear();
    projected.brush(from, at, view.brush_radius_pt * ppp, view.visible_only, &mut view.candidates);
    view.changed.clear();
    doc.paint(&view.candidates, &mut view.changed);
    let changed = std::mem::take(&mut view.changed);
    view.upload_changed(doc, &changed);
    view.last_step = Some(StepTiming {
        projection_ms,
        paint_ms: started.elapsed().as_secs_f64() * 1000.0,
        changed: changed.len(),
    });
    view.changed = changed;
}

/// Paints the points inside `outline` (physical pixels) as one stroke.
fn lasso_fill(view: &mut Segment3dView, doc: &mut PointSegDocument, outline: &[[f32; 2]]) {
    if outline.len() < 3 {
        return;
    }
    let projection_ms = view.ensure_projection();
    let started = Instant::now();
    let Some((_, projected)) = &view.projection else { return };
    view.candidates.clear();
    projected.lasso(outline, view.visible_only, &mut view.candidates);
    match doc.paint_stroke(view.stroke_spec(), &view.candidates) {
        Ok(changed) => {
            view.upload_changed(doc, &changed);
            view.last_step = Some(StepTiming {
                projection_ms,
                paint_ms: started.elapsed().as_secs_f64() * 1000.0,
                changed: changed.len(),
            });
        }
        Err(e) => view.message = Some(e.to_string()),
    }
}

fn status_line(
    painter: &egui::Painter,
    rect: egui::Rect,
    view: &Segment3dView,
    doc: &PointSegDocument,
) {
    let labeled = doc.point_count() as u64 - doc.counts().first().copied().unwrap_or(0);
    let mut text = format!(
        "{} points · {} labeled",
        format_count(doc.point_count() as u64),
        format_count(labeled)
    );
    if let Some(step) = view.last_step {
        text.push_str(&format!(" · last step {:.1} ms", step.paint_ms + step.projection_ms));
    }
    let font = egui::FontId::proportional(theme::OVERLAY_TEXT);
    let (text, color) = match &view.message {
        Some(m) => (format!("{text} · {m}"), theme::WARN),
        None => (text, theme::TEXT_WEAK),
    };
    let galley = painter.layout_no_wrap(text, font, color);
    let at = rect.left_top() + egui::vec2(theme::SPACE, theme::SPACE);
    painter.rect_filled(
        egui::Rect::from_min_size(at - egui::vec2(4.0, 2.0), galley.size() + egui::vec2(8.0, 4.0)),
        3.0,
        theme::OVERLAY_TEXT_BG,
    );
    painter.galley(at, galley, color);
}

fn shortcuts_panel(ui: &mut Ui, doc: &PointSegDocument) {
    ui.heading("Shortcuts");
    egui::ScrollArea::vertical().show(ui, |ui| {
        let line = |ui: &mut Ui, label: &str, keys: String| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(label).color(theme::TEXT_WEAK));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(RichText::new(keys).monospace());
                });
            });
        };
        let text = |ui: &Ui, c: &Command| {
            c.shortcut.map(|s| command::shortcut_text(ui.ctx(), &s)).unwrap_or_else(|| "—".into())
        };
        widgets::section(ui, "Task");
        for c in [all::SUBMIT, all::STOP_AND_RESUME, all::UNDO, all::REDO] {
            let keys = text(ui, &c);
            line(ui, c.label, keys);
        }
        widgets::section(ui, "3D segmentation");
        for c in cmds::ALL {
            let keys = text(ui, c);
            line(ui, c.label, keys);
        }
        let n = doc.classes().len().saturating_sub(1).min(all::LABEL_KEYS.len());
        if n > 0 {
            line(ui, "Choose label", if n == 10 { "1…9, 0".into() } else { format!("1…{n}") });
        }
        widgets::section(ui, "View");
        for c in [all::SHORTCUTS, all::INSTRUCTIONS, crate::ui::command::viewport::FIT] {
            let keys = text(ui, &c);
            line(ui, c.label, keys);
        }
        ui.label(
            RichText::new(
                "Mouse: left paints, right drag orbits, middle or Shift + right drag pans, the \
                 wheel zooms, Alt + wheel sizes the brush.",
            )
            .small()
            .color(theme::TEXT_WEAK),
        );
    });
}
