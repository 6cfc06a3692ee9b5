//! The video-frame task screen (detection and tracking, with their adjustment and verification
//! forms): a top bar like the image task's (stop and resume, undo/redo, release, decline,
//! submit, time left, sync), a left panel (instructions, tools, labels, instances, the selected
//! instance with predict next / copy / delete over frames and its attributes with bulk range
//! edits, frame attributes), the frame viewport in the middle and the timeline at the bottom.
//!
//! In the viewport: drag to draw a box (a new instance), click vertices for polygons and
//! polylines (Enter or a double-click finishes), click for keypoints; drag a shape to move it,
//! its handles or vertices to reshape it: that places a keyframe there and interpolates the frames
//! between keyframes. The selected instance's nearest shape shows faintly on frames where it has
//! none; moving or resizing that ghost places the instance on this frame.
//!
//! Views edit the [`VideoDocument`] directly and return the [`TaskAction`]s that need the app.
//! Never waits on disk or network: frames come decoded from the app's cache.

use std::collections::BTreeMap;

use egui::{RichText, Sense, Ui};
use serde_json::Value;

use super::{TaskAction, TaskHeader, Tool, TopBar, instructions_window, labels_list, notice_bar};
use crate::annotation::document::{BoxPx, Geometry, Point2, Shape, ShapeKind};
use crate::annotation::video::{
    AuditMode, TrackId, VideoDocument, VideoError, VideoMode, parse_frame_ranges,
};
use crate::formats::label_config::{AttributeSpec, AttributeType};
use crate::ui::command::{self, all, video};
use crate::ui::theme;
use crate::ui::widgets;
use crate::ui::widgets::overlay::{self, Grab, OverlayState, grab_at, pick, resize_box};
use crate::ui::widgets::timeline::{self, Playback, TimelineAction, TimelineModel, TimelineState};
use crate::ui::widgets::viewport::{ImageTiles, Viewport, ZOOM_STEP};

/// Boxes smaller than this (image pixels, either side) are a click, not a box.
const MIN_BOX_PX: f64 = 2.0;

/// A pointer drag in the frame viewport.
#[derive(Debug, Clone, PartialEq)]
pub enum VideoDrag {
    /// Drawing a new box from `start`.
    NewBox {
        /// Where the drag began (image pixels).
        start: Point2,
        /// Where the pointer is.
        current: Point2,
    },
    /// Moving a whole shape of `track` (or its ghost).
    Move {
        /// The instance.
        track: TrackId,
        /// Where the drag began.
        start: Point2,
        /// The geometry when the drag began.
        original: Geometry,
        /// The geometry so far.
        current: Geometry,
    },
    /// Resizing a box by a handle.
    Resize {
        /// The instance.
        track: TrackId,
        /// Which handle.
        handle: overlay::Handle,
        /// The geometry when the drag began.
        original: Geometry,
        /// The geometry so far.
        current: Geometry,
    },
    /// Moving one vertex.
    Vertex {
        /// The instance.
        track: TrackId,
        /// Which vertex.
        index: usize,
        /// The geometry so far.
        current: Geometry,
    },
}

/// The view state of an open video task (what is not part of the document).
#[derive(Debug)]
pub struct VideoView {
    /// Pan and zoom (the same for every frame).
    pub viewport: Viewport,
    /// The frame shown (0-based).
    pub frame: usize,
    /// The active tool.
    pub tool: Tool,
    /// The selected instance.
    pub selected: Option<TrackId>,
    /// The label new instances get.
    pub active_class: usize,
    /// The drag in progress.
    pub drag: Option<VideoDrag>,
    /// Vertices of a polygon or polyline being drawn.
    pub pending: Vec<Point2>,
    /// Playing or not.
    pub playback: Playback,
    /// The timeline's jump field.
    pub timeline: TimelineState,
    /// The frame range typed for the selected instance (delete, apply attributes).
    pub range_text: String,
    /// The frame range typed for frame attributes.
    pub frame_range_text: String,
    /// Whether the shortcuts panel shows.
    pub show_shortcuts: bool,
    /// Whether the full instructions window shows.
    pub show_full_instructions: bool,
    /// The image point under the pointer.
    pub hover: Option<Point2>,
    /// The outcome of the last edit the worker asked for (errors in red).
    pub message: Option<(String, bool)>,
}

impl Default for VideoView {
    fn default() -> Self {
        Self {
            viewport: Viewport::default(),
            frame: 0,
            tool: Tool::Draw,
            selected: None,
            active_class: 0,
            drag: None,
            pending: Vec::new(),
            playback: Playback::default(),
            timeline: TimelineState::default(),
            range_text: String::new(),
            frame_range_text: String::new(),
            show_shortcuts: false,
            show_full_instructions: false,
            hover: None,
            message: None,
        }
    }
}

impl VideoView {
    /// Shows frame `frame` (clamped to the sequence); drops what was being drawn.
    pub fn go_to(&mut self, frame: usize, frame_count: usize) {
        let frame = frame.min(frame_count.saturating_sub(1));
        if frame != self.frame {
            self.frame = frame;
            self.pending.clear();
            self.drag = None;
        }
    }

    fn report<T>(&mut self, result: Result<T, VideoError>, ok: impl FnOnce(T) -> Option<String>) {
        match result {
            Ok(v) => self.message = ok(v).map(|m| (m, false)),
            Err(e) => self.message = Some((e.to_string(), true)),
        }
    }
}

