//! Every user action, with its label and keyboard shortcut, listed in one place so menus, buttons,
//! tooltips and the shortcuts panel all agree. Views add their commands here; nothing else
//! defines a shortcut.

use egui::{Key, KeyboardShortcut, Modifiers};

/// A user action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Command {
    /// Stable identifier (also the AccessKit label of its button).
    pub id: &'static str,
    /// What the user sees.
    pub label: &'static str,
    /// Its shortcut, if any.
    pub shortcut: Option<KeyboardShortcut>,
    /// Where it applies (for grouping in the shortcuts panel).
    pub group: &'static str,
}

impl Command {
    /// `label (shortcut)` for tooltips.
    pub fn hint(&self, ctx: &egui::Context) -> String {
        match self.shortcut {
            Some(s) => format!("{} ({})", self.label, ctx.format_shortcut(&s)),
            None => self.label.to_owned(),
        }
    }

    /// True when its shortcut was pressed this frame (and consumes it).
    pub fn pressed(&self, ctx: &egui::Context) -> bool {
        self.shortcut.is_some_and(|s| ctx.input_mut(|i| i.consume_shortcut(&s)))
    }
}

/// Commands of the 3D viewport ([`crate::ui::viewport3d`]) and the review screen
/// ([`crate::ui::review`]). Number keys 1–4 choose the standard views there.
pub mod viewport {
    use super::{Command, key};
    use egui::Key;

    const GROUP: &str = "3D view";

    const fn cmd(id: &'static str, label: &'static str, shortcut: Key) -> Command {
        Command { id, label, shortcut: key(shortcut), group: GROUP }
    }

    /// Looks straight down, north up (orthographic).
    pub const VIEW_TOP: Command = cmd("Top", "Top", Key::Num1);
    /// Looks along +y at the side (orthographic).
    pub const VIEW_SIDE: Command = cmd("Side", "Side", Key::Num2);
    /// Looks along −x at the front (orthographic).
    pub const VIEW_FRONT: Command = cmd("Front", "Front", Key::Num3);
    /// The perspective three-quarter view.
    pub const VIEW_ORBIT: Command = cmd("Orbit", "Orbit", Key::Num4);
    /// Frames the whole cloud, keeping the viewing direction.
    pub const FIT: Command = cmd("Fit", "Fit", Key::F);
    /// Larger points.
    pub const POINTS_LARGER: Command = cmd("Larger points", "Larger points", Key::CloseBracket);
    /// Smaller points.
    pub const POINTS_SMALLER: Command = cmd("Smaller points", "Smaller points", Key::OpenBracket);
    /// Next colour mode (height, intensity, RGB, classification).
    pub const NEXT_COLOR_MODE: Command = cmd("Next colour mode", "Next colour mode", Key::C);
    /// Next frame of a sequence.
    pub const NEXT_FRAME: Command = cmd("Next frame", "Next frame", Key::ArrowRight);
    /// Previous frame of a sequence.
    pub const PREVIOUS_FRAME: Command = cmd("Previous frame", "Previous frame", Key::ArrowLeft);

    /// Every viewport command, in display order. Mouse: left drag orbits, right or middle drag
    /// (or Shift + left drag) pans, the wheel zooms about the cursor, W A S D Q E fly while the
    /// right button is held, a click picks the point under the cursor.
    pub const ALL: &[Command] = &[
        VIEW_TOP,
        VIEW_SIDE,
        VIEW_FRONT,
        VIEW_ORBIT,
        FIT,
        POINTS_LARGER,
        POINTS_SMALLER,
        NEXT_COLOR_MODE,
        NEXT_FRAME,
        PREVIOUS_FRAME,
    ];
}

/// A shortcut with no modifier.
pub const fn key(k: Key) -> Option<KeyboardShortcut> {
    Some(KeyboardShortcut::new(Modifiers::NONE, k))
}

/// A shortcut with Ctrl (Cmd on macOS).
pub const fn ctrl(k: Key) -> Option<KeyboardShortcut> {
    Some(KeyboardShortcut::new(Modifiers::COMMAND, k))
}

/// A shortcut with Ctrl+Shift (Cmd+Shift on macOS).
pub const fn ctrl_shift(k: Key) -> Option<KeyboardShortcut> {
    Some(KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), k))
}
