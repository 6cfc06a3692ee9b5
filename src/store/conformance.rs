//! The conformance suite every [`ObjectStore`] backend must pass (local folder, S3, in-memory).
//!
//! Owns: the executable definition of the trait's semantics. Tests only what the trait promises,
//! never a backend's internals, and never assumes an empty bucket: every run works under a fresh
//! random prefix (`gw-conformance-<16 hex>/`) and deletes what it wrote at the end.
//! Must not depend on `render`, `ui`, `app` or `cli`.
//!
//! Semantics pinned down here (and followed by every backend):
//! - get/head/ranged get of a missing object: [`StoreError::NotFound`]; delete of one: `Ok`.
//! - ranged get `a..b` (half-open) is S3's `Range: bytes=a-(b-1)`: `b` past the end is clamped;
//!   `a >= b`, or `a` at or past the end, is an error (S3's `416 InvalidRange`); the returned
//!   metadata carries the whole object's size.
//! - a put returns the ETag that head, get and list then report; different content ⇒ different
//!   ETag (equal content ⇒ equal ETag is NOT required: S3 with SSE-KMS breaks it).
//! - create-only on an existing object: [`StoreError::AlreadyExists`], object unchanged.
//! - update-if-match: the current ETag succeeds, a stale one gives
//!   [`StoreError::PreconditionFailed`], a missing object [`StoreError::NotFound`].
//! - of N concurrent create-only puts of one key exactly one succeeds; of N concurrent
//!   update-if-match puts with the same ETag (and different contents) exactly one succeeds.
//! - list: keys starting with the prefix (a prefix need not end at a `/`), in byte-wise
//!   lexicographic order, at most `max_keys` per page, non-final pages non-empty, continuation
//!   tokens opaque, `next == None` exactly at the end, every key exactly once.
//! - invalid keys (`..`, `.`, absolute, empty segments, `\`) cannot even be addressed
//!   ([`ObjectPath`] refuses them), so no backend ever sees one.
//!
//! The cases panic (with the object and the expectation) on the first violation, like `assert!`.
//! Call [`run_all`] from a `#[tokio::test]` with a store and a bucket it may write to.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use super::{ObjectMeta, ObjectPath, ObjectStore, PutMode, PutOptions, StoreError};

/// Number of keys [`listing_pagination`] writes (more than one 1,000-key page).
pub const PAGINATION_KEYS: usize = 1_203;

/// Number of concurrent writers in the race cases.
pub const RACE_CONTENDERS: usize = 16;

/// Runs every case under a fresh random prefix of `bucket`, then deletes what it wrote.
pub async fn run_all(store: &dyn ObjectStore, bucket: &str) {
    let base = fresh_prefix(bucket);
    invalid_keys_rejected(bucket);
    round_trip(store, &base).await;
    ranged_get(store, &base).await;
    overwrite(store, &base).await;
    create_only(store, &base).await;
    update_if_match(store, &base).await;
    missing_objects(store, &base).await;
    delete(store, &base).await;
    lexicographic_order(store, &base).await;
    listing_pagination(store, &base).await;
    concurrent_create_only(store, &base, RACE_CONTENDERS).await;
    concurrent_update_if_match(store, &base, RACE_CONTENDERS, 4).await;
    clean_up(store, &base).await;
}

/// A prefix no earlier run used: `s3://<bucket>/gw-conformance-<16 random hex>/`.
pub fn fresh_prefix(bucket: &str) -> ObjectPath {
    let key = format!("gw-conformance-{:016x}/", fastrand::u64(..));
    must(ObjectPath::new(bucket, key), "conformance prefix")
}

/// Deletes every object under `base`.
pub async fn clean_up(store: &dyn ObjectStore, base: &ObjectPath) {
    for object in list_all(store, base, 1000).await.0 {
        must(store.delete(&object.path).await, format!("delete {}", object.path));
    }
    assert!(list_all(store, base, 1000).await.0.is_empty(), "{base}: objects left after clean-up");
}

