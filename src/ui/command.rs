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
