//! The desktop app: the `eframe::App`, its screens (home, task) as a small state machine, the
//! handling of every action the views return, and the bridge to the store and the sync engine.
//!
//! The UI thread never waits on disk or network: store calls run on the Tokio runtime
//! ([`backend`]) and come back as replies polled each frame; drafts are serialised and saved off
//! the UI thread, in order; submissions go to the durable outbox through the sync engine.
//! May use every layer below it; nothing uses it but `main`.

pub mod backend;
pub mod cloud;
pub mod frames;
pub mod images;
pub mod recent;
pub mod review;
pub mod segment3d;
mod submit;
pub mod video;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::annotation::document::Document;
use crate::store::clock::{Clock, SystemClock};
use crate::store::jobs::Jobs;
use crate::store::sync::SyncStatus;
use crate::ui::home::{self, HomeAction, HomeModel, HomeState, JobRow};
use crate::ui::task::{self, TaskAction, TaskChrome, TaskView};
use crate::ui::theme;
use crate::ui::widgets::SyncBadge;
use crate::ui::widgets::viewport::{ImageTiles, Tile};

use backend::{Backend, DraftDocument, DraftSaver, OpenedTask, OpenedWorkspace, Reply, TaskClaim};
use recent::RecentWorkspace;

/// Work the app leaves running when it is dropped (the last draft save); wait on it before the
/// runtime goes away.
#[derive(Debug, Clone, Default)]
pub struct ExitTasks(Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>);

impl ExitTasks {
    fn push(&self, handle: tokio::task::JoinHandle<()>) {
        if let Ok(mut list) = self.0.lock() {
            list.retain(|h| !h.is_finished());
            list.push(handle);
        }
    }

    /// The tasks left so far (the list is emptied).
    fn take(&self) -> Vec<tokio::task::JoinHandle<()>> {
        self.0.lock().map(|mut l| l.drain(..).collect()).unwrap_or_default()
    }

    /// Waits (at most `timeout` each) for the tasks left behind.
    pub async fn wait(&self, timeout: Duration) {
        let handles: Vec<_> = self.0.lock().map(|mut l| l.drain(..).collect()).unwrap_or_default();
        for h in handles {
            let _ = tokio::time::timeout(timeout, h).await;
        }
    }
}

/// How the app starts.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The workspace to open; `None` opens the demo workspace in `demo_dir`.
    pub workspace: Option<RecentWorkspace>,
    /// The demo workspace's folder (created and filled on first use).
    pub demo_dir: PathBuf,
    /// This machine's app state: recent workspaces, per-workspace outbox and drafts.
    pub state_dir: PathBuf,
    /// The worker id.
    pub worker: String,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Work left running at exit.
    pub exit_tasks: ExitTasks,
}

impl AppConfig {
    /// The configuration for `worker` in the user's data folder.
    pub fn for_user(worker: String, demo_dir: PathBuf, workspace: Option<RecentWorkspace>) -> Self {
        let state_dir =
            dirs::data_dir().unwrap_or_else(std::env::temp_dir).join("groundwork").join("state");
        Self {
            workspace,
            demo_dir,
            state_dir,
            worker,
            clock: Arc::new(SystemClock),
            exit_tasks: ExitTasks::default(),
        }
    }
}

/// Runs the desktop app in a window until it is closed.
pub fn run(config: AppConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("groundwork-io")
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    let exit = config.exit_tasks.clone();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Groundwork")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([960.0, 600.0]),
        ..Default::default()
    };
    let result = eframe::run_native(
        "Groundwork",
        options,
        Box::new(move |cc| Ok(Box::new(GroundworkApp::new(cc, config, handle)))),
    );
    runtime.block_on(exit.wait(Duration::from_secs(10)));
    result.map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))
}

