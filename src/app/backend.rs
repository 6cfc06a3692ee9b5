//! The app's side of the store: everything that touches disk or network runs here, on the Tokio
//! runtime, and reports back to the UI thread over a bounded channel as a [`Reply`]. Opening a
//! workspace (and starting its sync engine), listing jobs, claiming and opening a task (manifest
//! line, image, earlier labels, draft), finishing a task (release, decline), and the ordered draft
//! writer.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::annotation::document::{
    Content, Document, ImageSize, Mask, Reference, TaskTemplate, colors_from_color_map,
    shapes_from_boxes,
};
use crate::formats::label_config::{AttributeSpec, LabelCategoryConfig};
use crate::formats::manifest::{DataSource, InputManifest, ManifestLine};
use crate::formats::output::{Label, LabelPair, OutputLine, TaskOutputType};
use crate::job::{JobSpec, TaskType};
use crate::store::catalog::Workspace;
use crate::store::claims::{
    ClaimBoard, ClaimJob, ClaimNext, ClaimTicket, FinishOutcome, Unavailable,
};
use crate::store::clock::Clock;
use crate::store::jobs::Jobs;
use crate::store::outbox::{DraftKey, Drafts, Outbox};
use crate::store::sync::{SyncConfig, SyncHandle, spawn_sync_engine};
use crate::store::{ObjectPath, demo};
use crate::ui::home::JobRow;
use crate::ui::task::TaskHeader;
use crate::ui::widgets::SyncBadge;

use super::images::{self, DecodedImage};
use super::recent::RecentWorkspace;

/// An open workspace: its job service and its sync engine.
#[derive(Debug, Clone)]
pub struct OpenedWorkspace {
    /// What was opened.
    pub target: RecentWorkspace,
    /// Jobs over its store.
    pub jobs: Jobs,
    /// Local drafts (this machine's copy).
    pub drafts: Arc<Drafts>,
    /// The sync engine.
    pub sync: SyncHandle,
    /// True when the demo was installed into it just now.
    pub demo_installed: bool,
}

/// What every opened task carries besides its document and its data (image, frames, points):
/// the job, the claim, the draft's key and whether a draft was restored, the instructions, and
/// notes for the worker.
pub struct TaskClaim {
    /// The job's name.
    pub job_name: String,
    /// The job's spec.
    pub spec: JobSpec,
    /// The claim.
    pub ticket: ClaimTicket,
    /// The claim board (release, decline).
    pub board: Arc<ClaimBoard>,
    /// Where the draft goes.
    pub draft_key: DraftKey,
    /// Whether a draft was restored.
    pub resumed: bool,
    /// Plain-text short instructions.
    pub short_instructions: String,
    /// Plain-text full instructions.
    pub full_instructions: String,
    /// Things the worker should know (a draft that could not be read, earlier labels skipped).
    pub notes: Vec<String>,
}

impl std::fmt::Debug for TaskClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskClaim")
            .field("job_name", &self.job_name)
            .field("object_id", &self.ticket.object_id)
            .finish()
    }
}

impl TaskClaim {
    /// The last step of opening any claimed task: restores the worker's draft, if there is one,
    /// with `restore` (the document's `restore_draft`) and reads the instructions. `notes` are
    /// the notes gathered so far (earlier labels); a draft that cannot be restored adds one.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn finish<E: std::fmt::Display>(
        jobs: &Jobs,
        drafts: &Drafts,
        name: &str,
        worker: &str,
        spec: JobSpec,
        board: ClaimBoard,
        ticket: ClaimTicket,
        config: &LabelCategoryConfig,
        mut notes: Vec<String>,
        restore: impl FnOnce(&serde_json::Value) -> Result<(), E>,
    ) -> Result<TaskClaim, TaskError> {
        let draft_key = draft_key_of(&spec, name, worker, ticket.object_id)?;
        let store = jobs.workspace().store.clone();
        let resumed = restore_draft(drafts, store.as_ref(), &draft_key, &mut notes, restore).await;
        let (short_instructions, full_instructions) = instructions_text(config, &spec);
        Ok(TaskClaim {
            job_name: name.to_owned(),
            spec,
            ticket,
            board: Arc::new(board),
            draft_key,
            resumed,
            short_instructions,
            full_instructions,
            notes,
        })
    }
}

impl TaskClaim {
    /// The job's name and the claimed object's id.
    pub fn ids(&self) -> (&str, u64) {
        (self.job_name.as_str(), self.ticket.object_id)
    }

    /// What the task screen shows of this claim at `now_ms`, with the app's sync badge, notice and
    /// hand-over state.
    pub(super) fn header<'a>(
        &'a self,
        now_ms: i64,
        sync: SyncBadge,
        notice: Option<&'a str>,
        busy: bool,
    ) -> TaskHeader<'a> {
        TaskHeader {
            title: &self.spec.human_task_config.task_title,
            job_name: &self.job_name,
            object_id: self.ticket.object_id,
            short_instructions: &self.short_instructions,
            full_instructions: &self.full_instructions,
            time_left_secs: Some((self.ticket.expires_at_ms - now_ms).div_euclid(1000)),
            sync,
            notice,
            busy,
            resumed: self.resumed,
        }
    }
}

