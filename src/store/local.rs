//! A local folder standing in for S3 (the embedded default workspace, works offline).
//!
//! `s3://bucket/key` resolves to `<root>/bucket/key`; the reserved catalog bucket `.groundwork`
//! resolves to `<root>/.groundwork/`. Several processes (workers on one machine, or on machines
//! sharing a folder) may use the same root at once: every guarantee below holds across processes.
//!
//! Owns: the on-disk representation of objects, atomic replacement, cross-process conditional
//! writes, and the local ETag. Must not depend on `render`, `ui`, `app` or `cli`.
//!
//! # Guarantees
//! - **Atomic writes.** A put writes a temporary file in the target's own directory, fsyncs it,
//!   moves it into place (`rename`, or `hard_link` for create-only), then fsyncs the directory.
//!   Readers see the old bytes or the new bytes, never a mix, and never the temporary file.
//! - **Conditional writes across processes.** Every mutation (put in any mode, delete) holds an
//!   exclusive advisory lock ([`std::fs::File::lock`]) on one of 256 lock files under
//!   `<root>/.~gw-locks/`, chosen by a hash of the object's address, while it checks its
//!   precondition and moves the file into place. Create-only additionally uses `hard_link`, which
//!   refuses to replace an existing file, so it stays exclusive even against a writer that does not
//!   take the lock. Update-if-match hashes the current file under the lock before replacing it.
//! - **ETag** = 128-bit FNV-1a of the content, as 32 lowercase hex digits: equal content gives an
//!   equal ETag, any change a new one (like S3's MD5 ETag of a single-part upload). ETags are cached
//!   in memory per store, keyed by the file's identity (device, inode, size, mtime, ctime), so a
//!   file is hashed once per process unless it changes. A conditional compare always re-hashes.
//! - **Ranged get**, as S3 answers `Range: bytes=a-(b-1)`: `start >= end`, or `start` at or past
//!   the end of the object, is an error ([`StoreError::Other`], S3's `416 InvalidRange`); an `end`
//!   past the end of the object is clamped to it.
//! - **Listing** returns files only, in lexicographic (byte) order of their keys, `max_keys` at a
//!   time; the continuation token is the last key returned. Internal files (names starting with
//!   `.~gw`) never appear, and keys with such a segment are refused.
//!   Symbolic links are followed (a dataset may be linked in), links that loop are not.
//! - **Delete** of a missing object succeeds; emptied folders are removed up to (not including) the
//!   bucket folder.
//!
//! # Differences from S3
//! - A key ending in `/` (S3's "folder marker") or the empty key cannot be stored: a folder cannot
//!   also be a file. For the same reason `a/b` cannot be stored while `a` is an object, nor `a`
//!   while objects exist under `a/`; such a put fails with [`StoreError::Other`].
//! - A bucket is a folder, created by the first put into it; a missing bucket lists as empty.
//! - `content_type` and `kms_key_id` are accepted and ignored.
//!
//! All file-system work runs on Tokio's blocking pool (`spawn_blocking`) when called inside a Tokio
//! runtime, so it never stalls the async workers; outside a runtime it runs inline.

use std::collections::HashMap;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use super::{
    BoxFuture, GetResult, LOCAL_CATALOG_BUCKET, ListPage, ObjectMeta, ObjectPath, ObjectStore,
    PutMode, PutOptions, PutResult, StoreError,
};

/// File names starting with this are the store's own (temporary files, locks) and never objects.
pub const RESERVED_NAME_PREFIX: &str = ".~gw";

/// The folder under the root that holds the lock files.
const LOCK_DIR: &str = ".~gw-locks";

/// Number of lock files (lock stripes); objects hashing to the same stripe serialise their writes.
const LOCK_STRIPES: u64 = 256;

/// At most this many ETags are cached; the cache is cleared when it would grow past it.
const ETAG_CACHE_CAPACITY: usize = 65_536;

/// How often a put retries when a concurrent delete removes the folder it is writing into.
const DIR_RACE_RETRIES: usize = 8;

/// The longest key S3 accepts; listing does not descend past it (this also bounds symlink loops).
const MAX_KEY_BYTES: usize = 1024;

/// A local folder holding buckets as sub-folders. Cheap to clone; clones share the ETag cache.
#[derive(Clone)]
pub struct LocalStore {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    etags: Mutex<HashMap<PathBuf, (Stamp, String)>>,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore").field("root", &self.inner.root).finish()
    }
}

