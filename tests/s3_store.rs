//! The S3 backend against a real SeaweedFS server (started by `support::seaweed`), and against a
//! scripted fake HTTP server where exact requests or failures must be controlled (headers sent,
//! throttling, dropped connections, ambiguous retries).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use groundwork::store::retry::{RetryPolicy, SleepFn};
use groundwork::store::s3::{ListingStrategy, MultipartConfig, S3Store};
use groundwork::store::util::list_all;
use groundwork::store::{ObjectPath, ObjectStore, PutMode, PutOptions, StoreError};
use support::seaweed::{self, BUCKET, SeaweedServer};

/// The shared server and a fresh prefix in its bucket, or return (test skipped).
macro_rules! seaweed_or_skip {
    ($test:literal) => {
        match seaweed::server_or_skip($test) {
            Some(server) => (server, seaweed::unique_prefix($test)),
            None => return,
        }
    };
}

fn path(prefix: &str, key: &str) -> ObjectPath {
    ObjectPath::new(BUCKET, format!("{prefix}{key}")).unwrap()
}

/// Deterministic pseudo-random bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut bytes = vec![0u8; len];
    rng.fill(&mut bytes);
    bytes
}

/// FNV-1a, 64 bit: a checksum to report, independent of the store's ETags.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

/// A retry policy that records its sleeps instead of sleeping.
fn recording_policy(max_attempts: u32) -> (RetryPolicy, Arc<Mutex<Vec<Duration>>>) {
    let slept = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&slept);
    let sleep: SleepFn = Arc::new(move |d| {
        log.lock().unwrap().push(d);
        Box::pin(async {})
    });
    let policy = RetryPolicy::new(max_attempts, Duration::from_millis(50), Duration::from_secs(2))
        .with_sleep(sleep)
        .with_seed(1);
    (policy, slept)
}

// ---------------------------------------------------------------------------------------------
// Against SeaweedFS.
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn put_get_head_ranged_get_delete() {
    let (server, prefix) = seaweed_or_skip!("put_get_head_ranged_get_delete");
    let store = server.store();
    let p = path(&prefix, "dir/object.bin");
    let bytes = noise(1000, 1);
    let options = PutOptions {
        content_type: Some("application/octet-stream".into()),
        ..PutOptions::default()
    };
    let put = store.put(&p, bytes.clone(), options).await.unwrap();
    assert!(!put.etag.is_empty());

    let got = store.get(&p, None).await.unwrap();
    assert_eq!(got.bytes, bytes);
    assert_eq!(got.meta.size, 1000);
    assert_eq!(got.meta.etag, put.etag);
    assert_eq!(got.meta.path, p);
    let now_ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as i64;
    assert!((now_ms - got.meta.last_modified_ms).abs() < 10 * 60 * 1000, "{got:?}");

    let head = store.head(&p).await.unwrap();
    assert_eq!((head.size, head.etag.as_str()), (1000, put.etag.as_str()));

    let part = store.get(&p, Some(100..250)).await.unwrap();
    assert_eq!(part.bytes, bytes[100..250]);
    assert_eq!(part.meta.size, 1000, "a ranged get reports the whole object's size");
    assert_eq!(part.meta.etag, put.etag);

    let tail = store.get(&p, Some(990..5000)).await.unwrap();
    assert_eq!(tail.bytes, bytes[990..], "a range past the end is clipped");
    let all = store.get(&p, Some(0..u64::MAX)).await.unwrap();
    assert_eq!(all.bytes, bytes, "an open-ended range reads to the end");
    for refused in [7..7, 1000..1001, 2000..3000] {
        let outcome = store.get(&p, Some(refused.clone())).await;
        assert!(matches!(outcome, Err(StoreError::Other { .. })), "{refused:?}: {outcome:?}");
    }

    // Overwrite replaces.
    let put2 = store.put(&p, b"v2".to_vec(), PutOptions::default()).await.unwrap();
    assert_ne!(put2.etag, put.etag);
    assert_eq!(store.get(&p, None).await.unwrap().bytes, b"v2");

    store.delete(&p).await.unwrap();
    assert!(matches!(store.get(&p, None).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.head(&p).await, Err(StoreError::NotFound { .. })));
    store.delete(&p).await.expect("deleting a missing object succeeds");
}

#[tokio::test]
async fn create_only_twice_is_already_exists() {
    let (server, prefix) = seaweed_or_skip!("create_only_twice_is_already_exists");
    let store = server.store();
    let p = path(&prefix, "claims/obj-1/0.json");
    let create = PutOptions::with_mode(PutMode::CreateOnly);
    store.put(&p, b"first".to_vec(), create.clone()).await.unwrap();
    let second = store.put(&p, b"second".to_vec(), create).await;
    assert!(
        matches!(&second, Err(StoreError::AlreadyExists { path }) if *path == p.uri()),
        "{second:?}"
    );
    assert_eq!(store.get(&p, None).await.unwrap().bytes, b"first");
}

