//! Where else on this server a coin lives that an import is about to store: in another wallet
//! (its index, or a file in its held folders), or in a `Sent` folder — a coin this server sent
//! away, which whoever holds the exported file can spend too.
//!
//! The check against the other wallets' indexes runs under one service-wide lock, the same lock
//! every import takes its claims under ([`Owners::claiming`]), so two imports into two wallets
//! cannot both see a coin as nobody's and both store it: the second one sees the first one's
//! `Incoming` claim. The check of the folders on disk runs after the claim, without any lock:
//! once the coin is claimed no export can pick it, and a file of the coin moves from a held
//! folder to `Sent` by a rename, so looking at the held folders first and at `Sent` next cannot
//! miss it.
//!
//! # The rule, and how it is kept
//!
//! **Invariant: an import never stores a coin another wallet of this server holds, nor — unless the
//! request says `allow_sent` — a coin this server sent away.** Kept by
//! `import_backup::a_coin_is_never_stored_in_two_wallets_nor_again_after_it_was_sent` (server: 10.5
//! exported from Default, the file refused by Alice without `allow_sent` and stored with it, then
//! `examples/test-coins` into Default again: the six coins are rejected naming Alice, even with
//! `allow_sent`),
//! `import_backup::two_imports_of_the_same_coins_into_two_wallets_at_once_store_each_coin_once`
//! (tasks: eight rounds of two concurrent imports of 300 coins into A and B) and
//! `owners::tests::coins_are_found_in_held_folders_then_in_sent_with_their_receipt`. How
//! (`crate::owners`): every import takes its `Incoming` claims under one service-wide lock, and
//! under it first looks the coins up in every other wallet's index (each wallet locked in turn,
//! never two at once): a coin held there, or being imported there, is a rejection naming that
//! wallet. So of two imports into two wallets at once, the second sees the first one's claims. Once
//! claimed (no export can pick a claimed coin), the import looks for files of the coins with the
//! same ANs in every wallet folder (live ones, then deleted ones), held folders first and `Sent`
//! next — a file moves from one to the other by a rename, so this order cannot miss an export's
//! coin on its way, after its index has let it go. A file in a held folder is a rejection; one in
//! `Sent` is one unless `allow_sent`, naming the file the coin left in from the newest export
//! receipt that lists it (else the `Sent` folder) and saying that only claiming the coin with the
//! RAIDA settles who owns it. Only a coin's conventional file name and its numbered names are
//! looked for on disk (a file in `Sent` under another name is not found). Each folder is listed
//! once, keeping only the names of the coins looked for, unless it holds more than eight times
//! as many files as there are coins: then each coin's names are looked up in it one by one (a
//! 1-coin import never reads a `Sent` of a million files; a 65,535-coin import makes a few
//! listings instead of five failed lookups per coin). The start-up pick-up of files dropped into
//! `Import` does not apply this rule.
//!
//! **Rule: a coin on its way to `Sent` counts as sent.** Once an export's file is linked, its
//! coins leave the wallet's index and their files, still in a held folder until the export's
//! renames reach them, are listed in the wallet's `leaving` set ([`Owners::leaving`]). An import
//! takes that list after its claims and before it looks at the folders: a file found in a held
//! folder and listed there is [`OnDisk::Leaving`], refused (or stored with `allow_sent`) exactly
//! as a file in `Sent` is. Whether the import looks before or after the rename, the coin is sent
//! away: a file leaves the list only after it is in `Sent`. Kept by
//! `import_faults::an_import_while_an_export_moves_its_coins_counts_them_as_sent` and
//! `owners::tests::a_file_on_its_way_to_sent_counts_as_sent`.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use cloudcoin_domain::{Coin, CoinId, WalletName};

use crate::store::{
    ConventionalNames, Folder, Hold, Layout, WalletState, id_file_name, read_single_coin,
};

/// The service's wallets by name.
pub(crate) type Wallets = BTreeMap<WalletName, Arc<Mutex<WalletState>>>;

/// The service's wallets, and the lock under which imports claim coins.
#[derive(Debug, Clone)]
pub(crate) struct Owners {
    wallets: Arc<Mutex<Wallets>>,
    claiming: Arc<Mutex<()>>,
}

/// Another wallet of this server that holds a coin in its index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeldElsewhere {
    pub(crate) wallet: WalletName,
    /// An import into that wallet is storing it right now (`Incoming`).
    pub(crate) incoming: bool,
}

