//! Label verification: the earlier label (boxes or a mask) drawn over the image, read-only; the
//! worker's verdict (the verification job's labels, by click or number key) and optional
//! feedback.

use egui::{Color32, RichText, Ui};

use super::{TaskView, labels_list};
use crate::annotation::document::Document;
use crate::ui::theme;
use crate::ui::widgets;
use crate::ui::widgets::overlay::{self, OverlayState};

/// The left panel: what is under review, the verdict, the feedback box.
pub fn side_panel(ui: &mut Ui, _view: &mut TaskView, doc: &mut Document) {
    widgets::section(ui, "Under review");
    match doc.reference() {
        Some(r) if r.mask.is_some() => {
            ui.label(format!("A segmentation mask ({}).", r.attribute));
            legend(ui, &r.labels, &|i| {
                r.mask_colors.get(i + 1).map_or(Color32::GRAY, |c| theme::rgb(*c))
            });
        }
        Some(r) => {
            ui.label(format!("{} box(es) from {}.", r.shapes.len(), r.attribute));
            legend(ui, &r.labels, &|i| theme::label_color(i));
        }
        None => {
            ui.label(
                RichText::new("No earlier label was found for this object.").color(theme::WARN),
            );
        }
    }
    ui.add_space(theme::SPACE);
    widgets::section(ui, "Your verdict");
    let verdict = doc.content().verdict;
    let labels = doc.labels().to_vec();
    if let Some(class) =
        labels_list(ui, &labels, &|i| theme::label_color(i), &|i| verdict == Some(i), false)
    {
        let _ = doc.set_verdict(Some(class));
    }
    ui.add_space(theme::SPACE);
    widgets::section(ui, "Feedback (optional)");
    let mut comment = doc.content().comment.clone();
    let r = ui.add(
        egui::TextEdit::multiline(&mut comment)
            .hint_text("What is wrong with the label?")
            .desired_rows(3)
            .desired_width(f32::INFINITY),
    );
    if r.changed() {
        let _ = doc.set_comment(&comment);
    }
}

fn legend(ui: &mut Ui, labels: &[String], color: &dyn Fn(usize) -> Color32) {
    ui.horizontal_wrapped(|ui| {
        for (i, name) in labels.iter().enumerate() {
            let (rect, _) = ui.allocate_exact_size(
                egui::vec2(theme::SWATCH, theme::SWATCH),
                egui::Sense::hover(),
            );
            ui.painter().rect_filled(rect, 3.0, color(i));
            ui.label(RichText::new(name).small());
        }
    });
}

/// Draws the label under review.
pub fn canvas(ui: &Ui, painter: &egui::Painter, view: &mut TaskView, doc: &Document) {
    let Some(reference) = doc.reference() else { return };
    if let Some(mask) = &reference.mask {
        let colors = reference.mask_colors.clone();
        if let Some(texture) = view.reference_layer.update(ui.ctx(), mask, &colors, 0) {
            let rect = view.viewport.screen_rect(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(mask.width() as f32, mask.height() as f32),
            ));
            let uv = egui::Rect::from_min_max(egui::Pos2::ZERO, egui::pos2(1.0, 1.0));
            painter.image(texture.id(), rect, uv, Color32::WHITE.gamma_multiply(view.mask_opacity));
        }
    }
    view.drawn_shapes = overlay::paint_shapes(
        painter,
        &view.viewport,
        &reference.shapes,
        &|c| theme::label_color(c),
        OverlayState { names: Some(&reference.labels), ..OverlayState::default() },
    );
}