/// A claimed image or text task, loaded and ready to edit.
#[derive(Debug)]
pub struct OpenedTask {
    /// The job, the claim, the draft and the instructions.
    pub claim: TaskClaim,
    /// The document, with earlier labels and the draft applied.
    pub document: Document,
    /// The image.
    pub image: DecodedImage,
    /// Attributes every shape may carry.
    pub global_attributes: Vec<AttributeSpec>,
    /// Attributes per label.
    pub label_attributes: Vec<Vec<AttributeSpec>>,
}

/// A draft writer ([`Backend::spawn_draft_writer`]): where documents go, in order, and the
/// task that writes them.
pub type DraftWriter<D> = (mpsc::Sender<(DraftKey, D)>, tokio::task::JoinHandle<()>);

/// What the worker is told when drafts can no longer be saved.
pub const DRAFTS_STOPPED: &str = "Drafts cannot be saved: the sync engine stopped.";

/// A task document that autosaves: a revision that every change bumps, a copy without the undo
/// history (what a save needs), and its draft JSON (written off the UI thread).
pub trait DraftDocument: Send + Sized + 'static {
    /// Bumped by every change.
    fn revision(&self) -> u64;
    /// The document without its undo history.
    fn without_history(&self) -> Self;
    /// The draft saved for it.
    fn to_draft(&self) -> serde_json::Value;
}

macro_rules! draft_documents {
    ($($document:ty),*) => {$(
        impl DraftDocument for $document {
            fn revision(&self) -> u64 {
                <$document>::revision(self)
            }
            fn without_history(&self) -> Self {
                <$document>::without_history(self)
            }
            fn to_draft(&self) -> serde_json::Value {
                <$document>::to_draft(self)
            }
        }
    )*};
}

draft_documents!(
    Document,
    crate::annotation::video::VideoDocument,
    crate::annotation::cuboids::CuboidDocument,
    crate::annotation::point_seg::PointSegDocument
);

/// One open task's autosave, the same for every task screen: each new revision of the document
/// goes, without blocking the UI, to its [`DraftWriter`], which serialises it off the UI thread
/// and hands it to the sync engine (saved locally at once, synced when online). When the worker
/// leaves the task or the app closes, [`DraftSaver::close`] queues the last revision, waiting
/// for room, so no change is dropped for a full queue.
pub struct DraftSaver<D> {
    key: DraftKey,
    saved_revision: u64,
    writer: Option<DraftWriter<D>>,
}

impl<D: DraftDocument> DraftSaver<D> {
    /// A saver for the draft `key` of `document` as it is now (already saved: it was just
    /// opened or restored); `writer` is `None` without a workspace (nothing is saved).
    pub fn new(writer: Option<DraftWriter<D>>, key: DraftKey, document: &D) -> Self {
        Self { key, saved_revision: document.revision(), writer }
    }

    /// Hands `document` to the writer when its revision is new, copying it only when there is
    /// room. Never blocks: with the queue full it is offered again next frame.
    /// `Err(DRAFTS_STOPPED)` when the writer has ended.
    pub fn offer(&mut self, document: &D) -> Result<(), &'static str> {
        let Some((writer, _)) = &self.writer else { return Ok(()) };
        let revision = document.revision();
        if revision == self.saved_revision {
            return Ok(());
        }
        match writer.try_reserve() {
            Ok(permit) => {
                permit.send((self.key.clone(), document.without_history()));
                self.saved_revision = revision;
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(())) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(())) => Err(DRAFTS_STOPPED),
        }
    }

    /// Ends the autosave: `document` (unless the task is `finished`, or its revision already
    /// saved) is queued, waiting for room, and the writer closed. The returned future ends once
    /// the writer has handed everything to the sync engine; `None` when there was no writer.
    pub fn close(
        &mut self,
        document: &D,
        finished: bool,
    ) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
        let (writer, task) = self.writer.take()?;
        let revision = document.revision();
        let last = (!finished && revision != self.saved_revision)
            .then(|| (self.key.clone(), document.without_history()));
        self.saved_revision = revision;
        Some(async move {
            if let Some(item) = last {
                let _ = writer.send(item).await;
            }
            drop(writer);
            let _ = task.await;
        })
    }
}

/// What a background operation reports.
#[derive(Debug)]
pub enum Reply {
    /// A workspace was opened (or not).
    Workspace(Result<Box<OpenedWorkspace>, String>),
    /// The jobs of the open workspace.
    Jobs(Result<Vec<JobRow>, String>),
    /// An image or text task was claimed and loaded.
    Task(Box<OpenedTask>),
    /// A 3D cuboid task was claimed and loaded.
    Cloud(Box<super::cloud::OpenedCloudTask>),
    /// A 3D point-cloud segmentation task was claimed and loaded.
    PointSegTask(Box<super::segment3d::PointSegTask>),
    /// A video-frame task was claimed and loaded.
    Video(Box<super::video::OpenedVideo>),
    /// Nothing to claim, and why.
    NoTask(String),
    /// A task could not be opened, and why.
    OpenFailed(String),
    /// Re-rendered image tiles (brightness/contrast) for generation `generation`.
    Tiles {
        /// Which request.
        generation: u64,
        /// The tiles.
        tiles: Vec<(egui::Rect, egui::ColorImage)>,
    },
    /// A release or decline finished; the message says how.
    Finished(Result<String, String>),
    /// The recent-workspaces list was read.
    Recent(Vec<RecentWorkspace>),
}

