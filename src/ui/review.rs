//! The local-review screen (`groundwork view FILE`): a point cloud in the 3D viewport with a side
//! panel (colour mode, point size, views, point budget, statistics with the classification
//! histogram, the picked point) and a status bar; an image in a 2D pan/zoom view; a Ground Truth
//! point-cloud sequence file or manifest stepped through frame by frame in the same viewport.
//!
//! Loading never blocks the UI: point clouds stream in on a worker thread
//! ([`crate::render::stream`]), LAS/LAZ piece by piece as they decode; images decode and upload
//! on a worker thread too.
//!
//! Must not depend on `app`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use egui::{Align, Color32, Layout, RichText, Sense, Ui};
use nalgebra::{Point2, Vector2};

use super::command::{Command, viewport as commands};
use super::theme;
use super::viewport3d::{PickHit, Viewport3d, Viewport3dGpu};
use crate::formats::manifest::{DataSource, ManifestLine};
use crate::formats::point_cloud::asprs::class_name;
use crate::formats::point_cloud::{CloudFormat, PointCloud, RawFormat};
use crate::formats::sequence::{PointCloudFrameLine, PointCloudSequence};
use crate::geometry::{ImageView2d, Viewport};
use crate::render::TargetFormat;
use crate::render::context::describe_adapter;
use crate::render::image::{
    GpuImage, ImageDrawView, ImageRenderer, ImageSampling, ImageUploadOptions,
};
use crate::render::points::{ColorBy, GpuPointCloud, asprs_classification_palette};
use crate::render::stream::{CloudStream, StreamEvent, StreamOptions, StreamSource, StreamedCloud};

/// What to review.
#[derive(Debug, Clone)]
pub enum ReviewInput {
    /// A file: a point cloud (LAS, LAZ, PCD, PLY, KITTI, Ground Truth raw), an image (PNG, JPEG),
    /// or a point-cloud sequence file / manifest (`.json`, `.manifest`, `.jsonl`).
    File(PathBuf),
    /// A cloud already in memory.
    Cloud {
        /// What to call it.
        name: String,
        /// The points.
        cloud: PointCloud,
    },
}

/// The review screen. Call [`ReviewScreen::ui`] every frame.
#[derive(Debug)]
pub struct ReviewScreen {
    title: String,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Cloud(Box<CloudPane>),
    Image(Box<ImagePane>),
    Failed(String),
}

impl ReviewScreen {
    /// Opens `input`; loading starts at once on worker threads.
    pub fn new(ctx: &egui::Context, gpu: Arc<Viewport3dGpu>, input: ReviewInput) -> Self {
        match input {
            ReviewInput::Cloud { name, cloud } => Self {
                body: Body::Cloud(Box::new(CloudPane::new(
                    ctx,
                    gpu,
                    vec![FrameRef { source: FrameSource::Memory(cloud), label: name.clone() }],
                ))),
                title: name,
            },
            ReviewInput::File(path) => {
                let title = path
                    .file_name()
                    .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
                let body = match kind_of(&path) {
                    FileKind::Image => Body::Image(Box::new(ImagePane::new(ctx, &gpu, &path))),
                    FileKind::Sequence => match read_frames(&path) {
                        Ok(frames) => Body::Cloud(Box::new(CloudPane::new(ctx, gpu, frames))),
                        Err(message) => Body::Failed(message),
                    },
                    FileKind::Cloud => {
                        let frame = FrameRef {
                            source: FrameSource::File(path.clone(), None),
                            label: title.clone(),
                        };
                        Body::Cloud(Box::new(CloudPane::new(ctx, gpu, vec![frame])))
                    }
                };
                Self { title, body }
            }
        }
    }

    /// The window title (the file's name).
    pub fn title(&self) -> &str {
        &self.title
    }

    /// True once everything is loaded (or loading failed).
    pub fn is_loaded(&self) -> bool {
        match &self.body {
            Body::Cloud(pane) => pane.done.is_some() || pane.error.is_some(),
            Body::Image(pane) => pane.image.is_some() || pane.error.is_some(),
            Body::Failed(_) => true,
        }
    }

    /// The error that stopped loading, if any.
    pub fn error(&self) -> Option<&str> {
        match &self.body {
            Body::Cloud(pane) => pane.error.as_deref(),
            Body::Image(pane) => pane.error.as_deref(),
            Body::Failed(message) => Some(message),
        }
    }

    /// The 3D viewport (point clouds and sequences).
    pub fn viewport(&self) -> Option<&Viewport3d> {
        match &self.body {
            Body::Cloud(pane) => Some(&pane.viewport),
            _ => None,
        }
    }

    /// The 3D viewport, mutably.
    pub fn viewport_mut(&mut self) -> Option<&mut Viewport3d> {
        match &mut self.body {
            Body::Cloud(pane) => Some(&mut pane.viewport),
            _ => None,
        }
    }

    /// The loaded cloud (current frame of a sequence), once complete.
    pub fn cloud(&self) -> Option<&StreamedCloud> {
        match &self.body {
            Body::Cloud(pane) => pane.done.as_ref(),
            _ => None,
        }
    }

    /// The current frame and the frame count (1 for a single file).
    pub fn frame_position(&self) -> Option<(usize, usize)> {
        match &self.body {
            Body::Cloud(pane) => Some((pane.frame_index, pane.frames.len())),
            _ => None,
        }
    }

