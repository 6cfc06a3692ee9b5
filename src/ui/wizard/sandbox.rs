//! The preview sandbox: an [`OverlayStore`] that reads through to a real store and keeps every
//! write (and delete) in memory, so the wizard can run the whole create flow — label file, worker
//! template, sampled manifest, `job.json`, even claims by a task view — against the real input
//! data while writing nothing to the real store.
//!
//! Owns the overlay semantics only; it is a plain [`ObjectStore`] and passes the store
//! conformance suite. Must not depend on `app` or `cli`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::store::catalog::list_all;
use crate::store::memory::MemoryStore;
use crate::store::{
    BoxFuture, GetResult, ListPage, ObjectMeta, ObjectPath, ObjectStore, PutMode, PutOptions,
    PutResult, StoreError,
};

/// ETags of objects written into the overlay carry this mark, so that an overlay ETag can never
/// be mistaken for a base ETag (the two stores number their versions independently).
const OVERLAY_ETAG_MARK: &str = "sandbox-";

/// A copy-on-write view of `base`: reads see the overlay first, then the base; writes and deletes
/// go to the overlay only. The base is never written.
#[derive(Debug)]
pub struct OverlayStore {
    base: Arc<dyn ObjectStore>,
    overlay: MemoryStore,
    /// Objects deleted through the overlay (hidden even when the base has them).
    deleted: Mutex<BTreeSet<ObjectPath>>,
    /// Serialises check-then-write sequences so conditional puts stay atomic.
    write_lock: tokio::sync::Mutex<()>,
}

fn bare(etag: &str) -> &str {
    etag.trim_matches('"')
}

fn mark_etag(etag: &str) -> String {
    format!("\"{OVERLAY_ETAG_MARK}{}\"", bare(etag))
}

fn mark_meta(mut meta: ObjectMeta) -> ObjectMeta {
    meta.etag = mark_etag(&meta.etag);
    meta
}