impl Reply {
    /// The reply to opening a task of `job`: `opened` (e.g. `Reply::Video`) with the task, else
    /// why nothing was claimed or what failed.
    pub(super) fn of_opening<T>(
        job: &str,
        result: Result<T, TaskError>,
        opened: fn(Box<T>) -> Reply,
    ) -> Reply {
        match result {
            Ok(task) => opened(Box::new(task)),
            Err(TaskError::Unavailable(why)) => Reply::NoTask(format!("{job}: {why}")),
            Err(TaskError::Failed(e)) => Reply::OpenFailed(e),
        }
    }
}

/// Hands work to the runtime and replies to the UI thread.
#[derive(Clone)]
pub struct Backend {
    runtime: tokio::runtime::Handle,
    replies: mpsc::Sender<Reply>,
    ctx: egui::Context,
    clock: Arc<dyn Clock>,
    worker: String,
    state_dir: PathBuf,
    demo_dir: PathBuf,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend").field("worker", &self.worker).finish()
    }
}

impl Backend {
    /// The runtime the backend's work runs on (for views that run store calls of their own).
    pub fn runtime_handle(&self) -> tokio::runtime::Handle {
        self.runtime.clone()
    }

    /// A backend on `runtime`, replying into a channel whose receiver it returns.
    pub fn new(
        runtime: tokio::runtime::Handle,
        ctx: egui::Context,
        clock: Arc<dyn Clock>,
        worker: String,
        state_dir: PathBuf,
        demo_dir: PathBuf,
    ) -> (Self, mpsc::Receiver<Reply>) {
        let (replies, rx) = mpsc::channel(64);
        (Self { runtime, replies, ctx, clock, worker, state_dir, demo_dir }, rx)
    }

    /// The runtime.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// Runs `work` on the runtime and sends its reply, then wakes the UI.
    fn spawn<F>(&self, work: F)
    where
        F: std::future::Future<Output = Reply> + Send + 'static,
    {
        let replies = self.replies.clone();
        let ctx = self.ctx.clone();
        self.runtime.spawn(async move {
            let reply = work.await;
            let _ = replies.send(reply).await;
            ctx.request_repaint();
        });
    }

    /// Reads the recent-workspaces list.
    pub fn load_recent(&self) {
        let path = self.state_dir.join("recent.json");
        self.spawn(async move {
            let list = tokio::task::spawn_blocking(move || super::recent::read(&path))
                .await
                .unwrap_or_default();
            Reply::Recent(list)
        });
    }

    /// Opens a workspace (installing the demo into the demo folder on first use) and starts its
    /// sync engine; remembers it in the recent list.
    pub fn open_workspace(&self, target: RecentWorkspace) {
        let this = self.clone();
        self.spawn(async move {
            Reply::Workspace(this.open_workspace_inner(target).await.map(Box::new))
        });
    }

    async fn open_workspace_inner(
        &self,
        target: RecentWorkspace,
    ) -> Result<OpenedWorkspace, String> {
        let (workspace, dir) = match &target {
            RecentWorkspace::Local { path } => {
                let dir = PathBuf::from(path);
                if !dir.is_dir() && dir != self.demo_dir {
                    return Err(format!("{path}: no such folder"));
                }
                std::fs::create_dir_all(&dir).map_err(|e| format!("{path}: {e}"))?;
                (Workspace::open_local(&dir).map_err(|e| e.to_string())?, Some(dir))
            }
            RecentWorkspace::S3 { uri, profile, endpoint } => {
                use crate::store::layout::Catalog;
                use crate::store::s3::{S3Config, S3Store};
                let root = ObjectPath::parse(uri).map_err(|e| e.to_string())?;
                let store = S3Store::from_env(S3Config {
                    endpoint_url: endpoint.clone(),
                    profile: profile.clone(),
                    region: None,
                    force_path_style: None,
                })
                .await
                .map_err(|e| format!("{uri}: {e}"))?;
                let catalog = Catalog::new(root).map_err(|e| e.to_string())?;
                (Workspace::new(Arc::new(store), catalog), None)
            }
        };
        let jobs = Jobs::new(workspace, self.clock.clone());
        let mut demo_installed = false;
        if let Some(dir) = dir
            && dir == self.demo_dir
            && !dir.join(crate::store::LOCAL_CATALOG_BUCKET).exists()
        {
            demo::install(&jobs, &self.worker)
                .await
                .map_err(|e| format!("installing the demo: {e}"))?;
            demo_installed = true;
        }
        let local =
            self.state_dir.join("workspaces").join(format!("{:016x}", fnv1a64(&target.label())));
        let clock = self.clock.clone();
        let (outbox, drafts) = tokio::task::spawn_blocking(move || {
            Ok::<_, String>((
                Arc::new(Outbox::open(&local, clock.clone()).map_err(|e| e.to_string())?),
                Arc::new(Drafts::open(&local, clock).map_err(|e| e.to_string())?),
            ))
        })
        .await
        .map_err(|e| e.to_string())??;
        let sync = spawn_sync_engine(
            &self.runtime,
            jobs.workspace().store.clone(),
            outbox,
            drafts.clone(),
            SyncConfig::default(),
        );
        // Repaint whenever the engine's status changes (the badge).
        let mut status = sync.subscribe();
        let ctx = self.ctx.clone();
        self.runtime.spawn(async move {
            while status.changed().await.is_ok() {
                ctx.request_repaint();
            }
        });
        let recent_path = self.state_dir.join("recent.json");
        let remembered = target.clone();
        let _ =
            tokio::task::spawn_blocking(move || super::recent::remember(&recent_path, remembered))
                .await;
        Ok(OpenedWorkspace { target, jobs, drafts, sync, demo_installed })
    }

