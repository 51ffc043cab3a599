//! Selection invariants, checked against a brute-force oracle on small wallets.

use std::collections::{HashMap, HashSet};

use cloudcoin_domain::strategies::{self, Pans};
use cloudcoin_domain::{
    Amount, Candidate, Coin, CoinId, Denomination, Pocket, SelectError, SelectionPolicy,
    SerialNumber, SpendableSet, select_coins, select_from_pockets,
};
use proptest::prelude::*;

/// What exhaustive search says about a wallet and a target.
struct Oracle {
    /// Fewest coins of an exact subset, if one exists.
    fewest: Option<usize>,
    /// Largest subset sum strictly below the target.
    below: Option<u64>,
    /// Smallest subset sum strictly above the target.
    above: Option<u64>,
}

fn oracle(values: &[u64], target: u64) -> Oracle {
    let mut out = Oracle { fewest: None, below: None, above: None };
    for mask in 0u32..(1 << values.len()) {
        let (sum, count) = values
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .fold((0u64, 0usize), |(s, c), (_, v)| (s + v, c + 1));
        if sum == target {
            out.fewest = Some(out.fewest.map_or(count, |f| f.min(count)));
        } else if sum < target && sum > 0 {
            out.below = Some(out.below.map_or(sum, |b| b.max(sum)));
        } else if sum > target {
            out.above = Some(out.above.map_or(sum, |a| a.min(sum)));
        }
    }
    out
}

/// Up to 11 coins of five adjacent denominations (few enough for the brute-force oracle), each
/// with its pocket.
fn small_wallet() -> impl Strategy<Value = Vec<(Coin, Pocket)>> {
    let denominations = (-3i8..=1).prop_map(Denomination::from_code);
    strategies::coins_with(denominations, Pans::Sometimes, 0..12).prop_flat_map(|coins| {
        let n = coins.len();
        (Just(coins), prop::collection::vec(prop::bool::weighted(0.3), n)).prop_map(
            |(coins, fracked)| {
                let pocket = |f: bool| if f { Pocket::Fracked } else { Pocket::Bank };
                coins.into_iter().zip(fracked).map(|(c, f)| (c, pocket(f))).collect()
            },
        )
    })
}

fn value(c: &Coin) -> u64 {
    c.value().expect("strategy makes money coins").units()
}

