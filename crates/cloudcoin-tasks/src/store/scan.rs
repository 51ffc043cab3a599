//! The start-up scan of a wallet, with its copy reconciliation.
//!
//! [`scan_wallet`] reads one wallet's held folders into a fresh [`WalletState`]. Each folder is
//! listed once, through a handle on it ([`super::listing`]: `getdents64` into one buffer, no
//! allocation per name), and its names are handed in batches of 4,096 to up to four reading
//! threads while the listing goes on; each file is read through the folder's handle (one
//! `openat`, reads into a buffer reused from file to file) straight into an index entry, its
//! conventional name told without being made: no second list of every coin is built first. The
//! names in `Bank` starting with `.` are kept from that listing ([`Scanned::bank_hidden`]) for
//! the start-up's clean-up of temporary files, so `Bank` is listed once per start.
//!
//! # Rules
//!
//! - **What is read, and what is left alone.** Only the held folders are read. Files dropped in
//!   by hand are picked up at the next start; a file that is not exactly one readable coin, and a
//!   file whose name is not UTF-8 (the index names files by UTF-8 strings, so such a file could
//!   not be moved when its coin is spent), is logged and left where it is, never deleted.
//! - **A coin id held in more than one file is one coin** ([`settle_copies`]). The files of one
//!   id are gathered as they are met and settled once every folder is read. One file is kept —
//!   the one carrying PANs if any (it holds every key the others hold, and more), then the best
//!   POWN (most passes), then Bank, Fracked, Limbo, Suspect, then the first name — and the others
//!   move to `Trash` under their own name or the next free one, with a log line naming both
//!   files. Nothing is deleted.
//! - **Two sets of keys are never both spendable.** When the files hold different ANs (or two
//!   different sets of PANs) they are not really one coin, and which keys are live cannot be told
//!   without the RAIDA: the kept file goes to `Suspect` (held, backed up, counted as present,
//!   never spent), the others to `Trash`, all logged as errors.
//! - **Only the files still there are settled.** Other software may move a file from one held
//!   folder to another while the scan reads them (so it was read in both); keeping the name that
//!   is gone would send the coin's only file to `Trash`.
//! - **A file that cannot be moved blocks its coin.** The coin is indexed
//!   [`Hold::Blocked`] (held, never spendable) and the next start tries
//!   again.
//! - Every move is [`super::moves`]' rename without replacing; each folder touched is synced
//!   once.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;

use cloudcoin_domain::{Coin, CoinId, Pown, WalletName};

use super::index::{Entry, Hold, WalletState};
use super::layout::{Folder, Layout};
use super::listing::{self, Read};
use super::moves::{move_aside, move_copy_aside};

/// One file of a coin found by the scan.
#[derive(Debug)]
struct Copy {
    folder: Folder,
    file: String,
    coin: Coin,
}

/// What the start-up scan saw besides the coins: the names in `Bank` that start with `.` (the
/// temporary files an interrupted import or pick-up may have left), so that the start-up's
/// clean-ups need not list `Bank` again.
#[derive(Debug)]
pub(crate) struct Scanned {
    pub(crate) state: WalletState,
    pub(crate) bank_hidden: Vec<std::ffi::OsString>,
}

/// Reads one wallet's held folders into a fresh state. Foreign, unreadable or multi-coin files
/// are logged and left where they are.
pub(crate) fn scan_wallet(layout: &Layout, name: &WalletName) -> io::Result<WalletState> {
    Ok(scan_wallet_listed(layout, name)?.state)
}

/// [`scan_wallet`], also returning the names in `Bank` that start with `.`.
///
/// Each folder is listed once, through a handle on it, and its files are read in batches (by a
/// few threads while the listing goes on, see [`super::listing`]) straight into the index: there is
/// no second list of every coin. A coin id found in more than one file is one coin
/// ([`settle_copies`]): its files are gathered as they are met and settled once every folder is
/// read; one file is kept and indexed, the others are moved to `Trash` with a log line. Nothing
/// is deleted.
pub(crate) fn scan_wallet_listed(layout: &Layout, name: &WalletName) -> io::Result<Scanned> {
    let mut state = WalletState::default();
    // Every file of each coin id met more than once, the indexed one first.
    let mut copies: BTreeMap<CoinId, Vec<Copy>> = BTreeMap::new();
    let threads = listing::threads();
    let mut bank_hidden = Vec::new();
    for folder in Folder::HELD {
        let path = layout.folder(name, folder);
        let dir = fs::File::open(&path)?;
        let take = |names: &listing::Names, read: Vec<Read>| {
            for read in read {
                let entry = match read {
                    Read::Coin(entry) => entry,
                    Read::NotACoin { index, reason } => {
                        let file = path.join(names.name(index));
                        tracing::warn!(wallet = %name, file = %file.display(), %reason, "file left alone: not a single coin");
                        continue;
                    }
                };
                let id = entry.coin.id();
                match state.coins.get(&id) {
                    None => {
                        // Into the map alone: the spendable set is built once, at the end.
                        state.coins.insert_unindexed(id, entry);
                    }
                    Some(first) => {
                        copies
                            .entry(id)
                            .or_insert_with(|| {
                                vec![Copy {
                                    folder: first.folder,
                                    file: first.file().into_owned(),
                                    coin: (*first.coin).clone(),
                                }]
                            })
                            .push(Copy {
                                folder,
                                file: entry.file().into_owned(),
                                coin: (*entry.coin).clone(),
                            });
                    }
                }
            }
        };
        let bank = folder == Folder::Bank;
        let hidden = listing::scan_folder(&dir, folder, threads, bank, take)?;
        if bank {
            bank_hidden = hidden;
        }
    }
    for (id, group) in copies {
        match settle_copies(layout, name, group)? {
            Some(entry) => state.coins.insert_unindexed(id, entry),
            // Every file of it is gone since it was read: not held.
            None => state.coins.remove_unindexed(&id),
        };
    }
    state.coins.reindex();
    state.coins.shrink_to_fit();
    Ok(Scanned { state, bank_hidden })
}

