//! The wizard's store operations, as plain async functions over [`Jobs`]: automated data setup,
//! the access check, reading existing labels from an earlier output, work teams, carrying out a
//! [`CreatePlan`] (for real, or in the preview sandbox) and loading the first data object for the
//! preview. The views run them through [`super::backend::Backend`]; tests may call them directly.
//!
//! Errors come back as text a job author can act on. Must not depend on `app` or `cli`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::formats::label_config::LabelCategoryConfig;
use crate::formats::manifest::{DataSource, ManifestLine};
use crate::formats::output::{Label, LabelPair, OutputLine};
use crate::store::catalog::{WorkTeam, Workspace};
use crate::store::data_setup::{DataSetupRequest, setup_data};
use crate::store::jobs::{CreatedJob, Jobs, JobsError};
use crate::store::{ObjectPath, PutMode, PutOptions, StoreError};

use super::draft::{
    AccessReport, AutoKind, AutoSetup, CreatePlan, ExistingAttribute, ExistingLabels, Sample,
};
use super::sandbox::OverlayStore;

/// Lines shown as the sample of a manifest.
pub const SAMPLE_LINES: usize = 3;
/// The most manifest lines read when looking for existing labels.
pub const MAX_EXISTING_LINES: usize = 100_000;
/// The longest side of the preview image, in pixels.
pub const PREVIEW_MAX_SIDE_PX: u32 = 1024;

fn non_blank_lines(bytes: &[u8]) -> impl Iterator<Item = &str> {
    bytes
        .split(|&b| b == b'\n')
        .filter_map(|line| std::str::from_utf8(line).ok())
        .map(str::trim)
        .filter(|line| !line.is_empty())
}

/// Scans `prefix` for `kind` data and writes its input manifest (the console's automated data
/// setup). Fails when nothing qualifies, saying why the objects were skipped.
pub async fn scan_prefix(jobs: Jobs, prefix: String, kind: AutoKind) -> Result<AutoSetup, String> {
    let input_prefix = ObjectPath::parse(prefix.trim()).map_err(|e| e.to_string())?;
    let store = jobs.workspace().store.clone();
    let mut now_ms = jobs.clock().now_ms();
    // The manifest is named by the second; a second scan within it moves on a second.
    let report = loop {
        let request = DataSetupRequest {
            input_prefix: input_prefix.clone(),
            kind: kind.data_kind(),
            now_ms,
            manifest: None,
        };
        match setup_data(store.as_ref(), &request).await {
            Err(StoreError::AlreadyExists { .. }) if now_ms - jobs.clock().now_ms() < 10_000 => {
                now_ms += 1000;
            }
            Err(e) => return Err(e.to_string()),
            Ok(report) => break report,
        }
    };
    let skipped: Vec<String> = report
        .skipped
        .iter()
        .map(|s| match s.line {
            Some(line) => format!("{} line {line}: {}", s.path, s.reason),
            None => format!("{}: {}", s.path, s.reason),
        })
        .collect();
    let Some(manifest) = report.manifest else {
        let why = if skipped.is_empty() {
            "the prefix holds no objects".to_owned()
        } else {
            format!("{} object(s) skipped, e.g. {}", skipped.len(), skipped[0])
        };
        return Err(format!("No {} found under {prefix}: {why}.", kind.label().to_lowercase()));
    };
    let bytes = store.get(&manifest, None).await.map_err(|e| e.to_string())?.bytes;
    let sample = non_blank_lines(&bytes).take(SAMPLE_LINES).map(str::to_owned).collect();
    Ok(AutoSetup {
        prefix: prefix.trim().to_owned(),
        kind,
        manifest: manifest.uri(),
        objects: report.data_objects,
        sample,
        skipped,
    })
}

