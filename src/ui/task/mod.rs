//! The task screen for every image task type: a top bar (task commands, undo/redo, tools, time
//! left, sync badge), a left panel (instructions, labels, attributes, view settings), an optional
//! shortcuts panel, and the viewport in the middle. The per-template canvases and panels live in
//! [`image`] (boxes, polygons, polylines, keypoints), [`segment`], [`classify`] and [`verify`].
//!
//! Views edit the [`Document`] directly (every change is an undoable edit) and return the
//! [`TaskAction`]s that need the app (submit, release, …). Never waits on disk or network.

pub mod classify;
pub mod cloud;
pub mod image;
pub mod segment;
pub mod segment3d;
pub mod verify;
pub mod video;

use egui::{Color32, RichText, Sense, TextureHandle, Ui};

use crate::annotation::document::{Document, PixelRect, Point2, ShapeId, TaskTemplate};
use crate::formats::label_config::AttributeSpec;
use crate::ui::command::{self, Command, all};
use crate::ui::theme;
use crate::ui::widgets::overlay::Handle;
use crate::ui::widgets::viewport::{ImageTiles, Viewport, ZOOM_STEP};
use crate::ui::widgets::{self, SyncBadge};

/// What the worker's pointer does in the viewport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Select, move, resize.
    Select,
    /// Draw new shapes.
    Draw,
    /// Pan with the primary button.
    Pan,
    /// Paint the active label (segmentation).
    Brush,
    /// Erase to background (segmentation).
    Eraser,
    /// Click a polygon and fill it (segmentation).
    Fill,
}

/// A pointer drag in progress.
#[derive(Debug, Clone, PartialEq)]
pub enum Drag {
    /// Drawing a new box from `start`.
    NewBox {
        /// Where the drag began (image pixels).
        start: Point2,
        /// Where the pointer is.
        current: Point2,
    },
    /// Moving a whole shape.
    Move {
        /// Which shape.
        id: ShapeId,
        /// Where the drag began.
        start: Point2,
        /// The geometry so far.
        current: crate::annotation::document::Geometry,
    },
    /// Resizing a box by a handle.
    Resize {
        /// Which shape.
        id: ShapeId,
        /// Which handle.
        handle: Handle,
        /// The geometry so far.
        current: crate::annotation::document::Geometry,
    },
    /// Moving one vertex of a polygon or polyline.
    Vertex {
        /// Which shape.
        id: ShapeId,
        /// Which vertex.
        index: usize,
        /// The geometry so far.
        current: crate::annotation::document::Geometry,
    },
    /// A brush or eraser stroke; the last painted point.
    Stroke {
        /// The last point painted.
        last: Point2,
    },
}

/// A mask shown as a texture, re-uploaded only where it changed.
#[derive(Default)]
pub struct MaskLayer {
    texture: Option<TextureHandle>,
    revision: Option<u64>,
    /// Pixels changed since the last upload (a partial upload suffices), if known.
    pub dirty: Option<PixelRect>,
}

impl std::fmt::Debug for MaskLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskLayer").field("revision", &self.revision).finish()
    }
}

impl MaskLayer {
    /// Uploads what changed of `mask` (colours by class; class 0 transparent), then returns
    /// the texture.
    pub fn update(
        &mut self,
        ctx: &egui::Context,
        mask: &crate::annotation::document::Mask,
        colors: &[[u8; 3]],
        revision: u64,
    ) -> Option<&TextureHandle> {
        let palette: Vec<Color32> = (0..=255usize)
            .map(|i| match (i, colors.get(i)) {
                (0, _) | (_, None) => Color32::TRANSPARENT,
                (_, Some(c)) => theme::rgb(*c),
            })
            .collect();
        let image_of = |rect: PixelRect| {
            let mut pixels = Vec::with_capacity(rect.width as usize * rect.height as usize);
            for y in rect.y..rect.y + rect.height {
                for x in rect.x..rect.x + rect.width {
                    let class = mask.get(x, y).unwrap_or(0);
                    pixels.push(palette.get(usize::from(class)).copied().unwrap_or_default());
                }
            }
            egui::ColorImage::new([rect.width as usize, rect.height as usize], pixels)
        };
        let options = egui::TextureOptions::NEAREST;
        match (&mut self.texture, self.dirty.take()) {
            (None, _) => {
                self.texture = Some(ctx.load_texture("mask", image_of(mask.full_rect()), options));
            }
            (Some(texture), _) if self.revision == Some(revision) => {
                let _ = texture;
            }
            (Some(texture), Some(rect)) if !rect.is_empty() => {
                texture.set_partial([rect.x as usize, rect.y as usize], image_of(rect), options);
            }
            (Some(texture), _) => texture.set(image_of(mask.full_rect()), options),
        }
        self.revision = Some(revision);
        self.texture.as_ref()
    }
}

