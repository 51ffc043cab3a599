//! The CloudCoin RAIDA protocol (v3): the wire format, one typed request and answer per
//! command, and an async client for the 25 RAIDA servers.
//!
//! The RAIDA are the 25 servers that decide whether a coin is authentic. This crate speaks
//! their binary protocol over TCP and reports, for every call, one answer per RAIDA (per coin,
//! for batch commands): [`Answer::Said`] (pass / fail / found …), [`Answer::Status`] (an error
//! or transient status), [`Answer::NoAnswer`] (sent, nothing usable came back: **maybe
//! applied**, never a "fail") or [`Answer::NotSent`]. [`grade`] turns a coin's 25 answers into
//! Bank / Fracked / Counterfeit / Limbo.
//!
//! It knows no wallet, file layout or HTTP: the caller writes down every key it is about to
//! give a RAIDA before the call, and decides what to do with the answers.
//!
//! ```no_run
//! # async fn demo(coins: Vec<cloudcoin_domain::Coin>) -> Result<(), Box<dyn std::error::Error>> {
//! use cloudcoin_raida::{AddressList, Client, Config, Grade};
//!
//! let list = AddressList::parse(&std::fs::read_to_string("raida.txt")?)?;
//! let client = Client::new(Config::new(list))?;
//! let answers = client.detect(&coins).await?;
//! for (coin, grade) in answers.grades() {
//!     if grade == Grade::Limbo {
//!         println!("{coin}: too few RAIDA answered; try again later");
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The protocol facts this crate relies on, and the three it leaves to settings (the coin id,
//! the type-1 response counter, whether change SNs reserves pages), are listed in the
//! repository's
//! [`docs/RAIDA.md`](https://github.com/cloudcoin-wallet/cloudcoin-server/blob/main/docs/RAIDA.md).
//!
//! Modules: the frames ([`Request`], [`Response`]) and their checks are pure and synchronous;
//! only [`Client`] does IO (tokio TCP).

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
mod client;
mod config;
mod crypto;
mod error;
mod ids;
mod status;
#[cfg(test)]
mod test_hex;
mod transport;
mod wire;

pub use answer::{
    AGREEMENT, Answer, CoinAnswers, Echo, Grade, NotSent, RaidaAnswers, Silence, Tally,
    TicketCheck, grade,
};
pub use client::{
    Client, FixCoin, MakeChange, Page, PageCoin, PageOp, PanSeed, Session, random_key, random_pans,
};
pub use config::{AddressList, Config, KeyCoin, PageReservation, ResponseCounter};
pub use crypto::fix_an;
pub use error::{CallError, ConfigError, WireError};
pub use ids::{Key, RaidaId, RaidaSet};
pub use status::Status;
pub use wire::{
    BODY_OVERHEAD, CHALLENGE_LEN, Challenge, Check, Command, CounterMode, DEFAULT_COIN_ID, Found,
    FreeSerials, HEADER_LEN, MAX_BODY_LEN, Request, RequestKey, Response, TERMINATOR, Ticket,
};