    /// Lists the jobs of the worker's team with status, progress and held tasks.
    pub fn list_jobs(&self, jobs: Jobs) {
        let worker = self.worker.clone();
        let clock = self.clock.clone();
        self.spawn(async move { Reply::Jobs(list_jobs(&jobs, &worker, clock).await) });
    }

    /// Claims the next task of `job` (or resumes one the worker holds) and loads it.
    pub fn start_task(&self, jobs: Jobs, drafts: Arc<Drafts>, job: String) {
        let worker = self.worker.clone();
        let clock = self.clock.clone();
        self.spawn(async move {
            if super::segment3d::is_point_seg_job(&jobs, &job).await {
                return super::segment3d::start(&jobs, &drafts, &job, &worker, clock).await;
            }
            if super::video::is_video_job(&jobs, &job).await {
                return super::video::start(&jobs, &drafts, &job, &worker, clock).await;
            }
            if let Some(reply) =
                super::cloud::open_if_cloud(&jobs, &drafts, &job, &worker, clock.clone()).await
            {
                return reply;
            }
            let opened = open_task(&jobs, &drafts, &job, &worker, clock).await.and_then(|task| {
                task.ok_or_else(|| {
                    TaskError::Unavailable("no task is available for you right now.".into())
                })
            });
            Reply::of_opening(&job, opened, Reply::Task)
        });
    }

    /// Releases or declines a task, then drops its local draft.
    pub fn finish_task(
        &self,
        board: Arc<ClaimBoard>,
        ticket: ClaimTicket,
        decline: bool,
        drafts: Arc<Drafts>,
        key: DraftKey,
    ) {
        self.spawn(async move {
            let outcome =
                if decline { board.decline(&ticket).await } else { board.release(&ticket).await };
            let verb = if decline { "declined" } else { "released" };
            let result = match outcome {
                Ok(FinishOutcome::Done | FinishOutcome::AlreadyDone) => Ok(format!("Task {verb}.")),
                Ok(FinishOutcome::Lost { .. }) => {
                    Ok("The task had already expired and gone to someone else.".to_owned())
                }
                Err(e) => Err(format!("The task could not be {verb}: {e}")),
            };
            if result.is_ok() {
                let _ = tokio::task::spawn_blocking(move || drafts.discard_local(&key)).await;
            }
            Reply::Finished(result)
        });
    }

    /// Re-renders `image` with brightness and contrast.
    pub fn adjust_image(
        &self,
        image: Arc<image::RgbaImage>,
        brightness: f32,
        contrast: f32,
        generation: u64,
    ) {
        self.spawn(async move {
            let tiles =
                tokio::task::spawn_blocking(move || images::tiles(&image, brightness, contrast))
                    .await
                    .unwrap_or_default();
            Reply::Tiles { generation, tiles }
        });
    }

    /// After a submission was enqueued: waits for its delivery, discards the local draft and
    /// settles the object, in the background ([`super::submit::settle_after_submit`]).
    pub(super) fn after_submit(&self, after: super::submit::AfterSubmit) {
        self.runtime.spawn(super::submit::settle_after_submit(after));
    }

