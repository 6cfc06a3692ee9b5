//! An object store held in memory, with exactly the [`ObjectStore`] semantics of the real backends:
//! conditional puts decided atomically under one lock, an ETag that changes on every write, sorted
//! paginated listings and ranged gets. The job wizard's preview sandbox runs on it so a preview
//! writes nothing to the real store; tests run the coordination protocol on it.
//!
//! Also [`FlakyStore`], a wrapper that injects failures (the next N calls fail, responses get
//! lost after the write happened, or the whole store goes offline) around any store.
//!
//! Must not depend on anything above `store` (`render`, `ui`, `app`, `cli`).

use std::collections::BTreeMap;
use std::ops::{Bound, Range};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::clock::{Clock, SystemClock};
use super::{
    BoxFuture, GetResult, ListPage, ObjectMeta, ObjectPath, ObjectStore, PutMode, PutOptions,
    PutResult, StoreError,
};

/// One stored object.
#[derive(Debug, Clone)]
struct Entry {
    bytes: Arc<Vec<u8>>,
    etag: String,
    last_modified_ms: i64,
    content_type: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    /// bucket → key → object. Sorted, so listings come out in key order.
    buckets: BTreeMap<String, BTreeMap<String, Entry>>,
    /// Bumped on every write; the ETag of the write.
    generation: u64,
}

/// An object store in memory. Cheap to share (`Arc<MemoryStore>`); every operation takes one lock
/// for a few map operations, so conditional writes are linearisable.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

/// The ETag without the surrounding quotes S3 puts on it, so `"abc"` and `abc` compare equal.
fn bare_etag(etag: &str) -> &str {
    etag.trim_matches('"')
}

impl MemoryStore {
    /// An empty store whose objects are stamped with the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store whose objects are stamped with `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self { state: Mutex::new(State::default()), clock }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated (each operation is a
        // single insert or remove), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many objects the store holds, over all buckets.
    pub fn object_count(&self) -> usize {
        self.lock().buckets.values().map(BTreeMap::len).sum()
    }

    /// Every object's address, sorted by bucket then key.
    pub fn paths(&self) -> Vec<ObjectPath> {
        let state = self.lock();
        state
            .buckets
            .iter()
            .flat_map(|(bucket, objects)| {
                objects.keys().filter_map(|key| ObjectPath::new(bucket.clone(), key.clone()).ok())
            })
            .collect()
    }

    /// The MIME type recorded with an object, if any.
    pub fn content_type(&self, path: &ObjectPath) -> Option<String> {
        self.lock()
            .buckets
            .get(path.bucket())
            .and_then(|objects| objects.get(path.key()))
            .and_then(|entry| entry.content_type.clone())
    }

    fn meta(path: &ObjectPath, entry: &Entry) -> ObjectMeta {
        ObjectMeta {
            path: path.clone(),
            size: entry.bytes.len() as u64,
            etag: entry.etag.clone(),
            last_modified_ms: entry.last_modified_ms,
        }
    }

    fn get_now(
        &self,
        path: &ObjectPath,
        range: Option<Range<u64>>,
    ) -> Result<GetResult, StoreError> {
        let entry = {
            let state = self.lock();
            state
                .buckets
                .get(path.bucket())
                .and_then(|objects| objects.get(path.key()))
                .cloned()
                .ok_or_else(|| StoreError::NotFound { path: path.uri() })?
        };
        let meta = Self::meta(path, &entry);
        let bytes = match range {
            None => entry.bytes.as_ref().clone(),
            Some(range) => {
                let size = meta.size;
                // Same rules as every backend (store::conformance): an empty range, or one
                // starting at or past the end, is invalid; an end past the object is clamped.
                if range.start >= range.end {
                    return Err(StoreError::Other {
                        path: path.uri(),
                        message: format!("invalid byte range {}..{}", range.start, range.end),
                    });
                }
                if range.start >= size {
                    return Err(StoreError::Other {
                        path: path.uri(),
                        message: format!(
                            "byte range {}..{} not satisfiable: the object has {size} bytes",
                            range.start, range.end
                        ),
                    });
                }
                let end = range.end.min(size);
                // Both bounds are ≤ size, which came from a Vec length, so they fit in usize.
                let (start, end) = (range.start as usize, end as usize);
                entry.bytes.get(start..end).map(<[u8]>::to_vec).unwrap_or_default()
            }
        };
        Ok(GetResult { meta, bytes })
    }

