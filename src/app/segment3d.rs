//! Opening and running a 3D point-cloud semantic-segmentation task (task types
//! `PointCloudSemanticSegmentation` and its adjustment): claim, manifest line (spec §3.2), the
//! point cloud read from the store and parsed off the UI thread, earlier labels for adjustment and
//! verification (a `.zlib` label file and its `color-map`, spec §5.15), the draft; then, on the UI
//! thread, the screen ([`crate::ui::task::segment3d`]) with the cloud uploaded to the GPU once on a
//! worker thread, ordered draft saves, submit, release and decline.

use std::future::Future;
use std::sync::{Arc, mpsc as std_mpsc};
use std::time::Duration;

use super::GroundworkApp;
use super::backend::{
    ClaimedLine, DraftSaver, JobContext, Reply, TaskClaim, TaskError, claim_or_resume,
    claimed_line, job_context, task_type_of,
};
use crate::annotation::point_seg::{self, AuditMode, PointSegDocument};
use crate::formats::manifest::ManifestLine;
use crate::formats::output::{Label, LabelPair, OutputLine};
use crate::formats::point_cloud::{CloudFormat, LoadOptions, PointCloud, RawFormat};
use crate::job::TaskType;
use crate::render::points::{GpuPointCloud, PointUploadOptions};
use crate::store::ObjectPath;
use crate::store::clock::Clock;
use crate::store::jobs::Jobs;
use crate::store::outbox::Drafts;
use crate::ui::task::TaskAction;
use crate::ui::task::segment3d::{Segment3dChrome, Segment3dView, segment3d_ui};
use crate::ui::viewport3d::Viewport3dGpu;

/// Whether this screen handles `task_type`.
pub fn handles(task_type: TaskType) -> bool {
    matches!(
        task_type,
        TaskType::PointCloudSemanticSegmentation
            | TaskType::PointCloudSemanticSegmentationAdjustment
    )
}

/// Whether `job` is a 3D segmentation job (one read of its spec; false when it cannot be read,
/// so the image path reports the error).
pub(super) async fn is_point_seg_job(jobs: &Jobs, job: &str) -> bool {
    jobs.spec(job).await.is_ok_and(|spec| handles(task_type_of(&spec)))
}

/// A claimed segmentation task, loaded and ready to show.
pub struct PointSegTask {
    /// The job, the claim, the draft and the instructions.
    pub claim: TaskClaim,
    /// The document, with earlier labels and the draft applied.
    pub document: PointSegDocument,
    /// The points, in the file's order.
    pub cloud: Arc<PointCloud>,
}

impl std::fmt::Debug for PointSegTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PointSegTask")
            .field("claim", &self.claim)
            .field("points", &self.cloud.len())
            .finish()
    }
}

/// Claims and opens the next segmentation task of `job`, as a [`Reply`].
pub(super) async fn start(
    jobs: &Jobs,
    drafts: &Drafts,
    job: &str,
    worker: &str,
    clock: Arc<dyn Clock>,
) -> Reply {
    Reply::of_opening(job, open(jobs, drafts, job, worker, clock).await, Reply::PointSegTask)
}

/// The format of the frame: `source-ref-metadata.format`, else from the file's head and name.
fn cloud_format(line: &ManifestLine, uri: &str, bytes: &[u8]) -> Result<CloudFormat, String> {
    let declared = line
        .extra
        .get("source-ref-metadata")
        .and_then(|m| m.get("format"))
        .and_then(serde_json::Value::as_str);
    match declared {
        Some(f) => f.parse::<RawFormat>().map(CloudFormat::Raw).map_err(|e| format!("{uri}: {e}")),
        None => CloudFormat::detect(std::path::Path::new(uri), bytes.get(..512).unwrap_or(bytes))
            .ok_or_else(|| format!("{uri}: not a point-cloud format this app reads")),
    }
}

