//! How a client spaces the polls of a task it follows: a setting of the client, used by
//! [`Wait`](crate::Wait).

use std::time::Duration;

/// How [`Wait`](crate::Wait) spaces its polls: `first` after a change, doubling while nothing
/// changes, up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backoff {
    /// The pause after a poll that saw a change.
    pub first: Duration,
    /// The longest pause.
    pub max: Duration,
}

impl Backoff {
    /// A backoff from `first` up to `max` (at least `first`).
    pub fn new(first: Duration, max: Duration) -> Backoff {
        Backoff { first, max: max.max(first) }
    }

    /// The pause after one of `delay` that saw no change.
    pub(crate) fn next(&self, delay: Duration) -> Duration {
        delay.saturating_mul(2).clamp(self.first, self.max)
    }
}

impl Default for Backoff {
    /// 50 ms, doubling up to 500 ms.
    fn default() -> Self {
        Backoff::new(Duration::from_millis(50), Duration::from_millis(500))
    }
}