    /// Draws the screen and handles its input.
    pub fn ui(&mut self, ui: &mut Ui) {
        match &mut self.body {
            Body::Cloud(pane) => pane.ui(ui),
            Body::Image(pane) => pane.ui(ui),
            Body::Failed(message) => {
                egui::CentralPanel::default().show(ui, |ui| {
                    ui.vertical_centered(|ui| {
                        ui.add_space(theme::SPACE * 8.0);
                        ui.label(RichText::new(message.as_str()).color(theme::ERROR));
                    });
                });
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Cloud,
    Image,
    Sequence,
}

fn kind_of(path: &Path) -> FileKind {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("png" | "jpg" | "jpeg") => FileKind::Image,
        Some("json" | "manifest" | "jsonl") => FileKind::Sequence,
        _ => FileKind::Cloud,
    }
}

/// One frame to show.
#[derive(Debug, Clone)]
struct FrameRef {
    source: FrameSource,
    label: String,
}

#[derive(Debug, Clone)]
enum FrameSource {
    /// A file, in the format its metadata names (else detected).
    File(PathBuf, Option<CloudFormat>),
    /// In memory.
    Memory(PointCloud),
}

/// Reads the frames of a point-cloud sequence file, or of an input manifest whose lines name
/// point-cloud frames (`source-ref` + `source-ref-metadata`) or sequence files.
fn read_frames(path: &Path) -> Result<Vec<FrameRef>, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut frames = Vec::new();
    if let Ok(sequence) = PointCloudSequence::parse(&text, &name) {
        push_sequence(&sequence, base, &mut frames);
    } else {
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let line_no = i + 1;
            let parsed =
                ManifestLine::parse_line(line, &name, line_no).map_err(|e| e.to_string())?;
            let DataSource::SourceRef(source_ref) = &parsed.source else {
                return Err(format!("{name}:{line_no}: a point-cloud line needs `source-ref`"));
            };
            if source_ref.to_ascii_lowercase().ends_with(".json") {
                let seq_path = resolve(source_ref, None, base)
                    .ok_or_else(|| format!("{name}:{line_no}: {source_ref} not found locally"))?;
                let seq_name = seq_path.display().to_string();
                let seq_text =
                    std::fs::read_to_string(&seq_path).map_err(|e| format!("{seq_name}: {e}"))?;
                let sequence =
                    PointCloudSequence::parse(&seq_text, &seq_name).map_err(|e| e.to_string())?;
                push_sequence(&sequence, seq_path.parent().unwrap_or(base), &mut frames);
            } else {
                let frame = PointCloudFrameLine::from_manifest_line(&parsed, &name, Some(line_no))
                    .map_err(|e| e.to_string())?;
                let format = raw_format(frame.metadata.format.as_deref());
                let path = resolve(source_ref, None, base).unwrap_or_else(|| base.join(source_ref));
                frames.push(FrameRef {
                    source: FrameSource::File(path, format),
                    label: file_label(source_ref),
                });
            }
        }
    }
    if frames.is_empty() {
        return Err(format!("{name}: no point-cloud frames in this file"));
    }
    Ok(frames)
}

fn push_sequence(sequence: &PointCloudSequence, base: &Path, frames: &mut Vec<FrameRef>) {
    for frame in &sequence.frames {
        let path = resolve(&frame.frame, Some(&sequence.prefix), base)
            .unwrap_or_else(|| base.join(&frame.frame));
        frames.push(FrameRef {
            source: FrameSource::File(path, raw_format(frame.metadata.format.as_deref())),
            label: file_label(&frame.frame),
        });
    }
}

/// Ground Truth's `format` value (`binary/xyzi`, …) as a cloud format.
fn raw_format(format: Option<&str>) -> Option<CloudFormat> {
    let value = serde_json::Value::String(format?.to_owned());
    serde_json::from_value::<RawFormat>(value).ok().map(CloudFormat::Raw)
}

fn file_label(reference: &str) -> String {
    reference.rsplit('/').next().unwrap_or(reference).to_owned()
}

/// Finds a referenced file locally: as given (with the prefix when it is a local folder), then
/// relative to `base`, then by its file name in `base` (an `s3://` reference next to its manifest).
fn resolve(reference: &str, prefix: Option<&str>, base: &Path) -> Option<PathBuf> {
    let full = match prefix {
        Some(prefix) if !prefix.contains("://") => format!("{prefix}{reference}"),
        _ => reference.to_owned(),
    };
    let mut candidates = Vec::new();
    if !full.contains("://") {
        candidates.push(PathBuf::from(&full));
        candidates.push(base.join(&full));
    }
    candidates.push(base.join(reference));
    candidates.push(base.join(file_label(reference)));
    candidates.into_iter().find(|p| p.is_file())
}

/// A point cloud (or a sequence of them) in the 3D viewport.
#[derive(Debug)]
struct CloudPane {
    gpu: Arc<Viewport3dGpu>,
    ctx: egui::Context,
    viewport: Viewport3d,
    stream: Option<CloudStream>,
    frames: Vec<FrameRef>,
    frame_index: usize,
    declared: Option<u64>,
    loaded_points: u64,
    first_points_secs: Option<f64>,
    done: Option<StreamedCloud>,
    error: Option<String>,
    /// The camera was fitted to data (once per pane: frames of a sequence keep the view).
    fitted: bool,
    /// The fit used partial data (a first piece) and should be redone on completion.
    provisional_fit: bool,
    picked: Option<PickHit>,
    /// Streamed pieces received but not yet drawn, and when pieces were last drawn.
    pending_pieces: Vec<Arc<GpuPointCloud>>,
    pieces_shown_at: Option<Instant>,
}

