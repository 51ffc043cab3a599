//! Integration tests of the service on temporary data directories.

mod bound_pages;
mod embedding;
mod export;
mod faults;
mod import_backup;
mod import_faults;
mod others;
mod paper_wallet;
mod recovery;
mod support;
mod wallets;
