//! [`proptest`](mod@proptest) strategies for property tests over CloudCoin values (feature
//! `proptest`).
//!
//! Every strategy shrinks towards simple values (small amounts, low serials, zero ANs, untried
//! POWN, no PANs), so a failing case is reported small.
//!
//! ```
//! use cloudcoin_domain::strategies;
//! use cloudcoin_domain::{select_from_pockets, SelectionPolicy};
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//!
//! // Any wallet the strategy makes can pay the amount it comes with.
//! TestRunner::default()
//!     .run(&strategies::wallet(), |w| {
//!         let chosen = select_from_pockets(w.amount, &w.bank, &w.fracked, &SelectionPolicy::default())
//!             .expect("the amount can be made");
//!         prop_assert_eq!(chosen.total, w.amount);
//!         Ok(())
//!     })
//!     .unwrap();
//! ```

use proptest::collection::{SizeRange, hash_set, vec};
use proptest::prelude::*;

use crate::amount::Amount;
use crate::coin::{AuthenticityNumber, Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};

/// Any non-zero amount: mostly amounts a person would ask for (a few significant digits at any
/// scale from 0.00000001 to millions), sometimes any number of units up to [`Amount::MAX`].
pub fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        3 => (1u64..10_000, 0u32..=14).prop_map(|(digits, scale)| {
            Amount::from_units(digits * 10u64.pow(scale))
        }),
        1 => (1u64..=u64::MAX).prop_map(Amount::from_units),
    ]
}

/// A money denomination (codes -8 to 6), shrinking towards 0.00000001.
pub fn denomination() -> impl Strategy<Value = Denomination> {
    (Denomination::MIN_MONEY_CODE..=Denomination::MAX_MONEY_CODE).prop_map(Denomination::from_code)
}

/// Any denomination code, money or not (such as 11, "key" coins), for readers and writers that
/// must keep every code as it is.
pub fn any_denomination() -> impl Strategy<Value = Denomination> {
    any::<i8>().prop_map(Denomination::from_code)
}

/// Any serial number.
pub fn serial_number() -> impl Strategy<Value = SerialNumber> {
    any::<u32>().prop_map(SerialNumber::new)
}

/// Any POWN status.
pub fn pown() -> impl Strategy<Value = Pown> {
    proptest::sample::select(Pown::ALL.to_vec())
}

/// Whether generated coins carry PANs (proposed authenticity numbers, see [`Coin::pans`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pans {
    /// No coin has PANs (for formats that cannot carry them, such as a stack).
    Never,
    /// About one coin in four has PANs.
    Sometimes,
    /// Every coin has PANs.
    Always,
}

/// A money coin: any serial, ANs and POWN, PANs about one time in four.
pub fn coin() -> impl Strategy<Value = Coin> {
    coin_with(denomination(), Pans::Sometimes)
}

/// A coin of a denomination from `denominations`, with PANs as `pans` says.
pub fn coin_with(
    denominations: impl Strategy<Value = Denomination>,
    pans: Pans,
) -> impl Strategy<Value = Coin> {
    (denominations, serial_number(), coin_body(pans)).prop_map(|(d, s, body)| body.into_coin(d, s))
}

/// Money coins with distinct identities (denomination and serial number), as many as `size`
/// says, PANs about one coin in four.
///
/// ```
/// use cloudcoin_domain::strategies;
/// use proptest::strategy::{Strategy, ValueTree};
/// use proptest::test_runner::TestRunner;
///
/// let coins = strategies::coins(3..10).new_tree(&mut TestRunner::default()).unwrap().current();
/// assert!((3..10).contains(&coins.len()));
/// let ids: std::collections::HashSet<_> = coins.iter().map(|c| c.id()).collect();
/// assert_eq!(ids.len(), coins.len());
/// ```
pub fn coins(size: impl Into<SizeRange>) -> impl Strategy<Value = Vec<Coin>> {
    coins_with(denomination(), Pans::Sometimes, size)
}

/// Coins with distinct identities whose denominations come from `denominations`, with PANs as
/// `pans` says. `denominations` must offer enough distinct values with the serial numbers to fill
/// `size` (any strategy of this module does).
pub fn coins_with(
    denominations: impl Strategy<Value = Denomination>,
    pans: Pans,
    size: impl Into<SizeRange>,
) -> impl Strategy<Value = Vec<Coin>> {
    hash_set((denominations, serial_number()), size).prop_flat_map(move |ids| {
        let ids: Vec<(Denomination, SerialNumber)> = ids.into_iter().collect();
        let n = ids.len();
        (Just(ids), vec(coin_body(pans), n)).prop_map(|(ids, bodies)| {
            ids.into_iter().zip(bodies).map(|((d, s), body)| body.into_coin(d, s)).collect()
        })
    })
}

/// A wallet and an amount it can pay exactly: what [`wallet`] generates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalletSample {
    /// The Bank coins.
    pub bank: Vec<Coin>,
    /// The Fracked coins.
    pub fracked: Vec<Coin>,
    /// The value of some non-empty subset of the coins: an exact set for it exists.
    pub amount: Amount,
}

