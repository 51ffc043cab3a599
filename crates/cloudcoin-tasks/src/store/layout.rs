//! The on-disk layout of a data directory and its wallets (`docs/SPEC.md` §5): folder names,
//! paths, and the names of coin files.
//!
//! ```text
//! {data_dir}/
//!   Wallets/{name}/Bank Fracked Counterfeit Limbo Import Imported Sent Suspect Trash Receipts
//!   Wallets/{name}/transactions.csv          time,type,amount,coins,tag,file,id
//!   .cloudcoin/lock                           held with File::try_lock for the process lifetime
//!   .cloudcoin/journal/{op id}.json           one record per unfinished coin-moving operation
//!   .cloudcoin/tasks/{task id}.json           one record per task
//!   .cloudcoin/heal/                          fixes recorded before they are sent
//!   .cloudcoin/deleted/{name} {random}/       deleted (empty) wallets, kept with their Sent and csv
//! ```
//!
//! Rules of the layout:
//!
//! - A coin the wallet holds is **one single-coin format-9 file** in one of the held folders
//!   ([`Folder::HELD`]: `Bank`, `Fracked`, `Limbo`, `Suspect`), at most
//!   [`MAX_COIN_FILE_BYTES`] long, that decodes as exactly one coin ([`one_coin`]). Anything else
//!   in a held folder (a foreign file, a stack of several coins, a name that is not UTF-8) is
//!   logged and left alone, never deleted.
//! - A coin's file is named by the convention ([`coin_file_name`]: the single-coin rule with an
//!   empty tag, e.g. `10 CloudCoin #7 ''.bin`), or ` (2)`, ` (3)`, … when that name is taken. The
//!   conventional name depends on the coin's id alone ([`id_file_name`]), so the index and the
//!   journal keep a name only when it is not the conventional one.
//! - Names starting with `.` are never coins: they are the temporary files of a pipeline.
//! - Coins whose denomination is not money (a key coin) are held and backed up but never counted
//!   or spent.
//! - Only this crate touches the data directory; the paths of this module are the only place its
//!   shape is written down.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cloudcoin_domain::{
    Coin, CoinId, FileKind, Pocket, Pown, Tag, WalletName, single_coin_file_name,
};

/// Largest file a wallet folder may hold for it to be read as a coin (a single coin is 439 or
/// 839 bytes in format 9; stacks and pictures are larger).
pub(crate) const MAX_COIN_FILE_BYTES: u64 = 4 << 20;

/// A folder of a wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Folder {
    Bank,
    Fracked,
    Counterfeit,
    Limbo,
    Import,
    Imported,
    Sent,
    Suspect,
    Trash,
    Receipts,
}

impl Folder {
    pub(crate) const ALL: [Folder; 10] = [
        Folder::Bank,
        Folder::Fracked,
        Folder::Counterfeit,
        Folder::Limbo,
        Folder::Import,
        Folder::Imported,
        Folder::Sent,
        Folder::Suspect,
        Folder::Trash,
        Folder::Receipts,
    ];

    /// The folders whose coins the wallet holds (counted as present, backed up).
    pub(crate) const HELD: [Folder; 4] =
        [Folder::Bank, Folder::Fracked, Folder::Limbo, Folder::Suspect];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Folder::Bank => "Bank",
            Folder::Fracked => "Fracked",
            Folder::Counterfeit => "Counterfeit",
            Folder::Limbo => "Limbo",
            Folder::Import => "Import",
            Folder::Imported => "Imported",
            Folder::Sent => "Sent",
            Folder::Suspect => "Suspect",
            Folder::Trash => "Trash",
            Folder::Receipts => "Receipts",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Folder> {
        Folder::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The pocket selection sees a coin of this folder in, when the folder's coins are spendable.
    pub(crate) fn pocket(self) -> Option<Pocket> {
        match self {
            Folder::Bank => Some(Pocket::Bank),
            Folder::Fracked => Some(Pocket::Fracked),
            _ => None,
        }
    }
}

/// Paths of the data directory.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) root: PathBuf,
}

