//! The JSON shapes of the CloudCoin wallet server's HTTP API (version 1), as Rust types that the
//! server and its clients share: the requests, the answers, the background tasks' identity,
//! status and results, and the numeric error [`codes`]. No IO and no HTTP: serde, the domain
//! types, and nothing else of the server's.
//!
//! Every answer is an [`Envelope`]: `{"status":"success","payload":…}` with the endpoint's
//! payload type, or `{"status":"error","payload":`[`ErrorPayload`]`}`. Amounts are exact
//! [`Amount`](cloudcoin_domain::Amount)s written as JSON numbers from their decimal text
//! (`10.5`, never through `f64`); they are read back from a number's text or from a string.
//!
//! These types are made for `serde_json`: the envelope, the task and the amounts read a value's
//! raw JSON text, which other serde formats do not provide.
//!
//! ```
//! use cloudcoin_wire::{Envelope, WalletSummary};
//!
//! let body = r#"{"status":"success","payload":[{"name":"Default","balance":10.5,"coins":3}]}"#;
//! let wallets: Envelope<Vec<WalletSummary>> = serde_json::from_str(body)?;
//! let wallets = wallets.into_result()?;
//! assert_eq!(wallets[0].name.as_str(), "Default");
//! assert_eq!(wallets[0].balance.to_string(), "10.5");
//!
//! let body = r#"{"status":"error","payload":{"status":"error","code":4115,
//!     "message":"wallet \"Bob\" does not exist","details":{"name":"Bob"}}}"#;
//! let answer: Envelope<WalletSummary> = serde_json::from_str(body)?;
//! let error = answer.into_result().expect_err("an error envelope");
//! assert_eq!(error.code, cloudcoin_wire::codes::WALLET_NOT_FOUND);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod codes;
mod envelope;
mod fields;
mod grade;
mod history;
mod ids;
mod reclaim;
mod refusal;
mod request;
mod task;
mod wallet;

pub use crate::envelope::{Envelope, ErrorDetails, ErrorPayload};
pub use crate::history::{Transaction, TransactionPage};
pub use crate::reclaim::{ReclaimData, ReclaimRequest};
pub use crate::refusal::RefusalKind;
pub use crate::request::{
    BackupRequest, CreateWalletRequest, ExportRequest, FixRequest, ImportItem, ImportRequest,
};
pub use crate::task::{
    BackupData, BadTaskId, ChangeData, ClaimData, CoinRef, ExportData, FixData, GradeData,
    ImportData, Rejection, Task, TaskData, TaskId, TaskKind, TaskStatus, UnknownName,
};
pub use crate::wallet::{
    Deleted, Health, Info, RaidaEcho, RaidaStatus, WalletDetail, WalletSummary, wallet_path,
};

#[cfg(test)]
mod tests;
