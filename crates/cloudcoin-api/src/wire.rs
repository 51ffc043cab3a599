//! The JSON shapes of the HTTP API, as Rust types a client can send and read.
//!
//! Every answer is an [`Envelope`]: `{"status":"success","payload":…}` with the endpoint's
//! payload type, or `{"status":"error","payload":`[`ErrorPayload`]`}`. Amounts are exact
//! [`Amount`]s written as JSON numbers from their decimal text (`10.5`, never through `f64`);
//! they are read back from a number's text or from a string.
//!
//! These types are made for `serde_json`: the envelope, the task and the amounts read a value's
//! raw JSON text, which other serde formats do not provide.
//!
//! ```
//! use cloudcoin_api::wire::{Envelope, WalletSummary};
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
//! assert_eq!(error.code, cloudcoin_api::codes::WALLET_NOT_FOUND);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use cloudcoin_domain::{Amount, FileKind, Tag, WalletName};
use cloudcoin_tasks::{TaskId, TaskKind, TaskStatus};
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// An answer of the API: a success with its payload, or an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // the payload is read once and taken apart at once
pub enum Envelope<T> {
    /// `{"status":"success","payload":T}`.
    Success(T),
    /// `{"status":"error","payload":{…}}`.
    Error(ErrorPayload),
}

impl<T> Envelope<T> {
    /// The payload of a success, or the error.
    pub fn into_result(self) -> Result<T, ErrorPayload> {
        match self {
            Envelope::Success(t) => Ok(t),
            Envelope::Error(e) => Err(e),
        }
    }
}

impl<T: Serialize> Serialize for Envelope<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        match self {
            Envelope::Success(t) => {
                m.serialize_entry("status", "success")?;
                m.serialize_entry("payload", t)?;
            }
            Envelope::Error(e) => {
                m.serialize_entry("status", "error")?;
                m.serialize_entry("payload", e)?;
            }
        }
        m.end()
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Envelope<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            status: String,
            payload: Box<RawValue>,
        }
        let raw = Raw::deserialize(d)?;
        match raw.status.as_str() {
            "success" => serde_json::from_str(raw.payload.get())
                .map(Envelope::Success)
                .map_err(de::Error::custom),
            "error" => serde_json::from_str(raw.payload.get())
                .map(Envelope::Error)
                .map_err(de::Error::custom),
            other => Err(de::Error::unknown_variant(other, &["success", "error"])),
        }
    }
}

/// The `payload` of an error envelope, also the `data` of a task that failed.
///
/// On the wire it carries `"status":"error"` too, so a client that only looks at
/// `payload.status` (as it does when polling a task) stops on an error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorPayload {
    #[serde(default)]
    status: ErrorTag,
    /// The numeric code (see [`codes`](crate::codes)).
    pub code: u16,
    /// What went wrong and what to do, for a person.
    pub message: String,
    /// Facts about the failure a program can use (which field, the balance, …).
    pub details: Option<Box<ErrorDetails>>,
}

impl ErrorPayload {
    /// An error payload with no details.
    pub fn new(code: u16, message: impl Into<String>) -> ErrorPayload {
        ErrorPayload { status: ErrorTag, code, message: message.into(), details: None }
    }

    /// The same payload with `details`.
    pub fn with_details(mut self, details: ErrorDetails) -> ErrorPayload {
        self.details = Some(Box::new(details));
        self
    }
}

impl fmt::Display for ErrorPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for ErrorPayload {}

/// Always `"error"` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct ErrorTag;

impl Serialize for ErrorTag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("error")
    }
}

impl<'de> Deserialize<'de> for ErrorTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == "error" {
            Ok(ErrorTag)
        } else {
            Err(de::Error::invalid_value(de::Unexpected::Str(&text), &"\"error\""))
        }
    }
}

/// The `details` of an error: each field is present only for the failures it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorDetails {
    /// The request field that failed validation (4121), as the client named it
    /// (`items[1].data`, `Idempotency-Key header`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The body limit in bytes that was exceeded (4307).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The wallet concerned (4114, 4115, 4116).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The folder refused (4193).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// The wallet's balance (4134, 4135).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_amount")]
    pub balance: Option<Amount>,
    /// The amount asked for (4134, 4135).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_amount")]
    pub requested: Option<Amount>,
    /// The nearest amount below the request that the wallet can make exactly (4134).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_amount")]
    pub below: Option<Amount>,
    /// The nearest amount above the request that the wallet can make exactly (4134).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_amount")]
    pub above: Option<Amount>,
    /// How many coins the amount needs (4300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed: Option<u64>,
    /// The most coins one file holds (4300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
}

