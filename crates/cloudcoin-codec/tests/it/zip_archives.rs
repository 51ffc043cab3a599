//! Zip archives: the layout written, and what reading accepts and refuses.

use std::io::{Cursor, Write};

use std::cell::RefCell;

use cloudcoin_codec::{
    CodecError, FileKind, Limits, WriteOptions, decode_any, decode_zip, encode_bin, write_zip,
};
use cloudcoin_domain::{Tag, single_coin_file_name};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::{coin, file_of};

fn zip_of(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(method);
    for (name, data) in entries {
        if name.ends_with('/') {
            zip.add_directory(*name, options).expect("dir");
        } else {
            zip.start_file(*name, options).expect("entry");
            zip.write_all(data).expect("data");
        }
    }
    zip.finish().expect("finish").into_inner()
}

#[test]
fn written_layout_is_one_stored_single_coin_bin_per_coin() {
    let coins: Vec<_> = (1..=250).map(|sn| coin(if sn % 2 == 0 { 1 } else { -1 }, sn)).collect();
    let mut out = Cursor::new(Vec::new());
    let reported = RefCell::new(Vec::new());
    let options = WriteOptions::new().with_progress(|n| reported.borrow_mut().push(n));
    write_zip(&mut out, &coins, &options).expect("writes");
    drop(options);
    assert_eq!(reported.into_inner(), [100, 200, 250]);
    let bytes = out.into_inner();
    let mut archive = ZipArchive::new(Cursor::new(&bytes)).expect("a zip");
    assert_eq!(archive.len(), 250);
    for (i, c) in coins.iter().enumerate() {
        let mut entry = archive.by_index(i).expect("entry");
        assert_eq!(entry.compression(), CompressionMethod::Stored);
        assert_eq!(
            entry.name().expect("name"),
            single_coin_file_name(c, &Tag::empty(), FileKind::Bin)
        );
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).expect("read");
        assert_eq!(data, encode_bin(std::slice::from_ref(c)).expect("bin"));
    }
    assert_eq!(
        archive.by_index(0).expect("first").name().expect("name"),
        "0.1 CloudCoin #1 ''.bin"
    );
    assert_eq!(decode_zip(&bytes, &Limits::default()).expect("reads"), coins);
}

#[test]
fn reads_every_coin_format_inside_and_skips_directories() {
    let bin = encode_bin(&[coin(1, 1)]).expect("bin");
    let stack = file_of(FileKind::Stack, &[coin(2, 2), coin(0, 3)]);
    let png = file_of(FileKind::Png, &[coin(-3, 4)]);
    let inner = zip_of(
        &[("five.bin", &encode_bin(&[coin(4, 5)]).expect("bin"))],
        CompressionMethod::Deflated,
    );
    let outer = zip_of(
        &[
            ("coins/", b""),
            ("coins/a.bin", &bin),
            ("b.stack", &stack),
            ("c.png", &png),
            ("d.zip", &inner),
            ("__MACOSX/._a.bin", b"\x00\x05\x16\x07 apple double"),
        ],
        CompressionMethod::Deflated,
    );
    let coins = decode_any(&outer, &Limits::default()).expect("reads");
    let ids: Vec<(i8, u32)> =
        coins.iter().map(|c| (c.denomination.code(), c.serial.get())).collect();
    assert_eq!(ids, [(1, 1), (2, 2), (0, 3), (-3, 4), (4, 5)]);
}

#[test]
fn empty_archive_holds_no_coins() {
    let bytes = file_of(FileKind::Zip, &[]);
    assert!(bytes.starts_with(b"PK\x05\x06"));
    assert_eq!(decode_any(&bytes, &Limits::default()).expect("reads"), vec![]);
}

#[test]
fn non_coin_entry() {
    let bin = encode_bin(&[coin(1, 1)]).expect("bin");
    let bytes =
        zip_of(&[("a.bin", &bin), ("notes.txt", b"remember the milk")], CompressionMethod::Stored);
    match decode_zip(&bytes, &Limits::default()) {
        Err(CodecError::ZipEntryNotCoin { name, reason }) => {
            assert_eq!(name, "notes.txt");
            assert_eq!(reason, "17 bytes of text, which is no coin file format");
        }
        other => panic!("expected a non-coin entry, got {other:?}"),
    }
}

#[test]
fn broken_coin_entry_names_the_entry_and_the_cause() {
    let bin = encode_bin(&[coin(1, 1)]).expect("bin");
    let bytes = zip_of(&[("cut.bin", &bin[..300])], CompressionMethod::Stored);
    match decode_zip(&bytes, &Limits::default()) {
        Err(CodecError::ZipEntry { name, source }) => {
            assert_eq!(name, "cut.bin");
            assert!(matches!(*source, CodecError::Truncated { expected: 439, found: 300 }));
        }
        other => panic!("expected a broken entry, got {other:?}"),
    }
}

