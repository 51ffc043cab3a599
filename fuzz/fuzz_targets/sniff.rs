//! Arbitrary bytes into content sniffing and the reader it picks (`decode_any`).
#![no_main]

use cloudcoin_codec::{Limits, decode_any, sniff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let format = sniff(data);
    let decoded = decode_any(data, &Limits::default());
    // Bytes that are no coin file by their content cannot be read as coins.
    if format.is_err() {
        assert!(decoded.is_err());
    }
});
