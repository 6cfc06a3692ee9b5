//! The job monitor: every job of the workspace with its status, a progress bar and Ground
//! Truth's counters; a job's detail with each data object's state (unclaimed, claimed by whom,
//! submitted, consolidated, failed and why), labels per class and throughput over time as
//! plots; and the author's actions: stop the job, open its output manifest, and create an
//! adjustment or verification job from its output (which opens the wizard, prefilled).
//!
//! Entry points for the app: [`MonitorState::new`] and [`monitor_ui`], which returns a
//! [`MonitorAction`]. Status is computed from the store by `Jobs::describe` on the backend's
//! executor and polled each frame; the list refreshes every [`REFRESH_SECS`] seconds.
//!
//! Must not depend on `app` or `cli`.

use std::collections::BTreeMap;

use egui::RichText;
use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints};

use crate::formats::label_config::LabelCategoryConfig;
use crate::formats::manifest::{DataSource, ManifestLine};
use crate::formats::output::OutputLine;
use crate::job::JobSpec;
use crate::job::TaskType;
use crate::job::status::{LabelCounters, LabelingJobSummary};
use crate::job::task_type::AuditMode;
use crate::store::ObjectPath;
use crate::store::catalog::list_all;
use crate::store::jobs::Jobs;
use crate::store::status::{JobSnapshot, ObjectState};
use crate::ui::wizard::WizardState;
use crate::ui::wizard::backend::{Backend, Pending};
use crate::ui::wizard::draft::{Identity, earlier_task_type, human_duration};
use crate::ui::wizard::ops::{class_counts, count_labels};
use crate::ui::{command, theme};

/// Seconds between automatic refreshes of the job list.
pub const REFRESH_SECS: f64 = 5.0;
/// Output-manifest lines shown by "Open output manifest".
pub const OUTPUT_LINES_SHOWN: usize = 200;

/// One job in the list.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    /// `ListLabelingJobs`' entry.
    pub summary: LabelingJobSummary,
    /// Its task type.
    pub task_type: TaskType,
}

impl JobRow {
    /// Labeled or failed, of all objects (0 when the job has none yet).
    pub fn progress(&self) -> f32 {
        let c = &self.summary.label_counters;
        let total = c.total_objects();
        if total == 0 {
            0.0
        } else {
            (c.total_labeled + c.failed_non_retryable_error) as f32 / total as f32
        }
    }
}

/// Everything the detail view shows about one job.
#[derive(Debug, Clone)]
pub struct JobDetail {
    /// The stored request.
    pub spec: JobSpec,
    /// Its label file, when readable.
    pub label_config: Option<LabelCategoryConfig>,
    /// Its task type.
    pub task_type: TaskType,
    /// The list entry (status, counters, output).
    pub summary: LabelingJobSummary,
    /// Per-object state from the store.
    pub snapshot: JobSnapshot,
    /// Each object's data source (URI or the start of its text), by object id.
    pub sources: Vec<String>,
    /// Labels per class in the output manifest, in class order.
    pub labels_per_class: Vec<(String, u64)>,
    /// When each worker response was submitted, ms since the epoch, sorted.
    pub submissions_ms: Vec<i64>,
    /// When the job was created, ms since the epoch.
    pub created_at_ms: i64,
}

impl JobDetail {
    /// The output manifest's address, once it exists.
    pub fn output_manifest(&self) -> Option<&str> {
        self.summary.labeling_job_output.as_ref().map(|o| o.output_dataset_s3_uri.as_str())
    }
}

/// An output manifest, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputView {
    /// Its address.
    pub uri: String,
    /// Lines in all.
    pub lines: usize,
    /// The first [`OUTPUT_LINES_SHOWN`] lines.
    pub head: Vec<String>,
}

