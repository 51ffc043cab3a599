//! RAIDA ids and sets of them.

use std::fmt;

use cloudcoin_domain::RAIDA_COUNT;

/// A 16-byte secret: an authenticity number (AN), a proposed one (PAN), a fix's PG or an
/// encryption key.
pub type Key = [u8; 16];

/// The id of one RAIDA, 0 … 24 (its line in the address list, and byte 2 of a request).
///
/// ```
/// use cloudcoin_raida::RaidaId;
///
/// let r = RaidaId::new(13).unwrap();
/// assert_eq!(r.get(), 13);
/// assert_eq!(r.index(), 13);
/// assert!(RaidaId::new(25).is_none());
/// assert_eq!(RaidaId::all().count(), 25);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RaidaId(u8);

impl RaidaId {
    /// The id `n`, when it is below 25.
    pub fn new(n: u8) -> Option<RaidaId> {
        (usize::from(n) < RAIDA_COUNT).then_some(RaidaId(n))
    }

    /// The number.
    pub fn get(self) -> u8 {
        self.0
    }

    /// The number, as an index into per-RAIDA arrays.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// Every id, 0 … 24.
    pub fn all() -> impl Iterator<Item = RaidaId> {
        (0..RAIDA_COUNT).map(|i| RaidaId(u8::try_from(i).expect("RAIDA_COUNT fits a byte")))
    }
}

impl fmt::Display for RaidaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RAIDA {}", self.0)
    }
}

/// A set of RAIDA: which RAIDA a coin is sent to.
///
/// ```
/// use cloudcoin_raida::{RaidaId, RaidaSet};
///
/// let r3 = RaidaId::new(3).unwrap();
/// let set = RaidaSet::EMPTY.with(r3);
/// assert!(set.contains(r3));
/// assert_eq!(set.len(), 1);
/// assert_eq!(RaidaSet::ALL.len(), 25);
/// assert!(!RaidaSet::ALL.without(r3).contains(r3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RaidaSet(u32);

impl RaidaSet {
    /// No RAIDA.
    pub const EMPTY: RaidaSet = RaidaSet(0);
    /// All 25.
    pub const ALL: RaidaSet = RaidaSet((1 << RAIDA_COUNT) - 1);

    /// This set with `r` added.
    #[must_use]
    pub fn with(self, r: RaidaId) -> RaidaSet {
        RaidaSet(self.0 | 1 << r.0)
    }

    /// This set without `r`.
    #[must_use]
    pub fn without(self, r: RaidaId) -> RaidaSet {
        RaidaSet(self.0 & !(1 << r.0))
    }

    /// Whether `r` is in the set.
    pub fn contains(self, r: RaidaId) -> bool {
        self.0 & 1 << r.0 != 0
    }

    /// How many RAIDA are in the set.
    pub fn len(self) -> usize {
        usize::try_from(self.0.count_ones()).expect("at most 32")
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The ids in the set, in order.
    pub fn iter(self) -> impl Iterator<Item = RaidaId> {
        RaidaId::all().filter(move |r| self.contains(*r))
    }
}

impl FromIterator<RaidaId> for RaidaSet {
    fn from_iter<I: IntoIterator<Item = RaidaId>>(iter: I) -> RaidaSet {
        iter.into_iter().fold(RaidaSet::EMPTY, RaidaSet::with)
    }
}