/// `POST /api/v1/export`: take `amount` out of wallet `name` into a file in `folder`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExportRequest {
    /// The wallet.
    #[serde(with = "wallet_name")]
    pub name: WalletName,
    /// The exact amount.
    #[serde(with = "amount")]
    pub amount: Amount,
    /// An absolute path to an existing, writable folder.
    pub folder: PathBuf,
    /// The file kind: `stack`, `png`, `zip`, `bin` or `pdf`.
    #[serde(rename = "type", with = "file_kind")]
    pub kind: FileKind,
    /// The tag in the file's name (empty when absent).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_tag")]
    pub tag: Option<Tag>,
}

impl ExportRequest {
    /// An export request without a tag.
    pub fn new(
        name: WalletName,
        amount: Amount,
        folder: impl Into<PathBuf>,
        kind: FileKind,
    ) -> ExportRequest {
        ExportRequest { name, amount, folder: folder.into(), kind, tag: None }
    }

    /// The same request with `tag`.
    pub fn with_tag(mut self, tag: Tag) -> ExportRequest {
        self.tag = Some(tag);
        self
    }
}

/// `POST /api/v1/import`: read coin files into wallet `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImportRequest {
    /// The wallet.
    #[serde(with = "wallet_name")]
    pub name: WalletName,
    /// The files, at least one.
    pub items: Vec<ImportItem>,
    /// The tag recorded with the import.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_tag")]
    pub tag: Option<Tag>,
    /// Store coins this server sent away too (their files, with the same keys, are in a
    /// wallet's `Sent` folder). Off unless `true`: whoever holds the exported file can spend
    /// such a coin as well, and only claiming it with the RAIDA settles who owns it. A coin
    /// another wallet of the server holds is never stored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_sent: bool,
}

impl ImportRequest {
    /// An import of `items` into `name`, refusing coins this server sent away.
    pub fn new(name: WalletName, items: Vec<ImportItem>) -> ImportRequest {
        ImportRequest { name, items, tag: None, allow_sent: false }
    }

    /// The same request, storing coins this server sent away too (`"allow_sent": true`).
    ///
    /// ```
    /// use cloudcoin_api::wire::{ImportItem, ImportRequest};
    /// use cloudcoin_domain::WalletName;
    ///
    /// let items = vec![ImportItem::File("/home/me/coins.stack".into())];
    /// let request = ImportRequest::new(WalletName::parse("Alice").unwrap(), items);
    /// let json = serde_json::to_value(request.clone().with_sent_coins_allowed()).unwrap();
    /// assert_eq!(json["allow_sent"], true);
    /// assert!(serde_json::to_value(request).unwrap().get("allow_sent").is_none());
    /// ```
    pub fn with_sent_coins_allowed(mut self) -> ImportRequest {
        self.allow_sent = true;
        self
    }

    /// The same request with `tag`.
    pub fn with_tag(mut self, tag: Tag) -> ImportRequest {
        self.tag = Some(tag);
        self
    }
}

/// One file to import: `{"type":"file","data":"/abs/path"}` or
/// `{"type":"inline","data":"<base64>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ImportItem {
    /// A file the server reads (an absolute path on the server's machine); it is left in place.
    File(PathBuf),
    /// A file's bytes, base64-encoded (standard alphabet).
    Inline(String),
}

/// `POST /api/v1/backup`: a zip of every coin of wallet `name` in `folder`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BackupRequest {
    /// The wallet.
    #[serde(with = "wallet_name")]
    pub name: WalletName,
    /// An absolute path to an existing, writable folder.
    pub folder: PathBuf,
    /// The tag in the zip's name (`backup {date}` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_tag")]
    pub tag: Option<Tag>,
}

impl BackupRequest {
    /// A backup request without a tag.
    pub fn new(name: WalletName, folder: impl Into<PathBuf>) -> BackupRequest {
        BackupRequest { name, folder: folder.into(), tag: None }
    }

    /// The same request with `tag`.
    pub fn with_tag(mut self, tag: Tag) -> BackupRequest {
        self.tag = Some(tag);
        self
    }
}

