//! A simulator of the 25 CloudCoin RAIDA, for tests: each logical RAIDA listens on its own
//! loopback TCP port, holds a (denomination, serial number) → AN table, and answers every
//! command of the protocol sheet (echo, detect, pown, get ticket, find, fix, make change, change
//! SNs, break, join) with the sheet's byte layout, status codes and agreement rules.
//!
//! It reads and writes the wire with its own code (it does not use the protocol crate), so a
//! client tested against it and the simulator are each held to the sheet's vectors on their own.
//!
//! What a test controls:
//! - the unsettled facts and options: coin id, the type-1 response counter per RAIDA, make
//!   change on or off, whether change SNs reserves pages, whether fix works between servers
//!   ([`SimConfig`]);
//! - a **fault plan** per RAIDA, per command, per n-th call ([`FaultRule`], [`Fault`]): drop the
//!   reply after applying, drop before applying, stall, delay, force a status, cut the reply,
//!   go offline; a fixed latency on every reply;
//! - the clock tickets expire by ([`ManualClock`]);
//! - the state: read or set any RAIDA's AN for a coin, count the RAIDA agreeing with a coin's
//!   keys ([`Simulator::an`], [`Simulator::set_an`], [`Simulator::agreeing`]);
//! - and it reads what crossed the wire: [`Simulator::log`] gives each request decoded (command,
//!   coins with their ANs and PANs, raw bytes), and [`SimConfig::with_observer`] sees each one
//!   before it is applied.
//!
//! ```
//! use cloudcoin_raida_sim::{generate_coins, Command, Fault, FaultRule, Network, SimConfig};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let coins = generate_coins(1, 1, 10);
//! let net = Network::start(SimConfig::default().with_coins(coins.clone())).await.unwrap();
//! // RAIDA 7 applies the first pown it gets but its answer is lost.
//! net.add_fault(FaultRule::new(7, Fault::DropReplyAfterApply).command(Command::Pown));
//! let list = net.address_list(); // `host:port` a line, line = RAIDA id
//! assert_eq!(list.lines().count(), 25);
//! // … point a client at `list`, then check the network's state:
//! assert_eq!(net.sim().an(7, coins[0].id()), Some(coins[0].ans[7]));
//! # });
//! ```
//!
//! The binary `cloudcoin-raida-sim` runs a network beside a wallet server until Ctrl-C.

#![warn(missing_docs)]

mod coins;
mod commands;
mod config;
mod fault;
mod log;
pub mod measure;
mod net;
mod raida;
mod sim;
mod wire;

pub use coins::{generate_coins, public_seed_an, public_seed_coin};
pub use config::{
    Clock, CounterMode, FixBetweenServers, MakeChange, ManualClock, Observer, Reservation,
    SimConfig, SystemClock,
};
pub use fault::{Calls, Fault, FaultPlan, FaultRule};
pub use log::{LoggedCoin, LoggedRequest};
pub use net::Network;
pub use sim::Simulator;
pub use wire::Command;
