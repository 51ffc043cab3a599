//! The async client: one call fans out to the 25 RAIDA at once and gathers one answer per
//! RAIDA (per coin).
//!
//! A batch is split per RAIDA into requests of at most [`Config::max_body_len`] bytes of body,
//! of nearly equal size; up to [`Config::requests_per_raida`] of them are open at once to one
//! RAIDA, each on its own connection, so a batch of `k` requests costs ⌈k / that⌉ round trips.
//! Read-only commands (echo, detect, find) are resent after no answer, up to
//! [`Config::read_only_retries`] times; state-changing ones never are.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cloudcoin_domain::{Coin, CoinId, Denomination, RAIDA_COUNT, SerialNumber};
use tokio::sync::{OnceCell, Semaphore};
use tokio::task::JoinSet;

use crate::answer::{Answer, CoinAnswers, Echo, NotSent, RaidaAnswers, Silence, TicketCheck};
use crate::config::{Config, PageReservation, ResponseCounter};
use crate::error::{CallError, ConfigError, WireError};
use crate::transport::{Failure, exchange};
use crate::wire::{
    BODY_OVERHEAD, Check, Command, CounterMode, Found, FreeSerials, Request, RequestKey, Response,
    TERMINATOR, Ticket, put_c5, random_bytes,
};
use crate::{Key, RaidaId, RaidaSet, Status};

/// The client of the 25 RAIDA. Cheap to clone (the clones share the learnt response counters).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use cloudcoin_raida::{AddressList, Client, Config};
///
/// let list = std::fs::read_to_string("raida.txt")?;
/// let client = Client::new(Config::new(AddressList::parse(&list)?))?;
/// let echo = client.echo().await;
/// println!("{} of 25 RAIDA answered", echo.said_count());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    counters: Vec<OnceCell<CounterMode>>,
    limits: Vec<Arc<Semaphore>>,
}

/// The session number shared by a change SNs and the break or join that follows it.
///
/// ```
/// use cloudcoin_raida::Session;
/// assert_eq!(Session::new([0xa1, 0xb2, 0xc3, 0xd4]).bytes(), [0xa1, 0xb2, 0xc3, 0xd4]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Session([u8; 4]);

impl Session {
    /// The session with these bytes.
    pub fn new(bytes: [u8; 4]) -> Session {
        Session(bytes)
    }

    /// A fresh random session.
    pub fn random() -> Session {
        Session(random_bytes())
    }

    /// The bytes.
    pub fn bytes(self) -> [u8; 4] {
        self.0
    }
}

/// A coin to fix: where to fix it and the tickets that vouch for it.
///
/// ```
/// use cloudcoin_domain::{CoinId, Denomination, SerialNumber};
/// use cloudcoin_raida::{FixCoin, RaidaId, RaidaSet, Ticket};
///
/// let id = CoinId { denomination: Denomination::from_code(1), serial: SerialNumber::new(5) };
/// let mut tickets = [None; 25];
/// tickets[1] = Some(Ticket::new(77));
/// let fix = FixCoin::new(id, RaidaSet::EMPTY.with(RaidaId::new(0).unwrap()), tickets);
/// assert_eq!(fix.tickets[1], Some(Ticket::new(77)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FixCoin {
    /// The coin.
    pub id: CoinId,
    /// The RAIDA to fix it at (where it failed).
    pub at: RaidaSet,
    /// The ticket of each RAIDA where it passed a get ticket (`None`: no ticket there).
    pub tickets: [Option<Ticket>; RAIDA_COUNT],
}

impl FixCoin {
    /// The coin `id`, fixed at `at`, on these tickets.
    pub fn new(id: CoinId, at: RaidaSet, tickets: [Option<Ticket>; RAIDA_COUNT]) -> FixCoin {
        FixCoin { id, at, tickets }
    }
}

/// One of the 10 coins of a break or join page: its serial number and its key at each RAIDA.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageCoin {
    /// The serial number (of the denomination one below the parent's).
    pub serial: SerialNumber,
    /// Its key at each RAIDA (for a break: the PAN the child gets).
    pub keys: [Key; RAIDA_COUNT],
}

impl PageCoin {
    /// The coin `serial` with these 25 keys.
    pub fn new(serial: SerialNumber, keys: [Key; RAIDA_COUNT]) -> PageCoin {
        PageCoin { serial, keys }
    }
}

/// A break (9/92) or join (9/93): the session of the change SNs that found the serial
/// numbers, the parent with its key at each RAIDA, and 10 coins of the next lower
/// denomination.
///
/// ```
/// use cloudcoin_domain::{CoinId, Denomination, SerialNumber};
/// use cloudcoin_raida::{Page, PageCoin, Session};
///
/// let parent = CoinId { denomination: Denomination::from_code(1), serial: SerialNumber::new(5) };
/// let children = (0..10).map(|i| PageCoin::new(SerialNumber::new(100 + i), [[i as u8; 16]; 25]));
/// let page = Page::new(Session::random(), parent, [[9; 16]; 25], children.collect());
/// assert_eq!(page.children.len(), 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page {
    /// The session of the change SNs.
    pub session: Session,
    /// The coin of the higher denomination.
    pub parent: CoinId,
    /// Its key at each RAIDA (for a break: its AN).
    pub parent_keys: [Key; RAIDA_COUNT],
    /// Exactly 10 coins of the denomination below.
    pub children: Vec<PageCoin>,
}

impl Page {
    /// A page with these parts.
    pub fn new(
        session: Session,
        parent: CoinId,
        parent_keys: [Key; RAIDA_COUNT],
        children: Vec<PageCoin>,
    ) -> Page {
        Page { session, parent, parent_keys, children }
    }
}

