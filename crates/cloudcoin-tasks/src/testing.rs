//! Test fixtures for code that drives a [`Service`] (feature `testing`): a temporary data
//! directory holding the coins a test needs, and the service opened on it.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cloudcoin_domain::{Amount, Coin, Denomination, Pocket, Pown, SerialNumber, RAIDA_COUNT};
//! use cloudcoin_tasks::testing::TestDataDir;
//!
//! let coin = |sn| Coin::new(Denomination::from_code(0), SerialNumber::new(sn), [[7; 16]; RAIDA_COUNT], [Pown::Pass; RAIDA_COUNT]);
//! let dir = TestDataDir::with_bank(&[coin(1), coin(2)])?;
//! dir.add_coins("Savings", Pocket::Fracked, &[coin(3)])?;
//! let service = dir.open().await?;
//! let wallets = service.list_wallets().await?;
//! assert_eq!(wallets.len(), 2);
//! assert_eq!(wallets[0].balance, Amount::parse_request("2")?); // Default
//! # Ok(()) }
//! ```

use std::io;
use std::path::{Path, PathBuf};

use cloudcoin_domain::{Coin, FileKind, Pocket, Tag, WalletName, single_coin_file_name};

use crate::error::OpenError;
use crate::service::{Service, ServiceConfig};

/// A data directory in a temporary folder, removed when dropped, with an empty export folder
/// beside it.
#[derive(Debug)]
pub struct TestDataDir {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    exports: PathBuf,
}

impl TestDataDir {
    /// An empty data directory (the service creates the `Default` wallet when it opens).
    pub fn new() -> io::Result<TestDataDir> {
        let tmp = tempfile::tempdir()?;
        let base = std::fs::canonicalize(tmp.path())?;
        let (data, exports) = (base.join("data"), base.join("exports"));
        std::fs::create_dir_all(&data)?;
        std::fs::create_dir_all(&exports)?;
        Ok(TestDataDir { _tmp: tmp, data, exports })
    }

    /// A data directory whose `Default` wallet holds `coins` in its Bank.
    pub fn with_bank(coins: &[Coin]) -> io::Result<TestDataDir> {
        let dir = TestDataDir::new()?;
        dir.add_coins("Default", Pocket::Bank, coins)?;
        Ok(dir)
    }

    /// Puts `coins` in `pocket` of wallet `wallet` (created if missing), one single-coin
    /// format-9 file each, named as the wallet layout names them. Call it before
    /// [`TestDataDir::open`]: a running service picks up such files only at its next start.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] for an invalid wallet name or coins that no
    /// coin file can hold (the same coin twice).
    pub fn add_coins(&self, wallet: &str, pocket: Pocket, coins: &[Coin]) -> io::Result<()> {
        let invalid =
            |e: &dyn std::fmt::Display| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
        let wallet = WalletName::parse(wallet).map_err(|e| invalid(&e))?;
        let folder = match pocket {
            Pocket::Bank => "Bank",
            Pocket::Fracked => "Fracked",
        };
        let dir = self.data.join("Wallets").join(wallet.as_str()).join(folder);
        std::fs::create_dir_all(&dir)?;
        for coin in coins {
            let bytes =
                cloudcoin_codec::encode_bin(std::slice::from_ref(coin)).map_err(|e| invalid(&e))?;
            let name = single_coin_file_name(coin, &Tag::empty(), FileKind::Bin);
            std::fs::write(dir.join(name), bytes)?;
        }
        Ok(())
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// An empty folder outside the data directory, for exports and backups.
    pub fn export_dir(&self) -> &Path {
        &self.exports
    }

    /// The configuration [`TestDataDir::open`] uses: this data directory, exports anywhere,
    /// task retention as by default.
    pub fn config(&self) -> ServiceConfig {
        ServiceConfig::new(&self.data)
    }

    /// Opens a [`Service`] on the data directory, on a blocking thread. Needs a tokio runtime.
    pub async fn open(&self) -> Result<Service, OpenError> {
        let config = self.config();
        match tokio::task::spawn_blocking(move || Service::open(config)).await {
            Ok(opened) => opened,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

/// The coins of the claim records (the write-ahead records of imports that claim on the RAIDA)
/// left for wallet `wallet` in the data directory `data`, each with the PANs its claim sends,
/// made again from the record; empty when there is none. A record being written (under a
/// temporary name) is no record yet and is not read. Fails on a record that cannot be read.
///
/// ```
/// let dir = cloudcoin_tasks::testing::TestDataDir::new()?;
/// assert!(cloudcoin_tasks::testing::claim_records(dir.data_dir(), "Default")?.is_empty());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn claim_records(data: &Path, wallet: &str) -> io::Result<Vec<Coin>> {
    let wallet = WalletName::parse(wallet)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    crate::claim::read_records(&data.join(".cloudcoin").join("claim").join(wallet.as_str()))
}
