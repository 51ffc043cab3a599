//! The status byte of a RAIDA response (byte 2 of its header).

use std::fmt;

/// The status a RAIDA answers with: byte 2 of the response header.
///
/// Codes the protocol sheet names have a variant; any other code is kept as
/// [`Status::Other`], so a RAIDA that answers something new is reported, never misread.
///
/// ```
/// use cloudcoin_raida::Status;
///
/// assert_eq!(Status::from_code(243), Status::Mixed);
/// assert_eq!(Status::Mixed.code(), 243);
/// assert!(Status::from_code(160).is_transient());
/// assert_eq!(Status::from_code(99), Status::Other(99));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// 250: success.
    Success,
    /// 241: every coin of the request passed.
    AllPass,
    /// 242: every coin of the request failed.
    AllFail,
    /// 243: some passed, some failed; the body is a bitfield.
    Mixed,
    /// 208: find: no coin matched its AN or its PAN.
    FindNeither,
    /// 209: find: every coin matched its AN.
    FindAllAn,
    /// 210: find: every coin matched its PAN.
    FindAllPan,
    /// 211: find: mixed; the body has one byte a coin.
    FindMixed,
    /// 3: the request named another RAIDA id.
    WrongRaida,
    /// 5: unknown command group.
    InvalidGroup,
    /// 6: unknown command (also what a server without make change answers to 9/90).
    InvalidCommand,
    /// 7: the coin id is not the one this RAIDA serves.
    WrongCoinId,
    /// 16: the body length does not match.
    InvalidLength,
    /// 33: the body does not end with the terminator.
    BadTerminator,
    /// 34: type 1: the key coin is unknown at this RAIDA.
    KeyCoinUnknown,
    /// 37: the challenge's CRC is wrong (under type 1: the key coin's AN there changed).
    BadChallenge,
    /// 39: the payload is not a whole number of records.
    BadRecordSize,
    /// 40: a denomination or serial number is not valid here (or, for make change, the SN
    /// range is not available).
    BadCoin,
    /// 41: break: the page was not reserved.
    PageNotReserved,
    /// 42: no free ticket slot.
    NoTicketSlot,
    /// 43: ticket not found.
    TicketNotFound,
    /// 44: ticket already claimed.
    TicketClaimed,
    /// 45: too many coins in one request.
    TooManyCoins,
    /// 160: rate limited.
    RateLimited,
    /// 252: internal error.
    InternalError,
    /// 253: network error (between RAIDA).
    NetworkError,
    /// 254: out of memory.
    MemoryError,
    /// 255: the request's version byte is not 1.
    WrongVersion,
    /// Any code not listed above.
    Other(u8),
}

const NAMED: &[(u8, Status)] = &[
    (250, Status::Success),
    (241, Status::AllPass),
    (242, Status::AllFail),
    (243, Status::Mixed),
    (208, Status::FindNeither),
    (209, Status::FindAllAn),
    (210, Status::FindAllPan),
    (211, Status::FindMixed),
    (3, Status::WrongRaida),
    (5, Status::InvalidGroup),
    (6, Status::InvalidCommand),
    (7, Status::WrongCoinId),
    (16, Status::InvalidLength),
    (33, Status::BadTerminator),
    (34, Status::KeyCoinUnknown),
    (37, Status::BadChallenge),
    (39, Status::BadRecordSize),
    (40, Status::BadCoin),
    (41, Status::PageNotReserved),
    (42, Status::NoTicketSlot),
    (43, Status::TicketNotFound),
    (44, Status::TicketClaimed),
    (45, Status::TooManyCoins),
    (160, Status::RateLimited),
    (252, Status::InternalError),
    (253, Status::NetworkError),
    (254, Status::MemoryError),
    (255, Status::WrongVersion),
];

impl Status {
    /// The status with this code.
    pub fn from_code(code: u8) -> Status {
        NAMED.iter().find(|(c, _)| *c == code).map_or(Status::Other(code), |(_, s)| *s)
    }

    /// The code on the wire.
    pub fn code(self) -> u8 {
        match self {
            Status::Other(code) => code,
            named => NAMED
                .iter()
                .find(|(_, s)| *s == named)
                .map(|(c, _)| *c)
                .expect("every named status is in the table"),
        }
    }

    /// Whether the status is transient (160, 252, 253, 254): the same request may succeed
    /// later. The client reports it; the caller decides whether to resend.
    ///
    /// ```
    /// use cloudcoin_raida::Status;
    /// assert!(Status::NetworkError.is_transient());
    /// assert!(!Status::WrongCoinId.is_transient());
    /// ```
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Status::RateLimited
                | Status::InternalError
                | Status::NetworkError
                | Status::MemoryError
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Other(code) => write!(f, "status {code}"),
            named => write!(f, "status {} ({named:?})", named.code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            assert_eq!(Status::from_code(code).code(), code);
        }
        assert_eq!(NAMED.len(), 28);
    }

    #[test]
    fn transient_statuses_are_exactly_160_and_252_to_254() {
        let transient: Vec<u8> =
            (0..=255u8).filter(|c| Status::from_code(*c).is_transient()).collect();
        assert_eq!(transient, [160, 252, 253, 254]);
    }
}
