//! Why a call failed: the server's error envelope, or the transport.

use std::time::Duration;

use cloudcoin_wire::ErrorPayload;

/// A boxed transport error, kept as the [`std::error::Error::source`] of an [`Error`].
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The server refused a request: the `payload` of its error envelope, with the HTTP status.
///
/// [`ApiError::code`] is the CloudCoin numeric code (see [`codes`](crate::codes): 4115 wallet
/// not found, 4135 not enough coins, …); the message says what went wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", payload.message)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status of the answer.
    pub status: u16,
    /// The envelope's payload: code, message and details.
    pub payload: Box<ErrorPayload>,
}

impl ApiError {
    /// The CloudCoin numeric error code.
    pub fn code(&self) -> u16 {
        self.payload.code
    }

    /// What went wrong and what to do, as the server wrote it.
    pub fn message(&self) -> &str {
        &self.payload.message
    }
}

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with its error envelope.
    #[error(transparent)]
    Api(#[from] ApiError),

    /// Nothing answered at the address (the server is not running, or the address is wrong);
    /// the request was not sent.
    #[error("cannot connect to {url}")]
    Connect {
        /// The URL called.
        url: String,
        /// What the operating system said.
        #[source]
        source: BoxError,
    },

    /// The connection broke after the request was sent; the server may have acted on it.
    #[error("the connection to {url} broke before the answer arrived")]
    Connection {
        /// The URL called.
        url: String,
        /// What broke.
        #[source]
        source: BoxError,
    },

    /// No complete answer within the timeout; the server may have acted on the request.
    #[error("no answer from {url} within {} s", after.as_secs_f32())]
    Timeout {
        /// The URL called.
        url: String,
        /// How long the client waited.
        after: Duration,
    },

    /// Every attempt of an export ended without an answer (timeout or broken connection).
    /// The server may have started it; sending it again with the same `key` is safe.
    #[error(
        "no answer to the export after {attempts} attempts; it may have started: retry with \
         Idempotency-Key {key} to find out without exporting twice"
    )]
    ExportUnconfirmed {
        /// The `Idempotency-Key` every attempt carried.
        key: String,
        /// How many requests were sent.
        attempts: u32,
        /// The last attempt's failure.
        #[source]
        last: Box<Error>,
    },

    /// The answer is not what the v1 API sends (not its JSON envelope, or the wrong shape).
    #[error(
        "unexpected answer from {url} (HTTP {status}): not the API's answer ({error}); is this a CloudCoin server?"
    )]
    Protocol {
        /// The URL called.
        url: String,
        /// The HTTP status of the answer.
        status: u16,
        /// What the JSON reader said of it (quoted in the message, so not its source too).
        error: BoxError,
    },

    /// The request cannot be written as JSON (a path that is not UTF-8).
    #[error("the request cannot be sent: {error}")]
    Request {
        /// What the JSON writer said (quoted in the message, so not its source too).
        error: BoxError,
    },

    /// The server URL given to the client cannot be used.
    #[error("invalid server URL {url:?}: {problem}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it cannot be used.
        problem: &'static str,
    },
}

impl Error {
    /// The server's refusal, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The CloudCoin numeric code of the server's refusal, if this is one.
    pub fn code(&self) -> Option<u16> {
        self.api().map(ApiError::code)
    }

    /// True when the request may have reached the server without its answer reaching us
    /// (a timeout or a connection that broke after sending).
    pub fn is_unanswered(&self) -> bool {
        matches!(
            self,
            Error::Timeout { .. } | Error::Connection { .. } | Error::ExportUnconfirmed { .. }
        )
    }

    /// True when the server could not be reached or did not answer.
    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Connect { .. }) || self.is_unanswered()
    }
}
