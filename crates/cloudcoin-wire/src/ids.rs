//! The identity of a task, shared by the task answer and the requests that name a task.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// The identity of a task (a random UUID), written in its hyphenated form.
///
/// ```
/// use cloudcoin_wire::TaskId;
///
/// let id = TaskId::new();
/// assert_eq!(id.to_string().parse::<TaskId>()?, id);
/// assert!("not-a-uuid".parse::<TaskId>().is_err());
/// # Ok::<(), cloudcoin_wire::BadTaskId>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TaskId(Uuid);

impl TaskId {
    /// A fresh random id.
    pub fn new() -> TaskId {
        TaskId(Uuid::new_v4())
    }
}

impl Default for TaskId {
    fn default() -> Self {
        TaskId::new()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The text is not a task id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a task id (a uuid)")]
pub struct BadTaskId(String);

impl FromStr for TaskId {
    type Err = BadTaskId;
    fn from_str(s: &str) -> Result<TaskId, BadTaskId> {
        Uuid::parse_str(s).map(TaskId).map_err(|_| BadTaskId(s.to_owned()))
    }
}