/// What the screen shows around the document, from the app.
#[derive(Debug, Clone, Copy)]
pub struct VideoChrome<'a> {
    /// Title, job, object, instructions, claim time, sync, notice, busy, resumed.
    pub header: TaskHeader<'a>,
    /// The frame to show (the current one, or the last one shown while it loads).
    pub frame: Option<&'a ImageTiles>,
    /// True when `frame` is the current frame.
    pub frame_current: bool,
    /// What to say while no frame can be shown, or why the current one failed.
    pub frame_status: &'a str,
    /// Per frame: decoded and ready.
    pub ready: &'a [bool],
    /// The cache's counters, in words.
    pub cache_text: &'a str,
    /// Playback rate.
    pub frames_per_second: f64,
}

/// The whole video task screen. Returns the actions the worker asked for.
pub fn video_task_ui(
    ui: &mut Ui,
    view: &mut VideoView,
    doc: &mut VideoDocument,
    chrome: &VideoChrome<'_>,
) -> Vec<TaskAction> {
    let mut actions = Vec::new();
    let ctx = ui.ctx().clone();
    let typing = ctx.egui_wants_keyboard_input();
    let count = doc.frame_count();
    if view.selected.is_some_and(|id| doc.track(id).is_none()) {
        view.selected = None;
    }

    // --- keyboard ---------------------------------------------------------------------------
    if all::SUBMIT.pressed(&ctx) && doc.incomplete().is_none() && !chrome.header.busy {
        actions.push(TaskAction::Submit);
    }
    if !typing {
        keyboard(&ctx, view, doc, chrome, &mut actions);
    }
    if let Some(f) =
        view.playback.tick(&ctx, view.frame, count, chrome.ready, chrome.frames_per_second)
    {
        view.go_to(f, count);
    }

    top_bar(ui, view, doc, chrome, &mut actions);

    if notice_bar(ui, "video-notice", chrome.header.notice) {
        actions.push(TaskAction::DismissNotice);
    }

    // --- timeline ---------------------------------------------------------------------------
    let selected = view.selected;
    let keyframes = selected.map(|id| doc.keyframes(id)).unwrap_or_default();
    let present = selected.map(|id| doc.frames_of(id)).unwrap_or_default();
    let mut labeled = vec![false; count];
    for frames in doc.content().shapes.values() {
        for f in frames.keys() {
            if let Some(slot) = labeled.get_mut(*f) {
                *slot = true;
            }
        }
    }
    let color = selected
        .and_then(|id| doc.track(id))
        .map_or(theme::TEXT_WEAK, |t| theme::label_color(t.class));
    egui::Panel::bottom("video-timeline")
        .frame(
            egui::Frame::new()
                .fill(theme::SURFACE)
                .inner_margin(egui::Margin::symmetric(theme::SPACE as i8 * 2, theme::SPACE as i8)),
        )
        .show(ui, |ui| {
            let model = TimelineModel {
                commands: &timeline::VIDEO_COMMANDS,
                frame_count: count,
                current: view.frame,
                playing: view.playback.playing,
                keyframes: &keyframes,
                present: &present,
                labeled: &labeled,
                ready: chrome.ready,
                color,
            };
            match timeline::timeline_ui(ui, &mut view.timeline, &model) {
                Some(TimelineAction::Seek(f)) => {
                    view.playback.playing = false;
                    view.go_to(f, count);
                }
                Some(TimelineAction::TogglePlay) => toggle_play(view, count),
                None => {}
            }
        });

    if view.show_shortcuts {
        egui::Panel::right("video-shortcuts").exact_size(theme::RIGHT_PANEL_WIDTH).show(ui, |ui| {
            shortcuts_panel(ui);
        });
    }

    egui::Panel::left("video-side")
        .exact_size(theme::SIDE_PANEL_WIDTH)
        .frame(egui::Frame::new().fill(theme::SURFACE).inner_margin(theme::SPACE as i8 * 2))
        .show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                side_panel(ui, view, doc, chrome);
            });
        });

    instructions_window(&ctx, &mut view.show_full_instructions, chrome.header.full_instructions);

    egui::CentralPanel::default().frame(egui::Frame::new().fill(theme::CANVAS)).show(ui, |ui| {
        let Some(frame) = chrome.frame else {
            ui.centered_and_justified(|ui| {
                ui.label(RichText::new(chrome.frame_status).color(theme::TEXT_WEAK));
            });
            return;
        };
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "Frame viewport"));
        view.viewport.begin_frame(rect, frame.size);
        view.viewport.handle_input(ui, &response, view.tool == Tool::Pan);
        view.hover = response.hover_pos().map(|p| view.viewport.image_from_screen(p));
        let painter = ui.painter_at(rect);
        frame.paint(&painter, &view.viewport);
        if !chrome.frame_current {
            painter.rect_filled(rect, 0.0, theme::with_alpha(theme::CANVAS, 0.35));
        }
        let size = (f64::from(frame.size.x), f64::from(frame.size.y));
        canvas(ui, &painter, &response, view, doc, size);
        status_line(&painter, rect, view, doc, chrome, frame);
    });
    actions
}

fn toggle_play(view: &mut VideoView, count: usize) {
    if let Some(f) = view.playback.toggle(view.frame, count) {
        view.go_to(f, count);
    }
}

fn selected_or_all(view: &VideoView, doc: &VideoDocument) -> Vec<TrackId> {
    match view.selected {
        Some(id) if doc.content().shape(id, view.frame).is_some() => vec![id],
        _ => Vec::new(),
    }
}

fn predict(view: &mut VideoView, doc: &mut VideoDocument, bounds: Option<(f64, f64)>) {
    let tracks = selected_or_all(view, doc);
    let r = doc.predict_next(view.frame, &tracks, bounds);
    let ok = r.is_ok();
    let next = view.frame + 2;
    view.report(r, |n| Some(format!("Predicted {n} box(es) on frame {next}.")));
    if ok {
        view.go_to(view.frame + 1, doc.frame_count());
    }
}

