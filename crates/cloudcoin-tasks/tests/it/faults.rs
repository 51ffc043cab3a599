//! Crash and i/o-fault tests (with the `fault-injection` feature): the test binary re-runs itself
//! as a child process that stops at a named step, then the parent reopens the data directory.