/// Put, get and head agree on bytes, size and ETag, for binary, empty and unusual keys.
pub async fn round_trip(store: &dyn ObjectStore, base: &ObjectPath) {
    let binary: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let cases: [(&str, Vec<u8>); 3] = [
        ("round-trip/object.bin", binary),
        ("round-trip/empty", Vec::new()),
        ("round-trip/with space/ünïcode + sign=@.json", b"{\"a\": 1}\n".to_vec()),
    ];
    for (key, bytes) in cases {
        let path = at(base, key);
        let options = PutOptions {
            content_type: Some("application/octet-stream".into()),
            ..PutOptions::default()
        };
        let put = must(store.put(&path, bytes.clone(), options).await, format!("put {path}"));
        assert!(!put.etag.is_empty(), "{path}: put returned an empty ETag");
        let got = must(store.get(&path, None).await, format!("get {path}"));
        assert_eq!(got.bytes, bytes, "{path}: get returned other bytes than were put");
        check_meta(&got.meta, &path, bytes.len() as u64, &put.etag);
        let head = must(store.head(&path).await, format!("head {path}"));
        check_meta(&head, &path, bytes.len() as u64, &put.etag);
        assert_eq!(head, got.meta, "{path}: head and get disagree");
        // After 2020-01-01 and not in the far future: a real clock, in milliseconds.
        assert!(
            head.last_modified_ms > 1_577_836_800_000 && head.last_modified_ms < 32_503_680_000_000,
            "{path}: last_modified_ms {} is not a plausible Unix time in ms",
            head.last_modified_ms
        );
    }
}

/// Ranged reads: inside, at the edges, clamped past the end, and refused when empty or past it.
pub async fn ranged_get(store: &dyn ObjectStore, base: &ObjectPath) {
    let path = at(base, "ranged/hundred.bin");
    let data: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(7)).collect();
    let put = must(store.put(&path, data.clone(), PutOptions::default()).await, "put ranged");
    for (range, want) in [
        (10..20, 10..20),
        (0..1, 0..1),
        (99..100, 99..100),
        (0..100, 0..100),
        (90..1000, 90..100),
        (0..u64::MAX, 0..100),
    ] {
        let got =
            must(store.get(&path, Some(range.clone())).await, format!("get {path} {range:?}"));
        assert_eq!(
            got.bytes,
            data.get(want.clone()).unwrap_or_default(),
            "{path}: range {range:?} should return bytes {want:?}"
        );
        check_meta(&got.meta, &path, 100, &put.etag);
    }
    for range in [100..101, 200..300, 5..5] {
        let got = store.get(&path, Some(range.clone())).await;
        assert!(
            got.is_err() && !matches!(got, Err(StoreError::NotFound { .. })),
            "{path}: range {range:?} of a 100-byte object must fail as an invalid range, got {:?}",
            got.map(|g| g.bytes.len())
        );
    }
}

/// A plain put replaces the object and its ETag.
pub async fn overwrite(store: &dyn ObjectStore, base: &ObjectPath) {
    let path = at(base, "overwrite/object.txt");
    let first = must(store.put(&path, b"first".to_vec(), PutOptions::default()).await, "put 1");
    let second = must(store.put(&path, b"second!".to_vec(), PutOptions::default()).await, "put 2");
    assert_ne!(first.etag, second.etag, "{path}: new content kept the old ETag");
    let got = must(store.get(&path, None).await, "get");
    assert_eq!(got.bytes, b"second!", "{path}: overwrite did not replace the content");
    check_meta(&got.meta, &path, 7, &second.etag);
}