fn copy_next(view: &mut VideoView, doc: &mut VideoDocument) {
    let tracks = selected_or_all(view, doc);
    let r = doc.copy_to_next(view.frame, &tracks);
    let ok = r.is_ok();
    let next = view.frame + 2;
    view.report(r, |n| Some(format!("Copied {n} shape(s) to frame {next}.")));
    if ok {
        view.go_to(view.frame + 1, doc.frame_count());
    }
}

fn copy_all(view: &mut VideoView, doc: &mut VideoDocument) {
    let tracks = selected_or_all(view, doc);
    let r = doc.copy_to_all(view.frame, &tracks);
    view.report(r, |n| Some(format!("Copied {n} shape(s) to every following frame.")));
}

fn delete_here(view: &mut VideoView, doc: &mut VideoDocument) {
    if let Some(id) = view.selected {
        let r = doc.remove_shape(id, view.frame);
        view.report(r, |()| None);
    }
}

fn delete_instance(view: &mut VideoView, doc: &mut VideoDocument) {
    if let Some(id) = view.selected {
        let name = doc.track(id).map(|t| doc.track_name(t)).unwrap_or_default();
        let r = doc.delete_track(id);
        view.report(r, |()| Some(format!("Deleted {name} on every frame.")));
    }
}

fn frame_bounds(chrome: &VideoChrome<'_>) -> Option<(f64, f64)> {
    chrome.frame.map(|f| (f64::from(f.size.x), f64::from(f.size.y)))
}

fn keyboard(
    ctx: &egui::Context,
    view: &mut VideoView,
    doc: &mut VideoDocument,
    chrome: &VideoChrome<'_>,
    actions: &mut Vec<TaskAction>,
) {
    let count = doc.frame_count();
    if all::STOP_AND_RESUME.pressed(ctx) {
        actions.push(TaskAction::StopAndResume);
    }
    if all::REDO.pressed(ctx) {
        doc.redo();
    }
    if all::UNDO.pressed(ctx) {
        doc.undo();
        view.drag = None;
    }
    if all::FIT.pressed(ctx) {
        view.viewport.fit_pending = true;
    }
    let center = view.viewport.rect.center();
    if all::ZOOM_IN.pressed(ctx)
        || ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Equals))
    {
        view.viewport.zoom_around(center, ZOOM_STEP);
    }
    if all::ZOOM_OUT.pressed(ctx) {
        view.viewport.zoom_around(center, 1.0 / ZOOM_STEP);
    }
    if all::SHORTCUTS.pressed(ctx) {
        view.show_shortcuts = !view.show_shortcuts;
    }
    if all::INSTRUCTIONS.pressed(ctx) {
        view.show_full_instructions = !view.show_full_instructions;
    }
    if all::TOOL_PAN.pressed(ctx) {
        view.tool = if view.tool == Tool::Pan { Tool::Draw } else { Tool::Pan };
        view.pending.clear();
    }
    if all::TOOL_DRAW.pressed(ctx) {
        view.tool = Tool::Draw;
    }
    if all::TOOL_SELECT.pressed(ctx) {
        view.tool = Tool::Select;
        view.pending.clear();
    }
    // Shift variants first: a plain shortcut also matches with Shift held.
    let keyframe_step = |view: &VideoView, forward: bool| {
        let keys = view.selected.map(|id| doc.keyframes(id)).unwrap_or_default();
        if forward {
            keys.into_iter().find(|k| *k > view.frame)
        } else {
            keys.into_iter().rev().find(|k| *k < view.frame)
        }
    };
    if video::NEXT_KEYFRAME.pressed(ctx) {
        if let Some(k) = keyframe_step(view, true) {
            view.go_to(k, count);
        }
    } else if video::NEXT_FRAME.pressed(ctx) {
        view.playback.playing = false;
        view.go_to(view.frame + 1, count);
    }
    if video::PREVIOUS_KEYFRAME.pressed(ctx) {
        if let Some(k) = keyframe_step(view, false) {
            view.go_to(k, count);
        }
    } else if video::PREVIOUS_FRAME.pressed(ctx) {
        view.playback.playing = false;
        view.go_to(view.frame.saturating_sub(1), count);
    }
    if video::FIRST_FRAME.pressed(ctx) {
        view.go_to(0, count);
    }
    if video::LAST_FRAME.pressed(ctx) {
        view.go_to(count.saturating_sub(1), count);
    }
    if video::PLAY.pressed(ctx) {
        toggle_play(view, count);
    }
    if video::COPY_TO_ALL.pressed(ctx) {
        copy_all(view, doc);
    } else if video::COPY_TO_NEXT.pressed(ctx) {
        copy_next(view, doc);
    }
    if video::PREDICT_NEXT.pressed(ctx) && doc.setup().tool == ShapeKind::Box {
        predict(view, doc, frame_bounds(chrome));
    }
    if video::DELETE_INSTANCE.pressed(ctx) {
        delete_instance(view, doc);
    } else if video::DELETE_SHAPE.pressed(ctx)
        || ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Backspace))
    {
        delete_here(view, doc);
    }
    if all::CANCEL.pressed(ctx) {
        if view.pending.is_empty() {
            view.selected = None;
        }
        view.pending.clear();
        view.drag = None;
    }
    if all::FINISH_SHAPE.pressed(ctx) {
        finish_pending(view, doc);
    }
    if video::NEXT_INSTANCE.pressed(ctx) {
        let here: Vec<TrackId> = doc.frame_shapes(view.frame).iter().map(|(t, _)| t.id).collect();
        let next = match view.selected.and_then(|id| here.iter().position(|t| *t == id)) {
            Some(i) => here.get((i + 1) % here.len()).copied(),
            None => here.first().copied(),
        };
        view.selected = next;
    }
    for class in 0..doc.setup().labels.len() {
        if command::label_pressed(ctx, class) {
            choose_class(view, doc, class);
        }
    }
}

