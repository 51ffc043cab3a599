//! Exact-change coin selection (`docs/SPEC.md` §3).
//!
//! Every money denomination is ten times the next smaller one, so taking coins largest-first
//! finds an exact set whenever one exists, and that set has the fewest coins: if some exact set
//! used fewer coins of a denomination `d` than greedy takes, its smaller coins would sum to at
//! least `d`, and a chain of divisible denominations always holds a sub-multiset worth exactly
//! `d`, which one `d` coin can replace. The same argument makes the greedy walk give the nearest
//! exportable amounts on either side of an impossible request.

use std::collections::BTreeMap;

use crate::amount::Amount;
use crate::coin::{CoinId, Denomination};
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

/// A coin that selection may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// The coin.
    pub id: CoinId,
    /// Where it sits.
    pub pocket: Pocket,
}

/// How selection chooses among coins of the same denomination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectionPolicy {
    /// The largest number of coins one selection may hold.
    pub max_coins: usize,
    /// Which pocket is spent first within a denomination.
    pub pocket_order: PocketOrder,
}

/// Which pocket is spent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PocketOrder {
    /// Bank coins before Fracked coins (`docs/SPEC.md` §3).
    BankFirst,
}

impl Default for SelectionPolicy {
    fn default() -> Self {
        SelectionPolicy { max_coins: MAX_COINS_PER_FILE, pocket_order: PocketOrder::BankFirst }
    }
}

/// The coins chosen for an amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The chosen coins, largest denomination first.
    pub coins: Vec<CoinId>,
    /// Their total value, equal to the requested amount.
    pub total: Amount,
}

/// Chooses coins from `available` that sum exactly to `target`, with as few coins as possible,
/// Bank before Fracked. Coins whose denomination is not money are never chosen; a coin listed
/// twice is considered once.
pub fn select_coins(
    target: Amount,
    available: &[Candidate],
    policy: &SelectionPolicy,
) -> Result<Selection, SelectError> {
    let piles = Piles::new(available, policy.pocket_order);
    let balance = piles.balance();
    if target > balance {
        return Err(SelectError::NotEnoughCoins { balance, requested: target });
    }
    let plan = piles.greedy(target);
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
    let mut coins = Vec::with_capacity(needed);
    for (denomination, n) in plan.counts {
        coins.extend(piles.by_denomination[&denomination].iter().take(n).copied());
    }
    Ok(Selection { coins, total: target })
}

/// Spendable coins grouped by denomination, each pile in spending order.
struct Piles {
    by_denomination: BTreeMap<Denomination, Vec<CoinId>>,
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
    fn new(available: &[Candidate], order: PocketOrder) -> Piles {
        let mut sorted: Vec<&Candidate> =
            available.iter().filter(|c| c.id.denomination.is_money()).collect();
        match order {
            PocketOrder::BankFirst => sorted.sort_by_key(|c| (c.pocket, c.id.serial)),
        }
        let mut by_denomination: BTreeMap<Denomination, Vec<CoinId>> = BTreeMap::new();
        let mut seen = std::collections::HashSet::new();
        for c in sorted {
            if seen.insert(c.id) {
                by_denomination.entry(c.id.denomination).or_default().push(c.id);
            }
        }
        Piles { by_denomination }
    }

    fn value_of(d: Denomination) -> u64 {
        d.value().expect("piles hold only money denominations").units()
    }

    fn balance(&self) -> Amount {
        // 65,535 × 10^14 units per pile is far from u64 limits only for realistic wallets;
        // saturate rather than wrap for absurd ones (the request is then simply "not enough").
        let units = self.by_denomination.iter().fold(0u64, |acc, (d, pile)| {
            acc.saturating_add(Self::value_of(*d).saturating_mul(pile.len() as u64))
        });
        Amount::from_units(units)
    }

    fn greedy(&self, target: Amount) -> Plan {
        let mut remaining = target.units();
        let mut taken = 0u64;
        let mut counts = Vec::new();
        let mut smallest_above: Option<u64> = None;
        for (d, pile) in self.by_denomination.iter().rev() {
            let value = Self::value_of(*d);
            let have = pile.len() as u64;
            let n = have.min(remaining / value);
            if n < have {
                // Taking one more of this denomination overshoots: a candidate above.
                let above = taken.saturating_add((n + 1).saturating_mul(value));
                smallest_above = Some(smallest_above.map_or(above, |s| s.min(above)));
            }
            if n > 0 {
                counts.push((*d, usize::try_from(n).expect("n is at most a pile length")));
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
        assert_eq!(s.coins[0].denomination, Denomination::from_code(1));
    }

    #[test]
    fn bank_before_fracked() {
        let wallet =
            [cand(0, 1, Pocket::Fracked), cand(0, 2, Pocket::Bank), cand(0, 3, Pocket::Fracked)];
        let s = select_coins(amount("2"), &wallet, &SelectionPolicy::default()).expect("exact");
        assert_eq!(s.coins[0].serial, SerialNumber::new(2));
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
