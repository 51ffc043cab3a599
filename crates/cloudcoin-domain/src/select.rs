//! Exact-change coin selection (`docs/SPEC.md` §3).
//!
//! Every money denomination is ten times the next smaller one, so taking coins largest-first
//! finds an exact set whenever one exists, and that set has the fewest coins: if some exact set
//! used fewer coins of a denomination `d` than greedy takes, its smaller coins would sum to at
//! least `d`, and a chain of divisible denominations always holds a sub-multiset worth exactly
//! `d`, which one `d` coin can replace. The same argument makes the greedy walk give the nearest
//! exportable amounts on either side of an impossible request.

use std::collections::{BTreeMap, HashSet};

use crate::amount::Amount;
use crate::coin::{Coin, CoinId, Denomination};
use crate::error::SelectError;

/// Most coins one format-9 file can hold (its count field is 16 bits).
pub const MAX_COINS_PER_FILE: usize = 65_535;

/// Where a spendable coin sits in the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pocket {
    /// Authenticated coins.
    Bank,
    /// Coins some RAIDA disagreed on; spendable, but taken after Bank coins.
    Fracked,
}

/// Something selection can take: a coin's identity and the pocket it sits in.
///
/// Implemented for [`Coin`] (a coin on its own counts as a Bank coin), for [`Candidate`] (an id
/// and a pocket, for callers that keep coins elsewhere), for `(T, Pocket)` pairs such as
/// `(Coin, Pocket)` or `(&Coin, Pocket)` (the pair's pocket wins), and for references to any of
/// these.
pub trait Spendable {
    /// The coin's identity.
    fn coin_id(&self) -> CoinId;
    /// The pocket it is spent from.
    fn pocket(&self) -> Pocket;
}

impl Spendable for Coin {
    fn coin_id(&self) -> CoinId {
        self.id()
    }
    fn pocket(&self) -> Pocket {
        Pocket::Bank
    }
}

impl Spendable for Candidate {
    fn coin_id(&self) -> CoinId {
        self.id
    }
    fn pocket(&self) -> Pocket {
        self.pocket
    }
}

impl<T: Spendable> Spendable for (T, Pocket) {
    fn coin_id(&self) -> CoinId {
        self.0.coin_id()
    }
    fn pocket(&self) -> Pocket {
        self.1
    }
}

impl<T: Spendable + ?Sized> Spendable for &T {
    fn coin_id(&self) -> CoinId {
        (**self).coin_id()
    }
    fn pocket(&self) -> Pocket {
        (**self).pocket()
    }
}

/// A coin that selection may take, known by its identity and pocket only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// The coin.
    pub id: CoinId,
    /// Where it sits.
    pub pocket: Pocket,
}

impl Candidate {
    /// The coin `id`, sitting in `pocket`.
    pub const fn new(id: CoinId, pocket: Pocket) -> Candidate {
        Candidate { id, pocket }
    }
}

/// How selection chooses among coins.
///
/// `#[non_exhaustive]`: start from [`SelectionPolicy::default`] (at most
/// [`MAX_COINS_PER_FILE`] coins, Bank before Fracked) and change it with the `with_*` methods.
///
/// ```
/// use cloudcoin_domain::SelectionPolicy;
///
/// let policy = SelectionPolicy::default().with_max_coins(100);
/// assert_eq!(policy.max_coins, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SelectionPolicy {
    /// The largest number of coins one selection may hold.
    pub max_coins: usize,
    /// Which pocket is spent first within a denomination.
    pub pocket_order: PocketOrder,
}

impl SelectionPolicy {
    /// Sets [`SelectionPolicy::max_coins`].
    pub fn with_max_coins(mut self, max_coins: usize) -> SelectionPolicy {
        self.max_coins = max_coins;
        self
    }

    /// Sets [`SelectionPolicy::pocket_order`].
    pub fn with_pocket_order(mut self, pocket_order: PocketOrder) -> SelectionPolicy {
        self.pocket_order = pocket_order;
        self
    }
}

