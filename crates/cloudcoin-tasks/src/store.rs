//! Wallets on disk (`docs/SPEC.md` §5) and their in-memory index.
//!
//! Each coin the wallet holds is one single-coin format-9 file in `Bank`, `Fracked`, `Limbo` or
//! `Suspect`. The index maps a coin's id to its folder, file name and content; it is built once at
//! start-up and kept in step by the pipelines, so balances and selection never read the disk.
//!
//! A coin id is one coin: when the scan finds it in several files it keeps one and moves the
//! others to `Trash` (see [`scan_wallet`]), and an export sets aside any copy dropped in since
//! ([`set_aside_copies`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use cloudcoin_domain::{
    Amount, Candidate, Coin, CoinId, Denomination, FileKind, Pocket, Pown, SelectError,
    SelectionPolicy, SerialNumber, SpendableSet, Tag, WalletName, single_coin_file_name,
};

use crate::task::TaskId;

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

    fn pocket(self) -> Option<Pocket> {
        match self {
            Folder::Bank => Some(Pocket::Bank),
            Folder::Fracked => Some(Pocket::Fracked),
            _ => None,
        }
    }
}

/// Whether a held coin is free, promised to an export, still being stored by an import, or kept
/// out of the spendable set because another file of it could not be moved aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    Free,
    Reserved,
    /// Claimed by the running import with this id and not durably stored yet: it is not in the
    /// wallet, and another import of it waits for that one (it is never "already present").
    Incoming(TaskId),
    /// On disk in a held folder, but a second file of the same coin could not be moved to
    /// `Trash`: never spendable until a later start sorts the copies out.
    Blocked,
    /// Being healed with the RAIDA (its keys may change): still the wallet's and counted in
    /// the balance, but no export takes it until the healing ends.
    Healing,
}

/// A held coin's file name, kept only when it is not the name the coin's file gets by the
/// convention ([`coin_file_name`]). Nearly every file has that name, so the index keeps no string
/// for it; the name is made again when it is needed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FileName(Option<Box<str>>);

impl FileName {
    /// The name `name` of `coin`'s file.
    pub(crate) fn of(coin: &Coin, name: String) -> FileName {
        if name == coin_file_name(coin) { FileName(None) } else { FileName(Some(name.into())) }
    }

    /// The name, for the coin it was made for.
    pub(crate) fn get<'a>(&'a self, coin: &Coin) -> Cow<'a, str> {
        match &self.0 {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(coin_file_name(coin)),
        }
    }

    /// The name when it is not the conventional one.
    pub(crate) fn other(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// One coin the wallet holds. The coin itself is shared (an export holds the same allocation,
/// never a copy).
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) coin: Arc<Coin>,
    pub(crate) folder: Folder,
    pub(crate) hold: Hold,
    file: FileName,
}

impl Entry {
    /// `coin`, held in the file `file` of `folder`.
    pub(crate) fn new(folder: Folder, file: String, coin: Coin, hold: Hold) -> Entry {
        let file = FileName::of(&coin, file);
        Entry { coin: Arc::new(coin), folder, hold, file }
    }

    /// `coin`, found by the scan in the file `file` of `folder`; `conventional` says whether
    /// `file` is the coin's conventional name (told by [`crate::scan::Conventional`], which
    /// need not make the name).
    pub(crate) fn scanned(
        folder: Folder,
        file: &str,
        conventional: bool,
        coin: Coin,
        hold: Hold,
    ) -> Entry {
        let file = if conventional { FileName(None) } else { FileName(Some(file.into())) };
        Entry { coin: Arc::new(coin), folder, hold, file }
    }

    /// Whether the coin's file has the conventional name.
    #[cfg(test)]
    pub(crate) fn is_conventional(&self) -> bool {
        self.file.other().is_none()
    }

    /// The name of the coin's file in its folder.
    pub(crate) fn file(&self) -> Cow<'_, str> {
        self.file.get(&self.coin)
    }

    /// Records that the coin's file is now called `file`.
    pub(crate) fn set_file(&mut self, file: String) {
        self.file = FileName::of(&self.coin, file);
    }

    /// Whether the coin's file is where `held` says.
    pub(crate) fn is_at(&self, held: &Held) -> bool {
        self.folder == held.folder && self.file == held.file
    }

    /// The coin taken out of the spendable set, with where its file is.
    fn held(&self) -> Held {
        Held { coin: self.coin.clone(), folder: self.folder, file: self.file.clone() }
    }
}

/// A coin taken out of the spendable set, with where its file is.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub(crate) coin: Arc<Coin>,
    pub(crate) folder: Folder,
    pub(crate) file: FileName,
}

impl Held {
    /// The name of the coin's file in its folder.
    #[cfg(test)]
    pub(crate) fn file(&self) -> Cow<'_, str> {
        self.file.get(&self.coin)
    }
}

/// The coins a wallet holds, by id, with the spendable ones — money, in Bank or Fracked, free —
/// also kept in spending order ([`SpendableSet`]), so that choosing coins for an export costs
/// the coins it takes, not the coins the wallet holds. Every change of a coin goes through
/// [`Coins::insert`], [`Coins::update`], [`Coins::remove_if`] or [`Coins::retain`], which keep the
/// spendable set equal to what a walk over every coin would find.
#[derive(Debug, Default)]
pub(crate) struct Coins {
    map: HashMap<CoinId, Entry>,
    spendable: SpendableSet,
}