/// The open task.
struct TaskSession {
    task: OpenedTask,
    view: TaskView,
    tiles: ImageTiles,
    tiles_generation: u64,
    /// The autosave.
    drafts: DraftSaver<Document>,
    accepted_at_ms: i64,
    active_ms: i64,
    last_input_ms: i64,
    notice: Option<String>,
    busy: bool,
    /// Set once submitted, released or declined: no more draft saves.
    finished: bool,
}

enum Screen {
    Home,
    Task(Box<TaskSession>),
    Cloud(Box<cloud::CloudSession>),
    PointSeg(Box<segment3d::PointSegSession>),
    Author(Box<AuthorSession>),
    Video(Box<video::VideoSession>),
}

/// The job author's screens: the create-labeling-job wizard and the job monitor.
struct AuthorSession {
    backend: crate::ui::wizard::backend::Backend,
    identity: crate::ui::wizard::draft::Identity,
    wizard: Option<crate::ui::wizard::WizardState>,
    monitor: crate::ui::monitor::MonitorState,
}

/// The Groundwork desktop app.
pub struct GroundworkApp {
    config: AppConfig,
    backend: Backend,
    replies: mpsc::Receiver<Reply>,
    /// Requests sent whose reply has not been handled yet.
    pending: usize,
    workspace: Option<OpenedWorkspace>,
    recent: Vec<RecentWorkspace>,
    recent_labels: Vec<String>,
    home: HomeState,
    jobs: Vec<JobRow>,
    jobs_loading: bool,
    starting: bool,
    notice: Option<String>,
    screen: Screen,
    /// eframe's wgpu state (absent under the glow renderer or a test harness without wgpu).
    render_state: Option<egui_wgpu::RenderState>,
    /// The 3D renderers, created when the first 3D task opens.
    gpu3d: Option<Arc<crate::ui::viewport3d::Viewport3dGpu>>,
}