/// Which pocket is spent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PocketOrder {
    /// Bank coins before Fracked coins (`docs/SPEC.md` §3).
    BankFirst,
}

impl Default for SelectionPolicy {
    fn default() -> Self {
        SelectionPolicy { max_coins: MAX_COINS_PER_FILE, pocket_order: PocketOrder::BankFirst }
    }
}

/// The coins chosen for an amount: references into the slice selection was given.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selection<'a, T> {
    /// The chosen coins, largest denomination first, Bank before Fracked within one.
    pub coins: Vec<&'a T>,
    /// Their total value, equal to the requested amount.
    pub total: Amount,
}

impl<T> Clone for Selection<'_, T> {
    fn clone(&self) -> Self {
        Selection { coins: self.coins.clone(), total: self.total }
    }
}

impl<T: Spendable> Selection<'_, T> {
    /// The identities of the chosen coins, in the same order.
    pub fn ids(&self) -> Vec<CoinId> {
        self.coins.iter().map(|c| c.coin_id()).collect()
    }
}

impl<T: Clone> Selection<'_, T> {
    /// The chosen coins themselves, cloned out of the wallet.
    pub fn to_owned_coins(&self) -> Vec<T> {
        self.coins.iter().map(|&c| c.clone()).collect()
    }
}

/// Chooses coins from `available` that sum exactly to `target`, with as few coins as possible,
/// Bank before Fracked (see [`Spendable`] for what `available` may hold: coins, candidates or
/// `(coin, pocket)` pairs). Coins whose denomination is not money are never chosen; a coin listed
/// twice is considered once.
///
/// Fails with [`SelectError::NotEnoughCoins`] (saying the balance),
/// [`SelectError::NoExactChange`] (saying the nearest amounts that can be made) or
/// [`SelectError::TooManyCoins`].
///
/// ```
/// use cloudcoin_domain::{
///     select_coins, Amount, Coin, Denomination, Pown, SelectionPolicy, SerialNumber, RAIDA_COUNT,
/// };
///
/// let coin = |code, sn| {
///     let (d, s) = (Denomination::from_code(code), SerialNumber::new(sn));
///     Coin::new(d, s, [[0; 16]; RAIDA_COUNT], [Pown::Pass; RAIDA_COUNT])
/// };
/// let wallet: Vec<Coin> =
///     [(1, 1), (0, 2), (-1, 3), (-1, 4), (-1, 5), (-1, 6), (-1, 7)].map(|(d, s)| coin(d, s)).into();
/// let amount = Amount::parse_request("10.5").unwrap();
/// let chosen = select_coins(amount, &wallet, &SelectionPolicy::default()).unwrap();
/// assert_eq!(chosen.total, amount);
/// assert_eq!(chosen.coins.len(), 6); // 10 and five 0.1 coins
/// assert_eq!(chosen.coins[0].serial, SerialNumber::new(1));
///
/// let small = Amount::parse_request("0.05").unwrap();
/// let err = select_coins(small, &wallet, &SelectionPolicy::default()).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "no exact set of coins makes 0.05 (the balance is 11.5); nearest above: 0.1"
/// );
/// ```
pub fn select_coins<'a, T: Spendable>(
    target: Amount,
    available: &'a [T],
    policy: &SelectionPolicy,
) -> Result<Selection<'a, T>, SelectError> {
    let chosen = choose(target, available, policy)?;
    Ok(Selection { coins: chosen.into_iter().map(|i| &available[i]).collect(), total: target })
}