    /// A draft writer for one kind of task document: serialises the documents sent to it in
    /// order, off the UI thread (`to_draft`), and hands each to the sync engine, which saves it
    /// locally at once and syncs it. `capacity` bounds the documents waiting.
    pub fn spawn_draft_writer<D: DraftDocument>(
        &self,
        sync: SyncHandle,
        capacity: usize,
    ) -> DraftWriter<D> {
        let (tx, mut rx) = mpsc::channel::<(DraftKey, D)>(capacity.max(1));
        let task = self.runtime.spawn(async move {
            while let Some((key, doc)) = rx.recv().await {
                let Ok(draft) = tokio::task::spawn_blocking(move || doc.to_draft()).await else {
                    continue;
                };
                // The engine's channel is bounded: wait for room rather than drop a save.
                loop {
                    match sync.save_draft(key.clone(), draft.clone()) {
                        Ok(()) => break,
                        Err(crate::store::sync::SyncError::Busy) => {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                        Err(crate::store::sync::SyncError::Stopped) => return,
                    }
                }
            }
        });
        (tx, task)
    }
}

/// FNV-1a, 64 bits: a stable folder name for a workspace's local state.
pub fn fnv1a64(text: &str) -> u64 {
    text.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Why a task did not open.
pub(super) enum TaskError {
    /// Nothing to claim (a reason for the worker).
    Unavailable(String),
    /// Something failed.
    Failed(String),
}

impl<E: std::fmt::Display> From<E> for TaskError {
    fn from(e: E) -> Self {
        Self::Failed(e.to_string())
    }
}

/// The task `worker` already holds on `board` (resumed), else the next one claimed.
pub(super) async fn claim_or_resume(
    board: &ClaimBoard,
    worker: &str,
) -> Result<ClaimTicket, TaskError> {
    if let Some(t) = board.held_by(worker).await?.into_iter().next() {
        return Ok(t);
    }
    match board.claim_next(worker).await? {
        ClaimNext::Claimed(t) => Ok(t),
        ClaimNext::Unavailable(why) => {
            Err(TaskError::Unavailable(unavailable_text(why).to_owned()))
        }
    }
}

/// Where `worker`'s draft of object `object_id` of job `name` is kept.
pub(super) fn draft_key_of(
    spec: &JobSpec,
    name: &str,
    worker: &str,
    object_id: u64,
) -> Result<DraftKey, crate::store::StoreError> {
    Ok(DraftKey {
        s3_output_path: ObjectPath::parse(&spec.output_config.s3_output_path)?,
        job_name: name.to_owned(),
        worker: worker.to_owned(),
        object_id,
        kms_key_id: spec.output_config.kms_key_id.clone(),
    })
}

/// The claimed object's line of the job's input manifest (spec §3.1), with the manifest's URI
/// and the line's `source-ref`; `needs` names the task for the error when the line has inline
/// `source` text instead.
pub(super) async fn claimed_line(
    jobs: &Jobs,
    name: &str,
    ticket: &ClaimTicket,
    needs: &str,
) -> Result<ClaimedLine, TaskError> {
    let manifest = jobs.workspace().job_input_manifest(name).await?;
    let manifest_uri = manifest.uri();
    let text = read_text(jobs, &manifest_uri).await.map_err(TaskError::Failed)?;
    let lines = InputManifest::parse(&text, &manifest_uri)?;
    let line = lines.get(ticket.object_id as usize).cloned().ok_or_else(|| {
        TaskError::Failed(format!("{manifest}: no line for object {}", ticket.object_id))
    })?;
    let DataSource::SourceRef(source) = &line.source else {
        return Err(TaskError::Failed(format!(
            "object {}: {needs} needs a `source-ref` (the line has `source` text)",
            ticket.object_id
        )));
    };
    let source = source.clone();
    Ok(ClaimedLine { line, manifest_uri, source })
}

/// A claimed object's manifest line ([`claimed_line`]).
pub(super) struct ClaimedLine {
    /// The line.
    pub(super) line: ManifestLine,
    /// The input manifest's URI.
    pub(super) manifest_uri: String,
    /// The line's `source-ref`.
    pub(super) source: String,
}

/// Restores the worker's draft under `key` with `restore` (a document's `restore_draft`), if
/// there is one. Returns whether a draft was restored; a draft that cannot be read or restored
/// becomes a note for the worker.
pub(super) async fn restore_draft<E: std::fmt::Display>(
    drafts: &Drafts,
    store: &dyn crate::store::ObjectStore,
    key: &DraftKey,
    notes: &mut Vec<String>,
    restore: impl FnOnce(&serde_json::Value) -> Result<(), E>,
) -> bool {
    match drafts.load_draft(store, key).await {
        Ok(Some((draft, _))) => match restore(&draft.content) {
            Ok(()) => true,
            Err(e) => {
                notes.push(format!("Your earlier draft could not be restored: {e}"));
                false
            }
        },
        Ok(None) => false,
        Err(e) => {
            notes.push(format!("Your earlier draft could not be read: {e}"));
            false
        }
    }
}

/// The label file's short and full instructions as plain text; the short ones fall back to the
/// job's task description.
pub(super) fn instructions_text(config: &LabelCategoryConfig, spec: &JobSpec) -> (String, String) {
    let instructions = config.instructions.clone().unwrap_or_default();
    let short = instructions
        .short_instruction
        .map(|s| crate::ui::widgets::html_to_text(&s))
        .unwrap_or_else(|| spec.human_task_config.task_description.clone());
    let full = instructions
        .full_instruction
        .map(|s| crate::ui::widgets::html_to_text(&s))
        .unwrap_or_default();
    (short, full)
}

/// What the app needs to know about a job to list or work on it.
pub(super) struct JobContext {
    pub(super) spec: JobSpec,
    pub(super) task_type: TaskType,
    pub(super) template: Option<TaskTemplate>,
    pub(super) labels: Option<LabelCategoryConfig>,
    pub(super) board: ClaimBoard,
}

pub(super) fn task_type_of(spec: &JobSpec) -> TaskType {
    spec.human_task_config
        .pre_human_task_lambda_arn
        .as_deref()
        .and_then(TaskType::from_pre_lambda_arn)
        .unwrap_or(TaskType::Custom)
}

pub(super) async fn read_text(jobs: &Jobs, uri: &str) -> Result<String, String> {
    let path = ObjectPath::parse(uri).map_err(|e| e.to_string())?;
    let got = jobs.workspace().store.get(&path, None).await.map_err(|e| e.to_string())?;
    String::from_utf8(got.bytes).map_err(|_| format!("{uri}: not UTF-8 text"))
}

pub(super) async fn job_context(
    jobs: &Jobs,
    name: &str,
    clock: Arc<dyn Clock>,
) -> Result<JobContext, String> {
    let spec = jobs.spec(name).await.map_err(|e| e.to_string())?;
    let task_type = task_type_of(&spec);
    let html = match (task_type, spec.human_task_config.ui_config.ui_template_s3_uri.as_deref()) {
        (TaskType::Custom, Some(uri)) => read_text(jobs, uri).await.ok(),
        _ => None,
    };
    let template = TaskTemplate::for_task(task_type, html.as_deref());
    let labels = jobs.label_config(&spec).await?;
    let ws = jobs.workspace();
    let created_at_ms =
        ws.job_created(name).await.map_err(|e| e.to_string())?.map_or(0, |c| c.created_at_ms);
    let object_count = ws.job_object_count(name).await.map_err(|e| e.to_string())? as u64;
    let claim_job = ClaimJob {
        output: Jobs::output_of(&spec).map_err(|e| e.to_string())?,
        stop_marker: ws.catalog.job_stop(name).map_err(|e| e.to_string())?,
        created_at_ms,
        object_count,
        kms_key_id: spec.output_config.kms_key_id.clone(),
    };
    let board = ClaimBoard::new(ws.store.clone(), claim_job, Jobs::policy_of(&spec), clock)
        .map_err(|e| e.to_string())?;
    Ok(JobContext { spec, task_type, template, labels, board })
}

/// The last segment of a work team ARN (`…:workteam/private-crowd/<team>`).
fn team_of_arn(arn: &str) -> Option<&str> {
    arn.rsplit('/').next().filter(|s| !s.is_empty() && !s.contains(':'))
}

async fn list_jobs(
    jobs: &Jobs,
    worker: &str,
    clock: Arc<dyn Clock>,
) -> Result<Vec<JobRow>, String> {
    let ws = jobs.workspace();
    let teams = ws.list_workteams().await.map_err(|e| e.to_string())?;
    let mine = if teams.is_empty() {
        None
    } else {
        Some(ws.teams_of(worker).await.map_err(|e| e.to_string())?)
    };
    let mut rows = Vec::new();
    for summary in jobs.list().await.map_err(|e| e.to_string())? {
        let name = summary.labeling_job_name.clone();
        let ctx = match job_context(jobs, &name, clock.clone()).await {
            Ok(ctx) => ctx,
            Err(e) => {
                tracing::warn!(job = %name, error = %e, "job skipped");
                continue;
            }
        };
        // In a workspace with teams, a worker sees the jobs of their teams only.
        if let Some(mine) = &mine {
            let team = team_of_arn(&ctx.spec.human_task_config.workteam_arn);
            if !team.is_some_and(|t| mine.iter().any(|m| m == t)) {
                continue;
            }
        }
        let held = ctx.board.held_by(worker).await.map(|h| h.len()).unwrap_or(0);
        let c = summary.label_counters;
        let total = c.total_labeled + c.unlabeled + c.failed_non_retryable_error;
        rows.push(JobRow {
            name,
            title: ctx.spec.human_task_config.task_title.clone(),
            description: ctx.spec.human_task_config.task_description.clone(),
            kind: match &ctx.template {
                None if super::video::is_video_task(ctx.task_type) => {
                    ctx.task_type.display_name().to_owned()
                }
                Some(t) if ctx.task_type.is_adjustment() => {
                    format!("{} (adjustment)", t.display_name())
                }
                Some(t) => t.display_name().to_owned(),
                None => ctx.task_type.display_name().to_owned(),
            },
            supported: ctx.template.is_some()
                || super::segment3d::handles(ctx.task_type)
                || super::video::is_video_task(ctx.task_type)
                || crate::annotation::cuboids::CuboidTaskKind::of(ctx.task_type).is_some(),
            status: summary.labeling_job_status.as_str().to_owned(),
            labeled: c.total_labeled,
            total,
            held,
        });
    }
    Ok(rows)
}

pub(super) fn unavailable_text(why: Unavailable) -> &'static str {
    match why {
        Unavailable::JobStopped => "the job was stopped.",
        Unavailable::AvailabilityExpired => {
            "the job's tasks are no longer available (its availability time is over)."
        }
        Unavailable::WorkerLimitReached => {
            "you already hold as many tasks as allowed; finish one first."
        }
        Unavailable::ConcurrencyLimitReached => {
            "the job has as many tasks in progress as it allows; try again shortly."
        }
        Unavailable::NoTaskAvailable => "no task is left for you in this job.",
    }
}

async fn open_task(
    jobs: &Jobs,
    drafts: &Drafts,
    name: &str,
    worker: &str,
    clock: Arc<dyn Clock>,
) -> Result<Option<OpenedTask>, TaskError> {
    let ctx = job_context(jobs, name, clock).await.map_err(TaskError::Failed)?;
    let template = ctx.template.clone().ok_or_else(|| {
        TaskError::Failed(format!(
            "{name}: {} tasks have no view in this app",
            ctx.task_type.display_name()
        ))
    })?;
    let config = ctx
        .labels
        .clone()
        .ok_or_else(|| TaskError::Failed(format!("{name}: the job has no label category file")))?;
    let labels: Vec<String> = config.labels.iter().map(|l| l.label.clone()).collect();

    // Resume a task this worker holds, else claim the next one.
    let ticket = claim_or_resume(&ctx.board, worker).await?;

    let ClaimedLine { line, manifest_uri, source } =
        claimed_line(jobs, name, &ticket, "an image task").await?;
    let source = &source;
    let source_path = ObjectPath::parse(source)?;
    let bytes = jobs.workspace().store.get(&source_path, None).await?.bytes;
    let source_name = source.clone();
    let image = tokio::task::spawn_blocking(move || images::decode(&bytes, &source_name))
        .await
        .map_err(|e| TaskError::Failed(e.to_string()))?
        .map_err(TaskError::Failed)?;
    let (width, height) = image.original.dimensions();
    let size = ImageSize { width, height };

    let mut notes = Vec::new();
    let mut document = Document::new(template.clone(), labels.clone(), size)?;

    // Earlier labels, for adjustment and verification.
    if ctx.task_type.is_adjustment() || ctx.task_type.is_verification() {
        let output_line = OutputLine::from_value(
            line.to_value(),
            &manifest_uri,
            Some(ticket.object_id as usize + 1),
        )?;
        let own = ctx.spec.label_attribute_name.clone().unwrap_or_else(|| name.to_owned());
        let preferred = config.audit_label_attribute_name.clone();
        let pair = find_reference_pair(&output_line, preferred.as_deref(), &own, ctx.task_type);
        match pair {
            None => notes.push("No earlier label was found for this object.".to_owned()),
            Some(pair) => {
                let reference = load_reference(
                    jobs,
                    pair,
                    &labels,
                    ctx.task_type.is_verification(),
                    &mut notes,
                )
                .await?;
                if ctx.task_type.is_adjustment() {
                    let mut content = Content::default();
                    if let Some(mask) = &reference.mask {
                        content.mask = Some(mask.clone());
                    }
                    content.next_id = reference.shapes.len() as u64;
                    content.shapes = reference.shapes.clone();
                    document = document.with_initial(content);
                } else {
                    document = document.with_reference(reference);
                }
            }
        }
    }

    let claim = TaskClaim::finish(
        jobs,
        drafts,
        name,
        worker,
        ctx.spec,
        ctx.board,
        ticket,
        &config,
        notes,
        |d| document.restore_draft(d),
    )
    .await?;
    let global_attributes = config.category_global_attributes.clone().unwrap_or_default();
    let label_attributes =
        config.labels.iter().map(|l| l.category_attributes.clone().unwrap_or_default()).collect();
    Ok(Some(OpenedTask { claim, document, image, global_attributes, label_attributes }))
}

/// The earlier label to show or adjust: the label file's `auditLabelAttributeName` when given,
/// else the first box or segmentation label pair that is not the job's own.
fn find_reference_pair<'a>(
    line: &'a OutputLine,
    preferred: Option<&str>,
    own: &str,
    task_type: TaskType,
) -> Option<&'a LabelPair> {
    if let Some(p) = preferred.and_then(|a| line.label_pair(a)) {
        return Some(p);
    }
    let wants_mask = matches!(
        task_type,
        TaskType::SemanticSegmentationAdjustment | TaskType::SemanticSegmentationVerification
    );
    line.label_pairs().find(|p| {
        p.attribute != own
            && match (&p.label, wants_mask) {
                (Some(Label::BoundingBoxes(_)), false) => true,
                (Some(Label::Ref(_)), true) => {
                    p.metadata
                        .task_type
                        .as_ref()
                        .is_none_or(|t| matches!(t, TaskOutputType::SemanticSegmentation))
                        || p.metadata.internal_color_map.is_some()
                }
                _ => false,
            }
    })
}

