//! The in-memory index of a wallet and its concurrency rules.
//!
//! At start-up each wallet's held folders are read into a [`WalletState`] (see
//! [`super::scan`]): coin id → folder, file name, coin, [`Hold`]. From then on a balance or a
//! selection never reads the disk; the pipelines keep the index in step with the files they
//! move. The index stores each coin once, shared (an export's reserved coins are the same
//! allocations, never copies), and a file name only when it is not the coin's conventional one
//! ([`FileName`]: almost never; the name is made again from the coin when needed).
//!
//! Beside the coins, [`Coins`] keeps the spendable ones (money, in `Bank` or `Fracked`, `Free`)
//! as the domain's `SpendableSet`: per denomination, in spending order (Bank before Fracked, then
//! by serial). Accepting an export therefore costs the coins it takes, not the coins the wallet
//! holds: the set chooses what `select_coins` would choose from the same coins, without sorting
//! the wallet, and the chosen coins, the first of their piles, are split off at once (a large
//! reservation then marks them `Reserved` in one pass over the map, a small one by lookups). The
//! request keeps only their ids; the task looks up their files ([`WalletState::held`]).
//!
//! # Rules, as types where they can be
//!
//! - **One way to change an entry.** [`Coins`]' map is private; every change goes through
//!   [`Coins::insert`], [`Coins::update`], [`Coins::remove_if`] or [`Coins::retain`], which keep
//!   the spendable set equal to what a walk over every coin would find (kept by
//!   `the_spendable_set_follows_every_change`, a property test).
//! - **One lock per wallet, never held across IO or an `.await`.** Each wallet's state sits
//!   behind its own `std::sync::Mutex`. Its guard is not `Send`, so the compiler refuses to hold
//!   it across an `.await` in a spawned task; not holding it across file IO is prose: take what
//!   the IO needs, drop the guard, do the IO, lock again to record what happened.
//! - **Selection and reservation are one critical section.** [`WalletState::reserve_amount`]
//!   chooses and marks the coins `Reserved` under one lock, so two operations never pick the same
//!   coin; a reserved coin has left the spendable set.
//! - **Reserved coins come back unless handed over.** [`Reserved`] owns an export's coins from
//!   the reservation until its task takes them ([`Reserved::hand_over`]); dropped before that — a
//!   refused request, a client that hung up — it makes them spendable again.
//! - **Nothing else changes a reserved coin.** A coin `Reserved` by an export stays where its
//!   entry says until that export removes it (moved to `Sent`) or releases it.
//! - **`Incoming` is not in the wallet.** An import claims a new coin as
//!   [`Hold::Incoming`]`(task)` before it writes the coin's file; the coin is counted as present
//!   only once it is `Free`, `Reserved` or `Blocked` (its file is published and synced). An
//!   import that meets another import's `Incoming` coin waits for it:
//!   [`WalletState::wait_for_claims`] takes the wallet's own guard (so the wait is always on the
//!   mutex that guards the claims), and [`WalletState::claims_settled`] wakes every waiter when
//!   an import settles its claims. Claims are taken all at once and only when none of the coins
//!   is busy, so two imports never wait for each other.
//! - **A deleted wallet is not stored into.** [`WalletState::deleted`] is set under the lock when
//!   the wallet is deleted; a task that holds the state checks it before it stores.
//! - **Coins leaving are not strays.** The files of a published export on their way to `Sent`
//!   are out of the index but listed in [`WalletState::leaving`], so another export's search for
//!   stray copies ([`super::set_aside_copies`]) leaves them alone.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use cloudcoin_domain::{
    Amount, Candidate, Coin, CoinId, Denomination, Pocket, SelectError, SelectionPolicy,
    SerialNumber, SpendableSet,
};