/// [`select_coins`] over a wallet kept as two lists of coins, its Bank and its Fracked pocket:
/// the chosen coins come from either, Bank first.
///
/// ```
/// use cloudcoin_domain::{
///     select_from_pockets, Amount, Coin, Denomination, Pown, SelectionPolicy, SerialNumber,
///     RAIDA_COUNT,
/// };
///
/// let coin = |sn| {
///     let (d, s) = (Denomination::from_code(0), SerialNumber::new(sn));
///     Coin::new(d, s, [[0; 16]; RAIDA_COUNT], [Pown::Pass; RAIDA_COUNT])
/// };
/// let (bank, fracked) = (vec![coin(7)], vec![coin(2), coin(3)]);
/// let two = Amount::parse_request("2").unwrap();
/// let chosen = select_from_pockets(two, &bank, &fracked, &SelectionPolicy::default()).unwrap();
/// let serials: Vec<u32> = chosen.coins.iter().map(|c| c.serial.get()).collect();
/// assert_eq!(serials, [7, 2]); // the Bank coin, then the lowest Fracked serial
/// ```
pub fn select_from_pockets<'a>(
    target: Amount,
    bank: &'a [Coin],
    fracked: &'a [Coin],
    policy: &SelectionPolicy,
) -> Result<Selection<'a, Coin>, SelectError> {
    let wallet: Vec<(&'a Coin, Pocket)> = bank
        .iter()
        .map(|c| (c, Pocket::Bank))
        .chain(fracked.iter().map(|c| (c, Pocket::Fracked)))
        .collect();
    let chosen = choose(target, &wallet, policy)?;
    Ok(Selection { coins: chosen.into_iter().map(|i| wallet[i].0).collect(), total: target })
}

/// The positions in `available` of the coins chosen for `target`.
fn choose<T: Spendable>(
    target: Amount,
    available: &[T],
    policy: &SelectionPolicy,
) -> Result<Vec<usize>, SelectError> {
    let piles = Piles::new(available, policy.pocket_order);
    let sizes: Vec<(Denomination, usize)> =
        piles.by_denomination.iter().map(|(d, pile)| (*d, pile.len())).collect();
    let counts = plan(target, &sizes, policy)?;
    let needed = counts.iter().map(|&(_, n)| n).sum();
    let mut chosen = Vec::with_capacity(needed);
    for (denomination, n) in counts {
        chosen.extend(piles.by_denomination[&denomination].iter().take(n).copied());
    }
    Ok(chosen)
}

/// How many coins of each denomination to take for `target` from piles of the given sizes
/// (money denominations, each at most once, in any order): largest denomination first, only
/// denominations taken from, or why no exact set exists. Shared by [`select_coins`] and
/// [`crate::SpendableSet::select`], so both decide alike.
pub(crate) fn plan(
    target: Amount,
    sizes: &[(Denomination, usize)],
    policy: &SelectionPolicy,
) -> Result<Vec<(Denomination, usize)>, SelectError> {
    let mut sizes: Vec<(Denomination, usize)> =
        sizes.iter().copied().filter(|&(d, n)| d.is_money() && n > 0).collect();
    sizes.sort_unstable_by_key(|&(d, _)| std::cmp::Reverse(d));
    let balance = balance_of(&sizes);
    if target > balance {
        return Err(SelectError::NotEnoughCoins { balance, requested: target });
    }
    let plan = greedy(&sizes, target);
    if plan.taken != target {
        return Err(SelectError::NoExactChange {
            requested: target,
            balance,
            below: Some(plan.taken).filter(|a| !a.is_zero()),
            above: plan.smallest_above,
        });
    }
    let needed: usize = plan.counts.iter().map(|&(_, n)| n).sum();
    if needed > policy.max_coins {
        return Err(SelectError::TooManyCoins { needed, max: policy.max_coins });
    }
    Ok(plan.counts)
}

/// The value of piles of these sizes (money denominations only).
pub(crate) fn balance_of(sizes: &[(Denomination, usize)]) -> Amount {
    // 65,535 × 10^14 units per pile is far from u64 limits only for realistic wallets;
    // saturate rather than wrap for absurd ones (the request is then simply "not enough").
    let units = sizes
        .iter()
        .fold(0u64, |acc, &(d, n)| acc.saturating_add(value_of(d).saturating_mul(n as u64)));
    Amount::from_units(units)
}

