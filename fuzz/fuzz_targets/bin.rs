//! Arbitrary bytes into the format-9 reader; whatever it accepts must survive a re-encode.
#![no_main]

use cloudcoin_codec::{decode_bin, encode_bin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(coins) = decode_bin(data) {
        let again = encode_bin(&coins).expect("coins read from a file can be written");
        assert_eq!(decode_bin(&again).expect("our own file reads back"), coins);
    }
});
