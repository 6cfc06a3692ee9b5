//! The local-folder workspace: the shared conformance suite on `LocalStore`, races between
//! threads and between processes sharing one folder, atomicity, key validation, the catalog and
//! automated data setup.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};

use groundwork::store::catalog::{CatalogError, JobEntry, WorkTeam, Workspace};
use groundwork::store::conformance;
use groundwork::store::data_setup::{DataKind, DataSetupRequest, SkipReason, Skipped, setup_data};
use groundwork::store::local::{LocalStore, etag_of};
use groundwork::store::{ObjectPath, ObjectStore, PutMode, PutOptions, StoreError};

fn path(uri: &str) -> ObjectPath {
    ObjectPath::parse(uri).unwrap()
}

fn put_opts(mode: PutMode) -> PutOptions {
    PutOptions::with_mode(mode)
}

/// All regular files under `dir`, relative, sorted (what is really on disk).
fn files_on_disk(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let p = entry.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Conformance

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    conformance::run_all(&store, "conformance-bucket").await;
    // The reserved catalog bucket behaves the same.
    conformance::run_all(&store, groundwork::store::LOCAL_CATALOG_BUCKET).await;
    // Clean-up left no object and no temporary file behind (only the lock files remain).
    let left: Vec<String> =
        files_on_disk(dir.path()).into_iter().filter(|f| !f.starts_with(".~gw-locks/")).collect();
    assert_eq!(left, Vec::<String>::new());
}

/// The in-memory store (the wizard's preview sandbox) passes the same suite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_conformance_suite() {
    let store = groundwork::store::memory::MemoryStore::new();
    conformance::run_all(&store, "conformance-bucket").await;
}

#[tokio::test(flavor = "current_thread")]
async fn conformance_on_a_single_threaded_runtime() {
    // spawn_blocking must not need worker threads of the caller's runtime.
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let base = conformance::fresh_prefix("bucket-one");
    conformance::round_trip(&store, &base).await;
    conformance::concurrent_create_only(&store, &base, 8).await;
    conformance::concurrent_update_if_match(&store, &base, 8, 3).await;
}

#[test]
fn works_without_a_tokio_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let p = path("s3://bucket-two/x/y.txt");
    pollster::block_on(async {
        let put = store.put(&p, b"hello".to_vec(), PutOptions::default()).await.unwrap();
        assert_eq!(put.etag, etag_of(b"hello"));
        assert_eq!(store.get(&p, None).await.unwrap().bytes, b"hello");
    });
}

// ---------------------------------------------------------------------------------------------
// Races: threads with separate stores over one folder, and separate processes

#[test]
fn threads_with_separate_stores_race_create_only_and_update_if_match() {
    const THREADS: usize = 16;
    const ROUNDS: usize = 5;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let (root, barrier) = (root.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let store = LocalStore::new(root).unwrap(); // one store per thread
                let claim = path("s3://race-bucket/claims/0/0.json");
                let counter = path("s3://race-bucket/rounds.txt");
                let mut wins = Vec::new();
                barrier.wait();
                let created = pollster::block_on(store.put(
                    &claim,
                    format!("worker {i}").into_bytes(),
                    put_opts(PutMode::CreateOnly),
                ));
                match created {
                    Ok(_) => wins.push("create".to_owned()),
                    Err(StoreError::AlreadyExists { .. }) => {}
                    Err(e) => panic!("thread {i}: {e}"),
                }
                for round in 0..ROUNDS {
                    if i == 0 {
                        let body = format!("round {round} start");
                        pollster::block_on(store.put(
                            &counter,
                            body.into_bytes(),
                            PutOptions::default(),
                        ))
                        .unwrap();
                    }
                    barrier.wait();
                    let etag = pollster::block_on(store.head(&counter)).unwrap().etag;
                    barrier.wait();
                    let body = format!("round {round} thread {i}").into_bytes();
                    match pollster::block_on(store.put(
                        &counter,
                        body,
                        put_opts(PutMode::UpdateIfMatch(etag)),
                    )) {
                        Ok(_) => wins.push(format!("round {round}")),
                        Err(StoreError::PreconditionFailed { .. }) => {}
                        Err(e) => panic!("thread {i} round {round}: {e}"),
                    }
                    barrier.wait();
                }
                wins
            })
        })
        .collect();
    let mut wins: Vec<String> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    wins.sort();
    let mut expected = vec!["create".to_owned()];
    expected.extend((0..ROUNDS).map(|r| format!("round {r}")));
    assert_eq!(wins, expected, "exactly one winner per race");
}