/// Reads the manifest for real and writes, then deletes, a create-only probe object under the
/// job's output folder: proof, before create, that the session's credentials can do both.
pub async fn check_access(jobs: Jobs, manifest: String, output: String) -> AccessReport {
    let store = jobs.workspace().store.clone();
    let read = async {
        let path = ObjectPath::parse(&manifest).map_err(|e| e.to_string())?;
        let got = store.get(&path, None).await.map_err(|e| e.to_string())?;
        let objects = non_blank_lines(&got.bytes).count();
        if objects == 0 {
            return Err("the manifest has no data objects".to_owned());
        }
        Ok((got.meta.size, objects))
    }
    .await;
    let write = async {
        let base = ObjectPath::parse(&output).map_err(|e| e.to_string())?;
        let probe = base
            .join(&format!(
                "annotation-tool/access-probe-{}-{:016x}",
                jobs.clock().now_ms(),
                fastrand::u64(..)
            ))
            .map_err(|e| e.to_string())?;
        let options = PutOptions {
            mode: PutMode::CreateOnly,
            content_type: Some("text/plain".into()),
            kms_key_id: None,
        };
        store
            .put(&probe, b"groundwork access check\n".to_vec(), options)
            .await
            .map_err(|e| e.to_string())?;
        store
            .delete(&probe)
            .await
            .map_err(|e| format!("wrote {probe} but could not delete it: {e}"))?;
        Ok(probe.uri())
    }
    .await;
    AccessReport { manifest, output, read, write }
}

/// Every work team in the catalog, with members.
pub async fn list_teams(jobs: Jobs) -> Result<Vec<WorkTeam>, String> {
    let workspace = jobs.workspace();
    let mut teams = Vec::new();
    for name in workspace.list_workteams().await.map_err(|e| e.to_string())? {
        teams.push(workspace.workteam(&name).await.map_err(|e| e.to_string())?);
    }
    Ok(teams)
}

/// Creates a private work team.
pub async fn create_team(
    jobs: Jobs,
    name: String,
    members: Vec<String>,
) -> Result<WorkTeam, String> {
    let team = WorkTeam::new(name.trim(), members).map_err(|e| e.to_string())?;
    jobs.workspace().create_workteam(&team).await.map_err(|e| e.to_string())?;
    Ok(team)
}

/// How often each label occurs in one label pair (boxes by class, the chosen class, …).
pub fn count_labels(pair: &LabelPair, counts: &mut BTreeMap<(u64, String), u64>) {
    let metadata = &pair.metadata;
    let mut add = |index: u64| {
        let name = metadata
            .class_label(index)
            .map(str::to_owned)
            .or_else(|| metadata.class_name.clone())
            .unwrap_or_else(|| format!("class {index}"));
        *counts.entry((index, name)).or_default() += 1;
    };
    match &pair.label {
        Some(Label::BoundingBoxes(boxes)) => {
            boxes.annotations.iter().for_each(|b| add(b.class_id.value))
        }
        Some(Label::Class(index)) => add(index.value),
        Some(Label::MultiClass(indices)) => indices.iter().for_each(|i| add(i.value)),
        Some(Label::Cuboids(cuboids)) => {
            cuboids.annotations.iter().for_each(|c| add(c.class_id.value))
        }
        Some(Label::Entities(entities)) => {
            let definitions = entities.labels.as_deref().unwrap_or_default();
            for entity in &entities.entities {
                let index = definitions
                    .iter()
                    .position(|l| l.label == entity.label)
                    .map_or(u64::MAX, |i| i as u64);
                *counts.entry((index, entity.label.clone())).or_default() += 1;
            }
        }
        Some(Label::Ref(_) | Label::Custom(_)) | None => {}
    }
}

/// Sorted (label, count) pairs from [`count_labels`]' map.
pub fn class_counts(counts: BTreeMap<(u64, String), u64>) -> Vec<(String, u64)> {
    counts.into_iter().map(|((_, name), n)| (name, n)).collect()
}