/// A make change (9/90): the parent with its ANs, and the PANs of its 10 children, serial
/// numbers `start` … `start + 9` of the denomination below.
///
/// ```
/// use cloudcoin_domain::{CoinId, Denomination, SerialNumber};
/// use cloudcoin_raida::MakeChange;
///
/// let parent = CoinId { denomination: Denomination::from_code(1), serial: SerialNumber::new(5) };
/// let start = MakeChange::random_start();
/// assert!((32_768..=131_062).contains(&start.get()));
/// let change = MakeChange::new(parent, [[1; 16]; 25], start, [[[2; 16]; 25]; 10]);
/// assert_eq!(change.child_pans.len(), 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MakeChange {
    /// The coin to break.
    pub parent: CoinId,
    /// Its ANs.
    pub parent_ans: [Key; RAIDA_COUNT],
    /// The first child's serial number.
    pub start: SerialNumber,
    /// `child_pans[c][r]`: the PAN of child `c` at RAIDA `r`.
    pub child_pans: [[Key; RAIDA_COUNT]; 10],
}

impl MakeChange {
    /// A make change with these parts.
    pub fn new(
        parent: CoinId,
        parent_ans: [Key; RAIDA_COUNT],
        start: SerialNumber,
        child_pans: [[Key; RAIDA_COUNT]; 10],
    ) -> MakeChange {
        MakeChange { parent, parent_ans, start, child_pans }
    }

    /// A start serial number chosen as the reference client does: at random in
    /// 32,768 … 131,062.
    pub fn random_start() -> SerialNumber {
        let r = u32::from_be_bytes(random_bytes());
        SerialNumber::new(32_768 + r % (131_062 - 32_768 + 1))
    }
}

/// A fresh random 16-byte key: a PAN or a fix's PG.
///
/// ```
/// assert_ne!(cloudcoin_raida::random_key(), cloudcoin_raida::random_key());
/// ```
pub fn random_key() -> Key {
    random_bytes()
}

/// Fresh random PANs for `count` coins, 25 a coin (one per RAIDA): those of a fresh
/// [`PanSeed`].
///
/// The operating system gives a fresh AES-128 key and nonce (24 bytes) for each call, and the
/// PANs are that key's AES-CTR keystream: a block cipher in counter mode under a secret random
/// key, whose output cannot be told from random far beyond what a claim takes (10,000 coins are
/// 250,000 blocks; the bound is near 2^64). It runs at the speed of the processor's AES
/// instructions, several times faster than asking the kernel for the 4 MB a claim of 10,000
/// coins needs, and makes no call per key.
///
/// ```
/// let pans = cloudcoin_raida::random_pans(3);
/// assert_eq!(pans.len(), 3);
/// assert_ne!(pans[0][0], pans[0][1]);
/// assert_ne!(pans[0], pans[1]);
/// ```
pub fn random_pans(count: usize) -> Vec<[Key; RAIDA_COUNT]> {
    PanSeed::random().pans(0, count)
}

/// The secret a batch of PANs is made from: a fresh AES-128 key and nonce from the operating
/// system (24 bytes). The PANs of coin `i` of the batch are blocks `25 i` … `25 i + 24` of the
/// key's AES-CTR keystream (see [`random_pans`]), so whoever keeps the 24 bytes can make any
/// coin's PANs again, bit for bit, instead of keeping 400 bytes a coin. It is as secret as the
/// PANs it makes: keep it where you would keep them, and drop it once they are no longer
/// needed. Its `Debug` shows no byte of it.
///
/// ```
/// use cloudcoin_raida::PanSeed;
///
/// let seed = PanSeed::random();
/// let pans = seed.pans(0, 10);
/// // The same seed, from its bytes, makes the same PANs, from any coin on.
/// let again = PanSeed::from_bytes(seed.to_bytes());
/// assert_eq!(again.pans(7, 3), pans[7..10].to_vec());
/// assert_ne!(PanSeed::random().pans(0, 1), pans[..1].to_vec());
/// assert_eq!(format!("{seed:?}"), "PanSeed(..)");
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PanSeed {
    key: Key,
    nonce: [u8; 8],
}

impl PanSeed {
    /// How many bytes [`PanSeed::to_bytes`] gives: the key, then the nonce.
    pub const LEN: usize = 24;

    /// A fresh seed from the operating system's random source.
    ///
    /// ```
    /// assert_ne!(cloudcoin_raida::PanSeed::random(), cloudcoin_raida::PanSeed::random());
    /// ```
    pub fn random() -> PanSeed {
        PanSeed { key: random_bytes(), nonce: random_bytes() }
    }

    /// The seed these bytes (from [`PanSeed::to_bytes`]) hold.
    ///
    /// ```
    /// let seed = cloudcoin_raida::PanSeed::random();
    /// assert_eq!(cloudcoin_raida::PanSeed::from_bytes(seed.to_bytes()), seed);
    /// ```
    pub fn from_bytes(bytes: [u8; PanSeed::LEN]) -> PanSeed {
        let (key, nonce) = bytes.split_at(16);
        PanSeed {
            key: key.try_into().expect("16 bytes"),
            nonce: nonce.try_into().expect("8 bytes"),
        }
    }

    /// The seed's bytes: the key, then the nonce.
    ///
    /// ```
    /// assert_eq!(cloudcoin_raida::PanSeed::random().to_bytes().len(), 24);
    /// ```
    pub fn to_bytes(&self) -> [u8; PanSeed::LEN] {
        let mut bytes = [0u8; PanSeed::LEN];
        bytes[..16].copy_from_slice(&self.key);
        bytes[16..].copy_from_slice(&self.nonce);
        bytes
    }

