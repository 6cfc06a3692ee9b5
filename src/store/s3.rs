//! The S3 backend of [`ObjectStore`]: AWS S3 and S3-compatible stores (SeaweedFS, MinIO) through
//! aws-sdk-s3.
//!
//! Owns: S3 client construction from the standard AWS chain (environment, profiles, SSO), request
//! building (conditional puts, ranged gets, paged listings, multipart uploads, SSE-KMS), the
//! mapping of S3 failures onto [`StoreError`], and retries (through [`RetryPolicy`]; the SDK's own
//! retries are switched off so that one testable policy decides).
//! Must not depend on anything above `store`. The futures run on the caller's tokio runtime.
//!
//! Semantics beyond the trait docs:
//! - **Conditional puts** send `If-None-Match: *` ([`PutMode::CreateOnly`]) or `If-Match: <etag>`
//!   ([`PutMode::UpdateIfMatch`]). A 412 answer to an update is checked with a HEAD: a missing
//!   object gives [`StoreError::NotFound`] (S3 itself answers 404, SeaweedFS 412).
//! - **Ambiguous retries**: when an attempt of a conditional put fails transiently (timeout, lost
//!   connection, 5xx) the write may still have happened. If a later attempt is then refused with
//!   412, the object is read back; if it holds exactly our bytes the put is reported as a success.
//!   Without this a worker could lose a claim it actually won.
//! - **Multipart**: objects of at least [`MultipartConfig::threshold_bytes`] go up in parallel
//!   parts. The conditional mode is sent on `CompleteMultipartUpload` (which supports
//!   `If-None-Match` / `If-Match`), so it holds for large objects too; a HEAD before the upload
//!   fails early without sending the parts when the condition is already false. A failed upload is
//!   aborted (also when the put's future is dropped mid-way).
//! - **Missing bucket**: get and head report [`StoreError::NotFound`] (a HEAD answer carries no
//!   error code, so the two cases cannot be told apart there); put, list and delete report
//!   [`StoreError::Other`] naming the bucket.
//! - **Listing order**: AWS S3 pages in lexicographic key order; SeaweedFS pages in
//!   directory-walk order (`a/b` before `a-b`), so for custom endpoints the store walks the
//!   `/`-delimited levels itself ([`ListingStrategy::DirectoryWalk`]) to keep the trait's order.
//! - **Ranges** (half-open) past the end are clamped; an empty range, or one starting at or past
//!   the end (HTTP 416), is [`StoreError::Other`].

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;

use super::retry::RetryPolicy;
use super::{
    BoxFuture, GetResult, ListPage, ObjectMeta, ObjectPath, ObjectStore, PutMode, PutOptions,
    PutResult, StoreError,
};

/// S3's lower bound on every part but the last of a multipart upload.
const MIN_PART_BYTES: usize = 5 * 1024 * 1024;
/// S3's upper bound on the number of parts of one upload.
const MAX_PARTS: usize = 10_000;
/// S3's upper bound on `max-keys` for one listing page.
const MAX_LIST_KEYS: usize = 1000;
/// The most a GET preallocates from the response's Content-Length (a bigger body still grows).
const MAX_PREALLOCATED_BODY_BYTES: usize = 1 << 30;

/// Where and how to reach S3. Everything not given here comes from the standard AWS chain
/// (`AWS_*` environment variables, `~/.aws/config` and `credentials` profiles, SSO).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Config {
    /// A non-AWS endpoint (`--endpoint-url`), e.g. `http://127.0.0.1:8333`. When `None`, the
    /// chain's `AWS_ENDPOINT_URL` / profile `endpoint_url` applies, else AWS's own endpoints.
    pub endpoint_url: Option<String>,
    /// The profile to read from the shared config files (else `AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
    /// The region (else the chain's; `us-east-1` when a custom endpoint is set and none is found).
    pub region: Option<String>,
    /// Path-style addressing (`http://host/bucket/key`) instead of virtual-hosted style. `None`
    /// means: path style exactly when a custom endpoint is in effect, which S3-compatible stores
    /// need.
    pub force_path_style: Option<bool>,
}

/// When and how [`S3Store`] splits a put into a multipart upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultipartConfig {
    /// Objects of at least this many bytes are uploaded in parts.
    pub threshold_bytes: usize,
    /// Bytes per part (raised to S3's 5 MiB minimum, and as needed to stay within 10,000 parts).
    pub part_size_bytes: usize,
    /// Parts in flight at once (at least 1).
    pub max_concurrent_parts: usize,
}

impl Default for MultipartConfig {
    /// 16 MiB threshold, 8 MiB parts, 4 in flight.
    fn default() -> Self {
        Self {
            threshold_bytes: 16 * 1024 * 1024,
            part_size_bytes: 8 * 1024 * 1024,
            max_concurrent_parts: 4,
        }
    }
}

impl MultipartConfig {
    /// The part size used for an object of `len` bytes.
    pub fn part_size_for(&self, len: usize) -> usize {
        self.part_size_bytes.max(MIN_PART_BYTES).max(len.div_ceil(MAX_PARTS))
    }
}

/// The prefix of the continuation tokens of [`ListingStrategy::DirectoryWalk`].
const WALK_TOKEN: &str = "gw-walk:";

