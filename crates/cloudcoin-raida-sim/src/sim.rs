//! The 25 logical RAIDA in memory: reading a request, answering it, applying it, and the state
//! inspection tests use. No sockets here; [`crate::Network`] puts each RAIDA on a port.

use std::borrow::Cow;
use std::time::Instant;

use cloudcoin_domain::{AuthenticityNumber, Coin, CoinId, RAIDA_COUNT};

use crate::commands::Network;
use crate::config::{CounterMode, MakeChange, SimConfig};
use crate::fault::Fault;
use crate::log::LoggedRequest;
use crate::raida::{Raida, lock};
use crate::wire::{
    BODY_OVERHEAD, Command, HEADER_LEN, Header, ResponseParts, TERMINATOR, challenge_ok, ctr_apply,
};

/// The 25 RAIDA of a simulated network, without sockets.
///
/// [`crate::Network::start`] serves one on loopback; a test or a fuzz target can also answer
/// request bytes in process with [`Simulator::answer`].
///
/// ```
/// use cloudcoin_raida_sim::{generate_coins, SimConfig, Simulator};
///
/// let coins = generate_coins(1, 5, 1);
/// let sim = Simulator::new(SimConfig::default().with_coins(coins.clone()));
/// assert_eq!(sim.an(3, coins[0].id()), Some(coins[0].ans[3]));
/// assert_eq!(sim.agreeing(&coins[0]), 25);
/// ```
#[derive(Debug)]
pub struct Simulator {
    pub(crate) raidas: Vec<Raida>,
    pub(crate) config: SimConfig,
}

/// A request the RAIDA refuses before running its command.
struct Refusal {
    status: u8,
    echo: bool,
    challenge: [u8; 16],
}

impl Refusal {
    fn header(status: u8, echo: bool) -> Refusal {
        Refusal { status, echo, challenge: [0; 16] }
    }
}

/// A request whose header and body passed the checks, decrypted.
struct Parsed<'a> {
    header: Header,
    command: Command,
    key_an: Option<[u8; 16]>,
    /// Response bytes 16–31.
    challenge_field: [u8; 16],
    /// The body without its terminator, decrypted: the challenge, then the payload (borrowed
    /// from the request under type 0, which needs no copy).
    plain: Cow<'a, [u8]>,
}

impl Parsed<'_> {
    /// The command's records.
    fn payload(&self) -> &[u8] {
        &self.plain[16..]
    }
}

/// What the simulator does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Apply {
    /// Run it.
    Yes,
    /// Read and log it but change nothing; answer this status instead (`None`: no answer).
    No(Option<u8>),
}

impl Simulator {
    /// What a command may read of the whole network: every RAIDA and the settings.
    fn network(&self) -> Network<'_> {
        Network { raidas: &self.raidas, config: &self.config }
    }
}

impl Simulator {
    /// The 25 RAIDA holding the configured coins.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{SimConfig, Simulator};
    /// let sim = Simulator::new(SimConfig::default());
    /// assert_eq!(sim.coin_count(0), 0);
    /// ```
    pub fn new(config: SimConfig) -> Simulator {
        let raidas: Vec<Raida> = (0..RAIDA_COUNT as u8).map(Raida::new).collect();
        for (r, raida) in raidas.iter().enumerate() {
            let mut table = lock(&raida.table);
            for coin in &config.coins {
                table.ans.insert((coin.denomination.code(), coin.serial.get()), coin.ans[r]);
            }
        }
        Simulator { raidas, config }
    }