#[test]
fn threads_with_separate_stores_never_lose_an_increment() {
    const THREADS: usize = 8;
    const INCREMENTS: usize = 25;
    let dir = tempfile::tempdir().unwrap();
    let counter = path("s3://race-bucket/counter.txt");
    let store = LocalStore::new(dir.path()).unwrap();
    pollster::block_on(store.put(&counter, b"0".to_vec(), PutOptions::default())).unwrap();
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let root = dir.path().to_path_buf();
            let counter = counter.clone();
            std::thread::spawn(move || {
                increment(&LocalStore::new(root).unwrap(), &counter, INCREMENTS)
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let got = pollster::block_on(store.get(&counter, None)).unwrap();
    assert_eq!(String::from_utf8(got.bytes).unwrap(), (THREADS * INCREMENTS).to_string());
}

/// Adds 1 to the decimal number in `counter`, `times` times, with optimistic concurrency.
fn increment(store: &LocalStore, counter: &ObjectPath, times: usize) -> usize {
    let mut conflicts = 0;
    for _ in 0..times {
        loop {
            let got = pollster::block_on(store.get(counter, None)).unwrap();
            let n: usize = std::str::from_utf8(&got.bytes).unwrap().parse().unwrap();
            let next = (n + 1).to_string().into_bytes();
            match pollster::block_on(store.put(
                counter,
                next,
                put_opts(PutMode::UpdateIfMatch(got.meta.etag)),
            )) {
                Ok(_) => break,
                Err(StoreError::PreconditionFailed { .. }) => conflicts += 1,
                Err(e) => panic!("{e}"),
            }
        }
    }
    conflicts
}

const CHILD_ROOT: &str = "GROUNDWORK_RACE_CHILD_ROOT";
const CHILD_ID: &str = "GROUNDWORK_RACE_CHILD_ID";

/// Run by `processes_sharing_a_folder_race` in child processes; a no-op otherwise.
#[test]
fn race_child() {
    let (Some(root), Some(id)) = (std::env::var_os(CHILD_ROOT), std::env::var_os(CHILD_ID)) else {
        return;
    };
    let id = id.into_string().unwrap();
    let store = LocalStore::new(&root).unwrap();
    // Start together: wait for the parent's go signal.
    let go = Path::new(&root).join("go");
    while !go.exists() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let claim = path("s3://race-bucket/claim.json");
    match pollster::block_on(store.put(
        &claim,
        id.clone().into_bytes(),
        put_opts(PutMode::CreateOnly),
    )) {
        Ok(_) => println!("RACE-RESULT created-by {id}"),
        Err(StoreError::AlreadyExists { .. }) => println!("RACE-RESULT lost {id}"),
        Err(e) => panic!("{e}"),
    }
    let conflicts = increment(&store, &path("s3://race-bucket/counter.txt"), 20);
    println!("RACE-RESULT conflicts {conflicts}");
}

#[test]
fn processes_sharing_a_folder_race() {
    const PROCESSES: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let counter = path("s3://race-bucket/counter.txt");
    pollster::block_on(store.put(&counter, b"0".to_vec(), PutOptions::default())).unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|i| {
            Command::new(&exe)
                .args(["--exact", "race_child", "--nocapture", "--test-threads=1"])
                .env(CHILD_ROOT, dir.path())
                .env(CHILD_ID, format!("p{i}"))
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::fs::write(dir.path().join("go"), b"").unwrap();
    let mut created = Vec::new();
    let mut lost = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "child failed: {stdout}");
        assert!(stdout.contains("RACE-RESULT conflicts"), "child did not race: {stdout}");
        // The harness prints `test race_child ... ` before the test's own output, on one line.
        for line in stdout.lines().filter_map(|l| l.find("RACE-RESULT ").map(|i| &l[i..])) {
            if let Some(id) = line.strip_prefix("RACE-RESULT created-by ") {
                created.push(id.to_owned());
            } else if line.starts_with("RACE-RESULT lost ") {
                lost += 1;
            }
        }
    }
    assert_eq!(created.len(), 1, "exactly one process creates the claim: {created:?}");
    assert_eq!(lost, PROCESSES - 1);
    let claim = pollster::block_on(store.get(&path("s3://race-bucket/claim.json"), None)).unwrap();
    assert_eq!(String::from_utf8(claim.bytes).unwrap(), created[0]);
    let total = pollster::block_on(store.get(&counter, None)).unwrap();
    assert_eq!(String::from_utf8(total.bytes).unwrap(), (PROCESSES * 20).to_string());
}

// ---------------------------------------------------------------------------------------------
// Atomicity, ETags, local semantics

#[test]
fn readers_never_see_a_partial_object_or_a_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let p = path("s3://atomic/big.bin");
    let store = LocalStore::new(&root).unwrap();
    pollster::block_on(store.put(&p, vec![0u8; 1 << 17], PutOptions::default())).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (root, p, stop) = (root.clone(), p.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let store = LocalStore::new(root).unwrap();
            let mut n = 0u8;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n = n.wrapping_add(1);
                let size = (1 << 17) + usize::from(n) * 512;
                pollster::block_on(store.put(&p, vec![n; size], PutOptions::default())).unwrap();
            }
            n
        })
    };
    let reader = LocalStore::new(&root).unwrap();
    let prefix = path("s3://atomic/");
    for _ in 0..100 {
        let got = pollster::block_on(reader.get(&p, None)).unwrap();
        let first = got.bytes[0];
        assert!(got.bytes.iter().all(|&b| b == first), "a mix of two versions");
        assert_eq!(got.bytes.len() as u64, got.meta.size);
        assert_eq!(got.bytes.len(), (1 << 17) + usize::from(first) * 512, "a partial object");
        assert_eq!(got.meta.etag, etag_of(&got.bytes), "ETag of another version");
        let page = pollster::block_on(reader.list(&prefix, None, 10)).unwrap();
        let keys: Vec<&str> = page.objects.iter().map(|o| o.path.key()).collect();
        assert_eq!(keys, ["big.bin"], "only the object is ever listed");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);
}

