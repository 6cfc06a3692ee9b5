//! The demo workspace: synthetic images, a frame sequence, a point cloud, texts, label files and
//! one job of each kind, written into any workspace through the store (so it works for a local
//! folder and for S3 alike). Jobs are created through [`Jobs::create`], the same path as
//! `groundwork job create`.

use super::demo_files::DEMO_FILES;
use super::jobs::{Jobs, JobsError};
use super::{ObjectPath, PutOptions, StoreError};
use crate::job::JobSpec;

/// The bucket the demo's data lives in.
pub const DEMO_BUCKET: &str = "groundwork-demo";

/// What [`install`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    /// Data files written.
    pub files: usize,
    /// Jobs created.
    pub jobs_created: Vec<String>,
    /// Jobs that already existed and were left alone.
    pub jobs_existing: Vec<String>,
}

/// Writes the demo data (overwriting earlier demo files) and creates each demo job that does not
/// exist yet.
pub async fn install(jobs: &Jobs, created_by: &str) -> Result<DemoReport, JobsError> {
    let store = &jobs.workspace().store;
    let mut report = DemoReport::default();
    for (rel, bytes) in DEMO_FILES {
        let Some(key) = rel.strip_prefix("workspace/") else { continue };
        let path = match key.split_once('/') {
            Some((bucket, key)) => ObjectPath::new(bucket, key)?,
            None => {
                return Err(StoreError::InvalidPath {
                    path: (*rel).to_owned(),
                    reason: "demo files live in a bucket folder".into(),
                }
                .into());
            }
        };
        store.put(&path, bytes.to_vec(), PutOptions::default()).await?;
        report.files += 1;
    }
    let existing: Vec<String> =
        jobs.workspace().list_jobs().await?.into_iter().map(|j| j.name).collect();
    for (rel, bytes) in DEMO_FILES {
        if !rel.starts_with("jobs/") {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        let spec = JobSpec::from_json(&text)
            .map_err(|e| JobsError::Corrupt { path: (*rel).to_owned(), message: e.to_string() })?;
        if existing.iter().any(|n| n.eq_ignore_ascii_case(&spec.labeling_job_name)) {
            report.jobs_existing.push(spec.labeling_job_name);
            continue;
        }
        jobs.create(&spec, created_by).await?;
        report.jobs_created.push(spec.labeling_job_name);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;

    /// The embedded list and `assets/demo/` agree, so no demo file is forgotten.
    #[test]
    fn embedded_files_match_the_assets_folder() {
        fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    walk(&p, base, out);
                } else {
                    out.insert(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
        let mut on_disk = BTreeSet::new();
        walk(&base.join("workspace"), &base, &mut on_disk);
        walk(&base.join("jobs"), &base, &mut on_disk);
        let embedded: BTreeSet<String> = DEMO_FILES.iter().map(|(p, _)| (*p).to_owned()).collect();
        assert_eq!(embedded, on_disk);
    }
}