/// What the author asked the app to do.
#[derive(Debug, Clone)]
pub enum MonitorAction {
    /// Open the wizard for an adjustment or verification job of a job's output, prefilled.
    ChainJob {
        /// The finished job's request.
        earlier: JobSpec,
        /// Its label file.
        earlier_config: Option<LabelCategoryConfig>,
        /// Its output manifest: the new job's input.
        output_manifest: String,
        /// Adjustment or verification.
        mode: AuditMode,
    },
}

impl MonitorAction {
    /// The wizard this action asks for, for `identity`.
    pub fn wizard(&self, identity: &Identity) -> WizardState {
        match self {
            Self::ChainJob { earlier, earlier_config, output_manifest, mode } => {
                WizardState::chained(
                    earlier,
                    earlier_config.as_ref(),
                    output_manifest,
                    *mode,
                    identity,
                )
            }
        }
    }
}

/// The monitor's state.
#[derive(Debug, Default)]
pub struct MonitorState {
    rows: Option<Result<Vec<JobRow>, String>>,
    rows_pending: Option<Pending<Result<Vec<JobRow>, String>>>,
    last_refresh_s: Option<f64>,
    selected: Option<String>,
    detail: Option<Result<JobDetail, String>>,
    detail_pending: Option<(String, Pending<Result<JobDetail, String>>)>,
    stop_pending: Option<Pending<Result<bool, String>>>,
    message: Option<(bool, String)>,
    output: Option<Result<OutputView, String>>,
    output_pending: Option<Pending<Result<OutputView, String>>>,
    confirm_stop: bool,
}

impl MonitorState {
    /// A monitor that loads the job list on its first frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// A monitor with `job` selected.
    pub fn with_selected(job: &str) -> Self {
        Self { selected: Some(job.to_owned()), ..Self::default() }
    }

    /// The job list, once loaded.
    pub fn rows(&self) -> Option<&[JobRow]> {
        self.rows.as_ref().and_then(|r| r.as_ref().ok()).map(Vec::as_slice)
    }

    /// The selected job's detail, once loaded.
    pub fn detail(&self) -> Option<&JobDetail> {
        self.detail.as_ref().and_then(|d| d.as_ref().ok())
    }

    /// Asks for the list (and the selected job's detail) again.
    pub fn refresh(&mut self, backend: &Backend, now_s: f64) {
        self.last_refresh_s = Some(now_s);
        if self.rows_pending.is_none() {
            self.rows_pending = Some(backend.spawn(list_jobs));
        }
        if let Some(name) = self.selected.clone() {
            self.load_detail(backend, &name);
        }
    }

    fn load_detail(&mut self, backend: &Backend, name: &str) {
        if self.detail_pending.as_ref().is_some_and(|(n, _)| n == name) {
            return;
        }
        let owned = name.to_owned();
        self.detail_pending =
            Some((owned.clone(), backend.spawn(move |jobs| job_detail(jobs, owned))));
    }

    fn poll(&mut self) {
        if let Some(rows) = self.rows_pending.as_ref().and_then(Pending::take) {
            self.rows_pending = None;
            self.rows = Some(rows);
        }
        if let Some((name, pending)) = &self.detail_pending
            && let Some(detail) = pending.take()
        {
            let current = self.selected.as_deref() == Some(name.as_str());
            self.detail_pending = None;
            if current {
                self.detail = Some(detail);
            }
        }
        if let Some(result) = self.stop_pending.as_ref().and_then(Pending::take) {
            self.stop_pending = None;
            self.message = Some(match result {
                Ok(true) => (
                    true,
                    "Stop requested: no new tasks are handed out; running ones may finish.".into(),
                ),
                Ok(false) => (true, "The job was already asked to stop.".into()),
                Err(e) => (false, format!("Cannot stop the job: {e}")),
            });
            self.last_refresh_s = None;
        }
        if let Some(result) = self.output_pending.as_ref().and_then(Pending::take) {
            self.output_pending = None;
            self.output = Some(result);
        }
    }
}

