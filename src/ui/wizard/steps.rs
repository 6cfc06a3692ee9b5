//! One function per wizard step. Each draws its fields through [`Form`] (label, widget, findings
//! under it) and starts store calls through the backend; none of them waits.

use egui::{ComboBox, RichText, TextEdit};

use crate::job::TaskType;
use crate::job::task_type::{AuditMode, TaskCategory};
use crate::ui::theme;

use super::draft::{
    AttributeDraft, AttributeKind, Built, DataMode, Field, JobDraft, PortionMode, Step, TimeUnit,
    VERIFICATION_LABELS, VIDEO_TOOLS, human_duration,
};
use super::form::{Form, field_label, findings_list, hint, section};
use super::markdown::markdown_ui;
use super::ops::{self, PreviewObject};
use super::{WizardAction, WizardEnv, WizardState};

/// Draws the current step.
pub(super) fn step_ui(
    ui: &mut egui::Ui,
    state: &mut WizardState,
    env: &WizardEnv<'_>,
    built: &Built,
) {
    match state.step {
        Step::Job => job_ui(ui, state, built),
        Step::Data => data_ui(ui, state, env, built),
        Step::Identity => identity_ui(ui, state, env, built),
        Step::Additional => additional_ui(ui, state, built),
        Step::TaskType => task_type_ui(ui, state, built),
        Step::Tags => tags_ui(ui, state, built),
        Step::Workers => workers_ui(ui, state, env, built),
        Step::ExistingLabels => existing_ui(ui, state, env, built),
        Step::WorkerUi => worker_ui_ui(ui, state, built),
        Step::Preview => preview_ui(ui, state),
        Step::Review => review_ui(ui, state, built),
    }
}

fn form<'a>(state: &'a mut WizardState, built: &'a Built) -> (Form<'a>, &'a mut JobDraft) {
    let revealed = state.revealed.contains(&state.step);
    (Form { built, touched: &mut state.touched, revealed }, &mut state.draft)
}

fn card<R>(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui) -> R) -> R {
    let width = (theme::FORM_FIELD_WIDTH + theme::SPACE * 20.0)
        .min(ui.available_width() - theme::SPACE * 3.0);
    card_sized(ui, width, add)
}

fn card_sized<R>(ui: &mut egui::Ui, max_width: f32, add: impl FnOnce(&mut egui::Ui) -> R) -> R {
    egui::Frame::new()
        .fill(theme::SURFACE)
        .stroke(egui::Stroke::new(1.0, theme::LINE))
        .corner_radius(theme::RADIUS)
        .inner_margin(theme::SPACE * 1.5)
        .show(ui, |ui| {
            ui.set_max_width(max_width);
            add(ui)
        })
        .inner
}

/// A small filled square in `color`, as a legend mark.
pub(super) fn swatch(ui: &mut egui::Ui, color: egui::Color32) {
    let size = egui::vec2(theme::SWATCH_SIZE, theme::SWATCH_SIZE);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    ui.painter().rect_filled(rect, 2.0, color);
}

fn status_line(ui: &mut egui::Ui, color: egui::Color32, text: &str) {
    ui.horizontal_wrapped(|ui| {
        let size = egui::vec2(theme::SWATCH_SIZE, theme::SWATCH_SIZE);
        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
        ui.painter().circle_filled(rect.center(), theme::SWATCH_SIZE * 0.4, color);
        ui.label(RichText::new(text).color(color));
    });
}

fn ok_line(ui: &mut egui::Ui, text: &str) {
    status_line(ui, theme::OK, text);
}

fn error_line(ui: &mut egui::Ui, text: &str) {
    status_line(ui, theme::ERROR, text);
}

fn busy(ui: &mut egui::Ui, text: &str) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.weak(text);
    });
}

// --- 1. Job name --------------------------------------------------------------------------------

fn job_ui(ui: &mut egui::Ui, state: &mut WizardState, built: &Built) {
    let (mut form, draft) = form(state, built);
    form.text(
        ui,
        Field::JobName,
        "Job name",
        &mut draft.name,
        "e.g. street-boxes",
        "1–63 letters, digits and hyphens, unique in this workspace. It also names the job's \
         output folder.",
    );
    let response = ui.checkbox(
        &mut draft.custom_label_attribute,
        "I want to specify a label attribute name different from the labeling job name",
    );
    if response.changed() {
        form.touch(Field::LabelAttributeName);
    }
    ui.add_space(theme::SPACE * 0.5);
    if draft.custom_label_attribute {
        form.text(
            ui,
            Field::LabelAttributeName,
            "Label attribute name",
            &mut draft.label_attribute_name,
            "e.g. vehicles",
            "The key the labels get in the output manifest.",
        );
    } else {
        form.findings(ui, Field::LabelAttributeName);
        let name = if draft.name.is_empty() { "<job name>" } else { draft.name.as_str() };
        hint(ui, &format!("Labels are stored under \"{name}\" in the output manifest."));
    }
}

// --- 2. Input data ------------------------------------------------------------------------------