/// How often a streaming load redraws. `pieces`: new pieces join the drawn scene at most this
/// often (the first one at once), since every change of the scene redraws all of it; `progress`:
/// the status bar's progress repaints at most this often. On a GPU both are cheap; on a software
/// rasterizer (a CPU adapter) a redraw costs as much as decoding and takes the decoder's cores (a
/// redraw per piece made a 10M-point LAZ load 30 s instead of 4 s on two cores).
struct LoadPacing {
    pieces: Duration,
    progress: Duration,
}

impl LoadPacing {
    fn of(adapter: &wgpu::AdapterInfo) -> Self {
        if adapter.device_type == wgpu::DeviceType::Cpu {
            Self { pieces: Duration::from_secs(1), progress: Duration::from_millis(250) }
        } else {
            Self { pieces: Duration::from_millis(250), progress: Duration::from_millis(100) }
        }
    }
}

impl CloudPane {
    fn new(ctx: &egui::Context, gpu: Arc<Viewport3dGpu>, frames: Vec<FrameRef>) -> Self {
        let mut pane = Self {
            viewport: Viewport3d::new(Arc::clone(&gpu)),
            gpu,
            ctx: ctx.clone(),
            stream: None,
            frames,
            frame_index: 0,
            declared: None,
            loaded_points: 0,
            first_points_secs: None,
            done: None,
            error: None,
            fitted: false,
            provisional_fit: false,
            picked: None,
            pending_pieces: Vec::new(),
            pieces_shown_at: None,
        };
        pane.start_frame(0);
        pane
    }

    fn start_frame(&mut self, index: usize) {
        let Some(frame) = self.frames.get(index) else { return };
        self.frame_index = index;
        self.stream = None;
        self.viewport.set_clouds(Vec::new());
        self.declared = None;
        self.loaded_points = 0;
        self.first_points_secs = None;
        self.done = None;
        self.error = None;
        self.picked = None;
        self.pending_pieces.clear();
        self.pieces_shown_at = None;
        let source = match &frame.source {
            FrameSource::File(path, None) => StreamSource::File(path.clone()),
            FrameSource::File(path, Some(format)) => {
                StreamSource::FileAs { path: path.clone(), format: *format }
            }
            FrameSource::Memory(cloud) => {
                StreamSource::Cloud { name: frame.label.clone(), cloud: cloud.clone() }
            }
        };
        let ctx = self.ctx.clone();
        // The header and the first piece are shown at once; later events (a piece every few
        // milliseconds) need a frame only for the progress.
        let progress_every = LoadPacing::of(self.gpu.adapter_info()).progress;
        let notified = std::sync::atomic::AtomicUsize::new(0);
        let notify = move || {
            if notified.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 2 {
                ctx.request_repaint();
            } else {
                ctx.request_repaint_after(progress_every);
            }
        };
        match CloudStream::spawn(
            source,
            self.gpu.device().clone(),
            Arc::clone(self.gpu.point_renderer()),
            StreamOptions::default(),
            notify,
        ) {
            Ok(stream) => self.stream = Some(stream),
            Err(e) => self.error = Some(format!("cannot start the loader thread: {e}")),
        }
    }

    /// Takes what the loader sent since the last frame.
    fn poll(&mut self) {
        let Some(stream) = &self.stream else { return };
        let mut events = Vec::new();
        // Bounded per frame so a fast loader cannot stall the UI.
        while events.len() < 256 {
            match stream.try_recv() {
                Some(event) => events.push(event),
                None => break,
            }
        }
        for event in events {
            match event {
                StreamEvent::Opened { declared_points, header_bounds, .. } => {
                    self.declared = Some(declared_points);
                    // Pieces share the header's height range, so colours stay put while
                    // streaming; the whole cloud then uses its own.
                    self.viewport.style.height_range_m =
                        header_bounds.map(|b| [b.min[2], b.max[2]]);
                    if let Some(bounds) = header_bounds.filter(|_| !self.fitted) {
                        self.viewport.fit_to(bounds.min.into(), bounds.max.into());
                        self.fitted = true;
                    }
                }
                StreamEvent::Piece { gpu, loaded_points, secs } => {
                    self.pending_pieces.push(gpu);
                    self.loaded_points = loaded_points;
                    self.first_points_secs.get_or_insert(secs);
                }
                StreamEvent::Finished(done) => {
                    self.pending_pieces.clear();
                    self.viewport.style.height_range_m = None;
                    self.viewport.set_clouds(vec![Arc::clone(&done.gpu)]);
                    self.loaded_points = done.cloud.len() as u64;
                    self.first_points_secs.get_or_insert(done.total_secs);
                    if !self.fitted || (self.provisional_fit && !self.viewport.interacted()) {
                        self.viewport.fit();
                        self.fitted = true;
                    }
                    self.provisional_fit = false;
                    self.done = Some(*done);
                    self.stream = None;
                }
                StreamEvent::Failed(message) => {
                    self.viewport.style.height_range_m = None;
                    self.error = Some(message);
                    self.stream = None;
                }
            }
            if self.stream.is_none() {
                break;
            }
        }
        self.show_pending_pieces();
    }