/// Reads an earlier label into shapes or a mask. For verification the classes are the earlier
/// job's; for adjustment they are mapped onto this job's labels by name.
async fn load_reference(
    jobs: &Jobs,
    pair: &LabelPair,
    labels: &[String],
    verification: bool,
    notes: &mut Vec<String>,
) -> Result<Reference, TaskError> {
    let mut reference = Reference { attribute: pair.attribute.clone(), ..Reference::default() };
    match &pair.label {
        Some(Label::BoundingBoxes(boxes)) => {
            let class_map = pair.metadata.class_map.clone().unwrap_or_default();
            let names: Vec<String> = if verification {
                let max = class_map.keys().max().copied().unwrap_or(0);
                (0..=max)
                    .map(|i| class_map.get(&i).cloned().unwrap_or_else(|| format!("class {i}")))
                    .collect()
            } else {
                labels.to_vec()
            };
            let (shapes, skipped) = shapes_from_boxes(boxes, &class_map, &names);
            if skipped > 0 {
                notes.push(format!("{skipped} earlier box(es) have labels this job does not know and are not shown."));
            }
            reference.shapes = shapes;
            reference.labels = names;
        }
        Some(Label::Ref(uri)) => {
            let map = pair.metadata.internal_color_map.clone().unwrap_or_default();
            let names: Vec<String> = if verification {
                let max = map.keys().max().copied().unwrap_or(0);
                (1..=max)
                    .map(|i| {
                        map.get(&i)
                            .and_then(|e| e.class_name.clone())
                            .unwrap_or_else(|| format!("class {i}"))
                    })
                    .collect()
            } else {
                labels.to_vec()
            };
            let colors = colors_from_color_map(&map, &names);
            let background = colors.first().copied().flatten().unwrap_or([255, 255, 255]);
            let lookup: Vec<[u8; 3]> = colors.iter().map(|c| c.unwrap_or(background)).collect();
            let bytes = jobs.workspace().store.get(&ObjectPath::parse(uri)?, None).await?.bytes;
            let (mask, unknown) = Mask::from_png(&bytes, &lookup)?;
            if unknown > 0 {
                notes.push(format!(
                    "{unknown} pixel(s) of the earlier mask have colours not in its colour map."
                ));
            }
            reference.mask = Some(mask);
            reference.mask_colors = if verification {
                lookup
            } else {
                crate::annotation::consolidate::segmentation_class_colors(labels.len())
            };
            reference.labels = names;
        }
        _ => notes.push(format!("The earlier label `{}` is not boxes or a mask.", pair.attribute)),
    }
    Ok(reference)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key() -> DraftKey {
        DraftKey {
            s3_output_path: ObjectPath::parse("s3://bucket/output/").unwrap(),
            job_name: "job".into(),
            worker: "w".into(),
            object_id: 0,
            kms_key_id: None,
        }
    }

    /// A document that is only its revision; `copies` counts the copies made for saving.
    struct Rev(u64, Arc<AtomicUsize>);

    impl DraftDocument for Rev {
        fn revision(&self) -> u64 {
            self.0
        }
        fn without_history(&self) -> Self {
            self.1.fetch_add(1, Ordering::Relaxed);
            Rev(self.0, Arc::clone(&self.1))
        }
        fn to_draft(&self) -> serde_json::Value {
            self.0.into()
        }
    }

    /// A writer whose queue holds one document and that takes nothing until `open` is notified;
    /// the revisions it takes land in the returned list.
    fn slow_writer(open: Arc<tokio::sync::Notify>) -> (DraftWriter<Rev>, Arc<Mutex<Vec<u64>>>) {
        let (tx, mut rx) = mpsc::channel::<(DraftKey, Rev)>(1);
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = got.clone();
        let task = tokio::spawn(async move {
            open.notified().await;
            while let Some((_, doc)) = rx.recv().await {
                sink.lock().unwrap().push(doc.0);
            }
        });
        ((tx, task), got)
    }

    #[test]
    fn a_full_queue_delays_a_revision_and_closing_never_drops_the_last() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let open = Arc::new(tokio::sync::Notify::new());
            let (writer, got) = slow_writer(open.clone());
            let copies = Arc::new(AtomicUsize::new(0));
            let rev = |n| Rev(n, Arc::clone(&copies));
            let mut saver = DraftSaver::new(Some(writer), key(), &rev(0));
            saver.offer(&rev(0)).unwrap();
            assert_eq!(copies.load(Ordering::Relaxed), 0, "a saved revision is not copied");
            saver.offer(&rev(1)).unwrap();
            // The queue is full: revision 2 waits (and is not even copied).
            saver.offer(&rev(2)).unwrap();
            assert_eq!(copies.load(Ordering::Relaxed), 1);
            // Leaving at revision 3: it is queued, waiting for room, and the writer ends.
            let closing = saver.close(&rev(3), false).unwrap();
            open.notify_one();
            closing.await;
            assert_eq!(*got.lock().unwrap(), [1, 3]);
        });
    }

    #[test]
    fn nothing_is_queued_for_a_finished_task_or_a_saved_revision() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let copies = Arc::new(AtomicUsize::new(0));
            for (revision, finished) in [(5, true), (0, false)] {
                let open = Arc::new(tokio::sync::Notify::new());
                let (writer, got) = slow_writer(open.clone());
                let mut saver = DraftSaver::new(Some(writer), key(), &Rev(0, copies.clone()));
                let closing = saver.close(&Rev(revision, copies.clone()), finished).unwrap();
                open.notify_one();
                closing.await;
                assert!(got.lock().unwrap().is_empty(), "{revision} {finished}");
            }
        });
    }

    #[test]
    fn a_stopped_writer_is_reported_and_no_workspace_saves_nothing() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let copies = Arc::new(AtomicUsize::new(0));
            let rev = |n| Rev(n, Arc::clone(&copies));
            let (tx, rx) = mpsc::channel::<(DraftKey, Rev)>(1);
            drop(rx);
            let mut saver = DraftSaver::new(Some((tx, tokio::spawn(async {}))), key(), &rev(0));
            assert_eq!(saver.offer(&rev(1)), Err(DRAFTS_STOPPED));
            let mut none = DraftSaver::new(None, key(), &rev(0));
            assert_eq!(none.offer(&rev(7)), Ok(()));
            assert!(none.close(&rev(7), false).is_none());
            assert_eq!(copies.load(Ordering::Relaxed), 0, "nothing copied without a writer");
        });
    }
}
