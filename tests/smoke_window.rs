//! Smoke test of the real binary in a real window: starts `Xvfb` itself, runs `groundwork` with no
//! arguments (the app on the demo workspace) with a fresh HOME and data folder, takes a screenshot
//! of the root window with ImageMagick's `import`, and checks it is not blank.
//!
//! Skips (loudly) when Xvfb or `import` is missing, unless `GROUNDWORK_REQUIRE_GPU=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn find(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

/// Kills a child this test started when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The variance of the luminance of an image's pixels (0 for a blank screen).
fn luminance_variance(path: &Path) -> Option<f64> {
    let image = image::open(path).ok()?.into_luma8();
    let n = image.len() as f64;
    let mean = image.pixels().map(|p| f64::from(p.0[0])).sum::<f64>() / n;
    Some(image.pixels().map(|p| (f64::from(p.0[0]) - mean).powi(2)).sum::<f64>() / n)
}

#[test]
fn the_app_opens_a_window_that_is_not_blank() {
    let required = support::required("GROUNDWORK_REQUIRE_GPU");
    let (Some(xvfb), Some(import)) = (find("Xvfb"), find("import")) else {
        assert!(!required, "GROUNDWORK_REQUIRE_GPU=1 but Xvfb or ImageMagick's import is missing");
        eprintln!("NOTE: Xvfb or import not found; the window smoke test is SKIPPED");
        return;
    };
    let temp = tempfile::tempdir().unwrap();
    let runtime_dir = temp.path().join("xdg-runtime");
    std::fs::create_dir_all(&runtime_dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    // A display number no other X server holds: its lock file absent (a server left over from
    // an earlier run keeps its lock and socket, and a second Xvfb on it would exit at once).
    let first = 100 + std::process::id() % 400;
    let number = (first..first + 400)
        .find(|n| !PathBuf::from(format!("/tmp/.X{n}-lock")).exists())
        .expect("a free X display number");
    let display = format!(":{number}");
    let mut xvfb = Guard(
        Command::new(xvfb)
            .args([display.as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts"),
    );
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
    let start = Instant::now();
    while !socket.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "Xvfb did not come up on {display}");
        assert!(
            xvfb.0.try_wait().unwrap().is_none(),
            "Xvfb exited at once on {display} (display in use?)"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let home = temp.path().join("home");
    let data = temp.path().join("data");
    std::fs::create_dir_all(&home).unwrap();
    let mut app = Guard(
        Command::new(env!("CARGO_BIN_EXE_groundwork"))
            .env("DISPLAY", &display)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("GROUNDWORK_WORKER", "smoke")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("GROUNDWORK_WORKSPACE")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts"),
    );

    let shot = temp.path().join("shot.png");
    let start = Instant::now();
    let mut variance = 0.0;
    while start.elapsed() < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_secs(2));
        if let Ok(Some(status)) = app.0.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = app.0.stderr.take() {
                use std::io::Read as _;
                let _ = e.read_to_string(&mut err);
            }
            panic!("the app exited early with {status}:\n{err}");
        }
        let ok = Command::new(&import)
            .args(["-display", display.as_str(), "-window", "root", shot.to_str().unwrap()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            continue;
        }
        variance = luminance_variance(&shot).unwrap_or(0.0);
        // The home screen (panels, text, job list) has plenty of contrast; a blank or
        // single-colour window has none.
        if variance > 100.0 {
            break;
        }
    }
    assert!(variance > 100.0, "the screenshot stayed blank (luminance variance {variance:.1})");
    // The demo workspace was created in the fresh data folder.
    assert!(data.join("groundwork/demo-workspace/.groundwork").exists());
    if let Ok(dir) = std::env::var("GROUNDWORK_SMOKE_SHOT") {
        let _ = std::fs::copy(&shot, Path::new(&dir).join("smoke-window.png"));
    }
}
