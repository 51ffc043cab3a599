//! Property tests: valid coin sets survive every format; no input makes a reader panic.

use std::cell::Cell;
use std::io::Cursor;

use cloudcoin_codec::{
    FileKind, Limits, WriteOptions, decode_any, decode_bin, decode_png, decode_stack, decode_zip,
    encode_bin, sniff, write_coins, write_zip,
};
use cloudcoin_domain::Coin;
use cloudcoin_domain::strategies::{self, Pans};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::untried;

/// 1..50 coins with distinct identities, any denomination code (money or not), any ANs and
/// POWN, about one in four with PANs.
fn arb_coins() -> impl Strategy<Value = Vec<Coin>> {
    strategies::coins_with(strategies::any_denomination(), Pans::Sometimes, 1..50)
}

/// The same without PANs, for the stack, which cannot carry them.
fn arb_coins_without_pans() -> impl Strategy<Value = Vec<Coin>> {
    strategies::coins_with(strategies::any_denomination(), Pans::Never, 1..50)
}

/// What a format-9 file (bin, or the payload of a png) of `coins` reads back as: several coins
/// carry no POWN; when any coin has PANs the file has state flag 1 and a coin without PANs reads
/// back with PANs equal to its ANs.
fn as_read_back(coins: &[Coin]) -> Vec<Coin> {
    let with_pans = coins.iter().any(|c| c.pans().is_some());
    let coins = if coins.len() == 1 { coins.to_vec() } else { untried(coins) };
    coins
        .into_iter()
        .map(|c| if with_pans && c.pans().is_none() { c.clone().with_pans(c.ans) } else { c })
        .collect()
}

/// The length of a format-9 file of `coins`.
fn bin_len(coins: &[Coin]) -> usize {
    let record = if coins.iter().any(|c| c.pans().is_some()) { 807 } else { 407 };
    32 + record * coins.len()
}

/// `coins` as a file of `kind`, checking the progress reports on the way.
fn write(kind: FileKind, coins: &[Coin]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let last = Cell::new(0);
    let options = WriteOptions::new().with_progress(|n| {
        assert!(n >= last.get(), "progress never goes backwards");
        last.set(n);
    });
    match kind {
        FileKind::Zip => write_zip(&mut out, coins, &options),
        _ => write_coins(&mut out, kind, coins, &options),
    }
    .expect("valid coins are written");
    assert_eq!(last.get(), coins.len(), "progress ends at the coin count");
    out.into_inner()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn bin_round_trip(coins in arb_coins()) {
        let bytes = encode_bin(&coins).expect("encodes");
        prop_assert_eq!(bytes.len(), bin_len(&coins));
        prop_assert_eq!(decode_bin(&bytes).expect("decodes"), as_read_back(&coins));
        prop_assert_eq!(write(FileKind::Bin, &coins), bytes);
    }

    #[test]
    fn stack_round_trip(coins in arb_coins_without_pans()) {
        let mut bytes = Vec::new();
        write_coins(&mut bytes, FileKind::Stack, &coins, &WriteOptions::new()).expect("writes");
        prop_assert_eq!(decode_stack(&bytes).expect("decodes"), coins.clone());
        prop_assert_eq!(decode_any(&write(FileKind::Stack, &coins), &Limits::default()).expect("any"), coins);
    }

    #[test]
    fn zip_round_trip(coins in arb_coins()) {
        let mut out = Cursor::new(Vec::new());
        write_zip(&mut out, &coins, &WriteOptions::new()).expect("writes");
        prop_assert_eq!(decode_zip(&out.into_inner(), &Limits::default()).expect("decodes"), coins.clone());
        prop_assert_eq!(decode_any(&write(FileKind::Zip, &coins), &Limits::default()).expect("any"), coins);
    }

    #[test]
    fn sniff_names_the_format_written(coins in arb_coins_without_pans()) {
        for kind in [FileKind::Bin, FileKind::Stack, FileKind::Zip] {
            prop_assert_eq!(sniff(&write(kind, &coins)).expect("sniffs"), kind);
        }
    }
}

proptest! {
    // Each case draws an 800×400 picture: fewer cases.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn png_round_trip(coins in arb_coins()) {
        let mut bytes = Vec::new();
        let options = WriteOptions::new().with_tag(cloudcoin_domain::Tag::parse("x").expect("tag"));
        write_coins(&mut bytes, FileKind::Png, &coins, &options).expect("writes");
        prop_assert_eq!(&bytes[37..41], b"cLDc");
        prop_assert_eq!(decode_png(&bytes).expect("decodes"), as_read_back(&coins));
        prop_assert_eq!(decode_any(&bytes, &Limits::default()).expect("any"), as_read_back(&coins));
    }
}

/// Feeds `bytes` to every reader; the test is that none panics.
fn feed_everything(bytes: &[u8]) {
    let limits = Limits::default();
    let _ = decode_bin(bytes);
    let _ = decode_stack(bytes);
    let _ = decode_png(bytes);
    let _ = decode_zip(bytes, &limits);
    let _ = sniff(bytes);
    let _ = decode_any(bytes, &limits);
}

/// Valid files of every format, to mutate.
fn seed_files() -> Vec<Vec<u8>> {
    let coins = vec![crate::coin(1, 1), crate::coin(-1, 2), crate::coin(11, 3)];
    let mut files: Vec<Vec<u8>> = [FileKind::Bin, FileKind::Stack, FileKind::Png, FileKind::Zip]
        .map(|k| write(k, &coins))
        .into();
    files.push(write(FileKind::Bin, &coins[..1]));
    files
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..1200)) {
        feed_everything(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_real_magic_never_panic(
        magic in prop::sample::select(vec![
            &b"\x89PNG\r\n\x1a\n"[..], b"PK\x03\x04", b"PK\x05\x06", b"\x09\x01\x00\x06\x00\x00\x00\x01",
            b"{\"cloudcoin\":[", b"\xEF\xBB\xBF{",
        ]),
        rest in vec(any::<u8>(), 0..1200),
    ) {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&rest);
        feed_everything(&bytes);
    }

    #[test]
    fn mutated_valid_files_never_panic(
        which in 0usize..5,
        flips in vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = seed_files().swap_remove(which);
        for (at, xor) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= xor;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        feed_everything(&bytes);
    }
}
