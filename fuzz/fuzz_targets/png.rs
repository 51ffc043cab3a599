//! Arbitrary bytes into the PNG reader; the coins it finds must survive a format-9 re-encode.
#![no_main]

use cloudcoin_codec::{decode_bin, decode_png, encode_bin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(coins) = decode_png(data) {
        if coins.len() <= 65_535 {
            let again = encode_bin(&coins).expect("coins read from a png can be written");
            let back = decode_bin(&again).expect("our own file reads back");
            assert_eq!(back.len(), coins.len());
        }
    }
});