impl GroundworkApp {
    /// Creates the app and starts opening its workspace.
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        config: AppConfig,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        theme::apply(&cc.egui_ctx);
        let (backend, replies) = Backend::new(
            runtime,
            cc.egui_ctx.clone(),
            config.clock.clone(),
            config.worker.clone(),
            config.state_dir.clone(),
            config.demo_dir.clone(),
        );
        let mut app = Self {
            backend,
            replies,
            pending: 0,
            workspace: None,
            recent: Vec::new(),
            recent_labels: Vec::new(),
            home: HomeState::default(),
            jobs: Vec::new(),
            jobs_loading: false,
            starting: false,
            notice: None,
            screen: Screen::Home,
            render_state: cc.wgpu_render_state.clone(),
            gpu3d: None,
            config,
        };
        app.pending += 1;
        app.backend.load_recent();
        let target = app.config.workspace.clone().unwrap_or_else(|| RecentWorkspace::Local {
            path: app.config.demo_dir.display().to_string(),
        });
        app.open_workspace(target);
        app
    }

    // --- what tests and benchmarks look at -----------------------------------------------------

    /// True when no request is outstanding.
    pub fn is_idle(&self) -> bool {
        self.pending == 0
    }

    /// `"home"`, `"task"`, `"segment3d"` or `"author"` (wizard and monitor).
    pub fn screen_name(&self) -> &'static str {
        match self.screen {
            Screen::Home => "home",
            Screen::Task(_) => "task",
            Screen::Cloud(_) => "cloud",
            Screen::PointSeg(_) => "segment3d",
            Screen::Author(_) => "author",
            Screen::Video(_) => "video",
        }
    }

    /// The open task's view state.
    pub fn task_view(&self) -> Option<&TaskView> {
        match &self.screen {
            Screen::Task(s) => Some(&s.view),
            _ => None,
        }
    }

    /// The open task's document.
    pub fn document(&self) -> Option<&Document> {
        match &self.screen {
            Screen::Task(s) => Some(&s.task.document),
            _ => None,
        }
    }

    /// The open 3D segmentation task.
    pub fn point_seg(&self) -> Option<&segment3d::PointSegSession> {
        match &self.screen {
            Screen::PointSeg(s) => Some(s),
            _ => None,
        }
    }

    /// The open 3D segmentation task, mutably (tests and screenshots set up the camera).
    pub fn point_seg_mut(&mut self) -> Option<&mut segment3d::PointSegSession> {
        match &mut self.screen {
            Screen::PointSeg(s) => Some(s),
            _ => None,
        }
    }

    /// The open task's job and object.
    pub fn current_task(&self) -> Option<(&str, u64)> {
        match &self.screen {
            Screen::Task(s) => Some(s.task.claim.ids()),
            Screen::Cloud(s) => Some(s.task.claim.ids()),
            Screen::PointSeg(s) => Some(s.task.claim.ids()),
            Screen::Video(s) => Some(s.task.claim.ids()),
            _ => None,
        }
    }

    /// The open 3D task's session.
    pub fn cloud_session(&self) -> Option<&cloud::CloudSession> {
        match &self.screen {
            Screen::Cloud(s) => Some(s),
            _ => None,
        }
    }

    /// The open 3D task's session, mutable (tests and benchmarks drive its view).
    pub fn cloud_session_mut(&mut self) -> Option<&mut cloud::CloudSession> {
        match &mut self.screen {
            Screen::Cloud(s) => Some(s),
            _ => None,
        }
    }

    /// The open workspace's job service.
    pub fn jobs_service(&self) -> Option<&Jobs> {
        self.workspace.as_ref().map(|w| &w.jobs)
    }

    /// The sync engine's status.
    pub fn sync_status(&self) -> Option<SyncStatus> {
        self.workspace.as_ref().map(|w| w.sync.status())
    }

    /// The jobs listed on the home screen.
    pub fn job_rows(&self) -> &[JobRow] {
        &self.jobs
    }

    /// The message shown to the worker, if any.
    pub fn notice(&self) -> Option<&str> {
        match &self.screen {
            Screen::Task(s) if s.notice.is_some() => s.notice.as_deref(),
            Screen::Cloud(s) if s.notice.is_some() => s.notice.as_deref(),
            Screen::PointSeg(s) if s.notice().is_some() => s.notice(),
            Screen::Video(s) if s.notice().is_some() => s.notice(),
            _ => self.notice.as_deref(),
        }
    }

    // --- requests --------------------------------------------------------------------------

    fn open_workspace(&mut self, target: RecentWorkspace) {
        self.pending += 1;
        self.jobs.clear();
        self.jobs_loading = true;
        self.backend.open_workspace(target);
    }

    fn refresh_jobs(&mut self) {
        if let Some(ws) = &self.workspace {
            self.pending += 1;
            self.jobs_loading = true;
            self.backend.list_jobs(ws.jobs.clone());
        }
    }

    // --- replies ---------------------------------------------------------------------------

    fn poll_replies(&mut self, ctx: &egui::Context) {
        while let Ok(reply) = self.replies.try_recv() {
            self.pending = self.pending.saturating_sub(1);
            self.handle_reply(ctx, reply);
        }
    }

    fn handle_reply(&mut self, ctx: &egui::Context, reply: Reply) {
        match reply {
            Reply::Recent(list) => {
                self.recent = list;
                self.recent_labels = self.recent.iter().map(RecentWorkspace::label).collect();
            }
            Reply::Workspace(Ok(ws)) => {
                let ws = *ws;
                self.recent.retain(|r| r != &ws.target);
                self.recent.insert(0, ws.target.clone());
                self.recent.truncate(recent::MAX_RECENT);
                self.recent_labels = self.recent.iter().map(RecentWorkspace::label).collect();
                if ws.demo_installed {
                    self.notice = Some(
                        "Welcome! The demo workspace was created with a few jobs to try.".into(),
                    );
                }
                self.workspace = Some(ws);
                self.refresh_jobs();
            }
            Reply::Workspace(Err(e)) => {
                self.jobs_loading = false;
                self.notice = Some(e);
            }
            Reply::Jobs(Ok(rows)) => {
                self.jobs = rows;
                self.jobs_loading = false;
            }
            Reply::Jobs(Err(e)) => {
                self.jobs_loading = false;
                self.notice = Some(format!("The jobs could not be listed: {e}"));
            }
            Reply::NoTask(message) => {
                self.starting = false;
                self.notice = Some(message);
                self.refresh_jobs();
            }
            Reply::OpenFailed(e) => {
                self.starting = false;
                self.notice = Some(e);
            }
            Reply::Task(task) => {
                self.starting = false;
                self.notice = None;
                self.screen = Screen::Task(Box::new(self.new_session(ctx, *task)));
            }
            Reply::Cloud(task) => {
                self.starting = false;
                self.notice = None;
                self.open_cloud(ctx, *task);
            }
            Reply::PointSegTask(task) => {
                self.starting = false;
                self.notice = None;
                let session = self.new_point_seg_session(ctx, *task);
                self.screen = Screen::PointSeg(Box::new(session));
            }
            Reply::Video(task) => {
                self.starting = false;
                self.notice = None;
                self.screen = Screen::Video(Box::new(self.new_video_session(ctx, *task)));
            }
            Reply::Tiles { generation, tiles } => {
                if let Screen::Task(s) = &mut self.screen
                    && s.tiles_generation == generation
                {
                    for (tile, (_, image)) in s.tiles.tiles.iter_mut().zip(tiles) {
                        tile.texture.set(image, egui::TextureOptions::LINEAR);
                    }
                }
            }
            Reply::Finished(result) => {
                let message = match result {
                    Ok(m) => m,
                    Err(e) => e,
                };
                if let Screen::Task(s) = &mut self.screen {
                    s.busy = false;
                    if s.finished {
                        self.screen = Screen::Home;
                    } else {
                        s.notice = Some(message.clone());
                    }
                } else if let Screen::Cloud(s) = &mut self.screen {
                    s.busy = false;
                    if s.finished {
                        self.screen = Screen::Home;
                    } else {
                        s.notice = Some(message.clone());
                    }
                }
                if let Screen::PointSeg(s) = &mut self.screen {
                    s.finished_reply(&message);
                    if s.finished {
                        self.screen = Screen::Home;
                    }
                }
                if let Screen::Video(s) = &mut self.screen
                    && Self::video_finished(s, &message)
                {
                    self.screen = Screen::Home;
                }
                self.notice = Some(message);
                self.refresh_jobs();
            }
        }
    }

    fn new_session(&self, ctx: &egui::Context, task: OpenedTask) -> TaskSession {
        let tiles = ImageTiles {
            size: egui::vec2(
                task.image.original.width() as f32,
                task.image.original.height() as f32,
            ),
            tiles: task
                .image
                .tiles
                .iter()
                .enumerate()
                .map(|(i, (rect, image))| Tile {
                    rect_px: *rect,
                    texture: ctx.load_texture(
                        format!("image-tile-{i}"),
                        image.clone(),
                        egui::TextureOptions::LINEAR,
                    ),
                })
                .collect(),
        };
        let now = self.config.clock.now_ms();
        let notice = (!task.claim.notes.is_empty()).then(|| task.claim.notes.join(" "));
        TaskSession {
            view: TaskView::new(task.document.template()),
            drafts: self.draft_saver(&task.claim, &task.document, 4),
            tiles,
            tiles_generation: 0,
            accepted_at_ms: now,
            active_ms: 0,
            last_input_ms: now,
            notice,
            busy: false,
            finished: false,
            task,
        }
    }

    // --- screens ---------------------------------------------------------------------------

    fn home_ui(&mut self, ui: &mut egui::Ui) {
        let label = self.workspace.as_ref().map(|w| w.target.label());
        let sync = self.sync_badge();
        let model = HomeModel {
            workspace: label.as_deref(),
            worker: &self.config.worker,
            sync,
            jobs: &self.jobs,
            loading: self.jobs_loading,
            recent: &self.recent_labels,
            notice: self.notice.as_deref(),
            starting: self.starting,
        };
        let actions = home::home_ui(ui, &mut self.home, &model);
        for action in actions {
            match action {
                HomeAction::OpenLocal(path) => self.open_workspace(RecentWorkspace::Local { path }),
                HomeAction::OpenS3 { uri, profile, endpoint } => {
                    self.open_workspace(RecentWorkspace::S3 {
                        uri,
                        profile: (!profile.is_empty()).then_some(profile),
                        endpoint: (!endpoint.is_empty()).then_some(endpoint),
                    })
                }
                HomeAction::OpenRecent(label) => {
                    if let Some(target) = self.recent.iter().find(|r| r.label() == label).cloned() {
                        self.open_workspace(target);
                    }
                }
                HomeAction::Refresh => self.refresh_jobs(),
                HomeAction::StartWorking(job) => {
                    if let Some(ws) = &self.workspace
                        && !self.starting
                    {
                        self.starting = true;
                        self.notice = None;
                        self.pending += 1;
                        self.backend.start_task(ws.jobs.clone(), ws.drafts.clone(), job);
                    }
                }
                HomeAction::DismissNotice => self.notice = None,
                HomeAction::CreateJob => self.open_author(true),
                HomeAction::MonitorJobs => self.open_author(false),
            }
        }
    }

    /// Opens the author screens on the current workspace, on the wizard or the monitor.
    fn open_author(&mut self, wizard: bool) {
        use crate::ui::wizard::WizardState;
        use crate::ui::wizard::backend::{Backend as WizardBackend, TokioExecutor};
        use crate::ui::wizard::draft::Identity;
        let Some(ws) = &self.workspace else { return };
        let executor = Arc::new(TokioExecutor::new(self.backend.runtime_handle()));
        let identity = match &ws.target {
            RecentWorkspace::Local { path } => Identity::local(&self.config.worker, path),
            RecentWorkspace::S3 { profile, endpoint, .. } => Identity {
                user: self.config.worker.clone(),
                credentials: format!(
                    "AWS credentials from the standard chain{}{}",
                    profile.as_deref().map(|p| format!(", profile {p}")).unwrap_or_default(),
                    endpoint.as_deref().map(|e| format!(", endpoint {e}")).unwrap_or_default()
                ),
                region: "us-east-1".into(),
                account: "111122223333".into(),
            },
        };
        let session = AuthorSession {
            backend: WizardBackend::new(ws.jobs.clone(), executor),
            wizard: wizard.then(|| WizardState::new(&identity)),
            identity,
            monitor: crate::ui::monitor::MonitorState::new(),
        };
        self.screen = Screen::Author(Box::new(session));
    }

    /// The author screens; returns true to go back home.
    fn author_ui(&mut self, ui: &mut egui::Ui, session: &mut AuthorSession) -> bool {
        use crate::ui::monitor::monitor_ui;
        use crate::ui::wizard::{WizardAction, WizardEnv, wizard_ui};
        let mut leave = false;
        egui::Panel::top("author-bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                if ui.button("Back to jobs").clicked() {
                    leave = true;
                }
                ui.separator();
                if ui.selectable_label(session.wizard.is_some(), "Create job").clicked()
                    && session.wizard.is_none()
                {
                    session.wizard = Some(crate::ui::wizard::WizardState::new(&session.identity));
                }
                if ui.selectable_label(session.wizard.is_none(), "Monitor").clicked() {
                    session.wizard = None;
                }
            });
        });
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(state) = &mut session.wizard {
                let env = WizardEnv { backend: &session.backend, identity: &session.identity };
                match wizard_ui(ui, state, &env) {
                    Some(WizardAction::Created { .. }) | Some(WizardAction::Cancelled) => {
                        session.wizard = None;
                        self.refresh_jobs();
                    }
                    Some(WizardAction::OpenPreviewTask { jobs, job_name }) => {
                        // The worker view on the sandbox: writes stay in memory.
                        if let Some(ws) = &self.workspace {
                            self.pending += 1;
                            self.backend.start_task(jobs, ws.drafts.clone(), job_name);
                        }
                    }
                    None => {}
                }
            } else if let Some(action) = monitor_ui(ui, &mut session.monitor, &session.backend) {
                session.wizard = Some(action.wizard(&session.identity));
            }
        });
        leave
    }

    fn sync_badge(&self) -> Option<SyncBadge> {
        self.sync_status().map(|s| SyncBadge {
            online: s.online,
            queued: s.queued,
            drafts_pending: s.drafts_pending,
        })
    }

    fn task_ui(&mut self, ui: &mut egui::Ui, session: &mut TaskSession) -> bool {
        let now = self.config.clock.now_ms();
        // Active time: gaps between input events count up to 30 s (pauses excluded).
        if ui.input(|i| !i.events.is_empty() || i.pointer.is_moving()) {
            session.active_ms += (now - session.last_input_ms).clamp(0, 30_000);
            session.last_input_ms = now;
        }
        let s = &mut *session;
        let chrome = TaskChrome {
            header: s.task.claim.header(
                now,
                self.sync_badge().unwrap_or_default(),
                s.notice.as_deref(),
                s.busy,
            ),
            global_attributes: &s.task.global_attributes,
            label_attributes: &s.task.label_attributes,
            image: Some(&s.tiles),
            image_status: "",
        };
        let actions = task::task_ui(ui, &mut s.view, &mut s.task.document, &chrome);
        // Autosave: every change goes to the local draft at once (after a stroke ends).
        if !s.finished
            && s.view.drag.is_none()
            && let Err(e) = s.drafts.offer(&s.task.document)
        {
            s.notice = Some(e.into());
        }
        let mut leave = false;
        for action in actions {
            match action {
                TaskAction::Submit => leave |= self.submit(s),
                TaskAction::StopAndResume => {
                    self.keep_closing(s.drafts.close(&s.task.document, s.finished));
                    self.left_to_resume();
                    leave = true;
                }
                TaskAction::Release | TaskAction::Decline => {
                    let decline = action == TaskAction::Decline;
                    if self.give_back(&s.task.claim, decline) {
                        s.busy = true;
                        s.finished = true;
                    }
                }
                TaskAction::AdjustImage { brightness, contrast } => {
                    s.tiles_generation += 1;
                    self.pending += 1;
                    self.backend.adjust_image(
                        s.task.image.original.clone(),
                        brightness,
                        contrast,
                        s.tiles_generation,
                    );
                }
                TaskAction::DismissNotice => s.notice = None,
            }
        }
        ui.ctx().request_repaint_after(Duration::from_secs(1));
        leave
    }

    /// Submits through the outbox. Returns true when the task screen should close.
    fn submit(&mut self, s: &mut TaskSession) -> bool {
        let answer = s.task.document.answer_content();
        self.submit_answer(
            answer,
            submit::Submission {
                claim: &s.task.claim,
                accepted_at_ms: s.accepted_at_ms,
                active_ms: s.active_ms,
                notice: &mut s.notice,
                finished: &mut s.finished,
            },
        )
    }
}