    /// Adds the pieces received since the last redraw to the scene, unless pieces were added less
    /// than [`LoadPacing`]'s interval ago (then a repaint is asked for when it has passed).
    fn show_pending_pieces(&mut self) {
        if self.pending_pieces.is_empty() {
            return;
        }
        let interval = LoadPacing::of(self.gpu.adapter_info()).pieces;
        let wait =
            self.pieces_shown_at.map_or(Duration::ZERO, |at| interval.saturating_sub(at.elapsed()));
        if !wait.is_zero() {
            self.ctx.request_repaint_after(wait);
            return;
        }
        for piece in self.pending_pieces.drain(..) {
            self.viewport.push_cloud(piece);
        }
        self.pieces_shown_at = Some(Instant::now());
        if !self.fitted {
            self.viewport.fit();
            self.fitted = true;
            self.provisional_fit = true;
        }
    }

    fn available_modes(&self) -> Vec<(ColorBy, &'static str, bool)> {
        let cloud = self.viewport.clouds().first();
        let has = |mode| cloud.is_none_or(|c| c.resolve_color_by(mode) == mode);
        [
            (ColorBy::Height, "Height"),
            (ColorBy::Intensity, "Intensity"),
            (ColorBy::Rgb, "RGB"),
            (ColorBy::Classification, "Classification"),
        ]
        .into_iter()
        .map(|(mode, label)| (mode, label, has(mode)))
        .collect()
    }

    fn handle_commands(&mut self) {
        let ctx = self.ctx.clone();
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        if commands::NEXT_COLOR_MODE.pressed(&ctx) {
            let modes: Vec<ColorBy> =
                self.available_modes().into_iter().filter(|m| m.2).map(|m| m.0).collect();
            let at = modes.iter().position(|&m| m == self.viewport.style.color_by).unwrap_or(0);
            if let Some(&next) = modes.get((at + 1) % modes.len().max(1)) {
                self.viewport.style.color_by = next;
            }
        }
        if commands::POINTS_LARGER.pressed(&ctx) {
            self.viewport.style.point_size_px =
                (self.viewport.style.point_size_px + 1.0).min(MAX_POINT_SIZE_PX);
        }
        if commands::POINTS_SMALLER.pressed(&ctx) {
            self.viewport.style.point_size_px = (self.viewport.style.point_size_px - 1.0).max(1.0);
        }
        if self.frames.len() > 1 {
            if commands::NEXT_FRAME.pressed(&ctx) && self.frame_index + 1 < self.frames.len() {
                self.start_frame(self.frame_index + 1);
            }
            if commands::PREVIOUS_FRAME.pressed(&ctx) && self.frame_index > 0 {
                self.start_frame(self.frame_index - 1);
            }
        }
    }

    fn ui(&mut self, ui: &mut Ui) {
        self.poll();
        self.handle_commands();
        egui::Panel::left("review_side").resizable(false).exact_size(theme::SIDE_PANEL_WIDTH).show(
            ui,
            |ui| {
                egui::ScrollArea::vertical()
                    .auto_shrink([false; 2])
                    .show(ui, |ui| self.side_ui(ui));
            },
        );
        egui::Panel::bottom("review_status").show(ui, |ui| self.status_ui(ui));
        if self.frames.len() > 1 {
            egui::Panel::top("review_frames").show(ui, |ui| self.frames_ui(ui));
        }
        egui::CentralPanel::no_frame().show(ui, |ui| {
            let response = self.viewport.show(ui);
            if let Some(hit) = response.picked {
                self.picked = Some(hit);
            }
        });
    }