/// How [`S3Store`] produces listing pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingStrategy {
    /// One ListObjectsV2 request per page, in the server's order: right for AWS S3, which lists
    /// in lexicographic key order.
    Native,
    /// Walk the `/`-delimited levels under the prefix and merge them in exact lexicographic order
    /// (one request per level visited). For stores that page in directory-walk order, such as
    /// SeaweedFS (`a/b` before `a-b`); correct on any S3 store, at the cost of more requests.
    /// Folder markers (keys ending in `/`) are not listed, as in a local folder.
    DirectoryWalk,
}

/// An [`ObjectStore`] on AWS S3 or an S3-compatible store.
#[derive(Clone)]
pub struct S3Store {
    client: Client,
    retry: RetryPolicy,
    multipart: MultipartConfig,
    listing: ListingStrategy,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = self.client.config();
        f.debug_struct("S3Store")
            .field("region", &config.region().map(Region::as_ref))
            .field("retry", &self.retry)
            .field("multipart", &self.multipart)
            .field("listing", &self.listing)
            .finish_non_exhaustive()
    }
}

impl S3Store {
    /// A store configured from the standard AWS chain, overridden by `config`. With a custom
    /// endpoint, listing uses [`ListingStrategy::DirectoryWalk`] (exact order on any store).
    ///
    /// Fails when no region can be found for AWS's own endpoints. Credentials are resolved
    /// lazily: missing credentials surface on the first request.
    pub async fn from_env(config: S3Config) -> Result<Self, StoreError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &config.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &config.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk_config = loader.load().await;
        let custom_endpoint = sdk_config.endpoint_url().map(str::to_owned);
        let mut builder = aws_sdk_s3::config::Builder::from(&sdk_config);
        if sdk_config.region().is_none() {
            if custom_endpoint.is_some() {
                builder = builder.region(Region::from_static("us-east-1"));
            } else {
                return Err(StoreError::Other {
                    path: "s3://".into(),
                    message: "no AWS region configured: set AWS_REGION, a region in the AWS \
                              profile, or pass --region"
                        .into(),
                });
            }
        }
        builder =
            builder.force_path_style(config.force_path_style.unwrap_or(custom_endpoint.is_some()));
        let listing = if custom_endpoint.is_some() {
            ListingStrategy::DirectoryWalk
        } else {
            ListingStrategy::Native
        };
        Ok(Self::from_s3_config(builder).with_listing(listing))
    }

    /// A store from an S3 client configuration built by the caller (e.g. static test
    /// credentials). The SDK's retries are switched off (the store's [`RetryPolicy`] owns them)
    /// and a 10 s connect timeout is set; everything else is kept. Listing is
    /// [`ListingStrategy::Native`]; use [`S3Store::with_listing`] for SeaweedFS-like stores.
    pub fn from_s3_config(builder: aws_sdk_s3::config::Builder) -> Self {
        let config = builder
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder().connect_timeout(Duration::from_secs(10)).build(),
            )
            .build();
        Self {
            client: Client::from_conf(config),
            retry: RetryPolicy::default(),
            multipart: MultipartConfig::default(),
            listing: ListingStrategy::Native,
        }
    }

    /// This store with another listing strategy.
    pub fn with_listing(mut self, listing: ListingStrategy) -> Self {
        self.listing = listing;
        self
    }

    /// This store with another retry policy.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// This store with other multipart settings.
    pub fn with_multipart(mut self, multipart: MultipartConfig) -> Self {
        self.multipart = multipart;
        self
    }

    /// The underlying client (for bucket administration, e.g. in tests).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    async fn get_impl(
        &self,
        path: &ObjectPath,
        range: Option<Range<u64>>,
    ) -> Result<GetResult, StoreError> {
        if let Some(r) = &range
            && r.start >= r.end
        {
            return Err(StoreError::Other {
                path: path.uri(),
                message: format!("the byte range {r:?} is empty"),
            });
        }
        let (client, range) = (&self.client, &range);
        self.retry.run(|_| get_once(client, path, range.clone(), None)).await
    }

    /// A whole-object get. Large objects come down as parallel ranged gets of the multipart part
    /// size (like boto3's transfer manager), each pinned to the first part's ETag with `If-Match`
    /// so every part is of the same version; small ones in the first request. Any trouble with
    /// the parallel path (a server that rejects ranges or `If-Match`) falls back to one plain get.
    async fn get_whole(&self, path: &ObjectPath) -> Result<GetResult, StoreError> {
        let part = self.multipart.part_size_bytes.max(5 * 1024 * 1024) as u64;
        let first = match self.get_impl(path, Some(0..part)).await {
            Ok(first) => first,
            // E.g. an empty object, where every range is unsatisfiable.
            Err(StoreError::Other { .. }) => return self.get_impl(path, None).await,
            Err(err) => return Err(err),
        };
        let total = first.meta.size;
        if total <= first.bytes.len() as u64 {
            return Ok(first);
        }
        let Ok(capacity) = usize::try_from(total) else {
            return self.get_impl(path, None).await;
        };
        let mut bytes = first.bytes;
        bytes.reserve(capacity.saturating_sub(bytes.len()));
        let starts: Vec<u64> = (bytes.len() as u64..total).step_by(part as usize).collect();
        let max_in_flight = self.multipart.max_concurrent_parts.max(1);
        let mut tasks = tokio::task::JoinSet::new();
        let mut pieces: Vec<(u64, Vec<u8>)> = Vec::with_capacity(starts.len());
        let mut next = 0;
        while next < starts.len() || !tasks.is_empty() {
            while next < starts.len() && tasks.len() < max_in_flight {
                let start = starts[next];
                let (client, retry, path) = (self.client.clone(), self.retry.clone(), path.clone());
                let etag = first.meta.etag.clone();
                tasks.spawn(async move {
                    let range = start..(start + part).min(total);
                    let got = retry
                        .run(|_| get_once(&client, &path, Some(range.clone()), Some(&etag)))
                        .await?;
                    Ok::<_, StoreError>((start, got.bytes))
                });
                next += 1;
            }
            match tasks.join_next().await {
                Some(Ok(Ok(piece))) => pieces.push(piece),
                // Changed meanwhile (If-Match failed) or a server that dislikes the request:
                // one plain get gives a consistent object.
                Some(Ok(Err(StoreError::PreconditionFailed { .. } | StoreError::Other { .. }))) => {
                    tasks.abort_all();
                    return self.get_impl(path, None).await;
                }
                Some(Ok(Err(err))) => {
                    tasks.abort_all();
                    return Err(err);
                }
                Some(Err(join_error)) => {
                    return Err(StoreError::Other {
                        path: path.uri(),
                        message: format!("a ranged download task failed: {join_error}"),
                    });
                }
                None => break,
            }
        }
        pieces.sort_by_key(|(start, _)| *start);
        for (start, piece) in pieces {
            if start != bytes.len() as u64 {
                return self.get_impl(path, None).await;
            }
            bytes.extend_from_slice(&piece);
        }
        if bytes.len() as u64 != total {
            return self.get_impl(path, None).await;
        }
        Ok(GetResult { meta: first.meta, bytes })
    }

    async fn head_impl(&self, path: &ObjectPath) -> Result<ObjectMeta, StoreError> {
        self.retry
            .run(|_| async {
                let out = self
                    .client
                    .head_object()
                    .bucket(path.bucket())
                    .key(path.key())
                    .send()
                    .await
                    .map_err(|e| map_error(e, path, Op::Read))?;
                Ok(ObjectMeta {
                    path: path.clone(),
                    size: out.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                    etag: out.e_tag().unwrap_or_default().to_owned(),
                    last_modified_ms: to_millis(out.last_modified()),
                })
            })
            .await
    }

    async fn put_impl(
        &self,
        path: &ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> Result<PutResult, StoreError> {
        if bytes.len() >= self.multipart.threshold_bytes.max(1) {
            return self.put_multipart(path, bytes, &options).await;
        }
        let body = SdkBody::from(bytes);
        let ambiguous = AtomicBool::new(false);
        let outcome = self
            .retry
            .run(|_| {
                let body = body.try_clone();
                let (options, ambiguous) = (&options, &ambiguous);
                async move {
                    let body = body.ok_or_else(|| StoreError::Other {
                        path: path.uri(),
                        message: "the request body cannot be replayed".into(),
                    })?;
                    let mut request = self
                        .client
                        .put_object()
                        .bucket(path.bucket())
                        .key(path.key())
                        .body(ByteStream::new(body));
                    if let Some(content_type) = &options.content_type {
                        request = request.content_type(content_type);
                    }
                    if let Some(key_id) = &options.kms_key_id {
                        request = request
                            .server_side_encryption(ServerSideEncryption::AwsKms)
                            .ssekms_key_id(key_id);
                    }
                    request = match &options.mode {
                        PutMode::Overwrite => request,
                        PutMode::CreateOnly => request.if_none_match("*"),
                        PutMode::UpdateIfMatch(etag) => request.if_match(etag),
                    };
                    let result = request.send().await;
                    let out = result.map_err(|e| {
                        let err = map_error(e, path, Op::Write);
                        if err.is_transient() {
                            ambiguous.store(true, Ordering::Relaxed);
                        }
                        err
                    })?;
                    Ok(out.e_tag().map(str::to_owned))
                }
            })
            .await;
        let ours = body.bytes().unwrap_or_default();
        self.finish_put(path, outcome, &options.mode, ambiguous.into_inner(), ours).await
    }

    /// Turns a put's outcome into the trait's answer: fills in a missing ETag, maps 412 by mode,
    /// and resolves an ambiguous retry by reading the object back.
    async fn finish_put(
        &self,
        path: &ObjectPath,
        outcome: Result<Option<String>, StoreError>,
        mode: &PutMode,
        ambiguous: bool,
        ours: &[u8],
    ) -> Result<PutResult, StoreError> {
        match outcome {
            Ok(Some(etag)) => Ok(PutResult { etag }),
            Ok(None) => Ok(PutResult { etag: self.head_impl(path).await?.etag }),
            Err(StoreError::PreconditionFailed { .. }) => {
                if ambiguous
                    && let Ok(current) = self.get_impl(path, None).await
                    && current.bytes == ours
                {
                    tracing::info!(%path, "conditional put refused on retry, but an earlier attempt wrote it");
                    return Ok(PutResult { etag: current.meta.etag });
                }
                match mode {
                    PutMode::CreateOnly => Err(StoreError::AlreadyExists { path: path.uri() }),
                    PutMode::UpdateIfMatch(_) => match self.head_impl(path).await {
                        Err(err @ StoreError::NotFound { .. }) => Err(err),
                        _ => Err(StoreError::PreconditionFailed { path: path.uri() }),
                    },
                    PutMode::Overwrite => Err(StoreError::PreconditionFailed { path: path.uri() }),
                }
            }
            Err(err) => Err(err),
        }
    }

    async fn put_multipart(
        &self,
        path: &ObjectPath,
        bytes: Vec<u8>,
        options: &PutOptions,
    ) -> Result<PutResult, StoreError> {
        // Fail early, before sending any part, when the condition is already false. The
        // authoritative check is the one on CompleteMultipartUpload.
        match &options.mode {
            PutMode::Overwrite => {}
            PutMode::CreateOnly => match self.head_impl(path).await {
                Ok(_) => return Err(StoreError::AlreadyExists { path: path.uri() }),
                Err(StoreError::NotFound { .. }) => {}
                Err(err) => return Err(err),
            },
            PutMode::UpdateIfMatch(etag) => {
                if self.head_impl(path).await?.etag != *etag {
                    return Err(StoreError::PreconditionFailed { path: path.uri() });
                }
            }
        }

        let upload_id = self
            .retry
            .run(|_| async {
                let mut request =
                    self.client.create_multipart_upload().bucket(path.bucket()).key(path.key());
                if let Some(content_type) = &options.content_type {
                    request = request.content_type(content_type);
                }
                if let Some(key_id) = &options.kms_key_id {
                    request = request
                        .server_side_encryption(ServerSideEncryption::AwsKms)
                        .ssekms_key_id(key_id);
                }
                let out = request.send().await.map_err(|e| map_error(e, path, Op::Write))?;
                out.upload_id().map(str::to_owned).ok_or_else(|| StoreError::Other {
                    path: path.uri(),
                    message: "CreateMultipartUpload returned no upload id".into(),
                })
            })
            .await?;

        let mut guard = AbortGuard {
            client: self.client.clone(),
            bucket: path.bucket().to_owned(),
            key: path.key().to_owned(),
            upload_id: Some(upload_id.clone()),
        };
        let bytes = Arc::new(bytes);
        let result = self.upload_parts_and_complete(path, &bytes, &upload_id, options).await;
        match &result {
            Ok(_) => guard.disarm(),
            Err(_) => guard.abort().await,
        }
        result
    }

    async fn upload_parts_and_complete(
        &self,
        path: &ObjectPath,
        bytes: &Arc<Vec<u8>>,
        upload_id: &str,
        options: &PutOptions,
    ) -> Result<PutResult, StoreError> {
        let part_size = self.multipart.part_size_for(bytes.len());
        let part_count = bytes.len().div_ceil(part_size).max(1);
        let max_in_flight = self.multipart.max_concurrent_parts.max(1);
        let mut tasks = tokio::task::JoinSet::new();
        let mut parts = Vec::with_capacity(part_count);
        let mut next = 0;
        while next < part_count || !tasks.is_empty() {
            while next < part_count && tasks.len() < max_in_flight {
                let start = next * part_size;
                let end = (start + part_size).min(bytes.len());
                let part_number = i32::try_from(next + 1).map_err(|_| StoreError::Other {
                    path: path.uri(),
                    message: "too many parts".into(),
                })?;
                tasks.spawn(upload_part(
                    self.client.clone(),
                    self.retry.clone(),
                    path.clone(),
                    upload_id.to_owned(),
                    part_number,
                    Arc::clone(bytes),
                    start..end,
                ));
                next += 1;
            }
            match tasks.join_next().await {
                Some(Ok(Ok(part))) => parts.push(part),
                Some(Ok(Err(err))) => return Err(err),
                Some(Err(join_error)) => {
                    return Err(StoreError::Other {
                        path: path.uri(),
                        message: format!("a part upload task failed: {join_error}"),
                    });
                }
                None => break,
            }
        }
        parts.sort_by_key(|part| part.part_number());
        let completed = CompletedMultipartUpload::builder().set_parts(Some(parts)).build();

        let ambiguous = AtomicBool::new(false);
        let outcome = self
            .retry
            .run(|_| {
                let completed = completed.clone();
                let ambiguous = &ambiguous;
                async move {
                    let mut request = self
                        .client
                        .complete_multipart_upload()
                        .bucket(path.bucket())
                        .key(path.key())
                        .upload_id(upload_id)
                        .multipart_upload(completed);
                    request = match &options.mode {
                        PutMode::Overwrite => request,
                        PutMode::CreateOnly => request.if_none_match("*"),
                        PutMode::UpdateIfMatch(etag) => request.if_match(etag),
                    };
                    let out = request.send().await.map_err(|e| {
                        let err = map_error(e, path, Op::Write);
                        if err.is_transient() {
                            ambiguous.store(true, Ordering::Relaxed);
                        }
                        err
                    })?;
                    Ok(out.e_tag().map(str::to_owned))
                }
            })
            .await;
        self.finish_put(path, outcome, &options.mode, ambiguous.into_inner(), bytes).await
    }

    async fn list_impl(
        &self,
        prefix: &ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> Result<ListPage, StoreError> {
        let max_keys = max_keys.clamp(1, MAX_LIST_KEYS);
        match self.listing {
            ListingStrategy::Native => self.list_native(prefix, continuation, max_keys).await,
            ListingStrategy::DirectoryWalk => self.list_walk(prefix, continuation, max_keys).await,
        }
    }

    /// One ListObjectsV2 request (with retries).
    async fn list_request(
        &self,
        root: &ObjectPath,
        prefix: &str,
        delimited: bool,
        continuation: Option<&str>,
        max_keys: usize,
    ) -> Result<ListObjectsV2Output, StoreError> {
        let max_keys = i32::try_from(max_keys).unwrap_or(1000);
        self.retry
            .run(|_| async {
                let mut request =
                    self.client.list_objects_v2().bucket(root.bucket()).max_keys(max_keys);
                if !prefix.is_empty() {
                    request = request.prefix(prefix);
                }
                if delimited {
                    request = request.delimiter("/");
                }
                if let Some(token) = continuation {
                    request = request.continuation_token(token);
                }
                request.send().await.map_err(|e| map_error(e, root, Op::Other))
            })
            .await
    }

    /// One page straight from the server, with the server's continuation token.
    async fn list_native(
        &self,
        prefix: &ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> Result<ListPage, StoreError> {
        let out = self
            .list_request(prefix, prefix.key(), false, continuation.as_deref(), max_keys)
            .await?;
        let objects =
            out.contents().iter().filter_map(|o| object_meta(prefix.bucket(), o)).collect();
        let next = if out.is_truncated() == Some(true) {
            out.next_continuation_token().map(str::to_owned)
        } else {
            None
        };
        Ok(ListPage { objects, next })
    }

    /// One page in exact lexicographic order, built by walking the `/`-delimited levels under
    /// the prefix; the continuation token is [`WALK_TOKEN`] followed by the last key returned.
    async fn list_walk(
        &self,
        prefix: &ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> Result<ListPage, StoreError> {
        let after = match &continuation {
            None => None,
            Some(token) => {
                Some(token.strip_prefix(WALK_TOKEN).ok_or_else(|| StoreError::Other {
                    path: prefix.uri(),
                    message:
                        "the continuation token does not come from this store's listing".into(),
                })?)
            }
        };
        // One more than asked for tells whether another page exists.
        let mut objects = Vec::with_capacity(max_keys + 1);
        self.walk(prefix, prefix.key().to_owned(), after, max_keys + 1, &mut objects).await?;
        let next = if objects.len() > max_keys {
            objects.truncate(max_keys);
            objects.last().map(|o| format!("{WALK_TOKEN}{}", o.path.key()))
        } else {
            None
        };
        Ok(ListPage { objects, next })
    }

    /// Appends to `out`, in lexicographic order, the objects under `level` whose keys sort after
    /// `after`, until `out` holds `limit`. Keys under a common prefix `c` form one contiguous run
    /// in lexicographic order, so sorting a level's objects and common prefixes together and
    /// descending into each prefix in turn yields the exact order whatever the server's order.
    fn walk<'a>(
        &'a self,
        root: &'a ObjectPath,
        level: String,
        after: Option<&'a str>,
        limit: usize,
        out: &'a mut Vec<ObjectMeta>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            // (sort key, the object; None for a common prefix)
            let mut entries: Vec<(String, Option<ObjectMeta>)> = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page =
                    self.list_request(root, &level, true, token.as_deref(), MAX_LIST_KEYS).await?;
                for object in page.contents() {
                    // A key ending in '/' here is the level's own folder marker: SeaweedFS shows
                    // a folder emptied by deletes this way until it cleans it up. Not an object.
                    if object.key().is_some_and(|k| k.ends_with('/')) {
                        continue;
                    }
                    if let Some(meta) = object_meta(root.bucket(), object) {
                        entries.push((meta.path.key().to_owned(), Some(meta)));
                    }
                }
                for common in page.common_prefixes() {
                    // A prefix must be strictly longer than its level, or the walk would loop.
                    if let Some(p) = common.prefix()
                        && p.len() > level.len()
                        && p.starts_with(level.as_str())
                    {
                        entries.push((p.to_owned(), None));
                    }
                }
                match (page.is_truncated(), page.next_continuation_token()) {
                    (Some(true), Some(next)) if token.as_deref() != Some(next) => {
                        token = Some(next.to_owned());
                    }
                    _ => break,
                }
            }
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            for (name, object) in entries {
                if out.len() >= limit {
                    break;
                }
                match object {
                    Some(meta) => {
                        if after.is_none_or(|a| name.as_bytes() > a.as_bytes()) {
                            out.push(meta);
                        }
                    }
                    None => {
                        let sub_after = match after {
                            None => None,
                            // `after` lies inside this prefix: resume there.
                            Some(a) if a.starts_with(name.as_str()) => Some(a),
                            // Every key under the prefix extends `after`: all come after it.
                            Some(a) if name.starts_with(a) => None,
                            // The whole run sorts before `after`.
                            Some(a) if name.as_bytes() < a.as_bytes() => continue,
                            Some(_) => None,
                        };
                        self.walk(root, name, sub_after, limit, out).await?;
                    }
                }
            }
            Ok(())
        })
    }

    async fn delete_impl(&self, path: &ObjectPath) -> Result<(), StoreError> {
        let result = self
            .retry
            .run(|_| async {
                self.client
                    .delete_object()
                    .bucket(path.bucket())
                    .key(path.key())
                    .send()
                    .await
                    .map_err(|e| map_error(e, path, Op::Other))
            })
            .await;
        match result {
            Ok(_) | Err(StoreError::NotFound { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }
}

impl ObjectStore for S3Store {
    fn get<'a>(
        &'a self,
        path: &'a ObjectPath,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<GetResult, StoreError>> {
        match range {
            Some(range) => Box::pin(self.get_impl(path, Some(range))),
            None => Box::pin(self.get_whole(path)),
        }
    }

    fn head<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<ObjectMeta, StoreError>> {
        Box::pin(self.head_impl(path))
    }

    fn put<'a>(
        &'a self,
        path: &'a ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> BoxFuture<'a, Result<PutResult, StoreError>> {
        Box::pin(self.put_impl(path, bytes, options))
    }

    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        Box::pin(self.list_impl(prefix, continuation, max_keys))
    }

    fn delete<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.delete_impl(path))
    }
}