fn data_ui(ui: &mut egui::Ui, state: &mut WizardState, env: &WizardEnv<'_>, built: &Built) {
    let scanning = state.scan.is_some();
    let scan_error = state.scan_error.clone();
    let mut start_scan = false;
    {
        let (mut form, draft) = form(state, built);
        section(ui, "Data setup");
        ui.horizontal(|ui| {
            ui.radio_value(&mut draft.data_mode, DataMode::Automated, "Automated data setup");
            ui.radio_value(&mut draft.data_mode, DataMode::Manual, "Manual data setup");
        });
        ui.add_space(theme::SPACE * 0.5);
        match draft.data_mode {
            DataMode::Automated => {
                hint(
                    ui,
                    "Groundwork scans the prefix and writes an input manifest into it, as the \
                     console does (not for 3D point clouds).",
                );
                form.text(
                    ui,
                    Field::DataSetup,
                    "Input data location",
                    &mut draft.auto_prefix,
                    "s3://bucket/images/",
                    "",
                );
                field_label(ui, "Data type");
                ui.horizontal(|ui| {
                    for kind in super::draft::AutoKind::ALL {
                        ui.radio_value(&mut draft.auto_kind, kind, kind.label());
                    }
                });
                ui.add_space(theme::SPACE * 0.5);
                ui.horizontal(|ui| {
                    let enabled = !scanning && !draft.auto_prefix.trim().is_empty();
                    if ui
                        .add_enabled(enabled, egui::Button::new("Scan prefix and create manifest"))
                        .clicked()
                    {
                        start_scan = true;
                    }
                    if scanning {
                        busy(ui, "Scanning…");
                    }
                });
                if let Some(error) = &scan_error {
                    error_line(ui, error);
                }
                if let Some(setup) = draft.current_auto_setup() {
                    card(ui, |ui| {
                        ok_line(ui, &format!("{} data objects", setup.objects));
                        ui.label(
                            RichText::new(format!("Manifest: {}", setup.manifest))
                                .color(theme::TEXT_WEAK),
                        );
                        ui.label("Sample:");
                        for line in &setup.sample {
                            ui.label(RichText::new(line).monospace().small());
                        }
                        if !setup.skipped.is_empty() {
                            egui::CollapsingHeader::new(format!("{} skipped", setup.skipped.len()))
                                .id_salt("skipped")
                                .show(ui, |ui| {
                                    for line in setup.skipped.iter().take(50) {
                                        ui.label(
                                            RichText::new(line).small().color(theme::TEXT_WEAK),
                                        );
                                    }
                                });
                        }
                    });
                }
                form.findings(ui, Field::InputManifest);
            }
            DataMode::Manual => {
                form.text(
                    ui,
                    Field::InputManifest,
                    "Input dataset location",
                    &mut draft.manifest_uri,
                    "s3://bucket/path/manifest.json",
                    "The input manifest (JSON Lines, one data object per line).",
                );
            }
        }
        section(ui, "Output");
        form.text(
            ui,
            Field::OutputPath,
            "Output dataset location",
            &mut draft.output_path,
            "s3://bucket/output/",
            "Labels, worker answers and the output manifest go to <location>/<job name>/.",
        );
    }
    if start_scan {
        let prefix = state.draft.auto_prefix.clone();
        let kind = state.draft.auto_kind;
        state.touched.insert(Field::DataSetup);
        state.scan_error = None;
        state.scan = Some(env.backend.spawn(move |jobs| ops::scan_prefix(jobs, prefix, kind)));
    }
}

// --- 3. Identity --------------------------------------------------------------------------------

fn identity_ui(ui: &mut egui::Ui, state: &mut WizardState, env: &WizardEnv<'_>, built: &Built) {
    let identity = env.identity;
    section(ui, "Who runs this job");
    card(ui, |ui| {
        egui::Grid::new("identity")
            .num_columns(2)
            .spacing([theme::SPACE * 2.0, theme::SPACE * 0.5])
            .show(ui, |ui| {
                for (key, value) in [
                    ("Created by", identity.user.as_str()),
                    ("Credentials", identity.credentials.as_str()),
                    ("Region", identity.region.as_str()),
                    ("Account", identity.account.as_str()),
                ] {
                    ui.label(RichText::new(key).color(theme::TEXT_WEAK));
                    ui.label(value);
                    ui.end_row();
                }
            });
    });
    hint(
        ui,
        "Groundwork reads the input and writes the output with these credentials; no IAM role is \
         assumed. Every worker uses their own credentials the same way.",
    );
    {
        let (mut form, draft) = form(state, built);
        ui.add_space(theme::SPACE);
        form.text(
            ui,
            Field::RoleArn,
            "Execution role ARN",
            &mut draft.role_arn,
            "arn:aws:iam::111122223333:role/labeling",
            "Recorded in job.json so Ground Truth could run the same request.",
        );
    }
    section(ui, "Access check");
    let target = state.draft.access_target();
    let mut recheck = false;
    match &target {
        None => {
            hint(ui, "Choose the input manifest and the output location (and the job name) first.");
        }
        Some((manifest, output)) => {
            card(ui, |ui| {
                ui.label(format!("Read {manifest}"));
                ui.label(format!("Write and delete a probe under {output}"));
                ui.add_space(theme::SPACE * 0.5);
                match &state.access {
                    Some(report)
                        if (report.manifest.clone(), report.output.clone())
                            == *target.as_ref().unwrap_or(&(String::new(), String::new())) =>
                    {
                        match &report.read {
                            Ok((bytes, objects)) => ok_line(
                                ui,
                                &format!(
                                    "Read the manifest: {objects} data objects, {bytes} bytes"
                                ),
                            ),
                            Err(e) => error_line(ui, &format!("Cannot read the manifest: {e}")),
                        }
                        match &report.write {
                            Ok(_) => ok_line(
                                ui,
                                "Wrote and deleted a probe object in the output location",
                            ),
                            Err(e) => {
                                error_line(ui, &format!("Cannot write the output location: {e}"))
                            }
                        }
                    }
                    _ => {}
                }
                if state.access_pending.is_some() {
                    busy(ui, "Checking access…");
                } else if ui.button("Check access again").clicked() {
                    recheck = true;
                }
            });
        }
    }
    let revealed = state.revealed.contains(&Step::Identity);
    if revealed || state.access.is_some() {
        let errors: Vec<_> = built.at(Field::Access).filter(|f| f.is_error()).cloned().collect();
        if state.access.is_none() || target.is_none() {
            findings_list(ui, &errors);
        }
    }
    if recheck {
        state.access = None;
        state.start_access_check(env);
    }
}