impl Coins {
    /// The coin `id`, if held.
    pub(crate) fn get(&self, id: &CoinId) -> Option<&Entry> {
        self.map.get(id)
    }

    /// Whether the coin `id` is held.
    pub(crate) fn contains_key(&self, id: &CoinId) -> bool {
        self.map.contains_key(id)
    }

    /// How many coins are held, whatever their hold.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no coin is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every held coin, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Entry> {
        self.map.values()
    }

    /// Every held coin with its id, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&CoinId, &Entry)> {
        self.map.iter()
    }

    /// The spendable coins.
    #[cfg(test)]
    pub(crate) fn spendable(&self) -> &SpendableSet {
        &self.spendable
    }

    /// Holds `entry` as the coin `id` (replacing what was held under that id) and returns the
    /// entry it replaced.
    pub(crate) fn insert(&mut self, id: CoinId, entry: Entry) -> Option<Entry> {
        self.spendable.remove(id);
        if let Some(c) = spendable_as(id, &entry) {
            self.spendable.insert(c);
        }
        self.map.insert(id, entry)
    }

    /// Changes the coin `id` with `change`, if held, and returns what `change` returned.
    pub(crate) fn update<R>(
        &mut self,
        id: &CoinId,
        change: impl FnOnce(&mut Entry) -> R,
    ) -> Option<R> {
        let entry = self.map.get_mut(id)?;
        let out = change(entry);
        self.spendable.remove(*id);
        if let Some(c) = spendable_as(*id, entry) {
            self.spendable.insert(c);
        }
        Some(out)
    }

    /// Takes the coins `select_coins` chooses for `amount` out of the spendable set, marks them
    /// reserved and returns their ids, in the selection's order.
    fn reserve_amount(
        &mut self,
        amount: Amount,
        policy: &SelectionPolicy,
    ) -> Result<Vec<CoinId>, SelectError> {
        let chosen = self.spendable.take(amount, policy)?;
        if chosen.len() < self.map.len() / SWEEP_FROM {
            for c in &chosen {
                let e = self.map.get_mut(&c.id).expect("the spendable set holds only held coins");
                debug_assert_eq!(spendable_as(c.id, e), Some(*c), "a spendable coin");
                e.hold = Hold::Reserved;
            }
        } else {
            self.mark_in_one_pass(&chosen);
        }
        Ok(chosen.iter().map(|c| c.id).collect())
    }

    /// Marks `chosen`, just taken out of the spendable set, reserved in one pass over the map,
    /// without a lookup per coin: the coins chosen of a denomination are the first of its pile,
    /// that is every spendable coin of that denomination up to the last one chosen, in spending
    /// order (Bank before Fracked, then by serial).
    fn mark_in_one_pass(&mut self, chosen: &[Candidate]) {
        const PILES: usize =
            (Denomination::MAX_MONEY_CODE - Denomination::MIN_MONEY_CODE) as usize + 1;
        let pile = |d: Denomination| {
            usize::try_from(i16::from(d.code()) - i16::from(Denomination::MIN_MONEY_CODE)).ok()
        };
        // The last chosen coin of each pile (the chosen coins come in spending order).
        let mut last: [Option<(Pocket, SerialNumber)>; PILES] = [None; PILES];
        for c in chosen {
            if let Some(slot) = pile(c.id.denomination).and_then(|i| last.get_mut(i)) {
                *slot = Some((c.pocket, c.id.serial));
            }
        }
        let mut marked = 0;
        for (id, e) in &mut self.map {
            let Some(c) = spendable_as(*id, e) else { continue };
            let up_to = pile(id.denomination).and_then(|i| last.get(i).copied().flatten());
            if up_to.is_some_and(|bound| (c.pocket, c.id.serial) <= bound) {
                e.hold = Hold::Reserved;
                marked += 1;
            }
        }
        debug_assert_eq!(marked, chosen.len(), "exactly the chosen coins are marked");
    }

    /// Forgets the coin `id` and returns its entry, if held.
    #[cfg(test)]
    pub(crate) fn remove(&mut self, id: &CoinId) -> Option<Entry> {
        let entry = self.map.remove(id)?;
        self.spendable.remove(*id);
        Some(entry)
    }

    /// Removes the coin `id` when `remove` says yes to its entry (one lookup); returns whether
    /// it did.
    pub(crate) fn remove_if(&mut self, id: &CoinId, remove: impl FnOnce(&Entry) -> bool) -> bool {
        match self.map.entry(*id) {
            std::collections::hash_map::Entry::Occupied(slot) if remove(slot.get()) => {
                let entry = slot.remove();
                if spendable_as(*id, &entry).is_some() {
                    self.spendable.remove(*id);
                }
                true
            }
            _ => false,
        }
    }

    /// Keeps only the coins `keep` says yes to.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&CoinId, &Entry) -> bool) {
        let spendable = &mut self.spendable;
        self.map.retain(|id, entry| {
            let kept = keep(id, entry);
            if !kept {
                spendable.remove(*id);
            }
            kept
        });
    }

    /// Gives back memory the map no longer needs.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.map.shrink_to_fit();
    }

    /// The spendable set a walk over every coin finds (what [`Coins::spendable`] must equal).
    fn recount(&self) -> SpendableSet {
        self.map.iter().filter_map(|(id, e)| spendable_as(*id, e)).collect()
    }

    /// Builds the spendable set again from every coin, at once: for the start-up scan, which
    /// fills the map alone (one sort per pile rather than one tree insertion per coin).
    fn reindex(&mut self) {
        self.spendable = self.recount();
    }
}

