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
            Some(s) => format!("{} ({})", self.label, shortcut_text(ctx, &s)),
            None => self.label.to_owned(),
        }
    }

    /// True when its shortcut was pressed this frame (and consumes it).
    pub fn pressed(&self, ctx: &egui::Context) -> bool {
        self.shortcut.is_some_and(|s| ctx.input_mut(|i| i.consume_shortcut(&s)))
    }
}

/// A shortcut as the user reads it (`Ctrl+Z`, `[`), with egui's key names for brackets and
/// signs replaced by the characters on the key.
pub fn shortcut_text(ctx: &egui::Context, shortcut: &KeyboardShortcut) -> String {
    let text = ctx.format_shortcut(shortcut);
    [("OpenBracket", "["), ("CloseBracket", "]"), ("Plus", "+"), ("Minus", "−"), ("Equals", "=")]
        .iter()
        .fold(text, |t, (name, key)| t.replace(name, key))
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

/// Commands of the 3D point-cloud segmentation screen ([`crate::ui::task::segment3d`]).
pub mod segment3d {
    use super::{Command, key};
    use egui::Key;

    const GROUP: &str = "3D segmentation";

    const fn cmd(label: &'static str, shortcut: Key) -> Command {
        Command { id: label, label, shortcut: key(shortcut), group: GROUP }
    }

    /// Paint the points under a circle around the cursor.
    pub const TOOL_BRUSH: Command = cmd("Brush", Key::B);
    /// Paint the points inside a drawn outline.
    pub const TOOL_LASSO: Command = cmd("Lasso", Key::L);
    /// Erase points back to unlabeled.
    pub const TOOL_ERASER: Command = cmd("Eraser", Key::E);
    /// Paint only points that have no label yet ("background paint").
    pub const ONLY_UNPAINTED: Command = cmd("Paint only unpainted points", Key::U);
    /// Paint only the points in front, not those hidden behind them.
    pub const VISIBLE_ONLY: Command = cmd("Paint visible points only", Key::V);
    /// Show only the points of the active label.
    pub const SHOW_ONE_CLASS: Command = cmd("Show only the active label", Key::O);
    /// Smaller brush (also Alt + wheel).
    pub const BRUSH_SMALLER: Command = cmd("Smaller brush", Key::OpenBracket);
    /// Larger brush (also Alt + wheel).
    pub const BRUSH_LARGER: Command = cmd("Larger brush", Key::CloseBracket);

    /// Every command of the screen, in display order. Mouse: the primary button paints with the
    /// active tool, the secondary button orbits, Shift + secondary or the middle button pans, the
    /// wheel zooms, Alt + wheel sizes the brush.
    pub const ALL: &[Command] = &[
        TOOL_BRUSH,
        TOOL_LASSO,
        TOOL_ERASER,
        ONLY_UNPAINTED,
        VISIBLE_ONLY,
        SHOW_ONE_CLASS,
        BRUSH_SMALLER,
        BRUSH_LARGER,
    ];
}

/// Commands of video-frame tasks ([`crate::ui::task::video`] and its timeline).
pub mod video {
    use super::{Command, key};
    use egui::{Key, KeyboardShortcut, Modifiers};

    const GROUP: &str = "Video";

    const fn cmd(label: &'static str, shortcut: Option<KeyboardShortcut>) -> Command {
        Command { id: label, label, shortcut, group: GROUP }
    }

    const fn shift(k: Key) -> Option<KeyboardShortcut> {
        Some(KeyboardShortcut::new(Modifiers::SHIFT, k))
    }

    /// Starts or stops playing the sequence.
    pub const PLAY: Command = cmd("Play / pause", key(Key::Space));
    /// The next frame.
    pub const NEXT_FRAME: Command = cmd("Next frame", key(Key::ArrowRight));
    /// The previous frame.
    pub const PREVIOUS_FRAME: Command = cmd("Previous frame", key(Key::ArrowLeft));
    /// The first frame.
    pub const FIRST_FRAME: Command = cmd("First frame", key(Key::Home));
    /// The last frame.
    pub const LAST_FRAME: Command = cmd("Last frame", key(Key::End));
    /// The selected instance's next keyframe.
    pub const NEXT_KEYFRAME: Command = cmd("Next keyframe", shift(Key::ArrowRight));
    /// The selected instance's previous keyframe.
    pub const PREVIOUS_KEYFRAME: Command = cmd("Previous keyframe", shift(Key::ArrowLeft));
    /// Jumps to the frame typed in the timeline's field.
    pub const GO_TO_FRAME: Command = cmd("Go to frame", None);
    /// Predicts the selected box (or every box) on the next frame.
    pub const PREDICT_NEXT: Command = cmd("Predict next", key(Key::P));
    /// Copies the selected shape (or every shape) to the next frame.
    pub const COPY_TO_NEXT: Command = cmd("Copy to next", key(Key::C));
    /// Copies the selected shape (or every shape) to every following frame.
    pub const COPY_TO_ALL: Command = cmd("Copy to all", shift(Key::C));
    /// Deletes the selected instance's shape on this frame.
    pub const DELETE_SHAPE: Command = cmd("Delete on this frame", key(Key::Delete));
    /// Deletes the selected instance on every frame.
    pub const DELETE_INSTANCE: Command = cmd("Delete instance", shift(Key::Delete));
    /// Deletes the selected instance on the frames typed in the range field.
    pub const DELETE_RANGE: Command = cmd("Delete in frames", None);
    /// Copies the instance's attribute values on this frame to the frames typed.
    pub const APPLY_ATTRIBUTES: Command = cmd("Apply attributes to frames", None);
    /// Copies this frame's frame attributes to the frames typed.
    pub const APPLY_FRAME_ATTRIBUTES: Command = cmd("Apply frame attributes to frames", None);
    /// Selects the next instance on this frame.
    pub const NEXT_INSTANCE: Command = cmd("Select next instance", key(Key::Tab));

    /// Every video command, in display order.
    pub const ALL: &[Command] = &[
        PLAY,
        NEXT_FRAME,
        PREVIOUS_FRAME,
        FIRST_FRAME,
        LAST_FRAME,
        NEXT_KEYFRAME,
        PREVIOUS_KEYFRAME,
        GO_TO_FRAME,
        PREDICT_NEXT,
        COPY_TO_NEXT,
        COPY_TO_ALL,
        DELETE_SHAPE,
        DELETE_INSTANCE,
        DELETE_RANGE,
        APPLY_ATTRIBUTES,
        APPLY_FRAME_ATTRIBUTES,
        NEXT_INSTANCE,
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

/// Every command of the app, by group, in the order the shortcuts panel lists them.
pub mod all {
    use super::{Command, ctrl, ctrl_shift, key};
    use egui::Key;

    const fn cmd(
        label: &'static str,
        shortcut: Option<egui::KeyboardShortcut>,
        group: &'static str,
    ) -> Command {
        Command { id: label, label, shortcut, group }
    }

    // --- home ---
    /// Claims the next task of the selected job (or resumes one this worker holds).
    pub const START_WORKING: Command = cmd("Start working", key(Key::Enter), "Home");
    /// Re-reads jobs and their progress.
    pub const REFRESH: Command = cmd("Refresh", key(Key::F5), "Home");
    /// Opens the workspace typed in the workspace panel.
    pub const OPEN_WORKSPACE: Command = cmd("Open workspace", None, "Home");

    // --- task ---
    /// Submits the answer through the outbox.
    pub const SUBMIT: Command = cmd("Submit", ctrl(Key::Enter), "Task");
    /// Leaves the task, keeping the claim and the draft, to continue later.
    pub const STOP_AND_RESUME: Command = cmd("Stop and resume later", ctrl(Key::Q), "Task");
    /// Gives the task back for anyone (including this worker) to take.
    pub const RELEASE: Command = cmd("Release task", None, "Task");
    /// Declines the task: this worker never gets the object again.
    pub const DECLINE: Command = cmd("Decline task", None, "Task");

    // --- edit ---
    /// Undoes the last edit.
    pub const UNDO: Command = cmd("Undo", ctrl(Key::Z), "Edit");
    /// Redoes the last undone edit.
    pub const REDO: Command = cmd("Redo", ctrl_shift(Key::Z), "Edit");
    /// Deletes the selected shape.
    pub const DELETE: Command = cmd("Delete shape", key(Key::Delete), "Edit");
    /// Cancels the shape being drawn, or clears the selection.
    pub const CANCEL: Command = cmd("Cancel / deselect", key(Key::Escape), "Edit");
    /// Finishes the polygon or polyline being drawn.
    pub const FINISH_SHAPE: Command = cmd("Finish shape", key(Key::Enter), "Edit");
    /// Selects the next shape.
    pub const NEXT_SHAPE: Command = cmd("Select next shape", key(Key::Tab), "Edit");

    // --- tools ---
    /// Select, move and resize shapes.
    pub const TOOL_SELECT: Command = cmd("Select", key(Key::V), "Tools");
    /// Draw a new shape of the task's kind.
    pub const TOOL_DRAW: Command = cmd("Draw", key(Key::D), "Tools");
    /// Pan the image with the primary button.
    pub const TOOL_PAN: Command = cmd("Pan", key(Key::H), "Tools");
    /// Paint the active label into the mask.
    pub const TOOL_BRUSH: Command = cmd("Brush", key(Key::B), "Tools");
    /// Erase the mask back to background.
    pub const TOOL_ERASER: Command = cmd("Eraser", key(Key::E), "Tools");
    /// Click vertices, then fill the polygon with the active label.
    pub const TOOL_FILL: Command = cmd("Polygon fill", key(Key::P), "Tools");
    /// Smaller brush.
    pub const BRUSH_SMALLER: Command = cmd("Smaller brush", key(Key::OpenBracket), "Tools");
    /// Larger brush.
    pub const BRUSH_LARGER: Command = cmd("Larger brush", key(Key::CloseBracket), "Tools");

    // --- view ---
    /// Fits the image to the viewport.
    pub const FIT: Command = cmd("Fit image", key(Key::F), "View");
    /// Zooms in around the centre.
    pub const ZOOM_IN: Command = cmd("Zoom in", key(Key::Plus), "View");
    /// Zooms out around the centre.
    pub const ZOOM_OUT: Command = cmd("Zoom out", key(Key::Minus), "View");
    /// Resets brightness and contrast.
    pub const RESET_ADJUST: Command = cmd("Reset brightness and contrast", key(Key::R), "View");
    /// Shows or hides the shortcuts panel.
    pub const SHORTCUTS: Command = cmd("Shortcuts", key(Key::F1), "View");
    /// Shows the full instructions.
    pub const INSTRUCTIONS: Command = cmd("Full instructions", key(Key::F2), "View");

    /// The number keys that choose label 1–10 (`1`…`9`, `0`).
    pub const LABEL_KEYS: [Key; 10] = [
        Key::Num1,
        Key::Num2,
        Key::Num3,
        Key::Num4,
        Key::Num5,
        Key::Num6,
        Key::Num7,
        Key::Num8,
        Key::Num9,
        Key::Num0,
    ];

    /// Every command, grouped, in display order.
    pub const ALL: &[Command] = &[
        START_WORKING,
        REFRESH,
        OPEN_WORKSPACE,
        SUBMIT,
        STOP_AND_RESUME,
        RELEASE,
        DECLINE,
        UNDO,
        REDO,
        DELETE,
        CANCEL,
        FINISH_SHAPE,
        NEXT_SHAPE,
        TOOL_SELECT,
        TOOL_DRAW,
        TOOL_PAN,
        TOOL_BRUSH,
        TOOL_ERASER,
        TOOL_FILL,
        BRUSH_SMALLER,
        BRUSH_LARGER,
        FIT,
        ZOOM_IN,
        ZOOM_OUT,
        RESET_ADJUST,
        SHORTCUTS,
        INSTRUCTIONS,
    ];
}

/// The shortcut of label `index` (0-based), if it has one.
pub fn label_shortcut(index: usize) -> Option<KeyboardShortcut> {
    all::LABEL_KEYS.get(index).map(|k| KeyboardShortcut::new(Modifiers::NONE, *k))
}

/// True when the shortcut of label `index` was pressed this frame (and consumes it).
pub fn label_pressed(ctx: &egui::Context, index: usize) -> bool {
    label_shortcut(index).is_some_and(|s| ctx.input_mut(|i| i.consume_shortcut(&s)))
}

/// A button for `command`: its label, its shortcut in the tooltip, `enabled` or greyed out.
/// Returns true when clicked.
pub fn button(ui: &mut egui::Ui, command: &Command, enabled: bool) -> bool {
    let hint = command.hint(ui.ctx());
    ui.add_enabled(enabled, egui::Button::new(command.label)).on_hover_text(hint).clicked()
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
    Command { id: "monitor.refresh", label: "Refresh jobs", shortcut: key(Key::F5), group: "Jobs" };

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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::all::ALL;

    /// No two commands of one group share a shortcut, and labels are unique (they are
    /// accessible names).
    #[test]
    fn shortcuts_and_labels_are_unique() {
        let mut labels = HashSet::new();
        let mut shortcuts = HashSet::new();
        for c in ALL {
            assert!(labels.insert(c.label), "label {} twice", c.label);
            if let Some(s) = c.shortcut {
                assert!(
                    shortcuts.insert((c.group, s)),
                    "{} reuses a shortcut in {}",
                    c.label,
                    c.group
                );
            }
        }
    }
}

/// Commands of the 3D cuboid task screen ([`crate::ui::task::cloud`]), Ground Truth's shortcuts
/// where spec §10.2 names them. Arrow keys move the selected cuboid (the camera without one),
/// Q/E lower/raise it, A/D turn it, W/S zoom; Shift takes larger steps.
pub mod cuboid {
    use super::{Command, ctrl, key};
    use egui::{Key, KeyboardShortcut, Modifiers};

    const GROUP: &str = "Cuboids";

    const fn cmd(label: &'static str, shortcut: Option<KeyboardShortcut>) -> Command {
        Command { id: label, label, shortcut, group: GROUP }
    }

    const fn alt(k: Key) -> Option<KeyboardShortcut> {
        Some(KeyboardShortcut::new(Modifiers::ALT, k))
    }

    const fn shift(k: Key) -> Option<KeyboardShortcut> {
        Some(KeyboardShortcut::new(Modifiers::SHIFT, k))
    }

    /// Places a new cuboid with two clicks (back and front of the object).
    pub const NEW: Command = cmd("New cuboid", key(Key::N));
    /// Snaps the selected cuboid to the points it encloses.
    pub const FIT: Command = cmd("Fit to points", alt(Key::O));
    /// Rests the selected cuboid on the ground.
    pub const GROUND: Command = cmd("Set to ground", alt(Key::G));
    /// Hides or shows the ground points.
    pub const TOGGLE_GROUND: Command = cmd("Hide ground", key(Key::G));
    /// Deletes the selected object in this frame.
    pub const DELETE: Command = cmd("Delete in this frame", key(Key::Delete));
    /// Deletes the selected object in every frame.
    pub const DELETE_ALL: Command = cmd("Delete in all frames", shift(Key::Delete));
    /// Deletes the selected object in the frames before this one.
    pub const DELETE_PREVIOUS: Command = cmd("Delete in previous frames", None);
    /// Deletes the selected object in the frames after this one.
    pub const DELETE_NEXT: Command = cmd("Delete in next frames", None);
    /// Copies the selected cuboid to the next frame.
    pub const COPY_NEXT: Command = cmd("Copy to next frame", ctrl(Key::Period));
    /// Makes this frame a keyframe of the selected object (or an interpolated frame again).
    pub const KEYFRAME: Command = cmd("Toggle keyframe", key(Key::K));
    /// Selects the previous object.
    pub const PREVIOUS_LABEL: Command = cmd("Previous label", key(Key::OpenBracket));
    /// Selects the next object.
    pub const NEXT_LABEL: Command = cmd("Next label", key(Key::CloseBracket));
    /// The previous frame.
    pub const PREVIOUS_FRAME: Command = cmd("Previous frame", key(Key::Comma));
    /// The next frame.
    pub const NEXT_FRAME: Command = cmd("Next frame", key(Key::Period));
    /// The first frame.
    pub const FIRST_FRAME: Command = cmd("First frame", key(Key::Home));
    /// The last frame.
    pub const LAST_FRAME: Command = cmd("Last frame", key(Key::End));
    /// Plays the sequence (or pauses it).
    pub const PLAY: Command = cmd("Play / pause", key(Key::Space));
    /// Frames the selected cuboid in the 3D view.
    pub const FOCUS: Command = cmd("Focus selection", key(Key::Z));
    /// Next point colour mode.
    pub const COLOR_MODE: Command = cmd("Next colour mode", key(Key::C));
    /// Projects the points onto the camera image.
    pub const CAMERA_POINTS: Command = cmd("Points in image", key(Key::P));
    /// Shows the cuboids in the camera image.
    pub const CAMERA_CUBOIDS: Command = cmd("Cuboids in image", key(Key::B));
    /// Shows the selected camera's field of view in the 3D view.
    pub const CAMERA_FRUSTUM: Command = cmd("Camera in 3D view", None);
    /// Sets the camera box from the selected cuboid's projection (3D-2D linking).
    pub const BOX_FROM_CUBOID: Command = cmd("Box from cuboid", None);
    /// Cancels creation or clears the selection.
    pub const CANCEL: Command = cmd("Cancel / deselect", key(Key::Escape));

    /// Every cuboid command, in display order.
    pub const ALL: &[Command] = &[
        NEW,
        FIT,
        GROUND,
        TOGGLE_GROUND,
        DELETE,
        DELETE_ALL,
        DELETE_PREVIOUS,
        DELETE_NEXT,
        COPY_NEXT,
        KEYFRAME,
        PREVIOUS_LABEL,
        NEXT_LABEL,
        PREVIOUS_FRAME,
        NEXT_FRAME,
        FIRST_FRAME,
        LAST_FRAME,
        PLAY,
        FOCUS,
        COLOR_MODE,
        CAMERA_POINTS,
        CAMERA_CUBOIDS,
        CAMERA_FRUSTUM,
        BOX_FROM_CUBOID,
        CANCEL,
    ];
}