    /// The PANs of coins `first` … `first + count - 1` of the batch, 25 a coin.
    ///
    /// ```
    /// let seed = cloudcoin_raida::PanSeed::random();
    /// assert_eq!(seed.pans(3, 2)[1], seed.pans(4, 1)[0]);
    /// ```
    pub fn pans(&self, first: usize, count: usize) -> Vec<[Key; RAIDA_COUNT]> {
        const SET: usize = 16 * RAIDA_COUNT;
        let mut bytes = vec![0u8; count * SET];
        let start = u64::try_from(first).expect("fits") * RAIDA_COUNT as u64;
        crate::crypto::apply_keystream(&self.key, &self.nonce, start, &mut bytes);
        bytes
            .chunks_exact(SET)
            .map(|set| {
                core::array::from_fn(|r| set[16 * r..16 * (r + 1)].try_into().expect("16 bytes"))
            })
            .collect()
    }
}

impl std::fmt::Debug for PanSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PanSeed(..)")
    }
}

/// One request the batch engine sends: to which RAIDA, for which coins (indices into the
/// call's coins), with which payload.
#[derive(Debug)]
struct Job {
    raida: RaidaId,
    coins: Arc<[usize]>,
    payload: Vec<u8>,
}

/// What one sent request gave.
type Outcome = Result<(Response, Duration), Failure>;

const C21: usize = 21;
const C37: usize = 37;

impl Client {
    /// A client with these settings, or the error of the first setting that cannot be used.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cloudcoin_raida::{AddressList, Client, Config, RaidaId};
    ///
    /// let list: String = (0..25).map(|i| format!("127.0.0.1:{}\n", 50000 + i)).collect();
    /// let mut config = Config::new(AddressList::parse(&list).unwrap());
    /// config.timeout = Duration::ZERO;
    /// assert!(Client::new(config.clone()).is_err());
    /// config.timeout = Duration::from_secs(5);
    /// let client = Client::new(config).unwrap();
    /// assert_eq!(client.config().coin_id, 6);
    /// // Type 0 (no key coin): no counter to learn.
    /// assert_eq!(client.counter_mode(RaidaId::new(0).unwrap()), None);
    /// ```
    pub fn new(config: Config) -> Result<Client, ConfigError> {
        config.validate()?;
        let limits = (0..RAIDA_COUNT).map(|_| Arc::new(Semaphore::new(config.requests_per_raida)));
        Ok(Client {
            inner: Arc::new(Inner {
                counters: (0..RAIDA_COUNT).map(|_| OnceCell::new()).collect(),
                limits: limits.collect(),
                config,
            }),
        })
    }

    /// The settings (see [`Client::new`] for an example).
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// RAIDA `r`'s type-1 response counter: the configured one, or the one learnt (`None`
    /// while not learnt yet). See [`Client::new`] and [`Client::learn_counters`] for examples.
    pub fn counter_mode(&self, r: RaidaId) -> Option<CounterMode> {
        match self.inner.config.response_counter {
            ResponseCounter::Restart => Some(CounterMode::Restart),
            ResponseCounter::Continue => Some(CounterMode::Continue),
            ResponseCounter::Auto => self.inner.counters[r.index()].get().copied(),
        }
    }

    /// Learns every RAIDA's response counter now (otherwise each is learnt before the first
    /// type-1 request to it). Returns the mode per RAIDA, `None` where it could not be learnt,
    /// or [`CallError::NoKeyCoin`] without a key coin.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// use cloudcoin_raida::{Client, CounterMode, KeyCoin};
    ///
    /// let mut config = client.config().clone();
    /// config.key_coin = Some(KeyCoin::from_coin(&cloudcoin_raida_sim::generate_coins(2, 9, 1)[0]));
    /// let client = Client::new(config).unwrap();
    /// let modes = client.learn_counters().await.unwrap();
    /// assert!(modes.iter().all(|m| *m == Some(CounterMode::Continue)));
    /// assert_eq!(client.counter_mode(cloudcoin_raida::RaidaId::new(3).unwrap()), Some(CounterMode::Continue));
    /// # });
    /// ```
    pub async fn learn_counters(&self) -> Result<[Option<CounterMode>; RAIDA_COUNT], CallError> {
        if self.inner.config.key_coin.is_none() {
            return Err(CallError::NoKeyCoin);
        }
        let mut set = JoinSet::new();
        for r in RaidaId::all() {
            let inner = Arc::clone(&self.inner);
            set.spawn(async move { (r, inner.counter(r).await.ok()) });
        }
        let mut modes = [None; RAIDA_COUNT];
        while let Some(done) = set.join_next().await {
            let (r, mode) = done.expect("a request task does not panic");
            modes[r.index()] = mode;
        }
        Ok(modes)
    }

    /// Echo (0/0) to every RAIDA: which are there, and how long each took.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// let echo = client.echo().await;
    /// assert_eq!(echo.said_count(), 25);
    /// # });
    /// ```
    pub async fn echo(&self) -> RaidaAnswers<Echo> {
        let jobs =
            RaidaId::all().map(|raida| Job { raida, coins: Arc::from([0]), payload: Vec::new() });
        let outcomes = self.run(Command::Echo, jobs.collect()).await;
        per_raida(outcomes, |response, elapsed| match response.status {
            Status::Success => Ok(Echo { round_trip: elapsed, exec_micros: response.exec_micros }),
            status => Err(WireError::UnexpectedStatus { status }),
        })
    }

    /// Detect (1/10): is each coin's AN right at each RAIDA. Read-only.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// use cloudcoin_raida::Grade;
    ///
    /// let answers = client.detect(&coins).await.unwrap();
    /// assert!(answers.grades().all(|(_, grade)| grade == Grade::Bank));
    /// # });
    /// ```
    pub async fn detect(&self, coins: &[Coin]) -> Result<CoinAnswers<Check>, CallError> {
        let flight = self.plan_uniform(Command::Detect, coins.len(), C21, |i, out| {
            let coin = &coins[i];
            let mut record = [0u8; C21];
            record[..5].copy_from_slice(&c5(&coin.id()));
            for (r, out) in out.iter_mut().enumerate() {
                record[5..].copy_from_slice(&coin.ans[r]);
                out.extend_from_slice(&record);
            }
        })?;
        Ok(flight.per_coin(ids(coins), |resp, n| resp.checks(n)).await)
    }

