//! A wallet's spendable coins kept in spending order, so that selection never sorts the wallet.

use std::collections::BTreeSet;

use crate::amount::Amount;
use crate::coin::{CoinId, Denomination, SerialNumber};
use crate::error::SelectError;
use crate::select::{Candidate, Pocket, PocketOrder, SelectionPolicy, balance_of, plan};

/// How many money denominations there are (codes -8..=6).
const MONEY_DENOMINATIONS: usize =
    (Denomination::MAX_MONEY_CODE - Denomination::MIN_MONEY_CODE) as usize + 1;

/// The spendable coins of a wallet, by denomination, each pile kept in spending order (Bank
/// before Fracked, then by serial), for a caller that holds a wallet in memory and changes it one
/// coin at a time.
///
/// [`SpendableSet::select`] chooses exactly the coins [`crate::select_coins`] chooses from the
/// same candidates, in the same order, without sorting the wallet: the piles are kept sorted as
/// coins come and go, so a selection costs the coins it takes, not the coins the wallet holds.
/// It holds each coin id at most once, and only money coins ("the same candidates" means a list
/// that names each id once: [`crate::select_coins`] reads an id listed twice as one coin).
///
/// ```
/// use cloudcoin_domain::{
///     select_coins, Amount, Candidate, CoinId, Denomination, Pocket, SelectionPolicy,
///     SerialNumber, SpendableSet,
/// };
///
/// let coin = |code, serial, pocket| {
///     let id = CoinId {
///         denomination: Denomination::from_code(code),
///         serial: SerialNumber::new(serial),
///     };
///     Candidate::new(id, pocket)
/// };
/// let wallet =
///     [coin(0, 9, Pocket::Bank), coin(0, 3, Pocket::Fracked), coin(-1, 4, Pocket::Bank)];
/// let mut set: SpendableSet = wallet.iter().copied().collect();
/// assert_eq!(set.balance(), Amount::parse_request("2.1").unwrap());
///
/// let policy = SelectionPolicy::default();
/// let amount = Amount::parse_request("1.1").unwrap();
/// let chosen = set.select(amount, &policy).unwrap();
/// assert_eq!(chosen, [coin(0, 9, Pocket::Bank), coin(-1, 4, Pocket::Bank)]);
/// assert_eq!(chosen, select_coins(amount, &wallet, &policy).unwrap().to_owned_coins());
///
/// // A reserved coin leaves the set; the Fracked one is taken next.
/// assert_eq!(set.remove(chosen[0].id), Some(Pocket::Bank));
/// let one = Amount::parse_request("1").unwrap();
/// assert_eq!(set.select(one, &policy).unwrap(), [coin(0, 3, Pocket::Fracked)]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendableSet {
    /// One pile per money denomination, smallest first: (pocket, serial) in spending order.
    piles: [BTreeSet<(Pocket, SerialNumber)>; MONEY_DENOMINATIONS],
    /// Coins in every pile.
    len: usize,
}

impl SpendableSet {
    /// An empty set.
    pub fn new() -> SpendableSet {
        SpendableSet::default()
    }

    /// The pile of a money denomination.
    fn pile_index(d: Denomination) -> Option<usize> {
        if !d.is_money() {
            return None;
        }
        usize::try_from(i16::from(d.code()) - i16::from(Denomination::MIN_MONEY_CODE)).ok()
    }

    /// Adds a coin. Returns `false`, changing nothing, when its denomination is not money or the
    /// set already holds its id (in either pocket).
    pub fn insert(&mut self, coin: Candidate) -> bool {
        if self.pocket_of(coin.id).is_some() {
            return false;
        }
        let Some(i) = Self::pile_index(coin.id.denomination) else { return false };
        let added = self.piles[i].insert((coin.pocket, coin.id.serial));
        if added {
            self.len += 1;
        }
        added
    }

    /// Takes the coin `id` out of the set and says which pocket it was in, or `None` (changing
    /// nothing) when the set does not hold it.
    pub fn remove(&mut self, id: CoinId) -> Option<Pocket> {
        let i = Self::pile_index(id.denomination)?;
        let pocket = [Pocket::Bank, Pocket::Fracked]
            .into_iter()
            .find(|&pocket| self.piles[i].remove(&(pocket, id.serial)))?;
        self.len -= 1;
        Some(pocket)
    }

    /// The pocket the coin `id` is in, if the set holds it.
    pub fn pocket_of(&self, id: CoinId) -> Option<Pocket> {
        let pile = &self.piles[Self::pile_index(id.denomination)?];
        [Pocket::Bank, Pocket::Fracked].into_iter().find(|&p| pile.contains(&(p, id.serial)))
    }

    /// How many coins the set holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no coin.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many coins of denomination `d` the set holds (0 for a denomination that is not money).
    pub fn count(&self, d: Denomination) -> usize {
        Self::pile_index(d).map_or(0, |i| self.piles[i].len())
    }

