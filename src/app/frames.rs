//! The frame cache of video-frame tasks: frames are read from the store (`prefix + frame`),
//! decoded and cut into upload-ready tiles on background threads, ahead of the frame the worker
//! looks at, and kept in a cache bounded by bytes (least recently used frames outside the
//! read-ahead window go first). The UI thread never waits: it asks for a frame and gets it, or
//! learns it is still loading (and keeps showing the last one).
//!
//! Threads are named `groundwork-frames-N`; they fetch through the Tokio runtime's handle and
//! stop when the cache is dropped. Statistics (hits, misses, decode times) feed the timeline's
//! status and the `video_step` benchmark.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use egui::ColorImage;

use crate::store::{ObjectPath, ObjectStore};

use super::images;

/// How much to cache and how far to read ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCacheConfig {
    /// Most bytes of decoded pixels kept (RGBA, 4 bytes a pixel).
    pub budget_bytes: usize,
    /// Frames decoded ahead of the current one.
    pub ahead: usize,
    /// Frames kept decoded behind the current one (stepping back).
    pub behind: usize,
    /// Decoding threads.
    pub workers: usize,
}

impl Default for FrameCacheConfig {
    fn default() -> Self {
        Self { budget_bytes: 768 << 20, ahead: 24, behind: 6, workers: 2 }
    }
}

/// A decoded frame: its size and its tiles (image-pixel rectangle, pixels) ready to upload.
#[derive(Clone)]
pub struct DecodedFrame {
    /// The frame index.
    pub index: usize,
    /// Width and height in pixels.
    pub size: [usize; 2],
    /// Tiles of at most [`images::TILE_PX`] a side.
    pub tiles: Vec<(egui::Rect, Arc<ColorImage>)>,
    /// Bytes of pixels held.
    pub bytes: usize,
}

impl std::fmt::Debug for DecodedFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedFrame")
            .field("index", &self.index)
            .field("size", &self.size)
            .field("tiles", &self.tiles.len())
            .finish()
    }
}

/// What the cache says about one frame.
#[derive(Debug, Clone)]
pub enum FrameState {
    /// Decoded.
    Ready(Arc<DecodedFrame>),
    /// Being read or decoded (or queued).
    Loading,
    /// It could not be read or decoded; the message says why.
    Failed(String),
}

/// Counters since the cache was made.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FrameStats {
    /// Steps to a frame that was already decoded.
    pub hits: u64,
    /// Steps to a frame that was not decoded yet.
    pub misses: u64,
    /// Frames decoded.
    pub decoded: u64,
    /// Frames that failed.
    pub failed: u64,
    /// Frames dropped to stay in budget.
    pub evicted: u64,
    /// Total time spent reading frames from the store.
    pub fetch_ms_total: f64,
    /// Total time spent decoding.
    pub decode_ms_total: f64,
    /// The slowest decode.
    pub decode_ms_max: f64,
    /// Frames held now.
    pub cached_frames: usize,
    /// Bytes held now.
    pub cached_bytes: usize,
}

impl FrameStats {
    /// Mean decode time per frame.
    pub fn decode_ms_mean(&self) -> f64 {
        if self.decoded == 0 { 0.0 } else { self.decode_ms_total / self.decoded as f64 }
    }

    /// Mean store read time per frame.
    pub fn fetch_ms_mean(&self) -> f64 {
        let n = self.decoded + self.failed;
        if n == 0 { 0.0 } else { self.fetch_ms_total / n as f64 }
    }
}

/// Where the frames come from.
#[derive(Debug, Clone)]
pub struct FrameSource {
    /// The store.
    pub store: Arc<dyn ObjectStore>,
    /// Each frame's object, in sequence order.
    pub paths: Vec<ObjectPath>,
    /// The runtime the store's futures run on.
    pub runtime: tokio::runtime::Handle,
}

struct Entry {
    frame: Arc<DecodedFrame>,
    last_used: u64,
}

#[derive(Default)]
struct State {
    frames: HashMap<usize, Entry>,
    in_flight: BTreeSet<usize>,
    failed: HashMap<usize, String>,
    /// Frames to decode, most wanted first.
    wanted: Vec<usize>,
    current: Option<usize>,
    tick: u64,
    bytes: usize,
    /// Bytes of the largest frame seen (to size the read-ahead window to the budget).
    frame_bytes: usize,
    stats: FrameStats,
    shutdown: bool,
}