    /// Pown (1/20): where the AN is right, the RAIDA replaces it with the coin's PAN. Every
    /// coin must carry its 25 PANs ([`Coin::pans`]), written down before this call.
    ///
    /// `Pass` at RAIDA `r`: it now holds PAN `r`. `NoAnswer`: it may hold either; keep both
    /// and settle with [`Client::find`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// use cloudcoin_raida::random_key;
    ///
    /// // Make the PANs and write the coins down with them first; then:
    /// let pending: Vec<_> = coins
    ///     .iter()
    ///     .map(|c| c.clone().with_pans(std::array::from_fn(|_| random_key())))
    ///     .collect();
    /// let answers = client.pown(&pending).await.unwrap();
    /// for (i, (id, per_raida)) in answers.iter().enumerate() {
    ///     // Where it passed, the RAIDA holds the PAN: AN := PAN there. Where no answer came,
    ///     // keep both and settle with find.
    ///     assert_eq!(answers.passed_at(i).len(), 25, "{id}: {per_raida:?}");
    /// }
    /// # });
    /// ```
    pub async fn pown(&self, coins: &[Coin]) -> Result<CoinAnswers<Check>, CallError> {
        let flight = self.plan_c37(Command::Pown, coins)?;
        Ok(flight.per_coin(ids(coins), |resp, n| resp.checks(n)).await)
    }

    /// Get ticket (2/40) for coins at the RAIDA in `at[i]` (where each passes): each passing
    /// coin gets its request's ticket at that RAIDA. A ticket takes one of a RAIDA's 512 slots
    /// until claimed or expired (300 s); this is not resent.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// use cloudcoin_raida::{RaidaSet, TicketCheck};
    ///
    /// let at = vec![RaidaSet::ALL; coins.len()];
    /// let tickets = client.get_ticket(&coins, &at).await.unwrap();
    /// assert_eq!(tickets.tickets(0).iter().flatten().count(), 25);
    /// # });
    /// ```
    pub async fn get_ticket(
        &self,
        coins: &[Coin],
        at: &[RaidaSet],
    ) -> Result<CoinAnswers<TicketCheck>, CallError> {
        let targets = |i: usize| at.get(i).copied().unwrap_or(RaidaSet::EMPTY);
        let flight =
            self.plan(Command::GetTicket, coins.len(), C21, targets, None, |i, r, out| {
                put_c21(out, &coins[i].id(), &coins[i].ans[r.index()]);
            })?;
        Ok(flight
            .per_coin(ids(coins), |resp, n| {
                let (checks, ticket) = resp.ticket(n)?;
                Ok(checks
                    .into_iter()
                    .map(|c| match (c, ticket) {
                        (Check::Pass, Some(t)) => TicketCheck::Pass(t),
                        _ => TicketCheck::Fail,
                    })
                    .collect())
            })
            .await)
    }

    /// Find (2/60): does each RAIDA hold the coin's AN, its PAN, or neither. Read-only. Every
    /// coin must carry its PANs.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// use cloudcoin_raida::{random_key, Answer, Found};
    ///
    /// let pending: Vec<_> =
    ///     coins.iter().map(|c| c.clone().with_pans([random_key(); 25])).collect();
    /// let found = client.find(&pending).await.unwrap();
    /// // Nothing was powned: every RAIDA still holds the AN.
    /// assert!(found.iter().all(|(_, a)| a.iter().all(|x| *x == Answer::Said(Found::An))));
    /// # });
    /// ```
    pub async fn find(&self, coins: &[Coin]) -> Result<CoinAnswers<Found>, CallError> {
        let flight = self.plan_c37(Command::Find, coins)?;
        Ok(flight.per_coin(ids(coins), |resp, n| resp.found(n)).await)
    }

    /// Fix (2/80) each coin at the RAIDA of its `at`, on its tickets, with the pad `pg`
    /// (chosen at random and **stored before this call**). Where a coin passes, its AN there
    /// is now [`crate::fix_an`]`(r, dn, sn, pg)`. Coins with the same tickets share requests.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// use cloudcoin_raida::{fix_an, random_key, FixCoin, RaidaId, RaidaSet};
    ///
    /// let coin = &coins[0];
    /// let r0 = RaidaId::new(0).unwrap();
    /// net.sim().set_an(0, coin.id(), Some([0; 16])); // fracked at RAIDA 0
    /// let at = [RaidaSet::ALL.without(r0)];
    /// let tickets = client.get_ticket(std::slice::from_ref(coin), &at).await.unwrap();
    /// let pg = random_key(); // stored before the fix is sent
    /// let fix = FixCoin::new(coin.id(), RaidaSet::EMPTY.with(r0), tickets.tickets(0));
    /// let fixed = client.fix(&[fix], &pg).await.unwrap();
    /// assert!(fixed.coin(0).1[0].is_pass());
    /// let new_an = fix_an(r0, coin.denomination, coin.serial, &pg);
    /// assert_eq!(net.sim().an(0, coin.id()), Some(new_an));
    /// # });
    /// ```
    pub async fn fix(&self, coins: &[FixCoin], pg: &Key) -> Result<CoinAnswers<Check>, CallError> {
        let trailers: Vec<Vec<u8>> = coins
            .iter()
            .map(|c| {
                let mut t = pg.to_vec();
                for ticket in c.tickets {
                    t.extend_from_slice(&ticket.map_or(0, Ticket::get).to_be_bytes());
                }
                t
            })
            .collect();
        let flight = self.plan(
            Command::Fix,
            coins.len(),
            5,
            |i| coins[i].at,
            Some(&trailers),
            |i, _, out| {
                put_c5(out, coins[i].id.denomination, coins[i].id.serial);
            },
        )?;
        let ids = coins.iter().map(|c| c.id).collect();
        Ok(flight.per_coin(ids, |resp, n| resp.checks(n)).await)
    }