/// Uploads one part, with retries; returns it ready for `CompleteMultipartUpload`.
/// One GET request (no retry): the whole object or `range`, optionally only if its ETag is
/// `if_match`.
async fn get_once(
    client: &Client,
    path: &ObjectPath,
    range: Option<Range<u64>>,
    if_match: Option<&str>,
) -> Result<GetResult, StoreError> {
    let mut request = client.get_object().bucket(path.bucket()).key(path.key());
    if let Some(r) = &range {
        request = request.range(range_header(r));
    }
    if let Some(etag) = if_match {
        request = request.if_match(etag);
    }
    let out = request.send().await.map_err(|e| map_error(e, path, Op::Read))?;
    let content_range = out.content_range().map(str::to_owned);
    let content_length = out.content_length();
    let etag = out.e_tag().unwrap_or_default().to_owned();
    let last_modified_ms = to_millis(out.last_modified());
    // Chunk by chunk into one buffer sized from Content-Length: one copy per byte
    // (`AggregatedBytes::to_vec` flattens byte by byte, three times boto3's CPU per byte).
    let expected = content_length.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(expected.min(MAX_PREALLOCATED_BODY_BYTES));
    let mut body = out.body;
    while let Some(chunk) = body.try_next().await.map_err(|e| StoreError::Transient {
        path: path.uri(),
        message: format!("reading the object's bytes: {}", error_chain(&e)),
    })? {
        bytes.extend_from_slice(&chunk);
    }
    let size = match (&range, content_range.as_deref().and_then(total_from_range)) {
        (Some(_), Some(total)) => total,
        (Some(r), None) => {
            // The server ignored the range and sent the whole object.
            let total = bytes.len() as u64;
            let start = usize::try_from(r.start.min(total)).unwrap_or(bytes.len());
            let end = usize::try_from(r.end.min(total)).unwrap_or(bytes.len());
            bytes = bytes.get(start..end).map(<[u8]>::to_vec).unwrap_or_default();
            total
        }
        (None, _) => {
            content_length.and_then(|n| u64::try_from(n).ok()).unwrap_or(bytes.len() as u64)
        }
    };
    Ok(GetResult { meta: ObjectMeta { path: path.clone(), size, etag, last_modified_ms }, bytes })
}

