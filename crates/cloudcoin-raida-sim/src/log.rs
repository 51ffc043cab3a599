//! What each RAIDA received, decoded, for tests that assert what crossed the wire.

use crate::fault::Fault;
use crate::wire::Command;

/// One coin record of a request as the RAIDA read it (after decryption under type 1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedCoin {
    /// The denomination code as sent (signed byte).
    pub denomination: i8,
    /// The serial number as sent.
    pub serial: u32,
    /// The AN the record carried, if its shape has one (detect, pown, get ticket, find, the
    /// parent of make change / break / join, the children of join).
    pub an: Option<[u8; 16]>,
    /// The PAN the record carried, if its shape has one (pown, find, the children of make
    /// change and break, the new coin of join).
    pub pan: Option<[u8; 16]>,
}

/// One request a RAIDA received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// The RAIDA that received it.
    pub raida: u8,
    /// The command of request bytes 4–5.
    pub command: Command,
    /// Request byte 16: 0 none, 1 AES-128-CTR.
    pub encryption: u8,
    /// The key coin (DN, SN) of a type-1 request.
    pub key_coin: Option<(i8, u32)>,
    /// The coin records, decoded; empty when the request was refused before its body was read
    /// (a header error) or carries no coins.
    pub coins: Vec<LoggedCoin>,
    /// Fix: the PG. Make change: none.
    pub pg: Option<[u8; 16]>,
    /// The request bytes exactly as received (header and body, encrypted as sent).
    pub raw: Vec<u8>,
    /// The status the RAIDA answered (or would have: a dropped reply still records it); `None`
    /// when the fault plan dropped the request before the RAIDA looked at it.
    pub status: Option<u8>,
    /// Whether the request changed the RAIDA's state (false for read-only commands, refused
    /// requests and requests a fault dropped before applying).
    pub applied: bool,
    /// The fault the plan applied to this request, if any.
    pub fault: Option<Fault>,
}

impl LoggedRequest {
    /// Every AN or PAN this request carried, in the clear after decryption.
    ///
    /// ```
    /// # use cloudcoin_raida_sim::LoggedRequest;
    /// fn no_keys_in_clear(log: &[LoggedRequest]) -> bool {
    ///     log.iter().filter(|r| r.encryption == 0).all(|r| r.secrets().next().is_none())
    /// }
    /// # let _ = no_keys_in_clear;
    /// ```
    pub fn secrets(&self) -> impl Iterator<Item = &[u8; 16]> {
        self.coins.iter().flat_map(|c| c.an.iter().chain(c.pan.iter())).chain(self.pg.iter())
    }
}
