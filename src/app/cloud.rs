//! The app side of 3D cuboid tasks: opening one (claim, label config, the frame manifest line or
//! the sequence file, earlier labels for adjustment, the draft) on the Tokio runtime; loading
//! frames on a named worker thread (the cloud from the store, its ground fit, the uploads of the
//! whole cloud and of its non-ground points, the camera images), each uploaded once and kept for
//! a few frames around the current one; and the session glue: autosaved drafts, submit, release,
//! decline, stop.
//!
//! Part of `app`: may use every layer below it.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use nalgebra::Isometry3;

use super::backend::{
    ClaimedLine, DraftSaver, Reply, TaskClaim, TaskError, claim_or_resume, claimed_line,
    job_context, read_text, task_type_of,
};
use super::{GroundworkApp, Screen};
use crate::annotation::cuboids::{CuboidDocument, CuboidTaskKind, FrameInfo};
use crate::formats::output::seq_label::SeqLabel;
use crate::formats::output::{Label, OutputLine};
use crate::formats::point_cloud::{CloudFormat, LoadOptions, PointCloud, RawFormat};
use crate::formats::sequence::{
    CameraImage as CameraSpec, CameraModel, FrameMetadata, PointCloudFrameLine, PointCloudSequence,
    Pose,
};
use crate::geometry::fit::{GroundFitOptions, classify_ground, fit_ground};
use crate::geometry::sensor::{Distortion, Intrinsics, LensModel, SensorCamera, pose_isometry};
use crate::job::JobSpec;
use crate::render::points::PointUploadOptions;
use crate::store::clock::Clock;
use crate::store::jobs::Jobs;
use crate::store::outbox::Drafts;
use crate::store::{ObjectPath, ObjectStore};
use crate::ui::task::TaskAction;
use crate::ui::task::cloud::{
    CameraImage, CloudChrome, CloudView, GROUND_DISTANCE_M, LoadedFrame, cloud_task_ui,
};
use crate::ui::viewport3d::Viewport3dGpu;

/// Frames kept loaded around the current one.
const FRAMES_KEPT: usize = 5;

/// A camera of a frame, before loading.
#[derive(Debug, Clone)]
pub struct CameraSource {
    /// Display name (`camera-<n>`).
    pub name: String,
    /// The image's URI.
    pub uri: String,
    /// Intrinsics and the cloud-to-camera transform.
    pub sensor: SensorCamera,
}

/// A frame of the task, before loading.
#[derive(Debug, Clone)]
pub struct FrameSource {
    /// The point cloud's URI.
    pub uri: String,
    /// Its `format` (`binary/xyzi`, …).
    pub format: String,
    /// Its camera images.
    pub cameras: Vec<CameraSource>,
}

/// A claimed 3D task, loaded and ready to edit (its frames load in the session).
pub struct OpenedCloudTask {
    /// The job, the claim, the draft and the instructions.
    pub claim: TaskClaim,
    /// The document, with earlier labels and the draft applied.
    pub document: CuboidDocument,
    /// The frames.
    pub frames: Vec<FrameSource>,
    /// The store the frames come from.
    pub store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for OpenedCloudTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedCloudTask")
            .field("claim", &self.claim)
            .field("frames", &self.frames.len())
            .finish()
    }
}

/// Opens the next task of `job` when it is a 3D cuboid job; `None` for every other kind (the image
/// path handles those, and reports errors reading the spec).
pub(super) async fn open_if_cloud(
    jobs: &Jobs,
    drafts: &Drafts,
    job: &str,
    worker: &str,
    clock: Arc<dyn Clock>,
) -> Option<Reply> {
    let spec = jobs.spec(job).await.ok()?;
    let kind = CuboidTaskKind::of(task_type_of(&spec))?;
    let opened = open_cloud_task(jobs, drafts, job, worker, clock, kind).await;
    Some(Reply::of_opening(job, opened, Reply::Cloud))
}

fn pose_of(pose: Option<&Pose>) -> Isometry3<f64> {
    pose.map_or_else(Isometry3::identity, |p| {
        let h = &p.heading;
        pose_isometry([p.position.x, p.position.y, p.position.z], [h.qx, h.qy, h.qz, h.qw])
    })
}

