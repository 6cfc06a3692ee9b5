//! Shape tasks: bounding boxes (draw, move, resize by handles), polygons and polylines (click
//! vertices, Enter or double-click to finish, drag vertices), keypoints (click); select, delete,
//! relabel, and the attribute editor of the selected shape.

use std::collections::BTreeMap;

use egui::{RichText, Ui};
use serde_json::Value;

use super::{Drag, TaskChrome, TaskView, Tool, labels_list};
use crate::annotation::document::{BoxPx, Document, Geometry, Point2, ShapeKind};
use crate::formats::label_config::{AttributeSpec, AttributeType};
use crate::ui::command::{self, all};
use crate::ui::theme;
use crate::ui::widgets::overlay::{self, Grab, OverlayState, grab_at, pick, resize_box};
use crate::ui::widgets::{self};

/// Boxes smaller than this (image pixels, either side) are treated as a click, not a box.
const MIN_BOX_PX: f64 = 2.0;

fn kind_noun(kind: ShapeKind) -> &'static str {
    match kind {
        ShapeKind::Box => "box",
        ShapeKind::Polygon => "polygon",
        ShapeKind::Polyline => "polyline",
        ShapeKind::Keypoint => "keypoint",
    }
}

/// The left panel of shape tasks: tools, labels, the selected shape and its attributes.
pub fn side_panel(ui: &mut Ui, view: &mut TaskView, doc: &mut Document, chrome: &TaskChrome<'_>) {
    let Some(kind) = doc.template().shape_kind() else { return };
    let typing = ui.ctx().egui_wants_keyboard_input();
    widgets::section(ui, "Tools");
    ui.horizontal(|ui| {
        for (tool, c) in [(Tool::Draw, &all::TOOL_DRAW), (Tool::Select, &all::TOOL_SELECT)] {
            let r = ui
                .add(egui::Button::selectable(view.tool == tool, c.label))
                .on_hover_text(c.hint(ui.ctx()));
            if r.clicked() {
                view.tool = tool;
                view.pending.clear();
            }
        }
    });
    if !typing {
        if all::TOOL_DRAW.pressed(ui.ctx()) {
            view.tool = Tool::Draw;
        }
        if all::TOOL_SELECT.pressed(ui.ctx()) {
            view.tool = Tool::Select;
            view.pending.clear();
        }
    }
    ui.label(
        RichText::new(match (view.tool, kind) {
            (Tool::Draw, ShapeKind::Box) => "Drag on the image to draw a box.",
            (Tool::Draw, ShapeKind::Polygon) => {
                "Click the corners; Enter, a double-click or the first corner closes it."
            }
            (Tool::Draw, ShapeKind::Polyline) => {
                "Click the points; Enter or a double-click finishes."
            }
            (Tool::Draw, ShapeKind::Keypoint) => "Click to place a point.",
            (Tool::Pan, _) => "Drag to pan; the wheel zooms.",
            _ => "Click a shape to select it; drag to move, handles to resize.",
        })
        .small()
        .color(theme::TEXT_WEAK),
    );

    ui.add_space(theme::SPACE);
    widgets::section(ui, "Labels");
    let selected_class = view.selected.and_then(|id| doc.content().shape(id)).map(|s| s.class);
    let shown = selected_class.unwrap_or(view.active_class);
    let labels = doc.labels().to_vec();
    if let Some(class) =
        labels_list(ui, &labels, &|i| theme::label_color(i), &|i| i == shown, false)
    {
        view.active_class = class;
        if let Some(id) = view.selected {
            let _ = doc.set_class(id, class);
        }
    }

    ui.add_space(theme::SPACE);
    widgets::section(ui, "Selection");
    let Some(shape) = view.selected.and_then(|id| doc.content().shape(id)).cloned() else {
        ui.label(
            RichText::new(format!("No {} selected.", kind_noun(kind))).color(theme::TEXT_WEAK),
        );
        return;
    };
    ui.horizontal(|ui| {
        let b = shape.geometry.bounds();
        let name = labels.get(shape.class).map_or("", String::as_str);
        ui.label(RichText::new(format!("{name} {}", kind_noun(kind))).strong());
        ui.label(
            RichText::new(format!("{:.0}×{:.0} at {:.0}, {:.0}", b.width, b.height, b.left, b.top))
                .color(theme::TEXT_WEAK),
        );
    });
    if command::button(ui, &all::DELETE, true) {
        let _ = doc.remove_shape(shape.id);
        view.selected = None;
        return;
    }
    let specs: Vec<&AttributeSpec> = chrome
        .global_attributes
        .iter()
        .chain(chrome.label_attributes.get(shape.class).into_iter().flatten())
        .collect();
    ui.add_space(theme::SPACE);
    widgets::section(ui, "Attributes");
    if specs.is_empty() {
        ui.label(RichText::new("This job defines no attributes.").color(theme::TEXT_WEAK));
    }
    for spec in specs {
        attribute_editor(ui, doc, shape.id, &shape.attributes, spec);
    }
}

