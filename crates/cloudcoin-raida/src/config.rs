//! The client's settings: where the 25 RAIDA are, and the facts the protocol sheet leaves open.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use cloudcoin_domain::{Coin, CoinId, RAIDA_COUNT};

use crate::error::ConfigError;
use crate::wire::{DEFAULT_COIN_ID, MAX_BODY_LEN};
use crate::{Key, RaidaId};

/// The addresses of the 25 RAIDA, in id order.
///
/// ```
/// use cloudcoin_raida::{AddressList, RaidaId};
///
/// let text: String = (0..25).map(|i| format!("raida{i}.example:{}\n", 50000 + i)).collect();
/// let list = AddressList::parse(&text).unwrap();
/// assert_eq!(list.get(RaidaId::new(3).unwrap()), "raida3.example:50003");
/// assert!(AddressList::parse("localhost:1\n").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressList(Vec<String>);

impl AddressList {
    /// Reads an address list file's text: one `host:port` a line, line 1 is RAIDA 0. Leading
    /// and trailing spaces and a final newline are ignored; there must be exactly 25 lines.
    pub fn parse(text: &str) -> Result<AddressList, ConfigError> {
        let lines: Vec<&str> = text.trim_end().lines().map(str::trim).collect();
        if lines.len() != RAIDA_COUNT {
            return Err(ConfigError::WrongCount { found: lines.len() });
        }
        for (i, line) in lines.iter().enumerate() {
            let ok = line.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty()
                    && !host.chars().any(char::is_whitespace)
                    && port.parse::<u16>().is_ok_and(|p| p != 0)
            });
            if !ok {
                return Err(ConfigError::BadAddress { line: i + 1 });
            }
        }
        Ok(AddressList(lines.into_iter().map(str::to_owned).collect()))
    }

    /// The list of these 25 socket addresses (for example a simulator's).
    pub fn from_socket_addrs(addrs: [SocketAddr; RAIDA_COUNT]) -> AddressList {
        AddressList(addrs.iter().map(SocketAddr::to_string).collect())
    }

    /// The address of RAIDA `r`, as `host:port`.
    pub fn get(&self, r: RaidaId) -> &str {
        &self.0[r.index()]
    }
}

impl fmt::Display for AddressList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|a| writeln!(f, "{a}"))
    }
}

/// Where the keystream of a type-1 response starts (RAIDA.md §3, unsettled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResponseCounter {
    /// Learn each RAIDA's mode once, from a detect whose answer is known (the key coin beside
    /// itself with a wrong AN must read `01`), before the first type-1 request to it.
    #[default]
    Auto,
    /// Every RAIDA restarts the counter at 0.
    Restart,
    /// Every RAIDA continues the request's counter.
    Continue,
}

/// Whether change SNs (9/91) reserves a page so that a break or join (9/92, 9/93) can
/// follow (RAIDA.md §4, unsettled: the published server never does and answers 41).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PageReservation {
    /// Not known: a break or join is sent, and whatever comes back (41 included) is reported.
    #[default]
    Unknown,
    /// The network reserves pages.
    Reserved,
    /// The network does not (the published server): the client refuses a break or join
    /// before sending it, since every RAIDA would answer 41.
    NotReserved,
}

/// The coin whose ANs key encryption type 1: the key at RAIDA `r` is `ans[r]`.
///
/// ```
/// use cloudcoin_domain::{CoinId, Denomination, SerialNumber};
/// use cloudcoin_raida::KeyCoin;
///
/// let id = CoinId { denomination: Denomination::from_code(1), serial: SerialNumber::new(7) };
/// let key = KeyCoin::new(id, [[0x87; 16]; 25]);
/// assert_eq!(key.id, id);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KeyCoin {
    /// The key coin.
    pub id: CoinId,
    /// Its 25 ANs.
    pub ans: [Key; RAIDA_COUNT],
}

impl KeyCoin {
    /// The key coin `id` with these ANs.
    pub fn new(id: CoinId, ans: [Key; RAIDA_COUNT]) -> KeyCoin {
        KeyCoin { id, ans }
    }