    /// The configuration the network runs with.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{SimConfig, Simulator};
    /// assert_eq!(Simulator::new(SimConfig::default()).config().coin_id(), 6);
    /// ```
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Answers one request (32-byte header ‖ body) at RAIDA `raida` in process, applying it,
    /// without faults or latency. Returns the response bytes (empty for a RAIDA id past 24).
    ///
    /// ```
    /// use cloudcoin_raida_sim::{SimConfig, Simulator};
    ///
    /// let sim = Simulator::new(SimConfig::default());
    /// let mut echo = vec![1, 0, 0, 0, 0, 0, 0, 6];
    /// echo.extend_from_slice(&[0; 14]);
    /// echo.extend_from_slice(&[0, 18]);
    /// echo.extend_from_slice(&[0; 8]);
    /// echo.extend_from_slice(&[0x11; 12]);
    /// echo.extend_from_slice(&[0xd8, 0x5d, 0xf3, 0x8f, 0x3e, 0x3e]);
    /// let reply = sim.answer(0, &echo);
    /// assert_eq!((reply.len(), reply[2]), (32, 250));
    /// ```
    pub fn answer(&self, raida: u8, request: &[u8]) -> Vec<u8> {
        self.process(raida, request, Apply::Yes, None).unwrap_or_default()
    }

    /// Reads, logs and (when `apply` says so) runs a request; the response bytes, or `None` when
    /// there is to be no answer.
    pub(crate) fn process(
        &self,
        raida: u8,
        raw: &[u8],
        apply: Apply,
        fault: Option<Fault>,
    ) -> Option<Vec<u8>> {
        let started = Instant::now();
        let node = self.raidas.get(usize::from(raida))?;
        let group = raw.get(4).copied().unwrap_or(0);
        let echo_bytes = [raw.get(30).copied().unwrap_or(0), raw.get(31).copied().unwrap_or(0)];
        // The decoded request is built only for the log or the observer (a large batch with
        // neither is answered without copying it).
        let recorded = self.config.keep_log || self.config.observer.is_some();
        let mut entry = LoggedRequest {
            raida,
            command: Command::from_bytes(group, raw.get(5).copied().unwrap_or(0)),
            encryption: raw.get(16).copied().unwrap_or(0),
            key_coin: None,
            coins: Vec::new(),
            pg: None,
            raw: if recorded { raw.to_vec() } else { Vec::new() },
            status: None,
            applied: false,
            fault,
        };
        let parts = match self.parse(node, raw) {
            Err(refusal) => {
                let status = match apply {
                    Apply::No(forced) => forced,
                    Apply::Yes => Some(refusal.status),
                };
                entry.status = status;
                self.observe_and_log(node, entry);
                ResponseParts {
                    raida,
                    status: status?,
                    group,
                    echo: if refusal.echo { echo_bytes } else { [0; 2] },
                    exec_micros: 0,
                    challenge: refusal.challenge,
                    body: Vec::new(),
                }
            }
            Ok(parsed) => {
                if parsed.header.encryption == 1 {
                    entry.key_coin = Some((parsed.header.key_dn, parsed.header.key_sn));
                }
                if recorded {
                    let (coins, pg) =
                        crate::commands::decode_for_log(parsed.command, parsed.payload());
                    entry.coins = coins;
                    entry.pg = pg;
                }
                let outcome = match apply {
                    Apply::Yes => {
                        // The observer sees the request before it changes anything.
                        if let Some(observer) = &self.config.observer {
                            observer(&entry);
                        }
                        crate::commands::run(
                            &self.network(),
                            node,
                            parsed.command,
                            parsed.payload(),
                        )
                    }
                    Apply::No(Some(forced)) => crate::commands::Outcome::status(forced),
                    Apply::No(None) => crate::commands::Outcome::status(0),
                };
                entry.status = match apply {
                    Apply::No(None) => None,
                    _ => Some(outcome.status),
                };
                entry.applied = outcome.applied;
                if apply == Apply::Yes {
                    if self.config.keep_log {
                        lock(&node.log).push(entry);
                    }
                } else {
                    self.observe_and_log(node, entry);
                }
                if apply == Apply::No(None) {
                    return None;
                }
                let mut body = outcome.body;
                if let Some(key) = parsed.key_an.filter(|_| !body.is_empty()) {
                    let block = match self.config.counter[usize::from(raida)] {
                        CounterMode::Restart => 0,
                        CounterMode::Continue => {
                            (parsed.header.body_len - TERMINATOR.len()).div_ceil(16) as u64
                        }
                    };
                    ctr_apply(&key, &parsed.header.nonce, block, &mut body);
                }
                ResponseParts {
                    raida,
                    status: outcome.status,
                    group,
                    echo: parsed.header.echo(),
                    exec_micros: 0,
                    challenge: parsed.challenge_field,
                    body,
                }
            }
        };
        let exec_micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        Some(ResponseParts { exec_micros, ..parts }.encode())
    }