fn value_of(d: Denomination) -> u64 {
    d.value().map_or(0, Amount::units)
}

/// Spendable coins grouped by denomination, each pile (positions in the caller's slice) in
/// spending order.
struct Piles {
    by_denomination: BTreeMap<Denomination, Vec<usize>>,
}

/// The outcome of the greedy walk for one target.
struct Plan {
    /// How many coins of each denomination, largest first.
    counts: Vec<(Denomination, usize)>,
    /// The largest amount not above the target that can be made (the target itself if exact).
    taken: Amount,
    /// The smallest amount above the target that can be made, if any.
    smallest_above: Option<Amount>,
}

impl Piles {
    fn new<T: Spendable>(available: &[T], order: PocketOrder) -> Piles {
        let mut sorted: Vec<(usize, CoinId, Pocket)> = available
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.coin_id(), c.pocket()))
            .filter(|(_, id, _)| id.denomination.is_money())
            .collect();
        match order {
            PocketOrder::BankFirst => sorted.sort_by_key(|&(i, id, pocket)| (pocket, id.serial, i)),
        }
        let mut by_denomination: BTreeMap<Denomination, Vec<usize>> = BTreeMap::new();
        let mut seen = HashSet::new();
        for (i, id, _) in sorted {
            if seen.insert(id) {
                by_denomination.entry(id.denomination).or_default().push(i);
            }
        }
        Piles { by_denomination }
    }
}