    fn frames_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            let count = self.frames.len();
            if command_button(ui, &commands::PREVIOUS_FRAME, self.frame_index > 0) {
                self.start_frame(self.frame_index - 1);
            }
            let label = self.frames.get(self.frame_index).map_or("", |f| f.label.as_str());
            ui.label(format!("Frame {} / {count} · {label}", self.frame_index + 1));
            if command_button(ui, &commands::NEXT_FRAME, self.frame_index + 1 < count) {
                self.start_frame(self.frame_index + 1);
            }
        });
    }

    fn side_ui(&mut self, ui: &mut Ui) {
        let title = self.frames.get(self.frame_index).map_or("", |f| f.label.as_str());
        ui.add_space(theme::SPACE * 0.5);
        ui.heading(title);
        if let Some(format) = self.done.as_ref().and_then(|d| d.stats.format.as_deref()) {
            ui.label(RichText::new(format.to_ascii_uppercase()).color(theme::TEXT_WEAK));
        }
        ui.add_space(theme::SPACE);

        section(ui, "Display");
        weak_label(ui, "Colour by");
        let modes = self.available_modes();
        let half = (ui.available_width() - ui.spacing().item_spacing.x) / 2.0;
        egui::Grid::new("colour_modes").num_columns(2).show(ui, |ui| {
            for (i, (mode, label, available)) in modes.into_iter().enumerate() {
                let selected = self.viewport.style.color_by == mode;
                let button = egui::Button::selectable(selected, label);
                let response =
                    ui.add_enabled_ui(available, |ui| ui.add_sized([half, 24.0], button)).inner;
                let response = if available {
                    response.on_hover_text(commands::NEXT_COLOR_MODE.hint(ui.ctx()))
                } else {
                    response.on_disabled_hover_text(format!(
                        "This cloud has no {}",
                        label.to_lowercase()
                    ))
                };
                if response.clicked() {
                    self.viewport.style.color_by = mode;
                }
                if i % 2 == 1 {
                    ui.end_row();
                }
            }
        });
        ui.add_space(theme::SPACE * 0.5);
        let label = weak_label(ui, "Point size");
        let slider_width = ui.available_width() - 90.0;
        ui.spacing_mut().slider_width = slider_width;
        ui.add(
            egui::Slider::new(&mut self.viewport.style.point_size_px, 1.0..=MAX_POINT_SIZE_PX)
                .step_by(0.5)
                .suffix(" px"),
        )
        .labelled_by(label.id)
        .on_hover_text(format!(
            "{} / {}",
            commands::POINTS_LARGER.hint(ui.ctx()),
            commands::POINTS_SMALLER.hint(ui.ctx())
        ));
        ui.checkbox(&mut self.viewport.style.round, "Round points");
        let label = weak_label(ui, "Point budget");
        ui.add(
            egui::Slider::new(&mut self.viewport.style.budget_points, 10_000..=20_000_000)
                .logarithmic(true)
                .custom_formatter(|v, _| group_digits(v as u64)),
        )
        .labelled_by(label.id)
        .on_hover_text(
            "Most points drawn per frame; the level of detail thins far chunks first to stay \
             within it.",
        );
        ui.add_space(theme::SPACE * 0.5);
        ui.horizontal(|ui| {
            weak_label(ui, "View");
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                if command_button(ui, &commands::FIT, true) {
                    self.viewport.fit();
                }
            });
        });
        let quarter = (ui.available_width() - 3.0 * ui.spacing().item_spacing.x) / 4.0;
        ui.horizontal(|ui| {
            for (command, view) in [
                (commands::VIEW_TOP, crate::geometry::StandardView::Top),
                (commands::VIEW_SIDE, crate::geometry::StandardView::Side),
                (commands::VIEW_FRONT, crate::geometry::StandardView::Front),
                (commands::VIEW_ORBIT, crate::geometry::StandardView::Orbit),
            ] {
                let button = egui::Button::new(command.label).min_size(egui::vec2(quarter, 0.0));
                if ui.add(button).on_hover_text(command.hint(ui.ctx())).clicked() {
                    self.viewport.set_standard_view(view);
                }
            }
        });
        ui.add_space(theme::SPACE);

        section(ui, "Picked point");
        self.picked_ui(ui);
        ui.add_space(theme::SPACE);

        section(ui, "Statistics");
        match &self.done {
            Some(done) => stats_ui(ui, done),
            None if self.error.is_some() => {
                ui.label(RichText::new("Not loaded").color(theme::TEXT_WEAK));
            }
            None => {
                ui.label(RichText::new("Loading…").color(theme::TEXT_WEAK));
            }
        }
        ui.add_space(theme::SPACE);
    }

    fn picked_ui(&self, ui: &mut Ui) {
        let weak = |ui: &mut Ui, text: &str| {
            ui.label(RichText::new(text).color(theme::TEXT_WEAK));
        };
        match &self.picked {
            None => weak(ui, "Click a point to see its attributes"),
            Some(PickHit::Nothing) => weak(ui, "Nothing under the cursor"),
            Some(PickHit::Unavailable) => weak(ui, "Picking works once loading finishes"),
            Some(PickHit::Failed(message)) => {
                ui.label(RichText::new(message.as_str()).color(theme::ERROR));
            }
            Some(PickHit::Cuboid { index }) => {
                ui.label(format!("Cuboid #{index}"));
            }
            Some(PickHit::Point { index }) => {
                let Some(done) = &self.done else { return };
                let cloud = &done.cloud;
                let i = *index as usize;
                ui.label(
                    RichText::new(format!(
                        "Point #{} of {}",
                        group_digits(u64::from(*index)),
                        group_digits(cloud.len() as u64)
                    ))
                    .strong(),
                );
                egui::Grid::new("picked_point").num_columns(2).show(ui, |ui| {
                    if let Some(p) = cloud.world_position(i) {
                        for (axis, v) in ["x", "y", "z"].iter().zip(p) {
                            ui.label(*axis);
                            ui.label(format!("{v:.3}"));
                            ui.end_row();
                        }
                    }
                    if let Some(v) = cloud.intensity.as_ref().and_then(|v| v.get(i)) {
                        ui.label("Intensity");
                        ui.label(v.to_string());
                        ui.end_row();
                    }
                    if let Some(&c) = cloud.classification.as_ref().and_then(|v| v.get(i)) {
                        ui.label("Class");
                        ui.label(format!("{c} {}", class_name(c)));
                        ui.end_row();
                    }
                    if let Some(v) = cloud.return_number.as_ref().and_then(|v| v.get(i)) {
                        ui.label("Return");
                        ui.label(v.to_string());
                        ui.end_row();
                    }
                    if let Some([r, g, b]) = cloud.rgb.as_ref().and_then(|v| v.get(i)) {
                        ui.label("RGB");
                        ui.label(format!("{r} {g} {b}"));
                        ui.end_row();
                    }
                    if let Some(t) = cloud.gps_time.as_ref().and_then(|v| v.get(i)) {
                        ui.label("GPS time");
                        ui.label(format!("{t:.6}"));
                        ui.end_row();
                    }
                });
            }
        }
    }

    fn status_ui(&self, ui: &mut Ui) {
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            let adapter = self.gpu.adapter_info();
            ui.label(
                RichText::new(format!("{} · {:?}", adapter.name, adapter.backend))
                    .small()
                    .color(theme::TEXT_WEAK),
            )
            .on_hover_text(describe_adapter(adapter));
            ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
                let (text, color) = self.status_text();
                if self.done.is_none() && self.error.is_none() {
                    // A progress bar where the total is known: a spinner animates, and every
                    // animation frame is a repaint the loader's cores pay for.
                    match self.declared.filter(|&d| d > 0) {
                        Some(declared) => {
                            let fraction = self.loaded_points as f32 / declared as f32;
                            ui.add(egui::ProgressBar::new(fraction.min(1.0)).desired_width(120.0));
                        }
                        None => {
                            ui.spinner();
                        }
                    }
                }
                ui.add(egui::Label::new(RichText::new(text).color(color)).truncate());
            });
        });
    }

    fn status_text(&self) -> (String, Color32) {
        if let Some(error) = self.error.clone().or_else(|| self.viewport.error()) {
            return (error, theme::ERROR);
        }
        let Some(done) = &self.done else {
            let text = match self.declared {
                Some(declared) if declared > 0 && self.loaded_points >= declared => format!(
                    "Decoded {} points; building the level of detail…",
                    group_digits(self.loaded_points)
                ),
                Some(declared) if declared > 0 => format!(
                    "Loading… {} of {} points ({:.0}%)",
                    group_digits(self.loaded_points),
                    group_digits(declared),
                    100.0 * self.loaded_points as f64 / declared as f64
                ),
                _ => "Loading…".to_owned(),
            };
            return (text, theme::TEXT);
        };
        let frame = self.viewport.frame_info().points;
        let mut text = format!("{} points", group_digits(done.cloud.len() as u64));
        if frame.drawn_points < frame.visible_points {
            text.push_str(&format!(
                " · drawing {} (level of detail)",
                group_digits(frame.drawn_points as u64)
            ));
        }
        if let Some(first) = self.first_points_secs.filter(|&s| s < done.total_secs) {
            text.push_str(&format!(" · first points after {first:.2} s"));
        }
        text.push_str(&format!(" · loaded in {:.2} s", done.total_secs));
        (text, theme::TEXT)
    }
}

