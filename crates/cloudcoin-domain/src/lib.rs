//! The CloudCoin domain: coins, exact amounts, coin selection, wallet rules and file naming.
//!
//! Everything here is a pure function over values. The crate does no IO and knows nothing of
//! HTTP, async runtimes, zip or images; the codec, tasks and api crates build on it.
//!
//! ```
//! use cloudcoin_domain::{
//!     select_coins, Amount, Candidate, CoinId, Denomination, Pocket, SelectionPolicy, SerialNumber,
//! };
//!
//! let wallet: Vec<Candidate> = [(1, 1), (-1, 2), (-1, 3), (-1, 4), (-1, 5), (-1, 6)]
//!     .into_iter()
//!     .map(|(code, sn)| Candidate {
//!         id: CoinId { denomination: Denomination::from_code(code), serial: SerialNumber::new(sn) },
//!         pocket: Pocket::Bank,
//!     })
//!     .collect();
//! let amount = Amount::parse_request("10.5").unwrap();
//! let chosen = select_coins(amount, &wallet, &SelectionPolicy::default()).unwrap();
//! assert_eq!(chosen.coins.len(), 6);
//! ```

mod amount;
mod coin;
mod error;
mod names;
mod select;

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
    Candidate, MAX_COINS_PER_FILE, Pocket, PocketOrder, Selection, SelectionPolicy, select_coins,
};