impl LocalStore {
    /// A store rooted at `root` (made absolute against the current directory). Touches no disk:
    /// folders are created by the first put.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        let root = std::path::absolute(&root)
            .map_err(|source| StoreError::Io { path: root.display().to_string(), source })?;
        Ok(Self { inner: Arc::new(Inner { root, etags: Mutex::new(HashMap::new()) }) })
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The file that holds the object at `path`: `<root>/bucket/key`. Fails for keys that cannot
    /// name a file here (empty, ending in `/`, or with a reserved `.~gw` segment).
    pub fn file_path(&self, path: &ObjectPath) -> Result<PathBuf, StoreError> {
        object_file(&self.inner.root, path)
    }

    async fn run<T: Send + 'static>(
        &self,
        what: &ObjectPath,
        f: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle.spawn_blocking(move || f(&inner)).await.map_err(|e| {
                StoreError::Other { path: what.uri(), message: format!("storage task failed: {e}") }
            })?,
            Err(_) => f(&inner),
        }
    }
}

impl ObjectStore for LocalStore {
    fn get<'a>(
        &'a self,
        path: &'a ObjectPath,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<GetResult, StoreError>> {
        Box::pin(async move {
            let file = self.file_path(path)?;
            let owned = path.clone();
            self.run(path, move |inner| inner.get(&owned, &file, range)).await
        })
    }

    fn head<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<ObjectMeta, StoreError>> {
        Box::pin(async move {
            let file = self.file_path(path)?;
            let owned = path.clone();
            self.run(path, move |inner| {
                let mut f = open_object(&owned, &file)?;
                inner.describe(&owned, &file, &mut f, None).map(|(meta, _)| meta)
            })
            .await
        })
    }

    fn put<'a>(
        &'a self,
        path: &'a ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> BoxFuture<'a, Result<PutResult, StoreError>> {
        Box::pin(async move {
            let file = self.file_path(path)?;
            let owned = path.clone();
            self.run(path, move |inner| inner.put(&owned, &file, &bytes, &options.mode)).await
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        Box::pin(async move {
            let owned = prefix.clone();
            self.run(prefix, move |inner| inner.list(&owned, continuation.as_deref(), max_keys))
                .await
        })
    }

    fn delete<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let file = self.file_path(path)?;
            let owned = path.clone();
            self.run(path, move |inner| inner.delete(&owned, &file)).await
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Paths

fn object_file(root: &Path, path: &ObjectPath) -> Result<PathBuf, StoreError> {
    let invalid =
        |reason: &str| StoreError::InvalidPath { path: path.uri(), reason: reason.into() };
    let key = path.key();
    if key.is_empty() || key.ends_with('/') {
        return Err(invalid(
            "names a prefix, not an object (a local workspace cannot store keys ending in '/')",
        ));
    }
    let mut file = bucket_dir(root, path.bucket());
    for segment in key.split('/') {
        if segment.starts_with(RESERVED_NAME_PREFIX) {
            return Err(invalid(&format!(
                "key segments starting with '{RESERVED_NAME_PREFIX}' are reserved for the local \
                 store's temporary and lock files"
            )));
        }
        file.push(segment);
    }
    Ok(file)
}

fn bucket_dir(root: &Path, bucket: &str) -> PathBuf {
    debug_assert!(bucket == LOCAL_CATALOG_BUCKET || !bucket.starts_with('.'));
    root.join(bucket)
}

fn io_error(file: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: file.display().to_string(), source }
}

fn is_missing(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

/// Opens the object's file; a missing file, a folder or a path through a file is `NotFound`.
fn open_object(path: &ObjectPath, file: &Path) -> Result<File, StoreError> {
    let f = File::open(file).map_err(|e| {
        if is_missing(&e) || e.kind() == io::ErrorKind::IsADirectory {
            StoreError::NotFound { path: path.uri() }
        } else {
            StoreError::Io { path: file.display().to_string(), source: e }
        }
    })?;
    let meta = f.metadata().map_err(io_error(file))?;
    if meta.is_file() { Ok(f) } else { Err(StoreError::NotFound { path: path.uri() }) }
}

// ---------------------------------------------------------------------------------------------
// ETags

/// 128-bit FNV-1a, streaming.
#[derive(Clone, Copy)]
pub(crate) struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    pub(crate) fn new() -> Self {
        Self(Self::OFFSET)
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u128::from(b);
            h = h.wrapping_mul(Self::PRIME);
        }
        self.0 = h;
    }

    pub(crate) fn hex(self) -> String {
        format!("{:032x}", self.0)
    }
}