/// Makes `class` the label of new instances, and relabels the selected instance.
fn choose_class(view: &mut VideoView, doc: &mut VideoDocument, class: usize) {
    view.active_class = class;
    if let Some(id) = view.selected
        && doc.track(id).is_some_and(|t| t.class != class)
    {
        let r = doc.set_class(id, class);
        view.report(r, |()| None);
    }
}

fn top_bar(
    ui: &mut Ui,
    view: &mut VideoView,
    doc: &mut VideoDocument,
    chrome: &VideoChrome<'_>,
    actions: &mut Vec<TaskAction>,
) {
    let bar = TopBar {
        id: "video-top",
        title: chrome.header.title,
        subtitle: chrome.header.subtitle(),
        busy: chrome.header.busy,
        can_undo: doc.can_undo(),
        can_redo: doc.can_redo(),
        incomplete: doc.incomplete(),
        ready: true,
        sync: chrome.header.sync,
        time_left_secs: chrome.header.time_left_secs,
    };
    let mode = mode_text(doc);
    let clicks = super::top_bar(
        ui,
        &bar,
        actions,
        |ui| {
            ui.add(egui::Label::new(RichText::new(mode).color(theme::ACCENT)).truncate());
        },
        |_| {},
    );
    if clicks.undo {
        doc.undo();
        view.drag = None;
    }
    if clicks.redo {
        doc.redo();
    }
}

fn mode_text(doc: &VideoDocument) -> String {
    let tool = match doc.setup().tool {
        ShapeKind::Box => "boxes",
        ShapeKind::Polygon => "polygons",
        ShapeKind::Polyline => "polylines",
        ShapeKind::Keypoint => "keypoints",
    };
    let mode = match doc.setup().mode {
        VideoMode::Detection => "Detection",
        VideoMode::Tracking => "Tracking",
    };
    let audit = match doc.setup().audit {
        AuditMode::Labeling => "",
        AuditMode::Adjustment => " · adjustment",
        AuditMode::Verification => " · verification",
    };
    format!("{mode} · {tool}{audit}")
}

fn side_panel(
    ui: &mut Ui,
    view: &mut VideoView,
    doc: &mut VideoDocument,
    chrome: &VideoChrome<'_>,
) {
    super::instructions_section(ui, &mut view.show_full_instructions, &chrome.header);

    ui.add_space(theme::SPACE);
    widgets::section(ui, "Tools");
    ui.horizontal(|ui| {
        for (tool, c) in [
            (Tool::Draw, &all::TOOL_DRAW),
            (Tool::Select, &all::TOOL_SELECT),
            (Tool::Pan, &all::TOOL_PAN),
        ] {
            let r = ui
                .add(egui::Button::selectable(view.tool == tool, c.label))
                .on_hover_text(c.hint(ui.ctx()));
            if r.clicked() {
                view.tool = tool;
                view.pending.clear();
            }
        }
    });
    let hint = match (view.tool, doc.setup().tool) {
        (Tool::Draw, ShapeKind::Box) => "Drag to draw a box: a new instance.",
        (Tool::Draw, ShapeKind::Polygon) => "Click the corners; Enter or a double-click closes it.",
        (Tool::Draw, ShapeKind::Polyline) => "Click the points; Enter or a double-click finishes.",
        (Tool::Draw, ShapeKind::Keypoint) => "Click to place a point.",
        (Tool::Pan, _) => "Drag to pan; the wheel zooms.",
        _ => "Click to select; drag to move, handles to resize.",
    };
    ui.label(RichText::new(hint).small().color(theme::TEXT_WEAK));
    if doc.setup().mode == VideoMode::Tracking {
        ui.label(
            RichText::new(
                "On another frame, drag the faint copy of the selected instance to place it there; \
                 frames between keyframes are interpolated.",
            )
            .small()
            .color(theme::TEXT_WEAK),
        );
    }

    ui.add_space(theme::SPACE);
    widgets::section(ui, "Labels");
    let names: Vec<String> =
        doc.setup()
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                if doc.class_editable(i) {
                    l.name.clone()
                } else {
                    format!("{} (read-only)", l.name)
                }
            })
            .collect();
    let shown = view.selected.and_then(|id| doc.track(id)).map_or(view.active_class, |t| t.class);
    if let Some(class) = labels_list(ui, &names, &|i| theme::label_color(i), &|i| i == shown, false)
    {
        choose_class(view, doc, class);
    }

    ui.add_space(theme::SPACE);
    widgets::section(ui, &format!("Instances ({})", doc.content().tracks.len()));
    if doc.content().tracks.is_empty() {
        ui.label(RichText::new("None yet.").color(theme::TEXT_WEAK));
    }
    let rows: Vec<(TrackId, usize, String)> = doc
        .content()
        .tracks
        .values()
        .map(|t| {
            let frames = doc.frames_of(t.id);
            let here = match doc.content().shape(t.id, view.frame) {
                Some(s) if s.keyframe => " · key",
                Some(_) => " · here",
                None => "",
            };
            let span = match (frames.first(), frames.last()) {
                (Some(a), Some(b)) if a != b => format!("{}–{}", a + 1, b + 1),
                (Some(a), _) => format!("{}", a + 1),
                _ => String::new(),
            };
            (t.id, t.class, format!("{} · frames {span}{here}", doc.track_name(t)))
        })
        .collect();
    for (id, class, text) in rows {
        let r = widgets::label_row(
            ui,
            theme::label_color(class),
            &text,
            None,
            view.selected == Some(id),
            false,
        );
        if r.clicked() {
            view.selected = Some(id);
            view.active_class = class;
        }
    }

    instance_section(ui, view, doc, chrome);
    frame_attributes_section(ui, view, doc);

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
        if command::button(ui, &all::SHORTCUTS, true) {
            view.show_shortcuts = !view.show_shortcuts;
        }
    });
    ui.label(RichText::new(chrome.cache_text).small().color(theme::TEXT_WEAK));
    if chrome.header.resumed {
        ui.label(RichText::new("Resumed from your saved draft.").small().color(theme::TEXT_WEAK));
    }
}

