//! The home screen: pick a workspace (a local folder, or `s3://bucket/prefix` with profile and
//! endpoint; recent workspaces remembered), see the jobs of the worker's team with status and
//! progress, and start working on one.

use egui::{RichText, Ui};

use super::command::{self, all};
use super::theme;
use super::widgets::{self, SyncBadge};

/// One job as the home screen lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRow {
    /// `LabelingJobName`.
    pub name: String,
    /// `TaskTitle`.
    pub title: String,
    /// `TaskDescription`.
    pub description: String,
    /// The task type, in words.
    pub kind: String,
    /// False when this app has no view for the task type.
    pub supported: bool,
    /// Ground Truth's status name.
    pub status: String,
    /// Objects labeled.
    pub labeled: u64,
    /// Objects in the job.
    pub total: u64,
    /// Tasks of this job the worker holds (to resume).
    pub held: usize,
}

/// What the home screen shows, from the app.
#[derive(Debug, Clone, Copy)]
pub struct HomeModel<'a> {
    /// The open workspace, in words (`None` while none is open).
    pub workspace: Option<&'a str>,
    /// The worker id.
    pub worker: &'a str,
    /// The sync badge, when a workspace is open.
    pub sync: Option<SyncBadge>,
    /// The jobs.
    pub jobs: &'a [JobRow],
    /// True while jobs load.
    pub loading: bool,
    /// Recent workspaces, newest first.
    pub recent: &'a [String],
    /// A message for the worker (errors, "no task available", …).
    pub notice: Option<&'a str>,
    /// True while a task is being claimed and opened.
    pub starting: bool,
}

/// The home screen's own editable state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HomeState {
    /// The selected job.
    pub selected_job: Option<String>,
    /// The local folder field.
    pub local_path: String,
    /// The S3 URI field.
    pub s3_uri: String,
    /// The AWS profile field.
    pub s3_profile: String,
    /// The endpoint field.
    pub s3_endpoint: String,
}

/// What the home screen asks the app to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HomeAction {
    /// Open a local folder.
    OpenLocal(String),
    /// Open an S3 workspace.
    OpenS3 {
        /// `s3://bucket/prefix`.
        uri: String,
        /// AWS profile (empty: the default chain).
        profile: String,
        /// Endpoint URL (empty: AWS).
        endpoint: String,
    },
    /// Open a recent workspace (as remembered).
    OpenRecent(String),
    /// Reload the jobs.
    Refresh,
    /// Claim (or resume) a task of the job.
    StartWorking(String),
    /// Dismiss the notice.
    DismissNotice,
    /// Open the job wizard (create a labeling job).
    CreateJob,
    /// Open the job monitor.
    MonitorJobs,
}

/// The home screen.
pub fn home_ui(ui: &mut Ui, state: &mut HomeState, model: &HomeModel<'_>) -> Vec<HomeAction> {
    let mut actions = Vec::new();
    let ctx = ui.ctx().clone();
    let typing = ctx.egui_wants_keyboard_input();
    if !typing && all::REFRESH.pressed(&ctx) {
        actions.push(HomeAction::Refresh);
    }

    egui::Panel::top("home-top")
        .frame(
            egui::Frame::new()
                .fill(theme::SURFACE)
                .inner_margin(egui::Margin::symmetric(theme::SPACE as i8 * 2, theme::SPACE as i8)),
        )
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new("Groundwork").heading().strong());
                ui.label(
                    RichText::new(model.workspace.unwrap_or("no workspace open"))
                        .color(theme::TEXT_WEAK),
                );
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(
                        RichText::new(format!("Signed in as {}", model.worker))
                            .color(theme::TEXT_WEAK),
                    );
                    if let Some(sync) = model.sync {
                        ui.separator();
                        widgets::sync_badge(ui, sync);
                    }
                });
            });
        });

    if let Some(notice) = model.notice {
        egui::Panel::bottom("home-notice")
            .frame(
                egui::Frame::new()
                    .fill(theme::with_alpha(theme::WARN, 0.2))
                    .inner_margin(theme::SPACE as i8),
            )
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(notice);
                    if ui.button("Dismiss").clicked() {
                        actions.push(HomeAction::DismissNotice);
                    }
                });
            });
    }

    egui::Panel::left("home-workspaces")
        .exact_size(theme::SIDE_PANEL_WIDTH)
        .frame(egui::Frame::new().fill(theme::SURFACE).inner_margin(theme::SPACE as i8 * 2))
        .show(ui, |ui| {
            egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
                workspace_panel(ui, state, model, &mut actions);
            });
        });

    egui::CentralPanel::default()
        .frame(egui::Frame::new().fill(theme::BG).inner_margin(theme::SPACE as i8 * 3))
        .show(ui, |ui| {
            jobs_panel(ui, state, model, &mut actions);
        });
    actions
}

