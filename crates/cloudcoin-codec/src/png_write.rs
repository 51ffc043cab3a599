//! Writing the PNG "paper wallet" (`docs/SPEC.md` §4.3): the page drawn with its QR codes,
//! its rows filtered and compressed with `fdeflate`, and the `cLDc` chunk of the coins
//! streamed in after IHDR.

use std::borrow::Borrow;
use std::io::Write;

use cloudcoin_domain::Coin;

use crate::error::CodecError;
use crate::page;
use crate::picture::PngLabel;
use crate::png_file::{COIN_CHUNK, PNG_SIGNATURE};

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

/// Writes `canvas` as a PNG of 8-bit palette indices with the format-9 bytes of `coins` (which
/// [`check_writable`](crate::bin::check_writable) accepted with `count`) in the `cLDc` chunk at
/// offset 33, directly after IHDR, and the page's physical size (300 dpi) in a `pHYs` chunk.
///
/// The chunks are written here rather than by the png crate's encoder: the coin chunk must come
/// right after IHDR, and the rows are filtered one by one as suits a palette page and its
/// compressor ([`RowEncoder`]), which that encoder does not offer.
fn write_canvas<W: Write, C: Borrow<Coin>>(
    mut w: W,
    coins: &[C],
    count: u16,
    canvas: &crate::picture::Canvas,
) -> Result<(), CodecError> {
    w.write_all(PNG_SIGNATURE)?;
    let mut header = [0u8; 13];
    header[..4].copy_from_slice(&canvas.width().to_be_bytes());
    header[4..8].copy_from_slice(&canvas.height().to_be_bytes());
    header[8] = 8; // bits per index
    header[9] = 3; // colour type: palette indices
    // Then compression method 0 (deflate), filter method 0, no interlace.
    write_chunk(&mut w, *b"IHDR", &header)?;
    write_coin_chunk(&mut w, coins, count)?;
    write_chunk(&mut w, *b"PLTE", &crate::picture::Ink::palette())?;
    let ppm = page::PIXELS_PER_METRE.to_be_bytes();
    let mut phys = [0u8; 9];
    phys[..4].copy_from_slice(&ppm);
    phys[4..8].copy_from_slice(&ppm);
    phys[8] = 1; // unit: the metre
    write_chunk(&mut w, *b"pHYs", &phys)?;
    let mut rows = RowEncoder::new(canvas.width())?;
    for y in 0..canvas.height() {
        rows.push(canvas.row(y))?;
    }
    write_chunk(&mut w, *b"IDAT", &rows.finish()?)?;
    write_chunk(&mut w, *b"IEND", &[])?;
    w.flush()?;
    Ok(())
}

/// Writes one PNG chunk: its length, type, data and CRC.
fn write_chunk<W: Write>(w: &mut W, kind: [u8; 4], data: &[u8]) -> Result<(), CodecError> {
    let len = u32::try_from(data.len()).map_err(|_| CodecError::PngEncode {
        source: crate::error::LibraryError::new(std::io::Error::other(
            "a png chunk larger than 4 GiB",
        )),
    })?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&kind);
    crc.update(data);
    w.write_all(&len.to_be_bytes())?;
    w.write_all(&kind)?;
    w.write_all(data)?;
    w.write_all(&crc.finalize().to_be_bytes())?;
    Ok(())
}

/// Writes the `cLDc` chunk of `coins`, streaming the records and their CRC rather than
/// building a buffer of them.
fn write_coin_chunk<W: Write, C: Borrow<Coin>>(
    w: &mut W,
    coins: &[C],
    count: u16,
) -> std::io::Result<()> {
    let len = u32::try_from(crate::bin::file_len(coins))
        .expect("65,535 records of at most 807 bytes fit in a chunk");
    w.write_all(&len.to_be_bytes())?;
    let mut body = CrcWriter { inner: &mut *w, crc: crc32fast::Hasher::new() };
    body.write_all(&COIN_CHUNK)?;
    crate::bin::write_checked(&mut body, coins, count, &mut |_| {})?;
    let crc = body.crc.finalize();
    w.write_all(&crc.to_be_bytes())
}

/// The PNG filter types used (for one byte a pixel).
const NONE: u8 = 0;
const SUB: u8 = 1;
const UP: u8 = 2;

/// Filters and compresses the rows of a palette picture into the zlib stream of its IDAT
/// chunk.
///
/// The compressor is `fdeflate` (the one the png crate uses for its fast setting): it codes
/// runs of zero bytes and single bytes, with no matches further back. So each row is filtered
/// the way that leaves it the fewest non-zero bytes, of none (a row mostly of paper, index 0),
/// sub (runs of one ink, as in a tinted box) and up (a row much like the one above). Counting
/// is cheap: the png crate's adaptive filter works out and scores five filters on every row,
/// several times the work on a page of eight million pixels.
struct RowEncoder {
    previous: Vec<u8>,
    line: Vec<u8>,
    deflate: fdeflate::Compressor<Vec<u8>>,
}