/// The view state of the open task (what is not part of the document).
#[derive(Debug)]
pub struct TaskView {
    /// Pan and zoom.
    pub viewport: Viewport,
    /// The active tool.
    pub tool: Tool,
    /// The selected shape.
    pub selected: Option<ShapeId>,
    /// The label new shapes and paint get.
    pub active_class: usize,
    /// The drag in progress.
    pub drag: Option<Drag>,
    /// Vertices of a polygon, polyline or fill polygon being drawn.
    pub pending: Vec<Point2>,
    /// Brush radius in image pixels.
    pub brush_radius_px: f32,
    /// Mask opacity (0–1).
    pub mask_opacity: f32,
    /// Brightness offset (−1…1).
    pub brightness: f32,
    /// Contrast factor (0.2…3).
    pub contrast: f32,
    /// Whether the shortcuts panel shows.
    pub show_shortcuts: bool,
    /// Whether the full instructions window shows.
    pub show_full_instructions: bool,
    /// The image point under the pointer.
    pub hover: Option<Point2>,
    /// The worker's mask.
    pub mask_layer: MaskLayer,
    /// The mask under review (verification).
    pub reference_layer: MaskLayer,
    /// Shapes drawn last frame (for the status line).
    pub drawn_shapes: usize,
    /// The task's template (decides the default tool).
    template: TaskTemplate,
}

impl TaskView {
    /// The tool a task of `template` starts with (and returns to when panning is toggled off).
    pub fn default_tool(template: &TaskTemplate) -> Tool {
        match template {
            TaskTemplate::SemanticSegmentation => Tool::Brush,
            TaskTemplate::Classification
            | TaskTemplate::MultiLabel
            | TaskTemplate::Verification => Tool::Pan,
            _ => Tool::Draw,
        }
    }

    /// Toggles the pan tool.
    pub fn toggle_pan(&mut self) {
        self.tool = if self.tool == Tool::Pan && Self::default_tool(&self.template) != Tool::Pan {
            Self::default_tool(&self.template)
        } else {
            Tool::Pan
        };
        self.pending.clear();
    }

    /// The view for a fresh task of `template`.
    pub fn new(template: &TaskTemplate) -> Self {
        Self {
            viewport: Viewport::default(),
            tool: Self::default_tool(template),
            template: template.clone(),
            selected: None,
            active_class: 0,
            drag: None,
            pending: Vec::new(),
            brush_radius_px: 8.0,
            mask_opacity: theme::MASK_OPACITY,
            brightness: 0.0,
            contrast: 1.0,
            show_shortcuts: false,
            show_full_instructions: false,
            hover: None,
            mask_layer: MaskLayer::default(),
            reference_layer: MaskLayer::default(),
            drawn_shapes: 0,
        }
    }
}

/// What every task screen shows around its document, from the app: the job and object, the
/// instructions, the claim's time left, sync state, a notice, and whether a hand-over is under way
/// or the document came from a draft.
#[derive(Debug, Clone, Copy)]
pub struct TaskHeader<'a> {
    /// The job's `TaskTitle`.
    pub title: &'a str,
    /// The job name.
    pub job_name: &'a str,
    /// The data object's id.
    pub object_id: u64,
    /// Short instructions (plain text).
    pub short_instructions: &'a str,
    /// Full instructions (plain text).
    pub full_instructions: &'a str,
    /// Seconds until the task's claim expires.
    pub time_left_secs: Option<i64>,
    /// The sync badge.
    pub sync: SyncBadge,
    /// A message for the worker (e.g. why the last action failed).
    pub notice: Option<&'a str>,
    /// True while a release/decline/submit is being handed over.
    pub busy: bool,
    /// True when the document was restored from a draft.
    pub resumed: bool,
}

impl TaskHeader<'_> {
    /// The top bar's subtitle: job and object.
    pub fn subtitle(&self) -> String {
        format!("{} · object {}", self.job_name, self.object_id)
    }
}