    /// Make change (9/90): break the parent into 10 children at serial numbers
    /// `start` … `start + 9`. `Said(Pass)` where it succeeded (250 or 241). A server
    /// without the command answers [`Status::InvalidCommand`]; a taken range
    /// [`Status::BadCoin`] (40). Store the start and every PAN before this call.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// use cloudcoin_raida::{random_key, Grade, MakeChange};
    ///
    /// let parent = &coins[0];
    /// let start = MakeChange::random_start();
    /// let pans = std::array::from_fn(|_| std::array::from_fn(|_| random_key()));
    /// // Store the start SN and the 250 PANs first; then:
    /// let change = MakeChange::new(parent.id(), parent.ans, start, pans);
    /// let answers = client.make_change(&change).await;
    /// assert_eq!(answers.grade(), Grade::Bank);
    /// # });
    /// ```
    pub async fn make_change(&self, change: &MakeChange) -> RaidaAnswers<Check> {
        let jobs = RaidaId::all().map(|r| {
            let mut payload = Vec::with_capacity(C21 + 4 + 160);
            put_c21(&mut payload, &change.parent, &change.parent_ans[r.index()]);
            payload.extend_from_slice(&change.start.get().to_be_bytes());
            for child in &change.child_pans {
                payload.extend_from_slice(&child[r.index()]);
            }
            Job { raida: r, coins: Arc::from([0]), payload }
        });
        let outcomes = self.run(Command::MakeChange, jobs.collect()).await;
        per_raida(outcomes, |response, _| match response.status {
            Status::Success | Status::AllPass => Ok(Check::Pass),
            Status::AllFail => Ok(Check::Fail),
            status => Err(WireError::UnexpectedStatus { status }),
        })
    }

    /// Change SNs (9/91): free serial numbers of the denomination below `denomination`, for a
    /// break (`Break`) or join (`Join`) in `session`.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// use cloudcoin_raida::{PageOp, Session};
    ///
    /// let free = client.change_serials(Session::random(), PageOp::Break, coins[0].denomination).await;
    /// assert!(free.iter().all(|(_, a)| a.said().is_some_and(|f| f.serials.len() == 64)));
    /// # });
    /// ```
    pub async fn change_serials(
        &self,
        session: Session,
        op: PageOp,
        denomination: Denomination,
    ) -> RaidaAnswers<FreeSerials> {
        let mut payload = session.bytes().to_vec();
        payload.push(match op {
            PageOp::Break => 1,
            PageOp::Join => 2,
        });
        payload.push(denomination.code().to_be_bytes()[0]);
        let jobs = RaidaId::all().map(|raida| Job {
            raida,
            coins: Arc::from([0]),
            payload: payload.clone(),
        });
        let outcomes = self.run(Command::ChangeSerials, jobs.collect()).await;
        per_raida(outcomes, |response, _| response.free_serials())
    }

    /// Break (9/92) the page's parent into its 10 children. `Said(Pass)` on 250,
    /// `Said(Fail)` on 242 (a wrong AN); [`Status::PageNotReserved`] (41) where the change
    /// SNs reserved nothing (always, on the published server).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// use cloudcoin_raida::{random_key, Page, PageCoin, PageOp, Session};
    ///
    /// let parent = &coins[0];
    /// let session = Session::random();
    /// let free = client.change_serials(session, PageOp::Break, parent.denomination).await;
    /// let serials = &free.get(cloudcoin_raida::RaidaId::new(0).unwrap()).said().unwrap().serials;
    /// let children: Vec<PageCoin> = serials[..10]
    ///     .iter()
    ///     .map(|sn| PageCoin::new(*sn, std::array::from_fn(|_| random_key())))
    ///     .collect();
    /// let page = Page::new(session, parent.id(), parent.ans, children);
    /// let answers = client.break_coin(&page).await.unwrap();
    /// // 25 passes where change SNs reserved the page; 41 everywhere on the published server.
    /// assert_eq!(answers.tally().pass, 25);
    /// # });
    /// ```
    pub async fn break_coin(&self, page: &Page) -> Result<RaidaAnswers<Check>, CallError> {
        self.page(Command::Break, page).await
    }

    /// Join (9/93): the same shape as a break, the other way.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let coins = cloudcoin_raida_sim::generate_coins(1, 1, 3);
    /// # let sim = cloudcoin_raida_sim::SimConfig::default().with_coins(coins.clone())
    /// #     .with_coins(cloudcoin_raida_sim::generate_coins(2, 9, 1))
    /// #     .with_reservation(cloudcoin_raida_sim::Reservation::Reserve);
    /// # let net = cloudcoin_raida_sim::Network::start(sim).await.unwrap();
    /// # let list = cloudcoin_raida::AddressList::parse(&net.address_list()).unwrap();
    /// # let client = cloudcoin_raida::Client::new(cloudcoin_raida::Config::new(list)).unwrap();
    /// use cloudcoin_raida::{random_key, Page, PageCoin, PageOp, Session};
    /// use cloudcoin_domain::{CoinId, Denomination};
    ///
    /// // Ten coins of 1 (code 0) become one coin of 10 (code 1).
    /// # let tens = cloudcoin_raida_sim::generate_coins(0, 50, 10);
    /// # for c in &tens { for r in 0..25u8 { net.sim().set_an(r, c.id(), Some(c.ans[usize::from(r)])); } }
    /// let session = Session::random();
    /// let free = client.change_serials(session, PageOp::Join, Denomination::from_code(0)).await;
    /// let sn = free.get(cloudcoin_raida::RaidaId::new(0).unwrap()).said().unwrap().serials[0];
    /// let joined = CoinId { denomination: Denomination::from_code(1), serial: sn };
    /// let children = tens.iter().map(|c| PageCoin::new(c.serial, c.ans)).collect();
    /// let page = Page::new(session, joined, std::array::from_fn(|_| random_key()), children);
    /// assert_eq!(client.join(&page).await.unwrap().tally().pass, 25);
    /// # });
    /// ```
    pub async fn join(&self, page: &Page) -> Result<RaidaAnswers<Check>, CallError> {
        self.page(Command::Join, page).await
    }

