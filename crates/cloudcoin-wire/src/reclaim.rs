//! Reclaiming an export its recipient has not claimed, and checking whether they have:
//! `POST /api/v1/reclaim` (a task) and `GET /api/v1/reclaim/{id}` (read-only). What they
//! answer, [`ReclaimData`](crate::ReclaimData), is a task's data, beside the other kinds' in
//! `task` (which this module uses for `TaskId`, so it cannot use this one back).

use serde::{Deserialize, Serialize};

use crate::fields::{display, from_str};
use crate::task::TaskId;

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
