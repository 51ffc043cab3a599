//! The CloudCoin wallet store and its background tasks: export, import and backup.
//!
//! [`Service::open`] takes a data directory (the wallet layout of the repository's
//! [`docs/SPEC.md`](https://github.com/cloudcoin-wallet/cloudcoin-server/blob/main/docs/SPEC.md)
//! §5), locks it against a second owner, recovers any operation a crash interrupted, and indexes
//! every wallet in memory. Its async methods validate a request, reserve coins and start a task
//! whose progress and outcome are read with [`Service::task`], or awaited with
//! [`Service::wait`]. All file work runs on blocking threads; every operation that moves coins is
//! journalled first, so a crash at any moment leaves each coin in exactly one place.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cloudcoin_domain::{
//!     Amount, Coin, Denomination, FileKind, Pown, SerialNumber, Tag, WalletName, RAIDA_COUNT,
//! };
//! use cloudcoin_tasks::{ExportRequest, Service, ServiceConfig, TaskOutcome, TaskStatus};
//!
//! // A data directory whose Default wallet holds one coin worth 10, and a folder for exports.
//! let base = tempfile::tempdir()?;
//! let bank = base.path().join("data/Wallets/Default/Bank");
//! std::fs::create_dir_all(&bank)?;
//! let (ten, serial) = (Denomination::from_code(1), SerialNumber::new(7));
//! let coin = Coin::new(ten, serial, [[9; 16]; RAIDA_COUNT], [Pown::Pass; RAIDA_COUNT]);
//! std::fs::write(bank.join("10 CloudCoin #7 ''.bin"), cloudcoin_codec::encode_bin(&[coin])?)?;
//! let exports = base.path().join("exports");
//! std::fs::create_dir(&exports)?;
//!
//! let config = ServiceConfig::new(base.path().join("data"));
//! let service = tokio::task::spawn_blocking(move || Service::open(config)).await??;
//! let wallet = WalletName::parse("Default")?;
//! let request =
//!     ExportRequest::new(wallet, Amount::parse_request("10")?, &exports, FileKind::Stack)
//!         .with_tag(Tag::parse("trade")?);
//! let task = service.start_export(request).await?;
//! let done = service.wait(task.id).await.expect("a task the service knows");
//! assert_eq!(done.status, TaskStatus::Completed);
//! let Some(TaskOutcome::Export(result)) = done.outcome else { panic!("an export result") };
//! assert_eq!(result.file, exports.join("10 CloudCoin #7 'trade'.stack"));
//! service.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Reading the source
//!
//! The modules are private; each one's documentation (`//!` at the top of its file, or
//! `cargo doc --document-private-items`) states its rules and, for a pipeline, its steps.
//! `docs/ARCHITECTURE.md` maps them and lists every invariant with the test that keeps it.
//!
//! - `store`: the wallets on disk and their in-memory index, one concern per module —
//!   `store::layout` (folders and file names), `store::index` (the index and its concurrency
//!   rules), `store::scan` (the start-up scan), `store::moves` (a coin's file moving between
//!   folders), `store::seam` (what the pipelines need from a store).
//! - `export`, `import`, `backup`: the pipelines, step by step, with their fault points;
//!   `journal` and `recovery`: the intent record each writes first, and how a crash is settled.
//! - `claim`, `heal`, `reclaim`, `change`, `network`: the work with the RAIDA.
//!
//! Where a coin's file moves to `Sent`, and what guards it, is the first section of
//! `store::moves`: the export's `finish` step moves its coins' files there only after the output
//! is published under its final name and the journal says `committed`, never replacing a file;
//! the coins are reserved from the moment the export chose them, then listed as leaving, so
//! nothing else takes them, and a crash is rolled forward at the next start, never undone.
//!
//! # Features
//!
//! - `testing`: the `testing` module, a temporary data directory holding the coins a test
//!   gives and a [`Service`] opened on it.
//! - `fault-injection`: named crash and i/o-error points in the pipelines (`FaultPoint`), for
//!   crash tests only; without it the points compile away and are not part of the API.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backup;
mod change;
mod claim;
mod dir;
mod durable;
mod error;
mod export;
mod fault;
#[cfg(test)]
mod fixtures;
mod folder;
mod heal;
mod history;
mod import;
mod journal;
mod leftovers;
mod network;
mod owners;
mod precheck;
mod reclaim;
mod records;
mod recovery;
mod report;
mod service;
mod step;
mod store;
mod task;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
mod tracker;
mod v3_layout;
mod verify;
mod words;

pub use crate::change::ChangeMethod;
pub use crate::error::{
    FolderProblem, InternalError, NotReclaimable, OpenError, RecoveryError, ServiceError,
};
#[cfg(feature = "fault-injection")]
#[cfg_attr(docsrs, doc(cfg(feature = "fault-injection")))]
pub use crate::fault::{FaultPoint, UnknownFaultPoint};
pub use crate::network::RaidaHealth;
pub use crate::report::{ChangeReport, ClaimReport, GradeCount, HealReport, ReclaimReport};
pub use crate::service::{
    BackupRequest, ExportRequest, ImportItem, ImportRequest, Service, ServiceConfig,
    TransactionPage, WalletDetail, WalletSummary,
};
pub use crate::task::{
    BackupResult, BadTaskId, ExportResult, FailureKind, ImportResult, Rejection, TaskFailure,
    TaskId, TaskKind, TaskOutcome, TaskStatus, TaskView,
};
