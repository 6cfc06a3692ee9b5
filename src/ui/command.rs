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

/// Wizard: the next step.
pub const WIZARD_NEXT: Command = Command {
    id: "wizard.next",
    label: "Next",
    shortcut: ctrl(Key::PageDown),
    group: "Job wizard",
};

/// Wizard: the previous step.
pub const WIZARD_BACK: Command =
    Command { id: "wizard.back", label: "Back", shortcut: ctrl(Key::PageUp), group: "Job wizard" };

/// Wizard: create the job.
pub const WIZARD_CREATE: Command = Command {
    id: "wizard.create",
    label: "Create job",
    shortcut: ctrl(Key::Enter),
    group: "Job wizard",
};

/// Wizard: leave without creating.
pub const WIZARD_CANCEL: Command =
    Command { id: "wizard.cancel", label: "Cancel", shortcut: None, group: "Job wizard" };

/// Monitor: read every job's status again.
pub const MONITOR_REFRESH: Command =
    Command { id: "monitor.refresh", label: "Refresh", shortcut: key(Key::F5), group: "Jobs" };

/// Monitor: ask the selected job to stop.
pub const MONITOR_STOP: Command =
    Command { id: "monitor.stop", label: "Stop job", shortcut: None, group: "Jobs" };

/// Monitor: show the selected job's output manifest.
pub const MONITOR_OPEN_OUTPUT: Command = Command {
    id: "monitor.open-output",
    label: "Open output manifest",
    shortcut: None,
    group: "Jobs",
};

/// Monitor: an adjustment job of the selected job's output.
pub const MONITOR_CHAIN_ADJUST: Command = Command {
    id: "monitor.chain-adjust",
    label: "Create adjustment job from this output",
    shortcut: None,
    group: "Jobs",
};

/// Monitor: a verification job of the selected job's output.
pub const MONITOR_CHAIN_VERIFY: Command = Command {
    id: "monitor.chain-verify",
    label: "Create verification job from this output",
    shortcut: None,
    group: "Jobs",
};

/// The wizard's and the monitor's commands, for the shortcuts panel.
pub const JOB_AUTHORING_COMMANDS: [Command; 9] = [
    WIZARD_NEXT,
    WIZARD_BACK,
    WIZARD_CREATE,
    WIZARD_CANCEL,
    MONITOR_REFRESH,
    MONITOR_STOP,
    MONITOR_OPEN_OUTPUT,
    MONITOR_CHAIN_ADJUST,
    MONITOR_CHAIN_VERIFY,
];
