//! Automated frame extraction (spec §2.3): every video file directly under an input prefix is
//! split into frame images with the `ffmpeg` command-line tool, one folder per video named after
//! it (`clip.mp4` → `clip/frame-0001.jpg`, …), ready for [`super::data_setup`]'s video-frames
//! setup to write the sequence files and the manifest.
//!
//! Which frames: all of them, or with `every_nth = x` the first frame and every x-th after it,
//! as Ground Truth's console does (a 60-frame video with x = 10 gives frames 1, 10, 20, …, 60);
//! at most [`MAX_FRAMES_PER_SEQUENCE`] per video (the first ones). Frames are JPEG files named
//! with four-digit numbers, so byte order and frame order agree.
//!
//! A video ffmpeg cannot decode is skipped with ffmpeg's message (a finding, like every skip of
//! data setup); a missing ffmpeg is an error that says so. Videos are copied to a private
//! temporary folder for ffmpeg and the folder is removed afterwards.
//! Must not depend on `render`, `ui`, `app` or `cli`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::data_setup::{MAX_FRAMES_PER_SEQUENCE, SkipReason, Skipped};
use super::util::list_all;
use super::{ObjectPath, ObjectStore, PutMode, PutOptions, StoreError};

/// Video file extensions split into frames (lower case).
pub const VIDEO_FILE_EXTENSIONS: [&str; 6] = ["mp4", "mov", "m4v", "webm", "ogg", "mkv"];

/// What went wrong, beyond single videos (those are skips).
#[derive(Debug, thiserror::Error)]
pub enum VideoFramesError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// ffmpeg could not be started.
    #[error(
        "splitting videos into frames needs the `ffmpeg` command ({program}): {message}; install \
         ffmpeg (e.g. `apt-get install ffmpeg`) or extract the frames yourself"
    )]
    FfmpegMissing {
        /// The program tried.
        program: String,
        /// Why it did not start.
        message: String,
    },
    /// The local temporary folder could not be used.
    #[error("temporary folder {path}: {message}")]
    TempDir {
        /// The folder.
        path: String,
        /// What failed.
        message: String,
    },
}

/// One video split into frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedVideo {
    /// The video file.
    pub video: ObjectPath,
    /// The folder its frames were written to (`<prefix><stem>/`).
    pub folder: ObjectPath,
    /// How many frames were written.
    pub frames: usize,
}

/// What [`extract_video_frames`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtractReport {
    /// The videos split, in key order.
    pub videos: Vec<ExtractedVideo>,
    /// Videos that were not split, and why.
    pub skipped: Vec<Skipped>,
}

/// Splits every video file directly under `prefix` into a folder of frames beside it, with the
/// `ffmpeg` program `ffmpeg` (usually just `ffmpeg`, found on `PATH`). `every_nth` 0 or 1 keeps
/// every frame.
///
/// # Errors
/// [`VideoFramesError::FfmpegMissing`] when ffmpeg does not start, store errors, and a temporary
/// folder that cannot be created.
pub async fn extract_video_frames(
    store: &dyn ObjectStore,
    prefix: &ObjectPath,
    every_nth: u32,
    ffmpeg: &Path,
) -> Result<ExtractReport, VideoFramesError> {
    check_ffmpeg(ffmpeg).await?;
    let prefix = if prefix.key().is_empty() || prefix.key().ends_with('/') {
        prefix.clone()
    } else {
        ObjectPath::new(prefix.bucket(), format!("{}/", prefix.key()))?
    };
    let mut report = ExtractReport::default();
    for object in list_all(store, &prefix).await? {
        let Some(name) = object.path.key().strip_prefix(prefix.key()) else { continue };
        if name.contains('/') {
            continue; // inside a folder: frames, or another sequence's files
        }
        let Some((stem, extension)) = name.rsplit_once('.') else { continue };
        if stem.is_empty()
            || !VIDEO_FILE_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str())
        {
            continue;
        }
        let temp = TempDir::new()?;
        let input = temp.path.join(format!("input.{extension}"));
        let bytes = store.get(&object.path, None).await?.bytes;
        std::fs::write(&input, bytes).map_err(|e| temp.error(&e))?;
        let out_dir = temp.path.join("frames");
        std::fs::create_dir(&out_dir).map_err(|e| temp.error(&e))?;
        let program = ffmpeg.to_path_buf();
        let run_out = out_dir.clone();
        let local_name = input.display().to_string();
        let ran =
            tokio::task::spawn_blocking(move || run_ffmpeg(&program, &input, &run_out, every_nth))
                .await
                .unwrap_or_else(|e| Err(format!("the ffmpeg task failed: {e}")));
        let frames = match ran.and_then(|()| frame_files(&out_dir)) {
            Ok(frames) if !frames.is_empty() => frames,
            Ok(_) => {
                report.skipped.push(skip(&object.path, "ffmpeg wrote no frame".into()));
                continue;
            }
            Err(message) => {
                // ffmpeg names the private copy; the user knows the video by its URI.
                let message = message.replace(&local_name, &object.path.uri());
                report.skipped.push(skip(&object.path, message));
                continue;
            }
        };
        let folder = prefix.join(&format!("{stem}/"))?;
        for frame in &frames {
            let Some(file_name) = frame.file_name().and_then(|n| n.to_str()) else { continue };
            let bytes = std::fs::read(frame).map_err(|e| temp.error(&e))?;
            let options = PutOptions {
                mode: PutMode::Overwrite,
                content_type: Some("image/jpeg".into()),
                kms_key_id: None,
            };
            store.put(&folder.join(file_name)?, bytes, options).await?;
        }
        report.videos.push(ExtractedVideo {
            video: object.path.clone(),
            folder,
            frames: frames.len(),
        });
    }
    Ok(report)
}