/// Create-only succeeds once, then answers `AlreadyExists` and leaves the object alone.
pub async fn create_only(store: &dyn ObjectStore, base: &ObjectPath) {
    let path = at(base, "create-only/claim.json");
    let create = PutOptions::with_mode(PutMode::CreateOnly);
    let first = must(store.put(&path, b"one".to_vec(), create.clone()).await, "first create");
    match store.put(&path, b"two".to_vec(), create.clone()).await {
        Err(StoreError::AlreadyExists { .. }) => {}
        other => panic!("{path}: second create-only must be AlreadyExists, got {other:?}"),
    }
    let got = must(store.get(&path, None).await, "get");
    assert_eq!(got.bytes, b"one", "{path}: a refused create-only changed the object");
    check_meta(&got.meta, &path, 3, &first.etag);
    // Once deleted, the key can be created again.
    must(store.delete(&path).await, "delete");
    must(store.put(&path, b"three".to_vec(), create).await, "create after delete");
}

/// Update-if-match: current ETag wins, stale or bogus ETag is refused, missing object is NotFound.
pub async fn update_if_match(store: &dyn ObjectStore, base: &ObjectPath) {
    let path = at(base, "update/claim.json");
    let v1 = must(store.put(&path, b"v1".to_vec(), PutOptions::default()).await, "put v1");
    let head = must(store.head(&path).await, "head v1");
    assert_eq!(head.etag, v1.etag, "{path}: head ETag differs from the put's");
    let update = |etag: &str| PutOptions::with_mode(PutMode::UpdateIfMatch(etag.to_owned()));

    let v2 = must(store.put(&path, b"v2".to_vec(), update(&v1.etag)).await, "update with current");
    assert_ne!(v2.etag, v1.etag, "{path}: update kept the old ETag");
    for stale in [v1.etag.as_str(), "0123456789abcdef0123456789abcdef", "\"bogus\""] {
        match store.put(&path, b"lost".to_vec(), update(stale)).await {
            Err(StoreError::PreconditionFailed { .. }) => {}
            other => {
                panic!("{path}: update with ETag {stale} must be PreconditionFailed: {other:?}")
            }
        }
    }
    let got = must(store.get(&path, None).await, "get v2");
    assert_eq!(got.bytes, b"v2", "{path}: a refused update changed the object");
    check_meta(&got.meta, &path, 2, &v2.etag);
    let v3 = must(store.put(&path, b"v3".to_vec(), update(&v2.etag)).await, "update v2 -> v3");
    check_meta(&must(store.head(&path).await, "head v3"), &path, 2, &v3.etag);

    let missing = at(base, "update/never-written.json");
    match store.put(&missing, b"x".to_vec(), update(&v3.etag)).await {
        Err(StoreError::NotFound { .. }) => {}
        other => {
            panic!("{missing}: update-if-match of a missing object must be NotFound: {other:?}")
        }
    }
    match store.get(&missing, None).await {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{missing}: a refused update created the object: {other:?}"),
    }
}

/// Missing objects: get, ranged get and head are NotFound, delete succeeds, listing is empty.
pub async fn missing_objects(store: &dyn ObjectStore, base: &ObjectPath) {
    let path = at(base, "missing/nothing-here.bin");
    let not_found = |what: &str, r: Result<(), StoreError>| match r {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{path}: {what} of a missing object must be NotFound, got {other:?}"),
    };
    not_found("get", store.get(&path, None).await.map(drop));
    not_found("ranged get", store.get(&path, Some(0..10)).await.map(drop));
    not_found("head", store.head(&path).await.map(drop));
    must(store.delete(&path).await, "delete of a missing object");
    let page = must(store.list(&at(base, "missing/"), None, 10).await, "list missing");
    assert!(page.objects.is_empty() && page.next.is_none(), "{path}: listing of nothing: {page:?}");
}

