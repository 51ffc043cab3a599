//! Workspace-level tests of the CloudCoin crates (in `tests/`), written as an outside project
//! would write them: only the crates' public APIs, through their published features. The
//! library itself is empty; `src/bin/check-public-api.rs` is the CI's check that no public
//! signature names a type of the libraries the crates use internally.