#[tokio::test]
async fn internal_files_are_invisible_and_their_names_reserved() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    store.put(&path("s3://bkt/a/real.txt"), b"x".to_vec(), PutOptions::default()).await.unwrap();
    // Leftovers of a crashed writer: a temporary file and a stray internal folder.
    std::fs::write(dir.path().join("bkt/a/.~gw-tmp-1-2-deadbeef"), b"partial").unwrap();
    std::fs::create_dir_all(dir.path().join("bkt/.~gw-x")).unwrap();
    std::fs::write(dir.path().join("bkt/.~gw-x/y"), b"y").unwrap();
    let page = store.list(&path("s3://bkt/"), None, 100).await.unwrap();
    let keys: Vec<&str> = page.objects.iter().map(|o| o.path.key()).collect();
    assert_eq!(keys, ["a/real.txt"]);
    for bad in ["s3://bkt/a/.~gw-tmp-1-2-deadbeef", "s3://bkt/.~gw-x/y", "s3://bkt/a/"] {
        let err = store.put(&path(bad), b"z".to_vec(), PutOptions::default()).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidPath { .. }), "{bad}: {err}");
        assert!(store.get(&path(bad), None).await.is_err());
    }
    assert_eq!(std::fs::read(dir.path().join("bkt/a/.~gw-tmp-1-2-deadbeef")).unwrap(), b"partial");
}

#[cfg(unix)]
#[tokio::test]
async fn linked_folders_are_listed_and_link_loops_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("img.png"), b"png").unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    store.put(&path("s3://bkt/a/x"), b"x".to_vec(), PutOptions::default()).await.unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("bkt/linked")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("bkt/a"), dir.path().join("bkt/a/loop")).unwrap();
    let page = store.list(&path("s3://bkt/"), None, 100).await.unwrap();
    let keys: Vec<&str> = page.objects.iter().map(|o| o.path.key()).collect();
    assert_eq!(keys, ["a/x", "linked/img.png"]);
    assert_eq!(store.get(&path("s3://bkt/linked/img.png"), None).await.unwrap().bytes, b"png");
}

#[test]
fn invalid_keys_are_rejected_with_a_clear_reason() {
    for (uri, reason) in [
        ("s3://bkt/../outside", "'.' or '..'"),
        ("s3://bkt/a//b", "empty segment"),
        ("s3://bkt//abs", "must not start with '/'"),
    ] {
        let err = ObjectPath::parse(uri).unwrap_err().to_string();
        assert!(err.contains(reason) && err.contains(uri), "{uri}: {err}");
    }
    let err = ObjectPath::new("bkt", "/etc/passwd").unwrap_err().to_string();
    assert!(err.contains("must not start with '/'"), "{err}");
    conformance::invalid_keys_rejected("bkt");
}

