//! The bodies of the `POST` requests.

use std::path::PathBuf;

use base64::Engine as _;
use cloudcoin_domain::{Amount, FileKind, Tag, WalletName};
use serde::de::Deserializer;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::fields::{amount, file_kind, opt_tag, tag, wallet_name};

/// Take an exact amount out of a wallet into a new coin file: the body of `POST /api/v1/export`,
/// and what [`cloudcoin_tasks::Service::start_export`] takes.
///
/// `#[non_exhaustive]`: build it with [`ExportRequest::new`] and the `with_*` methods.
///
/// ```
/// use cloudcoin_domain::{Amount, FileKind, Tag, WalletName};
/// use cloudcoin_wire::ExportRequest;
///
/// let request = ExportRequest::new(
///     WalletName::parse("Default")?,
///     Amount::parse_request("10.5")?,
///     "/tmp/out",
///     FileKind::Zip,
/// )
/// .with_tag(Tag::parse("trade")?);
/// assert_eq!(
///     serde_json::to_string(&request)?,
///     r#"{"name":"Default","amount":10.5,"folder":"/tmp/out","type":"zip","tag":"trade"}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`cloudcoin_tasks::Service::start_export`]: https://docs.rs/cloudcoin-tasks
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExportRequest {
    /// The wallet to take the coins from (`name` on the wire).
    #[serde(rename = "name", with = "wallet_name")]
    pub wallet: WalletName,
    /// The exact amount.
    #[serde(with = "amount")]
    pub amount: Amount,
    /// The absolute folder, existing and writable, to write the file in.
    pub folder: PathBuf,
    /// The file kind: `stack`, `png`, `zip`, `bin` or `pdf` (`type` on the wire).
    #[serde(rename = "type", with = "file_kind")]
    pub kind: FileKind,
    /// The tag in the file's name (and on a png page); empty when absent on the wire.
    #[serde(default, skip_serializing_if = "tag::is_empty", with = "tag")]
    pub tag: Tag,
    /// A client's key: the same key and request give the same task. On HTTP it travels as the
    /// `Idempotency-Key` header, never in the body.
    #[serde(skip)]
    pub idempotency_key: Option<String>,
    /// With a RAIDA network, whether to detect the chosen coins first and set aside any that
    /// fail (default `true`; without a network nothing is checked). Absent on the wire unless
    /// `false`.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub verify: bool,
    /// With a RAIDA network, whether an amount the coins cannot make exactly may be made by
    /// breaking coins into change first (default `true`); `false` keeps the refusal that names
    /// the nearest amounts. Without a network no change is made. Absent on the wire unless
    /// `false`.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub make_change: bool,
}

/// The default of the flags that are on unless the request says `false`.
fn yes() -> bool {
    true
}

/// Whether a flag is at its default `true` (and so left out of the JSON).
#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde passes fields by reference")]
fn is_true(flag: &bool) -> bool {
    *flag
}

impl ExportRequest {
    /// Export `amount` of `wallet` as a file of `kind` in `folder` (absolute), with an empty
    /// tag and no idempotency key.
    pub fn new(
        wallet: WalletName,
        amount: Amount,
        folder: impl Into<PathBuf>,
        kind: FileKind,
    ) -> ExportRequest {
        ExportRequest {
            wallet,
            amount,
            folder: folder.into(),
            kind,
            tag: Tag::empty(),
            idempotency_key: None,
            verify: true,
            make_change: true,
        }
    }