    fn head_now(&self, path: &ObjectPath) -> Result<ObjectMeta, StoreError> {
        let state = self.lock();
        state
            .buckets
            .get(path.bucket())
            .and_then(|objects| objects.get(path.key()))
            .map(|entry| Self::meta(path, entry))
            .ok_or_else(|| StoreError::NotFound { path: path.uri() })
    }

    fn put_now(
        &self,
        path: &ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> Result<PutResult, StoreError> {
        if path.key().is_empty() || path.key().ends_with('/') {
            return Err(StoreError::InvalidPath {
                path: path.uri(),
                reason: "an object key must name an object, not a prefix".into(),
            });
        }
        let now_ms = self.clock.now_ms();
        let mut state = self.lock();
        let existing = state.buckets.get(path.bucket()).and_then(|objects| objects.get(path.key()));
        match (&options.mode, existing) {
            (PutMode::Overwrite, _) | (PutMode::CreateOnly, None) => {}
            (PutMode::CreateOnly, Some(_)) => {
                return Err(StoreError::AlreadyExists { path: path.uri() });
            }
            (PutMode::UpdateIfMatch(_), None) => {
                return Err(StoreError::NotFound { path: path.uri() });
            }
            (PutMode::UpdateIfMatch(expected), Some(entry)) => {
                if bare_etag(expected) != bare_etag(&entry.etag) {
                    return Err(StoreError::PreconditionFailed { path: path.uri() });
                }
            }
        }
        state.generation += 1;
        let etag = format!("\"{:016x}\"", state.generation);
        let entry = Entry {
            bytes: Arc::new(bytes),
            etag: etag.clone(),
            last_modified_ms: now_ms,
            content_type: options.content_type,
        };
        state
            .buckets
            .entry(path.bucket().to_owned())
            .or_default()
            .insert(path.key().to_owned(), entry);
        Ok(PutResult { etag })
    }

    fn list_now(
        &self,
        prefix: &ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> Result<ListPage, StoreError> {
        let max_keys = max_keys.max(1);
        let state = self.lock();
        let Some(objects) = state.buckets.get(prefix.bucket()) else {
            return Ok(ListPage::default());
        };
        // Start at the prefix, or just after the last key of the previous page, whichever is later.
        let start = match &continuation {
            Some(after) if after.as_str() >= prefix.key() => Bound::Excluded(after.clone()),
            _ => Bound::Included(prefix.key().to_owned()),
        };
        let mut matching = objects
            .range::<String, _>((start, Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix.key()));
        let mut page = ListPage::default();
        for (key, entry) in matching.by_ref().take(max_keys) {
            let path = ObjectPath::new(prefix.bucket(), key.clone())?;
            page.objects.push(Self::meta(&path, entry));
        }
        if matching.next().is_some() {
            page.next = page.objects.last().map(|meta| meta.path.key().to_owned());
        }
        Ok(page)
    }

    fn delete_now(&self, path: &ObjectPath) -> Result<(), StoreError> {
        let mut state = self.lock();
        if let Some(objects) = state.buckets.get_mut(path.bucket()) {
            objects.remove(path.key());
            if objects.is_empty() {
                state.buckets.remove(path.bucket());
            }
        }
        Ok(())
    }
}

impl ObjectStore for MemoryStore {
    fn get<'a>(
        &'a self,
        path: &'a ObjectPath,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<GetResult, StoreError>> {
        Box::pin(async move { self.get_now(path, range) })
    }

    fn head<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<ObjectMeta, StoreError>> {
        Box::pin(async move { self.head_now(path) })
    }

    fn put<'a>(
        &'a self,
        path: &'a ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> BoxFuture<'a, Result<PutResult, StoreError>> {
        Box::pin(async move { self.put_now(path, bytes, options) })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        Box::pin(async move { self.list_now(prefix, continuation, max_keys) })
    }

    fn delete<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.delete_now(path) })
    }
}