#[tokio::test]
async fn etags_are_content_hashes_and_follow_outside_edits() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let a = store.put(&path("s3://bkt/a"), b"same".to_vec(), PutOptions::default()).await.unwrap();
    let b =
        store.put(&path("s3://bkt/b/c"), b"same".to_vec(), PutOptions::default()).await.unwrap();
    assert_eq!(a.etag, b.etag, "equal content, equal ETag");
    assert_eq!(a.etag, etag_of(b"same"));
    assert_eq!(a.etag.len(), 32);

    // A file copied in by hand is an object; editing it by hand changes its ETag.
    let file = dir.path().join("bkt/by-hand.txt");
    std::fs::write(&file, b"one").unwrap();
    let p = path("s3://bkt/by-hand.txt");
    assert_eq!(store.head(&p).await.unwrap().etag, etag_of(b"one"));
    std::fs::write(&file, b"three").unwrap();
    let head = store.head(&p).await.unwrap();
    assert_eq!((head.etag.as_str(), head.size), (etag_of(b"three").as_str(), 5));
    let stale = PutOptions::with_mode(PutMode::UpdateIfMatch(etag_of(b"one")));
    assert!(matches!(
        store.put(&p, b"x".to_vec(), stale).await,
        Err(StoreError::PreconditionFailed { .. })
    ));
    // Same size, in place: the file's change time moves on, and so does the ETag. (The cache
    // trusts the file system's timestamps; give a coarse clock a tick.)
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&file, b"thref").unwrap();
    let page = store.list(&path("s3://bkt/by"), None, 10).await.unwrap();
    assert_eq!(page.objects[0].etag, etag_of(b"thref"));
}

#[tokio::test]
async fn files_and_folders_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let deep = path("s3://bkt/x/y/z/deep.json");
    store.put(&deep, b"{}".to_vec(), PutOptions::default()).await.unwrap();
    assert_eq!(std::fs::read(dir.path().join("bkt/x/y/z/deep.json")).unwrap(), b"{}");
    assert_eq!(
        store.file_path(&deep).unwrap(),
        dir.path().join("bkt").join("x").join("y").join("z").join("deep.json")
    );
    // The catalog bucket is `<root>/.groundwork/`.
    let cat = ObjectPath::new(".groundwork", "jobs/j/job.json").unwrap();
    store.put(&cat, b"{}".to_vec(), PutOptions::default()).await.unwrap();
    assert!(dir.path().join(".groundwork/jobs/j/job.json").is_file());

    // Delete prunes emptied folders up to, not including, the bucket.
    store.put(&path("s3://bkt/x/keep.txt"), b"k".to_vec(), PutOptions::default()).await.unwrap();
    store.delete(&deep).await.unwrap();
    assert!(!dir.path().join("bkt/x/y").exists());
    assert!(dir.path().join("bkt/x/keep.txt").is_file());
    store.delete(&path("s3://bkt/x/keep.txt")).await.unwrap();
    assert!(!dir.path().join("bkt/x").exists());
    assert!(dir.path().join("bkt").is_dir());

    // An object and a prefix of one name cannot coexist here: a clear error, nothing changed.
    store.put(&path("s3://bkt/f"), b"file".to_vec(), PutOptions::default()).await.unwrap();
    let err =
        store.put(&path("s3://bkt/f/g"), b"g".to_vec(), PutOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("cannot hold an object and a prefix"), "{err}");
    store.put(&path("s3://bkt/d/e"), b"e".to_vec(), PutOptions::default()).await.unwrap();
    for mode in [PutMode::Overwrite, PutMode::CreateOnly] {
        let err = store.put(&path("s3://bkt/d"), b"d".to_vec(), put_opts(mode)).await.unwrap_err();
        assert!(err.to_string().contains("cannot hold an object and a prefix"), "{err}");
    }
    assert!(matches!(store.get(&path("s3://bkt/d"), None).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(
        store.get(&path("s3://bkt/f/g"), None).await,
        Err(StoreError::NotFound { .. })
    ));
    store.delete(&path("s3://bkt/d")).await.unwrap(); // a folder is no object: nothing to delete
    assert!(dir.path().join("bkt/d/e").is_file());

    // A missing bucket lists as empty; a bad range names the object and the size.
    let page = store.list(&path("s3://no-such-bucket/"), None, 10).await.unwrap();
    assert!(page.objects.is_empty() && page.next.is_none());
    let err = store.get(&path("s3://bkt/f"), Some(4..9)).await.unwrap_err().to_string();
    assert!(err.contains("s3://bkt/f") && err.contains("4 bytes"), "{err}");
    // No temporary file survives the failed puts.
    assert!(files_on_disk(&dir.path().join("bkt")).iter().all(|f| !f.contains(".~gw")));
}

// ---------------------------------------------------------------------------------------------
// Catalog

const JOB_JSON: &str = "{\n  \"LabelingJobName\": \"boxes-1\",\n  \"InputConfig\": {\"DataSource\": \
     {\"S3DataSource\": {\"ManifestS3Uri\": \"s3://data/in/dataset.manifest\"}}}\n}\n";

