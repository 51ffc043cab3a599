//! Wallets and the server, as the `GET` endpoints show them.

use std::collections::BTreeMap;

use cloudcoin_domain::{Amount, Denomination, WalletName};
use serde::{Deserialize, Serialize};

use crate::fields::{amount, per_denomination, wallet_name};

/// A wallet in `GET /api/v1/wallets` (also the payload of a `201` from `POST /api/v1/wallets`).
///
/// ```
/// use cloudcoin_wire::WalletSummary;
///
/// let w: WalletSummary = serde_json::from_str(r#"{"name":"Default","balance":10.5,"coins":3}"#)?;
/// assert_eq!((w.name.as_str(), w.balance.to_string(), w.coins), ("Default", "10.5".into(), 3));
/// # Ok::<(), serde_json::Error>(())
/// ```
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

impl WalletSummary {
    /// Wallet `name` holding `coins` spendable coins worth `balance`.
    pub fn new(name: WalletName, balance: Amount, coins: u64) -> WalletSummary {
        WalletSummary { name, balance, coins }
    }
}

/// One wallet in detail, `GET /api/v1/wallets/{name}`.
///
/// ```
/// use cloudcoin_domain::Denomination;
/// use cloudcoin_wire::WalletDetail;
///
/// let text = r#"{"name":"Default","balance":100.1,"coins":2,
///     "denominations":{"0.1":1,"100":1},"folders":{"Bank":2,"Sent":4}}"#;
/// let w: WalletDetail = serde_json::from_str(text)?;
/// assert_eq!(w.denominations[&Denomination::from_code(-1)], 1);
/// assert_eq!(w.folders["Sent"], 4);
/// # Ok::<(), serde_json::Error>(())
/// ```
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
    /// Spendable (Bank and Fracked) money coins per denomination; on the wire keyed by the
    /// denomination's value (`"0.1"`, `"100"`).
    #[serde(with = "per_denomination")]
    pub denominations: BTreeMap<Denomination, u64>,
    /// Coin files per wallet folder (`"Bank"`, `"Fracked"`, `"Sent"`, …).
    pub folders: BTreeMap<String, u64>,
}

impl WalletDetail {
    /// Wallet `name` holding `coins` spendable coins worth `balance`, no coin per denomination
    /// and no file per folder yet (fill [`WalletDetail::denominations`] and
    /// [`WalletDetail::folders`]).
    pub fn new(name: WalletName, balance: Amount, coins: u64) -> WalletDetail {
        WalletDetail {
            name,
            balance,
            coins,
            denominations: BTreeMap::new(),
            folders: BTreeMap::new(),
        }
    }
}

/// The characters of a path segment written as themselves (RFC 3986's unreserved); every other
/// byte is a `%XX` escape.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The path of wallet `name` below the API's base, `/wallets/{name}`, its name percent-encoded
/// as one path segment.
///
/// ```
/// use cloudcoin_domain::WalletName;
/// assert_eq!(cloudcoin_wire::wallet_path(&WalletName::parse("My Wallet")?), "/wallets/My%20Wallet");
/// # Ok::<(), cloudcoin_domain::NameError>(())
/// ```
pub fn wallet_path(name: &WalletName) -> String {
    format!("/wallets/{}", percent_encoding::utf8_percent_encode(name.as_str(), SEGMENT))
}

/// `DELETE /api/v1/wallets/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Deleted {
    /// The wallet deleted.
    pub deleted: String,
}

impl Deleted {
    /// Wallet `name` was deleted.
    pub fn wallet(name: &WalletName) -> Deleted {
        Deleted { deleted: name.as_str().to_owned() }
    }
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

impl Info {
    /// The info of server `name` at `version`, speaking API v1 and well.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Info {
        Info { name: name.into(), version: version.into(), status: "ok".into(), api: "v1".into() }
    }
}

/// `GET /api/v1/health`: `{"status":"ok"}`, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Health {
    /// `ok`.
    pub status: String,
}

impl Health {
    /// `{"status":"ok"}`.
    pub fn ok() -> Health {
        Health { status: "ok".into() }
    }
}

/// `GET /api/v1/raida`: every RAIDA's echo.
///
/// ```
/// use cloudcoin_wire::{RaidaEcho, RaidaStatus};
///
/// let status = RaidaStatus::new(vec![
///     RaidaEcho::new(0, "127.0.0.1:50000", Some(3), Some("restart".into())),
///     RaidaEcho::new(1, "127.0.0.1:50001", None, None),
/// ]);
/// assert_eq!(status.up, 1);
/// assert_eq!(serde_json::to_value(&status)?["raida"][1]["latency_ms"], serde_json::Value::Null);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RaidaStatus {
    /// How many of the 25 answered.
    pub up: u64,
    /// Each RAIDA, by id.
    pub raida: Vec<RaidaEcho>,
}

impl RaidaStatus {
    /// The status of `raida`, counting those that answered.
    pub fn new(raida: Vec<RaidaEcho>) -> RaidaStatus {
        let up = raida.iter().filter(|r| r.up).count();
        RaidaStatus { up: u64::try_from(up).expect("counts fit in 64 bits"), raida }
    }
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

impl RaidaEcho {
    /// RAIDA `id` at `address`, up when it answered in `latency_ms`, with the response counter
    /// `counter` when learnt.
    pub fn new(
        id: u8,
        address: impl Into<String>,
        latency_ms: Option<u64>,
        counter: Option<String>,
    ) -> RaidaEcho {
        RaidaEcho { id, address: address.into(), up: latency_ms.is_some(), latency_ms, counter }
    }
}