impl OverlayStore {
    /// An empty overlay over `base`.
    pub fn new(base: Arc<dyn ObjectStore>) -> Self {
        Self {
            base,
            overlay: MemoryStore::new(),
            deleted: Mutex::new(BTreeSet::new()),
            write_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The objects written into the overlay (what a real run would have written), sorted.
    pub fn written(&self) -> Vec<ObjectPath> {
        self.overlay.paths()
    }

    fn deleted(&self) -> MutexGuard<'_, BTreeSet<ObjectPath>> {
        // Each operation on the set is a single insert/remove/lookup: a poisoned lock is consistent.
        self.deleted.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_deleted(&self, path: &ObjectPath) -> bool {
        self.deleted().contains(path)
    }

    async fn head_inner(&self, path: &ObjectPath) -> Result<ObjectMeta, StoreError> {
        match self.overlay.head(path).await {
            Ok(meta) => return Ok(mark_meta(meta)),
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        if self.is_deleted(path) {
            return Err(StoreError::NotFound { path: path.uri() });
        }
        self.base.head(path).await
    }

    async fn get_inner(
        &self,
        path: &ObjectPath,
        range: Option<Range<u64>>,
    ) -> Result<GetResult, StoreError> {
        // The in-memory overlay accepts an empty range; S3 (and the conformance suite) do not.
        if let Some(range) = &range
            && range.start >= range.end
        {
            self.head_inner(path).await?;
            return Err(StoreError::Other {
                path: path.uri(),
                message: format!("invalid byte range {}..{}", range.start, range.end),
            });
        }
        match self.overlay.get(path, range.clone()).await {
            Ok(mut got) => {
                got.meta = mark_meta(got.meta);
                return Ok(got);
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        if self.is_deleted(path) {
            return Err(StoreError::NotFound { path: path.uri() });
        }
        self.base.get(path, range).await
    }

    async fn put_inner(
        &self,
        path: &ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> Result<PutResult, StoreError> {
        let _guard = self.write_lock.lock().await;
        let current = match self.head_inner(path).await {
            Ok(meta) => Some(meta),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        match (&options.mode, &current) {
            (PutMode::Overwrite, _) | (PutMode::CreateOnly, None) => {}
            (PutMode::CreateOnly, Some(_)) => {
                return Err(StoreError::AlreadyExists { path: path.uri() });
            }
            (PutMode::UpdateIfMatch(_), None) => {
                return Err(StoreError::NotFound { path: path.uri() });
            }
            (PutMode::UpdateIfMatch(expected), Some(meta)) => {
                if bare(expected) != bare(&meta.etag) {
                    return Err(StoreError::PreconditionFailed { path: path.uri() });
                }
            }
        }
        let options = PutOptions { mode: PutMode::Overwrite, ..options };
        let written = self.overlay.put(path, bytes, options).await?;
        self.deleted().remove(path);
        Ok(PutResult { etag: mark_etag(&written.etag) })
    }

    async fn list_inner(
        &self,
        prefix: &ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> Result<ListPage, StoreError> {
        let max_keys = max_keys.max(1);
        let mut merged: BTreeMap<String, ObjectMeta> = BTreeMap::new();
        {
            let base = list_all(self.base.as_ref(), prefix).await?;
            let deleted = self.deleted();
            for meta in base {
                if !deleted.contains(&meta.path) {
                    merged.insert(meta.path.key().to_owned(), meta);
                }
            }
        }
        for meta in list_all(&self.overlay, prefix).await? {
            merged.insert(meta.path.key().to_owned(), mark_meta(meta));
        }
        let mut rest = merged
            .into_iter()
            .filter(|(key, _)| continuation.as_deref().is_none_or(|after| key.as_str() > after));
        let mut page = ListPage::default();
        page.objects.extend(rest.by_ref().take(max_keys).map(|(_, meta)| meta));
        if rest.next().is_some() {
            page.next = page.objects.last().map(|meta| meta.path.key().to_owned());
        }
        Ok(page)
    }

    async fn delete_inner(&self, path: &ObjectPath) -> Result<(), StoreError> {
        let _guard = self.write_lock.lock().await;
        self.overlay.delete(path).await?;
        self.deleted().insert(path.clone());
        Ok(())
    }
}

impl ObjectStore for OverlayStore {
    fn get<'a>(
        &'a self,
        path: &'a ObjectPath,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<GetResult, StoreError>> {
        Box::pin(self.get_inner(path, range))
    }

    fn head<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<ObjectMeta, StoreError>> {
        Box::pin(self.head_inner(path))
    }

    fn put<'a>(
        &'a self,
        path: &'a ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> BoxFuture<'a, Result<PutResult, StoreError>> {
        Box::pin(self.put_inner(path, bytes, options))
    }

    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        Box::pin(self.list_inner(prefix, continuation, max_keys))
    }

    fn delete<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.delete_inner(path))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn path(key: &str) -> ObjectPath {
        ObjectPath::new("sandbox-test", key).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passes_the_store_conformance_suite_over_a_populated_base() {
        let base = Arc::new(MemoryStore::new());
        base.put(&path("keep/a.txt"), b"a".to_vec(), PutOptions::default()).await.unwrap();
        let overlay = OverlayStore::new(base.clone());
        crate::store::conformance::run_all(&overlay, "sandbox-test").await;
        // The base saw none of it.
        assert_eq!(base.paths(), vec![path("keep/a.txt")]);
    }

    #[tokio::test]
    async fn reads_through_and_never_writes_the_base() {
        let base = Arc::new(MemoryStore::new());
        base.put(&path("x"), b"base".to_vec(), PutOptions::default()).await.unwrap();
        base.put(&path("y"), b"base-y".to_vec(), PutOptions::default()).await.unwrap();
        let overlay = OverlayStore::new(base.clone());
        assert_eq!(overlay.get(&path("x"), None).await.unwrap().bytes, b"base");
        // Create-only sees base objects.
        let create = PutOptions::with_mode(PutMode::CreateOnly);
        assert!(matches!(
            overlay.put(&path("x"), b"new".to_vec(), create.clone()).await,
            Err(StoreError::AlreadyExists { .. })
        ));
        // Update-if-match against the base's ETag works, and lands in the overlay.
        let etag = overlay.head(&path("x")).await.unwrap().etag;
        let update = PutOptions::with_mode(PutMode::UpdateIfMatch(etag.clone()));
        overlay.put(&path("x"), b"changed".to_vec(), update.clone()).await.unwrap();
        assert_eq!(overlay.get(&path("x"), None).await.unwrap().bytes, b"changed");
        // The stale base ETag no longer matches.
        assert!(matches!(
            overlay.put(&path("x"), b"again".to_vec(), update).await,
            Err(StoreError::PreconditionFailed { .. })
        ));
        // Deleting hides a base object; listing agrees.
        overlay.delete(&path("y")).await.unwrap();
        assert!(matches!(overlay.head(&path("y")).await, Err(StoreError::NotFound { .. })));
        let listed: Vec<_> = list_all(&overlay, &path("")).await.unwrap();
        assert_eq!(listed.iter().map(|m| m.path.key()).collect::<Vec<_>>(), ["x"]);
        // The base is untouched.
        assert_eq!(base.get(&path("x"), None).await.unwrap().bytes, b"base");
        assert_eq!(base.get(&path("y"), None).await.unwrap().bytes, b"base-y");
        assert_eq!(overlay.written(), vec![path("x")]);
    }
}
