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

#[test]
fn pages_after_the_first_carry_four_coins_and_share_one_border() {
    // Three coins on the first page (the certificate), four on each page after it: 13 coins are
    // 3 + 4 + 4 + 2, on four pages of A4 and of Letter (at three a page they were five).
    for size in [PaperSize::A4, PaperSize::Letter] {
        let pdf = pdf_of(&coins(13), size).expect("writes");
        let doc = lopdf::Document::load_mem(&pdf).expect("parses");
        let pages = doc.get_pages();
        assert_eq!(pages.len(), 4, "{size:?}");
        // Every page shows the same border form (drawn once, not once a page).
        let borders: std::collections::BTreeSet<_> = pages
            .values()
            .map(|&page| {
                let resources = doc.get_page_resources(page).expect("resources").0.expect("dict");
                let forms =
                    resources.get(b"XObject").and_then(lopdf::Object::as_dict).expect("forms");
                forms.get(b"Border").and_then(lopdf::Object::as_reference).expect("border")
            })
            .collect();
        assert_eq!(borders.len(), 1, "{size:?}");
    }
    let most = pdf_of(&coins(u32::try_from(MAX_PAPER_COINS).expect("small")), PaperSize::A4)
        .expect("writes");
    let doc = lopdf::Document::load_mem(&most).expect("parses");
    assert_eq!(doc.get_pages().len(), 1 + (MAX_PAPER_COINS - 3).div_ceil(4));
}