/// The local ETag of `bytes`: 128-bit FNV-1a as 32 lowercase hex digits.
pub fn etag_of(bytes: &[u8]) -> String {
    let mut h = Fnv128::new();
    h.update(bytes);
    h.hex()
}

/// Identity of one version of a file, for the ETag cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified_ns: i128,
    dev: u64,
    ino: u64,
    ctime_ns: i128,
}

fn mtime_ns(meta: &Metadata) -> i128 {
    match meta.modified() {
        Ok(t) => match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_nanos() as i128,
            Err(e) => -(e.duration().as_nanos() as i128),
        },
        Err(_) => 0,
    }
}

#[cfg(unix)]
fn stamp(meta: &Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    Stamp {
        len: meta.len(),
        modified_ns: mtime_ns(meta),
        dev: meta.dev(),
        ino: meta.ino(),
        ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
    }
}

#[cfg(not(unix))]
fn stamp(meta: &Metadata) -> Stamp {
    Stamp { len: meta.len(), modified_ns: mtime_ns(meta), dev: 0, ino: 0, ctime_ns: 0 }
}

fn hash_file(f: &mut File) -> io::Result<String> {
    f.seek(SeekFrom::Start(0))?;
    let mut h = Fnv128::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(buf.get(..n).unwrap_or_default());
    }
    Ok(h.hex())
}

// ---------------------------------------------------------------------------------------------
// Operations (blocking)

impl Inner {
    fn cached_etag(&self, file: &Path, stamp: &Stamp) -> Option<String> {
        let cache = self.etags.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(file).filter(|(s, _)| s == stamp).map(|(_, etag)| etag.clone())
    }

    fn remember_etag(&self, file: &Path, stamp: Stamp, etag: String) {
        let mut cache = self.etags.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= ETAG_CACHE_CAPACITY && !cache.contains_key(file) {
            cache.clear();
        }
        cache.insert(file.to_path_buf(), (stamp, etag));
    }

    /// Metadata and ETag of the open file `f`. When `whole` is given the bytes are read into it
    /// (and hashed on the way when the ETag is not cached), so a full get reads the file once.
    fn describe(
        &self,
        path: &ObjectPath,
        file: &Path,
        f: &mut File,
        whole: Option<&mut Vec<u8>>,
    ) -> Result<(ObjectMeta, Metadata), StoreError> {
        let meta = f.metadata().map_err(io_error(file))?;
        let st = stamp(&meta);
        let etag = match (self.cached_etag(file, &st), whole) {
            (Some(etag), Some(buf)) => {
                read_all(f, buf).map_err(io_error(file))?;
                etag
            }
            (Some(etag), None) => etag,
            (None, Some(buf)) => {
                read_all(f, buf).map_err(io_error(file))?;
                let etag = etag_of(buf);
                self.remember_etag(file, st, etag.clone());
                etag
            }
            (None, None) => {
                let etag = hash_file(f).map_err(io_error(file))?;
                self.remember_etag(file, st, etag.clone());
                etag
            }
        };
        let object = ObjectMeta {
            path: path.clone(),
            size: meta.len(),
            etag,
            last_modified_ms: (mtime_ns(&meta) / 1_000_000) as i64,
        };
        Ok((object, meta))
    }

    fn get(
        &self,
        path: &ObjectPath,
        file: &Path,
        range: Option<Range<u64>>,
    ) -> Result<GetResult, StoreError> {
        let mut f = open_object(path, file)?;
        let Some(range) = range else {
            let mut bytes = Vec::new();
            let (meta, _) = self.describe(path, file, &mut f, Some(&mut bytes))?;
            return Ok(GetResult { meta, bytes });
        };
        let (meta, _) = self.describe(path, file, &mut f, None)?;
        let size = meta.size;
        if range.start >= range.end || range.start >= size {
            return Err(StoreError::Other {
                path: path.uri(),
                message: format!(
                    "invalid range {}..{} for an object of {size} bytes (S3: 416 InvalidRange)",
                    range.start, range.end
                ),
            });
        }
        let end = range.end.min(size);
        let len = usize::try_from(end - range.start).map_err(|_| StoreError::Other {
            path: path.uri(),
            message: "range too large for this machine".into(),
        })?;
        let mut bytes = vec![0u8; len];
        f.seek(SeekFrom::Start(range.start)).map_err(io_error(file))?;
        f.read_exact(&mut bytes).map_err(io_error(file))?;
        Ok(GetResult { meta, bytes })
    }

