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
    /// Crash recovery could not finish; nothing was served. It displays as its
    /// [`RecoveryError`] (which says "crash recovery failed: …") and has that error's source.
    #[error(transparent)]
    Recovery(#[from] RecoveryError),
    /// The RAIDA network's settings are not usable.
    #[error("the RAIDA network settings are not usable")]
    Network(#[source] cloudcoin_raida::ConfigError),
}

/// Why crash recovery could not finish (the source of [`OpenError::Recovery`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecoveryError {
    /// A record of the journal cannot be read. Its error is quoted in the message (and so is
    /// not its source as well).
    #[error(
        "crash recovery failed: journal record {} cannot be read ({error}); check the wallet it names, then move the record out of the journal folder",
        path.display()
    )]
    UnreadableRecord {
        /// The record's file.
        path: PathBuf,
        /// Why it cannot be read.
        error: io::Error,
    },
    /// A record of the journal names an id that is not a task id.
    #[error("crash recovery failed: journal record {id} has a bad id")]
    BadId {
        /// The id it names.
        id: String,
        /// Why it is not a task id.
        #[source]
        source: cloudcoin_wire::BadTaskId,
    },
    /// An export whose file was published cannot be finished (its coins moved to `Sent`).
    #[error("crash recovery failed: cannot finish export {id}")]
    Export {
        /// The export's journal id.
        id: String,
        /// What failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
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
        "wallet \"{name}\" still holds coins ({files}); move them to another wallet \
         first — `cloudcoin export <its balance> --wallet \"{name}\" --folder DIR`, then \
         `cloudcoin import FILE --wallet OTHER --allow-sent` (the file is your own export) — \
         and delete it then",
        files = crate::words::counted(*coins, "coin file", "coin files")
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
        #[source]
        problem: FolderProblem,
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
        reason: NotReclaimable,
    },
    /// A fault of the server itself; the details (its source) are for the log.
    #[error("internal error")]
    Internal(#[from] InternalError),
}

/// Why a task cannot be reclaimed (the reason of [`ServiceError::NotAnExport`]).
///
/// ```
/// use cloudcoin_tasks::NotReclaimable;
/// assert_eq!(
///     NotReclaimable::Running.to_string(),
///     "the export is still running; wait for it to finish"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotReclaimable {
    /// The task is of another kind.
    #[error("it is a {0} task, not an export")]
    OtherKind(crate::task::TaskKind),
    /// The export has not finished.
    #[error("the export is still running; wait for it to finish")]
    Running,
    /// The export ended in error: its coins never left the wallet.
    #[error("the export did not complete, so its coins never left the wallet")]
    NotCompleted,
}

/// A fault of the server itself while it served a request (the source of
/// [`ServiceError::Internal`]); the details are for the log, never for the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InternalError {
    /// A file or folder of the data directory could not be read or written.
    #[error("a file or folder of the data directory cannot be used")]
    Io(#[from] io::Error),
    /// Work handed to another thread ended without an answer: it panicked, or the runtime is
    /// shutting down.
    #[error("work handed to another thread ended without an answer")]
    Background(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Checking an export's coins with the RAIDA failed (reading `Sent`, or the network).
    #[error("the check of an export's coins failed")]
    ReclaimCheck(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What is wrong with a folder given for an export or a backup, worded for the person who gave
/// it (the API answers with [`ServiceError::Folder`]'s message, which includes this one).
///
/// Where the system refused something, the variant keeps its error: as a field (`error`) where
/// the message quotes it mid-sentence, as it always has (so that the one line a client shows says
/// what the system said, and a chain of sources does not say it twice); as the
/// [`source`](std::error::Error::source) where the message gives advice instead.
///
/// ```
/// use cloudcoin_tasks::FolderProblem;
/// assert_eq!(FolderProblem::NotAbsolute.to_string(), "it is not an absolute path");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FolderProblem {
    /// The path is relative.
    #[error("it is not an absolute path")]
    NotAbsolute,
    /// The path has `.` or `..` segments.
    #[error("it contains . or .. segments; give the plain absolute path")]
    DotSegments,
    /// Nothing is at the path.
    #[error("it does not exist")]
    NotFound,
    /// The path cannot be resolved to a real path.
    #[error("it cannot be resolved ({error})")]
    Unresolvable {
        /// What the system said.
        error: io::Error,
    },
    /// The path passes through a symbolic link.
    #[error(
        "it passes through a symbolic link (it resolves to {}); give the real path",
        resolved.display()
    )]
    ThroughLink {
        /// The real path it resolves to.
        resolved: PathBuf,
    },
    /// The folder's metadata or entries cannot be read.
    #[error("it cannot be read ({error})")]
    Unreadable {
        /// What the system said.
        error: io::Error,
    },
    /// The path is not a directory.
    #[error("it is not a directory")]
    NotADirectory,
    /// The folder is outside every `--export-root`.
    #[error("it is outside the folders this server may write to (--export-root)")]
    OutsideRoots,
    /// The folder changed (became or passed through a link) while it was checked.
    #[error("it changed while it was being checked; try again")]
    Changed,
    /// The folder cannot be opened.
    #[error("it cannot be opened ({error})")]
    Unopenable {
        /// What the system said.
        error: io::Error,
    },
    /// The folder is the data directory or inside it, by its path.
    #[error(
        "it is inside the server's data directory ({}); {DATA_DIR_WHY}",
        data_dir.display()
    )]
    InDataDir {
        /// The server's data directory.
        data_dir: PathBuf,
    },
    /// The folder is the data directory or inside it, reached through a bind mount or a second
    /// mount.
    #[error(
        "it is the server's data directory ({}) or a folder in it, reached another way (a bind mount or a second mount); {DATA_DIR_WHY}",
        data_dir.display()
    )]
    ReachesDataDir {
        /// The server's data directory.
        data_dir: PathBuf,
    },
    /// Whether the folder is in the data directory cannot be told.
    #[error("it cannot be checked against the server's data directory ({error})")]
    Uncheckable {
        /// What the system said.
        error: io::Error,
    },
    /// No file can be created in it at all (a system folder such as `/proc`).
    #[error(
        "no file can be created in it (a system folder such as /proc or /sys?); choose a folder of yours, such as your home or Downloads folder"
    )]
    NoNewFiles {
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The server's user may not write in it.
    #[error(
        "the server may not write in it (permission denied); choose a folder the user running the server owns"
    )]
    PermissionDenied {
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// A file cannot be created in it for another reason.
    #[error("it is not writable ({error})")]
    NotWritable {
        /// What the system said.
        error: io::Error,
    },
    /// The output's name, or a numbered name before the first free one, is a symbolic link.
    #[error("it contains a symbolic link named '{name}'; remove it or choose another folder")]
    LinkedName {
        /// The link's name.
        name: String,
    },
}

/// Why no coin file may be written into the data directory.
const DATA_DIR_WHY: &str = "coins written there would be taken for the wallet's own and could be spent twice; choose a folder outside it";
