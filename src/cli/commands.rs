//! What each subcommand does: thin wrappers over the library that print text or `--json`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use crate::formats::label_config::LabelCategoryConfig;
use crate::formats::manifest::InputManifest;
use crate::formats::output::OutputManifest;
use crate::formats::point_cloud::stats::CloudStats;
use crate::formats::point_cloud::{LoadOptions, PointCloud};
use crate::formats::sequence::{PointCloudSequence, VideoSequence};
use crate::job::{Finding, JobSpec};
use crate::store::catalog::Workspace;
use crate::store::clock::SystemClock;
use crate::store::data_setup::{DataKind, DataSetupRequest, setup_data};
use crate::store::jobs::{Jobs, JobsError};
use crate::store::video_frames::extract_video_frames;
use crate::store::{ObjectPath, demo};

use super::{CliError, CliResult, ColorByArg, DataType, GlobalArgs, ManifestKind, ViewArg};

/// The folder of the demo workspace in the user's data folder.
pub fn default_workspace_dir() -> PathBuf {
    dirs::data_dir().unwrap_or_else(std::env::temp_dir).join("groundwork").join("demo-workspace")
}

/// Who is acting: `$GROUNDWORK_WORKER`, else `$USER`, else `worker`.
pub fn current_user() -> String {
    std::env::var("GROUNDWORK_WORKER")
        .or_else(|_| std::env::var("USER"))
        .ok()
        .filter(|u| crate::store::layout::validate_segment("worker id", u).is_ok())
        .unwrap_or_else(|| "worker".to_owned())
}

/// Opens the workspace the global options name; with none, the demo workspace (created on first
/// use).
pub async fn open_jobs(global: &GlobalArgs) -> Result<Jobs, CliError> {
    let workspace = match global.workspace.as_deref() {
        Some(uri) if uri.starts_with("s3://") => super::s3_workspace(global, uri).await?,
        Some(dir) => Workspace::open_local(dir)?,
        None => {
            let dir = default_workspace_dir();
            let fresh = !dir.join(".groundwork").exists();
            let ws = Workspace::open_local(&dir)?;
            if fresh {
                let jobs = Jobs::new(ws.clone(), Arc::new(SystemClock));
                demo::install(&jobs, &current_user()).await?;
                eprintln!("created the demo workspace in {}", dir.display());
            }
            ws
        }
    };
    Ok(Jobs::new(workspace, Arc::new(SystemClock)))
}

fn read_text(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::invalid(format!("{}: {e}", path.display())))
}

