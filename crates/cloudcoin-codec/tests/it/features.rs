//! A kind of file whose cargo feature is off is refused with the feature's name, and one whose
//! feature is on is not: run in every feature set CI builds (all, and none).

use cloudcoin_codec::{CodecError, Limits, WriteOptions, decode_any, write_coins};
use cloudcoin_domain::{Coin, FileKind};

/// The feature a refusal names, if the result is a refusal for a feature left out.
fn missing_feature<T>(result: Result<T, CodecError>) -> Option<&'static str> {
    match result {
        Err(CodecError::NotBuiltIn { feature, .. }) => Some(feature),
        _ => None,
    }
}

/// What the crate says of `result`, built with `feature` on (`on`) or off.
fn check<T>(feature: &'static str, on: bool, result: Result<T, CodecError>) {
    let missing = missing_feature(result);
    if on {
        assert_eq!(missing, None, "{feature} is built in");
    } else {
        assert_eq!(missing, Some(feature), "{feature} is left out");
    }
}

#[test]
fn a_kind_whose_feature_is_off_is_refused_naming_the_feature() {
    let coins: Vec<Coin> = vec![crate::coin(1, 7)];
    let write = |kind| write_coins(&mut Vec::new(), kind, &coins, &WriteOptions::new());
    check("png", cfg!(feature = "png"), write(FileKind::Png));
    check("pdf", cfg!(feature = "pdf"), write(FileKind::Pdf));

    let limits = Limits::default();
    // An empty archive is its end record alone.
    let empty_zip = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    check("zip", cfg!(feature = "zip"), decode_any(empty_zip, &limits));
    // The start of a JPEG: a photo to scan for QR codes (not a picture that decodes).
    check("paper-scan", cfg!(feature = "paper-scan"), decode_any(b"\xFF\xD8\xFF\xE0", &limits));
    check("pdf", cfg!(feature = "pdf"), decode_any(b"%PDF-1.7\n", &limits));

    // bin and stack need no feature.
    for kind in [FileKind::Bin, FileKind::Stack] {
        let mut file = Vec::new();
        write_coins(&mut file, kind, &coins, &WriteOptions::new()).expect("written");
        assert_eq!(decode_any(&file, &limits).expect("read"), coins);
    }
}
