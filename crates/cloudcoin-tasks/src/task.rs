//! What a client sees of a background operation: ids, states, progress and results.

use std::path::PathBuf;

use cloudcoin_domain::{Amount, WalletName};
pub use cloudcoin_wire::{BadTaskId, RefusalKind, TaskId, TaskKind, TaskStatus};

/// A snapshot of a task.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TaskView {
    /// Its id.
    pub id: TaskId,
    /// What it does.
    pub kind: TaskKind,
    /// Where it is.
    pub status: TaskStatus,
    /// 0 to 100, never backwards.
    pub progress: u8,
    /// What it is doing, or what happened.
    pub message: String,
    /// When it started, in Unix seconds.
    pub started: u64,
    /// When it finished, in Unix seconds; `None` while running.
    pub finished: Option<u64>,
    /// The wallet it works on (`None` only in records written before tasks kept it).
    pub wallet: Option<WalletName>,
    /// The amount asked for, when the request named one (an export's); the outcome holds
    /// what a finished task moved.
    pub requested: Option<Amount>,
    /// The result once finished.
    pub outcome: Option<TaskOutcome>,
}

impl TaskView {
    /// The amount the task moved or copied once finished (an export's, an import's or a
    /// backup's), else the amount asked for; `None` when there is neither (a running import,
    /// a healing, a failed backup).
    pub fn amount(&self) -> Option<Amount> {
        match &self.outcome {
            Some(TaskOutcome::Export(r)) => Some(r.amount),
            Some(TaskOutcome::Import(r)) => Some(r.amount),
            Some(TaskOutcome::Backup(r)) => Some(r.amount),
            _ => self.requested,
        }
    }
}

/// The result of a finished task.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskOutcome {
    /// An export that completed.
    Export(ExportResult),
    /// An import that completed.
    Import(ImportResult),
    /// A backup that completed.
    Backup(BackupResult),
    /// A healing that completed.
    Fix(crate::report::HealReport),
    /// A reclaim that completed.
    Reclaim(crate::report::ReclaimReport),
    /// A task that ended in error.
    Failed(TaskFailure),
}

/// What a completed export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportResult {
    /// The absolute path of the file written.
    pub file: PathBuf,
    /// The value of the coins in it.
    pub amount: Amount,
    /// How many coins it holds.
    pub coins: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// The change made first, when the coins could not make the amount exactly.
    pub change: Option<crate::report::ChangeReport>,
}

/// What a completed import did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportResult {
    /// Coins stored in Bank.
    pub imported: u64,
    /// Coins the wallet held already (not stored twice).
    pub already_present: u64,
    /// Items or coins refused, with reasons.
    pub rejected: Vec<Rejection>,
    /// The value of the coins imported.
    pub amount: Amount,
    /// Whether the new coins were claimed on the RAIDA, and their grades.
    pub claim: crate::report::ClaimReport,
}

/// One import item (or one coin in it) that was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rejection {
    /// Index of the item in the request.
    pub item: u64,
    /// The path, or `inline #i`.
    pub source: String,
    /// The kind of refusal, for a program to act on (the API sends its code).
    pub kind: RefusalKind,
    /// Why it was refused, for a person.
    pub reason: String,
}

/// What a completed backup wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupResult {
    /// The absolute path of the zip written.
    pub file: PathBuf,
    /// How many coins it holds.
    pub coins: u64,
    /// Their value (money coins only).
    pub amount: Amount,
    /// SHA-256 of the zip, lowercase hex (empty for a backup recorded before it was kept).
    pub sha256: String,
}

/// Why a task ended in error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskFailure {
    /// The kind of failure.
    pub kind: FailureKind,
    /// What went wrong, for a person.
    pub message: String,
}

impl TaskFailure {
    /// A failure of `kind`, explained by `message`.
    ///
    /// ```
    /// use cloudcoin_tasks::{FailureKind, TaskFailure};
    /// let f = TaskFailure::new(FailureKind::Io, "the disk is full");
    /// assert_eq!(f.kind, FailureKind::Io);
    /// ```
    pub fn new(kind: FailureKind, message: impl Into<String>) -> TaskFailure {
        TaskFailure { kind, message: message.into() }
    }
}

/// The kind of a task failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// Reading or writing a file failed (disk full, permissions, …).
    Io,
    /// The file written did not read back as the coins meant to be in it.
    Verification,
    /// The server stopped while the task ran; recovery settled it.
    Interrupted,
    /// A fault of the server itself.
    Internal,
}

impl FailureKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FailureKind::Io => "io",
            FailureKind::Verification => "verification",
            FailureKind::Interrupted => "interrupted",
            FailureKind::Internal => "internal",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<FailureKind> {
        [
            FailureKind::Io,
            FailureKind::Verification,
            FailureKind::Interrupted,
            FailureKind::Internal,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A count of coins or items as the results carry it: `u64`, as on the wire. A `usize` is at
/// most 64 bits on every target Rust supports, so this never fails.
pub(crate) fn count(n: usize) -> u64 {
    u64::try_from(n).expect("a usize fits in 64 bits")
}
