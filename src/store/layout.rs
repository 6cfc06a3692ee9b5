//! The storage layout of a workspace (DESIGN.md §2): where the catalog keeps jobs and work teams,
//! and where a job's output lives — Ground Truth's own layout (spec §5.1) plus our coordination
//! objects under `annotation-tool/`.
//!
//! Pure key arithmetic: no I/O. Every function validates the names it is given, so a job name or
//! worker id can never escape its prefix.

use super::{ObjectPath, StoreError};

/// The iteration directory Ground Truth uses for the first (and, for us, only) labeling pass.
pub const ITERATION: &str = "iteration-1";

/// Checks that `name` is usable as one key segment: non-empty, no `/`, not `.` or `..`, at most
/// 255 bytes, printable ASCII letters, digits and `-_.@+=`.
pub fn validate_segment(what: &str, name: &str) -> Result<(), StoreError> {
    let bad = |reason: &str| {
        Err(StoreError::InvalidPath { path: name.to_owned(), reason: format!("{what}: {reason}") })
    };
    if name.is_empty() {
        return bad("must not be empty");
    }
    if name.len() > 255 {
        return bad("must have at most 255 bytes");
    }
    if name == "." || name == ".." {
        return bad("must not be '.' or '..'");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@+=".contains(c)) {
        return bad("may contain only letters, digits and -_.@+=");
    }
    Ok(())
}

/// The workspace catalog: `s3://bucket/prefix/` for an S3 workspace, `<root>/.groundwork/` for a
/// local one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    root: ObjectPath,
}

impl Catalog {
    /// A catalog rooted at `root` (a prefix; a trailing `/` is added when missing).
    pub fn new(root: ObjectPath) -> Result<Self, StoreError> {
        let root = if root.key().is_empty() || root.key().ends_with('/') {
            root
        } else {
            ObjectPath::new(root.bucket(), format!("{}/", root.key()))?
        };
        Ok(Self { root })
    }

    /// The catalog of a local workspace (`<root>/.groundwork/`).
    pub fn local() -> Self {
        Self { root: local_catalog_root() }
    }

    /// The catalog's root prefix.
    pub fn root(&self) -> &ObjectPath {
        &self.root
    }

    /// `jobs/`: one folder per job.
    pub fn jobs_prefix(&self) -> Result<ObjectPath, StoreError> {
        self.root.join("jobs/")
    }

    /// `jobs/<job>/job.json`: the CreateLabelingJob request, immutable once written.
    pub fn job_spec(&self, job: &str) -> Result<ObjectPath, StoreError> {
        validate_segment("job name", job)?;
        self.root.join(&format!("jobs/{job}/job.json"))
    }

    /// `jobs/<job>/created.json`: who created the job and when (a sidecar, so `job.json` keeps
    /// exactly the bytes its author wrote).
    pub fn job_created(&self, job: &str) -> Result<ObjectPath, StoreError> {
        validate_segment("job name", job)?;
        self.root.join(&format!("jobs/{job}/created.json"))
    }

    /// `jobs/<job>/stop`: present once the author asked to stop the job.
    pub fn job_stop(&self, job: &str) -> Result<ObjectPath, StoreError> {
        validate_segment("job name", job)?;
        self.root.join(&format!("jobs/{job}/stop"))
    }

    /// `workteams/`.
    pub fn workteams_prefix(&self) -> Result<ObjectPath, StoreError> {
        self.root.join("workteams/")
    }

    /// `workteams/<team>.json`: the members of a private work team.
    pub fn workteam(&self, team: &str) -> Result<ObjectPath, StoreError> {
        validate_segment("work team name", team)?;
        self.root.join(&format!("workteams/{team}.json"))
    }
}

fn local_catalog_root() -> ObjectPath {
    // Built directly: the reserved bucket and the empty key are valid by construction.
    ObjectPath { bucket: super::LOCAL_CATALOG_BUCKET.to_owned(), key: String::new() }
}

/// A job's output folder, `<S3OutputPath>/<job-name>/`, laid out as Ground Truth lays it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOutput {
    base: ObjectPath,
}

impl JobOutput {
    /// The output folder of `job` under `s3_output_path` (the job's `OutputConfig.S3OutputPath`).
    pub fn new(s3_output_path: &ObjectPath, job: &str) -> Result<Self, StoreError> {
        validate_segment("job name", job)?;
        Ok(Self { base: s3_output_path.join(&format!("{job}/"))? })
    }

    /// `<S3OutputPath>/<job-name>/`.
    pub fn base(&self) -> &ObjectPath {
        &self.base
    }

    /// `manifests/output/output.manifest`.
    pub fn output_manifest(&self) -> Result<ObjectPath, StoreError> {
        self.base.join("manifests/output/output.manifest")
    }

    /// `annotations/worker-response/iteration-1/`.
    pub fn worker_responses_prefix(&self) -> Result<ObjectPath, StoreError> {
        self.base.join(&format!("annotations/worker-response/{ITERATION}/"))
    }

    /// `annotations/worker-response/iteration-1/<object>/`.
    pub fn object_responses_prefix(&self, object_id: u64) -> Result<ObjectPath, StoreError> {
        self.base.join(&format!("annotations/worker-response/{ITERATION}/{object_id}/"))
    }

    /// `annotations/worker-response/iteration-1/<object>/<epoch-ms>-<worker>.json`: one worker's
    /// answer. The timestamp is fixed when the submission enters the outbox, so a replay writes the
    /// same key.
    pub fn worker_response(
        &self,
        object_id: u64,
        submitted_at_ms: i64,
        worker: &str,
    ) -> Result<ObjectPath, StoreError> {
        validate_segment("worker id", worker)?;
        self.base.join(&format!(
            "annotations/worker-response/{ITERATION}/{object_id}/{submitted_at_ms}-{worker}.json"
        ))
    }