/// The side panel's instructions: the short text, and the button that opens the full text.
pub(crate) fn instructions_section(ui: &mut Ui, show_full: &mut bool, header: &TaskHeader<'_>) {
    widgets::section(ui, "Instructions");
    if header.short_instructions.is_empty() {
        ui.label(RichText::new("No instructions were given.").color(theme::TEXT_WEAK));
    } else {
        ui.label(header.short_instructions);
    }
    if !header.full_instructions.is_empty() && command::button(ui, &all::INSTRUCTIONS, true) {
        *show_full = true;
    }
}

/// What the task screen shows around the document, from the app.
#[derive(Debug, Clone, Copy)]
pub struct TaskChrome<'a> {
    /// Title, job, object, instructions, claim time, sync, notice, busy, resumed.
    pub header: TaskHeader<'a>,
    /// Attributes every shape may carry.
    pub global_attributes: &'a [AttributeSpec],
    /// Attributes per label (by class index).
    pub label_attributes: &'a [Vec<AttributeSpec>],
    /// The image, once decoded and uploaded.
    pub image: Option<&'a ImageTiles>,
    /// What to show while there is no image ("Loading…" or an error).
    pub image_status: &'a str,
}

/// What the task screen asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaskAction {
    /// Submit the answer.
    Submit,
    /// Leave, keeping claim and draft.
    StopAndResume,
    /// Give the task back.
    Release,
    /// Decline the task.
    Decline,
    /// Re-render the image with new brightness and contrast.
    AdjustImage {
        /// Brightness offset (−1…1).
        brightness: f32,
        /// Contrast factor.
        contrast: f32,
    },
    /// Dismiss the notice.
    DismissNotice,
}

/// `1`…`9`, `0` for the first ten labels.
pub fn label_key_text(index: usize) -> Option<String> {
    (index < all::LABEL_KEYS.len()).then(|| ((index + 1) % 10).to_string())
}

/// What the task top bar shared by every task screen shows.
pub struct TopBar<'a> {
    /// The panel's id (one per screen).
    pub id: &'a str,
    /// The task's title.
    pub title: &'a str,
    /// The weak line after the title (`job · object N`, plus what a screen adds).
    pub subtitle: String,
    /// A request is in flight: Stop, Release, Decline and Submit wait.
    pub busy: bool,
    /// Undo is possible now.
    pub can_undo: bool,
    /// Redo is possible now.
    pub can_redo: bool,
    /// Why the answer cannot be submitted yet (`None` when it is complete).
    pub incomplete: Option<String>,
    /// The screen is ready to submit (besides being complete and not busy).
    pub ready: bool,
    /// The sync badge.
    pub sync: SyncBadge,
    /// Seconds until the claim expires, when known.
    pub time_left_secs: Option<i64>,
}

/// Which of the top bar's edit buttons were clicked (the screen undoes or redoes its own way).
#[derive(Debug, Clone, Copy, Default)]
pub struct TopBarClicks {
    /// Undo was clicked.
    pub undo: bool,
    /// Redo was clicked.
    pub redo: bool,
}