fn skip(video: &ObjectPath, message: String) -> Skipped {
    Skipped { path: video.clone(), line: None, reason: SkipReason::VideoNotDecoded { message } }
}

async fn check_ffmpeg(ffmpeg: &Path) -> Result<(), VideoFramesError> {
    let program = ffmpeg.to_path_buf();
    let started = tokio::task::spawn_blocking(move || {
        Command::new(&program).arg("-version").output().map(|o| o.status.success())
    })
    .await;
    let missing = |message: String| VideoFramesError::FfmpegMissing {
        program: ffmpeg.display().to_string(),
        message,
    };
    match started {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(missing("`ffmpeg -version` failed".into())),
        Ok(Err(e)) => Err(missing(e.to_string())),
        Err(e) => Err(missing(e.to_string())),
    }
}

/// The ffmpeg select filter for `every_nth`: frame 1, then every x-th (1-based numbers).
pub fn select_filter(every_nth: u32) -> Option<String> {
    (every_nth > 1).then(|| format!("select='eq(n\\,0)+not(mod(n+1\\,{every_nth}))'"))
}

fn run_ffmpeg(program: &Path, input: &Path, out_dir: &Path, every_nth: u32) -> Result<(), String> {
    let mut command = Command::new(program);
    command.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"]).arg(input);
    if let Some(filter) = select_filter(every_nth) {
        command.args(["-vf", &filter]);
    }
    command
        .args(["-fps_mode", "vfr", "-frames:v", &MAX_FRAMES_PER_SEQUENCE.to_string(), "-q:v", "2"])
        .arg(out_dir.join("frame-%04d.jpg"));
    let output = command.output().map_err(|e| format!("ffmpeg did not run: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
    Err(format!("ffmpeg could not decode it ({}): {last}", output.status))
}

/// The frame files ffmpeg wrote, in name order.
fn frame_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    Ok(files)
}

/// A private temporary folder, removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> Result<Self, VideoFramesError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir()
            .join(format!("groundwork-frames-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| VideoFramesError::TempDir {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Ok(Self { path })
    }

    fn error(&self, e: &std::io::Error) -> VideoFramesError {
        VideoFramesError::TempDir { path: self.path.display().to_string(), message: e.to_string() }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_selects_the_first_frame_then_every_nth() {
        assert_eq!(select_filter(0), None);
        assert_eq!(select_filter(1), None);
        // n is 0-based: n = 0 (frame 1), n = 9 (frame 10), n = 19 (frame 20), …
        assert_eq!(select_filter(10).as_deref(), Some("select='eq(n\\,0)+not(mod(n+1\\,10))'"));
        let picked: Vec<u32> =
            (0..60u32).filter(|n| *n == 0 || (n + 1) % 10 == 0).map(|n| n + 1).collect();
        assert_eq!(picked, [1, 10, 20, 30, 40, 50, 60]);
    }
}
