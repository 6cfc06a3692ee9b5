//! The command line, as clap derives: every subcommand and flag, documented for `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Groundwork: label images, video frames and point clouds in Ground Truth's formats, over S3 or a
/// local folder.
#[derive(Debug, Parser)]
#[command(name = "groundwork", version, about, long_about = None)]
pub struct Cli {
    /// Options every subcommand understands.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do; with none, the desktop app opens on the demo workspace.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every subcommand understands.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The workspace: a local folder (the embedded default) or `s3://bucket/prefix` for a team
    /// workspace on S3. Defaults to the demo workspace in the user's data folder.
    #[arg(
        long,
        global = true,
        env = "GROUNDWORK_WORKSPACE",
        value_name = "DIR|s3://bucket/prefix"
    )]
    pub workspace: Option<String>,
    /// Endpoint of an S3-compatible store (SeaweedFS, MinIO); path-style addressing is used.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS profile to take credentials and region from.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS region (overrides the profile's).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, inspect and stop labeling jobs.
    #[command(subcommand)]
    Job(JobCommand),
    /// Validate and generate input manifests and other Ground Truth files.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// The demo workspace.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Work as a worker without the GUI: claim, submit, release, decline tasks.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Deliver queued submissions and drafts, then run every pending consolidation.
    Sync {
        /// Only this job's consolidation (default: every job of the workspace).
        #[arg(long)]
        job: Option<String>,
    },
    /// Read a point cloud or image and print its format, count, bounds and attributes.
    Info {
        /// The file (LAS, LAZ, PCD, PLY, KITTI .bin, Ground Truth raw).
        file: PathBuf,
    },
    /// Open a window to review a point cloud (LAS, LAZ, PCD, PLY, KITTI .bin, Ground Truth raw),
    /// an image (PNG, JPEG), or a Ground Truth point-cloud sequence file or manifest (frame by
    /// frame). LAS/LAZ points appear while the file is still decoding.
    View {
        /// The file.
        file: PathBuf,
    },
    /// Draw a point cloud or an image to a PNG, with no window (same renderers as the app).
    Render {
        /// The file (a point cloud, or a PNG/JPEG image).
        file: PathBuf,
        /// The PNG to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Output size, `WIDTHxHEIGHT` in pixels.
        #[arg(long, default_value = "1280x720", value_parser = parse_size)]
        size: [u32; 2],
        /// How to colour the points.
        #[arg(long, value_enum, default_value_t = ColorByArg::Height)]
        color_by: ColorByArg,
        /// The view: `top` looks down with x to the right and y up (north up).
        #[arg(long, value_enum, default_value_t = ViewArg::Orbit)]
        view: ViewArg,
        /// Point size in pixels.
        #[arg(long, default_value_t = 1.0)]
        point_size: f32,
    },
}

/// `--color-by` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorByArg {
    /// Grey ramp over intensity.
    Intensity,
    /// Colour ramp over height (z).
    Height,
    /// The file's own colours.
    Rgb,
    /// The ASPRS classification palette.
    Classification,
}

/// `--view` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewArg {
    /// Looking down −z: +x right, +y up (north up), orthographic.
    Top,
    /// Looking along +y from the −y side: +x right, +z up, orthographic.
    Side,
    /// Looking along −x from the +x side: +y right, +z up, orthographic.
    Front,
    /// A perspective three-quarter view from the south-west, 30° above the horizon.
    Orbit,
}

/// Parses `WIDTHxHEIGHT`.
fn parse_size(s: &str) -> Result<[u32; 2], String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(|| format!("`{s}`: expected WIDTHxHEIGHT"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=16384).contains(n))
            .ok_or_else(|| format!("`{s}`: sizes are whole numbers from 1 to 16384"))
    };
    Ok([parse(w)?, parse(h)?])
}