/// `POST /api/v1/fix`: heal wallet `name`'s Limbo and Fracked coins with the RAIDA.
///
/// ```
/// use cloudcoin_api::wire::FixRequest;
/// use cloudcoin_domain::WalletName;
/// let r = FixRequest::new(WalletName::parse("Default").unwrap());
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"name":"Default"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FixRequest {
    /// The wallet.
    #[serde(with = "wallet_name")]
    pub name: WalletName,
}

impl FixRequest {
    /// Heal wallet `name`.
    pub fn new(name: WalletName) -> FixRequest {
        FixRequest { name }
    }
}

/// `POST /api/v1/wallets`: create wallet `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateWalletRequest {
    /// The new wallet's name.
    #[serde(with = "wallet_name")]
    pub name: WalletName,
}

impl CreateWalletRequest {
    /// A request to create `name`.
    pub fn new(name: WalletName) -> CreateWalletRequest {
        CreateWalletRequest { name }
    }
}

/// A background operation, as `GET /api/v1/tasks/{id}` shows it (also the payload of a `202`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Task {
    /// Its id.
    #[serde(serialize_with = "display")]
    pub id: TaskId,
    /// `export`, `import` or `backup`.
    #[serde(rename = "type", serialize_with = "task_kind::serialize")]
    pub kind: TaskKind,
    /// `running`, then `completed` or `error`.
    #[serde(serialize_with = "task_status::serialize")]
    pub status: TaskStatus,
    /// 0 to 100, never backwards.
    pub progress: u8,
    /// What it is doing, or what happened.
    pub message: String,
    /// When it started, in Unix seconds.
    pub started: u64,
    /// When it finished, in Unix seconds; 0 while running.
    pub finished: u64,
    /// The result once finished; `None` while running.
    pub data: Option<TaskData>,
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(deserialize_with = "from_str")]
            id: TaskId,
            #[serde(rename = "type", deserialize_with = "task_kind::deserialize")]
            kind: TaskKind,
            #[serde(deserialize_with = "task_status::deserialize")]
            status: TaskStatus,
            progress: u8,
            message: String,
            started: u64,
            finished: u64,
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
            TaskKind::Fix => serde_json::from_str(text).map(TaskData::Fix),
            _ => serde_json::from_str(text).map(TaskData::Backup),
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

/// `data.claim` of a finished import: whether its new coins were claimed (powned to keys only
/// this wallet knows) and how the RAIDA graded them.
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

/// How many coins, and how much, ended in one grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GradeData {
    /// Coins.
    pub coins: u64,
    /// Their value.
    #[serde(with = "amount")]
    pub amount: Amount,
}

/// `data` of a completed healing (`POST /api/v1/fix`): the coins looked at (every Limbo and
/// Fracked coin of the wallet) and the grade each ended in.
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

/// `GET /api/v1/raida`: every RAIDA's echo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RaidaStatus {
    /// How many of the 25 answered.
    pub up: u64,
    /// Each RAIDA, by id.
    pub raida: Vec<RaidaEcho>,
}

/// One RAIDA's echo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RaidaEcho {
    /// Its id, 0 to 24.
    pub id: u8,
    /// Its address.
    pub address: String,
    /// Whether it answered.
    pub up: bool,
    /// The echo's round trip in milliseconds; `null` when it did not answer.
    pub latency_ms: Option<u64>,
    /// The type-1 response counter seen or set (`restart`, `continue`); `null` while not learnt.
    pub counter: Option<String>,
}

impl RaidaStatus {
    pub(crate) fn from_service(all: &[cloudcoin_tasks::RaidaHealth]) -> RaidaStatus {
        RaidaStatus {
            up: all.iter().filter(|r| r.up).count() as u64,
            raida: all
                .iter()
                .map(|r| RaidaEcho {
                    id: r.id,
                    address: r.address.clone(),
                    up: r.up,
                    latency_ms: r
                        .round_trip
                        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                    counter: r.counter.map(str::to_owned),
                })
                .collect(),
        }
    }
}

/// A coin named by its denomination code and serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CoinRef {
    /// The denomination code (`1` is 10, `-1` is 0.1).
    pub dn: i8,
    /// The serial number.
    pub sn: u32,
}