fn workspace_panel(
    ui: &mut Ui,
    state: &mut HomeState,
    model: &HomeModel<'_>,
    actions: &mut Vec<HomeAction>,
) {
    widgets::section(ui, "Recent workspaces");
    if model.recent.is_empty() {
        ui.label(RichText::new("None yet.").color(theme::TEXT_WEAK));
    }
    for recent in model.recent {
        let current = model.workspace == Some(recent.as_str());
        let r = ui
            .add(egui::Button::selectable(current, short_path(recent)).truncate())
            .on_hover_text(recent);
        if r.clicked() && !current {
            actions.push(HomeAction::OpenRecent(recent.clone()));
        }
    }
    ui.add_space(theme::SPACE * 2.0);
    widgets::section(ui, "Local folder");
    ui.add(
        egui::TextEdit::singleline(&mut state.local_path)
            .hint_text("Folder path")
            .desired_width(f32::INFINITY),
    );
    if ui
        .add_enabled(!state.local_path.trim().is_empty(), egui::Button::new("Open folder"))
        .clicked()
    {
        actions.push(HomeAction::OpenLocal(state.local_path.trim().to_owned()));
    }
    ui.add_space(theme::SPACE * 2.0);
    widgets::section(ui, "S3 workspace");
    ui.add(
        egui::TextEdit::singleline(&mut state.s3_uri)
            .hint_text("s3://bucket/prefix")
            .desired_width(f32::INFINITY),
    );
    ui.add(
        egui::TextEdit::singleline(&mut state.s3_profile)
            .hint_text("AWS profile (optional)")
            .desired_width(f32::INFINITY),
    );
    ui.add(
        egui::TextEdit::singleline(&mut state.s3_endpoint)
            .hint_text("Endpoint URL (optional)")
            .desired_width(f32::INFINITY),
    );
    let valid = state.s3_uri.trim().starts_with("s3://");
    if command::button(ui, &all::OPEN_WORKSPACE, valid) {
        actions.push(HomeAction::OpenS3 {
            uri: state.s3_uri.trim().to_owned(),
            profile: state.s3_profile.trim().to_owned(),
            endpoint: state.s3_endpoint.trim().to_owned(),
        });
    }
}

/// The last two path segments, for narrow lists.
fn short_path(path: &str) -> String {
    if path.starts_with("s3://") {
        return path.to_owned();
    }
    let parts: Vec<&str> = path.trim_end_matches('/').rsplit('/').take(2).collect();
    match parts.as_slice() {
        [last, parent] => format!("…/{parent}/{last}"),
        _ => path.to_owned(),
    }
}

