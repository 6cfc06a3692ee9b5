//! Form building blocks for the wizard's steps: a labelled field (label, widget, then the
//! findings for that field right under it, then a hint), with the widget tied to its label for
//! screen readers and tests. A field's errors appear once it was edited, or once its step was
//! left or create was tried ("revealed"), so a fresh form is not a wall of red.
//!
//! Must not depend on `app` or `cli`.

use std::collections::BTreeSet;

use egui::{Color32, RichText, TextEdit};

use crate::job::{Finding, Severity};
use crate::ui::theme;

use super::draft::{Built, Field};

/// What a step needs to draw fields: the findings, and which fields show theirs.
pub struct Form<'a> {
    /// The draft's findings.
    pub built: &'a Built,
    /// Fields the author edited.
    pub touched: &'a mut BTreeSet<Field>,
    /// True when every field of the step shows its findings.
    pub revealed: bool,
}

/// The colour of a finding.
pub fn severity_color(severity: Severity) -> Color32 {
    match severity {
        Severity::Error => theme::ERROR,
        Severity::Warning => theme::WARN,
    }
}

/// Draws findings, one line each, in their severity's colour.
pub fn findings_list<'f>(ui: &mut egui::Ui, findings: impl IntoIterator<Item = &'f Finding>) {
    for finding in findings {
        let marker = match finding.severity {
            Severity::Error => "Error: ",
            Severity::Warning => "Note: ",
        };
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 0.0;
            let color = severity_color(finding.severity);
            ui.label(RichText::new(marker).color(color).strong());
            ui.label(RichText::new(&finding.message).color(color));
        });
    }
}

/// A caption under a field.
pub fn hint(ui: &mut egui::Ui, text: &str) {
    if !text.is_empty() {
        ui.label(RichText::new(text).small().color(theme::TEXT_WEAK));
    }
}

/// A field's label.
pub fn field_label(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.label(RichText::new(text).strong())
}

/// A section heading inside a step.
pub fn section(ui: &mut egui::Ui, text: &str) {
    ui.add_space(theme::SPACE);
    ui.label(RichText::new(text).size(theme::SECTION_SIZE).color(theme::TEXT_STRONG));
    ui.add_space(theme::SPACE * 0.25);
}

impl Form<'_> {
    /// True when `field` shows its findings.
    pub fn shows(&self, field: Field) -> bool {
        self.revealed || self.touched.contains(&field)
    }

    /// Marks `field` edited.
    pub fn touch(&mut self, field: Field) {
        self.touched.insert(field);
    }

    /// The findings at `field`, when it shows them.
    pub fn findings(&self, ui: &mut egui::Ui, field: Field) {
        if self.shows(field) {
            findings_list(ui, self.built.at(field));
        }
    }

    /// True when `field` shows an error.
    pub fn has_error(&self, field: Field) -> bool {
        self.shows(field) && self.built.at(field).any(Finding::is_error)
    }

    fn edit(&mut self, ui: &mut egui::Ui, field: Field, label: &str, edit: TextEdit<'_>) -> bool {
        let label = field_label(ui, label);
        let edit =
            if self.has_error(field) { edit.background_color(theme::ERROR_FIELD_BG) } else { edit };
        let response = ui.add(edit).labelled_by(label.id);
        if response.changed() {
            self.touch(field);
        }
        if response.lost_focus() {
            self.touch(field);
        }
        response.changed()
    }

    /// A one-line text field with its findings and a hint. Returns true when it changed.
    pub fn text(
        &mut self,
        ui: &mut egui::Ui,
        field: Field,
        label: &str,
        value: &mut String,
        placeholder: &str,
        hint_text: &str,
    ) -> bool {
        let changed = self.edit(
            ui,
            field,
            label,
            TextEdit::singleline(value)
                .hint_text(placeholder)
                .desired_width(theme::FORM_FIELD_WIDTH),
        );
        self.findings(ui, field);
        hint(ui, hint_text);
        ui.add_space(theme::SPACE * 0.5);
        changed
    }

    /// A short field for a number, with its findings and a hint.
    pub fn number(
        &mut self,
        ui: &mut egui::Ui,
        field: Field,
        label: &str,
        value: &mut String,
        placeholder: &str,
        hint_text: &str,
    ) -> bool {
        let changed = self.edit(
            ui,
            field,
            label,
            TextEdit::singleline(value)
                .hint_text(placeholder)
                .desired_width(theme::NUMBER_FIELD_WIDTH),
        );
        self.findings(ui, field);
        hint(ui, hint_text);
        ui.add_space(theme::SPACE * 0.5);
        changed
    }

    /// A multi-line text field.
    pub fn multiline(
        &mut self,
        ui: &mut egui::Ui,
        field: Field,
        label: &str,
        value: &mut String,
        rows: usize,
        hint_text: &str,
    ) -> bool {
        let changed = self.edit(
            ui,
            field,
            label,
            TextEdit::multiline(value).desired_rows(rows).desired_width(theme::FORM_FIELD_WIDTH),
        );
        self.findings(ui, field);
        hint(ui, hint_text);
        ui.add_space(theme::SPACE * 0.5);
        changed
    }

    /// A short text field on the current line (for rows of small inputs), labelled `label`.
    pub fn inline_text(
        &mut self,
        ui: &mut egui::Ui,
        field: Field,
        label: &str,
        value: &mut String,
        width: f32,
    ) -> bool {
        self.inline_text_hint(ui, field, label, value, width, "")
    }

    /// [`Form::inline_text`] with a placeholder shown while the field is empty.
    pub fn inline_text_hint(
        &mut self,
        ui: &mut egui::Ui,
        field: Field,
        label: &str,
        value: &mut String,
        width: f32,
        placeholder: &str,
    ) -> bool {
        let label = ui.label(label);
        let mut edit = TextEdit::singleline(value).desired_width(width).hint_text(placeholder);
        if self.has_error(field) {
            edit = edit.background_color(theme::ERROR_FIELD_BG);
        }
        let response = ui.add(edit).labelled_by(label.id);
        if response.changed() || response.lost_focus() {
            self.touch(field);
        }
        response.changed()
    }
}
