//! The workspace catalog (DESIGN.md §2): jobs and private work teams, kept as objects under the
//! catalog root of any [`ObjectStore`] — `<root>/.groundwork/` for a local workspace,
//! `s3://bucket/prefix/` for an S3 one.
//!
//! Owns: the catalog's objects and their JSON shapes:
//! - `jobs/<job>/job.json` — the `CreateLabelingJob` request, exactly the bytes its author gave
//!   (the GUI and the CLI must produce byte-identical files), written once with a create-only put;
//! - `jobs/<job>/created.json` — `{"created-at": ISO-8601 UTC, "created-at-ms": n, "created-by": s}`,
//!   a sidecar written right after `job.json` (so `job.json` stays the author's bytes);
//! - `jobs/<job>/stop` — `{"stopped-at": ..., "stopped-at-ms": ..., "stopped-by": ...}`, present once
//!   someone asked to stop the job (create-only: the first request wins and is kept);
//! - `workteams/<team>.json` — `{"name": team, "members": [sorted, unique worker ids]}`.
//!
//! Must not depend on `render`, `ui`, `app` or `cli`. Typed job specs and the full manifest parser
//! live in `job` and `formats`; this module only moves bytes and reads the few fields it needs.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::layout::{Catalog, validate_segment};
use super::local::LocalStore;
use super::utc::UtcTime;
pub use super::util::list_all;
use super::{ObjectPath, ObjectStore, PutMode, PutOptions, StoreError};

/// How often a read-modify-write of a work team retries after losing a race.
const TEAM_UPDATE_ATTEMPTS: usize = 32;

/// An error from the catalog: what the user asked about, in their words.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A job of that name exists already (also when it differs only in letter case, which
    /// Ground Truth treats as the same name).
    #[error("a job named \"{name}\" already exists")]
    JobExists {
        /// The existing job's name.
        name: String,
    },
    /// No such job.
    #[error("no job named \"{name}\"")]
    JobNotFound {
        /// The name asked for.
        name: String,
    },
    /// The job request given to create a job, or read back, is unusable.
    #[error("job \"{name}\": {reason}")]
    InvalidJob {
        /// The job.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A work team of that name exists already.
    #[error("a work team named \"{name}\" already exists")]
    TeamExists {
        /// The team.
        name: String,
    },
    /// No such work team.
    #[error("no work team named \"{name}\"")]
    TeamNotFound {
        /// The name asked for.
        name: String,
    },
    /// A work team name or worker id is not usable.
    #[error("work team \"{team}\": {reason}")]
    InvalidTeam {
        /// The team.
        team: String,
        /// What is wrong.
        reason: String,
    },
    /// A catalog object does not have the shape this module writes.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The object.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Others kept changing a work team; the update was given up.
    #[error("work team \"{team}\": changed by others {attempts} times in a row; try again")]
    Contended {
        /// The team.
        team: String,
        /// Attempts made.
        attempts: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One job in the catalog, as a listing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEntry {
    /// The job's name (`LabelingJobName`).
    pub name: String,
    /// True once someone asked to stop it.
    pub stop_requested: bool,
}

/// Who created a job and when (`jobs/<job>/created.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCreated {
    /// ISO 8601 UTC, milliseconds, e.g. `2026-11-28T09:05:03.042Z`.
    #[serde(rename = "created-at")]
    pub created_at: String,
    /// The same instant, milliseconds since the Unix epoch.
    #[serde(rename = "created-at-ms")]
    pub created_at_ms: i64,
    /// The creator (a worker id, user name or e-mail address).
    #[serde(rename = "created-by")]
    pub created_by: String,
}

/// Who asked to stop a job and when (the body of `jobs/<job>/stop`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopRequest {
    /// ISO 8601 UTC, milliseconds.
    #[serde(rename = "stopped-at")]
    pub stopped_at: String,
    /// The same instant, milliseconds since the Unix epoch.
    #[serde(rename = "stopped-at-ms")]
    pub stopped_at_ms: i64,
    /// Who asked.
    #[serde(rename = "stopped-by")]
    pub stopped_by: String,
}

/// A private work team: its name and its members' worker ids, sorted and unique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkTeam {
    /// The team's name (also its file name).
    pub name: String,
    /// Worker ids, sorted, without duplicates.
    pub members: Vec<String>,
}

