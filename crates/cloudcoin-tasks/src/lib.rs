//! The CloudCoin wallet store and its background tasks: export, import and backup.
//!
//! [`Service::open`] takes a data directory (the layout of `docs/SPEC.md` §5), locks it against a second owner,
//! recovers any operation a crash interrupted, and indexes every wallet in memory. Its async
//! methods validate a request, reserve coins and start a task whose progress and outcome are read
//! with [`Service::task`]. All file work runs on blocking threads; every operation that moves
//! coins is journalled first, so a crash at any moment leaves each coin in exactly one place.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use cloudcoin_domain::{Amount, FileKind, Tag, WalletName};
//! use cloudcoin_tasks::{ExportRequest, Service, ServiceConfig, TaskStatus};
//!
//! let config = ServiceConfig {
//!     data_dir: "/var/lib/cloudcoin".into(),
//!     export_roots: Vec::new(),
//!     task_retention: std::time::Duration::from_secs(7 * 24 * 3600),
//! };
//! let service = tokio::task::spawn_blocking(move || Service::open(config)).await??;
//! let task = service
//!     .start_export(ExportRequest {
//!         wallet: WalletName::parse("Default")?,
//!         amount: Amount::parse_request("10.5")?,
//!         folder: "/home/me/exports".into(),
//!         kind: FileKind::Zip,
//!         tag: Tag::parse("trade")?,
//!         idempotency_key: None,
//!     })
//!     .await?;
//! assert_eq!(task.status, TaskStatus::Running);
//! service.shutdown().await; // waits for the export to finish
//! # Ok(()) }
//! ```

mod backup;
mod dir;
mod durable;
mod error;
mod export;
mod fault;
mod folder;
mod import;
mod journal;
mod records;
mod recovery;
mod service;
mod store;
mod task;
mod tracker;
mod verify;

pub use crate::error::{OpenError, ServiceError};
pub use crate::fault::{
    BACKUP_FAULT_STEPS, EXPORT_FAULT_STEPS, IMPORT_FAULT_STEPS, WALLET_FAULT_STEPS,
};
pub use crate::service::{
    BackupRequest, ExportRequest, ImportItem, ImportRequest, Service, ServiceConfig, WalletDetail,
    WalletSummary,
};
pub use crate::task::{
    BackupResult, BadTaskId, ExportResult, FailureKind, ImportResult, Rejection, TaskFailure,
    TaskId, TaskKind, TaskOutcome, TaskStatus, TaskView,
};