    /// Takes the exclusive cross-process lock for `path`'s stripe; released when the file drops.
    fn lock(&self, path: &ObjectPath) -> Result<File, StoreError> {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in path.bucket().bytes().chain([0u8]).chain(path.key().bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let dir = self.root.join(LOCK_DIR);
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let file = dir.join(format!("{:02x}.lock", h % LOCK_STRIPES));
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&file)
            .map_err(io_error(&file))?;
        f.lock().map_err(io_error(&file))?;
        Ok(f)
    }

    fn put(
        &self,
        path: &ObjectPath,
        file: &Path,
        bytes: &[u8],
        mode: &PutMode,
    ) -> Result<PutResult, StoreError> {
        let etag = etag_of(bytes);
        let bucket = bucket_dir(&self.root, path.bucket());
        let dir = file.parent().unwrap_or(&bucket).to_path_buf();

        // 1. The new content, durable, in a temporary file beside the target.
        let mut attempt = 0;
        let (temp_path, mut temp) = loop {
            ensure_dir(path, &bucket, &dir)?;
            match create_temp(&dir) {
                Ok(t) => break t,
                Err(e) if is_missing(&e) && attempt + 1 < DIR_RACE_RETRIES => attempt += 1,
                Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
                    return Err(shape_conflict(path));
                }
                Err(e) => {
                    return Err(StoreError::Io { path: dir.display().to_string(), source: e });
                }
            }
        };
        let temp_guard = TempGuard(temp_path.clone());
        temp.write_all(bytes).map_err(io_error(&temp_path))?;
        temp.sync_all().map_err(io_error(&temp_path))?;