async fn open(
    jobs: &Jobs,
    drafts: &Drafts,
    name: &str,
    worker: &str,
    clock: Arc<dyn Clock>,
) -> Result<PointSegTask, TaskError> {
    let JobContext { spec, task_type, labels, board, .. } =
        job_context(jobs, name, clock).await.map_err(TaskError::Failed)?;
    let config = labels
        .ok_or_else(|| TaskError::Failed(format!("{name}: the job has no label category file")))?;

    let ticket = claim_or_resume(&board, worker).await?;

    // The manifest line and its frame (spec §3.2).
    let ClaimedLine { line, manifest_uri, source } =
        claimed_line(jobs, name, &ticket, "a 3D point-cloud segmentation task").await?;
    let source = &source;
    let bytes = jobs.workspace().store.get(&ObjectPath::parse(source)?, None).await?.bytes;
    let format = cloud_format(&line, source, &bytes).map_err(TaskError::Failed)?;
    let uri = source.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        PointCloud::load_bytes(&bytes, format, &uri, &LoadOptions::default())
    })
    .await
    .map_err(|e| TaskError::Failed(e.to_string()))??;
    if loaded.report.dropped_non_finite > 0 {
        return Err(TaskError::Failed(format!(
            "{source}: {} point(s) have non-finite coordinates; their labels could not line up \
             with the file's points",
            loaded.report.dropped_non_finite
        )));
    }
    let cloud = Arc::new(loaded.cloud);

    let mode = point_seg::audit_mode(task_type.is_adjustment(), &config);
    let mut document = PointSegDocument::new(&config, cloud.len(), mode)?;
    let mut notes = Vec::new();

    // Earlier labels, for adjustment and verification.
    if mode != AuditMode::Labeling {
        let output_line = OutputLine::from_value(
            line.to_value(),
            &manifest_uri,
            Some(ticket.object_id as usize + 1),
        )?;
        let own = spec.label_attribute_name.clone().unwrap_or_else(|| name.to_owned());
        let pair = config
            .audit_label_attribute_name
            .as_deref()
            .and_then(|a| output_line.label_pair(a))
            .or_else(|| {
                output_line.label_pairs().find(|p| {
                    p.attribute != own
                        && matches!(p.label, Some(Label::Ref(_)))
                        && p.metadata.color_map.is_some()
                })
            });
        match pair {
            None => notes.push("No earlier label was found for this point cloud.".to_owned()),
            Some(pair) => {
                document = load_earlier(jobs, pair, document, &mut notes).await?;
            }
        }
    }

    let claim =
        TaskClaim::finish(jobs, drafts, name, worker, spec, board, ticket, &config, notes, |d| {
            document.restore_draft(d)
        })
        .await?;
    Ok(PointSegTask { claim, document, cloud })
}

/// Reads the earlier job's `.zlib` label file and maps its classes onto this job's by name.
async fn load_earlier(
    jobs: &Jobs,
    pair: &LabelPair,
    document: PointSegDocument,
    notes: &mut Vec<String>,
) -> Result<PointSegDocument, TaskError> {
    let Some(Label::Ref(uri)) = &pair.label else {
        notes.push(format!("The earlier label `{}` is not a point label file.", pair.attribute));
        return Ok(document);
    };
    let bytes = jobs.workspace().store.get(&ObjectPath::parse(uri)?, None).await?.bytes;
    let count = document.point_count();
    let raw = crate::formats::output::point_labels::decode(&bytes, Some(count), uri)?;
    let names: Vec<&str> = document.classes().iter().map(|c| c.name.as_str()).collect();
    let color_map = pair.metadata.color_map.clone().unwrap_or_default();
    let (labels, unknown) = point_seg::map_earlier_labels(&raw, &color_map, &names);
    if unknown > 0 {
        notes.push(format!(
            "{unknown} point(s) had an earlier class this job does not know; they start unlabeled."
        ));
    }
    let attributes = pair.metadata.dataset_object_attributes.clone().unwrap_or_default();
    Ok(document.with_earlier(labels, &attributes)?)
}

/// The open segmentation task and its screen.
pub struct PointSegSession {
    /// The task.
    pub task: PointSegTask,
    /// The screen; `None` when the app runs without wgpu.
    pub view: Option<Segment3dView>,
    upload: Option<std_mpsc::Receiver<Result<GpuPointCloud, String>>>,
    status: String,
    /// The autosave.
    drafts: DraftSaver<PointSegDocument>,
    accepted_at_ms: i64,
    active_ms: i64,
    last_input_ms: i64,
    notice: Option<String>,
    busy: bool,
    /// Set once submitted, released or declined: no more draft saves.
    pub(super) finished: bool,
}

impl std::fmt::Debug for PointSegSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PointSegSession").field("task", &self.task).finish()
    }
}

impl PointSegSession {
    /// The message shown to the worker, if any.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Release/decline answered: leave (finished) or show why not.
    pub(super) fn finished_reply(&mut self, message: &str) {
        self.busy = false;
        if !self.finished {
            self.notice = Some(message.to_owned());
        }
    }

    /// Ends the autosave, queuing the last unsaved revision ([`DraftSaver::close`]).
    pub(super) fn close_drafts(&mut self) -> Option<impl Future<Output = ()> + Send + 'static> {
        self.drafts.close(&self.task.document, self.finished)
    }

    /// Hands the document's new revision, if any, to the autosave (never blocks).
    fn autosave(&mut self) {
        if self.finished {
            return;
        }
        if let Err(e) = self.drafts.offer(&self.task.document) {
            self.notice = Some(e.into());
        }
    }
}

impl GroundworkApp {
    /// The 3D renderers, created once on first use from eframe's wgpu state.
    fn gpu3d(&mut self) -> Option<Arc<Viewport3dGpu>> {
        if self.gpu3d.is_none() {
            self.gpu3d = self.render_state.as_ref().map(Viewport3dGpu::new);
        }
        self.gpu3d.clone()
    }

