//! Coins for the crate's unit tests.

use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};

/// A coin of denomination `code` and serial `sn`, every AN filled with the serial's low byte.
pub(crate) fn coin(code: i8, sn: u32) -> Coin {
    Coin::new(
        Denomination::from_code(code),
        SerialNumber::new(sn),
        [[sn as u8; 16]; RAIDA_COUNT],
        [Pown::Pass; RAIDA_COUNT],
    )
}
