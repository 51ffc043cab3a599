//! The pdf paper wallet: the PDF itself imports through its attachment, every page's codes carry
//! that page's coins, and more coins than paper may hold are refused.

use cloudcoin_codec::{
    CodecError, FileKind, Limits, MAX_PAPER_COINS, PaperSize, WriteOptions, decode_any, sniff,
    write_coins,
};

use crate::paper::coins;

fn pdf_of(coins: &[cloudcoin_domain::Coin], size: PaperSize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    let options = WriteOptions::new().with_date("2026-12-07").with_paper_size(size);
    write_coins(&mut out, FileKind::Pdf, coins, &options).map(|()| out)
}

#[test]
fn the_largest_paper_wallet_imports_from_its_attachment() {
    let coins = coins(u32::try_from(MAX_PAPER_COINS).expect("small"));
    for size in [PaperSize::A4, PaperSize::Letter] {
        let pdf = pdf_of(&coins, size).expect("writes");
        assert_eq!(sniff(&pdf).expect("sniffs"), FileKind::Pdf);
        let read = decode_any(&pdf, &Limits::default()).expect("reads");
        assert_eq!(read.len(), coins.len());
        assert!(read.iter().zip(&coins).all(|(a, b)| a.id() == b.id() && a.ans == b.ans));
    }
}

#[test]
fn more_coins_than_paper_holds_are_refused_saying_so() {
    let coins = coins(u32::try_from(MAX_PAPER_COINS + 1).expect("small"));
    let e = pdf_of(&coins, PaperSize::A4).expect_err("too many");
    assert!(matches!(e, CodecError::TooManyForPaper { count: 501, max: 500 }), "{e:?}");
    assert!(e.to_string().contains("more than a paper wallet may hold"), "{e}");
}

#[test]
fn a_pdf_without_the_attachment_or_pictures_gives_no_coins() {
    // The attachment's name changed: the reader finds no coins file and no page picture.
    let mut pdf = pdf_of(&coins(2), PaperSize::A4).expect("writes");
    let at = pdf.windows(9).position(|w| w == b"coins.bin").expect("named");
    pdf[at] = b'x';
    let at = pdf.windows(9).position(|w| w == b"coins.bin").map_or(0, |p| p);
    if at != 0 {
        pdf[at] = b'x';
    }
    let e = decode_any(&pdf, &Limits::default()).expect_err("no coins");
    assert!(e.to_string().contains("no cloudcoin qr code"), "{e}");
}