/// How many RAIDA said "pass" when the coin was last checked.
fn passes(coin: &Coin) -> usize {
    coin.pown.iter().filter(|p| **p == Pown::Pass).count()
}

/// Whether two files of one coin id hold the same keys: the same ANs, and no two different sets
/// of PANs (a file without PANs is the same coin as one with them; the PANs are only more).
fn same_keys(copies: &[Copy]) -> bool {
    let first = &copies[0].coin;
    let pans: HashSet<_> = copies.iter().filter_map(|c| c.coin.pans()).collect();
    copies.iter().all(|c| c.coin.ans == first.ans) && pans.len() <= 1
}

/// Settles a coin id held in several files: keeps one and moves the others to `Trash`, logged.
///
/// The file kept is the one with PANs if any (it holds every key the others hold, and more), then
/// the best POWN (most passes), then the first held folder (Bank, Fracked, Limbo, Suspect), then
/// the first name. When the copies hold different ANs (or different PANs) they are not really one
/// coin, and which keys are live cannot be told without the RAIDA: the kept file goes to `Suspect`
/// (held and backed up, never spent) and the others to `Trash`, all logged as errors — never both
/// spendable, nothing deleted. If a file cannot be moved, the coin is indexed `Blocked` (not
/// spendable) and the next start tries again.
///
/// Only the files still there are settled: one the scan read may have been moved or removed since
/// by other software sharing the folders (a file moved from one held folder to another is then
/// seen in both). Keeping the name that is gone would move the coin's only file to `Trash`.
/// `None` when every file of the coin is gone.
fn settle_copies(
    layout: &Layout,
    wallet: &WalletName,
    mut copies: Vec<Copy>,
) -> io::Result<Option<Entry>> {
    copies.retain(|c| {
        let path = layout.folder(wallet, c.folder).join(&c.file);
        let gone = matches!(fs::symlink_metadata(&path), Err(e) if e.kind() == io::ErrorKind::NotFound);
        if gone {
            tracing::warn!(wallet = %wallet, coin = %c.coin.id(), file = %format!("{}/{}", c.folder.name(), c.file), "a file of this coin was moved or removed while the wallet was read; the files still there are settled");
        }
        !gone
    });
    if copies.is_empty() {
        return Ok(None);
    }
    let same = same_keys(&copies);
    copies.sort_by(|a, b| {
        (b.coin.pans().is_some(), passes(&b.coin))
            .cmp(&(a.coin.pans().is_some(), passes(&a.coin)))
            .then_with(|| (a.folder, &a.file).cmp(&(b.folder, &b.file)))
    });
    let mut keep = copies.remove(0);
    let id = keep.coin.id();
    let mut hold = Hold::Free;
    let mut touched = std::collections::BTreeSet::new();
    for other in &copies {
        let kept = (keep.folder, keep.file.as_str());
        match move_copy_aside(layout, wallet, kept, other.folder, &other.file, Folder::Trash) {
            Ok(None) => {
                tracing::warn!(wallet = %wallet, coin = %id, file = %format!("{}/{}", other.folder.name(), other.file), "a second file of this coin was moved or removed by other software before it could be set aside");
            }
            Ok(Some(name)) => {
                touched.extend([other.folder, Folder::Trash]);
                let from = format!("{}/{}", other.folder.name(), other.file);
                let kept = format!("{}/{}", keep.folder.name(), keep.file);
                if same {
                    tracing::warn!(wallet = %wallet, coin = %id, %from, %kept, to = %format!("Trash/{name}"), "the same coin was in two files: the extra copy was moved to Trash");
                } else {
                    tracing::error!(wallet = %wallet, coin = %id, %from, %kept, to = %format!("Trash/{name}"), "two files hold this coin id with different keys: one was moved to Trash; check both with the RAIDA");
                }
            }
            Err(e) => {
                hold = Hold::Blocked;
                tracing::error!(wallet = %wallet, coin = %id, file = %format!("{}/{}", other.folder.name(), other.file), error = %e, "a second file of this coin cannot be moved to Trash; the coin is not spendable until it is");
            }
        }
    }
    if !same && keep.folder.pocket().is_some() {
        match move_aside(layout, wallet, keep.folder, &keep.file, Folder::Suspect) {
            Ok(None) => {
                hold = Hold::Blocked;
                tracing::error!(wallet = %wallet, coin = %id, file = %format!("{}/{}", keep.folder.name(), keep.file), "a coin with two sets of keys was moved by other software before it could go to Suspect; it is not spendable until the next start");
            }
            Ok(Some(name)) => {
                touched.extend([keep.folder, Folder::Suspect]);
                tracing::error!(wallet = %wallet, coin = %id, from = %format!("{}/{}", keep.folder.name(), keep.file), to = %format!("Suspect/{name}"), "a coin id with two sets of keys is kept in Suspect, not spendable");
                keep.folder = Folder::Suspect;
                keep.file = name;
            }
            Err(e) => {
                hold = Hold::Blocked;
                tracing::error!(wallet = %wallet, coin = %id, error = %e, "cannot move a coin with two sets of keys to Suspect; it is not spendable");
            }
        }
    }
    for folder in touched {
        crate::durable::sync_dir(&layout.folder(wallet, folder))?;
    }
    Ok(Some(Entry::new(keep.folder, keep.file, keep.coin, hold)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::coin;
    use crate::store::fixtures::{layout_with_wallet, put};
    use crate::store::layout::coin_file_name;
    use cloudcoin_domain::Amount;

    /// The scan read a coin's file in `Bank`; other software then moved that file to `Fracked`,
    /// where the scan read it again: two files of one coin as the scan saw them, one of them gone
    /// by the time they are settled. The file left is the coin's only file: it is the one kept,
    /// not moved to `Trash` while the index points at the name that is gone.
    #[test]
    fn a_file_moved_while_the_scan_ran_is_kept_where_it_is_now() {
        let (_tmp, layout, name) = layout_with_wallet();
        let c = coin(0, 1);
        let file = coin_file_name(&c);
        let fracked = layout.folder(&name, Folder::Fracked);
        put(&fracked, &file, std::slice::from_ref(&c));
        let seen = vec![
            Copy { folder: Folder::Bank, file: file.clone(), coin: c.clone() },
            Copy { folder: Folder::Fracked, file: file.clone(), coin: c.clone() },
        ];
        let entry = settle_copies(&layout, &name, seen).expect("settled").expect("a file is left");
        assert!(fracked.join(&file).exists(), "the coin's only file is not moved to Trash");
        assert_eq!(fs::read_dir(layout.folder(&name, Folder::Trash)).expect("Trash").count(), 0);
        let gone = coin(0, 2);
        let both = [Folder::Bank, Folder::Fracked].map(|folder| Copy {
            folder,
            file: coin_file_name(&gone),
            coin: gone.clone(),
        });
        let none = settle_copies(&layout, &name, both.into()).expect("settled");
        assert!(none.is_none(), "a coin whose files are all gone is not held");
        assert_eq!(
            (entry.folder, entry.file(), entry.hold),
            (Folder::Fracked, file.into(), Hold::Free)
        );
    }

    #[test]
    fn scan_indexes_single_coins_and_leaves_the_rest() {
        let (_tmp, layout, name) = layout_with_wallet();
        let bank = layout.folder(&name, Folder::Bank);
        put(&bank, "a.bin", &[coin(0, 1)]);
        put(&bank, "b.bin", &[coin(1, 2)]);
        put(&layout.folder(&name, Folder::Fracked), "dup.bin", &[coin(0, 1)]);
        put(&layout.folder(&name, Folder::Limbo), "c.bin", &[coin(-1, 3)]);
        put(&bank, "two.bin", &[coin(0, 4), coin(0, 5)]);
        put(&layout.folder(&name, Folder::Sent), "gone.bin", &[coin(0, 6)]);
        fs::write(bank.join("notes.txt"), b"hello").expect("write");
        fs::write(bank.join(".x.partial"), b"temp").expect("write");

        let state = scan_wallet(&layout, &name).expect("scan");
        let mut found: Vec<(u32, Folder)> =
            state.coins.values().map(|e| (e.coin.serial.get(), e.folder)).collect();
        found.sort();
        assert_eq!(found, vec![(1, Folder::Bank), (2, Folder::Bank), (3, Folder::Limbo)]);
        assert_eq!(state.balance(), (Amount::parse_request("11").expect("amount"), 2));
        assert!(bank.join("notes.txt").exists() && bank.join("two.bin").exists());
    }
}
