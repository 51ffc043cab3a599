//! The CloudCoin domain: coins, exact amounts, coin selection, wallet rules and file naming.
//!
//! Everything here is a pure function over values. The crate does no IO and knows nothing of
//! HTTP, async runtimes, zip or images; the codec, tasks and api crates build on it.
//!
//! ```
//! use cloudcoin_domain::{
//!     select_coins, Amount, Coin, Denomination, Pown, SelectionPolicy, SerialNumber, RAIDA_COUNT,
//! };
//!
//! let wallet: Vec<Coin> = [(1, 1), (-1, 2), (-1, 3), (-1, 4), (-1, 5), (-1, 6)]
//!     .into_iter()
//!     .map(|(code, sn)| {
//!         let (d, s) = (Denomination::from_code(code), SerialNumber::new(sn));
//!         Coin::new(d, s, [[0; 16]; RAIDA_COUNT], [Pown::Untried; RAIDA_COUNT])
//!     })
//!     .collect();
//! let amount = Amount::parse_request("10.5").unwrap();
//! let chosen = select_coins(amount, &wallet, &SelectionPolicy::default()).unwrap();
//! assert_eq!(chosen.coins.len(), 6);
//! ```
//!
//! The rules implemented here (denominations, amounts, selection, file names, wallet names) are
//! specified in the repository's
//! [`docs/SPEC.md`](https://github.com/cloudcoin-wallet/cloudcoin-server/blob/main/docs/SPEC.md),
//! §2–§5.
//!
//! # Features
//!
//! - `proptest`: the `strategies` module, `proptest` strategies for amounts, denominations,
//!   coins, coin sets with distinct ids and wallets with an amount they can pay.
//! - `arbitrary`: `arbitrary::Arbitrary` for [`Amount`], [`Denomination`], [`SerialNumber`],
//!   [`Pown`] and [`Coin`], for fuzz targets.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod amount;
#[cfg(feature = "arbitrary")]
mod arbitrary_impls;
mod coin;
mod error;
mod names;
mod select;
mod spendable;
#[cfg(feature = "proptest")]
#[cfg_attr(docsrs, doc(cfg(feature = "proptest")))]
pub mod strategies;

pub use amount::{Amount, FRACTION_DIGITS, UNITS_PER_COIN};
pub use coin::{
    AuthenticityNumber, CLOUDCOIN_ID, Coin, CoinId, Denomination, Pown, RAIDA_COUNT, SerialNumber,
    total_value,
};
pub use error::{AmountError, CoinError, NameError, SelectError};
pub use names::{
    FileKind, MAX_TAG_LEN, MAX_WALLET_NAME_LEN, Tag, WalletName, export_file_name,
    multi_coin_file_name, single_coin_file_name, unique_file_name,
};
pub use select::{
    Candidate, MAX_COINS_PER_FILE, Pocket, PocketOrder, Selection, SelectionPolicy, Spendable,
    select_coins, select_from_pockets,
};
pub use spendable::SpendableSet;
