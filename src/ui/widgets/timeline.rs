//! The frame timeline of video-frame and 3D point-cloud sequence tasks: play and pause, first/previous/next/last frame, a
//! jump-to-frame field, and a strip with one cell per frame that shows which frames are decoded,
//! which carry labels, where the selected instance is (a band) and its keyframes (diamonds), and
//! the current frame (a cursor). Clicking or dragging on the strip seeks.
//!
//! A pure widget: it reads a [`TimelineModel`] and returns a [`TimelineAction`]; frame numbers
//! are shown 1-based, as workers count them.

use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, Ui, pos2, vec2};

use crate::ui::command::{self, Command, video};
use crate::ui::theme;

/// The timeline's buttons, with the shortcuts of the screen that shows it.
#[derive(Debug, Clone, Copy)]
pub struct TimelineCommands {
    /// To the first frame.
    pub first: Command,
    /// One frame back.
    pub previous: Command,
    /// Play or pause.
    pub play: Command,
    /// One frame on.
    pub next: Command,
    /// To the last frame.
    pub last: Command,
}

/// The video task's timeline buttons.
pub const VIDEO_COMMANDS: TimelineCommands = TimelineCommands {
    first: video::FIRST_FRAME,
    previous: video::PREVIOUS_FRAME,
    play: video::PLAY,
    next: video::NEXT_FRAME,
    last: video::LAST_FRAME,
};

/// What the timeline shows.
#[derive(Debug, Clone, Copy)]
pub struct TimelineModel<'a> {
    /// Its buttons.
    pub commands: &'a TimelineCommands,
    /// Frames in the sequence.
    pub frame_count: usize,
    /// The current frame (0-based).
    pub current: usize,
    /// True while playing.
    pub playing: bool,
    /// Frames (0-based) where the selected instance has a keyframe.
    pub keyframes: &'a [usize],
    /// Frames (0-based) where the selected instance has a shape.
    pub present: &'a [usize],
    /// Per frame: true when any shape is on it.
    pub labeled: &'a [bool],
    /// Per frame: true when it is decoded (or loaded) and ready to show.
    pub ready: &'a [bool],
    /// The selected instance's colour.
    pub color: Color32,
}

/// What the worker asked the timeline for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineAction {
    /// Show frame (0-based).
    Seek(usize),
    /// Start or stop playing.
    TogglePlay,
}

/// The timeline's own state: the jump-to-frame field.
#[derive(Debug, Clone, Default)]
pub struct TimelineState {
    /// The text of the jump-to-frame field.
    pub jump: String,
    /// Why the last jump failed.
    pub jump_error: Option<String>,
}

/// Playing a sequence: on or off, and when the last frame was shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Playback {
    /// True while playing.
    pub playing: bool,
    /// When the last frame was shown while playing (`egui` input time, seconds).
    shown_at: Option<f64>,
}

impl Playback {
    /// Starts or stops playing; returns the frame to go to (the first, when started on the
    /// last frame).
    pub fn toggle(&mut self, current: usize, count: usize) -> Option<usize> {
        self.playing = !self.playing;
        self.shown_at = None;
        (self.playing && current + 1 >= count).then_some(0)
    }

    /// While playing: the frame to show now, if any (the next one, once `1 / fps` seconds have
    /// passed and it is `ready`); stops at the last frame. Asks for the repaints it needs.
    pub fn tick(
        &mut self,
        ctx: &egui::Context,
        current: usize,
        count: usize,
        ready: &[bool],
        fps: f64,
    ) -> Option<usize> {
        if !self.playing {
            return None;
        }
        if current + 1 >= count {
            self.playing = false;
            return None;
        }
        let now = ctx.input(|i| i.time);
        let interval = 1.0 / fps.clamp(1.0, 60.0);
        ctx.request_repaint_after(std::time::Duration::from_secs_f64(interval / 2.0));
        let due = self.shown_at.is_none_or(|t| now - t >= interval);
        if due && ready.get(current + 1).copied().unwrap_or(false) {
            self.shown_at = Some(now);
            return Some(current + 1);
        }
        None
    }
}

/// Height of the frame strip, in points.
const STRIP_HEIGHT: f32 = 30.0;

/// The timeline; returns what the worker asked for this frame.
pub fn timeline_ui(
    ui: &mut Ui,
    state: &mut TimelineState,
    model: &TimelineModel<'_>,
) -> Option<TimelineAction> {
    let mut action = None;
    let last = model.frame_count.saturating_sub(1);
    ui.horizontal(|ui| {
        let commands = model.commands;
        if command::button(ui, &commands.first, model.current > 0) {
            action = Some(TimelineAction::Seek(0));
        }
        if command::button(ui, &commands.previous, model.current > 0) {
            action = Some(TimelineAction::Seek(model.current.saturating_sub(1)));
        }
        let play = if model.playing { "Pause" } else { "Play" };
        let r = ui
            .add(egui::Button::new(RichText::new(play).strong()).min_size(vec2(64.0, 0.0)))
            .on_hover_text(commands.play.hint(ui.ctx()));
        if r.clicked() {
            action = Some(TimelineAction::TogglePlay);
        }
        if command::button(ui, &commands.next, model.current < last) {
            action = Some(TimelineAction::Seek((model.current + 1).min(last)));
        }
        if command::button(ui, &commands.last, model.current < last) {
            action = Some(TimelineAction::Seek(last));
        }
        ui.separator();
        ui.label(
            RichText::new(format!("Frame {} / {}", model.current + 1, model.frame_count))
                .strong()
                .monospace(),
        );
        ui.separator();
        let field = ui.add(
            egui::TextEdit::singleline(&mut state.jump).hint_text("frame").desired_width(64.0),
        );
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if command::button(ui, &video::GO_TO_FRAME, true) || entered {
            match state.jump.trim().parse::<usize>() {
                Ok(n) if (1..=model.frame_count).contains(&n) => {
                    state.jump_error = None;
                    action = Some(TimelineAction::Seek(n - 1));
                }
                _ => {
                    state.jump_error = Some(format!(
                        "`{}` is not a frame number (1–{})",
                        state.jump.trim(),
                        model.frame_count
                    ));
                }
            }
        }
        if let Some(e) = &state.jump_error {
            ui.label(RichText::new(e).color(theme::ERROR));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            legend(ui, theme::TEXT_WEAK, "ready");
            legend(ui, theme::ACCENT, "labels");
            legend(ui, model.color, "keyframe");
        });
    });
    if let Some(seek) = strip(ui, model) {
        action = Some(TimelineAction::Seek(seek));
    }
    action
}

