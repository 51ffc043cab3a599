//! The domain's error types, each `#[non_exhaustive]`: new checks add variants.

// `error` and `amount` use each other, and that circle is meant: `Amount`'s parser fails with
// an `AmountError`, and the selection errors carry the amounts they are about
// (`NotEnoughCoins { balance, requested }`). A type and its errors belong together; breaking the
// circle would only turn those amounts into text. It is why `.ci/run`'s module-cycles check
// leaves this crate out.
use crate::amount::Amount;

/// Why a text is not an acceptable amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// Not a decimal number at all.
    #[error("{0:?} is not a number; give a decimal such as 10.5")]
    NotANumber(String),
    /// Zero.
    #[error("the amount must be greater than zero")]
    Zero,
    /// Below zero.
    #[error("the amount must not be negative")]
    Negative,
    /// Finer than 0.00000001.
    #[error("the amount has more than 8 decimal places; the smallest unit is 0.00000001")]
    TooManyDecimals,
    /// Beyond what can be held.
    #[error("the amount is too large")]
    TooLarge,
}

/// Why a coin or coin field is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoinError {
    /// A denomination code outside -8..=6 where money is required.
    #[error("denomination code {code} is not money (money codes are -8 to 6)")]
    NotMoney {
        /// The code found.
        code: i8,
    },
    /// A POWN string of the wrong length.
    #[error("pown has {found} letters; it needs 25, one per RAIDA")]
    PownLength {
        /// Letters found.
        found: usize,
    },
    /// An unknown POWN letter.
    #[error("pown letter {letter:?} is not one of u p b n d e f")]
    PownLetter {
        /// The letter found.
        letter: char,
    },
}

/// Why no set of coins can be taken for a requested amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    /// The wallet holds less than requested.
    #[error("not enough coins: the balance is {balance}, {requested} was requested")]
    NotEnoughCoins {
        /// Value of every spendable coin.
        balance: Amount,
        /// The amount asked for.
        requested: Amount,
    },
    /// Enough value, but no subset sums exactly to the request.
    #[error(
        "no exact set of coins makes {requested} (the balance is {balance}){}{}",
        nearest_text("below", *below),
        nearest_text("above", *above)
    )]
    NoExactChange {
        /// The amount asked for.
        requested: Amount,
        /// Value of every spendable coin.
        balance: Amount,
        /// The largest exportable amount below the request, if any.
        below: Option<Amount>,
        /// The smallest exportable amount above the request, if any.
        above: Option<Amount>,
    },
    /// The exact set would need more coins than one file can hold.
    #[error(
        "the amount needs {needed} coins but one file holds at most {max}; export it in smaller parts"
    )]
    TooManyCoins {
        /// Coins the fewest-coin exact set needs.
        needed: usize,
        /// The per-file cap.
        max: usize,
    },
}

fn nearest_text(side: &str, amount: Option<Amount>) -> String {
    match amount {
        Some(a) => format!("; nearest {side}: {a}"),
        None => String::new(),
    }
}

/// Why a wallet name or tag is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Empty wallet name.
    #[error("the {what} must not be empty")]
    Empty {
        /// "wallet name" or "tag".
        what: &'static str,
    },
    /// Too long.
    #[error("the {what} is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// "wallet name" or "tag".
        what: &'static str,
        /// Characters found.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character that is not allowed.
    #[error("the {what} contains {}, which is not allowed; use {allowed}", shown(*.ch))]
    BadCharacter {
        /// "wallet name" or "tag".
        what: &'static str,
        /// The offending character.
        ch: char,
        /// A description of what is allowed.
        allowed: &'static str,
    },
    /// A wallet name starting with a dot.
    #[error("the wallet name must not start with '.'")]
    LeadingDot,
}

/// A character as a person reads it in a message: `«'»`, or its code point for a control
/// character (`U+000A`), never with Rust's escapes.
fn shown(ch: char) -> String {
    if ch.is_control() {
        format!("U+{:04X}", u32::from(ch))
    } else {
        format!("the character «{ch}»")
    }
}
