//! The coin model: denominations, serial numbers, authenticity numbers and POWN statuses.

use std::fmt;

use crate::amount::Amount;
use crate::error::CoinError;

/// Number of RAIDA servers, and so of authenticity numbers per coin.
pub const RAIDA_COUNT: usize = 25;

/// The CloudCoin coin id carried in files (`nn`).
pub const CLOUDCOIN_ID: u16 = 6;

/// A denomination code: the coin is worth 10^code. Codes -8..=6 are money; any other code
/// (for example 11, "key" coins) is kept as it is but never counted, spent or exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Denomination(i8);

impl Denomination {
    /// The smallest money code (0.00000001).
    pub const MIN_MONEY_CODE: i8 = -8;
    /// The largest money code (1,000,000).
    pub const MAX_MONEY_CODE: i8 = 6;

    /// The denomination with this code, money or not.
    pub const fn from_code(code: i8) -> Denomination {
        Denomination(code)
    }

    /// The money denomination with this code, or an error for codes that are not money.
    pub fn money(code: i8) -> Result<Denomination, CoinError> {
        let d = Denomination(code);
        if d.is_money() { Ok(d) } else { Err(CoinError::NotMoney { code }) }
    }

    /// The signed code as stored in files.
    pub const fn code(self) -> i8 {
        self.0
    }

    /// Whether coins of this denomination are money (codes -8..=6).
    pub const fn is_money(self) -> bool {
        self.0 >= Self::MIN_MONEY_CODE && self.0 <= Self::MAX_MONEY_CODE
    }

    /// The value of one coin, or `None` when the code is not money.
    pub fn value(self) -> Option<Amount> {
        if !self.is_money() {
            return None;
        }
        let exp = u32::try_from(i32::from(self.0) + 8).expect("money codes are -8..=6");
        Some(Amount::from_units(10u64.pow(exp)))
    }

    /// Every money denomination, largest first.
    pub fn all_money_desc() -> impl Iterator<Item = Denomination> {
        (Self::MIN_MONEY_CODE..=Self::MAX_MONEY_CODE).rev().map(Denomination)
    }
}

impl fmt::Display for Denomination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value() {
            Some(v) => write!(f, "{v}"),
            None => write!(f, "code {}", self.0),
        }
    }
}

/// A coin's serial number; serials are counted per denomination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SerialNumber(u32);

impl SerialNumber {
    /// The serial number `n`.
    pub const fn new(n: u32) -> SerialNumber {
        SerialNumber(n)
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A coin's identity: its denomination and serial number. `10 #7` and `0.1 #7` are two coins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CoinId {
    /// The denomination.
    pub denomination: Denomination,
    /// The serial number within that denomination.
    pub serial: SerialNumber,
}

impl fmt::Display for CoinId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} #{}", self.denomination, self.serial)
    }
}

/// What one RAIDA said the last time the coin was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Pown {
    /// `u`: not tried yet.
    #[default]
    Untried,
    /// `p`: passed.
    Pass,
    /// `b`: broke key.
    BrokeKey,
    /// `n`: no reply.
    NoReply,
    /// `d`: dropped.
    Dropped,
    /// `e`: error.
    Error,
    /// `f`: failed (counterfeit on that RAIDA).
    Fail,
}

impl Pown {
    /// Every status.
    pub const ALL: [Pown; 7] = [
        Pown::Untried,
        Pown::Pass,
        Pown::BrokeKey,
        Pown::NoReply,
        Pown::Dropped,
        Pown::Error,
        Pown::Fail,
    ];

    /// The letter used in stacks (`u p b n d e f`).
    pub const fn letter(self) -> char {
        match self {
            Pown::Untried => 'u',
            Pown::Pass => 'p',
            Pown::BrokeKey => 'b',
            Pown::NoReply => 'n',
            Pown::Dropped => 'd',
            Pown::Error => 'e',
            Pown::Fail => 'f',
        }
    }

    /// The status for a letter (either case), if it is one.
    pub const fn from_letter(c: char) -> Option<Pown> {
        Some(match c.to_ascii_lowercase() {
            'u' => Pown::Untried,
            'p' => Pown::Pass,
            'b' => Pown::BrokeKey,
            'n' => Pown::NoReply,
            'd' => Pown::Dropped,
            'e' => Pown::Error,
            'f' => Pown::Fail,
            _ => return None,
        })
    }

    /// The nibble used in format-9 headers.
    pub const fn nibble(self) -> u8 {
        match self {
            Pown::Untried => 0x0,
            Pown::Pass => 0xA,
            Pown::BrokeKey => 0xB,
            Pown::NoReply => 0xC,
            Pown::Dropped => 0xD,
            Pown::Error => 0xE,
            Pown::Fail => 0xF,
        }
    }

    /// The status for a nibble, if it is one.
    pub const fn from_nibble(n: u8) -> Option<Pown> {
        Some(match n {
            0x0 => Pown::Untried,
            0xA => Pown::Pass,
            0xB => Pown::BrokeKey,
            0xC => Pown::NoReply,
            0xD => Pown::Dropped,
            0xE => Pown::Error,
            0xF => Pown::Fail,
            _ => return None,
        })
    }
}

/// One authenticity number: the 16-byte secret a RAIDA checks.
pub type AuthenticityNumber = [u8; 16];