impl WalletSample {
    /// The value of every coin, Bank and Fracked.
    pub fn balance(&self) -> Amount {
        crate::coin::total_value(self.bank.iter().chain(&self.fracked))
            .expect("a sample wallet's value fits in an amount")
    }
}

/// A wallet of 1 to 40 money coins with distinct identities, spread over up to four adjacent
/// denominations (so that selection has to combine them), about a quarter of them Fracked, and
/// an exact amount that some subset of them makes.
pub fn wallet() -> impl Strategy<Value = WalletSample> {
    let lowest = Denomination::MIN_MONEY_CODE;
    let highest = Denomination::MAX_MONEY_CODE;
    (lowest..=highest, 1i8..=4)
        .prop_flat_map(move |(top, width)| {
            let bottom = (top - width + 1).max(lowest);
            let denominations = (bottom..=top).prop_map(Denomination::from_code);
            coins_with(denominations, Pans::Sometimes, 1..=40).prop_flat_map(|coins| {
                let n = coins.len();
                (Just(coins), vec(proptest::bool::weighted(0.25), n), vec(any::<bool>(), n))
            })
        })
        .prop_map(|(coins, fracked_flags, in_subset)| {
            let mut amount = Amount::ZERO;
            for (i, coin) in coins.iter().enumerate() {
                // The subset is never empty: the first coin joins it when no other does.
                if in_subset[i] || (i == 0 && !in_subset.contains(&true)) {
                    let value = coin.value().expect("the wallet strategy makes money coins");
                    amount = amount.checked_add(value).expect("40 coins fit in an amount");
                }
            }
            let (mut bank, mut fracked) = (Vec::new(), Vec::new());
            for (coin, is_fracked) in coins.into_iter().zip(fracked_flags) {
                if is_fracked { fracked.push(coin) } else { bank.push(coin) }
            }
            WalletSample { bank, fracked, amount }
        })
}

/// What a coin holds besides its identity.
#[derive(Debug, Clone)]
struct CoinBody {
    ans: [AuthenticityNumber; RAIDA_COUNT],
    pown: [Pown; RAIDA_COUNT],
    pans: Option<[AuthenticityNumber; RAIDA_COUNT]>,
}

impl CoinBody {
    fn into_coin(self, denomination: Denomination, serial: SerialNumber) -> Coin {
        let coin = Coin::new(denomination, serial, self.ans, self.pown);
        match self.pans {
            Some(pans) => coin.with_pans(pans),
            None => coin,
        }
    }
}

fn authenticity_numbers() -> impl Strategy<Value = [AuthenticityNumber; RAIDA_COUNT]> {
    proptest::array::uniform25(proptest::array::uniform16(any::<u8>()))
}

fn coin_body(pans: Pans) -> impl Strategy<Value = CoinBody> {
    let pans = match pans {
        Pans::Never => Just(None).boxed(),
        Pans::Sometimes => proptest::option::weighted(0.25, authenticity_numbers()).boxed(),
        Pans::Always => authenticity_numbers().prop_map(Some).boxed(),
    };
    (authenticity_numbers(), proptest::array::uniform25(pown()), pans)
        .prop_map(|(ans, pown, pans)| CoinBody { ans, pown, pans })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    use super::*;

    proptest! {
        #[test]
        fn coins_have_distinct_ids_and_the_size_asked(coins in coins(5..20)) {
            prop_assert!((5..20).contains(&coins.len()));
            let ids: HashSet<_> = coins.iter().map(Coin::id).collect();
            prop_assert_eq!(ids.len(), coins.len());
            prop_assert!(coins.iter().all(|c| c.denomination.is_money()));
        }

        #[test]
        fn the_wallet_amount_is_positive_and_within_the_balance(w in wallet()) {
            prop_assert!(!w.amount.is_zero());
            prop_assert!(w.amount <= w.balance());
            prop_assert!(!w.bank.is_empty() || !w.fracked.is_empty());
            let codes: HashSet<i8> =
                w.bank.iter().chain(&w.fracked).map(|c| c.denomination.code()).collect();
            let (lo, hi) = (codes.iter().min().copied(), codes.iter().max().copied());
            prop_assert!(hi.zip(lo).is_some_and(|(h, l)| h - l < 4), "{codes:?}");
        }

        #[test]
        fn amounts_are_never_zero(a in amount()) {
            prop_assert!(!a.is_zero());
        }
    }

    #[test]
    fn pans_follow_the_choice() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let sample = |pans: Pans, runner: &mut proptest::test_runner::TestRunner| {
            coins_with(denomination(), pans, 64..=64).new_tree(runner).expect("a value").current()
        };
        assert!(sample(Pans::Never, &mut runner).iter().all(|c| c.pans().is_none()));
        assert!(sample(Pans::Always, &mut runner).iter().all(|c| c.pans().is_some()));
        let some = sample(Pans::Sometimes, &mut runner);
        let with = some.iter().filter(|c| c.pans().is_some()).count();
        assert!(with > 0 && with < some.len(), "{with} of {}", some.len());
    }
}