    fn observe_and_log(&self, node: &Raida, entry: LoggedRequest) {
        if let Some(observer) = &self.config.observer {
            observer(&entry);
        }
        if self.config.keep_log {
            lock(&node.log).push(entry);
        }
    }

    /// Logs a request the RAIDA never looked at (it went offline on it).
    pub(crate) fn log_unread(&self, raida: u8, raw: &[u8], fault: Fault) {
        let Some(node) = self.raidas.get(usize::from(raida)) else { return };
        let entry = LoggedRequest {
            raida,
            command: Command::from_bytes(
                raw.get(4).copied().unwrap_or(0),
                raw.get(5).copied().unwrap_or(0),
            ),
            encryption: raw.get(16).copied().unwrap_or(0),
            key_coin: None,
            coins: Vec::new(),
            pg: None,
            raw: raw.to_vec(),
            status: None,
            applied: false,
            fault: Some(fault),
        };
        self.observe_and_log(node, entry);
    }

    /// Checks the header and body in the sheet's order, decrypts a type-1 body.
    fn parse<'a>(&self, node: &Raida, raw: &'a [u8]) -> Result<Parsed<'a>, Refusal> {
        let header = Header::read(raw).ok_or(Refusal::header(16, false))?;
        if header.version != 1 {
            return Err(Refusal::header(255, false));
        }
        if header.raida != node.id {
            return Err(Refusal::header(3, false));
        }
        if header.coin_id != self.config.coin_id {
            return Err(Refusal::header(7, false));
        }
        let command = Command::from_bytes(header.group, header.command);
        match command {
            Command::Other { group, .. } if ![0, 1, 2, 9].contains(&group) => {
                return Err(Refusal::header(5, true));
            }
            Command::Other { .. } | Command::ValidateTicket => {
                return Err(Refusal::header(6, false));
            }
            Command::MakeChange if self.config.make_change == MakeChange::Off => {
                return Err(Refusal::header(6, false));
            }
            _ => {}
        }
        let body = &raw[HEADER_LEN..];
        if header.body_len != body.len() || body.len() < BODY_OVERHEAD {
            return Err(Refusal::header(16, true));
        }
        let (sealed, terminator) = body.split_at(body.len() - TERMINATOR.len());
        if terminator != TERMINATOR {
            return Err(Refusal::header(33, true));
        }
        let mut plain = Cow::Borrowed(sealed);
        let key_an = match header.encryption {
            0 => None,
            1 => {
                let key = lock(&node.table).ans.get(&(header.key_dn, header.key_sn)).copied();
                let key = key.ok_or(Refusal::header(34, true))?;
                ctr_apply(&key, &header.nonce, 0, plain.to_mut());
                Some(key)
            }
            _ => return Err(Refusal::header(34, true)),
        };
        let mut challenge_field: [u8; 16] =
            plain[..16].try_into().expect("a body of at least 18 bytes has a 16-byte challenge");
        let challenge_ok = challenge_ok(&challenge_field);
        if let Some(key) = key_an {
            for (c, k) in challenge_field.iter_mut().zip(key) {
                *c ^= k;
            }
        }
        if !challenge_ok {
            return Err(Refusal { status: 37, echo: true, challenge: challenge_field });
        }
        if !crate::commands::shape_ok(command, plain.len() - 16) {
            let status = crate::commands::shape_status(command);
            return Err(Refusal { status, echo: true, challenge: challenge_field });
        }
        Ok(Parsed { header, command, key_an, challenge_field, plain })
    }

    fn node(&self, raida: u8) -> Option<&Raida> {
        self.raidas.get(usize::from(raida))
    }

    /// The AN RAIDA `raida` holds for `coin`, if it holds the coin.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{generate_coins, SimConfig, Simulator};
    /// let coins = generate_coins(0, 9, 1);
    /// let sim = Simulator::new(SimConfig::default().with_coins(coins.clone()));
    /// assert_eq!(sim.an(24, coins[0].id()), Some(coins[0].ans[24]));
    /// ```
    pub fn an(&self, raida: u8, coin: CoinId) -> Option<AuthenticityNumber> {
        let node = self.node(raida)?;
        lock(&node.table).ans.get(&(coin.denomination.code(), coin.serial.get())).copied()
    }

    /// Sets (or with `None` removes) the AN RAIDA `raida` holds for `coin` — e.g. to make a coin
    /// fracked (a few RAIDA disagree) or counterfeit (most do).
    ///
    /// ```
    /// use cloudcoin_raida_sim::{generate_coins, SimConfig, Simulator};
    /// let coins = generate_coins(0, 9, 1);
    /// let sim = Simulator::new(SimConfig::default().with_coins(coins.clone()));
    /// sim.set_an(2, coins[0].id(), Some([0; 16]));
    /// assert_eq!(sim.agreeing(&coins[0]), 24);
    /// ```
    pub fn set_an(&self, raida: u8, coin: CoinId, an: Option<AuthenticityNumber>) {
        let Some(node) = self.node(raida) else { return };
        let key = (coin.denomination.code(), coin.serial.get());
        let mut table = lock(&node.table);
        match an {
            Some(an) => table.ans.insert(key, an),
            None => table.remove_an(&key),
        };
    }

    /// How many RAIDA hold `coin.ans[r]` for the coin: the oracle for "≥ 13 RAIDA accept these
    /// keys".
    ///
    /// ```
    /// use cloudcoin_raida_sim::{generate_coins, SimConfig, Simulator};
    /// let coins = generate_coins(2, 1, 1);
    /// let sim = Simulator::new(SimConfig::default());
    /// assert_eq!(sim.agreeing(&coins[0]), 0, "an empty network holds no coin");
    /// ```
    pub fn agreeing(&self, coin: &Coin) -> usize {
        (0..RAIDA_COUNT as u8)
            .filter(|&r| self.an(r, coin.id()) == Some(coin.ans[usize::from(r)]))
            .count()
    }

    /// The number of coins RAIDA `raida` holds.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{generate_coins, SimConfig, Simulator};
    /// let sim = Simulator::new(SimConfig::default().with_coins(generate_coins(1, 1, 3)));
    /// assert_eq!(sim.coin_count(7), 3);
    /// ```
    pub fn coin_count(&self, raida: u8) -> usize {
        self.node(raida).map_or(0, |n| lock(&n.table).ans.len())
    }

    /// The number of live (unexpired) tickets RAIDA `raida` keeps.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{SimConfig, Simulator};
    /// assert_eq!(Simulator::new(SimConfig::default()).live_tickets(0), 0);
    /// ```
    pub fn live_tickets(&self, raida: u8) -> usize {
        let now = self.config.clock.now();
        self.node(raida).map_or(0, |n| lock(&n.tickets).live(now))
    }

    /// What RAIDA `raida` received so far, oldest first.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{SimConfig, Simulator};
    /// let sim = Simulator::new(SimConfig::default());
    /// sim.answer(0, &[1, 2, 3]);
    /// assert_eq!(sim.log(0).len(), 1);
    /// assert_eq!(sim.log(0)[0].status, Some(16));
    /// ```
    pub fn log(&self, raida: u8) -> Vec<LoggedRequest> {
        self.node(raida).map_or_else(Vec::new, |n| lock(&n.log).clone())
    }

    /// Everything every RAIDA received so far.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{SimConfig, Simulator};
    /// assert!(Simulator::new(SimConfig::default()).log_all().is_empty());
    /// ```
    pub fn log_all(&self) -> Vec<LoggedRequest> {
        self.raidas.iter().flat_map(|n| lock(&n.log).clone()).collect()
    }

    /// Forgets every RAIDA's log.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{SimConfig, Simulator};
    /// let sim = Simulator::new(SimConfig::default());
    /// sim.answer(0, &[]);
    /// sim.clear_log();
    /// assert!(sim.log(0).is_empty());
    /// ```
    pub fn clear_log(&self) {
        for n in &self.raidas {
            lock(&n.log).clear();
        }
    }
}
