//! The CloudCoin crates as an outside project uses them: public APIs only.

mod api;
mod architecture;
mod files;
mod properties;
mod service;
mod test_coins;

use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};

/// A coin of denomination `code` and serial `sn`, its ANs derived from both.
pub(crate) fn coin(code: i8, sn: u32) -> Coin {
    let mut ans = [[0u8; 16]; RAIDA_COUNT];
    for (r, an) in ans.iter_mut().enumerate() {
        an[..4].copy_from_slice(&sn.to_be_bytes());
        an[4] = code.to_be_bytes()[0];
        an[5] = u8::try_from(r).expect("25 RAIDA");
    }
    Coin::new(Denomination::from_code(code), SerialNumber::new(sn), ans, [Pown::Pass; RAIDA_COUNT])
}