    /// `annotations/consolidated-annotation/consolidation-response/iteration-1/`.
    pub fn consolidation_responses_prefix(&self) -> Result<ObjectPath, StoreError> {
        self.base.join(&format!(
            "annotations/consolidated-annotation/consolidation-response/{ITERATION}/"
        ))
    }

    /// `annotations/consolidated-annotation/consolidation-response/iteration-1/<object>.json`: the
    /// consolidated label of one object (written once all its slots are submitted).
    pub fn consolidation_response(&self, object_id: u64) -> Result<ObjectPath, StoreError> {
        self.base.join(&format!(
            "annotations/consolidated-annotation/consolidation-response/{ITERATION}/{object_id}.json"
        ))
    }

    /// `annotations/consolidated-annotation/consolidation-response/iteration-1/<object>.failed.json`:
    /// why an object failed (declined by all, expired, or answers that cannot be consolidated),
    /// in the consolidation-response shape with only `<LabelAttributeName>-metadata`
    /// carrying `failure-reason`. Written once, create-only; job status reads its presence.
    pub fn consolidation_failure(&self, object_id: u64) -> Result<ObjectPath, StoreError> {
        self.base.join(&format!(
            "annotations/consolidated-annotation/consolidation-response/{ITERATION}/{object_id}.failed.json"
        ))
    }

    /// `annotations/consolidated-annotation/consolidation-request/iteration-1/`.
    pub fn consolidation_requests_prefix(&self) -> Result<ObjectPath, StoreError> {
        self.base.join(&format!(
            "annotations/consolidated-annotation/consolidation-request/{ITERATION}/"
        ))
    }

    /// `annotations/consolidated-annotation/consolidation-request/iteration-1/<object>.json`: the
    /// answers an object was consolidated from, in the batch shape a post-annotation Lambda reads
    /// (spec §9.3). Written once, create-only, before the consolidation response: whoever writes
    /// it first fixes which answers count.
    pub fn consolidation_request(&self, object_id: u64) -> Result<ObjectPath, StoreError> {
        self.base.join(&format!(
            "annotations/consolidated-annotation/consolidation-request/{ITERATION}/{object_id}.json"
        ))
    }

    /// `manifests/intermediate/1/output.manifest`: a snapshot of the output manifest while the
    /// job runs (labeled objects labeled, the others unchanged).
    pub fn intermediate_manifest(&self) -> Result<ObjectPath, StoreError> {
        self.base.join("manifests/intermediate/1/output.manifest")
    }

    /// `annotations/consolidated-annotation/output/<object>/<file>`: `-ref` label files (masks,
    /// SeqLabel.json, 3D segmentation labels).
    pub fn consolidated_output(
        &self,
        object_id: u64,
        file: &str,
    ) -> Result<ObjectPath, StoreError> {
        validate_segment("label file name", file)?;
        self.base.join(&format!("annotations/consolidated-annotation/output/{object_id}/{file}"))
    }

    /// `annotation-tool/claims/`.
    pub fn claims_prefix(&self) -> Result<ObjectPath, StoreError> {
        self.base.join("annotation-tool/claims/")
    }

    /// `annotation-tool/claims/<object>/<slot>.json`: who holds slot `slot` of object `object_id`.
    pub fn claim(&self, object_id: u64, slot: u32) -> Result<ObjectPath, StoreError> {
        self.base.join(&format!("annotation-tool/claims/{object_id}/{slot}.json"))
    }

    /// `annotation-tool/drafts/<worker>/<object>.json`: autosaved work in progress.
    pub fn draft(&self, worker: &str, object_id: u64) -> Result<ObjectPath, StoreError> {
        validate_segment("worker id", worker)?;
        self.base.join(&format!("annotation-tool/drafts/{worker}/{object_id}.json"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lays_out_ground_truth_paths() {
        let out = JobOutput::new(&ObjectPath::parse("s3://bkt/out/").unwrap(), "boxes").unwrap();
        assert_eq!(
            out.output_manifest().unwrap().uri(),
            "s3://bkt/out/boxes/manifests/output/output.manifest"
        );
        assert_eq!(
            out.worker_response(7, 1700000000123, "alice").unwrap().uri(),
            "s3://bkt/out/boxes/annotations/worker-response/iteration-1/7/1700000000123-alice.json"
        );
        assert_eq!(
            out.claim(7, 2).unwrap().uri(),
            "s3://bkt/out/boxes/annotation-tool/claims/7/2.json"
        );
        let out2 = JobOutput::new(&ObjectPath::parse("s3://bkt/out").unwrap(), "boxes").unwrap();
        assert_eq!(out2.base().uri(), "s3://bkt/out/boxes/");
        assert!(out.draft("../x", 1).is_err());
        assert!(JobOutput::new(&ObjectPath::parse("s3://bkt/out").unwrap(), "a/b").is_err());
    }

    #[test]
    fn catalog_paths() {
        let c = Catalog::local();
        assert_eq!(c.job_spec("j1").unwrap().uri(), "s3://.groundwork/jobs/j1/job.json");
        let c = Catalog::new(ObjectPath::parse("s3://team-bucket/gw").unwrap()).unwrap();
        assert_eq!(c.workteam("t").unwrap().uri(), "s3://team-bucket/gw/workteams/t.json");
    }
}
