//! The client against the simulator over real loopback sockets.

mod commands;
mod common;
mod faults;
mod hostile;
mod matrix;
