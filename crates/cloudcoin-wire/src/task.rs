//! Background tasks as the API shows them: their identity, kind and status, and the `Task`
//! answer with its result.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use cloudcoin_domain::{Amount, WalletName};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::envelope::ErrorPayload;
use crate::fields::{
    amount, display, from_str, lossy_path, opt_amount, opt_wallet_name, unix_or_zero,
};
pub use crate::grade::{CoinRef, GradeData};
pub use crate::ids::{BadTaskId, TaskId};
use crate::refusal::RefusalKind;

/// The text is not one of the names of a [`TaskKind`] or a [`TaskStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a task {what} (one of {expected})")]
pub struct UnknownName {
    what: &'static str,
    text: String,
    expected: &'static str,
}

/// What a task does; `"export"`, `"import"` or `"backup"` on the wire.
///
/// `#[non_exhaustive]`: later versions add kinds; match with a `_` arm.
///
/// ```
/// use cloudcoin_wire::TaskKind;
/// assert_eq!("import".parse::<TaskKind>()?, TaskKind::Import);
/// assert_eq!(TaskKind::Backup.as_str(), "backup");
/// # Ok::<(), cloudcoin_wire::UnknownName>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum TaskKind {
    /// Coins out of a wallet into a file.
    Export,
    /// Coins from files into a wallet.
    Import,
    /// A zip of every coin of a wallet.
    Backup,
    /// Healing: Limbo coins settled, Fracked coins repaired, with the RAIDA.
    Fix,
    /// Taking back the coins of an export that its recipient has not claimed.
    Reclaim,
}

impl TaskKind {
    const ALL: [TaskKind; 5] =
        [TaskKind::Export, TaskKind::Import, TaskKind::Backup, TaskKind::Fix, TaskKind::Reclaim];

    /// `"export"`, `"import"`, `"backup"`, `"fix"` or `"reclaim"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Export => "export",
            TaskKind::Import => "import",
            TaskKind::Backup => "backup",
            TaskKind::Fix => "fix",
            TaskKind::Reclaim => "reclaim",
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<TaskKind, UnknownName> {
        TaskKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownName {
            what: "kind",
            text: s.to_owned(),
            expected: "export, import, backup, fix, reclaim",
        })
    }
}

/// Where a task is in its life: `Running`, then `Completed` or `Error`, never back;
/// `"running"`, `"completed"` or `"error"` on the wire.
///
/// `#[non_exhaustive]`: match with a `_` arm.
///
/// ```
/// use cloudcoin_wire::TaskStatus;
/// assert_eq!("completed".parse::<TaskStatus>()?, TaskStatus::Completed);
/// assert!(TaskStatus::Error.is_finished());
/// # Ok::<(), cloudcoin_wire::UnknownName>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum TaskStatus {
    /// Still working.
    Running,
    /// Finished and did what was asked.
    Completed,
    /// Finished without doing it; the message says why.
    Error,
}

impl TaskStatus {
    const ALL: [TaskStatus; 3] = [TaskStatus::Running, TaskStatus::Completed, TaskStatus::Error];

    /// `"running"`, `"completed"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Running => "running",
            TaskStatus::Completed => "completed",
            TaskStatus::Error => "error",
        }
    }

    /// Whether the task has ended (it never runs again).
    pub fn is_finished(self) -> bool {
        self != TaskStatus::Running
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskStatus {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<TaskStatus, UnknownName> {
        TaskStatus::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownName {
            what: "status",
            text: s.to_owned(),
            expected: "running, completed, error",
        })
    }
}

macro_rules! serde_by_name {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(de::Error::custom)
            }
        }
    };
}
serde_by_name!(TaskKind);
serde_by_name!(TaskStatus);