impl eframe::App for GroundworkApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll_replies(&ctx);
        let screen = std::mem::replace(&mut self.screen, Screen::Home);
        self.screen = match screen {
            Screen::Home => {
                self.home_ui(ui);
                // A reply may have opened a task meanwhile.
                std::mem::replace(&mut self.screen, Screen::Home)
            }
            Screen::Task(mut session) => {
                let leave = self.task_ui(ui, &mut session);
                match std::mem::replace(&mut self.screen, Screen::Home) {
                    Screen::Task(_) => Screen::Task(session),
                    Screen::Home if leave => Screen::Home,
                    Screen::Home => Screen::Task(session),
                    other => other,
                }
            }
            Screen::Cloud(mut session) => {
                let leave = self.cloud_ui(ui, &mut session);
                match std::mem::replace(&mut self.screen, Screen::Home) {
                    Screen::Home if !leave => Screen::Cloud(session),
                    other => other,
                }
            }
            Screen::PointSeg(mut session) => {
                let leave = self.point_seg_ui(ui, &mut session);
                match std::mem::replace(&mut self.screen, Screen::Home) {
                    Screen::Home if leave => Screen::Home,
                    Screen::Home => Screen::PointSeg(session),
                    other => other,
                }
            }
            Screen::Video(mut session) => {
                let leave = self.video_ui(ui, &mut session);
                match std::mem::replace(&mut self.screen, Screen::Home) {
                    Screen::Home if leave => Screen::Home,
                    Screen::Home => Screen::Video(session),
                    other => other,
                }
            }
            Screen::Author(mut session) => {
                let leave = self.author_ui(ui, &mut session);
                match std::mem::replace(&mut self.screen, Screen::Home) {
                    // A preview task opened meanwhile.
                    task @ Screen::Task(_) => task,
                    task @ Screen::PointSeg(_) => task,
                    video @ Screen::Video(_) => video,
                    task @ Screen::Cloud(_) => task,
                    _ if leave => Screen::Home,
                    _ => Screen::Author(session),
                }
            }
        };
        if self.pending > 0 {
            ctx.request_repaint_after(Duration::from_millis(50));
        }
    }
}