    /// The value of every coin in the set (saturating at [`Amount::MAX`], as selection does).
    pub fn balance(&self) -> Amount {
        balance_of(&self.sizes())
    }

    /// The coins [`crate::select_coins`] would choose for `target` from this set's coins, in the
    /// same order (largest denomination first, then in spending order), or the same error. The
    /// set is not changed: remove the coins once they are taken.
    pub fn select(
        &self,
        target: Amount,
        policy: &SelectionPolicy,
    ) -> Result<Vec<Candidate>, SelectError> {
        match policy.pocket_order {
            // Each pile is kept in this order already.
            PocketOrder::BankFirst => {}
        }
        let counts = plan(target, &self.sizes(), policy)?;
        let needed = counts.iter().map(|&(_, n)| n).sum();
        let mut chosen = Vec::with_capacity(needed);
        for (denomination, n) in counts {
            let Some(i) = Self::pile_index(denomination) else { continue };
            chosen.extend(
                self.piles[i].iter().take(n).map(|&(pocket, serial)| {
                    Candidate::new(CoinId { denomination, serial }, pocket)
                }),
            );
        }
        Ok(chosen)
    }

    /// [`SpendableSet::select`], and the chosen coins leave the set (as when they are reserved):
    /// they are the first of their piles, so they are split off at once rather than removed one
    /// by one. On an error the set is not changed.
    ///
    /// ```
    /// use cloudcoin_domain::{
    ///     Amount, Candidate, CoinId, Denomination, Pocket, SelectionPolicy, SerialNumber,
    ///     SpendableSet,
    /// };
    ///
    /// let coin = |serial| {
    ///     let id = CoinId { denomination: Denomination::from_code(0), serial: SerialNumber::new(serial) };
    ///     Candidate::new(id, Pocket::Bank)
    /// };
    /// let mut set: SpendableSet = (1..=5).map(coin).collect();
    /// let policy = SelectionPolicy::default();
    /// let two = Amount::parse_request("2").unwrap();
    /// assert_eq!(set.take(two, &policy).unwrap(), [coin(1), coin(2)]);
    /// assert_eq!(set.len(), 3);
    /// assert!(set.take(Amount::parse_request("4").unwrap(), &policy).is_err());
    /// assert_eq!(set.take(two, &policy).unwrap(), [coin(3), coin(4)]);
    /// ```
    pub fn take(
        &mut self,
        target: Amount,
        policy: &SelectionPolicy,
    ) -> Result<Vec<Candidate>, SelectError> {
        let chosen = self.select(target, policy)?;
        let mut rest = chosen.as_slice();
        while let Some(first) = rest.first() {
            let denomination = first.id.denomination;
            let n = rest.iter().take_while(|c| c.id.denomination == denomination).count();
            let Some(i) = Self::pile_index(denomination) else { break };
            let pile = &mut self.piles[i];
            // The chosen coins of a denomination are the first `n` of its pile, in order.
            match pile.iter().nth(n).copied() {
                Some(kept) => *pile = pile.split_off(&kept),
                None => pile.clear(),
            }
            self.len -= n;
            rest = &rest[n..];
        }
        Ok(chosen)
    }

    /// The denomination and size of every pile.
    fn sizes(&self) -> Vec<(Denomination, usize)> {
        (Denomination::MIN_MONEY_CODE..=Denomination::MAX_MONEY_CODE)
            .map(Denomination::from_code)
            .zip(self.piles.iter().map(BTreeSet::len))
            .collect()
    }
}

/// The set of these coins, as [`SpendableSet::insert`] one after the other makes it (the first
/// of an id listed twice is kept), built a pile at a time: one sort per pile rather than one tree
/// insertion per coin.
impl FromIterator<Candidate> for SpendableSet {
    fn from_iter<I: IntoIterator<Item = Candidate>>(coins: I) -> SpendableSet {
        // Per pile: (serial, arrival, pocket), so that the first arrival of a serial is kept.
        let mut raw: [Vec<(SerialNumber, usize, Pocket)>; MONEY_DENOMINATIONS] = Default::default();
        for (arrival, coin) in coins.into_iter().enumerate() {
            if let Some(i) = Self::pile_index(coin.id.denomination) {
                raw[i].push((coin.id.serial, arrival, coin.pocket));
            }
        }
        let mut set = SpendableSet::new();
        for (pile, mut coins) in set.piles.iter_mut().zip(raw) {
            coins.sort_unstable();
            coins.dedup_by_key(|c| c.0);
            *pile = coins.into_iter().map(|(serial, _, pocket)| (pocket, serial)).collect();
            set.len += pile.len();
        }
        set
    }
}

impl Extend<Candidate> for SpendableSet {
    fn extend<I: IntoIterator<Item = Candidate>>(&mut self, coins: I) {
        for coin in coins {
            self.insert(coin);
        }
    }
}