fn intrinsics_of(c: &CameraSpec) -> Intrinsics {
    Intrinsics {
        fx: c.fx,
        fy: c.fy,
        cx: c.cx,
        cy: c.cy,
        skew: c.skew.unwrap_or(0.0),
        model: match c.camera_model {
            Some(CameraModel::Fisheye) => LensModel::Fisheye,
            _ => LensModel::Pinhole,
        },
        distortion: Distortion {
            k1: c.k1.unwrap_or(0.0),
            k2: c.k2.unwrap_or(0.0),
            k3: c.k3.unwrap_or(0.0),
            k4: c.k4.unwrap_or(0.0),
            p1: c.p1.unwrap_or(0.0),
            p2: c.p2.unwrap_or(0.0),
        },
    }
}

/// `dir` joined with `name` (`dir` ends with `/`, or is the folder of a URI).
fn join_uri(prefix: &str, name: &str) -> String {
    if name.starts_with("s3://") {
        return name.to_owned();
    }
    if prefix.ends_with('/') { format!("{prefix}{name}") } else { format!("{prefix}/{name}") }
}

fn folder_of(uri: &str) -> String {
    uri.rsplit_once('/').map_or_else(String::new, |(dir, _)| format!("{dir}/"))
}

fn frame_source(
    uri: String,
    frame_path: &str,
    meta: &FrameMetadata,
    fallback_prefix: &str,
) -> FrameSource {
    let world_from_lidar = pose_of(meta.ego_vehicle_pose.as_ref());
    let prefix = meta.prefix.clone().unwrap_or_else(|| fallback_prefix.to_owned());
    let cameras = meta
        .images
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| CameraSource {
            name: format!("camera-{i}"),
            uri: join_uri(&prefix, &c.image_path),
            sensor: SensorCamera::new(
                intrinsics_of(c),
                world_from_lidar,
                pose_of(Some(&c.world_from_camera)),
            ),
        })
        .collect();
    FrameSource { uri, format: meta.effective_format(frame_path).to_owned(), cameras }
}