/// Delete removes exactly one object, is idempotent, and leaves siblings and re-creation working.
pub async fn delete(store: &dyn ObjectStore, base: &ObjectPath) {
    let keys = ["delete/a/1", "delete/a/2", "delete/a/sub/3", "delete/b"];
    for key in keys {
        must(store.put(&at(base, key), key.as_bytes().to_vec(), PutOptions::default()).await, key);
    }
    let nested = at(base, "delete/a/sub/3");
    must(store.delete(&nested).await, "delete nested");
    match store.get(&nested, None).await {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{nested}: get after delete must be NotFound, got {other:?}"),
    }
    must(store.delete(&nested).await, "second delete");
    assert_eq!(
        keys_under(store, &at(base, "delete/"), 1000).await,
        ["delete/a/1", "delete/a/2", "delete/b"].map(|k| at(base, k).key().to_owned()),
        "{base}: delete removed the wrong objects"
    );
    for key in ["delete/a/1", "delete/a/2", "delete/b"] {
        must(store.delete(&at(base, key)).await, key);
    }
    assert!(keys_under(store, &at(base, "delete/"), 1000).await.is_empty());
    must(store.put(&nested, b"again".to_vec(), PutOptions::default()).await, "re-create");
    assert_eq!(must(store.get(&nested, None).await, "get re-created").bytes, b"again");
}

/// Keys come back in byte-wise order (`-` < `.` < `/` < `0` < `A` < `_` < `a` < `é`), and a
/// prefix need not end at a `/`.
pub async fn lexicographic_order(store: &dyn ObjectStore, base: &ObjectPath) {
    // No key is also a "folder" of another key (a local folder cannot hold both).
    let names =
        ["z~", "a_b", "é", "aB", "a/c/d", "A", "a0", "a.b", "0", "a-b", "b", "ab", "a!", "a/b"];
    for name in names {
        let path = at(base, &format!("order/{name}"));
        must(store.put(&path, name.as_bytes().to_vec(), PutOptions::default()).await, name);
    }
    let key = |name: &str| at(base, &format!("order/{name}")).key().to_owned();
    let mut expected: Vec<String> = names.iter().map(|n| key(n)).collect();
    expected.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let literal = ["0", "A", "a!", "a-b", "a.b", "a/b", "a/c/d", "a0", "aB", "a_b", "ab", "b"];
    let mut literal: Vec<String> = literal.iter().map(|n| key(n)).collect();
    literal.extend([key("z~"), key("é")]);
    assert_eq!(expected, literal, "byte order of the test keys");

    for page_size in [1, 3, 1000] {
        assert_eq!(
            keys_under(store, &at(base, "order/"), page_size).await,
            expected,
            "{base}: listing with pages of {page_size} is not in lexicographic order"
        );
    }
    for (prefix, want) in [
        ("order/a", vec!["a!", "a-b", "a.b", "a/b", "a/c/d", "a0", "aB", "a_b", "ab"]),
        ("order/a/", vec!["a/b", "a/c/d"]),
        ("order/a.", vec!["a.b"]),
        ("order/a/c", vec!["a/c/d"]),
        ("order/c", vec![]),
    ] {
        let want: Vec<String> = want.iter().map(|n| key(n)).collect();
        assert_eq!(
            keys_under(store, &at(base, prefix), 2).await,
            want,
            "{base}: listing of prefix {prefix}"
        );
    }
}