#[tokio::test]
async fn catalog_jobs_create_list_stop() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open_local(dir.path()).unwrap();
    let created = ws
        .create_job("boxes-1", JOB_JSON.as_bytes().to_vec(), "alice", 1_566_861_644_123)
        .await
        .unwrap();
    assert_eq!(created.created_at, "2019-08-26T23:20:44.123Z");
    // job.json holds exactly the caller's bytes, on disk under <root>/.groundwork/.
    let on_disk = std::fs::read(dir.path().join(".groundwork/jobs/boxes-1/job.json")).unwrap();
    assert_eq!(on_disk, JOB_JSON.as_bytes());
    assert_eq!(ws.job_spec_bytes("boxes-1").await.unwrap(), JOB_JSON.as_bytes());
    assert_eq!(ws.job_created("boxes-1").await.unwrap(), Some(created));

    // Taken names, also in another letter case.
    for name in ["boxes-1", "BOXES-1"] {
        let json = JOB_JSON.replace("boxes-1", name);
        match ws.create_job(name, json.into_bytes(), "bob", 0).await {
            Err(e @ CatalogError::JobExists { .. }) => {
                assert_eq!(e.to_string(), "a job named \"boxes-1\" already exists")
            }
            other => panic!("{name}: expected JobExists, got {other:?}"),
        }
    }
    assert_eq!(ws.job_spec_bytes("boxes-1").await.unwrap(), JOB_JSON.as_bytes());
    // Unusable requests.
    for (name, bytes) in [("j2", "not json"), ("j2", "[1]"), ("other", JOB_JSON)] {
        assert!(matches!(
            ws.create_job(name, bytes.as_bytes().to_vec(), "bob", 0).await,
            Err(CatalogError::InvalidJob { .. })
        ));
    }
    assert!(ws.create_job("../evil", b"{}".to_vec(), "bob", 0).await.is_err());

    ws.create_job("a-job", b"{}".to_vec(), "bob", 5).await.unwrap();
    ws.create_job("a", b"{}".to_vec(), "bob", 5).await.unwrap();
    assert!(ws.stop_job("a-job", "carol", 7).await.unwrap());
    assert!(!ws.stop_job("a-job", "dave", 8).await.unwrap(), "the first stop request is kept");
    assert_eq!(ws.stop_request("a-job").await.unwrap().unwrap().stopped_by, "carol");
    assert_eq!(ws.stop_request("a").await.unwrap(), None);
    assert!(matches!(ws.stop_job("nope", "carol", 7).await, Err(CatalogError::JobNotFound { .. })));
    assert!(matches!(ws.stop_request("nope").await, Err(CatalogError::JobNotFound { .. })));
    assert!(matches!(ws.job_spec_bytes("nope").await, Err(CatalogError::JobNotFound { .. })));

    let entry = |name: &str, stop| JobEntry { name: name.to_owned(), stop_requested: stop };
    assert_eq!(
        ws.list_jobs().await.unwrap(),
        [entry("a", false), entry("a-job", true), entry("boxes-1", false)]
    );

    // The input manifest, counted through the store.
    let manifest = path("s3://data/in/dataset.manifest");
    let lines = "{\"source-ref\": \"s3://data/in/1.jpg\"}\r\n\n{\"source-ref\": \"s3://data/in/2.jpg\"}\n  \n{\"source\": \"x\"}";
    ws.store.put(&manifest, lines.as_bytes().to_vec(), PutOptions::default()).await.unwrap();
    assert_eq!(ws.job_input_manifest("boxes-1").await.unwrap(), manifest);
    assert_eq!(ws.job_object_count("boxes-1").await.unwrap(), 3);
    assert!(matches!(ws.job_object_count("a").await, Err(CatalogError::InvalidJob { .. })));
}

