//! Streaming a point cloud onto the GPU on a worker thread, so a view shows points while the file
//! is still decoding and the UI thread never waits on disk, decoding or the upload's reordering.
//!
//! LAS/LAZ files stream: every decoded piece ([`crate::formats::point_cloud::las::LasChunks`]) is
//! uploaded as its own [`GpuPointCloud`] and sent at once ([`StreamEvent::Piece`]). When the file
//! is done, the whole cloud is uploaded once more as one [`GpuPointCloud`], so culling, the level
//! of detail and picking work over the whole cloud ([`StreamEvent::Finished`]); the pieces can then
//! be dropped. Other formats load whole and arrive in one [`StreamEvent::Finished`].
//!
//! The worker is a named thread; events go through a bounded channel (the worker waits when the
//! receiver falls behind); dropping the [`CloudStream`] cancels the worker at its next piece.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use super::points::{GpuPointCloud, PointCloudRenderer, PointUploadOptions};
use super::with_error_scope;
use crate::formats::point_cloud::stats::Bounds;
use crate::formats::point_cloud::{
    Attributes, CloudFormat, CloudStats, LoadOptions, LoadReport, PointCloud, las,
};

/// How a stream loads and uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// Attributes to keep. The default keeps the view set plus RGB.
    pub load: LoadOptions,
    /// How the GPU copy is chunked.
    pub upload: PointUploadOptions,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            load: LoadOptions { attributes: Attributes { rgb: true, ..Attributes::VIEW } },
            upload: PointUploadOptions::default(),
        }
    }
}

/// What to stream.
#[derive(Debug, Clone)]
pub enum StreamSource {
    /// A point-cloud file in any format [`PointCloud::load_with`] reads (detected from its first
    /// bytes and extension).
    File(PathBuf),
    /// A point-cloud file in a given format (a Ground Truth frame whose metadata names its
    /// `format`).
    FileAs {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: CloudFormat,
    },
    /// A cloud already in memory (uploaded on the worker all the same).
    Cloud {
        /// What to call it.
        name: String,
        /// The points.
        cloud: PointCloud,
    },
}

/// The final state of a streamed cloud.
#[derive(Debug, Clone)]
pub struct StreamedCloud {
    /// Every point, on the CPU (for statistics and picked-point attributes).
    pub cloud: Arc<PointCloud>,
    /// What the reader found besides the points (`None` for in-memory clouds).
    pub report: Option<LoadReport>,
    /// Statistics of the whole cloud.
    pub stats: CloudStats,
    /// The whole cloud on the GPU, one [`GpuPointCloud`].
    pub gpu: Arc<GpuPointCloud>,
    /// Seconds from the start of the stream to the last decoded point.
    pub decoded_secs: f64,
    /// Seconds from the start of the stream to this event.
    pub total_secs: f64,
}

/// Decoded pieces that may wait for their upload (each at most a LAZ chunk, ~50,000 points).
const DECODED_AHEAD: usize = 4;

/// What the worker reports, in order: `Opened`?, `Piece`*, then `Finished` or `Failed`.
#[derive(Debug)]
pub enum StreamEvent {
    /// A LAS/LAZ header was read.
    Opened {
        /// The format.
        format: CloudFormat,
        /// Points the header declares.
        declared_points: u64,
        /// The header's bounds (world coordinates), when they are finite and ordered.
        header_bounds: Option<Bounds>,
    },
    /// A decoded piece, uploaded.
    Piece {
        /// The piece on the GPU (same origin as every other piece).
        gpu: Arc<GpuPointCloud>,
        /// Points decoded so far, this piece included.
        loaded_points: u64,
        /// Seconds since the stream started.
        secs: f64,
    },
    /// Everything is loaded and uploaded as one cloud.
    Finished(Box<StreamedCloud>),
    /// Loading or uploading failed; the message names the file.
    Failed(String),
}

/// A running stream. Poll it with [`CloudStream::try_recv`]; drop it to cancel.
#[derive(Debug)]
pub struct CloudStream {
    events: mpsc::Receiver<StreamEvent>,
    cancel: Arc<AtomicBool>,
}

/// Events buffered before the worker waits for the receiver.
const CHANNEL_CAPACITY: usize = 32;

impl CloudStream {
    /// Starts the worker thread. `notify` is called after every event is sent (an egui app passes
    /// `ctx.request_repaint()`).
    ///
    /// # Errors
    /// The thread could not be spawned.
    pub fn spawn(
        source: StreamSource,
        device: wgpu::Device,
        renderer: Arc<PointCloudRenderer>,
        options: StreamOptions,
        notify: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let (sender, events) = mpsc::sync_channel(CHANNEL_CAPACITY);
        let cancel = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            device,
            renderer,
            options,
            sender,
            cancel: Arc::clone(&cancel),
            notify: Box::new(notify),
            started: Instant::now(),
        };
        std::thread::Builder::new()
            .name("groundwork-cloud-stream".into())
            .spawn(move || worker.run(source))?;
        Ok(Self { events, cancel })
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<StreamEvent> {
        self.events.try_recv().ok()
    }