/// Checks a successful selection from `wallet`: every chosen coin is in the wallet, none twice,
/// they sum to `target`, and a Fracked coin is taken only when every Bank coin of its
/// denomination is taken too.
fn check_chosen(
    wallet: &[(Coin, Pocket)],
    chosen: &[CoinId],
    target: Amount,
) -> Result<(), TestCaseError> {
    let ids: HashSet<CoinId> = chosen.iter().copied().collect();
    prop_assert_eq!(ids.len(), chosen.len(), "no coin twice");
    let by_id: HashMap<CoinId, &(Coin, Pocket)> = wallet.iter().map(|w| (w.0.id(), w)).collect();
    let mut sum = 0;
    for id in chosen {
        let (c, _) =
            by_id.get(id).ok_or_else(|| TestCaseError::fail("coin not from the wallet"))?;
        sum += value(c);
    }
    prop_assert_eq!(sum, target.units(), "sums exactly to the target");
    for id in chosen {
        if by_id[id].1 == Pocket::Fracked {
            let untaken_bank = wallet.iter().any(|(c, pocket)| {
                c.denomination == id.denomination
                    && *pocket == Pocket::Bank
                    && !ids.contains(&c.id())
            });
            prop_assert!(!untaken_bank, "a Bank coin was passed over for {}", id);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn selection_matches_the_oracle(wallet in small_wallet(), target_tenths in 1u64..400) {
        // Targets in steps of 0.001 so that small denominations matter.
        let target = Amount::from_units(target_tenths * 100_000);
        let values: Vec<u64> = wallet.iter().map(|(c, _)| value(c)).collect();
        let truth = oracle(&values, target.units());
        let balance: u64 = values.iter().sum();
        match select_coins(target, &wallet, &SelectionPolicy::default()) {
            Ok(selection) => {
                prop_assert_eq!(selection.total, target);
                check_chosen(&wallet, &selection.ids(), target)?;
                prop_assert_eq!(Some(selection.coins.len()), truth.fewest, "fewest coins");
            }
            Err(SelectError::NotEnoughCoins { balance: b, requested }) => {
                prop_assert_eq!(b.units(), balance);
                prop_assert_eq!(requested, target);
                prop_assert!(target.units() > balance);
            }
            Err(SelectError::NoExactChange { requested, balance: b, below, above }) => {
                prop_assert_eq!(requested, target);
                prop_assert_eq!(b.units(), balance);
                prop_assert_eq!(truth.fewest, None, "an exact subset exists but was not found");
                prop_assert_eq!(below.map(Amount::units), truth.below);
                prop_assert_eq!(above.map(Amount::units), truth.above);
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Over the exported wallet strategy: the amount it comes with is always paid exactly, from
    /// the wallet's own coins, Bank first, and the pockets entry point agrees with the pairs one.
    #[test]
    fn a_wallet_pays_the_amount_it_can_make(w in strategies::wallet()) {
        let chosen = select_from_pockets(w.amount, &w.bank, &w.fracked, &SelectionPolicy::default())
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let pairs: Vec<(Coin, Pocket)> = w.bank.iter().map(|c| (c.clone(), Pocket::Bank))
            .chain(w.fracked.iter().map(|c| (c.clone(), Pocket::Fracked)))
            .collect();
        check_chosen(&pairs, &chosen.ids(), w.amount)?;
        let again = select_coins(w.amount, &pairs, &SelectionPolicy::default())
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(again.ids(), chosen.ids());
    }
}

/// Candidates with distinct ids over every money code and a few that are not money, serials from
/// a small range (so denominations share serials and piles interleave pockets), each in a pocket.
fn candidates() -> impl Strategy<Value = Vec<Candidate>> {
    let code = prop_oneof![9 => -8i8..=6, 1 => Just(11i8)];
    let pocket = prop_oneof![3 => Just(Pocket::Bank), 1 => Just(Pocket::Fracked)];
    prop::collection::vec((code, 0u32..400, pocket), 0..300).prop_map(|raw| {
        let mut seen = HashSet::new();
        raw.into_iter()
            .map(|(code, serial, pocket)| {
                let denomination = Denomination::from_code(code);
                Candidate::new(CoinId { denomination, serial: SerialNumber::new(serial) }, pocket)
            })
            .filter(|c| seen.insert(c.id))
            .collect()
    })
}

/// A target a wallet of [`candidates`] can often, but not always, make: a few digits at one of
/// the scales its coins have.
fn target() -> impl Strategy<Value = Amount> {
    (1u64..5000, 0u32..=12)
        .prop_map(|(digits, scale)| Amount::from_units(digits * 10u64.pow(scale)))
}

/// Checks that the set chooses exactly what `select_coins` chooses from `wallet`, or fails alike.
fn same_choice(
    set: &SpendableSet,
    wallet: &[Candidate],
    target: Amount,
    policy: &SelectionPolicy,
) -> Result<(), TestCaseError> {
    let from_set = set.select(target, policy);
    let from_slice = select_coins(target, wallet, policy).map(|s| s.to_owned_coins());
    prop_assert_eq!(&from_set, &from_slice);
    // Taking chooses the same and leaves the set without exactly those coins.
    let mut after = set.clone();
    prop_assert_eq!(after.take(target, policy), from_set.clone());
    let taken: HashSet<CoinId> = from_set.iter().flatten().map(|c| c.id).collect();
    let left: SpendableSet = wallet.iter().copied().filter(|c| !taken.contains(&c.id)).collect();
    prop_assert_eq!(after, left);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// The kept-sorted set chooses the same coins, in the same order, as a selection over the
    /// same candidates, and fails with the same error; still after coins leave and come back.
    #[test]
    fn the_spendable_set_chooses_as_select_coins(
        wallet in candidates(),
        targets in prop::collection::vec(target(), 1..4),
        max_coins in prop_oneof![3 => Just(cloudcoin_domain::MAX_COINS_PER_FILE), 1 => 1usize..40],
        removed in prop::collection::vec(any::<prop::sample::Index>(), 0..60),
    ) {
        let policy = SelectionPolicy::default().with_max_coins(max_coins);
        let mut set: SpendableSet = wallet.iter().copied().collect();
        let money: Vec<&Candidate> =
            wallet.iter().filter(|c| c.id.denomination.is_money()).collect();
        prop_assert_eq!(set.len(), money.len());
        let total = money.iter().try_fold(Amount::ZERO, |t, c| t.checked_add(c.id.denomination.value()?));
        prop_assert_eq!(Some(set.balance()), total);
        for &t in &targets {
            same_choice(&set, &wallet, t, &policy)?;
        }
        // Take some coins out (as a reservation does), choose again, then put them back.
        let mut left = wallet.clone();
        let mut out = Vec::new();
        for index in &removed {
            if left.is_empty() {
                break;
            }
            let c = left.remove(index.index(left.len()));
            let pocket = set.remove(c.id);
            prop_assert_eq!(pocket, c.id.denomination.is_money().then_some(c.pocket));
            prop_assert_eq!(set.remove(c.id), None, "removed once");
            out.push(c);
        }
        prop_assert_eq!(&set, &left.iter().copied().collect::<SpendableSet>());
        for &t in &targets {
            same_choice(&set, &left, t, &policy)?;
        }
        for c in &out {
            prop_assert_eq!(set.insert(*c), c.id.denomination.is_money());
            prop_assert!(!set.insert(Candidate::new(c.id, Pocket::Bank)), "an id is held once");
        }
        prop_assert_eq!(&set, &wallet.iter().copied().collect::<SpendableSet>());
    }
}

proptest! {
    /// Collecting a list (ids listed twice, coins that are not money) makes the set that inserting
    /// its coins one after the other makes.
    #[test]
    fn collecting_is_inserting_one_by_one(
        raw in prop::collection::vec((-9i8..=7, 0u32..20, any::<bool>()), 0..200),
    ) {
        let coins: Vec<Candidate> = raw
            .into_iter()
            .map(|(code, serial, fracked)| {
                let denomination = Denomination::from_code(code);
                let pocket = if fracked { Pocket::Fracked } else { Pocket::Bank };
                Candidate::new(CoinId { denomination, serial: SerialNumber::new(serial) }, pocket)
            })
            .collect();
        let mut one_by_one = SpendableSet::new();
        for c in &coins {
            one_by_one.insert(*c);
        }
        let collected: SpendableSet = coins.iter().copied().collect();
        prop_assert_eq!(collected.len(), one_by_one.len());
        prop_assert_eq!(collected, one_by_one);
    }
}
