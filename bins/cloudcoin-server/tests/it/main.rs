//! Integration tests: the real `cloudcoin-server` binary on 127.0.0.1:0 with a temporary data
//! directory, driven over HTTP.

mod access;
mod announce;
mod bad_requests;
mod browser;
mod claim;
#[cfg(feature = "fault-injection")]
mod crash;
mod export;
mod idempotency;
mod import_backup;
mod openapi;
mod page;
mod paths;
mod reclaim;
mod support;
