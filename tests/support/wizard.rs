//! Shared fixture of the wizard and monitor tests: the demo workspace in memory, a fixed clock,
//! a blocking backend, and harness helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use groundwork::store::catalog::Workspace;
use groundwork::store::claims::{ClaimBoard, ClaimJob, ClaimNext};
use groundwork::store::clock::Clock as _;
use groundwork::store::clock::ManualClock;
use groundwork::store::jobs::Jobs;
use groundwork::store::layout::{Catalog, JobOutput};
use groundwork::store::memory::MemoryStore;
use groundwork::store::{ObjectPath, ObjectStore, PutOptions};
use groundwork::ui::monitor::{MonitorAction, MonitorState, monitor_ui};
use groundwork::ui::theme;
use groundwork::ui::wizard::backend::{Backend, BlockingExecutor};
use groundwork::ui::wizard::draft::Identity;
use groundwork::ui::wizard::{WizardAction, WizardEnv, WizardState, wizard_ui};

/// 2026-01-01T00:00:00Z.
pub const START_MS: i64 = 1_767_225_600_000;

/// Runs a future to completion on a fresh current-thread runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

/// The demo workspace in memory.
pub struct Fixture {
    pub store: Arc<MemoryStore>,
    pub jobs: Jobs,
    pub clock: Arc<ManualClock>,
    pub backend: Backend,
    pub identity: Identity,
}

impl Fixture {
    pub fn new() -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(START_MS));
        let jobs = Jobs::new(Workspace::new(store.clone(), Catalog::local()), clock.clone());
        block_on(groundwork::store::demo::install(&jobs, "setup")).unwrap();
        let backend = Backend::new(jobs.clone(), Arc::new(BlockingExecutor::new().unwrap()));
        let identity = Identity::local("author", "/tmp/workspace");
        Self { store, jobs, clock, backend, identity }
    }

    /// Every object and its bytes: to prove that something wrote nothing.
    pub fn contents(&self) -> Vec<(String, Vec<u8>)> {
        self.store
            .paths()
            .into_iter()
            .map(|p| {
                let bytes = block_on(self.store.get(&p, None)).unwrap().bytes;
                (p.uri(), bytes)
            })
            .collect()
    }

    /// Finishes demo job `name` the way its workers and consolidation would leave it: each
    /// object claimed and submitted by `ann` a minute apart through the claim protocol, its
    /// answer stored, its consolidation response written, and `output_manifest` as the output.
    pub fn finish_job(&self, name: &str, output_manifest: &[u8]) {
        let spec = block_on(self.jobs.spec(name)).unwrap();
        let base = ObjectPath::parse(&spec.output_config.s3_output_path).unwrap();
        let output = JobOutput::new(&base, name).unwrap();
        let objects = block_on(self.jobs.workspace().job_object_count(name)).unwrap() as u64;
        let created = block_on(self.jobs.workspace().job_created(name)).unwrap().unwrap();
        let claim_job = ClaimJob {
            output: output.clone(),
            stop_marker: self.jobs.workspace().catalog.job_stop(name).unwrap(),
            created_at_ms: created.created_at_ms,
            object_count: objects,
            kms_key_id: None,
        };
        let board = ClaimBoard::new(
            self.jobs.workspace().store.clone(),
            claim_job,
            Jobs::policy_of(&spec),
            self.clock.clone(),
        )
        .unwrap();
        for object in 0..objects {
            self.clock.advance_ms(60_000);
            let ClaimNext::Claimed(ticket) = block_on(board.claim_object("ann", object)).unwrap()
            else {
                panic!("object {object} could not be claimed");
            };
            let response = output.worker_response(object, self.clock.now_ms(), "ann").unwrap();
            self.put(&response, b"{\"answers\": []}".to_vec());
            block_on(board.submit(&ticket)).unwrap();
            let consolidated = output.consolidation_response(object).unwrap();
            self.put(&consolidated, b"{}".to_vec());
        }
        self.put(&output.output_manifest().unwrap(), output_manifest.to_vec());
    }

    pub fn put(&self, path: &ObjectPath, bytes: Vec<u8>) {
        block_on(self.store.put(path, bytes, PutOptions::default())).unwrap();
    }

    pub fn get(&self, uri: &str) -> Vec<u8> {
        block_on(self.store.get(&ObjectPath::parse(uri).unwrap(), None)).unwrap().bytes
    }

    pub fn wizard_harness(&self, state: WizardState) -> Harness<'static, WizardApp> {
        let app = WizardApp {
            state,
            backend: self.backend.clone(),
            identity: self.identity.clone(),
            actions: Vec::new(),
        };
        Harness::builder()
            .with_size([1280.0, 900.0])
            .with_context_setup(theme::apply)
            .build_ui_state(wizard_app_ui, app)
    }

    pub fn monitor_harness(&self, state: MonitorState) -> Harness<'static, MonitorApp> {
        let app = MonitorApp { state, backend: self.backend.clone(), actions: Vec::new() };
        Harness::builder()
            .with_size([1280.0, 900.0])
            .with_context_setup(theme::apply)
            .build_ui_state(monitor_app_ui, app)
    }
}

/// The wizard as the app hosts it.
pub struct WizardApp {
    pub state: WizardState,
    pub backend: Backend,
    pub identity: Identity,
    pub actions: Vec<WizardAction>,
}

pub fn wizard_app_ui(ui: &mut egui::Ui, app: &mut WizardApp) {
    let env = WizardEnv { backend: &app.backend, identity: &app.identity };
    if let Some(action) = wizard_ui(ui, &mut app.state, &env) {
        app.actions.push(action);
    }
}

/// The monitor as the app hosts it.
pub struct MonitorApp {
    pub state: MonitorState,
    pub backend: Backend,
    pub actions: Vec<MonitorAction>,
}

pub fn monitor_app_ui(ui: &mut egui::Ui, app: &mut MonitorApp) {
    if let Some(action) = monitor_ui(ui, &mut app.state, &app.backend) {
        app.actions.push(action);
    }
}

/// Clicks the widget labelled `label`, then lets the UI settle.
pub fn click<S>(harness: &mut Harness<'_, S>, label: &str) {
    harness.get_by_label(label).click();
    harness.run();
}

/// Focuses the text field labelled `label`, selects what it holds, and types `text` over it.
pub fn type_into<S>(harness: &mut Harness<'_, S>, label: &str, text: &str) {
    harness.get_by_label(label).click();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run();
    harness.get_by_label(label).type_text(text);
    harness.run();
}

/// True when some node's label contains `text`.
pub fn shows<S>(harness: &Harness<'_, S>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// Asserts that `text` is shown directly under the field labelled `field` (within `max_gap`
/// points below it, overlapping it horizontally): the error sits beside its field.
pub fn assert_shown_at_field<S>(harness: &Harness<'_, S>, field: &str, text: &str) {
    let field_rect = harness.get_by_label(field).rect();
    let hits: Vec<_> = harness.query_all_by_label_contains(text).collect();
    assert!(!hits.is_empty(), "`{text}` is not shown at all");
    let near = hits.iter().any(|node| {
        let rect = node.rect();
        rect.top() >= field_rect.top() - 1.0 && rect.top() - field_rect.bottom() < 60.0
    });
    assert!(near, "`{text}` is shown, but not right under the field `{field}` ({field_rect:?})");
}
