//! The service: the one handle the api layer holds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cloudcoin_domain::{Amount, Denomination, FileKind, Tag, WalletName};

use crate::error::{OpenError, ServiceError};
use crate::task::{TaskId, TaskView};

/// How the service is set up.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// The data directory (created if missing).
    pub data_dir: PathBuf,
    /// Folders exports and backups must lie beneath; empty: any absolute, existing, writable
    /// folder.
    pub export_roots: Vec<PathBuf>,
    /// Finished tasks older than this are forgotten.
    pub task_retention: Duration,
}

/// Take an amount out of a wallet into a new file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRequest {
    /// The wallet to take the coins from.
    pub wallet: WalletName,
    /// The exact amount.
    pub amount: Amount,
    /// The absolute folder to write the file in.
    pub folder: PathBuf,
    /// The file type.
    pub kind: FileKind,
    /// The tag in the file name.
    pub tag: Tag,
    /// A client's key: the same key and request give the same task.
    pub idempotency_key: Option<String>,
}

/// One thing to import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportItem {
    /// An absolute path to a coin file on the server (read, never modified).
    File(PathBuf),
    /// A coin file's bytes in base64.
    InlineBase64(String),
}

/// Store coins from files into a wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRequest {
    /// The wallet to store the coins in.
    pub wallet: WalletName,
    /// The items.
    pub items: Vec<ImportItem>,
    /// The tag recorded with the transaction.
    pub tag: Tag,
}

/// Write a zip of every coin of a wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupRequest {
    /// The wallet.
    pub wallet: WalletName,
    /// The absolute folder to write the zip in.
    pub folder: PathBuf,
    /// The tag in the file name; default `backup YYYY-MM-DD HH-MM-SS`.
    pub tag: Option<Tag>,
}

/// A wallet in a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletSummary {
    /// Its name.
    pub name: WalletName,
    /// Value of its Bank and Fracked coins.
    pub balance: Amount,
    /// How many coins make that balance.
    pub coins: usize,
}

/// One wallet in detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletDetail {
    /// Its name.
    pub name: WalletName,
    /// Value of its Bank and Fracked coins.
    pub balance: Amount,
    /// How many coins make that balance.
    pub coins: usize,
    /// Spendable (Bank and Fracked) money coins per denomination.
    pub per_denomination: BTreeMap<Denomination, usize>,
    /// Coin files per folder (`"Bank"`, `"Fracked"`, `"Limbo"`, …).
    pub per_folder: BTreeMap<String, usize>,
}

/// The wallet server's core: wallets on disk, and the export, import and backup tasks.
/// Cloning is cheap and shares the same state.
#[derive(Clone, Debug)]
pub struct Service {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ServiceConfig,
}

fn not_yet() -> ServiceError {
    ServiceError::Internal("not yet".to_owned())
}

impl Service {
    /// Blocking. Creates the data directory, takes the one-owner lock, runs crash recovery,
    /// scans the wallets into memory and creates `Default`. Call it from a plain thread,
    /// `spawn_blocking`, or before serving.
    pub fn open(config: ServiceConfig) -> Result<Service, OpenError> {
        Ok(Service { inner: Arc::new(Inner { config }) })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.config.data_dir
    }

    /// Every wallet with its balance, by name.
    pub async fn list_wallets(&self) -> Result<Vec<WalletSummary>, ServiceError> {
        Err(not_yet())
    }

    /// One wallet in detail.
    pub async fn wallet(&self, _name: &WalletName) -> Result<WalletDetail, ServiceError> {
        Err(not_yet())
    }

    /// Creates an empty wallet.
    pub async fn create_wallet(&self, _name: &WalletName) -> Result<WalletSummary, ServiceError> {
        Err(not_yet())
    }

    /// Deletes a wallet that holds no coins.
    pub async fn delete_wallet(&self, _name: &WalletName) -> Result<(), ServiceError> {
        Err(not_yet())
    }

    /// Validates wallet, folder, funds and exact change, reserves the coins, spawns the task and
    /// returns it (status running). Errors here mean nothing was reserved or written.
    pub async fn start_export(&self, _req: ExportRequest) -> Result<TaskView, ServiceError> {
        Err(not_yet())
    }

    /// Validates the wallet and the request's shape and spawns the import task.
    pub async fn start_import(&self, _req: ImportRequest) -> Result<TaskView, ServiceError> {
        Err(not_yet())
    }

    /// Validates the wallet and the folder and spawns the backup task.
    pub async fn start_backup(&self, _req: BackupRequest) -> Result<TaskView, ServiceError> {
        Err(not_yet())
    }

    /// A task, if it is known.
    pub fn task(&self, _id: TaskId) -> Option<TaskView> {
        None
    }

    /// Every known task, newest first.
    pub fn tasks(&self) -> Vec<TaskView> {
        Vec::new()
    }

    /// Waits for running tasks to finish (used on graceful shutdown).
    pub async fn shutdown(&self) {}
}
