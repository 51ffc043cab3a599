//! The RAIDA network, when one is configured: the protocol client, and one lock per wallet so
//! that at most one claim or healing talks to the RAIDA about a wallet's coins at a time.
//!
//! The pipelines run on blocking threads; they call the async client through
//! [`Network::block_on`], which runs a future on the service's runtime from such a thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use cloudcoin_domain::WalletName;
use cloudcoin_raida::Client;

/// One RAIDA's answer to an echo.
///
/// ```
/// use cloudcoin_tasks::RaidaHealth;
/// fn up_count(all: &[RaidaHealth]) -> usize {
///     all.iter().filter(|r| r.up).count()
/// }
/// assert_eq!(up_count(&[]), 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RaidaHealth {
    /// The RAIDA's id, 0 to 24.
    pub id: u8,
    /// Its address, as the list gives it.
    pub address: String,
    /// Whether it answered the echo.
    pub up: bool,
    /// How long the echo took, from connecting to the last byte of the answer.
    pub round_trip: Option<std::time::Duration>,
    /// The type-1 response counter seen or set for it: `"restart"`, `"continue"`, or `None`
    /// while not learnt.
    pub counter: Option<&'static str>,
}

/// The configured network.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    client: Client,
    locks: Arc<Mutex<HashMap<WalletName, Arc<Mutex<()>>>>>,
}

/// Held while a claim or a healing works on a wallet's coins with the RAIDA.
pub(crate) struct WalletTurn {
    lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for WalletTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WalletTurn")
    }
}

impl WalletTurn {
    /// Blocks until no other claim or healing works on this wallet, and holds the turn until
    /// the guard is dropped.
    pub(crate) fn hold(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Network {
    /// A network reached with `config`.
    pub(crate) fn new(
        config: cloudcoin_raida::Config,
    ) -> Result<Network, cloudcoin_raida::ConfigError> {
        Ok(Network { client: Client::new(config)?, locks: Arc::default() })
    }

    /// The protocol client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The turn of `wallet`: one claim or healing at a time.
    pub(crate) fn turn(&self, wallet: &WalletName) -> WalletTurn {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        WalletTurn { lock: locks.entry(wallet.clone()).or_default().clone() }
    }

    /// Every RAIDA's echo.
    pub(crate) async fn health(&self) -> Vec<RaidaHealth> {
        let echo = self.client.echo().await;
        echo.iter()
            .map(|(r, answer)| {
                let said = answer.said();
                RaidaHealth {
                    id: r.get(),
                    address: self.client.config().addresses.get(r).to_owned(),
                    up: said.is_some(),
                    round_trip: said.map(|e| e.round_trip),
                    counter: self.client.counter_mode(r).map(|m| match m {
                        cloudcoin_raida::CounterMode::Restart => "restart",
                        _ => "continue",
                    }),
                }
            })
            .collect()
    }

    /// Runs `future` to its end from a blocking thread of the service's runtime.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        tokio::runtime::Handle::current().block_on(future)
    }
}