/// A background operation, as `GET /api/v1/tasks/{id}` shows it (also the payload of a `202`).
///
/// `#[non_exhaustive]`: a server builds it with [`Task::new`] and sets the public fields.
///
/// ```
/// use cloudcoin_wire::{Task, TaskId, TaskKind, TaskStatus};
///
/// let mut task = Task::new(TaskId::new(), TaskKind::Export, 1_764_339_000);
/// task.message = "selecting coins".into();
/// let text = serde_json::to_string(&task)?;
/// // A running task is `finished: 0` on the wire, `None` here.
/// assert!(text.contains(r#""status":"running","progress":0,"message":"selecting coins","started":1764339000,"finished":0,"wallet":null,"amount":null,"data":null"#));
/// let back: Task = serde_json::from_str(&text)?;
/// assert_eq!((back.status, back.finished), (TaskStatus::Running, None));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Task {
    /// Its id.
    #[serde(serialize_with = "display")]
    pub id: TaskId,
    /// `export`, `import` or `backup`.
    #[serde(rename = "type")]
    pub kind: TaskKind,
    /// `running`, then `completed` or `error`.
    pub status: TaskStatus,
    /// 0 to 100, never backwards.
    pub progress: u8,
    /// What it is doing, or what happened.
    pub message: String,
    /// When it started, in Unix seconds.
    pub started: u64,
    /// When it finished, in Unix seconds; `None` while running (`0` on the wire).
    #[serde(with = "unix_or_zero")]
    pub finished: Option<u64>,
    /// The wallet it works on; `None` (`null`) only for tasks recorded by servers older than
    /// this field, and absent from their answers.
    #[serde(with = "opt_wallet_name")]
    pub wallet: Option<WalletName>,
    /// The amount it moved or copied once finished (an export's, an import's, a backup's), or
    /// while running the amount asked for (an export's); `None` (`null`) when there is neither.
    #[serde(with = "opt_amount")]
    pub amount: Option<Amount>,
    /// The result once finished; `None` while running.
    pub data: Option<TaskData>,
}

impl Task {
    /// A task `kind` that started at `started` (Unix seconds) and is running: progress 0, no
    /// message, no result.
    pub fn new(id: TaskId, kind: TaskKind, started: u64) -> Task {
        Task {
            id,
            kind,
            status: TaskStatus::Running,
            progress: 0,
            message: String::new(),
            started,
            finished: None,
            wallet: None,
            amount: None,
            data: None,
        }
    }
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(deserialize_with = "from_str")]
            id: TaskId,
            #[serde(rename = "type")]
            kind: TaskKind,
            status: TaskStatus,
            progress: u8,
            message: String,
            started: u64,
            #[serde(with = "unix_or_zero")]
            finished: Option<u64>,
            #[serde(default, with = "opt_wallet_name")]
            wallet: Option<WalletName>,
            #[serde(default, with = "opt_amount")]
            amount: Option<Amount>,
            data: Option<Box<RawValue>>,
        }
        let raw = Raw::deserialize(d)?;
        let data = match raw.data {
            None => None,
            Some(text) => Some(TaskData::parse(raw.kind, text.get()).map_err(de::Error::custom)?),
        };
        Ok(Task {
            id: raw.id,
            kind: raw.kind,
            status: raw.status,
            progress: raw.progress,
            message: raw.message,
            started: raw.started,
            finished: raw.finished,
            wallet: raw.wallet,
            amount: raw.amount,
            data,
        })
    }
}

/// What a finished task produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum TaskData {
    /// A completed export.
    Export(ExportData),
    /// A finished import (completed, or in error when no item could be imported: then
    /// [`ImportData::rejected`] says why for each).
    Import(ImportData),
    /// A completed backup.
    Backup(BackupData),
    /// A completed healing.
    Fix(FixData),
    /// A completed reclaim.
    Reclaim(crate::reclaim::ReclaimData),
    /// A task that failed.
    Error(ErrorPayload),
}

impl TaskData {
    /// Reads `data` of a task of `kind`: an error payload when it has a `code`, else the kind's shape.
    fn parse(kind: TaskKind, text: &str) -> Result<TaskData, serde_json::Error> {
        #[derive(Deserialize)]
        struct Probe {
            code: Option<serde::de::IgnoredAny>,
        }
        if serde_json::from_str::<Probe>(text)?.code.is_some() {
            return serde_json::from_str(text).map(TaskData::Error);
        }
        match kind {
            TaskKind::Export => serde_json::from_str(text).map(TaskData::Export),
            TaskKind::Import => serde_json::from_str(text).map(TaskData::Import),
            TaskKind::Backup => serde_json::from_str(text).map(TaskData::Backup),
            TaskKind::Fix => serde_json::from_str(text).map(TaskData::Fix),
            TaskKind::Reclaim => serde_json::from_str(text).map(TaskData::Reclaim),
        }
    }
}

