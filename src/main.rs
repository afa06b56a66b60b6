//! The `sessions-gateway` binary: parse flags, start logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use sessions_gateway::{cli, config::Cli, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return cli::report_parse_error(err),
    };
    telemetry::init();
    cli::run(cli).await
}
