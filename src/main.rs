//! The `groundwork` binary: parses the command line, sets up logging and the one Tokio runtime,
//! then runs the desktop app or a subcommand.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    init_logging();
    let cli = groundwork::cli::Cli::parse();
    groundwork::cli::run(cli)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GROUNDWORK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,groundwork=info"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