/// The greedy walk over piles of money denominations, largest first.
fn greedy(sizes: &[(Denomination, usize)], target: Amount) -> Plan {
    let mut remaining = target.units();
    let mut taken = 0u64;
    let mut counts = Vec::new();
    let mut smallest_above: Option<u64> = None;
    for &(d, have) in sizes {
        let value = value_of(d);
        if value == 0 {
            continue;
        }
        let have = have as u64;
        let n = have.min(remaining / value);
        if n < have {
            // Taking one more of this denomination overshoots: a candidate above.
            let above = taken.saturating_add((n + 1).saturating_mul(value));
            smallest_above = Some(smallest_above.map_or(above, |s| s.min(above)));
        }
        if n > 0 {
            counts.push((d, usize::try_from(n).expect("n is at most a pile length")));
        }
        taken += n * value;
        remaining -= n * value;
    }
    Plan {
        counts,
        taken: Amount::from_units(taken),
        smallest_above: smallest_above.filter(|_| remaining != 0).map(Amount::from_units),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coin::SerialNumber;

    fn cand(code: i8, serial: u32, pocket: Pocket) -> Candidate {
        Candidate {
            id: CoinId {
                denomination: Denomination::from_code(code),
                serial: SerialNumber::new(serial),
            },
            pocket,
        }
    }

    fn amount(s: &str) -> Amount {
        s.parse().expect("valid amount")
    }

    #[test]
    fn takes_fewest_coins_largest_first() {
        let wallet: Vec<Candidate> = (0..20)
            .map(|i| cand(-1, i, Pocket::Bank))
            .chain((0..3).map(|i| cand(1, 100 + i, Pocket::Bank)))
            .chain((0..12).map(|i| cand(0, 200 + i, Pocket::Bank)))
            .collect();
        let s = select_coins(amount("10.5"), &wallet, &SelectionPolicy::default()).expect("exact");
        assert_eq!(s.coins.len(), 6);
        assert_eq!(s.total, amount("10.5"));
        assert_eq!(s.coins[0].id.denomination, Denomination::from_code(1));
    }

    fn coin(code: i8, serial: u32) -> Coin {
        Coin::new(
            Denomination::from_code(code),
            SerialNumber::new(serial),
            [[u8::try_from(serial % 256).expect("byte"); 16]; crate::coin::RAIDA_COUNT],
            [crate::coin::Pown::Pass; crate::coin::RAIDA_COUNT],
        )
    }

    #[test]
    fn coins_pairs_and_pockets_select_alike() {
        let bank = vec![coin(0, 5), coin(-1, 6)];
        let fracked = vec![coin(0, 1), coin(-1, 2)];
        let target = amount("1.1");
        // Bare coins count as Bank coins: the lower serial wins.
        let all: Vec<Coin> = fracked.iter().chain(&bank).cloned().collect();
        let by_serial = select_coins(target, &all, &SelectionPolicy::default()).expect("exact");
        assert_eq!(by_serial.to_owned_coins(), [coin(0, 1), coin(-1, 2)]);
        // With pockets, the Bank coins go first whatever their serials.
        let chosen =
            select_from_pockets(target, &bank, &fracked, &SelectionPolicy::default()).expect("ok");
        assert_eq!(chosen.to_owned_coins(), bank);
        let pairs: Vec<(&Coin, Pocket)> = fracked
            .iter()
            .map(|c| (c, Pocket::Fracked))
            .chain(bank.iter().map(|c| (c, Pocket::Bank)))
            .collect();
        let from_pairs = select_coins(target, &pairs, &SelectionPolicy::default()).expect("ok");
        assert_eq!(from_pairs.ids(), chosen.ids());
    }

    #[test]
    fn bank_before_fracked() {
        let wallet =
            [cand(0, 1, Pocket::Fracked), cand(0, 2, Pocket::Bank), cand(0, 3, Pocket::Fracked)];
        let s = select_coins(amount("2"), &wallet, &SelectionPolicy::default()).expect("exact");
        assert_eq!(s.coins[0].id.serial, SerialNumber::new(2));
        assert_eq!(s.coins.len(), 2);
    }

    #[test]
    fn reports_balance_and_nearest_amounts() {
        let wallet = [cand(1, 1, Pocket::Bank), cand(0, 2, Pocket::Bank), cand(0, 3, Pocket::Bank)];
        assert_eq!(
            select_coins(amount("13"), &wallet, &SelectionPolicy::default()),
            Err(SelectError::NotEnoughCoins { balance: amount("12"), requested: amount("13") })
        );
        assert_eq!(
            select_coins(amount("10.5"), &wallet, &SelectionPolicy::default()),
            Err(SelectError::NoExactChange {
                requested: amount("10.5"),
                balance: amount("12"),
                below: Some(amount("10")),
                above: Some(amount("11")),
            })
        );
        let err = select_coins(amount("0.5"), &wallet, &SelectionPolicy::default())
            .expect_err("no change");
        assert_eq!(
            err,
            SelectError::NoExactChange {
                requested: amount("0.5"),
                balance: amount("12"),
                below: None,
                above: Some(amount("1"))
            }
        );
        assert!(err.to_string().contains("nearest above: 1"), "{err}");
    }

    #[test]
    fn caps_coins_per_file() {
        let wallet: Vec<Candidate> = (0..10).map(|i| cand(-8, i, Pocket::Bank)).collect();
        let policy = SelectionPolicy { max_coins: 5, ..SelectionPolicy::default() };
        assert_eq!(
            select_coins(Amount::from_units(6), &wallet, &policy),
            Err(SelectError::TooManyCoins { needed: 6, max: 5 })
        );
    }

    #[test]
    fn ignores_coins_that_are_not_money_and_duplicates() {
        let wallet =
            [cand(11, 1, Pocket::Bank), cand(0, 1, Pocket::Bank), cand(0, 1, Pocket::Fracked)];
        assert_eq!(
            select_coins(amount("2"), &wallet, &SelectionPolicy::default()),
            Err(SelectError::NotEnoughCoins { balance: amount("1"), requested: amount("2") })
        );
    }
}
