//! How a simulated network behaves: the unsettled facts of the protocol sheet, the optional
//! commands, the coins it starts with, its clock and its latency.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cloudcoin_domain::{CLOUDCOIN_ID, Coin, RAIDA_COUNT};

use crate::log::LoggedRequest;

/// Where a type-1 response's keystream starts (the sheet's unsettled fact §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CounterMode {
    /// The response continues the request's counter: it starts ⌈(request body − 2) / 16⌉ blocks
    /// past the nonce (the published server on AES-NI hardware).
    #[default]
    Continue,
    /// The response starts again at counter 0 (the published server's software path, and what the
    /// reference Python client decrypts).
    Restart,
}

/// Whether the RAIDA know make change (9/90).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MakeChange {
    /// 9/90 works (the live network, as the reference client uses it).
    #[default]
    On,
    /// 9/90 answers 6, no such command (the published server).
    Off,
}

/// Whether change SNs (9/91) reserves the serial numbers it offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Reservation {
    /// As the published server: 9/91 offers SNs but reserves nothing, so break and join always
    /// answer 41.
    #[default]
    Published,
    /// 9/91 reserves the SNs it offers for the session; break and join use them.
    Reserve,
}

/// Whether fix (2/80) can confirm tickets between servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FixBetweenServers {
    /// Tickets are confirmed; a fix needs its own vote plus 13 tickets of other RAIDA.
    #[default]
    Working,
    /// As the published server build: the ticket check between servers fails, so fix answers 242.
    Never,
}

/// The simulator's clock: the time since an arbitrary start. Tickets expire by it.
///
/// ```
/// use cloudcoin_raida_sim::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let before = clock.now();
/// clock.advance(Duration::from_secs(301));
/// assert_eq!(clock.now() - before, Duration::from_secs(301));
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// The time since the clock's start.
    fn now(&self) -> Duration;
}

