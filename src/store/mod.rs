//! Object storage: the [`ObjectStore`] trait that every backend implements (a local folder standing
//! in for S3, AWS S3 and S3-compatible stores), object addresses, and the storage layout of a
//! workspace.
//!
//! Owns: all network and disk access to shared state. Only this layer touches aws-sdk-s3.
//! Must not depend on `render`, `ui`, `app` or `cli`.

pub mod catalog;
pub mod claims;
pub mod clock;
#[doc(hidden)]
pub mod conformance;
pub mod data_setup;
pub mod demo;
pub mod demo_files;
pub mod jobs;
pub mod layout;
pub mod lifecycle;
pub mod local;
pub mod memory;
pub mod outbox;
pub mod retry;
pub mod s3;
pub mod status;
pub mod sync;
pub mod utc;
pub mod util;
pub mod video_frames;

use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;

/// A boxed, sendable future: the return type of [`ObjectStore`] methods, so the trait stays
/// object-safe (`Arc<dyn ObjectStore>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An object address: `s3://bucket/key`.
///
/// Construct with [`ObjectPath::new`] or [`ObjectPath::parse`]; both validate, so a backend never
/// sees `..`, an absolute path or an empty segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectPath {
    bucket: String,
    key: String,
}

/// The bucket name under which a local workspace keeps its catalog (`<root>/.groundwork/`).
/// No S3 bucket name can start with a dot, so it never collides with a real bucket.
pub const LOCAL_CATALOG_BUCKET: &str = ".groundwork";

impl ObjectPath {
    /// An address from a bucket and a key (the key may be empty, meaning the bucket's root,
    /// and may end in `/` when it names a prefix).
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Result<Self, StoreError> {
        let bucket = bucket.into();
        let key = key.into();
        validate_bucket(&bucket)?;
        validate_key(&key)?;
        Ok(Self { bucket, key })
    }

    /// Parses `s3://bucket/key`.
    pub fn parse(uri: &str) -> Result<Self, StoreError> {
        let rest = uri.strip_prefix("s3://").ok_or_else(|| StoreError::InvalidPath {
            path: uri.to_owned(),
            reason: "an object address starts with s3://".into(),
        })?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        Self::new(bucket, key).map_err(|e| match e {
            StoreError::InvalidPath { reason, .. } => {
                StoreError::InvalidPath { path: uri.to_owned(), reason }
            }
            other => other,
        })
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key inside the bucket (no leading `/`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// This address with `/`-separated `suffix` appended (a `/` is inserted when needed).
    pub fn join(&self, suffix: &str) -> Result<Self, StoreError> {
        let key = if self.key.is_empty() || self.key.ends_with('/') {
            format!("{}{suffix}", self.key)
        } else {
            format!("{}/{suffix}", self.key)
        };
        Self::new(self.bucket.clone(), key)
    }

    /// The `s3://bucket/key` form.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

impl std::str::FromStr for ObjectPath {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn validate_bucket(bucket: &str) -> Result<(), StoreError> {
    let bad = |reason: &str| {
        Err(StoreError::InvalidPath { path: format!("s3://{bucket}/"), reason: reason.into() })
    };
    if bucket == LOCAL_CATALOG_BUCKET {
        return Ok(());
    }
    if bucket.len() < 3 || bucket.len() > 63 {
        return bad("a bucket name has 3 to 63 characters");
    }
    if !bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return bad("a bucket name has only lowercase letters, digits, '-' and '.'");
    }
    let first_last_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_last_ok(bucket.chars().next()) || !first_last_ok(bucket.chars().last()) {
        return bad("a bucket name starts and ends with a letter or digit");
    }
    if bucket.contains("..") {
        return bad("a bucket name has no two adjacent periods");
    }
    Ok(())
}

fn validate_key(key: &str) -> Result<(), StoreError> {
    let bad =
        |reason: &str| Err(StoreError::InvalidPath { path: key.to_owned(), reason: reason.into() });
    if key.len() > 1024 {
        return bad("a key has at most 1024 bytes");
    }
    if key.starts_with('/') {
        return bad("a key is relative: it must not start with '/'");
    }
    if key.contains('\\') || key.contains('\0') {
        return bad("a key must not contain '\\' or NUL");
    }
    let trimmed = key.strip_suffix('/').unwrap_or(key);
    if trimmed.is_empty() {
        return if key.is_empty() { Ok(()) } else { bad("a key must not be '/'") };
    }
    for segment in trimmed.split('/') {
        match segment {
            "" => return bad("a key must not contain an empty segment ('//')"),
            "." | ".." => return bad("a key must not contain '.' or '..' segments"),
            _ => {}
        }
    }
    Ok(())
}

/// How a put treats an object that may already exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutMode {
    /// Replace whatever is there.
    Overwrite,
    /// Write only if no object exists (`If-None-Match: *`); else [`StoreError::AlreadyExists`].
    CreateOnly,
    /// Write only if the current object's ETag equals this one (`If-Match`); else
    /// [`StoreError::PreconditionFailed`] (or [`StoreError::NotFound`] when it is gone).
    UpdateIfMatch(String),
}

/// Options for a put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOptions {
    /// Conditional-write mode.
    pub mode: PutMode,
    /// MIME type to record, if any.
    pub content_type: Option<String>,
    /// Ask for server-side encryption with this KMS key (S3 only; a local folder ignores it).
    pub kms_key_id: Option<String>,
}

impl Default for PutOptions {
    fn default() -> Self {
        Self { mode: PutMode::Overwrite, content_type: None, kms_key_id: None }
    }
}

impl PutOptions {
    /// Options with `mode` and nothing else.
    pub fn with_mode(mode: PutMode) -> Self {
        Self { mode, ..Self::default() }
    }
}

/// What a store knows about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Where it is.
    pub path: ObjectPath,
    /// Size in bytes.
    pub size: u64,
    /// Opaque version tag, used with [`PutMode::UpdateIfMatch`].
    pub etag: String,
    /// Last modification, milliseconds since the Unix epoch.
    pub last_modified_ms: i64,
}