/// Reads an earlier output manifest and lists the label attributes its lines carry, with the
/// labels per class, and each earlier job's label file when the catalog has that job.
pub async fn read_existing_labels(jobs: Jobs, manifest: String) -> Result<ExistingLabels, String> {
    let path = ObjectPath::parse(manifest.trim()).map_err(|e| e.to_string())?;
    let bytes = jobs.workspace().store.get(&path, None).await.map_err(|e| e.to_string())?.bytes;
    struct Found {
        output_type: Option<String>,
        job_name: Option<String>,
        objects: usize,
        counts: BTreeMap<(u64, String), u64>,
    }
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    let mut lines = 0;
    for (i, text) in non_blank_lines(&bytes).take(MAX_EXISTING_LINES).enumerate() {
        lines += 1;
        let line = OutputLine::parse_line(text, &manifest, i + 1).map_err(|e| e.to_string())?;
        for pair in line.label_pairs() {
            let entry = found.entry(pair.attribute.clone()).or_insert_with(|| Found {
                output_type: pair.metadata.task_type.as_ref().map(|t| t.as_str().to_owned()),
                job_name: pair.metadata.job_name_without_prefix().map(str::to_owned),
                objects: 0,
                counts: BTreeMap::new(),
            });
            entry.objects += 1;
            count_labels(pair, &mut entry.counts);
        }
    }
    let mut attributes = Vec::new();
    for (attribute, found) in found {
        let earlier_config = match &found.job_name {
            Some(name) => match jobs.spec(name).await {
                Ok(spec) => jobs.label_config(&spec).await.ok().flatten(),
                Err(_) => None,
            },
            None => None,
        };
        attributes.push(ExistingAttribute {
            attribute,
            output_type: found.output_type,
            job_name: found.job_name,
            objects: found.objects,
            classes: class_counts(found.counts),
            earlier_config,
        });
    }
    Ok(ExistingLabels { manifest, lines, attributes })
}

/// The lines a sample keeps, in manifest order.
pub fn sample_lines<'a>(lines: &[&'a str], how: Sample) -> Vec<&'a str> {
    match how {
        Sample::First { count } => lines.iter().take(count).copied().collect(),
        Sample::RandomPercent { percent, seed } => {
            let total = lines.len();
            let keep =
                (total * percent as usize).div_ceil(100).clamp(usize::from(total > 0), total);
            let mut order: Vec<usize> = (0..total).collect();
            fastrand::Rng::with_seed(seed).shuffle(&mut order);
            let mut chosen: Vec<usize> = order.into_iter().take(keep).collect();
            chosen.sort_unstable();
            chosen.into_iter().filter_map(|i| lines.get(i).copied()).collect()
        }
    }
}

/// Errors of [`execute_plan`], in words.
fn jobs_error(e: JobsError) -> String {
    e.to_string()
}

