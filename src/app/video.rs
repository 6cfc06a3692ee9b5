//! Video-frame tasks in the app: opening one (claim, manifest line, sequence file, label file,
//! earlier labels for adjustment, the draft), the session the video screen edits (document,
//! view, frame cache, uploaded frame textures), autosaved drafts, and submitting the
//! `answerContent` contract `{"seqLabel": …, "adjustmentStatus": …}`.
//!
//! Store calls run on the runtime; frames are read and decoded by the [`FrameCache`]'s threads;
//! the UI thread only uploads decoded tiles.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::annotation::video::{VideoDocument, VideoSetup, video_mode};
use crate::formats::output::{Label, OutputLine};
use crate::formats::sequence::VideoSequence;
use crate::job::TaskType;
use crate::store::ObjectPath;
use crate::store::clock::Clock;
use crate::store::jobs::Jobs;
use crate::store::outbox::Drafts;
use crate::ui::task::TaskAction;
use crate::ui::task::video::{VideoChrome, VideoView, video_task_ui};
use crate::ui::widgets::viewport::{ImageTiles, Tile};

use super::GroundworkApp;
use super::backend::{
    ClaimedLine, DraftSaver, Reply, TaskClaim, TaskError, claim_or_resume, claimed_line,
    job_context, read_text, task_type_of,
};
use super::frames::{FrameCache, FrameCacheConfig, FrameSource, FrameState, FrameStats};

/// Playback rate when the sequence has no usable timestamps.
pub const DEFAULT_FRAMES_PER_SECOND: f64 = 10.0;

/// A claimed video task, loaded and ready to edit (frames still to be read).
pub struct OpenedVideo {
    /// The job, the claim, the draft and the instructions.
    pub claim: TaskClaim,
    /// The document, with earlier labels and the draft applied.
    pub document: VideoDocument,
    /// Where the frames are.
    pub store: Arc<dyn crate::store::ObjectStore>,
    /// Each frame's object, in sequence order.
    pub frame_paths: Vec<ObjectPath>,
    /// Playback rate from the sequence's timestamps.
    pub frames_per_second: f64,
}

impl std::fmt::Debug for OpenedVideo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedVideo")
            .field("claim", &self.claim)
            .field("frames", &self.frame_paths.len())
            .finish()
    }
}

/// True when `job` is a video-frame detection or tracking job (its tasks open here).
pub async fn is_video_job(jobs: &Jobs, job: &str) -> bool {
    jobs.spec(job).await.is_ok_and(|spec| video_mode(task_type_of(&spec)).is_some())
}

/// True for the task types this module opens.
pub fn is_video_task(task_type: TaskType) -> bool {
    video_mode(task_type).is_some()
}

/// Claims and opens the next video task of `job`, as a reply for the UI thread.
pub(super) async fn start(
    jobs: &Jobs,
    drafts: &Drafts,
    job: &str,
    worker: &str,
    clock: Arc<dyn Clock>,
) -> Reply {
    Reply::of_opening(job, open(jobs, drafts, job, worker, clock).await, Reply::Video)
}

/// The playback rate the timestamps imply: the median gap between frames.
fn frames_per_second(sequence: &VideoSequence) -> f64 {
    let times: Vec<f64> = sequence.frames.iter().filter_map(|f| f.unix_timestamp_secs).collect();
    let mut gaps: Vec<f64> =
        times.windows(2).map(|w| w[1] - w[0]).filter(|g| g.is_finite() && *g > 0.0).collect();
    gaps.sort_by(f64::total_cmp);
    match gaps.get(gaps.len() / 2) {
        Some(g) => (1.0 / g).clamp(1.0, 60.0),
        None => DEFAULT_FRAMES_PER_SECOND,
    }
}