impl Layout {
    pub(crate) fn wallets(&self) -> PathBuf {
        self.root.join("Wallets")
    }
    pub(crate) fn wallet(&self, name: &WalletName) -> PathBuf {
        self.wallets().join(name.as_str())
    }
    pub(crate) fn folder(&self, name: &WalletName, folder: Folder) -> PathBuf {
        self.wallet(name).join(folder.name())
    }
    pub(crate) fn own(&self) -> PathBuf {
        self.root.join(".cloudcoin")
    }
    pub(crate) fn lock_file(&self) -> PathBuf {
        self.own().join("lock")
    }
    pub(crate) fn journal(&self) -> PathBuf {
        self.own().join("journal")
    }
    pub(crate) fn tasks(&self) -> PathBuf {
        self.own().join("tasks")
    }
    pub(crate) fn deleted(&self) -> PathBuf {
        self.own().join("deleted")
    }

    /// Creates the wallet's folders and `transactions.csv` where missing.
    pub(crate) fn create_wallet_dirs(&self, name: &WalletName) -> io::Result<()> {
        for folder in Folder::ALL {
            fs::create_dir_all(self.folder(name, folder))?;
        }
        let csv = self.wallet(name).join("transactions.csv");
        if !csv.exists() {
            let _ = ensure_transactions_file(&csv)?;
        }
        crate::durable::sync_dir(&self.wallet(name))?;
        crate::durable::sync_dir(&self.wallets())
    }
}

/// The header line of a wallet's `transactions.csv` (its rows are written by `records`).
const CSV_HEADER: &str = "time,type,amount,coins,tag,file,id\n";

/// Creates `transactions.csv` with its header if it does not exist. Returns whether it did.
pub(crate) fn ensure_transactions_file(path: &Path) -> io::Result<bool> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut f) => {
            f.write_all(CSV_HEADER.as_bytes())?;
            f.sync_all()?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// The name a coin's file gets in a wallet folder: the single-coin rule with an empty tag.
pub(crate) fn coin_file_name(coin: &Coin) -> String {
    single_coin_file_name(coin, &Tag::empty(), FileKind::Bin)
}

/// The conventional file name of the coin `id` (it depends on the id alone).
pub(crate) fn id_file_name(id: CoinId) -> String {
    coin_file_name(&Coin::new(
        id.denomination,
        id.serial,
        [[0; 16]; cloudcoin_domain::RAIDA_COUNT],
        [Pown::Untried; cloudcoin_domain::RAIDA_COUNT],
    ))
}

/// Reads a file that should hold exactly one coin.
pub(crate) fn read_single_coin(path: &Path) -> Result<Coin, String> {
    let len = fs::metadata(path).map_err(|e| e.to_string())?.len();
    if len > MAX_COIN_FILE_BYTES {
        return Err(format!("{len} bytes is too large for a coin file"));
    }
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    one_coin(&bytes)
}

/// The one coin `bytes` hold.
pub(crate) fn one_coin(bytes: &[u8]) -> Result<Coin, String> {
    let mut coins = cloudcoin_codec::decode_any(bytes, &cloudcoin_codec::Limits::default())
        .map_err(|e| crate::durable::error_chain(&e))?;
    match coins.len() {
        1 => Ok(coins.pop().expect("length checked")),
        n => Err(format!(
            "it holds {n} coins; a wallet folder holds one coin per file (import it instead)"
        )),
    }
}

/// Wallet names found under `Wallets/`; folders that are not valid names are logged and skipped.
pub(crate) fn wallet_names(layout: &Layout) -> io::Result<Vec<WalletName>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(layout.wallets())? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let raw = entry.file_name().to_string_lossy().into_owned();
        match WalletName::parse(&raw) {
            Ok(name) => names.push(name),
            Err(e) => tracing::warn!(folder = %raw, error = %e, "not a wallet folder; left alone"),
        }
    }
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    Ok(names)
}

/// Files per folder of a wallet (regular files not starting with `.`).
pub(crate) fn count_files(
    layout: &Layout,
    wallet: &WalletName,
) -> io::Result<BTreeMap<String, usize>> {
    let mut map = BTreeMap::new();
    for folder in Folder::ALL {
        let dir = layout.folder(wallet, folder);
        let n = match fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .count(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        map.insert(folder.name().to_owned(), n);
    }
    Ok(map)
}