    async fn page(&self, command: Command, page: &Page) -> Result<RaidaAnswers<Check>, CallError> {
        if page.children.len() != 10 {
            return Err(CallError::WrongChildCount { found: page.children.len() });
        }
        if self.inner.config.page_reservation == PageReservation::NotReserved {
            return Err(CallError::PagesNotReserved);
        }
        let child_dn = Denomination::from_code(page.parent.denomination.code().wrapping_sub(1));
        let jobs = RaidaId::all().map(|r| {
            let mut payload = page.session.bytes().to_vec();
            put_c21(&mut payload, &page.parent, &page.parent_keys[r.index()]);
            for child in &page.children {
                put_c5(&mut payload, child_dn, child.serial);
                payload.extend_from_slice(&child.keys[r.index()]);
            }
            Job { raida: r, coins: Arc::from([0]), payload }
        });
        let outcomes = self.run(command, jobs.collect()).await;
        Ok(per_raida(outcomes, |response, _| match response.status {
            Status::Success | Status::AllPass => Ok(Check::Pass),
            Status::AllFail => Ok(Check::Fail),
            status => Err(WireError::UnexpectedStatus { status }),
        }))
    }

    /// Splits a batch of `n` coins into requests: per RAIDA, the coins whose target set holds
    /// it, grouped by trailer (a fix's PG and tickets), in requests of nearly equal size.
    /// The requests of a command whose records are `C37` (the coin, its AN and its PAN at each
    /// RAIDA), sent to all 25: pown and find.
    fn plan_c37(&self, command: Command, coins: &[Coin]) -> Result<Flight, CallError> {
        let pans = all_pans(coins)?;
        self.plan_uniform(command, coins.len(), C37, |i, out| {
            let coin = &coins[i];
            // The coin's DN and SN once; each RAIDA's record is then one 37-byte append.
            let mut record = [0u8; C37];
            record[..5].copy_from_slice(&c5(&coin.id()));
            for (r, out) in out.iter_mut().enumerate() {
                record[5..C21].copy_from_slice(&coin.ans[r]);
                record[C21..].copy_from_slice(&pans[i][r]);
                out.extend_from_slice(&record);
            }
        })
    }

    /// [`Client::plan`] for a batch sent whole to all 25 RAIDA with no trailer (detect, pown,
    /// find): every RAIDA gets the same split, so the payloads are written coin by coin — each
    /// coin's keys read once, its 25 records appended to the 25 payloads of its part — and the
    /// 25 requests of a part leave when it is written.
    fn plan_uniform(
        &self,
        command: Command,
        n: usize,
        record_len: usize,
        records: impl Fn(usize, &mut [Vec<u8>; RAIDA_COUNT]),
    ) -> Result<Flight, CallError> {
        let max_body = self.inner.config.max_body_len.min(crate::wire::MAX_BODY_LEN);
        let per_request = max_body.saturating_sub(BODY_OVERHEAD) / record_len;
        if per_request == 0 && n > 0 {
            return Err(CallError::TooLarge);
        }
        let mut flight = Flight::new(self, command);
        if n == 0 {
            return Ok(flight);
        }
        let size = n.div_ceil(n.div_ceil(per_request));
        for start in (0..n).step_by(size) {
            let part = start..n.min(start + size);
            let mut payloads: [Vec<u8>; RAIDA_COUNT] =
                core::array::from_fn(|_| Vec::with_capacity(part.len() * record_len));
            for i in part.clone() {
                records(i, &mut payloads);
            }
            let coins: Arc<[usize]> = part.collect();
            for (r, payload) in RaidaId::all().zip(payloads) {
                flight.send(Job { raida: r, coins: Arc::clone(&coins), payload });
            }
        }
        Ok(flight)
    }

    /// Every request is sent as soon as its payload is built, so the first requests are on
    /// their way while the last are being written. Nothing is sent when a record cannot fit.
    fn plan(
        &self,
        command: Command,
        n: usize,
        record_len: usize,
        targets: impl Fn(usize) -> RaidaSet,
        trailers: Option<&[Vec<u8>]>,
        record: impl Fn(usize, RaidaId, &mut Vec<u8>),
    ) -> Result<Flight, CallError> {
        let max_body = self.inner.config.max_body_len.min(crate::wire::MAX_BODY_LEN);
        let targets: Vec<RaidaSet> = (0..n).map(targets).collect();
        let trailer = |i: usize| trailers.map_or(&[][..], |t| &t[i][..]);
        // Coins with equal trailers share requests: each coin's group is found once (by the
        // first coin with its trailer), not by comparing trailers again for every RAIDA.
        let group_of: Vec<usize> = match trailers {
            None => vec![0; n],
            Some(t) => {
                let mut firsts: HashMap<&[u8], usize> = HashMap::new();
                (0..n)
                    .map(|i| {
                        let next = firsts.len();
                        *firsts.entry(&t[i][..]).or_insert(next)
                    })
                    .collect()
            }
        };
        let group_count = group_of.iter().max().map_or(0, |g| g + 1);
        let per_request =
            |trailer: &[u8]| max_body.saturating_sub(BODY_OVERHEAD + trailer.len()) / record_len;
        if (0..n).any(|i| !targets[i].is_empty() && per_request(trailer(i)) == 0) {
            return Err(CallError::TooLarge);
        }
        let mut flight = Flight::new(self, command);
        for r in RaidaId::all() {
            let mut groups: Vec<Vec<usize>> = vec![Vec::new(); group_count];
            for i in (0..n).filter(|i| targets[*i].contains(r)) {
                groups[group_of[i]].push(i);
            }
            for members in groups.into_iter().filter(|m| !m.is_empty()) {
                let trailer = trailer(members[0]);
                let requests = members.len().div_ceil(per_request(trailer));
                let size = members.len().div_ceil(requests);
                for chunk in members.chunks(size) {
                    let mut payload = Vec::with_capacity(chunk.len() * record_len + trailer.len());
                    for &i in chunk {
                        record(i, r, &mut payload);
                    }
                    payload.extend_from_slice(trailer);
                    flight.send(Job { raida: r, coins: Arc::from(chunk), payload });
                }
            }
        }
        Ok(flight)
    }