async fn open(
    jobs: &Jobs,
    drafts: &Drafts,
    name: &str,
    worker: &str,
    clock: Arc<dyn Clock>,
) -> Result<OpenedVideo, TaskError> {
    let ctx = job_context(jobs, name, clock).await.map_err(TaskError::Failed)?;
    let config = ctx
        .labels
        .clone()
        .ok_or_else(|| TaskError::Failed(format!("{name}: the job has no label category file")))?;

    let ticket = claim_or_resume(&ctx.board, worker).await?;

    // The manifest line names the sequence file.
    let ClaimedLine { line, manifest_uri, source } =
        claimed_line(jobs, name, &ticket, "a video-frame task").await?;
    let source = &source;
    let sequence_text = read_text(jobs, source).await.map_err(TaskError::Failed)?;
    let sequence = VideoSequence::parse(&sequence_text, source)?;
    let prefix = if sequence.prefix.ends_with('/') {
        sequence.prefix.clone()
    } else {
        format!("{}/", sequence.prefix)
    };
    let frame_paths = sequence
        .frames
        .iter()
        .map(|f| ObjectPath::parse(&format!("{prefix}{}", f.frame)))
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<String> = sequence.frames.iter().map(|f| f.frame.clone()).collect();
    let setup = VideoSetup::from_config(ctx.task_type, &config, names)?;
    let mut document = VideoDocument::new(setup, fastrand::Rng::new())?;

    // Earlier labels, for adjustment and verification.
    let mut notes = Vec::new();
    if ctx.task_type.is_adjustment() {
        let output_line = OutputLine::from_value(
            line.to_value(),
            &manifest_uri,
            Some(ticket.object_id as usize + 1),
        )?;
        let own = ctx.spec.label_attribute_name.clone().unwrap_or_else(|| name.to_owned());
        let pair = config
            .audit_label_attribute_name
            .as_deref()
            .and_then(|a| output_line.label_pair(a))
            .or_else(|| {
                output_line
                    .label_pairs()
                    .find(|p| p.attribute != own && matches!(p.label, Some(Label::Ref(_))))
            });
        match pair.map(|p| (p.label.clone(), p.metadata.class_map.clone())) {
            Some((Some(Label::Ref(uri)), class_map)) => {
                let text = read_text(jobs, &uri).await.map_err(TaskError::Failed)?;
                let earlier = crate::formats::output::seq_label::VideoSeqLabel::parse(&text, &uri)?;
                let report = document.load_earlier(&earlier, class_map.as_ref());
                if report.skipped > 0 {
                    notes.push(format!(
                        "{} earlier shape(s) name frames or labels this task does not have and are not shown.",
                        report.skipped
                    ));
                }
            }
            Some(_) => notes.push("The earlier label is not a SeqLabel.json reference.".into()),
            None => notes.push("No earlier label was found for this sequence.".into()),
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
    Ok(OpenedVideo {
        claim,
        document,
        store: jobs.workspace().store.clone(),
        frame_paths,
        frames_per_second: frames_per_second(&sequence),
    })
}

/// An open video task: what the video screen edits and shows.
pub struct VideoSession {
    /// The task.
    pub task: OpenedVideo,
    /// The view state.
    pub view: VideoView,
    cache: FrameCache,
    tiles: Option<ImageTiles>,
    /// The frame whose tiles are uploaded.
    tiles_frame: Option<usize>,
    frame_status: String,
    /// The autosave.
    drafts: DraftSaver<VideoDocument>,
    accepted_at_ms: i64,
    active_ms: i64,
    last_input_ms: i64,
    notice: Option<String>,
    busy: bool,
    /// Set once submitted, released or declined: no more draft saves.
    finished: bool,
}

impl std::fmt::Debug for VideoSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoSession").field("task", &self.task).finish()
    }
}

impl VideoSession {
    /// The document.
    pub fn document(&self) -> &VideoDocument {
        &self.task.document
    }

    /// The message shown to the worker, if any.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// True when the current frame is decoded and shown.
    pub fn frame_ready(&self) -> bool {
        self.tiles_frame == Some(self.view.frame)
    }

    /// The frame cache's counters.
    pub fn cache_stats(&self) -> FrameStats {
        self.cache.stats()
    }

    /// Hands the document's new revision, if any, to the autosave (never blocks).
    fn autosave(&mut self) {
        if let Err(e) = self.drafts.offer(&self.task.document) {
            self.notice = Some(e.into());
        }
    }

    /// Ends the autosave, queuing the last unsaved revision ([`DraftSaver::close`]).
    pub(super) fn close_drafts(&mut self) -> Option<impl Future<Output = ()> + Send + 'static> {
        self.drafts.close(&self.task.document, self.finished)
    }

    /// Uploads the current frame's tiles once it is decoded (keeping the last frame meanwhile).
    fn sync_frame(&mut self, ctx: &egui::Context) {
        let index = self.view.frame;
        match self.cache.get(index) {
            FrameState::Ready(frame) => {
                self.frame_status.clear();
                if self.tiles_frame == Some(index) {
                    return;
                }
                let size = egui::vec2(frame.size[0] as f32, frame.size[1] as f32);
                let reuse = self
                    .tiles
                    .as_ref()
                    .is_some_and(|t| t.size == size && t.tiles.len() == frame.tiles.len());
                let options = egui::TextureOptions::LINEAR;
                if reuse && let Some(tiles) = &mut self.tiles {
                    for (tile, (_, pixels)) in tiles.tiles.iter_mut().zip(&frame.tiles) {
                        tile.texture.set(pixels.clone(), options);
                    }
                } else {
                    self.tiles = Some(ImageTiles {
                        size,
                        tiles: frame
                            .tiles
                            .iter()
                            .enumerate()
                            .map(|(i, (rect, pixels))| Tile {
                                rect_px: *rect,
                                texture: ctx.load_texture(
                                    format!("video-frame-tile-{i}"),
                                    pixels.clone(),
                                    options,
                                ),
                            })
                            .collect(),
                    });
                }
                self.tiles_frame = Some(index);
            }
            FrameState::Loading => {
                self.frame_status = format!("Loading frame {}…", index + 1);
            }
            FrameState::Failed(message) => {
                self.frame_status = format!("Frame {} cannot be shown: {message}", index + 1);
            }
        }
    }
}

