//! At start-up (nothing runs yet): the temporary files an interrupted claim, healing or change
//! left in a wallet's held folders, cleaned up without ever losing a key.
//!
//! Two kinds are met:
//!
//! - `.keys-{id}.tmp` in `Limbo`, `Bank`, `Fracked` or `Suspect`: a coin's next content, written
//!   beside its file and renamed over it once durable (`claim::apply`), or a new coin's file
//!   before it gets its name (`change`). Nothing is sent to a RAIDA on the strength of such a
//!   file until the rename or the link happened, and a renamed file no longer has this name: a
//!   `.keys` file still there was either never used, or is a second name of a coin stored since
//!   (a link whose temporary name could not be removed).
//! - `.{coin file}.{task id}.partial` (or `.{coin file}.claim-{id}.partial`) in `Limbo`: a coin an
//!   import that claims (or the recovery of its claim record) stores there, before it got its
//!   name; the claim record holds the coin's keys until every coin of it is stored.
//!
//! Either way the rule is the same, and it does not rest on the argument above alone: a file
//! whose every key (each RAIDA's AN, and PAN where it has them) the wallet holds for that coin
//! is redundant and removed; a readable file holding any key the wallet does not hold for the
//! coin (or a coin the wallet does not hold) is moved to `Trash`, never deleted; a file that
//! does not read as one coin was never complete, so never synced, renamed or sent, and is
//! removed.

use std::ffi::OsString;
use std::fs;
use std::io;

use cloudcoin_domain::{Coin, RAIDA_COUNT, WalletName};

use crate::store::{Folder, Layout, WalletState, read_single_coin};

/// Whether `name` is a temporary file this clean-up looks at in `folder`.
fn is_leftover(folder: Folder, name: &str) -> bool {
    if name.starts_with(".keys-") && name.ends_with(".tmp") {
        return true;
    }
    // An import's temporaries in Bank are the import's own clean-up's (`import`).
    folder == Folder::Limbo && name.starts_with('.') && name.ends_with(".partial")
}

/// Whether every key `file` holds is one the wallet holds for the same coin.
fn redundant(file: &Coin, held: &Coin) -> bool {
    if file.id() != held.id() {
        return false;
    }
    (0..RAIDA_COUNT).all(|r| {
        let known = |k: &[u8; 16]| *k == held.ans[r] || held.pans().is_some_and(|p| p[r] == *k);
        known(&file.ans[r]) && file.pans().is_none_or(|p| known(&p[r]))
    })
}

/// What became of one leftover file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cleaned {
    /// Redundant, or never complete: removed.
    Removed,
    /// Holding a key the wallet does not hold for the coin: kept in `Trash` under this name.
    Kept(String),
}