/// The task top bar: Stop and resume later, Undo/Redo, the title and `job · object`, and from
/// the right Submit, Decline, Release, the sync badge and the time left. `after_title` adds
/// items between the title and the subtitle; `far_right` adds items at the right end's far side
/// (left of the time).
/// The Stop/Release/Decline/Submit clicks are pushed to `actions`.
pub fn top_bar(
    ui: &mut Ui,
    bar: &TopBar<'_>,
    actions: &mut Vec<TaskAction>,
    after_title: impl FnOnce(&mut Ui),
    far_right: impl FnOnce(&mut Ui),
) -> TopBarClicks {
    let mut clicks = TopBarClicks::default();
    egui::Panel::top(bar.id)
        .frame(
            egui::Frame::new()
                .fill(theme::SURFACE)
                .inner_margin(egui::Margin::symmetric(theme::SPACE as i8 * 2, theme::SPACE as i8)),
        )
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                if command::button(ui, &all::STOP_AND_RESUME, !bar.busy) {
                    actions.push(TaskAction::StopAndResume);
                }
                ui.separator();
                clicks.undo = command::button(ui, &all::UNDO, bar.can_undo);
                clicks.redo = command::button(ui, &all::REDO, bar.can_redo);
                ui.separator();
                // The right end is laid out first, so that the title and subtitle take what is
                // left and are cut short (full text on hover) in a narrow window instead of
                // running under the buttons.
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let enabled = bar.incomplete.is_none() && !bar.busy && bar.ready;
                    let submit = ui
                        .add_enabled(
                            enabled,
                            egui::Button::new(
                                RichText::new(all::SUBMIT.label).strong().color(Color32::WHITE),
                            )
                            .fill(theme::ACCENT),
                        )
                        .on_hover_text(all::SUBMIT.hint(ui.ctx()))
                        .on_disabled_hover_text(bar.incomplete.clone().unwrap_or_default());
                    if submit.clicked() {
                        actions.push(TaskAction::Submit);
                    }
                    if command::button(ui, &all::DECLINE, !bar.busy) {
                        actions.push(TaskAction::Decline);
                    }
                    if command::button(ui, &all::RELEASE, !bar.busy) {
                        actions.push(TaskAction::Release);
                    }
                    ui.separator();
                    widgets::sync_badge(ui, bar.sync);
                    if let Some(secs) = bar.time_left_secs {
                        ui.separator();
                        let color = if secs < 60 {
                            theme::ERROR
                        } else if secs < 300 {
                            theme::WARN
                        } else {
                            theme::TEXT_WEAK
                        };
                        ui.label(
                            RichText::new(format!("Time left {}", format_time_left(secs)))
                                .color(color),
                        )
                        .on_hover_text(
                            "Submit before the task's time limit, or it goes back to the pool.",
                        );
                    }
                    far_right(ui);
                    ui.add_space(theme::SPACE);
                    ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                        ui.add(egui::Label::new(RichText::new(bar.title).strong()).truncate());
                        after_title(ui);
                        ui.add(
                            egui::Label::new(RichText::new(&bar.subtitle).color(theme::TEXT_WEAK))
                                .truncate(),
                        );
                    });
                });
            });
        });
    clicks
}