/// Largest point size offered.
const MAX_POINT_SIZE_PX: f32 = 12.0;

fn section(ui: &mut Ui, title: &str) {
    ui.label(RichText::new(title).strong().color(theme::TEXT));
    ui.separator();
}

/// A button for `command` (its label; its shortcut in the tooltip). True when clicked.
fn command_button(ui: &mut Ui, command: &Command, enabled: bool) -> bool {
    let hint = command.hint(ui.ctx());
    ui.add_enabled(enabled, egui::Button::new(command.label)).on_hover_text(hint).clicked()
}

fn weak_label(ui: &mut Ui, text: &str) -> egui::Response {
    ui.label(RichText::new(text).color(theme::TEXT_WEAK))
}

fn stats_ui(ui: &mut Ui, done: &StreamedCloud) {
    let stats = &done.stats;
    let spacing = [theme::SPACE * 1.5, theme::SPACE * 0.5];
    egui::Grid::new("cloud_stats").num_columns(2).spacing(spacing).show(ui, |ui| {
        let row = |ui: &mut Ui, name: &str, value: String| {
            weak_label(ui, name);
            ui.label(value);
            ui.end_row();
        };
        row(ui, "Points", group_digits(stats.points));
        if let Some(declared) = stats.declared_points.filter(|&d| d != stats.points) {
            row(ui, "Declared", group_digits(declared));
        }
        if stats.dropped_non_finite > 0 {
            row(ui, "Dropped (NaN)", group_digits(stats.dropped_non_finite));
        }
        let attributes = if stats.attributes.is_empty() {
            "positions only".into()
        } else {
            stats.attributes.join(", ")
        };
        weak_label(ui, "Attributes");
        ui.add(egui::Label::new(attributes).wrap());
        ui.end_row();
        let unloaded: Vec<&str> = stats
            .available_attributes
            .iter()
            .flatten()
            .filter(|a| !stats.attributes.contains(a))
            .map(String::as_str)
            .collect();
        if !unloaded.is_empty() {
            weak_label(ui, "Not loaded").on_hover_text(
                "The file has these too; the viewer keeps only what it colours by \
                 (`groundwork info` reads every attribute)",
            );
            ui.add(egui::Label::new(unloaded.join(", ")).wrap());
            ui.end_row();
        }
        if let Some([lo, hi]) = stats.intensity_range {
            row(ui, "Intensity range", format!("{lo} … {hi}"));
        }
        row(ui, "Memory", human_bytes(stats.points.saturating_mul(stats.bytes_per_point as u64)));
    });
    if let Some(bounds) = &stats.bounds {
        ui.add_space(theme::SPACE * 0.5);
        weak_label(ui, "Bounds");
        let spacing = [theme::SPACE, theme::SPACE * 0.5];
        egui::Grid::new("cloud_bounds").num_columns(4).spacing(spacing).show(ui, |ui| {
            for header in ["", "min", "max", "size"] {
                weak_label(ui, header);
            }
            ui.end_row();
            for (k, axis) in ["x", "y", "z"].iter().enumerate() {
                weak_label(ui, axis);
                for value in [bounds.min[k], bounds.max[k], bounds.max[k] - bounds.min[k]] {
                    ui.label(format!("{value:.2}"));
                }
                ui.end_row();
            }
        });
    }
    for note in &stats.notes {
        ui.label(RichText::new(note.as_str()).small().color(theme::WARN));
    }
    if !stats.classification_histogram.is_empty() {
        ui.add_space(theme::SPACE * 0.5);
        ui.label(RichText::new("Classes").color(theme::TEXT_WEAK));
        let palette = asprs_classification_palette();
        let total = stats.points.max(1) as f64;
        egui::Grid::new("class_histogram").num_columns(3).spacing([theme::SPACE, 2.0]).show(
            ui,
            |ui| {
                for (&code, &count) in &stats.classification_histogram {
                    ui.horizontal(|ui| {
                        let [r, g, b, _] =
                            palette.get(usize::from(code)).copied().unwrap_or([128; 4]);
                        let (swatch, _) =
                            ui.allocate_exact_size(egui::vec2(10.0, 10.0), Sense::hover());
                        ui.painter().rect_filled(swatch, 2.0, Color32::from_rgb(r, g, b));
                        ui.label(format!("{code} {}", class_name(code)));
                    });
                    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                        ui.label(group_digits(count));
                    });
                    ui.label(
                        RichText::new(format!("{:.1}%", 100.0 * count as f64 / total))
                            .color(theme::TEXT_WEAK),
                    );
                    ui.end_row();
                }
            },
        );
    }
}