    /// A session for an opened task: the screen, the GPU upload started on a worker thread, the
    /// draft writer.
    pub(super) fn new_point_seg_session(
        &mut self,
        ctx: &egui::Context,
        task: PointSegTask,
    ) -> PointSegSession {
        let now = self.config.clock.now_ms();
        let notice = (!task.claim.notes.is_empty()).then(|| task.claim.notes.join(" "));
        let gpu = self.gpu3d();
        let (view, upload, status) = match gpu {
            Some(gpu) => {
                let (tx, rx) = std_mpsc::channel();
                let renderer = Arc::clone(gpu.point_renderer());
                let device = gpu.device().clone();
                let cloud = Arc::clone(&task.cloud);
                let ctx = ctx.clone();
                self.backend.runtime().spawn_blocking(move || {
                    let result = renderer
                        .upload(&device, &cloud, &PointUploadOptions::default())
                        .map_err(|e| e.to_string());
                    let _ = tx.send(result);
                    ctx.request_repaint();
                });
                (Some(Segment3dView::new(gpu)), Some(rx), "Uploading the points…".to_owned())
            }
            None => (
                None,
                None,
                "3D tasks need the wgpu renderer, and this window has none. Stop the task and \
                 open it in a window with a GPU (or software Vulkan)."
                    .to_owned(),
            ),
        };
        let drafts = self.draft_saver(&task.claim, &task.document, 2);
        PointSegSession {
            task,
            view,
            upload,
            status,
            accepted_at_ms: now,
            active_ms: 0,
            last_input_ms: now,
            notice,
            busy: false,
            finished: false,
            drafts,
        }
    }

    /// The segmentation screen; returns true to go back home.
    pub(super) fn point_seg_ui(
        &mut self,
        ui: &mut egui::Ui,
        session: &mut PointSegSession,
    ) -> bool {
        let now = self.config.clock.now_ms();
        if ui.input(|i| !i.events.is_empty() || i.pointer.is_moving()) {
            session.active_ms += (now - session.last_input_ms).clamp(0, 30_000);
            session.last_input_ms = now;
        }
        // The upload finished?
        if let Some(rx) = &session.upload
            && let Ok(result) = rx.try_recv()
        {
            session.upload = None;
            match (result, &mut session.view) {
                (Ok(gpu_cloud), Some(view)) => {
                    view.set_cloud(
                        Arc::clone(&session.task.cloud),
                        Arc::new(gpu_cloud),
                        &session.task.document,
                    );
                }
                (Err(e), _) => session.status = format!("The points could not be uploaded: {e}"),
                (Ok(_), None) => {}
            }
        }
        let s = &mut *session;
        let sync = self.sync_badge().unwrap_or_default();
        let chrome = Segment3dChrome {
            header: s.task.claim.header(now, sync, s.notice.as_deref(), s.busy),
            status: &s.status,
        };
        let actions = match &mut s.view {
            Some(view) => segment3d_ui(ui, view, &mut s.task.document, &chrome),
            None => no_gpu_ui(ui, &chrome),
        };
        if !s.task.document.in_stroke() {
            s.autosave();
        }
        let mut leave = false;
        for action in actions {
            match action {
                TaskAction::Submit => leave |= self.submit_point_seg(s),
                TaskAction::StopAndResume => {
                    s.task.document.end_stroke();
                    self.keep_closing(s.close_drafts());
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
                TaskAction::DismissNotice => s.notice = None,
                TaskAction::AdjustImage { .. } => {}
            }
        }
        ui.ctx().request_repaint_after(Duration::from_secs(1));
        leave
    }

    /// Submits through the outbox. Returns true when the screen should close.
    fn submit_point_seg(&mut self, s: &mut PointSegSession) -> bool {
        s.task.document.end_stroke();
        let answer = s.task.document.answer_content();
        self.submit_answer(
            answer,
            super::submit::Submission {
                claim: &s.task.claim,
                accepted_at_ms: s.accepted_at_ms,
                active_ms: s.active_ms,
                notice: &mut s.notice,
                finished: &mut s.finished,
            },
        )
    }
}

/// Without wgpu: the task's chrome and why the points cannot be shown.
fn no_gpu_ui(ui: &mut egui::Ui, chrome: &Segment3dChrome<'_>) -> Vec<TaskAction> {
    use crate::ui::command::{self, all};
    let mut actions = Vec::new();
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(120.0);
            ui.heading(chrome.header.title);
            ui.label(chrome.status);
            ui.add_space(crate::ui::theme::SPACE);
            ui.horizontal(|ui| {
                if command::button(ui, &all::STOP_AND_RESUME, !chrome.header.busy) {
                    actions.push(TaskAction::StopAndResume);
                }
                if command::button(ui, &all::RELEASE, !chrome.header.busy) {
                    actions.push(TaskAction::Release);
                }
            });
        });
    });
    actions
}
