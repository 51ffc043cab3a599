//! Reading the QR codes of a paper wallet from a photo or scan (PNG or JPEG).

use std::io::Cursor;

use image::GrayImage;

use crate::error::CodecError;
use crate::framing::{PageKey, Pages};
use crate::qr_text::Part;

/// Longest side, in pixels, of a picture that is read (a 600 dpi scan of a Letter page is
/// 6,600 pixels high); larger pictures are refused before they are decoded.
pub(crate) const MAX_SIDE: u32 = 12_000;
/// Most pixels of a picture that is read: 40 million (a 600 dpi scan of an A4 or Letter page
/// has 35 million, a 12-megapixel photo 12). Larger pictures are refused from their header,
/// before a pixel is decoded: a PNG of one colour compresses a thousandfold, so a file of a few
/// hundred kilobytes can ask for gigabytes.
pub(crate) const MAX_PIXELS: u64 = 40_000_000;
/// Most memory the image decoder may use for one picture.
const MAX_DECODE_BYTES: u64 = 512 << 20;
/// Pictures whose longer side exceeds this are also read at half size, where noise and blur of a
/// high-resolution scan shrink below what the QR detector minds.
const HALVE_ABOVE: u32 = 2_000;

/// Whether `bytes` start like a JPEG file.
pub(crate) fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// The QR codes of paper wallet pages read from one picture (a photo or scan of printed pages,
/// or the PNG itself), grouped by the page each code names, to be combined with those of other
/// pictures by [`decode_paper`] or [`read_pages`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaperScan {
    codes: Pages,
}

impl PaperScan {
    /// The numbers of the codes read of the first page seen, ascending (the first code is 1).
    pub fn codes_read(&self) -> Vec<u32> {
        self.first().map(|a| a.found().0).unwrap_or_default()
    }

    /// How many codes the first page seen has, if any code was read.
    pub fn code_count(&self) -> Option<u32> {
        self.first().and_then(|a| a.found().1)
    }

    /// The page codes of the pages whose codes were read (pages printed in the older framing,
    /// whose codes name no page, are not listed).
    pub fn page_codes(&self) -> Vec<String> {
        self.codes
            .keys()
            .filter_map(|k| match k {
                PageKey::Bound(id) => Some(id.to_string()),
                PageKey::Unbound => None,
            })
            .collect()
    }

    /// Whether every code of every page seen was read, so the picture gives its coins on its own.
    pub fn is_complete(&self) -> bool {
        self.codes.is_complete()
    }

    fn first(&self) -> Option<&crate::qr_text::Assembly> {
        self.codes.keys().next().and_then(|k| self.codes.page(k))
    }
}

/// The coins of one page of a paper wallet, read from the codes of one or more pictures: what
/// [`read_pages`] gives for each page it saw.
#[derive(Debug)]
#[non_exhaustive]
pub struct PaperPage {
    page: Option<String>,
    scans: Vec<usize>,
    coins: Result<Vec<cloudcoin_domain::Coin>, CodecError>,
}

impl PaperPage {
    /// The page code (twelve hexadecimal digits printed on the page), or `None` for a page
    /// printed in the older framing, whose codes name no page.
    pub fn page_code(&self) -> Option<&str> {
        self.page.as_deref()
    }

    /// The positions, among the scans given, of those that show a code of this page.
    pub fn scans(&self) -> &[usize] {
        &self.scans
    }

    /// The page's coins, or why its codes do not give them (a code missing, names what is
    /// missing; nothing of the page is given then).
    pub fn coins(&self) -> Result<&[cloudcoin_domain::Coin], &CodecError> {
        self.coins.as_deref()
    }

    /// The page's coins, or why its codes do not give them.
    pub fn into_coins(self) -> Result<Vec<cloudcoin_domain::Coin>, CodecError> {
        self.coins
    }
}

/// Reads every page whose codes are in `scans`, each on its own: the codes are grouped by the
/// page they name, so pictures of several pages may be given together in any order, and a page
/// with a code missing gives nothing while the others give their coins.
///
/// ```
/// use cloudcoin_codec::{read_pages, PaperScan};
///
/// // No scan, no page.
/// assert!(read_pages(std::iter::empty::<&PaperScan>()).is_empty());
/// ```
pub fn read_pages<'a, I>(scans: I) -> Vec<PaperPage>
where
    I: IntoIterator<Item = &'a PaperScan>,
{
    let scans: Vec<&PaperScan> = scans.into_iter().collect();
    let mut all = Pages::default();
    for scan in &scans {
        all.merge(&scan.codes);
    }
    all.keys()
        .map(|key| PaperPage {
            page: match key {
                PageKey::Bound(id) => Some(id.to_string()),
                PageKey::Unbound => None,
            },
            scans: (0..scans.len()).filter(|&i| scans[i].codes.page(key).is_some()).collect(),
            coins: all
                .finish(key)
                .map_err(CodecError::from)
                .and_then(|payload| crate::bin::decode_bin(&payload)),
        })
        .collect()
}