async fn upload_part(
    client: Client,
    retry: RetryPolicy,
    path: ObjectPath,
    upload_id: String,
    part_number: i32,
    bytes: Arc<Vec<u8>>,
    range: Range<usize>,
) -> Result<CompletedPart, StoreError> {
    let chunk = bytes.get(range).ok_or_else(|| StoreError::Other {
        path: path.uri(),
        message: format!("part {part_number} lies outside the object"),
    })?;
    let body = SdkBody::from(chunk.to_vec());
    retry
        .run(|_| {
            let body = body.try_clone();
            let (client, path, upload_id) = (&client, &path, &upload_id);
            async move {
                let body = body.ok_or_else(|| StoreError::Other {
                    path: path.uri(),
                    message: "the part's body cannot be replayed".into(),
                })?;
                let out = client
                    .upload_part()
                    .bucket(path.bucket())
                    .key(path.key())
                    .upload_id(upload_id)
                    .part_number(part_number)
                    .body(ByteStream::new(body))
                    .send()
                    .await
                    .map_err(|e| map_error(e, path, Op::Write))?;
                let etag = out.e_tag().ok_or_else(|| StoreError::Other {
                    path: path.uri(),
                    message: format!("UploadPart {part_number} returned no ETag"),
                })?;
                Ok(CompletedPart::builder().part_number(part_number).e_tag(etag).build())
            }
        })
        .await
}