/// A store wrapper that injects failures, for tests of retry, offline work and crash recovery.
///
/// Every failure it injects is [`StoreError::Transient`], the error a real network produces.
#[derive(Debug)]
pub struct FlakyStore<S> {
    inner: S,
    offline: AtomicBool,
    fail_next: AtomicU32,
    lose_next: AtomicU32,
    calls: AtomicU64,
    injected: AtomicU64,
    puts: AtomicU64,
    offline_at_put: AtomicU64,
}

/// Takes one from `counter` if it is positive; true when it did.
fn take_one(counter: &AtomicU32) -> bool {
    counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
}

impl<S: ObjectStore> FlakyStore<S> {
    /// Wraps `inner`; no failures until asked.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            offline: AtomicBool::new(false),
            fail_next: AtomicU32::new(0),
            lose_next: AtomicU32::new(0),
            calls: AtomicU64::new(0),
            injected: AtomicU64::new(0),
            puts: AtomicU64::new(0),
            offline_at_put: AtomicU64::new(0),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// While `offline`, every call fails without reaching the wrapped store.
    pub fn set_offline(&self, offline: bool) {
        self.offline.store(offline, Ordering::SeqCst);
    }

    /// The store goes offline by itself at the `n`-th put from now (that put fails): an outage
    /// that lands in the middle of the traffic however fast or slow the callers are. 0 disarms.
    pub fn offline_at_put(&self, n: u64) {
        let at = if n == 0 { 0 } else { self.puts.load(Ordering::SeqCst) + n };
        self.offline_at_put.store(at, Ordering::SeqCst);
    }

    /// True while offline.
    pub fn is_offline(&self) -> bool {
        self.offline.load(Ordering::SeqCst)
    }

    /// The next `n` calls fail without reaching the wrapped store.
    pub fn fail_next(&self, n: u32) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// The next `n` puts reach the wrapped store and are written, but their answer is lost on
    /// the way back and the caller sees a transient failure: a connection cut after the write.
    pub fn lose_next_put_answers(&self, n: u32) {
        self.lose_next.store(n, Ordering::SeqCst);
    }

    /// How many calls were made through this wrapper.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// How many calls failed by injection.
    pub fn injected_failures(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    fn before(&self, path: &ObjectPath) -> Result<(), StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let message = if self.is_offline() {
            "store unreachable (simulated offline)"
        } else if take_one(&self.fail_next) {
            "injected failure"
        } else {
            return Ok(());
        };
        self.injected.fetch_add(1, Ordering::SeqCst);
        Err(StoreError::Transient { path: path.uri(), message: message.into() })
    }

    fn after_put<T>(
        &self,
        path: &ObjectPath,
        result: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if take_one(&self.lose_next) {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::Transient {
                path: path.uri(),
                message: "connection lost before the answer arrived (injected)".into(),
            });
        }
        result
    }
}