/// A byte count in B, kB, MB or GB (powers of 1000).
fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

/// `1234567` → `1,234,567`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

type ImageLoad = Result<(Arc<GpuImage>, [u32; 2]), String>;

/// An image in a 2D pan/zoom view.
#[derive(Debug)]
struct ImagePane {
    ctx: egui::Context,
    renderer: Arc<ImageRenderer>,
    queue: wgpu::Queue,
    loading: Option<mpsc::Receiver<ImageLoad>>,
    image: Option<Arc<GpuImage>>,
    size_px: [u32; 2],
    name: String,
    error: Option<String>,
    draw_view: Arc<Mutex<ImageDrawView>>,
    view: ImageView2d,
    fit_pending: bool,
    /// The image pixel under the pointer.
    hover_px: Option<[u32; 2]>,
}

impl ImagePane {
    fn new(ctx: &egui::Context, gpu: &Viewport3dGpu, path: &Path) -> Self {
        let device = gpu.device().clone();
        let queue = gpu.queue().clone();
        let renderer =
            Arc::new(ImageRenderer::new(&device, TargetFormat::color_only(gpu.target_format())));
        let draw_view = Arc::new(Mutex::new(renderer.create_view(&device)));
        let (sender, receiver) = mpsc::sync_channel(1);
        let worker_renderer = Arc::clone(&renderer);
        let worker_queue = queue.clone();
        let worker_ctx = ctx.clone();
        let worker_path = path.to_path_buf();
        let spawned =
            std::thread::Builder::new().name("groundwork-image-load".into()).spawn(move || {
                let name = worker_path.display().to_string();
                let result =
                    image::open(&worker_path).map_err(|e| format!("{name}: {e}")).and_then(|img| {
                        let rgba = img.to_rgba8();
                        let size = [rgba.width(), rgba.height()];
                        worker_renderer
                            .upload(&device, &worker_queue, &rgba, &ImageUploadOptions::default())
                            .map(|gpu| (Arc::new(gpu), size))
                            .map_err(|e| format!("{name}: {e}"))
                    });
                let _ = sender.send(result);
                worker_ctx.request_repaint();
            });
        let (loading, error) = match spawned {
            Ok(_) => (Some(receiver), None),
            Err(e) => (None, Some(format!("cannot start the image loader: {e}"))),
        };
        Self {
            ctx: ctx.clone(),
            renderer,
            queue,
            loading,
            image: None,
            size_px: [0, 0],
            name: path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into()),
            error,
            draw_view,
            view: ImageView2d::default(),
            fit_pending: true,
            hover_px: None,
        }
    }

    fn ui(&mut self, ui: &mut Ui) {
        if let Some(receiver) = &self.loading
            && let Ok(result) = receiver.try_recv()
        {
            match result {
                Ok((image, size)) => {
                    self.image = Some(image);
                    self.size_px = size;
                }
                Err(message) => self.error = Some(message),
            }
            self.loading = None;
        }
        egui::Panel::left("image_side").resizable(false).exact_size(theme::SIDE_PANEL_WIDTH).show(
            ui,
            |ui| {
                ui.add_space(theme::SPACE * 0.5);
                ui.heading(self.name.as_str());
                ui.add_space(theme::SPACE);
                section(ui, "Image");
                if let Some(error) = &self.error {
                    ui.label(RichText::new(error.as_str()).color(theme::ERROR));
                } else if self.image.is_none() {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Loading…");
                    });
                } else {
                    egui::Grid::new("image_stats").num_columns(2).show(ui, |ui| {
                        ui.label(RichText::new("Size").color(theme::TEXT_WEAK));
                        ui.label(format!("{} × {} px", self.size_px[0], self.size_px[1]));
                        ui.end_row();
                        ui.label(RichText::new("Zoom").color(theme::TEXT_WEAK));
                        ui.label(format!("{:.0}%", self.view.zoom * 100.0));
                        ui.end_row();
                        ui.label(RichText::new("Pointer").color(theme::TEXT_WEAK));
                        ui.label(match self.hover_px {
                            Some([x, y]) => format!("x {x}, y {y} px"),
                            None => "–".to_owned(),
                        });
                        ui.end_row();
                    });
                    if command_button(ui, &commands::FIT, true) {
                        self.fit_pending = true;
                    }
                }
                ui.add_space(theme::SPACE);
                ui.label(
                    RichText::new("Drag: pan · Wheel: zoom · F: fit")
                        .small()
                        .color(theme::TEXT_WEAK),
                );
            },
        );
        egui::CentralPanel::no_frame().show(ui, |ui| self.canvas_ui(ui));
    }

    fn canvas_ui(&mut self, ui: &mut Ui) {
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click_and_drag());
        ui.painter().rect_filled(rect, 0.0, theme::CANVAS);
        let ppp = ui.ctx().pixels_per_point();
        let size = Vector2::new(f64::from(rect.width() * ppp), f64::from(rect.height() * ppp));
        if !self.ctx.egui_wants_keyboard_input() && commands::FIT.pressed(&self.ctx) {
            self.fit_pending = true;
        }
        let Some(image) = &self.image else { return };
        if self.fit_pending {
            let image_size = Vector2::new(f64::from(self.size_px[0]), f64::from(self.size_px[1]));
            self.view = ImageView2d::fit(image_size, size);
            self.fit_pending = false;
        }
        if response.dragged() {
            let d = response.drag_delta() * ppp;
            self.view.pan(Vector2::new(f64::from(d.x), f64::from(d.y)));
        }
        // Pointer positions in the view's pixels (from the canvas's top-left).
        let view_px = |p: egui::Pos2| {
            Point2::new(f64::from((p.x - rect.min.x) * ppp), f64::from((p.y - rect.min.y) * ppp))
        };
        // The image pixel under the pointer (column, row from the top-left), when on the image.
        self.hover_px = response.hover_pos().and_then(|p| {
            let at = self.view.image_from_screen(view_px(p));
            let [w, h] = self.size_px.map(f64::from);
            ((0.0..w).contains(&at.x) && (0.0..h).contains(&at.y))
                .then(|| [at.x.floor() as u32, at.y.floor() as u32])
        });
        if response.hovered() {
            let (scroll, pinch, pointer) =
                ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta(), i.pointer.latest_pos()));
            let factor = (f64::from(scroll) * 0.002).exp() * f64::from(pinch);
            if let Some(pos) = pointer.filter(|_| (factor - 1.0).abs() > 1e-9) {
                self.view.zoom_about(view_px(pos), factor);
            }
        }
        ui.painter().add(egui_wgpu::Callback::new_paint_callback(
            rect,
            ImageCallback {
                renderer: Arc::clone(&self.renderer),
                queue: self.queue.clone(),
                image: Arc::clone(image),
                draw_view: Arc::clone(&self.draw_view),
                transform: self.view,
                rect,
            },
        ));
    }
}

