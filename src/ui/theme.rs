//! Every colour, size and spacing of the UI, in one place. Views never hard-code a colour: they
//! ask the theme. A calm dark theme, readable at 1280×800.

use egui::{Color32, CornerRadius, FontFamily, FontId, Margin, Stroke, TextStyle, Visuals};

/// Window and panel background.
pub const BG: Color32 = Color32::from_rgb(0x1d, 0x20, 0x24);
/// Raised surfaces (cards, side panels).
pub const SURFACE: Color32 = Color32::from_rgb(0x25, 0x29, 0x2e);
/// Surfaces under the pointer.
pub const SURFACE_HOVER: Color32 = Color32::from_rgb(0x2e, 0x33, 0x39);
/// The viewport behind images and point clouds.
pub const CANVAS: Color32 = Color32::from_rgb(0x12, 0x14, 0x17);
/// Body text.
pub const TEXT: Color32 = Color32::from_rgb(0xdd, 0xe1, 0xe6);
/// Secondary text (hints, captions).
pub const TEXT_WEAK: Color32 = Color32::from_rgb(0x8e, 0x96, 0xa0);
/// The accent: primary buttons, selection, focus.
pub const ACCENT: Color32 = Color32::from_rgb(0x4c, 0x9a, 0xff);
/// Success: online, submitted, valid.
pub const OK: Color32 = Color32::from_rgb(0x3f, 0xb9, 0x70);
/// Warnings.
pub const WARN: Color32 = Color32::from_rgb(0xe3, 0xa0, 0x2f);
/// Errors, offline, destructive actions.
pub const ERROR: Color32 = Color32::from_rgb(0xe5, 0x53, 0x4b);
/// Thin separators and outlines.
pub const LINE: Color32 = Color32::from_rgb(0x3a, 0x40, 0x47);
/// The world x axis in 3D views' axis gizmo.
pub const AXIS_X: Color32 = Color32::from_rgb(0xe5, 0x53, 0x4b);
/// The world y axis in 3D views' axis gizmo.
pub const AXIS_Y: Color32 = Color32::from_rgb(0x3f, 0xb9, 0x70);
/// The world z axis in 3D views' axis gizmo.
pub const AXIS_Z: Color32 = Color32::from_rgb(0x4c, 0x9a, 0xff);

/// Emphasised text (bold spans, headings inside content).
pub const TEXT_STRONG: Color32 = Color32::from_rgb(0xf5, 0xf7, 0xfa);
/// Emphasis in rendered text (Markdown `**bold**`: the default fonts have no bold face).
pub const TEXT_EMPHASIS: Color32 = Color32::from_rgb(0xff, 0xe2, 0x9a);
/// Background of a text field that holds an error.
pub const ERROR_FIELD_BG: Color32 = Color32::from_rgb(0x3a, 0x22, 0x24);

/// Spacing unit, in points; paddings are multiples of it.
pub const SPACE: f32 = 8.0;
/// Corner radius of cards and buttons.
pub const RADIUS: u8 = 6;
/// Width of the side panels.
pub const SIDE_PANEL_WIDTH: f32 = 280.0;
/// Handle size of editable shapes, in screen points.
pub const HANDLE_SIZE: f32 = 7.0;
/// Outline width of shapes, in screen points.
pub const SHAPE_STROKE: f32 = 2.0;

/// Ten distinct label colours (Ground Truth's and matplotlib's tab10 order), by class index.
pub const LABEL_COLORS: [Color32; 10] = [
    Color32::from_rgb(0x2c, 0xa0, 0x2c),
    Color32::from_rgb(0x1f, 0x77, 0xb4),
    Color32::from_rgb(0xff, 0x7f, 0x0e),
    Color32::from_rgb(0xd6, 0x27, 0x28),
    Color32::from_rgb(0x94, 0x67, 0xbd),
    Color32::from_rgb(0x8c, 0x56, 0x4b),
    Color32::from_rgb(0xe3, 0x77, 0xc2),
    Color32::from_rgb(0x7f, 0x7f, 0x7f),
    Color32::from_rgb(0xbc, 0xbd, 0x22),
    Color32::from_rgb(0x17, 0xbe, 0xcf),
];

/// The colour of class `index`.
pub fn label_color(index: usize) -> Color32 {
    LABEL_COLORS[index % LABEL_COLORS.len()]
}

/// Applies the theme to a context (call once at start-up).
pub fn apply(ctx: &egui::Context) {
    let mut style = (*ctx.global_style()).clone();
    let mut visuals = Visuals::dark();
    visuals.panel_fill = BG;
    visuals.window_fill = SURFACE;
    visuals.extreme_bg_color = CANVAS;
    visuals.faint_bg_color = SURFACE;
    visuals.override_text_color = Some(TEXT);
    visuals.hyperlink_color = ACCENT;
    visuals.selection.bg_fill = ACCENT.gamma_multiply(0.45);
    visuals.selection.stroke = Stroke::new(1.0, ACCENT);
    visuals.widgets.noninteractive.bg_stroke = Stroke::new(1.0, LINE);
    visuals.widgets.inactive.weak_bg_fill = SURFACE_HOVER;
    visuals.widgets.inactive.corner_radius = CornerRadius::same(RADIUS);
    visuals.widgets.hovered.corner_radius = CornerRadius::same(RADIUS);
    visuals.widgets.active.corner_radius = CornerRadius::same(RADIUS);
    visuals.window_corner_radius = CornerRadius::same(RADIUS + 2);
    style.visuals = visuals;
    style.spacing.item_spacing = egui::vec2(SPACE, SPACE * 0.75);
    style.spacing.button_padding = egui::vec2(SPACE * 1.25, SPACE * 0.5);
    style.spacing.window_margin = Margin::same(SPACE as i8 * 2);
    style.text_styles = [
        (TextStyle::Heading, FontId::new(20.0, FontFamily::Proportional)),
        (TextStyle::Body, FontId::new(14.0, FontFamily::Proportional)),
        (TextStyle::Button, FontId::new(14.0, FontFamily::Proportional)),
        (TextStyle::Small, FontId::new(11.5, FontFamily::Proportional)),
        (TextStyle::Monospace, FontId::new(13.0, FontFamily::Monospace)),
    ]
    .into();
    ctx.set_global_style(style);
}