/// A reservation of at least 1/`SWEEP_FROM` of the held coins marks them in one pass over the
/// map ([`Coins::mark_in_one_pass`]) rather than with a lookup per coin (one pass over 65,536
/// coins costs about what a few thousand lookups do).
const SWEEP_FROM: usize = 8;

/// The coin `id` as selection sees it, when it is spendable: money, in Bank or Fracked, free.
fn spendable_as(id: CoinId, e: &Entry) -> Option<Candidate> {
    if e.hold != Hold::Free || !id.denomination.is_money() {
        return None;
    }
    e.folder.pocket().map(|pocket| Candidate { id, pocket })
}

/// The in-memory state of one wallet. Guarded by a `std::sync::Mutex`, never held across IO.
#[derive(Debug, Default)]
pub(crate) struct WalletState {
    pub(crate) coins: Coins,
    /// Set when the wallet is deleted; tasks holding the state must not store into it.
    pub(crate) deleted: bool,
    /// Notified (with the state's mutex) whenever an import settles its `Incoming` claims, so an
    /// import waiting for those coins looks again.
    pub(crate) claims_settled: Arc<Condvar>,
    /// The files (folder, name) of coins in a published export, on their way to `Sent`: out of
    /// the index, but not strays — another export's scan for stray copies leaves them alone.
    pub(crate) leaving: HashSet<(Folder, Box<str>)>,
}

impl WalletState {
    /// Chooses coins for `amount` among the spendable ones (`select_coins`'s choice) and marks
    /// them reserved; returns their ids, in the selection's order. Their files are looked up
    /// later ([`WalletState::held`]): nothing else changes a reserved coin.
    pub(crate) fn reserve_amount(
        &mut self,
        amount: Amount,
        policy: &SelectionPolicy,
    ) -> Result<Vec<CoinId>, SelectError> {
        self.coins.reserve_amount(amount, policy)
    }

    /// The coins and files of the reserved coins `ids`, in that order, or `None` when one of them
    /// is not held as reserved (then nothing is returned, and nothing changed).
    pub(crate) fn held(&self, ids: &[CoinId]) -> Option<Vec<Held>> {
        ids.iter()
            .map(|id| self.coins.get(id).filter(|e| e.hold == Hold::Reserved).map(Entry::held))
            .collect()
    }

    /// Value and count of the spendable coins.
    pub(crate) fn balance(&self) -> (Amount, usize) {
        let mut total = Amount::ZERO;
        let mut count = 0;
        for e in self.coins.values() {
            if !matches!(e.hold, Hold::Free | Hold::Healing) || e.folder.pocket().is_none() {
                continue;
            }
            if let Some(v) = e.coin.value() {
                total = total.checked_add(v).unwrap_or(Amount::MAX);
                count += 1;
            }
        }
        (total, count)
    }

    /// Spendable money coins per denomination.
    pub(crate) fn per_denomination(&self) -> BTreeMap<Denomination, usize> {
        let mut map = BTreeMap::new();
        for e in self.coins.values() {
            if matches!(e.hold, Hold::Free | Hold::Healing)
                && e.folder.pocket().is_some()
                && e.coin.denomination.is_money()
            {
                *map.entry(e.coin.denomination).or_insert(0) += 1;
            }
        }
        map
    }

    /// Makes reserved coins spendable again.
    pub(crate) fn release(&mut self, coins: &[Held]) {
        self.release_ids(coins.iter().map(|h| h.coin.id()));
    }

    /// Makes the reserved coins `ids` spendable again.
    pub(crate) fn release_ids(&mut self, ids: impl IntoIterator<Item = CoinId>) {
        for id in ids {
            self.coins.update(&id, |e| {
                if e.hold == Hold::Reserved {
                    e.hold = Hold::Free;
                }
            });
        }
    }

    /// Forgets coins that left the wallet.
    #[cfg(test)]
    pub(crate) fn remove(&mut self, coins: &[Held]) {
        for h in coins {
            self.coins.remove(&h.coin.id());
        }
    }

    /// Every coin the wallet holds, whatever its hold, in a stable order.
    pub(crate) fn all_coins(&self) -> Vec<Coin> {
        let mut coins: Vec<Coin> = self.coins.values().map(|e| (*e.coin).clone()).collect();
        coins.sort_by_key(|c| std::cmp::Reverse(c.id()));
        coins
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
            let _ = crate::records::ensure_transactions_file(&csv)?;
        }
        crate::durable::sync_dir(&self.wallet(name))?;
        crate::durable::sync_dir(&self.wallets())
    }
}

