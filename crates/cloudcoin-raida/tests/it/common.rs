//! A simulated network and a client pointed at it.

use std::time::Duration;

use cloudcoin_domain::{Coin, RAIDA_COUNT};
use cloudcoin_raida::{AddressList, Client, Config, KeyCoin, RaidaId, random_key};
use cloudcoin_raida_sim::{Network, SimConfig, generate_coins};

/// The denomination and serial number of the key coin every network holds.
pub(crate) const KEY_DN: i8 = 2;
pub(crate) const KEY_SN: u32 = 900_000;

/// A running network holding `coins` and the key coin.
pub(crate) async fn network(config: SimConfig, coins: &[Coin]) -> Network {
    let mut all = coins.to_vec();
    all.extend(key_coin_coin());
    Network::start(config.with_coins(all)).await.expect("the simulator starts on loopback")
}

pub(crate) fn key_coin_coin() -> Vec<Coin> {
    generate_coins(KEY_DN, KEY_SN, 1)
}

pub(crate) fn key_coin() -> KeyCoin {
    KeyCoin::from_coin(&key_coin_coin()[0])
}

/// The default client settings for `net`.
pub(crate) fn config(net: &Network) -> Config {
    let addrs: [std::net::SocketAddr; RAIDA_COUNT] =
        net.addresses().try_into().expect("25 addresses");
    let mut config = Config::new(AddressList::from_socket_addrs(addrs));
    config.timeout = Duration::from_secs(20);
    config
}

pub(crate) fn client(config: Config) -> Client {
    Client::new(config).expect("valid settings")
}

/// The coins with fresh random PANs.
pub(crate) fn with_pans(coins: &[Coin]) -> Vec<Coin> {
    coins.iter().map(|c| c.clone().with_pans(std::array::from_fn(|_| random_key()))).collect()
}

/// The coins with their PANs as ANs (after a pown passed everywhere).
pub(crate) fn powned(coins: &[Coin]) -> Vec<Coin> {
    coins
        .iter()
        .map(|c| {
            let mut next = c.clone().without_pans();
            next.ans = *c.pans().expect("coins with PANs");
            next
        })
        .collect()
}

pub(crate) fn r(n: u8) -> RaidaId {
    RaidaId::new(n).expect("a RAIDA id")
}