// --- 4. Additional configuration ----------------------------------------------------------------

fn additional_ui(ui: &mut egui::Ui, state: &mut WizardState, built: &Built) {
    let (mut form, draft) = form(state, built);
    section(ui, "How much of the dataset to label");
    ui.horizontal(|ui| {
        let before = draft.portion;
        ui.radio_value(&mut draft.portion, PortionMode::All, "All of it");
        ui.radio_value(&mut draft.portion, PortionMode::RandomPercent, "A random sample");
        ui.radio_value(&mut draft.portion, PortionMode::FirstN, "The first objects");
        if before != draft.portion {
            form.touch(Field::Portion);
        }
    });
    match draft.portion {
        PortionMode::All => {}
        PortionMode::RandomPercent => {
            ui.horizontal(|ui| {
                form.inline_text(
                    ui,
                    Field::Portion,
                    "Percent of the objects",
                    &mut draft.portion_value,
                    60.0,
                );
                ui.label("%");
            });
        }
        PortionMode::FirstN => {
            ui.horizontal(|ui| {
                form.inline_text(
                    ui,
                    Field::Portion,
                    "Number of objects",
                    &mut draft.portion_value,
                    80.0,
                );
            });
        }
    }
    form.findings(ui, Field::Portion);
    if draft.portion != PortionMode::All {
        hint(
            ui,
            "A sampled manifest is written to <output>/<job name>/annotation-tool/input.manifest when the job is created.",
        );
    }
    section(ui, "Encryption");
    form.text(
        ui,
        Field::KmsKey,
        "KMS key for the output (optional)",
        &mut draft.kms_key,
        "alias/labels or arn:aws:kms:…",
        "Every object written under the output location asks for SSE-KMS with this key.",
    );
    section(ui, "Content");
    let a = ui.checkbox(
        &mut draft.free_of_pii,
        "The data is free of personally identifiable information",
    );
    let b = ui.checkbox(&mut draft.free_of_adult, "The data is free of adult content");
    if a.changed() || b.changed() {
        form.touch(Field::ContentClassifiers);
    }
    form.findings(ui, Field::ContentClassifiers);
}

// --- 5. Task type -------------------------------------------------------------------------------

fn task_type_description(task_type: TaskType) -> String {
    let limits = task_type.label_limits();
    let labels = match limits.min {
        0 => String::new(),
        1 => "at least 1 label".into(),
        n => format!("at least {n} labels"),
    };
    format!(
        "{labels} · default timeout {} · {} worker(s) per object by default",
        human_duration(task_type.default_task_time_limit_secs()),
        task_type.default_workers_per_object()
    )
}

fn task_type_ui(ui: &mut egui::Ui, state: &mut WizardState, built: &Built) {
    let (mut form, draft) = form(state, built);
    field_label(ui, "Task category");
    ui.horizontal(|ui| {
        for category in TaskCategory::ALL {
            if category == TaskCategory::Custom {
                continue;
            }
            if ui.selectable_label(draft.category == category, category.display_name()).clicked() {
                draft.category = category;
                form.touch(Field::TaskType);
                if draft.task_type.category() != category
                    && let Some(first) = TaskType::console_choices(category).first()
                {
                    draft.task_type = *first;
                }
            }
        }
    });
    hint(
        ui,
        "Custom workflows (your own template and Lambdas) are created from a spec file with `groundwork job create`.",
    );
    ui.add_space(theme::SPACE);
    field_label(ui, "Task selection");
    for task_type in TaskType::console_choices(draft.category) {
        ui.horizontal(|ui| {
            if ui.radio(draft.task_type == task_type, task_type.display_name()).clicked() {
                draft.task_type = task_type;
                form.touch(Field::TaskType);
            }
            ui.label(
                RichText::new(task_type_description(task_type)).small().color(theme::TEXT_WEAK),
            );
        });
    }
    form.findings(ui, Field::TaskType);
    let effective = draft.effective_task_type();
    if effective != draft.task_type {
        ui.add_space(theme::SPACE);
        hint(ui, &format!("With existing labels displayed, this is a {effective} job."));
    }
}

// --- 6. Tags ------------------------------------------------------------------------------------

fn tags_ui(ui: &mut egui::Ui, state: &mut WizardState, built: &Built) {
    let (mut form, draft) = form(state, built);
    hint(ui, "Optional: key–value pairs that make the job easier to find. At most 50.");
    ui.add_space(theme::SPACE * 0.5);
    let mut remove = None;
    for (i, (key, value)) in draft.tags.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            form.inline_text(ui, Field::TagKey(i), &format!("Key {}", i + 1), key, 180.0);
            form.inline_text(ui, Field::TagValue(i), &format!("Value {}", i + 1), value, 220.0);
            if ui.button("Remove").accessible_name(format!("Remove tag {}", i + 1)).clicked() {
                remove = Some(i);
            }
        });
        form.findings(ui, Field::TagKey(i));
        form.findings(ui, Field::TagValue(i));
    }
    if let Some(i) = remove {
        draft.tags.remove(i);
    }
    if ui.button("Add tag").clicked() {
        draft.tags.push((String::new(), String::new()));
    }
    form.findings(ui, Field::Tags);
}

// --- 7. Workers ---------------------------------------------------------------------------------

fn duration_row(
    ui: &mut egui::Ui,
    form: &mut Form<'_>,
    field: Field,
    label: &str,
    input: &mut super::draft::DurationInput,
) {
    let label_text = label;
    let label = field_label(ui, label);
    ui.horizontal(|ui| {
        let mut edit =
            TextEdit::singleline(&mut input.value).desired_width(90.0).hint_text("default");
        if form.has_error(field) {
            edit = edit.background_color(theme::ERROR_FIELD_BG);
        }
        let response = ui.add(edit).labelled_by(label.id);
        if response.changed() || response.lost_focus() {
            form.touch(field);
        }
        let combo = ComboBox::from_id_salt(("unit", label.id))
            .selected_text(input.unit.label())
            .show_ui(ui, |ui| {
                for unit in TimeUnit::ALL {
                    if ui.selectable_value(&mut input.unit, unit, unit.label()).changed() {
                        form.touch(field);
                    }
                }
            });
        let _ = combo.response.accessible_name(format!("{} unit", label_text));
    });
}