/// Reads the QR codes of a paper wallet page from a PNG or JPEG picture: a photo or scan of the
/// printed page. Codes that are not CloudCoin codes are ignored. Blocking and CPU-heavy (about
/// a second for a page scanned at 300 dpi): run it off any async runtime's worker threads.
///
/// ```
/// use cloudcoin_codec::{decode_paper, scan_picture};
///
/// // A picture without QR codes gives an empty scan, which decodes to no coins.
/// let mut png = Vec::new();
/// image::RgbImage::new(64, 64).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
/// let scan = scan_picture(&png).unwrap();
/// assert_eq!(scan.code_count(), None);
/// assert!(decode_paper([&scan]).is_err());
/// ```
///
/// A picture of more than 40 million pixels is refused from its header
/// ([`CodecError::PictureTooLarge`]), and the pictures being read at one time in the process
/// have at most that many pixels between them (a later one waits for its turn), so the memory
/// this takes stays bounded however many callers read pictures at once.
pub fn scan_picture(bytes: &[u8]) -> Result<PaperScan, CodecError> {
    let (grey, _turn) = decode_grey(bytes)?;
    scan_grey(&grey)
}

/// The codes of a picture already decoded to grey.
pub(crate) fn scan_grey(grey: &GrayImage) -> Result<PaperScan, CodecError> {
    Ok(PaperScan { codes: read_codes(grey)? })
}

/// The pixels of the pictures being decoded and read in this process, and the condition
/// variable a picture waiting for its turn sleeps on.
static PIXELS_IN_USE: (std::sync::Mutex<u64>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// A picture's share of [`MAX_PIXELS`], given back when dropped.
#[derive(Debug)]
pub(crate) struct Turn(u64);

impl Turn {
    /// Waits until `pixels` more (at most [`MAX_PIXELS`]) fit in [`MAX_PIXELS`] with those of
    /// the pictures being read, and takes them. Decoding one picture at a time would bound the
    /// memory as well, but would make small pictures wait behind a large one for nothing.
    pub(crate) fn take(pixels: u64) -> Turn {
        let pixels = pixels.min(MAX_PIXELS);
        let (in_use, freed) = &PIXELS_IN_USE;
        let mut used = in_use.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while *used + pixels > MAX_PIXELS {
            used = freed.wait(used).unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *used += pixels;
        Turn(pixels)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let (in_use, freed) = &PIXELS_IN_USE;
        let mut used = in_use.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *used -= self.0;
        freed.notify_all();
    }
}

/// Refuses a picture of `width` × `height` with more than [`MAX_PIXELS`] pixels or a side
/// longer than [`MAX_SIDE`]; returns its pixel count.
pub(crate) fn pixel_budget(width: u32, height: u32) -> Result<u64, CodecError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS || width.max(height) > MAX_SIDE {
        return Err(CodecError::PictureTooLarge {
            width,
            height,
            max_pixels: MAX_PIXELS,
            max_side: MAX_SIDE,
        });
    }
    Ok(pixels)
}

/// Decodes a PNG or JPEG picture straight to grey (one byte a pixel, the luma the image crate's
/// `into_luma8` gives), within [`MAX_PIXELS`]: the size is read from the header first, then
/// the picture waits for its [`Turn`], which the caller holds while it reads the pixels.
///
/// A PNG is decoded row by row (every colour type, bit depth and interlacing, through the png
/// crate's own expansion), each row turned grey as it comes, so no colour copy of the picture
/// is ever made. A JPEG is decoded by the image crate into one buffer, turned grey in place and
/// shrunk to a third: three bytes a pixel for a moment, one after.
pub(crate) fn decode_grey(bytes: &[u8]) -> Result<(GrayImage, Turn), CodecError> {
    let decoded = if is_jpeg(bytes) { decode_jpeg_grey(bytes) } else { decode_png_grey(bytes) };
    decoded.map(|(w, h, pixels, turn)| {
        let grey = GrayImage::from_raw(w, h, pixels).expect("one byte for each pixel");
        (grey, turn)
    })
}

fn picture_error(e: impl std::fmt::Display) -> CodecError {
    CodecError::Picture { reason: e.to_string() }
}

/// Turns `row`, `samples` pixels of `channels` bytes (grey, grey and alpha, RGB, RGBA), grey
/// into `out`, by the image crate's own conversion (`into_luma8`), one row at a time.
fn grey_row(row: &[u8], channels: usize, out: &mut [u8]) -> Result<(), CodecError> {
    let samples = u32::try_from(out.len()).map_err(picture_error)?;
    let pixels = row.to_vec();
    let bad = || picture_error("a row of the wrong length");
    let picture = match channels {
        1 => {
            out.copy_from_slice(row);
            return Ok(());
        }
        2 => image::DynamicImage::ImageLumaA8(
            image::GrayAlphaImage::from_raw(samples, 1, pixels).ok_or_else(bad)?,
        ),
        3 => image::DynamicImage::ImageRgb8(
            image::RgbImage::from_raw(samples, 1, pixels).ok_or_else(bad)?,
        ),
        _ => image::DynamicImage::ImageRgba8(
            image::RgbaImage::from_raw(samples, 1, pixels).ok_or_else(bad)?,
        ),
    };
    out.copy_from_slice(picture.into_luma8().as_raw());
    Ok(())
}

type Grey = (u32, u32, Vec<u8>, Turn);

fn decode_png_grey(bytes: &[u8]) -> Result<Grey, CodecError> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(picture_error)?;
    let (width, height) = (reader.info().width, reader.info().height);
    let pixels = pixel_budget(width, height)?;
    let channels = reader.output_color_type().0.samples();
    let turn = Turn::take(pixels);
    let len = usize::try_from(pixels).expect("40 million pixels fit in memory");
    let mut grey = vec![0u8; len];
    let stride = width as usize;
    let mut line = vec![0u8; stride];
    let mut y = 0usize;
    while let Some(row) = reader.next_interlaced_row().map_err(picture_error)? {
        let samples = row.data().len() / channels;
        grey_row(row.data(), channels, &mut line[..samples])?;
        match row.interlace() {
            png::InterlaceInfo::Adam7(info) => {
                png::expand_interlaced_row(&mut grey, stride, &line[..samples], info, 8);
            }
            png::InterlaceInfo::Null(_) => {
                let start = y * stride;
                if let Some(out) = grey.get_mut(start..start + stride) {
                    out.copy_from_slice(&line);
                }
                y += 1;
            }
        }
    }
    Ok((width, height, grey, turn))
}