#[tokio::test]
async fn catalog_work_teams() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open_local(dir.path()).unwrap();
    let team = WorkTeam::new("labelers", ["zoe", "adam", "mia", "adam"]).unwrap();
    assert_eq!(team.members, ["adam", "mia", "zoe"]);
    ws.create_workteam(&team).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".groundwork/workteams/labelers.json")).unwrap(),
        "{\n  \"name\": \"labelers\",\n  \"members\": [\n    \"adam\",\n    \"mia\",\n    \"zoe\"\n  ]\n}\n"
    );
    assert!(matches!(ws.create_workteam(&team).await, Err(CatalogError::TeamExists { .. })));
    assert!(WorkTeam::new("t", ["ok", "not/ok"]).is_err());
    assert!(WorkTeam::new("bad name", ["ok"]).is_err());
    ws.put_workteam(&WorkTeam::new("reviewers", ["mia"]).unwrap()).await.unwrap();
    assert_eq!(ws.list_workteams().await.unwrap(), ["labelers", "reviewers"]);
    assert_eq!(ws.teams_of("mia").await.unwrap(), ["labelers", "reviewers"]);
    assert_eq!(ws.teams_of("zoe").await.unwrap(), ["labelers"]);

    // Concurrent edits are all kept (update-if-match with retries).
    let adds = (0..8).map(|i| {
        let ws = ws.clone();
        tokio::spawn(async move {
            let w = format!("worker-{i}");
            ws.add_members("reviewers", &[w.as_str()]).await.unwrap();
        })
    });
    for add in adds.collect::<Vec<_>>() {
        add.await.unwrap();
    }
    let reviewers = ws.workteam("reviewers").await.unwrap();
    assert_eq!(reviewers.members.len(), 9, "{reviewers:?}");
    let team = ws.remove_members("reviewers", &["mia", "worker-3", "nobody"]).await.unwrap();
    assert_eq!(team.members.len(), 7);
    assert!(!team.has_member("mia") && team.has_member("worker-4"));

    ws.delete_workteam("labelers").await.unwrap();
    assert!(matches!(ws.workteam("labelers").await, Err(CatalogError::TeamNotFound { .. })));
    assert!(matches!(ws.delete_workteam("labelers").await, Err(CatalogError::TeamNotFound { .. })));
    assert!(matches!(
        ws.add_members("labelers", &["x"]).await,
        Err(CatalogError::TeamNotFound { .. })
    ));
    assert_eq!(ws.list_workteams().await.unwrap(), ["reviewers"]);
}

// ---------------------------------------------------------------------------------------------
// Data setup

const NOW_MS: i64 = 1_566_861_644_000; // 2019-08-26T23:20:44Z
const MANIFEST: &str = "dataset-190826T232044.manifest";

async fn put_all(store: &dyn ObjectStore, bucket: &str, files: &[(&str, &[u8])]) {
    for (key, bytes) in files {
        let p = ObjectPath::new(bucket, *key).unwrap();
        store.put(&p, bytes.to_vec(), PutOptions::default()).await.unwrap();
    }
}

async fn text_of(store: &dyn ObjectStore, p: &ObjectPath) -> String {
    String::from_utf8(store.get(p, None).await.unwrap().bytes).unwrap()
}

fn skip(uri: &str, line: Option<usize>, reason: SkipReason) -> Skipped {
    Skipped { path: path(uri), line, reason }
}

fn unsupported(ext: &str) -> SkipReason {
    SkipReason::UnsupportedExtension { extension: ext.to_owned() }
}

#[tokio::test]
async fn data_setup_images() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let big = vec![7u8; (40 << 20) + 1];
    put_all(
        &store,
        "data",
        &[
            ("images/b.JPG", b"jpg"),
            ("images/a.png", b"png"),
            ("images/sub/c.jpeg", b"jpeg"),
            ("images/notes.txt", b"text"),
            ("images/empty.png", b""),
            ("images/noext", b"?"),
            ("images/d.gif", b"gif"),
            ("images/huge.png", &big),
            ("elsewhere/e.png", b"png"),
        ],
    )
    .await;
    let request = DataSetupRequest {
        input_prefix: path("s3://data/images"),
        kind: DataKind::Images,
        now_ms: NOW_MS,
        manifest: None,
    };
    let report = setup_data(&store, &request).await.unwrap();
    let manifest = path(&format!("s3://data/images/{MANIFEST}"));
    assert_eq!(report.manifest.as_ref(), Some(&manifest));
    assert_eq!(report.data_objects, 3);
    assert_eq!(
        text_of(&store, &manifest).await,
        "{\"source-ref\":\"s3://data/images/a.png\"}\n\
         {\"source-ref\":\"s3://data/images/b.JPG\"}\n\
         {\"source-ref\":\"s3://data/images/sub/c.jpeg\"}\n"
    );
    assert_eq!(
        report.skipped,
        [
            skip("s3://data/images/d.gif", None, unsupported("gif")),
            skip("s3://data/images/empty.png", None, SkipReason::EmptyFile),
            skip(
                "s3://data/images/huge.png",
                None,
                SkipReason::FileTooLarge { size_bytes: (40 << 20) + 1, limit_bytes: 40 << 20 }
            ),
            skip("s3://data/images/noext", None, unsupported("")),
            skip("s3://data/images/notes.txt", None, unsupported("txt")),
        ]
    );
    assert_eq!(report.skipped[2].reason.to_string(), "41943041 bytes, over the limit of 41943040");
    // The same second again: the manifest is never overwritten.
    assert!(matches!(setup_data(&store, &request).await, Err(StoreError::AlreadyExists { .. })));
}