impl RowEncoder {
    fn new(width: u32) -> std::io::Result<RowEncoder> {
        let width = width as usize;
        Ok(RowEncoder {
            previous: vec![0; width],
            line: vec![0; width + 1],
            deflate: fdeflate::Compressor::new(Vec::new())?,
        })
    }

    /// Filters and compresses the next row (as wide as the picture).
    fn push(&mut self, row: &[u8]) -> std::io::Result<()> {
        debug_assert_eq!(row.len(), self.previous.len());
        let (kind, out) = self.line.split_first_mut().expect("a line holds its filter type");
        let (none, sub, up) = nonzero_after_filters(row, &self.previous);
        if sub < up.min(none) {
            *kind = SUB;
            out[..1].copy_from_slice(&row[..1]);
            for ((o, &a), &b) in out[1..].iter_mut().zip(&row[1..]).zip(row) {
                *o = a.wrapping_sub(b);
            }
        } else if none <= up {
            *kind = NONE;
            out.copy_from_slice(row);
        } else {
            *kind = UP;
            for ((o, &a), &b) in out.iter_mut().zip(row).zip(&self.previous) {
                *o = a.wrapping_sub(b);
            }
        }
        self.previous.copy_from_slice(row);
        self.deflate.write_data(&self.line)
    }

    /// The zlib stream of the rows pushed.
    fn finish(self) -> std::io::Result<Vec<u8>> {
        self.deflate.finish()
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

/// How many bytes of `row` would not be zero filtered as none, sub and up (`previous` is the
/// row above). Counted in blocks whose counts fit a byte, which the compiler vectorises.
fn nonzero_after_filters(row: &[u8], previous: &[u8]) -> (usize, usize, usize) {
    const BLOCK: usize = 128;
    let Some(&first) = row.first() else {
        return (0, 0, 0);
    };
    let first_up = first != previous.first().copied().unwrap_or(0);
    let (mut none, mut sub, mut up) =
        (usize::from(first != 0), usize::from(first != 0), usize::from(first_up));
    let (here, left, above) = (&row[1..], &row[..row.len() - 1], &previous[1..row.len()]);
    for ((h, l), a) in here.chunks(BLOCK).zip(left.chunks(BLOCK)).zip(above.chunks(BLOCK)) {
        let (mut n, mut s, mut u) = (0u8, 0u8, 0u8);
        for ((&h, &l), &a) in h.iter().zip(l).zip(a) {
            n += u8::from(h != 0);
            s += u8::from(h != l);
            u += u8::from(h != a);
        }
        none += usize::from(n);
        sub += usize::from(s);
        up += usize::from(u);
    }
    (none, sub, up)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::picture::{Canvas, Ink};
    use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber};

    #[test]
    fn the_rows_decode_as_drawn_whichever_filter_each_took() {
        // Rows of paper (none), a tinted box (sub), rows like the one above (up), blends.
        let mut canvas = Canvas::new(300, 120);
        canvas.fill(20, 10, 250, 60, Ink::Tint);
        canvas.frame(0, 0, 300, 120, 2, Ink::Gold);
        for i in 0..3000u32 {
            canvas.cover(i * 7 % 300, 70 + i % 50, (i * 37 % 256) as u8, Ink::Blue);
        }
        let coin = Coin::new(
            Denomination::from_code(0),
            SerialNumber::new(7),
            [[5; 16]; RAIDA_COUNT],
            [Pown::Pass; RAIDA_COUNT],
        );
        let coins = [coin];
        let count = crate::bin::check_writable(&coins).expect("one coin");
        let mut file = Vec::new();
        write_canvas(&mut file, &coins, count, &canvas).expect("written");

        assert_eq!(&file[37..41], b"cLDc");
        assert_eq!(crate::png_file::decode_png(&file).expect("coins"), coins);
        let decoder = png::Decoder::new(std::io::Cursor::new(&file));
        let mut reader = decoder.read_info().expect("a png");
        assert_eq!(reader.info().palette.as_deref(), Some(Ink::palette().as_slice()));
        let mut pixels = vec![0; reader.output_buffer_size().expect("small")];
        let frame = reader.next_frame(&mut pixels).expect("the picture");
        assert_eq!((frame.width, frame.height), (300, 120));
        assert_eq!(frame.color_type, png::ColorType::Indexed);
        for y in 0..120 {
            let row = &pixels[y as usize * frame.line_size..][..300];
            assert_eq!(row, canvas.row(y), "row {y}");
        }
    }

    #[test]
    fn each_row_takes_the_filter_that_leaves_fewest_bytes_to_code() {
        let above = [0, 0, 7, 7, 7, 7, 0, 0];
        // Like the row above but for one pixel: up leaves one byte.
        assert_eq!(nonzero_after_filters(&[0, 0, 7, 7, 9, 7, 0, 0], &above), (4, 4, 1));
        // One long run of an ink: sub leaves its two ends.
        let run = [3u8; 200];
        assert_eq!(nonzero_after_filters(&run, &[0; 200]), (200, 1, 200));
        // Mostly paper, unlike the row above: none.
        let mut sparse = [0u8; 300];
        sparse[150] = 9;
        assert_eq!(nonzero_after_filters(&sparse, &[1; 300]), (1, 2, 300));
    }
}