fn decode_jpeg_grey(bytes: &[u8]) -> Result<Grey, CodecError> {
    use image::ImageDecoder;
    let mut decoder =
        image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes)).map_err(picture_error)?;
    let (width, height) = decoder.dimensions();
    let pixels = pixel_budget(width, height)?;
    let channels = match decoder.color_type() {
        image::ColorType::L8 => 1,
        image::ColorType::Rgb8 => 3,
        other => return Err(picture_error(format!("unsupported jpeg colour type {other:?}"))),
    };
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    decoder.set_limits(limits).map_err(picture_error)?;
    let turn = Turn::take(pixels);
    let len = usize::try_from(decoder.total_bytes()).map_err(picture_error)?;
    let mut buffer = vec![0u8; len];
    decoder.read_image(&mut buffer).map_err(picture_error)?;
    if channels == 3 {
        // In place, a row at a time: row y's grey lands before its colour bytes, so no colour
        // byte is overwritten before it is read.
        let stride = width as usize;
        let mut line = vec![0u8; stride];
        for y in 0..height as usize {
            grey_row(&buffer[3 * stride * y..3 * stride * (y + 1)], 3, &mut line)?;
            buffer[stride * y..stride * (y + 1)].copy_from_slice(&line);
        }
        buffer.truncate(len / 3);
        buffer.shrink_to_fit();
    }
    Ok((width, height, buffer, turn))
}

/// The coins of paper wallet pages, from the scans of one or more pictures of them (for example
/// a page's front and back, two photos that each show part of it, or photos of several pages in
/// any order). Every code of every page seen must be among them; if one is missing the error
/// names the page, the codes read and the codes missing, and no coin is given. Use
/// [`read_pages`] to take the whole pages and leave the others.
pub fn decode_paper<'a, I>(scans: I) -> Result<Vec<cloudcoin_domain::Coin>, CodecError>
where
    I: IntoIterator<Item = &'a PaperScan>,
{
    let pages = read_pages(scans);
    if pages.is_empty() {
        return Err(crate::paper_error::PaperError::NoCodes.into());
    }
    if pages.len() == 1 {
        return pages.into_iter().next().expect("one page").into_coins();
    }
    let names: Vec<String> = pages
        .iter()
        .map(|p| p.page_code().map_or_else(|| "one without a page code".to_owned(), str::to_owned))
        .collect();
    let mut coins = Vec::new();
    let mut problems = Vec::new();
    for page in pages {
        match page.into_coins() {
            Ok(c) => coins.extend(c),
            Err(CodecError::Paper(e)) => problems.push(e),
            Err(other) => return Err(other),
        }
    }
    if problems.is_empty() {
        Ok(coins)
    } else {
        Err(crate::paper_error::PaperError::SomePagesIncomplete { pages: names, problems }.into())
    }
}

