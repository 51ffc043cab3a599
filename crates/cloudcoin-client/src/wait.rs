//! Following a task until it finishes: polls spaced by a [`Backoff`], each change yielded.

use std::time::Duration;

use cloudcoin_wire::Task;
use cloudcoin_wire::{TaskId, TaskStatus};

use crate::backoff::Backoff;
use crate::client::Client;
use crate::error::Error;

impl Client {
    /// Follows a task until it finishes, polling with the client's [`Backoff`]; see [`Wait`].
    pub fn wait(&self, id: TaskId) -> Wait<'_> {
        Wait::new(self, id, self.backoff)
    }
}

/// A task being followed, made by [`Client::wait`].
///
/// [`Wait::next`] yields the task each time its progress, message or status changes, the
/// finished task last; [`Wait::finish`] does the same with a callback and returns the
/// finished task.
///
/// ```no_run
/// # async fn follow(client: cloudcoin_client::Client, id: cloudcoin_client::TaskId)
/// # -> Result<(), cloudcoin_client::Error> {
/// let mut wait = client.wait(id);
/// while let Some(state) = wait.next().await {
///     let task = state?;
///     println!("{:3}% {}", task.progress, task.message);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a Wait does nothing until next() or finish() is awaited"]
pub struct Wait<'a> {
    client: &'a Client,
    id: TaskId,
    backoff: Backoff,
    delay: Duration,
    polled: bool,
    last: Option<(u8, String, TaskStatus)>,
    done: bool,
}

impl<'a> Wait<'a> {
    pub(crate) fn new(client: &'a Client, id: TaskId, backoff: Backoff) -> Wait<'a> {
        Wait { client, id, backoff, delay: backoff.first, polled: false, last: None, done: false }
    }

    /// The task's next state: the first poll's answer at once, then the next change (polls
    /// without a change are not yielded). `None` once the finished task has been yielded.
    ///
    /// A failed poll is yielded as an error and leaves the `Wait` usable: calling `next`
    /// again polls again after a pause.
    pub async fn next(&mut self) -> Option<Result<Task, Error>> {
        if self.done {
            return None;
        }
        loop {
            if self.polled {
                tokio::time::sleep(self.delay).await;
            }
            self.polled = true;
            let task = match self.client.task(self.id).await {
                Ok(task) => task,
                Err(e) => {
                    self.delay = self.backoff.next(self.delay);
                    return Some(Err(e));
                }
            };
            let state = (task.progress, task.message.clone(), task.status);
            let changed = self.last.as_ref() != Some(&state);
            self.last = Some(state);
            if task.status != TaskStatus::Running {
                self.done = true;
                return Some(Ok(task));
            }
            if changed {
                self.delay = self.backoff.first;
                return Some(Ok(task));
            }
            self.delay = self.backoff.next(self.delay);
        }
    }

    /// Polls until the task finishes, calling `on_progress` with every state [`Wait::next`]
    /// yields (the finished one included), and returns the finished task. The first failed
    /// poll ends the wait with its error.
    pub async fn finish(mut self, mut on_progress: impl FnMut(&Task)) -> Result<Task, Error> {
        loop {
            match self.next().await {
                Some(Ok(task)) => {
                    on_progress(&task);
                    if task.status != TaskStatus::Running {
                        return Ok(task);
                    }
                }
                Some(Err(e)) => return Err(e),
                None => return self.client.task(self.id).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_max() {
        let b = Backoff::new(Duration::from_millis(50), Duration::from_millis(300));
        let mut d = b.first;
        let mut seen = Vec::new();
        for _ in 0..5 {
            d = b.next(d);
            seen.push(d.as_millis());
        }
        assert_eq!(seen, [100, 200, 300, 300, 300]);
        assert_eq!(Backoff::new(Duration::from_secs(2), Duration::from_secs(1)).max.as_secs(), 2);
    }
}