fn instance_section(
    ui: &mut Ui,
    view: &mut VideoView,
    doc: &mut VideoDocument,
    chrome: &VideoChrome<'_>,
) {
    ui.add_space(theme::SPACE);
    widgets::section(ui, "Selected instance");
    let frame = view.frame;
    let boxes = doc.setup().tool == ShapeKind::Box;
    let track = view.selected.and_then(|id| doc.track(id)).cloned();
    let editable = track.as_ref().is_none_or(|t| doc.class_editable(t.class));
    let any_here = !doc.frame_shapes(frame).is_empty();
    match &track {
        Some(t) => {
            let keys: Vec<String> =
                doc.keyframes(t.id).iter().map(|k| (k + 1).to_string()).collect();
            ui.label(RichText::new(doc.track_name(t)).strong().color(theme::label_color(t.class)));
            ui.label(
                RichText::new(format!(
                    "Keyframes: {}",
                    if keys.is_empty() { "—".into() } else { keys.join(", ") }
                ))
                .small()
                .color(theme::TEXT_WEAK),
            );
        }
        None => {
            ui.label(
                RichText::new("None: the tools below act on every shape of this frame.")
                    .small()
                    .color(theme::TEXT_WEAK),
            );
        }
    }
    let has_here = track.as_ref().is_some_and(|t| doc.content().shape(t.id, frame).is_some());
    let source_ok = editable && (has_here || (track.is_none() && any_here));
    let not_last = frame + 1 < doc.frame_count();
    ui.horizontal_wrapped(|ui| {
        if boxes && command::button(ui, &video::PREDICT_NEXT, source_ok && not_last) {
            predict(view, doc, frame_bounds(chrome));
        }
        if command::button(ui, &video::COPY_TO_NEXT, source_ok && not_last) {
            copy_next(view, doc);
        }
        if command::button(ui, &video::COPY_TO_ALL, source_ok && not_last) {
            copy_all(view, doc);
        }
    });
    let Some(track) = track else {
        message_line(ui, view);
        return;
    };
    ui.horizontal_wrapped(|ui| {
        if command::button(ui, &video::DELETE_SHAPE, editable && has_here) {
            delete_here(view, doc);
        }
        if command::button(ui, &video::DELETE_INSTANCE, editable) {
            delete_instance(view, doc);
        }
    });
    ui.horizontal(|ui| {
        ui.label(RichText::new("Frames").color(theme::TEXT_WEAK));
        ui.add(
            egui::TextEdit::singleline(&mut view.range_text)
                .hint_text("e.g. 1-10,20")
                .desired_width(f32::INFINITY),
        );
    });
    let range = parse_frame_ranges(&view.range_text, doc.frame_count());
    ui.horizontal_wrapped(|ui| {
        if command::button(ui, &video::DELETE_RANGE, editable) {
            let r = range
                .clone()
                .map_err(VideoError::from)
                .and_then(|f| doc.delete_range(track.id, &f));
            view.report(r, |n| Some(format!("Deleted {n} shape(s).")));
        }
        if command::button(ui, &video::APPLY_ATTRIBUTES, has_here) {
            let values: BTreeMap<String, Option<Value>> = doc
                .label_attributes(track.class)
                .iter()
                .filter(|a| doc.attribute_editable(&track, &a.name))
                .map(|a| {
                    let v = doc
                        .content()
                        .shape(track.id, frame)
                        .and_then(|s| s.attributes.get(&a.name))
                        .cloned();
                    (a.name.clone(), v)
                })
                .collect();
            let r = range
                .clone()
                .map_err(VideoError::from)
                .and_then(|f| doc.set_attributes_range(track.id, &f, &values).map(|()| f.len()));
            view.report(r, |n| Some(format!("Attributes applied to {n} frame(s).")));
        }
    });
    message_line(ui, view);

    ui.add_space(theme::SPACE * 0.5);
    widgets::section(ui, &format!("Attributes on frame {}", frame + 1));
    let specs = doc.label_attributes(track.class).to_vec();
    if specs.is_empty() {
        ui.label(RichText::new("This job defines no attributes.").color(theme::TEXT_WEAK));
    }
    let Some(shape) = doc.content().shape(track.id, frame).cloned() else {
        if !specs.is_empty() {
            ui.label(
                RichText::new("The instance is not on this frame.").small().color(theme::TEXT_WEAK),
            );
        }
        return;
    };
    for spec in &specs {
        let enabled = doc.attribute_editable(&track, &spec.name);
        if let Some(after) = attribute_editor(
            ui,
            ("video-attr", track.id, &spec.name),
            shape.attributes.get(&spec.name),
            spec,
            enabled,
        ) {
            let r = doc.set_attribute(track.id, frame, &spec.name, after);
            view.report(r, |()| None);
        }
    }
}

fn message_line(ui: &mut Ui, view: &VideoView) {
    if let Some((message, error)) = &view.message {
        let color = if *error { theme::ERROR } else { theme::TEXT_WEAK };
        ui.label(RichText::new(message).small().color(color));
    }
}

