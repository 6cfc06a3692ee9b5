//! The job wizard: the console's "Create labeling job" flow (seed
//! `create-labeling-job-console.md`) as a desktop wizard, one screen per step, every field
//! validated as it is typed with Ground Truth's own rules ([`crate::job::validate`]) and the
//! finding shown beside the field it is about.
//!
//! Entry points for the app:
//! - [`WizardState::new`] (a fresh job), [`WizardState::chained`] (an adjustment or verification
//!   job of a finished job's output, from the monitor);
//! - [`wizard_ui`], called every frame with a [`WizardEnv`]; it returns a [`WizardAction`] when
//!   the author created the job, cancelled, or asked to open the preview in the task view.
//!
//! The UI never waits on the store: every store call goes through [`backend::Backend`] and is
//! polled each frame. Create goes through [`ops::execute_plan`], which ends in
//! `Jobs::create` — the same call as `groundwork job create` — so the wizard and the CLI store
//! byte-identical `job.json` files for the same choices.
//!
//! Must not depend on `app` or `cli`.

pub mod backend;
pub mod draft;
pub mod form;
pub mod markdown;
pub mod ops;
pub mod sandbox;
mod steps;
pub mod templates;

use std::collections::BTreeSet;

use egui::RichText;

use crate::formats::label_config::LabelCategoryConfig;
use crate::job::JobSpec;
use crate::job::task_type::AuditMode;
use crate::store::catalog::WorkTeam;
use crate::store::jobs::{CreatedJob, Jobs};
use crate::ui::{command, theme};

use backend::{Backend, Pending};
use draft::{AccessReport, AutoSetup, Built, ExistingLabels, Field, Identity, JobDraft, Step};
use ops::PreviewData;
use templates::Template;

/// Seconds the access check waits for the inputs to rest, off the identity and review steps.
pub const ACCESS_CHECK_DELAY_SECS: f64 = 1.0;

/// What the wizard needs from the app each frame.
#[derive(Debug, Clone, Copy)]
pub struct WizardEnv<'a> {
    /// The store gateway.
    pub backend: &'a Backend,
    /// Who creates the job, with which credentials.
    pub identity: &'a Identity,
}

/// What the author asked the app to do.
#[derive(Debug, Clone)]
pub enum WizardAction {
    /// The job was created (status In progress); show it in the monitor.
    Created {
        /// The job's name.
        name: String,
    },
    /// The author left the wizard without creating a job.
    Cancelled,
    /// Open the worker task view on the preview sandbox: `jobs` reads the real store and keeps
    /// every write in memory, and holds job `job_name` exactly as Create would write it.
    OpenPreviewTask {
        /// The sandbox's job operations.
        jobs: Jobs,
        /// The job in the sandbox.
        job_name: String,
    },
}

/// What an access check reads and probes: (manifest, job output folder), when both are known.
type AccessTarget = Option<(String, String)>;

/// The preview's state: the data, and its texture once uploaded.
pub(crate) struct PreviewView {
    /// What the sandbox run produced.
    pub data: PreviewData,
    /// The plan it was made from, to tell when it is stale.
    pub key: String,
    /// The first image, uploaded.
    pub texture: Option<egui::TextureHandle>,
}