/// Called (from a decoding thread) whenever a frame becomes ready or fails.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    source: FrameSource,
    config: FrameCacheConfig,
    notify: Option<Notify>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A decoding thread never panics while holding the lock; recover the data if one did.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The read-ahead window around `current`, sized to the budget once frame sizes are known.
    fn window(&self, st: &State, current: usize) -> (usize, usize) {
        let count = self.source.paths.len();
        let fit =
            self.config.budget_bytes.checked_div(st.frame_bytes).map_or(usize::MAX, |n| n.max(2));
        let behind = self.config.behind.min(fit / 4);
        let ahead = self.config.ahead.min(fit.saturating_sub(behind + 1)).max(1);
        (current.saturating_sub(behind), (current + ahead).min(count.saturating_sub(1)))
    }

    fn plan(&self, st: &mut State) {
        let Some(current) = st.current else { return };
        let (lo, hi) = self.window(st, current);
        let mut wanted = vec![current];
        wanted.extend(current + 1..=hi);
        wanted.extend((lo..current).rev());
        st.wanted = wanted;
    }

    /// Drops frames until the cache fits its budget, least recently used first, never one inside
    /// the read-ahead window (the window is sized to the budget, so the cache overshoots only
    /// when frames differ in size, and never decodes a frame only to drop it).
    fn evict(&self, st: &mut State) {
        let current = st.current.unwrap_or(0);
        let (lo, hi) = self.window(st, current);
        while st.bytes > self.config.budget_bytes {
            let victim = st
                .frames
                .iter()
                .filter(|(i, _)| !(lo..=hi).contains(*i))
                .min_by_key(|(_, e)| e.last_used)
                .map(|(i, _)| *i);
            let Some(victim) = victim else { break };
            if let Some(e) = st.frames.remove(&victim) {
                st.bytes = st.bytes.saturating_sub(e.frame.bytes);
                st.stats.evicted += 1;
            }
        }
    }

    fn next_job(&self, st: &State) -> Option<usize> {
        st.wanted.iter().copied().find(|i| {
            !st.frames.contains_key(i) && !st.in_flight.contains(i) && !st.failed.contains_key(i)
        })
    }
}

/// Reads and decodes one frame.
fn load(source: &FrameSource, index: usize) -> (Result<DecodedFrame, String>, f64, f64) {
    let Some(path) = source.paths.get(index) else {
        return (Err(format!("frame {} is not in the sequence", index + 1)), 0.0, 0.0);
    };
    let started = Instant::now();
    let got = source.runtime.block_on(source.store.get(path, None));
    let fetch_ms = started.elapsed().as_secs_f64() * 1000.0;
    let bytes = match got {
        Ok(g) => g.bytes,
        Err(e) => return (Err(format!("{path}: {e}")), fetch_ms, 0.0),
    };
    let started = Instant::now();
    let decoded = image::load_from_memory(&bytes)
        .map_err(|e| format!("{path}: not a readable image: {e}"))
        .map(|image| {
            let image = image.into_rgba8();
            let (w, h) = image.dimensions();
            let tiles = images::tiles(&image, 0.0, 1.0)
                .into_iter()
                .map(|(rect, pixels)| (rect, Arc::new(pixels)))
                .collect();
            DecodedFrame {
                index,
                size: [w as usize, h as usize],
                tiles,
                bytes: w as usize * h as usize * 4,
            }
        });
    (decoded, fetch_ms, started.elapsed().as_secs_f64() * 1000.0)
}

fn worker(shared: Arc<Shared>) {
    loop {
        let index = {
            let mut st = shared.lock();
            loop {
                if st.shutdown {
                    return;
                }
                if let Some(i) = shared.next_job(&st) {
                    st.in_flight.insert(i);
                    break i;
                }
                st = shared.wake.wait(st).unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        let (result, fetch_ms, decode_ms) = load(&shared.source, index);
        {
            let mut st = shared.lock();
            st.in_flight.remove(&index);
            st.stats.fetch_ms_total += fetch_ms;
            match result {
                Ok(frame) => {
                    st.stats.decoded += 1;
                    st.stats.decode_ms_total += decode_ms;
                    st.stats.decode_ms_max = st.stats.decode_ms_max.max(decode_ms);
                    st.frame_bytes = st.frame_bytes.max(frame.bytes);
                    st.bytes += frame.bytes;
                    st.tick += 1;
                    let last_used = st.tick;
                    st.frames.insert(index, Entry { frame: Arc::new(frame), last_used });
                    shared.plan(&mut st);
                    shared.evict(&mut st);
                }
                Err(message) => {
                    st.stats.failed += 1;
                    st.failed.insert(index, message);
                }
            }
        }
        if let Some(notify) = &shared.notify {
            notify();
        }
    }
}

/// Decodes frames ahead in the background and keeps them within a byte budget.
pub struct FrameCache {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FrameCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameCache").field("frames", &self.shared.source.paths.len()).finish()
    }
}

impl FrameCache {
    /// A cache over `source`; `notify` is called when a frame is ready (e.g. to repaint).
    pub fn new(source: FrameSource, config: FrameCacheConfig, notify: Option<Notify>) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            source,
            config,
            notify,
        });
        for n in 0..config.workers.max(1) {
            let s = shared.clone();
            let spawned = std::thread::Builder::new().name(format!("groundwork-frames-{n}")).spawn(
                move || {
                    worker(s);
                },
            );
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "a frame decoding thread could not start");
            }
        }
        Self { shared }
    }

    /// How many frames the sequence has.
    pub fn frame_count(&self) -> usize {
        self.shared.source.paths.len()
    }

    /// The frame the worker looks at is `index`: returns it if decoded, and (when `index`
    /// changed) counts a hit or a miss and moves the read-ahead window there.
    pub fn get(&self, index: usize) -> FrameState {
        let mut st = self.shared.lock();
        let moved = st.current != Some(index);
        st.tick += 1;
        let tick = st.tick;
        let state = match st.frames.get_mut(&index) {
            Some(e) => {
                e.last_used = tick;
                FrameState::Ready(e.frame.clone())
            }
            None => match st.failed.get(&index) {
                Some(m) => FrameState::Failed(m.clone()),
                None => FrameState::Loading,
            },
        };
        if moved {
            match state {
                FrameState::Ready(_) => st.stats.hits += 1,
                _ => st.stats.misses += 1,
            }
            st.current = Some(index);
            self.shared.plan(&mut st);
            drop(st);
            self.shared.wake.notify_all();
        }
        state
    }

    /// The frame if it is decoded, without moving the window or counting.
    pub fn peek(&self, index: usize) -> Option<Arc<DecodedFrame>> {
        self.shared.lock().frames.get(&index).map(|e| e.frame.clone())
    }

    /// Which frames are decoded now (for the timeline).
    pub fn ready_mask(&self) -> Vec<bool> {
        let st = self.shared.lock();
        (0..self.frame_count()).map(|i| st.frames.contains_key(&i)).collect()
    }

    /// The counters.
    pub fn stats(&self) -> FrameStats {
        let st = self.shared.lock();
        FrameStats { cached_frames: st.frames.len(), cached_bytes: st.bytes, ..st.stats }
    }
}