impl WorkTeam {
    /// A team with `members` sorted and deduplicated; names must be usable key segments (they
    /// appear in object keys, e.g. drafts and worker responses).
    pub fn new(
        name: &str,
        members: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<Self, CatalogError> {
        let invalid = |e: StoreError| CatalogError::InvalidTeam {
            team: name.to_owned(),
            reason: match e {
                StoreError::InvalidPath { path, reason } => format!("\"{path}\": {reason}"),
                other => other.to_string(),
            },
        };
        validate_segment("work team name", name).map_err(invalid)?;
        let mut members: Vec<String> = members.into_iter().map(Into::into).collect();
        for member in &members {
            validate_segment("worker id", member).map_err(invalid)?;
        }
        members.sort_unstable();
        members.dedup();
        Ok(Self { name: name.to_owned(), members })
    }

    /// The file's bytes: pretty JSON with a final newline; equal teams give equal bytes.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// True when `worker` is a member.
    pub fn has_member(&self, worker: &str) -> bool {
        self.members.binary_search_by(|m| m.as_str().cmp(worker)).is_ok()
    }
}

/// A workspace: an object store and where its catalog lives in it.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Where everything is kept.
    pub store: Arc<dyn ObjectStore>,
    /// The catalog's location in the store.
    pub catalog: Catalog,
}

impl Workspace {
    /// A workspace over `store` with its catalog at `catalog`.
    pub fn new(store: Arc<dyn ObjectStore>, catalog: Catalog) -> Self {
        Self { store, catalog }
    }

    /// The local-folder workspace at `root` (catalog in `<root>/.groundwork/`).
    pub fn open_local(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        Ok(Self::new(Arc::new(LocalStore::new(root)?), Catalog::local()))
    }

    // --- jobs -----------------------------------------------------------------------------------

    /// Creates job `name` from the caller's `job_json` bytes (stored unchanged), recording
    /// `created_by` and `created_at_ms`. The bytes must be a JSON object; when they carry a
    /// `LabelingJobName` it must equal `name`. Fails with [`CatalogError::JobExists`] when the name
    /// is taken, also in another letter case (Ground Truth names are case-insensitive). The
    /// exact-name check is atomic (create-only put); the letter-case check is a listing before it.
    pub async fn create_job(
        &self,
        name: &str,
        job_json: Vec<u8>,
        created_by: &str,
        created_at_ms: i64,
    ) -> Result<JobCreated, CatalogError> {
        let spec_path = self.catalog.job_spec(name)?;
        check_job_json(name, &job_json)?;
        if let Some(existing) =
            self.list_jobs().await?.into_iter().find(|j| j.name.eq_ignore_ascii_case(name))
        {
            return Err(CatalogError::JobExists { name: existing.name });
        }
        let create = PutOptions::with_mode(PutMode::CreateOnly);
        match self.store.put(&spec_path, job_json, create).await {
            Ok(_) => {}
            Err(StoreError::AlreadyExists { .. }) => {
                return Err(CatalogError::JobExists { name: name.to_owned() });
            }
            Err(e) => return Err(e.into()),
        }
        let created = JobCreated {
            created_at: UtcTime::from_unix_ms(created_at_ms).iso8601(),
            created_at_ms,
            created_by: created_by.to_owned(),
        };
        // The name is ours now; a leftover sidecar of an earlier job of this name is replaced.
        self.store
            .put(&self.catalog.job_created(name)?, json_bytes(&created), PutOptions::default())
            .await?;
        Ok(created)
    }

    /// Every job in the catalog, sorted by name.
    pub async fn list_jobs(&self) -> Result<Vec<JobEntry>, CatalogError> {
        let prefix = self.catalog.jobs_prefix()?;
        let mut jobs: Vec<JobEntry> = Vec::new();
        let mut stops: Vec<String> = Vec::new();
        for object in list_all(self.store.as_ref(), &prefix).await? {
            let Some(rest) = object.path.key().strip_prefix(prefix.key()) else { continue };
            match rest.split_once('/') {
                Some((name, "job.json")) => {
                    jobs.push(JobEntry { name: name.to_owned(), stop_requested: false })
                }
                Some((name, "stop")) => stops.push(name.to_owned()),
                _ => {}
            }
        }
        stops.sort_unstable();
        for job in &mut jobs {
            job.stop_requested = stops.binary_search(&job.name).is_ok();
        }
        // Listing order puts `a-b/job.json` before `a/job.json`; callers want names in order.
        jobs.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(jobs)
    }