/// Where a picture is read again, moved by these pixels, while codes are missing. The binarizer
/// thresholds a picture in blocks of 8 × 8 pixels; in a scan whose modules are about 2 pixels
/// wide, a code that falls badly on that grid can fail where the same code moved by a few pixels
/// reads (measured: of 50 random scans of a 20-coin page, 5 lost one code at the first reading
/// and every one was read once moved).
const OFFSETS: [(u32, u32); 5] = [(0, 0), (4, 4), (4, 0), (0, 4), (2, 6)];
/// Pictures whose longer side is at most this are, as a last resort, also read at twice their
/// size, where the binarizer's blocks are half as large in modules (when some code of the page
/// was read: a picture of something else is not worth the second or two this takes).
const DOUBLE_UP_TO: u32 = 2_000;

/// Reads every CloudCoin code in `grey`: at full size, moved by the [`OFFSETS`] while codes are
/// missing, then, while still missing, at twice the size (small pictures) or at half the size
/// (large ones).
pub(crate) fn read_codes(grey: &GrayImage) -> Result<Pages, CodecError> {
    let mut found = Pages::default();
    read_moved(grey, &mut found)?;
    let longer = grey.width().max(grey.height());
    if !found.is_complete() && found.keys().next().is_some() && longer <= DOUBLE_UP_TO {
        let double = image::imageops::resize(
            grey,
            grey.width() * 2,
            grey.height() * 2,
            image::imageops::FilterType::Triangle,
        );
        add_codes(&double, &mut found)?;
    }
    if !found.is_complete() && longer > HALVE_ABOVE {
        read_moved(&halve(grey), &mut found)?;
    }
    Ok(found)
}

/// Reads `grey` at each of the [`OFFSETS`] until every code of its page is found.
fn read_moved(grey: &GrayImage, found: &mut Pages) -> Result<(), CodecError> {
    for (dx, dy) in OFFSETS {
        if found.is_complete() || dx >= grey.width() || dy >= grey.height() {
            break;
        }
        if (dx, dy) == (0, 0) {
            add_codes(grey, found)?;
        } else {
            let (w, h) = (grey.width() - dx, grey.height() - dy);
            add_codes(&image::imageops::crop_imm(grey, dx, dy, w, h).to_image(), found)?;
        }
    }
    Ok(())
}

/// Adds the CloudCoin codes that the detector finds in `grey` to `found`.
fn add_codes(grey: &GrayImage, found: &mut Pages) -> Result<(), CodecError> {
    for (part, _) in codes_in(grey)? {
        found.add(part);
    }
    Ok(())
}

/// The corners of a code in a picture, in pixels.
pub(crate) type Corners = [(u32, u32); 4];

/// Every CloudCoin code the detector finds in `grey`, with its corners in pixels.
fn codes_in(grey: &GrayImage) -> Result<Vec<(Part, Corners)>, CodecError> {
    use rxing::multi::MultipleBarcodeReader;
    let Ok(source) = rxing::Luma8Source::new_with_slice(grey.as_raw(), grey.width(), grey.height())
    else {
        return Ok(Vec::new());
    };
    let mut bitmap = rxing::BinaryBitmap::new(rxing::common::HybridBinarizer::new(source));
    let hints = rxing::DecodeHints::default().with(rxing::DecodeHintValue::TryHarder(true)).with(
        rxing::DecodeHintValue::PossibleFormats(
            [rxing::BarcodeFormat::QR_CODE].into_iter().collect(),
        ),
    );
    // No code found is an empty list, not an error: the assembly then names what is missing.
    let results = rxing::qrcode::cpp_port::QrReader
        .decode_multiple_with_hints(&mut bitmap, &hints)
        .unwrap_or_default();
    let mut out = Vec::new();
    for result in results {
        if let Some(part) = crate::framing::parse_code(result.getText())? {
            let corner = |i: usize| {
                let p = result.getPoints().get(i).copied().unwrap_or_default();
                (p.x.max(0.0) as u32, p.y.max(0.0) as u32)
            };
            out.push((part, [corner(0), corner(1), corner(2), corner(3)]));
        }
    }
    Ok(out)
}