impl Drop for FrameCache {
    /// Stops the decoding threads (each finishes the frame it is on, then exits).
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use super::*;
    use crate::store::PutOptions;
    use crate::store::memory::MemoryStore;

    fn png(w: u32, h: u32, shade: u8) -> Vec<u8> {
        let image = image::RgbaImage::from_pixel(w, h, image::Rgba([shade, 0, 0, 255]));
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn cache(frames: usize, config: FrameCacheConfig) -> (tokio::runtime::Runtime, FrameCache) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
        let mut paths = Vec::new();
        for i in 0..frames {
            let path = ObjectPath::parse(&format!("s3://frames/seq/f{i:03}.png")).unwrap();
            let bytes = if i == 3 { b"not an image".to_vec() } else { png(8, 4, i as u8) };
            runtime.block_on(store.put(&path, bytes, PutOptions::default())).unwrap();
            paths.push(path);
        }
        let source = FrameSource { store, paths, runtime: runtime.handle().clone() };
        (runtime, FrameCache::new(source, config, None))
    }

    fn wait_ready(c: &FrameCache, index: usize) -> FrameState {
        for _ in 0..500 {
            match c.get(index) {
                FrameState::Loading => std::thread::sleep(Duration::from_millis(5)),
                other => return other,
            }
        }
        panic!("frame {index} never loaded");
    }

    #[test]
    fn frames_decode_ahead_count_hits_and_report_failures() {
        let config = FrameCacheConfig { budget_bytes: 1 << 20, ahead: 3, behind: 1, workers: 2 };
        let (_rt, c) = cache(8, config);
        let FrameState::Ready(f) = wait_ready(&c, 0) else { panic!("frame 0 failed") };
        assert_eq!(f.size, [8, 4]);
        assert_eq!(f.tiles[0].1.pixels[0], egui::Color32::from_rgb(0, 0, 0));
        // Frames 1 and 2 are read ahead, so stepping to them hits.
        for _ in 0..500 {
            if c.peek(1).is_some() && c.peek(2).is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(matches!(c.get(1), FrameState::Ready(_)));
        assert!(matches!(c.get(2), FrameState::Ready(_)));
        let FrameState::Failed(message) = wait_ready(&c, 3) else { panic!("frame 3 is broken") };
        assert!(message.contains("f003.png"), "{message}");
        let s = c.stats();
        assert_eq!((s.hits, s.failed), (2, 1), "{s:?}");
        assert!(s.misses >= 1 && s.decoded >= 3, "{s:?}");
        assert_eq!(c.ready_mask().len(), 8);
    }

    #[test]
    fn the_budget_bounds_the_cache() {
        // Each frame is 8×4×4 = 128 bytes; the budget holds three.
        let config = FrameCacheConfig { budget_bytes: 3 * 128, ahead: 10, behind: 10, workers: 1 };
        let (_rt, c) = cache(12, config);
        for i in [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11] {
            assert!(matches!(wait_ready(&c, i), FrameState::Ready(_)), "frame {i}");
            let s = c.stats();
            assert!(s.cached_bytes <= 3 * 128, "{s:?}");
        }
        assert!(c.stats().evicted > 0);
        assert!(c.peek(11).is_some(), "the current frame stays");
    }
}