/// Every job, as `ListLabelingJobs` lists them, with its task type.
pub async fn list_jobs(jobs: Jobs) -> Result<Vec<JobRow>, String> {
    let mut rows = Vec::new();
    for summary in jobs.list().await.map_err(|e| e.to_string())? {
        let task_type = summary
            .pre_human_task_lambda_arn
            .as_deref()
            .and_then(TaskType::from_pre_lambda_arn)
            .unwrap_or(TaskType::Custom);
        rows.push(JobRow { summary, task_type });
    }
    Ok(rows)
}

/// `<object>/<epoch-ms>-<worker>.json` → epoch ms.
fn response_time_ms(rest: &str) -> Option<i64> {
    let (_, file) = rest.split_once('/')?;
    let (ms, _) = file.strip_suffix(".json")?.split_once('-')?;
    ms.parse().ok()
}

/// A job's detail: status and per-object state, sources, labels per class from the output
/// manifest, and worker-response times from their keys.
pub async fn job_detail(jobs: Jobs, name: String) -> Result<JobDetail, String> {
    let description = jobs.describe(&name).await.map_err(|e| e.to_string())?;
    let spec = jobs.spec(&name).await.map_err(|e| e.to_string())?;
    let label_config = jobs.label_config(&spec).await.ok().flatten();
    let store = jobs.workspace().store.clone();
    let output = Jobs::output_of(&spec).map_err(|e| e.to_string())?;
    let created_at_ms =
        jobs.workspace().job_created(&name).await.ok().flatten().map_or(0, |c| c.created_at_ms);

    let mut sources = Vec::new();
    if let Some(s3) = &spec.input_config.data_source.s3_data_source
        && let Ok(path) = ObjectPath::parse(&s3.manifest_s3_uri)
        && let Ok(got) = store.get(&path, None).await
    {
        let text = String::from_utf8_lossy(&got.bytes);
        for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            sources.push(match ManifestLine::parse_line(line, &s3.manifest_s3_uri, i + 1) {
                Ok(line) => match line.source {
                    DataSource::SourceRef(uri) => uri,
                    DataSource::Source(text) => text.chars().take(80).collect(),
                },
                Err(_) => format!("line {}: not a data object", i + 1),
            });
        }
    }

    let attribute = spec.effective_label_attribute_name().to_owned();
    let mut counts = BTreeMap::new();
    if let Ok(path) = output.output_manifest()
        && let Ok(got) = store.get(&path, None).await
    {
        let text = String::from_utf8_lossy(&got.bytes);
        for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            if let Ok(line) = OutputLine::parse_line(line, &path.uri(), i + 1)
                && let Some(pair) = line.label_pair(&attribute)
            {
                count_labels(pair, &mut counts);
            }
        }
    }
    let mut labels_per_class = class_counts(counts);
    if labels_per_class.is_empty()
        && let Some(config) = &label_config
    {
        labels_per_class = config.labels.iter().map(|l| (l.label.clone(), 0)).collect();
    }

    let prefix = output.worker_responses_prefix().map_err(|e| e.to_string())?;
    let mut submissions_ms: Vec<i64> = list_all(store.as_ref(), &prefix)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|m| response_time_ms(m.path.key().strip_prefix(prefix.key())?))
        .collect();
    submissions_ms.sort_unstable();

    Ok(JobDetail {
        task_type: earlier_task_type(&spec),
        summary: description.describe.summary(),
        snapshot: description.snapshot,
        spec,
        label_config,
        sources,
        labels_per_class,
        submissions_ms,
        created_at_ms,
    })
}

/// Reads the first lines of an output manifest.
pub async fn open_output(jobs: Jobs, uri: String) -> Result<OutputView, String> {
    let path = ObjectPath::parse(&uri).map_err(|e| e.to_string())?;
    let got = jobs.workspace().store.get(&path, None).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&got.bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    Ok(OutputView {
        uri,
        lines: lines.len(),
        head: lines.iter().take(OUTPUT_LINES_SHOWN).map(|l| (*l).to_owned()).collect(),
    })
}