/// [`PAGINATION_KEYS`] keys listed with pages of 1000 (two pages), 97 and 500, and by sub-prefix.
pub async fn listing_pagination(store: &dyn ObjectStore, base: &ObjectPath) {
    let name = |i: usize| {
        if i.is_multiple_of(5) {
            format!("pages/n{:02}/k{i}", i % 13)
        } else {
            format!("pages/k{i}")
        }
    };
    let mut etags = BTreeMap::new();
    let indices: Vec<usize> = (0..PAGINATION_KEYS).collect();
    for chunk in indices.chunks(64) {
        let puts = chunk.iter().map(|&i| {
            let path = at(base, &name(i));
            boxed(async move {
                let bytes = path.key().as_bytes().to_vec();
                let put = store.put(&path, bytes, PutOptions::default()).await;
                (path, put)
            })
        });
        for (path, put) in join_all(puts.collect()).await {
            let put = must(put, format!("put {path}"));
            etags.insert(path.key().to_owned(), put.etag);
        }
    }
    let expected: Vec<String> = etags.keys().cloned().collect();

    let prefix = at(base, "pages/");
    for page_size in [1000, 97, 500] {
        let (objects, pages) = list_all(store, &prefix, page_size).await;
        let keys: Vec<String> = objects.iter().map(|o| o.path.key().to_owned()).collect();
        assert_eq!(keys.len(), expected.len(), "{prefix}: pages of {page_size}: wrong count");
        assert_eq!(keys, expected, "{prefix}: pages of {page_size}: wrong keys or order");
        let min_pages = PAGINATION_KEYS.div_ceil(page_size);
        assert!(pages.len() >= min_pages, "{prefix}: {} pages of {page_size}", pages.len());
        if page_size == 1000 {
            assert_eq!(pages.first().copied(), Some(1000), "{prefix}: a full first page");
        }
        for object in &objects {
            let key = object.path.key();
            check_meta(object, &object.path, key.len() as u64, &etags[key]);
        }
    }
    for sub in ["pages/n03/", "pages/k12", "pages/k9", "pages/n1"] {
        let want: Vec<String> = expected.iter().filter(|k| k.contains(sub)).cloned().collect();
        assert!(!want.is_empty(), "test data covers {sub}");
        assert_eq!(keys_under(store, &at(base, sub), 7).await, want, "listing of {sub}");
    }
}