impl ClaimData {
    fn from_report(r: &cloudcoin_tasks::ClaimReport) -> ClaimData {
        let g =
            |c: &cloudcoin_tasks::GradeCount| GradeData { coins: c.coins as u64, amount: c.amount };
        ClaimData {
            claimed: r.claimed,
            note: r.note.clone(),
            bank: g(&r.bank),
            fracked: g(&r.fracked),
            counterfeit: g(&r.counterfeit),
            limbo: g(&r.limbo),
            counterfeit_coins: r
                .counterfeit_coins
                .iter()
                .map(|id| CoinRef { dn: id.denomination.code(), sn: id.serial.get() })
                .collect(),
        }
    }
}

/// One import item (or one coin in it) that was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rejection {
    /// Index of the item in the request.
    pub item: u64,
    /// The path, or `inline #i`.
    pub source: String,
    /// Why it was refused.
    pub reason: String,
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

/// A wallet in `GET /api/v1/wallets` (also the payload of a `201` from `POST /api/v1/wallets`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WalletSummary {
    /// Its name.
    #[serde(with = "wallet_name")]
    pub name: WalletName,
    /// The value of its Bank and Fracked coins.
    #[serde(with = "amount")]
    pub balance: Amount,
    /// How many coins that is.
    pub coins: u64,
}

/// One wallet in detail, `GET /api/v1/wallets/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WalletDetail {
    /// Its name.
    #[serde(with = "wallet_name")]
    pub name: WalletName,
    /// The value of its Bank and Fracked coins.
    #[serde(with = "amount")]
    pub balance: Amount,
    /// How many coins that is.
    pub coins: u64,
    /// Spendable coins per denomination, keyed by the denomination's value (`"0.1"`, `"100"`).
    pub denominations: BTreeMap<String, u64>,
    /// Coin files per wallet folder (`"Bank"`, `"Fracked"`, `"Sent"`, …).
    pub folders: BTreeMap<String, u64>,
}

/// `DELETE /api/v1/wallets/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Deleted {
    /// The wallet deleted.
    pub deleted: String,
}

/// `GET /api/v1/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Info {
    /// `cloudcoin-server`.
    pub name: String,
    /// The server's version.
    pub version: String,
    /// `ok`.
    pub status: String,
    /// `v1`.
    pub api: String,
}

/// `GET /api/v1/health`: `{"status":"ok"}`, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Health {
    /// `ok`.
    pub status: String,
}

// ---- construction from the service's types (the server side) ----

impl Task {
    pub(crate) fn from_view(view: &cloudcoin_tasks::TaskView) -> Task {
        Task {
            id: view.id,
            kind: view.kind,
            status: view.status,
            progress: view.progress,
            message: view.message.clone(),
            started: view.started,
            finished: view.finished,
            data: view.outcome.as_ref().map(TaskData::from_outcome),
        }
    }
}

impl TaskData {
    fn from_outcome(outcome: &cloudcoin_tasks::TaskOutcome) -> TaskData {
        use cloudcoin_tasks::TaskOutcome as O;
        match outcome {
            O::Export(r) => TaskData::Export(ExportData {
                result: (),
                file: r.file.clone(),
                amount: r.amount,
                coins: r.coins as u64,
                sha256: r.sha256.clone(),
            }),
            O::Import(r) => TaskData::Import(ImportData {
                result: (),
                imported: r.imported as u64,
                already_present: r.already_present as u64,
                rejected: r
                    .rejected
                    .iter()
                    .map(|x| Rejection {
                        item: x.item as u64,
                        source: x.source.clone(),
                        reason: x.reason.clone(),
                    })
                    .collect(),
                amount: r.amount,
                claim: Some(ClaimData::from_report(&r.claim)),
            }),
            O::Backup(r) => TaskData::Backup(BackupData {
                result: (),
                file: r.file.clone(),
                coins: r.coins as u64,
                amount: r.amount,
                sha256: r.sha256.clone(),
            }),
            O::Fix(r) => {
                let g = |c: &cloudcoin_tasks::GradeCount| GradeData {
                    coins: c.coins as u64,
                    amount: c.amount,
                };
                TaskData::Fix(FixData {
                    coins: r.coins as u64,
                    bank: g(&r.bank),
                    fracked: g(&r.fracked),
                    counterfeit: g(&r.counterfeit),
                    limbo: g(&r.limbo),
                })
            }
            O::Failed(f) => TaskData::Error(crate::error::task_failure(f).payload()),
            #[allow(unreachable_patterns)]
            _ => TaskData::Error(ErrorPayload::new(
                crate::codes::INTERNAL,
                "the task ended in a way this server version cannot describe",
            )),
        }
    }
}