    /// The exact bytes of `jobs/<name>/job.json`.
    pub async fn job_spec_bytes(&self, name: &str) -> Result<Vec<u8>, CatalogError> {
        match self.store.get(&self.catalog.job_spec(name)?, None).await {
            Ok(got) => Ok(got.bytes),
            Err(StoreError::NotFound { .. }) => {
                Err(CatalogError::JobNotFound { name: name.into() })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Who created job `name` and when; `None` for a job without the sidecar (e.g. one whose
    /// creator crashed between the two writes).
    pub async fn job_created(&self, name: &str) -> Result<Option<JobCreated>, CatalogError> {
        self.ensure_job(name).await?;
        let path = self.catalog.job_created(name)?;
        match self.store.get(&path, None).await {
            Ok(got) => Ok(Some(parse_json(&path, &got.bytes)?)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Asks job `name` to stop (creates its `stop` marker). Returns `true` when this call made
    /// the request and `false` when the job was already asked to stop (the first request is kept).
    pub async fn stop_job(
        &self,
        name: &str,
        stopped_by: &str,
        stopped_at_ms: i64,
    ) -> Result<bool, CatalogError> {
        self.ensure_job(name).await?;
        let request = StopRequest {
            stopped_at: UtcTime::from_unix_ms(stopped_at_ms).iso8601(),
            stopped_at_ms,
            stopped_by: stopped_by.to_owned(),
        };
        let create = PutOptions::with_mode(PutMode::CreateOnly);
        match self.store.put(&self.catalog.job_stop(name)?, json_bytes(&request), create).await {
            Ok(_) => Ok(true),
            Err(StoreError::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The stop request of job `name`, if someone asked to stop it.
    pub async fn stop_request(&self, name: &str) -> Result<Option<StopRequest>, CatalogError> {
        let path = self.catalog.job_stop(name)?;
        match self.store.get(&path, None).await {
            Ok(got) => Ok(Some(parse_json(&path, &got.bytes)?)),
            Err(StoreError::NotFound { .. }) => {
                self.ensure_job(name).await?;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The input manifest of job `name`: `InputConfig.DataSource.S3DataSource.ManifestS3Uri`.
    pub async fn job_input_manifest(&self, name: &str) -> Result<ObjectPath, CatalogError> {
        let bytes = self.job_spec_bytes(name).await?;
        let invalid = |reason: String| CatalogError::InvalidJob { name: name.to_owned(), reason };
        let json: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| invalid(format!("job.json is not JSON: {e}")))?;
        let uri = json
            .pointer("/InputConfig/DataSource/S3DataSource/ManifestS3Uri")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| {
                invalid("job.json has no InputConfig.DataSource.S3DataSource.ManifestS3Uri".into())
            })?;
        ObjectPath::parse(uri).map_err(|e| invalid(format!("ManifestS3Uri: {e}")))
    }

    /// The number of data objects (non-blank lines) in the input manifest at `manifest`.
    pub async fn count_manifest_objects(
        &self,
        manifest: &ObjectPath,
    ) -> Result<usize, CatalogError> {
        let got = self.store.get(manifest, None).await?;
        Ok(count_manifest_lines(&got.bytes))
    }

    /// The number of data objects in job `name`'s input manifest.
    pub async fn job_object_count(&self, name: &str) -> Result<usize, CatalogError> {
        let manifest = self.job_input_manifest(name).await?;
        self.count_manifest_objects(&manifest).await
    }

    async fn ensure_job(&self, name: &str) -> Result<(), CatalogError> {
        match self.store.head(&self.catalog.job_spec(name)?).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound { .. }) => {
                Err(CatalogError::JobNotFound { name: name.into() })
            }
            Err(e) => Err(e.into()),
        }
    }

    // --- work teams -----------------------------------------------------------------------------

    /// Creates a work team; [`CatalogError::TeamExists`] when the name is taken.
    pub async fn create_workteam(&self, team: &WorkTeam) -> Result<(), CatalogError> {
        let team = WorkTeam::new(&team.name, team.members.iter().cloned())?;
        let path = self.catalog.workteam(&team.name)?;
        let create = PutOptions::with_mode(PutMode::CreateOnly);
        match self.store.put(&path, team.to_json_bytes(), create).await {
            Ok(_) => Ok(()),
            Err(StoreError::AlreadyExists { .. }) => {
                Err(CatalogError::TeamExists { name: team.name })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Creates or replaces a work team.
    pub async fn put_workteam(&self, team: &WorkTeam) -> Result<(), CatalogError> {
        let team = WorkTeam::new(&team.name, team.members.iter().cloned())?;
        let path = self.catalog.workteam(&team.name)?;
        self.store.put(&path, team.to_json_bytes(), PutOptions::default()).await?;
        Ok(())
    }

    /// Reads a work team.
    pub async fn workteam(&self, name: &str) -> Result<WorkTeam, CatalogError> {
        Ok(self.workteam_versioned(name).await?.0)
    }

    /// The names of all work teams, sorted.
    pub async fn list_workteams(&self) -> Result<Vec<String>, CatalogError> {
        let prefix = self.catalog.workteams_prefix()?;
        let mut names: Vec<String> = list_all(self.store.as_ref(), &prefix)
            .await?
            .iter()
            .filter_map(|o| o.path.key().strip_prefix(prefix.key())?.strip_suffix(".json"))
            .filter(|name| !name.contains('/'))
            .map(str::to_owned)
            .collect();
        names.sort_unstable();
        Ok(names)
    }

    /// The teams `worker` belongs to, sorted by name.
    pub async fn teams_of(&self, worker: &str) -> Result<Vec<String>, CatalogError> {
        let mut teams = Vec::new();
        for name in self.list_workteams().await? {
            match self.workteam(&name).await {
                Ok(team) if team.has_member(worker) => teams.push(name),
                Ok(_) | Err(CatalogError::TeamNotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(teams)
    }

    /// Adds `workers` to a team (read-modify-write with update-if-match, retried on races, so
    /// concurrent edits by several authors are never lost). Returns the team as written.
    pub async fn add_members(
        &self,
        name: &str,
        workers: &[&str],
    ) -> Result<WorkTeam, CatalogError> {
        self.update_team(name, |members| members.extend(workers.iter().map(|w| (*w).to_owned())))
            .await
    }

    /// Removes `workers` from a team (absent ones are ignored). Returns the team as written.
    pub async fn remove_members(
        &self,
        name: &str,
        workers: &[&str],
    ) -> Result<WorkTeam, CatalogError> {
        self.update_team(name, |members| members.retain(|m| !workers.contains(&m.as_str()))).await
    }

    /// Deletes a work team; [`CatalogError::TeamNotFound`] when there is none.
    pub async fn delete_workteam(&self, name: &str) -> Result<(), CatalogError> {
        let path = self.catalog.workteam(name)?;
        match self.store.head(&path).await {
            Ok(_) => Ok(self.store.delete(&path).await?),
            Err(StoreError::NotFound { .. }) => {
                Err(CatalogError::TeamNotFound { name: name.into() })
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn workteam_versioned(&self, name: &str) -> Result<(WorkTeam, String), CatalogError> {
        let path = self.catalog.workteam(name)?;
        let got = match self.store.get(&path, None).await {
            Ok(got) => got,
            Err(StoreError::NotFound { .. }) => {
                return Err(CatalogError::TeamNotFound { name: name.into() });
            }
            Err(e) => return Err(e.into()),
        };
        let team: WorkTeam = parse_json(&path, &got.bytes)?;
        if team.name != name {
            return Err(CatalogError::Corrupt {
                path: path.uri(),
                reason: format!("names team \"{}\" but is the file of \"{name}\"", team.name),
            });
        }
        Ok((team, got.meta.etag))
    }

    async fn update_team(
        &self,
        name: &str,
        edit: impl Fn(&mut Vec<String>),
    ) -> Result<WorkTeam, CatalogError> {
        let path = self.catalog.workteam(name)?;
        for _ in 0..TEAM_UPDATE_ATTEMPTS {
            let (team, etag) = self.workteam_versioned(name).await?;
            let mut members = team.members;
            edit(&mut members);
            let team = WorkTeam::new(name, members)?;
            let update = PutOptions::with_mode(PutMode::UpdateIfMatch(etag));
            match self.store.put(&path, team.to_json_bytes(), update).await {
                Ok(_) => return Ok(team),
                Err(StoreError::PreconditionFailed { .. }) => continue,
                Err(StoreError::NotFound { .. }) => {
                    return Err(CatalogError::TeamNotFound { name: name.into() });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CatalogError::Contended { team: name.to_owned(), attempts: TEAM_UPDATE_ATTEMPTS })
    }
}

/// The number of data objects in an input manifest's bytes: its non-blank lines (`\n` or
/// `\r\n` separated). A stand-in for the full JSON Lines parser in `formats`.
pub fn count_manifest_lines(bytes: &[u8]) -> usize {
    bytes.split(|&b| b == b'\n').filter(|line| !line.trim_ascii().is_empty()).count()
}

fn check_job_json(name: &str, bytes: &[u8]) -> Result<(), CatalogError> {
    let invalid = |reason: String| CatalogError::InvalidJob { name: name.to_owned(), reason };
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| invalid(format!("job.json is not JSON: {e}")))?;
    let object = json.as_object().ok_or_else(|| invalid("job.json is not a JSON object".into()))?;
    match object.get("LabelingJobName") {
        None => Ok(()),
        Some(serde_json::Value::String(n)) if n == name => Ok(()),
        Some(other) => Err(invalid(format!("job.json names the job {other}, not \"{name}\""))),
    }
}

fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn parse_json<T: for<'de> Deserialize<'de>>(
    path: &ObjectPath,
    bytes: &[u8],
) -> Result<T, CatalogError> {
    serde_json::from_slice(bytes)
        .map_err(|e| CatalogError::Corrupt { path: path.uri(), reason: e.to_string() })
}
