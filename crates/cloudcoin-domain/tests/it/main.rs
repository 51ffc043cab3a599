//! Property tests of the domain crate's public surface.
//!
//! The selection properties use the crate's own `strategies` module, so they need the `proptest`
//! feature: run them with `cargo test -p cloudcoin-domain --all-features`.

#[cfg(feature = "proptest")]
mod selection;