/// The wizard's whole state. Create one per job being authored.
pub struct WizardState {
    /// The author's choices.
    pub draft: JobDraft,
    step: Step,
    touched: BTreeSet<Field>,
    revealed: BTreeSet<Step>,
    templates: Vec<Template>,
    template_choice: usize,
    // Automated data setup.
    scan: Option<Pending<Result<AutoSetup, String>>>,
    scan_error: Option<String>,
    // Access check.
    access: Option<AccessReport>,
    access_pending: Option<(AccessTarget, Pending<AccessReport>)>,
    access_wait: Option<(AccessTarget, f64)>,
    // Jobs already in the workspace (names are unique, ignoring letter case).
    job_names: Option<Vec<String>>,
    job_names_pending: Option<Pending<Result<Vec<String>, String>>>,
    // Work teams.
    teams: Option<Result<Vec<WorkTeam>, String>>,
    teams_pending: Option<Pending<Result<Vec<WorkTeam>, String>>>,
    new_team_name: String,
    new_team_members: String,
    team_pending: Option<Pending<Result<WorkTeam, String>>>,
    team_error: Option<String>,
    // Existing labels.
    existing_pending: Option<Pending<Result<ExistingLabels, String>>>,
    existing_error: Option<String>,
    // Preview.
    preview: Option<PreviewView>,
    preview_pending: Option<(String, Pending<PreviewData>)>,
    // Create.
    create_pending: Option<Pending<Result<CreatedJob, String>>>,
    create_error: Option<String>,
    created: Option<CreatedJob>,
    action: Option<WizardAction>,
}

impl std::fmt::Debug for WizardState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WizardState")
            .field("step", &self.step)
            .field("draft", &self.draft)
            .finish_non_exhaustive()
    }
}

impl WizardState {
    /// A fresh wizard for `identity`.
    pub fn new(identity: &Identity) -> Self {
        Self::from_draft(JobDraft::new(identity))
    }

    /// A wizard that starts from `draft` (e.g. a draft built by a test or restored by the app).
    pub fn from_draft(draft: JobDraft) -> Self {
        Self {
            draft,
            step: Step::Job,
            touched: BTreeSet::new(),
            revealed: BTreeSet::new(),
            templates: templates::builtin_templates(),
            template_choice: 0,
            scan: None,
            scan_error: None,
            access: None,
            access_pending: None,
            access_wait: None,
            job_names: None,
            job_names_pending: None,
            teams: None,
            teams_pending: None,
            new_team_name: String::new(),
            new_team_members: String::new(),
            team_pending: None,
            team_error: None,
            existing_pending: None,
            existing_error: None,
            preview: None,
            preview_pending: None,
            create_pending: None,
            create_error: None,
            created: None,
            action: None,
        }
    }

    /// A wizard for an adjustment or verification job of `earlier`'s output manifest, prefilled
    /// (the monitor's chaining action); it opens on the existing-labels step.
    pub fn chained(
        earlier: &JobSpec,
        earlier_config: Option<&LabelCategoryConfig>,
        output_manifest: &str,
        mode: AuditMode,
        identity: &Identity,
    ) -> Self {
        let mut state = Self::from_draft(JobDraft::chained(
            earlier,
            earlier_config,
            output_manifest,
            mode,
            identity,
        ));
        state.step = Step::ExistingLabels;
        // Everything is prefilled: show what is wrong with it from the start.
        state.revealed.extend(Step::ALL);
        state
    }

    /// The step on screen.
    pub fn step(&self) -> Step {
        self.step
    }

    /// Goes to `step`.
    pub fn go_to(&mut self, step: Step) {
        if step != self.step {
            self.revealed.insert(self.step);
        }
        self.step = step;
    }

    /// The job created, once it is.
    pub fn created(&self) -> Option<&CreatedJob> {
        self.created.as_ref()
    }

    /// The draft translated, with every finding (what the views show).
    pub fn built(&self, identity: &Identity) -> Built {
        let mut built = self.draft.build(&identity.user, self.access.as_ref());
        let name = &self.draft.name;
        let created = self.created.as_ref().map(|c| c.spec.labeling_job_name.as_str());
        if let Some(existing) =
            self.job_names.iter().flatten().find(|n| n.eq_ignore_ascii_case(name))
            && created != Some(existing.as_str())
        {
            built.findings.push((
                Field::JobName,
                crate::job::Finding::error(
                    "LabelingJobName",
                    format!("A job named \"{existing}\" already exists in this workspace; choose another name."),
                ),
            ));
        }
        built
    }

