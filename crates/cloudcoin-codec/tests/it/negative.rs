//! Each malformed input is refused with its own error.

use cloudcoin_codec::{
    CodecError, FileKind, Limits, WriteOptions, decode_any, decode_bin, decode_png, decode_stack,
    encode_bin, write_coins,
};

use crate::{coin, file_of};

fn one_coin_file() -> Vec<u8> {
    encode_bin(&[coin(1, 12345)]).expect("encodes")
}

fn stack_with(nn: &str, dn: Option<&str>, ans: &[String]) -> Vec<u8> {
    let ans: Vec<String> = ans.iter().map(|a| format!("\"{a}\"")).collect();
    let dn = dn.map(|d| format!("\"dn\":{d},")).unwrap_or_default();
    format!("{{\"cloudcoin\":[{{\"nn\":{nn},\"sn\":\"77\",{dn}\"an\":[{}]}}]}}", ans.join(","))
        .into_bytes()
}

fn good_ans(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{:032x}", i * 0x1111)).collect()
}

#[test]
fn truncated_bin() {
    let file = one_coin_file();
    assert!(matches!(
        decode_bin(&file[..400]),
        Err(CodecError::Truncated { expected: 439, found: 400 })
    ));
    assert!(matches!(
        decode_bin(&file[..20]),
        Err(CodecError::Truncated { expected: 32, found: 20 })
    ));
    // Through content sniffing the same file is still a truncated coin file.
    assert!(matches!(
        decode_any(&file[..100], &Limits::default()),
        Err(CodecError::Truncated { expected: 439, found: 100 })
    ));
}

#[test]
fn count_disagreeing_with_length() {
    let mut file = encode_bin(&[coin(1, 1), coin(1, 2), coin(1, 3)]).expect("encodes");
    file[7] = 2;
    assert!(matches!(decode_bin(&file), Err(CodecError::CountMismatch { count: 2, len: 1253 })));
    let mut padded = one_coin_file();
    padded.push(0);
    assert!(matches!(decode_bin(&padded), Err(CodecError::CountMismatch { count: 1, len: 440 })));
}

#[test]
fn wrong_format_and_coin_id() {
    let mut file = one_coin_file();
    file[3] = 7;
    assert!(matches!(decode_bin(&file), Err(CodecError::WrongCoinId { found: 7 })));
    let mut file = one_coin_file();
    file[0] = 8;
    assert!(matches!(decode_bin(&file), Err(CodecError::UnknownFormat { found: 8 })));
    let stack = stack_with("\"1\"", Some("\"1\""), &good_ans(25));
    assert!(matches!(decode_stack(&stack), Err(CodecError::WrongCoinId { found: 1 })));
}

#[test]
fn encrypted_header() {
    let mut file = one_coin_file();
    file[5] = 1;
    assert!(matches!(decode_bin(&file), Err(CodecError::Encrypted { kind: 1 })));
    assert!(matches!(
        decode_any(&file, &Limits::default()),
        Err(CodecError::Encrypted { kind: 1 })
    ));
}

#[test]
fn unknown_state_flag() {
    let mut file = one_coin_file();
    file[15] = 2;
    assert!(matches!(decode_bin(&file), Err(CodecError::StateFlag { found: 2 })));
}

#[test]
fn duplicate_coin_in_one_file() {
    let a = encode_bin(&[coin(1, 5), coin(-1, 5)]).expect("same serial, two denominations");
    assert_eq!(decode_bin(&a).expect("two coins").len(), 2);
    let mut file = encode_bin(&[coin(1, 5), coin(1, 6)]).expect("encodes");
    file[32 + 407 + 6] = 5; // second record's serial becomes 5
    match decode_bin(&file) {
        Err(CodecError::DuplicateCoin { id }) => assert_eq!(id, coin(1, 5).id()),
        other => panic!("expected a duplicate coin, got {other:?}"),
    }
    let one = stack_with("6", Some("1"), &good_ans(25));
    let text = String::from_utf8(one).expect("utf-8");
    let entry = &text["{\"cloudcoin\":[".len()..text.len() - 2];
    let twice = format!("{{\"cloudcoin\":[{entry},{entry}]}}");
    assert!(matches!(decode_stack(twice.as_bytes()), Err(CodecError::DuplicateCoin { .. })));
    for kind in [FileKind::Bin, FileKind::Stack, FileKind::Png] {
        let mut sink = Vec::new();
        assert!(matches!(
            write_coins(&mut sink, kind, &[coin(2, 9), coin(2, 9)], &WriteOptions::new()),
            Err(CodecError::DuplicateCoin { .. })
        ));
        assert!(sink.is_empty(), "nothing is written for a refused coin set");
    }
}