fn workers_ui(ui: &mut egui::Ui, state: &mut WizardState, env: &WizardEnv<'_>, built: &Built) {
    let task_type = state.draft.effective_task_type();
    section(ui, "Private work team");
    let mut create_team = false;
    {
        let revealed = state.revealed.contains(&Step::Workers);
        let teams = state.teams.clone();
        let (mut form, draft) =
            (Form { built, touched: &mut state.touched, revealed }, &mut state.draft);
        match &teams {
            None => busy(ui, "Loading work teams…"),
            Some(Err(e)) => error_line(ui, &format!("Cannot list work teams: {e}")),
            Some(Ok(teams)) if teams.is_empty() => hint(ui, "No work team yet: create one below."),
            Some(Ok(teams)) => {
                for team in teams {
                    ui.horizontal(|ui| {
                        let text = format!("{} ({} members)", team.name, team.members.len());
                        if ui.radio(draft.team == team.name, text).clicked() {
                            draft.team = team.name.clone();
                            form.touch(Field::WorkTeam);
                        }
                        if draft.team == team.name {
                            ui.label(
                                RichText::new(team.members.join(", "))
                                    .small()
                                    .color(theme::TEXT_WEAK),
                            );
                        }
                    });
                }
            }
        }
        form.findings(ui, Field::WorkTeam);
        egui::CollapsingHeader::new("Create a work team")
            .id_salt("new-team")
            .default_open(matches!(&teams, Some(Ok(t)) if t.is_empty()))
            .show(ui, |ui| {
                let label = field_label(ui, "Team name");
                ui.add(
                    TextEdit::singleline(&mut state.new_team_name)
                        .hint_text("e.g. street-team")
                        .desired_width(theme::FORM_FIELD_WIDTH * 0.6),
                )
                .labelled_by(label.id);
                let label = field_label(ui, "Members");
                ui.add(
                    TextEdit::singleline(&mut state.new_team_members)
                        .hint_text("worker ids, comma-separated")
                        .desired_width(theme::FORM_FIELD_WIDTH),
                )
                .labelled_by(label.id);
                hint(
                    ui,
                    "Worker ids as workers sign in with (letters, digits, '-', '_', '.', '@').",
                );
                ui.horizontal(|ui| {
                    let enabled =
                        state.team_pending.is_none() && !state.new_team_name.trim().is_empty();
                    if ui.add_enabled(enabled, egui::Button::new("Create team")).clicked() {
                        create_team = true;
                    }
                    if state.team_pending.is_some() {
                        busy(ui, "Creating…");
                    }
                });
                if let Some(e) = &state.team_error {
                    error_line(ui, e);
                }
            });
    }
    if create_team {
        let name = state.new_team_name.clone();
        let members: Vec<String> = state
            .new_team_members
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect();
        state.team_pending =
            Some(env.backend.spawn(move |jobs| ops::create_team(jobs, name, members)));
    }

    let (mut form, draft) = form(state, built);
    section(ui, "Task timing");
    duration_row(ui, &mut form, Field::Timeout, "Task timeout", &mut draft.timeout);
    form.findings(ui, Field::Timeout);
    hint(
        ui,
        &format!(
            "How long a worker has for one task. Default for {task_type}: {}; at most {}. Above 1 \
             hour, Ground Truth needs the execution role's maximum session duration raised to match.",
            human_duration(task_type.default_task_time_limit_secs()),
            human_duration(task_type.max_task_time_limit_secs()),
        ),
    );
    ui.add_space(theme::SPACE * 0.5);
    duration_row(ui, &mut form, Field::Lifetime, "Task availability lifetime", &mut draft.lifetime);
    form.findings(ui, Field::Lifetime);
    hint(
        ui,
        "How long tasks stay available to the team. Default: 30 days (the most for private teams).",
    );
    ui.add_space(theme::SPACE * 0.5);
    section(ui, "Workers");
    form.number(
        ui,
        Field::WorkersPerObject,
        "Workers per data object",
        &mut draft.workers_per_object,
        &task_type.default_workers_per_object().to_string(),
        &format!(
            "Default for {task_type}: {}; at most {}. Their answers are consolidated into one label.",
            task_type.default_workers_per_object(),
            task_type.max_workers_per_object()
        ),
    );
    form.number(
        ui,
        Field::MaxConcurrent,
        "Maximum concurrent tasks",
        &mut draft.max_concurrent,
        "1000",
        "How many objects may be in the team's hands at once (1–5,000; default 1,000).",
    );
}

// --- 8. Existing labels -------------------------------------------------------------------------

/// After the audited attribute is chosen: take its labels (and, for video frame and 3D jobs,
/// its attributes) from the earlier job, as the console does; image verification keeps its
/// judgement labels.
pub(super) fn adopt_audited_labels(draft: &mut JobDraft) {
    if !draft.audit_active() {
        return;
    }
    let Some(found) =
        draft.audit.found.as_ref().and_then(|f| f.attribute(&draft.audit.attribute)).cloned()
    else {
        return;
    };
    let effective = draft.effective_task_type();
    if effective.is_verification() {
        let earlier: Vec<&str> = found.classes.iter().map(|(n, _)| n.as_str()).collect();
        let same = !draft.labels.is_empty()
            && draft.labels.iter().map(String::as_str).eq(earlier.iter().copied());
        if draft.labels.is_empty() || same {
            draft.labels = VERIFICATION_LABELS.iter().map(|s| (*s).to_owned()).collect();
        }
        return;
    }
    match &found.earlier_config {
        Some(config) => {
            let (short, full) = (draft.short_instruction.clone(), draft.full_instruction.clone());
            draft.adopt_earlier_config(config);
            if !short.is_empty() || !full.is_empty() {
                draft.short_instruction = short;
                draft.full_instruction = full;
            }
        }
        None => draft.labels = found.classes.iter().map(|(n, _)| n.clone()).collect(),
    }
}