        // 2. Under the lock: check the precondition and move the file into place.
        let lock = self.lock(path)?;
        match mode {
            PutMode::Overwrite => replace(path, &temp_path, file)?,
            PutMode::CreateOnly => match fs::hard_link(&temp_path, file) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(if fs::metadata(file).is_ok_and(|m| m.is_dir()) {
                        shape_conflict(path)
                    } else {
                        StoreError::AlreadyExists { path: path.uri() }
                    });
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
                    ) =>
                {
                    // No hard links on this file system: the lock alone makes this exclusive
                    // among Groundwork processes.
                    if fs::symlink_metadata(file).is_ok() {
                        return Err(StoreError::AlreadyExists { path: path.uri() });
                    }
                    replace(path, &temp_path, file)?;
                }
                Err(e) => {
                    return Err(StoreError::Io { path: file.display().to_string(), source: e });
                }
            },
            PutMode::UpdateIfMatch(expected) => {
                let mut current = open_object(path, file)?;
                let meta = current.metadata().map_err(io_error(file))?;
                let current_etag = hash_file(&mut current).map_err(io_error(file))?;
                self.remember_etag(file, stamp(&meta), current_etag.clone());
                if current_etag != *expected {
                    return Err(StoreError::PreconditionFailed { path: path.uri() });
                }
                replace(path, &temp_path, file)?;
            }
        }
        // After a hard link the temporary name still exists: remove it (best effort; a leftover
        // temporary file is invisible). After a rename this finds nothing.
        drop(temp_guard);
        sync_dir(&dir)?;
        drop(lock);

        // Our inode's identity now (fstat of our own handle: immune to later replacements).
        if let Ok(meta) = temp.metadata() {
            self.remember_etag(file, stamp(&meta), etag.clone());
        }
        Ok(PutResult { etag })
    }

    fn delete(&self, path: &ObjectPath, file: &Path) -> Result<(), StoreError> {
        let bucket = bucket_dir(&self.root, path.bucket());
        let lock = self.lock(path)?;
        match fs::remove_file(file) {
            Ok(()) => {}
            Err(e) if is_missing(&e) || e.kind() == io::ErrorKind::IsADirectory => return Ok(()),
            // Some platforms answer EPERM when unlinking a folder.
            Err(_) if fs::metadata(file).is_ok_and(|m| m.is_dir()) => return Ok(()),
            Err(e) => return Err(StoreError::Io { path: file.display().to_string(), source: e }),
        }
        let mut dir = file.parent().map(Path::to_path_buf);
        if let Some(d) = &dir {
            sync_dir(d)?;
        }
        drop(lock);
        // Remove folders the delete emptied; stop at the first that still holds something.
        while let Some(d) = dir {
            if d == bucket || !d.starts_with(&bucket) || fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        Ok(())
    }

    fn list(
        &self,
        prefix: &ObjectPath,
        after: Option<&str>,
        max_keys: usize,
    ) -> Result<ListPage, StoreError> {
        let max_keys = max_keys.max(1);
        let key_prefix = prefix.key();
        // Start at the deepest folder the prefix names completely.
        let dir_key = match key_prefix.rfind('/') {
            Some(i) => key_prefix.get(..=i).unwrap_or_default(),
            None => "",
        };
        let mut dir = bucket_dir(&self.root, prefix.bucket());
        for segment in dir_key.split('/').filter(|s| !s.is_empty()) {
            dir.push(segment);
        }
        let mut found = Vec::new();
        let mut walk = Walk {
            prefix: key_prefix,
            after,
            limit: max_keys.saturating_add(1),
            found: &mut found,
            ancestors: Vec::new(),
        };
        walk.visit(&dir, dir_key)?;

        let truncated = found.len() > max_keys;
        found.truncate(max_keys);
        let mut objects = Vec::with_capacity(found.len());
        for (key, file) in found {
            let object = ObjectPath::new(prefix.bucket(), key)?;
            // A file may vanish between the directory scan and now: then it is not listed.
            let mut f = match open_object(&object, &file) {
                Ok(f) => f,
                Err(StoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            objects.push(self.describe(&object, &file, &mut f, None)?.0);
        }
        let next = if truncated { objects.last().map(|o| o.path.key().to_owned()) } else { None };
        Ok(ListPage { objects, next })
    }
}

/// A depth-first walk that yields keys in lexicographic order: inside a folder, entries are sorted
/// by their key contribution (`name` for a file, `name/` for a folder), which orders whole keys.
struct Walk<'a> {
    prefix: &'a str,
    after: Option<&'a str>,
    limit: usize,
    found: &'a mut Vec<(String, PathBuf)>,
    /// Identities of the folders being walked, so a symlink loop is not followed.
    ancestors: Vec<(u64, u64)>,
}

#[cfg(unix)]
fn dir_identity(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn dir_identity(_dir: &Path) -> Option<(u64, u64)> {
    None
}

impl Walk<'_> {
    fn visit(&mut self, dir: &Path, dir_key: &str) -> Result<(), StoreError> {
        let identity = dir_identity(dir);
        if let Some(id) = identity {
            if self.ancestors.contains(&id) {
                tracing::warn!(path = %dir.display(), "not following a folder link that loops");
                return Ok(());
            }
            self.ancestors.push(id);
        }
        let result = self.visit_entries(dir, dir_key);
        if identity.is_some() {
            self.ancestors.pop();
        }
        result
    }

    fn visit_entries(&mut self, dir: &Path, dir_key: &str) -> Result<(), StoreError> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) => return Ok(()),
            Err(e) => return Err(StoreError::Io { path: dir.display().to_string(), source: e }),
        };
        let mut children: Vec<(String, bool, PathBuf)> = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) if is_missing(&e) => continue,
                Err(e) => {
                    return Err(StoreError::Io { path: dir.display().to_string(), source: e });
                }
            };
            let Ok(name) = entry.file_name().into_string() else {
                tracing::warn!(path = %entry.path().display(), "skipping a file whose name is not UTF-8");
                continue;
            };
            if name.starts_with(RESERVED_NAME_PREFIX) {
                continue;
            }
            let path = entry.path();
            let is_dir = match entry.file_type() {
                Ok(t) if t.is_symlink() => match fs::metadata(&path) {
                    Ok(m) if m.is_dir() => true,
                    Ok(m) if m.is_file() => false,
                    _ => continue,
                },
                Ok(t) if t.is_dir() => true,
                Ok(t) if t.is_file() => false,
                _ => continue,
            };
            let contribution = if is_dir { format!("{name}/") } else { name };
            children.push((contribution, is_dir, path));
        }
        children.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

        for (contribution, is_dir, path) in children {
            let key = format!("{dir_key}{contribution}");
            if key.len() > MAX_KEY_BYTES {
                continue;
            }
            if is_dir {
                // Every key below starts with `key` (which ends in '/').
                if !(key.starts_with(self.prefix) || self.prefix.starts_with(&key)) {
                    continue;
                }
                if self.after.is_some_and(|a| key.as_str() < a && !a.starts_with(&key)) {
                    continue;
                }
                self.visit(&path, &key)?;
            } else {
                if !key.starts_with(self.prefix) || self.after.is_some_and(|a| key.as_str() <= a) {
                    continue;
                }
                if key.contains('\\') {
                    tracing::warn!(path = %path.display(), "skipping a file whose name is not a valid key");
                    continue;
                }
                self.found.push((key, path));
            }
            if self.found.len() >= self.limit {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Removes the temporary file name when dropped (on every return path).
struct TempGuard(PathBuf);

impl Drop for TempGuard {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn shape_conflict(path: &ObjectPath) -> StoreError {
    StoreError::Other {
        path: path.uri(),
        message: "a local workspace cannot hold an object and a prefix of the same name \
                  (an object's key is a folder here, or a folder of the key is an object)"
            .into(),
    }
}

fn replace(path: &ObjectPath, temp: &Path, file: &Path) -> Result<(), StoreError> {
    fs::rename(temp, file).map_err(|e| {
        if fs::metadata(file).is_ok_and(|m| m.is_dir()) {
            shape_conflict(path)
        } else {
            StoreError::Io { path: file.display().to_string(), source: e }
        }
    })
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn create_temp(dir: &Path) -> io::Result<(PathBuf, File)> {
    loop {
        let name = format!(
            "{RESERVED_NAME_PREFIX}-tmp-{}-{}-{:016x}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed),
            fastrand::u64(..)
        );
        let path = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Creates `dir` (inside `bucket`, which is created too) and fsyncs the parent of every folder it
/// creates, so a crash cannot lose a folder that a durable file lives in.
fn ensure_dir(path: &ObjectPath, bucket: &Path, dir: &Path) -> Result<(), StoreError> {
    let mut missing = Vec::new();
    let mut cur = dir;
    loop {
        match fs::metadata(cur) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => return Err(shape_conflict(path)),
            Err(e) if is_missing(&e) => {
                missing.push(cur.to_path_buf());
                if cur == bucket {
                    if let Some(root) = cur.parent() {
                        fs::create_dir_all(root).map_err(io_error(root))?;
                    }
                    break;
                }
                match cur.parent() {
                    Some(parent) => cur = parent,
                    None => break,
                }
            }
            Err(e) => return Err(StoreError::Io { path: cur.display().to_string(), source: e }),
        }
    }
    for d in missing.iter().rev() {
        match fs::create_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if !d.is_dir() {
                    return Err(shape_conflict(path));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Err(shape_conflict(path)),
            Err(e) => return Err(StoreError::Io { path: d.display().to_string(), source: e }),
        }
        if let Some(parent) = d.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// Makes a folder's entries durable (a no-op where folders cannot be opened, e.g. Windows).
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        match File::open(dir) {
            Ok(d) => d.sync_all().map_err(io_error(dir))?,
            // Removed meanwhile by a concurrent delete: nothing left to make durable.
            Err(e) if is_missing(&e) => {}
            Err(e) => return Err(StoreError::Io { path: dir.display().to_string(), source: e }),
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn read_all(f: &mut File, buf: &mut Vec<u8>) -> io::Result<()> {
    f.seek(SeekFrom::Start(0))?;
    buf.clear();
    f.read_to_end(buf)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn fnv128_known_values() {
        // Reference values of 128-bit FNV-1a.
        assert_eq!(etag_of(b""), "6c62272e07bb014262b821756295c58d");
        assert_eq!(etag_of(b"a"), "d228cb696f1a8caf78912b704e4a8964");
        let mut h = Fnv128::new();
        h.update(b"hello ");
        h.update(b"world");
        assert_eq!(h.hex(), etag_of(b"hello world"));
        assert_ne!(etag_of(b"ab"), etag_of(b"ba"));
    }

    #[test]
    fn resolves_addresses_under_the_root() {
        let store = LocalStore::new("/srv/ws").unwrap();
        let p = ObjectPath::parse("s3://my-bucket/a/b.json").unwrap();
        assert_eq!(store.file_path(&p).unwrap(), PathBuf::from("/srv/ws/my-bucket/a/b.json"));
        let c = ObjectPath::new(LOCAL_CATALOG_BUCKET, "jobs/j/job.json").unwrap();
        assert_eq!(
            store.file_path(&c).unwrap(),
            PathBuf::from("/srv/ws/.groundwork/jobs/j/job.json")
        );
        for bad in ["s3://my-bucket/a/", "s3://my-bucket/", "s3://my-bucket/a/.~gw-tmp-1"] {
            let err = store.file_path(&ObjectPath::parse(bad).unwrap()).unwrap_err();
            assert!(matches!(err, StoreError::InvalidPath { .. }), "{bad}: {err}");
        }
    }
}
