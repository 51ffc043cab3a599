//! What every command works with: the client, the server's address, the output and where the
//! token came from; and the reading of a wallet name given on the command line.

use cloudcoin_client::{Client, WalletName};

use crate::exit::{Failure, Status};
use crate::output::Output;

/// What every command needs.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) client: Client,
    pub(crate) server: String,
    pub(crate) out: Output,
    /// Where the token sent came from, for the message when the server refuses it.
    pub(crate) token_source: Option<String>,
}

impl Context {
    pub(crate) fn call_failed(&self, e: cloudcoin_client::Error) -> Failure {
        let mut f = Failure::client(e, &self.server);
        if f.status == Status::Token {
            match &self.token_source {
                Some(source) => {
                    f.message.push_str(&format!(" (the token sent came from {source})"))
                }
                None => f.message.push_str(" (no token was sent: --no-token)"),
            }
        }
        f
    }
}

/// The wallet name `text` given as `what`, or a usage error naming both.
pub(crate) fn wallet_name(what: &str, text: &str) -> Result<WalletName, Failure> {
    WalletName::parse(text).map_err(|e| Failure::usage(format!("{what} {text:?}: {e}")))
}