fn existing_ui(ui: &mut egui::Ui, state: &mut WizardState, env: &WizardEnv<'_>, built: &Built) {
    let base = state.draft.task_type;
    let forced = base.is_verification();
    let mut read = false;
    let mut chosen: Option<String> = None;
    {
        let existing_error = state.existing_error.clone();
        let reading = state.existing_pending.is_some();
        let (mut form, draft) = form(state, built);
        if !base.supports_audit() {
            hint(
                ui,
                "Only bounding box, image semantic segmentation, video frame and 3D point cloud jobs \
                 can display existing labels for workers to adjust or verify.",
            );
        }
        let mut enabled = draft.audit_active();
        let response =
            ui.add_enabled(!forced, egui::Checkbox::new(&mut enabled, "Display existing labels"));
        if response.changed() {
            draft.audit.enabled = enabled;
            form.touch(Field::ExistingLabels);
        }
        form.findings(ui, Field::ExistingLabels);
        if forced {
            hint(ui, &format!("{base} jobs always show the labels they verify."));
        }
        if draft.audit_active() {
            ui.add_space(theme::SPACE * 0.5);
            if !forced {
                ui.horizontal(|ui| {
                    let before = draft.audit.mode;
                    ui.radio_value(&mut draft.audit.mode, AuditMode::Adjustment, "Adjustment");
                    ui.radio_value(&mut draft.audit.mode, AuditMode::Verification, "Verification");
                    if before != draft.audit.mode {
                        form.touch(Field::ExistingLabels);
                        chosen = Some(draft.audit.attribute.clone());
                    }
                });
            }
            let effective = draft.effective_task_type();
            let explanation = match (
                draft.audit_mode(),
                effective.is_video_frame() || effective.is_point_cloud(),
            ) {
                (AuditMode::Adjustment, true) => {
                    "Workers may add labels and change the earlier ones; earlier labels cannot be removed or renamed."
                }
                (AuditMode::Verification, true) => {
                    "Earlier labels are read-only; workers judge them and fill the attributes you allow them to edit."
                }
                (AuditMode::Adjustment, false) => {
                    "Workers see the earlier labels and may move, resize, relabel, add and delete them."
                }
                (AuditMode::Verification, false) => {
                    "Workers see the earlier labels and judge them with this job's labels (e.g. Correct / Incorrect)."
                }
            };
            hint(ui, &format!("{effective}: {explanation}"));
            ui.add_space(theme::SPACE * 0.5);
            let manifest = draft.chosen_manifest();
            match &manifest {
                None => hint(
                    ui,
                    "Choose the input manifest (an earlier job's output manifest) on the input data step.",
                ),
                Some(uri) => {
                    ui.label(format!("Earlier labels come from the input manifest {uri}"));
                    ui.horizontal(|ui| {
                        if ui
                            .add_enabled(!reading, egui::Button::new("Read existing labels"))
                            .clicked()
                        {
                            read = true;
                        }
                        if reading {
                            busy(ui, "Reading…");
                        }
                    });
                }
            }
            if let Some(e) = &existing_error {
                error_line(ui, e);
            }
            if let Some(found) = &draft.audit.found {
                if found.attributes.is_empty() {
                    error_line(
                        ui,
                        &format!(
                            "No labels found in the {} lines of {}.",
                            found.lines, found.manifest
                        ),
                    );
                }
                field_label(ui, "Label attribute to show");
                for attribute in &found.attributes {
                    let text = format!(
                        "{} ({}, {} objects{})",
                        attribute.attribute,
                        attribute.output_type.as_deref().unwrap_or("unknown type"),
                        attribute.objects,
                        attribute
                            .job_name
                            .as_deref()
                            .map(|j| format!(", job {j}"))
                            .unwrap_or_default()
                    );
                    if ui.radio(draft.audit.attribute == attribute.attribute, text).clicked() {
                        chosen = Some(attribute.attribute.clone());
                    }
                }
                if let Some(attribute) = found.attribute(&draft.audit.attribute) {
                    card(ui, |ui| {
                        egui::Grid::new("existing-classes").num_columns(2).show(ui, |ui| {
                            ui.label(RichText::new("Label").color(theme::TEXT_WEAK));
                            ui.label(RichText::new("Count").color(theme::TEXT_WEAK));
                            ui.end_row();
                            for (i, (name, count)) in attribute.classes.iter().enumerate() {
                                ui.label(RichText::new(name).color(theme::label_color(i)));
                                ui.label(count.to_string());
                                ui.end_row();
                            }
                        });
                    });
                }
            } else if !draft.audit.attribute.is_empty() {
                ui.label(format!("Audited label attribute: {}", draft.audit.attribute));
            }
            let audit = true;
            let existing: Vec<&mut AttributeDraft> = draft
                .label_attributes
                .iter_mut()
                .chain(draft.frame_attributes.iter_mut())
                .filter(|a| a.existing)
                .collect();
            if audit && !existing.is_empty() {
                section(ui, "Attributes of the earlier job");
                for attribute in existing {
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(&attribute.name).strong());
                        ui.checkbox(
                            &mut attribute.editable,
                            format!("Allow workers to edit {}", attribute.name),
                        );
                    });
                }
                hint(
                    ui,
                    "You can add new label category and frame attributes on the worker UI step.",
                );
            }
        }
    }
    if let Some(attribute) = chosen {
        state.draft.audit.attribute = attribute;
        state.touched.insert(Field::ExistingLabels);
        adopt_audited_labels(&mut state.draft);
    }
    if read && let Some(manifest) = state.draft.chosen_manifest() {
        state.existing_error = None;
        state.existing_pending =
            Some(env.backend.spawn(move |jobs| ops::read_existing_labels(jobs, manifest)));
    }
}

