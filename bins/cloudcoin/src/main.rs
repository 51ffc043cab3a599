//! `cloudcoin`: a command-line wallet for the CloudCoin wallet server. Parses the command
//! line, finds the API token, and runs one command through `cloudcoin-client`; the exit status
//! says how it went (see `cloudcoin --help`).

mod cli;
mod commands;
mod exit;
mod history;
mod open;
mod output;
mod token;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use cloudcoin_client::Client;

use crate::cli::{Cli, Command};
use crate::commands::Context;
use crate::exit::Failure;
use crate::output::Output;

fn main() -> ExitCode {
    // Usage errors exit with 2, `--help` and `--version` with 0 (clap's statuses).
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            report(&failure, out);
            failure.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    if let Command::Completions { shell } = cli.command {
        return completions(shell);
    }
    if let Command::Open { print } = cli.command {
        return open::open(cli.data_dir.as_deref(), print);
    }
    let mut builder = Client::builder(cli.server.clone()).timeout(Duration::from_secs(cli.timeout));
    let found = match token::discover(&cli) {
        Ok(found) => found,
        // A missing token file usually means no server was ever started: say that first.
        Err(_) if !open::server_answers(&cli.server) => {
            return Err(Failure::new(
                exit::Status::Connection,
                format!(
                    "no server at {}; start it with `cloudcoin-server` in a terminal of its own \
                     (or name another address with --server)",
                    cli.server
                ),
            ));
        }
        Err(failure) => return Err(failure),
    };
    let mut token_source = None;
    if let Some((token, source)) = found {
        builder = builder.token(token);
        token_source = Some(source);
    }
    let client = builder.build().map_err(|e| Failure::usage(format!("--server: {e}")))?;
    let cx = Context { client, server: cli.server, out: Output { json: cli.json }, token_source };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::Status::Failed, format!("cannot start: {e}")))?;
    runtime.block_on(commands::run(&cx, cli.command))
}

fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "cloudcoin", &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&script)
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::new(exit::Status::Failed, format!("cannot write the script: {e}")))
}

/// A failure on standard error as one line (plus notes), and with `--json` also as one JSON
/// document on standard output.
fn report(failure: &Failure, out: Output) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {}", failure.message);
    for note in &failure.notes {
        let _ = writeln!(stderr, "{note}");
    }
    if out.json {
        let mut stdout = std::io::stdout().lock();
        let _ = serde_json::to_writer(&mut stdout, &failure.json());
        let _ = writeln!(stdout);
    }
}