/// Aborts a multipart upload unless disarmed: explicitly on failure, or from `Drop` (spawned on the
/// current tokio runtime) when the put's future is dropped mid-upload, so no orphaned parts are
/// left to accrue storage.
struct AbortGuard {
    client: Client,
    bucket: String,
    key: String,
    upload_id: Option<String>,
}

impl AbortGuard {
    fn disarm(&mut self) {
        self.upload_id = None;
    }

    async fn abort(&mut self) {
        if let Some(upload_id) = self.upload_id.take() {
            abort_upload(self.client.clone(), self.bucket.clone(), self.key.clone(), upload_id)
                .await;
        }
    }
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if let Some(upload_id) = self.upload_id.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(abort_upload(
                self.client.clone(),
                self.bucket.clone(),
                std::mem::take(&mut self.key),
                upload_id,
            ));
        }
    }
}

async fn abort_upload(client: Client, bucket: String, key: String, upload_id: String) {
    let result = client
        .abort_multipart_upload()
        .bucket(&bucket)
        .key(&key)
        .upload_id(&upload_id)
        .send()
        .await;
    if let Err(err) = result {
        tracing::warn!(
            bucket, key, upload_id, error = %DisplayErrorContext(&err),
            "could not abort a failed multipart upload; a bucket lifecycle rule will have to"
        );
    }
}