impl Drop for GroundworkApp {
    /// Hands the open task's unsaved changes to its autosave and leaves a task that waits until
    /// they are saved and the sync engine has taken them ([`AppConfig::exit_tasks`]).
    fn drop(&mut self) {
        let closing = match &mut self.screen {
            Screen::Task(s) => s.drafts.close(&s.task.document, s.finished).map(boxed),
            Screen::Video(s) => s.close_drafts().map(boxed),
            Screen::PointSeg(s) => s.close_drafts().map(boxed),
            Screen::Cloud(s) => s.close_drafts().map(boxed),
            Screen::Home | Screen::Author(_) => None,
        };
        let sync = self.workspace.as_ref().map(|w| w.sync.clone());
        // Saves handed over earlier (a task left with "Stop and resume later") go first, so
        // that the flush below is queued behind every one of them.
        let earlier = self.config.exit_tasks.take();
        let handle = self.backend.runtime().spawn(async move {
            for task in earlier {
                let _ = task.await;
            }
            if let Some(closing) = closing {
                closing.await;
            }
            // The engine handles requests in order: the flush is queued behind the saves.
            if let Some(sync) = sync {
                let _ = sync.flush().await;
            }
        });
        self.config.exit_tasks.push(handle);
    }
}

type Closing = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

fn boxed(f: impl std::future::Future<Output = ()> + Send + 'static) -> Closing {
    Box::pin(f)
}

impl GroundworkApp {
    /// The autosave of a task just claimed (saving nothing without a workspace). `capacity`
    /// bounds the revisions waiting to be serialised.
    fn draft_saver<D: DraftDocument>(
        &self,
        claim: &TaskClaim,
        document: &D,
        capacity: usize,
    ) -> DraftSaver<D> {
        let writer = self
            .workspace
            .as_ref()
            .map(|ws| self.backend.spawn_draft_writer(ws.sync.clone(), capacity));
        DraftSaver::new(writer, claim.draft_key.clone(), document)
    }

    /// Lets a closed autosave finish in the background (the app waits for it at exit).
    fn keep_closing(
        &self,
        closing: Option<impl std::future::Future<Output = ()> + Send + 'static>,
    ) {
        if let Some(closing) = closing {
            self.config.exit_tasks.push(self.backend.runtime().spawn(closing));
        }
    }
}