/// `grey` at half its width and height, each pixel the mean of a 2×2 block.
fn halve(grey: &GrayImage) -> GrayImage {
    let (w, h) = (grey.width() / 2, grey.height() / 2);
    GrayImage::from_fn(w, h, |x, y| {
        let sum: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
            .iter()
            .map(|&(dx, dy)| u32::from(grey.get_pixel(2 * x + dx, 2 * y + dy).0[0]))
            .sum();
        image::Luma([u8::try_from(sum / 4).expect("a mean of bytes is a byte")])
    })
}

// The tests write PNGs of every kind with the png crate.
#[cfg(all(test, feature = "png"))]
mod grey_tests {
    use super::*;

    /// A PNG of `width` × `height` with colour type `color` and bit depth `depth`, its bytes
    /// varied from pixel to pixel.
    fn png_of(color: png::ColorType, depth: png::BitDepth, width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(depth);
        if color == png::ColorType::Indexed {
            encoder.set_palette(
                (0..=255u8).flat_map(|i| [i, i.wrapping_mul(7), 255 - i]).collect::<Vec<_>>(),
            );
        }
        let mut writer = encoder.write_header().expect("header");
        let bits = color.samples() * depth as usize;
        let row_bytes = (width as usize * bits).div_ceil(8);
        let data: Vec<u8> = (0..row_bytes * height as usize)
            .map(|i| u8::try_from((i * 37 + i / 5) % 251).expect("byte"))
            .collect();
        writer.write_image_data(&data).expect("pixels");
        writer.finish().expect("finish");
        out
    }

    #[test]
    fn the_grey_decode_is_the_image_crates_luma_for_every_png_kind() {
        use png::{BitDepth as D, ColorType as C};
        let kinds = [
            (C::Grayscale, D::One),
            (C::Grayscale, D::Four),
            (C::Grayscale, D::Eight),
            (C::Grayscale, D::Sixteen),
            (C::GrayscaleAlpha, D::Eight),
            (C::Rgb, D::Eight),
            (C::Rgba, D::Eight),
            (C::Indexed, D::Four),
            (C::Indexed, D::Eight),
        ];
        for (color, depth) in kinds {
            let png = png_of(color, depth, 37, 23);
            let (grey, _turn) = decode_grey(&png).expect("decodes");
            let expected = image::load_from_memory(&png).expect("image decodes").into_luma8();
            if depth == D::Sixteen {
                // Sixteen bits are cut to their high byte; the image crate rounds.
                let close =
                    grey.pixels().zip(expected.pixels()).all(|(a, b)| a.0[0].abs_diff(b.0[0]) <= 1);
                assert!(close, "{color:?} {depth:?}");
            } else {
                assert_eq!(grey, expected, "{color:?} {depth:?}");
            }
        }
    }

    #[test]
    fn a_jpeg_decodes_to_the_image_crates_luma() {
        let rgb = image::RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([u8::try_from(x * 4).expect("byte"), u8::try_from(y * 5).expect("byte"), 90])
        });
        let mut jpeg = Vec::new();
        rgb.write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).expect("jpeg");
        let (grey, _turn) = decode_grey(&jpeg).expect("decodes");
        let expected = image::load_from_memory(&jpeg).expect("image decodes").into_luma8();
        assert_eq!(grey, expected);
    }

    #[test]
    fn a_picture_waits_while_the_pictures_being_read_fill_the_budget() {
        let (taken, released) =
            (std::sync::mpsc::channel(), std::sync::atomic::AtomicBool::new(false));
        std::thread::scope(|scope| {
            let all = Turn::take(MAX_PIXELS);
            let (about_to_take, waiting) = std::sync::mpsc::channel();
            let released = &released;
            let taken = taken.0.clone();
            scope.spawn(move || {
                about_to_take.send(()).expect("send");
                let _one = Turn::take(1);
                taken.send(released.load(std::sync::atomic::Ordering::SeqCst)).expect("send");
            });
            waiting.recv().expect("the other picture is about to take its turn");
            released.store(true, std::sync::atomic::Ordering::SeqCst);
            drop(all);
        });
        assert!(
            taken.1.recv().expect("taken"),
            "the second picture went before the first was done"
        );
        assert_eq!(*PIXELS_IN_USE.0.lock().expect("lock"), 0, "every turn was given back");
    }
}