/// What kind of request failed, for the few answers whose meaning depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// get, head: a missing bucket is just a missing object.
    Read,
    /// put-like: a missing bucket is a configuration error.
    Write,
    /// list, delete: a missing bucket is a configuration error.
    Other,
}

/// How a request failed before any classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// The store answered with an error status.
    Service,
    /// The request or response timed out.
    Timeout,
    /// The connection failed (refused, reset, DNS, TLS …).
    Connection,
    /// The request could not be built or signed (bad input, missing credentials).
    Local,
    /// A response arrived but could not be read (truncated, garbled).
    Response,
}

/// What a failure means to a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    NotFound,
    NoSuchBucket,
    PreconditionFailed,
    AccessDenied,
    Transient,
    InvalidRange,
    Other,
}

/// Classifies a failure by its kind, HTTP status and S3 error code. The code wins over the status
/// (S3 sends `RequestTimeout` with 400, `ExpiredToken` with 400, …).
pub(crate) fn classify(kind: FailureKind, status: Option<u16>, code: Option<&str>) -> ErrorClass {
    match kind {
        FailureKind::Timeout | FailureKind::Connection | FailureKind::Response => {
            return ErrorClass::Transient;
        }
        FailureKind::Local => return ErrorClass::Other,
        FailureKind::Service => {}
    }
    match code {
        Some("NoSuchBucket") => return ErrorClass::NoSuchBucket,
        Some("NoSuchKey" | "NotFound") => return ErrorClass::NotFound,
        Some("PreconditionFailed") => return ErrorClass::PreconditionFailed,
        Some(
            "AccessDenied"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "InvalidToken"
            | "TokenRefreshRequired"
            | "AllAccessDisabled"
            | "AccountProblem",
        ) => return ErrorClass::AccessDenied,
        Some(
            "SlowDown"
            | "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "RequestTimeout"
            | "RequestTimeoutException"
            | "InternalError"
            | "ServiceUnavailable"
            | "ConditionalRequestConflict"
            | "OperationAborted",
        ) => return ErrorClass::Transient,
        Some("InvalidRange") => return ErrorClass::InvalidRange,
        _ => {}
    }
    match status {
        Some(404) => ErrorClass::NotFound,
        Some(412) => ErrorClass::PreconditionFailed,
        Some(401 | 403) => ErrorClass::AccessDenied,
        Some(416) => ErrorClass::InvalidRange,
        Some(408 | 429 | 500..=599) => ErrorClass::Transient,
        _ => ErrorClass::Other,
    }
}

