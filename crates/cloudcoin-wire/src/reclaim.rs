//! Reclaiming an export its recipient has not claimed, and checking whether they have:
//! `POST /api/v1/reclaim` (a task) and `GET /api/v1/reclaim/{id}` (read-only).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::fields::{display, from_str, lossy_path};
use crate::task::{CoinRef, GradeData, TaskId};

/// `POST /api/v1/reclaim`: take back the coins of export `task` that its recipient has not
/// claimed.
///
/// ```
/// use cloudcoin_wire::{ReclaimRequest, TaskId};
///
/// let id: TaskId = "9b2f1c1e-8a57-4d0e-9a55-0f1e2d3c4b5a".parse()?;
/// let json = serde_json::to_string(&ReclaimRequest::new(id))?;
/// assert_eq!(json, r#"{"task":"9b2f1c1e-8a57-4d0e-9a55-0f1e2d3c4b5a"}"#);
/// assert_eq!(serde_json::from_str::<ReclaimRequest>(&json)?.task, id);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReclaimRequest {
    /// The export's task id.
    #[serde(serialize_with = "display", deserialize_with = "from_str")]
    pub task: TaskId,
}

impl ReclaimRequest {
    /// Reclaim the coins of export `task`.
    pub fn new(task: TaskId) -> ReclaimRequest {
        ReclaimRequest { task }
    }
}

/// `data` of a finished reclaim, and the payload of the check (`GET /api/v1/reclaim/{id}`):
/// what became of each coin an export sent.
///
/// A check fills `unclaimed`, `received`, `unknown` and `held` and changes nothing; a reclaim
/// takes the unclaimed coins back into `returned` (or `limbo`, or `received` when the
/// recipient's own claim won the race on 13 or more RAIDA).
///
/// ```
/// use cloudcoin_domain::Amount;
/// use cloudcoin_wire::{GradeData, ReclaimData, TaskId};
///
/// let none = GradeData::new(0, Amount::ZERO);
/// let data = ReclaimData::new(TaskId::new(), false, "nothing sent", none);
/// let json = serde_json::to_value(&data)?;
/// assert_eq!(json["reclaimed"], false);
/// assert_eq!(json["unclaimed"]["coins"], 0);
/// assert_eq!(serde_json::from_value::<ReclaimData>(json)?, data);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ReclaimData {
    /// The export's task id.
    #[serde(serialize_with = "display", deserialize_with = "from_str")]
    pub export: TaskId,
    /// The file the export wrote.
    #[serde(serialize_with = "lossy_path", default)]
    pub file: PathBuf,
    /// `true`: coins were powned back (a reclaim); `false`: a check, nothing changed.
    pub reclaimed: bool,
    /// What the outcome means, for a person.
    pub note: String,
    /// The coins the export sent.
    pub coins: u64,
    /// Not claimed by the recipient: the file still spends them (a check only).
    pub unclaimed: GradeData,
    /// Claimed by the recipient: theirs now; the copy in `Sent` stays as the record.
    pub received: GradeData,
    /// Too few RAIDA answered (or no copy of the coin is left in `Sent`).
    pub unknown: GradeData,
    /// In this wallet again (imported back, or reclaimed before): left alone.
    pub held: GradeData,
    /// Back in the wallet with keys only it knows: the exported file no longer spends them.
    pub returned: GradeData,
    /// Powned back, not settled yet (too few answers): kept in Limbo with every key.
    pub limbo: GradeData,
    /// The coins reported as received.
    pub received_coins: Vec<CoinRef>,
}

impl ReclaimData {
    /// The outcome for export `export`, saying `reclaimed` and `note`, with every count `empty`
    /// (set the fields after).
    pub fn new(
        export: TaskId,
        reclaimed: bool,
        note: impl Into<String>,
        empty: GradeData,
    ) -> ReclaimData {
        ReclaimData {
            export,
            file: PathBuf::new(),
            reclaimed,
            note: note.into(),
            coins: 0,
            unclaimed: empty,
            received: empty,
            unknown: empty,
            held: empty,
            returned: empty,
            limbo: empty,
            received_coins: Vec::new(),
        }
    }
}