/// `mm:ss` (or `h:mm:ss`).
pub fn format_time_left(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The whole task screen. Returns the actions the worker asked for.
pub fn task_ui(
    ui: &mut Ui,
    view: &mut TaskView,
    doc: &mut Document,
    chrome: &TaskChrome<'_>,
) -> Vec<TaskAction> {
    let mut actions = Vec::new();
    let ctx = ui.ctx().clone();
    let typing = ctx.egui_wants_keyboard_input();
    let template = doc.template().clone();

    // --- keyboard ---------------------------------------------------------------------------
    if all::SUBMIT.pressed(&ctx) && doc.incomplete().is_none() && !chrome.header.busy {
        actions.push(TaskAction::Submit);
    }
    if !typing {
        if all::STOP_AND_RESUME.pressed(&ctx) {
            actions.push(TaskAction::StopAndResume);
        }
        if all::REDO.pressed(&ctx) {
            doc.redo();
        }
        if all::UNDO.pressed(&ctx) {
            doc.undo();
            view.drag = None;
        }
        if all::FIT.pressed(&ctx) {
            view.viewport.fit_pending = true;
        }
        let center = view.viewport.rect.center();
        if all::ZOOM_IN.pressed(&ctx)
            || ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Equals))
        {
            view.viewport.zoom_around(center, ZOOM_STEP);
        }
        if all::ZOOM_OUT.pressed(&ctx) {
            view.viewport.zoom_around(center, 1.0 / ZOOM_STEP);
        }
        if all::SHORTCUTS.pressed(&ctx) {
            view.show_shortcuts = !view.show_shortcuts;
        }
        if all::INSTRUCTIONS.pressed(&ctx) {
            view.show_full_instructions = !view.show_full_instructions;
        }
        if all::RESET_ADJUST.pressed(&ctx) && (view.brightness != 0.0 || view.contrast != 1.0) {
            view.brightness = 0.0;
            view.contrast = 1.0;
            actions.push(TaskAction::AdjustImage { brightness: 0.0, contrast: 1.0 });
        }
        if all::TOOL_PAN.pressed(&ctx) {
            view.toggle_pan();
        }
    }

    // --- top bar ----------------------------------------------------------------------------
    let clicks = top_bar(
        ui,
        &TopBar {
            id: "task-top",
            title: chrome.header.title,
            subtitle: chrome.header.subtitle(),
            busy: chrome.header.busy,
            can_undo: doc.can_undo(),
            can_redo: doc.can_redo(),
            incomplete: doc.incomplete(),
            ready: true,
            sync: chrome.header.sync,
            time_left_secs: chrome.header.time_left_secs,
        },
        &mut actions,
        |_| {},
        |_| {},
    );
    if clicks.undo {
        doc.undo();
        view.drag = None;
    }
    if clicks.redo {
        doc.redo();
    }

    // --- notice -----------------------------------------------------------------------------
    if notice_bar(ui, "task-notice", chrome.header.notice) {
        actions.push(TaskAction::DismissNotice);
    }

    // --- shortcuts panel --------------------------------------------------------------------
    if view.show_shortcuts {
        egui::Panel::right("task-shortcuts").exact_size(theme::RIGHT_PANEL_WIDTH).show(ui, |ui| {
            shortcuts_panel(ui, doc);
        });
    }

    // --- left panel -------------------------------------------------------------------------
    egui::Panel::left("task-side")
        .exact_size(theme::SIDE_PANEL_WIDTH)
        .frame(egui::Frame::new().fill(theme::SURFACE).inner_margin(theme::SPACE as i8 * 2))
        .show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                instructions_section(ui, &mut view.show_full_instructions, &chrome.header);
                ui.add_space(theme::SPACE);
                match template {
                    TaskTemplate::Classification | TaskTemplate::MultiLabel => {
                        classify::side_panel(ui, view, doc)
                    }
                    TaskTemplate::Verification => verify::side_panel(ui, view, doc),
                    TaskTemplate::SemanticSegmentation => segment::side_panel(ui, view, doc),
                    _ => image::side_panel(ui, view, doc, chrome),
                }
                view_section(ui, view, &mut actions);
                if chrome.header.resumed {
                    ui.add_space(theme::SPACE);
                    ui.label(
                        RichText::new("Resumed from your saved draft.")
                            .small()
                            .color(theme::TEXT_WEAK),
                    );
                }
            });
        });

    instructions_window(&ctx, &mut view.show_full_instructions, chrome.header.full_instructions);

    // --- viewport ---------------------------------------------------------------------------
    egui::CentralPanel::default().frame(egui::Frame::new().fill(theme::CANVAS)).show(ui, |ui| {
        let Some(image) = chrome.image else {
            ui.centered_and_justified(|ui| {
                ui.label(RichText::new(chrome.image_status).color(theme::TEXT_WEAK));
            });
            return;
        };
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Image viewport"));
        view.viewport.begin_frame(rect, image.size);
        let primary_pans = view.tool == Tool::Pan;
        view.viewport.handle_input(ui, &response, primary_pans);
        view.hover = response.hover_pos().map(|p| view.viewport.image_from_screen(p));
        let painter = ui.painter_at(rect);
        image.paint(&painter, &view.viewport);
        match template {
            TaskTemplate::Classification | TaskTemplate::MultiLabel => {}
            TaskTemplate::Verification => verify::canvas(ui, &painter, view, doc),
            TaskTemplate::SemanticSegmentation => {
                segment::canvas(ui, &painter, &response, view, doc, typing)
            }
            _ => image::canvas(ui, &painter, &response, view, doc, typing),
        }
        status_line(&painter, rect, view, doc);
    });
    actions
}

fn status_line(painter: &egui::Painter, rect: egui::Rect, view: &TaskView, doc: &Document) {
    let size = doc.image_size();
    let mut text =
        format!("{}×{} px · {:.0}%", size.width, size.height, view.viewport.zoom * 100.0);
    if let Some(p) = view.hover
        && p.x >= 0.0
        && p.y >= 0.0
        && p.x < f64::from(size.width)
        && p.y < f64::from(size.height)
    {
        text.push_str(&format!(" · x {:.0} y {:.0}", p.x.floor(), p.y.floor()));
    }
    if doc.template().shape_kind().is_some() {
        text.push_str(&format!(" · {} shape(s)", doc.content().shapes.len()));
    }
    let font = egui::FontId::proportional(12.0);
    let galley = painter.layout_no_wrap(text, font, theme::TEXT_WEAK);
    let at = rect.left_bottom() + egui::vec2(theme::SPACE, -theme::SPACE - galley.size().y);
    painter.rect_filled(
        egui::Rect::from_min_size(at - egui::vec2(4.0, 2.0), galley.size() + egui::vec2(8.0, 4.0)),
        3.0,
        theme::OVERLAY_TEXT_BG,
    );
    painter.galley(at, galley, theme::TEXT_WEAK);
}