/// The real time, since the clock was made.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    /// A clock starting now.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{Clock, SystemClock};
    /// assert!(SystemClock::new().now() < std::time::Duration::from_secs(60));
    /// ```
    pub fn new() -> SystemClock {
        SystemClock { start: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> SystemClock {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
}

/// A clock a test moves by hand; clones share the time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at zero.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{Clock, ManualClock};
    /// assert_eq!(ManualClock::new().now(), std::time::Duration::ZERO);
    /// ```
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Moves the clock forward by `by`.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{Clock, ManualClock};
    /// let c = ManualClock::new();
    /// c.advance(std::time::Duration::from_millis(5));
    /// assert_eq!(c.now().as_millis(), 5);
    /// ```
    pub fn advance(&self, by: Duration) {
        let add = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(add, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// Called with every request a RAIDA received, before it is applied (see
/// [`SimConfig::with_observer`]).
pub type Observer = Arc<dyn Fn(&LoggedRequest) + Send + Sync>;

/// The configuration of a simulated network. Start from [`SimConfig::default`] and change what
/// the test needs.
///
/// ```
/// use cloudcoin_raida_sim::{generate_coins, CounterMode, MakeChange, SimConfig};
/// use std::time::Duration;
///
/// let config = SimConfig::default()
///     .with_coins(generate_coins(1, 1, 10))
///     .with_counter_mode(3, CounterMode::Restart)
///     .with_make_change(MakeChange::Off)
///     .with_latency(Duration::from_millis(10));
/// assert_eq!(config.coin_id(), 6);
/// ```
#[derive(Clone)]
pub struct SimConfig {
    pub(crate) coin_id: u16,
    pub(crate) counter: [CounterMode; RAIDA_COUNT],
    pub(crate) make_change: MakeChange,
    pub(crate) reservation: Reservation,
    pub(crate) fix: FixBetweenServers,
    pub(crate) latency: Duration,
    pub(crate) bind: IpAddr,
    pub(crate) ports: [u16; RAIDA_COUNT],
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) coins: Vec<Coin>,
    pub(crate) serial_limit: u32,
    pub(crate) free_sns_from: u32,
    pub(crate) observer: Option<Observer>,
    pub(crate) keep_log: bool,
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("coin_id", &self.coin_id)
            .field("counter", &self.counter)
            .field("make_change", &self.make_change)
            .field("reservation", &self.reservation)
            .field("fix", &self.fix)
            .field("latency", &self.latency)
            .field("bind", &self.bind)
            .field("ports", &self.ports)
            .field("clock", &self.clock)
            .field("coins", &self.coins.len())
            .field("serial_limit", &self.serial_limit)
            .field("free_sns_from", &self.free_sns_from)
            .field("observer", &self.observer.is_some())
            .field("keep_log", &self.keep_log)
            .finish()
    }
}

impl Default for SimConfig {
    /// Coin id 6, counter continued on every RAIDA, make change on, change SNs as published (no
    /// reservation), fix working, no latency, 127.0.0.1 with ports chosen by the system, the
    /// real clock, no coins, serial numbers below 2²⁴, free SNs offered from 16,000,000, the
    /// request log kept.
    fn default() -> SimConfig {
        SimConfig {
            coin_id: CLOUDCOIN_ID,
            counter: [CounterMode::Continue; RAIDA_COUNT],
            make_change: MakeChange::On,
            reservation: Reservation::Published,
            fix: FixBetweenServers::Working,
            latency: Duration::ZERO,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: [0; RAIDA_COUNT],
            clock: Arc::new(SystemClock::new()),
            coins: Vec::new(),
            serial_limit: 1 << 24,
            free_sns_from: 16_000_000,
            observer: None,
            keep_log: true,
        }
    }
}

impl SimConfig {
    /// The coin id the RAIDA expect in request bytes 6–7 (another answers 7).
    ///
    /// ```
    /// use cloudcoin_raida_sim::SimConfig;
    /// assert_eq!(SimConfig::default().with_coin_id(1).coin_id(), 1);
    /// ```
    pub fn with_coin_id(mut self, coin_id: u16) -> SimConfig {
        self.coin_id = coin_id;
        self
    }

    /// The configured coin id.
    ///
    /// ```
    /// use cloudcoin_raida_sim::SimConfig;
    /// assert_eq!(SimConfig::default().coin_id(), 6);
    /// ```
    pub fn coin_id(&self) -> u16 {
        self.coin_id
    }

    /// The type-1 response counter of RAIDA `raida` (ids past 24 are ignored).
    ///
    /// ```
    /// use cloudcoin_raida_sim::{CounterMode, SimConfig};
    /// let c = SimConfig::default().with_counter_mode(0, CounterMode::Restart);
    /// # let _ = c;
    /// ```
    pub fn with_counter_mode(mut self, raida: u8, mode: CounterMode) -> SimConfig {
        if let Some(slot) = self.counter.get_mut(usize::from(raida)) {
            *slot = mode;
        }
        self
    }

    /// The same type-1 response counter on every RAIDA.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{CounterMode, SimConfig};
    /// let c = SimConfig::default().with_counter_modes(CounterMode::Restart);
    /// # let _ = c;
    /// ```
    pub fn with_counter_modes(mut self, mode: CounterMode) -> SimConfig {
        self.counter = [mode; RAIDA_COUNT];
        self
    }

    /// Make change (9/90) on or off.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{MakeChange, SimConfig};
    /// let c = SimConfig::default().with_make_change(MakeChange::Off);
    /// # let _ = c;
    /// ```
    pub fn with_make_change(mut self, mode: MakeChange) -> SimConfig {
        self.make_change = mode;
        self
    }

    /// Whether change SNs (9/91) reserves pages for break and join.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{Reservation, SimConfig};
    /// let c = SimConfig::default().with_reservation(Reservation::Reserve);
    /// # let _ = c;
    /// ```
    pub fn with_reservation(mut self, mode: Reservation) -> SimConfig {
        self.reservation = mode;
        self
    }

    /// Whether fix confirms tickets between servers.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{FixBetweenServers, SimConfig};
    /// let c = SimConfig::default().with_fix(FixBetweenServers::Never);
    /// # let _ = c;
    /// ```
    pub fn with_fix(mut self, mode: FixBetweenServers) -> SimConfig {
        self.fix = mode;
        self
    }

    /// A delay added before every reply of every RAIDA (a simulated round trip).
    ///
    /// ```
    /// use cloudcoin_raida_sim::SimConfig;
    /// let c = SimConfig::default().with_latency(std::time::Duration::from_millis(20));
    /// # let _ = c;
    /// ```
    pub fn with_latency(mut self, latency: Duration) -> SimConfig {
        self.latency = latency;
        self
    }

    /// The address the 25 listeners bind to (default 127.0.0.1).
    ///
    /// ```
    /// use cloudcoin_raida_sim::SimConfig;
    /// let c = SimConfig::default().with_bind("127.0.0.1".parse().unwrap());
    /// # let _ = c;
    /// ```
    pub fn with_bind(mut self, ip: IpAddr) -> SimConfig {
        self.bind = ip;
        self
    }

    /// Fixed ports for RAIDA 0 … 24, e.g. 50000 + id like the real network (default: all 0, the
    /// system chooses, so tests can run in parallel).
    ///
    /// ```
    /// use cloudcoin_raida_sim::SimConfig;
    /// let c = SimConfig::default().with_ports(core::array::from_fn(|i| 50000 + i as u16));
    /// # let _ = c;
    /// ```
    pub fn with_ports(mut self, ports: [u16; RAIDA_COUNT]) -> SimConfig {
        self.ports = ports;
        self
    }

    /// The clock tickets expire by (default: the real time).
    ///
    /// ```
    /// use cloudcoin_raida_sim::{ManualClock, SimConfig};
    /// let clock = ManualClock::new();
    /// let c = SimConfig::default().with_clock(std::sync::Arc::new(clock.clone()));
    /// # let _ = c;
    /// ```
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> SimConfig {
        self.clock = clock;
        self
    }

    /// Adds coins: RAIDA *r* holds `coin.ans[r]` for the coin (PANs are ignored). A later coin
    /// with the same denomination and serial number replaces an earlier one.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{generate_coins, SimConfig};
    /// let c = SimConfig::default().with_coins(generate_coins(0, 100, 5));
    /// # let _ = c;
    /// ```
    pub fn with_coins<I: IntoIterator<Item = Coin>>(mut self, coins: I) -> SimConfig {
        self.coins.extend(coins);
        self
    }

    /// The first serial number past each denomination's table (default 2²⁴): a DN/SN pair past
    /// it is an unknown coin (detect fails it; find, get ticket and fix answer 40).
    ///
    /// ```
    /// use cloudcoin_raida_sim::SimConfig;
    /// let c = SimConfig::default().with_serial_limit(1_024_000);
    /// # let _ = c;
    /// ```
    pub fn with_serial_limit(mut self, limit: u32) -> SimConfig {
        self.serial_limit = limit;
        self
    }

    /// Change SNs (9/91) offers the lowest free serial numbers from this one on.
    ///
    /// ```
    /// use cloudcoin_raida_sim::SimConfig;
    /// let c = SimConfig::default().with_free_sns_from(500);
    /// # let _ = c;
    /// ```
    pub fn with_free_sns_from(mut self, first: u32) -> SimConfig {
        self.free_sns_from = first;
        self
    }

    /// Calls `observer` with every request a RAIDA receives, before it is applied and before the
    /// reply is sent — e.g. to check that a key a wallet sends is already on its disk.
    ///
    /// ```
    /// use cloudcoin_raida_sim::SimConfig;
    /// let c = SimConfig::default().with_observer(std::sync::Arc::new(|r| {
    ///     let _ = r.command;
    /// }));
    /// # let _ = c;
    /// ```
    pub fn with_observer(mut self, observer: Observer) -> SimConfig {
        self.observer = Some(observer);
        self
    }

    /// The number of coins configured (before make change, break and join change the tables).
    ///
    /// ```
    /// use cloudcoin_raida_sim::{generate_coins, SimConfig};
    /// assert_eq!(SimConfig::default().with_coins(generate_coins(0, 1, 4)).coin_count(), 4);
    /// ```
    pub fn coin_count(&self) -> usize {
        self.coins.len()
    }

    /// Whether each RAIDA keeps the log of what it received (default on; a long-running
    /// network or a benchmark may turn it off).
    ///
    /// ```
    /// use cloudcoin_raida_sim::SimConfig;
    /// let c = SimConfig::default().with_log(false);
    /// # let _ = c;
    /// ```
    pub fn with_log(mut self, keep: bool) -> SimConfig {
        self.keep_log = keep;
        self
    }
}