// --- 9. Worker UI -------------------------------------------------------------------------------

fn attributes_ui(
    ui: &mut egui::Ui,
    form: &mut Form<'_>,
    field: Field,
    attributes: &mut Vec<AttributeDraft>,
    what: &str,
    per_label: bool,
) {
    let mut remove = None;
    for (i, attribute) in attributes.iter_mut().enumerate() {
        let n = i + 1;
        egui::Frame::new()
            .stroke(egui::Stroke::new(1.0, theme::LINE))
            .corner_radius(theme::RADIUS)
            .inner_margin(theme::SPACE)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    form.inline_text(
                        ui,
                        field,
                        &format!("{what} {n} name"),
                        &mut attribute.name,
                        120.0,
                    );
                    for kind in AttributeKind::ALL {
                        if ui.radio(attribute.kind == kind, kind.label()).clicked() {
                            attribute.kind = kind;
                            form.touch(field);
                        }
                    }
                    ui.checkbox(&mut attribute.required, "required");
                    if attribute.existing {
                        ui.label(
                            RichText::new("from the earlier job").small().color(theme::TEXT_WEAK),
                        );
                    } else if ui
                        .button("Remove")
                        .accessible_name(format!("Remove {} {n}", what.to_lowercase()))
                        .clicked()
                    {
                        remove = Some(i);
                    }
                });
                ui.horizontal(|ui| match attribute.kind {
                    AttributeKind::Choice => {
                        form.inline_text(ui, field, "values", &mut attribute.values, 260.0);
                    }
                    AttributeKind::Text => {
                        ui.label(
                            RichText::new("Workers type a short text.")
                                .small()
                                .color(theme::TEXT_WEAK),
                        );
                    }
                    AttributeKind::Number => {
                        form.inline_text(ui, field, "minimum", &mut attribute.minimum, 60.0);
                        form.inline_text(ui, field, "maximum", &mut attribute.maximum, 60.0);
                    }
                });
                ui.horizontal(|ui| {
                    form.inline_text(ui, field, "description", &mut attribute.description, 260.0);
                    if per_label {
                        form.inline_text_hint(
                            ui,
                            field,
                            "labels",
                            &mut attribute.applies_to,
                            140.0,
                            "all labels",
                        );
                    }
                });
            });
    }
    if let Some(i) = remove {
        attributes.remove(i);
        form.touch(field);
    }
    if ui.button(format!("Add {}", what.to_lowercase())).clicked() {
        attributes.push(AttributeDraft::new());
    }
    form.findings(ui, field);
}

fn worker_ui_ui(ui: &mut egui::Ui, state: &mut WizardState, built: &Built) {
    let templates = state.templates.clone();
    let mut choice = state.template_choice;
    let mut apply = None;
    section(ui, "Start from a template");
    ui.horizontal(|ui| {
        let label = ui.label("Template");
        let selected = templates.get(choice).map(|t| t.name.clone()).unwrap_or_default();
        let combo = ComboBox::from_id_salt("template")
            .selected_text(selected)
            .width(theme::FORM_FIELD_WIDTH * 0.8)
            .show_ui(ui, |ui| {
                for (i, template) in templates.iter().enumerate() {
                    ui.selectable_value(&mut choice, i, &template.name);
                }
            });
        let _ = combo.response.labelled_by(label.id);
        if ui.button("Apply template").clicked() {
            apply = templates.get(choice).cloned();
        }
    });
    hint(ui, "Replaces the task type, labels, attributes, instructions, title and description.");
    state.template_choice = choice;
    if let Some(template) = apply {
        state.draft.apply_template(&template);
        for field in [Field::Labels, Field::TaskTitle, Field::TaskDescription, Field::TaskType] {
            state.touched.insert(field);
        }
    }

    let (mut form, draft) = form(state, built);
    let task_type = draft.effective_task_type();
    section(ui, "What workers see in the task list");
    form.text(
        ui,
        Field::TaskTitle,
        "Task title",
        &mut draft.task_title,
        "e.g. Draw boxes around road users",
        "At most 128 characters.",
    );
    form.text(
        ui,
        Field::TaskDescription,
        "Task description",
        &mut draft.task_description,
        "One line: what to do",
        "At most 255 characters, one line.",
    );

    section(ui, "Labels");
    let limits = task_type.label_limits();
    let mut remove = None;
    for (i, label) in draft.labels.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            swatch(ui, theme::label_color(i));
            form.inline_text(ui, Field::Label(i), &format!("Label {}", i + 1), label, 220.0);
            if ui.button("Remove").accessible_name(format!("Remove label {}", i + 1)).clicked() {
                remove = Some(i);
            }
        });
        form.findings(ui, Field::Label(i));
    }
    if let Some(i) = remove {
        draft.labels.remove(i);
        form.touch(Field::Labels);
    }
    if ui.button("Add label").clicked() {
        draft.labels.push(String::new());
        form.touch(Field::Labels);
    }
    form.findings(ui, Field::Labels);
    let max =
        limits.api_max.or(limits.console_max).map(|m| format!(", at most {m}")).unwrap_or_default();
    hint(ui, &format!("{task_type} jobs take at least {}{max} labels.", limits.min));

    if task_type.is_video_frame() {
        section(ui, "Tool");
        ui.horizontal(|ui| {
            for tool in VIDEO_TOOLS {
                if ui.radio(draft.video_tool == tool, tool).clicked() {
                    draft.video_tool = tool.to_owned();
                    form.touch(Field::VideoTool);
                }
            }
        });
        form.findings(ui, Field::VideoTool);
    }
    if task_type.label_attributes_allowed() {
        section(ui, "Label category attributes");
        hint(ui, "Asked for every label, or only for the labels you list (comma-separated).");
        attributes_ui(
            ui,
            &mut form,
            Field::LabelAttributes,
            &mut draft.label_attributes,
            "Attribute",
            true,
        );
    }
    if task_type.frame_attributes_allowed() {
        section(ui, "Frame attributes");
        hint(ui, "Asked once per frame; each needs a description.");
        attributes_ui(
            ui,
            &mut form,
            Field::FrameAttributes,
            &mut draft.frame_attributes,
            "Frame attribute",
            false,
        );
    }

    section(ui, "Instructions");
    form.multiline(
        ui,
        Field::ShortInstruction,
        "Short instructions",
        &mut draft.short_instruction,
        2,
        "Shown beside the task (under 255 characters).",
    );
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.set_width(theme::FORM_FIELD_WIDTH);
            form.multiline(
                ui,
                Field::FullInstruction,
                "Full instructions",
                &mut draft.full_instruction,
                12,
                "Markdown: # headings, **bold**, - lists, blank lines between paragraphs (under \
                 2,048 characters).",
            );
        });
        ui.add_space(theme::SPACE);
        ui.vertical(|ui| {
            ui.label(RichText::new("As workers will read it").color(theme::TEXT_WEAK));
            let width = (ui.available_width() - theme::SPACE * 3.0).max(200.0);
            card_sized(ui, width, |ui| {
                if draft.full_instruction.trim().is_empty() {
                    ui.weak("Nothing yet.");
                } else {
                    markdown_ui(ui, &draft.full_instruction);
                }
            });
        });
    });
}