impl Owners {
    pub(crate) fn new(wallets: Wallets) -> Owners {
        Owners { wallets: Arc::new(Mutex::new(wallets)), claiming: Arc::new(Mutex::new(())) }
    }

    /// The wallets (the map itself, locked).
    pub(crate) fn wallets(&self) -> MutexGuard<'_, Wallets> {
        self.wallets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lock every import holds from looking at the other wallets to taking its claims.
    pub(crate) fn claiming(&self) -> MutexGuard<'_, ()> {
        self.claiming.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Which of `ids` a wallet other than `except` holds in its index, whatever its hold and its
    /// keys. Each wallet is locked in turn, never two at once, and never while the map is.
    pub(crate) fn held_elsewhere(
        &self,
        except: &WalletName,
        ids: &[CoinId],
    ) -> HashMap<CoinId, HeldElsewhere> {
        let others: Vec<(WalletName, Arc<Mutex<WalletState>>)> = self
            .wallets()
            .iter()
            .filter(|(name, _)| *name != except)
            .map(|(name, state)| (name.clone(), state.clone()))
            .collect();
        let mut found = HashMap::new();
        for (name, state) in others {
            let state = state.lock().unwrap_or_else(|p| p.into_inner());
            for id in ids {
                // A coin graded counterfeit there is not held there.
                if let Some(entry) = state.coins.get(id).filter(|e| e.folder != Folder::Counterfeit)
                {
                    let incoming = matches!(entry.hold, Hold::Incoming(_));
                    found.entry(*id).or_insert(HeldElsewhere { wallet: name.clone(), incoming });
                }
            }
        }
        found
    }
}

/// Coins on their way to `Sent`, found by [`Owners::leaving`]: (wallet, held folder, coin).
pub(crate) type Leaving = HashSet<(String, Folder, CoinId)>;

impl Owners {
    /// Which of `ids` have a file on its way to `Sent` in a wallet: a file, under the coin's
    /// conventional name in a held folder, that the wallet lists as leaving
    /// ([`WalletState::leaving`]) — its export has published the coin and left its index, and
    /// is moving the file. Each wallet is locked in turn, never two at once; the names are made
    /// only when some wallet has files leaving, outside every lock.
    ///
    /// Called after the import's claims: a coin of the importing wallet that an export had
    /// reserved is counted present at the claim, so one claimed as new had already left the
    /// index, and its file is listed here until it is in `Sent`.
    pub(crate) fn leaving(&self, ids: &[CoinId]) -> Leaving {
        let wallets: Vec<(WalletName, Arc<Mutex<WalletState>>)> =
            self.wallets().iter().map(|(name, state)| (name.clone(), state.clone())).collect();
        let idle = |state: &Arc<Mutex<WalletState>>| {
            state.lock().unwrap_or_else(|p| p.into_inner()).leaving.is_empty()
        };
        let busy: Vec<_> = wallets.into_iter().filter(|(_, state)| !idle(state)).collect();
        let mut found = Leaving::new();
        if busy.is_empty() || ids.is_empty() {
            return found;
        }
        let names: Vec<String> = ids.iter().map(|id| id_file_name(*id)).collect();
        let by_name: HashMap<&str, CoinId> =
            names.iter().map(String::as_str).zip(ids.iter().copied()).collect();
        for (name, state) in busy {
            let state = state.lock().unwrap_or_else(|p| p.into_inner());
            for (folder, file) in &state.leaving {
                if let Some(id) = by_name.get(&**file) {
                    found.insert((name.as_str().to_owned(), *folder, *id));
                }
            }
        }
        found
    }
}

/// A file of this server's folders that holds a coin with the same keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OnDisk {
    /// In a held folder of a wallet whose index does not hold it: a file the wallet is moving
    /// to `Sent` for an export, or one dropped in since the start.
    Held { wallet: String, folder: Folder },
    /// In a held folder of a wallet that lists it as leaving ([`Owners::leaving`]): its export
    /// has published the coin and is moving the file to `Sent`. It counts as sent away.
    Leaving { wallet: String, folder: Folder },
    /// In the `Sent` folder of a wallet (of a deleted one when `deleted`): the coin left in a
    /// file this server wrote. `receipt` names that file when an export receipt lists the coin.
    Sent { wallet: String, deleted: bool, file: String, receipt: Option<SentIn> },
}

/// The export a coin left in, from its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SentIn {
    pub(crate) export: String,
    pub(crate) file: String,
}