/// `data` of a completed export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[allow(clippy::manual_non_exhaustive)] // `result` is a constant of the wire shape, not a guard
pub struct ExportData {
    /// Always `null` (kept for the CloudCoin desktop backend's shape).
    #[serde(default)]
    result: (),
    /// The absolute path of the file written.
    #[serde(serialize_with = "lossy_path")]
    pub file: PathBuf,
    /// The value of the coins in it.
    #[serde(with = "amount")]
    pub amount: Amount,
    /// How many coins it holds.
    pub coins: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
    /// The change made first, when the wallet's coins could not make the amount exactly
    /// (absent when none was made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeData>,
}

impl ExportData {
    /// The result of an export that wrote `coins` coins worth `amount` into `file`, whose
    /// SHA-256 is `sha256` (lowercase hex).
    pub fn new(file: PathBuf, amount: Amount, coins: u64, sha256: String) -> ExportData {
        ExportData { result: (), file, amount, coins, sha256, change: None }
    }

    /// Sets [`ExportData::change`].
    pub fn with_change(mut self, change: Option<ChangeData>) -> ExportData {
        self.change = change;
        self
    }
}

/// The change an export made before choosing its coins: each coin broken into ten coins of
/// the denomination below.
///
/// ```
/// use cloudcoin_wire::{ChangeData, CoinRef};
///
/// let change = ChangeData::new(vec![CoinRef::new(1, 5)], "made change: broke 10 #5 into ten of 1");
/// assert_eq!(serde_json::to_value(&change)?["broken"][0]["sn"], 5);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChangeData {
    /// The coins broken, in order.
    pub broken: Vec<CoinRef>,
    /// What was done, for a person.
    pub note: String,
}

impl ChangeData {
    /// The change that broke `broken`, described by `note`.
    pub fn new(broken: Vec<CoinRef>, note: impl Into<String>) -> ChangeData {
        ChangeData { broken, note: note.into() }
    }
}

/// `data` of a finished import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[allow(clippy::manual_non_exhaustive)] // `result` is a constant of the wire shape, not a guard
pub struct ImportData {
    /// Always `null`.
    #[serde(default)]
    result: (),
    /// Coins stored in the wallet's Bank.
    pub imported: u64,
    /// Coins the wallet held already (not stored twice).
    pub already_present: u64,
    /// Items, or coins in them, that were refused, with reasons.
    pub rejected: Vec<Rejection>,
    /// The value of the coins imported.
    #[serde(with = "amount")]
    pub amount: Amount,
    /// Whether the new coins were claimed on the RAIDA, and their grades (absent from the
    /// answers of servers older than the network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimData>,
}

impl ImportData {
    /// The result of an import that stored `imported` coins worth `amount`, found
    /// `already_present` held already, and refused `rejected`.
    pub fn new(
        imported: u64,
        already_present: u64,
        rejected: Vec<Rejection>,
        amount: Amount,
    ) -> ImportData {
        ImportData { result: (), imported, already_present, rejected, amount, claim: None }
    }

    /// The same result with the claim's report.
    pub fn with_claim(mut self, claim: ClaimData) -> ImportData {
        self.claim = Some(claim);
        self
    }
}

/// `data.claim` of a finished import: whether its new coins were claimed (powned to keys only
/// this wallet knows) and how the RAIDA graded them.
///
/// ```
/// use cloudcoin_domain::Amount;
/// use cloudcoin_wire::{ClaimData, GradeData};
///
/// let none = GradeData::new(0, Amount::ZERO);
/// let claim = ClaimData::new(false, "no RAIDA network configured", none);
/// let json = serde_json::to_value(&claim)?;
/// assert_eq!(json["claimed"], false);
/// assert_eq!(json["bank"]["coins"], 0);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClaimData {
    /// `true` when the coins were claimed; `false`: stored with the keys they came with (no
    /// network configured, or `"claim": false`), and the sender can still spend them.
    pub claimed: bool,
    /// What that means, for a person.
    pub note: String,
    /// Claimed; every RAIDA holds this wallet's key.
    pub bank: GradeData,
    /// Authentic, and a few RAIDA do not hold this wallet's key yet: healing repairs them.
    pub fracked: GradeData,
    /// Not money: 13 or more RAIDA refused the keys the file carried.
    pub counterfeit: GradeData,
    /// Not settled (too few answers): kept with both keys until healing settles them.
    pub limbo: GradeData,
    /// The counterfeit coins, as `{"dn": code, "sn": serial}`.
    pub counterfeit_coins: Vec<CoinRef>,
}

