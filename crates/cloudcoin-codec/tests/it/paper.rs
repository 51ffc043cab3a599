//! The printed page carries the coins: its QR codes survive printing and scanning, can be read
//! in any order and from several pictures, and a missing code is named.

use cloudcoin_codec::{
    CodecError, FileKind, Limits, PaperError, decode_any, decode_paper, decode_png, scan_picture,
};
use cloudcoin_domain::Coin;
use cloudcoin_paper_sim::{Degradation, band, print_and_scan, rasterise};

use crate::{coin, file_of};

/// `count` coins of mixed denominations.
pub(crate) fn coins(count: u32) -> Vec<Coin> {
    (0..count).map(|i| coin(i8::try_from(i % 9).expect("small") - 3, 50_000 + i * 13)).collect()
}

/// The identities and ANs of `coins`, in order: what a scan must give back.
fn ids_and_ans(coins: &[Coin]) -> Vec<(cloudcoin_domain::CoinId, [[u8; 16]; 25])> {
    coins.iter().map(|c| (c.id(), c.ans)).collect()
}

/// The page of `coins` printed (pixels only, no chunk) and scanned with `degradation`.
fn scanned(coins: &[Coin], degradation: &Degradation) -> Vec<u8> {
    let png = file_of(FileKind::Png, coins);
    let printed = rasterise(&png).expect("rasterises");
    assert!(matches!(decode_png(&printed), Err(CodecError::NoCoinChunk)), "no chunk survives");
    print_and_scan(&printed, degradation).expect("scans")
}

#[test]
fn a_scanned_page_of_1_2_and_3_coins_gives_the_same_coins() {
    // Three coins are the most a page carries (four codes).
    for count in [1, 2, 3] {
        let coins = coins(count);
        let scan = scanned(&coins, &Degradation::scan());
        assert!(scan.starts_with(&[0xFF, 0xD8, 0xFF]), "the scan is a jpeg");
        let read = decode_any(&scan, &Limits::default()).expect("the scan reads");
        assert_eq!(ids_and_ans(&read), ids_and_ans(&coins), "{count} coins");
    }
}

#[test]
fn random_degradations_are_read() {
    // The long measurement is the `scan_campaign` example; a few seeds keep the suite quick.
    let coins = coins(3);
    let png = rasterise(&file_of(FileKind::Png, &coins)).expect("rasterises");
    for seed in [11, 12, 13] {
        let scan = print_and_scan(&png, &Degradation::random(seed)).expect("scans");
        let read = decode_any(&scan, &Limits::default()).expect("the scan reads");
        assert_eq!(ids_and_ans(&read), ids_and_ans(&coins), "seed {seed}");
    }
}

#[test]
fn a_page_with_a_code_covered_is_refused_naming_it() {
    let coins = coins(3);
    let scan = scanned(&coins, &Degradation::scan().covering(3));
    let e = decode_any(&scan, &Limits::default()).expect_err("a code is missing");
    let CodecError::Paper(PaperError::Page { page, problem }) = &e else {
        panic!("expected a page's problem, got {e:?}")
    };
    assert_eq!(page.len(), 12, "the page is named by its page code");
    match problem.as_ref() {
        PaperError::Missing { total, found, missing } => {
            assert_eq!(*missing, [3]);
            assert_eq!(found.len() + 1, *total as usize);
            assert!(!found.contains(&3));
        }
        other => panic!("expected a missing code, got {other:?}"),
    }
    let message = e.to_string();
    assert!(message.contains("missing 3)"), "{message}");
}

#[test]
fn two_pictures_each_showing_part_of_the_page_are_combined() {
    let coins = coins(3);
    let printed = rasterise(&file_of(FileKind::Png, &coins)).expect("rasterises");
    // The top and bottom of the page, each a picture of its own.
    let part = |top, bottom| {
        let photo = band(&printed, top, bottom).expect("cuts");
        print_and_scan(&photo, &Degradation::scan()).expect("scans")
    };
    let (upper, lower) = (part(0, 580), part(420, 1000));
    let (a, b) = (scan_picture(&upper).expect("reads"), scan_picture(&lower).expect("reads"));
    assert!(!a.is_complete() && !b.is_complete(), "each half misses codes");
    assert!(!a.codes_read().is_empty() && !b.codes_read().is_empty());
    assert_eq!(a.code_count(), b.code_count());
    assert!(matches!(decode_any(&upper, &Limits::default()), Err(CodecError::Paper(_))));
    let read = decode_paper([&a, &b]).expect("together they are complete");
    assert_eq!(ids_and_ans(&read), ids_and_ans(&coins));
}

#[test]
fn pictures_of_two_different_pages_give_each_page_and_are_not_mixed() {
    let first_coins = coins(3);
    let first = scan_picture(&scanned(&first_coins, &Degradation::scan())).expect("reads");
    let other: Vec<Coin> = coins(4).into_iter().skip(1).collect();
    let second = scan_picture(&scanned(&other, &Degradation::scan())).expect("reads");
    assert_ne!(first.page_codes(), second.page_codes());
    let read = decode_paper([&first, &second]).expect("two whole pages");
    // Each page whole, in the order of their page codes.
    let (mut a, mut b) = (ids_and_ans(&first_coins), ids_and_ans(&other));
    if first.page_codes() > second.page_codes() {
        std::mem::swap(&mut a, &mut b);
    }
    a.extend(b);
    assert_eq!(ids_and_ans(&read), a);
}

#[test]
fn more_coins_than_a_page_carries_are_all_in_the_file_and_the_page_has_no_codes() {
    let coins = coins(60);
    let png = file_of(FileKind::Png, &coins);
    assert_eq!(ids_and_ans(&decode_png(&png).expect("reads")), ids_and_ans(&coins));
    let printed = rasterise(&png).expect("rasterises");
    // The picture itself carries no code: a printout gives nothing, and says so.
    assert_eq!(scan_picture(&printed).expect("reads").code_count(), None);
    let e = decode_any(&printed, &Limits::default()).expect_err("no codes");
    assert!(matches!(e, CodecError::Paper(PaperError::NoCodes)), "{e:?}");
}

#[test]
fn pictures_that_are_not_pages_are_refused_clearly() {
    let e = decode_any(b"\xFF\xD8\xFF\xE0 not really a jpeg", &Limits::default()).expect_err("bad");
    assert!(matches!(e, CodecError::Picture { .. }), "{e:?}");
    let mut blank = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(300, 300, image::Rgb([255, 255, 255]))
        .write_to(&mut blank, image::ImageFormat::Jpeg)
        .expect("encodes");
    let e = decode_any(&blank.into_inner(), &Limits::default()).expect_err("no codes");
    assert!(e.to_string().contains("no cloudcoin qr code could be read"), "{e}");
}
