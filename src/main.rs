//! The `groundwork` binary: parses the command line and runs the app or a subcommand.

fn main() {
    println!("groundwork {}", env!("CARGO_PKG_VERSION"));
}