fn frame_attributes_section(ui: &mut Ui, view: &mut VideoView, doc: &mut VideoDocument) {
    let specs = doc.setup().frame_attributes.clone();
    if specs.is_empty() {
        return;
    }
    let frame = view.frame;
    ui.add_space(theme::SPACE);
    widgets::section(ui, &format!("Frame {} attributes", frame + 1));
    let values = doc.content().frame_attributes.get(&frame).cloned().unwrap_or_default();
    for spec in &specs {
        let enabled = doc.frame_attribute_editable(&spec.name);
        if let Some(after) = attribute_editor(
            ui,
            ("video-frame-attr", &spec.name),
            values.get(&spec.name),
            spec,
            enabled,
        ) {
            let r = doc.set_frame_attribute(frame, &spec.name, after);
            view.report(r, |()| None);
        }
    }
    ui.horizontal(|ui| {
        ui.label(RichText::new("Frames").color(theme::TEXT_WEAK));
        ui.add(
            egui::TextEdit::singleline(&mut view.frame_range_text)
                .hint_text("e.g. 1-10,20")
                .desired_width(f32::INFINITY),
        );
    });
    if command::button(ui, &video::APPLY_FRAME_ATTRIBUTES, true) {
        let copy: BTreeMap<String, Option<Value>> = specs
            .iter()
            .filter(|s| doc.frame_attribute_editable(&s.name))
            .map(|s| (s.name.clone(), values.get(&s.name).cloned()))
            .collect();
        let r = parse_frame_ranges(&view.frame_range_text, doc.frame_count())
            .map_err(VideoError::from)
            .and_then(|f| doc.set_frame_attributes_range(&f, &copy).map(|()| f.len()));
        view.report(r, |n| Some(format!("Frame attributes applied to {n} frame(s).")));
    }
}

/// One attribute's editor: a choice for enums, a slider for numbers, a text field otherwise.
/// Returns the new value (`Some(None)` clears it) when the worker changed it.
fn attribute_editor(
    ui: &mut Ui,
    salt: impl std::hash::Hash + std::fmt::Debug,
    current: Option<&Value>,
    spec: &AttributeSpec,
    enabled: bool,
) -> Option<Option<Value>> {
    let mut changed = None;
    let required = spec.is_required == Some(true);
    let title = if required { format!("{} *", spec.name) } else { spec.name.clone() };
    let choice =
        matches!((&spec.attribute_type, &spec.enum_values), (AttributeType::String, Some(_)));
    if !choice {
        let label = ui.label(RichText::new(title.as_str()).color(theme::TEXT));
        if let Some(d) = &spec.description {
            label.on_hover_text(d);
        }
    }
    ui.add_enabled_ui(enabled, |ui| match (&spec.attribute_type, &spec.enum_values) {
        (AttributeType::String, Some(options)) => {
            let shown = current.and_then(Value::as_str).unwrap_or("—").to_owned();
            egui::ComboBox::new(salt, title.as_str()).selected_text(shown).show_ui(ui, |ui| {
                if ui.selectable_label(current.is_none(), "—").clicked() {
                    changed = Some(None);
                }
                for option in options {
                    let on = current.and_then(Value::as_str) == Some(option.as_str());
                    if ui.selectable_label(on, option).clicked() {
                        changed = Some(Some(Value::from(option.clone())));
                    }
                }
            });
        }
        (AttributeType::Number, _) => {
            let lo = spec.minimum.unwrap_or(0.0);
            let hi = spec.maximum.unwrap_or(100.0).max(lo);
            let mut v = current.and_then(Value::as_f64).unwrap_or(lo);
            let r = ui.add(egui::Slider::new(&mut v, lo..=hi).text(spec.name.as_str()));
            if r.drag_stopped() || (r.changed() && !r.dragged()) {
                changed = Some(serde_json::Number::from_f64(v).map(Value::Number));
            }
        }
        _ => {
            let mut text = current.and_then(Value::as_str).unwrap_or_default().to_owned();
            let r = ui.add(
                egui::TextEdit::singleline(&mut text)
                    .hint_text(spec.name.as_str())
                    .desired_width(f32::INFINITY),
            );
            if r.changed() {
                changed = Some((!text.is_empty()).then(|| Value::from(text)));
            }
        }
    });
    if !enabled {
        ui.label(RichText::new("Read-only in this task.").small().color(theme::TEXT_WEAK));
    }
    changed
}

/// The shapes drawn on the current frame: (instance, geometry, keyframe, ghost).
struct Drawn {
    track: TrackId,
    class: usize,
    name: String,
    geometry: Geometry,
    keyframe: bool,
    ghost: bool,
}

fn drawn_shapes(view: &VideoView, doc: &VideoDocument) -> Vec<Drawn> {
    let mut out: Vec<Drawn> = doc
        .frame_shapes(view.frame)
        .into_iter()
        .map(|(t, s)| Drawn {
            track: t.id,
            class: t.class,
            name: doc.track_name(t),
            geometry: s.geometry.clone(),
            keyframe: s.keyframe,
            ghost: false,
        })
        .collect();
    if let Some(id) = view.selected
        && doc.content().shape(id, view.frame).is_none()
        && doc.setup().mode == VideoMode::Tracking
        && let (Some(t), Some((from, s))) = (doc.track(id), doc.nearest_shape(id, view.frame))
    {
        out.push(Drawn {
            track: id,
            class: t.class,
            name: format!("{} (from frame {})", doc.track_name(t), from + 1),
            geometry: s.geometry.clone(),
            keyframe: false,
            ghost: true,
        });
    }
    out
}

