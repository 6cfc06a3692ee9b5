//! Semantic segmentation: a brush with a size, an eraser, polygon fill, mask opacity; the mask
//! drawn as a texture that is re-uploaded only where a stroke changed it.

use egui::{Color32, RichText, Ui};

use super::{Drag, TaskView, Tool, labels_list};
use crate::annotation::document::Document;
use crate::ui::command::all;
use crate::ui::theme;
use crate::ui::widgets::{self, overlay};

/// Smallest and largest brush radius, image pixels.
const BRUSH_RADIUS_RANGE: std::ops::RangeInclusive<f32> = 1.0..=200.0;

/// The left panel: tools, brush size, opacity, labels.
pub fn side_panel(ui: &mut Ui, view: &mut TaskView, doc: &mut Document) {
    let typing = ui.ctx().egui_wants_keyboard_input();
    widgets::section(ui, "Tools");
    ui.horizontal_wrapped(|ui| {
        for (tool, c) in [
            (Tool::Brush, &all::TOOL_BRUSH),
            (Tool::Eraser, &all::TOOL_ERASER),
            (Tool::Fill, &all::TOOL_FILL),
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
    if !typing {
        for (tool, c) in [
            (Tool::Brush, &all::TOOL_BRUSH),
            (Tool::Eraser, &all::TOOL_ERASER),
            (Tool::Fill, &all::TOOL_FILL),
        ] {
            if c.pressed(ui.ctx()) {
                view.tool = tool;
                view.pending.clear();
            }
        }
        if all::BRUSH_SMALLER.pressed(ui.ctx()) {
            view.brush_radius_px = (view.brush_radius_px / 1.25)
                .clamp(*BRUSH_RADIUS_RANGE.start(), *BRUSH_RADIUS_RANGE.end());
        }
        if all::BRUSH_LARGER.pressed(ui.ctx()) {
            view.brush_radius_px = (view.brush_radius_px * 1.25)
                .clamp(*BRUSH_RADIUS_RANGE.start(), *BRUSH_RADIUS_RANGE.end());
        }
    }
    ui.add(
        egui::Slider::new(&mut view.brush_radius_px, BRUSH_RADIUS_RANGE)
            .logarithmic(true)
            .text("Brush size")
            .suffix(" px"),
    );
    ui.add(egui::Slider::new(&mut view.mask_opacity, 0.0..=1.0).text("Opacity").fixed_decimals(2));
    ui.label(
        RichText::new(match view.tool {
            Tool::Fill => "Click the corners; Enter, a double-click or the first corner fills.",
            Tool::Eraser => "Drag to erase back to background.",
            Tool::Pan => "Drag to pan; the wheel zooms.",
            _ => "Drag to paint the chosen label.",
        })
        .small()
        .color(theme::TEXT_WEAK),
    );
    ui.add_space(theme::SPACE);
    widgets::section(ui, "Labels");
    let colors = doc.mask_colors();
    let color = |i: usize| colors.get(i + 1).map_or(Color32::GRAY, |c| theme::rgb(*c));
    let labels = doc.labels().to_vec();
    if let Some(class) = labels_list(ui, &labels, &color, &|i| i == view.active_class, false) {
        view.active_class = class;
        if view.tool == Tool::Eraser || view.tool == Tool::Pan {
            view.tool = Tool::Brush;
        }
    }
}

/// The active paint class (`0` = BACKGROUND for the eraser).
fn paint_class(view: &TaskView) -> u8 {
    if view.tool == Tool::Eraser { 0 } else { u8::try_from(view.active_class + 1).unwrap_or(0) }
}

/// Draws the mask and handles brush, eraser and polygon fill.
pub fn canvas(
    ui: &Ui,
    painter: &egui::Painter,
    response: &egui::Response,
    view: &mut TaskView,
    doc: &mut Document,
    typing: bool,
) {
    let ctx = ui.ctx().clone();
    let primary = egui::PointerButton::Primary;
    let pointer =
        ui.input(|i| i.pointer.interact_pos()).map(|p| view.viewport.image_from_screen(p));
    let painting = matches!(view.tool, Tool::Brush | Tool::Eraser);
    let radius = f64::from(view.brush_radius_px);
    let class = paint_class(view);
    let mut dirty = None;
    let mut grow = |rect: crate::annotation::document::PixelRect| {
        if !rect.is_empty() {
            dirty = Some(match dirty {
                Some(d) => crate::annotation::document::PixelRect::union(d, rect),
                None => rect,
            });
        }
    };

    if painting {
        if response.drag_started_by(primary) {
            let origin =
                ui.input(|i| i.pointer.press_origin()).map(|p| view.viewport.image_from_screen(p));
            if let Some(start) = origin {
                doc.begin_stroke();
                grow(doc.stroke_segment(start, start, radius, class));
                view.drag = Some(Drag::Stroke { last: start });
            }
        }
        if let (Some(Drag::Stroke { last }), Some(p)) = (view.drag.as_mut(), pointer)
            && (response.dragged_by(primary) || response.drag_stopped())
        {
            let from = *last;
            *last = p;
            grow(doc.stroke_segment(from, p, radius, class));
        }
        if response.drag_stopped() && matches!(view.drag, Some(Drag::Stroke { .. })) {
            view.drag = None;
            doc.finish_stroke();
        }
        if response.clicked_by(primary)
            && let Some(p) = pointer
        {
            doc.begin_stroke();
            grow(doc.stroke_segment(p, p, radius, class));
            doc.finish_stroke();
        }
    }
    if view.tool == Tool::Fill {
        let tolerance = f64::from(theme::PICK_TOLERANCE / view.viewport.zoom.max(1e-3));
        let mut fill = false;
        if response.clicked_by(primary)
            && let Some(p) = pointer
        {
            let closes = view.pending.len() >= 3
                && view.pending.first().is_some_and(|f| {
                    ((f.x - p.x).powi(2) + (f.y - p.y).powi(2)).sqrt() <= tolerance
                });
            if closes || response.double_clicked() {
                fill = true;
            } else {
                view.pending.push(p);
            }
        }
        if !typing && all::FINISH_SHAPE.pressed(&ctx) {
            fill = true;
        }
        if fill {
            let vertices = std::mem::take(&mut view.pending);
            if let Ok(rect) =
                doc.fill_mask_polygon(&vertices, u8::try_from(view.active_class + 1).unwrap_or(0))
            {
                grow(rect);
            }
        }
    }
    if !typing && all::CANCEL.pressed(&ctx) {
        view.pending.clear();
    }
    if let Some(rect) = dirty {
        view.mask_layer.dirty = Some(match view.mask_layer.dirty {
            Some(d) => d.union(rect),
            None => rect,
        });
    }

    // --- drawing ----------------------------------------------------------------------------
    let colors = doc.mask_colors();
    let revision = doc.revision();
    if let Some(mask) = doc.content().mask.as_ref()
        && let Some(texture) = view.mask_layer.update(&ctx, mask, &colors, revision)
    {
        let size = doc.image_size();
        let rect = view.viewport.screen_rect(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(size.width as f32, size.height as f32),
        ));
        let uv = egui::Rect::from_min_max(egui::Pos2::ZERO, egui::pos2(1.0, 1.0));
        painter.image(texture.id(), rect, uv, Color32::WHITE.gamma_multiply(view.mask_opacity));
    }
    let color = colors.get(view.active_class + 1).map_or(Color32::WHITE, |c| theme::rgb(*c));
    if view.tool == Tool::Fill {
        overlay::paint_pending(painter, &view.viewport, &view.pending, view.hover, color, true);
    }
    if painting && let Some(p) = view.hover {
        let c = view.viewport.screen_from_image(p);
        let r = view.brush_radius_px * view.viewport.zoom;
        let outline = if view.tool == Tool::Eraser { theme::HANDLE } else { color };
        painter.circle_stroke(c, r, egui::Stroke::new(1.5, outline));
        painter.circle_stroke(
            c,
            r + 1.5,
            egui::Stroke::new(1.0, Color32::BLACK.gamma_multiply(0.6)),
        );
        ctx.set_cursor_icon(egui::CursorIcon::None);
    }
}