// --- 10. Preview --------------------------------------------------------------------------------

fn preview_ui(ui: &mut egui::Ui, state: &mut WizardState) {
    hint(
        ui,
        "The job is created in a sandbox over your store: the real input data is read, every write \
         stays in memory, nothing reaches the store.",
    );
    if state.preview_pending.is_some() {
        busy(ui, "Building the preview…");
    }
    let Some(view) = &state.preview else { return };
    let data = &view.data;
    if let Some(e) = &data.sandbox_error {
        ui.label(
            RichText::new(format!("The job could not be created in the sandbox: {e}"))
                .color(theme::WARN),
        );
    }
    let mut open = None;
    if let Some(jobs) = &data.sandbox {
        ui.horizontal(|ui| {
            ok_line(ui, &format!("Created in the sandbox; {} data objects", data.object_count));
            if ui
                .button("Open in worker task view")
                .on_hover_text("Work the first task in the sandbox")
                .clicked()
            {
                open = Some(WizardAction::OpenPreviewTask {
                    jobs: jobs.clone(),
                    job_name: state.draft.name.clone(),
                });
            }
        });
    }
    ui.add_space(theme::SPACE);
    let config = data.config.clone().unwrap_or_default();
    ui.horizontal_top(|ui| {
        // The data object, as the worker's canvas shows it.
        let canvas_width =
            (ui.available_width() - theme::SIDE_PANEL_WIDTH - theme::SPACE * 2.0).max(200.0);
        ui.vertical(|ui| {
            ui.set_width(canvas_width);
            egui::Frame::new()
                .fill(theme::CANVAS)
                .corner_radius(theme::RADIUS)
                .inner_margin(theme::SPACE)
                .show(ui, |ui| match (&data.first, &view.texture) {
                    (
                        Some(PreviewObject::Image {
                            width_px,
                            height_px,
                            source_width_px,
                            uri,
                            ..
                        }),
                        Some(texture),
                    ) => {
                        let scale = (canvas_width - theme::SPACE * 2.0) / *width_px as f32;
                        let size = egui::vec2(*width_px as f32, *height_px as f32) * scale.min(1.5);
                        let response = ui.add(egui::Image::new((texture.id(), size)));
                        let rect = response.rect;
                        let to_screen = rect.width() / *source_width_px as f32;
                        let painter = ui.painter_at(rect);
                        for b in &data.existing_boxes {
                            let [left, top, width, height] =
                                b.rect_px.map(|v| v as f32 * to_screen);
                            let color =
                                theme::label_color(usize::try_from(b.class_index).unwrap_or(0));
                            let r = egui::Rect::from_min_size(
                                rect.min + egui::vec2(left, top),
                                egui::vec2(width, height),
                            );
                            painter.rect_stroke(
                                r,
                                0.0,
                                egui::Stroke::new(theme::SHAPE_STROKE, color),
                                egui::StrokeKind::Inside,
                            );
                            painter.text(
                                r.left_top(),
                                egui::Align2::LEFT_BOTTOM,
                                &b.label,
                                egui::FontId::proportional(12.0),
                                color,
                            );
                        }
                        ui.label(RichText::new(uri).small().color(theme::TEXT_WEAK));
                    }
                    (Some(PreviewObject::Text(text)), _) => {
                        ui.label(RichText::new(text).size(theme::PREVIEW_TEXT_SIZE));
                    }
                    (Some(PreviewObject::Other { uri }), _)
                    | (Some(PreviewObject::Image { uri, .. }), None) => {
                        ui.label(format!("First data object: {uri}"));
                        hint(ui, "Frame sequences and point clouds open in the worker task view.");
                    }
                    (None, _) => {
                        ui.label("No data object to show: choose the input data first.");
                    }
                });
        });
        // The worker's side panel: task, labels, instructions.
        ui.vertical(|ui| {
            ui.set_width(theme::SIDE_PANEL_WIDTH);
            card_sized(ui, theme::SIDE_PANEL_WIDTH - theme::SPACE * 3.0, |ui| {
                ui.label(RichText::new(&state.draft.task_title).strong().color(theme::TEXT_STRONG));
                if let Some(short) =
                    config.instructions.as_ref().and_then(|i| i.short_instruction.as_deref())
                {
                    ui.label(short);
                }
                ui.separator();
                ui.label(RichText::new("Labels").color(theme::TEXT_WEAK));
                for (i, label) in config.labels.iter().enumerate() {
                    ui.horizontal(|ui| {
                        swatch(ui, theme::label_color(i));
                        ui.label(RichText::new(&label.label).color(theme::label_color(i)));
                    });
                }
                let global = config.category_global_attributes.iter().flatten();
                let frame = config.frame_attributes.iter().flatten();
                let attributes: Vec<_> = global.chain(frame).map(|a| a.name.clone()).collect();
                if !attributes.is_empty() {
                    ui.label(
                        RichText::new(format!("Attributes: {}", attributes.join(", "))).small(),
                    );
                }
                if let Some(full) =
                    config.instructions.as_ref().and_then(|i| i.full_instruction.as_deref())
                {
                    ui.separator();
                    egui::CollapsingHeader::new("Full instructions")
                        .id_salt("full-instructions")
                        .default_open(true)
                        .show(ui, |ui| {
                            markdown_ui(ui, full);
                        });
                }
            });
        });
    });
    if !data.would_write.is_empty() {
        ui.add_space(theme::SPACE);
        egui::CollapsingHeader::new(format!(
            "Create will write {} objects",
            data.would_write.len()
        ))
        .id_salt("would-write")
        .show(ui, |ui| {
            for path in &data.would_write {
                ui.label(RichText::new(path).small().monospace());
            }
        });
    }
    if open.is_some() {
        state.action = open;
    }
}