    /// Sets [`ExportRequest::make_change`].
    ///
    /// ```
    /// use cloudcoin_domain::{Amount, FileKind, WalletName};
    /// use cloudcoin_wire::ExportRequest;
    ///
    /// let name = WalletName::parse("Default")?;
    /// let request = ExportRequest::new(name, Amount::parse_request("1")?, "/tmp", FileKind::Bin);
    /// assert!(request.make_change);
    /// let json = serde_json::to_value(request.with_make_change(false))?;
    /// assert_eq!(json["make_change"], false);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_make_change(mut self, make_change: bool) -> ExportRequest {
        self.make_change = make_change;
        self
    }

    /// Sets [`ExportRequest::verify`].
    ///
    /// ```
    /// use cloudcoin_domain::{Amount, FileKind, WalletName};
    /// use cloudcoin_wire::ExportRequest;
    ///
    /// let name = WalletName::parse("Default")?;
    /// let request = ExportRequest::new(name, Amount::parse_request("1")?, "/tmp", FileKind::Bin);
    /// assert!(request.verify);
    /// let json = serde_json::to_value(request.with_verify(false))?;
    /// assert_eq!(json["verify"], false);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_verify(mut self, verify: bool) -> ExportRequest {
        self.verify = verify;
        self
    }

    /// Sets the tag in the file name (and on a png page).
    pub fn with_tag(mut self, tag: Tag) -> ExportRequest {
        self.tag = tag;
        self
    }

    /// Sets the idempotency key: the same key with the same request gives the same task.
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> ExportRequest {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// Store the coins of files in a wallet: the body of `POST /api/v1/import`.
///
/// `#[non_exhaustive]`: build it with [`ImportRequest::new`] and [`ImportRequest::with_tag`].
///
/// ```
/// use cloudcoin_domain::WalletName;
/// use cloudcoin_wire::{ImportItem, ImportRequest};
///
/// let items = vec![ImportItem::File("/home/me/coins.zip".into()), ImportItem::Bytes(vec![1, 2])];
/// let request = ImportRequest::new(WalletName::parse("Default")?, items);
/// assert_eq!(
///     serde_json::to_string(&request)?,
///     r#"{"name":"Default","items":[{"type":"file","data":"/home/me/coins.zip"},{"type":"inline","data":"AQI="}]}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ImportRequest {
    /// The wallet to store the coins in (`name` on the wire).
    #[serde(rename = "name", with = "wallet_name")]
    pub wallet: WalletName,
    /// The files, at least one.
    pub items: Vec<ImportItem>,
    /// The tag recorded with the import; empty when absent on the wire.
    #[serde(default, skip_serializing_if = "tag::is_empty", with = "tag")]
    pub tag: Tag,
    /// Whether a coin this server sent away (its file, with the same keys, in a wallet's
    /// `Sent` folder) may be stored again. Off unless `true`: whoever holds the exported file can
    /// spend that coin too, and only claiming it with the RAIDA settles who owns it. A coin
    /// another wallet of this server holds is never stored, whatever this says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_sent: bool,
    /// Whether to claim the new coins on the RAIDA when a network is configured (default
    /// `true`); `false` stores them with the keys they came with, as without a network. Absent on
    /// the wire unless `false`.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub claim: bool,
}

impl ImportRequest {
    /// Import `items` into `wallet`, with an empty tag, refusing coins this server sent away,
    /// claiming the coins when a network is configured.
    pub fn new(wallet: WalletName, items: Vec<ImportItem>) -> ImportRequest {
        ImportRequest { wallet, items, tag: Tag::empty(), allow_sent: false, claim: true }
    }

    /// Sets [`ImportRequest::claim`].
    ///
    /// ```
    /// use cloudcoin_domain::WalletName;
    /// use cloudcoin_wire::{ImportItem, ImportRequest};
    ///
    /// let items = vec![ImportItem::File("/home/me/coins.stack".into())];
    /// let request = ImportRequest::new(WalletName::parse("Alice")?, items);
    /// assert!(request.claim);
    /// let json = serde_json::to_value(request.clone().with_claim(false))?;
    /// assert_eq!(json["claim"], false);
    /// assert!(serde_json::to_value(request)?.get("claim").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_claim(mut self, claim: bool) -> ImportRequest {
        self.claim = claim;
        self
    }

    /// Stores coins this server sent away too ([`ImportRequest::allow_sent`]): for a file that
    /// came back to its owner, say, or moves coins from one wallet of this server to another.
    ///
    /// ```
    /// use cloudcoin_domain::WalletName;
    /// use cloudcoin_wire::{ImportItem, ImportRequest};
    ///
    /// let items = vec![ImportItem::File("/home/me/coins.stack".into())];
    /// let request = ImportRequest::new(WalletName::parse("Alice")?, items);
    /// assert!(!request.allow_sent);
    /// let json = serde_json::to_value(request.clone().with_sent_coins_allowed())?;
    /// assert_eq!(json["allow_sent"], true);
    /// assert!(serde_json::to_value(request)?.get("allow_sent").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_sent_coins_allowed(mut self) -> ImportRequest {
        self.allow_sent = true;
        self
    }

    /// Sets the tag recorded with the import.
    pub fn with_tag(mut self, tag: Tag) -> ImportRequest {
        self.tag = tag;
        self
    }
}

