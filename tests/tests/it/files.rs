//! Parse an amount, select coins, write every kind of file, read each back.

use std::io::Cursor;

use cloudcoin_codec::{
    CodecError, Limits, WriteOptions, decode_any, decode_bin, decode_png, decode_stack, decode_zip,
    sniff, write_coins, write_zip,
};
use cloudcoin_domain::{
    Amount, AmountError, FileKind, SelectError, SelectionPolicy, Tag, export_file_name,
    select_coins, select_from_pockets,
};

use crate::coin;

#[test]
fn parse_select_write_every_kind_and_read_back() {
    let wallet: Vec<_> = [(1, 1), (1, 2), (0, 3), (-1, 4), (-1, 5), (-1, 6), (-1, 7), (-1, 8)]
        .map(|(code, sn)| coin(code, sn))
        .into();
    let amount = Amount::parse_request("10.5").expect("an amount");
    assert_eq!(Amount::parse_request("1e-9"), Err(AmountError::TooManyDecimals));
    let chosen = select_coins(amount, &wallet, &SelectionPolicy::default()).expect("exact change");
    let coins = chosen.to_owned_coins();
    assert_eq!(coins.len(), 6);

    let tag = Tag::parse("payment-to-alice").expect("a tag");
    for kind in FileKind::ALL {
        let mut file = Cursor::new(Vec::new());
        let options = WriteOptions::new().with_tag(tag.clone()).with_date("2026-11-29");
        match kind {
            FileKind::Zip => write_zip(&mut file, &coins, &options),
            _ => write_coins(&mut file, kind, &coins, &options),
        }
        .expect("written");
        let bytes = file.into_inner();
        assert_eq!(sniff(&bytes).expect("a coin file"), kind);
        let back = decode_any(&bytes, &Limits::default()).expect("read back");
        let ids =
            |c: &[cloudcoin_domain::Coin]| c.iter().map(|c| (c.id(), c.ans)).collect::<Vec<_>>();
        assert_eq!(ids(&back), ids(&coins), "{kind}");
        let direct = match kind {
            FileKind::Bin => decode_bin(&bytes),
            FileKind::Stack => decode_stack(&bytes),
            FileKind::Png => decode_png(&bytes),
            FileKind::Zip => decode_zip(&bytes, &Limits::default()),
            FileKind::Pdf => cloudcoin_codec::decode_pdf(&bytes),
        }
        .expect("the kind's own reader");
        assert_eq!(direct, back);
    }
    assert_eq!(
        export_file_name(&coins, &tag, FileKind::Png),
        "10.5 CloudCoin #6 'payment-to-alice'.png"
    );
}

#[test]
fn errors_say_what_is_wrong() {
    let bank = vec![coin(1, 1)];
    let err = select_from_pockets(
        Amount::parse_request("5").expect("five"),
        &bank,
        &[],
        &SelectionPolicy::default(),
    )
    .expect_err("no change for 5");
    assert!(matches!(err, SelectError::NoExactChange { .. }), "{err}");
    assert!(err.to_string().contains("nearest above: 10"), "{err}");

    let err = write_coins(Vec::new(), FileKind::Zip, &bank, &WriteOptions::new()).expect_err("zip");
    assert!(matches!(err, CodecError::NeedsSeek { kind: FileKind::Zip }));
    let err = decode_any(b"PK\x03\x04 not really", &Limits::default()).expect_err("bad zip");
    // The zip library's error is reachable as a source, never as a type of ours.
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}