fn view_section(ui: &mut Ui, view: &mut TaskView, actions: &mut Vec<TaskAction>) {
    ui.add_space(theme::SPACE);
    widgets::section(ui, "View");
    ui.horizontal_wrapped(|ui| {
        if command::button(ui, &all::FIT, true) {
            view.viewport.fit_pending = true;
        }
        if command::button(ui, &all::ZOOM_IN, true) {
            let c = view.viewport.rect.center();
            view.viewport.zoom_around(c, ZOOM_STEP);
        }
        if command::button(ui, &all::ZOOM_OUT, true) {
            let c = view.viewport.rect.center();
            view.viewport.zoom_around(c, 1.0 / ZOOM_STEP);
        }
        let pan = ui
            .add(egui::Button::selectable(view.tool == Tool::Pan, all::TOOL_PAN.label))
            .on_hover_text(all::TOOL_PAN.hint(ui.ctx()));
        if pan.clicked() {
            view.toggle_pan();
        }
    });
    let b = ui.add(
        egui::Slider::new(&mut view.brightness, -1.0..=1.0).text("Brightness").fixed_decimals(2),
    );
    let c =
        ui.add(egui::Slider::new(&mut view.contrast, 0.2..=3.0).text("Contrast").fixed_decimals(2));
    if b.changed() || c.changed() {
        actions
            .push(TaskAction::AdjustImage { brightness: view.brightness, contrast: view.contrast });
    }
    if command::button(ui, &all::SHORTCUTS, true) {
        view.show_shortcuts = !view.show_shortcuts;
    }
}

/// The labels list: swatch, name, number key; click or key chooses. Returns the chosen class.
pub fn labels_list(
    ui: &mut Ui,
    labels: &[String],
    colors: &dyn Fn(usize) -> Color32,
    is_selected: &dyn Fn(usize) -> bool,
    checkbox: bool,
) -> Option<usize> {
    let mut chosen = None;
    for (i, name) in labels.iter().enumerate() {
        let key = label_key_text(i);
        let response =
            widgets::label_row(ui, colors(i), name, key.as_deref(), is_selected(i), checkbox);
        if response.clicked() {
            chosen = Some(i);
        }
    }
    if !ui.ctx().egui_wants_keyboard_input() {
        for i in 0..labels.len() {
            if command::label_pressed(ui.ctx(), i) {
                chosen = Some(i);
            }
        }
    }
    chosen
}

/// Every command with its shortcut, grouped; the label keys last.
fn shortcuts_panel(ui: &mut Ui, doc: &Document) {
    ui.heading("Shortcuts");
    egui::ScrollArea::vertical().show(ui, |ui| {
        let mut group = "";
        for c in all::ALL {
            if c.group == "Home" {
                continue;
            }
            if c.group != group {
                group = c.group;
                widgets::section(ui, group);
            }
            shortcut_line(ui, c);
        }
        widgets::section(ui, "Labels");
        let n = doc.labels().len().min(all::LABEL_KEYS.len());
        if n > 0 {
            ui.horizontal(|ui| {
                ui.label(RichText::new(format!("Choose label 1–{n}")).color(theme::TEXT_WEAK));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(
                        RichText::new(if n == 10 {
                            "1…9, 0".to_owned()
                        } else {
                            format!("1…{n}")
                        })
                        .monospace(),
                    );
                });
            });
        }
        ui.label(
            RichText::new("Mouse: wheel zooms, middle or right drag pans.")
                .small()
                .color(theme::TEXT_WEAK),
        );
    });
}

fn shortcut_line(ui: &mut Ui, c: &Command) {
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

/// The warning bar at the bottom of a task screen with `notice` and a Dismiss button (nothing
/// when there is no notice). True when the worker dismissed it.
pub fn notice_bar(ui: &mut Ui, id: &str, notice: Option<&str>) -> bool {
    let Some(notice) = notice else { return false };
    let mut dismissed = false;
    egui::Panel::bottom(id.to_owned())
        .frame(
            egui::Frame::new()
                .fill(theme::with_alpha(theme::WARN, 0.2))
                .inner_margin(theme::SPACE as i8),
        )
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(notice).color(theme::TEXT));
                dismissed = ui.button("Dismiss").clicked();
            });
        });
    dismissed
}

/// The job's full instructions in a window while `open` (closing the window clears it).
pub fn instructions_window(ctx: &egui::Context, open: &mut bool, text: &str) {
    if !*open {
        return;
    }
    egui::Window::new("Instructions").open(open).default_width(520.0).show(ctx, |ui| {
        egui::ScrollArea::vertical().max_height(480.0).show(ui, |ui| {
            ui.label(text);
        });
    });
}