/// One coin file to import (`bin`, `stack`, `png` or `zip`, found by its content). On the wire
/// `{"type":"file","data":"/abs/path"}` or `{"type":"inline","data":"<base64>"}`.
///
/// ```
/// use cloudcoin_wire::ImportItem;
///
/// // Bytes in memory travel as standard base64; the caller needs no base64 crate.
/// let item = ImportItem::Bytes(b"coins".to_vec());
/// assert_eq!(serde_json::to_string(&item)?, r#"{"type":"inline","data":"Y29pbnM="}"#);
/// // The server reads an inline item as it came, and decodes it in the import task.
/// let read: ImportItem = serde_json::from_str(r#"{"type":"inline","data":"Y29pbnM="}"#)?;
/// assert_eq!(read, ImportItem::InlineBase64("Y29pbnM=".into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportItem {
    /// A coin file on the server's machine, by absolute path (read, never modified).
    File(PathBuf),
    /// A coin file's bytes (sent as base64 on the wire).
    Bytes(Vec<u8>),
    /// A coin file's bytes in standard base64, as the wire carries them; the import task decodes
    /// them, so that bad base64 refuses this item only.
    InlineBase64(String),
}

impl Serialize for ImportItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        match self {
            ImportItem::File(path) => {
                m.serialize_entry("type", "file")?;
                m.serialize_entry("data", path)?;
            }
            ImportItem::Bytes(bytes) => {
                m.serialize_entry("type", "inline")?;
                m.serialize_entry(
                    "data",
                    &base64::engine::general_purpose::STANDARD.encode(bytes),
                )?;
            }
            ImportItem::InlineBase64(text) => {
                m.serialize_entry("type", "inline")?;
                m.serialize_entry("data", text)?;
            }
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for ImportItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(tag = "type", content = "data", rename_all = "lowercase")]
        enum Raw {
            File(PathBuf),
            Inline(String),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::File(path) => ImportItem::File(path),
            Raw::Inline(text) => ImportItem::InlineBase64(text),
        })
    }
}

/// Write a zip of every coin of a wallet: the body of `POST /api/v1/backup`.
///
/// `#[non_exhaustive]`: build it with [`BackupRequest::new`] and [`BackupRequest::with_tag`].
///
/// ```
/// use cloudcoin_domain::WalletName;
/// use cloudcoin_wire::BackupRequest;
///
/// let request = BackupRequest::new(WalletName::parse("Default")?, "/backups");
/// assert_eq!(serde_json::to_string(&request)?, r#"{"name":"Default","folder":"/backups"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BackupRequest {
    /// The wallet (`name` on the wire).
    #[serde(rename = "name", with = "wallet_name")]
    pub wallet: WalletName,
    /// The absolute folder, existing and writable, to write the zip in.
    pub folder: PathBuf,
    /// The tag in the zip's name; `backup YYYY-MM-DD HH-MM-SS` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_tag")]
    pub tag: Option<Tag>,
}

impl BackupRequest {
    /// Back `wallet` up into `folder` (absolute), tagged `backup YYYY-MM-DD HH-MM-SS`.
    pub fn new(wallet: WalletName, folder: impl Into<PathBuf>) -> BackupRequest {
        BackupRequest { wallet, folder: folder.into(), tag: None }
    }

    /// Sets the tag in the file name instead of the dated default.
    pub fn with_tag(mut self, tag: Tag) -> BackupRequest {
        self.tag = Some(tag);
        self
    }
}

/// `POST /api/v1/fix`: heal wallet `name`'s Limbo and Fracked coins with the RAIDA.
///
/// ```
/// use cloudcoin_domain::WalletName;
/// use cloudcoin_wire::FixRequest;
///
/// let request = FixRequest::new(WalletName::parse("Default")?);
/// assert_eq!(serde_json::to_string(&request)?, r#"{"name":"Default"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
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
///
/// ```
/// use cloudcoin_domain::WalletName;
/// use cloudcoin_wire::CreateWalletRequest;
///
/// let request = CreateWalletRequest::new(WalletName::parse("Savings")?);
/// assert_eq!(serde_json::to_string(&request)?, r#"{"name":"Savings"}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