/// One attribute's editor: a choice for enums, a slider for numbers, a text field otherwise.
fn attribute_editor(
    ui: &mut Ui,
    doc: &mut Document,
    id: u64,
    values: &BTreeMap<String, Value>,
    spec: &AttributeSpec,
) {
    let current = values.get(&spec.name);
    let required = spec.is_required == Some(true);
    let title = if required { format!("{} *", spec.name) } else { spec.name.clone() };
    let label = ui.label(RichText::new(title).color(theme::TEXT));
    if let Some(d) = &spec.description {
        label.clone().on_hover_text(d);
    }
    match (&spec.attribute_type, &spec.enum_values) {
        (AttributeType::String, Some(options)) => {
            let shown = current.and_then(Value::as_str).unwrap_or("—").to_owned();
            egui::ComboBox::from_id_salt(("attr", id, &spec.name)).selected_text(shown).show_ui(
                ui,
                |ui| {
                    if ui.selectable_label(current.is_none(), "—").clicked() {
                        let _ = doc.set_attribute(id, &spec.name, None);
                    }
                    for option in options {
                        let on = current.and_then(Value::as_str) == Some(option.as_str());
                        if ui.selectable_label(on, option).clicked() {
                            let _ = doc.set_attribute(
                                id,
                                &spec.name,
                                Some(Value::from(option.clone())),
                            );
                        }
                    }
                },
            );
        }
        (AttributeType::Number, _) => {
            let (lo, hi) = (
                spec.minimum.unwrap_or(0.0),
                spec.maximum.unwrap_or(100.0).max(spec.minimum.unwrap_or(0.0)),
            );
            let mut v = current.and_then(Value::as_f64).unwrap_or(lo);
            let r = ui.add(egui::Slider::new(&mut v, lo..=hi).text(spec.name.as_str()));
            if r.drag_stopped() || (r.changed() && !r.dragged()) {
                let _ = doc.set_attribute(
                    id,
                    &spec.name,
                    serde_json::Number::from_f64(v).map(Value::Number),
                );
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
                let after = (!text.is_empty()).then(|| Value::from(text));
                let _ = doc.set_attribute(id, &spec.name, after);
            }
        }
    }
}