impl WalletSummary {
    pub(crate) fn from_service(w: &cloudcoin_tasks::WalletSummary) -> WalletSummary {
        WalletSummary { name: w.name.clone(), balance: w.balance, coins: w.coins as u64 }
    }
}

impl WalletDetail {
    pub(crate) fn from_service(w: &cloudcoin_tasks::WalletDetail) -> WalletDetail {
        WalletDetail {
            name: w.name.clone(),
            balance: w.balance,
            coins: w.coins as u64,
            denominations: w
                .per_denomination
                .iter()
                .map(|(d, n)| (d.to_string(), *n as u64))
                .collect(),
            folders: w.per_folder.iter().map(|(f, n)| (f.clone(), *n as u64)).collect(),
        }
    }
}

impl Info {
    pub(crate) fn this_server() -> Info {
        Info {
            name: "cloudcoin-server".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            status: "ok".into(),
            api: "v1".into(),
        }
    }
}

impl Health {
    pub(crate) fn ok() -> Health {
        Health { status: "ok".into() }
    }
}

impl Deleted {
    pub(crate) fn wallet(name: &WalletName) -> Deleted {
        Deleted { deleted: name.as_str().to_owned() }
    }
}

// ---- serde helpers ----

fn display<T: fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn from_str<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: std::str::FromStr,
    T::Err: fmt::Display,
    D: Deserializer<'de>,
{
    let text = String::deserialize(d)?;
    text.parse().map_err(de::Error::custom)
}

