//! The error of one step of a pipeline (export, import, backup), with the error that stopped it.

use std::io;

use crate::durable::error_chain;
use crate::task::FailureKind;

/// Why a step failed: the kind of failure, what the step was doing, and the error that stopped
/// it (its source).
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub(crate) struct StepError {
    pub(crate) kind: FailureKind,
    what: &'static str,
    #[source]
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StepError {
    /// A step that failed with `cause` while it did `what`.
    pub(crate) fn new(
        kind: FailureKind,
        what: &'static str,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> StepError {
        StepError { kind, what, cause: Some(Box::new(cause)) }
    }

    /// A step whose check failed: `what` says which.
    pub(crate) fn check(kind: FailureKind, what: &'static str) -> StepError {
        StepError { kind, what, cause: None }
    }

    /// A step that failed with the i/o error `e` while it did `what`.
    pub(crate) fn io(what: &'static str, e: io::Error) -> StepError {
        StepError::new(FailureKind::Io, what, e)
    }

    /// The message a person reads: what the step did, then why it failed (the chain of causes).
    pub(crate) fn message(&self) -> String {
        error_chain(self)
    }
}