/// Human words for Ground Truth's status names.
pub fn status_text(status: &str) -> &str {
    match status {
        "InProgress" => "In progress",
        other => other,
    }
}

/// One object's state in words.
pub fn object_state_text(state: &ObjectState, now_ms: i64) -> String {
    match state {
        ObjectState::Unclaimed => "unclaimed".into(),
        ObjectState::InProgress { holders, submitted, of } => {
            let mut parts: Vec<String> = holders
                .iter()
                .map(|h| {
                    let left = u32::try_from(
                        ((h.expires_at_ms - now_ms).max(0) / 1000).min(i64::from(u32::MAX)),
                    )
                    .unwrap_or(0);
                    format!(
                        "claimed by {} (slot {}, {} left)",
                        h.worker,
                        h.slot + 1,
                        human_duration(left)
                    )
                })
                .collect();
            parts.push(format!("{submitted} of {of} submitted"));
            parts.join("; ")
        }
        ObjectState::AwaitingConsolidation { submitted, of } => {
            format!("submitted ({submitted} of {of}), awaiting consolidation")
        }
        ObjectState::Consolidated => "consolidated".into(),
        ObjectState::Failed(why) => format!("failed: {why}"),
    }
}

fn state_color(state: &ObjectState) -> egui::Color32 {
    match state {
        ObjectState::Unclaimed => theme::TEXT_WEAK,
        ObjectState::InProgress { .. } => theme::ACCENT,
        ObjectState::AwaitingConsolidation { .. } => theme::WARN,
        ObjectState::Consolidated => theme::OK,
        ObjectState::Failed(_) => theme::ERROR,
    }
}

fn counters_text(c: &LabelCounters) -> String {
    format!(
        "{} of {} labeled · {} failed · {} unlabeled",
        c.total_labeled,
        c.total_objects(),
        c.failed_non_retryable_error,
        c.unlabeled
    )
}

/// Draws the monitor; returns what the author asked the app to do, if anything.
pub fn monitor_ui(
    ui: &mut egui::Ui,
    state: &mut MonitorState,
    backend: &Backend,
) -> Option<MonitorAction> {
    backend.set_context(ui.ctx());
    state.poll();
    let now_s = ui.input(|i| i.time);
    let due = state.last_refresh_s.is_none_or(|last| now_s - last >= REFRESH_SECS);
    if due || command::MONITOR_REFRESH.pressed(ui.ctx()) {
        state.refresh(backend, now_s);
    }
    ui.ctx().request_repaint_after(std::time::Duration::from_secs_f64(REFRESH_SECS));

    let mut action = None;
    egui::Panel::left("monitor-jobs")
        .resizable(false)
        .exact_size(theme::JOB_LIST_WIDTH)
        .show(ui, |ui| job_list_ui(ui, state, backend, now_s));
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            action = detail_ui(ui, state, backend);
        });
    });
    action
}