#[test]
fn legacy_stack() {
    let stack = stack_with("\"1\"", None, &good_ans(25));
    match decode_stack(&stack) {
        Err(CodecError::LegacyCoin { sn }) => assert_eq!(sn, "77"),
        other => panic!("expected a legacy coin, got {other:?}"),
    }
    let err = decode_any(&stack, &Limits::default()).expect_err("legacy refused");
    assert!(err.to_string().contains("legacy"), "{err}");
}

#[test]
fn bad_hex_digit_in_25_ans() {
    let mut ans = good_ans(25);
    ans[13].replace_range(31..32, "g");
    match decode_stack(&stack_with("6", Some("1"), &ans)) {
        Err(CodecError::BadAn { coin: 0, index: 13, reason }) => {
            assert_eq!(reason, "character 32 is not a hex digit");
        }
        other => panic!("expected a bad an, got {other:?}"),
    }
}

#[test]
fn twenty_four_ans() {
    let stack = stack_with("6", Some("1"), &good_ans(24));
    assert!(matches!(decode_stack(&stack), Err(CodecError::AnCount { found: 24 })));
}

#[test]
fn stack_that_is_not_json() {
    assert!(matches!(
        decode_stack(b"{\"cloudcoin\":[{"),
        Err(CodecError::Json { line: 1, column: 15, .. })
    ));
    assert!(matches!(decode_stack(b"{\"coins\":[]}"), Err(CodecError::Json { .. })));
}

fn png_file() -> Vec<u8> {
    file_of(FileKind::Png, &[coin(1, 12345)])
}

#[test]
fn zip_needs_a_seeking_writer() {
    let mut sink = Vec::new();
    let err = write_coins(&mut sink, FileKind::Zip, &[coin(1, 1)], &WriteOptions::new())
        .expect_err("zip refused");
    assert!(matches!(err, CodecError::NeedsSeek { kind: FileKind::Zip }), "{err:?}");
    assert!(err.to_string().contains("write_zip"), "{err}");
    assert!(sink.is_empty());
}

#[test]
fn bad_png_crc() {
    let mut file = png_file();
    file[41 + 100] ^= 0x01; // a byte inside the cLDc data
    match decode_png(&file) {
        Err(CodecError::PngCrc { chunk }) => assert_eq!(chunk, "cLDc"),
        other => panic!("expected a crc error, got {other:?}"),
    }
    let mut file = png_file();
    let last = file.len() - 20; // inside the image data or its CRC
    file[last] ^= 0x80;
    assert!(matches!(decode_png(&file), Err(CodecError::PngCrc { .. })));
}

#[test]
fn png_without_coin_chunk() {
    let file = png_file();
    // Cut the cLDc chunk (length + type + 439 bytes + CRC) out from offset 33.
    let mut stripped = file[..33].to_vec();
    stripped.extend_from_slice(&file[33 + 12 + 439..]);
    assert!(image::load_from_memory(&stripped).is_ok(), "still a valid picture");
    assert!(matches!(decode_png(&stripped), Err(CodecError::NoCoinChunk)));
    // Without its chunk the page is a picture of a paper wallet: its QR codes carry the coins.
    let from_codes = decode_any(&stripped, &Limits::default()).expect("read from its QR codes");
    assert_eq!(from_codes, decode_png(&file).expect("reads"));
}

#[test]
fn png_signature_and_truncation() {
    assert!(matches!(decode_png(b"GIF89a"), Err(CodecError::NotPng)));
    let file = png_file();
    assert!(matches!(decode_png(&file[..file.len() - 5]), Err(CodecError::Truncated { .. })));
    assert!(matches!(decode_png(&file[..200]), Err(CodecError::Truncated { .. })));
}

#[test]
fn not_a_coin_file() {
    match decode_any(b"Dear Alice, here are the coins", &Limits::default()) {
        Err(CodecError::NotACoinFile { looked_like }) => {
            assert_eq!(looked_like, "30 bytes of text, which is no coin file format");
        }
        other => panic!("expected not a coin file, got {other:?}"),
    }
}