/// Maps an SDK error onto [`StoreError`] for the object at `path`.
fn map_error<E>(err: SdkError<E, HttpResponse>, path: &ObjectPath, op: Op) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let kind = match &err {
        SdkError::ServiceError(_) => FailureKind::Service,
        SdkError::TimeoutError(_) => FailureKind::Timeout,
        SdkError::DispatchFailure(failure)
            if failure.is_io()
                || failure.is_timeout()
                || matches!(
                    failure.as_other(),
                    Some(
                        ErrorKind::TransientError
                            | ErrorKind::ThrottlingError
                            | ErrorKind::ServerError
                    )
                ) =>
        {
            FailureKind::Connection
        }
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => FailureKind::Local,
        SdkError::ResponseError(_) => FailureKind::Response,
        _ => FailureKind::Local,
    };
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_owned);
    let class = classify(kind, status, code.as_deref());
    let message = describe(&err, status, code.as_deref());
    let uri = path.uri();
    match class {
        ErrorClass::NotFound => StoreError::NotFound { path: uri },
        ErrorClass::NoSuchBucket if op == Op::Read => StoreError::NotFound { path: uri },
        ErrorClass::NoSuchBucket => StoreError::Other {
            path: format!("s3://{}/", path.bucket()),
            message: format!("the bucket `{}` does not exist (NoSuchBucket)", path.bucket()),
        },
        ErrorClass::PreconditionFailed => StoreError::PreconditionFailed { path: uri },
        ErrorClass::AccessDenied => StoreError::AccessDenied { path: uri, message },
        ErrorClass::Transient => StoreError::Transient { path: uri, message },
        ErrorClass::InvalidRange => StoreError::Other {
            path: uri,
            message: format!("the requested range lies outside the object ({message})"),
        },
        ErrorClass::Other => StoreError::Other { path: uri, message },
    }
}

