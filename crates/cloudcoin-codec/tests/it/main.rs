//! Integration tests of the codec's public surface. Built without the default features, only the
//! bin and stack tests run (the others write or read png pages, photos and zips).
// The helpers serve the modules that need every feature.
#![cfg_attr(not(all(feature = "png", feature = "paper-scan", feature = "zip")), allow(dead_code))]

mod features;
mod golden;
#[cfg(all(feature = "png", feature = "paper-scan", feature = "zip"))]
mod negative;
#[cfg(all(feature = "png", feature = "paper-scan", feature = "zip"))]
mod pans;
#[cfg(all(feature = "png", feature = "paper-scan", feature = "zip"))]
mod paper;
// It shares the paper module's coins.
#[cfg(all(feature = "pdf", feature = "zip"))]
mod pdf;
#[cfg(all(feature = "png", feature = "paper-scan", feature = "zip"))]
mod picture;
#[cfg(all(feature = "png", feature = "paper-scan", feature = "zip"))]
mod properties;
#[cfg(all(feature = "png", feature = "paper-scan", feature = "zip"))]
mod zip_archives;

use std::io::Cursor;

use cloudcoin_codec::{FileKind, WriteOptions, write_coins};
use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber, Tag};

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

/// Write options with a tag and a fixed date.
pub(crate) fn options(tag: &str) -> WriteOptions<'static> {
    WriteOptions::new().with_tag(Tag::parse(tag).expect("tag")).with_date("2026-11-29")
}

/// `coins` written as a file of `kind` with [`options`]`("")`, through the writer that kind needs.
pub(crate) fn file_of(kind: FileKind, coins: &[Coin]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match kind {
        #[cfg(feature = "zip")]
        FileKind::Zip => cloudcoin_codec::write_zip(&mut out, coins, &options("")),
        _ => write_coins(&mut out, kind, coins, &options("")),
    }
    .expect("valid coins are written");
    out.into_inner()
}
