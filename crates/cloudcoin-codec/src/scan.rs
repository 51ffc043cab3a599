//! Reading the QR codes of a paper wallet from a photo or scan (PNG or JPEG).

use std::io::Cursor;

use image::{GrayImage, ImageFormat, ImageReader};

use crate::error::CodecError;
use crate::qr_text::{self, Assembly, Part};

/// Longest side, in pixels, of a picture that is read (a 600 dpi scan of a Letter page is
/// 6,600 pixels high); larger pictures are refused before they are decoded.
pub(crate) const MAX_SIDE: u32 = 12_000;
/// Most memory the image decoder may use for one picture.
const MAX_DECODE_BYTES: u64 = 512 << 20;
/// Pictures whose longer side exceeds this are also read at half size, where noise and blur of a
/// high-resolution scan shrink below what the QR detector minds.
const HALVE_ABOVE: u32 = 2_000;

/// Whether `bytes` start like a JPEG file.
pub(crate) fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// Decodes a PNG or JPEG picture, within the size limits.
pub(crate) fn decode_picture(bytes: &[u8]) -> Result<image::DynamicImage, CodecError> {
    let format = if is_jpeg(bytes) { ImageFormat::Jpeg } else { ImageFormat::Png };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => CodecError::TooLarge {
            what: "the picture's width or height in pixels",
            limit: u64::from(MAX_SIDE),
        },
        other => CodecError::Picture { reason: other.to_string() },
    })
}

/// The QR codes of a paper wallet read from one picture (a photo or scan of the printed page,
/// or the PNG itself), to be combined with those of other pictures of the same page by
/// [`decode_paper`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaperScan {
    codes: Assembly,
}

impl PaperScan {
    /// The numbers of the codes read, ascending (the first code is 1).
    pub fn codes_read(&self) -> Vec<u32> {
        self.codes.found().0
    }

    /// How many codes the page has, if any code was read.
    pub fn code_count(&self) -> Option<u32> {
        self.codes.found().1
    }

    /// Whether every code of the page was read, so the picture gives the coins on its own.
    pub fn is_complete(&self) -> bool {
        self.codes.is_complete()
    }
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
pub fn scan_picture(bytes: &[u8]) -> Result<PaperScan, CodecError> {
    let grey = decode_picture(bytes)?.into_luma8();
    Ok(PaperScan { codes: read_codes(&grey)? })
}

/// The coins of a paper wallet page, from the scans of one or more pictures of it (for example
/// its front and its back, or two photos that each show part of it). Every code of the page must
/// be among them; if one is missing the error names the codes read and the codes missing.
pub fn decode_paper<'a, I>(scans: I) -> Result<Vec<cloudcoin_domain::Coin>, CodecError>
where
    I: IntoIterator<Item = &'a PaperScan>,
{
    let mut all = Assembly::default();
    for scan in scans {
        all.merge(&scan.codes);
    }
    let payload = all.finish()?;
    crate::bin::decode_bin(&payload)
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
pub(crate) fn read_codes(grey: &GrayImage) -> Result<Assembly, CodecError> {
    let mut found = Assembly::default();
    read_moved(grey, &mut found)?;
    let longer = grey.width().max(grey.height());
    if !found.is_complete() && found.found().1.is_some() && longer <= DOUBLE_UP_TO {
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
fn read_moved(grey: &GrayImage, found: &mut Assembly) -> Result<(), CodecError> {
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
fn add_codes(grey: &GrayImage, found: &mut Assembly) -> Result<(), CodecError> {
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
        if let Some(part) = qr_text::parse(result.getText())? {
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