    /// True while a store call is in flight.
    pub fn is_busy(&self) -> bool {
        self.scan.is_some()
            || self.access_pending.is_some()
            || self.teams_pending.is_some()
            || self.job_names_pending.is_some()
            || self.team_pending.is_some()
            || self.existing_pending.is_some()
            || self.preview_pending.is_some()
            || self.create_pending.is_some()
    }

    /// Takes the results that arrived since the last frame.
    fn poll(&mut self, ui: &egui::Ui) {
        if let Some(result) = self.scan.as_ref().and_then(Pending::take) {
            self.scan = None;
            match result {
                Ok(setup) => {
                    if !self.touched.contains(&Field::TaskType) {
                        self.draft.category = setup.kind.category();
                        if self.draft.task_type.category() != self.draft.category {
                            self.draft.task_type =
                                crate::job::TaskType::console_choices(self.draft.category)
                                    .first()
                                    .copied()
                                    .unwrap_or(self.draft.task_type);
                        }
                    }
                    self.draft.auto_setup = Some(setup);
                    self.scan_error = None;
                }
                Err(e) => self.scan_error = Some(e),
            }
        }
        if let Some((_, pending)) = &self.access_pending
            && let Some(report) = pending.take()
        {
            self.access_pending = None;
            self.access = Some(report);
        }
        if let Some(result) = self.job_names_pending.as_ref().and_then(Pending::take) {
            self.job_names_pending = None;
            // A listing failure leaves the check to create, which refuses a taken name.
            self.job_names = Some(result.unwrap_or_default());
        }
        if let Some(result) = self.teams_pending.as_ref().and_then(Pending::take) {
            self.teams_pending = None;
            self.teams = Some(result);
        }
        if let Some(result) = self.team_pending.as_ref().and_then(Pending::take) {
            self.team_pending = None;
            match result {
                Ok(team) => {
                    self.draft.team = team.name.clone();
                    self.touched.insert(Field::WorkTeam);
                    if let Some(Ok(teams)) = &mut self.teams {
                        teams.push(team);
                        teams.sort_by(|a, b| a.name.cmp(&b.name));
                    }
                    self.new_team_name.clear();
                    self.new_team_members.clear();
                    self.team_error = None;
                }
                Err(e) => self.team_error = Some(e),
            }
        }
        if let Some(result) = self.existing_pending.as_ref().and_then(Pending::take) {
            self.existing_pending = None;
            match result {
                Ok(found) => {
                    self.existing_error = None;
                    let known = found.attribute(&self.draft.audit.attribute).is_some();
                    if !known && let Some(first) = found.attributes.first() {
                        self.draft.audit.attribute = first.attribute.clone();
                    }
                    self.draft.audit.found = Some(found);
                    steps::adopt_audited_labels(&mut self.draft);
                }
                Err(e) => self.existing_error = Some(e),
            }
        }
        if let Some((key, pending)) = &self.preview_pending
            && let Some(data) = pending.take()
        {
            let key = key.clone();
            self.preview_pending = None;
            let texture = match &data.first {
                Some(ops::PreviewObject::Image { width_px, height_px, rgba, .. }) => {
                    let size = [*width_px as usize, *height_px as usize];
                    let image = egui::ColorImage::from_rgba_unmultiplied(size, rgba);
                    Some(ui.ctx().load_texture(
                        "wizard-preview",
                        image,
                        egui::TextureOptions::LINEAR,
                    ))
                }
                _ => None,
            };
            self.preview = Some(PreviewView { data, key, texture });
        }
        if let Some(result) = self.create_pending.as_ref().and_then(Pending::take) {
            self.create_pending = None;
            match result {
                Ok(created) => {
                    self.action = Some(WizardAction::Created {
                        name: created.spec.labeling_job_name.clone(),
                    });
                    self.created = Some(created);
                    self.create_error = None;
                }
                Err(e) => self.create_error = Some(e),
            }
        }
    }

