//! `serve` in-process: graceful shutdown and the envelope for failures the service reports.

mod connections;
mod shutdown;
