//! The crate's error types: opening the data directory, and refusing a request.

use std::io;
use std::path::PathBuf;

use cloudcoin_domain::{SelectError, WalletName};

/// Why the data directory could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Another process owns the data directory.
    #[error(
        "the data directory {} is in use by another cloudcoin server; stop it or choose another --data-dir",
        data_dir.display()
    )]
    Locked {
        /// The data directory.
        data_dir: PathBuf,
    },
    /// A file or folder of the data directory could not be read or written.
    #[error("cannot use {}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// Crash recovery could not finish; nothing was served.
    #[error("crash recovery failed: {0}")]
    Recovery(String),
    /// The RAIDA network's settings are not usable.
    #[error("the RAIDA network settings are not usable")]
    Network(#[source] cloudcoin_raida::ConfigError),
}

/// Why a request to the service was refused. Nothing was reserved or written when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The request needs the RAIDA network, and none is configured.
    #[error(
        "this server has no RAIDA network configured; start it with --raida-list to heal, claim or reclaim coins"
    )]
    NoNetwork,
    /// No wallet of that name.
    #[error("wallet \"{name}\" does not exist; create it first or check the name")]
    WalletNotFound {
        /// The wallet asked for.
        name: WalletName,
    },
    /// A wallet of that name exists already.
    #[error("wallet \"{name}\" already exists; choose another name")]
    WalletExists {
        /// The wallet asked for.
        name: WalletName,
    },
    /// The wallet still holds coins.
    #[error(
        "wallet \"{name}\" still holds {coins} coin file(s); export them first (for example \
         `cloudcoin export <its balance> --wallet \"{name}\"`, then import that file into \
         another wallet), then delete it"
    )]
    WalletNotEmpty {
        /// The wallet.
        name: WalletName,
        /// Coin files it still holds.
        coins: usize,
    },
    /// No coins can be taken for the amount.
    #[error(transparent)]
    Select(#[from] SelectError),
    /// The folder cannot be written to.
    #[error("folder {} cannot be used: {problem}", path.display())]
    Folder {
        /// The folder given.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The idempotency key was used before for a different request.
    #[error("idempotency key {key:?} was already used for a different request; use a new key")]
    IdempotencyConflict {
        /// The key.
        key: String,
    },
    /// The import request holds too many items.
    #[error("the request holds {count} items; at most {max} are allowed")]
    TooManyItems {
        /// Items given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// No export of that id is known (reclaim, and its check).
    #[error(
        "no export with task id {id} is known in any wallet (its receipt is not in Receipts); check the id"
    )]
    ExportNotFound {
        /// The id given.
        id: crate::task::TaskId,
    },
    /// The task is not an export that completed (reclaim, and its check).
    #[error("task {id} cannot be reclaimed: {reason}")]
    NotAnExport {
        /// The id given.
        id: crate::task::TaskId,
        /// Why.
        reason: String,
    },
    /// A fault of the server itself; the message is for the log.
    #[error("internal error: {0}")]
    Internal(String),
}
