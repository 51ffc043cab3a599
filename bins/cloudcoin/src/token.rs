//! Where the API token comes from: `--token`, `--token-file`, `CLOUDCOIN_AUTH_TOKEN`, or the
//! token file in the server's data directory (its default unless `--data-dir` says otherwise).

use std::error::Error as _;

use cloudcoin_client::{TokenError, default_data_dir, read_token_file, token_file};

use crate::cli::Cli;
use crate::exit::Failure;

/// The environment variable the server reads its token from; the CLI reads it too.
const TOKEN_ENV: &str = "CLOUDCOIN_AUTH_TOKEN";

/// The token to send (none with `--no-token`) and where it came from, or a usage failure that
/// says where it looked.
pub(crate) fn discover(cli: &Cli) -> Result<Option<(String, String)>, Failure> {
    if cli.no_token {
        return Ok(None);
    }
    find(cli).map(Some)
}

/// The token from the flags, the environment or the server's token file, and its source.
fn find(cli: &Cli) -> Result<(String, String), Failure> {
    if let Some(token) = &cli.token {
        if token.trim().is_empty() {
            return Err(Failure::usage("--token is empty"));
        }
        return Ok((token.trim().to_owned(), "--token".to_owned()));
    }
    if let Some(file) = &cli.token_file {
        return read_token_file(file)
            .map(|t| (t, format!("--token-file {}", file.display())))
            .map_err(|e| Failure::usage(format!("--token-file: {}", why(&e))));
    }
    if let Some(token) = std::env::var(TOKEN_ENV).ok().filter(|t| !t.trim().is_empty()) {
        return Ok((token.trim().to_owned(), TOKEN_ENV.to_owned()));
    }
    let (dir, whence) = match &cli.data_dir {
        Some(dir) => (dir.clone(), "--data-dir"),
        None => match default_data_dir() {
            Ok(dir) => (dir, "the server's default data directory"),
            Err(e) => {
                return Err(Failure::usage(format!(
                    "no API token: {e}; pass --token, --token-file or --data-dir"
                )));
            }
        },
    };
    let file = token_file(&dir);
    read_token_file(&file).map(|t| (t, format!("the token file {}", file.display()))).map_err(|e| {
        Failure::usage(format!(
            "no API token: {} (the token file of {whence} {}); pass --token or --token-file, \
             --data-dir if the server uses another data directory, or --no-token for a server \
             started with --no-auth",
            why(&e),
            dir.display()
        ))
    })
}

/// The error with its cause ("cannot read … /api-token: No such file or directory").
fn why(e: &TokenError) -> String {
    match e.source() {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}
