//! The `groundwork` binary: parses the command line, sets up logging and the one Tokio runtime,
//! then runs the desktop app, the review window (`view`) or a subcommand.

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
    groundwork::cli::run(cli)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GROUNDWORK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,groundwork=info"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