fn jobs_panel(
    ui: &mut Ui,
    state: &mut HomeState,
    model: &HomeModel<'_>,
    actions: &mut Vec<HomeAction>,
) {
    ui.horizontal(|ui| {
        ui.heading("Your jobs");
        if model.loading {
            ui.spinner();
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if command::button(ui, &all::REFRESH, model.workspace.is_some() && !model.loading) {
                actions.push(HomeAction::Refresh);
            }
            if ui
                .add_enabled(model.workspace.is_some(), egui::Button::new("Monitor jobs"))
                .clicked()
            {
                actions.push(HomeAction::MonitorJobs);
            }
            if ui.add_enabled(model.workspace.is_some(), egui::Button::new("Create job")).clicked()
            {
                actions.push(HomeAction::CreateJob);
            }
        });
    });
    ui.add_space(theme::SPACE);
    if model.jobs.is_empty() {
        let text = if model.workspace.is_none() {
            "Open a workspace to see its jobs."
        } else if model.loading {
            "Loading jobs…"
        } else {
            "No job for your team in this workspace."
        };
        ui.label(RichText::new(text).color(theme::TEXT_WEAK));
        return;
    }
    if state.selected_job.as_ref().is_none_or(|s| !model.jobs.iter().any(|j| &j.name == s)) {
        state.selected_job = model.jobs.iter().find(|j| j.supported).map(|j| j.name.clone());
    }
    let detail_height = 150.0;
    egui::ScrollArea::vertical()
        .max_height((ui.available_height() - detail_height).max(120.0))
        .auto_shrink([false, true])
        .show(ui, |ui| {
            egui::Grid::new("jobs")
                .num_columns(5)
                .spacing([theme::SPACE * 2.0, theme::SPACE])
                .striped(true)
                .show(ui, |ui| {
                    for h in ["Job", "Task type", "Status", "Progress", ""] {
                        ui.label(RichText::new(h).small().strong().color(theme::TEXT_WEAK));
                    }
                    ui.end_row();
                    for job in model.jobs {
                        let selected = state.selected_job.as_deref() == Some(job.name.as_str());
                        if ui.add(egui::Button::selectable(selected, job.name.as_str())).clicked() {
                            state.selected_job = Some(job.name.clone());
                        }
                        let kind = RichText::new(&job.kind).color(if job.supported {
                            theme::TEXT
                        } else {
                            theme::TEXT_WEAK
                        });
                        ui.label(kind);
                        ui.label(RichText::new(&job.status).color(status_color(&job.status)));
                        let fraction = if job.total == 0 {
                            0.0
                        } else {
                            job.labeled as f32 / job.total as f32
                        };
                        ui.add(
                            egui::ProgressBar::new(fraction)
                                .desired_width(140.0)
                                .text(format!("{} / {}", job.labeled, job.total)),
                        );
                        if job.held > 0 {
                            ui.label(
                                RichText::new(format!("{} in progress", job.held))
                                    .small()
                                    .color(theme::WARN),
                            );
                        } else {
                            ui.label("");
                        }
                        ui.end_row();
                    }
                });
        });
    ui.add_space(theme::SPACE * 2.0);
    let Some(job) =
        state.selected_job.as_ref().and_then(|s| model.jobs.iter().find(|j| &j.name == s))
    else {
        return;
    };
    egui::Frame::new()
        .fill(theme::SURFACE)
        .corner_radius(theme::RADIUS)
        .inner_margin(theme::SPACE as i8 * 2)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(&job.title).heading());
            ui.label(RichText::new(&job.description).color(theme::TEXT_WEAK));
            ui.add_space(theme::SPACE);
            ui.horizontal(|ui| {
                let enabled = job.supported && !model.starting && job.status == "InProgress";
                let label =
                    RichText::new(all::START_WORKING.label).strong().color(egui::Color32::WHITE);
                let hint = if !job.supported {
                    "This task type has no view in this app yet.".to_owned()
                } else if job.held > 0 {
                    "Resumes the task you left, with its saved draft.".to_owned()
                } else {
                    all::START_WORKING.hint(ui.ctx())
                };
                let r = ui
                    .add_enabled(enabled, egui::Button::new(label).fill(theme::ACCENT))
                    .on_hover_text(hint.clone())
                    .on_disabled_hover_text(hint);
                let pressed = enabled
                    && !ui.ctx().egui_wants_keyboard_input()
                    && all::START_WORKING.pressed(ui.ctx());
                if r.clicked() || pressed {
                    actions.push(HomeAction::StartWorking(job.name.clone()));
                }
                if model.starting {
                    ui.spinner();
                    ui.label(RichText::new("Claiming a task…").color(theme::TEXT_WEAK));
                } else if job.held > 0 {
                    ui.label(
                        RichText::new("You have a task of this job in progress.")
                            .color(theme::TEXT_WEAK),
                    );
                }
            });
        });
}

fn status_color(status: &str) -> egui::Color32 {
    match status {
        "InProgress" => theme::ACCENT,
        "Completed" => theme::OK,
        "Failed" => theme::ERROR,
        "Stopping" | "Stopped" => theme::WARN,
        _ => theme::TEXT_WEAK,
    }
}
