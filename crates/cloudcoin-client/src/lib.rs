//! An async, typed client of the CloudCoin wallet server's HTTP API, version 1.
//!
//! [`Client`] has one method per endpoint. Requests and answers are the api crate's own wire
//! types ([`wire`]), so the client and the server cannot disagree on a JSON shape; a refusal is
//! an [`Error::Api`] carrying the server's numeric code ([`codes`]) and message. Exports carry
//! an `Idempotency-Key` (a fresh one per call unless given) and are retried with it when no
//! answer comes back, so a retry never exports twice. [`Client::wait`] follows a task to its
//! end, polling with a backoff and yielding each change of progress.
//!
//! ```no_run
//! use cloudcoin_client::wire::{ExportRequest, TaskData};
//! use cloudcoin_client::{Client, FileKind, TaskStatus, WalletName};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // The token the local server wrote in its default data directory.
//! let data_dir = cloudcoin_client::default_data_dir()?;
//! let token = cloudcoin_client::read_token_file(&cloudcoin_client::token_file(&data_dir))?;
//! let client = Client::builder("http://127.0.0.1:8006").token(token).build()?;
//!
//! let request = ExportRequest::new(
//!     WalletName::parse("Default")?,
//!     "10.5".parse()?,
//!     "/tmp/cloudcoin-out",
//!     FileKind::Zip,
//! );
//! let task = match client.export(&request).await {
//!     Ok(task) => task,
//!     Err(e) if e.code() == Some(cloudcoin_client::codes::NOT_ENOUGH_COINS) => {
//!         eprintln!("{e}");
//!         return Ok(());
//!     }
//!     Err(e) => return Err(e.into()),
//! };
//! let done = client.wait(task.id).finish(|t| eprintln!("{:3}% {}", t.progress, t.message)).await?;
//! assert_eq!(done.status, TaskStatus::Completed);
//! if let Some(TaskData::Export(file)) = &done.data {
//!     println!("{} ({} coins, sha256 {})", file.file.display(), file.coins, file.sha256);
//! }
//! # Ok(()) }
//! ```
//!
//! The client speaks plain HTTP/1.1 (the server listens on a local address) and needs a tokio
//! runtime with timers enabled.

#![warn(missing_docs)]

mod backoff;
mod client;
mod error;
mod local;
mod transport;
mod wait;

pub use cloudcoin_domain::{Amount, FileKind, Tag, WalletName};
pub use cloudcoin_wire::{self as wire, codes};
pub use cloudcoin_wire::{RefusalKind, TaskId, TaskKind, TaskStatus};

pub use crate::backoff::Backoff;
pub use crate::client::{
    Client, ClientBuilder, DEFAULT_EXPORT_ATTEMPTS, DEFAULT_TIMEOUT, new_idempotency_key,
};
pub use crate::error::{ApiError, Error};
pub use crate::local::{TokenError, default_data_dir, read_token_file, token_file};
pub use crate::wait::Wait;
