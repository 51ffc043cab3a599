//! Arbitrary bytes into the zip reader, with small limits so that bombs are cut short quickly.
#![no_main]

use cloudcoin_codec::{Limits, decode_zip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default()
        .with_max_entry_bytes(1 << 20)
        .with_max_total_bytes(4 << 20)
        .with_max_entries(1_000)
        .with_max_depth(3);
    let _ = decode_zip(data, &limits);
});
