//! A wallet's history, as `GET /api/v1/wallets/{name}/transactions` shows it: the rows of its
//! `transactions.csv`, newest first, a page at a time.

use cloudcoin_domain::Amount;
use serde::{Deserialize, Serialize};

use crate::fields::amount;

/// One export or import of a wallet, as its `transactions.csv` row records it.
///
/// ```
/// use cloudcoin_wire::Transaction;
///
/// let text = r#"{"time":"2026-12-07T15:26:06Z","type":"export","amount":10.5,"coins":6,
///     "tag":"rent","file":"/out/10.5 CloudCoin #6 'rent'.zip",
///     "id":"9b2f1c1e-8a57-4d0e-9a55-0f1e2d3c4b5a","sha256":null}"#;
/// let t: Transaction = serde_json::from_str(text)?;
/// assert_eq!((t.kind.as_str(), t.amount.to_string(), t.coins), ("export", "10.5".into(), 6));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transaction {
    /// When, in UTC, as RFC 3339 (`2026-12-07T15:26:06Z`).
    pub time: String,
    /// `export` or `import` (other software sharing the wallet may write other words).
    #[serde(rename = "type")]
    pub kind: String,
    /// The value of the coins that left or entered the wallet.
    #[serde(with = "amount")]
    pub amount: Amount,
    /// How many coins.
    pub coins: u64,
    /// The tag of the file (empty when none).
    pub tag: String,
    /// The file written (an export) or read (an import), as the server saw its path.
    pub file: String,
    /// The operation's id: the id of the task that did it.
    pub id: String,
    /// The SHA-256 of the exported file, from the export's receipt (`Receipts/{id}.json`);
    /// `None` where there is no receipt (imports, rows written by other software).
    pub sha256: Option<String>,
}

impl Transaction {
    /// A row of `kind` at `time` that moved `coins` coins worth `amount`, with no tag, file,
    /// id or receipt (set the public fields after).
    pub fn new(
        time: impl Into<String>,
        kind: impl Into<String>,
        amount: Amount,
        coins: u64,
    ) -> Self {
        Transaction {
            time: time.into(),
            kind: kind.into(),
            amount,
            coins,
            tag: String::new(),
            file: String::new(),
            id: String::new(),
            sha256: None,
        }
    }
}

/// One page of a wallet's history, newest first.
///
/// ```
/// use cloudcoin_wire::TransactionPage;
///
/// let page: TransactionPage = serde_json::from_str(
///     r#"{"total":0,"offset":0,"skipped":0,"transactions":[]}"#)?;
/// assert!(page.transactions.is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransactionPage {
    /// How many readable rows the history holds in all.
    pub total: u64,
    /// How many of the newest rows come before this page.
    pub offset: u64,
    /// Rows of `transactions.csv` that could not be read (written by other software, or
    /// damaged): not in `total`, nor on any page.
    pub skipped: u64,
    /// The rows of this page, newest first.
    pub transactions: Vec<Transaction>,
}

impl TransactionPage {
    /// The page of `transactions` that starts `offset` rows after the newest of `total`.
    pub fn new(total: u64, offset: u64, transactions: Vec<Transaction>) -> TransactionPage {
        TransactionPage { total, offset, skipped: 0, transactions }
    }
}