fn legend(ui: &mut Ui, color: Color32, text: &str) {
    ui.label(RichText::new(text).small().color(theme::TEXT_WEAK));
    let (rect, _) = ui.allocate_exact_size(vec2(8.0, 8.0), Sense::hover());
    ui.painter().rect_filled(rect, 2.0, color);
}

fn diamond(center: Pos2, radius: f32) -> Vec<Pos2> {
    vec![
        center + vec2(0.0, -radius),
        center + vec2(radius, 0.0),
        center + vec2(0.0, radius),
        center + vec2(-radius, 0.0),
    ]
}

/// The frame strip; returns the frame to seek to when clicked or dragged.
fn strip(ui: &mut Ui, model: &TimelineModel<'_>) -> Option<usize> {
    let width = ui.available_width();
    let (rect, response) =
        ui.allocate_exact_size(vec2(width, STRIP_HEIGHT + 14.0), Sense::click_and_drag());
    let n = model.frame_count.max(1);
    response.widget_info(|| egui::WidgetInfo::slider(true, (model.current + 1) as f64, "Timeline"));
    let bar = Rect::from_min_max(pos2(rect.left(), rect.top() + 14.0), rect.max);
    let cell = bar.width() / n as f32;
    let x_of = |f: usize| bar.left() + cell * f as f32;
    let painter = ui.painter_at(rect);
    painter.rect_filled(bar, 3.0, theme::CANVAS);
    // Frame numbers: about every 60 points.
    let step = ((60.0 / cell.max(1e-3)).ceil() as usize).max(1);
    let nice = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000]
        .into_iter()
        .find(|s| *s >= step)
        .unwrap_or(step);
    let font = egui::FontId::proportional(10.5);
    let mut f = 0;
    while f < n {
        let x = x_of(f) + cell * 0.5;
        painter.text(
            pos2(x, rect.top()),
            egui::Align2::CENTER_TOP,
            f + 1,
            font.clone(),
            theme::TEXT_WEAK,
        );
        painter.line_segment(
            [pos2(x_of(f), bar.top()), pos2(x_of(f), bar.top() + 4.0)],
            Stroke::new(1.0, theme::LINE),
        );
        f += nice;
    }
    for (i, ready) in model.ready.iter().enumerate().take(n) {
        if *ready {
            let r = Rect::from_min_max(
                pos2(x_of(i), bar.bottom() - 3.0),
                pos2(x_of(i + 1), bar.bottom()),
            );
            painter.rect_filled(r, 0.0, theme::with_alpha(theme::TEXT_WEAK, 0.6));
        }
    }
    for (i, labeled) in model.labeled.iter().enumerate().take(n) {
        if *labeled {
            let r = Rect::from_min_max(
                pos2(x_of(i) + cell * 0.25, bar.top() + 6.0),
                pos2(x_of(i + 1) - cell * 0.25, bar.top() + 9.0),
            )
            .expand2(vec2(if cell < 4.0 { 0.5 } else { 0.0 }, 0.0));
            painter.rect_filled(r, 1.0, theme::with_alpha(theme::ACCENT, 0.8));
        }
    }
    let mid = bar.center().y + 2.0;
    for f in model.present {
        let r = Rect::from_min_max(pos2(x_of(*f), mid - 5.0), pos2(x_of(f + 1), mid + 5.0));
        painter.rect_filled(r, 0.0, theme::with_alpha(model.color, 0.35));
    }
    let radius = (cell * 0.45).clamp(3.0, 6.0);
    for f in model.keyframes {
        let c = pos2(x_of(*f) + cell * 0.5, mid);
        painter.add(egui::Shape::convex_polygon(
            diamond(c, radius),
            model.color,
            Stroke::new(1.0, theme::TEXT_STRONG),
        ));
    }
    let cursor = Rect::from_min_max(
        pos2(x_of(model.current), bar.top()),
        pos2(x_of(model.current + 1).max(x_of(model.current) + 2.0), bar.bottom()),
    );
    painter.rect_stroke(
        cursor,
        1.0,
        Stroke::new(2.0, theme::TEXT_STRONG),
        egui::StrokeKind::Inside,
    );
    if response.hovered()
        && let Some(p) = response.hover_pos()
    {
        let f = (((p.x - bar.left()) / cell).floor().max(0.0) as usize).min(n - 1);
        response.clone().on_hover_text(format!("Frame {}", f + 1));
    }
    let pressed = response.clicked() || response.dragged();
    let pos = response.interact_pointer_pos();
    match (pressed, pos) {
        (true, Some(p)) => {
            let f = (((p.x - bar.left()) / cell).floor().max(0.0) as usize).min(n - 1);
            (f != model.current).then_some(f)
        }
        _ => None,
    }
}