/// Carries out `plan` on `jobs`' workspace: the sampled manifest, the label file and the worker
/// template (all under the job's output folder, with the job's KMS key), then `Jobs::create`,
/// which validates again against the store and writes the canonical `job.json`.
pub async fn execute_plan(jobs: Jobs, plan: CreatePlan) -> Result<CreatedJob, String> {
    let workspace = jobs.workspace();
    let name = &plan.spec.labeling_job_name;
    let taken = workspace.list_jobs().await.map_err(|e| e.to_string())?;
    if let Some(existing) = taken.iter().find(|j| j.name.eq_ignore_ascii_case(name)) {
        return Err(format!("A job named \"{}\" already exists.", existing.name));
    }
    let kms = plan.spec.output_config.kms_key_id.clone();
    let put = |content_type: &str| PutOptions {
        mode: PutMode::Overwrite,
        content_type: Some(content_type.to_owned()),
        kms_key_id: kms.clone(),
    };
    if let Some((source, target, how)) = &plan.sample {
        let bytes = workspace.store.get(source, None).await.map_err(|e| e.to_string())?.bytes;
        let lines: Vec<&str> = non_blank_lines(&bytes).collect();
        let kept = sample_lines(&lines, *how);
        if kept.is_empty() {
            return Err(format!("{source} has no data objects to sample."));
        }
        let mut text = kept.join("\n");
        text.push('\n');
        workspace
            .store
            .put(target, text.into_bytes(), put("application/jsonlines"))
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some((path, config)) = &plan.label_file {
        let mut text = config.to_json_pretty();
        text.push('\n');
        workspace
            .store
            .put(path, text.into_bytes(), put("application/json"))
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some((path, template)) = &plan.template {
        workspace
            .store
            .put(path, template.clone().into_bytes(), put("text/html"))
            .await
            .map_err(|e| e.to_string())?;
    }
    jobs.create(&plan.spec, &plan.created_by).await.map_err(jobs_error)
}

/// The first data object as the worker would see it.
#[derive(Debug, Clone, PartialEq)]
pub enum PreviewObject {
    /// An image, decoded and scaled to at most [`PREVIEW_MAX_SIDE_PX`].
    Image {
        /// Its address.
        uri: String,
        /// Width of `rgba`, pixels.
        width_px: u32,
        /// Height of `rgba`, pixels.
        height_px: u32,
        /// Pixels as decoded, before scaling.
        source_width_px: u32,
        /// RGBA8 pixels.
        rgba: Vec<u8>,
    },
    /// Text (`source`).
    Text(String),
    /// Something the fallback preview does not draw (a frame sequence, a point cloud).
    Other {
        /// Its address.
        uri: String,
    },
}

/// An earlier box to show on the preview image, in source-image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewBox {
    /// Its label.
    pub label: String,
    /// Its class index.
    pub class_index: u64,
    /// Left, top, width, height.
    pub rect_px: [f64; 4],
}

/// What the preview shows, and the sandbox the task view can be opened on.
#[derive(Debug, Clone)]
pub struct PreviewData {
    /// The sandbox's job operations (reads the real store, writes into memory), when the job
    /// could be created there.
    pub sandbox: Option<Jobs>,
    /// What the sandbox wrote: exactly what Create will write.
    pub would_write: Vec<String>,
    /// Why the job could not be created in the sandbox, if it could not.
    pub sandbox_error: Option<String>,
    /// Data objects in the job's input.
    pub object_count: usize,
    /// The first one.
    pub first: Option<PreviewObject>,
    /// The earlier labels on it (audits).
    pub existing_boxes: Vec<PreviewBox>,
    /// The label file as workers get it.
    pub config: Option<LabelCategoryConfig>,
}

fn decode_image(uri: &str, bytes: &[u8]) -> Result<PreviewObject, String> {
    let image = image::load_from_memory(bytes).map_err(|e| format!("{uri}: {e}"))?;
    let source_width_px = image.width();
    let image = if image.width().max(image.height()) > PREVIEW_MAX_SIDE_PX {
        image.thumbnail(PREVIEW_MAX_SIDE_PX, PREVIEW_MAX_SIDE_PX)
    } else {
        image
    };
    let rgba = image.to_rgba8();
    Ok(PreviewObject::Image {
        uri: uri.to_owned(),
        width_px: rgba.width(),
        height_px: rgba.height(),
        source_width_px,
        rgba: rgba.into_raw(),
    })
}

/// Runs `plan` in a sandbox over the real store (nothing reaches the real store), then loads
/// the first data object of the job's input, with the audited labels on it.
pub async fn preview(jobs: Jobs, plan: CreatePlan) -> PreviewData {
    let overlay = Arc::new(OverlayStore::new(jobs.workspace().store.clone()));
    let sandbox = Jobs::new(
        Workspace::new(overlay.clone(), jobs.workspace().catalog.clone()),
        jobs.clock().clone(),
    );
    let config = plan.label_file.as_ref().map(|(_, c)| c.clone());
    let audited = config.as_ref().and_then(|c| c.audit_label_attribute_name.clone());
    let manifest = plan
        .spec
        .input_config
        .data_source
        .s3_data_source
        .as_ref()
        .map(|s| s.manifest_s3_uri.clone());
    let created = execute_plan(sandbox.clone(), plan.clone()).await;
    let would_write = overlay.written().iter().map(ObjectPath::uri).collect();
    let (sandbox, sandbox_error) = match created {
        Ok(_) => (Some(sandbox), None),
        Err(e) => (None, Some(e)),
    };
    let mut data = PreviewData {
        sandbox,
        would_write,
        sandbox_error,
        object_count: 0,
        first: None,
        existing_boxes: Vec::new(),
        config,
    };
    // Read through the overlay: a sampled manifest exists only there.
    let store: Arc<dyn crate::store::ObjectStore> = overlay;
    let source = match &data.sandbox {
        Some(_) => manifest,
        None => plan.sample.as_ref().map(|(source, _, _)| source.uri()).or(manifest),
    };
    let Some(manifest) = source else { return data };
    let Ok(path) = ObjectPath::parse(&manifest) else { return data };
    let Ok(got) = store.get(&path, None).await else { return data };
    let lines: Vec<&str> = non_blank_lines(&got.bytes).collect();
    data.object_count = lines.len();
    let Some(first) = lines.first() else { return data };
    let Ok(line) = OutputLine::parse_line(first, &manifest, 1) else {
        if let Ok(line) = ManifestLine::parse_line(first, &manifest, 1) {
            data.first = Some(match line.source {
                DataSource::Source(text) => PreviewObject::Text(text),
                DataSource::SourceRef(uri) => PreviewObject::Other { uri },
            });
        }
        return data;
    };
    if let Some(pair) = audited.as_deref().and_then(|a| line.label_pair(a))
        && let Some(Label::BoundingBoxes(boxes)) = &pair.label
    {
        data.existing_boxes = boxes
            .annotations
            .iter()
            .map(|b| PreviewBox {
                label: pair.metadata.class_label(b.class_id.value).unwrap_or("?").to_owned(),
                class_index: b.class_id.value,
                rect_px: [b.left, b.top, b.width, b.height],
            })
            .collect();
    }
    data.first = Some(match &line.source {
        DataSource::Source(text) => PreviewObject::Text(text.clone()),
        DataSource::SourceRef(uri) => {
            let lower = uri.to_ascii_lowercase();
            let is_image = [".jpg", ".jpeg", ".png"].iter().any(|ext| lower.ends_with(ext));
            match ObjectPath::parse(uri) {
                Ok(object) if is_image => match store.get(&object, None).await {
                    Ok(got) => decode_image(uri, &got.bytes)
                        .unwrap_or_else(|_| PreviewObject::Other { uri: uri.clone() }),
                    Err(_) => PreviewObject::Other { uri: uri.clone() },
                },
                _ => PreviewObject::Other { uri: uri.clone() },
            }
        }
    });
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_keep_manifest_order_and_are_reproducible() {
        let lines: Vec<String> = (0..10).map(|i| format!("line {i}")).collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(
            sample_lines(&lines, Sample::First { count: 3 }),
            ["line 0", "line 1", "line 2"]
        );
        assert_eq!(sample_lines(&lines, Sample::First { count: 30 }).len(), 10);
        let a = sample_lines(&lines, Sample::RandomPercent { percent: 30, seed: 7 });
        let b = sample_lines(&lines, Sample::RandomPercent { percent: 30, seed: 7 });
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        let mut sorted = a.clone();
        sorted.sort_by_key(|l| lines.iter().position(|x| x == l));
        assert_eq!(a, sorted);
        // A tiny percentage still keeps one object.
        assert_eq!(sample_lines(&lines, Sample::RandomPercent { percent: 1, seed: 1 }).len(), 1);
        assert_eq!(sample_lines(&lines, Sample::RandomPercent { percent: 100, seed: 1 }), lines);
    }
}