fn print_json(value: &impl serde::Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::invalid(e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn parse_spec(path: &Path) -> Result<JobSpec, CliError> {
    JobSpec::from_json(&read_text(path)?)
        .map_err(|e| CliError::invalid(format!("{}: {e}", path.display())))
}

fn print_findings(findings: &[Finding]) {
    for f in findings {
        println!("{f}");
    }
}

/// `job validate`.
pub async fn job_validate(global: &GlobalArgs, spec_path: &Path) -> CliResult {
    let spec = parse_spec(spec_path)?;
    let findings = open_jobs(global).await?.validate(&spec).await;
    let valid = !findings.iter().any(Finding::is_error);
    if global.json {
        print_json(&json!({ "valid": valid, "issues": findings }))?;
    } else {
        print_findings(&findings);
        let errors = findings.iter().filter(|f| f.is_error()).count();
        println!(
            "{}: {} ({errors} error(s), {} warning(s))",
            spec_path.display(),
            if valid { "valid" } else { "invalid" },
            findings.len() - errors
        );
    }
    if valid {
        Ok(())
    } else {
        Err(CliError { code: 1, message: "the job specification is invalid".into() })
    }
}

/// `job create`.
pub async fn job_create(global: &GlobalArgs, spec_path: &Path) -> CliResult {
    let spec = parse_spec(spec_path)?;
    let jobs = open_jobs(global).await?;
    match jobs.create(&spec, &current_user()).await {
        Ok(created) => {
            if global.json {
                let describe = jobs.describe(&spec.labeling_job_name).await.map_err(jobs_error)?;
                print_json(&json!({
                    "LabelingJobArn": describe.describe.labeling_job_arn,
                    "ObjectCount": created.object_count,
                    "Warnings": created.warnings,
                }))
            } else {
                print_findings(&created.warnings);
                println!(
                    "created job {} with {} data object(s)",
                    spec.labeling_job_name, created.object_count
                );
                Ok(())
            }
        }
        Err(JobsError::Invalid(findings)) => {
            if global.json {
                print_json(&json!({ "valid": false, "issues": findings }))?;
            } else {
                print_findings(&findings);
            }
            Err(CliError::invalid(format!(
                "{}: the job specification is invalid",
                spec_path.display()
            )))
        }
        Err(e) => Err(jobs_error(e)),
    }
}

fn jobs_error(e: JobsError) -> CliError {
    CliError::invalid(e.to_string())
}

/// `job list`.
pub async fn job_list(global: &GlobalArgs) -> CliResult {
    let summaries = open_jobs(global).await?.list().await.map_err(jobs_error)?;
    if global.json {
        return print_json(&json!({ "LabelingJobSummaryList": summaries }));
    }
    println!("{:<28} {:<12} {:>8} {:>8} {:>8}", "NAME", "STATUS", "LABELED", "FAILED", "LEFT");
    for s in summaries {
        let c = s.label_counters;
        println!(
            "{:<28} {:<12} {:>8} {:>8} {:>8}",
            s.labeling_job_name,
            s.labeling_job_status.as_str(),
            c.total_labeled,
            c.failed_non_retryable_error,
            c.unlabeled
        );
    }
    Ok(())
}

/// `job describe`.
pub async fn job_describe(global: &GlobalArgs, name: &str) -> CliResult {
    let jobs = open_jobs(global).await?;
    let d = jobs.describe(name).await.map_err(jobs_error)?;
    if global.json {
        return print_json(&d.describe);
    }
    let c = d.describe.label_counters;
    println!("name:        {}", d.describe.labeling_job_name);
    println!("status:      {}", d.describe.labeling_job_status.as_str());
    println!("objects:     {}", d.snapshot.objects.len().max(c.total_objects() as usize));
    println!(
        "labeled:     {} (human {}), failed {}, unlabeled {}",
        c.total_labeled, c.human_labeled, c.failed_non_retryable_error, c.unlabeled
    );
    println!("active:      {} claim(s)", d.snapshot.active_claims);
    if let Some(reason) = &d.describe.failure_reason {
        println!("failure:     {reason}");
    }
    if let Some(out) = &d.describe.labeling_job_output {
        println!("output:      {}", out.output_dataset_s3_uri);
    }
    Ok(())
}

/// `job stop`.
pub async fn job_stop(global: &GlobalArgs, name: &str) -> CliResult {
    let first = open_jobs(global).await?.stop(name, &current_user()).await.map_err(jobs_error)?;
    if global.json {
        print_json(
            &json!({ "LabelingJobName": name, "StopRequested": true, "AlreadyStopping": !first }),
        )
    } else {
        println!("{}", if first { "stop requested" } else { "the job was already asked to stop" });
        Ok(())
    }
}

/// Reads a local file, or `s3://…` from the workspace.
async fn read_any(global: &GlobalArgs, file: &str) -> Result<String, CliError> {
    if file.starts_with("s3://") {
        let path = ObjectPath::parse(file)?;
        let jobs = open_jobs(global).await?;
        let got = jobs.workspace().store.get(&path, None).await?;
        String::from_utf8(got.bytes)
            .map_err(|_| CliError::invalid(format!("{file}: not UTF-8 text")))
    } else {
        read_text(Path::new(file))
    }
}

/// `manifest validate`.
pub async fn manifest_validate(global: &GlobalArgs, file: &str, kind: ManifestKind) -> CliResult {
    let text = read_any(global, file).await?;
    let summary = match kind {
        ManifestKind::Input => {
            let lines = InputManifest::parse(&text, file)?;
            format!("{} data object(s)", lines.len())
        }
        ManifestKind::Output => {
            let lines = OutputManifest::parse(&text, file)?;
            format!("{} labeled line(s)", lines.len())
        }
        ManifestKind::Sequence => {
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| CliError::invalid(format!("{file}:{}: {e}", e.line())))?;
            let is_point_cloud = value
                .get("frames")
                .and_then(|f| f.get(0))
                .is_some_and(|f| f.get("format").is_some() || f.get("ego-vehicle-pose").is_some());
            if is_point_cloud {
                let seq = PointCloudSequence::parse(&text, file)?;
                format!("point-cloud sequence with {} frame(s)", seq.frames.len())
            } else {
                let seq = VideoSequence::parse(&text, file)?;
                format!("video-frame sequence with {} frame(s)", seq.frames.len())
            }
        }
        ManifestKind::LabelConfig => {
            let config = LabelCategoryConfig::parse(&text, file)?;
            format!("{} label(s)", config.labels.len())
        }
    };
    if global.json {
        print_json(&json!({ "valid": true, "file": file, "summary": summary }))
    } else {
        println!("{file}: valid ({summary})");
        Ok(())
    }
}

/// `manifest generate`.
pub async fn manifest_generate(
    global: &GlobalArgs,
    prefix: &str,
    data_type: DataType,
    output: &str,
    every: u32,
) -> CliResult {
    let jobs = open_jobs(global).await?;
    let input_prefix = ObjectPath::parse(prefix)?;
    let store = jobs.workspace().store.as_ref();
    let mut extracted = Vec::new();
    let mut video_skips = Vec::new();
    if data_type == DataType::VideoFiles {
        let ffmpeg = std::env::var_os("GROUNDWORK_FFMPEG").unwrap_or_else(|| "ffmpeg".into());
        let report =
            extract_video_frames(store, &input_prefix, every, std::path::Path::new(&ffmpeg))
                .await
                .map_err(|e| CliError::invalid(e.to_string()))?;
        for video in &report.videos {
            if !global.json {
                println!(
                    "split {} into {} frame(s) in {}",
                    video.video, video.frames, video.folder
                );
            }
        }
        extracted = report.videos;
        video_skips = report.skipped;
    }
    let request = DataSetupRequest {
        input_prefix,
        kind: match data_type {
            DataType::Image => DataKind::Images,
            DataType::Text => DataKind::Text,
            DataType::VideoFrames | DataType::VideoFiles => DataKind::VideoFrames,
        },
        now_ms: jobs.clock().now_ms(),
        manifest: Some(ObjectPath::parse(output)?),
    };
    let mut report = setup_data(store, &request).await?;
    // The video files themselves sit beside their frame folders: not a finding.
    report.skipped.retain(|s| {
        !extracted.iter().any(|v| v.video == s.path)
            && !video_skips.iter().any(|v| v.path == s.path)
    });
    report.skipped.extend(video_skips);
    if global.json {
        return print_json(&json!({
            "manifest": report.manifest.as_ref().map(ObjectPath::uri),
            "dataObjects": report.data_objects,
            "sequenceFiles": report.sequence_files.iter().map(ObjectPath::uri).collect::<Vec<_>>(),
            "videos": extracted.iter().map(|v| json!({
                "video": v.video.uri(), "folder": v.folder.uri(), "frames": v.frames
            })).collect::<Vec<_>>(),
            "skipped": report.skipped.iter().map(|s| json!({
                "object": s.path.uri(), "line": s.line, "reason": s.reason.to_string()
            })).collect::<Vec<_>>(),
        }));
    }
    for s in &report.skipped {
        match s.line {
            Some(line) => println!("skipped {}:{line}: {}", s.path, s.reason),
            None => println!("skipped {}: {}", s.path, s.reason),
        }
    }
    match &report.manifest {
        Some(m) => println!("wrote {m} with {} data object(s)", report.data_objects),
        None => return Err(CliError::invalid(format!("{prefix}: no data object found"))),
    }
    Ok(())
}

/// `demo init`.
pub async fn demo_init(dir: &Path) -> CliResult {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::invalid(format!("{}: {e}", dir.display())))?;
    let jobs = Jobs::new(Workspace::open_local(dir)?, Arc::new(SystemClock));
    let report = demo::install(&jobs, &current_user()).await.map_err(jobs_error)?;
    println!(
        "demo workspace in {}: {} file(s), {} job(s) created{}",
        dir.display(),
        report.files,
        report.jobs_created.len(),
        if report.jobs_existing.is_empty() {
            String::new()
        } else {
            format!(", {} already there", report.jobs_existing.len())
        }
    );
    Ok(())
}