/// The result of a get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetResult {
    /// The object's metadata (size is the whole object's size, also for a ranged get).
    pub meta: ObjectMeta,
    /// The bytes asked for.
    pub bytes: Vec<u8>,
}

/// The result of a successful put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResult {
    /// The new object's ETag.
    pub etag: String,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListPage {
    /// Objects whose keys start with the prefix, in lexicographic key order.
    pub objects: Vec<ObjectMeta>,
    /// Pass this to the next [`ObjectStore::list`] call to continue; `None` at the end.
    pub next: Option<String>,
}

/// An error from a store. Each names the object it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The address is not valid.
    #[error("invalid object address {path}: {reason}")]
    InvalidPath {
        /// The rejected address or key.
        path: String,
        /// Why.
        reason: String,
    },
    /// No such object.
    #[error("{path}: no such object")]
    NotFound {
        /// The object.
        path: String,
    },
    /// A create-only put found an object there.
    #[error("{path}: already exists")]
    AlreadyExists {
        /// The object.
        path: String,
    },
    /// An update-if-etag put found a different version.
    #[error("{path}: changed since it was read (precondition failed)")]
    PreconditionFailed {
        /// The object.
        path: String,
    },
    /// The credentials do not allow this.
    #[error("{path}: access denied: {message}")]
    AccessDenied {
        /// The object.
        path: String,
        /// The store's words.
        message: String,
    },
    /// A failure worth retrying (throttling, timeouts, connection loss, 5xx).
    #[error("{path}: temporary failure: {message}")]
    Transient {
        /// The object.
        path: String,
        /// The store's words.
        message: String,
    },
    /// Local disk I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Anything else the backend reported.
    #[error("{path}: {message}")]
    Other {
        /// The object.
        path: String,
        /// The backend's words.
        message: String,
    },
}

impl StoreError {
    /// True for errors a retry may cure.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }
}

/// An object store: the shared state of a workforce.
///
/// Every backend passes the same conformance suite. Methods return boxed futures so the trait can
/// be used as `Arc<dyn ObjectStore>`.
pub trait ObjectStore: Send + Sync + fmt::Debug {
    /// Reads an object, or the byte `range` of it.
    fn get<'a>(
        &'a self,
        path: &'a ObjectPath,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<GetResult, StoreError>>;

    /// Reads an object's metadata.
    fn head<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<ObjectMeta, StoreError>>;

    /// Writes an object atomically: readers see the old or the new bytes, never a mix.
    fn put<'a>(
        &'a self,
        path: &'a ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> BoxFuture<'a, Result<PutResult, StoreError>>;

    /// Lists objects whose keys start with `prefix`'s key, one page at a time (at most
    /// `max_keys`, at least 1), in lexicographic key order.
    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>>;

    /// Deletes an object; deleting a missing object succeeds.
    fn delete<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<(), StoreError>>;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;

    #[test]
    fn parses_and_validates_addresses() {
        let p = ObjectPath::parse("s3://my-bucket/a/b.json").expect("valid");
        assert_eq!((p.bucket(), p.key()), ("my-bucket", "a/b.json"));
        assert_eq!(p.uri(), "s3://my-bucket/a/b.json");
        assert_eq!(p.join("c").expect("valid").key(), "a/b.json/c");
        for bad in [
            "s3://b/a",
            "http://bucket/a",
            "s3://bucket/../etc",
            "s3://bucket//a",
            "s3://bucket/a/./b",
            "s3://Bucket/a",
        ] {
            assert!(ObjectPath::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert!(ObjectPath::new("bucket", "/abs").is_err());
        assert!(ObjectPath::new(LOCAL_CATALOG_BUCKET, "jobs/x/job.json").is_ok());
    }
}