/// The name a coin's file gets in a wallet folder: the single-coin rule with an empty tag.
pub(crate) fn coin_file_name(coin: &Coin) -> String {
    single_coin_file_name(coin, &Tag::empty(), FileKind::Bin)
}

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
/// few threads while the listing goes on, see [`crate::scan`]) straight into the index: there is
/// no second list of every coin. A coin id found in more than one file is one coin
/// ([`settle_copies`]): its files are gathered as they are met and settled once every folder is
/// read; one file is kept and indexed, the others are moved to `Trash` with a log line. Nothing
/// is deleted.
pub(crate) fn scan_wallet_listed(layout: &Layout, name: &WalletName) -> io::Result<Scanned> {
    use crate::scan::Read;
    let mut state = WalletState::default();
    // Every file of each coin id met more than once, the indexed one first.
    let mut copies: BTreeMap<CoinId, Vec<Copy>> = BTreeMap::new();
    let threads = crate::scan::threads();
    let mut bank_hidden = Vec::new();
    for folder in Folder::HELD {
        let path = layout.folder(name, folder);
        let dir = fs::File::open(&path)?;
        let take = |names: &crate::scan::Names, read: Vec<Read>| {
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
                        state.coins.map.insert(id, entry);
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
        let hidden = crate::scan::scan_folder(&dir, folder, threads, bank, take)?;
        if bank {
            bank_hidden = hidden;
        }
    }
    for (id, group) in copies {
        match settle_copies(layout, name, group)? {
            Some(entry) => state.coins.map.insert(id, entry),
            // Every file of it is gone since it was read: not held.
            None => state.coins.map.remove(&id),
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

/// Renames a wallet's file into another of its folders under its own name or the next free one
/// (never replacing a file there: [`move_one`]), and returns the name used, or `None` when the
/// file is no longer there. The caller syncs both folders.
fn move_aside(
    layout: &Layout,
    wallet: &WalletName,
    from: Folder,
    file: &str,
    to: Folder,
) -> io::Result<Option<String>> {
    let dest = layout.folder(wallet, to);
    fs::create_dir_all(&dest)?;
    let (source, dest) = (fs::File::open(layout.folder(wallet, from))?, fs::File::open(&dest)?);
    move_one(&source, file, &dest)
}

/// Moves `file` of `from`, a second file of a coin whose file `kept` (folder, name) stays, into
/// `to` — only while `kept` is there and is another file. Other software sharing the wallet may
/// move the kept file meanwhile (then `file` may be the coin's only file, or the very same file
/// seen under its new name): if `kept` is gone after the move, `file` is moved back to `from`,
/// so the coin keeps a file in a held folder (a second file is settled at the next start; a
/// coin file in `Trash` is lost to the wallet). Returns the name in `to`, or `None` when nothing
/// was set aside.
fn move_copy_aside(
    layout: &Layout,
    wallet: &WalletName,
    kept: (Folder, &str),
    from: Folder,
    file: &str,
    to: Folder,
) -> io::Result<Option<String>> {
    use std::os::unix::fs::MetadataExt;
    let kept_path = layout.folder(wallet, kept.0).join(kept.1);
    let same = |a: &fs::Metadata, b: &fs::Metadata| a.dev() == b.dev() && a.ino() == b.ino();
    let (Ok(k), Ok(f)) = (
        fs::symlink_metadata(&kept_path),
        fs::symlink_metadata(layout.folder(wallet, from).join(file)),
    ) else {
        return Ok(None);
    };
    if same(&k, &f) {
        return Ok(None);
    }
    let Some(name) = move_aside(layout, wallet, from, file, to)? else { return Ok(None) };
    if fs::symlink_metadata(&kept_path).is_ok_and(|now| same(&now, &k)) {
        return Ok(Some(name));
    }
    // The kept file moved meanwhile: this one goes back where it was.
    let back = move_aside(layout, wallet, to, &name, from)?;
    tracing::warn!(wallet = %wallet, file = %format!("{}/{file}", from.name()), kept = %kept_path.display(), back = ?back, "the kept file of a coin was moved by other software while a second file was set aside; the second file stays");
    Ok(None)
}

/// Which files the index knows, without a string per coin: the folder of each coin whose file
/// has the conventional name, and the few names that are not conventional.
struct KnownFiles {
    conventional: HashMap<CoinId, Folder>,
    others: HashSet<(Folder, Box<str>)>,
    /// The value part of a conventional name, for each denomination code.
    values: HashMap<String, Denomination>,
}

impl KnownFiles {
    fn of(state: &WalletState) -> KnownFiles {
        let mut conventional = HashMap::with_capacity(state.coins.len());
        let mut others = HashSet::new();
        for (id, e) in state.coins.iter() {
            match e.file.other() {
                None => {
                    conventional.insert(*id, e.folder);
                }
                Some(name) => {
                    others.insert((e.folder, name.into()));
                }
            }
        }
        others.extend(state.leaving.iter().cloned());
        let values = (i8::MIN..=i8::MAX)
            .map(|code| {
                let d = Denomination::from_code(code);
                let value = match d.value() {
                    Some(v) => v.file_name_format(),
                    None => format!("code {code}"),
                };
                (value, d)
            })
            .collect();
        KnownFiles { conventional, others, values }
    }

    /// Whether `name` in `folder` is the file of a coin the index holds: `None` if not, else the
    /// coin when the name is its conventional one (`Some(None)` for a name given by hand).
    fn which(&self, folder: Folder, name: &str) -> Option<Option<CoinId>> {
        if self.others.contains(&(folder, Box::from(name))) {
            return Some(None);
        }
        // A conventional name says which coin it would be; it is that coin's file only if the
        // index has the coin in this folder under exactly this name.
        let (value, serial) =
            name.strip_suffix(" ''.bin").and_then(|n| n.rsplit_once(" CloudCoin #"))?;
        let (Some(denomination), Ok(serial)) = (self.values.get(value), serial.parse::<u32>())
        else {
            return None;
        };
        let id = CoinId { denomination: *denomination, serial: SerialNumber::new(serial) };
        (self.conventional.get(&id) == Some(&folder) && id_file_name(id) == name)
            .then_some(Some(id))
    }
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

/// Before an export journals its coins: moves to `Trash` every file in the wallet's held folders
/// that holds one of `held`'s coins but is not the file the index knows for it — a copy dropped
/// in by hand or by other software since the start — so that moving the indexed files to `Sent`
/// leaves no spendable copy behind. Only files the index does not know are read. A copy with other
/// keys than the indexed coin is moved too (logged as an error): it is kept, never spendable.
/// Returns how many files were moved, and where the listing found the held coins' own files.
/// Blocking.
pub(crate) fn set_aside_copies(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    held: &[Held],
) -> io::Result<SetAside> {
    let wanted: HashMap<CoinId, &Held> = held.iter().map(|h| (h.coin.id(), h)).collect();
    let known = KnownFiles::of(&state.lock().unwrap_or_else(|p| p.into_inner()));
    let mut moved = 0;
    let mut listed = HashMap::with_capacity(held.len());
    let mut touched = std::collections::BTreeSet::new();
    for (nth, folder) in Folder::HELD.into_iter().enumerate() {
        let dir = layout.folder(wallet, folder);
        let mut names = Vec::new();
        for (at, entry) in (0u32..).zip(fs::read_dir(&dir)?) {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.file_type()?.is_file() {
                continue;
            }
            match known.which(folder, &name) {
                None => names.push(name),
                Some(Some(id)) if wanted.contains_key(&id) => {
                    listed.insert(id, (nth, at));
                }
                Some(_) => {}
            }
        }
        for name in names {
            let Ok(coin) = read_single_coin(&dir.join(&name)) else { continue };
            let Some(h) = wanted.get(&coin.id()) else { continue };
            // Gone since the listing (another export's file on its way to Sent, or moved by
            // other software), or the coin's own file moved here by other software: nothing to
            // set aside.
            let own = h.file.get(&h.coin);
            let Some(to) =
                move_copy_aside(layout, wallet, (h.folder, &own), folder, &name, Folder::Trash)?
            else {
                continue;
            };
            touched.extend([folder, Folder::Trash]);
            moved += 1;
            if coin.ans == h.coin.ans {
                tracing::warn!(wallet = %wallet, coin = %coin.id(), from = %format!("{}/{name}", folder.name()), to = %format!("Trash/{to}"), "a second copy of a coin being exported was moved to Trash");
            } else {
                tracing::error!(wallet = %wallet, coin = %coin.id(), from = %format!("{}/{name}", folder.name()), to = %format!("Trash/{to}"), "a file with this coin id but other keys was moved to Trash; check it with the RAIDA");
            }
        }
    }
    for folder in touched {
        crate::durable::sync_dir(&layout.folder(wallet, folder))?;
    }
    Ok(SetAside { moved, listed })
}

/// What [`set_aside_copies`] did, and what it saw.
#[derive(Debug)]
pub(crate) struct SetAside {
    /// Copies moved to `Trash`.
    pub(crate) moved: usize,
    /// For each held coin whose file has its conventional name: the folder (its place in
    /// [`Folder::HELD`]) and the place in that folder's listing where the file was found. Moving
    /// the files in that order touches the folders' blocks one after the other, as the listing
    /// does (measured: about a tenth faster than in coin order for 65,535 coins on ext4).
    pub(crate) listed: HashMap<CoinId, (usize, u32)>,
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

/// Moves coin files (folder, file name) of a wallet into `to`, under their own name or the next
/// free one, then syncs each directory touched once. Returns the places (in `files`' order) of
/// the files no longer in their folder: a crash may have interrupted the move before, or other
/// software sharing the wallet may have moved the file to another folder — the caller looks the
/// coin up ([`move_found_coins`]), it never takes a missing file for moved.
///
/// Each coin costs one `renameat2(RENAME_NOREPLACE)` between directory handles, which fails
/// rather than replace anything; only a taken name (then the next free one is looked for) or a
/// missing source (then the source is checked, so a vanished destination is an error, not a
/// move) costs more.
pub(crate) fn move_coins<N: AsRef<str>>(
    layout: &Layout,
    wallet: &WalletName,
    files: impl ExactSizeIterator<Item = (Folder, N)>,
    to: Folder,
    mid_step: &str,
) -> io::Result<Vec<usize>> {
    let dest = fs::File::open(layout.folder(wallet, to))?;
    let mut sources: BTreeMap<Folder, fs::File> = BTreeMap::new();
    let mut touched = std::collections::BTreeSet::new();
    let mut missing = Vec::new();
    let half = files.len() / 2;
    for (i, (folder, file)) in files.enumerate() {
        let file = file.as_ref();
        let source = match sources.entry(folder) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(fs::File::open(layout.folder(wallet, folder))?)
            }
        };
        if move_one(source, file, &dest)?.is_none() {
            missing.push(i);
            continue;
        }
        touched.insert(folder);
        if i == half {
            crate::fault::point(mid_step)?;
        }
    }
    dest.sync_all()?;
    for folder in touched {
        if let Some(source) = sources.get(&folder) {
            source.sync_all()?;
        }
    }
    Ok(missing)
}

/// Moves `file` from the folder `source` into `dest` under its name or the next free one, never
/// replacing anything. Returns the name it got there, or `None` when it is no longer in
/// `source`.
///
/// `renameat2(RENAME_NOREPLACE)`; where the file system refuses that flag, `link` (which never
/// replaces) then `unlink` of the source name — a crash between the two leaves the coin under
/// both names, which the start-up scan settles as two files of one coin.
pub(crate) fn move_one(
    source: &fs::File,
    file: &str,
    dest: &fs::File,
) -> io::Result<Option<String>> {
    use rustix::fs::{AtFlags, RenameFlags, linkat, renameat_with, statat, unlinkat};
    use rustix::io::Errno;
    let mut name = file.to_owned();
    let mut by_link = crate::fault::no_rename_noreplace();
    loop {
        let moved = if by_link {
            linkat(source, file, dest, name.as_str(), AtFlags::empty()).and_then(|()| {
                match unlinkat(source, file, AtFlags::empty()) {
                    // Removed by someone else meanwhile: moved all the same.
                    Ok(()) | Err(Errno::NOENT) => Ok(()),
                    // Under both names now: an error, so the move is tried again (by recovery).
                    Err(e) => Err(e),
                }
            })
        } else {
            renameat_with(source, file, dest, name.as_str(), RenameFlags::NOREPLACE)
        };
        match moved {
            Ok(()) => return Ok(Some(name)),
            Err(Errno::EXIST) => {
                // Taken in the destination: the next free name (a name that cannot be probed
                // counts as free; the rename then says why).
                let next = cloudcoin_domain::unique_file_name(file, |n| {
                    statat(dest, n, AtFlags::SYMLINK_NOFOLLOW).is_ok()
                });
                if next == name {
                    return Err(Errno::EXIST.into());
                }
                name = next;
            }
            Err(Errno::NOENT) => {
                return match statat(source, file, AtFlags::SYMLINK_NOFOLLOW) {
                    Err(Errno::NOENT) => Ok(None),
                    // The source is there: the destination is what is missing.
                    Ok(_) => Err(Errno::NOENT.into()),
                    Err(e) => Err(e.into()),
                };
            }
            // A file system without RENAME_NOREPLACE: link then unlink, which never replaces.
            Err(Errno::INVAL | Errno::NOSYS) if !by_link => by_link = true,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Moves into `to` every file in the wallet's held folders that holds one of the coins `wanted`
/// — the coins of an export whose recorded files were not where the journal says (other
/// software moved them between held folders, or a crash interrupted the move). Files the index
/// of `known` holds (other coins' files, another export's files on their way out) are not
/// touched. `keys` gives the keys of the exported coins where they are known: a file of the same
/// id with other keys is a different claim and is left where it is (logged). Returns the coins
/// found and moved. Blocking; reads every file it does not know, so it is called only when a
/// file was missing.
pub(crate) fn move_found_coins(
    layout: &Layout,
    wallet: &WalletName,
    wanted: &HashSet<CoinId>,
    known: Option<&Mutex<WalletState>>,
    keys: &HashMap<CoinId, Arc<Coin>>,
    to: Folder,
) -> io::Result<HashSet<CoinId>> {
    let known = known.map(|state| KnownFiles::of(&state.lock().unwrap_or_else(|p| p.into_inner())));
    let dest = fs::File::open(layout.folder(wallet, to))?;
    let mut found = HashSet::new();
    let mut touched = Vec::new();
    for folder in Folder::HELD {
        let path = layout.folder(wallet, folder);
        let source = fs::File::open(&path)?;
        let mut moved_here = false;
        for entry in fs::read_dir(&path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.file_type()?.is_file() {
                continue;
            }
            if known.as_ref().is_some_and(|k| k.which(folder, &name).is_some()) {
                continue;
            }
            let Ok(coin) = read_single_coin(&path.join(&name)) else { continue };
            let id = coin.id();
            if !wanted.contains(&id) {
                continue;
            }
            let place = format!("{}/{name}", folder.name());
            if keys.get(&id).is_some_and(|exported| exported.ans != coin.ans) {
                tracing::error!(wallet = %wallet, coin = %id, file = %place, "a file with an exported coin's id but other keys is left where it is; check it with the RAIDA");
                continue;
            }
            if let Some(to_name) = move_one(&source, &name, &dest)? {
                tracing::warn!(wallet = %wallet, coin = %id, from = %place, to = %format!("{}/{to_name}", to.name()), "an exported coin's file was not where the journal says (moved by other software?); found and moved");
                found.insert(id);
                moved_here = true;
            }
        }
        if moved_here {
            touched.push(source);
        }
    }
    if !touched.is_empty() {
        dest.sync_all()?;
        for source in touched {
            source.sync_all()?;
        }
    }
    Ok(found)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::coin;

    fn put(dir: &Path, name: &str, coins: &[Coin]) {
        fs::write(dir.join(name), cloudcoin_codec::encode_bin(coins).expect("encode"))
            .expect("write");
    }

    fn layout_with_wallet() -> (tempfile::TempDir, Layout, WalletName) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout { root: tmp.path().to_path_buf() };
        let name = WalletName::parse("W").expect("name");
        layout.create_wallet_dirs(&name).expect("dirs");
        (tmp, layout, name)
    }

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

    #[test]
    fn reserved_coins_leave_the_spendable_set_until_released() {
        let (_tmp, layout, name) = layout_with_wallet();
        let bank = layout.folder(&name, Folder::Bank);
        put(&bank, "a.bin", &[coin(0, 1)]);
        put(&bank, "b.bin", &[coin(0, 2)]);
        put(&bank, "key.bin", &[coin(11, 3)]);
        let mut state = scan_wallet(&layout, &name).expect("scan");
        assert_eq!(state.coins.spendable().len(), 2, "the key coin is never a candidate");
        let one = CoinId { denomination: Denomination::from_code(0), serial: SerialNumber::new(1) };
        let policy = SelectionPolicy::default();
        let amount = Amount::parse_request("1").expect("amount");
        assert_eq!(state.reserve_amount(amount, &policy), Ok(vec![one]), "the lowest serial");
        let held = state.held(&[one]).expect("reserved");
        assert_eq!(held[0].file(), "a.bin");
        assert_eq!(state.coins.spendable().len(), 1);
        assert_eq!(state.coins.spendable().pocket_of(one), None);
        assert_eq!(state.balance().1, 1);
        state.release(&held);
        assert_eq!(state.balance().1, 2);
        assert_eq!(state.reserve_amount(amount, &policy), Ok(vec![one]));
        let held = state.held(&[one]).expect("reserved");
        state.remove(&held);
        assert_eq!(state.coins.len(), 2);
        assert_eq!(state.all_coins().len(), 2);
    }

    /// One change of a wallet's index, as the pipelines make them.
    #[derive(Debug, Clone)]
    enum Op {
        /// Holds a coin (replacing one of the same id): denomination code, serial, folder, hold.
        Insert(i8, u32, usize, usize),
        /// Reserves coins, as an export does: for the value of the spendable coins a mask picks
        /// (an amount that can be made), or for any amount in units of 0.001.
        Reserve(u64, Option<u64>),
        /// Releases one earlier reservation, as a failed export does.
        Release(usize),
        /// Forgets one earlier reservation's coins, as a finished export does.
        Forget(usize),
        /// Changes one held coin's hold and folder, as recovery, imports and the scan do.
        Change(usize, usize, usize),
        /// Forgets one held coin.
        Remove(usize),
        /// Forgets every coin an import claimed, as settling its claims does.
        DropClaims,
        /// Forgets the coins whose serial leaves this remainder by 3.
        Retain(u32),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let code = prop_oneof![6 => -3i8..=1, 1 => Just(11i8)];
        prop_oneof![
            6 => (code, 0u32..40, 0usize..6, 0usize..5).prop_map(|(c, s, f, h)| Op::Insert(c, s, f, h)),
            4 => (any::<u64>(), proptest::option::weighted(0.2, 1u64..30_000)).prop_map(|(m, a)| Op::Reserve(m, a)),
            1 => any::<usize>().prop_map(Op::Release),
            1 => any::<usize>().prop_map(Op::Forget),
            2 => (any::<usize>(), 0usize..6, 0usize..5).prop_map(|(i, f, h)| Op::Change(i, f, h)),
            1 => any::<usize>().prop_map(Op::Remove),
            1 => Just(Op::DropClaims),
            1 => (0u32..3).prop_map(Op::Retain),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// After any sequence of changes, the spendable set kept beside the coins is the one a
        /// walk over every coin finds, and the balance agrees with it.
        #[test]
        fn the_spendable_set_follows_every_change(ops in proptest::collection::vec(op(), 1..120)) {
            let task = TaskId::new();
            let folders = [Folder::Bank, Folder::Fracked, Folder::Limbo, Folder::Suspect, Folder::Bank, Folder::Fracked];
            let holds = [Hold::Free, Hold::Free, Hold::Reserved, Hold::Incoming(task), Hold::Blocked];
            let mut state = WalletState::default();
            let mut reservations: Vec<Vec<Held>> = Vec::new();
            for op in ops {
                match op {
                    Op::Insert(code, sn, f, h) => {
                        let c = coin(code, sn);
                        let file = coin_file_name(&c);
                        state.coins.insert(c.id(), Entry::new(folders[f], file, c, holds[h]));
                    }
                    Op::Reserve(mask, any) => {
                        let before = state.coins.recount();
                        let mut spendable: Vec<CoinId> = state.coins.iter().filter_map(|(id, e)| spendable_as(*id, e)).map(|c| c.id).collect();
                        spendable.sort();
                        let picked = spendable.iter().enumerate().filter(|(i, _)| mask & (1 << (i % 64)) != 0);
                        let value = picked.filter_map(|(_, id)| id.denomination.value()).try_fold(Amount::ZERO, Amount::checked_add).expect("small");
                        let amount = match any {
                            Some(thousandths) => Amount::from_units(thousandths * 100_000),
                            None if value.is_zero() => continue,
                            None => value,
                        };
                        match state.reserve_amount(amount, &SelectionPolicy::default()) {
                            Ok(ids) => {
                                let held = state.held(&ids).expect("reserved");
                                let expected: Vec<CoinId> = before.select(amount, &SelectionPolicy::default()).expect("the same choice").iter().map(|c| c.id).collect();
                                proptest::prop_assert_eq!(ids, expected);
                                proptest::prop_assert!(held.iter().all(|h| state.coins.get(&h.coin.id()).is_some_and(|e| e.hold == Hold::Reserved)));
                                reservations.push(held);
                            }
                            Err(e) => {
                                proptest::prop_assert_eq!(Err(e), before.select(amount, &SelectionPolicy::default()));
                            }
                        }
                    }
                    Op::Release(i) if !reservations.is_empty() => {
                        let held = reservations.swap_remove(i % reservations.len());
                        state.release(&held);
                    }
                    Op::Forget(i) if !reservations.is_empty() => {
                        let held = reservations.swap_remove(i % reservations.len());
                        state.remove(&held);
                    }
                    Op::Change(i, f, h) if !state.coins.is_empty() => {
                        let mut ids: Vec<CoinId> = state.coins.iter().map(|(id, _)| *id).collect();
                        ids.sort();
                        let id = ids[i % ids.len()];
                        state.coins.update(&id, |e| {
                            e.folder = folders[f];
                            e.hold = holds[h];
                        });
                    }
                    Op::Remove(i) if !state.coins.is_empty() => {
                        let mut ids: Vec<CoinId> = state.coins.iter().map(|(id, _)| *id).collect();
                        ids.sort();
                        state.coins.remove(&ids[i % ids.len()]);
                    }
                    Op::DropClaims => state.coins.retain(|_, e| e.hold != Hold::Incoming(task)),
                    Op::Retain(k) => state.coins.retain(|id, _| id.serial.get() % 3 != k),
                    _ => {}
                }
                let recount = state.coins.recount();
                proptest::prop_assert_eq!(state.coins.spendable(), &recount);
                proptest::prop_assert_eq!(state.balance(), (recount.balance(), recount.len()));
            }
        }
    }

    #[test]
    fn moving_coins_skips_files_already_moved_and_never_replaces() {
        let (_tmp, layout, name) = layout_with_wallet();
        let bank = layout.folder(&name, Folder::Bank);
        let sent = layout.folder(&name, Folder::Sent);
        put(&bank, "a.bin", &[coin(0, 1)]);
        put(&sent, "a.bin", &[coin(0, 9)]);
        let files = [(Folder::Bank, "a.bin".to_owned()), (Folder::Bank, "moved.bin".to_owned())];
        let missing =
            move_coins(&layout, &name, files.iter().cloned(), Folder::Sent, "test").expect("move");
        assert_eq!(missing, [1], "a missing file is reported, not taken for moved");
        assert!(!bank.join("a.bin").exists());
        assert!(sent.join("a (2).bin").exists());
        assert_eq!(read_single_coin(&sent.join("a.bin")).map(|c| c.serial.get()), Ok(9));
        let missing = move_coins(&layout, &name, files.iter().cloned(), Folder::Sent, "test")
            .expect("a second run moves nothing");
        assert_eq!(missing, [0, 1]);
        assert_eq!(fs::read_dir(&sent).expect("sent").count(), 2);
    }

    #[test]
    fn moving_into_a_vanished_folder_fails_and_leaves_the_coin() {
        let (_tmp, layout, name) = layout_with_wallet();
        let bank = layout.folder(&name, Folder::Bank);
        let trash = layout.folder(&name, Folder::Trash);
        put(&bank, "a.bin", &[coin(0, 1)]);
        put(&bank, "b.bin", &[coin(0, 2)]);
        fs::create_dir(trash.join("sub")).expect("mkdir");
        let files = [(Folder::Bank, "a.bin".to_owned()), (Folder::Bank, "b.bin".to_owned())];
        // Trash is opened, then removed: every rename into it fails with "not found".
        let dest = fs::File::open(&trash).expect("open");
        fs::remove_dir(trash.join("sub")).expect("rmdir");
        fs::remove_dir(&trash).expect("rmdir");
        let source = fs::File::open(&bank).expect("open");
        let e = move_one(&source, "a.bin", &dest).expect_err("the destination is gone");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(bank.join("a.bin").exists(), "the coin stays where it was");
        assert!(move_coins(&layout, &name, files.iter().cloned(), Folder::Trash, "test").is_err());
        assert!(bank.join("a.bin").exists() && bank.join("b.bin").exists());
        assert!(move_one(&source, "missing.bin", &dest).expect("gone is no error").is_none());
    }
}
