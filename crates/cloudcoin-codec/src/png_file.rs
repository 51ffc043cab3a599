//! The PNG "paper wallet" (`docs/SPEC.md` §4.3): a real picture with a private `cLDc` chunk, directly after
//! IHDR, holding the format-9 bytes of the coins. This module reads it, with no picture library:
//! the chunks are walked and checked by hand. Writing one (the page, drawn and encoded) is
//! `png_write`, behind the `png` feature.

use cloudcoin_domain::Coin;

use crate::error::CodecError;

/// The eight bytes every PNG file starts with.
pub(crate) const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
/// The private chunk type that carries the coins.
pub(crate) const COIN_CHUNK: [u8; 4] = *b"cLDc";
/// Length, type and CRC fields around each chunk's data.
pub(crate) const CHUNK_OVERHEAD: usize = 12;

/// Reads the coins out of a PNG: checks the signature, walks every chunk up to IEND checking
/// each CRC, and decodes the first `cLDc` chunk, whose data may be format-9 bytes or (for
/// inspection only) a JSON stack, which then fails or succeeds as the stack reader says.
///
/// ```
/// use cloudcoin_codec::{decode_png, write_coins, WriteOptions};
/// use cloudcoin_domain::{Coin, Denomination, FileKind, Pown, SerialNumber, RAIDA_COUNT};
///
/// let coin = Coin::new(Denomination::from_code(0), SerialNumber::new(9), [[3; 16]; RAIDA_COUNT], [Pown::Pass; RAIDA_COUNT]);
/// let mut png = Vec::new();
/// # // Writing a page needs the `png` feature; reading it needs none.
/// # if cfg!(feature = "png") {
/// write_coins(&mut png, FileKind::Png, std::slice::from_ref(&coin), &WriteOptions::new()).unwrap();
/// assert_eq!(&png[37..41], b"cLDc"); // the coin chunk's type, right after the IHDR chunk
/// assert_eq!(decode_png(&png).unwrap()[0].ans, coin.ans);
/// # }
/// assert!(decode_png(b"GIF89a").is_err());
/// ```
pub fn decode_png(bytes: &[u8]) -> Result<Vec<Coin>, CodecError> {
    let rest = bytes.strip_prefix(PNG_SIGNATURE.as_slice()).ok_or(CodecError::NotPng)?;
    let mut payload = None;
    let mut pos = 0usize;
    loop {
        let remaining = &rest[pos..];
        if remaining.len() < CHUNK_OVERHEAD {
            return Err(CodecError::Truncated {
                expected: bytes.len() - remaining.len() + CHUNK_OVERHEAD,
                found: bytes.len(),
            });
        }
        let len = usize::try_from(u32::from_be_bytes([
            remaining[0],
            remaining[1],
            remaining[2],
            remaining[3],
        ]))
        .expect("u32 fits in usize");
        let total = len.checked_add(CHUNK_OVERHEAD).ok_or(CodecError::NotPng)?;
        if remaining.len() < total {
            return Err(CodecError::Truncated {
                expected: bytes.len() - remaining.len() + total,
                found: bytes.len(),
            });
        }
        let kind = &remaining[4..8];
        let data = &remaining[8..8 + len];
        let stored_crc = u32::from_be_bytes([
            remaining[8 + len],
            remaining[9 + len],
            remaining[10 + len],
            remaining[11 + len],
        ]);
        if crc32(&remaining[4..8 + len]) != stored_crc {
            return Err(CodecError::PngCrc { chunk: String::from_utf8_lossy(kind).into_owned() });
        }
        if kind == COIN_CHUNK && payload.is_none() {
            payload = Some(data);
        }
        pos += total;
        if kind == b"IEND" {
            break;
        }
    }
    let payload = payload.ok_or(CodecError::NoCoinChunk)?;
    match payload.first() {
        Some(&crate::bin::FORMAT_9) => crate::bin::decode_bin(payload),
        _ if crate::stack::looks_like_json(payload) => crate::stack::decode_stack(payload),
        Some(&found) => Err(CodecError::UnknownFormat { found }),
        None => Err(CodecError::Truncated { expected: crate::bin::HEADER_LEN, found: 0 }),
    }
}

/// Whether the PNG `bytes` have a `cLDc` chunk, from the chunk headers alone (no CRC check).
pub(crate) fn has_coin_chunk(bytes: &[u8]) -> bool {
    let Some(mut rest) = bytes.strip_prefix(PNG_SIGNATURE.as_slice()) else {
        return false;
    };
    while rest.len() >= CHUNK_OVERHEAD {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = &rest[4..8];
        if kind == COIN_CHUNK {
            return true;
        }
        if kind == b"IEND" {
            break;
        }
        let Some(next) = len.checked_add(CHUNK_OVERHEAD).and_then(|total| rest.get(total..)) else {
            break;
        };
        rest = next;
    }
    false
}