fn canvas(
    ui: &Ui,
    painter: &egui::Painter,
    response: &egui::Response,
    view: &mut VideoView,
    doc: &mut VideoDocument,
    (w, h): (f64, f64),
) {
    let kind = doc.setup().tool;
    let tolerance = f64::from(theme::PICK_TOLERANCE / view.viewport.zoom.max(1e-3));
    let pointer =
        ui.input(|i| i.pointer.interact_pos()).map(|p| view.viewport.image_from_screen(p));
    let drawn = drawn_shapes(view, doc);
    // Picking works on `Shape`s whose id is the instance.
    let shapes: Vec<Shape> = drawn
        .iter()
        .enumerate()
        .map(|(i, d)| Shape {
            id: d.track,
            class: i,
            geometry: d.geometry.clone(),
            attributes: BTreeMap::new(),
        })
        .collect();

    let primary = egui::PointerButton::Primary;
    if response.drag_started_by(primary) && view.tool != Tool::Pan {
        let origin =
            ui.input(|i| i.pointer.press_origin()).map(|p| view.viewport.image_from_screen(p));
        if let Some(start) = origin {
            view.drag = start_drag(view, doc, &shapes, kind, start, tolerance);
        }
    }
    if let (Some(drag), Some(p)) = (view.drag.as_mut(), pointer)
        && (response.dragged_by(primary) || response.drag_stopped())
    {
        let p = Point2::new(p.x.clamp(0.0, w), p.y.clamp(0.0, h));
        match drag {
            VideoDrag::NewBox { current, .. } => *current = p,
            VideoDrag::Move { start, original, current, .. } => {
                *current = original.translated(p.x - start.x, p.y - start.y);
            }
            VideoDrag::Resize { handle, original, current, .. } => {
                if let Geometry::Box(b) = original {
                    *current = Geometry::Box(resize_box(b, *handle, p));
                }
            }
            VideoDrag::Vertex { index, current, .. } => {
                if let Geometry::Polygon(v) | Geometry::Polyline(v) = current
                    && let Some(vertex) = v.get_mut(*index)
                {
                    *vertex = p;
                }
            }
        }
    }
    if response.drag_stopped()
        && let Some(drag) = view.drag.take()
    {
        finish_drag(view, doc, drag, w, h);
    }
    if response.clicked_by(primary) && view.drag.is_none() {
        if let Some(p) = pointer {
            click(view, doc, &shapes, kind, p, tolerance, response.double_clicked(), (w, h));
        }
    } else if response.double_clicked() {
        finish_pending(view, doc);
    }

    // --- drawing ----------------------------------------------------------------------------
    let drawn = drawn_shapes(view, doc);
    let shapes: Vec<Shape> = drawn
        .iter()
        .enumerate()
        .map(|(i, d)| Shape {
            id: d.track,
            class: i,
            geometry: d.geometry.clone(),
            attributes: BTreeMap::new(),
        })
        .collect();
    let names: Vec<String> = drawn.iter().map(|d| d.name.clone()).collect();
    let colors = |i: usize| {
        drawn.get(i).map_or(theme::TEXT_WEAK, |d| {
            let c = theme::label_color(d.class);
            if d.ghost {
                theme::with_alpha(c, 0.45)
            } else if d.keyframe {
                c
            } else {
                theme::with_alpha(c, 0.8)
            }
        })
    };
    let hovered = if view.drag.is_none() {
        view.hover.and_then(|p| pick(&shapes, p, tolerance))
    } else {
        None
    };
    let live = match &view.drag {
        Some(
            VideoDrag::Move { track, current, .. }
            | VideoDrag::Resize { track, current, .. }
            | VideoDrag::Vertex { track, current, .. },
        ) => Some((*track, current)),
        _ => None,
    };
    overlay::paint_shapes(
        painter,
        &view.viewport,
        &shapes,
        &colors,
        OverlayState { selected: view.selected, hovered, live, names: Some(&names) },
    );
    let color = theme::label_color(view.active_class);
    if let Some(VideoDrag::NewBox { start, current }) = &view.drag {
        overlay::paint_new_box(painter, &view.viewport, *start, *current, color);
    }
    let closed = kind == ShapeKind::Polygon;
    overlay::paint_pending(painter, &view.viewport, &view.pending, view.hover, color, closed);
    if view.tool == Tool::Draw
        && kind == ShapeKind::Box
        && view.drag.is_none()
        && let Some(p) = view.hover
    {
        overlay::paint_crosshair(painter, &view.viewport, p);
    }
}

fn start_drag(
    view: &mut VideoView,
    doc: &VideoDocument,
    shapes: &[Shape],
    kind: ShapeKind,
    start: Point2,
    tolerance: f64,
) -> Option<VideoDrag> {
    if let Some(shape) = view.selected.and_then(|id| shapes.iter().find(|s| s.id == id))
        && let Some(grab) = grab_at(&shape.geometry, start, tolerance)
    {
        let (track, current) = (shape.id, shape.geometry.clone());
        return Some(match grab {
            Grab::Handle(handle) => {
                VideoDrag::Resize { track, handle, original: current.clone(), current }
            }
            Grab::Vertex(index) => VideoDrag::Vertex { track, index, current },
        });
    }
    if !view.pending.is_empty() {
        return None;
    }
    if let Some(id) = pick(shapes, start, tolerance) {
        view.selected = Some(id);
        if let Some(t) = doc.track(id) {
            view.active_class = t.class;
        }
        let geometry = shapes.iter().find(|s| s.id == id)?.geometry.clone();
        return Some(VideoDrag::Move {
            track: id,
            start,
            original: geometry.clone(),
            current: geometry,
        });
    }
    if view.tool == Tool::Draw && kind == ShapeKind::Box {
        view.selected = None;
        return Some(VideoDrag::NewBox { start, current: start });
    }
    None
}

