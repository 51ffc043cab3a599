//! PANs (format-9 state flag 1) survive every format that can carry them, and a stack, which
//! cannot, refuses them instead of dropping them.

use std::io::Cursor;

use cloudcoin_codec::{
    CodecError, FileKind, Limits, WriteOptions, decode_any, decode_bin, decode_png, decode_zip,
    encode_bin, write_coins, write_zip,
};
use cloudcoin_domain::Coin;

use crate::{coin, file_of};

/// `coin(code, sn)` with PANs that differ from its ANs in every byte.
fn pending(code: i8, sn: u32) -> Coin {
    let c = coin(code, sn);
    let mut pans = c.ans;
    for (i, pan) in pans.iter_mut().enumerate() {
        pan.iter_mut().for_each(|b| *b = !*b);
        pan[15] = u8::try_from(i).expect("small");
    }
    c.with_pans(pans)
}

#[test]
fn a_single_coin_file_with_pans_reads_and_writes_back_byte_for_byte() {
    let c = pending(1, 7998);
    let bytes = encode_bin(std::slice::from_ref(&c)).expect("encodes");
    assert_eq!(bytes.len(), 32 + 807);
    assert_eq!(bytes[15], 1, "state flag 1");
    assert_eq!(&bytes[32 + 407..], c.pans().expect("pans").as_flattened());
    let back = decode_any(&bytes, &Limits::default()).expect("decodes");
    assert_eq!(back, vec![c]);
    assert_eq!(encode_bin(&back).expect("encodes"), bytes);
}

#[test]
fn a_zip_keeps_each_coins_pans_and_its_plain_coins_plain() {
    let coins = vec![pending(1, 1), coin(0, 2), pending(-1, 3)];
    let mut out = Cursor::new(Vec::new());
    write_zip(&mut out, &coins, &WriteOptions::new()).expect("writes");
    let back = decode_zip(&out.into_inner(), &Limits::default()).expect("reads");
    assert_eq!(back, coins, "one single-coin bin per coin: each keeps what it had");
    assert!(back[1].pans().is_none());
}

#[test]
fn a_png_carries_the_pans_in_its_format_9_payload() {
    let coins = vec![pending(1, 1), pending(0, 2)];
    let out = file_of(FileKind::Png, &coins);
    let back = decode_png(&out).expect("reads");
    for (b, c) in back.iter().zip(&coins) {
        assert_eq!((b.id(), b.ans, b.pans()), (c.id(), c.ans, c.pans()));
    }
}

#[test]
fn a_several_coin_bin_with_pans_round_trips() {
    let coins = vec![pending(1, 1), pending(0, 2), pending(-8, 3)];
    let bytes = encode_bin(&coins).expect("encodes");
    assert_eq!(bytes.len(), 32 + 3 * 807);
    let back = decode_bin(&bytes).expect("decodes");
    assert_eq!(
        back.iter().map(Coin::pans).collect::<Vec<_>>(),
        coins.iter().map(Coin::pans).collect::<Vec<_>>()
    );
    assert_eq!(encode_bin(&back).expect("encodes"), bytes);
}

#[test]
fn a_stack_refuses_a_coin_with_pans() {
    let mut out = Vec::new();
    let refused =
        write_coins(&mut out, FileKind::Stack, &[coin(0, 1), pending(0, 2)], &WriteOptions::new());
    assert!(matches!(refused, Err(CodecError::PansNotCarried { id }) if id == pending(0, 2).id()));
    assert!(out.is_empty());
}