    /// Starts the store calls a step needs when it is on screen and its inputs changed.
    fn start_automatic(
        &mut self,
        env: &WizardEnv<'_>,
        built: &Built,
        ctx: &egui::Context,
        now_s: f64,
    ) {
        if self.job_names.is_none() && self.job_names_pending.is_none() {
            self.job_names_pending = Some(env.backend.spawn(|jobs| async move {
                let entries = jobs.workspace().list_jobs().await.map_err(|e| e.to_string())?;
                Ok(entries.into_iter().map(|e| e.name).collect())
            }));
        }
        if self.teams.is_none() && self.teams_pending.is_none() {
            self.teams_pending = Some(env.backend.spawn(ops::list_teams));
        }
        let target = self.draft.access_target();
        let checked = self.access.as_ref().map(|a| (a.manifest.clone(), a.output.clone()));
        let in_flight = self.access_pending.as_ref().map(|(t, _)| t.clone());
        if target.is_some() && target != checked && in_flight != Some(target.clone()) {
            if matches!(self.step, Step::Identity | Step::Review) {
                self.start_access_check(env);
            } else if self.revealed.contains(&Step::Identity) {
                // Elsewhere, check again once the inputs rest for a moment (not per keystroke).
                match &self.access_wait {
                    Some((waiting, since)) if *waiting == target => {
                        if now_s - since >= ACCESS_CHECK_DELAY_SECS {
                            self.access_wait = None;
                            self.start_access_check(env);
                        }
                    }
                    _ => self.access_wait = Some((target.clone(), now_s)),
                }
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(
                    ACCESS_CHECK_DELAY_SECS,
                ));
            }
        }
        if self.step == Step::Preview {
            let key = preview_key(built);
            let current = self.preview.as_ref().map(|p| p.key.as_str());
            let pending = self.preview_pending.as_ref().map(|(k, _)| k.as_str());
            if current != Some(key.as_str()) && pending != Some(key.as_str()) {
                let plan = built.plan.clone();
                self.preview_pending =
                    Some((key, env.backend.spawn(move |jobs| ops::preview(jobs, plan))));
            }
        }
    }

    fn start_access_check(&mut self, env: &WizardEnv<'_>) {
        if let Some((manifest, output)) = self.draft.access_target() {
            let target = Some((manifest.clone(), output.clone()));
            let pending = env.backend.spawn(move |jobs| ops::check_access(jobs, manifest, output));
            self.access_pending = Some((target, pending));
        }
    }

    fn start_create(&mut self, env: &WizardEnv<'_>, built: &Built) {
        Step::ALL.iter().for_each(|s| {
            self.revealed.insert(*s);
        });
        if !built.is_valid() || self.create_pending.is_some() || self.created.is_some() {
            return;
        }
        let plan = built.plan.clone();
        self.create_error = None;
        self.create_pending = Some(env.backend.spawn(move |jobs| ops::execute_plan(jobs, plan)));
    }
}

/// A key that changes whenever the preview would change: the plan's bytes.
fn preview_key(built: &Built) -> String {
    let plan = &built.plan;
    let config = plan
        .label_file
        .as_ref()
        .map(|(p, c)| format!("{p}{}", c.to_json_pretty()))
        .unwrap_or_default();
    format!("{}{config}{:?}", plan.spec.to_canonical_json(), plan.sample)
}

/// Draws the wizard; returns what the author asked the app to do, if anything.
pub fn wizard_ui(
    ui: &mut egui::Ui,
    state: &mut WizardState,
    env: &WizardEnv<'_>,
) -> Option<WizardAction> {
    env.backend.set_context(ui.ctx());
    state.poll(ui);
    let built = state.built(env.identity);
    let now_s = ui.input(|i| i.time);
    state.start_automatic(env, &built, ui.ctx(), now_s);

    let ctx = ui.ctx().clone();
    if command::WIZARD_NEXT.pressed(&ctx)
        && let Some(next) = state.step.next()
    {
        state.go_to(next);
    }
    if command::WIZARD_BACK.pressed(&ctx)
        && let Some(previous) = state.step.previous()
    {
        state.go_to(previous);
    }
    if command::WIZARD_CREATE.pressed(&ctx) {
        state.start_create(env, &built);
    }

    egui::Panel::left("wizard-steps")
        .resizable(false)
        .exact_size(theme::STEP_LIST_WIDTH)
        .show(ui, |ui| steps_list_ui(ui, state, &built));
    egui::Panel::bottom("wizard-nav").show(ui, |ui| nav_ui(ui, state, env, &built));
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            ui.add_space(theme::SPACE);
            ui.heading(format!("{}. {}", state.step.index() + 1, state.step.title()));
            ui.add_space(theme::SPACE);
            steps::step_ui(ui, state, env, &built);
            ui.add_space(theme::SPACE * 2.0);
        });
    });
    state.action.take()
}