fn finish_drag(view: &mut VideoView, doc: &mut VideoDocument, drag: VideoDrag, w: f64, h: f64) {
    match drag {
        VideoDrag::NewBox { start, current } => {
            let b = BoxPx::from_corners(start, current);
            if b.width >= MIN_BOX_PX && b.height >= MIN_BOX_PX {
                let geometry = Geometry::Box(b).clamped(w, h);
                let r = doc.add_track(view.frame, view.active_class, geometry);
                if let Ok(id) = &r {
                    view.selected = Some(*id);
                }
                view.report(r, |_| None);
            }
        }
        VideoDrag::Move { track, original, current, .. }
        | VideoDrag::Resize { track, original, current, .. } => {
            let placed = doc.content().shape(track, view.frame).is_some();
            if current != original || !placed {
                let r = doc.set_shape(track, view.frame, current.clamped(w, h));
                view.report(r, |()| None);
            }
        }
        VideoDrag::Vertex { track, current, .. } => {
            let r = doc.set_shape(track, view.frame, current.clamped(w, h));
            view.report(r, |()| None);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn click(
    view: &mut VideoView,
    doc: &mut VideoDocument,
    shapes: &[Shape],
    kind: ShapeKind,
    p: Point2,
    tolerance: f64,
    double: bool,
    (w, h): (f64, f64),
) {
    if view.tool == Tool::Draw && matches!(kind, ShapeKind::Polygon | ShapeKind::Polyline) {
        if double {
            finish_pending(view, doc);
            return;
        }
        let closes = kind == ShapeKind::Polygon
            && view.pending.len() >= 3
            && view
                .pending
                .first()
                .is_some_and(|f| ((f.x - p.x).powi(2) + (f.y - p.y).powi(2)).sqrt() <= tolerance);
        if closes {
            finish_pending(view, doc);
        } else if view.pending.is_empty()
            && let Some(id) = pick(shapes, p, tolerance)
        {
            view.selected = Some(id);
        } else {
            view.pending.push(Point2::new(p.x.clamp(0.0, w), p.y.clamp(0.0, h)));
        }
        return;
    }
    if view.tool == Tool::Draw
        && kind == ShapeKind::Keypoint
        && pick(shapes, p, tolerance).is_none()
    {
        if p.x >= 0.0 && p.y >= 0.0 && p.x <= w && p.y <= h {
            let r = doc.add_track(view.frame, view.active_class, Geometry::Keypoint(p));
            if let Ok(id) = &r {
                view.selected = Some(*id);
            }
            view.report(r, |_| None);
        }
        return;
    }
    view.selected = pick(shapes, p, tolerance);
    if let Some(t) = view.selected.and_then(|id| doc.track(id)) {
        view.active_class = t.class;
    }
}

/// Turns the clicked vertices into a polygon or polyline (a new instance) if there are enough.
fn finish_pending(view: &mut VideoView, doc: &mut VideoDocument) {
    let vertices = std::mem::take(&mut view.pending);
    let geometry = match doc.setup().tool {
        ShapeKind::Polygon if vertices.len() >= 3 => Geometry::Polygon(vertices),
        ShapeKind::Polyline if vertices.len() >= 2 => Geometry::Polyline(vertices),
        _ => return,
    };
    let r = doc.add_track(view.frame, view.active_class, geometry);
    if let Ok(id) = &r {
        view.selected = Some(*id);
    }
    view.report(r, |_| None);
}

fn status_line(
    painter: &egui::Painter,
    rect: egui::Rect,
    view: &VideoView,
    doc: &VideoDocument,
    chrome: &VideoChrome<'_>,
    frame: &ImageTiles,
) {
    let name = doc.setup().frames.get(view.frame).map_or("", String::as_str);
    let mut text = format!(
        "{name} · {}×{} px · {:.0}%",
        frame.size.x,
        frame.size.y,
        view.viewport.zoom * 100.0
    );
    if let Some(p) = view.hover
        && p.x >= 0.0
        && p.y >= 0.0
        && p.x < f64::from(frame.size.x)
        && p.y < f64::from(frame.size.y)
    {
        text.push_str(&format!(" · x {:.0} y {:.0}", p.x.floor(), p.y.floor()));
    }
    text.push_str(&format!(" · {} shape(s) on this frame", doc.frame_shapes(view.frame).len()));
    if !chrome.frame_current && !chrome.frame_status.is_empty() {
        text.push_str(&format!(" · {}", chrome.frame_status));
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

/// The video commands and the shared ones that apply, with their shortcuts.
fn shortcuts_panel(ui: &mut Ui) {
    ui.heading("Shortcuts");
    egui::ScrollArea::vertical().show(ui, |ui| {
        let shared = [
            &all::SUBMIT,
            &all::STOP_AND_RESUME,
            &all::UNDO,
            &all::REDO,
            &all::CANCEL,
            &all::FINISH_SHAPE,
            &all::TOOL_DRAW,
            &all::TOOL_SELECT,
            &all::TOOL_PAN,
            &all::FIT,
            &all::ZOOM_IN,
            &all::ZOOM_OUT,
            &all::SHORTCUTS,
            &all::INSTRUCTIONS,
        ];
        widgets::section(ui, "Video");
        for c in video::ALL {
            shortcut_line(ui, c);
        }
        widgets::section(ui, "Task");
        for c in shared {
            shortcut_line(ui, c);
        }
        ui.label(
            RichText::new("Number keys choose labels. Mouse: wheel zooms, right drag pans.")
                .small()
                .color(theme::TEXT_WEAK),
        );
    });
}

fn shortcut_line(ui: &mut Ui, c: &command::Command) {
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
