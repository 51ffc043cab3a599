//! The CloudCoin wallet store and its background tasks: export, import and backup.
//!
//! [`Service::open`] takes a data directory (SPEC §5 layout), locks it against a second owner,
//! recovers any operation a crash interrupted, and indexes every wallet in memory. Its async
//! methods validate a request, reserve coins and start a task whose progress and outcome are read
//! with [`Service::task`]. All file work runs on blocking threads; every operation that moves
//! coins is journalled first, so a crash at any moment leaves each coin in exactly one place.

mod error;
mod service;
mod task;

pub use crate::error::{OpenError, ServiceError};
pub use crate::service::{
    BackupRequest, ExportRequest, ImportItem, ImportRequest, Service, ServiceConfig, WalletDetail,
    WalletSummary,
};
pub use crate::task::{
    BackupResult, BadTaskId, ExportResult, FailureKind, ImportResult, Rejection, TaskFailure,
    TaskId, TaskKind, TaskOutcome, TaskStatus, TaskView,
};