async fn open_cloud_task(
    jobs: &Jobs,
    drafts: &Drafts,
    name: &str,
    worker: &str,
    clock: Arc<dyn Clock>,
    kind: CuboidTaskKind,
) -> Result<OpenedCloudTask, TaskError> {
    let ctx = job_context(jobs, name, clock).await.map_err(TaskError::Failed)?;
    let config = ctx
        .labels
        .clone()
        .ok_or_else(|| TaskError::Failed(format!("{name}: the job has no label category file")))?;
    let ticket = claim_or_resume(&ctx.board, worker).await?;
    let store = jobs.workspace().store.clone();
    let ClaimedLine { line, manifest_uri, source } =
        claimed_line(jobs, name, &ticket, "a 3D point-cloud task").await?;
    let source = &source;
    let line_no = ticket.object_id as usize + 1;

    // Frames: the line itself (detection) or its sequence file.
    let (frames, infos): (Vec<FrameSource>, Vec<FrameInfo>) = if kind.is_sequence() {
        let seq_text = read_text(jobs, source).await.map_err(TaskError::Failed)?;
        let seq = PointCloudSequence::parse(&seq_text, source)?;
        seq.frames
            .iter()
            .map(|f| {
                let uri = join_uri(&seq.prefix, &f.frame);
                let src = frame_source(uri, &f.frame, &f.metadata, &seq.prefix);
                let info = FrameInfo {
                    name: f.frame.clone(),
                    timestamp_secs: f.metadata.unix_timestamp_secs,
                    cameras: src.cameras.len(),
                };
                (src, info)
            })
            .unzip()
    } else {
        let frame = PointCloudFrameLine::from_manifest_line(&line, &manifest_uri, Some(line_no))?;
        let file_name = source.rsplit('/').next().unwrap_or(source).to_owned();
        let src = frame_source(source.clone(), source, &frame.metadata, &folder_of(source));
        let info = FrameInfo {
            name: file_name,
            timestamp_secs: frame.metadata.unix_timestamp_secs,
            cameras: src.cameras.len(),
        };
        (vec![src], vec![info])
    };
    if frames.is_empty() {
        return Err(TaskError::Failed(format!("{source}: the sequence has no frames")));
    }

    let audit = ctx.task_type.is_adjustment();
    let seed = super::backend::fnv1a64(&format!("{name}/{}/{worker}", ticket.object_id))
        ^ ticket.claimed_at_ms as u64;
    let mut document = CuboidDocument::new(kind, &config, infos, audit, seed)
        .map_err(|e| TaskError::Failed(e.to_string()))?;
    let mut notes = Vec::new();
    if audit {
        load_earlier(
            jobs,
            &line,
            &manifest_uri,
            line_no,
            name,
            &ctx.spec,
            &config,
            &mut document,
            &mut notes,
        )
        .await?;
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
    Ok(OpenedCloudTask { claim, document, frames, store })
}

/// Loads the earlier labels of an adjustment/verification job: the label pair named by
/// `auditLabelAttributeName` (else the first cuboid or `-ref` pair that is not the job's own):
/// inline cuboids, or a `SeqLabel.json` (3D tracking or 3D-2D linking).
#[allow(clippy::too_many_arguments)]
async fn load_earlier(
    jobs: &Jobs,
    line: &crate::formats::manifest::ManifestLine,
    manifest_uri: &str,
    line_no: usize,
    job: &str,
    spec: &JobSpec,
    config: &crate::formats::label_config::LabelCategoryConfig,
    document: &mut CuboidDocument,
    notes: &mut Vec<String>,
) -> Result<(), TaskError> {
    let output_line = OutputLine::from_value(line.to_value(), manifest_uri, Some(line_no))?;
    let own = spec.label_attribute_name.clone().unwrap_or_else(|| job.to_owned());
    let pair = config
        .audit_label_attribute_name
        .as_deref()
        .and_then(|a| output_line.label_pair(a))
        .or_else(|| {
            output_line.label_pairs().find(|p| {
                p.attribute != own
                    && matches!(p.label, Some(Label::Cuboids(_)) | Some(Label::Ref(_)))
            })
        });
    let Some(pair) = pair else {
        notes.push("No earlier label was found for this object.".to_owned());
        return Ok(());
    };
    let class_map = pair.metadata.class_map.clone().unwrap_or_default();
    let skipped = match &pair.label {
        Some(Label::Cuboids(c)) => {
            let skipped = document.load_initial(&[(0, c.annotations.clone())], &class_map, &[]);
            if let Some(attrs) = &pair.metadata.dataset_object_attributes {
                document.load_initial_frame_attributes(BTreeMap::from([(
                    0,
                    attrs.clone().into_iter().collect(),
                )]));
            }
            skipped
        }
        Some(Label::Ref(uri)) => {
            let text = read_text(jobs, uri).await.map_err(TaskError::Failed)?;
            let (lidar, cameras) = match SeqLabel::parse(&text, uri)? {
                SeqLabel::PointCloud(p) => (p, Vec::new()),
                SeqLabel::SensorFusion(s) => (s.lidar, s.cameras),
                SeqLabel::Video(_) => {
                    notes.push(format!("{uri} holds video labels, not cuboids."));
                    return Ok(());
                }
            };
            let frames: Vec<_> = lidar
                .frames
                .iter()
                .map(|f| (f.frame_number.value as usize, f.annotations.clone()))
                .collect();
            let mut boxes = Vec::new();
            for (key, video) in &cameras {
                let camera = key.trim_start_matches("camera-").parse::<usize>().unwrap_or(0);
                for f in &video.frames {
                    for b in f.boxes.iter().flatten() {
                        boxes.push((f.frame_no.value as usize, camera, b.clone()));
                    }
                }
            }
            let skipped = document.load_initial(&frames, &class_map, &boxes);
            let attributes = lidar
                .frames
                .iter()
                .filter_map(|f| {
                    let m = f.frame_attributes.clone()?;
                    Some((f.frame_number.value as usize, m.into_iter().collect()))
                })
                .collect();
            document.load_initial_frame_attributes(attributes);
            skipped
        }
        _ => {
            notes.push(format!("The earlier label `{}` holds no cuboids.", pair.attribute));
            0
        }
    };
    if skipped > 0 {
        notes.push(format!(
            "{skipped} earlier label(s) name labels or frames this job does not have and are not shown."
        ));
    }
    Ok(())
}

// --- frame loading --------------------------------------------------------------------------

/// A frame as the loader thread hands it over (images still to be uploaded as textures).
struct FrameData {
    index: usize,
    frame: LoadedFrameParts,
}

struct LoadedFrameParts {
    cloud: Arc<PointCloud>,
    gpu: Arc<crate::render::points::GpuPointCloud>,
    above_ground: Option<(Arc<crate::render::points::GpuPointCloud>, Arc<Vec<u32>>)>,
    ground: Option<crate::geometry::fit::GroundFit>,
    ground_mask: Arc<Vec<bool>>,
    images: Vec<(CameraSource, Result<egui::ColorImage, String>)>,
}

/// Loads frames on a named thread: store → cloud → ground → GPU, and the camera images.
pub struct FrameLoader {
    requests: std_mpsc::Sender<usize>,
    results: std_mpsc::Receiver<Result<FrameData, (usize, String)>>,
    requested: BTreeSet<usize>,
}

impl FrameLoader {
    fn new(
        gpu: Arc<Viewport3dGpu>,
        store: Arc<dyn ObjectStore>,
        frames: Vec<FrameSource>,
        runtime: tokio::runtime::Handle,
        ctx: egui::Context,
    ) -> Self {
        let (requests, inbox) = std_mpsc::channel::<usize>();
        let (outbox, results) = std_mpsc::channel();
        let spawned =
            std::thread::Builder::new().name("groundwork-cloud-frames".into()).spawn(move || {
                while let Ok(index) = inbox.recv() {
                    let result = match frames.get(index) {
                        Some(source) => load_frame(&gpu, store.as_ref(), source, &runtime)
                            .map(|frame| FrameData { index, frame })
                            .map_err(|e| (index, e)),
                        None => Err((index, format!("no frame {index}"))),
                    };
                    if outbox.send(result).is_err() {
                        break;
                    }
                    ctx.request_repaint();
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "the frame loader thread did not start");
        }
        Self { requests, results, requested: BTreeSet::new() }
    }

    fn request(&mut self, index: usize) {
        if self.requested.insert(index) {
            let _ = self.requests.send(index);
        }
    }
}

fn load_frame(
    gpu: &Viewport3dGpu,
    store: &dyn ObjectStore,
    source: &FrameSource,
    runtime: &tokio::runtime::Handle,
) -> Result<LoadedFrameParts, String> {
    let get = |uri: &str| -> Result<Vec<u8>, String> {
        let path = ObjectPath::parse(uri).map_err(|e| e.to_string())?;
        runtime.block_on(store.get(&path, None)).map(|g| g.bytes).map_err(|e| format!("{uri}: {e}"))
    };
    let bytes = get(&source.uri)?;
    let format = match RawFormat::from_str(&source.format) {
        Ok(raw) => CloudFormat::Raw(raw),
        Err(_) => {
            CloudFormat::detect(Path::new(&source.uri), bytes.get(..512).unwrap_or(&bytes))
                .ok_or_else(|| format!("{}: not a point-cloud format this app reads", source.uri))?
        }
    };
    let cloud = PointCloud::load_bytes(&bytes, format, &source.uri, &LoadOptions::default())
        .map_err(|e| e.to_string())?
        .cloud;
    drop(bytes);
    // The ground: fitted in the cloud's local frame, kept in world coordinates.
    let fit = fit_ground(&cloud.positions, &GroundFitOptions::default())
        .filter(|g| g.inlier_ratio >= 0.05);
    let origin = nalgebra::Vector3::from(cloud.origin);
    let mask = fit
        .map(|g| classify_ground(&cloud.positions, &g.plane, GROUND_DISTANCE_M))
        .unwrap_or_else(|| vec![false; cloud.len()]);
    let ground =
        fit.map(|g| crate::geometry::fit::GroundFit { plane: g.plane.relative_to(-origin), ..g });
    let renderer = gpu.point_renderer();
    let options = PointUploadOptions::default();
    let whole = renderer.upload(gpu.device(), &cloud, &options).map_err(|e| e.to_string())?;
    let above_ground = if ground.is_some() {
        let indices: Vec<u32> = (0..cloud.len() as u32)
            .filter(|i| !mask.get(*i as usize).copied().unwrap_or(false))
            .collect();
        let subset = subset_of(&cloud, &indices);
        let gpu_subset =
            renderer.upload(gpu.device(), &subset, &options).map_err(|e| e.to_string())?;
        Some((Arc::new(gpu_subset), Arc::new(indices)))
    } else {
        None
    };
    let images = source
        .cameras
        .iter()
        .map(|c| {
            let image = get(&c.uri).and_then(|b| {
                let rgba =
                    image::load_from_memory(&b).map_err(|e| format!("{}: {e}", c.uri))?.to_rgba8();
                let size = [rgba.width() as usize, rgba.height() as usize];
                Ok(egui::ColorImage::from_rgba_unmultiplied(size, rgba.as_raw()))
            });
            (c.clone(), image)
        })
        .collect();
    Ok(LoadedFrameParts {
        cloud: Arc::new(cloud),
        gpu: Arc::new(whole),
        above_ground,
        ground,
        ground_mask: Arc::new(mask),
        images,
    })
}

/// The points of `cloud` at `indices`, with their attributes.
fn subset_of(cloud: &PointCloud, indices: &[u32]) -> PointCloud {
    fn pick<T: Copy>(values: &Option<Vec<T>>, indices: &[u32]) -> Option<Vec<T>> {
        values
            .as_ref()
            .map(|v| indices.iter().filter_map(|i| v.get(*i as usize).copied()).collect())
    }
    PointCloud {
        origin: cloud.origin,
        positions: indices
            .iter()
            .filter_map(|i| cloud.positions.get(*i as usize).copied())
            .collect(),
        intensity: pick(&cloud.intensity, indices),
        classification: pick(&cloud.classification, indices),
        return_number: pick(&cloud.return_number, indices),
        rgb: pick(&cloud.rgb, indices),
        gps_time: pick(&cloud.gps_time, indices),
        user_data: pick(&cloud.user_data, indices),
    }
}

// --- the session ----------------------------------------------------------------------------

/// The open 3D task.
pub struct CloudSession {
    pub(super) task: OpenedCloudTask,
    /// The view state.
    pub view: CloudView,
    loader: FrameLoader,
    frames: BTreeMap<usize, LoadedFrame>,
    errors: BTreeMap<usize, String>,
    /// The autosave.
    drafts: DraftSaver<CuboidDocument>,
    accepted_at_ms: i64,
    active_ms: i64,
    last_input_ms: i64,
    pub(super) notice: Option<String>,
    pub(super) busy: bool,
    pub(super) finished: bool,
}

impl CloudSession {
    /// The document.
    pub fn document(&self) -> &CuboidDocument {
        &self.task.document
    }

    /// Ends the autosave, queuing the last unsaved revision ([`DraftSaver::close`]).
    pub(super) fn close_drafts(&mut self) -> Option<impl Future<Output = ()> + Send + 'static> {
        self.drafts.close(&self.task.document, self.finished)
    }

    /// Hands the document's new revision, if any, to the autosave (never blocks).
    fn autosave(&mut self) {
        if let Err(e) = self.drafts.offer(&self.task.document) {
            self.notice = Some(e.into());
        }
    }

    /// The document, for tests and benchmarks that edit it directly.
    pub fn document_mut(&mut self) -> &mut CuboidDocument {
        &mut self.task.document
    }

    /// The current frame, once loaded.
    pub fn current_frame(&self) -> Option<&LoadedFrame> {
        self.frames.get(&self.view.frame)
    }

    /// Receives loaded frames, asks for the current and the next, drops far ones.
    fn pump_frames(&mut self, ctx: &egui::Context) {
        while let Ok(result) = self.loader.results.try_recv() {
            match result {
                Ok(data) => {
                    let parts = data.frame;
                    let cameras = parts
                        .images
                        .into_iter()
                        .filter_map(|(source, image)| match image {
                            Ok(image) => {
                                let size_px = [image.size[0] as f64, image.size[1] as f64];
                                let texture = ctx.load_texture(
                                    format!("camera-{}-{}", data.index, source.name),
                                    image,
                                    egui::TextureOptions::LINEAR,
                                );
                                Some(crate::ui::task::cloud::CameraImage {
                                    name: source.name,
                                    texture,
                                    size_px,
                                    sensor: source.sensor,
                                })
                            }
                            Err(e) => {
                                self.notice = Some(format!("A camera image did not load: {e}"));
                                None
                            }
                        })
                        .collect::<Vec<CameraImage>>();
                    self.frames.insert(
                        data.index,
                        LoadedFrame {
                            index: data.index,
                            cloud: parts.cloud,
                            gpu: parts.gpu,
                            above_ground: parts.above_ground,
                            ground: parts.ground,
                            ground_mask: parts.ground_mask,
                            cameras,
                        },
                    );
                }
                Err((index, e)) => {
                    self.errors.insert(index, e);
                }
            }
        }
        let current = self.view.frame;
        let count = self.task.frames.len();
        self.loader.request(current);
        if self.frames.contains_key(&current) && current + 1 < count {
            self.loader.request(current + 1);
        }
        let far: Vec<usize> = self
            .frames
            .keys()
            .copied()
            .filter(|f| f.abs_diff(current) > FRAMES_KEPT / 2 + 1)
            .collect();
        for f in far {
            self.frames.remove(&f);
            self.loader.requested.remove(&f);
        }
    }
}

impl GroundworkApp {
    /// Opens the 3D screen for a claimed task (the GPU pipelines are made on first use).
    pub(super) fn open_cloud(&mut self, ctx: &egui::Context, task: OpenedCloudTask) {
        let Some(render_state) = &self.render_state else {
            self.notice = Some(
                "3D tasks need a GPU renderer (wgpu); this window has none. Release the task from \
                 a machine with one, or start the app with a wgpu backend."
                    .into(),
            );
            return;
        };
        let gpu = self.gpu3d.get_or_insert_with(|| Viewport3dGpu::new(render_state)).clone();
        let loader = FrameLoader::new(
            Arc::clone(&gpu),
            Arc::clone(&task.store),
            task.frames.clone(),
            self.backend.runtime_handle(),
            ctx.clone(),
        );
        let now = self.config.clock.now_ms();
        let notice = (!task.claim.notes.is_empty()).then(|| task.claim.notes.join(" "));
        let view = CloudView::new(gpu, task.document.labels().len());
        let session = CloudSession {
            view,
            loader,
            frames: BTreeMap::new(),
            errors: BTreeMap::new(),
            drafts: self.draft_saver(&task.claim, &task.document, 4),
            accepted_at_ms: now,
            active_ms: 0,
            last_input_ms: now,
            notice,
            busy: false,
            finished: false,
            task,
        };
        self.screen = Screen::Cloud(Box::new(session));
    }

    /// The 3D task screen; returns true to go back home.
    pub(super) fn cloud_ui(&mut self, ui: &mut egui::Ui, s: &mut CloudSession) -> bool {
        let now = self.config.clock.now_ms();
        if ui.input(|i| !i.events.is_empty() || i.pointer.is_moving()) {
            s.active_ms += (now - s.last_input_ms).clamp(0, 30_000);
            s.last_input_ms = now;
        }
        s.pump_frames(ui.ctx());
        let frame_status = match s.errors.get(&s.view.frame) {
            Some(e) => format!("This frame could not be loaded: {e}"),
            None => "Loading the point cloud…".to_owned(),
        };
        let ready: Vec<bool> = (0..s.task.frames.len())
            .map(|f| s.frames.contains_key(&f) || s.errors.contains_key(&f))
            .collect();
        let chrome = CloudChrome {
            header: s.task.claim.header(
                now,
                self.sync_badge().unwrap_or_default(),
                s.notice.as_deref(),
                s.busy,
            ),
            frame_status: &frame_status,
            ready: &ready,
        };
        let frame = s.frames.get(&s.view.frame);
        let actions = cloud_task_ui(ui, &mut s.view, &mut s.task.document, frame, &chrome);
        if !s.finished && !s.view.dragging {
            s.autosave();
        }
        let mut leave = false;
        for action in actions {
            match action {
                TaskAction::Submit => leave |= self.submit_cloud(s),
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
                TaskAction::DismissNotice => s.notice = None,
                TaskAction::AdjustImage { .. } => {}
            }
        }
        ui.ctx().request_repaint_after(std::time::Duration::from_secs(1));
        leave
    }

    /// Submits through the outbox. Returns true when the screen should close.
    fn submit_cloud(&mut self, s: &mut CloudSession) -> bool {
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
