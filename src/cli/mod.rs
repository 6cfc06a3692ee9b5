//! The command line: clap subcommands over the library, for scripts, pipelines and tests.
//!
//! Exit status: 0 ok, 1 invalid input (the message names the file, line or field), 2 usage error,
//! 3 nothing to do (`task next` found no task). Must not use egui or eframe; it may render
//! headlessly through `render`.

mod args;
pub mod commands;
pub mod task;

pub use args::*;

use std::process::ExitCode;

/// A failed command: what to print and which exit status to return.
#[derive(Debug)]
pub struct CliError {
    /// Exit status (1 invalid input, 2 usage, 3 nothing to do).
    pub code: u8,
    /// The message, already naming the file, line or field.
    pub message: String,
}

impl CliError {
    /// Invalid input (exit 1).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { code: 1, message: message.into() }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }
}

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        Self::invalid(e.to_string())
    }
}

/// The result of a subcommand.
pub type CliResult = Result<(), CliError>;

/// Runs a parsed command line to completion and returns the process's exit status.
pub fn run(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .thread_name("groundwork-io")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the I/O runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}

async fn dispatch(cli: Cli) -> CliResult {
    let global = &cli.global;
    match cli.command {
        None => {
            let dir = commands::default_workspace_dir();
            commands::open_jobs(global).await?;
            println!(
                "Groundwork {} — demo workspace: {}",
                env!("CARGO_PKG_VERSION"),
                dir.display()
            );
            println!("Run `groundwork --help` for the commands.");
            Ok(())
        }
        Some(Command::Job(JobCommand::Validate { spec })) => {
            commands::job_validate(global, &spec).await
        }
        Some(Command::Job(JobCommand::Create { spec })) => {
            commands::job_create(global, &spec).await
        }
        Some(Command::Job(JobCommand::List)) => commands::job_list(global).await,
        Some(Command::Job(JobCommand::Describe { name })) => {
            commands::job_describe(global, &name).await
        }
        Some(Command::Job(JobCommand::Stop { name })) => commands::job_stop(global, &name).await,
        Some(Command::Manifest(ManifestCommand::Validate { file, kind })) => {
            commands::manifest_validate(global, &file, kind).await
        }
        Some(Command::Manifest(ManifestCommand::Generate { prefix, data_type, output, every })) => {
            commands::manifest_generate(global, &prefix, data_type, &output, every).await
        }
        Some(Command::Demo(DemoCommand::Init { dir })) => commands::demo_init(&dir).await,
        Some(Command::Task(command)) => task::run(global, command).await,
        Some(Command::Sync { job }) => task::sync_command(global, job.as_deref()).await,
        Some(Command::Info { file }) => commands::info(global, &file),
        // `view` opens a window: the binary runs it before the CLI (src/main.rs), because the
        // command line must not depend on the GUI layers.
        Some(Command::View { file }) => Err(CliError::usage(format!(
            "{}: `view` opens a window; run it through the groundwork binary",
            file.display()
        ))),
        Some(Command::Render { file, output, size, color_by, view, point_size }) => {
            commands::render(&file, &output, size, color_by, view, point_size)
        }
    }
}

/// Opens an S3 workspace (`s3://bucket/prefix`): credentials, profile and region from the
/// standard AWS chain; `--endpoint-url` for S3-compatible stores (path-style addressing).
async fn s3_workspace(
    global: &GlobalArgs,
    uri: &str,
) -> Result<crate::store::catalog::Workspace, CliError> {
    use crate::store::layout::Catalog;
    use crate::store::s3::{S3Config, S3Store};
    let root = crate::store::ObjectPath::parse(uri)?;
    let store = S3Store::from_env(S3Config {
        endpoint_url: global.endpoint_url.clone(),
        profile: global.profile.clone(),
        region: global.region.clone(),
        force_path_style: None,
    })
    .await?;
    Ok(crate::store::catalog::Workspace::new(std::sync::Arc::new(store), Catalog::new(root)?))
}