#[tokio::test]
async fn data_setup_text_and_video_clips() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let long = format!("ok\n{}\n", "x".repeat(20_001));
    put_all(
        &store,
        "data",
        &[
            ("text/a.txt", "\u{feff}first line\r\n\nsecond \"quoted\" line\n".as_bytes()),
            ("text/b.CSV", b"id,text\n1,\"multi\nline\"\n\n2,plain"),
            ("text/long.txt", long.as_bytes()),
            ("text/empty.txt", b"\n  \n"),
            ("text/bad.txt", &[0xff, 0xfe, 0x41]),
            ("text/img.png", b"png"),
            ("clips/a.MP4", b"mp4"),
            ("clips/b.webm", b"webm"),
            ("clips/c.avi", b"avi"),
            ("clips/d.ogg", b""),
        ],
    )
    .await;
    let report = setup_data(
        &store,
        &DataSetupRequest {
            input_prefix: path("s3://data/text/"),
            kind: DataKind::Text,
            now_ms: NOW_MS,
            manifest: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(report.data_objects, 6);
    assert_eq!(
        text_of(&store, report.manifest.as_ref().unwrap()).await,
        "{\"source\":\"first line\"}\n\
         {\"source\":\"second \\\"quoted\\\" line\"}\n\
         {\"source\":\"id,text\"}\n\
         {\"source\":\"1,\\\"multi\\nline\\\"\"}\n\
         {\"source\":\"2,plain\"}\n\
         {\"source\":\"ok\"}\n"
    );
    assert_eq!(
        report.skipped,
        [
            skip("s3://data/text/bad.txt", None, SkipReason::NotUtf8),
            skip("s3://data/text/empty.txt", None, SkipReason::EmptyFile),
            skip("s3://data/text/img.png", None, unsupported("png")),
            skip(
                "s3://data/text/long.txt",
                Some(2),
                SkipReason::ValueTooLong { chars: 20_001, limit: 20_000 }
            ),
        ]
    );

    let report = setup_data(
        &store,
        &DataSetupRequest {
            input_prefix: path("s3://data/clips/"),
            kind: DataKind::VideoClips,
            now_ms: NOW_MS,
            manifest: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        text_of(&store, report.manifest.as_ref().unwrap()).await,
        "{\"source-ref\":\"s3://data/clips/a.MP4\"}\n{\"source-ref\":\"s3://data/clips/b.webm\"}\n"
    );
    assert_eq!(
        report.skipped,
        [
            skip("s3://data/clips/c.avi", None, unsupported("avi")),
            skip("s3://data/clips/d.ogg", None, SkipReason::EmptyFile),
        ]
    );
}

#[tokio::test]
async fn data_setup_video_frames() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    put_all(
        &store,
        "data",
        &[
            ("frames/seq-b/0002.jpg", b"2"),
            ("frames/seq-b/0001.jpg", b"1"),
            ("frames/seq-b/0010.PNG", b"10"),
            ("frames/seq-b/readme.md", b"#"),
            ("frames/seq-a/f1.png", b"f"),
            ("frames/seq-a/sub/x.jpg", b"x"),
            ("frames/stray.jpg", b"s"),
            ("frames/junk-only/notes.txt", b"n"),
            ("frames/seq-c/zero.jpg", b""),
        ],
    )
    .await;
    let request = DataSetupRequest {
        input_prefix: path("s3://data/frames/"),
        kind: DataKind::VideoFrames,
        now_ms: NOW_MS,
        manifest: None,
    };
    let report = setup_data(&store, &request).await.unwrap();
    let seq_a = path("s3://data/frames/seq-a/seq-a.json");
    let seq_b = path("s3://data/frames/seq-b/seq-b.json");
    assert_eq!(report.sequence_files, [seq_a.clone(), seq_b.clone()]);
    assert_eq!(report.data_objects, 2);
    assert_eq!(
        text_of(&store, report.manifest.as_ref().unwrap()).await,
        "{\"source-ref\":\"s3://data/frames/seq-a/seq-a.json\"}\n\
         {\"source-ref\":\"s3://data/frames/seq-b/seq-b.json\"}\n"
    );
    assert_eq!(
        text_of(&store, &seq_b).await,
        r#"{
  "seq-no": 2,
  "prefix": "s3://data/frames/seq-b/",
  "number-of-frames": 3,
  "frames": [
    {
      "frame-no": 1,
      "frame": "0001.jpg"
    },
    {
      "frame-no": 2,
      "frame": "0002.jpg"
    },
    {
      "frame-no": 3,
      "frame": "0010.PNG"
    }
  ]
}
"#
    );
    let seq: serde_json::Value = serde_json::from_str(&text_of(&store, &seq_a).await).unwrap();
    assert_eq!(
        seq,
        serde_json::json!({"seq-no": 1, "prefix": "s3://data/frames/seq-a/", "number-of-frames": 1,
                           "frames": [{"frame-no": 1, "frame": "f1.png"}]})
    );
    assert_eq!(
        report.skipped,
        [
            skip("s3://data/frames/junk-only/notes.txt", None, unsupported("txt")),
            skip("s3://data/frames/seq-a/sub/x.jpg", None, SkipReason::NestedInSequenceFolder),
            skip("s3://data/frames/seq-b/readme.md", None, unsupported("md")),
            skip("s3://data/frames/seq-c/zero.jpg", None, SkipReason::EmptyFile),
            skip("s3://data/frames/stray.jpg", None, SkipReason::NotInSequenceFolder),
        ]
    );

    // A second run a second later: same sequence files, a new manifest, the generated files named.
    let again = setup_data(&store, &DataSetupRequest { now_ms: NOW_MS + 1000, ..request.clone() })
        .await
        .unwrap();
    assert_eq!(again.sequence_files, report.sequence_files);
    assert_eq!(again.manifest, Some(path("s3://data/frames/dataset-190826T232045.manifest")));
    assert!(again.skipped.contains(&skip(
        &format!("s3://data/frames/{MANIFEST}"),
        None,
        SkipReason::NotInSequenceFolder
    )));
    assert!(again.skipped.contains(&skip(&seq_a.uri(), None, SkipReason::SequenceFile)));

    // A foreign file at a generated name is left alone and its folder left out.
    store.put(&seq_a, b"{\"mine\": true}".to_vec(), PutOptions::default()).await.unwrap();
    let third =
        setup_data(&store, &DataSetupRequest { now_ms: NOW_MS + 2000, ..request }).await.unwrap();
    assert_eq!(third.sequence_files, [seq_b]);
    assert_eq!(text_of(&store, &seq_a).await, "{\"mine\": true}");
    assert!(third.skipped.contains(&skip(
        "s3://data/frames/seq-a/",
        None,
        SkipReason::SequenceFileExists
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_setup_video_frame_limits() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    // 12 sequence folders (only 10 fit a manifest); the first holds 2,003 frames (2,000 fit).
    for s in 0..12 {
        let frames: Vec<usize> = (0..if s == 0 { 2_003 } else { 1 }).collect();
        for chunk in frames.chunks(32) {
            let puts: Vec<_> = chunk
                .iter()
                .map(|f| {
                    let store = store.clone();
                    let p = path(&format!("s3://data/many/s{s:02}/f{f:04}.jpg"));
                    tokio::spawn(async move {
                        store.put(&p, b"j".to_vec(), PutOptions::default()).await
                    })
                })
                .collect();
            for put in puts {
                put.await.unwrap().unwrap();
            }
        }
    }
    let report = setup_data(
        &store,
        &DataSetupRequest {
            input_prefix: path("s3://data/many/"),
            kind: DataKind::VideoFrames,
            now_ms: NOW_MS,
            manifest: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(report.data_objects, 10);
    assert_eq!(report.sequence_files.last().unwrap().uri(), "s3://data/many/s09/s09.json");
    let seq: serde_json::Value =
        serde_json::from_str(&text_of(&store, &report.sequence_files[0]).await).unwrap();
    assert_eq!(seq["number-of-frames"], 2000);
    assert_eq!(seq["frames"][1999]["frame"], "f1999.jpg");
    let limit = |r: &SkipReason| matches!(r, SkipReason::TooManyFrames { limit: 2000 });
    let too_many_frames: Vec<String> =
        report.skipped.iter().filter(|s| limit(&s.reason)).map(|s| s.path.uri()).collect();
    assert_eq!(
        too_many_frames,
        [
            "s3://data/many/s00/f2000.jpg",
            "s3://data/many/s00/f2001.jpg",
            "s3://data/many/s00/f2002.jpg"
        ]
    );
    assert_eq!(
        report.skipped.iter().filter(|s| !limit(&s.reason)).cloned().collect::<Vec<_>>(),
        [
            skip("s3://data/many/s10/", None, SkipReason::TooManySequences { limit: 10 }),
            skip("s3://data/many/s11/", None, SkipReason::TooManySequences { limit: 10 }),
        ]
    );
    // Nothing qualifies: nothing is written.
    put_all(&store, "data", &[("junk/a.bin", b"0")]).await;
    let none = setup_data(
        &store,
        &DataSetupRequest {
            input_prefix: path("s3://data/junk/"),
            kind: DataKind::Images,
            now_ms: NOW_MS,
            manifest: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(none.manifest, None);
    assert_eq!(files_on_disk(&dir.path().join("data/junk")), ["a.bin"]);
}
