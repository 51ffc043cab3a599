//! Integration tests: the real `cloudcoin` binary against the real `cloudcoin-server` binary on
//! 127.0.0.1:0 with a temporary data directory.

mod change;
mod failures;
mod first_hour;
mod layering;
mod retry;
mod support;
mod terminal;
mod walkthrough;