/// A wallet folder on disk: its name (as the folder is called) and whether it was deleted.
struct WalletDir {
    name: String,
    path: PathBuf,
    deleted: bool,
}

/// Every wallet folder on disk, the deleted ones (`.cloudcoin/deleted/`, kept with their
/// `Sent`) after the live ones.
fn wallet_dirs(layout: &Layout) -> io::Result<Vec<WalletDir>> {
    let mut dirs = Vec::new();
    for (root, deleted) in [(layout.wallets(), false), (layout.deleted(), true)] {
        let entries = match fs::read_dir(&root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let mut found: Vec<WalletDir> = Vec::new();
        for entry in entries {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let raw = entry.file_name().to_string_lossy().into_owned();
            // A deleted wallet's folder is `{name} {random}`.
            let name = if deleted {
                raw.rsplit_once(' ').map_or(raw.clone(), |(n, _)| n.to_owned())
            } else {
                raw
            };
            found.push(WalletDir { name, path: entry.path(), deleted });
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        dirs.extend(found);
    }
    Ok(dirs)
}

/// Looks for files of `coins` (with the same ANs) in every wallet folder of the data directory:
/// first in the held folders, then in `Sent`, under the coin's conventional file name and the
/// numbered names ` (2)`, ` (3)`, … that follow it (a coin sent twice). A file under another
/// name is not found. Blocking.
///
/// Each folder is listed once ([`names_in`]) rather than each coin's names looked up in it,
/// unless the folder holds many more files than there are coins (then the names are looked up
/// one by one, as a listing would cost more). A wallet's held folders are all listed before its
/// `Sent` is: a file an export renames from one to the other while the folders are read is
/// found in one or the other.
///
/// A file in a held folder that `leaving` names (its export is moving it to `Sent`) is found as
/// [`OnDisk::Leaving`]: the coin is sent away whether its file is still in the held folder or
/// already in `Sent`.
pub(crate) fn find_on_disk<C: Borrow<Coin>>(
    layout: &Layout,
    coins: &[C],
    leaving: &Leaving,
) -> io::Result<HashMap<CoinId, OnDisk>> {
    let mut found: HashMap<CoinId, OnDisk> = HashMap::new();
    if coins.is_empty() {
        return Ok(found);
    }
    let wanted: HashSet<CoinId> = coins.iter().map(|c| c.borrow().id()).collect();
    // Past this many entries a folder is not read to its end: its names are looked up instead.
    let most = coins.len().saturating_mul(8).saturating_add(1024);
    let conventional = ConventionalNames::new();
    let dirs = wallet_dirs(layout)?;
    for dir in &dirs {
        if found.len() == wanted.len() {
            break;
        }
        let held_folders = if dir.deleted { &[][..] } else { &Folder::HELD[..] };
        let held_names: Vec<(Folder, PathBuf, Names)> = held_folders
            .iter()
            .map(|&folder| {
                let path = dir.path.join(folder.name());
                let names = names_in(&path, &conventional, &wanted, false, most);
                (folder, path, names)
            })
            .collect();
        let sent = dir.path.join(Folder::Sent.name());
        let sent_names = names_in(&sent, &conventional, &wanted, true, most);
        for coin in coins {
            let coin: &Coin = coin.borrow();
            if found.contains_key(&coin.id()) {
                continue;
            }
            let base = id_file_name(coin.id());
            let same = |path: &Path| {
                read_single_coin(path).is_ok_and(|c| c.id() == coin.id() && c.ans == coin.ans)
            };
            let held = held_names
                .iter()
                .find(|(_, path, names)| names.may_hold(&base) && same(&path.join(&base)));
            if let Some((folder, _, _)) = held {
                let (wallet, id) = (dir.name.clone(), coin.id());
                let place = if leaving.contains(&(wallet.clone(), *folder, id)) {
                    OnDisk::Leaving { wallet, folder: *folder }
                } else {
                    OnDisk::Held { wallet, folder: *folder }
                };
                found.insert(coin.id(), place);
                continue;
            }
            if let Some(file) = in_sent(&sent, &sent_names, &base, &same) {
                let place = OnDisk::Sent {
                    wallet: dir.name.clone(),
                    deleted: dir.deleted,
                    file,
                    receipt: None,
                };
                found.insert(coin.id(), place);
            }
        }
    }
    add_receipts(&dirs, &mut found);
    Ok(found)
}

/// What is known of the names in one folder.
enum Names {
    /// The folder was read to its end: these are its names that name a coin looked for (its
    /// conventional name, or a numbered name after it).
    Listed(HashSet<String>),
    /// The folder was not read (too many files, or it could not be listed): each name is
    /// looked up on its own.
    LookUp,
}

impl Names {
    /// Whether the folder may hold a file named `name` (always, when it was not listed).
    fn may_hold(&self, name: &str) -> bool {
        match self {
            Names::Listed(names) => names.contains(name),
            Names::LookUp => true,
        }
    }
}

/// Reads the folder `dir` once, keeping the names that are the conventional name (read by
/// `conventional`) of a coin in `wanted` — or, with `numbered`, a numbered name after one (` (2)`, …) — and no other. A
/// folder that does not exist holds nothing; one that cannot be read, or holds more than `most`
/// entries, is [`Names::LookUp`].
fn names_in(
    dir: &Path,
    conventional: &ConventionalNames,
    wanted: &HashSet<CoinId>,
    numbered: bool,
    most: usize,
) -> Names {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Names::Listed(HashSet::new()),
        Err(_) => return Names::LookUp,
    };
    let mut names = HashSet::new();
    for (n, entry) in entries.enumerate() {
        let Ok(entry) = entry else { return Names::LookUp };
        if n >= most {
            return Names::LookUp;
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let id = match numbered.then(|| unnumbered(name)).flatten() {
            Some(base) => conventional.id_of(&base),
            None => conventional.id_of(name),
        };
        if id.is_some_and(|id| wanted.contains(&id)) {
            names.insert(name.to_owned());
        }
    }
    Names::Listed(names)
}

/// The name `name` is numbered after (`a (2).bin` → `a.bin`), if it is a numbered name.
fn unnumbered(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.').map_or((name, ""), |(s, _)| (s, &name[s.len()..]));
    let (base, number) = stem.strip_suffix(')')?.rsplit_once(" (")?;
    let numbered = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
    numbered.then(|| format!("{base}{ext}"))
}

/// The name of a file in `sent` holding the coin (`same` says whether a file does): `base` or
/// a numbered name after it, as far as they go without a gap. `names` are `sent`'s names, when
/// it was listed.
fn in_sent(sent: &Path, names: &Names, base: &str, same: &dyn Fn(&Path) -> bool) -> Option<String> {
    let mut hit = None;
    cloudcoin_domain::unique_file_name(base, |name| {
        let path = sent.join(name);
        let exists = match names {
            Names::Listed(names) => names.contains(name),
            Names::LookUp => fs::symlink_metadata(&path).is_ok(),
        };
        if !exists {
            return false;
        }
        if hit.is_none() && same(&path) {
            hit = Some(name.to_owned());
        }
        // Found: stop looking (an answer "free" ends the search).
        hit.is_none()
    });
    hit
}

/// Most receipts read, and most bytes of them, to name the files coins left in.
const RECEIPTS_READ: usize = 2_000;
const RECEIPT_BYTES: u64 = 64 << 20;

/// What of a receipt is read here.
#[derive(serde::Deserialize)]
struct ReceiptView {
    id: String,
    coins: Vec<String>,
    file: String,
}

/// Names, for each coin found in a `Sent`, the export (and its file) whose receipt lists it:
/// the wallet's receipts newest first, within [`RECEIPTS_READ`] and [`RECEIPT_BYTES`].
fn add_receipts(dirs: &[WalletDir], found: &mut HashMap<CoinId, OnDisk>) {
    for dir in dirs {
        let mut wanted: HashMap<String, CoinId> = found
            .iter()
            .filter(|(_, place)| {
                matches!(place, OnDisk::Sent { wallet, deleted, receipt: None, .. }
                    if *wallet == dir.name && *deleted == dir.deleted)
            })
            .map(|(id, _)| (id.to_string(), *id))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let Ok(entries) = fs::read_dir(dir.path.join(Folder::Receipts.name())) else { continue };
        let mut receipts: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                let time = meta.modified().ok()?;
                (meta.is_file() && e.file_name().to_string_lossy().ends_with(".json"))
                    .then(|| (time, meta.len(), e.path()))
            })
            .collect();
        receipts.sort_by_key(|r| std::cmp::Reverse(r.0));
        let mut budget = RECEIPT_BYTES;
        for (_, len, path) in receipts.into_iter().take(RECEIPTS_READ) {
            if wanted.is_empty() || len > budget {
                break;
            }
            budget -= len;
            let Ok(bytes) = fs::read(&path) else { continue };
            let Ok(receipt) = serde_json::from_slice::<ReceiptView>(&bytes) else { continue };
            for listed in &receipt.coins {
                let Some(id) = wanted.remove(listed) else { continue };
                if let Some(OnDisk::Sent { receipt: slot, .. }) = found.get_mut(&id) {
                    *slot = Some(SentIn { export: receipt.id.clone(), file: receipt.file.clone() });
                }
            }
        }
    }
}

