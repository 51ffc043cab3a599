//! Integration tests of the codec's public surface.

mod golden;
mod negative;
mod pans;
mod picture;
mod properties;
mod zip_archives;

use cloudcoin_domain::{Amount, Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber, Tag};

/// A coin whose ANs are derived from its identity.
pub(crate) fn coin(code: i8, sn: u32) -> Coin {
    let mut ans = [[0u8; 16]; RAIDA_COUNT];
    for (i, an) in ans.iter_mut().enumerate() {
        for (j, b) in an.iter_mut().enumerate() {
            *b = u8::try_from((i * 16 + j) % 256).expect("byte") ^ sn.to_be_bytes()[3];
        }
    }
    Coin::new(Denomination::from_code(code), SerialNumber::new(sn), ans, [Pown::Pass; RAIDA_COUNT])
}

/// The same coins with every POWN untried, as several-coin format-9 files read back.
pub(crate) fn untried(coins: &[Coin]) -> Vec<Coin> {
    coins
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.pown = [Pown::Untried; RAIDA_COUNT];
            c
        })
        .collect()
}

/// A picture label.
pub(crate) fn label(amount: &str, tag: &str, coin_count: usize) -> cloudcoin_codec::PngLabel {
    cloudcoin_codec::PngLabel {
        amount: Amount::parse_request(amount).expect("amount"),
        tag: Tag::parse(tag).expect("tag"),
        coin_count,
        date: "2026-11-29".into(),
    }
}