struct ImageCallback {
    renderer: Arc<ImageRenderer>,
    queue: wgpu::Queue,
    image: Arc<GpuImage>,
    draw_view: Arc<Mutex<ImageDrawView>>,
    transform: ImageView2d,
    rect: egui::Rect,
}

impl egui_wgpu::CallbackTrait for ImageCallback {
    fn prepare(
        &self,
        _device: &wgpu::Device,
        _queue: &wgpu::Queue,
        screen: &egui_wgpu::ScreenDescriptor,
        _egui_encoder: &mut wgpu::CommandEncoder,
        _resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let px = egui::epaint::ViewportInPixels::from_points(
            &self.rect,
            screen.pixels_per_point,
            screen.size_in_pixels,
        );
        let viewport = Viewport::new(px.width_px.max(1) as u32, px.height_px.max(1) as u32);
        let mut view = self.draw_view.lock().unwrap_or_else(PoisonError::into_inner);
        self.renderer.prepare(
            &self.queue,
            &mut view,
            &self.image,
            &self.transform,
            viewport,
            ImageSampling::Nearest,
        );
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        _resources: &egui_wgpu::CallbackResources,
    ) {
        let view = self.draw_view.lock().unwrap_or_else(PoisonError::into_inner);
        self.renderer.paint(pass, &view, &self.image);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(group_digits(10_000_000), "10,000,000");
    }

    #[test]
    fn file_kinds_follow_extensions() {
        assert_eq!(kind_of(Path::new("a/b.LAZ")), FileKind::Cloud);
        assert_eq!(kind_of(Path::new("a/b.pcd")), FileKind::Cloud);
        assert_eq!(kind_of(Path::new("a/b.jpeg")), FileKind::Image);
        assert_eq!(kind_of(Path::new("seq1.json")), FileKind::Sequence);
        assert_eq!(kind_of(Path::new("input.manifest")), FileKind::Sequence);
    }

    #[test]
    fn sequence_frames_resolve_next_to_the_sequence_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0.bin"), [0u8; 16]).unwrap();
        std::fs::write(dir.path().join("1.txt"), "1 2 3 4\n").unwrap();
        let sequence = r#"{"seq-no": 1, "prefix": "s3://bucket/frames/", "number-of-frames": 2,
            "frames": [
              {"frame-no": 0, "unix-timestamp": 1.0, "frame": "0.bin", "format": "binary/xyzi"},
              {"frame-no": 1, "unix-timestamp": 2.0, "frame": "sub/1.txt"}
            ]}"#;
        let path = dir.path().join("seq1.json");
        std::fs::write(&path, sequence).unwrap();
        let frames = read_frames(&path).unwrap();
        assert_eq!(frames.len(), 2);
        let FrameSource::File(first, format) = &frames[0].source else { panic!() };
        assert_eq!(first, &dir.path().join("0.bin"));
        assert_eq!(*format, Some(CloudFormat::Raw(RawFormat::BinaryXyzi)));
        let FrameSource::File(second, format) = &frames[1].source else { panic!() };
        assert_eq!(second, &dir.path().join("1.txt"), "found by file name");
        assert_eq!(*format, None);
        assert_eq!(frames[1].label, "1.txt");

        // A manifest naming the sequence file.
        let manifest = dir.path().join("input.manifest");
        std::fs::write(&manifest, "{\"source-ref\": \"s3://bucket/seq1.json\"}\n").unwrap();
        assert_eq!(read_frames(&manifest).unwrap().len(), 2);
    }
}
