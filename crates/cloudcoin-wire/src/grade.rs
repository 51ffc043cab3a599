//! Coins named by identity, and the count and value of those that ended in one grade: the pieces
//! the results of claims, healings and reclaims are made of.

use cloudcoin_domain::Amount;
use serde::{Deserialize, Serialize};

use crate::fields::amount;

/// How many coins, and how much, ended in one grade.
///
/// ```
/// use cloudcoin_domain::Amount;
/// let grade = cloudcoin_wire::GradeData::new(2, Amount::parse_request("1.5")?);
/// assert_eq!(serde_json::to_string(&grade)?, r#"{"coins":2,"amount":1.5}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GradeData {
    /// Coins.
    pub coins: u64,
    /// Their value.
    #[serde(with = "amount")]
    pub amount: Amount,
}

impl GradeData {
    /// `coins` coins worth `amount`.
    pub fn new(coins: u64, amount: Amount) -> GradeData {
        GradeData { coins, amount }
    }
}

/// A coin named by its denomination code and serial number.
///
/// ```
/// let coin = cloudcoin_wire::CoinRef::new(1, 42);
/// assert_eq!(serde_json::to_string(&coin)?, r#"{"dn":1,"sn":42}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CoinRef {
    /// The denomination code (`1` is 10, `-1` is 0.1).
    pub dn: i8,
    /// The serial number.
    pub sn: u32,
}

impl CoinRef {
    /// The coin of denomination code `dn` and serial number `sn`.
    pub fn new(dn: i8, sn: u32) -> CoinRef {
        CoinRef { dn, sn }
    }
}