/// `contenders` concurrent create-only puts of one key: exactly one wins, the rest are
/// `AlreadyExists`, and the object holds the winner's bytes.
pub async fn concurrent_create_only(store: &dyn ObjectStore, base: &ObjectPath, contenders: usize) {
    let path = at(base, "race/create.json");
    let puts = (0..contenders).map(|i| {
        let path = &path;
        boxed(async move {
            let bytes = format!("contender {i}").into_bytes();
            (i, store.put(path, bytes, PutOptions::with_mode(PutMode::CreateOnly)).await)
        })
    });
    let mut winners = Vec::new();
    for (i, result) in join_all(puts.collect()).await {
        match result {
            Ok(put) => winners.push((i, put.etag)),
            Err(StoreError::AlreadyExists { .. }) => {}
            Err(e) => panic!("{path}: contender {i}: expected success or AlreadyExists: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{path}: create-only race must have exactly one winner");
    let (winner, etag) = &winners[0];
    let got = must(store.get(&path, None).await, "get race winner");
    assert_eq!(got.bytes, format!("contender {winner}").into_bytes(), "{path}: not the winner's");
    assert_eq!(&got.meta.etag, etag, "{path}: not the winner's ETag");
}

/// `rounds` rounds of `contenders` concurrent update-if-match puts with the same current ETag:
/// exactly one wins each round, the rest are `PreconditionFailed`.
pub async fn concurrent_update_if_match(
    store: &dyn ObjectStore,
    base: &ObjectPath,
    contenders: usize,
    rounds: usize,
) {
    let path = at(base, "race/update.json");
    must(store.put(&path, b"initial".to_vec(), PutOptions::default()).await, "put initial");
    for round in 0..rounds {
        let etag = must(store.head(&path).await, "head").etag;
        let puts = (0..contenders).map(|i| {
            let (path, etag) = (&path, etag.clone());
            boxed(async move {
                let bytes = format!("round {round} contender {i}").into_bytes();
                (
                    i,
                    store
                        .put(path, bytes, PutOptions::with_mode(PutMode::UpdateIfMatch(etag)))
                        .await,
                )
            })
        });
        let mut winners = Vec::new();
        for (i, result) in join_all(puts.collect()).await {
            match result {
                Ok(put) => winners.push((i, put.etag)),
                Err(StoreError::PreconditionFailed { .. }) => {}
                Err(e) => panic!("{path}: round {round} contender {i}: {e}"),
            }
        }
        assert_eq!(winners.len(), 1, "{path}: round {round} must have exactly one winner");
        let (winner, won_etag) = &winners[0];
        let got = must(store.get(&path, None).await, "get");
        assert_eq!(got.bytes, format!("round {round} contender {winner}").into_bytes());
        assert_eq!(&got.meta.etag, won_etag, "{path}: round {round}: not the winner's ETag");
    }
}

/// Keys that would escape their bucket or be ambiguous cannot be addressed at all.
pub fn invalid_keys_rejected(bucket: &str) {
    for key in ["../x", "a/../b", "..", "/abs", "a//b", "./a", "a/./b", "a/.", "a\\b", "/", "a\0b"]
    {
        match ObjectPath::new(bucket, key) {
            Err(StoreError::InvalidPath { .. }) => {}
            other => panic!("key {key:?} must be rejected as InvalidPath, got {other:?}"),
        }
    }
    for uri in [format!("s3://{bucket}/../etc/passwd"), format!("s3://{bucket}//x")] {
        assert!(ObjectPath::parse(&uri).is_err(), "{uri} must be rejected");
    }
    let base = must(ObjectPath::new(bucket, "ok/"), "valid prefix");
    assert!(base.join("../escape").is_err(), "join must not climb out of a prefix");
    assert!(base.join("a//b").is_err(), "join must refuse empty segments");
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// Every object under `prefix`, following continuations, with the size of each page.
pub async fn list_all(
    store: &dyn ObjectStore,
    prefix: &ObjectPath,
    page_size: usize,
) -> (Vec<ObjectMeta>, Vec<usize>) {
    let mut objects: Vec<ObjectMeta> = Vec::new();
    let mut pages = Vec::new();
    let mut continuation = None;
    loop {
        let page = must(
            store.list(prefix, continuation.clone(), page_size).await,
            format!("list {prefix} after {continuation:?}"),
        );
        assert!(page.objects.len() <= page_size, "{prefix}: page larger than {page_size}");
        if page.next.is_some() {
            assert!(!page.objects.is_empty(), "{prefix}: an empty page that promises more");
        }
        for object in &page.objects {
            assert!(
                object.path.bucket() == prefix.bucket()
                    && object.path.key().starts_with(prefix.key()),
                "{prefix}: listed {} outside the prefix",
                object.path
            );
            if let Some(last) = objects.last() {
                assert!(
                    last.path.key().as_bytes() < object.path.key().as_bytes(),
                    "{prefix}: {} listed after {} (order or duplicate)",
                    object.path,
                    last.path
                );
            }
            objects.push(object.clone());
        }
        pages.push(page.objects.len());
        assert!(pages.len() <= 100_000, "{prefix}: listing does not end");
        match page.next {
            Some(next) => continuation = Some(next),
            None => return (objects, pages),
        }
    }
}

async fn keys_under(store: &dyn ObjectStore, prefix: &ObjectPath, page_size: usize) -> Vec<String> {
    list_all(store, prefix, page_size)
        .await
        .0
        .into_iter()
        .map(|o| o.path.key().to_owned())
        .collect()
}

fn at(base: &ObjectPath, suffix: &str) -> ObjectPath {
    must(base.join(suffix), format!("{base} + {suffix}"))
}

fn check_meta(meta: &ObjectMeta, path: &ObjectPath, size: u64, etag: &str) {
    assert_eq!(&meta.path, path, "metadata names another object");
    assert_eq!(meta.size, size, "{path}: wrong size");
    assert_eq!(meta.etag, etag, "{path}: ETag differs from the one the put returned");
}

fn must<T>(result: Result<T, StoreError>, what: impl Display) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e}"),
    }
}

type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

fn boxed<'a, T>(future: impl Future<Output = T> + 'a) -> LocalFuture<'a, T> {
    Box::pin(future)
}

/// Polls all `futures` concurrently on the current task and returns their outputs in order.
async fn join_all<T>(futures: Vec<LocalFuture<'_, T>>) -> Vec<T> {
    let mut pending: Vec<Option<LocalFuture<'_, T>>> = futures.into_iter().map(Some).collect();
    let mut done: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut all_done = true;
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *out = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => all_done = false,
                }
            }
        }
        if all_done { Poll::Ready(done.drain(..).flatten().collect()) } else { Poll::Pending }
    })
    .await
}
