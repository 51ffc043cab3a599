//! The PNG "paper wallet" (`docs/SPEC.md` §4.3): a real picture with a private `cLDc` chunk, directly after
//! IHDR, holding the format-9 bytes of the coins.

use std::borrow::Borrow;
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
pub(crate) fn write_png<W: Write, C: Borrow<Coin>>(
    w: W,
    coins: &[C],
    label: &PngLabel,
) -> Result<(), CodecError> {
    write_png_setup(w, coins, label, page::SETUP)
}

/// [`write_png`] with the QR codes of `setup`.
///
/// The coins' format-9 bytes are built in memory only when they fit in QR codes on the page (a
/// few dozen coins); otherwise they are written straight into the `cLDc` chunk, coin by coin,
/// so a 65,535-coin file never holds a second copy of its coins in memory.
pub(crate) fn write_png_setup<W: Write, C: Borrow<Coin>>(
    w: W,
    coins: &[C],
    label: &PngLabel,
    setup: page::QrSetup,
) -> Result<(), CodecError> {
    let count = crate::bin::check_writable(coins)?;
    let texts = if setup.carries(crate::bin::file_len(coins)) {
        setup.texts(&crate::bin::encode_borrowed(coins)?)
    } else {
        None
    };
    let canvas = page::draw(coins, texts.as_deref(), label, setup);
    write_canvas(w, coins, count, &canvas)
}

/// Encodes `canvas` as a 4-bit palette PNG with the format-9 bytes of `coins` (which
/// [`check_writable`](crate::bin::check_writable) accepted with `count`) in the `cLDc` chunk at
/// offset 33, and the page's physical size (300 dpi) in a `pHYs` chunk after it.
fn write_canvas<W: Write, C: Borrow<Coin>>(
    mut w: W,
    coins: &[C],
    count: u16,
    canvas: &crate::picture::Canvas,
) -> Result<(), CodecError> {
    let mut out = CoinChunkAfterHeader { inner: &mut w, header_left: HEADER_LEN, coins, count };
    {
        let mut encoder = png::Encoder::new(&mut out, canvas.width(), canvas.height());
        // The page has eight inks: four bits a pixel with a palette, a sixth of the bytes of RGB
        // to compress (measured: the 6-coin page 94 KB instead of 216 KB, and faster to write).
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Four);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_filter(png::Filter::Adaptive);
        // No palette or optional chunk is configured, so the header is the signature and IHDR
        // only, and the coin chunk `out` writes after it lands at offset 33; the palette follows
        // it (PLTE must only come before the image data).
        let mut writer = encoder.write_header().map_err(png_error)?;
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
    if out.header_left != 0 {
        return Err(CodecError::PngEncode {
            source: crate::error::LibraryError::new(std::io::Error::other(
                "the PNG encoder wrote a header of an unexpected length",
            )),
        });
    }
    w.flush()?;
    Ok(())
}

/// The signature and IHDR chunk: the bytes before the coin chunk.
const HEADER_LEN: usize = PNG_SIGNATURE.len() + CHUNK_OVERHEAD + 13;

/// Passes the PNG encoder's output to `inner`, and writes the `cLDc` chunk of `coins` right
/// after the first [`HEADER_LEN`] bytes (the signature and IHDR), streaming the records and
/// their CRC instead of asking the encoder to copy a buffer of them.
struct CoinChunkAfterHeader<'c, W, C> {
    inner: W,
    /// Header bytes still to pass before the coin chunk; 0 once it is written.
    header_left: usize,
    coins: &'c [C],
    count: u16,
}

impl<W: Write, C: Borrow<Coin>> CoinChunkAfterHeader<'_, W, C> {
    fn write_coin_chunk(&mut self) -> std::io::Result<()> {
        let len = u32::try_from(crate::bin::file_len(self.coins))
            .expect("65,535 records of at most 807 bytes fit in a chunk");
        self.inner.write_all(&len.to_be_bytes())?;
        let mut body = CrcWriter { inner: &mut self.inner, crc: crc32fast::Hasher::new() };
        body.write_all(&COIN_CHUNK)?;
        crate::bin::write_checked(&mut body, self.coins, self.count, &mut |_| {})?;
        let crc = body.crc.finalize();
        self.inner.write_all(&crc.to_be_bytes())
    }
}

impl<W: Write, C: Borrow<Coin>> Write for CoinChunkAfterHeader<'_, W, C> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.header_left == 0 {
            return self.inner.write(buf);
        }
        let n = self.inner.write(&buf[..buf.len().min(self.header_left)])?;
        self.header_left -= n;
        if self.header_left == 0 {
            self.write_coin_chunk()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Passes bytes to `inner`, keeping the PNG CRC of them.
struct CrcWriter<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
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