/// Width of the right-hand panels (shortcuts, attributes).
pub const RIGHT_PANEL_WIDTH: f32 = 260.0;
/// Fill opacity of box interiors (0–1).
pub const SHAPE_FILL_ALPHA: f32 = 0.12;
/// Fill opacity of the selected box interior (0–1).
pub const SELECTED_FILL_ALPHA: f32 = 0.25;
/// Outline width of the selected shape, in screen points.
pub const SELECTED_STROKE: f32 = 3.0;
/// Radius of keypoints and polygon vertices, in screen points.
pub const POINT_RADIUS: f32 = 4.0;
/// How near (screen points) the pointer must be to grab a line or point.
pub const PICK_TOLERANCE: f32 = 6.0;
/// Colour of the verification overlay (earlier labels under review).
pub const REFERENCE: Color32 = Color32::from_rgb(0xff, 0xd1, 0x4a);
/// Colour of handles.
pub const HANDLE: Color32 = Color32::WHITE;
/// Colour of the shape being drawn.
pub const DRAFT_SHAPE: Color32 = Color32::from_rgb(0xff, 0xff, 0xff);
/// Size of a label's colour swatch.
pub const SWATCH: f32 = 12.0;
/// Height of a row in lists (labels, jobs).
pub const ROW_HEIGHT: f32 = 26.0;
/// Text shown on label names drawn over the image.
pub const OVERLAY_TEXT: f32 = 12.0;
/// Background behind overlay texts.
pub const OVERLAY_TEXT_BG: Color32 = Color32::from_rgba_premultiplied(0x12, 0x14, 0x17, 0xc0);
/// Above this many visible shapes, label names are not drawn over the image.
pub const MAX_OVERLAY_LABELS: usize = 400;
/// Default opacity of segmentation masks (0–1).
pub const MASK_OPACITY: f32 = 0.55;

/// A colour with its alpha scaled by `alpha` (0–1), premultiplied as egui wants.
pub fn with_alpha(color: Color32, alpha: f32) -> Color32 {
    color.gamma_multiply(alpha.clamp(0.0, 1.0))
}

/// The colour of the online/offline badge.
pub fn status_color(online: bool, pending: usize) -> Color32 {
    match (online, pending) {
        (false, _) => ERROR,
        (true, 0) => OK,
        (true, _) => WARN,
    }
}

/// An RGB triple as a colour.
pub fn rgb(c: [u8; 3]) -> Color32 {
    Color32::from_rgb(c[0], c[1], c[2])
}

// --- Forms, wizard and monitor ------------------------------------------------------------------

/// Width of the wizard's step list.
pub const STEP_LIST_WIDTH: f32 = 230.0;
/// Width of a form's text fields.
pub const FORM_FIELD_WIDTH: f32 = 460.0;
/// Width of a form's number fields.
pub const NUMBER_FIELD_WIDTH: f32 = 120.0;
/// Size of section headings inside a view.
pub const SECTION_SIZE: f32 = 16.0;
/// Markdown heading sizes, levels 1–3.
pub const HEADING_1_SIZE: f32 = 19.0;
/// Markdown level-2 heading size.
pub const HEADING_2_SIZE: f32 = 16.5;
/// Markdown level-3 heading size.
pub const HEADING_3_SIZE: f32 = 15.0;
/// Text size of a text data object in the preview.
pub const PREVIEW_TEXT_SIZE: f32 = 17.0;
/// Side of a colour swatch (legend marks, label colours).
pub const SWATCH_SIZE: f32 = 11.0;
/// Height of the monitor's plots.
pub const PLOT_HEIGHT: f32 = 200.0;
/// Width of the monitor's job list.
pub const JOB_LIST_WIDTH: f32 = 380.0;

/// The colour of a job status (Ground Truth's status names).
pub fn job_status_color(status: &str) -> Color32 {
    match status {
        "Completed" => OK,
        "Failed" => ERROR,
        "Stopping" | "Stopped" => WARN,
        "InProgress" => ACCENT,
        _ => TEXT_WEAK,
    }
}

/// Colour of unlabeled points in the 3D segmentation view.
pub const UNLABELED_POINT: [u8; 3] = [0x9a, 0xa1, 0xab];
/// Brush radius limits of the 3D segmentation view (points).
pub const BRUSH_RADIUS_RANGE: std::ops::RangeInclusive<f32> = 2.0..=200.0;
