//! The fault plan: what goes wrong, on which RAIDA, for which command, on which call.

use std::time::Duration;

use crate::wire::Command;

/// What a RAIDA does wrong with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Apply the request, then close the connection without a reply.
    DropReplyAfterApply,
    /// Close the connection without applying the request or replying.
    DropBeforeApply,
    /// Apply the request and keep the connection open without ever replying (the client's
    /// timeout is what ends it).
    StallAfterApply,
    /// Keep the connection open without applying or replying.
    StallBeforeApply,
    /// Apply the request and reply after this extra delay.
    Delay(Duration),
    /// Answer this status (status-only, 32 bytes, with the challenge and echo bytes), without
    /// applying the request.
    ForceStatus(u8),
    /// Apply the request, send the first half of the reply, close the connection.
    CutMidReply,
    /// Go offline from this request on (it is neither applied nor answered; new connections are
    /// refused) until [`crate::Network::set_online`].
    GoOffline,
}

/// Which matching calls a rule hits, counted from 1 from when the rule was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Calls {
    /// Every matching call.
    Every,
    /// Only the n-th matching call.
    Nth(u64),
    /// The n-th matching call and every later one.
    From(u64),
    /// Calls `first` …= `last`.
    Range {
        /// The first call hit.
        first: u64,
        /// The last call hit.
        last: u64,
    },
}

impl Calls {
    fn hits(self, n: u64) -> bool {
        match self {
            Calls::Every => true,
            Calls::Nth(k) => n == k,
            Calls::From(k) => n >= k,
            Calls::Range { first, last } => (first..=last).contains(&n),
        }
    }
}

/// One rule of the plan: on RAIDA `raida`, for `command` (or any), on `calls`, apply `fault`.
///
/// ```
/// use cloudcoin_raida_sim::{Calls, Command, Fault, FaultRule};
///
/// // RAIDA 4 applies the 2nd pown it receives but never answers it.
/// let rule = FaultRule::new(4, Fault::DropReplyAfterApply)
///     .command(Command::Pown)
///     .calls(Calls::Nth(2));
/// # let _ = rule;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub(crate) raida: u8,
    pub(crate) command: Option<Command>,
    pub(crate) calls: Calls,
    pub(crate) fault: Fault,
    pub(crate) seen: u64,
}

impl FaultRule {
    /// `fault` on every request RAIDA `raida` receives (narrow it with [`FaultRule::command`]
    /// and [`FaultRule::calls`]).
    ///
    /// ```
    /// use cloudcoin_raida_sim::{Fault, FaultRule};
    /// let rule = FaultRule::new(0, Fault::ForceStatus(160));
    /// # let _ = rule;
    /// ```
    pub fn new(raida: u8, fault: Fault) -> FaultRule {
        FaultRule { raida, command: None, calls: Calls::Every, fault, seen: 0 }
    }

    /// Only requests of this command count and are hit.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{Command, Fault, FaultRule};
    /// let rule = FaultRule::new(0, Fault::DropBeforeApply).command(Command::Fix);
    /// # let _ = rule;
    /// ```
    pub fn command(mut self, command: Command) -> FaultRule {
        self.command = Some(command);
        self
    }

    /// Which of the matching calls are hit.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{Calls, Fault, FaultRule};
    /// let rule = FaultRule::new(0, Fault::CutMidReply).calls(Calls::From(3));
    /// # let _ = rule;
    /// ```
    pub fn calls(mut self, calls: Calls) -> FaultRule {
        self.calls = calls;
        self
    }
}

/// The faults of a network: rules per RAIDA, per command, per call. The first rule that hits a
/// request decides its fault; every matching rule counts the call.
///
/// ```
/// use cloudcoin_raida_sim::{Calls, Command, Fault, FaultPlan, FaultRule};
///
/// let mut plan = FaultPlan::new();
/// // A pown applied on RAIDA 0–11 only: split state.
/// for r in 12..25 {
///     plan.add(FaultRule::new(r, Fault::DropBeforeApply).command(Command::Pown));
/// }
/// assert_eq!(plan.len(), 13);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    rules: Vec<FaultRule>,
}

impl FaultPlan {
    /// An empty plan: no faults.
    ///
    /// ```
    /// assert!(cloudcoin_raida_sim::FaultPlan::new().is_empty());
    /// ```
    pub fn new() -> FaultPlan {
        FaultPlan::default()
    }

    /// Adds a rule after the existing ones.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{Fault, FaultPlan, FaultRule};
    /// let mut plan = FaultPlan::new();
    /// plan.add(FaultRule::new(1, Fault::GoOffline));
    /// assert_eq!(plan.len(), 1);
    /// ```
    pub fn add(&mut self, rule: FaultRule) -> &mut FaultPlan {
        self.rules.push(rule);
        self
    }

    /// The number of rules.
    ///
    /// ```
    /// assert_eq!(cloudcoin_raida_sim::FaultPlan::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the plan has no rules.
    ///
    /// ```
    /// assert!(cloudcoin_raida_sim::FaultPlan::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Counts a request of `command` at RAIDA `raida` and returns the fault to apply to it.
    pub(crate) fn next(&mut self, raida: u8, command: Command) -> Option<Fault> {
        let mut chosen = None;
        for rule in &mut self.rules {
            if rule.raida != raida || rule.command.is_some_and(|c| c != command) {
                continue;
            }
            rule.seen += 1;
            if chosen.is_none() && rule.calls.hits(rule.seen) {
                chosen = Some(rule.fault);
            }
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_call_counts_per_rule_and_command() {
        let mut plan = FaultPlan::new();
        plan.add(FaultRule::new(2, Fault::CutMidReply).command(Command::Pown).calls(Calls::Nth(2)));
        assert_eq!(plan.next(2, Command::Detect), None, "other command: not counted");
        assert_eq!(plan.next(1, Command::Pown), None, "other RAIDA: not counted");
        assert_eq!(plan.next(2, Command::Pown), None);
        assert_eq!(plan.next(2, Command::Pown), Some(Fault::CutMidReply));
        assert_eq!(plan.next(2, Command::Pown), None);
    }

    #[test]
    fn first_hitting_rule_wins_and_ranges_hold() {
        let mut plan = FaultPlan::new();
        plan.add(
            FaultRule::new(0, Fault::ForceStatus(160)).calls(Calls::Range { first: 2, last: 3 }),
        );
        plan.add(FaultRule::new(0, Fault::DropBeforeApply).calls(Calls::From(3)));
        let got: Vec<_> = (0..5).map(|_| plan.next(0, Command::Echo)).collect();
        assert_eq!(
            got,
            vec![
                None,
                Some(Fault::ForceStatus(160)),
                Some(Fault::ForceStatus(160)),
                Some(Fault::DropBeforeApply),
                Some(Fault::DropBeforeApply)
            ]
        );
    }
}
