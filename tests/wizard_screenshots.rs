//! Screenshots of every wizard step and of the monitor, rendered with egui_kittest on wgpu into
//! `assets/screenshots/` (for the docs, and for a person to look at). Runs only with
//! `GROUNDWORK_SCREENSHOTS=1`; it needs a wgpu adapter (lavapipe or llvmpipe will do).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/wizard.rs"]
mod wizard_support;

use std::path::PathBuf;

use egui_kittest::Harness;

use groundwork::ui::monitor::MonitorState;
use groundwork::ui::theme;
use groundwork::ui::wizard::draft::{AutoKind, Step};
use groundwork::ui::wizard::templates::builtin_templates;
use groundwork::ui::wizard::{WizardState, ops};

use wizard_support::{
    Fixture, MonitorApp, WizardApp, block_on, click, monitor_app_ui, wizard_app_ui,
};

const SIZE: [f32; 2] = [1280.0, 800.0];

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn save<S>(harness: &mut Harness<'_, S>, name: &str) {
    harness.run();
    let image = harness.render().unwrap();
    image.save(out_dir().join(format!("{name}.png"))).unwrap();
}

fn wizard(fx: &Fixture, state: WizardState) -> Harness<'static, WizardApp> {
    let app = WizardApp {
        state,
        backend: fx.backend.clone(),
        identity: fx.identity.clone(),
        actions: Vec::new(),
    };
    Harness::builder()
        .with_size(SIZE)
        .wgpu()
        .with_context_setup(theme::apply)
        .build_ui_state(wizard_app_ui, app)
}

#[test]
fn screenshots_of_the_wizard_and_the_monitor() {
    if std::env::var("GROUNDWORK_SCREENSHOTS").as_deref() != Ok("1") {
        eprintln!(
            "NOTE: set GROUNDWORK_SCREENSHOTS=1 to render the wizard and monitor screenshots"
        );
        return;
    }
    let fx = Fixture::new();
    block_on(ops::create_team(
        fx.jobs.clone(),
        "street-team".into(),
        vec!["ann".into(), "bob".into()],
    ))
    .unwrap();

    // A bounding-box job, filled in as an author would.
    let mut state = WizardState::new(&fx.identity);
    let template =
        builtin_templates().into_iter().find(|t| t.id == "street-objects-boxes").unwrap();
    let draft = &mut state.draft;
    draft.name = "street-cars".into();
    draft.auto_prefix = "s3://groundwork-demo/images/".into();
    draft.auto_setup = Some(
        block_on(ops::scan_prefix(fx.jobs.clone(), draft.auto_prefix.clone(), AutoKind::Images))
            .unwrap(),
    );
    draft.output_path = "s3://groundwork-demo/output/".into();
    draft.apply_template(&template);
    draft.tags = vec![("project".into(), "demo".into()), ("owner".into(), "mapping-team".into())];
    draft.team = "street-team".into();
    draft.workers_per_object = "2".into();
    let mut h = wizard(&fx, state);
    for step in Step::ALL {
        h.state_mut().state.go_to(step);
        h.run();
        save(
            &mut h,
            &format!(
                "wizard-{:02}-{}",
                step.index() + 1,
                step.title().to_lowercase().replace(' ', "-")
            ),
        );
    }

    // A video frame job from its template: attributes and frame attributes, tall enough to show all.
    let mut state = WizardState::new(&fx.identity);
    let video = builtin_templates().into_iter().find(|t| t.id == "vehicle-tracking-video").unwrap();
    state.draft.apply_template(&video);
    state.go_to(Step::WorkerUi);
    let app = WizardApp {
        state,
        backend: fx.backend.clone(),
        identity: fx.identity.clone(),
        actions: Vec::new(),
    };
    let mut tall = Harness::builder()
        .with_size([1280.0, 1500.0])
        .wgpu()
        .with_context_setup(theme::apply)
        .build_ui_state(wizard_app_ui, app);
    save(&mut tall, "wizard-09b-worker-ui-video-attributes");
    drop(tall);

    // Wrong inputs: a bad name, one label for a classification job, a timeout out of range.
    let mut state = WizardState::new(&fx.identity);
    state.draft.name = "bad name!".into();
    state.draft.task_type = groundwork::job::TaskType::ImageClassification;
    state.draft.labels = vec!["cat".into()];
    state.draft.timeout.value = "600".into();
    let mut h = wizard(&fx, state);
    for step in Step::ALL {
        h.state_mut().state.go_to(step);
    }
    h.state_mut().state.go_to(Step::Job);
    save(&mut h, "wizard-errors-job-name");
    h.state_mut().state.go_to(Step::WorkerUi);
    save(&mut h, "wizard-errors-labels");
    h.state_mut().state.go_to(Step::Workers);
    save(&mut h, "wizard-errors-timeout");

    // The monitor on a finished job, then the verification job chained from it.
    let output = fx.get("s3://groundwork-demo/manifests/street-boxes.output.manifest");
    fx.finish_job("street-boxes", &output);
    let app = MonitorApp {
        state: MonitorState::with_selected("street-boxes"),
        backend: fx.backend.clone(),
        actions: Vec::new(),
    };
    let mut m = Harness::builder()
        .with_size(SIZE)
        .wgpu()
        .with_context_setup(theme::apply)
        .build_ui_state(monitor_app_ui, app);
    save(&mut m, "monitor-completed-job");
    click(&mut m, "Open output manifest");
    save(&mut m, "monitor-output-manifest");
    click(&mut m, "Create verification job from this output");
    let action = m.state().actions.first().cloned().unwrap();
    let app = MonitorApp {
        state: MonitorState::with_selected("street-cars"),
        backend: fx.backend.clone(),
        actions: Vec::new(),
    };
    drop(m);
    let mut h = wizard(&fx, action.wizard(&fx.identity));
    click(&mut h, "Read existing labels");
    save(&mut h, "wizard-chained-verification-existing-labels");
    h.state_mut().state.go_to(Step::Preview);
    save(&mut h, "wizard-chained-verification-preview");
    drop(h);
    let _ = app;
    let app = MonitorApp {
        state: MonitorState::with_selected("street-boxes-verify"),
        backend: fx.backend.clone(),
        actions: Vec::new(),
    };
    let mut m = Harness::builder()
        .with_size(SIZE)
        .wgpu()
        .with_context_setup(theme::apply)
        .build_ui_state(monitor_app_ui, app);
    save(&mut m, "monitor-in-progress-job");
}