/// Cleans up the leftovers in `wallet`'s held folders; `state` is the wallet as the start-up
/// scan found it, and `bank_hidden` the names starting with `.` it listed in `Bank` (so the
/// largest folder is not listed a second time; the others are small). Returns each file and
/// what became of it. Blocking.
pub(crate) fn clean(
    layout: &Layout,
    wallet: &WalletName,
    state: &WalletState,
    bank_hidden: &[OsString],
) -> io::Result<Vec<(String, Cleaned)>> {
    let trash = layout.folder(wallet, Folder::Trash);
    let mut done = Vec::new();
    for folder in Folder::HELD {
        let dir = layout.folder(wallet, folder);
        let names: Vec<OsString> = if folder == Folder::Bank {
            bank_hidden.to_vec()
        } else {
            match fs::read_dir(&dir) {
                Ok(entries) => entries.filter_map(Result::ok).map(|e| e.file_name()).collect(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        };
        let mut touched = false;
        for raw in names {
            let name = raw.to_string_lossy().into_owned();
            if !is_leftover(folder, &name) {
                continue;
            }
            let path = dir.join(&raw);
            if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            let outcome = match read_single_coin(&path) {
                Ok(coin) => {
                    let held = state.coins.get(&coin.id()).map(|e| &*e.coin);
                    if held.is_some_and(|h| redundant(&coin, h)) {
                        fs::remove_file(&path)?;
                        Cleaned::Removed
                    } else {
                        let kept = cloudcoin_domain::unique_file_name(
                            &crate::store::coin_file_name(&coin),
                            |n| fs::symlink_metadata(trash.join(n)).is_ok(),
                        );
                        fs::rename(&path, trash.join(&kept))?;
                        crate::durable::sync_dir(&trash)?;
                        Cleaned::Kept(kept)
                    }
                }
                Err(_) => {
                    fs::remove_file(&path)?;
                    Cleaned::Removed
                }
            };
            match &outcome {
                Cleaned::Removed => {
                    tracing::info!(wallet = %wallet, file = %format!("{}/{name}", folder.name()), "removed a temporary file an interrupted operation left (redundant or never complete)");
                }
                Cleaned::Kept(kept) => {
                    tracing::warn!(wallet = %wallet, file = %format!("{}/{name}", folder.name()), to = %format!("Trash/{kept}"), "a temporary file holding keys the wallet does not hold was kept in Trash");
                }
            }
            touched = true;
            done.push((format!("{}/{name}", folder.name()), outcome));
        }
        if touched {
            crate::durable::sync_dir(&dir)?;
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcoin_domain::{Denomination, Pown, SerialNumber};

    fn coin(sn: u32, key: u8) -> Coin {
        Coin::new(
            Denomination::from_code(0),
            SerialNumber::new(sn),
            [[key; 16]; RAIDA_COUNT],
            [Pown::Pass; RAIDA_COUNT],
        )
    }

    struct Wallet {
        _tmp: tempfile::TempDir,
        layout: Layout,
        name: WalletName,
    }

    impl Wallet {
        fn new(held: &[(Folder, Coin)]) -> Wallet {
            let tmp = tempfile::tempdir().expect("tempdir");
            let layout = Layout { root: tmp.path().to_path_buf() };
            let name = WalletName::parse("W").expect("name");
            layout.create_wallet_dirs(&name).expect("dirs");
            for (folder, c) in held {
                let path = layout.folder(&name, *folder).join(crate::store::coin_file_name(c));
                fs::write(path, cloudcoin_codec::encode_bin(std::slice::from_ref(c)).expect("enc"))
                    .expect("write");
            }
            Wallet { _tmp: tmp, layout, name }
        }

        fn put(&self, folder: Folder, name: &str, bytes: &[u8]) {
            fs::write(self.layout.folder(&self.name, folder).join(name), bytes).expect("write");
        }

        fn names(&self, folder: Folder) -> Vec<String> {
            let mut v: Vec<String> = fs::read_dir(self.layout.folder(&self.name, folder))
                .expect("dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        }

        fn clean(&self) -> Vec<(String, Cleaned)> {
            let scanned = crate::store::scan_wallet_listed(&self.layout, &self.name).expect("scan");
            clean(&self.layout, &self.name, &scanned.state, &scanned.bank_hidden).expect("clean")
        }
    }

    fn bytes(c: &Coin) -> Vec<u8> {
        cloudcoin_codec::encode_bin(std::slice::from_ref(c)).expect("encode")
    }

    #[test]
    fn a_redundant_temporary_is_removed_and_one_with_other_keys_goes_to_trash() {
        // The wallet holds #1 in Limbo with its ANs and PANs (a claim not settled yet).
        let held = coin(1, 1).with_pans([[2; 16]; RAIDA_COUNT]);
        let w = Wallet::new(&[(Folder::Limbo, held.clone())]);
        // The claim's next content of #1 (the PANs as keys): every key is held → removed.
        let mut next = held.clone().without_pans();
        next.ans = [[2; 16]; RAIDA_COUNT];
        w.put(Folder::Limbo, ".keys-aa.tmp", &bytes(&next));
        // An import's temporary name of #1 as stored (the same content) → removed.
        w.put(
            Folder::Limbo,
            ".1 CloudCoin #1 ''.bin.0194d2c1-0000-7000-8000-000000000000.partial",
            &bytes(&held),
        );
        // A coin the wallet does not hold, and a key #1 never had: kept in Trash.
        w.put(Folder::Limbo, ".keys-bb.tmp", &bytes(&coin(9, 9)));
        let mut stranger = held.clone();
        stranger.ans[4] = [7; 16];
        w.put(Folder::Fracked, ".keys-cc.tmp", &bytes(&stranger));
        // Half a file: never complete, so never sent.
        w.put(Folder::Bank, ".keys-dd.tmp", &bytes(&held)[..40]);
        // Not ours to judge.
        w.put(Folder::Limbo, ".something-else", b"x");
        w.put(Folder::Bank, ".x.partial", b"y");
        let done = w.clean();
        assert_eq!(done.len(), 5, "{done:?}");
        let removed = done.iter().filter(|(_, c)| *c == Cleaned::Removed).count();
        assert_eq!(removed, 3, "{done:?}");
        assert_eq!(
            w.names(Folder::Limbo),
            vec![".something-else".to_owned(), crate::store::coin_file_name(&held)]
        );
        assert_eq!(w.names(Folder::Bank), vec![".x.partial".to_owned()]);
        assert!(w.names(Folder::Fracked).is_empty());
        let trash = w.names(Folder::Trash);
        assert_eq!(trash.len(), 2, "{trash:?}");
        // Every key the two kept files held is still on disk.
        let kept: Vec<Coin> = trash
            .iter()
            .map(|n| {
                read_single_coin(&w.layout.folder(&w.name, Folder::Trash).join(n)).expect("coin")
            })
            .collect();
        assert!(kept.iter().any(|c| c.ans[4] == [7; 16]));
        assert!(kept.iter().any(|c| c.serial == SerialNumber::new(9)));
        // Idempotent: a second start finds nothing.
        assert!(w.clean().is_empty());
    }
}