/// `groundwork job …`
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Check a CreateLabelingJob request against every Ground Truth rule; lists all findings.
    Validate {
        /// The request, as JSON.
        spec: PathBuf,
    },
    /// Create a job in the workspace from a CreateLabelingJob request.
    Create {
        /// The request, as JSON.
        #[arg(long)]
        spec: PathBuf,
    },
    /// List the workspace's jobs (ListLabelingJobs' shape with --json).
    List,
    /// Show one job (DescribeLabelingJob's shape with --json).
    Describe {
        /// The job's name.
        name: String,
    },
    /// Ask a job to stop: no new tasks are handed out; work in progress may still be submitted.
    Stop {
        /// The job's name.
        name: String,
    },
}

/// What kind of file `manifest validate` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ManifestKind {
    /// An input manifest (JSON Lines with `source-ref` or `source`).
    Input,
    /// An output manifest (input lines plus labels and metadata).
    Output,
    /// A video-frame or point-cloud sequence file.
    Sequence,
    /// A label category configuration file.
    LabelConfig,
}

/// What `manifest generate` scans for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataType {
    /// Images (jpg, jpeg, png) into `source-ref` lines.
    Image,
    /// Text files into `source` lines.
    Text,
    /// Folders of frames into sequence files and a manifest of them.
    VideoFrames,
    /// Video files split into frame folders with ffmpeg (see --every), then sequence files and a
    /// manifest of them.
    VideoFiles,
}

/// `groundwork manifest …`
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Read a file with the reader of its kind; report every problem with file, line and field.
    Validate {
        /// The file (a local path, or s3://bucket/key in the workspace).
        file: String,
        /// Which format to read it as.
        #[arg(long, value_enum)]
        kind: ManifestKind,
    },
    /// Scan a prefix and write an input manifest (automated data setup).
    Generate {
        /// The prefix to scan, `s3://bucket/prefix/`.
        prefix: String,
        /// What to look for.
        #[arg(long, value_enum)]
        data_type: DataType,
        /// Where to write the manifest, `s3://bucket/key`.
        #[arg(short, long)]
        output: String,
        /// With `--data-type video-files`: keep the first frame and every N-th after it (1: all
        /// frames); at most 2,000 frames per video.
        #[arg(long, default_value_t = 1)]
        every: u32,
    },
}

/// `groundwork demo …`
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Write the demo workspace (images, frames, a point cloud, texts and one job of each kind)
    /// into DIR.
    Init {
        /// The folder to create the workspace in.
        dir: PathBuf,
    },
}

/// `groundwork task …`: a worker's commands, headless.
#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Claim the next task; prints the data object, its slot and its manifest line. Exit status
    /// 3 when nothing is left to claim.
    Next {
        /// The job.
        #[arg(long)]
        job: String,
        /// The worker id (default: $GROUNDWORK_WORKER, else $USER).
        #[arg(long)]
        worker: Option<String>,
    },
    /// Submit an answer for a claimed task: it is saved in the local outbox first, then
    /// delivered.
    Submit {
        /// The job.
        #[arg(long)]
        job: String,
        /// The worker id (default: $GROUNDWORK_WORKER, else $USER).
        #[arg(long)]
        worker: Option<String>,
        /// The data object (its 0-based line in the input manifest).
        #[arg(long)]
        object: u64,
        /// A JSON file holding the answer: the answerContent object, e.g.
        /// {"crowd-image-classifier": {"label": "cat"}}.
        #[arg(long)]
        answer: PathBuf,
    },
    /// Give a claimed task back; anyone may take it.
    Release {
        /// The job.
        #[arg(long)]
        job: String,
        /// The worker id (default: $GROUNDWORK_WORKER, else $USER).
        #[arg(long)]
        worker: Option<String>,
        /// The data object.
        #[arg(long)]
        object: u64,
    },
    /// Decline a claimed task; you will not get it again.
    Decline {
        /// The job.
        #[arg(long)]
        job: String,
        /// The worker id (default: $GROUNDWORK_WORKER, else $USER).
        #[arg(long)]
        worker: Option<String>,
        /// The data object.
        #[arg(long)]
        object: u64,
    },
}