fn job_list_ui(ui: &mut egui::Ui, state: &mut MonitorState, backend: &Backend, now_s: f64) {
    ui.add_space(theme::SPACE);
    ui.horizontal(|ui| {
        ui.label(
            RichText::new("Labeling jobs").size(theme::SECTION_SIZE).color(theme::TEXT_STRONG),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button(command::MONITOR_REFRESH.label)
                .on_hover_text(command::MONITOR_REFRESH.hint(ui.ctx()))
                .clicked()
            {
                state.refresh(backend, now_s);
            }
            if state.rows_pending.is_some() {
                ui.spinner();
            }
        });
    });
    ui.add_space(theme::SPACE * 0.5);
    let rows = match &state.rows {
        None => {
            ui.weak("Loading jobs…");
            return;
        }
        Some(Err(e)) => {
            ui.label(RichText::new(format!("Cannot list jobs: {e}")).color(theme::ERROR));
            return;
        }
        Some(Ok(rows)) => rows.clone(),
    };
    if rows.is_empty() {
        ui.weak("No jobs yet. Create one with the job wizard.");
    }
    egui::ScrollArea::vertical().id_salt("job-list").show(ui, |ui| {
        for row in &rows {
            let name = &row.summary.labeling_job_name;
            let selected = state.selected.as_deref() == Some(name.as_str());
            let status = row.summary.labeling_job_status.as_str();
            // The whole card is one button (the pointer's hover is last frame's).
            let card_id = ui.scope_id().with(("job-card", name));
            let hovered = ui.ctx().read_response(card_id).is_some_and(|r| r.hovered());
            let frame = egui::Frame::new()
                .fill(if selected || hovered { theme::SURFACE_HOVER } else { theme::SURFACE })
                .stroke(egui::Stroke::new(1.0, if selected { theme::ACCENT } else { theme::LINE }))
                .corner_radius(theme::RADIUS)
                .inner_margin(theme::SPACE);
            let card = frame.show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    ui.label(RichText::new(name).strong().color(theme::TEXT_STRONG));
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        ui.label(
                            RichText::new(status_text(status))
                                .color(theme::job_status_color(status)),
                        );
                    });
                });
                ui.label(
                    RichText::new(row.task_type.display_name()).small().color(theme::TEXT_WEAK),
                );
                ui.add(
                    egui::ProgressBar::new(row.progress())
                        .desired_height(6.0)
                        .fill(theme::job_status_color(status)),
                );
                ui.label(RichText::new(counters_text(&row.summary.label_counters)).small());
            });
            let card = ui
                .interact(card.response.rect, card_id, egui::Sense::click())
                .on_hover_cursor(egui::CursorIcon::PointingHand);
            card.widget_info(|| {
                egui::WidgetInfo::selected(egui::Role::Button, true, selected, name)
            });
            if card.clicked() {
                state.selected = Some(name.clone());
                state.detail = None;
                state.output = None;
                state.message = None;
                state.confirm_stop = false;
                state.load_detail(backend, name);
            }
            ui.add_space(theme::SPACE * 0.5);
        }
    });
}