impl ClaimData {
    /// A claim report saying `claimed` and `note`, with every grade `empty` (set the grades'
    /// fields after).
    pub fn new(claimed: bool, note: impl Into<String>, empty: GradeData) -> ClaimData {
        ClaimData {
            claimed,
            note: note.into(),
            bank: empty,
            fracked: empty,
            counterfeit: empty,
            limbo: empty,
            counterfeit_coins: Vec::new(),
        }
    }
}

/// `data` of a completed healing (`POST /api/v1/fix`): the coins looked at (every Limbo and
/// Fracked coin of the wallet) and the grade each ended in.
///
/// ```
/// use cloudcoin_domain::Amount;
/// use cloudcoin_wire::{FixData, GradeData};
///
/// let fix = FixData::new(0, GradeData::new(0, Amount::ZERO));
/// assert_eq!(serde_json::to_value(&fix)?["limbo"]["coins"], 0);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FixData {
    /// Coins looked at.
    pub coins: u64,
    /// Now held with this wallet's key on every RAIDA.
    pub bank: GradeData,
    /// Still lacking this wallet's key on some RAIDA.
    pub fracked: GradeData,
    /// Found counterfeit.
    pub counterfeit: GradeData,
    /// Still unsettled, kept with every key.
    pub limbo: GradeData,
}

impl FixData {
    /// A healing that looked at `coins` coins, with every grade `empty` (set the grades' fields
    /// after).
    pub fn new(coins: u64, empty: GradeData) -> FixData {
        FixData { coins, bank: empty, fracked: empty, counterfeit: empty, limbo: empty }
    }
}

/// One import item (or one coin in it) that was refused: `code` says which kind of refusal it
/// is (a [`RefusalKind`], codes from 4320), for a program to act on; `reason` says it to a
/// person.
///
/// ```
/// use cloudcoin_wire::{RefusalKind, Rejection};
/// let r = Rejection::new(1, "inline #1", RefusalKind::NotCoins, "not a coin file");
/// assert_eq!(serde_json::to_string(&r)?,
///     r#"{"item":1,"source":"inline #1","code":4321,"reason":"not a coin file"}"#);
/// assert_eq!(r.kind(), Some(RefusalKind::NotCoins));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rejection {
    /// Index of the item in the request.
    pub item: u64,
    /// The path, or `inline #i`.
    pub source: String,
    /// The kind of refusal, as its numeric code ([`RefusalKind::code`]); a server that sent none
    /// is read as [`RefusalKind::Unclassified`].
    #[serde(default = "unclassified")]
    pub code: u16,
    /// Why it was refused, for a person.
    pub reason: String,
}

fn unclassified() -> u16 {
    RefusalKind::Unclassified.code()
}

impl Rejection {
    /// Item `item` (from `source`) was refused as `kind`, for `reason`.
    pub fn new(
        item: u64,
        source: impl Into<String>,
        kind: RefusalKind,
        reason: impl Into<String>,
    ) -> Rejection {
        Rejection { item, source: source.into(), code: kind.code(), reason: reason.into() }
    }

    /// The kind of refusal, or `None` for a code this version does not know (a later server's).
    pub fn kind(&self) -> Option<RefusalKind> {
        RefusalKind::from_code(self.code)
    }
}

/// `data` of a completed backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[allow(clippy::manual_non_exhaustive)] // `result` is a constant of the wire shape, not a guard
pub struct BackupData {
    /// Always `null`.
    #[serde(default)]
    result: (),
    /// The absolute path of the zip written.
    #[serde(serialize_with = "lossy_path")]
    pub file: PathBuf,
    /// How many coins it holds.
    pub coins: u64,
    /// Their value (money coins only).
    #[serde(with = "amount")]
    pub amount: Amount,
    /// SHA-256 of the zip, lowercase hex (empty from a server that did not keep it).
    #[serde(default)]
    pub sha256: String,
}

impl BackupData {
    /// The result of a backup that wrote `coins` coins (`amount` of them money) into `file`,
    /// whose SHA-256 is `sha256` (lowercase hex).
    pub fn new(file: PathBuf, coins: u64, amount: Amount, sha256: String) -> BackupData {
        BackupData { result: (), file, coins, amount, sha256 }
    }
}
