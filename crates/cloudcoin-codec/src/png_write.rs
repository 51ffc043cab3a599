//! Writing the PNG "paper wallet" (`docs/SPEC.md` §4.3): the page drawn with its QR codes,
//! encoded by the png crate, with the `cLDc` chunk of the coins streamed in after IHDR.

use std::borrow::Borrow;
use std::io::Write;

use cloudcoin_domain::Coin;

use crate::error::CodecError;
use crate::page;
use crate::picture::PngLabel;
use crate::png_file::{CHUNK_OVERHEAD, COIN_CHUNK, PNG_SIGNATURE};

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
        // The page has ten inks and their anti-aliased blends (fewer than 256 colours): one byte
        // a pixel with a palette, a third of the bytes of RGB to compress.
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Eight);
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
        for y in 0..canvas.height() {
            stream.write_all(canvas.row(y))?;
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