    /// Waits for the next event; `None` when the worker has ended and every event was taken.
    pub fn recv(&self) -> Option<StreamEvent> {
        self.events.recv().ok()
    }
}

impl Drop for CloudStream {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Why the worker stopped early.
enum Stop {
    /// Cancelled, or the receiver is gone.
    Cancelled,
    /// A user-facing error message.
    Failed(String),
}

struct Worker {
    device: wgpu::Device,
    renderer: Arc<PointCloudRenderer>,
    options: StreamOptions,
    sender: mpsc::SyncSender<StreamEvent>,
    cancel: Arc<AtomicBool>,
    notify: Box<dyn Fn() + Send>,
    started: Instant,
}

impl Worker {
    fn run(self, source: StreamSource) {
        let result = match source {
            StreamSource::File(path) => self.load_file(&path, None),
            StreamSource::FileAs { path, format } => self.load_file(&path, Some(format)),
            StreamSource::Cloud { name, cloud } => self.finish(&name, cloud, None, None),
        };
        if let Err(Stop::Failed(message)) = result {
            // The receiver may be gone; nothing else to do then.
            let _ = self.send(StreamEvent::Failed(message));
        }
    }

    fn send(&self, event: StreamEvent) -> Result<(), Stop> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Stop::Cancelled);
        }
        self.sender.send(event).map_err(|_| Stop::Cancelled)?;
        (self.notify)();
        Ok(())
    }

    fn secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn upload(&self, name: &str, cloud: &PointCloud) -> Result<Arc<GpuPointCloud>, Stop> {
        with_error_scope(&self.device, "uploading a point cloud", || {
            self.renderer.upload(&self.device, cloud, &self.options.upload)
        })
        .map(Arc::new)
        .map_err(|e| Stop::Failed(format!("{name}: {e}")))
    }

    fn load_file(&self, path: &Path, format: Option<CloudFormat>) -> Result<(), Stop> {
        let name = path.display().to_string();
        let format = match format {
            Some(format) => format,
            None => detect_format(path).map_err(Stop::Failed)?,
        };
        if !matches!(format, CloudFormat::Las | CloudFormat::Laz) {
            let bytes = std::fs::read(path).map_err(|e| Stop::Failed(format!("{name}: {e}")))?;
            let loaded = PointCloud::load_bytes(&bytes, format, &name, &self.options.load)
                .map_err(|e| Stop::Failed(e.to_string()))?;
            drop(bytes);
            return self.finish(&name, loaded.cloud, Some(loaded.report), None);
        }
        let chunks =
            las::chunks_path(path, &self.options.load).map_err(|e| Stop::Failed(e.to_string()))?;
        let header = chunks.header();
        let ordered = (0..3).all(|k| header.min[k].is_finite() && header.min[k] <= header.max[k]);
        self.send(StreamEvent::Opened {
            format,
            declared_points: header.point_count,
            header_bounds: ordered.then_some(Bounds { min: header.min, max: header.max }),
        })?;
        let report = chunks.report();
        let origin = chunks.origin();
        let total = usize::try_from(header.point_count).unwrap_or(0);
        let mut whole: Option<PointCloud> = None;
        let mut pieces = Vec::new();
        let mut loaded_points = 0u64;
        // The decoder runs ahead on its own thread (a few pieces) while this one uploads, so
        // neither waits for the other; dropping the receiver (an error, a cancel) stops it
        // after its current batch. Only the first piece goes alone: the decoder waits until it
        // is on screen, so that decoding the next batch does not delay the first points.
        let (ahead, decoded) = std::sync::mpsc::sync_channel(DECODED_AHEAD);
        let (first_shown, wait_first) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::scope(|scope| -> Result<(), Stop> {
            // Owned here, so that leaving early drops it and frees a decoder waiting on it
            // before the scope joins that thread.
            let mut first_shown = Some(first_shown);
            std::thread::Builder::new()
                .name("groundwork-decode".into())
                .spawn_scoped(scope, move || {
                    let mut wait_first = Some(wait_first);
                    for piece in chunks {
                        let shows = matches!(&piece, Ok(p) if !p.is_empty());
                        if ahead.send(piece).is_err() {
                            break;
                        }
                        // Returns at once when the uploader has gone.
                        if shows && let Some(first) = wait_first.take() {
                            let _ = first.recv();
                        }
                    }
                })
                .map_err(|e| Stop::Failed(format!("{name}: cannot start the decoder: {e}")))?;
            for piece in decoded {
                if self.cancel.load(Ordering::Relaxed) {
                    return Err(Stop::Cancelled);
                }
                let piece = piece.map_err(|e| Stop::Failed(e.to_string()))?;
                if piece.is_empty() {
                    continue;
                }
                let gpu = self.upload(&name, &piece)?;
                loaded_points += piece.len() as u64;
                pieces.push(Arc::clone(&gpu));
                self.send(StreamEvent::Piece { gpu, loaded_points, secs: self.secs() })?;
                if let Some(shown) = first_shown.take() {
                    let _ = shown.send(());
                }
                match &mut whole {
                    Some(cloud) => cloud.append(piece),
                    None => {
                        let mut cloud = piece;
                        cloud.reserve(total.saturating_sub(cloud.len()));
                        whole = Some(cloud);
                    }
                }
            }
            Ok(())
        })?;
        let cloud = whole.unwrap_or_else(|| PointCloud { origin, ..PointCloud::default() });
        // One piece is already the whole cloud on the GPU.
        let single = (pieces.len() == 1).then(|| pieces.remove(0));
        self.finish(&name, cloud, Some(report), single)
    }

    fn finish(
        &self,
        name: &str,
        cloud: PointCloud,
        report: Option<LoadReport>,
        uploaded: Option<Arc<GpuPointCloud>>,
    ) -> Result<(), Stop> {
        let decoded_secs = self.secs();
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Stop::Cancelled);
        }
        let gpu = match uploaded {
            Some(gpu) => gpu,
            None => self.upload(name, &cloud)?,
        };
        let stats = CloudStats::compute(&cloud, report.as_ref());
        self.send(StreamEvent::Finished(Box::new(StreamedCloud {
            cloud: Arc::new(cloud),
            report,
            stats,
            gpu,
            decoded_secs,
            total_secs: self.secs(),
        })))
    }
}

