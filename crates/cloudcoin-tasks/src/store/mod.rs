//! The wallet store: wallets on disk (`docs/SPEC.md` §5) and their in-memory index.
//!
//! Each coin the wallet holds is one single-coin format-9 file in `Bank`, `Fracked`, `Limbo` or
//! `Suspect`. The index maps a coin's id to its folder, file name and content; it is built once
//! at start-up and kept in step by the pipelines, so balances and selection never read the disk.
//!
//! One concern per module, each stating its rules:
//!
//! - [`layout`]: the on-disk layout — folder names, paths, the names of coin files, what a coin
//!   file is.
//! - [`index`]: the in-memory index ([`WalletState`], [`Coins`], [`Hold`]) and its concurrency
//!   rules (one lock per wallet, the [`Reserved`] guard, the wait for another import's claims).
//! - [`scan`]: the start-up scan, with its reconciliation of several files of one coin; the
//!   folder listing and file reading it runs on are [`listing`].
//! - [`arrivals`]: the names that appeared in a wallet's held folders since the last look (inotify),
//!   so an export's search for stray copies reads those instead of listing the wallet.
//! - [`moves`]: a coin's file moving between folders (to `Sent`, `Trash`, `Suspect`, a grade's
//!   folder), never replacing anything.
//! - [`seam`]: [`WalletStore`], the operations export, import, claim and heal need from a store —
//!   where a second store (a custodian's database) would plug in — and the conformance checks
//!   every store passes, run against this one.
//!
//! Dependencies inside the store point one way: `seam` → `scan` → (`listing`, `moves`) → `index` →
//! `layout`.

mod arrivals;
mod index;
mod layout;
mod listing;
mod moves;
mod scan;
mod seam;

pub(crate) use arrivals::Arrivals;
pub(crate) use index::{ConventionalNames, Entry, Held, Hold, Reserved, WalletState};
pub(crate) use layout::{
    Folder, Layout, coin_file_name, count_files, ensure_transactions_file, id_file_name,
    read_single_coin, wallet_names,
};
pub(crate) use moves::{
    Rewrite, move_coins, move_found_coins, move_one, rewrite_coins, set_aside_copies, write_temps,
};
pub(crate) use scan::{Scanned, scan_wallet, scan_wallet_listed};
// Every name `crate::store::…` gave before the store was split keeps working, used or not.
#[allow(unused_imports)]
pub(crate) use {
    index::{Coins, FileName},
    layout::{MAX_COIN_FILE_BYTES, one_coin},
    moves::SetAside,
    seam::WalletStore,
};

/// A wallet in a temporary data directory, and coin files put into it, for the store's tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::fs;
    use std::path::Path;

    use cloudcoin_domain::{Coin, WalletName};

    use super::Layout;

    /// Writes `coins` as one format-9 file `name` in `dir`.
    pub(crate) fn put(dir: &Path, name: &str, coins: &[Coin]) {
        fs::write(dir.join(name), cloudcoin_codec::encode_bin(coins).expect("encode"))
            .expect("write");
    }

    /// A data directory with one wallet `W`, its folders made.
    pub(crate) fn layout_with_wallet() -> (tempfile::TempDir, Layout, WalletName) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout { root: tmp.path().to_path_buf() };
        let name = WalletName::parse("W").expect("name");
        layout.create_wallet_dirs(&name).expect("dirs");
        (tmp, layout, name)
    }
}
