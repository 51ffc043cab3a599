//! The CloudCoin wallet server's HTTP API, version 1, on hyper 1.x.
//!
//! [`Api`] answers the endpoints of the v1 API (`/api/v1/export`, `/tasks`, `/import`,
//! `/backup`, `/wallets`, `/info`, `/health`, `/openapi.json`) in front of a
//! [`cloudcoin_tasks::Service`]; it is a hyper service that needs no socket. [`serve`] runs it on
//! a [`tokio::net::TcpListener`] with connection budgets, timeouts and graceful shutdown.
//! Every answer uses the envelope `{"status":"success","payload":…}` or
//! `{"status":"error","payload":{"status":"error","code":…,"message":…,"details":…}}`; the
//! [`wire`] module has every JSON shape as a Rust type (for clients too), [`codes`] the numeric
//! error codes, and [`OPENAPI_JSON`] the OpenAPI 3.1 document of it all.
//!
//! `GET /` serves the wallet page (HTML, CSS and JavaScript compiled in), which signs in through
//! the one-time URL of [`Api::sign_in_url`] and then calls the API with a session cookie.
//!
//! ```no_run
//! # async fn run(service: cloudcoin_tasks::Service) -> std::io::Result<()> {
//! use cloudcoin_api::{Api, ApiConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8006").await?;
//! let config = ApiConfig::default()
//!     .with_allowed_hosts(ApiConfig::hosts_for(listener.local_addr()?))
//!     .with_auth_token("a long random token");
//! Api::new(service, config)
//!     .serve(listener, async { let _ = tokio::signal::ctrl_c().await; })
//!     .await
//! # }
//! ```
//!
//! # Error codes
//!
//! The CloudCoin desktop backend's codes where one exists, and ours from 4300:
//!
//! | code | HTTP | meaning |
//! |---|---|---|
//! | 4105 | 404 | task not found |
//! | 4110 | 400 | body is not a JSON object (or repeats a key) |
//! | 4114 | 409 | wallet already exists |
//! | 4115 | 404 | wallet not found |
//! | 4116 | 409 | wallet not empty |
//! | 4121 | 400 | a field fails validation; the message starts with the field's name |
//! | 4134 | 422 | no exact set of coins; details give the nearest amounts below and above |
//! | 4135 | 422 | not enough coins; details give the balance |
//! | 4154 | 404 | no such endpoint |
//! | 4162 | 400 | unknown export type |
//! | 4193 | 422 | folder refused (not absolute, missing, not a writable directory, outside the roots) |
//! | 4300 | 422 | the amount needs more coins than one file holds (65,535) |
//! | 4301 | 422 | `Idempotency-Key` reused with a different request |
//! | 4302 | — | a task failed reading or writing files (in a failed task's `data`) |
//! | 4303 | — | a task's output did not verify (in a failed task's `data`) |
//! | 4304 | — | a task was interrupted by a stop and finished by recovery |
//! | 4305 | 500 | internal error (details only in the server log) |
//! | 4306 | 405 | method not allowed on this path (see the `Allow` header) |
//! | 4307 | 413 | request body larger than the limit |
//! | 4308 | 401 | missing or wrong bearer token |
//! | 4309 | 403 | `Host` header is not the server's own address |
//! | 4310 | 403 | `Origin` not allowed |
//! | 4311 | 408 | request body did not arrive in time |
//! | 4312 | 400 | a header that must appear once (`Host`) appears more than once |
//! | 4313 | 409 | the task has no file to download |
//! | 4314 | 410 | the task's file was moved, removed or changed since it was written |
//! | 4315 | 409 | no RAIDA network configured (`--raida-list`) |
//! | 4316 | 409 | the task is not a completed export (reclaim) |
//!
//! The same table is [`codes::ALL`], and the `x-error-codes` of the OpenAPI document.

#![warn(missing_docs)]

mod access;
mod config;
mod download;
mod error;
mod json;
mod page;
mod parse;
mod render;
mod routes;
mod server;
mod service;
mod session;

pub use cloudcoin_wire::codes;
pub use config::ApiConfig;
pub use server::serve;
pub use service::{Api, ApiBody};

/// The JSON shapes of the API, shared with clients: the [`cloudcoin_wire`] crate.
pub use cloudcoin_wire as wire;

/// The OpenAPI 3.1 document of the v1 API (JSON), as `GET /api/v1/openapi.json` serves it.
pub const OPENAPI_JSON: &str = routes::OPENAPI_JSON;