    /// The key coin made of a wallet coin's current ANs.
    pub fn from_coin(coin: &Coin) -> KeyCoin {
        KeyCoin { id: coin.id(), ans: coin.ans }
    }
}

impl fmt::Debug for KeyCoin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The ANs are secrets: never in a log line.
        f.debug_struct("KeyCoin").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Everything the client needs. Start from [`Config::new`] and change what differs.
///
/// ```
/// use std::time::Duration;
/// use cloudcoin_raida::{AddressList, Config, ResponseCounter};
///
/// let text: String = (0..25).map(|i| format!("127.0.0.1:{}\n", 50000 + i)).collect();
/// let mut config = Config::new(AddressList::parse(&text).unwrap());
/// config.timeout = Duration::from_secs(3);
/// config.response_counter = ResponseCounter::Continue;
/// assert_eq!(config.coin_id, 6);
/// config.validate().unwrap();
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The 25 addresses.
    pub addresses: AddressList,
    /// The coin id of every request (unsettled; default 6).
    pub coin_id: u16,
    /// The type-1 response counter (unsettled; default [`ResponseCounter::Auto`]).
    pub response_counter: ResponseCounter,
    /// Whether change SNs reserves pages (unsettled; default [`PageReservation::Unknown`]).
    pub page_reservation: PageReservation,
    /// The key coin for encryption type 1; `None` sends type 0, with ANs and PANs in clear.
    pub key_coin: Option<KeyCoin>,
    /// How long one request to one RAIDA may take, connection to last byte (default 10 s).
    pub timeout: Duration,
    /// How long connecting may take (default 5 s); a RAIDA not reached in time was sent
    /// nothing.
    pub connect_timeout: Duration,
    /// How many times a read-only request (echo, detect, find) is resent after no answer
    /// (default 1). State-changing requests are never resent.
    pub read_only_retries: u8,
    /// How many requests may be open at once to one RAIDA (default 8): a batch split into
    /// `k` requests takes ⌈k / this⌉ round trips.
    pub requests_per_raida: usize,
    /// The largest request body (default and most 65,535 bytes).
    pub max_body_len: usize,
}

impl Config {
    /// The defaults, for these addresses.
    pub fn new(addresses: AddressList) -> Config {
        Config {
            addresses,
            coin_id: DEFAULT_COIN_ID,
            response_counter: ResponseCounter::Auto,
            page_reservation: PageReservation::Unknown,
            key_coin: None,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            read_only_retries: 1,
            requests_per_raida: 8,
            max_body_len: MAX_BODY_LEN,
        }
    }

    /// Checks the settings that can be wrong (a zero timeout or concurrency).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout { what: "request" });
        }
        if self.connect_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout { what: "connect" });
        }
        if self.requests_per_raida == 0 {
            return Err(ConfigError::ZeroConcurrency);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> String {
        (0..n).map(|i| format!("127.0.0.1:{}\n", 50000 + i)).collect()
    }

    #[test]
    fn an_address_list_needs_25_good_lines() {
        assert!(AddressList::parse(&lines(25)).is_ok());
        assert_eq!(AddressList::parse(&lines(24)), Err(ConfigError::WrongCount { found: 24 }));
        let bad = lines(25).replace("127.0.0.1:50004", "127.0.0.1:0");
        assert_eq!(AddressList::parse(&bad), Err(ConfigError::BadAddress { line: 5 }));
        let bad = lines(25).replace("127.0.0.1:50000", "no-port");
        assert_eq!(AddressList::parse(&bad), Err(ConfigError::BadAddress { line: 1 }));
        let list = AddressList::parse(&lines(25)).expect("valid");
        assert_eq!(AddressList::parse(&list.to_string()), Ok(list));
    }

    #[test]
    fn a_key_coin_never_prints_its_ans() {
        let id = CoinId {
            denomination: cloudcoin_domain::Denomination::from_code(1),
            serial: cloudcoin_domain::SerialNumber::new(7),
        };
        let text = format!("{:?}", KeyCoin::new(id, [[0xab; 16]; RAIDA_COUNT]));
        assert!(!text.contains("171") && !text.contains("ab"), "{text}");
    }
}