// --- 11. Review ---------------------------------------------------------------------------------

fn review_ui(ui: &mut egui::Ui, state: &mut WizardState, built: &Built) {
    let spec = &built.plan.spec;
    let draft = &state.draft;
    let task = &spec.human_task_config;
    let task_type = draft.effective_task_type();
    card(ui, |ui| {
        egui::Grid::new("review")
            .num_columns(2)
            .spacing([theme::SPACE * 2.0, theme::SPACE * 0.5])
            .show(ui, |ui| {
                let mut row = |key: &str, value: String| {
                    ui.label(RichText::new(key).color(theme::TEXT_WEAK));
                    ui.label(value);
                    ui.end_row();
                };
                row("Job", spec.labeling_job_name.clone());
                row("Label attribute", spec.effective_label_attribute_name().to_owned());
                row("Task type", task_type.to_string());
                if draft.audit_active() {
                    row(
                        "Existing labels",
                        format!("{:?} of {}", draft.audit_mode(), draft.audit.attribute),
                    );
                }
                row(
                    "Input manifest",
                    spec.input_config
                        .data_source
                        .s3_data_source
                        .as_ref()
                        .map(|s| s.manifest_s3_uri.clone())
                        .unwrap_or_default(),
                );
                row("Output", spec.output_config.s3_output_path.clone());
                row("Work team", draft.team.clone());
                row("Labels", draft.labels.join(", "));
                row(
                    "Task timeout",
                    human_duration(
                        task.task_time_limit_secs
                            .unwrap_or(task_type.default_task_time_limit_secs()),
                    ),
                );
                row(
                    "Workers per object",
                    task.number_of_human_workers_per_data_object
                        .unwrap_or(task_type.default_workers_per_object())
                        .to_string(),
                );
                if !spec.tags.is_empty() {
                    row(
                        "Tags",
                        spec.tags
                            .iter()
                            .map(|t| format!("{}={}", t.key, t.value))
                            .collect::<Vec<_>>()
                            .join(", "),
                    );
                }
            });
    });
    section(ui, "Access");
    match (&state.access, state.access_pending.is_some()) {
        (_, true) => busy(ui, "Checking access…"),
        (Some(report), false) if report.passed() => {
            ok_line(ui, "The input can be read and the output written.")
        }
        _ => {}
    }
    let errors: Vec<_> = built.findings.iter().filter(|(_, f)| f.is_error()).collect();
    let warnings: Vec<_> = built.findings.iter().filter(|(_, f)| !f.is_error()).collect();
    let mut go = None;
    if !errors.is_empty() {
        section(ui, "To fix before create");
        for (field, finding) in &errors {
            ui.horizontal_wrapped(|ui| {
                if ui.small_button(format!("Go to {}", field.step().title())).clicked() {
                    go = Some(field.step());
                }
                ui.label(RichText::new(&finding.message).color(theme::ERROR));
            });
        }
    }
    if !warnings.is_empty() {
        section(ui, "Notes");
        for (_, finding) in &warnings {
            ui.label(RichText::new(&finding.message).color(theme::WARN));
        }
    }
    ui.add_space(theme::SPACE);
    egui::CollapsingHeader::new("job.json").id_salt("job-json").show(ui, |ui| {
        ui.label(RichText::new(spec.to_canonical_json()).monospace().small());
    });
    if let Some((path, config)) = &built.plan.label_file {
        egui::CollapsingHeader::new(format!("Label file ({path})")).id_salt("label-file").show(
            ui,
            |ui| {
                ui.label(RichText::new(config.to_json_pretty()).monospace().small());
            },
        );
    }
    ui.add_space(theme::SPACE);
    if state.create_pending.is_some() {
        busy(ui, "Creating the job…");
    }
    if let Some(e) = &state.create_error {
        error_line(ui, &format!("Create failed: {e}"));
    }
    if let Some(created) = &state.created {
        ok_line(
            ui,
            &format!(
                "Created {} with {} data objects; its status is In progress.",
                created.spec.labeling_job_name, created.object_count
            ),
        );
    }
    if let Some(step) = go {
        state.go_to(step);
    }
}