fn steps_list_ui(ui: &mut egui::Ui, state: &mut WizardState, built: &Built) {
    ui.add_space(theme::SPACE);
    ui.label(
        RichText::new("Create labeling job").size(theme::SECTION_SIZE).color(theme::TEXT_STRONG),
    );
    ui.add_space(theme::SPACE);
    for step in Step::ALL {
        let errors = built.errors_on(step);
        let shown = state.revealed.contains(&step) && errors > 0;
        let text = format!("{}. {}", step.index() + 1, step.title());
        let mut rich = RichText::new(text);
        if shown {
            rich = rich.color(theme::ERROR);
        }
        let mut button = egui::Button::selectable(state.step == step, rich)
            .min_size(egui::vec2(theme::STEP_LIST_WIDTH - theme::SPACE * 2.5, 0.0));
        button = if shown {
            button.right_text(RichText::new(errors.to_string()).color(theme::ERROR).strong())
        } else {
            button.right_text("")
        };
        let mut response = ui.add(button);
        if shown {
            response = response.on_hover_text(format!("{errors} problem(s) on this step"));
        }
        if response.clicked() {
            state.go_to(step);
        }
    }
    if state.is_busy() {
        ui.add_space(theme::SPACE);
        ui.horizontal(|ui| {
            ui.spinner();
            ui.weak("Working…");
        });
    }
}

fn nav_ui(ui: &mut egui::Ui, state: &mut WizardState, env: &WizardEnv<'_>, built: &Built) {
    ui.add_space(theme::SPACE * 0.5);
    ui.horizontal(|ui| {
        if ui
            .button(command::WIZARD_CANCEL.label)
            .on_hover_text(command::WIZARD_CANCEL.hint(ui.ctx()))
            .clicked()
        {
            state.action = Some(WizardAction::Cancelled);
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if state.step == Step::Review {
                let enabled =
                    built.is_valid() && state.create_pending.is_none() && state.created.is_none();
                let button =
                    egui::Button::new(RichText::new(command::WIZARD_CREATE.label).strong())
                        .fill(if enabled { theme::ACCENT } else { theme::SURFACE_HOVER });
                let response = ui
                    .add_enabled(enabled, button)
                    .on_hover_text(command::WIZARD_CREATE.hint(ui.ctx()));
                if response.clicked() {
                    state.start_create(env, built);
                }
                if !built.is_valid() {
                    let errors = built.findings.iter().filter(|(_, f)| f.is_error()).count();
                    ui.label(
                        RichText::new(format!("{errors} problem(s) to fix before create"))
                            .color(theme::ERROR),
                    );
                }
            } else if let Some(next) = state.step.next() {
                let next_button =
                    egui::Button::new(RichText::new(command::WIZARD_NEXT.label).strong())
                        .fill(theme::ACCENT);
                if ui.add(next_button).on_hover_text(command::WIZARD_NEXT.hint(ui.ctx())).clicked()
                {
                    state.go_to(next);
                }
            }
            if let Some(previous) = state.step.previous()
                && ui
                    .button(command::WIZARD_BACK.label)
                    .on_hover_text(command::WIZARD_BACK.hint(ui.ctx()))
                    .clicked()
            {
                state.go_to(previous);
            }
        });
    });
    ui.add_space(theme::SPACE * 0.5);
}