/// The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320, reflected).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    !crc_update(!0, data)
}

/// The same CRC of `data` continued from `crc` (start with `!0`, finish with `!`), for data read
/// in pieces. Computed by crc32fast, which works on many bytes at a time (a 26.7 MB coin chunk in
/// a few milliseconds instead of about forty byte by byte).
pub(crate) fn crc_update(crc: u32, data: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new_with_initial(!crc);
    hasher.update(data);
    !hasher.finalize()
}

// The tests write pages to read them back.
#[cfg(all(test, feature = "png"))]
mod tests {
    use super::*;
    use crate::page;
    use crate::picture::PngLabel;
    use crate::png_write::write_png;
    use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber, Tag};

    fn label() -> PngLabel {
        PngLabel::new(&[coin()], Tag::empty(), "2026-11-29").expect("label")
    }

    fn coin() -> Coin {
        Coin::new(
            Denomination::from_code(1),
            SerialNumber::new(7),
            [[3; 16]; RAIDA_COUNT],
            [Pown::Pass; RAIDA_COUNT],
        )
    }

    #[test]
    fn crc_matches_known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        // Continued in pieces, it is the CRC of the whole.
        let (a, b) = b"123456789".split_at(4);
        assert_eq!(!crc_update(crc_update(!0, a), b), 0xCBF4_3926);
    }

    #[test]
    fn coin_chunk_sits_at_offset_33() {
        let mut out = Vec::new();
        write_png(&mut out, &[coin()], &label()).expect("writes");
        assert_eq!(&out[..8], PNG_SIGNATURE);
        assert_eq!(&out[12..16], b"IHDR");
        assert_eq!(&out[33..37], &439u32.to_be_bytes());
        assert_eq!(&out[37..41], b"cLDc");
        assert_eq!(&out[41..41 + 439], crate::bin::encode_bin(&[coin()]).expect("bin").as_slice());
        assert_eq!(decode_png(&out).expect("reads"), vec![coin()]);
    }

    #[test]
    fn coins_too_many_for_the_codes_are_streamed_into_the_chunk() {
        // 40 coins do not fit in one page's codes, so their bytes are written straight into the
        // chunk; a coin with PANs makes every record the long kind.
        let mut coins: Vec<Coin> = (0..40)
            .map(|sn| {
                Coin::new(
                    Denomination::from_code(-1),
                    SerialNumber::new(100 + sn),
                    [[sn as u8; 16]; RAIDA_COUNT],
                    [Pown::Pass; RAIDA_COUNT],
                )
            })
            .collect();
        coins[7] = coins[7].clone().with_pans([[0x5A; 16]; RAIDA_COUNT]);
        let bin = crate::bin::encode_bin(&coins).expect("bin");
        assert!(!page::SETUP.carries(bin.len()));
        let label = PngLabel::new(&coins, Tag::empty(), "2026-12-02").expect("label");
        let mut out = Vec::new();
        write_png(&mut out, &coins, &label).expect("writes");
        let len = u32::try_from(bin.len()).expect("small");
        assert_eq!(&out[33..37], &len.to_be_bytes());
        assert_eq!(&out[41..41 + bin.len()], bin.as_slice());
        let crc = &out[41 + bin.len()..45 + bin.len()];
        assert_eq!(crc, crc32(&out[37..41 + bin.len()]).to_be_bytes());
        assert_eq!(decode_png(&out).expect("reads"), decode_png_bin(&bin));
        // A duplicated coin is refused before anything is written.
        coins.push(coins[0].clone());
        let mut refused = Vec::new();
        let err = write_png(&mut refused, &coins, &label).expect_err("duplicate");
        assert!(matches!(err, CodecError::DuplicateCoin { .. }), "{err}");
        assert!(refused.is_empty());
    }

    fn decode_png_bin(bin: &[u8]) -> Vec<Coin> {
        crate::bin::decode_bin(bin).expect("bin reads")
    }

    #[test]
    fn a_stack_payload_is_read_as_a_stack() {
        let mut stack = Vec::new();
        crate::stack::write_stack(&mut stack, &[coin()]).expect("stack");
        let mut file = PNG_SIGNATURE.to_vec();
        for (kind, data) in [(*b"IHDR", &[0u8; 13][..]), (COIN_CHUNK, &stack), (*b"IEND", &[])] {
            file.extend_from_slice(&u32::try_from(data.len()).expect("small").to_be_bytes());
            let mut body = kind.to_vec();
            body.extend_from_slice(data);
            file.extend_from_slice(&body);
            file.extend_from_slice(&crc32(&body).to_be_bytes());
        }
        assert_eq!(decode_png(&file).expect("reads"), vec![coin()]);
    }
}
