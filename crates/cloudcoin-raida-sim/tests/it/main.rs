//! The simulator over real loopback sockets: the protocol sheet's §7 vectors as raw bytes, the
//! commands' agreement rules, and the fault plan.

mod commands;
mod faults;
mod independence;
mod properties;
mod req;
mod vectors;
