//! A review-only eframe app (`groundwork view FILE`): one window showing
//! [`crate::ui::review::ReviewScreen`] on a point cloud, image or point-cloud sequence.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;

use crate::ui::review::{ReviewInput, ReviewScreen};
use crate::ui::theme;
use crate::ui::viewport3d::Viewport3dGpu;

/// The review window's app.
#[derive(Debug)]
pub struct ReviewApp {
    screen: ReviewScreen,
    title_sent: bool,
}

impl ReviewApp {
    /// Creates the app inside eframe (or egui_kittest): applies the theme, builds the renderers
    /// on eframe's wgpu device and starts loading `input`.
    ///
    /// # Errors
    /// eframe runs without wgpu (the glow renderer).
    pub fn new(cc: &eframe::CreationContext<'_>, input: ReviewInput) -> anyhow::Result<Self> {
        theme::apply(&cc.egui_ctx);
        let render_state = cc
            .wgpu_render_state
            .as_ref()
            .context("the review window needs eframe's wgpu renderer")?;
        let gpu: Arc<Viewport3dGpu> = Viewport3dGpu::new(render_state);
        Ok(Self { screen: ReviewScreen::new(&cc.egui_ctx, gpu, input), title_sent: false })
    }

    /// The screen (for tests and embedding).
    pub fn screen(&self) -> &ReviewScreen {
        &self.screen
    }

    /// The screen, mutably.
    pub fn screen_mut(&mut self) -> &mut ReviewScreen {
        &mut self.screen
    }
}

impl eframe::App for ReviewApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        if !self.title_sent {
            let title = format!("{} — Groundwork", self.screen.title());
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Title(title));
            self.title_sent = true;
        }
        self.screen.ui(ui);
    }
}

/// Opens a native window reviewing the file at `path` and returns when it is closed.
///
/// # Errors
/// The window or the GPU device could not be created.
pub fn run_review(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        anyhow::bail!("{}: no such file", path.display());
    }
    let name =
        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(format!("{name} — Groundwork"))
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([640.0, 400.0]),
        renderer: eframe::Renderer::Wgpu,
        ..eframe::NativeOptions::default()
    };
    let input = ReviewInput::File(path.to_path_buf());
    eframe::run_native(
        "groundwork-review",
        options,
        Box::new(move |cc| Ok(Box::new(ReviewApp::new(cc, input)?) as Box<dyn eframe::App>)),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the review window: {e}"))
}