    /// Sends every job at once (up to the per-RAIDA limit) and returns each with its outcome.
    async fn run(&self, command: Command, jobs: Vec<Job>) -> Vec<(Job, Outcome)> {
        let mut flight = Flight::new(self, command);
        for job in jobs {
            flight.send(job);
        }
        let mut all = Vec::with_capacity(flight.jobs.len());
        flight.land(|job, outcome| all.push((job, outcome))).await;
        all
    }
}

/// The requests of one call in flight: each on a task of its own (at most
/// [`Config::requests_per_raida`] at once to one RAIDA), and the jobs they carry.
struct Flight {
    inner: Arc<Inner>,
    command: Command,
    set: JoinSet<(usize, Outcome)>,
    /// The jobs sent, without their payloads.
    jobs: Vec<Option<Job>>,
}

impl Flight {
    fn new(client: &Client, command: Command) -> Flight {
        Flight { inner: Arc::clone(&client.inner), command, set: JoinSet::new(), jobs: Vec::new() }
    }

    /// Sends `job` now.
    fn send(&mut self, mut job: Job) {
        let inner = Arc::clone(&self.inner);
        let payload = std::mem::take(&mut job.payload);
        let (index, raida, command) = (self.jobs.len(), job.raida, self.command);
        self.set.spawn(async move { (index, inner.send(command, raida, payload).await) });
        self.jobs.push(Some(job));
    }

    /// Waits for every request, handing each job and its outcome to `each` as it lands.
    async fn land(mut self, mut each: impl FnMut(Job, Outcome)) {
        while let Some(done) = self.set.join_next().await {
            let (index, outcome) = done.expect("a request task does not panic");
            if let Some(job) = self.jobs.get_mut(index).and_then(Option::take) {
                each(job, outcome);
            }
        }
    }

    /// Waits for every request and gathers one answer per RAIDA per coin, reading each
    /// response as it lands (while the others are still on their way).
    async fn per_coin<T>(
        self,
        coins: Vec<CoinId>,
        decode: impl Fn(&Response, usize) -> Result<Vec<T>, WireError>,
    ) -> CoinAnswers<T> {
        let mut answers: Vec<[Answer<T>; RAIDA_COUNT]> = (0..coins.len())
            .map(|_| core::array::from_fn(|_| Answer::NotSent(NotSent::NotAsked)))
            .collect();
        self.land(|job, outcome| {
            let r = job.raida.index();
            let miss = match outcome {
                Err(Failure::NotSent(why)) => Miss::NotSent(why),
                Err(Failure::Silent(why)) => Miss::NoAnswer(why),
                Ok((response, _)) => match decode(&response, job.coins.len()) {
                    Ok(said) if said.len() == job.coins.len() => {
                        for (&i, t) in job.coins.iter().zip(said) {
                            answers[i][r] = Answer::Said(t);
                        }
                        return;
                    }
                    Err(WireError::UnexpectedStatus { status }) => Miss::Status(status),
                    Ok(_) | Err(_) => Miss::NoAnswer(Silence::Garbled),
                },
            };
            for &i in job.coins.iter() {
                answers[i][r] = miss.answer();
            }
        })
        .await;
        CoinAnswers { coins, answers }
    }
}

/// Whether change SNs asks for serial numbers for a break or a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageOp {
    /// Op 1: serial numbers for the 10 children of a break.
    Break,
    /// Op 2: a serial number for the coin of a join.
    Join,
}

impl Inner {
    /// Sends one request to RAIDA `r` and returns its checked (and decrypted) response.
    async fn send(&self, command: Command, r: RaidaId, payload: Vec<u8>) -> Outcome {
        let mode = match &self.config.key_coin {
            Some(_) => Some(
                self.counter(r).await.map_err(|()| Failure::NotSent(NotSent::CounterUnknown))?,
            ),
            None => None,
        };
        let mut request = Request::new(r, command, payload);
        request.coin_id = self.config.coin_id;
        request.key = self
            .config
            .key_coin
            .as_ref()
            .map(|k| RequestKey::new(k.id.denomination, k.id.serial, k.ans[r.index()]));
        let _permit =
            self.limits[r.index()].acquire().await.expect("the semaphore is never closed");
        self.exchange(&mut request, mode).await
    }