/// The format of the point-cloud file at `path`, from its first bytes and extension.
fn detect_format(path: &Path) -> Result<CloudFormat, String> {
    let name = path.display().to_string();
    let mut head = Vec::with_capacity(512);
    std::fs::File::open(path)
        .and_then(|file| file.take(512).read_to_end(&mut head))
        .map_err(|e| format!("{name}: {e}"))?;
    CloudFormat::detect(path, &head).ok_or_else(|| {
        format!(
            "{name}: not a point cloud this reader knows: expected LAS/LAZ, PCD, PLY, or a \
             Ground Truth raw frame (.bin, .txt, .xyz)"
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::formats::point_cloud::bench_support::write_synthetic_las;
    use crate::render::{RenderContext, TargetFormat};

    fn context() -> Option<RenderContext> {
        let ctx = RenderContext::new_headless_if_available().expect("GPU required");
        if ctx.is_none() {
            eprintln!("SKIPPED: no GPU adapter (set GROUNDWORK_REQUIRE_GPU=1 to fail instead)");
        }
        ctx
    }

    #[test]
    fn laz_streams_pieces_then_the_whole_cloud() {
        let Some(ctx) = context() else { return };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("terrain.laz");
        write_synthetic_las(&path, 120_000, 7, true).unwrap();
        let renderer =
            Arc::new(PointCloudRenderer::new(&ctx.device, &ctx.queue, TargetFormat::OFFSCREEN));
        let notified = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&notified);
        let stream = CloudStream::spawn(
            StreamSource::File(path),
            ctx.device.clone(),
            renderer,
            StreamOptions::default(),
            move || {
                counter.fetch_add(1, Ordering::Relaxed);
            },
        )
        .unwrap();
        let mut events = Vec::new();
        while let Some(event) = stream.recv() {
            events.push(event);
        }
        let Some(StreamEvent::Opened { declared_points, header_bounds, .. }) = events.first()
        else {
            panic!("first event: {:?}", events.first());
        };
        assert_eq!(*declared_points, 120_000);
        let bounds = header_bounds.expect("header bounds");
        let pieces: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Piece { loaded_points, .. } => Some(*loaded_points),
                _ => None,
            })
            .collect();
        assert!(pieces.len() >= 2, "a 120k LAZ decodes in several pieces: {pieces:?}");
        assert!(pieces.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(pieces.last(), Some(&120_000));
        let Some(StreamEvent::Finished(done)) = events.last() else {
            panic!("last event: {:?}", events.last());
        };
        assert_eq!(done.cloud.len(), 120_000);
        assert_eq!(done.gpu.len(), 120_000);
        assert_eq!(done.stats.points, 120_000);
        let (min, max) = done.gpu.bounds();
        for k in 0..3 {
            assert!(min[k] >= bounds.min[k] - 1e-3 && max[k] <= bounds.max[k] + 1e-3);
        }
        assert_eq!(notified.load(Ordering::Relaxed), events.len());
    }

    #[test]
    fn unreadable_files_fail_with_their_name() {
        let Some(ctx) = context() else { return };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.md");
        std::fs::write(&path, "hello").unwrap();
        let renderer =
            Arc::new(PointCloudRenderer::new(&ctx.device, &ctx.queue, TargetFormat::OFFSCREEN));
        let stream = CloudStream::spawn(
            StreamSource::File(path),
            ctx.device.clone(),
            renderer,
            StreamOptions::default(),
            || {},
        )
        .unwrap();
        match stream.recv() {
            Some(StreamEvent::Failed(message)) => {
                assert!(message.contains("notes.md"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