use super::layout::{Folder, coin_file_name, id_file_name};
use cloudcoin_wire::TaskId;

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
        // An empty name (a claim's, named when it is stored) is never the conventional one.
        if !name.is_empty() && name == coin_file_name(coin) {
            FileName(None)
        } else {
            FileName(Some(name.into()))
        }
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

    /// `coin`, shared with its holder (an import storing it), held in the file `file` of
    /// `folder`.
    pub(crate) fn shared(folder: Folder, file: String, coin: Arc<Coin>, hold: Hold) -> Entry {
        let file = FileName::of(&coin, file);
        Entry { coin, folder, hold, file }
    }

    /// `coin`, found by the scan in the file `file` of `folder`; `conventional` says whether
    /// `file` is the coin's conventional name (told by [`super::listing::Conventional`], which
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

    /// Holds `entry` as the coin `id` in the map alone, leaving the spendable set behind until
    /// [`Coins::reindex`]: for the start-up scan, which fills the map alone.
    pub(super) fn insert_unindexed(&mut self, id: CoinId, entry: Entry) -> Option<Entry> {
        self.map.insert(id, entry)
    }

    /// Forgets the coin `id` in the map alone (see [`Coins::insert_unindexed`]).
    pub(super) fn remove_unindexed(&mut self, id: &CoinId) -> Option<Entry> {
        self.map.remove(id)
    }

    /// The spendable set a walk over every coin finds (what [`Coins::spendable`] must equal).
    fn recount(&self) -> SpendableSet {
        self.map.iter().filter_map(|(id, e)| spendable_as(*id, e)).collect()
    }

    /// Builds the spendable set again from every coin, at once: for the start-up scan, which
    /// fills the map alone (one sort per pile rather than one tree insertion per coin).
    pub(super) fn reindex(&mut self) {
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
    /// Notified whenever an import settles its `Incoming` claims, so an import waiting for those
    /// coins looks again. Private: it is waited on only through [`WalletState::wait_for_claims`],
    /// with this state's own guard.
    settled: Arc<Condvar>,
    /// The files (folder, name) of coins in a published export, on their way to `Sent`: out of
    /// the index, but not strays — another export's scan for stray copies leaves them alone.
    pub(crate) leaving: HashSet<(Folder, Box<str>)>,
    /// The names that appeared in the held folders since the last look, when the folders are
    /// watched (see [`super::arrivals`]).
    pub(crate) arrivals: Option<Arc<Mutex<super::arrivals::Arrivals>>>,
}

impl WalletState {
    /// Waits until an import settles its `Incoming` claims in this wallet ([`WalletState::claims_settled`]),
    /// giving the lock up meanwhile, and returns the guard taken again: the wait is always on the
    /// mutex that guards the claims, since the guard is that mutex's. The caller looks again
    /// (a wake-up may be for other coins, or spurious).
    pub(crate) fn wait_for_claims(
        guard: MutexGuard<'_, WalletState>,
    ) -> MutexGuard<'_, WalletState> {
        let settled = Arc::clone(&guard.settled);
        settled.wait(guard).unwrap_or_else(|p| p.into_inner())
    }

    /// Wakes every import waiting in [`WalletState::wait_for_claims`]: called, under the lock, by
    /// an import that has settled its claims (stored coins `Free`, the others forgotten).
    pub(crate) fn claims_settled(&self) {
        self.settled.notify_all();
    }

    /// Chooses coins for `amount` among the spendable ones (`select_coins`'s choice) and marks
    /// them reserved; returns their ids, in the selection's order. Their files are looked up
    /// later ([`WalletState::held`]): nothing else changes a reserved coin. An export reserves
    /// through [`Reserved::choose`], whose guard gives the coins back if the request ends before
    /// its task owns them; the task, once it owns reserved coins, may choose again with this.
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

/// Coins reserved for an export whose task has not started yet. Dropped before
/// [`Reserved::hand_over`], it returns them to the wallet, so a refused or abandoned request
/// never leaves coins stuck as reserved.
#[derive(Debug)]
pub(crate) struct Reserved {
    state: Arc<Mutex<WalletState>>,
    ids: Option<Vec<CoinId>>,
}

impl Reserved {
    /// Chooses coins for `amount` among the spendable coins of the wallet `state` and marks them
    /// reserved, under one lock ([`WalletState::reserve_amount`]): the guard of those coins.
    pub(crate) fn choose(
        state: &Arc<Mutex<WalletState>>,
        amount: Amount,
        policy: &SelectionPolicy,
    ) -> Result<Reserved, SelectError> {
        let ids = state.lock().unwrap_or_else(|p| p.into_inner()).reserve_amount(amount, policy)?;
        Ok(Reserved { state: Arc::clone(state), ids: Some(ids) })
    }

    /// The reserved coins' ids, in the selection's order.
    pub(crate) fn ids(&self) -> &[CoinId] {
        self.ids.as_deref().expect("coins are present until handed over")
    }

