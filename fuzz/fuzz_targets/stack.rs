//! Arbitrary bytes into the stack reader; whatever it accepts must survive a re-write.
#![no_main]

use cloudcoin_codec::{FileKind, WriteOptions, decode_stack, write_coins};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(coins) = decode_stack(data) {
        let mut again = Vec::new();
        write_coins(&mut again, FileKind::Stack, &coins, &WriteOptions::new())
            .expect("coins read from a stack can be written");
        assert_eq!(decode_stack(&again).expect("our own stack reads back"), coins);
    }
});