/// Why an import did not store `coin`, which `place` holds.
pub(crate) fn held_reason(id: CoinId, held: &HeldElsewhere) -> String {
    if held.incoming {
        format!(
            "coin {id} is being imported into wallet {} of this server right now; it was not stored here, so that it is never spendable in two wallets",
            held.wallet
        )
    } else {
        format!(
            "coin {id} is held by wallet {} of this server; it was not stored here, so that it is never spendable in two wallets (to move it, export it from {} and import that file)",
            held.wallet, held.wallet
        )
    }
}

/// What the refusal of a sent coin says after where it was sent from.
const SENT_TAIL: &str = "whoever holds that file can spend it too, and only claiming the coin with the RAIDA settles who owns it, so it was not stored — if the file is yours and no one else has it, import it again allowing sent coins (`cloudcoin import --allow-sent`, or \"allow_sent\": true in the request)";

/// Why an import did not store coin `id`, found on disk at `place`.
pub(crate) fn on_disk_reason(id: CoinId, place: &OnDisk) -> String {
    match place {
        OnDisk::Held { wallet, folder } => format!(
            "coin {id} is in wallet {wallet}'s {} folder (a file it is sending away or has not read yet); it was not stored here, so that it is never spendable in two places — import it again once that export has finished",
            folder.name()
        ),
        OnDisk::Leaving { wallet, folder } => format!(
            "coin {id} was sent away from wallet {wallet} of this server by an export that is finishing (the coin is in the export's file; the wallet's copy in {} is on its way to its Sent folder); {}",
            folder.name(),
            SENT_TAIL
        ),
        OnDisk::Sent { wallet, deleted, file, receipt } => {
            let whose = if *deleted {
                format!("the deleted wallet {wallet}")
            } else {
                format!("wallet {wallet}")
            };
            let left = match receipt {
                Some(SentIn { export, file }) => {
                    format!("in the file {file} (export {export})")
                }
                None => format!("(its copy is {file} in {whose}'s Sent folder)"),
            };
            format!("coin {id} was sent away from {whose} of this server {left}; {SENT_TAIL}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber};

    fn coin(sn: u32, an: u8) -> Coin {
        Coin::new(
            Denomination::from_code(0),
            SerialNumber::new(sn),
            [[an; 16]; RAIDA_COUNT],
            [Pown::Pass; RAIDA_COUNT],
        )
    }

    #[test]
    fn coins_are_found_in_held_folders_then_in_sent_with_their_receipt() {
        found_in_held_folders_then_in_sent(0);
    }

    /// The same answers when the folders hold too many files to be listed for five coins (more
    /// than eight times as many, and a thousand more): each name is looked up on its own.
    #[test]
    fn coins_are_found_by_their_names_in_folders_too_large_to_list() {
        found_in_held_folders_then_in_sent(1_100);
    }

    /// Coins held, sent, sent twice, sent with other keys and nowhere, in folders that hold
    /// `filler` other files each besides.
    fn found_in_held_folders_then_in_sent(filler: usize) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout { root: tmp.path().to_path_buf() };
        let w = |n: &str| WalletName::parse(n).expect("name");
        layout.create_wallet_dirs(&w("A")).expect("A");
        layout.create_wallet_dirs(&w("B")).expect("B");
        let put = |wallet: &str, folder: Folder, name: &str, c: &Coin| {
            let path = layout.folder(&w(wallet), folder).join(name);
            fs::write(path, cloudcoin_codec::encode_bin(std::slice::from_ref(c)).expect("bin"))
                .expect("write");
        };
        let (held, sent, sent_twice, other_keys, nowhere) =
            (coin(1, 1), coin(2, 2), coin(3, 3), coin(4, 4), coin(5, 5));
        put("B", Folder::Limbo, &id_file_name(held.id()), &held);
        put("A", Folder::Sent, &id_file_name(sent.id()), &sent);
        // Sent twice: the older copy (other keys) under the name, this one numbered.
        put("A", Folder::Sent, &id_file_name(sent_twice.id()), &coin(3, 9));
        let numbered = id_file_name(sent_twice.id()).replace(".bin", " (2).bin");
        put("A", Folder::Sent, &numbered, &sent_twice);
        put("B", Folder::Sent, &id_file_name(other_keys.id()), &coin(4, 8));
        let receipt = serde_json::json!({"id":"e1","time":"t","amount":"1","coins":[sent.id().to_string()],"file":"/out/1 CloudCoin #1 ''.bin","sha256":"x"});
        fs::write(layout.folder(&w("A"), Folder::Receipts).join("e1.json"), receipt.to_string())
            .expect("receipt");
        for (wallet, folder) in [("A", Folder::Sent), ("B", Folder::Sent), ("B", Folder::Limbo)] {
            let dir = layout.folder(&w(wallet), folder);
            for k in 0..filler {
                fs::write(dir.join(format!("other {k}.txt")), b"x").expect("filler");
            }
        }
        let listed = |wallet: &str, folder: Folder| {
            let wanted: HashSet<CoinId> = [held.id(), sent.id()].into_iter().collect();
            let dir = layout.folder(&w(wallet), folder);
            matches!(
                names_in(&dir, &ConventionalNames::new(), &wanted, true, 8 * 5 + 1024),
                Names::Listed(_)
            )
        };
        assert_eq!(listed("A", Folder::Sent), filler == 0, "listed only when small");
        assert_eq!(listed("B", Folder::Limbo), filler == 0, "listed only when small");

        let all = [held.clone(), sent.clone(), sent_twice.clone(), other_keys, nowhere];
        let found = find_on_disk(&layout, &all, &Leaving::new()).expect("looks");
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[&held.id()], OnDisk::Held { wallet: "B".into(), folder: Folder::Limbo });
        let OnDisk::Sent { wallet, receipt, .. } = &found[&sent.id()] else { panic!("sent") };
        assert_eq!(wallet, "A");
        assert_eq!(receipt.as_ref().map(|r| r.file.as_str()), Some("/out/1 CloudCoin #1 ''.bin"));
        let OnDisk::Sent { file, receipt, .. } = &found[&sent_twice.id()] else { panic!("sent") };
        assert_eq!((file.as_str(), receipt), (numbered.as_str(), &None));
        let reason = on_disk_reason(sent.id(), &found[&sent.id()]);
        assert!(reason.contains("export e1") && reason.contains("allow_sent"), "{reason}");
    }

    /// A file in a held folder that its wallet lists as leaving (its export published the coin
    /// and is moving the file to `Sent`) is found as sent away, not as held; the same coin's
    /// file in another held folder, not listed, is held.
    #[test]
    fn a_file_on_its_way_to_sent_counts_as_sent() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout { root: tmp.path().to_path_buf() };
        let (a, b) = (WalletName::parse("A").expect("A"), WalletName::parse("B").expect("B"));
        let (going, dropped) = (coin(1, 1), coin(2, 2));
        let mut wallets = Wallets::new();
        for name in [&a, &b] {
            layout.create_wallet_dirs(name).expect("dirs");
            wallets.insert(name.clone(), Arc::new(Mutex::new(WalletState::default())));
        }
        for (c, folder) in [(&going, Folder::Bank), (&dropped, Folder::Fracked)] {
            let path = layout.folder(&b, folder).join(id_file_name(c.id()));
            fs::write(path, cloudcoin_codec::encode_bin(std::slice::from_ref(c)).expect("bin"))
                .expect("write");
        }
        let owners = Owners::new(wallets);
        let ids = [going.id(), dropped.id()];
        assert!(owners.leaving(&ids).is_empty(), "no export is moving anything");
        {
            let wallets = owners.wallets();
            let mut state = wallets[&b].lock().expect("B");
            state.leaving.insert((Folder::Bank, id_file_name(going.id()).into()));
            // Listed in another folder than the dropped coin's file: not that file.
            state.leaving.insert((Folder::Bank, id_file_name(dropped.id()).into()));
        }
        let leaving = owners.leaving(&ids);
        let found = find_on_disk(&layout, &[going.clone(), dropped.clone()], &leaving).expect("ok");
        assert_eq!(
            found[&going.id()],
            OnDisk::Leaving { wallet: "B".into(), folder: Folder::Bank }
        );
        assert_eq!(
            found[&dropped.id()],
            OnDisk::Held { wallet: "B".into(), folder: Folder::Fracked }
        );
        let reason = on_disk_reason(going.id(), &found[&going.id()]);
        assert!(reason.contains("was sent away") && reason.contains("allow_sent"), "{reason}");
    }
}
