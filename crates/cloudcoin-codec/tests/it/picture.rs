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
fn the_picture_is_a_300_dpi_page() {
    let bytes = write_sample();
    if let Some(path) = std::env::var_os("CLOUDCOIN_SAMPLE_PNG") {
        std::fs::write(path, &bytes).expect("sample written");
    }
    let picture = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .expect("the image crate decodes it");
    // 210 × 279.4 mm at 300 dpi: the width of A4, the height of Letter.
    assert_eq!(picture.dimensions(), (2480, 3300));
    let rgb = picture.to_rgb8();
    // The paper is white; the amount (drawn large near the top) has other colours.
    assert_eq!(rgb.get_pixel(20, 20).0, [255, 255, 255]);
    let band: std::collections::HashSet<[u8; 3]> = (270..400)
        .flat_map(|y| (150..2330).map(move |x| (x, y)))
        .map(|(x, y)| rgb.get_pixel(x, y).0)
        .collect();
    assert!(band.len() >= 2, "the amount must be drawn");
    // The physical size is in a pHYs chunk after the coin chunk: 11,811 pixels a metre.
    let phys = bytes.windows(4).position(|w| w == b"pHYs").expect("a pHYs chunk");
    assert!(phys > 41 + 2 * 407 + 32, "pHYs comes after cLDc");
    assert_eq!(&bytes[phys + 4..phys + 13], &[0, 0, 0x2e, 0x23, 0, 0, 0x2e, 0x23, 1]);
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

/// Base45 (RFC 9285) decoded independently of the codec, for checking what the codes carry.
fn base45_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let values: Vec<u32> = text
        .chars()
        .map(|c| u32::try_from(ALPHABET.find(c).expect("a base45 character")).expect("small"))
        .collect();
    let mut out = Vec::new();
    for group in values.chunks(3) {
        match *group {
            [c, d, e] => {
                let n = c + 45 * d + 45 * 45 * e;
                out.extend_from_slice(&u16::try_from(n).expect("two bytes").to_be_bytes());
            }
            [c, d] => out.push(u8::try_from(c + 45 * d).expect("one byte")),
            _ => panic!("a lone base45 character"),
        }
    }
    out
}

/// The texts of the QR codes in the picture at `path`, read by zbar (`zbarimg`, from the
/// zbar-tools package), a decoder the project does not use; `None` when zbar is not installed.
fn zbar_texts(path: &std::path::Path) -> Option<Vec<String>> {
    let output = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(path)
        .output()
        .ok()?;
    assert!(output.status.success(), "zbarimg failed: {}", String::from_utf8_lossy(&output.stderr));
    Some(String::from_utf8(output.stdout).expect("utf-8").lines().map(str::to_owned).collect())
}

#[test]
#[allow(clippy::print_stderr, reason = "a test that cannot run says why")]
fn an_independent_decoder_reads_the_codes_and_they_carry_the_coin_chunk() {
    for count in [1u32, 2, 3] {
        let coins: Vec<_> =
            (0..count).map(|i| coin(i8::try_from(i % 7).expect("small") - 2, 700 + i)).collect();
        let png = file_of(FileKind::Png, &coins);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("page.png");
        std::fs::write(&path, &png).expect("written");
        let Some(texts) = zbar_texts(&path) else {
            assert!(std::env::var_os("CI").is_none(), "zbarimg must be installed in CI (.ci/run)");
            eprintln!("skipped: zbarimg (apt package zbar-tools) is not installed");
            return;
        };
        // The cLDc chunk: its length at offset 33, its data from offset 41.
        let len = u32::from_be_bytes(png[33..37].try_into().expect("four bytes")) as usize;
        let chunk = &png[41..41 + len];
        let n = texts.len();
        let mut parts = vec![None; n];
        // Every code names its page: the first six bytes of the SHA-256 of the chunk, in hex.
        let digest = <sha2::Sha256 as sha2::Digest>::digest(chunk);
        let page: String = digest[..6].iter().map(|b| format!("{b:02X}")).collect();
        let prefix = format!("CC9P:{page}:");
        for text in &texts {
            let rest = text.strip_prefix(&prefix).expect("framed as CC9P:page:i/n:data");
            let (counter, data) = rest.split_once(':').expect("i/n:");
            let (i, total) = counter.split_once('/').expect("i/n");
            assert_eq!(total.parse::<usize>().expect("n"), n, "every code says how many there are");
            let i: usize = i.parse().expect("i");
            assert!((1..=n).contains(&i) && parts[i - 1].is_none(), "code {i} once");
            parts[i - 1] = Some(base45_decode(data));
        }
        let joined: Vec<u8> = parts.into_iter().flat_map(|p| p.expect("every code")).collect();
        assert_eq!(joined, chunk, "{count} coins: the codes carry exactly the cLDc bytes");
    }
}

/// A PNG of `width` × `height` pixels of one grey, written row by row: a few kilobytes of file
/// however many pixels it has (a decompression bomb).
fn one_grey_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().expect("header");
    let mut rows = writer.stream_writer().expect("stream");
    let row = vec![200u8; width as usize];
    for _ in 0..height {
        std::io::Write::write_all(&mut rows, &row).expect("row");
    }
    rows.finish().expect("finish");
    writer.finish().expect("finish");
    out
}

#[test]
fn a_picture_over_the_pixel_budget_is_refused_from_its_header_with_its_size_and_the_limit() {
    // 7,000 × 7,000 pixels, 49 million: more than a picture that is read may have, in a file of
    // a few hundred kilobytes.
    let bomb = one_grey_png(7_000, 7_000);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    for result in [
        cloudcoin_codec::scan_picture(&bomb).map(|_| ()),
        cloudcoin_codec::decode_any(&bomb, &cloudcoin_codec::Limits::default()).map(|_| ()),
    ] {
        let message = result.expect_err("refused").to_string();
        assert!(
            message.contains("7000 × 7000 pixels") && message.contains("40000000 pixels"),
            "says its size and the limit: {message}"
        );
    }
    // Within the budget, a picture of the same kind is read (and holds no code).
    let fine = one_grey_png(3_000, 2_000);
    assert_eq!(cloudcoin_codec::scan_picture(&fine).expect("read").code_count(), None);
}
