//! Property tests of the domain crate's public surface.

mod architecture;
mod selection;