#[tokio::test]
async fn update_if_match_accepts_current_and_rejects_stale_etags() {
    let (server, prefix) =
        seaweed_or_skip!("update_if_match_accepts_current_and_rejects_stale_etags");
    let store = server.store();
    let p = path(&prefix, "claim.json");
    let v1 = store.put(&p, b"v1".to_vec(), PutOptions::default()).await.unwrap();
    let v2 = store
        .put(&p, b"v2".to_vec(), PutOptions::with_mode(PutMode::UpdateIfMatch(v1.etag.clone())))
        .await
        .unwrap();
    assert_ne!(v1.etag, v2.etag);
    let stale = store
        .put(&p, b"v3".to_vec(), PutOptions::with_mode(PutMode::UpdateIfMatch(v1.etag.clone())))
        .await;
    assert!(matches!(stale, Err(StoreError::PreconditionFailed { .. })), "{stale:?}");
    assert_eq!(store.get(&p, None).await.unwrap().bytes, b"v2");

    let gone = path(&prefix, "never-written.json");
    let missing = store
        .put(&gone, b"x".to_vec(), PutOptions::with_mode(PutMode::UpdateIfMatch(v2.etag)))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");
    assert!(matches!(store.head(&gone).await, Err(StoreError::NotFound { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_create_only_has_exactly_one_winner() {
    let (server, prefix) = seaweed_or_skip!("concurrent_create_only_has_exactly_one_winner");
    let store = Arc::new(server.store());
    // Several rounds, each a fresh key raced by 16 tasks released together. (SeaweedFS 4.48 takes
    // from 20 ms to several seconds per round: it serialises contended conditional puts.)
    for round in 0..4 {
        let p = path(&prefix, &format!("claims/obj-{round}/0.json"));
        let start = Arc::new(tokio::sync::Barrier::new(16));
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..16u8 {
            let (store, p, start) = (Arc::clone(&store), p.clone(), Arc::clone(&start));
            tasks.spawn(async move {
                let body = format!("{{\"worker\":{worker}}}").into_bytes();
                start.wait().await;
                (
                    body.clone(),
                    store.put(&p, body, PutOptions::with_mode(PutMode::CreateOnly)).await,
                )
            });
        }
        let mut winners = Vec::new();
        let mut losers = 0;
        while let Some(joined) = tasks.join_next().await {
            match joined.unwrap() {
                (body, Ok(put)) => winners.push((body, put.etag)),
                (_, Err(StoreError::AlreadyExists { .. })) => losers += 1,
                (_, Err(other)) => panic!("unexpected error: {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one create-only put may win");
        assert_eq!(losers, 15);
        let stored = store.get(&p, None).await.unwrap();
        assert_eq!(stored.bytes, winners[0].0, "the object holds the winner's bytes");
        assert_eq!(stored.meta.etag, winners[0].1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_update_if_match_has_exactly_one_winner() {
    let (server, prefix) = seaweed_or_skip!("concurrent_update_if_match_has_exactly_one_winner");
    let store = Arc::new(server.store());
    let p = path(&prefix, "claims/obj-1/0.json");
    store.put(&p, b"initial".to_vec(), PutOptions::default()).await.unwrap();
    for round in 0..2 {
        let etag = store.head(&p).await.unwrap().etag;
        let start = Arc::new(tokio::sync::Barrier::new(16));
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..16u8 {
            let (store, p, start, etag) =
                (Arc::clone(&store), p.clone(), Arc::clone(&start), etag.clone());
            tasks.spawn(async move {
                let body = format!("round {round} worker {worker}").into_bytes();
                start.wait().await;
                let mode = PutMode::UpdateIfMatch(etag);
                (body.clone(), store.put(&p, body, PutOptions::with_mode(mode)).await)
            });
        }
        let mut winners = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined.unwrap() {
                (body, Ok(put)) => winners.push((body, put.etag)),
                (_, Err(StoreError::PreconditionFailed { .. })) => {}
                (_, Err(other)) => panic!("unexpected error: {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one update may win");
        let stored = store.get(&p, None).await.unwrap();
        assert_eq!((stored.bytes, stored.meta.etag), winners.pop().unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lists_1203_keys_across_pages() {
    let (server, prefix) = seaweed_or_skip!("lists_1203_keys_across_pages");
    let store = Arc::new(server.store());
    let mut expected: Vec<String> = (0..1203).map(|i| format!("{prefix}k/{i:05}.json")).collect();
    expected.sort();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in expected.chunks(1203usize.div_ceil(24)) {
        let (store, keys) = (Arc::clone(&store), chunk.to_vec());
        tasks.spawn(async move {
            for key in keys {
                let p = ObjectPath::new(BUCKET, key.clone()).unwrap();
                store.put(&p, key.into_bytes(), PutOptions::default()).await.unwrap();
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.unwrap();
    }
    // Something outside the prefix that must not show up.
    store.put(&path(&prefix, "l/other"), b"x".to_vec(), PutOptions::default()).await.unwrap();

    let listing_prefix = path(&prefix, "k/");
    let first = store.list(&listing_prefix, None, 1000).await.unwrap();
    assert_eq!(first.objects.len(), 1000);
    let token = first.next.clone().expect("a second page");
    let second = store.list(&listing_prefix, Some(token), 1000).await.unwrap();
    assert_eq!(second.objects.len(), 203);
    assert_eq!(second.next, None);
    let paged: Vec<String> =
        first.objects.iter().chain(&second.objects).map(|o| o.path.key().to_owned()).collect();
    assert_eq!(paged, expected);

    // max_keys above S3's 1,000 is clamped; list_all follows the tokens.
    let all = list_all(store.as_ref(), &listing_prefix).await.unwrap();
    let keys: Vec<&str> = all.iter().map(|o| o.path.key()).collect();
    assert_eq!(keys, expected);
    assert!(all.iter().all(|o| o.size == o.path.key().len() as u64 && !o.etag.is_empty()));

    // Small pages.
    let mut pages = 0;
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = store.list(&listing_prefix, token, 100).await.unwrap();
        assert!(page.objects.len() <= 100);
        pages += 1;
        seen.extend(page.objects.into_iter().map(|o| o.path.key().to_owned()));
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 13);
    assert_eq!(seen, expected);
}

/// Every key under `prefix`, listed page by page with `max_keys`, checking each page's size.
async fn keys_in_pages(store: &S3Store, prefix: &ObjectPath, max_keys: usize) -> Vec<String> {
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = store.list(prefix, token, max_keys).await.unwrap();
        assert!(page.objects.len() <= max_keys);
        assert!(page.next.is_none() || !page.objects.is_empty(), "an empty non-final page");
        keys.extend(page.objects.into_iter().map(|o| o.path.key().to_owned()));
        match page.next {
            Some(next) => token = Some(next),
            None => return keys,
        }
    }
}

#[tokio::test]
async fn listing_is_in_lexicographic_key_order() {
    let (server, prefix) = seaweed_or_skip!("listing_is_in_lexicographic_key_order");
    let store = server.store();
    // '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f): a store that walks directories lists
    // "a/…" before "a-…". No key is also a "folder" of another (SeaweedFS cannot hold both).
    let names = [
        "a/b",
        "a-b",
        "a.b",
        "a/a/z",
        "a0",
        "b/c/d",
        "B",
        "a!",
        "z~",
        "é",
        "a/c/d/e/f",
        "a/c/d-e",
        "a/c/d.e",
        "ab",
    ];
    for name in names {
        store.put(&path(&prefix, name), b"x".to_vec(), PutOptions::default()).await.unwrap();
    }
    let key = |name: &str| format!("{prefix}{name}");
    let mut expected: Vec<String> = names.iter().map(|n| key(n)).collect();
    expected.sort();
    for max_keys in [1, 2, 3, 5, 1000] {
        assert_eq!(
            keys_in_pages(&store, &path(&prefix, ""), max_keys).await,
            expected,
            "pages of {max_keys}"
        );
    }
    // Prefixes that do not end at a '/'.
    for (sub, want) in [
        (
            "a",
            vec!["a!", "a-b", "a.b", "a/a/z", "a/b", "a/c/d-e", "a/c/d.e", "a/c/d/e/f", "a0", "ab"],
        ),
        ("a/", vec!["a/a/z", "a/b", "a/c/d-e", "a/c/d.e", "a/c/d/e/f"]),
        ("a/c/d", vec!["a/c/d-e", "a/c/d.e", "a/c/d/e/f"]),
        ("a.", vec!["a.b"]),
        ("c", vec![]),
    ] {
        let want: Vec<String> = want.iter().map(|n| key(n)).collect();
        assert_eq!(keys_in_pages(&store, &path(&prefix, sub), 2).await, want, "prefix {sub}");
    }
    let listed = list_all(&store, &path(&prefix, "")).await.unwrap();
    assert_eq!(listed.iter().map(|o| o.path.key()).collect::<Vec<_>>(), expected);

    // The server's own order, for the record.
    let native = server.store().with_listing(ListingStrategy::Native);
    let paged = keys_in_pages(&native, &path(&prefix, ""), 3).await;
    let mut sorted = paged.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "native paging still visits every key exactly once");
    if paged != expected {
        eprintln!(
            "NOTE: SeaweedFS {} pages natively in directory-walk order: {:?}",
            server.version(),
            paged.iter().map(|k| &k[prefix.len()..]).collect::<Vec<_>>()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn multipart_upload_round_trips_40_mib() {
    let (server, prefix) = seaweed_or_skip!("multipart_upload_round_trips_40_mib");
    let store = server.store();
    let p = path(&prefix, "big.bin");
    let bytes = noise(40 << 20, 40);
    let started = std::time::Instant::now();
    let put = store.put(&p, bytes.clone(), PutOptions::default()).await.unwrap();
    let upload = started.elapsed();
    // A multipart ETag is "<md5 of the part md5s>-<part count>": 40 MiB in 8 MiB parts.
    assert!(put.etag.trim_matches('"').ends_with("-5"), "expected a 5-part ETag: {}", put.etag);
    let head = store.head(&p).await.unwrap();
    assert_eq!(head.size, 40 << 20);
    let started = std::time::Instant::now();
    let got = store.get(&p, None).await.unwrap();
    let download = started.elapsed();
    assert_eq!(fnv1a(&got.bytes), fnv1a(&bytes));
    assert!(got.bytes == bytes);
    // A range across a part boundary.
    let boundary = 8 << 20;
    let across = store.get(&p, Some(boundary - 10..boundary + 10)).await.unwrap();
    assert_eq!(across.bytes, bytes[(boundary - 10) as usize..(boundary + 10) as usize]);
    eprintln!(
        "40 MiB multipart: upload {:.2} s, download {:.2} s (debug build, loopback)",
        upload.as_secs_f64(),
        download.as_secs_f64()
    );

    // Create-only on the existing object fails before any part is sent.
    let again = store.put(&p, bytes, PutOptions::with_mode(PutMode::CreateOnly)).await;
    assert!(matches!(again, Err(StoreError::AlreadyExists { .. })), "{again:?}");
    assert_no_pending_uploads(&store, &prefix).await;
}

#[tokio::test]
async fn complete_multipart_upload_honours_conditions() {
    let (server, prefix) = seaweed_or_skip!("complete_multipart_upload_honours_conditions");
    // Raw SDK calls, to reach CompleteMultipartUpload with an object already in place (the store
    // itself checks with a HEAD before uploading parts, which would hide the server's answer).
    let store = server.store();
    let client = store.client();
    let p = path(&prefix, "big.bin");
    let existing = store.put(&p, b"already here".to_vec(), PutOptions::default()).await.unwrap();
    for (condition, expect_refusal) in
        [("if-none-match *", true), ("if-match stale", true), ("if-match current", false)]
    {
        let upload =
            client.create_multipart_upload().bucket(BUCKET).key(p.key()).send().await.unwrap();
        let upload_id = upload.upload_id().unwrap();
        let part = client
            .upload_part()
            .bucket(BUCKET)
            .key(p.key())
            .upload_id(upload_id)
            .part_number(1)
            .body(noise(1000, 9).into())
            .send()
            .await
            .unwrap();
        let completed = aws_sdk_s3::types::CompletedMultipartUpload::builder()
            .parts(
                aws_sdk_s3::types::CompletedPart::builder()
                    .part_number(1)
                    .e_tag(part.e_tag().unwrap())
                    .build(),
            )
            .build();
        let request = client
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key(p.key())
            .upload_id(upload_id)
            .multipart_upload(completed);
        let request = match condition {
            "if-none-match *" => request.if_none_match("*"),
            "if-match stale" => request.if_match("\"0123456789abcdef0123456789abcdef\""),
            _ => request.if_match(&existing.etag),
        };
        let outcome = request.send().await;
        let status =
            outcome.as_ref().err().and_then(|e| e.raw_response()).map(|r| r.status().as_u16());
        if expect_refusal {
            assert_eq!(status, Some(412), "{condition}: {outcome:?}");
            client
                .abort_multipart_upload()
                .bucket(BUCKET)
                .key(p.key())
                .upload_id(upload_id)
                .send()
                .await
                .unwrap();
            assert_eq!(store.get(&p, None).await.unwrap().bytes, b"already here");
        } else {
            assert!(outcome.is_ok(), "{condition}: {outcome:?}");
            assert_eq!(store.get(&p, None).await.unwrap().bytes, noise(1000, 9));
        }
    }
    assert_no_pending_uploads(&store, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_multipart_create_only_race() {
    let (server, prefix) = seaweed_or_skip!("concurrent_multipart_create_only_race");
    // All four pass the early HEAD check (nothing exists yet): CompleteMultipartUpload's
    // If-None-Match decides. AWS S3 lets exactly one win; SeaweedFS 4.48 checks the condition
    // without excluding concurrent completions, so several may "win" (reported below). Either
    // way the object must be exactly one writer's bytes, and no upload may be left behind.
    let config = MultipartConfig {
        threshold_bytes: 5 << 20,
        part_size_bytes: 5 << 20,
        max_concurrent_parts: 2,
    };
    let store = Arc::new(server.store().with_multipart(config));
    let p = path(&prefix, "big-claim.bin");
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..4u64 {
        let (store, p) = (Arc::clone(&store), p.clone());
        tasks.spawn(async move {
            let body = noise(6 << 20, worker);
            (body.clone(), store.put(&p, body, PutOptions::with_mode(PutMode::CreateOnly)).await)
        });
    }
    let mut winners = Vec::new();
    let mut losers = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined.unwrap() {
            (body, Ok(put)) => winners.push((body, put)),
            (_, Err(StoreError::AlreadyExists { .. })) => losers += 1,
            (_, Err(other)) => panic!("unexpected error: {other}"),
        }
    }
    assert!(!winners.is_empty());
    assert_eq!(winners.len() + losers, 4);
    if winners.len() > 1 {
        eprintln!(
            "NOTE: SeaweedFS {}: {} of 4 concurrent create-only multipart uploads succeeded \
             (If-None-Match on CompleteMultipartUpload is not atomic)",
            server.version(),
            winners.len()
        );
    }
    let stored = store.get(&p, None).await.unwrap();
    let owner = winners.iter().find(|(body, _)| stored.bytes == *body);
    let (_, put) = owner.expect("the object holds one winner's bytes, unmixed");
    assert_eq!(stored.meta.etag, put.etag);
    assert!(put.etag.trim_matches('"').ends_with("-2"), "{}", put.etag);
    // The losers' uploads were aborted.
    assert_no_pending_uploads(&store, &prefix).await;
}

async fn assert_no_pending_uploads(store: &S3Store, prefix: &str) {
    let uploads =
        store.client().list_multipart_uploads().bucket(BUCKET).prefix(prefix).send().await.unwrap();
    assert!(uploads.uploads().is_empty(), "left-over multipart uploads: {:?}", uploads.uploads());
}

#[tokio::test]
async fn sse_kms_puts_on_seaweedfs() {
    let (server, prefix) = seaweed_or_skip!("sse_kms_puts_on_seaweedfs");
    let store = server.store().with_retry_policy(recording_policy(3).0);
    let p = path(&prefix, "encrypted.json");
    let options = PutOptions {
        kms_key_id: Some("groundwork-test-key".into()),
        ..PutOptions::with_mode(PutMode::CreateOnly)
    };
    let outcome = store.put(&p, b"{\"secret\":1}".to_vec(), options).await;
    eprintln!("SeaweedFS {}: SSE-KMS put -> {outcome:?}", server.version());
    match outcome {
        Ok(_) => {
            let head =
                store.client().head_object().bucket(BUCKET).key(p.key()).send().await.unwrap();
            eprintln!(
                "SeaweedFS reports server_side_encryption={:?} key={:?}",
                head.server_side_encryption(),
                head.ssekms_key_id()
            );
            assert_eq!(store.get(&p, None).await.unwrap().bytes, b"{\"secret\":1}");
        }
        // Without a KMS provider the server must refuse (SeaweedFS 4.48: HTTP 500
        // InternalError), and must not have stored the bytes unencrypted.
        Err(err) => {
            eprintln!("NOTE: SSE-KMS is not available on this SeaweedFS: {err}");
            assert!(matches!(store.head(&p).await, Err(StoreError::NotFound { .. })));
        }
    }
}

#[tokio::test]
async fn missing_bucket_and_key_errors() {
    let (server, prefix) = seaweed_or_skip!("missing_bucket_and_key_errors");
    let store = server.store();
    let key = path(&prefix, "nothing-here");
    assert!(matches!(store.get(&key, None).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.get(&key, Some(0..10)).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(store.head(&key).await, Err(StoreError::NotFound { .. })));

    let nobucket = ObjectPath::new("groundwork-no-such-bucket", "a/b.json").unwrap();
    let get = store.get(&nobucket, None).await;
    assert!(matches!(get, Err(StoreError::NotFound { .. })), "{get:?}");
    assert!(matches!(store.head(&nobucket).await, Err(StoreError::NotFound { .. })));
    let put = store.put(&nobucket, b"x".to_vec(), PutOptions::default()).await;
    let list = store.list(&nobucket, None, 10).await;
    for outcome in [put.map(|_| ()), list.map(|_| ())] {
        match outcome {
            Err(StoreError::Other { path, message }) => {
                assert_eq!(path, "s3://groundwork-no-such-bucket/");
                assert!(message.contains("does not exist"), "{message}");
            }
            other => panic!("expected a clear missing-bucket error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn wrong_credentials_are_access_denied() {
    let (server, prefix) = seaweed_or_skip!("wrong_credentials_are_access_denied");
    let config = server.s3_config().credentials_provider(aws_sdk_s3::config::Credentials::new(
        seaweed::ACCESS_KEY,
        "not-the-secret",
        None,
        None,
        "wrong",
    ));
    let (policy, slept) = recording_policy(5);
    let store = S3Store::from_s3_config(config).with_retry_policy(policy);
    let outcome = store.put(&path(&prefix, "x"), b"x".to_vec(), PutOptions::default()).await;
    assert!(matches!(outcome, Err(StoreError::AccessDenied { .. })), "{outcome:?}");
    assert!(slept.lock().unwrap().is_empty(), "access denied is not retried");
}

#[test]
fn server_stops_and_cleans_up_on_drop() {
    let server = match SeaweedServer::start() {
        Ok(server) => server,
        Err(reason) if support::required("GROUNDWORK_REQUIRE_S3") => {
            panic!("GROUNDWORK_REQUIRE_S3=1 but SeaweedFS could not start: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIPPED: server_stops_and_cleans_up_on_drop: {reason}");
            return;
        }
    };
    let port = server.s3_port();
    let dir = server.dir().to_path_buf();
    eprintln!("a dedicated SeaweedFS started in {:.2} s", server.startup().as_secs_f64());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(server);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "port {port} still open");
    assert!(!dir.exists(), "{} was not removed", dir.display());
}

// ---------------------------------------------------------------------------------------------
// Against a scripted fake server: exact requests and injected failures.
// ---------------------------------------------------------------------------------------------

mod fake {
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;

    use groundwork::store::retry::RetryPolicy;
    use groundwork::store::s3::S3Store;

    /// What the fake server does with the next request.
    pub enum Reply {
        /// Answer with a status, headers and a body.
        Respond { status: u16, headers: Vec<(&'static str, String)>, body: Vec<u8> },
        /// Read the request, then close the connection without answering.
        Hangup,
    }

    impl Reply {
        pub fn ok_etag(etag: &str) -> Self {
            Reply::Respond { status: 200, headers: vec![("ETag", etag.to_owned())], body: vec![] }
        }

        pub fn error(status: u16, code: &str) -> Self {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                 <Message>scripted {code}</Message></Error>"
            );
            Reply::Respond {
                status,
                headers: vec![("Content-Type", "application/xml".into())],
                body: body.into_bytes(),
            }
        }

        pub fn object(bytes: &[u8], etag: &str) -> Self {
            Reply::Respond {
                status: 200,
                headers: vec![
                    ("ETag", etag.to_owned()),
                    ("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT".into()),
                ],
                body: bytes.to_vec(),
            }
        }
    }

    /// One request as the server saw it.
    #[derive(Debug, Clone)]
    pub struct Request {
        pub method: String,
        pub target: String,
        /// Lower-cased names.
        pub headers: BTreeMap<String, String>,
        pub body: Vec<u8>,
    }

    /// Answers one connection per scripted reply, in order, then stops listening.
    pub struct FakeS3 {
        port: u16,
        requests: Arc<Mutex<Vec<Request>>>,
        thread: Option<JoinHandle<()>>,
    }

    impl FakeS3 {
        pub fn start(script: Vec<Reply>) -> Self {
            let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
            let port = listener.local_addr().unwrap().port();
            let requests = Arc::new(Mutex::new(Vec::new()));
            let log = Arc::clone(&requests);
            let thread = std::thread::spawn(move || {
                for reply in script {
                    let Ok((stream, _)) = listener.accept() else { return };
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let Some(request) = read_request(&mut reader) else { return };
                    log.lock().unwrap().push(request);
                    let mut stream = stream;
                    match reply {
                        Reply::Hangup => drop(stream),
                        Reply::Respond { status, headers, body } => {
                            let mut head = format!("HTTP/1.1 {status} Scripted\r\n");
                            for (name, value) in headers {
                                head.push_str(&format!("{name}: {value}\r\n"));
                            }
                            head.push_str(&format!(
                                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            ));
                            let _ = stream.write_all(head.as_bytes());
                            let _ = stream.write_all(&body);
                            let _ = stream.flush();
                        }
                    }
                }
            });
            Self { port, requests, thread: Some(thread) }
        }

        pub fn store(&self, retry: RetryPolicy) -> S3Store {
            let config = aws_sdk_s3::config::Builder::new()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .region(aws_sdk_s3::config::Region::from_static("us-east-1"))
                .endpoint_url(format!("http://127.0.0.1:{}", self.port))
                .force_path_style(true)
                .credentials_provider(aws_sdk_s3::config::Credentials::new(
                    "AKID", "SECRET", None, None, "fake",
                ));
            S3Store::from_s3_config(config).with_retry_policy(retry)
        }

        pub fn port(&self) -> u16 {
            self.port
        }

        /// Waits for the script to finish and returns what was received.
        pub fn finish(mut self) -> Vec<Request> {
            if let Some(thread) = self.thread.take() {
                thread.join().unwrap();
            }
            self.requests.lock().unwrap().clone()
        }
    }

    fn read_request(reader: &mut BufReader<std::net::TcpStream>) -> Option<Request> {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let mut parts = line.split_whitespace();
        let method = parts.next()?.to_owned();
        let target = parts.next()?.to_owned();
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).ok()?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':')?;
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
        let mut body = Vec::new();
        if let Some(len) = headers.get("content-length").and_then(|v| v.parse::<usize>().ok()) {
            body.resize(len, 0);
            reader.read_exact(&mut body).ok()?;
        } else if headers.get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            loop {
                let mut size_line = String::new();
                reader.read_line(&mut size_line).ok()?;
                let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
                if size == 0 {
                    // Trailers up to the empty line.
                    loop {
                        let mut trailer = String::new();
                        reader.read_line(&mut trailer).ok()?;
                        if trailer.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let mut chunk = vec![0; size + 2];
                reader.read_exact(&mut chunk).ok()?;
                chunk.truncate(size);
                body.extend(chunk);
            }
        }
        Some(Request { method, target, headers, body })
    }
}

use fake::{FakeS3, Reply};

#[tokio::test]
async fn puts_carry_conditional_and_sse_kms_headers() {
    let server = FakeS3::start(vec![
        Reply::ok_etag("\"e1\""),
        Reply::ok_etag("\"e2\""),
        Reply::ok_etag("\"e3\""),
    ]);
    let store = server.store(RetryPolicy::no_retries());
    let p = ObjectPath::new("out-bucket", "job/annotations/a.json").unwrap();
    let kms = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let create = PutOptions {
        mode: PutMode::CreateOnly,
        content_type: Some("application/json".into()),
        kms_key_id: Some(kms.into()),
    };
    assert_eq!(store.put(&p, b"{}".to_vec(), create).await.unwrap().etag, "\"e1\"");
    let update = PutOptions {
        kms_key_id: Some(kms.into()),
        ..PutOptions::with_mode(PutMode::UpdateIfMatch("\"e1\"".into()))
    };
    assert_eq!(store.put(&p, b"{\"a\":1}".to_vec(), update).await.unwrap().etag, "\"e2\"");
    store.put(&p, b"plain".to_vec(), PutOptions::default()).await.unwrap();

    let requests = server.finish();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(r.method, "PUT");
        assert!(
            r.target.starts_with("/out-bucket/job/annotations/a.json"),
            "path style: {}",
            r.target
        );
    }
    let h = &requests[0].headers;
    assert_eq!(h.get("if-none-match").map(String::as_str), Some("*"));
    assert_eq!(h.get("x-amz-server-side-encryption").map(String::as_str), Some("aws:kms"));
    assert_eq!(h.get("x-amz-server-side-encryption-aws-kms-key-id").map(String::as_str), Some(kms));
    assert_eq!(h.get("content-type").map(String::as_str), Some("application/json"));
    assert!(!h.contains_key("if-match"));
    let h = &requests[1].headers;
    assert_eq!(h.get("if-match").map(String::as_str), Some("\"e1\""));
    assert_eq!(h.get("x-amz-server-side-encryption").map(String::as_str), Some("aws:kms"));
    assert!(!h.contains_key("if-none-match"));
    let h = &requests[2].headers;
    for absent in ["if-match", "if-none-match", "x-amz-server-side-encryption"] {
        assert!(!h.contains_key(absent), "an overwrite without KMS sends no {absent}");
    }
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_with_backoff() {
    let server = FakeS3::start(vec![
        Reply::error(503, "SlowDown"),
        Reply::error(500, "InternalError"),
        Reply::ok_etag("\"done\""),
    ]);
    let (policy, slept) = recording_policy(5);
    let store = server.store(policy.clone());
    let p = ObjectPath::new("bkt", "k").unwrap();
    let put = store.put(&p, b"body".to_vec(), PutOptions::default()).await.unwrap();
    assert_eq!(put.etag, "\"done\"");
    let requests = server.finish();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.body.windows(4).any(|w| w == b"body")), "the body is resent");
    let slept = slept.lock().unwrap().clone();
    assert_eq!(slept.len(), 2);
    for (n, d) in slept.iter().enumerate() {
        assert!(*d <= policy.delay_cap(n as u32));
    }
}

#[tokio::test]
async fn gives_up_after_the_policy_attempts_with_a_transient_error() {
    let server = FakeS3::start((0..3).map(|_| Reply::error(503, "SlowDown")).collect());
    let (policy, slept) = recording_policy(3);
    let store = server.store(policy);
    let p = ObjectPath::new("bkt", "k").unwrap();
    let outcome = store.get(&p, None).await;
    match outcome {
        Err(StoreError::Transient { path, message }) => {
            assert_eq!(path, "s3://bkt/k");
            assert!(message.contains("503") && message.contains("SlowDown"), "{message}");
        }
        other => panic!("expected a transient error, got {other:?}"),
    }
    assert_eq!(server.finish().len(), 3);
    assert_eq!(slept.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let port = {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::from_static("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new("A", "S", None, None, "t"));
    let (policy, slept) = recording_policy(4);
    let store = S3Store::from_s3_config(config).with_retry_policy(policy);
    let outcome = store.head(&ObjectPath::new("bkt", "k").unwrap()).await;
    assert!(matches!(outcome, Err(StoreError::Transient { .. })), "{outcome:?}");
    assert_eq!(slept.lock().unwrap().len(), 3, "four attempts, three waits");
}

#[tokio::test]
async fn refusals_are_mapped_and_not_retried() {
    let server = FakeS3::start(vec![
        Reply::error(412, "PreconditionFailed"),
        Reply::error(403, "AccessDenied"),
        Reply::error(400, "InvalidArgument"),
        // An update refused with 412: a HEAD tells a stale ETag from a missing object.
        Reply::error(412, "PreconditionFailed"),
        Reply::object(b"now", "\"other\""),
    ]);
    let (policy, slept) = recording_policy(5);
    let store = server.store(policy);
    let p = ObjectPath::new("bkt", "k").unwrap();
    let create = store.put(&p, b"x".to_vec(), PutOptions::with_mode(PutMode::CreateOnly)).await;
    assert!(matches!(create, Err(StoreError::AlreadyExists { .. })), "{create:?}");
    let denied = store.get(&p, None).await;
    assert!(
        matches!(&denied, Err(StoreError::AccessDenied { message, .. }) if message.contains("AccessDenied")),
        "{denied:?}"
    );
    let bad = store.list(&p, None, 10).await;
    assert!(matches!(bad, Err(StoreError::Other { .. })), "{bad:?}");
    let update = store
        .put(&p, b"x".to_vec(), PutOptions::with_mode(PutMode::UpdateIfMatch("\"e\"".into())))
        .await;
    assert!(matches!(update, Err(StoreError::PreconditionFailed { .. })), "{update:?}");
    let requests = server.finish();
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["PUT", "GET", "GET", "PUT", "HEAD"]);
    assert!(slept.lock().unwrap().is_empty(), "nothing here is worth a retry");
}

#[tokio::test]
async fn an_ambiguous_create_only_retry_is_resolved_by_reading_back() {
    // The first attempt reaches the server but the answer is lost; the retry is refused because
    // the first attempt did write. Reading back shows our bytes: the put succeeded.
    let server = FakeS3::start(vec![
        Reply::Hangup,
        Reply::error(412, "PreconditionFailed"),
        Reply::object(b"claim-of-worker-a", "\"ours\""),
    ]);
    let (policy, _) = recording_policy(5);
    let store = server.store(policy);
    let p = ObjectPath::new("bkt", "claims/1/0.json").unwrap();
    let put = store
        .put(&p, b"claim-of-worker-a".to_vec(), PutOptions::with_mode(PutMode::CreateOnly))
        .await;
    assert_eq!(put.unwrap().etag, "\"ours\"");
    let methods: Vec<String> = server.finish().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["PUT", "PUT", "GET"]);

    // Same story, but someone else's bytes are there: a genuine loss.
    let server = FakeS3::start(vec![
        Reply::Hangup,
        Reply::error(412, "PreconditionFailed"),
        Reply::object(b"claim-of-worker-b", "\"theirs\""),
    ]);
    let (policy, _) = recording_policy(5);
    let store = server.store(policy);
    let put = store
        .put(&p, b"claim-of-worker-a".to_vec(), PutOptions::with_mode(PutMode::CreateOnly))
        .await;
    assert!(matches!(put, Err(StoreError::AlreadyExists { .. })), "{put:?}");
    assert_eq!(server.finish().len(), 3);
}

#[tokio::test]
async fn a_failed_multipart_upload_is_aborted() {
    let initiate = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult>\
        <Bucket>bkt</Bucket><Key>big</Key><UploadId>upload-1</UploadId>\
        </InitiateMultipartUploadResult>";
    let server = FakeS3::start(vec![
        Reply::Respond { status: 200, headers: vec![], body: initiate.as_bytes().to_vec() },
        Reply::error(400, "InvalidArgument"),
        Reply::Respond { status: 204, headers: vec![], body: vec![] },
    ]);
    let multipart = MultipartConfig {
        threshold_bytes: 5 << 20,
        part_size_bytes: 5 << 20,
        max_concurrent_parts: 1,
    };
    let store = server.store(RetryPolicy::no_retries()).with_multipart(multipart);
    let p = ObjectPath::new("bkt", "big").unwrap();
    let outcome = store.put(&p, noise(6 << 20, 3), PutOptions::default()).await;
    assert!(matches!(outcome, Err(StoreError::Other { .. })), "{outcome:?}");
    let requests = server.finish();
    let summary: Vec<(&str, &str)> =
        requests.iter().map(|r| (r.method.as_str(), r.target.as_str())).collect();
    assert_eq!(summary.len(), 3, "{summary:?}");
    assert_eq!(summary[0].0, "POST");
    assert!(summary[0].1.contains("uploads"), "{summary:?}");
    assert_eq!(summary[1].0, "PUT");
    assert!(summary[1].1.contains("partNumber=1") && summary[1].1.contains("uploadId=upload-1"));
    assert_eq!(summary[2].0, "DELETE", "the upload is aborted");
    assert!(summary[2].1.contains("uploadId=upload-1"), "{summary:?}");
}

#[tokio::test]
async fn from_env_reaches_a_custom_endpoint_path_style() {
    use groundwork::store::s3::S3Config;
    let server = FakeS3::start(vec![Reply::object(b"hello", "\"e\"")]);
    let config = S3Config {
        endpoint_url: Some(format!("http://127.0.0.1:{}", server.port())),
        profile: Some("groundwork-test-no-such-profile".into()),
        region: Some("eu-west-1".into()),
        force_path_style: None,
    };
    let store = S3Store::from_env(config).await.unwrap();
    let p = ObjectPath::new("bkt", "dir/k.json").unwrap();
    match store.get(&p, None).await {
        // Credentials came from the environment: the request went to the endpoint, path style,
        // signed for the region.
        Ok(got) => {
            assert_eq!(got.bytes, b"hello");
            let requests = server.finish();
            assert_eq!(requests[0].target, "/bkt/dir/k.json");
            let auth = requests[0].headers.get("authorization").cloned().unwrap_or_default();
            assert!(auth.contains("/eu-west-1/s3/"), "{auth}");
        }
        // No credentials anywhere: a clear, non-retryable error.
        Err(err) => {
            eprintln!("NOTE: no AWS credentials in this environment: {err}");
            assert!(matches!(err, StoreError::Other { .. }), "{err:?}");
            assert!(err.to_string().to_lowercase().contains("credential"), "{err}");
        }
    }
}