/// Draws the shapes and handles the pointer in the viewport.
pub fn canvas(
    ui: &Ui,
    painter: &egui::Painter,
    response: &egui::Response,
    view: &mut TaskView,
    doc: &mut Document,
    typing: bool,
) {
    let Some(kind) = doc.template().shape_kind() else { return };
    let ctx = ui.ctx().clone();
    let tolerance = f64::from(theme::PICK_TOLERANCE / view.viewport.zoom.max(1e-3));
    let size = doc.image_size();
    let (w, h) = (f64::from(size.width), f64::from(size.height));
    let pointer =
        ui.input(|i| i.pointer.interact_pos()).map(|p| view.viewport.image_from_screen(p));

    // --- keyboard ---------------------------------------------------------------------------
    if !typing {
        if all::CANCEL.pressed(&ctx) {
            if view.pending.is_empty() {
                view.selected = None;
            }
            view.pending.clear();
            view.drag = None;
        }
        if (all::DELETE.pressed(&ctx)
            || ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Backspace)))
            && let Some(id) = view.selected.take()
        {
            let _ = doc.remove_shape(id);
        }
        if all::NEXT_SHAPE.pressed(&ctx) {
            let shapes = &doc.content().shapes;
            let next = match view.selected.and_then(|id| shapes.iter().position(|s| s.id == id)) {
                Some(i) => shapes.get((i + 1) % shapes.len()),
                None => shapes.first(),
            };
            view.selected = next.map(|s| s.id);
        }
        if all::FINISH_SHAPE.pressed(&ctx) {
            finish_pending(view, doc, kind);
        }
    }
    // A selection removed by undo is dropped.
    if view.selected.is_some_and(|id| doc.content().shape(id).is_none()) {
        view.selected = None;
    }

    // --- pointer ----------------------------------------------------------------------------
    let primary = egui::PointerButton::Primary;
    if response.drag_started_by(primary) && view.tool != Tool::Pan {
        let origin =
            ui.input(|i| i.pointer.press_origin()).map(|p| view.viewport.image_from_screen(p));
        if let Some(start) = origin {
            view.drag = start_drag(view, doc, kind, start, tolerance);
        }
    }
    if let (Some(drag), Some(p)) = (view.drag.as_mut(), pointer)
        && (response.dragged_by(primary) || response.drag_stopped())
    {
        let p = Point2::new(p.x.clamp(0.0, w), p.y.clamp(0.0, h));
        match drag {
            Drag::NewBox { current, .. } => *current = p,
            Drag::Move { id, start, current } => {
                if let Some(shape) = doc.content().shape(*id) {
                    *current = shape.geometry.translated(p.x - start.x, p.y - start.y);
                }
            }
            Drag::Resize { id, handle, current } => {
                if let Some(Geometry::Box(b)) = doc.content().shape(*id).map(|s| &s.geometry) {
                    *current = Geometry::Box(resize_box(b, *handle, p));
                }
            }
            Drag::Vertex { index, current, .. } => {
                if let Geometry::Polygon(v) | Geometry::Polyline(v) = current
                    && let Some(vertex) = v.get_mut(*index)
                {
                    *vertex = p;
                }
            }
            Drag::Stroke { .. } => {}
        }
    }
    if response.drag_stopped()
        && let Some(drag) = view.drag.take()
    {
        finish_drag(view, doc, drag, w, h);
    }
    if response.clicked_by(primary) && view.drag.is_none() {
        if let Some(p) = pointer {
            click(view, doc, kind, p, tolerance, response.double_clicked());
        }
    } else if response.double_clicked() {
        finish_pending(view, doc, kind);
    }

    // --- drawing ----------------------------------------------------------------------------
    let hovered = if view.drag.is_none() {
        view.hover.and_then(|p| pick(&doc.content().shapes, p, tolerance))
    } else {
        None
    };
    let live = match &view.drag {
        Some(
            Drag::Move { id, current, .. }
            | Drag::Resize { id, current, .. }
            | Drag::Vertex { id, current, .. },
        ) => Some((*id, current)),
        _ => None,
    };
    let names = doc.labels().to_vec();
    view.drawn_shapes = overlay::paint_shapes(
        painter,
        &view.viewport,
        &doc.content().shapes,
        &|c| theme::label_color(c),
        OverlayState { selected: view.selected, hovered, live, names: Some(&names) },
    );
    let color = theme::label_color(view.active_class);
    if let Some(Drag::NewBox { start, current }) = &view.drag {
        overlay::paint_new_box(painter, &view.viewport, *start, *current, color);
    }
    let closed = kind == ShapeKind::Polygon;
    overlay::paint_pending(painter, &view.viewport, &view.pending, view.hover, color, closed);
    if view.tool == Tool::Draw
        && let Some(p) = view.hover
        && kind == ShapeKind::Box
        && view.drag.is_none()
    {
        overlay::paint_crosshair(painter, &view.viewport, p);
    }
    if view.drag.is_some() || !view.pending.is_empty() {
        ctx.set_cursor_icon(egui::CursorIcon::Crosshair);
    }
}