    /// One request with its retries (read-only commands only). The request's payload is
    /// sealed in place and sent as it is (see [`Request::seal_in_place`]).
    async fn exchange(&self, request: &mut Request, mode: Option<CounterMode>) -> Outcome {
        let head = request.seal_in_place().map_err(|_| Failure::NotSent(NotSent::NotAsked))?;
        let request = &*request;
        let frame = [&head[..], &request.payload, &TERMINATOR];
        let retries =
            if request.command.is_read_only() { self.config.read_only_retries } else { 0 };
        let address = self.config.addresses.get(request.raida);
        let mut attempt = 0;
        loop {
            let result =
                exchange(address, &frame, self.config.connect_timeout, self.config.timeout)
                    .await
                    .and_then(|done| {
                        let mut response = done.response;
                        check(request, &mut response, mode)?;
                        Ok((response, done.elapsed))
                    });
            match result {
                Err(failure) if attempt < retries => {
                    tracing::debug!(raida = %request.raida, ?failure, "no answer; resending a read-only request");
                    attempt += 1;
                }
                Err(failure) => {
                    tracing::debug!(raida = %request.raida, command = ?request.command, ?failure, "no answer");
                    return Err(failure);
                }
                Ok(ok) => return Ok(ok),
            }
        }
    }

    /// RAIDA `r`'s response counter: configured, or learnt once.
    async fn counter(&self, r: RaidaId) -> Result<CounterMode, ()> {
        match self.config.response_counter {
            ResponseCounter::Restart => Ok(CounterMode::Restart),
            ResponseCounter::Continue => Ok(CounterMode::Continue),
            ResponseCounter::Auto => {
                self.counters[r.index()].get_or_try_init(|| self.probe(r)).await.copied()
            }
        }
    }

    /// Learns RAIDA `r`'s counter mode: a type-1 detect of the key coin beside itself with a
    /// wrong AN answers 243 with the bitfield `01`; exactly one mode decrypts it to that.
    async fn probe(&self, r: RaidaId) -> Result<CounterMode, ()> {
        let key = self.config.key_coin.as_ref().ok_or(())?;
        let an = key.ans[r.index()];
        let wrong = an.map(|b| !b);
        // A 1-in-256 chance that both modes read `01`: try again with a new nonce.
        for _ in 0..4 {
            let mut payload = Vec::with_capacity(2 * C21);
            put_c21(&mut payload, &key.id, &an);
            put_c21(&mut payload, &key.id, &wrong);
            let mut request = Request::new(r, Command::Detect, payload);
            request.coin_id = self.config.coin_id;
            request.key = Some(RequestKey::new(key.id.denomination, key.id.serial, an));
            let (response, _) = {
                let _permit = self.limits[r.index()].acquire().await.map_err(|_| ())?;
                self.exchange(&mut request, None).await.map_err(|_| ())?
            };
            if response.status != Status::Mixed || response.body.len() != 1 {
                tracing::warn!(raida = %r, status = %response.status, "the key coin cannot teach the response counter here");
                return Err(());
            }
            let fits: Vec<CounterMode> = [CounterMode::Continue, CounterMode::Restart]
                .into_iter()
                .filter(|mode| {
                    let mut copy = response.clone();
                    copy.decrypt(&request, *mode);
                    copy.body == [0x01]
                })
                .collect();
            match fits.as_slice() {
                [mode] => return Ok(*mode),
                [] => return Err(()),
                _ => continue,
            }
        }
        Err(())
    }
}

/// Checks that `response` answers `request` and decrypts its body (`mode` is `None` under
/// type 0, or for the probe, which decrypts itself).
fn check(
    request: &Request,
    response: &mut Response,
    mode: Option<CounterMode>,
) -> Result<(), Failure> {
    let about_coins = matches!(
        response.status,
        Status::Success
            | Status::AllPass
            | Status::AllFail
            | Status::Mixed
            | Status::FindNeither
            | Status::FindAllAn
            | Status::FindAllPan
            | Status::FindMixed
    );
    if about_coins && !response.answers(request) {
        return Err(Failure::Silent(Silence::Garbled));
    }
    if let Some(mode) = mode {
        response.decrypt(request, mode);
    }
    Ok(())
}

/// A coin's DN (a signed byte) and SN (4 bytes, big-endian).
fn c5(id: &CoinId) -> [u8; 5] {
    let [a, b, c, d] = id.serial.get().to_be_bytes();
    [id.denomination.code().to_be_bytes()[0], a, b, c, d]
}

fn put_c21(out: &mut Vec<u8>, id: &CoinId, an: &Key) {
    put_c5(out, id.denomination, id.serial);
    out.extend_from_slice(an);
}

fn ids(coins: &[Coin]) -> Vec<CoinId> {
    coins.iter().map(Coin::id).collect()
}

fn all_pans(coins: &[Coin]) -> Result<Vec<&[Key; RAIDA_COUNT]>, CallError> {
    coins.iter().map(|c| c.pans().ok_or_else(|| CallError::MissingPans { coin: c.id() })).collect()
}

/// An answer without a value, the same for every coin of a request.
#[derive(Clone, Copy)]
enum Miss {
    Status(Status),
    NoAnswer(Silence),
    NotSent(NotSent),
}

impl Miss {
    fn answer<T>(self) -> Answer<T> {
        match self {
            Miss::Status(s) => Answer::Status(s),
            Miss::NoAnswer(s) => Answer::NoAnswer(s),
            Miss::NotSent(n) => Answer::NotSent(n),
        }
    }
}

fn per_raida<T>(
    outcomes: Vec<(Job, Outcome)>,
    decode: impl Fn(&Response, Duration) -> Result<T, WireError>,
) -> RaidaAnswers<T> {
    let mut answers: Vec<Answer<T>> =
        (0..RAIDA_COUNT).map(|_| Answer::NotSent(NotSent::NotAsked)).collect();
    for (job, outcome) in outcomes {
        answers[job.raida.index()] = match outcome {
            Err(Failure::NotSent(why)) => Answer::NotSent(why),
            Err(Failure::Silent(why)) => Answer::NoAnswer(why),
            Ok((response, elapsed)) => match decode(&response, elapsed) {
                Ok(t) => Answer::Said(t),
                Err(WireError::UnexpectedStatus { status }) => Answer::Status(status),
                Err(_) => Answer::NoAnswer(Silence::Garbled),
            },
        };
    }
    RaidaAnswers(answers)
}
