//! Small widgets the views share: label rows with swatch and shortcut, the online/offline badge,
//! section headings, and the image viewport with its overlay.

pub mod overlay;
pub mod timeline;
pub mod viewport;

use egui::{Color32, Response, Role, Sense, Ui, WidgetInfo, vec2};

use super::theme;

/// What the sync engine reports, as the badge shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncBadge {
    /// Whether the last store call worked.
    pub online: bool,
    /// Submissions waiting in the outbox.
    pub queued: usize,
    /// Drafts the store does not have yet.
    pub drafts_pending: usize,
}

impl SyncBadge {
    /// The badge's text, e.g. `Online · 2 to upload`.
    pub fn text(&self) -> String {
        let state = if self.online { "Online" } else { "Offline" };
        match (self.queued, self.drafts_pending) {
            (0, 0) => format!("{state} · all saved"),
            (0, d) => format!("{state} · {d} draft(s) to sync"),
            (q, _) => format!("{state} · {q} to upload"),
        }
    }
}

/// The online/offline badge with the outbox length.
pub fn sync_badge(ui: &mut Ui, badge: SyncBadge) -> Response {
    let color = theme::status_color(badge.online, badge.queued + badge.drafts_pending);
    ui.horizontal(|ui| {
        let (rect, _) = ui.allocate_exact_size(vec2(10.0, 10.0), Sense::hover());
        ui.painter().circle_filled(rect.center(), 4.5, color);
        ui.label(egui::RichText::new(badge.text()).color(theme::TEXT_WEAK))
    })
    .inner
    .on_hover_text("Submissions go to a local outbox first and upload in the background.")
}

/// A section heading in a side panel.
pub fn section(ui: &mut Ui, title: &str) {
    ui.add_space(theme::SPACE * 0.5);
    ui.label(egui::RichText::new(title.to_uppercase()).small().strong().color(theme::TEXT_WEAK));
}

/// A selectable row: colour swatch, `name`, and the shortcut key at the right. Its accessible
/// name is `name`. `checkbox` draws a check mark box instead of a radio look (multi-select).
pub fn label_row(
    ui: &mut Ui,
    color: Color32,
    name: &str,
    shortcut: Option<&str>,
    selected: bool,
    checkbox: bool,
) -> Response {
    let width = ui.available_width();
    let (rect, response) = ui.allocate_exact_size(vec2(width, theme::ROW_HEIGHT), Sense::click());
    response.widget_info(|| {
        let kind = if checkbox { Role::CheckBox } else { Role::RadioButton };
        WidgetInfo::selected(kind, ui.is_enabled(), selected, name)
    });
    if ui.is_rect_visible(rect) {
        let painter = ui.painter();
        let fill = if selected {
            theme::with_alpha(color, 0.28)
        } else if response.hovered() {
            theme::SURFACE_HOVER
        } else {
            Color32::TRANSPARENT
        };
        painter.rect_filled(rect, theme::RADIUS, fill);
        if selected {
            painter.rect_stroke(
                rect,
                theme::RADIUS,
                egui::Stroke::new(1.0, color),
                egui::StrokeKind::Inside,
            );
        }
        let swatch = egui::Rect::from_center_size(
            rect.left_center() + vec2(theme::SPACE + theme::SWATCH * 0.5, 0.0),
            vec2(theme::SWATCH, theme::SWATCH),
        );
        if checkbox {
            painter.rect_stroke(
                swatch,
                2.0,
                egui::Stroke::new(1.5, color),
                egui::StrokeKind::Inside,
            );
            if selected {
                painter.rect_filled(swatch.shrink(3.0), 1.0, color);
            }
        } else {
            painter.rect_filled(swatch, 3.0, color);
        }
        let font = egui::TextStyle::Body.resolve(ui.style());
        painter.text(
            swatch.right_center() + vec2(theme::SPACE, 0.0),
            egui::Align2::LEFT_CENTER,
            name,
            font.clone(),
            theme::TEXT,
        );
        if let Some(key) = shortcut {
            let key_rect = egui::Rect::from_center_size(
                rect.right_center() - vec2(theme::SPACE + 10.0, 0.0),
                vec2(20.0, 18.0),
            );
            painter.rect_stroke(
                key_rect,
                3.0,
                egui::Stroke::new(1.0, theme::LINE),
                egui::StrokeKind::Inside,
            );
            painter.text(
                key_rect.center(),
                egui::Align2::CENTER_CENTER,
                key,
                egui::TextStyle::Small.resolve(ui.style()),
                theme::TEXT_WEAK,
            );
        }
    }
    response
}

/// Plain text from an instruction's HTML: tags dropped, block ends as line breaks, the common
/// entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(rest.get(..start).unwrap_or_default());
        let Some(end) = rest.get(start..).and_then(|r| r.find('>')) else {
            rest = "";
            break;
        };
        let tag = rest.get(start + 1..start + end).unwrap_or_default().to_ascii_lowercase();
        let name =
            tag.trim_start_matches('/').split_whitespace().next().unwrap_or_default().to_owned();
        let closing = tag.starts_with('/');
        match name.as_str() {
            "li" if !closing => out.push_str("\n• "),
            "br" => out.push('\n'),
            "p" | "div" | "h1" | "h2" | "h3" | "h4" | "tr" | "ul" | "ol" if closing => {
                out.push('\n')
            }
            _ => {}
        }
        rest = rest.get(start + end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let lines: Vec<&str> = decoded.lines().map(str::trim).collect();
    let mut text = lines.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_html_becomes_text() {
        assert_eq!(
            html_to_text(
                "<p>Draw a <b>tight</b> box.</p><ul><li>cars</li><li>trees &amp; bushes</li></ul>"
            ),
            "Draw a tight box.\n\n• cars\n• trees & bushes"
        );
        assert_eq!(html_to_text("plain"), "plain");
        assert_eq!(
            SyncBadge { online: false, queued: 2, drafts_pending: 0 }.text(),
            "Offline · 2 to upload"
        );
    }
}