/// `info`.
pub fn info(global: &GlobalArgs, file: &Path) -> CliResult {
    let loaded = PointCloud::load_with(file, &LoadOptions::all())?;
    let stats = CloudStats::compute(&loaded.cloud, Some(&loaded.report));
    if global.json {
        return print_json(&stats);
    }
    println!("file:        {}", file.display());
    println!("format:      {}", stats.format.as_deref().unwrap_or("unknown"));
    match stats.declared_points {
        Some(declared) if declared != stats.points => {
            println!("points:      {} (header declares {declared})", stats.points)
        }
        _ => println!("points:      {}", stats.points),
    }
    if stats.dropped_non_finite > 0 {
        println!("dropped:     {} non-finite point(s)", stats.dropped_non_finite);
    }
    if let Some(b) = &stats.bounds {
        println!("bounds min:  {:.3} {:.3} {:.3}", b.min[0], b.min[1], b.min[2]);
        println!("bounds max:  {:.3} {:.3} {:.3}", b.max[0], b.max[1], b.max[2]);
    }
    println!("attributes:  {}", stats.attributes.join(", "));
    if let Some([lo, hi]) = stats.intensity_range {
        println!("intensity:   {lo}..{hi}");
    }
    if !stats.classification_histogram.is_empty() {
        println!("classes:");
        for (class, count) in &stats.classification_histogram {
            println!("  {class:>3}: {count}");
        }
    }
    for note in &stats.notes {
        println!("note:        {note}");
    }
    Ok(())
}

