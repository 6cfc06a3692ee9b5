//! The `groundwork` binary: parses the command line, sets up logging and the one Tokio runtime,
//! then runs the desktop app (no subcommand), the review window (`view`) or a subcommand.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    init_logging();
    let cli = groundwork::cli::Cli::parse();
    // The GUI subcommand: handled here, so the CLI layer never depends on the app layer.
    if let Some(groundwork::cli::Command::View { file }) = &cli.command {
        return match groundwork::app::review::run_review(file) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    if cli.command.is_none() {
        return run_app(&cli.global);
    }
    groundwork::cli::run(cli)
}

/// With no subcommand: the desktop app, on `--workspace` or the demo workspace.
fn run_app(global: &groundwork::cli::GlobalArgs) -> ExitCode {
    use groundwork::app::{AppConfig, recent::RecentWorkspace};
    let workspace = global.workspace.as_ref().map(|w| {
        if w.starts_with("s3://") {
            RecentWorkspace::S3 {
                uri: w.clone(),
                profile: global.profile.clone(),
                endpoint: global.endpoint_url.clone(),
            }
        } else {
            let path = std::path::Path::new(w);
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
            RecentWorkspace::Local { path: absolute.display().to_string() }
        }
    });
    let config = AppConfig::for_user(
        groundwork::cli::commands::current_user(),
        groundwork::cli::commands::default_workspace_dir(),
        workspace,
    );
    match groundwork::app::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GROUNDWORK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,groundwork=info"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