impl<S: ObjectStore> ObjectStore for FlakyStore<S> {
    fn get<'a>(
        &'a self,
        path: &'a ObjectPath,
        range: Option<Range<u64>>,
    ) -> BoxFuture<'a, Result<GetResult, StoreError>> {
        Box::pin(async move {
            self.before(path)?;
            self.inner.get(path, range).await
        })
    }

    fn head<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<ObjectMeta, StoreError>> {
        Box::pin(async move {
            self.before(path)?;
            self.inner.head(path).await
        })
    }

    fn put<'a>(
        &'a self,
        path: &'a ObjectPath,
        bytes: Vec<u8>,
        options: PutOptions,
    ) -> BoxFuture<'a, Result<PutResult, StoreError>> {
        Box::pin(async move {
            let put = self.puts.fetch_add(1, Ordering::SeqCst) + 1;
            let at = self.offline_at_put.load(Ordering::SeqCst);
            if at != 0 && put >= at {
                self.offline_at_put.store(0, Ordering::SeqCst);
                self.set_offline(true);
            }
            self.before(path)?;
            let result = self.inner.put(path, bytes, options).await;
            self.after_put(path, result)
        })
    }

    fn list<'a>(
        &'a self,
        prefix: &'a ObjectPath,
        continuation: Option<String>,
        max_keys: usize,
    ) -> BoxFuture<'a, Result<ListPage, StoreError>> {
        Box::pin(async move {
            self.before(prefix)?;
            self.inner.list(prefix, continuation, max_keys).await
        })
    }

    fn delete<'a>(&'a self, path: &'a ObjectPath) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.before(path)?;
            self.inner.delete(path).await
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::store::clock::ManualClock;

    fn p(key: &str) -> ObjectPath {
        ObjectPath::new("bkt", key).unwrap()
    }

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        pollster::block_on(f)
    }

    #[test]
    fn conditional_puts_and_etags() {
        let clock = Arc::new(ManualClock::new(42));
        let s = MemoryStore::with_clock(clock.clone());
        let a = p("a.json");
        let e1 = block(s.put(&a, b"1".to_vec(), PutOptions::with_mode(PutMode::CreateOnly)))
            .unwrap()
            .etag;
        let err = block(s.put(&a, b"2".to_vec(), PutOptions::with_mode(PutMode::CreateOnly)));
        assert!(matches!(err, Err(StoreError::AlreadyExists { .. })));
        // Same bytes again still change the ETag.
        clock.set_ms(43);
        let e2 = block(s.put(&a, b"1".to_vec(), PutOptions::default())).unwrap().etag;
        assert_ne!(e1, e2);
        let stale =
            block(s.put(&a, b"3".to_vec(), PutOptions::with_mode(PutMode::UpdateIfMatch(e1))));
        assert!(matches!(stale, Err(StoreError::PreconditionFailed { .. })));
        let bare = e2.trim_matches('"').to_owned();
        let e3 =
            block(s.put(&a, b"3".to_vec(), PutOptions::with_mode(PutMode::UpdateIfMatch(bare))))
                .unwrap()
                .etag;
        let got = block(s.get(&a, None)).unwrap();
        assert_eq!(got.bytes, b"3");
        assert_eq!(got.meta.etag, e3);
        assert_eq!(got.meta.last_modified_ms, 43);
        let missing =
            block(s.put(&p("b"), vec![], PutOptions::with_mode(PutMode::UpdateIfMatch(e3))));
        assert!(matches!(missing, Err(StoreError::NotFound { .. })));
        assert!(block(s.put(&p("dir/"), vec![], PutOptions::default())).is_err());
    }

    #[test]
    fn ranged_get() {
        let s = MemoryStore::new();
        let a = p("r");
        block(s.put(&a, b"0123456789".to_vec(), PutOptions::default())).unwrap();
        let r = block(s.get(&a, Some(2..5))).unwrap();
        assert_eq!((r.bytes.as_slice(), r.meta.size), (&b"234"[..], 10));
        assert_eq!(block(s.get(&a, Some(8..100))).unwrap().bytes, b"89");
        assert!(block(s.get(&a, Some(10..10))).is_err(), "an empty range is invalid");
        assert!(block(s.get(&a, Some(10..11))).is_err());
        assert!(block(s.get(&a, Some(11..12))).is_err());
        assert!(matches!(block(s.get(&p("nope"), None)), Err(StoreError::NotFound { .. })));
        assert!(matches!(block(s.head(&p("nope"))), Err(StoreError::NotFound { .. })));
        assert_eq!(block(s.head(&a)).unwrap().size, 10);
    }

    #[test]
    fn listing_is_sorted_and_paginated() {
        let s = MemoryStore::new();
        for key in ["x/3", "x/1", "x/2", "x0", "w/1", "x/10"] {
            block(s.put(&p(key), key.as_bytes().to_vec(), PutOptions::default())).unwrap();
        }
        block(s.put(&ObjectPath::new("other", "x/9").unwrap(), vec![], PutOptions::default()))
            .unwrap();
        let prefix = p("x/");
        let mut keys = Vec::new();
        let mut next = None;
        let mut pages = 0;
        loop {
            let page = block(s.list(&prefix, next, 2)).unwrap();
            pages += 1;
            assert!(page.objects.len() <= 2);
            keys.extend(page.objects.iter().map(|m| m.path.key().to_owned()));
            next = page.next;
            if next.is_none() {
                break;
            }
        }
        assert_eq!(keys, ["x/1", "x/10", "x/2", "x/3"]);
        assert_eq!(pages, 2);
        // max_keys 0 acts as 1.
        assert_eq!(block(s.list(&prefix, None, 0)).unwrap().objects.len(), 1);
        assert_eq!(block(s.list(&p(""), None, 100)).unwrap().objects.len(), 6);
        assert!(block(s.list(&p("zz/"), None, 10)).unwrap().objects.is_empty());
        block(s.delete(&p("x/1"))).unwrap();
        block(s.delete(&p("x/1"))).unwrap();
        assert_eq!(s.object_count(), 6);
    }

    #[test]
    fn concurrent_create_only_has_one_winner() {
        let s = Arc::new(MemoryStore::new());
        let target = p("claim");
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let s = s.clone();
                let target = target.clone();
                std::thread::spawn(move || {
                    block(s.put(&target, vec![i], PutOptions::with_mode(PutMode::CreateOnly)))
                        .is_ok()
                })
            })
            .collect();
        let winners: usize = handles.into_iter().map(|h| usize::from(h.join().unwrap())).sum();
        assert_eq!(winners, 1);
        assert_eq!(s.object_count(), 1);
    }

    #[test]
    fn flaky_store_injects_failures() {
        let s = FlakyStore::new(MemoryStore::new());
        let a = p("a");
        s.fail_next(2);
        assert!(block(s.head(&a)).unwrap_err().is_transient());
        assert!(block(s.put(&a, vec![1], PutOptions::default())).unwrap_err().is_transient());
        assert_eq!(s.inner().object_count(), 0);
        block(s.put(&a, vec![1], PutOptions::default())).unwrap();
        s.lose_next_put_answers(1);
        assert_eq!(block(s.get(&a, None)).unwrap().bytes, [1], "reads do not consume it");
        let lost = block(s.put(&a, vec![2], PutOptions::default()));
        assert!(lost.unwrap_err().is_transient());
        assert_eq!(block(s.get(&a, None)).unwrap().bytes, [2]);
        s.set_offline(true);
        assert!(block(s.get(&a, None)).unwrap_err().is_transient());
        s.set_offline(false);
        assert_eq!(s.calls(), 7);
        assert_eq!(s.injected_failures(), 4);
        // Offline by itself at the second put from now: reads do not count, that put fails.
        s.offline_at_put(2);
        block(s.put(&a, vec![3], PutOptions::default())).unwrap();
        block(s.get(&a, None)).unwrap();
        assert!(!s.is_offline());
        assert!(block(s.put(&a, vec![4], PutOptions::default())).unwrap_err().is_transient());
        assert!(s.is_offline());
        assert_eq!(block(s.inner().get(&a, None)).unwrap().bytes, [3]);
    }
}
