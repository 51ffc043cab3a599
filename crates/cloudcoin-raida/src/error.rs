//! The crate's errors: one enum for bytes that are not a valid frame, one for configuration,
//! one for a call the client refuses before sending anything.

use cloudcoin_domain::CoinId;

use crate::Status;

/// Bytes that are not a valid request or response, or a response that does not fit the
/// command it answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// Fewer bytes than a header.
    #[error("a response of {len} bytes is shorter than its 32-byte header")]
    Truncated {
        /// How many bytes there were.
        len: usize,
    },
    /// A size field of 1 (a body has at least its 2-byte terminator).
    #[error("response size field {size} cannot hold the terminator")]
    SizeTooSmall {
        /// The size field.
        size: usize,
    },
    /// The size field and the bytes after the header disagree.
    #[error("response size field says {declared} bytes follow the header, {actual} do")]
    SizeMismatch {
        /// The size field.
        declared: usize,
        /// The bytes after the header.
        actual: usize,
    },
    /// The body does not end with `3E 3E`.
    #[error("response body does not end with the terminator 3e3e")]
    MissingTerminator,
    /// A request body longer than 65,535 bytes.
    #[error("request body of {len} bytes is over the 65,535-byte limit")]
    BodyTooLong {
        /// The body's length.
        len: usize,
    },
    /// The status does not answer this command.
    #[error("{status} does not answer this command")]
    UnexpectedStatus {
        /// The status.
        status: Status,
    },
    /// The body's length does not fit the status and the number of coins.
    #[error("{status} with a {len}-byte body, {expected} expected")]
    UnexpectedBody {
        /// The status.
        status: Status,
        /// The body's length.
        len: usize,
        /// The length the status and the coins call for.
        expected: usize,
    },
    /// A find answer byte other than 0, 1 or 2.
    #[error("find answer byte {byte} is none of 0 (neither), 1 (AN), 2 (PAN)")]
    BadFindByte {
        /// The byte.
        byte: u8,
    },
}

/// An address list or setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The list does not have exactly 25 addresses.
    #[error(
        "the RAIDA address list has {found} addresses; it needs 25, one `host:port` a line (line n = RAIDA n-1)"
    )]
    WrongCount {
        /// How many address lines there were.
        found: usize,
    },
    /// A line is not `host:port`.
    #[error("line {line} of the RAIDA address list is not `host:port` with a port 1-65535")]
    BadAddress {
        /// The 1-based line number.
        line: usize,
    },
    /// A timeout of zero.
    #[error("the {what} timeout must be longer than zero")]
    ZeroTimeout {
        /// Which timeout.
        what: &'static str,
    },
    /// Zero requests at a time to one RAIDA.
    #[error("at least one request at a time must be allowed to each RAIDA")]
    ZeroConcurrency,
}

/// A call the client refuses before it sends anything: nothing has changed anywhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// A pown or find of a coin that carries no PANs.
    #[error("coin {coin} has no PANs; a pown or find needs the 25 PANs written down first")]
    MissingPans {
        /// The coin.
        coin: CoinId,
    },
    /// One record does not fit a request body.
    #[error("the request does not fit a body of 65,535 bytes")]
    TooLarge,
    /// A break or join names other than 10 children.
    #[error("a break or join needs exactly 10 children, got {found}")]
    WrongChildCount {
        /// How many there were.
        found: usize,
    },
    /// A break or join, configured as [`crate::PageReservation::NotReserved`]: every RAIDA
    /// would answer 41.
    #[error(
        "this network does not reserve pages (change SNs); a break or join would be refused with 41: use make change"
    )]
    PagesNotReserved,
    /// The automatic response counter needs a key coin, and there is none.
    #[error("the response counter can only be learnt with a key coin")]
    NoKeyCoin,
}