fn start_drag(
    view: &mut TaskView,
    doc: &Document,
    kind: ShapeKind,
    start: Point2,
    tolerance: f64,
) -> Option<Drag> {
    // Handles and vertices of the selected shape first.
    if let Some(shape) = view.selected.and_then(|id| doc.content().shape(id))
        && let Some(grab) = grab_at(&shape.geometry, start, tolerance)
    {
        let (id, current) = (shape.id, shape.geometry.clone());
        return Some(match grab {
            Grab::Handle(handle) => Drag::Resize { id, handle, current },
            Grab::Vertex(index) => Drag::Vertex { id, index, current },
        });
    }
    if !view.pending.is_empty() {
        return None;
    }
    if let Some(id) = pick(&doc.content().shapes, start, tolerance) {
        view.selected = Some(id);
        let current = doc.content().shape(id).map(|s| s.geometry.clone())?;
        return Some(Drag::Move { id, start, current });
    }
    if view.tool == Tool::Draw && kind == ShapeKind::Box {
        view.selected = None;
        return Some(Drag::NewBox { start, current: start });
    }
    None
}

fn finish_drag(view: &mut TaskView, doc: &mut Document, drag: Drag, w: f64, h: f64) {
    match drag {
        Drag::NewBox { start, current } => {
            let b = BoxPx::from_corners(start, current);
            if b.width >= MIN_BOX_PX && b.height >= MIN_BOX_PX {
                let geometry = Geometry::Box(b).clamped(w, h);
                if let Ok(id) = doc.add_shape(view.active_class, geometry, BTreeMap::new()) {
                    view.selected = Some(id);
                }
            }
        }
        Drag::Move { id, current, .. }
        | Drag::Resize { id, current, .. }
        | Drag::Vertex { id, current, .. } => {
            let _ = doc.set_geometry(id, current.clamped(w, h));
        }
        Drag::Stroke { .. } => {}
    }
}

fn click(
    view: &mut TaskView,
    doc: &mut Document,
    kind: ShapeKind,
    p: Point2,
    tolerance: f64,
    double: bool,
) {
    let drawing_points =
        view.tool == Tool::Draw && matches!(kind, ShapeKind::Polygon | ShapeKind::Polyline);
    if drawing_points {
        if double {
            finish_pending(view, doc, kind);
            return;
        }
        let closes = kind == ShapeKind::Polygon
            && view.pending.len() >= 3
            && view
                .pending
                .first()
                .is_some_and(|f| ((f.x - p.x).powi(2) + (f.y - p.y).powi(2)).sqrt() <= tolerance);
        if closes {
            finish_pending(view, doc, kind);
        } else if view.pending.is_empty()
            && let Some(id) = pick(&doc.content().shapes, p, tolerance)
        {
            view.selected = Some(id);
        } else {
            view.selected = None;
            view.pending.push(p);
        }
        return;
    }
    if view.tool == Tool::Draw
        && kind == ShapeKind::Keypoint
        && pick(&doc.content().shapes, p, tolerance).is_none()
    {
        let size = doc.image_size();
        let inside = p.x >= 0.0
            && p.y >= 0.0
            && p.x <= f64::from(size.width)
            && p.y <= f64::from(size.height);
        if inside
            && let Ok(id) = doc.add_shape(view.active_class, Geometry::Keypoint(p), BTreeMap::new())
        {
            view.selected = Some(id);
        }
        return;
    }
    view.selected = pick(&doc.content().shapes, p, tolerance);
    if let Some(shape) = view.selected.and_then(|id| doc.content().shape(id)) {
        view.active_class = shape.class;
    }
}

/// Turns the clicked vertices into a polygon or polyline (if there are enough).
fn finish_pending(view: &mut TaskView, doc: &mut Document, kind: ShapeKind) {
    let vertices = std::mem::take(&mut view.pending);
    let geometry = match kind {
        ShapeKind::Polygon if vertices.len() >= 3 => Geometry::Polygon(vertices),
        ShapeKind::Polyline if vertices.len() >= 2 => Geometry::Polyline(vertices),
        _ => return,
    };
    let size = doc.image_size();
    let geometry = geometry.clamped(f64::from(size.width), f64::from(size.height));
    if let Ok(id) = doc.add_shape(view.active_class, geometry, BTreeMap::new()) {
        view.selected = Some(id);
    }
}