/// A one-line description: status, code and the store's message, else the SDK's error chain.
fn describe<E>(err: &SdkError<E, HttpResponse>, status: Option<u16>, code: Option<&str>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match (status, code, err.message()) {
        (Some(status), Some(code), Some(message)) => format!("HTTP {status} {code}: {message}"),
        (Some(status), Some(code), None) => format!("HTTP {status} {code}"),
        (Some(status), None, _) if matches!(err, SdkError::ServiceError(_)) => {
            format!("HTTP {status}")
        }
        _ => error_chain(err),
    }
}

/// An error and its sources, `: `-separated (without the debug dump `DisplayErrorContext` adds).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        let part = next.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = next.source();
    }
    text
}

/// A listed object's metadata; `None` (with a warning) for a key this crate cannot address.
fn object_meta(bucket: &str, object: &aws_sdk_s3::types::Object) -> Option<ObjectMeta> {
    let key = object.key()?;
    match ObjectPath::new(bucket, key) {
        Ok(path) => Some(ObjectMeta {
            path,
            size: object.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
            etag: object.e_tag().unwrap_or_default().to_owned(),
            last_modified_ms: to_millis(object.last_modified()),
        }),
        Err(err) => {
            tracing::warn!(%err, "listing skips an object whose key is not valid here");
            None
        }
    }
}

/// `bytes=a-(b-1)`, or the open-ended `bytes=a-` when `b - 1` exceeds what servers parse
/// (a signed 64-bit integer).
fn range_header(range: &Range<u64>) -> String {
    let last = range.end.saturating_sub(1);
    if i64::try_from(last).is_ok() {
        format!("bytes={}-{last}", range.start)
    } else {
        format!("bytes={}-", range.start)
    }
}

/// The total size from a `Content-Range: bytes a-b/total` header.
fn total_from_range(content_range: &str) -> Option<u64> {
    content_range.rsplit_once('/').and_then(|(_, total)| total.trim().parse().ok())
}

fn to_millis(time: Option<&aws_smithy_types::DateTime>) -> i64 {
    time.and_then(|t| t.to_millis().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_code_before_status() {
        use ErrorClass::*;
        use FailureKind::Service;
        let cases: &[(Option<u16>, Option<&str>, ErrorClass)] = &[
            (Some(404), Some("NoSuchKey"), NotFound),
            (Some(404), None, NotFound),
            (Some(404), Some("NoSuchBucket"), NoSuchBucket),
            (Some(412), Some("PreconditionFailed"), PreconditionFailed),
            (Some(412), None, PreconditionFailed),
            (Some(403), Some("AccessDenied"), AccessDenied),
            (Some(403), Some("SignatureDoesNotMatch"), AccessDenied),
            (Some(403), None, AccessDenied),
            (Some(400), Some("ExpiredToken"), AccessDenied),
            (Some(503), Some("SlowDown"), Transient),
            (Some(503), None, Transient),
            (Some(500), Some("InternalError"), Transient),
            (Some(400), Some("RequestTimeout"), Transient),
            (Some(429), None, Transient),
            (Some(409), Some("ConditionalRequestConflict"), Transient),
            (Some(416), Some("InvalidRange"), InvalidRange),
            (Some(400), Some("InvalidArgument"), Other),
            (Some(409), Some("BucketAlreadyExists"), Other),
            (Some(400), None, Other),
        ];
        for &(status, code, want) in cases {
            assert_eq!(classify(Service, status, code), want, "{status:?} {code:?}");
        }
    }

    #[test]
    fn network_failures_are_transient_and_local_ones_are_not() {
        for kind in [FailureKind::Timeout, FailureKind::Connection, FailureKind::Response] {
            assert_eq!(classify(kind, None, None), ErrorClass::Transient);
        }
        assert_eq!(classify(FailureKind::Local, None, None), ErrorClass::Other);
    }

    #[test]
    fn parses_content_range_totals() {
        assert_eq!(total_from_range("bytes 0-9/100"), Some(100));
        assert_eq!(total_from_range("bytes 5-5/6"), Some(6));
        assert_eq!(total_from_range("bytes */6"), Some(6));
        assert_eq!(total_from_range("garbage"), None);
        assert_eq!(total_from_range("bytes 0-1/*"), None);
    }

    #[test]
    fn part_sizes_respect_s3_limits() {
        let config = MultipartConfig::default();
        assert_eq!(config.part_size_for(40 << 20), 8 << 20);
        let tiny = MultipartConfig { part_size_bytes: 1024, ..config };
        assert_eq!(tiny.part_size_for(40 << 20), MIN_PART_BYTES);
        // 100 GiB at 8 MiB would need 12,800 parts: the part size grows to stay within 10,000.
        let huge = 100usize << 30;
        let part = config.part_size_for(huge);
        assert!(huge.div_ceil(part) <= MAX_PARTS);
        assert!(part > 8 << 20);
    }
}
