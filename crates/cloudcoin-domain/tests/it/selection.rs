//! Selection invariants, checked against a brute-force oracle on small wallets.

use std::collections::HashSet;

use cloudcoin_domain::{
    Amount, Candidate, CoinId, Denomination, Pocket, SelectError, SelectionPolicy, SerialNumber,
    select_coins,
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

fn wallet_strategy() -> impl Strategy<Value = Vec<Candidate>> {
    prop::collection::vec((-3i8..=1, prop::bool::ANY), 0..12).prop_map(|coins| {
        coins
            .into_iter()
            .enumerate()
            .map(|(i, (code, fracked))| Candidate {
                id: CoinId {
                    denomination: Denomination::from_code(code),
                    serial: SerialNumber::new(u32::try_from(i).expect("small index")),
                },
                pocket: if fracked { Pocket::Fracked } else { Pocket::Bank },
            })
            .collect()
    })
}

fn value(c: &Candidate) -> u64 {
    c.id.denomination.value().expect("strategy makes money coins").units()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn selection_matches_the_oracle(wallet in wallet_strategy(), target_tenths in 1u64..400) {
        // Targets in steps of 0.001 so that small denominations matter.
        let target = Amount::from_units(target_tenths * 100_000);
        let values: Vec<u64> = wallet.iter().map(value).collect();
        let truth = oracle(&values, target.units());
        let balance: u64 = values.iter().sum();
        match select_coins(target, &wallet, &SelectionPolicy::default()) {
            Ok(selection) => {
                let ids: HashSet<CoinId> = selection.coins.iter().copied().collect();
                prop_assert_eq!(ids.len(), selection.coins.len(), "no coin twice");
                let by_id: std::collections::HashMap<CoinId, &Candidate> =
                    wallet.iter().map(|c| (c.id, c)).collect();
                let mut sum = 0;
                for id in &selection.coins {
                    let c = by_id.get(id).ok_or_else(|| TestCaseError::fail("coin not from the wallet"))?;
                    sum += value(c);
                }
                prop_assert_eq!(sum, target.units(), "sums exactly to the target");
                prop_assert_eq!(selection.total, target);
                prop_assert_eq!(Some(selection.coins.len()), truth.fewest, "fewest coins");
                // Bank before Fracked: a Fracked coin is taken only when every Bank coin of its
                // denomination is taken too.
                for id in &selection.coins {
                    if by_id[id].pocket == Pocket::Fracked {
                        let untaken_bank = wallet.iter().any(|c| {
                            c.id.denomination == id.denomination
                                && c.pocket == Pocket::Bank
                                && !ids.contains(&c.id)
                        });
                        prop_assert!(!untaken_bank, "a Bank coin was passed over for {id}");
                    }
                }
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