fn detail_ui(
    ui: &mut egui::Ui,
    state: &mut MonitorState,
    backend: &Backend,
) -> Option<MonitorAction> {
    let Some(name) = state.selected.clone() else {
        ui.add_space(theme::SPACE * 4.0);
        ui.vertical_centered(|ui| {
            ui.weak("Select a job to see its objects, labels and throughput.")
        });
        return None;
    };
    let detail = match &state.detail {
        None => {
            ui.add_space(theme::SPACE);
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak(format!("Reading {name}…"));
            });
            return None;
        }
        Some(Err(e)) => {
            ui.label(RichText::new(format!("Cannot read {name}: {e}")).color(theme::ERROR));
            return None;
        }
        Some(Ok(detail)) => detail.clone(),
    };
    let mut action = None;
    let summary = &detail.summary;
    let status = summary.labeling_job_status.as_str();
    ui.add_space(theme::SPACE);
    ui.horizontal(|ui| {
        ui.heading(&name);
        ui.label(
            RichText::new(status_text(status))
                .size(theme::SECTION_SIZE)
                .color(theme::job_status_color(status)),
        );
    });
    ui.label(
        RichText::new(format!(
            "{} · {}",
            detail.task_type.display_name(),
            detail.spec.effective_label_attribute_name()
        ))
        .color(theme::TEXT_WEAK),
    );
    if let Some(reason) = &summary.failure_reason {
        ui.label(RichText::new(format!("Failure reason: {reason}")).color(theme::ERROR));
    }
    let counters = summary.label_counters;
    let total = counters.total_objects().max(1);
    ui.add(
        egui::ProgressBar::new(
            (counters.total_labeled + counters.failed_non_retryable_error) as f32 / total as f32,
        )
        .show_percentage()
        .fill(theme::job_status_color(status)),
    );
    egui::Grid::new("counters")
        .num_columns(5)
        .spacing([theme::SPACE * 3.0, theme::SPACE * 0.25])
        .show(ui, |ui| {
            for title in ["Total", "Labeled", "Failed", "Unlabeled", "Active claims"] {
                ui.label(RichText::new(title).small().color(theme::TEXT_WEAK));
            }
            ui.end_row();
            for value in [
                counters.total_objects(),
                counters.total_labeled,
                counters.failed_non_retryable_error,
                counters.unlabeled,
                u64::from(detail.snapshot.active_claims),
            ] {
                ui.label(RichText::new(value.to_string()).size(theme::SECTION_SIZE));
            }
            ui.end_row();
        });

    // Actions.
    ui.add_space(theme::SPACE);
    ui.horizontal_wrapped(|ui| {
        let stoppable = !summary.labeling_job_status.is_terminal() && !detail.snapshot.stop_requested;
        if state.confirm_stop {
            ui.label(RichText::new(format!("Stop {name}? Workers get no new tasks.")).color(theme::WARN));
            if ui.button("Yes, stop it").clicked() {
                state.confirm_stop = false;
                let job = name.clone();
                let by = "monitor".to_owned();
                state.stop_pending = Some(backend.spawn(move |jobs| async move {
                    jobs.stop(&job, &by).await.map_err(|e| e.to_string())
                }));
            }
            if ui.button("Keep running").clicked() {
                state.confirm_stop = false;
            }
        } else if ui.add_enabled(stoppable, egui::Button::new(command::MONITOR_STOP.label)).clicked() {
            state.confirm_stop = true;
        }
        let output = detail.output_manifest().map(str::to_owned);
        if ui.add_enabled(output.is_some(), egui::Button::new(command::MONITOR_OPEN_OUTPUT.label)).clicked()
            && let Some(uri) = output.clone()
        {
            state.output_pending = Some(backend.spawn(move |jobs| open_output(jobs, uri)));
        }
        let base = detail.task_type.base();
        let chainable = output.is_some() && base.supports_audit();
        for (command, mode) in [
            (command::MONITOR_CHAIN_ADJUST, AuditMode::Adjustment),
            (command::MONITOR_CHAIN_VERIFY, AuditMode::Verification),
        ] {
            let response = ui.add_enabled(chainable, egui::Button::new(command.label));
            let response = if chainable {
                response
            } else {
                response.on_disabled_hover_text("Needs a finished output of a bounding box, segmentation, video frame or 3D job.")
            };
            if response.clicked()
                && let Some(uri) = output.clone()
            {
                action = Some(MonitorAction::ChainJob {
                    earlier: detail.spec.clone(),
                    earlier_config: detail.label_config.clone(),
                    output_manifest: uri,
                    mode,
                });
            }
        }
        if state.stop_pending.is_some() {
            ui.spinner();
        }
    });
    if let Some((ok, message)) = &state.message {
        ui.label(RichText::new(message).color(if *ok { theme::OK } else { theme::ERROR }));
    }

    // Plots.
    ui.add_space(theme::SPACE);
    ui.columns(2, |columns| {
        labels_plot_ui(&mut columns[0], &detail);
        throughput_plot_ui(&mut columns[1], &detail);
    });

    // Output manifest.
    match &state.output {
        Some(Ok(view)) => {
            ui.add_space(theme::SPACE);
            egui::CollapsingHeader::new(format!(
                "Output manifest: {} ({} lines)",
                view.uri, view.lines
            ))
            .id_salt("output-manifest")
            .default_open(true)
            .show(ui, |ui| {
                egui::ScrollArea::both()
                    .id_salt("output-lines")
                    .max_height(theme::PLOT_HEIGHT)
                    .show(ui, |ui| {
                        for line in &view.head {
                            ui.add(
                                egui::Label::new(RichText::new(line).monospace().small())
                                    .wrap_mode(egui::TextWrapMode::Extend),
                            );
                        }
                    });
            });
        }
        Some(Err(e)) => {
            ui.label(
                RichText::new(format!("Cannot open the output manifest: {e}")).color(theme::ERROR),
            );
        }
        None => {}
    }

    // Objects.
    ui.add_space(theme::SPACE);
    ui.label(RichText::new("Data objects").size(theme::SECTION_SIZE).color(theme::TEXT_STRONG));
    let now_ms = detail.snapshot.computed_at_ms;
    egui::Grid::new("objects")
        .num_columns(3)
        .striped(true)
        .spacing([theme::SPACE * 2.0, theme::SPACE * 0.4])
        .show(ui, |ui| {
            for title in ["#", "Data object", "State"] {
                ui.label(RichText::new(title).small().color(theme::TEXT_WEAK));
            }
            ui.end_row();
            for object in &detail.snapshot.objects {
                ui.label(object.object_id.to_string());
                let source = usize::try_from(object.object_id)
                    .ok()
                    .and_then(|i| detail.sources.get(i))
                    .cloned()
                    .unwrap_or_default();
                ui.label(RichText::new(source).small());
                let mut text = object_state_text(&object.state, now_ms);
                if object.unclaimed_responses > 0 {
                    text.push_str(&format!(" · {} late answer(s)", object.unclaimed_responses));
                }
                ui.label(RichText::new(text).color(state_color(&object.state)));
                ui.end_row();
            }
        });
    action
}