#[test]
fn duplicate_coin_across_entries() {
    let bin = encode_bin(&[coin(1, 1)]).expect("bin");
    let bytes = zip_of(&[("a.bin", &bin), ("copy of a.bin", &bin)], CompressionMethod::Stored);
    match decode_zip(&bytes, &Limits::default()) {
        Err(CodecError::DuplicateCoin { id }) => assert_eq!(id, coin(1, 1).id()),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert!(matches!(
        write_zip(Cursor::new(Vec::new()), &[coin(1, 1), coin(1, 1)], &WriteOptions::new()),
        Err(CodecError::DuplicateCoin { .. })
    ));
}

#[test]
fn entry_over_the_size_limit() {
    let limits = Limits::default().with_max_entry_bytes(1000);
    let big = encode_bin(&[coin(1, 1), coin(1, 2), coin(1, 3)]).expect("bin"); // 1,253 bytes
    let bytes = zip_of(&[("big.bin", &big)], CompressionMethod::Deflated);
    assert!(matches!(decode_zip(&bytes, &limits), Err(CodecError::TooLarge { limit: 1000, .. })));
    assert_eq!(decode_zip(&bytes, &Limits::default()).expect("fits the defaults").len(), 3);
}

#[test]
fn entry_that_expands_beyond_its_declared_size() {
    // A deflated entry of 100,000 bytes whose headers claim 100 bytes.
    let bomb = vec![b'{'; 100_000];
    let mut bytes = zip_of(&[("bomb.stack", &bomb)], CompressionMethod::Deflated);
    let declared = 100_000u32.to_le_bytes();
    let patch_at: Vec<usize> =
        bytes.windows(4).enumerate().filter(|(_, w)| *w == declared).map(|(i, _)| i).collect();
    assert_eq!(patch_at.len(), 2, "local and central headers");
    for i in patch_at {
        bytes[i..i + 4].copy_from_slice(&100u32.to_le_bytes());
    }
    let limits = Limits::default().with_max_entry_bytes(1000);
    let err = decode_zip(&bytes, &limits).expect_err("refused");
    let refused_for_size = matches!(err, CodecError::TooLarge { limit: 1000, .. });
    let refused_as_corrupt =
        matches!(&err, CodecError::ZipEntry { name, .. } if name == "bomb.stack");
    assert!(refused_for_size || refused_as_corrupt, "{err:?}");
}

#[test]
fn total_size_and_entry_count_limits() {
    let files: Vec<Vec<u8>> = (1..=5).map(|sn| encode_bin(&[coin(1, sn)]).expect("bin")).collect();
    let names: Vec<String> = (1..=5).map(|i| format!("{i}.bin")).collect();
    let entries: Vec<(&str, &[u8])> =
        names.iter().map(String::as_str).zip(files.iter().map(Vec::as_slice)).collect();
    let bytes = zip_of(&entries, CompressionMethod::Stored);
    let by_total = Limits::default().with_max_total_bytes(439 * 4);
    assert!(matches!(decode_zip(&bytes, &by_total), Err(CodecError::TooLarge { .. })));
    let by_count = Limits::default().with_max_entries(4);
    assert!(matches!(decode_zip(&bytes, &by_count), Err(CodecError::TooLarge { limit: 4, .. })));
    let enough = Limits::default().with_max_total_bytes(439 * 5).with_max_entries(5);
    assert_eq!(decode_zip(&bytes, &enough).expect("exactly at the limits").len(), 5);
}

#[test]
fn nesting_deeper_than_the_limit() {
    let bin = encode_bin(&[coin(1, 1)]).expect("bin");
    let level3 = zip_of(&[("a.bin", &bin)], CompressionMethod::Stored);
    let level2 = zip_of(&[("3.zip", &level3)], CompressionMethod::Stored);
    let level1 = zip_of(&[("2.zip", &level2)], CompressionMethod::Stored);
    assert_eq!(decode_zip(&level2, &Limits::default()).expect("depth 2").len(), 1);
    let err = decode_zip(&level1, &Limits::default()).expect_err("depth 3 refused");
    let mut source: &CodecError = &err;
    while let CodecError::ZipEntry { source: inner, .. } = source {
        source = inner;
    }
    assert!(matches!(source, CodecError::TooDeep { limit: 2 }), "{err:?}");
}

#[test]
fn not_a_zip_after_all() {
    assert!(matches!(
        decode_zip(b"PK\x03\x04garbage", &Limits::default()),
        Err(CodecError::Zip { .. })
    ));
}
