//! The PNG "paper wallet" (`docs/SPEC.md` §4.3): a real picture with a private `cLDc` chunk, directly after
//! IHDR, holding the format-9 bytes of the coins.

use std::io::Write;

use cloudcoin_domain::Coin;

use crate::error::CodecError;
use crate::page;
use crate::picture::PngLabel;

/// The eight bytes every PNG file starts with.
pub(crate) const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
/// The private chunk type that carries the coins.
const COIN_CHUNK: [u8; 4] = *b"cLDc";
/// Length, type and CRC fields around each chunk's data.
const CHUNK_OVERHEAD: usize = 12;

/// Writes `coins` as a PNG picture showing `label`, with the format-9 bytes of the coins in a
/// `cLDc` chunk at file offset 33, directly after IHDR.
pub(crate) fn write_png<W: Write>(
    w: W,
    coins: &[Coin],
    label: &PngLabel,
) -> Result<(), CodecError> {
    write_png_setup(w, coins, label, page::SETUP)
}

/// [`write_png`] with the QR codes of `setup`.
pub(crate) fn write_png_setup<W: Write>(
    w: W,
    coins: &[Coin],
    label: &PngLabel,
    setup: page::QrSetup,
) -> Result<(), CodecError> {
    let payload = crate::bin::encode_bin(coins)?;
    let canvas = page::draw(coins, &payload, label, setup);
    write_canvas(w, &payload, &canvas)
}

/// Encodes `canvas` as a 4-bit palette PNG with `payload` in the `cLDc` chunk at offset 33, and the
/// page's physical size (300 dpi) in a `pHYs` chunk after it.
pub(crate) fn write_canvas<W: Write>(
    mut w: W,
    payload: &[u8],
    canvas: &crate::picture::Canvas,
) -> Result<(), CodecError> {
    {
        let mut encoder = png::Encoder::new(&mut w, canvas.width(), canvas.height());
        // The page has eight inks: four bits a pixel with a palette, a sixth of the bytes of RGB
        // to compress (measured: the 6-coin page 94 KB instead of 216 KB, and faster to write).
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Four);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_filter(png::Filter::Adaptive);
        // No palette or optional chunk is configured, so the header is the signature and IHDR
        // only, and the coin chunk written next lands at offset 33; the palette follows it (PLTE
        // must only come before the image data).
        let mut writer = encoder.write_header().map_err(png_error)?;
        writer.write_chunk(png::chunk::ChunkType(COIN_CHUNK), payload).map_err(png_error)?;
        writer.write_chunk(png::chunk::PLTE, &crate::picture::Ink::palette()).map_err(png_error)?;
        let ppm = page::PIXELS_PER_METRE.to_be_bytes();
        let mut phys = [0u8; 9];
        phys[..4].copy_from_slice(&ppm);
        phys[4..8].copy_from_slice(&ppm);
        phys[8] = 1; // unit: the metre
        writer.write_chunk(png::chunk::pHYs, &phys).map_err(png_error)?;
        let mut stream = writer.stream_writer().map_err(png_error)?;
        let mut row = Vec::with_capacity(canvas.width().div_ceil(2) as usize);
        for y in 0..canvas.height() {
            canvas.indexed_row(y, &mut row);
            stream.write_all(&row)?;
        }
        stream.finish().map_err(png_error)?;
    }
    w.flush()?;
    Ok(())
}

fn png_error(e: png::EncodingError) -> CodecError {
    match e {
        png::EncodingError::IoError(io) => CodecError::Io(io),
        other => CodecError::PngEncode { source: crate::error::LibraryError::new(other) },
    }
}

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
/// write_coins(&mut png, FileKind::Png, std::slice::from_ref(&coin), &WriteOptions::new()).unwrap();
/// assert_eq!(&png[37..41], b"cLDc"); // the coin chunk's type, right after the IHDR chunk
/// assert_eq!(decode_png(&png).unwrap()[0].ans, coin.ans);
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
        _ if crate::sniff::looks_like_json(payload) => crate::stack::decode_stack(payload),
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
/// in pieces.
pub(crate) fn crc_update(mut crc: u32, data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut n = 0;
        while n < 256 {
            let mut c = n as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
                k += 1;
            }
            table[n] = c;
            n += 1;
        }
        table
    };
    for &b in data {
        crc = TABLE[usize::from((crc as u8) ^ b)] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;
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