/// Where a plot goes while it has nothing to show: the plot's size, a quiet frame and why (an
/// empty chart's axes, -1 to 1 around nothing, only confuse).
fn empty_plot(ui: &mut egui::Ui, why: &str) {
    let size = egui::vec2(ui.available_width(), theme::PLOT_HEIGHT);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    ui.painter().rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    let text = egui::Label::new(RichText::new(why).color(theme::TEXT_WEAK));
    ui.put(egui::Rect::from_center_size(rect.center(), egui::vec2(rect.width(), 20.0)), text);
}

fn labels_plot_ui(ui: &mut egui::Ui, detail: &JobDetail) {
    ui.label(RichText::new("Labels per class").color(theme::TEXT_WEAK));
    if detail.labels_per_class.iter().all(|(_, n)| *n == 0) {
        empty_plot(ui, "No consolidated labels yet.");
        return;
    }
    let bars: Vec<Bar> = detail
        .labels_per_class
        .iter()
        .enumerate()
        .map(|(i, (name, count))| {
            Bar::new(i as f64, *count as f64).name(name).fill(theme::label_color(i)).width(0.7)
        })
        .collect();
    let names: Vec<String> = detail.labels_per_class.iter().map(|(n, _)| n.clone()).collect();
    Plot::new(("labels-per-class", &detail.spec.labeling_job_name))
        .height(theme::PLOT_HEIGHT)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show_grid([false, true])
        .include_y(0.0)
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            names.get(i as usize).cloned().unwrap_or_default()
        })
        .show(ui, |plot| plot.bar_chart(BarChart::new("labels", bars)));
}

fn throughput_plot_ui(ui: &mut egui::Ui, detail: &JobDetail) {
    ui.label(
        RichText::new("Answers submitted over time (minutes since creation)")
            .color(theme::TEXT_WEAK),
    );
    if detail.submissions_ms.is_empty() {
        empty_plot(ui, "No answers yet.");
        return;
    }
    let start = detail
        .created_at_ms
        .min(detail.submissions_ms.first().copied().unwrap_or(detail.created_at_ms));
    let mut points = vec![[0.0, 0.0]];
    for (i, ms) in detail.submissions_ms.iter().enumerate() {
        let minutes = (ms - start) as f64 / 60_000.0;
        points.push([minutes, i as f64]);
        points.push([minutes, (i + 1) as f64]);
    }
    Plot::new(("throughput", &detail.spec.labeling_job_name))
        .height(theme::PLOT_HEIGHT)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_y(0.0)
        .include_x(0.0)
        .show(ui, |plot| {
            plot.line(
                Line::new("answers", PlotPoints::from(points))
                    .color(theme::ACCENT)
                    .width(2.0)
                    .allow_band(false),
            );
        });
}
