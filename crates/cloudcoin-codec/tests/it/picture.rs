//! The PNG of a 10.5 export is a normal picture to an independent decoder, and carries the coins.

use std::io::Cursor;

use std::cell::RefCell;

use cloudcoin_codec::{FileKind, PngLabel, decode_png, write_coins};
use cloudcoin_domain::{Amount, Tag};
use image::GenericImageView;

use crate::{coin, file_of, options, untried};

fn ten_and_a_half() -> Vec<cloudcoin_domain::Coin> {
    let mut coins = vec![coin(1, 1001)];
    coins.extend((2001..=2005).map(|sn| coin(-1, sn)));
    coins
}

fn write_sample() -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let reported = RefCell::new(Vec::new());
    let options = options("payment-to-alice").with_progress(|n| reported.borrow_mut().push(n));
    write_coins(&mut out, FileKind::Png, &ten_and_a_half(), &options).expect("writes");
    drop(options);
    assert_eq!(reported.into_inner(), [6]);
    out.into_inner()
}

#[test]
fn the_label_says_what_the_coins_are() {
    let label = PngLabel::new(&ten_and_a_half(), Tag::empty(), "").expect("label");
    assert_eq!(label.amount(), Amount::parse_request("10.5").expect("amount"));
    assert_eq!(label.coin_count(), 6);
}

#[test]
fn an_independent_decoder_reads_the_picture() {
    let bytes = write_sample();
    if let Some(path) = std::env::var_os("CLOUDCOIN_SAMPLE_PNG") {
        std::fs::write(path, &bytes).expect("sample written");
    }
    let picture = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .expect("the image crate decodes it");
    assert_eq!(picture.dimensions(), (800, 400));
    let rgb = picture.to_rgb8();
    // Corners are the gold frame; the middle band (where the amount is drawn) has several colours.
    assert_eq!(rgb.get_pixel(0, 0), rgb.get_pixel(799, 399));
    let band: std::collections::HashSet<[u8; 3]> = (120..192)
        .flat_map(|y| (40..760).map(move |x| (x, y)))
        .map(|(x, y)| rgb.get_pixel(x, y).0)
        .collect();
    assert!(band.len() >= 2, "the amount must be drawn");
}

#[test]
fn the_coins_come_back() {
    let bytes = write_sample();
    assert_eq!(&bytes[37..41], b"cLDc");
    assert_eq!(decode_png(&bytes).expect("reads"), untried(&ten_and_a_half()));
}

#[test]
fn one_coin_keeps_its_pown() {
    let mut c = coin(3, 9);
    c.pown[4] = cloudcoin_domain::Pown::Fail;
    let out = file_of(FileKind::Png, std::slice::from_ref(&c));
    assert_eq!(decode_png(&out).expect("reads"), vec![c]);
}