    /// The coins, now owned by the task, which settles or releases them.
    pub(crate) fn hand_over(mut self) -> Vec<CoinId> {
        self.ids.take().expect("handed over once")
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if let Some(ids) = self.ids.take() {
            self.state.lock().unwrap_or_else(|p| p.into_inner()).release_ids(ids);
        }
    }
}

/// Which files the index knows, without a string per coin: the folder of each coin whose file
/// has the conventional name, and the few names that are not conventional.
pub(super) struct KnownFiles {
    conventional: HashMap<CoinId, Folder>,
    others: HashSet<(Folder, Box<str>)>,
    /// Which coin a conventional name names.
    names: ConventionalNames,
}

/// The coin a conventional file name names, without the index: the value part of a
/// conventional name for each denomination code.
pub(crate) struct ConventionalNames {
    values: HashMap<String, Denomination>,
}

impl ConventionalNames {
    pub(crate) fn new() -> ConventionalNames {
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
        ConventionalNames { values }
    }

    /// The coin whose conventional file name `name` is, if it is one.
    pub(crate) fn id_of(&self, name: &str) -> Option<CoinId> {
        let (value, serial) =
            name.strip_suffix(" ''.bin").and_then(|n| n.rsplit_once(" CloudCoin #"))?;
        let (Some(denomination), Ok(serial)) = (self.values.get(value), serial.parse::<u32>())
        else {
            return None;
        };
        let id = CoinId { denomination: *denomination, serial: SerialNumber::new(serial) };
        (id_file_name(id) == name).then_some(id)
    }
}

impl WalletState {
    /// Whether `name` in `folder` is the file the index holds for the coin `id` (read from the
    /// file, or from its conventional name).
    pub(super) fn holds_file(&self, id: CoinId, folder: Folder, name: &str) -> bool {
        self.coins.get(&id).is_some_and(|e| e.folder == folder && e.file.get(&e.coin) == name)
    }
}

impl KnownFiles {
    pub(super) fn of(state: &WalletState) -> KnownFiles {
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
        KnownFiles { conventional, others, names: ConventionalNames::new() }
    }

    /// Whether `name` in `folder` is the file of a coin the index holds: `None` if not, else the
    /// coin when the name is its conventional one (`Some(None)` for a name given by hand).
    pub(super) fn which(&self, folder: Folder, name: &str) -> Option<Option<CoinId>> {
        if self.others.contains(&(folder, Box::from(name))) {
            return Some(None);
        }
        // A conventional name says which coin it would be; it is that coin's file only if the
        // index has the coin in this folder under exactly this name.
        let id = self.names.id_of(name)?;
        (self.conventional.get(&id) == Some(&folder)).then_some(Some(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::coin;
    use crate::store::fixtures::{layout_with_wallet, put};
    use crate::store::scan_wallet;

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

    /// The guard of an export's reserved coins gives them back when dropped before its task owns
    /// them, and not after.
    #[test]
    fn reserved_coins_come_back_unless_handed_over() {
        let state = Arc::new(Mutex::new(WalletState::default()));
        for sn in [1, 2] {
            let c = coin(0, sn);
            let file = coin_file_name(&c);
            let entry = Entry::new(Folder::Bank, file, c.clone(), Hold::Free);
            state.lock().expect("lock").coins.insert(c.id(), entry);
        }
        let one = Amount::parse_request("1").expect("amount");
        let policy = SelectionPolicy::default();
        let balance = |s: &Arc<Mutex<WalletState>>| s.lock().expect("lock").balance().1;
        let reserved = Reserved::choose(&state, one, &policy).expect("reserved");
        assert_eq!((reserved.ids().len(), balance(&state)), (1, 1));
        drop(reserved);
        assert_eq!(balance(&state), 2, "a dropped reservation gives the coin back");
        let ids = Reserved::choose(&state, one, &policy).expect("reserved").hand_over();
        assert_eq!((ids.len(), balance(&state)), (1, 1), "handed over, the coin stays reserved");
        let too_much = Amount::parse_request("5").expect("amount");
        assert!(Reserved::choose(&state, too_much, &policy).is_err());
        assert_eq!(balance(&state), 1, "a refused choice reserves nothing");
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
}