/// `render`: a point cloud or an image to PNG, headless.
pub fn render(
    file: &Path,
    output: &Path,
    size_px: [u32; 2],
    color_by: ColorByArg,
    view: ViewArg,
    point_size: f32,
) -> CliResult {
    use crate::geometry::StandardView;
    use crate::render::RenderContext;
    use crate::render::headless::{self, PointRenderOptions};
    use crate::render::points::ColorBy;

    let is_image = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"));
    let ctx = RenderContext::new_headless()
        .map_err(|e| CliError::invalid(format!("no GPU adapter for rendering: {e}")))?;
    let picture = if is_image {
        let image = image::open(file)
            .map_err(|e| CliError::invalid(format!("{}: {e}", file.display())))?
            .to_rgba8();
        headless::render_image_png(&ctx, &image, size_px, None, headless::DEFAULT_BACKGROUND)?
    } else {
        let loaded = PointCloud::load_with(file, &LoadOptions::all())?;
        let mut options = PointRenderOptions {
            size_px,
            view: match view {
                ViewArg::Top => StandardView::Top,
                ViewArg::Side => StandardView::Side,
                ViewArg::Front => StandardView::Front,
                ViewArg::Orbit => StandardView::Orbit,
            },
            ..PointRenderOptions::default()
        };
        options.style.color_by = match color_by {
            ColorByArg::Intensity => ColorBy::Intensity,
            ColorByArg::Height => ColorBy::Height,
            ColorByArg::Rgb => ColorBy::Rgb,
            ColorByArg::Classification => ColorBy::Classification,
        };
        options.style.point_size_px = point_size.clamp(1.0, 64.0);
        headless::render_point_cloud(&ctx, &loaded.cloud, &options)?
    };
    picture.save(output).map_err(|e| CliError::invalid(format!("{}: {e}", output.display())))?;
    println!("wrote {} ({}x{})", output.display(), size_px[0], size_px[1]);
    Ok(())
}
