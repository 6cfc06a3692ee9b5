//! Image classification: one label (single-label) or several (multi-label), chosen by click or
//! number key; the image stays pannable and zoomable.

use egui::{RichText, Ui};

use super::{TaskView, labels_list};
use crate::annotation::document::{Document, TaskTemplate};
use crate::ui::theme;
use crate::ui::widgets;

/// The left panel: the labels to choose from.
pub fn side_panel(ui: &mut Ui, _view: &mut TaskView, doc: &mut Document) {
    let multi = *doc.template() == TaskTemplate::MultiLabel;
    widgets::section(
        ui,
        if multi { "Labels (choose all that apply)" } else { "Label (choose one)" },
    );
    let chosen = doc.content().classes.clone();
    let labels = doc.labels().to_vec();
    if let Some(class) =
        labels_list(ui, &labels, &|i| theme::label_color(i), &|i| chosen.contains(&i), multi)
    {
        let _ = doc.choose_class(class);
    }
    let summary = if chosen.is_empty() {
        "Nothing chosen yet.".to_owned()
    } else {
        let names: Vec<&str> =
            chosen.iter().filter_map(|c| labels.get(*c)).map(String::as_str).collect();
        format!("Chosen: {}", names.join(", "))
    };
    ui.label(RichText::new(summary).small().color(theme::TEXT_WEAK));
}