impl GroundworkApp {
    /// The open video task, if the video screen shows.
    pub fn video_session(&self) -> Option<&VideoSession> {
        match &self.screen {
            super::Screen::Video(s) => Some(s),
            _ => None,
        }
    }

    /// A session for a freshly opened video task: its frame cache starts reading at once.
    pub(super) fn new_video_session(&self, ctx: &egui::Context, task: OpenedVideo) -> VideoSession {
        let repaint = ctx.clone();
        let source = FrameSource {
            store: task.store.clone(),
            paths: task.frame_paths.clone(),
            runtime: self.backend.runtime_handle(),
        };
        let cache = FrameCache::new(
            source,
            FrameCacheConfig::default(),
            Some(Arc::new(move || repaint.request_repaint())),
        );
        let now = self.config.clock.now_ms();
        let notice = (!task.claim.notes.is_empty()).then(|| task.claim.notes.join(" "));
        let mut session = VideoSession {
            view: VideoView::default(),
            cache,
            tiles: None,
            tiles_frame: None,
            frame_status: "Loading frame 1…".into(),
            drafts: self.draft_saver(&task.claim, &task.document, 4),
            accepted_at_ms: now,
            active_ms: 0,
            last_input_ms: now,
            notice,
            busy: false,
            finished: false,
            task,
        };
        session.sync_frame(ctx);
        session
    }

    /// The video screen; returns true to go back home.
    pub(super) fn video_ui(&mut self, ui: &mut egui::Ui, s: &mut VideoSession) -> bool {
        let now = self.config.clock.now_ms();
        if ui.input(|i| !i.events.is_empty() || i.pointer.is_moving()) {
            s.active_ms += (now - s.last_input_ms).clamp(0, 30_000);
            s.last_input_ms = now;
        }
        s.sync_frame(ui.ctx());
        let stats = s.cache.stats();
        let cache_text = format!(
            "Frames: {} decoded ahead · {} hits, {} misses · decode {:.0} ms",
            stats.cached_frames,
            stats.hits,
            stats.misses,
            stats.decode_ms_mean()
        );
        let ready = s.cache.ready_mask();
        let sync = self.sync_badge().unwrap_or_default();
        let actions = {
            let chrome = VideoChrome {
                header: s.task.claim.header(now, sync, s.notice.as_deref(), s.busy),
                frame: s.tiles.as_ref(),
                frame_current: s.tiles_frame == Some(s.view.frame),
                frame_status: &s.frame_status,
                ready: &ready,
                cache_text: &cache_text,
                frames_per_second: s.task.frames_per_second,
            };
            video_task_ui(ui, &mut s.view, &mut s.task.document, &chrome)
        };
        // The frame may have changed: show it this frame if it is decoded.
        if s.tiles_frame != Some(s.view.frame) {
            s.sync_frame(ui.ctx());
            ui.ctx().request_repaint();
        }
        if !s.finished && s.view.drag.is_none() {
            s.autosave();
        }
        let mut leave = false;
        for action in actions {
            match action {
                TaskAction::Submit => leave |= self.submit_video(s),
                TaskAction::StopAndResume => {
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
                TaskAction::AdjustImage { .. } => {}
                TaskAction::DismissNotice => s.notice = None,
            }
        }
        ui.ctx().request_repaint_after(Duration::from_secs(1));
        leave
    }

    /// A release or decline finished.
    pub(super) fn video_finished(s: &mut VideoSession, message: &str) -> bool {
        s.busy = false;
        if !s.finished {
            s.notice = Some(message.to_owned());
        }
        s.finished
    }

    /// Submits through the outbox. Returns true when the screen should close.
    fn submit_video(&mut self, s: &mut VideoSession) -> bool {
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