fn lossy_path<S: Serializer>(path: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// An [`Amount`] as a JSON number written from its exact decimal text.
pub(crate) mod amount {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(a: &Amount, s: S) -> Result<S::Ok, S::Error> {
        // The decimal text of an Amount ("10.5", "0.00000001") is always a valid JSON number.
        let text = RawValue::from_string(a.to_string()).map_err(serde::ser::Error::custom)?;
        text.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        parse(raw.get()).map_err(de::Error::custom)
    }

    /// A JSON number's text, or a JSON string holding a decimal.
    pub(crate) fn parse(text: &str) -> Result<Amount, String> {
        let text = text.trim();
        let decimal = if text.starts_with('"') {
            serde_json::from_str::<String>(text).map_err(|e| e.to_string())?
        } else {
            text.to_owned()
        };
        decimal.parse::<Amount>().map_err(|e| e.to_string())
    }
}

mod opt_amount {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(a: &Option<Amount>, s: S) -> Result<S::Ok, S::Error> {
        match a {
            Some(a) => amount::serialize(a, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amount>, D::Error> {
        let raw = Option::<Box<RawValue>>::deserialize(d)?;
        match raw {
            None => Ok(None),
            Some(raw) if raw.get().trim() == "null" => Ok(None),
            Some(raw) => amount::parse(raw.get()).map(Some).map_err(de::Error::custom),
        }
    }
}

mod wallet_name {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(n: &WalletName, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(n.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<WalletName, D::Error> {
        let text = String::deserialize(d)?;
        WalletName::parse(&text).map_err(de::Error::custom)
    }
}

mod opt_tag {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &Option<Tag>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(t.as_str()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tag>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => Tag::parse(&text).map(Some).map_err(de::Error::custom),
        }
    }
}

mod file_kind {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(k: &FileKind, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(k)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FileKind, D::Error> {
        let text = String::deserialize(d)?;
        FileKind::from_name(&text).ok_or_else(|| {
            de::Error::unknown_variant(&text, &["stack", "png", "zip", "bin", "pdf"])
        })
    }
}

mod task_kind {
    use super::*;

    const ALL: [TaskKind; 4] =
        [TaskKind::Export, TaskKind::Import, TaskKind::Backup, TaskKind::Fix];

    pub(crate) fn serialize<S: Serializer>(k: &TaskKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TaskKind, D::Error> {
        let text = String::deserialize(d)?;
        ALL.into_iter().find(|k| k.as_str() == text).ok_or_else(|| {
            de::Error::unknown_variant(&text, &["export", "import", "backup", "fix"])
        })
    }
}

mod task_status {
    use super::*;

    const ALL: [TaskStatus; 3] = [TaskStatus::Running, TaskStatus::Completed, TaskStatus::Error];

    pub(crate) fn serialize<S: Serializer>(k: &TaskStatus, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TaskStatus, D::Error> {
        let text = String::deserialize(d)?;
        ALL.into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| de::Error::unknown_variant(&text, &["running", "completed", "error"]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug>(v: &T) {
        let text = serde_json::to_string(v).expect("serializes");
        let back: T = serde_json::from_str(&text).expect("reads back");
        assert_eq!(&back, v, "{text}");
    }

    #[test]
    fn requests_round_trip_and_use_the_wire_names() {
        let name = WalletName::parse("Default").expect("name");
        let amount: Amount = "10.5".parse().expect("amount");
        let export = ExportRequest::new(name.clone(), amount, "/tmp/out", FileKind::Zip)
            .with_tag(Tag::parse("trade").expect("tag"));
        assert_eq!(
            serde_json::to_string(&export).expect("json"),
            r#"{"name":"Default","amount":10.5,"folder":"/tmp/out","type":"zip","tag":"trade"}"#
        );
        round_trip(&export);
        let import = ImportRequest::new(
            name.clone(),
            vec![ImportItem::File("/x.bin".into()), ImportItem::Inline("AAA=".into())],
        );
        assert_eq!(
            serde_json::to_string(&import).expect("json"),
            r#"{"name":"Default","items":[{"type":"file","data":"/x.bin"},{"type":"inline","data":"AAA="}]}"#
        );
        round_trip(&import);
        round_trip(&BackupRequest::new(name.clone(), "/b"));
        round_trip(&CreateWalletRequest::new(name));
    }

    #[test]
    fn amounts_are_exact_both_ways() {
        let tiny: Amount = "0.00000001".parse().expect("amount");
        let big: Amount = "1234567.12345678".parse().expect("amount");
        for a in [tiny, big, Amount::ZERO] {
            let w =
                WalletSummary { name: WalletName::parse("W").expect("name"), balance: a, coins: 1 };
            let text = serde_json::to_string(&w).expect("json");
            assert!(text.contains(&format!("\"balance\":{a}")), "{text}");
            round_trip(&w);
        }
        let from_string: WalletSummary =
            serde_json::from_str(r#"{"name":"W","balance":"10.5","coins":1}"#).expect("string");
        assert_eq!(from_string.balance.to_string(), "10.5");
    }

    #[test]
    fn error_payloads_carry_status_error() {
        let e = ErrorPayload::new(4115, "wallet \"Bob\" does not exist")
            .with_details(ErrorDetails { name: Some("Bob".into()), ..ErrorDetails::default() });
        let text = serde_json::to_string(&Envelope::<()>::Error(e.clone())).expect("json");
        assert_eq!(
            text,
            r#"{"status":"error","payload":{"status":"error","code":4115,"message":"wallet \"Bob\" does not exist","details":{"name":"Bob"}}}"#
        );
        let back: Envelope<WalletSummary> = serde_json::from_str(&text).expect("reads");
        assert_eq!(back, Envelope::Error(e));
    }

    #[test]
    fn tasks_read_back_with_their_data_shape() {
        let id = TaskId::new();
        let base = format!(
            r#"{{"id":"{id}","type":"TYPE","status":"STATUS","progress":100,"message":"m","started":1,"finished":2,"data":DATA}}"#
        );
        let cases = [
            (
                "export",
                "completed",
                r#"{"result":null,"file":"/o/x.zip","amount":10.5,"coins":6,"sha256":"ab"}"#,
            ),
            (
                "import",
                "error",
                r#"{"result":null,"imported":0,"already_present":0,"rejected":[{"item":0,"source":"inline #0","reason":"r"}],"amount":0}"#,
            ),
            (
                "backup",
                "completed",
                r#"{"result":null,"file":"/b.zip","coins":3,"amount":1.5,"sha256":"cd"}"#,
            ),
            (
                "export",
                "error",
                r#"{"status":"error","code":4302,"message":"disk full","details":null}"#,
            ),
        ];
        for (kind, status, data) in cases {
            let text = base.replace("TYPE", kind).replace("STATUS", status).replace("DATA", data);
            let task: Task = serde_json::from_str(&text).expect(&text);
            assert_eq!(task.id, id);
            assert_eq!(task.kind.as_str(), kind);
            let again = serde_json::to_string(&task).expect("json");
            assert_eq!(again, text);
        }
        let running =
            base.replace("TYPE", "export").replace("STATUS", "running").replace("DATA", "null");
        let task: Task = serde_json::from_str(&running).expect("running");
        assert_eq!(task.data, None);
    }
}