/// A CloudCoin v3 coin.
///
/// Build one with [`Coin::new`]; a coin read from a file that carries proposed authenticity
/// numbers (PANs, the format-9 state flag 1) keeps them, see [`Coin::pans`].
///
/// ```
/// use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};
///
/// let coin = Coin::new(
///     Denomination::from_code(0),
///     SerialNumber::new(7),
///     [[1u8; 16]; RAIDA_COUNT],
///     [Pown::Pass; RAIDA_COUNT],
/// );
/// assert!(coin.pans().is_none());
/// let pending = coin.clone().with_pans([[2u8; 16]; RAIDA_COUNT]);
/// assert_eq!(pending.pans().map(|p| p[0]), Some([2u8; 16]));
/// assert_eq!(pending.id(), coin.id());
/// assert_ne!(pending, coin, "PANs are part of the coin's content");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Coin {
    /// The denomination (money or not).
    pub denomination: Denomination,
    /// The serial number.
    pub serial: SerialNumber,
    /// AN 0 … AN 24.
    pub ans: [AuthenticityNumber; RAIDA_COUNT],
    /// POWN status per RAIDA.
    pub pown: [Pown; RAIDA_COUNT],
    /// PAN 0 … PAN 24, when the coin has proposed authenticity numbers; see [`Coin::pans`].
    pans: Option<Box<[AuthenticityNumber; RAIDA_COUNT]>>,
}

impl Coin {
    /// A coin with these fields and no PANs.
    pub fn new(
        denomination: Denomination,
        serial: SerialNumber,
        ans: [AuthenticityNumber; RAIDA_COUNT],
        pown: [Pown; RAIDA_COUNT],
    ) -> Coin {
        Coin { denomination, serial, ans, pown, pans: None }
    }

    /// The same coin carrying `pans`, its proposed authenticity numbers (PAN i for RAIDA i).
    pub fn with_pans(mut self, pans: [AuthenticityNumber; RAIDA_COUNT]) -> Coin {
        self.pans = Some(Box::new(pans));
        self
    }

    /// The same coin without PANs.
    pub fn without_pans(mut self) -> Coin {
        self.pans = None;
        self
    }

    /// The coin's proposed authenticity numbers, if it has them.
    ///
    /// PANs are the new secrets a client proposed to the RAIDA while authenticating the coin. When
    /// that exchange was interrupted (a coin in `Limbo`), a RAIDA may hold either the AN or the PAN,
    /// so the PANs can be the coin's only live keys: they are kept with the coin wherever it goes
    /// and written wherever the file format carries them (format 9 with state flag 1, and so png
    /// and zip). A stack carries no PANs.
    pub fn pans(&self) -> Option<&[AuthenticityNumber; RAIDA_COUNT]> {
        self.pans.as_deref()
    }

    /// The coin's identity (denomination and serial number).
    pub fn id(&self) -> CoinId {
        CoinId { denomination: self.denomination, serial: self.serial }
    }

    /// The coin's value, or `None` when its denomination is not money.
    pub fn value(&self) -> Option<Amount> {
        self.denomination.value()
    }

    /// The POWN string, one letter per RAIDA.
    pub fn pown_string(&self) -> String {
        self.pown.iter().map(|p| p.letter()).collect()
    }

    /// Parses a POWN string of exactly 25 letters.
    pub fn parse_pown(s: &str) -> Result<[Pown; RAIDA_COUNT], CoinError> {
        let mut out = [Pown::Untried; RAIDA_COUNT];
        let count = s.chars().count();
        if count != RAIDA_COUNT {
            return Err(CoinError::PownLength { found: count });
        }
        for (slot, c) in out.iter_mut().zip(s.chars()) {
            *slot = Pown::from_letter(c).ok_or(CoinError::PownLetter { letter: c })?;
        }
        Ok(out)
    }
}

/// The total value of the money coins in `coins`, or `None` on overflow.
pub fn total_value<'a, I: IntoIterator<Item = &'a Coin>>(coins: I) -> Option<Amount> {
    Amount::checked_sum(coins.into_iter().filter_map(Coin::value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denomination_values() {
        assert_eq!(Denomination::from_code(-8).value(), Some(Amount::from_units(1)));
        assert_eq!(Denomination::from_code(-1).value(), Some(Amount::from_units(10_000_000)));
        assert_eq!(Denomination::from_code(0).value(), Some(Amount::from_units(100_000_000)));
        assert_eq!(
            Denomination::from_code(6).value(),
            Some(Amount::from_units(100_000_000_000_000))
        );
        assert_eq!(Denomination::from_code(11).value(), None);
        assert_eq!(Denomination::from_code(-9).value(), None);
        assert!(Denomination::money(7).is_err());
        assert_eq!(Denomination::all_money_desc().count(), 15);
    }

    #[test]
    fn pown_letters_and_nibbles_agree() {
        for p in Pown::ALL {
            assert_eq!(Pown::from_letter(p.letter()), Some(p));
            assert_eq!(Pown::from_nibble(p.nibble()), Some(p));
        }
        assert_eq!(Pown::from_nibble(0x1), None);
        assert_eq!(Pown::from_letter('x'), None);
    }

    #[test]
    fn pown_string_is_checked() {
        assert!(Coin::parse_pown(&"p".repeat(25)).is_ok());
        assert_eq!(Coin::parse_pown(&"p".repeat(24)), Err(CoinError::PownLength { found: 24 }));
        assert_eq!(
            Coin::parse_pown(&format!("{}x", "p".repeat(24))),
            Err(CoinError::PownLetter { letter: 'x' })
        );
    }
}
